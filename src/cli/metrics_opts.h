/* --metrics ADDR:PORT for monitor, responder and server: the /metrics endpoint
 * (metrics_http.h) fed by the loop. Every second, and when the command asks
 * (cli_metrics_refresh), render(arg, p) writes the command's metric families
 * and the exposition is published in both formats. */
#ifndef TWAMPY_CLI_METRICS_OPTS_H
#define TWAMPY_CLI_METRICS_OPTS_H

#include "loop.h"
#include "metrics_http.h"
#include "prom.h"

typedef struct cli_metrics {
    tw_loop_t *loop;
    tw_metrics_http_t *http; /* NULL: --metrics not given */
    tw_timer_t timer;
    void (*render)(void *arg, tw_prom_t *p);
    void *arg;
} cli_metrics_t;

/* Serve on addr ("127.0.0.1:9861", ":9861", "[::1]:9861"); exits on a usage
 * error or when it cannot listen. Says "metrics on http://ADDR:PORT/metrics"
 * at notice level. */
void cli_metrics_start(cli_metrics_t *m, const char *cmd, const char *addr, tw_loop_t *loop,
                       void (*render)(void *arg, tw_prom_t *p), void *arg);
void cli_metrics_refresh(cli_metrics_t *m);
void cli_metrics_stop(cli_metrics_t *m);

#endif
