/* Unit tests for sender: the Session-Sender driven through its no-I/O hooks.
 * Packets go to a capture function (cfg.xmit), replies and transmit
 * timestamps are crafted here, their control messages built octet by octet
 * and read by net.c's parsers as the socket path does, then handed to
 * tw_sender_input / tw_sender_input_txstamp. A made-up NIC clock (37 s ahead
 * of the system clock, as a PHC in TAI, and 20 ppm fast) stands in for the
 * hardware. Waits run the event loop with a deadline; nothing sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "report.h"
#include "sender.h"
#include "wire.h"

#define SEC TW_NS_PER_SEC
#define MAXPKT 16
#define WAIT_NS (3 * SEC) /* bound of a wait that is expected to end */

/* Offsets from the packet's t1 (as the sender read it) of the crafted times. */
#define SW_TX 3000  /* kernel software transmit stamp */
#define HW_TX 4000  /* NIC transmit stamp */
#define T2 10000    /* reflector receive */
#define T3 12000    /* reflector send */
#define HW_RX 19000 /* NIC receive stamp */
#define SW_RX 20000 /* kernel software receive stamp */
#define RTT_HW ((HW_RX - HW_TX) - (T3 - T2))
#define RTT_SW ((SW_RX - SW_TX) - (T3 - T2))
#define RTT_USER ((SW_RX - 0) - (T3 - T2))
#define NEAR(a, b) ((a) - (b) <= 3 && (b) - (a) <= 3) /* NTP rounding of t1..t3 */

typedef struct fakephc {
    tw_time_t base;
    int64_t lag; /* the samples are this old (a stale table) */
    int fail;
} fakephc_t;

typedef struct h {
    tw_loop_t *loop;
    tw_sender_t *s;
    int nsent;
    struct {
        uint32_t seq;
        uint64_t ts; /* the Timestamp on the wire */
    } sent[MAXPKT];
    tw_packet_record_t rec[MAXPKT];
    int nrec;
    bool done;
    bool bulk; /* more packets than MAXPKT: only the first ones are kept */
    fakephc_t phc;
} h_t;

/* The NIC's clock: 37 s ahead, 20 ppm fast. */
static tw_time_t phc_of(const fakephc_t *f, tw_time_t sys)
{
    return sys + 37 * SEC + (sys - f->base) / 50000;
}

static int fake_source(void *arg, tw_phc_sample_t *out)
{
    fakephc_t *f = arg;
    if (f->fail)
        return f->fail;
    out->sys = tw_now() - f->lag;
    out->phc = phc_of(f, out->sys);
    out->window = 100;
    return 0;
}

static ssize_t xmit(void *arg, const uint8_t *buf, size_t len)
{
    h_t *h = arg;
    tw_sender_pkt_t p;
    assert_int_equal(tw_sender_decode(buf, len, &p), TW_WIRE_OK);
    assert_true(h->nsent < MAXPKT || h->bulk);
    if (h->nsent < MAXPKT) {
        h->sent[h->nsent].seq = p.seq;
        h->sent[h->nsent].ts = p.timestamp;
    }
    h->nsent++;
    return (ssize_t)len;
}

static void on_packet(void *arg, const tw_packet_record_t *r)
{
    h_t *h = arg;
    assert_true(h->nrec < MAXPKT || h->bulk);
    if (h->nrec < MAXPKT)
        h->rec[h->nrec] = *r;
    h->nrec++;
}

static void on_done(void *arg)
{
    ((h_t *)arg)->done = true;
}

static void run_until(h_t *h, bool (*cond)(h_t *))
{
    int64_t end = tw_mono_now() + WAIT_NS;
    while (!cond(h)) {
        assert_true(tw_mono_now() < end);
        tw_loop_run_once(h->loop, 10);
    }
}

static int want_sent;
static bool all_sent(h_t *h)
{
    return h->nsent >= want_sent;
}

static bool is_done(h_t *h)
{
    return h->done;
}

/* The interval of the senders open_h makes (ns). */
static int64_t open_interval_ns = 1;

/* A sender of count packets numbered from first_seq, not started. */
static h_t *open_h(uint32_t count, uint32_t first_seq)
{
    h_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->loop = tw_loop_new();
    assert_non_null(h->loop);
    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *l = (struct sockaddr_in *)&cfg.local;
    l->sin_family = AF_INET;
    l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *l;
    struct sockaddr_in *r = (struct sockaddr_in *)&cfg.remote;
    r->sin_family = AF_INET;
    r->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->sin_port = htons(9); /* never used: packets go to xmit */
    cfg.remote_len = sizeof *r;
    cfg.sockopts.ttl = 255;
    cfg.count = count;
    cfg.interval_ns = open_interval_ns;
    cfg.padding = 27;
    cfg.tsmode = TW_TS_SOFTWARE;
    cfg.timeout_ns = 2 * SEC;
    cfg.on_done = on_done;
    cfg.on_done_arg = h;
    cfg.on_packet = on_packet;
    cfg.hook_arg = h;
    cfg.xmit = xmit;
    char err[256];
    assert_int_equal(tw_sender_open(&h->s, &cfg, h->loop, err, sizeof err), 0);
    tw_sender_set_first_seq(h->s, first_seq);
    h->phc.base = tw_now();
    return h;
}

/* Start it and wait until every packet is sent. */
static void go(h_t *h, int count)
{
    tw_sender_start(h->s);
    want_sent = count;
    run_until(h, all_sent);
}

static h_t *start(uint32_t count, uint32_t first_seq, bool hw)
{
    h_t *h = open_h(count, first_seq);
    if (hw)
        assert_int_equal(tw_sender_use_phc(h->s, fake_source, &h->phc), 0);
    go(h, (int)count);
    return h;
}

static void stop(h_t *h)
{
    tw_sender_close(h->s);
    tw_loop_free(h->loop);
    free(h);
}

static tw_time_t t1_of(const h_t *h, int i)
{
    return tw_ntp_to_time(h->sent[i].ts);
}

/* ---- crafted control messages, read by net.c's parsers -------------------- */

typedef struct ctl {
    union {
        struct cmsghdr align;
        uint8_t b[512];
    } u;
    size_t len;
} ctl_t;

static void put(ctl_t *c, int level, int type, const void *data, size_t dlen)
{
    struct cmsghdr *hd = (struct cmsghdr *)(c->u.b + c->len);
    memset(hd, 0, CMSG_SPACE(dlen));
    hd->cmsg_level = level;
    hd->cmsg_type = type;
    hd->cmsg_len = CMSG_LEN(dlen);
    memcpy(CMSG_DATA(hd), data, dlen);
    c->len += CMSG_SPACE(dlen);
}

static void put_timestamping(ctl_t *c, tw_time_t sw, tw_time_t hw)
{
    struct scm_timestamping st;
    memset(&st, 0, sizeof st);
    st.ts[0] = (struct timespec){.tv_sec = sw / SEC, .tv_nsec = sw % SEC};
    st.ts[2] = (struct timespec){.tv_sec = hw / SEC, .tv_nsec = hw % SEC};
    put(c, SOL_SOCKET, SCM_TIMESTAMPING, &st, sizeof st);
}

/* One error-queue message, as the kernel sends one per stamp (OPT_TSONLY). */
static void txstamp(h_t *h, uint32_t id, tw_time_t sw, tw_time_t hw)
{
    ctl_t c = {.len = 0};
    put_timestamping(&c, sw, hw);
    struct sock_extended_err ee = {
        .ee_errno = ENOMSG, .ee_origin = SO_EE_ORIGIN_TIMESTAMPING, .ee_data = id};
    put(&c, IPPROTO_IP, IP_RECVERR, &ee, sizeof ee);
    struct msghdr mh = {.msg_control = c.u.b, .msg_controllen = c.len};
    tw_txstamp_t ts;
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 1);
    tw_sender_input_txstamp(h->s, &ts);
}

static void txstamp_sw(h_t *h, int i)
{
    txstamp(h, (uint32_t)i, t1_of(h, i) + SW_TX, 0);
}

static void txstamp_hw(h_t *h, int i)
{
    txstamp(h, (uint32_t)i, 0, phc_of(&h->phc, t1_of(h, i) + HW_TX));
}

/* The reply to sent packet i: reflector sequence rseq, Timestamp echo (or
 * another), kernel software receive stamp and, with hw, the NIC's. */
static void reply_full(h_t *h, int i, uint32_t seq, uint64_t echo, uint32_t rseq, bool hw)
{
    tw_time_t t1 = t1_of(h, i);
    tw_errest_t ee = {.sync = true, .scale = 0, .multiplier = 1};
    tw_reflector_pkt_t rp = {
        .seq = rseq,
        .timestamp = tw_time_to_ntp(t1 + T3),
        .errest = tw_errest_encode(&ee),
        .rx_time = tw_time_to_ntp(t1 + T2),
        .sender_seq = seq,
        .sender_time = echo,
        .sender_ttl = 255,
    };
    uint8_t buf[TW_REFLECTOR_BASE_LEN];
    assert_int_equal(tw_reflector_encode(&rp, false, buf, sizeof buf), TW_WIRE_OK);
    ctl_t c = {.len = 0};
    put_timestamping(&c, t1 + SW_RX, hw ? phc_of(&h->phc, t1 + HW_RX) : 0);
    int ttl = 64;
    put(&c, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    struct msghdr mh = {.msg_control = c.u.b, .msg_controllen = c.len};
    tw_pkt_t p;
    memset(&p, 0, sizeof p);
    tw_rx_cmsgs_parse(&mh, &p);
    if (!p.rx_kernel)
        p.rx_time = tw_now();
    p.buf = buf;
    p.len = p.cap = sizeof buf;
    struct sockaddr_in *peer = (struct sockaddr_in *)&p.peer;
    peer->sin_family = AF_INET;
    peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer->sin_port = htons(9);
    p.peer_len = sizeof *peer;
    tw_sender_input(h->s, &p);
}

static void reply(h_t *h, int i, bool hw)
{
    reply_full(h, i, h->sent[i].seq, h->sent[i].ts, (uint32_t)i, hw);
}

static const tw_sender_result_t *res(h_t *h)
{
    return tw_sender_result(h->s);
}

/* ---- matching ------------------------------------------------------------- */

/* --tlv: STAMP only; the HMAC TLV only with the authenticated format. */
static void test_tlv_needs_stamp(void **st)
{
    (void)st;
    tw_loop_t *loop = tw_loop_new();
    tw_sender_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *l = (struct sockaddr_in *)&cfg.local;
    l->sin_family = AF_INET;
    l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *l;
    cfg.remote = cfg.local;
    cfg.remote_len = cfg.local_len;
    cfg.sockopts.ttl = 64;
    cfg.count = 1;
    cfg.interval_ns = SEC;
    cfg.tlv.want = 1u << TW_TLVT_LOCATION;
    tw_sender_t *s = NULL;
    char err[256];
    assert_int_equal(tw_sender_open(&s, &cfg, loop, err, sizeof err), -1);
    assert_non_null(strstr(err, "need STAMP"));
    cfg.stamp = true;
    cfg.tlv.want = 1u << TW_TLVT_HMAC;
    assert_int_equal(tw_sender_open(&s, &cfg, loop, err, sizeof err), -1);
    assert_non_null(strstr(err, "authenticated STAMP"));
    cfg.tlv.want = 1u << TW_TLVT_LOCATION;
    assert_int_equal(tw_sender_open(&s, &cfg, loop, err, sizeof err), 0);
    assert_int_equal(tw_sender_result(s)->tlv.want, 1u << TW_TLVT_LOCATION);
    tw_sender_close(s);
    tw_loop_free(loop);
}

static void test_match_by_seq_and_timestamp(void **st)
{
    (void)st;
    h_t *h = start(3, 0, false);
    for (int i = 0; i < 3; i++)
        txstamp_sw(h, i);
    /* The right sequence number with a Timestamp of ours from before the
     * run (the reply to an earlier run's packet): not ours. */
    reply_full(h, 1, h->sent[1].seq, tw_time_to_ntp(t1_of(h, 1) - 3600 * SEC), 1, false);
    assert_int_equal(res(h)->unmatched, 1);
    assert_int_equal(res(h)->issues.unusable[TW_RR_NOT_OURS], 1);
    /* A sequence number not sent yet. */
    reply_full(h, 1, 7, h->sent[1].ts, 1, false);
    assert_int_equal(res(h)->unmatched, 2);
    assert_int_equal(res(h)->issues.unusable[TW_RR_UNKNOWN_SEQ], 1);
    assert_int_equal(res(h)->stats.received, 0);
    /* The right sequence number with another Timestamp (not one of an
     * earlier run): matched by the sequence number alone and measured. */
    reply_full(h, 0, h->sent[0].seq, h->sent[0].ts + 1, 0, false);
    assert_int_equal(res(h)->stats.received, 1);
    assert_int_equal(res(h)->issues.noted[TW_RN_TS_NOT_ECHOED], 1);
    for (int i = 1; i < 3; i++)
        reply(h, i, false);
    assert_true(h->done);
    assert_int_equal(res(h)->stats.received, 3);
    assert_int_equal(res(h)->unmatched, 2);
    assert_int_equal(h->nrec, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h->rec[i].seq, i);
        assert_int_equal(h->rec[i].status, TW_PKT_OK);
        assert_true(h->rec[i].t1 == t1_of(h, i) + SW_TX);
        assert_true(h->rec[i].t4 == t1_of(h, i) + SW_RX);
    }
    assert_true(NEAR(res(h)->stats.roundtrip.min, RTT_SW));
    assert_true(NEAR(res(h)->stats.roundtrip.max, RTT_SW));
    assert_int_equal(res(h)->tx_kernel, 3);
    assert_int_equal(res(h)->rx_kernel, 3);
    stop(h);
}

/* ---- other reflectors' layouts (issue 11) ---------------------------------- */

/* Any octets as a reply to packet i: kernel receive stamp t1 + SW_RX, from
 * the reflector's address and port (or another port). */
static void reply_raw(h_t *h, int i, const uint8_t *buf, size_t len, uint16_t port)
{
    ctl_t c = {.len = 0};
    put_timestamping(&c, t1_of(h, i) + SW_RX, 0);
    struct msghdr mh = {.msg_control = c.u.b, .msg_controllen = c.len};
    tw_pkt_t p;
    memset(&p, 0, sizeof p);
    tw_rx_cmsgs_parse(&mh, &p);
    uint8_t copy[64];
    memcpy(copy, buf, len);
    p.buf = copy;
    p.len = p.cap = len;
    struct sockaddr_in *peer = (struct sockaddr_in *)&p.peer;
    peer->sin_family = AF_INET;
    peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer->sin_port = htons(port);
    p.peer_len = sizeof *peer;
    tw_sender_input(h->s, &p);
}

static void test_interop_layouts(void **st)
{
    (void)st;
    h_t *h = start(4, 0, false);
    for (int i = 0; i < 4; i++)
        txstamp_sw(h, i);
    uint8_t b[64];
    /* The Python twampy responder: 38 octets, one time as t2 and t3, Error
     * Estimate 0x0001, then the request's first 14 octets. */
    memset(b, 0, sizeof b);
    tw_put32(b, 100);
    tw_put64(b + 4, tw_time_to_ntp(t1_of(h, 0) + T2));
    tw_put16(b + 12, 0x0001);
    tw_put64(b + 16, tw_time_to_ntp(t1_of(h, 0) + T2));
    tw_put32(b + 24, h->sent[0].seq);
    tw_put64(b + 28, h->sent[0].ts);
    tw_put16(b + 36, 0x0001);
    reply_raw(h, 0, b, 38, 9);
    assert_int_equal(res(h)->stats.received, 1);
    assert_int_equal(res(h)->issues.noted[TW_RN_NO_TTL], 1);
    /* The swapped layout: our t1 at 4, its t3 at 28, our sequence number in
     * both, Error Estimate 0x8001, the request's TTL at 40 and TOS at 41. */
    memset(b, 0, sizeof b);
    tw_put32(b, h->sent[1].seq);
    tw_put64(b + 4, h->sent[1].ts);
    tw_put16(b + 12, 0x8001);
    tw_put64(b + 16, tw_time_to_ntp(t1_of(h, 1) + T2));
    tw_put32(b + 24, h->sent[1].seq);
    tw_put64(b + 28, tw_time_to_ntp(t1_of(h, 1) + T3));
    b[40] = 64;
    b[41] = 0;
    reply_raw(h, 1, b, 42, 9);
    assert_int_equal(res(h)->stats.received, 2);
    assert_int_equal(res(h)->issues.noted[TW_RN_SWAPPED], 1);
    /* Its reply to a 14-octet request: 14 octets, our sequence number and t1
     * only: the round trip, nothing else. */
    memset(b, 0, sizeof b);
    tw_put32(b, h->sent[2].seq);
    tw_put64(b + 4, h->sent[2].ts);
    tw_put16(b + 12, 0x8001);
    reply_raw(h, 2, b, 14, 9);
    assert_int_equal(res(h)->stats.received, 3);
    assert_int_equal(res(h)->issues.noted[TW_RN_ECHO], 1);
    /* t3 before t2: the round trip only. */
    memset(b, 0, sizeof b);
    tw_put32(b, 3);
    tw_put64(b + 4, tw_time_to_ntp(t1_of(h, 3) + T2 - 5000));
    tw_put64(b + 16, tw_time_to_ntp(t1_of(h, 3) + T2));
    tw_put32(b + 24, h->sent[3].seq);
    tw_put64(b + 28, h->sent[3].ts);
    b[40] = 64;
    reply_raw(h, 3, b, 41, 9);
    assert_true(h->done);
    const tw_sender_result_t *r = res(h);
    assert_int_equal(r->stats.received, 4);
    assert_int_equal(r->issues.noted[TW_RN_IMPLAUSIBLE], 1);
    assert_int_equal(r->issues.oneway_na, 2);
    assert_int_equal(r->stats.roundtrip.n, 4);
    assert_int_equal(r->stats.outbound.n, 2);
    assert_int_equal(r->metrics.outbound.n, 2);
    assert_int_equal(r->metrics.residence.n, 2);
    /* The round trip from our own t1 and t4 where t2/t3 are not used. */
    assert_true(NEAR(r->stats.roundtrip.max, SW_RX - SW_TX));
    assert_true(NEAR(r->stats.roundtrip.min, RTT_SW));
    /* The conformance findings, each reply examined once (conformance.c). */
    const tw_conformance_t *c = &r->conform;
    assert_int_equal(c->format, TW_CF_TWAMP);
    assert_int_equal(c->replies, 4);
    assert_int_equal(tw_conform_count(c, TW_CF_T2_EQUALS_T3), 1);  /* python */
    assert_int_equal(tw_conform_count(c, TW_CF_NO_SENDER_TTL), 1); /* python: 38 octets */
    assert_int_equal(c->ttl_zero, 0);
    assert_int_equal(tw_conform_count(c, TW_CF_SWAPPED), 1);
    assert_int_equal(tw_conform_count(c, TW_CF_ECHOED), 1);
    assert_int_equal(tw_conform_count(c, TW_CF_T3_BEFORE_T2), 1);
    assert_int_equal(tw_conform_count(c, TW_CF_ERREST_ZERO), 1); /* the last: 0x0000 */
    assert_int_equal(tw_conform_count(c, TW_CF_MBZ), 0);
    assert_int_equal(tw_conform_count(c, TW_CF_CLOCK_FAR_OFF), 0);
    /* Reflector sequence 100 (python), then ours (1, 3): not one way. */
    assert_int_equal(c->seq_seen, 3);
    assert_int_equal(tw_conform_count(c, TW_CF_SEQ_ERRATIC), 1);
    assert_int_equal(tw_conform_count(c, TW_CF_SEQ_STATELESS), 0);
    stop(h);
}

/* A duplicate or an unusable reply is never examined: one finding per packet. */
static void test_conform_first_reply_only(void **st)
{
    (void)st;
    h_t *h = start(2, 0, false);
    for (int i = 0; i < 2; i++)
        txstamp_sw(h, i);
    reply(h, 0, false);
    reply(h, 0, false);                           /* a duplicate */
    reply_full(h, 1, 7, h->sent[1].ts, 1, false); /* unknown sequence */
    reply(h, 1, false);
    const tw_conformance_t *c = &res(h)->conform;
    assert_int_equal(c->replies, 2);
    assert_int_equal(c->seq_seen, 2);
    assert_int_equal(tw_conform_count(c, TW_CF_SEQ_STATELESS), 2);
    for (int k = 0; k < TW_CF_SEQ_STATELESS; k++)
        assert_int_equal(tw_conform_count(c, k), 0);
    stop(h);
}

static void test_unusable_reasons(void **st)
{
    (void)st;
    h_t *h = start(1, 0, false);
    txstamp_sw(h, 0);
    uint8_t b[64];
    memset(b, 0, sizeof b);
    tw_put32(b + 24, h->sent[0].seq);
    tw_put64(b + 28, h->sent[0].ts);
    reply_raw(h, 0, b, 41, 10); /* another port */
    reply_raw(h, 0, b, 20, 9);  /* too short, no echo */
    reply_raw(h, 0, b, 30, 9);
    tw_put32(b + 24, 9); /* not sent */
    reply_raw(h, 0, b, 41, 9);
    const tw_sender_result_t *r = res(h);
    assert_int_equal(r->stats.received, 0);
    assert_int_equal(r->issues.unusable[TW_RR_WRONG_SOURCE], 1);
    assert_int_equal(r->issues.unusable[TW_RR_TOO_SHORT], 2);
    assert_int_equal(r->issues.short_min, 20);
    assert_int_equal(r->issues.short_max, 30);
    assert_int_equal(r->issues.unusable[TW_RR_UNKNOWN_SEQ], 1);
    assert_int_equal(tw_replies_seen(r), 4);
    assert_string_equal(tw_reply_reason_code(TW_RR_WRONG_SOURCE), "wrong_source");
    stop(h);
}

/* ICMP errors by kind (RFC 792, RFC 4443), named in the report's lines. */
static tw_icmperr_t icmp_of(uint8_t origin, uint8_t type, uint8_t code, uint32_t info,
                            uint32_t from)
{
    tw_icmperr_t e;
    memset(&e, 0, sizeof e);
    e.origin = origin;
    e.type = type;
    e.code = code;
    e.info = info;
    struct sockaddr_in o = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(from)};
    memcpy(&e.offender, &o, sizeof o); /* not through a cast: no aliasing */
    return e;
}

static bool has_line(const tw_sender_result_t *r, const char *want)
{
    char lines[TW_MAX_ISSUE_LINES][320];
    int n = tw_reply_issue_lines(r, lines, TW_MAX_ISSUE_LINES);
    for (int i = 0; i < n; i++)
        if (!strcmp(lines[i], want))
            return true;
    fprintf(stderr, "no line '%s' among %d:\n", want, n);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  %s\n", lines[i]);
    return false;
}

static void test_icmp_kinds(void **st)
{
    (void)st;
    h_t *h = start(4, 0, false);
    tw_icmperr_t e = icmp_of(SO_EE_ORIGIN_ICMP, 3, 4, 1400, 0x7f000002); /* frag needed */
    tw_sender_input_icmp(h->s, &e);
    tw_sender_input_icmp(h->s, &e);
    e = icmp_of(SO_EE_ORIGIN_ICMP, 11, 0, 0, 0x7f000003); /* TTL exceeded */
    tw_sender_input_icmp(h->s, &e);
    e = icmp_of(SO_EE_ORIGIN_ICMP, 3, 1, 0, 0x7f000004); /* host unreachable */
    tw_sender_input_icmp(h->s, &e);
    e = icmp_of(SO_EE_ORIGIN_ICMP6, 2, 0, 1280, 0x7f000005); /* packet too big */
    tw_sender_input_icmp(h->s, &e);
    const tw_sender_result_t *r = res(h);
    assert_int_equal(r->issues.icmp[TW_ICMP_FRAG_NEEDED], 3);
    assert_int_equal(r->issues.icmp[TW_ICMP_TTL_EXCEEDED], 1);
    assert_int_equal(r->issues.icmp[TW_ICMP_HOST_UNREACH], 1);
    assert_int_equal(r->issues.icmp_mtu, 1280);
    assert_string_equal(r->issues.icmp_from[TW_ICMP_FRAG_NEEDED], "127.0.0.2");
    assert_true(has_line(r, "ICMP: 127.0.0.3 answered ICMP TTL exceeded to 1 of 4 packets: the "
                            "reflector is farther than --ttl hops"));
    assert_true(has_line(r, "ICMP: 127.0.0.2 answered ICMP fragmentation needed (MTU 1280) to 3 "
                            "of 4 packets: the packets are too big for the path with "
                            "do-not-fragment; lower --padding"));
    assert_true(has_line(r, "ICMP: 127.0.0.4 answered ICMP host unreachable to 1 of 4 packets: "
                            "is the address right, the host up and the path open?"));
    stop(h);
}

static void test_duplicates(void **st)
{
    (void)st;
    h_t *h = start(2, 0, false);
    txstamp_sw(h, 0);
    txstamp_sw(h, 1);
    reply(h, 0, false);
    reply(h, 0, false); /* the reply duplicated on its way back */
    assert_int_equal(res(h)->duplicates, 1);
    assert_int_equal(res(h)->stats.recounted, 0);
    reply_full(h, 0, h->sent[0].seq, h->sent[0].ts, 5, false); /* the request duplicated */
    assert_int_equal(res(h)->duplicates, 2);
    assert_int_equal(res(h)->stats.recounted, 1);
    assert_int_equal(res(h)->stats.received, 1);
    reply(h, 1, false);
    assert_true(h->done);
    assert_int_equal(res(h)->stats.received, 2);
    assert_int_equal(h->rec[0].status, TW_PKT_DUPLICATE);
    assert_int_equal(h->rec[1].status, TW_PKT_OK);
    stop(h);
}

/* Sequence numbers wrap at 2^32: 0xfffffffe, 0xffffffff, 0, 1. */
static void test_sequence_wrap(void **st)
{
    (void)st;
    h_t *h = start(4, 0xfffffffeu, false);
    static const uint32_t seqs[4] = {0xfffffffeu, 0xffffffffu, 0, 1};
    for (int i = 0; i < 4; i++) {
        assert_true(h->sent[i].seq == seqs[i]);
        txstamp_sw(h, i);
    }
    /* Not sent yet: 2. */
    reply_full(h, 3, 2, h->sent[3].ts, 0, false);
    assert_int_equal(res(h)->unmatched, 1);
    /* Answered last first. */
    for (int i = 3; i >= 0; i--)
        reply(h, i, false);
    assert_true(h->done);
    assert_int_equal(res(h)->stats.received, 4);
    assert_int_equal(res(h)->unmatched, 1);
    assert_int_equal(h->nrec, 4);
    for (int i = 0; i < 4; i++)
        assert_true(h->rec[i].seq == seqs[i]);
    assert_int_equal(h->rec[3].status, TW_PKT_OK);
    assert_int_equal(h->rec[0].status, TW_PKT_REORDERED);
    stop(h);
}

/* ---- transmit timestamps that come after the reply ------------------------ */

/* A software transmit stamp that comes after its reply is applied to the
 * answered packet before it is measured (it used to be dropped, leaving t1
 * the user-space read before the send). */
static void test_late_sw_txstamp_applied(void **st)
{
    (void)st;
    h_t *h = start(2, 0, false);
    txstamp_sw(h, 0);
    reply(h, 0, false);
    reply(h, 1, false); /* before its transmit stamp */
    txstamp_sw(h, 1);
    assert_true(h->done);
    assert_int_equal(res(h)->stats.received, 2);
    assert_true(h->rec[1].t1 == t1_of(h, 1) + SW_TX);
    assert_true(NEAR(res(h)->stats.roundtrip.max, RTT_SW));
    assert_true(NEAR(res(h)->stats.roundtrip.min, RTT_SW));
    assert_int_equal(res(h)->tx_kernel, 2);
    stop(h);
}

/* No transmit stamp ever: measured TX_WAIT later with the user-space t1. */
static void test_sw_txstamp_never_comes(void **st)
{
    (void)st;
    h_t *h = start(1, 0, false);
    reply(h, 0, false);
    run_until(h, is_done);
    assert_int_equal(res(h)->stats.received, 1);
    assert_int_equal(res(h)->tx_kernel, 0);
    assert_true(NEAR(res(h)->stats.roundtrip.min, RTT_USER));
    stop(h);
}

/* ---- hardware timestamps -------------------------------------------------- */

/* t1 and t4 from the NIC, converted from its clock to system time: the
 * delays against the reflector's UTC t2 and t3 are right to the ns, whether
 * the NIC's transmit stamp comes before the reply or after it. */
static void test_hw_converted_never_mixed(void **st)
{
    (void)st;
    h_t *h = start(2, 0, true);
    txstamp_sw(h, 0);
    txstamp_hw(h, 0);
    reply(h, 0, true);
    reply(h, 1, true); /* before its transmit stamps */
    txstamp_hw(h, 1);
    txstamp_sw(h, 1);
    run_until(h, is_done);
    const tw_sender_result_t *r = res(h);
    print_message("hw: %llu measured, %llu late; round trip %lld ns, outbound %lld ns, inbound "
                  "%lld ns (want %d, %d, %d)\n",
                  (unsigned long long)r->stats.received, (unsigned long long)r->late,
                  (long long)r->stats.roundtrip.max, (long long)r->stats.outbound.max,
                  (long long)r->stats.inbound.max, RTT_HW, T2 - HW_TX, HW_RX - T3);
    assert_int_equal(r->stats.received, 2);
    assert_true(NEAR(r->stats.roundtrip.min, RTT_HW));
    assert_true(NEAR(r->stats.roundtrip.max, RTT_HW));
    assert_true(NEAR(r->stats.outbound.max, T2 - HW_TX));
    assert_true(NEAR(r->stats.inbound.max, HW_RX - T3));
    for (int i = 0; i < 2; i++) {
        assert_true(NEAR(h->rec[i].t1, t1_of(h, i) + HW_TX));
        assert_true(NEAR(h->rec[i].t4, t1_of(h, i) + HW_RX));
    }
    assert_int_equal(r->hw_pairs, 2);
    assert_int_equal(r->hw_fallback, 0);
    assert_int_equal(r->tx_kernel, 2);
    assert_int_equal(r->rx_kernel, 2);
    assert_true(r->hw_timestamps);
    /* The report says where t1 and t4 came from, also in a total. */
    tw_sender_result_t total;
    tw_report_total_init(&total);
    tw_report_merge(&total, r);
    const tw_sender_result_t *both[2] = {r, &total};
    for (int k = 0; k < 2; k++) {
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        assert_non_null(f);
        tw_report_extended(f, both[k]);
        fclose(f);
        assert_non_null(strstr(text, "Timestamps: t1 kernel 2/2, t4 kernel 2/2; t1 and t4 NIC "
                                     "2/2, software 0/2\n"));
        free(text);
    }
    tw_metrics_free(&total.metrics);
    stop(h);
}

/* The NIC's transmit stamp never comes: t1 and t4 both software. */
static void test_hw_tx_missing_falls_back_whole(void **st)
{
    (void)st;
    h_t *h = start(1, 0, true);
    txstamp_sw(h, 0);
    reply(h, 0, true);
    run_until(h, is_done);
    const tw_sender_result_t *r = res(h);
    assert_true(NEAR(r->stats.roundtrip.min, RTT_SW));
    assert_true(h->rec[0].t1 == t1_of(h, 0) + SW_TX);
    assert_true(h->rec[0].t4 == t1_of(h, 0) + SW_RX);
    assert_int_equal(r->hw_pairs, 0);
    assert_int_equal(r->hw_fallback, 1);
    stop(h);
}

/* The NIC did not stamp the reply: software for both, at once. */
static void test_hw_rx_missing_falls_back_whole(void **st)
{
    (void)st;
    h_t *h = start(1, 0, true);
    txstamp_sw(h, 0);
    txstamp_hw(h, 0);
    reply(h, 0, false);
    assert_true(h->done);
    const tw_sender_result_t *r = res(h);
    assert_true(NEAR(r->stats.roundtrip.min, RTT_SW));
    assert_true(h->rec[0].t1 == t1_of(h, 0) + SW_TX);
    assert_int_equal(r->hw_fallback, 1);
    assert_int_equal(r->hw_pairs, 0);
    stop(h);
}

/* A reply waiting for its NIC transmit stamp when its slot in the ring of
 * outstanding packets (2^17) comes round again: it is measured (software t1
 * and t4) before the slot is reused, whichever comes first, the wait's end or
 * the reuse. */
static void test_hw_pending_slot_reused(void **st)
{
    (void)st;
    const int n = (1 << 17) + 1;
    /* 500 ns apart: the ring comes round after 65 ms, before the 100 ms wait
     * ends, and tw_sender_start cannot send the whole run before the reply to
     * packet 0 is in unless it is held up for 65 ms (at 1 ns apart, a 131 us
     * stall under a sanitizer on a busy machine sent them all first). */
    open_interval_ns = 500;
    h_t *h = open_h((uint32_t)n, 0);
    open_interval_ns = 1;
    h->bulk = true;
    assert_int_equal(tw_sender_use_phc(h->s, fake_source, &h->phc), 0);
    tw_sender_start(h->s);
    assert_true(h->nsent >= 1);
    txstamp_sw(h, 0);
    reply(h, 0, true); /* its NIC transmit stamp never comes */
    want_sent = n;
    run_until(h, all_sent);
    const tw_sender_result_t *r = res(h);
    assert_int_equal(r->stats.received, 1);
    assert_int_equal(r->hw_fallback, 1);
    assert_int_equal(r->hw_pairs, 0);
    assert_true(NEAR(r->stats.roundtrip.max, RTT_SW));
    assert_true(h->nrec >= 1);
    assert_int_equal(h->rec[0].seq, 0);
    assert_int_equal(h->rec[0].status, TW_PKT_OK);
    assert_true(h->rec[0].t1 == t1_of(h, 0) + SW_TX);
    assert_true(h->rec[0].t4 == t1_of(h, 0) + SW_RX);
    stop(h);
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* A table too old to convert the NIC's stamps (its clock could not be read
 * for a while): every packet measured in software, t1 and t4, said once. */
static void test_hw_unconvertible_said_once(void **st)
{
    (void)st;
    char path[] = "/tmp/twampy-test-sender-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tw_log_set_file(path), 0);
    /* The samples are 10 s old: the NIC's stamps of now are out of reach. */
    h_t *h = open_h(3, 0);
    h->phc.lag = 10 * SEC;
    assert_int_equal(tw_sender_use_phc(h->s, fake_source, &h->phc), 0);
    go(h, 3);
    for (int i = 0; i < 3; i++) {
        txstamp_sw(h, i);
        txstamp_hw(h, i);
        reply(h, i, true);
    }
    assert_true(h->done);
    const tw_sender_result_t *r = res(h);
    assert_int_equal(r->stats.received, 3);
    assert_true(NEAR(r->stats.roundtrip.min, RTT_SW));
    assert_true(NEAR(r->stats.roundtrip.max, RTT_SW));
    assert_int_equal(r->hw_fallback, 3);
    assert_int_equal(r->hw_pairs, 0);
    stop(h);
    tw_log_set_file(NULL);
    assert_int_equal(count_lines(path, "cannot convert a NIC timestamp to system time"), 1);
    assert_int_equal(count_lines(path, "too far from the latest readings"), 1);
    unlink(path);
}

/* The NIC's clock cannot be read at all: software for t1 and t4 from the
 * start, said once with the reason; the NIC's stamps are never used. */
static void test_hw_no_clock_software_whole(void **st)
{
    (void)st;
    char path[] = "/tmp/twampy-test-sender-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tw_log_set_file(path), 0);
    h_t *h = open_h(2, 0);
    h->phc.fail = -EACCES;
    assert_int_equal(tw_sender_use_phc(h->s, fake_source, &h->phc), -1);
    go(h, 2);
    tw_log_set_file(NULL);
    assert_false(res(h)->hw_timestamps);
    for (int i = 0; i < 2; i++) {
        txstamp_sw(h, i);
        txstamp_hw(h, i);
        reply(h, i, true);
    }
    assert_true(h->done);
    assert_true(NEAR(res(h)->stats.roundtrip.max, RTT_SW));
    assert_int_equal(res(h)->hw_pairs, 0);
    assert_int_equal(count_lines(path, "hardware timestamps are not available (cannot read the "
                                       "NIC's clock against the system clock: Permission denied); "
                                       "using software timestamps for t1 and t4"),
                     1);
    unlink(path);
    stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_by_seq_and_timestamp),
        cmocka_unit_test(test_tlv_needs_stamp),
        cmocka_unit_test(test_interop_layouts),
        cmocka_unit_test(test_conform_first_reply_only),
        cmocka_unit_test(test_unusable_reasons),
        cmocka_unit_test(test_icmp_kinds),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_sequence_wrap),
        cmocka_unit_test(test_late_sw_txstamp_applied),
        cmocka_unit_test(test_sw_txstamp_never_comes),
        cmocka_unit_test(test_hw_converted_never_mixed),
        cmocka_unit_test(test_hw_tx_missing_falls_back_whole),
        cmocka_unit_test(test_hw_rx_missing_falls_back_whole),
        cmocka_unit_test(test_hw_unconvertible_said_once),
        cmocka_unit_test(test_hw_pending_slot_reused),
        cmocka_unit_test(test_hw_no_clock_software_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
