/* fuzz_reflector: the Session-Reflector's answer to one request, without I/O
 * (tw_reflector_answer). The reflectors are opened once on 127.0.0.1:0 and
 * reused; nothing is ever sent or read on their sockets.
 *
 * Input: an 8-octet header, then the request (an input shorter than 8 octets
 * is all request, with a zero header).
 *   h[0] bits 0-1  the reflector: 0 stateful (4 senders, so that senders
 *                  are evicted), 1 stateless, 2 only answering 127.0.0.1 (a
 *                  TWAMP session's), 3 with an --allow list: 127.0.0.0/30 and
 *                  2001:db8::/125
 *        bits 2-3  the peer: 0 IPv4 127.0.0.x, 1 IPv6 2001:db8::x, 2 IPv4-mapped
 *                  ::ffff:127.0.0.x, 3 no address (AF_UNSPEC)
 *        bit 4     TTL unknown (-1)
 *        bits 5-6  the buffer: 0 the receive buffer (9216), 1 exactly the
 *                  request, 2 the request + h[7] octets, 3 at least 44
 *        bit 7     the datagram was truncated
 *   h[1] TTL; h[2..3] the peer's port; h[4] x, the last address octet
 *   h[5..7] the receive time: a signed 24-bit multiple of 2^34 ns around
 *           2024, or the extremes of tw_time_t for the extreme values.
 *
 * Checks: no reply below 14 octets; else a reply of max(len, 41) octets, none
 * when the buffer cannot hold that; a reply of a whole header carries the request's fields, the
 * TTL and receive time given (in PTP format for a sender whose Z bit is set),
 * and the request's SSID and TLVs (U flags as RFC 8972 §4 says) when STAMP (at
 * least 44 octets with octets 16..43 zero); a TWAMP light reply has its MBZ
 * octets 14..15 zero and the request's padding from 41 on. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "acl.h"
#include "fuzz.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "ntptime.h"
#include "reflector.h"
#include "stamp_tlv.h"
#include "wire.h"

#define HDR 8

static tw_loop_t *loop;
static tw_reflector_t *refl[4]; /* stateful, stateless, only 127.0.0.1, allow list */
static tw_acl_t allow;
static int tai; /* TAI - UTC, as the reflectors read it */

static tw_reflector_t *open_one(bool stateless, bool only_loopback, const tw_acl_t *acl)
{
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.local;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *sin;
    cfg.sockopts.ttl = 64;
    cfg.stateless = stateless;
    cfg.max_senders = 4;
    cfg.allow = acl;
    if (only_loopback) {
        struct sockaddr_in *o = (struct sockaddr_in *)&cfg.only_from;
        o->sin_family = AF_INET;
        o->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    tw_reflector_t *r = NULL;
    char err[256];
    if (tw_reflector_open(&r, &cfg, loop, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_reflector: %s\n", err);
        abort();
    }
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    tai = tw_clock_tai_offset();
    loop = tw_loop_new();
    FUZZ_CHECK(loop != NULL);
    char err[256];
    if (tw_acl_add(&allow, "127.0.0.0/30", err, sizeof err) < 0 ||
        tw_acl_add(&allow, "2001:db8::/125", err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_reflector: %s\n", err);
        abort();
    }
    refl[0] = open_one(false, false, NULL);
    refl[1] = open_one(true, false, NULL);
    refl[2] = open_one(false, true, NULL);
    refl[3] = open_one(false, false, &allow);
    return 0;
}

static void set_peer(tw_pkt_t *p, int kind, uint8_t x, uint16_t port)
{
    memset(&p->peer, 0, sizeof p->peer);
    if (kind == 0) {
        struct sockaddr_in *s = (struct sockaddr_in *)&p->peer;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(0x7f000000u | x);
        s->sin_port = htons(port);
        p->peer_len = sizeof *s;
    } else if (kind == 1 || kind == 2) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&p->peer;
        s->sin6_family = AF_INET6;
        if (kind == 1) {
            static const uint8_t doc[4] = {0x20, 0x01, 0x0d, 0xb8};
            memcpy(s->sin6_addr.s6_addr, doc, 4);
            s->sin6_addr.s6_addr[15] = x;
        } else {
            s->sin6_addr.s6_addr[10] = 0xff;
            s->sin6_addr.s6_addr[11] = 0xff;
            s->sin6_addr.s6_addr[12] = 127;
            s->sin6_addr.s6_addr[15] = x;
        }
        s->sin6_port = htons(port);
        p->peer_len = sizeof *s;
    } else {
        p->peer_len = 0;
    }
}

static tw_time_t rx_time_of(const uint8_t *h)
{
    int32_t v =
        (int32_t)(((uint32_t)h[5] << 24) | ((uint32_t)h[6] << 16) | ((uint32_t)h[7] << 8)) / 256;
    if (v == 0x7fffff)
        return INT64_MAX;
    if (v == -0x800000)
        return INT64_MIN;
    /* 2024-01-01 plus up to about +-4.5 years in steps of 17 s. */
    return 1704067200LL * TW_NS_PER_SEC + (int64_t)v * (1LL << 34);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[HDR] = {0};
    const uint8_t *req = data;
    size_t len = size;
    if (size >= HDR) {
        memcpy(h, data, HDR);
        req += HDR;
        len -= HDR;
    }
    bool trunc = (h[0] & 0x80) != 0;
    if (len > TW_RX_BUFSIZE) {
        len = TW_RX_BUFSIZE; /* as the kernel cuts a longer datagram */
        trunc = true;
    }
    size_t cap;
    switch ((h[0] >> 5) & 3) {
    case 0:
        cap = TW_RX_BUFSIZE;
        break;
    case 1:
        cap = len;
        break;
    case 2:
        cap = len + h[7];
        break;
    default:
        cap = len > TW_STAMP_BASE_LEN ? len : TW_STAMP_BASE_LEN;
        break;
    }
    if (cap > TW_RX_BUFSIZE)
        cap = TW_RX_BUFSIZE;

    int which = h[0] & 3;
    tw_reflector_t *r = refl[which];
    int peer_kind = (h[0] >> 2) & 3;

    /* The buffer: exactly cap octets, the request, then stale octets. */
    uint8_t *buf = malloc(cap ? cap : 1);
    FUZZ_CHECK(buf != NULL);
    memset(buf, 0xcc, cap);
    memcpy(buf, req, len);
    tw_pkt_t p;
    memset(&p, 0, sizeof p);
    p.buf = buf;
    p.len = len;
    p.cap = cap;
    p.trunc = trunc;
    set_peer(&p, peer_kind, h[4], (uint16_t)((h[2] << 8) | h[3]));
    p.rx_time = rx_time_of(h);
    p.rx_kernel = true;
    p.ttl = (h[0] & 0x10) ? -1 : h[1];
    p.tos = -1;

    size_t n = tw_reflector_answer(r, &p);
    FUZZ_CHECK(n == p.len);

    bool v4 = peer_kind == 0 || peer_kind == 2; /* IPv4-mapped counts as IPv4 */
    bool dropped = (which == 2 && !(v4 && h[4] == 1)) ||
                   (which == 3 && !((v4 && h[4] < 4) || (peer_kind == 1 && h[4] < 8)));
    size_t want = len < TW_SENDER_MIN_LEN ? 0 : len > TW_REFLECTOR_BASE_LEN ? len : 41;
    if (cap < TW_REFLECTOR_BASE_LEN)
        want = 0; /* no room for a whole reply header: no reply */
    else if (want > cap)
        want = cap;
    if (dropped)
        want = 0;
    FUZZ_CHECK(n == want);
    FUZZ_CHECK(n <= (len > TW_REFLECTOR_BASE_LEN ? len : TW_REFLECTOR_BASE_LEN));
    FUZZ_CHECK(n <= cap);

    if (n >= TW_REFLECTOR_BASE_LEN) {
        static const uint8_t zero[TW_STAMP_BASE_LEN - 16];
        bool stamp = len >= TW_STAMP_BASE_LEN && !memcmp(req + 16, zero, sizeof zero);
        tw_reflector_pkt_t rep;
        FUZZ_CHECK(tw_reflector_decode(buf, n, &rep) == TW_WIRE_OK);
        FUZZ_CHECK(rep.sender_seq == tw_get32(req));
        FUZZ_CHECK(rep.sender_time == tw_get64(req + 4));
        FUZZ_CHECK(rep.sender_errest == tw_get16(req + 12));
        FUZZ_CHECK(rep.sender_ttl == (uint8_t)(p.ttl < 0 ? 0 : p.ttl));
        /* A sender with PTP timestamps (Z set) gets PTP back, others NTP. */
        bool ptp = (tw_get16(req + 12) & 0x4000) != 0;
        FUZZ_CHECK((rep.errest & 0x4000) == (ptp ? 0x4000 : 0));
        FUZZ_CHECK(rep.rx_time ==
                   (ptp ? tw_time_to_ptp(p.rx_time, tai) : tw_time_to_ntp(p.rx_time)));
        FUZZ_CHECK(rep.ssid == (stamp ? tw_get16(req + 14) : 0));
        if (which == 1)
            FUZZ_CHECK(rep.seq == rep.sender_seq);
        FUZZ_CHECK(buf[38] == 0 && buf[39] == 0);
        if (stamp) {
            FUZZ_CHECK(buf[41] == 0 && buf[42] == 0 && buf[43] == 0);
            /* The TLVs (RFC 8972 §4): a TLV area of zeros comes back as it
             * was; otherwise each TLV keeps its type and length, before the
             * first malformed one its flags are U alone (not understood: not
             * types 1..7 here but CoS, the TOS being unknown, the HMAC TLV having no key) or none,
             * Extra Padding comes back as it was; the malformed one gets M and everything after its
             * header but a Follow-Up TLV's first 12 octets comes back as it was. */
            size_t end = len < n ? len : n;
            static const uint8_t zeros[TW_MAX_PACKET_LEN];
            if (end > TW_STAMP_BASE_LEN &&
                !memcmp(req + TW_STAMP_BASE_LEN, zeros, end - TW_STAMP_BASE_LEN)) {
                FUZZ_CHECK(!memcmp(buf + TW_STAMP_BASE_LEN, req + TW_STAMP_BASE_LEN,
                                   end - TW_STAMP_BASE_LEN));
            } else {
                size_t pos = TW_STAMP_BASE_LEN;
                tw_tlv_t t;
                int rc;
                while ((rc = tw_tlv_at(req, pos, end, &t)) > 0 && !t.overruns &&
                       (t.type < 1 || t.type > 8 || tw_tlv_len_valid(t.type, t.len))) {
                    FUZZ_CHECK(!memcmp(buf + pos + 1, req + pos + 1, 3));
                    bool understood = t.type >= 1 && t.type <= 7 && t.type != TW_TLVT_COS &&
                                      (t.type != TW_TLVT_ACCESS || (req[pos + 4] >> 4) == 1 ||
                                       (req[pos + 4] >> 4) == 2);
                    FUZZ_CHECK(buf[pos] == (understood ? 0 : TW_TLVF_U));
                    if (t.type == TW_TLVT_PADDING || !understood)
                        FUZZ_CHECK(!memcmp(buf + pos + 4, req + pos + 4, t.len));
                    pos += 4 + t.len;
                }
                if (pos < end) {
                    FUZZ_CHECK(buf[pos] == TW_TLVF_M);
                    size_t keep = pos + 1;
                    if (rc > 0) {
                        FUZZ_CHECK(!memcmp(buf + pos + 1, req + pos + 1, 3));
                        keep = pos + 4;
                        if (t.type == TW_TLVT_FOLLOWUP)
                            keep += end - keep < 12 ? end - keep : 12;
                    }
                    FUZZ_CHECK(!memcmp(buf + keep, req + keep, end - keep));
                }
            }
        } else {
            /* TWAMP: the octets past the header come back as they were. */
            for (size_t i = TW_REFLECTOR_BASE_LEN; i < len && i < n; i++)
                FUZZ_CHECK(buf[i] == req[i]);
        }
    }
    free(buf);
    return 0;
}
