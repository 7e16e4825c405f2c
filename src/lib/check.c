/* check: the conformance battery of a TWAMP light / STAMP Session-Reflector
 * (RFC 5357 §4.2, RFC 8762 §4, RFC 8972 §3-§4) and the verdicts on each reply.
 * One blocking UDP socket, one request at a time, every wait bounded by a
 * poll() deadline; ICMP errors (IP_RECVERR) end a wait at once. */
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "auth.h"
#include "log.h"
#include "net.h"
#include "wire.h"

#define CL_TWAMP "RFC 5357 §4.2.1"
#define CL_STAMP "RFC 8762 §4.3.1"
#define CL_AUTH "RFC 8762 §4.3.2"
#define CL_ERREST "RFC 4656 §4.1.2"
#define CL_SSID "RFC 8972 §3"
#define CL_TLV "RFC 8972 §4"

static const char *base_clause(int kind)
{
    return kind == TW_CHECK_KIND_TWAMP   ? CL_TWAMP
           : kind == TW_CHECK_KIND_STAMP ? CL_STAMP
                                         : CL_AUTH;
}

static size_t base_len(int kind)
{
    return kind == TW_CHECK_KIND_TWAMP   ? TW_REFLECTOR_BASE_LEN
           : kind == TW_CHECK_KIND_STAMP ? TW_STAMP_BASE_LEN
                                         : TW_STAMP_AUTH_BASE_LEN;
}

/* Offsets of the reflector's fields in the open and the authenticated layouts. */
struct layout {
    size_t t3, errest, t2, sseq, st1, serr, ttl;
};
static const struct layout L_OPEN = {4, 12, 16, 24, 28, 36, 40};
static const struct layout L_AUTH = {16, 24, 32, 48, 64, 72, 80};

static const struct layout *layout_of(int kind)
{
    return kind == TW_CHECK_KIND_STAMP_AUTH ? &L_AUTH : &L_OPEN;
}

/* A delay in words: "35us", "1.2ms", "3.000s". */
static const char *dur(char *buf, size_t len, int64_t ns)
{
    int64_t a = ns < 0 ? -ns : ns;
    if (a < 10 * TW_NS_PER_US)
        snprintf(buf, len, "%.1fus", (double)ns / 1e3);
    else if (a < TW_NS_PER_MS)
        snprintf(buf, len, "%lldus", (long long)(ns / TW_NS_PER_US));
    else if (a < TW_NS_PER_SEC)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.3fs", (double)ns / 1e9);
    return buf;
}

static tw_time_t wire_time(uint64_t v, uint16_t errest)
{
    return errest & 0x4000 ? tw_ptp_to_time(v, tw_clock_tai_offset()) : tw_ntp_to_time(v);
}

/* The reply read as far as it goes: a shorter one as if zero-filled, so that
 * what it does carry can still be judged. */
static void decode_reply(const tw_check_xchg_t *x, tw_reflector_pkt_t *r)
{
    uint8_t tmp[TW_STAMP_AUTH_BASE_LEN];
    size_t base = base_len(x->kind);
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, x->rep, x->rep_len < base ? x->rep_len : base);
    memset(r, 0, sizeof *r);
    if (x->kind == TW_CHECK_KIND_STAMP_AUTH)
        tw_reflector_decode_auth(tmp, base, true, r);
    else
        tw_reflector_decode(tmp, base, r);
    if (x->kind == TW_CHECK_KIND_TWAMP)
        r->ssid = 0;
}

static void no_reply(tw_check_table_t *t, const char *name, const char *clause, const char *exp,
                     const tw_check_xchg_t *x)
{
    char d[32];
    if (x->icmp[0])
        tw_check_add(t, TW_CHECK_FAIL, name, clause, exp, "no reply: %s", x->icmp);
    else
        tw_check_add(t, TW_CHECK_FAIL, name, clause, exp, "no reply within %s",
                     dur(d, sizeof d, t->timeout_ns));
}

static void judge_echo(tw_check_table_t *t, const char *name, const tw_check_xchg_t *x,
                       const tw_reflector_pkt_t *r)
{
    const struct layout *L = layout_of(x->kind);
    const char *exp =
        "Sender Sequence Number, Timestamp and Error Estimate copied from the request";
    char seen[TW_CHECK_TEXT_LEN] = "";
    size_t n = 0;
    if (x->rep_len < L->serr + 2)
        n += (size_t)snprintf(seen + n, sizeof seen - n, "the reply ends at octet %zu; ",
                              x->rep_len);
    if (x->rep_len >= L->sseq + 4 && r->sender_seq != x->seq)
        n += (size_t)snprintf(seen + n, sizeof seen - n,
                              "Sender Sequence Number %" PRIu32 " (sent %" PRIu32 "); ",
                              r->sender_seq, x->seq);
    if (x->rep_len >= L->st1 + 8 && r->sender_time != x->ts) {
        if (x->kind != TW_CHECK_KIND_STAMP_AUTH && x->rep_len >= 12 &&
            tw_get64(x->rep + 4) == x->ts)
            n += (size_t)snprintf(seen + n, sizeof seen - n,
                                  "our t1 at offset 4 and another time at 28: Timestamp and "
                                  "Sender Timestamp swapped; ");
        else
            n += (size_t)snprintf(seen + n, sizeof seen - n,
                                  "Sender Timestamp 0x%016" PRIx64 " is not the one sent; ",
                                  r->sender_time);
    }
    if (x->rep_len >= L->serr + 2 && r->sender_errest != x->errest)
        n += (size_t)snprintf(seen + n, sizeof seen - n,
                              "Sender Error Estimate 0x%04x (sent 0x%04x); ", r->sender_errest,
                              x->errest);
    if (n == 0) {
        tw_check_add(t, TW_CHECK_PASS, name, base_clause(x->kind), exp, "all three copied");
        return;
    }
    if (n >= 2 && n < sizeof seen)
        seen[n - 2] = 0;
    tw_check_add(t, TW_CHECK_FAIL, name, base_clause(x->kind), exp, "%s", seen);
}

/* The first non-zero octet of rep in [a, b) within its length, or -1. */
static int nonzero(const tw_check_xchg_t *x, size_t a, size_t b)
{
    for (size_t i = a; i < b && i < x->rep_len; i++)
        if (x->rep[i])
            return (int)i;
    return -1;
}

static void judge_mbz(tw_check_table_t *t, const tw_check_xchg_t *x)
{
    static const size_t open_twamp[][2] = {{14, 16}, {38, 40}};
    static const size_t open_stamp[][2] = {{38, 40}, {41, 44}};
    static const size_t auth[][2] = {{4, 16}, {28, 32}, {40, 48}, {52, 64}, {74, 80}, {81, 96}};
    const size_t(*r)[2] = x->kind == TW_CHECK_KIND_TWAMP   ? open_twamp
                          : x->kind == TW_CHECK_KIND_STAMP ? open_stamp
                                                           : auth;
    size_t n = x->kind == TW_CHECK_KIND_STAMP_AUTH ? 6 : 2;
    for (size_t i = 0; i < n; i++) {
        int at = nonzero(x, r[i][0], r[i][1]);
        if (at >= 0) {
            tw_check_add(t, TW_CHECK_WARN, "MBZ fields", base_clause(x->kind),
                         "MBZ octets zero on transmission", "octet %d is 0x%02x (MBZ %zu..%zu)", at,
                         x->rep[at], r[i][0], r[i][1] - 1);
            return;
        }
    }
    tw_check_add(t, TW_CHECK_PASS, "MBZ fields", base_clause(x->kind),
                 "MBZ octets zero on transmission", "zero");
}

static void judge_ttl(tw_check_table_t *t, const tw_check_xchg_t *x)
{
    const struct layout *L = layout_of(x->kind);
    char exp[96];
    snprintf(exp, sizeof exp, "the TTL / Hop Limit the request arrived with (sent with %d)",
             x->ttl);
    if (x->rep_len <= L->ttl) {
        tw_check_add(t, TW_CHECK_FAIL, "Sender TTL", base_clause(x->kind), exp,
                     "missing: the reply ends at octet %zu, before offset %zu", x->rep_len, L->ttl);
        return;
    }
    int ttl = x->rep[L->ttl];
    if (ttl == 0)
        tw_check_add(t, TW_CHECK_FAIL, "Sender TTL", base_clause(x->kind), exp, "0");
    else if (ttl > x->ttl)
        tw_check_add(t, TW_CHECK_FAIL, "Sender TTL", base_clause(x->kind), exp,
                     "%d: more than the request was sent with", ttl);
    else
        tw_check_add(t, TW_CHECK_PASS, "Sender TTL", base_clause(x->kind), exp,
                     "%d (%d hop%s on the way)", ttl, x->ttl - ttl, x->ttl - ttl == 1 ? "" : "s");
}

static void judge_times(tw_check_table_t *t, const tw_check_xchg_t *x, const tw_reflector_pkt_t *r)
{
    const char *name = "t2/t3", *cl = base_clause(x->kind);
    const char *exp = "t2 <= t3, residence within the round trip; t1 <= t2, t3 <= t4 when the "
                      "clocks are synchronized";
    const struct layout *L = layout_of(x->kind);
    char a[32], b[32];
    if (x->rep_len < L->t2 + 8) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "missing: the reply ends at octet %zu",
                     x->rep_len);
        return;
    }
    if (!r->rx_time || !r->timestamp) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "t2 or t3 is zero");
        return;
    }
    tw_time_t t2 = wire_time(r->rx_time, r->errest), t3 = wire_time(r->timestamp, r->errest);
    int64_t res = t3 - t2, rtt = x->t4 - x->t1;
    if (t3 < t2) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "t3 is %s before t2",
                     dur(a, sizeof a, t2 - t3));
        return;
    }
    if (r->rx_time == r->timestamp) {
        tw_check_add(t, TW_CHECK_WARN, name, cl, exp,
                     "t2 = t3: no residence time reported (it is inside the round trip)");
        return;
    }
    if (res > rtt) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp,
                     "residence %s is longer than the round trip %s", dur(a, sizeof a, res),
                     dur(b, sizeof b, rtt));
        return;
    }
    if (x->synced) {
        int64_t tol = TW_NS_PER_US + x->clock_err_ns;
        if (t2 < x->t1 - tol) {
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "t2 is %s before t1 (clocks %s)",
                         dur(a, sizeof a, x->t1 - t2),
                         x->clock_err_ns ? "synchronized, S bits" : "of this host");
            return;
        }
        if (t3 > x->t4 + tol) {
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "t3 is %s after t4 (clocks %s)",
                         dur(a, sizeof a, t3 - x->t4),
                         x->clock_err_ns ? "synchronized, S bits" : "of this host");
            return;
        }
        tw_check_add(t, TW_CHECK_PASS, name, cl, exp, "t1 <= t2 <= t3 <= t4; residence %s of %s",
                     dur(a, sizeof a, res), dur(b, sizeof b, rtt));
        return;
    }
    tw_check_add(t, TW_CHECK_PASS, name, cl, exp,
                 "t2 <= t3, residence %s of %s (clocks not synchronized: not compared with t1/t4)",
                 dur(a, sizeof a, res), dur(b, sizeof b, rtt));
}

static void judge_errest(tw_check_table_t *t, const tw_check_xchg_t *x, const tw_reflector_pkt_t *r)
{
    const char *exp = "Multiplier not 0; S set only when t2/t3 agree with this clock";
    tw_errest_t e = tw_errest_decode(r->errest);
    char a[32];
    if (e.multiplier == 0) {
        tw_check_add(t, TW_CHECK_FAIL, "Error Estimate", CL_ERREST, exp, "0x%04x: Multiplier 0",
                     r->errest);
        return;
    }
    if (e.sync && r->rx_time && x->synced) {
        /* Both clocks on UTC (or one clock): t2 cannot be further from t1
         * than the round trip and both errors allow, plus a second. */
        tw_time_t t2 = wire_time(r->rx_time, r->errest);
        int64_t bound = (x->t4 - x->t1) + tw_errest_to_ns(&e) + x->clock_err_ns + TW_NS_PER_SEC;
        int64_t off = t2 - x->t1;
        if (off > bound || off < -bound) {
            tw_check_add(t, TW_CHECK_FAIL, "Error Estimate", CL_ERREST, exp,
                         "0x%04x: S set, but t2 is %s from this host's clock", r->errest,
                         dur(a, sizeof a, off));
            return;
        }
    }
    tw_check_add(t, TW_CHECK_PASS, "Error Estimate", CL_ERREST, exp, "0x%04x: S=%d, error %s%s",
                 r->errest, e.sync, dur(a, sizeof a, tw_errest_to_ns(&e)),
                 e.sync && !x->synced ? " (this clock is not synchronized: S not checked)" : "");
}

void tw_check_judge_basic(tw_check_table_t *t, const tw_check_xchg_t *x)
{
    const char *cl = base_clause(x->kind);
    size_t base = base_len(x->kind);
    char exp[96], a[32];
    snprintf(exp, sizeof exp, "a reply of at least %zu octets within the timeout", base);
    if (!x->replied) {
        no_reply(t, "reply", cl, exp, x);
        return;
    }
    if (x->rep_len < base)
        tw_check_add(t, TW_CHECK_FAIL, "reply", cl, exp,
                     "%zu octets: shorter than the %zu-octet reflector packet", x->rep_len, base);
    else
        tw_check_add(t, TW_CHECK_PASS, "reply", cl, exp, "%zu octets after %s", x->rep_len,
                     dur(a, sizeof a, x->t4 - x->t1));
    if (x->kind == TW_CHECK_KIND_STAMP_AUTH)
        tw_check_add(t, x->hmac_ok ? TW_CHECK_PASS : TW_CHECK_FAIL, "reply HMAC", "RFC 8762 §4.4",
                     "HMAC-SHA-256 of octets 0..95 with the shared key",
                     x->hmac_ok ? "verified" : "does not verify: the reply cannot be trusted");
    tw_reflector_pkt_t r;
    decode_reply(x, &r);
    judge_echo(t, "echoed fields", x, &r);
    if (x->kind != TW_CHECK_KIND_TWAMP) {
        size_t off = x->kind == TW_CHECK_KIND_STAMP ? 16 : 28;
        if (x->rep_len < off)
            tw_check_add(t, TW_CHECK_FAIL, "SSID", CL_SSID, "the request's SSID copied",
                         "missing: the reply ends at octet %zu", x->rep_len);
        else if (r.ssid != x->ssid)
            tw_check_add(t, TW_CHECK_FAIL, "SSID", CL_SSID, "the request's SSID copied",
                         "0x%04x (sent 0x%04x)", r.ssid, x->ssid);
        else
            tw_check_add(t, TW_CHECK_PASS, "SSID", CL_SSID, "the request's SSID copied", "0x%04x",
                         r.ssid);
    }
    judge_mbz(t, x);
    judge_ttl(t, x);
    /* A reflector that swapped the Timestamp and Sender Timestamp fields
     * (our t1 at offset 4): its t3 is at 28. */
    if (x->kind != TW_CHECK_KIND_STAMP_AUTH && x->rep_len >= 36 && r.sender_time != x->ts &&
        tw_get64(x->rep + 4) == x->ts)
        r.timestamp = tw_get64(x->rep + 28);
    judge_times(t, x, &r);
    judge_errest(t, x, &r);
    char to[112];
    snprintf(to, sizeof to, "from %s, where the request went", t->target);
    tw_check_add(t, x->from_target ? TW_CHECK_PASS : TW_CHECK_FAIL, "reply source", CL_SSID, to,
                 "from %s", x->from);
}

void tw_check_judge_length(tw_check_table_t *t, const tw_check_xchg_t *x)
{
    char name[TW_CHECK_NAME_LEN], exp[96];
    size_t base = base_len(x->kind);
    size_t want = x->req_len > base ? x->req_len : base;
    bool stamp = x->kind != TW_CHECK_KIND_TWAMP;
    const char *cl = stamp ? "RFC 8762 §4.3, §4.6" : "RFC 5357 §4.2.1, RFC 6038 §3";
    snprintf(name, sizeof name, "length %zu", x->req_len);
    snprintf(exp, sizeof exp, "a reply of max(%zu, %zu) = %zu octets", x->req_len, base, want);
    if (!x->replied)
        no_reply(t, name, cl, exp, x);
    else if (x->rep_len == want)
        tw_check_add(t, TW_CHECK_PASS, name, cl, exp, "%zu octets", x->rep_len);
    else if (!stamp && x->req_len < TW_STAMP_BASE_LEN && x->rep_len == TW_STAMP_BASE_LEN)
        tw_check_add(t, TW_CHECK_PASS, name, cl, exp,
                     "44 octets: a STAMP reflector's base packet (RFC 8762 §4.6)");
    else if (x->rep_len > want)
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp,
                     "%zu octets: longer than max(request, %zu) (amplification)", x->rep_len, base);
    else if (x->rep_len < base)
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp,
                     "%zu octets: shorter than the %zu-octet reflector packet", x->rep_len, base);
    else
        tw_check_add(t, stamp ? TW_CHECK_FAIL : TW_CHECK_WARN, name, cl, exp,
                     "%zu octets: not the request's size (%s)", x->rep_len,
                     stamp ? "STAMP replies are symmetrical" : "no symmetrical size");
}

void tw_check_judge_sequence(tw_check_table_t *t, const uint32_t *sseq, const uint32_t *rseq, int n)
{
    const char *name = "reflector sequence", *cl = "RFC 8762 §4.3.1";
    const char *exp = "stateless (the sender's copied) or stateful (+1 per packet)";
    if (n < 2) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp, "%d replies to 3 requests", n);
        return;
    }
    bool stateless = true, stateful = true;
    for (int i = 0; i < n; i++) {
        stateless = stateless && rseq[i] == sseq[i];
        if (i)
            stateful = stateful && rseq[i] == rseq[i - 1] + 1;
    }
    if (stateless)
        tw_check_add(t, TW_CHECK_PASS, name, cl, exp, "stateless: %" PRIu32 "..%" PRIu32 " copied",
                     rseq[0], rseq[n - 1]);
    else if (stateful)
        tw_check_add(t, TW_CHECK_PASS, name, cl, exp, "stateful: %" PRIu32 "..%" PRIu32, rseq[0],
                     rseq[n - 1]);
    else
        tw_check_add(t, TW_CHECK_WARN, name, cl, exp,
                     "erratic: %" PRIu32 ", %" PRIu32 "%s for sender %" PRIu32 ", %" PRIu32,
                     rseq[0], rseq[1], n > 2 ? ", ..." : "", sseq[0], sseq[1]);
}

/* ---- The battery ---------------------------------------------------------- */

#define BUFLEN TW_RX_BUFSIZE

struct ctx {
    const tw_check_cfg_t *cfg;
    tw_check_table_t *t;
    int fd;
    int ttl, dscp; /* of the test packets */
    int cos_dscp;  /* of the Class of Service test's packet */
    bool same_host, auth;
    tw_stamp_crypto_t sc;
    uint16_t errest; /* what the requests carry */
    bool our_sync;
    int64_t our_err_ns;
    uint32_t seq;
    uint64_t rnd;
    int rep_tos; /* the TOS / Traffic Class of the last reply, -1 unknown */
    uint8_t req[BUFLEN];
    uint8_t rep[BUFLEN];
    size_t max_excess; /* amplification: the most a reply went over max(request, base) */
    char excess_seen[96];
};

static uint8_t rnd8(struct ctx *c)
{
    c->rnd ^= c->rnd << 13;
    c->rnd ^= c->rnd >> 7;
    c->rnd ^= c->rnd << 17;
    return (uint8_t)(c->rnd | 1); /* never zero: TWAMP light padding, never STAMP's MBZ */
}

struct icmp_note {
    char *buf;
    size_t len;
};

static void on_icmp(void *arg, const tw_icmperr_t *e)
{
    struct icmp_note *n = arg;
    char a[TW_ADDRSTRLEN] = "?";
    if (e->offender.ss_family)
        tw_addr_ip_str((const struct sockaddr *)&e->offender, a, sizeof a);
    if (e->err == ECONNREFUSED)
        snprintf(n->buf, n->len, "ICMP port unreachable from %s: is a reflector listening?", a);
    else
        snprintf(n->buf, n->len, "ICMP error from %s: %s", a, strerror(e->err));
}

static void set_tos(struct ctx *c, int tos)
{
    if (c->cfg->target.ss_family == AF_INET6)
        setsockopt(c->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    else
        setsockopt(c->fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

static void drain(struct ctx *c)
{
    char note[96];
    struct icmp_note n = {note, sizeof note};
    tw_errqueue_read(c->fd, NULL, on_icmp, &n);
    for (int i = 0; i < 1024; i++)
        if (recv(c->fd, c->rep, sizeof c->rep, MSG_DONTWAIT) < 0)
            break;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    struct sockaddr_storage x = *a, y = *b;
    tw_addr_unmap(&x);
    tw_addr_unmap(&y);
    if (x.ss_family != y.ss_family || tw_addr_port(&x) != tw_addr_port(&y))
        return false;
    if (x.ss_family == AF_INET)
        return ((struct sockaddr_in *)&x)->sin_addr.s_addr ==
               ((struct sockaddr_in *)&y)->sin_addr.s_addr;
    return !memcmp(&((struct sockaddr_in6 *)&x)->sin6_addr, &((struct sockaddr_in6 *)&y)->sin6_addr,
                   16);
}

/* Send c->req[0..len) (its timestamp, and HMAC when authenticated, written
 * now) and wait for the reply that echoes its sequence number; fill x. */
static void exchange(struct ctx *c, tw_check_xchg_t *x, int kind, size_t len, uint32_t seq,
                     uint16_t ssid)
{
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->req_len = len;
    x->seq = seq;
    x->errest = c->errest;
    x->ssid = ssid;
    x->ttl = c->ttl;
    x->rep = c->rep;
    c->rep_tos = -1;
    drain(c);
    bool auth = kind == TW_CHECK_KIND_STAMP_AUTH;
    size_t tsoff = auth ? 16 : 4;
    x->t1 = tw_now();
    x->ts = tw_time_to_ntp(x->t1);
    if (len >= tsoff + 8)
        tw_put64(c->req + tsoff, x->ts);
    if (auth && len >= TW_STAMP_AUTH_BASE_LEN)
        tw_stamp_hmac_put(&c->sc, c->req, len);
    struct icmp_note note = {x->icmp, sizeof x->icmp};
    int64_t deadline = tw_mono_now() + c->t->timeout_ns;
    tw_info("check: %zu-octet request, sequence %" PRIu32, len, seq);
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "sent", c->req, len);
    for (int tries = 0;; tries++) {
        if (sendto(c->fd, c->req, len, 0, (const struct sockaddr *)&c->cfg->target,
                   c->cfg->target_len) == (ssize_t)len)
            break;
        int e = errno;
        tw_errqueue_read(c->fd, NULL, on_icmp, &note);
        if (tries < 2 && (e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
                          e == EAGAIN || e == EINTR))
            continue;
        if (!x->icmp[0])
            snprintf(x->icmp, sizeof x->icmp, "cannot send: %s", strerror(e));
        return;
    }
    x->icmp[0] = 0;
    const struct layout *L = layout_of(kind);
    for (;;) {
        int64_t left = deadline - tw_mono_now();
        if (left <= 0)
            return;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)((left + TW_NS_PER_MS - 1) / TW_NS_PER_MS));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return;
        if (pfd.revents & POLLERR) {
            tw_errqueue_read(c->fd, NULL, on_icmp, &note);
            if (x->icmp[0])
                return;
        }
        if (!(pfd.revents & POLLIN))
            continue;
        union {
            struct cmsghdr align;
            uint8_t b[512];
        } ctl;
        tw_pkt_t p;
        memset(&p, 0, sizeof p);
        struct iovec iov = {.iov_base = c->rep, .iov_len = sizeof c->rep};
        struct msghdr mh = {.msg_name = &p.peer,
                            .msg_namelen = sizeof p.peer,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = sizeof ctl.b};
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
        if (n < 0)
            continue;
        tw_rx_cmsgs_parse(&mh, &p);
        size_t rl = (size_t)n;
        c->t->answered++;
        if (tw_log_on(TW_LOG_DEBUG))
            tw_log_hex(TW_LOG_DEBUG, "received", c->rep, rl);
        if (rl >= L->sseq + 4 && tw_get32(c->rep + L->sseq) != seq)
            continue; /* a late reply to an earlier request */
        x->replied = true;
        x->rep_len = rl;
        tw_info("check: %zu-octet reply to sequence %" PRIu32, rl, seq);
        x->t4 = p.rx_time ? p.rx_time : tw_now();
        x->from_target = same_addr(&p.peer, &c->cfg->target);
        tw_addr_unmap(&p.peer);
        tw_addr_str((struct sockaddr *)&p.peer, x->from, sizeof x->from);
        if (auth)
            x->hmac_ok = tw_stamp_hmac_check(&c->sc, c->rep, rl) == 0;
        uint16_t rerr = rl >= L->errest + 2 ? tw_get16(c->rep + L->errest) : 0;
        if (c->same_host) {
            x->synced = true;
        } else if (c->our_sync && (rerr & 0x8000)) {
            tw_errest_t e = tw_errest_decode(rerr);
            x->synced = true;
            x->clock_err_ns = c->our_err_ns + tw_errest_to_ns(&e);
        }
        c->rep_tos = p.tos; /* the reply's TOS, for the Class of Service test */
        return;
    }
}

/* A request of len octets in c->req: TWAMP light with pseudo-random padding
 * (RFC 4656 §4.1.2 recommends it; it also tells an auto-detecting reflector
 * that this is not STAMP), STAMP (an Extra Padding TLV past 44), or
 * authenticated STAMP (an Extra Padding TLV past 112). */
static size_t build(struct ctx *c, int kind, size_t len, uint32_t seq, uint16_t ssid)
{
    tw_sender_pkt_t p = {.seq = seq, .errest = c->errest, .ssid = ssid};
    memset(c->req, 0, len);
    if (kind == TW_CHECK_KIND_TWAMP) {
        if (tw_sender_encode(&p, false, c->req, len) < 0)
            return 0;
        /* Octets 14..15 zero: a STAMP reflector reads them as the SSID and
         * returns them where TWAMP has MBZ (RFC 8762 §4.6). */
        for (size_t i = TW_SENDER_MIN_LEN + 2; i < len; i++)
            c->req[i] = rnd8(c);
    } else if (kind == TW_CHECK_KIND_STAMP) {
        if (tw_sender_encode(&p, true, c->req, len) < 0)
            return 0;
    } else if (tw_sender_encode_auth(&p, true, c->req, len) < 0) {
        return 0;
    }
    return len;
}

static void run(struct ctx *c, tw_check_xchg_t *x, int kind, size_t len, uint16_t ssid)
{
    uint32_t seq = c->seq++;
    if (!build(c, kind, len, seq, ssid)) {
        memset(x, 0, sizeof *x);
        snprintf(x->icmp, sizeof x->icmp, "internal error: cannot build a %zu-octet request", len);
        return;
    }
    exchange(c, x, kind, len, seq, ssid);
}

static void track_excess(struct ctx *c, const tw_check_xchg_t *x)
{
    if (!x->replied)
        return;
    /* A STAMP reflector answers a shorter TWAMP light request with its
     * 44-octet base packet (RFC 8762 §4.6). */
    size_t base = x->kind == TW_CHECK_KIND_TWAMP ? TW_STAMP_BASE_LEN : base_len(x->kind);
    size_t bound = x->req_len > base ? x->req_len : base;
    if (x->rep_len > bound && x->rep_len - bound > c->max_excess) {
        c->max_excess = x->rep_len - bound;
        snprintf(c->excess_seen, sizeof c->excess_seen, "%zu octets to a %zu-octet request",
                 x->rep_len, x->req_len);
    }
}

static void tlv_row(struct ctx *c, const char *name, const tw_check_xchg_t *x, size_t off,
                    const uint8_t *tlv, size_t tlvlen, int which)
{
    tw_check_table_t *t = c->t;
    static const char *const exp[] = {
        "returned with U cleared, Type, Length and Value unchanged",
        "returned with U set, Type, Length and Value unchanged",
        "returned with M set and the rest of the packet copied",
        "returned with U cleared and DSCP2 = the DSCP sent",
    };
    const char *cl = which == 0 ? "RFC 8972 §4, §4.1" : which == 3 ? "RFC 8972 §4.4" : CL_TLV;
    if (!x->replied) {
        no_reply(t, name, cl, exp[which], x);
        return;
    }
    if (x->rep_len < off || tw_get32(x->rep + (off == 44 ? 24 : 48)) != x->seq) {
        tw_check_add(t, TW_CHECK_FAIL, name, cl, exp[which],
                     "%zu octets: not a base STAMP reply to the request", x->rep_len);
        return;
    }
    if (x->rep_len < off + tlvlen) {
        tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                     "TLVs not processed: a %zu-octet reply to a %zu-octet request", x->rep_len,
                     off + tlvlen);
        return;
    }
    const uint8_t *r = x->rep + off;
    bool rest_same = memcmp(r + 1, tlv + 1, tlvlen - 1) == 0;
    uint8_t fl = r[0];
    switch (which) {
    case 0: /* Extra Padding */
        if (rest_same && fl == 0)
            tw_check_add(t, TW_CHECK_PASS, name, cl, exp[which], "U cleared, value unchanged");
        else if (rest_same && fl == TW_TLV_FLAG_U)
            tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                         "TLVs not processed: returned with U set (not recognized)");
        else
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp[which], "flags 0x%02x Type %u Length %u%s",
                         fl, r[1], tw_get16(r + 2), rest_same ? "" : ", value changed");
        break;
    case 1: /* unknown type */
        if (rest_same && fl == TW_TLV_FLAG_U)
            tw_check_add(t, TW_CHECK_PASS, name, cl, exp[which], "U set, value unchanged");
        else
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp[which], "flags 0x%02x Type %u Length %u%s",
                         fl, r[1], tw_get16(r + 2), rest_same ? "" : ", value changed");
        break;
    case 2: /* malformed */
        if (rest_same && (fl & TW_TLV_FLAG_M))
            tw_check_add(t, TW_CHECK_PASS, name, cl, exp[which], "M set, the rest copied");
        else if (rest_same && fl == tlv[0])
            tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                         "TLVs not processed: returned unchanged, M not set");
        else
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp[which], "flags 0x%02x Type %u Length %u%s",
                         fl, r[1], tw_get16(r + 2), rest_same ? "" : ", the rest not copied");
        break;
    default: { /* Class of Service: DSCP1(6) DSCP2(6) ECN(2) RP(2) Reserved(16) */
        int dscp1 = r[4] >> 2, dscp2 = ((r[4] & 3) << 4) | (r[5] >> 4), rp = r[5] & 3;
        if (fl & TW_TLV_FLAG_U) {
            tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                         "TLVs not processed: returned with U set; the DSCP the reflector "
                         "received is not known");
        } else if (r[1] != 4 || tw_get16(r + 2) != 4) {
            tw_check_add(t, TW_CHECK_FAIL, name, cl, exp[which], "Type %u Length %u", r[1],
                         tw_get16(r + 2));
        } else if (dscp2 != c->cos_dscp) {
            tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                         "DSCP2 %d: the DSCP %d sent arrived as %d (re-marked on the way?)", dscp2,
                         c->cos_dscp, dscp2);
        } else {
            int rdscp = c->rep_tos >= 0 ? c->rep_tos >> 2 : -1;
            if (rp == 0 && rdscp >= 0 && rdscp != dscp1)
                tw_check_add(t, TW_CHECK_WARN, name, cl, exp[which],
                             "DSCP2 %d as sent, RP 0, but the reply's DSCP is %d, not DSCP1 %d",
                             dscp2, rdscp, dscp1);
            else
                tw_check_add(t, TW_CHECK_PASS, name, cl, exp[which],
                             "DSCP2 %d as sent; RP %d; reply DSCP %d", dscp2, rp, rdscp);
        }
        break;
    }
    }
}

/* Send a STAMP request of 44 octets followed by the TLV octets tlv[0..tlvlen)
 * and judge what comes back. */
static void tlv_test(struct ctx *c, const char *name, const uint8_t *tlv, size_t tlvlen, int which)
{
    tw_check_xchg_t x;
    uint32_t seq = c->seq++;
    size_t off = TW_STAMP_BASE_LEN;
    build(c, TW_CHECK_KIND_STAMP, off, seq, c->cfg->ssid ? c->cfg->ssid : 0x7a11);
    memcpy(c->req + off, tlv, tlvlen);
    exchange(c, &x, TW_CHECK_KIND_STAMP, off + tlvlen, seq, c->cfg->ssid ? c->cfg->ssid : 0x7a11);
    track_excess(c, &x);
    tlv_row(c, name, &x, off, tlv, tlvlen, which);
}

/* Packets that deserve no reply, then a marker request: how many replies came
 * before the marker's. Returns -1 when the marker got none. */
static int silence(struct ctx *c, int kind, const uint8_t *const *pkts, const size_t *lens, int n,
                   size_t *maxlen)
{
    drain(c);
    for (int i = 0; i < n; i++)
        if (sendto(c->fd, pkts[i], lens[i], 0, (const struct sockaddr *)&c->cfg->target,
                   c->cfg->target_len) < 0)
            drain(c); /* an ICMP error of the previous one */
    uint32_t seq = c->seq++;
    size_t len = kind == TW_CHECK_KIND_TWAMP ? TW_REFLECTOR_BASE_LEN : base_len(kind);
    build(c, kind, len, seq, c->cfg->ssid ? c->cfg->ssid : 0x7a11);
    /* The marker right behind them (exchange() would drain their replies). */
    int64_t deadline = tw_mono_now() + c->t->timeout_ns;
    {
        int others = 0;
        size_t omax = 0;
        bool auth = kind == TW_CHECK_KIND_STAMP_AUTH;
        uint64_t ts = tw_time_to_ntp(tw_now());
        tw_put64(c->req + (auth ? 16 : 4), ts);
        if (auth)
            tw_stamp_hmac_put(&c->sc, c->req, len);
        if (sendto(c->fd, c->req, len, 0, (const struct sockaddr *)&c->cfg->target,
                   c->cfg->target_len) != (ssize_t)len)
            return -1;
        const struct layout *L = layout_of(kind);
        for (;;) {
            int64_t left = deadline - tw_mono_now();
            if (left <= 0)
                return -1;
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            int pr = poll(&pfd, 1, (int)((left + TW_NS_PER_MS - 1) / TW_NS_PER_MS));
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr <= 0)
                return -1;
            if (pfd.revents & POLLERR)
                drain(c);
            if (!(pfd.revents & POLLIN))
                continue;
            ssize_t r = recv(c->fd, c->rep, sizeof c->rep, MSG_DONTWAIT);
            if (r < 0)
                continue;
            c->t->answered++;
            /* The marker's reply, or one too short to say whose it is. */
            if ((size_t)r < L->sseq + 4 || tw_get32(c->rep + L->sseq) == seq) {
                *maxlen = omax;
                return others;
            }
            others++;
            if ((size_t)r > omax)
                omax = (size_t)r;
        }
    }
}

static void reflector_battery(struct ctx *c)
{
    tw_check_table_t *t = c->t;
    const tw_check_cfg_t *cfg = c->cfg;
    uint16_t ssid = cfg->ssid ? cfg->ssid : 0x7a11;
    int fam = cfg->target.ss_family;
    size_t ipudp = fam == AF_INET6 ? 48 : 28;
    size_t mtu_len = (size_t)(cfg->mtu ? cfg->mtu : 1500) - ipudp;
    if (mtu_len > TW_MAX_PACKET_LEN)
        mtu_len = TW_MAX_PACKET_LEN;
    int kind0 = c->auth                                ? TW_CHECK_KIND_STAMP_AUTH
                : cfg->format == TW_CHECK_FORMAT_STAMP ? TW_CHECK_KIND_STAMP
                                                       : TW_CHECK_KIND_TWAMP;
    tw_check_xchg_t x;
    /* 1. One request of the base size, judged field by field. */
    run(c, &x, kind0, kind0 == TW_CHECK_KIND_TWAMP ? TW_REFLECTOR_BASE_LEN : base_len(kind0), ssid);
    tw_check_judge_basic(t, &x);
    if (!x.replied) {
        tw_check_add(t, TW_CHECK_FAIL, "remaining tests", "-", "a reflector that answers",
                     "not run: no reply to the first request");
        return;
    }
    track_excess(c, &x);

    /* 2. Request lengths. */
    static const size_t twamp_lens[] = {14, 40, 41, 44, 45, 100, 1000, 0};
    static const size_t stamp_lens[] = {44, 48, 100, 1000, 0};
    static const size_t auth_lens[] = {112, 116, 200, 1000, 0};
    const size_t *lens = kind0 == TW_CHECK_KIND_TWAMP   ? twamp_lens
                         : kind0 == TW_CHECK_KIND_STAMP ? stamp_lens
                                                        : auth_lens;
    for (int i = 0;; i++) {
        size_t len = lens[i] ? lens[i] : mtu_len;
        run(c, &x, kind0, len, ssid);
        tw_check_judge_length(t, &x);
        track_excess(c, &x);
        if (!lens[i])
            break;
    }

    /* 3. STAMP on a reflector that takes both formats. */
    if (cfg->format == TW_CHECK_FORMAT_BOTH && !c->auth) {
        run(c, &x, TW_CHECK_KIND_STAMP, TW_STAMP_BASE_LEN, ssid);
        track_excess(c, &x);
        if (!x.replied)
            no_reply(t, "STAMP reply", CL_STAMP, "a 44-octet STAMP reply", &x);
        else if (x.rep_len != TW_STAMP_BASE_LEN)
            tw_check_add(t, TW_CHECK_FAIL, "STAMP reply", CL_STAMP, "a 44-octet STAMP reply",
                         "%zu octets", x.rep_len);
        else
            tw_check_add(t, TW_CHECK_PASS, "STAMP reply", CL_STAMP, "a 44-octet STAMP reply",
                         "44 octets");
        if (x.replied) {
            tw_reflector_pkt_t r;
            decode_reply(&x, &r);
            if (x.rep_len >= 16 && r.ssid == ssid)
                tw_check_add(t, TW_CHECK_PASS, "SSID", CL_SSID, "the request's SSID copied",
                             "0x%04x", r.ssid);
            else
                tw_check_add(t, TW_CHECK_FAIL, "SSID", CL_SSID, "the request's SSID copied",
                             "0x%04x (sent 0x%04x)", r.ssid, ssid);
            judge_echo(t, "STAMP echoed fields", &x, &r);
        }
    }

    /* 4. TLVs (RFC 8972 §4): a Session-Sender sends them with U set. */
    if (cfg->format != TW_CHECK_FORMAT_TWAMP && !c->auth) {
        uint8_t tlv[32];
        tlv[0] = TW_TLV_FLAG_U;
        tlv[1] = TW_TLV_EXTRA_PADDING;
        tw_put16(tlv + 2, 12);
        for (int i = 0; i < 12; i++)
            tlv[4 + i] = rnd8(c);
        tlv_test(c, "TLV Extra Padding", tlv, 16, 0);
        tlv[1] = 250; /* Experimental Use (240-251): no reflector can know it */
        tw_put16(tlv + 2, 4);
        tlv_test(c, "TLV unknown type", tlv, 8, 1);
        tlv[1] = TW_TLV_EXTRA_PADDING;
        tw_put16(tlv + 2, 100); /* a Length past the end of the packet */
        tlv_test(c, "TLV malformed", tlv, 12, 2);
        tlv[1] = 4; /* Class of Service (RFC 8972 §4.4) */
        tw_put16(tlv + 2, 4);
        memset(tlv + 4, 0, 4);
        tlv[4] = (uint8_t)(c->cos_dscp << 2); /* DSCP1: the reply's wish; DSCP2, ECN, RP 0 */
        set_tos(c, c->cos_dscp << 2);
        tlv_test(c, "TLV Class of Service", tlv, 8, 3);
        set_tos(c, c->dscp << 2);
    }

    /* 5. Datagrams that get no reply: shorter than 14 octets, and (keyed) a
     * wrong HMAC and an unauthenticated request. */
    {
        uint8_t shorts[14][14];
        const uint8_t *pk[14];
        size_t ln[14];
        for (int i = 0; i < 14; i++) {
            memset(shorts[i], 0, 14);
            if (i >= 4)
                tw_put32(shorts[i], 0xffff0000u | (uint32_t)i);
            pk[i] = shorts[i];
            ln[i] = (size_t)i;
        }
        size_t mx = 0;
        int got = silence(c, kind0, pk, ln, 14, &mx);
        const char *cl = "RFC 8762 §4.6, RFC 4656 §4.1.2";
        const char *exp = "no reply to 0..13 octets (no Sequence Number, Timestamp, Error "
                          "Estimate to echo)";
        if (got < 0)
            tw_check_add(t, TW_CHECK_FAIL, "datagrams < 14 octets", cl, exp,
                         "the request sent after them got no reply");
        else if (got == 0)
            tw_check_add(t, TW_CHECK_PASS, "datagrams < 14 octets", cl, exp, "no reply to any");
        else
            tw_check_add(t, TW_CHECK_WARN, "datagrams < 14 octets", cl, exp,
                         "%d replies of up to %zu octets: an amplifier for spoofed sources", got,
                         mx);
    }
    if (c->auth) {
        uint32_t seq = c->seq++;
        uint8_t bad[TW_STAMP_AUTH_BASE_LEN];
        build(c, TW_CHECK_KIND_STAMP_AUTH, TW_STAMP_AUTH_BASE_LEN, seq, ssid);
        tw_put64(c->req + 16, tw_time_to_ntp(tw_now()));
        tw_stamp_hmac_put(&c->sc, c->req, TW_STAMP_AUTH_BASE_LEN);
        c->req[TW_STAMP_HMAC_OFF] ^= 0x5a;
        memcpy(bad, c->req, sizeof bad);
        const uint8_t *pk[1] = {bad};
        size_t ln[1] = {sizeof bad}, mx = 0;
        int got = silence(c, kind0, pk, ln, 1, &mx);
        const char *exp = "a request whose HMAC does not verify is dropped";
        if (got < 0)
            tw_check_add(t, TW_CHECK_FAIL, "wrong HMAC", "RFC 8762 §4.4", exp,
                         "the request sent after it got no reply");
        else
            tw_check_add(t, got ? TW_CHECK_FAIL : TW_CHECK_PASS, "wrong HMAC", "RFC 8762 §4.4", exp,
                         got ? "answered" : "dropped");
        uint8_t open[TW_STAMP_BASE_LEN];
        build(c, TW_CHECK_KIND_STAMP, TW_STAMP_BASE_LEN, c->seq++, ssid);
        tw_put64(c->req + 4, tw_time_to_ntp(tw_now()));
        memcpy(open, c->req, sizeof open);
        pk[0] = open;
        ln[0] = sizeof open;
        got = silence(c, kind0, pk, ln, 1, &mx);
        exp = "an unauthenticated request to a keyed reflector is dropped";
        if (got < 0)
            tw_check_add(t, TW_CHECK_FAIL, "unauthenticated request", "RFC 8762 §4.4", exp,
                         "the request sent after it got no reply");
        else
            tw_check_add(t, got ? TW_CHECK_WARN : TW_CHECK_PASS, "unauthenticated request",
                         "RFC 8762 §4.4", exp, got ? "answered" : "dropped");
    }

    /* 6. The reflector's sequence numbers, then the sender's starting over. */
    {
        uint32_t sseq[3], rseq[3];
        int n = 0;
        for (int i = 0; i < 3; i++) {
            run(c, &x, kind0, kind0 == TW_CHECK_KIND_TWAMP ? 41 : base_len(kind0), ssid);
            if (x.replied && x.rep_len >= 4) {
                sseq[n] = x.seq;
                rseq[n] = tw_get32(x.rep);
                n++;
            }
        }
        tw_check_judge_sequence(t, sseq, rseq, n);
        uint32_t keep = c->seq;
        c->seq = 0;
        run(c, &x, kind0, kind0 == TW_CHECK_KIND_TWAMP ? 41 : base_len(kind0), ssid);
        c->seq = keep;
        const char *exp = "answered (a sender starting over at 0)";
        if (!x.replied)
            no_reply(t, "sequence 0 again", "RFC 8762 §4.3.1", exp, &x);
        else if (x.rep_len >= 4)
            tw_check_add(t, TW_CHECK_PASS, "sequence 0 again", "RFC 8762 §4.3.1", exp,
                         "answered, reflector sequence %" PRIu32 "%s", tw_get32(x.rep),
                         tw_get32(x.rep) == 0 ? " (restarted)" : "");
        else
            tw_check_add(t, TW_CHECK_FAIL, "sequence 0 again", "RFC 8762 §4.3.1", exp, "%zu octets",
                         x.rep_len);
    }

    /* 7. Amplification, over every reply of the battery. */
    {
        const char *exp = "no reply longer than max(request, 41 / 44 / 112)";
        if (c->max_excess)
            tw_check_add(t, TW_CHECK_FAIL, "amplification", "RFC 8762 §4.3, §4.6", exp, "%s",
                         c->excess_seen);
        else
            tw_check_add(t, TW_CHECK_PASS, "amplification", "RFC 8762 §4.3, §4.6", exp,
                         "none longer");
    }

    /* 8. Still there after all the malformed input. */
    run(c, &x, kind0, kind0 == TW_CHECK_KIND_TWAMP ? 41 : base_len(kind0), ssid);
    if (x.replied)
        tw_check_add(t, TW_CHECK_PASS, "still answering", base_clause(kind0),
                     "answers after short, malformed and unknown input", "%zu octets", x.rep_len);
    else
        no_reply(t, "still answering", base_clause(kind0),
                 "answers after short, malformed and unknown input", &x);
}

int tw_check_reflector(const tw_check_cfg_t *cfg, tw_check_table_t *t, char *err, size_t errlen)
{
    char a[TW_ADDRSTRLEN];
    tw_addr_str((const struct sockaddr *)&cfg->target, a, sizeof a);
    int64_t timeout = cfg->timeout_ns > 0 ? cfg->timeout_ns : 2 * TW_NS_PER_SEC;
    tw_check_table_init(t, "reflector", a, timeout);
    struct ctx *c = calloc(1, sizeof *c); /* 18 kB of buffers: not on the stack */
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->cfg = cfg;
    c->t = t;
    c->ttl = cfg->ttl ? cfg->ttl : 64;
    c->dscp = cfg->dscp >= 0 ? cfg->dscp : 0;
    c->cos_dscp = cfg->dscp >= 0 ? cfg->dscp : 46;
    c->same_host = tw_addr_is_local((const struct sockaddr *)&cfg->target);
    tw_errest_t e = tw_clock_errest(false);
    c->errest = tw_errest_encode(&e);
    c->our_sync = e.sync;
    c->our_err_ns = tw_errest_to_ns(&e);
    c->seq = 1;
    c->rnd = (uint64_t)tw_now() | 1;
    c->auth = cfg->stamp_key != NULL;
    const char *fmt = c->auth                                ? "authenticated STAMP"
                      : cfg->format == TW_CHECK_FORMAT_TWAMP ? "TWAMP light"
                      : cfg->format == TW_CHECK_FORMAT_STAMP ? "STAMP"
                                                             : "TWAMP light and STAMP";
    snprintf(t->title, sizeof t->title, "twampy check: %s reflector %s (%s, %g s per test)", fmt, a,
             c->same_host ? "on this host" : "remote", (double)timeout / 1e9);
    if (c->auth && tw_stamp_crypto_init(&c->sc, cfg->stamp_key, cfg->stamp_key_len) < 0) {
        snprintf(err, errlen, "cannot set up the STAMP HMAC key");
        free(c);
        return -1;
    }
    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    local.ss_family = cfg->target.ss_family;
    tw_sockopts_t so = {.tos = c->dscp << 2, .ttl = c->ttl, .recv_tos = true};
    c->fd = tw_udp_open((struct sockaddr *)&local, tw_addr_len(&local), &so, err, errlen);
    if (c->fd < 0) {
        tw_stamp_crypto_free(&c->sc);
        free(c);
        return -1;
    }
    tw_icmp_errors_enable(c->fd);
    reflector_battery(c);
    close(c->fd);
    tw_stamp_crypto_free(&c->sc);
    free(c);
    return 0;
}
