/* control_server_internal: what the TWAMP server's two files share (not for
 * users of control_server.h): control_server.c has the connections,
 * server_session.c the test sessions. */
#ifndef TWAMPY_CONTROL_SERVER_INTERNAL_H
#define TWAMPY_CONTROL_SERVER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "addr.h"
#include "control_server.h"
#include "log.h"
#include "net.h"
#include "reflector.h"
#include "server_guard.h"

struct conn;

struct session {
    struct tw_ctrl_server *srv;
    struct conn *conn; /* NULL once its connection is gone */
    struct session *next;
    tw_reflector_t *refl;
    tw_timer_t timer;       /* teardown after Stop-Sessions (or a lost connection) */
    tw_timer_t start_timer; /* RFC 5357 §3.5: a Start Time after Start-Sessions */
    tw_time_t start_at;     /* the request's Start Time */
    tw_source_t src;        /* its client's, for --max-sessions-per-source */
    uint8_t sid[16];
    uint16_t port;
    int64_t timeout_ns;
    bool started, stopping;
    bool protected_test;  /* modes 2 and 4: the reflector checks and protects */
    uint16_t reflect_len; /* RFC 6038: Length of padding to reflect (mode 32) */
    int index;            /* 1-based within its connection, for log lines */
    char owner[TW_ADDRSTRLEN];
};

enum cstate {
    C_SETUP, /* greeting sent, waiting for Set-Up-Response */
    C_READY, /* Server-Start sent, waiting for commands */
};

struct conn {
    struct tw_ctrl_server *srv;
    struct conn *next, *prev;
    struct conn *qnext, *qprev; /* the set-up queue, oldest first (C_SETUP only) */
    int fd;
    tw_watch_t watch;
    tw_timer_t timer; /* --setup-timeout before a session runs, then --servwait */
    enum cstate st;
    bool running;        /* a session of it has been started */
    int64_t phase_start; /* the greeting, then Server-Start: --setup-timeout counts from it */
    tw_source_t src;
    uint32_t mode;
    /* A whole control message: Set-Up-Response, or a Start-N-Sessions or
     * Stop-N-Sessions with TW_CTRL_N_MAX SIDs (RFC 5938), the longest. */
    uint8_t buf[TW_CTRL_N_LEN(TW_CTRL_N_MAX)];
    size_t need, have;
    /* Modes 2, 4, 8: this connection's Challenge and Salt, and the stream. */
    uint8_t challenge[TW_AUTH_CHALLENGE_LEN], salt[TW_AUTH_SALT_LEN];
    bool secure; /* from Server-Start on */
    tw_ctrl_crypto_t crypto;
    uint8_t block0[16]; /* a command's first block as received (the debug dump) */
    char keyid[TW_KEYID_MAX + 1];
    struct sockaddr_storage peer, local;
    socklen_t peer_len, local_len;
    int64_t last_ctrl; /* tw_mono_now() of the last control message */
    struct session *sessions;
    int nsessions;
    int requested;              /* sessions requested so far (numbering) */
    uint16_t octets_to_reflect; /* RFC 6038: of the request being answered */
    char name[TW_ADDRSTRLEN];
};

struct tw_ctrl_server {
    tw_ctrl_server_cfg_t cfg;
    tw_loop_t *loop;
    int lfd;
    tw_watch_t lwatch;
    struct conn *conns;
    struct conn *setup_head, *setup_tail; /* connections without a Set-Up-Response yet */
    struct session *orphans; /* sessions whose connection is gone, until their timeout */
    bool paused;             /* the listener, after accept() failed */
    tw_timer_t resume_timer;
    /* Log lines a client can repeat at will: at most PACE_BURST per
     * PACE_WINDOW (accept failures: one), the others counted. */
    tw_log_pacer_t pace_accept, pace_refused, pace_evicted, pace_setup, pace_kdf;
    tw_rate_t kdf_rate;     /* key derivations per source */
    tw_budget_t kdf_budget; /* key derivations all together */
    tw_batch_t *batch;      /* one receive batch shared by every session's reflector */
    tw_ctrl_server_counters_t ctr;
    /* Test packets of the sessions that have ended (ctr.test_* adds the
     * running ones at each tally). */
    uint64_t ended_received, ended_reflected, ended_dropped;
    tw_timer_t tally_timer;
    uint64_t start_ntp;
    uint16_t next_port;
};

/* Connections and sessions of the whole group of servers (cfg.shared), or of
 * this one alone: what --max-connections and --max-total-sessions limit. */
static inline int srv_total_conns(const struct tw_ctrl_server *s)
{
    return s->cfg.shared ? atomic_load_explicit(&s->cfg.shared->connections, memory_order_relaxed)
                         : s->ctr.active_connections;
}

static inline int srv_total_sessions(const struct tw_ctrl_server *s)
{
    return s->cfg.shared ? atomic_load_explicit(&s->cfg.shared->sessions, memory_order_relaxed)
                         : s->ctr.active_sessions;
}

static inline void srv_count_conns(struct tw_ctrl_server *s, int d)
{
    TW_CTR_ADD(s->ctr.active_connections, d);
    if (s->cfg.shared)
        atomic_fetch_add_explicit(&s->cfg.shared->connections, d, memory_order_relaxed);
}

static inline void srv_count_sessions(struct tw_ctrl_server *s, int d)
{
    TW_CTR_ADD(s->ctr.active_sessions, d);
    if (s->cfg.shared)
        atomic_fetch_add_explicit(&s->cfg.shared->sessions, d, memory_order_relaxed);
}

/* Random octets from OpenSSL's CSPRNG: Challenge, Salt, Server-IV and SID.
 * Returns false when there are none, and the caller refuses to go on rather
 * than send something predictable. */
static inline bool tw_srv_random(uint8_t *p, size_t n)
{
    return tw_auth_random(p, n) == TW_AUTH_OK;
}

/* ---- control_server.c --------------------------------------------------- */

/* A descriptor was freed: a paused listener takes connections again. */
void tw_srv_listener_resume(tw_ctrl_server_t *srv);
/* One write per message (sealed from Server-Start on in modes 2, 4, 8).
 * Returns -1 when the connection is gone (a failed send closes it). */
int tw_srv_conn_send(struct conn *c, uint8_t *buf, size_t len, const char *what);
/* Close c for a message it should not have sent, counted and logged. */
void tw_srv_protocol_error(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- server_session.c ----------------------------------------------------- */

/* Commands, with the whole message in c->buf. Return -1 when the connection
 * is gone. */
int tw_srv_on_request(struct conn *c);
int tw_srv_on_start(struct conn *c);
void tw_srv_on_stop(struct conn *c);
/* RFC 5938 individual session control (mode 16): Start-N-Sessions and
 * Stop-N-Sessions, answered with Start-N-Ack / Stop-N-Ack: Accept 0 for the
 * SIDs of the connection's sessions, Accept 1 for the others. */
int tw_srv_on_start_n(struct conn *c);
int tw_srv_on_stop_n(struct conn *c);
/* c is closing: its sessions become orphans until their Timeout. */
void tw_srv_sessions_orphan(struct conn *c);
/* The latest of last and the last test packet any session of c received. */
int64_t tw_srv_sessions_last_rx(const struct conn *c, int64_t last);
/* Log a session's counters, close its reflector and free it (unlinked). */
void tw_srv_session_free(struct session *s);
/* ctr.test_*: the ended sessions' test packets and the running ones'. */
void tw_srv_tally(struct tw_ctrl_server *srv);

#endif
