#include "reflector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counter.h"
#include "addr.h"
#include "control_wire.h"
#include "log.h"
#include "ntptime.h"
#include "peertable.h"
#include "ratelimit.h"
#include "stamp_tlv.h"
#include "testfmt.h"
#include "wire.h"

/* Receive buffer per packet: the largest test packet plus room to see it is larger. */
#define RX_BUFSIZE TW_RX_BUFSIZE

/* Replies go to the kernel in chunks of this many, each stamped with a fresh
 * clock reading right before its sendmmsg (see send_replies). */
#define SEND_CHUNK 8

/* Per-sender state lives in a tw_peertable: slot val is the next reflector
 * sequence number, last_seen the tw_mono_now() of the last request. The key
 * is the same for TWAMP light and for STAMP with SSID 0: a zero-padded TWAMP
 * light sender whose requests are sometimes shorter than 44 octets (taken for
 * TWAMP light) and sometimes longer (taken for STAMP, SSID 0) keeps one count. */

/* What the STAMP TLVs need besides the request (RFC 8972 §4.2-§4.8). The
 * Follow-Up Telemetry TLV (§4.7) reports when the previous reply to a sender
 * really left: the kernel's transmit timestamps are turned on at the first
 * such TLV (OPT_ID: the n-th datagram sent after that has id n - 1), the
 * replies that carried one are remembered by id in txring, and when the
 * timestamp comes it is kept per sender in fu[] (indexed like the sender
 * table's slots). Nothing of this costs a request without TLVs. */
#define TX_RING 256
struct fu_slot {
    uint32_t rseq;
    tw_time_t sent; /* kernel software transmit timestamp */
    bool valid;
};
struct tx_note {
    uint32_t id, slot, rseq;
    tw_peer_key_t key;
    bool used;
};
struct tlv_state {
    uint16_t lport; /* the reflector's port (host order) */
    int lfamily;    /* its bound address, when not a wildcard */
    uint8_t laddr[16];
    bool txts;              /* transmit timestamps on */
    bool rx_tos;            /* the kernel reports each request\'s TOS (CoS TLV) */
    uint32_t tx_id;         /* the next datagram's OPT_ID */
    struct fu_slot *fu;     /* per sender slot, allocated with txts */
    struct tx_note *txring; /* TX_RING notes, allocated with txts */
    tw_log_pacer_t pacer;
};

/* The batch being answered: what each request's reply still needs. */
struct pending {
    tw_sender_pkt_t req;
    tw_reflector_pkt_t rep; /* the reply's header, t3 still to come */
    uint32_t seq;           /* the reflector's sequence number */
    bool stamp;             /* STAMP (else TWAMP) layout */
    bool ptp;               /* t3 in PTP format (else NTP) */
    uint8_t tos;            /* the request's TOS as received (RFC 7750) */
    tw_peer_slot_t *slot;   /* the sender's state (stateful), or NULL */
    bool fresh;             /* the slot's counter started again with this request */
    bool fu;                /* a Follow-Up Telemetry TLV: keep the reply's TX time */
};

/* One batch's scratch per thread, not per reflector (64 entries, 6.6 KB: a
 * TWAMP server holds a reflector per session). A reflector answers a batch
 * from receive to send without returning to the loop, and the reflectors of
 * one thread (one worker's loop) never run at once. */
static struct pending *pend_scratch(void)
{
    static _Thread_local struct pending pend[TW_BATCH];
    return pend;
}

struct tw_reflector {
    tw_reflector_cfg_t cfg;
    tw_testfmt_t fmt; /* the format it checks and answers, its keys */
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_batch_t *batch;
    bool own_batch;
    int tai; /* TAI - UTC, for PTP timestamps */
    bool active;
    tw_reflector_counters_t ctr;
    tw_peertable_t senders;
    tw_ratelimit_t rl;
    bool rate_limit;
    tw_errest_cache_t errest; /* of the clock */
    tw_log_pacer_t fl_pacer;  /* replies without their flow label */
    struct tlv_state tlv;     /* STAMP TLVs (RFC 8972): see answer_tlvs */
};

/* The same IP address (an IPv4-mapped IPv6 address equals its IPv4 form). */
static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    tw_peer_key_t ka, kb;
    tw_peer_key_of(&ka, a, false, 0, 0);
    tw_peer_key_of(&kb, b, false, 0, 0);
    return ka.family == kb.family && !memcmp(ka.addr, kb.addr, 16);
}

/* STAMP's MBZ octets 16..43 of a Session-Sender packet (len >= 44) are zero. */
static bool stamp_mbz_zero(const uint8_t *buf)
{
    static const uint8_t zero[TW_STAMP_BASE_LEN - 16];
    return memcmp(buf + 16, zero, sizeof zero) == 0;
}

/* Is this unauthenticated request STAMP (else TWAMP light)? */
static bool is_stamp(const tw_reflector_t *r, const tw_pkt_t *p)
{
    switch (r->cfg.format) {
    case TW_FORMAT_TWAMP:
        return false;
    case TW_FORMAT_STAMP:
        return true;
    default:
        return p->len >= TW_STAMP_BASE_LEN && stamp_mbz_zero(p->buf);
    }
}

static void next_seq(tw_reflector_t *r, const tw_pkt_t *p, int64_t mono, struct pending *q);

/* RFC 6038 §5.2.1: the request's Packet Padding (to be reflected) into the
 * reply's Packet Padding, before the reply's header is written over the
 * request. p->buf is zero-filled up to rlen >= reflect_to + reflect_len, and
 * reflect_from <= reflect_to: the octets read are within the reply. */
static void reflect_octets(const tw_reflector_t *r, tw_pkt_t *p)
{
    memmove(p->buf + r->cfg.reflect_to, p->buf + r->cfg.reflect_from, r->cfg.reflect_len);
}

/* The smallest reply of the session: the format's, or room for the reflected
 * octets (RFC 6038 §5.2.1: they MUST come back). */
static size_t min_reply(const tw_reflector_t *r, size_t min)
{
    size_t want = r->cfg.reflect_len ? (size_t)r->cfg.reflect_to + r->cfg.reflect_len : 0;
    return want > min ? want : min;
}

static void answer_tlvs(tw_reflector_t *r, tw_pkt_t *p, struct pending *q, size_t off, size_t end);
static bool prepare_auth_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, struct pending *q);

/* First pass over one request: check it, pick the reflector's sequence number and
 * prepare the reply's length and trailer in place. Returns false to drop it. */
static bool prepare_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, struct pending *q)
{
    TW_CTR_INC(r->ctr.received);
    if (!r->active) {
        TW_CTR_INC(r->ctr.inactive);
        return false;
    }
    if (!tw_acl_allows(r->cfg.allow, (struct sockaddr *)&p->peer)) {
        TW_CTR_INC(r->ctr.denied);
        return false;
    }
    if (r->cfg.only_from.ss_family != AF_UNSPEC && !same_host(&r->cfg.only_from, &p->peer)) {
        TW_CTR_INC(r->ctr.foreign);
        if (tw_log_on(TW_LOG_INFO)) {
            char a[TW_ADDRSTRLEN];
            tw_info("Dropped a packet from %s: not this session's sender",
                    tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a));
        }
        return false;
    }
    if (r->rate_limit && !tw_ratelimit_allow(&r->rl, &p->peer, mono)) {
        TW_CTR_SET(r->ctr.rate_limited, r->rl.refused);
        return false;
    }
    if (p->trunc)
        TW_CTR_INC(r->ctr.truncated);
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "received", p->buf, p->len);
    if (r->fmt.kind != TW_TESTFMT_OPEN)
        return prepare_auth_reply(r, p, mono, q);
    if (tw_sender_decode(p->buf, p->len, &q->req) != TW_WIRE_OK) {
        TW_CTR_INC(r->ctr.too_short);
        if (tw_log_on(TW_LOG_INFO)) {
            char a[TW_ADDRSTRLEN];
            tw_info("Dropped %zu-octet packet from %s (shorter than %d octets)", p->len,
                    tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), TW_SENDER_MIN_LEN);
        }
        return false;
    }
    bool stamp = q->stamp = is_stamp(r, p);
    /* The reply: the request's length, or the format's minimum (RFC 5357
     * §4.2.1: 41; RFC 8762 §4.3.1: 44) when it is shorter. */
    size_t min =
        stamp ? TW_STAMP_BASE_LEN
              : min_reply(r, r->cfg.dscp_ecn ? TW_REFLECTOR_DSCP_ECN_LEN : TW_REFLECTOR_BASE_LEN);
    if (p->cap < min)
        return false; /* no room for the reply (not with twampy's buffers) */
    size_t rlen = p->len > min ? p->len : min;
    if (rlen > p->cap)
        rlen = p->cap;
    if (p->len < rlen)
        memset(p->buf + p->len, 0, rlen - p->len);
    if (!stamp)
        q->req.ssid = 0; /* octets 14..15 are TWAMP padding */
    if (!stamp && r->cfg.reflect_len)
        reflect_octets(r, p);
    next_seq(r, p, mono, q);
    q->fu = false;
    if (stamp && p->len > TW_STAMP_BASE_LEN)
        answer_tlvs(r, p, q, TW_STAMP_BASE_LEN, p->len);
    p->len = rlen;
    return true;
}

/* The reflector's sequence number for this request: the sender's own when
 * stateless, else the next of its sender: address and port (TWAMP), address,
 * port and SSID (STAMP). */
static void next_seq(tw_reflector_t *r, const tw_pkt_t *p, int64_t mono, struct pending *q)
{
    q->slot = NULL;
    if (r->cfg.stateless) {
        q->seq = q->req.seq;
        return;
    }
    bool stamp = q->stamp;
    tw_peer_key_t k;
    tw_peer_key_of(&k, &p->peer, true, stamp ? q->req.ssid : 0, 0);
    bool fresh;
    tw_peer_slot_t *s = tw_peertable_get(&r->senders, &k, mono, &fresh);
    TW_CTR_SET(r->ctr.senders_evicted, r->senders.evictions);
    if (!fresh && mono - s->last_seen > r->cfg.idle_reset_ns) {
        tw_info("reset rseq:=0   (session timeout, %gs)",
                (double)r->cfg.idle_reset_ns / (double)TW_NS_PER_SEC);
        s->val = 0;
    } else if (!fresh && q->req.seq == 0) {
        tw_info("reset rseq:=0   (received sseq==0)");
        s->val = 0;
    } else if (fresh) {
        tw_info("set rseq:=0     (new remote address/port%s)", stamp ? "/SSID" : "");
    }
    s->last_seen = mono;
    q->slot = s;
    q->fresh = s->val == 0;
    q->seq = (uint32_t)s->val;
    s->val = (uint32_t)(s->val + 1);
}

/* The protected formats' first pass: the request must be long enough for its
 * format and pass its HMAC check (in encrypted mode it is decrypted then)
 * before anything in it is read; a request that fails is counted and dropped.
 * The reply's length: TWAMP max(request, 112) (RFC 5357 §4.2.1: the 112-octet
 * format, its padding cut by what the longer header takes), STAMP the request's
 * (>= 112, TLVs from 112 reflected). */
static bool prepare_auth_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, struct pending *q)
{
    bool stamp = q->stamp = r->fmt.kind == TW_TESTFMT_STAMP_AUTH;
    size_t min = stamp ? TW_STAMP_AUTH_BASE_LEN : TW_SENDER_AUTH_LEN;
    char a[TW_ADDRSTRLEN];
    if (p->len < min) {
        TW_CTR_INC(r->ctr.unauthenticated);
        tw_info("Dropped %zu-octet packet from %s: shorter than the %zu-octet authenticated "
                "format",
                p->len, tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), min);
        return false;
    }
    int rc = tw_testfmt_sender_open(&r->fmt, p->buf, p->len);
    if (rc < 0) {
        TW_CTR_INC(r->ctr.integrity);
        tw_info("Dropped %zu-octet packet from %s: %s", p->len,
                tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), tw_auth_strerror(rc));
        return false;
    }
    size_t rlen = p->len > p->cap ? p->cap : p->len;
    size_t rmin = stamp ? TW_REFLECTOR_AUTH_LEN : min_reply(r, TW_REFLECTOR_AUTH_LEN);
    if (rlen < rmin) {
        if (p->cap < rmin)
            return false; /* no room for the reply (not with twampy's buffers) */
        memset(p->buf + rlen, 0, rmin - rlen);
        rlen = rmin;
    }
    tw_sender_decode_auth(p->buf, p->len, stamp, &q->req);
    if (!stamp && r->cfg.reflect_len)
        reflect_octets(r, p);
    next_seq(r, p, mono, q);
    q->fu = false;
    if (stamp && rlen > TW_STAMP_AUTH_BASE_LEN)
        answer_tlvs(r, p, q, TW_STAMP_AUTH_BASE_LEN, rlen);
    p->len = rlen;
    return true;
}

/* Second pass over one reply: every header field but t3. The open formats
 * get it written now with t3 zero (stamp_reply fills t3 in); the protected ones
 * keep it in q->rep until stamp_reply, as t3 goes under their HMAC. */
static void finish_reply(tw_reflector_t *r, tw_pkt_t *p, struct pending *q, uint16_t errest)
{
    /* A sender that uses PTP timestamps (Z = 1, RFC 8186 / RFC 8762 §4.2.1)
     * gets them back in PTP format; otherwise NTP. */
    const tw_sender_pkt_t *req = &q->req;
    bool ptp = q->ptp = (req->errest & 0x4000) != 0;
    q->rep = (tw_reflector_pkt_t){
        .seq = q->seq,
        .errest = (uint16_t)(ptp ? errest | 0x4000 : errest & ~0x4000),
        .ssid = req->ssid,
        .rx_time = ptp ? tw_time_to_ptp(p->rx_time, r->tai) : tw_time_to_ntp(p->rx_time),
        .sender_seq = req->seq,
        .sender_time = req->timestamp,
        .sender_errest = req->errest,
        .sender_ttl = (uint8_t)(p->ttl < 0 ? 0 : p->ttl),
    };
    q->tos = (uint8_t)(p->tos < 0 ? 0 : p->tos);
    if (r->fmt.kind == TW_TESTFMT_OPEN) {
        tw_reflector_encode(&q->rep, q->stamp, p->buf, p->len);
        if (r->cfg.dscp_ecn && !q->stamp) {
            /* RFC 7750 section 2.2.1: S-DSCP-ECN, then MBZ (2). */
            p->buf[TW_S_DSCP_ECN_OFF] = q->tos;
            p->buf[TW_S_DSCP_ECN_OFF + 1] = p->buf[TW_S_DSCP_ECN_OFF + 2] = 0;
        }
    }
    if (tw_log_on(TW_LOG_INFO)) {
        char a[TW_ADDRSTRLEN];
        tw_info("Request from %s [sseq=%u rseq=%u ttl=%d outbound=%.2fms]",
                tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), req->seq, q->seq, p->ttl,
                (double)(p->rx_time - tw_ntp_to_time(req->timestamp)) / 1e6);
    }
}

/* Write t3 into a finished reply (and, protected, the HMAC and encryption
 * over it). Returns false when the reply cannot be protected (it is dropped). */
static bool stamp_reply(tw_reflector_t *r, tw_pkt_t *p, struct pending *q, tw_time_t t3)
{
    uint64_t ts = q->ptp ? tw_time_to_ptp(t3, r->tai) : tw_time_to_ntp(t3);
    if (r->fmt.kind == TW_TESTFMT_OPEN) {
        tw_put64(p->buf + 4, ts); /* Timestamp, both layouts (RFC 5357 §4.2.1) */
    } else {
        bool stamp = r->fmt.kind == TW_TESTFMT_STAMP_AUTH;
        q->rep.timestamp = ts;
        tw_reflector_encode_auth(&q->rep, stamp, p->buf, p->len);
        if (r->cfg.dscp_ecn && !stamp)
            p->buf[TW_S_DSCP_ECN_AUTH_OFF] = q->tos; /* RFC 7750 Figure 3 */
        int rc = tw_testfmt_reflector_protect(&r->fmt, p->buf, p->len);
        if (rc < 0) {
            tw_warn("cannot protect a reply: %s", tw_auth_strerror(rc));
            return false;
        }
    }
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "transmit", p->buf, p->len);
    return true;
}

size_t tw_reflector_answer(tw_reflector_t *r, tw_pkt_t *p)
{
    int64_t mono = tw_mono_now();
    struct pending *q = pend_scratch();
    if (!prepare_reply(r, p, mono, q))
        return p->len = 0;
    finish_reply(r, p, q, tw_errest_cached(&r->errest, mono, false));
    if (!stamp_reply(r, p, q, tw_now()))
        return p->len = 0;
    return p->len;
}

static void note_tx_ids(tw_reflector_t *r, const struct pending *pend, int from, int end, int ok,
                        int sent);
static void on_txstamp(void *arg, const tw_txstamp_t *ts);
static void tlv_open(tw_reflector_t *r);

/* Stamp and send the replies of pkt[0..n) (len 0: none) in chunks of
 * SEND_CHUNK, each stamped with a clock reading taken right before it, then
 * sent at once. t3 is never later than the reply leaves (a later t3 would
 * make round trips shorter than the network's, even negative, when the send
 * is slowed); it is early by at most the sends before it in its chunk. One t3
 * read for a whole batch before one sendmmsg was early by every send before
 * it: tens of us at the end of a full batch. */
static void send_replies(tw_reflector_t *r, struct pending *pend, int n)
{
    int want = 0, sent = 0;
    for (int i = 0; i < n;) {
        int m = 0, end = i;
        for (; end < n && m < SEND_CHUNK; end++)
            if (tw_batch_pkt(r->batch, end)->len)
                m++;
        if (!m)
            break;
        tw_time_t t3 = tw_now();
        int ok = 0;
        for (int k = i; k < end; k++) {
            tw_pkt_t *p = tw_batch_pkt(r->batch, k);
            if (!p->len)
                continue;
            if (stamp_reply(r, p, &pend[k], t3))
                ok++;
            else
                p->len = 0;
        }
        int s = ok ? tw_send_replies(r->fd, r->batch, end) : 0;
        if (r->tlv.txts)
            note_tx_ids(r, pend, i, end, ok, s);
        want += ok;
        sent += s > 0 ? s : 0;
        /* Sent: the next chunk's sendmmsg skips them. */
        for (int k = i; k < end; k++)
            tw_batch_pkt(r->batch, k)->len = 0;
        i = end;
    }
    TW_CTR_ADD(r->ctr.reflected, (uint64_t)sent);
    uint32_t unl = tw_batch_take_unlabelled(r->batch);
    if (unl) {
        TW_CTR_ADD(r->ctr.unlabelled, unl);
        tw_log_paced(&r->fl_pacer, TW_LOG_WARN,
                     "replies sent without their request's IPv6 flow label (%llu so far): the "
                     "kernel refused the label, as another process holds an exclusive flow "
                     "label lease in this network namespace",
                     (unsigned long long)r->ctr.unlabelled);
    }
    if (sent < want) {
        TW_CTR_ADD(r->ctr.send_errors, (uint64_t)(want - sent));
        tw_info("%d of %d replies could not be sent", want - sent, want);
    }
}

/* Read and answer one batch: returns the number of datagrams read (0: none
 * waiting), or -1 on a receive error. */
static int serve_batch(tw_reflector_t *r)
{
    int n = tw_recv_batch(r->fd, r->batch);
    if (n <= 0) {
        if (n < 0)
            tw_warn("reflector receive failed: %s", strerror(errno));
        return n;
    }
    int64_t mono = tw_mono_now();
    TW_CTR_SET(r->ctr.last_rx_mono, mono);
    uint16_t errest = tw_errest_cached(&r->errest, mono, false);
    struct pending *pend = pend_scratch();
    for (int i = 0; i < n; i++) {
        tw_pkt_t *p = tw_batch_pkt(r->batch, i);
        if (prepare_reply(r, p, mono, &pend[i]))
            finish_reply(r, p, &pend[i], errest);
        else
            p->len = 0;
    }
    send_replies(r, pend, n);
    return n;
}

static void on_readable(void *arg, uint32_t events)
{
    tw_reflector_t *r = arg;
    if (r->tlv.txts)
        tw_tx_timestamps_read(r->fd, on_txstamp, r);
    for (int rounds = 0; rounds < 16; rounds++) {
        int n = serve_batch(r);
        if (n < 0)
            return;
        if (n < TW_BATCH) {
            /* The queue is empty: back to sleeping in epoll. */
            if (tw_loop_polled(r->loop, &r->watch))
                tw_loop_unpoll(r->loop, &r->watch, EPOLLIN);
            return;
        }
    }
    /* 16 full batches and more waiting: sustained load. Out of the epoll
     * set until a batch comes short, polled on every round of the loop: the
     * packets then queue without epoll's per-packet wake-up (with a fifth
     * of the reflector's kernel time in it on the VMs measured). */
    if (!tw_loop_polled(r->loop, &r->watch))
        tw_loop_poll(r->loop, &r->watch);
}

int tw_reflector_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_loop_t *loop,
                      char *err, size_t errlen)
{
    tw_reflector_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->cfg = *cfg;
    r->fd = -1;
    if (!r->cfg.max_senders)
        r->cfg.max_senders = 1;
    if (!r->cfg.idle_reset_ns)
        r->cfg.idle_reset_ns = 30 * TW_NS_PER_SEC;
    r->loop = loop;
    r->cfg.stamp_key = NULL; /* not kept */
    if (cfg->stamp_key && cfg->format == TW_FORMAT_TWAMP) {
        snprintf(err, errlen, "a STAMP HMAC key and the TWAMP test format do not go together");
        free(r);
        return -1;
    }
    if (cfg->stamp_key) {
        int rc = tw_testfmt_set_stamp_key(&r->fmt, cfg->stamp_key, cfg->stamp_key_len);
        if (rc < 0) {
            snprintf(err, errlen, "cannot set up the STAMP HMAC key: %s", tw_auth_strerror(rc));
            free(r);
            return -1;
        }
    }
    if (cfg->reflect_len && (cfg->reflect_from > cfg->reflect_to ||
                             (size_t)cfg->reflect_to + cfg->reflect_len > TW_MAX_PACKET_LEN)) {
        snprintf(err, errlen, "cannot reflect %u octets from offset %u to offset %u",
                 cfg->reflect_len, cfg->reflect_from, cfg->reflect_to);
        tw_reflector_close(r);
        return -1;
    }
    r->active = !cfg->inactive;
    r->tai = tw_clock_tai_offset();
    if (tw_peertable_init(&r->senders, r->cfg.max_senders) < 0 ||
        (cfg->rate_pps &&
         tw_ratelimit_init(&r->rl, cfg->rate_pps, cfg->rate_burst ? cfg->rate_burst : cfg->rate_pps,
                           r->cfg.max_senders) < 0)) {
        snprintf(err, errlen, "cannot set up the reflector's tables: %s", strerror(errno));
        tw_reflector_close(r);
        return -1;
    }
    r->rate_limit = cfg->rate_pps != 0;
    r->batch = cfg->batch;
    if (!r->batch) {
        r->batch = tw_batch_new(TW_BATCH, RX_BUFSIZE);
        r->own_batch = true;
    }
    if (!r->batch) {
        snprintf(err, errlen, "out of memory");
        tw_reflector_close(r);
        return -1;
    }
    r->fd = tw_udp_open((const struct sockaddr *)&cfg->local, cfg->local_len, &cfg->sockopts, err,
                        errlen);
    if (r->fd < 0) {
        tw_reflector_close(r);
        return -1;
    }
    tlv_open(r);
    /* Every reply carries its request's IPv6 flow label (0 for 0). */
    tw_log_pacer_init(&r->fl_pacer, 1, 60 * TW_NS_PER_SEC);
    if (tw_flowlabel_enable(r->fd) < 0)
        tw_debug("IPv6 flow labels cannot be reflected: %s", strerror(errno));
    if (tw_loop_add(loop, &r->watch, r->fd, EPOLLIN, on_readable, r) < 0) {
        snprintf(err, errlen, "cannot watch the reflector socket: %s", strerror(errno));
        tw_reflector_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void tw_reflector_close(tw_reflector_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0) {
        tw_loop_del(r->loop, &r->watch);
        close(r->fd);
    }
    if (r->own_batch)
        tw_batch_free(r->batch);
    tw_testfmt_free(&r->fmt);
    tw_peertable_free(&r->senders);
    tw_ratelimit_free(&r->rl);
    free(r->tlv.fu);
    free(r->tlv.txring);
    free(r);
}

int tw_reflector_set_security(tw_reflector_t *r, uint32_t mode, tw_test_crypto_t *t)
{
    if (!r || r->cfg.format == TW_FORMAT_STAMP)
        return TW_AUTH_EINVAL;
    return tw_testfmt_set_twamp(&r->fmt, mode, t);
}

void tw_reflector_set_active(tw_reflector_t *r, bool active)
{
    r->active = active;
}

const tw_reflector_counters_t *tw_reflector_counters(const tw_reflector_t *r)
{
    return &r->ctr;
}

uint64_t tw_reflector_probes(const tw_reflector_t *r)
{
    return r->senders.probes + r->rl.table.probes;
}

int tw_reflector_local(const tw_reflector_t *r, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(r->fd, (struct sockaddr *)ss, len);
}

/* ---- STAMP TLVs (RFC 8972) -------------------------------------------------- */

/* The HMAC TLV (§4.8) with the authenticated mode's key. */
static int tlv_hmac(void *arg, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                    uint8_t out[TW_TLV_HMAC_LEN])
{
    tw_reflector_t *r = arg;
    return tw_stamp_tlv_hmac(&r->fmt.sc, seq, tlvs, n, out) == TW_AUTH_OK ? 0 : -1;
}

/* An address as the Location TLV reports it: IPv4 (an IPv4-mapped IPv6 address
 * as its IPv4 form: the packet was IPv4) in the first 4 octets, or IPv6. */
static int addr16(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *port)
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        memcpy(out, &a->sin_addr, 4);
        *port = ntohs(a->sin_port);
        return AF_INET;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        *port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            memcpy(out, a->sin6_addr.s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(out, &a->sin6_addr, 16);
        return AF_INET6;
    }
    *port = 0;
    return 0;
}

static void tlv_open(tw_reflector_t *r)
{
    tw_log_pacer_init(&r->tlv.pacer, 5, 10 * TW_NS_PER_SEC);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(r->fd, (struct sockaddr *)&ss, &len) == 0) {
        r->tlv.lfamily = addr16(&ss, r->tlv.laddr, &r->tlv.lport);
        static const uint8_t any[16];
        if (!memcmp(r->tlv.laddr, any, 16))
            r->tlv.lfamily = 0; /* a wildcard: the packet's pktinfo says */
    }
}

/* Transmit timestamps, for the Follow-Up Telemetry TLV: on at the first one. */
static void tlv_txts_on(tw_reflector_t *r)
{
    if (r->tlv.txts || r->fd < 0)
        return;
    if (!r->tlv.fu)
        r->tlv.fu = calloc(r->senders.capacity, sizeof *r->tlv.fu);
    if (!r->tlv.txring)
        r->tlv.txring = calloc(TX_RING, sizeof *r->tlv.txring);
    if (!r->tlv.fu || !r->tlv.txring || tw_tx_timestamps_enable(r->fd) < 0) {
        tw_log_paced(&r->tlv.pacer, TW_LOG_WARN,
                     "Follow-Up Telemetry TLV: no kernel transmit timestamps (%s): answered "
                     "with zeros",
                     r->tlv.fu && r->tlv.txring ? strerror(errno) : "out of memory");
        return;
    }
    r->tlv.txts = true;
    r->tlv.tx_id = 0;
    memset(r->tlv.txring, 0, TX_RING * sizeof *r->tlv.txring);
}

/* The kernel numbers the datagrams sent since the timestamps went on; a send
 * that failed may or may not have taken a number, so after one the numbering
 * is started again (the option off and on: the counter restarts at 0). */
static void note_tx_ids(tw_reflector_t *r, const struct pending *pend, int from, int end, int ok,
                        int sent)
{
    if (sent < ok) {
        tw_tx_timestamps_read(r->fd, on_txstamp, r);
        int off = 0;
        setsockopt(r->fd, SOL_SOCKET, SO_TIMESTAMPING, &off, sizeof off);
        r->tlv.txts = false;
        tlv_txts_on(r);
        return;
    }
    for (int k = from; k < end; k++) {
        tw_pkt_t *p = tw_batch_pkt(r->batch, k);
        if (!p->len)
            continue;
        uint32_t id = r->tlv.tx_id++;
        const struct pending *q = &pend[k];
        if (!q->fu || !q->slot)
            continue;
        struct tx_note *e = &r->tlv.txring[id % TX_RING];
        e->id = id;
        e->slot = (uint32_t)(q->slot - r->senders.slots);
        e->rseq = q->seq;
        e->key = q->slot->key;
        e->used = true;
    }
}

static void on_txstamp(void *arg, const tw_txstamp_t *ts)
{
    tw_reflector_t *r = arg;
    if (!r->tlv.txring)
        return;
    struct tx_note *e = &r->tlv.txring[ts->id % TX_RING];
    if (!e->used || e->id != ts->id || !ts->sw || !r->tlv.fu)
        return;
    e->used = false;
    const tw_peer_slot_t *s = &r->senders.slots[e->slot];
    if (!s->used || memcmp(&s->key, &e->key, sizeof e->key))
        return; /* the sender was forgotten since */
    r->tlv.fu[e->slot] = (struct fu_slot){.rseq = e->rseq, .sent = ts->sw, .valid = true};
}

/* Answer a STAMP request's TLVs buf[off..end) in place (stamp_tlv.h), with
 * what the reflector knows of this packet and this sender. */
static void answer_tlvs(tw_reflector_t *r, tw_pkt_t *p, struct pending *q, size_t off, size_t end)
{
    tw_tlv_reflect_in_t in;
    memset(&in, 0, sizeof in);
    in.family = addr16(&p->peer, in.src_addr, &in.sport);
    in.dport = r->tlv.lport;
    if (p->pktinfo_family == AF_INET) {
        memcpy(in.dst_addr, &p->pktinfo.v4.ipi_addr, 4);
    } else if (p->pktinfo_family == AF_INET6) {
        const struct in6_addr *a = &p->pktinfo.v6.ipi6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            memcpy(in.dst_addr, a->s6_addr + 12, 4);
        else
            memcpy(in.dst_addr, a, 16);
    } else if (r->tlv.lfamily) {
        memcpy(in.dst_addr, r->tlv.laddr, 16);
    }
    /* §4.3: the clock as the Error Estimate's S bit says (synchronized: to NTP
     * as far as this host can tell, else free-running); t2 from the NIC, the
     * kernel or user space; t3 always a user-space clock read. */
    in.sync_src = (r->errest.value & 0x8000) ? TW_SYNC_NTP : TW_SYNC_LOCAL;
    in.ts_in = p->rx_hw ? TW_TSM_HW : p->rx_kernel ? TW_TSM_SW : TW_TSM_CONTROL;
    in.ts_out = TW_TSM_CONTROL;
    /* §4.4: the TOS as received, asked of the kernel at the first CoS TLV
     * (until then a CoS TLV comes back with U: the reflector cannot say). */
    in.tos = p->tos;
    if (p->tos < 0 && !r->tlv.rx_tos && r->fd >= 0 && tw_recv_tos_enable(r->fd) == 0)
        r->tlv.rx_tos = true;
    /* §4.5: this sender's requests received in this run of its counter (this
     * one included) and the replies sent before this one. */
    in.stateless = q->slot == NULL;
    in.rx_count = q->seq + 1;
    in.tx_count = q->seq;
    if (q->slot && r->tlv.fu) {
        struct fu_slot *f = &r->tlv.fu[q->slot - r->senders.slots];
        if (q->fresh)
            f->valid = false;
        if (f->valid) {
            bool ptp = (q->req.errest & 0x4000) != 0;
            in.fu_valid = true;
            in.fu_seq = f->rseq;
            in.fu_ts = ptp ? tw_time_to_ptp(f->sent, r->tai) : tw_time_to_ntp(f->sent);
            in.fu_method = TW_TSM_SW;
        }
    }
    if (r->fmt.kind == TW_TESTFMT_STAMP_AUTH) {
        in.require_hmac = true;
        in.hmac = tlv_hmac;
        in.hmac_arg = r;
    }
    memcpy(in.req_seq, p->buf, 4);
    tw_put32(in.rep_seq, q->seq);
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(p->buf, off, end, &in, &out);
    if (out.tos >= 0) {
        p->tx_tos_set = true;
        p->tx_tos = (uint8_t)out.tos;
    }
    if (out.followup && q->slot) {
        q->fu = true;
        tlv_txts_on(r);
    }
    if (out.malformed || out.integrity) {
        if (out.malformed)
            TW_CTR_INC(r->ctr.tlv_malformed);
        else
            TW_CTR_INC(r->ctr.tlv_integrity);
        char a[TW_ADDRSTRLEN];
        tw_log_paced(
            &r->tlv.pacer, TW_LOG_INFO, "STAMP TLVs from %s: %s; answered as RFC 8972 says",
            tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a),
            out.malformed ? "a malformed TLV (M flag set)" : "HMAC TLV check failed (I flags set)");
    }
}
