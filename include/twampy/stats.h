/* stats: streaming delay statistics as the Python twampy computes them
 * (min, max, average, RFC 1889 jitter), and loss per direction from the
 * reflector's sequence counter. Delays in ns. */
#ifndef TWAMPY_STATS_H
#define TWAMPY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tw_dirstats {
    uint64_t n;
    int64_t min, max, last;
    double sum;    /* sum of delays, ns */
    double jitter; /* RFC 1889 smoothed |D(i-1) - D(i)|, ns, twampy's recurrence */
} tw_dirstats_t;

/* Replies kept in the sender's sequence order before they are counted for
 * loss: a reply that comes back behind this many later replies cannot be
 * placed any more (counted in unplaced; the loss direction is then n/a). */
#define TW_STATS_WINDOW 1024

/* Loss by direction, replies taken in our sequence order (tw_stats_loss).
 * An epoch is a run of replies over which the reflector's counter ran
 * without restarting: see stats.c. */
#define TW_EPOCH_GAPS 8
typedef struct tw_epoch {
    uint64_t first, last; /* our index of its first and last reply */
    uint64_t n;           /* its replies */
    uint32_t rmin, rmax;  /* its lowest and highest reflector sequence number */
    uint32_t ext;         /* reordering seen in it: the largest rmax - rseq so far */
    uint64_t before;      /* requests lost right before its first reply */
    /* Its latest reflector sequence numbers (a ring): one seen again means
     * the counter restarted, whatever the reordering. */
#define TW_EPOCH_RECENT 32
    uint32_t recent[TW_EPOCH_RECENT];
    /* Runs of lost requests between its replies: the first and the latest
     * TW_EPOCH_GAPS (a ring), to tell the losses next to its ends. */
    uint64_t ngaps;
    struct tw_gap {
        uint64_t from, to; /* our indices, inclusive */
    } head[TW_EPOCH_GAPS], tail[TW_EPOCH_GAPS];
} tw_epoch_t;

typedef struct tw_lossacc {
    bool open;      /* a reply was counted: cur is open */
    bool have_prev; /* cur began at a restart: prev is the epoch before */
    bool certain;   /* that restart is sure (a number came again) */
    uint64_t first; /* our index of the first reply */
    tw_epoch_t cur, prev;
    uint64_t outbound; /* lost in closed epochs, by direction (at least) */
    uint64_t inbound;
    uint64_t restart_lost;   /* lost across restarts, or where one may have been */
    uint64_t reorder_unsure; /* lost near reordering, direction unsure */
    uint64_t restarts;       /* epochs after the first */
    uint32_t ext;            /* the largest reordering seen in a closed epoch */
} tw_lossacc_t;

typedef struct tw_stats {
    tw_dirstats_t outbound, inbound, roundtrip;
    uint64_t received;  /* replies counted (each sender sequence once) */
    uint32_t max_rseq;  /* highest reflector sequence number seen */
    uint64_t recounted; /* requests the reflector counted twice (duplicated on the way there) */
    uint64_t unusable;  /* replies that came back but were not measured (the sender sets it) */
    bool stateless;     /* every reply so far had rseq == sseq */
    /* Loss by direction: replies in our sequence order. */
    uint64_t hi;       /* our index (0, 1, ... over the run) of the latest-sent reply */
    uint64_t unplaced; /* replies that came too far out of order to be placed */
    tw_lossacc_t acc;  /* replies that left the window */
    uint32_t w0, wn;   /* the window: a ring, in our sequence order */
    struct tw_stats_slot {
        uint64_t idx;
        uint32_t rseq;
    } win[TW_STATS_WINDOW];
} tw_stats_t;

void tw_stats_init(tw_stats_t *s);
/* A one-way delay that cannot be known (the reflector's timestamps unusable):
 * tw_stats_add leaves that direction's statistics alone. */
#define TW_DELAY_NA INT64_MIN

/* Record one reply: round-trip, outbound and inbound delay in ns (never clamped),
 * the reflector's and the sender's sequence numbers. The sender numbers its
 * packets 0, 1, 2, ... (modulo 2^32) from the start of the run. */
void tw_stats_add(tw_stats_t *s, int64_t rt_ns, int64_t ob_ns, int64_t ib_ns, uint32_t rseq,
                  uint32_t sseq);

/* Why the loss by direction is unknown (tw_loss_t.unknown). */
enum {
    TW_LOSS_EDGES = 1,      /* lost before the first reply or after the last one, or no reply */
    TW_LOSS_RESTART = 2,    /* lost where the reflector's counter restarted or ran inconsistently */
    TW_LOSS_STATELESS = 4,  /* every reply carried our own sequence number */
    TW_LOSS_DUPLICATED = 8, /* requests duplicated on the way were counted twice */
    TW_LOSS_REORDERED = 16, /* requests reordered on the way, or a reply too late to place */
};

typedef struct tw_loss {
    uint64_t roundtrip; /* packets lost (or late) */
    /* With unknown == 0: the round-trip loss by direction, exactly
     * (outbound + inbound == roundtrip). Else at least this many were lost
     * each way, and unattributed = roundtrip - outbound - inbound are lost
     * in a direction that cannot be known: report the direction as n/a. */
    uint64_t outbound, inbound;
    uint64_t unattributed;
    unsigned unknown;  /* TW_LOSS_* bits, 0 when the direction is known */
    uint64_t restarts; /* restarts of the reflector's counter seen */
} tw_loss_t;

/* Add the delays of `from` to `into` (several sessions in one total): counts,
 * min, max and sums add up; jitter becomes the sample-weighted mean of the
 * two. Loss is not merged here: add each session's tw_stats_loss() with
 * tw_loss_add(). */
void tw_stats_merge(tw_stats_t *into, const tw_stats_t *from);

/* Loss for `sent` packets. Round trip: sent - received. By direction, from
 * the reflector's counter, epoch by epoch (tw_lossacc_t): never more than the
 * round trip, never negative; unknown says why when part of it cannot be
 * attributed (losses at the edges of the run or across a counter restart, a
 * stateless reflector, duplicated requests, replies too far out of order). */
tw_loss_t tw_stats_loss(const tw_stats_t *s, uint64_t sent);

/* into += l (a total over sessions: counts add up, the reasons combine). */
void tw_loss_add(tw_loss_t *into, const tw_loss_t *l);

/* A short code per TW_LOSS_* bit ("edges", "counter_restart", "stateless",
 * "duplicated", "reordered"), NULL for anything else. */
const char *tw_loss_reason_code(unsigned bit);
/* For a user: why the direction is unknown, as a phrase ("lost before the
 * first reply or after the last one; ..."), into buf. */
const char *tw_loss_reason_text(const tw_loss_t *l, char *buf, size_t len);

#endif
