/* loop.c: the delete-during-dispatch contract, timers, busy polling. Watches
 * are eventfds made readable before the round, so every one of them has an
 * event pending when a callback deletes it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "loop.h"
#include "ntptime.h"

#define NWATCH 1000

struct item {
    tw_watch_t w;
    int fd;
    int calls;
};

struct world {
    tw_loop_t *loop;
    struct item *items[NWATCH];
    int n;
    int delivered;  /* callbacks run */
    int spurious;   /* callbacks for a deleted watch (its memory reused) */
    bool free_them; /* free deleted items (ASan sees any later use) */
};

static struct world W;

static int ready_eventfd(void)
{
    int fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Enough descriptors for NWATCH eventfds. */
static void raise_nofile(void)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < NWATCH + 64 && rl.rlim_max >= NWATCH + 64) {
        rl.rlim_cur = NWATCH + 64;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    assert_true(rl.rlim_cur >= NWATCH + 64 || rl.rlim_max < NWATCH + 64);
}

static void on_spurious(void *arg, uint32_t events)
{
    (void)arg;
    (void)events;
    W.spurious++;
}

/* Delete watch i; then either free its memory or reuse it as another
 * object would: a valid-looking fd and a callback that must never run. */
static void kill_item(int i)
{
    struct item *it = W.items[i];
    if (!it)
        return;
    assert_int_equal(tw_loop_del(W.loop, &it->w), 0);
    close(it->fd);
    W.items[i] = NULL;
    if (W.free_them) {
        free(it);
    } else {
        it->w.fd = 0;
        it->w.cb = on_spurious;
        it->w.arg = NULL;
    }
}

/* The first callback deletes every watch, itself among them, in reverse
 * order of creation (so that the ones whose events come next in this round
 * are deleted last, after more than a round's worth of others). */
static void on_delete_all(void *arg, uint32_t events)
{
    (void)events;
    struct item *it = arg;
    it->calls++;
    W.delivered++;
    for (int i = W.n - 1; i >= 0; i--)
        kill_item(i);
}

static void setup_world(int n, tw_io_cb cb, bool free_them)
{
    memset(&W, 0, sizeof W);
    raise_nofile();
    W.loop = tw_loop_new();
    assert_non_null(W.loop);
    W.n = n;
    W.free_them = free_them;
    for (int i = 0; i < n; i++) {
        struct item *it = calloc(1, sizeof *it);
        assert_non_null(it);
        it->fd = ready_eventfd();
        assert_int_equal(tw_loop_add(W.loop, &it->w, it->fd, EPOLLIN, cb, it), 0);
        W.items[i] = it;
    }
}

static void teardown_world(void)
{
    for (int i = 0; i < W.n; i++) {
        if (W.items[i]) {
            tw_loop_del(W.loop, &W.items[i]->w);
            close(W.items[i]->fd);
            free(W.items[i]);
        }
    }
    tw_loop_free(W.loop);
}

static void run_rounds(int rounds)
{
    for (int i = 0; i < rounds; i++)
        assert_true(tw_loop_run_once(W.loop, 0) >= 0);
}

/* 1,000 watches deleted from one callback, their memory reused: no event of
 * any of them is delivered afterwards (the old loop kept 64 deletions). */
static void test_delete_1000_reused(void **state)
{
    (void)state;
    struct item *keep[NWATCH];
    setup_world(NWATCH, on_delete_all, false);
    memcpy(keep, W.items, sizeof keep);
    run_rounds(3);
    assert_int_equal(W.delivered, 1);
    assert_int_equal(W.spurious, 0);
    for (int i = 0; i < NWATCH; i++)
        free(keep[i]);
    teardown_world();
}

/* The same with the memory freed: under ASan any later read is an error. */
static void test_delete_1000_freed(void **state)
{
    (void)state;
    setup_world(NWATCH, on_delete_all, true);
    run_rounds(3);
    assert_int_equal(W.delivered, 1);
    teardown_world();
}

/* Each callback deletes (and frees) its own watch: every watch is delivered
 * exactly once, the others of the round still are. */
static void on_delete_self(void *arg, uint32_t events)
{
    (void)events;
    struct item *it = arg;
    W.delivered++;
    for (int i = 0; i < W.n; i++)
        if (W.items[i] == it)
            kill_item(i);
}

static void test_delete_self(void **state)
{
    (void)state;
    setup_world(100, on_delete_self, true);
    run_rounds(4);
    assert_int_equal(W.delivered, 100);
    for (int i = 0; i < W.n; i++)
        assert_null(W.items[i]);
    teardown_world();
}

/* A watch deleted and re-added on another descriptor within the round gets
 * only the new descriptor's events, not the old one's pending event. */
static int quiet_fd = -1;
static void on_readd_other(void *arg, uint32_t events)
{
    (void)events;
    struct item *first = arg;
    W.delivered++;
    struct item *victim = W.items[0] == first ? W.items[1] : W.items[0];
    assert_int_equal(tw_loop_del(W.loop, &victim->w), 0);
    assert_int_equal(tw_loop_add(W.loop, &victim->w, quiet_fd, EPOLLIN, on_spurious, NULL), 0);
    close(victim->fd);
    victim->fd = quiet_fd;
}

static void test_readd_in_round(void **state)
{
    (void)state;
    quiet_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    setup_world(2, on_readd_other, false);
    assert_true(tw_loop_run_once(W.loop, 0) >= 1);
    assert_int_equal(W.delivered, 1);
    assert_int_equal(W.spurious, 0);
    teardown_world();
}

/* A timer due in the same round as the watches' events deletes all of them
 * before they are delivered. */
static tw_timer_t del_timer;
static int timer_fired;
static void on_timer_delete_all(void *arg)
{
    (void)arg;
    timer_fired++;
    for (int i = W.n - 1; i >= 0; i--)
        kill_item(i);
}

static void on_count(void *arg, uint32_t events)
{
    (void)arg;
    (void)events;
    W.delivered++;
}

static void test_timer_deletes_pending(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    raise_nofile();
    W.loop = tw_loop_new();
    assert_non_null(W.loop);
    timer_fired = 0;
    /* The timer expires first, so its event comes before the watches'. */
    memset(&del_timer, 0, sizeof del_timer);
    tw_timer_set(W.loop, &del_timer, tw_mono_now() - 1, on_timer_delete_all, NULL);
    W.n = 200;
    W.free_them = false;
    for (int i = 0; i < W.n; i++) {
        struct item *it = calloc(1, sizeof *it);
        assert_non_null(it);
        it->fd = ready_eventfd();
        assert_int_equal(tw_loop_add(W.loop, &it->w, it->fd, EPOLLIN, on_count, it), 0);
        W.items[i] = it;
    }
    struct item *keep[200];
    memcpy(keep, W.items, sizeof keep);
    run_rounds(3);
    assert_int_equal(timer_fired, 1);
    assert_int_equal(W.spurious, 0);
    /* The watches whose events shared the timer's round were never delivered;
     * at most the ones ahead of the timer's event in that round were. */
    assert_true(W.delivered < 64);
    for (int i = 0; i < 200; i++)
        free(keep[i]);
    teardown_world();
}

/* Timers fire in deadline order, a cancelled one never. */
static int order[4], norder;
static void on_order(void *arg)
{
    order[norder++] = (int)(intptr_t)arg;
}

static void test_timer_order_cancel(void **state)
{
    (void)state;
    tw_loop_t *l = tw_loop_new();
    assert_non_null(l);
    tw_timer_t a = {0}, b = {0}, c = {0};
    int64_t now = tw_mono_now();
    norder = 0;
    tw_timer_set(l, &a, now - 10, on_order, (void *)2);
    tw_timer_set(l, &b, now - 20, on_order, (void *)1);
    tw_timer_set(l, &c, now - 5, on_order, (void *)3);
    tw_timer_cancel(l, &c);
    for (int i = 0; i < 3 && norder < 2; i++)
        assert_true(tw_loop_run_once(l, 100) >= 0);
    assert_int_equal(norder, 2);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_false(c.armed);
    tw_loop_free(l);
}

/* Busy polling under constant traffic: a watch that is always readable must
 * not starve the timers (a signalfd is just another watch). */
static tw_timer_t stop_timer;
static int busy_events;
static void on_always_ready(void *arg, uint32_t events)
{
    (void)arg;
    (void)events;
    busy_events++;
}

static void on_stop(void *arg)
{
    tw_loop_stop(arg);
}

static void test_busy_poll_sees_timers(void **state)
{
    (void)state;
    tw_loop_t *l = tw_loop_new();
    assert_non_null(l);
    int fd = ready_eventfd(); /* never read: readable forever */
    tw_watch_t w;
    assert_int_equal(tw_loop_add(l, &w, fd, EPOLLIN, on_always_ready, NULL), 0);
    tw_loop_busy_poll(l, 10 * TW_NS_PER_SEC);
    busy_events = 0;
    memset(&stop_timer, 0, sizeof stop_timer);
    tw_timer_set(l, &stop_timer, tw_mono_now() + 20 * 1000000LL, on_stop, l);
    assert_int_equal(tw_loop_run(l), 0);
    assert_true(busy_events > 0);
    tw_loop_del(l, &w);
    close(fd);
    tw_loop_free(l);
}

/* A timer behind its schedule (it sets itself again at a deadline already
 * past, as a sender that cannot keep up does) fires once a round: the
 * watches get their turn between two firings. Before, the round ran it again
 * and again until its deadlines passed the round's start, and the replies
 * waited (a sender at 1 M packets/s read none of them while it sent). */
static int behind_fired, behind_io;
static tw_timer_t behind_timer;

static void on_behind(void *arg)
{
    tw_loop_t *l = arg;
    if (++behind_fired == 1000) {
        tw_loop_stop(l);
        return;
    }
    tw_timer_set(l, &behind_timer, tw_mono_now() - TW_NS_PER_SEC, on_behind, l);
}

static void on_behind_io(void *arg, uint32_t events)
{
    (void)arg;
    (void)events;
    behind_io++;
}

static void test_timer_behind_yields_to_io(void **state)
{
    (void)state;
    tw_loop_t *l = tw_loop_new();
    assert_non_null(l);
    int fd = ready_eventfd(); /* never read: readable forever */
    tw_watch_t w;
    assert_int_equal(tw_loop_add(l, &w, fd, EPOLLIN, on_behind_io, NULL), 0);
    behind_fired = behind_io = 0;
    memset(&behind_timer, 0, sizeof behind_timer);
    tw_timer_set(l, &behind_timer, tw_mono_now() - TW_NS_PER_SEC, on_behind, l);
    assert_int_equal(tw_loop_run(l), 0);
    assert_int_equal(behind_fired, 1000);
    assert_true(behind_io >= behind_fired - 1);
    tw_loop_del(l, &w);
    close(fd);
    tw_loop_free(l);
}

/* Polled watches (tw_loop_poll): out of the epoll set, called once a round
 * (not twice: no epoll event besides), back with tw_loop_unpoll; a byte that
 * came while polled is reported once watched again; deleting polled watches
 * from a polled callback, its own included, never calls a deleted one. */
static int poll_calls[3];
static tw_loop_t *poll_loop;
static struct item *poll_items[3];

static void on_polled(void *arg, uint32_t events)
{
    struct item *it = arg;
    assert_true(events & EPOLLIN);
    for (int i = 0; i < 3; i++)
        if (poll_items[i] == it)
            poll_calls[i]++;
}

static void on_polled_deleter(void *arg, uint32_t events)
{
    on_polled(arg, events);
    /* Delete the other two and itself; free them (ASan sees a later call). */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tw_loop_del(poll_loop, &poll_items[i]->w), 0);
        close(poll_items[i]->fd);
        free(poll_items[i]);
        poll_items[i] = NULL;
    }
}

static void test_polled_watches(void **state)
{
    (void)state;
    tw_loop_t *l = poll_loop = tw_loop_new();
    assert_non_null(l);
    struct item *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->fd = ready_eventfd(); /* readable forever */
    poll_items[0] = a;
    poll_items[1] = poll_items[2] = NULL;
    memset(poll_calls, 0, sizeof poll_calls);
    assert_int_equal(tw_loop_add(l, &a->w, a->fd, EPOLLIN, on_polled, a), 0);
    assert_true(tw_loop_run_once(l, 1000) >= 1);
    assert_int_equal(poll_calls[0], 1); /* by epoll */
    assert_int_equal(tw_loop_poll(l, &a->w), 0);
    assert_true(tw_loop_polled(l, &a->w));
    assert_int_equal(tw_loop_poll(l, &a->w), 0); /* again: nothing changes */
    for (int i = 0; i < 3; i++)
        assert_true(tw_loop_run_once(l, 1000) >= 1);
    assert_int_equal(poll_calls[0], 4); /* once a round, not twice */
    assert_int_equal(tw_loop_unpoll(l, &a->w, EPOLLIN), 0);
    assert_false(tw_loop_polled(l, &a->w));
    assert_true(tw_loop_run_once(l, 1000) >= 1);
    assert_int_equal(poll_calls[0], 5); /* by epoll again */

    /* A pipe, empty: polled, a byte comes, unpolled: epoll reports it. */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    struct item *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->fd = pfd[0];
    poll_items[1] = b;
    assert_int_equal(tw_loop_add(l, &b->w, b->fd, EPOLLIN, on_polled, b), 0);
    assert_int_equal(tw_loop_poll(l, &b->w), 0);
    assert_int_equal(write(pfd[1], "x", 1), 1);
    assert_int_equal(tw_loop_unpoll(l, &b->w, EPOLLIN), 0);
    int before = poll_calls[1];
    tw_loop_run_once(l, 1000);
    assert_int_equal(poll_calls[1], before + 1);

    /* Three polled, the first deletes all three from its callback. */
    struct item *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = ready_eventfd();
    poll_items[2] = c;
    assert_int_equal(tw_loop_add(l, &c->w, c->fd, EPOLLIN, on_polled, c), 0);
    a->w.cb = on_polled_deleter;
    assert_int_equal(tw_loop_poll(l, &a->w), 0);
    assert_int_equal(tw_loop_poll(l, &b->w), 0);
    assert_int_equal(tw_loop_poll(l, &c->w), 0);
    memset(poll_calls, 0, sizeof poll_calls);
    tw_loop_run_once(l, 1000);
    assert_int_equal(poll_calls[0], 1);
    assert_int_equal(poll_calls[1] + poll_calls[2], 0);
    assert_null(poll_items[0]);
    /* Nothing left: a round with a timeout now sleeps and reports nothing. */
    assert_int_equal(tw_loop_run_once(l, 0), 0);
    close(pfd[1]);
    tw_loop_free(l);
}

/* Many timers: 20,000 with random deadlines (ties among them), a third
 * cancelled, a third re-set, one cancelling another from its callback; every
 * armed one fires exactly once, in (deadline, set order) order. */
#define NT 20000
typedef struct mt {
    tw_timer_t t;
    int64_t deadline;
    uint64_t set_no;
    int fired;
    bool cancelled;
} mt_t;
static mt_t *mts;
static tw_loop_t *many_loop;
static int64_t last_deadline;
static uint64_t last_set_no;
static int nfired;
static uint64_t set_counter;

static void on_many(void *arg)
{
    mt_t *m = arg;
    m->fired++;
    nfired++;
    assert_true(m->deadline > last_deadline ||
                (m->deadline == last_deadline && m->set_no > last_set_no));
    last_deadline = m->deadline;
    last_set_no = m->set_no;
    /* Timer 0 cancels the last timer from inside the dispatch. */
    if (m == &mts[0] && mts[NT - 1].t.armed) {
        mts[NT - 1].cancelled = true;
        tw_timer_cancel(many_loop, &mts[NT - 1].t);
    }
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void set_many(mt_t *m, int64_t deadline)
{
    m->deadline = deadline;
    m->set_no = set_counter++;
    assert_int_equal(tw_timer_set(many_loop, &m->t, deadline, on_many, m), 0);
}

static void test_many_timers_heap(void **state)
{
    (void)state;
    many_loop = tw_loop_new();
    assert_non_null(many_loop);
    mts = calloc(NT, sizeof *mts);
    assert_non_null(mts);
    int64_t base = tw_mono_now() - TW_NS_PER_SEC; /* all due: one round fires them */
    for (int i = 0; i < NT; i++)
        set_many(&mts[i], base + (int64_t)(xorshift() % 5000)); /* many ties */
    /* Timer 0 fires first: it cancels the last one from its callback. */
    set_many(&mts[0], base - 1);
    for (int i = 1; i < NT - 1; i++) {
        uint64_t r = xorshift() % 3;
        if (r == 0) {
            tw_timer_cancel(many_loop, &mts[i].t);
            mts[i].cancelled = true;
        } else if (r == 1) {
            set_many(&mts[i], base + (int64_t)(xorshift() % 5000));
        }
    }
    last_deadline = INT64_MIN;
    nfired = 0;
    for (int k = 0; k < 10; k++)
        assert_true(tw_loop_run_once(many_loop, 100) >= 0);
    int want = 0;
    for (int i = 0; i < NT; i++) {
        assert_int_equal(mts[i].fired, mts[i].cancelled ? 0 : 1);
        assert_false(mts[i].t.armed);
        want += !mts[i].cancelled;
    }
    assert_int_equal(nfired, want);
    assert_true(want > NT / 2);
    tw_loop_free(many_loop);
    free(mts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delete_1000_reused),
        cmocka_unit_test(test_delete_1000_freed),
        cmocka_unit_test(test_delete_self),
        cmocka_unit_test(test_readd_in_round),
        cmocka_unit_test(test_timer_deletes_pending),
        cmocka_unit_test(test_timer_order_cancel),
        cmocka_unit_test(test_busy_poll_sees_timers),
        cmocka_unit_test(test_many_timers_heap),
        cmocka_unit_test(test_timer_behind_yields_to_io),
        cmocka_unit_test(test_polled_watches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
