/* fuzz_control_server: the TWAMP server's control state machine fed arbitrary
 * octets as the client's side of a control connection. Per input: a loop, a
 * server (listening on 127.0.0.1:0, small limits) and a socketpair whose one
 * end the server adopts; the input is written to the other end in chunks, one
 * loop round after each, and whatever the server answers is read. Then the
 * client's end closes, a few rounds run, and everything is freed: no leak, no
 * descriptor left open. Reflectors the server opens for accepted sessions may
 * bind only loopback addresses (loopback_only.c).
 *
 * Input: octet 0 cuts the rest into writes (fuzz.h: fuzz_split_init), octet 1
 * sets the server:
 *   bits 0-1  modes offered: 0x71 (unauthenticated, individual session
 *             control, reflect octets, symmetrical size, as twampy's server),
 *             0x01, 0x7f, 0x13
 *   bit 2     max 0 connections: the connection is refused
 *   bit 3     two connections, each fed the same octets (limits across them)
 *   bit 4     1 session per connection (else 2; 3 in total)
 *   bit 5     at most 64 octets of padding (else 9000)
 *   bit 6     reflector ports from 47000-47002 (else the kernel's)
 *   bit 7     longest Timeout 1 s (else 86400 s)
 * The rest is the stream: Set-Up-Response, then commands. Sixteen octets
 * that start "SID" followed by k are replaced, before they are written, by the
 * SID of the connection's Accept-Session k & 1 (when it came, in the clear):
 * so Start-N-Sessions and Stop-N-Sessions (RFC 5938) name real sessions. The server always
 * holds a key file (KeyID "fuzz"), so where the modes offered include 2, 4 or
 * 8 a Set-Up-Response choosing one goes through the KeyID lookup, the key
 * derivation (Count 1024) and the Token check; a random Token fails it (the
 * Challenge is the server's own random octets), so the encrypted stream
 * after it is out of this target's reach.
 *
 * Checks: the first 64 octets a connection gets are a Server Greeting with the
 * modes offered (none when refused); the server's counters stay within its
 * limits; a connection whose client has gone is closed within a few rounds. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "control_server.h"
#include "control_wire.h"
#include "fuzz.h"
#include "log.h"
#include "loop.h"
#include "ntptime.h"

#define MAX_ENDS 2
#define KEEP 256 /* octets of each connection's replies kept for the checks */

typedef struct end {
    int fd; /* the client's end, -1 once closed */
    uint8_t rx[KEEP];
    size_t rxlen;
} end_t;

static tw_keyring_t *keyring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    /* A key file of our own, read once (auth.c refuses one others can read). */
    char path[] = "/tmp/twampy-fuzz-keys.XXXXXX";
    int fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    static const char line[] = "fuzz fuzzing passphrase\n";
    FUZZ_CHECK(write(fd, line, sizeof line - 1) == (ssize_t)(sizeof line - 1));
    close(fd);
    char err[256];
    FUZZ_CHECK(tw_keyring_load(path, &keyring, err, sizeof err) == 0);
    unlink(path);
    /* OpenSSL keeps its random devices open once used: open them now. */
    uint8_t warm[16];
    tw_auth_random(warm, sizeof warm);
    return 0;
}

static void drain(end_t *e)
{
    uint8_t tmp[4096];
    while (e->fd >= 0) {
        ssize_t n = recv(e->fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n <= 0)
            return;
        size_t k = (size_t)n;
        if (k > KEEP - e->rxlen)
            k = KEEP - e->rxlen;
        memcpy(e->rx + e->rxlen, tmp, k);
        e->rxlen += k;
    }
}

/* Write all of buf unless the server has gone; returns false once it has. */
static bool write_all(tw_loop_t *loop, end_t *e, const uint8_t *buf, size_t len)
{
    int stuck = 0;
    while (len > 0 && e->fd >= 0) {
        ssize_t n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stuck++ < 8) {
            tw_loop_run_once(loop, 0);
            drain(e);
            continue;
        }
        return false; /* closed by the server (EPIPE, ECONNRESET) or not read */
    }
    return e->fd >= 0;
}

/* "SID" k (16 octets) -> the SID of Accept-Session k & 1 of e: the greeting
 * (64) and Server-Start (48) come first, then the Accept-Sessions (48 each,
 * the SID at 4..19), all kept in e->rx while they fit. */
static void patch_sids(const end_t *e, uint8_t *chunk, size_t n)
{
    for (size_t i = 0; i + 16 <= n; i++) {
        if (memcmp(chunk + i, "SID", 3) != 0)
            continue;
        size_t at = 64 + 48 + 48 * (size_t)(chunk[i + 3] & 1);
        if (e->rxlen >= at + 48 && e->rx[at] == 0)
            memcpy(chunk + i, e->rx + at + 4, 16);
    }
}

static void check_greeting(const end_t *e, uint32_t modes)
{
    if (e->rxlen < TW_CTRL_GREETING_LEN)
        return;
    tw_greeting_t g;
    FUZZ_CHECK(tw_greeting_decode(e->rx, e->rxlen, &g) == TW_WIRE_OK);
    FUZZ_CHECK(g.modes == modes);
    for (size_t i = 0; i < 12; i++)
        FUZZ_CHECK(e->rx[i] == 0 && e->rx[52 + i] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t modes_of[4] = {0x71, 0x01, 0x7f, 0x13};
    uint8_t split = size > 0 ? data[0] : 0;
    uint8_t flags = size > 1 ? data[1] : 0;
    const uint8_t *stream = size > 2 ? data + 2 : data + size;
    size_t slen = size > 2 ? size - 2 : 0;

    tw_ctrl_server_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.listen;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.listen_len = sizeof *sin;
    cfg.modes = modes_of[flags & 3];
    cfg.max_connections = (flags & 4) ? 0 : 2;
    cfg.max_sessions = (flags & 16) ? 1 : 2;
    cfg.max_total_sessions = 3;
    cfg.servwait_ns = 900 * TW_NS_PER_SEC;
    if (flags & 64) {
        cfg.port_lo = 47000;
        cfg.port_hi = 47002;
    }
    cfg.max_timeout_ns = ((flags & 128) ? 1 : 86400) * TW_NS_PER_SEC;
    cfg.max_padding = (flags & 32) ? 64 : 9000;
    cfg.ttl = 64;
    cfg.keyring = keyring;
    cfg.kdf_count = 1024;

    tw_loop_t *loop = tw_loop_new();
    FUZZ_CHECK(loop != NULL);
    tw_ctrl_server_t *srv = NULL;
    char err[256];
    FUZZ_CHECK(tw_ctrl_server_open(&srv, &cfg, loop, err, sizeof err) == 0);

    int nends = (flags & 8) ? 2 : 1;
    end_t ends[MAX_ENDS];
    for (int i = 0; i < nends; i++) {
        int sv[2];
        FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
        int r = tw_ctrl_server_adopt(srv, sv[0]); /* closes sv[0] when it refuses */
        FUZZ_CHECK(r == 0 || cfg.max_connections == 0);
        ends[i].fd = sv[1];
        ends[i].rxlen = 0;
    }
    tw_loop_run_once(loop, 0);
    for (int i = 0; i < nends; i++)
        drain(&ends[i]);

    /* The same chunks to every connection, one loop round after each. */
    fuzz_split_t sp;
    fuzz_split_init(&sp, split);
    size_t off = 0;
    uint8_t *chunk = malloc(slen ? slen : 1);
    FUZZ_CHECK(chunk != NULL);
    while (off < slen) {
        size_t n = fuzz_split_next(&sp, slen - off);
        bool any = false;
        for (int i = 0; i < nends; i++) {
            memcpy(chunk, stream + off, n);
            patch_sids(&ends[i], chunk, n);
            if (write_all(loop, &ends[i], chunk, n))
                any = true;
        }
        off += n;
        tw_loop_run_once(loop, 0);
        for (int i = 0; i < nends; i++)
            drain(&ends[i]);
        const tw_ctrl_server_counters_t *k = tw_ctrl_server_counters(srv);
        FUZZ_CHECK(k->active_connections >= 0 && k->active_connections <= nends);
        FUZZ_CHECK(k->active_sessions >= 0 && k->active_sessions <= cfg.max_total_sessions);
        if (!any)
            break;
    }
    free(chunk);
    for (int i = 0; i < nends; i++) {
        drain(&ends[i]);
        check_greeting(&ends[i], cfg.max_connections ? cfg.modes : 0);
    }

    /* The client goes away; the server sees it, then shuts down. */
    for (int i = 0; i < nends; i++) {
        close(ends[i].fd);
        ends[i].fd = -1;
    }
    for (int round = 0; round < 3; round++)
        tw_loop_run_once(loop, 0);
    const tw_ctrl_server_counters_t *k = tw_ctrl_server_counters(srv);
    FUZZ_CHECK(k->active_connections == 0);
    tw_ctrl_server_close(srv);
    tw_loop_free(loop);
    fuzz_check_fds();
    return 0;
}
