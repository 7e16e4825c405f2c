/* phc: a NIC's hardware clock (PTP Hardware Clock, /dev/ptpN) turned into
 * system time.
 *
 * A NIC stamps packets with its own clock, in its own time scale (TAI where
 * ptp4l disciplines it, whatever it started at otherwise) and at its own rate.
 * Such a stamp cannot be set against a reflector's UTC timestamps as it is:
 * tw_phc_t keeps a small table of (PHC time, system time) pairs, each read
 * with PTP_SYS_OFFSET_EXTENDED (several PHC reads, each between two system
 * clock reads; the one in the narrowest window wins, as chrony's hwclock.c
 * and linuxptp's sysoff do), and converts a PHC time to CLOCK_REALTIME along
 * the least-squares line through the table (offset and frequency). It refuses
 * to convert far outside the table (TW_PHC_MAX_EXTRAP_NS) and starts the table
 * again when the PHC is stepped (a sample off the line by TW_PHC_STEP_NS).
 *
 * The samples come from a source function, so a test feeds a made-up table.
 * Nothing here allocates; tw_phc_update does one ioctl, tw_phc_to_sys none. */
#ifndef TWAMPY_PHC_H
#define TWAMPY_PHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntptime.h"

/* One reading of the PHC against the system clock. */
typedef struct tw_phc_sample {
    tw_time_t phc;  /* the PHC's time, ns */
    tw_time_t sys;  /* CLOCK_REALTIME at the same instant (middle of the window), ns */
    int64_t window; /* width of the system-time window around the PHC read, ns */
} tw_phc_sample_t;

/* Takes one sample: 0 with *out filled, or a negative errno. */
typedef int (*tw_phc_source_fn)(void *arg, tw_phc_sample_t *out);

#define TW_PHC_TABLE 16                            /* samples kept */
#define TW_PHC_MAX_EXTRAP_NS (2 * TW_NS_PER_SEC)   /* beyond the table's span */
#define TW_PHC_STEP_NS (TW_NS_PER_MS)              /* off the line by more: stepped */
#define TW_PHC_MIN_SPACING_NS (10 * TW_NS_PER_MS)  /* closer samples: the better one stays */
#define TW_PHC_READS 5                             /* PHC reads per sample */
#define TW_PHC_UPDATE_NS TW_NS_PER_SEC             /* the steady sampling period */
#define TW_PHC_FIRST_UPDATE_NS (16 * TW_NS_PER_MS) /* the first one (then doubling) */

typedef struct tw_phc {
    int fd;    /* /dev/ptpN, or -1 with an injected source */
    int index; /* N of /dev/ptpN, -1 unknown */
    bool basic;
    tw_phc_source_fn source;
    void *source_arg;
    tw_phc_sample_t tab[TW_PHC_TABLE]; /* a ring: n samples, the newest at next - 1 */
    int n, next;
    /* The line: sys = phc + ref_off + a + b * (phc - ref_phc), over [lo, hi]. */
    tw_time_t ref_phc, lo, hi;
    int64_t ref_off;
    double a, b;
    uint64_t samples, failures, resets;
    int last_error; /* the latest failed sample's -errno, 0 none */
} tw_phc_t;

/* A converter with no samples, fed by source(arg). */
void tw_phc_init(tw_phc_t *c, tw_phc_source_fn source, void *arg);

/* The PHC of interface ifname (ETHTOOL_GET_TS_INFO): check it has hardware
 * transmit and receive timestamps and a PHC, open /dev/ptpN read-only and take
 * a first sample. Returns 0, or -1 with a reason in err ("interface lo: no
 * hardware timestamping", "cannot open /dev/ptp0: Permission denied ...");
 * c is then closed. */
int tw_phc_open(tw_phc_t *c, const char *ifname, char *err, size_t errlen);
void tw_phc_close(tw_phc_t *c);

/* Take a sample from the source and add it. 0, or the source's -errno. */
int tw_phc_update(tw_phc_t *c);
/* Add a sample to the table: the oldest goes when it is full; a sample not
 * later than the newest one, or off the current line by more than
 * TW_PHC_STEP_NS, restarts the table with it alone (counted in resets); one
 * less than TW_PHC_MIN_SPACING_NS after the newest takes its place if its
 * window is narrower, else is dropped (close samples tell nothing of the
 * frequency but their noise). Returns 1 when it restarted the table, else 0. */
int tw_phc_add(tw_phc_t *c, const tw_phc_sample_t *s);

/* PHC time -> system time. 0 with *sys; -ENODATA with an empty table;
 * -ERANGE when phc is more than TW_PHC_MAX_EXTRAP_NS outside the table. */
int tw_phc_to_sys(const tw_phc_t *c, tw_time_t phc, tw_time_t *sys);

/* The best of n (system before, PHC, system after) readings: the one with the
 * narrowest system-time window, its system time the middle of the window.
 * Readings with a negative window (the system clock stepped back) are skipped.
 * 0, or -EINVAL when none is usable. */
int tw_phc_best_of(const tw_time_t (*ts)[3], int n, tw_phc_sample_t *out);

/* A reason for a negative code of this module, for messages. */
const char *tw_phc_strerror(int rc);

#endif
