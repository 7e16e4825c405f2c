/* workers: one share-nothing event loop per core. A pool of n loops: loop 0 is
 * run by the caller's thread (the one that watches the signals), loops 1..n-1
 * each by a thread of their own, which blocks every signal. Nothing is shared
 * between the loops but the logger: every engine lives on one loop and is
 * touched only by its thread until tw_workers_run returns (then all threads
 * have been joined and the caller may read every engine's counters).
 *
 * Reflectors on every worker (tw_workers_reflectors_open): one socket per
 * worker, all bound to the same address with SO_REUSEPORT. The kernel hashes
 * each flow (source and destination address and port) to one socket, so a
 * sender's requests are all answered by one worker and its per-sender state
 * needs no lock; --max-senders is shared out among the workers, and a
 * --rate-limit holds per worker (a source whose flows land on k workers gets
 * up to k times the rate). Before the group is bound, the address is bound
 * once without SO_REUSEPORT and let go: a port another program holds is
 * refused as it would be with one worker, and port 0 becomes a port nobody
 * holds, which the whole group then takes. */
#ifndef TWAMPY_WORKERS_H
#define TWAMPY_WORKERS_H

#include <stddef.h>

#include "loop.h"
#include "reflector.h"

typedef struct tw_workers tw_workers_t;

/* The number of online CPUs (at least 1): the default number of workers. */
int tw_workers_online(void);

/* n (1..TW_WORKERS_MAX) loops. Returns 0, or -1 with errno. */
#define TW_WORKERS_MAX 1024
int tw_workers_new(tw_workers_t **out, int n);
void tw_workers_free(tw_workers_t *w);
int tw_workers_count(const tw_workers_t *w);
tw_loop_t *tw_workers_loop(tw_workers_t *w, int i);

/* Start loops 1..n-1 in threads and run loop 0 in this thread until it is
 * stopped (tw_loop_stop on loop 0, e.g. from its signal watch) or
 * tw_workers_stop; then stop the other loops and join their threads. Returns
 * 0, or -1 (errno) when a thread cannot be started or a loop fails. */
int tw_workers_run(tw_workers_t *w);
/* Stop every loop: safe from any thread, and from a signal handler. */
void tw_workers_stop(tw_workers_t *w);

/* Open a reflector on every worker's loop, all on cfg->local (SO_REUSEPORT
 * when there is more than one; see above; with more than one, cfg->batch is
 * not used: each has its own). out has tw_workers_count(w) entries. Returns
 * 0, or -1 with a reason in err (nothing left open). */
int tw_workers_reflectors_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_workers_t *w,
                               char *err, size_t errlen);
void tw_workers_reflectors_close(tw_reflector_t **r, int n);
/* The sum of the counters of n reflectors (last_rx_mono: the latest). */
void tw_reflector_counters_sum(tw_reflector_counters_t *sum, tw_reflector_t *const *r, int n);

#endif
