/* run_report: the report of a whole run (one or several test sessions) in the
 * documented forms — the text (a header, each session's table and extended
 * statistics, the total over several sessions), the JSON document of
 * docs/json-schema.md, the --report-interval lines, and the progress line —
 * from the sessions' results. What a command line, a monitor, `twampy check`
 * or a test calls to produce exactly what `twampy sender` prints.
 *
 *   tw_run_session_t s[n];
 *   tw_run_t run;
 *   tw_run_init(&run, "sender", s, n);
 *   ... open each sender: tw_run_session_open(&run, i, sender, &cfg);
 *   run.start_time = tw_now(); ... run the loop ...
 *   tw_run_report(stdout, &run, TW_RUN_TEXT);
 */
#ifndef TWAMPY_RUN_REPORT_H
#define TWAMPY_RUN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "addr.h"
#include "ntptime.h"
#include "sender.h"

/* How many first send times (tw_sender_schedule_head) the log and JSON show. */
#define TW_RUN_SCHEDULE_HEAD 8

typedef struct tw_run_session {
    int index;           /* 1..n */
    tw_sender_t *sender; /* NULL until tw_run_session_open */
    uint64_t seed;
    int64_t head[TW_RUN_SCHEDULE_HEAD]; /* first send times, µs after the start */
    char remote[TW_ADDRSTRLEN], local[TW_ADDRSTRLEN];
    /* Its configuration, as the report shows it per target. */
    const char *server; /* a controller's target: its TWAMP server; NULL: light / STAMP */
    bool stamp;
    uint16_t ssid;
    uint32_t count;
    int64_t interval_ns;
    int padding, tos, ttl;
} tw_run_session_t;

typedef struct tw_run {
    const char *command; /* "sender", "controller", "demo", ... */
    const char *server;  /* the TWAMP server of a controller; NULL: light / STAMP */
    int n;               /* sessions */
    tw_run_session_t *s; /* n of them, the caller's */
    tw_sender_cfg_t cfg; /* session 1's configuration (JSON "config") */
    tw_time_t start_time;
    /* What the user asked for, shown in JSON "config". */
    const char *timestamping; /* "sw", "hw", "user" */
    double report_interval_s; /* 0: no interval reports (JSON is one document) */
    const char *csv;          /* the --csv file, or NULL */
    const char *plot;         /* the --plot file, or NULL */
    bool histogram;           /* the text report ends with the RTT histogram */
    /* The sessions are independent targets (fan-out: sender --targets), each
     * with its own reflector, configuration and report; the total follows. */
    bool targets;
} tw_run_t;

typedef enum {
    TW_RUN_TEXT, /* twampy's text report (the Python twampy's table inside) */
    TW_RUN_JSON, /* one JSON document, pretty-printed; one line when
                  * report_interval_s > 0 (JSON Lines) */
} tw_run_format_t;

/* Set up a run of n sessions over the caller's array s (zeroed, indexed). */
void tw_run_init(tw_run_t *run, const char *command, tw_run_session_t *s, int n);
/* Session i (0-based) has its sender: its addresses, seed and first send
 * times are recorded (and logged at -v); session 0's cfg is the run's. */
void tw_run_session_open(tw_run_t *run, int i, tw_sender_t *sender, const tw_sender_cfg_t *cfg);
/* Session i sends to sa (a controller learns the port from the server). */
void tw_run_session_remote(tw_run_t *run, int i, const struct sockaddr *sa);

/* The final report of every session and, for several, their total (loss
 * summed per session). 0, or -1 when out of memory (nothing written). */
int tw_run_report(FILE *out, const tw_run_t *run, tw_run_format_t fmt);
/* One --report-interval line of session `index` (1-based). */
void tw_run_interval(FILE *out, const tw_run_t *run, int index, const tw_interval_t *iv,
                     tw_run_format_t fmt);
/* The progress line's text (at most len octets) after elapsed_s seconds: for a
 * finite run (count, duration) a bar, the count and the time left, for an
 * open-ended one the time elapsed; then the latest and the median round trip
 * as the report writes delays ("8us"), and the loss of the packets whose
 * replies are due. Returns snprintf's length. */
int tw_run_progress(const tw_run_t *run, double elapsed_s, char *buf, size_t len);
/* Log (INFO) where a session's t1 and t4 came from. */
void tw_run_log_timestamps(const tw_sender_result_t *res);

#endif
