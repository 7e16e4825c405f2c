/* Unit tests for addr: twampy address syntax, resolution and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* Parse s (default port 20001), expecting success. */
static tw_addr_spec_t parse_ok(const char *s)
{
    tw_addr_spec_t spec;
    char err[256] = "";

    memset(&spec, 0x5a, sizeof(spec));
    if (tw_addr_parse(s, 20001, &spec, err, sizeof(err)) != 0)
        fail_msg("parse of '%s' failed: %s", s ? s : "(null)", err);
    return spec;
}

/* Parse s expecting an error whose text contains every non-NULL needle. */
static void parse_bad(const char *s, const char *needle1, const char *needle2)
{
    tw_addr_spec_t spec;
    char err[256] = "";

    memset(&spec, 0, sizeof(spec));
    if (tw_addr_parse(s, 20001, &spec, err, sizeof(err)) != -1)
        fail_msg("parse of '%s' succeeded", s);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (needle1 != NULL && strstr(err, needle1) == NULL)
        fail_msg("error for '%s' is '%s', lacks '%s'", s, err, needle1);
    if (needle2 != NULL && strstr(err, needle2) == NULL)
        fail_msg("error for '%s' is '%s', lacks '%s'", s, err, needle2);
}

static void test_parse_empty(void **state)
{
    tw_addr_spec_t a = parse_ok("");

    assert_string_equal(a.host, "");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);
    assert_int_equal(a.family, AF_UNSPEC);

    a = parse_ok(NULL);
    assert_string_equal(a.host, "");
    assert_int_equal(a.port, 20001);
}

static void test_parse_port_only(void **state)
{
    tw_addr_spec_t a = parse_ok(":862");

    assert_string_equal(a.host, "");
    assert_int_equal(a.port, 862);
    assert_true(a.has_port);
    assert_int_equal(a.family, AF_UNSPEC);
}

static void test_parse_ipv4(void **state)
{
    tw_addr_spec_t a = parse_ok("192.0.2.1");

    assert_string_equal(a.host, "192.0.2.1");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);
    assert_int_equal(a.family, AF_INET);

    a = parse_ok("192.0.2.1:862");
    assert_string_equal(a.host, "192.0.2.1");
    assert_int_equal(a.port, 862);
    assert_true(a.has_port);
    assert_int_equal(a.family, AF_INET);
}

static void test_parse_ipv6_bracketed(void **state)
{
    tw_addr_spec_t a = parse_ok("[2001:db8::1]");

    assert_string_equal(a.host, "2001:db8::1");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);
    assert_int_equal(a.family, AF_INET6);

    a = parse_ok("[2001:db8::1]:862");
    assert_string_equal(a.host, "2001:db8::1");
    assert_int_equal(a.port, 862);
    assert_true(a.has_port);
    assert_int_equal(a.family, AF_INET6);

    a = parse_ok("[::]:5");
    assert_string_equal(a.host, "::");
    assert_int_equal(a.port, 5);

    a = parse_ok("[::ffff:192.0.2.1]:7");
    assert_string_equal(a.host, "::ffff:192.0.2.1");
    assert_int_equal(a.port, 7);
    assert_int_equal(a.family, AF_INET6);

    a = parse_ok("[fe80::1%lo]:9");
    assert_string_equal(a.host, "fe80::1%lo");
    assert_int_equal(a.port, 9);
    assert_int_equal(a.family, AF_INET6);
}

static void test_parse_ipv6_bare(void **state)
{
    tw_addr_spec_t a = parse_ok("::1");

    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);
    assert_int_equal(a.family, AF_INET6);

    a = parse_ok("2001:db8::1");
    assert_string_equal(a.host, "2001:db8::1");
    assert_int_equal(a.family, AF_INET6);

    /* two colons: the last group is part of the address, not a port */
    a = parse_ok("2001:db8::862");
    assert_string_equal(a.host, "2001:db8::862");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);

    a = parse_ok("fe80::1%eth0");
    assert_string_equal(a.host, "fe80::1%eth0");
    assert_int_equal(a.family, AF_INET6);
}

static void test_parse_host(void **state)
{
    tw_addr_spec_t a = parse_ok("localhost");

    assert_string_equal(a.host, "localhost");
    assert_int_equal(a.port, 20001);
    assert_false(a.has_port);
    assert_int_equal(a.family, AF_UNSPEC);

    a = parse_ok("reflector.example.com:862");
    assert_string_equal(a.host, "reflector.example.com");
    assert_int_equal(a.port, 862);
    assert_true(a.has_port);
    assert_int_equal(a.family, AF_UNSPEC);
}

static void test_parse_port_range(void **state)
{
    tw_addr_spec_t a = parse_ok("1.2.3.4:0");

    assert_int_equal(a.port, 0);
    assert_true(a.has_port);
    a = parse_ok("1.2.3.4:65535");
    assert_int_equal(a.port, 65535);
    a = parse_ok("1.2.3.4:00862");
    assert_int_equal(a.port, 862);
    a = parse_ok("[::1]:65535");
    assert_int_equal(a.port, 65535);
    a = parse_ok(":1");
    assert_int_equal(a.port, 1);
}

static void test_parse_bad_ports(void **state)
{
    parse_bad("1.2.3.4:70000", "70000", "0..65535");
    parse_bad("1.2.3.4:65536", "65536", "0..65535");
    parse_bad("1.2.3.4:99999999999999999999999", "99999999999999999999999", NULL);
    parse_bad(":70000", "70000", NULL);
    parse_bad("[::1]:70000", "70000", NULL);
    parse_bad("1.2.3.4:12a", "'12a'", NULL);
    parse_bad("1.2.3.4:-1", "'-1'", NULL);
    parse_bad("1.2.3.4:+1", "'+1'", NULL);
    parse_bad("1.2.3.4: 1", "' 1'", NULL);
    parse_bad("1.2.3.4:0x10", "'0x10'", NULL);
    parse_bad("host:abc", "'abc'", NULL);
    parse_bad("1.2.3.4:", "missing port", "'1.2.3.4:'");
    parse_bad(":", "missing port", NULL);
    parse_bad("[::1]:", "missing port", "'[::1]:'");
    parse_bad("[::1]:x", "'x'", NULL);
}

static void test_parse_bad_brackets(void **state)
{
    parse_bad("[::1", "missing ']'", "'[::1'");
    parse_bad("[::1]x", "'x'", "'[::1]x'");
    parse_bad("[::1]5", "'5'", NULL);
    parse_bad("::1]:5", "'::1]:5'", NULL);
    parse_bad("1.2.3.4]", "'1.2.3.4]'", NULL);
    parse_bad("a[b", "'a[b'", NULL);
    parse_bad("[]", "'[]'", NULL);
    parse_bad("[]:5", "'[]:5'", NULL);
    parse_bad("[192.0.2.1]:5", "'192.0.2.1'", NULL);
    parse_bad("[localhost]", "'localhost'", NULL);
    parse_bad("[::1]]", "']'", NULL);
    parse_bad("[[::1]]", "'[::1'", NULL);
}

static void test_parse_bad_ipv6(void **state)
{
    parse_bad("a:b:c", "'a:b:c'", NULL);
    parse_bad("1.2.3.4:5:6", "'1.2.3.4:5:6'", NULL);
    parse_bad("1:2:3:4:5:6:7:8:9", "'1:2:3:4:5:6:7:8:9'", NULL);
    parse_bad("fe80::1%", "'fe80::1%'", NULL);
    parse_bad("[fe80::1%]", "'fe80::1%'", NULL);
}

static void test_parse_too_long(void **state)
{
    char s[400];

    memset(s, 'a', 300);
    s[300] = '\0';
    parse_bad(s, "too long", NULL);
    strcpy(s + 256, ":5");
    parse_bad(s, "too long", NULL);
    s[255] = '\0';
    {
        tw_addr_spec_t a = parse_ok(s);

        assert_int_equal(strlen(a.host), 255);
    }
}

static void test_parse_err_optional(void **state)
{
    tw_addr_spec_t a;

    /* err may be NULL or empty */
    assert_int_equal(tw_addr_parse("1.2.3.4:70000", 1, &a, NULL, 0), -1);
    assert_int_equal(tw_addr_parse("[::1", 1, &a, NULL, 0), -1);
    assert_int_equal(tw_addr_parse("1.2.3.4:7", 1, &a, NULL, 0), 0);
    assert_int_equal(a.port, 7);
}

/* Resolve text with family/passive, expecting success; returns the formatted result. */
static const char *resolve_ok(const char *text, int family, bool passive, char *out, size_t outlen)
{
    tw_addr_spec_t spec;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char err[256] = "";

    if (tw_addr_parse(text, 20001, &spec, err, sizeof(err)) != 0)
        fail_msg("parse of '%s' failed: %s", text, err);
    if (tw_addr_resolve(&spec, family, passive, &ss, &sslen, err, sizeof(err)) != 0)
        fail_msg("resolve of '%s' failed: %s", text, err);
    if (ss.ss_family == AF_INET)
        assert_int_equal(sslen, sizeof(struct sockaddr_in));
    else if (ss.ss_family == AF_INET6)
        assert_int_equal(sslen, sizeof(struct sockaddr_in6));
    else
        fail_msg("resolve of '%s' gave family %d", text, ss.ss_family);
    return tw_addr_str((const struct sockaddr *)&ss, out, outlen);
}

static void resolve_bad(const char *text, int family, const char *needle1, const char *needle2)
{
    tw_addr_spec_t spec;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char err[256] = "";

    if (tw_addr_parse(text, 20001, &spec, err, sizeof(err)) != 0)
        fail_msg("parse of '%s' failed: %s", text, err);
    if (tw_addr_resolve(&spec, family, false, &ss, &sslen, err, sizeof(err)) != -1)
        fail_msg("resolve of '%s' succeeded", text);
    assert_null(strchr(err, '\n'));
    if (needle1 != NULL && strstr(err, needle1) == NULL)
        fail_msg("error for '%s' is '%s', lacks '%s'", text, err, needle1);
    if (needle2 != NULL && strstr(err, needle2) == NULL)
        fail_msg("error for '%s' is '%s', lacks '%s'", text, err, needle2);
}

static void test_resolve_literals(void **state)
{
    char buf[TW_ADDRSTRLEN];

    assert_string_equal(resolve_ok("192.0.2.1:862", AF_UNSPEC, false, buf, sizeof(buf)),
                        "192.0.2.1:862");
    assert_string_equal(resolve_ok("192.0.2.1", AF_INET, false, buf, sizeof(buf)),
                        "192.0.2.1:20001");
    assert_string_equal(resolve_ok("192.0.2.1:0", AF_INET, true, buf, sizeof(buf)), "192.0.2.1:0");
    assert_string_equal(resolve_ok("[2001:db8::1]:862", AF_UNSPEC, false, buf, sizeof(buf)),
                        "[2001:db8::1]:862");
    assert_string_equal(resolve_ok("2001:db8::1", AF_INET6, false, buf, sizeof(buf)),
                        "[2001:db8::1]:20001");
    assert_string_equal(resolve_ok("[::1]:5", AF_INET6, true, buf, sizeof(buf)), "[::1]:5");
    /* an IPv4-mapped IPv6 literal is IPv6 but shown as IPv4 */
    assert_string_equal(resolve_ok("[::ffff:192.0.2.7]:9", AF_INET6, false, buf, sizeof(buf)),
                        "192.0.2.7:9");
}

static void test_resolve_empty_host(void **state)
{
    char buf[TW_ADDRSTRLEN];

    assert_string_equal(resolve_ok("", AF_UNSPEC, true, buf, sizeof(buf)), "0.0.0.0:20001");
    assert_string_equal(resolve_ok("", AF_UNSPEC, false, buf, sizeof(buf)), "127.0.0.1:20001");
    assert_string_equal(resolve_ok(":862", AF_INET, true, buf, sizeof(buf)), "0.0.0.0:862");
    assert_string_equal(resolve_ok(":862", AF_INET, false, buf, sizeof(buf)), "127.0.0.1:862");
    assert_string_equal(resolve_ok(":862", AF_INET6, true, buf, sizeof(buf)), "[::]:862");
    assert_string_equal(resolve_ok(":862", AF_INET6, false, buf, sizeof(buf)), "[::1]:862");
}

static void test_resolve_family_mismatch(void **state)
{
    resolve_bad("2001:db8::1", AF_INET, "address 2001:db8::1 is IPv6 but the other address is IPv4",
                NULL);
    resolve_bad("[2001:db8::1]:5", AF_INET,
                "address 2001:db8::1 is IPv6 but the other address is IPv4", NULL);
    resolve_bad("192.0.2.1:5", AF_INET6, "address 192.0.2.1 is IPv4 but the other address is IPv6",
                NULL);
}

static void test_resolve_names(void **state)
{
    char buf[TW_ADDRSTRLEN];

    assert_string_equal(resolve_ok("localhost:862", AF_INET, false, buf, sizeof(buf)),
                        "127.0.0.1:862");
    /* AF_UNSPEC takes whichever address comes first: loopback of either family */
    resolve_ok("localhost", AF_UNSPEC, false, buf, sizeof(buf));
    if (strcmp(buf, "127.0.0.1:20001") != 0 && strcmp(buf, "[::1]:20001") != 0)
        fail_msg("localhost resolved to %s", buf);
}

static void test_resolve_unknown_name(void **state)
{
    tw_addr_spec_t spec;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char err[256] = "";

    /* Resolving a name that does not exist asks the system's DNS server, which
     * is not on loopback: only do it in a network namespace of our own (ctest
     * runs this program under `unshare -rn` where it can), where the query
     * fails on the spot and never leaves the machine. */
    if (!getenv("TWAMPY_TEST_NETNS"))
        skip();

    resolve_bad("no-such-host.invalid:862", AF_UNSPEC, "'no-such-host.invalid'", "cannot resolve");
    resolve_bad("no-such-host.invalid", AF_INET, "'no-such-host.invalid'", "IPv4");
    resolve_bad("no-such-host.invalid", AF_INET6, "'no-such-host.invalid'", "IPv6");

    /* the reason ends with gai_strerror's text */
    assert_int_equal(tw_addr_parse("no-such-host.invalid", 1, &spec, err, sizeof(err)), 0);
    assert_int_equal(tw_addr_resolve(&spec, AF_UNSPEC, false, &ss, &sslen, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "': "));
    assert_true(strlen(strstr(err, "': ")) > 3);
}

static void test_resolve_bad_family(void **state)
{
    tw_addr_spec_t spec;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char err[256] = "";

    assert_int_equal(tw_addr_parse("192.0.2.1", 1, &spec, err, sizeof(err)), 0);
    assert_int_equal(tw_addr_resolve(&spec, AF_UNIX, false, &ss, &sslen, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "family"));
}

static void test_addr_str(void **state)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_storage ss;
    char buf[TW_ADDRSTRLEN];
    char small[8];

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(862);
    assert_int_equal(inet_pton(AF_INET, "198.51.100.42", &sin.sin_addr), 1);
    assert_string_equal(tw_addr_str((struct sockaddr *)&sin, buf, sizeof(buf)),
                        "198.51.100.42:862");
    assert_string_equal(tw_addr_ip_str((struct sockaddr *)&sin, buf, sizeof(buf)), "198.51.100.42");

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(20001);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr), 1);
    assert_string_equal(tw_addr_str((struct sockaddr *)&sin6, buf, sizeof(buf)),
                        "[2001:db8::1]:20001");
    assert_string_equal(tw_addr_ip_str((struct sockaddr *)&sin6, buf, sizeof(buf)), "2001:db8::1");

    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr), 1);
    assert_string_equal(tw_addr_str((struct sockaddr *)&sin6, buf, sizeof(buf)), "192.0.2.1:20001");
    assert_string_equal(tw_addr_ip_str((struct sockaddr *)&sin6, buf, sizeof(buf)), "192.0.2.1");

    /* from a sockaddr_storage, as a caller holds it */
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, &sin, sizeof(sin));
    assert_string_equal(tw_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "198.51.100.42:862");

    /* truncated, but terminated */
    assert_string_equal(tw_addr_str((struct sockaddr *)&sin, small, sizeof(small)), "198.51.");
    assert_string_equal(tw_addr_ip_str((struct sockaddr *)&sin, small, sizeof(small)), "198.51.");

    /* unknown family */
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    assert_string_equal(tw_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "?");
    assert_string_equal(tw_addr_ip_str((struct sockaddr *)&ss, buf, sizeof(buf)), "?");
}

static void test_roundtrip_text(void **state)
{
    /* parse -> resolve -> format gives back the canonical text */
    static const char *const cases[][2] = {
        {"192.0.2.1:862", "192.0.2.1:862"},
        {"[2001:db8:0:0::1]:862", "[2001:db8::1]:862"},
        {"2001:DB8::A", "[2001:db8::a]:20001"},
        {"10.0.0.1", "10.0.0.1:20001"},
    };
    char buf[TW_ADDRSTRLEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(resolve_ok(cases[i][0], AF_UNSPEC, false, buf, sizeof(buf)),
                            cases[i][1]);
}

static bool local_str(const char *ip)
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
    return tw_addr_is_local((struct sockaddr *)&ss);
}

/* Loopback, unspecified and this host's interface addresses are local; a
 * documentation address (never configured here) is not. */
static void test_is_local(void **state)
{
    (void)state;
    assert_true(local_str("127.0.0.1"));
    assert_true(local_str("127.1.2.3"));
    assert_true(local_str("0.0.0.0"));
    assert_true(local_str("::1"));
    assert_true(local_str("::ffff:127.0.0.1"));
    assert_false(local_str("192.0.2.1"));
    assert_false(local_str("2001:db8::1"));
    assert_false(local_str("::ffff:192.0.2.1"));
    assert_false(tw_addr_is_local(NULL));
    struct ifaddrs *ifa = NULL;
    assert_int_equal(getifaddrs(&ifa), 0);
    for (const struct ifaddrs *i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr &&
            (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            assert_true(tw_addr_is_local(i->ifa_addr));
    freeifaddrs(ifa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_port_only),
        cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_parse_ipv6_bracketed),
        cmocka_unit_test(test_parse_ipv6_bare),
        cmocka_unit_test(test_parse_host),
        cmocka_unit_test(test_parse_port_range),
        cmocka_unit_test(test_parse_bad_ports),
        cmocka_unit_test(test_parse_bad_brackets),
        cmocka_unit_test(test_parse_bad_ipv6),
        cmocka_unit_test(test_parse_too_long),
        cmocka_unit_test(test_parse_err_optional),
        cmocka_unit_test(test_resolve_literals),
        cmocka_unit_test(test_resolve_empty_host),
        cmocka_unit_test(test_resolve_family_mismatch),
        cmocka_unit_test(test_resolve_names),
        cmocka_unit_test(test_resolve_unknown_name),
        cmocka_unit_test(test_resolve_bad_family),
        cmocka_unit_test(test_addr_str),
        cmocka_unit_test(test_roundtrip_text),
        cmocka_unit_test(test_is_local),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
