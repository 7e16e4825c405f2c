/* control_wire: pure codecs for TWAMP-Control messages (RFC 4656 §3.1-§3.5,
 * RFC 5357 §3.1-§3.8, RFC 6038 §4, RFC 5938 §3). No I/O, no allocation. Open-mode layouts;
 * the HMAC fields are carried as 16 octets so that the authenticated modes can
 * reuse them. Every encoder checks its arguments and the buffer before it writes
 * a single octet, so a failed call leaves the buffer untouched. */
#include "control_wire.h"

#include <string.h>

/* Server Greeting (RFC 4656 §3.1). */
#define G_UNUSED 0 /* 12 octets */
#define G_MODES 12
#define G_CHALLENGE 16
#define G_SALT 32
#define G_COUNT 48
#define G_MBZ 52 /* 12 octets */

/* Set-Up-Response (RFC 4656 §3.1). */
#define SR_MODE 0
#define SR_KEYID 4
#define SR_TOKEN 84
#define SR_CLIENT_IV 148

/* Server-Start (RFC 4656 §3.1). */
#define SS_MBZ1 0 /* 15 octets */
#define SS_ACCEPT 15
#define SS_SERVER_IV 16
#define SS_START_TIME 32
#define SS_MBZ2 40 /* 8 octets */

/* Request-TW-Session (RFC 5357 §3.5, RFC 6038 §3). */
#define RQ_CMD 0
#define RQ_IPVN 1 /* high 4 bits MBZ */
#define RQ_CONF_SENDER 2
#define RQ_CONF_RECEIVER 3
#define RQ_SLOTS 4
#define RQ_PACKETS 8
#define RQ_SENDER_PORT 12
#define RQ_RECEIVER_PORT 14
#define RQ_SENDER_ADDR 16
#define RQ_RECEIVER_ADDR 32
#define RQ_SID 48
#define RQ_PADDING 64
#define RQ_START_TIME 68
#define RQ_TIMEOUT 76
#define RQ_TYPE_P 84
#define RQ_OCTETS_REFLECT 88
#define RQ_PADDING_REFLECT 90
#define RQ_MBZ 92 /* 4 octets */
#define RQ_HMAC 96

/* Accept-Session (RFC 5357 §3.5, RFC 6038 §3). */
#define AS_ACCEPT 0
#define AS_MBZ1 1
#define AS_PORT 2
#define AS_SID 4
#define AS_REFLECTED 20
#define AS_SERVER_OCTETS 22
#define AS_MBZ2 24 /* 8 octets */
#define AS_HMAC 32

/* Start-Sessions (RFC 5357 §3.7): Command 2, MBZ (15), HMAC. Start-Ack:
 * Accept, MBZ (15), HMAC. */
#define ST_FIRST 0
#define ST_HMAC 16

/* Stop-Sessions (RFC 5357 §3.8, layout from RFC 4656 §3.8). */
#define SP_CMD 0
#define SP_ACCEPT 1
#define SP_MBZ1 2 /* 2 octets */
#define SP_NUM 4
#define SP_MBZ2 8 /* 8 octets */
#define SP_HMAC 16

#define ADDR_LEN 16
#define IPV4_LEN 4

int tw_greeting_encode(const tw_greeting_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_GREETING_LEN)
        return TW_WIRE_ENOSPC;

    memset(buf, 0, TW_CTRL_GREETING_LEN); /* Unused and MBZ */
    tw_put32(buf + G_MODES, m->modes);
    memcpy(buf + G_CHALLENGE, m->challenge, sizeof(m->challenge));
    memcpy(buf + G_SALT, m->salt, sizeof(m->salt));
    tw_put32(buf + G_COUNT, m->count);
    return TW_WIRE_OK;
}

int tw_greeting_decode(const uint8_t *buf, size_t len, tw_greeting_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_GREETING_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    memset(m, 0, sizeof(*m));
    m->modes = tw_get32(buf + G_MODES);
    memcpy(m->challenge, buf + G_CHALLENGE, sizeof(m->challenge));
    memcpy(m->salt, buf + G_SALT, sizeof(m->salt));
    m->count = tw_get32(buf + G_COUNT);
    return TW_WIRE_OK;
}

int tw_setup_response_encode(const tw_setup_response_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_SETUP_RESPONSE_LEN)
        return TW_WIRE_ENOSPC;

    tw_put32(buf + SR_MODE, m->mode);
    memcpy(buf + SR_KEYID, m->key_id, sizeof(m->key_id));
    memcpy(buf + SR_TOKEN, m->token, sizeof(m->token));
    memcpy(buf + SR_CLIENT_IV, m->client_iv, sizeof(m->client_iv));
    return TW_WIRE_OK;
}

int tw_setup_response_decode(const uint8_t *buf, size_t len, tw_setup_response_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_SETUP_RESPONSE_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    m->mode = tw_get32(buf + SR_MODE);
    memcpy(m->key_id, buf + SR_KEYID, sizeof(m->key_id));
    memcpy(m->token, buf + SR_TOKEN, sizeof(m->token));
    memcpy(m->client_iv, buf + SR_CLIENT_IV, sizeof(m->client_iv));
    return TW_WIRE_OK;
}

int tw_server_start_encode(const tw_server_start_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_SERVER_START_LEN)
        return TW_WIRE_ENOSPC;

    memset(buf + SS_MBZ1, 0, SS_ACCEPT - SS_MBZ1);
    buf[SS_ACCEPT] = m->accept;
    memcpy(buf + SS_SERVER_IV, m->server_iv, sizeof(m->server_iv));
    tw_put64(buf + SS_START_TIME, m->start_time);
    memset(buf + SS_MBZ2, 0, TW_CTRL_SERVER_START_LEN - SS_MBZ2);
    return TW_WIRE_OK;
}

int tw_server_start_decode(const uint8_t *buf, size_t len, tw_server_start_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_SERVER_START_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    memset(m, 0, sizeof(*m));
    m->accept = buf[SS_ACCEPT];
    memcpy(m->server_iv, buf + SS_SERVER_IV, sizeof(m->server_iv));
    m->start_time = tw_get64(buf + SS_START_TIME);
    return TW_WIRE_OK;
}

/* Octets of an address field that carry the address; the rest of the 16 are
 * MBZ (RFC 5357 §3.5: "Sender Address (cont.) or MBZ (12 octets)"). 0 for an
 * IPVN the format does not allow. */
static size_t addr_octets(uint8_t ipvn)
{
    if (ipvn == 4)
        return IPV4_LEN;
    if (ipvn == 6)
        return ADDR_LEN;
    return 0;
}

int tw_request_session_encode(const tw_request_session_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_REQUEST_SESSION_LEN)
        return TW_WIRE_ENOSPC;
    size_t alen = addr_octets(m->ipvn);
    if (alen == 0)
        return TW_WIRE_EINVAL; /* the IPVN nibble holds 4 or 6 only */

    memset(buf, 0, TW_CTRL_REQUEST_SESSION_LEN); /* MBZ, unused address octets */
    buf[RQ_CMD] = TW_CMD_REQUEST_TW_SESSION;
    buf[RQ_IPVN] = m->ipvn; /* high 4 bits MBZ */
    buf[RQ_CONF_SENDER] = m->conf_sender;
    buf[RQ_CONF_RECEIVER] = m->conf_receiver;
    tw_put32(buf + RQ_SLOTS, m->schedule_slots);
    tw_put32(buf + RQ_PACKETS, m->packets);
    tw_put16(buf + RQ_SENDER_PORT, m->sender_port);
    tw_put16(buf + RQ_RECEIVER_PORT, m->receiver_port);
    memcpy(buf + RQ_SENDER_ADDR, m->sender_addr, alen);
    memcpy(buf + RQ_RECEIVER_ADDR, m->receiver_addr, alen);
    memcpy(buf + RQ_SID, m->sid, sizeof(m->sid));
    tw_put32(buf + RQ_PADDING, m->padding_length);
    tw_put64(buf + RQ_START_TIME, m->start_time);
    tw_put64(buf + RQ_TIMEOUT, m->timeout);
    tw_put32(buf + RQ_TYPE_P, m->type_p);
    tw_put16(buf + RQ_OCTETS_REFLECT, m->octets_to_reflect);
    tw_put16(buf + RQ_PADDING_REFLECT, m->padding_to_reflect);
    memcpy(buf + RQ_HMAC, m->hmac, sizeof(m->hmac));
    return TW_WIRE_OK;
}

int tw_request_session_decode(const uint8_t *buf, size_t len, tw_request_session_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_REQUEST_SESSION_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    if (buf[RQ_CMD] != TW_CMD_REQUEST_TW_SESSION)
        return TW_WIRE_EINVAL;
    uint8_t ipvn = buf[RQ_IPVN] & 0x0f; /* high 4 bits MBZ: ignored */
    size_t alen = addr_octets(ipvn);
    if (alen == 0)
        return TW_WIRE_EINVAL;

    memset(m, 0, sizeof(*m));
    m->ipvn = ipvn;
    m->conf_sender = buf[RQ_CONF_SENDER];
    m->conf_receiver = buf[RQ_CONF_RECEIVER];
    m->schedule_slots = tw_get32(buf + RQ_SLOTS);
    m->packets = tw_get32(buf + RQ_PACKETS);
    m->sender_port = tw_get16(buf + RQ_SENDER_PORT);
    m->receiver_port = tw_get16(buf + RQ_RECEIVER_PORT);
    memcpy(m->sender_addr, buf + RQ_SENDER_ADDR, alen);
    memcpy(m->receiver_addr, buf + RQ_RECEIVER_ADDR, alen);
    memcpy(m->sid, buf + RQ_SID, sizeof(m->sid));
    m->padding_length = tw_get32(buf + RQ_PADDING);
    m->start_time = tw_get64(buf + RQ_START_TIME);
    m->timeout = tw_get64(buf + RQ_TIMEOUT);
    m->type_p = tw_get32(buf + RQ_TYPE_P);
    m->octets_to_reflect = tw_get16(buf + RQ_OCTETS_REFLECT);
    m->padding_to_reflect = tw_get16(buf + RQ_PADDING_REFLECT);
    memcpy(m->hmac, buf + RQ_HMAC, sizeof(m->hmac));
    return TW_WIRE_OK;
}

int tw_accept_session_encode(const tw_accept_session_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_ACCEPT_SESSION_LEN)
        return TW_WIRE_ENOSPC;

    buf[AS_ACCEPT] = m->accept;
    buf[AS_MBZ1] = 0;
    tw_put16(buf + AS_PORT, m->port);
    memcpy(buf + AS_SID, m->sid, sizeof(m->sid));
    tw_put16(buf + AS_REFLECTED, m->reflected_octets);
    tw_put16(buf + AS_SERVER_OCTETS, m->server_octets);
    memset(buf + AS_MBZ2, 0, AS_HMAC - AS_MBZ2);
    memcpy(buf + AS_HMAC, m->hmac, sizeof(m->hmac));
    return TW_WIRE_OK;
}

int tw_accept_session_decode(const uint8_t *buf, size_t len, tw_accept_session_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_ACCEPT_SESSION_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;

    memset(m, 0, sizeof(*m));
    m->accept = buf[AS_ACCEPT];
    m->port = tw_get16(buf + AS_PORT);
    memcpy(m->sid, buf + AS_SID, sizeof(m->sid));
    m->reflected_octets = tw_get16(buf + AS_REFLECTED);
    m->server_octets = tw_get16(buf + AS_SERVER_OCTETS);
    memcpy(m->hmac, buf + AS_HMAC, sizeof(m->hmac));
    return TW_WIRE_OK;
}

/* The 32-octet Start-Sessions / Start-Ack shape: first octet, MBZ (15), HMAC
 * (zeros when hmac is NULL). The caller has checked buf and len. */
static void start_encode(uint8_t first, const uint8_t *hmac, uint8_t *buf)
{
    memset(buf, 0, TW_CTRL_START_SESSIONS_LEN);
    buf[ST_FIRST] = first;
    if (hmac != NULL)
        memcpy(buf + ST_HMAC, hmac, TW_CTRL_HMAC_LEN);
}

int tw_start_sessions_encode(const uint8_t *hmac, uint8_t *buf, size_t len)
{
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_START_SESSIONS_LEN)
        return TW_WIRE_ENOSPC;
    start_encode(TW_CMD_START_SESSIONS, hmac, buf);
    return TW_WIRE_OK;
}

int tw_start_sessions_decode(const uint8_t *buf, size_t len, uint8_t *hmac)
{
    if (len < TW_CTRL_START_SESSIONS_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    if (buf[ST_FIRST] != TW_CMD_START_SESSIONS)
        return TW_WIRE_EINVAL;
    if (hmac != NULL)
        memcpy(hmac, buf + ST_HMAC, TW_CTRL_HMAC_LEN);
    return TW_WIRE_OK;
}

int tw_start_ack_encode(uint8_t accept, const uint8_t *hmac, uint8_t *buf, size_t len)
{
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_START_ACK_LEN)
        return TW_WIRE_ENOSPC;
    start_encode(accept, hmac, buf);
    return TW_WIRE_OK;
}

int tw_start_ack_decode(const uint8_t *buf, size_t len, uint8_t *accept, uint8_t *hmac)
{
    if (accept == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_START_ACK_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    *accept = buf[ST_FIRST];
    if (hmac != NULL)
        memcpy(hmac, buf + ST_HMAC, TW_CTRL_HMAC_LEN);
    return TW_WIRE_OK;
}

int tw_stop_sessions_encode(const tw_stop_sessions_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_STOP_SESSIONS_LEN)
        return TW_WIRE_ENOSPC;

    buf[SP_CMD] = TW_CMD_STOP_SESSIONS;
    buf[SP_ACCEPT] = m->accept;
    tw_put16(buf + SP_MBZ1, 0);
    tw_put32(buf + SP_NUM, m->num_sessions);
    memset(buf + SP_MBZ2, 0, SP_HMAC - SP_MBZ2);
    memcpy(buf + SP_HMAC, m->hmac, sizeof(m->hmac));
    return TW_WIRE_OK;
}

int tw_stop_sessions_decode(const uint8_t *buf, size_t len, tw_stop_sessions_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    if (len < TW_CTRL_STOP_SESSIONS_LEN)
        return TW_WIRE_ESHORT;
    if (buf == NULL)
        return TW_WIRE_EINVAL;
    if (buf[SP_CMD] != TW_CMD_STOP_SESSIONS)
        return TW_WIRE_EINVAL;

    memset(m, 0, sizeof(*m));
    m->accept = buf[SP_ACCEPT];
    m->num_sessions = tw_get32(buf + SP_NUM);
    memcpy(m->hmac, buf + SP_HMAC, sizeof(m->hmac));
    return TW_WIRE_OK;
}

void tw_reflect_offsets(uint32_t modes, size_t *from, size_t *to)
{
    bool protected_test = (modes & (TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED)) != 0;
    bool sym = (modes & TW_MODE_SYMMETRICAL) != 0;
    if (protected_test) {
        *from = sym ? 48 + 56 : 48;
        *to = 112;
    } else if (modes & TW_MODE_DSCP_ECN) {
        *from = sym ? 14 + 28 : 14;
        *to = TW_REFLECTOR_DSCP_ECN_LEN;
    } else {
        *from = sym ? 14 + 27 : 14;
        *to = 41;
    }
}

/* Start-N-Sessions, Start-N-Ack, Stop-N-Sessions, Stop-N-Ack (RFC 5938). */
#define N_CMD 0
#define N_ACCEPT 1 /* the acks; MBZ (11 octets from 1) in the commands */
#define N_NUM 12
#define N_SIDS 16

static bool is_n_cmd(uint8_t cmd)
{
    return cmd >= TW_CMD_START_N_SESSIONS && cmd <= TW_CMD_STOP_N_ACK;
}

static bool is_n_ack(uint8_t cmd)
{
    return cmd == TW_CMD_START_N_ACK || cmd == TW_CMD_STOP_N_ACK;
}

int tw_n_sessions_encode(const tw_n_sessions_t *m, uint8_t *buf, size_t len)
{
    if (m == NULL || buf == NULL || !is_n_cmd(m->cmd) || m->num_sessions < 1 ||
        m->num_sessions > TW_CTRL_N_MAX)
        return TW_WIRE_EINVAL;
    size_t n = TW_CTRL_N_LEN(m->num_sessions);
    if (len < n)
        return TW_WIRE_ENOSPC;
    memset(buf, 0, N_SIDS);
    buf[N_CMD] = m->cmd;
    if (is_n_ack(m->cmd))
        buf[N_ACCEPT] = m->accept;
    tw_put32(buf + N_NUM, m->num_sessions);
    memcpy(buf + N_SIDS, m->sids, 16 * (size_t)m->num_sessions);
    memcpy(buf + n - TW_CTRL_HMAC_LEN, m->hmac, TW_CTRL_HMAC_LEN);
    return TW_WIRE_OK;
}

long tw_n_sessions_len(const uint8_t *block, size_t len, uint32_t max)
{
    if (len < N_SIDS)
        return TW_WIRE_ESHORT;
    if (block == NULL || !is_n_cmd(block[N_CMD]))
        return TW_WIRE_EINVAL;
    uint32_t num = tw_get32(block + N_NUM);
    if (max > TW_CTRL_N_MAX)
        max = TW_CTRL_N_MAX;
    if (num < 1 || num > max)
        return TW_WIRE_EINVAL;
    return (long)TW_CTRL_N_LEN(num);
}

int tw_n_sessions_decode(const uint8_t *buf, size_t len, tw_n_sessions_t *m)
{
    if (m == NULL)
        return TW_WIRE_EINVAL;
    long n = tw_n_sessions_len(buf, len, TW_CTRL_N_MAX);
    if (n < 0)
        return (int)n;
    if (len < (size_t)n)
        return TW_WIRE_ESHORT;
    memset(m, 0, sizeof *m);
    m->cmd = buf[N_CMD];
    if (is_n_ack(m->cmd))
        m->accept = buf[N_ACCEPT];
    m->num_sessions = tw_get32(buf + N_NUM);
    memcpy(m->sids, buf + N_SIDS, 16 * (size_t)m->num_sessions);
    memcpy(m->hmac, buf + n - TW_CTRL_HMAC_LEN, TW_CTRL_HMAC_LEN);
    return TW_WIRE_OK;
}

size_t tw_ctrl_command_len(uint8_t cmd)
{
    switch (cmd) {
    case TW_CMD_START_N_SESSIONS:
    case TW_CMD_STOP_N_SESSIONS:
        return 16; /* the first block: tw_n_sessions_len gives the rest */
    case TW_CMD_START_SESSIONS:
        return TW_CTRL_START_SESSIONS_LEN;
    case TW_CMD_STOP_SESSIONS:
        return TW_CTRL_STOP_SESSIONS_LEN;
    case TW_CMD_REQUEST_TW_SESSION:
        return TW_CTRL_REQUEST_SESSION_LEN;
    default:
        /* 1 is forbidden, 4 (Fetch-Session) is OWAMP only, 6 is
         * experimentation, 8 and 10 (Start-N-Ack, Stop-N-Ack) come from a
         * server. */
        return 0;
    }
}

int tw_type_p_dscp(uint32_t type_p)
{
    /* RFC 4656 §3.5: 00 then a 6-bit DSCP. twampy counts the form only when the
     * 24 bits after the DSCP are zero; 01 (PHB ID) and the reserved 10/11 are
     * not a DSCP. */
    if ((type_p >> 30) != 0)
        return -1;
    if ((type_p & 0x00ffffffu) != 0)
        return -1;
    return (int)((type_p >> 24) & 0x3f);
}

const char *tw_accept_str(uint8_t accept)
{
    switch (accept) {
    case TW_ACCEPT_OK:
        return "OK";
    case TW_ACCEPT_FAILURE:
        return "failure";
    case TW_ACCEPT_INTERNAL:
        return "internal error";
    case TW_ACCEPT_NOT_SUPPORTED:
        return "not supported";
    case TW_ACCEPT_PERMANENT:
        return "permanent resource limitation";
    case TW_ACCEPT_TEMPORARY:
        return "temporary resource limitation";
    default:
        return "unknown accept value";
    }
}

/* Append s to buf[*pos..], keeping room for the terminating NUL; what does not
 * fit is dropped. len >= 1. */
static void append(char *buf, size_t len, size_t *pos, const char *s)
{
    while (*s != '\0' && *pos + 1 < len)
        buf[(*pos)++] = *s++;
    buf[*pos] = '\0';
}

static const char *const mode_names[] = {
    "unauthenticated",            /* 1 */
    "authenticated",              /* 2 */
    "encrypted",                  /* 4 */
    "mixed",                      /* 8, RFC 5618 */
    "individual-session-control", /* 16, RFC 5938 */
    "reflect-octets",             /* 32, RFC 6038 */
    "symmetrical-size",           /* 64, RFC 6038 */
    "ikev2-derived",              /* 128, RFC 7717 */
    "dscp-ecn-monitoring",        /* 256, RFC 7750 */
};

/* Writes into buf and returns it; the result is always NUL-terminated and cut
 * short when buf is too small. With no room at all (buf NULL or len 0) the
 * result is the empty string constant. */
const char *tw_modes_str(uint32_t modes, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return "";
    size_t pos = 0;
    buf[0] = '\0';
    if (modes == 0) {
        append(buf, len, &pos, "none");
        return buf;
    }
    bool first = true;
    for (unsigned bit = 0; bit < 32; bit++) {
        if ((modes & (1u << bit)) == 0)
            continue;
        if (!first)
            append(buf, len, &pos, "|");
        first = false;
        if (bit < sizeof(mode_names) / sizeof(mode_names[0])) {
            append(buf, len, &pos, mode_names[bit]);
        } else {
            char name[8] = {'b', 'i', 't'};
            size_t n = 3;
            if (bit >= 10)
                name[n++] = (char)('0' + bit / 10);
            name[n++] = (char)('0' + bit % 10);
            name[n] = '\0';
            append(buf, len, &pos, name);
        }
    }
    return buf;
}

const char *tw_mode_name(uint32_t mode)
{
    uint32_t sec = mode & TW_MODE_SECURITY_MASK;
    if (sec & TW_MODE_UNAUTHENTICATED)
        return "open";
    if (sec & TW_MODE_AUTHENTICATED)
        return "authenticated";
    if (sec & TW_MODE_ENCRYPTED)
        return "encrypted";
    if (sec & TW_MODE_MIXED)
        return "mixed";
    return "none";
}

uint32_t tw_mode_parse(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "open") == 0)
        return TW_MODE_UNAUTHENTICATED;
    if (strcmp(name, "authenticated") == 0)
        return TW_MODE_AUTHENTICATED;
    if (strcmp(name, "encrypted") == 0)
        return TW_MODE_ENCRYPTED;
    if (strcmp(name, "mixed") == 0)
        return TW_MODE_MIXED;
    return 0;
}
