/* Unit tests for phc: the conversion of NIC clock (PHC) time to system time,
 * fed by a made-up offset table (no NIC, no /dev/ptp). The fake PHC runs
 * 37 s ahead of the system clock (TAI, as ptp4l keeps it) and DRIFT_PPB fast;
 * every conversion is checked against the exact answer to the nanosecond. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phc.h"

#define SEC TW_NS_PER_SEC
#define TAI_OFFSET (37 * SEC)
#define DRIFT_PPB 50000 /* the PHC gains 50 ppm on the system clock */
#define SYS0 ((tw_time_t)1700000000 * SEC)

/* The fake PHC: phc = sys + 37 s + drift * (sys - SYS0) (+ step after step_at). */
typedef struct fake {
    tw_time_t sys;  /* system time of the next sample */
    int64_t period; /* between samples */
    int64_t step;   /* added to the PHC from step_at on */
    tw_time_t step_at;
    const int64_t *noise; /* ns added to the sample's system time, cycled; NULL none */
    int nnoise, k;
    int fail; /* the next sample fails with this -errno */
} fake_t;

static tw_time_t fake_phc_of(const fake_t *f, tw_time_t sys)
{
    tw_time_t d = sys - SYS0;
    /* exact: d * DRIFT_PPB / 1e9 with d a multiple of 1e5 ns in these tests */
    tw_time_t phc = sys + TAI_OFFSET + d / 100000 * (DRIFT_PPB / 10000);
    if (f->step && sys >= f->step_at)
        phc += f->step;
    return phc;
}

static int fake_source(void *arg, tw_phc_sample_t *out)
{
    fake_t *f = arg;
    if (f->fail)
        return f->fail;
    out->phc = fake_phc_of(f, f->sys);
    out->sys = f->sys + (f->noise ? f->noise[f->k++ % f->nnoise] : 0);
    out->window = 500;
    f->sys += f->period;
    return 0;
}

static void feed(tw_phc_t *c, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(tw_phc_update(c), 0);
}

/* The largest |error| converting the PHC time of every system time in
 * [from, to] (step 100 us), in ns. */
static int64_t max_error(const tw_phc_t *c, const fake_t *f, tw_time_t from, tw_time_t to)
{
    int64_t worst = 0;
    for (tw_time_t sys = from; sys <= to; sys += 100000) {
        tw_time_t got;
        assert_int_equal(tw_phc_to_sys(c, fake_phc_of(f, sys), &got), 0);
        int64_t e = got > sys ? got - sys : sys - got;
        if (e > worst)
            worst = e;
    }
    return worst;
}

static void test_empty_table(void **st)
{
    (void)st;
    tw_phc_t c;
    fake_t f = {.sys = SYS0, .period = SEC, .fail = -EIO};
    tw_phc_init(&c, fake_source, &f);
    tw_time_t sys = 12345;
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET, &sys), -ENODATA);
    assert_int_equal(sys, 12345);
    /* A failing source leaves the table empty and says why. */
    assert_int_equal(tw_phc_update(&c), -EIO);
    assert_int_equal(c.failures, 1);
    assert_int_equal(c.last_error, -EIO);
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET, &sys), -ENODATA);
    assert_non_null(strstr(tw_phc_strerror(-ENODATA), "no reading"));
    /* No source at all. */
    tw_phc_init(&c, NULL, NULL);
    assert_int_equal(tw_phc_update(&c), -ENODEV);
}

static void test_one_sample_offset(void **st)
{
    (void)st;
    tw_phc_t c;
    fake_t f = {.sys = SYS0, .period = SEC};
    tw_phc_init(&c, fake_source, &f);
    feed(&c, 1);
    /* One sample: the offset only (37 s), no frequency. */
    tw_time_t sys;
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET, &sys), 0);
    assert_true(sys == SYS0);
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET + 1234567, &sys), 0);
    assert_true(sys == SYS0 + 1234567);
    /* Extrapolation limits, both sides. */
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET + TW_PHC_MAX_EXTRAP_NS, &sys), 0);
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET + TW_PHC_MAX_EXTRAP_NS + 1, &sys),
                     -ERANGE);
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET - TW_PHC_MAX_EXTRAP_NS, &sys), 0);
    assert_int_equal(tw_phc_to_sys(&c, SYS0 + TAI_OFFSET - TW_PHC_MAX_EXTRAP_NS - 1, &sys),
                     -ERANGE);
    /* Raw PHC time taken for system time is off by the whole 37 s. */
    assert_true(SYS0 + TAI_OFFSET - sys > 36 * SEC);
}

static void test_offset_and_drift_exact(void **st)
{
    (void)st;
    tw_phc_t c;
    fake_t f = {.sys = SYS0, .period = SEC};
    tw_phc_init(&c, fake_source, &f);
    feed(&c, 8); /* samples at SYS0 .. SYS0 + 7 s */
    assert_int_equal(c.n, 8);
    /* Interpolated between samples and extrapolated past the newest, to the ns. */
    int64_t in = max_error(&c, &f, SYS0, SYS0 + 7 * SEC);
    int64_t out = max_error(&c, &f, SYS0 + 7 * SEC, SYS0 + 9 * SEC - 200000);
    print_message("conversion error, 37 s offset + 50 ppm, exact samples: interpolated %lld ns, "
                  "extrapolated 2 s %lld ns\n",
                  (long long)in, (long long)out);
    assert_true(in <= 1);
    assert_true(out <= 1);
    /* The frequency found is the drift (sys - phc loses 50 ppm of PHC time). */
    assert_true(c.b < -49.99e-6 && c.b > -50.01e-6);
    /* The table keeps TW_PHC_TABLE samples: older ones leave, and with them
     * the right to convert times that far back. */
    feed(&c, 2 * TW_PHC_TABLE);
    assert_int_equal(c.n, TW_PHC_TABLE);
    tw_time_t sys;
    assert_int_equal(tw_phc_to_sys(&c, fake_phc_of(&f, SYS0 + 7 * SEC), &sys), -ERANGE);
    int64_t late = max_error(&c, &f, f.sys - (TW_PHC_TABLE + 1) * SEC, f.sys + SEC - 200000);
    assert_true(late <= 1);
    assert_int_equal(c.resets, 0);
}

static void test_noisy_samples(void **st)
{
    (void)st;
    /* Each sample's system time off by up to +-300 ns (the read's window). */
    static const int64_t noise[] = {120, -300, 40, 255, -180, 0, 300, -75, -240, 90, 10, -20, 200};
    tw_phc_t c;
    fake_t f = {.sys = SYS0, .period = SEC, .noise = noise, .nnoise = 13};
    tw_phc_init(&c, fake_source, &f);
    feed(&c, TW_PHC_TABLE);
    int64_t in = max_error(&c, &f, SYS0, SYS0 + (TW_PHC_TABLE - 1) * SEC);
    int64_t out = max_error(&c, &f, SYS0 + (TW_PHC_TABLE - 1) * SEC,
                            SYS0 + (TW_PHC_TABLE - 1) * SEC + TW_PHC_MAX_EXTRAP_NS - 200000);
    print_message("conversion error, +-300 ns sample noise: interpolated %lld ns, extrapolated "
                  "%lld ns\n",
                  (long long)in, (long long)out);
    /* The line through 16 samples is better than any one sample. */
    assert_true(in < 300);
    assert_true(out < 300);
}

static void test_step_restarts_table(void **st)
{
    (void)st;
    tw_phc_t c;
    /* ptp4l steps the PHC by 1 s between the 4th and the 5th sample. */
    fake_t f = {.sys = SYS0, .period = SEC, .step = SEC, .step_at = SYS0 + 4 * SEC};
    tw_phc_init(&c, fake_source, &f);
    feed(&c, 4);
    assert_int_equal(c.resets, 0);
    feed(&c, 1);
    assert_int_equal(c.resets, 1);
    assert_int_equal(c.n, 1);
    tw_time_t sys;
    assert_int_equal(tw_phc_to_sys(&c, fake_phc_of(&f, SYS0 + 4 * SEC), &sys), 0);
    assert_true(sys == SYS0 + 4 * SEC);
    feed(&c, 3);
    assert_true(max_error(&c, &f, SYS0 + 4 * SEC, SYS0 + 8 * SEC) <= 1);
    /* A PHC that goes back restarts too; so does a system clock that does. */
    tw_phc_sample_t back = {.phc = c.hi - SEC, .sys = f.sys};
    assert_int_equal(tw_phc_add(&c, &back), 1);
    tw_phc_sample_t sysback = {.phc = back.phc + SEC, .sys = back.sys - SEC};
    assert_int_equal(tw_phc_add(&c, &sysback), 1);
    assert_int_equal(c.resets, 3);
    /* A step smaller than TW_PHC_STEP_NS is taken as noise. */
    tw_phc_sample_t small = {.phc = sysback.phc + SEC, .sys = sysback.sys + SEC + TW_PHC_STEP_NS};
    assert_int_equal(tw_phc_add(&c, &small), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.resets, 3);
}

static void test_close_samples(void **st)
{
    (void)st;
    tw_phc_t c;
    fake_t f = {.sys = SYS0, .period = SEC};
    tw_phc_init(&c, fake_source, &f);
    feed(&c, 2);
    assert_int_equal(c.n, 2);
    /* 1 ms after the newest, with a wider window: dropped. */
    tw_phc_sample_t s = {.sys = SYS0 + SEC + TW_NS_PER_MS, .window = 501};
    s.phc = fake_phc_of(&f, s.sys);
    assert_int_equal(tw_phc_add(&c, &s), 0);
    assert_int_equal(c.n, 2);
    assert_true(c.hi == fake_phc_of(&f, SYS0 + SEC));
    /* With a narrower one: in the newest one's place. */
    s.window = 100;
    assert_int_equal(tw_phc_add(&c, &s), 0);
    assert_int_equal(c.n, 2);
    assert_true(c.hi == s.phc);
    assert_true(max_error(&c, &f, SYS0, SYS0 + 2 * SEC) <= 1);
    /* TW_PHC_MIN_SPACING_NS later: a sample of its own. */
    s.sys += TW_PHC_MIN_SPACING_NS;
    s.phc = fake_phc_of(&f, s.sys);
    assert_int_equal(tw_phc_add(&c, &s), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.resets, 0);
}

static void test_best_of(void **st)
{
    (void)st;
    tw_time_t ts[4][3] = {
        {1000, 5000, 1900}, /* window 900 */
        {2000, 6000, 2300}, /* window 300: the best */
        {3000, 7000, 2000}, /* negative: the system clock went back */
        {4000, 8000, 4301}, /* window 301 */
    };
    tw_phc_sample_t s;
    assert_int_equal(tw_phc_best_of((const tw_time_t(*)[3])ts, 4, &s), 0);
    assert_true(s.phc == 6000);
    assert_true(s.sys == 2150);
    assert_true(s.window == 300);
    assert_int_equal(tw_phc_best_of((const tw_time_t(*)[3])ts + 2, 1, &s), -EINVAL);
    assert_int_equal(tw_phc_best_of((const tw_time_t(*)[3])ts, 0, &s), -EINVAL);
}

static void test_open_without_phc(void **st)
{
    (void)st;
    /* Loopback has no hardware clock: a reason, nothing left open. */
    tw_phc_t c;
    char err[200] = "";
    assert_int_equal(tw_phc_open(&c, "lo", err, sizeof err), -1);
    assert_string_equal(err, "interface lo: no hardware timestamping");
    assert_int_equal(c.fd, -1);
    assert_int_equal(tw_phc_open(&c, "no-such-if0", err, sizeof err), -1);
    assert_int_equal(c.fd, -1);
    print_message("no-such-if0: %s\n", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_one_sample_offset),
        cmocka_unit_test(test_offset_and_drift_exact),
        cmocka_unit_test(test_noisy_samples),
        cmocka_unit_test(test_step_restarts_table),
        cmocka_unit_test(test_close_samples),
        cmocka_unit_test(test_best_of),
        cmocka_unit_test(test_open_without_phc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
