/* fuzz_control_messages: every TWAMP-Control decoder of control_wire.h on
 * arbitrary octets. A decode that succeeds is re-encoded: the octets must be
 * the input's except the MBZ and unused ones, and decoding them again must give
 * the same fields. One octet short is always TW_WIRE_ESHORT, and an encoder
 * given one octet too few fails without writing. Also the helpers: command
 * lengths, the Type-P DSCP, the mode and accept words. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_wire.h"
#include "fuzz.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    return 0;
}

static uint8_t *xmalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    return p;
}

/* One message kind: decode into a struct, encode from it, compare two. */
typedef struct kind {
    const char *name;
    size_t len;
    int (*decode)(const uint8_t *buf, size_t len, void *m);
    int (*encode)(const void *m, uint8_t *buf, size_t len);
    bool (*equal)(const void *a, const void *b);
    /* Zero what the encoder does not carry over (MBZ, unused octets). */
    void (*expected)(uint8_t *buf);
    /* Whether the decoder accepts these octets (the length being enough). */
    bool (*acceptable)(const uint8_t *buf);
} kind_t;

static bool always(const uint8_t *buf)
{
    (void)buf;
    return true;
}

/* ---- Server Greeting ---- */
static int greeting_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_greeting_decode(b, n, m);
}
static int greeting_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_greeting_encode(m, b, n);
}
static bool greeting_eq(const void *pa, const void *pb)
{
    const tw_greeting_t *a = pa, *b = pb;
    return a->modes == b->modes && !memcmp(a->challenge, b->challenge, 16) &&
           !memcmp(a->salt, b->salt, 16) && a->count == b->count;
}
static void greeting_exp(uint8_t *b)
{
    memset(b, 0, 12);
    memset(b + 52, 0, 12);
}

/* ---- Set-Up-Response ---- */
static int setup_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_setup_response_decode(b, n, m);
}
static int setup_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_setup_response_encode(m, b, n);
}
static bool setup_eq(const void *pa, const void *pb)
{
    const tw_setup_response_t *a = pa, *b = pb;
    return a->mode == b->mode && !memcmp(a->key_id, b->key_id, 80) &&
           !memcmp(a->token, b->token, 64) && !memcmp(a->client_iv, b->client_iv, 16);
}
static void setup_exp(uint8_t *b)
{
    (void)b;
}

/* ---- Server-Start ---- */
static int sstart_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_server_start_decode(b, n, m);
}
static int sstart_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_server_start_encode(m, b, n);
}
static bool sstart_eq(const void *pa, const void *pb)
{
    const tw_server_start_t *a = pa, *b = pb;
    return a->accept == b->accept && !memcmp(a->server_iv, b->server_iv, 16) &&
           a->start_time == b->start_time;
}
static void sstart_exp(uint8_t *b)
{
    memset(b, 0, 15);
    memset(b + 40, 0, 8);
}

/* ---- Request-TW-Session ---- */
static int request_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_request_session_decode(b, n, m);
}
static int request_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_request_session_encode(m, b, n);
}
static bool request_eq(const void *pa, const void *pb)
{
    const tw_request_session_t *a = pa, *b = pb;
    return a->ipvn == b->ipvn && a->conf_sender == b->conf_sender &&
           a->conf_receiver == b->conf_receiver && a->schedule_slots == b->schedule_slots &&
           a->packets == b->packets && a->sender_port == b->sender_port &&
           a->receiver_port == b->receiver_port && !memcmp(a->sender_addr, b->sender_addr, 16) &&
           !memcmp(a->receiver_addr, b->receiver_addr, 16) && !memcmp(a->sid, b->sid, 16) &&
           a->padding_length == b->padding_length && a->start_time == b->start_time &&
           a->timeout == b->timeout && a->type_p == b->type_p &&
           a->octets_to_reflect == b->octets_to_reflect &&
           a->padding_to_reflect == b->padding_to_reflect && !memcmp(a->hmac, b->hmac, 16);
}
static void request_exp(uint8_t *b)
{
    b[1] &= 0x0f; /* the IPVN octet's high bits are MBZ */
    if (b[1] == 4) {
        memset(b + 20, 0, 12); /* IPv4: 12 unused octets per address */
        memset(b + 36, 0, 12);
    }
    memset(b + 92, 0, 4);
}
static bool request_ok(const uint8_t *b)
{
    return b[0] == TW_CMD_REQUEST_TW_SESSION && ((b[1] & 0x0f) == 4 || (b[1] & 0x0f) == 6);
}

/* ---- Accept-Session ---- */
static int accept_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_accept_session_decode(b, n, m);
}
static int accept_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_accept_session_encode(m, b, n);
}
static bool accept_eq(const void *pa, const void *pb)
{
    const tw_accept_session_t *a = pa, *b = pb;
    return a->accept == b->accept && a->port == b->port && !memcmp(a->sid, b->sid, 16) &&
           a->reflected_octets == b->reflected_octets && a->server_octets == b->server_octets &&
           !memcmp(a->hmac, b->hmac, 16);
}
static void accept_exp(uint8_t *b)
{
    b[1] = 0;
    memset(b + 24, 0, 8);
}

/* ---- Start-Sessions (the struct is its HMAC) ---- */
static int start_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_start_sessions_decode(b, n, m);
}
static int start_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_start_sessions_encode(m, b, n);
}
static bool hmac_eq(const void *a, const void *b)
{
    return !memcmp(a, b, TW_CTRL_HMAC_LEN);
}
static void start_exp(uint8_t *b)
{
    memset(b + 1, 0, 15);
}
static bool start_ok(const uint8_t *b)
{
    return b[0] == TW_CMD_START_SESSIONS;
}

/* ---- Start-Ack: accept value and HMAC ---- */
typedef struct start_ack {
    uint8_t accept;
    uint8_t hmac[TW_CTRL_HMAC_LEN];
} start_ack_t;
static int ack_dec(const uint8_t *b, size_t n, void *m)
{
    start_ack_t *a = m;
    return tw_start_ack_decode(b, n, &a->accept, a->hmac);
}
static int ack_enc(const void *m, uint8_t *b, size_t n)
{
    const start_ack_t *a = m;
    return tw_start_ack_encode(a->accept, a->hmac, b, n);
}
static bool ack_eq(const void *pa, const void *pb)
{
    const start_ack_t *a = pa, *b = pb;
    return a->accept == b->accept && !memcmp(a->hmac, b->hmac, TW_CTRL_HMAC_LEN);
}

/* ---- Stop-Sessions ---- */
static int stop_dec(const uint8_t *b, size_t n, void *m)
{
    return tw_stop_sessions_decode(b, n, m);
}
static int stop_enc(const void *m, uint8_t *b, size_t n)
{
    return tw_stop_sessions_encode(m, b, n);
}
static bool stop_eq(const void *pa, const void *pb)
{
    const tw_stop_sessions_t *a = pa, *b = pb;
    return a->accept == b->accept && a->num_sessions == b->num_sessions &&
           !memcmp(a->hmac, b->hmac, 16);
}
static void stop_exp(uint8_t *b)
{
    memset(b + 2, 0, 2);
    memset(b + 8, 0, 8);
}
static bool stop_ok(const uint8_t *b)
{
    return b[0] == TW_CMD_STOP_SESSIONS;
}

static const kind_t kinds[] = {
    {"greeting", TW_CTRL_GREETING_LEN, greeting_dec, greeting_enc, greeting_eq, greeting_exp,
     always},
    {"set-up-response", TW_CTRL_SETUP_RESPONSE_LEN, setup_dec, setup_enc, setup_eq, setup_exp,
     always},
    {"server-start", TW_CTRL_SERVER_START_LEN, sstart_dec, sstart_enc, sstart_eq, sstart_exp,
     always},
    {"request-tw-session", TW_CTRL_REQUEST_SESSION_LEN, request_dec, request_enc, request_eq,
     request_exp, request_ok},
    {"accept-session", TW_CTRL_ACCEPT_SESSION_LEN, accept_dec, accept_enc, accept_eq, accept_exp,
     always},
    {"start-sessions", TW_CTRL_START_SESSIONS_LEN, start_dec, start_enc, hmac_eq, start_exp,
     start_ok},
    {"start-ack", TW_CTRL_START_ACK_LEN, ack_dec, ack_enc, ack_eq, start_exp, always},
    {"stop-sessions", TW_CTRL_STOP_SESSIONS_LEN, stop_dec, stop_enc, stop_eq, stop_exp, stop_ok},
};

/* Large enough for any of the structs above. */
typedef union any_msg {
    tw_greeting_t g;
    tw_setup_response_t s;
    tw_server_start_t ss;
    tw_request_session_t r;
    tw_accept_session_t a;
    uint8_t hmac[TW_CTRL_HMAC_LEN];
    start_ack_t ack;
    tw_stop_sessions_t stop;
} any_msg_t;

static void check_kind(const kind_t *k, const uint8_t *data, size_t size)
{
    any_msg_t m, m2;
    memset(&m, 0, sizeof m);
    int r = k->decode(data, size, &m);
    if (size < k->len) {
        FUZZ_CHECK(r == TW_WIRE_ESHORT);
        return;
    }
    FUZZ_CHECK(k->decode(data, k->len - 1, &m2) == TW_WIRE_ESHORT);
    if (!k->acceptable(data)) {
        FUZZ_CHECK(r == TW_WIRE_EINVAL);
        return;
    }
    FUZZ_CHECK(r == TW_WIRE_OK);

    /* Re-encode into exactly the message length. */
    uint8_t *buf = xmalloc(k->len);
    FUZZ_CHECK(k->encode(&m, buf, k->len) == TW_WIRE_OK);
    uint8_t *want = xmalloc(k->len);
    memcpy(want, data, k->len);
    k->expected(want);
    FUZZ_CHECK(memcmp(buf, want, k->len) == 0);
    memset(&m2, 0, sizeof m2);
    FUZZ_CHECK(k->decode(buf, k->len, &m2) == TW_WIRE_OK);
    FUZZ_CHECK(k->equal(&m, &m2));
    free(want);
    free(buf);

    /* One octet too few: refused, nothing written. */
    uint8_t *small = xmalloc(k->len - 1);
    memset(small, 0x5a, k->len - 1);
    FUZZ_CHECK(k->encode(&m, small, k->len - 1) == TW_WIRE_ENOSPC);
    for (size_t i = 0; i < k->len - 1; i++)
        FUZZ_CHECK(small[i] == 0x5a);
    free(small);
}

static void check_helpers(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    size_t cl = tw_ctrl_command_len(data[0]);
    switch (data[0]) {
    case TW_CMD_START_SESSIONS:
        FUZZ_CHECK(cl == TW_CTRL_START_SESSIONS_LEN);
        break;
    case TW_CMD_STOP_SESSIONS:
        FUZZ_CHECK(cl == TW_CTRL_STOP_SESSIONS_LEN);
        break;
    case TW_CMD_REQUEST_TW_SESSION:
        FUZZ_CHECK(cl == TW_CTRL_REQUEST_SESSION_LEN);
        break;
    case TW_CMD_START_N_SESSIONS:
    case TW_CMD_STOP_N_SESSIONS:
        FUZZ_CHECK(cl == 16); /* the first block: tw_n_sessions_len says the rest */
        break;
    default:
        FUZZ_CHECK(cl == 0);
    }
    const char *as = tw_accept_str(data[0]);
    FUZZ_CHECK(as != NULL && as[0] != '\0');
    if (size < 4)
        return;

    uint32_t v = tw_get32(data);
    int dscp = tw_type_p_dscp(v);
    if ((v & 0xc0ffffffu) == 0) {
        FUZZ_CHECK(dscp >= 0 && dscp <= 63);
        FUZZ_CHECK(tw_type_p_from_dscp(dscp) == v);
    } else {
        FUZZ_CHECK(dscp == -1);
    }

    /* Modes: the whole list, then cut to a buffer of a size from the input
     * (exactly that size on the heap, so that any overrun is seen). */
    char full[512];
    const char *s = tw_modes_str(v, full, sizeof full);
    FUZZ_CHECK(s == full);
    size_t flen = strlen(full);
    FUZZ_CHECK(flen < sizeof full);
    if (v == 0) {
        FUZZ_CHECK(strcmp(full, "none") == 0);
    } else {
        size_t bars = 0;
        for (size_t i = 0; i < flen; i++)
            bars += full[i] == '|';
        FUZZ_CHECK(bars + 1 == (size_t)__builtin_popcount(v));
    }
    size_t blen = size >= 5 ? data[4] % (flen + 3) : flen + 1;
    char *small = (char *)xmalloc(blen);
    const char *t = tw_modes_str(v, blen ? small : NULL, blen);
    if (blen == 0) {
        FUZZ_CHECK(t != NULL && t[0] == '\0');
    } else {
        size_t tl = strlen(t);
        FUZZ_CHECK(t == small);
        FUZZ_CHECK(tl == (flen < blen - 1 ? flen : blen - 1));
        FUZZ_CHECK(memcmp(t, full, tl) == 0);
    }
    /* A zero-length buffer is never written. */
    FUZZ_CHECK(tw_modes_str(v, small, 0)[0] == '\0');
    free(small);
}

/* RFC 5938 Start-N-Sessions, Start-N-Ack, Stop-N-Sessions, Stop-N-Ack: the
 * length from the first block is what the decoder needs, within the bound
 * given; a decoded message re-encodes to the input with its MBZ octets zero
 * (and octet 1 of a command), and one octet less is TW_WIRE_ESHORT. */
static void check_n_sessions(const uint8_t *data, size_t size)
{
    uint32_t max = size > 1 ? data[size - 1] % (TW_CTRL_N_MAX + 8) : TW_CTRL_N_MAX;
    long n = tw_n_sessions_len(data, size, max);
    if (size < 16) {
        FUZZ_CHECK(n == TW_WIRE_ESHORT);
        return;
    }
    uint32_t num = tw_get32(data + 12);
    bool cmd_ok = data[0] >= TW_CMD_START_N_SESSIONS && data[0] <= TW_CMD_STOP_N_ACK;
    uint32_t cap = max < TW_CTRL_N_MAX ? max : TW_CTRL_N_MAX;
    if (!cmd_ok || num < 1 || num > cap) {
        FUZZ_CHECK(n == TW_WIRE_EINVAL);
    } else {
        FUZZ_CHECK(n == (long)TW_CTRL_N_LEN(num));
    }
    tw_n_sessions_t m;
    int rc = tw_n_sessions_decode(data, size, &m);
    if (!cmd_ok || num < 1 || num > TW_CTRL_N_MAX) {
        FUZZ_CHECK(rc == TW_WIRE_EINVAL);
        return;
    }
    size_t len = TW_CTRL_N_LEN(num);
    if (size < len) {
        FUZZ_CHECK(rc == TW_WIRE_ESHORT);
        return;
    }
    FUZZ_CHECK(rc == TW_WIRE_OK);
    FUZZ_CHECK(tw_n_sessions_decode(data, len - 1, &m) == TW_WIRE_ESHORT);
    FUZZ_CHECK(tw_n_sessions_decode(data, len, &m) == TW_WIRE_OK);
    uint8_t *out = xmalloc(len);
    FUZZ_CHECK(tw_n_sessions_encode(&m, out, len - 1) == TW_WIRE_ENOSPC);
    FUZZ_CHECK(tw_n_sessions_encode(&m, out, len) == TW_WIRE_OK);
    bool ack = data[0] == TW_CMD_START_N_ACK || data[0] == TW_CMD_STOP_N_ACK;
    FUZZ_CHECK(out[0] == data[0]);
    FUZZ_CHECK(out[1] == (ack ? data[1] : 0));
    for (size_t i = 2; i < 12; i++)
        FUZZ_CHECK(out[i] == 0);
    FUZZ_CHECK(memcmp(out + 12, data + 12, len - 12) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        check_kind(&kinds[i], data, size);
    check_helpers(data, size);
    check_n_sessions(data, size);
    return 0;
}
