/* twampy sender (TWAMP light / STAMP Session-Sender) and twampy demo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "addr.h"
#include "auth_opts.h"
#include "commands.h"
#include "log.h"
#include "loop.h"
#include "opts.h"
#include "reflector.h"
#include "report.h"
#include "sender.h"
#include "sender_opts.h"
#include "signals.h"
#include "targets.h"
#include "wire.h"

static const char sender_help[] =
    "usage: twampy sender [options] [remote-ip:port] [local-ip:port]\n"
    "\n"
    "TWAMP light (or, with --stamp, STAMP) Session-Sender: sends test packets to a\n"
    "reflector and reports delay, jitter and loss per direction, and what the\n"
    "replies show about the reflector (\"Warning [code] RFC clause: ...\" lines).\n"
    "\n"
    "positional arguments:\n"
    "  remote-ip:port        reflector address (default: 127.0.0.1:20001)\n"
    "  local-ip:port         local address (default: :20000)\n"
    "\n"
    "TWL sender options:\n"
    "  -c, --count packets   number of test packets, 0 = until --duration or\n"
    "                        Ctrl-C/SIGTERM (default: 100; 0 with --duration)\n"
    "  --duration sec        stop sending after this long\n"
    "  -i, --interval msec   interval between packets in milliseconds, fractions\n"
    "                        allowed, e.g. 0.5 (default: 100)\n"
    "  --schedule periodic|poisson\n"
    "                        packets every interval (default), or exponential\n"
    "                        gaps with the interval as their mean\n"
    "  --seed N              random seed of the Poisson gaps and IMIX sizes, to\n"
    "                        repeat a run (default: from the clock; -v and\n"
    "                        --json show the seed used)\n"
    "  --timeout sec         wait this long for replies after the last packet;\n"
    "                        later replies count as late (default: 5)\n"
    "  --stamp               send RFC 8762 STAMP packets (44-octet base format)\n"
    "  --ssid N              STAMP Session Identifier 0..65535 (default: 0)\n"
    "  --tlv NAME[=VALUE]    with --stamp: send this RFC 8972 TLV in every packet and\n"
    "                        report what the reflector answered (repeatable):\n"
    "                        padding=N (Extra Padding of N octets), location\n"
    "                        (addresses and ports as the reflector saw them),\n"
    "                        timestamp (its clock sync and timestamping methods),\n"
    "                        cos[=DSCP] (DSCP/ECN it received, reply marked DSCP;\n"
    "                        default: our own DSCP: re-marking both ways),\n"
    "                        counters (Direct Measurement), access[=ID[,RC]]\n"
    "                        (Access Report, default 2,1), followup (when its\n"
    "                        previous reply really left), hmac (with --keyfile;\n"
    "                        added by itself there), unknown=TYPE (a TLV of type\n"
    "                        TYPE, to see it come back with the U flag)\n"
    "  --keyfile file        with --stamp: authenticated STAMP (RFC 8762),\n"
    "                        112-octet packets with HMAC-SHA-256 keyed with a\n"
    "                        passphrase of this 'KEYID PASSPHRASE' file (chmod\n"
    "                        600); replies that fail the HMAC are counted as\n"
    "                        integrity failures, never measured\n"
    "  --keyid name          the line of --keyfile (not needed with a single line)\n"
    "  --timestamping sw|hw|user\n"
    "                        sw: the kernel's software timestamps for t1 and t4\n"
    "                        (default); hw: NIC hardware timestamps, converted\n"
    "                        from the NIC's clock (/dev/ptpN) to system time; a\n"
    "                        packet's t1 and t4 are both the NIC's or both\n"
    "                        software; where the interface has none, says so\n"
    "                        once and uses sw; user: t1 read in user space\n"
    "                        before each send, to compare\n"
    "  --ptp                 send PTPv2 timestamps (Z = 1) instead of NTP\n"
    "  --targets file        measure many reflectors from one process (fan-out):\n"
    "                        one 'reflector-ip:port [local-ip:port] [options]'\n"
    "                        per line ('#' comments), the line's options on top\n"
    "                        of these (-c, -i, --stamp, --dscp, ...); each target\n"
    "                        its own socket, sequence space and report, starts\n"
    "                        spread over one interval, then the total; exit 1\n"
    "                        when a target got no usable reply\n"
    "\n"
    "Report options:\n"
    "  --json                the report as one JSON document on stdout instead of\n"
    "                        the text (docs/json-schema.md); with --report-interval\n"
    "                        JSON Lines, the report on the last line\n"
    "  --csv file            one row per packet sent: status, t1..t4 (ISO-8601\n"
    "                        and NTP), delays, TTLs, DSCP, size\n"
    "  --plot file.svg       a picture of the run (one SVG file): the delay of each\n"
    "                        packet over time per direction with the lost ones\n"
    "                        marked, the round-trip histogram and a summary\n"
    "  --report-interval sec a line per interval while the test runs\n"
    "  --histogram           an ASCII histogram of round-trip delay after the\n"
    "                        text report\n"
    "  --no-progress         no live progress line on stderr (shown only when\n"
    "                        stderr is a terminal, never with --json, -q or -v)\n"
    "  Replies this host dropped itself (its receive buffer, sized to the rate,\n"
    "  was full: the kernel's SO_RXQ_OVFL count) and test packets that never left\n"
    "  it (no buffer space) are reported as dropped by this host, never as network\n"
    "  loss: \"N lost inbound, of which K dropped by this host's receive buffer\".\n"
    "\n"
    "IP socket options:\n"
    "  --tos type-of-service TOS / Traffic Class octet 0..255 (default: 0)\n"
    "  --dscp dscp-value     DSCP name or number (see 'twampy dscptable'); sets the\n"
    "                        upper six bits of the TOS octet\n"
    "  --ecn 0..3            the ECN field (the TOS octet's two low bits; RFC 3168:\n"
    "                        0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE); the ECN the\n"
    "                        replies arrive with is counted\n"
    "  --ttl time-to-live    TTL / Hop Limit 1..255 (default: 64)\n"
    "  --padding bytes       octets after the 14-octet header (default: 27, so that\n"
    "                        sender and reflector packets are both 41 octets);\n"
    "                        -1 = IMIX (IPv4 8x7, 534x4, 1458x1; IPv6 0x7, 514x4,\n"
    "                        1438x1, chosen at random per packet)\n"
    "  --do-not-fragment     set the DF bit (IPv6: do not fragment)\n"
    "  --flow-label N|random|per-packet\n"
    "                        IPv6 flow label of the test packets (IPv6 reflector\n"
    "                        only): N 0..0xFFFFF (decimal or 0x hex); random: one\n"
    "                        random non-zero label per session; per-packet: a\n"
    "                        different label for each packet (a keyed permutation\n"
    "                        of its sequence number, a random key per session),\n"
    "                        to spread the packets over ECMP paths. The report\n"
    "                        counts the replies that came back with the label sent\n"
    "                        (twampy's reflectors return it) and the distinct\n"
    "                        paths (TTL / Hop Limit pairs) and path changes\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename  write the log to a file (default: stderr)\n"
    "  -q, --quiet           disable logging\n"
    "  -v, --verbose         log every packet sent and received\n"
    "  -d, --debug           also hex dumps of every packet\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure or not a single usable reply (as\n"
    "ping), 2 usage error.\n";

static const char demo_help[] =
    "usage: twampy demo [options]\n"
    "\n"
    "Starts a reflector on a free loopback port inside this process and runs a\n"
    "test session against it, printing the normal report. Takes the sender's\n"
    "options (--count, --duration, --interval, --schedule, --seed, --padding,\n"
    "--stamp, --dscp, --timestamping, --ptp, --json, --csv, --plot,\n"
    "--report-interval, "
    "--histogram, --no-progress, -v, ...; see 'twampy sender --help'); the\n"
    "interval defaults to 10 ms here so that 100 packets take one second.\n";

struct run {
    tw_loop_t *loop;
    tw_sender_t *sender;
    struct sender_output *out;
    cli_signals_t sig;
};

static void on_sender_done(void *arg)
{
    struct run *r = arg;
    tw_loop_stop(r->loop);
}

static void clear_progress(void *arg)
{
    struct run *r = arg;
    output_clear_progress(r->out);
}

static void on_signal(void *arg)
{
    struct run *r = arg;
    tw_sender_stop(r->sender);
}

/* Run the sender on loop until it is done (or Ctrl-C), then print the report. */
static int run_session(tw_loop_t *loop, tw_sender_cfg_t *cfg, const struct sender_args *a)
{
    struct sender_output out;
    struct run r = {.loop = loop, .out = &out};
    output_open(&out, a, 1);
    output_hook(&out, 0, cfg);
    cfg->on_done = on_sender_done;
    cfg->on_done_arg = &r;
    char err[512];
    cli_signals_watch(&r.sig, loop, "stop sending", clear_progress, on_signal, &r);
    int orc = tw_sender_open(&r.sender, cfg, loop, err, sizeof err);
    auth_forget(); /* the sender has the STAMP key in its HMAC context */
    if (orc < 0)
        cli_fail("%s", err);
    output_sender(&out, 0, r.sender, cfg);
    char as[TW_ADDRSTRLEN], n[64] = "", until[64] = "";
    if (cfg->count)
        snprintf(n, sizeof n, "%u ", cfg->count);
    if (cfg->duration_ns)
        snprintf(until, sizeof until, " for at most %g s", (double)cfg->duration_ns / 1e9);
    else if (!cfg->count)
        snprintf(until, sizeof until, " until stopped");
    tw_info("Session-Sender: %s%s packets to %s every %.3f ms%s%s", n,
            cfg->stamp ? "STAMP" : "TWAMP light",
            tw_addr_str((struct sockaddr *)&cfg->remote, as, sizeof as),
            (double)cfg->interval_ns / 1e6,
            cfg->schedule == TW_SCHEDULE_POISSON ? " on average (Poisson)" : "", until);
    output_start(&out, loop);
    tw_sender_start(r.sender);
    if (!tw_sender_done(r.sender) && tw_loop_run(loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    const tw_sender_result_t *res = tw_sender_result(r.sender);
    output_report(&out);
    auth_report(&r.sender, 1);
    if (res->duplicates || res->unmatched || res->short_replies || res->send_errors)
        tw_notice("replies: %llu duplicate, %llu unmatched, %llu too short; %llu send errors",
                  (unsigned long long)res->duplicates, (unsigned long long)res->unmatched,
                  (unsigned long long)res->short_replies, (unsigned long long)res->send_errors);
    /* Not a single usable reply: exit 1, as ping does. */
    int rc = res->fatal_errno || !res->stats.received ? EXIT_FAILURE : 0;
    if (res->fatal_errno)
        fprintf(stderr, "twampy: error: %s\n", res->fatal);
    if (output_close(&out) < 0)
        rc = EXIT_FAILURE;
    tw_sender_close(r.sender);
    cli_signals_close(&r.sig);
    return rc;
}

/* ---- fan-out: --targets ----------------------------------------------------- */

struct fanout;

struct fan_target {
    struct fanout *f;
    tw_sender_t *sender;
    tw_timer_t start; /* starts are spread over one interval */
};

struct fanout {
    tw_loop_t *loop;
    struct fan_target *t;
    int n, done;
    struct sender_output *out;
    cli_signals_t sig;
};

static void on_target_done(void *arg)
{
    struct fan_target *t = arg;
    if (++t->f->done == t->f->n)
        tw_loop_stop(t->f->loop);
}

static void on_target_start(void *arg)
{
    struct fan_target *t = arg;
    if (!tw_sender_done(t->sender))
        tw_sender_start(t->sender);
}

static void fan_clear_progress(void *arg)
{
    struct fanout *f = arg;
    output_clear_progress(f->out);
}

static void fan_on_signal(void *arg)
{
    struct fanout *f = arg;
    for (int i = 0; i < f->n; i++) {
        tw_timer_cancel(f->loop, &f->t[i].start);
        tw_sender_stop(f->t[i].sender);
    }
}

/* One target's sender configuration: its reflector, its local address (the
 * line's, else any address and a port of the kernel's), its options. */
static void target_cfg(const struct target *t, tw_sender_cfg_t *cfg)
{
    const struct sender_args *a = &t->a;
    memset(cfg, 0, sizeof *cfg);
    tw_addr_spec_t rs, ls;
    char err[512];
    if (tw_addr_parse(a->remote, 20001, &rs, err, sizeof err) < 0)
        cli_usage_error("sender", "reflector address '%s': %s", a->remote, err);
    if (tw_addr_parse(a->local ? a->local : ":0", 0, &ls, err, sizeof err) < 0)
        cli_usage_error("sender", "local address '%s': %s", a->local, err);
    if (!rs.host[0] || rs.port == 0)
        cli_usage_error("sender", "reflector address '%s' needs a host and a port", a->remote);
    if (tw_addr_resolve(&rs, ls.family, false, &cfg->remote, &cfg->remote_len, err, sizeof err) < 0)
        cli_fail("reflector address '%s': %s", a->remote, err);
    if (tw_addr_resolve(&ls, cfg->remote.ss_family, true, &cfg->local, &cfg->local_len, err,
                        sizeof err) < 0)
        cli_fail("local address '%s': %s", a->local ? a->local : ":0", err);
    make_sender_cfg(a, cfg);
}

/* Enough descriptors for a socket per target: the soft limit raised to the
 * hard one when needed. */
static void need_fds(int n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want)
        cli_fail("%d targets need %llu file descriptors; the limit is %llu (ulimit -n)", n,
                 (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

static int run_targets(struct sender_args *a)
{
    struct target *tg;
    int n = targets_load(a, sender_help, SO_STAMP | SO_REPORT, &tg);
    need_fds(n);
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    struct sender_output out;
    struct fanout f = {.loop = loop, .n = n, .out = &out};
    f.t = calloc((size_t)n, sizeof *f.t);
    if (!f.t)
        cli_fail("out of memory for %d targets", n);
    output_open(&out, a, n);
    cli_signals_watch(&f.sig, loop, "stop sending", fan_clear_progress, fan_on_signal, &f);
    int64_t spread = 0; /* the shortest interval: every target has started within it */
    /* One receive batch for all: the loop runs one sender's callback at a time. */
    tw_batch_t *batch = tw_batch_new(TW_BATCH, TW_RX_BUFSIZE);
    if (!batch)
        cli_fail("out of memory");
    const tw_secret_t *key = NULL;
    for (int i = 0; i < n; i++) {
        tw_sender_cfg_t cfg;
        char where[512];
        snprintf(where, sizeof where, "%s:%d", a->targets, tg[i].line);
        cli_set_context(where);
        target_cfg(&tg[i], &cfg);
        /* One key file for every target, read once. */
        if (a->auth.keyfile && !tg[i].a.stamp)
            cli_usage_error("sender", "--keyfile is for authenticated STAMP: this target has "
                                      "no --stamp");
        if (i == 0)
            key = auth_stamp_key(&a->auth, "sender", tg[i].a.stamp);
        if (key) {
            cfg.stamp_key = key->bytes;
            cfg.stamp_key_len = key->len;
        }
        output_hook(&out, i, &cfg);
        cfg.batch = batch;
        cfg.on_done = on_target_done;
        cfg.on_done_arg = &f.t[i];
        f.t[i].f = &f;
        char err[512];
        if (tw_sender_open(&f.t[i].sender, &cfg, loop, err, sizeof err) < 0)
            cli_fail("%s", err);
        output_sender(&out, i, f.t[i].sender, &cfg);
        if (!spread || cfg.interval_ns < spread)
            spread = cfg.interval_ns;
    }
    cli_set_context(NULL);
    auth_forget();
    tw_info("Session-Sender: %d targets from %s, starts spread over %.3f ms", n, a->targets,
            (double)spread / 1e6);
    output_start(&out, loop);
    int64_t now = tw_mono_now();
    for (int i = 0; i < n; i++)
        tw_timer_set(loop, &f.t[i].start, now + spread * i / n, on_target_start, &f.t[i]);
    if (f.done < n && tw_loop_run(loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    output_report(&out);
    int silent = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        const tw_sender_result_t *res = tw_sender_result(f.t[i].sender);
        if (res->fatal_errno) {
            fprintf(stderr, "twampy: error: %s:%d: %s\n", a->targets, tg[i].line, res->fatal);
            rc = EXIT_FAILURE;
        }
        if (!res->stats.received)
            silent++;
    }
    if (silent) {
        tw_notice("%d of %d targets sent no usable reply", silent, n);
        rc = EXIT_FAILURE;
    }
    if (output_close(&out) < 0)
        rc = EXIT_FAILURE;
    for (int i = 0; i < n; i++)
        tw_sender_close(f.t[i].sender);
    cli_signals_close(&f.sig);
    tw_batch_free(batch);
    free(f.t);
    targets_free(tg, n);
    tw_loop_free(loop);
    tw_log_close();
    return rc;
}

int cmd_sender(int argc, char **argv)
{
    struct sender_args a;
    parse_sender_args(argc, argv, &a, "sender", sender_help,
                      SO_POSITIONAL | SO_STAMP | SO_REPORT | SO_TARGETS);
    if (a.interval_ms == 0)
        a.interval_ms = 100;
    if (a.targets)
        return run_targets(&a);
    if (!a.remote)
        a.remote = "127.0.0.1:20001";
    if (!a.local)
        a.local = ":20000";
    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);

    /* The remote decides the family unless the local address is a literal. */
    tw_addr_spec_t rs, ls;
    char err[512];
    if (tw_addr_parse(a.remote, 20001, &rs, err, sizeof err) < 0)
        cli_usage_error("sender", "remote address '%s': %s", a.remote, err);
    if (tw_addr_parse(a.local, 20000, &ls, err, sizeof err) < 0)
        cli_usage_error("sender", "local address '%s': %s", a.local, err);
    if (rs.family != AF_UNSPEC && ls.family != AF_UNSPEC && rs.family != ls.family)
        cli_usage_error("sender", "remote address %s is %s but local address %s is %s", a.remote,
                        rs.family == AF_INET6 ? "IPv6" : "IPv4", a.local,
                        ls.family == AF_INET6 ? "IPv6" : "IPv4");
    if (!rs.host[0])
        cli_usage_error("sender", "remote address '%s' has no host", a.remote);
    if (rs.port == 0)
        cli_usage_error("sender", "remote port 0 is not a port a reflector can listen on");
    if (tw_addr_resolve(&rs, ls.family, false, &cfg.remote, &cfg.remote_len, err, sizeof err) < 0)
        cli_fail("remote address '%s': %s", a.remote, err);
    if (tw_addr_resolve(&ls, cfg.remote.ss_family, true, &cfg.local, &cfg.local_len, err,
                        sizeof err) < 0)
        cli_fail("local address '%s': %s", a.local, err);
    make_sender_cfg(&a, &cfg);
    const tw_secret_t *key = auth_stamp_key(&a.auth, "sender", a.stamp);
    if (key) {
        cfg.stamp_key = key->bytes;
        cfg.stamp_key_len = key->len;
    }

    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    int rc = run_session(loop, &cfg, &a);
    tw_loop_free(loop);
    tw_log_close();
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    struct sender_args a;
    parse_sender_args(argc, argv, &a, "demo", demo_help, SO_STAMP | SO_REPORT);
    if (a.interval_ms == 0)
        a.interval_ms = 10;
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));

    tw_reflector_cfg_t rc = {
        .sockopts = {.tos = 0, .ttl = 64},
        .idle_reset_ns = 30 * TW_NS_PER_SEC,
        .max_senders = 16,
    };
    cli_resolve("demo", "reflector address", "127.0.0.1:0", 0, AF_INET, true, &rc.local,
                &rc.local_len);
    tw_reflector_t *refl;
    char err[512];
    if (tw_reflector_open(&refl, &rc, loop, err, sizeof err) < 0)
        cli_fail("demo reflector: %s", err);

    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    tw_reflector_local(refl, &cfg.remote, &cfg.remote_len);
    cli_resolve("demo", "local address", "127.0.0.1:0", 0, AF_INET, true, &cfg.local,
                &cfg.local_len);
    make_sender_cfg(&a, &cfg);
    char as[TW_ADDRSTRLEN], n[32] = "", until[64] = "";
    if (cfg.count)
        snprintf(n, sizeof n, "%u ", cfg.count);
    if (cfg.duration_ns)
        snprintf(until, sizeof until, " for at most %g s", a.duration_s);
    fprintf(stderr,
            "twampy demo: reflector on %s, sending %s%s packets every %g ms%s (Ctrl-C stops)\n",
            tw_addr_str((struct sockaddr *)&cfg.remote, as, sizeof as), n,
            cfg.stamp ? "STAMP" : "TWAMP light", a.interval_ms, until);
    int code = run_session(loop, &cfg, &a);
    tw_reflector_close(refl);
    tw_loop_free(loop);
    tw_log_close();
    return code;
}
