/* Unit tests for log: several threads logging to one file at once (every line
 * whole, hex dumps included), lines gathered for a file and written in order,
 * stderr a line at a time, the paced repeats, and tw_log_hex's format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "ntptime.h"

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/twampy-test-log-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    tw_log_set_level(TW_LOG_DEBUG);
    return tw_log_set_file(path);
}

static int teardown(void **state)
{
    (void)state;
    tw_log_set_file(NULL);
    unlink(path);
    return 0;
}

/* The file's contents (NUL-terminated; the caller frees). */
static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

static size_t file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (size_t)st.st_size;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Does line start with a well-formed stamp and level? Returns what follows. */
static const char *after_header(const char *line, const char *level)
{
    /* "yy/mm/dd HH:MM:SS,mmm LEVEL    ", the milliseconds left-justified. */
    static const char stamp[] = "nn/nn/nn nn:nn:nn,";
    for (size_t i = 0; i < sizeof stamp - 1; i++)
        if (stamp[i] == 'n' ? !digit(line[i]) : line[i] != stamp[i])
            return NULL;
    const char *p = line + sizeof stamp - 1;
    if (!digit(p[0]) || !(digit(p[1]) || p[1] == ' ') || !(digit(p[2]) || p[2] == ' ') ||
        p[3] != ' ')
        return NULL;
    p += 4;
    char want[16];
    snprintf(want, sizeof want, "%-8s ", level);
    if (strncmp(p, want, strlen(want)) != 0)
        return NULL;
    return p + strlen(want);
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 4
#define LINES 400
#define DUMP 3000 /* octets per hex dump: its line is longer than PIPE_BUF */

static void *logger(void *arg)
{
    int t = (int)(intptr_t)arg;
    uint8_t dump[DUMP];
    char text[5000];
    for (int i = 0; i < LINES; i++) {
        /* A hex dump of octets that name the thread and the line. */
        for (size_t k = 0; k < sizeof dump; k++)
            dump[k] = (uint8_t)(t * 16 + i % 16);
        tw_log_hex(TW_LOG_DEBUG, "dump", dump, sizeof dump);
        /* A text line, long every few lines, at NOTICE or DEBUG. */
        size_t n = i % 5 == 0 ? sizeof text - 1 : 10 + (size_t)i % 50;
        memset(text, 'a' + t, n);
        text[n] = 0;
        tw_log(i % 3 ? TW_LOG_DEBUG : TW_LOG_NOTICE, "thread %d line %d %s", t, i, text);
    }
    return NULL;
}

static void test_threads_lines_whole(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, logger, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    tw_log_flush();
    char *buf = slurp(path, NULL);
    int seen[THREADS][LINES] = {{0}}, dumps[THREADS][16] = {{0}}, lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        const char *m = after_header(line, "DEBUG");
        if (m && strncmp(m, "dump: ", 6) == 0) {
            /* The same octet throughout, thread and line index as logged. */
            m += 6;
            unsigned v;
            assert_int_equal(sscanf(m, "%2x", &v), 1);
            char want[2 * DUMP + 32];
            for (int k = 0; k < DUMP; k++)
                snprintf(want + 2 * k, 3, "%02x", v);
            snprintf(want + 2 * DUMP, 32, " (%d bytes)", DUMP);
            assert_string_equal(m, want);
            assert_true(v / 16 < THREADS);
            dumps[v / 16][v % 16]++;
            continue;
        }
        if (!m)
            m = after_header(line, "NOTICE");
        if (!m)
            fail_msg("a line not whole: %.200s", line);
        int t, i, off = 0;
        assert_int_equal(sscanf(m, "thread %d line %d %n", &t, &i, &off), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < LINES);
        size_t n = i % 5 == 0 ? 4999 : 10 + (size_t)i % 50;
        assert_int_equal(strlen(m + off), n);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(m[off + k], 'a' + t);
        seen[t][i]++;
    }
    free(buf);
    assert_int_equal(lines, 2 * THREADS * LINES);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < LINES; i++)
            assert_int_equal(seen[t][i], 1);
        for (int k = 0; k < 16; k++)
            assert_int_equal(dumps[t][k], LINES / 16 + (k < LINES % 16));
    }
}

/* ---- a file: gathered, written in order --------------------------------- */

static void test_file_debug_gathered_notice_writes(void **state)
{
    (void)state;
    tw_debug("first %d", 1);
    tw_info("second %d", 2);
    /* Gathered: nothing written yet (the oldest is not a second old). */
    assert_int_equal(file_size(path), 0);
    tw_notice("third %d", 3);
    /* A NOTICE line writes out what came before it, in order. */
    char *buf = slurp(path, NULL);
    char *a = strstr(buf, "DEBUG    first 1\n"), *b = strstr(buf, "INFO     second 2\n"),
         *c = strstr(buf, "NOTICE   third 3\n");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    free(buf);
    tw_debug("fourth");
    size_t before = file_size(path);
    tw_log_close(); /* closing writes out the rest */
    buf = slurp(path, NULL);
    assert_true(strlen(buf) > before);
    assert_non_null(strstr(buf, "DEBUG    fourth\n"));
    free(buf);
}

/* More than a block of DEBUG lines: written as the block fills, none lost. */
static void test_file_block_fills(void **state)
{
    (void)state;
    char text[1000];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    for (int i = 0; i < 200; i++)
        tw_debug("%d %s", i, text);
    assert_true(file_size(path) > 0);
    tw_log_flush();
    char *buf = slurp(path, NULL);
    int n = 0;
    for (char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
        n++;
    assert_int_equal(n, 200);
    free(buf);
}

/* ---- stderr: a line at a time ------------------------------------------- */

static void test_stderr_line_at_a_time(void **state)
{
    (void)state;
    tw_log_set_file(NULL);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
    tw_debug("to stderr %d", 7);
    /* Written at once, without a flush. */
    char *buf = slurp(path, NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(f);
    const char *m = after_header(buf, "DEBUG");
    if (!m)
        fail_msg("stderr has '%s'", buf);
    assert_string_equal(m, "to stderr 7\n");
    free(buf);
}

/* ---- tw_log_hex ------------------------------------------------------------ */

static void test_hex(void **state)
{
    (void)state;
    const uint8_t small[] = {0x00, 0x01, 0xab, 0xff};
    tw_log_hex(TW_LOG_NOTICE, "CTRL.RX", small, sizeof small);
    uint8_t *big = malloc(10000);
    assert_non_null(big);
    memset(big, 0x5a, 10000);
    tw_log_hex(TW_LOG_NOTICE, "big", big, 10000);
    free(big);
    tw_log_set_level(TW_LOG_NOTICE);
    tw_log_hex(TW_LOG_DEBUG, "hidden", small, sizeof small); /* below the level */
    tw_log_set_level(TW_LOG_DEBUG);
    tw_log_flush();
    char *buf = slurp(path, NULL);
    char *save = NULL, *l1 = strtok_r(buf, "\n", &save), *l2 = strtok_r(NULL, "\n", &save);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_null(strtok_r(NULL, "\n", &save));
    const char *m = after_header(l1, "NOTICE");
    assert_non_null(m);
    assert_string_equal(m, "CTRL.RX: 0001abff (4 bytes)");
    m = after_header(l2, "NOTICE");
    assert_non_null(m);
    /* At most 9216 octets shown, then "...". */
    assert_int_equal(strncmp(m, "big: ", 5), 0);
    m += 5;
    for (int i = 0; i < 2 * 9216; i++)
        assert_int_equal(m[i], i % 2 ? 'a' : '5');
    assert_string_equal(m + 2 * 9216, "... (10000 bytes)");
    free(buf);
}

/* ---- paced repeats --------------------------------------------------------- */

static void test_pacer_allow(void **state)
{
    (void)state;
    const int64_t MS = TW_NS_PER_MS;
    tw_log_pacer_t p;
    int64_t t = 1000 * MS, w = 10 * TW_NS_PER_SEC;
    tw_log_pacer_init(&p, 2, w);
    uint64_t held = 99;
    assert_true(tw_log_pacer_allow(&p, t, &held));
    assert_int_equal(held, 0);
    assert_true(tw_log_pacer_allow(&p, t + MS, &held));
    for (int i = 0; i < 1000; i++)
        assert_false(tw_log_pacer_allow(&p, t + 2 * MS, &held));
    assert_false(tw_log_pacer_allow(&p, t + w - 1, &held));
    /* The next window: let through, with the count of those held back. */
    assert_true(tw_log_pacer_allow(&p, t + w, &held));
    assert_int_equal(held, 1001);
    assert_true(tw_log_pacer_allow(&p, t + w, &held));
    assert_int_equal(held, 0);
}

static int count(const char *buf, const char *needle)
{
    int n = 0;
    for (const char *p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_paced_lines(void **state)
{
    (void)state;
    tw_log_pacer_t p;
    tw_log_pacer_init(&p, 2, 3600 * TW_NS_PER_SEC);
    for (int i = 0; i < 5; i++)
        tw_log_paced(&p, TW_LOG_NOTICE, "refused %d", i);
    /* Below the level: neither logged nor counted. */
    tw_log_paced(&p, TW_LOG_DEBUG + 1, "never");
    char *buf = slurp(path, NULL);
    assert_int_equal(count(buf, "refused"), 2);
    assert_non_null(strstr(buf, "NOTICE   refused 0\n"));
    assert_non_null(strstr(buf, "NOTICE   refused 1\n"));
    free(buf);
    /* The window is over: the next line says how many were held back. */
    p.window_end = 0;
    tw_log_paced(&p, TW_LOG_NOTICE, "refused %d", 5);
    tw_log_paced(&p, TW_LOG_NOTICE, "refused %d", 6);
    buf = slurp(path, NULL);
    assert_int_equal(count(buf, "refused"), 4);
    assert_non_null(strstr(buf, "NOTICE   refused 5 (and 3 more like it, not logged)\n"));
    assert_non_null(strstr(buf, "NOTICE   refused 6\n"));
    assert_int_equal(count(buf, "never"), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_threads_lines_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_debug_gathered_notice_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_block_fills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_line_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex, setup, teardown),
        cmocka_unit_test(test_pacer_allow),
        cmocka_unit_test_setup_teardown(test_paced_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
