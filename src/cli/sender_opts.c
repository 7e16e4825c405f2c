#include "sender_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_client.h"
#include "control_wire.h"
#include "dscp.h"
#include "log.h"
#include "report.h"
#include "report_csv.h"
#include "report_json.h"
#include "wire.h"

static void only_with(const char *cmd, unsigned flags, unsigned need, const char *opt)
{
    if (!(flags & need))
        cli_usage_error(cmd, "%s is not an option of 'twampy %s'", opt, cmd);
}

static uint64_t parse_seed(const char *cmd, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || *s == '+' || *end || errno == EINVAL)
        cli_usage_error(cmd, "--seed needs a whole number, not '%s'", s);
    if (errno == ERANGE || v == 0)
        cli_usage_error(cmd, "--seed %s is out of range (1..18446744073709551615)", s);
    return (uint64_t)v;
}

/* --tlv NAME[=VALUE]: one STAMP TLV to send (RFC 8972 §4.1-§4.8). */
static void parse_tlv(const char *cmd, const char *arg, struct sender_args *a)
{
    char name[32];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, arg, n);
    name[n] = 0;
    const char *v = eq ? eq + 1 : NULL;
    static const struct {
        const char *name;
        int type;
        bool value; /* takes =VALUE (optional unless noted in the code) */
    } t[] = {
        {"padding", TW_TLVT_PADDING, true},
        {"location", TW_TLVT_LOCATION, false},
        {"timestamp", TW_TLVT_TSINFO, false},
        {"cos", TW_TLVT_COS, true},
        {"counters", TW_TLVT_DIRECT, false},
        {"access", TW_TLVT_ACCESS, true},
        {"followup", TW_TLVT_FOLLOWUP, false},
        {"hmac", TW_TLVT_HMAC, false},
        {"unknown", 0, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(name, t[i].name))
            continue;
        if (v && !t[i].value)
            cli_usage_error(cmd, "--tlv %s takes no value", name);
        switch (i) {
        case 0:
            if (!v)
                cli_usage_error(cmd, "--tlv padding needs a length: --tlv padding=64");
            a->tlv.padding = (uint16_t)cli_int(cmd, "--tlv padding", v, 0, 8900);
            break;
        case 3:
            if (v) {
                int d = tw_dscp_parse(v);
                if (d < 0)
                    cli_usage_error(cmd, "--tlv cos=%s: not a DSCP name or number 0..63", v);
                a->tlv.cos_dscp = (uint8_t)d;
                a->tlv_cos_dscp_set = true;
            }
            break;
        case 5: {
            /* access[=ID[,RC]]: ID 1 3GPP, 2 non-3GPP; RC 1 network available, 2
             * unavailable (RFC 8972 §4.6). */
            a->tlv.access_id = 2;
            a->tlv.access_rc = 1;
            if (v) {
                unsigned id, rc = 1;
                char extra;
                int k = sscanf(v, "%u,%u%c", &id, &rc, &extra);
                if (k < 1 || k > 2 || id < 1 || id > 15 || rc > 255)
                    cli_usage_error(cmd,
                                    "--tlv access=%s: ID 1..15 (1 3GPP, 2 non-3GPP) and "
                                    "an optional ,RC 0..255",
                                    v);
                a->tlv.access_id = (uint8_t)id;
                a->tlv.access_rc = (uint8_t)rc;
            }
            break;
        }
        case 8:
            if (!v)
                cli_usage_error(cmd, "--tlv unknown needs a type: --tlv unknown=250");
            a->tlv.unknown_type = (uint8_t)cli_int(cmd, "--tlv unknown", v, 1, 255);
            return;
        default:
            break;
        }
        a->tlv.want |= 1u << t[i].type;
        return;
    }
    cli_usage_error(cmd,
                    "--tlv %s: not a STAMP TLV (padding=N, location, timestamp, cos[=DSCP], "
                    "counters, access[=ID[,RC]], followup, hmac, unknown=TYPE)",
                    name);
}

void parse_sender_args(int argc, char **argv, struct sender_args *a, const char *cmd,
                       const char *help, unsigned flags)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"count", required_argument, NULL, 'c'},
        {"interval", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"stamp", no_argument, NULL, OPT_STAMP},
        {"ssid", required_argument, NULL, OPT_SSID},
        {"reflector-port", required_argument, NULL, OPT_REFLECTOR_PORT},
        {"control-timeout", required_argument, NULL, OPT_CONTROL_TIMEOUT},
        {"sessions", required_argument, NULL, OPT_SESSIONS},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"json", no_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
        {"histogram", no_argument, NULL, OPT_HISTOGRAM},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"schedule", required_argument, NULL, OPT_SCHEDULE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"timestamping", required_argument, NULL, OPT_TIMESTAMPING},
        {"ptp", no_argument, NULL, OPT_PTP},
        {"tlv", required_argument, NULL, OPT_TLV},
        AUTH_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    cli_common_init(&a->common, cmd);
    a->count = 100;
    a->timeout_s = 5;
    a->ssid = -1;
    a->reflector_port = 20001;
    a->control_timeout_s = 10;
    a->sessions = 1;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "c:i:", longopts, NULL)) != -1) {
        if (cli_common_opt(&a->common, opt, optarg))
            continue;
        if (auth_opt(&a->auth, cmd, auth_opts_for(flags), opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            fputs(help, stdout);
            exit(0);
        case 'c':
            /* 0: until --duration or Ctrl-C, for the commands that report */
            a->count =
                (uint32_t)cli_int(cmd, "--count", optarg, flags & SO_REPORT ? 0 : 1, UINT32_MAX);
            a->count_set = true;
            break;
        case 'i':
            a->interval_ms = cli_double(cmd, "--interval", optarg, 0.001, 3600000);
            break;
        case OPT_TIMEOUT:
            a->timeout_s = cli_double(cmd, "--timeout", optarg, 0, 86400);
            break;
        case OPT_STAMP:
            only_with(cmd, flags, SO_STAMP, "--stamp");
            a->stamp = true;
            break;
        case OPT_SSID:
            only_with(cmd, flags, SO_STAMP, "--ssid");
            a->ssid = (int)cli_int(cmd, "--ssid", optarg, 0, 65535);
            break;
        case OPT_TLV:
            only_with(cmd, flags, SO_STAMP, "--tlv");
            parse_tlv(cmd, optarg, a);
            break;
        case OPT_REFLECTOR_PORT:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--reflector-port");
            a->reflector_port = (uint16_t)cli_int(cmd, "--reflector-port", optarg, 1, 65535);
            break;
        case OPT_CONTROL_TIMEOUT:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--control-timeout");
            a->control_timeout_s = cli_double(cmd, "--control-timeout", optarg, 0.001, 3600);
            break;
        case OPT_SESSIONS:
            only_with(cmd, flags, SO_CONTROL, "--sessions");
            a->sessions = (int)cli_int(cmd, "--sessions", optarg, 1, TW_CTRL_MAX_SESSIONS);
            break;
        case OPT_DURATION:
            only_with(cmd, flags, SO_CONTROLCLIENT | SO_REPORT, "--duration");
            a->duration_s = cli_double(cmd, "--duration", optarg, 0, 31536000);
            break;
        case OPT_JSON:
            only_with(cmd, flags, SO_REPORT, "--json");
            a->json = true;
            break;
        case OPT_CSV:
            only_with(cmd, flags, SO_REPORT, "--csv");
            if (!*optarg)
                cli_usage_error(cmd, "--csv needs a file name");
            if (!strcmp(optarg, "-"))
                cli_usage_error(cmd, "--csv -: standard output carries the report; give a file "
                                     "name (e.g. /dev/fd/3 with 3>file)");
            a->csv = optarg;
            break;
        case OPT_REPORT_INTERVAL:
            only_with(cmd, flags, SO_REPORT, "--report-interval");
            a->report_interval_s = cli_double(cmd, "--report-interval", optarg, 0.01, 86400);
            break;
        case OPT_HISTOGRAM:
            only_with(cmd, flags, SO_REPORT, "--histogram");
            a->histogram = true;
            break;
        case OPT_NO_PROGRESS:
            only_with(cmd, flags, SO_REPORT, "--no-progress");
            a->no_progress = true;
            break;
        case OPT_SCHEDULE:
            only_with(cmd, flags, SO_REPORT, "--schedule");
            if (!strcmp(optarg, "periodic"))
                a->schedule = TW_SCHEDULE_PERIODIC;
            else if (!strcmp(optarg, "poisson"))
                a->schedule = TW_SCHEDULE_POISSON;
            else
                cli_usage_error(cmd, "--schedule must be periodic or poisson, not '%s'", optarg);
            break;
        case OPT_SEED:
            only_with(cmd, flags, SO_REPORT, "--seed");
            a->seed = parse_seed(cmd, optarg);
            break;
        case OPT_TIMESTAMPING:
            only_with(cmd, flags, SO_REPORT, "--timestamping");
            if (!strcmp(optarg, "sw"))
                a->timestamping = TS_SW;
            else if (!strcmp(optarg, "hw"))
                a->timestamping = TS_HW;
            else if (!strcmp(optarg, "user"))
                a->timestamping = TS_USER;
            else
                cli_usage_error(cmd, "--timestamping must be sw, hw or user, not '%s'", optarg);
            break;
        case OPT_PTP:
            only_with(cmd, flags, SO_REPORT, "--ptp");
            a->ptp = true;
            break;
        default:
            cli_bad_option(cmd, argc, argv);
        }
    }
    int npos = argc - optind;
    if (!(flags & SO_POSITIONAL) && npos > 0)
        cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (npos > 2)
        cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
    if (npos >= 1)
        a->remote = argv[optind];
    if (npos >= 2)
        a->local = argv[optind + 1];
    if (a->ssid >= 0 && !a->stamp)
        cli_usage_error(cmd, "--ssid needs --stamp");
    if ((a->tlv.want || a->tlv.unknown_type) && !a->stamp)
        cli_usage_error(cmd, "--tlv needs --stamp (TLVs are STAMP's, RFC 8972)");
    if (((a->tlv.want >> TW_TLVT_HMAC) & 1u) && !a->auth.keyfile)
        cli_usage_error(cmd, "--tlv hmac needs authenticated STAMP (--keyfile)");
    if (a->histogram && a->json)
        cli_usage_error(cmd, "--histogram is for the text report (the JSON report has the "
                             "histogram's buckets)");
    /* --duration alone: the duration decides, not the default count. */
    if ((flags & SO_REPORT) && a->duration_s > 0 && !a->count_set)
        a->count = 0;
    cli_common_finish(&a->common);
}

/* Turn the parsed arguments into a sender configuration (remote and local must
 * already be resolved). */
void make_sender_cfg(const struct sender_args *a, tw_sender_cfg_t *cfg)
{
    const char *cmd = a->common.cmd;
    int fam = cfg->remote.ss_family;
    int pad = a->common.padding;
    if (pad > cli_max_padding(fam))
        cli_usage_error(cmd, "--padding %d does not fit a 9000-octet %s packet (at most %d)", pad,
                        fam == AF_INET6 ? "IPv6" : "IPv4", cli_max_padding(fam));
    if (a->stamp && pad >= 0 && tw_sender_packet_len(true, pad) == 0)
        cli_usage_error(cmd,
                        "--padding %d with --stamp: octets past the 44-octet STAMP base form an "
                        "Extra Padding TLV of at least 4 octets, so use --padding 30 or less, "
                        "or 34 or more",
                        pad);
    cfg->sockopts = cli_sockopts(&a->common);
    cfg->sockopts.recv_tos = true; /* the DSCP of each reply, for --csv */
    cfg->count = a->count;
    cfg->interval_ns = (int64_t)(a->interval_ms * 1e6 + 0.5);
    cfg->padding = pad;
    cfg->stamp = a->stamp;
    cfg->ssid = (uint16_t)(a->ssid < 0 ? 0 : a->ssid);
    cfg->tlv = a->tlv;
    if (!a->tlv_cos_dscp_set) /* --tlv cos: the reply asked for the DSCP we send */
        cfg->tlv.cos_dscp = (uint8_t)(cfg->sockopts.tos >> 2);
    cfg->timeout_ns = (int64_t)(a->timeout_s * 1e9);
    cfg->duration_ns = (int64_t)(a->duration_s * 1e9);
    cfg->schedule = a->schedule;
    cfg->seed = a->seed;
    cfg->ptp = a->ptp;
    /* --timestamping hw falls back to software where the NIC cannot (the sender
     * says so once). */
    cfg->tsmode = a->timestamping == TS_USER ? TW_TS_USER
                  : a->timestamping == TS_HW ? TW_TS_HARDWARE
                                             : TW_TS_SOFTWARE;
}

void log_timestamp_sources(const tw_sender_result_t *res)
{
    tw_info("Timestamps: t1 from the kernel's transmit timestamp for %llu of %llu packets, t4 "
            "from the kernel's receive timestamp for %llu of %llu replies (the rest from "
            "user space)",
            (unsigned long long)res->tx_kernel, (unsigned long long)res->sent,
            (unsigned long long)res->rx_kernel, (unsigned long long)res->stats.received);
    /* --timestamping hw: a reply's t1 and t4 are both the NIC's or both software. */
    if (res->hw_timestamps)
        tw_info("Timestamps: t1 and t4 both from the NIC's clock (converted to system time) for "
                "%llu replies, both software for %llu (a NIC timestamp missing or not "
                "convertible)",
                (unsigned long long)res->hw_pairs, (unsigned long long)res->hw_fallback);
}

/* ---- the schedule ------------------------------------------------------------ */

/* ---- the output of a run ------------------------------------------------------ */

#define PROGRESS_NS (100 * TW_NS_PER_MS) /* at most 10 refreshes a second */
#define PROGRESS_BAR 20                  /* characters of the progress bar */

/* A delay as the report's table writes it ("8us", "1.25ms"), without its padding. */
static const char *fmt_report(char *buf, size_t len, int64_t ns)
{
    char b[32];
    const char *t = tw_fmt_delay(b, sizeof b, (double)ns / 1e6);
    while (*t == ' ')
        t++;
    snprintf(buf, len, "%s", t);
    return buf;
}

static void on_packet(void *arg, const tw_packet_record_t *rec)
{
    struct session_out *so = arg;
    tw_csv_row(so->o->csv, so->index, rec);
}

static void on_interval(void *arg, const tw_interval_t *iv)
{
    struct session_out *so = arg;
    struct sender_output *o = so->o;
    output_clear_progress(o);
    if (o->a->json) {
        tw_json_interval(stdout, o->n > 1 ? so->index : 0, iv);
        return;
    }
    char who[32] = "";
    if (o->n > 1)
        snprintf(who, sizeof who, "session %d ", so->index);
    printf("%s[%6.2f-%6.2f s] sent %llu received %llu lost %llu", who, iv->start_s, iv->end_s,
           (unsigned long long)iv->sent, (unsigned long long)iv->received,
           (unsigned long long)iv->lost);
    if (iv->received) {
        char a[32], b[32], c[32];
        /* In the table's units ("8us", "1.25ms"), as the progress line. */
        printf(" rtt min/avg/max %s/%s/%s\n", fmt_report(a, sizeof a, iv->rtt_min),
               fmt_report(b, sizeof b, (int64_t)iv->rtt_mean),
               fmt_report(c, sizeof c, iv->rtt_max));
    } else {
        printf(" rtt -\n");
    }
    fflush(stdout);
}

void output_open(struct sender_output *o, const struct sender_args *a, int nsessions)
{
    memset(o, 0, sizeof *o);
    o->a = a;
    o->cmd = a->common.cmd;
    o->n = nsessions;
    for (int i = 0; i < nsessions; i++) {
        o->s[i].o = o;
        o->s[i].index = i + 1;
    }
    if (a->csv) {
        o->csv = fopen(a->csv, "w");
        if (!o->csv)
            cli_fail("cannot open the CSV file '%s': %s", a->csv, strerror(errno));
        tw_csv_header(o->csv);
    }
    /* The progress line: for a person watching a terminal, and only when
     * nothing else writes there (-v and -d log every packet on stderr). */
    o->progress = !a->no_progress && !a->json && isatty(STDERR_FILENO) &&
                  a->common.loglevel != TW_LOG_OFF &&
                  (a->common.loglevel <= TW_LOG_NOTICE || a->common.logfile);
}

void output_hook(struct sender_output *o, int i, tw_sender_cfg_t *cfg)
{
    struct session_out *so = &o->s[i];
    if (o->csv)
        cfg->on_packet = on_packet;
    if (o->a->report_interval_s > 0) {
        cfg->on_interval = on_interval;
        cfg->report_interval_ns = (int64_t)(o->a->report_interval_s * 1e9 + 0.5);
    }
    cfg->hook_arg = so;
    /* Sessions of one controller get different (but repeatable) schedules. */
    if (o->a->seed)
        cfg->seed = o->a->seed + (uint64_t)i;
}

void output_sender(struct sender_output *o, int i, tw_sender_t *s, const tw_sender_cfg_t *cfg)
{
    struct session_out *so = &o->s[i];
    so->sender = s;
    if (i == 0)
        o->cfg = *cfg;
    tw_addr_str((const struct sockaddr *)&cfg->remote, so->remote, sizeof so->remote);
    struct sockaddr_storage ss;
    socklen_t len;
    if (tw_sender_local(s, &ss, &len) == 0)
        tw_addr_str((struct sockaddr *)&ss, so->local, sizeof so->local);
    so->seed = tw_sender_result(s)->seed;
    tw_sender_schedule_head(cfg, so->seed, so->head, SCHEDULE_HEAD);
    if (tw_log_on(TW_LOG_INFO)) {
        char line[SCHEDULE_HEAD * 24] = "", b[24];
        for (int k = 0; k < SCHEDULE_HEAD; k++) {
            snprintf(b, sizeof b, " %.3f", (double)so->head[k] / 1e3);
            strncat(line, b, sizeof line - strlen(line) - 1);
        }
        char who[32] = "";
        if (o->n > 1)
            snprintf(who, sizeof who, "Session %d: ", so->index);
        tw_info("%s%s schedule, random seed %" PRIu64 "%s; first send times in us:%s", who,
                cfg->schedule == TW_SCHEDULE_POISSON ? "Poisson" : "periodic", so->seed,
                o->n > 1 ? "" : " (--seed repeats it)", line);
    }
}

void output_remote(struct sender_output *o, int i, const struct sockaddr *sa)
{
    tw_addr_str(sa, o->s[i].remote, sizeof o->s[i].remote);
}

/* A time for the progress line: "7.4s", "2m05s", "1h02m". */
static const char *fmt_span(char *buf, size_t len, double s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

int progress_line(const struct sender_output *o, double elapsed_s, char *buf, size_t len)
{
    const tw_sender_cfg_t *c = &o->cfg;
    uint64_t sent = 0, received = 0;
    int64_t rtt = 0, median = 0, rtt_max = 0;
    bool have_rtt = false, sending = false;
    for (int i = 0; i < o->n; i++) {
        const struct session_out *so = &o->s[i];
        if (!so->sender)
            continue;
        const tw_sender_result_t *r = tw_sender_result(so->sender);
        sent += r->sent;
        received += r->stats.received;
        if (r->stats.received && !have_rtt) {
            rtt = r->last_rtt;
            median = tw_hist_percentile(&r->metrics.roundtrip.hist, 50);
            have_rtt = true;
        }
        if (r->metrics.roundtrip.n && r->metrics.roundtrip.max > rtt_max)
            rtt_max = r->metrics.roundtrip.max;
        sending = sending || (!tw_sender_done(so->sender) && (!c->count || r->sent < c->count));
    }
    /* Loss so far: of the packets sent long enough ago that their replies
     * should be in (the longest round trip yet, plus two intervals), those
     * that none answered; the packets still in flight are not lost. */
    uint64_t flight = 0;
    if (c->interval_ns > 0)
        flight = (uint64_t)o->n * (uint64_t)((rtt_max + 2 * c->interval_ns) / c->interval_ns);
    uint64_t settled = sent > flight ? sent - flight : 0;
    double loss = settled > received ? 100.0 * (double)(settled - received) / (double)settled : 0;
    char head[160], tail[96], a[32], b[32];
    uint64_t total = (uint64_t)c->count * (uint64_t)o->n;
    double planned = 0; /* seconds of sending; 0: open-ended */
    if (c->count)
        planned = (double)c->count * (double)c->interval_ns / 1e9;
    if (c->duration_ns && (planned == 0 || (double)c->duration_ns / 1e9 < planned))
        planned = (double)c->duration_ns / 1e9;
    if (planned > 0) {
        /* A bar as ping -c and iperf3 users know the end: the share done, the
         * count and the time left. */
        double frac = total ? (double)sent / (double)total : 0;
        double tfrac = elapsed_s / planned;
        if (!c->count || (c->duration_ns && tfrac > frac))
            frac = tfrac;
        if (frac > 1)
            frac = 1;
        char bar[PROGRESS_BAR + 1];
        int fill = (int)(frac * PROGRESS_BAR + 0.5);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(PROGRESS_BAR - fill));
        bar[PROGRESS_BAR] = '\0';
        char count[48], left[48];
        if (total)
            snprintf(count, sizeof count, "%llu/%llu", (unsigned long long)sent,
                     (unsigned long long)total);
        else
            snprintf(count, sizeof count, "sent %llu", (unsigned long long)sent);
        if (sending)
            snprintf(left, sizeof left, "%s left", fmt_span(a, sizeof a, planned - elapsed_s));
        else
            snprintf(left, sizeof left, "waiting for replies");
        snprintf(head, sizeof head, "[%s] %s, %s", bar, count, left);
    } else {
        snprintf(head, sizeof head, "%s elapsed, sent %llu", fmt_span(a, sizeof a, elapsed_s),
                 (unsigned long long)sent);
    }
    if (have_rtt)
        snprintf(tail, sizeof tail, "rtt %s median %s", fmt_report(a, sizeof a, rtt),
                 fmt_report(b, sizeof b, median));
    else
        snprintf(tail, sizeof tail, "rtt -");
    return snprintf(buf, len, "%s, %s, loss %.1f%%", head, tail, loss);
}

static void on_progress(void *arg)
{
    struct sender_output *o = arg;
    char line[288];
    progress_line(o, (double)(tw_mono_now() - o->start_mono) / 1e9, line, sizeof line);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    o->progress_shown = true;
    bool running = false;
    for (int i = 0; i < o->n; i++)
        running = running || (o->s[i].sender && !tw_sender_done(o->s[i].sender));
    if (running)
        tw_timer_set(o->loop, &o->progress_timer, tw_mono_now() + PROGRESS_NS, on_progress, o);
}

void output_start(struct sender_output *o, tw_loop_t *loop)
{
    o->loop = loop;
    o->start_time = tw_now();
    o->start_mono = tw_mono_now();
    if (o->progress)
        tw_timer_set(loop, &o->progress_timer, tw_mono_now() + PROGRESS_NS, on_progress, o);
}

void output_clear_progress(struct sender_output *o)
{
    if (!o->progress_shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    o->progress_shown = false;
}

static void stop_progress(struct sender_output *o)
{
    if (o->loop)
        tw_timer_cancel(o->loop, &o->progress_timer);
    output_clear_progress(o);
}

static void json_config(tw_json_t *j, const struct sender_output *o)
{
    const struct sender_args *a = o->a;
    const tw_sender_cfg_t *c = &o->cfg;
    int64_t size = (int64_t)tw_sender_packet_len(c->stamp, c->padding);
    tw_json_obj_begin(j, "config");
    if (o->server) {
        tw_json_str(j, "server", o->server);
        tw_json_int(j, "sessions", o->n);
    } else {
        tw_json_str(j, "remote", o->s[0].remote);
        tw_json_str(j, "local", o->s[0].local);
    }
    tw_json_str(j, "mode", o->server ? "twamp" : c->stamp ? "stamp" : "twamp-light");
    tw_json_str(j, "security_mode",
                tw_mode_name(o->s[0].sender ? tw_sender_result(o->s[0].sender)->security_mode
                                            : TW_MODE_UNAUTHENTICATED));
    tw_json_uint(j, "count", c->count);
    if (c->duration_ns)
        tw_json_num(j, "duration_s", (double)c->duration_ns / 1e9);
    else
        tw_json_null(j, "duration_s");
    tw_json_num(j, "interval_ms", (double)c->interval_ns / 1e6);
    tw_json_str(j, "schedule", c->schedule == TW_SCHEDULE_POISSON ? "poisson" : "periodic");
    tw_json_uint(j, "seed", o->s[0].seed);
    tw_json_arr_begin_line(j, "schedule_head_us");
    for (int k = 0; k < SCHEDULE_HEAD; k++)
        tw_json_us(j, NULL, o->s[0].head[k]);
    tw_json_arr_end(j);
    tw_json_int(j, "padding", c->padding);
    tw_json_bool(j, "imix", c->padding == TW_PADDING_IMIX);
    if (size > 0)
        tw_json_int(j, "packet_size", size);
    else
        tw_json_null(j, "packet_size");
    if (c->stamp)
        tw_json_int(j, "ssid", c->ssid);
    else
        tw_json_null(j, "ssid");
    tw_json_int(j, "tos", c->sockopts.tos);
    tw_json_int(j, "dscp", c->sockopts.tos >> 2);
    tw_json_str(j, "dscp_name", tw_dscp_name(c->sockopts.tos >> 2));
    tw_json_int(j, "ttl", c->sockopts.ttl);
    tw_json_bool(j, "do_not_fragment", c->sockopts.df);
    static const char *const ts[] = {"sw", "hw", "user"};
    tw_json_str(j, "timestamping", ts[a->timestamping]);
    tw_json_str(j, "timestamping_used",
                c->tsmode == TW_TS_USER                                             ? "user"
                : o->s[0].sender && tw_sender_result(o->s[0].sender)->hw_timestamps ? "hw"
                                                                                    : "sw");
    tw_json_bool(j, "ptp", c->ptp);
    tw_json_num(j, "timeout_s", (double)c->timeout_ns / 1e9);
    if (a->report_interval_s > 0)
        tw_json_num(j, "report_interval_s", a->report_interval_s);
    else
        tw_json_null(j, "report_interval_s");
    tw_json_str(j, "csv", a->csv);
    tw_json_obj_end(j);
}

static void json_report(struct sender_output *o, const tw_sender_result_t *total,
                        const tw_loss_t *loss)
{
    tw_json_t j;
    char b[48];
    /* With --report-interval the output is JSON Lines: the report is one line too. */
    tw_json_init(&j, stdout, o->a->report_interval_s <= 0);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "schema", TW_JSON_SCHEMA);
    tw_json_str(&j, "type", "report");
    tw_json_str(&j, "command", o->cmd);
    tw_json_str(&j, "version", TWAMPY_VERSION);
    tw_json_str(&j, "start_time", tw_fmt_iso8601(b, sizeof b, o->start_time));
    json_config(&j, o);
    tw_json_result(&j, total, loss);
    if (o->server) {
        tw_json_arr_begin(&j, "sessions");
        for (int i = 0; i < o->n; i++) {
            const struct session_out *so = &o->s[i];
            tw_json_obj_begin(&j, NULL);
            tw_json_int(&j, "session", so->index);
            tw_json_str(&j, "reflector", so->remote);
            tw_json_str(&j, "local", so->local);
            tw_json_uint(&j, "seed", so->seed);
            tw_json_result(&j, tw_sender_result(so->sender), NULL);
            tw_json_obj_end(&j);
        }
        tw_json_arr_end(&j);
    }
    tw_json_obj_end(&j);
    tw_json_end(&j);
}

/* The report's first line: what ran, the security mode, the clocks. */
static void text_header(const struct sender_output *o, const tw_sender_result_t *res)
{
    char what[256];
    if (o->server)
        snprintf(what, sizeof what, "TWAMP via server %s, %d session%s to %s", o->server, o->n,
                 o->n > 1 ? "s" : "", o->s[0].remote);
    else
        snprintf(what, sizeof what, "%s to %s from %s", o->cfg.stamp ? "STAMP" : "TWAMP light",
                 o->s[0].remote, o->s[0].local);
    tw_report_header(stdout, what, res);
}

void output_report(struct sender_output *o)
{
    stop_progress(o);
    const struct sender_args *a = o->a;
    if (o->n == 1) {
        const tw_sender_result_t *res = tw_sender_result(o->s[0].sender);
        if (a->json) {
            json_report(o, res, NULL);
        } else {
            text_header(o, res);
            tw_report_table(stdout, &res->stats, res->sent);
            tw_report_extended(stdout, res);
            if (a->histogram)
                tw_report_histogram(stdout, &res->metrics.roundtrip.hist, 20);
        }
        log_timestamp_sources(res);
        fflush(stdout);
        return;
    }
    /* Several sessions: each, then the total (loss summed per session). */
    tw_sender_result_t *total = malloc(sizeof *total);
    if (!total)
        cli_fail("out of memory");
    tw_report_total_init(total);
    tw_loss_t loss;
    memset(&loss, 0, sizeof loss);
    for (int i = 0; i < o->n; i++)
        tw_report_merge(total, tw_sender_result(o->s[i].sender));
    if (!a->json)
        text_header(o, total);
    for (int i = 0; i < o->n; i++) {
        const tw_sender_result_t *res = tw_sender_result(o->s[i].sender);
        if (!a->json) {
            printf("Session %d of %d\n", i + 1, o->n);
            tw_report_table(stdout, &res->stats, res->sent);
            tw_report_extended(stdout, res);
        }
        log_timestamp_sources(res);
        tw_loss_t l = tw_stats_loss(&res->stats, res->sent);
        tw_loss_add(&loss, &l);
    }
    if (a->json) {
        json_report(o, total, &loss);
    } else {
        printf("All %d sessions\n", o->n);
        tw_report_table_loss(stdout, &total->stats, total->sent, &loss);
        tw_report_extended_loss(stdout, total, &loss);
        if (a->histogram)
            tw_report_histogram(stdout, &total->metrics.roundtrip.hist, 20);
    }
    fflush(stdout);
    free(total);
}

int output_close(struct sender_output *o)
{
    stop_progress(o);
    if (!o->csv)
        return 0;
    bool bad = ferror(o->csv) != 0;
    if (fclose(o->csv) != 0)
        bad = true;
    o->csv = NULL;
    if (bad) {
        fprintf(stderr, "twampy: error: cannot write the CSV file '%s'\n", o->a->csv);
        return -1;
    }
    return 0;
}
