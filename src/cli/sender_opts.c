#include "sender_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_client.h"
#include "log.h"
#include "wire.h"

static void only_with(const char *cmd, unsigned flags, unsigned need, const char *opt)
{
    if (!(flags & need))
        cli_usage_error(cmd, "%s is not an option of 'twampy %s'", opt, cmd);
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
        switch (opt) {
        case 'h':
            fputs(help, stdout);
            exit(0);
        case 'c':
            a->count = (uint32_t)cli_int(cmd, "--count", optarg, 1, UINT32_MAX);
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
            only_with(cmd, flags, SO_CONTROLCLIENT, "--duration");
            a->duration_s = cli_double(cmd, "--duration", optarg, 0, 31536000);
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
    cfg->timeout_ns = (int64_t)(a->timeout_s * 1e9);
}

void log_timestamp_sources(const tw_sender_result_t *res)
{
    tw_info("Timestamps: t1 from the kernel's transmit timestamp for %llu of %llu packets, t4 "
            "from the kernel's receive timestamp for %llu of %llu replies (the rest from "
            "user space)",
            (unsigned long long)res->tx_kernel, (unsigned long long)res->sent,
            (unsigned long long)res->rx_kernel, (unsigned long long)res->stats.received);
}
