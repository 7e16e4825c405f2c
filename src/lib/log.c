#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int tw_log_level_ = TW_LOG_NOTICE;
static FILE *log_file;

static const char *const level_names[] = {"ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};

void tw_log_set_level(int level)
{
    tw_log_level_ = level;
}

int tw_log_set_file(const char *path)
{
    tw_log_close();
    if (!path || strcmp(path, "-") == 0)
        return 0;
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    setvbuf(f, NULL, _IOLBF, 0);
    log_file = f;
    return 0;
}

void tw_log_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

void tw_log(int level, const char *fmt, ...)
{
    if (level > tw_log_level_ || level < 0)
        return;
    FILE *out = log_file ? log_file : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    /* Two-digit years, as the Python twampy logs. */
    snprintf(stamp, sizeof stamp, "%02d/%02d/%02d %02d:%02d:%02d", tm.tm_year % 100, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    char msg[20480]; /* room for a hex dump of the largest packet */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(out, "%s,%-3d %-8s %s\n", stamp, (int)(tv.tv_usec / 1000), level_names[level], msg);
    fflush(out);
}

void tw_log_hex(int level, const char *prefix, const uint8_t *buf, size_t len)
{
    if (!tw_log_on(level))
        return;
    static const char hex[] = "0123456789abcdef";
    static char line[2 * 9216 + 8]; /* single-threaded, like the rest of the log */
    size_t n = len > 9216 ? 9216 : len, o = 0;
    for (size_t i = 0; i < n; i++) {
        line[o++] = hex[buf[i] >> 4];
        line[o++] = hex[buf[i] & 15];
    }
    line[o] = 0;
    tw_log(level, "%s: %s%s (%zu bytes)", prefix, line, n < len ? "..." : "", len);
}
