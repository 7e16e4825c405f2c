#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MASK (TW_METRICS_RING - 1)
/* How far back a reordering extent is searched for. */
#define EXTENT_SCAN 4096

static void dir_init(tw_dirmetrics_t *d)
{
    memset(d, 0, sizeof *d);
    tw_hist_init(&d->hist);
    tw_hist_init(&d->ipdv);
}

static void metrics_reset(tw_metrics_t *m, bool local_sync)
{
    memset(m, 0, sizeof *m);
    dir_init(&m->outbound);
    dir_init(&m->inbound);
    dir_init(&m->roundtrip);
    tw_hist_init(&m->residence);
    m->local_sync = local_sync;
    m->remote_sync_all = true;
    m->ttl_out_first = m->ttl_in_first = -1;
    m->ttl_out_last = m->ttl_in_last = -1;
}

/* Count a reply on path (out, in): 1 when the table holds it or took it. */
static void path_add(tw_metrics_t *m, int out, int in, uint64_t n)
{
    for (uint32_t i = 0; i < m->npaths; i++)
        if (m->paths[i].out == out && m->paths[i].in == in)
            return;
    if (m->npaths < TW_METRICS_PATHS) {
        m->paths[m->npaths++] = (struct tw_metrics_path){(int16_t)out, (int16_t)in};
        return;
    }
    m->paths_overflow += n;
}

int tw_metrics_init(tw_metrics_t *m, bool local_sync)
{
    metrics_reset(m, local_sync);
    m->ring = calloc(TW_METRICS_RING, sizeof *m->ring);
    return m->ring ? 0 : -1;
}

void tw_metrics_init_total(tw_metrics_t *m)
{
    metrics_reset(m, true);
}

static void dirm_merge(tw_dirmetrics_t *a, const tw_dirmetrics_t *b)
{
    tw_hist_merge(&a->hist, &b->hist);
    tw_hist_merge(&a->ipdv, &b->ipdv);
    if (b->n == 0)
        return;
    if (a->n == 0) {
        a->n = b->n;
        a->min = b->min;
        a->max = b->max;
        a->mean = b->mean;
        a->m2 = b->m2;
        a->jitter = b->jitter;
        a->last = b->last;
        return;
    }
    /* Chan et al.: the mean and the sum of squares of the union. */
    double na = (double)a->n, nb = (double)b->n, n = na + nb;
    double delta = b->mean - a->mean;
    a->mean += delta * nb / n;
    a->m2 += b->m2 + delta * delta * na * nb / n;
    a->jitter = (a->jitter * na + b->jitter * nb) / n;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
    a->n += b->n;
    a->last = b->last;
}

static void ttl_merge(int *first, int *lo, int *hi, int bfirst, int blo, int bhi)
{
    if (bfirst < 0)
        return;
    if (*first < 0) {
        *first = bfirst;
        *lo = blo;
        *hi = bhi;
        return;
    }
    if (blo < *lo)
        *lo = blo;
    if (bhi > *hi)
        *hi = bhi;
}

void tw_metrics_merge(tw_metrics_t *m, const tw_metrics_t *b)
{
    dirm_merge(&m->outbound, &b->outbound);
    dirm_merge(&m->inbound, &b->inbound);
    dirm_merge(&m->roundtrip, &b->roundtrip);
    tw_hist_merge(&m->residence, &b->residence);
    m->received += b->received;
    m->reordered += b->reordered;
    if (b->reorder_extent > m->reorder_extent)
        m->reorder_extent = b->reorder_extent;
    m->negative_oneway += b->negative_oneway;
    m->local_sync = m->local_sync && b->local_sync;
    if (b->received)
        m->remote_sync_all = m->remote_sync_all && b->remote_sync_all;
    ttl_merge(&m->ttl_out_first, &m->ttl_out_min, &m->ttl_out_max, b->ttl_out_first, b->ttl_out_min,
              b->ttl_out_max);
    ttl_merge(&m->ttl_in_first, &m->ttl_in_min, &m->ttl_in_max, b->ttl_in_first, b->ttl_in_min,
              b->ttl_in_max);
    m->path_changes += b->path_changes;
    for (uint32_t i = 0; i < b->npaths; i++)
        path_add(m, b->paths[i].out, b->paths[i].in, 1);
    m->paths_overflow += b->paths_overflow;
    m->fl_reflected += b->fl_reflected;
    m->fl_changed += b->fl_changed;
}

void tw_metrics_free(tw_metrics_t *m)
{
    free(m->ring);
    m->ring = NULL;
    tw_dirmetrics_t *d[] = {&m->outbound, &m->inbound, &m->roundtrip};
    for (int i = 0; i < 3; i++) {
        tw_hist_free(&d[i]->hist);
        tw_hist_free(&d[i]->ipdv);
    }
    tw_hist_free(&m->residence);
}

static void dir_add(tw_dirmetrics_t *d, int64_t v)
{
    if (d->n == 0 || v < d->min)
        d->min = v;
    if (d->n == 0 || v > d->max)
        d->max = v;
    d->n++;
    double delta = (double)v - d->mean;
    d->mean += delta / (double)d->n;
    d->m2 += delta * ((double)v - d->mean);
    if (d->n > 1)
        d->jitter += (fabs((double)(v - d->last)) - d->jitter) / 16.0;
    d->last = v;
    tw_hist_add(&d->hist, v);
}

double tw_dirmetrics_stddev(const tw_dirmetrics_t *d)
{
    return d->n > 1 ? sqrt(d->m2 / (double)(d->n - 1)) : 0.0;
}

int64_t tw_dirmetrics_percentile(const tw_dirmetrics_t *d, double p)
{
    return tw_hist_percentile(&d->hist, p);
}

static void ttl_track(int v, int *first, int *lo, int *hi)
{
    if (v < 0)
        return;
    if (*first < 0) {
        *first = *lo = *hi = v;
        return;
    }
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

/* IPDV between a packet and its neighbour by sequence number, both received. */
static void ipdv_pair(tw_metrics_t *m, const struct tw_metrics_slot *prev,
                      const struct tw_metrics_slot *cur)
{
    if (cur->oneway && prev->oneway) {
        tw_hist_add(&m->outbound.ipdv, cur->ob - prev->ob);
        tw_hist_add(&m->inbound.ipdv, cur->ib - prev->ib);
    }
    tw_hist_add(&m->roundtrip.ipdv, cur->rt - prev->rt);
}

void tw_metrics_add(tw_metrics_t *m, const tw_sample_t *s)
{
    int64_t ob = s->t2 - s->t1, ib = s->t4 - s->t3;
    int64_t rt = (s->t4 - s->t1) - (s->t3 - s->t2);
    if (s->oneway_na) {
        ob = ib = 0;
        rt = s->t4 - s->t1;
    }
    m->received++;
    if (!s->oneway_na) {
        dir_add(&m->outbound, ob);
        dir_add(&m->inbound, ib);
        tw_hist_add(&m->residence, s->t3 - s->t2);
        if (ob < 0 || ib < 0)
            m->negative_oneway++;
        if (!s->remote_sync)
            m->remote_sync_all = false;
    }
    dir_add(&m->roundtrip, rt);
    ttl_track(s->ttl_out, &m->ttl_out_first, &m->ttl_out_min, &m->ttl_out_max);
    ttl_track(s->ttl_in, &m->ttl_in_first, &m->ttl_in_min, &m->ttl_in_max);
    if ((s->ttl_out >= 0 && m->ttl_out_last >= 0 && s->ttl_out != m->ttl_out_last) ||
        (s->ttl_in >= 0 && m->ttl_in_last >= 0 && s->ttl_in != m->ttl_in_last))
        m->path_changes++;
    if (s->ttl_out >= 0)
        m->ttl_out_last = s->ttl_out;
    if (s->ttl_in >= 0)
        m->ttl_in_last = s->ttl_in;
    if (s->ttl_out >= 0 || s->ttl_in >= 0)
        path_add(m, s->ttl_out, s->ttl_in, 1);
    if (s->fl_set) {
        if (s->fl_in == s->fl_sent)
            m->fl_reflected++;
        else
            m->fl_changed++;
    }

    uint64_t arrival = m->arrivals++;
    /* RFC 4737 §3: reordered when below NextExp; the extent is how many
     * packets arrived since the earliest one with a larger sequence number. */
    bool first = m->received == 1;
    if (!first && (int32_t)(s->seq - m->next_exp) < 0) {
        m->reordered++;
        uint64_t earliest = arrival;
        uint32_t span = m->next_exp - s->seq;
        if (span > EXTENT_SCAN)
            span = EXTENT_SCAN;
        for (uint32_t k = 1; k < span; k++) {
            const struct tw_metrics_slot *x = &m->ring[(s->seq + k) & MASK];
            if (x->valid && x->seq == s->seq + k && x->arrival < earliest)
                earliest = x->arrival;
        }
        if (arrival - earliest > m->reorder_extent)
            m->reorder_extent = arrival - earliest;
    } else {
        m->next_exp = s->seq + 1;
    }

    struct tw_metrics_slot *cur = &m->ring[s->seq & MASK];
    *cur = (struct tw_metrics_slot){s->seq, true, !s->oneway_na, arrival, ob, ib, rt};
    const struct tw_metrics_slot *prev = &m->ring[(s->seq - 1) & MASK];
    const struct tw_metrics_slot *next = &m->ring[(s->seq + 1) & MASK];
    if (prev->valid && prev->seq == s->seq - 1)
        ipdv_pair(m, prev, cur);
    if (next->valid && next->seq == s->seq + 1)
        ipdv_pair(m, cur, next);
}
