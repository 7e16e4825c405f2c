/* reflector: the Session-Reflector for TWAMP light and STAMP (RFC 5357 §4.2,
 * RFC 8762 §4.3). Answers both formats without being told: a reply is
 * max(request, 41) octets, a STAMP-sized request (>= 44) gets its SSID and TLVs
 * back. Stateful by default (own counter per sender address, port and SSID).
 *
 * Protected modes, where every request must pass its check before it is
 * answered (a request that fails is counted and dropped, never answered):
 *   authenticated STAMP (RFC 8762 §4.3.2, cfg.stamp_key): 112-octet requests
 *     with HMAC-SHA-256, answered in the 112-octet format (+ the request's
 *     TLVs), as long as the request;
 *   TWAMP authenticated and encrypted (RFC 5357 §4.2.1, tw_reflector_set_security,
 *     for a TWAMP server's session): 48-octet requests (+ padding), answered
 *     in the 112-octet format, max(request, 112) octets. */
#ifndef TWAMPY_REFLECTOR_H
#define TWAMPY_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "auth.h"
#include "loop.h"
#include "net.h"

typedef struct tw_reflector_cfg {
    struct sockaddr_storage local;
    socklen_t local_len;
    tw_sockopts_t sockopts;
    bool stateless;        /* copy the sender's sequence number */
    int64_t idle_reset_ns; /* a sender idle this long starts again at 0 (30 s) */
    uint32_t max_senders;  /* per-sender state entries; the least recently seen goes */
    /* A TWAMP session's reflector: only this sender address (port ignored, for
     * NAT) gets replies; AF_UNSPEC (zeroed) means anyone. */
    struct sockaddr_storage only_from;
    bool inactive;         /* start inactive: drop everything until activated */
    const tw_acl_t *allow; /* only these sources get replies (NULL or empty: all) */
    tw_batch_t *batch;     /* shared receive batch (not owned), or NULL for an own one */
    /* Authenticated STAMP: the HMAC key (read by tw_reflector_open only; the
     * caller wipes it), or NULL. */
    const uint8_t *stamp_key;
    size_t stamp_key_len;
} tw_reflector_cfg_t;

typedef struct tw_reflector_counters {
    uint64_t received;  /* datagrams read */
    uint64_t reflected; /* replies sent */
    uint64_t too_short; /* shorter than 14 octets: counted and dropped */
    uint64_t truncated; /* longer than the receive buffer: reflected from what fits */
    uint64_t send_errors;
    uint64_t senders_evicted;
    uint64_t inactive; /* arrived while the session was not started */
    uint64_t foreign;  /* from an address that is not the session's sender */
    uint64_t denied;   /* from a source --allow does not cover */
    /* Protected modes: requests dropped unanswered because they are shorter
     * than the authenticated format (unauthenticated), or failed the HMAC
     * check (integrity: altered in flight, or another key). */
    uint64_t unauthenticated;
    uint64_t integrity;
    int64_t last_rx_mono; /* tw_mono_now() of the last datagram, 0 if none */
} tw_reflector_counters_t;

typedef struct tw_reflector tw_reflector_t;

/* Bind and start serving on loop. Returns 0, or -1 with a reason in err. */
int tw_reflector_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_loop_t *loop,
                      char *err, size_t errlen);
void tw_reflector_close(tw_reflector_t *r);
const tw_reflector_counters_t *tw_reflector_counters(const tw_reflector_t *r);
/* Turn the request in p (buf, len, cap, peer, rx_time, ttl) into its reply in
 * place, as the reflector does for every packet it reads; returns the reply's
 * length, 0 when the request gets none. No I/O: for tests and fuzzing. */
size_t tw_reflector_answer(tw_reflector_t *r, tw_pkt_t *p);
/* A TWAMP session in mode TW_MODE_AUTHENTICATED or TW_MODE_ENCRYPTED: check
 * and answer with the test keys in *t (tw_test_crypto_init with the session's
 * SID), which the reflector takes over (*t is zero after). Returns 0, or
 * TW_AUTH_EINVAL (other modes, or a STAMP-authenticated reflector). */
int tw_reflector_set_security(tw_reflector_t *r, uint32_t mode, tw_test_crypto_t *t);
/* Start or stop answering (a TWAMP session between Start- and Stop-Sessions). */
void tw_reflector_set_active(tw_reflector_t *r, bool active);
/* The address the reflector is bound to (with the kernel's port for port 0). */
int tw_reflector_local(const tw_reflector_t *r, struct sockaddr_storage *ss, socklen_t *len);

#endif
