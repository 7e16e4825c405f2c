#include "control_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "ntptime.h"

enum state {
    ST_CONNECTING,
    ST_GREETING,     /* waiting for the Server Greeting */
    ST_SERVER_START, /* Set-Up-Response sent, waiting for Server-Start */
    ST_ACCEPT,       /* Request-TW-Session sent, waiting for Accept-Session */
    ST_START_ACK,    /* Start-Sessions sent, waiting for Start-Ack */
    ST_RUNNING,      /* sessions started; the test runs */
    ST_DONE,         /* stopped or failed */
};

static const char *const step_names[] = {
    "connecting",
    "waiting for the Server Greeting",
    "waiting for Server-Start",
    "waiting for Accept-Session",
    "waiting for Start-Ack",
    "running the test",
    "done",
};

struct tw_ctrl_client {
    tw_ctrl_client_cfg_t cfg;
    uint32_t modes[4]; /* the modes it may choose, strongest first */
    int nmodes;
    /* Modes 2, 4, 8: the control stream is protected from Server-Start on. */
    bool secure;
    tw_ctrl_crypto_t crypto;
    /* Between Set-Up-Response and Server-Start: the Session-keys and Client-IV
     * sent in it, until tw_ctrl_crypto_init takes them. */
    uint8_t aes_key[TW_AUTH_AES_KEY_LEN], hmac_key[TW_AUTH_HMAC_KEY_LEN], client_iv[TW_AUTH_IV_LEN];
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_timer_t timer;
    enum state st;
    int index;                                  /* session being requested */
    uint8_t rbuf[TW_CTRL_N_LEN(TW_CTRL_N_MAX)]; /* the longest: a Start-N-Ack */
    size_t need, have;
    bool block0_open;                     /* mode 16, running: the first block is decrypted */
    bool n_stopped[TW_CTRL_MAX_SESSIONS]; /* mode 16: Stop-N-Sessions sent */
    uint32_t server_modes, mode;
    tw_accept_session_t acc[TW_CTRL_MAX_SESSIONS];
    char peer[TW_ADDRSTRLEN];
};

static void fail(tw_ctrl_client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wipe every secret the client holds (the stream's keys go with the state). */
static void forget_secrets(tw_ctrl_client_t *c)
{
    tw_secret_cleanse(&c->cfg.secret);
    explicit_bzero(c->aes_key, sizeof c->aes_key);
    explicit_bzero(c->hmac_key, sizeof c->hmac_key);
    tw_ctrl_crypto_free(&c->crypto);
}

static void shut(tw_ctrl_client_t *c)
{
    forget_secrets(c);
    tw_timer_cancel(c->loop, &c->timer);
    if (c->fd >= 0) {
        tw_loop_del(c->loop, &c->watch);
        close(c->fd);
        c->fd = -1;
    }
    c->st = ST_DONE;
}

static void fail(tw_ctrl_client_t *c, const char *fmt, ...)
{
    if (c->st == ST_DONE)
        return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    shut(c);
    if (c->cfg.on_failed)
        c->cfg.on_failed(c->cfg.arg, why);
}

static void on_timeout(void *arg)
{
    tw_ctrl_client_t *c = arg;
    fail(c, "TWAMP server %s: timed out after %.1f s %s", c->peer,
         (double)c->cfg.step_timeout_ns / 1e9, step_names[c->st]);
}

/* Wait for a message of len octets in state st, with the step timeout. */
static void expect(tw_ctrl_client_t *c, enum state st, size_t len)
{
    c->st = st;
    c->need = len;
    c->have = 0;
    tw_timer_set(c->loop, &c->timer, tw_mono_now() + c->cfg.step_timeout_ns, on_timeout, c);
}

/* Each control message goes out with one write. From Server-Start on, in
 * modes 2, 4 and 8, it is sealed first (HMAC, then encrypted in place), so the
 * debug dump shows the ciphertext. */
static int send_msg(tw_ctrl_client_t *c, uint8_t *buf, size_t len, const char *what)
{
    if (c->secure) {
        int rc = tw_ctrl_seal(&c->crypto, buf, len);
        if (rc < 0) {
            fail(c, "TWAMP server %s: cannot protect %s: %s", c->peer, what, tw_auth_strerror(rc));
            return -1;
        }
    }
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "CTRL.TX", buf, len);
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n != (ssize_t)len) {
        fail(c, "TWAMP server %s: cannot send %s: %s", c->peer, what,
             n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    tw_info("CTRL.TX <<%s>>", what);
    return 0;
}

static void send_request(tw_ctrl_client_t *c)
{
    const tw_ctrl_session_req_t *r = &c->cfg.req[c->index];
    tw_request_session_t m;
    memset(&m, 0, sizeof m);
    m.ipvn = c->cfg.server.ss_family == AF_INET6 ? 6 : 4;
    m.sender_port = r->sender_port;
    m.receiver_port = r->receiver_port;
    memcpy(m.sender_addr, r->sender_addr, 16);
    memcpy(m.receiver_addr, r->receiver_addr, 16);
    m.padding_length = r->padding_length;
    if (c->mode & TW_MODE_SYMMETRICAL) {
        /* RFC 6038 §4.2: the Padding Length counts the octets the sender
         * appends as Packet Padding; in the symmetrical-size format (§5.1.4)
         * they follow the 27 MBZ octets: a 41-octet packet announces 0, as
         * packet length - 41 (the greeting step made sure of >= 27). */
        m.padding_length = r->padding_length - ((c->mode & TW_MODE_DSCP_ECN) ? 28 : 27);
    }
    if (c->mode & TW_MODE_REFLECT_OCTETS) {
        m.octets_to_reflect = r->octets_to_reflect;
        m.padding_to_reflect = r->padding_to_reflect;
    }
    m.start_time = tw_time_to_ntp(r->start_time ? r->start_time : tw_now());
    m.timeout = ((uint64_t)(r->timeout_ns / TW_NS_PER_SEC) << 32) |
                (uint64_t)(((r->timeout_ns % TW_NS_PER_SEC) << 32) / TW_NS_PER_SEC);
    m.type_p = tw_type_p_from_dscp(r->dscp);
    uint8_t buf[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&m, buf, sizeof buf);
    tw_info("Request-TW-Session %d of %d: sender port %u, receiver port %u, Padding Length %u, "
            "DSCP %d",
            c->index + 1, c->cfg.nsessions, r->sender_port, r->receiver_port, m.padding_length,
            r->dscp);
    if (send_msg(c, buf, sizeof buf, "Request-TW-Session") == 0)
        expect(c, ST_ACCEPT, TW_CTRL_ACCEPT_SESSION_LEN);
}

static void send_start(tw_ctrl_client_t *c)
{
    uint8_t buf[TW_CTRL_START_SESSIONS_LEN];
    tw_start_sessions_encode(NULL, buf, sizeof buf);
    if (send_msg(c, buf, sizeof buf, "Start-Sessions") == 0)
        expect(c, ST_START_ACK, TW_CTRL_START_ACK_LEN);
}

static void on_greeting(tw_ctrl_client_t *c)
{
    tw_greeting_t g;
    tw_greeting_decode(c->rbuf, c->have, &g);
    c->server_modes = g.modes;
    char ms[160];
    tw_modes_str(g.modes, ms, sizeof ms); /* also for the failure messages below */
    tw_info("CTRL.RX <<Server Greeting>> modes %s", ms);
    if ((g.modes & TW_MODE_SECURITY_MASK) == 0) {
        fail(c, "TWAMP server %s refuses service: its greeting offers no mode (modes %s)", c->peer,
             ms);
        return;
    }
    uint32_t sec = 0;
    for (int i = 0; i < c->nmodes && !sec; i++)
        if (g.modes & c->modes[i])
            sec = c->modes[i];
    if (!sec) {
        uint32_t secure = TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED | TW_MODE_MIXED;
        if (!c->cfg.have_secret && !(g.modes & TW_MODE_UNAUTHENTICATED) && (g.modes & secure)) {
            fail(c,
                 "TWAMP server %s offers only modes that need a shared secret (it offers %s): "
                 "give the key with --keyfile and --keyid",
                 c->peer, ms);
            return;
        }
        char want[64] = "";
        for (int i = 0; i < c->nmodes; i++) {
            if (i)
                strncat(want, ",", sizeof want - strlen(want) - 1);
            strncat(want, tw_mode_name(c->modes[i]), sizeof want - strlen(want) - 1);
        }
        fail(c,
             "TWAMP server %s offers no mode this client accepts: it offers %s, the client "
             "accepts %s (--modes)",
             c->peer, ms, want);
        return;
    }
    tw_setup_response_t r;
    memset(&r, 0, sizeof r);
    if (sec != TW_MODE_UNAUTHENTICATED) {
        /* RFC 4656 §3.1: the key from the secret, Salt and Count; the Token
         * carries the Challenge and the Session-keys chosen here. */
        uint32_t ceiling =
            c->cfg.kdf_max_count ? c->cfg.kdf_max_count : TW_KDF_COUNT_CEILING_DEFAULT;
        if (g.count < TW_KDF_COUNT_MIN || g.count > ceiling) {
            if (g.count < TW_KDF_COUNT_MIN)
                fail(c,
                     "TWAMP server %s announces a key derivation Count of %u, below the "
                     "minimum of %u (RFC 4656)",
                     c->peer, g.count, TW_KDF_COUNT_MIN);
            else
                fail(c,
                     "TWAMP server %s announces a key derivation Count of %u, above this "
                     "client's ceiling of %u (--kdf-max-count): refused",
                     c->peer, g.count, ceiling);
            return;
        }
        uint8_t key[TW_AUTH_AES_KEY_LEN];
        int rc = tw_kdf(&c->cfg.secret, g.salt, g.count, ceiling, key);
        tw_secret_cleanse(&c->cfg.secret); /* the key is all it takes from now on */
        if (rc == TW_AUTH_OK)
            rc = tw_auth_random(c->aes_key, sizeof c->aes_key);
        if (rc == TW_AUTH_OK)
            rc = tw_auth_random(c->hmac_key, sizeof c->hmac_key);
        if (rc == TW_AUTH_OK)
            rc = tw_auth_random(c->client_iv, sizeof c->client_iv);
        if (rc == TW_AUTH_OK)
            rc = tw_token_make(key, g.challenge, c->aes_key, c->hmac_key, r.token);
        explicit_bzero(key, sizeof key);
        if (rc == TW_AUTH_OK)
            rc = tw_keyid_encode(c->cfg.keyid, r.key_id);
        if (rc < 0) {
            fail(c, "TWAMP server %s: cannot build the Set-Up-Response for mode %s: %s", c->peer,
                 tw_mode_name(sec), tw_auth_strerror(rc));
            return;
        }
        memcpy(r.client_iv, c->client_iv, sizeof r.client_iv);
    }
    tw_secret_cleanse(&c->cfg.secret); /* not needed any more, whatever the mode */
    /* RFC 6038: reflect octets when asked for; the symmetrical-size format
     * when asked for, or (twampy's default packet already has it) when the
     * server offers it, the test format is unauthenticated and every packet
     * has room for the 27 MBZ octets and the padding to reflect after them. */
    c->mode = sec;
    if (c->cfg.reflect_octets) {
        if (!(g.modes & TW_MODE_REFLECT_OCTETS)) {
            fail(c,
                 "TWAMP server %s does not offer RFC 6038 reflect octets (mode 32; it offers %s)",
                 c->peer, ms);
            return;
        }
        c->mode |= TW_MODE_REFLECT_OCTETS;
    }
    if (c->cfg.individual) {
        if (!(g.modes & TW_MODE_INDIVIDUAL)) {
            fail(c,
                 "TWAMP server %s does not offer RFC 5938 individual session control (mode 16; "
                 "it offers %s)",
                 c->peer, ms);
            return;
        }
        c->mode |= TW_MODE_INDIVIDUAL;
    }
    if (c->cfg.dscp_ecn) {
        if (!(g.modes & TW_MODE_DSCP_ECN)) {
            fail(c,
                 "TWAMP server %s does not offer RFC 7750 DSCP and ECN monitoring (mode 256; it "
                 "offers %s)",
                 c->peer, ms);
            return;
        }
        c->mode |= TW_MODE_DSCP_ECN;
    }
    bool padded = true;
    for (int i = 0; i < c->cfg.nsessions; i++) {
        const tw_ctrl_session_req_t *rq = &c->cfg.req[i];
        uint32_t need =
            (c->cfg.dscp_ecn ? 28u : 27u) + (c->cfg.reflect_octets ? rq->padding_to_reflect : 0u);
        padded = padded && rq->padding_length >= need;
    }
    if (c->cfg.symmetrical) {
        if (!(g.modes & TW_MODE_SYMMETRICAL)) {
            fail(c,
                 "TWAMP server %s does not offer RFC 6038 symmetrical size (mode 64; it offers "
                 "%s)",
                 c->peer, ms);
            return;
        }
        if (tw_mode_test_protected(sec)) {
            fail(c,
                 "TWAMP server %s: symmetrical size (mode 64) is for the unauthenticated test "
                 "format (RFC 6038 section 5.1.4), and mode %s protects the test packets",
                 c->peer, tw_mode_name(sec));
            return;
        }
        if (!padded) {
            fail(c, "symmetrical size (mode 64) needs a padding of 27 octets or more (the "
                    "format's MBZ octets), plus the padding to reflect");
            return;
        }
    }
    /* With RFC 7750 the symmetrical format has 28 MBZ octets (its section
     * 2.2.2): only when asked for. */
    if (!tw_mode_test_protected(sec) && padded && (g.modes & TW_MODE_SYMMETRICAL) &&
        (!c->cfg.dscp_ecn || c->cfg.symmetrical))
        c->mode |= TW_MODE_SYMMETRICAL;
    r.mode = c->mode;
    tw_info("Mode %s (Set-Up-Response mode %u)", tw_mode_name(sec), c->mode);
    uint8_t buf[TW_CTRL_SETUP_RESPONSE_LEN];
    tw_setup_response_encode(&r, buf, sizeof buf);
    explicit_bzero(&r, sizeof r);
    if (send_msg(c, buf, sizeof buf, "Set-Up-Response") == 0)
        expect(c, ST_SERVER_START, TW_CTRL_SERVER_START_LEN);
}

/* Server-Start (RFC 4656 §3.1): octets 0..31 in clear; in modes 2, 4, 8 with
 * Accept 0, octets 32..47 are the first of the server's encrypted stream. */
static bool on_server_start(tw_ctrl_client_t *c)
{
    tw_server_start_t s;
    tw_server_start_decode(c->rbuf, c->have, &s);
    tw_info("CTRL.RX <<Server-Start>> accept %u", s.accept);
    uint32_t sec = c->mode & TW_MODE_SECURITY_MASK;
    if (s.accept != TW_ACCEPT_OK) {
        if (sec != TW_MODE_UNAUTHENTICATED && s.accept == TW_ACCEPT_FAILURE)
            fail(c,
                 "TWAMP server %s rejected the key in Server-Start (Accept %u: %s): in mode %s "
                 "this means the passphrase of KeyID '%s' is wrong or the server has no such "
                 "KeyID",
                 c->peer, s.accept, tw_accept_str(s.accept), tw_mode_name(sec), c->cfg.keyid);
        else
            fail(c, "TWAMP server %s refused the connection in Server-Start: Accept %u (%s)",
                 c->peer, s.accept, tw_accept_str(s.accept));
        return false;
    }
    if (sec == TW_MODE_UNAUTHENTICATED)
        return true;
    int rc = tw_ctrl_crypto_init(&c->crypto, c->aes_key, c->hmac_key, c->client_iv, s.server_iv);
    explicit_bzero(c->aes_key, sizeof c->aes_key);
    explicit_bzero(c->hmac_key, sizeof c->hmac_key);
    if (rc == TW_AUTH_OK)
        rc = tw_ctrl_open_partial(&c->crypto, c->rbuf + 32, TW_CTRL_SERVER_START_LEN - 32);
    if (rc < 0) {
        fail(c, "TWAMP server %s: cannot set up the encrypted control stream: %s", c->peer,
             tw_auth_strerror(rc));
        return false;
    }
    c->secure = true;
    return true;
}

/* Modes 2, 4, 8: decrypt the whole message and check its HMAC before anything
 * in it is looked at. */
static bool open_msg(tw_ctrl_client_t *c, const char *what)
{
    if (!c->secure)
        return true;
    int rc = tw_ctrl_open(&c->crypto, c->rbuf, c->have, 0);
    if (rc == TW_AUTH_OK)
        return true;
    if (rc == TW_AUTH_EINTEGRITY)
        fail(c,
             "TWAMP server %s: the %s failed its integrity check (HMAC): the message was "
             "altered in flight or the server's keys differ; connection closed",
             c->peer, what);
    else
        fail(c, "TWAMP server %s: cannot decrypt the %s: %s", c->peer, what, tw_auth_strerror(rc));
    return false;
}

/* The sessions are started (mode 16: may be): only a Stop-Sessions may come
 * now, and in mode 16 Start-N-Acks and Stop-N-Acks, read by their first block. */
static void running(tw_ctrl_client_t *c)
{
    c->st = ST_RUNNING;
    tw_timer_cancel(c->loop, &c->timer);
    c->need = (c->mode & TW_MODE_INDIVIDUAL) ? 16 : TW_CTRL_STOP_SESSIONS_LEN;
    c->have = 0;
    c->block0_open = false;
    if (c->cfg.on_started)
        c->cfg.on_started(c->cfg.arg, c->acc, c->cfg.nsessions);
}

/* The session whose SID this is, or -1. */
static int session_of(const tw_ctrl_client_t *c, const uint8_t sid[16])
{
    for (int i = 0; i < c->cfg.nsessions; i++)
        if (!memcmp(c->acc[i].sid, sid, 16))
            return i;
    return -1;
}

/* Mode 16, running: the first block names the message (Start-N-Ack,
 * Stop-N-Ack or a Stop-Sessions) and its length; a whole Start-N-Ack or
 * Stop-N-Ack goes to on_n_ack. Returns true for a whole other message (the
 * caller handles it as a Stop-Sessions from the server), false otherwise. */
static bool on_running_individual(tw_ctrl_client_t *c)
{
    if (c->have == 16 && !c->block0_open) {
        if (c->secure) {
            int rc = tw_ctrl_decrypt(&c->crypto, c->rbuf, 16);
            if (rc < 0) {
                fail(c, "TWAMP server %s: cannot decrypt a message: %s", c->peer,
                     tw_auth_strerror(rc));
                return false;
            }
        }
        c->block0_open = true;
        uint8_t cmd = c->rbuf[0];
        if (cmd == TW_CMD_START_N_ACK || cmd == TW_CMD_STOP_N_ACK) {
            uint32_t max =
                c->cfg.nsessions < TW_CTRL_N_MAX ? (uint32_t)c->cfg.nsessions : TW_CTRL_N_MAX;
            long n = tw_n_sessions_len(c->rbuf, 16, max);
            if (n < 0) {
                fail(c, "TWAMP server %s sent a %s for %u sessions (this client has %d)", c->peer,
                     cmd == TW_CMD_START_N_ACK ? "Start-N-Ack" : "Stop-N-Ack",
                     tw_get32(c->rbuf + 12), c->cfg.nsessions);
                return false;
            }
            c->need = (size_t)n;
        } else {
            c->need = TW_CTRL_STOP_SESSIONS_LEN;
        }
        return false; /* read the rest */
    }
    /* Whole: its HMAC checked before anything in it is used. */
    if (c->secure) {
        int rc = tw_ctrl_open(&c->crypto, c->rbuf, c->have, 16);
        if (rc < 0) {
            fail(c, "TWAMP server %s: a message received during the test %s", c->peer,
                 rc == TW_AUTH_EINTEGRITY ? "failed its integrity check (HMAC)"
                                          : "cannot be decrypted");
            return false;
        }
    }
    c->block0_open = false;
    uint8_t cmd = c->rbuf[0];
    if (cmd != TW_CMD_START_N_ACK && cmd != TW_CMD_STOP_N_ACK)
        return true; /* opened already */
    tw_n_sessions_t m;
    tw_n_sessions_decode(c->rbuf, c->have, &m);
    int idx[TW_CTRL_N_MAX];
    for (uint32_t i = 0; i < m.num_sessions; i++) {
        idx[i] = session_of(c, m.sids[i]);
        if (idx[i] < 0) {
            fail(c, "TWAMP server %s acknowledged a SID that is none of this client's sessions",
                 c->peer);
            return false;
        }
    }
    bool start = cmd == TW_CMD_START_N_ACK;
    tw_info("CTRL.RX <<%s>> accept %u, %u session%s", start ? "Start-N-Ack" : "Stop-N-Ack",
            m.accept, m.num_sessions, m.num_sessions == 1 ? "" : "s");
    c->need = 16;
    c->have = 0;
    if (c->cfg.on_n_ack)
        c->cfg.on_n_ack(c->cfg.arg, start, m.accept, idx, (int)m.num_sessions);
    return false;
}

static void on_message(tw_ctrl_client_t *c)
{
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "CTRL.RX", c->rbuf, c->have);
    switch (c->st) {
    case ST_GREETING:
        on_greeting(c);
        break;
    case ST_SERVER_START:
        if (!on_server_start(c))
            return;
        c->index = 0;
        send_request(c);
        break;
    case ST_ACCEPT: {
        if (!open_msg(c, "Accept-Session"))
            return;
        tw_accept_session_t *a = &c->acc[c->index];
        tw_accept_session_decode(c->rbuf, c->have, a);
        tw_info("CTRL.RX <<Accept-Session>> accept %u, port %u, reflected octets 0x%04x, server "
                "octets 0x%04x",
                a->accept, a->port, a->reflected_octets, a->server_octets);
        if (a->accept != TW_ACCEPT_OK) {
            fail(c, "TWAMP server %s refused session %d in Accept-Session: Accept %u (%s)", c->peer,
                 c->index + 1, a->accept, tw_accept_str(a->accept));
            return;
        }
        const tw_ctrl_session_req_t *rq = &c->cfg.req[c->index];
        if ((c->mode & TW_MODE_REFLECT_OCTETS) && a->reflected_octets != rq->octets_to_reflect) {
            fail(c,
                 "TWAMP server %s accepted session %d but returned Reflected octets 0x%04x "
                 "instead of 0x%04x (RFC 6038 section 4.3)",
                 c->peer, c->index + 1, a->reflected_octets, rq->octets_to_reflect);
            return;
        }
        if ((c->mode & TW_MODE_REFLECT_OCTETS) && a->server_octets && rq->padding_to_reflect < 2) {
            fail(c,
                 "TWAMP server %s wants Server octets 0x%04x back in session %d's test packets, "
                 "but only %u octets of padding are reflected (RFC 6038 section 4.3: they come "
                 "first "
                 "in it): ask for 2 or more",
                 c->peer, a->server_octets, c->index + 1, rq->padding_to_reflect);
            return;
        }
        if (a->port == 0) {
            fail(c, "TWAMP server %s accepted session %d on port 0, which cannot be tested",
                 c->peer, c->index + 1);
            return;
        }
        if (++c->index < c->cfg.nsessions)
            send_request(c);
        else if (c->mode & TW_MODE_INDIVIDUAL)
            running(c); /* RFC 5938: no Start-Sessions */
        else
            send_start(c);
        break;
    }
    case ST_START_ACK: {
        if (!open_msg(c, "Start-Ack"))
            return;
        uint8_t accept;
        tw_start_ack_decode(c->rbuf, c->have, &accept, NULL);
        tw_info("CTRL.RX <<Start-Ack>> accept %u", accept);
        if (accept != TW_ACCEPT_OK) {
            fail(c, "TWAMP server %s refused Start-Sessions: Accept %u (%s)", c->peer, accept,
                 tw_accept_str(accept));
            return;
        }
        running(c);
        break;
    }
    case ST_RUNNING: {
        if (c->mode & TW_MODE_INDIVIDUAL) {
            if (!on_running_individual(c))
                return;
        } else if (!open_msg(c, "message received during the test")) {
            return;
        }
        tw_stop_sessions_t s;
        if (tw_stop_sessions_decode(c->rbuf, c->have, &s) == 0)
            fail(c, "TWAMP server %s stopped the sessions (Stop-Sessions, Accept %u: %s)", c->peer,
                 s.accept, tw_accept_str(s.accept));
        else
            fail(c, "TWAMP server %s sent an unexpected message during the test (command %u)",
                 c->peer, c->rbuf[0]);
        break;
    }
    default:
        break;
    }
}

static void on_connected(tw_ctrl_client_t *c)
{
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
        /* Refused: nothing listens there; say what a first user needs. */
        fail(c, "cannot connect to TWAMP server %s: %s%s", c->peer, strerror(err),
             err == ECONNREFUSED ? " (no TWAMP server on that port: is TWAMP enabled there? "
                                   "For a TWAMP light or STAMP reflector use 'twampy sender')"
                                 : "");
        return;
    }
    tw_info("Connected to TWAMP server %s", c->peer);
    tw_loop_mod(c->loop, &c->watch, EPOLLIN);
    expect(c, ST_GREETING, TW_CTRL_GREETING_LEN);
}

static void on_io(void *arg, uint32_t events)
{
    tw_ctrl_client_t *c = arg;
    if (c->st == ST_CONNECTING) {
        on_connected(c);
        return;
    }
    while (c->st != ST_DONE && c->fd >= 0) {
        ssize_t n = recv(c->fd, c->rbuf + c->have, c->need - c->have, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            fail(c, "TWAMP server %s: connection error while %s: %s", c->peer, step_names[c->st],
                 strerror(errno));
            return;
        }
        if (n == 0) {
            if (c->have)
                fail(c, "TWAMP server %s closed the connection after %zu of %zu octets while %s",
                     c->peer, c->have, c->need, step_names[c->st]);
            else if (c->secure)
                fail(c,
                     "TWAMP server %s closed the connection while %s (in mode %s a server "
                     "closes it when a message fails its integrity check)",
                     c->peer, step_names[c->st], tw_mode_name(c->mode));
            else
                fail(c, "TWAMP server %s closed the connection while %s", c->peer,
                     step_names[c->st]);
            return;
        }
        c->have += (size_t)n;
        if (c->have == c->need) {
            on_message(c);
            if (c->st == ST_RUNNING && c->have == c->need)
                c->have = 0;
        }
    }
}

/* The modes the client may choose, strongest first (see the cfg). */
static int set_modes(tw_ctrl_client_t *c, char *err, size_t errlen)
{
    static const uint32_t strongest_first[4] = {TW_MODE_ENCRYPTED, TW_MODE_AUTHENTICATED,
                                                TW_MODE_MIXED, TW_MODE_UNAUTHENTICATED};
    const tw_ctrl_client_cfg_t *cfg = &c->cfg;
    if (cfg->nmodes == 0) {
        if (cfg->have_secret) {
            memcpy(c->modes, strongest_first, sizeof c->modes);
            c->nmodes = 4;
        } else {
            c->modes[0] = TW_MODE_UNAUTHENTICATED;
            c->nmodes = 1;
        }
        return 0;
    }
    if (cfg->nmodes < 0 || cfg->nmodes > 4) {
        snprintf(err, errlen, "between 1 and 4 modes can be given");
        return -1;
    }
    for (int i = 0; i < cfg->nmodes; i++) {
        uint32_t m = cfg->modes[i];
        if (m != TW_MODE_UNAUTHENTICATED && m != TW_MODE_AUTHENTICATED && m != TW_MODE_ENCRYPTED &&
            m != TW_MODE_MIXED) {
            snprintf(err, errlen, "mode %u is not one of open, authenticated, encrypted, mixed", m);
            return -1;
        }
        if (m != TW_MODE_UNAUTHENTICATED && !cfg->have_secret) {
            snprintf(err, errlen, "mode %s needs a shared secret (--keyfile and --keyid)",
                     tw_mode_name(m));
            return -1;
        }
        c->modes[i] = m;
    }
    c->nmodes = cfg->nmodes;
    return 0;
}

int tw_ctrl_client_open(tw_ctrl_client_t **out, const tw_ctrl_client_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen)
{
    if (cfg->nsessions < 1 || cfg->nsessions > TW_CTRL_MAX_SESSIONS) {
        snprintf(err, errlen, "between 1 and %d sessions can be requested", TW_CTRL_MAX_SESSIONS);
        return -1;
    }
    tw_ctrl_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->cfg = *cfg;
    c->loop = loop;
    c->fd = -1;
    tw_addr_str((const struct sockaddr *)&cfg->server, c->peer, sizeof c->peer);
    if (set_modes(c, err, errlen) < 0) {
        forget_secrets(c);
        free(c);
        return -1;
    }
    if (cfg->use_connected_fd) {
        c->fd = cfg->connected_fd;
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        if (tw_loop_add(loop, &c->watch, c->fd, EPOLLIN, on_io, c) < 0) {
            snprintf(err, errlen, "cannot watch the control connection: %s", strerror(errno));
            close(c->fd);
            forget_secrets(c);
            free(c);
            return -1;
        }
        expect(c, ST_GREETING, TW_CTRL_GREETING_LEN);
        *out = c;
        return 0;
    }
    c->fd = socket(cfg->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot open a TCP socket: %s", strerror(errno));
        forget_secrets(c);
        free(c);
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->st = ST_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)&cfg->server, cfg->server_len) < 0 &&
        errno != EINPROGRESS) {
        snprintf(err, errlen, "cannot connect to TWAMP server %s: %s", c->peer, strerror(errno));
        close(c->fd);
        forget_secrets(c);
        free(c);
        return -1;
    }
    if (tw_loop_add(loop, &c->watch, c->fd, EPOLLOUT | EPOLLIN, on_io, c) < 0) {
        snprintf(err, errlen, "cannot watch the control connection: %s", strerror(errno));
        close(c->fd);
        forget_secrets(c);
        free(c);
        return -1;
    }
    tw_info("Connecting to TWAMP server %s", c->peer);
    tw_timer_set(loop, &c->timer, tw_mono_now() + cfg->step_timeout_ns, on_timeout, c);
    *out = c;
    return 0;
}

static int send_n(tw_ctrl_client_t *c, uint8_t cmd, const int *idx, int n)
{
    if (c->st != ST_RUNNING || !(c->mode & TW_MODE_INDIVIDUAL) || n < 1 || n > TW_CTRL_N_MAX)
        return -1;
    tw_n_sessions_t m;
    memset(&m, 0, sizeof m);
    m.cmd = cmd;
    m.num_sessions = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= c->cfg.nsessions)
            return -1;
        memcpy(m.sids[i], c->acc[idx[i]].sid, 16);
    }
    uint8_t buf[TW_CTRL_N_LEN(TW_CTRL_N_MAX)];
    tw_n_sessions_encode(&m, buf, sizeof buf);
    const char *what = cmd == TW_CMD_START_N_SESSIONS ? "Start-N-Sessions" : "Stop-N-Sessions";
    if (send_msg(c, buf, TW_CTRL_N_LEN(n), what) < 0)
        return -1;
    if (cmd == TW_CMD_STOP_N_SESSIONS)
        for (int i = 0; i < n; i++)
            c->n_stopped[idx[i]] = true;
    return 0;
}

int tw_ctrl_client_start_n(tw_ctrl_client_t *c, const int *idx, int n)
{
    return send_n(c, TW_CMD_START_N_SESSIONS, idx, n);
}

int tw_ctrl_client_stop_n(tw_ctrl_client_t *c, const int *idx, int n)
{
    return send_n(c, TW_CMD_STOP_N_SESSIONS, idx, n);
}

void tw_ctrl_client_stop(tw_ctrl_client_t *c)
{
    if (c->st == ST_DONE)
        return;
    if (c->st == ST_RUNNING && (c->mode & TW_MODE_INDIVIDUAL)) {
        /* RFC 5938: no Stop-Sessions; the sessions still running stop. */
        int idx[TW_CTRL_N_MAX], n = 0;
        for (int i = 0; i < c->cfg.nsessions && n < TW_CTRL_N_MAX; i++)
            if (!c->n_stopped[i])
                idx[n++] = i;
        if (n && send_n(c, TW_CMD_STOP_N_SESSIONS, idx, n) < 0)
            return;
    } else if (c->st == ST_RUNNING) {
        tw_stop_sessions_t s = {.accept = TW_ACCEPT_OK, .num_sessions = (uint32_t)c->cfg.nsessions};
        uint8_t buf[TW_CTRL_STOP_SESSIONS_LEN];
        tw_stop_sessions_encode(&s, buf, sizeof buf);
        if (send_msg(c, buf, sizeof buf, "Stop-Sessions") < 0)
            return;
    }
    shut(c);
    if (c->cfg.on_stopped)
        c->cfg.on_stopped(c->cfg.arg);
}

uint32_t tw_ctrl_client_server_modes(const tw_ctrl_client_t *c)
{
    return c->server_modes;
}

uint32_t tw_ctrl_client_mode(const tw_ctrl_client_t *c)
{
    return c->mode;
}

int tw_ctrl_client_test_crypto(const tw_ctrl_client_t *c, int i, tw_test_crypto_t *t)
{
    if (!c || !t || !tw_mode_test_protected(c->mode & TW_MODE_SECURITY_MASK) || !c->secure ||
        i < 0 || i >= c->cfg.nsessions || c->acc[i].accept != TW_ACCEPT_OK)
        return TW_AUTH_EINVAL;
    return tw_test_crypto_init(t, c->crypto.aes_key, c->crypto.hmac_key, c->acc[i].sid);
}

int tw_ctrl_client_local(const tw_ctrl_client_t *c, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(c->fd, (struct sockaddr *)ss, len);
}

void tw_ctrl_client_close(tw_ctrl_client_t *c)
{
    if (!c)
        return;
    shut(c);
    explicit_bzero(c, sizeof *c);
    free(c);
}
