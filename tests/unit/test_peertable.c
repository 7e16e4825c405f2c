#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "peertable.h"

static tw_peer_key_t key4(uint32_t addr, uint16_t port, uint16_t ssid)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(addr);
    s->sin_port = htons(port);
    tw_peer_key_t k;
    tw_peer_key_of(&k, &ss, true, ssid, 0);
    return k;
}

/* The bucket tw_peertable_get picks for k (the same arithmetic). */
static uint32_t bucket_of(const tw_peertable_t *t, const tw_peer_key_t *k)
{
    uint64_t h = tw_siphash24(t->hkey, k, sizeof *k);
    return (uint32_t)(((h >> 32) * (uint64_t)t->nbuckets) >> 32);
}

static void test_find_and_fresh(void **state)
{
    (void)state;
    tw_peertable_t t;
    assert_int_equal(tw_peertable_init(&t, 1000), 0);
    assert_int_equal(t.nbuckets, 125);
    bool fresh;
    tw_peer_key_t a = key4(0x7f000001, 1000, 0), b = key4(0x7f000001, 1001, 0);
    tw_peer_slot_t *sa = tw_peertable_get(&t, &a, 1, &fresh);
    assert_true(fresh);
    assert_int_equal(sa->val, 0);
    sa->val = 42;
    tw_peer_slot_t *sb = tw_peertable_get(&t, &b, 2, &fresh);
    assert_true(fresh);
    assert_ptr_not_equal(sa, sb);
    assert_ptr_equal(tw_peertable_get(&t, &a, 3, &fresh), sa);
    assert_false(fresh);
    assert_int_equal(sa->val, 42);
    assert_int_equal(t.used, 2);
    assert_int_equal(t.evictions, 0);
    tw_peertable_free(&t);
}

/* An IPv4-mapped IPv6 address is its IPv4 address; the port is in the key only
 * when asked for. */
static void test_key_of(void **state)
{
    (void)state;
    struct sockaddr_storage s6;
    memset(&s6, 0, sizeof s6);
    struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&s6;
    p6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &p6->sin6_addr);
    p6->sin6_port = htons(1000);
    tw_peer_key_t k6, k4 = key4(0x7f000001, 1000, 0);
    tw_peer_key_of(&k6, &s6, true, 0, 0);
    assert_memory_equal(&k6, &k4, sizeof k4);
    tw_peer_key_t nop;
    tw_peer_key_of(&nop, &s6, false, 0, 0);
    assert_int_equal(nop.port, 0);
}

/* A hostile sender who knows the hash key (here the test sets it) and fills
 * one bucket with 200 keys: every lookup still compares at most WAYS keys, the
 * bucket keeps the WAYS most recently seen, and the rest were evicted. */
static void test_colliding_keys_bounded(void **state)
{
    (void)state;
    tw_peertable_t t;
    assert_int_equal(tw_peertable_init(&t, 64), 0);
    memset(t.hkey, 0x5a, sizeof t.hkey);
    tw_peer_key_t keys[200];
    int n = 0;
    tw_peer_key_t first = key4(0x0a000001, 1, 0);
    uint32_t target = bucket_of(&t, &first);
    for (uint32_t port = 1; n < 200; port++) {
        tw_peer_key_t k = key4(0x0a000001, (uint16_t)port, (uint16_t)(port >> 16));
        if (bucket_of(&t, &k) == target)
            keys[n++] = k;
    }
    bool fresh;
    for (int i = 0; i < n; i++) {
        uint64_t before = t.probes;
        tw_peer_slot_t *s = tw_peertable_get(&t, &keys[i], 1000 + i, &fresh);
        assert_true(fresh);
        s->last_seen = 1000 + i;
        assert_true(t.probes - before <= TW_PEERTABLE_WAYS);
    }
    assert_int_equal(t.evictions, n - TW_PEERTABLE_WAYS);
    assert_int_equal(t.used, TW_PEERTABLE_WAYS);
    /* The last WAYS are still known, an older one is not. */
    for (int i = n - TW_PEERTABLE_WAYS; i < n; i++) {
        tw_peertable_get(&t, &keys[i], 5000, &fresh);
        assert_false(fresh);
    }
    tw_peertable_get(&t, &keys[0], 5000, &fresh);
    assert_true(fresh);
    tw_peertable_free(&t);
}

/* The least recently seen of a full bucket goes, not the oldest inserted. */
static void test_evicts_least_recent(void **state)
{
    (void)state;
    tw_peertable_t t;
    assert_int_equal(tw_peertable_init(&t, TW_PEERTABLE_WAYS), 0);
    assert_int_equal(t.nbuckets, 1);
    bool fresh;
    for (int i = 0; i < TW_PEERTABLE_WAYS; i++) {
        tw_peer_key_t k = key4(0x7f000001, (uint16_t)(100 + i), 0);
        tw_peertable_get(&t, &k, 10 + i, &fresh)->last_seen = 10 + i;
    }
    /* Port 100 is seen again: port 101 is now the least recent. */
    tw_peer_key_t k100 = key4(0x7f000001, 100, 0), k101 = key4(0x7f000001, 101, 0);
    tw_peertable_get(&t, &k100, 50, &fresh)->last_seen = 50;
    tw_peer_key_t nk = key4(0x7f000001, 999, 0);
    tw_peertable_get(&t, &nk, 60, &fresh)->last_seen = 60;
    assert_true(fresh);
    assert_int_equal(t.evictions, 1);
    tw_peertable_get(&t, &k100, 70, &fresh);
    assert_false(fresh);
    tw_peertable_get(&t, &k101, 70, &fresh);
    assert_true(fresh);
    tw_peertable_free(&t);
}

/* Capacity is exact, also when it is not a multiple of WAYS (the last bucket
 * is smaller) and when it is 1. */
static void test_capacity(void **state)
{
    (void)state;
    uint32_t caps[] = {1, 7, 9, 1000, 65536};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        tw_peertable_t t;
        assert_int_equal(tw_peertable_init(&t, caps[c]), 0);
        bool fresh;
        for (uint32_t i = 0; i < 3 * caps[c] + 10; i++) {
            tw_peer_key_t k = key4(0x0a000000 + i, 1, 0);
            tw_peertable_get(&t, &k, i, &fresh)->last_seen = i;
        }
        assert_true(t.used <= caps[c]);
        if (caps[c] <= TW_PEERTABLE_WAYS)
            assert_int_equal(t.used, caps[c]);
        tw_peertable_free(&t);
    }
    tw_peertable_t t;
    assert_int_equal(tw_peertable_init(&t, 0), -1);
}

/* Two tables get different random hash keys. */
static void test_random_key(void **state)
{
    (void)state;
    tw_peertable_t a, b;
    assert_int_equal(tw_peertable_init(&a, 8), 0);
    assert_int_equal(tw_peertable_init(&b, 8), 0);
    assert_memory_not_equal(a.hkey, b.hkey, sizeof a.hkey);
    tw_peertable_free(&a);
    tw_peertable_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_fresh),
        cmocka_unit_test(test_key_of),
        cmocka_unit_test(test_colliding_keys_bounded),
        cmocka_unit_test(test_evicts_least_recent),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_random_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
