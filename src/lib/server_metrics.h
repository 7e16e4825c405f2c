/* server_metrics: the Prometheus metric families of `twampy responder` (the
 * reflector's counters) and `twampy server` (the TWAMP-Control server's), for
 * --metrics. Pure: counters in, exposition text out (prom.h). */
#ifndef TWAMPY_SERVER_METRICS_H
#define TWAMPY_SERVER_METRICS_H

#include "control_server.h"
#include "prom.h"
#include "reflector.h"

/* twampy_reflector_*: packets received, reflected, dropped by reason, ... */
void tw_reflector_prom(tw_prom_t *p, const tw_reflector_counters_t *k);
/* twampy_server_*: connections, sessions, refusals and closes by reason. */
void tw_ctrl_server_prom(tw_prom_t *p, const tw_ctrl_server_counters_t *k);

#endif
