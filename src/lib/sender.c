#include "sender.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "ntptime.h"
#include "wire.h"

/* Outstanding packets remembered for matching: a ring indexed by sequence number. */
#define RING_BITS 17
#define RING_SIZE (1u << RING_BITS)
#define RX_BUFSIZE TW_RX_BUFSIZE

struct sent_rec {
    uint32_t seq;
    bool used, answered, t1_kernel;
    uint64_t wire_ts; /* the Timestamp as sent: a reply must echo it */
    tw_time_t t1;
};

/* twampy's IMIX paddings, 7:4:1 of 64, 590 and 1514-octet frames. */
static const int imix_v4[12] = {8, 8, 8, 8, 8, 8, 8, 534, 534, 534, 534, 1458};
static const int imix_v6[12] = {0, 0, 0, 0, 0, 0, 0, 514, 514, 514, 514, 1438};

struct tw_sender {
    tw_sender_cfg_t cfg;
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_batch_t *batch;
    uint8_t *txbuf;
    struct sent_rec *ring;
    uint32_t *txmap;  /* kernel transmit-timestamp id -> sequence number */
    uint32_t txid;    /* id of the next datagram the kernel will stamp */
    bool tx_stamping; /* the kernel gives transmit timestamps */
    tw_timer_t send_timer, end_timer;
    int64_t start_mono;
    uint32_t next; /* next sequence number to send */
    bool done, started;
    uint64_t rng;
    tw_sender_result_t res;
    char peer[TW_ADDRSTRLEN];
};

size_t tw_sender_packet_len(bool stamp, int padding)
{
    if (padding < 0)
        return 0;
    size_t len = TW_SENDER_MIN_LEN + (size_t)padding;
    if (!stamp)
        return len;
    if (len <= TW_STAMP_BASE_LEN)
        return TW_STAMP_BASE_LEN;
    if (len < TW_STAMP_BASE_LEN + TW_TLV_HDR_LEN)
        return 0;
    return len;
}

static uint32_t rand32(tw_sender_t *s)
{
    /* xorshift64*: enough to pick an IMIX size, no need for a crypto RNG. */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (uint32_t)((s->rng * 2685821657736338717ull) >> 32);
}

static size_t next_len(tw_sender_t *s)
{
    int pad = s->cfg.padding;
    if (pad == TW_PADDING_IMIX) {
        const int *mix = s->cfg.remote.ss_family == AF_INET6 ? imix_v6 : imix_v4;
        pad = mix[rand32(s) % 12];
    }
    size_t len = tw_sender_packet_len(s->cfg.stamp, pad);
    return len ? len : TW_STAMP_BASE_LEN + TW_TLV_HDR_LEN;
}

static void finish(tw_sender_t *s)
{
    if (s->done)
        return;
    s->done = true;
    tw_timer_cancel(s->loop, &s->send_timer);
    tw_timer_cancel(s->loop, &s->end_timer);
    if (s->cfg.on_done)
        s->cfg.on_done(s->cfg.on_done_arg);
}

static void on_end_timer(void *arg)
{
    tw_sender_t *s = arg;
    tw_info("Receive timeout for last packet (don't wait anymore)");
    finish(s);
}

static int send_one(tw_sender_t *s)
{
    size_t len = next_len(s);
    tw_errest_t ee = tw_clock_errest(false);
    tw_sender_pkt_t pkt = {.seq = s->next, .errest = tw_errest_encode(&ee), .ssid = s->cfg.ssid};
    struct sent_rec *rec = &s->ring[s->next & (RING_SIZE - 1)];
    /* t1 as late as possible: read the clock right before the send. */
    tw_time_t t1 = tw_now();
    pkt.timestamp = tw_time_to_ntp(t1);
    tw_sender_encode(&pkt, s->cfg.stamp, s->txbuf, len);
    ssize_t r =
        sendto(s->fd, s->txbuf, len, 0, (struct sockaddr *)&s->cfg.remote, s->cfg.remote_len);
    if (r < 0) {
        int e = errno;
        if (e == EMSGSIZE) {
            s->res.fatal_errno = e;
            snprintf(s->res.fatal, sizeof s->res.fatal,
                     "a %zu-octet test packet is too big to send to %s%s", len, s->peer,
                     s->cfg.sockopts.df ? " with do-not-fragment (the path MTU is smaller)" : "");
            return -1;
        }
        s->res.send_errors++;
        if (s->res.send_errors == 1)
            tw_warn("cannot send to %s: %s", s->peer, strerror(e));
        /* The packet counts as sent and lost: the schedule goes on. */
    }
    *rec = (struct sent_rec){.seq = s->next, .used = true, .wire_ts = pkt.timestamp, .t1 = t1};
    if (r >= 0 && s->tx_stamping)
        s->txmap[s->txid++ & (RING_SIZE - 1)] = s->next;
    tw_info("Sent to %s [sseq=%u]", s->peer, s->next);
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "transmit", s->txbuf, len);
    s->next++;
    s->res.sent++;
    return 0;
}

static void on_send_timer(void *arg)
{
    tw_sender_t *s = arg;
    int64_t now = tw_mono_now();
    /* Send every packet that is due: the schedule is absolute, so a late wake-up
     * never shifts the packets after it. */
    while (s->next < s->cfg.count && s->start_mono + (int64_t)s->next * s->cfg.interval_ns <= now) {
        if (send_one(s) < 0) {
            tw_error("%s", s->res.fatal);
            finish(s);
            return;
        }
    }
    if (s->next < s->cfg.count) {
        tw_timer_set(s->loop, &s->send_timer, s->start_mono + (int64_t)s->next * s->cfg.interval_ns,
                     on_send_timer, s);
    } else if (s->res.stats.received >= s->cfg.count) {
        finish(s);
    } else {
        tw_timer_set(s->loop, &s->end_timer, now + s->cfg.timeout_ns, on_end_timer, s);
    }
}

static void handle_reply(tw_sender_t *s, tw_pkt_t *p)
{
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "received", p->buf, p->len);
    tw_reflector_pkt_t rep;
    if (tw_reflector_decode(p->buf, p->len, &rep) != TW_WIRE_OK) {
        s->res.short_replies++;
        tw_info("short packet received: %zu bytes", p->len);
        return;
    }
    struct sent_rec *rec = &s->ring[rep.sender_seq & (RING_SIZE - 1)];
    if (!rec->used || rec->seq != rep.sender_seq || rec->wire_ts != rep.sender_time ||
        rep.sender_seq >= s->next) {
        s->res.unmatched++;
        char a[TW_ADDRSTRLEN];
        tw_info("Unmatched reply from %s [sseq=%u]",
                tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), rep.sender_seq);
        return;
    }
    if (rec->answered) {
        s->res.duplicates++;
        tw_info("Duplicate reply [sseq=%u]", rep.sender_seq);
        return;
    }
    rec->answered = true;
    tw_time_t t4 = p->rx_time;
    if (t4 - rec->t1 > s->cfg.timeout_ns) {
        s->res.late++;
        tw_info("Late reply [sseq=%u] after %.3f s: counted, not measured", rep.sender_seq,
                (double)(t4 - rec->t1) / 1e9);
        return;
    }
    if (p->rx_kernel)
        s->res.rx_kernel++;
    tw_errest_t ree = tw_errest_decode(rep.errest);
    tw_time_t t1 = rec->t1;
    tw_time_t t2 =
        ree.ptp ? tw_ptp_to_time(rep.rx_time, tw_clock_tai_offset()) : tw_ntp_to_time(rep.rx_time);
    tw_time_t t3 = ree.ptp ? tw_ptp_to_time(rep.timestamp, tw_clock_tai_offset())
                           : tw_ntp_to_time(rep.timestamp);
    int64_t rt = (t4 - t1) - (t3 - t2), ob = t2 - t1, ib = t4 - t3;
    tw_stats_add(&s->res.stats, rt, ob, ib, rep.seq, rep.sender_seq);
    tw_sample_t smp = {
        .seq = rep.sender_seq,
        .rseq = rep.seq,
        .t1 = t1,
        .t2 = t2,
        .t3 = t3,
        .t4 = t4,
        .ttl_out = rep.sender_ttl,
        .ttl_in = p->ttl,
        .remote_sync = ree.sync,
    };
    tw_metrics_add(&s->res.metrics, &smp);
    if (tw_log_on(TW_LOG_INFO)) {
        char a[TW_ADDRSTRLEN];
        tw_info("Reply from %s [rseq=%u sseq=%u rtt=%.2fms outbound=%.2fms inbound=%.2fms]",
                tw_addr_ip_str((struct sockaddr *)&p->peer, a, sizeof a), rep.seq, rep.sender_seq,
                (double)rt / 1e6, (double)ob / 1e6, (double)ib / 1e6);
    }
    if (s->next >= s->cfg.count && s->res.stats.received >= s->cfg.count) {
        tw_info("All packets received back");
        finish(s);
    }
}

/* The kernel's transmit timestamp of datagram id replaces the user-space t1:
 * it is taken after the IP stack, right where the packet leaves. */
static void on_tx_timestamp(void *arg, uint32_t id, tw_time_t ts)
{
    tw_sender_t *s = arg;
    uint32_t seq = s->txmap[id & (RING_SIZE - 1)];
    struct sent_rec *rec = &s->ring[seq & (RING_SIZE - 1)];
    if (!rec->used || rec->seq != seq || rec->t1_kernel || rec->answered)
        return;
    rec->t1 = ts;
    rec->t1_kernel = true;
    s->res.tx_kernel++;
}

static void on_readable(void *arg, uint32_t events)
{
    tw_sender_t *s = arg;
    /* Transmit timestamps first, so a reply always meets its packet's. */
    if (s->tx_stamping)
        tw_tx_timestamps_read(s->fd, on_tx_timestamp, s);
    for (;;) {
        int n = tw_recv_batch(s->fd, s->batch);
        if (n <= 0)
            return;
        for (int i = 0; i < n && !s->done; i++)
            handle_reply(s, tw_batch_pkt(s->batch, i));
        if (s->done)
            return;
    }
}

int tw_sender_open(tw_sender_t **out, const tw_sender_cfg_t *cfg, tw_loop_t *loop, char *err,
                   size_t errlen)
{
    tw_sender_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    s->loop = loop;
    s->fd = -1;
    tw_stats_init(&s->res.stats);
    tw_errest_t local = tw_clock_errest(false);
    if (tw_metrics_init(&s->res.metrics, local.sync) < 0) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return -1;
    }
    s->rng = (uint64_t)tw_mono_now() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
    tw_addr_str((struct sockaddr *)&cfg->remote, s->peer, sizeof s->peer);
    s->ring = calloc(RING_SIZE, sizeof *s->ring);
    s->txmap = calloc(RING_SIZE, sizeof *s->txmap);
    s->txbuf = calloc(1, TW_MAX_PACKET_LEN);
    s->batch = tw_batch_new(16, RX_BUFSIZE);
    if (!s->ring || !s->txmap || !s->txbuf || !s->batch) {
        snprintf(err, errlen, "out of memory");
        tw_sender_close(s);
        return -1;
    }
    s->fd =
        tw_udp_open((struct sockaddr *)&cfg->local, cfg->local_len, &cfg->sockopts, err, errlen);
    if (s->fd < 0) {
        tw_sender_close(s);
        return -1;
    }
    s->tx_stamping = tw_tx_timestamps_enable(s->fd) == 0;
    if (!s->tx_stamping)
        tw_info("no kernel transmit timestamps (%s): t1 is read before each send", strerror(errno));
    if (tw_loop_add(loop, &s->watch, s->fd, EPOLLIN, on_readable, s) < 0) {
        snprintf(err, errlen, "cannot watch the sender socket: %s", strerror(errno));
        tw_sender_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int tw_sender_local(const tw_sender_t *s, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(s->fd, (struct sockaddr *)ss, len);
}

void tw_sender_set_remote(tw_sender_t *s, const struct sockaddr *sa, socklen_t len)
{
    memcpy(&s->cfg.remote, sa, len);
    s->cfg.remote_len = len;
    tw_addr_str(sa, s->peer, sizeof s->peer);
}

void tw_sender_start(tw_sender_t *s)
{
    s->started = true;
    s->start_mono = tw_mono_now();
    on_send_timer(s);
}

void tw_sender_stop(tw_sender_t *s)
{
    if (s->done)
        return;
    s->res.interrupted = true;
    finish(s);
}

bool tw_sender_done(const tw_sender_t *s)
{
    return s->done;
}

const tw_sender_result_t *tw_sender_result(const tw_sender_t *s)
{
    return &s->res;
}

void tw_sender_close(tw_sender_t *s)
{
    if (!s)
        return;
    tw_timer_cancel(s->loop, &s->send_timer);
    tw_timer_cancel(s->loop, &s->end_timer);
    if (s->fd >= 0) {
        tw_loop_del(s->loop, &s->watch);
        close(s->fd);
    }
    tw_batch_free(s->batch);
    free(s->ring);
    free(s->txmap);
    tw_metrics_free(&s->res.metrics);
    free(s->txbuf);
    free(s);
}
