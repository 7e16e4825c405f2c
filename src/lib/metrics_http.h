/* metrics_http: the /metrics endpoint (libmicrohttpd). MHD answers in a thread
 * of its own (MHD_USE_INTERNAL_POLLING_THREAD), so a slow or stuck scraper
 * costs only that thread and never the packet path: the loop renders the
 * exposition in both formats and publishes it (tw_metrics_http_publish); a
 * scrape copies the published text under a mutex, held only for the copy.
 * Connections are bounded (a total and a per-address limit) and time out. */
#ifndef TWAMPY_METRICS_HTTP_H
#define TWAMPY_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct tw_metrics_http tw_metrics_http_t;

/* Scrapers served at once (more wait in the listen queue), and the file
 * descriptors the endpoint holds at most: those, its listener, and its
 * thread's epoll and wake-up pipe. */
#define TW_METRICS_HTTP_MAX_CONNECTIONS 16
#define TW_METRICS_HTTP_FDS (TW_METRICS_HTTP_MAX_CONNECTIONS + 4)

/* Listen on addr (port 0: one the kernel chooses). Returns 0, or -1 with a
 * reason in err. */
int tw_metrics_http_start(tw_metrics_http_t **out, const struct sockaddr *addr, socklen_t len,
                          char *err, size_t errlen);
/* The port listened on. */
unsigned tw_metrics_http_port(const tw_metrics_http_t *h);
/* The exposition to serve from now on: text is the format 0.0.4, om
 * OpenMetrics 1.0 (copied). */
void tw_metrics_http_publish(tw_metrics_http_t *h, const char *text, size_t text_len,
                             const char *om, size_t om_len);
/* Scrapes answered so far. */
unsigned long long tw_metrics_http_scrapes(tw_metrics_http_t *h);
void tw_metrics_http_stop(tw_metrics_http_t *h);

#endif
