#include "server_guard.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <arpa/inet.h>

/* ---- sources ------------------------------------------------------------ */

void tw_source_of(const struct sockaddr_storage *ss, tw_source_t *out)
{
    memset(out, 0, sizeof *out);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        out->family = AF_INET;
        memcpy(out->addr, &s4->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            out->family = AF_INET;
            memcpy(out->addr, &s6->sin6_addr.s6_addr[12], 4);
        } else {
            out->family = AF_INET6;
            memcpy(out->addr, s6->sin6_addr.s6_addr, 8); /* the /64 */
        }
    }
}

bool tw_source_eq(const tw_source_t *a, const tw_source_t *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

const char *tw_source_str(const tw_source_t *s, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    if (s->family == AF_INET && inet_ntop(AF_INET, s->addr, a, sizeof a)) {
        snprintf(buf, len, "%s", a);
    } else if (s->family == AF_INET6) {
        uint8_t full[16] = {0};
        memcpy(full, s->addr, 8);
        if (inet_ntop(AF_INET6, full, a, sizeof a))
            snprintf(buf, len, "%s/64", a);
        else
            snprintf(buf, len, "?");
    } else {
        snprintf(buf, len, "local");
    }
    return buf;
}

/* ---- rate limiter per source -------------------------------------------- */

void tw_rate_init(tw_rate_t *r, int64_t interval_ns, int burst)
{
    memset(r, 0, sizeof *r);
    r->interval_ns = interval_ns > 0 ? interval_ns : 1;
    r->burst = burst > 0 ? burst : 1;
}

bool tw_rate_take(tw_rate_t *r, const tw_source_t *src, int64_t now)
{
    int found = -1, oldest = 0;
    for (int i = 0; i < TW_RATE_SLOTS; i++) {
        if (r->slot[i].tat && tw_source_eq(&r->slot[i].src, src)) {
            found = i;
            break;
        }
        if (r->slot[i].tat < r->slot[oldest].tat)
            oldest = i;
    }
    if (found < 0) {
        /* A new source takes a free slot, or the one whose limit ran out
         * longest ago (even one still limiting: the table stays bounded, and
         * the budget of time still bounds everyone together). */
        found = oldest;
        r->slot[found].src = *src;
        r->slot[found].tat = 0;
    }
    int64_t tat = r->slot[found].tat > now ? r->slot[found].tat : now;
    int64_t tau = (int64_t)(r->burst - 1) * r->interval_ns;
    if (tat - now > tau)
        return false;
    r->slot[found].tat = tat + r->interval_ns;
    return true;
}

/* ---- budget of time ----------------------------------------------------- */

void tw_budget_init(tw_budget_t *b, int share_pct, int64_t burst_ns)
{
    memset(b, 0, sizeof *b);
    b->share_pct = share_pct > 0 && share_pct <= 100 ? share_pct : 100;
    b->burst_ns = burst_ns > 0 ? burst_ns : 0;
}

bool tw_budget_allows(const tw_budget_t *b, int64_t now)
{
    return b->tat - b->burst_ns <= now;
}

void tw_budget_spend(tw_budget_t *b, int64_t start, int64_t cost_ns)
{
    if (cost_ns < 0)
        cost_ns = 0;
    int64_t from = b->tat > start ? b->tat : start;
    b->tat = from + cost_ns / b->share_pct * 100;
}

/* ---- descriptors -------------------------------------------------------- */

int tw_fds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

int tw_nofile_fit(long need, long *limit, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        *limit = -1;
        return -1;
    }
    if (rl.rlim_cur == RLIM_INFINITY || (long)rl.rlim_cur >= need) {
        *limit = rl.rlim_cur == RLIM_INFINITY ? need : (long)rl.rlim_cur;
        return 0;
    }
    if (rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= need) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
            *limit = -1;
            return -1;
        }
        *limit = rl.rlim_cur == RLIM_INFINITY ? need : (long)rl.rlim_cur;
        return 0;
    }
    *limit = (long)rl.rlim_max;
    snprintf(err, errlen, "the hard limit is %ld", *limit);
    return -1;
}
