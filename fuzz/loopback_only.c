/* loopback_only: keeps the network targets on the loopback interface. Linked
 * with -Wl,--wrap=bind, so that every bind(2) of the library comes here: a
 * fuzzed Request-TW-Session can ask the server to bind a reflector to any
 * address, and only 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and Unix sockets
 * are let through; any other address fails as if it were not local
 * (EADDRNOTAVAIL), which the server must handle anyway. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len);

static int is_loopback(const struct sockaddr *sa, socklen_t len)
{
    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_UNIX)
        return 1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in s;
        memcpy(&s, sa, sizeof s);
        return (ntohl(s.sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 s;
        memcpy(&s, sa, sizeof s);
        if (IN6_IS_ADDR_LOOPBACK(&s.sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&s.sin6_addr) && s.sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!is_loopback(sa, len)) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    return __real_bind(fd, sa, len);
}
