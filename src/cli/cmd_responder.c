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
#include "signals.h"

static const char responder_help[] =
    "usage: twampy responder [options] [local-ip:port]\n"
    "\n"
    "TWAMP light and STAMP Session-Reflector: answers TWAMP light (RFC 5357) and\n"
    "STAMP (RFC 8762) test packets, by default without being told which (see\n"
    "--format). A reply is as long as its request, or 41 octets (TWAMP light) or\n"
    "44 octets (STAMP) when the request is shorter; requests shorter than 14\n"
    "octets are counted and dropped.\n"
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
    "\n"
    "IP socket options:\n"
    "  --tos type-of-service TOS / Traffic Class octet of replies 0..255 (default: 0)\n"
    "  --dscp dscp-value     DSCP name or number of replies (see 'twampy dscptable')\n"
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
    OPT_R_METRICS,
};

static void render_reflector(void *arg, tw_prom_t *p)
{
    tw_reflector_prom(p, tw_reflector_counters(arg));
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

    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    tw_loop_busy_poll(loop, busy_poll_ns);
    tw_reflector_t *refl = NULL;
    int rc = -1;
    if (!spec.host[0]) {
        /* No address: every IPv6 and IPv4 address on one dual-stack socket, or
         * IPv4 alone where the host has no IPv6. */
        cfg.sockopts.dualstack = true;
        if (tw_addr_resolve(&spec, AF_INET6, true, &cfg.local, &cfg.local_len, err, sizeof err) ==
            0)
            rc = tw_reflector_open(&refl, &cfg, loop, err, sizeof err);
        if (rc < 0) {
            tw_info("no dual-stack socket (%s); listening on IPv4 only", err);
            cfg.sockopts.dualstack = false;
        }
    }
    if (rc < 0) {
        if (tw_addr_resolve(&spec, spec.host[0] ? AF_UNSPEC : AF_INET, true, &cfg.local,
                            &cfg.local_len, err, sizeof err) < 0)
            cli_fail("local address '%s': %s", local, err);
        if (tw_reflector_open(&refl, &cfg, loop, err, sizeof err) < 0)
            cli_fail("%s", err);
    }
    auth_forget(); /* the reflector has the key in its HMAC context */

    /* Signals blocked before the metrics server's thread starts; both
     * before the privileges go (a privileged metrics port). */
    cli_signals_t sig;
    cli_signals_watch(&sig, loop, "stop TWL session reflector", NULL, cli_signals_stop_loop, loop);
    cli_metrics_t cm;
    cli_metrics_start(&cm, cmd, metrics, loop, render_reflector, refl);
    if (user)
        cli_drop_privileges(user);
    struct sockaddr_storage ss;
    socklen_t sl;
    char a[TW_ADDRSTRLEN];
    tw_reflector_local(refl, &ss, &sl);
    tw_notice(
        "Wait to receive test packets on %s%s%s", tw_addr_str((struct sockaddr *)&ss, a, sizeof a),
        cfg.sockopts.dualstack ? " (IPv6 and IPv4)" : "", key ? " (authenticated STAMP only)" : "");
    if (tw_loop_run(loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    const tw_reflector_counters_t *k = tw_reflector_counters(refl);
    char authc[160] = "", ratec[64] = "";
    if (key)
        snprintf(authc, sizeof authc,
                 ", %llu unauthenticated, %llu failed the integrity check (dropped unanswered)",
                 (unsigned long long)k->unauthenticated, (unsigned long long)k->integrity);
    if (cfg.rate_pps)
        snprintf(ratec, sizeof ratec, ", %llu over --rate-limit",
                 (unsigned long long)k->rate_limited);
    tw_notice("TWL session reflector stopped: %llu received, %llu reflected, %llu too short, "
              "%llu truncated, %llu send errors, %llu senders forgotten, %llu denied by "
              "--allow%s%s",
              (unsigned long long)k->received, (unsigned long long)k->reflected,
              (unsigned long long)k->too_short, (unsigned long long)k->truncated,
              (unsigned long long)k->send_errors, (unsigned long long)k->senders_evicted,
              (unsigned long long)k->denied, ratec, authc);
    cli_metrics_stop(&cm);
    tw_reflector_close(refl);
    cli_signals_close(&sig);
    tw_loop_free(loop);
    tw_log_close();
    return 0;
}
