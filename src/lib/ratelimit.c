#include "ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ntptime.h"

int tw_ratelimit_init(tw_ratelimit_t *rl, uint32_t pps, uint32_t burst, uint32_t capacity)
{
    memset(rl, 0, sizeof *rl);
    if (pps < 1 || pps > TW_RATELIMIT_MAX_PPS || burst < 1) {
        errno = EINVAL;
        return -1;
    }
    rl->interval_ns = TW_NS_PER_SEC / pps;
    rl->tau_ns = (int64_t)(burst - 1) * rl->interval_ns;
    return tw_peertable_init(&rl->table, capacity);
}

void tw_ratelimit_free(tw_ratelimit_t *rl)
{
    tw_peertable_free(&rl->table);
}

bool tw_ratelimit_allow(tw_ratelimit_t *rl, const struct sockaddr_storage *src, int64_t now)
{
    tw_peer_key_t k;
    tw_peer_key_of(&k, src, false, 0, 0);
    if (k.family == AF_INET6)
        memset(k.addr + 8, 0, 8); /* the /64 */
    bool fresh;
    tw_peer_slot_t *s = tw_peertable_get(&rl->table, &k, now, &fresh);
    s->last_seen = now;
    /* val: the theoretical arrival time of the next packet (GCRA). A source
     * whose time has passed has a full bucket. */
    int64_t tat = fresh ? now : (int64_t)s->val;
    if (tat < now)
        tat = now;
    if (tat - now > rl->tau_ns) {
        rl->refused++;
        return false;
    }
    s->val = (uint64_t)(tat + rl->interval_ns);
    return true;
}
