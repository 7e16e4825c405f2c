#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"

static bool allows(const tw_acl_t *acl, const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
    }
    return tw_acl_allows(acl, (struct sockaddr *)&ss);
}

static void test_empty_allows_all(void **state)
{
    (void)state;
    tw_acl_t acl = {0};
    assert_true(allows(&acl, "192.0.2.1"));
    assert_true(allows(&acl, "2001:db8::1"));
}

static void test_prefixes(void **state)
{
    (void)state;
    tw_acl_t acl = {0};
    char err[128];
    assert_int_equal(tw_acl_add(&acl, "192.0.2.0/25", err, sizeof err), 0);
    assert_int_equal(tw_acl_add(&acl, "2001:db8:1::/48", err, sizeof err), 0);
    assert_int_equal(tw_acl_add(&acl, "127.0.0.1", err, sizeof err), 0);
    assert_true(allows(&acl, "192.0.2.0"));
    assert_true(allows(&acl, "192.0.2.127"));
    assert_false(allows(&acl, "192.0.2.128"));
    assert_false(allows(&acl, "192.0.3.1"));
    assert_true(allows(&acl, "2001:db8:1:ffff::9"));
    assert_false(allows(&acl, "2001:db8:2::1"));
    assert_true(allows(&acl, "127.0.0.1"));
    assert_false(allows(&acl, "127.0.0.2"));
    /* an IPv4-mapped IPv6 source matches the IPv4 prefix */
    assert_true(allows(&acl, "::ffff:192.0.2.5"));
    assert_false(allows(&acl, "::ffff:192.0.2.200"));
    /* and an IPv4-mapped prefix is the IPv4 prefix it names */
    /* An IPv6 prefix that covers the IPv4-mapped range lets IPv4 sources in,
     * in both forms; a narrower IPv6 prefix does not. */
    tw_acl_t six = {0};
    assert_int_equal(tw_acl_add(&six, "::ffff:2.0.2.1/8", err, sizeof err), 0);
    assert_true(allows(&six, "2.0.2.1"));
    assert_true(allows(&six, "::ffff:2.0.2.1"));
    assert_true(allows(&six, "::1"));
    assert_false(allows(&six, "2001:db8::1"));
    tw_acl_t all6 = {0};
    assert_int_equal(tw_acl_add(&all6, "::/0", err, sizeof err), 0);
    assert_true(allows(&all6, "198.51.100.1"));
    tw_acl_t doc6 = {0};
    assert_int_equal(tw_acl_add(&doc6, "2001:db8::/32", err, sizeof err), 0);
    assert_false(allows(&doc6, "198.51.100.1"));
    assert_false(allows(&doc6, "::ffff:198.51.100.1"));
    tw_acl_t m = {0};
    assert_int_equal(tw_acl_add(&m, "::ffff:198.51.100.0/120", err, sizeof err), 0);
    assert_true(allows(&m, "198.51.100.77"));
    assert_true(allows(&m, "::ffff:198.51.100.78"));
    assert_false(allows(&m, "198.51.101.1"));
}

static void test_zero_prefix_and_odd_bits(void **state)
{
    (void)state;
    tw_acl_t acl = {0};
    char err[128];
    assert_int_equal(tw_acl_add(&acl, "0.0.0.0/0", err, sizeof err), 0);
    assert_true(allows(&acl, "203.0.113.9"));
    assert_false(allows(&acl, "::1")); /* an IPv4 prefix does not cover IPv6 */
    tw_acl_t b = {0};
    assert_int_equal(tw_acl_add(&b, "10.0.0.0/13", err, sizeof err), 0);
    assert_true(allows(&b, "10.7.255.255"));
    assert_false(allows(&b, "10.8.0.0"));
}

static void test_bad(void **state)
{
    (void)state;
    tw_acl_t acl = {0};
    char err[128];
    const char *bad[] = {"",
                         "/24",
                         "192.0.2.0/33",
                         "192.0.2.0/",
                         "192.0.2.0/-1",
                         "2001:db8::/129",
                         "host.example",
                         "192.0.2.0/2x",
                         "1.2.3.4.5/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(tw_acl_add(&acl, bad[i], err, sizeof err), -1);
        assert_true(err[0] != 0);
    }
    assert_int_equal(acl.n, 0);
    for (int i = 0; i < TW_ACL_MAX; i++)
        assert_int_equal(tw_acl_add(&acl, "192.0.2.1", err, sizeof err), 0);
    assert_int_equal(tw_acl_add(&acl, "192.0.2.1", err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_allows_all),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_zero_prefix_and_odd_bits),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
