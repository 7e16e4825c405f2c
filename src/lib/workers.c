#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "counter.h"
#include "addr.h"
#include "server_workers.h"

struct worker {
    tw_workers_t *pool;
    tw_loop_t *loop;
    int efd; /* written to stop the loop */
    tw_watch_t watch;
    pthread_t thread;
    bool started;
    int rc;
};

struct tw_workers {
    int n;
    struct worker *w;
};

int tw_workers_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > TW_WORKERS_MAX ? TW_WORKERS_MAX : (int)n;
}

static void on_stop(void *arg, uint32_t events)
{
    (void)events;
    struct worker *k = arg;
    uint64_t v;
    if (read(k->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    tw_loop_stop(k->loop);
}

int tw_workers_new(tw_workers_t **out, int n)
{
    *out = NULL;
    if (n < 1 || n > TW_WORKERS_MAX) {
        errno = EINVAL;
        return -1;
    }
    tw_workers_t *p = calloc(1, sizeof *p);
    if (!p || !(p->w = calloc((size_t)n, sizeof *p->w))) {
        free(p);
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct worker *k = &p->w[i];
        k->pool = p;
        k->efd = -1;
        p->n = i + 1;
        k->loop = tw_loop_new();
        if (!k->loop || (k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
            tw_loop_add(k->loop, &k->watch, k->efd, EPOLLIN, on_stop, k) < 0) {
            int e = errno;
            tw_workers_free(p);
            errno = e;
            return -1;
        }
    }
    *out = p;
    return 0;
}

void tw_workers_free(tw_workers_t *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        struct worker *k = &p->w[i];
        if (k->efd >= 0) {
            tw_loop_del(k->loop, &k->watch);
            close(k->efd);
        }
        tw_loop_free(k->loop);
    }
    free(p->w);
    free(p);
}

int tw_workers_count(const tw_workers_t *p)
{
    return p->n;
}

tw_loop_t *tw_workers_loop(tw_workers_t *p, int i)
{
    return i >= 0 && i < p->n ? p->w[i].loop : NULL;
}

static void poke(struct worker *k)
{
    uint64_t one = 1;
    ssize_t r = write(k->efd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is full, a stop is pending anyway */
}

void tw_workers_stop(tw_workers_t *p)
{
    for (int i = 0; i < p->n; i++)
        poke(&p->w[i]);
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    k->rc = tw_loop_run(k->loop);
    if (k->rc < 0) {
        k->rc = errno ? errno : EIO;
        poke(&k->pool->w[0]); /* a failed worker stops them all */
    }
    return NULL;
}

int tw_workers_run(tw_workers_t *p)
{
    /* The threads block every signal: SIGINT and SIGTERM go to loop 0's
     * signal watch (a blocked signal stays pending for the process until a
     * thread reads it from its signalfd). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = 0;
    for (int i = 1; i < p->n && !err; i++) {
        struct worker *k = &p->w[i];
        k->rc = 0;
        err = pthread_create(&k->thread, NULL, worker_main, k);
        k->started = err == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int rc = 0;
    if (!err) {
        rc = tw_loop_run(p->w[0].loop);
        if (rc < 0)
            err = errno;
    }
    for (int i = 1; i < p->n; i++)
        poke(&p->w[i]);
    for (int i = 1; i < p->n; i++) {
        struct worker *k = &p->w[i];
        if (!k->started)
            continue;
        pthread_join(k->thread, NULL);
        k->started = false;
        if (k->rc && !err)
            err = k->rc;
    }
    /* Drain the stop requests: the pool may be run again. */
    for (int i = 0; i < p->n; i++) {
        uint64_t v;
        if (read(p->w[i].efd, &v, sizeof v) < 0 && errno != EAGAIN)
            err = err ? err : errno;
    }
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

void tw_workers_reflectors_close(tw_reflector_t **r, int n)
{
    for (int i = 0; i < n; i++) {
        tw_reflector_close(r[i]);
        r[i] = NULL;
    }
}

int tw_workers_reflectors_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_workers_t *p,
                               char *err, size_t errlen)
{
    int n = p->n;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 1)
        return tw_reflector_open(&out[0], cfg, p->w[0].loop, err, errlen);
    tw_reflector_cfg_t c = *cfg;
    /* Bound once alone first: the errors (address in use, permission) of one
     * worker, and a port nobody holds for port 0. */
    c.sockopts.reuseport = false;
    int fd = tw_udp_open((const struct sockaddr *)&c.local, c.local_len, &c.sockopts, err, errlen);
    if (fd < 0)
        return -1;
    c.local_len = sizeof c.local;
    int r = getsockname(fd, (struct sockaddr *)&c.local, &c.local_len);
    int e = errno;
    close(fd);
    if (r < 0) {
        snprintf(err, errlen, "cannot read the bound address: %s", strerror(e));
        return -1;
    }
    c.sockopts.reuseport = true;
    c.batch = NULL; /* a receive batch of its own per thread, never a shared one */
    /* Each worker's share of the per-sender table. */
    c.max_senders = (cfg->max_senders + (uint32_t)n - 1) / (uint32_t)n;
    if (!c.max_senders)
        c.max_senders = 1;
    for (int i = 0; i < n; i++) {
        if (tw_reflector_open(&out[i], &c, p->w[i].loop, err, errlen) < 0) {
            tw_workers_reflectors_close(out, i);
            return -1;
        }
    }
    return 0;
}

void tw_reflector_counters_sum(tw_reflector_counters_t *s, tw_reflector_t *const *r, int n)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        if (!r[i])
            continue;
        const tw_reflector_counters_t *k = tw_reflector_counters(r[i]);
        s->received += TW_CTR_GET(k->received);
        s->reflected += TW_CTR_GET(k->reflected);
        s->too_short += TW_CTR_GET(k->too_short);
        s->truncated += TW_CTR_GET(k->truncated);
        s->send_errors += TW_CTR_GET(k->send_errors);
        s->senders_evicted += TW_CTR_GET(k->senders_evicted);
        s->inactive += TW_CTR_GET(k->inactive);
        s->foreign += TW_CTR_GET(k->foreign);
        s->denied += TW_CTR_GET(k->denied);
        s->unauthenticated += TW_CTR_GET(k->unauthenticated);
        s->integrity += TW_CTR_GET(k->integrity);
        s->rate_limited += TW_CTR_GET(k->rate_limited);
        s->tlv_malformed += TW_CTR_GET(k->tlv_malformed);
        s->tlv_integrity += TW_CTR_GET(k->tlv_integrity);
        s->unlabelled += TW_CTR_GET(k->unlabelled);
        int64_t last = TW_CTR_GET(k->last_rx_mono);
        if (last > s->last_rx_mono)
            s->last_rx_mono = last;
    }
}

/* ---- TWAMP servers (server_workers.h) ---------------------------------- */

void tw_workers_servers_close(tw_ctrl_server_t **s, int n)
{
    for (int i = 0; i < n; i++) {
        tw_ctrl_server_close(s[i]);
        s[i] = NULL;
    }
}

/* Bind a TCP socket to cfg->listen alone (no SO_REUSEPORT), to learn that the
 * address is free and which port 0 stands for; then let it go. */
static int probe_listen(tw_ctrl_server_cfg_t *c, char *err, size_t errlen)
{
    int fam = c->listen.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the control socket: %s", strerror(errno));
        return -1;
    }
    int one = 1, v6only = c->dualstack ? 0 : 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fam == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, (const struct sockaddr *)&c->listen, c->listen_len) < 0) {
        char a[TW_ADDRSTRLEN];
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: %s%s",
                 tw_addr_str((const struct sockaddr *)&c->listen, a, sizeof a), strerror(e),
                 e == EACCES ? " (port 862 needs root or CAP_NET_BIND_SERVICE; drop privileges "
                               "with --user)"
                             : "");
        close(fd);
        return -1;
    }
    c->listen_len = sizeof c->listen;
    int r = getsockname(fd, (struct sockaddr *)&c->listen, &c->listen_len);
    int e = errno;
    close(fd);
    if (r < 0) {
        snprintf(err, errlen, "cannot read the bound address: %s", strerror(e));
        return -1;
    }
    return 0;
}

int tw_workers_servers_open(tw_ctrl_server_t **out, const tw_ctrl_server_cfg_t *cfg,
                            tw_ctrl_shared_t *shared, tw_workers_t *p, char *err, size_t errlen)
{
    int n = p->n;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 1)
        return tw_ctrl_server_open(&out[0], cfg, p->w[0].loop, err, errlen);
    tw_ctrl_server_cfg_t c = *cfg;
    if (probe_listen(&c, err, errlen) < 0)
        return -1;
    c.reuseport_group = n;
    atomic_init(&shared->connections, 0);
    atomic_init(&shared->sessions, 0);
    c.shared = shared;
    for (int i = 0; i < n; i++) {
        if (tw_ctrl_server_open(&out[i], &c, p->w[i].loop, err, errlen) < 0) {
            tw_workers_servers_close(out, i);
            return -1;
        }
    }
    return 0;
}

void tw_ctrl_server_counters_sum(tw_ctrl_server_counters_t *s, tw_ctrl_server_t *const *srv, int n)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        if (!srv[i])
            continue;
        const tw_ctrl_server_counters_t *k = tw_ctrl_server_counters(srv[i]);
        s->connections += TW_CTR_GET(k->connections);
        s->connections_refused += TW_CTR_GET(k->connections_refused);
        s->connections_denied += TW_CTR_GET(k->connections_denied);
        s->protocol_errors += TW_CTR_GET(k->protocol_errors);
        s->key_rejected += TW_CTR_GET(k->key_rejected);
        s->integrity_failures += TW_CTR_GET(k->integrity_failures);
        s->connections_evicted += TW_CTR_GET(k->connections_evicted);
        s->setup_timeouts += TW_CTR_GET(k->setup_timeouts);
        s->accept_failures += TW_CTR_GET(k->accept_failures);
        s->kdf_refused += TW_CTR_GET(k->kdf_refused);
        s->sessions_accepted += TW_CTR_GET(k->sessions_accepted);
        s->sessions_refused += TW_CTR_GET(k->sessions_refused);
        s->active_connections += TW_CTR_GET(k->active_connections);
        s->active_sessions += TW_CTR_GET(k->active_sessions);
        s->test_received += TW_CTR_GET(k->test_received);
        s->test_reflected += TW_CTR_GET(k->test_reflected);
        s->test_dropped += TW_CTR_GET(k->test_dropped);
    }
}
