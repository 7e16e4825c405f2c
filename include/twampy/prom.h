/* prom: the Prometheus exposition formats, written into a growing buffer:
 * the text format 0.0.4 and OpenMetrics 1.0 (chosen per scrape by the Accept
 * header, tw_prom_wants_openmetrics). Pure: no I/O, no clock.
 *
 * A metric family is announced once (tw_prom_family: # HELP, # TYPE, and in
 * OpenMetrics # UNIT), then its samples follow. Names follow Prometheus'
 * conventions: the family name of a counter has no _total (the writer adds it
 * to the sample), a unit is the name's last word (twampy_rtt_seconds).
 * Label values are escaped as both formats want (\\, \", \n). */
#ifndef TWAMPY_PROM_H
#define TWAMPY_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tw_prom {
    char *buf; /* NUL-terminated text so far */
    size_t len, cap;
    bool om;     /* OpenMetrics 1.0 instead of the text format 0.0.4 */
    bool failed; /* out of memory: buf holds what fitted */
} tw_prom_t;

typedef struct tw_prom_label {
    const char *name, *value;
} tw_prom_label_t;

enum tw_prom_type { TW_PROM_COUNTER, TW_PROM_GAUGE, TW_PROM_HISTOGRAM };

void tw_prom_init(tw_prom_t *p, bool openmetrics);
void tw_prom_free(tw_prom_t *p);
/* # HELP and # TYPE (and # UNIT in OpenMetrics when unit is not NULL). */
void tw_prom_family(tw_prom_t *p, const char *name, enum tw_prom_type type, const char *unit,
                    const char *help);
void tw_prom_gauge(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl, double v);
/* name_total, and in OpenMetrics name_created when created > 0 (seconds since
 * the epoch: when the counter started from zero). */
void tw_prom_counter(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl,
                     uint64_t v, double created);
/* name_bucket{le=...} for each of the nb upper bounds le[] (ascending) and
 * le="+Inf", name_sum, name_count (and name_created). counts[i] is the number
 * of values in bucket i alone (le[i-1] < v <= le[i]); counts[nb] those above
 * le[nb-1]: the writer makes them cumulative. */
void tw_prom_histogram(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl,
                       const double *le, const uint64_t *counts, size_t nb, double sum,
                       double created);
/* The end of the exposition (OpenMetrics: "# EOF"). */
void tw_prom_end(tw_prom_t *p);

/* An Accept header asks for OpenMetrics: it names application/openmetrics-text
 * (version 1.0.0 or none) with a quality above that of text/plain and of any
 * wildcard. NULL or empty: no (the text format). */
bool tw_prom_wants_openmetrics(const char *accept);
const char *tw_prom_content_type(bool openmetrics);

/* A float as Prometheus writes it: the shortest form that reads back the same,
 * "+Inf", "-Inf", "NaN". Returns buf. */
const char *tw_prom_float(char *buf, size_t len, double v);

#endif
