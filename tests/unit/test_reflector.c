/* The reflector through its no-I/O hook tw_reflector_answer: the format rule
 * (TWAMP light with random padding is not STAMP), state per sender, reply
 * lengths and MBZ octets, --format, the bounded per-sender table under keys
 * crafted to collide, and --rate-limit. The reflector binds 127.0.0.1:0 (it
 * opens a socket) but no packet goes over it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "reflector.h"
#include "stamp_tlv.h"
#include "wire.h"

#define CAP 2048
/* The most key comparisons a table lookup may make (TW_PEERTABLE_WAYS). */
#define MAX_PROBES 8

static tw_loop_t *loop;

static tw_reflector_t *open_with(tw_reflector_cfg_t *cfg)
{
    struct sockaddr_in *s = (struct sockaddr_in *)&cfg->local;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg->local_len = sizeof *s;
    cfg->sockopts.ttl = 64;
    if (!cfg->max_senders)
        cfg->max_senders = 1024;
    tw_reflector_t *r = NULL;
    char err[256];
    if (tw_reflector_open(&r, cfg, loop, err, sizeof err) < 0)
        fail_msg("tw_reflector_open: %s", err);
    return r;
}

static tw_reflector_t *open_default(void)
{
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    return open_with(&cfg);
}

/* A packet from 127.0.0.1:port, of len octets taken from req. */
static void make_pkt(tw_pkt_t *p, uint8_t *buf, const uint8_t *req, size_t len, uint16_t port)
{
    memset(p, 0, sizeof *p);
    memcpy(buf, req, len);
    p->buf = buf;
    p->len = len;
    p->cap = CAP;
    struct sockaddr_in *s = (struct sockaddr_in *)&p->peer;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->sin_port = htons(port);
    p->peer_len = sizeof *s;
    p->rx_time = tw_now();
    p->rx_kernel = true;
    p->ttl = 64;
}

/* A Session-Sender request: header, then zeros. */
static void request(uint8_t *req, size_t len, uint32_t seq, uint16_t ssid)
{
    memset(req, 0, len);
    tw_sender_pkt_t s = {.seq = seq, .timestamp = tw_time_to_ntp(tw_now()), .errest = 0x0001};
    tw_put32(req, s.seq);
    tw_put64(req + 4, s.timestamp);
    tw_put16(req + 12, s.errest);
    if (len >= 16)
        tw_put16(req + 14, ssid);
}

/* Pseudo-random padding from octet 14 on, as RFC 4656 §4.1.2 recommends. */
static void random_padding(uint8_t *req, size_t len)
{
    for (size_t i = 14; i < len; i++)
        req[i] = (uint8_t)rand();
    req[16] |= 1; /* never all zero where STAMP has its MBZ */
}

struct reply {
    size_t len;
    tw_reflector_pkt_t h;
    uint8_t buf[CAP];
};

/* Answer req (len octets) from port; the reply must exist and decode. */
static void answer(tw_reflector_t *r, const uint8_t *req, size_t len, uint16_t port,
                   struct reply *out)
{
    tw_pkt_t p;
    make_pkt(&p, out->buf, req, len, port);
    out->len = tw_reflector_answer(r, &p);
    if (out->len == 0)
        fail_msg("no reply to a %zu-octet request", len);
    assert_int_equal(tw_reflector_decode(out->buf, out->len, &out->h), TW_WIRE_OK);
    assert_int_equal(out->h.sender_seq, tw_get32(req));
}

/* Finding 3: TWAMP light with random padding keeps one state entry (the
 * reflector counts 0, 1, 2, ...), its reply has the MBZ octets 14..15 and
 * 38..39 zero and is as long as the request. */
static void test_twamp_random_padding(void **state)
{
    (void)state;
    tw_reflector_t *r = open_default();
    static uint8_t req[CAP];
    struct reply rep;
    size_t lens[] = {44, 64, 100, 1000};
    uint32_t want = 0;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        for (int i = 0; i < 10; i++) {
            request(req, lens[l], 1 + want, 0);
            random_padding(req, lens[l]);
            answer(r, req, lens[l], 40000, &rep);
            assert_int_equal(rep.len, lens[l]);
            assert_int_equal(rep.h.seq, want);
            assert_int_equal(tw_get16(rep.buf + 14), 0);
            assert_int_equal(tw_get16(rep.buf + 38), 0);
            want++;
        }
    }
    assert_int_equal(tw_reflector_counters(r)->senders_evicted, 0);
    tw_reflector_close(r);
}

/* STAMP (MBZ 16..43 zero) gets its SSID back; each SSID from one port is a
 * session of its own. */
static void test_stamp_ssid(void **state)
{
    (void)state;
    tw_reflector_t *r = open_default();
    uint8_t req[64];
    struct reply rep;
    for (uint32_t i = 0; i < 3; i++) {
        request(req, 44, 1 + i, 0x1234);
        answer(r, req, 44, 40001, &rep);
        assert_int_equal(rep.len, 44);
        assert_int_equal(rep.h.ssid, 0x1234);
        assert_int_equal(tw_get16(rep.buf + 14), 0x1234);
        assert_int_equal(rep.h.seq, i);
        assert_true(rep.buf[41] == 0 && rep.buf[42] == 0 && rep.buf[43] == 0);
    }
    request(req, 44, 9, 0x4321);
    answer(r, req, 44, 40001, &rep);
    assert_int_equal(rep.h.ssid, 0x4321);
    assert_int_equal(rep.h.seq, 0);
    /* The first SSID's count goes on. */
    request(req, 44, 10, 0x1234);
    answer(r, req, 44, 40001, &rep);
    assert_int_equal(rep.h.seq, 3);
    tw_reflector_close(r);
}

/* A zero-padded TWAMP light sender whose requests are sometimes shorter than
 * 44 octets and sometimes longer keeps one count. */
static void test_zero_padding_mixed_lengths(void **state)
{
    (void)state;
    tw_reflector_t *r = open_default();
    static uint8_t req[CAP];
    struct reply rep;
    size_t lens[] = {41, 100, 14, 44, 1500, 41};
    for (uint32_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        request(req, lens[i], 1 + i, 0);
        answer(r, req, lens[i], 40002, &rep);
        assert_int_equal(rep.h.seq, i);
        assert_int_equal(tw_get16(rep.buf + 14), 0);
    }
    tw_reflector_close(r);
}

/* Reply lengths: never longer than the request beyond the format's minimum,
 * 41 for TWAMP light, 44 for STAMP; the reply's octets past the request are
 * zero. */
static void test_reply_lengths(void **state)
{
    (void)state;
    static uint8_t req[CAP];
    struct reply rep;
    const struct {
        tw_test_format_t fmt;
        size_t len;
        bool random;
        size_t want;
    } cases[] = {
        {TW_FORMAT_AUTO, 14, false, 41},   {TW_FORMAT_AUTO, 40, false, 41},
        {TW_FORMAT_AUTO, 41, false, 41},   {TW_FORMAT_AUTO, 43, false, 43},
        {TW_FORMAT_AUTO, 44, false, 44},   {TW_FORMAT_AUTO, 44, true, 44},
        {TW_FORMAT_AUTO, 45, true, 45},    {TW_FORMAT_AUTO, CAP, true, CAP},
        {TW_FORMAT_TWAMP, 14, false, 41},  {TW_FORMAT_TWAMP, 44, false, 44},
        {TW_FORMAT_TWAMP, 100, true, 100}, {TW_FORMAT_STAMP, 14, false, 44},
        {TW_FORMAT_STAMP, 41, false, 44},  {TW_FORMAT_STAMP, 43, true, 44},
        {TW_FORMAT_STAMP, 44, true, 44},   {TW_FORMAT_STAMP, 100, false, 100},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tw_reflector_cfg_t cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.format = cases[c].fmt;
        tw_reflector_t *r = open_with(&cfg);
        request(req, cases[c].len, 7, 0);
        if (cases[c].random)
            random_padding(req, cases[c].len);
        answer(r, req, cases[c].len, 40003, &rep);
        if (rep.len != cases[c].want)
            fail_msg("format %d, %zu-octet request: %zu-octet reply, expected %zu", cases[c].fmt,
                     cases[c].len, rep.len, cases[c].want);
        for (size_t i = cases[c].len > 41 ? cases[c].len : 41; i < rep.len; i++)
            assert_int_equal(rep.buf[i], 0);
        tw_reflector_close(r);
    }
}

/* --format twamp: a request that looks like STAMP is TWAMP: no SSID in the
 * reply, one count per address and port whatever octets 14..15 hold.
 * --format stamp: a STAMP request whose MBZ is not zero still gets its SSID
 * back (MBZ is ignored on receipt, RFC 8762 §4.2.1). */
static void test_format_forced(void **state)
{
    (void)state;
    uint8_t req[64];
    struct reply rep;
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.format = TW_FORMAT_TWAMP;
    tw_reflector_t *r = open_with(&cfg);
    for (uint32_t i = 0; i < 3; i++) {
        request(req, 44, 1 + i, (uint16_t)(0x1000 + i));
        answer(r, req, 44, 40004, &rep);
        assert_int_equal(tw_get16(rep.buf + 14), 0);
        assert_int_equal(rep.h.seq, i);
    }
    tw_reflector_close(r);

    memset(&cfg, 0, sizeof cfg);
    cfg.format = TW_FORMAT_STAMP;
    r = open_with(&cfg);
    request(req, 60, 1, 0xbeef);
    memset(req + 20, 0xff, 4); /* MBZ not zero */
    answer(r, req, 60, 40004, &rep);
    assert_int_equal(rep.len, 60);
    assert_int_equal(tw_get16(rep.buf + 14), 0xbeef);
    assert_true(rep.buf[41] == 0 && rep.buf[42] == 0 && rep.buf[43] == 0);
    tw_reflector_close(r);

    /* In auto mode the same request is TWAMP light: no SSID back. */
    r = open_default();
    answer(r, req, 60, 40004, &rep);
    assert_int_equal(tw_get16(rep.buf + 14), 0);
    tw_reflector_close(r);
}

/* A STAMP HMAC key and the TWAMP format contradict each other. */
static void test_format_twamp_with_stamp_key(void **state)
{
    (void)state;
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *s = (struct sockaddr_in *)&cfg.local;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *s;
    cfg.sockopts.ttl = 64;
    cfg.max_senders = 16;
    static const uint8_t key[] = "0123456789abcdef";
    cfg.stamp_key = key;
    cfg.stamp_key_len = 16;
    cfg.format = TW_FORMAT_TWAMP;
    tw_reflector_t *r = NULL;
    char err[256] = "";
    assert_int_equal(tw_reflector_open(&r, &cfg, loop, err, sizeof err), -1);
    assert_true(err[0] != 0);
}

/* The 32-bit FNV-1a the reflector used to hash (address, port, SSID) with,
 * over the octets of its old key: address (16), port (network order), SSID
 * (host order), family, one octet of padding. Unkeyed: anyone can compute it. */
static uint32_t old_fnv(uint16_t port, uint16_t ssid)
{
    uint8_t k[22] = {127, 0, 0, 1};
    k[16] = (uint8_t)(port >> 8);
    k[17] = (uint8_t)port;
    memcpy(k + 18, &ssid, 2);
    k[20] = AF_INET;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof k; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

/* Finding 7: 1,000 STAMP sessions from one host whose keys all fell in one
 * bucket of the old table (max_senders 1024: 2048 buckets). Each lookup must
 * stay bounded: at most MAX_PROBES key comparisons per packet (the old
 * hash chain compared up to 1,000). Counted, not timed. */
static void test_hash_flooding_bounded(void **state)
{
    (void)state;
    enum { N = 1000, MAX_SENDERS = 1024 };
    static uint16_t ports[N], ssids[N];
    uint32_t mask = 2 * MAX_SENDERS - 1;
    int n = 0;
    for (uint32_t port = 1024; port < 65536 && n < N; port++) {
        for (uint32_t ssid = 0; ssid < 65536 && n < N; ssid++) {
            if ((old_fnv((uint16_t)port, (uint16_t)ssid) & mask) == 0) {
                ports[n] = (uint16_t)port;
                ssids[n] = (uint16_t)ssid;
                n++;
            }
        }
    }
    assert_int_equal(n, N);
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_senders = MAX_SENDERS;
    tw_reflector_t *r = open_with(&cfg);
    uint8_t req[44];
    struct reply rep;
    uint64_t before = tw_reflector_probes(r);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            request(req, 44, 1 + (uint32_t)round, ssids[i]);
            answer(r, req, 44, ports[i], &rep);
            assert_int_equal(rep.h.ssid, ssids[i]);
        }
    }
    uint64_t probes = tw_reflector_probes(r) - before;
    if (probes > 3ull * N * MAX_PROBES)
        fail_msg("%llu key comparisons for %d packets: more than %d per packet",
                 (unsigned long long)probes, 3 * N, MAX_PROBES);
    tw_reflector_close(r);
}

/* --rate-limit 1:3: a burst from one source gets 3 answers, plus at most one
 * a second for the time the burst took; the rest are counted and dropped.
 * Another source has its own bucket. */
static void test_rate_limit(void **state)
{
    (void)state;
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.rate_pps = 1;
    cfg.rate_burst = 3;
    tw_reflector_t *r = open_with(&cfg);
    uint8_t req[41], buf[CAP];
    int64_t t0 = tw_mono_now();
    int answered = 0;
    for (int i = 0; i < 20; i++) {
        request(req, 41, 1 + (uint32_t)i, 0);
        tw_pkt_t p;
        make_pkt(&p, buf, req, 41, (uint16_t)(50000 + i)); /* the port does not matter */
        answered += tw_reflector_answer(r, &p) ? 1 : 0;
    }
    int64_t secs = (tw_mono_now() - t0) / TW_NS_PER_SEC;
    assert_true(answered >= 3);
    assert_true(answered <= 3 + secs + 1);
    const tw_reflector_counters_t *c = tw_reflector_counters(r);
    assert_int_equal(c->rate_limited, (uint64_t)(20 - answered));
    assert_int_equal(c->received, 20);
    /* Another address. */
    request(req, 41, 1, 0);
    tw_pkt_t p;
    make_pkt(&p, buf, req, 41, 50000);
    ((struct sockaddr_in *)&p.peer)->sin_addr.s_addr = htonl(0x7f000002);
    assert_int_equal(tw_reflector_answer(r, &p), 41);
    tw_reflector_close(r);
}

/* A TWAMP session's reflector with RFC 6038 reflect octets and RFC 7750
 * DSCP and ECN monitoring: the request's octets 14..19 come back at 44 (after
 * the S-DSCP-ECN octet at 41 and MBZ 42..43), the request's TOS (0xb9: EF,
 * ECT(1)) at 41; a 30-octet request gets a 50-octet reply (44 + the 6
 * octets), never less than the octets to reflect need. */
static void test_reflect_octets_dscp_ecn(void **state)
{
    (void)state;
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.format = TW_FORMAT_TWAMP;
    cfg.dscp_ecn = true;
    cfg.reflect_len = 6;
    cfg.reflect_from = 14;
    cfg.reflect_to = 44;
    tw_reflector_t *r = open_with(&cfg);
    uint8_t req[80];
    request(req, sizeof req, 0, 0);
    random_padding(req, sizeof req);
    for (size_t len = 30; len <= sizeof req; len += 50) {
        tw_pkt_t p;
        struct reply out;
        make_pkt(&p, out.buf, req, len, 40000);
        p.tos = 0xb9;
        out.len = tw_reflector_answer(r, &p);
        assert_int_equal(out.len, len < 50 ? 50 : len);
        assert_int_equal(out.buf[41], 0xb9);
        assert_int_equal(out.buf[42], 0);
        assert_int_equal(out.buf[43], 0);
        assert_memory_equal(out.buf + 44, req + 14, 6);
        if (len > 50)
            assert_memory_equal(out.buf + 50, req + 50, len - 50); /* as it came */
        assert_int_equal(out.buf[40], 64);                         /* Sender TTL */
    }
    tw_reflector_close(r);
}

/* STAMP TLVs (RFC 8972) answered by the reflector: the reply as long as the
 * request, its TLVs filled with what the reflector saw (Location: its port
 * and the sender's; CoS: the TOS received, and the reply's TOS as DSCP1
 * asks; Direct Measurement: this sender's counters), an unknown TLV with U,
 * a malformed one counted. */
static void test_stamp_tlvs(void **state)
{
    (void)state;
    tw_reflector_t *r = open_default();
    struct sockaddr_storage ls;
    socklen_t ll;
    assert_int_equal(tw_reflector_local(r, &ls, &ll), 0);
    uint16_t lport = ntohs(((struct sockaddr_in *)&ls)->sin_port);
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_LOCATION | 1u << TW_TLVT_COS | 1u << TW_TLVT_DIRECT,
                       .cos_dscp = 10,
                       .unknown_type = 99};
    uint8_t req[256];
    size_t len = TW_STAMP_BASE_LEN + tw_tlv_req_len(&rq, false);
    for (uint32_t seq = 0; seq < 2; seq++) {
        request(req, TW_STAMP_BASE_LEN, seq, 5);
        tw_tlv_build(&rq, seq + 1, NULL, NULL, NULL, req + TW_STAMP_BASE_LEN,
                     sizeof req - TW_STAMP_BASE_LEN);
        tw_pkt_t p;
        uint8_t buf[CAP];
        make_pkt(&p, buf, req, len, 40000);
        p.tos = 0xB8; /* EF as received */
        assert_int_equal(tw_reflector_answer(r, &p), len);
        assert_true(p.tx_tos_set);
        assert_int_equal(p.tx_tos, 10 << 2);
        tw_tlv_result_t res = {0};
        tw_tlv_reply_ctx_t c = {.tos = 10 << 2, .sent_tos = 0xB8};
        tw_tlv_read_reply(&res, buf, TW_STAMP_BASE_LEN, len, &c);
        assert_int_equal(res.loc_dport, lport);
        assert_int_equal(res.loc_sport, 40000);
        assert_int_equal(res.loc_src_family, AF_INET);
        assert_int_equal(res.loc_src[0], 127);
        assert_int_equal(res.cos_dscp2, 46);
        assert_int_equal(res.cos_fwd_remarked, 0);
        assert_int_equal(res.cos_rev_remarked, 0);
        assert_int_equal(res.dm_last[0], seq + 1);
        assert_int_equal(res.dm_last[1], seq + 1);
        assert_int_equal(res.dm_last[2], seq);
        assert_int_equal(res.u[TW_TLV_NTYPES - 1], 1);
    }
    /* A malformed area: M, counted; the reply still as long as the request. */
    request(req, TW_STAMP_BASE_LEN + 6, 2, 5);
    uint8_t bad[] = {0x80, 0x04, 0x00, 0x02, 0x28, 0x00};
    memcpy(req + TW_STAMP_BASE_LEN, bad, sizeof bad);
    struct reply rep;
    answer(r, req, TW_STAMP_BASE_LEN + 6, 40000, &rep);
    assert_int_equal(rep.len, TW_STAMP_BASE_LEN + 6);
    assert_int_equal(rep.buf[TW_STAMP_BASE_LEN], TW_TLVF_M);
    assert_int_equal(tw_reflector_counters(r)->tlv_malformed, 1);
    tw_reflector_close(r);
}

static int setup(void **state)
{
    (void)state;
    tw_log_set_level(TW_LOG_OFF);
    loop = tw_loop_new();
    return loop ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tw_loop_free(loop);
    return 0;
}

int main(void)
{
    srand(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twamp_random_padding),
        cmocka_unit_test(test_stamp_ssid),
        cmocka_unit_test(test_zero_padding_mixed_lengths),
        cmocka_unit_test(test_reply_lengths),
        cmocka_unit_test(test_format_forced),
        cmocka_unit_test(test_format_twamp_with_stamp_key),
        cmocka_unit_test(test_hash_flooding_bounded),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_reflect_octets_dscp_ecn),
        cmocka_unit_test(test_stamp_tlvs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
