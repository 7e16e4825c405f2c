#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB (1u << TW_HIST_SUB_BITS)

void tw_hist_init(tw_hist_t *h)
{
    memset(h, 0, sizeof *h);
}

void tw_hist_free(tw_hist_t *h)
{
    for (size_t p = 0; p < TW_HIST_PAGES; p++) {
        free(h->pos[p]);
        free(h->neg[p]);
    }
    tw_hist_init(h);
}

/* Bucket i of a side (pos or neg), NULL when its page is absent. */
static uint64_t count_at(uint64_t *const *side, size_t i)
{
    const uint64_t *page = side[i / TW_HIST_PAGE];
    return page ? page[i % TW_HIST_PAGE] : 0;
}

/* Add k to bucket i of a side, allocating its page; false when it cannot. */
static bool bump(uint64_t **side, size_t i, uint64_t k)
{
    uint64_t **page = &side[i / TW_HIST_PAGE];
    if (!*page && !(*page = calloc(TW_HIST_PAGE, sizeof **page)))
        return false;
    (*page)[i % TW_HIST_PAGE] += k;
    return true;
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
    bool ok;
    if (v >= 0)
        ok = bump(h->pos, tw_hist_index((uint64_t)v), 1);
    else
        ok =
            bump(h->neg, tw_hist_index(v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v), 1);
    if (!ok)
        h->unbucketed++;
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
    into->unbucketed += from->unbucketed;
    for (size_t p = 0; p < TW_HIST_PAGES; p++) {
        for (int side = 0; side < 2; side++) {
            const uint64_t *src = side ? from->neg[p] : from->pos[p];
            uint64_t **dst = side ? into->neg : into->pos;
            if (!src)
                continue;
            for (size_t k = 0; k < TW_HIST_PAGE; k++)
                if (src[k] && !bump(dst, p * TW_HIST_PAGE + k, src[k]))
                    into->unbucketed += src[k];
        }
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
    uint64_t bucketed = h->n - h->unbucketed;
    uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)bucketed);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    /* Page by page: an absent page is a run of 128 empty buckets. */
    for (size_t p = TW_HIST_PAGES; p-- > 0;) {
        const uint64_t *page = h->neg[p];
        if (!page)
            continue;
        for (size_t k = TW_HIST_PAGE; k-- > 0;) {
            seen += page[k];
            if (seen >= rank)
                return clamp(h, mid(p * TW_HIST_PAGE + k, true));
        }
    }
    for (size_t p = 0; p < TW_HIST_PAGES; p++) {
        const uint64_t *page = h->pos[p];
        if (!page)
            continue;
        for (size_t k = 0; k < TW_HIST_PAGE; k++) {
            seen += page[k];
            if (seen >= rank)
                return clamp(h, mid(p * TW_HIST_PAGE + k, false));
        }
    }
    return h->max;
}

void tw_hist_foreach(const tw_hist_t *h, void (*cb)(void *arg, int64_t lo, int64_t hi, uint64_t n),
                     void *arg)
{
    for (size_t i = TW_HIST_BUCKETS; i-- > 0;) {
        if (!h->neg[i / TW_HIST_PAGE]) {
            i -= i % TW_HIST_PAGE; /* the page's first bucket: skip it whole */
            continue;
        }
        uint64_t k = count_at(h->neg, i);
        if (k) {
            int64_t lo = -(int64_t)(tw_hist_lower(i) + tw_hist_width(i) - 1);
            cb(arg, lo, -(int64_t)tw_hist_lower(i), k);
        }
    }
    for (size_t i = 0; i < TW_HIST_BUCKETS; i++) {
        if (!h->pos[i / TW_HIST_PAGE]) {
            i += TW_HIST_PAGE - 1 - i % TW_HIST_PAGE; /* the page's last bucket */
            continue;
        }
        uint64_t k = count_at(h->pos, i);
        if (k) {
            int64_t lo = (int64_t)tw_hist_lower(i);
            cb(arg, lo, lo + (int64_t)tw_hist_width(i) - 1, k);
        }
    }
}
