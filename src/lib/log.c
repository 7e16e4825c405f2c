#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ntptime.h"

#define MSG_MAX 20480                /* room for a hex dump of the largest packet */
#define LINE_MAX_ (MSG_MAX + 64)     /* with the time stamp, the level and '\n' */
#define FILE_BLOCK 65536             /* INFO and DEBUG lines gathered for a file */
#define FILE_AGE (1 * TW_NS_PER_SEC) /* written out once the oldest is this old */

int tw_log_level_ = TW_LOG_NOTICE;

/* Everything below is under log_lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* the log file, or -1: stderr */
static char block[FILE_BLOCK];
static size_t block_len;
static int64_t block_since; /* tw_mono_now() of the oldest line in block */
static bool exit_hook;

static const char *const level_names[] = {"ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};

/* The whole of buf to fd (a short write or EINTR goes on; other errors drop
 * the rest: a log that cannot be written has nowhere to say so). */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void flush_locked(void)
{
    if (log_fd >= 0 && block_len)
        write_all(log_fd, block, block_len);
    block_len = 0;
}

/* One line, whole, to the destination. */
static void emit(int level, const char *line, size_t len)
{
    pthread_mutex_lock(&log_lock);
    if (log_fd < 0) {
        write_all(STDERR_FILENO, line, len);
    } else if (level <= TW_LOG_NOTICE || len > sizeof block) {
        if (block_len + len <= sizeof block) {
            memcpy(block + block_len, line, len); /* one write for both */
            block_len += len;
            flush_locked();
        } else {
            flush_locked();
            write_all(log_fd, line, len);
        }
    } else {
        int64_t now = tw_mono_now();
        if (block_len + len > sizeof block)
            flush_locked();
        if (block_len == 0)
            block_since = now;
        memcpy(block + block_len, line, len);
        block_len += len;
        if (now - block_since >= FILE_AGE)
            flush_locked();
    }
    pthread_mutex_unlock(&log_lock);
}

void tw_log_set_level(int level)
{
    tw_log_level_ = level;
}

void tw_log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    flush_locked();
    pthread_mutex_unlock(&log_lock);
}

int tw_log_set_file(const char *path)
{
    tw_log_close();
    if (!path || strcmp(path, "-") == 0)
        return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&log_lock);
    log_fd = fd;
    bool hook = !exit_hook;
    exit_hook = true;
    pthread_mutex_unlock(&log_lock);
    if (hook)
        atexit(tw_log_flush);
    return 0;
}

void tw_log_close(void)
{
    pthread_mutex_lock(&log_lock);
    flush_locked();
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    pthread_mutex_unlock(&log_lock);
}

static void vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void vlog(int level, const char *fmt, va_list ap)
{
    if (level > tw_log_level_ || level < 0 || level > TW_LOG_DEBUG)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[LINE_MAX_];
    /* Two-digit years, as the Python twampy logs. */
    int h = snprintf(line, sizeof line, "%02d/%02d/%02d %02d:%02d:%02d,%-3d %-8s ",
                     tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), level_names[level]);
    if (h < 0 || (size_t)h >= sizeof line - MSG_MAX)
        return;
    int m = vsnprintf(line + h, MSG_MAX, fmt, ap);
    if (m < 0)
        m = 0;
    if (m > MSG_MAX - 1)
        m = MSG_MAX - 1; /* truncated */
    size_t len = (size_t)h + (size_t)m;
    line[len++] = '\n';
    emit(level, line, len);
}

void tw_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void tw_log_hex(int level, const char *prefix, const uint8_t *buf, size_t len)
{
    if (!tw_log_on(level))
        return;
    static const char hex[] = "0123456789abcdef";
    char line[2 * 9216 + 1]; /* the caller's stack: threads share nothing */
    size_t n = len > 9216 ? 9216 : len, o = 0;
    for (size_t i = 0; i < n; i++) {
        line[o++] = hex[buf[i] >> 4];
        line[o++] = hex[buf[i] & 15];
    }
    line[o] = 0;
    tw_log(level, "%s: %s%s (%zu bytes)", prefix, line, n < len ? "..." : "", len);
}

/* ---- paced repeats -------------------------------------------------------- */

void tw_log_pacer_init(tw_log_pacer_t *p, int burst, int64_t window_ns)
{
    memset(p, 0, sizeof *p);
    p->burst = burst;
    p->window_ns = window_ns;
}

bool tw_log_pacer_allow(tw_log_pacer_t *p, int64_t now, uint64_t *suppressed)
{
    if (now >= p->window_end) {
        p->window_end = now + p->window_ns;
        p->n = 0;
    }
    if (p->n >= p->burst) {
        p->suppressed++;
        return false;
    }
    p->n++;
    *suppressed = p->suppressed;
    p->suppressed = 0;
    return true;
}

void tw_log_paced(tw_log_pacer_t *p, int level, const char *fmt, ...)
{
    uint64_t held;
    if (!tw_log_on(level) || !tw_log_pacer_allow(p, tw_mono_now(), &held))
        return;
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (held)
        tw_log(level, "%s (and %llu more like it, not logged)", msg, (unsigned long long)held);
    else
        tw_log(level, "%s", msg);
}
