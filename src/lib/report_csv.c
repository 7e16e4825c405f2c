/* report_csv: per-packet CSV rows. */
#include "report_csv.h"

#include <inttypes.h>
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
