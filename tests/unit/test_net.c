/* Unit tests for net: what the kernel's control messages say about a packet,
 * parsed from crafted messages (receive timestamps software and NIC,
 * SO_TIMESTAMPNS, TTL / Hop Limit in both forms, TOS / Traffic Class, the
 * local address, truncated and lying lengths; transmit timestamps from the
 * error queue), then the same through real sockets on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/in6.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define SW_NS ((tw_time_t)1700000000 * TW_NS_PER_SEC + 123456789)
#define HW_NS ((tw_time_t)1700000037 * TW_NS_PER_SEC + 987654321) /* a PHC in TAI */

/* ---- crafting control messages ------------------------------------------- */

typedef struct ctl {
    union {
        struct cmsghdr align;
        uint8_t b[1024];
    } u;
    size_t len;
} ctl_t;

static void put(ctl_t *c, int level, int type, const void *data, size_t dlen)
{
    struct cmsghdr *h = (struct cmsghdr *)(c->u.b + c->len);
    assert_true(c->len + CMSG_SPACE(dlen) <= sizeof c->u.b);
    memset(h, 0, CMSG_SPACE(dlen));
    h->cmsg_level = level;
    h->cmsg_type = type;
    h->cmsg_len = CMSG_LEN(dlen);
    if (dlen)
        memcpy(CMSG_DATA(h), data, dlen);
    c->len += CMSG_SPACE(dlen);
}

static struct timespec ts_of(tw_time_t t)
{
    return (struct timespec){.tv_sec = t / TW_NS_PER_SEC, .tv_nsec = t % TW_NS_PER_SEC};
}

static void put_timestamping(ctl_t *c, tw_time_t sw, tw_time_t hw)
{
    struct scm_timestamping st;
    memset(&st, 0, sizeof st);
    if (sw)
        st.ts[0] = ts_of(sw);
    if (hw)
        st.ts[2] = ts_of(hw);
    put(c, SOL_SOCKET, SCM_TIMESTAMPING, &st, sizeof st);
}

static void put_int(ctl_t *c, int level, int type, int v)
{
    put(c, level, type, &v, sizeof v);
}

static void put_byte(ctl_t *c, int level, int type, uint8_t v)
{
    put(c, level, type, &v, 1);
}

static struct msghdr msg_of(ctl_t *c)
{
    return (struct msghdr){.msg_control = c->u.b, .msg_controllen = c->len};
}

static void parse(ctl_t *c, tw_pkt_t *p)
{
    /* Fields filled with garbage first: the parser must set every one it reports. */
    memset(p, 0x5a, sizeof *p);
    struct msghdr mh = msg_of(c);
    tw_rx_cmsgs_parse(&mh, p);
}

/* ---- receive timestamps --------------------------------------------------- */

static void test_timestamping_software(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    put_timestamping(&c, SW_NS, 0);
    tw_pkt_t p;
    parse(&c, &p);
    assert_true(p.rx_kernel);
    assert_true(p.rx_time == SW_NS);
    assert_false(p.rx_hw);
    assert_true(p.rx_hw_time == 0);
    assert_int_equal(p.ttl, -1);
    assert_int_equal(p.tos, -1);
    assert_int_equal(p.pktinfo_family, 0);
}

/* A NIC stamp is in the NIC's clock: it never takes the place of the system
 * clock's receive time, it goes beside it. */
static void test_timestamping_hardware_kept_apart(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    put_timestamping(&c, SW_NS, HW_NS);
    tw_pkt_t p;
    parse(&c, &p);
    assert_true(p.rx_kernel);
    assert_true(p.rx_time == SW_NS);
    assert_true(p.rx_hw);
    assert_true(p.rx_hw_time == HW_NS);

    /* SO_TIMESTAMPNS and a NIC-only SCM_TIMESTAMPING, in either order. */
    struct timespec ns = ts_of(SW_NS + 5);
    ctl_t d = {.len = 0};
    put(&d, SOL_SOCKET, SCM_TIMESTAMPNS, &ns, sizeof ns);
    put_timestamping(&d, 0, HW_NS);
    parse(&d, &p);
    assert_true(p.rx_kernel && p.rx_hw);
    assert_true(p.rx_time == SW_NS + 5);
    assert_true(p.rx_hw_time == HW_NS);
    ctl_t e = {.len = 0};
    put_timestamping(&e, 0, HW_NS);
    put(&e, SOL_SOCKET, SCM_TIMESTAMPNS, &ns, sizeof ns);
    parse(&e, &p);
    assert_true(p.rx_time == SW_NS + 5);
    assert_true(p.rx_hw_time == HW_NS);

    /* A NIC stamp alone: no system-clock receive time from the kernel. */
    ctl_t f = {.len = 0};
    put_timestamping(&f, 0, HW_NS);
    parse(&f, &p);
    assert_false(p.rx_kernel);
    assert_true(p.rx_time == 0);
    assert_true(p.rx_hw && p.rx_hw_time == HW_NS);
}

static void test_timestampns(void **st)
{
    (void)st;
    struct timespec ns = ts_of(SW_NS);
    ctl_t c = {.len = 0};
    put(&c, SOL_SOCKET, SCM_TIMESTAMPNS, &ns, sizeof ns);
    tw_pkt_t p;
    parse(&c, &p);
    assert_true(p.rx_kernel);
    assert_true(p.rx_time == SW_NS);
    assert_false(p.rx_hw);
    /* An all-zero SCM_TIMESTAMPING after it changes nothing. */
    put_timestamping(&c, 0, 0);
    parse(&c, &p);
    assert_true(p.rx_time == SW_NS);
    assert_false(p.rx_hw);
    /* No timestamp at all. */
    ctl_t e = {.len = 0};
    parse(&e, &p);
    assert_false(p.rx_kernel);
    assert_true(p.rx_time == 0);
}

/* ---- SO_RXQ_OVFL: the socket's drop counter --------------------------------- */

static void test_rxq_ovfl(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    uint32_t drops = 4000000123u;
    put_int(&c, IPPROTO_IP, IP_TTL, 61);
    put(&c, SOL_SOCKET, SO_RXQ_OVFL, &drops, sizeof drops);
    tw_pkt_t p;
    parse(&c, &p);
    assert_true(p.rx_drops_known);
    assert_true(p.rx_drops == 4000000123u);
    assert_int_equal(p.ttl, 61); /* the others still read */
    /* Shorter than its 32-bit counter: not read. */
    ctl_t s2 = {.len = 0};
    put(&s2, SOL_SOCKET, SO_RXQ_OVFL, &drops, 2);
    parse(&s2, &p);
    assert_false(p.rx_drops_known);
    assert_true(p.rx_drops == 0);
    /* None. */
    ctl_t e = {.len = 0};
    parse(&e, &p);
    assert_false(p.rx_drops_known);
}

static int wait_readable(int fd, short ev);

/* A receive buffer far too small for a burst: the kernel's counter, read
 * with SO_MEMINFO and carried by the next datagram (SO_RXQ_OVFL), says how
 * many it dropped. */
static void test_rx_drops_loopback(void **st)
{
    (void)st;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    tw_sockopts_t o = {.ttl = 64};
    char err[200];
    int rx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    int tx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    assert_true(rx >= 0 && tx >= 0);
    assert_int_equal(tw_rx_drops_enable(rx), 0);
    long got = tw_rcvbuf_fit(rx, 1); /* the kernel's least */
    assert_true(got > 0 && got < 65536);
    uint32_t d = 77;
    assert_int_equal(tw_rx_drops_read(rx, &d), 0);
    assert_int_equal(d, 0);
    struct sockaddr_in ra;
    socklen_t rl = sizeof ra;
    assert_int_equal(getsockname(rx, (struct sockaddr *)&ra, &rl), 0);
    static uint8_t big[1400];
    for (int i = 0; i < 200; i++)
        assert_int_equal(sendto(tx, big, sizeof big, 0, (struct sockaddr *)&ra, rl), sizeof big);
    assert_int_equal(tw_rx_drops_read(rx, &d), 0);
    assert_true(d > 0 && d < 200);
    /* Empty the buffer, then one more: it carries the count. */
    tw_batch_t *b = tw_batch_new(TW_BATCH, TW_RX_BUFSIZE);
    assert_non_null(b);
    int queued = 0, n;
    while ((n = tw_recv_batch(rx, b)) > 0)
        queued += n;
    assert_int_equal((uint32_t)queued + d, 200);
    assert_int_equal(sendto(tx, "x", 1, 0, (struct sockaddr *)&ra, rl), 1);
    assert_int_equal(wait_readable(rx, POLLIN), 1);
    assert_int_equal(tw_recv_batch(rx, b), 1);
    tw_pkt_t *p = tw_batch_pkt(b, 0);
    assert_true(p->rx_drops_known);
    assert_int_equal(p->rx_drops, d);
    tw_batch_free(b);
    close(rx);
    close(tx);
}

/* ---- TTL, TOS, local address ---------------------------------------------- */

static void test_ttl_tos_forms(void **st)
{
    (void)st;
    tw_pkt_t p;
    ctl_t c = {.len = 0};
    put_int(&c, IPPROTO_IP, IP_TTL, 64);
    put_byte(&c, IPPROTO_IP, IP_TOS, 0xb8);
    parse(&c, &p);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.tos, 0xb8);

    /* The one-octet form of IP_TTL (some paths deliver it so). */
    ctl_t d = {.len = 0};
    put_byte(&d, IPPROTO_IP, IP_TTL, 255);
    parse(&d, &p);
    assert_int_equal(p.ttl, 255);
    assert_int_equal(p.tos, -1);

    ctl_t e = {.len = 0};
    put_int(&e, IPPROTO_IPV6, IPV6_HOPLIMIT, 17);
    put_int(&e, IPPROTO_IPV6, IPV6_TCLASS, 0x2e);
    parse(&e, &p);
    assert_int_equal(p.ttl, 17);
    assert_int_equal(p.tos, 0x2e);

    /* Empty payloads: unknown, not garbage. */
    ctl_t f = {.len = 0};
    put(&f, IPPROTO_IP, IP_TTL, NULL, 0);
    put(&f, IPPROTO_IP, IP_TOS, NULL, 0);
    parse(&f, &p);
    assert_int_equal(p.ttl, -1);
    assert_int_equal(p.tos, -1);
}

static void test_pktinfo(void **st)
{
    (void)st;
    tw_pkt_t p;
    struct in_pktinfo pi4;
    memset(&pi4, 0, sizeof pi4);
    pi4.ipi_ifindex = 3;
    inet_pton(AF_INET, "127.0.0.5", &pi4.ipi_addr);
    ctl_t c = {.len = 0};
    put(&c, IPPROTO_IP, IP_PKTINFO, &pi4, sizeof pi4);
    parse(&c, &p);
    assert_int_equal(p.pktinfo_family, AF_INET);
    assert_memory_equal(&p.pktinfo.v4.ipi_addr, &pi4.ipi_addr, 4);

    struct in6_pktinfo pi6;
    memset(&pi6, 0, sizeof pi6);
    inet_pton(AF_INET6, "::1", &pi6.ipi6_addr);
    pi6.ipi6_ifindex = 1;
    ctl_t d = {.len = 0};
    put(&d, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    parse(&d, &p);
    assert_int_equal(p.pktinfo_family, AF_INET6);
    assert_memory_equal(&p.pktinfo.v6.ipi6_addr, &pi6.ipi6_addr, 16);

    /* Too short to be one: ignored. */
    ctl_t e = {.len = 0};
    put(&e, IPPROTO_IP, IP_PKTINFO, &pi4, sizeof pi4 - 1);
    parse(&e, &p);
    assert_int_equal(p.pktinfo_family, 0);
}

/* ---- truncated and lying control messages --------------------------------- */

/* MSG_CTRUNC: the kernel cut the last message to what fitted (its cmsg_len
 * says so); the messages before it still count, the cut one does not. */
static void test_ctrunc(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    put_int(&c, IPPROTO_IP, IP_TTL, 61);
    size_t at = c.len;
    put_timestamping(&c, SW_NS, 0);
    struct cmsghdr *h = (struct cmsghdr *)(c.u.b + at);
    h->cmsg_len = CMSG_LEN(sizeof(struct timespec)); /* cut after ts[0] */
    c.len = at + h->cmsg_len;
    struct msghdr mh = msg_of(&c);
    mh.msg_flags = MSG_CTRUNC;
    tw_pkt_t p;
    memset(&p, 0x5a, sizeof p);
    tw_rx_cmsgs_parse(&mh, &p);
    assert_int_equal(p.ttl, 61);
    assert_false(p.rx_kernel);
    assert_false(p.rx_hw);
}

/* A message whose cmsg_len runs past the control buffer is not read: the
 * octets beyond msg_controllen are not the kernel's. */
static void test_cmsg_len_past_buffer(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    put_int(&c, IPPROTO_IP, IP_TTL, 62);
    size_t at = c.len;
    struct timespec ns = ts_of(SW_NS);
    put(&c, SOL_SOCKET, SCM_TIMESTAMPNS, &ns, sizeof ns);
    /* The buffer ends 8 octets into the timestamp, but the octets after it
     * still hold a plausible one. */
    c.len = at + CMSG_LEN(sizeof ns) - 8;
    struct msghdr mh = msg_of(&c);
    tw_pkt_t p;
    memset(&p, 0x5a, sizeof p);
    tw_rx_cmsgs_parse(&mh, &p);
    assert_int_equal(p.ttl, 62);
    assert_false(p.rx_kernel);
    assert_true(p.rx_time == 0);
}

/* cmsg_len smaller than a header: the walk stops, nothing is read from it. */
static void test_cmsg_len_too_small(void **st)
{
    (void)st;
    for (size_t bad = 0; bad < sizeof(struct cmsghdr); bad += 4) {
        ctl_t c = {.len = 0};
        struct timespec ns = ts_of(SW_NS);
        put(&c, SOL_SOCKET, SCM_TIMESTAMPNS, &ns, sizeof ns);
        put_int(&c, IPPROTO_IP, IP_TTL, 9);
        ((struct cmsghdr *)c.u.b)->cmsg_len = bad;
        struct msghdr mh = msg_of(&c);
        tw_pkt_t p;
        memset(&p, 0x5a, sizeof p);
        tw_rx_cmsgs_parse(&mh, &p);
        assert_false(p.rx_kernel);
        assert_true(p.rx_time == 0);
        assert_int_equal(p.ttl, -1);
    }
    /* A buffer shorter than one header, and none at all. */
    ctl_t c = {.len = 0};
    put_int(&c, IPPROTO_IP, IP_TTL, 9);
    struct msghdr mh = msg_of(&c);
    mh.msg_controllen = sizeof(struct cmsghdr) - 1;
    tw_pkt_t p;
    tw_rx_cmsgs_parse(&mh, &p);
    assert_int_equal(p.ttl, -1);
    mh.msg_control = NULL;
    mh.msg_controllen = 0;
    tw_rx_cmsgs_parse(&mh, &p);
    assert_int_equal(p.ttl, -1);
}

/* ---- transmit timestamps (error queue) ------------------------------------ */

static void put_ee(ctl_t *c, int level, int type, uint8_t origin, uint32_t errn, uint32_t data)
{
    struct sock_extended_err ee;
    memset(&ee, 0, sizeof ee);
    ee.ee_errno = errn;
    ee.ee_origin = origin;
    ee.ee_data = data;
    put(c, level, type, &ee, sizeof ee);
}

static void test_txstamp(void **st)
{
    (void)st;
    tw_txstamp_t ts;
    /* Software, with OPT_ID 7 (IPv4). */
    ctl_t c = {.len = 0};
    put_timestamping(&c, SW_NS, 0);
    put_ee(&c, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 7);
    struct msghdr mh = msg_of(&c);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 1);
    assert_int_equal(ts.id, 7);
    assert_true(ts.sw == SW_NS);
    assert_true(ts.hw == 0);

    /* The NIC's, id first (IPv6). */
    ctl_t d = {.len = 0};
    put_ee(&d, IPPROTO_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 0xffffffffu);
    put_timestamping(&d, 0, HW_NS);
    mh = msg_of(&d);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 1);
    assert_true(ts.id == 0xffffffffu);
    assert_true(ts.sw == 0);
    assert_true(ts.hw == HW_NS);

    /* Both in one message: both kept, neither in place of the other. */
    ctl_t e = {.len = 0};
    put_timestamping(&e, SW_NS, HW_NS);
    put_ee(&e, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 3);
    mh = msg_of(&e);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 1);
    assert_true(ts.sw == SW_NS);
    assert_true(ts.hw == HW_NS);
}

static void test_txstamp_not_one(void **st)
{
    (void)st;
    tw_txstamp_t ts = {.id = 99};
    /* No id. */
    ctl_t c = {.len = 0};
    put_timestamping(&c, SW_NS, 0);
    struct msghdr mh = msg_of(&c);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    /* An ICMP error, not a timestamp. */
    ctl_t d = {.len = 0};
    put_timestamping(&d, SW_NS, 0);
    put_ee(&d, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, EHOSTUNREACH, 1);
    mh = msg_of(&d);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    /* An id and no time. */
    ctl_t e = {.len = 0};
    put_timestamping(&e, 0, 0);
    put_ee(&e, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 1);
    mh = msg_of(&e);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    /* The extended error cut short. */
    ctl_t f = {.len = 0};
    put_timestamping(&f, SW_NS, 0);
    struct sock_extended_err ee = {.ee_errno = ENOMSG, .ee_origin = SO_EE_ORIGIN_TIMESTAMPING};
    put(&f, IPPROTO_IP, IP_RECVERR, &ee, sizeof ee - 1);
    mh = msg_of(&f);
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    /* The timestamp's cmsg_len runs past the buffer. */
    ctl_t g = {.len = 0};
    put_ee(&g, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 1);
    size_t at = g.len;
    put_timestamping(&g, SW_NS, 0);
    g.len = at + CMSG_LEN(sizeof(struct timespec));
    mh = msg_of(&g);
    mh.msg_flags = MSG_CTRUNC;
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    assert_int_equal(ts.id, 99);
}

/* ---- the same through sockets on loopback --------------------------------- */

static int wait_readable(int fd, short ev)
{
    struct pollfd pf = {.fd = fd, .events = ev};
    return poll(&pf, 1, 2000);
}

static void tx_cb(void *arg, const tw_txstamp_t *ts)
{
    tw_txstamp_t *out = arg;
    *out = *ts;
}

/* IPV6_FLOWINFO: the header's first word less the version, network order:
 * the label is its low 20 bits, the Traffic Class above is not. */
static void test_flowinfo_cmsg(void **st)
{
    (void)st;
    tw_pkt_t p;
    ctl_t c = {.len = 0};
    uint32_t fi = htonl(0x0B812345); /* Traffic Class 0xb8, label 0x12345 */
    put(&c, IPPROTO_IPV6, IPV6_FLOWINFO, &fi, sizeof fi);
    parse(&c, &p);
    assert_int_equal(p.flowlabel, 0x12345);
    /* None given (the kernel gives none for flow info 0): 0. */
    ctl_t d = {.len = 0};
    put_int(&d, IPPROTO_IPV6, IPV6_HOPLIMIT, 64);
    parse(&d, &p);
    assert_int_equal(p.flowlabel, 0);
    /* Too short to hold it: not read. */
    ctl_t e = {.len = 0};
    put(&e, IPPROTO_IPV6, IPV6_FLOWINFO, &fi, 2);
    parse(&e, &p);
    assert_int_equal(p.flowlabel, 0);
}

static int wait_readable(int fd, short ev);

/* On ::1: a request sent with label 0x12345 arrives with it, the reply
 * tw_send_replies sends carries it back; one with label 0 comes back with 0
 * (no automatic label). Skipped without IPv6 loopback. */
static void test_flowlabel_loopback(void **st)
{
    (void)st;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    tw_sockopts_t o = {.ttl = 64};
    char err[200];
    int rx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    if (rx < 0)
        skip();
    int tx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    assert_true(tx >= 0);
    assert_int_equal(tw_flowlabel_enable(rx), 0);
    assert_int_equal(tw_flowlabel_enable(tx), 0);
    struct sockaddr_in6 ra, ta;
    socklen_t rl = sizeof ra, tl = sizeof ta;
    assert_int_equal(getsockname(rx, (struct sockaddr *)&ra, &rl), 0);
    assert_int_equal(getsockname(tx, (struct sockaddr *)&ta, &tl), 0);
    tw_batch_t *b = tw_batch_new(4, TW_RX_BUFSIZE), *c = tw_batch_new(4, TW_RX_BUFSIZE);
    assert_true(b && c);
    static const uint32_t labels[] = {0x12345, 0};
    for (int i = 0; i < 2; i++) {
        ra.sin6_flowinfo = htonl(labels[i]);
        assert_int_equal(sendto(tx, "hello", 5, 0, (struct sockaddr *)&ra, rl), 5);
        assert_int_equal(wait_readable(rx, POLLIN), 1);
        assert_int_equal(tw_recv_batch(rx, b), 1);
        tw_pkt_t *p = tw_batch_pkt(b, 0);
        assert_int_equal(p->flowlabel, labels[i]);
        assert_int_equal(tw_send_replies(rx, b, 1), 1);
        assert_int_equal(wait_readable(tx, POLLIN), 1);
        assert_int_equal(tw_recv_batch(tx, c), 1);
        assert_int_equal(tw_batch_pkt(c, 0)->flowlabel, labels[i]);
    }
    assert_int_equal(tw_batch_take_unlabelled(b), 0);
    tw_batch_free(b);
    tw_batch_free(c);
    close(rx);
    close(tx);
}

static void test_loopback_sockets(void **st)
{
    (void)st;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    tw_sockopts_t o = {.tos = 0xb8, .ttl = 33, .recv_tos = true};
    char err[200];
    int rx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    int tx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    assert_true(rx >= 0 && tx >= 0);
    struct sockaddr_in ra;
    socklen_t rl = sizeof ra;
    assert_int_equal(getsockname(rx, (struct sockaddr *)&ra, &rl), 0);
    assert_int_equal(tw_tx_timestamps_enable(tx), 0);
    tw_time_t before = tw_now();
    assert_int_equal(sendto(tx, "hello", 5, 0, (struct sockaddr *)&ra, rl), 5);
    assert_int_equal(wait_readable(rx, POLLIN), 1);
    tw_batch_t *b = tw_batch_new(4, TW_RX_BUFSIZE);
    assert_non_null(b);
    assert_int_equal(tw_recv_batch(rx, b), 1);
    tw_pkt_t *p = tw_batch_pkt(b, 0);
    assert_int_equal(p->len, 5);
    assert_int_equal(p->ttl, 33);
    assert_int_equal(p->tos, 0xb8);
    assert_true(p->rx_kernel);
    assert_false(p->rx_hw);
    assert_true(p->rx_time >= before - TW_NS_PER_SEC && p->rx_time <= tw_now());
    /* The transmit timestamp of datagram 0, software. */
    tw_txstamp_t ts = {.id = 42};
    for (int i = 0; i < 100 && ts.id == 42; i++) {
        assert_int_equal(wait_readable(tx, POLLERR), 1);
        tw_tx_timestamps_read(tx, tx_cb, &ts);
    }
    assert_int_equal(ts.id, 0);
    assert_true(ts.sw != 0);
    assert_true(ts.hw == 0);
    tw_batch_free(b);
    close(rx);
    close(tx);
}

/* Many transmit timestamps drained by one tw_errqueue_read: more than one
 * recvmmsg batch of them, each id once, in order. */
static uint32_t stamp_ids[200];
static int nstamps;
static void count_cb(void *arg, const tw_txstamp_t *ts)
{
    (void)arg;
    if (nstamps < 200)
        stamp_ids[nstamps] = ts->id;
    nstamps++;
}

static void test_errqueue_batches(void **st)
{
    (void)st;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    tw_sockopts_t o = {.ttl = 64};
    char err[200];
    int rx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    int tx = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    assert_true(rx >= 0 && tx >= 0);
    assert_int_equal(tw_tx_timestamps_enable(tx), 0);
    struct sockaddr_in ra;
    socklen_t rl = sizeof ra;
    assert_int_equal(getsockname(rx, (struct sockaddr *)&ra, &rl), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(sendto(tx, "x", 1, 0, (struct sockaddr *)&ra, rl), 1);
    nstamps = 0;
    /* Loopback stamps as the datagram goes through the device, before sendto
     * returns: all 40 are queued now. */
    assert_int_equal(wait_readable(tx, POLLERR), 1);
    assert_int_equal(tw_errqueue_read(tx, count_cb, NULL, NULL), 40);
    assert_int_equal(nstamps, 40);
    for (int i = 0; i < 40; i++)
        assert_int_equal(stamp_ids[i], i);
    assert_int_equal(tw_errqueue_read(tx, count_cb, NULL, NULL), 0);
    close(rx);
    close(tx);
}

/* Loopback: found as the way to 127.0.0.1, and without hardware timestamps. */
static void test_hw_on_loopback(void **st)
{
    (void)st;
    struct sockaddr_in r = {
        .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char ifname[IF_NAMESIZE], err[200] = "";
    assert_int_equal(tw_egress_ifname((struct sockaddr *)&r, sizeof r, ifname, err, sizeof err), 0);
    assert_string_equal(ifname, "lo");
    struct sockaddr_in6 r6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (tw_egress_ifname((struct sockaddr *)&r6, sizeof r6, ifname, err, sizeof err) == 0)
        assert_string_equal(ifname, "lo");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    tw_sockopts_t o = {.ttl = 64};
    int fd = tw_udp_open((struct sockaddr *)&a, sizeof a, &o, err, sizeof err);
    assert_true(fd >= 0);
    bool sw_too = true;
    assert_int_equal(tw_hw_timestamps_enable(fd, "lo", &sw_too, err, sizeof err), -1);
    print_message("%s\n", err);
    assert_true(!strcmp(err, "interface lo: no hardware timestamping") ||
                !strcmp(err, "interface lo: turning on hardware timestamps needs CAP_NET_ADMIN"));
    close(fd);
}

/* ---- ICMP errors (error queue, IP_RECVERR) -------------------------------- */

/* An ICMP fragmentation needed with its offender; a transmit timestamp is
 * not an ICMP error, nor is an ICMP error a transmit timestamp. */
static void test_icmperr_parse(void **st)
{
    (void)st;
    ctl_t c = {.len = 0};
    struct {
        struct sock_extended_err ee;
        struct sockaddr_in off;
    } d;
    memset(&d, 0, sizeof d);
    d.ee.ee_errno = EMSGSIZE;
    d.ee.ee_origin = SO_EE_ORIGIN_ICMP;
    d.ee.ee_type = 3;
    d.ee.ee_code = 4;
    d.ee.ee_info = 1280;
    d.off.sin_family = AF_INET;
    d.off.sin_addr.s_addr = htonl(0x7f000009);
    put(&c, IPPROTO_IP, IP_RECVERR, &d, sizeof d);
    struct msghdr mh = {.msg_control = c.u.b, .msg_controllen = c.len};
    tw_icmperr_t e;
    assert_int_equal(tw_icmperr_parse(&mh, &e), 1);
    assert_int_equal(e.origin, SO_EE_ORIGIN_ICMP);
    assert_int_equal(e.type, 3);
    assert_int_equal(e.code, 4);
    assert_int_equal(e.err, EMSGSIZE);
    assert_int_equal(e.info, 1280);
    assert_int_equal(e.offender.ss_family, AF_INET);
    assert_true(((struct sockaddr_in *)&e.offender)->sin_addr.s_addr == htonl(0x7f000009));
    tw_txstamp_t ts;
    assert_int_equal(tw_txstamp_parse(&mh, &ts), 0);
    /* A transmit timestamp's message: no ICMP error. */
    ctl_t t = {.len = 0};
    put_timestamping(&t, SW_NS, 0);
    put_ee(&t, IPPROTO_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 7);
    struct msghdr mt = {.msg_control = t.u.b, .msg_controllen = t.len};
    assert_int_equal(tw_icmperr_parse(&mt, &e), 0);
}

/* On loopback: a datagram to a port where nothing listens comes back as an
 * ICMP port unreachable on the error queue once IP_RECVERR is on. */
static void icmp_cb(void *arg, const tw_icmperr_t *e)
{
    *(tw_icmperr_t *)arg = *e;
}

static void test_icmp_port_unreachable_loopback(void **st)
{
    (void)st;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int closed = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(closed >= 0);
    assert_int_equal(bind(closed, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    assert_int_equal(getsockname(closed, (struct sockaddr *)&a, &l), 0);
    close(closed); /* its port is now closed */
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    tw_sockopts_t o = {.ttl = 64};
    char err[256];
    int fd = tw_udp_open((struct sockaddr *)&lo, sizeof lo, &o, err, sizeof err);
    assert_true(fd >= 0);
    assert_int_equal(tw_icmp_errors_enable(fd), 0);
    assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    struct pollfd pfd = {.fd = fd, .events = 0};
    assert_int_equal(poll(&pfd, 1, 5000), 1); /* POLLERR */
    tw_icmperr_t e;
    memset(&e, 0, sizeof e);
    assert_true(tw_errqueue_read(fd, NULL, icmp_cb, &e) >= 1);
    assert_int_equal(e.origin, SO_EE_ORIGIN_ICMP);
    assert_int_equal(e.type, 3);
    assert_int_equal(e.code, 3);
    assert_int_equal(e.err, ECONNREFUSED);
    assert_int_equal(e.dest.ss_family, AF_INET);
    assert_true(((struct sockaddr_in *)&e.dest)->sin_port == a.sin_port);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamping_software),
        cmocka_unit_test(test_timestamping_hardware_kept_apart),
        cmocka_unit_test(test_timestampns),
        cmocka_unit_test(test_ttl_tos_forms),
        cmocka_unit_test(test_pktinfo),
        cmocka_unit_test(test_rxq_ovfl),
        cmocka_unit_test(test_rx_drops_loopback),
        cmocka_unit_test(test_errqueue_batches),
        cmocka_unit_test(test_ctrunc),
        cmocka_unit_test(test_cmsg_len_past_buffer),
        cmocka_unit_test(test_cmsg_len_too_small),
        cmocka_unit_test(test_txstamp),
        cmocka_unit_test(test_txstamp_not_one),
        cmocka_unit_test(test_icmperr_parse),
        cmocka_unit_test(test_icmp_port_unreachable_loopback),
        cmocka_unit_test(test_loopback_sockets),
        cmocka_unit_test(test_flowinfo_cmsg),
        cmocka_unit_test(test_flowlabel_loopback),
        cmocka_unit_test(test_hw_on_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
