/* signals: SIGINT and SIGTERM for a subcommand, as events on its loop: they
 * are blocked and read from a signalfd, and each is logged as "SIGINT
 * received: <what>" between two callbacks of the subcommand's. */
#ifndef TWAMPY_CLI_SIGNALS_H
#define TWAMPY_CLI_SIGNALS_H

#include "loop.h"

typedef void cli_signal_fn(void *arg);

typedef struct cli_signals {
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    const char *what;      /* the log line's end, e.g. "stop sending" */
    cli_signal_fn *before; /* before the log line (clear a progress line); may be NULL */
    cli_signal_fn *act;    /* after it: stop what runs */
    void *arg;
} cli_signals_t;

/* Watch for SIGINT and SIGTERM on loop; exits with a message when it cannot. */
void cli_signals_watch(cli_signals_t *s, tw_loop_t *loop, const char *what, cli_signal_fn *before,
                       cli_signal_fn *act, void *arg);
/* Stop watching (before the loop is freed). */
void cli_signals_close(cli_signals_t *s);
/* An act for a subcommand that only stops its loop: arg is the tw_loop_t. */
void cli_signals_stop_loop(void *loop);

#endif
