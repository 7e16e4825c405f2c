#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ifaddrs.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/in6.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include "addr.h"

#define CTRL_LEN 256

struct tw_batch {
    int n;
    uint32_t unlabelled; /* replies sent without their label (EINVAL) */
    size_t bufsize;
    uint8_t *mem;
    tw_pkt_t pkt[TW_BATCH];
    struct mmsghdr rx[TW_BATCH];
    struct iovec rxiov[TW_BATCH];
    struct mmsghdr tx[TW_BATCH];
    struct iovec txiov[TW_BATCH];
    union {
        struct cmsghdr align;
        uint8_t b[CTRL_LEN];
    } rxctl[TW_BATCH], txctl[TW_BATCH];
};

static int setopt(int fd, int level, int name, int val)
{
    return setsockopt(fd, level, name, &val, sizeof val);
}

static int is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
}

int tw_udp_open(const struct sockaddr *local, socklen_t local_len, const tw_sockopts_t *o,
                char *err, size_t errlen)
{
    int fam = local->sa_family;
    int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open a UDP socket: %s", strerror(errno));
        return -1;
    }
    const char *what = NULL;
    /* Each receive report costs the hot path a control message: ask for the
     * local address only where it can differ (a wildcard bind), and for the
     * TOS only when someone reads it. */
    int pktinfo = is_wildcard(local), rtos = o->recv_tos;
    if (fam == AF_INET6) {
        if (setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o->dualstack ? 0 : 1) < 0)
            what = "IPV6_V6ONLY";
        else if (setopt(fd, IPPROTO_IPV6, IPV6_TCLASS, o->tos) < 0)
            what = "IPV6_TCLASS (traffic class)";
        else if (setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o->ttl) < 0)
            what = "IPV6_UNICAST_HOPS (hop limit)";
        else if (setopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, o->df ? 1 : 0) < 0)
            what = "IPV6_DONTFRAG";
        else if (o->df && setopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO) < 0)
            what = "IPV6_MTU_DISCOVER";
        else if (setopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0 ||
                 setopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, rtos) < 0 ||
                 setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, pktinfo) < 0)
            what = "IPv6 receive options";
        if (!what && o->dualstack) {
            /* IPv4 packets on a dual-stack socket report through the IPv4 options. */
            setopt(fd, IPPROTO_IP, IP_TOS, o->tos);
            setopt(fd, IPPROTO_IP, IP_TTL, o->ttl);
            setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, o->df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT);
            setopt(fd, IPPROTO_IP, IP_RECVTTL, 1);
            setopt(fd, IPPROTO_IP, IP_RECVTOS, rtos);
            setopt(fd, IPPROTO_IP, IP_PKTINFO, pktinfo);
        }
    } else {
        if (setopt(fd, IPPROTO_IP, IP_TOS, o->tos) < 0)
            what = "IP_TOS";
        else if (setopt(fd, IPPROTO_IP, IP_TTL, o->ttl) < 0)
            what = "IP_TTL";
        else if (setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
                        o->df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT) < 0)
            what = "IP_MTU_DISCOVER (do-not-fragment)";
        else if (setopt(fd, IPPROTO_IP, IP_RECVTTL, 1) < 0 ||
                 setopt(fd, IPPROTO_IP, IP_RECVTOS, rtos) < 0 ||
                 setopt(fd, IPPROTO_IP, IP_PKTINFO, pktinfo) < 0)
            what = "IPv4 receive options";
    }
    if (!what && setopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) < 0)
        what = "SO_TIMESTAMPNS (kernel receive timestamps)";
    if (what) {
        snprintf(err, errlen, "cannot set %s: %s", what, strerror(errno));
        close(fd);
        return -1;
    }
    if (o->reuseport && setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0) {
        snprintf(err, errlen, "cannot set SO_REUSEPORT: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (o->bufsize > 0) {
        setopt(fd, SOL_SOCKET, SO_RCVBUF, o->bufsize);
        setopt(fd, SOL_SOCKET, SO_SNDBUF, o->bufsize);
    }
    if (bind(fd, local, local_len) < 0) {
        char a[TW_ADDRSTRLEN];
        int e = errno;
        snprintf(err, errlen, "cannot bind to %s: %s%s", tw_addr_str(local, a, sizeof a),
                 strerror(e),
                 e == EACCES       ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                 : e == EADDRINUSE ? " (another program, or another twampy, has it: give "
                                     "another local port, or port 0 for any free one)"
                                   : "");
        close(fd);
        return -1;
    }
    return fd;
}

tw_batch_t *tw_batch_new(int n, size_t bufsize)
{
    if (n < 1 || n > TW_BATCH)
        return NULL;
    tw_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->mem = calloc((size_t)n, bufsize);
    if (!b->mem) {
        free(b);
        return NULL;
    }
    b->n = n;
    b->bufsize = bufsize;
    for (int i = 0; i < n; i++) {
        b->pkt[i].buf = b->mem + (size_t)i * bufsize;
        b->pkt[i].cap = bufsize;
    }
    return b;
}

void tw_batch_free(tw_batch_t *b)
{
    if (!b)
        return;
    free(b->mem);
    free(b);
}

tw_pkt_t *tw_batch_pkt(tw_batch_t *b, int i)
{
    return &b->pkt[i];
}

/* Walk the control messages of mh that lie wholly inside its buffer: a
 * cmsg_len shorter than a header or running past msg_controllen (a message the
 * kernel cut, MSG_CTRUNC, or one that lies) ends the walk. On true, *c holds
 * the header and *d, *dlen its data. */
static bool cmsg_next(const struct msghdr *mh, size_t *off, struct cmsghdr *c, const uint8_t **d,
                      size_t *dlen)
{
    const uint8_t *base = mh->msg_control;
    size_t len = mh->msg_controllen;
    if (!base || *off >= len || len - *off < sizeof *c)
        return false;
    memcpy(c, base + *off, sizeof *c);
    if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > len - *off)
        return false;
    *d = base + *off + CMSG_LEN(0);
    *dlen = c->cmsg_len - CMSG_LEN(0);
    *off += CMSG_ALIGN(c->cmsg_len);
    return true;
}

static tw_time_t ts_ns(const struct timespec *ts)
{
    return (tw_time_t)ts->tv_sec * TW_NS_PER_SEC + ts->tv_nsec;
}

void tw_rx_cmsgs_parse(const struct msghdr *mh, tw_pkt_t *p)
{
    p->rx_time = 0;
    p->rx_kernel = false;
    p->rx_hw = false;
    p->rx_hw_time = 0;
    p->ttl = -1;
    p->tos = -1;
    p->pktinfo_family = 0;
    p->tx_tos_set = false;
    p->rx_drops_known = false;
    p->rx_drops = 0;
    p->flowlabel = 0;
    struct cmsghdr c;
    const uint8_t *d;
    size_t dlen, off = 0;
    while (cmsg_next(mh, &off, &c, &d, &dlen)) {
        /* TTL and TOS arrive as an int or a single octet depending on path. */
        int ival = -1;
        if (dlen >= sizeof(int))
            memcpy(&ival, d, sizeof ival);
        else if (dlen >= 1)
            ival = d[0];
        if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SCM_TIMESTAMPNS &&
            dlen >= sizeof(struct timespec)) {
            struct timespec ts;
            memcpy(&ts, d, sizeof ts);
            p->rx_time = ts_ns(&ts);
            p->rx_kernel = true;
        } else if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SCM_TIMESTAMPING &&
                   dlen >= sizeof(struct scm_timestamping)) {
            struct scm_timestamping st;
            memcpy(&st, d, sizeof st);
            /* ts[0]: software (system clock); ts[2]: the NIC's raw hardware
             * clock, a time scale of its own: kept apart, never in rx_time. */
            if (!p->rx_kernel && (st.ts[0].tv_sec || st.ts[0].tv_nsec)) {
                p->rx_time = ts_ns(&st.ts[0]);
                p->rx_kernel = true;
            }
            if (st.ts[2].tv_sec || st.ts[2].tv_nsec) {
                p->rx_hw_time = ts_ns(&st.ts[2]);
                p->rx_hw = true;
            }
        } else if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SO_RXQ_OVFL &&
                   dlen >= sizeof(uint32_t)) {
            memcpy(&p->rx_drops, d, sizeof p->rx_drops);
            p->rx_drops_known = true;
        } else if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_TTL) {
            p->ttl = ival;
        } else if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_TOS) {
            p->tos = dlen >= 1 ? d[0] : -1;
        } else if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_HOPLIMIT) {
            p->ttl = ival;
        } else if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_TCLASS) {
            p->tos = ival;
        } else if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_FLOWINFO &&
                   dlen >= sizeof(uint32_t)) {
            /* The header's first word less the version: Traffic Class, label. */
            uint32_t fi;
            memcpy(&fi, d, sizeof fi);
            p->flowlabel = ntohl(fi) & IPV6_FLOWINFO_FLOWLABEL;
        } else if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_PKTINFO &&
                   dlen >= sizeof(struct in_pktinfo)) {
            memcpy(&p->pktinfo.v4, d, sizeof p->pktinfo.v4);
            p->pktinfo_family = AF_INET;
        } else if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_PKTINFO &&
                   dlen >= sizeof(struct in6_pktinfo)) {
            memcpy(&p->pktinfo.v6, d, sizeof p->pktinfo.v6);
            p->pktinfo_family = AF_INET6;
        }
    }
}

int tw_recv_batch(int fd, tw_batch_t *b)
{
    for (int i = 0; i < b->n; i++) {
        b->rxiov[i].iov_base = b->pkt[i].buf;
        b->rxiov[i].iov_len = b->bufsize;
        struct msghdr *mh = &b->rx[i].msg_hdr;
        mh->msg_name = &b->pkt[i].peer;
        mh->msg_namelen = sizeof b->pkt[i].peer;
        mh->msg_iov = &b->rxiov[i];
        mh->msg_iovlen = 1;
        mh->msg_control = b->rxctl[i].b;
        mh->msg_controllen = CTRL_LEN;
        mh->msg_flags = 0;
    }
    int n = recvmmsg(fd, b->rx, (unsigned)b->n, MSG_DONTWAIT, NULL);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    for (int i = 0; i < n; i++) {
        tw_pkt_t *p = &b->pkt[i];
        struct msghdr *mh = &b->rx[i].msg_hdr;
        p->len = b->rx[i].msg_len < b->bufsize ? b->rx[i].msg_len : b->bufsize;
        p->trunc = (mh->msg_flags & MSG_TRUNC) != 0;
        p->peer_len = mh->msg_namelen;
        tw_rx_cmsgs_parse(mh, p);
        if (!p->rx_kernel)
            p->rx_time = tw_now();
    }
    return n;
}

/* Control data that makes the reply leave from the address the request came to. */
/* The reply's TOS / Traffic Class when it differs from the socket's (a STAMP
 * Class of Service TLV, RFC 8972 §4.4): IP_TOS for IPv4 and IPv4-mapped peers
 * (the kernel sends those on the IPv4 path), IPV6_TCLASS for IPv6. */
static size_t put_tos_cmsg(const tw_pkt_t *p, uint8_t *ctl, size_t used)
{
    if (!p->tx_tos_set)
        return 0;
    bool v4 = p->peer.ss_family == AF_INET ||
              (p->peer.ss_family == AF_INET6 &&
               IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)&p->peer)->sin6_addr));
    struct cmsghdr *c = (struct cmsghdr *)(void *)(ctl + used);
    int v = p->tx_tos;
    c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
    c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
    c->cmsg_len = CMSG_LEN(sizeof v);
    memcpy(CMSG_DATA(c), &v, sizeof v);
    return CMSG_SPACE(sizeof v);
}

static size_t put_src_cmsg(const tw_pkt_t *p, uint8_t *ctl)
{
    struct msghdr mh = {.msg_control = ctl, .msg_controllen = CTRL_LEN};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (p->pktinfo_family == AF_INET) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        pi.ipi_spec_dst = p->pktinfo.v4.ipi_addr;
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    if (p->pktinfo_family == AF_INET6) {
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        pi.ipi6_addr = p->pktinfo.v6.ipi6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&pi.ipi6_addr))
            pi.ipi6_ifindex = p->pktinfo.v6.ipi6_ifindex;
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    return 0;
}

int tw_send_replies(int fd, tw_batch_t *b, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        tw_pkt_t *p = &b->pkt[i];
        if (!p->len)
            continue;
        b->txiov[m].iov_base = p->buf;
        b->txiov[m].iov_len = p->len;
        struct msghdr *mh = &b->tx[m].msg_hdr;
        memset(mh, 0, sizeof *mh);
        mh->msg_name = &p->peer;
        mh->msg_namelen = p->peer_len;
        /* The request's label (ignored unless IPV6_FLOWINFO_SEND is on). */
        if (p->peer.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&p->peer)->sin6_flowinfo = htonl(p->flowlabel);
        mh->msg_iov = &b->txiov[m];
        mh->msg_iovlen = 1;
        size_t cl = put_src_cmsg(p, b->txctl[m].b);
        cl += put_tos_cmsg(p, b->txctl[m].b, cl);
        mh->msg_control = cl ? b->txctl[m].b : NULL;
        mh->msg_controllen = cl;
        m++;
    }
    int done = 0, ok = 0;
    while (done < m) {
        int r = sendmmsg(fd, b->tx + done, (unsigned)(m - done), MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            struct sockaddr_in6 *to = b->tx[done].msg_hdr.msg_name;
            if (errno == EINVAL && to->sin6_family == AF_INET6 && to->sin6_flowinfo) {
                /* An exclusive flow label lease in this network namespace:
                 * the kernel refuses labels not leased. Without it, then. */
                to->sin6_flowinfo = 0;
                b->unlabelled++;
                continue;
            }
            /* The first message of the rest cannot go (full buffer, unreachable
             * peer, too big): drop it and go on with the others. */
            done++;
            continue;
        }
        done += r;
        ok += r;
    }
    return ok;
}

uint32_t tw_batch_take_unlabelled(tw_batch_t *b)
{
    uint32_t n = b->unlabelled;
    b->unlabelled = 0;
    return n;
}

int tw_flowlabel_enable(int fd)
{
    if (tw_sock_family(fd) != AF_INET6)
        return 0;
    if (setopt(fd, IPPROTO_IPV6, IPV6_FLOWINFO, 1) < 0 ||
        setopt(fd, IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1) < 0)
        return -1;
    setopt(fd, IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0); /* Linux 4.10 and later */
    return 0;
}

int tw_recv_tos_enable(int fd)
{
    int one = 1;
    if (tw_sock_family(fd) == AF_INET6) {
        /* A dual-stack socket: IPv4 packets report IP_TOS (the option is
         * accepted on an IPv6 socket for them). */
        setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
        return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
    }
    return setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
}

int tw_tx_timestamps_enable(int fd)
{
    int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
                SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags);
}

/* The name of the interface that holds local address sa. */
static int ifname_of(const struct sockaddr *sa, char *name, size_t len)
{
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0)
        return -1;
    int rc = -1;
    for (struct ifaddrs *i = ifs; i && rc < 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != sa->sa_family)
            continue;
        bool same = sa->sa_family == AF_INET
                        ? ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
                              ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr
                        : !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
                                  &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
        if (same) {
            snprintf(name, len, "%s", i->ifa_name);
            rc = 0;
        }
    }
    freeifaddrs(ifs);
    return rc;
}

int tw_egress_ifname(const struct sockaddr *remote, socklen_t remote_len, char *ifname, char *err,
                     size_t errlen)
{
    /* The local address a connected socket would use, and who holds it. */
    int probe = socket(remote->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    ifname[0] = 0;
    int rc = probe >= 0 && connect(probe, remote, remote_len) == 0 &&
                     getsockname(probe, (struct sockaddr *)&local, &ll) == 0 &&
                     ifname_of((struct sockaddr *)&local, ifname, IF_NAMESIZE) == 0
                 ? 0
                 : -1;
    if (rc < 0)
        snprintf(err, errlen, "cannot tell which interface reaches the peer");
    if (probe >= 0)
        close(probe);
    return rc;
}

int tw_hw_timestamps_enable(int fd, const char *ifname, bool *tx_sw_too, char *err, size_t errlen)
{
    int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        snprintf(err, errlen, "interface %s: cannot open a socket: %s", ifname, strerror(errno));
        return -1;
    }
    struct hwtstamp_config hc = {
        .flags = 0, .tx_type = HWTSTAMP_TX_ON, .rx_filter = HWTSTAMP_FILTER_ALL};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (char *)&hc;
    int r = ioctl(probe, SIOCSHWTSTAMP, &ifr);
    int e = errno;
    close(probe);
    if (r < 0) {
        snprintf(err, errlen, "interface %s: %s", ifname,
                 e == EOPNOTSUPP || e == EINVAL ? "no hardware timestamping"
                 : e == EPERM ? "turning on hardware timestamps needs CAP_NET_ADMIN"
                              : strerror(e));
        return -1;
    }
    /* Software stamps stay on beside the NIC's: a packet the NIC did not
     * stamp is measured in software, t1 and t4 both. OPT_TX_SWHW (Linux 4.13)
     * keeps the software transmit stamp of a packet the NIC stamps too. */
    int flags = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE |
                SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_TX_SOFTWARE |
                SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                SOF_TIMESTAMPING_OPT_TSONLY;
    int swhw = flags | SOF_TIMESTAMPING_OPT_TX_SWHW;
    *tx_sw_too = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &swhw, sizeof swhw) == 0;
    if (!*tx_sw_too && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0) {
        snprintf(err, errlen, "interface %s: SO_TIMESTAMPING: %s", ifname, strerror(errno));
        return -1;
    }
    return 0;
}

int tw_txstamp_parse(const struct msghdr *mh, tw_txstamp_t *out)
{
    tw_time_t sw = 0, hw = 0;
    bool have_id = false;
    uint32_t id = 0;
    struct cmsghdr c;
    const uint8_t *d;
    size_t dlen, off = 0;
    while (cmsg_next(mh, &off, &c, &d, &dlen)) {
        if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SCM_TIMESTAMPING &&
            dlen >= sizeof(struct scm_timestamping)) {
            struct scm_timestamping st;
            memcpy(&st, d, sizeof st);
            sw = ts_ns(&st.ts[0]);
            hw = ts_ns(&st.ts[2]);
        } else if (((c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_RECVERR) ||
                    (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_RECVERR)) &&
                   dlen >= sizeof(struct sock_extended_err)) {
            struct sock_extended_err ee;
            memcpy(&ee, d, sizeof ee);
            if (ee.ee_errno == ENOMSG && ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
                id = ee.ee_data;
                have_id = true;
            }
        }
    }
    if (!have_id || (!sw && !hw))
        return 0;
    *out = (tw_txstamp_t){.id = id, .sw = sw, .hw = hw};
    return 1;
}

int tw_icmp_errors_enable(int fd)
{
    int fam = tw_sock_family(fd);
    if (fam == AF_INET6) {
        if (setopt(fd, IPPROTO_IPV6, IPV6_RECVERR, 1) < 0)
            return -1;
        setopt(fd, IPPROTO_IP, IP_RECVERR, 1); /* IPv4 peers of a dual-stack socket */
        return 0;
    }
    return setopt(fd, IPPROTO_IP, IP_RECVERR, 1);
}

int tw_icmperr_parse(const struct msghdr *mh, tw_icmperr_t *e)
{
    struct cmsghdr c;
    const uint8_t *d;
    size_t dlen, off = 0;
    while (cmsg_next(mh, &off, &c, &d, &dlen)) {
        if (!((c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_RECVERR) ||
              (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_RECVERR)) ||
            dlen < sizeof(struct sock_extended_err))
            continue;
        struct sock_extended_err ee;
        memcpy(&ee, d, sizeof ee);
        if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6 &&
            ee.ee_origin != SO_EE_ORIGIN_LOCAL)
            continue;
        if (ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_errno == ENOMSG)
            continue; /* not an error */
        memset(e, 0, sizeof *e);
        e->origin = ee.ee_origin;
        e->type = ee.ee_type;
        e->code = ee.ee_code;
        e->err = (int)ee.ee_errno;
        e->info = ee.ee_info;
        /* SO_EE_OFFENDER: the address right after the structure. */
        size_t rest = dlen - sizeof ee;
        if (rest >= sizeof(sa_family_t)) {
            sa_family_t fam;
            memcpy(&fam, d + sizeof ee, sizeof fam);
            size_t need = fam == AF_INET    ? sizeof(struct sockaddr_in)
                          : fam == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : 0;
            if (need && rest >= need)
                memcpy(&e->offender, d + sizeof ee, need);
        }
        return 1;
    }
    return 0;
}

/* Error-queue messages read per system call (recvmmsg with MSG_ERRQUEUE: the
 * kernel stops at the first empty read, so one call drains a short queue
 * without a second one to hear EAGAIN). */
#define ERRQ_BATCH 16

int tw_errqueue_read(int fd, void (*txcb)(void *arg, const tw_txstamp_t *ts),
                     void (*icmpcb)(void *arg, const tw_icmperr_t *e), void *arg)
{
    int count = 0;
    struct {
        _Alignas(struct cmsghdr) uint8_t ctl[512];
        uint8_t data[64];
        struct sockaddr_storage name;
        struct iovec iov;
    } m[ERRQ_BATCH];
    struct mmsghdr mm[ERRQ_BATCH];
    for (int rounds = 0; rounds < 64; rounds++) {
        for (int i = 0; i < ERRQ_BATCH; i++) {
            m[i].iov = (struct iovec){m[i].data, sizeof m[i].data};
            mm[i].msg_hdr = (struct msghdr){.msg_name = &m[i].name,
                                            .msg_namelen = sizeof m[i].name,
                                            .msg_iov = &m[i].iov,
                                            .msg_iovlen = 1,
                                            .msg_control = m[i].ctl,
                                            .msg_controllen = sizeof m[i].ctl};
            mm[i].msg_len = 0;
        }
        int n = recvmmsg(fd, mm, ERRQ_BATCH, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &mm[i].msg_hdr;
            count++;
            tw_txstamp_t ts;
            tw_icmperr_t ie;
            if (tw_txstamp_parse(mh, &ts)) {
                if (txcb)
                    txcb(arg, &ts);
            } else if (tw_icmperr_parse(mh, &ie)) {
                if (mh->msg_namelen > 0 && mh->msg_namelen <= sizeof ie.dest)
                    memcpy(&ie.dest, &m[i].name, mh->msg_namelen);
                if (icmpcb)
                    icmpcb(arg, &ie);
            }
        }
        if (n < ERRQ_BATCH)
            break;
    }
    return count;
}

int tw_tx_timestamps_read(int fd, void (*cb)(void *arg, const tw_txstamp_t *ts), void *arg)
{
    return tw_errqueue_read(fd, cb, NULL, arg);
}

int tw_rx_drops_enable(int fd)
{
    return setopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
}

int tw_rx_drops_read(int fd, uint32_t *drops)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    memset(mem, 0, sizeof mem);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
        return -1;
    if (len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof mem[0])) {
        errno = ENOPROTOOPT;
        return -1;
    }
    *drops = mem[SK_MEMINFO_DROPS];
    return 0;
}

long tw_rcvbuf_fit(int fd, long want)
{
    if (want > INT32_MAX / 2)
        want = INT32_MAX / 2;
    int v = (int)want;
    /* The kernel doubles what it is given (for its bookkeeping) and reports
     * the doubled size: ask for half. */
    int half = v / 2 > 0 ? v / 2 : 1;
    if (setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, half) < 0)
        setopt(fd, SOL_SOCKET, SO_RCVBUF, half);
    int got = 0;
    socklen_t gl = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) < 0)
        return -1;
    return got;
}

int tw_reuseport_by_source(int fd, int n)
{
    if (n < 1) {
        errno = EINVAL;
        return -1;
    }
    /* A = hash(source address) % n. The program sees the packet from its
     * payload on; SKF_NET_OFF reaches the IP header. IPv4: the address;
     * IPv6: its /64 (the per-source unit of the server's limits). */
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12), /* IPv4 source */
        BPF_JUMP(BPF_JMP | BPF_JA, 4, 0, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8), /* IPv6 source /64 */
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9E3779B1u),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog;
    memset(&prog, 0, sizeof prog); /* its padding goes to the kernel too */
    prog.len = sizeof code / sizeof code[0];
    prog.filter = code;
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

int tw_sock_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
        return -1;
    return ss.ss_family;
}
