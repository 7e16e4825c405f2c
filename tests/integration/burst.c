/* twampy_burst: a TWAMP light reflector that holds its replies, to make a
 * Session-Sender's receive buffer overflow on command (local drops, issue 12).
 *
 *   twampy_burst N
 *
 * Binds 127.0.0.1:0 and prints "listening on PORT"; takes N requests and
 * prints "holding N"; on SIGUSR1 sends the replies to the first N - 1 at once
 * and prints "burst sent"; on a second SIGUSR1 waits until the sender's socket
 * has nothing left to read (its receive queue in /proc/net/udp, found by the
 * requests' source port), sends the last reply and prints "done", then exits
 * 0. The replies are numbered as a stateful reflector that
 * had answered 5 packets of another sender before and received every request
 * would number them: a reply that goes missing is lost inbound. Exit 1 on a socket error or when a
 * step waits more than 60 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntptime.h"
#include "wire.h"

#define STEP_MS 60000

struct held {
    tw_sender_pkt_t req;
    tw_time_t rx;
    struct sockaddr_storage peer;
    socklen_t peer_len;
};

static void die(const char *what)
{
    fprintf(stderr, "twampy_burst: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void wait_usr1(const sigset_t *set)
{
    struct timespec t = {.tv_sec = STEP_MS / 1000};
    if (sigtimedwait(set, NULL, &t) != SIGUSR1)
        die("no SIGUSR1");
}

/* The receive queue of the IPv4 UDP socket bound to port on 127.0.0.1
 * (/proc/net/udp), or -1 when there is none. */
static long rx_queue(unsigned port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f)
        return -1;
    char line[512];
    long q = -1;
    while (q < 0 && fgets(line, sizeof line, f)) {
        unsigned addr, lport;
        unsigned long txq, rxq;
        if (sscanf(line, " %*d: %8x:%4x %*8x:%*4x %*2x %8lx:%8lx", &addr, &lport, &txq, &rxq) ==
                4 &&
            lport == port && addr == htonl(INADDR_LOOPBACK))
            q = (long)rxq;
    }
    fclose(f);
    return q;
}

static void reply(int fd, const struct held *h)
{
    uint8_t buf[TW_REFLECTOR_BASE_LEN];
    tw_reflector_pkt_t r = {.seq = h->req.seq + 5, /* a stateful count (5 before ours) */
                            .timestamp = tw_time_to_ntp(tw_now()),
                            .errest = 0x8001,
                            .rx_time = tw_time_to_ntp(h->rx),
                            .sender_seq = h->req.seq,
                            .sender_time = h->req.timestamp,
                            .sender_errest = h->req.errest,
                            .sender_ttl = 64};
    tw_reflector_encode(&r, false, buf, sizeof buf);
    if (sendto(fd, buf, sizeof buf, 0, (const struct sockaddr *)&h->peer, h->peer_len) < 0)
        die("sendto");
}

int main(int argc, char **argv)
{
    long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
    if (n < 2 || n > 1000000) {
        fprintf(stderr, "usage: twampy_burst N (2..1000000)\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int big = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0)
        die("socket");
    printf("listening on %u\n", ntohs(a.sin_port));
    fflush(stdout);
    struct held *h = calloc((size_t)n, sizeof *h);
    if (!h)
        die("calloc");
    for (long i = 0; i < n;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, STEP_MS) != 1)
            die("no request");
        uint8_t buf[2048];
        h[i].peer_len = sizeof h[i].peer;
        ssize_t len =
            recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&h[i].peer, &h[i].peer_len);
        if (len < 0)
            die("recvfrom");
        h[i].rx = tw_now();
        if (tw_sender_decode(buf, (size_t)len, &h[i].req) == TW_WIRE_OK)
            i++;
    }
    printf("holding %ld\n", n);
    fflush(stdout);
    wait_usr1(&set);
    for (long i = 0; i < n - 1; i++)
        reply(fd, &h[i]);
    printf("burst sent\n");
    fflush(stdout);
    wait_usr1(&set);
    unsigned port = ntohs(((struct sockaddr_in *)&h[n - 1].peer)->sin_port);
    for (int i = 0; rx_queue(port) != 0; i++) {
        if (i > STEP_MS)
            die("the sender's receive queue never emptied");
        struct timespec ms = {.tv_nsec = 1000000};
        nanosleep(&ms, NULL); /* polling a condition, not timing anything */
    }
    reply(fd, &h[n - 1]);
    printf("done\n");
    free(h);
    close(fd);
    return 0;
}
