/* Unit tests for check (the verdicts on crafted replies: a correct reflector,
 * the Python twampy layout, swapped Timestamp fields, t3 before t2, Error
 * Estimate Multiplier 0, an S bit with a clock decades off, a wrong Sender
 * TTL, MBZ, source and SSID, lengths and sequence numbers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire.h"

#define T1 ((tw_time_t)1700000000 * TW_NS_PER_SEC)
#define US TW_NS_PER_US

static tw_check_table_t tab;
static uint8_t rep[2048];

static const tw_check_row_t *row(const char *name)
{
    for (int i = 0; i < tab.n; i++)
        if (!strcmp(tab.rows[i].name, name))
            return &tab.rows[i];
    fail_msg("no row '%s'", name);
    return NULL;
}

static void expect(const char *name, tw_check_result_t r, const char *seen)
{
    const tw_check_row_t *w = row(name);
    if (w->result != r)
        fail_msg("row '%s' is %s (%s), expected %s", name, tw_check_result_str(w->result), w->seen,
                 tw_check_result_str(r));
    if (seen && !strstr(w->seen, seen))
        fail_msg("row '%s' says '%s', not '%s'", name, w->seen, seen);
}

/* A request sent at T1 and a correct TWAMP light reply of len octets: t2 10 us
 * after t1, t3 5 us later, back at t1 + 30 us; TTL 64 both ways. */
static tw_check_xchg_t exch(int kind, size_t req_len, size_t len)
{
    tw_check_table_init(&tab, "reflector", "127.0.0.1:20001", 2 * TW_NS_PER_SEC);
    tw_check_xchg_t x;
    memset(&x, 0, sizeof x);
    x.kind = kind;
    x.req_len = req_len;
    x.seq = 7;
    x.t1 = T1;
    x.ts = tw_time_to_ntp(T1);
    x.errest = 0x0001;
    x.ssid = kind == TW_CHECK_KIND_TWAMP ? 0 : 0x1234;
    x.ttl = 64;
    x.t4 = T1 + 30 * US;
    x.synced = true;
    x.replied = true;
    x.rep = rep;
    x.rep_len = len;
    x.from_target = true;
    snprintf(x.from, sizeof x.from, "127.0.0.1:20001");
    memset(rep, 0, sizeof rep);
    tw_reflector_pkt_t r = {
        .seq = 3,
        .timestamp = tw_time_to_ntp(T1 + 15 * US),
        .errest = 0x0001,
        .ssid = x.ssid,
        .rx_time = tw_time_to_ntp(T1 + 10 * US),
        .sender_seq = 7,
        .sender_time = x.ts,
        .sender_errest = 0x0001,
        .sender_ttl = 64,
    };
    if (kind == TW_CHECK_KIND_STAMP_AUTH) {
        tw_reflector_encode_auth(&r, true, rep, sizeof rep);
        x.hmac_ok = true;
    } else {
        tw_reflector_encode(&r, kind == TW_CHECK_KIND_STAMP, rep, sizeof rep);
    }
    return x;
}

static void test_correct_reply(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_check_judge_basic(&tab, &x);
    assert_int_equal(tab.n, 7);
    assert_int_equal(tw_check_count(&tab, TW_CHECK_PASS), 7);
    expect("t2/t3", TW_CHECK_PASS, "t1 <= t2 <= t3 <= t4; residence 5.0us of 30us");
    expect("Sender TTL", TW_CHECK_PASS, "64 (0 hops");
    assert_string_equal(row("reply")->clause, "RFC 5357 §4.2.1");
    assert_string_equal(row("Error Estimate")->clause, "RFC 4656 §4.1.2");
}

static void test_stamp_and_auth(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_STAMP, 44, 44);
    tw_check_judge_basic(&tab, &x);
    assert_int_equal(tw_check_count(&tab, TW_CHECK_FAIL) + tw_check_count(&tab, TW_CHECK_WARN), 0);
    expect("SSID", TW_CHECK_PASS, "0x1234");
    assert_string_equal(row("reply")->clause, "RFC 8762 §4.3.1");
    x = exch(TW_CHECK_KIND_STAMP, 44, 44);
    tw_put16(rep + 14, 0);
    tw_check_judge_basic(&tab, &x);
    expect("SSID", TW_CHECK_FAIL, "0x0000 (sent 0x1234)");

    x = exch(TW_CHECK_KIND_STAMP_AUTH, 112, 112);
    tw_check_judge_basic(&tab, &x);
    assert_int_equal(tw_check_count(&tab, TW_CHECK_FAIL) + tw_check_count(&tab, TW_CHECK_WARN), 0);
    expect("reply HMAC", TW_CHECK_PASS, "verified");
    x = exch(TW_CHECK_KIND_STAMP_AUTH, 112, 112);
    x.hmac_ok = false;
    tw_check_judge_basic(&tab, &x);
    expect("reply HMAC", TW_CHECK_FAIL, NULL);
}

/* The Python twampy responder: 38 octets, one time as t3 and t2, the request's
 * first 14 octets at 24. */
static void test_python_layout(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 38);
    memset(rep, 0, sizeof rep);
    tw_put32(rep, 0);
    tw_put64(rep + 4, tw_time_to_ntp(T1 + 12 * US));
    tw_put16(rep + 12, 0x0001);
    tw_put64(rep + 16, tw_time_to_ntp(T1 + 12 * US));
    tw_put32(rep + 24, 7);
    tw_put64(rep + 28, x.ts);
    tw_put16(rep + 36, 0x0001);
    tw_check_judge_basic(&tab, &x);
    expect("reply", TW_CHECK_FAIL, "38 octets: shorter than the 41-octet");
    expect("echoed fields", TW_CHECK_PASS, NULL);
    expect("Sender TTL", TW_CHECK_FAIL, "missing");
    expect("t2/t3", TW_CHECK_WARN, "t2 = t3");
}

/* A C++ TWAMP-light reflector: our t1 at 4, its t3 at 28. */
static void test_swapped_layout(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put64(rep + 28, tw_get64(rep + 4));
    tw_put64(rep + 4, x.ts);
    tw_put16(rep + 12, 0x8001);
    tw_check_judge_basic(&tab, &x);
    expect("echoed fields", TW_CHECK_FAIL, "Timestamp and Sender Timestamp swapped");
    expect("t2/t3", TW_CHECK_PASS, "residence 5.0us");
}

static void test_times(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put64(rep + 4, tw_time_to_ntp(T1 + 9 * US)); /* t3 1 us before t2 */
    tw_check_judge_basic(&tab, &x);
    expect("t2/t3", TW_CHECK_FAIL, "t3 is 1.0us before t2");

    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put64(rep + 4, tw_time_to_ntp(T1 + 50 * US)); /* residence 40 us > 30 us */
    tw_check_judge_basic(&tab, &x);
    expect("t2/t3", TW_CHECK_FAIL, "longer than the round trip");

    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put64(rep + 16, tw_time_to_ntp(T1 - 20 * US)); /* t2 before t1, one clock */
    tw_put64(rep + 4, tw_time_to_ntp(T1 - 15 * US));
    tw_check_judge_basic(&tab, &x);
    expect("t2/t3", TW_CHECK_FAIL, "before t1");

    /* The same with clocks that cannot be compared: only t2 <= t3. */
    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    x.synced = false;
    tw_put64(rep + 16, tw_time_to_ntp(T1 - 20 * US));
    tw_put64(rep + 4, tw_time_to_ntp(T1 - 15 * US));
    tw_check_judge_basic(&tab, &x);
    expect("t2/t3", TW_CHECK_PASS, "not compared with t1/t4");
}

static void test_error_estimate(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put16(rep + 12, 0x8000); /* S set, Multiplier 0 */
    tw_check_judge_basic(&tab, &x);
    expect("Error Estimate", TW_CHECK_FAIL, "Multiplier 0");

    /* S set, but the timestamps are Unix time written as NTP: 70 years off. */
    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    tw_put16(rep + 12, 0x8001);
    tw_put64(rep + 16, tw_time_to_ntp(T1 - TW_NTP_UNIX_OFFSET * TW_NS_PER_SEC));
    tw_put64(rep + 4, tw_time_to_ntp(T1 - TW_NTP_UNIX_OFFSET * TW_NS_PER_SEC + 5 * US));
    tw_check_judge_basic(&tab, &x);
    expect("Error Estimate", TW_CHECK_FAIL, "S set, but t2 is");

    /* The same when this host's clock is not synchronized: not its fault we
     * cannot tell. */
    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    x.synced = false;
    tw_put16(rep + 12, 0x8001);
    tw_put64(rep + 16, tw_time_to_ntp(T1 - TW_NTP_UNIX_OFFSET * TW_NS_PER_SEC));
    tw_put64(rep + 4, tw_time_to_ntp(T1 - TW_NTP_UNIX_OFFSET * TW_NS_PER_SEC + 5 * US));
    tw_check_judge_basic(&tab, &x);
    expect("Error Estimate", TW_CHECK_PASS, "S not checked");
}

static void test_ttl_mbz_source(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    rep[40] = 0;
    rep[38] = 0xaa;
    x.from_target = false;
    snprintf(x.from, sizeof x.from, "127.0.0.1:40000");
    tw_check_judge_basic(&tab, &x);
    expect("Sender TTL", TW_CHECK_FAIL, "0");
    expect("MBZ fields", TW_CHECK_WARN, "octet 38 is 0xaa");
    expect("reply source", TW_CHECK_FAIL, "from 127.0.0.1:40000");

    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    rep[40] = 65;
    tw_check_judge_basic(&tab, &x);
    expect("Sender TTL", TW_CHECK_FAIL, "more than");
    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    rep[40] = 61;
    tw_check_judge_basic(&tab, &x);
    expect("Sender TTL", TW_CHECK_PASS, "61 (3 hops");
}

static void test_no_reply(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    x.replied = false;
    tw_check_judge_basic(&tab, &x);
    assert_int_equal(tab.n, 1);
    expect("reply", TW_CHECK_FAIL, "no reply within 2.000s");
    x = exch(TW_CHECK_KIND_TWAMP, 41, 41);
    x.replied = false;
    snprintf(x.icmp, sizeof x.icmp, "ICMP port unreachable from 127.0.0.1");
    tw_check_judge_basic(&tab, &x);
    expect("reply", TW_CHECK_FAIL, "no reply: ICMP port unreachable");
}

static void test_lengths(void **state)
{
    tw_check_xchg_t x = exch(TW_CHECK_KIND_TWAMP, 14, 41);
    tw_check_judge_length(&tab, &x);
    expect("length 14", TW_CHECK_PASS, "41 octets");
    x = exch(TW_CHECK_KIND_TWAMP, 100, 100);
    tw_check_judge_length(&tab, &x);
    expect("length 100", TW_CHECK_PASS, NULL);
    x = exch(TW_CHECK_KIND_TWAMP, 100, 41); /* no symmetrical size: TWAMP allows it */
    tw_check_judge_length(&tab, &x);
    expect("length 100", TW_CHECK_WARN, "not the request's size");
    x = exch(TW_CHECK_KIND_STAMP, 100, 44); /* STAMP does not */
    tw_check_judge_length(&tab, &x);
    expect("length 100", TW_CHECK_FAIL, "STAMP replies are symmetrical");
    assert_string_equal(row("length 100")->clause, "RFC 8762 §4.3, §4.6");
    x = exch(TW_CHECK_KIND_TWAMP, 14, 14); /* the request's length, below 41 */
    tw_check_judge_length(&tab, &x);
    expect("length 14", TW_CHECK_FAIL, "shorter than the 41-octet");
    x = exch(TW_CHECK_KIND_TWAMP, 14, 44); /* a STAMP reflector's base packet */
    tw_check_judge_length(&tab, &x);
    expect("length 14", TW_CHECK_PASS, "STAMP reflector's base packet");
    x = exch(TW_CHECK_KIND_TWAMP, 14, 45);
    tw_check_judge_length(&tab, &x);
    expect("length 14", TW_CHECK_FAIL, "amplification");
    x = exch(TW_CHECK_KIND_TWAMP, 41, 200); /* amplification */
    tw_check_judge_length(&tab, &x);
    expect("length 41", TW_CHECK_FAIL, "amplification");
    x = exch(TW_CHECK_KIND_STAMP_AUTH, 112, 112);
    tw_check_judge_length(&tab, &x);
    expect("length 112", TW_CHECK_PASS, NULL);
}

static void test_sequence(void **state)
{
    uint32_t s[3] = {10, 11, 12}, stateless[3] = {10, 11, 12}, stateful[3] = {0, 1, 2},
             erratic[3] = {5, 5, 9};
    tw_check_table_init(&tab, "reflector", "x", 1);
    tw_check_judge_sequence(&tab, s, stateless, 3);
    expect("reflector sequence", TW_CHECK_PASS, "stateless");
    tw_check_table_init(&tab, "reflector", "x", 1);
    tw_check_judge_sequence(&tab, s, stateful, 3);
    expect("reflector sequence", TW_CHECK_PASS, "stateful: 0..2");
    tw_check_table_init(&tab, "reflector", "x", 1);
    tw_check_judge_sequence(&tab, s, erratic, 3);
    expect("reflector sequence", TW_CHECK_WARN, "erratic");
    tw_check_table_init(&tab, "reflector", "x", 1);
    tw_check_judge_sequence(&tab, s, erratic, 1);
    expect("reflector sequence", TW_CHECK_FAIL, "1 replies");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_reply),  cmocka_unit_test(test_stamp_and_auth),
        cmocka_unit_test(test_python_layout),  cmocka_unit_test(test_swapped_layout),
        cmocka_unit_test(test_times),          cmocka_unit_test(test_error_estimate),
        cmocka_unit_test(test_ttl_mbz_source), cmocka_unit_test(test_no_reply),
        cmocka_unit_test(test_lengths),        cmocka_unit_test(test_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
