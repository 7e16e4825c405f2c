/* Unit tests for ntptime: NTP/PTP conversion and the Error Estimate.
 * Expected values are written out by hand from RFC 5905 (NTP format and eras),
 * RFC 8762 §4.2.1 / RFC 8186 (PTPv2 truncated) and RFC 4656 §4.1.2 (Error Estimate). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "ntptime.h"

#define NS TW_NS_PER_SEC
/* 2036-02-07 06:28:16 UTC: NTP seconds wrap from 0xFFFFFFFF to 0 (era 0 -> 1). */
#define ERA1_UNIX 2085978496LL

/* --- NTP: encode --- */

static void test_ntp_unix_epoch(void **state)
{
    (void)state;
    assert_true(tw_time_to_ntp(0) == 0x83AA7E8000000000ULL);
    assert_true(tw_ntp_to_time(0x83AA7E8000000000ULL) == 0);
}

static void test_ntp_known_dates(void **state)
{
    (void)state;
    /* 2000-01-01 00:00:00 UTC = Unix 946684800 = NTP 3155673600 */
    assert_true(tw_time_to_ntp(946684800LL * NS) == 0xBC17C20000000000ULL);
    assert_true(tw_ntp_to_time(0xBC17C20000000000ULL) == 946684800LL * NS);
    /* 2024-06-15 12:34:56 UTC = Unix 1718454896 */
    assert_true(tw_time_to_ntp(1718454896LL * NS) == 0xEA1808F000000000ULL);
    assert_true(tw_ntp_to_time(0xEA1808F000000000ULL) == 1718454896LL * NS);
    /* 2040-01-01 00:00:00 UTC = Unix 2208988800 = NTP 4417977600 = era 1, 0x0754FD00 */
    assert_true(tw_time_to_ntp(2208988800LL * NS) == 0x0754FD0000000000ULL);
    assert_true(tw_ntp_to_time(0x0754FD0000000000ULL) == 2208988800LL * NS);
}

static void test_ntp_fraction_half(void **state)
{
    (void)state;
    assert_true(tw_time_to_ntp(NS / 2) == 0x83AA7E8080000000ULL);
    assert_true(tw_ntp_to_time(0x83AA7E8080000000ULL) == NS / 2);
    /* 0.25 s and 0.75 s are exact too */
    assert_true(tw_time_to_ntp(NS / 4) == 0x83AA7E8040000000ULL);
    assert_true(tw_time_to_ntp(3 * NS / 4) == 0x83AA7E80C0000000ULL);
}

static void test_ntp_round_1ns(void **state)
{
    (void)state;
    /* 1 ns = 4.294967296 units of 2^-32 s -> rounds to 4 */
    assert_true(tw_time_to_ntp(1) == 0x83AA7E8000000004ULL);
    /* 4 units = 0.931 ns -> 1 ns */
    assert_true(tw_ntp_to_time(0x83AA7E8000000004ULL) == 1);
}

static void test_ntp_round_999999999ns(void **state)
{
    (void)state;
    /* 0.999999999 s = 4294967291.705 units -> 0xFFFFFFFC, no carry into seconds */
    assert_true(tw_time_to_ntp(999999999) == 0x83AA7E80FFFFFFFCULL);
    assert_true(tw_ntp_to_time(0x83AA7E80FFFFFFFCULL) == 999999999);
}

static void test_ntp_decode_rounding_and_carry(void **state)
{
    (void)state;
    /* 1 unit = 0.233 ns -> 0; 2 units = 0.466 ns -> 0; 3 units = 0.698 ns -> 1 */
    assert_true(tw_ntp_to_time(0x83AA7E8000000001ULL) == 0);
    assert_true(tw_ntp_to_time(0x83AA7E8000000002ULL) == 0);
    assert_true(tw_ntp_to_time(0x83AA7E8000000003ULL) == 1);
    /* The largest fraction is 0.99999999977 s: it rounds up into the next second. */
    assert_true(tw_ntp_to_time(0x83AA7E80FFFFFFFFULL) == NS);
    /* 0xFFFFFFFD = 0.999999999302 s -> 999999999 ns */
    assert_true(tw_ntp_to_time(0x83AA7E80FFFFFFFDULL) == 999999999);
}

static void test_ntp_before_1970(void **state)
{
    (void)state;
    /* -1 ns = 1969-12-31 23:59:59.999999999 */
    assert_true(tw_time_to_ntp(-1) == 0x83AA7E7FFFFFFFFCULL);
    assert_true(tw_ntp_to_time(0x83AA7E7FFFFFFFFCULL) == -1);
    /* -0.5 s */
    assert_true(tw_time_to_ntp(-NS / 2) == 0x83AA7E7F80000000ULL);
    assert_true(tw_ntp_to_time(0x83AA7E7F80000000ULL) == -NS / 2);
    /* -1 s exactly */
    assert_true(tw_time_to_ntp(-NS) == 0x83AA7E7F00000000ULL);
    assert_true(tw_ntp_to_time(0x83AA7E7F00000000ULL) == -NS);
}

static void test_ntp_era_edge(void **state)
{
    (void)state;
    const tw_time_t edge = ERA1_UNIX * NS;
    /* At the edge: era 1, seconds 0 */
    assert_true(tw_time_to_ntp(edge) == 0x0000000000000000ULL);
    assert_true(tw_ntp_to_time(0x0000000000000000ULL) == edge);
    /* 1 ns before: last fraction of era 0 */
    assert_true(tw_time_to_ntp(edge - 1) == 0xFFFFFFFFFFFFFFFCULL);
    assert_true(tw_ntp_to_time(0xFFFFFFFFFFFFFFFCULL) == edge - 1);
    /* 1 s before and after */
    assert_true(tw_time_to_ntp(edge - NS) == 0xFFFFFFFF00000000ULL);
    assert_true(tw_ntp_to_time(0xFFFFFFFF00000000ULL) == edge - NS);
    assert_true(tw_time_to_ntp(edge + NS) == 0x0000000100000000ULL);
    assert_true(tw_ntp_to_time(0x0000000100000000ULL) == edge + NS);
    /* The last era-0 fraction rounds into the first era-1 second on decode */
    assert_true(tw_ntp_to_time(0xFFFFFFFFFFFFFFFFULL) == edge);
}

static void test_ntp_pivot(void **state)
{
    (void)state;
    /* 0x80000000 s = 1968-01-20 03:14:08 UTC, the earliest era-0 time decoded */
    assert_true(tw_ntp_to_time(0x8000000000000000ULL) == -61505152LL * NS);
    /* 0x7FFFFFFF s is read as era 1: 2104-02-26 09:42:23 UTC */
    assert_true(tw_ntp_to_time(0x7FFFFFFF00000000ULL) == 4233462143LL * NS);
    assert_true(tw_time_to_ntp(4233462143LL * NS) == 0x7FFFFFFF00000000ULL);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

static void test_ntp_round_trip(void **state)
{
    (void)state;
    /* Every ns value in [1968-01-20 03:14:08, 2104-02-26 09:42:24) */
    const tw_time_t lo = -61505152LL * NS;
    const tw_time_t hi = 4233462144LL * NS;
    uint64_t seed = 42;
    for (int i = 0; i < 200000; i++) {
        tw_time_t t = lo + (tw_time_t)(lcg(&seed) % (uint64_t)(hi - lo));
        tw_time_t back = tw_ntp_to_time(tw_time_to_ntp(t));
        tw_time_t d = back - t;
        assert_true(d >= -1 && d <= 1);
    }
    /* Every ns of the first microsecond of a second, and around the era edge */
    for (tw_time_t n = 0; n < 1000; n++) {
        tw_time_t t1 = 1718454896LL * NS + n;
        tw_time_t d1 = tw_ntp_to_time(tw_time_to_ntp(t1)) - t1;
        assert_true(d1 >= -1 && d1 <= 1);
        tw_time_t t2 = ERA1_UNIX * NS - 500 + n;
        tw_time_t d2 = tw_ntp_to_time(tw_time_to_ntp(t2)) - t2;
        assert_true(d2 >= -1 && d2 <= 1);
    }
}

/* --- PTP --- */

static void test_ptp_encode_decode(void **state)
{
    (void)state;
    /* Unix epoch with TAI - UTC = 37 s */
    assert_true(tw_time_to_ptp(0, 37) == 0x0000002500000000ULL);
    assert_true(tw_ptp_to_time(0x0000002500000000ULL, 37) == 0);
    /* 1700000000.123456789 UTC -> TAI 1700000037 = 0x6553F125, 123456789 = 0x075BCD15 */
    tw_time_t t = 1700000000LL * NS + 123456789;
    assert_true(tw_time_to_ptp(t, 37) == 0x6553F125075BCD15ULL);
    assert_true(tw_ptp_to_time(0x6553F125075BCD15ULL, 37) == t);
    /* tai_offset 0: seconds are Unix seconds */
    assert_true(tw_time_to_ptp(t, 0) == 0x6553F100075BCD15ULL);
    /* nanoseconds field carries 999999999 exactly (no rounding) */
    assert_true(tw_time_to_ptp(999999999, 0) == 0x000000003B9AC9FFULL);
}

static void test_ptp_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (int i = 0; i < 100000; i++) {
        tw_time_t t = (tw_time_t)(lcg(&seed) % (4000000000ULL * (uint64_t)NS));
        assert_true(tw_ptp_to_time(tw_time_to_ptp(t, 37), 37) == t);
    }
}

/* --- Error Estimate --- */

static void test_errest_encode(void **state)
{
    (void)state;
    tw_errest_t a = {.sync = true, .ptp = false, .scale = 32, .multiplier = 1};
    assert_int_equal(tw_errest_encode(&a), 0xA001); /* 1|0|100000|00000001 */
    tw_errest_t b = {.sync = false, .ptp = true, .scale = 63, .multiplier = 255};
    assert_int_equal(tw_errest_encode(&b), 0x7FFF); /* 0|1|111111|11111111 */
    tw_errest_t c = {.sync = true, .ptp = true, .scale = 0, .multiplier = 1};
    assert_int_equal(tw_errest_encode(&c), 0xC001);
    tw_errest_t d = {.sync = true, .ptp = false, .scale = 26, .multiplier = 123};
    assert_int_equal(tw_errest_encode(&d), 0x9A7B); /* 1|0|011010|01111011 */
    tw_errest_t z = {.sync = false, .ptp = false, .scale = 0, .multiplier = 0};
    assert_int_equal(tw_errest_encode(&z), 0x0000);
}

static void test_errest_decode(void **state)
{
    (void)state;
    tw_errest_t e = tw_errest_decode(0x9A7B);
    assert_true(e.sync);
    assert_false(e.ptp);
    assert_int_equal(e.scale, 26);
    assert_int_equal(e.multiplier, 123);

    e = tw_errest_decode(0xFFFF);
    assert_true(e.sync);
    assert_true(e.ptp);
    assert_int_equal(e.scale, 63);
    assert_int_equal(e.multiplier, 255);

    e = tw_errest_decode(0x4001);
    assert_false(e.sync);
    assert_true(e.ptp);
    assert_int_equal(e.scale, 0);
    assert_int_equal(e.multiplier, 1);

    e = tw_errest_decode(0x2000);
    assert_false(e.sync);
    assert_false(e.ptp);
    assert_int_equal(e.scale, 32);
    assert_int_equal(e.multiplier, 0);

    /* every pattern survives decode -> encode */
    for (uint32_t v = 0; v <= 0xFFFF; v++) {
        tw_errest_t x = tw_errest_decode((uint16_t)v);
        assert_int_equal(tw_errest_encode(&x), v);
    }
}

static void assert_from_ns(uint64_t ns, uint8_t scale, uint8_t mult)
{
    tw_errest_t e = tw_errest_from_ns(ns, false, false);
    assert_int_equal(e.scale, scale);
    assert_int_equal(e.multiplier, mult);
}

static void test_errest_from_ns(void **state)
{
    (void)state;
    assert_from_ns(0, 0, 1);                      /* multiplier never 0 */
    assert_from_ns(1, 0, 5);                      /* 5 * 2^-32 s = 1.164 ns */
    assert_from_ns(1000, 5, 135);                 /* 135 * 2^-27 s = 1005.8 ns */
    assert_from_ns(1000000, 15, 132);             /* 132 * 2^-17 s = 1.00708 ms */
    assert_from_ns(1000000000, 25, 128);          /* 128 * 2^-7 s = 1 s exactly */
    assert_from_ns(16000000001ULL, 29, 129);      /* just over 16 s */
    assert_from_ns((uint64_t)INT64_MAX, 58, 138); /* huge */
    assert_from_ns(UINT64_MAX, 59, 138);          /* largest input */

    tw_errest_t e = tw_errest_from_ns(1000, true, true);
    assert_true(e.sync);
    assert_true(e.ptp);
    assert_int_equal(tw_errest_encode(&e), 0xC587); /* 1|1|000101|10000111 */
}

static void test_errest_to_ns(void **state)
{
    (void)state;
    tw_errest_t e = {.scale = 32, .multiplier = 1};
    assert_true(tw_errest_to_ns(&e) == NS);
    e = (tw_errest_t){.scale = 25, .multiplier = 128};
    assert_true(tw_errest_to_ns(&e) == NS);
    e = (tw_errest_t){.scale = 26, .multiplier = 123}; /* 123/64 s */
    assert_true(tw_errest_to_ns(&e) == 1921875000LL);
    e = (tw_errest_t){.scale = 0, .multiplier = 1}; /* 0.23 ns, rounded up */
    assert_true(tw_errest_to_ns(&e) == 1);
    e = (tw_errest_t){.scale = 5, .multiplier = 135}; /* 1005.83 ns */
    assert_true(tw_errest_to_ns(&e) == 1006);
    e = (tw_errest_t){.scale = 0, .multiplier = 0};
    assert_true(tw_errest_to_ns(&e) == 0);
    e = (tw_errest_t){.scale = 63, .multiplier = 255}; /* 5.5e20 ns: saturates */
    assert_true(tw_errest_to_ns(&e) == INT64_MAX);
    e = (tw_errest_t){.scale = 59, .multiplier = 138};
    assert_true(tw_errest_to_ns(&e) == INT64_MAX);
    e = (tw_errest_t){.scale = 62, .multiplier = 1}; /* 2^30 s */
    assert_true(tw_errest_to_ns(&e) == 1073741824LL * NS);
}

static void test_errest_from_ns_is_sufficient(void **state)
{
    (void)state;
    uint64_t seed = 99;
    for (int i = 0; i < 100000; i++) {
        /* spread over magnitudes: 0 .. 2^62 ns */
        uint64_t ns = lcg(&seed) >> (lcg(&seed) % 53);
        tw_errest_t e = tw_errest_from_ns(ns, false, false);
        assert_true(e.multiplier >= 1);
        assert_true(e.scale <= 63);
        assert_true((uint64_t)tw_errest_to_ns(&e) >= ns);
        /* one multiplier step lower would be too small (checked in whole ns,
         * so allow the rounding of to_ns) */
        if (e.multiplier > 1) {
            tw_errest_t lower = e;
            lower.multiplier--;
            assert_true((uint64_t)tw_errest_to_ns(&lower) <= ns);
        }
    }
}

/* --- clocks --- */

static void test_clock_errest(void **state)
{
    (void)state;
    for (int ptp = 0; ptp <= 1; ptp++) {
        tw_errest_t e = tw_clock_errest(ptp != 0);
        assert_true(e.multiplier != 0);
        assert_true(e.scale <= 63);
        assert_int_equal(e.ptp, ptp != 0);
        if (!e.sync) /* unsynchronized: 1 s */
            assert_true(tw_errest_to_ns(&e) == NS);
        uint16_t v = tw_errest_encode(&e);
        assert_true((v & 0xFF) != 0);
    }
}

static void test_clocks(void **state)
{
    (void)state;
    tw_time_t now = tw_now();
    assert_true(now > 1577836800LL * NS); /* after 2020-01-01 */
    int64_t m1 = tw_mono_now();
    int64_t m2 = tw_mono_now();
    assert_true(m1 > 0);
    assert_true(m2 >= m1);
}

static void test_time_parse(void **state)
{
    (void)state;
    tw_time_t t;
    assert_int_equal(tw_time_parse("1970-01-01T00:00:00Z", 0, &t), 0);
    assert_int_equal(t, 0);
    /* 2026-12-02 07:30:00 UTC = 1796196600 (date -u -d ... +%s) */
    assert_int_equal(tw_time_parse("2026-12-02T07:30:00Z", 0, &t), 0);
    assert_int_equal(t, 1796196600LL * TW_NS_PER_SEC);
    assert_int_equal(tw_time_parse("2026-12-02 09:30:00.25+02:00", 0, &t), 0);
    assert_int_equal(t, 1796196600LL * TW_NS_PER_SEC + 250000000);
    assert_int_equal(tw_time_parse("2026-12-02T07:30:00.123456789123-00:30", 0, &t), 0);
    assert_int_equal(t, (1796196600LL + 1800) * TW_NS_PER_SEC + 123456789);
    assert_int_equal(tw_time_parse("2000-02-29T12:00:00Z", 0, &t), 0);
    assert_int_equal(t, 951825600LL * TW_NS_PER_SEC);
    assert_int_equal(tw_time_parse("+2.5", 1000, &t), 0);
    assert_int_equal(t, 1000 + 2500000000LL);
    assert_int_equal(tw_time_parse("+0", 7, &t), 0);
    assert_int_equal(t, 7);
    static const char *const bad[] = {
        "",
        "+",
        "+-1",
        "+x",
        "+1s",
        "2026-12-02T07:30:00",
        "2026-12-02",
        "2026-13-02T07:30:00Z",
        "2026-12-02T24:00:00Z",
        "2026-12-02T07:30:00Zx",
        "26-12-02T07:30:00Z",
        "2026-12-02T07:30:00.Z",
        "2026-12-02T07:30:00+2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tw_time_parse(bad[i], 0, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntp_unix_epoch),
        cmocka_unit_test(test_ntp_known_dates),
        cmocka_unit_test(test_ntp_fraction_half),
        cmocka_unit_test(test_ntp_round_1ns),
        cmocka_unit_test(test_ntp_round_999999999ns),
        cmocka_unit_test(test_ntp_decode_rounding_and_carry),
        cmocka_unit_test(test_ntp_before_1970),
        cmocka_unit_test(test_ntp_era_edge),
        cmocka_unit_test(test_ntp_pivot),
        cmocka_unit_test(test_ntp_round_trip),
        cmocka_unit_test(test_ptp_encode_decode),
        cmocka_unit_test(test_ptp_round_trip),
        cmocka_unit_test(test_errest_encode),
        cmocka_unit_test(test_errest_decode),
        cmocka_unit_test(test_errest_from_ns),
        cmocka_unit_test(test_errest_to_ns),
        cmocka_unit_test(test_errest_from_ns_is_sufficient),
        cmocka_unit_test(test_clock_errest),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
