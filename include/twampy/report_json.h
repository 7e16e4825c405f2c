/* report_json: a small streaming JSON writer (RFC 8259: strings escaped, control
 * characters as \u00XX, invalid UTF-8 replaced by U+FFFD; numbers without
 * locale effects; NaN and infinity never emitted, null instead) and the JSON
 * form of a test session's results, schema "twampy-report/1" (docs/json-schema.md).
 *
 * Delays are numbers in microseconds with nanosecond precision: at most three
 * decimals, exact for integer nanoseconds (12345 ns -> 12.345). */
#ifndef TWAMPY_REPORT_JSON_H
#define TWAMPY_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sender.h"
#include "stats.h"

#define TW_JSON_SCHEMA "twampy-report/1"
#define TW_JSON_MAX_DEPTH 32

typedef struct tw_json {
    FILE *f;
    bool pretty; /* indented, one member a line; else one line */
    int depth;
    int oneline;                       /* the depth from which a container is on one line, or 0 */
    bool has_items[TW_JSON_MAX_DEPTH]; /* the container at each depth has members */
} tw_json_t;

/* Writing starts with a value (usually tw_json_obj_begin(j, NULL)). */
void tw_json_init(tw_json_t *j, FILE *f, bool pretty);
/* After the top-level value: the final newline, and flush. */
void tw_json_end(tw_json_t *j);

/* Every value function takes the member name `key` inside an object, NULL in
 * an array or at the top level. */
void tw_json_obj_begin(tw_json_t *j, const char *key);
/* An object or array on one line even when pretty (a histogram bucket). */
void tw_json_obj_begin_line(tw_json_t *j, const char *key);
void tw_json_obj_end(tw_json_t *j);
void tw_json_arr_begin(tw_json_t *j, const char *key);
void tw_json_arr_begin_line(tw_json_t *j, const char *key);
void tw_json_arr_end(tw_json_t *j);
void tw_json_str(tw_json_t *j, const char *key, const char *v); /* NULL: null */
void tw_json_int(tw_json_t *j, const char *key, int64_t v);
void tw_json_uint(tw_json_t *j, const char *key, uint64_t v);
void tw_json_num(tw_json_t *j, const char *key, double v); /* non-finite: null */
void tw_json_bool(tw_json_t *j, const char *key, bool v);
void tw_json_null(tw_json_t *j, const char *key);
/* A delay of ns nanoseconds as microseconds (tw_json_fmt_us). */
void tw_json_us(tw_json_t *j, const char *key, int64_t ns);
/* A computed delay (a mean, a deviation) in ns, rounded to whole ns; non-finite: null. */
void tw_json_us_f(tw_json_t *j, const char *key, double ns);

/* s as a JSON string with its quotes. */
void tw_json_write_string(FILE *f, const char *s);
/* v as a JSON number, the shortest of %.15g / %.17g that reads back as v,
 * with '.' as the decimal point whatever the locale; "null" when not finite.
 * buf must hold 32 octets. Returns buf. */
const char *tw_json_fmt_num(char *buf, size_t len, double v);
/* ns as microseconds with up to three decimals, trailing zeros dropped:
 * 12345 -> "12.345", 12000 -> "12", -1500 -> "-1.5", 7 -> "0.007". */
const char *tw_json_fmt_us(char *buf, size_t len, int64_t ns);

/* The results of one session (or a total of several) as members of the open
 * object: elapsed_s, interrupted, counters, statistics, residence, ttl,
 * timestamps, clock, histogram and warnings. loss: the loss to report, or NULL
 * for the session's own (tw_stats_loss). */
void tw_json_result(tw_json_t *j, const tw_sender_result_t *r, const tw_loss_t *loss);
/* "tlvs": the STAMP TLVs' answers (docs/json-schema.md); null when no TLV was
 * asked for. */
void tw_json_tlvs(tw_json_t *j, const tw_tlv_result_t *t);

/* The "warnings" member: an array of {code, severity, rfc, count, of, text}:
 * the reflector's conformance findings (conformance.h; severity "warn", or
 * "info" for what kind of reflector it is; rfc the clause; count of `of`
 * replies), then what must be known to read the figures right
 * (tw_report_warnings: severity "warn", rfc null, count the sentence's number
 * or null, of null). tw_json_result writes it. */
void tw_json_warnings(tw_json_t *j, const tw_sender_result_t *r, const tw_loss_t *loss);

/* One --report-interval line as a one-line object ("type": "interval"),
 * session 0 when there is only one. Ends with a newline and flushes. */
void tw_json_interval(FILE *f, int session, const tw_interval_t *iv);

/* RFC 6038 reflect octets: "reflect_octets": {"ok": N, "bad": M} in the
 * current object, when the run checked them; nothing otherwise. */
void tw_json_reflect(tw_json_t *j, const tw_sender_result_t *r);

/* ECN: "ecn_received": {"not_ect", "ect1", "ect0", "ce"} of the replies as
 * received, and with RFC 7750 "at_reflector": {"replies", "dscp_last",
 * "dscp_other", and the four ECN counts}, in the current object; each only
 * when there is something to say. */
void tw_json_ecn(tw_json_t *j, const tw_sender_result_t *r);

/* "flow_label": {"mode", "label", "labels_sent", "reflected", "changed"}
 * (null without --flow-label) and "paths": {"distinct", "overflow",
 * "changes"}, in the current object. */
void tw_json_paths(tw_json_t *j, const tw_sender_result_t *r);

#endif
