/* Unit tests for stamp_tlv: byte-exact vectors written by hand from the
 * RFC 8972 figures (§4 Figure 2 TLV header; §4.2 Location and its sub-TLVs,
 * §4.2.1; §4.3 Timestamp Information; §4.4 Class of Service; §4.5 Direct
 * Measurement; §4.6 Access Report; §4.7 Follow-Up Telemetry; §4.8 HMAC) and
 * the U/M/I rules of §4 and §4.8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "stamp_tlv.h"
#include "wire.h"

/* A stand-in HMAC (the codec takes any function): the 16 octets are the sum
 * of seq and the covered octets, repeated; tests check what it covers. */
static int fake_hmac(void *arg, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                     uint8_t out[TW_TLV_HMAC_LEN])
{
    (void)arg;
    uint8_t s = 0;
    for (int i = 0; i < 4; i++)
        s = (uint8_t)(s + seq[i]);
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + tlvs[i] * (i + 1));
    memset(out, s, TW_TLV_HMAC_LEN);
    return 0;
}

static tw_tlv_reflect_in_t in_v4(void)
{
    tw_tlv_reflect_in_t in = {
        .family = AF_INET,
        .src_addr = {192, 0, 2, 7},
        .dst_addr = {198, 51, 100, 1},
        .sport = 20000,
        .dport = 862,
        .sync_src = TW_SYNC_NTP,
        .ts_in = TW_TSM_SW,
        .ts_out = TW_TSM_CONTROL,
        .tos = 0xB9, /* DSCP 46 (EF), ECN 01 */
        .rx_count = 7,
        .tx_count = 6,
        .fu_valid = true,
        .fu_seq = 5,
        .fu_ts = 0x1122334455667788ULL,
        .fu_method = TW_TSM_SW,
    };
    return in;
}

/* Figure 2 (§4): Flags | Type | Length, then the Value. */
static void test_header_walk(void **state)
{
    (void)state;
    const uint8_t a[] = {0x80, 0x01, 0x00, 0x02, 0xAA, 0xBB, 0x20, 0xF0, 0x00, 0x00};
    tw_tlv_t t;
    assert_int_equal(tw_tlv_at(a, 0, sizeof a, &t), 1);
    assert_int_equal(t.flags, 0x80);
    assert_int_equal(t.type, 1);
    assert_int_equal(t.len, 2);
    assert_false(t.overruns);
    assert_int_equal(tw_tlv_at(a, 6, sizeof a, &t), 1);
    assert_int_equal(t.type, 0xF0);
    assert_int_equal(t.len, 0);
    assert_int_equal(tw_tlv_at(a, 10, sizeof a, &t), 0);
    assert_int_equal(tw_tlv_at(a, 7, sizeof a, &t), -1); /* 3 octets: no header */
    const uint8_t over[] = {0x80, 0x03, 0x00, 0x08, 1, 2, 3, 4};
    assert_int_equal(tw_tlv_at(over, 0, sizeof over, &t), 1);
    assert_true(t.overruns);
}

static void test_lengths(void **state)
{
    (void)state;
    assert_true(tw_tlv_len_valid(TW_TLVT_PADDING, 0));
    assert_true(tw_tlv_len_valid(TW_TLVT_LOCATION, 4));
    assert_false(tw_tlv_len_valid(TW_TLVT_LOCATION, 3));
    assert_true(tw_tlv_len_valid(TW_TLVT_TSINFO, 4));
    assert_false(tw_tlv_len_valid(TW_TLVT_TSINFO, 8));
    assert_true(tw_tlv_len_valid(TW_TLVT_COS, 4));
    assert_true(tw_tlv_len_valid(TW_TLVT_DIRECT, 12));
    assert_false(tw_tlv_len_valid(TW_TLVT_DIRECT, 8));
    assert_true(tw_tlv_len_valid(TW_TLVT_ACCESS, 4));
    assert_false(tw_tlv_len_valid(TW_TLVT_ACCESS, 2));
    assert_true(tw_tlv_len_valid(TW_TLVT_FOLLOWUP, 16));
    assert_false(tw_tlv_len_valid(TW_TLVT_FOLLOWUP, 12));
    assert_true(tw_tlv_len_valid(TW_TLVT_HMAC, 16));
    assert_false(tw_tlv_len_valid(TW_TLVT_HMAC, 32));
    assert_true(tw_tlv_len_valid(77, 3));
}

/* The sender's request, every TLV: byte for byte. */
static void test_build_request(void **state)
{
    (void)state;
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_PADDING | 1u << TW_TLVT_LOCATION |
                               1u << TW_TLVT_TSINFO | 1u << TW_TLVT_COS | 1u << TW_TLVT_DIRECT |
                               1u << TW_TLVT_ACCESS | 1u << TW_TLVT_FOLLOWUP,
                       .padding = 3,
                       .cos_dscp = 10, /* AF11 */
                       .access_id = 1,
                       .access_rc = 2,
                       .unknown_type = 200};
    static const uint8_t want[] = {
        /* §4.1 Extra Padding, 3 octets */
        0x80, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
        /* §4.2 Location: ports zero, Destination IP (4) and Source IP (7) sub-TLVs */
        0x80, 0x02, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, /* Dest Port, Source Port */
        0x80, 0x04, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* */
        0x80, 0x07, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* */
        /* §4.3 Timestamp Information, all zero from the sender */
        0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
        /* §4.4 CoS: DSCP1 10 = 001010 in the first 6 bits */
        0x80, 0x04, 0x00, 0x04, 0x28, 0x00, 0x00, 0x00,
        /* §4.5 Direct Measurement: S_TxC 0x01020304, R_RxC, R_TxC zero */
        0x80, 0x05, 0x00, 0x0C, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,
        /* §4.6 Access Report: ID 1 | Resv | Return Code 2 | Reserved */
        0x80, 0x06, 0x00, 0x04, 0x10, 0x02, 0x00, 0x00,
        /* §4.7 Follow-Up Telemetry: 16 zero octets */
        0x80, 0x07, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* --tlv unknown=200 */
        0x80, 0xC8, 0x00, 0x04, 0, 0, 0, 0};
    uint8_t buf[256];
    assert_int_equal(tw_tlv_req_len(&rq, false), sizeof want);
    int n = tw_tlv_build(&rq, 0x01020304u, NULL, NULL, NULL, buf, sizeof buf);
    assert_int_equal(n, (int)sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(tw_tlv_build(&rq, 1, NULL, NULL, NULL, buf, sizeof want - 1), -1);
}

/* §4.8: the HMAC TLV last, over the Sequence Number and the TLVs before it. */
static void test_build_hmac(void **state)
{
    (void)state;
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_TSINFO};
    const uint8_t seq[4] = {0, 0, 0, 9};
    uint8_t buf[64];
    int n = tw_tlv_build(&rq, 0, seq, fake_hmac, NULL, buf, sizeof buf);
    assert_int_equal(n, 8 + 20);
    static const uint8_t head[] = {0x80, 0x03, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x08, 0x00, 0x10};
    assert_memory_equal(buf, head, sizeof head);
    uint8_t mac[16];
    fake_hmac(NULL, seq, buf, 8, mac);
    assert_memory_equal(buf + 12, mac, 16);
}

/* The reflector's answer to every TLV, IPv4: byte for byte. */
static void test_reflect_all_v4(void **state)
{
    (void)state;
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_PADDING | 1u << TW_TLVT_LOCATION |
                               1u << TW_TLVT_TSINFO | 1u << TW_TLVT_COS | 1u << TW_TLVT_DIRECT |
                               1u << TW_TLVT_ACCESS | 1u << TW_TLVT_FOLLOWUP,
                       .padding = 2,
                       .cos_dscp = 10,
                       .access_id = 2,
                       .access_rc = 1,
                       .unknown_type = 9}; /* RFC 9503 Destination Node Address: U */
    uint8_t buf[256];
    int n = tw_tlv_build(&rq, 3, NULL, NULL, NULL, buf, sizeof buf);
    tw_tlv_reflect_in_t in = in_v4();
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, (size_t)n, &in, &out);
    static const uint8_t want[] = {
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00,             /* padding: U cleared, as received */
        0x00, 0x02, 0x00, 0x2C, 0x03, 0x5E, 0x4E, 0x20, /* ports 862 and 20000 */
        /* Destination IPv4 Address (5): 198.51.100.1, 12 MBZ */
        0x00, 0x05, 0x00, 0x10, 198, 51, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* Source IPv4 Address (8): 192.0.2.7 */
        0x00, 0x08, 0x00, 0x10, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* Timestamp Information: NTP, SW local | NTP, control plane */
        0x00, 0x03, 0x00, 0x04, 0x01, 0x02, 0x01, 0x03,
        /* CoS: DSCP1 10 | DSCP2 46 (101110) | ECN 01 | RP 00 */
        0x00, 0x04, 0x00, 0x04, 0x2A, 0xE4, 0x00, 0x00,
        /* Direct Measurement: S_TxC 3 kept, R_RxC 7, R_TxC 6 */
        0x00, 0x05, 0x00, 0x0C, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0, 6,
        /* Access Report echoed */
        0x00, 0x06, 0x00, 0x04, 0x20, 0x01, 0x00, 0x00,
        /* Follow-Up: Sequence Number 5, Timestamp, Timestamp M 2, Reserved */
        0x00, 0x07, 0x00, 0x10, 0, 0, 0, 5, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 2, 0, 0,
        0,
        /* unknown to this reflector: copied with U */
        0x80, 0x09, 0x00, 0x04, 0, 0, 0, 0};
    assert_int_equal(n, (int)sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(out.tos, 10 << 2);
    assert_false(out.malformed);
    assert_false(out.integrity);
    assert_true(out.followup);
    assert_true(out.tsinfo);
    assert_int_equal(out.unknown, 1);
}

/* IPv6 Location; the Source MAC sub-TLV answered as a zeroed EUI-64 (§4.2.2). */
static void test_reflect_location_v6(void **state)
{
    (void)state;
    uint8_t buf[] = {
        0x80, 0x02, 0x00, 0x28, 0xFF, 0xFF, 0xFF, 0xFF,                     /* */
        0x80, 0x01, 0x00, 0x08, 1,    2,    3,    4,    5,    6,    7,   8, /* Source MAC */
        0x80, 0x07, 0x00, 0x10, 0,    0,    0,    0,    0,    0,    0,   0, 0,
        0,    0,    0,    0,    0,    0,    0,    0x80, 0xEE, 0x00, 0x00}; /* an unknown sub-TLV: U
                                                                            */
    tw_tlv_reflect_in_t in = in_v4();
    in.family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::7", in.src_addr);
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, sizeof buf, &in, &out);
    uint8_t v6[16];
    inet_pton(AF_INET6, "2001:db8::7", v6);
    static const uint8_t head[] = {0x00, 0x02, 0x00, 0x28, 0x03, 0x5E, 0x4E, 0x20,
                                   0x00, 0x03, 0x00, 0x08, 0,    0,    0,    0,
                                   0,    0,    0,    0,    0x00, 0x09, 0x00, 0x10};
    assert_memory_equal(buf, head, sizeof head);
    assert_memory_equal(buf + sizeof head, v6, 16);
    assert_int_equal(buf[sizeof head + 16], 0x80);
}

/* §4: the first malformed TLV gets M, processing stops, the rest is copied. */
static void test_reflect_malformed(void **state)
{
    (void)state;
    uint8_t buf[] = {0x80, 0x03, 0x00, 0x04, 0,    0,    0, 0, /* fine */
                     0x80, 0x04, 0x00, 0x02, 0xAA, 0xBB,       /* CoS of length 2 */
                     0x80, 0x03, 0x00, 0x04, 0,    0,    0, 0};
    tw_tlv_reflect_in_t in = in_v4();
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, sizeof buf, &in, &out);
    static const uint8_t want[] = {0x00, 0x03, 0x00, 0x04, 1,    2,    1, 3,  /* answered */
                                   0x40, 0x04, 0x00, 0x02, 0xAA, 0xBB,        /* M */
                                   0x80, 0x03, 0x00, 0x04, 0,    0,    0, 0}; /* as received */
    assert_memory_equal(buf, want, sizeof want);
    assert_true(out.malformed);
    assert_int_equal(out.tos, -1);

    /* A Length past the end of the packet. */
    uint8_t over[] = {0x80, 0x01, 0x00, 0x40, 1, 2, 3, 4};
    tw_tlv_answer(over, 0, sizeof over, &in, &out);
    assert_int_equal(over[0], 0x40);
    assert_true(out.malformed);

    /* A truncated header after a good TLV. */
    uint8_t trunc[] = {0x80, 0x01, 0x00, 0x00, 0x80, 0x07};
    tw_tlv_answer(trunc, 0, sizeof trunc, &in, &out);
    assert_int_equal(trunc[0], 0x00);
    assert_int_equal(trunc[4], 0x40);

    /* §4.7 (erratum 8339): a Follow-Up TLV of a bad length, its Sequence
     * Number and Timestamp zeroed. */
    uint8_t fu[] = {0x80, 0x07, 0x00, 0x0E, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    tw_tlv_answer(fu, 0, sizeof fu, &in, &out);
    static const uint8_t fuwant[] = {0x40, 0x07, 0x00, 0x0E, 0, 0, 0, 0,  0,
                                     0,    0,    0,    0,    0, 0, 0, 13, 14};
    assert_memory_equal(fu, fuwant, sizeof fu);
}

/* §4.7: stateless, the Follow-Up fields are zero; §4.6: an invalid Access ID
 * is discarded (U); §4.5 stateless counters zero. */
static void test_reflect_stateless(void **state)
{
    (void)state;
    uint8_t buf[] = {0x80, 0x07, 0x00, 0x10, 0,    0,    0,    0,    0,    0,    0,
                     0,    0,    0,    0,    0,    0,    0,    0,    0,    0x80, 0x06,
                     0x00, 0x04, 0x30, 0x01, 0x00, 0x00, 0x80, 0x05, 0x00, 0x0C, 0,
                     0,    0,    1,    9,    9,    9,    9,    9,    9,    9,    9};
    tw_tlv_reflect_in_t in = in_v4();
    in.stateless = true;
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, sizeof buf, &in, &out);
    static const uint8_t want[] = {0x00, 0x07, 0x00, 0x10, 0,    0,    0,    0,    0,    0,    0,
                                   0,    0,    0,    0,    0,    0,    0,    0,    0,    0x80, 0x06,
                                   0x00, 0x04, 0x30, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0C, 0,
                                   0,    0,    1,    0,    0,    0,    0,    0,    0,    0,    0};
    assert_memory_equal(buf, want, sizeof want);
}

/* A zero-padded TWAMP light request read as STAMP: its zeros are left alone. */
static void test_reflect_zero_area(void **state)
{
    (void)state;
    uint8_t buf[32] = {0};
    tw_tlv_reflect_in_t in = in_v4();
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, sizeof buf, &in, &out);
    uint8_t zero[32] = {0};
    assert_memory_equal(buf, zero, sizeof zero);
}

/* §4.8: authenticated mode. A good HMAC TLV: processed, the reply's HMAC
 * computed over the reply's Sequence Number and its TLVs; a bad one, a missing
 * one or one in the wrong place: every TLV copied with I. */
static void test_reflect_hmac(void **state)
{
    (void)state;
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_TSINFO};
    const uint8_t rseq[4] = {0, 0, 0, 1}, pseq[4] = {0, 0, 0, 2};
    uint8_t buf[64];
    int n = tw_tlv_build(&rq, 0, rseq, fake_hmac, NULL, buf, sizeof buf);
    tw_tlv_reflect_in_t in = in_v4();
    in.require_hmac = true;
    in.hmac = fake_hmac;
    memcpy(in.req_seq, rseq, 4);
    memcpy(in.rep_seq, pseq, 4);
    tw_tlv_reflect_out_t out;
    uint8_t good[64];
    memcpy(good, buf, (size_t)n);
    tw_tlv_answer(good, 0, (size_t)n, &in, &out);
    assert_false(out.integrity);
    assert_int_equal(good[0], 0x00);
    assert_int_equal(good[8], 0x00);
    uint8_t mac[16];
    fake_hmac(NULL, pseq, good, 8, mac);
    assert_memory_equal(good + 12, mac, 16);
    /* The sender checks it with the reply's Sequence Number. */
    tw_tlv_result_t r = {0};
    tw_tlv_reply_ctx_t c = {.tos = -1, .sent_tos = -1, .hmac = fake_hmac, .rep_seq = pseq};
    tw_tlv_read_reply(&r, good, 0, (size_t)n, &c);
    assert_int_equal(r.hmac_ok, 1);
    assert_int_equal(r.ts_n, 1);

    uint8_t bad[64];
    memcpy(bad, buf, (size_t)n);
    bad[5] ^= 1; /* altered in flight */
    tw_tlv_answer(bad, 0, (size_t)n, &in, &out);
    assert_true(out.integrity);
    assert_int_equal(bad[0], TW_TLVF_I | TW_TLVF_U);
    assert_int_equal(bad[8], TW_TLVF_I | TW_TLVF_U);
    assert_int_equal(bad[5], 1); /* not processed */

    uint8_t none[] = {0x80, 0x03, 0x00, 0x04, 0, 0, 0, 0};
    tw_tlv_answer(none, 0, sizeof none, &in, &out);
    assert_true(out.integrity);
    assert_int_equal(none[0], TW_TLVF_I | TW_TLVF_U);

    /* Extra Padding alone needs no HMAC TLV (§4.8). */
    uint8_t pad[] = {0x80, 0x01, 0x00, 0x02, 0, 0};
    tw_tlv_answer(pad, 0, sizeof pad, &in, &out);
    assert_false(out.integrity);
    assert_int_equal(pad[0], 0x00);

    /* Open mode, no key: the HMAC TLV is not understood (U), the rest answered. */
    tw_tlv_reflect_in_t open = in_v4();
    memcpy(good, buf, (size_t)n);
    tw_tlv_answer(good, 0, (size_t)n, &open, &out);
    assert_false(out.integrity);
    assert_int_equal(good[0], 0x00);
    assert_int_equal(good[8], TW_TLVF_U);
}

static bool t3_of(void *arg, uint32_t rseq, int64_t *t3)
{
    (void)arg;
    if (rseq != 5)
        return false;
    *t3 = 1000;
    return true;
}

static int64_t fu_ns(void *arg, uint64_t wire)
{
    (void)arg;
    return (int64_t)(wire & 0xffff);
}

/* The sender's reading: U skipped, M stops, re-marking both ways. */
static void test_read_reply(void **state)
{
    (void)state;
    tw_tlv_req_t rq = {.want = 1u << TW_TLVT_LOCATION | 1u << TW_TLVT_TSINFO | 1u << TW_TLVT_COS |
                               1u << TW_TLVT_DIRECT | 1u << TW_TLVT_ACCESS | 1u << TW_TLVT_FOLLOWUP,
                       .cos_dscp = 10,
                       .access_id = 1,
                       .access_rc = 1,
                       .unknown_type = 250};
    uint8_t buf[256];
    int n = tw_tlv_build(&rq, 1, NULL, NULL, NULL, buf, sizeof buf);
    tw_tlv_reflect_in_t in = in_v4();
    in.fu_ts = 1500; /* the follow-up 500 ns after the t3 of reply 5 */
    tw_tlv_reflect_out_t out;
    tw_tlv_answer(buf, 0, (size_t)n, &in, &out);
    tw_tlv_result_t r = {0};
    tw_tlv_reply_ctx_t c = {.tos = 12 << 2, /* AF12 came back, not AF11 */
                            .sent_tos = 46 << 2,
                            .t3_of = t3_of,
                            .fu_ts_ns = fu_ns};
    tw_tlv_read_reply(&r, buf, 0, (size_t)n, &c);
    assert_int_equal(r.replies, 1);
    assert_int_equal(r.loc_n, 1);
    assert_int_equal(r.loc_dport, 862);
    assert_int_equal(r.loc_sport, 20000);
    assert_int_equal(r.loc_dst_family, AF_INET);
    assert_int_equal(r.loc_src[0], 192);
    assert_int_equal(r.sync_out, TW_SYNC_NTP);
    assert_int_equal(r.ts_out, TW_TSM_CONTROL);
    assert_int_equal(r.cos_dscp2, 46);
    assert_int_equal(r.cos_ecn, 1);
    assert_int_equal(r.cos_fwd_remarked, 0);
    assert_int_equal(r.cos_rev_remarked, 1);
    assert_int_equal(r.dm_last[1], 7);
    assert_int_equal(r.ac_n, 1);
    assert_int_equal(r.fu_matched, 1);
    assert_int_equal(r.fu_min, 500);
    assert_int_equal(r.u[TW_TLV_NTYPES - 1], 1);
    assert_int_equal(r.seen[TW_TLVT_COS], 1);

    /* M stops the reading; I discards everything. */
    uint8_t m[] = {0x40, 0x03, 0x00, 0x02, 0, 0, 0x00, 0x03, 0x00, 0x04, 1, 1, 1, 1};
    tw_tlv_result_t r2 = {0};
    tw_tlv_read_reply(&r2, m, 0, sizeof m, &c);
    assert_int_equal(r2.m[TW_TLVT_TSINFO], 1);
    assert_int_equal(r2.ts_n, 0);
    uint8_t i[] = {0x20, 0x03, 0x00, 0x04, 1, 1, 1, 1};
    tw_tlv_result_t r3 = {0};
    tw_tlv_read_reply(&r3, i, 0, sizeof i, &c);
    assert_int_equal(r3.i[TW_TLVT_TSINFO], 1);
    assert_int_equal(r3.ts_n, 0);
    tw_tlv_read_reply(&r3, i, 8, 8, &c);
    assert_int_equal(r3.no_tlvs, 1);
}

static void test_names(void **state)
{
    (void)state;
    char b[16];
    assert_string_equal(tw_tlv_type_name(8, b, sizeof b), "hmac");
    assert_string_equal(tw_tlv_type_name(9, b, sizeof b), "destination_node");
    assert_string_equal(tw_tlv_type_name(200, b, sizeof b), "type_200");
    assert_string_equal(tw_tlv_sync_name(5), "local");
    assert_string_equal(tw_tlv_method_name(1), "hw_assist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_walk),       cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_build_request),     cmocka_unit_test(test_build_hmac),
        cmocka_unit_test(test_reflect_all_v4),    cmocka_unit_test(test_reflect_location_v6),
        cmocka_unit_test(test_reflect_malformed), cmocka_unit_test(test_reflect_stateless),
        cmocka_unit_test(test_reflect_zero_area), cmocka_unit_test(test_reflect_hmac),
        cmocka_unit_test(test_read_reply),        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
