/* stats: streaming delay statistics as the Python twampy computes them. */
#include "stats.h"

#include <math.h>
#include <string.h>

static void dir_init(tw_dirstats_t *d)
{
    memset(d, 0, sizeof(*d));
}

/* twampy's twampStatistics.add() for one direction; jitter per RFC 1889 with
 * twampy's start: 0 for the first sample, |D1 - D2| for the second, then
 * J += (|D(i-1) - D(i)| - J) / 16. */
static void dir_add(tw_dirstats_t *d, int64_t v)
{
    if (d->n == 0) {
        d->min = v;
        d->max = v;
        d->sum = (double)v;
        d->jitter = 0.0;
    } else {
        double diff = fabs((double)d->last - (double)v);

        if (v < d->min)
            d->min = v;
        if (v > d->max)
            d->max = v;
        d->sum += (double)v;
        if (d->n == 1)
            d->jitter = diff;
        else
            d->jitter += (diff - d->jitter) / 16.0;
    }
    d->last = v;
    d->n++;
}

void tw_stats_init(tw_stats_t *s)
{
    dir_init(&s->outbound);
    dir_init(&s->inbound);
    dir_init(&s->roundtrip);
    s->received = 0;
    s->max_rseq = 0;
    s->recounted = 0;
    s->stateless = true;
}

void tw_stats_add(tw_stats_t *s, int64_t rt_ns, int64_t ob_ns, int64_t ib_ns, uint32_t rseq,
                  uint32_t sseq)
{
    dir_add(&s->roundtrip, rt_ns);
    dir_add(&s->outbound, ob_ns);
    dir_add(&s->inbound, ib_ns);
    if (s->received == 0 || rseq > s->max_rseq)
        s->max_rseq = rseq;
    if (rseq != sseq)
        s->stateless = false;
    s->received++;
}

static void dir_merge(tw_dirstats_t *a, const tw_dirstats_t *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
    a->jitter = (a->jitter * (double)a->n + b->jitter * (double)b->n) / (double)(a->n + b->n);
    a->sum += b->sum;
    a->n += b->n;
    a->last = b->last;
}

void tw_stats_merge(tw_stats_t *into, const tw_stats_t *from)
{
    dir_merge(&into->outbound, &from->outbound);
    dir_merge(&into->inbound, &from->inbound);
    dir_merge(&into->roundtrip, &from->roundtrip);
    into->received += from->received;
    into->recounted += from->recounted;
    if (!from->stateless)
        into->stateless = false;
}

tw_loss_t tw_stats_loss(const tw_stats_t *s, uint64_t sent)
{
    tw_loss_t l;
    uint64_t reflected; /* how many of ours the reflector received */

    if (s->received == 0) {
        l.outbound = sent;
        l.inbound = sent;
        l.roundtrip = sent;
        return l;
    }
    reflected = (uint64_t)s->max_rseq + 1;
    /* A request duplicated on its way took two reflector sequence numbers. */
    reflected -= s->recounted < reflected ? s->recounted : reflected - 1;
    l.roundtrip = s->received >= sent ? 0 : sent - s->received;
    l.outbound = reflected >= sent ? 0 : sent - reflected;
    l.inbound = reflected <= s->received ? 0 : reflected - s->received;
    if (l.inbound > sent)
        l.inbound = sent;
    return l;
}
