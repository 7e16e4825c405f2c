#include "sender.h"

#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/in6.h>

#include "addr.h"
#include "control_wire.h"
#include "flowlabel.h"
#include "log.h"
#include "ntptime.h"
#include "stamp_tlv.h"
#include "testfmt.h"
#include "wire.h"

/* Outstanding packets remembered for matching: a ring indexed by sequence
 * number of RING_MAX records, or for a run of count packets the power of two
 * (at least RING_MIN) that holds them all: a monitor's short rounds then
 * neither allocate nor clear 128 Ki records each, and ten thousand fan-out
 * targets of a few packets each do not clear 112 KiB each (a ring below
 * malloc's mmap threshold comes from the heap, cleared page by page). */
#define RING_BITS 17
#define RING_MAX (1u << RING_BITS)
#define RING_MIN 16u
#define RX_BUFSIZE TW_RX_BUFSIZE
/* Replies read per recvmmsg. */
#define RX_BATCH 16
/* Intervals shorter than this (about what a timer wake-up costs) send the
 * packets that are due together, TX_BATCH per sendmmsg. */
#define TX_BATCH_BELOW_NS (50 * TW_NS_PER_US)
#define TX_BATCH 32
/* Packets sent per wake-up at most (a sender behind its schedule). */
#define SEND_BURST 256

/* Packets built and recorded, waiting for their sendmmsg (tx_flush). */
struct txq {
    int n;
    uint8_t buf[TX_BATCH][TW_MAX_PACKET_LEN];
    uint32_t seq[TX_BATCH];
    struct iovec iov[TX_BATCH];
    struct mmsghdr mm[TX_BATCH];
    struct sockaddr_in6 name[TX_BATCH]; /* --flow-label per-packet: each its label */
};
/* How long a reply waits for its packet's transmit timestamp before it is
 * measured without it (software t1 and t4; user-space t1 when the kernel gave
 * none at all). NICs deliver theirs within milliseconds, or never (many stamp
 * one packet at a time and skip the others). */
#define TX_WAIT_NS (100 * TW_NS_PER_MS)

struct sent_rec {
    uint32_t seq;
    bool used, answered, t1_kernel, duplicate, reordered, late;
    bool pending;              /* answered, waiting for its transmit timestamp to be measured */
    bool t4_kernel;            /* t4 is the kernel's receive timestamp */
    bool remote_sync;          /* the reflector's S bit */
    bool hw_tx_bad, hw_rx_bad; /* the NIC stamped it, the stamp could not be converted */
    uint32_t size;
    uint64_t wire_ts; /* the Timestamp as sent: a reply must echo it */
    /* t1, t4: system clock, software (the kernel's, else user space) until
     * the reply is measured, then the pair it was measured with. */
    tw_time_t t1, t2, t3, t4;
    tw_time_t t1_hw, t4_hw; /* the NIC's stamps converted to system time, 0 none */
    uint64_t ntp2, ntp3;
    uint32_t rseq;  /* the reflector's sequence number in the first reply */
    uint32_t fl_in; /* the first reply's IPv6 flow label (--flow-label) */
    int16_t ttl_out, ttl_in, tos_in;
    uint8_t how; /* HOW_*: how its reply was laid out */
};

/* How a reply was matched to its packet (RFC 5357 §4.2.1 is HOW_STRICT). */
enum {
    HOW_STRICT,   /* Sender Sequence Number and Sender Timestamp echoed at 24 and 28 */
    HOW_SWAPPED,  /* our t1 at offset 4, the reflector's t3 at 28 (the fields swapped) */
    HOW_ECHO,     /* our sequence number and t1 at offsets 0 and 4: round trip only */
    HOW_SEQ_ONLY, /* our sequence number at 24 with another Sender Timestamp */
};

/* The shortest reply read in the reflector's layout: up to the Sender
 * Timestamp (36 octets, as the Python twampy's 38-octet replies and longer). */
#define REPLY_MIN_LEN 36
/* The shortest reply that can echo a request: Sequence Number and Timestamp. */
#define ECHO_MIN_LEN 12

/* A reply waiting for its packet's transmit timestamp. */
struct pend {
    uint32_t seq;
    int64_t due; /* tw_mono_now() time to stop waiting */
};

/* Reasons for software timestamps in a hardware run, each said once. */
enum {
    SAID_CONVERT = 1,
    SAID_NO_HW_TX = 2,
    SAID_NO_HW_RX = 4,
    SAID_SAMPLE = 8,
};

/* twampy's IMIX paddings, 7:4:1 of 64, 590 and 1514-octet frames. */
static const int imix_v4[12] = {8, 8, 8, 8, 8, 8, 8, 534, 534, 534, 534, 1458};
static const int imix_v6[12] = {0, 0, 0, 0, 0, 0, 0, 514, 514, 514, 514, 1438};

/* STAMP TLVs (RFC 8972) the sender asks for (cfg.tlv; stamp_tlv.c builds
 * and reads them): their octets after the base packet, and the t3 of recent
 * replies by the reflector's sequence number, for the Follow-Up TLV. */
#define T3_RING 64
struct tlv_send {
    size_t len; /* octets of TLVs after the base packet (0: none asked for) */
    bool hmac;  /* with an HMAC TLV (authenticated STAMP) */
    bool ptp;   /* the reply being read has PTP timestamps */
    struct {
        uint32_t rseq;
        int64_t t3;
        bool used;
    } t3[T3_RING];
};
static int tlv_setup(tw_sender_t *s, char *err, size_t errlen);
static int tlv_append(tw_sender_t *s, uint8_t *txbuf, uint32_t seq, size_t len);
static void tlv_reply(tw_sender_t *s, const tw_pkt_t *p, const tw_reflector_pkt_t *rep, int64_t t3);

struct tw_sender {
    tw_sender_cfg_t cfg;
    struct tlv_send tlv;
    tw_testfmt_t fmt; /* the format the sender sends and checks, its keys */
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_batch_t *batch;
    bool own_batch; /* else cfg.batch, shared with the loop's other senders */
    uint8_t *txbuf;
    uint8_t *refl; /* RFC 6038: octets every packet carries at refl_at, back at refl_back */
    size_t refl_len, refl_at, refl_back;
    size_t dscp_ecn_at; /* RFC 7750: S-DSCP-ECN in replies, 0: not asked for */
    struct sent_rec *ring;
    uint32_t ring_size, ring_mask; /* a power of two, RING_MIN..RING_MAX */
    uint32_t *txmap;               /* kernel transmit-timestamp id -> sequence number */
    uint32_t txid;                 /* id of the next datagram the kernel will stamp */
    uint32_t first_seq;            /* the sequence number of the first packet (0; tests) */
    bool tx_stamping;              /* the kernel gives transmit timestamps */
    /* Replies waiting for their transmit timestamps, in arrival order: they
     * are measured in that order (a ring; never more than s->ring_size, as a
     * record's slot is not reused while it waits). */
    struct pend *pend;
    uint64_t pend_head, pend_tail;
    /* --timestamping hw: t1 and t4 from the NIC, converted with phc; a
     * packet without both NIC stamps is measured in software, t1 and t4. */
    bool hw;
    bool hw_tx_sw; /* a software transmit stamp comes beside the NIC's */
    tw_phc_t phc;
    int64_t phc_period;
    unsigned said;          /* SAID_* */
    uint32_t rx_drops_seen; /* the socket's drop counter as last read (wraps) */
    struct txq *txq;        /* sendmmsg batching (intervals below TX_BATCH_BELOW_NS), or NULL */
    tw_timer_t send_timer, end_timer, interval_timer, pend_timer, phc_timer;
    int64_t start_mono;
    tw_time_t start_wall; /* the system clock at the start */
    int64_t next_due;     /* CLOCK_MONOTONIC time the next packet is due */
    uint64_t next;        /* packets sent so far; the next sequence number is (uint32_t)next */
    uint64_t flushed;     /* records up to here were handed to on_packet */
    uint64_t max_answered_plus1;
    bool done, started, sending_over;
    uint64_t rng;
    /* --flow-label: the label (fixed, random) or the key of the per-packet
     * labels; a lease asked for once (EINVAL: an exclusive lease in the
     * namespace), and why it failed. */
    uint32_t fl_label;
    uint64_t fl_key;
    bool fl_lease_tried;
    int fl_lease_err;
    int tai;
    tw_errest_cache_t errest; /* of our clock */
    tw_interval_t iv;         /* the interval being accumulated */
    uint64_t iv_lost_base;
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

const char *tw_reply_reason_code(int r)
{
    static const char *const c[TW_RR_COUNT] = {"too_short", "unknown_sequence",
                                               "timestamp_not_ours", "wrong_source", "integrity"};
    return r >= 0 && r < TW_RR_COUNT ? c[r] : NULL;
}

const char *tw_reply_note_code(int n)
{
    static const char *const c[TW_RN_COUNT] = {"no_sender_ttl", "swapped_timestamps",
                                               "request_echoed", "sender_timestamp_not_echoed",
                                               "implausible_timestamps"};
    return n >= 0 && n < TW_RN_COUNT ? c[n] : NULL;
}

const char *tw_icmp_kind_code(int k)
{
    static const char *const c[TW_ICMP_COUNT] = {"port_unreachable",     "host_unreachable",
                                                 "fragmentation_needed", "ttl_exceeded",
                                                 "local_emsgsize",       "other"};
    return k >= 0 && k < TW_ICMP_COUNT ? c[k] : NULL;
}

uint64_t tw_replies_seen(const tw_sender_result_t *r)
{
    uint64_t n = r->stats.received + r->late + r->duplicates;
    for (int i = 0; i < TW_RR_COUNT; i++)
        n += r->issues.unusable[i];
    return n;
}

/* What an error-queue error is (RFC 792, RFC 4443). */
static int icmp_kind(const tw_icmperr_t *e)
{
    if (e->origin == SO_EE_ORIGIN_LOCAL)
        return e->err == EMSGSIZE ? TW_ICMP_LOCAL_MSGSIZE : TW_ICMP_OTHER;
    if (e->origin == SO_EE_ORIGIN_ICMP) {
        if (e->type == 3) /* destination unreachable */
            return e->code == 3   ? TW_ICMP_PORT_UNREACH
                   : e->code == 4 ? TW_ICMP_FRAG_NEEDED
                                  : TW_ICMP_HOST_UNREACH;
        return e->type == 11 ? TW_ICMP_TTL_EXCEEDED : TW_ICMP_OTHER;
    }
    if (e->type == 1) /* ICMPv6 destination unreachable */
        return e->code == 4 ? TW_ICMP_PORT_UNREACH : TW_ICMP_HOST_UNREACH;
    return e->type == 2 ? TW_ICMP_FRAG_NEEDED : e->type == 3 ? TW_ICMP_TTL_EXCEEDED : TW_ICMP_OTHER;
}

/* An ICMP error about a packet we sent: counted by kind, said once per kind.
 * Port unreachable is named by where the packet went, the others by the
 * router or host that sent the ICMP. */
static void on_icmp(void *arg, const tw_icmperr_t *e)
{
    tw_sender_t *s = arg;
    tw_reply_issues_t *is = &s->res.issues;
    int k = icmp_kind(e);
    if ((k == TW_ICMP_FRAG_NEEDED || k == TW_ICMP_LOCAL_MSGSIZE) && e->info)
        is->icmp_mtu = e->info;
    if (is->icmp[k]++)
        return;
    /* A local error names no port: the reflector's address is where it went. */
    const struct sockaddr_storage *who = k == TW_ICMP_LOCAL_MSGSIZE ? &s->cfg.remote
                                         : k == TW_ICMP_PORT_UNREACH || !e->offender.ss_family
                                             ? (e->dest.ss_family ? &e->dest : &s->cfg.remote)
                                             : &e->offender;
    if (k == TW_ICMP_PORT_UNREACH || who == &e->dest || who == &s->cfg.remote)
        tw_addr_str((const struct sockaddr *)who, is->icmp_from[k], sizeof is->icmp_from[k]);
    else
        tw_addr_ip_str((const struct sockaddr *)who, is->icmp_from[k], sizeof is->icmp_from[k]);
    tw_notice("%s: ICMP %s (type %u code %u)", is->icmp_from[k], tw_icmp_kind_code(k), e->type,
              e->code);
}

/* xorshift64*: repeatable from --seed; no need for a crypto RNG here. */
static uint64_t rand64_state(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

static uint64_t rand64(tw_sender_t *s)
{
    return rand64_state(&s->rng);
}

static uint64_t rng_from_seed(uint64_t seed)
{
    uint64_t x = seed ^ 0x9E3779B97F4A7C15ull;
    return x ? x : 1;
}

/* An exponential gap with the interval as its mean, from one random draw. */
static int64_t poisson_gap(uint64_t r, int64_t interval_ns)
{
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    return (int64_t)(-log1p(-u) * (double)interval_ns);
}

void tw_sender_schedule_head(const tw_sender_cfg_t *cfg, uint64_t seed, int64_t *out, int n)
{
    uint64_t rng = rng_from_seed(seed);
    int64_t t = 0;
    for (int k = 0; k < n; k++) {
        out[k] = cfg->schedule == TW_SCHEDULE_POISSON ? t : (int64_t)k * cfg->interval_ns;
        /* As the sender: packet k draws its IMIX size, then the gap to k + 1. */
        if (cfg->padding == TW_PADDING_IMIX)
            rand64_state(&rng);
        if (cfg->schedule == TW_SCHEDULE_POISSON)
            t += poisson_gap(rand64_state(&rng), cfg->interval_ns);
    }
}

/* The length of a packet with this padding in the sender's format: the open
 * formats as tw_sender_packet_len; TWAMP modes 2 and 4 the 48-octet header
 * plus the padding; authenticated STAMP the 112-octet base plus what the
 * padding adds past 44 in the open STAMP format. 0 when it cannot be built. */
static size_t fmt_len(const tw_sender_t *s, int pad)
{
    size_t len = tw_sender_packet_len(s->cfg.stamp, pad);
    if (s->fmt.kind == TW_TESTFMT_TWAMP_AUTH)
        return pad < 0 ? 0 : TW_SENDER_AUTH_LEN + (size_t)pad;
    if (s->fmt.kind == TW_TESTFMT_STAMP_AUTH && len)
        return TW_STAMP_AUTH_BASE_LEN + (len - TW_STAMP_BASE_LEN);
    return len;
}

static size_t next_len(tw_sender_t *s)
{
    int pad = s->cfg.padding;
    if (pad == TW_PADDING_IMIX) {
        const int *mix = s->cfg.remote.ss_family == AF_INET6 ? imix_v6 : imix_v4;
        pad = mix[(rand64(s) >> 32) % 12];
        /* The IMIX frame sizes with the longer header of the protected formats. */
        if (s->fmt.kind == TW_TESTFMT_TWAMP_AUTH)
            pad = pad > TW_SENDER_AUTH_LEN - TW_SENDER_MIN_LEN
                      ? pad - (TW_SENDER_AUTH_LEN - TW_SENDER_MIN_LEN)
                      : 0;
    }
    size_t len = fmt_len(s, pad);
    if (len)
        return len;
    return (s->fmt.kind == TW_TESTFMT_STAMP_AUTH ? TW_STAMP_AUTH_BASE_LEN : TW_STAMP_BASE_LEN) +
           TW_TLV_HDR_LEN;
}

/* When packet k (k >= 1) is due, given packet k-1 was due at prev. Periodic
 * schedules are computed from the start, so they never drift; Poisson gaps are
 * exponential with the interval as their mean. */
static int64_t due_after(tw_sender_t *s, uint64_t k, int64_t prev)
{
    if (s->cfg.schedule == TW_SCHEDULE_POISSON) {
        return prev + poisson_gap(rand64(s), s->cfg.interval_ns);
    }
    return s->start_mono + (int64_t)k * s->cfg.interval_ns;
}

static bool more_to_send(const tw_sender_t *s, int64_t now)
{
    if (s->sending_over)
        return false;
    if (s->cfg.count && s->next >= s->cfg.count)
        return false;
    if (s->cfg.duration_ns && s->started && now - s->start_mono >= s->cfg.duration_ns)
        return false;
    return true;
}

static void emit(tw_sender_t *s, const struct sent_rec *r)
{
    tw_packet_record_t out = {
        .seq = r->seq,
        .status = !r->answered   ? TW_PKT_LOST
                  : r->late      ? TW_PKT_LATE
                  : r->duplicate ? TW_PKT_DUPLICATE
                  : r->reordered ? TW_PKT_REORDERED
                                 : TW_PKT_OK,
        .t1 = r->t1,
        .ntp1 = r->wire_ts,
        .ttl_out = r->ttl_out,
        .ttl_in = r->ttl_in,
        .tos_in = r->tos_in,
        .size = r->size,
    };
    if (r->answered) {
        out.t2 = r->t2;
        out.t3 = r->t3;
        out.t4 = r->t4;
        out.ntp2 = r->ntp2;
        out.ntp3 = r->ntp3;
        out.ntp4 = tw_time_to_ntp(r->t4);
    }
    s->cfg.on_packet(s->cfg.hook_arg, &out);
}

/* Hand on the records whose fate is final: answered, or older than the
 * timeout (all of them with all). In sequence order. */
static void flush_records(tw_sender_t *s, bool all)
{
    if (!s->cfg.on_packet)
        return;
    tw_time_t now = tw_now();
    while (s->flushed < s->next) {
        struct sent_rec *r = &s->ring[(s->first_seq + (uint32_t)s->flushed) & s->ring_mask];
        /* Twice the timeout: a late reply (after the timeout) still finds its
         * record, so it is written as late, not lost. */
        if (!all &&
            ((s->next - s->flushed < s->ring_size && now - r->t1 <= 2 * s->cfg.timeout_ns) ||
             r->pending))
            break;
        emit(s, r);
        s->flushed++;
    }
}

static void interval_reset(tw_sender_t *s, double start_s)
{
    memset(&s->iv, 0, sizeof s->iv);
    s->iv.start_s = start_s;
}

static void on_interval_timer(void *arg)
{
    tw_sender_t *s = arg;
    int64_t now = tw_mono_now();
    s->iv.end_s = (double)(now - s->start_mono) / 1e9;
    /* Lost so far in the interval's packets: not answered within the timeout. */
    s->iv.lost = s->iv.sent > s->iv.received ? s->iv.sent - s->iv.received : 0;
    if (s->iv.received)
        s->iv.rtt_mean /= (double)s->iv.received;
    s->cfg.on_interval(s->cfg.hook_arg, &s->iv);
    interval_reset(s, s->iv.end_s);
    if (!s->done)
        tw_timer_set(s->loop, &s->interval_timer,
                     s->start_mono + (int64_t)((s->iv.start_s * 1e9) + 0.5) +
                         s->cfg.report_interval_ns,
                     on_interval_timer, s);
}

static void drain(tw_sender_t *s, bool force);
static void drain_one(tw_sender_t *s);
static void on_tx_timestamp(void *arg, const tw_txstamp_t *ts);

/* The socket's receive-buffer drops, from the counter the last datagram read
 * carried (SO_RXQ_OVFL) or the socket's own at the end (SO_MEMINFO): the
 * replies that came after the last one read are counted too. */
static void local_drops_add(tw_sender_t *s, uint32_t now)
{
    s->res.local_rx_drops += (uint32_t)(now - s->rx_drops_seen);
    s->rx_drops_seen = now;
}

static void local_drops_update(tw_sender_t *s)
{
    uint32_t d;
    if (s->fd >= 0 && tw_rx_drops_read(s->fd, &d) == 0)
        local_drops_add(s, d);
}

static void finish(tw_sender_t *s)
{
    if (s->done)
        return;
    s->done = true;
    s->res.elapsed_s = s->started ? (double)(tw_mono_now() - s->start_mono) / 1e9 : 0;
    /* Replies still waiting for a transmit timestamp are measured now. */
    drain(s, true);
    local_drops_update(s);
    s->res.stats.unusable = tw_replies_seen(&s->res) - s->res.stats.received;
    tw_timer_cancel(s->loop, &s->send_timer);
    tw_timer_cancel(s->loop, &s->end_timer);
    tw_timer_cancel(s->loop, &s->interval_timer);
    tw_timer_cancel(s->loop, &s->pend_timer);
    tw_timer_cancel(s->loop, &s->phc_timer);
    /* The last, partial interval gets its line too (as iperf3 does). */
    if (s->cfg.on_interval && s->cfg.report_interval_ns > 0 && s->started &&
        (s->iv.sent || s->iv.received))
        on_interval_timer(s);
    flush_records(s, true);
    if (s->cfg.on_done)
        s->cfg.on_done(s->cfg.on_done_arg);
}

static void on_end_timer(void *arg)
{
    tw_sender_t *s = arg;
    tw_info("Receive timeout for last packet (don't wait anymore)");
    finish(s);
}

static bool all_answered(const tw_sender_t *s)
{
    return s->res.stats.received + s->res.late >= s->next;
}

/* RFC 6038 §5.1.2: the Packet Padding (to be reflected), what fits of it. */
static void put_reflect(tw_sender_t *s, uint8_t *txbuf, size_t len)
{
    if (s->refl_len && s->refl_at < len) {
        size_t n = len - s->refl_at < s->refl_len ? len - s->refl_at : s->refl_len;
        memcpy(txbuf + s->refl_at, s->refl, n);
    }
}

/* RFC 6038 §5.2.1: the reply's Packet Padding (from Session-Sender). */
static void check_reflect(tw_sender_t *s, const tw_pkt_t *p, const struct sent_rec *rec)
{
    size_t n = rec->size > s->refl_at ? rec->size - s->refl_at : 0;
    if (n > s->refl_len)
        n = s->refl_len;
    if (p->len >= s->refl_back + n && !memcmp(p->buf + s->refl_back, s->refl, n)) {
        s->res.reflect_ok++;
        return;
    }
    s->res.reflect_bad++;
    if (s->res.reflect_bad == 1)
        tw_warn("the reply to packet %u does not carry the %zu octets of padding to reflect at "
                "offset %zu (RFC 6038 section 5.2.1); later ones are only counted",
                rec->seq, n, s->refl_back);
}

static int send_failed(tw_sender_t *s, int e, size_t len);

/* --flow-label: the label packet seq is sent with. */
static uint32_t flow_label_of(const tw_sender_t *s, uint32_t seq)
{
    return s->cfg.flowlabel_mode == TW_FL_PER_PACKET ? tw_flowlabel_of_seq(s->fl_key, seq)
                                                     : s->fl_label;
}

/* Per-packet labels: packet seq's into the destination (a store, no system
 * call: the kernel reads sin6_flowinfo with IPV6_FLOWINFO_SEND on). */
static void flow_next(tw_sender_t *s, uint32_t seq)
{
    if (s->cfg.remote.ss_family != AF_INET6)
        return;
    ((struct sockaddr_in6 *)&s->cfg.remote)->sin6_flowinfo = htonl(flow_label_of(s, seq));
}

/* A send with a flow label refused with EINVAL: the kernel takes only
 * leased labels while some socket of the network namespace holds an
 * exclusive lease (fl6_sock_lookup). Lease ours, once, and say whether to
 * send again; per-packet labels cannot all be leased. */
static bool flow_lease(tw_sender_t *s)
{
    if (!s->cfg.flowlabel_mode || s->cfg.remote.ss_family != AF_INET6 || s->fl_lease_tried ||
        s->cfg.flowlabel_mode == TW_FL_PER_PACKET || !s->fl_label)
        return false;
    s->fl_lease_tried = true;
    struct in6_flowlabel_req req;
    memset(&req, 0, sizeof req);
    req.flr_dst = ((const struct sockaddr_in6 *)&s->cfg.remote)->sin6_addr;
    req.flr_label = htonl(s->fl_label);
    req.flr_action = IPV6_FL_A_GET;
    req.flr_share = IPV6_FL_S_ANY;
    req.flr_flags = IPV6_FL_F_CREATE;
    if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &req, sizeof req) == 0) {
        tw_info("flow label 0x%05x leased: another process holds an exclusive flow label lease "
                "in this network namespace",
                s->fl_label);
        return true;
    }
    s->fl_lease_err = errno;
    return false;
}

static int send_one(tw_sender_t *s)
{
    size_t len = next_len(s);
    uint32_t seq = s->first_seq + (uint32_t)s->next;
    tw_sender_pkt_t pkt = {.seq = seq,
                           .errest = tw_errest_cached(&s->errest, tw_mono_now(), s->cfg.ptp),
                           .ssid = s->cfg.ssid};
    struct sent_rec *rec = &s->ring[seq & s->ring_mask];
    /* The slot's reply still waits for its transmit timestamp: measure it
     * (and those that came before it) now. */
    while (rec->used && rec->pending && s->pend_head != s->pend_tail)
        drain_one(s);
    if (rec->used && s->cfg.on_packet && s->flushed <= s->next - s->ring_size)
        flush_records(s, false);
    /* Batched: into the queue's next buffer, sent by tx_flush. */
    uint8_t *txbuf = s->txq ? s->txq->buf[s->txq->n] : s->txbuf;
    /* t1 as late as possible: read the clock right before the send (batched:
     * before the batch's sendmmsg; the kernel's transmit stamp replaces it). */
    tw_time_t t1 = tw_now();
    pkt.timestamp = s->cfg.ptp ? tw_time_to_ptp(t1, s->tai) : tw_time_to_ntp(t1);
    if (s->fmt.kind == TW_TESTFMT_OPEN) {
        tw_sender_encode(&pkt, s->cfg.stamp, txbuf, len);
        put_reflect(s, txbuf, len);
        if (s->tlv.len && tlv_append(s, txbuf, seq, len) < 0)
            return -1;
        len += s->tlv.len;
    } else {
        int rc = tw_sender_encode_auth(&pkt, s->fmt.kind == TW_TESTFMT_STAMP_AUTH, txbuf, len);
        put_reflect(s, txbuf, len);
        if (rc == TW_WIRE_OK && s->tlv.len) {
            rc = tlv_append(s, txbuf, seq, len);
            len += s->tlv.len;
        }
        if (rc == TW_WIRE_OK)
            rc = tw_testfmt_sender_protect(&s->fmt, txbuf, len);
        if (rc != 0) {
            snprintf(s->res.fatal, sizeof s->res.fatal,
                     "cannot build a protected %zu-octet test packet", len);
            s->res.fatal_errno = EINVAL;
            return -1;
        }
    }
    ssize_t r;
    if (s->cfg.flowlabel_mode == TW_FL_PER_PACKET)
        flow_next(s, seq);
    if (s->txq) {
        /* Counted as sent now; tx_flush corrects a send that fails. */
        struct txq *q = s->txq;
        if (s->cfg.flowlabel_mode == TW_FL_PER_PACKET)
            memcpy(&q->name[q->n], &s->cfg.remote, sizeof q->name[0]);
        q->iov[q->n] = (struct iovec){txbuf, len};
        q->seq[q->n++] = seq;
        r = (ssize_t)len;
    } else {
        r = s->cfg.xmit ? s->cfg.xmit(s->cfg.hook_arg, txbuf, len)
                        : sendto(s->fd, txbuf, len, 0, (struct sockaddr *)&s->cfg.remote,
                                 s->cfg.remote_len);
    }
    if (r < 0 && !s->cfg.xmit &&
        (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
         errno == EHOSTDOWN || errno == EMSGSIZE || errno == EACCES)) {
        /* The socket's pending error: an ICMP error about an earlier packet
         * (IP_RECVERR), or the kernel's own refusal. Read it, send again once. */
        tw_errqueue_read(s->fd, s->tx_stamping ? on_tx_timestamp : NULL, on_icmp, s);
        r = sendto(s->fd, txbuf, len, 0, (struct sockaddr *)&s->cfg.remote, s->cfg.remote_len);
    }
    if (r < 0 && !s->cfg.xmit && errno == EINVAL && flow_lease(s))
        r = sendto(s->fd, txbuf, len, 0, (struct sockaddr *)&s->cfg.remote, s->cfg.remote_len);
    /* A failed send counts as sent and lost: the schedule goes on. */
    if (r < 0 && send_failed(s, errno, len) < 0)
        return -1;
    *rec = (struct sent_rec){.seq = seq,
                             .used = true,
                             .size = (uint32_t)len,
                             .wire_ts = pkt.timestamp,
                             .t1 = t1,
                             .ttl_out = -1,
                             .ttl_in = -1,
                             .tos_in = -1};
    if (r >= 0 && s->tx_stamping && !s->txq)
        s->txmap[s->txid++ & s->ring_mask] = seq;
    tw_info("Sent to %s [sseq=%u]", s->peer, seq);
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "transmit", txbuf, len);
    s->next++;
    s->res.sent++;
    s->iv.sent++;
    if (s->cfg.flowlabel_mode == TW_FL_PER_PACKET && s->res.flowlabels < TW_FLOWLABEL_MAX)
        s->res.flowlabels++; /* distinct: tw_flowlabel_of_seq */
    return 0;
}

/* A send that failed (errno e): too big ends the run (returns -1); any
 * other counts the packet as sent and lost, the run goes on. */
static int send_failed(tw_sender_t *s, int e, size_t len)
{
    if (e == EINVAL && s->cfg.flowlabel_mode && s->cfg.remote.ss_family == AF_INET6) {
        /* Never silently another label than asked for. */
        char why[96];
        if (s->cfg.flowlabel_mode == TW_FL_PER_PACKET)
            snprintf(why, sizeof why,
                     "per-packet labels cannot all be leased: use a fixed or "
                     "random label");
        else
            snprintf(why, sizeof why, "leasing label 0x%05x failed: %s", s->fl_label,
                     s->fl_lease_err ? strerror(s->fl_lease_err) : "not tried");
        s->res.fatal_errno = e;
        snprintf(s->res.fatal, sizeof s->res.fatal,
                 "the kernel refuses unleased IPv6 flow labels while another process holds an "
                 "exclusive flow label lease in this network namespace (%.90s)",
                 why);
        return -1;
    }
    if (e == EMSGSIZE) {
        char mtu[48] = "smaller";
        if (s->res.issues.icmp_mtu)
            snprintf(mtu, sizeof mtu, "%u", s->res.issues.icmp_mtu);
        s->res.fatal_errno = e;
        snprintf(s->res.fatal, sizeof s->res.fatal,
                 "a %zu-octet test packet is too big to send to %s%s%s%s", len, s->peer,
                 s->cfg.sockopts.df ? " with do-not-fragment (the path MTU is " : "",
                 s->cfg.sockopts.df ? mtu : "", s->cfg.sockopts.df ? ")" : "");
        return -1;
    }
    s->res.send_errors++;
    if (e == ENOBUFS || e == EAGAIN || e == EWOULDBLOCK || e == ENOMEM)
        s->res.local_tx_drops++; /* never left this host */
    if (s->res.send_errors == 1)
        tw_warn("cannot send to %s: %s", s->peer, strerror(e));
    return 0;
}

/* Send the queued packets (send_one recorded them as sent): one sendmmsg
 * for all when nothing fails. A message the kernel refuses is handled as
 * send_one handles a failed sendto (an ICMP error pending: read, once more),
 * and the others go on. Returns -1 when the run must end. */
static int tx_flush(tw_sender_t *s)
{
    struct txq *q = s->txq;
    if (!q || !q->n)
        return 0;
    bool per_packet =
        s->cfg.flowlabel_mode == TW_FL_PER_PACKET && s->cfg.remote.ss_family == AF_INET6;
    for (int i = 0; i < q->n; i++)
        q->mm[i].msg_hdr =
            (struct msghdr){.msg_name = per_packet ? (void *)&q->name[i] : (void *)&s->cfg.remote,
                            .msg_namelen = s->cfg.remote_len,
                            .msg_iov = &q->iov[i],
                            .msg_iovlen = 1};
    int done = 0, rc = 0;
    while (done < q->n) {
        int r = sendmmsg(s->fd, q->mm + done, (unsigned)(q->n - done), 0);
        if (r > 0) {
            for (int i = done; i < done + r; i++)
                if (s->tx_stamping)
                    s->txmap[s->txid++ & s->ring_mask] = q->seq[i];
            done += r;
            continue;
        }
        int e = r < 0 ? errno : EIO;
        if (e == EINTR)
            continue;
        struct iovec *v = &q->iov[done];
        bool lease = e == EINVAL && flow_lease(s);
        if (e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
            e == EMSGSIZE || e == EACCES || lease) {
            if (!lease)
                tw_errqueue_read(s->fd, s->tx_stamping ? on_tx_timestamp : NULL, on_icmp, s);
            if (sendto(s->fd, v->iov_base, v->iov_len, 0, q->mm[done].msg_hdr.msg_name,
                       s->cfg.remote_len) >= 0) {
                if (s->tx_stamping)
                    s->txmap[s->txid++ & s->ring_mask] = q->seq[done];
                done++;
                continue;
            }
            e = errno;
        }
        if (send_failed(s, e, v->iov_len) < 0) {
            rc = -1;
            break;
        }
        done++;
    }
    q->n = 0;
    return rc;
}

static void on_send_timer(void *arg)
{
    tw_sender_t *s = arg;
    int64_t now = tw_mono_now();
    /* Send every packet that is due: the schedule is absolute, so a late wake-up
     * never shifts the packets after it. */
    /* At most SEND_BURST at a time: a sender that fell behind goes back to
     * the loop (its timer, due already, comes again next round) and reads the
     * replies and transmit stamps in between. */
    for (int burst = 0; burst < SEND_BURST && more_to_send(s, now) && s->next_due <= now; burst++) {
        if (send_one(s) < 0 || (s->txq && s->txq->n == TX_BATCH && tx_flush(s) < 0)) {
            tx_flush(s);
            finish(s);
            return;
        }
        s->next_due = due_after(s, s->next, s->next_due);
    }
    if (tx_flush(s) < 0) {
        finish(s);
        return;
    }
    flush_records(s, false);
    if (more_to_send(s, now)) {
        int64_t at = s->next_due;
        if (s->cfg.duration_ns && at > s->start_mono + s->cfg.duration_ns)
            at = s->start_mono + s->cfg.duration_ns;
        tw_timer_set(s->loop, &s->send_timer, at, on_send_timer, s);
    } else if (all_answered(s)) {
        finish(s);
    } else {
        s->sending_over = true;
        tw_timer_set(s->loop, &s->end_timer, now + s->cfg.timeout_ns, on_end_timer, s);
    }
}

/* The protected formats: the reply must pass its check before it is read. */
static bool open_reply(tw_sender_t *s, tw_pkt_t *p, tw_reflector_pkt_t *rep)
{
    bool stamp = s->fmt.kind == TW_TESTFMT_STAMP_AUTH;
    int rc = p->len < TW_REFLECTOR_AUTH_LEN ? TW_AUTH_EINVAL
                                            : tw_testfmt_reflector_open(&s->fmt, p->buf, p->len);
    if (rc < 0) {
        s->res.integrity_failures++;
        s->res.issues.unusable[TW_RR_INTEGRITY]++;
        if (tw_log_on(TW_LOG_INFO)) {
            char a[TW_ADDRSTRLEN];
            tw_info("Reply from %s failed the integrity check (%zu octets): %s; counted, not "
                    "measured",
                    tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), p->len,
                    rc == TW_AUTH_EINVAL ? "shorter than the 112-octet authenticated format"
                                         : tw_auth_strerror(rc));
        }
        return false;
    }
    tw_reflector_decode_auth(p->buf, p->len, stamp, rep);
    return true;
}

static void convert_failed(tw_sender_t *s, int rc)
{
    if (s->said & SAID_CONVERT)
        return;
    s->said |= SAID_CONVERT;
    tw_notice("hardware timestamps: cannot convert a NIC timestamp to system time (%s); such "
              "packets are measured with software timestamps for t1 and t4",
              tw_phc_strerror(rc));
}

/* Every timestamp the reply will be measured with is in. */
static bool ready(const tw_sender_t *s, const struct sent_rec *r)
{
    if (s->hw && r->t4_hw && !r->hw_tx_bad)
        return r->t1_hw != 0; /* the NIC's transmit stamp to come */
    /* The software pair: its transmit stamp to come, unless the kernel gives
     * none for a packet the NIC stamped (no OPT_TX_SWHW). */
    return r->t1_kernel || !s->tx_stamping || (s->hw && !s->hw_tx_sw && r->t1_hw);
}

/* Measure an answered record: t1 and t4 from one source, never mixed. Both
 * the NIC's where there are both, else both the system clock's (software
 * kernel stamps, user space where the kernel gave none). */
static void measure(tw_sender_t *s, struct sent_rec *rec, const struct sockaddr *from)
{
    rec->pending = false;
    if (s->hw) {
        if (rec->t1_hw && rec->t4_hw) {
            rec->t1 = rec->t1_hw;
            rec->t4 = rec->t4_hw;
            if (!rec->t1_kernel) {
                rec->t1_kernel = true;
                s->res.tx_kernel++;
            }
            rec->t4_kernel = true;
            s->res.hw_pairs++;
        } else {
            s->res.hw_fallback++;
            if (!rec->t4_hw && !rec->hw_rx_bad && !(s->said & SAID_NO_HW_RX)) {
                s->said |= SAID_NO_HW_RX;
                tw_notice("hardware timestamps: the reply to packet %u has no NIC receive "
                          "timestamp (does the NIC stamp only PTP packets?); such packets are "
                          "measured with software timestamps for t1 and t4",
                          rec->seq);
            } else if (rec->t4_hw && !rec->hw_tx_bad && !(s->said & SAID_NO_HW_TX)) {
                s->said |= SAID_NO_HW_TX;
                tw_notice("hardware timestamps: no NIC transmit timestamp for packet %u within "
                          "%lld ms (many NICs stamp one packet at a time); such packets are "
                          "measured with software timestamps for t1 and t4",
                          rec->seq, (long long)(TX_WAIT_NS / TW_NS_PER_MS));
            }
        }
    }
    if (rec->t4_kernel)
        s->res.rx_kernel++;
    tw_time_t t1 = rec->t1, t2 = rec->t2, t3 = rec->t3, t4 = rec->t4;
    tw_reply_issues_t *is = &s->res.issues;
    if (rec->how == HOW_SWAPPED)
        is->noted[TW_RN_SWAPPED]++;
    else if (rec->how == HOW_ECHO)
        is->noted[TW_RN_ECHO]++;
    else if (rec->how == HOW_SEQ_ONLY)
        is->noted[TW_RN_TS_NOT_ECHOED]++;
    if (rec->how != HOW_ECHO && rec->ttl_out < 0)
        is->noted[TW_RN_NO_TTL]++;
    /* The reflector's t2 and t3 only where they can be right, whatever the
     * clocks: both there, t3 not before t2, and the residence inside the
     * round trip. Else the round trip from t1 and t4 alone. */
    bool oneway = rec->how != HOW_ECHO && rec->ntp2 && rec->ntp3 && t3 >= t2 && t3 - t2 <= t4 - t1;
    int64_t rt = (t4 - t1) - (t3 - t2), ob = t2 - t1, ib = t4 - t3;
    if (!oneway) {
        if (rec->how != HOW_ECHO)
            is->noted[TW_RN_IMPLAUSIBLE]++;
        is->oneway_na++;
        rt = t4 - t1;
        ob = ib = TW_DELAY_NA;
    }
    tw_stats_add(&s->res.stats, rt, ob, ib, rec->rseq, rec->seq);
    tw_sample_t smp = {
        .seq = rec->seq,
        .rseq = rec->rseq,
        .t1 = t1,
        .t2 = t2,
        .t3 = t3,
        .t4 = t4,
        .ttl_out = rec->ttl_out,
        .ttl_in = rec->ttl_in,
        .remote_sync = rec->remote_sync,
        .oneway_na = !oneway,
        .fl_set = s->cfg.flowlabel_mode != TW_FL_NONE,
        .fl_sent = s->cfg.flowlabel_mode ? flow_label_of(s, rec->seq) : 0,
        .fl_in = rec->fl_in,
    };
    tw_metrics_add(&s->res.metrics, &smp);
    if (s->cfg.on_measure)
        s->cfg.on_measure(s->cfg.hook_arg, &smp, rt, ob, ib);
    s->res.last_rtt = rt;
    if (s->iv.received == 0 || rt < s->iv.rtt_min)
        s->iv.rtt_min = rt;
    if (s->iv.received == 0 || rt > s->iv.rtt_max)
        s->iv.rtt_max = rt;
    s->iv.rtt_mean += (double)rt; /* a sum until the line is made */
    s->iv.rtt_last = rt;
    s->iv.received++;
    if (tw_log_on(TW_LOG_INFO)) {
        char a[TW_ADDRSTRLEN];
        tw_info("Reply from %s [rseq=%u sseq=%u rtt=%.2fms outbound=%.2fms inbound=%.2fms]",
                tw_addr_ip_str(from ? from : (const struct sockaddr *)&s->cfg.remote, a, sizeof a),
                rec->rseq, rec->seq, (double)rt / 1e6, oneway ? (double)ob / 1e6 : NAN,
                oneway ? (double)ib / 1e6 : NAN);
    }
}

static void check_done(tw_sender_t *s)
{
    if (!s->done && !more_to_send(s, tw_mono_now()) && all_answered(s)) {
        tw_info("All packets received back");
        finish(s);
    }
}

static void on_pend_timer(void *arg)
{
    drain(arg, false);
}

/* Measure the first waiting reply, ready or not. */
static void drain_one(tw_sender_t *s)
{
    const struct pend *e = &s->pend[s->pend_head++ & s->ring_mask];
    struct sent_rec *rec = &s->ring[e->seq & s->ring_mask];
    if (rec->used && rec->seq == e->seq && rec->pending)
        measure(s, rec, NULL);
}

/* Measure the waiting replies, in arrival order, while the first is ready or
 * has waited TX_WAIT_NS (all of them with force). */
static void drain(tw_sender_t *s, bool force)
{
    int64_t now = 0;
    while (s->pend_head != s->pend_tail) {
        const struct pend *e = &s->pend[s->pend_head & s->ring_mask];
        struct sent_rec *rec = &s->ring[e->seq & s->ring_mask];
        if (rec->used && rec->seq == e->seq && rec->pending) {
            if (!force && !ready(s, rec)) {
                if (!now)
                    now = tw_mono_now();
                if (now < e->due)
                    break;
            }
            measure(s, rec, NULL);
        }
        s->pend_head++;
    }
    if (s->done)
        return;
    if (s->pend_head != s->pend_tail) {
        int64_t due = s->pend[s->pend_head & s->ring_mask].due;
        if (!s->pend_timer.armed || s->pend_timer.deadline != due)
            tw_timer_set(s->loop, &s->pend_timer, due, on_pend_timer, s);
    } else {
        tw_timer_cancel(s->loop, &s->pend_timer);
    }
    check_done(s);
}

/* The record of a packet sent within the ring with sequence number seq
 * (answered or not), or NULL; *ahead: 1 for the latest one. Sequence numbers
 * wrap at 2^32, so "already sent" is judged modulo 2^32. */
static struct sent_rec *sent_record(tw_sender_t *s, uint32_t seq, uint32_t *ahead)
{
    struct sent_rec *rec = &s->ring[seq & s->ring_mask];
    uint32_t a = s->first_seq + (uint32_t)s->next - seq;
    if (!rec->used || rec->seq != seq || a == 0 || a > s->ring_size || a > s->next)
        return NULL;
    *ahead = a;
    return rec;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
    }
    return false;
}

static void unusable(tw_sender_t *s, int reason, const tw_pkt_t *p)
{
    tw_reply_issues_t *is = &s->res.issues;
    is->unusable[reason]++;
    if (reason == TW_RR_TOO_SHORT) {
        s->res.short_replies++;
        uint32_t l = (uint32_t)p->len;
        if (is->unusable[reason] == 1 || l < is->short_min)
            is->short_min = l;
        if (l > is->short_max)
            is->short_max = l;
    } else if (reason == TW_RR_UNKNOWN_SEQ || reason == TW_RR_NOT_OURS) {
        s->res.unmatched++;
    }
    if (tw_log_on(TW_LOG_INFO)) {
        char a[TW_ADDRSTRLEN];
        tw_info("Reply from %s not used (%zu octets): %s",
                tw_addr_str((const struct sockaddr *)&p->peer, a, sizeof a), p->len,
                tw_reply_reason_code(reason));
    }
}

/* A Sender Timestamp of ours from before this run (within a day): the
 * reply to a packet of an earlier run with the same sequence number. */
static bool earlier_run(const tw_sender_t *s, uint64_t wire)
{
    tw_time_t t = s->cfg.ptp ? tw_ptp_to_time(wire, s->tai) : tw_ntp_to_time(wire);
    return t < s->start_wall && t > s->start_wall - 86400 * TW_NS_PER_SEC;
}

/* Every first reply to a packet, as read, for the conformance findings. */
static void conform_reply(tw_sender_t *s, const tw_pkt_t *p, const struct sent_rec *rec,
                          const tw_reflector_pkt_t *rep, int how, bool ttl_known)
{
    tw_conform_reply_t c = {
        .buf = p->buf,
        .len = p->len,
        .req_len = rec->size,
        .format = s->res.conform.format,
        .layout = how == HOW_SWAPPED    ? TW_CF_LAYOUT_SWAPPED
                  : how == HOW_ECHO     ? TW_CF_LAYOUT_ECHO
                  : how == HOW_SEQ_ONLY ? TW_CF_LAYOUT_SEQ_ONLY
                                        : TW_CF_LAYOUT_STRICT,
        .ssid = s->cfg.ssid,
        .sseq = rec->seq,
        .rseq = rep->seq,
        .errest = rep->errest,
        .ntp2 = rep->rx_time,
        .ntp3 = rep->timestamp,
        .t1 = rec->t1,
        .t2 = rec->t2,
        .t3 = rec->t3,
        .t4 = p->rx_time,
        .sender_ttl = ttl_known ? rep->sender_ttl : -1,
        .tai = s->tai,
    };
    tw_conform_reply(&s->res.conform, &c);
}

static void handle_reply(tw_sender_t *s, tw_pkt_t *p)
{
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "received", p->buf, p->len);
    if (p->peer.ss_family && !same_addr(&p->peer, &s->cfg.remote)) {
        unusable(s, TW_RR_WRONG_SOURCE, p);
        return;
    }
    tw_reflector_pkt_t rep;
    memset(&rep, 0, sizeof rep);
    struct sent_rec *rec = NULL;
    uint32_t ahead = 0;
    int how = -1;
    bool ttl_known = true;
    if (s->fmt.kind != TW_TESTFMT_OPEN) {
        if (!open_reply(s, p, &rep))
            return;
        rec = sent_record(s, rep.sender_seq, &ahead);
        if (rec && rec->wire_ts == rep.sender_time)
            how = HOW_STRICT;
        else
            rec = NULL;
    } else {
        if (p->len >= REPLY_MIN_LEN) {
            /* 36..40 octets: read as if zero-filled, the Sender TTL unknown. */
            uint8_t full[TW_REFLECTOR_BASE_LEN];
            const uint8_t *b = p->buf;
            size_t len = p->len;
            if (len < TW_REFLECTOR_BASE_LEN) {
                memcpy(full, p->buf, len);
                memset(full + len, 0, sizeof full - len);
                b = full;
                len = sizeof full;
                ttl_known = false;
            }
            tw_reflector_decode(b, len, &rep);
            rec = sent_record(s, rep.sender_seq, &ahead);
            if (rec && rec->wire_ts == rep.sender_time) {
                how = HOW_STRICT;
            } else if (rec && tw_get64(p->buf + 4) == rec->wire_ts) {
                /* Our t1 at offset 4: the Timestamp and Sender Timestamp
                 * fields swapped, the reflector's t3 at 28. */
                how = HOW_SWAPPED;
                rep.timestamp = rep.sender_time;
                rep.sender_time = rec->wire_ts;
            }
        }
        if (how < 0 && p->len >= ECHO_MIN_LEN) {
            /* Our own Sequence Number and Timestamp where we put them. */
            uint32_t a0;
            struct sent_rec *r0 = sent_record(s, tw_get32(p->buf), &a0);
            if (r0 && tw_get64(p->buf + 4) == r0->wire_ts) {
                rec = r0;
                ahead = a0;
                how = HOW_ECHO;
                memset(&rep, 0, sizeof rep);
                rep.seq = rep.sender_seq = r0->seq;
                rep.sender_time = r0->wire_ts;
                ttl_known = false;
            }
        }
        if (how < 0 && rec) {
            if (earlier_run(s, rep.sender_time)) {
                unusable(s, TW_RR_NOT_OURS, p);
                return;
            }
            how = HOW_SEQ_ONLY;
        }
    }
    if (how < 0) {
        unusable(s,
                 s->fmt.kind == TW_TESTFMT_OPEN && p->len < REPLY_MIN_LEN ? TW_RR_TOO_SHORT
                                                                          : TW_RR_UNKNOWN_SEQ,
                 p);
        return;
    }
    if (rec->answered) {
        s->res.duplicates++;
        rec->duplicate = true;
        /* A new reflector sequence number: the request itself was duplicated
         * on its way, and a stateful reflector counted it twice. */
        if (rep.seq != rec->rseq)
            s->res.stats.recounted++;
        tw_info("Duplicate reply [sseq=%u]", rep.sender_seq);
        return;
    }
    rec->answered = true;
    rec->rseq = rep.seq;
    if (s->refl_len)
        check_reflect(s, p, rec);
    if (p->tos >= 0)
        s->res.ecn_in[p->tos & 3]++;
    if (s->dscp_ecn_at && p->len > s->dscp_ecn_at) {
        /* RFC 7750 section 2.2.1: the request's DS field at the reflector. */
        uint8_t v = p->buf[s->dscp_ecn_at];
        s->res.fwd_seen++;
        s->res.fwd_ecn[v & 3]++;
        if ((v >> 2) != (s->cfg.sockopts.tos >> 2))
            s->res.fwd_dscp_other++;
        s->res.fwd_dscp_last = v >> 2;
    }
    rec->t4 = p->rx_time;
    rec->t4_kernel = p->rx_kernel;
    if (s->hw && p->rx_hw) {
        int rc = tw_phc_to_sys(&s->phc, p->rx_hw_time, &rec->t4_hw);
        if (rc < 0) {
            rec->t4_hw = 0;
            rec->hw_rx_bad = true;
            convert_failed(s, rc);
        }
    }
    rec->ttl_in = (int16_t)p->ttl;
    rec->tos_in = (int16_t)p->tos;
    rec->fl_in = p->flowlabel;
    /* A packet arrives with a TTL of 1 at least: 0 is no TTL. */
    rec->ttl_out = ttl_known && rep.sender_ttl ? rep.sender_ttl : -1;
    rec->how = (uint8_t)how;
    rec->ntp2 = rep.rx_time;
    rec->ntp3 = rep.timestamp;
    tw_errest_t ree = tw_errest_decode(rep.errest);
    rec->remote_sync = ree.sync;
    rec->t2 = ree.ptp ? tw_ptp_to_time(rep.rx_time, s->tai) : tw_ntp_to_time(rep.rx_time);
    rec->t3 = ree.ptp ? tw_ptp_to_time(rep.timestamp, s->tai) : tw_ntp_to_time(rep.timestamp);
    if (!rep.rx_time) /* none (an echoed request): 0, as unknown */
        rec->t2 = 0;
    if (!rep.timestamp)
        rec->t3 = 0;
    conform_reply(s, p, rec, &rep, how, ttl_known);
    if (s->tlv.len) {
        s->tlv.ptp = ree.ptp;
        tlv_reply(s, p, &rep, rec->t3);
    }
    /* Late or not: the system clock's t1 and t4, whatever the pair measured. */
    if (rec->t4 - rec->t1 > s->cfg.timeout_ns) {
        s->res.late++;
        rec->late = true;
        tw_info("Late reply [sseq=%u] after %.3f s: counted, not measured", rep.sender_seq,
                (double)(rec->t4 - rec->t1) / 1e9);
        return;
    }
    uint64_t idx = s->next - ahead; /* the packet's place in the whole run */
    if (idx + 1 < s->max_answered_plus1)
        rec->reordered = true;
    else
        s->max_answered_plus1 = idx + 1;
    if (s->pend_head == s->pend_tail && ready(s, rec)) {
        measure(s, rec, (const struct sockaddr *)&p->peer);
        check_done(s);
        return;
    }
    /* Its transmit timestamp is still to come (or replies before it wait for
     * theirs): measured when it comes, or at the latest after TX_WAIT_NS. */
    rec->pending = true;
    s->pend[s->pend_tail++ & s->ring_mask] = (struct pend){rec->seq, tw_mono_now() + TX_WAIT_NS};
    drain(s, false);
}

/* The kernel's transmit timestamps of datagram id: the software one replaces
 * the user-space t1 (it is taken after the IP stack, right where the packet
 * leaves); the NIC's is converted to system time and kept beside it. A reply
 * that came first waits for them (TX_WAIT_NS at most). */
static void on_tx_timestamp(void *arg, const tw_txstamp_t *ts)
{
    tw_sender_t *s = arg;
    uint32_t seq = s->txmap[ts->id & s->ring_mask];
    struct sent_rec *rec = &s->ring[seq & s->ring_mask];
    if (!rec->used || rec->seq != seq || (rec->answered && !rec->pending))
        return; /* measured already, or late */
    if (ts->sw && !rec->t1_kernel) {
        rec->t1 = ts->sw;
        rec->t1_kernel = true;
        s->res.tx_kernel++;
    }
    if (ts->hw && s->hw && !rec->t1_hw && !rec->hw_tx_bad) {
        int rc = tw_phc_to_sys(&s->phc, ts->hw, &rec->t1_hw);
        if (rc < 0) {
            rec->t1_hw = 0;
            rec->hw_tx_bad = true;
            convert_failed(s, rc);
        }
    }
    if (rec->pending)
        drain(s, false);
}

static void on_readable(void *arg, uint32_t events)
{
    tw_sender_t *s = arg;
    /* Transmit timestamps first, so a reply always meets its packet's (a
     * stamp not queued yet is waited for: drain). A non-empty error queue
     * always makes EPOLLERR: without it there is nothing to read there. */
    if (events & EPOLLERR)
        tw_errqueue_read(s->fd, s->tx_stamping ? on_tx_timestamp : NULL, on_icmp, s);
    /* At most 16 batches: the socket stays readable (epoll is level
     * triggered), and the send timer gets its turn in between. */
    for (int rounds = 0; rounds < 16; rounds++) {
        int n = tw_recv_batch(s->fd, s->batch);
        if (n <= 0)
            return;
        tw_pkt_t *last = tw_batch_pkt(s->batch, n - 1);
        if (last->rx_drops_known)
            local_drops_add(s, last->rx_drops);
        for (int i = 0; i < n && !s->done; i++)
            handle_reply(s, tw_batch_pkt(s->batch, i));
        if (s->done || n < RX_BATCH)
            return; /* a short batch emptied the queue: no read to hear EAGAIN */
    }
}

/* A receive buffer for the rate: a quarter of a second of replies at their
 * kernel footprint (about 1 KiB each on loopback and most NICs), at least
 * 256 KiB, at most 256 MiB; and the kernel's drop counter with every reply. */
static void rx_buffer_fit(tw_sender_t *s)
{
    if (tw_rx_drops_enable(s->fd) < 0)
        tw_info("no receive-buffer drop counter (SO_RXQ_OVFL: %s)", strerror(errno));
    if (s->cfg.sockopts.bufsize > 0)
        return; /* the caller chose */
    double pps = s->cfg.interval_ns > 0 ? 1e9 / (double)s->cfg.interval_ns : 1e6;
    double want = pps / 4 * (1024.0 + (double)fmt_len(s, s->cfg.padding < 0 ? 0 : s->cfg.padding));
    if (want < 256 * 1024)
        want = 256 * 1024;
    if (want > 256.0 * 1024 * 1024)
        want = 256.0 * 1024 * 1024;
    s->res.rx_buffer = tw_rcvbuf_fit(s->fd, (long)want);
    if (s->res.rx_buffer >= 0 && s->res.rx_buffer < (long)want / 2)
        tw_info("receive buffer %ld octets, %.0f wanted for the rate (net.core.rmem_max caps "
                "it without CAP_NET_ADMIN)",
                s->res.rx_buffer, want);
}

static int flow_open(tw_sender_t *s, char *err, size_t errlen);

static void hw_unavailable(const char *why)
{
    tw_notice("hardware timestamps are not available (%s); using software timestamps for t1 and "
              "t4",
              why);
}

/* --timestamping hw: the NIC that reaches the peer, its clock (to convert its
 * stamps to system time) and its timestamps on, in that order; without all
 * three, software timestamps for t1 and t4 (said once). */
static void hw_open(tw_sender_t *s)
{
    char ifname[IF_NAMESIZE], why[200];
    bool sw_too = false;
    if (tw_egress_ifname((const struct sockaddr *)&s->cfg.remote, s->cfg.remote_len, ifname, why,
                         sizeof why) < 0 ||
        tw_phc_open(&s->phc, ifname, why, sizeof why) < 0) {
        hw_unavailable(why);
        return;
    }
    if (tw_hw_timestamps_enable(s->fd, ifname, &sw_too, why, sizeof why) < 0) {
        tw_phc_close(&s->phc);
        hw_unavailable(why);
        return;
    }
    s->hw = true;
    s->hw_tx_sw = sw_too;
    s->tx_stamping = true;
    s->res.hw_timestamps = true;
    tw_notice("Hardware timestamps on (interface %s, clock /dev/ptp%d): t1 and t4 from the NIC, "
              "converted to system time",
              ifname, s->phc.index);
    if (!sw_too)
        tw_info("the kernel gives no software transmit timestamp beside the NIC's "
                "(SOF_TIMESTAMPING_OPT_TX_SWHW): a packet the NIC does not stamp has its t1 from "
                "user space");
}

static void phc_sample(tw_sender_t *s)
{
    int rc = tw_phc_update(&s->phc);
    if (rc < 0 && !(s->said & SAID_SAMPLE)) {
        s->said |= SAID_SAMPLE;
        tw_warn("hardware timestamps: cannot read the NIC's clock against the system clock (%s); "
                "NIC timestamps far from the last reading will be measured in software",
                strerror(-rc));
    }
}

/* The NIC's clock is read against the system clock every TW_PHC_UPDATE_NS,
 * more often at the start (from TW_PHC_FIRST_UPDATE_NS, doubling) so that its
 * frequency is known early. */
static void on_phc_timer(void *arg)
{
    tw_sender_t *s = arg;
    phc_sample(s);
    s->phc_period = s->phc_period * 2 < TW_PHC_UPDATE_NS ? s->phc_period * 2 : TW_PHC_UPDATE_NS;
    tw_timer_set(s->loop, &s->phc_timer, tw_mono_now() + s->phc_period, on_phc_timer, s);
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
    tw_phc_init(&s->phc, NULL, NULL);
    tw_stats_init(&s->res.stats);
    tw_errest_t local = tw_clock_errest(false);
    if (tw_metrics_init(&s->res.metrics, local.sync) < 0) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return -1;
    }
    s->res.seed = cfg->seed ? cfg->seed : ((uint64_t)tw_now() ^ ((uint64_t)getpid() << 32)) | 1;
    s->rng = rng_from_seed(s->res.seed);
    s->tai = tw_clock_tai_offset();
    tw_addr_str((struct sockaddr *)&cfg->remote, s->peer, sizeof s->peer);
    s->res.shared_clock = tw_addr_is_local((const struct sockaddr *)&cfg->remote);
    s->cfg.stamp_key = NULL; /* not kept */
    s->res.security_mode = TW_MODE_UNAUTHENTICATED;
    tw_conform_init(&s->res.conform, !cfg->stamp      ? TW_CF_TWAMP
                                     : cfg->stamp_key ? TW_CF_STAMP_AUTH
                                                      : TW_CF_STAMP);
    if (cfg->stamp_key) {
        int rc = cfg->stamp ? tw_testfmt_set_stamp_key(&s->fmt, cfg->stamp_key, cfg->stamp_key_len)
                            : TW_AUTH_EINVAL;
        if (rc < 0) {
            snprintf(err, errlen, "cannot set up the STAMP HMAC key: %s",
                     cfg->stamp ? tw_auth_strerror(rc) : "an HMAC key needs STAMP");
            tw_metrics_free(&s->res.metrics);
            free(s);
            return -1;
        }
        s->res.security_mode = TW_MODE_AUTHENTICATED;
        if (cfg->padding != TW_PADDING_IMIX && fmt_len(s, cfg->padding) > TW_MAX_PACKET_LEN) {
            snprintf(err, errlen,
                     "--padding %d makes a %zu-octet authenticated STAMP packet: more than %d",
                     cfg->padding, fmt_len(s, cfg->padding), TW_MAX_PACKET_LEN);
            tw_testfmt_free(&s->fmt);
            tw_metrics_free(&s->res.metrics);
            free(s);
            return -1;
        }
    }
    s->ring_size = RING_MIN;
    while (s->ring_size < RING_MAX && (!cfg->count || s->ring_size < cfg->count))
        s->ring_size *= 2;
    s->ring_mask = s->ring_size - 1;
    s->ring = calloc(s->ring_size, sizeof *s->ring);
    s->txmap = calloc(s->ring_size, sizeof *s->txmap);
    s->pend = calloc(s->ring_size, sizeof *s->pend);
    s->res.fwd_dscp_last = -1;
    s->txbuf = calloc(1, TW_MAX_PACKET_LEN);
    s->own_batch = !cfg->batch;
    s->batch = cfg->batch ? cfg->batch : tw_batch_new(RX_BATCH, RX_BUFSIZE);
    if (cfg->interval_ns < TX_BATCH_BELOW_NS && !cfg->xmit)
        s->txq = calloc(1, sizeof *s->txq);
    if (!s->ring || !s->txmap || !s->pend || !s->txbuf || !s->batch ||
        (cfg->interval_ns < TX_BATCH_BELOW_NS && !cfg->xmit && !s->txq)) {
        snprintf(err, errlen, "out of memory");
        tw_sender_close(s);
        return -1;
    }
    if (tlv_setup(s, err, errlen) < 0) {
        tw_sender_close(s);
        return -1;
    }
    s->fd =
        tw_udp_open((struct sockaddr *)&cfg->local, cfg->local_len, &s->cfg.sockopts, err, errlen);
    if (s->fd < 0) {
        tw_sender_close(s);
        return -1;
    }
    if (cfg->flowlabel_mode && flow_open(s, err, errlen) < 0) {
        tw_sender_close(s);
        return -1;
    }
    s->tx_stamping = cfg->tsmode != TW_TS_USER && tw_tx_timestamps_enable(s->fd) == 0;
    rx_buffer_fit(s);
    if (tw_icmp_errors_enable(s->fd) < 0)
        tw_info("no ICMP errors on the sender's socket (IP_RECVERR: %s)", strerror(errno));
    if (cfg->tsmode == TW_TS_HARDWARE)
        hw_open(s);
    if (!s->tx_stamping && cfg->tsmode != TW_TS_USER)
        tw_info("no kernel transmit timestamps (%s): t1 is read before each send", strerror(errno));
    if (tw_loop_add(loop, &s->watch, s->fd, EPOLLIN, on_readable, s) < 0) {
        snprintf(err, errlen, "cannot watch the sender socket: %s", strerror(errno));
        tw_sender_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* --flow-label: an IPv6 reflector, labels sent and received, the label. */
static int flow_open(tw_sender_t *s, char *err, size_t errlen)
{
    struct sockaddr_in6 *r6 = (struct sockaddr_in6 *)&s->cfg.remote;
    if (s->cfg.remote.ss_family != AF_INET6 || IN6_IS_ADDR_V4MAPPED(&r6->sin6_addr)) {
        snprintf(err, errlen, "--flow-label needs an IPv6 reflector (%s is IPv4)", s->peer);
        return -1;
    }
    if (tw_flowlabel_enable(s->fd) < 0) {
        snprintf(err, errlen, "cannot send IPv6 flow labels (IPV6_FLOWINFO_SEND): %s",
                 strerror(errno));
        return -1;
    }
    int mode = s->cfg.flowlabel_mode;
    if (mode == TW_FL_FIXED)
        s->fl_label = s->cfg.flowlabel & TW_FLOWLABEL_MAX;
    else if (mode == TW_FL_RANDOM)
        s->fl_label = tw_flowlabel_random();
    else
        s->fl_key = tw_flowlabel_key();
    s->res.flowlabel_mode = mode;
    s->res.flowlabel = s->fl_label;
    s->res.flowlabels = mode == TW_FL_PER_PACKET ? 0 : 1;
    r6->sin6_flowinfo = htonl(s->fl_label);
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
    if (s->cfg.flowlabel_mode && sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)&s->cfg.remote)->sin6_flowinfo = htonl(s->fl_label);
    s->cfg.remote_len = len;
    tw_addr_str(sa, s->peer, sizeof s->peer);
    s->res.shared_clock = tw_addr_is_local(sa);
}

int tw_sender_set_security(tw_sender_t *s, uint32_t mode, tw_test_crypto_t *t, char *err,
                           size_t errlen)
{
    if (s->cfg.stamp || s->fmt.kind == TW_TESTFMT_STAMP_AUTH || s->started) {
        snprintf(err, errlen, "a TWAMP security mode is for a TWAMP session before it starts");
        return -1;
    }
    if (mode == TW_MODE_UNAUTHENTICATED || mode == TW_MODE_MIXED) {
        s->res.security_mode = mode;
        return 0;
    }
    if (!tw_mode_test_protected(mode) || !t || !t->enc) {
        snprintf(err, errlen, "mode %u needs the session's test keys", mode);
        return -1;
    }
    if (s->cfg.padding != TW_PADDING_IMIX &&
        TW_SENDER_AUTH_LEN + (size_t)s->cfg.padding > TW_MAX_PACKET_LEN) {
        snprintf(err, errlen,
                 "--padding %d after the 48-octet header of mode %s makes a packet longer than "
                 "%d octets",
                 s->cfg.padding, tw_mode_name(mode), TW_MAX_PACKET_LEN);
        return -1;
    }
    tw_testfmt_set_twamp(&s->fmt, mode, t); /* checked above: cannot fail */
    tw_conform_init(&s->res.conform, TW_CF_TWAMP_AUTH);
    s->res.security_mode = mode;
    return 0;
}

int tw_sender_set_reflect(tw_sender_t *s, const uint8_t *octets, size_t len, size_t at, size_t back,
                          char *err, size_t errlen)
{
    if (s->started || !octets || !len || at + len > TW_MAX_PACKET_LEN ||
        back + len > TW_MAX_PACKET_LEN) {
        snprintf(err, errlen, "cannot reflect %zu octets from offset %zu to offset %zu", len, at,
                 back);
        return -1;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, octets, len);
    free(s->refl);
    s->refl = copy;
    s->refl_len = len;
    s->refl_at = at;
    s->refl_back = back;
    return 0;
}

void tw_sender_set_dscp_ecn(tw_sender_t *s, size_t at)
{
    s->dscp_ecn_at = at;
}

void tw_sender_start(tw_sender_t *s)
{
    s->started = true;
    s->start_mono = tw_mono_now();
    s->start_wall = tw_now();
    s->next_due = s->start_mono;
    interval_reset(s, 0);
    if (s->hw) {
        phc_sample(s);
        s->phc_period = TW_PHC_FIRST_UPDATE_NS;
        tw_timer_set(s->loop, &s->phc_timer, s->start_mono + s->phc_period, on_phc_timer, s);
    }
    if (s->cfg.on_interval && s->cfg.report_interval_ns > 0)
        tw_timer_set(s->loop, &s->interval_timer, s->start_mono + s->cfg.report_interval_ns,
                     on_interval_timer, s);
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

void tw_sender_input(tw_sender_t *s, tw_pkt_t *p)
{
    if (!s->done)
        handle_reply(s, p);
}

void tw_sender_input_icmp(tw_sender_t *s, const tw_icmperr_t *e)
{
    on_icmp(s, e);
}

void tw_sender_input_txstamp(tw_sender_t *s, const tw_txstamp_t *ts)
{
    on_tx_timestamp(s, ts);
}

void tw_sender_set_first_seq(tw_sender_t *s, uint32_t seq)
{
    if (!s->started)
        s->first_seq = seq;
}

int tw_sender_use_phc(tw_sender_t *s, tw_phc_source_fn source, void *arg)
{
    if (s->started)
        return -1;
    tw_phc_close(&s->phc);
    tw_phc_init(&s->phc, source, arg);
    int rc = tw_phc_update(&s->phc);
    if (rc < 0) {
        char why[96];
        snprintf(why, sizeof why, "cannot read the NIC's clock against the system clock: %s",
                 tw_phc_strerror(rc));
        tw_phc_init(&s->phc, NULL, NULL);
        hw_unavailable(why);
        return -1;
    }
    s->hw = true;
    s->hw_tx_sw = true;
    s->tx_stamping = true;
    s->res.hw_timestamps = true;
    return 0;
}

void tw_sender_close(tw_sender_t *s)
{
    if (!s)
        return;
    tw_timer_cancel(s->loop, &s->send_timer);
    tw_timer_cancel(s->loop, &s->end_timer);
    tw_timer_cancel(s->loop, &s->interval_timer);
    tw_timer_cancel(s->loop, &s->pend_timer);
    tw_timer_cancel(s->loop, &s->phc_timer);
    tw_phc_close(&s->phc);
    if (s->fd >= 0) {
        tw_loop_del(s->loop, &s->watch);
        close(s->fd);
    }
    if (s->own_batch)
        tw_batch_free(s->batch);
    free(s->ring);
    free(s->txmap);
    free(s->pend);
    tw_metrics_free(&s->res.metrics);
    tw_testfmt_free(&s->fmt);
    free(s->txbuf);
    free(s->refl);
    free(s->txq);
    free(s);
}

/* ---- STAMP TLVs (RFC 8972) -------------------------------------------------- */

static int tlv_hmac(void *arg, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                    uint8_t out[TW_TLV_HMAC_LEN])
{
    tw_sender_t *s = arg;
    return tw_stamp_tlv_hmac(&s->fmt.sc, seq, tlvs, n, out) == TW_AUTH_OK ? 0 : -1;
}

/* What --tlv asked for: STAMP only; the HMAC TLV (§4.8) in the authenticated
 * mode whenever there is more than Extra Padding, and only there. */
static int tlv_setup(tw_sender_t *s, char *err, size_t errlen)
{
    const tw_tlv_req_t *rq = &s->cfg.tlv;
    bool hmac_asked = (rq->want >> TW_TLVT_HMAC) & 1u;
    uint32_t want = rq->want & ~(1u << TW_TLVT_HMAC);
    if (!want && !rq->unknown_type && !hmac_asked)
        return 0;
    if (!s->cfg.stamp) {
        snprintf(err, errlen, "STAMP TLVs (--tlv) need STAMP (--stamp)");
        return -1;
    }
    bool auth = s->fmt.kind == TW_TESTFMT_STAMP_AUTH;
    if (hmac_asked && !auth) {
        snprintf(err, errlen, "the HMAC TLV (--tlv hmac) needs authenticated STAMP (--keyfile)");
        return -1;
    }
    s->tlv.hmac = auth && (hmac_asked || (want & ~(1u << TW_TLVT_PADDING)) || rq->unknown_type);
    s->tlv.len = tw_tlv_req_len(rq, s->tlv.hmac);
    if (!s->tlv.len) /* --tlv hmac alone, nothing to protect: an HMAC TLV alone */
        s->tlv.len = tw_tlv_req_len(rq, s->tlv.hmac = true);
    tw_tlv_result_t *r = &s->res.tlv;
    memset(r, 0, sizeof *r);
    r->want = rq->want | (s->tlv.hmac ? 1u << TW_TLVT_HMAC : 0);
    r->cos_sent_dscp = s->cfg.sockopts.tos >> 2;
    r->cos_dscp1 = rq->cos_dscp;
    r->cos_dscp2 = r->cos_ecn = r->cos_reply_dscp = -1;
    if ((rq->want >> TW_TLVT_COS) & 1u)
        s->cfg.sockopts.recv_tos = true; /* the reply's DSCP, to see re-marking */
    return 0;
}

/* The TLVs after the base packet of len octets (the HMAC TLV over them). */
static int tlv_append(tw_sender_t *s, uint8_t *txbuf, uint32_t seq, size_t len)
{
    if (len + s->tlv.len > TW_MAX_PACKET_LEN) {
        snprintf(s->res.fatal, sizeof s->res.fatal,
                 "a %zu-octet packet and %zu octets of TLVs are more than %d octets", len,
                 s->tlv.len, TW_MAX_PACKET_LEN);
        s->res.fatal_errno = EMSGSIZE;
        return -1;
    }
    uint8_t sq[4];
    tw_put32(sq, seq);
    int n = tw_tlv_build(&s->cfg.tlv, (uint32_t)(s->next + 1), sq, s->tlv.hmac ? tlv_hmac : NULL, s,
                         txbuf + len, TW_MAX_PACKET_LEN - len);
    if (n < 0 || (size_t)n != s->tlv.len) {
        snprintf(s->res.fatal, sizeof s->res.fatal, "cannot build the STAMP TLVs");
        s->res.fatal_errno = EINVAL;
        return -1;
    }
    return 0;
}

static bool t3_of(void *arg, uint32_t rseq, int64_t *t3)
{
    tw_sender_t *s = arg;
    for (int i = 0; i < T3_RING; i++)
        if (s->tlv.t3[i].used && s->tlv.t3[i].rseq == rseq) {
            *t3 = s->tlv.t3[i].t3;
            return true;
        }
    return false;
}

static int64_t fu_ts_ns(void *arg, uint64_t wire)
{
    tw_sender_t *s = arg;
    return s->tlv.ptp ? tw_ptp_to_time(wire, s->tai) : tw_ntp_to_time(wire);
}

/* A reply's TLVs: what the reflector answered (stamp_tlv.h). */
static void tlv_reply(tw_sender_t *s, const tw_pkt_t *p, const tw_reflector_pkt_t *rep, int64_t t3)
{
    size_t base = s->fmt.kind == TW_TESTFMT_STAMP_AUTH ? TW_STAMP_AUTH_BASE_LEN : TW_STAMP_BASE_LEN;
    uint8_t seq[4];
    tw_put32(seq, rep->seq);
    tw_tlv_reply_ctx_t c = {.tos = p->tos,
                            .sent_tos = s->cfg.sockopts.tos,
                            .hmac = s->tlv.hmac ? tlv_hmac : NULL,
                            .hmac_arg = s,
                            .rep_seq = seq,
                            .t3_of = t3_of,
                            .fu_ts_ns = fu_ts_ns,
                            .arg = s};
    tw_tlv_read_reply(&s->res.tlv, p->buf, base, p->len > base ? p->len : base, &c);
    if (t3) {
        int k = (int)(rep->seq % T3_RING);
        s->tlv.t3[k].rseq = rep->seq;
        s->tlv.t3[k].t3 = t3;
        s->tlv.t3[k].used = true;
    }
}
