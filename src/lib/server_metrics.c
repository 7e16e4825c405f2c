#include "server_metrics.h"

#include <stddef.h>

static void one(tw_prom_t *p, const char *name, const char *help, uint64_t v)
{
    tw_prom_family(p, name, TW_PROM_COUNTER, NULL, help);
    tw_prom_counter(p, name, NULL, 0, v, 0);
}

struct by_reason {
    const char *reason;
    uint64_t v;
};

static void reasons(tw_prom_t *p, const char *name, const char *help, const struct by_reason *r,
                    size_t n)
{
    tw_prom_family(p, name, TW_PROM_COUNTER, NULL, help);
    for (size_t i = 0; i < n; i++) {
        tw_prom_label_t l = {"reason", r[i].reason};
        tw_prom_counter(p, name, &l, 1, r[i].v, 0);
    }
}

void tw_reflector_prom(tw_prom_t *p, const tw_reflector_counters_t *k)
{
    one(p, "twampy_reflector_packets_received", "Datagrams read.", k->received);
    one(p, "twampy_reflector_packets_reflected", "Replies sent.", k->reflected);
    const struct by_reason dropped[] = {
        {"too_short", k->too_short},
        {"not_started", k->inactive},
        {"foreign", k->foreign},
        {"denied", k->denied},
        {"unauthenticated", k->unauthenticated},
        {"integrity", k->integrity},
        {"rate_limited", k->rate_limited},
        {"send_error", k->send_errors},
    };
    reasons(p, "twampy_reflector_packets_dropped",
            "Requests not answered, by reason (send_error: the reply could not be sent).", dropped,
            sizeof dropped / sizeof dropped[0]);
    one(p, "twampy_reflector_packets_truncated",
        "Requests longer than the receive buffer, reflected from what fits.", k->truncated);
    one(p, "twampy_reflector_senders_evicted",
        "Per-sender states forgotten to make room for a new sender.", k->senders_evicted);
}

void tw_ctrl_server_prom(tw_prom_t *p, const tw_ctrl_server_counters_t *k)
{
    one(p, "twampy_server_connections", "TWAMP-Control connections accepted.", k->connections);
    const struct by_reason refused[] = {
        {"limit", k->connections_refused},
        {"denied", k->connections_denied},
        {"kdf_pace", k->kdf_refused},
    };
    reasons(p, "twampy_server_connections_refused",
            "Connections (or Set-Up-Responses, kdf_pace) refused, by reason.", refused,
            sizeof refused / sizeof refused[0]);
    const struct by_reason closed[] = {
        {"protocol_error", k->protocol_errors}, {"key_rejected", k->key_rejected},
        {"integrity", k->integrity_failures},   {"evicted", k->connections_evicted},
        {"setup_timeout", k->setup_timeouts},
    };
    reasons(p, "twampy_server_connections_closed", "Connections closed by the server, by reason.",
            closed, sizeof closed / sizeof closed[0]);
    one(p, "twampy_server_accept_failures", "accept() failures (no descriptors, no memory).",
        k->accept_failures);
    one(p, "twampy_server_sessions_accepted", "Test sessions accepted.", k->sessions_accepted);
    one(p, "twampy_server_sessions_refused", "Test sessions refused.", k->sessions_refused);
    one(p, "twampy_server_test_packets_received",
        "Test packets the sessions' reflectors read (running sessions as of the last second).",
        k->test_received);
    one(p, "twampy_server_test_packets_reflected", "Test packets reflected by the sessions.",
        k->test_reflected);
    one(p, "twampy_server_test_packets_dropped",
        "Test packets read and not answered (not started, foreign sender, too short, failed "
        "the integrity check).",
        k->test_dropped);
    tw_prom_family(p, "twampy_server_active_connections", TW_PROM_GAUGE, NULL,
                   "TWAMP-Control connections open now.");
    tw_prom_gauge(p, "twampy_server_active_connections", NULL, 0, k->active_connections);
    tw_prom_family(p, "twampy_server_active_sessions", TW_PROM_GAUGE, NULL,
                   "Test sessions open now.");
    tw_prom_gauge(p, "twampy_server_active_sessions", NULL, 0, k->active_sessions);
}
