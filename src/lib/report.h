/* report: twampy's text table. */
#ifndef TWAMPY_REPORT_H
#define TWAMPY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sender.h"
#include "stats.h"

/* twampy's dp(): a delay in ms formatted as "%7.1fmin", "%7.1fsec", "%7.2fsec",
 * "%8.2fms" or "%8dus" (by |ms| > 60000, > 10000, > 1000, > 1, else), exactly as
 * the Python twampy prints it. buf must hold 32 octets. */
const char *tw_fmt_delay(char *buf, size_t len, double ms);

/* twampy's table: Direction / Min / Max / Avg / Jitter / Loss for Outbound,
 * Inbound and Roundtrip, or "NO STATS AVAILABLE (100% loss)", with the same
 * rules and the "Jitter Algorithm [RFC1889]" footer. */
void tw_report_table(FILE *f, const tw_stats_t *s, uint64_t sent);
/* The same table with the loss given (e.g. summed over several sessions). */
void tw_report_table_loss(FILE *f, const tw_stats_t *s, uint64_t sent, const tw_loss_t *loss);

/* The second block: percentiles, standard deviation, RFC 3550 jitter, IPDV and
 * PDV per direction, reflector residence, TTLs, packet counters, timestamp
 * sources and warnings. */
void tw_report_extended(FILE *f, const tw_sender_result_t *r);

#define TW_MAX_WARNINGS 8
typedef struct tw_warnings {
    int n;
    char msg[TW_MAX_WARNINGS][200];
} tw_warnings_t;
/* What a user must know to read the figures right: unsynchronized clocks,
 * negative one-way delays, a stateless reflector, path changes, late replies. */
void tw_report_warnings(const tw_sender_result_t *r, tw_warnings_t *w);

#endif
