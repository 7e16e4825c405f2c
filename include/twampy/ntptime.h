/* ntptime: the one timestamp type, clocks, NTP/PTP wire formats, Error Estimate.
 *
 * Inside twampy every timestamp is a tw_time_t: signed 64-bit nanoseconds since
 * the Unix epoch on CLOCK_REALTIME (UTC). NTP and PTP formats exist only at the
 * wire boundary, as 64-bit words (seconds in the upper 32 bits). */
#ifndef TWAMPY_NTPTIME_H
#define TWAMPY_NTPTIME_H

#include <stdbool.h>
#include <stdint.h>

typedef int64_t tw_time_t;

#define TW_NS_PER_SEC 1000000000LL
#define TW_NS_PER_MS 1000000LL
#define TW_NS_PER_US 1000LL
/* Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
#define TW_NTP_UNIX_OFFSET 2208988800LL

/* CLOCK_REALTIME now, in ns since the Unix epoch. */
tw_time_t tw_now(void);
/* CLOCK_MONOTONIC now, in ns (for schedules and timers only, never on the wire). */
int64_t tw_mono_now(void);

/* tw_time_t <-> 64-bit NTP timestamp (32-bit seconds since 1900, 32-bit fraction).
 * Encoding rounds the fraction to the nearest 2^-32 s (carrying into the seconds).
 * Times at or after 2036-02-07 06:28:16 UTC wrap into NTP era 1, as RFC 5905 says.
 * Decoding resolves the era with the usual pivot: seconds with the top bit set are
 * era 0 (1968..2036), top bit clear is era 1 (2036..2104). */
uint64_t tw_time_to_ntp(tw_time_t t);
tw_time_t tw_ntp_to_time(uint64_t ntp);

/* tw_time_t <-> 64-bit PTPv2 truncated timestamp (32-bit seconds since the PTP
 * epoch 1970-01-01 TAI, 32-bit nanoseconds). tai_offset is TAI - UTC in seconds. */
uint64_t tw_time_to_ptp(tw_time_t t, int tai_offset);
tw_time_t tw_ptp_to_time(uint64_t ptp, int tai_offset);

/* Error Estimate (RFC 4656 §4.1.2): S | Z | Scale(6) | Multiplier(8).
 * error = Multiplier * 2^(Scale - 32) seconds. */
typedef struct tw_errest {
    bool sync;          /* S: clock synchronized to UTC */
    bool ptp;           /* Z: 1 = PTP timestamp format */
    uint8_t scale;      /* 0..63 */
    uint8_t multiplier; /* 1..255, never 0 */
} tw_errest_t;

uint16_t tw_errest_encode(const tw_errest_t *e);
tw_errest_t tw_errest_decode(uint16_t v);
/* The smallest (Scale, Multiplier) whose error is >= err_ns (Multiplier >= 1). */
tw_errest_t tw_errest_from_ns(uint64_t err_ns, bool sync, bool ptp);
/* The error an Error Estimate stands for, in ns (saturating at INT64_MAX). */
int64_t tw_errest_to_ns(const tw_errest_t *e);

/* The Error Estimate of this host's clock now, from adjtimex(2): S is set only
 * when the kernel says the clock is synchronized; the error is the kernel's
 * estimated error (plus the clock's resolution), or 1 s when it has none. */
tw_errest_t tw_clock_errest(bool ptp);

/* TAI - UTC in seconds: the kernel's value (adjtimex), or 37 when it has none. */
int tw_clock_tai_offset(void);

/* A point in time as a user gives it: "+SECONDS" (fractions allowed) after
 * now, or an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"
 * (a space may replace the T). Returns 0 with *out, or -1 for anything else. */
int tw_time_parse(const char *s, tw_time_t now, tw_time_t *out);

#endif
