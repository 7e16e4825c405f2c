/* Unit tests for plot_svg: the picture's structure (one polyline per
 * direction, a dot per sample for short runs, one mark per lost packet at its
 * send time), its axes and summary, escaping, decimation of long runs and
 * the edge cases (no packets, nothing answered). Well-formedness is checked
 * by an XML parser in tests/integration/plot.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_svg.h"
#include "report_csv.h"

#define NS 1000000000LL
#define T0 (1700000000LL * NS)

static char *svg;
static size_t svglen;

static void draw(const tw_packet_record_t *r, size_t n, const char *title)
{
    free(svg);
    svg = NULL;
    FILE *f = open_memstream(&svg, &svglen);
    assert_non_null(f);
    tw_plot_info_t info = {.title = title};
    assert_int_equal(tw_plot_svg(f, r, n, &info), 0);
    assert_int_equal(fclose(f), 0);
}

static size_t count(const char *needle)
{
    size_t k = 0;
    for (const char *p = svg; (p = strstr(p, needle)); p += strlen(needle))
        k++;
    return k;
}

/* n packets 100 ms apart: round trip 1 ms + seq us, outbound 400 us, the
 * reflector 10 us; every lost_every-th (if > 0) lost. */
static tw_packet_record_t *run(size_t n, size_t lost_every)
{
    tw_packet_record_t *r = calloc(n, sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        r[i].seq = (uint32_t)i;
        r[i].t1 = T0 + (int64_t)i * 100000000;
        r[i].size = 41;
        r[i].ttl_in = r[i].ttl_out = r[i].tos_in = -1;
        if (lost_every && i % lost_every == lost_every - 1) {
            r[i].status = TW_PKT_LOST;
            continue;
        }
        int64_t rtt = 1000000 + (int64_t)i * 1000;
        r[i].t2 = r[i].t1 + 400000;
        r[i].t3 = r[i].t2 + 10000;
        r[i].t4 = r[i].t3 + (rtt - 400000);
    }
    return r;
}

static void test_structure(void **state)
{
    (void)state;
    tw_packet_record_t *r = run(100, 10); /* 10 lost: seq 9, 19, ..., 99 */
    draw(r, 100, "TWAMP light to 127.0.0.1:20001");
    assert_memory_equal(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44);
    assert_string_equal(svg + svglen - 7, "</svg>\n");
    assert_int_equal(count("<svg"), 1);
    /* Self-contained: nothing to run or fetch. */
    assert_int_equal(count("<script"), 0);
    assert_int_equal(count("href"), 0);
    assert_int_equal(count("<image"), 0);
    assert_int_equal(count("<style"), 0);
    assert_int_equal(count("url("), 0);
    /* Three series, a dot for each of the 90 answered packets in each. */
    assert_int_equal(count("<polyline"), 3);
    assert_int_equal(count("<circle"), 3 * 90);
    /* Ten lost packets: ten triangles (and the legend's), ten faint lines. */
    assert_int_equal(count("<path d=\"M"), 10 + 1);
    assert_int_equal(count("stroke-opacity=\"0.3\""), 10);
    /* The first lost packet (seq 9, sent 0.9 s in, of 9.9 s) at its x. */
    char want[64];
    double x = TW_PLOT_TS_X0 + 0.9 / 9.9 * (TW_PLOT_TS_X1 - TW_PLOT_TS_X0);
    snprintf(want, sizeof want, "<path d=\"M%.1f %dh-5", x, TW_PLOT_LOST_Y0);
    assert_non_null(strstr(svg, want));
    /* Axes and labels. */
    assert_non_null(strstr(svg, "time since the first packet (s)"));
    assert_non_null(strstr(svg, "delay (ms)"));
    assert_non_null(strstr(svg, "round trip (ms)"));
    assert_non_null(strstr(svg, ">packets</text>"));
    assert_non_null(strstr(svg, ">9</text>")); /* the last x tick: 9 s */
    /* The summary: 100 sent, 90 answered, 10 lost (10 %), min 1 ms. */
    assert_non_null(strstr(svg, ">packets sent</text>"));
    assert_non_null(strstr(svg, ">100</text>"));
    assert_non_null(strstr(svg, ">90</text>"));
    assert_non_null(strstr(svg, ">10 (10.00 %)</text>"));
    assert_non_null(strstr(svg, ">1.000 ms</text>"));
    /* min 1.000 ms; max seq 98: 1.098 ms; median of 90 is the 45th: seq 49. */
    assert_non_null(strstr(svg, ">1.098 ms</text>"));
    assert_non_null(strstr(svg, ">1.049 ms</text>"));
    assert_non_null(strstr(svg, "TWAMP light to 127.0.0.1:20001"));
    assert_non_null(strstr(svg, "first packet 2023-11-14T22:13:20.000000000Z"));
    free(r);
}

static void test_escaping(void **state)
{
    (void)state;
    tw_packet_record_t *r = run(3, 0);
    draw(r, 3, "a<b & \"c\"\x01\n'd'>");
    assert_non_null(strstr(svg, "a&lt;b &amp; &quot;c&quot;&apos;d&apos;&gt;"));
    assert_null(strstr(svg, "a<b"));
    assert_null(strchr(svg, '\x01'));
    free(r);
}

static void test_order_independent(void **state)
{
    (void)state;
    /* Two sessions of a controller, interleaved in time, given one after the
     * other: drawn in send-time order, the same picture as sorted input. */
    tw_packet_record_t *a = run(20, 0), b[20];
    for (int i = 0; i < 10; i++) {
        b[i] = a[2 * i];
        b[10 + i] = a[2 * i + 1];
    }
    draw(a, 20, "x");
    char *first = strdup(svg);
    draw(b, 20, "x");
    assert_string_equal(first, svg);
    free(first);
    free(a);
}

static void test_decimated(void **state)
{
    (void)state;
    size_t n = 200000;
    tw_packet_record_t *r = run(n, 1000);
    r[123456].t4 += 50000000; /* one 50 ms spike must survive decimation */
    draw(r, n, "long");
    assert_int_equal(count("<polyline"), 3);
    assert_int_equal(count("<circle"), 0);
    /* At most two points per pixel column and series: bounded size. */
    assert_true(svglen < 200000);
    assert_non_null(strstr(svg, "delay (ms)"));
    /* The spike is the maximum: its y is the top of the scale's 95 %. */
    char want[32];
    double y = TW_PLOT_TS_Y1 - (TW_PLOT_TS_Y1 - TW_PLOT_TS_Y0) / 1.05;
    snprintf(want, sizeof want, ",%.1f ", y);
    assert_non_null(strstr(svg, want));
    /* 200 lost, far apart: one mark each. */
    assert_int_equal(count("stroke-opacity=\"0.3\""), 200);
    free(r);
}

static void test_empty_and_all_lost(void **state)
{
    (void)state;
    draw(NULL, 0, NULL);
    assert_non_null(strstr(svg, "no replies"));
    assert_int_equal(count("<polyline"), 0);
    assert_string_equal(svg + svglen - 7, "</svg>\n");
    tw_packet_record_t *r = run(5, 1);
    draw(r, 5, "all lost");
    assert_int_equal(count("<polyline"), 0);
    assert_int_equal(count("stroke-opacity=\"0.3\""), 5);
    assert_non_null(strstr(svg, ">5 (100.00 %)</text>"));
    assert_non_null(strstr(svg, "n/a (no replies)"));
    free(r);
}

static void test_microseconds_and_negative(void **state)
{
    (void)state;
    tw_packet_record_t *r = run(10, 0);
    for (int i = 0; i < 10; i++) { /* 20 us round trips; outbound -5 us (clock offset) */
        r[i].t2 = r[i].t1 - 5000;
        r[i].t3 = r[i].t2 + 1000;
        r[i].t4 = r[i].t3 + 25000;
    }
    draw(r, 10, "us");
    assert_non_null(strstr(svg, "delay (\xc2\xb5s)"));
    assert_non_null(strstr(svg, ">-5.0 / -5.0 / -5.0 \xc2\xb5s</text>"));
    assert_non_null(strstr(svg, ">-5</text>")); /* the y axis reaches below 0 */
    free(r);
}

/* A delay far from 0 with a tiny spread (a crafted CSV row: t2 23 years
 * before t1): adding a tick step no longer changed the value, and the axis
 * loop wrote ticks forever (found by fuzz_parsers). Now a bounded picture. */
static void test_far_from_zero_ticks(void **state)
{
    (void)state;
    /* The fuzzer's row, as twampy plot reads it. */
    const char *row = "1,7,ok,2046-11-14T22:13:20.709551615Z,2023-11-14T22:13:20.000400000Z,"
                      "2046-11-14T22:13:20.000410000Z,2023-11-14T22:13:20.001000000Z,,,,,"
                      "600000,400000,590000,64,62,46,41";
    tw_packet_record_t r;
    int sess;
    char err[256];
    assert_int_equal(tw_csv_parse_row(row, &sess, &r, err, sizeof err), 0);
    draw(&r, 1, "far");
    assert_true(svglen < 64 * 1024);
    assert_true(count("<line ") < 200);
}

static int teardown(void **state)
{
    (void)state;
    free(svg);
    svg = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_decimated),
        cmocka_unit_test(test_empty_and_all_lost),
        cmocka_unit_test(test_microseconds_and_negative),
        cmocka_unit_test(test_far_from_zero_ticks),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
