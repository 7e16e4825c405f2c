/* fuzz_parsers: the text parsers of the command line on arbitrary octets: the
 * address syntax (tw_addr_parse), DSCP names (tw_dscp_parse) and --allow
 * prefixes (tw_acl_add, then tw_acl_allows), and a --csv row read back by
 * twampy plot (tw_csv_parse_row, then tw_plot_svg). The input,
 * cut at 1024 octets, is a NUL-terminated string (an embedded NUL ends it).
 * Never tw_addr_resolve: resolving a name could query DNS.
 *
 * Checks: a parsed address printed back in the same syntax parses to the same
 * thing; the family agrees with the host; the error text fits its buffer,
 * whatever its size; a DSCP parses the same in any letter case and its
 * canonical name parses back to it; a prefix added lets in its own address
 * (and as IPv4-mapped IPv6 for IPv4), any address that differs only past the
 * prefix, and no address that differs within it; a full list takes no more;
 * a CSV row that parses, written again by tw_csv_row, parses to the same
 * record, and draws. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "acl.h"
#include "addr.h"
#include "dscp.h"
#include "fuzz.h"
#include "log.h"
#include "plot_svg.h"
#include "report_csv.h"

#define TEXT_MAX 1024

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    return 0;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    return p;
}

static bool spec_equal(const tw_addr_spec_t *a, const tw_addr_spec_t *b)
{
    return strcmp(a->host, b->host) == 0 && a->port == b->port && a->has_port == b->has_port &&
           a->family == b->family;
}

static void check_spec(const tw_addr_spec_t *sp, uint16_t default_port)
{
    size_t hl = strnlen(sp->host, sizeof sp->host);
    FUZZ_CHECK(hl < sizeof sp->host);
    if (!sp->has_port)
        FUZZ_CHECK(sp->port == default_port);
    FUZZ_CHECK(sp->family == AF_UNSPEC || sp->family == AF_INET || sp->family == AF_INET6);
    if (sp->family == AF_INET) {
        struct in_addr a;
        FUZZ_CHECK(inet_pton(AF_INET, sp->host, &a) == 1);
    } else if (sp->family == AF_INET6) {
        /* An IPv6 literal, perhaps with a zone after '%'. */
        char tmp[sizeof sp->host];
        struct in6_addr a;
        snprintf(tmp, sizeof tmp, "%s", sp->host);
        char *pct = strchr(tmp, '%');
        if (pct != NULL) {
            FUZZ_CHECK(pct[1] != '\0');
            *pct = '\0';
        }
        FUZZ_CHECK(inet_pton(AF_INET6, tmp, &a) == 1);
    } else {
        /* A name (or nothing): neither brackets nor colons. */
        FUZZ_CHECK(strpbrk(sp->host, "[]:") == NULL);
    }

    /* Printed back: "[v6]:port", "[v6]", "host:port", "host", ":port" or "". */
    char again[sizeof sp->host + 16];
    bool brackets = sp->family == AF_INET6;
    if (sp->has_port)
        snprintf(again, sizeof again, "%s%s%s:%u", brackets ? "[" : "", sp->host,
                 brackets ? "]" : "", (unsigned)sp->port);
    else
        snprintf(again, sizeof again, "%s%s%s", brackets ? "[" : "", sp->host, brackets ? "]" : "");
    tw_addr_spec_t sp2;
    char err[256];
    FUZZ_CHECK(tw_addr_parse(again, default_port, &sp2, err, sizeof err) == 0);
    FUZZ_CHECK(spec_equal(sp, &sp2));
}

static void check_addr(const char *s, uint8_t knob)
{
    tw_addr_spec_t sp, sp0;
    char err[256];
    memset(&sp, 0xee, sizeof sp);
    int r = tw_addr_parse(s, 862, &sp, err, sizeof err);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0) {
        check_spec(&sp, 862);
        /* Another default port changes only the port, and only without one. */
        FUZZ_CHECK(tw_addr_parse(s, 0, &sp0, NULL, 0) == 0);
        FUZZ_CHECK(strcmp(sp.host, sp0.host) == 0 && sp.family == sp0.family &&
                   sp.has_port == sp0.has_port);
        FUZZ_CHECK(sp0.port == (sp.has_port ? sp.port : 0));
    } else {
        FUZZ_CHECK(strnlen(err, sizeof err) < sizeof err);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(tw_addr_parse(s, 0, &sp0, NULL, 0) == -1);
    }

    /* The same with an error buffer of every small size, exactly allocated. */
    size_t errlen = knob % 80;
    char *small = xmalloc(errlen);
    memset(small, 'x', errlen);
    FUZZ_CHECK(tw_addr_parse(s, 862, &sp0, errlen ? small : NULL, errlen) == r);
    if (r == -1 && errlen > 0) {
        size_t n = strnlen(small, errlen);
        FUZZ_CHECK(n < errlen);
        FUZZ_CHECK(strncmp(small, err, n) == 0);
    }
    free(small);
}

static void check_dscp(const char *s, size_t slen)
{
    int d = tw_dscp_parse(s);
    FUZZ_CHECK(d >= -1 && d <= 63);
    /* Letter case does not matter. */
    char *up = xmalloc(slen + 1);
    for (size_t i = 0; i <= slen; i++)
        up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    FUZZ_CHECK(tw_dscp_parse(up) == d);
    free(up);
    if (d >= 0) {
        const char *name = tw_dscp_name(d);
        FUZZ_CHECK(name != NULL && strcmp(name, "?") != 0);
        FUZZ_CHECK(tw_dscp_parse(name) == d);
        char num[8];
        snprintf(num, sizeof num, "%d", d);
        FUZZ_CHECK(tw_dscp_parse(num) == d);
    }
}

static bool is_v4mapped(const uint8_t *a)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

static bool acl_allows_raw(const tw_acl_t *acl, int family, const uint8_t *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, addr, 16);
    }
    return tw_acl_allows(acl, (const struct sockaddr *)&ss);
}

static void check_acl(const char *s, uint8_t knob)
{
    tw_acl_t *acl = xmalloc(sizeof *acl);
    memset(acl, 0, sizeof *acl);
    char err[256];
    err[0] = '\0';
    int r = tw_acl_add(acl, s, err, sizeof err);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r < 0) {
        FUZZ_CHECK(acl->n == 0);
        FUZZ_CHECK(err[0] != '\0' && strnlen(err, sizeof err) < sizeof err);
        /* An error buffer of any size, exactly allocated. */
        size_t errlen = knob % 64;
        char *small = xmalloc(errlen);
        FUZZ_CHECK(tw_acl_add(acl, s, errlen ? small : NULL, errlen) == -1);
        if (errlen)
            FUZZ_CHECK(strnlen(small, errlen) < errlen);
        free(small);
        free(acl);
        return;
    }
    FUZZ_CHECK(acl->n == 1);
    int family = acl->e[0].family;
    int bits = family == AF_INET ? 32 : 128;
    FUZZ_CHECK(family == AF_INET || family == AF_INET6);
    FUZZ_CHECK(acl->e[0].prefix >= 0 && acl->e[0].prefix <= bits);
    /* The host part is the address the entry holds. */
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    FUZZ_CHECK(hl > 0 && hl < sizeof host);
    memcpy(host, s, hl);
    host[hl] = '\0';
    uint8_t want[16] = {0};
    if (inet_pton(AF_INET, host, want) == 1) {
        FUZZ_CHECK(family == AF_INET);
    } else {
        FUZZ_CHECK(inet_pton(AF_INET6, host, want) == 1);
        if (family == AF_INET) {
            /* Only an IPv4-mapped address may become an IPv4 prefix. */
            FUZZ_CHECK(is_v4mapped(want));
            memmove(want, want + 12, 4);
            memset(want + 4, 0, 12);
        }
    }
    FUZZ_CHECK(memcmp(want, acl->e[0].addr, 16) == 0);
    if (!slash)
        FUZZ_CHECK(acl->e[0].prefix == bits);

    /* A prefix lets its own address in (given as IPv4-mapped IPv6 too). */
    uint8_t a[16];
    memcpy(a, acl->e[0].addr, 16);
    FUZZ_CHECK(acl_allows_raw(acl, family, a));
    if (family == AF_INET) {
        uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(mapped + 12, a, 4);
        FUZZ_CHECK(acl_allows_raw(acl, AF_INET6, mapped));
    }
    int p = acl->e[0].prefix;
    int bit = knob % bits; /* one bit of the address, from the input */
    uint8_t b[16];
    memcpy(b, a, 16);
    b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
    /* (An IPv4-mapped source is matched as IPv4, acl.h: whether an IPv6
     * prefix lets it in is left open here.) */
    if (!(family == AF_INET6 && is_v4mapped(b)))
        FUZZ_CHECK(acl_allows_raw(acl, family, b) == (bit >= p));
    /* An IPv4 prefix never matches a native IPv6 address; an IPv4 source is
     * matched by an IPv6 prefix exactly as its ::ffff:a.b.c.d form is; no
     * address family at all never matches. */
    if (family == AF_INET) {
        FUZZ_CHECK(!acl_allows_raw(acl, AF_INET6, a));
    } else {
        uint8_t m4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(m4 + 12, a, 4);
        FUZZ_CHECK(acl_allows_raw(acl, AF_INET, a) == acl_allows_raw(acl, AF_INET6, m4));
    }
    struct sockaddr_storage none;
    memset(&none, 0, sizeof none);
    FUZZ_CHECK(!tw_acl_allows(acl, (const struct sockaddr *)&none));

    /* Full: the list takes TW_ACL_MAX prefixes and no more. */
    while (acl->n < TW_ACL_MAX)
        FUZZ_CHECK(tw_acl_add(acl, s, err, sizeof err) == 0);
    FUZZ_CHECK(tw_acl_add(acl, s, err, sizeof err) == -1);
    FUZZ_CHECK(acl->n == TW_ACL_MAX);
    free(acl);
}

/* A --csv row: parsed, written back, parsed again to the same; then drawn. */
static void check_csv(const char *s)
{
    tw_packet_record_t r, r2;
    int sess, sess2;
    char err[24]; /* short: a longer reason is cut, never overflows */
    if (tw_csv_parse_row(s, &sess, &r, err, sizeof err) < 0) {
        FUZZ_CHECK(strlen(err) < sizeof err);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f != NULL);
    tw_csv_row(f, sess, &r);
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(tw_csv_parse_row(buf, &sess2, &r2, err, sizeof err) == 0);
    FUZZ_CHECK(sess2 == sess && r2.seq == r.seq && r2.status == r.status && r2.t1 == r.t1 &&
               r2.t2 == r.t2 && r2.t3 == r.t3 && r2.t4 == r.t4 && r2.size == r.size);
    free(buf);
    f = fopen("/dev/null", "w");
    FUZZ_CHECK(f != NULL);
    tw_plot_info_t info = {.title = s};
    FUZZ_CHECK(tw_plot_svg(f, &r, 1, &info) == 0);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size > TEXT_MAX ? TEXT_MAX : size;
    /* Exactly the string and its NUL, so that a read past the end is seen. */
    char *s = xmalloc(n + 1);
    memcpy(s, data, n);
    s[n] = '\0';
    size_t slen = strlen(s);
    check_addr(s, size ? data[size - 1] : 0);
    check_dscp(s, slen);
    check_acl(s, size > 1 ? data[size - 2] : 0);
    check_csv(s);
    free(s);
    return 0;
}
