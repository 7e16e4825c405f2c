/* Unit tests for stats: min/max/sum, twampy's RFC 1889 jitter and loss. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "stats.h"

#define MS 1000000LL /* ns per ms */

/* All expected values below are exact binary fractions, so compare closely. */
#define assert_dbl(a, b)                                                                           \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (fabs(a_ - b_) > 1e-6)                                                                  \
            fail_msg("%s = %.9f, expected %.9f", #a, a_, b_);                                      \
    } while (0)

static void test_init(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    assert_int_equal(s.received, 0);
    assert_int_equal(s.max_rseq, 0);
    assert_true(s.stateless);
    assert_int_equal(s.outbound.n, 0);
    assert_int_equal(s.inbound.n, 0);
    assert_int_equal(s.roundtrip.n, 0);
    assert_dbl(s.roundtrip.sum, 0);
    assert_dbl(s.roundtrip.jitter, 0);
}

/* Round trip 10, 12, 11, 15 ms. By hand:
 *   10: first sample, jitter 0
 *   12: second sample, jitter = |10 - 12| = 2
 *   11: jitter = 2 + (|12 - 11| - 2) / 16 = 2 - 1/16 = 1.9375
 *   15: jitter = 1.9375 + (|11 - 15| - 1.9375) / 16 = 1.9375 + 2.0625 / 16 = 2.06640625
 * min 10, max 15, sum 48 (avg 12). */
static void test_jitter_10_12_11_15(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 10 * MS, 4 * MS, 6 * MS, 0, 0);
    assert_dbl(s.roundtrip.jitter, 0);
    assert_int_equal(s.roundtrip.last, 10 * MS);

    tw_stats_add(&s, 12 * MS, 5 * MS, 7 * MS, 1, 1);
    assert_dbl(s.roundtrip.jitter, 2000000.0);
    assert_int_equal(s.roundtrip.last, 12 * MS);

    tw_stats_add(&s, 11 * MS, 5 * MS, 6 * MS, 2, 2);
    assert_dbl(s.roundtrip.jitter, 1937500.0);

    tw_stats_add(&s, 15 * MS, 7 * MS, 8 * MS, 3, 3);
    assert_dbl(s.roundtrip.jitter, 2066406.25);

    assert_int_equal(s.roundtrip.n, 4);
    assert_int_equal(s.roundtrip.min, 10 * MS);
    assert_int_equal(s.roundtrip.max, 15 * MS);
    assert_dbl(s.roundtrip.sum, 48.0 * MS);
    assert_int_equal(s.roundtrip.last, 15 * MS);
    assert_dbl(s.roundtrip.sum / (double)s.roundtrip.n, 12.0 * MS);

    /* outbound 4, 5, 5, 7: jitter 0, 1, 1 + (0 - 1)/16 = 0.9375,
     * 0.9375 + (2 - 0.9375)/16 = 0.9375 + 0.06640625 = 1.00390625 */
    assert_int_equal(s.outbound.min, 4 * MS);
    assert_int_equal(s.outbound.max, 7 * MS);
    assert_dbl(s.outbound.sum, 21.0 * MS);
    assert_dbl(s.outbound.jitter, 1003906.25);

    /* inbound 6, 7, 6, 8: jitter 0, 1, 1 + (1 - 1)/16 = 1, 1 + (2 - 1)/16 = 1.0625 */
    assert_int_equal(s.inbound.min, 6 * MS);
    assert_int_equal(s.inbound.max, 8 * MS);
    assert_dbl(s.inbound.sum, 27.0 * MS);
    assert_dbl(s.inbound.jitter, 1062500.0);

    assert_int_equal(s.received, 4);
    assert_int_equal(s.max_rseq, 3);
    assert_true(s.stateless);
}

/* Negative one-way delays (clock offset) are kept as they are.
 * Outbound 3, -1, 2, -2, 0 ms; jitter by hand:
 *   0
 *   |3 - (-1)| = 4
 *   4 + (|-1 - 2| - 4)/16 = 4 - 1/16 = 3.9375
 *   3.9375 + (|2 - (-2)| - 3.9375)/16 = 3.9375 + 0.0625/16 = 3.94140625
 *   3.94140625 + (|-2 - 0| - 3.94140625)/16 = 3.94140625 - 1.94140625/16 = 3.820068359375
 * min -2, max 3, sum 2. */
static void test_negative_delays(void **state)
{
    static const int64_t ob[] = {3, -1, 2, -2, 0};
    static const double jit[] = {0, 4, 3.9375, 3.94140625, 3.820068359375};
    tw_stats_t s;

    tw_stats_init(&s);
    for (unsigned i = 0; i < 5; i++) {
        tw_stats_add(&s, 20 * MS, ob[i] * MS, (20 - ob[i]) * MS, i, i);
        assert_dbl(s.outbound.jitter, jit[i] * MS);
        assert_int_equal(s.outbound.last, ob[i] * MS);
    }
    assert_int_equal(s.outbound.min, -2 * MS);
    assert_int_equal(s.outbound.max, 3 * MS);
    assert_dbl(s.outbound.sum, 2.0 * MS);
    /* inbound 17, 21, 18, 22, 20: the same differences, so the same jitter */
    assert_dbl(s.inbound.jitter, 3.820068359375 * MS);
    assert_int_equal(s.inbound.min, 17 * MS);
    assert_int_equal(s.inbound.max, 22 * MS);
    /* constant round trip: no jitter */
    assert_dbl(s.roundtrip.jitter, 0);
    assert_int_equal(s.roundtrip.min, 20 * MS);
    assert_int_equal(s.roundtrip.max, 20 * MS);
}

static void test_single_sample(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 7, -3, 10, 0, 0);
    assert_int_equal(s.roundtrip.min, 7);
    assert_int_equal(s.roundtrip.max, 7);
    assert_dbl(s.roundtrip.sum, 7);
    assert_dbl(s.roundtrip.jitter, 0);
    assert_int_equal(s.outbound.min, -3);
    assert_int_equal(s.outbound.max, -3);
    assert_dbl(s.outbound.sum, -3);
    assert_int_equal(s.inbound.min, 10);
    assert_int_equal(s.received, 1);
    assert_int_equal(s.max_rseq, 0);
    assert_true(s.stateless);
}

/* The second sample sets the jitter to the whole difference, in either direction. */
static void test_second_sample(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 30 * MS, 0, 0, 0, 0);
    tw_stats_add(&s, 5 * MS, 0, 0, 1, 1);
    assert_dbl(s.roundtrip.jitter, 25.0 * MS);
    /* third: 25 + (|5 - 5| - 25)/16 = 25 - 1.5625 = 23.4375 */
    tw_stats_add(&s, 5 * MS, 0, 0, 2, 2);
    assert_dbl(s.roundtrip.jitter, 23.4375 * MS);
    assert_int_equal(s.roundtrip.min, 5 * MS);
    assert_int_equal(s.roundtrip.max, 30 * MS);
}

static void test_large_delays(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 5000 * MS, 2500 * MS, 2500 * MS, 0, 0);
    tw_stats_add(&s, 3600000 * MS, 0, 3600000 * MS, 1, 1);
    assert_int_equal(s.roundtrip.max, 3600000 * MS);
    assert_dbl(s.roundtrip.jitter, 3595000.0 * MS);
    assert_dbl(s.roundtrip.sum, 3605000.0 * MS);
}

static void test_stateless_flag_and_max_rseq(void **state)
{
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 1, 1, 1, 0, 0);
    tw_stats_add(&s, 1, 1, 1, 1, 1);
    assert_true(s.stateless);
    tw_stats_add(&s, 1, 1, 1, 2, 3); /* the reflector missed sseq 2 */
    assert_false(s.stateless);
    tw_stats_add(&s, 1, 1, 1, 3, 4);
    tw_stats_add(&s, 1, 1, 1, 5, 5); /* equal again: still not stateless */
    assert_false(s.stateless);
    assert_int_equal(s.max_rseq, 5);
    tw_stats_add(&s, 1, 1, 1, 4, 6); /* reordered: the maximum stays */
    assert_int_equal(s.max_rseq, 5);
    assert_int_equal(s.received, 6);
}

/* Stateful reflector, 10 sent. Our sseq 3 and 7 never reach it (outbound loss);
 * its reply to sseq 5 (its rseq 4) is lost on the way back (inbound loss):
 *   sseq 0 1 2 - 4 5 6 - 8 9
 *   rseq 0 1 2 - 3 4 5 - 6 7
 * replies received: 7 of them, max_rseq 7 -> it received 8 of our 10:
 *   outbound 10 - 8 = 2, inbound 8 - 7 = 1, round trip 10 - 7 = 3. */
static void test_loss_stateful(void **state)
{
    static const uint32_t rseq[] = {0, 1, 2, 3, 5, 6, 7};
    static const uint32_t sseq[] = {0, 1, 2, 4, 6, 8, 9};
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (unsigned i = 0; i < 7; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, rseq[i], sseq[i]);
    assert_false(s.stateless);
    assert_int_equal(s.max_rseq, 7);
    l = tw_stats_loss(&s, 10);
    assert_int_equal(l.outbound, 2);
    assert_int_equal(l.inbound, 1);
    assert_int_equal(l.roundtrip, 3);
}

/* Stateless reflector (rseq == sseq), 10 sent, replies for 0 1 2 4 5 6 8:
 * received 7, max_rseq 8 -> counted as 9 reflected:
 *   outbound 10 - 9 = 1, inbound 9 - 7 = 2, round trip 3. */
static void test_loss_stateless(void **state)
{
    static const uint32_t seq[] = {0, 1, 2, 4, 5, 6, 8};
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (unsigned i = 0; i < 7; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, seq[i], seq[i]);
    assert_true(s.stateless);
    assert_int_equal(s.max_rseq, 8);
    l = tw_stats_loss(&s, 10);
    assert_int_equal(l.outbound, 1);
    assert_int_equal(l.inbound, 2);
    assert_int_equal(l.roundtrip, 3);
}

static void test_loss_none(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 4; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, i, i);
    l = tw_stats_loss(&s, 4);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 0);
}

static void test_loss_zero_replies(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    l = tw_stats_loss(&s, 5);
    assert_int_equal(l.outbound, 5);
    assert_int_equal(l.inbound, 5);
    assert_int_equal(l.roundtrip, 5);

    l = tw_stats_loss(&s, 0);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 0);
}

/* Tail loss: 10 sent, the reflector answered 0..5 and then nothing arrived:
 * it counted 6, so the 4 missing are outbound. */
static void test_loss_tail(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 6; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, i, i);
    l = tw_stats_loss(&s, 10);
    assert_int_equal(l.outbound, 4);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 4);
}

static void test_loss_clamped(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    /* a reflector counter far beyond what we sent: outbound 0, inbound at most sent */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, 998, 0);
    tw_stats_add(&s, MS, MS, MS, 999, 1);
    tw_stats_add(&s, MS, MS, MS, 1000, 2);
    l = tw_stats_loss(&s, 10);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 10);
    assert_int_equal(l.roundtrip, 7);

    /* the largest counter does not overflow */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, UINT32_MAX, 0);
    l = tw_stats_loss(&s, 3);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 3);
    assert_int_equal(l.roundtrip, 2);

    /* more replies than sent (e.g. duplicates counted by a caller): never negative */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, 0, 0);
    tw_stats_add(&s, MS, MS, MS, 1, 1);
    tw_stats_add(&s, MS, MS, MS, 2, 2);
    l = tw_stats_loss(&s, 2);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_jitter_10_12_11_15),
        cmocka_unit_test(test_negative_delays),
        cmocka_unit_test(test_single_sample),
        cmocka_unit_test(test_second_sample),
        cmocka_unit_test(test_large_delays),
        cmocka_unit_test(test_stateless_flag_and_max_rseq),
        cmocka_unit_test(test_loss_stateful),
        cmocka_unit_test(test_loss_stateless),
        cmocka_unit_test(test_loss_none),
        cmocka_unit_test(test_loss_zero_replies),
        cmocka_unit_test(test_loss_tail),
        cmocka_unit_test(test_loss_clamped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
