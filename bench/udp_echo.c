/* udp_echo: the reference for the reflector benchmark. The least a UDP reflector
 * can do: one thread, blocking recvmmsg of up to 64 datagrams, then sendmmsg of
 * each one, unchanged, back to its source. No timestamps, no control messages,
 * no per-sender state.
 *
 * usage: udp_echo [HOST [PORT]]   (default 127.0.0.1 0 = a free port)
 * Prints "listening on PORT" on stdout once bound; SIGINT/SIGTERM stop it and
 * print its counters on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSIZE 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "udp_echo: bad IPv4 address '%s'\n", host);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) {
        perror("udp_echo: socket");
        return 1;
    }
    /* The same socket buffers as twampy's responder asks for. */
    int bufsize = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("udp_echo: bind");
        return 1;
    }
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("udp_echo: getsockname");
        return 1;
    }

    /* No SA_RESTART: a signal interrupts the blocking recvmmsg. */
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);

    static uint8_t buf[BATCH][BUFSIZE];
    static struct sockaddr_in peer[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr msg[BATCH];

    printf("listening on %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);

    unsigned long long received = 0, echoed = 0, send_errors = 0;
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
            if (errno == EINTR)
                continue;
            perror("udp_echo: recvmmsg");
            return 1;
        }
        received += (unsigned)n;
        /* Send each datagram back as received: msg_len becomes the iov length. */
        for (int i = 0; i < n; i++)
            iov[i].iov_len = msg[i].msg_len;
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msg + done, (unsigned)(n - done), 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                send_errors++;
                done++; /* drop the one that cannot go, go on with the rest */
                continue;
            }
            done += r;
            echoed += (unsigned)r;
        }
    }
    fprintf(stderr, "udp_echo: %llu received, %llu echoed, %llu send errors\n", received, echoed,
            send_errors);
    close(fd);
    return 0;
}
