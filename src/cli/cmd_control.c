/* twampy controller (TWAMP-Control client + Session-Sender) and
 * twampy controlclient (TWAMP-Control client for an external Session-Sender). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "auth_opts.h"
#include "commands.h"
#include "control_client.h"
#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "opts.h"
#include "report.h"
#include "sender.h"
#include "sender_opts.h"
#include "signals.h"
#include "targets.h"

static const char controller_help[] =
    "usage: twampy controller [options] [server-ip:port] [local-ip:port]\n"
    "\n"
    "TWAMP controller: a TWAMP-Control client and Session-Sender in one. Connects\n"
    "to a TWAMP server (RFC 5357), requests test sessions, runs them and reports\n"
    "delay, jitter and loss per direction, then stops the sessions.\n"
    "\n"
    "positional arguments:\n"
    "  server-ip:port        the TWAMP server; the port is its control port\n"
    "                        (default: 127.0.0.1:862)\n"
    "  local-ip:port         local test address (default: :20000)\n"
    "\n"
    "TWAMP controller options:\n"
    "  --reflector-port N    reflector port to ask for (default: 20001); the test\n"
    "                        goes to the port the server returns in Accept-Session\n"
    "  --sessions N          request N sessions on one control connection and run\n"
    "                        them at once, each with its own ports (default: 1)\n"
    "  --targets file        many TWAMP servers from one process: one\n"
    "                        'server-ip[:port] [local-ip:port] [options]' per\n"
    "                        line ('#' comments), one session each, the line's\n"
    "                        options on top of these; a report per target, then\n"
    "                        the total; exit 1 when a target got no usable reply\n"
    "  --control-timeout sec timeout of each TWAMP-Control step (default: 10)\n"
    "  -c, --count packets   test packets per session, 0 = until --duration or\n"
    "                        Ctrl-C/SIGTERM (default: 100; 0 with --duration)\n"
    "  --duration sec        stop sending after this long\n"
    "  -i, --interval msec   interval between packets in ms, fractions allowed\n"
    "                        (default: 100)\n"
    "  --schedule periodic|poisson, --seed N, --timestamping sw|hw|user, --ptp\n"
    "                        as 'twampy sender' (session i gets seed N + i - 1)\n"
    "  --timeout sec         wait this long for replies after the last packet; also\n"
    "                        the session timeout sent to the server (default: 5)\n"
    "\n"
    "Report options:\n"
    "  --json, --csv file, --plot file.svg, --report-interval sec, --histogram,\n"
    "  --no-progress\n"
    "                        as 'twampy sender'; with --sessions N the JSON has\n"
    "                        each session and the total, the CSV a session\n"
    "                        column; the plot draws the sessions together\n"
    "\n"
    "Exit status: 0 when at least one reply was measured, 1 when not a single\n"
    "usable reply came back (as ping) or on an error, 2 on a usage error.\n"
    "\n"
    "Security options (RFC 4656, RFC 5357, RFC 5618):\n"
    "  --keyfile file        shared secrets, one 'KEYID PASSPHRASE' per line ('#'\n"
    "                        comments; 'KEYID 0xHEX' for octets); others must not\n"
    "                        be able to read it (chmod 600)\n"
    "  --keyid name          the KeyID whose passphrase to use (with --keyfile)\n"
    "  --modes list          the modes to accept, in order of preference, from\n"
    "                        open, authenticated, encrypted, mixed (default with\n"
    "                        --keyfile: encrypted,authenticated,mixed,open, the\n"
    "                        first one the server offers; without: open).\n"
    "                        authenticated and encrypted protect the test packets\n"
    "                        (48-octet format + padding, 112-octet replies); mixed\n"
    "                        protects only TWAMP-Control\n"
    "  --kdf-max-count N     refuse a server whose key derivation Count is above\n"
    "                        N (default: 1048576)\n"
    "  The report's first line names the mode; the report counts replies that\n"
    "  fail their integrity check (never measured).\n"
    "\n"
    "TWAMP-Control extensions:\n"
    "  --reflect-octets HEX  RFC 6038 reflect octets (mode 32): the two Octets to\n"
    "                        be reflected (e.g. 1234), which Accept-Session must\n"
    "                        return; the test packets carry them (after the\n"
    "                        server's Server octets, if any) as padding to reflect\n"
    "  --reflect-padding N   the Length of padding to reflect (default: 4); every\n"
    "                        reply is checked for it and the report counts them\n"
    "  --symmetrical         insist on RFC 6038 symmetrical size (mode 64; needs\n"
    "                        --padding 27 or more); without it, mode 64 is used\n"
    "                        when the server offers it and the padding allows. In\n"
    "                        mode 64 the Padding Length announced is --padding -\n"
    "                        27 (the padding after the format's 27 MBZ octets)\n"
    "  --monitor-dscp-ecn    RFC 7750 DSCP and ECN monitoring (mode 256): every\n"
    "                        reply carries the DSCP and ECN its request arrived\n"
    "                        with; the report shows them ('At the reflector')\n"
    "  --individual-control  RFC 5938 individual session control (mode 16): with\n"
    "                        --sessions N the sessions run one after the other,\n"
    "                        each started by its own Start-N-Sessions and stopped\n"
    "                        by its own Stop-N-Sessions\n"
    "  --start-time T        the sessions' Start Time (RFC 5357): +SECONDS from\n"
    "                        now or an ISO 8601 time with its zone\n"
    "                        (2026-12-02T07:30:00Z); the sessions start then, or\n"
    "                        at Start-Sessions if that is later\n"
    "\n"
    "IP socket options:\n"
    "  --tos, --dscp, --ecn, --ttl, --padding, --do-not-fragment   as 'twampy\n"
    "                        sender';\n"
    "                        the DSCP is also sent to the server as the session's\n"
    "                        Type-P Descriptor\n"
    "  --flow-label N|random|per-packet   as 'twampy sender' (IPv6 server): each\n"
    "                        session its label (random: one each; per-packet: a\n"
    "                        keyed permutation of the sequence number)\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename, -q, --quiet, -v, --verbose, -d, --debug   as 'twampy sender'\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (the message names the failed\n"
    "TWAMP-Control step), 2 usage error.\n";

static const char controlclient_help[] =
    "usage: twampy controlclient [options] [sender-ip:port] [server-ip:port]\n"
    "\n"
    "TWAMP control client: sets up and starts a test session on a TWAMP server for\n"
    "an external Session-Sender (for example 'twampy sender' or a router), keeps\n"
    "the control connection until Ctrl-C or --duration, then sends Stop-Sessions.\n"
    "\n"
    "positional arguments:\n"
    "  sender-ip:port        the external Session-Sender's address and port\n"
    "                        (default: 127.0.0.1:20000)\n"
    "  server-ip:port        the TWAMP server; the port is its control port\n"
    "                        (default: 127.0.0.1:862)\n"
    "\n"
    "TWAMP control client options:\n"
    "  --reflector-port N    reflector port to ask for (default: 20001)\n"
    "  --duration sec        stop the session after this long (default: until Ctrl-C)\n"
    "  --control-timeout sec timeout of each TWAMP-Control step (default: 10)\n"
    "  --timeout sec         session timeout sent to the server (default: 5)\n"
    "  --dscp, --tos         the session's Type-P DSCP\n"
    "  --padding bytes       the sender's padding after its 14-octet header\n"
    "                        (default: 27; announced less 27 in mode 64)\n"
    "  --reflect-octets HEX, --reflect-padding N, --symmetrical, --start-time T,\n"
    "  --monitor-dscp-ecn    as 'twampy controller' (the external sender must\n"
    "                        send the padding to reflect, and wait for the Start\n"
    "                        Time itself)\n"
    "  --keyfile file, --keyid name, --kdf-max-count N   as 'twampy controller'\n"
    "  --modes list          mixed and open only (default with --keyfile:\n"
    "                        mixed,open): the external Session-Sender cannot have\n"
    "                        the test keys of authenticated or encrypted mode\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename, -q, --quiet, -v, --verbose, -d, --debug\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "The accepted session is printed on stdout as 'Session accepted: ...'.\n";

struct ctl {
    tw_loop_t *loop;
    tw_ctrl_client_t *client;
    int nsessions;
    tw_sender_t *senders[TW_CTRL_MAX_SESSIONS];
    cli_signals_t sig;
    tw_timer_t duration_timer;
    bool started, failed, interrupted;
    char why[512];
    struct sockaddr_storage server;
    socklen_t server_len;
    const char *server_arg;
    int64_t duration_ns;
    struct sender_output *out; /* controller */
    size_t reflect_len;        /* RFC 6038 --reflect-padding (0: none) */
    uint16_t reflect_octets;   /* --reflect-octets */
    tw_time_t start_time;      /* --start-time (0: none) */
    tw_timer_t start_timer;
    bool waiting_start; /* accepted and started, the Start Time still to come */
    /* --individual-control (RFC 5938): the sessions run one after the other,
     * each started by its own Start-N-Sessions and stopped by its own
     * Stop-N-Sessions when its sender is done. */
    bool individual;
    int next_start;  /* the next session to start */
    int stops_acked; /* Stop-N-Acks received, sessions */
    bool stop_sent[TW_CTRL_MAX_SESSIONS];
    /* --targets: one of many controllers on the loop; its sessions are the
     * output's first..first + nsessions - 1. */
    struct fan *fan;
    int first;
    bool over;
};

/* controller --targets: the controllers on one loop, which stops when the
 * last of them is over. */
struct fan {
    tw_loop_t *loop;
    struct ctl *c;
    int n, remaining;
    cli_signals_t sig;
    struct sender_output *out;
};

/* This controller is done (stopped, failed or interrupted before it started). */
static void ctl_over(struct ctl *c)
{
    if (c->over)
        return;
    c->over = true;
    if (!c->fan || --c->fan->remaining == 0)
        tw_loop_stop(c->loop);
}

static int set_reflect(const struct ctl *c, int i, const tw_accept_session_t *acc);
static void start_senders(void *arg);
static void on_n_ack(void *arg, bool start, uint8_t accept, const int *idx, int n);
static void start_next(struct ctl *c);

static void on_failed(void *arg, const char *why)
{
    struct ctl *c = arg;
    c->failed = true;
    snprintf(c->why, sizeof c->why, "%s", why);
    for (int i = 0; i < c->nsessions; i++)
        if (c->senders[i])
            tw_sender_stop(c->senders[i]);
    ctl_over(c);
}

static void on_stopped(void *arg)
{
    ctl_over(arg);
}

/* Reflector address for session i: the server's address, the accepted port. */
static void accepted_addr(const struct ctl *c, uint16_t port, struct sockaddr_storage *ss)
{
    *ss = c->server;
    tw_addr_set_port(ss, port);
}

static void on_started_controller(void *arg, const tw_accept_session_t *acc, int n)
{
    struct ctl *c = arg;
    if (auth_sessions(c->client, c->senders, n, c->why, sizeof c->why) < 0) {
        c->failed = true;
        tw_ctrl_client_stop(c->client);
        return;
    }
    c->started = true;
    for (int i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        accepted_addr(c, acc[i].port, &ss);
        char a[TW_ADDRSTRLEN];
        tw_notice("Session %d accepted: reflector %s", i + 1,
                  tw_addr_str((struct sockaddr *)&ss, a, sizeof a));
        tw_sender_set_remote(c->senders[i], (struct sockaddr *)&ss, c->server_len);
        output_remote(c->out, c->first + i, (struct sockaddr *)&ss);
        uint32_t mode = tw_ctrl_client_mode(c->client);
        if (mode & TW_MODE_DSCP_ECN) /* RFC 7750: the S-DSCP-ECN octet of each reply */
            tw_sender_set_dscp_ecn(c->senders[i],
                                   tw_mode_test_protected(mode & TW_MODE_SECURITY_MASK)
                                       ? TW_S_DSCP_ECN_AUTH_OFF
                                       : TW_S_DSCP_ECN_OFF);
        if (set_reflect(c, i, &acc[i]) < 0) {
            c->failed = true;
            snprintf(c->why, sizeof c->why, "session %d: cannot set up reflect octets", i + 1);
            tw_ctrl_client_stop(c->client);
            return;
        }
    }
    /* RFC 5357 §3.5: the sessions start at their Start Time when that is
     * later than Start-Sessions; the packets leave then. */
    int64_t wait = c->start_time ? c->start_time - tw_now() : 0;
    if (wait > 0) {
        tw_notice("Sessions start at their Start Time, in %.3f s", (double)wait / 1e9);
        tw_timer_set(c->loop, &c->start_timer, tw_mono_now() + wait, start_senders, c);
        c->waiting_start = true;
        return;
    }
    start_senders(c);
}

static void on_sender_done(void *arg)
{
    struct ctl *c = arg;
    if (c->individual) {
        for (int i = 0; i < c->nsessions; i++) {
            if (!c->stop_sent[i] && tw_sender_done(c->senders[i])) {
                c->stop_sent[i] = true;
                tw_notice("Session %d: Stop-N-Sessions (RFC 5938)", i + 1);
                if (tw_ctrl_client_stop_n(c->client, &i, 1) < 0)
                    return;
                start_next(c);
            }
        }
        return;
    }
    for (int i = 0; i < c->nsessions; i++)
        if (!tw_sender_done(c->senders[i]))
            return;
    /* Every session is complete: stop them on the server, then finish. */
    tw_ctrl_client_stop(c->client);
}

static void clear_progress(void *arg)
{
    struct ctl *c = arg;
    if (c->out)
        output_clear_progress(c->out);
}

static void on_signal(void *arg)
{
    struct ctl *c = arg;
    c->interrupted = true;
    if (!c->started || c->waiting_start) {
        tw_timer_cancel(c->loop, &c->start_timer);
        tw_ctrl_client_stop(c->client);
        ctl_over(c);
        return;
    }
    for (int i = 0; i < c->nsessions; i++)
        if (c->senders[i])
            tw_sender_stop(c->senders[i]); /* the last one sends Stop-Sessions */
    if (c->nsessions == 0)
        tw_ctrl_client_stop(c->client);
}

static void watch_signals(struct ctl *c)
{
    cli_signals_watch(&c->sig, c->loop, "stop", clear_progress, on_signal, c);
}

/* Raw address octets of a resolved address for Request-TW-Session. */
static void raw_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET6)
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    else
        memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static void resolve_server(struct ctl *c, const char *cmd, const char *arg)
{
    c->server_arg = arg;
    cli_resolve(cmd, "TWAMP server address", arg, 862, AF_UNSPEC, false, &c->server,
                &c->server_len);
    if (tw_addr_port(&c->server) == 0)
        cli_usage_error(cmd, "TWAMP server port 0 is not a port a server can listen on");
}

static void common_req(const struct sender_args *a, tw_ctrl_session_req_t *r, int i)
{
    r->receiver_port = (uint16_t)(a->reflector_port + i);
    r->padding_length = a->common.padding < 0 ? 0 : (uint32_t)a->common.padding;
    r->dscp = a->common.tos >> 2;
    r->timeout_ns = (int64_t)(a->timeout_s * 1e9);
    r->octets_to_reflect = a->reflect_octets;
    r->padding_to_reflect = a->reflect ? (uint16_t)a->reflect_padding : 0;
    r->start_time = a->start_time_abs;
}

/* The control client's options of the TWAMP-Control extensions. */
static void common_client(const struct sender_args *a, tw_ctrl_client_cfg_t *cc)
{
    cc->dscp_ecn = a->dscp_ecn;
    cc->reflect_octets = a->reflect;
    cc->symmetrical = a->symmetrical;
}

/* RFC 6038 §5.1.2: the Packet Padding (to be reflected) of session i's
 * packets: the Server octets first when the server sent some (§4.3), then the
 * Octets to be reflected over and over (allowed by §5.1.2). */
static int set_reflect(const struct ctl *c, int i, const tw_accept_session_t *acc)
{
    uint32_t mode = tw_ctrl_client_mode(c->client);
    if (!(mode & TW_MODE_REFLECT_OCTETS) || c->reflect_len == 0)
        return 0;
    uint8_t pat[1024];
    for (size_t k = 0; k < c->reflect_len; k++)
        pat[k] = (uint8_t)(k % 2 ? c->reflect_octets & 0xff : c->reflect_octets >> 8);
    if (acc->server_octets && c->reflect_len >= 2) {
        pat[0] = (uint8_t)(acc->server_octets >> 8);
        pat[1] = (uint8_t)(acc->server_octets & 0xff);
    }
    size_t from, to;
    tw_reflect_offsets(mode, &from, &to);
    char err[256];
    if (tw_sender_set_reflect(c->senders[i], pat, c->reflect_len, from, to, err, sizeof err) < 0) {
        tw_error("session %d: %s", i + 1, err);
        return -1;
    }
    tw_info("Session %d: %zu octets of padding to reflect at offset %zu, expected back at %zu "
            "(server octets 0x%04x)",
            i + 1, c->reflect_len, from, to, acc->server_octets);
    return 0;
}

static void start_output(struct ctl *c)
{
    if (!c->out->loop) /* once for the run (output_start sets it) */
        output_start(c->out, c->loop);
}

/* --individual-control: Start-N-Sessions for the next session, if any. */
static void start_next(struct ctl *c)
{
    if (c->next_start >= c->nsessions)
        return;
    int i = c->next_start++;
    tw_notice("Session %d: Start-N-Sessions (RFC 5938)", i + 1);
    tw_ctrl_client_start_n(c->client, &i, 1);
}

static void start_senders(void *arg)
{
    struct ctl *c = arg;
    c->waiting_start = false;
    if (c->individual) {
        start_next(c);
        return;
    }
    start_output(c);
    for (int i = 0; i < c->nsessions; i++)
        tw_sender_start(c->senders[i]);
}

/* RFC 5938: a session's sender starts when the server acknowledges its
 * start; the connection closes once every session's stop is acknowledged. */
static void on_n_ack(void *arg, bool start, uint8_t accept, const int *idx, int n)
{
    struct ctl *c = arg;
    if (accept != TW_ACCEPT_OK) {
        c->failed = true;
        snprintf(c->why, sizeof c->why, "the TWAMP server refused to %s session %d: Accept %u (%s)",
                 start ? "start" : "stop", idx[0] + 1, accept, tw_accept_str(accept));
        for (int i = 0; i < c->nsessions; i++)
            tw_sender_stop(c->senders[i]);
        tw_ctrl_client_stop(c->client);
        return;
    }
    for (int k = 0; k < n; k++) {
        tw_notice("Session %d: %s", idx[k] + 1, start ? "Start-N-Ack" : "Stop-N-Ack");
        if (start) {
            start_output(c);
            tw_sender_start(c->senders[idx[k]]);
        } else {
            c->stops_acked++;
        }
    }
    if (!start && c->stops_acked >= c->nsessions)
        tw_ctrl_client_stop(c->client);
}

/* One controller on loop: its sessions' senders (the output's sessions
 * first..first + a->sessions - 1) and its control client, connecting. c->server
 * is resolved. */
static void ctl_open(struct ctl *c, const struct sender_args *a, tw_loop_t *loop,
                     struct sender_output *out, int first)
{
    const char *cmd = "controller";
    const char *local = a->local ? a->local : (c->fan ? ":0" : ":20000");
    tw_addr_spec_t ls;
    char err[512];
    if (tw_addr_parse(local, 20000, &ls, err, sizeof err) < 0)
        cli_usage_error(cmd, "local address '%s': %s", local, err);
    if (ls.family != AF_UNSPEC && ls.family != c->server.ss_family)
        cli_usage_error(cmd, "the TWAMP server %s is %s but the local address %s is %s",
                        c->server_arg, c->server.ss_family == AF_INET6 ? "IPv6" : "IPv4", local,
                        ls.family == AF_INET6 ? "IPv6" : "IPv4");
    if (a->reflector_port + a->sessions - 1 > 65535)
        cli_usage_error(cmd, "--reflector-port %u with --sessions %d goes past port 65535",
                        a->reflector_port, a->sessions);
    c->loop = loop;
    c->nsessions = a->sessions;
    c->out = out;
    c->first = first;

    tw_ctrl_client_cfg_t cc;
    memset(&cc, 0, sizeof cc);
    cc.server = c->server;
    cc.server_len = c->server_len;
    cc.step_timeout_ns = (int64_t)(a->control_timeout_s * 1e9);
    cc.nsessions = a->sessions;
    cc.on_started = on_started_controller;
    common_client(a, &cc);
    c->reflect_len = a->reflect ? (size_t)a->reflect_padding : 0;
    c->reflect_octets = a->reflect_octets;
    c->start_time = a->start_time_abs;
    c->individual = a->individual;
    cc.individual = a->individual;
    cc.on_n_ack = on_n_ack;
    cc.on_failed = on_failed;
    cc.on_stopped = on_stopped;
    cc.arg = c;
    auth_client_cfg(&a->auth, cmd, false, &cc);

    for (int i = 0; i < a->sessions; i++) {
        tw_sender_cfg_t sc;
        memset(&sc, 0, sizeof sc);
        sc.remote = c->server; /* replaced by the accepted reflector port */
        sc.remote_len = c->server_len;
        if (tw_addr_resolve(&ls, c->server.ss_family, true, &sc.local, &sc.local_len, err,
                            sizeof err) < 0)
            cli_fail("local address '%s': %s", local, err);
        /* Session i sends from port + i (or a kernel-chosen port for :0). */
        uint16_t lport = ls.port ? (uint16_t)(ls.port + i) : 0;
        tw_addr_set_port(&sc.local, lport);
        make_sender_cfg(a, &sc);
        output_hook(out, first + i, &sc);
        sc.on_done = on_sender_done;
        sc.on_done_arg = c;
        if (tw_sender_open(&c->senders[i], &sc, loop, err, sizeof err) < 0)
            cli_fail("session %d: %s", i + 1, err);
        output_sender(out, first + i, c->senders[i], &sc);
        struct sockaddr_storage bound;
        socklen_t bl;
        tw_sender_local(c->senders[i], &bound, &bl);
        tw_ctrl_session_req_t *r = &cc.req[i];
        common_req(a, r, i);
        r->sender_port = tw_addr_port(&bound);
        /* A zero address means "the address of the control connection", which
         * also works behind NAT; an explicit local address is sent as it is. */
        if (ls.host[0])
            raw_addr(&bound, r->sender_addr);
    }
    if (tw_ctrl_client_open(&c->client, &cc, loop, err, sizeof err) < 0)
        cli_fail("%s", err);
    tw_secret_cleanse(&cc.secret); /* the client has its own copy */
}

/* Its sessions' results: errors on stderr (prefixed), and whether any reply
 * was measured. */
static bool ctl_results(const struct ctl *c, const char *who, int *rc)
{
    uint64_t measured = 0;
    for (int i = 0; i < c->nsessions; i++) {
        const tw_sender_result_t *res = tw_sender_result(c->senders[i]);
        measured += res->stats.received;
        if (res->fatal_errno) {
            fprintf(stderr, "twampy: error: %ssession %d: %s\n", who, i + 1, res->fatal);
            *rc = EXIT_FAILURE;
        }
    }
    return measured > 0;
}

static void ctl_close(struct ctl *c)
{
    tw_timer_cancel(c->loop, &c->start_timer);
    for (int i = 0; i < c->nsessions; i++)
        tw_sender_close(c->senders[i]);
    tw_ctrl_client_close(c->client);
}

/* ---- controller --targets ----------------------------------------------------- */

static void fan_clear_progress(void *arg)
{
    struct fan *f = arg;
    output_clear_progress(f->out);
}

static void fan_on_signal(void *arg)
{
    struct fan *f = arg;
    for (int i = 0; i < f->n; i++)
        if (!f->c[i].over)
            on_signal(&f->c[i]);
}

/* Many TWAMP servers from one process: a controller each, one session each. */
static int run_targets(struct sender_args *a)
{
    struct target *tg;
    int n = targets_load(a, controller_help, SO_CONTROL | SO_REPORT, &tg);
    for (int i = 0; i < n; i++)
        if (tg[i].a.sessions != 1)
            cli_usage_error("controller",
                            "%s:%d: --sessions %d: with --targets each line is "
                            "one session (give the server on several lines)",
                            a->targets, tg[i].line, tg[i].a.sessions);
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    struct sender_output out;
    struct fan f = {.loop = loop, .n = n, .remaining = n, .out = &out};
    f.c = calloc((size_t)n, sizeof *f.c);
    if (!f.c)
        cli_fail("out of memory for %d targets", n);
    output_open(&out, a, n);
    char(*server_str)[TW_ADDRSTRLEN] = calloc((size_t)n, sizeof *server_str);
    if (!server_str)
        cli_fail("out of memory for %d targets", n);
    for (int i = 0; i < n; i++) {
        struct ctl *c = &f.c[i];
        char where[512];
        snprintf(where, sizeof where, "%s:%d", a->targets, tg[i].line);
        cli_set_context(where);
        c->fan = &f;
        resolve_server(c, "controller", tg[i].a.remote);
        ctl_open(c, &tg[i].a, loop, &out, i);
        out.s[i].server =
            tw_addr_str((struct sockaddr *)&c->server, server_str[i], sizeof server_str[i]);
    }
    cli_set_context(NULL);
    cli_signals_watch(&f.sig, loop, "stop", fan_clear_progress, fan_on_signal, &f);
    tw_info("controller: %d TWAMP servers from %s", n, a->targets);
    if (tw_loop_run(loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));

    int rc = 0, silent = 0;
    output_clear_progress(&out);
    for (int i = 0; i < n; i++)
        if (f.c[i].failed) {
            fprintf(stderr, "twampy: error: %s:%d: %s\n", a->targets, tg[i].line, f.c[i].why);
            rc = EXIT_FAILURE;
        }
    output_report(&out);
    for (int i = 0; i < n; i++) {
        char who[600];
        snprintf(who, sizeof who, "%s:%d: ", a->targets, tg[i].line);
        if (f.c[i].started)
            auth_report(f.c[i].senders, f.c[i].nsessions);
        if (!ctl_results(&f.c[i], who, &rc))
            silent++;
    }
    if (silent) {
        tw_notice("%d of %d targets sent no usable reply", silent, n);
        rc = EXIT_FAILURE;
    }
    if (output_close(&out) < 0)
        rc = EXIT_FAILURE;
    for (int i = 0; i < n; i++)
        ctl_close(&f.c[i]);
    cli_signals_close(&f.sig);
    free(server_str);
    free(f.c);
    targets_free(tg, n);
    tw_loop_free(loop);
    tw_log_close();
    return rc;
}

int cmd_controller(int argc, char **argv)
{
    const char *cmd = "controller";
    struct sender_args a;
    parse_sender_args(argc, argv, &a, cmd, controller_help,
                      SO_POSITIONAL | SO_CONTROL | SO_REPORT | SO_TARGETS);
    if (a.interval_ms == 0)
        a.interval_ms = 100;
    if (a.targets)
        return run_targets(&a);
    struct ctl c;
    memset(&c, 0, sizeof c);
    resolve_server(&c, cmd, a.remote ? a.remote : "127.0.0.1:862");
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    struct sender_output out;
    output_open(&out, &a, a.sessions);
    char server_str[TW_ADDRSTRLEN];
    out.run.server = tw_addr_str((struct sockaddr *)&c.server, server_str, sizeof server_str);
    c.loop = loop;
    watch_signals(&c);
    ctl_open(&c, &a, loop, &out, 0);
    if (tw_loop_run(loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));

    int rc = 0;
    if (c.failed) {
        output_clear_progress(&out); /* the error on a line of its own */
        fprintf(stderr, "twampy: error: %s\n", c.why);
        rc = EXIT_FAILURE;
    }
    if (c.started) {
        output_report(&out);
        auth_report(c.senders, c.nsessions);
        if (!ctl_results(&c, "", &rc)) /* not a single usable reply: exit 1, as ping does */
            rc = EXIT_FAILURE;
    }
    if (output_close(&out) < 0)
        rc = EXIT_FAILURE;
    ctl_close(&c);
    cli_signals_close(&c.sig);
    tw_loop_free(loop);
    tw_log_close();
    return rc;
}

static void on_started_controlclient(void *arg, const tw_accept_session_t *acc, int n)
{
    struct ctl *c = arg;
    c->started = true;
    struct sockaddr_storage ss;
    accepted_addr(c, acc[0].port, &ss);
    char a[TW_ADDRSTRLEN], sid[33];
    for (int i = 0; i < 16; i++)
        snprintf(sid + 2 * i, 3, "%02x", acc[0].sid[i]);
    printf("Session accepted: reflector %s, SID %s, mode %s\n",
           tw_addr_str((struct sockaddr *)&ss, a, sizeof a), sid,
           tw_mode_name(tw_ctrl_client_mode(c->client)));
    fflush(stdout);
}

static void on_duration(void *arg)
{
    struct ctl *c = arg;
    tw_notice("duration elapsed: stop the session");
    tw_ctrl_client_stop(c->client);
}

int cmd_controlclient(int argc, char **argv)
{
    const char *cmd = "controlclient";
    struct sender_args a;
    parse_sender_args(argc, argv, &a, cmd, controlclient_help, SO_POSITIONAL | SO_CONTROLCLIENT);
    struct ctl c;
    memset(&c, 0, sizeof c);
    resolve_server(&c, cmd, a.local ? a.local : "127.0.0.1:862");
    const char *sender = a.remote ? a.remote : "127.0.0.1:20000";
    struct sockaddr_storage ss;
    socklen_t sl;
    cli_resolve(cmd, "Session-Sender address", sender, 20000, c.server.ss_family, false, &ss, &sl);
    if (tw_addr_port(&ss) == 0)
        cli_usage_error(cmd, "the Session-Sender's port must not be 0");

    c.loop = tw_loop_new();
    if (!c.loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    tw_ctrl_client_cfg_t cc;
    memset(&cc, 0, sizeof cc);
    cc.server = c.server;
    cc.server_len = c.server_len;
    cc.step_timeout_ns = (int64_t)(a.control_timeout_s * 1e9);
    cc.nsessions = 1;
    common_req(&a, &cc.req[0], 0);
    raw_addr(&ss, cc.req[0].sender_addr);
    cc.req[0].sender_port = tw_addr_port(&ss);
    cc.on_started = on_started_controlclient;
    common_client(&a, &cc);
    cc.on_failed = on_failed;
    cc.on_stopped = on_stopped;
    cc.arg = &c;
    auth_client_cfg(&a.auth, cmd, true, &cc);
    watch_signals(&c);
    char err[512];
    if (tw_ctrl_client_open(&c.client, &cc, c.loop, err, sizeof err) < 0)
        cli_fail("%s", err);
    tw_secret_cleanse(&cc.secret); /* the client has its own copy */
    if (a.duration_s > 0)
        tw_timer_set(c.loop, &c.duration_timer, tw_mono_now() + (int64_t)(a.duration_s * 1e9),
                     on_duration, &c);
    if (tw_loop_run(c.loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    tw_timer_cancel(c.loop, &c.duration_timer);
    int rc = 0;
    if (c.failed) {
        fprintf(stderr, "twampy: error: %s\n", c.why);
        rc = EXIT_FAILURE;
    } else if (c.started) {
        printf("Session stopped\n");
    }
    tw_ctrl_client_close(c.client);
    cli_signals_close(&c.sig);
    tw_loop_free(c.loop);
    tw_log_close();
    return rc;
}
