/* twampy check: a conformance test of a TWAMP light / STAMP reflector, or with
 * --control of a TWAMP server; the library runs the battery (check.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_opts.h"
#include "check.h"
#include "commands.h"
#include "log.h"
#include "opts.h"

static const char check_help[] =
    "usage: twampy check [options] reflector-ip:port\n"
    "       twampy check --control [options] server-ip[:port]\n"
    "\n"
    "Conformance test of a device: a fixed battery of requests, each test checked\n"
    "against its RFC clause, printed as a table (test, RFC clause, expected, seen,\n"
    "PASS / WARN / FAIL) or as JSON. Run it first when validating a router.\n"
    "\n"
    "A TWAMP light / STAMP reflector (RFC 5357 §4, RFC 8762, RFC 8972): the reply\n"
    "and its echoed fields, MBZ, Sender TTL, t2/t3 against t1/t4, Error Estimate,\n"
    "the reply's source, request lengths 0..13, 14, 40, 41, 44, 45, 100, 1000 and\n"
    "MTU-sized, amplification, STAMP with SSID, the TLVs Extra Padding, an unknown\n"
    "type, a malformed one and Class of Service, stateful or stateless sequence\n"
    "numbers, a sender restarting at 0, answers after malformed input; with\n"
    "--keyfile authenticated STAMP (RFC 8762 §4.4) instead.\n"
    "With --control, a TWAMP server (RFC 5357 §3, RFC 4656 §3): greeting Modes and\n"
    "Count, a mode it did not offer, Server-Start, Request-TW-Session with bad\n"
    "values, Accept-Session Port and SID, Start-Ack, test packets, Stop-Sessions\n"
    "and the session's Timeout after it; unauthenticated, or with --keyfile and\n"
    "--keyid in the strongest of the encrypted, authenticated and mixed modes the\n"
    "server offers (plus a wrong key refused).\n"
    "\n"
    "positional arguments:\n"
    "  reflector-ip:port    the reflector (default port 20001; STAMP's is 862)\n"
    "  server-ip[:port]     with --control, the TWAMP server (default port 862)\n"
    "\n"
    "options:\n"
    "  --control            check a TWAMP server instead of a reflector\n"
    "  --timeout sec        the longest wait of each test (default: 2; 0.01..60)\n"
    "  --format both|twamp|stamp\n"
    "                       reflector tests in TWAMP light, STAMP or both formats\n"
    "                       (default: both; twamp for a reflector that knows no\n"
    "                       STAMP)\n"
    "  --ssid N             the STAMP SSID of the requests 1..65535 (default: 31249)\n"
    "  --dscp dscp-value    DSCP of the test packets (default: 0) and of the Class\n"
    "                       of Service test's packet (default: ef)\n"
    "  --ttl time-to-live   TTL / Hop Limit of the test packets (default: 64)\n"
    "  --mtu bytes          the IP packet size of the MTU-sized request (default:\n"
    "                       1500; 576..9000)\n"
    "  --keyfile file       a 'KEYID PASSPHRASE' file (chmod 600): authenticated\n"
    "                       STAMP against a reflector (see 'twampy responder');\n"
    "                       with --control, the TWAMP modes with a key\n"
    "  --keyid name         the line of --keyfile (needed with --control; else not\n"
    "                       with a single line)\n"
    "  --json               one JSON document (schema twampy-check/1) instead of\n"
    "                       the table\n"
    "  -q, -v, -d           quiet; each request and reply; hex dumps too (stderr)\n"
    "  -h, --help           show this help and exit\n"
    "\n"
    "Exit status: 0 when no test FAILed, 1 when one did or nothing answered at\n"
    "all, 2 usage error.\n";

enum { OPT_C_CONTROL = 520, OPT_C_FORMAT, OPT_C_MTU };

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"control", no_argument, NULL, OPT_C_CONTROL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"format", required_argument, NULL, OPT_C_FORMAT},
        {"ssid", required_argument, NULL, OPT_SSID},
        {"mtu", required_argument, NULL, OPT_C_MTU},
        {"json", no_argument, NULL, OPT_JSON},
        {"dscp", required_argument, NULL, OPT_DSCP},
        {"ttl", required_argument, NULL, OPT_TTL},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {"keyfile", required_argument, NULL, OPT_KEYFILE},
        {"keyid", required_argument, NULL, OPT_KEYID},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "check";
    cli_common_t c;
    cli_common_init(&c, cmd);
    struct auth_args auth;
    memset(&auth, 0, sizeof auth);
    tw_check_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dscp = -1;
    bool control = false, json = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "qvdh", longopts, NULL)) != -1) {
        if (opt != OPT_TOS && opt != OPT_PADDING && opt != OPT_DF && opt != 'l' &&
            cli_common_opt(&c, opt, optarg))
            continue;
        if (auth_opt(&auth, cmd, AUTH_KEY, opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            fputs(check_help, stdout);
            exit(0);
        case OPT_C_CONTROL:
            control = true;
            break;
        case OPT_TIMEOUT:
            cfg.timeout_ns = (int64_t)(cli_double(cmd, "--timeout", optarg, 0.01, 60) * 1e9);
            break;
        case OPT_C_FORMAT:
            if (!strcmp(optarg, "both"))
                cfg.format = TW_CHECK_FORMAT_BOTH;
            else if (!strcmp(optarg, "twamp"))
                cfg.format = TW_CHECK_FORMAT_TWAMP;
            else if (!strcmp(optarg, "stamp"))
                cfg.format = TW_CHECK_FORMAT_STAMP;
            else
                cli_usage_error(cmd, "--format: '%s' is not both, twamp or stamp", optarg);
            break;
        case OPT_SSID:
            cfg.ssid = (uint16_t)cli_int(cmd, "--ssid", optarg, 1, 65535);
            break;
        case OPT_C_MTU:
            cfg.mtu = (int)cli_int(cmd, "--mtu", optarg, 576, 9000);
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            cli_bad_option(cmd, argc, argv);
        }
    }
    if (argc - optind < 1)
        cli_usage_error(cmd, "the %s address is required", control ? "server" : "reflector");
    if (argc - optind > 1)
        cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    cli_common_finish(&c);
    cfg.dscp = c.dscp;
    cfg.ttl = c.ttl;
    static tw_secret_t secret; /* --control: wiped before exit */
    const tw_secret_t *key = NULL;
    if (control && auth.keyfile) {
        if (!auth.keyid)
            cli_usage_error(cmd, "--keyfile needs --keyid with --control: the KeyID the server "
                                 "knows the secret by");
        char kerr[512];
        int krc = tw_keyfile_load(auth.keyfile, auth.keyid, &secret, kerr, sizeof kerr);
        if (krc < 0)
            cli_fail("%s", kerr[0] ? kerr : tw_auth_strerror(krc));
        cfg.secret = &secret;
        cfg.keyid = auth.keyid;
    } else {
        key = auth_stamp_key(&auth, cmd, true);
    }
    if (key && cfg.format == TW_CHECK_FORMAT_TWAMP)
        cli_usage_error(cmd, "--format twamp: --keyfile is for authenticated STAMP");
    if (key) {
        cfg.stamp_key = key->bytes;
        cfg.stamp_key_len = key->len;
    }
    cli_resolve(cmd, control ? "server" : "reflector", argv[optind], control ? 862 : 20001,
                AF_UNSPEC, false, &cfg.target, &cfg.target_len);

    static tw_check_table_t table; /* 30 kB: not on the stack */
    char err[256];
    int rc = control ? tw_check_control(&cfg, &table, err, sizeof err)
                     : tw_check_reflector(&cfg, &table, err, sizeof err);
    auth_forget();
    tw_secret_cleanse(&secret);
    if (rc < 0)
        cli_fail("%s", err);
    if (json)
        tw_check_json(stdout, &table, true);
    else
        tw_check_print(stdout, &table);
    tw_log_close();
    return tw_check_exit_status(&table);
}
