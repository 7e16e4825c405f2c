/* stats: streaming delay statistics as the Python twampy computes them. */
#include "stats.h"

#include <math.h>
#include <stdio.h>
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
    memset(s, 0, sizeof *s);
    dir_init(&s->outbound);
    dir_init(&s->inbound);
    dir_init(&s->roundtrip);
    s->stateless = true;
}

/* ---- loss by direction --------------------------------------------------------
 *
 * A stateful reflector numbers the requests it receives from us 0, 1, 2, ...
 * and restarts at 0 when it forgets us (idle for a while, evicted, restarted).
 * Taken in our sequence order, the replies fall into epochs: runs over which
 * its counter did not restart. In an epoch whose replies carry reflector
 * sequence numbers rmin..rmax, the reflector counted rmax - rmin + 1 requests
 * between its first and its last reply; those of its numbers we never saw are
 * requests it answered whose replies did not come back (inbound loss); the
 * other requests we lost in the epoch never reached it (outbound loss).
 *
 * A reply b after a reply a with `gap` requests lost between them starts a
 * new epoch when rseq(b) <= gap: a restart between the two would have given b
 * at most that number (the new epoch counts only requests of the gap), so a
 * restart cannot be excluded; with a larger rseq(b) it can. What was lost
 * between epochs, before the first reply and after the last one has no
 * direction. Where a restart was possible but the two epochs also read as one
 * (the reflector may just have received requests out of order), only what
 * both readings agree on is kept.
 *
 * Reordering at the reflector (a reply numbered below an earlier-sent one's)
 * inside an epoch changes none of its counts, but near its first and last
 * reply a request may have taken a number outside rmin..rmax, or one from
 * outside the epoch a number inside: the losses that close to its ends (the
 * largest reordering seen in it or before) are then unsure. Unseen reordering (only of requests
 * whose replies were lost) is assumed not to happen. */

struct fig {
    bool ok;       /* the counter counted our requests one by one */
    uint64_t lost; /* requests lost between the first and the last reply */
    uint64_t in, out;
};

static struct fig epoch_fig(const tw_epoch_t *e)
{
    struct fig f;
    uint64_t range = (uint64_t)e->rmax - e->rmin + 1;
    f.lost = e->last - e->first + 1 - e->n;
    /* A number counted twice, or more numbers missing than requests lost:
     * the counter did not simply count our requests (an unseen restart,
     * another sender on our key). */
    f.ok = range >= e->n && range - e->n <= f.lost;
    f.in = f.ok ? range - e->n : 0;
    f.out = f.ok ? f.lost - f.in : 0;
    return f;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void epoch_start(tw_epoch_t *e, uint64_t idx, uint32_t rseq, uint64_t before)
{
    memset(e, 0, sizeof *e);
    e->first = e->last = idx;
    e->n = 1;
    e->rmin = e->rmax = rseq;
    e->recent[0] = rseq;
    e->before = before;
}

/* Positions in [lo, hi] that may hold lost requests of the epoch, from the
 * runs it recorded (g: n of them, in order; complete: no run before g[0]
 * or after g[n - 1] is missing from the list between lo and hi). */
static uint64_t lost_in(const struct tw_gap *g, uint64_t n, uint64_t lo, uint64_t hi)
{
    uint64_t c = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t a = g[k].from > lo ? g[k].from : lo, b = g[k].to < hi ? g[k].to : hi;
        if (a <= b)
            c += b - a + 1;
    }
    return c;
}

/* Lost requests of the epoch within `ext` of its first and of its last
 * reply: those may have reached the reflector out of order, taking numbers
 * outside its rmin..rmax. */
static uint64_t lost_near_ends(const tw_epoch_t *e, uint64_t ext)
{
    if (ext == 0 || e->ngaps == 0)
        return 0;
    uint64_t c = 0;
    uint64_t nh = e->ngaps < TW_EPOCH_GAPS ? e->ngaps : TW_EPOCH_GAPS;
    uint64_t lo = e->first + 1, hi = e->first + ext;
    c += lost_in(e->head, nh, lo, hi);
    /* The head list ends before the zone does: assume the rest all lost. */
    if (e->ngaps > TW_EPOCH_GAPS && e->head[TW_EPOCH_GAPS - 1].to < hi)
        c += hi - e->head[TW_EPOCH_GAPS - 1].to;
    /* The latest runs, oldest first. */
    struct tw_gap t[TW_EPOCH_GAPS];
    uint64_t nt = nh;
    for (uint64_t k = 0; k < nt; k++)
        t[k] = e->tail[(e->ngaps - nt + k) % TW_EPOCH_GAPS];
    lo = e->last > ext ? e->last - ext : 0;
    hi = e->last - 1;
    c += lost_in(t, nt, lo, hi);
    if (e->ngaps > TW_EPOCH_GAPS && t[0].from > lo)
        c += t[0].from - lo;
    return c;
}

/* The open epoch ends, `after` requests lost right after its last reply:
 * its figures, and what the restart before it leaves unsure. */
static void epoch_close(tw_lossacc_t *a, uint64_t after)
{
    const tw_epoch_t *e = &a->cur;
    struct fig f = epoch_fig(e);
    if (!f.ok) {
        a->restart_lost += f.lost;
    } else {
        /* With reordering: ours taking numbers outside rmin..rmax look lost
         * outbound; lost ones from outside taking numbers inside look
         * inbound. Only next to the ends, within the reordering seen. */
        uint64_t ext = e->ext > a->ext ? e->ext : a->ext;
        uint64_t uout = min64(f.out, lost_near_ends(e, ext));
        uint64_t uin = ext ? min64(f.in, min64(e->before, ext) + min64(after, ext)) : 0;
        a->inbound += f.in - uin;
        a->outbound += f.out - uout;
        a->reorder_unsure += uin + uout;
    }
    if (e->ext > a->ext)
        a->ext = e->ext; /* the path reorders: the next epochs' ends too */
    if (!a->have_prev)
        return;
    /* The restart before this epoch, read as none: one epoch from prev's
     * first reply to this one's last (the gap between them included). */
    const tw_epoch_t *p = &a->prev;
    struct fig fp = epoch_fig(p);
    tw_epoch_t m = {
        .first = p->first,
        .last = e->last,
        .n = p->n + e->n,
        .rmin = p->rmin < e->rmin ? p->rmin : e->rmin,
        .rmax = p->rmax > e->rmax ? p->rmax : e->rmax,
    };
    struct fig fm = epoch_fig(&m);
    if (f.ok != fp.ok) {
        /* One of the two did not count one by one: some of its numbers may
         * be the other's, and look like replies lost on the way back. */
        uint64_t u = min64(a->inbound, f.ok ? min64(f.in, p->n) : min64(fp.in, e->n));
        a->inbound -= u;
        a->restart_lost += u;
        return;
    }
    if (!f.ok || !fm.ok || a->certain)
        return; /* a restart for sure (or nothing counted here anyway) */
    /* Keep what both readings give: the lower figure each way. */
    uint64_t in2 = f.in + fp.in, out2 = f.out + fp.out;
    uint64_t cin = in2 > fm.in ? in2 - fm.in : 0, cout = out2 > fm.out ? out2 - fm.out : 0;
    cin = min64(cin, a->inbound);
    cout = min64(cout, a->outbound);
    a->inbound -= cin;
    a->outbound -= cout;
    a->restart_lost += cin + cout;
}

/* A reflector sequence number the epoch already holds (checked among its
 * latest ones): only below its highest, so only when out of order. */
static bool seen_again(const tw_epoch_t *e, uint32_t rseq)
{
    if (rseq > e->rmax)
        return false;
    if (rseq == e->rmax || rseq == e->rmin)
        return true;
    uint64_t n = e->n < TW_EPOCH_RECENT ? e->n : TW_EPOCH_RECENT;
    for (uint64_t k = 0; k < n; k++)
        if (e->recent[k] == rseq)
            return true;
    return false;
}

/* The next reply in our sequence order (idx larger than any before). */
static void acc_feed(tw_lossacc_t *a, uint64_t idx, uint32_t rseq)
{
    if (!a->open) {
        a->open = true;
        a->first = idx;
        epoch_start(&a->cur, idx, rseq, idx);
        return;
    }
    tw_epoch_t *e = &a->cur;
    uint64_t gap = idx - e->last - 1;
    bool again = seen_again(e, rseq);
    if ((uint64_t)rseq <= gap || again) {
        epoch_close(a, gap);
        a->prev = *e;
        a->have_prev = true;
        /* A number seen again: a restart for sure, not to be read as none. */
        a->certain = again;
        a->restart_lost += gap;
        a->restarts++;
        epoch_start(e, idx, rseq, gap);
        /* Numbered after more requests than the gap holds: later ones
         * overtook it, the epoch starts out of order. */
        if ((uint64_t)rseq > gap)
            e->ext = (uint32_t)(rseq - gap);
        return;
    }
    if (gap) {
        struct tw_gap g = {e->last + 1, idx - 1};
        if (e->ngaps < TW_EPOCH_GAPS)
            e->head[e->ngaps] = g;
        e->tail[e->ngaps % TW_EPOCH_GAPS] = g;
        e->ngaps++;
    }
    e->recent[e->n % TW_EPOCH_RECENT] = rseq;
    e->last = idx;
    e->n++;
    if (rseq < e->rmax && e->rmax - rseq > e->ext)
        e->ext = e->rmax - rseq;
    if (rseq < e->rmin)
        e->rmin = rseq;
    if (rseq > e->rmax)
        e->rmax = rseq;
}

static struct tw_stats_slot *slot(tw_stats_t *s, uint32_t k)
{
    return &s->win[(s->w0 + k) % TW_STATS_WINDOW];
}

/* Place a reply in the window, in our sequence order; the oldest one leaves
 * it for the epochs when it is full. */
static void win_insert(tw_stats_t *s, uint64_t idx, uint32_t rseq)
{
    if (s->wn == TW_STATS_WINDOW) {
        const struct tw_stats_slot *f = slot(s, 0);
        acc_feed(&s->acc, f->idx, f->rseq);
        s->w0 = (s->w0 + 1) % TW_STATS_WINDOW;
        s->wn--;
    }
    /* Behind a reply already counted, or a second reply to one packet. */
    if (s->acc.open && idx <= s->acc.cur.last) {
        s->unplaced++;
        return;
    }
    uint32_t k = s->wn;
    while (k > 0 && slot(s, k - 1)->idx > idx)
        k--;
    if (k > 0 && slot(s, k - 1)->idx == idx) {
        s->unplaced++;
        return;
    }
    for (uint32_t j = s->wn; j > k; j--)
        *slot(s, j) = *slot(s, j - 1);
    *slot(s, k) = (struct tw_stats_slot){idx, rseq};
    s->wn++;
}

/* Our index of sequence number sseq over the run (sequence numbers wrap at
 * 2^32): the nearest to the latest one. */
static void loss_add(tw_stats_t *s, uint32_t rseq, uint32_t sseq)
{
    uint64_t idx;
    if (s->received == 0) {
        idx = sseq;
        s->hi = idx;
    } else {
        int32_t d = (int32_t)(sseq - (uint32_t)s->hi);
        if (d > 0) {
            idx = s->hi + (uint64_t)d;
            s->hi = idx;
        } else if ((uint64_t)(-(int64_t)d) > s->hi) {
            s->unplaced++; /* before the first packet of the run */
            return;
        } else {
            idx = s->hi - (uint64_t)(-(int64_t)d);
        }
    }
    win_insert(s, idx, rseq);
}

void tw_stats_add(tw_stats_t *s, int64_t rt_ns, int64_t ob_ns, int64_t ib_ns, uint32_t rseq,
                  uint32_t sseq)
{
    dir_add(&s->roundtrip, rt_ns);
    if (ob_ns != TW_DELAY_NA)
        dir_add(&s->outbound, ob_ns);
    if (ib_ns != TW_DELAY_NA)
        dir_add(&s->inbound, ib_ns);
    if (s->received == 0 || rseq > s->max_rseq)
        s->max_rseq = rseq;
    if (rseq != sseq)
        s->stateless = false;
    loss_add(s, rseq, sseq);
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
    into->unusable += from->unusable;
    if (!from->stateless)
        into->stateless = false;
}

tw_loss_t tw_stats_loss(const tw_stats_t *s, uint64_t sent)
{
    tw_loss_t l;
    memset(&l, 0, sizeof l);
    l.roundtrip = s->received >= sent ? 0 : sent - s->received;
    if (s->received == 0) {
        l.unattributed = l.roundtrip;
        l.unknown = l.roundtrip ? TW_LOSS_EDGES : 0;
        return l;
    }
    tw_lossacc_t a = s->acc;
    for (uint32_t k = 0; k < s->wn; k++) {
        const struct tw_stats_slot *w = &s->win[(s->w0 + k) % TW_STATS_WINDOW];
        acc_feed(&a, w->idx, w->rseq);
    }
    if (!a.open) {
        /* No reply of its own (a total of tw_stats_merge): no direction. */
        l.unattributed = l.roundtrip;
        l.unknown = l.roundtrip ? TW_LOSS_EDGES : 0;
        return l;
    }
    epoch_close(&a, sent > s->hi + 1 ? sent - (s->hi + 1) : 0);
    l.restarts = a.restarts;
    if (l.roundtrip == 0)
        return l; /* nothing lost either way */

    uint64_t out = a.outbound, in = a.inbound;
    uint64_t edges = a.first + (sent > s->hi + 1 ? sent - (s->hi + 1) : 0);
    if (edges)
        l.unknown |= TW_LOSS_EDGES;
    if (a.restart_lost)
        l.unknown |= TW_LOSS_RESTART;
    if (a.reorder_unsure)
        l.unknown |= TW_LOSS_REORDERED;
    if (s->stateless && s->received > 1) {
        /* Our own numbers back: a stateless reflector, or a stateful one
         * that lost nothing on the way out. No telling which. */
        l.unknown |= TW_LOSS_STATELESS;
        out = in = 0;
    }
    if (s->recounted && in) {
        /* A request duplicated on its way took a second number, which may
         * look like a reply lost on the way back. */
        l.unknown |= TW_LOSS_DUPLICATED;
        in -= s->recounted < in ? s->recounted : in;
    }
    if (s->unplaced) {
        /* Counted lost before it came: each may be in either figure. */
        l.unknown |= TW_LOSS_REORDERED;
        out -= s->unplaced < out ? s->unplaced : out;
        in -= s->unplaced < in ? s->unplaced : in;
    }
    /* Never more than the round trip, whatever a caller's `sent`. */
    if (out > l.roundtrip)
        out = l.roundtrip;
    if (in > l.roundtrip - out)
        in = l.roundtrip - out;
    l.outbound = out;
    l.inbound = in;
    l.unattributed = l.roundtrip - out - in;
    if (l.unattributed && !l.unknown)
        l.unknown = TW_LOSS_EDGES; /* (a caller's `sent` below what was answered) */
    return l;
}

void tw_loss_add(tw_loss_t *into, const tw_loss_t *l)
{
    into->roundtrip += l->roundtrip;
    into->outbound += l->outbound;
    into->inbound += l->inbound;
    into->unattributed += l->unattributed;
    into->unknown |= l->unknown;
    into->restarts += l->restarts;
}

const char *tw_loss_reason_code(unsigned bit)
{
    switch (bit) {
    case TW_LOSS_EDGES:
        return "edges";
    case TW_LOSS_RESTART:
        return "counter_restart";
    case TW_LOSS_STATELESS:
        return "stateless";
    case TW_LOSS_DUPLICATED:
        return "duplicated";
    case TW_LOSS_REORDERED:
        return "reordered";
    }
    return NULL;
}

const char *tw_loss_reason_text(const tw_loss_t *l, char *buf, size_t len)
{
    size_t n = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < len) {                                                                             \
            int r_ = snprintf(buf + n, len - n, "%s", n ? "; " : "");                              \
            n += r_ > 0 ? (size_t)r_ : 0;                                                          \
        }                                                                                          \
        if (n < len) {                                                                             \
            int r_ = snprintf(buf + n, len - n, __VA_ARGS__);                                      \
            n += r_ > 0 ? (size_t)r_ : 0;                                                          \
        }                                                                                          \
    } while (0)
    if (l->unknown & TW_LOSS_EDGES)
        ADD("lost before the first reply or after the last one, where the reflector's count is "
            "unknown");
    if ((l->unknown & TW_LOSS_RESTART) && l->restarts)
        ADD("lost where the reflector's sequence counter restarted or may have (%llu restart%s; "
            "a reflector restarts the count of a sender idle too long)",
            (unsigned long long)l->restarts, l->restarts == 1 ? "" : "s");
    else if (l->unknown & TW_LOSS_RESTART)
        ADD("lost where the reflector's sequence counter did not count our requests one by one");
    if (l->unknown & TW_LOSS_STATELESS)
        ADD("every reply carried our own sequence number: a stateless reflector, or no request "
            "lost on the way out, no telling which");
    if (l->unknown & TW_LOSS_DUPLICATED)
        ADD("requests duplicated on the way were counted twice by the reflector");
    if (l->unknown & TW_LOSS_REORDERED)
        ADD("requests reached the reflector out of order (or replies came back too far out of "
            "order to be placed): losses next to them could be either way");
#undef ADD
    return buf;
}
