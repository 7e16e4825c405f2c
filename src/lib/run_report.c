/* run_report: a whole run's report in text and JSON, interval lines, the
 * progress line (run_report.h). */
#include "run_report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control_wire.h"
#include "dscp.h"
#include "log.h"
#include "report.h"
#include "report_csv.h"
#include "report_json.h"

#define PROGRESS_BAR 20 /* characters of the progress bar */

void tw_run_init(tw_run_t *run, const char *command, tw_run_session_t *s, int n)
{
    memset(run, 0, sizeof *run);
    memset(s, 0, sizeof *s * (size_t)n);
    run->command = command;
    run->s = s;
    run->n = n;
    run->timestamping = "sw";
    for (int i = 0; i < n; i++)
        s[i].index = i + 1;
}

void tw_run_session_open(tw_run_t *run, int i, tw_sender_t *sender, const tw_sender_cfg_t *cfg)
{
    tw_run_session_t *so = &run->s[i];
    so->sender = sender;
    if (i == 0)
        run->cfg = *cfg;
    tw_addr_str((const struct sockaddr *)&cfg->remote, so->remote, sizeof so->remote);
    struct sockaddr_storage ss;
    socklen_t len;
    if (tw_sender_local(sender, &ss, &len) == 0)
        tw_addr_str((struct sockaddr *)&ss, so->local, sizeof so->local);
    so->seed = tw_sender_result(sender)->seed;
    so->stamp = cfg->stamp;
    so->ssid = cfg->ssid;
    so->count = cfg->count;
    so->interval_ns = cfg->interval_ns;
    so->padding = cfg->padding;
    so->tos = cfg->sockopts.tos;
    so->ttl = cfg->sockopts.ttl;
    tw_sender_schedule_head(cfg, so->seed, so->head, TW_RUN_SCHEDULE_HEAD);
    if (tw_log_on(TW_LOG_INFO)) {
        char line[TW_RUN_SCHEDULE_HEAD * 24] = "", b[24];
        for (int k = 0; k < TW_RUN_SCHEDULE_HEAD; k++) {
            snprintf(b, sizeof b, " %.3f", (double)so->head[k] / 1e3);
            strncat(line, b, sizeof line - strlen(line) - 1);
        }
        char who[32] = "";
        if (run->n > 1)
            snprintf(who, sizeof who, "%s %d: ", run->targets ? "Target" : "Session", so->index);
        tw_info("%s%s schedule, random seed %" PRIu64 "%s; first send times in us:%s", who,
                cfg->schedule == TW_SCHEDULE_POISSON ? "Poisson" : "periodic", so->seed,
                run->n > 1 ? "" : " (--seed repeats it)", line);
    }
}

void tw_run_session_remote(tw_run_t *run, int i, const struct sockaddr *sa)
{
    tw_addr_str(sa, run->s[i].remote, sizeof run->s[i].remote);
}

void tw_run_log_timestamps(const tw_sender_result_t *res)
{
    tw_info("Timestamps: t1 from the kernel's transmit timestamp for %llu of %llu packets, t4 "
            "from the kernel's receive timestamp for %llu of %llu replies (the rest from "
            "user space)",
            (unsigned long long)res->tx_kernel, (unsigned long long)res->sent,
            (unsigned long long)res->rx_kernel, (unsigned long long)res->stats.received);
    /* --timestamping hw: a reply's t1 and t4 are both the NIC's or both software. */
    if (res->hw_timestamps)
        tw_info("Timestamps: t1 and t4 both from the NIC's clock (converted to system time) for "
                "%llu replies, both software for %llu (a NIC timestamp missing or not "
                "convertible)",
                (unsigned long long)res->hw_pairs, (unsigned long long)res->hw_fallback);
}

/* A delay as the report's table writes it ("8us", "1.25ms"), without its padding. */
static const char *fmt_report(char *buf, size_t len, int64_t ns)
{
    char b[32];
    const char *t = tw_fmt_delay(b, sizeof b, (double)ns / 1e6);
    while (*t == ' ')
        t++;
    snprintf(buf, len, "%s", t);
    return buf;
}

void tw_run_interval(FILE *out, const tw_run_t *run, int index, const tw_interval_t *iv,
                     tw_run_format_t fmt)
{
    if (fmt == TW_RUN_JSON) {
        tw_json_interval(out, run->n > 1 ? index : 0, iv);
        return;
    }
    char who[32] = "";
    if (run->n > 1)
        snprintf(who, sizeof who, "%s %d ", run->targets ? "target" : "session", index);
    fprintf(out, "%s[%6.2f-%6.2f s] sent %llu received %llu lost %llu", who, iv->start_s, iv->end_s,
            (unsigned long long)iv->sent, (unsigned long long)iv->received,
            (unsigned long long)iv->lost);
    if (iv->received) {
        char a[32], b[32], c[32];
        /* In the table's units ("8us", "1.25ms"), as the progress line. */
        fprintf(out, " rtt min/avg/max %s/%s/%s\n", fmt_report(a, sizeof a, iv->rtt_min),
                fmt_report(b, sizeof b, (int64_t)iv->rtt_mean),
                fmt_report(c, sizeof c, iv->rtt_max));
    } else {
        fprintf(out, " rtt -\n");
    }
    fflush(out);
}

/* A time for the progress line: "7.4s", "2m05s", "1h02m". */
static const char *fmt_span(char *buf, size_t len, double s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

int tw_run_progress(const tw_run_t *run, double elapsed_s, char *buf, size_t len)
{
    const tw_sender_cfg_t *c = &run->cfg;
    uint64_t sent = 0, received = 0;
    int64_t rtt = 0, median = 0, rtt_max = 0;
    bool have_rtt = false, sending = false;
    for (int i = 0; i < run->n; i++) {
        const tw_run_session_t *so = &run->s[i];
        if (!so->sender)
            continue;
        const tw_sender_result_t *r = tw_sender_result(so->sender);
        sent += r->sent;
        received += r->stats.received;
        if (r->stats.received && !have_rtt) {
            rtt = r->last_rtt;
            median = tw_hist_percentile(&r->metrics.roundtrip.hist, 50);
            have_rtt = true;
        }
        if (r->metrics.roundtrip.n && r->metrics.roundtrip.max > rtt_max)
            rtt_max = r->metrics.roundtrip.max;
        sending = sending || (!tw_sender_done(so->sender) && (!c->count || r->sent < c->count));
    }
    /* Loss so far: of the packets sent long enough ago that their replies
     * should be in (the longest round trip yet, plus two intervals), those
     * that none answered; the packets still in flight are not lost. */
    uint64_t flight = 0;
    if (c->interval_ns > 0)
        flight = (uint64_t)run->n * (uint64_t)((rtt_max + 2 * c->interval_ns) / c->interval_ns);
    uint64_t settled = sent > flight ? sent - flight : 0;
    double loss = settled > received ? 100.0 * (double)(settled - received) / (double)settled : 0;
    char head[160], tail[96], a[32], b[32];
    uint64_t total = (uint64_t)c->count * (uint64_t)run->n;
    double planned = 0; /* seconds of sending; 0: open-ended */
    if (c->count)
        planned = (double)c->count * (double)c->interval_ns / 1e9;
    if (c->duration_ns && (planned == 0 || (double)c->duration_ns / 1e9 < planned))
        planned = (double)c->duration_ns / 1e9;
    if (planned > 0) {
        /* A bar as ping -c and iperf3 users know the end: the share done, the
         * count and the time left. */
        double frac = total ? (double)sent / (double)total : 0;
        double tfrac = elapsed_s / planned;
        if (!c->count || (c->duration_ns && tfrac > frac))
            frac = tfrac;
        if (frac > 1)
            frac = 1;
        char bar[PROGRESS_BAR + 1];
        int fill = (int)(frac * PROGRESS_BAR + 0.5);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(PROGRESS_BAR - fill));
        bar[PROGRESS_BAR] = '\0';
        char count[48], left[48];
        if (total)
            snprintf(count, sizeof count, "%llu/%llu", (unsigned long long)sent,
                     (unsigned long long)total);
        else
            snprintf(count, sizeof count, "sent %llu", (unsigned long long)sent);
        if (sending)
            snprintf(left, sizeof left, "%s left", fmt_span(a, sizeof a, planned - elapsed_s));
        else
            snprintf(left, sizeof left, "waiting for replies");
        snprintf(head, sizeof head, "[%s] %s, %s", bar, count, left);
    } else {
        snprintf(head, sizeof head, "%s elapsed, sent %llu", fmt_span(a, sizeof a, elapsed_s),
                 (unsigned long long)sent);
    }
    if (have_rtt)
        snprintf(tail, sizeof tail, "rtt %s median %s", fmt_report(a, sizeof a, rtt),
                 fmt_report(b, sizeof b, median));
    else
        snprintf(tail, sizeof tail, "rtt -");
    return snprintf(buf, len, "%s, %s, loss %.1f%%", head, tail, loss);
}

static void json_config(tw_json_t *j, const tw_run_t *run)
{
    const tw_sender_cfg_t *c = &run->cfg;
    const tw_run_session_t *s0 = &run->s[0];
    int64_t size = (int64_t)tw_sender_packet_len(c->stamp, c->padding);
    tw_json_obj_begin(j, "config");
    if (run->server) {
        tw_json_str(j, "server", run->server);
        tw_json_int(j, "sessions", run->n);
    } else if (run->targets) {
        tw_json_int(j, "targets", run->n);
    } else {
        tw_json_str(j, "remote", s0->remote);
        tw_json_str(j, "local", s0->local);
    }
    tw_json_str(j, "mode",
                run->server || s0->server ? "twamp"
                : c->stamp                ? "stamp"
                                          : "twamp-light");
    tw_json_str(j, "security_mode",
                tw_mode_name(s0->sender ? tw_sender_result(s0->sender)->security_mode
                                        : TW_MODE_UNAUTHENTICATED));
    tw_json_uint(j, "count", c->count);
    if (c->duration_ns)
        tw_json_num(j, "duration_s", (double)c->duration_ns / 1e9);
    else
        tw_json_null(j, "duration_s");
    tw_json_num(j, "interval_ms", (double)c->interval_ns / 1e6);
    tw_json_str(j, "schedule", c->schedule == TW_SCHEDULE_POISSON ? "poisson" : "periodic");
    tw_json_uint(j, "seed", s0->seed);
    tw_json_arr_begin_line(j, "schedule_head_us");
    for (int k = 0; k < TW_RUN_SCHEDULE_HEAD; k++)
        tw_json_us(j, NULL, s0->head[k]);
    tw_json_arr_end(j);
    tw_json_int(j, "padding", c->padding);
    tw_json_bool(j, "imix", c->padding == TW_PADDING_IMIX);
    if (size > 0)
        tw_json_int(j, "packet_size", size);
    else
        tw_json_null(j, "packet_size");
    if (c->stamp)
        tw_json_int(j, "ssid", c->ssid);
    else
        tw_json_null(j, "ssid");
    tw_json_int(j, "tos", c->sockopts.tos);
    tw_json_int(j, "dscp", c->sockopts.tos >> 2);
    tw_json_str(j, "dscp_name", tw_dscp_name(c->sockopts.tos >> 2));
    tw_json_int(j, "ttl", c->sockopts.ttl);
    tw_json_bool(j, "do_not_fragment", c->sockopts.df);
    tw_json_str(j, "timestamping", run->timestamping ? run->timestamping : "sw");
    tw_json_str(j, "timestamping_used",
                c->tsmode == TW_TS_USER                                     ? "user"
                : s0->sender && tw_sender_result(s0->sender)->hw_timestamps ? "hw"
                                                                            : "sw");
    tw_json_bool(j, "ptp", c->ptp);
    tw_json_num(j, "timeout_s", (double)c->timeout_ns / 1e9);
    if (run->report_interval_s > 0)
        tw_json_num(j, "report_interval_s", run->report_interval_s);
    else
        tw_json_null(j, "report_interval_s");
    tw_json_str(j, "csv", run->csv);
    tw_json_str(j, "plot", run->plot);
    tw_json_obj_end(j);
}

/* One target of a fan-out run: where it went, how, and its result. */
static void json_target(tw_json_t *j, const tw_run_session_t *so)
{
    tw_json_obj_begin(j, NULL);
    tw_json_int(j, "target", so->index);
    tw_json_str(j, "remote", so->remote);
    tw_json_str(j, "local", so->local);
    tw_json_str(j, "mode", so->server ? "twamp" : so->stamp ? "stamp" : "twamp-light");
    if (so->server)
        tw_json_str(j, "server", so->server);
    if (so->stamp)
        tw_json_int(j, "ssid", so->ssid);
    tw_json_uint(j, "count", so->count);
    tw_json_num(j, "interval_ms", (double)so->interval_ns / 1e6);
    tw_json_int(j, "padding", so->padding);
    tw_json_int(j, "dscp", so->tos >> 2);
    tw_json_int(j, "ttl", so->ttl);
    tw_json_uint(j, "seed", so->seed);
    tw_json_result(j, tw_sender_result(so->sender), NULL);
    tw_json_obj_end(j);
}

static void json_report(FILE *out, const tw_run_t *run, const tw_sender_result_t *total,
                        const tw_loss_t *loss)
{
    tw_json_t j;
    char b[48];
    /* With interval reports the output is JSON Lines: the report is one line too. */
    tw_json_init(&j, out, run->report_interval_s <= 0);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "schema", TW_JSON_SCHEMA);
    tw_json_str(&j, "type", "report");
    tw_json_str(&j, "command", run->command);
    tw_json_str(&j, "version", TWAMPY_VERSION);
    tw_json_str(&j, "start_time", tw_fmt_iso8601(b, sizeof b, run->start_time));
    json_config(&j, run);
    tw_json_result(&j, total, loss);
    if (run->server) {
        tw_json_arr_begin(&j, "sessions");
        for (int i = 0; i < run->n; i++) {
            const tw_run_session_t *so = &run->s[i];
            tw_json_obj_begin(&j, NULL);
            tw_json_int(&j, "session", so->index);
            tw_json_str(&j, "reflector", so->remote);
            tw_json_str(&j, "local", so->local);
            tw_json_uint(&j, "seed", so->seed);
            tw_json_result(&j, tw_sender_result(so->sender), NULL);
            tw_json_obj_end(&j);
        }
        tw_json_arr_end(&j);
    }
    if (run->targets) {
        tw_json_arr_begin(&j, "targets");
        for (int i = 0; i < run->n; i++)
            json_target(&j, &run->s[i]);
        tw_json_arr_end(&j);
    }
    tw_json_obj_end(&j);
    tw_json_end(&j);
}

/* The report's first line: what ran, the security mode, the clocks. */
static void text_header(FILE *out, const tw_run_t *run, const tw_sender_result_t *res)
{
    char what[320];
    if (run->server)
        snprintf(what, sizeof what, "TWAMP via server %s, %d session%s to %s", run->server, run->n,
                 run->n > 1 ? "s" : "", run->s[0].remote);
    else
        snprintf(what, sizeof what, "%s to %s from %s", run->cfg.stamp ? "STAMP" : "TWAMP light",
                 run->s[0].remote, run->s[0].local);
    tw_report_header(out, what, res);
}

/* A target's own first line (--targets): where, in which mode, its clocks. */
static void target_header(FILE *out, const tw_run_t *run, const tw_run_session_t *so,
                          const tw_sender_result_t *res)
{
    char what[320];
    if (so->server)
        snprintf(what, sizeof what, "Target %d of %d: TWAMP via server %s to %s from %s", so->index,
                 run->n, so->server, so->remote, so->local);
    else
        snprintf(what, sizeof what, "Target %d of %d: %s to %s from %s", so->index, run->n,
                 so->stamp ? "STAMP" : "TWAMP light", so->remote, so->local);
    tw_report_header(out, what, res);
}

int tw_run_report(FILE *out, const tw_run_t *run, tw_run_format_t fmt)
{
    bool json = fmt == TW_RUN_JSON;
    if (run->n == 1) {
        const tw_sender_result_t *res = tw_sender_result(run->s[0].sender);
        if (json) {
            json_report(out, run, res, NULL);
        } else {
            /* A --targets file of one line: its line says what it was (a
             * TWAMP server, a reflector), not the command line's defaults. */
            if (run->targets)
                target_header(out, run, &run->s[0], res);
            else
                text_header(out, run, res);
            tw_report_table(out, &res->stats, res->sent);
            tw_report_extended(out, res);
            if (run->histogram)
                tw_report_histogram(out, &res->metrics.roundtrip.hist, 20);
        }
        tw_run_log_timestamps(res);
        fflush(out);
        return 0;
    }
    /* Several sessions: each, then the total (loss summed per session). */
    tw_sender_result_t *total = malloc(sizeof *total);
    if (!total)
        return -1;
    tw_report_total_init(total);
    tw_loss_t loss;
    memset(&loss, 0, sizeof loss);
    for (int i = 0; i < run->n; i++)
        tw_report_merge(total, tw_sender_result(run->s[i].sender));
    if (!json && !run->targets)
        text_header(out, run, total);
    for (int i = 0; i < run->n; i++) {
        const tw_sender_result_t *res = tw_sender_result(run->s[i].sender);
        if (!json && run->targets) {
            target_header(out, run, &run->s[i], res);
            tw_report_table(out, &res->stats, res->sent);
            tw_report_extended(out, res);
        } else if (!json) {
            fprintf(out, "Session %d of %d\n", i + 1, run->n);
            tw_report_table(out, &res->stats, res->sent);
            tw_report_extended(out, res);
        }
        tw_run_log_timestamps(res);
        tw_loss_t l = tw_stats_loss(&res->stats, res->sent);
        tw_loss_add(&loss, &l);
    }
    if (json) {
        json_report(out, run, total, &loss);
    } else {
        fprintf(out, "All %d %s\n", run->n, run->targets ? "targets" : "sessions");
        tw_report_table_loss(out, &total->stats, total->sent, &loss);
        tw_report_extended_loss(out, total, &loss);
        if (run->histogram)
            tw_report_histogram(out, &total->metrics.roundtrip.hist, 20);
    }
    fflush(out);
    tw_metrics_free(&total->metrics);
    free(total);
    return 0;
}
