/* sender: the Session-Sender for TWAMP light and STAMP (RFC 5357 §4.1,
 * RFC 8762 §4.2). Sends on an absolute schedule (packet k leaves at
 * start + k * interval), matches replies by Sender Sequence Number and Sender
 * Timestamp, and finishes when every reply is in or `timeout` after the last send.
 *
 * Protected formats: authenticated STAMP (RFC 8762 §4.2.2, cfg.stamp_key) and
 * TWAMP modes 2 and 4 (RFC 5357 §4.1.2, tw_sender_set_security). Every reply
 * must pass its HMAC check (and is decrypted in encrypted mode) before any of
 * it is read; one that fails is counted in integrity_failures and never
 * measured. */
#ifndef TWAMPY_SENDER_H
#define TWAMPY_SENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"
#include "auth.h"
#include "conformance.h"
#include "flowlabel.h"
#include "loop.h"
#include "net.h"
#include "phc.h"
#include "metrics.h"
#include "stamp_tlv.h"
#include "stats.h"

#define TW_PADDING_IMIX (-1)

enum tw_schedule { TW_SCHEDULE_PERIODIC, TW_SCHEDULE_POISSON };
enum tw_tsmode { TW_TS_SOFTWARE, TW_TS_USER, TW_TS_HARDWARE };

/* What became of one packet, final once its timeout has passed. */
typedef enum tw_pkt_status {
    TW_PKT_OK,
    TW_PKT_LOST,
    TW_PKT_DUPLICATE, /* answered more than once */
    TW_PKT_REORDERED, /* answered after a later-sent packet */
    TW_PKT_LATE,      /* answered after the timeout */
} tw_pkt_status_t;

typedef struct tw_packet_record {
    uint32_t seq;
    tw_pkt_status_t status;
    tw_time_t t1, t2, t3, t4;        /* 0 when unknown (lost) */
    uint64_t ntp1, ntp2, ntp3, ntp4; /* as on the wire (t1: the Timestamp we sent) */
    int ttl_out, ttl_in;             /* -1 unknown */
    int tos_in;                      /* TOS / Traffic Class of the reply, -1 unknown */
    uint32_t size;                   /* octets sent (UDP payload) */
} tw_packet_record_t;

/* One --report-interval line. */
typedef struct tw_interval {
    double start_s, end_s;         /* since the first packet */
    uint64_t sent, received, lost; /* in the interval (lost: by the time of the line) */
    int64_t rtt_min, rtt_max;      /* ns; valid when received > 0 */
    double rtt_mean;
    int64_t rtt_last;
} tw_interval_t;

typedef struct tw_sender_cfg {
    struct sockaddr_storage local, remote;
    socklen_t local_len, remote_len;
    tw_sockopts_t sockopts;
    uint32_t count;      /* packets to send; 0 = until duration or stopped */
    int64_t duration_ns; /* stop sending after this long; 0 = no limit */
    int64_t interval_ns; /* gap between packets (the mean gap for Poisson) */
    enum tw_schedule schedule;
    uint64_t seed; /* Poisson and IMIX random numbers; 0 = from the clock */
    int padding;   /* octets after the 14-octet header, or TW_PADDING_IMIX */
    bool stamp;    /* RFC 8762 STAMP packets instead of TWAMP light */
    uint16_t ssid; /* STAMP Session Identifier */
    bool ptp;      /* send PTPv2 timestamps (Z = 1) instead of NTP */
    /* Authenticated STAMP (needs stamp): the HMAC key, read by tw_sender_open
     * only (the caller wipes it); NULL for unauthenticated STAMP. The packet is
     * the 112-octet base, and the octets padding adds past 44 in the
     * unauthenticated format (the Extra Padding TLV) follow it. */
    const uint8_t *stamp_key;
    size_t stamp_key_len;
    enum tw_tsmode tsmode;
    /* STAMP TLVs to send after the base packet (RFC 8972; stamp_tlv.h), all
     * zero for none. Their answers land in the result's tlv. */
    tw_tlv_req_t tlv;
    /* IPv6 flow label of the test packets (flowlabel.h): TW_FL_NONE (the
     * kernel's choice), TW_FL_FIXED (flowlabel), TW_FL_RANDOM or
     * TW_FL_PER_PACKET. Any other than none needs an IPv6 remote; the
     * replies' labels are compared with the labels sent. */
    int flowlabel_mode;
    uint32_t flowlabel;
    int64_t timeout_ns; /* wait this long after the last send; later replies are late */
    void (*on_done)(void *arg);
    void *on_done_arg;
    /* Optional: every packet's final record, in sequence order (--csv). */
    void (*on_packet)(void *arg, const tw_packet_record_t *rec);
    /* Optional: every report_interval_ns while sending (--report-interval). */
    void (*on_interval)(void *arg, const tw_interval_t *iv);
    int64_t report_interval_ns;
    /* Optional: every reply as it is measured (a monitor's histograms): the
     * sample and the delays the statistics took, ns (ob and ib TW_DELAY_NA
     * when the one-way delays cannot be known). */
    void (*on_measure)(void *arg, const tw_sample_t *smp, int64_t rt, int64_t ob, int64_t ib);
    void *hook_arg;
    /* A receive batch (tw_batch_new, buffers of TW_RX_BUFSIZE) shared by the
     * senders of one loop, not owned: a reply batch is consumed before the
     * callback returns, so one serves them all (fan-out: thousands of senders
     * without a 200 KiB batch each). NULL: the sender's own. */
    tw_batch_t *batch;
    /* Tests: packets go to xmit(hook_arg, buf, len) instead of the socket
     * (returns len, or -1 with errno). NULL: the socket. */
    ssize_t (*xmit)(void *arg, const uint8_t *buf, size_t len);
} tw_sender_cfg_t;

/* Replies that could not be used, by reason. The codes (tw_reply_reason_code)
 * are stable: JSON, the report and a conformance check key on them. */
enum tw_reply_reason {
    TW_RR_TOO_SHORT,    /* "too_short": < 36 octets and no echo of a request */
    TW_RR_UNKNOWN_SEQ,  /* "unknown_sequence": echoes no packet outstanding */
    TW_RR_NOT_OURS,     /* "timestamp_not_ours": our sequence number with a Sender
                           Timestamp from before this run (an earlier run's reply) */
    TW_RR_WRONG_SOURCE, /* "wrong_source": not from the reflector's address and port */
    TW_RR_INTEGRITY,    /* "integrity": failed the HMAC check (protected formats) */
    TW_RR_COUNT
};

/* Replies measured, but not as RFC 5357 §4.2.1 / RFC 8762 §4.3 lay them out:
 * what the sender made of them (stable codes: tw_reply_note_code). */
enum tw_reply_note {
    TW_RN_NO_TTL,        /* "no_sender_ttl": 36..40 octets, or a Sender TTL of 0: TTL unknown */
    TW_RN_SWAPPED,       /* "swapped_timestamps": our t1 at offset 4, the reflector's t3 at 28 */
    TW_RN_ECHO,          /* "request_echoed": our sequence number and t1 at offsets 0 and 4,
                            no room or no fields for the reflector's: round trip only */
    TW_RN_TS_NOT_ECHOED, /* "sender_timestamp_not_echoed": our sequence number, another
                            Sender Timestamp: matched by sequence number alone */
    TW_RN_IMPLAUSIBLE,   /* "implausible_timestamps": t2/t3 missing, t3 < t2 or t3 - t2
                            longer than the round trip: round trip only */
    TW_RN_COUNT
};

/* ICMP errors the kernel queued on the sender's socket (IP_RECVERR), by kind
 * (stable codes: tw_icmp_kind_code). */
enum tw_icmp_kind {
    TW_ICMP_PORT_UNREACH,  /* "port_unreachable" */
    TW_ICMP_HOST_UNREACH,  /* "host_unreachable": host, net, prohibited, no route */
    TW_ICMP_FRAG_NEEDED,   /* "fragmentation_needed": IPv4 frag needed, IPv6 packet too big */
    TW_ICMP_TTL_EXCEEDED,  /* "ttl_exceeded": time exceeded in transit */
    TW_ICMP_LOCAL_MSGSIZE, /* "local_emsgsize": the kernel refused to send it (DF, path MTU) */
    TW_ICMP_OTHER,         /* "other" */
    TW_ICMP_COUNT
};

typedef struct tw_reply_issues {
    uint64_t unusable[TW_RR_COUNT];
    uint32_t short_min, short_max; /* lengths of the too-short replies seen */
    uint64_t noted[TW_RN_COUNT];
    uint64_t oneway_na; /* replies measured for the round trip only */
    uint64_t icmp[TW_ICMP_COUNT];
    uint32_t icmp_mtu;                            /* the MTU an ICMP / local error gave, 0 none */
    char icmp_from[TW_ICMP_COUNT][TW_ADDRSTRLEN]; /* the first sender of each kind */
} tw_reply_issues_t;

const char *tw_reply_reason_code(int r);
const char *tw_reply_note_code(int n);
const char *tw_icmp_kind_code(int k);

typedef struct tw_sender_result {
    tw_stats_t stats;     /* twampy's table */
    tw_metrics_t metrics; /* the extended statistics */
    uint64_t late;        /* replies later than the timeout: counted, not measured */
    uint64_t sent;
    uint64_t duplicates;    /* a second reply to the same packet */
    uint64_t unmatched;     /* replies to nothing we sent (or to a packet long gone) */
    uint64_t short_replies; /* shorter than the 41-octet reflector format */
    /* Protected formats: replies shorter than the authenticated format or
     * failing the HMAC check (altered in flight, or another key): counted,
     * not measured. */
    uint64_t integrity_failures;
    /* RFC 6038 reflect octets (tw_sender_set_reflect): measured replies that
     * carried the octets back, and those that did not. */
    uint64_t reflect_ok, reflect_bad;
    /* ECN of the measured replies as they arrived (the TOS / Traffic Class
     * octet's two low bits: [0] Not-ECT, [1] ECT(1), [2] ECT(0), [3] CE);
     * replies whose TOS the kernel did not give are not counted. */
    uint64_t ecn_in[4];
    /* RFC 7750 (tw_sender_set_dscp_ecn): the DSCP and ECN the requests had
     * at the reflector: replies that carried it, their ECN, how many had
     * another DSCP than the one sent, and the last DSCP seen. */
    uint64_t fwd_seen, fwd_ecn[4], fwd_dscp_other;
    int fwd_dscp_last;        /* -1: none yet */
    tw_reply_issues_t issues; /* unusable replies by reason, layouts noted, ICMP errors */
    tw_conformance_t conform; /* what the replies say about the reflector (conformance.h) */
    /* The security mode of the run: TW_MODE_UNAUTHENTICATED (open),
     * TW_MODE_AUTHENTICATED, TW_MODE_ENCRYPTED or TW_MODE_MIXED (control_wire.h;
     * tw_mode_name() gives "open", "authenticated", ...). */
    uint32_t security_mode;
    uint64_t send_errors;
    /* Dropped by this host, not by the network: datagrams the socket's
     * receive buffer had no room for (SO_RXQ_OVFL, SO_MEMINFO; replies, so
     * counted in the inbound loss too), and test packets that never left
     * (a send refused for want of buffer space: ENOBUFS, EAGAIN, ENOMEM; in
     * send_errors and the outbound loss too). rx_buffer: the receive buffer
     * granted (octets, 0 unknown). */
    uint64_t local_rx_drops;
    uint64_t local_tx_drops;
    long rx_buffer;
    uint64_t tx_kernel; /* packets whose t1 is a kernel transmit timestamp (software or NIC) */
    uint64_t rx_kernel; /* replies whose t4 is a kernel receive timestamp (software or NIC) */
    /* --timestamping hw: t1 and t4 of a reply always come from one source.
     * hw_pairs: replies measured with the NIC's stamps for both (converted to
     * system time); hw_fallback: replies measured with software stamps for
     * both, as a NIC stamp was missing or could not be converted. */
    uint64_t hw_pairs;
    uint64_t hw_fallback;
    bool interrupted;   /* stopped before the end (tw_sender_stop) */
    uint64_t seed;      /* the random seed used (to repeat a Poisson run) */
    bool hw_timestamps; /* --timestamping hw took effect (NIC stamps on, its clock readable) */
    int64_t last_rtt;   /* the latest round trip, ns (progress display) */
    /* The reflector's address is this host's (tw_addr_is_local): it reads the
     * sender's own clock, so one-way delays are exact whatever the S bits say. */
    bool shared_clock;
    double elapsed_s;    /* from the first packet to the end */
    tw_tlv_result_t tlv; /* the STAMP TLVs' answers (cfg.tlv; want 0: none asked) */
    /* --flow-label: the mode (TW_FL_*, TW_FL_NONE: none), the label sent
     * (fixed, random) and how many distinct labels were sent (1, or for
     * per-packet one a packet up to 0xFFFFF; a total adds the sessions'
     * up). How the replies' labels compared: metrics.fl_reflected,
     * fl_changed. */
    int flowlabel_mode;
    uint32_t flowlabel;
    uint64_t flowlabels;
    int fatal_errno; /* a send error that ended the run (e.g. EMSGSIZE), or 0 */
    char fatal[256];
} tw_sender_result_t;

/* Replies that came back, usable or not (measured, late, duplicate, unusable). */
uint64_t tw_replies_seen(const tw_sender_result_t *r);

typedef struct tw_sender tw_sender_t;

/* The packet length for a given padding: 14 + padding for TWAMP light; for
 * STAMP 44 when 14 + padding <= 44, else 14 + padding (the octets past 44 carry
 * an Extra Padding TLV, so 45..47 cannot be built: returns 0 then). */
size_t tw_sender_packet_len(bool stamp, int padding);

int tw_sender_open(tw_sender_t **out, const tw_sender_cfg_t *cfg, tw_loop_t *loop, char *err,
                   size_t errlen);
/* The local address the sender is bound to (with the kernel's port for 0). */
int tw_sender_local(const tw_sender_t *s, struct sockaddr_storage *ss, socklen_t *len);
/* Change where the packets go (before tw_sender_start), e.g. to the port a
 * TWAMP server returned in Accept-Session. */
void tw_sender_set_remote(tw_sender_t *s, const struct sockaddr *sa, socklen_t len);
/* A TWAMP session's security mode (before tw_sender_start), as the TWAMP-Control
 * client agreed it: TW_MODE_UNAUTHENTICATED or TW_MODE_MIXED (unauthenticated
 * test packets; t may be NULL), or TW_MODE_AUTHENTICATED / TW_MODE_ENCRYPTED
 * with the session's test keys in *t (tw_ctrl_client_test_crypto), which the
 * sender takes over (*t is zero after): it then sends the 48-octet format plus
 * the padding. Returns 0, or -1 with a reason in err. */
int tw_sender_set_security(tw_sender_t *s, uint32_t mode, tw_test_crypto_t *t, char *err,
                           size_t errlen);
/* RFC 6038 reflect octets (before tw_sender_start): every packet carries the
 * len octets at offset at (its Packet Padding (to be reflected):
 * tw_reflect_offsets gives at and back for the session's Modes), and every
 * reply is checked for them at offset back; result.reflect_ok and
 * reflect_bad count the replies that had them and those that did not.
 * Packets shorter than at + len carry what fits. Returns 0, or -1 with a
 * reason in err. */
int tw_sender_set_reflect(tw_sender_t *s, const uint8_t *octets, size_t len, size_t at, size_t back,
                          char *err, size_t errlen);
/* RFC 7750 DSCP and ECN monitoring (before tw_sender_start): every reply
 * carries its request's DSCP and ECN as the reflector received them at
 * offset at (TW_S_DSCP_ECN_OFF, or TW_S_DSCP_ECN_AUTH_OFF in the protected
 * modes); result.fwd_* count them. */
void tw_sender_set_dscp_ecn(tw_sender_t *s, size_t at);
/* The first n send times (ns after the first packet) the schedule of cfg gives
 * with this seed: what a run with --seed repeats. */
void tw_sender_schedule_head(const tw_sender_cfg_t *cfg, uint64_t seed, int64_t *out, int n);
/* Start sending now. */
void tw_sender_start(tw_sender_t *s);
/* Stop sending (Ctrl-C): the run ends now with what was sent and received. */
void tw_sender_stop(tw_sender_t *s);
bool tw_sender_done(const tw_sender_t *s);
const tw_sender_result_t *tw_sender_result(const tw_sender_t *s);
void tw_sender_close(tw_sender_t *s);

/* ---- No-I/O hooks, for tests and fuzzing ------------------------------------ */

/* A datagram, as if read from the sender's socket. */
void tw_sender_input(tw_sender_t *s, tw_pkt_t *p);
/* An ICMP or local error, as if read from the socket's error queue. */
void tw_sender_input_icmp(tw_sender_t *s, const tw_icmperr_t *e);
/* A transmit timestamp, as if read from the socket's error queue. */
void tw_sender_input_txstamp(tw_sender_t *s, const tw_txstamp_t *ts);
/* Before tw_sender_start: number the packets from seq instead of 0 (the
 * 2^32 wrap without sending 2^32 packets). */
void tw_sender_set_first_seq(tw_sender_t *s, uint32_t seq);
/* Before tw_sender_start: hardware timestamps, as with --timestamping hw on a
 * NIC whose clock source(arg) reads against the system clock. Returns 0, or
 * -1 when it gives no sample (the sender then stays on software timestamps). */
int tw_sender_use_phc(tw_sender_t *s, tw_phc_source_fn source, void *arg);

#endif
