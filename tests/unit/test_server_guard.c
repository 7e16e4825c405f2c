/* Unit tests for server_guard: sources (IPv4, IPv6 /64), the per-source rate
 * limiter and its bounded table, the budget of time, and the descriptor limit. Times are given,
 * never read from a clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ntptime.h"
#include "server_guard.h"

#define MS TW_NS_PER_MS

static struct sockaddr_storage v4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(862);
    assert_int_equal(inet_pton(AF_INET, a, &s4->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(862);
    assert_int_equal(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
    return ss;
}

static tw_source_t src_of(struct sockaddr_storage ss)
{
    tw_source_t s;
    tw_source_of(&ss, &s);
    return s;
}

/* ---- sources ------------------------------------------------------------ */

static void test_sources(void **state)
{
    (void)state;
    tw_source_t a = src_of(v4("192.0.2.1")), b = src_of(v4("192.0.2.2"));
    tw_source_t m = src_of(v6("::ffff:192.0.2.1"));
    assert_true(tw_source_eq(&a, &m)); /* IPv4-mapped is IPv4 */
    assert_false(tw_source_eq(&a, &b));
    /* One IPv6 /64 is one source: a host has all of it. */
    tw_source_t x = src_of(v6("2001:db8:1:2::1")), y = src_of(v6("2001:db8:1:2:ffff::7"));
    tw_source_t z = src_of(v6("2001:db8:1:3::1"));
    assert_true(tw_source_eq(&x, &y));
    assert_false(tw_source_eq(&x, &z));
    char buf[64];
    assert_string_equal(tw_source_str(&a, buf, sizeof buf), "192.0.2.1");
    assert_string_equal(tw_source_str(&x, buf, sizeof buf), "2001:db8:1:2::/64");
    struct sockaddr_storage un;
    memset(&un, 0, sizeof un);
    un.ss_family = AF_UNIX;
    tw_source_t u = src_of(un);
    assert_string_equal(tw_source_str(&u, buf, sizeof buf), "local");
    assert_false(tw_source_eq(&u, &a));
}

/* ---- rate limiter ------------------------------------------------------- */

static void test_rate_burst_then_interval(void **state)
{
    (void)state;
    static tw_rate_t r;
    tw_rate_init(&r, 100 * MS, 3);
    tw_source_t a = src_of(v4("192.0.2.1")), b = src_of(v4("192.0.2.2"));
    int64_t t = 1000 * MS;
    for (int i = 0; i < 3; i++)
        assert_true(tw_rate_take(&r, &a, t));
    assert_false(tw_rate_take(&r, &a, t));
    assert_false(tw_rate_take(&r, &a, t + 99 * MS));
    /* Another source has its own burst. */
    assert_true(tw_rate_take(&r, &b, t));
    /* One more per interval. */
    assert_true(tw_rate_take(&r, &a, t + 100 * MS));
    assert_false(tw_rate_take(&r, &a, t + 150 * MS));
    assert_true(tw_rate_take(&r, &a, t + 200 * MS));
    /* After a long pause: the whole burst again, no more. */
    int64_t later = t + 3600 * TW_NS_PER_SEC;
    for (int i = 0; i < 3; i++)
        assert_true(tw_rate_take(&r, &a, later));
    assert_false(tw_rate_take(&r, &a, later));
}

/* The table has TW_RATE_SLOTS slots whatever the number of sources: a source
 * still limited keeps its slot while fresher ones come and go... until every
 * slot is taken by a newer limit; then the oldest is reused. */
static void test_rate_table_bounded(void **state)
{
    (void)state;
    static tw_rate_t r;
    tw_rate_init(&r, TW_NS_PER_SEC, 1);
    tw_source_t a = src_of(v4("192.0.2.1"));
    int64_t t = 1000 * MS;
    assert_true(tw_rate_take(&r, &a, t));
    assert_false(tw_rate_take(&r, &a, t));
    /* Fewer other sources than slots: a stays limited. */
    for (int i = 0; i < TW_RATE_SLOTS - 1; i++) {
        char s[32];
        snprintf(s, sizeof s, "198.51.100.%d", i + 1);
        tw_source_t o = src_of(v4(s));
        assert_true(tw_rate_take(&r, &o, t + MS));
    }
    assert_false(tw_rate_take(&r, &a, t + 2 * MS));
    /* 100,000 more sources: each is let in once, the table stays the same. */
    for (int i = 0; i < 100000; i++) {
        struct sockaddr_storage ss = v4("10.0.0.0");
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
        tw_source_t o = src_of(ss);
        assert_true(tw_rate_take(&r, &o, t + 3 * MS));
        assert_false(tw_rate_take(&r, &o, t + 3 * MS));
    }
    assert_int_equal(sizeof r.slot / sizeof r.slot[0], TW_RATE_SLOTS);
}

/* ---- budget of time ----------------------------------------------------- */

static void test_budget(void **state)
{
    (void)state;
    tw_budget_t b;
    tw_budget_init(&b, 25, 100 * MS);
    int64_t t = 5000 * MS;
    assert_true(tw_budget_allows(&b, t));
    /* Cheap work: many in a row (10 ms each counts 40 ms). */
    tw_budget_spend(&b, t, 10 * MS);
    assert_true(tw_budget_allows(&b, t + 10 * MS));
    tw_budget_spend(&b, t + 10 * MS, 10 * MS);
    assert_true(tw_budget_allows(&b, t + 20 * MS));
    tw_budget_spend(&b, t + 20 * MS, 10 * MS); /* up to t + 120 ms: 100 ms ahead at t + 20 ms */
    assert_false(tw_budget_allows(&b, t + 19 * MS));
    assert_true(tw_budget_allows(&b, t + 20 * MS));
    tw_budget_spend(&b, t + 20 * MS, 10 * MS);
    assert_false(tw_budget_allows(&b, t + 20 * MS));
    assert_true(tw_budget_allows(&b, t + 60 * MS));
    /* One costly piece (200 ms): nothing more for the next 700 ms. */
    tw_budget_t c;
    tw_budget_init(&c, 25, 100 * MS);
    assert_true(tw_budget_allows(&c, t));
    tw_budget_spend(&c, t, 200 * MS);
    assert_false(tw_budget_allows(&c, t + 200 * MS));
    assert_false(tw_budget_allows(&c, t + 699 * MS));
    assert_true(tw_budget_allows(&c, t + 700 * MS));
}

/* ---- descriptors -------------------------------------------------------- */

static void test_fds_open(void **state)
{
    (void)state;
    int n = tw_fds_open();
    assert_true(n >= 3);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(tw_fds_open(), n + 1);
    close(fd);
    assert_int_equal(tw_fds_open(), n);
}

/* In a child: the limits stay the test's own. */
static void test_nofile_fit(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 64, .rlim_max = 128};
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(10);
        long limit = 0;
        char err[128];
        /* Fits as it is: unchanged. */
        if (tw_nofile_fit(50, &limit, err, sizeof err) != 0 || limit != 64)
            _exit(11);
        /* Above the soft limit, below the hard one: raised to the hard one. */
        if (tw_nofile_fit(100, &limit, err, sizeof err) != 0 || limit != 128)
            _exit(12);
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 128)
            _exit(13);
        /* Above the hard limit: refused, saying which. */
        if (tw_nofile_fit(200, &limit, err, sizeof err) != -1 || limit != 128 ||
            strstr(err, "hard limit is 128") == NULL)
            _exit(14);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("tw_nofile_fit: check %d failed (see test_nofile_fit)", WEXITSTATUS(st));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_rate_burst_then_interval),
        cmocka_unit_test(test_rate_table_bounded),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_fds_open),
        cmocka_unit_test(test_nofile_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
