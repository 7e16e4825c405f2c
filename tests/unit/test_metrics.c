/* metrics: hand-computed cases of the extended statistics (the generated
 * sequences against a sorting reference are in test_stats_reference.c):
 * one-way and round-trip delays from t1..t4, RFC 3550 jitter, RFC 4737
 * reordering and its extent, IPDV of consecutive sequence numbers, replies
 * whose t2/t3 are unusable, TTL ranges, and the merge of two sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "metrics.h"

#define US 1000LL

/* A sample: out µs on the way out, 2 µs in the reflector, in µs back. */
static tw_sample_t sample(uint32_t seq, int64_t out, int64_t in)
{
    tw_time_t t1 = 1700000000LL * TW_NS_PER_SEC + (int64_t)seq * 1000 * US;
    tw_sample_t s = {
        .seq = seq,
        .rseq = seq,
        .t1 = t1,
        .t2 = t1 + out * US,
        .t3 = t1 + (out + 2) * US,
        .t4 = t1 + (out + 2 + in) * US,
        .ttl_out = 64,
        .ttl_in = 62,
        .remote_sync = true,
    };
    return s;
}

static void test_delays_from_timestamps(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    tw_sample_t a = sample(0, 10, 30), b = sample(1, 20, 10);
    tw_metrics_add(&m, &a);
    tw_metrics_add(&m, &b);
    assert_int_equal(m.received, 2);
    assert_int_equal(m.outbound.min, 10 * US);
    assert_int_equal(m.outbound.max, 20 * US);
    assert_int_equal(m.inbound.min, 10 * US);
    assert_int_equal(m.inbound.max, 30 * US);
    /* Round trip without the reflector's 2 µs: 40 and 30. */
    assert_int_equal(m.roundtrip.min, 30 * US);
    assert_int_equal(m.roundtrip.max, 40 * US);
    assert_true(fabs(m.roundtrip.mean - 35 * US) < 1e-6);
    /* Sample standard deviation of {30, 40} µs: 7.07 µs. */
    assert_true(fabs(tw_dirmetrics_stddev(&m.roundtrip) - sqrt(50.0) * US) < 1);
    assert_int_equal(m.negative_oneway, 0);
    assert_true(m.remote_sync_all);
    tw_metrics_free(&m);
}

static void test_rfc3550_jitter(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    /* Outbound 10, 26, 10 µs: |D| = 16 twice; J = 16/16 = 1, then
     * 1 + (16 - 1)/16 = 1.9375 µs. */
    int64_t out[] = {10, 26, 10};
    for (uint32_t i = 0; i < 3; i++) {
        tw_sample_t s = sample(i, out[i], 10);
        tw_metrics_add(&m, &s);
    }
    assert_true(fabs(m.outbound.jitter - 1.9375 * US) < 1e-6);
    assert_true(fabs(m.inbound.jitter) < 1e-9);
    tw_metrics_free(&m);
}

static void test_reordering_extent(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    /* Arrival order 0 1 4 5 2 3 6: 2 and 3 are reordered (below NextExp 6).
     * 2 arrived 2 places after 4, the earliest larger one (extent 2); 3
     * arrived 3 places after it (extent 3): the largest extent is 3. */
    uint32_t order[] = {0, 1, 4, 5, 2, 3, 6};
    for (int i = 0; i < 7; i++) {
        tw_sample_t s = sample(order[i], 10, 10);
        tw_metrics_add(&m, &s);
    }
    assert_int_equal(m.reordered, 2);
    assert_int_equal(m.reorder_extent, 3);
    assert_int_equal(m.next_exp, 7);
    tw_metrics_free(&m);
}

static void test_ipdv_consecutive_only(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    /* 0 and 1 are consecutive (outbound +5 µs); 3 follows a gap: no pair. */
    tw_sample_t a = sample(0, 10, 10), b = sample(1, 15, 10), c = sample(3, 40, 10);
    tw_metrics_add(&m, &a);
    tw_metrics_add(&m, &b);
    tw_metrics_add(&m, &c);
    assert_int_equal(m.outbound.ipdv.n, 1);
    assert_int_equal(tw_hist_percentile(&m.outbound.ipdv, 50), 5 * US);
    tw_metrics_free(&m);
}

static void test_oneway_unavailable(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    tw_sample_t s = sample(0, 10, 10);
    s.t2 = s.t3 = 0; /* the reflector's times are nonsense */
    s.oneway_na = true;
    s.remote_sync = false;
    tw_metrics_add(&m, &s);
    /* The round trip is t4 - t1 (the residence cannot be taken out); no
     * one-way delay, no residence, the S bit not held against the total. */
    assert_int_equal(m.roundtrip.n, 1);
    assert_int_equal(m.roundtrip.min, 22 * US);
    assert_int_equal(m.outbound.n, 0);
    assert_int_equal(m.inbound.n, 0);
    assert_int_equal(m.residence.n, 0);
    assert_true(m.remote_sync_all);
    tw_metrics_free(&m);
}

static void test_negative_oneway_and_ttl(void **state)
{
    tw_metrics_t m;
    assert_int_equal(tw_metrics_init(&m, true), 0);
    tw_sample_t a = sample(0, -5, 30), b = sample(1, 10, 10);
    b.ttl_out = 60;
    b.ttl_in = 63;
    tw_metrics_add(&m, &a);
    tw_metrics_add(&m, &b);
    assert_int_equal(m.negative_oneway, 1);
    assert_int_equal(m.ttl_out_first, 64);
    assert_int_equal(m.ttl_out_min, 60);
    assert_int_equal(m.ttl_out_max, 64);
    assert_int_equal(m.ttl_in_min, 62);
    assert_int_equal(m.ttl_in_max, 63);
    tw_metrics_free(&m);
}

static void test_merge(void **state)
{
    tw_metrics_t a, b, t;
    assert_int_equal(tw_metrics_init(&a, true), 0);
    assert_int_equal(tw_metrics_init(&b, true), 0);
    tw_metrics_init_total(&t);
    /* Round trips {20, 40} and {60}: the union's mean 40, sample stddev 20. */
    tw_sample_t s0 = sample(0, 9, 9), s1 = sample(1, 19, 19), s2 = sample(0, 29, 29);
    tw_metrics_add(&a, &s0);
    tw_metrics_add(&a, &s1);
    tw_metrics_add(&b, &s2);
    tw_metrics_merge(&t, &a);
    tw_metrics_merge(&t, &b);
    assert_int_equal(t.received, 3);
    assert_int_equal(t.roundtrip.n, 3);
    assert_int_equal(t.roundtrip.min, 18 * US);
    assert_int_equal(t.roundtrip.max, 58 * US);
    assert_true(fabs(t.roundtrip.mean - 38 * US) < 1e-6);
    assert_true(fabs(tw_dirmetrics_stddev(&t.roundtrip) - 20 * US) < 1);
    assert_int_equal(t.roundtrip.hist.n, 3);
    tw_metrics_free(&a);
    tw_metrics_free(&b);
    tw_metrics_free(&t);
}

/* Path changes between consecutive replies, distinct (out, in) TTL pairs
 * in a bounded table, flow label counts, and all of it merged. */
static void test_paths_and_flow_labels(void **state)
{
    (void)state;
    tw_metrics_t a, b, t;
    assert_int_equal(tw_metrics_init(&a, true), 0);
    assert_int_equal(tw_metrics_init(&b, true), 0);
    tw_metrics_init_total(&t);
    /* (64,62) (64,62) (63,62) (63,61) (64,62): 3 changes, 3 pairs. */
    int outs[] = {64, 64, 63, 63, 64}, ins[] = {62, 62, 62, 61, 62};
    for (uint32_t i = 0; i < 5; i++) {
        tw_sample_t s = sample(i, 10, 10);
        s.ttl_out = outs[i];
        s.ttl_in = ins[i];
        s.fl_set = true;
        s.fl_sent = 0x12345;
        s.fl_in = i == 2 ? 0x54321 : 0x12345;
        tw_metrics_add(&a, &s);
    }
    assert_int_equal(a.path_changes, 3);
    assert_int_equal(a.npaths, 3);
    assert_int_equal(a.paths_overflow, 0);
    assert_int_equal(a.fl_reflected, 4);
    assert_int_equal(a.fl_changed, 1);
    /* An unknown outbound TTL (-1) is no change by itself. */
    tw_sample_t u = sample(5, 10, 10);
    u.ttl_out = -1;
    tw_metrics_add(&a, &u);
    assert_int_equal(a.path_changes, 3);
    assert_int_equal(a.npaths, 4); /* (-1, 62) */
    /* No label set: not counted either way. */
    assert_int_equal(a.fl_reflected + a.fl_changed, 5);
    /* A session on more paths than the table holds: the rest counted. */
    for (uint32_t i = 0; i < TW_METRICS_PATHS + 6; i++) {
        tw_sample_t s = sample(i, 10, 10);
        s.ttl_out = 1 + (int)i;
        s.ttl_in = 62;
        tw_metrics_add(&b, &s);
    }
    assert_int_equal(b.npaths, TW_METRICS_PATHS);
    assert_int_equal(b.paths_overflow, 6);
    assert_int_equal(b.path_changes, TW_METRICS_PATHS + 5);
    tw_metrics_merge(&t, &a);
    tw_metrics_merge(&t, &b);
    assert_int_equal(t.path_changes, 3 + TW_METRICS_PATHS + 5);
    assert_int_equal(t.npaths, TW_METRICS_PATHS);
    assert_true(t.paths_overflow >= 6);
    assert_int_equal(t.fl_reflected, 4);
    assert_int_equal(t.fl_changed, 1);
    tw_metrics_free(&a);
    tw_metrics_free(&b);
    tw_metrics_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays_from_timestamps),
        cmocka_unit_test(test_rfc3550_jitter),
        cmocka_unit_test(test_reordering_extent),
        cmocka_unit_test(test_ipdv_consecutive_only),
        cmocka_unit_test(test_oneway_unavailable),
        cmocka_unit_test(test_negative_oneway_and_ttl),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_paths_and_flow_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
