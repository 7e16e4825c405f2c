/* auth: the cryptographic core of the authenticated, encrypted and mixed modes
 * of TWAMP (RFC 4656 §3.1, §3.2, §4.1.2; RFC 5357 §3, §4.1.2, §4.2.1; RFC 5618)
 * and of authenticated STAMP (RFC 8762 §4.2.2, §4.3.2), on OpenSSL's libcrypto
 * (EVP ciphers, EVP_MAC, PKCS5_PBKDF2_HMAC): no home-made AES or HMAC.
 *
 * No files, no sockets, no clocks, no logging. Every function returns 0 or a negative
 * TW_AUTH_E* code and checks every length it is given. A secret (passphrase,
 * derived key, session key) is never written to a message or an error text, and
 * every buffer that held one is cleansed (OPENSSL_cleanse) before it is released.
 *
 * Key files are read by keyfile.h (tw_keyfile_load, tw_keyring_*), which
 * hands over a tw_secret_t.
 *
 * Who uses what:
 *   client:  tw_keyfile_load -> tw_kdf (Salt, Count from the Server Greeting,
 *            refusing a Count above its ceiling) -> tw_secret_cleanse ->
 *            tw_auth_random (AES and HMAC Session-keys, Client-IV) ->
 *            tw_token_make -> Set-Up-Response -> tw_ctrl_crypto_init (with the
 *            Server-IV of Server-Start) -> tw_ctrl_* for every later message.
 *   server:  tw_keyring_load at start -> per connection tw_keyring_find (KeyID
 *            of Set-Up-Response) -> tw_kdf -> tw_token_open (wrong passphrase:
 *            TW_AUTH_ECHALLENGE) -> tw_ctrl_crypto_init -> tw_ctrl_*.
 *   test:    tw_test_crypto_init (both ends, keys derived from the control
 *            Session-keys and the SID) -> tw_test_*_protect / tw_test_*_open.
 *   STAMP:   tw_stamp_crypto_init (key from the key file) -> tw_stamp_hmac_*.
 *
 * Verification comes first: every *_open / *_verify function checks the HMAC
 * before it hands back a single octet of plaintext; on a mismatch it returns
 * TW_AUTH_EINTEGRITY and the message holds nothing usable (control: zeroed;
 * test packet: left as received, still encrypted). */
#ifndef TWAMPY_AUTH_H
#define TWAMPY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OpenSSL's context types, declared here so that users of this header need
 * not include OpenSSL's (EVP_CIPHER_CTX, EVP_MAC_CTX). */
struct evp_cipher_ctx_st;
struct evp_mac_ctx_st;

enum {
    TW_AUTH_OK = 0,
    TW_AUTH_EINVAL = -1,     /* bad argument or length */
    TW_AUTH_ECRYPTO = -2,    /* libcrypto refused an operation */
    TW_AUTH_EINTEGRITY = -3, /* HMAC mismatch: altered in flight, or the wrong key */
    TW_AUTH_ECHALLENGE = -4, /* Token does not hold the Challenge: wrong passphrase */
    TW_AUTH_ECOUNT = -5,     /* KDF Count below the minimum or above the ceiling */
    TW_AUTH_EKEYFILE = -6,   /* key file unreadable, unsafe or malformed (see err) */
    TW_AUTH_ENOKEY = -7,     /* no such KeyID in the key file */
    TW_AUTH_ENOMEM = -8,
};

/* One line of text for a TW_AUTH_E* code. */
const char *tw_auth_strerror(int rc);

#define TW_AUTH_BLOCK 16        /* AES block */
#define TW_AUTH_AES_KEY_LEN 16  /* AES-128 key: KDF output, AES Session-key */
#define TW_AUTH_HMAC_KEY_LEN 32 /* HMAC Session-key (RFC 4656 §3.1) */
#define TW_AUTH_HMAC_LEN 16     /* every HMAC field: the digest truncated to 128 bits */
#define TW_AUTH_IV_LEN 16       /* Client-IV, Server-IV */
#define TW_AUTH_CHALLENGE_LEN 16
#define TW_AUTH_SALT_LEN 16
#define TW_AUTH_TOKEN_LEN 64 /* Challenge 16 | AES Session-key 16 | HMAC Session-key 32 */
#define TW_AUTH_SID_LEN 16
#define TW_KEYID_MAX 80 /* KeyID field of Set-Up-Response (RFC 4656 §3.1) */

/* ---- Shared secrets and the KeyID field ---------------------------------- */

#define TW_SECRET_MAX 256 /* longest passphrase, in octets */
typedef struct tw_secret {
    uint8_t bytes[TW_SECRET_MAX];
    size_t len;
} tw_secret_t;

/* Wipe a secret (OPENSSL_cleanse) once the key has been derived from it. */
void tw_secret_cleanse(tw_secret_t *s);

/* The KeyID field of Set-Up-Response: keyid (at most 80 octets) followed by
 * zero octets up to 80. TW_AUTH_EINVAL when keyid is empty or too long. */
int tw_keyid_encode(const char *keyid, uint8_t wire[TW_KEYID_MAX]);
/* The KeyID of a received field, as a string: the octets before the first zero
 * octet (all 80 when there is none). TW_AUTH_EINVAL when it is empty or holds a
 * non-zero octet after a zero octet. */
int tw_keyid_decode(const uint8_t wire[TW_KEYID_MAX], char out[TW_KEYID_MAX + 1]);

/* ---- Key derivation and the Token (RFC 4656 §3.1) ------------------------- */

#define TW_KDF_COUNT_MIN 1024u                /* RFC 4656 §3.1: Count is at least 1024 */
#define TW_KDF_COUNT_DEFAULT 2048u            /* what a server offers (as perfSONAR owamp) */
#define TW_KDF_COUNT_CEILING_DEFAULT 1048576u /* what a client accepts by default: 2^20 */

/* PBKDF2 (RFC 2898 §5.2) with HMAC-SHA1 as the PRF, any lengths: the primitive
 * below tw_kdf, exposed for its test vectors (RFC 6070). count >= 1. */
int tw_pbkdf2_sha1(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                   uint32_t count, uint8_t *out, size_t out_len);

/* The 16-octet key that encrypts the Token: PBKDF2-HMAC-SHA1 of the shared
 * secret with the Server Greeting's Salt and Count, dkLen 16 (RFC 4656 §3.1).
 * A Count below TW_KDF_COUNT_MIN or above max_count is refused with
 * TW_AUTH_ECOUNT before any work is done (so a hostile server cannot make the
 * client spin). The server passes its own Count as max_count. */
int tw_kdf(const tw_secret_t *secret, const uint8_t salt[TW_AUTH_SALT_LEN], uint32_t count,
           uint32_t max_count, uint8_t key[TW_AUTH_AES_KEY_LEN]);

/* Token = AES-128-CBC, IV zero, key = tw_kdf(), of
 * Challenge (16) | AES Session-key (16) | HMAC Session-key (32) (RFC 4656 §3.1). */
int tw_token_make(const uint8_t key[TW_AUTH_AES_KEY_LEN],
                  const uint8_t challenge[TW_AUTH_CHALLENGE_LEN],
                  const uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                  const uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN], uint8_t token[TW_AUTH_TOKEN_LEN]);

/* Server side: decrypt token with key and compare (in constant time) its
 * Challenge with the one this server sent. Only when they match are the AES
 * and HMAC Session-keys written out; otherwise TW_AUTH_ECHALLENGE (the client
 * used another passphrase) and aes_key/hmac_key are left zero. */
int tw_token_open(const uint8_t key[TW_AUTH_AES_KEY_LEN], const uint8_t token[TW_AUTH_TOKEN_LEN],
                  const uint8_t challenge[TW_AUTH_CHALLENGE_LEN],
                  uint8_t aes_key[TW_AUTH_AES_KEY_LEN], uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN]);

/* len octets from OpenSSL's CSPRNG (RAND_bytes): Challenge, Salt, Session-keys,
 * Client-IV, Server-IV. */
int tw_auth_random(uint8_t *buf, size_t len);

/* ---- The TWAMP-Control stream (RFC 4656 §3.1, §3.2; RFC 5357 §3) ---------
 *
 * After Server-Start, in modes 2, 4 and 8, each direction of the control
 * connection is one AES-128-CBC stream under the AES Session-key: client to
 * server with IV = Client-IV, server to client with IV = Server-IV; the chain
 * carries over from one message to the next (the last ciphertext block of a
 * message is the IV of the next). What is encrypted, per direction:
 *   server -> client: Server-Start octets 32..47 (Start-Time, MBZ) — octets
 *     0..31 (MBZ, Accept, Server-IV) go in clear — then every message after it
 *     whole (Accept-Session 48, Start-Ack 32, ...). A Server-Start whose Accept
 *     is not 0 is sent wholly in clear and nothing is encrypted after it.
 *   client -> server: every message after Set-Up-Response whole
 *     (Request-TW-Session 112, Start-Sessions 32, Stop-Sessions 32, ...);
 *     Set-Up-Response itself is in clear.
 * The HMAC (RFC 4656 §3.2): HMAC-SHA1 keyed with the HMAC Session-key,
 * truncated to 16 octets, in the last 16 octets of each message from
 * Request-TW-Session / Accept-Session on. It is computed over the plaintext
 * ("authentication happens before encryption", so the HMAC field is then
 * encrypted with the rest) and covers everything sent in that direction since
 * the previous HMAC field: each message's own octets before its HMAC field,
 * plus, for the server's first HMAC (Accept-Session), Server-Start's encrypted
 * octets 32..47. It is not chained across HMACs. */
typedef struct tw_ctrl_crypto {
    struct evp_cipher_ctx_st *enc; /* send chain */
    struct evp_cipher_ctx_st *dec; /* receive chain */
    struct evp_mac_ctx_st *send_mac;
    struct evp_mac_ctx_st *recv_mac;
    /* The Session-keys, kept to derive the test-session keys (tw_test_crypto_init). */
    uint8_t aes_key[TW_AUTH_AES_KEY_LEN];
    uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN];
} tw_ctrl_crypto_t;

/* Set up both directions. The client passes send_iv = Client-IV and
 * recv_iv = Server-IV, the server the other way round. On failure everything
 * is released and *c is zero. */
int tw_ctrl_crypto_init(tw_ctrl_crypto_t *c, const uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t send_iv[TW_AUTH_IV_LEN],
                        const uint8_t recv_iv[TW_AUTH_IV_LEN]);
/* Release and cleanse; *c may be zero (never initialised) and is zero after. */
void tw_ctrl_crypto_free(tw_ctrl_crypto_t *c);

/* Send a whole message: msg[0..len) is the plaintext with its last 16 octets
 * the HMAC field. Adds msg[0..len-16) to the send HMAC, writes the truncated
 * digest into msg[len-16..len), restarts the HMAC, then encrypts msg in place
 * on the send chain. len: a multiple of 16, at least 32. */
int tw_ctrl_seal(tw_ctrl_crypto_t *c, uint8_t *msg, size_t len);
/* Send octets that are encrypted and covered by the next HMAC but carry none
 * (Server-Start octets 32..47): add buf to the send HMAC, encrypt in place.
 * len: a positive multiple of 16. */
int tw_ctrl_seal_partial(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len);

/* Decrypt len octets (a positive multiple of 16) in place on the receive chain,
 * without touching the HMAC: for the server's first block of a command, read
 * to learn the command (and so the length) before the rest arrives. Nothing in
 * it may be acted upon before tw_ctrl_open has verified the whole message. */
int tw_ctrl_decrypt(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len);
/* Receive a whole message of len octets (multiple of 16, at least 32) whose
 * first `decrypted` octets (0 or a multiple of 16) were already decrypted with
 * tw_ctrl_decrypt: decrypts the rest in place, then checks the HMAC field
 * against the receive HMAC of msg[0..len-16) and restarts it. On a mismatch
 * returns TW_AUTH_EINTEGRITY and zeroes msg: the connection must be closed,
 * nothing in the message acted upon. */
int tw_ctrl_open(tw_ctrl_crypto_t *c, uint8_t *msg, size_t len, size_t decrypted);
/* Receive octets covered by the next HMAC but carrying none (Server-Start
 * octets 32..47 on the client): decrypt in place and add them to the receive
 * HMAC. Their content is trusted only once the next HMAC has verified. */
int tw_ctrl_open_partial(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len);

/* ---- TWAMP-Test packets (RFC 4656 §4.1.2; RFC 5357 §4.1.2, §4.2.1) -------
 *
 * Keys (RFC 4656 §4.1.2, as perfSONAR owamp's endpoint.c): each test session
 * has its own, derived from the control Session-keys and its SID:
 *   test AES key  = AES-128-ECB with the SID as key, of the AES Session-key;
 *   test HMAC key = AES-128-CBC, IV zero, with the SID as key, of the HMAC
 *                   Session-key (two blocks, 32 octets).
 * Packets (each packet on its own: no chaining between packets, IV zero):
 *   authenticated (mode 2): octets 0..15 (Sequence Number, MBZ) encrypted with
 *     AES-ECB; the HMAC covers the plaintext of octets 0..15 only, sender and
 *     reflector alike.
 *   encrypted (mode 4): sender octets 0..31, reflector octets 0..95, encrypted
 *     with AES-CBC, IV zero; the HMAC covers the plaintext of those octets.
 *   The HMAC field (sender 32..47, reflector 96..111) is HMAC-SHA1 with the
 *   test HMAC key, truncated to 16 octets, and is not encrypted; the padding
 *   after it is neither encrypted nor covered.
 *   mixed (mode 8, RFC 5618): test packets are the unauthenticated format;
 *     nothing here applies. */
#define TW_TEST_SENDER_AUTH_LEN 48     /* 48-octet sender format */
#define TW_TEST_REFLECTOR_AUTH_LEN 112 /* 112-octet reflector format */

typedef struct tw_test_crypto {
    struct evp_cipher_ctx_st *enc; /* AES-128-CBC with the test AES key */
    struct evp_cipher_ctx_st *dec;
    struct evp_mac_ctx_st *mac; /* HMAC-SHA1 with the test HMAC key */
} tw_test_crypto_t;

/* True for the modes whose test packets are protected (2 and 4), and for the
 * modes whose control stream is (2, 4 and 8). */
bool tw_mode_test_protected(uint32_t mode);
bool tw_mode_control_protected(uint32_t mode);

/* The two derivations above, for a caller that wants the keys themselves
 * (tests); the caller cleanses them. */
int tw_test_keys_derive(const uint8_t ctrl_aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t ctrl_hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t sid[TW_AUTH_SID_LEN], uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                        uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN]);

/* Derive the test-session keys from the control Session-keys and the SID.
 * The derived keys live only inside the contexts. On failure *t is zero. */
int tw_test_crypto_init(tw_test_crypto_t *t, const uint8_t ctrl_aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t ctrl_hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t sid[TW_AUTH_SID_LEN]);
void tw_test_crypto_free(tw_test_crypto_t *t);

/* Protect a plaintext packet in place for sending (mode: TW_MODE_AUTHENTICATED
 * or TW_MODE_ENCRYPTED): compute and write the HMAC field, then encrypt.
 * Sender: len >= 48; reflector: len >= 112. Other modes: TW_AUTH_EINVAL. */
int tw_test_sender_protect(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len);
int tw_test_reflector_protect(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len);
/* Open a received packet in place: decrypt a copy, check its HMAC in constant
 * time, and only when it matches write the plaintext back into pkt. On a
 * mismatch returns TW_AUTH_EINTEGRITY and pkt is unchanged (still encrypted).
 * A packet shorter than the format: TW_AUTH_EINVAL. */
int tw_test_sender_open(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len);
int tw_test_reflector_open(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len);

/* ---- Authenticated STAMP (RFC 8762 §4.2.2, §4.3.2, §4.4) -----------------
 *
 * Sender and reflector alike: a 112-octet base packet whose octets 96..111 are
 * HMAC-SHA-256 truncated to 16 octets over octets 0..95; nothing is encrypted
 * and TLVs after octet 112 are not covered (RFC 8972 has its own HMAC TLV).
 * STAMP has no key exchange: both ends are given the same key (twampy: the
 * octets of the key file's passphrase, used as the HMAC key as they are). */
#define TW_STAMP_AUTH_LEN 112
#define TW_STAMP_HMAC_OFF 96

typedef struct tw_stamp_crypto {
    struct evp_mac_ctx_st *mac; /* HMAC-SHA-256 */
} tw_stamp_crypto_t;

int tw_stamp_crypto_init(tw_stamp_crypto_t *s, const uint8_t *key, size_t key_len);
void tw_stamp_crypto_free(tw_stamp_crypto_t *s);
/* Write the HMAC of pkt[0..96) into pkt[96..112); len >= 112. */
int tw_stamp_hmac_put(tw_stamp_crypto_t *s, uint8_t *pkt, size_t len);
/* 0 when pkt[96..112) is the HMAC of pkt[0..96) (constant-time compare);
 * TW_AUTH_EINTEGRITY when not; TW_AUTH_EINVAL when len < 112 (an
 * unauthenticated packet cannot pass). */
int tw_stamp_hmac_check(tw_stamp_crypto_t *s, const uint8_t *pkt, size_t len);
/* The HMAC TLV's Value (RFC 8972 §4.8): HMAC-SHA-256 truncated to 16 octets
 * over the packet's Sequence Number (4 octets) and the TLVs before the HMAC
 * TLV (tlvs[0..n)), with the STAMP key. 0 or a TW_AUTH_E* code. */
int tw_stamp_tlv_hmac(tw_stamp_crypto_t *s, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                      uint8_t out[TW_AUTH_HMAC_LEN]);

#endif
