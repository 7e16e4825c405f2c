/* twampy_probe: a raw-UDP test tool for the integration tests. It checks, on
 * loopback only, what the twampy binary cannot show by itself: reply lengths and
 * TLVs, the TOS/TTL really on the wire in both directions, the reflector's
 * sequence numbers and the source address of replies.
 *
 *   twampy_probe lengths HOST PORT
 *   twampy_probe reflect HOST PORT [--expect-tos N] [--expect-ttl N] [--count N]
 *                        [--expect-len N] [--expect-ssid N]
 *                        [--style rfc|python|swapped|short|backwards|wrongport|
 *                                 mbz|epoch|farclock|zeroerr|t2eqt3|ttl0|erratic|stateful|
 *                                 nossid|stamp41]
 *                        [--reply-len N]
 *       (prints "listening on PORT" once bound, then one line per test packet:
 *        "packet SEQ: len N tos N ttl N ssid N"). --style answers as another
 *        reflector does (fake reflectors, issue 11): python, the Python twampy
 *        responder (38 octets: its sequence number, one time as t3 and t2,
 *        Error Estimate 0x0001, MBZ, then the request's first 14 octets);
 *        swapped, a C++ TWAMP-light reflector (exactly the request's length:
 *        our sequence number at 0 and 24, our t1 at 4, Error Estimate 0x8001,
 *        t2 at 16, its t3 at 28, the request's Error Estimate at 36, its TTL at
 *        40 and TOS at 41, as far as the length goes); short, the RFC 5357
 *        reply cut to --reply-len octets (default 20); backwards, t3 1 ms
 *        before t2; wrongport, the RFC reply from another port. Styles that
 *        break one rule each (conformance warnings): mbz (octets 14 and 38
 *        not zero), epoch (S bit set, t2/t3 in Unix seconds), zeroerr (Error
 *        Estimate Multiplier 0), t2eqt3 (one time as t2 and t3), ttl0 (Sender
 *        TTL 0), erratic (a reflector Sequence Number that jumps up and down),
 *        stateful (its own count, request 2 dropped and not counted), farclock (S
 *        bit set, t2/t3 an hour ahead), and for
 *        STAMP requests nossid (SSID 0 in the reply) and stamp41 (a 41-octet
 *        reply to the 44-octet request). --count 0 serves until killed: every
 *        datagram of 14 octets or more is answered in the style whatever its
 *        sequence number, shorter ones are ignored (twampy check against the
 *        fake reflectors).
 *   twampy_probe request HOST PORT [--expect-tos N] [--expect-ttl N] [--ttl N]
 *                        [--expect-rseq-stateless] [--stamp] [--random-padding N]
 *       (--random-padding N: N-octet TWAMP light requests with pseudo-random
 *        padding, as RFC 4656 §4.1.2 recommends; the reply must be N octets with
 *        its MBZ octets 14..15 zero)
 *   twampy_probe srcaddr PORT [--to ADDR]
 *   twampy_probe send HOST --port-file FILE [--count N] [--expect-tos N]
 *                     [--expect-ttl N]
 *       (an external Session-Sender: binds HOST:0, prints "bound to PORT", waits
 *        for FILE to hold the reflector's port, then sends N TWAMP light requests
 *        from PORT and checks the replies: "reply SEQ: len N tos N ttl N")
 *   twampy_probe freeport HOST udp|tcp
 *       (prints a port nothing is bound to right now)
 *   twampy_probe tcp HOST PORT STEP...
 *       (a TWAMP-Control client that follows a script; see cmd_tcp)
 *   twampy_probe fakeserver HOST STEP...
 *       (a scripted one-connection TWAMP server; prints "listening on PORT";
 *        see cmd_fakeserver)
 *   twampy_probe flip udp|tcp LHOST THOST TPORT [--offset N] [--every N]
 *                     [--dir req|rep]
 *       (a relay that alters one octet in flight; prints "listening on PORT";
 *        see cmd_flip)
 *
 * Exit status: 0 every check passed, 1 a check failed (one "twampy_probe: FAIL:"
 * line on stderr says which), 2 usage error. Every receive is bounded by a poll()
 * timeout, so the probe never hangs. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntptime.h"
#include "wire.h"

/* A reply that is due: only its absence waits this long. Generous, since the
 * reflector may run under valgrind on a loaded machine (5 s was seen to fail). */
#define RECV_TIMEOUT_MS 20000
#define BUF_LEN 65536

static const char usage_text[] =
    "usage:\n"
    "  twampy_probe lengths HOST PORT\n"
    "  twampy_probe reflect HOST PORT [--expect-tos N] [--expect-ttl N] [--count N]\n"
    "                       [--expect-len N] [--expect-ssid N]\n"
    "                       [--style rfc|python|swapped|short|backwards|wrongport|mbz|\n"
    "                                "
    "epoch|farclock|zeroerr|t2eqt3|ttl0|erratic|stateful|nossid|stamp41]\n"
    "                       [--reply-len N]\n"
    "  twampy_probe request HOST PORT [--expect-tos N] [--expect-ttl N] [--ttl N]\n"
    "                       [--expect-rseq-stateless] [--stamp] [--random-padding N]\n"
    "  twampy_probe srcaddr PORT [--to ADDR]\n"
    "  twampy_probe send HOST --port-file FILE [--count N] [--expect-tos N] [--expect-ttl N]\n"
    "  twampy_probe freeport HOST udp|tcp\n"
    "  twampy_probe tcp HOST PORT STEP...\n"
    "  twampy_probe fakeserver HOST STEP...\n"
    "  twampy_probe flip udp|tcp LHOST THOST TPORT [--offset N] [--every N] [--dir req|rep]\n"
    "HOST is a loopback literal (127.0.0.0/8 or ::1, brackets allowed).\n";

static const char *subcmd = "?";

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "twampy_probe %s: FAIL: ", subcmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "twampy_probe: usage error: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fputs(usage_text, stderr);
    exit(2);
}

static long num(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (!*s || *end || errno || v < lo || v > hi)
        usage("%s needs a number %ld..%ld, not '%s'", opt, lo, hi, s);
    return v;
}

/* ---- addresses ---------------------------------------------------------- */

struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

static bool is_loopback(const struct addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
}

/* A loopback literal and a port; anything else is refused, so that no test can
 * ever send a packet off this host. */
static struct addr make_addr(const char *host, const char *port)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    uint16_t p = (uint16_t)num("PORT", port, 0, 65535);
    char h[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = 0;
    } else {
        snprintf(h, sizeof h, "%s", host);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;
    if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(p);
        a.len = sizeof *s4;
    } else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(p);
        a.len = sizeof *s6;
    } else {
        usage("'%s' is not an IPv4 or IPv6 literal", host);
    }
    if (!is_loopback(&a))
        usage("'%s' is not a loopback address (127.0.0.0/8 or ::1)", host);
    return a;
}

static uint16_t addr_port(const struct addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(s->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(s->sin6_port));
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

/* ---- sockets ------------------------------------------------------------ */

static void setopt(int fd, int level, int name, int val, const char *what)
{
    if (setsockopt(fd, level, name, &val, sizeof val) < 0)
        fail("setsockopt(%s, %d): %s", what, val, strerror(errno));
}

/* A UDP socket bound to local that reports TOS/Traffic Class and TTL/Hop Limit
 * of every packet it receives; ttl > 0 sets the TTL/Hop Limit it sends with. */
static int open_udp(const struct addr *local, int ttl)
{
    int fam = local->ss.ss_family;
    int fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket: %s", strerror(errno));
    if (fam == AF_INET6) {
        setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
        setopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS");
        setopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
        if (ttl > 0)
            setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS");
    } else {
        setopt(fd, IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS");
        setopt(fd, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
        if (ttl > 0)
            setopt(fd, IPPROTO_IP, IP_TTL, ttl, "IP_TTL");
    }
    setopt(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20, "SO_RCVBUF");
    if (bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0) {
        char a[80];
        fail("bind %s: %s", addr_str(&local->ss, a, sizeof a), strerror(errno));
    }
    return fd;
}

/* A socket on the loopback address of dst's family, any port. */
static int open_client(const struct addr *dst, int ttl)
{
    struct addr local;
    if (dst->ss.ss_family == AF_INET6)
        local = make_addr("::1", "0");
    else
        local = make_addr("127.0.0.1", "0");
    return open_udp(&local, ttl);
}

static void send_to(int fd, const void *buf, size_t len, const struct addr *dst)
{
    ssize_t r = sendto(fd, buf, len, 0, (const struct sockaddr *)&dst->ss, dst->len);
    if (r != (ssize_t)len) {
        char a[80];
        fail("sendto %s (%zu octets): %s", addr_str(&dst->ss, a, sizeof a), len,
             r < 0 ? strerror(errno) : "short send");
    }
}

struct rx {
    size_t len; /* the datagram's real length (MSG_TRUNC) */
    int ttl, tos;
    struct sockaddr_storage peer;
};

/* Receive one datagram within timeout_ms; false on timeout. */
static bool recv_within(int fd, uint8_t *buf, size_t cap, int timeout_ms, struct rx *rx)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr;
    do
        pr = poll(&pfd, 1, timeout_ms);
    while (pr < 0 && errno == EINTR);
    if (pr < 0)
        fail("poll: %s", strerror(errno));
    if (pr == 0)
        return false;
    union {
        struct cmsghdr align;
        uint8_t b[512];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {.msg_name = &rx->peer,
                        .msg_namelen = sizeof rx->peer,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b};
    ssize_t n = recvmsg(fd, &mh, MSG_TRUNC);
    if (n < 0)
        fail("recvmsg: %s", strerror(errno));
    if ((size_t)n > cap)
        fail("received a %zd-octet datagram, larger than the %zu-octet buffer", n, cap);
    rx->len = (size_t)n;
    rx->ttl = rx->tos = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        const uint8_t *d = CMSG_DATA(c);
        size_t dlen = c->cmsg_len - CMSG_LEN(0);
        int v = -1;
        if (dlen >= sizeof(int))
            memcpy(&v, d, sizeof v);
        else if (dlen >= 1)
            v = d[0];
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
            rx->ttl = v;
        else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
            rx->tos = dlen >= 1 ? d[0] : -1; /* one octet */
        else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
            rx->ttl = v;
        else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
            rx->tos = v;
    }
    return true;
}

static void recv_or_fail(int fd, uint8_t *buf, size_t cap, struct rx *rx, const char *what)
{
    if (!recv_within(fd, buf, cap, RECV_TIMEOUT_MS, rx))
        fail("no reply within %d ms to %s", RECV_TIMEOUT_MS, what);
}

/* ---- packets ------------------------------------------------------------ */

static uint64_t ntp_now(void)
{
    return tw_time_to_ntp(tw_now());
}

/* A Session-Sender request of len octets (>= 14): header, SSID at 14 when
 * len >= 16 (0 for TWAMP light), zero padding. Returns the timestamp sent. */
static uint64_t build_request(uint8_t *buf, size_t len, uint32_t seq, uint16_t ssid)
{
    memset(buf, 0, len);
    uint64_t ts = ntp_now();
    tw_put32(buf, seq);
    tw_put64(buf + 4, ts);
    tw_put16(buf + 12, 0x0001); /* S=0 Z=0 Scale=0 Multiplier=1 */
    if (len >= 16)
        tw_put16(buf + 14, ssid);
    return ts;
}

/* The checks every reply to one of our requests must pass. */
static void check_reply_header(const uint8_t *rep, size_t len, uint32_t seq, uint64_t ts,
                               const char *what)
{
    tw_reflector_pkt_t r;
    if (tw_reflector_decode(rep, len, &r) != TW_WIRE_OK)
        fail("%s: reply of %zu octets does not decode", what, len);
    if (r.sender_seq != seq)
        fail("%s: Sender Sequence Number %" PRIu32 ", expected %" PRIu32, what, r.sender_seq, seq);
    if (r.sender_time != ts)
        fail("%s: Sender Timestamp 0x%016" PRIx64 " is not the one sent (0x%016" PRIx64 ")", what,
             r.sender_time, ts);
    if (r.sender_errest != 0x0001)
        fail("%s: Sender Error Estimate 0x%04x, expected 0x0001 as sent", what, r.sender_errest);
    if ((r.errest & 0xff) == 0)
        fail("%s: reflector Error Estimate 0x%04x has Multiplier 0 (RFC 4656 forbids it)", what,
             r.errest);
    if (tw_get16(rep + 38) != 0)
        fail("%s: MBZ octets 38..39 are 0x%04x", what, tw_get16(rep + 38));
}

/* ---- lengths ------------------------------------------------------------ */

static int cmd_lengths(int argc, char **argv)
{
    if (argc != 2)
        usage("lengths takes HOST PORT");
    struct addr dst = make_addr(argv[0], argv[1]);
    int fd = open_client(&dst, 0);
    static uint8_t req[BUF_LEN], rep[BUF_LEN];
    struct rx rx;
    char what[96];

    /* 1. Every length from the minimum to the largest test packet. */
    for (size_t len = TW_SENDER_MIN_LEN; len <= TW_MAX_PACKET_LEN; len++) {
        uint32_t seq = (uint32_t)len;
        uint64_t ts = build_request(req, len, seq, 0);
        send_to(fd, req, len, &dst);
        snprintf(what, sizeof what, "%zu-octet request", len);
        recv_or_fail(fd, rep, sizeof rep, &rx, what);
        size_t want = len > TW_REFLECTOR_BASE_LEN ? len : TW_REFLECTOR_BASE_LEN;
        if (rx.len != want)
            fail("%s: reply is %zu octets, expected max(%zu, 41) = %zu", what, rx.len, len, want);
        check_reply_header(rep, rx.len, seq, ts, what);
    }
    printf("lengths: %d requests of 14..%d octets answered with max(len, 41) octets\n",
           TW_MAX_PACKET_LEN - TW_SENDER_MIN_LEN + 1, TW_MAX_PACKET_LEN);

    /* 2. Too short: an empty and a 13-octet datagram get no reply. A normal
     * request sent right after them must be the next thing to come back: the
     * responder reads a socket's datagrams in order and answers in order. */
    build_request(req, 13, 0xdead, 0);
    send_to(fd, req, 0, &dst);
    send_to(fd, req, 13, &dst);
    uint64_t ts = build_request(req, 41, 0xabcd, 0);
    send_to(fd, req, 41, &dst);
    recv_or_fail(fd, rep, sizeof rep, &rx, "41-octet request after 0- and 13-octet datagrams");
    if (rx.len != 41 || tw_get32(rep + 24) != 0xabcd)
        fail("after a 0- and a 13-octet datagram the first reply is %zu octets for sseq %" PRIu32
             ", expected the 41-octet reply to sseq 43981 (a too-short datagram was answered?)",
             rx.len, tw_get32(rep + 24));
    check_reply_header(rep, rx.len, 0xabcd, ts, "41-octet request after too-short datagrams");
    printf("lengths: 0- and 13-octet datagrams got no reply; a 41-octet request did\n");

    /* 3. STAMP: a 44-octet request with SSID 0x1234 (and its MBZ octets 16..43
     * zero, which is what makes it STAMP) comes back as 44 octets with the SSID
     * at offset 14 and MBZ 41..43. */
    ts = build_request(req, 44, 1001, 0x1234);
    send_to(fd, req, 44, &dst);
    recv_or_fail(fd, rep, sizeof rep, &rx, "44-octet STAMP request");
    if (rx.len != 44)
        fail("44-octet STAMP request: reply is %zu octets, expected 44", rx.len);
    check_reply_header(rep, rx.len, 1001, ts, "44-octet STAMP request");
    if (tw_get16(rep + 14) != 0x1234)
        fail("44-octet STAMP request: reply SSID 0x%04x, expected 0x1234", tw_get16(rep + 14));
    if (rep[41] || rep[42] || rep[43])
        fail("44-octet STAMP request: reply MBZ 41..43 is %02x %02x %02x", rep[41], rep[42],
             rep[43]);

    /* 4. STAMP with an Extra Padding TLV (U set, as a Session-Sender sends it):
     * the reflector understands it and returns it with U cleared. */
    ts = build_request(req, 60, 1002, 0x1234);
    req[44] = 0x80;
    req[45] = TW_TLV_EXTRA_PADDING;
    tw_put16(req + 46, 12);
    for (int i = 0; i < 12; i++)
        req[48 + i] = (uint8_t)(0xa0 + i);
    send_to(fd, req, 60, &dst);
    recv_or_fail(fd, rep, sizeof rep, &rx, "60-octet STAMP request with Extra Padding TLV");
    if (rx.len != 60)
        fail("60-octet STAMP request: reply is %zu octets, expected 60", rx.len);
    check_reply_header(rep, rx.len, 1002, ts, "60-octet STAMP request");
    if (tw_get16(rep + 14) != 0x1234)
        fail("60-octet STAMP request: reply SSID 0x%04x, expected 0x1234", tw_get16(rep + 14));
    if (rep[44] != 0x00 || rep[45] != TW_TLV_EXTRA_PADDING || tw_get16(rep + 46) != 12)
        fail("60-octet STAMP request: reply TLV header flags 0x%02x type %u length %u, expected "
             "flags 0x00 (U cleared) type 1 length 12",
             rep[44], rep[45], tw_get16(rep + 46));
    if (memcmp(rep + 48, req + 48, 12) != 0)
        fail("60-octet STAMP request: the Extra Padding value did not come back unchanged");

    /* 5. A TLV type the reflector does not know comes back with U set. */
    ts = build_request(req, 52, 1003, 0x1234);
    req[44] = 0x00;
    req[45] = 200;
    tw_put16(req + 46, 4);
    memcpy(req + 48, "\x01\x02\x03\x04", 4);
    send_to(fd, req, 52, &dst);
    recv_or_fail(fd, rep, sizeof rep, &rx, "52-octet STAMP request with an unknown TLV");
    if (rx.len != 52)
        fail("52-octet STAMP request: reply is %zu octets, expected 52", rx.len);
    check_reply_header(rep, rx.len, 1003, ts, "52-octet STAMP request");
    if (rep[44] != 0x80 || rep[45] != 200 || tw_get16(rep + 46) != 4 ||
        memcmp(rep + 48, req + 48, 4) != 0)
        fail("52-octet STAMP request: unknown TLV came back as flags 0x%02x type %u length %u, "
             "expected flags 0x80 (U set) type 200 length 4, value unchanged",
             rep[44], rep[45], tw_get16(rep + 46));
    printf("lengths: STAMP SSID and TLVs reflected as RFC 8972 says\n");
    close(fd);
    return 0;
}

/* ---- reflect ------------------------------------------------------------ */

static int cmd_reflect(int argc, char **argv)
{
    if (argc < 2)
        usage("reflect takes HOST PORT [options]");
    struct addr local = make_addr(argv[0], argv[1]);
    long expect_tos = -1, expect_ttl = -1, expect_len = -1, expect_ssid = -1, count = 1;
    long reply_len = 20;
    const char *style = "rfc";
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc)
            usage("%s needs a value (or is unknown)", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--expect-tos"))
            expect_tos = num(o, v, 0, 255);
        else if (!strcmp(o, "--expect-ttl"))
            expect_ttl = num(o, v, 0, 255);
        else if (!strcmp(o, "--count"))
            count = num(o, v, 0, 100000);
        else if (!strcmp(o, "--expect-len"))
            expect_len = num(o, v, 0, 65535);
        else if (!strcmp(o, "--expect-ssid"))
            expect_ssid = num(o, v, 0, 65535);
        else if (!strcmp(o, "--reply-len"))
            reply_len = num(o, v, 1, TW_REFLECTOR_BASE_LEN);
        else if (!strcmp(o, "--style")) {
            static const char *const styles[] = {"rfc",       "python",    "swapped", "short",
                                                 "backwards", "wrongport", "mbz",     "epoch",
                                                 "farclock",  "zeroerr",   "t2eqt3",  "ttl0",
                                                 "erratic",   "stateful",  "nossid",  "stamp41"};
            style = NULL;
            for (size_t k = 0; k < sizeof styles / sizeof styles[0]; k++)
                if (!strcmp(v, styles[k]))
                    style = styles[k];
            if (!style)
                usage("--style rfc|python|swapped|short|backwards|wrongport|mbz|epoch|"
                      "farclock|zeroerr|t2eqt3|ttl0|erratic|stateful|nossid|stamp41, not '%s'",
                      v);
        } else
            usage("unknown option '%s'", o);
    }
    int fd = open_udp(&local, 0);
    int fd2 = -1; /* --style wrongport: the replies leave from here */
    if (!strcmp(style, "wrongport")) {
        struct addr other = local;
        if (other.ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&other.ss)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)&other.ss)->sin6_port = 0;
        fd2 = open_udp(&other, 0);
    }
    struct addr bound = {.len = sizeof bound.ss};
    if (getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len) < 0)
        fail("getsockname: %s", strerror(errno));
    printf("listening on %u\n", addr_port(&bound));
    fflush(stdout);

    static uint8_t buf[BUF_LEN];
    uint32_t counted = 0; /* --style stateful: the requests it counted */
    /* --count 0: serve until killed, answering every request of 14 octets or
     * more in the style, whatever its sequence number (for twampy check). */
    bool serve = count == 0;
    for (long i = 0; serve || i < count; i++) {
        struct rx rx;
        char what[64];
        snprintf(what, sizeof what, "test packet %ld of %ld", i + 1, count);
        if (!recv_within(fd, buf, sizeof buf, RECV_TIMEOUT_MS, &rx)) {
            if (serve) {
                i--;
                continue;
            }
            fail("%s did not arrive within %d ms", what, RECV_TIMEOUT_MS);
        }
        tw_sender_pkt_t req;
        if (tw_sender_decode(buf, rx.len, &req) != TW_WIRE_OK) {
            if (serve) {
                i--;
                continue;
            }
            fail("%s: %zu octets is too short for a Session-Sender packet", what, rx.len);
        }
        if (!serve && req.seq != (uint32_t)i) /* serve: any sequence number */
            fail("%s: Sequence Number %" PRIu32 ", expected %ld", what, req.seq, i);
        if (expect_tos >= 0 && rx.tos != expect_tos)
            fail("%s: TOS/Traffic Class %d on the wire, expected %ld", what, rx.tos, expect_tos);
        if (expect_ttl >= 0 && rx.ttl != expect_ttl)
            fail("%s: TTL/Hop Limit %d on the wire, expected %ld", what, rx.ttl, expect_ttl);
        if (expect_len >= 0 && rx.len != (size_t)expect_len)
            fail("%s: %zu octets, expected %ld", what, rx.len, expect_len);
        if (expect_ssid >= 0 && (rx.len < 16 || req.ssid != expect_ssid))
            fail("%s: SSID %u, expected %ld", what, req.ssid, expect_ssid);
        printf("packet %" PRIu32 ": len %zu tos %d ttl %d ssid %u\n", req.seq, rx.len, rx.tos,
               rx.ttl, rx.len >= 16 ? req.ssid : 0);
        uint64_t t2 = ntp_now();
        static uint8_t rep[BUF_LEN];
        size_t rlen = TW_REFLECTOR_BASE_LEN;
        memset(rep, 0, rx.len > 64 ? rx.len : 64);
        tw_reflector_pkt_t r = {
            .seq = (uint32_t)i,
            .errest = 0x0001,
            .rx_time = t2,
            .sender_seq = req.seq,
            .sender_time = req.timestamp,
            .sender_errest = req.errest,
            .sender_ttl = (uint8_t)(rx.ttl < 0 ? 0 : rx.ttl),
        };
        r.timestamp = ntp_now();
        if (!strcmp(style, "backwards"))
            r.timestamp = tw_time_to_ntp(tw_ntp_to_time(t2) - 1000000); /* t3 = t2 - 1 ms */
        bool stamp = !strcmp(style, "nossid") || !strcmp(style, "stamp41");
        if (!strcmp(style, "epoch")) {
            /* Unix seconds where NTP seconds belong, the S bit set. */
            r.errest = 0x8001;
            r.rx_time -= (uint64_t)TW_NTP_UNIX_OFFSET << 32;
            r.timestamp -= (uint64_t)TW_NTP_UNIX_OFFSET << 32;
        } else if (!strcmp(style, "farclock")) {
            /* An hour ahead, the S bit set. */
            r.errest = 0x8001;
            r.rx_time += (uint64_t)3600 << 32;
            r.timestamp += (uint64_t)3600 << 32;
        } else if (!strcmp(style, "zeroerr")) {
            r.errest = 0x0000;
        } else if (!strcmp(style, "t2eqt3")) {
            r.timestamp = r.rx_time;
        } else if (!strcmp(style, "ttl0")) {
            r.sender_ttl = 0;
        } else if (!strcmp(style, "erratic")) {
            r.seq = (i & 1) ? 1000 - (uint32_t)i : 2000 + (uint32_t)i;
        } else if (!strcmp(style, "stateful")) {
            if (i == 2)
                continue; /* lost on its way in: not counted, not answered */
            r.seq = counted++;
        } else if (!strcmp(style, "nossid")) {
            r.ssid = 0;
        } else if (stamp) {
            r.ssid = req.ssid;
        }
        if (stamp) {
            tw_reflector_encode(&r, true, rep, TW_STAMP_BASE_LEN);
            rlen = !strcmp(style, "stamp41") ? TW_REFLECTOR_BASE_LEN : TW_STAMP_BASE_LEN;
        } else {
            tw_reflector_encode(&r, false, rep, TW_REFLECTOR_BASE_LEN);
        }
        if (!strcmp(style, "mbz")) {
            rep[14] = 0x5a; /* MBZ after the Error Estimate */
            rep[38] = 0xa5; /* MBZ after the Sender Error Estimate */
        }
        if (!strcmp(style, "short")) {
            rlen = (size_t)reply_len;
        } else if (!strcmp(style, "python")) {
            /* One user-space time as t3 and t2, Error Estimate 0x0001, MBZ,
             * then the request's first 14 octets. */
            memset(rep, 0, 64);
            uint64_t t = ntp_now();
            tw_put32(rep, (uint32_t)i);
            tw_put64(rep + 4, t);
            tw_put16(rep + 12, 0x0001);
            tw_put64(rep + 16, t);
            memcpy(rep + 24, buf, 14);
            rlen = 38;
        } else if (!strcmp(style, "swapped")) {
            memset(rep, 0, rx.len > 64 ? rx.len : 64);
            tw_put32(rep, req.seq);
            tw_put64(rep + 4, req.timestamp);
            tw_put16(rep + 12, 0x8001);
            tw_put64(rep + 16, t2);
            tw_put32(rep + 24, req.seq);
            tw_put64(rep + 28, ntp_now());
            tw_put16(rep + 36, req.errest);
            rep[40] = (uint8_t)(rx.ttl < 0 ? 0 : rx.ttl);
            rep[41] = (uint8_t)(rx.tos < 0 ? 0 : rx.tos);
            rlen = rx.len; /* exactly the request's length */
        }
        struct addr peer = {.ss = rx.peer,
                            .len = rx.peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                 : sizeof(struct sockaddr_in)};
        send_to(fd2 >= 0 ? fd2 : fd, rep, rlen, &peer);
    }
    if (fd2 >= 0)
        close(fd2);
    printf("reflect: %ld test packets checked (tos %ld, ttl %ld) and answered\n", count, expect_tos,
           expect_ttl);
    close(fd);
    return 0;
}

/* ---- request ------------------------------------------------------------ */

struct req_opts {
    long expect_tos, expect_ttl, ttl;
    long random_padding; /* TWAMP light requests of this length with random padding; 0 off */
    bool stateless, stamp;
};

/* One request from fd with sseq and ssid; checks the reply and returns its rseq. */
static uint32_t one_request(int fd, const struct addr *dst, const struct req_opts *o, uint32_t sseq,
                            uint16_t ssid)
{
    static uint8_t req[BUF_LEN], rep[BUF_LEN];
    size_t len = o->stamp ? TW_STAMP_BASE_LEN : TW_REFLECTOR_BASE_LEN;
    if (o->random_padding)
        len = (size_t)o->random_padding;
    char what[64];
    snprintf(what, sizeof what, "request sseq=%" PRIu32 " ssid=%u", sseq, ssid);
    uint64_t t1 = build_request(req, len, sseq, o->stamp ? ssid : 0);
    if (o->random_padding) {
        for (size_t i = 14; i < len; i++)
            req[i] = (uint8_t)rand();
        req[16] |= 1; /* never all zero where STAMP has its MBZ */
    }
    send_to(fd, req, len, dst);
    struct rx rx;
    recv_or_fail(fd, rep, sizeof rep, &rx, what);
    if (rx.len != len)
        fail("%s: reply is %zu octets, expected %zu", what, rx.len, len);
    check_reply_header(rep, rx.len, sseq, t1, what);
    tw_reflector_pkt_t r;
    tw_reflector_decode(rep, rx.len, &r);
    if (o->expect_tos >= 0 && rx.tos != o->expect_tos)
        fail("%s: reply TOS/Traffic Class %d on the wire, expected %ld", what, rx.tos,
             o->expect_tos);
    if (o->expect_ttl >= 0 && rx.ttl != o->expect_ttl)
        fail("%s: reply TTL/Hop Limit %d on the wire, expected %ld", what, rx.ttl, o->expect_ttl);
    if (r.sender_ttl != o->ttl)
        fail("%s: reply Sender TTL (offset 40) is %u, expected %ld (the TTL we sent with)", what,
             r.sender_ttl, o->ttl);
    if (r.rx_time == 0 || r.timestamp == 0)
        fail("%s: Receive Timestamp (t2) 0x%016" PRIx64 " or Timestamp (t3) 0x%016" PRIx64
             " missing",
             what, r.rx_time, r.timestamp);
    if (r.timestamp < r.rx_time)
        fail("%s: Timestamp t3 0x%016" PRIx64 " is before Receive Timestamp t2 0x%016" PRIx64, what,
             r.timestamp, r.rx_time);
    /* Same host, same clock: t2 must be an NTP time close to ours (this catches
     * a Unix-epoch or byte-order mistake, it is no delay measurement). */
    int64_t off = (int64_t)((r.rx_time >> 32) - (t1 >> 32));
    if (off < -3600 || off > 3600)
        fail("%s: Receive Timestamp is %" PRId64 " s away from the sender's NTP clock", what, off);
    if (o->stamp && r.ssid != ssid)
        fail("%s: reply SSID %u, expected %u", what, r.ssid, ssid);
    if (!o->stamp && tw_get16(rep + 14) != 0)
        fail("%s: MBZ octets 14..15 of the TWAMP reply are 0x%04x (the request's padding?)", what,
             tw_get16(rep + 14));
    return r.seq;
}

static void expect_rseq(uint32_t got, uint32_t want, const char *what)
{
    if (got != want)
        fail("%s: reflector sequence number %" PRIu32 ", expected %" PRIu32, what, got, want);
}

static int cmd_request(int argc, char **argv)
{
    if (argc < 2)
        usage("request takes HOST PORT [options]");
    struct addr dst = make_addr(argv[0], argv[1]);
    struct req_opts o = {.expect_tos = -1, .expect_ttl = -1, .ttl = 64};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--expect-rseq-stateless")) {
            o.stateless = true;
            continue;
        }
        if (!strcmp(a, "--stamp")) {
            o.stamp = true;
            continue;
        }
        if (i + 1 >= argc)
            usage("%s needs a value (or is unknown)", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--expect-tos"))
            o.expect_tos = num(a, v, 0, 255);
        else if (!strcmp(a, "--expect-ttl"))
            o.expect_ttl = num(a, v, 0, 255);
        else if (!strcmp(a, "--ttl"))
            o.ttl = num(a, v, 1, 255);
        else if (!strcmp(a, "--random-padding"))
            o.random_padding = num(a, v, TW_STAMP_BASE_LEN, TW_MAX_PACKET_LEN);
        else
            usage("unknown option '%s'", a);
    }
    if (o.stamp && o.random_padding)
        usage("--stamp and --random-padding do not go together");
    srand((unsigned)getpid());
    /* Sender sequence numbers start at 7 so that a stateful reflector's own
     * numbers (0, 1, 2) and copied ones (7, 8, 9) cannot be confused. */
    int a = open_client(&dst, (int)o.ttl);
    for (uint32_t k = 0; k < 3; k++)
        expect_rseq(one_request(a, &dst, &o, 7 + k, 1), o.stateless ? 7 + k : k, "first socket");
    int b = open_client(&dst, (int)o.ttl);
    expect_rseq(one_request(b, &dst, &o, 7, 1), o.stateless ? 7 : 0,
                "second socket (a new sender port)");
    expect_rseq(one_request(a, &dst, &o, 10, 1), o.stateless ? 10 : 3,
                "first socket again (its state must survive the second socket)");
    if (o.stamp)
        expect_rseq(one_request(a, &dst, &o, 11, 2), o.stateless ? 11 : 0,
                    "first socket with another SSID (a new STAMP session)");
    printf("request: replies carry tos %ld, ttl %ld, Sender TTL %ld, t3 >= t2, %s rseq\n",
           o.expect_tos, o.expect_ttl, o.ttl, o.stateless ? "stateless" : "stateful");
    close(a);
    close(b);
    return 0;
}

/* ---- srcaddr ------------------------------------------------------------ */

static int cmd_srcaddr(int argc, char **argv)
{
    if (argc != 1 && !(argc == 3 && !strcmp(argv[1], "--to")))
        usage("srcaddr takes PORT [--to ADDR]");
    const char *to = argc == 3 ? argv[2] : "127.0.0.2";
    struct addr dst = make_addr(to, argv[0]);
    if (dst.ss.ss_family != AF_INET)
        usage("srcaddr needs an IPv4 address other than 127.0.0.1 (loopback has one IPv6 address)");
    struct addr local = make_addr("127.0.0.1", "0");
    int fd = open_udp(&local, 0);
    uint8_t req[TW_REFLECTOR_BASE_LEN];
    static uint8_t rep[BUF_LEN];
    uint64_t ts = build_request(req, sizeof req, 4242, 0);
    send_to(fd, req, sizeof req, &dst);
    struct rx rx;
    char what[96], got[80], want[80];
    snprintf(what, sizeof what, "request to %s", addr_str(&dst.ss, want, sizeof want));
    recv_or_fail(fd, rep, sizeof rep, &rx, what);
    check_reply_header(rep, rx.len, 4242, ts, what);
    const struct sockaddr_in *p = (const struct sockaddr_in *)&rx.peer;
    const struct sockaddr_in *d = (const struct sockaddr_in *)&dst.ss;
    if (rx.peer.ss_family != AF_INET || p->sin_addr.s_addr != d->sin_addr.s_addr ||
        p->sin_port != d->sin_port)
        fail("the reply to a request sent to %s came from %s", want,
             addr_str(&rx.peer, got, sizeof got));
    printf("srcaddr: the reply came from %s\n", want);
    close(fd);
    return 0;
}

/* ---- shared by send, tcp and fakeserver ---------------------------------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void set_port(struct addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

static bool same_addr(const struct sockaddr_storage *ss, const struct addr *a)
{
    if (ss->ss_family != a->ss.ss_family)
        return false;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)ss;
        const struct sockaddr_in *y = (const struct sockaddr_in *)&a->ss;
        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)ss;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&a->ss;
    return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) && x->sin6_port == y->sin6_port;
}

static uint16_t local_port(int fd)
{
    struct addr bound = {.len = sizeof bound.ss};
    if (getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len) < 0)
        fail("getsockname: %s", strerror(errno));
    return addr_port(&bound);
}

/* ---- send: an external Session-Sender ------------------------------------ */

/* Wait (bounded) until file holds a port number ending in a newline: the test
 * script writes it once it knows the reflector port the server gave out. */
static uint16_t wait_port_file(const char *file)
{
    double deadline = mono_s() + 20;
    for (;;) {
        FILE *f = fopen(file, "r");
        if (f) {
            char line[32];
            bool whole = fgets(line, sizeof line, f) && strchr(line, '\n');
            fclose(f);
            if (whole) {
                line[strcspn(line, "\n")] = 0;
                return (uint16_t)num("the port in --port-file", line, 1, 65535);
            }
        }
        if (mono_s() > deadline)
            fail("no port in %s within 20 s", file);
        pause_ms(10);
    }
}

static int cmd_send(int argc, char **argv)
{
    if (argc < 1)
        usage("send takes HOST --port-file FILE [options]");
    struct addr dst = make_addr(argv[0], "0");
    const char *port_file = NULL;
    long count = 3, expect_tos = -1, expect_ttl = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc)
            usage("%s needs a value (or is unknown)", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--port-file"))
            port_file = v;
        else if (!strcmp(o, "--count"))
            count = num(o, v, 1, 100000);
        else if (!strcmp(o, "--expect-tos"))
            expect_tos = num(o, v, 0, 255);
        else if (!strcmp(o, "--expect-ttl"))
            expect_ttl = num(o, v, 0, 255);
        else
            usage("unknown option '%s'", o);
    }
    if (!port_file)
        usage("send needs --port-file FILE");
    int fd = open_udp(&dst, 0); /* HOST:0 */
    printf("bound to %u\n", local_port(fd));
    fflush(stdout);
    set_port(&dst, wait_port_file(port_file));

    static uint8_t req[BUF_LEN], rep[BUF_LEN];
    for (long i = 0; i < count; i++) {
        char what[96], from[80], want[80];
        snprintf(what, sizeof what, "request %ld of %ld to %s", i + 1, count,
                 addr_str(&dst.ss, want, sizeof want));
        uint64_t ts = build_request(req, TW_REFLECTOR_BASE_LEN, (uint32_t)i, 0);
        send_to(fd, req, TW_REFLECTOR_BASE_LEN, &dst);
        struct rx rx;
        recv_or_fail(fd, rep, sizeof rep, &rx, what);
        if (!same_addr(&rx.peer, &dst))
            fail("%s: the reply came from %s", what, addr_str(&rx.peer, from, sizeof from));
        if (rx.len != TW_REFLECTOR_BASE_LEN)
            fail("%s: reply is %zu octets, expected %d", what, rx.len, TW_REFLECTOR_BASE_LEN);
        check_reply_header(rep, rx.len, (uint32_t)i, ts, what);
        tw_reflector_pkt_t r;
        tw_reflector_decode(rep, rx.len, &r);
        if (r.seq != (uint32_t)i)
            fail("%s: reflector sequence number %" PRIu32 ", expected %ld", what, r.seq, i);
        if (expect_tos >= 0 && rx.tos != expect_tos)
            fail("%s: reply TOS/Traffic Class %d on the wire, expected %ld", what, rx.tos,
                 expect_tos);
        if (expect_ttl >= 0 && rx.ttl != expect_ttl)
            fail("%s: reply TTL/Hop Limit %d on the wire, expected %ld", what, rx.ttl, expect_ttl);
        printf("reply %ld: len %zu tos %d ttl %d\n", i, rx.len, rx.tos, rx.ttl);
    }
    printf("send: %ld replies checked (tos %ld, ttl %ld)\n", count, expect_tos, expect_ttl);
    close(fd);
    return 0;
}

/* ---- freeport ------------------------------------------------------------ */

static int cmd_freeport(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "udp") && strcmp(argv[1], "tcp")))
        usage("freeport takes HOST udp|tcp");
    struct addr a = make_addr(argv[0], "0");
    int fd = socket(a.ss.ss_family, (strcmp(argv[1], "tcp") ? SOCK_DGRAM : SOCK_STREAM), 0);
    if (fd < 0)
        fail("socket: %s", strerror(errno));
    if (bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0)
        fail("bind: %s", strerror(errno));
    printf("%u\n", local_port(fd));
    close(fd);
    return 0;
}

/* ---- TWAMP-Control over TCP: helpers -------------------------------------- */

#define CTRL_TIMEOUT_MS 10000

static volatile sig_atomic_t got_term;
static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

/* One write (slow: one octet per write, 2 ms apart, so that the peer reads the
 * message in pieces). */
static void tcp_send(int fd, const uint8_t *buf, size_t len, bool slow, const char *what)
{
    if (!slow) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n != (ssize_t)len)
            fail("sending %s (%zu octets): %s", what, len, n < 0 ? strerror(errno) : "short write");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (send(fd, buf + i, 1, MSG_NOSIGNAL) != 1)
            fail("sending %s one octet per write: octet %zu of %zu: %s", what, i + 1, len,
                 strerror(errno));
        pause_ms(2);
    }
}

/* Read exactly len octets within CTRL_TIMEOUT_MS. */
static void tcp_recv(int fd, uint8_t *buf, size_t len, const char *what)
{
    size_t have = 0;
    double deadline = mono_s() + CTRL_TIMEOUT_MS / 1000.0;
    while (have < len) {
        int left = (int)((deadline - mono_s()) * 1000);
        if (left <= 0)
            fail("%s: %zu of %zu octets within %d ms", what, have, len, CTRL_TIMEOUT_MS);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        if (r <= 0)
            continue;
        ssize_t n = recv(fd, buf + have, len - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("%s: recv after %zu of %zu octets: %s", what, have, len, strerror(errno));
        if (n == 0)
            fail("%s: the peer closed the connection after %zu of %zu octets", what, have, len);
        have += (size_t)n;
    }
}

/* Wait up to secs for the peer to close the connection (EOF or reset). Returns
 * the seconds it took, -1 on timeout, -2 on SIGTERM/SIGINT (if stop_on_term);
 * octets that arrive meanwhile are counted in *extra. */
static double tcp_wait_eof(int fd, double secs, size_t *extra, bool stop_on_term)
{
    double t0 = mono_s(), deadline = t0 + secs;
    *extra = 0;
    for (;;) {
        if (stop_on_term && got_term)
            return -2;
        int left = (int)((deadline - mono_s()) * 1000);
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        if (r <= 0)
            continue;
        uint8_t b[4096];
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return mono_s() - t0;
        if (n < 0)
            fail("recv: %s", strerror(errno));
        *extra += (size_t)n;
    }
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        usage("hex '%.40s...' needs an even number of digits, at most %zu octets", hex, cap);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            usage("'%.40s...' is not hex", hex);
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

/* A step "name" or "name=value": is it name, and its value (NULL when none). */
static bool step_is(const char *step, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(step, name, n) != 0)
        return false;
    if (step[n] == 0) {
        *val = NULL;
        return true;
    }
    if (step[n] == '=') {
        *val = step + n + 1;
        return true;
    }
    return false;
}

/* Messages built by hand from RFC 4656 §3 / RFC 5357 §3 (see WIRE.md), not with
 * twampy's own codecs, so that a codec mistake cannot hide itself. */
static void build_request_session(uint8_t m[112], int family, uint16_t sender_port)
{
    memset(m, 0, 112);
    m[0] = 5;                          /* Request-TW-Session */
    m[1] = family == AF_INET6 ? 6 : 4; /* IPVN; Conf-Sender/Receiver 0 */
    tw_put16(m + 12, sender_port);     /* receiver port 0: any; addresses 0 */
    tw_put32(m + 64, 27);              /* padding length */
    tw_put64(m + 68, ntp_now());       /* start time */
    tw_put64(m + 76, 1ull << 32);      /* timeout 1 s */
}

/* ---- tcp: a scripted TWAMP-Control client --------------------------------- */

/* twampy_probe tcp HOST PORT STEP...: connects, prints "connected from PORT",
 * then runs the steps in order, printing one line for each:
 *   greeting[=MODES]   read the 64-octet Server Greeting ("greeting modes M")
 *   setup[=MODE]       send a Set-Up-Response (mode 1 by default)
 *   serverstart[=A]    read Server-Start ("server-start accept A")
 *   request            send a Request-TW-Session (receiver port 0) in one write
 *   request-slow       the same, one octet per write
 *   half-request       its first 56 octets only
 *   accept[=A]         read Accept-Session ("accept-session accept A port P")
 *   start, startack[=A], stop   Start-Sessions, read Start-Ack, Stop-Sessions (1)
 *   hex=HEX, hexslow=HEX        raw octets, in one write / one per write
 *   eof=SECS           the server must close within SECS ("closed by the server
 *                      after S s, N octets before")
 *   open=SECS          the server must keep it open SECS, sending nothing
 *   hold               prints "holding" and waits for SIGTERM/SIGINT ("released");
 *                      the server closing it first is a failure
 *   close              close the connection
 * =VALUE checks what was read. */
static int cmd_tcp(int argc, char **argv)
{
    if (argc < 3)
        usage("tcp takes HOST PORT STEP...");
    struct addr dst = make_addr(argv[0], argv[1]);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    int fd = socket(dst.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&dst.ss, dst.len) < 0)
        fail("connect: %s", strerror(errno));
    printf("connected from %u\n", local_port(fd));
    fflush(stdout);
    static uint8_t b[65536];
    for (int i = 2; i < argc; i++) {
        const char *st = argv[i], *v;
        if (step_is(st, "greeting", &v)) {
            tcp_recv(fd, b, 64, "Server Greeting");
            uint32_t modes = tw_get32(b + 12);
            printf("greeting modes %" PRIu32 "\n", modes);
            if (v && modes != (uint32_t)num("greeting", v, 0, UINT32_MAX))
                fail("Server Greeting modes %" PRIu32 ", expected %s", modes, v);
        } else if (step_is(st, "setup", &v)) {
            memset(b, 0, 164);
            uint32_t mode = v ? (uint32_t)num("setup", v, 0, UINT32_MAX) : 1;
            tw_put32(b, mode);
            tcp_send(fd, b, 164, false, "Set-Up-Response");
            printf("sent set-up-response mode %" PRIu32 "\n", mode);
        } else if (step_is(st, "serverstart", &v)) {
            tcp_recv(fd, b, 48, "Server-Start");
            printf("server-start accept %u\n", b[15]);
            if (v && b[15] != num("serverstart", v, 0, 255))
                fail("Server-Start accept %u, expected %s", b[15], v);
        } else if (step_is(st, "request", &v) || step_is(st, "request-slow", &v) ||
                   step_is(st, "half-request", &v)) {
            bool slow = !strcmp(st, "request-slow"), half = !strcmp(st, "half-request");
            build_request_session(b, dst.ss.ss_family, local_port(fd));
            tcp_send(fd, b, half ? 56 : 112, slow, "Request-TW-Session");
            printf("sent %s of request-tw-session%s\n", half ? "56 of 112 octets" : "112 octets",
                   slow ? ", one octet per write" : "");
        } else if (step_is(st, "accept", &v)) {
            tcp_recv(fd, b, 48, "Accept-Session");
            printf("accept-session accept %u port %u\n", b[0], tw_get16(b + 2));
            if (v && b[0] != num("accept", v, 0, 255))
                fail("Accept-Session accept %u, expected %s", b[0], v);
            if (b[0] == 0 && tw_get16(b + 2) == 0)
                fail("Accept-Session accepted the session on port 0");
        } else if (step_is(st, "start", &v)) {
            memset(b, 0, 32);
            b[0] = 2;
            tcp_send(fd, b, 32, false, "Start-Sessions");
            printf("sent start-sessions\n");
        } else if (step_is(st, "startack", &v)) {
            tcp_recv(fd, b, 32, "Start-Ack");
            printf("start-ack accept %u\n", b[0]);
            if (v && b[0] != num("startack", v, 0, 255))
                fail("Start-Ack accept %u, expected %s", b[0], v);
        } else if (step_is(st, "stop", &v)) {
            memset(b, 0, 32);
            b[0] = 3;
            tw_put32(b + 4, 1);
            tcp_send(fd, b, 32, false, "Stop-Sessions");
            printf("sent stop-sessions\n");
        } else if (step_is(st, "hex", &v) || step_is(st, "hexslow", &v)) {
            if (!v)
                usage("%s needs =HEX", st);
            size_t n = parse_hex(v, b, sizeof b);
            tcp_send(fd, b, n, !strncmp(st, "hexslow", 7), "raw octets");
            printf("sent %zu raw octets%s\n", n,
                   !strncmp(st, "hexslow", 7) ? ", one per write" : "");
        } else if (step_is(st, "eof", &v) && v) {
            double secs = (double)num("eof", v, 1, 60), t;
            size_t extra;
            if ((t = tcp_wait_eof(fd, secs, &extra, false)) < 0)
                fail("the server did not close the connection within %.0f s", secs);
            printf("closed by the server after %.3f s, %zu octets before\n", t, extra);
        } else if (step_is(st, "open", &v) && v) {
            double secs = strtod(v, NULL), t;
            size_t extra;
            if ((t = tcp_wait_eof(fd, secs, &extra, false)) >= 0)
                fail("the server closed the connection after %.3f s (%zu octets before)", t, extra);
            if (extra)
                fail("the server sent %zu unexpected octets", extra);
            printf("still open after %s s\n", v);
        } else if (step_is(st, "hold", &v)) {
            printf("holding\n");
            fflush(stdout);
            size_t extra;
            double t = tcp_wait_eof(fd, 60, &extra, true);
            if (t >= 0)
                fail("the server closed a held connection after %.3f s", t);
            if (t == -1)
                fail("held for 60 s without being released");
            printf("released%s\n", extra ? " (the server sent octets meanwhile)" : "");
        } else if (step_is(st, "close", &v)) {
            close(fd);
            fd = -1;
            printf("closed\n");
        } else {
            usage("unknown tcp step '%s'", st);
        }
        fflush(stdout);
        if (fd < 0 && i + 1 < argc)
            usage("no step may follow close");
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

/* ---- fakeserver: a scripted TWAMP server ---------------------------------- */

/* twampy_probe fakeserver HOST STEP...: listens on HOST:0 (TCP), prints
 * "listening on PORT", takes one connection and runs the steps:
 *   greeting=MODES[:COUNT]  send a Server Greeting offering MODES, with the
 *                      key derivation Count COUNT (default 1024)
 *   hex=HEX            send raw octets
 *   setup[=MODE]       read a Set-Up-Response ("set-up-response mode M")
 *   serverstart=A      send Server-Start with Accept A
 *   request            read a Request-TW-Session ("request-tw-session ipvn V
 *                      sender port S receiver port R padding P type-p 0xT")
 *   accept=A[:PORT]    send Accept-Session with Accept A and port PORT (default 9)
 *   startsessions, startack=A, stopsessions   read / send / read
 *   slow               send every later message one octet per write
 *   close              close the connection and exit at once
 * Without close it then waits up to 30 s for the client to close ("client
 * closed after S s, N more octets"). */
static int cmd_fakeserver(int argc, char **argv)
{
    if (argc < 1)
        usage("fakeserver takes HOST STEP...");
    struct addr local = make_addr(argv[0], "0");
    int lfd = socket(local.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        fail("socket: %s", strerror(errno));
    if (bind(lfd, (const struct sockaddr *)&local.ss, local.len) < 0 || listen(lfd, 4) < 0)
        fail("bind/listen: %s", strerror(errno));
    printf("listening on %u\n", local_port(lfd));
    fflush(stdout);
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 20000) != 1)
        fail("no connection within 20 s");
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        fail("accept: %s", strerror(errno));
    close(lfd);
    printf("connection accepted\n");
    fflush(stdout);
    static uint8_t b[65536];
    bool slow = false;
    for (int i = 1; i < argc; i++) {
        const char *st = argv[i], *v;
        if (step_is(st, "slow", &v)) {
            slow = true;
            printf("sending one octet per write from now on\n");
        } else if (step_is(st, "greeting", &v) && v) {
            memset(b, 0, 64);
            char modes[32];
            unsigned long long count = 1024;
            const char *colon = strchr(v, ':');
            snprintf(modes, sizeof modes, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
            if (colon)
                count = (unsigned long long)num("greeting count", colon + 1, 0, UINT32_MAX);
            tw_put32(b + 12, (uint32_t)num("greeting", modes, 0, UINT32_MAX));
            for (int k = 16; k < 48; k++)
                b[k] = (uint8_t)(k * 37 + 11); /* challenge and salt */
            tw_put32(b + 48, (uint32_t)count); /* count */
            tcp_send(fd, b, 64, slow, "Server Greeting");
            printf("sent greeting modes %s\n", v);
        } else if (step_is(st, "hex", &v) && v) {
            size_t n = parse_hex(v, b, sizeof b);
            tcp_send(fd, b, n, slow, "raw octets");
            printf("sent %zu raw octets\n", n);
        } else if (step_is(st, "setup", &v)) {
            tcp_recv(fd, b, 164, "Set-Up-Response");
            printf("set-up-response mode %" PRIu32 "\n", tw_get32(b));
            if (v && tw_get32(b) != (uint32_t)num("setup", v, 0, UINT32_MAX))
                fail("Set-Up-Response mode %" PRIu32 ", expected %s", tw_get32(b), v);
        } else if (step_is(st, "serverstart", &v) && v) {
            memset(b, 0, 48);
            b[15] = (uint8_t)num("serverstart", v, 0, 255);
            for (int k = 16; k < 32; k++)
                b[k] = (uint8_t)k; /* Server-IV */
            tw_put64(b + 32, ntp_now());
            tcp_send(fd, b, 48, slow, "Server-Start");
            printf("sent server-start accept %s\n", v);
        } else if (step_is(st, "request", &v)) {
            tcp_recv(fd, b, 112, "Request-TW-Session");
            printf("request-tw-session command %u ipvn %u sender port %u receiver port %u "
                   "padding %" PRIu32 " type-p 0x%08" PRIx32 "\n",
                   b[0], b[1] & 0x0f, tw_get16(b + 12), tw_get16(b + 14), tw_get32(b + 64),
                   tw_get32(b + 84));
        } else if (step_is(st, "accept", &v) && v) {
            unsigned a, port = 9;
            char extra;
            int n = sscanf(v, "%u:%u%c", &a, &port, &extra);
            if ((n != 1 && n != 2) || a > 255 || port > 65535)
                usage("accept=A[:PORT], not '%s'", v);
            memset(b, 0, 48);
            b[0] = (uint8_t)a;
            tw_put16(b + 2, (uint16_t)port);
            for (int k = 4; k < 20; k++)
                b[k] = (uint8_t)(k * 13); /* SID */
            tcp_send(fd, b, 48, slow, "Accept-Session");
            printf("sent accept-session accept %u port %u\n", a, port);
        } else if (step_is(st, "startsessions", &v)) {
            tcp_recv(fd, b, 32, "Start-Sessions");
            printf("start-sessions command %u\n", b[0]);
            if (b[0] != 2)
                fail("expected Start-Sessions (command 2), got command %u", b[0]);
        } else if (step_is(st, "startack", &v) && v) {
            memset(b, 0, 32);
            b[0] = (uint8_t)num("startack", v, 0, 255);
            tcp_send(fd, b, 32, slow, "Start-Ack");
            printf("sent start-ack accept %s\n", v);
        } else if (step_is(st, "stopsessions", &v)) {
            tcp_recv(fd, b, 32, "Stop-Sessions");
            printf("stop-sessions command %u sessions %" PRIu32 "\n", b[0], tw_get32(b + 4));
            if (b[0] != 3)
                fail("expected Stop-Sessions (command 3), got command %u", b[0]);
        } else if (step_is(st, "close", &v)) {
            close(fd);
            printf("closed\n");
            return 0;
        } else {
            usage("unknown fakeserver step '%s'", st);
        }
        fflush(stdout);
    }
    size_t extra;
    double t = tcp_wait_eof(fd, 30, &extra, false);
    if (t < 0)
        fail("the client kept the connection open for 30 s after the script");
    printf("client closed after %.3f s, %zu more octets\n", t, extra);
    close(fd);
    return 0;
}

/* ---- flip: a relay that alters one octet in flight ------------------------- */

/* twampy_probe flip udp LHOST THOST TPORT [--offset N] [--every N] [--dir req|rep]
 *   A UDP relay: binds LHOST:0, prints "listening on PORT", and forwards each
 *   datagram from its client (the latest source) to THOST:TPORT (TPORT 0: the
 *   port it listens on, on THOST) from a second socket on LHOST, and each
 *   answer back to the client. Every Nth datagram (default 1: each) of the
 *   direction --dir (req: towards THOST, default; rep: back) has octet --offset
 *   (default 0) XORed with 0x01 when it is that long.
 * twampy_probe flip tcp LHOST THOST TPORT [--offset N]
 *   A TCP relay for one connection: listens on LHOST:0, prints "listening on
 *   PORT", connects to THOST:TPORT for its client and relays both ways; octet
 *   --offset of the client's stream (counted from its first octet) is XORed
 *   with 0x01; without --offset nothing is altered.
 * Both stop on SIGTERM/SIGINT, after 60 s without traffic, or (tcp) when
 * either side closes, printing "relayed A octets|datagrams to the server, B
 * back, flipped F" on stdout, and exit 0. */
static void flip_summary(const char *unit, unsigned long long fwd, unsigned long long back,
                         unsigned long long flipped)
{
    printf("relayed %llu %s to the server, %llu back, flipped %llu\n", fwd, unit, back, flipped);
    fflush(stdout);
}

static int flip_udp(struct addr *listen_a, struct addr *target, long offset, long every, bool req)
{
    int lfd = socket(listen_a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (const struct sockaddr *)&listen_a->ss, listen_a->len) < 0)
        fail("bind: %s", strerror(errno));
    uint16_t lport = local_port(lfd);
    if (addr_port(target) == 0)
        set_port(target, lport);
    struct addr up = *listen_a;
    set_port(&up, 0);
    int ufd = socket(up.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ufd < 0 || bind(ufd, (const struct sockaddr *)&up.ss, up.len) < 0)
        fail("bind the upstream socket: %s", strerror(errno));
    printf("listening on %u\n", lport);
    fflush(stdout);
    struct sockaddr_storage client;
    socklen_t clen = 0;
    unsigned long long fwd = 0, back = 0, flipped = 0;
    static uint8_t b[BUF_LEN];
    double idle_until = mono_s() + 60;
    while (!got_term && mono_s() < idle_until) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = ufd, .events = POLLIN}};
        int r = poll(p, 2, 200);
        if (r < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        if (r <= 0)
            continue;
        idle_until = mono_s() + 60;
        if (p[0].revents & POLLIN) {
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(lfd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
            if (n >= 0) {
                client = from;
                clen = fl;
                fwd++;
                if (req && fwd % (unsigned long)every == 0 && offset < n) {
                    b[offset] ^= 0x01;
                    flipped++;
                }
                sendto(ufd, b, (size_t)n, 0, (const struct sockaddr *)&target->ss, target->len);
            }
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = recv(ufd, b, sizeof b, 0);
            if (n >= 0 && clen) {
                back++;
                if (!req && back % (unsigned long)every == 0 && offset < n) {
                    b[offset] ^= 0x01;
                    flipped++;
                }
                sendto(lfd, b, (size_t)n, 0, (const struct sockaddr *)&client, clen);
            }
        }
    }
    flip_summary("datagrams", fwd, back, flipped);
    return 0;
}

/* Write all of buf to fd (blocking). */
static void write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the peer is gone: the relay ends on its EOF */
        buf += n;
        len -= (size_t)n;
    }
}

static int flip_tcp(const struct addr *listen_a, const struct addr *target, long offset)
{
    int lfd = socket(listen_a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (const struct sockaddr *)&listen_a->ss, listen_a->len) < 0 ||
        listen(lfd, 4) < 0)
        fail("bind/listen: %s", strerror(errno));
    printf("listening on %u\n", local_port(lfd));
    fflush(stdout);
    unsigned long long fwd = 0, back = 0, flipped = 0;
    struct pollfd lp = {.fd = lfd, .events = POLLIN};
    double deadline = mono_s() + 60;
    while (!got_term && poll(&lp, 1, 200) <= 0)
        if (mono_s() > deadline)
            fail("no connection within 60 s");
    if (got_term) {
        flip_summary("octets", 0, 0, 0);
        return 0;
    }
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0)
        fail("accept: %s", strerror(errno));
    close(lfd);
    int sfd = socket(target->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sfd < 0 || connect(sfd, (const struct sockaddr *)&target->ss, target->len) < 0)
        fail("connect to the server: %s", strerror(errno));
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static uint8_t b[BUF_LEN];
    double idle_until = mono_s() + 60;
    while (!got_term && mono_s() < idle_until) {
        struct pollfd p[2] = {{.fd = cfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        int r = poll(p, 2, 200);
        if (r < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        if (r <= 0)
            continue;
        idle_until = mono_s() + 60;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(cfd, b, sizeof b, 0);
            if (n <= 0)
                break;
            if (offset >= 0 && (unsigned long long)offset >= fwd &&
                (unsigned long long)offset < fwd + (unsigned long long)n) {
                b[offset - (long)fwd] ^= 0x01;
                flipped++;
            }
            fwd += (unsigned long long)n;
            write_all(sfd, b, (size_t)n);
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(sfd, b, sizeof b, 0);
            if (n <= 0)
                break;
            back += (unsigned long long)n;
            write_all(cfd, b, (size_t)n);
        }
    }
    close(cfd);
    close(sfd);
    flip_summary("octets", fwd, back, flipped);
    return 0;
}

static int cmd_flip(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[0], "udp") && strcmp(argv[0], "tcp")))
        usage("flip takes udp|tcp LHOST THOST TPORT [options]");
    bool tcp = !strcmp(argv[0], "tcp");
    struct addr listen_a = make_addr(argv[1], "0");
    struct addr target = make_addr(argv[2], argv[3]);
    long offset = tcp ? -1 : 0, every = 1;
    bool req = true;
    for (int i = 4; i < argc; i++) {
        if (i + 1 >= argc)
            usage("%s needs a value", argv[i]);
        if (!strcmp(argv[i], "--offset"))
            offset = num("--offset", argv[++i], 0, 1L << 30);
        else if (!strcmp(argv[i], "--every") && !tcp)
            every = num("--every", argv[++i], 1, 1000000);
        else if (!strcmp(argv[i], "--dir") && !tcp) {
            i++;
            if (strcmp(argv[i], "req") && strcmp(argv[i], "rep"))
                usage("--dir req|rep, not '%s'", argv[i]);
            req = !strcmp(argv[i], "req");
        } else
            usage("unknown flip option '%s'", argv[i]);
    }
    if (listen_a.ss.ss_family != target.ss.ss_family)
        usage("LHOST and THOST must be of one family");
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    /* No SA_RESTART: a signal ends the poll() at once. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return tcp ? flip_tcp(&listen_a, &target, offset)
               : flip_udp(&listen_a, &target, offset, every, req);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage("a subcommand is required");
    subcmd = argv[1];
    if (!strcmp(subcmd, "-h") || !strcmp(subcmd, "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(subcmd, "lengths"))
        return cmd_lengths(argc - 2, argv + 2);
    if (!strcmp(subcmd, "reflect"))
        return cmd_reflect(argc - 2, argv + 2);
    if (!strcmp(subcmd, "request"))
        return cmd_request(argc - 2, argv + 2);
    if (!strcmp(subcmd, "srcaddr"))
        return cmd_srcaddr(argc - 2, argv + 2);
    if (!strcmp(subcmd, "send"))
        return cmd_send(argc - 2, argv + 2);
    if (!strcmp(subcmd, "freeport"))
        return cmd_freeport(argc - 2, argv + 2);
    if (!strcmp(subcmd, "tcp"))
        return cmd_tcp(argc - 2, argv + 2);
    if (!strcmp(subcmd, "fakeserver"))
        return cmd_fakeserver(argc - 2, argv + 2);
    if (!strcmp(subcmd, "flip"))
        return cmd_flip(argc - 2, argv + 2);
    usage("unknown subcommand '%s'", subcmd);
}
