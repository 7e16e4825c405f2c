/* plot_svg: a run's per-packet records drawn as one self-contained SVG. */
#include "plot_svg.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report_csv.h"

#define DECIMATE_ABOVE 2000 /* packets: above this, min/max per pixel column */
#define MARKERS_UP_TO 300   /* packets: up to this, a dot on every sample */
#define HIST_BINS 40
#define MAX_SPREAD_NS 1000000000000000000LL

enum { S_RTT, S_OUT, S_IN, NSERIES };
static const char *const series_rgb[NSERIES] = {TW_PLOT_RTT_RGB, TW_PLOT_OUT_RGB, TW_PLOT_IN_RGB};
static const char *const series_name[NSERIES] = {"round trip", "outbound", "inbound"};

/* A time within 10^18 ns (31 years) of t1, so that no delay overflows. */
static bool near_t1(tw_time_t t, tw_time_t t1)
{
    int64_t d;
    return t && !__builtin_sub_overflow(t, t1, &d) && d <= MAX_SPREAD_NS && d >= -MAX_SPREAD_NS;
}

static bool answered(const tw_packet_record_t *r)
{
    return (r->status == TW_PKT_OK || r->status == TW_PKT_REORDERED ||
            r->status == TW_PKT_DUPLICATE) &&
           r->t1 && near_t1(r->t2, r->t1) && near_t1(r->t3, r->t1) && near_t1(r->t4, r->t1);
}

static int64_t delay_of(const tw_packet_record_t *r, int s)
{
    switch (s) {
    case S_OUT:
        return r->t2 - r->t1;
    case S_IN:
        return r->t4 - r->t3;
    default:
        return (r->t4 - r->t1) - (r->t3 - r->t2);
    }
}

/* Text for XML character data or an attribute: markup escaped, control
 * characters (not allowed in XML 1.0) left out. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&apos;", f);
        else if (c >= 0x20 && c != 0x7f)
            fputc(c, f);
    }
}

/* Ticks on an axis at the most (nice_step gives about 6 or 10). */
#define MAX_TICKS 32

/* A step of 1, 2 or 5 times a power of ten giving about want intervals. */
static double nice_step(double range, int want)
{
    if (!(range > 0))
        return 1;
    double raw = range / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* The delay unit for values up to maxabs ns. */
static void pick_unit(double maxabs, const char **name, double *ns)
{
    if (maxabs >= 1e9) {
        *name = "s";
        *ns = 1e9;
    } else if (maxabs >= 1e6) {
        *name = "ms";
        *ns = 1e6;
    } else {
        *name = "\xc2\xb5s"; /* µs */
        *ns = 1e3;
    }
}

/* A delay for the summary: "8.2 µs", "1.250 ms", "-3 ns". */
static const char *fmt_ns(char *buf, size_t len, double ns)
{
    double a = fabs(ns);
    if (a >= 1e9)
        snprintf(buf, len, "%.3f s", ns / 1e9);
    else if (a >= 1e6)
        snprintf(buf, len, "%.3f ms", ns / 1e6);
    else if (a >= 1e3)
        snprintf(buf, len, "%.1f \xc2\xb5s", ns / 1e3);
    else
        snprintf(buf, len, "%.0f ns", ns);
    return buf;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_by_t1(const void *a, const void *b, void *base)
{
    const tw_packet_record_t *recs = base, *x = &recs[*(const size_t *)a],
                             *y = &recs[*(const size_t *)b];
    if (x->t1 != y->t1)
        return (x->t1 > y->t1) - (x->t1 < y->t1);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Nearest-rank percentile of a sorted array. */
static int64_t pct(const int64_t *v, size_t n, double p)
{
    size_t k = (size_t)ceil(p / 100 * (double)n);
    return v[k ? k - 1 : 0];
}

struct figs {
    size_t sent, received, lost, late, dup, reord;
    size_t n[NSERIES];
    int64_t min[NSERIES], max[NSERIES];
    double sum[NSERIES];
    double ipdv; /* mean |difference| of consecutive round trips, ns */
    int64_t median, p99;
};

/* An axis: the label of each tick, lines across the plot area. */
static void y_axis(FILE *f, int x0, int x1, int y0, int y1, double lo, double hi, double unit,
                   const char *label)
{
    double step = nice_step(hi - lo, 6);
    double first = ceil(lo / step);
    /* A tick each step, at most MAX_TICKS: where lo and hi are far from 0
     * and close together (a crafted CSV row), v + step can equal v. */
    for (int i = 0; i < MAX_TICKS; i++) {
        double v = (first + i) * step;
        if (v > hi + step * 1e-9)
            break;
        double y = y1 - (v - lo) / (hi - lo) * (y1 - y0);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%g</text>\n",
                x0, y, x1, y, x0 - 6, y + 4, fabs(v / unit) < 1e-12 ? 0 : v / unit);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 %d %d)\">",
            x0 - 58, (y0 + y1) / 2, x0 - 58, (y0 + y1) / 2);
    xml_text(f, label);
    fputs("</text>\n", f);
}

static void x_axis(FILE *f, int x0, int x1, int y1, double lo, double hi, double unit,
                   const char *label)
{
    double step = nice_step(hi - lo, 10);
    double first = ceil(lo / step);
    for (int i = 0; i < MAX_TICKS; i++) {
        double v = (first + i) * step;
        if (v > hi + step * 1e-9)
            break;
        double x = x0 + (v - lo) / (hi - lo) * (x1 - x0);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>"
                "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%g</text>\n",
                x, y1, x, y1 + 5, x, y1 + 19, fabs(v / unit) < 1e-12 ? 0 : v / unit);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\">", (x0 + x1) / 2,
            y1 + 38);
    xml_text(f, label);
    fputs("</text>\n", f);
}

static void frame(FILE *f, int x0, int x1, int y0, int y1)
{
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
            "stroke=\"#333333\"/>\n",
            x0, y0, x1 - x0, y1 - y0);
}

/* The delay-over-time panel. idx: the records in send-time order. */
static void time_panel(FILE *f, const tw_packet_record_t *recs, const size_t *idx, size_t n,
                       const struct figs *g)
{
    const int X0 = TW_PLOT_TS_X0, X1 = TW_PLOT_TS_X1, Y0 = TW_PLOT_TS_Y0, Y1 = TW_PLOT_TS_Y1;
    tw_time_t tmin = n ? recs[idx[0]].t1 : 0, tmax = n ? recs[idx[n - 1]].t1 : 0;
    double span = (double)tmax - (double)tmin; /* in double: the difference may not fit */
    if (span <= 0)
        span = 1e9;
    double lo = 0, hi = 0;
    for (int s = 0; s < NSERIES; s++)
        if (g->n[s]) {
            lo = fmin(lo, (double)g->min[s]);
            hi = fmax(hi, (double)g->max[s]);
        }
    if (hi <= lo)
        hi = lo + 1000;
    hi += (hi - lo) * 0.05;
    const char *uname;
    double unit;
    pick_unit(fmax(fabs(lo), fabs(hi)), &uname, &unit);
    char label[64];
    snprintf(label, sizeof label, "delay (%s)", uname);

    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">Delay of each packet "
            "over time</text>\n",
            X0, Y0 - 38);
    y_axis(f, X0, X1, Y0, Y1, lo, hi, unit, label);
    x_axis(f, X0, X1, Y1, 0, span / 1e9, 1, "time since the first packet (s)");
#define XPOS(t) (X0 + ((double)(t) - (double)tmin) / span * (X1 - X0))
#define YPOS(v) (Y1 - ((double)(v)-lo) / (hi - lo) * (Y1 - Y0))
    /* Lost packets: a faint line through the panel and a triangle above it,
     * one per pixel column at most. */
    int lastcol = -1;
    fprintf(f, "<g fill=\"%s\" stroke=\"%s\">\n", TW_PLOT_LOST_RGB, TW_PLOT_LOST_RGB);
    for (size_t k = 0; k < n; k++) {
        const tw_packet_record_t *r = &recs[idx[k]];
        if (r->status != TW_PKT_LOST)
            continue;
        double x = XPOS(r->t1);
        if ((int)x == lastcol)
            continue;
        lastcol = (int)x;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke-opacity=\"0.3\"/>"
                "<path d=\"M%.1f %dh-5l5 %dl5 -%dz\" stroke=\"none\"/>\n",
                x, Y0, x, Y1, x, TW_PLOT_LOST_Y0, TW_PLOT_LOST_Y1 - TW_PLOT_LOST_Y0,
                TW_PLOT_LOST_Y1 - TW_PLOT_LOST_Y0);
    }
    fputs("</g>\n", f);
    /* The series: inbound and outbound under the round trip. */
    bool decimate = n > DECIMATE_ABOVE;
    for (int s = NSERIES - 1; s >= 0; s--) {
        if (!g->n[s])
            continue;
        fprintf(f,
                "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                "stroke-linejoin=\"round\" points=\"",
                series_rgb[s]);
        int col = -1;
        int64_t cmin = 0, cmax = 0;
        for (size_t k = 0; k < n; k++) {
            const tw_packet_record_t *r = &recs[idx[k]];
            if (!answered(r))
                continue;
            int64_t v = delay_of(r, s);
            double x = XPOS(r->t1);
            if (!decimate) {
                fprintf(f, "%.1f,%.1f ", x, YPOS(v));
                continue;
            }
            if ((int)x != col) {
                if (col >= 0)
                    fprintf(f, "%d,%.1f %d,%.1f ", col, YPOS(cmin), col, YPOS(cmax));
                col = (int)x;
                cmin = cmax = v;
            } else {
                cmin = v < cmin ? v : cmin;
                cmax = v > cmax ? v : cmax;
            }
        }
        if (decimate && col >= 0)
            fprintf(f, "%d,%.1f %d,%.1f ", col, YPOS(cmin), col, YPOS(cmax));
        fputs("\"/>\n", f);
        if (n <= MARKERS_UP_TO) {
            fprintf(f, "<g fill=\"%s\">", series_rgb[s]);
            for (size_t k = 0; k < n; k++) {
                const tw_packet_record_t *r = &recs[idx[k]];
                if (answered(r))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>", XPOS(r->t1),
                            YPOS(delay_of(r, s)));
            }
            fputs("</g>\n", f);
        }
    }
#undef XPOS
#undef YPOS
    frame(f, X0, X1, Y0, Y1);
    /* The legend, above the panel on the right. */
    int lx = X1 - 470;
    for (int s = 0; s < NSERIES; s++, lx += 115)
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                "<text x=\"%d\" y=\"%d\" font-size=\"13\">%s</text>\n",
                lx, Y0 - 43, lx + 22, Y0 - 43, series_rgb[s], lx + 27, Y0 - 39, series_name[s]);
    fprintf(f,
            "<path d=\"M%d %dh12l-6 10z\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
            "font-size=\"13\">lost</text>\n",
            lx + 5, Y0 - 48, TW_PLOT_LOST_RGB, lx + 22, Y0 - 39);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555555\">one-way delays are only "
            "as good as the agreement of the two clocks</text>\n",
            X0, Y1 + 58);
}

static void hist_panel(FILE *f, const int64_t *rtt, size_t m)
{
    const int X0 = TW_PLOT_HIST_X0, X1 = TW_PLOT_HIST_X1, Y0 = TW_PLOT_HIST_Y0,
              Y1 = TW_PLOT_HIST_Y1;
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">Round-trip "
            "histogram</text>\n",
            X0, Y0 - 12);
    if (!m) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\">no replies</text>\n", X0 + 20,
                (Y0 + Y1) / 2);
        frame(f, X0, X1, Y0, Y1);
        return;
    }
    double lo = (double)rtt[0], hi = (double)rtt[m - 1];
    if (hi - lo < 1) {
        lo -= 500;
        hi += 500;
    }
    double width = (hi - lo) / HIST_BINS;
    size_t bins[HIST_BINS] = {0}, top = 0;
    for (size_t i = 0; i < m; i++) {
        int b = (int)(((double)rtt[i] - lo) / width);
        b = b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b;
        bins[b]++;
    }
    for (int b = 0; b < HIST_BINS; b++)
        top = bins[b] > top ? bins[b] : top;
    double ytop = (double)top * 1.1;
    const char *uname;
    double unit;
    pick_unit(fmax(fabs(lo), fabs(hi)), &uname, &unit);
    char label[64];
    snprintf(label, sizeof label, "round trip (%s)", uname);
    y_axis(f, X0, X1, Y0, Y1, 0, ytop, 1, "packets");
    x_axis(f, X0, X1, Y1, lo, hi, unit, label);
    fprintf(f, "<g fill=\"%s\">\n", TW_PLOT_RTT_RGB);
    double bw = (double)(X1 - X0) / HIST_BINS;
    for (int b = 0; b < HIST_BINS; b++) {
        if (!bins[b])
            continue;
        double h = (double)bins[b] / ytop * (Y1 - Y0);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                X0 + b * bw + 0.5, Y1 - h, bw - 1, h);
    }
    fputs("</g>\n", f);
    frame(f, X0, X1, Y0, Y1);
}

static void sum_line(FILE *f, int *y, const char *key, const char *val)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\">", TW_PLOT_SUM_X0 + 10, *y);
    xml_text(f, key);
    fprintf(f, "</text><text x=\"%d\" y=\"%d\" font-size=\"14\" font-family=\"monospace\">",
            TW_PLOT_SUM_X0 + 190, *y);
    xml_text(f, val);
    fputs("</text>\n", f);
    *y += 20;
}

static void summary(FILE *f, const struct figs *g)
{
    int y = TW_PLOT_SUM_Y0 + 22;
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f7f7f7\" "
            "stroke=\"#333333\"/>\n"
            "<text x=\"%d\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">Summary</text>\n",
            TW_PLOT_SUM_X0, TW_PLOT_SUM_Y0, TW_PLOT_TS_X1 - TW_PLOT_SUM_X0,
            TW_PLOT_HIST_Y1 + 20 - TW_PLOT_SUM_Y0, TW_PLOT_SUM_X0 + 10, y);
    y += 26;
    char v[96], a[32];
    snprintf(v, sizeof v, "%zu", g->sent);
    sum_line(f, &y, "packets sent", v);
    snprintf(v, sizeof v, "%zu", g->received);
    sum_line(f, &y, "answered", v);
    snprintf(v, sizeof v, "%zu (%.2f %%)", g->lost,
             g->sent ? 100.0 * (double)g->lost / (double)g->sent : 0.0);
    sum_line(f, &y, "lost (round trip)", v);
    snprintf(v, sizeof v, "%zu late, %zu dup, %zu reord", g->late, g->dup, g->reord);
    sum_line(f, &y, "also", v);
    y += 6;
    if (g->n[S_RTT]) {
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, (double)g->min[S_RTT]));
        sum_line(f, &y, "round trip min", v);
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, (double)g->median));
        sum_line(f, &y, "round trip median", v);
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, g->sum[S_RTT] / (double)g->n[S_RTT]));
        sum_line(f, &y, "round trip mean", v);
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, (double)g->p99));
        sum_line(f, &y, "round trip p99", v);
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, (double)g->max[S_RTT]));
        sum_line(f, &y, "round trip max", v);
        snprintf(v, sizeof v, "%s", fmt_ns(a, sizeof a, g->ipdv));
        sum_line(f, &y, "mean |\xce\x94 round trip|", v);
        y += 6;
        for (int s = S_OUT; s <= S_IN; s++) {
            /* In one unit: "1.500 / 2.026 / 2.500 ms". */
            double mean = g->sum[s] / (double)g->n[s], unit;
            const char *uname;
            pick_unit(fmax(fabs((double)g->min[s]), fabs((double)g->max[s])), &uname, &unit);
            int prec = unit == 1e3 ? 1 : 3;
            snprintf(v, sizeof v, "%.*f / %.*f / %.*f %s", prec, (double)g->min[s] / unit, prec,
                     mean / unit, prec, (double)g->max[s] / unit, uname);
            sum_line(f, &y, s == S_OUT ? "outbound min/avg/max" : "inbound min/avg/max", v);
        }
    } else {
        sum_line(f, &y, "round trip", "n/a (no replies)");
    }
}

int tw_plot_svg(FILE *f, const tw_packet_record_t *recs, size_t n, const tw_plot_info_t *info)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    int64_t *rtt = malloc((n ? n : 1) * sizeof *rtt);
    if (!idx || !rtt) {
        free(idx);
        free(rtt);
        errno = ENOMEM;
        return -1;
    }
    /* Records without a send time cannot be placed; they still count. */
    size_t m = 0, nt = 0;
    struct figs g;
    memset(&g, 0, sizeof g);
    for (size_t i = 0; i < n; i++) {
        const tw_packet_record_t *r = &recs[i];
        g.sent++;
        g.lost += r->status == TW_PKT_LOST;
        g.late += r->status == TW_PKT_LATE;
        g.dup += r->status == TW_PKT_DUPLICATE;
        g.reord += r->status == TW_PKT_REORDERED;
        if (r->t1)
            idx[nt++] = i;
        if (!answered(r))
            continue;
        g.received++;
        for (int s = 0; s < NSERIES; s++) {
            int64_t v = delay_of(r, s);
            if (!g.n[s] || v < g.min[s])
                g.min[s] = v;
            if (!g.n[s] || v > g.max[s])
                g.max[s] = v;
            g.sum[s] += (double)v;
            g.n[s]++;
        }
    }
    qsort_r(idx, nt, sizeof *idx, cmp_by_t1, (void *)recs);
    /* Round trips in send order (for |Δ|), then sorted (percentiles, histogram). */
    double dsum = 0;
    for (size_t k = 0; k < nt; k++) {
        const tw_packet_record_t *r = &recs[idx[k]];
        if (!answered(r))
            continue;
        rtt[m] = delay_of(r, S_RTT);
        if (m)
            dsum += fabs((double)(rtt[m] - rtt[m - 1]));
        m++;
    }
    g.ipdv = m > 1 ? dsum / (double)(m - 1) : 0;
    qsort(rtt, m, sizeof *rtt, cmp_i64);
    if (m) {
        g.median = pct(rtt, m, 50);
        g.p99 = pct(rtt, m, 99);
    }

    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
            "<title>twampy: ",
            TW_PLOT_WIDTH, TW_PLOT_HEIGHT, TW_PLOT_WIDTH, TW_PLOT_HEIGHT);
    xml_text(f, info && info->title ? info->title : "a run");
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", TW_PLOT_WIDTH,
            TW_PLOT_HEIGHT);
    fputs("<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">twampy", f);
    if (info && info->title) {
        fputs(": ", f);
        xml_text(f, info->title);
    }
    fputs("</text>\n", f);
    if (nt) {
        char iso[48];
        fprintf(f, "<text x=\"20\" y=\"46\" font-size=\"12\" fill=\"#555555\">first packet %s",
                tw_fmt_iso8601(iso, sizeof iso, recs[idx[0]].t1));
        fprintf(f, ", %zu packets</text>\n", n);
    }
    time_panel(f, recs, idx, nt, &g);
    hist_panel(f, rtt, m);
    summary(f, &g);
    fputs("</svg>\n", f);
    free(idx);
    free(rtt);
    if (ferror(f)) {
        errno = EIO;
        return -1;
    }
    return 0;
}
