/* auth: key derivation, Token, control-stream and test-packet protection for
 * TWAMP's authenticated/encrypted/mixed modes and authenticated STAMP (key
 * files: keyfile.c). Every rule below names its source; where the RFC text leaves a detail
 * open, the rule follows perfSONAR owamp (the implementation by the authors of
 * RFC 4656), named as "owamp <file>". */
#include "auth.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "control_wire.h"

static const uint8_t ZERO_IV[TW_AUTH_BLOCK];

const char *tw_auth_strerror(int rc)
{
    switch (rc) {
    case TW_AUTH_OK:
        return "success";
    case TW_AUTH_EINVAL:
        return "invalid argument or length";
    case TW_AUTH_ECRYPTO:
        return "cryptographic library failure";
    case TW_AUTH_EINTEGRITY:
        return "integrity check (HMAC) failed: message altered or wrong key";
    case TW_AUTH_ECHALLENGE:
        return "token does not match the challenge: wrong passphrase";
    case TW_AUTH_ECOUNT:
        return "key derivation count out of the accepted range";
    case TW_AUTH_EKEYFILE:
        return "key file unreadable, unsafe or malformed";
    case TW_AUTH_ENOKEY:
        return "unknown KeyID";
    case TW_AUTH_ENOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

/* ---- libcrypto helpers ---------------------------------------------------- */

/* An AES-128 context (cbc or ecb) with padding off, for encryption (enc = 1)
 * or decryption (enc = 0). */
static EVP_CIPHER_CTX *cipher_new(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv,
                                  int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return NULL;
    if (EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx); /* frees and cleanses the key schedule */
        return NULL;
    }
    return ctx;
}

/* Run len octets (a multiple of 16) through ctx, in place allowed. */
static int cipher_run(EVP_CIPHER_CTX *ctx, const uint8_t *in, uint8_t *out, size_t len)
{
    int outl = 0;
    if (len == 0)
        return TW_AUTH_OK;
    if (len % TW_AUTH_BLOCK != 0 || len > INT_MAX)
        return TW_AUTH_EINVAL;
    if (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        return TW_AUTH_ECRYPTO;
    return TW_AUTH_OK;
}

/* Restart ctx (same key, same direction) at IV zero: each test packet is its
 * own CBC stream (RFC 4656 §4.1.2). */
static int cipher_restart(EVP_CIPHER_CTX *ctx)
{
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, ZERO_IV, -1) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        return TW_AUTH_ECRYPTO;
    return TW_AUTH_OK;
}

/* One-shot AES-128 (cbc or ecb) of len octets with key and iv. */
static int aes_oneshot(const EVP_CIPHER *cipher, int enc, const uint8_t *key, const uint8_t *iv,
                       const uint8_t *in, uint8_t *out, size_t len)
{
    EVP_CIPHER_CTX *ctx = cipher_new(cipher, key, iv, enc);
    if (!ctx)
        return TW_AUTH_ECRYPTO;
    int rc = cipher_run(ctx, in, out, len);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* An HMAC context with digest ("SHA1", "SHA256") and key. */
static EVP_MAC_CTX *mac_new(const char *digest, const uint8_t *key, size_t key_len)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac); /* holds its own reference */
    EVP_MAC_free(mac);
    if (!ctx)
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Restart ctx with the key it was created with. */
static int mac_restart(EVP_MAC_CTX *ctx)
{
    return EVP_MAC_init(ctx, NULL, 0, NULL) == 1 ? TW_AUTH_OK : TW_AUTH_ECRYPTO;
}

static int mac_update(EVP_MAC_CTX *ctx, const uint8_t *buf, size_t len)
{
    if (len == 0)
        return TW_AUTH_OK;
    return EVP_MAC_update(ctx, buf, len) == 1 ? TW_AUTH_OK : TW_AUTH_ECRYPTO;
}

/* Finish ctx into out: the digest truncated to its first 16 octets (RFC 4656
 * §3.2 for HMAC-SHA1, RFC 8762 §4.2.2 for HMAC-SHA-256), then restart ctx. */
static int mac_final16(EVP_MAC_CTX *ctx, uint8_t out[TW_AUTH_HMAC_LEN])
{
    uint8_t full[EVP_MAX_MD_SIZE];
    size_t n = 0;
    int rc = TW_AUTH_OK;
    if (EVP_MAC_final(ctx, full, &n, sizeof(full)) != 1 || n < TW_AUTH_HMAC_LEN)
        rc = TW_AUTH_ECRYPTO;
    else
        memcpy(out, full, TW_AUTH_HMAC_LEN);
    OPENSSL_cleanse(full, sizeof(full));
    if (mac_restart(ctx) != TW_AUTH_OK)
        rc = TW_AUTH_ECRYPTO;
    return rc;
}

/* ---- Secrets and the KeyID field ----------------------------------------- */

void tw_secret_cleanse(tw_secret_t *s)
{
    if (s)
        OPENSSL_cleanse(s, sizeof(*s));
}

/* RFC 4656 §3.1: KeyID is an 80-octet field; a shorter identity is followed by
 * zero octets. */
int tw_keyid_encode(const char *keyid, uint8_t wire[TW_KEYID_MAX])
{
    if (!keyid || !wire)
        return TW_AUTH_EINVAL;
    size_t n = strlen(keyid);
    if (n == 0 || n > TW_KEYID_MAX)
        return TW_AUTH_EINVAL;
    memset(wire, 0, TW_KEYID_MAX);
    memcpy(wire, keyid, n);
    return TW_AUTH_OK;
}

int tw_keyid_decode(const uint8_t wire[TW_KEYID_MAX], char out[TW_KEYID_MAX + 1])
{
    if (!wire || !out)
        return TW_AUTH_EINVAL;
    size_t n = 0;
    while (n < TW_KEYID_MAX && wire[n] != 0)
        n++;
    for (size_t i = n; i < TW_KEYID_MAX; i++)
        if (wire[i] != 0)
            return TW_AUTH_EINVAL;
    if (n == 0)
        return TW_AUTH_EINVAL;
    memcpy(out, wire, n);
    out[n] = '\0';
    return TW_AUTH_OK;
}

/* ---- Key derivation and the Token ----------------------------------------- */

int tw_pbkdf2_sha1(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                   uint32_t count, uint8_t *out, size_t out_len)
{
    if ((!pass && pass_len) || (!salt && salt_len) || !out || out_len == 0 || count == 0 ||
        pass_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || count > INT_MAX)
        return TW_AUTH_EINVAL;
    static const char empty[1];
    if (PKCS5_PBKDF2_HMAC(pass ? (const char *)pass : empty, (int)pass_len,
                          salt ? salt : (const uint8_t *)empty, (int)salt_len, (int)count,
                          EVP_sha1(), (int)out_len, out) != 1)
        return TW_AUTH_ECRYPTO;
    return TW_AUTH_OK;
}

/* RFC 4656 §3.1: the key is PBKDF2 (RFC 2898) with HMAC-SHA1, the Salt and
 * Count of the Server Greeting, dkLen 16; Count is at least 1024. */
int tw_kdf(const tw_secret_t *secret, const uint8_t salt[TW_AUTH_SALT_LEN], uint32_t count,
           uint32_t max_count, uint8_t key[TW_AUTH_AES_KEY_LEN])
{
    if (!secret || !salt || !key || secret->len == 0 || secret->len > TW_SECRET_MAX)
        return TW_AUTH_EINVAL;
    if (count < TW_KDF_COUNT_MIN || count > max_count)
        return TW_AUTH_ECOUNT;
    return tw_pbkdf2_sha1(secret->bytes, secret->len, salt, TW_AUTH_SALT_LEN, count, key,
                          TW_AUTH_AES_KEY_LEN);
}

/* RFC 4656 §3.1: Token is Challenge | AES Session-key | HMAC Session-key,
 * encrypted with AES-CBC, IV zero, key from the shared secret. */
int tw_token_make(const uint8_t key[TW_AUTH_AES_KEY_LEN],
                  const uint8_t challenge[TW_AUTH_CHALLENGE_LEN],
                  const uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                  const uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN], uint8_t token[TW_AUTH_TOKEN_LEN])
{
    if (!key || !challenge || !aes_key || !hmac_key || !token)
        return TW_AUTH_EINVAL;
    uint8_t plain[TW_AUTH_TOKEN_LEN];
    memcpy(plain, challenge, 16);
    memcpy(plain + 16, aes_key, 16);
    memcpy(plain + 32, hmac_key, 32);
    int rc = aes_oneshot(EVP_aes_128_cbc(), 1, key, ZERO_IV, plain, token, sizeof(plain));
    OPENSSL_cleanse(plain, sizeof(plain));
    if (rc < 0)
        OPENSSL_cleanse(token, TW_AUTH_TOKEN_LEN);
    return rc;
}

int tw_token_open(const uint8_t key[TW_AUTH_AES_KEY_LEN], const uint8_t token[TW_AUTH_TOKEN_LEN],
                  const uint8_t challenge[TW_AUTH_CHALLENGE_LEN],
                  uint8_t aes_key[TW_AUTH_AES_KEY_LEN], uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN])
{
    if (!key || !token || !challenge || !aes_key || !hmac_key)
        return TW_AUTH_EINVAL;
    memset(aes_key, 0, TW_AUTH_AES_KEY_LEN);
    memset(hmac_key, 0, TW_AUTH_HMAC_KEY_LEN);
    uint8_t plain[TW_AUTH_TOKEN_LEN];
    int rc = aes_oneshot(EVP_aes_128_cbc(), 0, key, ZERO_IV, token, plain, sizeof(plain));
    if (rc == TW_AUTH_OK && CRYPTO_memcmp(plain, challenge, TW_AUTH_CHALLENGE_LEN) != 0)
        rc = TW_AUTH_ECHALLENGE;
    if (rc == TW_AUTH_OK) {
        memcpy(aes_key, plain + 16, TW_AUTH_AES_KEY_LEN);
        memcpy(hmac_key, plain + 32, TW_AUTH_HMAC_KEY_LEN);
    }
    OPENSSL_cleanse(plain, sizeof(plain));
    return rc;
}

int tw_auth_random(uint8_t *buf, size_t len)
{
    if (!buf || len > INT_MAX)
        return TW_AUTH_EINVAL;
    if (len == 0)
        return TW_AUTH_OK;
    return RAND_bytes(buf, (int)len) == 1 ? TW_AUTH_OK : TW_AUTH_ECRYPTO;
}

/* ---- The TWAMP-Control stream --------------------------------------------- */

void tw_ctrl_crypto_free(tw_ctrl_crypto_t *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->enc);
    EVP_CIPHER_CTX_free(c->dec);
    EVP_MAC_CTX_free(c->send_mac);
    EVP_MAC_CTX_free(c->recv_mac);
    OPENSSL_cleanse(c, sizeof(*c));
}

/* RFC 4656 §3.1: after Server-Start each direction is AES-CBC under the AES
 * Session-key, IV = Client-IV (client to server) or Server-IV (server to
 * client); one EVP context per direction keeps the chain across messages
 * (owamp io.c: _OWPEncryptBlocks/_OWPDecryptBlocks update the IV in place). */
int tw_ctrl_crypto_init(tw_ctrl_crypto_t *c, const uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t send_iv[TW_AUTH_IV_LEN],
                        const uint8_t recv_iv[TW_AUTH_IV_LEN])
{
    if (!c)
        return TW_AUTH_EINVAL;
    memset(c, 0, sizeof(*c));
    if (!aes_key || !hmac_key || !send_iv || !recv_iv)
        return TW_AUTH_EINVAL;
    c->enc = cipher_new(EVP_aes_128_cbc(), aes_key, send_iv, 1);
    c->dec = cipher_new(EVP_aes_128_cbc(), aes_key, recv_iv, 0);
    c->send_mac = mac_new("SHA1", hmac_key, TW_AUTH_HMAC_KEY_LEN);
    c->recv_mac = mac_new("SHA1", hmac_key, TW_AUTH_HMAC_KEY_LEN);
    if (!c->enc || !c->dec || !c->send_mac || !c->recv_mac) {
        tw_ctrl_crypto_free(c);
        return TW_AUTH_ECRYPTO;
    }
    memcpy(c->aes_key, aes_key, TW_AUTH_AES_KEY_LEN);
    memcpy(c->hmac_key, hmac_key, TW_AUTH_HMAC_KEY_LEN);
    return TW_AUTH_OK;
}

static bool ctrl_ready(const tw_ctrl_crypto_t *c)
{
    return c && c->enc && c->dec && c->send_mac && c->recv_mac;
}

/* A whole control message: a multiple of 16 octets, with room for the HMAC. */
static bool ctrl_msg_len_ok(size_t len)
{
    return len >= 2 * TW_AUTH_BLOCK && len % TW_AUTH_BLOCK == 0 && len <= INT_MAX;
}

/* RFC 4656 §3.2: the HMAC is computed before encryption over everything sent
 * since the previous HMAC, truncated to 16 octets, and then encrypted with the
 * rest (owamp protocol.c: _OWPSendHMACAdd, _OWPSendHMACDigestClear, then
 * _OWPSendBlocksIntr). */
int tw_ctrl_seal(tw_ctrl_crypto_t *c, uint8_t *msg, size_t len)
{
    if (!ctrl_ready(c) || !msg || !ctrl_msg_len_ok(len))
        return TW_AUTH_EINVAL;
    size_t body = len - TW_AUTH_HMAC_LEN;
    int rc = mac_update(c->send_mac, msg, body);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(c->send_mac, msg + body);
    if (rc == TW_AUTH_OK)
        rc = cipher_run(c->enc, msg, msg, len);
    return rc;
}

/* Server-Start octets 32..47 (owamp protocol.c _OWPWriteServerStart: "No HMAC
 * digest field in this message - so this block gets include as part of the
 * text for the next digest"). */
int tw_ctrl_seal_partial(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len)
{
    if (!ctrl_ready(c) || !buf || len == 0 || len % TW_AUTH_BLOCK != 0 || len > INT_MAX)
        return TW_AUTH_EINVAL;
    int rc = mac_update(c->send_mac, buf, len);
    if (rc == TW_AUTH_OK)
        rc = cipher_run(c->enc, buf, buf, len);
    return rc;
}

int tw_ctrl_decrypt(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len)
{
    if (!ctrl_ready(c) || !buf || len == 0 || len % TW_AUTH_BLOCK != 0 || len > INT_MAX)
        return TW_AUTH_EINVAL;
    return cipher_run(c->dec, buf, buf, len);
}

/* RFC 4656 §3.2: "first one decrypts, then one checks the HMAC, then one
 * proceeds to use the data"; "The HMAC MUST be checked as early as possible". */
int tw_ctrl_open(tw_ctrl_crypto_t *c, uint8_t *msg, size_t len, size_t decrypted)
{
    if (!ctrl_ready(c) || !msg || !ctrl_msg_len_ok(len) || decrypted > len ||
        decrypted % TW_AUTH_BLOCK != 0)
        return TW_AUTH_EINVAL;
    int rc = cipher_run(c->dec, msg + decrypted, msg + decrypted, len - decrypted);
    size_t body = len - TW_AUTH_HMAC_LEN;
    uint8_t want[TW_AUTH_HMAC_LEN];
    if (rc == TW_AUTH_OK)
        rc = mac_update(c->recv_mac, msg, body);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(c->recv_mac, want);
    if (rc == TW_AUTH_OK && CRYPTO_memcmp(want, msg + body, TW_AUTH_HMAC_LEN) != 0)
        rc = TW_AUTH_EINTEGRITY;
    OPENSSL_cleanse(want, sizeof(want));
    if (rc < 0)
        OPENSSL_cleanse(msg, len); /* nothing in it may be acted upon */
    return rc;
}

/* Client side of Server-Start octets 32..47 (owamp protocol.c
 * _OWPReadServerStart: _OWPReceiveBlocksIntr then _OWPRecvHMACAdd). */
int tw_ctrl_open_partial(tw_ctrl_crypto_t *c, uint8_t *buf, size_t len)
{
    if (!ctrl_ready(c) || !buf || len == 0 || len % TW_AUTH_BLOCK != 0 || len > INT_MAX)
        return TW_AUTH_EINVAL;
    int rc = cipher_run(c->dec, buf, buf, len);
    if (rc == TW_AUTH_OK)
        rc = mac_update(c->recv_mac, buf, len);
    return rc;
}

/* ---- TWAMP-Test packets ---------------------------------------------------- */

bool tw_mode_test_protected(uint32_t mode)
{
    return mode == TW_MODE_AUTHENTICATED || mode == TW_MODE_ENCRYPTED;
}

bool tw_mode_control_protected(uint32_t mode)
{
    return mode == TW_MODE_AUTHENTICATED || mode == TW_MODE_ENCRYPTED || mode == TW_MODE_MIXED;
}

void tw_test_crypto_free(tw_test_crypto_t *t)
{
    if (!t)
        return;
    EVP_CIPHER_CTX_free(t->enc);
    EVP_CIPHER_CTX_free(t->dec);
    EVP_MAC_CTX_free(t->mac);
    OPENSSL_cleanse(t, sizeof(*t));
}

/* RFC 4656 §4.1.2 and owamp endpoint.c (_prepare_to_run, "See Section 4.1 of
 * RFC 4656"): with the SID as the AES key, the test AES key is the ECB
 * encryption of the AES Session-key and the test HMAC key is the CBC (IV zero)
 * encryption of the 32-octet HMAC Session-key. */
int tw_test_keys_derive(const uint8_t ctrl_aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t ctrl_hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t sid[TW_AUTH_SID_LEN], uint8_t aes_key[TW_AUTH_AES_KEY_LEN],
                        uint8_t hmac_key[TW_AUTH_HMAC_KEY_LEN])
{
    if (!ctrl_aes_key || !ctrl_hmac_key || !sid || !aes_key || !hmac_key)
        return TW_AUTH_EINVAL;
    int rc =
        aes_oneshot(EVP_aes_128_ecb(), 1, sid, NULL, ctrl_aes_key, aes_key, TW_AUTH_AES_KEY_LEN);
    if (rc == TW_AUTH_OK)
        rc = aes_oneshot(EVP_aes_128_cbc(), 1, sid, ZERO_IV, ctrl_hmac_key, hmac_key,
                         TW_AUTH_HMAC_KEY_LEN);
    if (rc < 0) {
        OPENSSL_cleanse(aes_key, TW_AUTH_AES_KEY_LEN);
        OPENSSL_cleanse(hmac_key, TW_AUTH_HMAC_KEY_LEN);
    }
    return rc;
}

int tw_test_crypto_init(tw_test_crypto_t *t, const uint8_t ctrl_aes_key[TW_AUTH_AES_KEY_LEN],
                        const uint8_t ctrl_hmac_key[TW_AUTH_HMAC_KEY_LEN],
                        const uint8_t sid[TW_AUTH_SID_LEN])
{
    if (!t)
        return TW_AUTH_EINVAL;
    memset(t, 0, sizeof(*t));
    uint8_t aes[TW_AUTH_AES_KEY_LEN], hmac[TW_AUTH_HMAC_KEY_LEN];
    int rc = tw_test_keys_derive(ctrl_aes_key, ctrl_hmac_key, sid, aes, hmac);
    if (rc == TW_AUTH_OK) {
        t->enc = cipher_new(EVP_aes_128_cbc(), aes, ZERO_IV, 1);
        t->dec = cipher_new(EVP_aes_128_cbc(), aes, ZERO_IV, 0);
        t->mac = mac_new("SHA1", hmac, sizeof(hmac));
        if (!t->enc || !t->dec || !t->mac)
            rc = TW_AUTH_ECRYPTO;
    }
    OPENSSL_cleanse(aes, sizeof(aes));
    OPENSSL_cleanse(hmac, sizeof(hmac));
    if (rc < 0)
        tw_test_crypto_free(t);
    return rc;
}

/* The octets a mode encrypts and HMACs, and where the HMAC field is.
 * RFC 4656 §4.1.2 (sender; RFC 5357 §4.1.2 adopts it): authenticated mode
 * encrypts the first block with ECB, encrypted mode the first two with CBC,
 * IV zero; "HMAC in OWAMP-Test only covers the part of the packet that is also
 * encrypted". RFC 5357 §4.2.1 (reflector, 112-octet format): the same with six
 * blocks in encrypted mode. The HMAC is over the plaintext and is itself not
 * encrypted (owamp endpoint.c run_tw_test / run_reflector). One-block CBC at IV
 * zero is ECB, so one CBC context serves both modes (as owamp does). */
struct test_layout {
    size_t min_len;  /* format length */
    size_t crypt;    /* octets encrypted and covered by the HMAC, from 0 */
    size_t hmac_off; /* HMAC field */
};

static int test_layout(uint32_t mode, bool reflector, struct test_layout *l)
{
    if (!tw_mode_test_protected(mode))
        return TW_AUTH_EINVAL;
    bool enc = mode == TW_MODE_ENCRYPTED;
    l->min_len = reflector ? TW_TEST_REFLECTOR_AUTH_LEN : TW_TEST_SENDER_AUTH_LEN;
    l->hmac_off = l->min_len - TW_AUTH_HMAC_LEN;
    l->crypt = !enc ? TW_AUTH_BLOCK : (reflector ? 96 : 32);
    return TW_AUTH_OK;
}

static bool test_ready(const tw_test_crypto_t *t)
{
    return t && t->enc && t->dec && t->mac;
}

static int test_protect(tw_test_crypto_t *t, uint32_t mode, bool reflector, uint8_t *pkt,
                        size_t len)
{
    struct test_layout l;
    if (!test_ready(t) || !pkt || test_layout(mode, reflector, &l) < 0 || len < l.min_len)
        return TW_AUTH_EINVAL;
    int rc = mac_restart(t->mac);
    if (rc == TW_AUTH_OK)
        rc = mac_update(t->mac, pkt, l.crypt);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(t->mac, pkt + l.hmac_off);
    if (rc == TW_AUTH_OK)
        rc = cipher_restart(t->enc);
    if (rc == TW_AUTH_OK)
        rc = cipher_run(t->enc, pkt, pkt, l.crypt);
    return rc;
}

static int test_open(tw_test_crypto_t *t, uint32_t mode, bool reflector, uint8_t *pkt, size_t len)
{
    struct test_layout l;
    if (!test_ready(t) || !pkt || test_layout(mode, reflector, &l) < 0 || len < l.min_len)
        return TW_AUTH_EINVAL;
    uint8_t plain[96], want[TW_AUTH_HMAC_LEN];
    int rc = cipher_restart(t->dec);
    if (rc == TW_AUTH_OK)
        rc = cipher_run(t->dec, pkt, plain, l.crypt);
    if (rc == TW_AUTH_OK)
        rc = mac_restart(t->mac);
    if (rc == TW_AUTH_OK)
        rc = mac_update(t->mac, plain, l.crypt);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(t->mac, want);
    if (rc == TW_AUTH_OK && CRYPTO_memcmp(want, pkt + l.hmac_off, TW_AUTH_HMAC_LEN) != 0)
        rc = TW_AUTH_EINTEGRITY;
    if (rc == TW_AUTH_OK)
        memcpy(pkt, plain, l.crypt); /* only a verified packet is decrypted */
    OPENSSL_cleanse(plain, sizeof(plain));
    return rc;
}

int tw_test_sender_protect(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len)
{
    return test_protect(t, mode, false, pkt, len);
}

int tw_test_reflector_protect(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len)
{
    return test_protect(t, mode, true, pkt, len);
}

int tw_test_sender_open(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len)
{
    return test_open(t, mode, false, pkt, len);
}

int tw_test_reflector_open(tw_test_crypto_t *t, uint32_t mode, uint8_t *pkt, size_t len)
{
    return test_open(t, mode, true, pkt, len);
}

/* ---- Authenticated STAMP --------------------------------------------------- */

/* RFC 8762 §4.2.2 / §4.3.2: HMAC-SHA-256 truncated to 128 bits over the
 * packet's octets before the HMAC field; §4.4: the key is provisioned. */
int tw_stamp_crypto_init(tw_stamp_crypto_t *s, const uint8_t *key, size_t key_len)
{
    if (!s)
        return TW_AUTH_EINVAL;
    memset(s, 0, sizeof(*s));
    if (!key || key_len == 0)
        return TW_AUTH_EINVAL;
    s->mac = mac_new("SHA256", key, key_len);
    return s->mac ? TW_AUTH_OK : TW_AUTH_ECRYPTO;
}

void tw_stamp_crypto_free(tw_stamp_crypto_t *s)
{
    if (!s)
        return;
    EVP_MAC_CTX_free(s->mac);
    s->mac = NULL;
}

static int stamp_digest(tw_stamp_crypto_t *s, const uint8_t *pkt, uint8_t out[TW_AUTH_HMAC_LEN])
{
    int rc = mac_restart(s->mac);
    if (rc == TW_AUTH_OK)
        rc = mac_update(s->mac, pkt, TW_STAMP_HMAC_OFF);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(s->mac, out);
    return rc;
}

int tw_stamp_hmac_put(tw_stamp_crypto_t *s, uint8_t *pkt, size_t len)
{
    if (!s || !s->mac || !pkt || len < TW_STAMP_AUTH_LEN)
        return TW_AUTH_EINVAL;
    return stamp_digest(s, pkt, pkt + TW_STAMP_HMAC_OFF);
}

int tw_stamp_hmac_check(tw_stamp_crypto_t *s, const uint8_t *pkt, size_t len)
{
    if (!s || !s->mac || !pkt || len < TW_STAMP_AUTH_LEN)
        return TW_AUTH_EINVAL;
    uint8_t want[TW_AUTH_HMAC_LEN];
    int rc = stamp_digest(s, pkt, want);
    if (rc == TW_AUTH_OK && CRYPTO_memcmp(want, pkt + TW_STAMP_HMAC_OFF, TW_AUTH_HMAC_LEN) != 0)
        rc = TW_AUTH_EINTEGRITY;
    return rc;
}

int tw_stamp_tlv_hmac(tw_stamp_crypto_t *s, const uint8_t seq[4], const uint8_t *tlvs, size_t n,
                      uint8_t out[TW_AUTH_HMAC_LEN])
{
    if (!s || !s->mac || !seq || (!tlvs && n))
        return TW_AUTH_EINVAL;
    int rc = mac_restart(s->mac);
    if (rc == TW_AUTH_OK)
        rc = mac_update(s->mac, seq, 4);
    if (rc == TW_AUTH_OK && n)
        rc = mac_update(s->mac, tlvs, n);
    if (rc == TW_AUTH_OK)
        rc = mac_final16(s->mac, out);
    return rc;
}
