#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* epoll_pwait2 (Linux 5.11, glibc 2.35): a nanosecond timeout, so the
 * earliest timer is the wait's timeout and no timerfd is set and read for
 * it (two system calls fewer per timer). Without it, the timerfd. */
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
#define HAVE_EPOLL_PWAIT2 1
#endif
#endif
/* valgrind (3.19) does not know epoll_pwait2 and warns on stderr at every
 * call: under it, the timerfd. */
#if defined(HAVE_EPOLL_PWAIT2) && defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

#include "ntptime.h"

#define MAX_EVENTS 64

struct tw_loop {
    int epfd;
    int tfd;
    bool running;
    tw_timer_t **heap; /* armed timers, a binary min-heap by (deadline, order) */
    uint32_t nheap, capheap;
    uint64_t order;   /* the next timer's set order */
    int64_t armed_at; /* deadline the timerfd holds, or 0 */
    /* The round being delivered: a watch deleted during it has its events
     * not yet delivered cleared here, however many watches go (as libuv does),
     * so no callback ever sees a freed watch. */
    struct epoll_event *pending;
    int npending;
    int next; /* index of the next event to deliver */
    /* --busy-poll: after an event, wait with timeout 0 for this long instead
     * of sleeping, so signals and timers are still seen on every round. */
    int64_t busy_ns;
    int64_t busy_until;
    bool pwait2; /* timers by epoll_pwait2's timeout (else by the timerfd) */
    /* Watches out of the epoll set, called on every round (tw_loop_poll). */
    tw_watch_t *polled[TW_LOOP_MAX_POLLED];
    int npolled;
};

/* epoll data of the timerfd; a cleared (deleted) event has NULL. */
static char timer_tag;

tw_loop_t *tw_loop_new(void)
{
    tw_loop_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->epfd < 0 || l->tfd < 0) {
        tw_loop_free(l);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &timer_tag};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) < 0) {
        tw_loop_free(l);
        return NULL;
    }
#ifdef HAVE_EPOLL_PWAIT2
    l->pwait2 = !UNDER_VALGRIND(); /* until the kernel says ENOSYS */
#endif
    return l;
}

void tw_loop_free(tw_loop_t *l)
{
    if (!l)
        return;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->tfd >= 0)
        close(l->tfd);
    free(l->heap); /* timers still armed stay the owners' memory: never touched */
    free(l);
}

int tw_loop_add(tw_loop_t *l, tw_watch_t *w, int fd, uint32_t events, tw_io_cb cb, void *arg)
{
    *w = (tw_watch_t){fd, cb, arg};
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        w->fd = -1;
        return -1;
    }
    return 0;
}

int tw_loop_mod(tw_loop_t *l, tw_watch_t *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

static int polled_index(const tw_loop_t *l, const tw_watch_t *w)
{
    for (int i = 0; i < l->npolled; i++)
        if (l->polled[i] == w)
            return i;
    return -1;
}

/* Out of the polled list, the order of the others kept (run_polled's walk). */
static bool unlist_polled(tw_loop_t *l, const tw_watch_t *w)
{
    int i = polled_index(l, w);
    if (i < 0)
        return false;
    memmove(&l->polled[i], &l->polled[i + 1], (size_t)(l->npolled - i - 1) * sizeof l->polled[0]);
    l->npolled--;
    return true;
}

bool tw_loop_polled(const tw_loop_t *l, const tw_watch_t *w)
{
    return polled_index(l, w) >= 0;
}

int tw_loop_poll(tw_loop_t *l, tw_watch_t *w)
{
    if (w->fd < 0 || tw_loop_polled(l, w))
        return 0;
    if (l->npolled == TW_LOOP_MAX_POLLED) {
        errno = ENOSPC;
        return -1;
    }
    if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL) < 0)
        return -1;
    l->polled[l->npolled++] = w;
    /* Its events not yet delivered in this round: the round's polled calls
     * stand for them. */
    for (int i = l->next; i < l->npending; i++)
        if (l->pending[i].data.ptr == w)
            l->pending[i].data.ptr = NULL;
    return 0;
}

int tw_loop_unpoll(tw_loop_t *l, tw_watch_t *w, uint32_t events)
{
    if (!unlist_polled(l, w))
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0)
        return 0;
    /* Not watched again (out of memory): polled on, never deaf. */
    int e = errno;
    l->polled[l->npolled++] = w;
    errno = e;
    return -1;
}

int tw_loop_del(tw_loop_t *l, tw_watch_t *w)
{
    if (w->fd < 0)
        return 0;
    if (unlist_polled(l, w)) {
        w->fd = -1;
        return 0;
    }
    int r = epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->fd = -1;
    /* Its events among those not yet delivered go too: the struct may be
     * freed (or reused for another fd) as soon as this returns. */
    for (int i = l->next; i < l->npending; i++)
        if (l->pending[i].data.ptr == w)
            l->pending[i].data.ptr = NULL;
    return r;
}

static void rearm(tw_loop_t *l)
{
    if (l->pwait2)
        return; /* the next wait's timeout */
    int64_t want = l->nheap ? l->heap[0]->deadline : 0;
    if (want == l->armed_at)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (want) {
        /* 0 would disarm: a deadline in the past still has to fire. */
        int64_t d = want > 0 ? want : 1;
        its.it_value.tv_sec = d / TW_NS_PER_SEC;
        its.it_value.tv_nsec = d % TW_NS_PER_SEC;
    }
    timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    l->armed_at = want;
}

static bool before(const tw_timer_t *a, const tw_timer_t *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

static void place(tw_loop_t *l, uint32_t i, tw_timer_t *t)
{
    l->heap[i] = t;
    t->slot = i;
}

static void sift_up(tw_loop_t *l, uint32_t i)
{
    tw_timer_t *t = l->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(t, l->heap[parent]))
            break;
        place(l, i, l->heap[parent]);
        i = parent;
    }
    place(l, i, t);
}

static void sift_down(tw_loop_t *l, uint32_t i)
{
    tw_timer_t *t = l->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], t))
            break;
        place(l, i, l->heap[c]);
        i = c;
    }
    place(l, i, t);
}

static void unlink_timer(tw_loop_t *l, tw_timer_t *t)
{
    uint32_t i = t->slot;
    t->armed = false;
    if (i >= l->nheap || l->heap[i] != t)
        return; /* armed on another loop (one since freed): not in this heap */
    tw_timer_t *last = l->heap[--l->nheap];
    if (i == l->nheap)
        return;
    place(l, i, last);
    if (i > 0 && before(last, l->heap[(i - 1) / 2]))
        sift_up(l, i);
    else
        sift_down(l, i);
}

int tw_timer_set(tw_loop_t *l, tw_timer_t *t, int64_t deadline, void (*cb)(void *), void *arg)
{
    if (t->armed)
        unlink_timer(l, t);
    if (l->nheap == l->capheap) {
        uint32_t cap = l->capheap ? 2 * l->capheap : 64;
        tw_timer_t **h = cap > l->capheap ? realloc(l->heap, (size_t)cap * sizeof *h) : NULL;
        if (!h) {
            rearm(l);
            errno = ENOMEM;
            return -1;
        }
        l->heap = h;
        l->capheap = cap;
    }
    t->deadline = deadline;
    t->cb = cb;
    t->arg = arg;
    t->armed = true;
    t->order = l->order++;
    place(l, l->nheap, t);
    sift_up(l, l->nheap++);
    rearm(l);
    return 0;
}

void tw_timer_cancel(tw_loop_t *l, tw_timer_t *t)
{
    if (!t->armed)
        return;
    unlink_timer(l, t);
    rearm(l);
}

/* Run the timers that are due; returns how many ran. A timer set during
 * this round (by a callback: a sender behind its schedule sets its next
 * deadline in the past) waits for the next round, after the watches: else a
 * sender that cannot keep up would send on and on, and never read its
 * replies. Those due under it wait one round too (the heap cannot skip it). */
static int fire_due(tw_loop_t *l)
{
    int64_t now = tw_mono_now();
    uint64_t set_before = l->order; /* timers set from here on are this round's */
    int fired = 0;
    while (l->running && l->nheap && l->heap[0]->deadline <= now &&
           l->heap[0]->order < set_before) {
        tw_timer_t *t = l->heap[0];
        unlink_timer(l, t);
        t->cb(t->arg);
        fired++;
    }
    return fired;
}

static void run_timers(tw_loop_t *l)
{
    /* One read takes every expiration (and a stale wake-up of the old
     * deadline reads nothing): no second read to hear EAGAIN. */
    uint64_t expirations;
    if (read(l->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    l->armed_at = 0;
    fire_due(l);
    rearm(l);
}

/* Wait up to timeout_ms (-1: forever) for one round of events and deliver it.
 * Returns the number of events, or -1 on an epoll failure. */
static int wait_events(tw_loop_t *l, struct epoll_event *evs, int timeout_ms)
{
#ifdef HAVE_EPOLL_PWAIT2
    if (l->pwait2) {
        int64_t wait = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * TW_NS_PER_MS;
        if (l->nheap) {
            int64_t d = l->heap[0]->deadline - tw_mono_now();
            if (d < 0)
                d = 0;
            if (wait < 0 || d < wait)
                wait = d;
        }
        struct timespec ts = {.tv_sec = wait / TW_NS_PER_SEC, .tv_nsec = wait % TW_NS_PER_SEC};
        int n = epoll_pwait2(l->epfd, evs, MAX_EVENTS, wait < 0 ? NULL : &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        l->pwait2 = false; /* an older kernel: the timerfd from now on */
        l->armed_at = 0;
        rearm(l);
    }
#endif
    return epoll_wait(l->epfd, evs, MAX_EVENTS, timeout_ms);
}

/* Call every polled watch once. A callback may unpoll, delete or poll any
 * watch: the list is walked by index and a watch still in place moves the
 * walk on (one that went takes its successor into its place). */
static void run_polled(tw_loop_t *l)
{
    for (int i = 0; i < l->npolled && l->running;) {
        tw_watch_t *w = l->polled[i];
        w->cb(w->arg, EPOLLIN);
        if (i < l->npolled && l->polled[i] == w)
            i++;
    }
}

static int run_round(tw_loop_t *l, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    if (l->npolled)
        timeout_ms = 0; /* the polled watches are the work: no sleeping */
    int n = wait_events(l, evs, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    l->pending = evs;
    l->npending = n;
    l->next = 0;
    /* Timers first (as the timerfd's event, ready since the deadline, mostly
     * came): a timer may delete watches whose events are in this round. */
    int fired = l->pwait2 ? fire_due(l) : 0;
    while (l->next < n && l->running) {
        struct epoll_event *ev = &evs[l->next++];
        if (ev->data.ptr == &timer_tag) {
            run_timers(l);
            continue;
        }
        tw_watch_t *w = ev->data.ptr;
        if (w && w->fd >= 0)
            w->cb(w->arg, ev->events);
    }
    l->pending = NULL;
    l->npending = l->next = 0;
    int polled = l->npolled;
    run_polled(l);
    /* The timers count as one event, as the timerfd's did; each polled watch
     * as one. */
    return (fired ? n + 1 : n) + polled;
}

void tw_loop_busy_poll(tw_loop_t *l, int64_t ns)
{
    l->busy_ns = ns > 0 ? ns : 0;
    l->busy_until = 0;
}

int tw_loop_run(tw_loop_t *l)
{
    /* Wake-ups for timers within 1 ns of their deadline, not the default
     * 50 us of slack (a timeout of t still gets t / 1000 from the kernel). */
    if (l->pwait2)
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    l->running = true;
    while (l->running) {
        bool spin = l->busy_ns && tw_mono_now() < l->busy_until;
        int n = run_round(l, spin ? 0 : -1);
        if (n < 0)
            return -1;
        if (n > 0 && l->busy_ns)
            l->busy_until = tw_mono_now() + l->busy_ns;
    }
    return 0;
}

int tw_loop_run_once(tw_loop_t *l, int timeout_ms)
{
    l->running = true;
    int n = run_round(l, timeout_ms);
    l->running = false;
    return n;
}

void tw_loop_stop(tw_loop_t *l)
{
    l->running = false;
}
