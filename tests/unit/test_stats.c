/* Unit tests for stats: min/max/sum, twampy's RFC 1889 jitter and loss. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* What every loss figure must satisfy: each direction's loss at most the
 * round trip's, together with the unattributed part exactly the round trip
 * (so never above it), and the direction unknown exactly when part of the
 * loss is unattributed. */
static void check_invariants(const tw_loss_t *l)
{
    assert_true(l->outbound <= l->roundtrip);
    assert_true(l->inbound <= l->roundtrip);
    assert_int_equal(l->outbound + l->inbound + l->unattributed, l->roundtrip);
    assert_int_equal(l->unknown == 0, l->unattributed == 0);
}

/* Stateless reflector (rseq == sseq), 10 sent, replies for 0 1 2 4 5 6 8:
 * a stateless reflector gives no information on the direction (nor does a
 * stateful one that lost nothing outbound, which looks the same): n/a. */
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
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 3);
    assert_true(l.unknown & TW_LOSS_STATELESS);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unattributed, 3);
    /* Nothing lost: nothing lost either way, whatever the reflector. */
    l = tw_stats_loss(&s, 9);
    assert_int_equal(l.roundtrip, 2);
    assert_true(l.unknown & TW_LOSS_STATELESS);
}

static void test_loss_none(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 4; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, i, i);
    l = tw_stats_loss(&s, 4);
    check_invariants(&l);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 0);
    assert_int_equal(l.unknown, 0);
}

/* No reply at all: everything lost, in a direction nobody can know (the old
 * figures said 5 lost outbound and 5 inbound of 5). */
static void test_loss_zero_replies(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    l = tw_stats_loss(&s, 5);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 5);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unattributed, 5);
    assert_int_equal(l.unknown, TW_LOSS_EDGES);

    l = tw_stats_loss(&s, 0);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 0);
    assert_int_equal(l.unknown, 0);
}

/* Tail loss: 10 sent, the reflector (its counter at 100 from an earlier run)
 * answered 0..5 and then nothing came back: the last 4 may never have reached
 * it or their replies may have been lost: n/a, not 4 outbound. */
static void test_loss_tail(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 6; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, 100 + i, i);
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 4);
    assert_int_equal(l.unattributed, 4);
    assert_int_equal(l.unknown, TW_LOSS_EDGES);
    /* The same at the head: the first reply is sseq 3. */
    tw_stats_init(&s);
    for (uint32_t i = 3; i < 10; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, 100 + i, i);
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.unattributed, 3);
    assert_int_equal(l.unknown, TW_LOSS_EDGES);
}

static void test_loss_clamped(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    /* A reflector counter far beyond what we sent (a counter kept from an
     * earlier run), 3 of 10 answered: the 7 after the last reply cannot be
     * given a direction; never an inbound loss above the round trip's. */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, 998, 0);
    tw_stats_add(&s, MS, MS, MS, 999, 1);
    tw_stats_add(&s, MS, MS, MS, 1000, 2);
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 7);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unattributed, 7);

    /* the largest counter does not overflow */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, UINT32_MAX, 0);
    l = tw_stats_loss(&s, 3);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 2);
    assert_int_equal(l.unattributed, 2);
    tw_stats_add(&s, MS, MS, MS, 0, 2); /* the counter wraps: a restart as far as we know */
    l = tw_stats_loss(&s, 3);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 1);
    assert_int_equal(l.unknown, TW_LOSS_RESTART);

    /* more replies than sent (e.g. duplicates counted by a caller): never negative */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS, MS, 0, 0);
    tw_stats_add(&s, MS, MS, MS, 1, 1);
    tw_stats_add(&s, MS, MS, MS, 2, 2);
    l = tw_stats_loss(&s, 2);
    check_invariants(&l);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.roundtrip, 0);
}

/* Probes further apart than the reflector's idle reset (twampy: 30 s): its
 * counter restarts for every probe, each reply carries rseq 0. Nothing was
 * lost, so nothing was lost either way (the old figure: 2 of 3 outbound,
 * 66.7%). */
static void test_loss_slow_probe(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 3; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, 0, i);
    l = tw_stats_loss(&s, 3);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 0);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unknown, 0);
    assert_int_equal(l.restarts, 2);

    /* Once a minute for an hour, 3 probes lost: where, nobody can tell. The
     * old figure: 60 - 1 = 59 lost outbound of 3 lost. */
    tw_stats_init(&s);
    for (uint32_t i = 0; i < 60; i++)
        if (i != 10 && i != 11 && i != 40)
            tw_stats_add(&s, MS, MS / 2, MS / 2, 0, i);
    l = tw_stats_loss(&s, 60);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 3);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unattributed, 3);
    assert_int_equal(l.unknown, TW_LOSS_RESTART);
}

/* The counter restarts in the middle of a run (the reflector evicted us):
 *   sseq  0 1 2 3 4 5 6 7 8 9 | 10 11 12 13 14 ... 19
 *   rseq  0 1 2 3 - 4 5 6 7 8 |  0  1  2  -  3 ...  8
 * sseq 4 never reached it (outbound: its counter has no gap), the reply to
 * sseq 7 (rseq 6) was lost (inbound: a gap in its numbers); then the counter
 * restarts, the reply to sseq 10 (rseq 0) is lost, and sseq 13 is lost on
 * the way out. Epoch 1: 1 outbound, 1 inbound; epoch 2: 1 outbound; sseq 10,
 * lost at the restart, has no direction. The old figure was 20 - 9 = 11
 * outbound of 4 lost. */
static void test_loss_restart_mid_run(void **state)
{
    tw_stats_t s;
    tw_loss_t l;
    static const int rseq[20] = {0, 1, 2, 3, -1, 4, 5, -1, 7, 8, -1, 1, 2, -1, 3, 4, 5, 6, 7, 8};

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 20; i++)
        if (rseq[i] >= 0)
            tw_stats_add(&s, MS, MS / 2, MS / 2, (uint32_t)rseq[i], i);
    l = tw_stats_loss(&s, 20);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 4);
    assert_int_equal(l.outbound, 2);
    assert_int_equal(l.inbound, 1);
    assert_int_equal(l.unattributed, 1);
    assert_int_equal(l.unknown, TW_LOSS_RESTART);
    assert_int_equal(l.restarts, 1);
}

/* Restarts where nothing is lost around them (eviction under load, a
 * reflector restarted between two probes) cost nothing: the losses inside
 * each epoch keep their direction exactly. Three epochs of 10:
 *   epoch 1 (sseq 0..9):   sseq 3 lost outbound, reply to sseq 6 lost
 *   epoch 2 (sseq 10..19): sseq 16 and 17 lost outbound
 *   epoch 3 (sseq 20..29): replies to sseq 25, 26, 27 lost
 * Then what cannot be told from a restart: sseq 0 answered with rseq 0,
 * sseq 1 and 2 lost, sseq 3 answered with rseq 1. Either 1 and 2 never
 * reached the reflector, or it restarted after sseq 0 and numbered sseq 2 (or
 * 1) 0: the counter is too low to rule a restart out. */
static void test_loss_restarts_exact(void **state)
{
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (uint32_t e = 0; e < 3; e++) {
        uint32_t counter = 0;
        for (uint32_t k = 0; k < 10; k++) {
            uint32_t seq = e * 10 + k;
            bool out_lost = seq == 3 || seq == 16 || seq == 17;
            bool in_lost = seq == 6 || seq == 25 || seq == 26 || seq == 27;
            if (out_lost)
                continue;
            uint32_t r = counter++;
            if (!in_lost)
                tw_stats_add(&s, MS, MS / 2, MS / 2, r, seq);
        }
    }
    l = tw_stats_loss(&s, 30);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 7);
    assert_int_equal(l.outbound, 3);
    assert_int_equal(l.inbound, 4);
    assert_int_equal(l.unknown, 0);
    assert_int_equal(l.restarts, 2);

    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 0, 0);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 1, 3);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 2, 4);
    l = tw_stats_loss(&s, 5);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 2);
    assert_int_equal(l.unattributed, 2);
    assert_int_equal(l.unknown, TW_LOSS_RESTART);
    /* sseq 0 1 2 - 4 - - 7 8 with rseq 0 1 2 - 3 - - 6 7: sseq 3 lost on
     * the way out (rseq 3 > the gap of 1), and a restart before sseq 7 would
     * have numbered 6 requests in a gap of 2: there was none, the replies to
     * 5 and 6 were lost on the way back. */
    static const uint32_t sq[] = {0, 1, 2, 4, 7, 8}, rq[] = {0, 1, 2, 3, 6, 7};
    tw_stats_init(&s);
    for (unsigned i = 0; i < 6; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, rq[i], sq[i]);
    l = tw_stats_loss(&s, 9);
    check_invariants(&l);
    assert_int_equal(l.outbound, 1);
    assert_int_equal(l.inbound, 2);
    assert_int_equal(l.unknown, 0);
}

/* Reordering, duplication and a restart together. The reflector receives
 *   sseq 0 2 1 3 3' 5 6 7 | 8 9    (sseq 4 lost outbound, 3 duplicated)
 *   rseq 0 1 2 3 4  5 6 7 | 0 1    (restart before sseq 8)
 * the reply to sseq 6 is lost, and they come back in the order
 *   0 1 2 3 3' 5 7 9 8
 * (the sender drops the duplicate reply 3', counting that the reflector
 * numbered it anew). Epoch 1 (sseq 0..7) lost 4 and 6 and misses rseq 4
 * and 6: both could be inbound, but one of the missing numbers is the
 * duplicate's: at least 1 inbound, 1 without a direction. The old figure:
 * outbound 10 - (7 + 1 - 1) = 3 of 2 lost. */
static void test_loss_reorder_dup_restart(void **state)
{
    static const uint32_t sseq[] = {0, 1, 2, 3, 5, 7, 9, 8};
    static const uint32_t rseq[] = {0, 2, 1, 3, 5, 7, 1, 0};
    tw_stats_t s;
    tw_loss_t l;

    tw_stats_init(&s);
    for (unsigned i = 0; i < 8; i++) {
        tw_stats_add(&s, MS, MS / 2, MS / 2, rseq[i], sseq[i]);
        if (sseq[i] == 3)
            s.recounted++; /* the duplicate reply 3' with rseq 4, as the sender counts it */
    }
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 2);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 1);
    assert_int_equal(l.unattributed, 1);
    assert_int_equal(l.unknown, TW_LOSS_DUPLICATED);
    assert_int_equal(l.restarts, 1);

    /* Without the duplicate, reordering inside an epoch keeps the figures
     * exact: the reflector receives 0 2 1 3 5 6 7 8 9 (rseq 0..8), 4 lost on
     * the way there, the reply to 6 on the way back; the replies come back
     * in the order 0 2 1 3 7 5 8 9. */
    static const uint32_t sseq2[] = {0, 2, 1, 3, 7, 5, 8, 9};
    static const uint32_t rseq2[] = {0, 1, 2, 3, 6, 4, 7, 8};
    tw_stats_init(&s);
    for (unsigned i = 0; i < 8; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, rseq2[i], sseq2[i]);
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 2);
    assert_int_equal(l.outbound, 1);
    assert_int_equal(l.inbound, 1);
    assert_int_equal(l.unknown, 0);

    /* The same with the reply to 8 lost too: sseq 8 lies within the
     * reordering's reach of the last reply, so it may have reached the
     * reflector after 9 and taken a number we never saw (and would look
     * lost on the way out): one outbound loss is unsure. */
    tw_stats_init(&s);
    for (unsigned i = 0; i < 6; i++)
        tw_stats_add(&s, MS, MS / 2, MS / 2, rseq2[i], sseq2[i]);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 8, 9);
    l = tw_stats_loss(&s, 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 3);
    assert_int_equal(l.unknown, TW_LOSS_REORDERED);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 2); /* rseq 5 and 7 never came back */
    assert_int_equal(l.unattributed, 1);

    /* Reordered across a restart: the first two requests of the run reach
     * the reflector swapped (rseq 1 then 0), which reads like a restart;
     * sseq 2 lost on the way out. Read as a restart, rseq 1 would be a
     * reply lost on the way back in the second epoch: only what both
     * readings agree on is kept. */
    tw_stats_init(&s);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 1, 0);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 0, 1);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 2, 3);
    tw_stats_add(&s, MS, MS / 2, MS / 2, 3, 4);
    l = tw_stats_loss(&s, 5);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, 1);
    assert_int_equal(l.outbound, 0);
    assert_int_equal(l.inbound, 0);
    assert_int_equal(l.unattributed, 1);
    assert_true(l.unknown & TW_LOSS_RESTART);
}

/* A reply may come back long after later ones: within the window it is
 * placed in sequence order (exact figures); beyond it, it is counted but
 * the direction of the loss becomes n/a rather than wrong. */
static void test_loss_window(void **state)
{
    tw_stats_t *s = malloc(sizeof *s);
    tw_loss_t l;
    const uint32_t n = 5 * TW_STATS_WINDOW;
    assert_non_null(s);

    /* Every 10th request lost outbound, every 10th + 5 reply lost inbound,
     * the reply to sseq 1 held back until the end of the window. */
    tw_stats_init(s);
    uint32_t counter = 0, held = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i % 10 == 3)
            continue;
        uint32_t r = counter++;
        if (i % 10 == 5)
            continue;
        if (i == 1) {
            held = r;
            continue;
        }
        tw_stats_add(s, MS, MS / 2, MS / 2, r, i);
        if (i == TW_STATS_WINDOW - 2)
            tw_stats_add(s, MS, MS / 2, MS / 2, held, 1);
    }
    l = tw_stats_loss(s, n);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, n / 5);
    assert_int_equal(l.outbound, n / 10);
    assert_int_equal(l.inbound, n / 10);
    assert_int_equal(l.unknown, 0);
    assert_int_equal(s->unplaced, 0);

    /* Held back past the window: n/a, and still no impossible figure. */
    tw_stats_init(s);
    counter = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i % 10 == 3)
            continue;
        uint32_t r = counter++;
        if (i % 10 == 5)
            continue;
        if (i == 1) {
            held = r;
            continue;
        }
        tw_stats_add(s, MS, MS / 2, MS / 2, r, i);
        if (i == 3 * TW_STATS_WINDOW)
            tw_stats_add(s, MS, MS / 2, MS / 2, held, 1);
    }
    l = tw_stats_loss(s, n);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, n / 5);
    assert_int_equal(s->unplaced, 1);
    assert_true(l.unknown & TW_LOSS_REORDERED);
    assert_true(l.outbound <= n / 10);
    assert_true(l.inbound <= n / 10);
    free(s);
}

/* Sender sequence numbers wrap at 2^32: a run that crosses the wrap keeps
 * the order (the index over the run goes on). */
static void test_loss_seq_wrap(void **state)
{
    tw_stats_t s;
    tw_loss_t l;
    const uint64_t base = UINT32_MAX - 4; /* the first reply's sequence number */

    tw_stats_init(&s);
    /* sseq base .. base+9 crosses 2^32; base+3 lost outbound, reply to
     * base+6 lost; rseq from 1000. */
    uint32_t counter = 1000;
    for (uint64_t k = 0; k < 10; k++) {
        if (k == 3)
            continue;
        uint32_t r = counter++;
        if (k != 6)
            tw_stats_add(&s, MS, MS / 2, MS / 2, r, (uint32_t)(base + k));
    }
    l = tw_stats_loss(&s, base + 10);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, base + 2); /* everything before base counts as lost */
    assert_int_equal(l.outbound, 1);
    assert_int_equal(l.inbound, 1);
    assert_int_equal(l.unattributed, base);
}

/* tw_loss_add: a total over sessions sums the counts and keeps the reasons. */
static void test_loss_add(void **state)
{
    tw_loss_t t, a = {.roundtrip = 3, .outbound = 2, .inbound = 1},
                 b = {.roundtrip = 4,
                      .outbound = 1,
                      .unattributed = 3,
                      .unknown = TW_LOSS_EDGES,
                      .restarts = 2};
    memset(&t, 0, sizeof t);
    tw_loss_add(&t, &a);
    assert_int_equal(t.unknown, 0);
    tw_loss_add(&t, &b);
    check_invariants(&t);
    assert_int_equal(t.roundtrip, 7);
    assert_int_equal(t.outbound, 3);
    assert_int_equal(t.inbound, 1);
    assert_int_equal(t.unattributed, 3);
    assert_int_equal(t.unknown, TW_LOSS_EDGES);
    assert_int_equal(t.restarts, 2);
}

static void test_loss_reasons(void **state)
{
    char buf[400];
    tw_loss_t l = {.roundtrip = 2,
                   .unattributed = 2,
                   .unknown = TW_LOSS_EDGES | TW_LOSS_RESTART,
                   .restarts = 1};
    assert_string_equal(tw_loss_reason_code(TW_LOSS_EDGES), "edges");
    assert_string_equal(tw_loss_reason_code(TW_LOSS_RESTART), "counter_restart");
    assert_string_equal(tw_loss_reason_code(TW_LOSS_STATELESS), "stateless");
    assert_string_equal(tw_loss_reason_code(TW_LOSS_DUPLICATED), "duplicated");
    assert_string_equal(tw_loss_reason_code(TW_LOSS_REORDERED), "reordered");
    assert_null(tw_loss_reason_code(0));
    assert_null(tw_loss_reason_code(32));
    tw_loss_reason_text(&l, buf, sizeof buf);
    assert_non_null(strstr(buf, "lost before the first reply or after the last one"));
    assert_non_null(strstr(buf, "; lost where the reflector's sequence counter restarted"));
    assert_non_null(strstr(buf, "(1 restart;"));
    /* A short buffer: cut, terminated. */
    tw_loss_reason_text(&l, buf, 10);
    assert_int_equal(strlen(buf), 9);
}

/* A reflector simulated packet by packet, the truth known: the figures
 * never contradict it. Without reordering or duplication each direction's
 * figure is at most the truth, and exactly it when the direction is known;
 * with them (requests swapped on the way there, replies on the way back,
 * requests duplicated) the invariants still hold. */
static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

struct sim {
    uint32_t n;
    double p_out, p_in, p_restart; /* per request */
    double p_swap_out, p_swap_in;  /* adjacent swaps on the way there, back */
    double p_dup;                  /* requests duplicated on the way there */
};

static void simulate(const struct sim *c, uint64_t *known_runs)
{
    const uint32_t n = c->n;
    tw_stats_t *s = malloc(sizeof *s);
    uint32_t *arr = malloc(n * sizeof *arr), *order = malloc(n * sizeof *order);
    uint32_t *rs = malloc(n * sizeof *rs);
    bool *back = calloc(n, sizeof *back);
    assert_true(s && arr && order && rs && back);
    tw_stats_init(s);
    for (uint32_t i = 0; i < n; i++)
        arr[i] = i;
    for (uint32_t k = 0; k + 1 < n; k++) /* the order the reflector receives them in */
        if (unif() < c->p_swap_out) {
            uint32_t t = arr[k];
            arr[k] = arr[k + 1];
            arr[k + 1] = t;
        }
    uint64_t true_out = 0, true_in = 0, recount = 0;
    uint32_t counter = 0, no = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = arr[k];
        if (unif() < c->p_out) {
            true_out++;
            continue;
        }
        if (unif() < c->p_restart)
            counter = 0;
        rs[i] = counter++;
        if (unif() < c->p_dup) {
            counter++; /* numbered twice; the sender sees the second reply */
            recount++;
        }
        if (unif() < c->p_in) {
            true_in++;
            continue;
        }
        back[i] = true;
    }
    for (uint32_t i = 0; i < n; i++)
        if (back[i])
            order[no++] = i;
    for (uint32_t k = 0; k + 1 < no; k++) /* the order the replies come back in */
        if (unif() < c->p_swap_in) {
            uint32_t t = order[k];
            order[k] = order[k + 1];
            order[k + 1] = t;
        }
    for (uint32_t k = 0; k < no; k++)
        tw_stats_add(s, MS, MS / 2, MS / 2, rs[order[k]], order[k]);
    s->recounted = recount;
    tw_loss_t l = tw_stats_loss(s, n);
    check_invariants(&l);
    assert_int_equal(l.roundtrip, true_out + true_in);
    if (c->p_swap_out == 0 && c->p_dup == 0) {
        if (l.outbound > true_out || l.inbound > true_in)
            fail_msg("outbound %llu (true %llu), inbound %llu (true %llu)",
                     (unsigned long long)l.outbound, (unsigned long long)true_out,
                     (unsigned long long)l.inbound, (unsigned long long)true_in);
        if (!l.unknown) {
            assert_int_equal(l.outbound, true_out);
            assert_int_equal(l.inbound, true_in);
            (*known_runs)++;
        }
    }
    free(s);
    free(arr);
    free(order);
    free(rs);
    free(back);
}

static void test_loss_simulated(void **state)
{
    static const struct sim cases[] = {
        {500, 0.02, 0.02, 0, 0, 0, 0},
        {500, 0.02, 0.02, 0.01, 0, 0, 0},
        {300, 0.1, 0.1, 0.05, 0, 0, 0},
        {50, 0.0, 0.1, 0.0, 0, 0, 0},
        {500, 0.02, 0.02, 0.01, 0, 0.05, 0},
        {500, 0.02, 0.02, 0.01, 0.05, 0.05, 0},
        {500, 0.02, 0.02, 0.01, 0, 0, 0.02},
        {2000, 0.3, 0.3, 0.02, 0.3, 0.3, 0.1},
        {3000, 0.01, 0.01, 0.001, 0.01, 0.01, 0.001},
    };
    uint64_t known = 0;
    for (int t = 0; t < 100; t++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            simulate(&cases[k], &known);
    /* The exact case is common, not a rarity the test never meets. */
    assert_true(known > 100);
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
        cmocka_unit_test(test_loss_slow_probe),
        cmocka_unit_test(test_loss_restart_mid_run),
        cmocka_unit_test(test_loss_restarts_exact),
        cmocka_unit_test(test_loss_reorder_dup_restart),
        cmocka_unit_test(test_loss_window),
        cmocka_unit_test(test_loss_seq_wrap),
        cmocka_unit_test(test_loss_add),
        cmocka_unit_test(test_loss_reasons),
        cmocka_unit_test(test_loss_simulated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
