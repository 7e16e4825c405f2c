/* Unit tests for control_client: the TWAMP-Control client state machine driven
 * over real loopback TCP. The test plays the TWAMP server with a plain socket:
 * it writes Server Greeting, Server-Start, Accept-Session, Start-Ack and
 * Stop-Sessions built octet by octet from the layouts of RFC 4656 §3 and
 * RFC 5357 §3 (WIRE.md), and checks every octet the client sends. Each step
 * runs the event loop with a deadline; nothing sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "control_client.h"
#include "log.h"
#include "ntptime.h"

#define STEP_TIMEOUT_MS 200 /* the client's --control-timeout in these tests */
#define WAIT_MS 2000        /* bound of a test step that is expected to succeed */

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

static uint64_t get64(const uint8_t *p)
{
    return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static bool all_zero16(const uint8_t *p)
{
    for (int i = 0; i < 16; i++)
        if (p[i])
            return false;
    return true;
}

static void assert_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            fail_msg("octet %zu of a field that must be zero is 0x%02x", i, p[i]);
    }
}

/* NTP seconds now (RFC 5905 era 0), from the wall clock. */
static uint32_t ntp_seconds_now(void)
{
    return (uint32_t)((uint64_t)time(NULL) + 2208988800u);
}

/* Server Greeting (64): Unused (0,12), Modes (12,4), Challenge (16,16), Salt
 * (32,16), Count (48,4), MBZ (52,12). */
static void build_greeting(uint8_t m[64], uint32_t modes)
{
    memset(m, 0, 64);
    put32(m + 12, modes);
    for (int i = 0; i < 16; i++) {
        m[16 + i] = (uint8_t)(0x10 + i); /* Challenge */
        m[32 + i] = (uint8_t)(0xA0 + i); /* Salt */
    }
    put32(m + 48, 1024);
}

/* Server-Start (48): MBZ (0,15), Accept (15,1), Server-IV (16,16), Start-Time
 * (32,8), MBZ (40,8). */
static void build_server_start(uint8_t m[48], uint8_t accept)
{
    memset(m, 0, 48);
    m[15] = accept;
    for (int i = 0; i < 16; i++)
        m[16 + i] = (uint8_t)(0xC0 + i);
    put64(m + 32, ((uint64_t)ntp_seconds_now() << 32) | 0x80000000u);
}

/* Accept-Session (48): Accept (0,1), MBZ (1,1), Port (2,2), SID (4,16), Reflected
 * octets (20,2), Server octets (22,2), MBZ (24,8), HMAC (32,16). */
static void sid_of(uint8_t sid[16], int index)
{
    sid[0] = 127;
    sid[1] = 0;
    sid[2] = 0;
    sid[3] = 1;
    for (int i = 4; i < 16; i++)
        sid[i] = (uint8_t)(0x50 + index * 16 + i);
}

static void build_accept_session(uint8_t m[48], uint8_t accept, uint16_t port, int index)
{
    memset(m, 0, 48);
    m[0] = accept;
    put16(m + 2, port);
    sid_of(m + 4, index);
}

/* Start-Ack (32): Accept (0,1), MBZ (1,15), HMAC (16,16). */
static void build_start_ack(uint8_t m[32], uint8_t accept)
{
    memset(m, 0, 32);
    m[0] = accept;
}

/* Stop-Sessions (32): Command 3 (0,1), Accept (1,1), MBZ (2,2), Number of
 * Sessions (4,4), MBZ (8,8), HMAC (16,16). */
static void build_stop_sessions(uint8_t m[32], uint8_t accept, uint32_t n)
{
    memset(m, 0, 32);
    m[0] = 3;
    m[1] = accept;
    put32(m + 4, n);
}

/* ---- the fixture: an event loop, the test's "server" socket, the client ---- */

typedef struct fixture {
    tw_loop_t *loop;
    int lfd; /* the test's listening socket */
    tw_watch_t lwatch;
    bool lwatching;
    uint16_t port;
    int fd; /* the accepted control connection, -1 before */
    tw_watch_t watch;
    bool watching;
    uint8_t rx[4096]; /* octets from the client not yet checked */
    size_t rxlen, want;
    bool eof;
    int rx_errno;
    /* the client under test */
    tw_ctrl_client_cfg_t cfg;
    tw_ctrl_client_t *client;
    int started, failed, stopped;
    int n_acks; /* RFC 5938 acks seen; the last one's fields */
    bool n_start;
    uint8_t n_accept;
    int n_idx[TW_CTRL_N_MAX], n_n;
    char why[512];
    tw_accept_session_t acc[TW_CTRL_MAX_SESSIONS];
    int nacc;
    /* run_until */
    tw_timer_t tick;
    bool (*pred)(struct fixture *);
    int64_t deadline;
    bool expired;
    /* a writer that sends one octet per loop round */
    tw_timer_t drib_timer;
    uint8_t drib[512];
    size_t drib_len, drib_off;
} fixture_t;

static void on_tick(void *arg)
{
    fixture_t *f = arg;
    int64_t now = tw_mono_now();
    if (f->pred && f->pred(f)) {
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

/* Run the loop until pred holds or ms have passed; returns pred's verdict. With
 * pred NULL, runs for ms (for "nothing happens" checks). Every test callback
 * stops the loop, so pred is looked at after each event. */
static bool run_until(fixture_t *f, bool (*pred)(fixture_t *), int ms)
{
    f->pred = pred;
    f->expired = false;
    f->deadline = tw_mono_now() + ms * TW_NS_PER_MS;
    tw_timer_set(f->loop, &f->tick, tw_mono_now(), on_tick, f);
    while (!(pred && pred(f)) && !f->expired)
        assert_int_equal(tw_loop_run(f->loop), 0);
    tw_timer_cancel(f->loop, &f->tick);
    f->pred = NULL;
    return pred ? pred(f) : false;
}

static void peer_io(void *arg, uint32_t events)
{
    fixture_t *f = arg;
    for (;;) {
        if (f->rxlen == sizeof f->rx)
            break;
        ssize_t n = recv(f->fd, f->rx + f->rxlen, sizeof f->rx - f->rxlen, MSG_DONTWAIT);
        if (n > 0) {
            f->rxlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        f->eof = true;
        f->rx_errno = n < 0 ? errno : 0;
        tw_loop_del(f->loop, &f->watch);
        f->watching = false;
        break;
    }
    tw_loop_stop(f->loop);
}

static void listener_io(void *arg, uint32_t events)
{
    fixture_t *f = arg;
    int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        f->fd = fd;
        assert_int_equal(tw_loop_add(f->loop, &f->watch, fd, EPOLLIN, peer_io, f), 0);
        f->watching = true;
        tw_loop_del(f->loop, &f->lwatch);
        f->lwatching = false;
    }
    tw_loop_stop(f->loop);
}

static void on_n_ack(void *arg, bool start, uint8_t accept, const int *idx, int n)
{
    fixture_t *f = arg;
    f->n_acks++;
    f->n_start = start;
    f->n_accept = accept;
    f->n_n = n;
    memcpy(f->n_idx, idx, sizeof(int) * (size_t)n);
}

static bool pred_n_ack(fixture_t *f)
{
    return f->n_acks > 0 || f->failed;
}

static void on_started(void *arg, const tw_accept_session_t *acc, int n)
{
    fixture_t *f = arg;
    f->started++;
    f->nacc = n;
    memcpy(f->acc, acc, (size_t)n * sizeof *acc);
    tw_loop_stop(f->loop);
}

static void on_failed(void *arg, const char *why)
{
    fixture_t *f = arg;
    f->failed++;
    snprintf(f->why, sizeof f->why, "%s", why);
    tw_loop_stop(f->loop);
}

static void on_stopped(void *arg)
{
    fixture_t *f = arg;
    f->stopped++;
    tw_loop_stop(f->loop);
}

static void listen_loopback(fixture_t *f)
{
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(tw_loop_add(f->loop, &f->lwatch, f->lfd, EPOLLIN, listener_io, f), 0);
    f->lwatching = true;
}

/* Session 1 with addresses and non-trivial fields, session 2 with zeros
 * ("the address of the control connection"). */
static const tw_ctrl_session_req_t REQ1 = {
    .sender_addr = {127, 0, 0, 1},
    .receiver_addr = {127, 0, 0, 2},
    .sender_port = 20000,
    .receiver_port = 20001,
    .padding_length = 27,
    .dscp = 46,
    .timeout_ns = 2500 * TW_NS_PER_MS, /* NTP 0x00000002.80000000 */
};
#define REQ1_TIMEOUT_NTP 0x0000000280000000ull

static const tw_ctrl_session_req_t REQ2 = {
    .sender_port = 30000,
    .receiver_port = 0,
    .padding_length = 1400,
    .dscp = 10,
    .timeout_ns = 1250 * TW_NS_PER_MS, /* NTP 0x00000001.40000000 */
};
#define REQ2_TIMEOUT_NTP 0x0000000140000000ull

static fixture_t *fixture_new(int nsessions)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->fd = -1;
    f->lfd = -1;
    f->loop = tw_loop_new();
    assert_non_null(f->loop);
    listen_loopback(f);
    struct sockaddr_in *s = (struct sockaddr_in *)&f->cfg.server;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->sin_port = htons(f->port);
    f->cfg.server_len = sizeof *s;
    f->cfg.step_timeout_ns = STEP_TIMEOUT_MS * TW_NS_PER_MS;
    f->cfg.nsessions = nsessions;
    f->cfg.req[0] = REQ1;
    f->cfg.req[1] = REQ2;
    f->cfg.on_started = on_started;
    f->cfg.on_n_ack = on_n_ack;
    f->cfg.on_failed = on_failed;
    f->cfg.on_stopped = on_stopped;
    f->cfg.arg = f;
    return f;
}

static void fixture_free(fixture_t *f)
{
    if (!f)
        return;
    tw_ctrl_client_close(f->client);
    tw_timer_cancel(f->loop, &f->tick);
    tw_timer_cancel(f->loop, &f->drib_timer);
    if (f->watching)
        tw_loop_del(f->loop, &f->watch);
    if (f->lwatching)
        tw_loop_del(f->loop, &f->lwatch);
    if (f->fd >= 0)
        close(f->fd);
    if (f->lfd >= 0)
        close(f->lfd);
    tw_loop_free(f->loop);
    free(f);
}

static int setup1(void **state)
{
    *state = fixture_new(1);
    return 0;
}

static int setup2(void **state)
{
    *state = fixture_new(2);
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

/* ---- steps ------------------------------------------------------------------ */

static bool pred_conn(fixture_t *f)
{
    return f->fd >= 0;
}

static bool pred_rx(fixture_t *f)
{
    return f->rxlen >= f->want || f->eof;
}

static bool pred_eof(fixture_t *f)
{
    return f->eof;
}

static bool pred_failed(fixture_t *f)
{
    return f->failed > 0;
}

static bool pred_started(fixture_t *f)
{
    return f->started > 0 || f->failed > 0;
}

static void open_client(fixture_t *f)
{
    char err[256] = "";
    if (tw_ctrl_client_open(&f->client, &f->cfg, f->loop, err, sizeof err) != 0)
        fail_msg("tw_ctrl_client_open: %s", err);
    if (!run_until(f, pred_conn, WAIT_MS))
        fail_msg("the client did not connect to the test's listener");
}

static void send_bytes(fixture_t *f, const void *buf, size_t len)
{
    assert_int_equal(send(f->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Wait for exactly the next len octets from the client and move them to out. */
static void expect_rx(fixture_t *f, uint8_t *out, size_t len, const char *what)
{
    f->want = len;
    run_until(f, pred_rx, WAIT_MS);
    if (f->rxlen < len)
        fail_msg("expected %s (%zu octets) from the client, got %zu octets%s%s%s", what, len,
                 f->rxlen, f->eof ? " and EOF" : "", f->failed ? "; on_failed: " : "",
                 f->failed ? f->why : "");
    memcpy(out, f->rx, len);
    memmove(f->rx, f->rx + len, f->rxlen - len);
    f->rxlen -= len;
}

/* The client failed with a message containing each of the strings, closed the
 * connection (if there was one), and never started. */
static void expect_failure(fixture_t *f, const char *const *needles, int n)
{
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called (started %d, stopped %d)", f->started, f->stopped);
    for (const char *p = f->why; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            fail_msg("on_failed message \"%s\" has a non-printable octet 0x%02x at %zu", f->why,
                     (unsigned char)*p, (size_t)(p - f->why));
    }
    for (int i = 0; i < n; i++) {
        if (!strstr(f->why, needles[i]))
            fail_msg("on_failed message \"%s\" does not contain \"%s\"", f->why, needles[i]);
    }
    assert_int_equal(f->failed, 1);
    assert_int_equal(f->started, 0);
    if (f->fd >= 0 && !run_until(f, pred_eof, WAIT_MS))
        fail_msg("the client did not close the control connection after failing");
}

/* The mode of the last Set-Up-Response checked: in symmetrical-size mode
 * (64) the Padding Length counts the padding after the format's 27 MBZ octets
 * (RFC 6038 §4.2, §5.1.4). */
static uint32_t setup_mode;

static void check_setup_response(const uint8_t m[164], uint32_t mode)
{
    setup_mode = mode;
    assert_int_equal(get32(m), mode); /* Mode (0,4) */
    assert_zero(m + 4, 160);          /* KeyID, Token, Client-IV */
}

static void check_request(const uint8_t m[112], const tw_ctrl_session_req_t *r,
                          uint64_t timeout_ntp)
{
    assert_int_equal(m[0], 5);         /* Command: Request-TW-Session */
    assert_int_equal(m[1], 4);         /* MBZ / IPVN 4 */
    assert_int_equal(m[2], 0);         /* Conf-Sender */
    assert_int_equal(m[3], 0);         /* Conf-Receiver */
    assert_int_equal(get32(m + 4), 0); /* Number of Schedule Slots */
    assert_int_equal(get32(m + 8), 0); /* Number of Packets */
    assert_int_equal(get16(m + 12), r->sender_port);
    assert_int_equal(get16(m + 14), r->receiver_port);
    assert_memory_equal(m + 16, r->sender_addr, 16);
    assert_memory_equal(m + 32, r->receiver_addr, 16);
    assert_zero(m + 48, 16); /* SID: MBZ in a request */
    assert_int_equal(get32(m + 64), setup_mode & 64 ? r->padding_length - 27 : r->padding_length);
    /* Start Time: NTP, now, or the one asked for. */
    uint32_t start = get32(m + 68), now = ntp_seconds_now();
    if (r->start_time)
        assert_int_equal(get64(m + 68), tw_time_to_ntp(r->start_time));
    else if (start + 5 < now || start > now + 5)
        fail_msg("Start Time %u s (NTP) is not now (%u s)", start, now);
    assert_int_equal(get64(m + 76), timeout_ntp); /* Timeout, NTP format */
    assert_int_equal(m[84], r->dscp);             /* Type-P: 00 + DSCP in the first octet */
    assert_zero(m + 85, 3);
    if (setup_mode & 32) { /* RFC 6038 §4.2 */
        assert_int_equal(get16(m + 88), r->octets_to_reflect);
        assert_int_equal(get16(m + 90), r->padding_to_reflect);
        assert_zero(m + 92, 4);
    } else {
        assert_zero(m + 88, 8); /* Octets to be reflected, padding to reflect, MBZ */
    }
    assert_zero(m + 96, 16); /* HMAC */
}

static void check_start_sessions(const uint8_t m[32])
{
    assert_int_equal(m[0], 2);
    assert_zero(m + 1, 31);
}

static void check_stop_sessions(const uint8_t m[32], uint32_t n)
{
    assert_int_equal(m[0], 3);         /* Command */
    assert_int_equal(m[1], 0);         /* Accept */
    assert_zero(m + 2, 2);             /* MBZ */
    assert_int_equal(get32(m + 4), n); /* Number of Sessions */
    assert_zero(m + 8, 24);            /* MBZ, HMAC */
}

static const uint64_t TIMEOUTS[2] = {REQ1_TIMEOUT_NTP, REQ2_TIMEOUT_NTP};

static uint16_t port_of(int i)
{
    return (uint16_t)(40001 + i);
}

/* The whole exchange up to on_started, checking every client message. */
static void drive_to_running(fixture_t *f, uint32_t modes, uint32_t want_mode)
{
    uint8_t m[256];
    open_client(f);
    build_greeting(m, modes);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    check_setup_response(m, want_mode);
    assert_int_equal(tw_ctrl_client_server_modes(f->client), modes);
    assert_int_equal(tw_ctrl_client_mode(f->client), want_mode);
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    for (int i = 0; i < f->cfg.nsessions; i++) {
        expect_rx(f, m, 112, "Request-TW-Session");
        check_request(m, &f->cfg.req[i], TIMEOUTS[i]);
        build_accept_session(m, 0, port_of(i), i);
        if (want_mode & 32) /* RFC 6038 section 4.3: the Reflected octets */
            put16(m + 20, f->cfg.req[i].octets_to_reflect);
        send_bytes(f, m, 48);
    }
    expect_rx(f, m, 32, "Start-Sessions");
    check_start_sessions(m);
    assert_int_equal(f->started, 0);
    build_start_ack(m, 0);
    send_bytes(f, m, 32);
    if (!run_until(f, pred_started, WAIT_MS) || f->failed)
        fail_msg("on_started was not called after Start-Ack (on_failed: %s)", f->why);
}

static void check_started(fixture_t *f)
{
    assert_int_equal(f->started, 1);
    assert_int_equal(f->failed, 0);
    assert_int_equal(f->nacc, f->cfg.nsessions);
    for (int i = 0; i < f->nacc; i++) {
        uint8_t sid[16];
        sid_of(sid, i);
        assert_int_equal(f->acc[i].accept, 0);
        assert_int_equal(f->acc[i].port, port_of(i));
        assert_memory_equal(f->acc[i].sid, sid, 16);
    }
}

/* ---- the happy path ------------------------------------------------------------ */

static void test_happy_path_two_sessions(void **state)
{
    fixture_t *f = *state;
    /* Modes 1|64: unauthenticated with the RFC 6038 symmetrical size. */
    drive_to_running(f, 0x00000041, 0x00000041);
    check_started(f);
    assert_int_equal(f->rxlen, 0); /* nothing more than the messages checked */

    struct sockaddr_storage ss;
    socklen_t sl;
    assert_int_equal(tw_ctrl_client_local(f->client, &ss, &sl), 0);
    assert_int_equal(ss.ss_family, AF_INET);

    tw_ctrl_client_stop(f->client);
    assert_int_equal(f->stopped, 1);
    uint8_t m[32];
    expect_rx(f, m, 32, "Stop-Sessions");
    check_stop_sessions(m, 2);
    assert_true(run_until(f, pred_eof, WAIT_MS));
    assert_int_equal(f->rxlen, 0);
    assert_int_equal(f->failed, 0);
    /* A second stop is a no-op. */
    tw_ctrl_client_stop(f->client);
    assert_int_equal(f->stopped, 1);
}

static void test_happy_path_one_session(void **state)
{
    fixture_t *f = *state;
    /* Modes 1 only: the client must not ask for symmetrical size. */
    drive_to_running(f, 0x00000001, 0x00000001);
    check_started(f);
    tw_ctrl_client_stop(f->client);
    uint8_t m[32];
    expect_rx(f, m, 32, "Stop-Sessions");
    check_stop_sessions(m, 1);
    assert_true(run_until(f, pred_eof, WAIT_MS));
    assert_int_equal(f->stopped, 1);
}

/* Greeting with extra mode bits (authenticated, encrypted, reflect octets): the
 * client still picks unauthenticated (and only the symmetrical feature). */
static void test_mode_choice_among_many(void **state)
{
    fixture_t *f = *state;
    drive_to_running(f, 0x0000007F, 0x00000041);
    check_started(f);
}

/* The step timer must not fire once the sessions run. */
static void test_no_timeout_while_running(void **state)
{
    fixture_t *f = *state;
    drive_to_running(f, 0x41, 0x41);
    check_started(f);
    run_until(f, pred_failed, 2 * STEP_TIMEOUT_MS + 100);
    if (f->failed)
        fail_msg("the client failed while the test ran: %s", f->why);
    assert_false(f->eof);
}

/* One octet per loop round, for every server message. */
static void on_dribble(void *arg)
{
    fixture_t *f = arg;
    if (f->drib_off < f->drib_len) {
        assert_int_equal(send(f->fd, f->drib + f->drib_off, 1, MSG_NOSIGNAL), 1);
        f->drib_off++;
    }
    if (f->drib_off < f->drib_len)
        tw_timer_set(f->loop, &f->drib_timer, tw_mono_now() + 100 * TW_NS_PER_US, on_dribble, f);
    tw_loop_stop(f->loop);
}

static void dribble(fixture_t *f, const uint8_t *buf, size_t len)
{
    assert_true(len <= sizeof f->drib);
    memcpy(f->drib, buf, len);
    f->drib_len = len;
    f->drib_off = 0;
    tw_timer_set(f->loop, &f->drib_timer, tw_mono_now(), on_dribble, f);
}

static void test_split_single_octets(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x41);
    dribble(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    assert_int_equal(f->drib_off, 64);
    check_setup_response(m, 0x41);
    build_server_start(m, 0);
    dribble(f, m, 48);
    for (int i = 0; i < 2; i++) {
        expect_rx(f, m, 112, "Request-TW-Session");
        check_request(m, &f->cfg.req[i], TIMEOUTS[i]);
        build_accept_session(m, 0, port_of(i), i);
        dribble(f, m, 48);
    }
    expect_rx(f, m, 32, "Start-Sessions");
    check_start_sessions(m);
    build_start_ack(m, 0);
    dribble(f, m, 32);
    if (!run_until(f, pred_started, WAIT_MS) || f->failed)
        fail_msg("on_started was not called (on_failed: %s)", f->why);
    assert_int_equal(f->drib_off, 32);
    check_started(f);
    /* A Stop-Sessions from the server, one octet at a time, is still seen. */
    build_stop_sessions(m, 0, 2);
    dribble(f, m, 32);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called for a Stop-Sessions sent one octet at a time");
    assert_int_equal(f->drib_off, 32);
    assert_non_null(strstr(f->why, "Stop-Sessions"));
    assert_true(run_until(f, pred_eof, WAIT_MS));
}

/* Greeting + Server-Start in one write; then both Accept-Sessions and the
 * Start-Ack in one write. */
static void test_joined_messages(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x41);
    build_server_start(m + 64, 0);
    send_bytes(f, m, 64 + 48);
    expect_rx(f, m, 164, "Set-Up-Response");
    check_setup_response(m, 0x41);
    expect_rx(f, m, 112, "Request-TW-Session 1");
    check_request(m, &f->cfg.req[0], TIMEOUTS[0]);
    build_accept_session(m, 0, port_of(0), 0);
    build_accept_session(m + 48, 0, port_of(1), 1);
    build_start_ack(m + 96, 0);
    send_bytes(f, m, 48 + 48 + 32);
    expect_rx(f, m, 112, "Request-TW-Session 2");
    check_request(m, &f->cfg.req[1], TIMEOUTS[1]);
    expect_rx(f, m, 32, "Start-Sessions");
    check_start_sessions(m);
    if (!run_until(f, pred_started, WAIT_MS) || f->failed)
        fail_msg("on_started was not called (on_failed: %s)", f->why);
    check_started(f);
    tw_ctrl_client_stop(f->client);
    expect_rx(f, m, 32, "Stop-Sessions");
    check_stop_sessions(m, 2);
}

/* Start-Ack and a Stop-Sessions in the same write: started, then failed. */
static void test_start_ack_joined_with_stop(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 1);
    build_server_start(m + 64, 0);
    send_bytes(f, m, 64 + 48);
    expect_rx(f, m, 164, "Set-Up-Response");
    expect_rx(f, m, 112, "Request-TW-Session");
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 32, "Start-Sessions");
    build_start_ack(m, 0);
    build_stop_sessions(m + 32, 0, 1);
    send_bytes(f, m, 64);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called for the Stop-Sessions after Start-Ack");
    assert_int_equal(f->started, 1);
    assert_non_null(strstr(f->why, "Stop-Sessions"));
    assert_true(run_until(f, pred_eof, WAIT_MS));
}

/* ---- errors ---------------------------------------------------------------------- */

static void test_connection_refused(void **state)
{
    fixture_t *f = *state;
    /* A bound TCP socket that does not listen: connecting gets a RST. */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    memcpy(&f->cfg.server, &a, sizeof a);
    char err[256] = "";
    int r = tw_ctrl_client_open(&f->client, &f->cfg, f->loop, err, sizeof err);
    if (r != 0) {
        /* Refused at once: reported through err. */
        assert_non_null(strstr(err, "connect"));
        assert_null(f->client);
    } else {
        const char *want[] = {"connect", "refused"};
        expect_failure(f, want, 2);
    }
    close(s);
}

static void test_greeting_modes_zero(void **state)
{
    fixture_t *f = *state;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, 0);
    send_bytes(f, m, 64);
    const char *want[] = {"refuses"};
    expect_failure(f, want, 1);
    assert_int_equal(f->rxlen, 0); /* no Set-Up-Response */
}

/* "authenticated" as a word of its own, not the tail of "unauthenticated". */
static bool lists_authenticated(const char *s)
{
    for (const char *p = strstr(s, "authenticated"); p; p = strstr(p + 1, "authenticated")) {
        if (p == s || (p[-1] != 'n' && p[-1] != 'N'))
            return true;
    }
    return false;
}

static void test_greeting_authenticated_only(void **state)
{
    fixture_t *f = *state;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, 2);
    send_bytes(f, m, 64);
    const char *want[] = {"mode"};
    expect_failure(f, want, 1);
    if (!lists_authenticated(f->why))
        fail_msg("on_failed message \"%s\" does not list the offered mode \"authenticated\"",
                 f->why);
    assert_int_equal(f->rxlen, 0);
}

static const char *const ACCEPT_WORDS[6] = {
    "OK",
    "failure",
    "internal error",
    "not supported",
    "permanent resource limitation",
    "temporary resource limitation",
};

static void test_server_start_refused(void **state)
{
    (void)state;
    for (uint8_t acc = 1; acc <= 5; acc++) {
        fixture_t *f = fixture_new(1);
        uint8_t m[256];
        open_client(f);
        build_greeting(m, 0x41);
        send_bytes(f, m, 64);
        expect_rx(f, m, 164, "Set-Up-Response");
        build_server_start(m, acc);
        send_bytes(f, m, 48);
        const char *want[] = {"Server-Start", ACCEPT_WORDS[acc]};
        expect_failure(f, want, 2);
        char num[32];
        snprintf(num, sizeof num, "Accept %u", acc);
        assert_non_null(strstr(f->why, num));
        assert_int_equal(f->rxlen, 0); /* no Request-TW-Session */
        fixture_free(f);
    }
}

/* Up to the first Accept-Session; returns with the Request read. */
static void drive_to_accept(fixture_t *f)
{
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x41);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 112, "Request-TW-Session");
}

static void test_accept_session_refused(void **state)
{
    fixture_t *f = *state;
    uint8_t m[48];
    drive_to_accept(f);
    build_accept_session(m, 3, 0, 0);
    send_bytes(f, m, 48);
    const char *want[] = {"Accept-Session", "not supported", "session 1"};
    expect_failure(f, want, 3);
    assert_int_equal(f->rxlen, 0); /* no Start-Sessions */
}

/* The second of two sessions refused with 4. */
static void test_second_session_refused(void **state)
{
    fixture_t *f = *state;
    uint8_t m[112];
    drive_to_accept(f);
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 112, "Request-TW-Session 2");
    check_request(m, &f->cfg.req[1], TIMEOUTS[1]);
    build_accept_session(m, 4, 0, 1);
    send_bytes(f, m, 48);
    const char *want[] = {"session 2", "permanent resource limitation"};
    expect_failure(f, want, 2);
    assert_int_equal(f->rxlen, 0);
}

/* RFC 6038: reflect octets asked for (mode 32 chosen with 64), the Request
 * carries the two fields and the Padding Length after the 27 MBZ octets,
 * and the Start Time asked for; Accept-Session's Reflected octets must be
 * the ones sent. */
static void test_reflect_octets_and_start_time(void **state)
{
    fixture_t *f = *state;
    f->cfg.nsessions = 1;
    f->cfg.reflect_octets = true;
    f->cfg.req[0].padding_length = 40;
    f->cfg.req[0].octets_to_reflect = 0x1234;
    f->cfg.req[0].padding_to_reflect = 4;
    f->cfg.req[0].start_time = tw_now() + 30 * TW_NS_PER_SEC;
    drive_to_running(f, 0x61, 0x61);
    check_started(f);
}

static void test_reflect_octets_wrong_echo(void **state)
{
    fixture_t *f = *state;
    f->cfg.nsessions = 1;
    f->cfg.reflect_octets = true;
    f->cfg.req[0].octets_to_reflect = 0x1234;
    f->cfg.req[0].padding_to_reflect = 0;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x21);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    check_setup_response(m, 0x21);
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 112, "Request-TW-Session");
    check_request(m, &f->cfg.req[0], TIMEOUTS[0]);
    build_accept_session(m, 0, port_of(0), 0);
    put16(m + 20, 0x1235);
    send_bytes(f, m, 48);
    const char *want[] = {"Reflected octets 0x1235 instead of 0x1234 (RFC 6038 section 4.3)"};
    expect_failure(f, want, 1);
}

/* --symmetrical or --reflect-octets with a server that does not offer them. */
static void test_extension_not_offered(void **state)
{
    fixture_t *f = *state;
    f->cfg.symmetrical = true;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, 0x21);
    send_bytes(f, m, 64);
    const char *want[] = {"does not offer RFC 6038 symmetrical size"};
    expect_failure(f, want, 1);
}

static void test_reflect_not_offered(void **state)
{
    fixture_t *f = *state;
    f->cfg.reflect_octets = true;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, 0x41);
    send_bytes(f, m, 64);
    const char *want[] = {"does not offer RFC 6038 reflect octets"};
    expect_failure(f, want, 1);
}

/* RFC 5938 (mode 16): no Start-Sessions after the last Accept-Session;
 * Start-N-Sessions for session 2 alone, byte for byte (section 3.2); its
 * Start-N-Ack reaches on_n_ack as session index 1; tw_ctrl_client_stop sends
 * Stop-N-Sessions for both sessions (section 3.4), not Stop-Sessions. */
static void test_individual_control(void **state)
{
    fixture_t *f = *state;
    f->cfg.individual = true;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x11);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    check_setup_response(m, 0x11);
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    for (int i = 0; i < 2; i++) {
        expect_rx(f, m, 112, "Request-TW-Session");
        build_accept_session(m, 0, port_of(i), i);
        send_bytes(f, m, 48);
    }
    if (!run_until(f, pred_started, WAIT_MS) || f->failed)
        fail_msg("on_started was not called after the last Accept-Session (%s)", f->why);
    assert_int_equal(f->rxlen, 0); /* no Start-Sessions */
    int one = 1;
    assert_int_equal(tw_ctrl_client_start_n(f->client, &one, 1), 0);
    expect_rx(f, m, 48, "Start-N-Sessions");
    uint8_t want[48] = {7};
    want[15] = 1;
    sid_of(want + 16, 1);
    assert_memory_equal(m, want, 48);
    /* Start-N-Ack, Accept 0, session 2 (section 3.3). */
    memset(m, 0, 48);
    m[0] = 8;
    m[15] = 1;
    sid_of(m + 16, 1);
    send_bytes(f, m, 48);
    if (!run_until(f, pred_n_ack, WAIT_MS) || f->failed)
        fail_msg("no on_n_ack for the Start-N-Ack (%s)", f->why);
    assert_true(f->n_start);
    assert_int_equal(f->n_accept, 0);
    assert_int_equal(f->n_n, 1);
    assert_int_equal(f->n_idx[0], 1);
    int bad = 2;
    assert_int_equal(tw_ctrl_client_start_n(f->client, &bad, 1), -1); /* no such session */
    tw_ctrl_client_stop(f->client);
    expect_rx(f, m, 64, "Stop-N-Sessions");
    assert_int_equal(m[0], 9);
    assert_zero(m + 1, 11);
    assert_int_equal(get32(m + 12), 2);
    uint8_t sid[16];
    sid_of(sid, 0);
    assert_memory_equal(m + 16, sid, 16);
    sid_of(sid, 1);
    assert_memory_equal(m + 32, sid, 16);
    assert_zero(m + 48, 16);
}

/* A hostile Start-N-Ack: more SIDs than the client has sessions (the message
 * is not read whole), or a SID of none of them: the client fails, naming it,
 * and closes the connection. */
static void bad_ack(fixture_t *f, uint8_t num, size_t len, const char *needle)
{
    f->cfg.individual = true;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x11);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 112, "Request-TW-Session");
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 48);
    if (!run_until(f, pred_started, WAIT_MS))
        fail_msg("on_started was not called");
    memset(m, 0, 48);
    m[0] = 8;
    m[15] = num;
    memset(m + 16, 0x77, 16); /* no session's SID */
    send_bytes(f, m, len);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called");
    if (!strstr(f->why, needle))
        fail_msg("on_failed message \"%s\" does not contain \"%s\"", f->why, needle);
    if (!run_until(f, pred_eof, WAIT_MS))
        fail_msg("the client did not close the control connection after failing");
}

static void test_individual_control_ack_too_long(void **state)
{
    bad_ack(*state, 200, 16, "Start-N-Ack for 200 sessions (this client has 1)");
}

static void test_individual_control_ack_unknown_sid(void **state)
{
    bad_ack(*state, 1, 48, "a SID that is none of this client's sessions");
}

static void test_accept_session_port_zero(void **state)
{
    fixture_t *f = *state;
    uint8_t m[48];
    drive_to_accept(f);
    build_accept_session(m, 0, 0, 0);
    send_bytes(f, m, 48);
    const char *want[] = {"port 0"};
    expect_failure(f, want, 1);
    assert_int_equal(f->rxlen, 0);
}

static void test_start_ack_refused(void **state)
{
    fixture_t *f = *state;
    uint8_t m[48];
    drive_to_accept(f);
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 32, "Start-Sessions");
    check_start_sessions(m);
    build_start_ack(m, 2);
    send_bytes(f, m, 32);
    const char *want[] = {"Start", "internal error"};
    expect_failure(f, want, 2);
}

static void test_server_closes_mid_greeting(void **state)
{
    fixture_t *f = *state;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, 0x41);
    send_bytes(f, m, 20);
    assert_int_equal(shutdown(f->fd, SHUT_WR), 0);
    const char *want[] = {"closed the connection after 20 of 64 octets", "Greeting"};
    expect_failure(f, want, 2);
}

static void test_server_closes_mid_accept(void **state)
{
    fixture_t *f = *state;
    uint8_t m[48];
    drive_to_accept(f);
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 10);
    assert_int_equal(shutdown(f->fd, SHUT_WR), 0);
    const char *want[] = {"closed the connection after 10 of 48 octets", "Accept-Session"};
    expect_failure(f, want, 2);
}

/* Closed on a message boundary: no octet count, but the step is named. */
static void test_server_closes_between_messages(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x41);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    assert_int_equal(shutdown(f->fd, SHUT_WR), 0);
    const char *want[] = {"closed the connection", "Server-Start"};
    expect_failure(f, want, 2);
}

/* The server goes away while the test runs. */
static void test_server_closes_while_running(void **state)
{
    fixture_t *f = *state;
    drive_to_running(f, 0x41, 0x41);
    assert_int_equal(shutdown(f->fd, SHUT_WR), 0);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called when the server closed during the test");
    assert_non_null(strstr(f->why, "closed the connection"));
    assert_int_equal(f->started, 1);
    assert_true(run_until(f, pred_eof, WAIT_MS));
}

static void expect_timeout(fixture_t *f, const char *step)
{
    int64_t t0 = tw_mono_now();
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("no timeout: on_failed was not called within %d ms", WAIT_MS);
    int64_t ms = (tw_mono_now() - t0) / TW_NS_PER_MS;
    const char *want[] = {"timed out", step};
    expect_failure(f, want, 2);
    if (ms > 5 * STEP_TIMEOUT_MS)
        fail_msg("timed out after %lld ms with a step timeout of %d ms", (long long)ms,
                 STEP_TIMEOUT_MS);
}

static void test_timeout_greeting(void **state)
{
    fixture_t *f = *state;
    int64_t t0 = tw_mono_now();
    open_client(f);
    expect_timeout(f, "Greeting");
    int64_t ms = (tw_mono_now() - t0) / TW_NS_PER_MS;
    if (ms < STEP_TIMEOUT_MS - 5)
        fail_msg("timed out after %lld ms, before the %d ms step timeout", (long long)ms,
                 STEP_TIMEOUT_MS);
}

/* Each step has its own timeout: a server that answers every step after
 * 3/4 of the timeout never trips it. */
static void test_timeout_is_per_step(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    run_until(f, pred_failed, STEP_TIMEOUT_MS * 3 / 4);
    build_greeting(m, 0x41);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    run_until(f, pred_failed, STEP_TIMEOUT_MS * 3 / 4);
    build_server_start(m, 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 112, "Request-TW-Session");
    assert_int_equal(f->failed, 0);
    /* Then silence: the Accept-Session step times out. */
    int64_t t0 = tw_mono_now();
    expect_timeout(f, "Accept-Session");
    int64_t ms = (tw_mono_now() - t0) / TW_NS_PER_MS;
    if (ms < STEP_TIMEOUT_MS - 5)
        fail_msg("timed out after %lld ms, before the %d ms step timeout", (long long)ms,
                 STEP_TIMEOUT_MS);
}

static void test_timeout_start_ack(void **state)
{
    fixture_t *f = *state;
    uint8_t m[48];
    drive_to_accept(f);
    build_accept_session(m, 0, port_of(0), 0);
    send_bytes(f, m, 48);
    expect_rx(f, m, 32, "Start-Sessions");
    expect_timeout(f, "Start-Ack");
}

static void test_stop_sessions_from_server(void **state)
{
    fixture_t *f = *state;
    uint8_t m[32];
    drive_to_running(f, 0x41, 0x41);
    check_started(f);
    build_stop_sessions(m, 0, 2);
    send_bytes(f, m, 32);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called for the server's Stop-Sessions");
    assert_non_null(strstr(f->why, "Stop-Sessions"));
    assert_true(run_until(f, pred_eof, WAIT_MS));
    assert_int_equal(f->rxlen, 0);
    /* Stopping afterwards sends nothing and reports nothing. */
    tw_ctrl_client_stop(f->client);
    assert_int_equal(f->stopped, 0);
    assert_int_equal(f->failed, 1);
}

/* Something else than a Stop-Sessions while running. */
static void test_unexpected_message_while_running(void **state)
{
    fixture_t *f = *state;
    uint8_t m[32];
    drive_to_running(f, 0x41, 0x41);
    memset(m, 0, sizeof m);
    m[0] = 9;
    send_bytes(f, m, 32);
    if (!run_until(f, pred_failed, WAIT_MS))
        fail_msg("on_failed was not called for command 9 during the test");
    assert_non_null(strstr(f->why, "unexpected"));
    assert_true(run_until(f, pred_eof, WAIT_MS));
}

/* Stop before the sessions run: no Stop-Sessions, just close. */
static void test_stop_before_running(void **state)
{
    fixture_t *f = *state;
    uint8_t m[256];
    open_client(f);
    build_greeting(m, 0x41);
    send_bytes(f, m, 64);
    expect_rx(f, m, 164, "Set-Up-Response");
    tw_ctrl_client_stop(f->client);
    assert_int_equal(f->stopped, 1);
    assert_true(run_until(f, pred_eof, WAIT_MS));
    assert_int_equal(f->rxlen, 0);
    /* And the step timer is gone with it. */
    run_until(f, pred_failed, STEP_TIMEOUT_MS + 50);
    assert_int_equal(f->failed, 0);
}

static void test_open_bad_session_count(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    f->cfg.nsessions = 0;
    assert_int_equal(tw_ctrl_client_open(&f->client, &f->cfg, f->loop, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    f->cfg.nsessions = TW_CTRL_MAX_SESSIONS + 1;
    assert_int_equal(tw_ctrl_client_open(&f->client, &f->cfg, f->loop, err, sizeof err), -1);
    assert_null(f->client);
}

/* ---- authenticated, encrypted and mixed modes (RFC 4656 §3.1, §3.2) ------------
 *
 * The test plays the server with the crypto core (auth.h, tested against
 * independent vectors in test_auth.c): it opens the client's Token with the key
 * derived from the shared secret, seals what it sends and opens what the client
 * sends, so every client message is checked octet by octet after decryption. */

static const char SECRET[] = "correct horse battery staple";

static void give_secret(fixture_t *f, const char *keyid)
{
    f->cfg.have_secret = true;
    memcpy(f->cfg.secret.bytes, SECRET, strlen(SECRET));
    f->cfg.secret.len = strlen(SECRET);
    snprintf(f->cfg.keyid, sizeof f->cfg.keyid, "%s", keyid);
}

/* The server side of one secure connection. */
typedef struct srv_crypto {
    uint8_t challenge[16], salt[16];
    uint8_t aes[TW_AUTH_AES_KEY_LEN], hmac[TW_AUTH_HMAC_KEY_LEN];
    uint8_t client_iv[16], server_iv[16];
    tw_ctrl_crypto_t c;
} srv_crypto_t;

static void build_greeting_count(uint8_t m[64], uint32_t modes, uint32_t count, srv_crypto_t *sc)
{
    build_greeting(m, modes);
    put32(m + 48, count);
    if (sc) {
        memcpy(sc->challenge, m + 16, 16);
        memcpy(sc->salt, m + 32, 16);
    }
}

/* Read the client's Set-Up-Response, check it and open its Token. */
static void read_secure_setup(fixture_t *f, srv_crypto_t *sc, uint32_t want_mode, uint32_t count)
{
    uint8_t m[164];
    expect_rx(f, m, 164, "Set-Up-Response");
    assert_int_equal(get32(m), want_mode);
    /* KeyID (4,80): "alice" and zeros. */
    assert_memory_equal(m + 4, "alice", 5);
    assert_zero(m + 9, 75);
    tw_secret_t sec = {.len = strlen(SECRET)};
    memcpy(sec.bytes, SECRET, sec.len);
    uint8_t key[16];
    assert_int_equal(tw_kdf(&sec, sc->salt, count, count, key), TW_AUTH_OK);
    assert_int_equal(tw_token_open(key, m + 84, sc->challenge, sc->aes, sc->hmac), TW_AUTH_OK);
    memcpy(sc->client_iv, m + 148, 16);
    if (all_zero16(sc->client_iv))
        fail_msg("Client-IV is all zero");
}

/* Send Server-Start (Accept 0): octets 32..47 under the server's stream. */
static void send_secure_server_start(fixture_t *f, srv_crypto_t *sc)
{
    uint8_t m[48];
    build_server_start(m, 0);
    memcpy(sc->server_iv, m + 16, 16);
    assert_int_equal(tw_ctrl_crypto_init(&sc->c, sc->aes, sc->hmac, sc->server_iv, sc->client_iv),
                     TW_AUTH_OK);
    assert_int_equal(tw_ctrl_seal_partial(&sc->c, m + 32, 16), TW_AUTH_OK);
    send_bytes(f, m, 48);
}

/* Read len octets from the client and open them (decrypt, check the HMAC). */
static void expect_secure_rx(fixture_t *f, srv_crypto_t *sc, uint8_t *m, size_t len,
                             const char *what)
{
    expect_rx(f, m, len, what);
    int rc = tw_ctrl_open(&sc->c, m, len, 0);
    if (rc != TW_AUTH_OK)
        fail_msg("the client's %s does not open: %s", what, tw_auth_strerror(rc));
}

static void send_sealed(fixture_t *f, srv_crypto_t *sc, uint8_t *m, size_t len)
{
    assert_int_equal(tw_ctrl_seal(&sc->c, m, len), TW_AUTH_OK);
    send_bytes(f, m, len);
}

/* Request-TW-Session after opening: the same fields as in open mode, with the
 * HMAC field (96,16) holding the client's HMAC (checked by tw_ctrl_open). */
static void check_request_secure(uint8_t m[112], const tw_ctrl_session_req_t *r,
                                 uint64_t timeout_ntp)
{
    memset(m + 96, 0, 16);
    check_request(m, r, timeout_ntp);
}

/* The whole exchange in a secure mode up to on_started. */
static void drive_secure(fixture_t *f, srv_crypto_t *sc, uint32_t offered, uint32_t want_mode)
{
    uint8_t m[256];
    open_client(f);
    build_greeting_count(m, offered, 1024, sc);
    send_bytes(f, m, 64);
    read_secure_setup(f, sc, want_mode, 1024);
    assert_int_equal(tw_ctrl_client_mode(f->client), want_mode);
    setup_mode = want_mode;
    send_secure_server_start(f, sc);
    for (int i = 0; i < f->cfg.nsessions; i++) {
        expect_secure_rx(f, sc, m, 112, "Request-TW-Session");
        check_request_secure(m, &f->cfg.req[i], TIMEOUTS[i]);
        build_accept_session(m, 0, port_of(i), i);
        send_sealed(f, sc, m, 48);
    }
    expect_secure_rx(f, sc, m, 32, "Start-Sessions");
    assert_int_equal(m[0], 2);
    assert_zero(m + 1, 15);
    build_start_ack(m, 0);
    send_sealed(f, sc, m, 32);
    if (!run_until(f, pred_started, WAIT_MS) || f->failed)
        fail_msg("on_started was not called after Start-Ack (on_failed: %s)", f->why);
}

static void test_auth_mode2_happy_path(void **state)
{
    fixture_t *f = *state;
    srv_crypto_t sc;
    memset(&sc, 0, sizeof sc);
    give_secret(f, "alice");
    f->cfg.modes[0] = TW_MODE_AUTHENTICATED;
    f->cfg.nmodes = 1;
    drive_secure(f, &sc, 0x7F, TW_MODE_AUTHENTICATED);
    check_started(f);

    /* The session's test keys agree with the server's (RFC 4656 §4.1.2). */
    tw_test_crypto_t ct, st;
    assert_int_equal(tw_ctrl_client_test_crypto(f->client, 0, &ct), TW_AUTH_OK);
    uint8_t sid[16];
    sid_of(sid, 0);
    assert_int_equal(tw_test_crypto_init(&st, sc.aes, sc.hmac, sid), TW_AUTH_OK);
    uint8_t pkt[48] = {0, 0, 0, 7};
    assert_int_equal(tw_test_sender_protect(&ct, TW_MODE_AUTHENTICATED, pkt, 48), TW_AUTH_OK);
    assert_int_equal(tw_test_sender_open(&st, TW_MODE_AUTHENTICATED, pkt, 48), TW_AUTH_OK);
    assert_int_equal(get32(pkt), 7);
    tw_test_crypto_free(&ct);
    tw_test_crypto_free(&st);
    /* No test keys for a session that does not exist. */
    assert_int_equal(tw_ctrl_client_test_crypto(f->client, 1, &ct), TW_AUTH_EINVAL);

    /* Stop-Sessions goes out sealed too. */
    tw_ctrl_client_stop(f->client);
    uint8_t m[32];
    expect_secure_rx(f, &sc, m, 32, "Stop-Sessions");
    assert_int_equal(m[0], 3);
    assert_int_equal(get32(m + 4), 1);
    assert_true(run_until(f, pred_eof, WAIT_MS));
    tw_ctrl_crypto_free(&sc.c);
}

/* With a secret and no --modes, the strongest mode offered wins; the mixed
 * mode's test packets are the open format (no test keys). */
static void test_auth_default_preference(void **state)
{
    fixture_t *f = *state;
    srv_crypto_t sc;
    memset(&sc, 0, sizeof sc);
    give_secret(f, "alice");
    drive_secure(f, &sc, 0x0F, TW_MODE_ENCRYPTED);
    tw_ctrl_crypto_free(&sc.c);
}

static void test_auth_mixed(void **state)
{
    fixture_t *f = *state;
    srv_crypto_t sc;
    memset(&sc, 0, sizeof sc);
    give_secret(f, "alice");
    f->cfg.modes[0] = TW_MODE_MIXED;
    f->cfg.modes[1] = TW_MODE_UNAUTHENTICATED;
    f->cfg.nmodes = 2;
    /* Symmetrical size goes with the unauthenticated test format (RFC 6038). */
    drive_secure(f, &sc, 0x4F, TW_MODE_MIXED | 0x40);
    tw_test_crypto_t t;
    assert_int_equal(tw_ctrl_client_test_crypto(f->client, 0, &t), TW_AUTH_EINVAL);
    tw_ctrl_crypto_free(&sc.c);
}

/* An Accept-Session altered in flight: the client fails on its HMAC and acts
 * on nothing in it. */
static void test_auth_tampered_accept(void **state)
{
    fixture_t *f = *state;
    srv_crypto_t sc;
    memset(&sc, 0, sizeof sc);
    give_secret(f, "alice");
    uint8_t m[256];
    open_client(f);
    build_greeting_count(m, TW_MODE_ENCRYPTED, 1024, &sc);
    send_bytes(f, m, 64);
    read_secure_setup(f, &sc, TW_MODE_ENCRYPTED, 1024);
    send_secure_server_start(f, &sc);
    expect_secure_rx(f, &sc, m, 112, "Request-TW-Session");
    build_accept_session(m, 0, port_of(0), 0);
    assert_int_equal(tw_ctrl_seal(&sc.c, m, 48), TW_AUTH_OK);
    m[20] ^= 0x01; /* one bit of the second block */
    send_bytes(f, m, 48);
    const char *want[] = {"Accept-Session", "integrity check"};
    expect_failure(f, want, 2);
    assert_int_equal(f->rxlen, 0); /* no Start-Sessions */
    tw_ctrl_crypto_free(&sc.c);
}

/* A Count above the ceiling is refused at once: no Set-Up-Response, no PBKDF2. */
static void test_auth_count_above_ceiling(void **state)
{
    fixture_t *f = *state;
    give_secret(f, "alice");
    f->cfg.kdf_max_count = 4096;
    uint8_t m[64];
    open_client(f);
    build_greeting_count(m, TW_MODE_AUTHENTICATED, 8192, NULL);
    int64_t t0 = tw_mono_now();
    send_bytes(f, m, 64);
    const char *want[] = {"Count of 8192", "ceiling of 4096", "--kdf-max-count"};
    expect_failure(f, want, 3);
    assert_true(tw_mono_now() - t0 < WAIT_MS * TW_NS_PER_MS);
    assert_int_equal(f->rxlen, 0);
}

static void test_auth_count_absurd_default_ceiling(void **state)
{
    fixture_t *f = *state;
    give_secret(f, "alice");
    uint8_t m[64];
    open_client(f);
    build_greeting_count(m, TW_MODE_AUTHENTICATED, 0xFFFFFFFFu, NULL);
    send_bytes(f, m, 64);
    const char *want[] = {"Count of 4294967295", "ceiling of 1048576"};
    expect_failure(f, want, 2);
    assert_int_equal(f->rxlen, 0);
}

/* The server refuses the key (wrong passphrase or unknown KeyID): Server-Start
 * with Accept 1, in clear. */
static void test_auth_key_rejected(void **state)
{
    fixture_t *f = *state;
    srv_crypto_t sc;
    memset(&sc, 0, sizeof sc);
    give_secret(f, "alice");
    uint8_t m[64];
    open_client(f);
    build_greeting_count(m, TW_MODE_AUTHENTICATED, 1024, &sc);
    send_bytes(f, m, 64);
    read_secure_setup(f, &sc, TW_MODE_AUTHENTICATED, 1024);
    build_server_start(m, 1);
    send_bytes(f, m, 48);
    const char *want[] = {"rejected the key", "KeyID 'alice'", "passphrase"};
    expect_failure(f, want, 3);
}

/* Without a secret only open is possible; a secure mode in cfg.modes needs one. */
static void test_auth_modes_need_secret(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    f->cfg.modes[0] = TW_MODE_ENCRYPTED;
    f->cfg.nmodes = 1;
    assert_int_equal(tw_ctrl_client_open(&f->client, &f->cfg, f->loop, err, sizeof err), -1);
    assert_non_null(strstr(err, "encrypted"));
    assert_null(f->client);
}

/* The client accepts only what --modes lists. */
static void test_auth_no_acceptable_mode(void **state)
{
    fixture_t *f = *state;
    give_secret(f, "alice");
    f->cfg.modes[0] = TW_MODE_ENCRYPTED;
    f->cfg.nmodes = 1;
    uint8_t m[64];
    open_client(f);
    build_greeting(m, TW_MODE_UNAUTHENTICATED | TW_MODE_AUTHENTICATED);
    send_bytes(f, m, 64);
    const char *want[] = {"offers no mode this client accepts", "encrypted (--modes)"};
    expect_failure(f, want, 2);
    assert_int_equal(f->rxlen, 0);
}

int main(int argc, char **argv)
{
    /* An optional argument selects tests by name (cmocka pattern with * and ?). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    tw_log_set_level(getenv("TWAMPY_TEST_DEBUG") ? TW_LOG_DEBUG : TW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_happy_path_two_sessions, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_happy_path_one_session, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_mode_choice_among_many, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_no_timeout_while_running, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_split_single_octets, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_joined_messages, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_start_ack_joined_with_stop, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_modes_zero, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_authenticated_only, setup1, teardown),
        cmocka_unit_test(test_server_start_refused),
        cmocka_unit_test_setup_teardown(test_accept_session_refused, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_second_session_refused, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_octets_and_start_time, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_individual_control, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_individual_control_ack_too_long, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_individual_control_ack_unknown_sid, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_octets_wrong_echo, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_extension_not_offered, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_not_offered, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_accept_session_port_zero, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_start_ack_refused, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_mid_greeting, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_mid_accept, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_between_messages, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_while_running, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_greeting, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_is_per_step, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_start_ack, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_stop_sessions_from_server, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_message_while_running, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_stop_before_running, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_open_bad_session_count, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_mode2_happy_path, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_default_preference, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_auth_mixed, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_tampered_accept, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_count_above_ceiling, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_count_absurd_default_ceiling, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_key_rejected, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_modes_need_secret, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_auth_no_acceptable_mode, setup1, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
