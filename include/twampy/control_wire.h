/* control_wire: pure codecs for TWAMP-Control messages (RFC 4656 §3,
 * RFC 5357 §3, RFC 6038 §3, RFC 5938 §3). No sockets, no clocks, no allocation,
 * no logging. Every decoder checks its length first and returns 0 or a negative
 * TW_WIRE_E* code (wire.h); encoders write exactly the message length and zero
 * every MBZ and HMAC octet they do not own. Lengths are the unauthenticated
 * (open-mode) sizes; the HMAC fields are carried as 16 octets (all zero in open
 * mode) so that authenticated modes reuse the same layouts. */
#ifndef TWAMPY_CONTROL_WIRE_H
#define TWAMPY_CONTROL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define TW_CTRL_GREETING_LEN 64
#define TW_CTRL_SETUP_RESPONSE_LEN 164
#define TW_CTRL_SERVER_START_LEN 48
#define TW_CTRL_REQUEST_SESSION_LEN 112
#define TW_CTRL_ACCEPT_SESSION_LEN 48
#define TW_CTRL_START_SESSIONS_LEN 32
#define TW_CTRL_START_ACK_LEN 32
#define TW_CTRL_STOP_SESSIONS_LEN 32
#define TW_CTRL_HMAC_LEN 16

/* Modes (RFC 4656 §3.1, RFC 5618, RFC 5938, RFC 6038). */
#define TW_MODE_UNAUTHENTICATED 1u
#define TW_MODE_AUTHENTICATED 2u
#define TW_MODE_ENCRYPTED 4u
#define TW_MODE_MIXED 8u           /* unauthenticated test, encrypted control (RFC 5618) */
#define TW_MODE_INDIVIDUAL 16u     /* individual session control (RFC 5938) */
#define TW_MODE_REFLECT_OCTETS 32u /* RFC 6038 */
#define TW_MODE_SYMMETRICAL 64u    /* RFC 6038 */
#define TW_MODE_DSCP_ECN 256u      /* DSCP and ECN monitoring (RFC 7750) */
#define TW_MODE_SECURITY_MASK                                                                      \
    (TW_MODE_UNAUTHENTICATED | TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED | TW_MODE_MIXED)

/* Commands (first octet of a client command message). */
#define TW_CMD_START_SESSIONS 2
#define TW_CMD_STOP_SESSIONS 3
#define TW_CMD_REQUEST_TW_SESSION 5
/* RFC 5938 individual session control (mode 16). */
#define TW_CMD_START_N_SESSIONS 7
#define TW_CMD_START_N_ACK 8
#define TW_CMD_STOP_N_SESSIONS 9
#define TW_CMD_STOP_N_ACK 10
/* The most SIDs twampy reads or writes in one of them (the RFC sets no
 * bound; a peer that sends more is refused). */
#define TW_CTRL_N_MAX 64
/* The length of one of them with n SIDs: a 16-octet block, n SIDs, HMAC. */
#define TW_CTRL_N_LEN(n) (32 + 16 * (size_t)(n))

/* Accept values (RFC 4656 §3.3). */
#define TW_ACCEPT_OK 0
#define TW_ACCEPT_FAILURE 1
#define TW_ACCEPT_INTERNAL 2
#define TW_ACCEPT_NOT_SUPPORTED 3
#define TW_ACCEPT_PERMANENT 4
#define TW_ACCEPT_TEMPORARY 5

typedef struct tw_greeting {
    uint32_t modes;
    uint8_t challenge[16];
    uint8_t salt[16];
    uint32_t count;
} tw_greeting_t;

typedef struct tw_setup_response {
    uint32_t mode;
    uint8_t key_id[80];
    uint8_t token[64];
    uint8_t client_iv[16];
} tw_setup_response_t;

typedef struct tw_server_start {
    uint8_t accept;
    uint8_t server_iv[16];
    uint64_t start_time; /* NTP */
} tw_server_start_t;

typedef struct tw_request_session {
    uint8_t ipvn; /* 4 or 6 */
    uint8_t conf_sender, conf_receiver;
    uint32_t schedule_slots, packets;
    uint16_t sender_port, receiver_port;
    uint8_t sender_addr[16];   /* IPv4 in the first 4 octets */
    uint8_t receiver_addr[16]; /* IPv4 in the first 4 octets */
    uint8_t sid[16];
    uint32_t padding_length;
    uint64_t start_time;         /* NTP */
    uint64_t timeout;            /* NTP format: seconds and fraction */
    uint32_t type_p;             /* the whole 32-bit Type-P Descriptor */
    uint16_t octets_to_reflect;  /* RFC 6038 */
    uint16_t padding_to_reflect; /* RFC 6038 */
    uint8_t hmac[16];
} tw_request_session_t;

typedef struct tw_accept_session {
    uint8_t accept;
    uint16_t port;
    uint8_t sid[16];
    uint16_t reflected_octets; /* RFC 6038 */
    uint16_t server_octets;    /* RFC 6038 */
    uint8_t hmac[16];
} tw_accept_session_t;

typedef struct tw_stop_sessions {
    uint8_t accept;
    uint32_t num_sessions;
    uint8_t hmac[16];
} tw_stop_sessions_t;

int tw_greeting_encode(const tw_greeting_t *m, uint8_t *buf, size_t len);
int tw_greeting_decode(const uint8_t *buf, size_t len, tw_greeting_t *m);
int tw_setup_response_encode(const tw_setup_response_t *m, uint8_t *buf, size_t len);
int tw_setup_response_decode(const uint8_t *buf, size_t len, tw_setup_response_t *m);
int tw_server_start_encode(const tw_server_start_t *m, uint8_t *buf, size_t len);
int tw_server_start_decode(const uint8_t *buf, size_t len, tw_server_start_t *m);
/* Request-TW-Session: the decoder returns TW_WIRE_EINVAL when octet 0 is not 5
 * or the IPVN is neither 4 nor 6. */
int tw_request_session_encode(const tw_request_session_t *m, uint8_t *buf, size_t len);
int tw_request_session_decode(const uint8_t *buf, size_t len, tw_request_session_t *m);
int tw_accept_session_encode(const tw_accept_session_t *m, uint8_t *buf, size_t len);
int tw_accept_session_decode(const uint8_t *buf, size_t len, tw_accept_session_t *m);
/* Start-Sessions (command 2) and Start-Ack (accept value); hmac may be NULL. */
int tw_start_sessions_encode(const uint8_t *hmac, uint8_t *buf, size_t len);
int tw_start_sessions_decode(const uint8_t *buf, size_t len, uint8_t *hmac);
int tw_start_ack_encode(uint8_t accept, const uint8_t *hmac, uint8_t *buf, size_t len);
int tw_start_ack_decode(const uint8_t *buf, size_t len, uint8_t *accept, uint8_t *hmac);
int tw_stop_sessions_encode(const tw_stop_sessions_t *m, uint8_t *buf, size_t len);
int tw_stop_sessions_decode(const uint8_t *buf, size_t len, tw_stop_sessions_t *m);

/* RFC 5938 section 3.2-3.5: Start-N-Sessions (7) and Stop-N-Sessions (9):
 * Command (0,1), MBZ (1,11), Number of Sessions (12,4), SIDs (16 each), HMAC
 * (16); Start-N-Ack (8) and Stop-N-Ack (10): Command (0,1), Accept (1,1), MBZ
 * (2,2), MBZ (4,8), Number of Sessions (12,4), SIDs, HMAC. */
typedef struct tw_n_sessions {
    uint8_t cmd;           /* TW_CMD_START_N_SESSIONS .. TW_CMD_STOP_N_ACK */
    uint8_t accept;        /* the acks only; MBZ in the commands */
    uint32_t num_sessions; /* 1..TW_CTRL_N_MAX */
    uint8_t sids[TW_CTRL_N_MAX][16];
    uint8_t hmac[16];
} tw_n_sessions_t;

/* Writes TW_CTRL_N_LEN(m->num_sessions) octets: TW_WIRE_EINVAL for another
 * command, no SID or more than TW_CTRL_N_MAX, TW_WIRE_ENOSPC when len is
 * shorter. */
int tw_n_sessions_encode(const tw_n_sessions_t *m, uint8_t *buf, size_t len);
/* The whole length of the message whose first 16 octets are block (len >=
 * 16), or TW_WIRE_ESHORT (len < 16) or TW_WIRE_EINVAL: not one of the four
 * commands, a Number of Sessions of 0 or above max (max <= TW_CTRL_N_MAX). */
long tw_n_sessions_len(const uint8_t *block, size_t len, uint32_t max);
/* Reads a whole message: the same checks (max TW_CTRL_N_MAX), TW_WIRE_ESHORT
 * when len is shorter than its length. MBZ octets are ignored. */
int tw_n_sessions_decode(const uint8_t *buf, size_t len, tw_n_sessions_t *m);

/* RFC 7750 section 2.2.1: the Sender DSCP and ECN octet of a reply in mode
 * 256: after the Sender TTL, 41 (unauthenticated; MBZ 42..43, Packet Padding
 * from 44) or 81 (authenticated and encrypted, within the MBZ octets). */
#define TW_S_DSCP_ECN_OFF 41
#define TW_S_DSCP_ECN_AUTH_OFF 81
#define TW_REFLECTOR_DSCP_ECN_LEN 44 /* the unauthenticated reply's header in mode 256 */

/* RFC 6038 §5: where the Packet Padding (to be reflected) lies in a
 * Session-Sender packet (*from) and where the Session-Reflector returns it
 * (*to, its Packet Padding), for the Modes of a control connection:
 *   unauthenticated test (modes 1, 8): from 14 (§5.1.2), or 41 after the 27
 *     MBZ octets of the symmetrical-size format (§5.1.5); to 41 (§5.2.1);
 *     with RFC 7750 (mode 256) to 44, after the Sender DSCP and ECN and its
 *     MBZ, and in symmetrical size from 42, after 28 MBZ octets (RFC 7750
 *     section 2.2.2, Figure 4);
 *   authenticated or encrypted test (modes 2, 4): from 48, or 104 after the 56
 *     MBZ octets of §5.1.5; to 112 (RFC 5357 §4.2.1 with erratum 5045: the
 *     112-octet reflector header). */
void tw_reflect_offsets(uint32_t modes, size_t *from, size_t *to);

/* The length of the client command whose first octet is cmd (open mode), or 0
 * for a command twampy does not know; for Start-N-Sessions and
 * Stop-N-Sessions, whose length depends on their Number of Sessions
 * (tw_n_sessions_len), the 16 octets of their first block. */
size_t tw_ctrl_command_len(uint8_t cmd);

/* The DSCP of a Type-P Descriptor whose first two bits are 00 (RFC 4656 §3.5),
 * or -1 for any other form (for example 01: a PHB ID). */
int tw_type_p_dscp(uint32_t type_p);
static inline uint32_t tw_type_p_from_dscp(int dscp)
{
    return (uint32_t)(dscp & 0x3f) << 24;
}

/* Words for the user: "OK", "failure", "internal error", "not supported",
 * "permanent resource limitation", "temporary resource limitation", or
 * "unknown accept value". */
const char *tw_accept_str(uint8_t accept);
/* "unauthenticated|reflect-octets|symmetrical-size" style list of mode bits. */
const char *tw_modes_str(uint32_t modes, char *buf, size_t len);

/* twampy's names of the security modes, as --modes takes them and the report
 * shows them: "open" (1), "authenticated" (2), "encrypted" (4), "mixed" (8,
 * RFC 5618). tw_mode_name looks at the security bits of mode only (the lowest
 * one set) and returns "none" when there is none. tw_mode_parse returns the bit
 * of a name, or 0 for anything else. */
const char *tw_mode_name(uint32_t mode);
uint32_t tw_mode_parse(const char *name);

#endif
