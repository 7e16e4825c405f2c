/* peertable: a bounded table of per-peer state for the tables a remote party
 * fills (the reflector's per-sender counters, the per-source rate limit).
 *
 * The peer chooses its key (port, SSID, and with IPv6 a good part of the
 * address), so the table is built for the worst case, as chrony's client log
 * is: a keyed hash (SipHash-2-4 with a random key per table, from getrandom)
 * picks one bucket of TW_PEERTABLE_WAYS slots, a lookup examines that bucket
 * only, and a new peer takes a free slot of its bucket or else the least
 * recently seen one (counted as an eviction). Every lookup costs at most
 * TW_PEERTABLE_WAYS key comparisons, whatever the keys; memory is fixed at
 * creation. No allocation after tw_peertable_init. */
#ifndef TWAMPY_PEERTABLE_H
#define TWAMPY_PEERTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "siphash.h"

#define TW_PEERTABLE_WAYS 8

/* What identifies a peer. Zero the whole struct before filling it (it is
 * hashed and compared as octets). */
typedef struct tw_peer_key {
    uint8_t addr[16]; /* IPv4 in the first 4 octets */
    uint16_t port;    /* network order; 0 when the port is not part of the key */
    uint16_t ssid;    /* STAMP Session-Sender Identifier; 0 when not part of the key */
    uint8_t family;   /* AF_INET or AF_INET6 */
    uint8_t kind;     /* the caller's tag (e.g. STAMP or TWAMP light) */
} tw_peer_key_t;

typedef struct tw_peer_slot {
    int64_t last_seen; /* the caller's clock; the least recent goes first */
    uint64_t val;      /* the caller's state, 0 in a new slot */
    tw_peer_key_t key;
    bool used;
} tw_peer_slot_t;

typedef struct tw_peertable {
    tw_peer_slot_t *slots;
    uint32_t capacity; /* slots in all */
    uint32_t nbuckets; /* bucket b holds slots [b * WAYS, min((b + 1) * WAYS, capacity)) */
    uint32_t used;
    uint64_t evictions; /* peers forgotten to make room for a new one */
    uint64_t probes;    /* keys compared in lookups: bounded work, for tests */
    uint8_t hkey[TW_SIPHASH_KEY_LEN];
} tw_peertable_t;

/* A table of capacity slots (>= 1) with a fresh random hash key. Returns 0, or
 * -1 with errno (ENOMEM, or getrandom's error). */
int tw_peertable_init(tw_peertable_t *t, uint32_t capacity);
void tw_peertable_free(tw_peertable_t *t);

/* The slot of k, or a slot taken for it (val 0, last_seen now) with *fresh set.
 * The caller updates last_seen when it counts the peer as seen. Never NULL. */
tw_peer_slot_t *tw_peertable_get(tw_peertable_t *t, const tw_peer_key_t *k, int64_t now,
                                 bool *fresh);

/* k for address ss (AF_INET or AF_INET6; an IPv4-mapped IPv6 address as its
 * IPv4 form), with its port when with_port, and ssid and kind as given. */
void tw_peer_key_of(tw_peer_key_t *k, const struct sockaddr_storage *ss, bool with_port,
                    uint16_t ssid, uint8_t kind);

#endif
