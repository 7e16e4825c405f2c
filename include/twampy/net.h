/* net: UDP sockets for test sessions. IP options really on the wire (TOS/Traffic
 * Class, TTL/Hop Limit, DF), what the kernel tells about each received packet
 * (receive timestamp, TTL/Hop Limit, TOS, the local address it was sent to), and
 * batched receive and send (recvmmsg/sendmmsg) with no allocation per packet. */
#ifndef TWAMPY_NET_H
#define TWAMPY_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ntptime.h"

typedef struct tw_sockopts {
    int tos;        /* TOS / Traffic Class octet (DSCP << 2 | ECN), 0..255 */
    int ttl;        /* TTL / Hop Limit, 1..255 */
    bool df;        /* set DF (IPv4) / don't fragment (IPv6) */
    bool dualstack; /* IPv6 wildcard socket also takes IPv4 (IPV6_V6ONLY off) */
    int bufsize;    /* SO_RCVBUF/SO_SNDBUF wish, 0 = kernel default */
    bool recv_tos;  /* report each packet's TOS / Traffic Class (tw_pkt_t.tos) */
    bool reuseport; /* SO_REUSEPORT: one of several sockets sharing the address (the
                       kernel hashes each flow to one of them: workers.h) */
} tw_sockopts_t;

/* Open a non-blocking UDP socket bound to local with opts and every receive-side
 * report turned on. Returns the fd, or -1 with a reason in err. */
int tw_udp_open(const struct sockaddr *local, socklen_t local_len, const tw_sockopts_t *opts,
                char *err, size_t errlen);

/* One received packet and what the kernel said about it. */
typedef struct tw_pkt {
    uint8_t *buf;
    size_t len; /* octets received (at most cap) */
    size_t cap; /* buffer size */
    bool trunc; /* the datagram was longer than cap */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    /* System clock: the kernel's software receive timestamp, or user-space
     * time when none. */
    tw_time_t rx_time;
    bool rx_kernel;       /* rx_time came from the kernel */
    bool rx_hw;           /* the NIC stamped it too: */
    tw_time_t rx_hw_time; /* its stamp, in the NIC's own clock (PHC, phc.h), 0 none */
    int ttl;              /* TTL / Hop Limit as received, -1 unknown */
    int tos;              /* TOS / Traffic Class as received, -1 unknown */
    /* The reply's TOS / Traffic Class when it is not the socket's
     * (tw_send_replies; reset by tw_rx_cmsgs_parse). */
    bool tx_tos_set;
    uint8_t tx_tos;
    /* SO_RXQ_OVFL (tw_rx_drops_enable): the socket's count of datagrams its
     * receive buffer dropped, as of this one (wraps at 2^32). */
    bool rx_drops_known;
    uint32_t rx_drops;
    /* The IPv6 flow label as received (the IPV6_FLOWINFO report,
     * tw_flowlabel_enable), 0 when none was given: the kernel gives none
     * for flow info 0, nor for IPv4. A reply from tw_send_replies carries
     * it back (a label the kernel refuses: tw_batch_take_unlabelled). */
    uint32_t flowlabel;
    /* The local address the packet was sent to, to answer from the same one. */
    int pktinfo_family; /* 0 none (not asked for), AF_INET or AF_INET6 */
    union {
        struct in_pktinfo v4;
        struct in6_pktinfo v6;
    } pktinfo;
} tw_pkt_t;

#define TW_BATCH 64

typedef struct tw_batch tw_batch_t;

/* Receive buffer per packet: the largest test packet and room to see that a
 * datagram is longer. */
#define TW_RX_BUFSIZE 9216

/* A batch of n (<= TW_BATCH) packet slots with buffers of bufsize octets each. */
tw_batch_t *tw_batch_new(int n, size_t bufsize);
void tw_batch_free(tw_batch_t *b);
tw_pkt_t *tw_batch_pkt(tw_batch_t *b, int i);

/* What the control messages of a received datagram say (no I/O): receive
 * timestamps, TTL / Hop Limit, TOS / Traffic Class, the local address. Sets
 * every field it reports (rx_time 0 and rx_kernel false when there is no
 * timestamp). */
void tw_rx_cmsgs_parse(const struct msghdr *mh, tw_pkt_t *p);

/* Receive up to the batch size without blocking. Returns the count (0 when
 * nothing is waiting), or -1 on an error other than EAGAIN. */
int tw_recv_batch(int fd, tw_batch_t *b);

/* Send pkt[i].buf/len back to pkt[i].peer, from the local address it arrived on,
 * for every i < n whose len is not 0, with the request's flow label
 * (pkt[i].flowlabel) on an IPv6 socket of tw_flowlabel_enable. Returns the
 * number sent, or -1. */
int tw_send_replies(int fd, tw_batch_t *b, int n);
/* Replies tw_send_replies sent without their request's flow label, as the
 * kernel refused it (EINVAL: another process holds an exclusive flow label
 * lease in this network namespace, so unleased labels are refused), since
 * the last call; resets the count. */
uint32_t tw_batch_take_unlabelled(tw_batch_t *b);

/* IPv6 flow labels on fd (nothing on an IPv4 socket): report each received
 * packet's label (IPV6_FLOWINFO: tw_pkt_t.flowlabel), send with the label
 * of the destination's sin6_flowinfo (IPV6_FLOWINFO_SEND), and no automatic
 * label on packets whose label is 0 (IPV6_AUTOFLOWLABEL off; a kernel with
 * net.ipv6.auto_flowlabels = 3 labels them all the same). Returns 0, or -1
 * (errno) when the kernel cannot. */
int tw_flowlabel_enable(int fd);

/* Ask the kernel for a software transmit timestamp of every datagram sent on fd
 * (SO_TIMESTAMPING with OPT_ID: the n-th datagram sent after this call has id
 * n - 1). Returns 0, or -1 when the kernel cannot. */
int tw_tx_timestamps_enable(int fd);

/* Report each received packet's TOS / Traffic Class from now on (tw_pkt_t.tos),
 * as tw_sockopts_t.recv_tos does at open. Returns 0, or -1. */
int tw_recv_tos_enable(int fd);

/* The interface that carries traffic to remote: 0 with its name in ifname
 * (IF_NAMESIZE octets), or -1 with a reason. */
int tw_egress_ifname(const struct sockaddr *remote, socklen_t remote_len, char *ifname, char *err,
                     size_t errlen);

/* NIC hardware timestamps for fd, transmit and receive, on interface ifname:
 * SIOCSHWTSTAMP on it, then SO_TIMESTAMPING with the hardware flags and the
 * software ones kept (every packet keeps its software stamps beside the NIC's;
 * *tx_sw_too says whether a transmit stamp the NIC takes comes with a software
 * one, SOF_TIMESTAMPING_OPT_TX_SWHW). The NIC's stamps are in its own clock:
 * see phc.h. Returns 0, or -1 with a reason (e.g. the interface has no
 * hardware timestamping, as loopback and veth). Needs CAP_NET_ADMIN. */
int tw_hw_timestamps_enable(int fd, const char *ifname, bool *tx_sw_too, char *err, size_t errlen);

/* A transmit timestamp from the error queue. */
typedef struct tw_txstamp {
    uint32_t id;  /* the datagram's number on the socket (OPT_ID) */
    tw_time_t sw; /* the kernel's software timestamp (system clock), 0 none */
    tw_time_t hw; /* the NIC's, in its own clock (PHC), 0 none */
} tw_txstamp_t;

/* One error-queue message (no I/O): 1 when it is a transmit timestamp with
 * its id (*ts filled), else 0. */
int tw_txstamp_parse(const struct msghdr *mh, tw_txstamp_t *ts);

/* Drain the transmit timestamps waiting in fd's error queue: cb(arg, ts) for
 * each. Returns how many were read. */
int tw_tx_timestamps_read(int fd, void (*cb)(void *arg, const tw_txstamp_t *ts), void *arg);

/* ICMP errors for what fd sends (IP_RECVERR, and IPV6_RECVERR on an IPv6
 * socket): the kernel queues each on the error queue, beside the transmit
 * timestamps. Returns 0, or -1 when the kernel cannot. */
int tw_icmp_errors_enable(int fd);

/* An ICMP (or local) error from the error queue. */
typedef struct tw_icmperr {
    uint8_t origin; /* SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 or SO_EE_ORIGIN_LOCAL */
    uint8_t type, code;
    int err;       /* the errno it stands for (ECONNREFUSED, EHOSTUNREACH, EMSGSIZE...) */
    uint32_t info; /* the MTU for fragmentation needed / packet too big / EMSGSIZE */
    struct sockaddr_storage offender; /* who sent the ICMP (ss_family 0: unknown) */
    struct sockaddr_storage dest;     /* where the packet it is about was going */
} tw_icmperr_t;

/* One error-queue message (no I/O): 1 when it is an ICMP or local error
 * (*e filled), else 0. The caller copies msg_name into e->dest. */
int tw_icmperr_parse(const struct msghdr *mh, tw_icmperr_t *e);

/* Drain fd's error queue: transmit timestamps to txcb, ICMP and local errors
 * to icmpcb (either may be NULL). Returns how many messages were read. */
int tw_errqueue_read(int fd, void (*txcb)(void *arg, const tw_txstamp_t *ts),
                     void (*icmpcb)(void *arg, const tw_icmperr_t *e), void *arg);

/* For a group of n sockets sharing an address (SO_REUSEPORT, fd one of them,
 * bound): the kernel hands each packet or connection to the socket of index
 * hash(source address) % n, in the order they were bound (an IPv6 source by
 * its /64), instead of by the whole flow: everything one source sends goes to
 * one socket. Returns 0, or -1 (errno) when the kernel cannot. */
int tw_reuseport_by_source(int fd, int n);

/* Datagrams dropped by this host: ask for the socket's drop counter with
 * every datagram received (SO_RXQ_OVFL: tw_pkt_t.rx_drops). Returns 0, or -1. */
int tw_rx_drops_enable(int fd);
/* The socket's drop counter now (SO_MEMINFO): datagrams its receive buffer
 * dropped since it was opened. Returns 0, or -1 when the kernel cannot say. */
int tw_rx_drops_read(int fd, uint32_t *drops);
/* A receive buffer of at least want octets: SO_RCVBUFFORCE where permitted
 * (CAP_NET_ADMIN), else SO_RCVBUF (capped by net.core.rmem_max). Returns the
 * buffer the kernel granted (octets of packet memory, truesize included), or
 * -1. */
long tw_rcvbuf_fit(int fd, long want);

/* Is this socket's destination address family IPv6? */
int tw_sock_family(int fd);

#endif
