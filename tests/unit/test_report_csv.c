/* Unit tests for report_csv: ISO-8601 times with nanoseconds, across the NTP
 * era boundary of 2036, and the CSV rows of answered and lost packets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_csv.h"

#define NS 1000000000LL
#define T2023 (1700000000LL * NS) /* 2023-11-14T22:13:20Z */
#define ERA1 2085978496LL         /* 2036-02-07T06:28:16Z: NTP seconds wrap to 0 */

static const char *iso(tw_time_t t)
{
    static char b[48];
    return tw_fmt_iso8601(b, sizeof b, t);
}

static void test_iso_fraction_edges(void **state)
{
    assert_string_equal(iso(T2023), "2023-11-14T22:13:20.000000000Z");
    assert_string_equal(iso(T2023 + 1), "2023-11-14T22:13:20.000000001Z");
    assert_string_equal(iso(T2023 + 999999999), "2023-11-14T22:13:20.999999999Z");
    assert_string_equal(iso(T2023 + 123456789), "2023-11-14T22:13:20.123456789Z");
    assert_string_equal(iso(T2023 - 1), "2023-11-14T22:13:19.999999999Z");
    assert_string_equal(iso(0), "1970-01-01T00:00:00.000000000Z");
    assert_string_equal(iso(-1), "1969-12-31T23:59:59.999999999Z");
    assert_string_equal(iso(951782400LL * NS), "2000-02-29T00:00:00.000000000Z"); /* leap day */
}

static void test_iso_ntp_eras(void **state)
{
    /* The last second of NTP era 0 and the first of era 1, decoded from the
     * wire and written as ISO-8601. */
    tw_time_t pre = tw_ntp_to_time(0xFFFFFFFF00000000ULL);
    tw_time_t post = tw_ntp_to_time(0x0000000080000000ULL);
    assert_string_equal(iso(pre), "2036-02-07T06:28:15.000000000Z");
    assert_string_equal(iso(post), "2036-02-07T06:28:16.500000000Z");
    assert_string_equal(iso(ERA1 * NS - 1), "2036-02-07T06:28:15.999999999Z");
    assert_string_equal(iso(ERA1 * NS), "2036-02-07T06:28:16.000000000Z");
    /* The example of the documentation. */
    tw_time_t t = 1795757400LL * NS + 123456789;
    assert_string_equal(iso(t), "2026-11-27T05:30:00.123456789Z");
}

static char out[4096];

static const char *row(int session, const tw_packet_record_t *r)
{
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    tw_csv_row(f, session, r);
    fclose(f);
    return out;
}

static void test_header(void **state)
{
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    tw_csv_header(f);
    fclose(f);
    assert_string_equal(out, "session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,"
                             "outbound_ns,inbound_ns,ttl_out,ttl_in,dscp_in,size\n");
}

static void test_row_ok(void **state)
{
    tw_packet_record_t r = {.seq = 4294967295u,
                            .status = TW_PKT_OK,
                            .t1 = T2023,
                            .t2 = T2023 + 12000,
                            .t3 = T2023 + 15000,
                            .t4 = T2023 + 999999999,
                            .ttl_out = 64,
                            .ttl_in = 255,
                            .tos_in = 0xB9, /* EF with ECN ECT(1) */
                            .size = 41};
    assert_string_equal(
        row(1, &r), "1,4294967295,ok,2023-11-14T22:13:20.000000000Z,"
                    "2023-11-14T22:13:20.000012000Z,2023-11-14T22:13:20.000015000Z,"
                    "2023-11-14T22:13:20.999999999Z,e8fe6f8000000000,e8fe6f800000c954,"
                    "e8fe6f800000fba9,e8fe6f80fffffffc,999996999,12000,999984999,64,255,46,41\n");
}

static void test_row_negative_oneway(void **state)
{
    /* One-way delays are never clamped: a reflector clock behind ours. */
    tw_packet_record_t r = {.seq = 3,
                            .status = TW_PKT_REORDERED,
                            .t1 = T2023,
                            .t2 = T2023 - 500,
                            .t3 = T2023 + 1500,
                            .t4 = T2023 + 3000,
                            .ttl_out = -1,
                            .ttl_in = 64,
                            .tos_in = -1,
                            .size = 44};
    const char *s = row(2, &r);
    assert_non_null(strstr(s, "2,3,reordered,"));
    assert_non_null(strstr(s, ",1000,-500,1500,,64,,44\n"));
}

static void test_row_lost_and_era1(void **state)
{
    /* Lost: only t1 is known; everything else is empty. t1 after the NTP era
     * wrap: the NTP seconds start again from 0. */
    tw_packet_record_t r = {.seq = 7,
                            .status = TW_PKT_LOST,
                            .t1 = ERA1 * NS + NS / 2,
                            .ttl_out = -1,
                            .ttl_in = -1,
                            .tos_in = -1,
                            .size = 41};
    assert_string_equal(row(1, &r), "1,7,lost,2036-02-07T06:28:16.500000000Z,,,,"
                                    "0000000080000000,,,,,,,,,,41\n");
}

static void test_status_names(void **state)
{
    assert_string_equal(tw_pkt_status_name(TW_PKT_OK), "ok");
    assert_string_equal(tw_pkt_status_name(TW_PKT_LOST), "lost");
    assert_string_equal(tw_pkt_status_name(TW_PKT_DUPLICATE), "duplicate");
    assert_string_equal(tw_pkt_status_name(TW_PKT_REORDERED), "reordered");
    assert_string_equal(tw_pkt_status_name(TW_PKT_LATE), "late");
}

/* A row written and read back: the same record (the NTP columns aside). */
static void roundtrip(const tw_packet_record_t *in, int session)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    tw_csv_row(f, session, in);
    fclose(f);
    tw_packet_record_t got;
    int sess = -1;
    char err[128];
    assert_int_equal(tw_csv_parse_row(buf, &sess, &got, err, sizeof err), 0);
    assert_int_equal(sess, session);
    assert_int_equal(got.seq, in->seq);
    assert_int_equal(got.status, in->status);
    assert_int_equal(got.t1, in->t1);
    assert_int_equal(got.t2, in->t2);
    assert_int_equal(got.t3, in->t3);
    assert_int_equal(got.t4, in->t4);
    assert_int_equal(got.ttl_out, in->ttl_out);
    assert_int_equal(got.ttl_in, in->ttl_in);
    assert_int_equal(got.tos_in, in->tos_in);
    assert_int_equal(got.size, in->size);
    free(buf);
}

static void test_parse_roundtrip(void **state)
{
    tw_packet_record_t r = {.seq = 4294967295u,
                            .status = TW_PKT_REORDERED,
                            .t1 = T2023 + 123456789,
                            .t2 = T2023 + 124456780,
                            .t3 = T2023 + 124466781,
                            .t4 = T2023 + 125000001,
                            .ttl_out = 255,
                            .ttl_in = 62,
                            .tos_in = 46 << 2,
                            .size = 1472};
    roundtrip(&r, 3);
    tw_packet_record_t lost = {.seq = 7,
                               .status = TW_PKT_LOST,
                               .t1 = ERA1 * NS + 5,
                               .ttl_out = -1,
                               .ttl_in = -1,
                               .tos_in = -1,
                               .size = 41};
    roundtrip(&lost, 1);
    /* Before 1970 and after the NTP era boundary. */
    lost.t1 = -1;
    roundtrip(&lost, 1);
}

static void test_parse_rejects(void **state)
{
    tw_packet_record_t r;
    int s;
    char err[128];
    static const char *const bad[] = {
        "session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,outbound_ns,"
        "inbound_ns,ttl_out,ttl_in,dscp_in,size",
        "",
        "1,2,ok",
        "1,2,ok,,,,,,,,,,,,,,,41,9",
        "1,2,fine,,,,,,,,,,,,,,,41",
        "1,-2,lost,,,,,,,,,,,,,,,41",
        "1,2,lost,2023-11-14T22:13:20.1234567890Z,,,,,,,,,,,,,,41",
        "1,2,lost,2023-11-14 22:13:20Z,,,,,,,,,,,,,,41",
        "1,2,lost,2023-13-14T22:13:20Z,,,,,,,,,,,,,,41",
        "1,2,lost,2023-02-29T22:13:20Z,,,,,,,,,,,,,,41",
        "1,2,lost,2016-12-31T23:59:60Z,,,,,,,,,,,,,,41",
        "1,2,lost,2263-01-01T00:00:00Z,,,,,,,,,,,,,,41",
        "1,2,lost,1600-01-01T00:00:00Z,,,,,,,,,,,,,,41",
        "1,2,ok,,2023-11-14T22:13:20Z,,,,,,,,,,,,,41",
        "1,2,ok,2023-11-14T22:13:20Z,2123-11-14T22:13:20Z,,,,,,,,,,,,,41",
        "1,2,lost,,,,,,,,,,,,256,,,41",
        "1,2,lost,,,,,,,,,,,,,,64,41",
        "1,2,lost,,,,,,,,,,,,,,,",
        "1,2,lost,,,,,,,,,,,,,,,4x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tw_csv_parse_row(bad[i], &s, &r, err, sizeof err), -1);
    tw_csv_parse_row("1,2,fine,,,,,,,,,,,,,,,41", &s, &r, err, sizeof err);
    assert_string_equal(err, "column 3 (status): not ok, lost, duplicate, reordered or late");
    tw_csv_parse_row("1,2,ok,,,,,,,,,,,,,,,", &s, &r, err, sizeof err);
    assert_string_equal(err, "column 18 (size): not a whole number in range");
    /* CRLF line ends and a fraction shorter than 9 digits are read. */
    assert_int_equal(tw_csv_parse_row("1,2,lost,2023-11-14T22:13:20.5Z,,,,,,,,,,,,,,41\r\n", &s, &r,
                                      err, sizeof err),
                     0);
    assert_int_equal(r.t1, T2023 + 500000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_fraction_edges),
        cmocka_unit_test(test_iso_ntp_eras),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_row_ok),
        cmocka_unit_test(test_row_negative_oneway),
        cmocka_unit_test(test_row_lost_and_era1),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_parse_roundtrip),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
