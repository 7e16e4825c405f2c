#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "server_metrics.h"

static void test_reflector(void **state)
{
    (void)state;
    tw_reflector_counters_t k = {.received = 10, .reflected = 7, .too_short = 1, .denied = 2};
    tw_prom_t p;
    tw_prom_init(&p, false);
    tw_reflector_prom(&p, &k);
    tw_prom_end(&p);
    assert_non_null(strstr(p.buf, "# TYPE twampy_reflector_packets_received_total counter\n"
                                  "twampy_reflector_packets_received_total 10\n"));
    assert_non_null(strstr(p.buf, "twampy_reflector_packets_reflected_total 7\n"));
    assert_non_null(
        strstr(p.buf, "twampy_reflector_packets_dropped_total{reason=\"too_short\"} 1\n"));
    assert_non_null(strstr(p.buf, "twampy_reflector_packets_dropped_total{reason=\"denied\"} 2\n"));
    assert_non_null(
        strstr(p.buf, "twampy_reflector_packets_dropped_total{reason=\"rate_limited\"} 0\n"));
    tw_prom_free(&p);
}

static void test_server_openmetrics(void **state)
{
    (void)state;
    tw_ctrl_server_counters_t k = {.connections = 5,
                                   .sessions_accepted = 4,
                                   .key_rejected = 1,
                                   .active_connections = 2,
                                   .active_sessions = 3,
                                   .test_received = 12,
                                   .test_reflected = 10,
                                   .test_dropped = 2};
    tw_prom_t p;
    tw_prom_init(&p, true);
    tw_ctrl_server_prom(&p, &k);
    tw_prom_end(&p);
    assert_non_null(strstr(p.buf, "# TYPE twampy_server_connections counter\n"
                                  "twampy_server_connections_total 5\n"));
    assert_non_null(
        strstr(p.buf, "twampy_server_connections_closed_total{reason=\"key_rejected\"} 1\n"));
    assert_non_null(strstr(p.buf, "twampy_server_sessions_accepted_total 4\n"));
    assert_non_null(strstr(p.buf, "twampy_server_test_packets_received_total 12\n"));
    assert_non_null(strstr(p.buf, "twampy_server_test_packets_reflected_total 10\n"));
    assert_non_null(strstr(p.buf, "twampy_server_test_packets_dropped_total 2\n"));
    assert_non_null(strstr(p.buf, "twampy_server_active_connections 2\n"));
    assert_non_null(strstr(p.buf, "twampy_server_active_sessions 3\n# EOF\n"));
    tw_prom_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reflector),
        cmocka_unit_test(test_server_openmetrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
