/* twampy responder: the TWAMP light / STAMP Session-Reflector. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "auth_opts.h"
#include "commands.h"
#include "metrics_opts.h"
#include "server_metrics.h"
#include "log.h"
#include "loop.h"
#include "opts.h"
#include "privileges.h"
#include "ratelimit.h"
#include "reflector.h"
#include "sdnotify.h"
#include "signals.h"
#include "workers.h"

static const char responder_help[] =
    "usage: twampy responder [options] [local-ip:port]\n"
    "\n"
    "TWAMP light and STAMP Session-Reflector: answers TWAMP light (RFC 5357) and\n"
    "STAMP (RFC 8762) test packets, by default without being told which (see\n"
    "--format). A reply is as long as its request, or 41 octets (TWAMP light) or\n"
    "44 octets (STAMP) when the request is shorter; requests shorter than 14\n"
    "octets are counted and dropped. An IPv6 reply carries its request's flow\n"
    "label (0 for 0; see the sender's --flow-label).\n"
    "\n"
    "positional arguments:\n"
    "  local-ip:port         address to listen on (default: :20001, which is every\n"
    "                        IPv4 and IPv6 address)\n"
    "\n"
    "TWL responder options:\n"
    "  --timer sec           a sender idle this long starts its reflector sequence\n"
    "                        numbers again at 0 (default: 30; fractions such as\n"
    "                        0.5 allowed, at least 0.001)\n"
    "  --stateless           copy the sender's sequence number instead of counting\n"
    "                        per sender (direction-specific loss is then unknown)\n"
    "  --max-senders N       per-sender state entries in all; a new sender takes the\n"
    "                        place of the least recently seen of its group of 8\n"
    "                        (default: 65536)\n"
    "  --format auto|twamp|stamp\n"
    "                        the test packet format (default: auto): auto takes a\n"
    "                        request for STAMP when it has at least 44 octets and\n"
    "                        its octets 16..43 (STAMP's MBZ) are all zero, else for\n"
    "                        TWAMP light (whose padding should be random); twamp\n"
    "                        or stamp answer every request in that format\n"
    "  --rate-limit PPS[:BURST]\n"
    "                        answer each source (IPv4 address, IPv6 /64) at most\n"
    "                        PPS requests a second (1..1000000), in bursts of up\n"
    "                        to BURST (default: PPS); requests over it are counted\n"
    "                        and dropped (default: no limit)\n"
    "  --allow CIDR          only answer sources in this prefix (repeatable, e.g.\n"
    "                        --allow 192.0.2.0/24 --allow 2001:db8::/32); others are\n"
    "                        counted and dropped (default: answer everyone)\n"
    "  --user NAME           after binding, drop root privileges to this user\n"
    "  --keyfile file        authenticated STAMP only (RFC 8762): answer\n"
    "                        112-octet requests whose HMAC-SHA-256 checks with a\n"
    "                        passphrase of this 'KEYID PASSPHRASE' file (chmod\n"
    "                        600, read before --user), in the 112-octet format;\n"
    "                        every other request is counted and dropped unanswered\n"
    "  --keyid name          the line of --keyfile (not needed with a single line)\n"
    "  --busy-poll usec      after each packet, keep polling the socket this long\n"
    "                        instead of sleeping: the reply leaves without a\n"
    "                        scheduler wake-up in between (lower, steadier residence\n"
    "                        time), at the cost of a busy CPU core (default: 0, off);\n"
    "                        signals are still seen on every poll\n"
    "  --workers N           threads, each with its own SO_REUSEPORT socket; a\n"
    "                        sender stays on one (default: online CPUs; 1..1024)\n"
    "\n"
    "IP socket options:\n"
    "  --tos type-of-service TOS / Traffic Class octet of replies 0..255 (default: 0)\n"
    "  --dscp dscp-value     DSCP name or number of replies (see 'twampy dscptable')\n"
    "  --ecn 0..3            ECN field of replies (RFC 3168; default: 0, Not-ECT)\n"
    "  --ttl time-to-live    TTL / Hop Limit of replies 1..255 (default: 64)\n"
    "  --padding bytes       accepted for compatibility; reply sizes follow the\n"
    "                        requests (RFC 6038 symmetrical size)\n"
    "  --do-not-fragment     set the DF bit on replies\n"
    "\n"
    "Metrics:\n"
    "  --metrics ADDR:PORT   serve Prometheus metrics on http://ADDR:PORT/metrics\n"
    "                        (text format 0.0.4 or OpenMetrics 1.0)\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename  write the log to a file (default: stderr)\n"
    "  -q, --quiet           disable logging\n"
    "  -v, --verbose         log every request\n"
    "  -d, --debug           also hex dumps of every packet\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM stops the responder and logs its counters.\n";

enum {
    OPT_R_ALLOW = 500,
    OPT_R_USER,
    OPT_R_BUSY_POLL,
    OPT_R_FORMAT,
    OPT_R_RATE_LIMIT,
    OPT_R_WORKERS,
    OPT_R_METRICS,
};

/* The workers' reflectors, for the metrics (read on worker 0's loop: the
 * other workers' counters are read while they count, a second's snapshot). */
struct refl_set {
    tw_reflector_t **refl;
    int n;
};

static void render_reflector(void *arg, tw_prom_t *p)
{
    const struct refl_set *set = arg;
    tw_reflector_counters_t sum;
    tw_reflector_counters_sum(&sum, set->refl, set->n);
    tw_reflector_prom(p, &sum);
}

int cmd_responder(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"timer", required_argument, NULL, OPT_TIMER},
        {"stateless", no_argument, NULL, OPT_STATELESS},
        {"max-senders", required_argument, NULL, OPT_MAX_SENDERS},
        {"allow", required_argument, NULL, OPT_R_ALLOW},
        {"user", required_argument, NULL, OPT_R_USER},
        {"busy-poll", required_argument, NULL, OPT_R_BUSY_POLL},
        {"format", required_argument, NULL, OPT_R_FORMAT},
        {"rate-limit", required_argument, NULL, OPT_R_RATE_LIMIT},
        {"workers", required_argument, NULL, OPT_R_WORKERS},
        {"metrics", required_argument, NULL, OPT_R_METRICS},
        AUTH_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    static tw_acl_t allow;
    const char *user = NULL;
    const char *metrics = NULL;
    char aerr[256];
    const char *cmd = "responder";
    cli_common_t c;
    cli_common_init(&c, cmd);
    struct auth_args auth;
    memset(&auth, 0, sizeof auth);
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.idle_reset_ns = 30 * TW_NS_PER_SEC;
    cfg.max_senders = 65536;
    int64_t busy_poll_ns = 0;
    int nworkers = tw_workers_online();
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cli_common_opt(&c, opt, optarg))
            continue;
        if (auth_opt(&auth, cmd, AUTH_KEY, opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            fputs(responder_help, stdout);
            exit(0);
        case OPT_TIMER: {
            double t = cli_double(cmd, "--timer", optarg, 0, 86400);
            if (t > 0 && t < 0.001)
                cli_usage_error(cmd, "--timer %s is below 0.001 s (0 means the default, 30)",
                                optarg);
            /* The Python twampy's default --timer is 0: keep its 30 s then. */
            cfg.idle_reset_ns = t > 0 ? (int64_t)(t * 1e9 + 0.5) : 30 * TW_NS_PER_SEC;
            break;
        }
        case OPT_STATELESS:
            cfg.stateless = true;
            break;
        case OPT_MAX_SENDERS:
            cfg.max_senders = (uint32_t)cli_int(cmd, "--max-senders", optarg, 1, 1 << 24);
            break;
        case OPT_R_ALLOW:
            if (tw_acl_add(&allow, optarg, aerr, sizeof aerr) < 0)
                cli_usage_error(cmd, "--allow: %s", aerr);
            break;
        case OPT_R_USER:
            user = optarg;
            break;
        case OPT_R_BUSY_POLL:
            busy_poll_ns = cli_int(cmd, "--busy-poll", optarg, 0, 10000000) * TW_NS_PER_US;
            break;
        case OPT_R_WORKERS:
            nworkers = (int)cli_int(cmd, "--workers", optarg, 1, TW_WORKERS_MAX);
            break;
        case OPT_R_FORMAT:
            if (!strcmp(optarg, "auto"))
                cfg.format = TW_FORMAT_AUTO;
            else if (!strcmp(optarg, "twamp"))
                cfg.format = TW_FORMAT_TWAMP;
            else if (!strcmp(optarg, "stamp"))
                cfg.format = TW_FORMAT_STAMP;
            else
                cli_usage_error(cmd, "--format: '%s' is not auto, twamp or stamp", optarg);
            break;
        case OPT_R_METRICS:
            metrics = optarg;
            break;
        case OPT_R_RATE_LIMIT: {
            char pps[32];
            const char *colon = strchr(optarg, ':');
            size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);
            if (n >= sizeof pps)
                cli_usage_error(cmd, "--rate-limit: '%s' is not PPS[:BURST]", optarg);
            memcpy(pps, optarg, n);
            pps[n] = 0;
            cfg.rate_pps = (uint32_t)cli_int(cmd, "--rate-limit", pps, 1, TW_RATELIMIT_MAX_PPS);
            cfg.rate_burst =
                colon ? (uint32_t)cli_int(cmd, "--rate-limit BURST", colon + 1, 1, 1000000) : 0;
            break;
        }
        default:
            cli_bad_option(cmd, argc, argv);
        }
    }
    if (argc - optind > 1)
        cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    const char *local = argc - optind == 1 ? argv[optind] : ":20001";
    cli_common_finish(&c);
    if (c.padding_set)
        tw_notice("--padding is ignored by the responder: a reply is as long as its request "
                  "(at least 41 octets)");

    tw_addr_spec_t spec;
    char err[512];
    if (tw_addr_parse(local, 20001, &spec, err, sizeof err) < 0)
        cli_usage_error(cmd, "local address '%s': %s", local, err);
    cfg.sockopts = cli_sockopts(&c);
    cfg.allow = &allow;
    cfg.sockopts.bufsize = 4 << 20;
    /* Authenticated STAMP: the key is read before privileges are dropped. */
    const tw_secret_t *key = auth_stamp_key(&auth, cmd, true);
    if (key && cfg.format == TW_FORMAT_TWAMP)
        cli_usage_error(cmd, "--format twamp: --keyfile is for authenticated STAMP");
    if (key) {
        cfg.stamp_key = key->bytes;
        cfg.stamp_key_len = key->len;
    }

    tw_workers_t *workers;
    if (tw_workers_new(&workers, nworkers) < 0)
        cli_fail("cannot create %d event loops: %s", nworkers, strerror(errno));
    tw_loop_t *loop = tw_workers_loop(workers, 0);
    for (int i = 0; i < nworkers; i++)
        tw_loop_busy_poll(tw_workers_loop(workers, i), busy_poll_ns);
    tw_reflector_t **refl = calloc((size_t)nworkers, sizeof *refl);
    if (!refl)
        cli_fail("out of memory");
    int rc = -1;
    if (!spec.host[0]) {
        /* No address: every IPv6 and IPv4 address on one dual-stack socket, or
         * IPv4 alone where the host has no IPv6. */
        cfg.sockopts.dualstack = true;
        if (tw_addr_resolve(&spec, AF_INET6, true, &cfg.local, &cfg.local_len, err, sizeof err) ==
            0)
            rc = tw_workers_reflectors_open(refl, &cfg, workers, err, sizeof err);
        if (rc < 0) {
            tw_info("no dual-stack socket (%s); listening on IPv4 only", err);
            cfg.sockopts.dualstack = false;
        }
    }
    if (rc < 0) {
        if (tw_addr_resolve(&spec, spec.host[0] ? AF_UNSPEC : AF_INET, true, &cfg.local,
                            &cfg.local_len, err, sizeof err) < 0)
            cli_fail("local address '%s': %s", local, err);
        if (tw_workers_reflectors_open(refl, &cfg, workers, err, sizeof err) < 0)
            cli_fail("%s", err);
    }
    auth_forget(); /* the reflector has the key in its HMAC context */

    /* Signals blocked before the metrics server's thread starts; both
     * before the privileges go (a privileged metrics port). */
    cli_signals_t sig;
    cli_signals_watch(&sig, loop, "stop TWL session reflector", NULL, cli_signals_stop_loop, loop);
    cli_metrics_t cm;
    struct refl_set set = {refl, nworkers};
    cli_metrics_start(&cm, cmd, metrics, loop, render_reflector, &set);
    if (user)
        cli_drop_privileges(user);
    struct sockaddr_storage ss;
    socklen_t sl;
    char a[TW_ADDRSTRLEN];
    tw_reflector_local(refl[0], &ss, &sl);
    /* systemd (Type=notify): the sockets are bound, privileges dropped. */
    tw_sd_notify("READY=1");
    tw_notice(
        "Wait to receive test packets on %s%s%s", tw_addr_str((struct sockaddr *)&ss, a, sizeof a),
        cfg.sockopts.dualstack ? " (IPv6 and IPv4)" : "", key ? " (authenticated STAMP only)" : "");
    if (nworkers > 1)
        tw_info("%d workers, each with its own socket (SO_REUSEPORT)", nworkers);
    if (tw_workers_run(workers) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    tw_sd_notify("STOPPING=1");
    tw_reflector_counters_t sum;
    tw_reflector_counters_sum(&sum, refl, nworkers);
    const tw_reflector_counters_t *k = &sum;
    char authc[160] = "", ratec[64] = "";
    if (key)
        snprintf(authc, sizeof authc,
                 ", %llu unauthenticated, %llu failed the integrity check (dropped unanswered)",
                 (unsigned long long)k->unauthenticated, (unsigned long long)k->integrity);
    if (cfg.rate_pps)
        snprintf(ratec, sizeof ratec, ", %llu over --rate-limit",
                 (unsigned long long)k->rate_limited);
    char tlvc[128] = "";
    if (k->tlv_malformed || k->tlv_integrity)
        snprintf(tlvc, sizeof tlvc,
                 ", STAMP TLVs: %llu malformed, %llu failed the HMAC TLV (answered with M / I)",
                 (unsigned long long)k->tlv_malformed, (unsigned long long)k->tlv_integrity);
    char flc[96] = "";
    if (k->unlabelled)
        snprintf(flc, sizeof flc,
                 ", %llu without their request's flow label (refused by the kernel)",
                 (unsigned long long)k->unlabelled);
    tw_notice("TWL session reflector stopped: %llu received, %llu reflected, %llu too short, "
              "%llu truncated, %llu send errors, %llu senders forgotten, %llu denied by "
              "--allow%s%s%s%s",
              (unsigned long long)k->received, (unsigned long long)k->reflected,
              (unsigned long long)k->too_short, (unsigned long long)k->truncated,
              (unsigned long long)k->send_errors, (unsigned long long)k->senders_evicted,
              (unsigned long long)k->denied, ratec, authc, tlvc, flc);
    for (int i = 0; nworkers > 1 && i < nworkers; i++) {
        const tw_reflector_counters_t *w = tw_reflector_counters(refl[i]);
        tw_notice("worker %d of %d: %llu received, %llu reflected", i + 1, nworkers,
                  (unsigned long long)w->received, (unsigned long long)w->reflected);
    }
    cli_metrics_stop(&cm);
    tw_workers_reflectors_close(refl, nworkers);
    free(refl);
    cli_signals_close(&sig);
    tw_workers_free(workers);
    tw_log_close();
    return 0;
}
