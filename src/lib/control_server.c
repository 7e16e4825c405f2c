/* control_server: the TWAMP server's control connections: the listener, the
 * connection state machine (greeting, Set-Up-Response, key checks, commands),
 * the lockout defences on connections, and the server's life. The test
 * sessions they ask for are server_session.c's. */
#include "control_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "addr.h"
#include "control_server_internal.h"
#include "log.h"
#include "net.h"
#include "ntptime.h"
#include "server_guard.h"

#define ACCEPT_BATCH 32                  /* accepts per wakeup: others get their turn */
#define ACCEPT_RETRY (1 * TW_NS_PER_SEC) /* a paused listener tries again after this */
#define PACE_WINDOW (10 * TW_NS_PER_SEC) /* paced log lines: per this window ... */
#define PACE_BURST 20                    /* ... at most this many of a kind */

/* ---- the listener out of descriptors ------------------------------------------------ */

/* The listener is level-triggered: while accept() fails for want of
 * descriptors (or memory) it would fire again at once. So it pauses until a
 * descriptor is freed (a connection or a session closed) or ACCEPT_RETRY has
 * passed, whichever comes first (OpenBSD's accept_reserve pattern). */
void tw_srv_listener_resume(tw_ctrl_server_t *srv)
{
    if (!srv->paused)
        return;
    srv->paused = false;
    tw_timer_cancel(srv->loop, &srv->resume_timer);
    tw_loop_mod(srv->loop, &srv->lwatch, EPOLLIN);
}

static void on_resume_timer(void *arg)
{
    tw_srv_listener_resume(arg);
}

static void listener_pause(tw_ctrl_server_t *srv, int err)
{
    TW_CTR_INC(srv->ctr.accept_failures);
    uint64_t held;
    int64_t now = tw_mono_now();
    if (tw_log_pacer_allow(&srv->pace_accept, now, &held)) {
        bool fds = err == EMFILE || err == ENFILE;
        tw_warn("cannot accept a connection: %s; the listener pauses until a descriptor is freed, "
                "for at most %lld s%s (%llu more failures since the last such line)",
                strerror(err), (long long)(ACCEPT_RETRY / TW_NS_PER_SEC),
                fds ? ": raise the descriptor limit (ulimit -n) or lower --max-connections "
                      "and --max-total-sessions"
                    : "",
                (unsigned long long)held);
    }
    if (srv->paused)
        return;
    if (tw_loop_mod(srv->loop, &srv->lwatch, 0) == 0) {
        srv->paused = true;
        tw_timer_set(srv->loop, &srv->resume_timer, now + ACCEPT_RETRY, on_resume_timer, srv);
    }
}

/* ---- connections ------------------------------------------------------------ */

/* The set-up queue: connections without a Set-Up-Response, oldest first. */
static void setup_queue_add(tw_ctrl_server_t *srv, struct conn *c)
{
    c->qnext = NULL;
    c->qprev = srv->setup_tail;
    if (srv->setup_tail)
        srv->setup_tail->qnext = c;
    else
        srv->setup_head = c;
    srv->setup_tail = c;
}

static void setup_queue_remove(tw_ctrl_server_t *srv, struct conn *c)
{
    if (c->st != C_SETUP)
        return;
    if (c->qprev)
        c->qprev->qnext = c->qnext;
    else
        srv->setup_head = c->qnext;
    if (c->qnext)
        c->qnext->qprev = c->qprev;
    else
        srv->setup_tail = c->qprev;
    c->qnext = c->qprev = NULL;
}

/* Close c with a log line, paced with pace, or with the others of connections
 * that never set up (a client can open those at will). Its sessions outlive
 * it by their Timeout (RFC 5357 §3.8), at most --max-orphan-time. */
static void conn_vclose(struct conn *c, tw_log_pacer_t *pace, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void conn_vclose(struct conn *c, tw_log_pacer_t *pace, const char *fmt, va_list ap)
{
    tw_ctrl_server_t *srv = c->srv;
    if (!pace && c->st == C_SETUP)
        pace = &srv->pace_setup;
    char why[512];
    vsnprintf(why, sizeof why, fmt, ap);
    if (pace)
        tw_log_paced(pace, TW_LOG_NOTICE, "Connection from %s closed: %s", c->name, why);
    else
        tw_notice("Connection from %s closed: %s", c->name, why);
    tw_ctrl_crypto_free(&c->crypto);
    tw_timer_cancel(srv->loop, &c->timer);
    tw_loop_del(srv->loop, &c->watch);
    close(c->fd);
    setup_queue_remove(srv, c);
    tw_srv_sessions_orphan(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv_count_conns(srv, -1);
    explicit_bzero(c, sizeof *c);
    free(c);
    tw_srv_listener_resume(srv); /* a descriptor is free */
}

static void conn_close(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void conn_close(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_vclose(c, NULL, fmt, ap);
    va_end(ap);
}

static void conn_close_paced(struct conn *c, tw_log_pacer_t *pace, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conn_close_paced(struct conn *c, tw_log_pacer_t *pace, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_vclose(c, pace, fmt, ap);
    va_end(ap);
}

void tw_srv_protocol_error(struct conn *c, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    TW_CTR_INC(c->srv->ctr.protocol_errors);
    conn_close(c, "%s", why);
}

/* One write per message; a client too slow to take 48 octets is dropped. From
 * Server-Start on, in modes 2, 4 and 8, the message is sealed first (HMAC,
 * then encrypted in place): the debug dump shows the ciphertext. */
int tw_srv_conn_send(struct conn *c, uint8_t *buf, size_t len, const char *what)
{
    if (c->secure) {
        int rc = tw_ctrl_seal(&c->crypto, buf, len);
        if (rc < 0) {
            conn_close(c, "cannot protect %s: %s", what, tw_auth_strerror(rc));
            return -1;
        }
    }
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "CTRL.TX", buf, len);
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)len) {
        conn_close(c, "cannot send %s: %s", what, n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    tw_info("%s: CTRL.TX <<%s>>", c->name, what);
    return 0;
}

static void expect(struct conn *c, size_t len)
{
    c->need = len;
    c->have = 0;
}

/* Per-source counts, over the bounded lists (--max-connections,
 * --max-total-sessions). */
static int conns_of(const tw_ctrl_server_t *srv, const tw_source_t *src)
{
    int n = 0;
    for (const struct conn *c = srv->conns; c; c = c->next)
        n += tw_source_eq(&c->src, src);
    return n;
}

/* A KeyID for a log line: printable ASCII, anything else as '?'. */
static void keyid_printable(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\'') ? in[i] : '?';
    out[i] = '\0';
}

/* Refuse the client's key: Server-Start with Accept 1, in clear (RFC 4656
 * §3.1; owamp api.c does the same for an unknown KeyID and a bad Token), then
 * close, logging why. */
static void refuse_setup(struct conn *c, uint8_t accept, tw_log_pacer_t *pace, const char *why)
{
    tw_server_start_t st;
    memset(&st, 0, sizeof st);
    st.accept = accept;
    uint8_t buf[TW_CTRL_SERVER_START_LEN];
    tw_server_start_encode(&st, buf, sizeof buf);
    if (tw_srv_conn_send(c, buf, sizeof buf, "Server-Start") == 0)
        conn_close_paced(c, pace, "%s (Server-Start Accept %u sent)", why, accept);
}

static void reject_key(struct conn *c, const char *why)
{
    TW_CTR_INC(c->srv->ctr.key_rejected);
    refuse_setup(c, TW_ACCEPT_FAILURE, NULL, why);
}

/* Modes 2, 4, 8: the Session-keys from the client's Token, after checking its
 * KeyID and that the Token holds this connection's Challenge. Returns -1 when
 * the key was refused (and the connection is gone). */
/* This thread's CPU time (ns): what a key derivation costs the server. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return tw_mono_now();
    return (int64_t)ts.tv_sec * TW_NS_PER_SEC + ts.tv_nsec;
}

static int open_token(struct conn *c, const tw_setup_response_t *r,
                      uint8_t aes[TW_AUTH_AES_KEY_LEN], uint8_t hmac[TW_AUTH_HMAC_KEY_LEN])
{
    tw_ctrl_server_t *srv = c->srv;
    const char *mode = tw_mode_name(r->mode);
    char raw[TW_KEYID_MAX + 1], why[384];
    if (tw_keyid_decode(r->key_id, raw) < 0) {
        snprintf(why, sizeof why, "mode %s: malformed KeyID (empty, or octets after its end)",
                 mode);
        reject_key(c, why);
        return -1;
    }
    keyid_printable(raw, c->keyid, sizeof c->keyid);
    const tw_secret_t *secret = tw_keyring_find(srv->cfg.keyring, raw);
    if (!secret) {
        snprintf(why, sizeof why, "mode %s: unknown KeyID '%s' (not in the key file)", mode,
                 c->keyid);
        reject_key(c, why);
        return -1;
    }
    /* The derivation runs on the loop (216 ms at Count 2^24): paced per source
     * and, all together, held to a share of the time. Over either the client
     * hears Accept 5 (temporary resource limitation) and may come back. */
    int64_t t0 = tw_mono_now();
    if (!tw_budget_allows(&srv->kdf_budget, t0)) {
        TW_CTR_INC(srv->ctr.kdf_refused);
        snprintf(why, sizeof why,
                 "mode %s, KeyID '%s': key derivations already take their share of the "
                 "server's time (%d%%); try again later",
                 mode, c->keyid, srv->kdf_budget.share_pct);
        refuse_setup(c, TW_ACCEPT_TEMPORARY, &srv->pace_kdf, why);
        return -1;
    }
    if (!tw_rate_take(&srv->kdf_rate, &c->src, t0)) {
        char src[TW_ADDRSTRLEN];
        TW_CTR_INC(srv->ctr.kdf_refused);
        snprintf(why, sizeof why,
                 "mode %s, KeyID '%s': more than %d key derivations for %s in a row, then one "
                 "per %.3f s; try again later",
                 mode, c->keyid, srv->kdf_rate.burst, tw_source_str(&c->src, src, sizeof src),
                 (double)srv->kdf_rate.interval_ns / 1e9);
        refuse_setup(c, TW_ACCEPT_TEMPORARY, &srv->pace_kdf, why);
        return -1;
    }
    uint32_t count = srv->cfg.kdf_count ? srv->cfg.kdf_count : TW_KDF_COUNT_DEFAULT;
    uint8_t key[TW_AUTH_AES_KEY_LEN];
    /* Its cost is the CPU time it took, not the time it was on the clock: on
     * a busy host the derivation is preempted, and that wait is nobody's. */
    int64_t cpu0 = thread_cpu_ns();
    int rc = tw_kdf(secret, c->salt, count, count, key);
    tw_budget_spend(&srv->kdf_budget, t0, thread_cpu_ns() - cpu0);
    if (rc == TW_AUTH_OK)
        rc = tw_token_open(key, r->token, c->challenge, aes, hmac);
    explicit_bzero(key, sizeof key);
    if (rc == TW_AUTH_ECHALLENGE) {
        snprintf(why, sizeof why,
                 "mode %s: wrong passphrase for KeyID '%s' (its Token does not hold the "
                 "Challenge)",
                 mode, c->keyid);
        reject_key(c, why);
        return -1;
    }
    if (rc < 0) {
        snprintf(why, sizeof why, "mode %s, KeyID '%s': %s", mode, c->keyid, tw_auth_strerror(rc));
        reject_key(c, why);
        return -1;
    }
    return 0;
}

/* Returns -1 when the connection is gone. */
static int on_setup_response(struct conn *c)
{
    tw_ctrl_server_t *srv = c->srv;
    tw_setup_response_t r;
    tw_setup_response_decode(c->buf, c->have, &r);
    uint32_t sec = r.mode & TW_MODE_SECURITY_MASK;
    char ms[160];
    tw_modes_str(r.mode, ms, sizeof ms);
    if (r.mode == 0) {
        conn_close(c, "the client declined every mode (Set-Up-Response mode 0)");
        return -1;
    }
    if (sec == 0 || (sec & (sec - 1)) || (r.mode & ~srv->cfg.modes)) {
        tw_server_start_t st;
        memset(&st, 0, sizeof st);
        st.accept = TW_ACCEPT_NOT_SUPPORTED;
        uint8_t buf[TW_CTRL_SERVER_START_LEN];
        tw_server_start_encode(&st, buf, sizeof buf);
        if (tw_srv_conn_send(c, buf, sizeof buf, "Server-Start") == 0) {
            char offered[160];
            tw_srv_protocol_error(c,
                                  "the client chose mode %s, which this server did not offer (%s)",
                                  ms, tw_modes_str(srv->cfg.modes, offered, sizeof offered));
        }
        return -1;
    }
    c->mode = r.mode;
    tw_server_start_t st;
    memset(&st, 0, sizeof st);
    st.accept = TW_ACCEPT_OK;
    if (!tw_srv_random(st.server_iv, sizeof st.server_iv)) {
        conn_close(c, "no random numbers for the Server-IV");
        return -1;
    }
    st.start_time = srv->start_ntp;
    uint8_t buf[TW_CTRL_SERVER_START_LEN];
    if (sec == TW_MODE_UNAUTHENTICATED) {
        tw_info("%s: Set-Up-Response: mode %s", c->name, ms);
        tw_server_start_encode(&st, buf, sizeof buf);
    } else {
        uint8_t aes[TW_AUTH_AES_KEY_LEN], hmac[TW_AUTH_HMAC_KEY_LEN];
        if (open_token(c, &r, aes, hmac) < 0)
            return -1;
        int rc = tw_ctrl_crypto_init(&c->crypto, aes, hmac, st.server_iv, r.client_iv);
        explicit_bzero(aes, sizeof aes);
        explicit_bzero(hmac, sizeof hmac);
        tw_server_start_encode(&st, buf, sizeof buf);
        /* Octets 32..47 (Start-Time, MBZ) open the server's encrypted stream. */
        if (rc == TW_AUTH_OK)
            rc = tw_ctrl_seal_partial(&c->crypto, buf + 32, TW_CTRL_SERVER_START_LEN - 32);
        if (rc < 0) {
            conn_close(c, "cannot set up the encrypted control stream: %s", tw_auth_strerror(rc));
            return -1;
        }
        tw_notice("%s: mode %s, KeyID '%s'", c->name, tw_mode_name(sec), c->keyid);
    }
    explicit_bzero(&r, sizeof r);
    if (tw_srv_conn_send(c, buf, sizeof buf, "Server-Start") < 0)
        return -1;
    c->secure = sec != TW_MODE_UNAUTHENTICATED;
    setup_queue_remove(srv, c);
    c->st = C_READY;
    c->phase_start = tw_mono_now(); /* Start-Sessions within --setup-timeout */
    expect(c, 16);
    return 0;
}

/* A whole message is in c->buf. Returns false when the connection is gone. */
static const char *command_name(uint8_t cmd)
{
    switch (cmd) {
    case TW_CMD_REQUEST_TW_SESSION:
        return "Request-TW-Session";
    case TW_CMD_START_SESSIONS:
        return "Start-Sessions";
    case TW_CMD_STOP_SESSIONS:
        return "Stop-Sessions";
    case TW_CMD_START_N_SESSIONS:
        return "Start-N-Sessions";
    case TW_CMD_STOP_N_SESSIONS:
        return "Stop-N-Sessions";
    default:
        return "command";
    }
}

static bool on_message(struct conn *c)
{
    if (tw_log_on(TW_LOG_DEBUG)) {
        /* Modes 2, 4, 8: the octets as received (the first block is already
         * decrypted in buf once the rest comes). */
        uint8_t raw[sizeof c->buf];
        memcpy(raw, c->buf, c->have);
        if (c->secure && c->have > 16)
            memcpy(raw, c->block0, 16);
        tw_log_hex(TW_LOG_DEBUG, "CTRL.RX", raw, c->have);
    }
    c->last_ctrl = tw_mono_now();
    if (c->st == C_SETUP)
        return on_setup_response(c) == 0;
    if (c->have == 16) {
        /* The first block names the command and so the message length. In
         * modes 2, 4, 8 it is decrypted for that alone: nothing else in it is
         * used before the whole message has passed its HMAC check. */
        if (c->secure) {
            memcpy(c->block0, c->buf, 16);
            int rc = tw_ctrl_decrypt(&c->crypto, c->buf, 16);
            if (rc < 0) {
                tw_srv_protocol_error(c, "cannot decrypt a command: %s", tw_auth_strerror(rc));
                return false;
            }
        }
        uint8_t first = c->buf[0];
        size_t len = tw_ctrl_command_len(first);
        if (len == 0) {
            if (c->secure)
                tw_srv_protocol_error(
                    c,
                    "mode %s: the first block decrypts to command %u, which this "
                    "server does not know: altered in flight, keys that differ, or "
                    "an unsupported command",
                    tw_mode_name(c->mode), first);
            else
                tw_srv_protocol_error(c, "unknown or unsupported command %u", first);
            return false;
        }
        bool individual = (c->mode & TW_MODE_INDIVIDUAL) != 0;
        if (first == TW_CMD_START_N_SESSIONS || first == TW_CMD_STOP_N_SESSIONS) {
            if (!individual) {
                tw_srv_protocol_error(c,
                                      "%s without individual session control (RFC 5938: mode 16 "
                                      "not chosen)",
                                      command_name(first));
                return false;
            }
            /* At most the connection's sessions (and TW_CTRL_N_MAX) SIDs:
             * the message is read whole only when its length is bounded. */
            uint32_t max = c->nsessions < TW_CTRL_N_MAX ? (uint32_t)c->nsessions : TW_CTRL_N_MAX;
            long n = tw_n_sessions_len(c->buf, c->have, max);
            if (n < 0) {
                tw_srv_protocol_error(c,
                                      "%s for %u sessions: this connection has %d (and at most %d "
                                      "go in one message)",
                                      command_name(first), tw_get32(c->buf + 12), c->nsessions,
                                      TW_CTRL_N_MAX);
                return false;
            }
            len = (size_t)n;
        } else if (individual &&
                   (first == TW_CMD_START_SESSIONS || first == TW_CMD_STOP_SESSIONS)) {
            tw_srv_protocol_error(c,
                                  "%s in individual session control mode (RFC 5938 section 3.1: "
                                  "Start-N-Sessions and Stop-N-Sessions only)",
                                  command_name(first));
            return false;
        }
        if (len > c->have) {
            c->need = len;
            return true;
        }
    }
    if (c->secure) {
        /* RFC 4656 §3.2: decrypt, check the HMAC, then act. */
        int rc = tw_ctrl_open(&c->crypto, c->buf, c->have, 16);
        if (rc == TW_AUTH_EINTEGRITY) {
            TW_CTR_INC(c->srv->ctr.integrity_failures);
            conn_close(c,
                       "mode %s: a %zu-octet control message failed its integrity check "
                       "(HMAC): altered in flight, or the client's keys differ",
                       tw_mode_name(c->mode), c->have);
            return false;
        }
        if (rc < 0) {
            tw_srv_protocol_error(c, "cannot decrypt a command: %s", tw_auth_strerror(rc));
            return false;
        }
        tw_info("%s: CTRL.RX <<%s>> passed its integrity check", c->name, command_name(c->buf[0]));
    }
    uint8_t cmd = c->buf[0];
    int r = 0;
    switch (cmd) {
    case TW_CMD_REQUEST_TW_SESSION:
        r = tw_srv_on_request(c);
        break;
    case TW_CMD_START_SESSIONS:
        r = tw_srv_on_start(c);
        break;
    case TW_CMD_STOP_SESSIONS:
        tw_srv_on_stop(c);
        break;
    case TW_CMD_START_N_SESSIONS:
        r = tw_srv_on_start_n(c);
        break;
    case TW_CMD_STOP_N_SESSIONS:
        r = tw_srv_on_stop_n(c);
        break;
    default:
        tw_srv_protocol_error(c, "unexpected command %u", cmd);
        return false;
    }
    if (r < 0)
        return false; /* the connection is gone */
    expect(c, 16);
    return true;
}

/* Read and act on what the client sent. Returns false when the connection is
 * gone. */
static bool conn_read(struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->have, c->need - c->have, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return true;
            conn_close(c, "%s", strerror(errno));
            return false;
        }
        if (n == 0) {
            if (c->have)
                tw_srv_protocol_error(c,
                                      "the client closed the connection in the middle of a message "
                                      "(%zu of %zu octets)",
                                      c->have, c->need);
            else
                conn_close(c, "the client closed the connection");
            return false;
        }
        c->have += (size_t)n;
        if (c->have == c->need && !on_message(c))
            return false;
    }
}

static void on_conn_io(void *arg, uint32_t events)
{
    conn_read(arg);
}

/* When on_conn_timer must look again: SERVWAIT after the last activity, and
 * before a session runs, the end of the control phase. */
static int64_t conn_deadline(const struct conn *c, int64_t last)
{
    int64_t t = last + c->srv->cfg.servwait_ns;
    if (!c->running && c->phase_start + c->srv->cfg.setup_timeout_ns < t)
        t = c->phase_start + c->srv->cfg.setup_timeout_ns;
    return t;
}

/* Before a session runs, each control phase has --setup-timeout: the
 * Set-Up-Response after the greeting, Start-Sessions after Server-Start.
 * SERVWAIT: a connection with neither control messages nor test packets for
 * servwait is closed (RFC 4656 §3.6, RFC 5357 §3.8). */
static void on_conn_timer(void *arg)
{
    struct conn *c = arg;
    tw_ctrl_server_t *srv = c->srv;
    int64_t now = tw_mono_now();
    if (!c->running && now - c->phase_start >= srv->cfg.setup_timeout_ns) {
        TW_CTR_INC(srv->ctr.setup_timeouts);
        double t = (double)srv->cfg.setup_timeout_ns / 1e9;
        if (c->st == C_SETUP)
            conn_close_paced(c, &srv->pace_setup,
                             "no Set-Up-Response within %g s of the greeting (--setup-timeout)", t);
        else
            conn_close_paced(c, &srv->pace_setup,
                             "no Start-Sessions within %g s of Server-Start (--setup-timeout)", t);
        return;
    }
    int64_t last = tw_srv_sessions_last_rx(c, c->last_ctrl);
    if (now - last >= srv->cfg.servwait_ns) {
        conn_close(c, "idle for %.0f s (--servwait)", (double)(now - last) / 1e9);
        return;
    }
    tw_timer_set(srv->loop, &c->timer, conn_deadline(c, last), on_conn_timer, c);
}

/* Candidates for eviction: the oldest few of the set-up queue. */
#define EVICT_CANDIDATES 8

static struct conn *eviction_victim(const tw_ctrl_server_t *srv)
{
    /* Of the oldest EVICT_CANDIDATES, the one whose source holds the most
     * connections still setting up (the oldest on a tie): a flood from a few
     * sources evicts its own, not a lone client that is between its greeting
     * and its Set-Up-Response. O(EVICT_CANDIDATES x --max-connections). */
    struct conn *best = NULL;
    int best_n = 0, k = 0;
    for (struct conn *v = srv->setup_head; v && k < EVICT_CANDIDATES; v = v->qnext, k++) {
        int n = 0;
        for (struct conn *w = srv->setup_head; w; w = w->qnext)
            n += tw_source_eq(&v->src, &w->src);
        if (n > best_n) {
            best = v;
            best_n = n;
        }
    }
    return best;
}

/* At --max-connections: close a connection still without a Set-Up-Response
 * (eviction_victim), after a last look at what it sent (a Set-Up-Response
 * waiting in its socket is served, not evicted). Returns whether a slot was
 * freed. */
static bool evict_one(tw_ctrl_server_t *srv)
{
    struct conn *v;
    while ((v = eviction_victim(srv)) != NULL) {
        if (!conn_read(v))
            return true;
        if (v->st != C_SETUP)
            continue; /* it has set up: no longer a candidate */
        TW_CTR_INC(srv->ctr.connections_evicted);
        conn_close_paced(v, &srv->pace_evicted,
                         "evicted after %.1f s without a Set-Up-Response: the server is full "
                         "(--max-connections %d) and a new client is waiting",
                         (double)(tw_mono_now() - v->phase_start) / 1e9, srv->cfg.max_connections);
        return true;
    }
    return false;
}

/* The Server Greeting: with c, its Challenge and Salt are the connection's
 * (modes 2, 4, 8 need them back); without, a refusal (modes 0). */
static void send_greeting(int fd, uint32_t modes, const struct conn *c, uint32_t count)
{
    tw_greeting_t g;
    memset(&g, 0, sizeof g);
    g.modes = modes;
    if (c) {
        memcpy(g.challenge, c->challenge, sizeof g.challenge);
        memcpy(g.salt, c->salt, sizeof g.salt);
    }
    /* (A refused connection's greeting, modes 0, needs no Challenge.) */
    g.count = count;
    uint8_t buf[TW_CTRL_GREETING_LEN];
    tw_greeting_encode(&g, buf, sizeof buf);
    if (send(fd, buf, sizeof buf, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof buf)
        tw_info("could not send the Server Greeting: %s", strerror(errno));
}

/* Take a new control connection (from accept or a test); -1 closes fd. */
static int conn_new(tw_ctrl_server_t *srv, int fd, const struct sockaddr_storage *peer_in,
                    socklen_t pl)
{
    struct sockaddr_storage peer = *peer_in;
    tw_addr_unmap(&peer);
    char name[TW_ADDRSTRLEN];
    tw_addr_str((struct sockaddr *)&peer, name, sizeof name);
    if (peer.ss_family != AF_UNIX && peer.ss_family != AF_UNSPEC &&
        !tw_acl_allows(&srv->cfg.allow, (struct sockaddr *)&peer)) {
        TW_CTR_INC(srv->ctr.connections_denied);
        tw_log_paced(&srv->pace_refused, TW_LOG_NOTICE,
                     "Connection from %s refused: not covered by --allow", name);
        close(fd);
        return -1;
    }
    /* Modes 0: "the server does not wish to communicate" (RFC 4656 §3.1). */
    tw_source_t src;
    tw_source_of(&peer, &src);
    int mine = conns_of(srv, &src);
    if (mine >= srv->cfg.max_connections_per_source) {
        char sname[TW_ADDRSTRLEN];
        TW_CTR_INC(srv->ctr.connections_refused);
        tw_log_paced(&srv->pace_refused, TW_LOG_NOTICE,
                     "Connection from %s refused: %d connections from %s already "
                     "(--max-connections-per-source)",
                     name, mine, tw_source_str(&src, sname, sizeof sname));
        send_greeting(fd, 0, NULL, TW_KDF_COUNT_MIN);
        close(fd);
        return -1;
    }
    if (srv_total_conns(srv) >= srv->cfg.max_connections)
        evict_one(srv);
    if (srv_total_conns(srv) >= srv->cfg.max_connections) {
        TW_CTR_INC(srv->ctr.connections_refused);
        tw_log_paced(&srv->pace_refused, TW_LOG_NOTICE,
                     "Connection from %s refused: %d connections already (--max-connections)", name,
                     srv_total_conns(srv));
        send_greeting(fd, 0, NULL, TW_KDF_COUNT_MIN);
        close(fd);
        return -1;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -1;
    }
    c->srv = srv;
    c->fd = fd;
    c->src = src;
    c->peer = peer;
    c->peer_len = pl;
    c->local_len = sizeof c->local;
    getsockname(fd, (struct sockaddr *)&c->local, &c->local_len);
    tw_addr_unmap(&c->local);
    snprintf(c->name, sizeof c->name, "%s", name);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (tw_loop_add(srv->loop, &c->watch, fd, EPOLLIN, on_conn_io, c) < 0) {
        close(fd);
        free(c);
        return -1;
    }
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    c->st = C_SETUP;
    setup_queue_add(srv, c);
    TW_CTR_INC(srv->ctr.connections);
    srv_count_conns(srv, 1);
    c->last_ctrl = c->phase_start = tw_mono_now();
    tw_notice("Connection from %s", name);
    /* RFC 4656 §3.1: a fresh Challenge and Salt per connection (CSPRNG). */
    if (!tw_srv_random(c->challenge, sizeof c->challenge) ||
        !tw_srv_random(c->salt, sizeof c->salt)) {
        conn_close(c, "no random numbers for the Challenge");
        return -1;
    }
    send_greeting(fd, srv->cfg.modes, c,
                  srv->cfg.kdf_count ? srv->cfg.kdf_count : TW_KDF_COUNT_DEFAULT);
    expect(c, TW_CTRL_SETUP_RESPONSE_LEN);
    tw_timer_set(srv->loop, &c->timer, conn_deadline(c, c->last_ctrl), on_conn_timer, c);
    return 0;
}

static void on_accept(void *arg, uint32_t events)
{
    tw_ctrl_server_t *srv = arg;
    /* A bounded batch: the clients already connected get their turn between
     * batches (an evicted one's Set-Up-Response may be on its way). */
    for (int i = 0; i < ACCEPT_BATCH && !srv->paused; i++) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(srv->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_new(srv, fd, &peer, pl);
            continue;
        }
        switch (errno) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return;
        /* That one connection's trouble (accept(2): errors already pending
         * on the new socket are passed on): the next may be fine. */
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case EPERM:
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
            continue;
        default:
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected: it
             * would fail again at once. */
            listener_pause(srv, errno);
            return;
        }
    }
}

int tw_ctrl_server_adopt(tw_ctrl_server_t *s, int fd)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    memset(&peer, 0, sizeof peer);
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
        pl = 0;
    return conn_new(s, fd, &peer, pl);
}

long tw_ctrl_server_fds_needed(const tw_ctrl_server_cfg_t *cfg)
{
    return (long)cfg->max_connections + cfg->max_total_sessions + TW_CTRL_FD_RESERVE;
}

/* Once a second: the running sessions' test packets into the counters, for
 * --metrics (read on another thread with --workers: plain counters only). */
static void on_tally(void *arg)
{
    tw_ctrl_server_t *srv = arg;
    tw_srv_tally(srv);
    tw_timer_set(srv->loop, &srv->tally_timer, tw_mono_now() + TW_NS_PER_SEC, on_tally, srv);
}

int tw_ctrl_server_open(tw_ctrl_server_t **out, const tw_ctrl_server_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen)
{
    tw_ctrl_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    srv->cfg = *cfg;
    srv->loop = loop;
    srv->lfd = -1;
    tw_ctrl_server_cfg_t *k = &srv->cfg;
    if (k->setup_timeout_ns <= 0)
        k->setup_timeout_ns = TW_CTRL_SETUP_TIMEOUT_DEFAULT;
    if (k->max_connections_per_source <= 0)
        k->max_connections_per_source = TW_CTRL_CONN_PER_SOURCE_DEFAULT;
    if (k->max_sessions_per_source <= 0)
        k->max_sessions_per_source = TW_CTRL_SESSIONS_PER_SOURCE_DEFAULT;
    if (k->max_orphan_time_ns <= 0)
        k->max_orphan_time_ns = TW_CTRL_MAX_ORPHAN_DEFAULT;
    tw_rate_init(&srv->kdf_rate, k->kdf_interval_ns > 0 ? k->kdf_interval_ns : 250 * TW_NS_PER_MS,
                 k->kdf_burst > 0 ? k->kdf_burst : 8);
    /* 100 ms ahead: a few cheap derivations at once, or one costly one. */
    tw_budget_init(&srv->kdf_budget, k->kdf_share_pct > 0 ? k->kdf_share_pct : 25,
                   100 * TW_NS_PER_MS);
    tw_log_pacer_init(&srv->pace_accept, 1, PACE_WINDOW);
    tw_log_pacer_init(&srv->pace_refused, PACE_BURST, PACE_WINDOW);
    tw_log_pacer_init(&srv->pace_evicted, PACE_BURST, PACE_WINDOW);
    tw_log_pacer_init(&srv->pace_setup, PACE_BURST, PACE_WINDOW);
    tw_log_pacer_init(&srv->pace_kdf, PACE_BURST, PACE_WINDOW);
    srv->start_ntp = tw_time_to_ntp(tw_now());
    srv->batch = tw_batch_new(TW_BATCH, TW_RX_BUFSIZE);
    int fam = cfg->listen.ss_family;
    srv->lfd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!srv->batch || srv->lfd < 0) {
        snprintf(err, errlen, "cannot open the control socket: %s", strerror(errno));
        tw_ctrl_server_close(srv);
        return -1;
    }
    int one = 1, v6only = cfg->dualstack ? 0 : 1;
    setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (cfg->reuseport_group > 1 &&
        setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        snprintf(err, errlen, "cannot set SO_REUSEPORT: %s (try --workers 1)", strerror(errno));
        tw_ctrl_server_close(srv);
        return -1;
    }
    if (fam == AF_INET6)
        setsockopt(srv->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(srv->lfd, (const struct sockaddr *)&cfg->listen, cfg->listen_len) < 0 ||
        listen(srv->lfd, SOMAXCONN) < 0) {
        char a[TW_ADDRSTRLEN];
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: %s%s",
                 tw_addr_str((const struct sockaddr *)&cfg->listen, a, sizeof a), strerror(e),
                 e == EACCES ? " (port 862 needs root or CAP_NET_BIND_SERVICE; drop privileges "
                               "with --user)"
                             : "");
        tw_ctrl_server_close(srv);
        return -1;
    }
    if (cfg->reuseport_group > 1 && tw_reuseport_by_source(srv->lfd, cfg->reuseport_group) < 0) {
        snprintf(err, errlen,
                 "cannot hand each source's connections to one worker "
                 "(SO_ATTACH_REUSEPORT_CBPF: %s; try --workers 1)",
                 strerror(errno));
        tw_ctrl_server_close(srv);
        return -1;
    }
    if (tw_loop_add(loop, &srv->lwatch, srv->lfd, EPOLLIN, on_accept, srv) < 0) {
        snprintf(err, errlen, "cannot watch the control socket: %s", strerror(errno));
        tw_ctrl_server_close(srv);
        return -1;
    }
    tw_timer_set(loop, &srv->tally_timer, tw_mono_now() + TW_NS_PER_SEC, on_tally, srv);
    *out = srv;
    return 0;
}

int tw_ctrl_server_local(const tw_ctrl_server_t *s, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(s->lfd, (struct sockaddr *)ss, len);
}

const tw_ctrl_server_counters_t *tw_ctrl_server_counters(const tw_ctrl_server_t *s)
{
    return &s->ctr;
}

void tw_ctrl_server_close(tw_ctrl_server_t *s)
{
    if (!s)
        return;
    while (s->conns)
        conn_close(s->conns, "the server is shutting down");
    while (s->orphans) {
        struct session *x = s->orphans;
        s->orphans = x->next;
        tw_srv_session_free(x);
    }
    tw_timer_cancel(s->loop, &s->resume_timer);
    tw_timer_cancel(s->loop, &s->tally_timer);
    if (s->lfd >= 0) {
        tw_loop_del(s->loop, &s->lwatch);
        close(s->lfd);
    }
    tw_batch_free(s->batch);
    free(s);
}
