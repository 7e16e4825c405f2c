/* Unit tests for control_server: the TWAMP server's control state machine and
 * its per-session reflectors, driven over real loopback TCP and UDP. The test
 * plays the TWAMP-Control client with plain sockets: it writes Set-Up-Response,
 * Request-TW-Session, Start-Sessions and Stop-Sessions built octet by octet from
 * the layouts of RFC 4656 §3 and RFC 5357 §3 (WIRE.md), checks every octet the
 * server answers, and sends TWAMP-Test packets to the accepted ports. Each step
 * runs the event loop with a deadline; nothing sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "control_server.h"
#include "log.h"
#include "ntptime.h"

#define WAIT_MS 2000 /* bound of a test step that is expected to succeed */
#define MODES 0x71u  /* unauthenticated | individual | reflect octets | symmetrical size */
#define NCONN 4
#define MAX_REPLIES 16

/* ---- octets, written out by hand ------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void assert_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            fail_msg("octet %zu of a field that must be zero is 0x%02x", i, p[i]);
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint32_t ntp_seconds_now(void)
{
    return (uint32_t)((uint64_t)time(NULL) + 2208988800u);
}

static void assert_ntp_now(uint32_t sec, const char *what)
{
    uint32_t now = ntp_seconds_now();
    if (sec + 5 < now || sec > now + 5)
        fail_msg("%s: %u s (NTP) is not now (%u s)", what, sec, now);
}

/* Set-Up-Response (164): Mode (0,4), KeyID (4,80), Token (84,64), Client-IV
 * (148,16). */
static void build_setup_response(uint8_t m[164], uint32_t mode)
{
    memset(m, 0, 164);
    put32(m, mode);
}

typedef struct req {
    uint8_t ipvn, conf_sender, conf_receiver;
    uint16_t sender_port, receiver_port;
    uint8_t sender_addr[16], receiver_addr[16];
    uint32_t padding;
    uint64_t timeout_ntp;
    uint32_t type_p;
    uint16_t octets_to_reflect, padding_to_reflect; /* RFC 6038 */
    uint64_t start_ntp;                             /* 0: now */
} req_t;

/* 0.1 s in NTP format: 0x1999999A / 2^32. */
#define NTP_100MS 0x000000001999999Aull

static req_t default_req(void)
{
    req_t r;
    memset(&r, 0, sizeof r);
    r.ipvn = 4;
    r.sender_port = 20000;
    r.padding = 27;
    r.timeout_ntp = NTP_100MS;
    r.type_p = 46u << 24; /* DSCP EF */
    return r;
}

/* Request-TW-Session (112), RFC 5357 §3.5 (table in WIRE.md). */
static void build_request(uint8_t m[112], const req_t *r)
{
    memset(m, 0, 112);
    m[0] = 5;
    m[1] = r->ipvn;
    m[2] = r->conf_sender;
    m[3] = r->conf_receiver;
    put32(m + 4, 0); /* Number of Schedule Slots */
    put32(m + 8, 0); /* Number of Packets */
    put16(m + 12, r->sender_port);
    put16(m + 14, r->receiver_port);
    memcpy(m + 16, r->sender_addr, 16);
    memcpy(m + 32, r->receiver_addr, 16);
    /* 48: SID, 16 zero octets */
    put32(m + 64, r->padding);
    put32(m + 68, ntp_seconds_now()); /* Start Time */
    put32(m + 72, 0);
    if (r->start_ntp)
        put64(m + 68, r->start_ntp);
    put64(m + 76, r->timeout_ntp);
    put32(m + 84, r->type_p);
    put16(m + 88, r->octets_to_reflect);  /* RFC 6038 §4.2 */
    put16(m + 90, r->padding_to_reflect); /* 92: MBZ; 96: HMAC: all zero */
}

static void build_start_sessions(uint8_t m[32])
{
    memset(m, 0, 32);
    m[0] = 2;
}

static void build_stop_sessions(uint8_t m[32], uint32_t n)
{
    memset(m, 0, 32);
    m[0] = 3;
    m[1] = 0; /* Accept */
    put32(m + 4, n);
}

/* ---- the fixture ------------------------------------------------------------- */

struct fixture;

typedef struct tconn {
    struct fixture *f;
    int fd;
    tw_watch_t w;
    bool watching;
    uint8_t rx[4096];
    size_t rxlen, want;
    bool eof;
    int rx_errno;
    tw_timer_t drib_timer;
    uint8_t drib[512];
    size_t drib_len, drib_off;
    int64_t drib_gap; /* between octets (0: 100 us) */
} tconn_t;

typedef struct fixture {
    tw_loop_t *loop;
    tw_ctrl_server_cfg_t cfg;
    tw_ctrl_server_t *srv;
    uint16_t port;
    tconn_t c[NCONN];
    /* the test's UDP Session-Sender */
    int udp;
    tw_watch_t uw;
    bool uwatching;
    uint8_t reply[MAX_REPLIES][128];
    size_t reply_len[MAX_REPLIES];
    int nreplies, want_replies;
    /* run_until */
    tw_timer_t tick;
    bool (*pred)(void *);
    void *parg;
    int64_t deadline;
    bool expired;
    tw_keyring_t *ring; /* the secure-mode tests' key file */
    uint32_t src;       /* connect_to's source address, host order (0: 127.0.0.1) */
} fixture_t;

static void on_tick(void *arg)
{
    fixture_t *f = arg;
    int64_t now = tw_mono_now();
    if (f->pred && f->pred(f->parg)) {
        tw_loop_stop(f->loop);
        return;
    }
    if (now >= f->deadline) {
        f->expired = true;
        tw_loop_stop(f->loop);
        return;
    }
    int64_t next = now + TW_NS_PER_MS;
    tw_timer_set(f->loop, &f->tick, next < f->deadline ? next : f->deadline, on_tick, f);
}

/* Run the loop until pred(arg) holds or ms have passed; returns pred's verdict.
 * With pred NULL, runs for ms. Test callbacks stop the loop after each event and
 * a 1 ms tick looks at pred for changes with no event of the test's own. */
static bool run_until(fixture_t *f, bool (*pred)(void *), void *arg, int ms)
{
    f->pred = pred;
    f->parg = arg;
    f->expired = false;
    f->deadline = tw_mono_now() + ms * TW_NS_PER_MS;
    tw_timer_set(f->loop, &f->tick, tw_mono_now(), on_tick, f);
    while (!(pred && pred(arg)) && !f->expired)
        assert_int_equal(tw_loop_run(f->loop), 0);
    tw_timer_cancel(f->loop, &f->tick);
    f->pred = NULL;
    return pred ? pred(arg) : false;
}

static void conn_io(void *arg, uint32_t events)
{
    tconn_t *c = arg;
    for (;;) {
        if (c->rxlen == sizeof c->rx)
            break;
        ssize_t n = recv(c->fd, c->rx + c->rxlen, sizeof c->rx - c->rxlen, MSG_DONTWAIT);
        if (n > 0) {
            c->rxlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        c->eof = true;
        c->rx_errno = n < 0 ? errno : 0;
        tw_loop_del(c->f->loop, &c->w);
        c->watching = false;
        break;
    }
    tw_loop_stop(c->f->loop);
}

static void udp_io(void *arg, uint32_t events)
{
    fixture_t *f = arg;
    for (;;) {
        uint8_t buf[2048];
        ssize_t n = recv(f->udp, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            break;
        if (f->nreplies < MAX_REPLIES) {
            size_t k = (size_t)n < sizeof f->reply[0] ? (size_t)n : sizeof f->reply[0];
            memcpy(f->reply[f->nreplies], buf, k);
            f->reply_len[f->nreplies] = (size_t)n;
        }
        f->nreplies++;
    }
    tw_loop_stop(f->loop);
}

static fixture_t *fixture_new(void)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->loop = tw_loop_new();
    assert_non_null(f->loop);
    f->udp = -1;
    for (int i = 0; i < NCONN; i++) {
        f->c[i].f = f;
        f->c[i].fd = -1;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)&f->cfg.listen;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = 0;
    f->cfg.listen_len = sizeof *a;
    f->cfg.modes = MODES;
    f->cfg.max_connections = 8;
    f->cfg.max_sessions = 16;
    f->cfg.max_total_sessions = 64;
    f->cfg.servwait_ns = 60 * TW_NS_PER_SEC;
    f->cfg.max_timeout_ns = 86400 * TW_NS_PER_SEC;
    f->cfg.max_padding = 65535;
    f->cfg.ttl = 255;
    /* Key derivations are paced by the time they take: under a sanitizer
     * they take many times longer, so tests not about pacing lift it. */
    f->cfg.kdf_share_pct = 100;
    f->cfg.kdf_burst = 1000;
    return f;
}

static void fixture_free(fixture_t *f)
{
    if (!f)
        return;
    for (int i = 0; i < NCONN; i++) {
        tconn_t *c = &f->c[i];
        tw_timer_cancel(f->loop, &c->drib_timer);
        if (c->watching)
            tw_loop_del(f->loop, &c->w);
        if (c->fd >= 0)
            close(c->fd);
    }
    if (f->uwatching)
        tw_loop_del(f->loop, &f->uw);
    if (f->udp >= 0)
        close(f->udp);
    tw_timer_cancel(f->loop, &f->tick);
    tw_ctrl_server_close(f->srv);
    tw_keyring_free(f->ring);
    tw_loop_free(f->loop);
    free(f);
}

static int setup(void **state)
{
    *state = fixture_new();
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

static void start_server(fixture_t *f)
{
    char err[256] = "";
    if (tw_ctrl_server_open(&f->srv, &f->cfg, f->loop, err, sizeof err) != 0)
        fail_msg("tw_ctrl_server_open: %s", err);
    struct sockaddr_storage ss;
    socklen_t sl;
    assert_int_equal(tw_ctrl_server_local(f->srv, &ss, &sl), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    f->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    assert_true(f->port != 0);
}

static const tw_ctrl_server_counters_t *ctr(fixture_t *f)
{
    return tw_ctrl_server_counters(f->srv);
}

/* connections, refused, protocol errors, sessions accepted, sessions refused,
 * active connections, active sessions */
static void check_counters(fixture_t *f, uint64_t conns, uint64_t refused, uint64_t perr,
                           uint64_t sacc, uint64_t sref, int aconn, int asess)
{
    const tw_ctrl_server_counters_t *k = ctr(f);
    if (k->connections != conns || k->connections_refused != refused ||
        k->protocol_errors != perr || k->sessions_accepted != sacc || k->sessions_refused != sref ||
        k->active_connections != aconn || k->active_sessions != asess)
        fail_msg("counters: connections %llu (want %llu), refused %llu (%llu), protocol errors "
                 "%llu (%llu), sessions accepted %llu (%llu), sessions refused %llu (%llu), "
                 "active connections %d (%d), active sessions %d (%d)",
                 (unsigned long long)k->connections, (unsigned long long)conns,
                 (unsigned long long)k->connections_refused, (unsigned long long)refused,
                 (unsigned long long)k->protocol_errors, (unsigned long long)perr,
                 (unsigned long long)k->sessions_accepted, (unsigned long long)sacc,
                 (unsigned long long)k->sessions_refused, (unsigned long long)sref,
                 k->active_connections, aconn, k->active_sessions, asess);
}

/* ---- steps ------------------------------------------------------------------ */

static bool pred_rx(void *arg)
{
    tconn_t *c = arg;
    return c->rxlen >= c->want || c->eof;
}

static bool pred_eof(void *arg)
{
    tconn_t *c = arg;
    return c->eof;
}

static tconn_t *connect_to(fixture_t *f, int i)
{
    tconn_t *c = &f->c[i];
    assert_int_equal(c->fd, -1);
    memset(c, 0, sizeof *c);
    c->f = f;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    if (f->src) {
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(f->src)};
        assert_int_equal(bind(c->fd, (struct sockaddr *)&s, sizeof s), 0);
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(f->port)};
    /* Completes from the listen backlog, before the server's loop accepts. */
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK), 0);
    assert_int_equal(tw_loop_add(f->loop, &c->w, c->fd, EPOLLIN, conn_io, c), 0);
    c->watching = true;
    return c;
}

static void send_bytes(tconn_t *c, const void *buf, size_t len)
{
    assert_int_equal(send(c->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void expect_rx(tconn_t *c, uint8_t *out, size_t len, const char *what)
{
    c->want = len;
    run_until(c->f, pred_rx, c, WAIT_MS);
    if (c->rxlen < len)
        fail_msg("expected %s (%zu octets) from the server, got %zu octets%s", what, len, c->rxlen,
                 c->eof ? " and then the connection closed" : "");
    memcpy(out, c->rx, len);
    memmove(c->rx, c->rx + len, c->rxlen - len);
    c->rxlen -= len;
}

/* The server closes the connection with nothing more to say. */
static void expect_closed(tconn_t *c, const char *after)
{
    if (!run_until(c->f, pred_eof, c, WAIT_MS))
        fail_msg("the server did not close the connection after %s", after);
    if (c->rxlen)
        fail_msg("the server sent %zu unexpected octets (first 0x%02x) before closing after %s",
                 c->rxlen, c->rx[0], after);
}

/* Nothing arrives and the connection stays open. */
static void expect_open_and_quiet(tconn_t *c)
{
    run_until(c->f, NULL, NULL, 10); /* let the server act on anything pending */
    uint8_t b;
    ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
    if (c->eof || n >= 0 || errno != EAGAIN)
        fail_msg("the connection should be open and quiet (eof %d, recv %zd, %zu octets "
                 "pending)",
                 c->eof, n, c->rxlen);
    assert_int_equal(c->rxlen, 0);
}

static void check_greeting(const uint8_t m[64], uint32_t modes)
{
    assert_zero(m, 12); /* Unused */
    assert_int_equal(get32(m + 12), modes);
    if (all_zero(m + 16, 32)) /* Challenge and Salt */
        fail_msg("Challenge and Salt are all zero");
    assert_int_equal(get32(m + 48), 2048); /* Count: TW_KDF_COUNT_DEFAULT */
    assert_zero(m + 52, 12);               /* MBZ */
}

static void check_server_start(const uint8_t m[48], uint8_t accept)
{
    assert_zero(m, 15);
    assert_int_equal(m[15], accept);
    if (accept == 0)
        assert_ntp_now(get32(m + 32), "Server-Start Start-Time");
    assert_zero(m + 40, 8);
}

/* Accept-Session (48): Accept (0,1), MBZ (1,1), Port (2,2), SID (4,16), Reflected
 * octets (20,2), Server octets (22,2), MBZ (24,8), HMAC (32,16). Returns the
 * port. */
static uint16_t check_accept(const uint8_t m[48], uint8_t accept)
{
    if (m[0] != accept)
        fail_msg("Accept-Session Accept %u, expected %u", m[0], accept);
    assert_int_equal(m[1], 0);
    uint16_t port = get16(m + 2);
    if (accept == 0) {
        assert_true(port != 0);
        static const uint8_t lo[4] = {127, 0, 0, 1};
        assert_memory_equal(m + 4, lo, 4); /* SID: the receiver address */
        assert_ntp_now(get32(m + 8), "SID timestamp");
    } else {
        assert_int_equal(port, 0);
        assert_zero(m + 4, 16);
    }
    assert_zero(m + 20, 28);
    return port;
}

static void check_start_ack(const uint8_t m[32], uint8_t accept)
{
    assert_int_equal(m[0], accept);
    assert_zero(m + 1, 31);
}

/* Connect, read the greeting, choose mode, read Server-Start 0. */
static tconn_t *ready_mode(fixture_t *f, int i, uint32_t mode)
{
    uint8_t m[164];
    tconn_t *c = connect_to(f, i);
    expect_rx(c, m, 64, "Server Greeting");
    check_greeting(m, f->cfg.modes);
    build_setup_response(m, mode);
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    check_server_start(m, 0);
    return c;
}

static tconn_t *ready(fixture_t *f, int i)
{
    return ready_mode(f, i, 0x41);
}

static uint16_t request(tconn_t *c, const req_t *r, uint8_t want_accept)
{
    uint8_t m[112];
    build_request(m, r);
    send_bytes(c, m, 112);
    expect_rx(c, m, 48, "Accept-Session");
    return check_accept(m, want_accept);
}

static void start(tconn_t *c)
{
    uint8_t m[32];
    build_start_sessions(m);
    send_bytes(c, m, 32);
    expect_rx(c, m, 32, "Start-Ack");
    check_start_ack(m, 0);
}

/* ---- UDP ---------------------------------------------------------------------- */

static void open_udp(fixture_t *f)
{
    f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(f->udp >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->udp, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(tw_loop_add(f->loop, &f->uw, f->udp, EPOLLIN, udp_io, f), 0);
    f->uwatching = true;
}

/* A TWAMP-Test packet (RFC 5357 §4.1.2): Sequence Number, Timestamp, Error
 * Estimate, then padding to len. */
static void send_test_packet(fixture_t *f, uint16_t port, uint32_t seq, size_t len)
{
    uint8_t p[64];
    memset(p, 0, sizeof p);
    put32(p, seq);
    put32(p + 4, 0xE0000000u + seq); /* Timestamp, seconds */
    put32(p + 8, 0x12345678u);       /* Timestamp, fraction */
    put16(p + 12, 0x0101);           /* Error Estimate */
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(sendto(f->udp, p, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
}

static bool pred_replies(void *arg)
{
    fixture_t *f = arg;
    return f->nreplies >= f->want_replies;
}

static bool wait_replies(fixture_t *f, int n)
{
    f->want_replies = n;
    return run_until(f, pred_replies, f, WAIT_MS);
}

/* Reflector reply (RFC 5357 §4.2.1): Sender Sequence Number (24,4), Sender
 * Timestamp (28,8), Sender Error Estimate (36,2), Sender TTL (40,1). */
static void check_reply(fixture_t *f, int i, uint32_t seq)
{
    const uint8_t *r = f->reply[i];
    assert_int_equal(f->reply_len[i], 41);
    if (get32(r + 24) != seq)
        fail_msg("reply %d answers Sender Sequence Number %u, expected %u", i, get32(r + 24), seq);
    assert_int_equal(get32(r + 28), 0xE0000000u + seq);
    assert_int_equal(get32(r + 32), 0x12345678u);
    assert_int_equal(get16(r + 36), 0x0101);
    assert_true(r[40] > 0);
}

/* ---- greeting and Set-Up-Response ------------------------------------------------ */

static void test_greeting(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t g1[64], g2[64];
    tconn_t *a = connect_to(f, 0);
    expect_rx(a, g1, 64, "Server Greeting");
    check_greeting(g1, MODES);
    tconn_t *b = connect_to(f, 1);
    expect_rx(b, g2, 64, "Server Greeting");
    check_greeting(g2, MODES);
    /* The Challenge is fresh per connection. */
    assert_memory_not_equal(g1 + 16, g2 + 16, 16);
    expect_open_and_quiet(a);
    check_counters(f, 2, 0, 0, 0, 0, 2, 0);
}

static void test_greeting_configured_modes(void **state)
{
    fixture_t *f = *state;
    f->cfg.modes = 1;
    start_server(f);
    uint8_t m[164];
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    check_greeting(m, 1);
    /* Symmetrical size was not offered this time. */
    build_setup_response(m, 0x41);
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    check_server_start(m, 3);
    expect_closed(c, "Server-Start with Accept 3");
    check_counters(f, 1, 0, 1, 0, 0, 0, 0);
}

static void test_setup_response_good(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *a = ready_mode(f, 0, 0x41);
    tconn_t *b = ready_mode(f, 1, 0x01);
    tconn_t *c = ready_mode(f, 2, 0x21);
    expect_open_and_quiet(a);
    expect_open_and_quiet(b);
    expect_open_and_quiet(c);
    check_counters(f, 3, 0, 0, 0, 0, 3, 0);
}

static void setup_refused(fixture_t *f, int i, uint32_t mode)
{
    uint8_t m[164];
    tconn_t *c = connect_to(f, i);
    expect_rx(c, m, 64, "Server Greeting");
    build_setup_response(m, mode);
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    if (m[15] != 3)
        fail_msg("Set-Up-Response mode 0x%08x: Server-Start Accept %u, expected 3", mode, m[15]);
    check_server_start(m, 3);
    expect_closed(c, "Server-Start with Accept 3");
}

/* Mode 2 (authenticated) was not offered: Accept 3 and close. */
static void test_setup_mode_not_offered(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    setup_refused(f, 0, 2);
    check_counters(f, 1, 0, 1, 0, 0, 0, 0);
}

/* Two security modes at once, and a feature bit that was not offered. */
static void test_setup_mode_invalid(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    setup_refused(f, 0, 0x03);
    setup_refused(f, 1, 0x81);
    setup_refused(f, 2, 0x40); /* a feature without a security mode */
    check_counters(f, 3, 0, 3, 0, 0, 0, 0);
}

/* Mode 0: the client does not wish to continue; closed without a Server-Start. */
static void test_setup_mode_zero(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[164];
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    build_setup_response(m, 0);
    send_bytes(c, m, 164);
    expect_closed(c, "Set-Up-Response mode 0");
    check_counters(f, 1, 0, 0, 0, 0, 0, 0);
}

/* A first message that is no Set-Up-Response at all. */
static void test_garbage_first_message(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[164];
    /* An HTTP request: "GET " read as the Mode has no security bit. */
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    const char *http = "GET / HTTP/1.1\r\nHost: twamp\r\nUser-Agent: test\r\n";
    for (size_t i = 0; i < 164; i++)
        m[i] = (uint8_t)http[i % strlen(http)];
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    check_server_start(m, 3);
    expect_closed(c, "a garbage Set-Up-Response");
    /* All ones. */
    c = connect_to(f, 1);
    expect_rx(c, m, 64, "Server Greeting");
    memset(m, 0xFF, 164);
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    check_server_start(m, 3);
    expect_closed(c, "an all-ones Set-Up-Response");
    check_counters(f, 2, 0, 2, 0, 0, 0, 0);
}

/* ---- Request-TW-Session -------------------------------------------------------- */

static void test_request_accepted(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    uint16_t port = request(c, &r, 0);
    /* The port is really bound by the reflector. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    errno = 0;
    int rc = bind(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(s);
    if (rc == 0 || e != EADDRINUSE)
        fail_msg("binding UDP 127.0.0.1:%u: %s, expected EADDRINUSE", port,
                 rc == 0 ? "succeeded" : strerror(e));
    check_counters(f, 1, 0, 0, 1, 0, 1, 1);

    /* The same with the receiver address given: the SID starts with it. */
    r.receiver_addr[0] = 127;
    r.receiver_addr[3] = 1;
    r.sender_addr[0] = 127;
    r.sender_addr[3] = 1;
    uint16_t port2 = request(c, &r, 0);
    assert_true(port2 != port);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 2, 0, 1, 2);
}

static uint16_t free_udp_port(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void test_request_port_honoured(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.receiver_port = free_udp_port();
    assert_int_equal(request(c, &r, 0), r.receiver_port);

    /* A requested port that is taken: another one, still accepted. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    r.receiver_port = ntohs(a.sin_port);
    uint16_t got = request(c, &r, 0);
    close(s);
    assert_true(got != r.receiver_port);
    check_counters(f, 1, 0, 0, 2, 0, 1, 2);
}

/* Every request the server must refuse with Accept 3, on one connection that
 * stays usable. */
static void test_request_refused_not_supported(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r;

    r = default_req();
    r.type_p = 0x40000000u; /* 01: a PHB ID, not a DSCP */
    request(c, &r, 3);
    r = default_req();
    r.type_p = 0x40000000u | (0x2Eu << 10); /* PHB form with a value */
    request(c, &r, 3);
    r = default_req();
    r.conf_sender = 1;
    request(c, &r, 3);
    r = default_req();
    r.conf_receiver = 1;
    request(c, &r, 3);
    r = default_req();
    r.padding = 0xFFFFFFFFu;
    request(c, &r, 3);
    r = default_req();
    r.timeout_ntp = (uint64_t)(10u * 365u * 86400u) << 32; /* 10 years */
    request(c, &r, 3);
    r = default_req();
    r.ipvn = 6; /* an IPv6 session on an IPv4 control connection */
    request(c, &r, 3);
    check_counters(f, 1, 0, 0, 0, 7, 1, 0);

    /* Still open and serving. */
    r = default_req();
    request(c, &r, 0);
    check_counters(f, 1, 0, 0, 1, 7, 1, 1);
}

/* The limits are inclusive: padding = max_padding and timeout = max are fine. */
static void test_request_at_limits(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_padding = 1400;
    f->cfg.max_timeout_ns = 30 * TW_NS_PER_SEC;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.padding = 1400;
    r.timeout_ntp = (uint64_t)30 << 32;
    request(c, &r, 0);
    r.padding = 1401;
    request(c, &r, 3);
    r.padding = 0;
    r.timeout_ntp = (uint64_t)31 << 32;
    request(c, &r, 3);
    check_counters(f, 1, 0, 0, 1, 2, 1, 1);
}

static void test_max_sessions_per_conn(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_sessions = 1;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    request(c, &r, 0);
    request(c, &r, 5);
    /* Another connection has its own allowance. */
    tconn_t *d = ready(f, 1);
    request(d, &r, 0);
    check_counters(f, 2, 0, 0, 2, 1, 2, 2);
}

static void test_max_sessions_total(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_total_sessions = 2;
    start_server(f);
    tconn_t *c = ready(f, 0);
    tconn_t *d = ready(f, 1);
    req_t r = default_req();
    request(c, &r, 0);
    request(d, &r, 0);
    request(c, &r, 5);
    request(d, &r, 5);
    check_counters(f, 2, 0, 0, 2, 2, 2, 2);
}

/* An IPVN that is neither 4 nor 6: a malformed message, the connection goes. */
static void test_request_bad_ipvn(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.ipvn = 5;
    uint8_t m[112];
    build_request(m, &r);
    send_bytes(c, m, 112);
    expect_closed(c, "a Request-TW-Session with IPVN 5");
    check_counters(f, 1, 0, 1, 0, 0, 0, 0);
}

/* ---- Start-Sessions, the reflector, Stop-Sessions ---------------------------------- */

static void test_start_and_reflect(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    uint16_t port = request(c, &r, 0);

    /* Before Start-Sessions: the reflector must drop this one. */
    send_test_packet(f, port, 1, 14);
    /* A round trip on the control connection after it, so that the packet is
     * read before Start-Sessions is (loopback delivers in order). */
    r.sender_port = 20002;
    request(c, &r, 0);
    assert_int_equal(f->nreplies, 0);

    start(c);
    /* After Start-Sessions: one 41-octet reply per packet, for these only. */
    send_test_packet(f, port, 2, 14);
    if (!wait_replies(f, 1))
        fail_msg("no reply to a test packet sent after Start-Ack");
    send_test_packet(f, port, 3, 41);
    if (!wait_replies(f, 2))
        fail_msg("no reply to the second test packet sent after Start-Ack");
    if (f->nreplies != 2)
        fail_msg("%d replies for 2 packets sent after Start-Sessions", f->nreplies);
    check_reply(f, 0, 2); /* not 1: the early packet was dropped */
    check_reply(f, 1, 3);
    uint8_t b;
    assert_true(recv(f->udp, &b, 1, MSG_DONTWAIT) < 0);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 2, 0, 1, 2);
}

/* A session negotiated over TWAMP-Control is TWAMP, whatever its padding looks
 * like: a 60-octet request whose octets 16..43 are zero (STAMP's MBZ) and
 * 14..15 are not gets a TWAMP reply, MBZ octets 14..15 zero, its Sender
 * Sequence Number and reflector counter as for any other packet. */
static void test_session_format_is_twamp(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    uint16_t port = request(c, &r, 0);
    start(c);
    for (uint32_t seq = 0; seq < 2; seq++) {
        uint8_t p[60];
        memset(p, 0, sizeof p);
        put32(p, seq);
        put32(p + 4, 0xE0000000u + seq);
        put32(p + 8, 0x12345678u);
        put16(p + 12, 0x0101);
        p[14] = (uint8_t)(0xAB + seq); /* padding, not an SSID */
        p[15] = 0xCD;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                .sin_port = htons(port)};
        assert_int_equal(sendto(f->udp, p, sizeof p, 0, (struct sockaddr *)&a, sizeof a),
                         (ssize_t)sizeof p);
        if (!wait_replies(f, (int)seq + 1))
            fail_msg("no reply to the 60-octet test packet %u", seq);
        const uint8_t *rep = f->reply[seq];
        assert_int_equal(f->reply_len[seq], 60);
        if (rep[14] || rep[15])
            fail_msg("reply %u: MBZ octets 14..15 are %02x %02x, not zero", seq, rep[14], rep[15]);
        assert_int_equal(get32(rep), seq); /* one sender, one counter */
        assert_int_equal(get32(rep + 24), seq);
    }
    expect_open_and_quiet(c);
}

/* ---- RFC 6038 reflect octets, RFC 5357 Start Time -------------------------------- */

/* Request-TW-Session with RFC 6038's fields; the Accept-Session as it came. */
static uint16_t request_raw(tconn_t *c, const req_t *r, uint8_t m[48])
{
    uint8_t q[112];
    build_request(q, r);
    send_bytes(c, q, 112);
    expect_rx(c, m, 48, "Accept-Session");
    return get16(m + 2);
}

static void send_raw(fixture_t *f, uint16_t port, const uint8_t *p, size_t len)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(sendto(f->udp, p, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
}

/* A test packet whose octets from 14 are their own offsets (0x0e, 0x0f, ...),
 * zero from 14 to 40 when sym (the symmetrical-size MBZ octets). */
static void padded_packet(uint8_t *p, size_t len, uint32_t seq, bool sym)
{
    memset(p, 0, len);
    put32(p, seq);
    put32(p + 4, 0xE0000000u + seq);
    put32(p + 8, 0x12345678u);
    put16(p + 12, 0x0101);
    for (size_t i = sym ? 41 : 14; i < len; i++)
        p[i] = (uint8_t)i;
}

/* RFC 6038 §4.3, §5.1.2, §5.2.1, unauthenticated: Reflected octets and
 * Server octets in Accept-Session; the request's octets 14.. (Packet Padding
 * (to be reflected)) come back from 41, the rest of the padding as it came. */
static void test_reflect_octets(void **state)
{
    fixture_t *f = *state;
    f->cfg.server_octets = 0x0a0b;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready_mode(f, 0, 0x21); /* unauthenticated | reflect octets */
    req_t r = default_req();
    r.padding = 46; /* 60-octet packets: 27 + 6 and more */
    r.octets_to_reflect = 0x1234;
    r.padding_to_reflect = 6;
    uint8_t m[48];
    uint16_t port = request_raw(c, &r, m);
    assert_int_equal(m[0], 0);
    assert_int_equal(get16(m + 20), 0x1234); /* Reflected octets */
    assert_int_equal(get16(m + 22), 0x0a0b); /* Server octets */
    assert_zero(m + 24, 24);
    start(c);
    uint8_t p[60];
    padded_packet(p, sizeof p, 0, false);
    p[14] = 0x0a; /* the Server octets first (§5.1.2) */
    p[15] = 0x0b;
    send_raw(f, port, p, sizeof p);
    if (!wait_replies(f, 1))
        fail_msg("no reply in reflect-octets mode");
    const uint8_t *rep = f->reply[0];
    assert_int_equal(f->reply_len[0], 60);
    assert_int_equal(get32(rep + 24), 0);
    assert_memory_equal(rep + 41, p + 14, 6); /* Packet Padding (from Session-Sender) */
    assert_memory_equal(rep + 47, p + 47, 13);
    assert_zero(rep + 14, 2);
    assert_zero(rep + 38, 2);
    expect_open_and_quiet(c);
}

/* RFC 6038 §5.1.5, §5.2.3: symmetrical size and reflect octets: the padding
 * to reflect follows the 27 MBZ octets and comes back where it was (the
 * interop report: request octets 41..44 29 2a 2b 2c came back 00 00 00 2c). No
 * Server octets configured: 0 in Accept-Session. */
static void test_reflect_octets_symmetrical(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready_mode(f, 0, 0x61);
    req_t r = default_req();
    r.padding = 20; /* after the 27 MBZ octets: 61-octet packets */
    r.octets_to_reflect = 0xbeef;
    r.padding_to_reflect = 4;
    uint8_t m[48];
    uint16_t port = request_raw(c, &r, m);
    assert_int_equal(m[0], 0);
    assert_int_equal(get16(m + 20), 0xbeef);
    assert_int_equal(get16(m + 22), 0);
    start(c);
    uint8_t p[61];
    padded_packet(p, sizeof p, 0, true);
    send_raw(f, port, p, sizeof p);
    if (!wait_replies(f, 1))
        fail_msg("no reply in symmetrical reflect-octets mode");
    assert_int_equal(f->reply_len[0], 61); /* as long as the request (§5.2.2) */
    assert_memory_equal(f->reply[0] + 41, p + 41, 20);
    static const uint8_t want[4] = {0x29, 0x2a, 0x2b, 0x2c};
    assert_memory_equal(f->reply[0] + 41, want, 4);
    expect_open_and_quiet(c);
}

/* RFC 6038 §4.2: Padding Length below the Length of padding to reflect: Accept
 * 3, with the Reflected octets back; without mode 32 the two fields are MBZ,
 * ignored (Accept-Session's are zero). */
static void test_reflect_octets_refused_and_ignored(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready_mode(f, 0, 0x21);
    req_t r = default_req();
    r.padding = 8;
    r.octets_to_reflect = 0x4242;
    r.padding_to_reflect = 9;
    uint8_t m[48];
    assert_int_equal(request_raw(c, &r, m), 0);
    assert_int_equal(m[0], 3);
    assert_int_equal(get16(m + 20), 0x4242);
    assert_int_equal(get16(m + 22), 0);
    tconn_t *d = ready_mode(f, 1, 0x41);
    r.padding = 27;
    assert_true(request_raw(d, &r, m) != 0);
    assert_int_equal(m[0], 0);
    assert_zero(m + 20, 28);
    expect_open_and_quiet(c);
    expect_open_and_quiet(d);
}

static bool pred_time_reached(void *arg)
{
    return tw_now() >= *(const tw_time_t *)arg;
}

/* RFC 5357 §3.5: a session starts at the later of Start-Sessions and its
 * Start Time. Session a (Start Time in 30 s) does not answer a packet sent
 * before the packets of session b (none) that are answered; one whose Start
 * Time is further than --servwait is refused; one 0.7 s ahead answers once
 * its time has come (from 0.5 s before it on: clocks and timers differ). */
static void test_start_time(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.start_ntp = tw_time_to_ntp(tw_now() + 3600 * TW_NS_PER_SEC);
    request(c, &r, 3);
    r.start_ntp = tw_time_to_ntp(tw_now() + 30 * TW_NS_PER_SEC);
    uint16_t later = request(c, &r, 0);
    tw_time_t soon = tw_now() + 700 * TW_NS_PER_MS;
    r.start_ntp = tw_time_to_ntp(soon);
    r.sender_port = 20002;
    uint16_t in200 = request(c, &r, 0);
    r.start_ntp = 0;
    uint16_t now = request(c, &r, 0);
    start(c);
    send_test_packet(f, later, 0, 41);
    send_test_packet(f, now, 1, 41);
    send_test_packet(f, now, 2, 41);
    if (!wait_replies(f, 2))
        fail_msg("the session without a Start Time did not answer");
    check_reply(f, 0, 1);
    check_reply(f, 1, 2);
    /* Once its Start Time has passed, the 0.7 s session answers. */
    if (!run_until(f, pred_time_reached, &soon, WAIT_MS))
        fail_msg("the clock did not reach the Start Time");
    send_test_packet(f, in200, 3, 41);
    if (!wait_replies(f, 3))
        fail_msg("no reply after the Start Time");
    check_reply(f, 2, 3);
    assert_int_equal(f->nreplies, 3); /* never one from the session 30 s ahead */
    expect_open_and_quiet(c);
}

/* ---- RFC 5938 individual session control ---------------------------------------- */

/* Start-N-Sessions (7) / Stop-N-Sessions (9), RFC 5938 section 3.2 / 3.4:
 * Command, MBZ (11), Number of Sessions, the SIDs, HMAC. */
static size_t build_n(uint8_t *m, uint8_t cmd, uint32_t num, const uint8_t (*sids)[16], int nsids)
{
    size_t len = 32 + 16 * (size_t)nsids;
    memset(m, 0, len);
    m[0] = cmd;
    put32(m + 12, num);
    for (int i = 0; i < nsids; i++)
        memcpy(m + 16 + 16 * i, sids[i], 16);
    return len;
}

/* Read a Start-N-Ack / Stop-N-Ack with n SIDs and check it. */
static void expect_n_ack(tconn_t *c, uint8_t cmd, uint8_t accept, const uint8_t (*sids)[16], int n)
{
    uint8_t m[32 + 16 * 4];
    size_t len = 32 + 16 * (size_t)n;
    expect_rx(c, m, len, cmd == 8 ? "Start-N-Ack" : "Stop-N-Ack");
    assert_int_equal(m[0], cmd);
    if (m[1] != accept)
        fail_msg("%s Accept %u, expected %u", cmd == 8 ? "Start-N-Ack" : "Stop-N-Ack", m[1],
                 accept);
    assert_zero(m + 2, 10);
    assert_int_equal(get32(m + 12), (uint32_t)n);
    for (int i = 0; i < n; i++)
        assert_memory_equal(m + 16 + 16 * i, sids[i], 16);
    assert_zero(m + len - 16, 16);
}

/* Mode 16: two sessions; Start-N-Sessions for the second one alone starts it
 * (it answers); Stop-N-Sessions for it and an unknown SID: Accept 0 for it,
 * Accept 1 for the other; Start-N-Sessions again for the stopped one: Accept
 * 1; the first one, never started, starts on its own. Then Start-Sessions,
 * which mode 16 forbids, closes the connection. */
static void test_individual_control(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready_mode(f, 0, 0x11);
    req_t r = default_req();
    uint8_t m[112], sid[3][16];
    uint16_t port1 = request_raw(c, &r, m);
    assert_int_equal(m[0], 0);
    memcpy(sid[0], m + 4, 16);
    r.sender_port = 20002;
    uint16_t port2 = request_raw(c, &r, m);
    assert_int_equal(m[0], 0);
    memcpy(sid[1], m + 4, 16);
    memset(sid[2], 0x5a, 16); /* no such session */

    send_bytes(c, m, build_n(m, 7, 1, &sid[1], 1));
    expect_n_ack(c, 8, 0, &sid[1], 1);
    send_test_packet(f, port2, 7, 41);
    if (!wait_replies(f, 1))
        fail_msg("the session started by Start-N-Sessions did not answer");
    check_reply(f, 0, 7);

    send_bytes(c, m, build_n(m, 9, 2, &sid[1], 2));
    expect_n_ack(c, 10, 0, &sid[1], 1);
    expect_n_ack(c, 10, 1, &sid[2], 1);
    send_bytes(c, m, build_n(m, 7, 1, &sid[1], 1));
    expect_n_ack(c, 8, 1, &sid[1], 1); /* stopped: not again */
    send_bytes(c, m, build_n(m, 7, 1, &sid[0], 1));
    expect_n_ack(c, 8, 0, &sid[0], 1);
    send_test_packet(f, port1, 9, 41);
    if (!wait_replies(f, 2))
        fail_msg("the first session did not answer after its own Start-N-Sessions");
    check_reply(f, 1, 9);

    build_start_sessions(m);
    send_bytes(c, m, 32);
    expect_closed(c, "Start-Sessions in individual session control mode");
}

/* Hostile Start-N-Sessions / Stop-N-Sessions: no SID, more SIDs than the
 * connection has sessions (the message is never read whole: 2^32 - 1 SIDs
 * would be 64 GiB), or without mode 16: each closes its connection only; a
 * connection alongside is served on. */
static void test_individual_control_hostile(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[112];
    static const uint8_t zero_sid[1][16];
    static const struct {
        uint32_t mode, num;
        uint8_t cmd;
        const char *what;
    } cases[] = {
        {0x11, 0, 7, "Start-N-Sessions for 0 sessions"},
        {0x11, 2, 7, "Start-N-Sessions for 2 sessions (the connection has 1)"},
        {0x11, 0xffffffffu, 9, "Stop-N-Sessions for 2^32 - 1 sessions"},
        {0x41, 1, 7, "Start-N-Sessions without mode 16"},
        {0x11, 1, 3, "Stop-Sessions in mode 16"},
    };
    tconn_t *bystander = ready_mode(f, 1, 0x41);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tconn_t *c = ready_mode(f, 0, cases[i].mode);
        req_t r = default_req();
        request(c, &r, 0);
        size_t len = build_n(m, cases[i].cmd, cases[i].num, zero_sid, 1);
        if (cases[i].cmd == 3)
            build_stop_sessions(m, 1), len = 32;
        send_bytes(c, m, len);
        expect_closed(c, cases[i].what); /* and no longer watched */
        close(c->fd);
        c->fd = -1;
    }
    req_t r = default_req();
    request(bystander, &r, 0);
    expect_open_and_quiet(bystander);
}

/* Start-Sessions with no session at all is acknowledged too. */
static void test_start_without_sessions(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    start(c);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 0, 0, 1, 0);
}

static bool pred_no_sessions(void *arg)
{
    fixture_t *f = arg;
    return ctr(f)->active_sessions == 0;
}

static void stop_with_count(fixture_t *f, uint32_t n)
{
    start_server(f);
    open_udp(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.timeout_ntp = (uint64_t)1 << 31; /* 0.5 s */
    uint16_t port = request(c, &r, 0);
    start(c);
    send_test_packet(f, port, 1, 41);
    assert_true(wait_replies(f, 1));
    check_reply(f, 0, 1);

    uint8_t m[32];
    build_stop_sessions(m, n);
    send_bytes(c, m, 32);
    /* The session reflects for its Timeout after Stop-Sessions. */
    send_test_packet(f, port, 2, 41);
    if (!wait_replies(f, 2))
        fail_msg("no reply within the session's Timeout after Stop-Sessions");
    check_reply(f, 1, 2);
    /* Then it goes; the connection stays. */
    if (!run_until(f, pred_no_sessions, f, WAIT_MS))
        fail_msg("the session did not end after its Timeout (%d active)", ctr(f)->active_sessions);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 1, 0, 1, 0);
    /* And can request again. */
    r.timeout_ntp = 0;
    request(c, &r, 0);
    check_counters(f, 1, 0, 0, 2, 0, 1, 1);
}

/* Stop-Sessions with Number of Sessions 0, as the Python twampy sends it. */
static void test_stop_sessions_zero(void **state)
{
    stop_with_count(*state, 0);
}

static void test_stop_sessions_count(void **state)
{
    stop_with_count(*state, 1);
}

/* Sessions outlive their control connection by their Timeout. */
static void test_connection_lost_sessions_linger(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req(); /* Timeout 0.1 s */
    request(c, &r, 0);
    request(c, &r, 0);
    start(c);
    r.timeout_ntp = 0;
    request(c, &r, 0); /* never started: goes at once */
    check_counters(f, 1, 0, 0, 3, 0, 1, 3);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "the client closed its side");
    assert_int_equal(ctr(f)->active_connections, 0);
    if (!run_until(f, pred_no_sessions, f, WAIT_MS))
        fail_msg("%d sessions left after the connection closed", ctr(f)->active_sessions);
    check_counters(f, 1, 0, 0, 3, 0, 0, 0);
}

/* ---- malformed streams ----------------------------------------------------------------- */

static void test_unknown_command(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    /* 9 (Stop-N-Ack), the forbidden 1, OWAMP's 4, experimental 6, 0, 255. */
    static const uint8_t cmds[] = {9, 1, 4, 6, 0, 255};
    for (size_t i = 0; i < sizeof cmds; i++) {
        tconn_t *c = ready(f, 0);
        uint8_t m[16];
        memset(m, 0, sizeof m);
        m[0] = cmds[i];
        send_bytes(c, m, 16);
        char what[64];
        snprintf(what, sizeof what, "unknown command %u", cmds[i]);
        expect_closed(c, what);
        check_counters(f, i + 1, 0, i + 1, 0, 0, 0, 0);
        close(c->fd);
        c->fd = -1;
    }
}

static void test_garbage_command(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    uint8_t m[32];
    memset(m, 0xA5, sizeof m);
    send_bytes(c, m, 16);
    expect_closed(c, "a garbage command");
    check_counters(f, 1, 0, 1, 0, 0, 0, 0);
}

static void on_dribble(void *arg)
{
    tconn_t *c = arg;
    if (c->drib_off < c->drib_len) {
        assert_int_equal(send(c->fd, c->drib + c->drib_off, 1, MSG_NOSIGNAL), 1);
        c->drib_off++;
    }
    if (c->drib_off < c->drib_len)
        tw_timer_set(c->f->loop, &c->drib_timer,
                     tw_mono_now() + (c->drib_gap ? c->drib_gap : 100 * TW_NS_PER_US), on_dribble,
                     c);
    tw_loop_stop(c->f->loop);
}

/* Send one octet per loop round. */
static void dribble(tconn_t *c, const uint8_t *buf, size_t len)
{
    assert_true(len <= sizeof c->drib);
    memcpy(c->drib, buf, len);
    c->drib_len = len;
    c->drib_off = 0;
    tw_timer_set(c->f->loop, &c->drib_timer, tw_mono_now(), on_dribble, c);
}

static bool dribbled(void *arg)
{
    const tconn_t *c = arg;
    return c->drib_off == c->drib_len;
}

static void test_split_single_octets(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[164];
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    build_setup_response(m, 0x41);
    dribble(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    assert_int_equal(c->drib_off, 164);
    check_server_start(m, 0);
    req_t r = default_req();
    build_request(m, &r);
    dribble(c, m, 112);
    expect_rx(c, m, 48, "Accept-Session");
    check_accept(m, 0);
    build_start_sessions(m);
    dribble(c, m, 32);
    expect_rx(c, m, 32, "Start-Ack");
    check_start_ack(m, 0);
    build_stop_sessions(m, 1);
    dribble(c, m, 32);
    /* Until the 32 octets are out (a loaded machine delays the timers). */
    run_until(f, dribbled, c, 10000);
    assert_int_equal(c->drib_off, 32);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 1, 0, 1, 1);
}

/* Set-Up-Response, two requests and Start-Sessions in one write. */
static void test_joined_messages(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[164 + 112 + 112 + 32];
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    req_t r = default_req();
    build_setup_response(m, 0x41);
    build_request(m + 164, &r);
    r.sender_port = 20002;
    build_request(m + 276, &r);
    build_start_sessions(m + 388);
    send_bytes(c, m, sizeof m);
    expect_rx(c, m, 48, "Server-Start");
    check_server_start(m, 0);
    expect_rx(c, m, 48, "Accept-Session 1");
    uint16_t p1 = check_accept(m, 0);
    expect_rx(c, m, 48, "Accept-Session 2");
    uint16_t p2 = check_accept(m, 0);
    assert_true(p1 != p2);
    expect_rx(c, m, 32, "Start-Ack");
    check_start_ack(m, 0);
    expect_open_and_quiet(c);
    check_counters(f, 1, 0, 0, 2, 0, 1, 2);
}

static void test_half_message_then_close(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[164];

    /* Half a Set-Up-Response. */
    tconn_t *c = connect_to(f, 0);
    expect_rx(c, m, 64, "Server Greeting");
    build_setup_response(m, 0x41);
    send_bytes(c, m, 82);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "half a Set-Up-Response and EOF");
    check_counters(f, 1, 0, 1, 0, 0, 0, 0);

    /* Half a Request-TW-Session. */
    c = ready(f, 1);
    req_t r = default_req();
    build_request(m, &r);
    send_bytes(c, m, 50);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "half a Request-TW-Session and EOF");
    check_counters(f, 2, 0, 2, 0, 0, 0, 0);

    /* Exactly the first 16-octet block of a Request-TW-Session. */
    c = ready(f, 2);
    send_bytes(c, m, 16);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "the first block of a Request-TW-Session and EOF");
    check_counters(f, 3, 0, 3, 0, 0, 0, 0);

    /* On a message boundary: a clean close, no protocol error. */
    c = ready(f, 3);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "EOF between messages");
    check_counters(f, 4, 0, 3, 0, 0, 0, 0);
}

/* ---- limits and SERVWAIT ------------------------------------------------------------- */

/* A greeting with Modes 0 ("go away"), then the connection closes. */
static void expect_refused(tconn_t *c)
{
    uint8_t m[64];
    expect_rx(c, m, 64, "the refusing Server Greeting");
    assert_zero(m, 12);
    assert_int_equal(get32(m + 12), 0);
    expect_closed(c, "the Server Greeting with Modes 0");
}

/* Full of connections that have set up: the next one is refused. */
static void test_max_connections(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_connections = 1;
    start_server(f);
    uint8_t m[164];
    tconn_t *a = ready(f, 0);

    tconn_t *b = connect_to(f, 1);
    expect_refused(b);
    check_counters(f, 1, 1, 0, 0, 0, 1, 0);
    assert_int_equal(ctr(f)->connections_evicted, 0);

    /* The first connection is not disturbed. */
    req_t r = default_req();
    request(a, &r, 0);

    /* Once it is gone, a new connection is served. */
    assert_int_equal(shutdown(a->fd, SHUT_WR), 0);
    expect_closed(a, "the client closed its side");
    tconn_t *c = connect_to(f, 2);
    expect_rx(c, m, 64, "Server Greeting");
    check_greeting(m, MODES);
    check_counters(f, 2, 1, 0, 1, 0, 1, 0); /* a's session was never started: gone */
}

static void test_servwait(void **state)
{
    fixture_t *f = *state;
    f->cfg.servwait_ns = 200 * TW_NS_PER_MS;
    start_server(f);
    uint8_t m[164];
    int64_t t0 = tw_mono_now();
    tconn_t *a = connect_to(f, 0);
    tconn_t *b = connect_to(f, 1);
    expect_rx(a, m, 64, "Server Greeting");
    expect_rx(b, m, 64, "Server Greeting");
    run_until(f, NULL, NULL, 100);
    /* b talks, a stays idle. */
    build_setup_response(m, 0x41);
    send_bytes(b, m, 164);
    expect_rx(b, m, 48, "Server-Start");
    expect_closed(a, "200 ms of silence (servwait)");
    int64_t ms = (tw_mono_now() - t0) / TW_NS_PER_MS;
    if (ms < 190)
        fail_msg("the idle connection was closed after %lld ms, servwait is 200 ms", (long long)ms);
    /* b had a message 100 ms after a's last: still open. */
    expect_open_and_quiet(b);
    check_counters(f, 2, 0, 0, 0, 0, 1, 0);
    /* Then b's own servwait runs out. */
    expect_closed(b, "200 ms of silence after Server-Start (servwait)");
    check_counters(f, 2, 0, 0, 0, 0, 0, 0);
}

/* Test packets count as activity: a running session keeps its connection. */
static void test_servwait_test_traffic(void **state)
{
    fixture_t *f = *state;
    f->cfg.servwait_ns = 200 * TW_NS_PER_MS;
    start_server(f);
    open_udp(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    uint16_t port = request(c, &r, 0);
    start(c);
    for (uint32_t i = 0; i < 8; i++) {
        send_test_packet(f, port, i, 41);
        assert_true(wait_replies(f, (int)i + 1));
        run_until(f, pred_eof, c, 50);
        if (c->eof)
            fail_msg("the connection was closed after %u test packets 50 ms apart", i + 1);
    }
    check_counters(f, 1, 0, 0, 1, 0, 1, 1);
}

/* ---- authenticated, encrypted and mixed modes (RFC 4656 §3.1, §3.2) -------------------
 *
 * The test plays the client with the crypto core (auth.h, tested against
 * independent vectors in test_auth.c): it derives the key from the secret and
 * the greeting's Salt and Count, sends its Token, seals its commands, opens the
 * server's answers, and protects its test packets with the session's keys. */

#define SECURE_MODES 0x6Fu /* 1|2|4|8 | reflect octets | symmetrical size */
static const char ALICE[] = "correct horse battery staple";

/* A key file with alice's secret, loaded as the server's key ring. */
static void give_keyring(fixture_t *f)
{
    char path[] = "/tmp/twampy-test-keys.XXXXXX";
    int fd = mkstemp(path); /* mode 0600 */
    assert_true(fd >= 0);
    char line[128];
    int n = snprintf(line, sizeof line, "# test keys\nalice %s\nbob 0x0102030405\n", ALICE);
    assert_int_equal(write(fd, line, (size_t)n), n);
    close(fd);
    char err[256] = "";
    int rc = tw_keyring_load(path, &f->ring, err, sizeof err);
    unlink(path);
    if (rc != TW_AUTH_OK)
        fail_msg("tw_keyring_load: %s", err);
    f->cfg.keyring = f->ring;
    f->cfg.modes = SECURE_MODES;
}

typedef struct cli_crypto {
    uint8_t aes[16], hmac[32], client_iv[16];
    tw_ctrl_crypto_t c;
} cli_crypto_t;

/* Greeting, then a Set-Up-Response for mode with keyid and passphrase; returns
 * the connection with the Server-Start (48 octets, as received) in ss. */
static tconn_t *secure_setup(fixture_t *f, int i, uint32_t mode, const char *keyid,
                             const char *pass, cli_crypto_t *cc, uint8_t ss[48])
{
    uint8_t g[64], m[164];
    tconn_t *c = connect_to(f, i);
    expect_rx(c, g, 64, "Server Greeting");
    assert_int_equal(get32(g + 12), f->cfg.modes);
    uint32_t count = get32(g + 48);
    tw_secret_t sec = {.len = strlen(pass)};
    memcpy(sec.bytes, pass, sec.len);
    uint8_t key[16];
    assert_int_equal(tw_kdf(&sec, g + 32, count, count, key), TW_AUTH_OK);
    assert_int_equal(tw_auth_random(cc->aes, 16), TW_AUTH_OK);
    assert_int_equal(tw_auth_random(cc->hmac, 32), TW_AUTH_OK);
    assert_int_equal(tw_auth_random(cc->client_iv, 16), TW_AUTH_OK);
    build_setup_response(m, mode);
    assert_int_equal(tw_keyid_encode(keyid, m + 4), TW_AUTH_OK);
    assert_int_equal(tw_token_make(key, g + 16, cc->aes, cc->hmac, m + 84), TW_AUTH_OK);
    memcpy(m + 148, cc->client_iv, 16);
    send_bytes(c, m, 164);
    expect_rx(c, ss, 48, "Server-Start");
    return c;
}

/* The secure connection up to Server-Start (Accept 0), its stream set up. */
static tconn_t *secure_ready(fixture_t *f, int i, uint32_t mode, cli_crypto_t *cc)
{
    uint8_t ss[48];
    tconn_t *c = secure_setup(f, i, mode, "alice", ALICE, cc, ss);
    assert_zero(ss, 15);
    assert_int_equal(ss[15], 0);
    if (all_zero(ss + 16, 16))
        fail_msg("Server-IV is all zero");
    assert_int_equal(tw_ctrl_crypto_init(&cc->c, cc->aes, cc->hmac, cc->client_iv, ss + 16),
                     TW_AUTH_OK);
    /* Start-Time and MBZ (32..47) come encrypted, trusted after the next HMAC. */
    assert_int_equal(tw_ctrl_open_partial(&cc->c, ss + 32, 16), TW_AUTH_OK);
    assert_ntp_now(get32(ss + 32), "Server-Start Start-Time (decrypted)");
    assert_zero(ss + 40, 8);
    return c;
}

static void send_sealed(tconn_t *c, cli_crypto_t *cc, uint8_t *m, size_t len)
{
    assert_int_equal(tw_ctrl_seal(&cc->c, m, len), TW_AUTH_OK);
    send_bytes(c, m, len);
}

static void expect_opened(tconn_t *c, cli_crypto_t *cc, uint8_t *m, size_t len, const char *what)
{
    expect_rx(c, m, len, what);
    int rc = tw_ctrl_open(&cc->c, m, len, 0);
    if (rc != TW_AUTH_OK)
        fail_msg("the server's %s does not open: %s", what, tw_auth_strerror(rc));
    memset(m + len - 16, 0, 16); /* the HMAC, checked: zero for the open-mode checks */
}

/* A protected Session-Sender packet (RFC 5357 §4.1.2, 48 octets + padding):
 * Sequence Number (0,4), MBZ (4,12), Timestamp (16,8), Error Estimate (24,2). */
static void send_auth_test_packet(fixture_t *f, tw_test_crypto_t *t, uint32_t mode, uint16_t port,
                                  uint32_t seq, size_t len, int flip)
{
    uint8_t p[128];
    memset(p, 0, sizeof p);
    put32(p, seq);
    put32(p + 16, 0xE0000000u + seq);
    put32(p + 20, 0x12345678u);
    put16(p + 24, 0x0101);
    assert_int_equal(tw_test_sender_protect(t, mode, p, len), TW_AUTH_OK);
    if (flip >= 0)
        p[flip] ^= 0x04;
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(sendto(f->udp, p, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
}

/* Mode 2 or 4 from greeting to reflected, protected test packets. */
static void secure_session(fixture_t *f, uint32_t mode)
{
    give_keyring(f);
    start_server(f);
    open_udp(f);
    cli_crypto_t cc;
    tconn_t *c = secure_ready(f, 0, mode, &cc);
    uint8_t m[112];
    req_t r = default_req();
    build_request(m, &r);
    send_sealed(c, &cc, m, 112);
    expect_opened(c, &cc, m, 48, "Accept-Session");
    uint16_t port = check_accept(m, 0);
    uint8_t sid[16];
    memcpy(sid, m + 4, 16);
    build_start_sessions(m);
    send_sealed(c, &cc, m, 32);
    expect_opened(c, &cc, m, 32, "Start-Ack");
    check_start_ack(m, 0);

    tw_test_crypto_t t;
    assert_int_equal(tw_test_crypto_init(&t, cc.aes, cc.hmac, sid), TW_AUTH_OK);
    /* A packet altered in flight in its first (covered) block: dropped. */
    send_auth_test_packet(f, &t, mode, port, 1, 48, 2);
    /* A packet in the open format: dropped. */
    send_test_packet(f, port, 2, 41);
    /* Good packets: a 48-octet one gets the 112-octet minimum, a longer one
     * as many octets as it has. */
    send_auth_test_packet(f, &t, mode, port, 3, 48, -1);
    send_auth_test_packet(f, &t, mode, port, 4, 120, -1);
    if (!wait_replies(f, 2))
        fail_msg("%d replies to two good protected test packets", f->nreplies);
    run_until(f, NULL, NULL, 20);
    assert_int_equal(f->nreplies, 2);
    static const size_t want_len[2] = {112, 120};
    for (int i = 0; i < 2; i++) {
        uint8_t *rep = f->reply[i];
        assert_int_equal(f->reply_len[i], want_len[i]);
        assert_int_equal(tw_test_reflector_open(&t, mode, rep, 112), TW_AUTH_OK);
        /* Reflector format (RFC 5357 §4.2.1): Sender Sequence Number (48,4),
         * Sender Timestamp (64,8), Sender Error Estimate (72,2), TTL (80,1). */
        assert_int_equal(get32(rep + 48), 3 + i);
        assert_int_equal(get32(rep + 64), 0xE0000000u + 3 + (uint32_t)i);
        assert_int_equal(get32(rep + 68), 0x12345678u);
        assert_int_equal(get16(rep + 72), 0x0101);
        assert_true(rep[80] > 0);
        assert_int_equal(get32(rep), (uint32_t)i); /* the reflector's own sequence */
        assert_zero(rep + 4, 12);
        assert_zero(rep + 40, 8);
        assert_zero(rep + 52, 12);
        assert_zero(rep + 81, 15);
    }
    /* A reply altered in flight does not open. */
    f->reply[0][3] ^= 0x10;
    assert_int_equal(tw_test_reflector_open(&t, mode, f->reply[0], 112), TW_AUTH_EINTEGRITY);
    tw_test_crypto_free(&t);
    expect_open_and_quiet(c);
    assert_int_equal(ctr(f)->key_rejected, 0);
    assert_int_equal(ctr(f)->integrity_failures, 0);
    check_counters(f, 1, 0, 0, 1, 0, 1, 1);
    tw_ctrl_crypto_free(&cc.c);
}

static void test_auth_session_authenticated(void **state)
{
    secure_session(*state, TW_MODE_AUTHENTICATED);
}

static void test_auth_session_encrypted(void **state)
{
    secure_session(*state, TW_MODE_ENCRYPTED);
}

/* Mode 8: the control stream is protected, the test packets are open. */
static void test_auth_session_mixed(void **state)
{
    fixture_t *f = *state;
    give_keyring(f);
    start_server(f);
    open_udp(f);
    cli_crypto_t cc;
    tconn_t *c = secure_ready(f, 0, TW_MODE_MIXED, &cc);
    uint8_t m[112];
    req_t r = default_req();
    build_request(m, &r);
    send_sealed(c, &cc, m, 112);
    expect_opened(c, &cc, m, 48, "Accept-Session");
    uint16_t port = check_accept(m, 0);
    build_start_sessions(m);
    send_sealed(c, &cc, m, 32);
    expect_opened(c, &cc, m, 32, "Start-Ack");
    send_test_packet(f, port, 5, 41);
    if (!wait_replies(f, 1))
        fail_msg("no reply to an open test packet in mode 8");
    check_reply(f, 0, 5);
    tw_ctrl_crypto_free(&cc.c);
}

static void key_refused(fixture_t *f, const char *keyid, const char *pass)
{
    give_keyring(f);
    start_server(f);
    cli_crypto_t cc;
    uint8_t ss[48];
    tconn_t *c = secure_setup(f, 0, TW_MODE_AUTHENTICATED, keyid, pass, &cc, ss);
    /* Server-Start with Accept 1, all in clear, then the close. */
    assert_zero(ss, 15);
    assert_int_equal(ss[15], 1);
    expect_closed(c, "a refused key");
    assert_int_equal(ctr(f)->key_rejected, 1);
    check_counters(f, 1, 0, 0, 0, 0, 0, 0);
    /* Another client with the right key is served. */
    close(c->fd);
    c->fd = -1;
    tconn_t *good = secure_ready(f, 1, TW_MODE_ENCRYPTED, &cc);
    expect_open_and_quiet(good);
    tw_ctrl_crypto_free(&cc.c);
}

static void test_auth_wrong_passphrase(void **state)
{
    key_refused(*state, "alice", "Correct horse battery staple");
}

static void test_auth_unknown_keyid(void **state)
{
    key_refused(*state, "carol", ALICE);
}

/* A command altered in flight: the connection is closed on its HMAC, before
 * anything in it is acted upon (no session, no Accept-Session). */
static void test_auth_tampered_request(void **state)
{
    fixture_t *f = *state;
    give_keyring(f);
    start_server(f);
    cli_crypto_t cc;
    tconn_t *c = secure_ready(f, 0, TW_MODE_ENCRYPTED, &cc);
    uint8_t m[112];
    req_t r = default_req();
    build_request(m, &r);
    assert_int_equal(tw_ctrl_seal(&cc.c, m, 112), TW_AUTH_OK);
    m[40] ^= 0x01; /* the third block */
    send_bytes(c, m, 112);
    expect_closed(c, "a Request-TW-Session altered in flight");
    assert_int_equal(ctr(f)->integrity_failures, 1);
    check_counters(f, 1, 0, 0, 0, 0, 0, 0);
    tw_ctrl_crypto_free(&cc.c);
}

/* A client that sends its commands in clear in a secure mode: the first block
 * decrypts to garbage and the connection goes. */
static void test_auth_plaintext_command(void **state)
{
    fixture_t *f = *state;
    give_keyring(f);
    start_server(f);
    cli_crypto_t cc;
    tconn_t *c = secure_ready(f, 0, TW_MODE_AUTHENTICATED, &cc);
    uint8_t m[112];
    req_t r = default_req();
    build_request(m, &r);
    send_bytes(c, m, 112);
    expect_closed(c, "a Request-TW-Session in clear");
    check_counters(f, 1, 0, ctr(f)->protocol_errors, 0, 0, 0, 0);
    assert_int_equal(ctr(f)->protocol_errors + ctr(f)->integrity_failures, 1);
    tw_ctrl_crypto_free(&cc.c);
}

/* ---- lockout defences (issue 9, findings 4 and 6) ---------------------------------- */

/* At --max-connections, the oldest connection still without a Set-Up-Response
 * makes room for a new one; connections that have set up are never evicted. */
static void test_evict_oldest_setup(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_connections = 3;
    start_server(f);
    uint8_t m[164];
    tconn_t *a = ready(f, 0); /* set up: stays */
    tconn_t *b = connect_to(f, 1);
    expect_rx(b, m, 64, "Server Greeting");
    tconn_t *c = connect_to(f, 2);
    expect_rx(c, m, 64, "Server Greeting");
    /* Full: d evicts b, the oldest without a Set-Up-Response. */
    tconn_t *d = connect_to(f, 3);
    expect_rx(d, m, 64, "Server Greeting");
    check_greeting(m, MODES);
    expect_closed(b, "an eviction (the oldest connection without a Set-Up-Response)");
    expect_open_and_quiet(a);
    expect_open_and_quiet(c);
    assert_int_equal(ctr(f)->connections_evicted, 1);
    check_counters(f, 4, 0, 0, 0, 0, 3, 0);
    /* c and d set up: all three have, the next one is refused. */
    build_setup_response(m, 0x41);
    send_bytes(c, m, 164);
    expect_rx(c, m, 48, "Server-Start");
    build_setup_response(m, 0x41);
    send_bytes(d, m, 164);
    expect_rx(d, m, 48, "Server-Start");
    close(b->fd);
    b->fd = -1;
    tconn_t *e = connect_to(f, 1);
    expect_refused(e);
    assert_int_equal(ctr(f)->connections_evicted, 1);
    check_counters(f, 4, 1, 0, 0, 0, 3, 0);
}

/* Eviction is fair between sources: a lone client from 127.0.0.1, the oldest
 * connection still setting up, survives a flood from 127.0.0.2; the flood's
 * own oldest connection goes. */
static void test_evict_flooding_source(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_connections = 3;
    start_server(f);
    uint8_t m[64];
    tconn_t *lone = connect_to(f, 0);
    expect_rx(lone, m, 64, "Server Greeting");
    f->src = 0x7f000002; /* 127.0.0.2 */
    tconn_t *b = connect_to(f, 1);
    expect_rx(b, m, 64, "Server Greeting");
    tconn_t *c = connect_to(f, 2);
    expect_rx(c, m, 64, "Server Greeting");
    tconn_t *d = connect_to(f, 3);
    expect_rx(d, m, 64, "Server Greeting");
    expect_closed(b, "an eviction (the flooding source's oldest connection)");
    expect_open_and_quiet(lone);
    expect_open_and_quiet(c);
    assert_int_equal(ctr(f)->connections_evicted, 1);
}

/* A Set-Up-Response already waiting in the socket of the oldest connection is
 * served, not evicted: the newcomer is refused instead. */
static void test_evict_last_look(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_connections = 1;
    start_server(f);
    uint8_t m[164];
    tconn_t *a = connect_to(f, 0);
    expect_rx(a, m, 64, "Server Greeting");
    build_setup_response(m, 0x41);
    send_bytes(a, m, 164);
    /* b connects before the server's loop has run again. */
    tconn_t *b = connect_to(f, 1);
    expect_rx(a, m, 48, "Server-Start");
    check_server_start(m, 0);
    expect_refused(b);
    assert_int_equal(ctr(f)->connections_evicted, 0);
    check_counters(f, 1, 1, 0, 0, 0, 1, 0);
}

static bool pred_two_eof(void *arg)
{
    tconn_t *c = arg;
    return c[0].eof && c[1].eof;
}

/* --setup-timeout: a connection silent after the greeting, one that sends its
 * Set-Up-Response an octet at a time, and one that sets up but never starts a
 * session are closed after it; one whose session runs is not. */
static void test_setup_timeout(void **state)
{
    fixture_t *f = *state;
    f->cfg.setup_timeout_ns = 300 * TW_NS_PER_MS;
    f->cfg.servwait_ns = 60 * TW_NS_PER_SEC;
    start_server(f);
    uint8_t m[164];
    tconn_t *a = connect_to(f, 0);
    expect_rx(a, m, 64, "Server Greeting");
    tconn_t *b = connect_to(f, 1);
    expect_rx(b, m, 64, "Server Greeting");
    build_setup_response(m, 0x41);
    b->drib_gap = 20 * TW_NS_PER_MS; /* 164 octets: 3.3 s */
    dribble(b, m, 164);
    tconn_t *c = ready(f, 2);
    tconn_t *d = ready(f, 3);
    req_t r = default_req();
    request(d, &r, 0);
    start(d);
    if (!run_until(f, pred_two_eof, &f->c[0], WAIT_MS))
        fail_msg("no Set-Up-Response for 300 ms: still open (silent %d, one octet per 20 ms %d)",
                 !a->eof, !b->eof);
    assert_true(b->drib_off < 164);
    tw_timer_cancel(f->loop, &b->drib_timer);
    expect_closed(c, "Server-Start and no Start-Sessions within --setup-timeout");
    /* d runs a session: --servwait (60 s) applies, not --setup-timeout. */
    run_until(f, pred_eof, d, 400);
    expect_open_and_quiet(d);
    assert_int_equal(ctr(f)->setup_timeouts, 3);
    check_counters(f, 4, 0, 0, 1, 0, 1, 1);
}

/* --max-connections-per-source: the next connection from that source is
 * refused, another source's is served. */
static void test_conn_per_source(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_connections_per_source = 2;
    start_server(f);
    uint8_t m[64];
    tconn_t *a = connect_to(f, 0);
    expect_rx(a, m, 64, "Server Greeting");
    tconn_t *b = connect_to(f, 1);
    expect_rx(b, m, 64, "Server Greeting");
    tconn_t *c = connect_to(f, 2);
    expect_refused(c);
    f->src = 0x7f000002; /* 127.0.0.2 */
    tconn_t *d = connect_to(f, 3);
    expect_rx(d, m, 64, "Server Greeting");
    check_greeting(m, MODES);
    check_counters(f, 3, 1, 0, 0, 0, 3, 0);
}

/* --max-sessions-per-source counts the sessions of every connection from that
 * source, and those that outlive their connection. */
static void test_sessions_per_source(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_sessions_per_source = 3;
    start_server(f);
    tconn_t *a = ready(f, 0);
    tconn_t *b = ready(f, 1);
    req_t r = default_req();
    r.timeout_ntp = (uint64_t)60 << 32;
    request(a, &r, 0);
    request(a, &r, 0);
    start(a);
    request(b, &r, 0);
    request(b, &r, 5); /* the fourth of 127.0.0.1 */
    /* a goes; its two sessions linger (Timeout 60 s) and still count. */
    assert_int_equal(shutdown(a->fd, SHUT_WR), 0);
    expect_closed(a, "the client closed its side");
    request(b, &r, 5);
    assert_int_equal(ctr(f)->active_sessions, 3);
    f->src = 0x7f000002;
    tconn_t *c = ready(f, 2);
    request(c, &r, 0);
    check_counters(f, 3, 0, 0, 4, 2, 2, 4);
}

/* A session whose connection is gone reflects for its Timeout, at most
 * --max-orphan-time. */
static void test_orphan_time_cap(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_orphan_time_ns = 200 * TW_NS_PER_MS;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.timeout_ntp = (uint64_t)86400 << 32; /* a day */
    request(c, &r, 0);
    request(c, &r, 0);
    start(c);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_closed(c, "the client closed its side");
    assert_int_equal(ctr(f)->active_sessions, 2);
    if (!run_until(f, pred_no_sessions, f, WAIT_MS))
        fail_msg("%d sessions of a closed connection still reflect (Timeout a day, "
                 "--max-orphan-time 0.2 s)",
                 ctr(f)->active_sessions);
    check_counters(f, 1, 0, 0, 2, 0, 0, 0);
}

/* Test sockets are bound on the control connection's local address only: a
 * Receiver Address elsewhere is refused with Accept 3, and nothing is bound. */
static void test_receiver_address_elsewhere(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.receiver_addr[0] = 127;
    r.receiver_addr[3] = 2; /* 127.0.0.2: local, but not this connection's */
    r.receiver_port = free_udp_port();
    request(c, &r, 3);
    static const uint8_t doc[4] = {192, 0, 2, 1};
    memcpy(r.receiver_addr, doc, 4);
    request(c, &r, 3);
    /* That port is still free on 127.0.0.2. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(0x7f000002),
                            .sin_port = htons(r.receiver_port)};
    int rc = bind(s, (struct sockaddr *)&a, sizeof a);
    close(s);
    assert_int_equal(rc, 0);
    check_counters(f, 1, 0, 0, 0, 2, 1, 0);
    /* Its own address: accepted. */
    static const uint8_t lo[4] = {127, 0, 0, 1};
    memcpy(r.receiver_addr, lo, 4);
    request(c, &r, 0);
}

/* The kernel's ephemeral port range (where bind to port 0 picks one). */
static void ephemeral_range(unsigned *lo, unsigned *hi)
{
    *lo = 32768;
    *hi = 60999;
    FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (fp) {
        if (fscanf(fp, "%u %u", lo, hi) != 2)
            fail_msg("cannot read ip_local_port_range");
        fclose(fp);
    }
}

/* Without --port-range a privileged Receiver Port gets another port, the
 * kernel's choice, in Accept-Session (RFC 5357 §3.5); a free unprivileged one
 * is honoured, as clients that ignore Accept-Session's port (the Python
 * twampy's controller) need. */
static void test_receiver_port_outside_range(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    tconn_t *c = ready(f, 0);
    unsigned lo, hi;
    ephemeral_range(&lo, &hi);
    req_t r = default_req();
    uint16_t outside[] = {1023, 80, 1};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        r.receiver_port = outside[i];
        uint16_t got = request(c, &r, 0);
        if (got == outside[i] || got < lo || got > hi)
            fail_msg("asked for privileged port %u: got %u, not one of the kernel's %u-%u",
                     outside[i], got, lo, hi);
    }
    uint16_t p = free_udp_port();
    r.receiver_port = p;
    assert_int_equal(request(c, &r, 0), p);
}

/* With --port-range, the ports come from there, whatever is asked for. */
static void test_port_range(void **state)
{
    fixture_t *f = *state;
    uint16_t p = free_udp_port();
    f->cfg.port_lo = p;
    f->cfg.port_hi = p;
    start_server(f);
    tconn_t *c = ready(f, 0);
    req_t r = default_req();
    r.receiver_port = 20001;
    assert_int_equal(request(c, &r, 0), p);
    /* The range is used up: Accept 5. */
    request(c, &r, 5);
}

/* Key derivations are paced per source: over the burst, Server-Start Accept 5
 * and the connection closes; another source still gets in. */
static void test_kdf_paced_per_source(void **state)
{
    fixture_t *f = *state;
    give_keyring(f);
    f->cfg.kdf_burst = 1;
    f->cfg.kdf_interval_ns = 3600 * TW_NS_PER_SEC;
    start_server(f);
    cli_crypto_t cc;
    tconn_t *a = secure_ready(f, 0, TW_MODE_AUTHENTICATED, &cc);
    tw_ctrl_crypto_free(&cc.c);
    uint8_t ss[48];
    tconn_t *b = secure_setup(f, 1, TW_MODE_AUTHENTICATED, "alice", ALICE, &cc, ss);
    check_server_start(ss, 5);
    expect_closed(b, "Server-Start Accept 5 (key derivations paced)");
    f->src = 0x7f000002;
    tconn_t *c = secure_ready(f, 2, TW_MODE_ENCRYPTED, &cc);
    tw_ctrl_crypto_free(&cc.c);
    expect_open_and_quiet(a);
    expect_open_and_quiet(c);
    assert_int_equal(ctr(f)->kdf_refused, 1);
    assert_int_equal(ctr(f)->key_rejected, 0);
}

/* Out of descriptors, accept() fails: the listener pauses instead of firing
 * again at once, and takes the waiting clients once a descriptor is freed. */
static void test_accept_emfile_pauses(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    uint8_t m[64];
    tconn_t *a = connect_to(f, 0);
    expect_rx(a, m, 64, "Server Greeting");
    /* b and c wait in the listen queue; then no descriptor is left. */
    tconn_t *b = connect_to(f, 1);
    tconn_t *c = connect_to(f, 2);
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int top = dup(0);
    assert_true(top >= 0);
    close(top);
    low = old;
    low.rlim_cur = (rlim_t)top; /* no descriptor from top on */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    /* Rounds of the loop with events, for 300 ms: a listener that fires again
     * at once has thousands. */
    int busy = 0;
    int64_t end = tw_mono_now() + 300 * TW_NS_PER_MS;
    while (tw_mono_now() < end)
        busy += tw_loop_run_once(f->loop, 20) > 0;
    uint64_t failures = ctr(f)->accept_failures;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (busy > 5)
        fail_msg("out of descriptors, the loop had %d busy rounds in 300 ms (%llu accept "
                 "failures counted): the listener spins",
                 busy, (unsigned long long)failures);
    if (failures == 0)
        fail_msg("accept() never failed with the descriptors gone");
    /* A descriptor freed (a closes): the listener takes b and c. */
    assert_int_equal(shutdown(a->fd, SHUT_WR), 0);
    expect_closed(a, "the client closed its side");
    expect_rx(b, m, 64, "Server Greeting (once descriptors are back)");
    expect_rx(c, m, 64, "Server Greeting (once descriptors are back)");
    assert_int_equal(ctr(f)->active_connections, 2);
}

int main(int argc, char **argv)
{
    /* An optional argument selects tests by name (cmocka pattern with * and ?). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    tw_log_set_level(getenv("TWAMPY_TEST_DEBUG") ? TW_LOG_DEBUG : TW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_greeting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_response_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_port_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_refused_not_supported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_at_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions_per_conn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_bad_ipvn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_and_reflect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_format_is_twamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_octets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_octets_symmetrical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_octets_refused_and_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_individual_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_individual_control_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_without_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_sessions_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_sessions_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_sessions_linger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_single_octets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joined_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_message_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servwait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servwait_test_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_session_authenticated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_session_encrypted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_session_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_tampered_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_plaintext_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_unknown_keyid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_oldest_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_last_look, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_flooding_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conn_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_time_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_address_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_port_outside_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kdf_paced_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_emfile_pauses, setup, teardown),
        /* Last: each of these closes a connection from inside on_setup_response. */
        cmocka_unit_test_setup_teardown(test_greeting_configured_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_mode_not_offered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_mode_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_mode_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_first_message, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
