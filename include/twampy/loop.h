/* loop: the event loop. One epoll set, one timerfd armed to the earliest timer
 * (CLOCK_MONOTONIC, absolute, so sub-millisecond schedules stay exact). Engines
 * register file descriptors and timers; nothing here blocks except epoll_wait. */
#ifndef TWAMPY_LOOP_H
#define TWAMPY_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

typedef struct tw_loop tw_loop_t;
typedef void (*tw_io_cb)(void *arg, uint32_t events);

/* A watched file descriptor; the engine that owns the fd owns this struct
 * (usually embedded in its own state), so the loop has no limit of its own. */
typedef struct tw_watch {
    int fd;
    tw_io_cb cb;
    void *arg;
} tw_watch_t;

/* A timer: the engine that owns it embeds it. Armed timers sit in a binary
 * heap ordered by deadline (ties in the order they were set), so setting,
 * cancelling and firing cost O(log n) for any number of them. */
typedef struct tw_timer {
    int64_t deadline; /* CLOCK_MONOTONIC ns */
    void (*cb)(void *arg);
    void *arg;
    bool armed;
    uint32_t slot;  /* its place in the heap while armed */
    uint64_t order; /* when it was set: ties fire first set, first run */
} tw_timer_t;

tw_loop_t *tw_loop_new(void);
void tw_loop_free(tw_loop_t *l);

/* Watch fd for events (EPOLLIN, ...) through w; cb(arg, events) when ready. */
int tw_loop_add(tw_loop_t *l, tw_watch_t *w, int fd, uint32_t events, tw_io_cb cb, void *arg);
/* Change the events watched. */
int tw_loop_mod(tw_loop_t *l, tw_watch_t *w, uint32_t events);
/* Stop watching. Safe from inside any callback (an I/O callback or a timer's),
 * for any number of watches, the caller's own included: events of w not yet
 * delivered in the current round are dropped, so w may be freed or reused as
 * soon as this returns. */
int tw_loop_del(tw_loop_t *l, tw_watch_t *w);

/* Polled watches: a socket under sustained load leaves the epoll set and its
 * callback runs (with EPOLLIN) on every round instead, the rounds then not
 * sleeping, until the owner gives it back with tw_loop_unpoll: while it is
 * out, arriving packets skip epoll's per-packet wake-up (a lock with
 * interrupts off, for every datagram queued to a watched socket), as NAPI
 * mutes a NIC's interrupts while it polls. tw_loop_poll returns -1 when
 * TW_LOOP_MAX_POLLED watches are polled already (w stays watched);
 * tw_loop_unpoll watches events again (epoll reports a socket already
 * readable, so nothing that came in between is missed; when epoll cannot
 * take it back, it stays polled and -1 is returned). tw_loop_del works on a
 * polled watch too. */
#define TW_LOOP_MAX_POLLED 64
int tw_loop_poll(tw_loop_t *l, tw_watch_t *w);
int tw_loop_unpoll(tw_loop_t *l, tw_watch_t *w, uint32_t events);
bool tw_loop_polled(const tw_loop_t *l, const tw_watch_t *w);

/* (Re)arm t to fire once at deadline (tw_mono_now() clock). */
/* Arm t for deadline (CLOCK_MONOTONIC ns), re-arming it if armed. Returns 0,
 * or -1 (ENOMEM) when the heap could not grow: t is then not armed. */
int tw_timer_set(tw_loop_t *l, tw_timer_t *t, int64_t deadline, void (*cb)(void *), void *arg);
void tw_timer_cancel(tw_loop_t *l, tw_timer_t *t);

/* Run until tw_loop_stop(). Returns 0, or -1 on an epoll failure. */
int tw_loop_run(tw_loop_t *l);
void tw_loop_stop(tw_loop_t *l);
/* Busy polling (--busy-poll): for ns after the last event, tw_loop_run polls
 * without sleeping instead of waiting in epoll_wait, so no scheduler wake-up
 * sits between a packet's arrival and its handling; every round still sees
 * signals (a signalfd), timers and all watches. 0 turns it off. */
void tw_loop_busy_poll(tw_loop_t *l, int64_t ns);
/* One round: wait up to timeout_ms (0: do not wait) and deliver what is ready.
 * Returns the number of events delivered, or -1. For tests and fuzzing. */
int tw_loop_run_once(tw_loop_t *l, int timeout_ms);

#endif
