/* wire: pure codecs for TWAMP-Test, TWAMP light and STAMP test packets
 * (RFC 5357 §4, RFC 8762 §4, RFC 8972 §3/§4). No I/O, no allocation. */
#include "wire.h"

#include <string.h>

/* Session-Sender offsets (RFC 5357 §4.1.2, RFC 8762 §4.2.1, RFC 8972 §3). */
#define S_SEQ 0
#define S_TS 4
#define S_ERREST 12
#define S_SSID 14
/* Session-Reflector offsets (RFC 5357 §4.2.1, RFC 8762 §4.3.1). */
#define R_SEQ 0
#define R_TS 4
#define R_ERREST 12
#define R_SSID 14 /* MBZ in TWAMP */
#define R_RX_TS 16
#define R_SND_SEQ 24
#define R_SND_TS 28
#define R_SND_ERREST 36
#define R_MBZ2 38
#define R_SND_TTL 40

int tw_sender_encode(const tw_sender_pkt_t *p, bool stamp, uint8_t *buf, size_t len)
{
    if (p == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len > TW_MAX_PACKET_LEN)
        return TW_WIRE_EINVAL;
    if (len < (stamp ? (size_t)TW_STAMP_BASE_LEN : (size_t)TW_SENDER_MIN_LEN))
        return TW_WIRE_ENOSPC;
    /* A STAMP packet longer than the base carries one TLV: at least its header. */
    if (stamp && len > TW_STAMP_BASE_LEN && len < TW_STAMP_BASE_LEN + TW_TLV_HDR_LEN)
        return TW_WIRE_EINVAL;

    memset(buf, 0, len);
    tw_put32(buf + S_SEQ, p->seq);
    tw_put64(buf + S_TS, p->timestamp);
    tw_put16(buf + S_ERREST, p->errest);
    if (stamp) {
        tw_put16(buf + S_SSID, p->ssid);
        if (len > TW_STAMP_BASE_LEN) {
            uint8_t *tlv = buf + TW_STAMP_BASE_LEN;
            /* RFC 8972 §4: the Session-Sender sends every TLV with U set; a
             * reflector that understands it clears U. */
            tlv[0] = TW_TLV_FLAG_U;
            tlv[1] = TW_TLV_EXTRA_PADDING;
            tw_put16(tlv + 2, (uint16_t)(len - TW_STAMP_BASE_LEN - TW_TLV_HDR_LEN));
            /* value: already zero */
        }
    }
    return TW_WIRE_OK;
}

int tw_sender_decode(const uint8_t *buf, size_t len, tw_sender_pkt_t *p)
{
    if (p == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_SENDER_MIN_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    memset(p, 0, sizeof(*p));
    p->seq = tw_get32(buf + S_SEQ);
    p->timestamp = tw_get64(buf + S_TS);
    p->errest = tw_get16(buf + S_ERREST);
    if (len >= S_SSID + 2)
        p->ssid = tw_get16(buf + S_SSID);
    return TW_WIRE_OK;
}

int tw_reflector_encode(const tw_reflector_pkt_t *p, bool stamp, uint8_t *buf, size_t len)
{
    if (p == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < (stamp ? (size_t)TW_STAMP_BASE_LEN : (size_t)TW_REFLECTOR_BASE_LEN))
        return TW_WIRE_ENOSPC;

    tw_put32(buf + R_SEQ, p->seq);
    tw_put64(buf + R_TS, p->timestamp);
    tw_put16(buf + R_ERREST, p->errest);
    tw_put16(buf + R_SSID, stamp ? p->ssid : 0);
    tw_put64(buf + R_RX_TS, p->rx_time);
    tw_put32(buf + R_SND_SEQ, p->sender_seq);
    tw_put64(buf + R_SND_TS, p->sender_time);
    tw_put16(buf + R_SND_ERREST, p->sender_errest);
    tw_put16(buf + R_MBZ2, 0);
    buf[R_SND_TTL] = p->sender_ttl;
    if (stamp)
        memset(buf + TW_REFLECTOR_BASE_LEN, 0, TW_STAMP_BASE_LEN - TW_REFLECTOR_BASE_LEN);
    return TW_WIRE_OK;
}

int tw_reflector_decode(const uint8_t *buf, size_t len, tw_reflector_pkt_t *p)
{
    if (p == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_REFLECTOR_BASE_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    memset(p, 0, sizeof(*p));
    p->seq = tw_get32(buf + R_SEQ);
    p->timestamp = tw_get64(buf + R_TS);
    p->errest = tw_get16(buf + R_ERREST);
    p->ssid = tw_get16(buf + R_SSID);
    p->rx_time = tw_get64(buf + R_RX_TS);
    p->sender_seq = tw_get32(buf + R_SND_SEQ);
    p->sender_time = tw_get64(buf + R_SND_TS);
    p->sender_errest = tw_get16(buf + R_SND_ERREST);
    p->sender_ttl = buf[R_SND_TTL];
    return TW_WIRE_OK;
}

size_t tw_reflect_len(size_t req_len, size_t cap)
{
    if (req_len < TW_SENDER_MIN_LEN)
        return 0;
    size_t n = req_len > TW_REFLECTOR_BASE_LEN ? req_len : TW_REFLECTOR_BASE_LEN;
    return n > cap ? cap : n;
}

bool tw_tlv_chain_valid(const uint8_t *buf, size_t off, size_t len)
{
    if (off > len)
        return false;
    if (off == len)
        return true; /* empty chain */
    if (buf == NULL)
        return false;
    size_t pos = off;
    while (pos < len) {
        if (len - pos < TW_TLV_HDR_LEN)
            return false; /* truncated header */
        if (buf[pos + 1] == 0)
            return false; /* reserved type */
        size_t vlen = tw_get16(buf + pos + 2);
        if (vlen > len - pos - TW_TLV_HDR_LEN)
            return false; /* value overruns the packet */
        pos += TW_TLV_HDR_LEN + vlen;
    }
    return true;
}

void tw_tlv_reflect(const uint8_t *req, uint8_t *rep, size_t off, size_t len)
{
    if (req == NULL || rep == NULL || off >= len)
        return;
    if (req != rep)
        memmove(rep + off, req + off, len - off);
    size_t pos = off;
    while (len - pos >= TW_TLV_HDR_LEN) {
        if (rep[pos + 1] == TW_TLV_EXTRA_PADDING)
            rep[pos] &= (uint8_t)~TW_TLV_FLAG_U; /* understood */
        else
            rep[pos] |= TW_TLV_FLAG_U; /* not understood */
        size_t vlen = tw_get16(rep + pos + 2);
        if (vlen > len - pos - TW_TLV_HDR_LEN)
            break;
        pos += TW_TLV_HDR_LEN + vlen;
    }
}

/* ---- authenticated and encrypted formats ----------------------------------- */

/* Offsets shared by the 48-octet TWAMP sender, the 112-octet TWAMP reflector
 * and the 112-octet STAMP packets (RFC 5357 §4.1.2, §4.2.1; RFC 8762 §4.2.2,
 * §4.3.2; WIRE.md). */
#define A_SEQ 0
#define A_TS 16
#define A_ERREST 24
#define A_SSID 26 /* STAMP; MBZ in TWAMP */
#define A_RX_TS 32
#define A_SND_SEQ 48
#define A_SND_TS 64
#define A_SND_ERREST 72
#define A_SND_TTL 80

int tw_sender_encode_auth(const tw_sender_pkt_t *p, bool stamp, uint8_t *buf, size_t len)
{
    if (p == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len > TW_MAX_PACKET_LEN)
        return TW_WIRE_EINVAL;
    size_t hdr = stamp ? TW_STAMP_AUTH_BASE_LEN : TW_SENDER_AUTH_LEN;
    if (len < hdr)
        return TW_WIRE_ENOSPC;
    if (stamp && len > hdr && len < hdr + TW_TLV_HDR_LEN)
        return TW_WIRE_EINVAL;
    memset(buf, 0, len);
    tw_put32(buf + A_SEQ, p->seq);
    tw_put64(buf + A_TS, p->timestamp);
    tw_put16(buf + A_ERREST, p->errest);
    if (stamp) {
        tw_put16(buf + A_SSID, p->ssid);
        if (len > hdr) {
            uint8_t *tlv = buf + hdr;
            tlv[0] = TW_TLV_FLAG_U; /* RFC 8972 §4, as tw_sender_encode */
            tlv[1] = TW_TLV_EXTRA_PADDING;
            tw_put16(tlv + 2, (uint16_t)(len - hdr - TW_TLV_HDR_LEN));
        }
    }
    return TW_WIRE_OK;
}

int tw_sender_decode_auth(const uint8_t *buf, size_t len, bool stamp, tw_sender_pkt_t *p)
{
    if (p == NULL)
        return TW_WIRE_EINVAL;
    if (len < (stamp ? (size_t)TW_STAMP_AUTH_BASE_LEN : (size_t)TW_SENDER_AUTH_LEN))
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    memset(p, 0, sizeof(*p));
    p->seq = tw_get32(buf + A_SEQ);
    p->timestamp = tw_get64(buf + A_TS);
    p->errest = tw_get16(buf + A_ERREST);
    if (stamp)
        p->ssid = tw_get16(buf + A_SSID);
    return TW_WIRE_OK;
}

int tw_reflector_encode_auth(const tw_reflector_pkt_t *p, bool stamp, uint8_t *buf, size_t len)
{
    if (p == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_REFLECTOR_AUTH_LEN)
        return TW_WIRE_ENOSPC;
    memset(buf, 0, TW_REFLECTOR_AUTH_LEN);
    tw_put32(buf + A_SEQ, p->seq);
    tw_put64(buf + A_TS, p->timestamp);
    tw_put16(buf + A_ERREST, p->errest);
    if (stamp)
        tw_put16(buf + A_SSID, p->ssid);
    tw_put64(buf + A_RX_TS, p->rx_time);
    tw_put32(buf + A_SND_SEQ, p->sender_seq);
    tw_put64(buf + A_SND_TS, p->sender_time);
    tw_put16(buf + A_SND_ERREST, p->sender_errest);
    buf[A_SND_TTL] = p->sender_ttl;
    return TW_WIRE_OK;
}

int tw_reflector_decode_auth(const uint8_t *buf, size_t len, bool stamp, tw_reflector_pkt_t *p)
{
    if (p == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_REFLECTOR_AUTH_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    memset(p, 0, sizeof(*p));
    p->seq = tw_get32(buf + A_SEQ);
    p->timestamp = tw_get64(buf + A_TS);
    p->errest = tw_get16(buf + A_ERREST);
    if (stamp)
        p->ssid = tw_get16(buf + A_SSID);
    p->rx_time = tw_get64(buf + A_RX_TS);
    p->sender_seq = tw_get32(buf + A_SND_SEQ);
    p->sender_time = tw_get64(buf + A_SND_TS);
    p->sender_errest = tw_get16(buf + A_SND_ERREST);
    p->sender_ttl = buf[A_SND_TTL];
    return TW_WIRE_OK;
}
