/* udp_echo: the reference for the reflector benchmark. The least a UDP reflector
 * can do: one thread, blocking recvmmsg of up to 64 datagrams, then sendmmsg of
 * each one, unchanged, back to its source. No timestamps, no control messages,
 * no per-sender state.
 *
 * usage: udp_echo [HOST [PORT [WORKERS]]]   (default 127.0.0.1 0 = a free port, 1)
 * WORKERS > 1: that many threads, each with its own SO_REUSEPORT socket on the
 * same port (the kernel spreads the flows over them by their addresses), as
 * `twampy responder --workers N` does: the reference for its multi-core bench.
 * Prints "listening on PORT" on stdout once bound; SIGINT/SIGTERM stop it and
 * print its counters on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BATCH 64
#define BUFSIZE 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct worker {
    int fd;
    unsigned long long received, echoed, send_errors;
    pthread_t thread;
};

static void *echo(void *arg)
{
    struct worker *w = arg;
    int fd = w->fd;
    static _Thread_local uint8_t buf[BATCH][BUFSIZE];
    static _Thread_local struct sockaddr_in peer[BATCH];
    static _Thread_local struct iovec iov[BATCH];
    static _Thread_local struct mmsghdr msg[BATCH];
    while (!stop) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = BUFSIZE;
            memset(&msg[i].msg_hdr, 0, sizeof msg[i].msg_hdr);
            msg[i].msg_hdr.msg_name = &peer[i];
            msg[i].msg_hdr.msg_namelen = sizeof peer[i];
            msg[i].msg_hdr.msg_iov = &iov[i];
            msg[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("udp_echo: recvmmsg");
            exit(1);
        }
        w->received += (unsigned)n;
        /* Send each datagram back as received: msg_len becomes the iov length. */
        for (int i = 0; i < n; i++)
            iov[i].iov_len = msg[i].msg_len;
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msg + done, (unsigned)(n - done), 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                w->send_errors++;
                done++; /* drop the one that cannot go, go on with the rest */
                continue;
            }
            done += r;
            w->echoed += (unsigned)r;
        }
    }
    return NULL;
}

static int open_socket(struct sockaddr_in *sa, bool reuseport)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) {
        perror("udp_echo: socket");
        exit(1);
    }
    /* The same socket buffers as twampy's responder asks for. */
    int bufsize = 4 << 20, one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        perror("udp_echo: SO_REUSEPORT");
        exit(1);
    }
    /* A receive timeout, so that a worker whose socket gets nothing still sees
     * the stop flag (the signal interrupts only one thread). */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0) {
        perror("udp_echo: bind");
        exit(1);
    }
    socklen_t sl = sizeof *sa;
    if (getsockname(fd, (struct sockaddr *)sa, &sl) < 0) {
        perror("udp_echo: getsockname");
        exit(1);
    }
    return fd;
}

#define MAX_WORKERS 64

int main(int argc, char **argv)
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 0;
    int workers = argc > 3 ? atoi(argv[3]) : 1;
    if (workers < 1 || workers > MAX_WORKERS) {
        fprintf(stderr, "udp_echo: WORKERS is 1 to %d\n", MAX_WORKERS);
        return 2;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "udp_echo: bad IPv4 address '%s'\n", host);
        return 2;
    }
    static struct worker w[MAX_WORKERS];
    for (int i = 0; i < workers; i++) /* the first picks the port, the others share it */
        w[i].fd = open_socket(&sa, workers > 1);

    /* No SA_RESTART: a signal interrupts the blocking recvmmsg. */
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);

    printf("listening on %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);

    for (int i = 1; i < workers; i++) {
        if (pthread_create(&w[i].thread, NULL, echo, &w[i]) != 0) {
            fprintf(stderr, "udp_echo: cannot start a thread\n");
            return 1;
        }
    }
    echo(&w[0]);
    unsigned long long received = w[0].received, echoed = w[0].echoed,
                       send_errors = w[0].send_errors;
    for (int i = 1; i < workers; i++) {
        pthread_join(w[i].thread, NULL);
        received += w[i].received;
        echoed += w[i].echoed;
        send_errors += w[i].send_errors;
    }
    fprintf(stderr, "udp_echo: %llu received, %llu echoed, %llu send errors (%d workers)\n",
            received, echoed, send_errors, workers);
    for (int i = 0; i < workers; i++)
        close(w[i].fd);
    return 0;
}
