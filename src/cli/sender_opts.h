/* Options shared by the commands that send test packets (sender, demo,
 * controller, controlclient), and the output of a run: the final report (text
 * or JSON), --csv rows, --report-interval lines and the progress display. */
#ifndef TWAMPY_CLI_SENDER_OPTS_H
#define TWAMPY_CLI_SENDER_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "auth_opts.h"
#include "control_client.h"
#include "loop.h"
#include "opts.h"
#include "run_report.h"
#include "sender.h"
#include "stamp_tlv.h"

enum {
    SO_POSITIONAL = 1,    /* takes the two address arguments */
    SO_STAMP = 2,         /* --stamp, --ssid */
    SO_CONTROL = 4,       /* controller: --reflector-port, --control-timeout, --sessions */
    SO_CONTROLCLIENT = 8, /* controlclient: --reflector-port, --control-timeout, --duration */
    SO_REPORT = 16,       /* sends and reports: --json, --csv, --duration, --schedule, ... */
    SO_TARGETS = 32,      /* --targets FILE (fan-out) */
    SO_LINE = 64,         /* a --targets line: options onto the command line's, no reset;
                             output and logging options refused */
};

enum { TS_SW, TS_HW, TS_USER }; /* --timestamping */

struct sender_args {
    cli_common_t common;
    const char *remote, *local; /* the two positional arguments, NULL if absent */
    uint32_t count;             /* 0: until --duration or stopped */
    bool count_set;
    double interval_ms; /* 0 when not given */
    double timeout_s;
    bool stamp;
    int ssid;         /* -1 when not given */
    tw_tlv_req_t tlv; /* --tlv (STAMP TLVs, RFC 8972) */
    bool tlv_cos_dscp_set;
    uint16_t reflector_port;
    double control_timeout_s;
    int sessions;
    double duration_s;   /* 0: no limit */
    const char *targets; /* --targets FILE, or NULL */
    /* SO_REPORT */
    bool json, histogram, no_progress, ptp;
    const char *csv;          /* NULL: no CSV */
    const char *plot;         /* --plot FILE.svg; NULL: no picture */
    double report_interval_s; /* 0: none */
    enum tw_schedule schedule;
    uint64_t seed; /* 0: from the clock */
    int timestamping;
    struct auth_args auth; /* --keyfile, --keyid, --modes, --kdf-max-count */
    /* SO_CONTROL, SO_CONTROLCLIENT: RFC 6038, RFC 5357 Start Time */
    bool reflect;             /* --reflect-octets given */
    uint16_t reflect_octets;  /* --reflect-octets HEX */
    int reflect_padding;      /* --reflect-padding N (default 4 with --reflect-octets) */
    bool symmetrical;         /* --symmetrical */
    const char *start_time;   /* --start-time, as given (NULL: none) */
    tw_time_t start_time_abs; /* --start-time, parsed (0: none) */
    bool individual;          /* --individual-control (controller) */
    bool dscp_ecn;            /* --monitor-dscp-ecn (RFC 7750) */
    int flowlabel_mode;       /* --flow-label (TW_FL_*; sender, controller) */
    uint32_t flowlabel;
};

/* Parse argv for cmd; --help prints help and exits 0, errors exit 2. The
 * commands apply their own defaults to the absent positional arguments. */
void parse_sender_args(int argc, char **argv, struct sender_args *a, const char *cmd,
                       const char *help, unsigned flags);
/* Turn the parsed arguments into a sender configuration; cfg->remote must be
 * resolved first (its family decides the largest padding). */
void make_sender_cfg(const struct sender_args *a, tw_sender_cfg_t *cfg);

/* ---- the output of a run ----------------------------------------------------- *
 * The report itself is the library's (run_report.h); here the CSV file, the
 * sender hooks and the progress display on a terminal. */

struct sender_output;

struct session_hook {
    struct sender_output *o;
    int index; /* 1..n */
};

struct sender_output {
    const struct sender_args *a;
    tw_run_t run;              /* run.server: the controller's TWAMP server, else NULL */
    tw_run_session_t *s;       /* n of them */
    struct session_hook *hook; /* n of them */
    FILE *csv;
    /* --plot: the file, and every packet's record until the run ends. */
    FILE *plot;
    tw_packet_record_t *plot_recs;
    size_t plot_n, plot_cap;
    bool plot_truncated;
    tw_loop_t *loop;
    bool progress, progress_shown;
    tw_timer_t progress_timer;
    int64_t start_mono; /* tw_mono_now() when sending started */
};

/* Before the senders are opened: opens the CSV file (a failure exits 1) and
 * decides on the progress display. */
void output_open(struct sender_output *o, const struct sender_args *a, int nsessions);
/* Session i's (0-based) hooks and seed into its configuration. */
void output_hook(struct sender_output *o, int i, tw_sender_cfg_t *cfg);
/* Session i's sender is open: its addresses, seed and schedule. */
void output_sender(struct sender_output *o, int i, tw_sender_t *s, const tw_sender_cfg_t *cfg);
/* Session i sends to sa (the controller learns the port from the server). */
void output_remote(struct sender_output *o, int i, const struct sockaddr *sa);
/* Sending starts: the progress display, when on. */
void output_start(struct sender_output *o, tw_loop_t *loop);
/* Erase the progress line (before a log line or the report). */
void output_clear_progress(struct sender_output *o);
/* The final report of every session (and their total) on stdout. */
void output_report(struct sender_output *o);
/* Draw the --plot picture (when asked for), close it and the CSV file, and
 * free the session arrays; 0, or -1 after a message when either file could
 * not be written. */
int output_close(struct sender_output *o);

#endif
