/* server_guard: the TWAMP server's defences against clients that want to lock
 * everyone else out, as small pieces with no sockets and no event loop:
 *
 *  - who a "source" is: an IPv4 address, or an IPv6 /64 (one host usually has
 *    a whole /64), for the per-source quotas;
 *  - a rate limiter per source with a fixed number of slots (GCRA: a burst,
 *    then one event per interval), for key derivations; when every slot is in
 *    use the one whose limit expired longest ago is reused, so the table never
 *    grows and cannot be flooded;
 *  - a budget of time: key derivations may take at most a share of the
 *    server's time on average, with a small burst;
 *  - whether a configuration's descriptors fit RLIMIT_NOFILE (raising the soft
 *    limit to the hard one first). */
#ifndef TWAMPY_SERVER_GUARD_H
#define TWAMPY_SERVER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- sources ------------------------------------------------------------ */

typedef struct tw_source {
    uint8_t family; /* AF_INET, AF_INET6, or 0 for anything else (one source) */
    uint8_t addr[8];
} tw_source_t;

/* The source of a peer address (IPv4-mapped IPv6 counts as IPv4). */
void tw_source_of(const struct sockaddr_storage *ss, tw_source_t *out);
bool tw_source_eq(const tw_source_t *a, const tw_source_t *b);
/* "192.0.2.1", "2001:db8::/64", or "local". */
const char *tw_source_str(const tw_source_t *s, char *buf, size_t len);

/* ---- rate limiter per source -------------------------------------------- */

#define TW_RATE_SLOTS 64

typedef struct tw_rate {
    int64_t interval_ns; /* one event per interval ... */
    int burst;           /* ... after a burst of this many */
    struct {
        tw_source_t src;
        int64_t tat; /* theoretical arrival time (GCRA); 0: unused */
    } slot[TW_RATE_SLOTS];
} tw_rate_t;

void tw_rate_init(tw_rate_t *r, int64_t interval_ns, int burst);
/* Does src get one more event at now (tw_mono_now())? Takes it if so. */
bool tw_rate_take(tw_rate_t *r, const tw_source_t *src, int64_t now);

/* ---- budget of time ----------------------------------------------------- */

typedef struct tw_budget {
    int share_pct;    /* at most this share of the time on average */
    int64_t burst_ns; /* ahead of the average by at most this (in budget time) */
    int64_t tat;
} tw_budget_t;

void tw_budget_init(tw_budget_t *b, int share_pct, int64_t burst_ns);
/* May a piece of work start at now? */
bool tw_budget_allows(const tw_budget_t *b, int64_t now);
/* Work that started at start took cost ns. */
void tw_budget_spend(tw_budget_t *b, int64_t start, int64_t cost_ns);

/* ---- descriptors -------------------------------------------------------- */

/* Descriptors open in this process now (/proc/self/fd), or -1. */
int tw_fds_open(void);
/* Make sure `need` descriptors fit RLIMIT_NOFILE: when the soft limit is
 * lower, raise it to the hard limit. Returns 0, or -1 with the limit that is
 * too low in *limit (and errno's reason in err when getrlimit/setrlimit
 * failed). */
int tw_nofile_fit(long need, long *limit, char *err, size_t errlen);

#endif
