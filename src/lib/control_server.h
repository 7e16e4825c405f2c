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
 * Session-keys and the SID (auth.h). */
#ifndef TWAMPY_CONTROL_SERVER_H
#define TWAMPY_CONTROL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "auth.h"
#include "control_wire.h"
#include "loop.h"

typedef struct tw_ctrl_server_cfg {
    struct sockaddr_storage listen; /* control address (port 862 by default) */
    socklen_t listen_len;
    bool dualstack;            /* an IPv6 wildcard listener also takes IPv4 */
    uint32_t modes;            /* modes offered in the Server Greeting */
    uint16_t port_lo, port_hi; /* reflector ports when the requested one is taken;
                                  0, 0: the kernel's ephemeral range */
    int max_connections;       /* control connections at once */
    int max_sessions_per_conn; /* test sessions per control connection */
    int max_sessions;          /* test sessions in total */
    int64_t servwait_ns;       /* close a connection idle this long (RFC: 900 s) */
    int64_t max_timeout_ns;    /* refuse sessions asking for a longer Timeout */
    uint32_t max_padding;      /* refuse sessions announcing more padding */
    int ttl;                   /* TTL / Hop Limit of reflected packets */
    tw_acl_t allow;            /* only these clients and senders (empty: everyone) */
    /* Modes 2, 4, 8 (RFC 4656 §3.1, RFC 5618): the shared secrets by KeyID
     * (not owned; NULL: every KeyID is unknown), and the KDF Count announced
     * in the Server Greeting (0: TW_KDF_COUNT_DEFAULT). */
    const tw_keyring_t *keyring;
    uint32_t kdf_count;
} tw_ctrl_server_cfg_t;

typedef struct tw_ctrl_server_counters {
    uint64_t connections;         /* accepted */
    uint64_t connections_refused; /* over --max-connections */
    uint64_t connections_denied;  /* from a source --allow does not cover */
    uint64_t protocol_errors;     /* connections closed for a bad message */
    uint64_t key_rejected;        /* Set-Up-Response with an unknown KeyID or a wrong passphrase */
    uint64_t integrity_failures;  /* connections closed for a control message failing its HMAC */
    uint64_t sessions_accepted;
    uint64_t sessions_refused;
    int active_connections;
    int active_sessions;
} tw_ctrl_server_counters_t;

typedef struct tw_ctrl_server tw_ctrl_server_t;

int tw_ctrl_server_open(tw_ctrl_server_t **out, const tw_ctrl_server_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen);
int tw_ctrl_server_local(const tw_ctrl_server_t *s, struct sockaddr_storage *ss, socklen_t *len);
const tw_ctrl_server_counters_t *tw_ctrl_server_counters(const tw_ctrl_server_t *s);
/* Serve fd, an already connected stream socket, as a new control connection
 * (tests and fuzzing use a socketpair). Returns 0, or -1 (fd is closed). */
int tw_ctrl_server_adopt(tw_ctrl_server_t *s, int fd);
/* Close every connection and session and the listener. */
void tw_ctrl_server_close(tw_ctrl_server_t *s);

#endif
