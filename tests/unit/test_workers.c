/* workers: a pool of loops run on threads and stopped from any of them;
 * reflectors on every worker sharing one port (SO_REUSEPORT) that answer
 * every sender, with counters that add up; a port another socket holds is
 * refused as with one worker. Loopback only; readiness by replies received,
 * never by sleeping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ntptime.h"
#include "wire.h"
#include "workers.h"

static void test_online(void **state)
{
    (void)state;
    int n = tw_workers_online();
    assert_true(n >= 1 && n <= TW_WORKERS_MAX);
}

static void test_new_bounds(void **state)
{
    (void)state;
    tw_workers_t *w = (tw_workers_t *)1;
    assert_int_equal(tw_workers_new(&w, 0), -1);
    assert_null(w);
    assert_int_equal(tw_workers_new(&w, TW_WORKERS_MAX + 1), -1);
    assert_int_equal(tw_workers_new(&w, 3), 0);
    assert_int_equal(tw_workers_count(w), 3);
    assert_non_null(tw_workers_loop(w, 2));
    assert_null(tw_workers_loop(w, 3));
    assert_null(tw_workers_loop(w, -1));
    tw_workers_free(w);
}

/* A timer on the last worker's loop stops the whole pool: it runs on another
 * thread than tw_workers_run's caller. */
struct stopper {
    tw_workers_t *w;
    tw_timer_t t;
    int fired;
};

static void stop_all(void *arg)
{
    struct stopper *s = arg;
    s->fired++;
    tw_workers_stop(s->w);
}

static void test_stop_from_a_worker(void **state)
{
    (void)state;
    for (int n = 1; n <= 4; n++) {
        tw_workers_t *w;
        assert_int_equal(tw_workers_new(&w, n), 0);
        struct stopper s = {.w = w};
        tw_loop_t *last = tw_workers_loop(w, n - 1);
        tw_timer_set(last, &s.t, tw_mono_now(), stop_all, &s);
        assert_int_equal(tw_workers_run(w), 0);
        assert_int_equal(s.fired, 1);
        /* Run again: the stop requests were drained. */
        tw_timer_set(last, &s.t, tw_mono_now(), stop_all, &s);
        assert_int_equal(tw_workers_run(w), 0);
        assert_int_equal(s.fired, 2);
        tw_workers_free(w);
    }
}

/* Senders on their own sockets (distinct source ports), each sending COUNT
 * requests one at a time and waiting for each reply; then stop the pool. */
#define SENDERS 8
#define COUNT 20

struct client {
    tw_workers_t *w;
    uint16_t port;
    int replies;
    int bad;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fds[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&to, sizeof to) < 0)
            c->bad++;
    }
    for (int k = 0; k < COUNT && !c->bad; k++) {
        for (int i = 0; i < SENDERS; i++) {
            uint8_t req[44] = {0}, rep[128];
            tw_put32(req, (uint32_t)k);
            tw_put64(req + 4, tw_time_to_ntp(tw_now()));
            if (send(fds[i], req, sizeof req, 0) != (ssize_t)sizeof req) {
                c->bad++;
                continue;
            }
            struct pollfd pfd = {.fd = fds[i], .events = POLLIN};
            if (poll(&pfd, 1, 10000) != 1 || recv(fds[i], rep, sizeof rep, 0) < 41) {
                c->bad++;
                continue;
            }
            /* Stateful: each sender's reflector sequence number counts its own. */
            if (tw_get32(rep) != (uint32_t)k)
                c->bad++;
            c->replies++;
        }
    }
    for (int i = 0; i < SENDERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    tw_workers_stop(c->w);
    return NULL;
}

static void test_reflectors_share_a_port(void **state)
{
    (void)state;
    for (int n = 1; n <= 3; n++) {
        tw_workers_t *w;
        assert_int_equal(tw_workers_new(&w, n), 0);
        tw_reflector_cfg_t cfg;
        memset(&cfg, 0, sizeof cfg);
        struct sockaddr_in *s = (struct sockaddr_in *)&cfg.local;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cfg.local_len = sizeof *s;
        cfg.sockopts.ttl = 64;
        cfg.max_senders = 64;
        tw_reflector_t *r[3];
        char err[256];
        if (tw_workers_reflectors_open(r, &cfg, w, err, sizeof err) < 0)
            fail_msg("tw_workers_reflectors_open: %s", err);
        struct sockaddr_storage ss;
        socklen_t sl;
        uint16_t port = 0;
        for (int i = 0; i < n; i++) {
            assert_int_equal(tw_reflector_local(r[i], &ss, &sl), 0);
            uint16_t p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            assert_int_not_equal(p, 0);
            if (i == 0)
                port = p;
            assert_int_equal(p, port); /* one port for all */
        }
        struct client c = {.w = w, .port = port};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, client_main, &c), 0);
        assert_int_equal(tw_workers_run(w), 0);
        pthread_join(t, NULL);
        assert_int_equal(c.bad, 0);
        assert_int_equal(c.replies, SENDERS * COUNT);
        tw_reflector_counters_t sum;
        tw_reflector_counters_sum(&sum, r, n);
        assert_int_equal(sum.received, SENDERS * COUNT);
        assert_int_equal(sum.reflected, SENDERS * COUNT);
        assert_int_equal(sum.send_errors, 0);
        assert_true(sum.last_rx_mono > 0);
        tw_workers_reflectors_close(r, n);
        tw_workers_free(w);
    }
}

/* A port held by another socket is refused, whatever the number of workers. */
static void test_port_in_use(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    for (int n = 1; n <= 2; n++) {
        tw_workers_t *w;
        assert_int_equal(tw_workers_new(&w, n), 0);
        tw_reflector_cfg_t cfg;
        memset(&cfg, 0, sizeof cfg);
        memcpy(&cfg.local, &a, sizeof a);
        cfg.local_len = sizeof a;
        cfg.sockopts.ttl = 64;
        cfg.max_senders = 8;
        tw_reflector_t *r[2] = {(tw_reflector_t *)1, (tw_reflector_t *)1};
        char err[256] = "";
        assert_int_equal(tw_workers_reflectors_open(r, &cfg, w, err, sizeof err), -1);
        assert_non_null(strstr(err, "in use"));
        assert_null(r[0]);
        tw_workers_free(w);
    }
    close(fd);
}

static void test_sum_of_nothing(void **state)
{
    (void)state;
    tw_reflector_counters_t sum;
    memset(&sum, 0xff, sizeof sum);
    tw_reflector_t *r[2] = {NULL, NULL};
    tw_reflector_counters_sum(&sum, r, 2);
    assert_int_equal(sum.received, 0);
    assert_int_equal(sum.last_rx_mono, 0);
}

int main(void)
{
    tw_log_set_level(TW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online),
        cmocka_unit_test(test_new_bounds),
        cmocka_unit_test(test_stop_from_a_worker),
        cmocka_unit_test(test_reflectors_share_a_port),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_sum_of_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
