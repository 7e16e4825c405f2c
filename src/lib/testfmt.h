/* testfmt: what a test packet carries besides its codec (wire.h), shared by
 * the Session-Sender and the Session-Reflector:
 *
 *  - the format both ends use: open (TWAMP light, STAMP, TWAMP modes 1 and 8),
 *    TWAMP's protected modes 2 and 4 (48-octet requests, 112-octet replies),
 *    or authenticated STAMP (112 octets both ways), with its keys;
 *  - the protection of each direction in that format: the one place that
 *    picks STAMP's HMAC-SHA-256 or TWAMP's test-packet crypto (auth.h);
 *  - the Error Estimate of the local clock, asked of the kernel at most once a
 *    second rather than for every packet.
 *
 * No sockets, no logging, no allocation; a tw_testfmt_t belongs to one engine. */
#ifndef TWAMPY_TESTFMT_H
#define TWAMPY_TESTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

typedef enum tw_testfmt_kind {
    TW_TESTFMT_OPEN,       /* TWAMP light, STAMP, TWAMP modes 1 and 8 */
    TW_TESTFMT_TWAMP_AUTH, /* TWAMP modes 2 and 4: 48-octet requests, 112-octet replies */
    TW_TESTFMT_STAMP_AUTH, /* authenticated STAMP: 112 octets both ways */
} tw_testfmt_kind_t;

/* Zero is the open format. */
typedef struct tw_testfmt {
    tw_testfmt_kind_t kind;
    uint32_t test_mode; /* TWAMP_AUTH: TW_MODE_AUTHENTICATED or TW_MODE_ENCRYPTED */
    tw_test_crypto_t tc;
    tw_stamp_crypto_t sc;
} tw_testfmt_t;

/* Authenticated STAMP with this HMAC key (not kept: the context holds it).
 * Returns 0 or a TW_AUTH_E* code (the format is then unchanged). */
int tw_testfmt_set_stamp_key(tw_testfmt_t *f, const uint8_t *key, size_t key_len);
/* TWAMP mode 2 or 4 with the session's test keys: *t is taken over (and zeroed).
 * TW_AUTH_EINVAL for another mode, no keys, or authenticated STAMP. */
int tw_testfmt_set_twamp(tw_testfmt_t *f, uint32_t mode, tw_test_crypto_t *t);
/* Release the keys; f is the open format after. */
void tw_testfmt_free(tw_testfmt_t *f);

/* Protect a Session-Sender packet in place (the sender, on the way out) and
 * open one (the reflector, before reading anything in it); the same for a
 * Session-Reflector packet (the reflector on the way out, the sender on the
 * way in). 0, or a TW_AUTH_E* code: TW_AUTH_EINTEGRITY when a packet fails its
 * check, TW_AUTH_EINVAL in the open format or for a packet too short. */
int tw_testfmt_sender_protect(tw_testfmt_t *f, uint8_t *pkt, size_t len);
int tw_testfmt_sender_open(tw_testfmt_t *f, uint8_t *pkt, size_t len);
int tw_testfmt_reflector_protect(tw_testfmt_t *f, uint8_t *pkt, size_t len);
int tw_testfmt_reflector_open(tw_testfmt_t *f, uint8_t *pkt, size_t len);

/* ---- the Error Estimate of the local clock -------------------------------- */

typedef struct tw_errest_cache {
    uint16_t value; /* the encoded Error Estimate */
    int64_t at;     /* tw_mono_now() when it was read; 0: never */
} tw_errest_cache_t;

/* The Error Estimate field of the local clock (tw_clock_errest, encoded),
 * read again when the last reading is more than a second older than mono
 * (tw_mono_now()). ptp: the Z bit (PTP timestamps). */
uint16_t tw_errest_cached(tw_errest_cache_t *c, int64_t mono, bool ptp);

#endif
