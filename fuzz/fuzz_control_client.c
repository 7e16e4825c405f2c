/* fuzz_control_client: the TWAMP-Control client's state machine fed arbitrary
 * octets as what the server sends. Per input: a loop, a socketpair and a
 * client running over one end of it (use_connected_fd); the input is written
 * to the other end in chunks, one loop round after each, and what the client
 * sends is read back. Then the "server" closes its end, a few rounds run, and
 * everything is freed: no leak, no descriptor left open. No other socket is
 * opened (loopback_only.c would refuse any bind but loopback).
 *
 * Input: octet 0 cuts the rest into writes (fuzz.h: fuzz_split_init), octet 1
 * sets the client:
 *   bits 0-1  sessions to request: 1 + (bits % 3)
 *   bit 2     the server is [::1]:862 (IPv6 sessions), else 127.0.0.1:862
 *   bit 3     tw_ctrl_client_stop() once the stream is written
 *   bit 4     the client is closed before the server's end (no EOF seen)
 *   bit 5     the client holds a shared secret (KeyID "fuzz"), so a greeting
 *             that offers modes 2, 4 or 8 takes it into the key derivation,
 *             the Token and the encrypted, HMAC-checked control stream (KDF
 *             Count ceiling 2048, so an input never costs more than that)
 *   bit 6     RFC 5938 individual session control (mode 16 required): on
 *             on_started the client sends a Start-N-Sessions for every
 *             session, and each Start-N-Ack or Stop-N-Ack reaches on_n_ack
 *             naming sessions of this client only
 * The rest is the server's stream: Server Greeting, Server-Start, one
 * Accept-Session per session, Start-Ack, perhaps Stop-Sessions.
 *
 * Checks: the client sends only whole, valid messages in protocol order
 * (Set-Up-Response with a mode it may choose, at most one Request-TW-Session
 * per session, Start-Sessions only after the last Accept-Session, Stop-Sessions
 * only after Start-Ack); on_started reports every session, accepted on a port;
 * after on_failed or on_stopped no other callback comes. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "control_client.h"
#include "control_wire.h"
#include "fuzz.h"
#include "log.h"
#include "loop.h"
#include "ntptime.h"

#define KEEP 4096 /* octets of the client's messages kept for the checks */

typedef struct state {
    int nsessions;
    int started, failed, stopped;
    bool individual;
    tw_ctrl_client_t *client;
    int fd; /* the server's end, -1 once closed */
    uint8_t rx[KEEP];
    size_t rxlen;
} state_t;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    /* OpenSSL keeps its random devices open once it has used them: open them
     * now, so that fuzz_check_fds does not count them as a leak. */
    uint8_t warm[16];
    tw_auth_random(warm, sizeof warm);
    return 0;
}

static void on_started(void *arg, const tw_accept_session_t *acc, int n)
{
    state_t *st = arg;
    FUZZ_CHECK(st->started == 0 && st->failed == 0 && st->stopped == 0);
    st->started++;
    FUZZ_CHECK(n == st->nsessions);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(acc[i].accept == TW_ACCEPT_OK && acc[i].port != 0);
    if (st->individual) {
        int idx[TW_CTRL_MAX_SESSIONS];
        for (int i = 0; i < n; i++)
            idx[i] = i;
        tw_ctrl_client_start_n(st->client, idx, n);
    }
}

static void on_n_ack(void *arg, bool start, uint8_t accept, const int *idx, int n)
{
    state_t *st = arg;
    (void)start;
    (void)accept;
    FUZZ_CHECK(st->individual && st->started == 1 && st->failed == 0 && st->stopped == 0);
    FUZZ_CHECK(n >= 1 && n <= st->nsessions);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(idx[i] >= 0 && idx[i] < st->nsessions);
}

static void on_failed(void *arg, const char *why)
{
    state_t *st = arg;
    FUZZ_CHECK(st->failed == 0 && st->stopped == 0);
    FUZZ_CHECK(why != NULL && why[0] != '\0');
    st->failed++;
}

static void on_stopped(void *arg)
{
    state_t *st = arg;
    FUZZ_CHECK(st->failed == 0 && st->stopped == 0);
    st->stopped++;
}

static void drain(state_t *st)
{
    uint8_t tmp[4096];
    while (st->fd >= 0) {
        ssize_t n = recv(st->fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n <= 0)
            return;
        size_t k = (size_t)n;
        FUZZ_CHECK(k <= KEEP - st->rxlen); /* the client never says this much */
        memcpy(st->rx + st->rxlen, tmp, k);
        st->rxlen += k;
    }
}

static bool raw_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* What the client sent: whole messages, in protocol order. */
static void check_sent(const state_t *st, bool v6, bool secret)
{
    const uint8_t *p = st->rx;
    size_t left = st->rxlen, pos = 0;
    if (left == 0)
        return;
    FUZZ_CHECK(left >= TW_CTRL_SETUP_RESPONSE_LEN);
    tw_setup_response_t su;
    FUZZ_CHECK(tw_setup_response_decode(p, left, &su) == TW_WIRE_OK);
    uint32_t sec = su.mode & TW_MODE_SECURITY_MASK;
    FUZZ_CHECK(sec != 0 && (sec & (sec - 1)) == 0); /* exactly one security mode */
    if (sec != TW_MODE_UNAUTHENTICATED) {
        /* Only with a secret; what follows is ciphertext, checked by the
         * sanitizers and the callbacks' order rather than decoded here. */
        FUZZ_CHECK(secret);
        FUZZ_CHECK(!raw_zero(su.token, sizeof su.token));
        return;
    }
    FUZZ_CHECK(su.mode & TW_MODE_UNAUTHENTICATED);
    uint32_t may = TW_MODE_UNAUTHENTICATED | TW_MODE_SYMMETRICAL;
    if (st->individual)
        may |= TW_MODE_INDIVIDUAL;
    FUZZ_CHECK((su.mode & ~may) == 0);
    FUZZ_CHECK(!st->individual || (su.mode & TW_MODE_INDIVIDUAL));
    pos += TW_CTRL_SETUP_RESPONSE_LEN;

    int nreq = 0;
    while (st->rxlen - pos >= TW_CTRL_REQUEST_SESSION_LEN && p[pos] == TW_CMD_REQUEST_TW_SESSION) {
        tw_request_session_t rq;
        FUZZ_CHECK(tw_request_session_decode(p + pos, st->rxlen - pos, &rq) == TW_WIRE_OK);
        FUZZ_CHECK(rq.ipvn == (v6 ? 6 : 4));
        FUZZ_CHECK(tw_type_p_dscp(rq.type_p) >= 0);
        nreq++;
        pos += TW_CTRL_REQUEST_SESSION_LEN;
    }
    FUZZ_CHECK(nreq <= st->nsessions);
    if (st->individual) {
        /* RFC 5938: Start-N-Sessions for every session after the last
         * Accept-Session, then perhaps Stop-N-Sessions; never 2 or 3. */
        while (st->rxlen - pos >= 16) {
            tw_n_sessions_t m;
            FUZZ_CHECK(tw_n_sessions_decode(p + pos, st->rxlen - pos, &m) == TW_WIRE_OK);
            FUZZ_CHECK(m.cmd == TW_CMD_START_N_SESSIONS || m.cmd == TW_CMD_STOP_N_SESSIONS);
            FUZZ_CHECK(nreq == st->nsessions && st->started == 1);
            FUZZ_CHECK(m.num_sessions >= 1 && m.num_sessions <= (uint32_t)st->nsessions);
            pos += TW_CTRL_N_LEN(m.num_sessions);
        }
        FUZZ_CHECK(pos == st->rxlen);
        return;
    }
    if (st->rxlen - pos >= TW_CTRL_START_SESSIONS_LEN && p[pos] == TW_CMD_START_SESSIONS) {
        FUZZ_CHECK(tw_start_sessions_decode(p + pos, st->rxlen - pos, NULL) == TW_WIRE_OK);
        FUZZ_CHECK(nreq == st->nsessions);
        pos += TW_CTRL_START_SESSIONS_LEN;
        if (st->rxlen - pos >= TW_CTRL_STOP_SESSIONS_LEN) {
            tw_stop_sessions_t sp;
            FUZZ_CHECK(tw_stop_sessions_decode(p + pos, st->rxlen - pos, &sp) == TW_WIRE_OK);
            FUZZ_CHECK(st->started == 1);
            FUZZ_CHECK(sp.num_sessions == (uint32_t)st->nsessions);
            pos += TW_CTRL_STOP_SESSIONS_LEN;
        }
    }
    FUZZ_CHECK(pos == st->rxlen);
}

static void write_all(tw_loop_t *loop, state_t *st, const uint8_t *buf, size_t len)
{
    int stuck = 0;
    while (len > 0 && st->fd >= 0) {
        ssize_t n = send(st->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stuck++ < 8) {
            tw_loop_run_once(loop, 0);
            drain(st);
            continue;
        }
        return; /* the client has closed its end */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t split = size > 0 ? data[0] : 0;
    uint8_t flags = size > 1 ? data[1] : 0;
    const uint8_t *stream = size > 2 ? data + 2 : data + size;
    size_t slen = size > 2 ? size - 2 : 0;
    bool v6 = (flags & 4) != 0;

    state_t *st = calloc(1, sizeof *st);
    FUZZ_CHECK(st != NULL);
    st->nsessions = 1 + (flags & 3) % 3;
    st->individual = (flags & 64) != 0;

    tw_ctrl_client_cfg_t *cfg = calloc(1, sizeof *cfg);
    FUZZ_CHECK(cfg != NULL);
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->server;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons(862);
        cfg->server_len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->server;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4->sin_port = htons(862);
        cfg->server_len = sizeof *s4;
    }
    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    cfg->use_connected_fd = true;
    cfg->connected_fd = sv[0];
    cfg->step_timeout_ns = 3600 * TW_NS_PER_SEC;
    cfg->nsessions = st->nsessions;
    for (int i = 0; i < st->nsessions; i++) {
        cfg->req[i].sender_port = (uint16_t)(20000 + i);
        cfg->req[i].receiver_port = 0;
        cfg->req[i].padding_length = 27;
        cfg->req[i].dscp = i * 8;
        cfg->req[i].timeout_ns = TW_NS_PER_SEC;
    }
    if (flags & 32) {
        static const char pass[] = "fuzzing passphrase";
        cfg->have_secret = true;
        memcpy(cfg->secret.bytes, pass, sizeof pass - 1);
        cfg->secret.len = sizeof pass - 1;
        strcpy(cfg->keyid, "fuzz");
        cfg->kdf_max_count = 2048;
    }
    cfg->individual = st->individual;
    cfg->on_started = on_started;
    cfg->on_n_ack = on_n_ack;
    cfg->on_failed = on_failed;
    cfg->on_stopped = on_stopped;
    cfg->arg = st;
    st->fd = sv[1];

    tw_loop_t *loop = tw_loop_new();
    FUZZ_CHECK(loop != NULL);
    tw_ctrl_client_t *c = NULL;
    char err[256];
    FUZZ_CHECK(tw_ctrl_client_open(&c, cfg, loop, err, sizeof err) == 0);
    st->client = c;

    fuzz_split_t sp;
    fuzz_split_init(&sp, split);
    size_t off = 0;
    while (off < slen) {
        size_t n = fuzz_split_next(&sp, slen - off);
        write_all(loop, st, stream + off, n);
        off += n;
        tw_loop_run_once(loop, 0);
        drain(st);
        if (st->failed)
            break;
    }
    if (flags & 8) {
        tw_ctrl_client_stop(c);
        tw_loop_run_once(loop, 0);
    }
    drain(st);
    check_sent(st, v6, (flags & 32) != 0);

    if (flags & 16) {
        tw_ctrl_client_close(c);
        close(st->fd);
    } else {
        close(st->fd);
        st->fd = -1;
        for (int round = 0; round < 3; round++)
            tw_loop_run_once(loop, 0);
        /* A client that has not stopped sees the server go. */
        FUZZ_CHECK(st->failed + st->stopped == 1);
        tw_ctrl_client_close(c);
    }
    tw_loop_free(loop);
    free(cfg);
    free(st);
    fuzz_check_fds();
    return 0;
}
