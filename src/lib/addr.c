/* addr: the twampy address syntax and name resolution. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A port: decimal digits only, 0..65535. `whole` is the full address text. */
static int parse_port(const char *p, const char *whole, uint16_t *port, char *err, size_t errlen)
{
    unsigned long v = 0;
    bool big = false;

    if (*p == '\0') {
        set_err(err, errlen, "missing port number after ':' in address '%s'", whole);
        return -1;
    }
    for (const char *q = p; *q != '\0'; q++) {
        if (*q < '0' || *q > '9') {
            set_err(err, errlen,
                    "invalid port '%s' in address '%s' (expected a decimal number 0..65535)", p,
                    whole);
            return -1;
        }
        if (!big) {
            v = v * 10 + (unsigned long)(*q - '0');
            if (v > 65535)
                big = true;
        }
    }
    if (big) {
        set_err(err, errlen, "port %s out of range 0..65535 in address '%s'", p, whole);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/* An IPv6 literal, optionally with a zone ("fe80::1%eth0"). */
static bool is_v6_literal(const char *host)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    struct in6_addr a;
    const char *pct = strchr(host, '%');
    size_t n = pct != NULL ? (size_t)(pct - host) : strlen(host);

    if (n == 0 || n >= sizeof(tmp))
        return false;
    if (pct != NULL && pct[1] == '\0')
        return false;
    memcpy(tmp, host, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, &a) == 1;
}

static int copy_host(tw_addr_spec_t *out, const char *h, size_t n, const char *whole, char *err,
                     size_t errlen)
{
    if (n >= sizeof(out->host)) {
        set_err(err, errlen,
                "host name too long (%zu characters, at most %zu) in address '%.64s...'", n,
                sizeof(out->host) - 1, whole);
        return -1;
    }
    memcpy(out->host, h, n);
    out->host[n] = '\0';
    return 0;
}

int tw_addr_parse(const char *s, uint16_t default_port, tw_addr_spec_t *out, char *err,
                  size_t errlen)
{
    tw_addr_spec_t spec;
    size_t colons = 0;

    memset(&spec, 0, sizeof(spec));
    spec.port = default_port;
    spec.has_port = false;
    spec.family = AF_UNSPEC;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (s == NULL)
        s = "";

    if (s[0] == '[') {
        /* "[v6]" or "[v6]:port" */
        const char *close = strchr(s, ']');
        const char *rest;

        if (close == NULL) {
            set_err(err, errlen, "missing ']' in address '%s'", s);
            return -1;
        }
        if (copy_host(&spec, s + 1, (size_t)(close - s - 1), s, err, errlen) < 0)
            return -1;
        if (spec.host[0] == '\0') {
            set_err(err, errlen, "empty IPv6 address between brackets in '%s'", s);
            return -1;
        }
        if (!is_v6_literal(spec.host)) {
            set_err(err, errlen, "invalid IPv6 address '%s' in '%s'", spec.host, s);
            return -1;
        }
        spec.family = AF_INET6;
        rest = close + 1;
        if (*rest == ':') {
            if (parse_port(rest + 1, s, &spec.port, err, errlen) < 0)
                return -1;
            spec.has_port = true;
        } else if (*rest != '\0') {
            set_err(err, errlen, "unexpected '%s' after ']' in address '%s' (expected ':port')",
                    rest, s);
            return -1;
        }
        *out = spec;
        return 0;
    }

    if (strchr(s, '[') != NULL || strchr(s, ']') != NULL) {
        set_err(err, errlen, "misplaced bracket in address '%s' (use [ipv6] or [ipv6]:port)", s);
        return -1;
    }

    for (const char *p = s; *p != '\0'; p++)
        if (*p == ':')
            colons++;

    if (colons >= 2) {
        /* a bare IPv6 address, no port */
        if (copy_host(&spec, s, strlen(s), s, err, errlen) < 0)
            return -1;
        if (!is_v6_literal(spec.host)) {
            set_err(err, errlen, "invalid IPv6 address '%s' (use [ipv6]:port to give a port)", s);
            return -1;
        }
        spec.family = AF_INET6;
        *out = spec;
        return 0;
    }

    if (colons == 1) {
        /* ":port", "ip:port" or "host:port" */
        const char *colon = strchr(s, ':');

        if (copy_host(&spec, s, (size_t)(colon - s), s, err, errlen) < 0)
            return -1;
        if (parse_port(colon + 1, s, &spec.port, err, errlen) < 0)
            return -1;
        spec.has_port = true;
    } else {
        if (copy_host(&spec, s, strlen(s), s, err, errlen) < 0)
            return -1;
    }

    if (spec.host[0] != '\0') {
        struct in_addr a;

        if (inet_pton(AF_INET, spec.host, &a) == 1)
            spec.family = AF_INET;
    }
    *out = spec;
    return 0;
}

static const char *family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : "IPv4";
}

int tw_addr_resolve(const tw_addr_spec_t *spec, int family, bool passive,
                    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
        set_err(err, errlen, "unsupported address family %d", family);
        return -1;
    }
    memset(ss, 0, sizeof(*ss));

    if (spec->host[0] == '\0') {
        if (family == AF_INET6) {
            struct sockaddr_in6 sin6;

            memset(&sin6, 0, sizeof(sin6));
            sin6.sin6_family = AF_INET6;
            sin6.sin6_port = htons(spec->port);
            sin6.sin6_addr = passive ? in6addr_any : in6addr_loopback;
            memcpy(ss, &sin6, sizeof(sin6));
            *sslen = (socklen_t)sizeof(sin6);
        } else {
            struct sockaddr_in sin;

            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            sin.sin_port = htons(spec->port);
            sin.sin_addr.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
            memcpy(ss, &sin, sizeof(sin));
            *sslen = (socklen_t)sizeof(sin);
        }
        return 0;
    }

    if (spec->family != AF_UNSPEC && family != AF_UNSPEC && spec->family != family) {
        set_err(err, errlen, "address %s is %s but the other address is %s", spec->host,
                family_name(spec->family), family_name(family));
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family != AF_UNSPEC ? family : spec->family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (spec->family != AF_UNSPEC)
        hints.ai_flags |= AI_NUMERICHOST; /* a literal never needs the network */
    if (passive)
        hints.ai_flags |= AI_PASSIVE;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)spec->port);

    rc = getaddrinfo(spec->host, portstr, &hints, &res);
    if (rc != 0) {
        const char *why = rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);

        if (family == AF_UNSPEC)
            set_err(err, errlen, "cannot resolve '%s': %s", spec->host, why);
        else
            set_err(err, errlen, "cannot resolve '%s' to an %s address: %s", spec->host,
                    family_name(family), why);
        return -1;
    }
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            ai->ai_addrlen <= sizeof(*ss)) {
            memcpy(ss, ai->ai_addr, ai->ai_addrlen);
            *sslen = (socklen_t)ai->ai_addrlen;
            freeaddrinfo(res);
            return 0;
        }
    }
    freeaddrinfo(res);
    set_err(err, errlen, "cannot resolve '%s': no IPv4 or IPv6 address", spec->host);
    return -1;
}

/* The address text into tmp (at least INET6_ADDRSTRLEN + IF_NAMESIZE + 2 octets);
 * sets *v6 when it must be bracketed and *port to the port (host order). */
static bool addr_text(const struct sockaddr *sa, char *tmp, size_t tmplen, bool *v6, unsigned *port)
{
    *v6 = false;
    *port = 0;
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;

        memcpy(&sin, sa, sizeof(sin));
        *port = ntohs(sin.sin_port);
        return inet_ntop(AF_INET, &sin.sin_addr, tmp, (socklen_t)tmplen) != NULL;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;

        memcpy(&sin6, sa, sizeof(sin6));
        *port = ntohs(sin6.sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr))
            return inet_ntop(AF_INET, &sin6.sin6_addr.s6_addr[12], tmp, (socklen_t)tmplen) != NULL;
        if (inet_ntop(AF_INET6, &sin6.sin6_addr, tmp, (socklen_t)tmplen) == NULL)
            return false;
        *v6 = true;
        if (sin6.sin6_scope_id != 0) {
            char ifname[IF_NAMESIZE];
            size_t n = strlen(tmp);

            if (if_indextoname(sin6.sin6_scope_id, ifname) != NULL)
                snprintf(tmp + n, tmplen - n, "%%%s", ifname);
            else
                snprintf(tmp + n, tmplen - n, "%%%u", (unsigned)sin6.sin6_scope_id);
        }
        return true;
    }
    return false;
}

/* "ip:port" / "[v6]:port" with_port, else the address alone; "?" when sa is
 * not an address. */
static const char *addr_fmt(const struct sockaddr *sa, char *buf, size_t len, bool with_port)
{
    char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    bool v6;
    unsigned port;

    if (buf == NULL || len == 0)
        return "";
    if (!addr_text(sa, tmp, sizeof(tmp), &v6, &port))
        snprintf(buf, len, "?");
    else if (!with_port)
        snprintf(buf, len, "%s", tmp);
    else if (v6)
        snprintf(buf, len, "[%s]:%u", tmp, port);
    else
        snprintf(buf, len, "%s:%u", tmp, port);
    return buf;
}

const char *tw_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    return addr_fmt(sa, buf, len, true);
}

const char *tw_addr_ip_str(const struct sockaddr *sa, char *buf, size_t len)
{
    return addr_fmt(sa, buf, len, false);
}

uint16_t tw_addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

void tw_addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

void tw_addr_unmap(struct sockaddr_storage *ss)
{
    if (ss->ss_family != AF_INET6)
        return;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof s4);
    s4.sin_family = AF_INET;
    s4.sin_port = s6->sin6_port;
    memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &s4, sizeof s4);
}

bool tw_addr_is_local(const struct sockaddr *sa)
{
    struct sockaddr_storage ss;
    if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return false;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, sa,
           sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    tw_addr_unmap(&ss);
    if (ss.ss_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr);
        if ((a >> 24) == 127 || a == 0)
            return true;
    } else {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
            return true;
    }
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return false;
    bool found = false;
    for (const struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != ss.ss_family)
            continue;
        if (ss.ss_family == AF_INET)
            found = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
                    ((const struct sockaddr_in *)&ss)->sin_addr.s_addr;
        else
            found =
                !memcmp(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                        &((const struct sockaddr_in6 *)&ss)->sin6_addr, sizeof(struct in6_addr));
    }
    freeifaddrs(ifa);
    return found;
}

socklen_t tw_addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}
