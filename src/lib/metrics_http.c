#include "metrics_http.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "log.h"
#include "prom.h"

struct tw_metrics_http {
    struct MHD_Daemon *d;
    pthread_mutex_t lock; /* guards what follows */
    char *text, *om;
    size_t text_len, om_len;
    unsigned long long scrapes;
};

static const char index_page[] = "<html><head><title>twampy</title></head><body>"
                                 "<h1>twampy</h1><p><a href=\"/metrics\">Metrics</a></p>"
                                 "</body></html>\n";

/* libmicrohttpd's own messages (a client that went away, ...) at debug level:
 * what matters to the user is said by the caller in its own words. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    tw_debug("metrics: %s", msg);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    tw_metrics_http_t *h = cls;
    (void)version;
    (void)upload;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (void *)"GET only\n", 9,
                     MHD_RESPMEM_PERSISTENT);
    /* A GET has no body: answer on the first call. */
    (void)con_cls;
    if (*upload_size)
        return MHD_NO;
    if (!strcmp(url, "/"))
        return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
                     sizeof index_page - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/metrics"))
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", (void *)"not found: try /metrics\n", 24,
                     MHD_RESPMEM_PERSISTENT);
    bool om = tw_prom_wants_openmetrics(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
    pthread_mutex_lock(&h->lock);
    const char *src = om ? h->om : h->text;
    size_t len = om ? h->om_len : h->text_len;
    char *body = malloc(len ? len : 1);
    if (body && len)
        memcpy(body, src, len);
    h->scrapes++;
    pthread_mutex_unlock(&h->lock);
    if (!body)
        return MHD_NO;
    return reply(c, MHD_HTTP_OK, tw_prom_content_type(om), body, len, MHD_RESPMEM_MUST_FREE);
}

int tw_metrics_http_start(tw_metrics_http_t **out, const struct sockaddr *addr, socklen_t len,
                          char *err, size_t errlen)
{
    (void)len;
    tw_metrics_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&h->lock, NULL);
    /* epoll (MHD_USE_AUTO): a server with thousands of descriptors is past select()'s
     * FD_SETSIZE. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)TW_METRICS_HTTP_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot serve metrics: %s",
                 errno ? strerror(errno) : "libmicrohttpd could not start");
        pthread_mutex_destroy(&h->lock);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

unsigned tw_metrics_http_port(const tw_metrics_http_t *h)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

static char *dup_buf(const char *s, size_t len)
{
    char *b = malloc(len + 1);
    if (b) {
        memcpy(b, s, len);
        b[len] = '\0';
    }
    return b;
}

void tw_metrics_http_publish(tw_metrics_http_t *h, const char *text, size_t text_len,
                             const char *om, size_t om_len)
{
    /* Copied outside the lock; swapped in under it. */
    char *t = dup_buf(text, text_len), *o = dup_buf(om, om_len);
    if (!t || !o) {
        free(t);
        free(o);
        return; /* the previous exposition stays */
    }
    pthread_mutex_lock(&h->lock);
    char *old_t = h->text, *old_o = h->om;
    h->text = t;
    h->text_len = text_len;
    h->om = o;
    h->om_len = om_len;
    pthread_mutex_unlock(&h->lock);
    free(old_t);
    free(old_o);
}

unsigned long long tw_metrics_http_scrapes(tw_metrics_http_t *h)
{
    pthread_mutex_lock(&h->lock);
    unsigned long long n = h->scrapes;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void tw_metrics_http_stop(tw_metrics_http_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    free(h->text);
    free(h->om);
    free(h);
}
