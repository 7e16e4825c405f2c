/* check_control: the conformance battery of a TWAMP server (TWAMP-Control,
 * RFC 5357 §3 with the message layouts of RFC 4656 §3): in the unauthenticated
 * mode, or with a key in the strongest mode offered (authenticated, encrypted
 * or mixed). Blocking sockets with poll() deadlines: every read waits at most the
 * per-test timeout. */
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "auth.h"
#include "control_wire.h"
#include "net.h"
#include "wire.h"

struct cc {
    const tw_check_cfg_t *cfg;
    tw_check_table_t *t;
    int64_t timeout;
};

static int poll_for(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - tw_mono_now();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)((left + TW_NS_PER_MS - 1) / TW_NS_PER_MS));
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r;
    }
}

/* 1: n octets read; 0: the server closed the connection; -1: timeout or error. */
static int read_exact(int fd, uint8_t *buf, size_t n, int64_t deadline)
{
    size_t have = 0;
    while (have < n) {
        if (poll_for(fd, POLLIN, deadline) <= 0)
            return -1;
        ssize_t r = recv(fd, buf + have, n - have, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return 0;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -1;
        }
        have += (size_t)r;
    }
    return 1;
}

static bool write_all(int fd, const uint8_t *buf, size_t n, int64_t deadline)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = send(fd, buf + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        if (poll_for(fd, POLLOUT, deadline) <= 0)
            return false;
    }
    return true;
}

static int tcp_connect(struct cc *c, char *why, size_t n)
{
    const tw_check_cfg_t *cfg = c->cfg;
    int fd = socket(cfg->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, n, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len) < 0 &&
        errno != EINPROGRESS) {
        snprintf(why, n, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (poll_for(fd, POLLOUT, tw_mono_now() + c->timeout) <= 0) {
        snprintf(why, n, "no connection within %.1f s", (double)c->timeout / 1e9);
        close(fd);
        return -1;
    }
    int e = 0;
    socklen_t el = sizeof e;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
    if (e) {
        snprintf(why, n, "%s", strerror(e));
        close(fd);
        return -1;
    }
    return fd;
}

/* One control connection: its greeting, its Server-Start and, in the modes
 * that protect TWAMP-Control (2, 4, 8), its two encrypted streams. */
struct conn {
    int fd;
    tw_greeting_t g;
    tw_server_start_t st;
    int got;   /* Server-Start: 1 read, 0 the server closed, -1 none in time */
    bool prot; /* the stream is encrypted and HMACed from now on */
    tw_ctrl_crypto_t cr;
};

static void conn_close(struct conn *k)
{
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    tw_ctrl_crypto_free(&k->cr);
}

/* Connect and read the Server Greeting; with a mode, send the Set-Up-Response
 * (in modes 2, 4, 8 with secret's KeyID and Token, RFC 4656 §3.1) and read
 * Server-Start (k->got). Returns 0, or -1 with a reason in why when there was
 * no connection, no greeting, or no key. */
static int conn_open(struct cc *c, struct conn *k, uint32_t mode, const tw_secret_t *secret,
                     char *why, size_t n)
{
    memset(k, 0, sizeof *k);
    k->got = -1;
    k->fd = tcp_connect(c, why, n);
    if (k->fd < 0)
        return -1;
    uint8_t buf[TW_CTRL_SETUP_RESPONSE_LEN];
    int r = read_exact(k->fd, buf, TW_CTRL_GREETING_LEN, tw_mono_now() + c->timeout);
    if (r <= 0) {
        snprintf(why, n,
                 r == 0 ? "closed without a Server Greeting"
                        : "no Server Greeting within the timeout");
        conn_close(k);
        return -1;
    }
    c->t->answered++;
    tw_greeting_decode(buf, TW_CTRL_GREETING_LEN, &k->g);
    if (!mode)
        return 0;
    tw_setup_response_t sr;
    memset(&sr, 0, sizeof sr);
    sr.mode = mode;
    uint8_t aes[TW_AUTH_AES_KEY_LEN], hmac[TW_AUTH_HMAC_KEY_LEN];
    uint32_t sec = mode & TW_MODE_SECURITY_MASK;
    bool keyed = sec == TW_MODE_AUTHENTICATED || sec == TW_MODE_ENCRYPTED || sec == TW_MODE_MIXED;
    if (keyed) {
        uint8_t key[TW_AUTH_AES_KEY_LEN];
        int rc = secret ? tw_kdf(secret, k->g.salt, k->g.count, TW_KDF_COUNT_CEILING_DEFAULT, key)
                        : TW_AUTH_EINVAL;
        if (rc == TW_AUTH_OK &&
            (tw_auth_random(aes, sizeof aes) < 0 || tw_auth_random(hmac, sizeof hmac) < 0 ||
             tw_auth_random(sr.client_iv, sizeof sr.client_iv) < 0 ||
             tw_token_make(key, k->g.challenge, aes, hmac, sr.token) < 0 ||
             tw_keyid_encode(c->cfg->keyid, sr.key_id) < 0))
            rc = TW_AUTH_ECRYPTO;
        explicit_bzero(key, sizeof key);
        if (rc < 0) {
            snprintf(why, n, "no key for mode %s: %s", tw_mode_name(sec),
                     rc == TW_AUTH_ECOUNT ? "the greeting's Count is above 2^20"
                                          : tw_auth_strerror(rc));
            conn_close(k);
            return -1;
        }
    }
    tw_setup_response_encode(&sr, buf, sizeof buf);
    if (!write_all(k->fd, buf, TW_CTRL_SETUP_RESPONSE_LEN, tw_mono_now() + c->timeout)) {
        k->got = 0;
    } else {
        k->got = read_exact(k->fd, buf, TW_CTRL_SERVER_START_LEN, tw_mono_now() + c->timeout);
        if (k->got == 1) {
            c->t->answered++;
            tw_server_start_decode(buf, TW_CTRL_SERVER_START_LEN, &k->st);
            /* Octets 32..47 (Start-Time, MBZ) open the server's encrypted
             * stream when it accepted a protected mode (RFC 4656 §3.1). */
            if (keyed && !k->st.accept) {
                if (tw_ctrl_crypto_init(&k->cr, aes, hmac, sr.client_iv, k->st.server_iv) < 0 ||
                    tw_ctrl_open_partial(&k->cr, buf + 32, 16) < 0)
                    k->got = -1;
                k->st.start_time = tw_get64(buf + 32);
                k->prot = true;
            }
        }
    }
    if (keyed) {
        explicit_bzero(aes, sizeof aes);
        explicit_bzero(hmac, sizeof hmac);
    }
    return 0;
}

/* conn_open, again after a pause while the server answers Accept 5
 * (temporary resource limitation, e.g. a key derivation pace): at most 5
 * tries, 0.5 s apart. *tries says how many it took. */
static int conn_open_retry(struct cc *c, struct conn *k, uint32_t mode, const tw_secret_t *secret,
                           char *why, size_t n, int *tries)
{
    for (*tries = 1;; (*tries)++) {
        int rc = conn_open(c, k, mode, secret, why, n);
        if (rc < 0 || k->got != 1 || k->st.accept != TW_ACCEPT_TEMPORARY || *tries >= 5)
            return rc;
        conn_close(k);
        poll(NULL, 0, 500);
    }
}

static bool conn_send(struct cc *c, struct conn *k, uint8_t *msg, size_t len)
{
    if (k->prot && tw_ctrl_seal(&k->cr, msg, len) < 0)
        return false;
    return write_all(k->fd, msg, len, tw_mono_now() + c->timeout);
}

/* 1: len octets read (and, protected, decrypted and their HMAC verified);
 * 0: the server closed; -1: nothing in time; -2: the HMAC did not verify. */
static int conn_recv(struct cc *c, struct conn *k, uint8_t *buf, size_t len)
{
    int r = read_exact(k->fd, buf, len, tw_mono_now() + c->timeout);
    if (r == 1)
        c->t->answered++;
    if (r == 1 && k->prot && tw_ctrl_open(&k->cr, buf, len, 0) < 0)
        return -2;
    return r;
}

static const char *recv_err(int r)
{
    return r == 0    ? "the connection was closed"
           : r == -2 ? "its HMAC does not verify"
                     : "none in time";
}

/* The family's raw address octets of ss (IPv4 in the first 4). */
static void raw_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET)
        memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    else
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* Padding of the test packets: 41-octet open packets as the reflector's (RFC
 * 6038); in the protected modes 112-octet ones (the 48-octet header and 64). */
static uint32_t padding_for(uint32_t sec)
{
    return tw_mode_test_protected(sec) ? TW_STAMP_AUTH_BASE_LEN - TW_SENDER_AUTH_LEN
                                       : TW_REFLECTOR_BASE_LEN - TW_SENDER_MIN_LEN;
}

static void request_of(struct cc *c, tw_request_session_t *rq, uint16_t sender_port, uint32_t sec)
{
    memset(rq, 0, sizeof *rq);
    rq->ipvn = c->cfg->target.ss_family == AF_INET6 ? 6 : 4;
    rq->sender_port = sender_port;
    /* A port of the dynamic range (the server may give another): not one
     * where something else answers once the session is over. */
    uint16_t r;
    if (tw_auth_random((uint8_t *)&r, sizeof r) < 0)
        r = (uint16_t)tw_now();
    rq->receiver_port = (uint16_t)(49152 + r % 16384);
    rq->padding_length = padding_for(sec);
    rq->start_time = tw_time_to_ntp(tw_now());
    rq->timeout = (uint64_t)1 << 32; /* 1 s */
    rq->type_p = tw_type_p_from_dscp(c->cfg->dscp >= 0 ? c->cfg->dscp : 0);
}

/* One Request-TW-Session with a bad value, on an open-mode connection of its own. */
static void bad_request(struct cc *c, const char *name, const char *clause, const char *what,
                        void (*spoil)(uint8_t *msg), bool close_ok)
{
    tw_check_table_t *t = c->t;
    char why[160], exp[160];
    snprintf(exp, sizeof exp, "%s: refused (Accept not 0)%s", what,
             close_ok ? " or the connection closed" : "");
    struct conn k;
    if (conn_open(c, &k, TW_MODE_UNAUTHENTICATED, NULL, why, sizeof why) < 0 || k.got != 1 ||
        k.st.accept) {
        tw_check_add(t, TW_CHECK_FAIL, name, clause, exp, "could not set up a connection: %s",
                     k.fd < 0 ? why : "no Server-Start with Accept 0");
        conn_close(&k);
        return;
    }
    tw_request_session_t rq;
    request_of(c, &rq, 9, TW_MODE_UNAUTHENTICATED);
    uint8_t msg[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&rq, msg, sizeof msg);
    spoil(msg);
    uint8_t acc[TW_CTRL_ACCEPT_SESSION_LEN];
    int r = conn_send(c, &k, msg, sizeof msg) ? conn_recv(c, &k, acc, sizeof acc) : 0;
    if (r == 1 && acc[0] != TW_ACCEPT_OK)
        tw_check_add(t, TW_CHECK_PASS, name, clause, exp, "Accept %u (%s)", acc[0],
                     tw_accept_str(acc[0]));
    else if (r == 1)
        tw_check_add(t, TW_CHECK_WARN, name, clause, exp, "Accept 0: the session was accepted");
    else if (r == 0) /* RFC 4656 §3.5: a server that rejects SHOULD NOT close */
        tw_check_add(t, close_ok ? TW_CHECK_PASS : TW_CHECK_WARN, name, clause, exp,
                     "the connection was closed without an Accept-Session");
    else
        tw_check_add(t, TW_CHECK_FAIL, name, clause, exp, "no Accept-Session within the timeout");
    conn_close(&k);
}

static void spoil_conf(uint8_t *m)
{
    m[2] = 1; /* Conf-Sender */
}
static void spoil_typep(uint8_t *m)
{
    m[84] = 0x80; /* Type-P Descriptor of form 10: neither a DSCP nor a PHB ID */
}
static void spoil_ipvn(uint8_t *m)
{
    m[1] = 5;
}

/* The test packets of the session: open (41 octets) or, in modes 2 and 4,
 * the 48-octet sender header protected with the session's keys, padded to
 * 112 (RFC 5357 §4.1.2, §4.2.1). */
struct tsess {
    uint32_t sec;
    bool prot;
    tw_test_crypto_t tc;
};

/* Send one test packet to dst and wait for its reply: returns the reply's
 * length (0: none) with *echo_ok (fields echoed), *from_ok (from dst's port)
 * and *hmac_ok (protected: its HMAC verified). */
static size_t test_packet(struct cc *c, int fd, const struct sockaddr_storage *dst,
                          struct tsess *ts, uint32_t seq, int64_t wait_ns, bool *echo_ok,
                          bool *from_ok, bool *hmac_ok)
{
    uint8_t req[TW_STAMP_AUTH_BASE_LEN], rep[TW_RX_BUFSIZE];
    uint64_t t1 = tw_time_to_ntp(tw_now());
    tw_sender_pkt_t p = {.seq = seq, .timestamp = t1, .errest = 0x0001};
    size_t len;
    *hmac_ok = true;
    if (ts->prot) {
        len = TW_STAMP_AUTH_BASE_LEN;
        tw_sender_encode_auth(&p, false, req, len);
        if (tw_test_sender_protect(&ts->tc, ts->sec, req, len) < 0)
            return 0;
    } else {
        len = TW_REFLECTOR_BASE_LEN;
        tw_sender_encode(&p, false, req, len);
    }
    for (int i = 0; i < 16; i++)
        recv(fd, rep, sizeof rep, MSG_DONTWAIT);
    if (sendto(fd, req, len, 0, (const struct sockaddr *)dst, tw_addr_len(dst)) < 0)
        return 0;
    int64_t deadline = tw_mono_now() + wait_ns;
    for (;;) {
        if (poll_for(fd, POLLIN, deadline) <= 0)
            return 0;
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(fd, rep, sizeof rep, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (r < 0)
            continue;
        tw_reflector_pkt_t rp;
        memset(&rp, 0, sizeof rp);
        if (ts->prot) {
            if (r < (ssize_t)TW_REFLECTOR_AUTH_LEN ||
                tw_test_reflector_open(&ts->tc, ts->sec, rep, (size_t)r) < 0) {
                *hmac_ok = false; /* cannot tell whose reply it is: take it as ours */
            } else {
                tw_reflector_decode_auth(rep, (size_t)r, false, &rp);
                if (rp.sender_seq != seq)
                    continue;
            }
        } else {
            if (r >= 28 && tw_get32(rep + 24) != seq)
                continue;
            if (r >= TW_REFLECTOR_BASE_LEN)
                tw_reflector_decode(rep, (size_t)r, &rp);
        }
        c->t->answered++;
        *echo_ok =
            *hmac_ok && rp.sender_seq == seq && rp.sender_time == t1 && rp.sender_errest == 0x0001;
        tw_addr_unmap(&from);
        *from_ok = tw_addr_port(&from) == tw_addr_port(dst);
        return (size_t)r;
    }
}

/* The strongest mode both the server offers and a key allows. */
static uint32_t session_mode(const tw_check_cfg_t *cfg, uint32_t offered)
{
    static const uint32_t pref[] = {TW_MODE_ENCRYPTED, TW_MODE_AUTHENTICATED, TW_MODE_MIXED};
    if (cfg->secret)
        for (size_t i = 0; i < 3; i++)
            if (offered & pref[i])
                return pref[i];
    return offered & TW_MODE_UNAUTHENTICATED;
}

static void control_battery(struct cc *c)
{
    tw_check_table_t *t = c->t;
    const tw_check_cfg_t *cfg = c->cfg;
    char why[160];
    struct conn k;
    /* 1. The greeting. */
    if (conn_open(c, &k, 0, NULL, why, sizeof why) < 0) {
        tw_check_add(t, TW_CHECK_FAIL, "Server Greeting", "RFC 4656 §3.1, RFC 5357 §3.1",
                     "a 64-octet Server Greeting after the TCP connection", "%s", why);
        tw_check_add(t, TW_CHECK_FAIL, "remaining tests", "-", "a server that answers",
                     "not run: no Server Greeting");
        return;
    }
    tw_greeting_t g = k.g;
    conn_close(&k);
    char ms[160];
    tw_modes_str(g.modes, ms, sizeof ms);
    uint32_t smode = session_mode(cfg, g.modes);
    const char *gexp = cfg->secret ? "Modes not 0, with a mode for the key"
                                   : "Modes not 0, with the unauthenticated mode";
    if (!g.modes)
        tw_check_add(t, TW_CHECK_FAIL, "Server Greeting", "RFC 4656 §3.1", gexp,
                     "Modes 0: the server will not serve this client");
    else
        tw_check_add(t, smode ? TW_CHECK_PASS : TW_CHECK_WARN, "Server Greeting",
                     "RFC 4656 §3.1, RFC 5357 §3.1", gexp, "Modes 0x%x (%s)", g.modes, ms);
    tw_check_add(t, g.count >= TW_KDF_COUNT_MIN ? TW_CHECK_PASS : TW_CHECK_FAIL, "greeting Count",
                 "RFC 4656 §3.1", "Count at least 1024", "%" PRIu32, g.count);
    if (!smode) {
        tw_check_add(t, TW_CHECK_SKIP, "remaining tests", "-",
                     cfg->secret ? "a mode for the key offered"
                                 : "the unauthenticated mode offered",
                     "not run: only modes %s offered%s", ms,
                     cfg->secret ? "" : " (--keyfile and --keyid for the others)");
        return;
    }

    /* 2. A mode the server did not offer. */
    {
        uint32_t bad = 0;
        static const uint32_t cand[] = {TW_MODE_AUTHENTICATED, TW_MODE_ENCRYPTED, TW_MODE_MIXED,
                                        TW_MODE_UNAUTHENTICATED};
        for (size_t i = 0; i < 4 && !bad; i++)
            if (!(g.modes & cand[i]))
                bad = cand[i];
        if (!bad)
            bad = TW_MODE_UNAUTHENTICATED | 0x40000000u; /* a bit nobody offers */
        char exp[96];
        snprintf(exp, sizeof exp, "mode 0x%x refused: Server-Start Accept not 0, or closed", bad);
        /* (a keyed mode with a Token of no key: the mode is what is refused) */
        tw_secret_t none;
        memset(&none, 0, sizeof none);
        none.len = 1;
        tw_check_cfg_t nk = *cfg;
        nk.keyid = cfg->keyid ? cfg->keyid : "twampy-check";
        struct cc c2 = *c;
        c2.cfg = &nk;
        int tries;
        if (conn_open_retry(&c2, &k, bad, &none, why, sizeof why, &tries) < 0)
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp, "%s", why);
        else if (k.got == 1 && k.st.accept == TW_ACCEPT_TEMPORARY)
            tw_check_add(t, TW_CHECK_WARN, "mode not offered", "RFC 4656 §3.1", exp,
                         "Accept 5 (temporary resource limitation) %d times: not checked", tries);
        else if (k.got == 1 && k.st.accept)
            tw_check_add(t, TW_CHECK_PASS, "mode not offered", "RFC 4656 §3.1", exp,
                         "Server-Start Accept %u (%s)", k.st.accept, tw_accept_str(k.st.accept));
        else if (k.got == 1)
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp,
                         "Server-Start Accept 0: the mode was accepted");
        else if (k.got == 0)
            tw_check_add(t, TW_CHECK_PASS, "mode not offered", "RFC 4656 §3.1", exp,
                         "the connection was closed");
        else
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp,
                         "no answer within the timeout");
        conn_close(&k);
    }

    /* 3. The wrong key (with --keyfile): refused at Server-Start. */
    if (cfg->secret) {
        tw_secret_t wrong = *cfg->secret;
        wrong.bytes[0] ^= 0x55;
        const char *exp = "a Token made with another passphrase refused: Accept not 0, or closed";
        int tries;
        if (conn_open_retry(c, &k, smode, &wrong, why, sizeof why, &tries) < 0)
            tw_check_add(t, TW_CHECK_FAIL, "wrong key", "RFC 4656 §3.1", exp, "%s", why);
        else if (k.got == 1 && k.st.accept == TW_ACCEPT_TEMPORARY)
            tw_check_add(t, TW_CHECK_WARN, "wrong key", "RFC 4656 §3.1", exp,
                         "Accept 5 (temporary resource limitation) %d times: not checked", tries);
        else if (k.got == 1 && k.st.accept)
            tw_check_add(t, TW_CHECK_PASS, "wrong key", "RFC 4656 §3.1", exp,
                         "Server-Start Accept %u (%s)", k.st.accept, tw_accept_str(k.st.accept));
        else if (k.got == 1)
            tw_check_add(t, TW_CHECK_FAIL, "wrong key", "RFC 4656 §3.1", exp,
                         "Server-Start Accept 0: the wrong key was taken");
        else
            tw_check_add(t, k.got == 0 ? TW_CHECK_PASS : TW_CHECK_FAIL, "wrong key",
                         "RFC 4656 §3.1", exp, "%s",
                         k.got == 0 ? "the connection was closed" : "no answer within the timeout");
        explicit_bzero(&wrong, sizeof wrong);
        conn_close(&k);
    }

    /* 4. Requests with bad values, each on an open-mode connection of its own. */
    if (g.modes & TW_MODE_UNAUTHENTICATED) {
        bad_request(c, "Conf-Sender 1", "RFC 5357 §3.5", "Conf-Sender 1 (TWAMP: 0)", spoil_conf,
                    false);
        bad_request(c, "Type-P form 10", "RFC 4656 §3.5", "a Type-P Descriptor that is not a DSCP",
                    spoil_typep, false);
        bad_request(c, "IPVN 5", "RFC 4656 §3.5", "IP version 5", spoil_ipvn, true);
    }

    /* 5. A session, start to finish, on one connection, in smode. */
    const char *mname = tw_mode_name(smode);
    char sexp[96];
    snprintf(sexp, sizeof sexp, "Accept 0 for mode %s, a Start-Time", mname);
    int tries;
    if (conn_open_retry(c, &k, smode, cfg->secret, why, sizeof why, &tries) < 0 || k.got != 1) {
        tw_check_add(t, TW_CHECK_FAIL, "Server-Start", "RFC 4656 §3.1", sexp, "%s",
                     k.fd < 0     ? why
                     : k.got == 0 ? "closed without Server-Start"
                                  : "no Server-Start");
        conn_close(&k);
        return;
    }
    if (k.st.accept) {
        tw_check_add(t, TW_CHECK_FAIL, "Server-Start", "RFC 4656 §3.1", sexp, "Accept %u (%s)",
                     k.st.accept, tw_accept_str(k.st.accept));
        conn_close(&k);
        return;
    }
    if (!k.st.start_time)
        tw_check_add(t, TW_CHECK_WARN, "Server-Start", "RFC 4656 §3.1", sexp,
                     "Accept 0 (mode %s), Start-Time 0", mname);
    else
        tw_check_add(t, TW_CHECK_PASS, "Server-Start", "RFC 4656 §3.1", sexp,
                     "Accept 0 (mode %s), server started %.0f s ago%s", mname,
                     (double)(tw_now() - tw_ntp_to_time(k.st.start_time)) / 1e9,
                     tries > 1 ? " (after Accept 5, temporary resource limitation)" : "");

    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    local.ss_family = cfg->target.ss_family;
    tw_sockopts_t so = {.ttl = 64};
    char uerr[160];
    int ufd = tw_udp_open((struct sockaddr *)&local, tw_addr_len(&local), &so, uerr, sizeof uerr);
    if (ufd < 0) {
        tw_check_add(t, TW_CHECK_SKIP, "remaining tests", "-", "a local UDP socket", "%s", uerr);
        conn_close(&k);
        return;
    }
    struct tsess ts;
    memset(&ts, 0, sizeof ts);
    ts.sec = smode;
    struct sockaddr_storage ub;
    socklen_t ubl = sizeof ub;
    getsockname(ufd, (struct sockaddr *)&ub, &ubl);
    tw_request_session_t rq;
    request_of(c, &rq, tw_addr_port(&ub), smode);
    uint8_t msg[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&rq, msg, sizeof msg);
    uint8_t acc[TW_CTRL_ACCEPT_SESSION_LEN];
    int r = conn_send(c, &k, msg, sizeof msg) ? conn_recv(c, &k, acc, sizeof acc) : 0;
    tw_accept_session_t as;
    memset(&as, 0, sizeof as);
    const char *aexp = "Accept 0, a Port, a SID of receiver address (4), NTP time (8), random (4)";
    if (r != 1) {
        tw_check_add(t, TW_CHECK_FAIL, "Accept-Session", "RFC 5357 §3.5, RFC 4656 §3.5", aexp, "%s",
                     recv_err(r));
        goto out;
    }
    tw_accept_session_decode(acc, sizeof acc, &as);
    {
        uint8_t zero[16] = {0}, addr[16];
        raw_addr(&cfg->target, addr);
        tw_time_t sid_t = tw_ntp_to_time(tw_get64(as.sid + 4));
        int64_t age = tw_now() - sid_t;
        bool v4 = cfg->target.ss_family == AF_INET;
        if (as.accept)
            tw_check_add(t, TW_CHECK_FAIL, "Accept-Session", "RFC 5357 §3.5", aexp,
                         "Accept %u (%s) for a valid request", as.accept, tw_accept_str(as.accept));
        else if (!as.port || !memcmp(as.sid, zero, 16))
            tw_check_add(t, TW_CHECK_FAIL, "Accept-Session", "RFC 5357 §3.5, RFC 4656 §3.5", aexp,
                         "Port %u, SID %s", as.port, memcmp(as.sid, zero, 16) ? "set" : "all zero");
        else if ((v4 && memcmp(as.sid, addr, 4)) || age > 86400 * TW_NS_PER_SEC ||
                 age < -86400 * TW_NS_PER_SEC)
            tw_check_add(t, TW_CHECK_WARN, "Accept-Session", "RFC 4656 §3.5", aexp,
                         "Port %u; SID %s", as.port,
                         v4 && memcmp(as.sid, addr, 4) ? "does not start with the receiver address"
                                                       : "time is more than a day off");
        else
            tw_check_add(t, TW_CHECK_PASS, "Accept-Session", "RFC 5357 §3.5, RFC 4656 §3.5", aexp,
                         "Accept 0, Port %u, SID as described", as.port);
    }
    if (as.accept)
        goto out;
    if (tw_mode_test_protected(smode)) {
        /* The session's test keys from the Session-keys and the SID (RFC 4656 §4.1.2). */
        if (tw_test_crypto_init(&ts.tc, k.cr.aes_key, k.cr.hmac_key, as.sid) < 0) {
            tw_check_add(t, TW_CHECK_SKIP, "remaining tests", "-", "the session's test keys",
                         "cannot derive them");
            goto out;
        }
        ts.prot = true;
    }

    /* Start-Sessions / Start-Ack. */
    memset(msg, 0, sizeof msg);
    tw_start_sessions_encode(NULL, msg, TW_CTRL_START_SESSIONS_LEN);
    r = conn_send(c, &k, msg, TW_CTRL_START_SESSIONS_LEN)
            ? conn_recv(c, &k, acc, TW_CTRL_START_ACK_LEN)
            : 0;
    if (r != 1 || acc[0]) {
        tw_check_add(t, TW_CHECK_FAIL, "Start-Ack", "RFC 5357 §3.7", "Start-Ack with Accept 0",
                     "%s", r == 1 ? tw_accept_str(acc[0]) : recv_err(r));
        goto out;
    }
    tw_check_add(t, TW_CHECK_PASS, "Start-Ack", "RFC 5357 §3.7", "Start-Ack with Accept 0",
                 "Accept 0");

    /* Test packets in the negotiated mode. */
    struct sockaddr_storage dst = cfg->target;
    tw_addr_set_port(&dst, as.port);
    size_t want = ts.prot ? TW_REFLECTOR_AUTH_LEN : TW_REFLECTOR_BASE_LEN;
    {
        int ok = 0;
        size_t len = 0;
        bool echo = true, from = true, hmac = true;
        for (uint32_t i = 0; i < 3; i++) {
            bool e = false, f = false, h = true;
            size_t l = test_packet(c, ufd, &dst, &ts, i, c->timeout, &e, &f, &h);
            if (l) {
                ok++;
                len = l;
                echo = echo && e;
                from = from && f;
                hmac = hmac && h;
            }
        }
        char exp[128];
        snprintf(exp, sizeof exp, "3 replies of %zu octets from the accepted port, fields echoed%s",
                 want, ts.prot ? ", HMAC verified" : "");
        tw_check_result_t res = ok == 3 && len == want && echo && from && hmac ? TW_CHECK_PASS
                                : ok                                           ? TW_CHECK_WARN
                                                                               : TW_CHECK_FAIL;
        if (ok && (!echo || !from || !hmac || len < want))
            res = TW_CHECK_FAIL;
        tw_check_add(t, res, "test packets",
                     ts.prot ? "RFC 5357 §4.1.2, §4.2.1" : "RFC 5357 §4.2.1", exp,
                     "%d of 3 answered (mode %s), %zu octets%s%s%s", ok, mname, len,
                     hmac ? "" : ", HMAC does not verify", echo ? "" : ", fields not echoed",
                     from ? "" : ", from another port");
    }

    /* Stop-Sessions: no reply is due (RFC 5357 §3.8). */
    tw_stop_sessions_t ss = {.accept = 0, .num_sessions = 1};
    tw_stop_sessions_encode(&ss, msg, TW_CTRL_STOP_SESSIONS_LEN);
    int64_t stopped = tw_mono_now();
    if (!conn_send(c, &k, msg, TW_CTRL_STOP_SESSIONS_LEN)) {
        tw_check_add(t, TW_CHECK_FAIL, "Stop-Sessions", "RFC 5357 §3.8", "taken without a reply",
                     "could not be sent");
        goto out;
    }
    {
        /* The session reflects on for its Timeout (1 s) after Stop-Sessions
         * (packets still in flight), then no more. */
        bool e = false, f = false, h = true;
        size_t during = test_packet(c, ufd, &dst, &ts, 100, c->timeout, &e, &f, &h);
        uint8_t extra[64];
        int rr = read_exact(k.fd, extra, 1, tw_mono_now() + 200 * TW_NS_PER_MS);
        tw_check_add(t, rr == 1 ? TW_CHECK_WARN : TW_CHECK_PASS, "Stop-Sessions", "RFC 5357 §3.8",
                     "taken without a reply",
                     rr == 1 ? "the server sent something back" : "no reply%s",
                     rr == 0 ? "; the connection was closed" : "");
        /* After Timeout + 1 s of slack, nothing more. */
        int64_t after = stopped + 2 * TW_NS_PER_SEC;
        while (tw_mono_now() < after)
            poll(NULL, 0, (int)((after - tw_mono_now()) / TW_NS_PER_MS) + 1);
        int64_t wait = c->timeout < TW_NS_PER_SEC ? c->timeout : TW_NS_PER_SEC;
        size_t late = test_packet(c, ufd, &dst, &ts, 101, wait, &e, &f, &h);
        const char *exp = "reflects during the 1 s Timeout after Stop-Sessions, not after it";
        if (during && !late)
            tw_check_add(t, TW_CHECK_PASS, "Timeout after Stop", "RFC 5357 §3.8", exp,
                         "answered right after Stop-Sessions, silent 2 s after");
        else if (late)
            tw_check_add(t, TW_CHECK_WARN, "Timeout after Stop", "RFC 5357 §3.8", exp,
                         "still reflecting 2 s after Stop-Sessions");
        else
            tw_check_add(t, TW_CHECK_WARN, "Timeout after Stop", "RFC 5357 §3.8", exp,
                         "stopped at once: packets still in flight get no reply");
    }
out:
    tw_test_crypto_free(&ts.tc);
    close(ufd);
    conn_close(&k);
}

int tw_check_control(const tw_check_cfg_t *cfg, tw_check_table_t *t, char *err, size_t errlen)
{
    char a[TW_ADDRSTRLEN];
    tw_addr_str((const struct sockaddr *)&cfg->target, a, sizeof a);
    int64_t timeout = cfg->timeout_ns > 0 ? cfg->timeout_ns : 2 * TW_NS_PER_SEC;
    tw_check_table_init(t, "control", a, timeout);
    snprintf(t->title, sizeof t->title,
             "twampy check --control: TWAMP server %s (%s, %g s per test)", a,
             cfg->secret ? "keyed: the strongest mode offered" : "unauthenticated mode",
             (double)timeout / 1e9);
    struct cc c = {.cfg = cfg, .t = t, .timeout = timeout};
    (void)err;
    (void)errlen;
    control_battery(&c);
    return 0;
}
