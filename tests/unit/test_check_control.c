/* Unit tests for check_control: the TWAMP server battery against the
 * library's own server (tw_ctrl_server, on a loop in a thread), open and
 * keyed, and against scripted servers: a greeting with Count 512, one with
 * no modes, one that never greets, and a closed port. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "control_server.h"
#include "control_wire.h"
#include "keyfile.h"
#include "log.h"
#include "loop.h"

static tw_check_table_t tab;

static const tw_check_row_t *row(const char *name)
{
    for (int i = 0; i < tab.n; i++)
        if (!strcmp(tab.rows[i].name, name))
            return &tab.rows[i];
    fail_msg("no row '%s'", name);
    return NULL;
}

static void expect(const char *name, tw_check_result_t r, const char *seen)
{
    const tw_check_row_t *w = row(name);
    if (w->result != r)
        fail_msg("row '%s' is %s (%s), expected %s", name, tw_check_result_str(w->result), w->seen,
                 tw_check_result_str(r));
    if (seen && !strstr(w->seen, seen))
        fail_msg("row '%s' says '%s', not '%s'", name, w->seen, seen);
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

static tw_check_cfg_t cfg_for(uint16_t port, int64_t timeout)
{
    tw_check_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in a = loopback(port);
    memcpy(&cfg.target, &a, sizeof a);
    cfg.target_len = sizeof a;
    cfg.timeout_ns = timeout;
    cfg.dscp = -1;
    return cfg;
}

/* ---- our server on a loop in a thread ---- */

struct srv {
    tw_loop_t *loop;
    tw_ctrl_server_t *s;
    pthread_t th;
    atomic_bool stop;
    uint16_t port;
};

static void *serve(void *arg)
{
    struct srv *v = arg;
    while (!atomic_load(&v->stop))
        tw_loop_run_once(v->loop, 20);
    return NULL;
}

static void srv_start(struct srv *v, uint32_t modes, const tw_keyring_t *ring)
{
    memset(v, 0, sizeof *v);
    tw_ctrl_server_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    struct sockaddr_in a = loopback(0);
    memcpy(&cfg.listen, &a, sizeof a);
    cfg.listen_len = sizeof a;
    cfg.modes = modes | TW_MODE_REFLECT_OCTETS | TW_MODE_SYMMETRICAL;
    cfg.max_connections = 64;
    cfg.max_sessions = 16;
    cfg.max_total_sessions = 1024;
    cfg.servwait_ns = 900 * TW_NS_PER_SEC;
    cfg.max_timeout_ns = 86400 * TW_NS_PER_SEC;
    cfg.max_padding = 65535;
    cfg.ttl = 64;
    cfg.keyring = ring;
    v->loop = tw_loop_new();
    assert_non_null(v->loop);
    char err[256];
    assert_int_equal(tw_ctrl_server_open(&v->s, &cfg, v->loop, err, sizeof err), 0);
    struct sockaddr_storage ss;
    socklen_t sl;
    tw_ctrl_server_local(v->s, &ss, &sl);
    v->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    assert_int_equal(pthread_create(&v->th, NULL, serve, v), 0);
}

static void srv_stop(struct srv *v)
{
    atomic_store(&v->stop, true);
    pthread_join(v->th, NULL);
    tw_ctrl_server_close(v->s);
    tw_loop_free(v->loop);
}

static void test_our_server_open(void **state)
{
    struct srv v;
    srv_start(&v, TW_MODE_UNAUTHENTICATED, NULL);
    tw_check_cfg_t cfg = cfg_for(v.port, 2 * TW_NS_PER_SEC);
    char err[256];
    assert_int_equal(tw_check_control(&cfg, &tab, err, sizeof err), 0);
    srv_stop(&v);
    static const char *const rows[] = {
        "Server Greeting", "greeting Count", "mode not offered", "Conf-Sender 1",
        "Type-P form 10",  "IPVN 5",         "Server-Start",     "Accept-Session",
        "Start-Ack",       "test packets",   "Stop-Sessions",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        expect(rows[i], TW_CHECK_PASS, NULL);
    expect("mode not offered", TW_CHECK_PASS, "Accept 3");
    expect("test packets", TW_CHECK_PASS, "3 of 3 answered (mode open), 41 octets");
    /* (Timeout after Stop is timing: PASS, or a WARN on a starved machine.) */
    assert_int_equal(tw_check_count(&tab, TW_CHECK_FAIL), 0);
    assert_int_equal(tw_check_exit_status(&tab), 0);
}

static void test_our_server_keyed(void **state)
{
    char path[] = "/tmp/twampy-test-check-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char line[] = "alice a passphrase for the check\n";
    assert_int_equal(write(fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
    close(fd);
    chmod(path, 0600);
    tw_keyring_t *ring = NULL;
    char err[256];
    assert_int_equal(tw_keyring_load(path, &ring, err, sizeof err), 0);
    tw_secret_t secret;
    assert_int_equal(tw_keyfile_load(path, "alice", &secret, err, sizeof err), 0);
    unlink(path);

    struct srv v;
    srv_start(&v,
              TW_MODE_UNAUTHENTICATED | TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED | TW_MODE_MIXED,
              ring);
    tw_check_cfg_t cfg = cfg_for(v.port, 2 * TW_NS_PER_SEC);
    cfg.secret = &secret;
    cfg.keyid = "alice";
    assert_int_equal(tw_check_control(&cfg, &tab, err, sizeof err), 0);
    srv_stop(&v);
    tw_keyring_free(ring);
    expect("wrong key", TW_CHECK_PASS, "Accept 1");
    expect("Server-Start", TW_CHECK_PASS, "mode encrypted");
    expect("test packets", TW_CHECK_PASS, "3 of 3 answered (mode encrypted), 112 octets");
    assert_int_equal(tw_check_count(&tab, TW_CHECK_FAIL), 0);
}

/* ---- scripted servers ---- */

struct fake {
    int lfd;
    uint16_t port;
    pthread_t th;
    uint32_t modes, count;
    bool greet;
};

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    int c = accept(f->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (f->greet) {
        tw_greeting_t g;
        memset(&g, 0, sizeof g);
        g.modes = f->modes;
        g.count = f->count;
        uint8_t buf[TW_CTRL_GREETING_LEN];
        tw_greeting_encode(&g, buf, sizeof buf);
        if (write(c, buf, sizeof buf) != (ssize_t)sizeof buf)
            return NULL;
        close(c);
    } else {
        uint8_t b[8];
        while (read(c, b, sizeof b) > 0) /* never a word: until the client gives up */
            ;
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake *f, bool greet, uint32_t modes, uint32_t count)
{
    memset(f, 0, sizeof *f);
    f->greet = greet;
    f->modes = modes;
    f->count = count;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    socklen_t al = sizeof a;
    getsockname(f->lfd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static void test_count_512(void **state)
{
    struct fake f;
    fake_start(&f, true, TW_MODE_UNAUTHENTICATED, 512);
    tw_check_cfg_t cfg = cfg_for(f.port, TW_NS_PER_SEC / 5);
    char err[256];
    tw_check_control(&cfg, &tab, err, sizeof err);
    fake_stop(&f);
    expect("Server Greeting", TW_CHECK_PASS, "Modes 0x1");
    expect("greeting Count", TW_CHECK_FAIL, "512");
    assert_string_equal(row("greeting Count")->clause, "RFC 4656 §3.1");
    assert_int_equal(tw_check_exit_status(&tab), 1);
}

static void test_no_modes(void **state)
{
    struct fake f;
    fake_start(&f, true, 0, 1024);
    tw_check_cfg_t cfg = cfg_for(f.port, TW_NS_PER_SEC / 5);
    char err[256];
    tw_check_control(&cfg, &tab, err, sizeof err);
    fake_stop(&f);
    expect("Server Greeting", TW_CHECK_FAIL, "Modes 0");
    expect("remaining tests", TW_CHECK_SKIP, NULL);
    assert_int_equal(tw_check_exit_status(&tab), 1);
}

static void test_silent_and_closed(void **state)
{
    /* A server that takes the connection and never greets: FAIL within the
     * timeout, not a hang. */
    struct fake f;
    fake_start(&f, false, 0, 0);
    tw_check_cfg_t cfg = cfg_for(f.port, TW_NS_PER_SEC / 5);
    char err[256];
    tw_check_control(&cfg, &tab, err, sizeof err);
    fake_stop(&f);
    expect("Server Greeting", TW_CHECK_FAIL, "no Server Greeting within the timeout");
    expect("remaining tests", TW_CHECK_FAIL, "not run");
    assert_int_equal(tab.n, 2);
    assert_int_equal(tw_check_exit_status(&tab), 1);

    /* Nothing listening: refused at once. */
    cfg = cfg_for(f.port, TW_NS_PER_SEC / 5);
    tw_check_control(&cfg, &tab, err, sizeof err);
    expect("Server Greeting", TW_CHECK_FAIL, "refused");
    assert_false(tab.answered);
}

int main(void)
{
    tw_log_set_level(TW_LOG_WARN); /* the server's connection notices */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_our_server_open),   cmocka_unit_test(test_our_server_keyed),
        cmocka_unit_test(test_count_512),         cmocka_unit_test(test_no_modes),
        cmocka_unit_test(test_silent_and_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
