/* run_report: a whole run's report (text, JSON, totals), interval lines and the
 * progress line, over senders driven through their no-I/O hooks (cfg.xmit,
 * tw_sender_input): nothing leaves the process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "run_report.h"
#include "sender.h"
#include "wire.h"

#define SEC TW_NS_PER_SEC
#define COUNT 4

typedef struct sess {
    tw_sender_t *s;
    int nsent;
    uint32_t seq[COUNT];
    uint64_t ts[COUNT];
    bool done;
} sess_t;

static ssize_t xmit(void *arg, const uint8_t *buf, size_t len)
{
    sess_t *h = arg;
    tw_sender_pkt_t p;
    assert_int_equal(tw_sender_decode(buf, len, &p), TW_WIRE_OK);
    assert_true(h->nsent < COUNT);
    h->seq[h->nsent] = p.seq;
    h->ts[h->nsent] = p.timestamp;
    h->nsent++;
    return (ssize_t)len;
}

static void on_done(void *arg)
{
    ((sess_t *)arg)->done = true;
}

static void open_sess(sess_t *h, tw_loop_t *loop, tw_run_t *run, int i)
{
    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *l = (struct sockaddr_in *)&cfg.local;
    l->sin_family = AF_INET;
    l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *l;
    struct sockaddr_in *r = (struct sockaddr_in *)&cfg.remote;
    r->sin_family = AF_INET;
    r->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->sin_port = htons(9); /* never used: packets go to xmit */
    cfg.remote_len = sizeof *r;
    cfg.sockopts.ttl = 255;
    cfg.count = COUNT;
    cfg.interval_ns = 1;
    cfg.padding = 27;
    cfg.seed = 7 + (uint64_t)i;
    cfg.tsmode = TW_TS_SOFTWARE;
    cfg.timeout_ns = SEC / 10; /* session 2 waits it out for its lost packet */
    cfg.on_done = on_done;
    cfg.on_done_arg = h;
    cfg.xmit = xmit;
    cfg.hook_arg = h;
    char err[256];
    assert_int_equal(tw_sender_open(&h->s, &cfg, loop, err, sizeof err), 0);
    tw_run_session_open(run, i, h->s, &cfg);
}

/* The reply to packet k: the reflector took 2 µs, the round trip 18 µs. */
static void reply(sess_t *h, int k)
{
    tw_time_t t1 = tw_ntp_to_time(h->ts[k]);
    tw_errest_t ee = {.sync = true, .scale = 0, .multiplier = 1};
    tw_reflector_pkt_t rp = {
        .seq = (uint32_t)k,
        .timestamp = tw_time_to_ntp(t1 + 12000),
        .errest = tw_errest_encode(&ee),
        .rx_time = tw_time_to_ntp(t1 + 10000),
        .sender_seq = h->seq[k],
        .sender_time = h->ts[k],
        .sender_ttl = 255,
    };
    uint8_t buf[TW_REFLECTOR_BASE_LEN];
    assert_int_equal(tw_reflector_encode(&rp, false, buf, sizeof buf), TW_WIRE_OK);
    tw_pkt_t p;
    memset(&p, 0, sizeof p);
    p.buf = buf;
    p.len = p.cap = sizeof buf;
    p.rx_time = t1 + 20000;
    p.rx_kernel = true;
    p.ttl = 64;
    p.tos = -1;
    struct sockaddr_in *peer = (struct sockaddr_in *)&p.peer;
    peer->sin_family = AF_INET;
    peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer->sin_port = htons(9);
    p.peer_len = sizeof *peer;
    tw_sender_input(h->s, &p);
}

typedef struct fixture {
    tw_loop_t *loop;
    tw_run_t run;
    tw_run_session_t rs[2];
    sess_t h[2];
} fixture_t;

/* n sessions of COUNT packets; session 1 gets every reply, session 2 all but
 * its last (lost); both run to their end. */
static fixture_t *run_sessions(const char *cmd, int n)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->loop = tw_loop_new();
    assert_non_null(f->loop);
    tw_run_init(&f->run, cmd, f->rs, n);
    for (int i = 0; i < n; i++)
        open_sess(&f->h[i], f->loop, &f->run, i);
    f->run.start_time = tw_now();
    for (int i = 0; i < n; i++)
        tw_sender_start(f->h[i].s);
    int64_t end = tw_mono_now() + 3 * SEC;
    for (int i = 0; i < n; i++)
        while (f->h[i].nsent < COUNT) {
            assert_true(tw_mono_now() < end);
            tw_loop_run_once(f->loop, 10);
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < COUNT - i; k++)
            reply(&f->h[i], k);
    /* Replies are taken in batches: run until both sessions are over. */
    for (int i = 0; i < n; i++)
        while (!f->h[i].done) {
            assert_true(tw_mono_now() < end);
            tw_loop_run_once(f->loop, 10);
        }
    return f;
}

static void finish(fixture_t *f)
{
    for (int i = 0; i < f->run.n; i++)
        tw_sender_close(f->h[i].s);
    tw_loop_free(f->loop);
    free(f);
}

static char *report(const tw_run_t *run, tw_run_format_t fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(tw_run_report(m, run, fmt), 0);
    fclose(m);
    return buf;
}

static void test_single_text(void **state)
{
    fixture_t *f = run_sessions("sender", 1);
    char *t = report(&f->run, TW_RUN_TEXT);
    assert_non_null(strstr(t, "TWAMP light to 127.0.0.1:9 from 127.0.0.1:"));
    /* The Python twampy's table, then the extended block. */
    assert_non_null(strstr(t, "Direction         Min         Max         Avg          Jitter"));
    assert_non_null(strstr(t, "Packets: 4 sent, 4 received, 0 lost"));
    assert_null(strstr(t, "Session 1 of"));
    assert_null(strstr(t, "Histogram"));
    free(t);
    finish(f);
}

static void test_several_text_total(void **state)
{
    fixture_t *f = run_sessions("controller", 2);
    f->run.server = "127.0.0.1:862";
    f->run.histogram = true;
    char *t = report(&f->run, TW_RUN_TEXT);
    assert_non_null(strstr(t, "TWAMP via server 127.0.0.1:862, 2 sessions to 127.0.0.1:9"));
    char *s1 = strstr(t, "Session 1 of 2"), *s2 = strstr(t, "Session 2 of 2");
    char *all = strstr(t, "All 2 sessions");
    assert_true(s1 && s2 && all && s1 < s2 && s2 < all);
    assert_non_null(strstr(s2, "Packets: 4 sent, 3 received, 1 lost"));
    /* The total: 8 sent, 7 received, the one loss summed from session 2. */
    assert_non_null(strstr(all, "Packets: 8 sent, 7 received, 1 lost"));
    assert_non_null(
        strstr(all, "Roundtrip:         18us        18us        18us         0us     12.5%"));
    /* --histogram: over the total. */
    assert_non_null(strstr(all, "Round-trip delay histogram (7 replies)"));
    free(t);
    finish(f);
}

static void test_json_document(void **state)
{
    fixture_t *f = run_sessions("controller", 2);
    f->run.server = "127.0.0.1:862";
    f->run.timestamping = "hw";
    f->run.csv = "run.csv";
    char *j = report(&f->run, TW_RUN_JSON);
    assert_int_equal(j[0], '{');
    assert_non_null(strstr(j, "\"schema\": \"twampy-report/1\""));
    assert_non_null(strstr(j, "\"command\": \"controller\""));
    assert_non_null(strstr(j, "\"server\": \"127.0.0.1:862\""));
    assert_non_null(strstr(j, "\"sessions\": 2"));
    assert_non_null(strstr(j, "\"mode\": \"twamp\""));
    assert_non_null(strstr(j, "\"timestamping\": \"hw\""));
    assert_non_null(strstr(j, "\"csv\": \"run.csv\""));
    assert_non_null(strstr(j, "\"seed\": 7"));
    /* One object per session after the total, the second with its seed. */
    char *arr = strstr(j, "\"sessions\": [");
    assert_non_null(arr);
    assert_non_null(strstr(arr, "\"session\": 2"));
    assert_non_null(strstr(arr, "\"seed\": 8"));
    /* Pretty-printed: more than one line. */
    assert_non_null(strchr(j, '\n'));
    assert_true(strchr(j, '\n') < j + strlen(j) - 1);
    free(j);
    /* With interval reports the document is one line (JSON Lines). */
    f->run.report_interval_s = 1;
    j = report(&f->run, TW_RUN_JSON);
    assert_ptr_equal(strchr(j, '\n'), j + strlen(j) - 1);
    free(j);
    finish(f);
}

static void test_light_json_config(void **state)
{
    fixture_t *f = run_sessions("sender", 1);
    char *j = report(&f->run, TW_RUN_JSON);
    assert_non_null(strstr(j, "\"remote\": \"127.0.0.1:9\""));
    assert_non_null(strstr(j, "\"mode\": \"twamp-light\""));
    assert_non_null(strstr(j, "\"count\": 4"));
    assert_null(strstr(j, "\"sessions\""));
    assert_non_null(strstr(j, "\"report_interval_s\": null"));
    free(j);
    finish(f);
}

static void test_interval_lines(void **state)
{
    fixture_t *f = run_sessions("controller", 2);
    tw_interval_t iv = {.start_s = 0,
                        .end_s = 1,
                        .sent = 10,
                        .received = 9,
                        .lost = 1,
                        .rtt_min = 8000,
                        .rtt_max = 1250000,
                        .rtt_mean = 20000};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    tw_run_interval(m, &f->run, 2, &iv, TW_RUN_TEXT);
    iv.received = 0;
    tw_run_interval(m, &f->run, 1, &iv, TW_RUN_TEXT);
    tw_run_interval(m, &f->run, 1, &iv, TW_RUN_JSON);
    fclose(m);
    assert_non_null(strstr(buf, "session 2 [  0.00-  1.00 s] sent 10 received 9 lost 1 rtt "
                                "min/avg/max 8us/20us/1.25ms\n"));
    assert_non_null(strstr(buf, "session 1 [  0.00-  1.00 s] sent 10 received 0 lost 1 rtt -\n"));
    assert_non_null(
        strstr(buf, "{\"schema\":\"twampy-report/1\",\"type\":\"interval\",\"session\":1,"));
    free(buf);
    finish(f);
}

static void test_progress(void **state)
{
    fixture_t *f = run_sessions("controller", 2);
    char line[288];
    /* Every packet sent and the run over: the bar full. */
    tw_run_progress(&f->run, 0.5, line, sizeof line);
    assert_non_null(strstr(line, "[####################] 8/8, waiting for replies, rtt "));
    assert_non_null(strstr(line, "median 18us"));
    finish(f);
}

int main(void)
{
    tw_log_set_level(TW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_text),    cmocka_unit_test(test_several_text_total),
        cmocka_unit_test(test_json_document),  cmocka_unit_test(test_light_json_config),
        cmocka_unit_test(test_interval_lines), cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
