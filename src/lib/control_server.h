/* control_server: a TWAMP server (RFC 5357 §3): a TWAMP-Control listener and a
 * Session-Reflector per accepted test session, all state machines on one event
 * loop. A malformed, truncated or out-of-order control message closes that one
 * connection; slow clients never block others; limits refuse politely.
 *
 * Modes 2, 4 and 8: the client's KeyID is looked up in the key ring and its
 * Token opened with the key derived from that secret and this connection's
 * Salt and Count; an unknown KeyID or a wrong passphrase gets a Server-Start
 * with Accept 1 and the connection is closed, with a log line saying which.
 * From Server-Start on, every message is sealed on the way out; a command's
 * first block is decrypted to learn its length, and the whole message is acted
 * upon only once its HMAC has been checked (a failure closes the connection).
 * In modes 2 and 4 each session's reflector gets its test keys from the
 * Session-keys and the SID (auth.h).
 *
 * Against clients that want to lock others out (server_guard.h):
 *  - every control phase before a session runs has a deadline (setup_timeout):
 *    the Set-Up-Response after the greeting, and Start-Sessions (with the
 *    Request-TW-Sessions before it) after Server-Start; servwait governs once a
 *    session has started;
 *  - at max_connections a connection still without a Set-Up-Response is
 *    evicted (after a last look at what it sent) before anyone is refused,
 *    so idle connections cannot hold every slot: of the oldest eight, the one
 *    whose source holds the most connections setting up;
 *  - per source (IPv4 address, IPv6 /64) at most max_connections_per_source
 *    connections and max_sessions_per_source sessions, orphans included;
 *  - sessions outlive a lost control connection by their Timeout, at most
 *    max_orphan_time_ns;
 *  - test sockets are bound only on the control connection's local address: a
 *    Request-TW-Session naming another Receiver Address is refused (Accept 3);
 *    a requested Receiver Port is honoured when free and inside port_lo..
 *    port_hi (without a range: any unprivileged port, 1024-65535, as clients
 *    that ignore Accept-Session's port need), otherwise Accept-Session
 *    carries another port (RFC 5357 section 3.5);
 *  - key derivations (PBKDF2, synchronous on the loop) are paced per source
 *    (kdf_burst, then one per kdf_interval_ns) and all together take at most
 *    kdf_share_pct of the time; over either, Server-Start says Accept 5
 *    (temporary resource limitation) and the connection is closed;
 *  - when accept() fails for want of descriptors or memory the listener is
 *    paused until a descriptor is freed, or for a second, and the failure is
 *    logged at most once every 10 s; repeated refusals are paced alike. */
#ifndef TWAMPY_CONTROL_SERVER_H
#define TWAMPY_CONTROL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "auth.h"
#include "control_wire.h"
#include "keyfile.h"
#include "loop.h"
#include "ntptime.h"

typedef struct tw_ctrl_server_cfg {
    /* Each field set by an option of 'twampy server' is named after it. */
    struct sockaddr_storage listen; /* control address (port 862 by default) */
    socklen_t listen_len;
    bool dualstack;            /* an IPv6 wildcard listener also takes IPv4 */
    uint32_t modes;            /* --modes: offered in the Server Greeting */
    uint16_t port_lo, port_hi; /* --port-range: reflector ports; 0, 0: a requested
                                  port from 1024-65535, else the kernel's choice */
    int max_connections;       /* --max-connections: control connections at once */
    int max_sessions;          /* --max-sessions: test sessions per control connection */
    int max_total_sessions;    /* --max-total-sessions: test sessions in all */
    int64_t servwait_ns;       /* --servwait: close a connection idle this long (RFC: 900 s) */
    int64_t max_timeout_ns;    /* refuse sessions asking for a longer Timeout */
    uint32_t max_padding;      /* refuse sessions announcing more padding */
    uint16_t server_octets;    /* --server-octets: RFC 6038 Server octets (0: none) */
    int ttl;                   /* --ttl: TTL / Hop Limit of reflected packets */
    tw_acl_t allow;            /* --allow: only these clients and senders (empty: everyone) */
    /* Modes 2, 4, 8 (RFC 4656 §3.1, RFC 5618): the shared secrets by KeyID
     * (--keyfile; not owned; NULL: every KeyID is unknown), and the KDF Count
     * announced in the Server Greeting (--kdf-count; 0: TW_KDF_COUNT_DEFAULT). */
    const tw_keyring_t *keyring;
    uint32_t kdf_count;
    /* Lockout defences; 0 takes the default in brackets. */
    int64_t setup_timeout_ns;       /* --setup-timeout: each control phase before a session
                                       runs [10 s] */
    int max_connections_per_source; /* --max-connections-per-source [16] */
    int max_sessions_per_source;    /* --max-sessions-per-source: orphans included [128] */
    int64_t max_orphan_time_ns;     /* --max-orphan-time: a session's Timeout once its
                                       connection is gone [120 s] */
    int kdf_burst;                  /* key derivations per source at once [8] ... */
    int64_t kdf_interval_ns;        /* ... then one per this [250 ms] */
    int kdf_share_pct;              /* share of the time all derivations may take [25] */
    /* 0 or 1: a listener of its own; n > 1: one of n servers (workers.h) whose
     * listeners share the address (SO_REUSEPORT), each source's connections
     * handed to one of them (tw_reuseport_by_source), so the per-source
     * limits hold as with one server. */
    int reuseport_group;
    /* Servers of one group count their connections and sessions together
     * here, for --max-connections and --max-total-sessions (NULL: alone). */
    struct tw_ctrl_shared *shared;
} tw_ctrl_server_cfg_t;

/* The totals of a group of servers (server_workers.h), updated atomically. A
 * limit can be passed by at most the number of servers less one, when each
 * admits one at the same instant. */
typedef struct tw_ctrl_shared {
    _Atomic int connections;
    _Atomic int sessions;
} tw_ctrl_shared_t;

#define TW_CTRL_SETUP_TIMEOUT_DEFAULT (10 * TW_NS_PER_SEC)
#define TW_CTRL_CONN_PER_SOURCE_DEFAULT 16
#define TW_CTRL_SESSIONS_PER_SOURCE_DEFAULT 128
#define TW_CTRL_MAX_ORPHAN_DEFAULT (120 * TW_NS_PER_SEC)
/* Descriptors beyond one per connection and one per session: the listener,
 * the loop's, standard streams, a log file, one being accepted and refused. */
#define TW_CTRL_FD_RESERVE 16

typedef struct tw_ctrl_server_counters {
    uint64_t connections;         /* accepted */
    uint64_t connections_refused; /* over --max-connections */
    uint64_t connections_denied;  /* from a source --allow does not cover */
    uint64_t protocol_errors;     /* connections closed for a bad message */
    uint64_t key_rejected;        /* Set-Up-Response with an unknown KeyID or a wrong passphrase */
    uint64_t integrity_failures;  /* connections closed for a control message failing its HMAC */
    uint64_t connections_evicted; /* closed without a Set-Up-Response to make room */
    uint64_t setup_timeouts;      /* closed for missing --setup-timeout */
    uint64_t accept_failures;     /* accept() failed (no descriptors, no memory, ...) */
    uint64_t kdf_refused;         /* Set-Up-Responses refused over the key derivation pace */
    uint64_t sessions_accepted;
    uint64_t sessions_refused;
    /* Test packets of every session, ended or running (running sessions as
     * of the last tally: once a second, and when a session ends). */
    uint64_t test_received;  /* datagrams the sessions' reflectors read */
    uint64_t test_reflected; /* replies sent */
    uint64_t test_dropped;   /* read and not answered (not started, foreign sender, too short,
                                failed the integrity check) */
    int active_connections;
    int active_sessions;
} tw_ctrl_server_counters_t;

typedef struct tw_ctrl_server tw_ctrl_server_t;

int tw_ctrl_server_open(tw_ctrl_server_t **out, const tw_ctrl_server_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen);
/* The descriptors a configuration needs at most, beyond those already open. */
long tw_ctrl_server_fds_needed(const tw_ctrl_server_cfg_t *cfg);
int tw_ctrl_server_local(const tw_ctrl_server_t *s, struct sockaddr_storage *ss, socklen_t *len);
const tw_ctrl_server_counters_t *tw_ctrl_server_counters(const tw_ctrl_server_t *s);
/* Serve fd, an already connected stream socket, as a new control connection
 * (tests and fuzzing use a socketpair). Returns 0, or -1 (fd is closed). */
int tw_ctrl_server_adopt(tw_ctrl_server_t *s, int fd);
/* Close every connection and session and the listener. */
void tw_ctrl_server_close(tw_ctrl_server_t *s);

#endif
