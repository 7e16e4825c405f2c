#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static void test_float(void **state)
{
    (void)state;
    char b[40];
    assert_string_equal(tw_prom_float(b, sizeof b, 0), "0");
    assert_string_equal(tw_prom_float(b, sizeof b, 42), "42");
    assert_string_equal(tw_prom_float(b, sizeof b, 1e-6), "1e-06");
    assert_string_equal(tw_prom_float(b, sizeof b, 0.1), "0.1");
    assert_string_equal(tw_prom_float(b, sizeof b, 0.000123), "0.000123");
    assert_string_equal(tw_prom_float(b, sizeof b, INFINITY), "+Inf");
    assert_string_equal(tw_prom_float(b, sizeof b, -INFINITY), "-Inf");
    assert_string_equal(tw_prom_float(b, sizeof b, NAN), "NaN");
    /* the shortest form that reads back exactly */
    double v = 1.0 / 3.0;
    tw_prom_float(b, sizeof b, v);
    assert_true(strtod(b, NULL) == v);
}

static void test_text_counter_gauge(void **state)
{
    (void)state;
    tw_prom_t p;
    tw_prom_init(&p, false);
    tw_prom_label_t l[] = {{"target", "192.0.2.1:862"}, {"name", "a\"b\\c\nd"}};
    tw_prom_family(&p, "twampy_packets_sent", TW_PROM_COUNTER, NULL, "Packets sent.");
    tw_prom_counter(&p, "twampy_packets_sent", l, 2, 17, 1700000000.5);
    tw_prom_family(&p, "twampy_last_rtt_seconds", TW_PROM_GAUGE, "seconds", "Last\nRTT \\ \"x\".");
    tw_prom_gauge(&p, "twampy_last_rtt_seconds", NULL, 0, 0.00025);
    tw_prom_end(&p);
    assert_false(p.failed);
    assert_string_equal(p.buf, "# HELP twampy_packets_sent_total Packets sent.\n"
                               "# TYPE twampy_packets_sent_total counter\n"
                               "twampy_packets_sent_total{target=\"192.0.2.1:862\","
                               "name=\"a\\\"b\\\\c\\nd\"} 17\n"
                               "# HELP twampy_last_rtt_seconds Last\\nRTT \\\\ \"x\".\n"
                               "# TYPE twampy_last_rtt_seconds gauge\n"
                               "twampy_last_rtt_seconds 0.00025\n");
    tw_prom_free(&p);
}

static void test_openmetrics(void **state)
{
    (void)state;
    tw_prom_t p;
    tw_prom_init(&p, true);
    tw_prom_label_t l[] = {{"name", "x"}};
    tw_prom_family(&p, "twampy_packets_sent", TW_PROM_COUNTER, NULL, "Sent \"now\".");
    tw_prom_counter(&p, "twampy_packets_sent", l, 1, 3, 1700000000.25);
    tw_prom_family(&p, "twampy_rtt_seconds", TW_PROM_HISTOGRAM, "seconds", "RTT.");
    double le[] = {1e-6, 1e-3};
    uint64_t counts[] = {1, 2, 3};
    tw_prom_histogram(&p, "twampy_rtt_seconds", l, 1, le, counts, 2, 1.5, 1700000000.0);
    tw_prom_end(&p);
    assert_string_equal(p.buf, "# HELP twampy_packets_sent Sent \\\"now\\\".\n"
                               "# TYPE twampy_packets_sent counter\n"
                               "twampy_packets_sent_total{name=\"x\"} 3\n"
                               "twampy_packets_sent_created{name=\"x\"} 1700000000.250\n"
                               "# HELP twampy_rtt_seconds RTT.\n"
                               "# TYPE twampy_rtt_seconds histogram\n"
                               "# UNIT twampy_rtt_seconds seconds\n"
                               "twampy_rtt_seconds_bucket{name=\"x\",le=\"1e-06\"} 1\n"
                               "twampy_rtt_seconds_bucket{name=\"x\",le=\"0.001\"} 3\n"
                               "twampy_rtt_seconds_bucket{name=\"x\",le=\"+Inf\"} 6\n"
                               "twampy_rtt_seconds_sum{name=\"x\"} 1.5\n"
                               "twampy_rtt_seconds_count{name=\"x\"} 6\n"
                               "twampy_rtt_seconds_created{name=\"x\"} 1700000000.000\n"
                               "# EOF\n");
    tw_prom_free(&p);
}

static void test_histogram_text_no_labels(void **state)
{
    (void)state;
    tw_prom_t p;
    tw_prom_init(&p, false);
    double le[] = {0.5};
    uint64_t counts[] = {0, 0};
    tw_prom_histogram(&p, "h", NULL, 0, le, counts, 1, 0, 0);
    tw_prom_end(&p);
    assert_string_equal(p.buf, "h_bucket{le=\"0.5\"} 0\n"
                               "h_bucket{le=\"+Inf\"} 0\n"
                               "h_sum 0\n"
                               "h_count 0\n");
    tw_prom_free(&p);
}

static void test_large_output_grows(void **state)
{
    (void)state;
    tw_prom_t p;
    tw_prom_init(&p, false);
    for (int i = 0; i < 5000; i++)
        tw_prom_gauge(&p, "twampy_some_gauge", NULL, 0, i);
    assert_false(p.failed);
    assert_int_equal(strlen(p.buf), p.len);
    assert_non_null(strstr(p.buf, "twampy_some_gauge 4999\n"));
    tw_prom_free(&p);
}

static void test_accept(void **state)
{
    (void)state;
    assert_false(tw_prom_wants_openmetrics(NULL));
    assert_false(tw_prom_wants_openmetrics(""));
    assert_false(tw_prom_wants_openmetrics("*/*"));
    assert_false(tw_prom_wants_openmetrics("text/plain;version=0.0.4"));
    /* Prometheus 2.x */
    assert_true(tw_prom_wants_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assert_true(tw_prom_wants_openmetrics("application/openmetrics-text"));
    assert_true(tw_prom_wants_openmetrics(" Application/OpenMetrics-Text ; version=1.0.0 "));
    /* preferred less than the text format */
    assert_false(tw_prom_wants_openmetrics(
        "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5"));
    /* a version we do not write */
    assert_false(tw_prom_wants_openmetrics("application/openmetrics-text;version=2.0.0"));
    assert_false(tw_prom_wants_openmetrics("application/openmetrics-text;q=0"));
    assert_string_equal(tw_prom_content_type(false), "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(tw_prom_content_type(true),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float),
        cmocka_unit_test(test_text_counter_gauge),
        cmocka_unit_test(test_openmetrics),
        cmocka_unit_test(test_histogram_text_no_labels),
        cmocka_unit_test(test_large_output_grows),
        cmocka_unit_test(test_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
