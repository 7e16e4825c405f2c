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
    tw_loop_t *loop;
    int fd;
    tw_watch_t watch;
    tw_timer_t timer;
    enum state st;
    int index; /* session being requested */
    uint8_t rbuf[TW_CTRL_SETUP_RESPONSE_LEN];
    size_t need, have;
    uint32_t server_modes, mode;
    tw_accept_session_t acc[TW_CTRL_MAX_SESSIONS];
    char peer[TW_ADDRSTRLEN];
};

static void fail(tw_ctrl_client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void shut(tw_ctrl_client_t *c)
{
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

/* Each control message goes out with one write. */
static int send_msg(tw_ctrl_client_t *c, const uint8_t *buf, size_t len, const char *what)
{
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
    m.start_time = tw_time_to_ntp(tw_now());
    m.timeout = ((uint64_t)(r->timeout_ns / TW_NS_PER_SEC) << 32) |
                (uint64_t)(((r->timeout_ns % TW_NS_PER_SEC) << 32) / TW_NS_PER_SEC);
    m.type_p = tw_type_p_from_dscp(r->dscp);
    uint8_t buf[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&m, buf, sizeof buf);
    tw_info("Request-TW-Session %d of %d: sender port %u, receiver port %u, padding %u, DSCP %d",
            c->index + 1, c->cfg.nsessions, r->sender_port, r->receiver_port, r->padding_length,
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
    if (!(g.modes & TW_MODE_UNAUTHENTICATED)) {
        fail(c,
             "TWAMP server %s offers no mode twampy supports: it offers %s, twampy speaks "
             "unauthenticated",
             c->peer, ms);
        return;
    }
    /* RFC 6038: ask for the symmetrical-size format (twampy's default packet
     * already has it) when the server offers it. */
    c->mode = TW_MODE_UNAUTHENTICATED | (g.modes & TW_MODE_SYMMETRICAL);
    tw_setup_response_t r;
    memset(&r, 0, sizeof r);
    r.mode = c->mode;
    uint8_t buf[TW_CTRL_SETUP_RESPONSE_LEN];
    tw_setup_response_encode(&r, buf, sizeof buf);
    if (send_msg(c, buf, sizeof buf, "Set-Up-Response") == 0)
        expect(c, ST_SERVER_START, TW_CTRL_SERVER_START_LEN);
}

static void on_message(tw_ctrl_client_t *c)
{
    if (tw_log_on(TW_LOG_DEBUG))
        tw_log_hex(TW_LOG_DEBUG, "CTRL.RX", c->rbuf, c->have);
    switch (c->st) {
    case ST_GREETING:
        on_greeting(c);
        break;
    case ST_SERVER_START: {
        tw_server_start_t s;
        tw_server_start_decode(c->rbuf, c->have, &s);
        tw_info("CTRL.RX <<Server-Start>> accept %u", s.accept);
        if (s.accept != TW_ACCEPT_OK) {
            fail(c, "TWAMP server %s refused the connection in Server-Start: Accept %u (%s)",
                 c->peer, s.accept, tw_accept_str(s.accept));
            return;
        }
        c->index = 0;
        send_request(c);
        break;
    }
    case ST_ACCEPT: {
        tw_accept_session_t *a = &c->acc[c->index];
        tw_accept_session_decode(c->rbuf, c->have, a);
        tw_info("CTRL.RX <<Accept-Session>> accept %u, port %u", a->accept, a->port);
        if (a->accept != TW_ACCEPT_OK) {
            fail(c, "TWAMP server %s refused session %d in Accept-Session: Accept %u (%s)", c->peer,
                 c->index + 1, a->accept, tw_accept_str(a->accept));
            return;
        }
        if (a->port == 0) {
            fail(c, "TWAMP server %s accepted session %d on port 0, which cannot be tested",
                 c->peer, c->index + 1);
            return;
        }
        if (++c->index < c->cfg.nsessions)
            send_request(c);
        else
            send_start(c);
        break;
    }
    case ST_START_ACK: {
        uint8_t accept;
        tw_start_ack_decode(c->rbuf, c->have, &accept, NULL);
        tw_info("CTRL.RX <<Start-Ack>> accept %u", accept);
        if (accept != TW_ACCEPT_OK) {
            fail(c, "TWAMP server %s refused Start-Sessions: Accept %u (%s)", c->peer, accept,
                 tw_accept_str(accept));
            return;
        }
        c->st = ST_RUNNING;
        tw_timer_cancel(c->loop, &c->timer);
        c->need = TW_CTRL_STOP_SESSIONS_LEN; /* only a Stop-Sessions may come now */
        c->have = 0;
        if (c->cfg.on_started)
            c->cfg.on_started(c->cfg.arg, c->acc, c->cfg.nsessions);
        break;
    }
    case ST_RUNNING: {
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
        fail(c, "cannot connect to TWAMP server %s: %s", c->peer, strerror(err));
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
    tw_addr_str((const struct sockaddr *)&cfg->server, c->peer, sizeof c->peer);
    if (cfg->use_connected_fd) {
        c->fd = cfg->connected_fd;
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        if (tw_loop_add(loop, &c->watch, c->fd, EPOLLIN, on_io, c) < 0) {
            snprintf(err, errlen, "cannot watch the control connection: %s", strerror(errno));
            close(c->fd);
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
        free(c);
        return -1;
    }
    if (tw_loop_add(loop, &c->watch, c->fd, EPOLLOUT | EPOLLIN, on_io, c) < 0) {
        snprintf(err, errlen, "cannot watch the control connection: %s", strerror(errno));
        close(c->fd);
        free(c);
        return -1;
    }
    tw_info("Connecting to TWAMP server %s", c->peer);
    tw_timer_set(loop, &c->timer, tw_mono_now() + cfg->step_timeout_ns, on_timeout, c);
    *out = c;
    return 0;
}

void tw_ctrl_client_stop(tw_ctrl_client_t *c)
{
    if (c->st == ST_DONE)
        return;
    if (c->st == ST_RUNNING) {
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
    free(c);
}
