#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sendmodel.h"

#define MS 1000000LL

/* Sends that take 5000 + 1000 * m ns, in chunks of 4 and of 16: the model
 * finds the fixed cost and the cost per datagram, so that the 10th datagram
 * of a chunk leaves at about fixed / 2 + 9 * per after the send starts. One
 * size alone (4) is not enough: nothing is extrapolated then. */
static void test_fit(void **state)
{
    (void)state;
    tw_send_model_t sm = {0};
    int64_t now = 1000 * MS, fixed, per;
    tw_send_model_get(&sm, now, &fixed, &per);
    assert_true(fixed == 0 && per == 0);
    for (int i = 0; i < 50; i++)
        tw_send_model_add(&sm, 4, 5000 + 4 * 1000, now + i);
    tw_send_model_get(&sm, now + 50, &fixed, &per);
    assert_true(fixed == 0 && per == 0);
    for (int i = 0; i < 50; i++) {
        tw_send_model_add(&sm, 4, 5000 + 4 * 1000, now + 100 + i);
        tw_send_model_add(&sm, 16, 5000 + 16 * 1000, now + 100 + i);
    }
    tw_send_model_get(&sm, now + 200, &fixed, &per);
    assert_in_range(per, 990, 1010);
    assert_in_range(fixed, 4900, 5100);
}

/* A stall (one send 100 times as long) moves the estimate by at most 1/8 of
 * twice it; a lasting change (per 1000 -> 3000) is followed within rounds. */
static void test_outlier_and_change(void **state)
{
    (void)state;
    tw_send_model_t sm = {0};
    int64_t now = MS, fixed, per;
    for (int i = 0; i < 50; i++) {
        tw_send_model_add(&sm, 4, 4000, now);
        tw_send_model_add(&sm, 16, 16000, now);
    }
    tw_send_model_add(&sm, 16, 1600000, now);
    tw_send_model_get(&sm, now, &fixed, &per);
    assert_true(per <= 1000 + 16000 / 8 / 12 + 1);
    for (int i = 0; i < 100; i++) {
        tw_send_model_add(&sm, 4, 12000, now);
        tw_send_model_add(&sm, 16, 48000, now);
    }
    tw_send_model_get(&sm, now, &fixed, &per);
    assert_in_range(per, 2950, 3050);
}

/* Under light load only small sends happen: the large ones seen a while ago
 * are forgotten, and nothing is extrapolated from them. */
static void test_stale(void **state)
{
    (void)state;
    tw_send_model_t sm = {0};
    int64_t now = MS, fixed, per;
    tw_send_model_add(&sm, 4, 4000, now);
    tw_send_model_add(&sm, 16, 16000, now);
    tw_send_model_get(&sm, now, &fixed, &per);
    assert_true(per > 0);
    int64_t later = now + TW_SEND_MODEL_AGE_NS + 1;
    tw_send_model_add(&sm, 1, 30000, later);
    tw_send_model_get(&sm, later, &fixed, &per);
    assert_true(fixed == 0 && per == 0);
}

/* Nonsense in, nothing out: negative durations and empty sends are ignored;
 * a large send cheaper than a small one does not give a negative cost. */
static void test_robust(void **state)
{
    (void)state;
    tw_send_model_t sm = {0};
    int64_t now = MS, fixed, per;
    tw_send_model_add(&sm, 4, -5, now);
    tw_send_model_add(&sm, 0, 100, now);
    assert_int_equal(sm.at[0], 0);
    tw_send_model_add(&sm, 4, 40000, now);
    tw_send_model_add(&sm, 16, 10000, now);
    tw_send_model_get(&sm, now, &fixed, &per);
    assert_int_equal(per, 0);
    assert_true(fixed >= 0);
    int64_t est = 0;
    tw_smooth(&est, 800);
    assert_int_equal(est, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_outlier_and_change),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_robust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
