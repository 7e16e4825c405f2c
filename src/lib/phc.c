#include "phc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/ptp_clock.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

void tw_phc_init(tw_phc_t *c, tw_phc_source_fn source, void *arg)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->index = -1;
    c->source = source;
    c->source_arg = arg;
}

int tw_phc_best_of(const tw_time_t (*ts)[3], int n, tw_phc_sample_t *out)
{
    int best = -1;
    int64_t bw = 0;
    for (int i = 0; i < n; i++) {
        int64_t w = ts[i][2] - ts[i][0];
        if (w < 0)
            continue;
        if (best < 0 || w < bw) {
            best = i;
            bw = w;
        }
    }
    if (best < 0)
        return -EINVAL;
    out->phc = ts[best][1];
    out->sys = ts[best][0] + bw / 2;
    out->window = bw;
    return 0;
}

static tw_time_t ptp_ns(const struct ptp_clock_time *t)
{
    return (tw_time_t)t->sec * TW_NS_PER_SEC + t->nsec;
}

/* The device source: PTP_SYS_OFFSET_EXTENDED (Linux 5.0), else the older
 * PTP_SYS_OFFSET (system, PHC, system, PHC, ..., system). The system times are
 * CLOCK_REALTIME in both. */
static int dev_sample(void *arg, tw_phc_sample_t *out)
{
    tw_phc_t *c = arg;
    tw_time_t t[TW_PHC_READS][3];
    if (!c->basic) {
        struct ptp_sys_offset_extended ext;
        memset(&ext, 0, sizeof ext);
        ext.n_samples = TW_PHC_READS;
        if (ioctl(c->fd, PTP_SYS_OFFSET_EXTENDED, &ext) == 0) {
            for (int i = 0; i < TW_PHC_READS; i++)
                for (int k = 0; k < 3; k++)
                    t[i][k] = ptp_ns(&ext.ts[i][k]);
            return tw_phc_best_of((const tw_time_t(*)[3])t, TW_PHC_READS, out);
        }
        if (errno != EOPNOTSUPP && errno != ENOTTY && errno != EINVAL)
            return -errno;
        c->basic = true;
    }
    struct ptp_sys_offset off;
    memset(&off, 0, sizeof off);
    off.n_samples = TW_PHC_READS;
    if (ioctl(c->fd, PTP_SYS_OFFSET, &off) < 0)
        return -errno;
    for (int i = 0; i < TW_PHC_READS; i++) {
        t[i][0] = ptp_ns(&off.ts[2 * i]);
        t[i][1] = ptp_ns(&off.ts[2 * i + 1]);
        t[i][2] = ptp_ns(&off.ts[2 * i + 2]);
    }
    return tw_phc_best_of((const tw_time_t(*)[3])t, TW_PHC_READS, out);
}

/* ETHTOOL_GET_TS_INFO: the PHC index of ifname, or -1 with a reason. */
static int phc_index(const char *ifname, char *err, size_t errlen)
{
    struct ethtool_ts_info info;
    memset(&info, 0, sizeof info);
    info.cmd = ETHTOOL_GET_TS_INFO;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (char *)&info;
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0) {
        snprintf(err, errlen, "cannot open a socket to ask interface %s: %s", ifname,
                 strerror(errno));
        return -1;
    }
    int r = ioctl(sk, SIOCETHTOOL, &ifr);
    int e = errno;
    close(sk);
    const unsigned need =
        SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
    if ((r < 0 && (e == EOPNOTSUPP || e == EINVAL)) ||
        (r == 0 && (info.so_timestamping & need) != need)) {
        snprintf(err, errlen, "interface %s: no hardware timestamping", ifname);
        return -1;
    }
    if (r < 0) {
        snprintf(err, errlen, "interface %s: cannot read its timestamping capabilities: %s", ifname,
                 strerror(e));
        return -1;
    }
    if (info.phc_index < 0) {
        snprintf(err, errlen, "interface %s: no PTP hardware clock to convert its timestamps",
                 ifname);
        return -1;
    }
    return info.phc_index;
}

int tw_phc_open(tw_phc_t *c, const char *ifname, char *err, size_t errlen)
{
    tw_phc_init(c, dev_sample, c);
    int idx = phc_index(ifname, err, errlen);
    if (idx < 0)
        return -1;
    char dev[32];
    snprintf(dev, sizeof dev, "/dev/ptp%d", idx);
    c->fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        int e = errno;
        snprintf(
            err, errlen, "interface %s: cannot open its clock %s: %s%s", ifname, dev, strerror(e),
            e == EACCES || e == EPERM ? " (run as root or give this user read access to it)" : "");
        tw_phc_close(c);
        return -1;
    }
    c->index = idx;
    int rc = tw_phc_update(c);
    if (rc < 0) {
        snprintf(err, errlen, "interface %s: cannot read %s against the system clock: %s", ifname,
                 dev, strerror(-rc));
        tw_phc_close(c);
        return -1;
    }
    return 0;
}

void tw_phc_close(tw_phc_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    tw_phc_init(c, NULL, NULL);
}

/* Where the current line puts phc, without the extrapolation limit. */
static tw_time_t line(const tw_phc_t *c, tw_time_t phc)
{
    double x = (double)(phc - c->ref_phc);
    return phc + c->ref_off + (int64_t)llround(c->a + c->b * x);
}

/* The least-squares line through the table: the offset (sys - phc) as a
 * function of phc, computed relative to the newest sample so that the doubles
 * hold small numbers (ns of offset change, s of PHC time). */
static void fit(tw_phc_t *c)
{
    const tw_phc_sample_t *nw = &c->tab[(c->next + TW_PHC_TABLE - 1) % TW_PHC_TABLE];
    c->ref_phc = nw->phc;
    c->ref_off = nw->sys - nw->phc;
    c->lo = c->hi = nw->phc;
    double mx = 0, my = 0;
    for (int i = 0; i < c->n; i++) {
        const tw_phc_sample_t *s = &c->tab[i];
        if (s->phc < c->lo)
            c->lo = s->phc;
        if (s->phc > c->hi)
            c->hi = s->phc;
        mx += (double)(s->phc - c->ref_phc);
        my += (double)((s->sys - s->phc) - c->ref_off);
    }
    mx /= c->n;
    my /= c->n;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < c->n; i++) {
        const tw_phc_sample_t *s = &c->tab[i];
        double dx = (double)(s->phc - c->ref_phc) - mx;
        double dy = (double)((s->sys - s->phc) - c->ref_off) - my;
        sxx += dx * dx;
        sxy += dx * dy;
    }
    c->b = sxx > 0 ? sxy / sxx : 0;
    c->a = my - c->b * mx;
}

int tw_phc_add(tw_phc_t *c, const tw_phc_sample_t *s)
{
    int restarted = 0;
    if (c->n) {
        const tw_phc_sample_t *nw = &c->tab[(c->next + TW_PHC_TABLE - 1) % TW_PHC_TABLE];
        int64_t off_line = s->sys - line(c, s->phc);
        if (s->phc <= nw->phc || s->sys <= nw->sys || off_line > TW_PHC_STEP_NS ||
            off_line < -TW_PHC_STEP_NS) {
            c->n = 0;
            c->next = 0;
            c->resets++;
            restarted = 1;
        } else if (s->phc - nw->phc < TW_PHC_MIN_SPACING_NS) {
            if (s->window <= nw->window) {
                c->tab[(c->next + TW_PHC_TABLE - 1) % TW_PHC_TABLE] = *s;
                fit(c);
            }
            c->samples++;
            return 0;
        }
    }
    c->tab[c->next] = *s;
    c->next = (c->next + 1) % TW_PHC_TABLE;
    if (c->n < TW_PHC_TABLE)
        c->n++;
    c->samples++;
    fit(c);
    return restarted;
}

int tw_phc_update(tw_phc_t *c)
{
    tw_phc_sample_t s;
    int rc = c->source ? c->source(c->source_arg, &s) : -ENODEV;
    if (rc < 0) {
        c->failures++;
        c->last_error = rc;
        return rc;
    }
    tw_phc_add(c, &s);
    return 0;
}

int tw_phc_to_sys(const tw_phc_t *c, tw_time_t phc, tw_time_t *sys)
{
    if (c->n == 0)
        return -ENODATA;
    if (phc < c->lo - TW_PHC_MAX_EXTRAP_NS || phc > c->hi + TW_PHC_MAX_EXTRAP_NS)
        return -ERANGE;
    *sys = line(c, phc);
    return 0;
}

const char *tw_phc_strerror(int rc)
{
    switch (rc) {
    case -ENODATA:
        return "no reading of the NIC's clock against the system clock yet";
    case -ERANGE:
        return "the NIC timestamp is too far from the latest readings of its clock";
    default:
        return strerror(rc < 0 ? -rc : rc);
    }
}
