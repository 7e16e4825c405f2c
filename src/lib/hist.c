#include "hist.h"

#include <math.h>
#include <string.h>

#define SUB (1u << TW_HIST_SUB_BITS)

void tw_hist_init(tw_hist_t *h)
{
    memset(h, 0, sizeof *h);
}

size_t tw_hist_index(uint64_t v)
{
    if (v < 2 * SUB)
        return (size_t)v;
    int m = 63 - __builtin_clzll(v);
    int shift = m - TW_HIST_SUB_BITS;
    if (m >= TW_HIST_MAX_BITS)
        return TW_HIST_BUCKETS - 1; /* beyond the range: the last bucket */
    return ((size_t)shift << TW_HIST_SUB_BITS) + (size_t)(v >> shift);
}

uint64_t tw_hist_lower(size_t idx)
{
    if (idx < 2 * SUB)
        return idx;
    size_t shift = (idx >> TW_HIST_SUB_BITS) - 1;
    uint64_t sub = idx - (shift << TW_HIST_SUB_BITS);
    return sub << shift;
}

uint64_t tw_hist_width(size_t idx)
{
    if (idx < 2 * SUB)
        return 1;
    return (uint64_t)1 << ((idx >> TW_HIST_SUB_BITS) - 1);
}

void tw_hist_add(tw_hist_t *h, int64_t v)
{
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (h->n == 0 || v > h->max)
        h->max = v;
    h->n++;
    if (v >= 0)
        h->pos[tw_hist_index((uint64_t)v)]++;
    else
        h->neg[tw_hist_index(v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v)]++;
}

void tw_hist_merge(tw_hist_t *into, const tw_hist_t *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0 || from->min < into->min)
        into->min = from->min;
    if (into->n == 0 || from->max > into->max)
        into->max = from->max;
    into->n += from->n;
    for (size_t i = 0; i < TW_HIST_BUCKETS; i++) {
        into->pos[i] += from->pos[i];
        into->neg[i] += from->neg[i];
    }
}

/* The value a bucket stands for: its midpoint (exact buckets are themselves). */
static int64_t mid(size_t idx, bool negative)
{
    uint64_t w = tw_hist_width(idx);
    int64_t v = (int64_t)(tw_hist_lower(idx) + (w - 1) / 2);
    return negative ? -v : v;
}

static int64_t clamp(const tw_hist_t *h, int64_t v)
{
    return v < h->min ? h->min : v > h->max ? h->max : v;
}

int64_t tw_hist_percentile(const tw_hist_t *h, double q)
{
    if (h->n == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 100)
        return h->max;
    uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = TW_HIST_BUCKETS; i-- > 0;) {
        seen += h->neg[i];
        if (seen >= rank)
            return clamp(h, mid(i, true));
    }
    for (size_t i = 0; i < TW_HIST_BUCKETS; i++) {
        seen += h->pos[i];
        if (seen >= rank)
            return clamp(h, mid(i, false));
    }
    return h->max;
}

void tw_hist_foreach(const tw_hist_t *h, void (*cb)(void *arg, int64_t lo, int64_t hi, uint64_t n),
                     void *arg)
{
    for (size_t i = TW_HIST_BUCKETS; i-- > 0;) {
        if (h->neg[i]) {
            int64_t lo = -(int64_t)(tw_hist_lower(i) + tw_hist_width(i) - 1);
            cb(arg, lo, -(int64_t)tw_hist_lower(i), h->neg[i]);
        }
    }
    for (size_t i = 0; i < TW_HIST_BUCKETS; i++) {
        if (h->pos[i]) {
            int64_t lo = (int64_t)tw_hist_lower(i);
            cb(arg, lo, lo + (int64_t)tw_hist_width(i) - 1, h->pos[i]);
        }
    }
}
