/* Unit tests for control_wire: byte-exact vectors written out by hand from
 * RFC 4656 §3.1/§3.5 (Server Greeting, Set-Up-Response, Server-Start, Type-P),
 * RFC 5357 §3.5-§3.8 (Request-TW-Session, Accept-Session, Start-Sessions,
 * Start-Ack, Stop-Sessions) and RFC 6038 §3 (reflect octets fields). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "control_wire.h"

#define SENTINEL 0xEE
#define SLACK 8 /* octets past the message that an encoder must not touch */

/* buf holds want[0..n) followed by SLACK sentinel octets. */
static void assert_encoded(const uint8_t *buf, const uint8_t *want, size_t n)
{
    assert_memory_equal(buf, want, n);
    for (size_t i = n; i < n + SLACK; i++)
        assert_int_equal(buf[i], SENTINEL);
}

static void assert_all(const uint8_t *buf, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf[i], v);
}

/* ---- Server Greeting (64) ---- */

static const uint8_t GREETING[64] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0: Unused */
    0x00, 0x00, 0x00, 0x61,                                                 /* 12: Modes */
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,                         /* 16: Challenge */
    0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,                         /* */
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,                         /* 32: Salt */
    0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,                         /* */
    0x00, 0x00, 0x04, 0x00,                                                 /* 48: Count = 1024 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 52: MBZ */
};

static const tw_greeting_t GREETING_MSG = {
    .modes = TW_MODE_UNAUTHENTICATED | TW_MODE_REFLECT_OCTETS | TW_MODE_SYMMETRICAL,
    .challenge = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C,
                  0x1D, 0x1E, 0x1F},
    .salt = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD,
             0xAE, 0xAF},
    .count = 1024,
};

static void test_greeting_encode(void **state)
{
    (void)state;
    uint8_t buf[64 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_greeting_encode(&GREETING_MSG, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, GREETING, sizeof(GREETING));
}

static void test_greeting_decode(void **state)
{
    (void)state;
    tw_greeting_t m;
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_greeting_decode(GREETING, sizeof(GREETING), &m), TW_WIRE_OK);
    assert_int_equal(m.modes, 0x61);
    assert_memory_equal(m.challenge, GREETING_MSG.challenge, 16);
    assert_memory_equal(m.salt, GREETING_MSG.salt, 16);
    assert_int_equal(m.count, 1024);
}

/* ---- Set-Up-Response (164) ---- */

/* Mode 1 (unauthenticated), KeyID, Token and Client-IV all zero. */
static const uint8_t SETUP_RESPONSE[164] = {
    0x00, 0x00, 0x00, 0x01, /* 0: Mode */
    /* 4: KeyID (80), 84: Token (64), 148: Client-IV (16): all zero */
};

/* The same shape with a marker at the first and last octet of every field. */
static const uint8_t SETUP_RESPONSE_MARKED[164] = {
    [0] = 0x00,   [1] = 0x00,   [2] = 0x00, [3] = 0x04, /* Mode: encrypted */
    [4] = 0x4B,   [83] = 0x4C,                          /* KeyID */
    [84] = 0x54,  [147] = 0x55,                         /* Token */
    [148] = 0x49, [163] = 0x4A,                         /* Client-IV */
};

static void test_setup_response_encode(void **state)
{
    (void)state;
    uint8_t buf[164 + SLACK];
    tw_setup_response_t m;
    memset(&m, 0, sizeof(m));
    m.mode = TW_MODE_UNAUTHENTICATED;
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_setup_response_encode(&m, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, SETUP_RESPONSE, sizeof(SETUP_RESPONSE));

    m.mode = TW_MODE_ENCRYPTED;
    m.key_id[0] = 0x4B;
    m.key_id[79] = 0x4C;
    m.token[0] = 0x54;
    m.token[63] = 0x55;
    m.client_iv[0] = 0x49;
    m.client_iv[15] = 0x4A;
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_setup_response_encode(&m, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, SETUP_RESPONSE_MARKED, sizeof(SETUP_RESPONSE_MARKED));
}

static void test_setup_response_decode(void **state)
{
    (void)state;
    tw_setup_response_t m;
    uint8_t zeros[80] = {0};
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_setup_response_decode(SETUP_RESPONSE, sizeof(SETUP_RESPONSE), &m),
                     TW_WIRE_OK);
    assert_int_equal(m.mode, 1);
    assert_memory_equal(m.key_id, zeros, 80);
    assert_memory_equal(m.token, zeros, 64);
    assert_memory_equal(m.client_iv, zeros, 16);

    assert_int_equal(
        tw_setup_response_decode(SETUP_RESPONSE_MARKED, sizeof(SETUP_RESPONSE_MARKED), &m),
        TW_WIRE_OK);
    assert_int_equal(m.mode, 4);
    assert_int_equal(m.key_id[0], 0x4B);
    assert_int_equal(m.key_id[79], 0x4C);
    assert_int_equal(m.token[0], 0x54);
    assert_int_equal(m.token[63], 0x55);
    assert_int_equal(m.client_iv[0], 0x49);
    assert_int_equal(m.client_iv[15], 0x4A);
}

/* ---- Server-Start (48) ---- */

static const uint8_t SERVER_START[48] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* 0: MBZ (15) */
    0x00,                                           /* 15: Accept = OK */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 16: Server-IV */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
    0xE9, 0xA1, 0xB2, 0xC3, 0x40, 0x00, 0x00, 0x00, /* 32: Start-Time */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 40: MBZ */
};

static void test_server_start_encode(void **state)
{
    (void)state;
    uint8_t buf[48 + SLACK];
    tw_server_start_t m;
    memset(&m, 0, sizeof(m));
    m.accept = TW_ACCEPT_OK;
    m.start_time = 0xE9A1B2C340000000ULL;
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_server_start_encode(&m, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, SERVER_START, sizeof(SERVER_START));
}

static void test_server_start_decode(void **state)
{
    (void)state;
    tw_server_start_t m;
    uint8_t zeros[16] = {0};
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_server_start_decode(SERVER_START, sizeof(SERVER_START), &m), TW_WIRE_OK);
    assert_int_equal(m.accept, 0);
    assert_memory_equal(m.server_iv, zeros, 16);
    assert_true(m.start_time == 0xE9A1B2C340000000ULL);

    /* Accept and Server-IV at their offsets. */
    uint8_t b[48];
    memcpy(b, SERVER_START, sizeof(b));
    b[15] = 0x03;
    b[16] = 0x91;
    b[31] = 0x92;
    assert_int_equal(tw_server_start_decode(b, sizeof(b), &m), TW_WIRE_OK);
    assert_int_equal(m.accept, 3);
    assert_int_equal(m.server_iv[0], 0x91);
    assert_int_equal(m.server_iv[15], 0x92);
}

/* ---- Request-TW-Session (112) ---- */

/* IPv4: 192.0.2.1:20000 -> 198.51.100.2:20001, padding 27, Type-P DSCP 46 (EF),
 * timeout 2.5 s, no RFC 6038 reflection. */
static const uint8_t REQUEST_V4[112] = {
    0x05,                   /* 0: Command */
    0x04,                   /* 1: MBZ / IPVN */
    0x00,                   /* 2: Conf-Sender */
    0x00,                   /* 3: Conf-Receiver */
    0x00, 0x00, 0x00, 0x00, /* 4: Number of Schedule Slots */
    0x00, 0x00, 0x00, 0x00, /* 8: Number of Packets */
    0x4E, 0x20,             /* 12: Sender Port 20000 */
    0x4E, 0x21,             /* 14: Receiver Port 20001 */
    0xC0, 0x00, 0x02, 0x01, /* 16: Sender Address 192.0.2.1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 20: MBZ */
    0xC6, 0x33, 0x64, 0x02, /* 32: Receiver Address 198.51.100.2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 36: MBZ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                         /* 48: SID */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                         /* */
    0x00, 0x00, 0x00, 0x1B,                         /* 64: Padding Length 27 */
    0xE9, 0xA1, 0xB2, 0xC4, 0x00, 0x00, 0x00, 0x00, /* 68: Start Time */
    0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, /* 76: Timeout 2.5 s */
    0x2E, 0x00, 0x00, 0x00,                         /* 84: Type-P: 00 + DSCP 46 */
    0x00, 0x00,                                     /* 88: Octets to be reflected */
    0x00, 0x00,                                     /* 90: Length of padding to reflect */
    0x00, 0x00, 0x00, 0x00,                         /* 92: MBZ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 96: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
};

static const tw_request_session_t REQUEST_V4_MSG = {
    .ipvn = 4,
    .sender_port = 20000,
    .receiver_port = 20001,
    .sender_addr = {192, 0, 2, 1},
    .receiver_addr = {198, 51, 100, 2},
    .padding_length = 27,
    .start_time = 0xE9A1B2C400000000ULL,
    .timeout = 0x0000000280000000ULL,
    .type_p = 0x2E000000u,
};

/* IPv6: [2001:db8::1]:5000 -> [2001:db8::2]:5001, no padding, best effort,
 * timeout 3 s, RFC 6038: 8 octets to be reflected, 16 octets of padding to
 * reflect; HMAC carried through. */
static const uint8_t REQUEST_V6[112] = {
    0x05, 0x06, 0x00, 0x00,                         /* 0: Command, IPVN 6, Conf-* */
    0x00, 0x00, 0x00, 0x00,                         /* 4: Number of Schedule Slots */
    0x00, 0x00, 0x00, 0x00,                         /* 8: Number of Packets */
    0x13, 0x88, 0x13, 0x89,                         /* 12: Ports 5000, 5001 */
    0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, /* 16: Sender 2001:db8::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* */
    0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, /* 32: Receiver 2001:db8::2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 48: SID */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
    0x00, 0x00, 0x00, 0x00,                         /* 64: Padding Length 0 */
    0xE9, 0xA1, 0xB2, 0xC5, 0x12, 0x34, 0x56, 0x78, /* 68: Start Time */
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, /* 76: Timeout 3 s */
    0x00, 0x00, 0x00, 0x00,                         /* 84: Type-P: DSCP 0 */
    0x00, 0x08,                                     /* 88: Octets to be reflected */
    0x00, 0x10,                                     /* 90: Length of padding to reflect */
    0x00, 0x00, 0x00, 0x00,                         /* 92: MBZ */
    0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, /* 96: HMAC */
    0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF, /* */
};

static const tw_request_session_t REQUEST_V6_MSG = {
    .ipvn = 6,
    .sender_port = 5000,
    .receiver_port = 5001,
    .sender_addr = {0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
    .receiver_addr = {0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02},
    .padding_length = 0,
    .start_time = 0xE9A1B2C512345678ULL,
    .timeout = 0x0000000300000000ULL,
    .type_p = 0,
    .octets_to_reflect = 8,
    .padding_to_reflect = 16,
    .hmac = {0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD,
             0xBE, 0xBF},
};

static void assert_request_equal(const tw_request_session_t *a, const tw_request_session_t *b)
{
    assert_int_equal(a->ipvn, b->ipvn);
    assert_int_equal(a->conf_sender, b->conf_sender);
    assert_int_equal(a->conf_receiver, b->conf_receiver);
    assert_int_equal(a->schedule_slots, b->schedule_slots);
    assert_int_equal(a->packets, b->packets);
    assert_int_equal(a->sender_port, b->sender_port);
    assert_int_equal(a->receiver_port, b->receiver_port);
    assert_memory_equal(a->sender_addr, b->sender_addr, 16);
    assert_memory_equal(a->receiver_addr, b->receiver_addr, 16);
    assert_memory_equal(a->sid, b->sid, 16);
    assert_int_equal(a->padding_length, b->padding_length);
    assert_true(a->start_time == b->start_time);
    assert_true(a->timeout == b->timeout);
    assert_int_equal(a->type_p, b->type_p);
    assert_int_equal(a->octets_to_reflect, b->octets_to_reflect);
    assert_int_equal(a->padding_to_reflect, b->padding_to_reflect);
    assert_memory_equal(a->hmac, b->hmac, 16);
}

static void test_request_session_v4(void **state)
{
    (void)state;
    uint8_t buf[112 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_request_session_encode(&REQUEST_V4_MSG, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, REQUEST_V4, sizeof(REQUEST_V4));

    tw_request_session_t m;
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_request_session_decode(REQUEST_V4, sizeof(REQUEST_V4), &m), TW_WIRE_OK);
    assert_request_equal(&m, &REQUEST_V4_MSG);
    assert_int_equal(tw_type_p_dscp(m.type_p), 46);
}

static void test_request_session_v4_addr_tail(void **state)
{
    (void)state;
    /* The 12 octets after an IPv4 address are MBZ: the encoder sends zeros even
     * when the struct holds junk there. */
    tw_request_session_t m = REQUEST_V4_MSG;
    memset(m.sender_addr + 4, 0x77, 12);
    memset(m.receiver_addr + 4, 0x77, 12);
    uint8_t buf[112 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_request_session_encode(&m, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, REQUEST_V4, sizeof(REQUEST_V4));
}

static void test_request_session_v6(void **state)
{
    (void)state;
    uint8_t buf[112 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_request_session_encode(&REQUEST_V6_MSG, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, REQUEST_V6, sizeof(REQUEST_V6));

    tw_request_session_t m;
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_request_session_decode(REQUEST_V6, sizeof(REQUEST_V6), &m), TW_WIRE_OK);
    assert_request_equal(&m, &REQUEST_V6_MSG);
}

static void test_request_session_fields(void **state)
{
    (void)state;
    /* Conf-Sender, Conf-Receiver, slots, packets and SID at their offsets. */
    uint8_t b[112];
    memcpy(b, REQUEST_V4, sizeof(b));
    b[2] = 0x01;
    b[3] = 0x02;
    b[4] = 0x11;
    b[7] = 0x14;
    b[8] = 0x21;
    b[11] = 0x24;
    b[48] = 0x31;
    b[63] = 0x3F;
    tw_request_session_t m;
    assert_int_equal(tw_request_session_decode(b, sizeof(b), &m), TW_WIRE_OK);
    assert_int_equal(m.conf_sender, 1);
    assert_int_equal(m.conf_receiver, 2);
    assert_int_equal(m.schedule_slots, 0x11000014u);
    assert_int_equal(m.packets, 0x21000024u);
    assert_int_equal(m.sid[0], 0x31);
    assert_int_equal(m.sid[15], 0x3F);

    uint8_t out[112];
    assert_int_equal(tw_request_session_encode(&m, out, sizeof(out)), TW_WIRE_OK);
    assert_memory_equal(out, b, sizeof(b));
}

/* ---- Accept-Session (48) ---- */

static const uint8_t ACCEPT_SESSION[48] = {
    0x00,                                           /* 0: Accept = OK */
    0x00,                                           /* 1: MBZ */
    0x4E, 0x21,                                     /* 2: Port 20001 */
    0xC6, 0x33, 0x64, 0x02,                         /* 4: SID: receiver address */
    0xE9, 0xA1, 0xB2, 0xC4, 0x12, 0x34, 0x56, 0x78, /* 8: SID: NTP timestamp */
    0xDE, 0xAD, 0xBE, 0xEF,                         /* 16: SID: random */
    0x00, 0x08,                                     /* 20: Reflected octets */
    0x00, 0x02,                                     /* 22: Server octets */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 24: MBZ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 32: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
};

static const tw_accept_session_t ACCEPT_SESSION_MSG = {
    .accept = TW_ACCEPT_OK,
    .port = 20001,
    .sid = {0xC6, 0x33, 0x64, 0x02, 0xE9, 0xA1, 0xB2, 0xC4, 0x12, 0x34, 0x56, 0x78, 0xDE, 0xAD,
            0xBE, 0xEF},
    .reflected_octets = 8,
    .server_octets = 2,
};

static void test_accept_session(void **state)
{
    (void)state;
    uint8_t buf[48 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_accept_session_encode(&ACCEPT_SESSION_MSG, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, ACCEPT_SESSION, sizeof(ACCEPT_SESSION));

    tw_accept_session_t m;
    uint8_t zeros[16] = {0};
    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_accept_session_decode(ACCEPT_SESSION, sizeof(ACCEPT_SESSION), &m),
                     TW_WIRE_OK);
    assert_int_equal(m.accept, 0);
    assert_int_equal(m.port, 20001);
    assert_memory_equal(m.sid, ACCEPT_SESSION_MSG.sid, 16);
    assert_int_equal(m.reflected_octets, 8);
    assert_int_equal(m.server_octets, 2);
    assert_memory_equal(m.hmac, zeros, 16);

    /* Accept and HMAC at their offsets. */
    uint8_t b[48];
    memcpy(b, ACCEPT_SESSION, sizeof(b));
    b[0] = 0x05;
    b[32] = 0xC1;
    b[47] = 0xC2;
    assert_int_equal(tw_accept_session_decode(b, sizeof(b), &m), TW_WIRE_OK);
    assert_int_equal(m.accept, 5);
    assert_int_equal(m.hmac[0], 0xC1);
    assert_int_equal(m.hmac[15], 0xC2);
}

/* ---- Start-Sessions, Start-Ack, Stop-Sessions (32 each) ---- */

static const uint8_t START_SESSIONS[32] = {
    0x02,                                                       /* 0: Command */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1: MBZ (15) */
    0x00, 0x00, 0x00, 0x00, 0x00,                               /* */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 16: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* */
};

static const uint8_t START_SESSIONS_HMAC[32] = {
    0x02,                                                       /* 0: Command */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1: MBZ (15) */
    0x00, 0x00, 0x00, 0x00, 0x00,                               /* */
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,             /* 16: HMAC */
    0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F,             /* */
};

static const uint8_t HMAC_PATTERN[16] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
                                         0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F};

static const uint8_t START_ACK_0[32] = {
    0x00,                                                       /* 0: Accept = OK */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1: MBZ (15) */
    0x00, 0x00, 0x00, 0x00, 0x00,                               /* */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 16: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* */
};

static const uint8_t START_ACK_3[32] = {
    0x03,                                                       /* 0: Accept = not supported */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1: MBZ (15) */
    0x00, 0x00, 0x00, 0x00, 0x00,                               /* */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 16: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* */
};

static const uint8_t STOP_SESSIONS[32] = {
    0x03,                                           /* 0: Command */
    0x00,                                           /* 1: Accept = OK */
    0x00, 0x00,                                     /* 2: MBZ */
    0x00, 0x00, 0x00, 0x02,                         /* 4: Number of Sessions */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 8: MBZ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 16: HMAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
};

static void test_start_sessions(void **state)
{
    (void)state;
    uint8_t buf[32 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_start_sessions_encode(NULL, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, START_SESSIONS, sizeof(START_SESSIONS));
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_start_sessions_encode(HMAC_PATTERN, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, START_SESSIONS_HMAC, sizeof(START_SESSIONS_HMAC));

    uint8_t hmac[16];
    memset(hmac, 0x55, sizeof(hmac));
    assert_int_equal(tw_start_sessions_decode(START_SESSIONS, 32, hmac), TW_WIRE_OK);
    assert_all(hmac, 16, 0);
    assert_int_equal(tw_start_sessions_decode(START_SESSIONS_HMAC, 32, hmac), TW_WIRE_OK);
    assert_memory_equal(hmac, HMAC_PATTERN, 16);
    assert_int_equal(tw_start_sessions_decode(START_SESSIONS_HMAC, 32, NULL), TW_WIRE_OK);
}

static void test_start_ack(void **state)
{
    (void)state;
    uint8_t buf[32 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_start_ack_encode(TW_ACCEPT_OK, NULL, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, START_ACK_0, sizeof(START_ACK_0));
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_start_ack_encode(TW_ACCEPT_NOT_SUPPORTED, NULL, buf, sizeof(buf)),
                     TW_WIRE_OK);
    assert_encoded(buf, START_ACK_3, sizeof(START_ACK_3));

    uint8_t accept = 0x55, hmac[16];
    memset(hmac, 0x55, sizeof(hmac));
    assert_int_equal(tw_start_ack_decode(START_ACK_0, 32, &accept, hmac), TW_WIRE_OK);
    assert_int_equal(accept, 0);
    assert_all(hmac, 16, 0);
    assert_int_equal(tw_start_ack_decode(START_ACK_3, 32, &accept, NULL), TW_WIRE_OK);
    assert_int_equal(accept, 3);

    /* HMAC at 16 both ways. */
    uint8_t want[32];
    memcpy(want, START_ACK_0, sizeof(want));
    memcpy(want + 16, HMAC_PATTERN, 16);
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_start_ack_encode(TW_ACCEPT_OK, HMAC_PATTERN, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, want, sizeof(want));
    assert_int_equal(tw_start_ack_decode(want, 32, &accept, hmac), TW_WIRE_OK);
    assert_memory_equal(hmac, HMAC_PATTERN, 16);
}

static void test_stop_sessions(void **state)
{
    (void)state;
    tw_stop_sessions_t m;
    memset(&m, 0, sizeof(m));
    m.accept = TW_ACCEPT_OK;
    m.num_sessions = 2;
    uint8_t buf[32 + SLACK];
    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_stop_sessions_encode(&m, buf, sizeof(buf)), TW_WIRE_OK);
    assert_encoded(buf, STOP_SESSIONS, sizeof(STOP_SESSIONS));

    memset(&m, 0x55, sizeof(m));
    assert_int_equal(tw_stop_sessions_decode(STOP_SESSIONS, 32, &m), TW_WIRE_OK);
    assert_int_equal(m.accept, 0);
    assert_int_equal(m.num_sessions, 2);
    assert_all(m.hmac, 16, 0);

    /* Accept at 1, Number of Sessions across 4..7, HMAC at 16. */
    uint8_t b[32];
    memcpy(b, STOP_SESSIONS, sizeof(b));
    b[1] = 0x01;
    b[4] = 0x12;
    b[16] = 0xD1;
    b[31] = 0xD2;
    assert_int_equal(tw_stop_sessions_decode(b, sizeof(b), &m), TW_WIRE_OK);
    assert_int_equal(m.accept, 1);
    assert_int_equal(m.num_sessions, 0x12000002u);
    assert_int_equal(m.hmac[0], 0xD1);
    assert_int_equal(m.hmac[15], 0xD2);
    uint8_t out[32];
    assert_int_equal(tw_stop_sessions_encode(&m, out, sizeof(out)), TW_WIRE_OK);
    assert_memory_equal(out, b, sizeof(b));
}

/* ---- Errors ---- */

static void test_decode_short(void **state)
{
    (void)state;
    tw_greeting_t g;
    tw_setup_response_t sr;
    tw_server_start_t ss;
    tw_request_session_t rq;
    tw_accept_session_t as;
    tw_stop_sessions_t sp;
    uint8_t accept, hmac[16];

    assert_int_equal(tw_greeting_decode(GREETING, 63, &g), TW_WIRE_ESHORT);
    assert_int_equal(tw_setup_response_decode(SETUP_RESPONSE, 163, &sr), TW_WIRE_ESHORT);
    assert_int_equal(tw_server_start_decode(SERVER_START, 47, &ss), TW_WIRE_ESHORT);
    assert_int_equal(tw_request_session_decode(REQUEST_V4, 111, &rq), TW_WIRE_ESHORT);
    assert_int_equal(tw_request_session_decode(REQUEST_V6, 111, &rq), TW_WIRE_ESHORT);
    assert_int_equal(tw_accept_session_decode(ACCEPT_SESSION, 47, &as), TW_WIRE_ESHORT);
    assert_int_equal(tw_start_sessions_decode(START_SESSIONS, 31, hmac), TW_WIRE_ESHORT);
    assert_int_equal(tw_start_ack_decode(START_ACK_0, 31, &accept, hmac), TW_WIRE_ESHORT);
    assert_int_equal(tw_stop_sessions_decode(STOP_SESSIONS, 31, &sp), TW_WIRE_ESHORT);

    /* Empty input too. */
    assert_int_equal(tw_greeting_decode(GREETING, 0, &g), TW_WIRE_ESHORT);
    assert_int_equal(tw_stop_sessions_decode(STOP_SESSIONS, 0, &sp), TW_WIRE_ESHORT);
}

static void test_encode_nospace(void **state)
{
    (void)state;
    uint8_t buf[200];
    tw_setup_response_t sr;
    tw_server_start_t ss;
    tw_stop_sessions_t sp;
    memset(&sr, 0, sizeof(sr));
    memset(&ss, 0, sizeof(ss));
    memset(&sp, 0, sizeof(sp));

    memset(buf, SENTINEL, sizeof(buf));
    assert_int_equal(tw_greeting_encode(&GREETING_MSG, buf, 63), TW_WIRE_ENOSPC);
    assert_int_equal(tw_setup_response_encode(&sr, buf, 163), TW_WIRE_ENOSPC);
    assert_int_equal(tw_server_start_encode(&ss, buf, 47), TW_WIRE_ENOSPC);
    assert_int_equal(tw_request_session_encode(&REQUEST_V4_MSG, buf, 111), TW_WIRE_ENOSPC);
    assert_int_equal(tw_request_session_encode(&REQUEST_V6_MSG, buf, 111), TW_WIRE_ENOSPC);
    assert_int_equal(tw_accept_session_encode(&ACCEPT_SESSION_MSG, buf, 47), TW_WIRE_ENOSPC);
    assert_int_equal(tw_start_sessions_encode(HMAC_PATTERN, buf, 31), TW_WIRE_ENOSPC);
    assert_int_equal(tw_start_ack_encode(0, HMAC_PATTERN, buf, 31), TW_WIRE_ENOSPC);
    assert_int_equal(tw_stop_sessions_encode(&sp, buf, 31), TW_WIRE_ENOSPC);
    assert_int_equal(tw_greeting_encode(&GREETING_MSG, buf, 0), TW_WIRE_ENOSPC);
    assert_all(buf, sizeof(buf), SENTINEL); /* nothing written */
}

static void test_null_args(void **state)
{
    (void)state;
    uint8_t buf[200];
    tw_greeting_t g;
    tw_setup_response_t sr;
    tw_server_start_t ss;
    tw_request_session_t rq;
    tw_accept_session_t as;
    tw_stop_sessions_t sp;
    uint8_t accept;

    assert_int_equal(tw_greeting_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_greeting_encode(&GREETING_MSG, NULL, 64), TW_WIRE_EINVAL);
    assert_int_equal(tw_greeting_decode(GREETING, 64, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_greeting_decode(NULL, 64, &g), TW_WIRE_EINVAL);
    assert_int_equal(tw_setup_response_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_setup_response_decode(NULL, 164, &sr), TW_WIRE_EINVAL);
    assert_int_equal(tw_setup_response_decode(SETUP_RESPONSE, 164, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_server_start_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_server_start_decode(NULL, 48, &ss), TW_WIRE_EINVAL);
    assert_int_equal(tw_server_start_decode(SERVER_START, 48, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_request_session_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_request_session_encode(&REQUEST_V4_MSG, NULL, 112), TW_WIRE_EINVAL);
    assert_int_equal(tw_request_session_decode(NULL, 112, &rq), TW_WIRE_EINVAL);
    assert_int_equal(tw_request_session_decode(REQUEST_V4, 112, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_accept_session_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_accept_session_decode(NULL, 48, &as), TW_WIRE_EINVAL);
    assert_int_equal(tw_accept_session_decode(ACCEPT_SESSION, 48, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_start_sessions_encode(NULL, NULL, 32), TW_WIRE_EINVAL);
    assert_int_equal(tw_start_sessions_decode(NULL, 32, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_start_ack_encode(0, NULL, NULL, 32), TW_WIRE_EINVAL);
    assert_int_equal(tw_start_ack_decode(NULL, 32, &accept, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_start_ack_decode(START_ACK_0, 32, NULL, NULL), TW_WIRE_EINVAL);
    assert_int_equal(tw_stop_sessions_encode(NULL, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_int_equal(tw_stop_sessions_decode(NULL, 32, &sp), TW_WIRE_EINVAL);
    assert_int_equal(tw_stop_sessions_decode(STOP_SESSIONS, 32, NULL), TW_WIRE_EINVAL);
}

static void test_decode_ignores_mbz(void **state)
{
    (void)state;
    uint8_t b[112];

    /* Greeting: Unused 0..11, MBZ 52..63. */
    tw_greeting_t g;
    memcpy(b, GREETING, 64);
    memset(b, 0xFF, 12);
    memset(b + 52, 0xFF, 12);
    assert_int_equal(tw_greeting_decode(b, 64, &g), TW_WIRE_OK);
    assert_int_equal(g.modes, 0x61);
    assert_int_equal(g.count, 1024);
    assert_memory_equal(g.challenge, GREETING_MSG.challenge, 16);
    assert_memory_equal(g.salt, GREETING_MSG.salt, 16);

    /* Server-Start: MBZ 0..14 and 40..47. */
    tw_server_start_t ss;
    memcpy(b, SERVER_START, 48);
    memset(b, 0xFF, 15);
    memset(b + 40, 0xFF, 8);
    assert_int_equal(tw_server_start_decode(b, 48, &ss), TW_WIRE_OK);
    assert_int_equal(ss.accept, 0);
    assert_true(ss.start_time == 0xE9A1B2C340000000ULL);
    assert_all(ss.server_iv, 16, 0);

    /* Request-TW-Session: high nibble of octet 1, the IPv4 address tails, 92..95. */
    tw_request_session_t rq;
    memcpy(b, REQUEST_V4, 112);
    b[1] = 0xF4;
    memset(b + 20, 0xFF, 12);
    memset(b + 36, 0xFF, 12);
    memset(b + 92, 0xFF, 4);
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_OK);
    assert_request_equal(&rq, &REQUEST_V4_MSG);

    /* Accept-Session: MBZ 1 and 24..31. */
    tw_accept_session_t as;
    memcpy(b, ACCEPT_SESSION, 48);
    b[1] = 0xFF;
    memset(b + 24, 0xFF, 8);
    assert_int_equal(tw_accept_session_decode(b, 48, &as), TW_WIRE_OK);
    assert_int_equal(as.accept, 0);
    assert_int_equal(as.port, 20001);
    assert_memory_equal(as.sid, ACCEPT_SESSION_MSG.sid, 16);
    assert_int_equal(as.reflected_octets, 8);
    assert_int_equal(as.server_octets, 2);
    assert_all(as.hmac, 16, 0);

    /* Start-Sessions and Start-Ack: MBZ 1..15. */
    uint8_t hmac[16], accept;
    memcpy(b, START_SESSIONS_HMAC, 32);
    memset(b + 1, 0xFF, 15);
    assert_int_equal(tw_start_sessions_decode(b, 32, hmac), TW_WIRE_OK);
    assert_memory_equal(hmac, HMAC_PATTERN, 16);
    memcpy(b, START_ACK_3, 32);
    memset(b + 1, 0xFF, 15);
    assert_int_equal(tw_start_ack_decode(b, 32, &accept, hmac), TW_WIRE_OK);
    assert_int_equal(accept, 3);
    assert_all(hmac, 16, 0);

    /* Stop-Sessions: MBZ 2..3 and 8..15. */
    tw_stop_sessions_t sp;
    memcpy(b, STOP_SESSIONS, 32);
    memset(b + 2, 0xFF, 2);
    memset(b + 8, 0xFF, 8);
    assert_int_equal(tw_stop_sessions_decode(b, 32, &sp), TW_WIRE_OK);
    assert_int_equal(sp.accept, 0);
    assert_int_equal(sp.num_sessions, 2);
    assert_all(sp.hmac, 16, 0);
}

static void test_decode_wrong_command(void **state)
{
    (void)state;
    uint8_t b[112];
    tw_request_session_t rq;
    tw_stop_sessions_t sp;
    uint8_t hmac[16];

    memcpy(b, REQUEST_V4, 112);
    b[0] = 0x06;
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_EINVAL);
    b[0] = 0x00;
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_EINVAL);

    memcpy(b, START_SESSIONS, 32);
    b[0] = 0x03;
    assert_int_equal(tw_start_sessions_decode(b, 32, hmac), TW_WIRE_EINVAL);
    b[0] = 0x00;
    assert_int_equal(tw_start_sessions_decode(b, 32, hmac), TW_WIRE_EINVAL);

    memcpy(b, STOP_SESSIONS, 32);
    b[0] = 0x02;
    assert_int_equal(tw_stop_sessions_decode(b, 32, &sp), TW_WIRE_EINVAL);
    b[0] = 0x05;
    assert_int_equal(tw_stop_sessions_decode(b, 32, &sp), TW_WIRE_EINVAL);

    /* The length check comes first: a short buffer is short whatever it holds. */
    assert_int_equal(tw_stop_sessions_decode(b, 31, &sp), TW_WIRE_ESHORT);
}

static void test_request_session_bad_ipvn(void **state)
{
    (void)state;
    uint8_t b[112];
    tw_request_session_t rq;

    memcpy(b, REQUEST_V4, 112);
    b[1] = 0x05;
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_EINVAL);
    b[1] = 0x00;
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_EINVAL);
    b[1] = 0x40; /* 4 in the MBZ nibble, not in IPVN */
    assert_int_equal(tw_request_session_decode(b, 112, &rq), TW_WIRE_EINVAL);

    /* The encoder refuses an IPVN it cannot send, and writes nothing. */
    tw_request_session_t m = REQUEST_V4_MSG;
    uint8_t buf[112];
    memset(buf, SENTINEL, sizeof(buf));
    m.ipvn = 5;
    assert_int_equal(tw_request_session_encode(&m, buf, sizeof(buf)), TW_WIRE_EINVAL);
    m.ipvn = 0x14;
    assert_int_equal(tw_request_session_encode(&m, buf, sizeof(buf)), TW_WIRE_EINVAL);
    assert_all(buf, sizeof(buf), SENTINEL);
}

/* ---- Helpers ---- */

static void test_type_p_dscp(void **state)
{
    (void)state;
    assert_int_equal(tw_type_p_dscp(0x2E000000u), 46);
    assert_int_equal(tw_type_p_dscp(0x00000000u), 0);
    assert_int_equal(tw_type_p_dscp(0x3F000000u), 63);
    assert_int_equal(tw_type_p_dscp(0x40000000u), -1); /* 01: PHB ID */
    assert_int_equal(tw_type_p_dscp(0x80000000u), -1); /* 10: reserved */
    assert_int_equal(tw_type_p_dscp(0xC0000000u), -1); /* 11: reserved */
    assert_int_equal(tw_type_p_dscp(0x2E000001u), -1);
    assert_int_equal(tw_type_p_dscp(0x2E010000u), -1);
    assert_int_equal(tw_type_p_from_dscp(46), 0x2E000000u);
    for (int d = 0; d < 64; d++)
        assert_int_equal(tw_type_p_dscp(tw_type_p_from_dscp(d)), d);
}

static void test_command_len(void **state)
{
    (void)state;
    assert_int_equal(tw_ctrl_command_len(2), 32);
    assert_int_equal(tw_ctrl_command_len(3), 32);
    assert_int_equal(tw_ctrl_command_len(5), 112);
    assert_int_equal(tw_ctrl_command_len(0), 0);
    assert_int_equal(tw_ctrl_command_len(1), 0);
    assert_int_equal(tw_ctrl_command_len(4), 0);
    assert_int_equal(tw_ctrl_command_len(6), 0);
    /* RFC 5938: the first block of Start-N-Sessions and Stop-N-Sessions; the
     * acks come from a server. */
    assert_int_equal(tw_ctrl_command_len(7), 16);
    assert_int_equal(tw_ctrl_command_len(9), 16);
    assert_int_equal(tw_ctrl_command_len(8), 0);
    assert_int_equal(tw_ctrl_command_len(10), 0);
    assert_int_equal(tw_ctrl_command_len(255), 0);
}

static void test_accept_str(void **state)
{
    (void)state;
    assert_string_equal(tw_accept_str(0), "OK");
    assert_string_equal(tw_accept_str(1), "failure");
    assert_string_equal(tw_accept_str(2), "internal error");
    assert_string_equal(tw_accept_str(3), "not supported");
    assert_string_equal(tw_accept_str(4), "permanent resource limitation");
    assert_string_equal(tw_accept_str(5), "temporary resource limitation");
    assert_string_equal(tw_accept_str(6), "unknown accept value");
    assert_string_equal(tw_accept_str(200), "unknown accept value");
}

static void test_modes_str(void **state)
{
    (void)state;
    char buf[160];
    assert_ptr_equal(tw_modes_str(0, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "none");
    assert_string_equal(tw_modes_str(1, buf, sizeof(buf)), "unauthenticated");
    assert_string_equal(tw_modes_str(0x61, buf, sizeof(buf)),
                        "unauthenticated|reflect-octets|symmetrical-size");
    assert_string_equal(tw_modes_str(0x80000001u, buf, sizeof(buf)), "unauthenticated|bit31");
    assert_string_equal(tw_modes_str(0x1E, buf, sizeof(buf)),
                        "authenticated|encrypted|mixed|individual-session-control");
    assert_string_equal(tw_modes_str(0x180, buf, sizeof(buf)), "ikev2-derived|dscp-ecn-monitoring");
    assert_string_equal(tw_modes_str(0x200, buf, sizeof(buf)), "bit9");

    /* Tiny buffers: cut short, always terminated, nothing written past len. */
    char tiny[8];
    memset(tiny, 'X', sizeof(tiny));
    assert_string_equal(tw_modes_str(0x61, tiny, 5), "unau");
    assert_int_equal(tiny[5], 'X');
    memset(tiny, 'X', sizeof(tiny));
    assert_string_equal(tw_modes_str(0, tiny, 3), "no");
    assert_int_equal(tiny[3], 'X');
    memset(tiny, 'X', sizeof(tiny));
    assert_string_equal(tw_modes_str(0x61, tiny, 1), "");
    assert_int_equal(tiny[1], 'X');
    memset(tiny, 'X', sizeof(tiny));
    assert_string_equal(tw_modes_str(0x61, tiny, 0), "");
    assert_int_equal(tiny[0], 'X');
    assert_string_equal(tw_modes_str(0x61, NULL, 16), "");

    /* Every bit set fits a generous buffer. */
    char big[512];
    tw_modes_str(0xFFFFFFFFu, big, sizeof(big));
    assert_non_null(strstr(big, "symmetrical-size|ikev2-derived|dscp-ecn-monitoring|bit9|"));
    assert_non_null(strstr(big, "|bit31"));
    assert_int_equal(big[strlen(big) - 1], '1');
}

/* RFC 5938 section 3.2: Start-N-Sessions, two SIDs, written from the figure:
 * Command 7, MBZ (11 octets), Number of Sessions 2, the SIDs, HMAC. */
static const uint8_t START_N_2[64] = {
    7,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    2,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* RFC 5938 section 3.3 / 3.5: Start-N-Ack Accept 5 and Stop-N-Ack Accept 0,
 * one SID: Command, Accept, MBZ (2), MBZ (8), Number of Sessions 1, SID, HMAC. */
static const uint8_t START_N_ACK_1[48] = {
    8,    5,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    1,
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
};

static void test_n_sessions_vectors(void **state)
{
    (void)state;
    tw_n_sessions_t m;
    memset(&m, 0, sizeof m);
    m.cmd = TW_CMD_START_N_SESSIONS;
    m.accept = 9; /* MBZ in a command: not written */
    m.num_sessions = 2;
    memset(m.sids[0], 0x11, 16);
    memset(m.sids[1], 0x22, 16);
    for (int i = 0; i < 16; i++)
        m.hmac[i] = (uint8_t)(0xa0 + i);
    uint8_t buf[TW_CTRL_N_LEN(TW_CTRL_N_MAX)];
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(tw_n_sessions_encode(&m, buf, 64), TW_WIRE_OK);
    assert_memory_equal(buf, START_N_2, 64);
    assert_int_equal(buf[64], 0xee); /* nothing past the message */
    assert_int_equal(tw_n_sessions_encode(&m, buf, 63), TW_WIRE_ENOSPC);
    tw_n_sessions_t d;
    assert_int_equal(tw_n_sessions_len(START_N_2, 16, 64), 64);
    assert_int_equal(tw_n_sessions_decode(START_N_2, 64, &d), TW_WIRE_OK);
    assert_int_equal(d.cmd, 7);
    assert_int_equal(d.accept, 0);
    assert_int_equal(d.num_sessions, 2);
    assert_memory_equal(d.sids[1], START_N_2 + 32, 16);
    assert_memory_equal(d.hmac, START_N_2 + 48, 16);
    /* Stop-N-Sessions: the same layout with command 9. */
    m.cmd = TW_CMD_STOP_N_SESSIONS;
    assert_int_equal(tw_n_sessions_encode(&m, buf, sizeof buf), TW_WIRE_OK);
    assert_int_equal(buf[0], 9);
    assert_memory_equal(buf + 1, START_N_2 + 1, 63);

    memset(&m, 0, sizeof m);
    m.cmd = TW_CMD_START_N_ACK;
    m.accept = TW_ACCEPT_TEMPORARY;
    m.num_sessions = 1;
    memset(m.sids[0], 0x33, 16);
    assert_int_equal(tw_n_sessions_encode(&m, buf, sizeof buf), TW_WIRE_OK);
    assert_memory_equal(buf, START_N_ACK_1, 48);
    assert_int_equal(tw_n_sessions_decode(START_N_ACK_1, 48, &d), TW_WIRE_OK);
    assert_int_equal(d.cmd, 8);
    assert_int_equal(d.accept, 5);
    assert_int_equal(d.num_sessions, 1);
    m.cmd = TW_CMD_STOP_N_ACK;
    m.accept = TW_ACCEPT_OK;
    assert_int_equal(tw_n_sessions_encode(&m, buf, sizeof buf), TW_WIRE_OK);
    assert_int_equal(buf[0], 10);
    assert_int_equal(buf[1], 0);
    assert_memory_equal(buf + 2, START_N_ACK_1 + 2, 46);
}

/* Hostile lengths: no SID, more than the caller allows, a message cut short,
 * another command; MBZ octets that are not zero are ignored. */
static void test_n_sessions_bounds(void **state)
{
    (void)state;
    uint8_t b[TW_CTRL_N_LEN(TW_CTRL_N_MAX) + 16];
    memcpy(b, START_N_2, 64);
    tw_n_sessions_t d;
    assert_int_equal(tw_n_sessions_len(b, 15, 64), TW_WIRE_ESHORT);
    assert_int_equal(tw_n_sessions_len(b, 16, 1), TW_WIRE_EINVAL); /* 2 > max 1 */
    assert_int_equal(tw_n_sessions_len(b, 16, 1000), 64);          /* max capped at 64 */
    assert_int_equal(tw_n_sessions_decode(b, 63, &d), TW_WIRE_ESHORT);
    b[15] = 0;
    assert_int_equal(tw_n_sessions_len(b, 16, 64), TW_WIRE_EINVAL); /* no SID */
    assert_int_equal(tw_n_sessions_decode(b, 64, &d), TW_WIRE_EINVAL);
    b[12] = 0x80; /* 2^31 + 0 SIDs: no length overflow */
    assert_int_equal(tw_n_sessions_len(b, 16, 64), TW_WIRE_EINVAL);
    b[12] = 0;
    b[15] = TW_CTRL_N_MAX + 1;
    assert_int_equal(tw_n_sessions_len(b, 16, 1000), TW_WIRE_EINVAL);
    b[15] = TW_CTRL_N_MAX;
    assert_int_equal(tw_n_sessions_len(b, 16, TW_CTRL_N_MAX), (long)TW_CTRL_N_LEN(TW_CTRL_N_MAX));
    for (int c = 0; c < 256; c++) {
        b[0] = (uint8_t)c;
        long want = c >= 7 && c <= 10 ? (long)TW_CTRL_N_LEN(TW_CTRL_N_MAX) : TW_WIRE_EINVAL;
        assert_int_equal(tw_n_sessions_len(b, 16, TW_CTRL_N_MAX), want);
    }
    memcpy(b, START_N_2, 64);
    b[3] = 0xff; /* MBZ */
    assert_int_equal(tw_n_sessions_decode(b, 64, &d), TW_WIRE_OK);
    assert_int_equal(d.accept, 0); /* octet 1 of a command is MBZ, not an Accept */
    tw_n_sessions_t m;
    memset(&m, 0, sizeof m);
    m.cmd = 7;
    assert_int_equal(tw_n_sessions_encode(&m, b, sizeof b), TW_WIRE_EINVAL); /* 0 SIDs */
    m.num_sessions = TW_CTRL_N_MAX + 1;
    assert_int_equal(tw_n_sessions_encode(&m, b, sizeof b), TW_WIRE_EINVAL);
    m.num_sessions = 1;
    m.cmd = 3;
    assert_int_equal(tw_n_sessions_encode(&m, b, sizeof b), TW_WIRE_EINVAL);
    assert_int_equal(tw_n_sessions_encode(NULL, b, sizeof b), TW_WIRE_EINVAL);
    assert_int_equal(tw_n_sessions_decode(NULL, 64, &d), TW_WIRE_EINVAL);
}

/* RFC 6038 section 5: the Packet Padding (to be reflected) of each format. */
static void test_reflect_offsets(void **state)
{
    (void)state;
    static const struct {
        uint32_t modes;
        size_t from, to;
    } cases[] = {
        {0x21, 14, 41},   /* unauthenticated, section 5.1.2 / 5.2.1 */
        {0x61, 41, 41},   /* + symmetrical size: after 27 MBZ octets, section 5.1.5 */
        {0x28, 14, 41},   /* mixed: unauthenticated test packets */
        {0x68, 41, 41},   /* mixed + symmetrical size */
        {0x22, 48, 112},  /* authenticated: after the 48-octet header, back after 112 */
        {0x24, 48, 112},  /* encrypted */
        {0x62, 104, 112}, /* authenticated + symmetrical: after 56 MBZ octets */
        {0x121, 14, 44},  /* + RFC 7750: after the Sender DSCP and ECN and MBZ */
        {0x161, 42, 44},  /* + symmetrical: after 28 MBZ octets (RFC 7750 Figure 4) */
        {0x122, 48, 112}, /* authenticated: the reflector's format is as long */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t from = 0, to = 0;
        tw_reflect_offsets(cases[i].modes, &from, &to);
        assert_int_equal(from, cases[i].from);
        assert_int_equal(to, cases[i].to);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_encode),
        cmocka_unit_test(test_greeting_decode),
        cmocka_unit_test(test_setup_response_encode),
        cmocka_unit_test(test_setup_response_decode),
        cmocka_unit_test(test_server_start_encode),
        cmocka_unit_test(test_server_start_decode),
        cmocka_unit_test(test_request_session_v4),
        cmocka_unit_test(test_request_session_v4_addr_tail),
        cmocka_unit_test(test_request_session_v6),
        cmocka_unit_test(test_request_session_fields),
        cmocka_unit_test(test_accept_session),
        cmocka_unit_test(test_start_sessions),
        cmocka_unit_test(test_start_ack),
        cmocka_unit_test(test_stop_sessions),
        cmocka_unit_test(test_decode_short),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_decode_ignores_mbz),
        cmocka_unit_test(test_decode_wrong_command),
        cmocka_unit_test(test_request_session_bad_ipvn),
        cmocka_unit_test(test_type_p_dscp),
        cmocka_unit_test(test_command_len),
        cmocka_unit_test(test_accept_str),
        cmocka_unit_test(test_modes_str),
        cmocka_unit_test(test_reflect_offsets),
        cmocka_unit_test(test_n_sessions_vectors),
        cmocka_unit_test(test_n_sessions_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
