/* targets: --targets FILE, the reflectors of a fan-out run (sender; for the
 * controller, TWAMP servers). One per line:
 *
 *   reflector-ip:port [local-ip:port] [options]
 *
 * '#' starts a comment; blank lines are skipped. A line's options apply on top
 * of the command line's: the sender's test options (-c, -i, --padding, --dscp,
 * --tos, --ttl, --do-not-fragment, --stamp, --ssid, --schedule, --seed,
 * --timeout, --duration, --timestamping); the run's output and logging options
 * belong to the command line only. An error names the file and line. */
#ifndef TWAMPY_CLI_TARGETS_H
#define TWAMPY_CLI_TARGETS_H

#include "sender_opts.h"

/* At most this many targets in one run (each has its own socket). */
#define TARGETS_MAX 100000

struct target {
    struct sender_args a; /* the command line's values with the line's on top */
    int line;             /* 1-based line number in the file */
    char *text;           /* the line's own copy, which a's strings point into */
};

/* Read the file of global->targets; each target's arguments start from
 * *global. Exits 2 (usage) with the file and line for a bad line, 1 when the
 * file cannot be read or names no target. Returns the number of targets. */
int targets_load(const struct sender_args *global, const char *help, unsigned flags,
                 struct target **out);
void targets_free(struct target *t, int n);

#endif
