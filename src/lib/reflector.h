/* reflector: the Session-Reflector for TWAMP light and STAMP (RFC 5357 §4.2,
 * RFC 8762 §4.3). Answers both formats without being told: a reply is
 * max(request, 41) octets, a STAMP-sized request (>= 44) gets its SSID and TLVs
 * back. Stateful by default (own counter per sender address, port and SSID). */
#ifndef TWAMPY_REFLECTOR_H
#define TWAMPY_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "net.h"

typedef struct tw_reflector_cfg {
    struct sockaddr_storage local;
    socklen_t local_len;
    tw_sockopts_t sockopts;
    bool stateless;        /* copy the sender's sequence number */
    int64_t idle_reset_ns; /* a sender idle this long starts again at 0 (30 s) */
    uint32_t max_senders;  /* per-sender state entries; the least recently seen goes */
} tw_reflector_cfg_t;

typedef struct tw_reflector_counters {
    uint64_t received;  /* datagrams read */
    uint64_t reflected; /* replies sent */
    uint64_t too_short; /* shorter than 14 octets: counted and dropped */
    uint64_t truncated; /* longer than the receive buffer: reflected from what fits */
    uint64_t send_errors;
    uint64_t senders_evicted;
} tw_reflector_counters_t;

typedef struct tw_reflector tw_reflector_t;

/* Bind and start serving on loop. Returns 0, or -1 with a reason in err. */
int tw_reflector_open(tw_reflector_t **out, const tw_reflector_cfg_t *cfg, tw_loop_t *loop,
                      char *err, size_t errlen);
void tw_reflector_close(tw_reflector_t *r);
const tw_reflector_counters_t *tw_reflector_counters(const tw_reflector_t *r);
/* The address the reflector is bound to (with the kernel's port for port 0). */
int tw_reflector_local(const tw_reflector_t *r, struct sockaddr_storage *ss, socklen_t *len);

#endif
