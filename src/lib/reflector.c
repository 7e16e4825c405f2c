#include "reflector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "ntptime.h"
#include "wire.h"

/* Receive buffer per packet: the largest test packet plus room to see it is larger. */
#define RX_BUFSIZE TW_RX_BUFSIZE

/* Per-sender state: a fixed pool, a hash index and a recency list, so that a
 * flood of source ports costs no memory beyond max_senders entries. */
struct sender_key {
    uint8_t addr[16];
    uint16_t port;
    uint16_t ssid;
    uint8_t family;
};

struct sender_state {
    struct sender_key key;
    uint32_t next_seq;
    int64_t last_seen;                  /* tw_mono_now() */
    struct sender_state *hnext;         /* hash chain */
    struct sender_state *older, *newer; /* recency list */
    bool used;
};

/* The format a reflector checks and answers. */
enum fmt {
    FMT_OPEN,       /* TWAMP light, STAMP, TWAMP mode 1 and 8 */
    FMT_TWAMP_AUTH, /* TWAMP modes 2 and 4: 48-octet requests, 112-octet replies */
    FMT_STAMP_AUTH, /* authenticated STAMP: 112 octets both ways */
};

struct tw_reflector {
    tw_reflector_cfg_t cfg;
    enum fmt fmt;
    uint32_t test_mode; /* FMT_TWAMP_AUTH: TW_MODE_AUTHENTICATED or _ENCRYPTED */
    tw_test_crypto_t tc;
    tw_stamp_crypto_t sc;
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_batch_t *batch;
    bool own_batch;
    int tai; /* TAI - UTC, for PTP timestamps */
    bool active;
    tw_reflector_counters_t ctr;
    struct sender_state *pool;
    struct sender_state **hash;
    uint32_t hash_mask;
    uint32_t used;
    struct sender_state *oldest, *newest;
    /* The clock's Error Estimate, refreshed once a second, not per packet. */
    uint16_t errest;
    int64_t errest_at;
    uint32_t seq_out[TW_BATCH]; /* reflector sequence numbers of the batch */
};

static void key_of(const struct sockaddr_storage *ss, uint16_t ssid, struct sender_key *k)
{
    memset(k, 0, sizeof *k);
    k->ssid = ssid;
    k->family = (uint8_t)ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        memcpy(k->addr, &s->sin_addr, 4);
        k->port = s->sin_port;
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        memcpy(k->addr, &s->sin6_addr, 16);
        k->port = s->sin6_port;
    }
}

static uint32_t key_hash(const struct sender_key *k)
{
    /* FNV-1a over the key octets. */
    const uint8_t *p = (const uint8_t *)k;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void list_unlink(tw_reflector_t *r, struct sender_state *s)
{
    if (s->older)
        s->older->newer = s->newer;
    else
        r->oldest = s->newer;
    if (s->newer)
        s->newer->older = s->older;
    else
        r->newest = s->older;
    s->older = s->newer = NULL;
}

static void list_push_newest(tw_reflector_t *r, struct sender_state *s)
{
    s->older = r->newest;
    s->newer = NULL;
    if (r->newest)
        r->newest->newer = s;
    r->newest = s;
    if (!r->oldest)
        r->oldest = s;
}

static void hash_remove(tw_reflector_t *r, struct sender_state *s)
{
    struct sender_state **pp = &r->hash[key_hash(&s->key) & r->hash_mask];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == s) {
            *pp = s->hnext;
            break;
        }
    }
    s->hnext = NULL;
}

/* The state of this sender, made (or recycled from the least recent) if new.
 * *fresh tells the caller that the counter starts at 0. */
static struct sender_state *sender_lookup(tw_reflector_t *r, const struct sender_key *k,
                                          bool *fresh)
{
    uint32_t b = key_hash(k) & r->hash_mask;
    for (struct sender_state *s = r->hash[b]; s; s = s->hnext) {
        if (memcmp(&s->key, k, sizeof *k) == 0) {
            list_unlink(r, s);
            list_push_newest(r, s);
            *fresh = false;
            return s;
        }
    }
    struct sender_state *s;
    if (r->used < r->cfg.max_senders) {
        s = &r->pool[r->used++];
    } else {
        s = r->oldest;
        hash_remove(r, s);
        list_unlink(r, s);
        r->ctr.senders_evicted++;
    }
    s->key = *k;
    s->next_seq = 0;
    s->used = true;
    s->hnext = r->hash[b];
    r->hash[b] = s;
    list_push_newest(r, s);
    *fresh = true;
    return s;
}

/* The same IP address (an IPv4-mapped IPv6 address equals its IPv4 form). */
static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    struct sockaddr_storage ua = *a, ub = *b;
    tw_addr_unmap(&ua);
    tw_addr_unmap(&ub);
    struct sender_key ka, kb;
    key_of(&ua, 0, &ka);
    key_of(&ub, 0, &kb);
    return ka.family == kb.family && !memcmp(ka.addr, kb.addr, 16);
}

static uint16_t clock_errest(tw_reflector_t *r, int64_t mono)
{
    if (!r->errest_at || mono - r->errest_at > TW_NS_PER_SEC) {
        tw_errest_t e = tw_clock_errest(false);
        r->errest = tw_errest_encode(&e);
        r->errest_at = mono;
    }
    return r->errest;
}

static void next_seq(tw_reflector_t *r, const tw_pkt_t *p, int64_t mono, const tw_sender_pkt_t *req,
                     uint32_t *seq_out);
static bool prepare_auth_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, uint32_t *seq_out,
                               tw_sender_pkt_t *req);

/* First pass over one request: check it, pick the reflector's sequence number and
 * prepare the reply's length and trailer in place. Returns false to drop it. */
static bool prepare_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, uint32_t *seq_out,
                          tw_sender_pkt_t *req)
{
    r->ctr.received++;
    if (!r->active) {
        r->ctr.inactive++;
        return false;
    }
    if (!tw_acl_allows(r->cfg.allow, (struct sockaddr *)&p->peer)) {
        r->ctr.denied++;
        return false;
    }
    if (r->cfg.only_from.ss_family != AF_UNSPEC && !same_host(&r->cfg.only_from, &p->peer)) {
        r->ctr.foreign++;
        if (tw_log_on(TW_LOG_INFO)) {
            char a[TW_ADDRSTRLEN];
            tw_info("Dropped a packet from %s: not this session's sender",
                    tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a));
        }
        return false;
    }
    if (p->trunc)
        r->ctr.truncated++;
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "received", p->buf, p->len);
    if (r->fmt != FMT_OPEN)
        return prepare_auth_reply(r, p, mono, seq_out, req);
    if (tw_sender_decode(p->buf, p->len, req) != TW_WIRE_OK) {
        r->ctr.too_short++;
        if (tw_log_on(TW_LOG_INFO)) {
            char a[TW_ADDRSTRLEN];
            tw_info("Dropped %zu-octet packet from %s (shorter than %d octets)", p->len,
                    tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), TW_SENDER_MIN_LEN);
        }
        return false;
    }
    bool stamp = p->len >= TW_STAMP_BASE_LEN;
    if (!stamp)
        req->ssid = 0;
    next_seq(r, p, mono, req, seq_out);
    size_t rlen = tw_reflect_len(p->len, p->cap);
    if (p->len < rlen)
        memset(p->buf + p->len, 0, rlen - p->len);
    if (stamp && p->len > TW_STAMP_BASE_LEN &&
        tw_tlv_chain_valid(p->buf, TW_STAMP_BASE_LEN, p->len))
        tw_tlv_reflect(p->buf, p->buf, TW_STAMP_BASE_LEN, p->len);
    if (rlen >= TW_STAMP_BASE_LEN)
        memset(p->buf + TW_REFLECTOR_BASE_LEN, 0, TW_STAMP_BASE_LEN - TW_REFLECTOR_BASE_LEN);
    p->len = rlen;
    return true;
}

/* The reflector's sequence number for this request: the sender's own when
 * stateless, else the next of its sender (address, port, SSID). */
static void next_seq(tw_reflector_t *r, const tw_pkt_t *p, int64_t mono, const tw_sender_pkt_t *req,
                     uint32_t *seq_out)
{
    if (r->cfg.stateless) {
        *seq_out = req->seq;
    } else {
        struct sender_key k;
        key_of(&p->peer, req->ssid, &k);
        bool fresh;
        struct sender_state *s = sender_lookup(r, &k, &fresh);
        if (!fresh && mono - s->last_seen > r->cfg.idle_reset_ns) {
            tw_info("reset rseq:=0   (session timeout, %llds)",
                    (long long)(r->cfg.idle_reset_ns / TW_NS_PER_SEC));
            s->next_seq = 0;
        } else if (!fresh && req->seq == 0) {
            tw_info("reset rseq:=0   (received sseq==0)");
            s->next_seq = 0;
        } else if (fresh) {
            tw_info("set rseq:=0     (new remote address/port)");
        }
        s->last_seen = mono;
        *seq_out = s->next_seq++;
    }
}

/* The protected formats' first pass: the request must be long enough for its
 * format and pass its HMAC check (in encrypted mode it is decrypted then)
 * before anything in it is read; a request that fails is counted and dropped.
 * The reply's length: TWAMP max(request, 112) (RFC 5357 §4.2.1: the 112-octet
 * format, its padding cut by what the longer header takes), STAMP the request's
 * (>= 112, TLVs from 112 reflected). */
static bool prepare_auth_reply(tw_reflector_t *r, tw_pkt_t *p, int64_t mono, uint32_t *seq_out,
                               tw_sender_pkt_t *req)
{
    bool stamp = r->fmt == FMT_STAMP_AUTH;
    size_t min = stamp ? TW_STAMP_AUTH_BASE_LEN : TW_SENDER_AUTH_LEN;
    char a[TW_ADDRSTRLEN];
    if (p->len < min) {
        r->ctr.unauthenticated++;
        tw_info("Dropped %zu-octet packet from %s: shorter than the %zu-octet authenticated "
                "format",
                p->len, tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), min);
        return false;
    }
    int rc = stamp ? tw_stamp_hmac_check(&r->sc, p->buf, p->len)
                   : tw_test_sender_open(&r->tc, r->test_mode, p->buf, p->len);
    if (rc < 0) {
        r->ctr.integrity++;
        tw_info("Dropped %zu-octet packet from %s: %s", p->len,
                tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), tw_auth_strerror(rc));
        return false;
    }
    size_t rlen = p->len > p->cap ? p->cap : p->len;
    if (rlen < TW_REFLECTOR_AUTH_LEN) {
        if (p->cap < TW_REFLECTOR_AUTH_LEN)
            return false; /* no room for the reply (not with twampy's buffers) */
        memset(p->buf + rlen, 0, TW_REFLECTOR_AUTH_LEN - rlen);
        rlen = TW_REFLECTOR_AUTH_LEN;
    }
    tw_sender_decode_auth(p->buf, p->len, stamp, req);
    next_seq(r, p, mono, req, seq_out);
    if (stamp && rlen > TW_STAMP_AUTH_BASE_LEN &&
        tw_tlv_chain_valid(p->buf, TW_STAMP_AUTH_BASE_LEN, rlen))
        tw_tlv_reflect(p->buf, p->buf, TW_STAMP_AUTH_BASE_LEN, rlen);
    p->len = rlen;
    return true;
}

/* Second pass over one reply: the header with t3 read now. */
static void finish_reply(tw_reflector_t *r, tw_pkt_t *p, uint32_t seq, const tw_sender_pkt_t *req,
                         uint16_t errest, int tai)
{
    /* A sender that uses PTP timestamps (Z = 1, RFC 8186 / RFC 8762 §4.2.1)
     * gets them back in PTP format; otherwise NTP. */
    bool ptp = (req->errest & 0x4000) != 0;
    tw_reflector_pkt_t rep = {
        .seq = seq,
        .errest = (uint16_t)(ptp ? errest | 0x4000 : errest & ~0x4000),
        .ssid = req->ssid,
        .rx_time = ptp ? tw_time_to_ptp(p->rx_time, tai) : tw_time_to_ntp(p->rx_time),
        .sender_seq = req->seq,
        .sender_time = req->timestamp,
        .sender_errest = req->errest,
        .sender_ttl = (uint8_t)(p->ttl < 0 ? 0 : p->ttl),
    };
    if (r->fmt == FMT_OPEN) {
        tw_time_t t3 = tw_now();
        rep.timestamp = ptp ? tw_time_to_ptp(t3, tai) : tw_time_to_ntp(t3);
        tw_reflector_encode(&rep, p->len >= TW_STAMP_BASE_LEN, p->buf, p->len);
    } else {
        /* t3 goes under the HMAC (and, encrypted, under AES): it is read
         * right before the protection that has to include it. */
        bool stamp = r->fmt == FMT_STAMP_AUTH;
        tw_time_t t3 = tw_now();
        rep.timestamp = ptp ? tw_time_to_ptp(t3, tai) : tw_time_to_ntp(t3);
        tw_reflector_encode_auth(&rep, stamp, p->buf, p->len);
        int rc = stamp ? tw_stamp_hmac_put(&r->sc, p->buf, p->len)
                       : tw_test_reflector_protect(&r->tc, r->test_mode, p->buf, p->len);
        if (rc < 0) {
            tw_warn("cannot protect a reply: %s", tw_auth_strerror(rc));
            p->len = 0;
            return;
        }
    }
    if (tw_log_on(TW_LOG_INFO)) {
        char a[TW_ADDRSTRLEN];
        tw_info("Request from %s [sseq=%u rseq=%u ttl=%d outbound=%.2fms]",
                tw_addr_str((struct sockaddr *)&p->peer, a, sizeof a), req->seq, rep.seq, p->ttl,
                (double)(p->rx_time - tw_ntp_to_time(req->timestamp)) / 1e6);
    }
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "transmit", p->buf, p->len);
}

size_t tw_reflector_answer(tw_reflector_t *r, tw_pkt_t *p)
{
    int64_t mono = tw_mono_now();
    uint32_t seq;
    tw_sender_pkt_t req;
    if (!prepare_reply(r, p, mono, &seq, &req))
        return p->len = 0;
    finish_reply(r, p, seq, &req, clock_errest(r, mono), r->tai);
    return p->len;
}

/* Read and answer one batch: returns the number of datagrams read (0: none
 * waiting), or -1 on a receive error. */
static int serve_batch(tw_reflector_t *r)
{
    tw_sender_pkt_t req[TW_BATCH];
    int n = tw_recv_batch(r->fd, r->batch);
    if (n <= 0) {
        if (n < 0)
            tw_warn("reflector receive failed: %s", strerror(errno));
        return n;
    }
    int64_t mono = tw_mono_now();
    r->ctr.last_rx_mono = mono;
    uint16_t errest = clock_errest(r, mono);
    for (int i = 0; i < n; i++) {
        tw_pkt_t *p = tw_batch_pkt(r->batch, i);
        if (!prepare_reply(r, p, mono, &r->seq_out[i], &req[i]))
            p->len = 0;
    }
    /* Second pass: t3 as late as possible, right before the batch goes out. */
    for (int i = 0; i < n; i++) {
        tw_pkt_t *p = tw_batch_pkt(r->batch, i);
        if (p->len)
            finish_reply(r, p, r->seq_out[i], &req[i], errest, r->tai);
    }
    int want = 0;
    for (int i = 0; i < n; i++)
        want += tw_batch_pkt(r->batch, i)->len ? 1 : 0;
    int sent = tw_send_replies(r->fd, r->batch, n);
    if (sent < 0)
        sent = 0;
    r->ctr.reflected += (uint64_t)sent;
    if (sent < want) {
        r->ctr.send_errors += (uint64_t)(want - sent);
        tw_info("%d of %d replies could not be sent", want - sent, want);
    }
    return n;
}

static void on_readable(void *arg, uint32_t events)
{
    tw_reflector_t *r = arg;
    for (int rounds = 0; rounds < 16; rounds++) {
        int n = serve_batch(r);
        if (n < 0)
            return;
        if (n < TW_BATCH)
            break;
    }
}

int tw_reflector_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_loop_t *loop,
                      char *err, size_t errlen)
{
    tw_reflector_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->cfg = *cfg;
    if (!r->cfg.max_senders)
        r->cfg.max_senders = 1;
    if (!r->cfg.idle_reset_ns)
        r->cfg.idle_reset_ns = 30 * TW_NS_PER_SEC;
    r->loop = loop;
    r->cfg.stamp_key = NULL; /* not kept */
    if (cfg->stamp_key) {
        int rc = tw_stamp_crypto_init(&r->sc, cfg->stamp_key, cfg->stamp_key_len);
        if (rc < 0) {
            snprintf(err, errlen, "cannot set up the STAMP HMAC key: %s", tw_auth_strerror(rc));
            free(r);
            return -1;
        }
        r->fmt = FMT_STAMP_AUTH;
    }
    uint32_t hsize = 1;
    while (hsize < r->cfg.max_senders * 2 && hsize < (1u << 30))
        hsize <<= 1;
    r->hash_mask = hsize - 1;
    r->pool = calloc(r->cfg.max_senders, sizeof *r->pool);
    r->hash = calloc(hsize, sizeof *r->hash);
    r->active = !cfg->inactive;
    r->tai = tw_clock_tai_offset();
    r->batch = cfg->batch;
    if (!r->batch) {
        r->batch = tw_batch_new(TW_BATCH, RX_BUFSIZE);
        r->own_batch = true;
    }
    if (!r->pool || !r->hash || !r->batch) {
        snprintf(err, errlen, "out of memory");
        r->fd = -1;
        tw_reflector_close(r);
        return -1;
    }
    r->fd = tw_udp_open((const struct sockaddr *)&cfg->local, cfg->local_len, &cfg->sockopts, err,
                        errlen);
    if (r->fd < 0) {
        tw_reflector_close(r);
        return -1;
    }
    if (tw_loop_add(loop, &r->watch, r->fd, EPOLLIN, on_readable, r) < 0) {
        snprintf(err, errlen, "cannot watch the reflector socket: %s", strerror(errno));
        tw_reflector_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void tw_reflector_close(tw_reflector_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0) {
        tw_loop_del(r->loop, &r->watch);
        close(r->fd);
    }
    if (r->own_batch)
        tw_batch_free(r->batch);
    tw_test_crypto_free(&r->tc);
    tw_stamp_crypto_free(&r->sc);
    free(r->pool);
    free(r->hash);
    free(r);
}

int tw_reflector_set_security(tw_reflector_t *r, uint32_t mode, tw_test_crypto_t *t)
{
    if (!r || !t || !tw_mode_test_protected(mode) || r->fmt == FMT_STAMP_AUTH)
        return TW_AUTH_EINVAL;
    tw_test_crypto_free(&r->tc);
    r->tc = *t;
    memset(t, 0, sizeof *t);
    r->test_mode = mode;
    r->fmt = FMT_TWAMP_AUTH;
    return TW_AUTH_OK;
}

void tw_reflector_set_active(tw_reflector_t *r, bool active)
{
    r->active = active;
}

const tw_reflector_counters_t *tw_reflector_counters(const tw_reflector_t *r)
{
    return &r->ctr;
}

int tw_reflector_local(const tw_reflector_t *r, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(r->fd, (struct sockaddr *)ss, len);
}
