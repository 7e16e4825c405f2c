/* Options shared by the commands that send test packets (sender, demo,
 * controller, controlclient). */
#ifndef TWAMPY_CLI_SENDER_OPTS_H
#define TWAMPY_CLI_SENDER_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "sender.h"

enum {
    SO_POSITIONAL = 1,    /* takes the two address arguments */
    SO_STAMP = 2,         /* --stamp, --ssid */
    SO_CONTROL = 4,       /* controller: --reflector-port, --control-timeout, --sessions */
    SO_CONTROLCLIENT = 8, /* controlclient: --reflector-port, --control-timeout, --duration */
};

struct sender_args {
    cli_common_t common;
    const char *remote, *local; /* the two positional arguments, NULL if absent */
    uint32_t count;
    double interval_ms; /* 0 when not given */
    double timeout_s;
    bool stamp;
    int ssid; /* -1 when not given */
    uint16_t reflector_port;
    double control_timeout_s;
    int sessions;
    double duration_s;
};

/* Parse argv for cmd; --help prints help and exits 0, errors exit 2. The
 * commands apply their own defaults to the absent positional arguments. */
void parse_sender_args(int argc, char **argv, struct sender_args *a, const char *cmd,
                       const char *help, unsigned flags);
/* Turn the parsed arguments into a sender configuration; cfg->remote must be
 * resolved first (its family decides the largest padding). */
void make_sender_cfg(const struct sender_args *a, tw_sender_cfg_t *cfg);

/* Log (verbose) where t1 and t4 came from: the kernel or user space. */
void log_timestamp_sources(const tw_sender_result_t *res);

#endif
