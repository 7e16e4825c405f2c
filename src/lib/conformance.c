/* conformance: findings about a reflector from its replies (issue 11). The
 * clauses: RFC 5357 §4.2.1 (the TWAMP reflector packet: its own Sequence
 * Number counted from 0, Timestamp, Error Estimate, MBZ, Receive Timestamp,
 * the sender's fields copied, Sender TTL), RFC 8762 §4 (STAMP's stateless and
 * stateful reflectors; symmetrical packets: the reply as long as the request),
 * §4.3.1 and §4.3.2 (the STAMP reflector packet, unauthenticated and
 * authenticated), RFC 8972 §3 (the SSID, copied into the reply) and RFC 4656
 * §4.1.2 (Error Estimate: S set means a clock synchronized to UTC by an
 * external source; "Multiplier MUST NOT be set to zero. If Multiplier is zero,
 * the packet SHOULD be considered corrupt and discarded": twampy measures it
 * all the same and says so). */
#include "conformance.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

static const struct {
    const char *code;
    bool info;
    const char *twamp, *stamp; /* the clause; NULL: does not apply */
} table[TW_CF_COUNT] = {
    [TW_CF_SWAPPED] = {"swapped-timestamps", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_ECHOED] = {"request-echoed", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_TS_NOT_ECHOED] = {"sender-timestamp-not-echoed", false, "RFC 5357 §4.2.1",
                             "RFC 8762 §4.3.1"},
    [TW_CF_T3_BEFORE_T2] = {"t3-before-t2", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_T2_EQUALS_T3] = {"t2-equals-t3", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_NO_SENDER_TTL] = {"no-sender-ttl", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_ERREST_ZERO] = {"error-estimate-zero", false, "RFC 4656 §4.1.2", "RFC 4656 §4.1.2"},
    [TW_CF_CLOCK_FAR_OFF] = {"clock-far-off", false, "RFC 4656 §4.1.2", "RFC 4656 §4.1.2"},
    [TW_CF_SSID] = {"ssid-not-echoed", false, NULL, "RFC 8972 §3"},
    [TW_CF_LENGTH] = {"reply-length", false, NULL, "RFC 8762 §4"},
    [TW_CF_MBZ] = {"mbz-not-zero", false, "RFC 5357 §4.2.1", "RFC 8762 §4.3.1"},
    [TW_CF_SEQ_ERRATIC] = {"sequence-erratic", false, "RFC 5357 §4.2.1", "RFC 8762 §4"},
    [TW_CF_SEQ_STATELESS] = {"sequence-stateless", true, "RFC 5357 §4.2.1", "RFC 8762 §4"},
    [TW_CF_SEQ_STATEFUL] = {"sequence-stateful", true, "RFC 5357 §4.2.1", "RFC 8762 §4"},
};

/* MBZ octets of the reflector's packet, [from, to) (WIRE.md). */
struct span {
    uint16_t from, to;
};
static const struct span mbz_twamp[] = {{14, 16}, {38, 40}};
static const struct span mbz_stamp[] = {{38, 40}, {41, 44}};
static const struct span mbz_twamp_auth[] = {{4, 16},  {26, 32}, {40, 48},
                                             {52, 64}, {74, 80}, {81, 96}};
static const struct span mbz_stamp_auth[] = {{4, 16},  {28, 32}, {40, 48},
                                             {52, 64}, {74, 80}, {81, 96}};

void tw_conform_init(tw_conformance_t *c, int format)
{
    memset(c, 0, sizeof *c);
    c->format = format;
}

const char *tw_conform_code(int k)
{
    return k >= 0 && k < TW_CF_COUNT ? table[k].code : NULL;
}

const char *tw_conform_severity(int k)
{
    return k >= 0 && k < TW_CF_COUNT && table[k].info ? "info" : "warn";
}

const char *tw_conform_rfc(const tw_conformance_t *c, int k)
{
    if (k < 0 || k >= TW_CF_COUNT)
        return NULL;
    if (c->format == TW_CF_STAMP_AUTH && table[k].stamp &&
        !strcmp(table[k].stamp, "RFC 8762 §4.3.1"))
        return "RFC 8762 §4.3.2"; /* the authenticated reflector packet */
    bool stamp = c->format == TW_CF_STAMP || c->format == TW_CF_STAMP_AUTH;
    return stamp ? table[k].stamp : table[k].twamp;
}

/* The first MBZ octet not zero: its offset, or -1. */
static int mbz_check(const uint8_t *b, size_t len, int format)
{
    const struct span *s = mbz_twamp;
    size_t n = sizeof mbz_twamp / sizeof mbz_twamp[0];
    if (format == TW_CF_STAMP) {
        s = mbz_stamp;
        n = sizeof mbz_stamp / sizeof mbz_stamp[0];
    } else if (format == TW_CF_TWAMP_AUTH) {
        s = mbz_twamp_auth;
        n = sizeof mbz_twamp_auth / sizeof mbz_twamp_auth[0];
    } else if (format == TW_CF_STAMP_AUTH) {
        s = mbz_stamp_auth;
        n = sizeof mbz_stamp_auth / sizeof mbz_stamp_auth[0];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t o = s[i].from; o < s[i].to && o < len; o++)
            if (b[o])
                return (int)o;
    return -1;
}

/* Whole seconds between a wire timestamp and t1 in the same format (the raw
 * seconds, so that an epoch mistake shows as itself, not as another era). */
static int64_t wire_offset_s(uint64_t wire, tw_time_t t1, bool ptp, int tai)
{
    int64_t t1s = t1 / TW_NS_PER_SEC;
    int64_t want = ptp ? t1s + tai : t1s + TW_CF_EPOCH_S;
    return (int64_t)(uint32_t)(wire >> 32) - (int64_t)(uint32_t)want;
}

static bool near(int64_t a, int64_t b)
{
    return a - b <= 60 && b - a <= 60;
}

static void sequence(tw_conformance_t *c, uint32_t sseq, uint32_t rseq)
{
    c->seq_seen++;
    if (rseq == sseq)
        c->count[TW_CF_SEQ_STATELESS]++;
    if (c->seq_have) {
        int32_t ds = (int32_t)(sseq - c->last_sseq), dr = (int32_t)(rseq - c->last_rseq);
        /* A counter goes the way ours went (replies may come reordered), or
         * started again from 0 since the previous reply (a stateful
         * reflector forgetting an idle sender): then it counted at most the
         * ds requests sent since, the reply to the restart itself maybe lost. */
        bool ok = (ds > 0 && (dr > 0 || rseq < (uint32_t)ds)) || (ds < 0 && dr < 0);
        if (!ok)
            c->count[TW_CF_SEQ_ERRATIC]++;
    }
    c->seq_have = true;
    c->last_sseq = sseq;
    c->last_rseq = rseq;
}

void tw_conform_reply(tw_conformance_t *c, const tw_conform_reply_t *r)
{
    c->replies++;
    if (r->layout == TW_CF_LAYOUT_ECHO) {
        c->count[TW_CF_ECHOED]++;
        return; /* none of the reflector's fields to examine */
    }
    if (r->layout == TW_CF_LAYOUT_SWAPPED)
        c->count[TW_CF_SWAPPED]++;
    else if (r->layout == TW_CF_LAYOUT_SEQ_ONLY)
        c->count[TW_CF_TS_NOT_ECHOED]++;
    if (r->ntp2 && r->ntp3) {
        if (r->ntp3 < r->ntp2)
            c->count[TW_CF_T3_BEFORE_T2]++;
        else if (r->ntp3 == r->ntp2)
            c->count[TW_CF_T2_EQUALS_T3]++;
    }
    if (r->sender_ttl <= 0) {
        c->count[TW_CF_NO_SENDER_TTL]++;
        if (r->sender_ttl == 0)
            c->ttl_zero++;
    }
    if ((r->errest & 0xFF) == 0)
        c->count[TW_CF_ERREST_ZERO]++;
    /* The reflector's clock: t2 and t3 cannot be outside our t1..t4 by more
     * than the clocks' disagreement; seconds away with the S bit set (or by
     * exactly an epoch) is a clock that is wrong, not one unsynchronized. */
    tw_time_t lo = r->t1 > INT64_MIN + TW_CF_FAR_NS ? r->t1 - TW_CF_FAR_NS : INT64_MIN;
    tw_time_t hi = r->t4 < INT64_MAX - TW_CF_FAR_NS ? r->t4 + TW_CF_FAR_NS : INT64_MAX;
    bool far = (r->ntp2 && (r->t2 < lo || r->t2 > hi)) || (r->ntp3 && (r->t3 < lo || r->t3 > hi));
    if (far) {
        bool ptp = r->errest & 0x4000;
        int64_t off = wire_offset_s(r->ntp2 ? r->ntp2 : r->ntp3, r->t1, ptp, r->tai);
        bool epoch = near(off, -TW_CF_EPOCH_S) || near(off, TW_CF_EPOCH_S);
        if ((r->errest & 0x8000) || epoch) {
            if (!c->count[TW_CF_CLOCK_FAR_OFF])
                c->far_offset_s = off;
            c->count[TW_CF_CLOCK_FAR_OFF]++;
            if (epoch)
                c->far_epoch++;
        }
    }
    bool stamp = r->format == TW_CF_STAMP || r->format == TW_CF_STAMP_AUTH;
    if (stamp) {
        size_t at = r->format == TW_CF_STAMP ? 14 : 26;
        uint16_t ssid = r->len >= at + 2 ? tw_get16(r->buf + at) : 0;
        if (ssid != r->ssid) {
            if (!c->count[TW_CF_SSID]) {
                c->ssid_sent = r->ssid;
                c->ssid_seen = ssid;
            }
            c->count[TW_CF_SSID]++;
        }
        if (r->len != r->req_len) {
            if (!c->count[TW_CF_LENGTH]) {
                c->len_req = (uint32_t)r->req_len;
                c->len_rep = (uint32_t)r->len;
            }
            c->count[TW_CF_LENGTH]++;
        }
    }
    int o = mbz_check(r->buf, r->len, r->format);
    if (o >= 0) {
        if (!c->count[TW_CF_MBZ]) {
            c->mbz_offset = (uint16_t)o;
            c->mbz_value = r->buf[o];
        }
        c->count[TW_CF_MBZ]++;
    }
    sequence(c, r->sseq, r->rseq);
}

void tw_conform_merge(tw_conformance_t *into, const tw_conformance_t *from)
{
    if (!from->replies)
        return;
    if (!into->replies)
        into->format = from->format;
    for (int k = 0; k < TW_CF_COUNT; k++) {
        if (!into->count[k] && from->count[k]) {
            if (k == TW_CF_SSID) {
                into->ssid_sent = from->ssid_sent;
                into->ssid_seen = from->ssid_seen;
            } else if (k == TW_CF_LENGTH) {
                into->len_req = from->len_req;
                into->len_rep = from->len_rep;
            } else if (k == TW_CF_MBZ) {
                into->mbz_offset = from->mbz_offset;
                into->mbz_value = from->mbz_value;
            } else if (k == TW_CF_CLOCK_FAR_OFF) {
                into->far_offset_s = from->far_offset_s;
            }
        }
        into->count[k] += from->count[k];
    }
    into->replies += from->replies;
    into->seq_seen += from->seq_seen;
    into->ttl_zero += from->ttl_zero;
    into->far_epoch += from->far_epoch;
}

uint64_t tw_conform_count(const tw_conformance_t *c, int k)
{
    if (k < 0 || k >= TW_CF_COUNT || !tw_conform_rfc(c, k))
        return 0;
    bool stateless = c->seq_seen && c->count[TW_CF_SEQ_STATELESS] == c->seq_seen;
    bool erratic = !stateless && c->count[TW_CF_SEQ_ERRATIC];
    switch (k) {
    case TW_CF_SEQ_STATELESS:
        return stateless ? c->seq_seen : 0;
    case TW_CF_SEQ_ERRATIC:
        return erratic ? c->count[k] : 0;
    case TW_CF_SEQ_STATEFUL:
        return c->seq_seen && !stateless && !erratic ? c->seq_seen : 0;
    default:
        return c->count[k];
    }
}

uint64_t tw_conform_of(const tw_conformance_t *c, int k)
{
    return k == TW_CF_SEQ_ERRATIC || k == TW_CF_SEQ_STATELESS || k == TW_CF_SEQ_STATEFUL
               ? c->seq_seen
               : c->replies;
}

const char *tw_conform_text(const tw_conformance_t *c, int k, char *buf, size_t len)
{
    unsigned long long n = tw_conform_count(c, k), of = tw_conform_of(c, k);
    buf[0] = '\0';
    if (!n)
        return buf;
    char x[160] = "";
    switch (k) {
    case TW_CF_SWAPPED:
        snprintf(buf, len,
                 "%llu of %llu replies carry our t1 in the Timestamp field and the reflector's t3 "
                 "in the Sender Timestamp field: the two fields are swapped",
                 n, of);
        break;
    case TW_CF_ECHOED:
        snprintf(buf, len,
                 "%llu of %llu replies echo the request (our Sequence Number and Timestamp at "
                 "offsets 0 and 4) instead of the reflector's fields: round trip only",
                 n, of);
        break;
    case TW_CF_TS_NOT_ECHOED:
        snprintf(buf, len,
                 "%llu of %llu replies do not carry our Timestamp in the Sender Timestamp field: "
                 "matched by Sender Sequence Number alone",
                 n, of);
        break;
    case TW_CF_T3_BEFORE_T2:
        snprintf(buf, len,
                 "%llu of %llu replies carry a Timestamp (t3) earlier than their Receive "
                 "Timestamp (t2): one-way delays and residence n/a",
                 n, of);
        break;
    case TW_CF_T2_EQUALS_T3:
        snprintf(buf, len,
                 "%llu of %llu replies carry Receive Timestamp = Timestamp: residence not reported "
                 "(it is inside the round trip)",
                 n, of);
        break;
    case TW_CF_NO_SENDER_TTL: {
        unsigned long long z = c->ttl_zero, s = n - c->ttl_zero;
        if (z && s)
            snprintf(x, sizeof x, "%llu end before it, %llu carry 0", s, z);
        else
            snprintf(x, sizeof x, "%s", z ? "it is 0" : "they end before it");
        snprintf(buf, len, "%llu of %llu replies carry no Sender TTL (%s): outbound TTL unknown", n,
                 of, x);
        break;
    }
    case TW_CF_ERREST_ZERO:
        snprintf(buf, len,
                 "%llu of %llu replies carry an Error Estimate whose Multiplier is 0, which must "
                 "not be (such a packet should be taken as corrupt): measured anyway, the "
                 "reflector's timestamp error unknown",
                 n, of);
        break;
    case TW_CF_CLOCK_FAR_OFF:
        if (c->far_epoch == n)
            snprintf(x, sizeof x, ": the 70 years from 1900 to 1970, %s",
                     c->far_offset_s < 0 ? "Unix time written where NTP time belongs"
                                         : "NTP time written where PTP time belongs");
        else
            snprintf(x, sizeof x,
                     " with the S bit set (synchronized to UTC): no one-way delay "
                     "explains that; one-way delays are wrong");
        snprintf(buf, len, "%llu of %llu replies carry timestamps %+lld s from our clock%s", n, of,
                 (long long)c->far_offset_s, x);
        break;
    case TW_CF_SSID:
        snprintf(buf, len, "%llu of %llu replies carry SSID %u, not the %u sent", n, of,
                 c->ssid_seen, c->ssid_sent);
        break;
    case TW_CF_LENGTH:
        snprintf(buf, len,
                 "%llu of %llu replies are not as long as their request (the first: %u octets to "
                 "a %u-octet request)",
                 n, of, c->len_rep, c->len_req);
        break;
    case TW_CF_MBZ:
        snprintf(buf, len,
                 "%llu of %llu replies have MBZ octets that are not zero (the first: offset %u is "
                 "0x%02x)",
                 n, of, c->mbz_offset, c->mbz_value);
        break;
    case TW_CF_SEQ_ERRATIC:
        snprintf(buf, len,
                 "%llu of %llu replies carry a reflector Sequence Number that neither repeats ours "
                 "nor counts up with it: loss by direction is not to be trusted",
                 n, of);
        break;
    case TW_CF_SEQ_STATELESS:
        snprintf(buf, len,
                 "%llu of %llu replies carry our Sequence Number as the reflector's: a stateless "
                 "reflector (a lost packet then has no known direction), or a stateful one that "
                 "missed none of ours",
                 n, of);
        break;
    case TW_CF_SEQ_STATEFUL:
        snprintf(buf, len,
                 "%llu of %llu replies are numbered by the reflector itself: a stateful "
                 "reflector, whose count splits the loss by direction where it did not restart",
                 n, of);
        break;
    default:
        break;
    }
    return buf;
}

const char *tw_conform_line(const tw_conformance_t *c, int k, char *buf, size_t len)
{
    char t[400];
    buf[0] = '\0';
    if (!tw_conform_count(c, k))
        return buf;
    snprintf(buf, len, "%s [%s] %s: %s", table[k].info ? "Note" : "Warning", table[k].code,
             tw_conform_rfc(c, k), tw_conform_text(c, k, t, sizeof t));
    return buf;
}
