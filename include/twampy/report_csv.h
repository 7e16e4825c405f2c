/* report_csv: --csv, one row per packet sent, from the sender's per-packet
 * records (tw_packet_record_t), and the ISO-8601 time format it uses. */
#ifndef TWAMPY_REPORT_CSV_H
#define TWAMPY_REPORT_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "ntptime.h"
#include "sender.h"

/* The header line: session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,
 * rtt_ns,outbound_ns,inbound_ns,ttl_out,ttl_in,dscp_in,size */
void tw_csv_header(FILE *f);
/* One packet's row (session: 1 for a sender, 1..N for a controller). Times
 * are ISO-8601 UTC with nanoseconds and, in the *_ntp columns, the same
 * instant as a 64-bit NTP timestamp in 16 hex digits; both are empty when
 * unknown, as are delays (in ns, never clamped) and unknown TTLs and DSCP. */
void tw_csv_row(FILE *f, int session, const tw_packet_record_t *r);

/* Read back one data row written by tw_csv_row (without its newline; a
 * trailing "\r" or "\n" is allowed): session, seq, status, t1..t4 from the
 * ISO-8601 columns (exact to the ns; empty: 0; t2..t4 only with t1 and
 * within 10^18 ns, 31 years, of it, so that no delay overflows), TTLs, DSCP (as tos_in =
 * dscp << 2) and size; the NTP columns are not read. Every column is checked:
 * returns 0, or -1 with a reason in err ("column 5 (t2): ...") for anything
 * else, the header line included. */
int tw_csv_parse_row(const char *line, int *session, tw_packet_record_t *r, char *err,
                     size_t errlen);
/* The inverse of tw_fmt_iso8601 for what it writes ("...T05:30:00.123456789Z",
 * 1 to 9 fraction digits): a real date (no 31 February, no leap second) in
 * the years tw_time_t holds (1677..2262). Returns 0, or -1. */
int tw_parse_iso8601(const char *s, tw_time_t *t);

/* "ok", "lost", "duplicate", "reordered" or "late". */
const char *tw_pkt_status_name(tw_pkt_status_t s);

/* t as "2026-11-27T05:30:00.123456789Z" (buf: at least 40 octets; years past
 * 9999 or before 0 are written as they are). Returns buf. */
const char *tw_fmt_iso8601(char *buf, size_t len, tw_time_t t);

#endif
