/* hashflood: CPU per packet of the reflector's per-sender table when one host
 * crafts its (port, SSID) keys, against random keys (finding 7 of issue 9).
 *
 * usage: hashflood [-n KEYS] [-r ROUNDS] [-m MAX_SENDERS]
 *
 * The crafted keys are the attack on the table twampy had up to 2ee7dd2: an
 * unkeyed 32-bit FNV-1a over (address, port, SSID), max_senders 65536 in
 * 131072 hash chains. From one address (127.0.0.1) there are 2^32 (port, SSID)
 * pairs; KEYS of them (default 20000) are chosen so that their FNV-1a falls in
 * chain 0, found by running FNV-1a's last steps backwards (its low bits depend
 * only on low bits). Each key is a 44-octet STAMP request (MBZ zero, so the
 * SSID is part of the key) answered through tw_reflector_answer (no I/O):
 * one round inserts the keys, ROUNDS more (default 5) are timed with the
 * thread's CPU clock. The same for KEYS random pairs. Prints:
 *   crafted_ns_per_pkt=N random_ns_per_pkt=N ratio=F keys=N
 * A keyed hash with bounded buckets keeps the ratio near 1; the old chains
 * made it about 80. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "ntptime.h"
#include "reflector.h"
#include "wire.h"

#define FNV_PRIME 16777619u
#define FNV_BASIS 2166136261u

/* The old key's octets: address (16), port (network order), SSID (host
 * order, little-endian here), family, one octet of padding. */
static uint32_t old_fnv(uint16_t port, uint16_t ssid)
{
    uint8_t k[22] = {127, 0, 0, 1};
    k[16] = (uint8_t)(port >> 8);
    k[17] = (uint8_t)port;
    k[18] = (uint8_t)ssid;
    k[19] = (uint8_t)(ssid >> 8);
    k[20] = AF_INET;
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < sizeof k; i++)
        h = (h ^ k[i]) * FNV_PRIME;
    return h;
}

/* n (port, SSID) pairs whose old_fnv() & mask is 0. */
static int craft(uint16_t *ports, uint16_t *ssids, int n, uint32_t mask)
{
    uint32_t inv = FNV_PRIME; /* FNV_PRIME^-1 mod 2^32 by Newton's iteration */
    for (int i = 0; i < 5; i++)
        inv *= 2 - FNV_PRIME * inv;
    /* Backwards from hash 0: before "^ 0, * P" and "^ AF_INET, * P", the state
     * must be y (mod mask + 1) right after the SSID's first octet went in
     * and before "^ ssid_hi, * P". */
    uint32_t y = (((0u * inv) ^ 0u) * inv ^ AF_INET) * inv;
    uint32_t h_a = FNV_BASIS;
    static const uint8_t a[16] = {127, 0, 0, 1};
    for (int i = 0; i < 16; i++)
        h_a = (h_a ^ a[i]) * FNV_PRIME;
    int got = 0;
    for (uint32_t port = 1024; port < 65536 && got < n; port++) {
        uint32_t h_p = ((h_a ^ (port >> 8)) * FNV_PRIME ^ (port & 0xff)) * FNV_PRIME;
        for (uint32_t lo = 0; lo < 256 && got < n; lo++) {
            uint32_t h1 = (h_p ^ lo) * FNV_PRIME;
            uint32_t d = (h1 ^ y) & mask;
            if (d >> 8)
                continue; /* the high octet of the SSID cannot fix bits above 8 */
            uint16_t ssid = (uint16_t)(lo | d << 8);
            if ((old_fnv((uint16_t)port, ssid) & mask) != 0) {
                fprintf(stderr, "hashflood: crafting is wrong\n");
                exit(1);
            }
            ports[got] = (uint16_t)port;
            ssids[got] = ssid;
            got++;
        }
    }
    return got;
}

static int64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * TW_NS_PER_SEC + t.tv_nsec;
}

static uint8_t buf[2048];

/* One round of requests, one per key. */
static void round_of(tw_reflector_t *r, const uint16_t *ports, const uint16_t *ssids, int n,
                     uint32_t seq)
{
    for (int i = 0; i < n; i++) {
        memset(buf, 0, 44);
        tw_put32(buf, seq);
        tw_put16(buf + 12, 0x0001);
        tw_put16(buf + 14, ssids[i]);
        tw_pkt_t p;
        memset(&p, 0, sizeof p);
        p.buf = buf;
        p.len = 44;
        p.cap = sizeof buf;
        struct sockaddr_in *s = (struct sockaddr_in *)&p.peer;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s->sin_port = htons(ports[i]);
        p.peer_len = sizeof *s;
        p.ttl = 64;
        if (tw_reflector_answer(r, &p) != 44) {
            fprintf(stderr, "hashflood: no reply\n");
            exit(1);
        }
    }
}

/* CPU ns per packet over rounds after the first, with a fresh reflector. */
static double measure(tw_loop_t *loop, uint32_t max_senders, const uint16_t *ports,
                      const uint16_t *ssids, int n, int rounds)
{
    tw_reflector_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in *s = (struct sockaddr_in *)&cfg.local;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.local_len = sizeof *s;
    cfg.sockopts.ttl = 64;
    cfg.max_senders = max_senders;
    tw_reflector_t *r;
    char err[256];
    if (tw_reflector_open(&r, &cfg, loop, err, sizeof err) < 0) {
        fprintf(stderr, "hashflood: %s\n", err);
        exit(1);
    }
    round_of(r, ports, ssids, n, 1);
    int64_t t0 = cpu_ns();
    for (int k = 0; k < rounds; k++)
        round_of(r, ports, ssids, n, 2 + (uint32_t)k);
    int64_t t1 = cpu_ns();
    tw_reflector_close(r);
    return (double)(t1 - t0) / ((double)n * rounds);
}

int main(int argc, char **argv)
{
    int n = 20000, rounds = 5, opt;
    uint32_t max_senders = 65536;
    while ((opt = getopt(argc, argv, "n:r:m:")) != -1) {
        switch (opt) {
        case 'n':
            n = atoi(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'm':
            max_senders = (uint32_t)atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: hashflood [-n KEYS] [-r ROUNDS] [-m MAX_SENDERS]\n");
            return 2;
        }
    }
    if (n < 1 || rounds < 1 || max_senders < 1)
        return 2;
    tw_log_set_level(TW_LOG_OFF);
    uint32_t hsize = 1; /* the old table's number of chains */
    while (hsize < max_senders * 2 && hsize < (1u << 30))
        hsize <<= 1;
    uint16_t *cp = calloc((size_t)n, 2), *cs = calloc((size_t)n, 2);
    uint16_t *rp = calloc((size_t)n, 2), *rs = calloc((size_t)n, 2);
    if (!cp || !cs || !rp || !rs)
        return 1;
    if (craft(cp, cs, n, hsize - 1) != n) {
        fprintf(stderr, "hashflood: could not craft %d keys\n", n);
        return 1;
    }
    srand(1);
    for (int i = 0; i < n; i++) {
        rp[i] = (uint16_t)(1024 + rand() % 64512);
        rs[i] = (uint16_t)rand();
    }
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        return 1;
    double crafted = measure(loop, max_senders, cp, cs, n, rounds);
    double random = measure(loop, max_senders, rp, rs, n, rounds);
    printf("crafted_ns_per_pkt=%.0f random_ns_per_pkt=%.0f ratio=%.2f keys=%d max_senders=%u\n",
           crafted, random, random > 0 ? crafted / random : 0, n, max_senders);
    tw_loop_free(loop);
    return 0;
}
