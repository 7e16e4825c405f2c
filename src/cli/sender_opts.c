#include "sender_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "dscp.h"
#include "flowlabel.h"
#include "plot_svg.h"
#include "report_csv.h"

static void only_with(const char *cmd, unsigned flags, unsigned need, const char *opt)
{
    if (!(flags & need))
        cli_usage_error(cmd, "%s is not an option of 'twampy %s'", opt, cmd);
}

/* Options a --targets line may not give: the run's output and logging. */
static bool line_refused(int opt)
{
    switch (opt) {
    case 'l':
    case 'q':
    case 'v':
    case 'd':
    case 'h':
    case OPT_JSON:
    case OPT_CSV:
    case OPT_REPORT_INTERVAL:
    case OPT_HISTOGRAM:
    case OPT_NO_PROGRESS:
    case OPT_TARGETS:
        return true;
    default:
        return false;
    }
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
        {"plot", required_argument, NULL, OPT_PLOT},
        {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
        {"histogram", no_argument, NULL, OPT_HISTOGRAM},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"schedule", required_argument, NULL, OPT_SCHEDULE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"timestamping", required_argument, NULL, OPT_TIMESTAMPING},
        {"ptp", no_argument, NULL, OPT_PTP},
        {"targets", required_argument, NULL, OPT_TARGETS},
        {"reflect-octets", required_argument, NULL, OPT_REFLECT_OCTETS},
        {"reflect-padding", required_argument, NULL, OPT_REFLECT_PADDING},
        {"symmetrical", no_argument, NULL, OPT_SYMMETRICAL},
        {"start-time", required_argument, NULL, OPT_START_TIME},
        {"individual-control", no_argument, NULL, OPT_INDIVIDUAL},
        {"monitor-dscp-ecn", no_argument, NULL, OPT_DSCP_ECN},
        {"tlv", required_argument, NULL, OPT_TLV},
        {"flow-label", required_argument, NULL, OPT_FLOW_LABEL},
        AUTH_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    if (flags & SO_LINE) {
        /* Onto the command line's values: --dscp there is in tos already. */
        a->common.dscp = -1;
        a->remote = a->local = NULL;
    } else {
        memset(a, 0, sizeof *a);
        cli_common_init(&a->common, cmd);
        a->count = 100;
        a->timeout_s = 5;
        a->ssid = -1;
        a->reflector_port = 20001;
        a->control_timeout_s = 10;
        a->sessions = 1;
        a->reflect_padding = -1;
    }
    int opt;
    opterr = 0;
    optind = 0; /* getopt starts again (GNU): also for each --targets line */
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "c:i:", longopts, NULL)) != -1) {
        if ((flags & SO_LINE) && line_refused(opt))
            cli_usage_error(cmd, "%s is for the command line, not a --targets line",
                            argv[optind - 1]);
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
        case OPT_PLOT:
            only_with(cmd, flags, SO_REPORT, "--plot");
            if (!*optarg || !strcmp(optarg, "-"))
                cli_usage_error(cmd, "--plot needs a file name (the SVG picture)");
            a->plot = optarg;
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
        case OPT_TARGETS:
            only_with(cmd, flags, SO_TARGETS, "--targets");
            if (!*optarg)
                cli_usage_error(cmd, "--targets needs a file name");
            a->targets = optarg;
            break;
        case OPT_REFLECT_OCTETS:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--reflect-octets");
            a->reflect = true;
            a->reflect_octets = cli_hex16(cmd, "--reflect-octets", optarg);
            break;
        case OPT_REFLECT_PADDING:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--reflect-padding");
            a->reflect_padding = (int)cli_int(cmd, "--reflect-padding", optarg, 0, 1024);
            break;
        case OPT_SYMMETRICAL:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--symmetrical");
            a->symmetrical = true;
            break;
        case OPT_START_TIME:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--start-time");
            if (tw_time_parse(optarg, tw_now(), &a->start_time_abs) < 0)
                cli_usage_error(cmd,
                                "--start-time needs +SECONDS or an ISO 8601 time with its zone "
                                "(2026-12-02T07:30:00Z), not '%s'",
                                optarg);
            a->start_time = optarg;
            break;
        case OPT_DSCP_ECN:
            only_with(cmd, flags, SO_CONTROL | SO_CONTROLCLIENT, "--monitor-dscp-ecn");
            a->dscp_ecn = true;
            break;
        case OPT_FLOW_LABEL:
            only_with(cmd, flags, SO_TARGETS | SO_CONTROL | SO_LINE, "--flow-label");
            if (tw_flowlabel_parse(optarg, &a->flowlabel_mode, &a->flowlabel) < 0)
                cli_usage_error(cmd,
                                "--flow-label needs a label 0..0xFFFFF (1048575; decimal or 0x "
                                "hex), random or per-packet, not '%s'",
                                optarg);
            break;
        case OPT_INDIVIDUAL:
            only_with(cmd, flags, SO_CONTROL, "--individual-control");
            a->individual = true;
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
    if (a->targets && a->remote)
        cli_usage_error(cmd,
                        "--targets FILE names the reflectors: no reflector address '%s' "
                        "as well",
                        a->remote);
    if (flags & SO_LINE) {
        if (!a->remote)
            cli_usage_error(cmd, "no reflector address");
        if (a->common.dscp >= 0)
            a->common.tos = (a->common.dscp << 2) | (a->common.tos & 3);
        return;
    }
    cli_common_finish(&a->common);
    if (a->reflect_padding >= 0 && !a->reflect)
        cli_usage_error(cmd, "--reflect-padding needs --reflect-octets");
    if (a->reflect && a->reflect_padding < 0)
        a->reflect_padding = 4; /* room for Server octets, then the octets again */
    if (a->reflect || a->symmetrical) {
        int pad = a->common.padding < 0 ? 0 : a->common.padding;
        /* RFC 6038 §4.2: Padding Length >= Length of padding to reflect; in
         * the symmetrical format the padding to reflect follows 27 MBZ octets. */
        int need =
            (a->symmetrical ? (a->dscp_ecn ? 28 : 27) : 0) + (a->reflect ? a->reflect_padding : 0);
        if (a->common.padding == TW_PADDING_IMIX)
            cli_usage_error(cmd, "--reflect-octets and --symmetrical need a fixed --padding");
        if (pad < need)
            cli_usage_error(
                cmd, "--padding %d is too short: %s%s%s needs %d or more (RFC 6038 section 4.2)",
                pad, a->symmetrical ? "--symmetrical (27 MBZ octets)" : "",
                a->symmetrical && a->reflect ? " with " : "", a->reflect ? "--reflect-padding" : "",
                need);
    }
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
    if (a->flowlabel_mode &&
        (fam != AF_INET6 ||
         IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)&cfg->remote)->sin6_addr)))
        cli_usage_error(cmd, "--flow-label needs an IPv6 reflector: the flow label is IPv6's");
    cfg->flowlabel_mode = a->flowlabel_mode;
    cfg->flowlabel = a->flowlabel;
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

/* ---- the schedule ------------------------------------------------------------ */

/* ---- the output of a run ------------------------------------------------------ */

#define PROGRESS_NS (100 * TW_NS_PER_MS) /* at most 10 refreshes a second */

static tw_run_format_t run_format(const struct sender_output *o)
{
    return o->a->json ? TW_RUN_JSON : TW_RUN_TEXT;
}

/* --plot keeps at most this many records (88 MB); the picture says so. */
#define PLOT_MAX_RECORDS 1000000

static void plot_keep(struct sender_output *o, const tw_packet_record_t *rec)
{
    if (o->plot_n == o->plot_cap) {
        size_t cap = o->plot_cap ? o->plot_cap * 2 : 1024;
        if (cap > PLOT_MAX_RECORDS)
            cap = PLOT_MAX_RECORDS;
        tw_packet_record_t *p = cap > o->plot_cap ? realloc(o->plot_recs, cap * sizeof *p) : NULL;
        if (!p) {
            if (!o->plot_truncated)
                tw_warn("--plot: the picture shows the first %zu packets only", o->plot_n);
            o->plot_truncated = true;
            return;
        }
        o->plot_recs = p;
        o->plot_cap = cap;
    }
    o->plot_recs[o->plot_n++] = *rec;
}

static void on_packet(void *arg, const tw_packet_record_t *rec)
{
    struct session_hook *h = arg;
    if (h->o->csv)
        tw_csv_row(h->o->csv, h->index, rec);
    if (h->o->plot)
        plot_keep(h->o, rec);
}

static void on_interval(void *arg, const tw_interval_t *iv)
{
    struct session_hook *h = arg;
    output_clear_progress(h->o);
    tw_run_interval(stdout, &h->o->run, h->index, iv, run_format(h->o));
}

void output_open(struct sender_output *o, const struct sender_args *a, int nsessions)
{
    static const char *const ts[] = {"sw", "hw", "user"};
    memset(o, 0, sizeof *o);
    o->a = a;
    o->s = calloc((size_t)nsessions, sizeof *o->s);
    o->hook = calloc((size_t)nsessions, sizeof *o->hook);
    if (!o->s || !o->hook)
        cli_fail("out of memory for %d sessions", nsessions);
    tw_run_init(&o->run, a->common.cmd, o->s, nsessions);
    o->run.targets = a->targets != NULL;
    o->run.timestamping = ts[a->timestamping];
    o->run.report_interval_s = a->report_interval_s;
    o->run.csv = a->csv;
    o->run.plot = a->plot;
    o->run.histogram = a->histogram;
    for (int i = 0; i < nsessions; i++) {
        o->hook[i].o = o;
        o->hook[i].index = i + 1;
    }
    if (a->csv) {
        o->csv = fopen(a->csv, "w");
        if (!o->csv)
            cli_fail("cannot open the CSV file '%s': %s", a->csv, strerror(errno));
        tw_csv_header(o->csv);
    }
    if (a->plot) { /* opened now, so that a bad name fails before the run */
        o->plot = fopen(a->plot, "w");
        if (!o->plot)
            cli_fail("cannot open the plot file '%s': %s", a->plot, strerror(errno));
    }
    /* The progress line: for a person watching a terminal, and only when
     * nothing else writes there (-v and -d log every packet on stderr). */
    o->progress = !a->no_progress && !a->json && isatty(STDERR_FILENO) &&
                  a->common.loglevel != TW_LOG_OFF &&
                  (a->common.loglevel <= TW_LOG_NOTICE || a->common.logfile);
}

void output_hook(struct sender_output *o, int i, tw_sender_cfg_t *cfg)
{
    if (o->csv || o->plot)
        cfg->on_packet = on_packet;
    if (o->a->report_interval_s > 0) {
        cfg->on_interval = on_interval;
        cfg->report_interval_ns = (int64_t)(o->a->report_interval_s * 1e9 + 0.5);
    }
    cfg->hook_arg = &o->hook[i];
    /* Sessions of one controller get different (but repeatable) schedules. */
    if (o->a->seed)
        cfg->seed = o->a->seed + (uint64_t)i;
}

void output_sender(struct sender_output *o, int i, tw_sender_t *s, const tw_sender_cfg_t *cfg)
{
    tw_run_session_open(&o->run, i, s, cfg);
}

void output_remote(struct sender_output *o, int i, const struct sockaddr *sa)
{
    tw_run_session_remote(&o->run, i, sa);
}

static void on_progress(void *arg)
{
    struct sender_output *o = arg;
    char line[288];
    tw_run_progress(&o->run, (double)(tw_mono_now() - o->start_mono) / 1e9, line, sizeof line);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    o->progress_shown = true;
    bool running = false;
    for (int i = 0; i < o->run.n; i++)
        running = running || (o->s[i].sender && !tw_sender_done(o->s[i].sender));
    if (running)
        tw_timer_set(o->loop, &o->progress_timer, tw_mono_now() + PROGRESS_NS, on_progress, o);
}

void output_start(struct sender_output *o, tw_loop_t *loop)
{
    o->loop = loop;
    o->run.start_time = tw_now();
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

void output_report(struct sender_output *o)
{
    stop_progress(o);
    if (tw_run_report(stdout, &o->run, run_format(o)) < 0)
        cli_fail("out of memory");
}

/* --plot: the picture of the run, written once every record is in. */
static int write_plot(struct sender_output *o)
{
    char title[300];
    const tw_run_t *run = &o->run;
    const char *first = o->plot_truncated ? " (first packets only)" : "";
    if (run->server)
        snprintf(title, sizeof title, "TWAMP via server %s, %d session%s to %s%s", run->server,
                 run->n, run->n > 1 ? "s" : "", o->s[0].remote, first);
    else if (run->targets && run->n > 1)
        snprintf(title, sizeof title, "%d targets, from %s to %s%s", run->n, o->s[0].remote,
                 o->s[run->n - 1].remote, first);
    else
        snprintf(title, sizeof title, "%s to %s from %s%s",
                 run->cfg.stamp ? "STAMP" : "TWAMP light", o->s[0].remote, o->s[0].local, first);
    tw_plot_info_t info = {.title = title};
    int rc = tw_plot_svg(o->plot, o->plot_recs, o->plot_n, &info);
    if (fclose(o->plot) != 0)
        rc = -1;
    o->plot = NULL;
    free(o->plot_recs);
    o->plot_recs = NULL;
    if (rc < 0)
        fprintf(stderr, "twampy: error: cannot write the plot file '%s'\n", o->a->plot);
    return rc;
}

int output_close(struct sender_output *o)
{
    stop_progress(o);
    int prc = o->plot ? write_plot(o) : 0;
    free(o->s);
    free(o->hook);
    o->s = NULL;
    o->hook = NULL;
    if (!o->csv)
        return prc;
    bool bad = ferror(o->csv) != 0;
    if (fclose(o->csv) != 0)
        bad = true;
    o->csv = NULL;
    if (bad) {
        fprintf(stderr, "twampy: error: cannot write the CSV file '%s'\n", o->a->csv);
        return -1;
    }
    return prc;
}
