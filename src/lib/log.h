/* log: one logging module with levels and a destination (stderr or a file).
 * Line format as the Python twampy: "yy/mm/dd HH:MM:SS,mmm LEVEL    message". */
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

extern int tw_log_level_;

void tw_log_set_level(int level);
/* Log to path (appending) instead of stderr; NULL or "-" means stderr. */
int tw_log_set_file(const char *path);
void tw_log_close(void);
void tw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "prefix: 0001ab..." hex dump on one line. */
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

#endif
