#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ntptime.h"
#include "ratelimit.h"

static struct sockaddr_storage addr(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
    }
    return ss;
}

/* 10 pps, bursts of 5: a burst of 20 at one instant gets 5 through; then one
 * more every 100 ms, and a source idle for a second has its full burst again. */
static void test_bucket(void **state)
{
    (void)state;
    tw_ratelimit_t rl;
    assert_int_equal(tw_ratelimit_init(&rl, 10, 5, 100), 0);
    struct sockaddr_storage a = addr("192.0.2.1", 1000);
    int64_t t = 1000 * TW_NS_PER_SEC;
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += tw_ratelimit_allow(&rl, &a, t);
    assert_int_equal(ok, 5);
    assert_int_equal(rl.refused, 15);
    assert_false(tw_ratelimit_allow(&rl, &a, t + 99 * TW_NS_PER_MS));
    assert_true(tw_ratelimit_allow(&rl, &a, t + 100 * TW_NS_PER_MS));
    assert_false(tw_ratelimit_allow(&rl, &a, t + 150 * TW_NS_PER_MS));
    /* Steady at the rate: every 100 ms one packet, for 10 s, all pass. */
    int64_t u = t + 200 * TW_NS_PER_MS;
    for (int i = 0; i < 100; i++)
        assert_true(tw_ratelimit_allow(&rl, &a, u + i * 100 * TW_NS_PER_MS));
    /* Idle long enough: the whole burst again, and not more. */
    int64_t v = u + 30 * TW_NS_PER_SEC;
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += tw_ratelimit_allow(&rl, &a, v);
    assert_int_equal(ok, 5);
    tw_ratelimit_free(&rl);
}

/* Sources are separate: the port does not matter, the IPv4 address does, and
 * an IPv6 source is its /64. */
static void test_sources(void **state)
{
    (void)state;
    tw_ratelimit_t rl;
    assert_int_equal(tw_ratelimit_init(&rl, 1, 1, 100), 0);
    int64_t t = TW_NS_PER_SEC;
    struct sockaddr_storage a1 = addr("192.0.2.1", 1), a2 = addr("192.0.2.1", 2),
                            b = addr("192.0.2.2", 1);
    assert_true(tw_ratelimit_allow(&rl, &a1, t));
    assert_false(tw_ratelimit_allow(&rl, &a2, t)); /* same address, another port */
    assert_true(tw_ratelimit_allow(&rl, &b, t));
    struct sockaddr_storage c1 = addr("2001:db8:1:2::1", 1), c2 = addr("2001:db8:1:2:ffff::9", 1),
                            d = addr("2001:db8:1:3::1", 1);
    assert_true(tw_ratelimit_allow(&rl, &c1, t));
    assert_false(tw_ratelimit_allow(&rl, &c2, t)); /* same /64 */
    assert_true(tw_ratelimit_allow(&rl, &d, t));
    tw_ratelimit_free(&rl);
}

/* A flood of spoofed sources does not grow the table and costs bounded work. */
static void test_flood_bounded(void **state)
{
    (void)state;
    tw_ratelimit_t rl;
    assert_int_equal(tw_ratelimit_init(&rl, 100, 10, 64), 0);
    int64_t t = TW_NS_PER_SEC;
    for (uint32_t i = 0; i < 100000; i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(0x0a000000 + i);
        assert_true(tw_ratelimit_allow(&rl, &ss, t + i)); /* a new source has its burst */
    }
    assert_true(rl.table.used <= 64);
    assert_true(rl.table.probes <= 100000ull * TW_PEERTABLE_WAYS);
    tw_ratelimit_free(&rl);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    tw_ratelimit_t rl;
    assert_int_equal(tw_ratelimit_init(&rl, 0, 1, 10), -1);
    assert_int_equal(tw_ratelimit_init(&rl, TW_RATELIMIT_MAX_PPS + 1, 1, 10), -1);
    assert_int_equal(tw_ratelimit_init(&rl, 10, 0, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_flood_bounded),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
