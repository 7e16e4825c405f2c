/* log: one logging module with levels and a destination (stderr or a file).
 * Line format as the Python twampy: "yy/mm/dd HH:MM:SS,mmm LEVEL    message".
 *
 * Threads may share it: each line is formatted on the caller's stack and
 * written whole under one lock, so lines from several threads never
 * interleave. On stderr every line is written at once (one write(2) a line).
 * To a file, lines at NOTICE or worse are written at once (with whatever was
 * buffered before them, in order); INFO and DEBUG lines are gathered and
 * written in blocks: when the block is full, when a line of NOTICE or worse
 * comes, when the oldest line in it is a second old and another comes, and
 * by tw_log_flush(), tw_log_close() and at exit().
 *
 * Repeats a remote party can cause at will are paced (tw_log_paced): at most
 * a burst of lines per window, the others counted and said with the next line
 * let through. */
#ifndef TWAMPY_LOG_H
#define TWAMPY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TW_LOG_OFF = -1, /* --quiet */
    TW_LOG_ERROR = 0,
    TW_LOG_WARN = 1,
    TW_LOG_NOTICE = 2, /* the default level */
    TW_LOG_INFO = 3,   /* --verbose */
    TW_LOG_DEBUG = 4,  /* --debug */
};

/* The level: set it before threads start (they only read it). */
extern int tw_log_level_;

void tw_log_set_level(int level);
/* Log to path (appending) instead of stderr; NULL or "-" means stderr. */
int tw_log_set_file(const char *path);
/* Write out the lines gathered for the log file. */
void tw_log_flush(void);
void tw_log_close(void);
void tw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "prefix: 0001ab... (N bytes)" hex dump on one line (at most 9216 octets shown). */
void tw_log_hex(int level, const char *prefix, const uint8_t *buf, size_t len);

static inline bool tw_log_on(int level)
{
    return level <= tw_log_level_;
}

#define tw_error(...) tw_log(TW_LOG_ERROR, __VA_ARGS__)
#define tw_warn(...) tw_log(TW_LOG_WARN, __VA_ARGS__)
#define tw_notice(...) tw_log(TW_LOG_NOTICE, __VA_ARGS__)
#define tw_info(...)                                                                               \
    do {                                                                                           \
        if (tw_log_on(TW_LOG_INFO))                                                                \
            tw_log(TW_LOG_INFO, __VA_ARGS__);                                                      \
    } while (0)
#define tw_debug(...)                                                                              \
    do {                                                                                           \
        if (tw_log_on(TW_LOG_DEBUG))                                                               \
            tw_log(TW_LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)

/* ---- paced repeats -------------------------------------------------------- */

/* A kind of line that may repeat at will (a refused connection, a bad
 * packet): at most burst lines per window_ns (monotonic time), the others
 * counted and reported with the next line let through, as "... (and N more
 * like it, not logged)". One pacer per kind of line and per engine: a pacer
 * is not shared between threads. */
typedef struct tw_log_pacer {
    int burst;
    int64_t window_ns;
    int64_t window_end;
    int n;               /* lines let through in this window */
    uint64_t suppressed; /* held back since the last line let through */
} tw_log_pacer_t;

void tw_log_pacer_init(tw_log_pacer_t *p, int burst, int64_t window_ns);
/* May a line go out at now (tw_mono_now())? When it may, *suppressed is how
 * many were held back since the last line let through. */
bool tw_log_pacer_allow(tw_log_pacer_t *p, int64_t now, uint64_t *suppressed);
/* tw_log through the pacer p (nothing is counted when level is not logged). */
void tw_log_paced(tw_log_pacer_t *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
