/* monitor: continuous measurement of many targets from one event loop, for
 * `twampy monitor` and its Prometheus metrics.
 *
 * Each target runs in rounds: a round is one Session-Sender of `packets`
 * packets (for protocol twamp with its own TWAMP-Control connection, each
 * security mode), and when its last reply is in or its timeout has passed the
 * round's result is added to the target's totals and the sender is closed.
 * So every counter moves only by final figures (a packet is counted as sent,
 * received or lost once, when its fate is known), and the memory of an endless
 * run is that of one round per target. The next round starts when the
 * round's packets would have taken at the interval (or at once after a long
 * timeout): the schedule keeps its rate. Targets started together begin
 * spread over one second.
 *
 * tw_monitor_apply takes a configuration and may be called again (SIGHUP):
 * targets whose settings did not change keep running with their counters,
 * others are stopped, started or restarted from zero. If anything in the new
 * configuration cannot be used (an address that does not resolve, a key not
 * in the key file) nothing changes. */
#ifndef TWAMPY_MONITOR_H
#define TWAMPY_MONITOR_H

#include <stdbool.h>
#include <stdio.h>

#include "loop.h"
#include "monitor_config.h"
#include "prom.h"

typedef struct tw_monitor tw_monitor_t;

/* on_update(arg): a round ended (totals changed); may be NULL. */
tw_monitor_t *tw_monitor_new(tw_loop_t *loop, void (*on_update)(void *arg), void *arg);
void tw_monitor_free(tw_monitor_t *m);
/* Take cfg (see above). Returns 0, or -1 with a reason in err and the running
 * targets untouched. */
int tw_monitor_apply(tw_monitor_t *m, const tw_mon_config_t *cfg, char *err, size_t errlen);
/* What tw_monitor_apply would check (addresses resolve, keys are in the key
 * file), without starting anything. Returns 0, or -1 with a reason in err. */
int tw_monitor_check(const tw_mon_config_t *cfg, char *err, size_t errlen);
/* Every target has run its `rounds` (never, while one has no limit). */
bool tw_monitor_finished(const tw_monitor_t *m);
/* The targets' metrics (families, then samples), without tw_prom_end. */
void tw_monitor_prom(const tw_monitor_t *m, tw_prom_t *p);
/* The totals as JSON: {"targets": [{...}, ...]}, one object per target with
 * the counters, the exact RTT median and the histogram buckets. */
void tw_monitor_json(const tw_monitor_t *m, FILE *f);

/* The upper bounds of the delay histograms' buckets, ns (1, 2, 5 per decade
 * from 1 us to 10 s). */
#define TW_MON_BUCKETS 22
extern const int64_t tw_mon_bucket_ns[TW_MON_BUCKETS];

#endif
