/* Unit tests for auth: PBKDF2, Token, the encrypted TWAMP-Control
 * stream, TWAMP-Test packets in authenticated and encrypted modes, and STAMP's
 * HMAC-SHA-256.
 *
 * Every expected value below was computed independently of the code under
 * test, with the openssl command line (OpenSSL 3.0) and Python's hashlib/hmac,
 * by the command written above it; the inputs are the literal arrays of this
 * file. A vector made of several parts (encrypted octets, then HMAC) lists one
 * command per part. Rules checked (see auth.h): RFC 4656 §3.1 (KDF, Token,
 * IVs), §3.2 (control HMAC), §4.1.2 (test keys and packets); RFC 5357 §4.2.1
 * (reflector packets); RFC 8762 §4.2.2 (STAMP). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "control_wire.h"

/* Inputs shared by the vectors. */
#define PASSPHRASE "correct horse battery staple"
static const uint8_t SALT[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static const uint8_t CHALLENGE[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                      0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
/* AES Session-key 20..2f, HMAC Session-key 30..4f, Client-IV 60..6f,
 * Server-IV 70..7f, SID c0..cf. */
static uint8_t AES_KEY[16], HMAC_KEY[32], CLIENT_IV[16], SERVER_IV[16], SID[16];

static void fill_seq(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

static int setup_inputs(void **state)
{
    (void)state;
    fill_seq(AES_KEY, 16, 0x20);
    fill_seq(HMAC_KEY, 32, 0x30);
    fill_seq(CLIENT_IV, 16, 0x60);
    fill_seq(SERVER_IV, 16, 0x70);
    fill_seq(SID, 16, 0xc0);
    return 0;
}

static tw_secret_t secret_of(const char *s)
{
    tw_secret_t sec;
    memset(&sec, 0, sizeof(sec));
    sec.len = strlen(s);
    memcpy(sec.bytes, s, sec.len);
    return sec;
}

/* clang-format off */
/* openssl kdf -keylen 16 -kdfopt digest:SHA1 -kdfopt pass:'correct horse battery staple' -kdfopt hexsalt:a0a1a2a3a4a5a6a7a8a9aaabacadaeaf -kdfopt iter:1024 PBKDF2
 * python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('sha1', b'correct horse battery staple', bytes(range(0xa0, 0xb0)), 1024, 16).hex())" */
static const uint8_t KDF_KEY[16] = {
    0x69, 0x78, 0xee, 0xa2, 0xd5, 0xce, 0x7d, 0x42, 0xcd, 0x0d, 0xc3, 0x8a, 0x38, 0x5a, 0xd1, 0x42,
};

/* python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('sha1', b'password', b'salt', 4096, 20).hex())" */
static const uint8_t RFC6070[20] = {
    0x4b, 0x00, 0x79, 0x01, 0xb7, 0x65, 0x48, 0x9a, 0xbe, 0xad, 0x49, 0xd9, 0x26, 0xf7, 0x21, 0xd0,
    0x65, 0xa4, 0x29, 0xc1,
};

static const uint8_t RFC6070_1[20] = {
    0x0c, 0x60, 0xc8, 0x0f, 0x96, 0x1f, 0x0e, 0x71, 0xf3, 0xa9, 0xb5, 0x24, 0xaf, 0x60, 0x12, 0x06,
    0x2f, 0xe0, 0x37, 0xa6,
};

/* echo -n 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f | xxd -r -p | openssl enc -aes-128-cbc -nopad -K 6978eea2d5ce7d42cd0dc38a385ad142 -iv 00000000000000000000000000000000 | xxd -p -c 1000 */
static const uint8_t TOKEN[64] = {
    0x0f, 0x6e, 0xfc, 0xe7, 0x64, 0x4a, 0x82, 0x62, 0x11, 0xb1, 0x87, 0x4d, 0x35, 0xba, 0xc0, 0x5e,
    0x47, 0x76, 0x5d, 0xb8, 0x24, 0xfb, 0x43, 0xb1, 0x94, 0x08, 0xee, 0xc8, 0xcf, 0xbe, 0x27, 0xcf,
    0xb3, 0x54, 0x88, 0x34, 0xce, 0x61, 0x80, 0xf9, 0xe4, 0x20, 0x7d, 0x8d, 0x65, 0x2e, 0xa6, 0xef,
    0x20, 0x41, 0x1b, 0x75, 0x31, 0xd2, 0xea, 0xf2, 0x55, 0x25, 0xac, 0xbe, 0x8e, 0xf2, 0x56, 0x0e,
};

/* M1: a Request-TW-Session (RFC 5357 §3.5) plaintext: command 5, IPv4, ports
 * 20000/20001, 127.0.0.1 both ends, padding 27, start time, timeout 2 s; HMAC
 * field (96..111) zero before sealing. */
static const uint8_t M1[112] = {
    0x05, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x20, 0x4e, 0x21,
    0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x1b, 0xe1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* M2: Start-Sessions (command 2), HMAC field zero. */
static const uint8_t M2[32] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* echo -n 0504000000000000000000004e204e217f0000010000000000000000000000007f000001000000000000000000000000000000000000000000000000000000000000001be123456789abcdef0000000200000000000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f */
static const uint8_t M1_HMAC[16] = {
    0x81, 0x52, 0xe9, 0x23, 0xbd, 0x3a, 0xc0, 0xef, 0xc1, 0x6b, 0x9b, 0x54, 0xe4, 0x1f, 0xb3, 0x45,
};

/* echo -n 02000000000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f */
static const uint8_t M2_HMAC[16] = {
    0x28, 0x1f, 0xc9, 0xa2, 0x39, 0x39, 0xa4, 0xf7, 0x30, 0xfb, 0xf9, 0xf8, 0x54, 0x13, 0x61, 0xa8,
};

/* echo -n 0504000000000000000000004e204e217f0000010000000000000000000000007f000001000000000000000000000000000000000000000000000000000000000000001be123456789abcdef00000002000000000000000000000000000000008152e923bd3ac0efc16b9b54e41fb34502000000000000000000000000000000281fc9a23939a4f730fbf9f8541361a8 | xxd -r -p | openssl enc -aes-128-cbc -nopad -K 202122232425262728292a2b2c2d2e2f -iv 606162636465666768696a6b6c6d6e6f | xxd -p -c 1000 */
static const uint8_t CLIENT_WIRE[144] = {
    0xb8, 0x24, 0xe3, 0x01, 0x4e, 0x95, 0x55, 0xac, 0x55, 0x4c, 0x4e, 0x3a, 0xf5, 0xc7, 0x5b, 0x45,
    0x4a, 0x0b, 0x2a, 0x37, 0x2a, 0x55, 0x2f, 0xf5, 0x99, 0xd4, 0x06, 0x1b, 0xd5, 0x18, 0x26, 0x8b,
    0xfd, 0xf7, 0xb8, 0xdb, 0x98, 0x92, 0x3c, 0x85, 0xc3, 0x64, 0x8e, 0xb9, 0x6b, 0x9c, 0xb4, 0xe5,
    0x4f, 0xe8, 0xf7, 0xef, 0x7a, 0xa0, 0x32, 0x8e, 0x21, 0xcb, 0xd7, 0xde, 0x6b, 0x89, 0x7c, 0xd4,
    0x9e, 0x29, 0x8b, 0xf0, 0x39, 0x6e, 0xb3, 0xd6, 0x45, 0x0f, 0xc4, 0xac, 0x79, 0x1a, 0x7a, 0x94,
    0x0e, 0x8c, 0x93, 0x1f, 0xd7, 0xee, 0x83, 0x80, 0x27, 0x99, 0xef, 0xe2, 0x2e, 0x4d, 0x1e, 0x35,
    0xa1, 0x5e, 0xe7, 0xf3, 0x45, 0x4e, 0x69, 0x1a, 0x8a, 0x4d, 0x54, 0x7d, 0x72, 0x09, 0x71, 0x45,
    0xea, 0x17, 0x57, 0x1e, 0x9b, 0xd9, 0xdb, 0x2b, 0xb4, 0x2e, 0x1a, 0x53, 0x64, 0x0c, 0x88, 0x01,
    0x90, 0x8e, 0x22, 0x8f, 0x4d, 0x1b, 0xa0, 0x0c, 0x3e, 0x84, 0x8b, 0xb0, 0x7e, 0x57, 0xdb, 0x9f,
};

/* Server-Start octets 32..47: Start-Time e1234500.00000000, MBZ. */
static const uint8_t SS_TAIL[16] = {
    0xe1, 0x23, 0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Accept-Session: Accept 0, port 20002, SID c0..cf, HMAC field zero. */
static const uint8_t ACCEPT[48] = {
    0x00, 0x00, 0x4e, 0x22, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
    0xcc, 0xcd, 0xce, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Start-Ack: Accept 0, HMAC field zero. */
static const uint8_t ACK[32] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* echo -n e123450000000000000000000000000000004e22c0c1c2c3c4c5c6c7c8c9cacbcccdcecf000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f */
static const uint8_t ACCEPT_HMAC[16] = {
    0x89, 0x53, 0x38, 0x2e, 0xdb, 0x37, 0x7d, 0x57, 0xb0, 0x96, 0x38, 0xe3, 0x65, 0x85, 0x37, 0x35,
};

/* echo -n 00000000000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f */
static const uint8_t ACK_HMAC[16] = {
    0xb4, 0x98, 0x99, 0x64, 0x05, 0x8c, 0x1e, 0x70, 0x84, 0x82, 0x46, 0xc2, 0x7e, 0x95, 0xac, 0xa2,
};

/* echo -n e123450000000000000000000000000000004e22c0c1c2c3c4c5c6c7c8c9cacbcccdcecf0000000000000000000000008953382edb377d57b09638e36585373500000000000000000000000000000000b4989964058c1e70848246c27e95aca2 | xxd -r -p | openssl enc -aes-128-cbc -nopad -K 202122232425262728292a2b2c2d2e2f -iv 707172737475767778797a7b7c7d7e7f | xxd -p -c 1000 */
static const uint8_t SERVER_WIRE[96] = {
    0x50, 0xed, 0xad, 0x48, 0xdd, 0xd6, 0xf0, 0x93, 0x1f, 0x04, 0x22, 0xa2, 0xed, 0xe0, 0x6c, 0xda,
    0xf8, 0x4d, 0xf2, 0x1a, 0xa3, 0xc7, 0xe2, 0x7a, 0x67, 0x0a, 0x49, 0x84, 0xf3, 0xb9, 0xd6, 0xf7,
    0x72, 0x86, 0x7f, 0xdf, 0x70, 0x99, 0xd9, 0x8c, 0x94, 0x4b, 0xe2, 0x0a, 0x98, 0xba, 0x10, 0xc8,
    0xfb, 0xbc, 0x60, 0x5a, 0xc5, 0x46, 0xb1, 0xc5, 0xd5, 0x74, 0x56, 0x31, 0x47, 0xc2, 0x14, 0x55,
    0xb8, 0x0e, 0x88, 0xa8, 0xf9, 0xe9, 0x4f, 0x93, 0xe6, 0x05, 0xe4, 0x05, 0x1f, 0xa5, 0x72, 0x33,
    0x3c, 0x7a, 0x66, 0xd9, 0xd8, 0x20, 0xd2, 0xb5, 0x41, 0xa5, 0xfc, 0xf1, 0x36, 0x76, 0x5b, 0x1f,
};

/* echo -n 202122232425262728292a2b2c2d2e2f | xxd -r -p | openssl enc -aes-128-ecb -nopad -K c0c1c2c3c4c5c6c7c8c9cacbcccdcecf | xxd -p -c 1000 */
/* Test-session AES key (RFC 4656 §4.1.2): AES-ECB with the SID as key, of
 * the AES Session-key. */
static const uint8_t TEST_AES[16] = {
    0xf6, 0xba, 0x1d, 0x5e, 0x95, 0x47, 0xb7, 0xc1, 0x26, 0xf3, 0xb4, 0x01, 0x3a, 0x30, 0x8d, 0x1f,
};

/* echo -n 303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f | xxd -r -p | openssl enc -aes-128-cbc -nopad -K c0c1c2c3c4c5c6c7c8c9cacbcccdcecf -iv 00000000000000000000000000000000 | xxd -p -c 1000 */
/* Test-session HMAC key: AES-CBC, IV zero, SID as key, of the HMAC Session-key. */
static const uint8_t TEST_HMAC[32] = {
    0x69, 0x5f, 0xd5, 0x14, 0x8d, 0x91, 0xff, 0x96, 0xab, 0x6f, 0x81, 0x3c, 0x77, 0xdb, 0x1e, 0x3e,
    0xfc, 0xc2, 0xa9, 0x10, 0xe4, 0x45, 0xb4, 0x35, 0x36, 0x7e, 0xc0, 0x53, 0x35, 0xd0, 0x35, 0x80,
};

/* A 48-octet authenticated/encrypted sender packet plus 16 octets of padding
 * (aa): Sequence Number 7, Timestamp e1234567.80000000, Error Estimate 8001,
 * HMAC field zero. */
static const uint8_t SENDER_PT[64] = {
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};

/* echo -n 00000007000000000000000000000000 | xxd -r -p | openssl enc -aes-128-ecb -nopad -K f6ba1d5e9547b7c126f3b4013a308d1f | xxd -p -c 1000
 * echo -n 00000007000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:695fd5148d91ff96ab6f813c77db1e3efcc2a910e445b435367ec05335d03580 */
static const uint8_t SENDER_AUTH[64] = {
    0x80, 0x94, 0x33, 0x42, 0xf4, 0xb1, 0xae, 0x31, 0x47, 0x51, 0x56, 0x3b, 0xe6, 0xeb, 0xdf, 0x33,
    0xe1, 0x23, 0x45, 0x67, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0x6f, 0xa5, 0x0c, 0x81, 0xd3, 0x1f, 0x39, 0xcb, 0xdd, 0xa5, 0x09, 0x74, 0x0d, 0xee, 0xf3,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};

/* echo -n 00000007000000000000000000000000e1234567800000008001000000000000 | xxd -r -p | openssl enc -aes-128-cbc -nopad -K f6ba1d5e9547b7c126f3b4013a308d1f -iv 00000000000000000000000000000000 | xxd -p -c 1000
 * echo -n 00000007000000000000000000000000e1234567800000008001000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:695fd5148d91ff96ab6f813c77db1e3efcc2a910e445b435367ec05335d03580 */
static const uint8_t SENDER_ENC[64] = {
    0x80, 0x94, 0x33, 0x42, 0xf4, 0xb1, 0xae, 0x31, 0x47, 0x51, 0x56, 0x3b, 0xe6, 0xeb, 0xdf, 0x33,
    0x8d, 0xcc, 0x86, 0x0e, 0xab, 0x08, 0xe7, 0xd6, 0x78, 0x6c, 0x06, 0xca, 0xa8, 0x95, 0x60, 0xdb,
    0x36, 0x9b, 0x28, 0xb9, 0x7d, 0x15, 0x3a, 0xb2, 0x64, 0xa9, 0xdc, 0x89, 0x0d, 0x40, 0x7e, 0xfd,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};

/* A 112-octet reflector packet plus 8 octets of padding (55): Sequence
 * Number 3, Timestamp e1234568.00000000, Error Estimate 8001, Receive
 * Timestamp e1234567.c0000000, Sender Sequence Number 7, Sender Timestamp
 * e1234567.80000000, Sender Error Estimate 8001, Sender TTL 255, HMAC zero. */
static const uint8_t REFL_PT[120] = {
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x68, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

/* echo -n 00000003000000000000000000000000 | xxd -r -p | openssl enc -aes-128-ecb -nopad -K f6ba1d5e9547b7c126f3b4013a308d1f | xxd -p -c 1000
 * echo -n 00000003000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:695fd5148d91ff96ab6f813c77db1e3efcc2a910e445b435367ec05335d03580 */
static const uint8_t REFL_AUTH[120] = {
    0x22, 0x55, 0xd1, 0x67, 0x1e, 0x48, 0x2e, 0x6b, 0xd4, 0xc2, 0x1d, 0x27, 0x7f, 0xe6, 0xed, 0x13,
    0xe1, 0x23, 0x45, 0x68, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xec, 0x8d, 0xdd, 0xf2, 0x6d, 0x1a, 0x49, 0x5c, 0x90, 0x3a, 0x70, 0xb0, 0xc2, 0x6d, 0x17, 0xf8,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

/* echo -n 00000003000000000000000000000000e1234568000000008001000000000000e1234567c0000000000000000000000000000007000000000000000000000000e1234567800000008001000000000000ff000000000000000000000000000000 | xxd -r -p | openssl enc -aes-128-cbc -nopad -K f6ba1d5e9547b7c126f3b4013a308d1f -iv 00000000000000000000000000000000 | xxd -p -c 1000
 * echo -n 00000003000000000000000000000000e1234568000000008001000000000000e1234567c0000000000000000000000000000007000000000000000000000000e1234567800000008001000000000000ff000000000000000000000000000000 | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:695fd5148d91ff96ab6f813c77db1e3efcc2a910e445b435367ec05335d03580 */
static const uint8_t REFL_ENC[120] = {
    0x22, 0x55, 0xd1, 0x67, 0x1e, 0x48, 0x2e, 0x6b, 0xd4, 0xc2, 0x1d, 0x27, 0x7f, 0xe6, 0xed, 0x13,
    0xb3, 0x4c, 0xee, 0x76, 0x75, 0x14, 0xad, 0x9c, 0x88, 0x5f, 0x47, 0xd9, 0x55, 0xb6, 0xae, 0x5c,
    0xf0, 0xd3, 0xaf, 0x17, 0xd0, 0xc1, 0x21, 0x98, 0xba, 0x28, 0x2e, 0xf1, 0xa2, 0x9e, 0x4a, 0xfa,
    0x1a, 0x2b, 0x2c, 0x1d, 0xe1, 0x54, 0x97, 0xb1, 0xf4, 0xfe, 0xa7, 0xb1, 0x80, 0x17, 0x38, 0x0a,
    0xe9, 0x9e, 0x27, 0x5d, 0x22, 0xf1, 0xac, 0xd0, 0x3c, 0xae, 0x69, 0x98, 0xf2, 0x7d, 0x26, 0x14,
    0x04, 0xab, 0x26, 0x43, 0x7c, 0xe9, 0x6b, 0x44, 0x95, 0xae, 0xb4, 0x2c, 0xeb, 0xed, 0x13, 0xa2,
    0x1e, 0x23, 0xdd, 0xa7, 0xb3, 0x74, 0xa9, 0xd1, 0x01, 0x08, 0x5b, 0x72, 0x41, 0xe4, 0x8e, 0x5a,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

/* A 112-octet authenticated STAMP sender packet: Sequence Number 42,
 * Timestamp e1234567.80000000, Error Estimate 8001, SSID 0x1234, HMAC zero. */
static const uint8_t STAMP_PT[112] = {
    0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe1, 0x23, 0x45, 0x67, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x12, 0x34, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* echo -n 0000002a000000000000000000000000e123456780000000800112340000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt hexkey:7374616d702073686172656420736563726574
 * echo -n 0000002a000000000000000000000000e123456780000000800112340000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 | xxd -r -p | openssl mac -digest SHA256 -macopt hexkey:7374616d702073686172656420736563726574 HMAC */
static const uint8_t STAMP_HMAC[16] = {
    0x59, 0xa4, 0x56, 0x05, 0x92, 0x38, 0x91, 0x26, 0xf1, 0x67, 0x4d, 0x45, 0xe9, 0x14, 0x80, 0xa4,
};

/* The full 20-octet HMAC-SHA1 of M1[0..96) with the HMAC Session-key, of which
 * the control HMAC field carries the first 16 octets (RFC 4656 §3.2):
 * echo -n <M1[0..96) in hex> | xxd -r -p | openssl dgst -sha1 -mac HMAC -macopt hexkey:303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f */
static const uint8_t M1_HMAC_FULL[20] = {
    0x81, 0x52, 0xe9, 0x23, 0xbd, 0x3a, 0xc0, 0xef, 0xc1, 0x6b, 0x9b, 0x54, 0xe4, 0x1f, 0xb3, 0x45,
    0x94, 0x51, 0xf7, 0x92,
};
/* clang-format on */

/* ---- PBKDF2 and the KDF ---- */

static void test_pbkdf2_rfc6070(void **state)
{
    (void)state;
    uint8_t out[20];
    /* RFC 6070 test cases 1 and 3: P = "password", S = "salt", dkLen = 20. */
    assert_int_equal(tw_pbkdf2_sha1((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 1,
                                    out, sizeof(out)),
                     TW_AUTH_OK);
    assert_memory_equal(out, RFC6070_1, 20);
    assert_int_equal(tw_pbkdf2_sha1((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4,
                                    4096, out, sizeof(out)),
                     TW_AUTH_OK);
    assert_memory_equal(out, RFC6070, 20);
    /* dkLen 16 is the first 16 octets of the same derivation. */
    assert_int_equal(
        tw_pbkdf2_sha1((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 4096, out, 16),
        TW_AUTH_OK);
    assert_memory_equal(out, RFC6070, 16);
    assert_int_equal(
        tw_pbkdf2_sha1((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 0, out, 16),
        TW_AUTH_EINVAL);
    assert_int_equal(tw_pbkdf2_sha1(NULL, 8, (const uint8_t *)"salt", 4, 1, out, 16),
                     TW_AUTH_EINVAL);
    assert_int_equal(
        tw_pbkdf2_sha1((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 1, out, 0),
        TW_AUTH_EINVAL);
}

static void test_kdf_count_1024(void **state)
{
    (void)state;
    tw_secret_t sec = secret_of(PASSPHRASE);
    uint8_t key[16];
    assert_int_equal(tw_kdf(&sec, SALT, 1024, TW_KDF_COUNT_CEILING_DEFAULT, key), TW_AUTH_OK);
    assert_memory_equal(key, KDF_KEY, 16);
    /* A server checks its own Count against itself. */
    assert_int_equal(tw_kdf(&sec, SALT, 1024, 1024, key), TW_AUTH_OK);
    assert_memory_equal(key, KDF_KEY, 16);
    tw_secret_cleanse(&sec);
    assert_int_equal(sec.len, 0);
    for (size_t i = 0; i < sizeof(sec.bytes); i++)
        assert_int_equal(sec.bytes[i], 0);
}

static void test_kdf_count_refused(void **state)
{
    (void)state;
    tw_secret_t sec = secret_of(PASSPHRASE);
    uint8_t key[16];
    memset(key, 0xEE, sizeof(key));
    /* Above the client's ceiling: refused at once, not computed (2^32-1
     * iterations would take hours). */
    assert_int_equal(tw_kdf(&sec, SALT, UINT32_MAX, TW_KDF_COUNT_CEILING_DEFAULT, key),
                     TW_AUTH_ECOUNT);
    assert_int_equal(tw_kdf(&sec, SALT, 2049, 2048, key), TW_AUTH_ECOUNT);
    /* Below the RFC 4656 minimum of 1024. */
    assert_int_equal(tw_kdf(&sec, SALT, 1023, TW_KDF_COUNT_CEILING_DEFAULT, key), TW_AUTH_ECOUNT);
    assert_int_equal(tw_kdf(&sec, SALT, 0, TW_KDF_COUNT_CEILING_DEFAULT, key), TW_AUTH_ECOUNT);
    for (size_t i = 0; i < sizeof(key); i++)
        assert_int_equal(key[i], 0xEE);
    /* No secret. */
    tw_secret_t empty;
    memset(&empty, 0, sizeof(empty));
    assert_int_equal(tw_kdf(&empty, SALT, 1024, 2048, key), TW_AUTH_EINVAL);
    assert_int_equal(tw_kdf(NULL, SALT, 1024, 2048, key), TW_AUTH_EINVAL);
    assert_int_equal(tw_kdf(&sec, NULL, 1024, 2048, key), TW_AUTH_EINVAL);
}

/* ---- Token ---- */

static void test_token_vector(void **state)
{
    (void)state;
    uint8_t token[64], aes[16], hmac[32];
    assert_int_equal(tw_token_make(KDF_KEY, CHALLENGE, AES_KEY, HMAC_KEY, token), TW_AUTH_OK);
    assert_memory_equal(token, TOKEN, 64);
    assert_int_equal(tw_token_open(KDF_KEY, TOKEN, CHALLENGE, aes, hmac), TW_AUTH_OK);
    assert_memory_equal(aes, AES_KEY, 16);
    assert_memory_equal(hmac, HMAC_KEY, 32);
}

static void test_token_wrong_passphrase(void **state)
{
    (void)state;
    tw_secret_t sec = secret_of("Correct horse battery staple");
    uint8_t key[16], aes[16], hmac[32], zero[32];
    memset(zero, 0, sizeof(zero));
    assert_int_equal(tw_kdf(&sec, SALT, 1024, 1024, key), TW_AUTH_OK);
    memset(aes, 0xEE, sizeof(aes));
    memset(hmac, 0xEE, sizeof(hmac));
    assert_int_equal(tw_token_open(key, TOKEN, CHALLENGE, aes, hmac), TW_AUTH_ECHALLENGE);
    assert_memory_equal(aes, zero, 16);
    assert_memory_equal(hmac, zero, 32);

    /* The right key but another Challenge (a replayed Token). */
    uint8_t other[16];
    memcpy(other, CHALLENGE, 16);
    other[15] ^= 1;
    assert_int_equal(tw_token_open(KDF_KEY, TOKEN, other, aes, hmac), TW_AUTH_ECHALLENGE);
    assert_memory_equal(aes, zero, 16);

    /* A bit flipped in the Token's first block garbles the Challenge. */
    uint8_t bad[64];
    memcpy(bad, TOKEN, 64);
    bad[3] ^= 0x10;
    assert_int_equal(tw_token_open(KDF_KEY, bad, CHALLENGE, aes, hmac), TW_AUTH_ECHALLENGE);
    assert_int_equal(tw_token_open(NULL, TOKEN, CHALLENGE, aes, hmac), TW_AUTH_EINVAL);
}

static void test_token_round_trip(void **state)
{
    (void)state;
    uint8_t key[16], ch[16], aes[16], hmac[32], token[64], aes2[16], hmac2[32];
    for (int round = 0; round < 8; round++) {
        assert_int_equal(tw_auth_random(key, sizeof(key)), TW_AUTH_OK);
        assert_int_equal(tw_auth_random(ch, sizeof(ch)), TW_AUTH_OK);
        assert_int_equal(tw_auth_random(aes, sizeof(aes)), TW_AUTH_OK);
        assert_int_equal(tw_auth_random(hmac, sizeof(hmac)), TW_AUTH_OK);
        assert_int_equal(tw_token_make(key, ch, aes, hmac, token), TW_AUTH_OK);
        assert_int_equal(tw_token_open(key, token, ch, aes2, hmac2), TW_AUTH_OK);
        assert_memory_equal(aes2, aes, 16);
        assert_memory_equal(hmac2, hmac, 32);
    }
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32], zero[32];
    memset(zero, 0, sizeof(zero));
    assert_int_equal(tw_auth_random(a, sizeof(a)), TW_AUTH_OK);
    assert_int_equal(tw_auth_random(b, sizeof(b)), TW_AUTH_OK);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(tw_auth_random(a, 0), TW_AUTH_OK);
    assert_int_equal(tw_auth_random(NULL, 4), TW_AUTH_EINVAL);
}

/* ---- The control stream ---- */

static void ctrl_pair(tw_ctrl_crypto_t *client, tw_ctrl_crypto_t *server)
{
    assert_int_equal(tw_ctrl_crypto_init(client, AES_KEY, HMAC_KEY, CLIENT_IV, SERVER_IV),
                     TW_AUTH_OK);
    assert_int_equal(tw_ctrl_crypto_init(server, AES_KEY, HMAC_KEY, SERVER_IV, CLIENT_IV),
                     TW_AUTH_OK);
}

/* Client to server: Request-TW-Session then Start-Sessions on one CBC chain
 * from Client-IV, each with its own HMAC. */
static void test_ctrl_client_stream(void **state)
{
    (void)state;
    tw_ctrl_crypto_t client, server;
    ctrl_pair(&client, &server);

    uint8_t wire[144];
    memcpy(wire, M1, 112);
    memcpy(wire + 112, M2, 32);
    assert_int_equal(tw_ctrl_seal(&client, wire, 112), TW_AUTH_OK);
    assert_int_equal(tw_ctrl_seal(&client, wire + 112, 32), TW_AUTH_OK);
    assert_memory_equal(wire, CLIENT_WIRE, 144);

    /* The server decrypts the first block to learn the command, then the
     * rest, and verifies before using anything. */
    assert_int_equal(tw_ctrl_decrypt(&server, wire, 16), TW_AUTH_OK);
    assert_int_equal(wire[0], TW_CMD_REQUEST_TW_SESSION);
    assert_int_equal(tw_ctrl_open(&server, wire, 112, 16), TW_AUTH_OK);
    assert_memory_equal(wire, M1, 96);
    assert_memory_equal(wire + 96, M1_HMAC, 16);
    assert_int_equal(tw_ctrl_open(&server, wire + 112, 32, 0), TW_AUTH_OK);
    assert_memory_equal(wire + 112, M2, 16);
    assert_memory_equal(wire + 128, M2_HMAC, 16);

    tw_ctrl_crypto_free(&client);
    tw_ctrl_crypto_free(&server);
}

/* Server to client: Server-Start octets 32..47, Accept-Session, Start-Ack on
 * one CBC chain from Server-IV; the first HMAC (Accept-Session's) also covers
 * the Server-Start block. */
static void test_ctrl_server_stream(void **state)
{
    (void)state;
    tw_ctrl_crypto_t client, server;
    ctrl_pair(&client, &server);

    uint8_t wire[96];
    memcpy(wire, SS_TAIL, 16);
    memcpy(wire + 16, ACCEPT, 48);
    memcpy(wire + 64, ACK, 32);
    assert_int_equal(tw_ctrl_seal_partial(&server, wire, 16), TW_AUTH_OK);
    assert_int_equal(tw_ctrl_seal(&server, wire + 16, 48), TW_AUTH_OK);
    assert_int_equal(tw_ctrl_seal(&server, wire + 64, 32), TW_AUTH_OK);
    assert_memory_equal(wire, SERVER_WIRE, 96);

    assert_int_equal(tw_ctrl_open_partial(&client, wire, 16), TW_AUTH_OK);
    assert_memory_equal(wire, SS_TAIL, 16);
    assert_int_equal(tw_ctrl_open(&client, wire + 16, 48, 0), TW_AUTH_OK);
    assert_memory_equal(wire + 16, ACCEPT, 32);
    assert_memory_equal(wire + 48, ACCEPT_HMAC, 16);
    assert_int_equal(tw_ctrl_open(&client, wire + 64, 32, 0), TW_AUTH_OK);
    assert_memory_equal(wire + 80, ACK_HMAC, 16);

    tw_ctrl_crypto_free(&client);
    tw_ctrl_crypto_free(&server);
}

/* The HMAC field holds exactly the first 16 octets of HMAC-SHA1 and nothing is
 * written past the message. */
static void test_ctrl_hmac_truncation(void **state)
{
    (void)state;
    tw_ctrl_crypto_t client, server;
    ctrl_pair(&client, &server);
    uint8_t buf[112 + 8];
    memcpy(buf, M1, 112);
    memset(buf + 112, 0xEE, 8);
    assert_int_equal(tw_ctrl_seal(&client, buf, 112), TW_AUTH_OK);
    for (size_t i = 112; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);
    assert_int_equal(tw_ctrl_open(&server, buf, 112, 0), TW_AUTH_OK);
    assert_memory_equal(buf + 96, M1_HMAC_FULL, 16);
    assert_memory_equal(M1_HMAC, M1_HMAC_FULL, 16);
    tw_ctrl_crypto_free(&client);
    tw_ctrl_crypto_free(&server);
}

static void ctrl_flip_case(size_t flip_at)
{
    tw_ctrl_crypto_t client, server;
    ctrl_pair(&client, &server);
    uint8_t wire[64];
    memcpy(wire, SERVER_WIRE, 64); /* Server-Start tail + Accept-Session */
    wire[flip_at] ^= 0x01;
    assert_int_equal(tw_ctrl_open_partial(&client, wire, 16), TW_AUTH_OK);
    assert_int_equal(tw_ctrl_open(&client, wire + 16, 48, 0), TW_AUTH_EINTEGRITY);
    for (size_t i = 16; i < 64; i++)
        assert_int_equal(wire[i], 0); /* nothing left to act upon */
    tw_ctrl_crypto_free(&client);
    tw_ctrl_crypto_free(&server);
}

static void test_ctrl_flipped_bit(void **state)
{
    (void)state;
    /* In the Server-Start block (covered by Accept-Session's HMAC), in the
     * Accept field's block, in the block before the HMAC, in the HMAC. */
    ctrl_flip_case(5);
    ctrl_flip_case(16);
    ctrl_flip_case(40);
    ctrl_flip_case(63);
    /* A receiver that left the Server-Start block out of the HMAC fails even
     * on an unaltered stream. */
    {
        tw_ctrl_crypto_t client, server;
        ctrl_pair(&client, &server);
        uint8_t wire[64];
        memcpy(wire, SERVER_WIRE, 64);
        assert_int_equal(tw_ctrl_decrypt(&client, wire, 16), TW_AUTH_OK);
        assert_memory_equal(wire, SS_TAIL, 16);
        assert_int_equal(tw_ctrl_open(&client, wire + 16, 48, 0), TW_AUTH_EINTEGRITY);
        tw_ctrl_crypto_free(&client);
        tw_ctrl_crypto_free(&server);
    }

    /* A flipped bit in a client command, found after the first block was
     * decrypted for its command octet. */
    tw_ctrl_crypto_t client, server;
    ctrl_pair(&client, &server);
    uint8_t wire[112];
    memcpy(wire, CLIENT_WIRE, 112);
    wire[100] ^= 0x80;
    assert_int_equal(tw_ctrl_decrypt(&server, wire, 16), TW_AUTH_OK);
    assert_int_equal(tw_ctrl_open(&server, wire, 112, 16), TW_AUTH_EINTEGRITY);
    tw_ctrl_crypto_free(&client);
    tw_ctrl_crypto_free(&server);

    /* The wrong HMAC Session-key. */
    uint8_t other[32];
    memcpy(other, HMAC_KEY, 32);
    other[0] ^= 1;
    assert_int_equal(tw_ctrl_crypto_init(&server, AES_KEY, other, SERVER_IV, CLIENT_IV),
                     TW_AUTH_OK);
    memcpy(wire, CLIENT_WIRE, 112);
    assert_int_equal(tw_ctrl_open(&server, wire, 112, 0), TW_AUTH_EINTEGRITY);
    tw_ctrl_crypto_free(&server);

    /* The wrong Client-IV garbles the first block only, which the HMAC covers. */
    uint8_t iv[16];
    memcpy(iv, CLIENT_IV, 16);
    iv[7] ^= 4;
    assert_int_equal(tw_ctrl_crypto_init(&server, AES_KEY, HMAC_KEY, SERVER_IV, iv), TW_AUTH_OK);
    memcpy(wire, CLIENT_WIRE, 112);
    assert_int_equal(tw_ctrl_open(&server, wire, 112, 0), TW_AUTH_EINTEGRITY);
    tw_ctrl_crypto_free(&server);
}

static void test_ctrl_args(void **state)
{
    (void)state;
    tw_ctrl_crypto_t c;
    memset(&c, 0, sizeof(c));
    uint8_t buf[64];
    memset(buf, 0, sizeof(buf));
    /* Not initialised. */
    assert_int_equal(tw_ctrl_seal(&c, buf, 32), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_open(&c, buf, 32, 0), TW_AUTH_EINVAL);
    tw_ctrl_crypto_free(&c);
    tw_ctrl_crypto_free(NULL);
    assert_int_equal(tw_ctrl_crypto_init(&c, NULL, HMAC_KEY, CLIENT_IV, SERVER_IV), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_crypto_init(&c, AES_KEY, HMAC_KEY, CLIENT_IV, SERVER_IV), TW_AUTH_OK);
    /* Lengths: whole messages are >= 32 and a multiple of 16. */
    assert_int_equal(tw_ctrl_seal(&c, buf, 16), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_seal(&c, buf, 40), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_seal(&c, NULL, 32), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_seal_partial(&c, buf, 0), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_seal_partial(&c, buf, 8), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_decrypt(&c, buf, 15), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_open(&c, buf, 48, 8), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_open(&c, buf, 48, 64), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_open(&c, buf, 24, 0), TW_AUTH_EINVAL);
    assert_int_equal(tw_ctrl_open_partial(&c, buf, 17), TW_AUTH_EINVAL);
    /* The Session-keys are kept for the test-session keys, and cleansed. */
    assert_memory_equal(c.aes_key, AES_KEY, 16);
    assert_memory_equal(c.hmac_key, HMAC_KEY, 32);
    tw_ctrl_crypto_free(&c);
    assert_null(c.enc);
    for (size_t i = 0; i < sizeof(c.hmac_key); i++)
        assert_int_equal(c.hmac_key[i], 0);
    tw_ctrl_crypto_free(&c); /* twice is harmless */
}

/* ---- TWAMP-Test packets ---- */

static void test_test_keys(void **state)
{
    (void)state;
    uint8_t aes[16], hmac[32];
    assert_int_equal(tw_test_keys_derive(AES_KEY, HMAC_KEY, SID, aes, hmac), TW_AUTH_OK);
    assert_memory_equal(aes, TEST_AES, 16);
    assert_memory_equal(hmac, TEST_HMAC, 32);
    assert_int_equal(tw_test_keys_derive(AES_KEY, HMAC_KEY, NULL, aes, hmac), TW_AUTH_EINVAL);
}

static void test_crypto(tw_test_crypto_t *t)
{
    assert_int_equal(tw_test_crypto_init(t, AES_KEY, HMAC_KEY, SID), TW_AUTH_OK);
}

typedef int (*pkt_fn)(tw_test_crypto_t *, uint32_t, uint8_t *, size_t);

/* Protect the plaintext pt into exactly want, then open it back: the covered
 * octets return to plaintext, the HMAC field keeps the HMAC, the rest is as
 * sent. */
static void pkt_vector(pkt_fn protect, pkt_fn open, uint32_t mode, const uint8_t *pt,
                       const uint8_t *want, size_t len, size_t hmac_off)
{
    tw_test_crypto_t tx, rx;
    test_crypto(&tx);
    test_crypto(&rx);
    uint8_t buf[128];
    assert_true(len <= sizeof(buf));
    memcpy(buf, pt, len);
    assert_int_equal(protect(&tx, mode, buf, len), TW_AUTH_OK);
    assert_memory_equal(buf, want, len);
    /* Twice: no state carries from one packet to the next. */
    memcpy(buf, pt, len);
    assert_int_equal(protect(&tx, mode, buf, len), TW_AUTH_OK);
    assert_memory_equal(buf, want, len);

    for (int i = 0; i < 2; i++) {
        memcpy(buf, want, len);
        assert_int_equal(open(&rx, mode, buf, len), TW_AUTH_OK);
        assert_memory_equal(buf, pt, hmac_off);
        assert_memory_equal(buf + hmac_off, want + hmac_off, 16);
        assert_memory_equal(buf + hmac_off + 16, pt + hmac_off + 16, len - hmac_off - 16);
    }
    tw_test_crypto_free(&tx);
    tw_test_crypto_free(&rx);
}

static void test_sender_authenticated(void **state)
{
    (void)state;
    pkt_vector(tw_test_sender_protect, tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_PT,
               SENDER_AUTH, sizeof(SENDER_PT), 32);
}

static void test_sender_encrypted(void **state)
{
    (void)state;
    pkt_vector(tw_test_sender_protect, tw_test_sender_open, TW_MODE_ENCRYPTED, SENDER_PT,
               SENDER_ENC, sizeof(SENDER_PT), 32);
}

static void test_reflector_authenticated(void **state)
{
    (void)state;
    pkt_vector(tw_test_reflector_protect, tw_test_reflector_open, TW_MODE_AUTHENTICATED, REFL_PT,
               REFL_AUTH, sizeof(REFL_PT), 96);
}

static void test_reflector_encrypted(void **state)
{
    (void)state;
    pkt_vector(tw_test_reflector_protect, tw_test_reflector_open, TW_MODE_ENCRYPTED, REFL_PT,
               REFL_ENC, sizeof(REFL_PT), 96);
}

/* Minimal formats (no padding) protect the same way. */
static void test_packet_minimal_lengths(void **state)
{
    (void)state;
    tw_test_crypto_t t;
    test_crypto(&t);
    uint8_t buf[112];
    memcpy(buf, SENDER_PT, 48);
    assert_int_equal(tw_test_sender_protect(&t, TW_MODE_ENCRYPTED, buf, 48), TW_AUTH_OK);
    assert_memory_equal(buf, SENDER_ENC, 48);
    memcpy(buf, REFL_PT, 112);
    assert_int_equal(tw_test_reflector_protect(&t, TW_MODE_AUTHENTICATED, buf, 112), TW_AUTH_OK);
    assert_memory_equal(buf, REFL_AUTH, 112);
    assert_int_equal(tw_test_reflector_open(&t, TW_MODE_AUTHENTICATED, buf, 112), TW_AUTH_OK);
    assert_memory_equal(buf, REFL_PT, 96);
    tw_test_crypto_free(&t);
}

/* Flip one bit at off of the protected packet want; expect rc from open, and
 * on failure the packet exactly as received. */
static void pkt_flip(pkt_fn open, uint32_t mode, const uint8_t *want, size_t len, size_t off,
                     int rc)
{
    tw_test_crypto_t t;
    test_crypto(&t);
    uint8_t buf[128], copy[128];
    memcpy(buf, want, len);
    buf[off] ^= 0x04;
    memcpy(copy, buf, len);
    assert_int_equal(open(&t, mode, buf, len), rc);
    if (rc != TW_AUTH_OK)
        assert_memory_equal(buf, copy, len);
    tw_test_crypto_free(&t);
}

static void test_packet_flipped_bit(void **state)
{
    (void)state;
    const int BAD = TW_AUTH_EINTEGRITY;
    /* Sender, authenticated: Sequence Number block and HMAC are checked. */
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 0, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 15, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 32, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 47, BAD);
    /* RFC 4656 §4.1.2: in authenticated mode the HMAC covers the first block
     * only; the Timestamp (16..23) travels in clear and unprotected, by design. */
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 20, TW_AUTH_OK);
    /* Padding is never covered. */
    pkt_flip(tw_test_sender_open, TW_MODE_AUTHENTICATED, SENDER_AUTH, 64, 50, TW_AUTH_OK);
    /* Sender, encrypted: both blocks and the HMAC. */
    pkt_flip(tw_test_sender_open, TW_MODE_ENCRYPTED, SENDER_ENC, 64, 3, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_ENCRYPTED, SENDER_ENC, 64, 20, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_ENCRYPTED, SENDER_ENC, 64, 40, BAD);
    pkt_flip(tw_test_sender_open, TW_MODE_ENCRYPTED, SENDER_ENC, 64, 63, TW_AUTH_OK);
    /* Reflector, authenticated: first block and HMAC. */
    pkt_flip(tw_test_reflector_open, TW_MODE_AUTHENTICATED, REFL_AUTH, 120, 2, BAD);
    pkt_flip(tw_test_reflector_open, TW_MODE_AUTHENTICATED, REFL_AUTH, 120, 100, BAD);
    pkt_flip(tw_test_reflector_open, TW_MODE_AUTHENTICATED, REFL_AUTH, 120, 50, TW_AUTH_OK);
    /* Reflector, encrypted: all six blocks and the HMAC. */
    for (size_t off = 0; off < 112; off += 7)
        pkt_flip(tw_test_reflector_open, TW_MODE_ENCRYPTED, REFL_ENC, 120, off, BAD);
    pkt_flip(tw_test_reflector_open, TW_MODE_ENCRYPTED, REFL_ENC, 120, 115, TW_AUTH_OK);

    /* Another session's keys (another SID) fail the HMAC. */
    tw_test_crypto_t other;
    uint8_t sid[16], buf[64];
    memcpy(sid, SID, 16);
    sid[15] ^= 1;
    assert_int_equal(tw_test_crypto_init(&other, AES_KEY, HMAC_KEY, sid), TW_AUTH_OK);
    memcpy(buf, SENDER_AUTH, 64);
    assert_int_equal(tw_test_sender_open(&other, TW_MODE_AUTHENTICATED, buf, 64), BAD);
    memcpy(buf, SENDER_ENC, 64);
    assert_int_equal(tw_test_sender_open(&other, TW_MODE_ENCRYPTED, buf, 64), BAD);
    tw_test_crypto_free(&other);
}

static void test_packet_args(void **state)
{
    (void)state;
    tw_test_crypto_t t;
    memset(&t, 0, sizeof(t));
    uint8_t buf[128];
    memset(buf, 0, sizeof(buf));
    assert_int_equal(tw_test_sender_protect(&t, TW_MODE_AUTHENTICATED, buf, 48), TW_AUTH_EINVAL);
    assert_int_equal(tw_test_crypto_init(&t, AES_KEY, NULL, SID), TW_AUTH_EINVAL);
    test_crypto(&t);
    /* Too short for the format. */
    assert_int_equal(tw_test_sender_protect(&t, TW_MODE_AUTHENTICATED, buf, 47), TW_AUTH_EINVAL);
    assert_int_equal(tw_test_sender_open(&t, TW_MODE_ENCRYPTED, buf, 14), TW_AUTH_EINVAL);
    assert_int_equal(tw_test_reflector_protect(&t, TW_MODE_ENCRYPTED, buf, 111), TW_AUTH_EINVAL);
    assert_int_equal(tw_test_reflector_open(&t, TW_MODE_AUTHENTICATED, buf, 41), TW_AUTH_EINVAL);
    /* Modes without protected test packets: open, mixed (RFC 5618), others. */
    assert_int_equal(tw_test_sender_protect(&t, TW_MODE_UNAUTHENTICATED, buf, 48), TW_AUTH_EINVAL);
    assert_int_equal(tw_test_sender_open(&t, TW_MODE_MIXED, buf, 48), TW_AUTH_EINVAL);
    assert_int_equal(
        tw_test_reflector_protect(&t, TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED, buf, 112),
        TW_AUTH_EINVAL);
    assert_int_equal(tw_test_sender_open(&t, TW_MODE_AUTHENTICATED, NULL, 48), TW_AUTH_EINVAL);
    tw_test_crypto_free(&t);
    assert_null(t.mac);
    tw_test_crypto_free(&t);
    tw_test_crypto_free(NULL);
}

static void test_mode_helpers(void **state)
{
    (void)state;
    assert_false(tw_mode_test_protected(TW_MODE_UNAUTHENTICATED));
    assert_true(tw_mode_test_protected(TW_MODE_AUTHENTICATED));
    assert_true(tw_mode_test_protected(TW_MODE_ENCRYPTED));
    assert_false(tw_mode_test_protected(TW_MODE_MIXED));
    assert_false(tw_mode_control_protected(TW_MODE_UNAUTHENTICATED));
    assert_true(tw_mode_control_protected(TW_MODE_AUTHENTICATED));
    assert_true(tw_mode_control_protected(TW_MODE_ENCRYPTED));
    assert_true(tw_mode_control_protected(TW_MODE_MIXED));
    assert_false(tw_mode_control_protected(0));
}

/* ---- STAMP ---- */

#define STAMP_KEY "stamp shared secret"

static void test_stamp_hmac(void **state)
{
    (void)state;
    tw_stamp_crypto_t tx, rx;
    assert_int_equal(tw_stamp_crypto_init(&tx, (const uint8_t *)STAMP_KEY, strlen(STAMP_KEY)),
                     TW_AUTH_OK);
    assert_int_equal(tw_stamp_crypto_init(&rx, (const uint8_t *)STAMP_KEY, strlen(STAMP_KEY)),
                     TW_AUTH_OK);
    uint8_t pkt[120];
    memcpy(pkt, STAMP_PT, 112);
    memset(pkt + 112, 0x42, 8); /* a TLV area after the HMAC */
    assert_int_equal(tw_stamp_hmac_put(&tx, pkt, sizeof(pkt)), TW_AUTH_OK);
    assert_memory_equal(pkt, STAMP_PT, 96);
    assert_memory_equal(pkt + 96, STAMP_HMAC, 16);
    for (size_t i = 112; i < sizeof(pkt); i++)
        assert_int_equal(pkt[i], 0x42);
    assert_int_equal(tw_stamp_hmac_check(&rx, pkt, sizeof(pkt)), TW_AUTH_OK);
    assert_int_equal(tw_stamp_hmac_check(&rx, pkt, 112), TW_AUTH_OK);

    /* Any bit of octets 0..111 matters; the TLVs after 112 are not covered. */
    for (size_t off = 0; off < 112; off += 5) {
        pkt[off] ^= 0x20;
        assert_int_equal(tw_stamp_hmac_check(&rx, pkt, sizeof(pkt)), TW_AUTH_EINTEGRITY);
        pkt[off] ^= 0x20;
    }
    pkt[115] ^= 1;
    assert_int_equal(tw_stamp_hmac_check(&rx, pkt, sizeof(pkt)), TW_AUTH_OK);

    /* An unauthenticated (44-octet) packet cannot pass. */
    assert_int_equal(tw_stamp_hmac_check(&rx, pkt, 44), TW_AUTH_EINVAL);
    assert_int_equal(tw_stamp_hmac_put(&tx, pkt, 111), TW_AUTH_EINVAL);

    /* Another key. */
    tw_stamp_crypto_t bad;
    assert_int_equal(tw_stamp_crypto_init(&bad, (const uint8_t *)"stamp shared secreT", 19),
                     TW_AUTH_OK);
    assert_int_equal(tw_stamp_hmac_check(&bad, pkt, sizeof(pkt)), TW_AUTH_EINTEGRITY);
    tw_stamp_crypto_free(&bad);

    assert_int_equal(tw_stamp_crypto_init(&bad, NULL, 4), TW_AUTH_EINVAL);
    assert_int_equal(tw_stamp_crypto_init(&bad, (const uint8_t *)"k", 0), TW_AUTH_EINVAL);
    assert_int_equal(tw_stamp_hmac_check(&bad, pkt, sizeof(pkt)), TW_AUTH_EINVAL);
    tw_stamp_crypto_free(&tx);
    tw_stamp_crypto_free(&rx);
    tw_stamp_crypto_free(&rx);
}

static void test_keyid_field(void **state)
{
    (void)state;
    uint8_t wire[80];
    char out[81];
    assert_int_equal(tw_keyid_encode("alice", wire), TW_AUTH_OK);
    assert_memory_equal(wire, "alice", 5);
    for (size_t i = 5; i < 80; i++)
        assert_int_equal(wire[i], 0);
    assert_int_equal(tw_keyid_decode(wire, out), TW_AUTH_OK);
    assert_string_equal(out, "alice");

    char id80[81];
    memset(id80, 'x', 80);
    id80[80] = '\0';
    assert_int_equal(tw_keyid_encode(id80, wire), TW_AUTH_OK);
    assert_int_equal(tw_keyid_decode(wire, out), TW_AUTH_OK);
    assert_string_equal(out, id80);

    char id81[82];
    memset(id81, 'x', 81);
    id81[81] = '\0';
    assert_int_equal(tw_keyid_encode(id81, wire), TW_AUTH_EINVAL);
    assert_int_equal(tw_keyid_encode("", wire), TW_AUTH_EINVAL);

    memset(wire, 0, sizeof(wire));
    assert_int_equal(tw_keyid_decode(wire, out), TW_AUTH_EINVAL); /* empty */
    memcpy(wire, "ab\0c", 4);
    assert_int_equal(tw_keyid_decode(wire, out), TW_AUTH_EINVAL); /* junk after the end */
}

static void test_strerror(void **state)
{
    (void)state;
    for (int rc = 0; rc >= -9; rc--) {
        assert_non_null(tw_auth_strerror(rc));
        assert_true(strlen(tw_auth_strerror(rc)) > 0);
    }
    assert_non_null(strstr(tw_auth_strerror(TW_AUTH_EINTEGRITY), "HMAC"));
    assert_non_null(strstr(tw_auth_strerror(TW_AUTH_ECHALLENGE), "passphrase"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pbkdf2_rfc6070),
        cmocka_unit_test(test_kdf_count_1024),
        cmocka_unit_test(test_kdf_count_refused),
        cmocka_unit_test(test_token_vector),
        cmocka_unit_test(test_token_wrong_passphrase),
        cmocka_unit_test(test_token_round_trip),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_ctrl_client_stream),
        cmocka_unit_test(test_ctrl_server_stream),
        cmocka_unit_test(test_ctrl_hmac_truncation),
        cmocka_unit_test(test_ctrl_flipped_bit),
        cmocka_unit_test(test_ctrl_args),
        cmocka_unit_test(test_test_keys),
        cmocka_unit_test(test_sender_authenticated),
        cmocka_unit_test(test_sender_encrypted),
        cmocka_unit_test(test_reflector_authenticated),
        cmocka_unit_test(test_reflector_encrypted),
        cmocka_unit_test(test_packet_minimal_lengths),
        cmocka_unit_test(test_packet_flipped_bit),
        cmocka_unit_test(test_packet_args),
        cmocka_unit_test(test_mode_helpers),
        cmocka_unit_test(test_stamp_hmac),
        cmocka_unit_test(test_keyid_field),
        cmocka_unit_test(test_strerror),
    };
    int rc = setup_inputs(NULL);
    if (rc != 0)
        return rc;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
