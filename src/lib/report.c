/* report: twampy's text table, the extended block, the histogram, totals. */
#include "report.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control_wire.h"
#include "dscp.h"
#include "stamp_tlv.h"

const char *tw_fmt_delay(char *buf, size_t len, double ms)
{
    double a = fabs(ms);

    if (buf == NULL || len == 0)
        return "";
    if (isnan(ms))
        snprintf(buf, len, "%8sus", "nan"); /* Python raises here; never from real delays */
    else if (a > 60000)
        snprintf(buf, len, "%7.1fmin", ms / 60000);
    else if (a > 10000)
        snprintf(buf, len, "%7.1fsec", ms / 1000);
    else if (a > 1000)
        snprintf(buf, len, "%7.2fsec", ms / 1000);
    else if (a > 1)
        snprintf(buf, len, "%8.2fms", ms);
    else
        snprintf(buf, len, "%8ldus", (long)(ms * 1000)); /* long() truncates toward zero */
    return buf;
}

static double pct(uint64_t lost, uint64_t sent)
{
    if (sent == 0)
        return 0.0;
    return 100.0 * (double)lost / (double)sent;
}

/* known false: the Loss cell says "n/a" (the direction of a loss unknown). */
static void row(FILE *f, const char *label, const tw_dirstats_t *d, uint64_t lost, uint64_t sent,
                bool known)
{
    char mn[32], mx[32], avg[32], jit[32], loss[16];

    if (known)
        snprintf(loss, sizeof loss, "%5.1f%%", pct(lost, sent));
    else
        snprintf(loss, sizeof loss, "%6s", "n/a");
    fprintf(f, "  %-12s %s  %s  %s  %s    %s\n", label,
            tw_fmt_delay(mn, sizeof(mn), (double)d->min / 1e6),
            tw_fmt_delay(mx, sizeof(mx), (double)d->max / 1e6),
            tw_fmt_delay(avg, sizeof(avg), d->sum / (double)d->n / 1e6),
            tw_fmt_delay(jit, sizeof(jit), d->jitter / 1e6), loss);
}

/* A one-way row: "n/a" delays when no reply had usable reflector timestamps. */
static void oneway_row(FILE *f, const char *label, const tw_dirstats_t *d, uint64_t lost,
                       uint64_t sent, bool known)
{
    if (d->n) {
        row(f, label, d, lost, sent, known);
        return;
    }
    char loss[16];
    if (known)
        snprintf(loss, sizeof loss, "%5.1f%%", pct(lost, sent));
    else
        snprintf(loss, sizeof loss, "%6s", "n/a");
    fprintf(f, "  %-12s %10s  %10s  %10s  %10s    %s\n", label, "n/a", "n/a", "n/a", "n/a", loss);
}

void tw_report_table(FILE *f, const tw_stats_t *s, uint64_t sent)
{
    tw_loss_t l = tw_stats_loss(s, sent);
    tw_report_table_loss(f, s, sent, &l);
}

void tw_report_table_loss(FILE *f, const tw_stats_t *s, uint64_t sent, const tw_loss_t *loss)
{
    fputs("==============================================================================="
          "\n"
          "Direction         Min         Max         Avg          Jitter     Loss\n"
          "-------------------------------------------------------------------------------"
          "\n",
          f);
    if (s->received > 0) {
        oneway_row(f, "Outbound:", &s->outbound, loss->outbound, sent, !loss->unknown);
        oneway_row(f, "Inbound:", &s->inbound, loss->inbound, sent, !loss->unknown);
        row(f, "Roundtrip:", &s->roundtrip, loss->roundtrip, sent, true);
    } else if (s->unusable) {
        /* Replies came back: not a loss, a reflector we could not read. */
        fprintf(f,
                "  NO STATS AVAILABLE (%llu replies came back, none usable: see \"Replies not "
                "used\")\n",
                (unsigned long long)s->unusable);
    } else {
        fputs("  NO STATS AVAILABLE (100% loss)\n", f);
    }
    fputs("-------------------------------------------------------------------------------\n"
          "                                                    Jitter Algorithm [RFC1889]\n"
          "===============================================================================\n",
          f);
}

/* ---- the extended block ---------------------------------------------------- */

static const char *const delay_cols[] = {"Min",   "Median", "p90",  "p95",   "p99",
                                         "p99.9", "Max",    "Mean", "StdDev"};
static const char *const var_cols[] = {"Jitter",  "IPDV p50", "IPDV p99", "IPDV max",
                                       "PDV p50", "PDV p99",  "PDV p99.9"};

static void header(FILE *f, const char *first, const char *const *cols, int n)
{
    fprintf(f, "%-13s", first);
    for (int i = 0; i < n; i++)
        fprintf(f, " %10s", cols[i]);
    fputc('\n', f);
}

static const char *trim(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static void delay_cells(FILE *f, const int64_t *v, int n)
{
    char b[32];
    for (int i = 0; i < n; i++)
        fprintf(f, " %s", tw_fmt_delay(b, sizeof b, (double)v[i] / 1e6));
}

static void ext_row(FILE *f, const char *name, const tw_dirmetrics_t *d)
{
    int64_t v[9] = {
        d->min,
        tw_hist_percentile(&d->hist, 50),
        tw_hist_percentile(&d->hist, 90),
        tw_hist_percentile(&d->hist, 95),
        tw_hist_percentile(&d->hist, 99),
        tw_hist_percentile(&d->hist, 99.9),
        d->max,
        (int64_t)d->mean,
        (int64_t)tw_dirmetrics_stddev(d),
    };
    fprintf(f, "  %-11s", name);
    delay_cells(f, v, 9);
    fputc('\n', f);
}

static void var_row(FILE *f, const char *name, const tw_dirmetrics_t *d)
{
    /* IPDV percentiles and RFC 3550 jitter; PDV = delay - min (RFC 5481). */
    int64_t v[7] = {
        (int64_t)d->jitter,
        tw_hist_percentile(&d->ipdv, 50),
        tw_hist_percentile(&d->ipdv, 99),
        d->ipdv.n ? d->ipdv.max : 0,
        tw_hist_percentile(&d->hist, 50) - d->min,
        tw_hist_percentile(&d->hist, 99) - d->min,
        tw_hist_percentile(&d->hist, 99.9) - d->min,
    };
    fprintf(f, "  %-11s", name);
    delay_cells(f, v, 7);
    fputc('\n', f);
}

/* An extended one-way row, or "n/a" when no reply had usable t2 and t3. */
static void oneway_ext(FILE *f, const char *name, const tw_dirmetrics_t *d,
                       void (*rowfn)(FILE *, const char *, const tw_dirmetrics_t *))
{
    if (d->n)
        rowfn(f, name, d);
    else
        fprintf(f, "  %-11s n/a (the reflector's t2 and t3 are not usable)\n", name);
}

void tw_report_extended(FILE *f, const tw_sender_result_t *r)
{
    tw_report_extended_loss(f, r, NULL);
}

void tw_report_extended_loss(FILE *f, const tw_sender_result_t *r, const tw_loss_t *lossp)
{
    const tw_metrics_t *m = &r->metrics;
    const tw_stats_t *st = &r->stats;
    tw_loss_t loss = lossp ? *lossp : tw_stats_loss(st, r->sent);
    char b1[32], b2[32], b3[32];
    fputs("Extended statistics\n"
          "-------------------------------------------------------------------------------"
          "-----------------\n",
          f);
    if (m->received) {
        header(f, "Delay", delay_cols, 9);
        /* Row names differ from the table's ("Roundtrip:"), so that scripts
         * that grep twampy's table still find one line each. */
        oneway_ext(f, "outbound", &m->outbound, ext_row);
        oneway_ext(f, "inbound", &m->inbound, ext_row);
        ext_row(f, "round trip", &m->roundtrip);
        header(f, "Variation", var_cols, 7);
        oneway_ext(f, "outbound", &m->outbound, var_row);
        oneway_ext(f, "inbound", &m->inbound, var_row);
        var_row(f, "round trip", &m->roundtrip);
        if (!m->residence.n)
            fputs("Reflector residence (t3 - t2): n/a (no reply had usable t2 and t3)\n", f);
        else
            fprintf(f, "Reflector residence (t3 - t2): min %s, median %s, max %s\n",
                    trim(tw_fmt_delay(b1, sizeof b1, (double)m->residence.min / 1e6)),
                    trim(tw_fmt_delay(b2, sizeof b2,
                                      (double)tw_hist_percentile(&m->residence, 50) / 1e6)),
                    trim(tw_fmt_delay(b3, sizeof b3, (double)m->residence.max / 1e6)));
        if (m->ttl_out_first >= 0 || m->ttl_in_first >= 0) {
            char to[16] = "n/a", ti[16] = "n/a"; /* -1: unknown (no Sender TTL) */
            if (m->ttl_out_first >= 0)
                snprintf(to, sizeof to, "%d", m->ttl_out_first);
            if (m->ttl_in_first >= 0)
                snprintf(ti, sizeof ti, "%d", m->ttl_in_first);
            fprintf(f, "TTL / Hop Limit: outbound %s (as the reflector received it), inbound %s\n",
                    to, ti);
        }
    }
    char ob[24] = "n/a", ib[24] = "n/a";
    if (!loss.unknown) {
        snprintf(ob, sizeof ob, "%llu", (unsigned long long)loss.outbound);
        snprintf(ib, sizeof ib, "%llu", (unsigned long long)loss.inbound);
    }
    fprintf(f,
            "Packets: %llu sent, %llu received, %llu lost (outbound %s, inbound %s), %llu "
            "duplicate, %llu reordered (largest extent %llu), %llu late, %llu unmatched\n",
            (unsigned long long)r->sent, (unsigned long long)st->received,
            (unsigned long long)loss.roundtrip, ob, ib, (unsigned long long)r->duplicates,
            (unsigned long long)m->reordered, (unsigned long long)m->reorder_extent,
            (unsigned long long)r->late, (unsigned long long)r->unmatched);
    fprintf(f, "Timestamps: t1 kernel %llu/%llu, t4 kernel %llu/%llu",
            (unsigned long long)r->tx_kernel, (unsigned long long)r->sent,
            (unsigned long long)r->rx_kernel, (unsigned long long)st->received);
    if (r->hw_timestamps)
        fprintf(f, "; t1 and t4 NIC %llu/%llu, software %llu/%llu", (unsigned long long)r->hw_pairs,
                (unsigned long long)st->received, (unsigned long long)r->hw_fallback,
                (unsigned long long)st->received);
    fputc('\n', f);
    tw_report_reflect(f, r);
    tw_report_ecn(f, r);
    tw_report_paths(f, r);
    tw_report_issues(f, r);
    tw_report_conformance(f, r);
    tw_tlv_report_lines(f, &r->tlv);
    tw_warnings_t w;
    tw_report_warnings_loss(r, &loss, &w);
    for (int i = 0; i < w.n; i++)
        fprintf(f, "Warning: %s\n", w.msg[i]);
    fputs("================================================================================"
          "================\n",
          f);
}

void tw_report_warnings(const tw_sender_result_t *r, tw_warnings_t *w)
{
    tw_loss_t loss = tw_stats_loss(&r->stats, r->sent);
    tw_report_warnings_loss(r, &loss, w);
}

void tw_report_warnings_loss(const tw_sender_result_t *r, const tw_loss_t *loss, tw_warnings_t *w)
{
    const tw_metrics_t *m = &r->metrics;
    w->n = 0;
#define WARN(CODE, COUNT, ...)                                                                     \
    do {                                                                                           \
        if (w->n < TW_MAX_WARNINGS) {                                                              \
            w->code[w->n] = CODE;                                                                  \
            w->count[w->n] = COUNT;                                                                \
            snprintf(w->msg[w->n++], sizeof w->msg[0], __VA_ARGS__);                               \
        }                                                                                          \
    } while (0)
    /* A reflector on this host reads our own clock: the S bits do not matter. */
    if (m->outbound.n && !r->shared_clock && (!m->local_sync || !m->remote_sync_all))
        WARN("clocks-not-synchronized", -1,
             "one-way delays are not meaningful: %s not synchronized (S bit clear); "
             "round-trip figures are unaffected",
             !m->local_sync && !m->remote_sync_all ? "the local and the reflector's clocks are"
             : !m->local_sync                      ? "the local clock is"
                                                   : "the reflector's clock is");
    if (m->negative_oneway)
        WARN("negative-oneway", (int64_t)m->negative_oneway,
             "%llu one-way delays came out negative: the two clocks disagree by at least that "
             "much",
             (unsigned long long)m->negative_oneway);
    if (r->sent && !r->stats.received && !r->late && !r->unmatched && !r->short_replies &&
        !r->integrity_failures) {
        /* Nothing came back at all: which direction is moot; say what to check. */
        WARN("no-reply", (int64_t)r->sent,
             "no reply to any of the %llu packets: is a reflector answering at that address and "
             "port, and does no firewall drop the UDP packets on the way?",
             (unsigned long long)r->sent);
    } else if (loss->unknown) {
        char why[320], known[96] = "";
        if (loss->outbound || loss->inbound)
            snprintf(known, sizeof known, "; of the others, %llu were lost outbound, %llu inbound",
                     (unsigned long long)loss->outbound, (unsigned long long)loss->inbound);
        WARN("loss-direction-unknown", (int64_t)loss->unattributed,
             "outbound and inbound loss n/a: %llu of the %llu lost packets cannot be given a "
             "direction (%s)%s",
             (unsigned long long)loss->unattributed, (unsigned long long)loss->roundtrip,
             tw_loss_reason_text(loss, why, sizeof why), known);
    }
    if (m->ttl_out_first >= 0 && m->ttl_out_min != m->ttl_out_max)
        WARN("path-change-outbound", -1,
             "path change: the TTL / Hop Limit the reflector received changed during the run "
             "(%d to %d)",
             m->ttl_out_min, m->ttl_out_max);
    if (m->ttl_in_first >= 0 && m->ttl_in_min != m->ttl_in_max)
        WARN("path-change-inbound", -1,
             "path change: the TTL / Hop Limit of the replies changed during the run (%d to %d)",
             m->ttl_in_min, m->ttl_in_max);
    if (r->late)
        WARN("late-replies", (int64_t)r->late,
             "%llu replies came after the timeout: counted as late, not measured",
             (unsigned long long)r->late);
    if (w->n < TW_MAX_WARNINGS &&
        tw_report_local_drops_line(r, loss, w->msg[w->n], sizeof w->msg[0])) {
        w->code[w->n] = "dropped-by-this-host";
        w->count[w->n] = (int64_t)(r->local_rx_drops + r->local_tx_drops);
        w->n++;
    }
#undef WARN
}

/* ---- dropped by this host ---------------------------------------------------- */

int tw_report_local_drops_line(const tw_sender_result_t *r, const tw_loss_t *loss, char *buf,
                               size_t len)
{
    if (!r->local_rx_drops && !r->local_tx_drops)
        return 0;
    char rx[200] = "", tx[200] = "", rb[64] = "";
    if (r->rx_buffer > 0)
        snprintf(rb, sizeof rb, " of %ld octets", r->rx_buffer);
    if (r->local_rx_drops && loss->inbound && !loss->unknown)
        snprintf(rx, sizeof rx,
                 "%llu lost inbound, of which %llu dropped by this host's receive buffer%s",
                 (unsigned long long)loss->inbound,
                 (unsigned long long)(r->local_rx_drops < loss->inbound ? r->local_rx_drops
                                                                        : loss->inbound),
                 rb);
    else if (r->local_rx_drops && !loss->roundtrip)
        snprintf(rx, sizeof rx,
                 "%llu datagrams dropped by this host's receive buffer%s (no test "
                 "packet lost)",
                 (unsigned long long)r->local_rx_drops, rb);
    else if (r->local_rx_drops)
        snprintf(rx, sizeof rx,
                 "%llu lost, of which %llu replies dropped by this host's receive buffer%s",
                 (unsigned long long)loss->roundtrip,
                 (unsigned long long)(r->local_rx_drops < loss->roundtrip ? r->local_rx_drops
                                                                          : loss->roundtrip),
                 rb);
    if (r->local_tx_drops)
        snprintf(tx, sizeof tx, "%s%llu test packets never left this host (no buffer space)",
                 rx[0] ? "; " : "", (unsigned long long)r->local_tx_drops);
    snprintf(buf, len, "dropped by this host, not the network: %s%s", rx, tx);
    return 1;
}

void tw_report_local_drops(FILE *f, const tw_sender_result_t *r, const tw_loss_t *loss)
{
    char line[512];
    if (tw_report_local_drops_line(r, loss, line, sizeof line))
        fprintf(f, "Local drops: %s\n", line);
}

/* ---- the header ------------------------------------------------------------- */

const char *tw_report_clocks(const tw_sender_result_t *r)
{
    const tw_metrics_t *m = &r->metrics;
    if (r->shared_clock)
        return "shared (the reflector is on this host)";
    if (!m->received)
        return m->local_sync ? "local synchronized, reflector's unknown" : "not synchronized";
    if (m->local_sync && m->remote_sync_all)
        return "synchronized (S bits set)";
    return "not synchronized";
}

void tw_report_header(FILE *f, const char *what, const tw_sender_result_t *r)
{
    fprintf(f, "%s; mode %s; clocks %s\n", what, tw_mode_name(r->security_mode),
            tw_report_clocks(r));
}

/* ---- timestamp sources ----------------------------------------------------- */

const char *tw_ts_source(uint64_t kernel, uint64_t total)
{
    if (total == 0)
        return "none";
    if (kernel >= total)
        return "kernel";
    return kernel == 0 ? "user" : "mixed";
}

const char *tw_ts_summary(const tw_sender_result_t *r)
{
    const char *t1 = tw_ts_source(r->tx_kernel, r->sent);
    const char *t4 = tw_ts_source(r->rx_kernel, r->stats.received);
    if (!strcmp(t4, "none"))
        return t1; /* nothing came back: t1 alone */
    return strcmp(t1, t4) ? "mixed" : t1;
}

/* ---- the ASCII histogram ---------------------------------------------------- */

struct hrow {
    int64_t lo, hi;
    uint64_t n;
};

struct hcollect {
    struct hrow *b;
    size_t n, cap;
};

static void collect_cb(void *arg, int64_t lo, int64_t hi, uint64_t n)
{
    struct hcollect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct hrow *b = realloc(c->b, cap * sizeof *b);
        if (!b)
            return;
        c->b = b;
        c->cap = cap;
    }
    c->b[c->n++] = (struct hrow){lo, hi, n};
}

/* A delay for the histogram: "21.3us", "1.250ms", "2.000s". */
static const char *fmt_hdelay(char *buf, size_t len, double ns)
{
    double a = fabs(ns);
    if (a < 10e3)
        snprintf(buf, len, "%.2fus", ns / 1e3);
    else if (a < 1e6)
        snprintf(buf, len, "%.1fus", ns / 1e3);
    else if (a < 1e9)
        snprintf(buf, len, "%.3fms", ns / 1e6);
    else
        snprintf(buf, len, "%.3fs", ns / 1e9);
    return buf;
}

void tw_report_histogram(FILE *f, const tw_hist_t *h, int rows)
{
    struct hcollect c = {0};
    if (rows < 1)
        rows = 1;
    tw_hist_foreach(h, collect_cb, &c);
    fprintf(f, "Round-trip delay histogram (%llu replies)\n", (unsigned long long)h->n);
    if (c.n == 0) {
        fputs("  no replies\n", f);
        free(c.b);
        return;
    }
    /* The outer buckets start and end at the exact minimum and maximum. */
    if (c.b[0].lo < h->min)
        c.b[0].lo = h->min;
    if (c.b[c.n - 1].hi > h->max)
        c.b[c.n - 1].hi = h->max;
    struct hrow *r;
    size_t nr;
    if (c.n <= (size_t)rows) {
        r = c.b; /* few buckets: one row each */
        nr = c.n;
    } else {
        nr = (size_t)rows;
        r = calloc(nr, sizeof *r);
        if (!r) {
            free(c.b);
            return;
        }
        double lo = (double)h->min, hi = (double)h->max + 1;
        bool logscale = lo > 0 && hi / lo >= 10;
        for (size_t i = 0; i < nr; i++) {
            double a = logscale ? lo * pow(hi / lo, (double)i / (double)nr)
                                : lo + (hi - lo) * (double)i / (double)nr;
            double b = logscale ? lo * pow(hi / lo, (double)(i + 1) / (double)nr)
                                : lo + (hi - lo) * (double)(i + 1) / (double)nr;
            r[i].lo = (int64_t)ceil(a);
            r[i].hi = (int64_t)ceil(b) - 1;
        }
        r[nr - 1].hi = h->max;
        for (size_t k = 0, i = 0; k < c.n; k++) {
            int64_t mid = c.b[k].lo + (c.b[k].hi - c.b[k].lo) / 2;
            while (i + 1 < nr && mid > r[i].hi)
                i++;
            r[i].n += c.b[k].n;
        }
    }
    uint64_t top = 0;
    for (size_t i = 0; i < nr; i++)
        if (r[i].n > top)
            top = r[i].n;
    fprintf(f, "  %12s   %-12s %10s %7s\n", "from", "to", "count", "%");
    for (size_t i = 0; i < nr; i++) {
        char a[32], b[32], bar[41];
        int len = top ? (int)((40 * r[i].n + top / 2) / top) : 0;
        if (r[i].n && len == 0)
            len = 1;
        memset(bar, '#', (size_t)len);
        bar[len] = '\0';
        fprintf(f, "  %12s - %-12s %10llu %6.2f%%%s%s\n", fmt_hdelay(a, sizeof a, (double)r[i].lo),
                fmt_hdelay(b, sizeof b, (double)r[i].hi), (unsigned long long)r[i].n,
                100.0 * (double)r[i].n / (double)h->n, len ? "  " : "", bar);
    }
    if (r != c.b)
        free(r);
    free(c.b);
}

/* ---- totals over sessions ---------------------------------------------------- */

void tw_report_total_init(tw_sender_result_t *t)
{
    memset(t, 0, sizeof *t);
    tw_stats_init(&t->stats);
    tw_metrics_init_total(&t->metrics);
}

void tw_report_merge(tw_sender_result_t *into, const tw_sender_result_t *from)
{
    /* The total's clock is shared when every session's is. */
    bool first = into->sent == 0 && into->stats.received == 0;
    into->shared_clock = first ? from->shared_clock : into->shared_clock && from->shared_clock;
    tw_stats_merge(&into->stats, &from->stats);
    tw_metrics_merge(&into->metrics, &from->metrics);
    into->late += from->late;
    into->sent += from->sent;
    into->duplicates += from->duplicates;
    into->unmatched += from->unmatched;
    into->short_replies += from->short_replies;
    into->send_errors += from->send_errors;
    into->local_rx_drops += from->local_rx_drops;
    into->local_tx_drops += from->local_tx_drops;
    if (!into->rx_buffer || (from->rx_buffer && from->rx_buffer < into->rx_buffer))
        into->rx_buffer = from->rx_buffer;
    into->tx_kernel += from->tx_kernel;
    into->rx_kernel += from->rx_kernel;
    into->hw_pairs += from->hw_pairs;
    into->hw_fallback += from->hw_fallback;
    into->hw_timestamps = into->hw_timestamps || from->hw_timestamps;
    into->integrity_failures += from->integrity_failures;
    into->reflect_ok += from->reflect_ok;
    into->reflect_bad += from->reflect_bad;
    for (int i = 0; i < 4; i++) {
        into->ecn_in[i] += from->ecn_in[i];
        into->fwd_ecn[i] += from->fwd_ecn[i];
    }
    into->fwd_seen += from->fwd_seen;
    into->fwd_dscp_other += from->fwd_dscp_other;
    /* Labels: the first session's mode and label; the count adds up the
     * sessions' own (random labels, per-packet) but not one label again. */
    if (!into->flowlabel_mode) {
        into->flowlabel_mode = from->flowlabel_mode;
        into->flowlabel = from->flowlabel;
        into->flowlabels = from->flowlabels;
    } else if (from->flowlabel_mode) {
        if (from->flowlabel_mode == TW_FL_PER_PACKET || from->flowlabel != into->flowlabel)
            into->flowlabels += from->flowlabels;
        if (from->flowlabel_mode != into->flowlabel_mode)
            into->flowlabel_mode = TW_FL_MIXED;
    }
    if (from->fwd_seen)
        into->fwd_dscp_last = from->fwd_dscp_last;
    tw_reply_issues_merge(&into->issues, &from->issues);
    tw_conform_merge(&into->conform, &from->conform);
    if (!into->security_mode)
        into->security_mode = from->security_mode;
    into->interrupted = into->interrupted || from->interrupted;
    into->seed = from->seed;
    into->last_rtt = from->last_rtt;
    if (from->elapsed_s > into->elapsed_s)
        into->elapsed_s = from->elapsed_s;
    if (!into->fatal_errno && from->fatal_errno) {
        into->fatal_errno = from->fatal_errno;
        memcpy(into->fatal, from->fatal, sizeof into->fatal);
    }
}

/* ---- replies not used, other layouts, ICMP errors (issue 11) ------------------ */

void tw_reply_issues_merge(tw_reply_issues_t *into, const tw_reply_issues_t *from)
{
    for (int i = 0; i < TW_RR_COUNT; i++)
        into->unusable[i] += from->unusable[i];
    if (from->unusable[TW_RR_TOO_SHORT]) {
        if (!into->short_max || from->short_min < into->short_min)
            into->short_min = from->short_min;
        if (from->short_max > into->short_max)
            into->short_max = from->short_max;
    }
    for (int i = 0; i < TW_RN_COUNT; i++)
        into->noted[i] += from->noted[i];
    into->oneway_na += from->oneway_na;
    for (int i = 0; i < TW_ICMP_COUNT; i++) {
        if (!into->icmp[i])
            memcpy(into->icmp_from[i], from->icmp_from[i], sizeof into->icmp_from[i]);
        into->icmp[i] += from->icmp[i];
    }
    if (from->icmp_mtu)
        into->icmp_mtu = from->icmp_mtu;
}

/* "14 octets" or "14..35 octets" */
static const char *short_lengths(const tw_reply_issues_t *is, char *b, size_t len)
{
    if (is->short_min == is->short_max)
        snprintf(b, len, "%u octets", is->short_min);
    else
        snprintf(b, len, "%u..%u octets", is->short_min, is->short_max);
    return b;
}

/* What became of the replies not used (tw_reply_issues_t.unusable), and what
 * the sender made of the ones measured from another layout (.noted), in the
 * order the report gives them. */
static const char *const unusable_text[TW_RR_COUNT] = {
    [TW_RR_UNKNOWN_SEQ] = "echo no sequence number we sent (or one long gone)",
    [TW_RR_NOT_OURS] = "echo a Sender Timestamp from before this run (replies to an earlier run)",
    [TW_RR_WRONG_SOURCE] = "came from another address or port than the reflector's",
    [TW_RR_INTEGRITY] =
        "failed the integrity check (HMAC, or shorter than the authenticated format)",
};

static const struct {
    int note;
    const char *head, *text;
} note_text[] = {
    {TW_RN_SWAPPED, "Reflector layout",
     "with the Timestamp and Sender Timestamp fields swapped (our t1 at offset 4, its t3 at "
     "offset 28); measured"},
    {TW_RN_ECHO, "Reflector layout",
     "echo the request (our Sequence Number and t1 at offsets 0 and 4, no reflector "
     "timestamps): round trip only"},
    {TW_RN_TS_NOT_ECHOED, "Reflector layout",
     "matched by Sender Sequence Number alone (the Sender Timestamp is not the one sent)"},
    {TW_RN_NO_TTL, "Reflector layout",
     "without a Sender TTL (shorter than 41 octets, or 0): outbound TTL unknown"},
    {TW_RN_IMPLAUSIBLE, "Reflector timestamps",
     "with t2/t3 unusable (missing, t3 before t2, or a residence longer than the round trip): "
     "round trip only"},
};

int tw_reply_issue_lines(const tw_sender_result_t *r, char lines[][320], int max)
{
    const tw_reply_issues_t *is = &r->issues;
    int n = 0;
    unsigned long long sent = (unsigned long long)r->sent;
#define LINE(...)                                                                                  \
    do {                                                                                           \
        if (n < max)                                                                               \
            snprintf(lines[n++], 320, __VA_ARGS__);                                                \
    } while (0)
    char b[64];
    for (int i = 0; i < TW_RR_COUNT; i++) {
        unsigned long long k = is->unusable[i];
        if (!k)
            continue;
        if (i == TW_RR_TOO_SHORT)
            LINE("Replies not used: %llu too short (%s; the reflector's layout needs 36 octets up "
                 "to the Sender Timestamp, or our Sequence Number and Timestamp echoed at offsets "
                 "0 and 4)",
                 k, short_lengths(is, b, sizeof b));
        else
            LINE("Replies not used: %llu %s", k, unusable_text[i]);
    }
    for (size_t i = 0; i < sizeof note_text / sizeof note_text[0]; i++)
        if (is->noted[note_text[i].note])
            LINE("%s: %llu replies %s", note_text[i].head,
                 (unsigned long long)is->noted[note_text[i].note], note_text[i].text);
    if (is->oneway_na)
        LINE("One-way delays and residence: n/a for %llu of %llu replies (the round trip from "
             "our t1 and t4 only)",
             (unsigned long long)is->oneway_na, (unsigned long long)r->stats.received);
    if ((unsigned long long)is->icmp[TW_ICMP_PORT_UNREACH])
        LINE("ICMP: %s answered ICMP port unreachable to %llu of %llu packets: is a reflector "
             "listening?",
             is->icmp_from[TW_ICMP_PORT_UNREACH],
             (unsigned long long)is->icmp[TW_ICMP_PORT_UNREACH], sent);
    if ((unsigned long long)is->icmp[TW_ICMP_HOST_UNREACH])
        LINE("ICMP: %s answered ICMP host unreachable to %llu of %llu packets: is the address "
             "right, the host up and the path open?",
             is->icmp_from[TW_ICMP_HOST_UNREACH],
             (unsigned long long)is->icmp[TW_ICMP_HOST_UNREACH], sent);
    if ((unsigned long long)is->icmp[TW_ICMP_FRAG_NEEDED]) {
        b[0] = '\0';
        if (is->icmp_mtu)
            snprintf(b, sizeof b, " (MTU %u)", is->icmp_mtu);
        LINE("ICMP: %s answered ICMP fragmentation needed%s to %llu of %llu packets: the packets "
             "are too big for the path with do-not-fragment; lower --padding",
             is->icmp_from[TW_ICMP_FRAG_NEEDED], b,
             (unsigned long long)is->icmp[TW_ICMP_FRAG_NEEDED], sent);
    }
    if ((unsigned long long)is->icmp[TW_ICMP_TTL_EXCEEDED])
        LINE("ICMP: %s answered ICMP TTL exceeded to %llu of %llu packets: the reflector is "
             "farther than --ttl hops",
             is->icmp_from[TW_ICMP_TTL_EXCEEDED],
             (unsigned long long)is->icmp[TW_ICMP_TTL_EXCEEDED], sent);
    if ((unsigned long long)is->icmp[TW_ICMP_LOCAL_MSGSIZE]) {
        b[0] = '\0';
        if (is->icmp_mtu)
            snprintf(b, sizeof b, ", path MTU %u", is->icmp_mtu);
        LINE("ICMP: the kernel refused %llu packet%s to %s as too big to send with "
             "do-not-fragment (local EMSGSIZE%s); lower --padding",
             (unsigned long long)is->icmp[TW_ICMP_LOCAL_MSGSIZE],
             is->icmp[TW_ICMP_LOCAL_MSGSIZE] == 1 ? "" : "s", is->icmp_from[TW_ICMP_LOCAL_MSGSIZE],
             b);
    }
    if ((unsigned long long)is->icmp[TW_ICMP_OTHER])
        LINE("ICMP: %llu other ICMP errors (the first from %s)",
             (unsigned long long)is->icmp[TW_ICMP_OTHER], is->icmp_from[TW_ICMP_OTHER]);
#undef LINE
    return n;
}

void tw_report_issues(FILE *f, const tw_sender_result_t *r)
{
    char lines[TW_MAX_ISSUE_LINES][320];
    int n = tw_reply_issue_lines(r, lines, TW_MAX_ISSUE_LINES);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
}

/* ---- conformance findings (issue 11) ----------------------------------------- */

int tw_conform_lines(const tw_sender_result_t *r, char lines[][TW_CONFORM_LINE], int max)
{
    int n = 0;
    /* Warnings first, then the notes (what kind of reflector it is). */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < TW_CF_COUNT && n < max; k++)
            if ((pass == 1) == !strcmp(tw_conform_severity(k), "info") &&
                tw_conform_count(&r->conform, k))
                tw_conform_line(&r->conform, k, lines[n++], TW_CONFORM_LINE);
    return n;
}

void tw_report_conformance(FILE *f, const tw_sender_result_t *r)
{
    char lines[TW_CF_COUNT][TW_CONFORM_LINE];
    int n = tw_conform_lines(r, lines, TW_CF_COUNT);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
}

void tw_report_reflect(FILE *f, const tw_sender_result_t *r)
{
    uint64_t n = r->reflect_ok + r->reflect_bad;
    if (!n)
        return;
    fprintf(f, "Reflect octets (RFC 6038): %llu of %llu replies carried the padding back%s\n",
            (unsigned long long)r->reflect_ok, (unsigned long long)n,
            r->reflect_bad ? " (the others did not: see the log)" : "");
}

const char *tw_ecn_name(int ecn)
{
    static const char *const names[4] = {"Not-ECT", "ECT(1)", "ECT(0)", "CE"};
    return names[ecn & 3];
}

/* "Not-ECT 3, ECT(0) 7": the codepoints seen, in order. */
static void ecn_list(char *buf, size_t len, const uint64_t n[4])
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4 && pos < len; i++) {
        if (!n[i])
            continue;
        int w = snprintf(buf + pos, len - pos, "%s%s %llu", pos ? ", " : "", tw_ecn_name(i),
                         (unsigned long long)n[i]);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
}

void tw_report_ecn(FILE *f, const tw_sender_result_t *r)
{
    char l[160];
    uint64_t in = r->ecn_in[0] + r->ecn_in[1] + r->ecn_in[2] + r->ecn_in[3];
    if (in) {
        ecn_list(l, sizeof l, r->ecn_in);
        fprintf(f, "ECN of the replies as received: %s\n", l);
    }
    if (r->fwd_seen) {
        ecn_list(l, sizeof l, r->fwd_ecn);
        fprintf(f,
                "At the reflector (RFC 7750): ECN %s; DSCP %d%s (%llu of %llu replies with "
                "another DSCP than sent)\n",
                l, r->fwd_dscp_last, r->fwd_dscp_other ? " last" : "",
                (unsigned long long)r->fwd_dscp_other, (unsigned long long)r->fwd_seen);
    }
}

/* ---- flow labels and paths ----------------------------------------------------- */

void tw_report_paths(FILE *f, const tw_sender_result_t *r)
{
    const tw_metrics_t *m = &r->metrics;
    if (r->flowlabel_mode) {
        char what[96];
        if (r->flowlabel_mode == TW_FL_PER_PACKET)
            snprintf(what, sizeof what, "per packet, %llu distinct labels sent",
                     (unsigned long long)r->flowlabels);
        else if (r->flowlabel_mode == TW_FL_MIXED) /* a total over several modes */
            snprintf(what, sizeof what, "mixed (sessions of several modes), %llu labels sent",
                     (unsigned long long)r->flowlabels);
        else if (r->flowlabels > 1) /* a total: a random label per session */
            snprintf(what, sizeof what, "%s, %llu labels (one per session)",
                     tw_flowlabel_mode_name(r->flowlabel_mode), (unsigned long long)r->flowlabels);
        else
            snprintf(what, sizeof what, "0x%05x (%s)", r->flowlabel,
                     tw_flowlabel_mode_name(r->flowlabel_mode));
        uint64_t n = m->fl_reflected + m->fl_changed;
        fprintf(f,
                "Flow label: %s; %llu of %llu replies came back with the label sent, %llu with "
                "another (changed in flight, or not reflected by the reflector)\n",
                what, (unsigned long long)m->fl_reflected, (unsigned long long)n,
                (unsigned long long)m->fl_changed);
    }
    if (!r->flowlabel_mode && !m->path_changes && m->npaths <= 1)
        return;
    char more[64] = "";
    if (m->paths_overflow)
        snprintf(more, sizeof more, " (and %llu replies on others not counted)",
                 (unsigned long long)m->paths_overflow);
    fprintf(f,
            "Paths: %u distinct (outbound, inbound) TTL / Hop Limit pair%s%s, %llu path change%s "
            "between consecutive replies\n",
            m->npaths, m->npaths == 1 ? "" : "s", more, (unsigned long long)m->path_changes,
            m->path_changes == 1 ? "" : "s");
}

/* ---- STAMP TLVs (RFC 8972) ----------------------------------------------------- */

static const char *tlv_addr(char *buf, size_t len, int family, const uint8_t a[16], uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];
    if (!family || !inet_ntop(family, a, ip, sizeof ip))
        snprintf(ip, sizeof ip, "?");
    snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
    return buf;
}

/* A table cell without its padding. */
static const char *trimmed(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

void tw_tlv_report_lines(FILE *f, const tw_tlv_result_t *t)
{
    if (!t->want && !t->seen[TW_TLV_NTYPES - 1] && !t->replies)
        return;
    fprintf(f, "STAMP TLVs (RFC 8972): read in %" PRIu64 " replies", t->replies);
    if (t->no_tlvs)
        fprintf(f, ", %" PRIu64 " replies without them", t->no_tlvs);
    if (t->bad_area)
        fprintf(f, ", %" PRIu64 " with a TLV area that does not parse", t->bad_area);
    fputc('\n', f);
    char name[16], a[64], b[64];
    for (int k = 0; k < TW_TLV_NTYPES; k++) {
        if (!t->seen[k])
            continue;
        fprintf(f, "  %-20s %" PRIu64 " back", tw_tlv_type_name((uint8_t)k, name, sizeof name),
                t->seen[k]);
        if (k == TW_TLV_NTYPES - 1)
            fprintf(f, " (types %d and up)", TW_TLV_NTYPES - 1);
        if (t->u[k])
            fprintf(f, ", %" PRIu64 " not understood (U)", t->u[k]);
        if (t->m[k])
            fprintf(f, ", %" PRIu64 " malformed (M)", t->m[k]);
        if (t->i[k])
            fprintf(f, ", %" PRIu64 " failed the integrity check (I)", t->i[k]);
        fputc('\n', f);
    }
    if (t->hmac_ok || t->hmac_bad)
        fprintf(f,
                "  HMAC TLV: %" PRIu64 " verified, %" PRIu64 " failed (TLVs of those not used)\n",
                t->hmac_ok, t->hmac_bad);
    if (t->loc_n)
        fprintf(f, "  Location: the reflector saw %s -> %s%s\n",
                tlv_addr(a, sizeof a, t->loc_src_family, t->loc_src, t->loc_sport),
                tlv_addr(b, sizeof b, t->loc_dst_family, t->loc_dst, t->loc_dport),
                t->loc_changed ? " (changed during the run: NAT or path change?)" : "");
    if (t->ts_n)
        fprintf(f, "  Timestamp Information: reflector clock %s; t2 %s, t3 %s (sync out %s)\n",
                tw_tlv_sync_name(t->sync_in), tw_tlv_method_name(t->ts_in),
                tw_tlv_method_name(t->ts_out), tw_tlv_sync_name(t->sync_out));
    if (t->cos_n) {
        fprintf(f,
                "  Class of Service: sent DSCP %s, the reflector received DSCP %s ECN %d; reply "
                "asked as %s",
                tw_dscp_name(t->cos_sent_dscp), tw_dscp_name(t->cos_dscp2 & 63), t->cos_ecn,
                tw_dscp_name(t->cos_dscp1 & 63));
        if (t->cos_reply_dscp >= 0)
            fprintf(f, ", came back as %s", tw_dscp_name(t->cos_reply_dscp & 63));
        fprintf(f,
                "\n    re-marked on the way out in %" PRIu64 " of %" PRIu64 ", on the way back in ",
                t->cos_fwd_remarked, t->cos_n);
        if (t->cos_rev_unknown == t->cos_n)
            fprintf(f, "n/a (reply DSCP not known)");
        else
            fprintf(f, "%" PRIu64 " of %" PRIu64, t->cos_rev_remarked,
                    t->cos_n - t->cos_rev_unknown - t->cos_rp);
        if (t->cos_rp)
            fprintf(f, "; %" PRIu64 " replies not marked as asked (RP set)", t->cos_rp);
        fputc('\n', f);
    }
    if (t->dm_n)
        fprintf(f,
                "  Direct Measurement: sender Tx %" PRIu32 "..%" PRIu32 ", reflector Rx %" PRIu32
                "..%" PRIu32 ", reflector Tx %" PRIu32 "..%" PRIu32 "\n",
                t->dm_first[0], t->dm_last[0], t->dm_first[1], t->dm_last[1], t->dm_first[2],
                t->dm_last[2]);
    if (t->ac_n)
        fprintf(f, "  Access Report: echoed in %" PRIu64 " replies (ID %u, return code %u)\n",
                t->ac_n, t->ac_id, t->ac_rc);
    if (t->fu_n) {
        fprintf(f, "  Follow-Up Telemetry: %" PRIu64 " answers", t->fu_n);
        if (t->fu_matched) {
            char mn[32], avg[32], mx[32];
            fprintf(f,
                    "; the reflector's replies really left %s / %s / %s (min/avg/max) after "
                    "their t3 (%s, %" PRIu64 " matched)",
                    trimmed(tw_fmt_delay(mn, sizeof mn, (double)t->fu_min / 1e6)),
                    trimmed(tw_fmt_delay(avg, sizeof avg, t->fu_sum / (double)t->fu_matched / 1e6)),
                    trimmed(tw_fmt_delay(mx, sizeof mx, (double)t->fu_max / 1e6)),
                    tw_tlv_method_name(t->fu_method), t->fu_matched);
        }
        if (t->fu_zero)
            fprintf(f,
                    "; %" PRIu64 " empty (no earlier reply, stateless reflector or no "
                    "transmit timestamp)",
                    t->fu_zero);
        fputc('\n', f);
    }
}
