/* twampy_hostile: hostile traffic for a reflector, on loopback only.
 *
 *   twampy_hostile lengths HOST PORT     every length 0..65507, valid headers with
 *                                        random padding, then random bytes: a reply
 *                                        only for >= 14 octets and never longer than
 *                                        max(request, 41)
 *   twampy_hostile conns HOST PORT N     N TCP connections to a TWAMP server at
 *                                        once; counts the greetings offering
 *                                        modes and those refusing (modes 0)
 *   twampy_hostile flood HOST PORT N PID N requests from N distinct source
 *                                        addresses and ports; prints the reflector's
 *                                        RSS after N/5 and after N (kB)
 *
 * Every receive is bounded; exit 0 when every check held, 1 with one FAIL line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_UDP 65507
#define SYNC_SEQ 0xFEEDF00Du

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("twampy_hostile: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static struct sockaddr_in target(const char *host, const char *port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127)
        fail("only 127.0.0.0/8 addresses: '%s'", host);
    a.sin_port = htons((uint16_t)atoi(port));
    return a;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Send a 41-octet sync request and read replies until its own comes back;
 * every other reply is checked against the largest length allowed. Returns
 * how many other replies came. */
static int sync_replies(int fd, const struct sockaddr_in *to, size_t sent_len, bool want_reply)
{
    static uint8_t buf[MAX_UDP + 1];
    uint8_t s[41] = {0};
    put32(s, SYNC_SEQ);
    s[12] = 0x00;
    s[13] = 0x01;
    if (sendto(fd, s, sizeof s, 0, (const struct sockaddr *)to, sizeof *to) != (ssize_t)sizeof s)
        fail("send sync: %s", strerror(errno));
    size_t allowed = sent_len > 41 ? sent_len : 41;
    int others = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 5000) != 1)
            fail("no reply to the sync request after a %zu-octet request: is the reflector alive?",
                 sent_len);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0)
            fail("recv: %s", strerror(errno));
        if (n >= 28 && get32(buf + 24) == SYNC_SEQ)
            break;
        others++;
        if ((size_t)n > allowed)
            fail("a %zu-octet request got a %zd-octet reply (more than max(request, 41) = %zu)",
                 sent_len, n, allowed);
        if (!want_reply)
            fail("a %zu-octet request (shorter than 14 octets) got a %zd-octet reply", sent_len, n);
    }
    return others;
}

static int cmd_lengths(const char *host, const char *port)
{
    struct sockaddr_in to = target(host, port);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    static uint8_t pkt[MAX_UDP];
    long replies = 0, silent = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t len = 0; len <= MAX_UDP; len += (len < 9300 ? 1 : 97)) {
            for (size_t i = 0; i < len; i++)
                pkt[i] = rnd8();
            if (pass == 0 && len >= 14) {
                put32(pkt, (uint32_t)len); /* a valid header, hostile padding */
                pkt[12] = 0;
                pkt[13] = 1;
            }
            if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len)
                fail("send %zu octets: %s", len, strerror(errno));
            int got = sync_replies(fd, &to, len, len >= 14);
            replies += got;
            if (len >= 14 && got != 1)
                fail("a %zu-octet request got %d replies, expected 1", len, got);
            if (len < 14)
                silent++;
        }
    }
    printf("lengths: %ld replies, each within max(request, 41); %ld short datagrams unanswered\n",
           replies, silent);
    return 0;
}

static long rss_kb(const char *pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        fail("cannot read %s", path);
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int cmd_flood(const char *host, const char *port, long n, const char *pid)
{
    struct sockaddr_in to = target(host, port);
    int sync = socket(AF_INET, SOCK_DGRAM, 0);
    long checkpoint = n / 5;
    long rss_early = -1;
    uint8_t pkt[41] = {0};
    pkt[13] = 1;
    for (long i = 0; i < n; i++) {
        /* a distinct source: 127.(1 + i / 65536).(i / 256 % 256).(i % 256), any port */
        struct sockaddr_in src;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr =
            htonl((127u << 24) | ((uint32_t)(1 + i / 65536) << 16) | (uint32_t)(i % 65536));
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
            fail("bind source %ld: %s", i, strerror(errno));
        put32(pkt, (uint32_t)i);
        if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) !=
            (ssize_t)sizeof pkt)
            fail("send: %s", strerror(errno));
        close(fd);
        if (i + 1 == checkpoint || i + 1 == n) {
            sync_replies(sync, &to, 41, true); /* everything before is processed */
            long kb = rss_kb(pid);
            printf("rss_kb after %ld senders: %ld\n", i + 1, kb);
            if (i + 1 == checkpoint)
                rss_early = kb;
        }
    }
    printf("rss_growth_kb: %ld\n", rss_kb(pid) - rss_early);
    return 0;
}

static int cmd_conns(const char *host, const char *port, int n)
{
    struct sockaddr_in to = target(host, port);
    int *fd = calloc((size_t)n, sizeof *fd);
    size_t *got = calloc((size_t)n, sizeof *got);
    uint8_t(*greet)[64] = calloc((size_t)n, 64);
    if (!fd || !got || !greet)
        fail("out of memory");
    for (int i = 0; i < n; i++) {
        fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd[i] < 0)
            fail("socket %d: %s (raise ulimit -n)", i, strerror(errno));
        if (connect(fd[i], (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)
            fail("connect %d: %s", i, strerror(errno));
    }
    /* Every connection gets its 64-octet greeting (or is closed) in time. */
    int done = 0, offered = 0, refused = 0, closed = 0;
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    for (int rounds = 0; done < n && rounds < 3000; rounds++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (got[i] < 64 && fd[i] >= 0)
                pfd[m++] = (struct pollfd){fd[i], POLLIN, 0};
        if (poll(pfd, (nfds_t)m, 10) < 0)
            fail("poll: %s", strerror(errno));
        for (int k = 0; k < m; k++) {
            if (!pfd[k].revents)
                continue;
            int i = 0;
            while (fd[i] != pfd[k].fd)
                i++;
            ssize_t r = recv(fd[i], greet[i] + got[i], 64 - got[i], 0);
            if (r > 0)
                got[i] += (size_t)r;
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                closed++;
                close(fd[i]);
                fd[i] = -1;
                done++;
                continue;
            }
            if (got[i] == 64) {
                done++;
                if (get32(greet[i] + 12) == 0)
                    refused++;
                else
                    offered++;
            }
        }
    }
    if (done < n)
        fail("%d of %d connections got no greeting within 30 s", n - done, n);
    printf("conns: %d connections: %d greetings with modes, %d with modes 0, %d closed "
           "without one\n",
           n, offered, refused, closed);
    for (int i = 0; i < n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(fd);
    free(got);
    free(greet);
    free(pfd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "lengths"))
        return cmd_lengths(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "conns"))
        return cmd_conns(argv[2], argv[3], atoi(argv[4]));
    if (argc == 6 && !strcmp(argv[1], "flood"))
        return cmd_flood(argv[2], argv[3], atol(argv[4]), argv[5]);
    fprintf(stderr, "usage: twampy_hostile lengths HOST PORT | conns HOST PORT N | flood HOST "
                    "PORT N PID\n");
    return 2;
}
