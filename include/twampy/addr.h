/* addr: the twampy address syntax and name resolution.
 *
 * Forms (as the Python twampy): "" (unspecified), ":port", "ip", "ip:port",
 * "[v6]", "[v6]:port", bare "v6" (two or more colons), "host", "host:port". */
#ifndef TWAMPY_ADDR_H
#define TWAMPY_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct tw_addr_spec {
    char host[256]; /* "" when no host was given; no brackets */
    uint16_t port;  /* the given port, or the default */
    bool has_port;
    int family; /* AF_INET for an IPv4 literal, AF_INET6 for an IPv6 literal,
                   AF_UNSPEC for a name or no host */
} tw_addr_spec_t;

/* Parse s. Ports are 0..65535 in decimal. On error returns -1 and writes a
 * one-line reason (without a trailing newline) into err. */
int tw_addr_parse(const char *s, uint16_t default_port, tw_addr_spec_t *out, char *err,
                  size_t errlen);

/* Resolve spec into ss. family AF_UNSPEC takes the literal's family or the first
 * address a name resolves to; AF_INET/AF_INET6 requires that family (a literal of
 * the other family is an error naming both). A spec without a host gives the
 * wildcard address of the family (IPv4 when AF_UNSPEC) with passive, else the
 * loopback address. Returns 0, or -1 with a reason in err. */
int tw_addr_resolve(const tw_addr_spec_t *spec, int family, bool passive,
                    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen);

/* "192.0.2.1:862" or "[2001:db8::1]:862" (IPv4-mapped IPv6 shown as IPv4). */
const char *tw_addr_str(const struct sockaddr *sa, char *buf, size_t len);
/* The address alone, without the port. */
const char *tw_addr_ip_str(const struct sockaddr *sa, char *buf, size_t len);

/* The port of an AF_INET or AF_INET6 address (host order), and setting it. */
uint16_t tw_addr_port(const struct sockaddr_storage *ss);
void tw_addr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* An IPv4-mapped IPv6 address (a dual-stack socket's IPv4 peer) rewritten as
 * the plain IPv4 address it is, port kept; any other address is left alone. */
void tw_addr_unmap(struct sockaddr_storage *ss);
/* The address is this host's: loopback (127.0.0.0/8, ::1, or IPv4-mapped
 * 127/8), unspecified (0.0.0.0, ::, which the kernel sends to this host), or
 * one of the addresses of this host's interfaces (getifaddrs). A reflector
 * there reads the very clock the sender does. */
bool tw_addr_is_local(const struct sockaddr *sa);
/* The length of an AF_INET or AF_INET6 address. */
socklen_t tw_addr_len(const struct sockaddr_storage *ss);

#define TW_ADDRSTRLEN 64

#endif
