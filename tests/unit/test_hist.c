#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "hist.h"

/* The reference: nearest-rank percentile of the sorted values. */
static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t exact_percentile(int64_t *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp64);
    size_t rank = (size_t)ceil(q / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_index_roundtrip(void **state)
{
    (void)state;
    /* every value falls in the bucket whose range holds it, and buckets are
     * at most 1/128 of their lower bound wide */
    for (uint64_t v = 0; v < 100000; v++) {
        size_t i = tw_hist_index(v);
        assert_true(tw_hist_lower(i) <= v);
        assert_true(v < tw_hist_lower(i) + tw_hist_width(i));
        if (v >= 256)
            assert_true(tw_hist_width(i) * 128 <= tw_hist_lower(i));
    }
    for (int b = 8; b < TW_HIST_MAX_BITS; b++) {
        uint64_t v = (1ull << b) + 12345;
        size_t i = tw_hist_index(v);
        assert_true(i < TW_HIST_BUCKETS);
        assert_true(tw_hist_lower(i) <= v && v < tw_hist_lower(i) + tw_hist_width(i));
    }
    /* contiguous: the next bucket starts where this one ends */
    for (size_t i = 0; i + 1 < TW_HIST_BUCKETS; i++)
        assert_int_equal(tw_hist_lower(i) + tw_hist_width(i), tw_hist_lower(i + 1));
}

/* Percentiles against the exact values on generated data, from 1 us to 100 s:
 * the error bound is 1 %. */
static void check_distribution(int64_t (*gen)(void), size_t n)
{
    static tw_hist_t h;
    int64_t *v = malloc(n * sizeof *v);
    assert_non_null(v);
    tw_hist_init(&h);
    for (size_t i = 0; i < n; i++) {
        v[i] = gen();
        tw_hist_add(&h, v[i]);
    }
    static const double qs[] = {1, 10, 50, 90, 95, 99, 99.9, 100};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        int64_t exact = exact_percentile(v, n, qs[k]);
        int64_t got = tw_hist_percentile(&h, qs[k]);
        double err = fabs((double)(got - exact)) / fabs((double)exact);
        if (err > 0.01)
            fail_msg("p%g: histogram %lld, exact %lld (error %.4f)", qs[k], (long long)got,
                     (long long)exact, err);
    }
    assert_int_equal(h.min, v[0]);
    assert_int_equal(h.max, v[n - 1]);
    free(v);
    tw_hist_free(&h);
}

static int64_t gen_loguniform(void)
{
    /* 1 us .. 100 s, uniform in log */
    double u = (double)(next_rand() >> 11) / 9007199254740992.0;
    return (int64_t)(1e3 * pow(1e8, u));
}

static int64_t gen_narrow(void)
{
    /* a loopback-like distribution: 20 us +- a little, a few outliers */
    uint64_t r = next_rand();
    if (r % 1000 == 0)
        return 5000000 + (int64_t)(r % 1000000);
    return 20000 + (int64_t)(r % 3000);
}

static int64_t gen_signed(void)
{
    /* one-way delays with a clock offset: negative and positive */
    return (int64_t)(next_rand() % 2000000) - 1000000 + ((next_rand() & 1) ? 1500 : -1500);
}

static void test_percentiles_loguniform(void **state)
{
    (void)state;
    check_distribution(gen_loguniform, 100000);
}

static void test_percentiles_narrow(void **state)
{
    (void)state;
    check_distribution(gen_narrow, 100000);
}

static void test_percentiles_signed(void **state)
{
    (void)state;
    /* |values| >= 1500 ns, so the 1 % bound still holds */
    check_distribution(gen_signed, 50000);
}

static void test_small_exact(void **state)
{
    (void)state;
    static tw_hist_t h;
    tw_hist_init(&h);
    assert_int_equal(tw_hist_percentile(&h, 50), 0);
    int64_t vals[] = {10, 20, 30, 40, 50};
    for (int i = 0; i < 5; i++)
        tw_hist_add(&h, vals[i]);
    /* below 256 every value has its own bucket: exact */
    assert_int_equal(tw_hist_percentile(&h, 50), 30);
    assert_int_equal(tw_hist_percentile(&h, 20), 10);
    assert_int_equal(tw_hist_percentile(&h, 21), 20);
    assert_int_equal(tw_hist_percentile(&h, 100), 50);
    tw_hist_add(&h, -7);
    assert_int_equal(h.min, -7);
    assert_int_equal(tw_hist_percentile(&h, 1), -7);
    tw_hist_free(&h);
    assert_int_equal(h.n, 0);
    assert_null(h.pos[0]);
}

static void test_merge(void **state)
{
    (void)state;
    static tw_hist_t a, b;
    tw_hist_init(&a);
    tw_hist_init(&b);
    for (int i = 1; i <= 100; i++)
        tw_hist_add(&a, i);
    for (int i = 101; i <= 200; i++)
        tw_hist_add(&b, i);
    tw_hist_merge(&a, &b);
    assert_int_equal(a.n, 200);
    assert_int_equal(a.min, 1);
    assert_int_equal(a.max, 200);
    assert_int_equal(tw_hist_percentile(&a, 50), 100);
    /* b is untouched: its pages are its own. */
    assert_int_equal(b.n, 100);
    assert_int_equal(tw_hist_percentile(&b, 50), 150);
    tw_hist_free(&a);
    tw_hist_free(&b);
}

/* Pages come as values need them: a narrow range takes one page of a side,
 * not the 35 of each; memory is what the values spread over. */
static void test_pages_on_demand(void **state)
{
    (void)state;
    tw_hist_t h;
    tw_hist_init(&h);
    for (size_t p = 0; p < TW_HIST_PAGES; p++)
        assert_true(h.pos[p] == NULL && h.neg[p] == NULL);
    for (int i = 0; i < 10000; i++)
        tw_hist_add(&h, 20000 + i % 100); /* 20.000..20.099 us: one power of two */
    int pages = 0;
    for (size_t p = 0; p < TW_HIST_PAGES; p++)
        pages += (h.pos[p] != NULL) + (h.neg[p] != NULL);
    assert_int_equal(pages, 1);
    assert_int_equal(h.unbucketed, 0);
    /* Within the bucket width (1/128 of the value) of the exact median. */
    int64_t med = tw_hist_percentile(&h, 50);
    assert_true(med >= 20049 - 20049 / 128 && med <= 20049 + 20049 / 128);
    tw_hist_add(&h, -5);
    tw_hist_add(&h, (int64_t)1 << 39);
    pages = 0;
    for (size_t p = 0; p < TW_HIST_PAGES; p++)
        pages += (h.pos[p] != NULL) + (h.neg[p] != NULL);
    assert_int_equal(pages, 3);
    tw_hist_free(&h);
}

static void count_cb(void *arg, int64_t lo, int64_t hi, uint64_t n)
{
    uint64_t *total = arg;
    assert_true(lo <= hi);
    *total += n;
}

static void test_foreach(void **state)
{
    (void)state;
    static tw_hist_t h;
    tw_hist_init(&h);
    for (int i = -1000; i <= 1000000; i += 997)
        tw_hist_add(&h, i);
    uint64_t total = 0;
    tw_hist_foreach(&h, count_cb, &total);
    assert_int_equal(total, h.n);
    tw_hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_roundtrip),
        cmocka_unit_test(test_percentiles_loguniform),
        cmocka_unit_test(test_percentiles_narrow),
        cmocka_unit_test(test_percentiles_signed),
        cmocka_unit_test(test_small_exact),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_pages_on_demand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
