#include "peertable.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int tw_peertable_init(tw_peertable_t *t, uint32_t capacity)
{
    memset(t, 0, sizeof *t);
    if (capacity == 0) {
        errno = EINVAL;
        return -1;
    }
    size_t got = 0;
    while (got < sizeof t->hkey) {
        ssize_t r = getrandom(t->hkey + got, sizeof t->hkey - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    t->slots = calloc(capacity, sizeof *t->slots);
    if (!t->slots)
        return -1;
    t->capacity = capacity;
    t->nbuckets = (uint32_t)(((uint64_t)capacity + TW_PEERTABLE_WAYS - 1) / TW_PEERTABLE_WAYS);
    return 0;
}

void tw_peertable_free(tw_peertable_t *t)
{
    free(t->slots);
    t->slots = NULL;
    explicit_bzero(t->hkey, sizeof t->hkey);
}

tw_peer_slot_t *tw_peertable_get(tw_peertable_t *t, const tw_peer_key_t *k, int64_t now,
                                 bool *fresh)
{
    uint64_t h = tw_siphash24(t->hkey, k, sizeof *k);
    /* Map the hash's high 32 bits onto [0, nbuckets) without a division. */
    uint32_t b = (uint32_t)(((h >> 32) * (uint64_t)t->nbuckets) >> 32);
    uint32_t first = b * TW_PEERTABLE_WAYS;
    uint32_t end = first + TW_PEERTABLE_WAYS;
    if (end > t->capacity)
        end = t->capacity;
    tw_peer_slot_t *victim = NULL;
    for (uint32_t i = first; i < end; i++) {
        tw_peer_slot_t *s = &t->slots[i];
        if (!s->used) {
            if (!victim || victim->used)
                victim = s;
            continue;
        }
        t->probes++;
        if (memcmp(&s->key, k, sizeof *k) == 0) {
            *fresh = false;
            return s;
        }
        if (!victim || (victim->used && s->last_seen < victim->last_seen))
            victim = s;
    }
    if (victim->used)
        t->evictions++;
    else
        t->used++;
    victim->key = *k;
    victim->used = true;
    victim->val = 0;
    victim->last_seen = now;
    *fresh = true;
    return victim;
}

void tw_peer_key_of(tw_peer_key_t *k, const struct sockaddr_storage *ss, bool with_port,
                    uint16_t ssid, uint8_t kind)
{
    memset(k, 0, sizeof *k);
    k->ssid = ssid;
    k->kind = kind;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        k->family = AF_INET;
        memcpy(k->addr, &s->sin_addr, 4);
        k->port = with_port ? s->sin_port : 0;
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
            k->family = AF_INET;
            memcpy(k->addr, s->sin6_addr.s6_addr + 12, 4);
        } else {
            k->family = AF_INET6;
            memcpy(k->addr, &s->sin6_addr, 16);
        }
        k->port = with_port ? s->sin6_port : 0;
    }
}
