#include "monitor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "auth.h"
#include "control_client.h"
#include "control_wire.h"
#include "hist.h"
#include "keyfile.h"
#include "log.h"
#include "ntptime.h"
#include "report_json.h"
#include "sender.h"
#include "stats.h"

const int64_t tw_mon_bucket_ns[TW_MON_BUCKETS] = {
    1000,      2000,      5000,       10000,      20000,      50000,       100000,   200000,
    500000,    1000000,   2000000,    5000000,    10000000,   20000000,    50000000, 100000000,
    200000000, 500000000, 1000000000, 2000000000, 5000000000, 10000000000,
};

/* A delay histogram in the Prometheus buckets (bucket i: up to
 * tw_mon_bucket_ns[i]; the last one above them all). */
struct promhist {
    uint64_t counts[TW_MON_BUCKETS + 1];
    int64_t sum_ns; /* exact: delays are integers */
    uint64_t n;
};

static void promhist_add(struct promhist *h, int64_t ns)
{
    size_t i = 0;
    while (i < TW_MON_BUCKETS && ns > tw_mon_bucket_ns[i])
        i++;
    h->counts[i]++;
    h->sum_ns += ns;
    h->n++;
}

/* A target's totals over its completed rounds. */
struct totals {
    uint64_t rounds, round_failures;
    uint64_t sent, received, lost, lost_out, lost_in, lost_unknown;
    uint64_t duplicates, reordered, late, dropped_locally, integrity, unusable;
    uint64_t icmp[TW_ICMP_COUNT];
    struct promhist rtt, oneway[2]; /* [0] outbound, [1] inbound */
    tw_hist_t rtt_exact;            /* for the exact median of the JSON summary */
};

struct target {
    tw_monitor_t *m;
    tw_mon_target_t cfg;
    struct sockaddr_storage remote, local;
    socklen_t remote_len, local_len;
    bool have_secret;
    tw_secret_t secret; /* TWAMP modes 2, 4, 8 and authenticated STAMP */
    double created;     /* seconds since the epoch */
    char dscp_label[8];

    tw_sender_t *snd;
    tw_ctrl_client_t *ctrl;
    bool round_over, ctrl_over, ctrl_failed;
    int64_t round_start;
    tw_timer_t round_timer, reap_timer;
    char last_error[256];

    /* This round's measurements, added to tot when the round is over. */
    struct promhist rtt, oneway[2];
    struct totals tot;
    /* Gauges: the latest reply. */
    bool have_last;
    int64_t last_rtt, jitter;
    int ttl_out, ttl_in, tos_in;
    bool remote_sync, local_sync;
    bool up; /* the latest round had a reply */
};

struct tw_monitor {
    tw_loop_t *loop;
    void (*on_update)(void *arg);
    void *arg;
    struct target **t;
    size_t n;
};

static void start_round(void *arg);

tw_monitor_t *tw_monitor_new(tw_loop_t *loop, void (*on_update)(void *arg), void *arg)
{
    tw_monitor_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->loop = loop;
    m->on_update = on_update;
    m->arg = arg;
    return m;
}

/* Close the round's sender and control connection (not from their callbacks). */
static void round_close(struct target *t)
{
    tw_timer_cancel(t->m->loop, &t->reap_timer);
    if (t->snd) {
        tw_sender_close(t->snd);
        t->snd = NULL;
    }
    if (t->ctrl) {
        tw_ctrl_client_close(t->ctrl);
        t->ctrl = NULL;
    }
}

static void target_free(struct target *t)
{
    round_close(t);
    tw_timer_cancel(t->m->loop, &t->round_timer);
    tw_secret_cleanse(&t->secret);
    tw_hist_free(&t->tot.rtt_exact);
    free(t);
}

void tw_monitor_free(tw_monitor_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        target_free(m->t[i]);
    free(m->t);
    free(m);
}

static void round_error(struct target *t, const char *why)
{
    /* Said once per distinct error: a target that keeps failing does not
     * fill the log every round. */
    if (strcmp(t->last_error, why)) {
        tw_warn("target %s: %s", t->cfg.name, why);
        snprintf(t->last_error, sizeof t->last_error, "%.255s", why);
    }
}

static int64_t round_length(const struct target *t)
{
    return t->cfg.interval_ns * (int64_t)t->cfg.packets;
}

static void schedule_next(struct target *t)
{
    if (t->cfg.rounds && t->tot.rounds + t->tot.round_failures >= t->cfg.rounds)
        return;
    int64_t due = t->round_start + round_length(t);
    int64_t now = tw_mono_now();
    tw_timer_set(t->m->loop, &t->round_timer, due > now ? due : now, start_round, t);
}

static void add_round(struct target *t)
{
    const tw_sender_result_t *r = tw_sender_result(t->snd);
    struct totals *s = &t->tot;
    s->rounds++;
    s->sent += r->sent;
    s->received += r->stats.received;
    tw_loss_t loss = tw_stats_loss(&r->stats, r->sent);
    s->lost += loss.roundtrip;
    s->lost_out += loss.outbound;
    s->lost_in += loss.inbound;
    s->lost_unknown += loss.unattributed;
    s->duplicates += r->duplicates;
    s->reordered += r->metrics.reordered;
    s->late += r->late;
    s->dropped_locally += r->send_errors;
    s->integrity += r->integrity_failures;
    s->unusable += r->stats.unusable;
    for (int k = 0; k < TW_ICMP_COUNT; k++)
        s->icmp[k] += r->issues.icmp[k];
    struct promhist *into[3] = {&s->rtt, &s->oneway[0], &s->oneway[1]};
    struct promhist *from[3] = {&t->rtt, &t->oneway[0], &t->oneway[1]};
    for (int h = 0; h < 3; h++) {
        for (size_t i = 0; i <= TW_MON_BUCKETS; i++)
            into[h]->counts[i] += from[h]->counts[i];
        into[h]->sum_ns += from[h]->sum_ns;
        into[h]->n += from[h]->n;
        memset(from[h], 0, sizeof *from[h]);
    }
    tw_hist_merge(&s->rtt_exact, &r->metrics.roundtrip.hist);
    if (r->metrics.roundtrip.n)
        t->jitter = (int64_t)r->metrics.roundtrip.jitter;
    t->up = r->stats.received > 0;
    if (r->fatal[0])
        round_error(t, r->fatal);
    else
        t->last_error[0] = '\0';
}

/* The round is over (sender done, control connection closed or failed). */
static void on_reap(void *arg)
{
    struct target *t = arg;
    if (t->snd && t->round_over && !t->ctrl_failed)
        add_round(t);
    else
        t->tot.round_failures++;
    /* A failed round's measurements are not counted. */
    memset(&t->rtt, 0, sizeof t->rtt);
    memset(t->oneway, 0, sizeof t->oneway);
    if (t->ctrl_failed)
        t->up = false;
    round_close(t);
    schedule_next(t);
    if (t->m->on_update)
        t->m->on_update(t->m->arg);
}

static void reap_soon(struct target *t)
{
    tw_timer_set(t->m->loop, &t->reap_timer, tw_mono_now(), on_reap, t);
}

static void on_sender_done(void *arg)
{
    struct target *t = arg;
    t->round_over = true;
    if (t->ctrl && !t->ctrl_over)
        tw_ctrl_client_stop(t->ctrl); /* on_ctrl_stopped reaps */
    else
        reap_soon(t);
}

static void on_measure(void *arg, const tw_sample_t *smp, int64_t rt, int64_t ob, int64_t ib)
{
    struct target *t = arg;
    const tw_sender_result_t *r = tw_sender_result(t->snd);
    promhist_add(&t->rtt, rt);
    /* One-way delays only when they mean something: the reflector is this
     * host, or both clocks say they are synchronized. */
    t->local_sync = r->metrics.local_sync;
    if (ob != TW_DELAY_NA && (r->shared_clock || (r->metrics.local_sync && smp->remote_sync))) {
        promhist_add(&t->oneway[0], ob);
        promhist_add(&t->oneway[1], ib);
    }
    t->have_last = true;
    t->last_rtt = rt;
    t->ttl_out = smp->ttl_out;
    t->ttl_in = smp->ttl_in;
    t->remote_sync = smp->remote_sync;
}

static void on_packet(void *arg, const tw_packet_record_t *rec)
{
    struct target *t = arg;
    if (rec->status != TW_PKT_LOST && rec->tos_in >= 0)
        t->tos_in = rec->tos_in;
}

static void on_ctrl_started(void *arg, const tw_accept_session_t *acc, int n)
{
    struct target *t = arg;
    uint32_t mode = tw_ctrl_client_mode(t->ctrl) & TW_MODE_SECURITY_MASK;
    tw_test_crypto_t tc;
    memset(&tc, 0, sizeof tc);
    char why[256] = "";
    if (tw_mode_test_protected(mode)) {
        int rc = tw_ctrl_client_test_crypto(t->ctrl, 0, &tc);
        if (rc < 0)
            snprintf(why, sizeof why, "cannot derive the test keys: %s", tw_auth_strerror(rc));
    }
    if (!why[0] && tw_sender_set_security(t->snd, mode, &tc, why, sizeof why) < 0 && !why[0])
        snprintf(why, sizeof why, "cannot set the session's security mode");
    tw_test_crypto_free(&tc);
    if (why[0] || n < 1) {
        round_error(t, why[0] ? why : "no session accepted");
        t->ctrl_failed = true;
        tw_ctrl_client_stop(t->ctrl);
        return;
    }
    struct sockaddr_storage ss = t->remote;
    tw_addr_set_port(&ss, acc[0].port);
    tw_sender_set_remote(t->snd, (struct sockaddr *)&ss, t->remote_len);
    tw_sender_start(t->snd);
}

static void on_ctrl_failed(void *arg, const char *why)
{
    struct target *t = arg;
    t->ctrl_over = true;
    if (!t->round_over) {
        t->ctrl_failed = true;
        round_error(t, why);
    }
    reap_soon(t);
}

static void on_ctrl_stopped(void *arg)
{
    struct target *t = arg;
    t->ctrl_over = true;
    reap_soon(t);
}

static void raw_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET6)
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    else
        memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static void start_round(void *arg)
{
    struct target *t = arg;
    t->round_start = tw_mono_now();
    t->round_over = t->ctrl_over = t->ctrl_failed = false;
    tw_sender_cfg_t sc;
    memset(&sc, 0, sizeof sc);
    sc.local = t->local;
    sc.local_len = t->local_len;
    sc.remote = t->remote;
    sc.remote_len = t->remote_len;
    sc.sockopts.tos = t->cfg.dscp << 2;
    sc.sockopts.ttl = t->cfg.ttl;
    sc.sockopts.recv_tos = true;
    sc.count = t->cfg.packets;
    sc.interval_ns = t->cfg.interval_ns;
    sc.schedule = t->cfg.poisson ? TW_SCHEDULE_POISSON : TW_SCHEDULE_PERIODIC;
    sc.padding = t->cfg.padding;
    sc.stamp = t->cfg.protocol == TW_MON_STAMP;
    sc.ssid = (uint16_t)t->cfg.ssid;
    if (sc.stamp && t->cfg.mode == TW_MODE_AUTHENTICATED) {
        sc.stamp_key = t->secret.bytes;
        sc.stamp_key_len = t->secret.len;
    }
    sc.tsmode = TW_TS_SOFTWARE;
    sc.timeout_ns = t->cfg.timeout_ns;
    sc.on_done = on_sender_done;
    sc.on_done_arg = t;
    sc.on_measure = on_measure;
    sc.on_packet = on_packet;
    sc.hook_arg = t;
    char err[512];
    if (tw_sender_open(&t->snd, &sc, t->m->loop, err, sizeof err) < 0) {
        t->snd = NULL;
        round_error(t, err);
        reap_soon(t);
        return;
    }
    if (t->cfg.protocol != TW_MON_TWAMP) {
        tw_sender_start(t->snd);
        return;
    }
    tw_ctrl_client_cfg_t cc;
    memset(&cc, 0, sizeof cc);
    cc.server = t->remote;
    cc.server_len = t->remote_len;
    cc.step_timeout_ns = 10 * (int64_t)1000000000; /* as the controller's default */
    cc.modes[0] = t->cfg.mode;
    cc.nmodes = 1;
    if (t->have_secret && t->cfg.mode != TW_MODE_UNAUTHENTICATED) {
        cc.have_secret = true;
        cc.secret = t->secret;
        snprintf(cc.keyid, sizeof cc.keyid, "%.80s", t->cfg.key); /* <= TW_KEYID_MAX */
    }
    cc.nsessions = 1;
    struct sockaddr_storage bound;
    socklen_t bl;
    tw_sender_local(t->snd, &bound, &bl);
    tw_ctrl_session_req_t *r = &cc.req[0];
    r->sender_port = tw_addr_port(&bound);
    if (t->cfg.source[0])
        raw_addr(&bound, r->sender_addr);
    r->padding_length = t->cfg.padding < 0 ? 0 : (uint32_t)t->cfg.padding;
    r->dscp = t->cfg.dscp;
    r->timeout_ns = t->cfg.timeout_ns;
    cc.on_started = on_ctrl_started;
    cc.on_failed = on_ctrl_failed;
    cc.on_stopped = on_ctrl_stopped;
    cc.arg = t;
    int rc = tw_ctrl_client_open(&t->ctrl, &cc, t->m->loop, err, sizeof err);
    tw_secret_cleanse(&cc.secret);
    if (rc < 0) {
        t->ctrl = NULL;
        t->ctrl_failed = true;
        round_error(t, err);
        reap_soon(t);
    }
}

/* Resolve and load what a target needs, without starting it. */
static struct target *target_prepare(tw_monitor_t *m, const tw_mon_config_t *cfg,
                                     const tw_mon_target_t *tc, tw_keyring_t *kr, char *err,
                                     size_t errlen)
{
    struct target *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->m = m;
    t->cfg = *tc;
    t->ttl_out = t->ttl_in = t->tos_in = -1;
    tw_hist_init(&t->tot.rtt_exact);
    snprintf(t->dscp_label, sizeof t->dscp_label, "%d", tc->dscp);
    tw_addr_spec_t spec;
    char why[512];
    if (tw_addr_parse(tc->address, 862, &spec, why, sizeof why) < 0 ||
        tw_addr_resolve(&spec, AF_UNSPEC, false, &t->remote, &t->remote_len, why, sizeof why) < 0) {
        snprintf(err, errlen, "line %d: target '%s': address '%s': %s", tc->line, tc->name,
                 tc->address, why);
        free(t);
        return NULL;
    }
    if (tw_addr_parse(tc->source, 0, &spec, why, sizeof why) < 0 ||
        tw_addr_resolve(&spec, t->remote.ss_family, true, &t->local, &t->local_len, why,
                        sizeof why) < 0) {
        snprintf(err, errlen, "line %d: target '%s': source '%s': %s", tc->line, tc->name,
                 tc->source, why);
        free(t);
        return NULL;
    }
    if (tc->mode != TW_MODE_UNAUTHENTICATED) {
        const tw_secret_t *s = kr ? tw_keyring_find(kr, tc->key) : NULL;
        if (!s) {
            snprintf(err, errlen, "line %d: target '%s': key file %s has no KeyID %s", tc->line,
                     tc->name, cfg->keyfile, tc->key);
            free(t);
            return NULL;
        }
        t->secret = *s;
        t->have_secret = true;
    }
    return t;
}

/* Targets started together have their first rounds spread over a second
 * (k of n at k/n s), so that neither the wire nor a shared TWAMP server (its
 * key derivations are paced) sees them all at once. */
#define SPREAD_NS ((int64_t)1000000000)

static void target_start(struct target *t, size_t k, size_t n)
{
    t->created = (double)tw_now() / 1e9;
    t->round_start = tw_mono_now() + (n ? SPREAD_NS * (int64_t)k / (int64_t)n : 0);
    tw_timer_set(t->m->loop, &t->round_timer, t->round_start, start_round, t);
}

int tw_monitor_apply(tw_monitor_t *m, const tw_mon_config_t *cfg, char *err, size_t errlen)
{
    tw_keyring_t *kr = NULL;
    bool need_keys = false;
    for (size_t i = 0; i < cfg->ntargets; i++)
        need_keys |= cfg->targets[i].mode != TW_MODE_UNAUTHENTICATED;
    if (need_keys && tw_keyring_load(cfg->keyfile, &kr, err, errlen) < 0)
        return -1;
    struct target **nt = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *nt);
    bool *kept = calloc(m->n ? m->n : 1, sizeof *kept);
    if (!nt || !kept) {
        snprintf(err, errlen, "out of memory");
        free(nt);
        free(kept);
        tw_keyring_free(kr);
        return -1;
    }
    /* Everything new is prepared before anything running is touched. */
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const tw_mon_target_t *tc = &cfg->targets[i];
        for (size_t j = 0; j < m->n; j++) {
            if (!kept[j] && tw_mon_target_same(&m->t[j]->cfg, tc)) {
                kept[j] = true;
                nt[i] = m->t[j];
                break;
            }
        }
        if (nt[i])
            continue;
        nt[i] = target_prepare(m, cfg, tc, kr, err, errlen);
        if (!nt[i]) {
            for (size_t k = 0; k < i; k++) {
                bool old = false;
                for (size_t j = 0; j < m->n; j++)
                    old |= nt[k] == m->t[j];
                if (!old)
                    target_free(nt[k]);
            }
            free(nt);
            free(kept);
            tw_keyring_free(kr);
            return -1;
        }
        nt[i]->created = -1; /* to start */
    }
    tw_keyring_free(kr);
    size_t added = 0, removed = 0, to_start = 0;
    for (size_t j = 0; j < m->n; j++) {
        if (!kept[j]) {
            target_free(m->t[j]);
            removed++;
        }
    }
    for (size_t i = 0; i < cfg->ntargets; i++)
        to_start += nt[i]->created < 0;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        nt[i]->cfg.line = cfg->targets[i].line;
        if (nt[i]->created < 0)
            target_start(nt[i], added++, to_start);
    }
    tw_notice("monitor: %zu targets (%zu started, %zu stopped, %zu kept)", cfg->ntargets, added,
              removed, cfg->ntargets - added);
    free(m->t);
    free(kept);
    m->t = nt;
    m->n = cfg->ntargets;
    return 0;
}

int tw_monitor_check(const tw_mon_config_t *cfg, char *err, size_t errlen)
{
    tw_monitor_t m = {0};
    tw_keyring_t *kr = NULL;
    bool need_keys = false;
    for (size_t i = 0; i < cfg->ntargets; i++)
        need_keys |= cfg->targets[i].mode != TW_MODE_UNAUTHENTICATED;
    if (need_keys && tw_keyring_load(cfg->keyfile, &kr, err, errlen) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < cfg->ntargets && rc == 0; i++) {
        struct target *t = target_prepare(&m, cfg, &cfg->targets[i], kr, err, errlen);
        if (!t) {
            rc = -1;
            break;
        }
        tw_secret_cleanse(&t->secret);
        free(t);
    }
    tw_keyring_free(kr);
    return rc;
}

bool tw_monitor_finished(const tw_monitor_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct target *t = m->t[i];
        if (!t->cfg.rounds || t->tot.rounds + t->tot.round_failures < t->cfg.rounds)
            return false;
    }
    return true;
}

/* ---- Prometheus --------------------------------------------------------------- */

#define NLABELS 4

static size_t labels(const struct target *t, tw_prom_label_t *l, const char *extra_name,
                     const char *extra_value)
{
    l[0] = (tw_prom_label_t){"target", t->cfg.address};
    l[1] = (tw_prom_label_t){"name", t->cfg.name};
    l[2] = (tw_prom_label_t){"protocol", tw_mon_protocol_name(t->cfg.protocol)};
    l[3] = (tw_prom_label_t){"dscp", t->dscp_label};
    if (!extra_name)
        return NLABELS;
    l[NLABELS] = (tw_prom_label_t){extra_name, extra_value};
    return NLABELS + 1;
}

struct counter_def {
    const char *name, *help;
    size_t off;
};

#define TOT(f) offsetof(struct totals, f)
static const struct counter_def counters[] = {
    {"twampy_packets_sent", "Test packets sent (in completed rounds).", TOT(sent)},
    {"twampy_packets_received", "Replies measured (each packet once).", TOT(received)},
    {"twampy_packets_lost", "Packets without a reply within the timeout (round trip).", TOT(lost)},
    {"twampy_packets_duplicated", "Packets answered more than once.", TOT(duplicates)},
    {"twampy_packets_reordered", "Replies that came after a later-sent packet's (RFC 4737).",
     TOT(reordered)},
    {"twampy_packets_late", "Replies after the timeout: counted as lost, not measured.", TOT(late)},
    {"twampy_packets_dropped_locally", "Packets the local kernel refused to send.",
     TOT(dropped_locally)},
    {"twampy_integrity_failures", "Replies failing their HMAC check (protected modes).",
     TOT(integrity)},
    {"twampy_replies_unusable", "Replies that came back but could not be measured.", TOT(unusable)},
    {"twampy_rounds", "Rounds completed.", TOT(rounds)},
    {"twampy_round_failures",
     "Rounds that could not run (socket, name, TWAMP-Control refused or failed).",
     TOT(round_failures)},
};

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static void hist_out(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl,
                     const struct promhist *h, double created)
{
    double le[TW_MON_BUCKETS];
    for (size_t i = 0; i < TW_MON_BUCKETS; i++)
        le[i] = secs(tw_mon_bucket_ns[i]);
    tw_prom_histogram(p, name, l, nl, le, h->counts, TW_MON_BUCKETS, secs(h->sum_ns), created);
}

void tw_monitor_prom(const tw_monitor_t *m, tw_prom_t *p)
{
    tw_prom_label_t l[NLABELS + 1];
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
        tw_prom_family(p, counters[c].name, TW_PROM_COUNTER, NULL, counters[c].help);
        for (size_t i = 0; i < m->n; i++) {
            const struct target *t = m->t[i];
            uint64_t v = *(const uint64_t *)((const char *)&t->tot + counters[c].off);
            tw_prom_counter(p, counters[c].name, l, labels(t, l, NULL, NULL), v, t->created);
        }
    }
    tw_prom_family(p, "twampy_packets_lost_direction", TW_PROM_COUNTER, NULL,
                   "Lost packets by direction from the reflector's sequence numbers "
                   "(unknown: the direction cannot be told); sums to twampy_packets_lost_total.");
    for (size_t i = 0; i < m->n; i++) {
        const struct target *t = m->t[i];
        tw_prom_counter(p, "twampy_packets_lost_direction", l,
                        labels(t, l, "direction", "outbound"), t->tot.lost_out, t->created);
        tw_prom_counter(p, "twampy_packets_lost_direction", l, labels(t, l, "direction", "inbound"),
                        t->tot.lost_in, t->created);
        tw_prom_counter(p, "twampy_packets_lost_direction", l, labels(t, l, "direction", "unknown"),
                        t->tot.lost_unknown, t->created);
    }
    tw_prom_family(p, "twampy_icmp_errors", TW_PROM_COUNTER, NULL,
                   "ICMP errors (and local send errors) queued on the sender's socket, by kind.");
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < TW_ICMP_COUNT; k++)
            tw_prom_counter(p, "twampy_icmp_errors", l,
                            labels(m->t[i], l, "kind", tw_icmp_kind_code(k)), m->t[i]->tot.icmp[k],
                            m->t[i]->created);

    tw_prom_family(p, "twampy_rtt_seconds", TW_PROM_HISTOGRAM, "seconds",
                   "Round-trip time without the reflector's residence time.");
    for (size_t i = 0; i < m->n; i++)
        hist_out(p, "twampy_rtt_seconds", l, labels(m->t[i], l, NULL, NULL), &m->t[i]->tot.rtt,
                 m->t[i]->created);
    tw_prom_family(p, "twampy_oneway_delay_seconds", TW_PROM_HISTOGRAM, "seconds",
                   "One-way delay by direction, when the clocks are synchronized (or shared).");
    for (size_t i = 0; i < m->n; i++) {
        hist_out(p, "twampy_oneway_delay_seconds", l, labels(m->t[i], l, "direction", "outbound"),
                 &m->t[i]->tot.oneway[0], m->t[i]->created);
        hist_out(p, "twampy_oneway_delay_seconds", l, labels(m->t[i], l, "direction", "inbound"),
                 &m->t[i]->tot.oneway[1], m->t[i]->created);
    }

    tw_prom_family(p, "twampy_last_rtt_seconds", TW_PROM_GAUGE, "seconds",
                   "The latest round-trip time measured.");
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i]->have_last)
            tw_prom_gauge(p, "twampy_last_rtt_seconds", l, labels(m->t[i], l, NULL, NULL),
                          secs(m->t[i]->last_rtt));
    tw_prom_family(p, "twampy_rtt_jitter_seconds", TW_PROM_GAUGE, "seconds",
                   "Round-trip jitter of the latest round (RFC 3550 estimator).");
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i]->tot.rounds)
            tw_prom_gauge(p, "twampy_rtt_jitter_seconds", l, labels(m->t[i], l, NULL, NULL),
                          secs(m->t[i]->jitter));
    tw_prom_family(p, "twampy_ttl", TW_PROM_GAUGE, NULL,
                   "TTL / Hop Limit of the latest reply: outbound as the reflector received "
                   "the test packet, inbound as the reply arrived.");
    for (size_t i = 0; i < m->n; i++) {
        const struct target *t = m->t[i];
        if (t->ttl_out >= 0)
            tw_prom_gauge(p, "twampy_ttl", l, labels(t, l, "direction", "outbound"), t->ttl_out);
        if (t->ttl_in >= 0)
            tw_prom_gauge(p, "twampy_ttl", l, labels(t, l, "direction", "inbound"), t->ttl_in);
    }
    tw_prom_family(p, "twampy_reply_dscp", TW_PROM_GAUGE, NULL,
                   "DSCP of the latest reply as received.");
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i]->tos_in >= 0)
            tw_prom_gauge(p, "twampy_reply_dscp", l, labels(m->t[i], l, NULL, NULL),
                          m->t[i]->tos_in >> 2);
    tw_prom_family(p, "twampy_reflector_clock_synchronized", TW_PROM_GAUGE, NULL,
                   "The S bit of the latest reply: the reflector's clock is synchronized.");
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i]->have_last)
            tw_prom_gauge(p, "twampy_reflector_clock_synchronized", l,
                          labels(m->t[i], l, NULL, NULL), m->t[i]->remote_sync);
    tw_prom_family(p, "twampy_clock_synchronized", TW_PROM_GAUGE, NULL,
                   "This host's clock is synchronized (as the kernel says), per target's "
                   "latest reply.");
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i]->have_last)
            tw_prom_gauge(p, "twampy_clock_synchronized", l, labels(m->t[i], l, NULL, NULL),
                          m->t[i]->local_sync);
    tw_prom_family(p, "twampy_up", TW_PROM_GAUGE, NULL,
                   "1 when the latest completed round had a reply, else 0.");
    for (size_t i = 0; i < m->n; i++)
        tw_prom_gauge(p, "twampy_up", l, labels(m->t[i], l, NULL, NULL), m->t[i]->up);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_hist(tw_json_t *j, const char *key, const struct promhist *h)
{
    tw_json_obj_begin(j, key);
    tw_json_uint(j, "count", h->n);
    tw_json_num(j, "sum_s", secs(h->sum_ns));
    tw_json_arr_begin_line(j, "buckets");
    uint64_t cum = 0;
    for (size_t i = 0; i <= TW_MON_BUCKETS; i++) {
        cum += h->counts[i];
        tw_json_arr_begin_line(j, NULL);
        if (i < TW_MON_BUCKETS)
            tw_json_num(j, NULL, secs(tw_mon_bucket_ns[i]));
        else
            tw_json_str(j, NULL, "+Inf");
        tw_json_uint(j, NULL, cum);
        tw_json_arr_end(j);
    }
    tw_json_arr_end(j);
    tw_json_obj_end(j);
}

void tw_monitor_json(const tw_monitor_t *m, FILE *f)
{
    tw_json_t j;
    tw_json_init(&j, f, true);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "schema", "twampy-monitor/1");
    tw_json_num(&j, "time", (double)tw_now() / 1e9);
    tw_json_arr_begin(&j, "targets");
    for (size_t i = 0; i < m->n; i++) {
        const struct target *t = m->t[i];
        const struct totals *s = &t->tot;
        tw_json_obj_begin(&j, NULL);
        tw_json_str(&j, "name", t->cfg.name);
        tw_json_str(&j, "target", t->cfg.address);
        tw_json_str(&j, "protocol", tw_mon_protocol_name(t->cfg.protocol));
        tw_json_int(&j, "dscp", t->cfg.dscp);
        tw_json_uint(&j, "rounds", s->rounds);
        tw_json_uint(&j, "round_failures", s->round_failures);
        tw_json_uint(&j, "sent", s->sent);
        tw_json_uint(&j, "received", s->received);
        tw_json_uint(&j, "lost", s->lost);
        tw_json_uint(&j, "lost_outbound", s->lost_out);
        tw_json_uint(&j, "lost_inbound", s->lost_in);
        tw_json_uint(&j, "lost_unknown", s->lost_unknown);
        tw_json_uint(&j, "duplicated", s->duplicates);
        tw_json_uint(&j, "reordered", s->reordered);
        tw_json_uint(&j, "late", s->late);
        tw_json_uint(&j, "dropped_locally", s->dropped_locally);
        tw_json_uint(&j, "integrity_failures", s->integrity);
        /* Exact from twampy's own fine histogram (within 0.4 %). */
        if (s->rtt_exact.n) {
            tw_json_us(&j, "rtt_median_us", tw_hist_percentile(&s->rtt_exact, 50));
            tw_json_us(&j, "rtt_p99_us", tw_hist_percentile(&s->rtt_exact, 99));
            tw_json_us(&j, "rtt_min_us", s->rtt_exact.min);
            tw_json_us(&j, "rtt_max_us", s->rtt_exact.max);
        } else {
            tw_json_null(&j, "rtt_median_us");
        }
        json_hist(&j, "rtt_histogram", &s->rtt);
        json_hist(&j, "outbound_histogram", &s->oneway[0]);
        json_hist(&j, "inbound_histogram", &s->oneway[1]);
        tw_json_obj_end(&j);
    }
    tw_json_arr_end(&j);
    tw_json_obj_end(&j);
    tw_json_end(&j);
}
