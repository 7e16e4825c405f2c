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

typedef struct tw_timer {
    int64_t deadline; /* CLOCK_MONOTONIC ns */
    void (*cb)(void *arg);
    void *arg;
    bool armed;
    struct tw_timer *next;
} tw_timer_t;

tw_loop_t *tw_loop_new(void);
void tw_loop_free(tw_loop_t *l);

/* Watch fd for events (EPOLLIN, ...); cb(arg, events) when ready. */
int tw_loop_add(tw_loop_t *l, int fd, uint32_t events, tw_io_cb cb, void *arg);
int tw_loop_del(tw_loop_t *l, int fd);

/* (Re)arm t to fire once at deadline (tw_mono_now() clock). */
void tw_timer_set(tw_loop_t *l, tw_timer_t *t, int64_t deadline, void (*cb)(void *), void *arg);
void tw_timer_cancel(tw_loop_t *l, tw_timer_t *t);

/* Run until tw_loop_stop(). Returns 0, or -1 on an epoll failure. */
int tw_loop_run(tw_loop_t *l);
void tw_loop_stop(tw_loop_t *l);

#endif
