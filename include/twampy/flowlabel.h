/* flowlabel: the IPv6 flow label a sender puts on its test packets (RFC 6437,
 * --flow-label): one fixed label, one random label per session, or a
 * different label for each packet (to spread the packets across ECMP paths).
 * Pure helpers, no I/O but getrandom(). */
#ifndef TWAMPY_FLOWLABEL_H
#define TWAMPY_FLOWLABEL_H

#include <stdint.h>

#define TW_FLOWLABEL_MAX 0xFFFFFu /* 20 bits */

enum tw_flowlabel_mode {
    TW_FL_NONE,       /* the kernel's choice (an automatic label, or 0) */
    TW_FL_FIXED,      /* --flow-label N */
    TW_FL_RANDOM,     /* --flow-label random: one random non-zero label per session */
    TW_FL_PER_PACKET, /* --flow-label per-packet: tw_flowlabel_of_seq */
    TW_FL_MIXED       /* a total over sessions of different modes (reports only) */
};

/* "N" (0..0xFFFFF, decimal or 0x hex), "random" or "per-packet": 0 with
 * *mode and *label (the label for TW_FL_FIXED, else 0), or -1 when s is none
 * of these (out of range included). */
int tw_flowlabel_parse(const char *s, int *mode, uint32_t *label);
/* "off", "fixed", "random", "per-packet" or "mixed". */
const char *tw_flowlabel_mode_name(int mode);
/* A random non-zero label (getrandom; the clock when it cannot). */
uint32_t tw_flowlabel_random(void);
/* A random per-session key for tw_flowlabel_of_seq. */
uint64_t tw_flowlabel_key(void);
/* Packet seq's label in per-packet mode: a keyed permutation (a 4-round
 * Feistel network on 20 bits, cycle-walked off 0) of seq mod 0xFFFFF: never
 * 0, and the labels of 0xFFFFF consecutive sequence numbers all differ
 * (but for a run across the 2^32 wrap of the sequence number). */
uint32_t tw_flowlabel_of_seq(uint64_t key, uint32_t seq);

#endif
