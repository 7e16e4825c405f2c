/* blaster: load generator for the reflector benchmark. Sends valid 41-octet
 * TWAMP light Session-Sender packets (sequence number, NTP timestamp, Error
 * Estimate, zero padding) in sendmmsg batches as fast as a window of outstanding
 * packets allows, and takes the replies in recvmmsg batches, on one thread. The
 * window keeps the reflector's queue short, so that the figure is the reflector's
 * throughput and not how it drops.
 *
 * usage: blaster [-d SEC] [-W SEC] [-w WINDOW] [-f FLOWS] [-p SERVER_PID] [-c SERVER_CPU]
 *                HOST PORT
 *   -d  measured duration (default 5 s), after -W seconds of warm-up (default 0.5)
 *   -w  packets outstanding at most (default 2048), over all flows
 *   -f  flows (default 1): that many sockets, each its own source port, served in
 *       turn; a reflector with SO_REUSEPORT workers spreads flows over them
 *   -p  the reflector's PID: its CPU time over the measured interval is read from
 *       /proc/PID/stat (utime + stime) and /proc/PID/schedstat
 *   -c  the CPU the reflector is pinned to: how busy it was, and how much of it
 *       other processes (or the hypervisor) took, is read from /proc/stat
 *
 * Prints one line:
 *   pps=N cpu_ns_per_pkt=N sched_ns_per_pkt=N server_cpu=F
 *   server_core=F server_foreign=F server_steal=F client_cpu=F client_core=F
 *   client_foreign=F client_steal=F sent=N received=N lost=N stalls=N short=N
 *   duration=F window=N flows=N
 * pps: replies received per second over the measured interval.
 * cpu_ns_per_pkt: the reflector's utime + stime per reply (sched_ns_per_pkt: the
 *   same from schedstat, in ns rather than clock ticks). The loopback delivery of
 *   the replies it sends runs as softirq inside its sendmmsg calls and is part of
 *   it (on the kernels seen; with IRQ time accounting it would be apart).
 * server_cpu, client_cpu: the processes' CPU seconds per second.
 * *_core: busy fraction of the CPU (user, system, irq, softirq); *_foreign: the
 *   part of it that other processes took; *_steal: the fraction the hypervisor
 *   gave to other machines. foreign and steal measure the noise. client_* figures
 *   need this process pinned to one CPU.
 * lost: replies still missing a second after the end; stalls: times no reply
 *   came for 200 ms and the window was opened again.
 * Figures not measured are -1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ntptime.h"
#include "wire.h"

#define BATCH 64
#define PKT_LEN 41
#define RX_BUFSIZE 2048
/* No reply for this long with a full window outstanding: stop waiting for those
 * (they are late or lost) and send on. Long, as a shared VM can stall for tens of
 * milliseconds. */
#define STALL_NS (200 * TW_NS_PER_MS)
#define MAX_FLOWS 256

static void usage(void)
{
    fprintf(stderr, "usage: blaster [-d SEC] [-W SEC] [-w WINDOW] [-f FLOWS] [-p SERVER_PID] "
                    "[-c SERVER_CPU] HOST PORT\n");
    exit(2);
}

/* utime + stime of a process in ns (all its threads), or -1. */
static int64_t proc_cpu_ns(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long utime, stime;
    /* Fields 3..13 are skipped; 14 is utime, 15 stime. */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    return (int64_t)((utime + stime) * (TW_NS_PER_SEC / (unsigned long long)hz));
}

/* Time on CPU of a process's main thread in ns from /proc/PID/schedstat, or -1. */
static int64_t proc_sched_ns(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long ns;
    int ok = fscanf(f, "%llu", &ns) == 1;
    fclose(f);
    return ok ? (int64_t)ns : -1;
}

/* Time of one CPU from /proc/stat, in ns. */
struct cpu_sample {
    int64_t busy;  /* user, nice, system, irq, softirq */
    int64_t steal; /* the hypervisor ran something else */
    int64_t total; /* all of it, idle and iowait too */
};

/* false when unknown. */
static bool cpu_times(int cpu, struct cpu_sample *cs)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    char want[32], line[512];
    snprintf(want, sizeof want, "cpu%d ", cpu);
    bool ok = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) != 0)
            continue;
        unsigned long long v[10] = {0};
        int n = sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
        if (n < 5)
            break;
        /* user nice system idle iowait irq softirq steal; guest time is in user. */
        unsigned long long all = 0;
        for (int i = 0; i < 8 && i < n; i++)
            all += v[i];
        long hz = sysconf(_SC_CLK_TCK);
        int64_t tick = TW_NS_PER_SEC / (hz > 0 ? hz : 100);
        cs->total = (int64_t)all * tick;
        cs->busy = (int64_t)(v[0] + v[1] + v[2] + v[5] + v[6]) * tick;
        cs->steal = (int64_t)v[7] * tick;
        ok = true;
        break;
    }
    fclose(f);
    return ok;
}

/* The one CPU this process is pinned to, or -1. */
static int pinned_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) != 1)
        return -1;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (CPU_ISSET(i, &set))
            return i;
    }
    return -1;
}

static int64_t self_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * TW_NS_PER_SEC +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * TW_NS_PER_US;
}

static double parse_double(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    double duration = 5, warmup = 0.5;
    int window = 2048, pid = 0, server_cpu_id = -1, flows = 1, opt;
    while ((opt = getopt(argc, argv, "d:W:w:f:p:c:")) != -1) {
        switch (opt) {
        case 'd':
            duration = parse_double(optarg);
            break;
        case 'W':
            warmup = parse_double(optarg);
            break;
        case 'w':
            window = atoi(optarg);
            break;
        case 'f':
            flows = atoi(optarg);
            break;
        case 'p':
            pid = atoi(optarg);
            break;
        case 'c':
            server_cpu_id = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2 || window < 1 || duration <= 0 || flows < 1 || flows > MAX_FLOWS)
        usage();
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1 || !sa.sin_port)
        usage();

    static int fds[MAX_FLOWS];
    for (int f = 0; f < flows; f++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
        if (fd < 0) {
            perror("blaster: socket");
            return 1;
        }
        /* Room for a whole window of replies (each small datagram costs ~1 KiB of
         * receive buffer); SO_RCVBUFFORCE goes past rmem_max when root. */
        int bufsize = 16 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof bufsize) < 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            perror("blaster: connect");
            return 1;
        }
        fds[f] = fd;
    }
    int cur = 0; /* the flow whose turn it is to send */

    static uint8_t txbuf[BATCH][PKT_LEN];
    static uint8_t rxbuf[BATCH][RX_BUFSIZE];
    static struct iovec txiov[BATCH], rxiov[BATCH];
    static struct mmsghdr tx[BATCH], rx[BATCH];
    for (int i = 0; i < BATCH; i++) {
        txiov[i].iov_base = txbuf[i];
        txiov[i].iov_len = PKT_LEN;
        tx[i].msg_hdr.msg_iov = &txiov[i];
        tx[i].msg_hdr.msg_iovlen = 1;
        rxiov[i].iov_base = rxbuf[i];
        rxiov[i].iov_len = RX_BUFSIZE;
        rx[i].msg_hdr.msg_iov = &rxiov[i];
        rx[i].msg_hdr.msg_iovlen = 1;
    }
    tw_errest_t ee = tw_clock_errest(false);
    uint16_t errest = tw_errest_encode(&ee);

    uint64_t sent = 0, received = 0, written_off = 0, stalls = 0, short_replies = 0;
    uint32_t seq = 0;
    int64_t t0 = tw_mono_now();
    int64_t t_start = t0 + (int64_t)(warmup * 1e9);
    int64_t t_end = t_start + (int64_t)(duration * 1e9);
    int64_t t_drain = t_end + TW_NS_PER_SEC;
    int64_t last_rx = t0;
    bool measuring = false, sending = true;
    uint64_t rx_at_start = 0, rx_at_end = 0;
    int64_t cpu_start = -1, cpu_end = -1, sched_start = -1, sched_end = -1;
    int64_t self_start = 0, self_end = 0, m_start = 0, m_end = 0;
    int client_cpu_id = pinned_cpu();
    /* [0] the server's CPU, [1] this process's; at start and end. */
    struct cpu_sample cs[2][2];
    bool cok[2] = {false, false};

    for (;;) {
        int64_t now = tw_mono_now();
        if (!measuring && sending && now >= t_start) {
            measuring = true;
            rx_at_start = received;
            m_start = now;
            self_start = self_cpu_ns();
            cok[0] = server_cpu_id >= 0 && cpu_times(server_cpu_id, &cs[0][0]);
            cok[1] = client_cpu_id >= 0 && cpu_times(client_cpu_id, &cs[1][0]);
            if (pid) {
                cpu_start = proc_cpu_ns(pid);
                sched_start = proc_sched_ns(pid);
            }
        }
        if (measuring && now >= t_end) {
            measuring = false;
            sending = false;
            rx_at_end = received;
            m_end = now;
            self_end = self_cpu_ns();
            for (int c = 0; c < 2; c++) {
                if (cok[c])
                    cok[c] = cpu_times(c ? client_cpu_id : server_cpu_id, &cs[c][1]);
            }
            if (pid) {
                cpu_end = proc_cpu_ns(pid);
                sched_end = proc_sched_ns(pid);
            }
        }
        /* Drain: wait for every reply, including those given up on in a stall. */
        if (!sending && (received >= sent || now >= t_drain))
            break;
        uint64_t outstanding = sent > received + written_off ? sent - received - written_off : 0;

        bool busy = false;
        if (sending && outstanding < (uint64_t)window) {
            uint64_t room = (uint64_t)window - outstanding;
            int k = room < BATCH ? (int)room : BATCH;
            for (int i = 0; i < k; i++) {
                tw_sender_pkt_t p = {
                    .seq = seq + (uint32_t)i,
                    .timestamp = tw_time_to_ntp(tw_now()),
                    .errest = errest,
                };
                tw_sender_encode(&p, false, txbuf[i], PKT_LEN);
            }
            int r = sendmmsg(fds[cur], tx, (unsigned)k, MSG_DONTWAIT);
            cur = (cur + 1) % flows;
            if (r > 0) {
                sent += (uint64_t)r;
                seq += (uint32_t)r;
                busy = true;
            } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                       errno != ECONNREFUSED && errno != ENOBUFS) {
                perror("blaster: sendmmsg");
                return 1;
            }
        }
        for (int f = 0; f < flows; f++) {
            for (int i = 0; i < BATCH; i++)
                rxiov[i].iov_len = RX_BUFSIZE;
            int n = recvmmsg(fds[f], rx, BATCH, MSG_DONTWAIT, NULL);
            if (n > 0) {
                for (int i = 0; i < n; i++) {
                    if (rx[i].msg_len < TW_SENDER_MIN_LEN)
                        short_replies++;
                }
                received += (uint64_t)n;
                last_rx = now;
                busy = true;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                       errno != ECONNREFUSED) {
                perror("blaster: recvmmsg");
                return 1;
            }
        }
        if (!busy) {
            static struct pollfd pfd[MAX_FLOWS];
            for (int f = 0; f < flows; f++)
                pfd[f] = (struct pollfd){.fd = fds[f], .events = POLLIN};
            poll(pfd, (nfds_t)flows, 5);
            now = tw_mono_now();
            outstanding = sent > received + written_off ? sent - received - written_off : 0;
            if (sending && outstanding && now - last_rx > STALL_NS) {
                /* The reflector dropped them (or is not there): open the window. */
                written_off += outstanding;
                stalls++;
                last_rx = now;
            }
        }
    }
    uint64_t lost = sent > received ? sent - received : 0;
    double secs = (double)(m_end - m_start) / 1e9;
    uint64_t rx_meas = rx_at_end - rx_at_start;
    double pps = secs > 0 ? (double)rx_meas / secs : 0;
    double cpu_ns = -1, sched_ns = -1, server_cpu = -1;
    if (cpu_start >= 0 && cpu_end >= 0 && rx_meas) {
        cpu_ns = (double)(cpu_end - cpu_start) / (double)rx_meas;
        server_cpu = (double)(cpu_end - cpu_start) / 1e9 / secs;
    }
    if (sched_start >= 0 && sched_end >= 0 && rx_meas)
        sched_ns = (double)(sched_end - sched_start) / (double)rx_meas;
    double client_cpu = secs > 0 ? (double)(self_end - self_start) / 1e9 / secs : 0;
    /* Per CPU: busy, foreign (busy but not the process: other processes, the
     * noise) and steal, as fractions of the interval. */
    double busy[2] = {-1, -1}, foreign[2] = {-1, -1}, steal[2] = {-1, -1};
    int64_t proc_ns[2] = {cpu_start >= 0 && cpu_end >= 0 ? cpu_end - cpu_start : -1,
                          self_end - self_start};
    for (int c = 0; c < 2; c++) {
        int64_t dt = cok[c] ? cs[c][1].total - cs[c][0].total : 0;
        if (dt <= 0)
            continue;
        int64_t b = cs[c][1].busy - cs[c][0].busy;
        busy[c] = (double)b / (double)dt;
        steal[c] = (double)(cs[c][1].steal - cs[c][0].steal) / (double)dt;
        if (proc_ns[c] >= 0) {
            double f = (double)(b - proc_ns[c]) / (double)dt;
            foreign[c] = f < 0 ? 0 : f;
        }
    }
    printf("pps=%.0f cpu_ns_per_pkt=%.0f sched_ns_per_pkt=%.0f "
           "server_cpu=%.2f server_core=%.2f server_foreign=%.2f server_steal=%.2f "
           "client_cpu=%.2f client_core=%.2f client_foreign=%.2f client_steal=%.2f sent=%llu "
           "received=%llu lost=%llu stalls=%llu short=%llu duration=%.3f window=%d flows=%d\n",
           pps, cpu_ns, sched_ns, server_cpu, busy[0], foreign[0], steal[0], client_cpu, busy[1],
           foreign[1], steal[1], (unsigned long long)sent, (unsigned long long)received,
           (unsigned long long)lost, (unsigned long long)stalls, (unsigned long long)short_replies,
           secs, window, flows);
    for (int f = 0; f < flows; f++)
        close(fds[f]);
    return received ? 0 : 1;
}
