/* Unit tests for wire: byte-exact vectors written out by hand from
 * RFC 5357 §4.1.2/§4.2.1 (TWAMP), RFC 8762 §4.2.1/§4.3.1 (STAMP) and
 * RFC 8972 §3/§4 (SSID, TLVs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "wire.h"

static const tw_sender_pkt_t SENDER = {
    .seq = 0x01020304u,
    .timestamp = 0x1112131415161718ULL,
    .errest = 0x8A05u,
    .ssid = 0xBEEFu,
};

/* TWAMP light Session-Sender, 14 octets: Seq | Timestamp | Error Estimate */
static const uint8_t SENDER_TWAMP_14[14] = {
    0x01, 0x02, 0x03, 0x04,                         /* 0: Sequence Number */
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* 4: Timestamp */
    0x8A, 0x05,                                     /* 12: Error Estimate */
};

/* TWAMP Session-Sender with RFC 6038 symmetrical size: 14 + 27 zero octets.
 * The SSID is not encoded for TWAMP. */
static const uint8_t SENDER_TWAMP_41[41] = {
    0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x8A, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* STAMP Session-Sender, 44 octets: Seq | Timestamp | Error Estimate | SSID | MBZ(28) */
static const uint8_t SENDER_STAMP_44[44] = {
    0x01, 0x02, 0x03, 0x04,                         /* 0: Sequence Number */
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* 4: Timestamp */
    0x8A, 0x05,                                     /* 12: Error Estimate */
    0xBE, 0xEF,                                     /* 14: SSID */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 16: MBZ (28) */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* STAMP Session-Sender, 60 octets: the 44 above, then an Extra Padding TLV:
 * Flags 0 | Type 1 | Length 12 | 12 zero octets. */
static const uint8_t
    SENDER_STAMP_60[60] =
        {
            0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            0x8A, 0x05, 0xBE, 0xEF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* end of base packet at 44 */
            0x80, 0x01, 0x00, 0x0C,                         /* 44: TLV Flags (U), Type, Length */
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 48: Value (12) */
            0x00, 0x00, 0x00, 0x00,
};

static const tw_reflector_pkt_t REFLECTOR = {
    .seq = 0xA1A2A3A4u,
    .timestamp = 0xB1B2B3B4B5B6B7B8ULL,
    .errest = 0xC1C2u,
    .ssid = 0xD1D2u,
    .rx_time = 0xE1E2E3E4E5E6E7E8ULL,
    .sender_seq = 0xF1F2F3F4u,
    .sender_time = 0x0102030405060708ULL,
    .sender_errest = 0x090Au,
    .sender_ttl = 0xFFu,
};

/* TWAMP Session-Reflector, 41 octets (the SSID field is MBZ in TWAMP). */
static const uint8_t REFLECTOR_TWAMP_41[41] = {
    0xA1, 0xA2, 0xA3, 0xA4,                         /* 0: Sequence Number */
    0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, /* 4: Timestamp */
    0xC1, 0xC2,                                     /* 12: Error Estimate */
    0x00, 0x00,                                     /* 14: MBZ */
    0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, /* 16: Receive Timestamp */
    0xF1, 0xF2, 0xF3, 0xF4,                         /* 24: Sender Sequence Number */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* 28: Sender Timestamp */
    0x09, 0x0A,                                     /* 36: Sender Error Estimate */
    0x00, 0x00,                                     /* 38: MBZ */
    0xFF,                                           /* 40: Sender TTL */
};

/* STAMP Session-Reflector, 44 octets: SSID at 14, MBZ at 41..43. */
static const uint8_t REFLECTOR_STAMP_44[44] = {
    0xA1, 0xA2, 0xA3, 0xA4,                         /* 0: Sequence Number */
    0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, /* 4: Timestamp */
    0xC1, 0xC2,                                     /* 12: Error Estimate */
    0xD1, 0xD2,                                     /* 14: SSID */
    0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, /* 16: Receive Timestamp */
    0xF1, 0xF2, 0xF3, 0xF4,                         /* 24: Sender Sequence Number */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* 28: Sender Timestamp */
    0x09, 0x0A,                                     /* 36: Sender Error Estimate */
    0x00, 0x00,                                     /* 38: MBZ */
    0xFF,                                           /* 40: Sender TTL */
    0x00, 0x00, 0x00,                               /* 41: MBZ */
};

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* --- Session-Sender encode --- */

static void test_sender_encode_twamp_14(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(tw_sender_encode(&SENDER, false, buf, 14), TW_WIRE_OK);
    assert_memory_equal(buf, SENDER_TWAMP_14, 14);
    assert_true(all_bytes(buf + 14, sizeof(buf) - 14, 0xAA)); /* nothing past len */
}

static void test_sender_encode_twamp_41(void **state)
{
    (void)state;
    uint8_t buf[41];
    memset(buf, 0xAA, sizeof(buf)); /* padding must be overwritten with zeros */
    assert_int_equal(tw_sender_encode(&SENDER, false, buf, 41), TW_WIRE_OK);
    assert_memory_equal(buf, SENDER_TWAMP_41, 41);
}

static void test_sender_encode_stamp_44(void **state)
{
    (void)state;
    uint8_t buf[44];
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 44), TW_WIRE_OK);
    assert_memory_equal(buf, SENDER_STAMP_44, 44);
}

static void test_sender_encode_stamp_60_extra_padding(void **state)
{
    (void)state;
    uint8_t buf[60];
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 60), TW_WIRE_OK);
    assert_memory_equal(buf, SENDER_STAMP_60, 60);
    assert_true(tw_tlv_chain_valid(buf, 44, 60));
}

static void test_sender_encode_stamp_48_empty_padding(void **state)
{
    (void)state;
    static const uint8_t tlv[4] = {0x80, 0x01, 0x00, 0x00}; /* U set by the sender */
    uint8_t buf[48];
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 48), TW_WIRE_OK);
    assert_memory_equal(buf, SENDER_STAMP_44, 44);
    assert_memory_equal(buf + 44, tlv, 4);
}

static void test_sender_encode_rejects(void **state)
{
    (void)state;
    uint8_t buf[TW_MAX_PACKET_LEN + 1];
    memset(buf, 0xAA, sizeof(buf));
    /* STAMP 45..47: no room for a TLV header */
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 45), TW_WIRE_EINVAL);
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 46), TW_WIRE_EINVAL);
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 47), TW_WIRE_EINVAL);
    /* shorter than the base packet */
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 43), TW_WIRE_ENOSPC);
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, 14), TW_WIRE_ENOSPC);
    assert_int_equal(tw_sender_encode(&SENDER, false, buf, 13), TW_WIRE_ENOSPC);
    assert_int_equal(tw_sender_encode(&SENDER, false, buf, 0), TW_WIRE_ENOSPC);
    /* longer than the largest packet */
    assert_int_equal(tw_sender_encode(&SENDER, false, buf, TW_MAX_PACKET_LEN + 1), TW_WIRE_EINVAL);
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, TW_MAX_PACKET_LEN + 1), TW_WIRE_EINVAL);
    /* NULL arguments */
    assert_int_equal(tw_sender_encode(NULL, false, buf, 14), TW_WIRE_EINVAL);
    assert_int_equal(tw_sender_encode(&SENDER, false, NULL, 14), TW_WIRE_EINVAL);
    /* a rejected encode writes nothing */
    assert_true(all_bytes(buf, sizeof(buf), 0xAA));
    /* the largest packet is accepted; its TLV covers 44..9000 */
    assert_int_equal(tw_sender_encode(&SENDER, true, buf, TW_MAX_PACKET_LEN), TW_WIRE_OK);
    assert_int_equal(buf[44], 0x80);
    assert_int_equal(buf[45], 0x01);
    assert_int_equal(buf[46], 0x22); /* 9000 - 48 = 8952 = 0x22F8 */
    assert_int_equal(buf[47], 0xF8);
}

/* --- Session-Sender decode --- */

static void test_sender_decode_stamp_44(void **state)
{
    (void)state;
    tw_sender_pkt_t p;
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(tw_sender_decode(SENDER_STAMP_44, 44, &p), TW_WIRE_OK);
    assert_true(p.seq == 0x01020304u);
    assert_true(p.timestamp == 0x1112131415161718ULL);
    assert_int_equal(p.errest, 0x8A05);
    assert_int_equal(p.ssid, 0xBEEF);
}

static void test_sender_decode_twamp_14(void **state)
{
    (void)state;
    tw_sender_pkt_t p;
    memset(&p, 0x55, sizeof(p)); /* a short packet zero-fills what it lacks */
    assert_int_equal(tw_sender_decode(SENDER_TWAMP_14, 14, &p), TW_WIRE_OK);
    assert_true(p.seq == 0x01020304u);
    assert_true(p.timestamp == 0x1112131415161718ULL);
    assert_int_equal(p.errest, 0x8A05);
    assert_int_equal(p.ssid, 0);
}

static void test_sender_decode_ssid_needs_16(void **state)
{
    (void)state;
    tw_sender_pkt_t p;
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(tw_sender_decode(SENDER_STAMP_44, 15, &p), TW_WIRE_OK);
    assert_int_equal(p.ssid, 0);
    assert_int_equal(tw_sender_decode(SENDER_STAMP_44, 16, &p), TW_WIRE_OK);
    assert_int_equal(p.ssid, 0xBEEF);
}

static void test_sender_decode_all_lengths(void **state)
{
    (void)state;
    for (size_t len = 14; len <= 44; len++) {
        tw_sender_pkt_t p;
        memset(&p, 0x55, sizeof(p));
        assert_int_equal(tw_sender_decode(SENDER_STAMP_44, len, &p), TW_WIRE_OK);
        assert_true(p.seq == 0x01020304u);
        assert_true(p.timestamp == 0x1112131415161718ULL);
        assert_int_equal(p.errest, 0x8A05);
        assert_int_equal(p.ssid, len >= 16 ? 0xBEEF : 0);
    }
}

static void test_sender_decode_short(void **state)
{
    (void)state;
    tw_sender_pkt_t p;
    for (size_t len = 0; len < 14; len++)
        assert_int_equal(tw_sender_decode(SENDER_TWAMP_14, len, &p), TW_WIRE_ESHORT);
    assert_int_equal(tw_sender_decode(SENDER_TWAMP_14, 14, NULL), TW_WIRE_EINVAL);
}

/* --- Session-Reflector --- */

static void test_reflector_encode_twamp_41(void **state)
{
    (void)state;
    uint8_t buf[50];
    memset(buf, 0x5A, sizeof(buf));
    assert_int_equal(tw_reflector_encode(&REFLECTOR, false, buf, sizeof(buf)), TW_WIRE_OK);
    assert_memory_equal(buf, REFLECTOR_TWAMP_41, 41);
    assert_true(all_bytes(buf + 41, sizeof(buf) - 41, 0x5A)); /* untouched */
    memset(buf, 0x5A, sizeof(buf));
    assert_int_equal(tw_reflector_encode(&REFLECTOR, false, buf, 41), TW_WIRE_OK);
    assert_memory_equal(buf, REFLECTOR_TWAMP_41, 41);
}

static void test_reflector_encode_stamp_44(void **state)
{
    (void)state;
    uint8_t buf[50];
    memset(buf, 0x5A, sizeof(buf));
    assert_int_equal(tw_reflector_encode(&REFLECTOR, true, buf, sizeof(buf)), TW_WIRE_OK);
    assert_memory_equal(buf, REFLECTOR_STAMP_44, 44);
    assert_true(all_bytes(buf + 44, sizeof(buf) - 44, 0x5A)); /* untouched */
}

static void test_reflector_encode_short(void **state)
{
    (void)state;
    uint8_t buf[44];
    memset(buf, 0x5A, sizeof(buf));
    assert_int_equal(tw_reflector_encode(&REFLECTOR, false, buf, 40), TW_WIRE_ENOSPC);
    assert_int_equal(tw_reflector_encode(&REFLECTOR, true, buf, 43), TW_WIRE_ENOSPC);
    assert_int_equal(tw_reflector_encode(&REFLECTOR, true, buf, 41), TW_WIRE_ENOSPC);
    assert_int_equal(tw_reflector_encode(NULL, true, buf, 44), TW_WIRE_EINVAL);
    assert_true(all_bytes(buf, sizeof(buf), 0x5A));
}

static void assert_reflector_fields(const tw_reflector_pkt_t *p, uint16_t ssid)
{
    assert_true(p->seq == 0xA1A2A3A4u);
    assert_true(p->timestamp == 0xB1B2B3B4B5B6B7B8ULL);
    assert_int_equal(p->errest, 0xC1C2);
    assert_int_equal(p->ssid, ssid);
    assert_true(p->rx_time == 0xE1E2E3E4E5E6E7E8ULL);
    assert_true(p->sender_seq == 0xF1F2F3F4u);
    assert_true(p->sender_time == 0x0102030405060708ULL);
    assert_int_equal(p->sender_errest, 0x090A);
    assert_int_equal(p->sender_ttl, 0xFF);
}

static void test_reflector_decode_twamp_41(void **state)
{
    (void)state;
    tw_reflector_pkt_t p;
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(tw_reflector_decode(REFLECTOR_TWAMP_41, 41, &p), TW_WIRE_OK);
    assert_reflector_fields(&p, 0);
}

static void test_reflector_decode_stamp_44(void **state)
{
    (void)state;
    tw_reflector_pkt_t p;
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(tw_reflector_decode(REFLECTOR_STAMP_44, 44, &p), TW_WIRE_OK);
    assert_reflector_fields(&p, 0xD1D2);
}

static void test_reflector_decode_ignores_mbz(void **state)
{
    (void)state;
    uint8_t buf[44];
    memcpy(buf, REFLECTOR_STAMP_44, sizeof(buf));
    buf[38] = 0xFF; /* MBZ after Sender Error Estimate */
    buf[39] = 0x81;
    buf[41] = 0x42; /* STAMP MBZ after Sender TTL */
    buf[42] = 0x43;
    buf[43] = 0x44;
    tw_reflector_pkt_t p;
    assert_int_equal(tw_reflector_decode(buf, sizeof(buf), &p), TW_WIRE_OK);
    assert_reflector_fields(&p, 0xD1D2);
}

static void test_reflector_decode_short(void **state)
{
    (void)state;
    tw_reflector_pkt_t p;
    assert_int_equal(tw_reflector_decode(REFLECTOR_TWAMP_41, 40, &p), TW_WIRE_ESHORT);
    assert_int_equal(tw_reflector_decode(REFLECTOR_TWAMP_41, 14, &p), TW_WIRE_ESHORT);
    assert_int_equal(tw_reflector_decode(REFLECTOR_TWAMP_41, 0, &p), TW_WIRE_ESHORT);
}

/* --- reply length --- */

static void test_reflect_len(void **state)
{
    (void)state;
    const size_t cap = TW_MAX_PACKET_LEN;
    assert_int_equal(tw_reflect_len(0, cap), 0);
    assert_int_equal(tw_reflect_len(13, cap), 0);
    assert_int_equal(tw_reflect_len(14, cap), 41);
    assert_int_equal(tw_reflect_len(40, cap), 41);
    assert_int_equal(tw_reflect_len(41, cap), 41);
    assert_int_equal(tw_reflect_len(42, cap), 42);
    assert_int_equal(tw_reflect_len(44, cap), 44);
    assert_int_equal(tw_reflect_len(9000, cap), 9000);
    /* the cap */
    assert_int_equal(tw_reflect_len(9001, cap), 9000);
    assert_int_equal(tw_reflect_len(1500, 1000), 1000);
    assert_int_equal(tw_reflect_len(44, 44), 44);
    assert_int_equal(tw_reflect_len(13, 41), 0);
}

/* --- TLVs --- */

static void test_tlv_chain_empty(void **state)
{
    (void)state;
    static const uint8_t buf[44] = {0};
    assert_true(tw_tlv_chain_valid(buf, 44, 44)); /* base packet, no TLVs */
    assert_true(tw_tlv_chain_valid(NULL, 0, 0));
    assert_false(tw_tlv_chain_valid(buf, 44, 40)); /* off past len */
}

static void test_tlv_chain_valid(void **state)
{
    (void)state;
    static const uint8_t one[6] = {0x00, 0x01, 0x00, 0x02, 0xAA, 0xBB};
    assert_true(tw_tlv_chain_valid(one, 0, sizeof(one)));
    static const uint8_t two[9] = {
        0x00, 0x01, 0x00, 0x00,       /* Extra Padding, empty value */
        0x80, 0x05, 0x00, 0x01, 0x77, /* Direct Measurement, 1 octet, U set */
    };
    assert_true(tw_tlv_chain_valid(two, 0, sizeof(two)));
    /* a chain inside a packet, starting at 44 */
    assert_true(tw_tlv_chain_valid(SENDER_STAMP_60, 44, 60));
}

static void test_tlv_chain_truncated_header(void **state)
{
    (void)state;
    static const uint8_t buf[7] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00};
    assert_false(tw_tlv_chain_valid(buf, 0, sizeof(buf)));
    assert_false(tw_tlv_chain_valid(buf, 0, 3));
    assert_false(tw_tlv_chain_valid(buf, 0, 1));
}

static void test_tlv_chain_overrun(void **state)
{
    (void)state;
    static const uint8_t buf[6] = {0x00, 0x01, 0x00, 0x05, 0xAA, 0xBB};
    assert_false(tw_tlv_chain_valid(buf, 0, sizeof(buf)));
    /* the 60-octet packet with its last octet cut off */
    assert_false(tw_tlv_chain_valid(SENDER_STAMP_60, 44, 59));
    static const uint8_t big[4] = {0x00, 0x01, 0xFF, 0xFF};
    assert_false(tw_tlv_chain_valid(big, 0, sizeof(big)));
}

static void test_tlv_chain_type0(void **state)
{
    (void)state;
    static const uint8_t zero[12] = {0}; /* zero padding is not a TLV chain */
    assert_false(tw_tlv_chain_valid(zero, 0, sizeof(zero)));
    assert_false(tw_tlv_chain_valid(zero, 0, 4));
    static const uint8_t after[8] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_false(tw_tlv_chain_valid(after, 0, sizeof(after)));
    /* a TWAMP light 41-octet packet read as STAMP has zeros from 44: not a chain */
    static const uint8_t pkt[48] = {0};
    assert_false(tw_tlv_chain_valid(pkt, 44, 48));
}

static void test_tlv_reflect(void **state)
{
    (void)state;
    static const uint8_t req[4 + 22] = {
        0xEE, 0xEE, 0xEE, 0xEE,                   /* not part of the chain */
        0x00, 0x01, 0x00, 0x02, 0xAA, 0xBB,       /* Extra Padding, flags 0 */
        0x00, 0x05, 0x00, 0x01, 0x77,             /* type 5: unknown to the reflector */
        0x40, 0xFE, 0x00, 0x00,                   /* type 254 with M set */
        0x80, 0x01, 0x00, 0x03, 0x01, 0x02, 0x03, /* Extra Padding, flags U */
    };
    static const uint8_t want[22] = {
        0x00, 0x01, 0x00, 0x02, 0xAA, 0xBB,       /* understood: U stays clear */
        0x80, 0x05, 0x00, 0x01, 0x77,             /* U set */
        0xC0, 0xFE, 0x00, 0x00,                   /* U set, M kept */
        0x00, 0x01, 0x00, 0x03, 0x01, 0x02, 0x03, /* understood: U cleared */
    };
    uint8_t req_copy[sizeof(req)];
    memcpy(req_copy, req, sizeof(req));
    assert_true(tw_tlv_chain_valid(req, 4, sizeof(req)));

    uint8_t rep[sizeof(req) + 4];
    memset(rep, 0x33, sizeof(rep));
    tw_tlv_reflect(req_copy, rep, 4, sizeof(req));
    assert_true(all_bytes(rep, 4, 0x33));
    assert_memory_equal(rep + 4, want, sizeof(want));
    assert_true(all_bytes(rep + sizeof(req), 4, 0x33));
    assert_memory_equal(req_copy, req, sizeof(req)); /* request unchanged */

    /* in place */
    tw_tlv_reflect(req_copy, req_copy, 4, sizeof(req));
    assert_memory_equal(req_copy + 4, want, sizeof(want));

    /* empty range: nothing happens */
    memset(rep, 0x33, sizeof(rep));
    tw_tlv_reflect(req, rep, 10, 10);
    assert_true(all_bytes(rep, sizeof(rep), 0x33));
}

static void test_tlv_reflect_sender_packet(void **state)
{
    (void)state;
    /* The 60-octet sender packet's Extra Padding TLV comes back with U cleared
     * (the reflector understood it) and everything else unchanged. */
    uint8_t rep[60];
    memset(rep, 0, sizeof(rep));
    tw_tlv_reflect(SENDER_STAMP_60, rep, 44, 60);
    assert_int_equal(SENDER_STAMP_60[44], 0x80);
    assert_int_equal(rep[44], 0x00);
    assert_memory_equal(rep + 45, SENDER_STAMP_60 + 45, 15);
}

/* ---- authenticated and encrypted formats (RFC 5357 §4.1.2, §4.2.1; RFC 8762
 * §4.2.2, §4.3.2; WIRE.md): the fields at their offsets, every MBZ and the HMAC
 * field zero (the HMAC is auth.c's to write). ---------------------------------- */

/* Set off..off+n of an expected packet from a big-endian value. */
static void expect_be(uint8_t *p, size_t off, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void test_sender_encode_auth_twamp(void **state)
{
    (void)state;
    uint8_t buf[60], want[60];
    memset(buf, 0xEE, sizeof buf);
    memset(want, 0, sizeof want);
    expect_be(want, 0, 0x01020304u, 4);            /* Sequence Number; MBZ 4..15 */
    expect_be(want, 16, 0x1112131415161718ULL, 8); /* Timestamp */
    expect_be(want, 24, 0x8A05u, 2);               /* Error Estimate; MBZ 26..31 (no SSID) */
    /* HMAC 32..47 and padding 48..59 zero */
    assert_int_equal(tw_sender_encode_auth(&SENDER, false, buf, 60), TW_WIRE_OK);
    assert_memory_equal(buf, want, 60);
    assert_int_equal(tw_sender_encode_auth(&SENDER, false, buf, 47), TW_WIRE_ENOSPC);
    tw_sender_pkt_t got;
    assert_int_equal(tw_sender_decode_auth(buf, 48, false, &got), TW_WIRE_OK);
    assert_int_equal(got.seq, SENDER.seq);
    assert_true(got.timestamp == SENDER.timestamp);
    assert_int_equal(got.errest, SENDER.errest);
    assert_int_equal(got.ssid, 0);
    assert_int_equal(tw_sender_decode_auth(buf, 47, false, &got), TW_WIRE_ESHORT);
}

static void test_sender_encode_auth_stamp(void **state)
{
    (void)state;
    uint8_t buf[128], want[128];
    memset(buf, 0xEE, sizeof buf);
    memset(want, 0, sizeof want);
    expect_be(want, 0, 0x01020304u, 4);
    expect_be(want, 16, 0x1112131415161718ULL, 8);
    expect_be(want, 24, 0x8A05u, 2);
    expect_be(want, 26, 0xBEEFu, 2); /* SSID */
    /* MBZ 28..95, HMAC 96..111, then an Extra Padding TLV: U, type 1, length 12 */
    want[112] = 0x80;
    want[113] = 0x01;
    expect_be(want, 114, 12, 2);
    assert_int_equal(tw_sender_encode_auth(&SENDER, true, buf, 128), TW_WIRE_OK);
    assert_memory_equal(buf, want, 128);
    assert_int_equal(tw_sender_encode_auth(&SENDER, true, buf, 112), TW_WIRE_OK);
    assert_memory_equal(buf, want, 112);
    assert_int_equal(tw_sender_encode_auth(&SENDER, true, buf, 111), TW_WIRE_ENOSPC);
    assert_int_equal(tw_sender_encode_auth(&SENDER, true, buf, 114), TW_WIRE_EINVAL);
    tw_sender_pkt_t got;
    assert_int_equal(tw_sender_decode_auth(want, 112, true, &got), TW_WIRE_OK);
    assert_int_equal(got.ssid, 0xBEEF);
    assert_int_equal(tw_sender_decode_auth(want, 111, true, &got), TW_WIRE_ESHORT);
}

static void test_reflector_encode_auth(void **state)
{
    (void)state;
    for (int stamp = 0; stamp <= 1; stamp++) {
        uint8_t buf[120], want[120];
        memset(buf, 0xEE, sizeof buf);
        memset(want, 0, sizeof want);
        expect_be(want, 0, 0xA1A2A3A4u, 4);            /* Sequence Number; MBZ 4..15 */
        expect_be(want, 16, 0xB1B2B3B4B5B6B7B8ULL, 8); /* Timestamp */
        expect_be(want, 24, 0xC1C2u, 2);               /* Error Estimate */
        if (stamp)
            expect_be(want, 26, 0xD1D2u, 2);           /* SSID (MBZ in TWAMP) */
        expect_be(want, 32, 0xE1E2E3E4E5E6E7E8ULL, 8); /* Receive Timestamp; MBZ 40..47 */
        expect_be(want, 48, 0xF1F2F3F4u, 4);           /* Sender Sequence Number; MBZ 52..63 */
        expect_be(want, 64, 0x0102030405060708ULL, 8); /* Sender Timestamp */
        expect_be(want, 72, 0x090Au, 2);               /* Sender Error Estimate; MBZ 74..79 */
        want[80] = 0xFF;                               /* Sender TTL; MBZ 81..95, HMAC 96..111 */
        memset(want + 112, 0xEE, 8);                   /* past 112: untouched */
        assert_int_equal(tw_reflector_encode_auth(&REFLECTOR, stamp, buf, 120), TW_WIRE_OK);
        assert_memory_equal(buf, want, 120);
        assert_int_equal(tw_reflector_encode_auth(&REFLECTOR, stamp, buf, 111), TW_WIRE_ENOSPC);
        tw_reflector_pkt_t got;
        assert_int_equal(tw_reflector_decode_auth(buf, 112, stamp, &got), TW_WIRE_OK);
        assert_int_equal(got.seq, REFLECTOR.seq);
        assert_true(got.timestamp == REFLECTOR.timestamp);
        assert_int_equal(got.errest, REFLECTOR.errest);
        assert_int_equal(got.ssid, stamp ? REFLECTOR.ssid : 0);
        assert_true(got.rx_time == REFLECTOR.rx_time);
        assert_int_equal(got.sender_seq, REFLECTOR.sender_seq);
        assert_true(got.sender_time == REFLECTOR.sender_time);
        assert_int_equal(got.sender_errest, REFLECTOR.sender_errest);
        assert_int_equal(got.sender_ttl, REFLECTOR.sender_ttl);
        assert_int_equal(tw_reflector_decode_auth(buf, 111, stamp, &got), TW_WIRE_ESHORT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_encode_twamp_14),
        cmocka_unit_test(test_sender_encode_twamp_41),
        cmocka_unit_test(test_sender_encode_stamp_44),
        cmocka_unit_test(test_sender_encode_stamp_60_extra_padding),
        cmocka_unit_test(test_sender_encode_stamp_48_empty_padding),
        cmocka_unit_test(test_sender_encode_rejects),
        cmocka_unit_test(test_sender_decode_stamp_44),
        cmocka_unit_test(test_sender_decode_twamp_14),
        cmocka_unit_test(test_sender_decode_ssid_needs_16),
        cmocka_unit_test(test_sender_decode_all_lengths),
        cmocka_unit_test(test_sender_decode_short),
        cmocka_unit_test(test_reflector_encode_twamp_41),
        cmocka_unit_test(test_reflector_encode_stamp_44),
        cmocka_unit_test(test_reflector_encode_short),
        cmocka_unit_test(test_reflector_decode_twamp_41),
        cmocka_unit_test(test_reflector_decode_stamp_44),
        cmocka_unit_test(test_reflector_decode_ignores_mbz),
        cmocka_unit_test(test_reflector_decode_short),
        cmocka_unit_test(test_reflect_len),
        cmocka_unit_test(test_tlv_chain_empty),
        cmocka_unit_test(test_tlv_chain_valid),
        cmocka_unit_test(test_tlv_chain_truncated_header),
        cmocka_unit_test(test_tlv_chain_overrun),
        cmocka_unit_test(test_tlv_chain_type0),
        cmocka_unit_test(test_tlv_reflect),
        cmocka_unit_test(test_tlv_reflect_sender_packet),
        cmocka_unit_test(test_sender_encode_auth_twamp),
        cmocka_unit_test(test_sender_encode_auth_stamp),
        cmocka_unit_test(test_reflector_encode_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
