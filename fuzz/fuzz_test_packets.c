/* fuzz_test_packets: the TWAMP-Test / STAMP codecs of wire.h on arbitrary
 * octets. The input is a packet: it is decoded as a Session-Sender and as a
 * Session-Reflector packet, its TLV chain is checked and reflected (in place
 * and into another buffer), and every decode is re-encoded and decoded again,
 * which must give the same fields and octets. The same octets as a reply are
 * examined for conformance findings (conformance.h) in every format and layout:
 * reads stay inside the reply, counts never exceed the replies examined. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "fuzz.h"
#include "log.h"
#include "stamp_tlv.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    return 0;
}

static uint8_t *xmalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    return p;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- Session-Sender ----------------------------------------------------- */

static void sender_round_trip(const uint8_t *data, size_t size, const tw_sender_pkt_t *p,
                              bool stamp)
{
    size_t len = size > TW_MAX_PACKET_LEN ? TW_MAX_PACKET_LEN : size;
    uint8_t *buf = xmalloc(len);
    int r = tw_sender_encode(p, stamp, buf, len);
    if (stamp && len < TW_STAMP_BASE_LEN) {
        FUZZ_CHECK(r == TW_WIRE_ENOSPC);
        free(buf);
        return;
    }
    if (stamp && len > TW_STAMP_BASE_LEN && len < TW_STAMP_BASE_LEN + TW_TLV_HDR_LEN) {
        FUZZ_CHECK(r == TW_WIRE_EINVAL);
        free(buf);
        return;
    }
    FUZZ_CHECK(r == TW_WIRE_OK);
    tw_sender_pkt_t q;
    FUZZ_CHECK(tw_sender_decode(buf, len, &q) == TW_WIRE_OK);
    FUZZ_CHECK(q.seq == p->seq);
    FUZZ_CHECK(q.timestamp == p->timestamp);
    FUZZ_CHECK(q.errest == p->errest);
    FUZZ_CHECK(memcmp(buf, data, 14) == 0);
    if (stamp) {
        FUZZ_CHECK(q.ssid == p->ssid);
        FUZZ_CHECK(memcmp(buf + 14, data + 14, 2) == 0);
        FUZZ_CHECK(all_zero(buf + 16, TW_STAMP_BASE_LEN - 16));
        if (len > TW_STAMP_BASE_LEN) {
            /* One Extra Padding TLV, sent with U set, filling the rest. */
            const uint8_t *tlv = buf + TW_STAMP_BASE_LEN;
            FUZZ_CHECK(tlv[0] == TW_TLV_FLAG_U);
            FUZZ_CHECK(tlv[1] == TW_TLV_EXTRA_PADDING);
            FUZZ_CHECK(tw_get16(tlv + 2) == len - TW_STAMP_BASE_LEN - TW_TLV_HDR_LEN);
            FUZZ_CHECK(all_zero(tlv + 4, len - TW_STAMP_BASE_LEN - TW_TLV_HDR_LEN));
            FUZZ_CHECK(tw_tlv_chain_valid(buf, TW_STAMP_BASE_LEN, len));
            tw_tlv_reflect(buf, buf, TW_STAMP_BASE_LEN, len);
            FUZZ_CHECK(tlv[0] == 0); /* understood: U cleared */
        }
    } else {
        FUZZ_CHECK(q.ssid == 0);
        FUZZ_CHECK(all_zero(buf + 14, len - 14));
    }
    free(buf);
}

static void check_sender(const uint8_t *data, size_t size)
{
    tw_sender_pkt_t p;
    int r = tw_sender_decode(data, size, &p);
    if (size < TW_SENDER_MIN_LEN) {
        FUZZ_CHECK(r == TW_WIRE_ESHORT);
        /* Encoding into a buffer below the minimum writes nothing. */
        tw_sender_pkt_t z = {0};
        uint8_t *buf = xmalloc(size);
        FUZZ_CHECK(tw_sender_encode(&z, false, buf, size) == TW_WIRE_ENOSPC);
        FUZZ_CHECK(tw_sender_encode(&z, true, buf, size) == TW_WIRE_ENOSPC);
        free(buf);
        return;
    }
    FUZZ_CHECK(r == TW_WIRE_OK);
    FUZZ_CHECK(p.seq == tw_get32(data));
    FUZZ_CHECK(p.timestamp == tw_get64(data + 4));
    FUZZ_CHECK(p.errest == tw_get16(data + 12));
    FUZZ_CHECK(p.ssid == (size >= 16 ? tw_get16(data + 14) : 0));
    sender_round_trip(data, size, &p, false);
    sender_round_trip(data, size, &p, true);
    /* Too long for any packet: refused before a single octet is written. */
    uint8_t small[16];
    FUZZ_CHECK(tw_sender_encode(&p, false, small, TW_MAX_PACKET_LEN + 1) == TW_WIRE_EINVAL);
}

/* ---- Session-Reflector -------------------------------------------------- */

static void reflector_fields_equal(const tw_reflector_pkt_t *a, const tw_reflector_pkt_t *b,
                                   bool stamp)
{
    FUZZ_CHECK(a->seq == b->seq);
    FUZZ_CHECK(a->timestamp == b->timestamp);
    FUZZ_CHECK(a->errest == b->errest);
    FUZZ_CHECK(stamp ? a->ssid == b->ssid : b->ssid == 0);
    FUZZ_CHECK(a->rx_time == b->rx_time);
    FUZZ_CHECK(a->sender_seq == b->sender_seq);
    FUZZ_CHECK(a->sender_time == b->sender_time);
    FUZZ_CHECK(a->sender_errest == b->sender_errest);
    FUZZ_CHECK(a->sender_ttl == b->sender_ttl);
}

static void check_reflector(const uint8_t *data, size_t size)
{
    tw_reflector_pkt_t p;
    int r = tw_reflector_decode(data, size, &p);
    if (size < TW_REFLECTOR_BASE_LEN) {
        FUZZ_CHECK(r == TW_WIRE_ESHORT);
        tw_reflector_pkt_t z = {0};
        uint8_t *buf = xmalloc(size);
        FUZZ_CHECK(tw_reflector_encode(&z, false, buf, size) == TW_WIRE_ENOSPC);
        free(buf);
        return;
    }
    FUZZ_CHECK(r == TW_WIRE_OK);
    FUZZ_CHECK(p.seq == tw_get32(data));
    FUZZ_CHECK(p.timestamp == tw_get64(data + 4));
    FUZZ_CHECK(p.errest == tw_get16(data + 12));
    FUZZ_CHECK(p.ssid == tw_get16(data + 14));
    FUZZ_CHECK(p.rx_time == tw_get64(data + 16));
    FUZZ_CHECK(p.sender_seq == tw_get32(data + 24));
    FUZZ_CHECK(p.sender_time == tw_get64(data + 28));
    FUZZ_CHECK(p.sender_errest == tw_get16(data + 36));
    FUZZ_CHECK(p.sender_ttl == data[40]);

    for (int stamp = 0; stamp <= 1; stamp++) {
        size_t hdr = stamp ? TW_STAMP_BASE_LEN : TW_REFLECTOR_BASE_LEN;
        if (size < hdr) {
            uint8_t *buf = xmalloc(size);
            FUZZ_CHECK(tw_reflector_encode(&p, true, buf, size) == TW_WIRE_ENOSPC);
            free(buf);
            continue;
        }
        /* Over a copy of the input: only the header changes, and in it only
         * the MBZ octets (and the SSID, zero in TWAMP). */
        uint8_t *buf = xmalloc(size);
        memcpy(buf, data, size);
        FUZZ_CHECK(tw_reflector_encode(&p, stamp, buf, size) == TW_WIRE_OK);
        uint8_t *want = xmalloc(size);
        memcpy(want, data, size);
        memset(want + 38, 0, 2);
        if (stamp)
            memset(want + 41, 0, 3);
        else
            memset(want + 14, 0, 2);
        FUZZ_CHECK(memcmp(buf, want, size) == 0);
        tw_reflector_pkt_t q;
        FUZZ_CHECK(tw_reflector_decode(buf, size, &q) == TW_WIRE_OK);
        reflector_fields_equal(&p, &q, stamp);
        /* Into a buffer of exactly the header's size. */
        uint8_t *exact = xmalloc(hdr);
        FUZZ_CHECK(tw_reflector_encode(&p, stamp, exact, hdr) == TW_WIRE_OK);
        FUZZ_CHECK(memcmp(exact, want, hdr) == 0);
        free(exact);
        free(want);
        free(buf);
    }
}

/* ---- TLVs --------------------------------------------------------------- */

/* The chain rule of RFC 8972 §4, written out independently of wire.c. */
static bool ref_chain_valid(const uint8_t *buf, size_t off, size_t len)
{
    if (off > len)
        return false;
    while (off != len) {
        if (off + 4 > len)
            return false;
        if (buf[off + 1] == 0)
            return false;
        size_t next = off + 4 + ((size_t)buf[off + 2] << 8) + buf[off + 3];
        if (next > len)
            return false;
        off = next;
    }
    return true;
}

static void check_tlvs_at(const uint8_t *data, size_t size, size_t off)
{
    bool valid = tw_tlv_chain_valid(data, off, size);
    FUZZ_CHECK(valid == ref_chain_valid(data, off, size));
    if (size == 0 || off > size)
        return;

    uint8_t *inplace = xmalloc(size);
    memcpy(inplace, data, size);
    tw_tlv_reflect(inplace, inplace, off, size);
    uint8_t *other = xmalloc(size);
    memset(other, 0xa5, size);
    tw_tlv_reflect(data, other, off, size);

    /* Octets before off: untouched. Both ways give the same chain. */
    FUZZ_CHECK(memcmp(inplace, data, off) == 0);
    for (size_t i = 0; i < off; i++)
        FUZZ_CHECK(other[i] == 0xa5);
    FUZZ_CHECK(memcmp(inplace + off, other + off, size - off) == 0);
    /* Only U flags change, whatever the chain. */
    for (size_t i = off; i < size; i++)
        FUZZ_CHECK(((inplace[i] ^ data[i]) & ~TW_TLV_FLAG_U) == 0);

    if (valid) {
        /* Each TLV: Extra Padding back with U clear, any other with U set;
         * the reflected chain is still valid and reflecting is idempotent. */
        for (size_t pos = off; pos < size; pos += 4 + tw_get16(data + pos + 2)) {
            uint8_t want = data[pos + 1] == TW_TLV_EXTRA_PADDING
                               ? (uint8_t)(data[pos] & ~TW_TLV_FLAG_U)
                               : (uint8_t)(data[pos] | TW_TLV_FLAG_U);
            FUZZ_CHECK(inplace[pos] == want);
            for (size_t i = pos + 1; i < pos + 4 + tw_get16(data + pos + 2); i++)
                FUZZ_CHECK(inplace[i] == data[i]);
        }
        FUZZ_CHECK(tw_tlv_chain_valid(inplace, off, size));
        memcpy(other, inplace, size);
        tw_tlv_reflect(other, other, off, size);
        FUZZ_CHECK(memcmp(other, inplace, size) == 0);
    }
    free(other);
    free(inplace);
}

static void check_tlvs(const uint8_t *data, size_t size)
{
    check_tlvs_at(data, size, TW_STAMP_BASE_LEN);
    if (size > 0) {
        /* An offset from the input itself, past the end now and then. */
        check_tlvs_at(data, size, data[0] % (size + 2));
    }
    FUZZ_CHECK(!tw_tlv_chain_valid(data, size + 1, size));
    FUZZ_CHECK(tw_tlv_chain_valid(data, size, size));
}

/* ---- reflect length ----------------------------------------------------- */

static size_t ref_reflect_len(size_t req, size_t cap)
{
    if (req < TW_SENDER_MIN_LEN)
        return 0;
    size_t n = req < TW_REFLECTOR_BASE_LEN ? TW_REFLECTOR_BASE_LEN : req;
    return n < cap ? n : cap;
}

static void check_reflect_len(const uint8_t *data, size_t size)
{
    size_t caps[4] = {SIZE_MAX, size, TW_REFLECTOR_BASE_LEN, 0};
    if (size >= 2)
        caps[3] = tw_get16(data);
    for (int i = 0; i < 4; i++) {
        size_t n = tw_reflect_len(size, caps[i]);
        FUZZ_CHECK(n == ref_reflect_len(size, caps[i]));
        FUZZ_CHECK(n <= caps[i]);
    }
    if (size >= 4) {
        size_t req = tw_get16(data + 2);
        FUZZ_CHECK(tw_reflect_len(req, SIZE_MAX) == ref_reflect_len(req, SIZE_MAX));
    }
}

/* ---- conformance findings ------------------------------------------------ */

static uint64_t get64_or0(const uint8_t *d, size_t size, size_t at)
{
    return size >= at + 8 ? tw_get64(d + at) : 0;
}

static void check_conform(const uint8_t *data, size_t size)
{
    uint8_t *copy = xmalloc(size); /* exactly size octets: ASan sees any read past */
    memcpy(copy, data, size);
    for (int fmt = TW_CF_TWAMP; fmt <= TW_CF_STAMP_AUTH; fmt++) {
        tw_conformance_t c;
        tw_conform_init(&c, fmt);
        for (int layout = TW_CF_LAYOUT_STRICT; layout <= TW_CF_LAYOUT_SEQ_ONLY; layout++) {
            /* Every field from the input, whatever it holds (times of any value). */
            tw_conform_reply_t r = {
                .buf = copy,
                .len = size,
                .req_len = size >= 2 ? tw_get16(data) : size,
                .format = fmt,
                .layout = layout,
                .ssid = size >= 16 ? tw_get16(data + 14) : 0,
                .sseq = size >= 28 ? tw_get32(data + 24) : 0,
                .rseq = size >= 4 ? tw_get32(data) : 0,
                .errest = size >= 14 ? tw_get16(data + 12) : 0,
                .ntp2 = get64_or0(data, size, 16),
                .ntp3 = get64_or0(data, size, 4),
                .t1 = (tw_time_t)get64_or0(data, size, 28),
                .t2 = (tw_time_t)get64_or0(data, size, 16),
                .t3 = (tw_time_t)get64_or0(data, size, 4),
                .t4 = (tw_time_t)get64_or0(data, size, 48),
                .sender_ttl = size > 40 ? data[40] : -1,
                .tai = size > 41 ? (int8_t)data[41] : 37,
            };
            tw_conform_reply(&c, &r);
        }
        tw_conformance_t total;
        tw_conform_init(&total, TW_CF_TWAMP);
        tw_conform_merge(&total, &c);
        tw_conform_merge(&total, &c);
        FUZZ_CHECK(c.replies == 4 && total.replies == 8);
        for (int k = 0; k < TW_CF_COUNT; k++) {
            FUZZ_CHECK(tw_conform_count(&c, k) <= c.replies);
            FUZZ_CHECK(tw_conform_count(&total, k) == 2 * tw_conform_count(&c, k));
            char line[480];
            tw_conform_line(&c, k, line, sizeof line);
            FUZZ_CHECK(tw_conform_count(&c, k) ? line[0] != '\0' : line[0] == '\0');
        }
    }
    free(copy);
}

/* ---- STAMP TLVs (stamp_tlv.h) ---------------------------------------------- */

static int fuzz_hmac(void *arg, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                     uint8_t out[TW_TLV_HMAC_LEN])
{
    (void)arg;
    uint8_t x = (uint8_t)(seq[0] ^ seq[3]);
    for (size_t i = 0; i < n; i++)
        x = (uint8_t)(x * 31 + tlvs[i]);
    memset(out, x, TW_TLV_HMAC_LEN);
    return 0;
}

/* The input from octet 44 as a TLV area: answered by a reflector in the open
 * and in the authenticated mode (in place: the length never changes, type and
 * length octets of the well-formed TLVs neither, no flag but U, M, I), and
 * read as a reply by a sender. */
static void check_stamp_tlvs(const uint8_t *data, size_t size)
{
    size_t off = size < TW_STAMP_BASE_LEN ? size : TW_STAMP_BASE_LEN;
    for (int mode = 0; mode < 2; mode++) {
        uint8_t *b = xmalloc(size);
        memcpy(b, data, size);
        tw_tlv_reflect_in_t in;
        memset(&in, 0, sizeof in);
        in.family = mode ? 10 : 2;
        in.tos = size ? data[0] : -1;
        in.fu_valid = true;
        in.require_hmac = mode == 1;
        in.hmac = mode ? fuzz_hmac : NULL;
        tw_tlv_reflect_out_t out;
        tw_tlv_answer(b, off, size, &in, &out);
        FUZZ_CHECK(out.tos < 256);
        FUZZ_CHECK(!memcmp(b, data, off));
        tw_tlv_t t;
        for (size_t pos = off; tw_tlv_at(data, pos, size, &t) > 0 && !t.overruns;
             pos += 4 + t.len) {
            FUZZ_CHECK((b[pos] & 0x1f) == 0);
            if (b[pos] & TW_TLVF_M)
                break;
            FUZZ_CHECK(!memcmp(b + pos + 2, data + pos + 2, 2));
        }
        tw_tlv_result_t r;
        memset(&r, 0, sizeof r);
        uint8_t seq[4] = {1, 2, 3, 4};
        tw_tlv_reply_ctx_t c = {.tos = in.tos, .sent_tos = 0, .hmac = in.hmac, .rep_seq = seq};
        tw_tlv_read_reply(&r, b, off, size, &c);
        tw_tlv_read_reply(&r, data, off, size, &c);
        FUZZ_CHECK(r.replies + r.no_tlvs == 2);
        free(b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_stamp_tlvs(data, size);
    check_sender(data, size);
    check_reflector(data, size);
    check_tlvs(data, size);
    check_reflect_len(data, size);
    check_conform(data, size);
    return 0;
}
