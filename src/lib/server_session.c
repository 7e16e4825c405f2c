/* server_session: the TWAMP server's test sessions: Request-TW-Session
 * checked against the limits, a reflector bound for it (port allocation),
 * Start-Sessions and Stop-Sessions, and each session's life until its
 * Timeout, orphans included. The connections are control_server.c's. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "addr.h"
#include "control_server_internal.h"
#include "log.h"
#include "ntptime.h"

static bool raw_is_zero(const uint8_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i])
            return false;
    return true;
}

/* The address in a Request-TW-Session field, or fallback when it is zero. */
static void req_addr(uint8_t ipvn, const uint8_t raw[16], const struct sockaddr_storage *fallback,
                     struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (raw_is_zero(raw, ipvn == 6 ? 16 : 4)) {
        *out = *fallback;
        tw_addr_set_port(out, 0);
        return;
    }
    if (ipvn == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, raw, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)out;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, raw, 4);
    }
}

/* Are a and b the same IP address (ports aside)? */
static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
    return false;
}

/* ---- sessions --------------------------------------------------------------- */

/* The datagrams a session's reflector read and did not answer. */
static uint64_t refl_dropped(const tw_reflector_counters_t *k)
{
    return k->inactive + k->foreign + k->too_short + k->unauthenticated + k->integrity + k->denied +
           k->rate_limited;
}

static void tally_list(const struct session *s, tw_ctrl_server_counters_t *c)
{
    for (; s; s = s->next) {
        if (!s->refl)
            continue;
        const tw_reflector_counters_t *k = tw_reflector_counters(s->refl);
        c->test_received += k->received;
        c->test_reflected += k->reflected;
        c->test_dropped += refl_dropped(k);
    }
}

/* Summed apart and stored whole: the metrics of another worker read these
 * while this runs, and must never see a sum half made (a counter that went
 * down). */
void tw_srv_tally(tw_ctrl_server_t *srv)
{
    tw_ctrl_server_counters_t c = {
        .test_received = srv->ended_received,
        .test_reflected = srv->ended_reflected,
        .test_dropped = srv->ended_dropped,
    };
    for (const struct conn *x = srv->conns; x; x = x->next)
        tally_list(x->sessions, &c);
    tally_list(srv->orphans, &c);
    TW_CTR_SET(srv->ctr.test_received, c.test_received);
    TW_CTR_SET(srv->ctr.test_reflected, c.test_reflected);
    TW_CTR_SET(srv->ctr.test_dropped, c.test_dropped);
}

void tw_srv_session_free(struct session *s)
{
    tw_ctrl_server_t *srv = s->srv;
    tw_timer_cancel(srv->loop, &s->timer);
    tw_timer_cancel(srv->loop, &s->start_timer);
    if (s->refl) {
        const tw_reflector_counters_t *k = tw_reflector_counters(s->refl);
        char auth[128] = "";
        uint64_t bad = k->unauthenticated + k->integrity;
        if (s->protected_test)
            snprintf(auth, sizeof auth, ", failed the integrity check %llu",
                     (unsigned long long)bad);
        tw_notice("%s: session %d (port %u) ended: %llu reflected, %llu dropped (not started "
                  "%llu, foreign sender %llu, too short %llu%s)",
                  s->owner, s->index, s->port, (unsigned long long)k->reflected,
                  (unsigned long long)(k->inactive + k->foreign + k->too_short + bad),
                  (unsigned long long)k->inactive, (unsigned long long)k->foreign,
                  (unsigned long long)k->too_short, auth);
        srv->ended_received += k->received;
        srv->ended_reflected += k->reflected;
        srv->ended_dropped += refl_dropped(k);
        tw_reflector_close(s->refl);
        s->refl = NULL;
    }
    srv_count_sessions(srv, -1);
    tw_srv_tally(srv);
    free(s);
    tw_srv_listener_resume(srv); /* a descriptor is free */
}

static void unlink_session(struct session **list, struct session *s)
{
    for (struct session **pp = list; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            s->next = NULL;
            return;
        }
    }
}

static void on_session_timeout(void *arg)
{
    struct session *s = arg;
    if (s->conn) {
        unlink_session(&s->conn->sessions, s);
        s->conn->nsessions--;
    } else {
        unlink_session(&s->srv->orphans, s);
    }
    tw_srv_session_free(s);
}

/* Stop a session: it keeps reflecting for its Timeout (late packets still in
 * flight), then goes. A session never started goes at once. */
static void session_stop(struct session *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    tw_timer_cancel(s->srv->loop, &s->start_timer); /* stopped before its Start Time */
    tw_timer_set(s->srv->loop, &s->timer, tw_mono_now() + (s->started ? s->timeout_ns : 0),
                 on_session_timeout, s);
}

/* The connection c is gone: its sessions outlive it by their Timeout (RFC 5357
 * §3.8), at most --max-orphan-time; a session never started goes at once. */
void tw_srv_sessions_orphan(struct conn *c)
{
    tw_ctrl_server_t *srv = c->srv;
    int64_t now = tw_mono_now(), cap = srv->cfg.max_orphan_time_ns;
    int capped = 0;
    while (c->sessions) {
        struct session *s = c->sessions;
        c->sessions = s->next;
        s->conn = NULL;
        s->next = srv->orphans;
        srv->orphans = s;
        /* A session never started goes at once. */
        int64_t left = s->started ? s->timeout_ns : 0;
        bool cut = left > cap;
        if (cut)
            left = cap;
        int64_t deadline = now + left;
        if (s->stopping && s->timer.armed && s->timer.deadline < deadline) {
            deadline = s->timer.deadline; /* already stopping: never later */
            cut = false;
        }
        capped += cut;
        s->stopping = true;
        tw_timer_cancel(srv->loop, &s->start_timer);
        tw_timer_set(srv->loop, &s->timer, deadline, on_session_timeout, s);
    }
    if (capped)
        tw_notice("%s: %d session%s reflect for %.0f s more, not their whole Timeout, now that "
                  "the connection is gone (--max-orphan-time)",
                  c->name, capped, capped == 1 ? "" : "s", (double)cap / 1e9);
}

int64_t tw_srv_sessions_last_rx(const struct conn *c, int64_t last)
{
    for (struct session *s = c->sessions; s; s = s->next) {
        int64_t t = tw_reflector_counters(s->refl)->last_rx_mono;
        if (t > last)
            last = t;
    }
    return last;
}

/* The ports a client may ask for: --port-range, else any unprivileged port
 * (clients such as the Python twampy's controller send to the port they asked
 * for, whatever Accept-Session says). */
static void port_range(const tw_ctrl_server_t *srv, uint16_t *lo, uint16_t *hi)
{
    *lo = srv->cfg.port_lo ? srv->cfg.port_lo : 1024;
    *hi = srv->cfg.port_lo ? srv->cfg.port_hi : 65535;
}

static int bind_session(tw_ctrl_server_t *srv, struct session *s, tw_reflector_cfg_t *rc,
                        uint16_t want, char *err, size_t errlen)
{
    /* The requested port first when it is one of ours (RFC 5357 §3.5: else
     * Accept-Session offers another), then the configured range, else the
     * kernel's choice from its ephemeral range. */
    uint16_t lo, hi;
    port_range(srv, &lo, &hi);
    if (want && want >= lo && want <= hi) {
        tw_addr_set_port(&rc->local, want);
        if (tw_reflector_open(&s->refl, rc, srv->loop, err, errlen) == 0)
            return 0;
    }
    if (srv->cfg.port_lo) {
        uint32_t span = (uint32_t)srv->cfg.port_hi - srv->cfg.port_lo + 1;
        for (uint32_t i = 0; i < span; i++) {
            uint16_t p = (uint16_t)(srv->cfg.port_lo + (srv->next_port + i) % span);
            tw_addr_set_port(&rc->local, p);
            if (tw_reflector_open(&s->refl, rc, srv->loop, err, errlen) == 0) {
                srv->next_port = (uint16_t)((srv->next_port + i + 1) % span);
                return 0;
            }
        }
        snprintf(err, errlen, "no free port in %u-%u", srv->cfg.port_lo, srv->cfg.port_hi);
        return -1;
    }
    tw_addr_set_port(&rc->local, 0);
    return tw_reflector_open(&s->refl, rc, srv->loop, err, errlen);
}

/* The senders return -1 when the connection is gone (a failed send closes it). */
static int send_accept(struct conn *c, uint8_t accept, const struct session *s)
{
    tw_accept_session_t a;
    memset(&a, 0, sizeof a);
    a.accept = accept;
    if (s) {
        a.port = s->port;
        memcpy(a.sid, s->sid, 16);
    }
    if (c->mode & TW_MODE_REFLECT_OCTETS) {
        /* RFC 6038 §4.3: the Octets to be reflected back, and the Server
         * octets the Session-Sender puts first in the padding it wants back
         * (zero when the server wants none). */
        a.reflected_octets = c->octets_to_reflect;
        if (s && s->reflect_len >= 2)
            a.server_octets = c->srv->cfg.server_octets;
    }
    uint8_t buf[TW_CTRL_ACCEPT_SESSION_LEN];
    tw_accept_session_encode(&a, buf, sizeof buf);
    if (accept != TW_ACCEPT_OK)
        TW_CTR_INC(c->srv->ctr.sessions_refused);
    return tw_srv_conn_send(c, buf, sizeof buf, "Accept-Session");
}

static int refuse(struct conn *c, uint8_t accept, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(struct conn *c, uint8_t accept, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    tw_notice("%s: session %d refused with Accept %u (%s): %s", c->name, c->requested, accept,
              tw_accept_str(accept), why);
    return send_accept(c, accept, NULL);
}

/* A source's sessions, those of closed connections included, over the
 * bounded lists (--max-total-sessions). */
static int sessions_of(const tw_ctrl_server_t *srv, const tw_source_t *src)
{
    int n = 0;
    for (const struct conn *c = srv->conns; c; c = c->next)
        if (tw_source_eq(&c->src, src))
            n += c->nsessions;
    for (const struct session *s = srv->orphans; s; s = s->next)
        n += tw_source_eq(&s->src, src);
    return n;
}

int tw_srv_on_request(struct conn *c)
{
    tw_ctrl_server_t *srv = c->srv;
    tw_request_session_t rq;
    c->requested++;
    if (tw_request_session_decode(c->buf, c->have, &rq) != TW_WIRE_OK) {
        tw_srv_protocol_error(c, "malformed Request-TW-Session (IPVN %u)", c->buf[1] & 0x0f);
        return -1;
    }
    /* RFC 6038 §4.2: the two fields are MBZ unless mode 32 was chosen. */
    bool reflect = (c->mode & TW_MODE_REFLECT_OCTETS) != 0;
    c->octets_to_reflect = reflect ? rq.octets_to_reflect : 0;
    uint16_t reflect_len = reflect ? rq.padding_to_reflect : 0;
    int dscp = tw_type_p_dscp(rq.type_p);
    uint64_t tsec = rq.timeout >> 32;
    int64_t timeout_ns = (int64_t)(tsec * TW_NS_PER_SEC) +
                         (int64_t)(((rq.timeout & 0xffffffffu) * (uint64_t)TW_NS_PER_SEC) >> 32);
    /* Test sockets are bound on the control connection's local address only
     * (an adopted stream that is not IP: the listening address). */
    struct sockaddr_storage snd, rcv, asked;
    rcv = c->local.ss_family == AF_INET || c->local.ss_family == AF_INET6 ? c->local
                                                                          : srv->cfg.listen;
    tw_addr_set_port(&rcv, 0);
    req_addr(rq.ipvn, rq.sender_addr, &c->peer, &snd);
    req_addr(rq.ipvn, rq.receiver_addr, &rcv, &asked);
    char sa[TW_ADDRSTRLEN], ra[TW_ADDRSTRLEN];
    tw_addr_set_port(&snd, rq.sender_port);
    tw_addr_set_port(&asked, rq.receiver_port);
    tw_notice("%s: Request-TW-Session %d: sender %s, receiver %s, DSCP %d, padding %u, timeout "
              "%.3f s",
              c->name, c->requested, tw_addr_str((struct sockaddr *)&snd, sa, sizeof sa),
              tw_addr_str((struct sockaddr *)&asked, ra, sizeof ra), dscp, rq.padding_length,
              (double)tsec + (double)(rq.timeout & 0xffffffffu) / 4294967296.0);

    if (rq.conf_sender || rq.conf_receiver) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED, "Conf-Sender/Conf-Receiver must be 0 in TWAMP");
    }
    if (dscp < 0) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED, "Type-P Descriptor 0x%08x is not a DSCP",
                      rq.type_p);
    }
    if (rq.padding_length > srv->cfg.max_padding) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED, "padding length %u is above %u",
                      rq.padding_length, srv->cfg.max_padding);
    }
    if (reflect_len > rq.padding_length) {
        /* RFC 6038 §4.2: the Padding Length SHALL be > the Length of padding
         * to reflect (twampy takes one as long as it). */
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED,
                      "Length of padding to reflect %u is more than the Padding Length %u "
                      "(RFC 6038 section 4.2)",
                      reflect_len, rq.padding_length);
    }
    /* RFC 5357 §3.5: the session starts at its Start Time, but not before
     * Start-Sessions. One further away than --servwait is refused: the
     * connection would be closed as idle before it. */
    tw_time_t start_at = tw_ntp_to_time(rq.start_time);
    int64_t ahead = start_at - tw_now();
    if (rq.start_time && ahead > srv->cfg.servwait_ns) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED,
                      "Start Time is %.0f s from now, later than --servwait (%.0f s)",
                      (double)ahead / 1e9, (double)srv->cfg.servwait_ns / 1e9);
    }
    if (tsec > (uint64_t)(srv->cfg.max_timeout_ns / TW_NS_PER_SEC)) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED, "timeout %llu s is above %lld s",
                      (unsigned long long)tsec,
                      (long long)(srv->cfg.max_timeout_ns / TW_NS_PER_SEC));
    }
    if ((rq.ipvn == 6) != (rcv.ss_family == AF_INET6)) {
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED, "IPv%u session on an IPv%d control connection",
                      rq.ipvn, rcv.ss_family == AF_INET6 ? 6 : 4);
    }
    if (!same_ip(&asked, &rcv)) {
        char la[TW_ADDRSTRLEN];
        return refuse(c, TW_ACCEPT_NOT_SUPPORTED,
                      "Receiver Address %s is not this control connection's local address %s: "
                      "test sockets are bound only there (send 0 to mean that address)",
                      tw_addr_ip_str((struct sockaddr *)&asked, ra, sizeof ra),
                      tw_addr_ip_str((struct sockaddr *)&rcv, la, sizeof la));
    }
    if (c->nsessions >= srv->cfg.max_sessions) {
        return refuse(c, TW_ACCEPT_TEMPORARY, "this connection has %d sessions (--max-sessions %d)",
                      c->nsessions, srv->cfg.max_sessions);
    }
    if (srv_total_sessions(srv) >= srv->cfg.max_total_sessions) {
        return refuse(c, TW_ACCEPT_TEMPORARY,
                      "the server has %d sessions (--max-total-sessions %d)",
                      srv_total_sessions(srv), srv->cfg.max_total_sessions);
    }
    int mine = sessions_of(srv, &c->src);
    if (mine >= srv->cfg.max_sessions_per_source) {
        char src[TW_ADDRSTRLEN];
        return refuse(c, TW_ACCEPT_TEMPORARY,
                      "%s has %d sessions, those of closed connections included "
                      "(--max-sessions-per-source %d)",
                      tw_source_str(&c->src, src, sizeof src), mine,
                      srv->cfg.max_sessions_per_source);
    }

    struct session *s = calloc(1, sizeof *s);
    if (!s) {
        return refuse(c, TW_ACCEPT_INTERNAL, "out of memory");
    }
    s->srv = srv;
    s->conn = c;
    s->src = c->src;
    snprintf(s->owner, sizeof s->owner, "%s", c->name);
    s->index = c->requested;
    s->timeout_ns = timeout_ns;
    s->start_at = rq.start_time ? start_at : 0;
    tw_reflector_cfg_t rc;
    memset(&rc, 0, sizeof rc);
    rc.local = rcv;
    rc.local_len = tw_addr_len(&rcv);
    rc.sockopts.tos = dscp << 2;
    rc.sockopts.ttl = srv->cfg.ttl;
    rc.idle_reset_ns = 30 * TW_NS_PER_SEC;
    rc.max_senders = 4;
    rc.format = TW_FORMAT_TWAMP; /* negotiated: never guessed (RFC 5357 §4.2.1) */
    rc.only_from = snd;
    rc.inactive = true;
    rc.batch = srv->batch;
    rc.allow = &srv->cfg.allow;
    if (c->mode & TW_MODE_DSCP_ECN) {
        rc.dscp_ecn = true; /* RFC 7750: the request's DSCP and ECN back */
        rc.sockopts.recv_tos = true;
    }
    if (reflect_len) {
        size_t from, to;
        tw_reflect_offsets(c->mode, &from, &to);
        rc.reflect_len = reflect_len;
        rc.reflect_from = (uint16_t)from;
        rc.reflect_to = (uint16_t)to;
        s->reflect_len = reflect_len;
    }
    char err[256];
    if (bind_session(srv, s, &rc, rq.receiver_port, err, sizeof err) < 0) {
        free(s);
        return refuse(c, TW_ACCEPT_TEMPORARY, "%s", err);
    }
    struct sockaddr_storage bound;
    socklen_t bl;
    tw_reflector_local(s->refl, &bound, &bl);
    s->port = tw_addr_port(&bound);
    /* SID (RFC 4656 §3.5): receiver address (4 octets), NTP time, 4 random. */
    if (rcv.ss_family == AF_INET6)
        memcpy(s->sid, &((struct sockaddr_in6 *)&rcv)->sin6_addr.s6_addr[12], 4);
    else
        memcpy(s->sid, &((struct sockaddr_in *)&rcv)->sin_addr, 4);
    tw_put64(s->sid + 4, tw_time_to_ntp(tw_now()));
    if (!tw_srv_random(s->sid + 12, 4))
        memset(s->sid + 12, 0, 4); /* the SID stays unique by its timestamp */
    uint32_t sec = c->mode & TW_MODE_SECURITY_MASK;
    if (tw_mode_test_protected(sec)) {
        /* RFC 4656 §4.1.2: the session's test keys from the Session-keys and the SID. */
        tw_test_crypto_t tc;
        int arc = tw_test_crypto_init(&tc, c->crypto.aes_key, c->crypto.hmac_key, s->sid);
        if (arc == TW_AUTH_OK)
            arc = tw_reflector_set_security(s->refl, sec, &tc);
        tw_test_crypto_free(&tc);
        if (arc < 0) {
            tw_reflector_close(s->refl);
            free(s);
            return refuse(c, TW_ACCEPT_INTERNAL, "cannot set up the test keys: %s",
                          tw_auth_strerror(arc));
        }
        s->protected_test = true;
    }
    s->next = c->sessions;
    c->sessions = s;
    c->nsessions++;
    srv_count_sessions(srv, 1);
    TW_CTR_INC(srv->ctr.sessions_accepted);
    char note[96] = "";
    uint16_t lo, hi;
    port_range(srv, &lo, &hi);
    if (rq.receiver_port && rq.receiver_port != s->port) {
        if (rq.receiver_port >= lo && rq.receiver_port <= hi)
            snprintf(note, sizeof note, " (the requested port was taken)");
        else
            snprintf(note, sizeof note, " (the requested port %u is outside %u-%u)",
                     rq.receiver_port, lo, hi);
    }
    tw_notice("%s: session %d accepted on port %u%s", c->name, s->index, s->port, note);
    if (reflect)
        tw_notice("%s: session %d reflects %u octets of padding (RFC 6038; octets 0x%04x, server "
                  "octets 0x%04x)",
                  c->name, s->index, reflect_len, c->octets_to_reflect,
                  reflect_len >= 2 ? srv->cfg.server_octets : 0);
    return send_accept(c, TW_ACCEPT_OK, s);
}

static void on_start_time(void *arg)
{
    struct session *s = arg;
    tw_notice("%s: session %d (port %u) starts: its Start Time is due", s->owner, s->index,
              s->port);
    tw_reflector_set_active(s->refl, true);
}

/* Start s now, or at its Start Time when that is later (RFC 5357 section
 * 3.5): the later of Start-Sessions (Start-N-Sessions) and Start Time. */
/* A session with a Start Time answers from this long before it on: the
 * Session-Sender's first packet leaves at the Start Time by its own clock, and
 * a packet must not be dropped because the two clocks, or the two timers,
 * disagree by a few milliseconds. */
#define START_TIME_EARLY (500 * TW_NS_PER_MS)

static void session_start(struct conn *c, struct session *s, tw_time_t now)
{
    s->started = true;
    c->running = true; /* from now on --servwait, not --setup-timeout */
    int64_t wait = s->start_at - START_TIME_EARLY - now;
    if (s->start_at && wait > 0) {
        tw_notice("%s: session %d starts at its Start Time, in %.3f s", c->name, s->index,
                  (double)(s->start_at - now) / 1e9);
        tw_timer_set(c->srv->loop, &s->start_timer, tw_mono_now() + wait, on_start_time, s);
        return;
    }
    tw_reflector_set_active(s->refl, true);
}

int tw_srv_on_start(struct conn *c)
{
    int n = 0;
    tw_time_t now = tw_now();
    for (struct session *s = c->sessions; s; s = s->next) {
        if (!s->started && !s->stopping) {
            session_start(c, s, now);
            n++;
        }
    }
    tw_notice("%s: Start-Sessions: %d session%s started", c->name, n, n == 1 ? "" : "s");
    uint8_t buf[TW_CTRL_START_ACK_LEN];
    tw_start_ack_encode(TW_ACCEPT_OK, NULL, buf, sizeof buf);
    return tw_srv_conn_send(c, buf, sizeof buf, "Start-Ack");
}

void tw_srv_on_stop(struct conn *c)
{
    tw_stop_sessions_t m;
    tw_stop_sessions_decode(c->buf, c->have, &m);
    int active = 0;
    for (struct session *s = c->sessions; s; s = s->next)
        active += !s->stopping;
    /* Liberal: the Python twampy sends 0 sessions; stop them all anyway. */
    if (m.num_sessions != (uint32_t)active)
        tw_info("%s: Stop-Sessions says %u sessions, the connection has %d: stopping all", c->name,
                m.num_sessions, active);
    tw_notice("%s: Stop-Sessions: %d session%s stopping", c->name, active, active == 1 ? "" : "s");
    for (struct session *s = c->sessions; s; s = s->next)
        session_stop(s);
}

/* ---- RFC 5938 individual session control ---------------------------------- */

static struct session *session_by_sid(struct conn *c, const uint8_t sid[16])
{
    for (struct session *s = c->sessions; s; s = s->next)
        if (!memcmp(s->sid, sid, 16))
            return s;
    return NULL;
}

/* One Start-N-Ack or Stop-N-Ack for the n SIDs in sids (none: nothing sent). */
static int send_n_ack(struct conn *c, uint8_t cmd, uint8_t accept, const tw_n_sessions_t *sids,
                      uint32_t n)
{
    if (!n)
        return 0;
    tw_n_sessions_t a;
    memset(&a, 0, sizeof a);
    a.cmd = cmd;
    a.accept = accept;
    a.num_sessions = n;
    memcpy(a.sids, sids->sids, 16 * (size_t)n);
    uint8_t buf[TW_CTRL_N_LEN(TW_CTRL_N_MAX)];
    tw_n_sessions_encode(&a, buf, sizeof buf);
    return tw_srv_conn_send(c, buf, TW_CTRL_N_LEN(n),
                            cmd == TW_CMD_START_N_ACK ? "Start-N-Ack" : "Stop-N-Ack");
}

/* Start or stop the sessions named in c->buf; the SIDs of this connection's
 * sessions are acknowledged with Accept 0 (a session already started, or
 * already stopping, too), the others with Accept 1 in a second ack (RFC 5938
 * section 3.3: one ack per Accept value). A session stopped cannot start
 * again. */
static int on_n(struct conn *c, bool start)
{
    tw_n_sessions_t m, ok, bad;
    if (tw_n_sessions_decode(c->buf, c->have, &m) != TW_WIRE_OK) {
        tw_srv_protocol_error(c, "malformed %s", start ? "Start-N-Sessions" : "Stop-N-Sessions");
        return -1;
    }
    uint32_t nok = 0, nbad = 0;
    int changed = 0;
    tw_time_t now = tw_now();
    for (uint32_t i = 0; i < m.num_sessions; i++) {
        struct session *s = session_by_sid(c, m.sids[i]);
        if (!s || (start && s->stopping)) {
            memcpy(bad.sids[nbad++], m.sids[i], 16);
            continue;
        }
        if (start && !s->started) {
            session_start(c, s, now);
            changed++;
        } else if (!start && !s->stopping) {
            session_stop(s);
            changed++;
        }
        memcpy(ok.sids[nok++], m.sids[i], 16);
    }
    tw_notice("%s: %s: %u session%s, %d %s%s", c->name,
              start ? "Start-N-Sessions" : "Stop-N-Sessions", m.num_sessions,
              m.num_sessions == 1 ? "" : "s", changed, start ? "started" : "stopping",
              nbad ? ", the others unknown or stopped (Accept 1)" : "");
    uint8_t cmd = start ? TW_CMD_START_N_ACK : TW_CMD_STOP_N_ACK;
    if (send_n_ack(c, cmd, TW_ACCEPT_OK, &ok, nok) < 0)
        return -1;
    return send_n_ack(c, cmd, TW_ACCEPT_FAILURE, &bad, nbad);
}

int tw_srv_on_start_n(struct conn *c)
{
    return on_n(c, true);
}

int tw_srv_on_stop_n(struct conn *c)
{
    return on_n(c, false);
}
