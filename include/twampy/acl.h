/* acl: source address filters (--allow CIDR, repeatable). An empty list allows
 * everyone; otherwise a source must fall in one of the prefixes. IPv4-mapped
 * IPv6 sources match IPv4 prefixes. */
#ifndef TWAMPY_ACL_H
#define TWAMPY_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TW_ACL_MAX 64

typedef struct tw_acl {
    int n;
    struct {
        int family; /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        int prefix; /* bits */
    } e[TW_ACL_MAX];
} tw_acl_t;

/* Add "192.0.2.0/24", "2001:db8::/32" or a single address (a full-length
 * prefix). Returns 0, or -1 with a reason in err. */
int tw_acl_add(tw_acl_t *acl, const char *cidr, char *err, size_t errlen);
/* Does the list let this source in? */
bool tw_acl_allows(const tw_acl_t *acl, const struct sockaddr *sa);

#endif
