/* wire: pure codecs for TWAMP-Test, TWAMP light and STAMP test packets.
 * No sockets, no clocks, no allocation, no logging. Every decoder checks the
 * length before every read and returns 0 or a negative TW_WIRE_E* code. */
#ifndef TWAMPY_WIRE_H
#define TWAMPY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Minimum Session-Sender packet a reflector answers: Sequence Number,
 * Timestamp and Error Estimate (RFC 8762 §4.6). */
#define TW_SENDER_MIN_LEN 14
/* Unauthenticated Session-Reflector packet without padding (RFC 5357 §4.2.1). */
#define TW_REFLECTOR_BASE_LEN 41
/* Unauthenticated STAMP base packet, sender and reflector (RFC 8762 §4.2.1, §4.3.1). */
#define TW_STAMP_BASE_LEN 44
/* Authenticated and encrypted formats: the TWAMP Session-Sender header (RFC
 * 5357 §4.1.2, HMAC at 32), the TWAMP Session-Reflector header (RFC 5357
 * §4.2.1, HMAC at 96), and the authenticated STAMP base packet of both
 * directions (RFC 8762 §4.2.2, §4.3.2, HMAC at 96). */
#define TW_SENDER_AUTH_LEN 48
#define TW_REFLECTOR_AUTH_LEN 112
#define TW_STAMP_AUTH_BASE_LEN 112
/* Largest test packet twampy sends or reflects: fits a 9000-octet IP packet. */
#define TW_MAX_PACKET_LEN 9000
/* STAMP TLV header: Flags(1) Type(1) Length(2) (RFC 8972 §4). */
#define TW_TLV_HDR_LEN 4
#define TW_TLV_EXTRA_PADDING 1
#define TW_TLV_FLAG_U 0x80
#define TW_TLV_FLAG_M 0x40
#define TW_TLV_FLAG_I 0x20

enum {
    TW_WIRE_OK = 0,
    TW_WIRE_ESHORT = -1, /* buffer shorter than the message */
    TW_WIRE_EINVAL = -2, /* a field holds a value the format forbids */
    TW_WIRE_ENOSPC = -3, /* output buffer too small */
};

/* Session-Sender test packet (unauthenticated TWAMP / TWAMP light / STAMP). */
typedef struct tw_sender_pkt {
    uint32_t seq;
    uint64_t timestamp; /* NTP or PTP 64-bit, per errest Z bit */
    uint16_t errest;
    uint16_t ssid; /* STAMP only (offset 14); not encoded for TWAMP light */
} tw_sender_pkt_t;

/* Session-Reflector test packet (unauthenticated). */
typedef struct tw_reflector_pkt {
    uint32_t seq;       /* reflector's own sequence number */
    uint64_t timestamp; /* t3 */
    uint16_t errest;
    uint16_t ssid;    /* STAMP (offset 14); MBZ in TWAMP */
    uint64_t rx_time; /* t2 */
    uint32_t sender_seq;
    uint64_t sender_time; /* t1 */
    uint16_t sender_errest;
    uint8_t sender_ttl;
} tw_reflector_pkt_t;

/* Write a Session-Sender packet of total length len (>= 14; >= 44 with stamp)
 * into buf: the header fields, zeros to len, and with stamp and len > 44, one
 * Extra Padding TLV filling octets 44..len (len must then be >= 48), sent with
 * the U flag set as RFC 8972 §4 requires of a Session-Sender.
 * len below the minimum -> TW_WIRE_ENOSPC; len > TW_MAX_PACKET_LEN or a STAMP
 * len of 45..47 -> TW_WIRE_EINVAL. */
int tw_sender_encode(const tw_sender_pkt_t *p, bool stamp, uint8_t *buf, size_t len);

/* Read a Session-Sender packet. len < 14 -> TW_WIRE_ESHORT. Octets a short packet
 * lacks are read as zero (RFC 8762 §4.6); ssid is read when len >= 16. */
int tw_sender_decode(const uint8_t *buf, size_t len, tw_sender_pkt_t *p);

/* Write the 41-octet reflector header (44 with STAMP: SSID at 14, MBZ 41..43)
 * into buf (len >= 41, or >= 44 with stamp, else TW_WIRE_ENOSPC). Octets past
 * the header are untouched. */
int tw_reflector_encode(const tw_reflector_pkt_t *p, bool stamp, uint8_t *buf, size_t len);

/* Read a reflector packet; len < 41 -> TW_WIRE_ESHORT. MBZ fields are ignored. */
int tw_reflector_decode(const uint8_t *buf, size_t len, tw_reflector_pkt_t *p);

/* The authenticated and encrypted formats (WIRE.md). Only the fields: the HMAC
 * field is left zero for tw_test_* / tw_stamp_* (auth.h) to fill and check.
 * stamp selects the STAMP layout (SSID at 26, 112-octet sender packet, TLVs
 * from 112) instead of TWAMP's (MBZ at 26, 48-octet sender packet, padding
 * from 48).
 * Sender: writes the header, zeros to len and, for STAMP with len > 112, one
 * Extra Padding TLV over 112..len (len must then be >= 116), U flag set.
 * len below the header -> TW_WIRE_ENOSPC; len > TW_MAX_PACKET_LEN or a STAMP
 * len of 113..115 -> TW_WIRE_EINVAL. */
int tw_sender_encode_auth(const tw_sender_pkt_t *p, bool stamp, uint8_t *buf, size_t len);
/* len < 48 (TWAMP) or < 112 (STAMP) -> TW_WIRE_ESHORT. */
int tw_sender_decode_auth(const uint8_t *buf, size_t len, bool stamp, tw_sender_pkt_t *p);
/* Writes octets 0..112 (every MBZ and the HMAC field zero); octets past 112
 * are untouched. len < 112 -> TW_WIRE_ENOSPC. */
int tw_reflector_encode_auth(const tw_reflector_pkt_t *p, bool stamp, uint8_t *buf, size_t len);
/* len < 112 -> TW_WIRE_ESHORT; the SSID is read only with stamp. */
int tw_reflector_decode_auth(const uint8_t *buf, size_t len, bool stamp, tw_reflector_pkt_t *p);

/* The length of the reply a reflector sends to a request of req_len octets:
 * max(req_len, 41), capped at cap. 0 when the request is too short (< 14). */
size_t tw_reflect_len(size_t req_len, size_t cap);

/* True when buf[off..len) is a well-formed chain of STAMP TLVs with no TLV of the
 * reserved type 0 (zero padding is not a TLV chain). An empty range (off == len)
 * is a valid, empty chain; off > len is not valid. */
bool tw_tlv_chain_valid(const uint8_t *buf, size_t off, size_t len);

/* Reflect a TLV chain (already checked with tw_tlv_chain_valid) from req into
 * rep over [off, len), as RFC 8972 §4 says: Extra Padding (understood) goes back
 * with U cleared, every other TLV (not understood) with U set. */
void tw_tlv_reflect(const uint8_t *req, uint8_t *rep, size_t off, size_t len);

/* Big-endian helpers, bounds are the caller's. */
static inline void tw_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void tw_put64(uint8_t *p, uint64_t v)
{
    tw_put32(p, (uint32_t)(v >> 32));
    tw_put32(p + 4, (uint32_t)v);
}
static inline uint16_t tw_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t tw_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t tw_get64(const uint8_t *p)
{
    return ((uint64_t)tw_get32(p) << 32) | tw_get32(p + 4);
}

#endif
