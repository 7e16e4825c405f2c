#include "testfmt.h"

#include <string.h>

#include "ntptime.h"

int tw_testfmt_set_stamp_key(tw_testfmt_t *f, const uint8_t *key, size_t key_len)
{
    tw_stamp_crypto_t sc;
    int rc = tw_stamp_crypto_init(&sc, key, key_len);
    if (rc < 0)
        return rc;
    tw_test_crypto_free(&f->tc);
    tw_stamp_crypto_free(&f->sc);
    f->sc = sc;
    f->test_mode = 0;
    f->kind = TW_TESTFMT_STAMP_AUTH;
    return TW_AUTH_OK;
}

int tw_testfmt_set_twamp(tw_testfmt_t *f, uint32_t mode, tw_test_crypto_t *t)
{
    if (!t || !tw_mode_test_protected(mode) || f->kind == TW_TESTFMT_STAMP_AUTH)
        return TW_AUTH_EINVAL;
    tw_test_crypto_free(&f->tc);
    f->tc = *t;
    memset(t, 0, sizeof *t);
    f->test_mode = mode;
    f->kind = TW_TESTFMT_TWAMP_AUTH;
    return TW_AUTH_OK;
}

void tw_testfmt_free(tw_testfmt_t *f)
{
    tw_test_crypto_free(&f->tc);
    tw_stamp_crypto_free(&f->sc);
    memset(f, 0, sizeof *f);
}

int tw_testfmt_sender_protect(tw_testfmt_t *f, uint8_t *pkt, size_t len)
{
    switch (f->kind) {
    case TW_TESTFMT_STAMP_AUTH:
        return tw_stamp_hmac_put(&f->sc, pkt, len);
    case TW_TESTFMT_TWAMP_AUTH:
        return tw_test_sender_protect(&f->tc, f->test_mode, pkt, len);
    default:
        return TW_AUTH_EINVAL;
    }
}

int tw_testfmt_sender_open(tw_testfmt_t *f, uint8_t *pkt, size_t len)
{
    switch (f->kind) {
    case TW_TESTFMT_STAMP_AUTH:
        return tw_stamp_hmac_check(&f->sc, pkt, len);
    case TW_TESTFMT_TWAMP_AUTH:
        return tw_test_sender_open(&f->tc, f->test_mode, pkt, len);
    default:
        return TW_AUTH_EINVAL;
    }
}

int tw_testfmt_reflector_protect(tw_testfmt_t *f, uint8_t *pkt, size_t len)
{
    switch (f->kind) {
    case TW_TESTFMT_STAMP_AUTH:
        return tw_stamp_hmac_put(&f->sc, pkt, len);
    case TW_TESTFMT_TWAMP_AUTH:
        return tw_test_reflector_protect(&f->tc, f->test_mode, pkt, len);
    default:
        return TW_AUTH_EINVAL;
    }
}

int tw_testfmt_reflector_open(tw_testfmt_t *f, uint8_t *pkt, size_t len)
{
    switch (f->kind) {
    case TW_TESTFMT_STAMP_AUTH:
        return tw_stamp_hmac_check(&f->sc, pkt, len);
    case TW_TESTFMT_TWAMP_AUTH:
        return tw_test_reflector_open(&f->tc, f->test_mode, pkt, len);
    default:
        return TW_AUTH_EINVAL;
    }
}

uint16_t tw_errest_cached(tw_errest_cache_t *c, int64_t mono, bool ptp)
{
    if (!c->at || mono - c->at > TW_NS_PER_SEC) {
        tw_errest_t e = tw_clock_errest(ptp);
        c->value = tw_errest_encode(&e);
        c->at = mono;
    }
    return c->value;
}
