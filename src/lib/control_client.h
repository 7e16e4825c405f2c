/* control_client: the TWAMP-Control client (RFC 5357 §3) as a state machine on
 * the event loop: connect, Server Greeting, Set-Up-Response, Server-Start, one
 * Request-TW-Session / Accept-Session per session, Start-Sessions / Start-Ack,
 * then (on request) Stop-Sessions. Every message is read by its exact length
 * (TCP may split or join them) and sent with one write. Every step has a
 * timeout, and every failure is reported in words naming the step. */
#ifndef TWAMPY_CONTROL_CLIENT_H
#define TWAMPY_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control_wire.h"
#include "loop.h"

#define TW_CTRL_MAX_SESSIONS 64

/* One test session to request. Addresses are raw (IPv4 in the first 4
 * octets); all-zero means "the address of the control connection". */
typedef struct tw_ctrl_session_req {
    uint8_t sender_addr[16];
    uint8_t receiver_addr[16];
    uint16_t sender_port;
    uint16_t receiver_port;
    uint32_t padding_length;
    int dscp;           /* Type-P DSCP 0..63 */
    int64_t timeout_ns; /* the reflector waits this long after Stop-Sessions */
} tw_ctrl_session_req_t;

typedef struct tw_ctrl_client_cfg {
    struct sockaddr_storage server;
    socklen_t server_len;
    /* Use this connected stream socket instead of connecting to server (tests
     * and fuzzing use a socketpair); the client owns and closes it. */
    bool use_connected_fd;
    int connected_fd;
    int64_t step_timeout_ns; /* --control-timeout */
    int nsessions;           /* 1..TW_CTRL_MAX_SESSIONS */
    tw_ctrl_session_req_t req[TW_CTRL_MAX_SESSIONS];
    /* Every session accepted and Start-Ack received: the test may run. */
    void (*on_started)(void *arg, const tw_accept_session_t *acc, int n);
    /* A step failed (why says which and why) or the server went away. */
    void (*on_failed)(void *arg, const char *why);
    /* Stop-Sessions sent and the connection closed. */
    void (*on_stopped)(void *arg);
    void *arg;
} tw_ctrl_client_cfg_t;

typedef struct tw_ctrl_client tw_ctrl_client_t;

/* Start connecting. Returns 0, or -1 with a reason in err. */
int tw_ctrl_client_open(tw_ctrl_client_t **out, const tw_ctrl_client_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen);
/* Send Stop-Sessions with the number of sessions accepted, then close. */
void tw_ctrl_client_stop(tw_ctrl_client_t *c);
/* The modes the server offered and the mode chosen (after the greeting). */
uint32_t tw_ctrl_client_server_modes(const tw_ctrl_client_t *c);
uint32_t tw_ctrl_client_mode(const tw_ctrl_client_t *c);
/* The local address of the control connection (after connecting). */
int tw_ctrl_client_local(const tw_ctrl_client_t *c, struct sockaddr_storage *ss, socklen_t *len);
void tw_ctrl_client_close(tw_ctrl_client_t *c);

#endif
