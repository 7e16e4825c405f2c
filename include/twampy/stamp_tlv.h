/* stamp_tlv: pure codec of the STAMP TLVs (RFC 8972 §4, RFC 9503 §4-§5 names),
 * what a Session-Reflector does with a request's TLV area, how a
 * Session-Sender builds one and reads the reflector's answer.
 *
 * No sockets, no clocks, no allocation, no logging: the caller passes what it
 * knows (addresses, clock state, counters) and, for the HMAC TLV, a function
 * that computes the HMAC. Every read is length-checked.
 *
 * TLV (RFC 8972 §4, Figure 2): STAMP TLV Flags (1) | Type (1) | Length (2,
 * the Value's length in octets) | Value. Flags, most significant bit first:
 * U (unrecognized), M (malformed), I (integrity check failed), five reserved
 * bits (zero on transmit, ignored on receipt).
 *
 * Where the text of RFC 8972 was out of reach (its figures of §4.2-§4.6; only
 * §4.7's figure and the IANA registries could be read), the layouts follow the
 * IANA "STAMP TLV Types" registries (TLV types, flags, Location sub-TLV types,
 * synchronization sources, timestamping methods, return codes) and two
 * published implementations that agree on every field used here: stamp-suite
 * (github.com/asmie/stamp-suite, whose RFC 8972 conformance matrix quotes the
 * RFC's field definitions and lengths) and teaparty (github.com/cerfcast/
 * teaparty: the CoS octets DSCP1(6) DSCP2(6) ECN(2) RP(2) Reserved(16), the
 * 4-octet Timestamp Information, sub-TLVs with the 4-octet TLV header). Where
 * teaparty numbers the Location sub-TLVs otherwise, the IANA registry wins. */
#ifndef TWAMPY_STAMP_TLV_H
#define TWAMPY_STAMP_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_TLV_HDR 4

/* Flags (RFC 8972 §4, IANA "STAMP TLV Flags": bit 0 U, 1 M, 2 I). */
#define TW_TLVF_U 0x80
#define TW_TLVF_M 0x40
#define TW_TLVF_I 0x20

/* Types (IANA "STAMP TLV Types": RFC 8972 §5.1, RFC 9503 §8). */
enum {
    TW_TLVT_RESERVED = 0,
    TW_TLVT_PADDING = 1,      /* Extra Padding, RFC 8972 §4.1 */
    TW_TLVT_LOCATION = 2,     /* RFC 8972 §4.2 */
    TW_TLVT_TSINFO = 3,       /* Timestamp Information, RFC 8972 §4.3 */
    TW_TLVT_COS = 4,          /* Class of Service, RFC 8972 §4.4 */
    TW_TLVT_DIRECT = 5,       /* Direct Measurement, RFC 8972 §4.5 */
    TW_TLVT_ACCESS = 6,       /* Access Report, RFC 8972 §4.6 */
    TW_TLVT_FOLLOWUP = 7,     /* Follow-Up Telemetry, RFC 8972 §4.7 */
    TW_TLVT_HMAC = 8,         /* RFC 8972 §4.8 */
    TW_TLVT_DEST_NODE = 9,    /* Destination Node Address, RFC 9503 §4 (not supported: U) */
    TW_TLVT_RETURN_PATH = 10, /* Return Path, RFC 9503 §5 (not supported: U) */
};
/* Per-type counters index types 0..TW_TLV_NTYPES-2; the last slot is "any other". */
#define TW_TLV_NTYPES 12

/* Fixed Value lengths (RFC 8972: §4.3 4, §4.4 4, §4.5 12, §4.6 4, §4.7 16,
 * §4.8 16; Location at least its two ports, §4.2). */
#define TW_TLV_TSINFO_LEN 4
#define TW_TLV_COS_LEN 4
#define TW_TLV_DIRECT_LEN 12
#define TW_TLV_ACCESS_LEN 4
#define TW_TLV_FOLLOWUP_LEN 16
#define TW_TLV_HMAC_LEN 16
#define TW_TLV_LOCATION_MIN 4

/* Location sub-TLVs (RFC 8972 §4.2.1, IANA "STAMP Sub-TLV Types"): the same
 * 4-octet header as a TLV; Values of 8 octets (MAC, EUI-48 + 2 MBZ, EUI-64)
 * or 16 (an IP address field: IPv4 in the first 4 octets and 12 MBZ). */
enum {
    TW_SUBT_SRC_MAC = 1,
    TW_SUBT_SRC_EUI48 = 2,
    TW_SUBT_SRC_EUI64 = 3,
    TW_SUBT_DST_IP = 4,
    TW_SUBT_DST_IPV4 = 5,
    TW_SUBT_DST_IPV6 = 6,
    TW_SUBT_SRC_IP = 7,
    TW_SUBT_SRC_IPV4 = 8,
    TW_SUBT_SRC_IPV6 = 9,
};

/* Synchronization sources (RFC 8972 §5.4, IANA "STAMP Synchronization
 * Sources") and timestamping methods (§5.5, "STAMP Timestamping Methods"). */
enum { TW_SYNC_NTP = 1, TW_SYNC_PTP = 2, TW_SYNC_SSU = 3, TW_SYNC_GNSS = 4, TW_SYNC_LOCAL = 5 };
enum { TW_TSM_HW = 1, TW_TSM_SW = 2, TW_TSM_CONTROL = 3 };

/* Names for reports ("hmac", "class_of_service", ...; "type_N" for others:
 * buf of 12 octets at least). */
const char *tw_tlv_type_name(uint8_t type, char *buf, size_t len);
const char *tw_tlv_sync_name(uint8_t v);   /* "ntp", ... "unknown" */
const char *tw_tlv_method_name(uint8_t v); /* "hw_assist", "sw_local", "control_plane" */

/* ---- walking a TLV area --------------------------------------------------- */

typedef struct tw_tlv {
    uint8_t flags, type;
    uint16_t len;  /* the Length field */
    size_t off;    /* of the TLV's first octet in the buffer */
    bool overruns; /* the Value runs past the end (truncated: malformed) */
} tw_tlv_t;

/* The TLV at buf[pos..end): 1 with *t filled (t->overruns when its Value goes
 * past end), 0 when pos == end, -1 when fewer than 4 octets are left (a
 * truncated header). */
int tw_tlv_at(const uint8_t *buf, size_t pos, size_t end, tw_tlv_t *t);

/* Is len a valid Length for this type (RFC 8972 §4.1-§4.8)? Unknown types: true. */
bool tw_tlv_len_valid(uint8_t type, uint16_t len);

/* ---- the Session-Reflector's side (RFC 8972 §4 and each TLV's section) ---- */

typedef int (*tw_tlv_hmac_fn)(void *arg, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                              uint8_t out[TW_TLV_HMAC_LEN]);

typedef struct tw_tlv_reflect_in {
    /* Location (§4.2.2): the packet as the reflector received it. */
    int family;            /* AF_INET or AF_INET6 of the packet (0: unknown) */
    uint8_t src_addr[16];  /* IPv4 in the first 4 octets */
    uint8_t dst_addr[16];  /* the local address it was sent to; all zero: unknown */
    uint16_t sport, dport; /* host order */
    /* Timestamp Information (§4.3). */
    uint8_t sync_src;      /* TW_SYNC_* */
    uint8_t ts_in, ts_out; /* TW_TSM_* of t2 and of t3 */
    /* Class of Service (§4.4): the request's TOS / Traffic Class, -1 unknown. */
    int tos;
    /* Direct Measurement (§4.5), this sender's counters; stateless: all zero. */
    bool stateless;
    uint32_t rx_count, tx_count;
    /* Follow-Up Telemetry (§4.7): the reflector's previous reply to this sender. */
    bool fu_valid;
    uint32_t fu_seq;
    uint64_t fu_ts; /* in the format of the reply's timestamps */
    uint8_t fu_method;
    /* HMAC TLV (§4.8). hmac NULL: no key (an HMAC TLV is answered with U). */
    bool require_hmac; /* authenticated mode: TLVs must carry a valid HMAC TLV */
    tw_tlv_hmac_fn hmac;
    void *hmac_arg;
    uint8_t req_seq[4]; /* the request's Sequence Number */
    uint8_t rep_seq[4]; /* the reply's */
} tw_tlv_reflect_in_t;

typedef struct tw_tlv_reflect_out {
    int tos;          /* the reply's TOS as a CoS TLV asked for it (§4.4), -1: unchanged */
    bool malformed;   /* a malformed TLV stopped the processing (M set on it) */
    bool integrity;   /* the HMAC TLV failed or was missing (I set on every TLV) */
    bool followup;    /* a Follow-Up Telemetry TLV was answered (§4.7) */
    bool tsinfo;      /* a Timestamp Information TLV was answered */
    unsigned unknown; /* TLVs answered with U */
} tw_tlv_reflect_out_t;

/* Answer the TLV area buf[off..end) in place (the reply's TLV area is the
 * request's, same offsets and length), as RFC 8972 §4 says: recognized TLVs
 * with U, M, I cleared and their fields filled, unrecognized ones copied with
 * U set; at the first malformed TLV processing stops, M is set on it and the
 * rest is copied as received; in authenticated mode (require_hmac) the HMAC
 * TLV is checked before anything is used, and on failure every TLV is copied
 * with I set (§4.8). A TLV area of zeros only is left alone (a zero-padded
 * TWAMP light request taken for STAMP, README "--format auto"). */
void tw_tlv_answer(uint8_t *buf, size_t off, size_t end, const tw_tlv_reflect_in_t *in,
                   tw_tlv_reflect_out_t *out);

/* ---- the Session-Sender's side ---------------------------------------------- */

/* What the sender asks for (--tlv NAME[=...]); bit (1u << type) in want. */
typedef struct tw_tlv_req {
    uint32_t want;
    uint16_t padding;     /* Extra Padding Value octets */
    uint8_t cos_dscp;     /* DSCP1: the DSCP asked for the reply */
    uint8_t access_id;    /* Access Report ID (1 3GPP, 2 non-3GPP) */
    uint8_t access_rc;    /* Return Code (1 network available, 2 unavailable) */
    uint8_t unknown_type; /* --tlv unknown=TYPE: a TLV of this type, 4 zero octets */
} tw_tlv_req_t;

/* Octets the requested TLVs take (the HMAC TLV included when hmac). */
size_t tw_tlv_req_len(const tw_tlv_req_t *rq, bool hmac);
/* Write the requested TLVs into buf[0..cap) in type order (Extra Padding
 * first, the HMAC TLV last), every one with U set as RFC 8972 §4 asks of a
 * Session-Sender and its reflector-filled fields zero; s_txc is the Direct
 * Measurement TLV's Session-Sender Tx counter. With hmac, the HMAC TLV is
 * computed over seq (the packet's Sequence Number) and the TLVs before it.
 * Returns the length written, or -1 (cap too small, HMAC failed). */
int tw_tlv_build(const tw_tlv_req_t *rq, uint32_t s_txc, const uint8_t seq[4], tw_tlv_hmac_fn hmac,
                 void *hmac_arg, uint8_t *buf, size_t cap);

/* What came back, over the whole run (tw_sender_result_t.tlv). */
typedef struct tw_tlv_result {
    uint32_t want;     /* what was asked for */
    uint64_t replies;  /* replies whose TLVs were read */
    uint64_t no_tlvs;  /* replies without the TLV area asked for (shorter) */
    uint64_t bad_area; /* replies whose TLV area did not parse */
    uint64_t seen[TW_TLV_NTYPES], u[TW_TLV_NTYPES], m[TW_TLV_NTYPES], i[TW_TLV_NTYPES];
    uint64_t hmac_ok, hmac_bad; /* replies whose HMAC TLV we checked */
    /* Location: the last answer, and how many answers differed from the first. */
    uint64_t loc_n, loc_changed;
    int loc_dst_family, loc_src_family; /* 0: not reported */
    uint8_t loc_dst[16], loc_src[16];
    uint16_t loc_dport, loc_sport;
    /* Timestamp Information: the last answer. */
    uint64_t ts_n;
    uint8_t sync_in, ts_in, sync_out, ts_out;
    /* Class of Service: DSCP sent (sender's TOS), DSCP1 asked for the reply. */
    int cos_sent_dscp, cos_dscp1;
    uint64_t cos_n;
    uint64_t cos_fwd_remarked;              /* DSCP2 (as the reflector received it) != DSCP sent */
    uint64_t cos_rev_remarked;              /* reply DSCP as received != DSCP1 (RP 0) */
    uint64_t cos_rev_unknown;               /* reply TOS not known */
    uint64_t cos_rp;                        /* RP != 0: the reflector did not use DSCP1 */
    int cos_dscp2, cos_ecn, cos_reply_dscp; /* the last answer; -1 none */
    /* Direct Measurement: the first and last answer. */
    uint64_t dm_n;
    uint32_t dm_first[3], dm_last[3]; /* S_TxC, R_RxC, R_TxC */
    /* Access Report: the last one echoed. */
    uint64_t ac_n;
    uint8_t ac_id, ac_rc;
    /* Follow-Up Telemetry: the reflector's real send time of an earlier reply
     * against the t3 that reply carried (fu_delay: follow-up - t3, ns). */
    uint64_t fu_n, fu_zero, fu_matched;
    int64_t fu_min, fu_max;
    double fu_sum;
    uint8_t fu_method;
} tw_tlv_result_t;

/* A reply's TLVs (buf[off..end), the reply's TOS tos or -1): counts flags by
 * type and reads what the reflector answered, as RFC 8972 §4 says a
 * Session-Sender does: a TLV with U is skipped, M stops the processing, I (or
 * an HMAC TLV that fails, when hmac is given) discards every TLV. t3_of(arg,
 * rseq, &t3) gives an earlier reply's t3 (ns) for the Follow-Up TLV; fu_ts_ns
 * converts the Follow-Up Timestamp to ns (arg, wire value). */
typedef struct tw_tlv_reply_ctx {
    int tos;      /* the reply's TOS / Traffic Class as received, -1 unknown */
    int sent_tos; /* the request's */
    tw_tlv_hmac_fn hmac;
    void *hmac_arg;
    const uint8_t *rep_seq; /* the reply's Sequence Number (4 octets) */
    bool (*t3_of)(void *arg, uint32_t rseq, int64_t *t3);
    int64_t (*fu_ts_ns)(void *arg, uint64_t wire);
    void *arg;
} tw_tlv_reply_ctx_t;

void tw_tlv_read_reply(tw_tlv_result_t *r, const uint8_t *buf, size_t off, size_t end,
                       const tw_tlv_reply_ctx_t *c);

#endif
