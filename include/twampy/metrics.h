/* metrics: the extended statistics of a test session, beside twampy's table
 * (stats.h): per direction (outbound, inbound, round trip) min, max, mean,
 * standard deviation, percentiles from a log-linear histogram, RFC 3550
 * jitter, IPDV (RFC 3393, consecutive sequence numbers) and PDV (RFC 5481,
 * delay minus the minimum); reordering (RFC 4737), duplicates, late replies,
 * TTL / Hop Limit in both directions and the reflector's residence time. */
#ifndef TWAMPY_METRICS_H
#define TWAMPY_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "ntptime.h"

typedef struct tw_dirmetrics {
    uint64_t n;
    int64_t min, max;
    double mean, m2; /* Welford's running mean and sum of squares */
    double jitter;   /* RFC 3550: J += (|D(i-1,i)| - J) / 16, arrival order */
    int64_t last;    /* previous delay in arrival order */
    tw_hist_t hist;  /* delays */
    tw_hist_t ipdv;  /* D(n) - D(n-1) for consecutive sequence numbers */
} tw_dirmetrics_t;

/* One reply, as the sender matched it. */
typedef struct tw_sample {
    uint32_t seq;  /* sender sequence number */
    uint32_t rseq; /* reflector sequence number */
    tw_time_t t1, t2, t3, t4;
    int ttl_out;      /* TTL / Hop Limit as the reflector received it (Sender TTL), -1 unknown */
    int ttl_in;       /* TTL / Hop Limit of the reply as we received it, -1 unknown */
    bool remote_sync; /* the reflector's S bit */
    bool oneway_na;   /* t2/t3 unusable: the round trip t4 - t1 only, no one-way or residence */
    /* --flow-label (fl_set): the IPv6 flow label the request was sent with
     * and the one the reply came back with. */
    bool fl_set;
    uint32_t fl_sent, fl_in;
} tw_sample_t;

#define TW_METRICS_RING 65536
/* Distinct paths remembered: (outbound, inbound) TTL / Hop Limit pairs. */
#define TW_METRICS_PATHS 64

typedef struct tw_metrics {
    tw_dirmetrics_t outbound, inbound, roundtrip;
    tw_hist_t residence; /* t3 - t2 */
    uint64_t received;
    uint64_t reordered;      /* arrived after a later-sent packet (RFC 4737) */
    uint64_t reorder_extent; /* the largest reordering extent seen, in packets */
    uint64_t negative_oneway;
    bool local_sync, remote_sync_all;
    int ttl_out_first, ttl_in_first;
    int ttl_out_min, ttl_out_max, ttl_in_min, ttl_in_max;
    /* Path changes: replies whose outbound or inbound TTL / Hop Limit
     * differed from the previous reply's (arrival order; the last known of
     * each direction in ttl_*_last, -1 none). Distinct paths: the
     * (outbound, inbound) pairs seen (-1 for unknown), the first
     * TW_METRICS_PATHS of them; paths_overflow counts the replies on a pair
     * not in the full table. */
    uint64_t path_changes;
    int ttl_out_last, ttl_in_last;
    uint32_t npaths;
    struct tw_metrics_path {
        int16_t out, in;
    } paths[TW_METRICS_PATHS];
    uint64_t paths_overflow;
    /* --flow-label: replies that came back with the label their request was
     * sent with, and with another. */
    uint64_t fl_reflected, fl_changed;
    uint32_t next_exp; /* RFC 4737 NextExp: highest sequence number seen + 1 */
    uint64_t arrivals;
    /* Recent packets by sequence number, for IPDV and reordering extents. */
    struct tw_metrics_slot {
        uint32_t seq;
        bool valid;
        bool oneway; /* ob and ib are known */
        uint64_t arrival;
        int64_t ob, ib, rt;
    } * ring;
} tw_metrics_t;

/* 0, or -1 when out of memory. */
int tw_metrics_init(tw_metrics_t *m, bool local_sync);
void tw_metrics_free(tw_metrics_t *m);
/* A total over several sessions: no ring (it takes no samples, only merges). */
void tw_metrics_init_total(tw_metrics_t *m);
/* Add b's figures to m: counts and histograms add up, mean and variance of
 * the union (Chan et al.), jitter the sample-weighted mean, TTL ranges widen,
 * the distinct paths are the union (bounded), path changes add up. */
void tw_metrics_merge(tw_metrics_t *m, const tw_metrics_t *b);
void tw_metrics_add(tw_metrics_t *m, const tw_sample_t *s);

double tw_dirmetrics_stddev(const tw_dirmetrics_t *d);
/* The p-th percentile of the delay (ns). */
int64_t tw_dirmetrics_percentile(const tw_dirmetrics_t *d, double p);

#endif
