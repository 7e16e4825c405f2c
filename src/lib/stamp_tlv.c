/* stamp_tlv: STAMP TLVs (RFC 8972 §4, RFC 9503 §4-§5): codec, the reflector's
 * answer, the sender's request and its reading of the answer. Pure: no I/O,
 * no allocation; every read is bounded by the area's end. */
#include "stamp_tlv.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "wire.h"

#define NONE ((size_t)-1)

const char *tw_tlv_type_name(uint8_t type, char *buf, size_t len)
{
    static const char *const n[] = {"reserved",         "extra_padding",       "location",
                                    "timestamp_info",   "class_of_service",    "direct_measurement",
                                    "access_report",    "follow_up_telemetry", "hmac",
                                    "destination_node", "return_path"};
    if (type < sizeof n / sizeof n[0])
        return n[type];
    snprintf(buf, len, "type_%u", type);
    return buf;
}

const char *tw_tlv_sync_name(uint8_t v)
{
    /* RFC 8972 §5.4 (IANA "STAMP Synchronization Sources"). */
    static const char *const n[] = {"none", "ntp", "ptp", "ssu_bits", "gnss", "local"};
    return v < sizeof n / sizeof n[0] ? n[v] : "unknown";
}

const char *tw_tlv_method_name(uint8_t v)
{
    /* RFC 8972 §5.5 (IANA "STAMP Timestamping Methods"). */
    static const char *const n[] = {"none", "hw_assist", "sw_local", "control_plane"};
    return v < sizeof n / sizeof n[0] ? n[v] : "unknown";
}

int tw_tlv_at(const uint8_t *buf, size_t pos, size_t end, tw_tlv_t *t)
{
    if (pos >= end)
        return 0;
    if (end - pos < TW_TLV_HDR)
        return -1;
    t->flags = buf[pos];
    t->type = buf[pos + 1];
    t->len = tw_get16(buf + pos + 2);
    t->off = pos;
    t->overruns = t->len > end - pos - TW_TLV_HDR;
    return 1;
}

bool tw_tlv_len_valid(uint8_t type, uint16_t len)
{
    switch (type) {
    case TW_TLVT_LOCATION:
        return len >= TW_TLV_LOCATION_MIN; /* §4.2: the two ports, then sub-TLVs */
    case TW_TLVT_TSINFO:
        return len == TW_TLV_TSINFO_LEN; /* §4.3 */
    case TW_TLVT_COS:
        return len == TW_TLV_COS_LEN; /* §4.4: "set equal to the value 4" */
    case TW_TLVT_DIRECT:
        return len == TW_TLV_DIRECT_LEN; /* §4.5: "MUST equal 12 octets" */
    case TW_TLVT_ACCESS:
        return len == TW_TLV_ACCESS_LEN; /* §4.6: "set equal to the value 4" */
    case TW_TLVT_FOLLOWUP:
        return len == TW_TLV_FOLLOWUP_LEN; /* §4.7: "16 octets" (erratum 8339) */
    case TW_TLVT_HMAC:
        return len == TW_TLV_HMAC_LEN; /* §4.8: "16 octets" */
    default:
        return true;
    }
}

/* The types this reflector understands (RFC 9503's are answered with U). */
static bool known(uint8_t type)
{
    return type >= TW_TLVT_PADDING && type <= TW_TLVT_HMAC;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static bool same16(const uint8_t *a, const uint8_t *b)
{
    uint8_t acc = 0;
    for (int i = 0; i < TW_TLV_HMAC_LEN; i++)
        acc |= (uint8_t)(a[i] ^ b[i]);
    return acc == 0;
}

/* Is the HMAC TLV at hpos the HMAC of seq and buf[off..hpos)? */
static bool hmac_ok(const uint8_t *buf, size_t off, size_t hpos, const uint8_t seq[4],
                    tw_tlv_hmac_fn fn, void *arg)
{
    uint8_t want[TW_TLV_HMAC_LEN];
    if (fn(arg, seq, buf + off, hpos - off, want) != 0)
        return false;
    return same16(want, buf + hpos + TW_TLV_HDR);
}

/* ---- the reflector ---------------------------------------------------------- */

/* An IP address sub-TLV answer (§4.2.2): IPv4 (first 4 octets, 12 MBZ) or IPv6. */
static uint8_t put_addr(uint8_t *v, int family, const uint8_t addr[16], uint8_t t4, uint8_t t6,
                        uint8_t generic)
{
    memset(v, 0, 16);
    if (family == AF_INET && !all_zero(addr, 4)) {
        memcpy(v, addr, 4);
        return t4;
    }
    if (family == AF_INET6 && !all_zero(addr, 16)) {
        memcpy(v, addr, 16);
        return t6;
    }
    return generic; /* not known: left zero ("MAY leave some fields unreported") */
}

/* Location TLV (§4.2): Destination Port (2) | Source Port (2) | sub-TLVs, each
 * Flags | Type | Length | Value (§4.2.1, Figure 5). The reflector fills the
 * ports and the addresses as it received the packet, in place (§4.2.2: the
 * TLV's length stays the request's). A malformed sub-TLV gets M and ends the
 * processing of the sub-TLVs; an unknown one gets U. */
static void reflect_location(uint8_t *v, size_t len, const tw_tlv_reflect_in_t *in)
{
    tw_put16(v, in->dport);
    tw_put16(v + 2, in->sport);
    size_t p = TW_TLV_LOCATION_MIN;
    while (p < len) {
        if (len - p < TW_TLV_HDR) {
            v[p] = TW_TLVF_M;
            return;
        }
        uint8_t st = v[p + 1];
        size_t sl = tw_get16(v + p + 2);
        if (sl > len - p - TW_TLV_HDR) {
            v[p] = TW_TLVF_M;
            return;
        }
        uint8_t *sv = v + p + TW_TLV_HDR;
        uint8_t f = 0;
        switch (st) {
        case TW_SUBT_SRC_MAC:
        case TW_SUBT_SRC_EUI48:
        case TW_SUBT_SRC_EUI64:
            /* §4.2.2: without the source MAC address (a UDP socket never sees
             * it), the EUI-64 sub-TLV with its field zeroed. */
            if (sl != 8) {
                f = TW_TLVF_M;
                break;
            }
            v[p + 1] = TW_SUBT_SRC_EUI64;
            memset(sv, 0, 8);
            break;
        case TW_SUBT_DST_IP:
        case TW_SUBT_DST_IPV4:
        case TW_SUBT_DST_IPV6:
            if (sl != 16) {
                f = TW_TLVF_M;
                break;
            }
            v[p + 1] = put_addr(sv, in->family, in->dst_addr, TW_SUBT_DST_IPV4, TW_SUBT_DST_IPV6,
                                TW_SUBT_DST_IP);
            break;
        case TW_SUBT_SRC_IP:
        case TW_SUBT_SRC_IPV4:
        case TW_SUBT_SRC_IPV6:
            if (sl != 16) {
                f = TW_TLVF_M;
                break;
            }
            v[p + 1] = put_addr(sv, in->family, in->src_addr, TW_SUBT_SRC_IPV4, TW_SUBT_SRC_IPV6,
                                TW_SUBT_SRC_IP);
            break;
        default:
            f = TW_TLVF_U;
        }
        v[p] = f; /* §4.2.1: the I flag of a sub-TLV is always 0 */
        if (f & TW_TLVF_M)
            return;
        p += TW_TLV_HDR + sl;
    }
}

/* One recognized, well-formed TLV: fill what the reflector knows. Returns its
 * flags (0, or U when the reflector cannot act on it). */
static uint8_t reflect_one(uint8_t *buf, size_t off, const tw_tlv_t *t,
                           const tw_tlv_reflect_in_t *in, tw_tlv_reflect_out_t *out)
{
    uint8_t *v = buf + t->off + TW_TLV_HDR;
    switch (t->type) {
    case TW_TLVT_PADDING:
        return 0; /* §4.1: reflected as it came */
    case TW_TLVT_LOCATION:
        reflect_location(v, t->len, in);
        return 0;
    case TW_TLVT_TSINFO:
        /* §4.3: Sync Src In | Timestamp In | Sync Src Out | Timestamp Out, of
         * the reflector's t2 (ingress) and t3 (egress). */
        v[0] = in->sync_src;
        v[1] = in->ts_in;
        v[2] = in->sync_src;
        v[3] = in->ts_out;
        out->tsinfo = true;
        return 0;
    case TW_TLVT_COS: {
        /* §4.4: DSCP1 (6 bits) | DSCP2 (6) | ECN (2) | RP (2) | Reserved (16).
         * DSCP2 and ECN: as the request arrived (erratum 8199); the reply is
         * sent with DSCP1 (local policy: every DSCP is permitted), RP 0. The
         * layout is RFC 8972's Figure 10 as draft-ietf-ippm-stamp-cos-ecn
         * describes it (DSCP1 | DSCP2 | EC2 | RPD, then Reserved). */
        if (in->tos < 0)
            return TW_TLVF_U; /* the TOS received is not known: cannot answer */
        uint8_t dscp1 = v[0] >> 2;
        uint8_t dscp2 = (uint8_t)(in->tos >> 2);
        uint8_t ecn = (uint8_t)(in->tos & 3);
        v[0] = (uint8_t)(dscp1 << 2 | dscp2 >> 4);
        v[1] = (uint8_t)((dscp2 & 0x0f) << 4 | ecn << 2);
        v[2] = v[3] = 0;
        out->tos = dscp1 << 2;
        return 0;
    }
    case TW_TLVT_DIRECT:
        /* §4.5: S_TxC (kept) | R_RxC | R_TxC, this sender's counters. */
        tw_put32(v + 4, in->stateless ? 0 : in->rx_count);
        tw_put32(v + 8, in->stateless ? 0 : in->tx_count);
        return 0;
    case TW_TLVT_ACCESS: {
        /* §4.6: ID (4 bits) | Resv (4) | Return Code (8) | Reserved (16); ID
         * other than 1 (3GPP) or 2 (non-3GPP): the TLV is discarded (U). */
        uint8_t id = v[0] >> 4;
        if (id != 1 && id != 2)
            return TW_TLVF_U;
        v[0] = (uint8_t)(id << 4);
        v[2] = v[3] = 0;
        return 0;
    }
    case TW_TLVT_FOLLOWUP:
        /* §4.7: Sequence Number (4) | Follow-Up Timestamp (8) | Timestamp M (1)
         * | Reserved (3): the reflector's previous reply to this sender and
         * when it really left; zero in the stateless mode or when unknown. */
        memset(v, 0, TW_TLV_FOLLOWUP_LEN);
        if (!in->stateless && in->fu_valid) {
            tw_put32(v, in->fu_seq);
            tw_put64(v + 4, in->fu_ts);
            v[12] = in->fu_method;
        }
        out->followup = true;
        return 0;
    case TW_TLVT_HMAC:
        /* §4.8: HMAC-SHA-256/128 over the reply's Sequence Number and the TLVs
         * before this one, as the reflector sends them. Without a key: U. */
        if (!in->hmac)
            return TW_TLVF_U;
        if (in->hmac(in->hmac_arg, in->rep_seq, buf + off, t->off - off, v) != 0)
            memset(v, 0, TW_TLV_HMAC_LEN);
        return 0;
    default:
        return TW_TLVF_U;
    }
}

void tw_tlv_answer(uint8_t *buf, size_t off, size_t end, const tw_tlv_reflect_in_t *in,
                   tw_tlv_reflect_out_t *out)
{
    memset(out, 0, sizeof *out);
    out->tos = -1;
    if (!buf || off >= end || all_zero(buf + off, end - off))
        return;
    /* Pass 1: structure. bad: the first malformed TLV (§4: "the Length field
     * value is not valid for the particular type, or the remaining length ...
     * is less than the size of the TLV"); the HMAC TLV's place (§4.8: it
     * follows every TLV but Extra Padding). */
    size_t pos = off, bad = end, hpos = NONE;
    bool misplaced = false, only_padding = true;
    tw_tlv_t t;
    int rc;
    while ((rc = tw_tlv_at(buf, pos, end, &t)) > 0) {
        if (t.overruns || (known(t.type) && !tw_tlv_len_valid(t.type, t.len))) {
            bad = pos;
            break;
        }
        if (t.type == TW_TLVT_HMAC) {
            if (hpos != NONE)
                misplaced = true;
            hpos = pos;
        } else if (hpos != NONE && t.type != TW_TLVT_PADDING) {
            misplaced = true;
        }
        if (t.type != TW_TLVT_PADDING)
            only_padding = false;
        pos += TW_TLV_HDR + t.len;
    }
    if (rc < 0)
        bad = pos;
    /* §4.8: in the authenticated mode the TLVs carry an HMAC TLV (unless Extra
     * Padding is all there is), checked before any TLV is used; an HMAC TLV
     * elsewhere counts as a failed check. Open mode with a key: checked too. */
    bool check = hpos != NONE && in->hmac && hpos < bad;
    bool fail = false;
    if (in->require_hmac && !only_padding)
        fail = hpos == NONE || hpos >= bad || misplaced || !in->hmac;
    if (!fail && check && !misplaced)
        fail = !hmac_ok(buf, off, hpos, in->req_seq, in->hmac, in->hmac_arg);
    else if (!fail && check && misplaced)
        fail = true;
    if (fail) {
        /* §4.8: stop, copy every TLV, each with I set. */
        for (pos = off; tw_tlv_at(buf, pos, end, &t) > 0 && !t.overruns; pos += TW_TLV_HDR + t.len)
            buf[pos] = TW_TLVF_I | (buf[pos] & TW_TLVF_U);
        out->integrity = true;
        return;
    }
    /* Pass 2: answer each TLV before the malformed one. */
    for (pos = off; pos < bad && tw_tlv_at(buf, pos, end, &t) > 0; pos += TW_TLV_HDR + t.len) {
        uint8_t f = known(t.type) ? reflect_one(buf, off, &t, in, out) : TW_TLVF_U;
        if (f & TW_TLVF_U)
            out->unknown++;
        buf[pos] = f;
    }
    if (bad < end) {
        /* §4: M on the malformed TLV, the rest copied as received; a
         * Follow-Up Telemetry TLV of a bad length gets its Sequence Number and
         * Timestamp zeroed (§4.7, erratum 8339). */
        if (end - bad >= TW_TLV_HDR && buf[bad + 1] == TW_TLVT_FOLLOWUP) {
            size_t have = end - bad - TW_TLV_HDR, n = tw_get16(buf + bad + 2);
            n = n < have ? n : have;
            memset(buf + bad + TW_TLV_HDR, 0, n < 12 ? n : 12);
        }
        buf[bad] = TW_TLVF_M;
        out->malformed = true;
    }
}

/* ---- the sender ---------------------------------------------------------------- */

static bool wants(const tw_tlv_req_t *rq, int type)
{
    return (rq->want >> type) & 1u;
}

/* The Location request (§4.2): ports zero and the Destination and Source IP
 * Address sub-TLVs (§4.2.1, types 4 and 7, 16 MBZ octets each), every field
 * but Flags, Type and Length zero (§4.2: "MUST NOT fill any information
 * fields"); U set on them as on any TLV a sender sends. */
#define LOCATION_REQ_LEN (TW_TLV_LOCATION_MIN + 2 * (TW_TLV_HDR + 16))

static size_t value_len(const tw_tlv_req_t *rq, int type)
{
    switch (type) {
    case TW_TLVT_PADDING:
        return rq->padding;
    case TW_TLVT_LOCATION:
        return LOCATION_REQ_LEN;
    case TW_TLVT_TSINFO:
        return TW_TLV_TSINFO_LEN;
    case TW_TLVT_COS:
        return TW_TLV_COS_LEN;
    case TW_TLVT_DIRECT:
        return TW_TLV_DIRECT_LEN;
    case TW_TLVT_ACCESS:
        return TW_TLV_ACCESS_LEN;
    case TW_TLVT_FOLLOWUP:
        return TW_TLV_FOLLOWUP_LEN;
    default:
        return 0;
    }
}

size_t tw_tlv_req_len(const tw_tlv_req_t *rq, bool hmac)
{
    size_t n = 0;
    for (int ty = TW_TLVT_PADDING; ty <= TW_TLVT_FOLLOWUP; ty++)
        if (wants(rq, ty))
            n += TW_TLV_HDR + value_len(rq, ty);
    if (rq->unknown_type)
        n += TW_TLV_HDR + 4;
    if (hmac)
        n += TW_TLV_HDR + TW_TLV_HMAC_LEN;
    return n;
}

static uint8_t *put_hdr(uint8_t *p, uint8_t type, size_t len)
{
    p[0] = TW_TLVF_U; /* RFC 8972 §4: a Session-Sender sets U, M and I as 1, 0, 0 */
    p[1] = type;
    tw_put16(p + 2, (uint16_t)len);
    memset(p + TW_TLV_HDR, 0, len);
    return p + TW_TLV_HDR;
}

int tw_tlv_build(const tw_tlv_req_t *rq, uint32_t s_txc, const uint8_t seq[4], tw_tlv_hmac_fn hmac,
                 void *hmac_arg, uint8_t *buf, size_t cap)
{
    if (tw_tlv_req_len(rq, hmac != NULL) > cap)
        return -1;
    uint8_t *p = buf;
    for (int ty = TW_TLVT_PADDING; ty <= TW_TLVT_FOLLOWUP; ty++) {
        if (!wants(rq, ty))
            continue;
        size_t len = value_len(rq, ty);
        uint8_t *v = put_hdr(p, (uint8_t)ty, len);
        switch (ty) {
        case TW_TLVT_LOCATION:
            put_hdr(v + 4, TW_SUBT_DST_IP, 16);
            put_hdr(v + 4 + TW_TLV_HDR + 16, TW_SUBT_SRC_IP, 16);
            break;
        case TW_TLVT_COS:
            v[0] = (uint8_t)((rq->cos_dscp & 0x3f) << 2); /* DSCP1; RP 0 (§4.4) */
            break;
        case TW_TLVT_DIRECT:
            tw_put32(v, s_txc); /* S_TxC; R_RxC and R_TxC zero (§4.5) */
            break;
        case TW_TLVT_ACCESS:
            v[0] = (uint8_t)((rq->access_id & 0x0f) << 4);
            v[1] = rq->access_rc;
            break;
        default:
            break; /* Extra Padding: zeros (§4.1 allows); the others: zero */
        }
        p = v + len;
    }
    if (rq->unknown_type)
        p = put_hdr(p, rq->unknown_type, 4) + 4;
    if (hmac) {
        uint8_t *v = put_hdr(p, TW_TLVT_HMAC, TW_TLV_HMAC_LEN);
        if (hmac(hmac_arg, seq, buf, (size_t)(p - buf), v) != 0)
            return -1;
        p = v + TW_TLV_HMAC_LEN;
    }
    return (int)(p - buf);
}

static int type_slot(uint8_t type)
{
    return type < TW_TLV_NTYPES - 1 ? type : TW_TLV_NTYPES - 1;
}

static void read_location(tw_tlv_result_t *r, const uint8_t *v, size_t len)
{
    int df = 0, sf = 0;
    uint8_t da[16] = {0}, sa[16] = {0};
    size_t p = TW_TLV_LOCATION_MIN;
    while (len - p >= TW_TLV_HDR) {
        uint8_t f = v[p], st = v[p + 1];
        size_t sl = tw_get16(v + p + 2);
        if (sl > len - p - TW_TLV_HDR || (f & TW_TLVF_M))
            break;
        const uint8_t *sv = v + p + TW_TLV_HDR;
        if (!(f & TW_TLVF_U) && sl == 16) {
            if (st == TW_SUBT_DST_IPV4 || st == TW_SUBT_DST_IPV6) {
                df = st == TW_SUBT_DST_IPV4 ? AF_INET : AF_INET6;
                memcpy(da, sv, 16);
            } else if (st == TW_SUBT_SRC_IPV4 || st == TW_SUBT_SRC_IPV6) {
                sf = st == TW_SUBT_SRC_IPV4 ? AF_INET : AF_INET6;
                memcpy(sa, sv, 16);
            }
        }
        p += TW_TLV_HDR + sl;
    }
    uint16_t dp = tw_get16(v), sp = tw_get16(v + 2);
    if (r->loc_n &&
        (dp != r->loc_dport || sp != r->loc_sport || df != r->loc_dst_family ||
         sf != r->loc_src_family || memcmp(da, r->loc_dst, 16) || memcmp(sa, r->loc_src, 16)))
        r->loc_changed++;
    r->loc_n++;
    r->loc_dport = dp;
    r->loc_sport = sp;
    r->loc_dst_family = df;
    r->loc_src_family = sf;
    memcpy(r->loc_dst, da, 16);
    memcpy(r->loc_src, sa, 16);
}

static void read_cos(tw_tlv_result_t *r, const uint8_t *v, const tw_tlv_reply_ctx_t *c)
{
    uint8_t dscp1 = v[0] >> 2;
    uint8_t dscp2 = (uint8_t)((v[0] & 3) << 4 | v[1] >> 4);
    uint8_t ecn = (v[1] >> 2) & 3, rp = v[1] & 3;
    r->cos_n++;
    r->cos_dscp1 = dscp1;
    r->cos_dscp2 = dscp2;
    r->cos_ecn = ecn;
    if (c->sent_tos >= 0 && dscp2 != (c->sent_tos >> 2))
        r->cos_fwd_remarked++;
    if (rp) {
        r->cos_rp++;
    } else if (c->tos < 0) {
        r->cos_rev_unknown++;
    } else if ((c->tos >> 2) != dscp1) {
        r->cos_rev_remarked++;
    }
    r->cos_reply_dscp = c->tos >= 0 ? c->tos >> 2 : -1;
}

static void read_followup(tw_tlv_result_t *r, const uint8_t *v, const tw_tlv_reply_ctx_t *c)
{
    uint32_t seq = tw_get32(v);
    uint64_t ts = tw_get64(v + 4);
    r->fu_n++;
    r->fu_method = v[12];
    if (!seq && !ts) {
        r->fu_zero++;
        return;
    }
    int64_t t3;
    if (!c->t3_of || !c->fu_ts_ns || !c->t3_of(c->arg, seq, &t3))
        return;
    int64_t d = c->fu_ts_ns(c->arg, ts) - t3;
    if (!r->fu_matched || d < r->fu_min)
        r->fu_min = d;
    if (!r->fu_matched || d > r->fu_max)
        r->fu_max = d;
    r->fu_matched++;
    r->fu_sum += (double)d;
}

void tw_tlv_read_reply(tw_tlv_result_t *r, const uint8_t *buf, size_t off, size_t end,
                       const tw_tlv_reply_ctx_t *c)
{
    if (off >= end) {
        r->no_tlvs++;
        return;
    }
    r->replies++;
    /* Pass 1: count the flags; I anywhere, or an HMAC TLV that fails, and every
     * TLV is discarded (RFC 8972 §4, §4.8). */
    bool discard = false;
    size_t pos = off, hpos = NONE;
    tw_tlv_t t;
    int rc;
    while ((rc = tw_tlv_at(buf, pos, end, &t)) > 0) {
        int k = type_slot(t.type);
        r->seen[k]++;
        r->u[k] += (t.flags & TW_TLVF_U) != 0;
        r->m[k] += (t.flags & TW_TLVF_M) != 0;
        r->i[k] += (t.flags & TW_TLVF_I) != 0;
        if (t.flags & TW_TLVF_I)
            discard = true;
        if (t.overruns)
            break;
        if (t.type == TW_TLVT_HMAC && hpos == NONE && t.len == TW_TLV_HMAC_LEN)
            hpos = pos;
        pos += TW_TLV_HDR + t.len;
    }
    if (rc < 0 || (rc > 0 && t.overruns))
        r->bad_area++;
    if (c->hmac && hpos != NONE && !discard && c->rep_seq) {
        if (hmac_ok(buf, off, hpos, c->rep_seq, c->hmac, c->hmac_arg)) {
            r->hmac_ok++;
        } else {
            r->hmac_bad++;
            discard = true;
        }
    }
    if (discard)
        return;
    /* Pass 2: read the answers: U skipped, M stops (§4). */
    for (pos = off; tw_tlv_at(buf, pos, end, &t) > 0 && !t.overruns; pos += TW_TLV_HDR + t.len) {
        if (t.flags & TW_TLVF_M)
            break;
        if ((t.flags & TW_TLVF_U) || !tw_tlv_len_valid(t.type, t.len))
            continue;
        const uint8_t *v = buf + pos + TW_TLV_HDR;
        switch (t.type) {
        case TW_TLVT_LOCATION:
            read_location(r, v, t.len);
            break;
        case TW_TLVT_TSINFO:
            r->ts_n++;
            r->sync_in = v[0];
            r->ts_in = v[1];
            r->sync_out = v[2];
            r->ts_out = v[3];
            break;
        case TW_TLVT_COS:
            read_cos(r, v, c);
            break;
        case TW_TLVT_DIRECT:
            if (!r->dm_n)
                for (int i = 0; i < 3; i++)
                    r->dm_first[i] = tw_get32(v + 4 * i);
            for (int i = 0; i < 3; i++)
                r->dm_last[i] = tw_get32(v + 4 * i);
            r->dm_n++;
            break;
        case TW_TLVT_ACCESS:
            r->ac_n++;
            r->ac_id = v[0] >> 4;
            r->ac_rc = v[1];
            break;
        case TW_TLVT_FOLLOWUP:
            read_followup(r, v, c);
            break;
        default:
            break;
        }
    }
}
