/* pacing: how close to its schedule a sender sends (bench/run.sh part (f)).
 *
 *   pacing sink INTERVAL_NS COUNT
 *       binds 127.0.0.1:0 and prints "listening on PORT"; echoes every
 *       datagram back as it came (so a sender's receive path runs too) and
 *       notes the kernel's receive timestamp of the datagram whose first four
 *       octets say sequence number k. It stops COUNT datagrams after the
 *       first, or 1 s after the last one, and prints
 *         received=N late_p50_ns=.. late_p99_ns=.. late_max_ns=..
 *       where late(k) = rx(k) - (t0 + k * INTERVAL_NS) and t0 is the earliest
 *       rx(k) - k * INTERVAL_NS: how much later than its place on the
 *       schedule each packet arrived (loopback adds the same few us to all,
 *       which t0 takes away). Exit 1 when nothing arrived.
 *   pacing send PORT INTERVAL_NS COUNT
 *       the reference sender: COUNT 41-octet datagrams to 127.0.0.1:PORT
 *       numbered 0, 1, ... on an absolute schedule, as twampy's sender keeps
 *       one: every packet that is due is sent (sendto each), then
 *       clock_nanosleep(TIMER_ABSTIME) to the next one; echoes are read and
 *       dropped. Nothing but the schedule: what the kernel and the machine
 *       allow.
 * Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static int64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int big = 64 << 20, one = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int sink(int64_t interval, long count)
{
    int fd = udp();
    if (fd < 0) {
        perror("pacing: socket");
        return 2;
    }
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    printf("listening on %u\n", ntohs(a.sin_port));
    fflush(stdout);
    int64_t *rx = malloc((size_t)count * sizeof *rx);
    if (!rx)
        return 2;
    for (long i = 0; i < count; i++)
        rx[i] = -1;
    static uint8_t buf[BATCH][2048];
    static union {
        struct cmsghdr align;
        uint8_t b[128];
    } ctl[BATCH];
    struct mmsghdr mm[BATCH], out[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in peer[BATCH];
    long got = 0, total = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, total ? 1000 : 60000) != 1)
            break;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){buf[i], sizeof buf[i]};
            mm[i].msg_hdr = (struct msghdr){.msg_name = &peer[i],
                                            .msg_namelen = sizeof peer[i],
                                            .msg_iov = &iov[i],
                                            .msg_iovlen = 1,
                                            .msg_control = ctl[i].b,
                                            .msg_controllen = sizeof ctl[i].b};
        }
        int n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            int64_t t = -1;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                }
            if (mm[i].msg_len >= 4) {
                uint32_t k;
                memcpy(&k, buf[i], 4);
                k = ntohl(k);
                if (k < (uint32_t)count && rx[k] < 0 && t >= 0) {
                    rx[k] = t;
                    got++;
                }
            }
            out[i].msg_hdr = (struct msghdr){.msg_name = &peer[i],
                                             .msg_namelen = mm[i].msg_hdr.msg_namelen,
                                             .msg_iov = &iov[i],
                                             .msg_iovlen = 1};
            iov[i].iov_len = mm[i].msg_len;
        }
        sendmmsg(fd, out, (unsigned)n, MSG_DONTWAIT);
        total += n;
        if (total >= count)
            break;
    }
    if (!got) {
        printf("received=0\n");
        return 1;
    }
    int64_t t0 = INT64_MAX;
    for (long k = 0; k < count; k++)
        if (rx[k] >= 0 && rx[k] - k * interval < t0)
            t0 = rx[k] - k * interval;
    int64_t *late = malloc((size_t)got * sizeof *late);
    long m = 0;
    for (long k = 0; k < count && late; k++)
        if (rx[k] >= 0)
            late[m++] = rx[k] - (t0 + k * interval);
    if (!late)
        return 2;
    qsort(late, (size_t)m, sizeof *late, cmp64);
    printf("received=%ld late_p50_ns=%lld late_p99_ns=%lld late_max_ns=%lld\n", m,
           (long long)late[m / 2], (long long)late[(m * 99) / 100], (long long)late[m - 1]);
    free(late);
    free(rx);
    close(fd);
    return 0;
}

static int send_ref(int port, int64_t interval, long count)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("pacing: socket");
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* as twampy's loop does */
    uint8_t pkt[41] = {0}, junk[2048];
    int64_t due = now_ns(CLOCK_MONOTONIC);
    for (long k = 0; k < count;) {
        int64_t now = now_ns(CLOCK_MONOTONIC);
        while (k < count && due <= now) {
            uint32_t s = htonl((uint32_t)k);
            memcpy(pkt, &s, 4);
            if (send(fd, pkt, sizeof pkt, 0) < 0 && errno != EAGAIN && errno != ENOBUFS)
                return 1;
            k++;
            due += interval;
        }
        while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
            ;
        struct timespec t = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
        if (k < count)
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "sink"))
        return sink(atoll(argv[2]) > 0 ? atoll(argv[2]) : 1, atol(argv[3]) > 0 ? atol(argv[3]) : 1);
    if (argc == 5 && !strcmp(argv[1], "send"))
        return send_ref(atoi(argv[2]), atoll(argv[3]) > 0 ? atoll(argv[3]) : 1,
                        atol(argv[4]) > 0 ? atol(argv[4]) : 1);
    fprintf(stderr, "usage: pacing sink INTERVAL_NS COUNT | pacing send PORT INTERVAL_NS COUNT\n");
    return 2;
}
