/* Unit tests for conformance.c: each finding from a crafted reply, in each
 * format, the counts, the sequence classification, merge, and the sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conformance.h"
#include "ntptime.h"
#include "wire.h"

#define SEC TW_NS_PER_SEC
#define T1 ((tw_time_t)1790000000 * SEC) /* 2026-09 */

static uint8_t buf[256];

/* A clean reply to packet seq in format fmt: t2 = t1 + 10 us, t3 = t2 + 5 us,
 * t4 = t1 + 30 us, S set, multiplier 1, Sender TTL 64, the request's length. */
static tw_conform_reply_t clean(int fmt, uint32_t seq)
{
    bool stamp = fmt == TW_CF_STAMP || fmt == TW_CF_STAMP_AUTH;
    bool auth = fmt == TW_CF_TWAMP_AUTH || fmt == TW_CF_STAMP_AUTH;
    memset(buf, 0, sizeof buf);
    size_t len = auth ? 112 : stamp ? 44 : 41;
    if (stamp)
        tw_put16(buf + (auth ? 26 : 14), 7); /* the SSID */
    tw_time_t t1 = T1 + (tw_time_t)seq * SEC;
    tw_conform_reply_t r = {
        .buf = buf,
        .len = len,
        .req_len = len,
        .format = fmt,
        .layout = TW_CF_LAYOUT_STRICT,
        .ssid = stamp ? 7 : 0,
        .sseq = seq,
        .rseq = seq,
        .errest = 0x8001,
        .t1 = t1,
        .t2 = t1 + 10000,
        .t3 = t1 + 15000,
        .t4 = t1 + 30000,
        .sender_ttl = 64,
        .tai = 37,
    };
    r.ntp2 = tw_time_to_ntp(r.t2);
    r.ntp3 = tw_time_to_ntp(r.t3);
    return r;
}

static int findings(const tw_conformance_t *c)
{
    int n = 0;
    for (int k = 0; k < TW_CF_SEQ_STATELESS; k++)
        n += tw_conform_count(c, k) != 0;
    return n;
}

static void test_clean_every_format(void **st)
{
    (void)st;
    for (int fmt = TW_CF_TWAMP; fmt <= TW_CF_STAMP_AUTH; fmt++) {
        tw_conformance_t c;
        tw_conform_init(&c, fmt);
        for (uint32_t i = 0; i < 3; i++) {
            tw_conform_reply_t r = clean(fmt, i);
            tw_conform_reply(&c, &r);
        }
        assert_int_equal(c.replies, 3);
        assert_int_equal(findings(&c), 0);
        assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 3);
        assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 0);
        assert_string_equal(tw_conform_severity(TW_CF_SEQ_STATELESS), "info");
    }
}

static void test_table(void **st)
{
    (void)st;
    tw_conformance_t twamp, stamp, sauth;
    tw_conform_init(&twamp, TW_CF_TWAMP);
    tw_conform_init(&stamp, TW_CF_STAMP);
    tw_conform_init(&sauth, TW_CF_STAMP_AUTH);
    for (int k = 0; k < TW_CF_COUNT; k++) {
        assert_non_null(tw_conform_code(k));
        for (int j = 0; j < k; j++)
            assert_string_not_equal(tw_conform_code(k), tw_conform_code(j));
        assert_non_null(tw_conform_rfc(&stamp, k));
    }
    assert_null(tw_conform_code(TW_CF_COUNT));
    assert_null(tw_conform_code(-1));
    assert_string_equal(tw_conform_code(TW_CF_T2_EQUALS_T3), "t2-equals-t3");
    assert_string_equal(tw_conform_code(TW_CF_SWAPPED), "swapped-timestamps");
    assert_string_equal(tw_conform_severity(TW_CF_MBZ), "warn");
    assert_string_equal(tw_conform_severity(TW_CF_SEQ_STATEFUL), "info");
    assert_string_equal(tw_conform_rfc(&twamp, TW_CF_MBZ), "RFC 5357 §4.2.1");
    assert_string_equal(tw_conform_rfc(&stamp, TW_CF_MBZ), "RFC 8762 §4.3.1");
    assert_string_equal(tw_conform_rfc(&sauth, TW_CF_MBZ), "RFC 8762 §4.3.2");
    assert_string_equal(tw_conform_rfc(&stamp, TW_CF_ERREST_ZERO), "RFC 4656 §4.1.2");
    assert_string_equal(tw_conform_rfc(&stamp, TW_CF_SSID), "RFC 8972 §3");
    assert_string_equal(tw_conform_rfc(&stamp, TW_CF_LENGTH), "RFC 8762 §4");
    assert_string_equal(tw_conform_rfc(&stamp, TW_CF_SEQ_STATELESS), "RFC 8762 §4");
    /* STAMP-only findings do not apply to TWAMP. */
    assert_null(tw_conform_rfc(&twamp, TW_CF_SSID));
    assert_null(tw_conform_rfc(&twamp, TW_CF_LENGTH));
}

/* One reply altered by f, in format fmt: the finding k and nothing else. */
static void expect_only(int fmt, int k, void (*f)(tw_conform_reply_t *))
{
    tw_conformance_t c;
    tw_conform_init(&c, fmt);
    tw_conform_reply_t r = clean(fmt, 0);
    f(&r);
    tw_conform_reply(&c, &r);
    for (int j = 0; j < TW_CF_SEQ_STATELESS; j++)
        if (tw_conform_count(&c, j) != (j == k ? 1u : 0u))
            fail_msg("format %d, expected %s only: %s is %llu", fmt, tw_conform_code(k),
                     tw_conform_code(j), (unsigned long long)tw_conform_count(&c, j));
}

static void swapped(tw_conform_reply_t *r)
{
    r->layout = TW_CF_LAYOUT_SWAPPED;
}
static void seq_only(tw_conform_reply_t *r)
{
    r->layout = TW_CF_LAYOUT_SEQ_ONLY;
}
static void echoed(tw_conform_reply_t *r)
{
    r->layout = TW_CF_LAYOUT_ECHO;
    r->len = 14;
    r->errest = 0; /* our own, not examined */
}
static void backwards(tw_conform_reply_t *r)
{
    uint64_t x = r->ntp2;
    r->ntp2 = r->ntp3;
    r->ntp3 = x;
}
static void same(tw_conform_reply_t *r)
{
    r->ntp3 = r->ntp2;
}
static void ttl0(tw_conform_reply_t *r)
{
    r->sender_ttl = 0;
}
static void ttl_missing(tw_conform_reply_t *r)
{
    r->sender_ttl = -1;
    r->len = 38;
}
static void errest0(tw_conform_reply_t *r)
{
    r->errest = 0x8000 | (5 << 8); /* scale 5, multiplier 0 */
}
static void far_sync(tw_conform_reply_t *r)
{
    r->t2 += 3600 * SEC;
    r->t3 += 3600 * SEC;
    r->ntp2 = tw_time_to_ntp(r->t2);
    r->ntp3 = tw_time_to_ntp(r->t3);
}
static void mbz14(tw_conform_reply_t *r)
{
    (void)r;
    buf[14] = 1;
}
static void mbz39(tw_conform_reply_t *r)
{
    (void)r;
    buf[39] = 0x80;
}
static void mbz43(tw_conform_reply_t *r)
{
    (void)r;
    buf[43] = 2;
}
static void mbz4(tw_conform_reply_t *r)
{
    (void)r;
    buf[4] = 2;
}
static void mbz28(tw_conform_reply_t *r)
{
    (void)r;
    buf[28] = 2;
}
static void mbz95(tw_conform_reply_t *r)
{
    (void)r;
    buf[95] = 2;
}
static void ssid0(tw_conform_reply_t *r)
{
    memset(buf + (r->format == TW_CF_STAMP ? 14 : 26), 0, 2);
}
static void longer(tw_conform_reply_t *r)
{
    r->len = r->req_len + 4;
}
static void past_end(tw_conform_reply_t *r)
{
    /* MBZ octets past the reply's end are not read. */
    buf[39] = 9;
    r->len = 39;
    r->sender_ttl = -1;
}

static void test_each_finding(void **st)
{
    (void)st;
    for (int fmt = TW_CF_TWAMP; fmt <= TW_CF_STAMP_AUTH; fmt++) {
        expect_only(fmt, TW_CF_SWAPPED, swapped);
        expect_only(fmt, TW_CF_TS_NOT_ECHOED, seq_only);
        expect_only(fmt, TW_CF_T3_BEFORE_T2, backwards);
        expect_only(fmt, TW_CF_T2_EQUALS_T3, same);
        expect_only(fmt, TW_CF_NO_SENDER_TTL, ttl0);
        expect_only(fmt, TW_CF_ERREST_ZERO, errest0);
        expect_only(fmt, TW_CF_CLOCK_FAR_OFF, far_sync);
    }
    expect_only(TW_CF_TWAMP, TW_CF_ECHOED, echoed);
    expect_only(TW_CF_TWAMP, TW_CF_NO_SENDER_TTL, ttl_missing);
    expect_only(TW_CF_TWAMP, TW_CF_MBZ, mbz14);
    expect_only(TW_CF_TWAMP, TW_CF_MBZ, mbz39);
    expect_only(TW_CF_TWAMP, TW_CF_NO_SENDER_TTL, past_end);
    expect_only(TW_CF_STAMP, TW_CF_MBZ, mbz39);
    expect_only(TW_CF_STAMP, TW_CF_MBZ, mbz43);
    expect_only(TW_CF_TWAMP_AUTH, TW_CF_MBZ, mbz4);
    expect_only(TW_CF_TWAMP_AUTH, TW_CF_MBZ, mbz28);
    expect_only(TW_CF_TWAMP_AUTH, TW_CF_MBZ, mbz95);
    expect_only(TW_CF_STAMP_AUTH, TW_CF_MBZ, mbz28);
    expect_only(TW_CF_STAMP, TW_CF_SSID, ssid0);
    expect_only(TW_CF_STAMP_AUTH, TW_CF_SSID, ssid0);
    expect_only(TW_CF_STAMP, TW_CF_LENGTH, longer);
    expect_only(TW_CF_STAMP_AUTH, TW_CF_LENGTH, longer);
    /* In TWAMP light octet 14 is MBZ, in STAMP the SSID; 43 is TWAMP padding;
     * a longer TWAMP reply is no finding (no symmetrical size without RFC 6038). */
    tw_conformance_t c;
    tw_conform_init(&c, TW_CF_TWAMP);
    tw_conform_reply_t r = clean(TW_CF_TWAMP, 0);
    buf[43] = 0xff;
    r.len = 44;
    tw_conform_reply(&c, &r);
    assert_int_equal(findings(&c), 0);
}

static void test_far_clock(void **st)
{
    (void)st;
    char t[400];
    /* S clear and an hour off: an unsynchronized clock, no finding. */
    tw_conformance_t c;
    tw_conform_init(&c, TW_CF_TWAMP);
    tw_conform_reply_t r = clean(TW_CF_TWAMP, 0);
    far_sync(&r);
    r.errest = 0x0001;
    tw_conform_reply(&c, &r);
    assert_int_equal(tw_conform_count(&c, TW_CF_CLOCK_FAR_OFF), 0);
    /* 4 s off with S set: within the margin. */
    r = clean(TW_CF_TWAMP, 1);
    r.t2 += 4 * SEC;
    r.t3 += 4 * SEC;
    tw_conform_reply(&c, &r);
    assert_int_equal(tw_conform_count(&c, TW_CF_CLOCK_FAR_OFF), 0);
    /* S set, an hour ahead: said, with the offset. */
    r = clean(TW_CF_TWAMP, 2);
    far_sync(&r);
    tw_conform_reply(&c, &r);
    assert_int_equal(tw_conform_count(&c, TW_CF_CLOCK_FAR_OFF), 1);
    assert_int_equal(c.far_offset_s, 3600);
    assert_string_equal(tw_conform_text(&c, TW_CF_CLOCK_FAR_OFF, t, sizeof t),
                        "1 of 3 replies carry timestamps +3600 s from our clock with the S bit "
                        "set (synchronized to UTC): no one-way delay explains that; one-way "
                        "delays are wrong");
    /* Unix seconds in the NTP field, S clear: the epoch mistake is said
     * whatever the S bit (the raw seconds, not another NTP era). */
    tw_conform_init(&c, TW_CF_TWAMP);
    r = clean(TW_CF_TWAMP, 0);
    r.errest = 0x0001;
    r.ntp2 -= (uint64_t)TW_NTP_UNIX_OFFSET << 32;
    r.ntp3 -= (uint64_t)TW_NTP_UNIX_OFFSET << 32;
    r.t2 = tw_ntp_to_time(r.ntp2);
    r.t3 = tw_ntp_to_time(r.ntp3);
    tw_conform_reply(&c, &r);
    assert_int_equal(tw_conform_count(&c, TW_CF_CLOCK_FAR_OFF), 1);
    assert_int_equal(c.far_offset_s, -TW_CF_EPOCH_S);
    assert_string_equal(tw_conform_text(&c, TW_CF_CLOCK_FAR_OFF, t, sizeof t),
                        "1 of 1 replies carry timestamps -2208988800 s from our clock: the 70 "
                        "years from 1900 to 1970, Unix time written where NTP time belongs");
    /* PTP (Z set) with NTP seconds: +2208988800. */
    tw_conform_init(&c, TW_CF_STAMP);
    r = clean(TW_CF_STAMP, 0);
    r.errest = 0x4001;
    r.ntp2 = tw_time_to_ntp(r.t2);
    r.ntp3 = tw_time_to_ntp(r.t3);
    r.t2 = tw_ptp_to_time(r.ntp2, 37);
    r.t3 = tw_ptp_to_time(r.ntp3, 37);
    tw_conform_reply(&c, &r);
    assert_int_equal(tw_conform_count(&c, TW_CF_CLOCK_FAR_OFF), 1);
    assert_true(c.far_offset_s > TW_CF_EPOCH_S - 60 && c.far_offset_s < TW_CF_EPOCH_S + 60);
    assert_non_null(strstr(tw_conform_text(&c, TW_CF_CLOCK_FAR_OFF, t, sizeof t),
                           "NTP time written where PTP time belongs"));
}

/* Replies with these (ours, the reflector's) sequence numbers, in this order. */
static tw_conformance_t seqs(const uint32_t (*p)[2], int n)
{
    tw_conformance_t c;
    tw_conform_init(&c, TW_CF_STAMP);
    for (int i = 0; i < n; i++) {
        tw_conform_reply_t r = clean(TW_CF_STAMP, p[i][0]);
        r.rseq = p[i][1];
        tw_conform_reply(&c, &r);
    }
    return c;
}

static void test_sequence(void **st)
{
    (void)st;
    /* Stateful, one request lost on the way in, one reply reordered. */
    static const uint32_t reordered[][2] = {{0, 0}, {2, 1}, {1, 0}, {3, 2}};
    tw_conformance_t c = seqs(reordered, 4);
    /* {2,1} then {1,0}: ours went back, the reflector's too; {1,0} then {3,2}: both up. */
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 4);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_ERRATIC), 0);
    /* The counter restarting from 0 (the reflector forgot us). */
    static const uint32_t restart[][2] = {{0, 0}, {1, 1}, {3, 2}, {4, 3}, {9, 0}, {10, 1}};
    c = seqs(restart, 6);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 6);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 0);
    /* Stateless across the 2^32 wrap. */
    static const uint32_t wrap[][2] = {
        {0xfffffffeu, 0xfffffffeu}, {0xffffffffu, 0xffffffffu}, {0, 0}, {1, 1}};
    c = seqs(wrap, 4);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 4);
    /* A stateful counter across its wrap. */
    static const uint32_t cwrap[][2] = {{5, 0xfffffffeu}, {6, 0xffffffffu}, {7, 0}, {8, 1}};
    c = seqs(cwrap, 4);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 4);
    /* Up and down, and stuck at one value: erratic. */
    static const uint32_t erratic[][2] = {{0, 2000}, {1, 999}, {2, 2002}, {3, 997}};
    c = seqs(erratic, 4);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_ERRATIC), 2);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 0);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 0);
    /* Always 0: a counter restarting at every probe (probes further apart
     * than the reflector's idle reset), not erratic; nor a restart whose
     * reply 0 was lost (1 after 7, two requests later). */
    static const uint32_t stuck[][2] = {{0, 0}, {1, 0}, {2, 0}};
    c = seqs(stuck, 3);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_ERRATIC), 0);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 3);
    static const uint32_t lost0[][2] = {{6, 7}, {8, 1}, {9, 2}};
    c = seqs(lost0, 3);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 3);
    /* Down by more than the requests sent since: erratic. */
    static const uint32_t down[][2] = {{6, 7}, {8, 2}};
    c = seqs(down, 2);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_ERRATIC), 1);
    static const uint32_t stuck5[][2] = {{0, 5}, {1, 5}};
    c = seqs(stuck5, 2);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_ERRATIC), 1);
    /* Echoed requests are not examined for the sequence. */
    tw_conform_init(&c, TW_CF_TWAMP);
    tw_conform_reply_t r = clean(TW_CF_TWAMP, 0);
    echoed(&r);
    tw_conform_reply(&c, &r);
    r = clean(TW_CF_TWAMP, 1);
    tw_conform_reply(&c, &r);
    assert_int_equal(c.seq_seen, 1);
    assert_int_equal(tw_conform_of(&c, TW_CF_SEQ_STATELESS), 1);
    assert_int_equal(tw_conform_of(&c, TW_CF_ECHOED), 2);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 1);
    tw_conform_init(&c, TW_CF_TWAMP);
    r = clean(TW_CF_TWAMP, 0);
    echoed(&r);
    tw_conform_reply(&c, &r);
    assert_int_equal(c.seq_seen, 0);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATELESS), 0);
    assert_int_equal(tw_conform_count(&c, TW_CF_SEQ_STATEFUL), 0);
}

static void test_merge_and_lines(void **st)
{
    (void)st;
    tw_conformance_t a, b, t;
    tw_conform_init(&a, TW_CF_TWAMP);
    tw_conform_init(&b, TW_CF_TWAMP);
    tw_conform_init(&t, TW_CF_STAMP); /* a total: takes the first session's format */
    for (uint32_t i = 0; i < 3; i++) {
        tw_conform_reply_t r = clean(TW_CF_TWAMP, i);
        same(&r);
        tw_conform_reply(&a, &r);
        r = clean(TW_CF_TWAMP, i);
        if (i == 1)
            mbz39(&r);
        tw_conform_reply(&b, &r);
    }
    tw_conform_merge(&t, &a);
    tw_conform_merge(&t, &b);
    assert_int_equal(t.format, TW_CF_TWAMP);
    assert_int_equal(t.replies, 6);
    assert_int_equal(tw_conform_count(&t, TW_CF_T2_EQUALS_T3), 3);
    assert_int_equal(tw_conform_count(&t, TW_CF_MBZ), 1);
    assert_int_equal(tw_conform_count(&t, TW_CF_SEQ_STATELESS), 6);
    char l[480];
    assert_string_equal(tw_conform_line(&t, TW_CF_T2_EQUALS_T3, l, sizeof l),
                        "Warning [t2-equals-t3] RFC 5357 §4.2.1: 3 of 6 replies carry Receive "
                        "Timestamp = Timestamp: residence not reported (it is inside the round "
                        "trip)");
    assert_string_equal(tw_conform_line(&t, TW_CF_MBZ, l, sizeof l),
                        "Warning [mbz-not-zero] RFC 5357 §4.2.1: 1 of 6 replies have MBZ octets "
                        "that are not zero (the first: offset 39 is 0x80)");
    assert_string_equal(tw_conform_line(&t, TW_CF_SEQ_STATELESS, l, sizeof l),
                        "Note [sequence-stateless] RFC 5357 §4.2.1: 6 of 6 replies carry our "
                        "Sequence Number as the reflector's: a stateless reflector (a lost "
                        "packet then has no known direction), or a stateful one that missed none "
                        "of ours");
    /* No finding: an empty line. */
    assert_string_equal(tw_conform_line(&t, TW_CF_SWAPPED, l, sizeof l), "");
    /* An empty session merges to nothing. */
    tw_conformance_t e;
    tw_conform_init(&e, TW_CF_STAMP);
    tw_conform_merge(&t, &e);
    assert_int_equal(t.replies, 6);
    /* Sender TTL: both kinds in one sentence; SSID and length details. */
    tw_conform_init(&t, TW_CF_STAMP);
    tw_conform_reply_t r = clean(TW_CF_STAMP, 0);
    ttl0(&r);
    tw_conform_reply(&t, &r);
    r = clean(TW_CF_STAMP, 1);
    r.sender_ttl = -1;
    r.len = 40;
    tw_conform_reply(&t, &r);
    r = clean(TW_CF_STAMP, 2);
    tw_put16(buf + 14, 3);
    tw_conform_reply(&t, &r);
    assert_string_equal(tw_conform_text(&t, TW_CF_NO_SENDER_TTL, l, sizeof l),
                        "2 of 3 replies carry no Sender TTL (1 end before it, 1 carry 0): "
                        "outbound TTL unknown");
    assert_string_equal(tw_conform_text(&t, TW_CF_LENGTH, l, sizeof l),
                        "1 of 3 replies are not as long as their request (the first: 40 octets "
                        "to a 44-octet request)");
    assert_string_equal(tw_conform_text(&t, TW_CF_SSID, l, sizeof l),
                        "1 of 3 replies carry SSID 3, not the 7 sent");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_every_format), cmocka_unit_test(test_table),
        cmocka_unit_test(test_each_finding),       cmocka_unit_test(test_far_clock),
        cmocka_unit_test(test_sequence),           cmocka_unit_test(test_merge_and_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
