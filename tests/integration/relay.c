/* twampy_relay: a UDP relay for the integration tests that sits between a
 * Session-Sender and a reflector on loopback and impairs one direction on
 * command: drops, duplicates, delays or reorders packets.
 *
 *   twampy_relay LISTEN_PORT TARGET_PORT [--host ADDR] [--inbound]
 *                [--drop-every N] [--dup-every N] [--swap-every N]
 *                [--delay-every N --delay-ms MS]
 *
 * The sender sends to LISTEN_PORT (0: the kernel chooses; the relay prints
 * "listening on PORT" once bound), the relay forwards to TARGET_PORT from a
 * socket of its own and the replies back to the sender's address. The
 * impairments apply to the k-th packet (1-based) of the outbound direction, or
 * of the replies with --inbound, whenever k is a multiple of N:
 *   --drop-every N   drop it
 *   --dup-every N    forward it twice
 *   --swap-every N   hold it and forward it right after the next packet (or
 *                    after 200 ms when none comes)
 *   --delay-every N  hold it for --delay-ms MS
 * A packet is dropped, else swapped, else delayed; duplication applies to
 * whatever is forwarded. On SIGINT or SIGTERM it prints its counters,
 * "relay: forwarded F dropped D duplicated U swapped S delayed L", and exits 0.
 * ADDR is a loopback literal (default 127.0.0.1). Exit status 2 on a usage
 * error, 1 on a socket error; it never runs longer than 120 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_LEN 65536
#define MAX_HELD 4096
#define SWAP_HOLD_MS 200
#define LIFETIME_S 120

struct held {
    int64_t due_ms;
    int to_target; /* 1: to the target, 0: to the sender */
    bool swap;     /* waits for the next packet */
    size_t len;
    uint8_t *buf;
};

static volatile sig_atomic_t stop;
static struct held held[MAX_HELD];
static int nheld;
static unsigned long n_fwd, n_drop, n_dup, n_swap, n_delay;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static __attribute__((noreturn)) void usage(const char *msg)
{
    fprintf(stderr,
            "twampy_relay: %s\n"
            "usage: twampy_relay LISTEN_PORT TARGET_PORT [--host ADDR] [--inbound]\n"
            "       [--drop-every N] [--dup-every N] [--swap-every N]\n"
            "       [--delay-every N --delay-ms MS]\n",
            msg);
    exit(2);
}

static __attribute__((noreturn)) void die(const char *what)
{
    fprintf(stderr, "twampy_relay: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long number(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        usage("bad number");
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sock_fd, target_fd; /* the sender's side, the target's side */
static struct sockaddr_storage sender;
static socklen_t sender_len;
static bool have_sender;

static void out(int to_target, const uint8_t *buf, size_t len)
{
    ssize_t r;
    if (to_target)
        r = send(target_fd, buf, len, 0);
    else if (have_sender)
        r = sendto(sock_fd, buf, len, 0, (struct sockaddr *)&sender, sender_len);
    else
        return;
    if (r < 0 && errno != ECONNREFUSED)
        die("send");
    n_fwd++;
}

static void hold(int to_target, const uint8_t *buf, size_t len, int64_t due, bool swap)
{
    if (nheld == MAX_HELD) {
        out(to_target, buf, len);
        return;
    }
    struct held *h = &held[nheld++];
    h->due_ms = due;
    h->to_target = to_target;
    h->swap = swap;
    h->len = len;
    h->buf = malloc(len ? len : 1);
    if (!h->buf)
        die("malloc");
    memcpy(h->buf, buf, len);
}

/* Send the held packets that are due (all with force), in the order held. */
static void release(int64_t now, bool force)
{
    int w = 0;
    for (int i = 0; i < nheld; i++) {
        if (force || held[i].due_ms <= now) {
            out(held[i].to_target, held[i].buf, held[i].len);
            free(held[i].buf);
        } else {
            held[w++] = held[i];
        }
    }
    nheld = w;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage("two ports needed");
    long listen_port = number(argv[1], 0, 65535), target_port = number(argv[2], 1, 65535);
    const char *host = "127.0.0.1";
    bool inbound = false;
    long drop = 0, dup = 0, swap = 0, delay_every = 0, delay_ms = 0;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--inbound")) {
            inbound = true;
            continue;
        }
        if (i + 1 >= argc)
            usage("an option needs a value");
        const char *v = argv[++i];
        if (!strcmp(o, "--host"))
            host = v;
        else if (!strcmp(o, "--drop-every"))
            drop = number(v, 1, 1000000);
        else if (!strcmp(o, "--dup-every"))
            dup = number(v, 1, 1000000);
        else if (!strcmp(o, "--swap-every"))
            swap = number(v, 1, 1000000);
        else if (!strcmp(o, "--delay-every"))
            delay_every = number(v, 1, 1000000);
        else if (!strcmp(o, "--delay-ms"))
            delay_ms = number(v, 0, 60000);
        else
            usage("unknown option");
    }
    if (delay_every && !delay_ms)
        usage("--delay-every needs --delay-ms");

    struct sockaddr_storage la, ta;
    socklen_t alen;
    memset(&la, 0, sizeof la);
    memset(&ta, 0, sizeof ta);
    int fam;
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&la)->sin_addr) == 1) {
        fam = AF_INET;
        alen = sizeof(struct sockaddr_in);
        ((struct sockaddr_in *)&la)->sin_port = htons((uint16_t)listen_port);
        ((struct sockaddr_in *)&ta)->sin_addr = ((struct sockaddr_in *)&la)->sin_addr;
        ((struct sockaddr_in *)&ta)->sin_port = htons((uint16_t)target_port);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&la)->sin6_addr) == 1) {
        fam = AF_INET6;
        alen = sizeof(struct sockaddr_in6);
        ((struct sockaddr_in6 *)&la)->sin6_port = htons((uint16_t)listen_port);
        ((struct sockaddr_in6 *)&ta)->sin6_addr = ((struct sockaddr_in6 *)&la)->sin6_addr;
        ((struct sockaddr_in6 *)&ta)->sin6_port = htons((uint16_t)target_port);
    } else {
        usage("--host must be an IPv4 or IPv6 literal");
    }
    la.ss_family = ta.ss_family = (sa_family_t)fam;
    sock_fd = socket(fam, SOCK_DGRAM, 0);
    target_fd = socket(fam, SOCK_DGRAM, 0);
    if (sock_fd < 0 || target_fd < 0)
        die("socket");
    if (bind(sock_fd, (struct sockaddr *)&la, alen) < 0)
        die("bind");
    if (connect(target_fd, (struct sockaddr *)&ta, alen) < 0)
        die("connect");
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(sock_fd, (struct sockaddr *)&bound, &blen) < 0)
        die("getsockname");
    unsigned port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                         : ((struct sockaddr_in6 *)&bound)->sin6_port);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("listening on %u\n", port);
    fflush(stdout);

    static uint8_t buf[BUF_LEN];
    unsigned long k = 0; /* packets seen in the impaired direction */
    int64_t end = now_ms() + LIFETIME_S * 1000;
    while (!stop && now_ms() < end) {
        int64_t now = now_ms(), wait = 1000;
        for (int i = 0; i < nheld; i++)
            if (held[i].due_ms - now < wait)
                wait = held[i].due_ms - now;
        struct pollfd p[2] = {{sock_fd, POLLIN, 0}, {target_fd, POLLIN, 0}};
        int n = poll(p, 2, wait < 0 ? 0 : (int)wait);
        if (n < 0 && errno != EINTR)
            die("poll");
        for (int s = 0; s < 2 && n > 0; s++) {
            if (!(p[s].revents & (POLLIN | POLLERR)))
                continue;
            struct sockaddr_storage from;
            socklen_t flen = sizeof from;
            ssize_t len =
                recvfrom(p[s].fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
            if (len < 0) {
                if (errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR)
                    continue;
                die("recvfrom");
            }
            int to_target = s == 0;
            if (to_target) {
                sender = from;
                sender_len = flen;
                have_sender = true;
            }
            if (to_target == inbound) {
                out(to_target, buf, (size_t)len); /* the direction left alone */
                continue;
            }
            k++;
            if (drop && k % (unsigned long)drop == 0) {
                n_drop++;
                continue;
            }
            int copies = dup && k % (unsigned long)dup == 0 ? 2 : 1;
            if (copies == 2)
                n_dup++;
            if (swap && k % (unsigned long)swap == 0) {
                n_swap++;
                for (int c = 0; c < copies; c++)
                    hold(to_target, buf, (size_t)len, now_ms() + SWAP_HOLD_MS, true);
                continue;
            }
            if (delay_every && k % (unsigned long)delay_every == 0) {
                n_delay++;
                for (int c = 0; c < copies; c++)
                    hold(to_target, buf, (size_t)len, now_ms() + delay_ms, false);
                continue;
            }
            for (int c = 0; c < copies; c++)
                out(to_target, buf, (size_t)len);
            /* A packet held for a swap goes right after this one. */
            for (int i = 0; i < nheld; i++)
                if (held[i].swap)
                    held[i].due_ms = 0;
            release(now_ms(), false);
        }
        release(now_ms(), false);
    }
    release(now_ms(), true);
    printf("relay: forwarded %lu dropped %lu duplicated %lu swapped %lu delayed %lu\n", n_fwd,
           n_drop, n_dup, n_swap, n_delay);
    fflush(stdout);
    return 0;
}
