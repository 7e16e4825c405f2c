/* control_client: the TWAMP-Control client (RFC 5357 §3) as a state machine on
 * the event loop: connect, Server Greeting, Set-Up-Response, Server-Start, one
 * Request-TW-Session / Accept-Session per session, Start-Sessions / Start-Ack,
 * then (on request) Stop-Sessions. Every message is read by its exact length
 * (TCP may split or join them) and sent with one write. Every step has a
 * timeout, and every failure is reported in words naming the step.
 *
 * In the authenticated, encrypted and mixed modes (2, 4, 8) the client derives
 * the key from its secret and the greeting's Salt and Count (refusing a Count
 * above its ceiling), sends its KeyID, Token and Client-IV in Set-Up-Response,
 * and from Server-Start on encrypts and HMACs every message it sends and
 * checks the HMAC of every message it receives before it acts on any of it
 * (auth.h). Nothing secret is logged: the debug dumps show the ciphertext. */
#ifndef TWAMPY_CONTROL_CLIENT_H
#define TWAMPY_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "control_wire.h"
#include "loop.h"
#include "ntptime.h"

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
    /* RFC 6038 reflect octets (mode 32, cfg.reflect_octets): the Octets to be
     * reflected (Accept-Session must carry them back) and the Length of
     * padding to reflect. */
    uint16_t octets_to_reflect;
    uint16_t padding_to_reflect;
    /* RFC 5357 §3.5 Start Time: the session starts then, or at Start-Sessions
     * if that is later; 0: at Start-Sessions (the request carries the time
     * it is sent). */
    tw_time_t start_time;
} tw_ctrl_session_req_t;

typedef struct tw_ctrl_client_cfg {
    struct sockaddr_storage server;
    socklen_t server_len;
    /* Use this connected stream socket instead of connecting to server (tests
     * and fuzzing use a socketpair); the client owns and closes it. */
    bool use_connected_fd;
    int connected_fd;
    int64_t step_timeout_ns; /* --control-timeout */
    /* Security (RFC 4656 §3.1, RFC 5618). modes: the modes the client may
     * choose, strongest first, each one of TW_MODE_UNAUTHENTICATED,
     * _AUTHENTICATED, _ENCRYPTED, _MIXED; the first one the server offers is
     * taken. nmodes 0: encrypted, authenticated, mixed, open with a secret;
     * open alone without one. */
    uint32_t modes[4];
    int nmodes;
    /* The shared secret and its KeyID, for modes 2, 4 and 8. The client keeps
     * its own copy and wipes it once the key is derived (or on close); the
     * caller wipes this one after tw_ctrl_client_open. */
    bool have_secret;
    tw_secret_t secret;
    char keyid[TW_KEYID_MAX + 1];
    /* Refuse a Server Greeting whose Count is above this rather than spend
     * that long deriving the key (0: TW_KDF_COUNT_CEILING_DEFAULT). */
    uint32_t kdf_max_count;
    /* RFC 6038: reflect_octets chooses mode 32 (the server must offer it);
     * symmetrical chooses mode 64 (the server must offer it, with an
     * unauthenticated test format: RFC 6038 §5.1.4 gives the symmetrical
     * Session-Sender format of that one only). Without symmetrical, mode 64 is
     * still chosen when offered in the unauthenticated test format and every
     * session's padding_length is 27 or more (twampy's default packet is the
     * symmetrical format). padding_length is the sender's padding after its
     * 14-octet header; in mode 64 the request announces padding_length - 27,
     * the padding after the format's 27 MBZ octets (RFC 6038 §4.2, §5.1.4). */
    bool reflect_octets;
    bool symmetrical;
    /* RFC 5938 individual session control (mode 16; the server must offer
     * it): no Start-Sessions: on_started comes after the last Accept-Session,
     * and the sessions are started and stopped with tw_ctrl_client_start_n
     * and tw_ctrl_client_stop_n; their acks come to on_n_ack. */
    bool individual;
    /* RFC 7750 DSCP and ECN monitoring (mode 256; the server must offer it):
     * every reply carries the DSCP and ECN its request arrived with
     * (tw_sender_set_dscp_ecn). Mode 64 is then chosen only when asked for. */
    bool dscp_ecn;
    int nsessions; /* 1..TW_CTRL_MAX_SESSIONS */
    tw_ctrl_session_req_t req[TW_CTRL_MAX_SESSIONS];
    /* Every session accepted and Start-Ack received: the test may run. */
    void (*on_started)(void *arg, const tw_accept_session_t *acc, int n);
    /* A step failed (why says which and why) or the server went away. */
    void (*on_failed)(void *arg, const char *why);
    /* Stop-Sessions sent and the connection closed. */
    void (*on_stopped)(void *arg);
    /* Mode 16: a Start-N-Ack (start) or Stop-N-Ack with this Accept for the
     * sessions idx[0..n) (0-based, in the order of the ack). */
    void (*on_n_ack)(void *arg, bool start, uint8_t accept, const int *idx, int n);
    void *arg;
} tw_ctrl_client_cfg_t;

typedef struct tw_ctrl_client tw_ctrl_client_t;

/* Start connecting. Returns 0, or -1 with a reason in err. */
int tw_ctrl_client_open(tw_ctrl_client_t **out, const tw_ctrl_client_cfg_t *cfg, tw_loop_t *loop,
                        char *err, size_t errlen);
/* Send Stop-Sessions with the number of sessions accepted (mode 16:
 * Stop-N-Sessions for those not stopped yet), then close. */
void tw_ctrl_client_stop(tw_ctrl_client_t *c);
/* Mode 16, once on_started was called: Start-N-Sessions / Stop-N-Sessions for
 * the sessions idx[0..n) (0-based, n <= TW_CTRL_N_MAX). Returns 0, or -1 when
 * they cannot be sent (not running, not mode 16, a bad index, or the
 * connection failed: on_failed says why). */
int tw_ctrl_client_start_n(tw_ctrl_client_t *c, const int *idx, int n);
int tw_ctrl_client_stop_n(tw_ctrl_client_t *c, const int *idx, int n);
/* The modes the server offered and the mode chosen (after the greeting). */
uint32_t tw_ctrl_client_server_modes(const tw_ctrl_client_t *c);
uint32_t tw_ctrl_client_mode(const tw_ctrl_client_t *c);
/* Modes 2 and 4: the keys for the test packets of accepted session i
 * (0-based), derived from the control Session-keys and the session's SID
 * (tw_test_crypto_init), for tw_sender_set_security. Call it from on_started.
 * Returns 0, or a negative TW_AUTH_E* code (TW_AUTH_EINVAL when the mode does
 * not protect test packets or there is no such session). */
int tw_ctrl_client_test_crypto(const tw_ctrl_client_t *c, int i, tw_test_crypto_t *t);
/* The local address of the control connection (after connecting). */
int tw_ctrl_client_local(const tw_ctrl_client_t *c, struct sockaddr_storage *ss, socklen_t *len);
void tw_ctrl_client_close(tw_ctrl_client_t *c);

#endif
