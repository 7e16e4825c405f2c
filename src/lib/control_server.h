/* control_server: a TWAMP server (RFC 5357 §3): a TWAMP-Control listener and a
 * Session-Reflector per accepted test session, all state machines on one event
 * loop. A malformed, truncated or out-of-order control message closes that one
 * connection; slow clients never block others; limits refuse politely. */
#ifndef TWAMPY_CONTROL_SERVER_H
#define TWAMPY_CONTROL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
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
} tw_ctrl_server_cfg_t;

typedef struct tw_ctrl_server_counters {
    uint64_t connections;         /* accepted */
    uint64_t connections_refused; /* over --max-connections */
    uint64_t connections_denied;  /* from a source --allow does not cover */
    uint64_t protocol_errors;     /* connections closed for a bad message */
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
