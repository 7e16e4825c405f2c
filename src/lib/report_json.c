/* report_json: the JSON writer and the JSON form of a session's results. */
#include "report_json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stamp_tlv.h"

void tw_json_init(tw_json_t *j, FILE *f, bool pretty)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->pretty = pretty;
}

void tw_json_end(tw_json_t *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}

static bool multiline(const tw_json_t *j)
{
    return j->pretty && (j->oneline == 0 || j->depth < j->oneline);
}

static void newline(tw_json_t *j)
{
    if (!multiline(j))
        return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

static bool *has_items(tw_json_t *j)
{
    int d = j->depth - 1;
    return &j->has_items[d < TW_JSON_MAX_DEPTH ? d : TW_JSON_MAX_DEPTH - 1];
}

/* Before any value: the separator from the previous member and the key. */
static void member(tw_json_t *j, const char *key)
{
    if (j->depth > 0) {
        bool *has = has_items(j);
        if (*has) {
            fputc(',', j->f);
            if (j->pretty && !multiline(j))
                fputc(' ', j->f);
        }
        *has = true;
        newline(j);
    }
    if (key) {
        tw_json_write_string(j->f, key);
        fputs(j->pretty ? ": " : ":", j->f);
    }
}

static void open(tw_json_t *j, const char *key, char c, bool oneline)
{
    member(j, key);
    fputc(c, j->f);
    j->depth++;
    *has_items(j) = false;
    if (oneline && j->oneline == 0)
        j->oneline = j->depth;
}

static void close_(tw_json_t *j, char c)
{
    if (j->depth <= 0)
        return;
    bool ml = multiline(j), had = *has_items(j);
    j->depth--;
    if (had && ml)
        newline(j);
    fputc(c, j->f);
    if (j->oneline && j->depth < j->oneline)
        j->oneline = 0;
}

void tw_json_obj_begin(tw_json_t *j, const char *key)
{
    open(j, key, '{', false);
}

void tw_json_obj_begin_line(tw_json_t *j, const char *key)
{
    open(j, key, '{', true);
}

void tw_json_obj_end(tw_json_t *j)
{
    close_(j, '}');
}

void tw_json_arr_begin(tw_json_t *j, const char *key)
{
    open(j, key, '[', false);
}

void tw_json_arr_begin_line(tw_json_t *j, const char *key)
{
    open(j, key, '[', true);
}

void tw_json_arr_end(tw_json_t *j)
{
    close_(j, ']');
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when s does not
 * start one (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void tw_json_write_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            s++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                fputs("\\n", f);
                break;
            case '\r':
                fputs("\\r", f);
                break;
            case '\t':
                fputs("\\t", f);
                break;
            case '\b':
                fputs("\\b", f);
                break;
            case '\f':
                fputs("\\f", f);
                break;
            default:
                fprintf(f, "\\u%04x", c);
            }
            s++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f); /* not UTF-8: the replacement character */
                s++;
            } else {
                fwrite(s, 1, n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

/* The locale may make the decimal point a comma (LC_NUMERIC): undo that. */
static void c_locale_number(char *buf)
{
    for (char *p = buf; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e' || *p == 'E'))
            *p = '.';
    /* A multi-octet decimal point would leave several dots: keep one. */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *w = dot + 1;
        for (char *r = dot + 1; *r; r++)
            if (*r != '.')
                *w++ = *r;
        *w = '\0';
    }
}

const char *tw_json_fmt_num(char *buf, size_t len, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "null");
        return buf;
    }
    if (v == 0) {
        snprintf(buf, len, "0"); /* also -0 */
        return buf;
    }
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v) /* strtod reads the locale's decimal point too */
        snprintf(buf, len, "%.17g", v);
    c_locale_number(buf);
    return buf;
}

const char *tw_json_fmt_us(char *buf, size_t len, int64_t ns)
{
    uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    uint64_t whole = mag / 1000, frac = mag % 1000;
    const char *sign = ns < 0 ? "-" : "";
    if (frac == 0)
        snprintf(buf, len, "%s%" PRIu64, sign, whole);
    else if (frac % 100 == 0)
        snprintf(buf, len, "%s%" PRIu64 ".%01" PRIu64, sign, whole, frac / 100);
    else if (frac % 10 == 0)
        snprintf(buf, len, "%s%" PRIu64 ".%02" PRIu64, sign, whole, frac / 10);
    else
        snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64, sign, whole, frac);
    return buf;
}

void tw_json_str(tw_json_t *j, const char *key, const char *v)
{
    member(j, key);
    if (v)
        tw_json_write_string(j->f, v);
    else
        fputs("null", j->f);
}

void tw_json_int(tw_json_t *j, const char *key, int64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void tw_json_uint(tw_json_t *j, const char *key, uint64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void tw_json_num(tw_json_t *j, const char *key, double v)
{
    char b[40];
    member(j, key);
    fputs(tw_json_fmt_num(b, sizeof b, v), j->f);
}

void tw_json_bool(tw_json_t *j, const char *key, bool v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void tw_json_null(tw_json_t *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}

void tw_json_us(tw_json_t *j, const char *key, int64_t ns)
{
    char b[40];
    member(j, key);
    fputs(tw_json_fmt_us(b, sizeof b, ns), j->f);
}

void tw_json_us_f(tw_json_t *j, const char *key, double ns)
{
    if (!isfinite(ns) || fabs(ns) > 9e18) {
        tw_json_null(j, key);
        return;
    }
    tw_json_us(j, key, (int64_t)llround(ns));
}

/* ---- a session's results --------------------------------------------------- */

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void json_dir(tw_json_t *j, const char *key, const tw_dirmetrics_t *d,
                     const tw_dirstats_t *table)
{
    if (d->n == 0) {
        tw_json_null(j, key);
        return;
    }
    const tw_hist_t *h = &d->hist;
    tw_json_obj_begin(j, key);
    tw_json_uint(j, "samples", d->n);
    tw_json_us(j, "min", d->min);
    tw_json_us(j, "max", d->max);
    tw_json_us_f(j, "mean", d->mean);
    tw_json_us(j, "median", tw_hist_percentile(h, 50));
    tw_json_us(j, "p90", tw_hist_percentile(h, 90));
    tw_json_us(j, "p95", tw_hist_percentile(h, 95));
    tw_json_us(j, "p99", tw_hist_percentile(h, 99));
    tw_json_us(j, "p99_9", tw_hist_percentile(h, 99.9));
    tw_json_us_f(j, "stddev", tw_dirmetrics_stddev(d));
    tw_json_us_f(j, "jitter_rfc1889", table->jitter);
    tw_json_us_f(j, "jitter_rfc3550", d->jitter);
    if (d->ipdv.n) {
        tw_json_obj_begin_line(j, "ipdv");
        tw_json_uint(j, "samples", d->ipdv.n);
        tw_json_us(j, "min", d->ipdv.min);
        tw_json_us(j, "p50", tw_hist_percentile(&d->ipdv, 50));
        tw_json_us(j, "p90", tw_hist_percentile(&d->ipdv, 90));
        tw_json_us(j, "p95", tw_hist_percentile(&d->ipdv, 95));
        tw_json_us(j, "p99", tw_hist_percentile(&d->ipdv, 99));
        tw_json_us(j, "p99_9", tw_hist_percentile(&d->ipdv, 99.9));
        tw_json_us(j, "max", d->ipdv.max);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "ipdv");
    }
    /* RFC 5481 PDV: the delay minus the minimum delay. */
    tw_json_obj_begin_line(j, "pdv");
    tw_json_us(j, "p50", tw_hist_percentile(h, 50) - d->min);
    tw_json_us(j, "p95", tw_hist_percentile(h, 95) - d->min);
    tw_json_us(j, "p99", tw_hist_percentile(h, 99) - d->min);
    tw_json_us(j, "p99_9", tw_hist_percentile(h, 99.9) - d->min);
    tw_json_us(j, "max", d->max - d->min);
    tw_json_obj_end(j);
    tw_json_obj_end(j);
}

static void json_ttl(tw_json_t *j, const char *key, int first, int lo, int hi)
{
    if (first < 0) {
        tw_json_null(j, key);
        return;
    }
    tw_json_obj_begin_line(j, key);
    tw_json_int(j, "first", first);
    tw_json_int(j, "min", lo);
    tw_json_int(j, "max", hi);
    tw_json_obj_end(j);
}

static void bucket_cb(void *arg, int64_t lo, int64_t hi, uint64_t n)
{
    tw_json_t *j = arg;
    tw_json_obj_begin_line(j, NULL);
    tw_json_us(j, "lo", lo);
    tw_json_us(j, "hi", hi);
    tw_json_uint(j, "count", n);
    tw_json_obj_end(j);
}

/* Replies not used by reason, replies measured from other layouts, ICMP
 * errors by kind (issue 11): every code always present, 0 when none. */
static void json_issues(tw_json_t *j, const tw_sender_result_t *r)
{
    const tw_reply_issues_t *is = &r->issues;
    char lines[TW_MAX_ISSUE_LINES][320];
    int n = tw_reply_issue_lines(r, lines, TW_MAX_ISSUE_LINES);
    tw_json_obj_begin(j, "replies");
    tw_json_uint(j, "seen", tw_replies_seen(r));
    tw_json_uint(j, "measured", r->stats.received);
    tw_json_obj_begin_line(j, "unusable");
    for (int i = 0; i < TW_RR_COUNT; i++)
        tw_json_uint(j, tw_reply_reason_code(i), is->unusable[i]);
    tw_json_obj_end(j);
    if (is->unusable[TW_RR_TOO_SHORT]) {
        tw_json_obj_begin_line(j, "too_short_octets");
        tw_json_uint(j, "min", is->short_min);
        tw_json_uint(j, "max", is->short_max);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "too_short_octets");
    }
    tw_json_obj_begin_line(j, "measured_as");
    for (int i = 0; i < TW_RN_COUNT; i++)
        tw_json_uint(j, tw_reply_note_code(i), is->noted[i]);
    tw_json_obj_end(j);
    tw_json_uint(j, "round_trip_only", is->oneway_na);
    tw_json_arr_begin(j, "messages");
    for (int i = 0; i < n; i++)
        if (strncmp(lines[i], "ICMP: ", 6))
            tw_json_str(j, NULL, lines[i]);
    tw_json_arr_end(j);
    tw_json_obj_end(j);

    tw_json_obj_begin(j, "icmp");
    for (int i = 0; i < TW_ICMP_COUNT; i++) {
        tw_json_obj_begin_line(j, tw_icmp_kind_code(i));
        tw_json_uint(j, "count", is->icmp[i]);
        tw_json_str(j, "from", is->icmp[i] ? is->icmp_from[i] : NULL);
        tw_json_obj_end(j);
    }
    if (is->icmp_mtu)
        tw_json_uint(j, "mtu", is->icmp_mtu);
    else
        tw_json_null(j, "mtu");
    tw_json_arr_begin(j, "messages");
    for (int i = 0; i < n; i++)
        if (!strncmp(lines[i], "ICMP: ", 6))
            tw_json_str(j, NULL, lines[i] + 6);
    tw_json_arr_end(j);
    tw_json_obj_end(j);
}

void tw_json_result(tw_json_t *j, const tw_sender_result_t *r, const tw_loss_t *lossp)
{
    const tw_metrics_t *m = &r->metrics;
    const tw_stats_t *st = &r->stats;
    tw_loss_t loss = lossp ? *lossp : tw_stats_loss(st, r->sent);

    tw_json_num(j, "elapsed_s", r->elapsed_s);
    tw_json_bool(j, "interrupted", r->interrupted);

    tw_json_obj_begin(j, "counters");
    tw_json_uint(j, "sent", r->sent);
    tw_json_uint(j, "received", st->received);
    /* The direction of a loss may be unknown: null, with the reasons. */
    bool known = !loss.unknown;
    tw_json_obj_begin_line(j, "lost");
    tw_json_uint(j, "round_trip", loss.roundtrip);
    if (known) {
        tw_json_uint(j, "outbound", loss.outbound);
        tw_json_uint(j, "inbound", loss.inbound);
    } else {
        tw_json_null(j, "outbound");
        tw_json_null(j, "inbound");
    }
    tw_json_uint(j, "unattributed", loss.unattributed);
    tw_json_uint(j, "outbound_at_least", loss.outbound);
    tw_json_uint(j, "inbound_at_least", loss.inbound);
    tw_json_arr_begin_line(j, "direction_unknown");
    for (unsigned bit = 1; bit <= TW_LOSS_REORDERED; bit <<= 1)
        if (loss.unknown & bit)
            tw_json_str(j, NULL, tw_loss_reason_code(bit));
    tw_json_arr_end(j);
    tw_json_obj_end(j);
    tw_json_obj_begin_line(j, "loss_percent");
    tw_json_num(j, "round_trip", percent(loss.roundtrip, r->sent));
    if (known) {
        tw_json_num(j, "outbound", percent(loss.outbound, r->sent));
        tw_json_num(j, "inbound", percent(loss.inbound, r->sent));
    } else {
        tw_json_null(j, "outbound");
        tw_json_null(j, "inbound");
    }
    tw_json_obj_end(j);
    tw_json_uint(j, "duplicates", r->duplicates);
    tw_json_uint(j, "reordered", m->reordered);
    tw_json_uint(j, "reorder_extent", m->reorder_extent);
    tw_json_uint(j, "late", r->late);
    tw_json_uint(j, "unmatched", r->unmatched);
    tw_json_uint(j, "short_replies", r->short_replies);
    tw_json_uint(j, "send_errors", r->send_errors);
    /* Counted in the loss above too, but not the network's doing. */
    tw_json_obj_begin_line(j, "dropped_by_this_host");
    tw_json_uint(j, "receive_buffer", r->local_rx_drops);
    tw_json_uint(j, "never_sent", r->local_tx_drops);
    tw_json_int(j, "receive_buffer_octets", r->rx_buffer);
    tw_json_obj_end(j);
    tw_json_obj_end(j);

    tw_json_obj_begin(j, "statistics");
    json_dir(j, "outbound", &m->outbound, &st->outbound);
    json_dir(j, "inbound", &m->inbound, &st->inbound);
    json_dir(j, "round_trip", &m->roundtrip, &st->roundtrip);
    tw_json_obj_end(j);

    if (m->residence.n) {
        tw_json_obj_begin_line(j, "residence");
        tw_json_us(j, "min", m->residence.min);
        tw_json_us(j, "median", tw_hist_percentile(&m->residence, 50));
        tw_json_us(j, "max", m->residence.max);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "residence");
    }

    tw_json_obj_begin(j, "ttl");
    json_ttl(j, "outbound", m->ttl_out_first, m->ttl_out_min, m->ttl_out_max);
    json_ttl(j, "inbound", m->ttl_in_first, m->ttl_in_min, m->ttl_in_max);
    tw_json_obj_end(j);

    tw_json_obj_begin(j, "timestamps");
    tw_json_uint(j, "t1_kernel", r->tx_kernel);
    tw_json_uint(j, "t1_total", r->sent);
    tw_json_uint(j, "t4_kernel", r->rx_kernel);
    tw_json_uint(j, "t4_total", st->received);
    tw_json_str(j, "t1", tw_ts_source(r->tx_kernel, r->sent));
    tw_json_str(j, "t4", tw_ts_source(r->rx_kernel, st->received));
    tw_json_str(j, "summary", tw_ts_summary(r));
    tw_json_obj_end(j);

    tw_json_obj_begin(j, "clock");
    tw_json_bool(j, "shared", r->shared_clock);
    tw_json_bool(j, "local_synchronized", m->local_sync);
    if (m->received)
        tw_json_bool(j, "reflector_synchronized", m->remote_sync_all);
    else
        tw_json_null(j, "reflector_synchronized");
    tw_json_uint(j, "negative_oneway", m->negative_oneway);
    tw_json_obj_end(j);

    tw_json_obj_begin(j, "histogram");
    tw_json_str(j, "of", "round_trip");
    tw_json_arr_begin(j, "buckets");
    tw_hist_foreach(&m->roundtrip.hist, bucket_cb, j);
    tw_json_arr_end(j);
    tw_json_obj_end(j);

    json_issues(j, r);
    tw_json_reflect(j, r);
    tw_json_ecn(j, r);
    tw_json_paths(j, r);

    tw_json_warnings(j, r, &loss);
}

/* One warning or note: {code, severity, rfc, count, of, text}. */
static void warning_obj(tw_json_t *j, const char *code, const char *severity, const char *rfc,
                        int64_t count, int64_t of, const char *text)
{
    tw_json_obj_begin(j, NULL);
    tw_json_str(j, "code", code);
    tw_json_str(j, "severity", severity);
    tw_json_str(j, "rfc", rfc);
    if (count >= 0)
        tw_json_int(j, "count", count);
    else
        tw_json_null(j, "count");
    if (of >= 0)
        tw_json_int(j, "of", of);
    else
        tw_json_null(j, "of");
    tw_json_str(j, "text", text);
    tw_json_obj_end(j);
}

void tw_json_warnings(tw_json_t *j, const tw_sender_result_t *r, const tw_loss_t *lossp)
{
    tw_loss_t loss = lossp ? *lossp : tw_stats_loss(&r->stats, r->sent);
    const tw_conformance_t *c = &r->conform;
    tw_json_arr_begin(j, "warnings");
    /* The reflector's conformance findings, warnings then notes, as in the text report. */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < TW_CF_COUNT; k++) {
            uint64_t n = tw_conform_count(c, k);
            const char *sev = tw_conform_severity(k);
            if (!n || (pass == 1) != !strcmp(sev, "info"))
                continue;
            char text[400];
            warning_obj(j, tw_conform_code(k), sev, tw_conform_rfc(c, k), (int64_t)n,
                        (int64_t)tw_conform_of(c, k), tw_conform_text(c, k, text, sizeof text));
        }
    tw_warnings_t w;
    tw_report_warnings_loss(r, &loss, &w);
    for (int i = 0; i < w.n; i++)
        warning_obj(j, w.code[i], "warn", NULL, w.count[i], -1, w.msg[i]);
    tw_json_arr_end(j);
    /* STAMP TLVs (--tlv): only when some were asked for. */
    if (r->tlv.want || r->tlv.replies)
        tw_json_tlvs(j, &r->tlv);
}

void tw_json_interval(FILE *f, int session, const tw_interval_t *iv)
{
    tw_json_t j;
    tw_json_init(&j, f, false);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "schema", TW_JSON_SCHEMA);
    tw_json_str(&j, "type", "interval");
    if (session > 0)
        tw_json_int(&j, "session", session);
    tw_json_num(&j, "start_s", iv->start_s);
    tw_json_num(&j, "end_s", iv->end_s);
    tw_json_uint(&j, "sent", iv->sent);
    tw_json_uint(&j, "received", iv->received);
    tw_json_uint(&j, "lost", iv->lost);
    if (iv->received) {
        tw_json_obj_begin(&j, "rtt");
        tw_json_us(&j, "min", iv->rtt_min);
        tw_json_us_f(&j, "mean", iv->rtt_mean);
        tw_json_us(&j, "max", iv->rtt_max);
        tw_json_us(&j, "last", iv->rtt_last);
        tw_json_obj_end(&j);
    } else {
        tw_json_null(&j, "rtt");
    }
    tw_json_obj_end(&j);
    tw_json_end(&j);
}

void tw_json_reflect(tw_json_t *j, const tw_sender_result_t *r)
{
    if (r->reflect_ok + r->reflect_bad == 0)
        return;
    tw_json_obj_begin(j, "reflect_octets");
    tw_json_int(j, "ok", (int64_t)r->reflect_ok);
    tw_json_int(j, "bad", (int64_t)r->reflect_bad);
    tw_json_obj_end(j);
}

void tw_json_ecn(tw_json_t *j, const tw_sender_result_t *r)
{
    static const char *const keys[4] = {"not_ect", "ect1", "ect0", "ce"};
    if (r->ecn_in[0] + r->ecn_in[1] + r->ecn_in[2] + r->ecn_in[3]) {
        tw_json_obj_begin(j, "ecn_received");
        for (int i = 0; i < 4; i++)
            tw_json_int(j, keys[i], (int64_t)r->ecn_in[i]);
        tw_json_obj_end(j);
    }
    if (r->fwd_seen) {
        tw_json_obj_begin(j, "at_reflector");
        tw_json_int(j, "replies", (int64_t)r->fwd_seen);
        tw_json_int(j, "dscp_last", r->fwd_dscp_last);
        tw_json_int(j, "dscp_other", (int64_t)r->fwd_dscp_other);
        for (int i = 0; i < 4; i++)
            tw_json_int(j, keys[i], (int64_t)r->fwd_ecn[i]);
        tw_json_obj_end(j);
    }
}

void tw_json_paths(tw_json_t *j, const tw_sender_result_t *r)
{
    const tw_metrics_t *m = &r->metrics;
    if (r->flowlabel_mode) {
        tw_json_obj_begin(j, "flow_label");
        tw_json_str(j, "mode", tw_flowlabel_mode_name(r->flowlabel_mode));
        if ((r->flowlabel_mode == TW_FL_FIXED || r->flowlabel_mode == TW_FL_RANDOM) &&
            r->flowlabels == 1)
            tw_json_int(j, "label", r->flowlabel);
        else
            tw_json_null(j, "label");
        tw_json_uint(j, "labels_sent", r->flowlabels);
        tw_json_uint(j, "reflected", m->fl_reflected);
        tw_json_uint(j, "changed", m->fl_changed);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "flow_label");
    }
    tw_json_obj_begin(j, "paths");
    tw_json_uint(j, "distinct", m->npaths);
    tw_json_uint(j, "overflow", m->paths_overflow);
    tw_json_uint(j, "changes", m->path_changes);
    tw_json_obj_end(j);
}

/* ---- STAMP TLVs (RFC 8972) ----------------------------------------------------- */

static void json_tlv_addr(tw_json_t *j, const char *key, int family, const uint8_t a[16])
{
    char ip[INET6_ADDRSTRLEN];
    if (family && inet_ntop(family, a, ip, sizeof ip))
        tw_json_str(j, key, ip);
    else
        tw_json_null(j, key);
}

static void json_dm(tw_json_t *j, const char *key, const uint32_t v[3])
{
    tw_json_obj_begin(j, key);
    tw_json_uint(j, "sender_tx", v[0]);
    tw_json_uint(j, "reflector_rx", v[1]);
    tw_json_uint(j, "reflector_tx", v[2]);
    tw_json_obj_end(j);
}

void tw_json_tlvs(tw_json_t *j, const tw_tlv_result_t *t)
{
    if (!t->want && !t->replies) {
        tw_json_null(j, "tlvs");
        return;
    }
    char name[16];
    tw_json_obj_begin(j, "tlvs");
    tw_json_arr_begin(j, "asked");
    for (int k = 1; k < 31; k++)
        if ((t->want >> k) & 1u)
            tw_json_str(j, NULL, tw_tlv_type_name((uint8_t)k, name, sizeof name));
    tw_json_arr_end(j);
    tw_json_uint(j, "replies", t->replies);
    tw_json_uint(j, "replies_without_tlvs", t->no_tlvs);
    tw_json_uint(j, "unparsable_areas", t->bad_area);
    tw_json_arr_begin(j, "types");
    for (int k = 0; k < TW_TLV_NTYPES; k++) {
        if (!t->seen[k])
            continue;
        tw_json_obj_begin(j, NULL);
        if (k == TW_TLV_NTYPES - 1) {
            tw_json_null(j, "type");
            tw_json_str(j, "name", "other");
        } else {
            tw_json_int(j, "type", k);
            tw_json_str(j, "name", tw_tlv_type_name((uint8_t)k, name, sizeof name));
        }
        tw_json_uint(j, "seen", t->seen[k]);
        tw_json_uint(j, "u", t->u[k]);
        tw_json_uint(j, "m", t->m[k]);
        tw_json_uint(j, "i", t->i[k]);
        tw_json_obj_end(j);
    }
    tw_json_arr_end(j);
    tw_json_obj_begin(j, "hmac");
    tw_json_uint(j, "verified", t->hmac_ok);
    tw_json_uint(j, "failed", t->hmac_bad);
    tw_json_obj_end(j);
    if (t->loc_n) {
        tw_json_obj_begin(j, "location");
        tw_json_uint(j, "replies", t->loc_n);
        tw_json_uint(j, "changed", t->loc_changed);
        json_tlv_addr(j, "sender_address", t->loc_src_family, t->loc_src);
        tw_json_uint(j, "sender_port", t->loc_sport);
        json_tlv_addr(j, "reflector_address", t->loc_dst_family, t->loc_dst);
        tw_json_uint(j, "reflector_port", t->loc_dport);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "location");
    }
    if (t->ts_n) {
        tw_json_obj_begin(j, "timestamp_info");
        tw_json_uint(j, "replies", t->ts_n);
        tw_json_str(j, "sync_in", tw_tlv_sync_name(t->sync_in));
        tw_json_str(j, "method_in", tw_tlv_method_name(t->ts_in));
        tw_json_str(j, "sync_out", tw_tlv_sync_name(t->sync_out));
        tw_json_str(j, "method_out", tw_tlv_method_name(t->ts_out));
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "timestamp_info");
    }
    if (t->cos_n) {
        tw_json_obj_begin(j, "class_of_service");
        tw_json_uint(j, "replies", t->cos_n);
        tw_json_int(j, "sent_dscp", t->cos_sent_dscp);
        tw_json_int(j, "received_dscp", t->cos_dscp2);
        tw_json_int(j, "received_ecn", t->cos_ecn);
        tw_json_int(j, "requested_reply_dscp", t->cos_dscp1);
        if (t->cos_reply_dscp >= 0)
            tw_json_int(j, "reply_dscp", t->cos_reply_dscp);
        else
            tw_json_null(j, "reply_dscp");
        tw_json_uint(j, "remarked_forward", t->cos_fwd_remarked);
        tw_json_uint(j, "remarked_reverse", t->cos_rev_remarked);
        tw_json_uint(j, "reverse_unknown", t->cos_rev_unknown);
        tw_json_uint(j, "rp_set", t->cos_rp);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "class_of_service");
    }
    if (t->dm_n) {
        tw_json_obj_begin(j, "direct_measurement");
        tw_json_uint(j, "replies", t->dm_n);
        json_dm(j, "first", t->dm_first);
        json_dm(j, "last", t->dm_last);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "direct_measurement");
    }
    if (t->ac_n) {
        tw_json_obj_begin(j, "access_report");
        tw_json_uint(j, "replies", t->ac_n);
        tw_json_uint(j, "id", t->ac_id);
        tw_json_uint(j, "return_code", t->ac_rc);
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "access_report");
    }
    if (t->fu_n) {
        tw_json_obj_begin(j, "follow_up");
        tw_json_uint(j, "replies", t->fu_n);
        tw_json_uint(j, "empty", t->fu_zero);
        tw_json_uint(j, "matched", t->fu_matched);
        tw_json_str(j, "method", tw_tlv_method_name(t->fu_method));
        if (t->fu_matched) {
            tw_json_obj_begin(j, "after_t3");
            tw_json_us(j, "min", t->fu_min);
            tw_json_us_f(j, "avg", t->fu_sum / (double)t->fu_matched);
            tw_json_us(j, "max", t->fu_max);
            tw_json_obj_end(j);
        } else {
            tw_json_null(j, "after_t3");
        }
        tw_json_obj_end(j);
    } else {
        tw_json_null(j, "follow_up");
    }
    tw_json_obj_end(j);
}
