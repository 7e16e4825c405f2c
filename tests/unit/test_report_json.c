/* Unit tests for report_json: string escaping, number formatting, the
 * writer's layout, and the JSON form of a session's results. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report_json.h"
#include "stamp_tlv.h"

/* The JSON string of s, in a static buffer. */
static const char *esc(const char *s)
{
    static char out[1024];
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    tw_json_write_string(f, s);
    fclose(f);
    return out;
}

static void test_escape_plain(void **state)
{
    assert_string_equal(esc(""), "\"\"");
    assert_string_equal(esc("127.0.0.1:862"), "\"127.0.0.1:862\"");
    assert_string_equal(esc("a/b"), "\"a/b\""); /* '/' needs no escape */
}

static void test_escape_quote_backslash(void **state)
{
    assert_string_equal(esc("say \"hi\""), "\"say \\\"hi\\\"\"");
    assert_string_equal(esc("C:\\dir\\"), "\"C:\\\\dir\\\\\"");
    assert_string_equal(esc("\\\""), "\"\\\\\\\"\"");
}

static void test_escape_control_characters(void **state)
{
    /* Every control character is escaped: the short forms where JSON has them,
     * \u00XX for the others. */
    char in[2] = {0, 0};
    char want[16];
    for (int c = 1; c < 0x20; c++) {
        in[0] = (char)c;
        switch (c) {
        case '\b':
            strcpy(want, "\"\\b\"");
            break;
        case '\t':
            strcpy(want, "\"\\t\"");
            break;
        case '\n':
            strcpy(want, "\"\\n\"");
            break;
        case '\f':
            strcpy(want, "\"\\f\"");
            break;
        case '\r':
            strcpy(want, "\"\\r\"");
            break;
        default:
            snprintf(want, sizeof want, "\"\\u%04x\"", c);
        }
        assert_string_equal(esc(in), want);
    }
    /* A host name and a file name with control characters in them. */
    assert_string_equal(esc("evil\x01host\x1f.example"), "\"evil\\u0001host\\u001f.example\"");
    assert_string_equal(esc("/tmp/a\tb\nc\x7f.csv"), "\"/tmp/a\\tb\\nc\x7f.csv\"");
    assert_string_equal(esc("\x1b[31mred"), "\"\\u001b[31mred\"");
}

static void test_escape_utf8(void **state)
{
    /* Valid UTF-8 passes through as it is. */
    assert_string_equal(esc("caf\xc3\xa9"), "\"caf\xc3\xa9\"");           /* é */
    assert_string_equal(esc("\xe2\x82\xac 5"), "\"\xe2\x82\xac 5\"");     /* € */
    assert_string_equal(esc("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\""); /* U+1F600 */
    assert_string_equal(esc("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");         /* U+FFFF */
    assert_string_equal(esc("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    /* Invalid sequences become U+FFFD, one per octet, so the output is JSON. */
    assert_string_equal(esc("a\xff"), "\"a\\ufffd\"");
    assert_string_equal(esc("\xc3"), "\"\\ufffd\"");                       /* truncated */
    assert_string_equal(esc("\xc3x"), "\"\\ufffdx\"");                     /* bad continuation */
    assert_string_equal(esc("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    assert_string_equal(esc("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    assert_string_equal(esc("\xf4\x90\x80\x80"),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
}

static const char *num(double v)
{
    static char b[40];
    return tw_json_fmt_num(b, sizeof b, v);
}

static void test_numbers(void **state)
{
    assert_string_equal(num(0), "0");
    assert_string_equal(num(-0.0), "0");
    assert_string_equal(num(5), "5");
    assert_string_equal(num(-5), "-5");
    assert_string_equal(num(0.1), "0.1");
    assert_string_equal(num(1.5), "1.5");
    assert_string_equal(num(100.0 / 3), "33.333333333333336"); /* %.17g: reads back exactly */
    assert_string_equal(num(1e300), "1e+300");
    assert_string_equal(num(-2.5e-7), "-2.5e-07");
    assert_string_equal(num(123456789012345.0), "123456789012345");
    /* Never NaN or infinity: JSON has neither. */
    assert_string_equal(num(NAN), "null");
    assert_string_equal(num(INFINITY), "null");
    assert_string_equal(num(-INFINITY), "null");
    /* Every finite value reads back as itself. */
    double vals[] = {0.3, 1.0 / 7, 2.0 / 3, 1e-300, 4.9e-324, 1.7976931348623157e308, 12.345};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        assert_true(strtod(num(vals[i]), NULL) == vals[i]);
}

/* A locale whose decimal point is a comma: an installed one, or de_DE built
 * with localedef into a temporary directory (LOCPATH). NULL when neither. */
static char locdir[64];
static const char *comma_locale(void)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", NULL};
    for (int i = 0; names[i]; i++)
        if (setlocale(LC_NUMERIC, names[i]))
            return names[i];
    strcpy(locdir, "/tmp/twampy-locale.XXXXXX");
    if (!mkdtemp(locdir))
        return NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1 || "
             "localedef -i de_DE -f UTF-8 --no-archive %s/de_DE.UTF-8 >/dev/null 2>&1",
             locdir, locdir);
    if (system(cmd) != 0)
        return NULL;
    setenv("LOCPATH", locdir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") ? "de_DE.UTF-8 (built)" : NULL;
}

static void test_numbers_locale(void **state)
{
    /* A locale with a decimal comma must not leak into JSON. */
    const char *name = comma_locale();
    if (locdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", locdir);
        assert_int_equal(system(cmd), 0);
    }
    if (!name) {
        setlocale(LC_NUMERIC, "C");
        skip(); /* neither an installed nor a buildable comma locale */
    }
    /* The locale is really in effect: printf writes a comma. */
    char b[16];
    snprintf(b, sizeof b, "%.1f", 1.5);
    assert_string_equal(b, "1,5");
    assert_string_equal(num(1.5), "1.5");
    assert_string_equal(num(0.1), "0.1");
    assert_string_equal(num(-2.5e-7), "-2.5e-07");
    assert_string_equal(num(100.0 / 3), "33.333333333333336");
    setlocale(LC_NUMERIC, "C");
}

static const char *us(int64_t ns)
{
    static char b[40];
    return tw_json_fmt_us(b, sizeof b, ns);
}

static void test_microseconds(void **state)
{
    assert_string_equal(us(0), "0");
    assert_string_equal(us(1), "0.001");
    assert_string_equal(us(7), "0.007");
    assert_string_equal(us(10), "0.01");
    assert_string_equal(us(100), "0.1");
    assert_string_equal(us(999), "0.999");
    assert_string_equal(us(1000), "1");
    assert_string_equal(us(12345), "12.345");
    assert_string_equal(us(12340), "12.34");
    assert_string_equal(us(12300), "12.3");
    assert_string_equal(us(12000), "12");
    assert_string_equal(us(-1), "-0.001");
    assert_string_equal(us(-1500), "-1.5");
    assert_string_equal(us(-12345), "-12.345");
    assert_string_equal(us(INT64_MAX), "9223372036854775.807");
    assert_string_equal(us(INT64_MIN), "-9223372036854775.808");
}

/* The writer's output for a callback, in a static buffer. */
static char doc[1 << 16];
static FILE *open_doc(void)
{
    FILE *f = fmemopen(doc, sizeof doc, "w");
    assert_non_null(f);
    return f;
}

static void test_writer_compact(void **state)
{
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "s", "x\"y");
    tw_json_int(&j, "i", -3);
    tw_json_uint(&j, "u", UINT64_MAX);
    tw_json_num(&j, "n", NAN);
    tw_json_bool(&j, "t", true);
    tw_json_null(&j, "z");
    tw_json_str(&j, "nul", NULL);
    tw_json_us(&j, "d", 1500);
    tw_json_us_f(&j, "m", 1499.6);
    tw_json_us_f(&j, "inf", INFINITY);
    tw_json_arr_begin(&j, "a");
    tw_json_int(&j, NULL, 1);
    tw_json_obj_begin(&j, NULL);
    tw_json_obj_end(&j);
    tw_json_arr_begin(&j, NULL);
    tw_json_arr_end(&j);
    tw_json_arr_end(&j);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(doc, "{\"s\":\"x\\\"y\",\"i\":-3,\"u\":18446744073709551615,\"n\":null,"
                             "\"t\":true,\"z\":null,\"nul\":null,\"d\":1.5,\"m\":1.5,\"inf\":null,"
                             "\"a\":[1,{},[]]}\n");
}

static void test_writer_pretty(void **state)
{
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, true);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "a", "b");
    tw_json_obj_begin(&j, "o");
    tw_json_int(&j, "x", 1);
    tw_json_obj_begin_line(&j, "line");
    tw_json_int(&j, "p", 2);
    tw_json_arr_begin(&j, "q");
    tw_json_int(&j, NULL, 3);
    tw_json_int(&j, NULL, 4);
    tw_json_arr_end(&j);
    tw_json_obj_end(&j);
    tw_json_obj_end(&j);
    tw_json_arr_begin(&j, "e");
    tw_json_arr_end(&j);
    tw_json_arr_begin_line(&j, "l");
    tw_json_int(&j, NULL, 5);
    tw_json_int(&j, NULL, 6);
    tw_json_arr_end(&j);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(doc, "{\n"
                             "  \"a\": \"b\",\n"
                             "  \"o\": {\n"
                             "    \"x\": 1,\n"
                             "    \"line\": {\"p\": 2, \"q\": [3, 4]}\n"
                             "  },\n"
                             "  \"e\": [],\n"
                             "  \"l\": [5, 6]\n"
                             "}\n");
}

/* A result with three replies of round trips 10, 20 and 40 us (outbound
 * 4, 8, 16; residence 2 us each) out of four packets sent. */
static tw_sender_result_t *make_result(void)
{
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    assert_int_equal(tw_metrics_init(&r->metrics, true), 0);
    int64_t rt[3] = {10000, 20000, 40000};
    for (int i = 0; i < 3; i++) {
        int64_t ob = rt[i] * 2 / 5, ib = rt[i] - ob;
        tw_time_t t1 = 1700000000LL * 1000000000LL + i * 1000000LL;
        tw_sample_t s = {.seq = (uint32_t)i,
                         .rseq = (uint32_t)i,
                         .t1 = t1,
                         .t2 = t1 + ob,
                         .t3 = t1 + ob + 2000,
                         .t4 = t1 + ob + 2000 + ib,
                         .ttl_out = 64,
                         .ttl_in = 63,
                         .remote_sync = true};
        tw_metrics_add(&r->metrics, &s);
        tw_stats_add(&r->stats, rt[i], ob, ib, (uint32_t)i, (uint32_t)i);
    }
    r->sent = 4;
    r->tx_kernel = 4;
    r->rx_kernel = 3;
    r->duplicates = 2;
    r->unmatched = 1;
    r->elapsed_s = 0.5;
    return r;
}

static void free_result(tw_sender_result_t *r)
{
    tw_metrics_free(&r->metrics);
    free(r);
}

static void test_result(void **state)
{
    tw_sender_result_t *r = make_result();
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_result(&j, r, NULL);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    const char *want[] = {
        "{\"elapsed_s\":0.5,\"interrupted\":false,\"counters\":{\"sent\":4,\"received\":3,",
        /* rseq == sseq and the last packet lost: which way, nobody knows */
        "\"lost\":{\"round_trip\":1,\"outbound\":null,\"inbound\":null,\"unattributed\":1,"
        "\"outbound_at_least\":0,\"inbound_at_least\":0,"
        "\"direction_unknown\":[\"edges\",\"stateless\"]}",
        "\"loss_percent\":{\"round_trip\":25,\"outbound\":null,\"inbound\":null}",
        "\"duplicates\":2,\"reordered\":0,\"reorder_extent\":0,\"late\":0,\"unmatched\":1,",
        "\"round_trip\":{\"samples\":3,\"min\":10,\"max\":40,",
        "\"outbound\":{\"samples\":3,\"min\":4,\"max\":16,",
        "\"pdv\":{\"p50\":",
        "\"residence\":{\"min\":2,\"median\":2,\"max\":2}",
        "\"ttl\":{\"outbound\":{\"first\":64,\"min\":64,\"max\":64},"
        "\"inbound\":{\"first\":63,\"min\":63,\"max\":63}}",
        "\"timestamps\":{\"t1_kernel\":4,\"t1_total\":4,\"t4_kernel\":3,\"t4_total\":3,"
        "\"t1\":\"kernel\",\"t4\":\"kernel\",\"summary\":\"kernel\"}",
        "\"clock\":{\"shared\":false,\"local_synchronized\":true,\"reflector_synchronized\":true,"
        "\"negative_oneway\":0}",
        "\"histogram\":{\"of\":\"round_trip\",\"buckets\":[{\"lo\":",
        "\"count\":1}",
        "\"warnings\":[{\"code\":\"loss-direction-unknown\",\"severity\":\"warn\","
        "\"rfc\":null,\"count\":1,\"of\":null,"
        "\"text\":\"outbound and inbound loss n/a: 1 of the 1 lost packets cannot be "
        "given a direction (lost before the first reply or after the last one",
        "; every reply carried our own sequence number: a stateless reflector, or no request "
        "lost on the way out, no telling which)\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(doc, want[i]))
            fail_msg("'%s' not in %s", want[i], doc);
    /* The mean round trip: (10 + 20 + 40) / 3 = 23.333 us, to the ns. */
    assert_non_null(strstr(doc, "\"mean\":23.333,"));
    free_result(r);
}

static void test_result_empty(void **state)
{
    /* Nothing came back: null statistics, every packet lost, no NaN anywhere. */
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    assert_int_equal(tw_metrics_init(&r->metrics, false), 0);
    r->sent = 5;
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, true);
    tw_json_obj_begin(&j, NULL);
    tw_json_result(&j, r, NULL);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_non_null(strstr(doc, "\"outbound\": null"));
    assert_non_null(strstr(doc, "\"round_trip\": null"));
    assert_non_null(strstr(doc, "\"residence\": null"));
    /* Not 5 outbound and 5 inbound of 5: lost, which way unknown. */
    assert_non_null(strstr(doc, "\"lost\": {\"round_trip\": 5, \"outbound\": null, \"inbound\": "
                                "null, \"unattributed\": 5, \"outbound_at_least\": 0, "
                                "\"inbound_at_least\": 0, \"direction_unknown\": [\"edges\"]}"));
    assert_non_null(strstr(doc, "\"loss_percent\": {\"round_trip\": 100, \"outbound\": null, "
                                "\"inbound\": null}"));
    assert_non_null(strstr(doc, "\"t4\": \"none\""));
    assert_non_null(strstr(doc, "\"buckets\": []"));
    assert_null(strstr(doc, "nan"));
    assert_null(strstr(doc, "inf"));
    free_result(r);
}

/* The loss by direction when it is known: numbers, no reason; and the
 * slow probe (every reply rseq 0, nothing lost): 0 each way. */
static void test_result_loss_known(void **state)
{
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    tw_stats_init(&r->stats);
    tw_metrics_init_total(&r->metrics);
    /* sseq 0..5, rseq 0 1 - 2 - 4: sseq 2 never reached the reflector, the
     * reply to sseq 4 (rseq 3) was lost. */
    static const uint32_t sq[] = {0, 1, 3, 5}, rq[] = {0, 1, 2, 4};
    for (int i = 0; i < 4; i++)
        tw_stats_add(&r->stats, 20000, 10000, 10000, rq[i], sq[i]);
    r->sent = 6;
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_result(&j, r, NULL);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    const char *want = "\"lost\":{\"round_trip\":2,\"outbound\":1,\"inbound\":1,"
                       "\"unattributed\":0,\"outbound_at_least\":1,\"inbound_at_least\":1,"
                       "\"direction_unknown\":[]},\"loss_percent\":{\"round_trip\":33.33";
    if (!strstr(doc, want))
        fail_msg("'%s' not in %s", want, doc);
    assert_null(strstr(doc, "n/a"));

    tw_stats_init(&r->stats);
    for (uint32_t i = 0; i < 3; i++)
        tw_stats_add(&r->stats, 20000, 10000, 10000, 0, i);
    r->sent = 3;
    f = open_doc();
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_result(&j, r, NULL);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    want = "\"lost\":{\"round_trip\":0,\"outbound\":0,\"inbound\":0,\"unattributed\":0,"
           "\"outbound_at_least\":0,\"inbound_at_least\":0,\"direction_unknown\":[]}";
    if (!strstr(doc, want))
        fail_msg("'%s' not in %s", want, doc);
    free(r);
}

static void test_interval(void **state)
{
    FILE *f = open_doc();
    tw_interval_t iv = {.start_s = 1,
                        .end_s = 2.5,
                        .sent = 10,
                        .received = 9,
                        .lost = 1,
                        .rtt_min = 12000,
                        .rtt_max = 30000,
                        .rtt_mean = 15000.4,
                        .rtt_last = 14000};
    tw_json_interval(f, 2, &iv);
    iv.received = 0;
    tw_json_interval(f, 0, &iv);
    fclose(f);
    assert_string_equal(doc, "{\"schema\":\"twampy-report/1\",\"type\":\"interval\",\"session\":2,"
                             "\"start_s\":1,\"end_s\":2.5,\"sent\":10,\"received\":9,\"lost\":1,"
                             "\"rtt\":{\"min\":12,\"mean\":15,\"max\":30,\"last\":14}}\n"
                             "{\"schema\":\"twampy-report/1\",\"type\":\"interval\","
                             "\"start_s\":1,\"end_s\":2.5,\"sent\":10,\"received\":0,\"lost\":1,"
                             "\"rtt\":null}\n");
}

/* warnings: the conformance findings first (warn, then info), each
 * {code, severity, rfc, count, of, text}; then the report's own. */
static void test_warnings_objects(void **state)
{
    (void)state;
    tw_sender_result_t *r = make_result();
    static uint8_t b[64];
    tw_conform_init(&r->conform, TW_CF_STAMP);
    for (int i = 0; i < 3; i++) {
        memset(b, 0, sizeof b);
        b[40] = 64; /* SSID 0 at 14: not the 5 sent */
        tw_time_t t1 = 1790000000LL * TW_NS_PER_SEC;
        tw_conform_reply_t c = {.buf = b,
                                .len = 44,
                                .req_len = 44,
                                .format = TW_CF_STAMP,
                                .ssid = 5,
                                .sseq = (uint32_t)i,
                                .rseq = (uint32_t)i,
                                .errest = 0x0001,
                                .t1 = t1,
                                .t4 = t1 + 1000,
                                .sender_ttl = 64};
        tw_conform_reply(&r->conform, &c);
    }
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_warnings(&j, r, NULL);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(
        doc, "{\"warnings\":[{\"code\":\"ssid-not-echoed\",\"severity\":\"warn\","
             "\"rfc\":\"RFC 8972 §3\",\"count\":3,\"of\":3,"
             "\"text\":\"3 of 3 replies carry SSID 0, not the 5 sent\"},"
             "{\"code\":\"sequence-stateless\",\"severity\":\"info\","
             "\"rfc\":\"RFC 8762 §4\",\"count\":3,\"of\":3,"
             "\"text\":\"3 of 3 replies carry our Sequence Number as the reflector's: a stateless "
             "reflector (a lost packet then has no known direction), or a stateful one that "
             "missed none of ours\"},"
             "{\"code\":\"loss-direction-unknown\",\"severity\":\"warn\",\"rfc\":null,"
             "\"count\":1,\"of\":null,\"text\":\"outbound and inbound loss n/a: 1 of the 1 lost "
             "packets cannot be given a direction (lost before the first reply or after the "
             "last one, where the reflector's count is unknown; every reply carried our own "
             "sequence number: a stateless reflector, or "
             "no request lost on the way out, no telling which)\"}]}\n");
    free_result(r);
}

/* flow_label (null without --flow-label) and paths: every member of
 * docs/json-schema.md. */
static void test_flow_label_paths(void **state)
{
    (void)state;
    tw_sender_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_paths(&j, r);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(doc, "{\"flow_label\":null,\"paths\":{\"distinct\":0,\"overflow\":0,"
                             "\"changes\":0}}\n");
    r->flowlabel_mode = TW_FL_FIXED;
    r->flowlabel = 0x12345;
    r->flowlabels = 1;
    r->metrics.fl_reflected = 9;
    r->metrics.fl_changed = 1;
    r->metrics.npaths = 2;
    r->metrics.paths_overflow = 0;
    r->metrics.path_changes = 3;
    f = open_doc();
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_paths(&j, r);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(doc, "{\"flow_label\":{\"mode\":\"fixed\",\"label\":74565,"
                             "\"labels_sent\":1,\"reflected\":9,\"changed\":1},\"paths\":"
                             "{\"distinct\":2,\"overflow\":0,\"changes\":3}}\n");
    r->flowlabel_mode = TW_FL_PER_PACKET;
    r->flowlabels = 10;
    f = open_doc();
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_paths(&j, r);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_non_null(strstr(doc, "\"mode\":\"per-packet\",\"label\":null,\"labels_sent\":10"));
    free(r);
}

/* tlvs (--tlv): null when none asked; every member of docs/json-schema.md. */
static void test_tlvs(void **state)
{
    (void)state;
    tw_tlv_result_t t;
    memset(&t, 0, sizeof t);
    FILE *f = open_doc();
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_tlvs(&j, &t);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(doc, "{\"tlvs\":null}\n");

    t.want = 1u << TW_TLVT_LOCATION | 1u << TW_TLVT_COS | 1u << TW_TLVT_FOLLOWUP;
    t.replies = 2;
    t.seen[TW_TLVT_COS] = 2;
    t.u[TW_TLVT_COS] = 1;
    t.loc_n = 2;
    t.loc_dst_family = AF_INET;
    memcpy(t.loc_dst, (uint8_t[]){192, 0, 2, 1}, 4);
    t.loc_dport = 862;
    t.loc_src_family = AF_INET6;
    t.loc_src[15] = 1;
    t.loc_sport = 20000;
    t.cos_n = 1;
    t.cos_sent_dscp = 46;
    t.cos_dscp1 = 10;
    t.cos_dscp2 = 0;
    t.cos_ecn = 1;
    t.cos_reply_dscp = -1;
    t.cos_fwd_remarked = 1;
    t.cos_rev_unknown = 1;
    t.fu_n = 2;
    t.fu_zero = 1;
    t.fu_matched = 1;
    t.fu_min = t.fu_max = 1500;
    t.fu_sum = 1500;
    t.fu_method = TW_TSM_SW;
    f = open_doc();
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_tlvs(&j, &t);
    tw_json_obj_end(&j);
    tw_json_end(&j);
    fclose(f);
    assert_string_equal(
        doc,
        "{\"tlvs\":{\"asked\":[\"location\",\"class_of_service\",\"follow_up_telemetry\"],"
        "\"replies\":2,\"replies_without_tlvs\":0,\"unparsable_areas\":0,\"types\":[{\"type\":4,"
        "\"name\":\"class_of_service\",\"seen\":2,\"u\":1,\"m\":0,\"i\":0}],\"hmac\":{"
        "\"verified\":0,\"failed\":0},\"location\":{\"replies\":2,\"changed\":0,"
        "\"sender_address\":\"::1\",\"sender_port\":20000,\"reflector_address\":\"192.0.2.1\","
        "\"reflector_port\":862},\"timestamp_info\":null,\"class_of_service\":{\"replies\":1,"
        "\"sent_dscp\":46,\"received_dscp\":0,\"received_ecn\":1,\"requested_reply_dscp\":10,"
        "\"reply_dscp\":null,\"remarked_forward\":1,\"remarked_reverse\":0,"
        "\"reverse_unknown\":1,\"rp_set\":0},\"direct_measurement\":null,"
        "\"access_report\":null,\"follow_up\":{\"replies\":2,\"empty\":1,\"matched\":1,"
        "\"method\":\"sw_local\",\"after_t3\":{\"min\":1.5,\"avg\":1.5,\"max\":1.5}}}}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlvs),
        cmocka_unit_test(test_flow_label_paths),
        cmocka_unit_test(test_escape_plain),
        cmocka_unit_test(test_escape_quote_backslash),
        cmocka_unit_test(test_escape_control_characters),
        cmocka_unit_test(test_escape_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_locale),
        cmocka_unit_test(test_microseconds),
        cmocka_unit_test(test_writer_compact),
        cmocka_unit_test(test_writer_pretty),
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_result_empty),
        cmocka_unit_test(test_result_loss_known),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_warnings_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
