/* check: conformance tests of a TWAMP light / STAMP Session-Reflector
 * (tw_check_reflector) and of a TWAMP server (tw_check_control), for a user
 * validating a device: a fixed battery of named tests, each with the RFC
 * clause it checks, what was expected, what was seen and a verdict (PASS,
 * WARN, FAIL; SKIP for a test that could not run), printed as a text table
 * or as JSON (schema "twampy-check/1", docs/json-schema.md).
 *
 * Every wait has a deadline (cfg.timeout_ns per test): a silent device gives
 * a short table of FAILs within a few timeouts, never a hang. The packets are
 * built with the pure codecs (wire.h, control_wire.h) and, for the malformed
 * cases, as raw octets. Blocking sockets with poll() deadlines; no event loop.
 *
 * The verdicts on one reply (tw_check_judge_*) are pure functions of what was
 * sent and what came back, exposed for the unit tests and for an embedder
 * with its own I/O. */
#ifndef TWAMPY_CHECK_H
#define TWAMPY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "auth.h"
#include "ntptime.h"

typedef enum tw_check_result {
    TW_CHECK_PASS = 0,
    TW_CHECK_WARN,
    TW_CHECK_FAIL,
    TW_CHECK_SKIP,
} tw_check_result_t;

#define TW_CHECK_NAME_LEN 40
#define TW_CHECK_CLAUSE_LEN 48
#define TW_CHECK_TEXT_LEN 224
#define TW_CHECK_MAX_ROWS 64

typedef struct tw_check_row {
    char name[TW_CHECK_NAME_LEN];     /* "reply", "length 100", "TLV unknown type" */
    char clause[TW_CHECK_CLAUSE_LEN]; /* "RFC 8762 §4.3.1" */
    char expected[TW_CHECK_TEXT_LEN];
    char seen[TW_CHECK_TEXT_LEN];
    tw_check_result_t result;
} tw_check_row_t;

typedef struct tw_check_table {
    char kind[16];   /* "reflector" or "control" */
    char target[64]; /* "192.0.2.1:862" */
    char title[224]; /* the line above the table */
    int64_t timeout_ns;
    int n;        /* rows used (at most TW_CHECK_MAX_ROWS; later rows are dropped) */
    int answered; /* replies / messages the device sent at all */
    tw_check_row_t rows[TW_CHECK_MAX_ROWS];
} tw_check_table_t;

void tw_check_table_init(tw_check_table_t *t, const char *kind, const char *target,
                         int64_t timeout_ns);
/* Add a row; seen is a printf format. Texts longer than a field are cut. */
void tw_check_add(tw_check_table_t *t, tw_check_result_t result, const char *name,
                  const char *clause, const char *expected, const char *seen, ...)
    __attribute__((format(printf, 6, 7)));
int tw_check_count(const tw_check_table_t *t, tw_check_result_t result);
/* The exit status of `twampy check`: 0 with no FAIL, 1 with a FAIL or when the
 * device answered nothing at all. */
int tw_check_exit_status(const tw_check_table_t *t);
/* "PASS", "WARN", "FAIL", "SKIP". */
const char *tw_check_result_str(tw_check_result_t r);

/* The text table: a title line, one row per test (long texts wrapped within
 * their column), then the counts and the overall result. */
void tw_check_print(FILE *f, const tw_check_table_t *t);
/* The same as one JSON document (schema "twampy-check/1"). */
#define TW_CHECK_JSON_SCHEMA "twampy-check/1"
void tw_check_json(FILE *f, const tw_check_table_t *t, bool pretty);

/* ---- The batteries -------------------------------------------------------- */

enum {
    TW_CHECK_FORMAT_BOTH = 0, /* TWAMP light and STAMP tests */
    TW_CHECK_FORMAT_TWAMP,    /* TWAMP light only (RFC 5357) */
    TW_CHECK_FORMAT_STAMP,    /* STAMP only (RFC 8762, RFC 8972) */
};

typedef struct tw_check_cfg {
    struct sockaddr_storage target; /* the reflector, or the TWAMP server */
    socklen_t target_len;
    int64_t timeout_ns; /* per test (0: 2 s) */
    int format;         /* TW_CHECK_FORMAT_* (reflector) */
    uint16_t ssid;      /* STAMP SSID (0: 0x7a11) */
    int dscp;           /* DSCP of the test packets (-1: 0) and of the Class of Service
                           test's packet (-1: 46, EF) */
    int ttl;            /* TTL / Hop Limit of the test packets (0: 64) */
    int mtu;            /* the MTU-sized request's IP packet (0: 1500) */
    /* Authenticated STAMP (RFC 8762 §4.4): the HMAC key; the reflector battery
     * then sends the 112-octet authenticated format only. */
    const uint8_t *stamp_key;
    size_t stamp_key_len;
    /* TWAMP-Control (tw_check_control): a shared secret and its KeyID; the
     * session then runs in the strongest of the encrypted, authenticated and
     * mixed modes the server offers (RFC 4656 §3.1, RFC 5618). */
    const tw_secret_t *secret;
    const char *keyid;
} tw_check_cfg_t;

/* Run the battery against the reflector at cfg->target and fill t. Returns 0,
 * or -1 with a reason in err when the check could not run at all (no socket). */
int tw_check_reflector(const tw_check_cfg_t *cfg, tw_check_table_t *t, char *err, size_t errlen);
/* The same for the TWAMP server (TWAMP-Control over TCP) at cfg->target. */
int tw_check_control(const tw_check_cfg_t *cfg, tw_check_table_t *t, char *err, size_t errlen);

/* ---- Verdicts on one exchange (pure) ------------------------------------- */

enum {
    TW_CHECK_KIND_TWAMP = 0,  /* TWAMP light request, 41-octet reflector format */
    TW_CHECK_KIND_STAMP,      /* unauthenticated STAMP, 44-octet base */
    TW_CHECK_KIND_STAMP_AUTH, /* authenticated STAMP, 112-octet base */
};

/* One request and what came back. */
typedef struct tw_check_xchg {
    int kind;
    size_t req_len;
    uint32_t seq;         /* Sequence Number sent */
    uint64_t ts;          /* Timestamp sent (NTP) */
    uint16_t errest;      /* Error Estimate sent */
    uint16_t ssid;        /* SSID sent (STAMP) */
    int ttl;              /* the request's TTL / Hop Limit when it left */
    tw_time_t t1, t4;     /* our clock: sent, reply received */
    bool synced;          /* the two clocks can be compared (same host, or both S bits) */
    int64_t clock_err_ns; /* then, how far apart they may be (0 on the same host) */
    bool replied;
    const uint8_t *rep; /* the reply (already checked, for STAMP_AUTH, by its HMAC) */
    size_t rep_len;
    bool from_target; /* it came from the address and port the request went to */
    char from[64];    /* where it came from */
    bool hmac_ok;     /* STAMP_AUTH: the reply's HMAC verified */
    char icmp[96];    /* an ICMP error seen instead of a reply, or "" */
} tw_check_xchg_t;

/* The basic rows of a first exchange: reply, echoed fields, MBZ, Sender TTL,
 * t2/t3, Error Estimate, source address and port. */
void tw_check_judge_basic(tw_check_table_t *t, const tw_check_xchg_t *x);
/* One "length N" row: a reply of max(request, base) octets. */
void tw_check_judge_length(tw_check_table_t *t, const tw_check_xchg_t *x);
/* The reflector's sequence numbers for consecutive sender sequence numbers
 * sseq[0..n): stateless (copied), stateful (+1 each) or erratic. */
void tw_check_judge_sequence(tw_check_table_t *t, const uint32_t *sseq, const uint32_t *rseq,
                             int n);

#endif
