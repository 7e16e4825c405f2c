/* twampy server: a TWAMP server (TWAMP-Control listener and Session-Reflectors). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "auth_opts.h"
#include "commands.h"
#include "metrics_http.h"
#include "metrics_opts.h"
#include "server_metrics.h"
#include "control_server.h"
#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "opts.h"
#include "privileges.h"
#include "server_guard.h"
#include "sdnotify.h"
#include "server_workers.h"
#include "signals.h"

static const char server_help[] =
    "usage: twampy server [options] [local-ip:port]\n"
    "\n"
    "TWAMP server (RFC 5357): accepts TWAMP-Control connections, sets up the test\n"
    "sessions clients request and reflects their test packets. Modes open\n"
    "(unauthenticated), authenticated, encrypted and mixed (RFC 5618), with the\n"
    "RFC 6038 reflect-octets and symmetrical-size features, RFC 5938 individual\n"
    "session control and the RFC 5357 Start Time (a session starts at the later\n"
    "of Start-Sessions and its Start Time; one later than --servwait is refused).\n"
    "\n"
    "positional arguments:\n"
    "  local-ip:port         control address (default: :862, every IPv6 and IPv4\n"
    "                        address)\n"
    "\n"
    "TWAMP server options:\n"
    "  --port-range LOW-HIGH reflector ports; a requested port outside, or taken,\n"
    "                        gets another one (default: a requested port from\n"
    "                        1024-65535 if free, else the kernel's choice)\n"
    "  --max-connections N   control connections at once (default: 64); when full,\n"
    "                        one still without a Set-Up-Response (the flooding\n"
    "                        source's oldest) is closed for a new one, else the\n"
    "                        new one gets a greeting with no modes and is closed\n"
    "  --max-connections-per-source N  control connections from one IPv4 address\n"
    "                        or IPv6 /64 (default: 16)\n"
    "  --max-sessions N      test sessions per control connection (default: 16)\n"
    "  --max-total-sessions N  test sessions in all (default: 1024)\n"
    "  --max-sessions-per-source N  test sessions of one IPv4 address or IPv6 /64,\n"
    "                        those of closed connections included (default: 128)\n"
    "  --server-octets HEX   RFC 6038 Server octets (two octets, e.g. 0a0b) that a\n"
    "                        session in reflect-octets mode asking for 2 or more\n"
    "                        octets of padding back must send first in it\n"
    "                        (default: 0, none)\n"
    "  --setup-timeout sec   a client must send its Set-Up-Response within this of\n"
    "                        the greeting, and Start-Sessions within this of\n"
    "                        Server-Start (default: 10)\n"
    "  --max-orphan-time sec sessions reflect at most this long once their control\n"
    "                        connection is gone, whatever their Timeout (default: 120)\n"
    "  --servwait sec        close a control connection with neither control\n"
    "                        messages nor test packets for this long (default: 900)\n"
    "  --allow CIDR          only these clients and senders (repeatable); others\n"
    "                        are refused (default: everyone)\n"
    "  --user NAME           after binding, drop root privileges to this user and\n"
    "                        its group (refuses to run on as root if it cannot)\n"
    "  --ttl time-to-live    TTL / Hop Limit of reflected packets (default: 64)\n"
    "  --workers N           run N servers on N threads, their control listeners on\n"
    "                        one address (SO_REUSEPORT); every connection of a\n"
    "                        source (IPv4 address, IPv6 /64) goes to the same one,\n"
    "                        with its sessions' reflectors, so the per-source\n"
    "                        limits hold as with one, and the totals are counted\n"
    "                        together (default: the number of online CPUs; 1 to\n"
    "                        1024)\n"
    "\n"
    "Security options (RFC 4656, RFC 5357, RFC 5618):\n"
    "  --keyfile file        the clients' shared secrets, one 'KEYID PASSPHRASE' per\n"
    "                        line ('#' comments; 'KEYID 0xHEX' for octets); read\n"
    "                        before --user drops privileges; refused when others\n"
    "                        can read or write it (chmod 600)\n"
    "  --modes list          the modes offered, from open, authenticated,\n"
    "                        encrypted, mixed (default: open; with --keyfile all\n"
    "                        four)\n"
    "  --kdf-count N         the key derivation Count announced, a power of two\n"
    "                        from 1024 (default: 2048)\n"
    "  A wrong passphrase or an unknown KeyID gets Server-Start Accept 1; a\n"
    "  control message that fails its HMAC closes the connection; test packets\n"
    "  that fail theirs are counted and dropped unanswered. Each is logged.\n"
    "  Key derivations are paced: 8 in a row from one source, then 4 a second,\n"
    "  and a quarter of the server's CPU time in all; beyond, Server-Start Accept 5.\n"
    "\n"
    "Metrics:\n"
    "  --metrics ADDR:PORT   serve Prometheus metrics on http://ADDR:PORT/metrics\n"
    "                        (text format 0.0.4 or OpenMetrics 1.0)\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename, -q, --quiet, -v, --verbose, -d, --debug\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Each connection, session request, start, stop and teardown is logged.\n"
    "SIGINT or SIGTERM closes everything and exits 0.\n";

enum {
    OPT_PORT_RANGE = 400,
    OPT_MAX_CONN,
    OPT_MAX_SESS,
    OPT_MAX_TOTAL,
    OPT_SERVWAIT,
    OPT_USER,
    OPT_ALLOW,
    OPT_SETUP_TIMEOUT,
    OPT_MAX_CONN_SOURCE,
    OPT_MAX_SESS_SOURCE,
    OPT_MAX_ORPHAN,
    OPT_SERVER_OCTETS,
    OPT_WORKERS,
    OPT_METRICS_ADDR,
};

/* The workers' servers, for the metrics (read on worker 0's loop: the other
 * workers' counters are read while they count, a second's snapshot). */
struct srv_set {
    tw_ctrl_server_t **srv;
    int n;
};

static void render_server(void *arg, tw_prom_t *p)
{
    const struct srv_set *set = arg;
    tw_ctrl_server_counters_t sum;
    tw_ctrl_server_counters_sum(&sum, set->srv, set->n);
    tw_ctrl_server_prom(p, &sum);
}

int cmd_server(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"port-range", required_argument, NULL, OPT_PORT_RANGE},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-sessions", required_argument, NULL, OPT_MAX_SESS},
        {"max-total-sessions", required_argument, NULL, OPT_MAX_TOTAL},
        {"servwait", required_argument, NULL, OPT_SERVWAIT},
        {"user", required_argument, NULL, OPT_USER},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"metrics", required_argument, NULL, OPT_METRICS_ADDR},
        {"setup-timeout", required_argument, NULL, OPT_SETUP_TIMEOUT},
        {"max-connections-per-source", required_argument, NULL, OPT_MAX_CONN_SOURCE},
        {"max-sessions-per-source", required_argument, NULL, OPT_MAX_SESS_SOURCE},
        {"max-orphan-time", required_argument, NULL, OPT_MAX_ORPHAN},
        {"server-octets", required_argument, NULL, OPT_SERVER_OCTETS},
        {"workers", required_argument, NULL, OPT_WORKERS},
        AUTH_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "server";
    cli_common_t c;
    cli_common_init(&c, cmd);
    struct auth_args auth;
    memset(&auth, 0, sizeof auth);
    tw_ctrl_server_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.modes = TW_MODE_UNAUTHENTICATED | TW_MODE_INDIVIDUAL | TW_MODE_REFLECT_OCTETS |
                TW_MODE_SYMMETRICAL | TW_MODE_DSCP_ECN;
    cfg.max_connections = 64;
    cfg.max_sessions = 16;
    cfg.max_total_sessions = 1024;
    cfg.servwait_ns = 900 * TW_NS_PER_SEC;
    cfg.max_timeout_ns = 86400 * TW_NS_PER_SEC;
    cfg.max_padding = 65535;
    cfg.setup_timeout_ns = TW_CTRL_SETUP_TIMEOUT_DEFAULT;
    cfg.max_connections_per_source = TW_CTRL_CONN_PER_SOURCE_DEFAULT;
    cfg.max_sessions_per_source = TW_CTRL_SESSIONS_PER_SOURCE_DEFAULT;
    cfg.max_orphan_time_ns = TW_CTRL_MAX_ORPHAN_DEFAULT;
    const char *user = NULL;
    int nworkers = tw_workers_online();
    const char *metrics = NULL;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cli_common_opt(&c, opt, optarg))
            continue;
        if (auth_opt(&auth, cmd, AUTH_KEY | AUTH_SERVER, opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            fputs(server_help, stdout);
            exit(0);
        case OPT_PORT_RANGE: {
            char lo[16], hi[16], extra;
            if (sscanf(optarg, "%15[0-9]-%15[0-9]%c", lo, hi, &extra) != 2)
                cli_usage_error(cmd, "--port-range needs LOW-HIGH, e.g. 20000-20999, not '%s'",
                                optarg);
            cfg.port_lo = (uint16_t)cli_int(cmd, "--port-range low port", lo, 1, 65535);
            cfg.port_hi = (uint16_t)cli_int(cmd, "--port-range high port", hi, 1, 65535);
            if (cfg.port_hi < cfg.port_lo)
                cli_usage_error(cmd, "--port-range %s: the high port is below the low one", optarg);
            break;
        }
        case OPT_MAX_CONN:
            cfg.max_connections = (int)cli_int(cmd, "--max-connections", optarg, 1, 100000);
            break;
        case OPT_MAX_SESS:
            cfg.max_sessions = (int)cli_int(cmd, "--max-sessions", optarg, 1, 65535);
            break;
        case OPT_MAX_TOTAL:
            cfg.max_total_sessions = (int)cli_int(cmd, "--max-total-sessions", optarg, 1, 1000000);
            break;
        case OPT_SERVWAIT:
            cfg.servwait_ns =
                (int64_t)(cli_double(cmd, "--servwait", optarg, 0.001, 31536000) * 1e9);
            break;
        case OPT_SETUP_TIMEOUT:
            cfg.setup_timeout_ns =
                (int64_t)(cli_double(cmd, "--setup-timeout", optarg, 0.001, 86400) * 1e9);
            break;
        case OPT_MAX_CONN_SOURCE:
            cfg.max_connections_per_source =
                (int)cli_int(cmd, "--max-connections-per-source", optarg, 1, 100000);
            break;
        case OPT_MAX_SESS_SOURCE:
            cfg.max_sessions_per_source =
                (int)cli_int(cmd, "--max-sessions-per-source", optarg, 1, 1000000);
            break;
        case OPT_MAX_ORPHAN:
            cfg.max_orphan_time_ns =
                (int64_t)(cli_double(cmd, "--max-orphan-time", optarg, 0.001, 31536000) * 1e9);
            break;
        case OPT_SERVER_OCTETS:
            cfg.server_octets = cli_hex16(cmd, "--server-octets", optarg);
            break;
        case OPT_USER:
            user = optarg;
            break;
        case OPT_WORKERS:
            nworkers = (int)cli_int(cmd, "--workers", optarg, 1, TW_WORKERS_MAX);
            break;
        case OPT_METRICS_ADDR:
            metrics = optarg;
            break;
        case OPT_ALLOW: {
            char aerr[256];
            if (tw_acl_add(&cfg.allow, optarg, aerr, sizeof aerr) < 0)
                cli_usage_error(cmd, "--allow: %s", aerr);
            break;
        }
        default:
            cli_bad_option(cmd, argc, argv);
        }
    }
    if (argc - optind > 1)
        cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    const char *local = argc - optind == 1 ? argv[optind] : ":862";
    cli_common_finish(&c);
    if (c.dscp >= 0 || c.tos || c.padding_set || c.df)
        tw_notice("--tos, --dscp, --padding and --do-not-fragment are ignored by the server: "
                  "each session's DSCP comes from its request");
    cfg.ttl = c.ttl;
    if (auth.keyid)
        cli_usage_error(cmd, "--keyid is for clients: the server takes every KeyID of --keyfile");
    /* The key file is read here, before privileges are dropped. */
    tw_keyring_t *ring = NULL;
    auth_server_cfg(&auth, cmd, &cfg, &ring);

    tw_addr_spec_t spec;
    char err[512];
    if (tw_addr_parse(local, 862, &spec, err, sizeof err) < 0)
        cli_usage_error(cmd, "local address '%s': %s", local, err);
    /* Every connection and session holds a descriptor: a configuration that
     * cannot have them all would run out mid-way (and the listener would have
     * to pause). Raise the soft limit to the hard one if need be. */
    int open_fds = tw_fds_open();
    /* Each worker beyond the first: a listener, its loop's descriptors. */
    long need = tw_ctrl_server_fds_needed(&cfg) + (long)(nworkers - 1) * TW_CTRL_FD_RESERVE +
                (metrics ? TW_METRICS_HTTP_FDS : 0) + (open_fds > 0 ? open_fds : 3),
         limit;
    if (tw_nofile_fit(need, &limit, err, sizeof err) < 0)
        cli_fail("--max-connections %d and --max-total-sessions %d need up to %ld file "
                 "descriptors, but the limit is %ld (%s; RLIMIT_NOFILE, ulimit -n): raise it or "
                 "lower those options",
                 cfg.max_connections, cfg.max_total_sessions, need, limit, err);
    tw_workers_t *workers;
    if (tw_workers_new(&workers, nworkers) < 0)
        cli_fail("cannot create %d event loops: %s", nworkers, strerror(errno));
    tw_loop_t *loop = tw_workers_loop(workers, 0);
    tw_ctrl_shared_t shared;
    tw_ctrl_server_t **srv = calloc((size_t)nworkers, sizeof *srv);
    if (!srv)
        cli_fail("out of memory");
    int rc = -1;
    if (!spec.host[0]) {
        cfg.dualstack = true;
        if (tw_addr_resolve(&spec, AF_INET6, true, &cfg.listen, &cfg.listen_len, err, sizeof err) ==
            0)
            rc = tw_workers_servers_open(srv, &cfg, &shared, workers, err, sizeof err);
        if (rc < 0) {
            tw_info("no dual-stack listener (%s); listening on IPv4 only", err);
            cfg.dualstack = false;
        }
    }
    if (rc < 0) {
        if (tw_addr_resolve(&spec, spec.host[0] ? AF_UNSPEC : AF_INET, true, &cfg.listen,
                            &cfg.listen_len, err, sizeof err) < 0)
            cli_fail("local address '%s': %s", local, err);
        if (tw_workers_servers_open(srv, &cfg, &shared, workers, err, sizeof err) < 0)
            cli_fail("%s", err);
    }
    /* Signals blocked before the metrics server's thread starts; both
     * before the privileges go (a privileged metrics port). */
    cli_signals_t sig;
    cli_signals_watch(&sig, loop, "stop the TWAMP server", NULL, cli_signals_stop_loop, loop);
    cli_metrics_t cm;
    struct srv_set set = {srv, nworkers};
    cli_metrics_start(&cm, "server", metrics, loop, render_server, &set);
    if (user)
        cli_drop_privileges(user);
    struct sockaddr_storage ss;
    socklen_t sl;
    char a[TW_ADDRSTRLEN];
    tw_ctrl_server_local(srv[0], &ss, &sl);
    /* systemd (Type=notify): the sockets are bound, privileges dropped. */
    tw_sd_notify("READY=1");
    char offered[160];
    tw_notice("TWAMP server listening on %s%s", tw_addr_str((struct sockaddr *)&ss, a, sizeof a),
              cfg.dualstack ? " (IPv6 and IPv4)" : "");
    tw_info("Modes offered: %s%s", tw_modes_str(cfg.modes, offered, sizeof offered),
            ring ? "" : " (no key file)");
    if (nworkers > 1)
        tw_info("%d workers, each with its own listener (SO_REUSEPORT)", nworkers);
    if (tw_workers_run(workers) < 0)
        cli_fail("event loop failed: %s", strerror(errno));
    tw_sd_notify("STOPPING=1");
    tw_ctrl_server_counters_t sum;
    tw_ctrl_server_counters_sum(&sum, srv, nworkers);
    const tw_ctrl_server_counters_t *k = &sum;
    char authc[160] = "";
    if (ring)
        snprintf(authc, sizeof authc,
                 ", %llu keys rejected (unknown KeyID or wrong passphrase), %llu closed for a "
                 "failed integrity check",
                 (unsigned long long)k->key_rejected, (unsigned long long)k->integrity_failures);
    char guard[256] = "";
    if (k->connections_evicted || k->setup_timeouts || k->accept_failures || k->kdf_refused)
        snprintf(guard, sizeof guard,
                 "; %llu evicted without a Set-Up-Response, %llu closed by --setup-timeout, "
                 "%llu accept failures, %llu refused over the key derivation pace",
                 (unsigned long long)k->connections_evicted, (unsigned long long)k->setup_timeouts,
                 (unsigned long long)k->accept_failures, (unsigned long long)k->kdf_refused);
    tw_notice("TWAMP server stopped: %llu connections (%llu refused, %llu closed for protocol "
              "errors), %llu sessions accepted, %llu refused, %llu connections denied by "
              "--allow%s%s",
              (unsigned long long)k->connections, (unsigned long long)k->connections_refused,
              (unsigned long long)k->protocol_errors, (unsigned long long)k->sessions_accepted,
              (unsigned long long)k->sessions_refused, (unsigned long long)k->connections_denied,
              authc, guard);
    for (int i = 0; nworkers > 1 && i < nworkers; i++) {
        const tw_ctrl_server_counters_t *w = tw_ctrl_server_counters(srv[i]);
        tw_notice("worker %d of %d: %llu connections, %llu sessions accepted", i + 1, nworkers,
                  (unsigned long long)w->connections, (unsigned long long)w->sessions_accepted);
    }
    cli_metrics_stop(&cm);
    tw_workers_servers_close(srv, nworkers);
    free(srv);
    tw_keyring_free(ring);
    cli_signals_close(&sig);
    tw_workers_free(workers);
    tw_log_close();
    return 0;
}
