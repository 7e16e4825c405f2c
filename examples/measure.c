/* measure: embed libtwampy — send STAMP test packets to a reflector and print
 * the report `twampy sender --stamp` prints, in text or JSON.
 *
 *   cc measure.c $(pkg-config --cflags --libs twampy) -o measure
 *   ./measure                    a reflector of its own on 127.0.0.1 (loopback)
 *   ./measure 192.0.2.1:862      a STAMP reflector elsewhere
 *   ./measure -j [address]       the JSON report (docs/json-schema.md)
 *
 * Everything runs on one event loop: the sender (and the built-in reflector)
 * are engines on it, and the sender's on_done hook stops it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <twampy/twampy.h>

static void on_done(void *arg)
{
    tw_loop_stop(arg);
}

static int resolve(const char *text, bool passive, struct sockaddr_storage *ss, socklen_t *len)
{
    tw_addr_spec_t spec;
    char err[256];
    if (tw_addr_parse(text, 862, &spec, err, sizeof err) < 0 ||
        tw_addr_resolve(&spec, AF_UNSPEC, passive, ss, len, err, sizeof err) < 0) {
        fprintf(stderr, "measure: %s: %s\n", text, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "-j") == 0;
    const char *target = argc > 1 + json ? argv[1 + json] : NULL;
    char err[256];
    tw_log_set_level(TW_LOG_WARN);

    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        return 2;

    /* No target: a reflector of our own on loopback, on a port the kernel picks. */
    tw_reflector_t *refl = NULL;
    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!target) {
        tw_reflector_cfg_t rc;
        memset(&rc, 0, sizeof rc);
        rc.sockopts.ttl = 64;
        rc.idle_reset_ns = 30 * TW_NS_PER_SEC;
        rc.max_senders = 16;
        rc.format = TW_FORMAT_STAMP;
        if (resolve("127.0.0.1:0", true, &rc.local, &rc.local_len) < 0 ||
            tw_reflector_open(&refl, &rc, loop, err, sizeof err) < 0) {
            fprintf(stderr, "measure: reflector: %s\n", err);
            return 2;
        }
        tw_reflector_local(refl, &cfg.remote, &cfg.remote_len);
    } else if (resolve(target, false, &cfg.remote, &cfg.remote_len) < 0) {
        return 2;
    }
    if (resolve(cfg.remote.ss_family == AF_INET6 ? "[::]:0" : "0.0.0.0:0", true, &cfg.local,
                &cfg.local_len) < 0)
        return 2;

    /* 20 STAMP packets of 44 octets, one every 10 ms, 1 s for the last reply. */
    cfg.sockopts.ttl = 255;
    cfg.count = 20;
    cfg.interval_ns = 10 * TW_NS_PER_MS;
    cfg.stamp = true;
    cfg.padding = 30;
    cfg.timeout_ns = TW_NS_PER_SEC;
    cfg.tsmode = TW_TS_SOFTWARE;
    cfg.on_done = on_done;
    cfg.on_done_arg = loop;

    tw_run_session_t session;
    tw_run_t run;
    tw_run_init(&run, "measure", &session, 1);
    tw_sender_t *sender;
    if (tw_sender_open(&sender, &cfg, loop, err, sizeof err) < 0) {
        fprintf(stderr, "measure: %s\n", err);
        return 2;
    }
    tw_run_session_open(&run, 0, sender, &cfg);
    run.start_time = tw_now();
    tw_sender_start(sender);
    tw_loop_run(loop);

    tw_run_report(stdout, &run, json ? TW_RUN_JSON : TW_RUN_TEXT);
    /* As ping: 1 when not a single reply came back. */
    int rc = tw_sender_result(sender)->stats.received ? 0 : 1;
    tw_sender_close(sender);
    tw_reflector_close(refl);
    tw_loop_free(loop);
    return rc;
}
