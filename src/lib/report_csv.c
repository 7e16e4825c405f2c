/* report_csv: per-packet CSV rows. */
#include "report_csv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *tw_pkt_status_name(tw_pkt_status_t s)
{
    switch (s) {
    case TW_PKT_OK:
        return "ok";
    case TW_PKT_LOST:
        return "lost";
    case TW_PKT_DUPLICATE:
        return "duplicate";
    case TW_PKT_REORDERED:
        return "reordered";
    case TW_PKT_LATE:
        return "late";
    }
    return "unknown";
}

const char *tw_fmt_iso8601(char *buf, size_t len, tw_time_t t)
{
    /* Floor division, so that times before 1970 keep a positive fraction. */
    int64_t secs = t / TW_NS_PER_SEC, ns = t % TW_NS_PER_SEC;
    if (ns < 0) {
        ns += TW_NS_PER_SEC;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "?");
        return buf;
    }
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%09dZ", (long long)tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ns);
    return buf;
}

void tw_csv_header(FILE *f)
{
    fputs("session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,outbound_ns,"
          "inbound_ns,ttl_out,ttl_in,dscp_in,size\n",
          f);
}

static void time_cells(FILE *f, const tw_time_t t[4])
{
    char b[48];
    for (int i = 0; i < 4; i++)
        fprintf(f, ",%s", t[i] ? tw_fmt_iso8601(b, sizeof b, t[i]) : "");
    for (int i = 0; i < 4; i++) {
        if (t[i])
            fprintf(f, ",%016" PRIx64, tw_time_to_ntp(t[i]));
        else
            fputs(",", f);
    }
}

static void int_cell(FILE *f, int v)
{
    if (v >= 0)
        fprintf(f, ",%d", v);
    else
        fputs(",", f);
}

void tw_csv_row(FILE *f, int session, const tw_packet_record_t *r)
{
    const tw_time_t t[4] = {r->t1, r->t2, r->t3, r->t4};
    bool answered = r->status != TW_PKT_LOST && r->t1 && r->t2 && r->t3 && r->t4;
    fprintf(f, "%d,%" PRIu32 ",%s", session, r->seq, tw_pkt_status_name(r->status));
    time_cells(f, t);
    if (answered)
        fprintf(f, ",%" PRId64 ",%" PRId64 ",%" PRId64, (r->t4 - r->t1) - (r->t3 - r->t2),
                r->t2 - r->t1, r->t4 - r->t3);
    else
        fputs(",,,", f);
    int_cell(f, answered ? r->ttl_out : -1);
    int_cell(f, answered ? r->ttl_in : -1);
    int_cell(f, answered && r->tos_in >= 0 ? r->tos_in >> 2 : -1);
    fprintf(f, ",%" PRIu32 "\n", r->size);
}

/* ---- reading a row back --------------------------------------------------- */

#define CSV_COLUMNS 18
#define CSV_SPREAD_NS 1000000000000000000LL /* 10^18 ns: t2..t4 at most 31 years from t1 */

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int tw_parse_iso8601(const char *s, tw_time_t *t)
{
    /* YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z */
    size_t len = strlen(s);
    if (len < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return -1;
    const char *p = s + 19;
    int64_t ns = 0;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
            if (nd == 9)
                return -1;
            ns = ns * 10 + (*p - '0');
        }
        if (!nd)
            return -1;
        for (; nd < 9; nd++)
            ns *= 10;
    }
    if (p[0] != 'Z' || p[1])
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    tm.tm_hour = num(s + 11, 2);
    tm.tm_min = num(s + 14, 2);
    tm.tm_sec = num(s + 17, 2);
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    struct tm want = tm, back;
    errno = 0;
    time_t secs = timegm(&tm);
    if (secs == (time_t)-1 && errno)
        return -1;
    /* A real date (not 31 February, not a leap second: twampy writes none),
     * and one that tw_time_t holds (1677..2262). */
    if (!gmtime_r(&secs, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon ||
        back.tm_sec != want.tm_sec || secs > INT64_MAX / TW_NS_PER_SEC - 1 ||
        secs < INT64_MIN / TW_NS_PER_SEC + 1)
        return -1;
    *t = (tw_time_t)secs * TW_NS_PER_SEC + ns;
    return 0;
}

/* A whole number in [lo, hi], or (empty allowed) absent. */
static int cell_int(const char *c, long long lo, long long hi, bool empty_ok, long long *v)
{
    if (!*c) {
        if (!empty_ok)
            return -1;
        *v = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(c, &end, 10);
    if (*end || errno || x < lo || x > hi || *c == '+' || *c == ' ')
        return -1;
    *v = x;
    return 0;
}

int tw_csv_parse_row(const char *line, int *session, tw_packet_record_t *r, char *err,
                     size_t errlen)
{
    static const char *const names[CSV_COLUMNS] = {
        "session",     "seq",        "status",  "t1",     "t2",      "t3",
        "t4",          "t1_ntp",     "t2_ntp",  "t3_ntp", "t4_ntp",  "rtt_ns",
        "outbound_ns", "inbound_ns", "ttl_out", "ttl_in", "dscp_in", "size"};
    char buf[512];
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= sizeof buf) {
        snprintf(err, errlen, "line longer than %zu octets", sizeof buf - 1);
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *cell[CSV_COLUMNS];
    int nc = 0;
    for (char *p = buf;; p++) {
        if (nc == CSV_COLUMNS) {
            snprintf(err, errlen, "more than %d columns", CSV_COLUMNS);
            return -1;
        }
        cell[nc++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p = '\0';
    }
    if (nc != CSV_COLUMNS) {
        snprintf(err, errlen, "%d columns, not %d", nc, CSV_COLUMNS);
        return -1;
    }
    memset(r, 0, sizeof *r);
    long long v = 0;
    int bad = -1;
    const char *why = "not a whole number in range";
    if (cell_int(cell[0], 0, 1000000, false, &v) < 0)
        bad = 0;
    else
        *session = (int)v;
    if (bad < 0) {
        if (cell_int(cell[1], 0, UINT32_MAX, false, &v) < 0)
            bad = 1;
        else
            r->seq = (uint32_t)v;
    }
    if (bad < 0) {
        static const tw_pkt_status_t all[] = {TW_PKT_OK, TW_PKT_LOST, TW_PKT_DUPLICATE,
                                              TW_PKT_REORDERED, TW_PKT_LATE};
        bad = 2;
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (!strcmp(cell[2], tw_pkt_status_name(all[i]))) {
                r->status = all[i];
                bad = -1;
            }
        if (bad >= 0)
            why = "not ok, lost, duplicate, reordered or late";
    }
    tw_time_t *t[4] = {&r->t1, &r->t2, &r->t3, &r->t4};
    for (int i = 0; i < 4 && bad < 0; i++) {
        int64_t d;
        if (*cell[3 + i] && tw_parse_iso8601(cell[3 + i], t[i]) < 0) {
            bad = 3 + i;
            why = "not an ISO-8601 UTC time as --csv writes it";
        } else if (i > 0 && *t[i] &&
                   (!r->t1 || __builtin_sub_overflow(*t[i], r->t1, &d) || d > CSV_SPREAD_NS ||
                    d < -CSV_SPREAD_NS)) {
            /* Every delay is a difference of these: keep them within range. */
            bad = 3 + i;
            why = "without t1, or more than 31 years from it";
        }
    }
    int *small[3] = {&r->ttl_out, &r->ttl_in, &r->tos_in};
    for (int i = 0; i < 3 && bad < 0; i++) {
        if (cell_int(cell[14 + i], 0, i == 2 ? 63 : 255, true, &v) < 0)
            bad = 14 + i;
        else
            *small[i] = i == 2 && v >= 0 ? (int)v << 2 : (int)v;
    }
    if (bad < 0 && cell_int(cell[17], 0, UINT32_MAX, false, &v) < 0)
        bad = 17;
    else if (bad < 0)
        r->size = (uint32_t)v;
    if (bad >= 0) {
        snprintf(err, errlen, "column %d (%s): %s", bad + 1, names[bad], why);
        return -1;
    }
    return 0;
}
