/* stats: streaming delay statistics as the Python twampy computes them
 * (min, max, average, RFC 1889 jitter, loss per direction). Delays in ns. */
#ifndef TWAMPY_STATS_H
#define TWAMPY_STATS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tw_dirstats {
    uint64_t n;
    int64_t min, max, last;
    double sum;    /* sum of delays, ns */
    double jitter; /* RFC 1889 smoothed |D(i-1) - D(i)|, ns, twampy's recurrence */
} tw_dirstats_t;

typedef struct tw_stats {
    tw_dirstats_t outbound, inbound, roundtrip;
    uint64_t received;  /* replies counted (each sender sequence once) */
    uint32_t max_rseq;  /* highest reflector sequence number seen */
    uint64_t recounted; /* requests the reflector counted twice (duplicated on the way there) */
    bool stateless;     /* every reply so far had rseq == sseq */
} tw_stats_t;

void tw_stats_init(tw_stats_t *s);
/* Record one reply: round-trip, outbound and inbound delay in ns (never clamped),
 * the reflector's and the sender's sequence numbers. */
void tw_stats_add(tw_stats_t *s, int64_t rt_ns, int64_t ob_ns, int64_t ib_ns, uint32_t rseq,
                  uint32_t sseq);

typedef struct tw_loss {
    uint64_t outbound, inbound, roundtrip; /* packets */
} tw_loss_t;

/* Add the delays of `from` to `into` (several sessions in one total): counts,
 * min, max and sums add up; jitter becomes the sample-weighted mean of the
 * two. Loss is not merged here: add each session's tw_stats_loss(). */
void tw_stats_merge(tw_stats_t *into, const tw_stats_t *from);

/* Loss for `sent` packets. Round trip: sent - received. With the reflector's
 * counter (stateful reflector), it received max_rseq + 1 of ours: outbound is
 * sent - (max_rseq + 1), inbound (max_rseq + 1) - received (each clamped to
 * 0..sent). With no reply at all everything is lost. */
tw_loss_t tw_stats_loss(const tw_stats_t *s, uint64_t sent);

#endif
