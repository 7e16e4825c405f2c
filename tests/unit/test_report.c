/* Unit tests for report: twampy's dp() and its statistics table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report.h"
#include "stamp_tlv.h"

#define MS 1000000LL /* ns per ms */

static void check_dp(double ms, const char *expected)
{
    char buf[32];

    memset(buf, 'x', sizeof(buf));
    if (strcmp(tw_fmt_delay(buf, sizeof(buf), ms), expected) != 0)
        fail_msg("dp(%.17g) = '%s', expected '%s'", ms, buf, expected);
}

static void test_fmt_delay_us(void **state)
{
    check_dp(0, "       0us");
    check_dp(0.0004, "       0us"); /* 0.4 us truncates to 0 */
    check_dp(0.001, "       1us");
    check_dp(0.0015, "       1us"); /* truncated, not rounded */
    check_dp(0.5, "     500us");
    check_dp(0.9999, "     999us");
    check_dp(1, "    1000us");       /* 1 is not > 1 */
    check_dp(-0.0004, "       0us"); /* toward zero: not -1 */
    check_dp(-0.5, "    -500us");
    check_dp(-0.9999, "    -999us");
    check_dp(-1, "   -1000us");
}

static void test_fmt_delay_ms(void **state)
{
    check_dp(1.0001, "    1.00ms");
    check_dp(1.005, "    1.00ms"); /* 1.005 is a little below in binary */
    check_dp(2.675, "    2.67ms");
    check_dp(999.99, "  999.99ms");
    check_dp(1000, " 1000.00ms"); /* 1000 is not > 1000 */
    check_dp(-5, "   -5.00ms");
    check_dp(-1.5, "   -1.50ms");
    check_dp(-1000, "-1000.00ms");
}

static void test_fmt_delay_sec(void **state)
{
    check_dp(1000.5, "   1.00sec");
    check_dp(1500, "   1.50sec");
    check_dp(10000, "  10.00sec"); /* 10000 is not > 10000 */
    check_dp(10000.5, "   10.0sec");
    check_dp(60000, "   60.0sec"); /* 60000 is not > 60000 */
    check_dp(-1000.5, "  -1.00sec");
    check_dp(-10000.5, "  -10.0sec");
}

static void test_fmt_delay_min(void **state)
{
    check_dp(60001, "    1.0min");
    check_dp(75000, "    1.2min"); /* 1.25 rounds half to even */
    check_dp(123456.0, "    2.1min");
    check_dp(3600000.0, "   60.0min");
    check_dp(-60001, "   -1.0min");
    check_dp(INFINITY, "    infmin");
}

static void test_fmt_delay_buffer(void **state)
{
    char small[6];
    char buf[32];

    /* returns buf; a short buffer is truncated and terminated */
    assert_ptr_equal(tw_fmt_delay(buf, sizeof(buf), 5), buf);
    assert_string_equal(tw_fmt_delay(small, sizeof(small), 5), "    5");
    /* the widest real value fits in 32 octets */
    assert_string_equal(tw_fmt_delay(buf, sizeof(buf), -9.2e12), "-153333333.3min");
}

/* Print the table for s and sent into memory and compare it line by line. */
static void check_table(const tw_stats_t *s, uint64_t sent, const char *const *expected,
                        size_t nlines)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    char *line;
    size_t i = 0;

    assert_non_null(f);
    tw_report_table(f, s, sent);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);
    assert_true(size > 0);
    assert_int_equal(text[size - 1], '\n');

    line = text;
    while (*line != '\0') {
        char *nl = strchr(line, '\n');

        assert_non_null(nl);
        *nl = '\0';
        if (i >= nlines)
            fail_msg("extra line %zu: '%s'", i + 1, line);
        if (strcmp(line, expected[i]) != 0)
            fail_msg("line %zu is\n'%s', expected\n'%s'", i + 1, line, expected[i]);
        i++;
        line = nl + 1;
    }
    assert_int_equal(i, nlines);
    free(text);
}

/* Four replies of five sent, the reflector counted 4 (rseq 3 for sseq 4):
 *   round trip 10, 12, 11, 15 ms; outbound 4, 5, 4.5, -0.25 ms; inbound 6, 7, 6.5, 15.25 ms.
 * By hand:
 *   outbound min -0.25 ms -> -250us, max 5, avg 13.25/4 = 3.3125, jitter 0, 1,
 *     1 + (0.5 - 1)/16 = 0.96875, 0.96875 + (4.75 - 0.96875)/16 = 1.205078125;
 *     loss 5 - 4 = 1 (20%)
 *   inbound min 6, max 15.25, avg 34.75/4 = 8.6875, jitter 0, 1, 0.96875,
 *     0.96875 + (8.75 - 0.96875)/16 = 1.455078125; loss 4 - 4 = 0
 *   round trip min 10, max 15, avg 12, jitter 2.06640625; loss 5 - 4 = 1 (20%) */
static void test_table_normal(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:        -250us      5.00ms      3.31ms      1.21ms     20.0%",
        "  Inbound:         6.00ms     15.25ms      8.69ms      1.46ms      0.0%",
        "  Roundtrip:      10.00ms     15.00ms     12.00ms      2.07ms     20.0%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 10 * MS, 4 * MS, 6 * MS, 0, 0);
    tw_stats_add(&s, 12 * MS, 5 * MS, 7 * MS, 1, 1);
    tw_stats_add(&s, 11 * MS, 4500000, 6500000, 2, 2);
    tw_stats_add(&s, 15 * MS, -250000, 15250000, 3, 4);
    check_table(&s, 5, expected, sizeof(expected) / sizeof(expected[0]));
}

/* One reply of three: 12345.678 ms out, 62654.322 ms back, 75000 ms round trip.
 * The two lost after the only reply may have been lost either way: the Loss
 * cells of the directions say n/a, right-aligned in the column. */
static void test_table_long_delays(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:       12.3sec     12.3sec     12.3sec         0us       n/a",
        "  Inbound:         1.0min      1.0min      1.0min         0us       n/a",
        "  Roundtrip:       1.2min      1.2min      1.2min         0us     66.7%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 75000 * MS, 12345678000LL, 62654322000LL, 0, 0);
    check_table(&s, 3, expected, sizeof(expected) / sizeof(expected[0]));
}

/* Two replies: round trip 1500 and 1600 ms, outbound 0.75 and 0.8 ms.
 * Jitter: round trip 100 ms, outbound 50 us, inbound 99.95 ms. The third
 * packet, after the last reply, was lost in a direction nobody can know. */
static void test_table_seconds(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:         750us       800us       775us        50us       n/a",
        "  Inbound:        1.50sec     1.60sec     1.55sec     99.95ms       n/a",
        "  Roundtrip:      1.50sec     1.60sec     1.55sec    100.00ms     33.3%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 1500 * MS, 750000, 1499250000, 0, 0);
    tw_stats_add(&s, 1600 * MS, 800000, 1599200000, 1, 1);
    check_table(&s, 3, expected, sizeof(expected) / sizeof(expected[0]));
}

/* sent == 0 with replies (cannot happen in practice): 0.0% without dividing by zero. */
static void test_table_sent_zero(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:         750us       800us       775us        50us      0.0%",
        "  Inbound:        1.50sec     1.60sec     1.55sec     99.95ms      0.0%",
        "  Roundtrip:      1.50sec     1.60sec     1.55sec    100.00ms      0.0%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 1500 * MS, 750000, 1499250000, 0, 0);
    tw_stats_add(&s, 1600 * MS, 800000, 1599200000, 1, 1);
    check_table(&s, 0, expected, sizeof(expected) / sizeof(expected[0]));
}

static void test_table_no_replies(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  NO STATS AVAILABLE (100% loss)",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    check_table(&s, 10, expected, sizeof(expected) / sizeof(expected[0]));
    check_table(&s, 0, expected, sizeof(expected) / sizeof(expected[0]));
}

/* One reply of one sent, but the reflector's counter says it received 1000
 * (a stale counter): nothing was lost, so nothing was lost either way (the
 * old table said 100.0% inbound beside 0.0% round trip). Sub-microsecond
 * and negative one-way delays as they are. */
static void test_table_stale_counter(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:           2us         2us         2us         0us      0.0%",
        "  Inbound:           -1us        -1us        -1us         0us      0.0%",
        "  Roundtrip:          1us         1us         1us         0us      0.0%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    tw_stats_add(&s, 1000, 2000, -1000, 999, 0);
    check_table(&s, 1, expected, sizeof(expected) / sizeof(expected[0]));
}

/* Probes slower than the reflector's idle reset: every reply has rseq 0.
 * Nothing lost: 0.0% each way (the old table: Outbound 66.7%). */
static void test_table_slow_probe(void **state)
{
    static const char *const expected[] = {
        "===============================================================================",
        "Direction         Min         Max         Avg          Jitter     Loss",
        "-------------------------------------------------------------------------------",
        "  Outbound:        1000us      1000us      1000us         0us      0.0%",
        "  Inbound:         1000us      1000us      1000us         0us      0.0%",
        "  Roundtrip:       2.00ms      2.00ms      2.00ms         0us      0.0%",
        "-------------------------------------------------------------------------------",
        "                                                    Jitter Algorithm [RFC1889]",
        "===============================================================================",
    };
    tw_stats_t s;

    tw_stats_init(&s);
    for (uint32_t i = 0; i < 3; i++)
        tw_stats_add(&s, 2 * MS, MS, MS, 0, i);
    check_table(&s, 3, expected, sizeof(expected) / sizeof(expected[0]));
}

/* The text of tw_report_extended for r, in a malloc'd string. */
static char *extended(const tw_sender_result_t *r, const tw_loss_t *loss)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    tw_report_extended_loss(f, r, loss);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Once-a-minute probes, the counter restarting every time, one of four
 * lost: "Packets: ... (outbound n/a, inbound n/a)" and a warning saying
 * why; a stateful run with a restart where nothing was lost next to it
 * keeps its figures. */
static void test_extended_loss_na(void **state)
{
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    tw_metrics_init_total(&r->metrics);
    for (uint32_t i = 0; i < 4; i++)
        if (i != 2)
            tw_stats_add(&r->stats, 2 * MS, MS, MS, 0, i);
    r->sent = 4;
    char *t = extended(r, NULL);
    if (!strstr(t, "Packets: 4 sent, 3 received, 1 lost (outbound n/a, inbound n/a), 0 "
                   "duplicate"))
        fail_msg("no n/a Packets line in:\n%s", t);
    if (!strstr(t, "Warning: outbound and inbound loss n/a: 1 of the 1 lost packets cannot be "
                   "given a direction (lost where the reflector's sequence counter restarted "
                   "or may have (2 restarts;"))
        fail_msg("no warning in:\n%s", t);
    free(t);

    /* sseq 0..9 with rseq 0..9 but 3 (never reached it) and the reply to
     * 6 lost, then a restart at sseq 10 (rseq 0, 1): 1 outbound, 1
     * inbound, known. */
    tw_stats_init(&r->stats);
    for (uint32_t i = 0, c = 0; i < 12; i++) {
        if (i == 10)
            c = 0;
        if (i == 3)
            continue;
        uint32_t rs = c++;
        if (i != 6)
            tw_stats_add(&r->stats, 2 * MS, MS, MS, rs, i);
    }
    r->sent = 12;
    t = extended(r, NULL);
    if (!strstr(t, "Packets: 12 sent, 10 received, 2 lost (outbound 1, inbound 1), 0 duplicate"))
        fail_msg("no exact Packets line in:\n%s", t);
    if (strstr(t, "n/a"))
        fail_msg("n/a in:\n%s", t);
    free(t);

    /* A total over sessions: the loss given, n/a when one session's is. */
    tw_loss_t sum = {
        .roundtrip = 5, .outbound = 3, .inbound = 1, .unattributed = 1, .unknown = TW_LOSS_EDGES};
    t = extended(r, &sum);
    if (!strstr(t, "5 lost (outbound n/a, inbound n/a)"))
        fail_msg("the given loss not used in:\n%s", t);
    if (!strstr(t, "; of the others, 3 were lost outbound, 1 inbound"))
        fail_msg("no lower bounds in:\n%s", t);
    free(t);
    free(r);
}

/* The S bits clear on both sides: a warning, unless the reflector is on this
 * host (shared_clock), where the header says the clocks are shared instead. */
static void test_shared_clock(void **state)
{
    (void)state;
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    assert_int_equal(tw_metrics_init(&r->metrics, false), 0);
    tw_sample_t smp = {.t1 = 1000 * MS,
                       .t2 = 1001 * MS,
                       .t3 = 1001 * MS,
                       .t4 = 1002 * MS,
                       .ttl_out = -1,
                       .ttl_in = -1,
                       .remote_sync = false};
    tw_metrics_add(&r->metrics, &smp);
    tw_stats_add(&r->stats, 2 * MS, MS, MS, 0, 0);
    r->sent = 1;
    r->security_mode = 1; /* TW_MODE_UNAUTHENTICATED */
    tw_warnings_t w;
    tw_report_warnings(r, &w);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.msg[0], "not synchronized (S bit clear)"));
    assert_string_equal(tw_report_clocks(r), "not synchronized");

    r->shared_clock = true;
    tw_report_warnings(r, &w);
    assert_int_equal(w.n, 0);
    char *t = extended(r, NULL);
    if (strstr(t, "Warning"))
        fail_msg("a warning with a shared clock:\n%s", t);
    free(t);
    char *h = NULL;
    size_t hn = 0;
    FILE *f = open_memstream(&h, &hn);
    assert_non_null(f);
    tw_report_header(f, "TWAMP light to 127.0.0.1:20001", r);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(
        h, "TWAMP light to 127.0.0.1:20001; mode open; clocks shared (the reflector is on this "
           "host)\n");
    free(h);

    /* A total is shared only when every session's clock is. */
    tw_sender_result_t *tot = calloc(1, sizeof *tot);
    assert_non_null(tot);
    tw_report_total_init(tot);
    tw_report_merge(tot, r);
    assert_true(tot->shared_clock);
    r->shared_clock = false;
    tw_report_merge(tot, r);
    assert_false(tot->shared_clock);
    tw_metrics_free(&tot->metrics);
    free(tot);
    tw_metrics_free(&r->metrics);
    free(r);
}

/* tw_report_paths: the "Flow label:" and "Paths:" lines; a total's label
 * count and mode over sessions of one label, of their own labels, of
 * several modes. */
static char *paths_text(const tw_sender_result_t *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    tw_report_paths(f, r);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_flow_label_paths(void **state)
{
    (void)state;
    tw_sender_result_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b),
                       *tot = calloc(1, sizeof *tot);
    assert_true(a && b && tot);
    tw_report_total_init(a);
    tw_report_total_init(b);
    tw_report_total_init(tot);
    char *t = paths_text(a); /* no label, one path or none: nothing */
    assert_string_equal(t, "");
    free(t);
    a->flowlabel_mode = TW_FL_FIXED;
    a->flowlabel = 0x12345;
    a->flowlabels = 1;
    a->metrics.fl_reflected = 9;
    a->metrics.fl_changed = 1;
    a->metrics.npaths = 2;
    a->metrics.path_changes = 1;
    t = paths_text(a);
    assert_string_equal(t, "Flow label: 0x12345 (fixed); 9 of 10 replies came back with the label "
                           "sent, 1 with another (changed in flight, or not reflected by the "
                           "reflector)\nPaths: 2 distinct (outbound, inbound) TTL / Hop Limit "
                           "pairs, 1 path change between consecutive replies\n");
    free(t);
    /* The same label twice: one label; another session's per-packet labels
     * add up and make the total's mode mixed. */
    tw_report_merge(tot, a);
    tw_report_merge(tot, a);
    assert_int_equal(tot->flowlabel_mode, TW_FL_FIXED);
    assert_int_equal(tot->flowlabels, 1);
    assert_int_equal(tot->metrics.fl_reflected, 18);
    assert_int_equal(tot->metrics.path_changes, 2);
    b->flowlabel_mode = TW_FL_PER_PACKET;
    b->flowlabels = 50;
    tw_report_merge(tot, b);
    assert_int_equal(tot->flowlabel_mode, TW_FL_MIXED);
    assert_int_equal(tot->flowlabels, 51);
    t = paths_text(tot);
    assert_non_null(strstr(t, "Flow label: mixed (sessions of several modes), 51 labels sent; 18 "
                              "of 20 replies"));
    free(t);
    /* A path change alone is said without a flow label. */
    b->flowlabel_mode = TW_FL_NONE;
    b->metrics.path_changes = 3;
    b->metrics.npaths = 2;
    t = paths_text(b);
    assert_string_equal(t, "Paths: 2 distinct (outbound, inbound) TTL / Hop Limit pairs, 3 path "
                           "changes between consecutive replies\n");
    free(t);
    tw_metrics_free(&a->metrics);
    tw_metrics_free(&b->metrics);
    tw_metrics_free(&tot->metrics);
    free(a);
    free(b);
    free(tot);
}

/* No reply at all: one warning saying what to check, not the loss direction. */
static void test_no_reply_warning(void **state)
{
    (void)state;
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    tw_metrics_init_total(&r->metrics);
    r->sent = 3;
    tw_warnings_t w;
    tw_report_warnings(r, &w);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.msg[0], "no reply to any of the 3 packets: is a reflector answering at "
                                  "that address and port, and does no firewall drop the UDP "
                                  "packets on the way?");
    /* Replies that came but were not measured: not "no reply". */
    r->integrity_failures = 3;
    tw_report_warnings(r, &w);
    for (int i = 0; i < w.n; i++)
        assert_null(strstr(w.msg[i], "no reply"));
    free(r);
}

/* Conformance findings: one line each after the reply issues, warnings then
 * notes, before the report's own warnings; totals merge them; codes on the
 * report's warnings. */
static void feed_conform(tw_sender_result_t *r, int n, bool t2eqt3)
{
    static uint8_t b[64];
    tw_conform_init(&r->conform, TW_CF_TWAMP);
    for (int i = 0; i < n; i++) {
        memset(b, 0, sizeof b);
        tw_time_t t1 = 1790000000LL * TW_NS_PER_SEC + i * TW_NS_PER_MS;
        tw_conform_reply_t c = {.buf = b,
                                .len = 41,
                                .req_len = 41,
                                .format = TW_CF_TWAMP,
                                .sseq = (uint32_t)i,
                                .rseq = (uint32_t)i,
                                .errest = 0x8001,
                                .t1 = t1,
                                .t2 = t1 + 1000,
                                .t3 = t1 + (t2eqt3 ? 1000 : 2000),
                                .t4 = t1 + 3000,
                                .sender_ttl = 64};
        c.ntp2 = tw_time_to_ntp(c.t2);
        c.ntp3 = tw_time_to_ntp(c.t3);
        tw_conform_reply(&r->conform, &c);
    }
}

static void test_conformance_lines(void **state)
{
    (void)state;
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    tw_metrics_init_total(&r->metrics);
    for (uint32_t i = 0; i < 4; i++)
        tw_stats_add(&r->stats, 2 * MS, MS, MS, i, i);
    r->sent = 4;
    r->late = 1;
    feed_conform(r, 4, true);
    char *t = extended(r, NULL);
    const char *w = strstr(t, "\nWarning [t2-equals-t3] RFC 5357 §4.2.1: 4 of 4 replies carry "
                              "Receive Timestamp = Timestamp: residence not reported (it is "
                              "inside the round trip)\n");
    const char *n = strstr(t, "\nNote [sequence-stateless] RFC 5357 §4.2.1: 4 of 4 replies");
    const char *l = strstr(t, "\nWarning: 1 replies came after the timeout");
    if (!w || !n || !l || !(w < n && n < l))
        fail_msg("conformance lines missing or out of order in:\n%s", t);
    free(t);
    char lines[TW_CF_COUNT][TW_CONFORM_LINE];
    assert_int_equal(tw_conform_lines(r, lines, TW_CF_COUNT), 2);
    assert_int_equal(tw_conform_lines(r, lines, 1), 1);
    assert_non_null(strstr(lines[0], "[t2-equals-t3]"));
    /* The report's own warnings have codes and counts. */
    tw_warnings_t wr;
    tw_report_warnings(r, &wr);
    assert_int_equal(wr.n, 1);
    assert_string_equal(wr.code[0], "late-replies");
    assert_int_equal(wr.count[0], 1);
    /* A total over two sessions. */
    tw_sender_result_t *b = calloc(1, sizeof *b), *tot = calloc(1, sizeof *tot);
    assert_non_null(b);
    assert_non_null(tot);
    feed_conform(b, 2, false);
    tw_report_total_init(tot);
    tw_report_merge(tot, r);
    tw_report_merge(tot, b);
    assert_int_equal(tot->conform.replies, 6);
    assert_int_equal(tw_conform_count(&tot->conform, TW_CF_T2_EQUALS_T3), 4);
    tw_metrics_free(&tot->metrics);
    tw_metrics_free(&r->metrics);
    free(tot);
    free(b);
    free(r);
}

/* The STAMP TLVs block: nothing when none asked; a line per TLV answered. */
static void test_tlv_lines(void **state)
{
    (void)state;
    tw_tlv_result_t t;
    memset(&t, 0, sizeof t);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    tw_tlv_report_lines(f, &t);
    fclose(f);
    assert_string_equal(text, "");
    free(text);
    t.want = 1u << TW_TLVT_LOCATION | 1u << TW_TLVT_DIRECT;
    t.replies = 3;
    t.seen[TW_TLVT_LOCATION] = t.seen[TW_TLVT_DIRECT] = 3;
    t.seen[TW_TLV_NTYPES - 1] = t.u[TW_TLV_NTYPES - 1] = 3;
    t.loc_n = 3;
    t.loc_dst_family = t.loc_src_family = AF_INET;
    t.loc_dst[0] = t.loc_src[0] = 127;
    t.loc_dst[3] = t.loc_src[3] = 1;
    t.loc_dport = 862;
    t.loc_sport = 20000;
    t.dm_n = 3;
    t.dm_first[0] = t.dm_first[1] = 1;
    t.dm_last[0] = t.dm_last[1] = 3;
    t.dm_last[2] = 2;
    f = open_memstream(&text, &size);
    tw_tlv_report_lines(f, &t);
    fclose(f);
    assert_string_equal(text,
                        "STAMP TLVs (RFC 8972): read in 3 replies\n"
                        "  location             3 back\n"
                        "  direct_measurement   3 back\n"
                        "  type_11              3 back (types 11 and up), 3 not understood (U)\n"
                        "  Location: the reflector saw 127.0.0.1:20000 -> 127.0.0.1:862\n"
                        "  Direct Measurement: sender Tx 1..3, reflector Rx 1..3, reflector Tx "
                        "0..2\n");
    free(text);
}

/* Dropped by this host: said as such, never left to read as network loss. */
static void test_local_drops(void **state)
{
    (void)state;
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    char buf[512];
    tw_loss_t loss = {.roundtrip = 30, .outbound = 0, .inbound = 30};
    assert_int_equal(tw_report_local_drops_line(r, &loss, buf, sizeof buf), 0);
    r->local_rx_drops = 25;
    r->rx_buffer = 212992;
    assert_int_equal(tw_report_local_drops_line(r, &loss, buf, sizeof buf), 1);
    assert_string_equal(buf, "dropped by this host, not the network: 30 lost inbound, of which "
                             "25 dropped by this host's receive buffer of 212992 octets");
    /* Direction unknown: of the round-trip loss. */
    loss.unknown = TW_LOSS_REORDERED;
    r->local_tx_drops = 2;
    r->rx_buffer = 0;
    assert_int_equal(tw_report_local_drops_line(r, &loss, buf, sizeof buf), 1);
    assert_string_equal(buf, "dropped by this host, not the network: 30 lost, of which 25 "
                             "replies dropped by this host's receive buffer; 2 test packets "
                             "never left this host (no buffer space)");
    /* More drops than losses (other datagrams on the port): capped. */
    loss = (tw_loss_t){.roundtrip = 10, .inbound = 10};
    r->local_tx_drops = 0;
    assert_int_equal(tw_report_local_drops_line(r, &loss, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "10 lost inbound, of which 10 dropped"));
    /* The warnings carry it; the merge adds it up. */
    tw_stats_init(&r->stats);
    tw_metrics_init_total(&r->metrics);
    r->sent = 10;
    r->shared_clock = true;
    tw_warnings_t w;
    tw_report_warnings(r, &w);
    bool seen = false;
    for (int i = 0; i < w.n; i++)
        seen = seen || strstr(w.msg[i], "dropped by this host's receive buffer");
    assert_true(seen);
    tw_sender_result_t *tot = calloc(1, sizeof *tot);
    assert_non_null(tot);
    tw_report_total_init(tot);
    tw_report_merge(tot, r);
    tw_report_merge(tot, r);
    assert_int_equal(tot->local_rx_drops, 50);
    tw_metrics_free(&tot->metrics);
    free(tot);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_label_paths),  cmocka_unit_test(test_fmt_delay_us),
        cmocka_unit_test(test_fmt_delay_ms),      cmocka_unit_test(test_fmt_delay_sec),
        cmocka_unit_test(test_fmt_delay_min),     cmocka_unit_test(test_fmt_delay_buffer),
        cmocka_unit_test(test_table_normal),      cmocka_unit_test(test_table_long_delays),
        cmocka_unit_test(test_table_seconds),     cmocka_unit_test(test_table_sent_zero),
        cmocka_unit_test(test_table_no_replies),  cmocka_unit_test(test_table_stale_counter),
        cmocka_unit_test(test_table_slow_probe),  cmocka_unit_test(test_extended_loss_na),
        cmocka_unit_test(test_shared_clock),      cmocka_unit_test(test_no_reply_warning),
        cmocka_unit_test(test_conformance_lines), cmocka_unit_test(test_tlv_lines),
        cmocka_unit_test(test_local_drops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
