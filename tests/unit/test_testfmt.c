/* Unit tests for testfmt: setting up each protected format, the protection
 * of each direction in it (a round trip, a flipped bit refused), the open
 * format refusing to protect, and the once-a-second Error Estimate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "control_wire.h"
#include "ntptime.h"
#include "testfmt.h"

static void fill(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

/* The test keys of a session (both ends derive the same). */
static void twamp_keys(tw_test_crypto_t *t)
{
    uint8_t aes[16], hmac[32], sid[16];
    fill(aes, sizeof aes, 0x20);
    fill(hmac, sizeof hmac, 0x30);
    fill(sid, sizeof sid, 0xc0);
    assert_int_equal(tw_test_crypto_init(t, aes, hmac, sid), TW_AUTH_OK);
}

/* pkt through protect then open (on a copy that has one bit flipped, too):
 * the same octets again but for the HMAC field at hmac_off. */
static void round_trip(tw_testfmt_t *tx, tw_testfmt_t *rx, bool reflector, size_t len,
                       size_t hmac_off)
{
    uint8_t plain[200], pkt[200], bad[200];
    fill(plain, len, 1);
    memcpy(pkt, plain, len);
    int (*protect)(tw_testfmt_t *, uint8_t *, size_t) =
        reflector ? tw_testfmt_reflector_protect : tw_testfmt_sender_protect;
    int (*open)(tw_testfmt_t *, uint8_t *, size_t) =
        reflector ? tw_testfmt_reflector_open : tw_testfmt_sender_open;
    assert_int_equal(protect(tx, pkt, len), TW_AUTH_OK);
    memcpy(bad, pkt, len);
    bad[5] ^= 0x10;
    assert_int_equal(open(rx, bad, len), TW_AUTH_EINTEGRITY);
    assert_int_equal(open(rx, pkt, len), TW_AUTH_OK);
    assert_memory_equal(pkt, plain, hmac_off);
    assert_memory_equal(pkt + hmac_off + 16, plain + hmac_off + 16, len - hmac_off - 16);
    /* Too short for the format: refused before anything is read. */
    assert_int_equal(open(rx, pkt, reflector ? 111 : 47), TW_AUTH_EINVAL);
}

static void test_open_format(void **state)
{
    (void)state;
    tw_testfmt_t f;
    memset(&f, 0, sizeof f);
    assert_int_equal(f.kind, TW_TESTFMT_OPEN);
    uint8_t pkt[112] = {0};
    assert_int_equal(tw_testfmt_sender_protect(&f, pkt, sizeof pkt), TW_AUTH_EINVAL);
    assert_int_equal(tw_testfmt_sender_open(&f, pkt, sizeof pkt), TW_AUTH_EINVAL);
    assert_int_equal(tw_testfmt_reflector_protect(&f, pkt, sizeof pkt), TW_AUTH_EINVAL);
    assert_int_equal(tw_testfmt_reflector_open(&f, pkt, sizeof pkt), TW_AUTH_EINVAL);
    tw_testfmt_free(&f);
}

static void test_stamp_auth(void **state)
{
    (void)state;
    const uint8_t key[] = "a STAMP key";
    tw_testfmt_t tx, rx;
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    assert_int_equal(tw_testfmt_set_stamp_key(&tx, key, sizeof key - 1), TW_AUTH_OK);
    assert_int_equal(tw_testfmt_set_stamp_key(&rx, key, sizeof key - 1), TW_AUTH_OK);
    assert_int_equal(tx.kind, TW_TESTFMT_STAMP_AUTH);
    round_trip(&tx, &rx, false, 112, 96);
    round_trip(&tx, &rx, true, 120, 96);
    /* TWAMP's keys do not go with authenticated STAMP. */
    tw_test_crypto_t t;
    twamp_keys(&t);
    assert_int_equal(tw_testfmt_set_twamp(&tx, TW_MODE_AUTHENTICATED, &t), TW_AUTH_EINVAL);
    tw_test_crypto_free(&t);
    /* Another key: refused. */
    tw_testfmt_t other;
    memset(&other, 0, sizeof other);
    assert_int_equal(tw_testfmt_set_stamp_key(&other, (const uint8_t *)"x", 1), TW_AUTH_OK);
    uint8_t pkt[112] = {0};
    assert_int_equal(tw_testfmt_sender_protect(&tx, pkt, sizeof pkt), TW_AUTH_OK);
    assert_int_equal(tw_testfmt_sender_open(&other, pkt, sizeof pkt), TW_AUTH_EINTEGRITY);
    tw_testfmt_free(&other);
    tw_testfmt_free(&tx);
    tw_testfmt_free(&rx);
    assert_int_equal(tx.kind, TW_TESTFMT_OPEN);
}

static void test_twamp_modes(void **state)
{
    (void)state;
    const uint32_t modes[] = {TW_MODE_AUTHENTICATED, TW_MODE_ENCRYPTED};
    for (size_t i = 0; i < 2; i++) {
        tw_testfmt_t tx, rx;
        memset(&tx, 0, sizeof tx);
        memset(&rx, 0, sizeof rx);
        tw_test_crypto_t a, b;
        twamp_keys(&a);
        twamp_keys(&b);
        assert_int_equal(tw_testfmt_set_twamp(&tx, modes[i], &a), TW_AUTH_OK);
        assert_int_equal(tw_testfmt_set_twamp(&rx, modes[i], &b), TW_AUTH_OK);
        /* The keys are taken over. */
        assert_null(a.enc);
        assert_null(a.mac);
        assert_int_equal(tx.kind, TW_TESTFMT_TWAMP_AUTH);
        assert_int_equal(tx.test_mode, modes[i]);
        round_trip(&tx, &rx, false, 48, 32);
        round_trip(&tx, &rx, true, 112, 96);
        tw_testfmt_free(&tx);
        tw_testfmt_free(&rx);
    }
    /* Modes without protected test packets, or no keys: refused. */
    tw_testfmt_t f;
    memset(&f, 0, sizeof f);
    tw_test_crypto_t t;
    twamp_keys(&t);
    assert_int_equal(tw_testfmt_set_twamp(&f, TW_MODE_UNAUTHENTICATED, &t), TW_AUTH_EINVAL);
    assert_int_equal(tw_testfmt_set_twamp(&f, TW_MODE_MIXED, &t), TW_AUTH_EINVAL);
    assert_int_equal(tw_testfmt_set_twamp(&f, TW_MODE_ENCRYPTED, NULL), TW_AUTH_EINVAL);
    assert_int_equal(f.kind, TW_TESTFMT_OPEN);
    tw_test_crypto_free(&t);
}

/* Read at most once a second: a value cached less than a second ago is
 * returned as it is (a value the clock never gives without ptp: the Z bit). */
static void test_errest_cached(void **state)
{
    (void)state;
    tw_errest_cache_t c = {0};
    int64_t t = 1000 * TW_NS_PER_SEC;
    uint16_t v = tw_errest_cached(&c, t, false);
    assert_int_equal(v & 0x4000, 0);
    assert_int_equal(c.at, t);
    c.value = 0x7fff;
    assert_int_equal(tw_errest_cached(&c, t + TW_NS_PER_SEC / 2, false), 0x7fff);
    assert_int_equal(tw_errest_cached(&c, t + TW_NS_PER_SEC, false), 0x7fff);
    /* More than a second: read again. */
    v = tw_errest_cached(&c, t + TW_NS_PER_SEC + 1, false);
    assert_int_equal(v & 0x4000, 0);
    assert_int_equal(c.at, t + TW_NS_PER_SEC + 1);
    /* PTP timestamps: the Z bit. */
    tw_errest_cache_t z = {0};
    assert_int_equal(tw_errest_cached(&z, t, true) & 0x4000, 0x4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_format),
        cmocka_unit_test(test_stamp_auth),
        cmocka_unit_test(test_twamp_modes),
        cmocka_unit_test(test_errest_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
