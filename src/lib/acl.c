#include "acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tw_acl_add(tw_acl_t *acl, const char *cidr, char *err, size_t errlen)
{
    if (acl->n >= TW_ACL_MAX) {
        snprintf(err, errlen, "at most %d --allow prefixes", TW_ACL_MAX);
        return -1;
    }
    char host[64];
    const char *slash = strchr(cidr, '/');
    size_t hl = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (hl == 0 || hl >= sizeof host) {
        snprintf(err, errlen, "'%s' is not an address or prefix", cidr);
        return -1;
    }
    memcpy(host, cidr, hl);
    host[hl] = 0;
    int family, maxbits;
    uint8_t addr[16] = {0};
    if (inet_pton(AF_INET, host, addr) == 1) {
        family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        family = AF_INET6;
        maxbits = 128;
    } else {
        snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", host);
        return -1;
    }
    int prefix = maxbits;
    if (slash) {
        if (slash[1] < '0' || slash[1] > '9') {
            snprintf(err, errlen, "'%s': the prefix length must be 0..%d", cidr, maxbits);
            return -1;
        }
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || v < 0 || v > maxbits) {
            snprintf(err, errlen, "'%s': the prefix length must be 0..%d", cidr, maxbits);
            return -1;
        }
        prefix = (int)v;
    }
    /* An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/96 or longer) is the IPv4
     * prefix it names: sources are matched in their IPv4 form. */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && prefix >= 96 && !memcmp(addr, mapped, 12)) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        family = AF_INET;
        prefix -= 96;
    }
    acl->e[acl->n].family = family;
    memcpy(acl->e[acl->n].addr, addr, 16);
    acl->e[acl->n].prefix = prefix;
    acl->n++;
    return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool tw_acl_allows(const tw_acl_t *acl, const struct sockaddr *sa)
{
    if (!acl || acl->n == 0)
        return true;
    /* An IPv4 source, or an IPv4-mapped IPv6 one, is matched in both forms:
     * against IPv4 prefixes as a.b.c.d, against IPv6 prefixes (::/0, or a
     * mapped prefix shorter than /96) as ::ffff:a.b.c.d. */
    uint8_t v6[16] = {0}, v4[16] = {0};
    bool is_v4 = false;
    if (sa->sa_family == AF_INET) {
        is_v4 = true;
        memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        v6[10] = v6[11] = 0xff;
        memcpy(v6 + 12, v4, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        memcpy(v6, a6, 16);
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            is_v4 = true;
            memcpy(v4, &a6->s6_addr[12], 4);
        }
    } else {
        return false;
    }
    for (int i = 0; i < acl->n; i++) {
        const uint8_t *addr = acl->e[i].family == AF_INET6 ? v6 : is_v4 ? v4 : NULL;
        if (addr && prefix_match(acl->e[i].addr, addr, acl->e[i].prefix))
            return true;
    }
    return false;
}
