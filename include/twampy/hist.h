/* hist: a log-linear histogram of signed 64-bit values (ns) with bounded memory
 * (HDR-style): exact below 256, then 128 sub-buckets per power of two, so a
 * value is known to within 1/128 of itself and a percentile (the bucket's
 * midpoint) to within 0.4 %, from 1 ns to 2^40 ns (18 minutes). The buckets
 * come in pages of 128 (one power of two), allocated when a value first falls
 * in one: a histogram of delays that stay within a few powers of two holds a
 * few KiB, and never more than 70 KiB, the same for ten packets and for a day
 * at 1,000 packets per second — so ten thousand of them fit one process. */
#ifndef TWAMPY_HIST_H
#define TWAMPY_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_HIST_SUB_BITS 7
#define TW_HIST_MAX_BITS 40
#define TW_HIST_BUCKETS (((TW_HIST_MAX_BITS - TW_HIST_SUB_BITS) << TW_HIST_SUB_BITS) + 256)

#define TW_HIST_PAGE 128 /* buckets per page */
#define TW_HIST_PAGES (TW_HIST_BUCKETS / TW_HIST_PAGE)

typedef struct tw_hist {
    uint64_t n;
    int64_t min, max;
    uint64_t unbucketed;          /* values a page could not be allocated for
                                     (in n, min and max, not in a bucket) */
    uint64_t *pos[TW_HIST_PAGES]; /* values >= 0; NULL: a page of zeros */
    uint64_t *neg[TW_HIST_PAGES]; /* magnitudes of values < 0 */
} tw_hist_t;

/* An empty histogram (allocates nothing). */
void tw_hist_init(tw_hist_t *h);
/* Free its pages: empty again. A histogram is never copied by value (the
 * copy would share the pages): merge it into another. */
void tw_hist_free(tw_hist_t *h);
void tw_hist_add(tw_hist_t *h, int64_t v);
/* The q-th percentile (0 < q <= 100, nearest rank) within the histogram's
 * precision, clamped to the exact min and max; 0 when empty. */
int64_t tw_hist_percentile(const tw_hist_t *h, double q);
void tw_hist_merge(tw_hist_t *into, const tw_hist_t *from);

/* Bucket index of a magnitude and the range of values a bucket holds. */
size_t tw_hist_index(uint64_t mag);
uint64_t tw_hist_lower(size_t idx);
uint64_t tw_hist_width(size_t idx);

/* Walk the non-empty buckets in value order: cb(arg, lowest value, highest
 * value, count). For reports of the distribution. */
void tw_hist_foreach(const tw_hist_t *h, void (*cb)(void *arg, int64_t lo, int64_t hi, uint64_t n),
                     void *arg);

#endif
