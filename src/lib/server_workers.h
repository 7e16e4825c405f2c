/* server_workers: a TWAMP server on every worker (workers.h). Each worker runs
 * a whole server (control connections and their sessions' reflectors) on its
 * own loop; the listeners share the control address with SO_REUSEPORT and the
 * kernel hands all the connections of one source (IPv4 address, IPv6 /64) to
 * the same worker (tw_reuseport_by_source), so the per-source limits and key
 * derivation pace hold exactly as with one server; --max-connections and
 * --max-total-sessions hold for all together (tw_ctrl_shared_t). Internal
 * (control_server.h is). */
#ifndef TWAMPY_SERVER_WORKERS_H
#define TWAMPY_SERVER_WORKERS_H

#include <stddef.h>

#include "control_server.h"
#include "workers.h"

/* Open a server on every worker's loop, all listening on cfg->listen (port 0:
 * one port the kernel picks for them all) and counting their totals in
 * *shared (zeroed here; it must outlive them). out has tw_workers_count(w)
 * entries. Returns 0, or -1 with a reason in err (nothing left open). */
int tw_workers_servers_open(tw_ctrl_server_t **out, const tw_ctrl_server_cfg_t *cfg,
                            tw_ctrl_shared_t *shared, tw_workers_t *w, char *err, size_t errlen);
void tw_workers_servers_close(tw_ctrl_server_t **s, int n);
/* The sum of the counters of n servers. */
void tw_ctrl_server_counters_sum(tw_ctrl_server_counters_t *sum, tw_ctrl_server_t *const *s, int n);

#endif
