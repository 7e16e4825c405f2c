/* reflector: the Session-Reflector for TWAMP light and STAMP (RFC 5357 §4.2,
 * RFC 8762 §4.3).
 *
 * Which format a request is in (cfg.format):
 *   TW_FORMAT_TWAMP: TWAMP (light): the reply is max(request, 41) octets, its
 *     MBZ octets (14..15, 38..39) zero, the rest of the request's padding left
 *     as it came; the sender's state is keyed by its address and port.
 *   TW_FORMAT_STAMP: STAMP (RFC 8762, SSID from RFC 8972 §3): a shorter request
 *     is read as if zero-filled to 44 octets (RFC 8762 §4.6); the reply is
 *     max(request, 44) octets with the SSID at 14..15, MBZ 41..43 and the TLVs
 *     from 44 answered in place as RFC 8972 says (stamp_tlv.h: Location,
 *     Timestamp Information, Class of Service with the reply's TOS as asked,
 *     Direct Measurement, Access Report, Follow-Up Telemetry from the kernel's
 *     transmit timestamps, the HMAC TLV in authenticated mode; others with U,
 *     a malformed one with M); the state is keyed by address, port and SSID.
 *     A request without TLVs costs nothing more.
 *   TW_FORMAT_AUTO (the default, for TWAMP light and STAMP without
 *     configuration): a request is STAMP when it has at least 44 octets and its
 *     octets 16..43 (STAMP's MBZ) are all zero, TWAMP light otherwise. TWAMP
 *     light padding SHOULD be pseudo-random (RFC 4656 §4.1.2), so a padded TWAMP
 *     light request is never taken for STAMP; a zero-padded one gets the same
 *     reply either way (its SSID and MBZ are zero).
 * A reply is never longer than its request beyond the format's minimum.
 * Stateful by default (own counter per sender), in a table with a keyed hash
 * and bounded buckets (peertable.h): a sender cannot make a lookup cost more
 * than TW_PEERTABLE_WAYS comparisons. cfg.rate_pps > 0 adds a token bucket per
 * source (ratelimit.h): requests over it are counted and dropped.
 *
 * t3 (the reply's Timestamp) is read right before each chunk of 8 replies is
 * stamped and sent: never later than the reply leaves, early by at most the
 * sends before it in its chunk. bench/t3err.c measures the error against the
 * kernel's transmit timestamps.
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

/* The test packet format a reflector answers in (see above). */
typedef enum tw_test_format {
    TW_FORMAT_AUTO = 0, /* TWAMP light or STAMP, by the rule above */
    TW_FORMAT_TWAMP,    /* TWAMP and TWAMP light (RFC 5357): a TWAMP-Control session */
    TW_FORMAT_STAMP,    /* STAMP (RFC 8762, RFC 8972) */
} tw_test_format_t;

typedef struct tw_reflector_cfg {
    struct sockaddr_storage local;
    socklen_t local_len;
    tw_sockopts_t sockopts;
    bool stateless;        /* copy the sender's sequence number */
    int64_t idle_reset_ns; /* a sender idle this long starts again at 0 (30 s) */
    uint32_t max_senders;  /* per-sender state entries in all (also the rate-limit
                              table's sources); a new sender takes the place of
                              the least recently seen of its bucket of 8 */
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
    /* The format of unauthenticated requests; a TWAMP-Control session's
     * reflector knows it is TW_FORMAT_TWAMP. TW_FORMAT_TWAMP with stamp_key is
     * refused. */
    tw_test_format_t format;
    /* Per-source rate limit (IPv4 address, IPv6 /64): rate_pps requests a
     * second with bursts of rate_burst (0: rate_pps); 0 pps: no limit. */
    uint32_t rate_pps;
    uint32_t rate_burst;
    /* RFC 6038 reflect octets (a TWAMP session in mode 32): reflect_len octets
     * of the request from offset reflect_from come back at reflect_to of the
     * reply (tw_reflect_offsets); the reply is then at least reflect_to +
     * reflect_len octets. 0: nothing to reflect. */
    uint16_t reflect_len;
    uint16_t reflect_from, reflect_to;
    /* RFC 7750 DSCP and ECN monitoring (a TWAMP session in mode 256): the
     * reply carries the request's TOS / Traffic Class octet as received
     * (S-DSCP-ECN) at 41 (the reply at least 44 octets) or 81 (protected
     * modes); needs sockopts.recv_tos. */
    bool dscp_ecn;
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
    uint64_t rate_limited; /* over the source's --rate-limit: dropped unanswered */
    /* STAMP TLVs (RFC 8972 §4, §4.8): requests answered with a malformed TLV
     * (M set, the rest copied) or a failed HMAC TLV (I set on every TLV). */
    uint64_t tlv_malformed;
    uint64_t tlv_integrity;
    /* Replies sent without their request's IPv6 flow label: the kernel
     * refused the label (an exclusive flow label lease in the namespace). */
    uint64_t unlabelled;
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
/* Keys compared in per-sender and rate-limit table lookups since open: a test
 * hook to check that the work per packet is bounded, whatever the keys. */
uint64_t tw_reflector_probes(const tw_reflector_t *r);
/* The address the reflector is bound to (with the kernel's port for port 0). */
int tw_reflector_local(const tw_reflector_t *r, struct sockaddr_storage *ss, socklen_t *len);

#endif
