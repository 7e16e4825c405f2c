/* report: twampy's text table, the extended statistics block, the ASCII
 * histogram of round-trip delay, and totals over several sessions. */
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
/* The same with the loss given (NULL: the session's own, tw_stats_loss). */
void tw_report_extended_loss(FILE *f, const tw_sender_result_t *r, const tw_loss_t *loss);

/* --histogram: round-trip delay in at most `rows` rows (the histogram's
 * buckets merged, on a logarithmic scale when the delays span a factor of 10
 * or more), with counts, percentages and a bar. */
void tw_report_histogram(FILE *f, const tw_hist_t *h, int rows);

/* The report's first line: what ran (e.g. "TWAMP light to 192.0.2.1:20001"),
 * the security mode (r->security_mode, by tw_mode_name) and the clocks: "shared (the reflector is
 * on this host)" (r->shared_clock: one-way delays are exact), "synchronized (S bits set)", "not
 * synchronized" (a warning follows), or with no reply "local synchronized, reflector's unknown". */
void tw_report_header(FILE *f, const char *what, const tw_sender_result_t *r);
/* The clocks part of the header. */
const char *tw_report_clocks(const tw_sender_result_t *r);

/* Where timestamps came from: "kernel" when all `kernel` of `total` did,
 * "user" when none did, "mixed" otherwise, "none" when total is 0. */
const char *tw_ts_source(uint64_t kernel, uint64_t total);
/* t1 and t4 together: "kernel", "user" or "mixed" ("none" with nothing sent). */
const char *tw_ts_summary(const tw_sender_result_t *r);

/* A total over several sessions: tw_report_total_init, then tw_report_merge
 * for each. The total's metrics have no ring (it takes no samples); free it
 * with tw_metrics_free. Percentiles come from the merged histograms; jitter
 * is the sample-weighted mean of the sessions'. */
void tw_report_total_init(tw_sender_result_t *t);
void tw_report_merge(tw_sender_result_t *into, const tw_sender_result_t *from);

#define TW_MAX_WARNINGS 8
typedef struct tw_warnings {
    int n;
    char msg[TW_MAX_WARNINGS][512];
    const char *code[TW_MAX_WARNINGS]; /* stable: "late-replies", "no-reply", ... */
    int64_t count[TW_MAX_WARNINGS];    /* the count the sentence gives, -1 none */
} tw_warnings_t;
/* What a user must know to read the figures right: unsynchronized clocks,
 * negative one-way delays, loss whose direction is unknown (and why), path
 * changes, late replies. */
void tw_report_warnings(const tw_sender_result_t *r, tw_warnings_t *w);
/* The same with the loss given (e.g. summed over several sessions). */
void tw_report_warnings_loss(const tw_sender_result_t *r, const tw_loss_t *loss, tw_warnings_t *w);
/* What this host dropped itself (tw_sender_result_t.local_rx_drops,
 * local_tx_drops), never to be taken for network loss: "N lost inbound, of
 * which K dropped by this host's receive buffer", and the test packets that
 * never left. Writes the sentence into buf and returns 1, or 0 when this host
 * dropped nothing. tw_report_warnings includes it; tw_report_local_drops
 * prints it as a "Local drops: ..." line. */
int tw_report_local_drops_line(const tw_sender_result_t *r, const tw_loss_t *loss, char *buf,
                               size_t len);
void tw_report_local_drops(FILE *f, const tw_sender_result_t *r, const tw_loss_t *loss);

/* Replies that could not be used (by reason), replies measured from another
 * layout than RFC 5357's, one-way delays n/a, and ICMP errors: one sentence
 * each into lines (at most max), returns how many. tw_report_extended prints
 * them. */
#define TW_MAX_ISSUE_LINES 20
int tw_reply_issue_lines(const tw_sender_result_t *r, char lines[][320], int max);
void tw_report_issues(FILE *f, const tw_sender_result_t *r);
/* The STAMP TLVs' answers (RFC 8972; --tlv): a block of lines after the
 * extended statistics, nothing when no TLV was asked for (t->want 0). */
void tw_tlv_report_lines(FILE *f, const tw_tlv_result_t *t);
/* into += from (totals over sessions). */
void tw_reply_issues_merge(tw_reply_issues_t *into, const tw_reply_issues_t *from);

/* The conformance findings (conformance.h), one line each, warnings first,
 * then the notes: "Warning [t2-equals-t3] RFC 5357 §4.2.1: 100 of 100 replies
 * carry ...". Returns how many (at most max). tw_report_extended prints them
 * after the reply issues. */
#define TW_CONFORM_LINE 480
int tw_conform_lines(const tw_sender_result_t *r, char lines[][TW_CONFORM_LINE], int max);
void tw_report_conformance(FILE *f, const tw_sender_result_t *r);
/* RFC 6038 reflect octets: "Reflect octets (RFC 6038): N of M replies carried
 * the padding back", when the run checked them (reflect_ok + reflect_bad > 0);
 * nothing otherwise. */
void tw_report_reflect(FILE *f, const tw_sender_result_t *r);

/* The name of an ECN codepoint (RFC 3168): "Not-ECT", "ECT(1)", "ECT(0)", "CE". */
const char *tw_ecn_name(int ecn);
/* "ECN of the replies as received: Not-ECT 9, CE 1" when the kernel gave the
 * replies' TOS, and with RFC 7750 "At the reflector (RFC 7750): ECN ECT(0) 10;
 * DSCP 46 (0 of 10 replies with another DSCP than sent)"; nothing else. */
void tw_report_ecn(FILE *f, const tw_sender_result_t *r);
/* --flow-label: "Flow label: 0x12345 (fixed); 100 of 100 replies came back
 * with the label sent, 0 with another (...)"; and "Paths: ..." (distinct
 * (outbound, inbound) TTL / Hop Limit pairs and path changes) with a flow
 * label, or when the path changed; nothing else. */
void tw_report_paths(FILE *f, const tw_sender_result_t *r);

#endif
