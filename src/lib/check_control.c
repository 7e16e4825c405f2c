/* check_control: the conformance battery of a TWAMP server (TWAMP-Control,
 * RFC 5357 §3 with the message layouts of RFC 4656 §3), in the unauthenticated
 * mode. Blocking sockets with poll() deadlines: every read waits at most the
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

/* A connection through the Server Greeting and a Set-Up-Response with mode:
 * returns the fd (*st filled when Server-Start came, *got 1; 0 when the server
 * closed instead, -1 on a timeout), or -1 when the connection or greeting
 * failed (why says so). */
static int set_up(struct cc *c, uint32_t mode, tw_greeting_t *g, tw_server_start_t *st, int *got,
                  char *why, size_t n)
{
    int fd = tcp_connect(c, why, n);
    if (fd < 0)
        return -1;
    uint8_t buf[TW_CTRL_SETUP_RESPONSE_LEN];
    int r = read_exact(fd, buf, TW_CTRL_GREETING_LEN, tw_mono_now() + c->timeout);
    if (r <= 0) {
        snprintf(why, n,
                 r == 0 ? "closed without a Server Greeting"
                        : "no Server Greeting within the timeout");
        close(fd);
        return -1;
    }
    tw_greeting_decode(buf, TW_CTRL_GREETING_LEN, g);
    if (!mode) {
        *got = -1;
        return fd;
    }
    tw_setup_response_t sr;
    memset(&sr, 0, sizeof sr);
    sr.mode = mode;
    tw_setup_response_encode(&sr, buf, sizeof buf);
    if (!write_all(fd, buf, TW_CTRL_SETUP_RESPONSE_LEN, tw_mono_now() + c->timeout)) {
        *got = 0;
        return fd;
    }
    *got = read_exact(fd, buf, TW_CTRL_SERVER_START_LEN, tw_mono_now() + c->timeout);
    if (*got == 1)
        tw_server_start_decode(buf, TW_CTRL_SERVER_START_LEN, st);
    return fd;
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

static void request_of(struct cc *c, tw_request_session_t *rq, uint16_t sender_port)
{
    memset(rq, 0, sizeof *rq);
    rq->ipvn = c->cfg->target.ss_family == AF_INET6 ? 6 : 4;
    rq->sender_port = sender_port;
    rq->receiver_port = 0;   /* the server's choice */
    rq->padding_length = 27; /* 41-octet test packets, as the reflector's (RFC 6038) */
    rq->start_time = tw_time_to_ntp(tw_now());
    rq->timeout = (uint64_t)1 << 32; /* 1 s */
    rq->type_p = tw_type_p_from_dscp(c->cfg->dscp >= 0 ? c->cfg->dscp : 0);
}

/* One Request-TW-Session with a bad value, on a connection of its own. */
static void bad_request(struct cc *c, const char *name, const char *clause, const char *what,
                        void (*spoil)(uint8_t *msg), bool close_ok)
{
    tw_check_table_t *t = c->t;
    char why[160], exp[160];
    snprintf(exp, sizeof exp, "%s: refused (Accept not 0)%s", what,
             close_ok ? " or the connection closed" : "");
    tw_greeting_t g;
    tw_server_start_t st;
    int got = 0;
    int fd = set_up(c, TW_MODE_UNAUTHENTICATED, &g, &st, &got, why, sizeof why);
    if (fd < 0 || got != 1 || st.accept) {
        tw_check_add(t, TW_CHECK_FAIL, name, clause, exp, "could not set up a connection: %s",
                     fd < 0 ? why : "no Server-Start with Accept 0");
        if (fd >= 0)
            close(fd);
        return;
    }
    tw_request_session_t rq;
    request_of(c, &rq, 9);
    uint8_t msg[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&rq, msg, sizeof msg);
    spoil(msg);
    uint8_t acc[TW_CTRL_ACCEPT_SESSION_LEN];
    int r = write_all(fd, msg, sizeof msg, tw_mono_now() + c->timeout)
                ? read_exact(fd, acc, sizeof acc, tw_mono_now() + c->timeout)
                : 0;
    if (r == 1)
        t->answered++;
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
    close(fd);
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

/* Send one 41-octet TWAMP test packet to dst and wait for its reply: returns
 * the reply's length (0: none) and sets *from_ok. */
static size_t test_packet(struct cc *c, int fd, const struct sockaddr_storage *dst, uint32_t seq,
                          int64_t wait_ns, bool *echo_ok, bool *from_ok)
{
    uint8_t req[TW_REFLECTOR_BASE_LEN], rep[TW_RX_BUFSIZE];
    tw_sender_pkt_t p = {.seq = seq, .timestamp = tw_time_to_ntp(tw_now()), .errest = 0x0001};
    tw_sender_encode(&p, false, req, sizeof req);
    for (int i = 0; i < 16; i++)
        recv(fd, rep, sizeof rep, MSG_DONTWAIT);
    if (sendto(fd, req, sizeof req, 0, (const struct sockaddr *)dst, tw_addr_len(dst)) < 0)
        return 0;
    int64_t deadline = tw_mono_now() + wait_ns;
    for (;;) {
        int pr = poll_for(fd, POLLIN, deadline);
        if (pr <= 0)
            return 0;
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(fd, rep, sizeof rep, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (r < 0) {
            if (errno == ECONNREFUSED)
                return 0; /* ICMP port unreachable: nothing reflects there */
            continue;
        }
        if (r >= 28 && tw_get32(rep + 24) != seq)
            continue;
        c->t->answered++;
        *echo_ok = r >= 38 && tw_get64(rep + 28) == p.timestamp && tw_get16(rep + 36) == 0x0001;
        tw_addr_unmap(&from);
        *from_ok = tw_addr_port(&from) == tw_addr_port(dst);
        return (size_t)r;
    }
}

static void control_battery(struct cc *c)
{
    tw_check_table_t *t = c->t;
    char why[160];
    tw_greeting_t g;
    tw_server_start_t st;
    int got = 0;
    /* 1. The greeting. */
    int fd = set_up(c, 0, &g, &st, &got, why, sizeof why);
    if (fd < 0) {
        tw_check_add(t, TW_CHECK_FAIL, "Server Greeting", "RFC 4656 §3.1, RFC 5357 §3.1",
                     "a 64-octet Server Greeting after the TCP connection", "%s", why);
        tw_check_add(t, TW_CHECK_FAIL, "remaining tests", "-", "a server that answers",
                     "not run: no Server Greeting");
        return;
    }
    t->answered++;
    char ms[160];
    tw_modes_str(g.modes, ms, sizeof ms);
    const char *gexp = "Modes not 0, with the unauthenticated mode for these tests";
    if (!g.modes)
        tw_check_add(t, TW_CHECK_FAIL, "Server Greeting", "RFC 4656 §3.1", gexp,
                     "Modes 0: the server will not serve this client");
    else
        tw_check_add(t, g.modes & TW_MODE_UNAUTHENTICATED ? TW_CHECK_PASS : TW_CHECK_WARN,
                     "Server Greeting", "RFC 4656 §3.1, RFC 5357 §3.1", gexp, "Modes 0x%x (%s)",
                     g.modes, ms);
    tw_check_add(t, g.count >= 1024 ? TW_CHECK_PASS : TW_CHECK_FAIL, "greeting Count",
                 "RFC 4656 §3.1", "Count at least 1024", "%" PRIu32, g.count);
    close(fd);
    if (!(g.modes & TW_MODE_UNAUTHENTICATED)) {
        tw_check_add(t, TW_CHECK_SKIP, "remaining tests", "-", "the unauthenticated mode offered",
                     "not run: only modes %s offered", ms);
        return;
    }

    /* 2. A mode the server did not offer. */
    {
        uint32_t bad = 0;
        static const uint32_t cand[] = {TW_MODE_AUTHENTICATED, TW_MODE_ENCRYPTED, TW_MODE_MIXED};
        for (size_t i = 0; i < 3 && !bad; i++)
            if (!(g.modes & cand[i]))
                bad = cand[i];
        if (!bad)
            bad = TW_MODE_UNAUTHENTICATED | 0x40000000u; /* a bit nobody offers */
        char exp[96];
        snprintf(exp, sizeof exp, "mode 0x%x refused: Server-Start Accept not 0, or closed", bad);
        int fd2 = set_up(c, bad, &g, &st, &got, why, sizeof why);
        if (fd2 < 0)
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp, "%s", why);
        else if (got == 1 && st.accept)
            tw_check_add(t, TW_CHECK_PASS, "mode not offered", "RFC 4656 §3.1", exp,
                         "Server-Start Accept %u (%s)", st.accept, tw_accept_str(st.accept));
        else if (got == 1)
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp,
                         "Server-Start Accept 0: the mode was accepted");
        else if (got == 0)
            tw_check_add(t, TW_CHECK_PASS, "mode not offered", "RFC 4656 §3.1", exp,
                         "the connection was closed");
        else
            tw_check_add(t, TW_CHECK_FAIL, "mode not offered", "RFC 4656 §3.1", exp,
                         "no answer within the timeout");
        if (fd2 >= 0)
            close(fd2);
    }

    /* 3. Requests with bad values, each on a connection of its own. */
    bad_request(c, "Conf-Sender 1", "RFC 5357 §3.5", "Conf-Sender 1 (TWAMP: 0)", spoil_conf, false);
    bad_request(c, "Type-P form 10", "RFC 4656 §3.5", "a Type-P Descriptor that is not a DSCP",
                spoil_typep, false);
    bad_request(c, "IPVN 5", "RFC 4656 §3.5", "IP version 5", spoil_ipvn, true);

    /* 4. A session, start to finish, on one connection. */
    fd = set_up(c, TW_MODE_UNAUTHENTICATED, &g, &st, &got, why, sizeof why);
    const char *sexp = "Accept 0 for the offered mode, a Start-Time";
    if (fd < 0 || got != 1) {
        tw_check_add(t, TW_CHECK_FAIL, "Server-Start", "RFC 4656 §3.1", sexp, "%s",
                     fd < 0     ? why
                     : got == 0 ? "closed without Server-Start"
                                : "no Server-Start");
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st.accept) {
        tw_check_add(t, TW_CHECK_FAIL, "Server-Start", "RFC 4656 §3.1", sexp, "Accept %u (%s)",
                     st.accept, tw_accept_str(st.accept));
        close(fd);
        return;
    }
    if (!st.start_time)
        tw_check_add(t, TW_CHECK_WARN, "Server-Start", "RFC 4656 §3.1", sexp,
                     "Accept 0, Start-Time 0");
    else
        tw_check_add(t, TW_CHECK_PASS, "Server-Start", "RFC 4656 §3.1", sexp,
                     "Accept 0, server started %.0f s ago",
                     (double)(tw_now() - tw_ntp_to_time(st.start_time)) / 1e9);

    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    local.ss_family = c->cfg->target.ss_family;
    tw_sockopts_t so = {.ttl = 64};
    char uerr[160];
    int ufd = tw_udp_open((struct sockaddr *)&local, tw_addr_len(&local), &so, uerr, sizeof uerr);
    if (ufd < 0) {
        tw_check_add(t, TW_CHECK_SKIP, "remaining tests", "-", "a local UDP socket", "%s", uerr);
        close(fd);
        return;
    }
    struct sockaddr_storage ub;
    socklen_t ubl = sizeof ub;
    getsockname(ufd, (struct sockaddr *)&ub, &ubl);
    tw_request_session_t rq;
    request_of(c, &rq, tw_addr_port(&ub));
    uint8_t msg[TW_CTRL_REQUEST_SESSION_LEN];
    tw_request_session_encode(&rq, msg, sizeof msg);
    uint8_t acc[TW_CTRL_ACCEPT_SESSION_LEN];
    int r = write_all(fd, msg, sizeof msg, tw_mono_now() + c->timeout)
                ? read_exact(fd, acc, sizeof acc, tw_mono_now() + c->timeout)
                : 0;
    tw_accept_session_t as;
    memset(&as, 0, sizeof as);
    const char *aexp = "Accept 0, a Port, a SID of receiver address (4), NTP time (8), random (4)";
    if (r != 1) {
        tw_check_add(t, TW_CHECK_FAIL, "Accept-Session", "RFC 5357 §3.5, RFC 4656 §3.5", aexp, "%s",
                     r == 0 ? "the connection was closed" : "none within the timeout");
        goto out;
    }
    tw_accept_session_decode(acc, sizeof acc, &as);
    {
        uint8_t zero[16] = {0}, addr[16];
        raw_addr(&c->cfg->target, addr);
        tw_time_t sid_t = tw_ntp_to_time(tw_get64(as.sid + 4));
        int64_t age = tw_now() - sid_t;
        bool v4 = c->cfg->target.ss_family == AF_INET;
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
    t->answered++;

    /* Start-Sessions / Start-Ack. */
    tw_start_sessions_encode(NULL, msg, TW_CTRL_START_SESSIONS_LEN);
    r = write_all(fd, msg, TW_CTRL_START_SESSIONS_LEN, tw_mono_now() + c->timeout)
            ? read_exact(fd, acc, TW_CTRL_START_ACK_LEN, tw_mono_now() + c->timeout)
            : 0;
    if (r != 1 || acc[0]) {
        tw_check_add(t, TW_CHECK_FAIL, "Start-Ack", "RFC 5357 §3.7", "Start-Ack with Accept 0",
                     "%s",
                     r == 1   ? tw_accept_str(acc[0])
                     : r == 0 ? "closed"
                              : "none");
        goto out;
    }
    tw_check_add(t, TW_CHECK_PASS, "Start-Ack", "RFC 5357 §3.7", "Start-Ack with Accept 0",
                 "Accept 0");

    /* Test packets in the negotiated (unauthenticated) mode. */
    struct sockaddr_storage dst = c->cfg->target;
    tw_addr_set_port(&dst, as.port);
    {
        int ok = 0;
        size_t len = 0;
        bool echo = true, from = true;
        for (uint32_t i = 0; i < 3; i++) {
            bool e = false, f = false;
            size_t l = test_packet(c, ufd, &dst, i, c->timeout, &e, &f);
            if (l) {
                ok++;
                len = l;
                echo = echo && e;
                from = from && f;
            }
        }
        const char *exp = "3 replies of 41 octets from the accepted port, fields echoed";
        tw_check_result_t res = ok == 3 && len == 41 && echo && from ? TW_CHECK_PASS
                                : ok                                 ? TW_CHECK_WARN
                                                                     : TW_CHECK_FAIL;
        if (ok && (!echo || !from || len < 41))
            res = TW_CHECK_FAIL;
        tw_check_add(t, res, "test packets", "RFC 5357 §4.2.1", exp,
                     "%d of 3 answered, %zu octets%s%s", ok, len, echo ? "" : ", fields not echoed",
                     from ? "" : ", from another port");
    }

    /* Stop-Sessions: no reply is due (RFC 5357 §3.8). */
    tw_stop_sessions_t ss = {.accept = 0, .num_sessions = 1};
    tw_stop_sessions_encode(&ss, msg, TW_CTRL_STOP_SESSIONS_LEN);
    int64_t stopped = tw_mono_now();
    if (!write_all(fd, msg, TW_CTRL_STOP_SESSIONS_LEN, stopped + c->timeout)) {
        tw_check_add(t, TW_CHECK_FAIL, "Stop-Sessions", "RFC 5357 §3.8", "taken without a reply",
                     "could not be sent");
        goto out;
    }
    {
        /* The session reflects on for its Timeout (1 s) after Stop-Sessions
         * (packets still in flight), then no more. */
        bool e = false, f = false;
        size_t during = test_packet(c, ufd, &dst, 100, c->timeout, &e, &f);
        uint8_t extra[64];
        int rr = read_exact(fd, extra, 1, tw_mono_now() + 200 * TW_NS_PER_MS);
        tw_check_add(t, rr == 1 ? TW_CHECK_WARN : TW_CHECK_PASS, "Stop-Sessions", "RFC 5357 §3.8",
                     "taken without a reply",
                     rr == 1 ? "the server sent something back" : "no reply%s",
                     rr == 0 ? "; the connection was closed" : "");
        /* After Timeout + 1 s of slack, nothing more. */
        int64_t after = stopped + TW_NS_PER_SEC + TW_NS_PER_SEC;
        while (tw_mono_now() < after)
            poll(NULL, 0, (int)((after - tw_mono_now()) / TW_NS_PER_MS) + 1);
        int64_t wait = c->timeout < TW_NS_PER_SEC ? c->timeout : TW_NS_PER_SEC;
        size_t late = test_packet(c, ufd, &dst, 101, wait, &e, &f);
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
    close(ufd);
    close(fd);
}

int tw_check_control(const tw_check_cfg_t *cfg, tw_check_table_t *t, char *err, size_t errlen)
{
    char a[TW_ADDRSTRLEN];
    tw_addr_str((const struct sockaddr *)&cfg->target, a, sizeof a);
    int64_t timeout = cfg->timeout_ns > 0 ? cfg->timeout_ns : 2 * TW_NS_PER_SEC;
    tw_check_table_init(t, "control", a, timeout);
    snprintf(t->title, sizeof t->title,
             "twampy check --control: TWAMP server %s (unauthenticated mode, %g s per test)", a,
             (double)timeout / 1e9);
    struct cc c = {.cfg = cfg, .t = t, .timeout = timeout};
    (void)err;
    (void)errlen;
    control_battery(&c);
    return 0;
}
