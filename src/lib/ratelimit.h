/* ratelimit: a token bucket per source, for what a remote party (or someone
 * spoofing its address) can make us send.
 *
 * Sources are IPv4 addresses and IPv6 /64 prefixes (one IPv6 host usually has
 * a whole /64 to choose addresses from). Each gets a bucket of burst tokens,
 * refilled at pps per second; a packet takes one token or is refused. The
 * buckets live in a tw_peertable (keyed hash, bounded buckets): a flood of
 * sources costs fixed memory and O(1) per packet, and a source forgotten to
 * make room starts again with a full bucket. Implemented as GCRA (one
 * theoretical arrival time per source, in integer nanoseconds). */
#ifndef TWAMPY_RATELIMIT_H
#define TWAMPY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "peertable.h"

#define TW_RATELIMIT_MAX_PPS 1000000

typedef struct tw_ratelimit {
    tw_peertable_t table;
    int64_t interval_ns; /* one token every interval_ns */
    int64_t tau_ns;      /* (burst - 1) * interval_ns: how far ahead a source may be */
    uint64_t refused;
} tw_ratelimit_t;

/* pps 1..TW_RATELIMIT_MAX_PPS tokens per second, burst >= 1 tokens, for up to
 * capacity sources at once. Returns 0, or -1 with errno. */
int tw_ratelimit_init(tw_ratelimit_t *rl, uint32_t pps, uint32_t burst, uint32_t capacity);
void tw_ratelimit_free(tw_ratelimit_t *rl);

/* Take a token for a packet from src at now (a monotonic clock in ns): true
 * when it may be answered, false (and counted in refused) when over the rate. */
bool tw_ratelimit_allow(tw_ratelimit_t *rl, const struct sockaddr_storage *src, int64_t now);

#endif
