/* ntptime: clocks, NTP/PTP timestamp conversion and the Error Estimate.
 *
 * Integer arithmetic only. A tw_time_t is split into whole seconds and a
 * non-negative nanosecond remainder with floor division, so times before 1970
 * convert the same way as later ones. */
#include "ntptime.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#define NTP_ERA_SECS (1LL << 32)
#define ERR_UNSYNC_NS TW_NS_PER_SEC

/* t = *secs * 1e9 + *ns with 0 <= *ns < 1e9. */
static void split_ns(tw_time_t t, int64_t *secs, int64_t *ns)
{
    int64_t s = t / TW_NS_PER_SEC;
    int64_t r = t % TW_NS_PER_SEC;
    if (r < 0) {
        r += TW_NS_PER_SEC;
        s -= 1;
    }
    *secs = s;
    *ns = r;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * TW_NS_PER_SEC + (int64_t)ts.tv_nsec;
}

tw_time_t tw_now(void)
{
    return clock_ns(CLOCK_REALTIME);
}

int64_t tw_mono_now(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t tw_time_to_ntp(tw_time_t t)
{
    int64_t secs, ns;
    split_ns(t, &secs, &ns);
    int64_t ntp_secs = secs + TW_NTP_UNIX_OFFSET;
    /* ns < 1e9, so ns << 32 < 4.3e18 fits; round half up to the nearest 2^-32 s. */
    uint64_t frac =
        (((uint64_t)ns << 32) + (uint64_t)(TW_NS_PER_SEC / 2)) / (uint64_t)TW_NS_PER_SEC;
    if (frac >> 32) { /* rounded up to a whole second */
        frac = 0;
        ntp_secs += 1;
    }
    /* The conversion to uint32_t is modulo 2^32: this is the era wrap. */
    return ((uint64_t)(uint32_t)ntp_secs << 32) | frac;
}

tw_time_t tw_ntp_to_time(uint64_t ntp)
{
    uint32_t s = (uint32_t)(ntp >> 32);
    uint64_t frac = ntp & 0xFFFFFFFFu;
    /* Pivot: top bit set -> era 0 (1968..2036), clear -> era 1 (2036..2104). */
    int64_t ntp_secs = (s & 0x80000000u) ? (int64_t)s : (int64_t)s + NTP_ERA_SECS;
    /* frac * 1e9 < 4.3e18 fits; round half up. May give 1e9 (carry), which the
     * addition below absorbs. */
    int64_t ns = (int64_t)((frac * (uint64_t)TW_NS_PER_SEC + (1ULL << 31)) >> 32);
    return (ntp_secs - TW_NTP_UNIX_OFFSET) * TW_NS_PER_SEC + ns;
}

uint64_t tw_time_to_ptp(tw_time_t t, int tai_offset)
{
    int64_t secs, ns;
    split_ns(t, &secs, &ns);
    int64_t tai = secs + (int64_t)tai_offset;
    return ((uint64_t)(uint32_t)tai << 32) | (uint64_t)ns;
}

tw_time_t tw_ptp_to_time(uint64_t ptp, int tai_offset)
{
    int64_t tai = (int64_t)(uint32_t)(ptp >> 32);
    int64_t ns = (int64_t)(uint32_t)ptp;
    return (tai - (int64_t)tai_offset) * TW_NS_PER_SEC + ns;
}

uint16_t tw_errest_encode(const tw_errest_t *e)
{
    uint16_t v = 0;
    if (e == NULL)
        return 0;
    if (e->sync)
        v |= 0x8000u;
    if (e->ptp)
        v |= 0x4000u;
    v |= (uint16_t)((e->scale & 0x3Fu) << 8);
    v |= e->multiplier;
    return v;
}

tw_errest_t tw_errest_decode(uint16_t v)
{
    tw_errest_t e;
    e.sync = (v & 0x8000u) != 0;
    e.ptp = (v & 0x4000u) != 0;
    e.scale = (uint8_t)((v >> 8) & 0x3Fu);
    e.multiplier = (uint8_t)(v & 0xFFu);
    return e;
}

/* Smallest multiplier m (may exceed 255) with m * 2^(scale-32) s >= err_ns,
 * or UINT64_MAX when that is not computable without overflow. */
static uint64_t min_multiplier(uint64_t err_ns, unsigned scale)
{
    const uint64_t nps = (uint64_t)TW_NS_PER_SEC;
    if (scale <= 32) {
        /* m * 1e9 >= err_ns * 2^(32-scale) */
        unsigned sh = 32 - scale;
        if (sh > 0 && err_ns > (UINT64_MAX >> sh))
            return UINT64_MAX;
        uint64_t x = err_ns << sh;
        return x / nps + (x % nps != 0);
    }
    /* m * 1e9 * 2^(scale-32) >= err_ns; 1e9 << 31 < 2^63 */
    uint64_t d = nps << (scale - 32);
    return err_ns / d + (err_ns % d != 0);
}

tw_errest_t tw_errest_from_ns(uint64_t err_ns, bool sync, bool ptp)
{
    tw_errest_t e = {.sync = sync, .ptp = ptp, .scale = 63, .multiplier = 255};
    /* The first scale whose multiplier fits gives the finest granularity, so
     * also the smallest error >= err_ns. */
    for (unsigned s = 0; s <= 63; s++) {
        uint64_t m = min_multiplier(err_ns, s);
        if (m <= 255) {
            e.scale = (uint8_t)s;
            e.multiplier = (uint8_t)(m == 0 ? 1 : m);
            return e;
        }
    }
    return e; /* unreachable: 255 * 2^31 s > UINT64_MAX ns */
}

int64_t tw_errest_to_ns(const tw_errest_t *e)
{
    if (e == NULL)
        return 0;
    unsigned scale = e->scale & 0x3Fu;
    uint64_t v = (uint64_t)e->multiplier * (uint64_t)TW_NS_PER_SEC; /* < 2.6e11 */
    if (scale <= 32) {
        /* Round up: an error bound is never understated. */
        unsigned sh = 32 - scale;
        uint64_t add = sh ? ((1ULL << sh) - 1) : 0;
        return (int64_t)((v + add) >> sh);
    }
    unsigned sh = scale - 32;
    if (v > ((uint64_t)INT64_MAX >> sh))
        return INT64_MAX;
    return (int64_t)(v << sh);
}

tw_errest_t tw_clock_errest(bool ptp)
{
    struct timex tx = {0};
    int state = adjtimex(&tx);
    bool sync = state != -1 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    uint64_t err_ns = (uint64_t)ERR_UNSYNC_NS;
    if (sync) {
        struct timespec res;
        uint64_t res_ns = 0;
        if (clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec >= 0 && res.tv_nsec >= 0)
            res_ns = (uint64_t)res.tv_sec * (uint64_t)TW_NS_PER_SEC + (uint64_t)res.tv_nsec;
        uint64_t est_us = tx.esterror > 0 ? (uint64_t)tx.esterror : 0;
        err_ns = est_us * (uint64_t)TW_NS_PER_US + res_ns;
    }
    return tw_errest_from_ns(err_ns, sync, ptp);
}

int tw_clock_tai_offset(void)
{
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    if (adjtimex(&tx) >= 0 && tx.tai > 0)
        return tx.tai;
    return 37; /* TAI - UTC since 2017-01-01; no leap second announced since */
}

/* n decimal digits at *p (advanced past them); -1 when they are not there. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int tw_time_parse(const char *s, tw_time_t now, tw_time_t *out)
{
    if (s == NULL || out == NULL)
        return -1;
    if (s[0] == '+') {
        char *end;
        double v = strtod(s + 1, &end);
        if (end == s + 1 || *end || !(v >= 0) || v > 1e9 || !isdigit((unsigned char)s[1]))
            return -1;
        *out = now + (tw_time_t)(v * 1e9);
        return 0;
    }
    const char *p = s;
    int y = digits(&p, 4);
    if (y < 0 || *p++ != '-')
        return -1;
    int mo = digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        return -1;
    int d = digits(&p, 2);
    if (d < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    int h = digits(&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        return -1;
    int mi = digits(&p, 2);
    if (mi < 0 || mi > 59 || *p++ != ':')
        return -1;
    int sec = digits(&p, 2);
    if (sec < 0 || sec > 60)
        return -1;
    int64_t frac = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int64_t scale = TW_NS_PER_SEC;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            scale /= 10;
            frac += (*p - '0') * scale; /* digits past nanoseconds add 0 */
            p++;
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = digits(&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            return -1;
        int om = digits(&p, 2);
        if (om < 0 || om > 59)
            return -1;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return -1; /* a time without a zone is ambiguous */
    }
    if (*p)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *out = secs * TW_NS_PER_SEC + frac;
    return 0;
}
