/* report: twampy's text table. */
#include "report.h"

#include <math.h>

const char *tw_fmt_delay(char *buf, size_t len, double ms)
{
    double a = fabs(ms);

    if (buf == NULL || len == 0)
        return "";
    if (isnan(ms))
        snprintf(buf, len, "%8sus", "nan"); /* Python raises here; never from real delays */
    else if (a > 60000)
        snprintf(buf, len, "%7.1fmin", ms / 60000);
    else if (a > 10000)
        snprintf(buf, len, "%7.1fsec", ms / 1000);
    else if (a > 1000)
        snprintf(buf, len, "%7.2fsec", ms / 1000);
    else if (a > 1)
        snprintf(buf, len, "%8.2fms", ms);
    else
        snprintf(buf, len, "%8ldus", (long)(ms * 1000)); /* long() truncates toward zero */
    return buf;
}

static double pct(uint64_t lost, uint64_t sent)
{
    if (sent == 0)
        return 0.0;
    return 100.0 * (double)lost / (double)sent;
}

static void row(FILE *f, const char *label, const tw_dirstats_t *d, uint64_t lost, uint64_t sent)
{
    char mn[32], mx[32], avg[32], jit[32];

    fprintf(f, "  %-12s %s  %s  %s  %s    %5.1f%%\n", label,
            tw_fmt_delay(mn, sizeof(mn), (double)d->min / 1e6),
            tw_fmt_delay(mx, sizeof(mx), (double)d->max / 1e6),
            tw_fmt_delay(avg, sizeof(avg), d->sum / (double)d->n / 1e6),
            tw_fmt_delay(jit, sizeof(jit), d->jitter / 1e6), pct(lost, sent));
}

void tw_report_table(FILE *f, const tw_stats_t *s, uint64_t sent)
{
    tw_loss_t l = tw_stats_loss(s, sent);
    tw_report_table_loss(f, s, sent, &l);
}

void tw_report_table_loss(FILE *f, const tw_stats_t *s, uint64_t sent, const tw_loss_t *loss)
{
    fputs("==============================================================================="
          "\n"
          "Direction         Min         Max         Avg          Jitter     Loss\n"
          "-------------------------------------------------------------------------------"
          "\n",
          f);
    if (s->received > 0) {
        row(f, "Outbound:", &s->outbound, loss->outbound, sent);
        row(f, "Inbound:", &s->inbound, loss->inbound, sent);
        row(f, "Roundtrip:", &s->roundtrip, loss->roundtrip, sent);
    } else {
        fputs("  NO STATS AVAILABLE (100% loss)\n", f);
    }
    fputs("-------------------------------------------------------------------------------\n"
          "                                                    Jitter Algorithm [RFC1889]\n"
          "===============================================================================\n",
          f);
}
