/* conformance: what a reflector's replies say about the reflector (issue 11):
 * fields laid out or filled against the RFC, counted per reply and reported
 * once per kind with a stable code, the RFC clause and the count.
 *
 * The sender hands every first reply to a packet it sent (tw_conform_reply);
 * the report turns the counts into one sentence per finding
 * (tw_conform_text). A finding is a warning (the reflector does something the
 * RFC says it must not, or leaves out what it must give) or a note (what kind
 * of reflector it is, no defect). Pure: no I/O, no clock, no allocation. */
#ifndef TWAMPY_CONFORMANCE_H
#define TWAMPY_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntptime.h"

/* The findings, in the order the report gives them. The codes
 * (tw_conform_code) are stable: JSON and scripts key on them. */
enum tw_conform_kind {
    TW_CF_SWAPPED,       /* "swapped-timestamps": our t1 at offset 4, its t3 at 28 */
    TW_CF_ECHOED,        /* "request-echoed": the request sent back, no reflector fields */
    TW_CF_TS_NOT_ECHOED, /* "sender-timestamp-not-echoed": Sender Timestamp not our t1 */
    TW_CF_T3_BEFORE_T2,  /* "t3-before-t2": Timestamp earlier than Receive Timestamp */
    TW_CF_T2_EQUALS_T3,  /* "t2-equals-t3": one time for both: residence not reported */
    TW_CF_NO_SENDER_TTL, /* "no-sender-ttl": Sender TTL 0, or the reply ends before it */
    TW_CF_ERREST_ZERO,   /* "error-estimate-zero": Error Estimate Multiplier 0 */
    TW_CF_CLOCK_FAR_OFF, /* "clock-far-off": S bit set (or an epoch mistake), timestamps
                            seconds away from ours */
    TW_CF_SSID,          /* "ssid-not-echoed": STAMP SSID not the one sent */
    TW_CF_LENGTH,        /* "reply-length": STAMP reply not as long as the request */
    TW_CF_MBZ,           /* "mbz-not-zero": an MBZ octet not zero */
    TW_CF_SEQ_ERRATIC,   /* "sequence-erratic": reflector Sequence Number neither ours nor
                            counting up */
    TW_CF_SEQ_STATELESS, /* "sequence-stateless" (note): ours sent back */
    TW_CF_SEQ_STATEFUL,  /* "sequence-stateful" (note): counted by the reflector */
    TW_CF_COUNT
};

/* The sender's format, for where the fields are and which RFC applies. */
enum tw_conform_format {
    TW_CF_TWAMP,      /* TWAMP light / TWAMP unauthenticated (RFC 5357 §4.2.1) */
    TW_CF_STAMP,      /* STAMP unauthenticated (RFC 8762 §4.3.1) */
    TW_CF_TWAMP_AUTH, /* TWAMP authenticated or encrypted (RFC 5357 §4.2.1, 112 octets) */
    TW_CF_STAMP_AUTH, /* STAMP authenticated (RFC 8762 §4.3.2) */
};

/* How the sender matched the reply (sender.c). */
enum tw_conform_layout {
    TW_CF_LAYOUT_STRICT,   /* RFC 5357 §4.2.1 / RFC 8762 §4.3 */
    TW_CF_LAYOUT_SWAPPED,  /* Timestamp and Sender Timestamp swapped */
    TW_CF_LAYOUT_ECHO,     /* the request echoed: our Sequence Number and t1 at 0 and 4 */
    TW_CF_LAYOUT_SEQ_ONLY, /* our Sender Sequence Number, another Sender Timestamp */
};

/* Timestamps further than this outside our own t1..t4 are "far off": no
 * one-way delay explains them. */
#define TW_CF_FAR_NS (5 * TW_NS_PER_SEC)
/* 1900-01-01 to 1970-01-01: Unix seconds written where NTP seconds belong. */
#define TW_CF_EPOCH_S 2208988800LL

typedef struct tw_conformance {
    int format;       /* enum tw_conform_format: which fields, which RFC */
    uint64_t replies; /* replies examined */
    uint64_t count[TW_CF_COUNT];
    uint64_t seq_seen;             /* replies whose reflector Sequence Number was examined */
    uint64_t ttl_zero;             /* of no-sender-ttl: a Sender TTL of 0 (the others: too short) */
    uint32_t len_req, len_rep;     /* the first reply-length finding: request, reply octets */
    uint16_t ssid_sent, ssid_seen; /* the first ssid-not-echoed finding */
    uint16_t mbz_offset;           /* the first MBZ octet found not zero */
    uint8_t mbz_value;
    int64_t far_offset_s; /* the first clock-far-off finding: seconds from ours */
    uint64_t far_epoch;   /* of clock-far-off: offsets within a minute of TW_CF_EPOCH_S */
    /* The reflector's Sequence Number: the previous reply's, and ours. */
    bool seq_have;
    uint32_t last_sseq, last_rseq;
} tw_conformance_t;

/* One reply, as the sender read it. */
typedef struct tw_conform_reply {
    const uint8_t *buf; /* the reply as received (decrypted in the protected formats) */
    size_t len;
    size_t req_len;           /* the request's length */
    int format;               /* enum tw_conform_format */
    int layout;               /* enum tw_conform_layout */
    uint16_t ssid;            /* the SSID sent (STAMP) */
    uint32_t sseq;            /* our Sequence Number it answers */
    uint32_t rseq;            /* the reflector's Sequence Number */
    uint16_t errest;          /* the reflector's Error Estimate */
    uint64_t ntp2, ntp3;      /* Receive Timestamp and Timestamp as on the wire, 0 none */
    tw_time_t t1, t2, t3, t4; /* t2, t3 decoded (0 none) */
    int sender_ttl;           /* the Sender TTL field, -1 when the reply ends before it */
    int tai;                  /* TAI - UTC, s (PTP timestamps) */
} tw_conform_reply_t;

void tw_conform_init(tw_conformance_t *c, int format);
void tw_conform_reply(tw_conformance_t *c, const tw_conform_reply_t *r);
/* into += from (totals over sessions). */
void tw_conform_merge(tw_conformance_t *into, const tw_conformance_t *from);

/* The finding's stable code ("t2-equals-t3"), NULL out of range. */
const char *tw_conform_code(int k);
/* "warn" or "info". */
const char *tw_conform_severity(int k);
/* The RFC clause for this run's format ("RFC 5357 §4.2.1"). */
const char *tw_conform_rfc(const tw_conformance_t *c, int k);
/* How many replies show it: 0 when the finding does not apply. The sequence
 * findings are one of three: stateless when every reply examined carried our
 * own Sequence Number, erratic when some went against the others, stateful
 * otherwise. */
uint64_t tw_conform_count(const tw_conformance_t *c, int k);
/* Of how many replies: those examined, or for the sequence findings those
 * whose reflector Sequence Number was examined (not echoed requests). */
uint64_t tw_conform_of(const tw_conformance_t *c, int k);
/* The sentence (without code and clause): "100 of 100 replies carry ...". */
const char *tw_conform_text(const tw_conformance_t *c, int k, char *buf, size_t len);

/* The report's line: "Warning [code] RFC ...: text" / "Note [code] RFC ...: text". */
const char *tw_conform_line(const tw_conformance_t *c, int k, char *buf, size_t len);

#endif
