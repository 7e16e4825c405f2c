/* The command line: option values shared by the subcommands, strict number
 * parsing, usage errors (exit 2) and runtime failures (exit 1). */
#ifndef TWAMPY_CLI_OPTS_H
#define TWAMPY_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net.h"

#define EXIT_USAGE 2

/* Long-option codes for options without a short letter. */
enum {
    OPT_TOS = 256,
    OPT_DSCP,
    OPT_TTL,
    OPT_PADDING,
    OPT_DF,
    OPT_TIMEOUT,
    OPT_STAMP,
    OPT_SSID,
    OPT_TIMER,
    OPT_STATELESS,
    OPT_MAX_SENDERS,
    OPT_REFLECTOR_PORT,
    OPT_CONTROL_TIMEOUT,
    OPT_SESSIONS,
    OPT_DURATION,
    OPT_HELP,
    /* reports (sender, demo, controller) */
    OPT_JSON,
    OPT_CSV,
    OPT_REPORT_INTERVAL,
    OPT_HISTOGRAM,
    OPT_NO_PROGRESS,
    OPT_SCHEDULE,
    OPT_SEED,
    OPT_TIMESTAMPING,
    OPT_PTP,
    OPT_TARGETS,
    OPT_PLOT,
    /* TWAMP-Control extensions (controller, controlclient) */
    OPT_REFLECT_OCTETS,
    OPT_REFLECT_PADDING,
    OPT_SYMMETRICAL,
    OPT_START_TIME,
    OPT_INDIVIDUAL,
    OPT_ECN,
    OPT_DSCP_ECN,
    OPT_TLV,
    OPT_FLOW_LABEL,
};

/* Debug options and IP socket options, as the Python twampy groups them. */
#define CLI_COMMON_LONGOPTS                                                                        \
    {"logfile", required_argument, NULL, 'l'}, {"quiet", no_argument, NULL, 'q'},                  \
        {"verbose", no_argument, NULL, 'v'}, {"debug", no_argument, NULL, 'd'},                    \
        {"tos", required_argument, NULL, OPT_TOS}, {"dscp", required_argument, NULL, OPT_DSCP},    \
        {"ttl", required_argument, NULL, OPT_TTL},                                                 \
        {"padding", required_argument, NULL, OPT_PADDING},                                         \
        {"do-not-fragment", no_argument, NULL, OPT_DF}, {"ecn", required_argument, NULL, OPT_ECN}, \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
#define CLI_COMMON_SHORTOPTS "l:qvdh"

typedef struct cli_common {
    const char *cmd; /* subcommand name, for messages */
    int loglevel;
    int verbosity_flags; /* how many of -q/-v/-d were given */
    const char *logfile;
    int tos;
    int dscp; /* -1 when not given */
    int ecn;  /* --ecn 0..3, -1 when not given: the ECN bits of the TOS octet */
    int ttl;
    int padding;
    bool padding_set;
    bool df;
} cli_common_t;

void cli_common_init(cli_common_t *c, const char *cmd);
/* Handle one of the common options; false when opt is not one of them. */
bool cli_common_opt(cli_common_t *c, int opt, const char *arg);
/* After parsing: apply logging, merge --dscp into the TOS octet. */
void cli_common_finish(cli_common_t *c);
tw_sockopts_t cli_sockopts(const cli_common_t *c);

/* A place errors are about ("hosts.txt:3"), put before their reason until
 * set back to NULL. */
void cli_set_context(const char *where);
/* Print "twampy CMD: error: REASON (see 'twampy CMD --help')" and exit 2. */
void cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Print "twampy: error: REASON" and exit 1. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* getopt_long's complaint about an unknown option or a missing value. */
void cli_bad_option(const char *cmd, int argc, char **argv) __attribute__((noreturn));

long long cli_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi);
/* Two octets given as 1 to 4 hex digits, with or without 0x. */
uint16_t cli_hex16(const char *cmd, const char *opt, const char *s);
double cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi);

/* Resolve an address argument; usage error on bad syntax, failure when a name
 * does not resolve. */
void cli_resolve(const char *cmd, const char *what, const char *arg, uint16_t default_port,
                 int family, bool passive, struct sockaddr_storage *ss, socklen_t *len);

/* The largest padding that keeps a test packet inside a 9000-octet IP packet. */
int cli_max_padding(int family);

#endif
