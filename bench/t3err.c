/* t3err: how far the reflector's t3 (the Timestamp it writes into a reply) is
 * from the moment the kernel sends that reply, at full load.
 *
 * usage: t3err [-n COUNT] [-w WINDOW] [-c CPU] TWAMPY [responder options...]
 *
 * Starts `TWAMPY responder 127.0.0.1:0 [options]` (pinned to CPU with -c), takes
 * a copy of its UDP socket with pidfd_getfd(2) and switches on the kernel's
 * software transmit timestamps on it (SO_TIMESTAMPING, OPT_ID: the k-th datagram
 * the socket sends after that has id k). Nothing in the responder changes: the
 * timestamps go to the socket's error queue, which only this tool reads. Then it
 * floods 41-octet TWAMP light requests from one socket with WINDOW outstanding
 * (the reflector reads full batches) until COUNT replies have come back. The
 * responder is stateful, so a reply's reflector sequence number is its index
 * among the replies it sent: the id of its transmit timestamp.
 *
 * Prints one line:
 *   matched=N min=NS p1=NS p50=NS p99=NS max=NS abs_p50=NS abs_p99=NS abs_max=NS
 *   pps=N
 * of err = t3 written - kernel transmit time, in ns (negative: t3 is early),
 * over the replies that have both (the kernel may drop a timestamp when the
 * error queue is full; those replies are left out). pps: replies per second.
 * Loopback only. Exit status 0, or 1 when the tool cannot run. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ntptime.h"
#include "wire.h"

#define BATCH 64
#define PKT_LEN 41
#define RX_BUFSIZE 2048

static pid_t child;

static void die(const char *what)
{
    fprintf(stderr, "t3err: %s: %s\n", what, strerror(errno));
    if (child > 0)
        kill(child, SIGKILL);
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: t3err [-n COUNT] [-w WINDOW] [-c CPU] TWAMPY [responder options...]\n");
    exit(2);
}

/* Start the responder with its stderr on a pipe; returns the pipe. */
static int spawn(const char *twampy, int cpu, char **extra, int nextra)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        die("pipe");
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        char *argv[64];
        int a = 0;
        argv[a++] = (char *)twampy;
        argv[a++] = "responder";
        argv[a++] = "127.0.0.1:0";
        for (int i = 0; i < nextra && a < 63; i++)
            argv[a++] = extra[i];
        argv[a] = NULL;
        execv(twampy, argv);
        _exit(127);
    }
    close(pfd[1]);
    return pfd[0];
}

/* Read the responder's log until it says where it listens. */
static int wait_port(int fd)
{
    static char buf[8192];
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) {
            fprintf(stderr, "t3err: the responder did not say where it listens\n");
            kill(child, SIGKILL);
            exit(1);
        }
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0) {
            buf[n] = 0;
            fprintf(stderr, "t3err: the responder stopped: %s\n", buf);
            exit(1);
        }
        n += (size_t)r;
        buf[n] = 0;
        const char *s = strstr(buf, "Wait to receive test packets on 127.0.0.1:");
        if (s && strchr(s, '\n'))
            return atoi(s + strlen("Wait to receive test packets on 127.0.0.1:"));
        if (n == sizeof buf - 1)
            n = 0;
    }
}

/* A copy of the responder's UDP socket bound to 127.0.0.1:port. */
static int grab_socket(int port)
{
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    if (pidfd < 0)
        die("pidfd_open");
    for (int tfd = 3; tfd < 256; tfd++) {
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, tfd, 0);
        if (fd < 0)
            continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int type = 0;
        socklen_t tl = sizeof type;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET &&
            ntohs(((struct sockaddr_in *)&ss)->sin_port) == port &&
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM) {
            close(pidfd);
            return fd;
        }
        close(fd);
    }
    errno = ENOENT;
    die("finding the responder's socket");
    return -1;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

int main(int argc, char **argv)
{
    long count = 200000, window = 2048;
    int cpu = -1, opt;
    while ((opt = getopt(argc, argv, "+n:w:c:")) != -1) {
        switch (opt) {
        case 'n':
            count = atol(optarg);
            break;
        case 'w':
            window = atol(optarg);
            break;
        case 'c':
            cpu = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (optind >= argc || count < 1 || window < 1)
        usage();
    signal(SIGPIPE, SIG_IGN);
    int logfd = spawn(argv[optind], cpu, argv + optind + 1, argc - optind - 1);
    int port = wait_port(logfd);
    int rfd = grab_socket(port);
    int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                SOF_TIMESTAMPING_OPT_TSONLY;
    if (setsockopt(rfd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0)
        die("SO_TIMESTAMPING on the responder's socket");

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        die("socket");
    int bufsize = 16 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");

    int64_t *t3 = calloc((size_t)count, sizeof *t3);
    int64_t *tx = calloc((size_t)count, sizeof *tx);
    int64_t *err = calloc((size_t)count, sizeof *err);
    if (!t3 || !tx || !err)
        die("calloc");

    static uint8_t txbuf[BATCH][PKT_LEN];
    static uint8_t rxbuf[BATCH][RX_BUFSIZE];
    static struct iovec txiov[BATCH], rxiov[BATCH];
    static struct mmsghdr txm[BATCH], rxm[BATCH];
    for (int i = 0; i < BATCH; i++) {
        txiov[i] = (struct iovec){txbuf[i], PKT_LEN};
        txm[i].msg_hdr.msg_iov = &txiov[i];
        txm[i].msg_hdr.msg_iovlen = 1;
        rxiov[i] = (struct iovec){rxbuf[i], RX_BUFSIZE};
        rxm[i].msg_hdr.msg_iov = &rxiov[i];
        rxm[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t sent = 0, received = 0;
    long tx_seen = 0, tx_late = 0;
    uint32_t seq = 1; /* not 0: a stateful reflector restarts its count on sseq 0 */
    int64_t start = tw_mono_now(), last = start;
    while ((long)received < count) {
        bool busy = false;
        if (sent < (uint64_t)count && sent - received < (uint64_t)window) {
            uint64_t room = (uint64_t)window - (sent - received);
            if (room > (uint64_t)count - sent)
                room = (uint64_t)count - sent;
            int k = room < BATCH ? (int)room : BATCH;
            for (int i = 0; i < k; i++) {
                tw_sender_pkt_t p = {.seq = seq + (uint32_t)i,
                                     .timestamp = tw_time_to_ntp(tw_now()),
                                     .errest = 0x0001};
                tw_sender_encode(&p, false, txbuf[i], PKT_LEN);
            }
            int r = sendmmsg(fd, txm, (unsigned)k, MSG_DONTWAIT);
            if (r > 0) {
                sent += (uint64_t)r;
                seq += (uint32_t)r;
                busy = true;
            }
        }
        int n = recvmmsg(fd, rxm, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            tw_reflector_pkt_t rep;
            if (tw_reflector_decode(rxbuf[i], rxm[i].msg_len, &rep) == TW_WIRE_OK &&
                rep.seq < (uint64_t)count)
                t3[rep.seq] = tw_ntp_to_time(rep.timestamp);
        }
        if (n > 0) {
            received += (uint64_t)n;
            busy = true;
            last = tw_mono_now();
        }
        /* The transmit timestamps of the responder's replies. */
        for (;;) {
            char ctl[512];
            char dummy[64];
            struct iovec iov = {dummy, sizeof dummy};
            struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
            if (recvmsg(rfd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
                break;
            int64_t ts = -1;
            long id = -1;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
                    struct scm_timestamping st;
                    memcpy(&st, CMSG_DATA(c), sizeof st);
                    ts = (int64_t)st.ts[0].tv_sec * TW_NS_PER_SEC + st.ts[0].tv_nsec;
                } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                           (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                    struct sock_extended_err ee;
                    memcpy(&ee, CMSG_DATA(c), sizeof ee);
                    if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING)
                        id = (long)ee.ee_data;
                }
            }
            if (ts > 0 && id >= 0 && id < count) {
                tx[id] = ts;
                tx_seen++;
            }
            busy = true;
        }
        if (!busy) {
            struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = rfd, .events = 0}};
            poll(p, 2, 5);
            if (tw_mono_now() - last > 2 * TW_NS_PER_SEC) {
                /* Lost replies: stop with what came back. */
                tx_late++;
                break;
            }
        }
    }
    double secs = (double)(last - start) / 1e9;
    kill(child, SIGINT);
    waitpid(child, NULL, 0);

    size_t m = 0;
    for (long i = 0; i < count; i++) {
        if (t3[i] && tx[i])
            err[m++] = t3[i] - tx[i];
    }
    if (!m) {
        fprintf(stderr, "t3err: no reply matched a transmit timestamp\n");
        return 1;
    }
    qsort(err, m, sizeof *err, cmp64);
    int64_t lo = pct(err, m, 0), p1 = pct(err, m, 0.01), p50 = pct(err, m, 0.5),
            p99 = pct(err, m, 0.99), hi = pct(err, m, 1);
    for (size_t i = 0; i < m; i++)
        err[i] = err[i] < 0 ? -err[i] : err[i];
    qsort(err, m, sizeof *err, cmp64);
    printf("matched=%zu min=%lld p1=%lld p50=%lld p99=%lld max=%lld abs_p50=%lld abs_p99=%lld "
           "abs_max=%lld pps=%.0f received=%llu stopped_early=%ld\n",
           m, (long long)lo, (long long)p1, (long long)p50, (long long)p99, (long long)hi,
           (long long)pct(err, m, 0.5), (long long)pct(err, m, 0.99), (long long)pct(err, m, 1),
           secs > 0 ? (double)received / secs : 0, (unsigned long long)received, tx_late);
    return 0;
}
