#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dscp.h"
#include "log.h"
#include "wire.h"

void cli_common_init(cli_common_t *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->loglevel = TW_LOG_NOTICE;
    c->dscp = -1;
    c->ecn = -1;
    c->ttl = 64;
    c->padding = 27;
}

static const char *context;

void cli_set_context(const char *where)
{
    context = where;
}

/* The message: the context ("hosts.txt:3: ") first when one is set. */
__attribute__((format(printf, 3, 0))) static void message(char *msg, size_t len, const char *fmt,
                                                          va_list ap)
{
    size_t n = context ? (size_t)snprintf(msg, len, "%s: ", context) : 0;
    if (n >= len)
        n = len - 1;
    vsnprintf(msg + n, len - n, fmt, ap);
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512] = "";
    va_list ap;
    va_start(ap, fmt);
    message(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "twampy %s: error: %s (see 'twampy %s --help')\n", cmd, msg, cmd);
    else
        fprintf(stderr, "twampy: error: %s (see 'twampy --help')\n", msg);
    exit(EXIT_USAGE);
}

void cli_fail(const char *fmt, ...)
{
    char msg[1024] = "";
    va_list ap;
    va_start(ap, fmt);
    message(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "twampy: error: %s\n", msg);
    tw_log_close();
    exit(EXIT_FAILURE);
}

void cli_bad_option(const char *cmd, int argc, char **argv)
{
    const char *arg = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
    if (optopt && strchr(CLI_COMMON_SHORTOPTS "c:i:", optopt) && optopt != ':')
        cli_usage_error(cmd, "option -%c needs a value", optopt);
    cli_usage_error(cmd, "unknown option or missing value: %s", arg);
}

long long cli_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        cli_usage_error(cmd, "%s needs a whole number, not '%s'", opt, s);
    if (v < lo || v > hi)
        cli_usage_error(cmd, "%s %s is out of range (%lld..%lld)", opt, s, lo, hi);
    return v;
}

uint16_t cli_hex16(const char *cmd, const char *opt, const char *s)
{
    const char *h = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
    size_t n = strlen(h);
    if (n < 1 || n > 4 || strspn(h, "0123456789abcdefABCDEF") != n)
        cli_usage_error(cmd, "%s needs two octets in hex (1 to 4 hex digits, e.g. 1234), not '%s'",
                        opt, s);
    return (uint16_t)strtoul(h, NULL, 16);
}

double cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        cli_usage_error(cmd, "%s needs a number, not '%s'", opt, s);
    if (v < lo || v > hi)
        cli_usage_error(cmd, "%s %s is out of range (%g..%g)", opt, s, lo, hi);
    return v;
}

static void set_verbosity(cli_common_t *c, int level)
{
    if (c->verbosity_flags++ && c->loglevel != level)
        cli_usage_error(c->cmd, "-q, -v and -d exclude each other");
    c->loglevel = level;
}

bool cli_common_opt(cli_common_t *c, int opt, const char *arg)
{
    switch (opt) {
    case 'l':
        c->logfile = arg;
        return true;
    case 'q':
        set_verbosity(c, TW_LOG_OFF);
        return true;
    case 'v':
        set_verbosity(c, TW_LOG_INFO);
        return true;
    case 'd':
        set_verbosity(c, TW_LOG_DEBUG);
        return true;
    case OPT_TOS:
        c->tos = (int)cli_int(c->cmd, "--tos", arg, 0, 255);
        return true;
    case OPT_DSCP:
        c->dscp = tw_dscp_parse(arg);
        if (c->dscp < 0)
            cli_usage_error(c->cmd,
                            "invalid DSCP value '%s' (a name such as be, af41, ef, cs5, nc1 or "
                            "a number 0..63; 'twampy dscptable' lists them)",
                            arg);
        return true;
    case OPT_TTL:
        c->ttl = (int)cli_int(c->cmd, "--ttl", arg, 1, 255);
        return true;
    case OPT_PADDING:
        c->padding = (int)cli_int(c->cmd, "--padding", arg, -1, TW_MAX_PACKET_LEN);
        c->padding_set = true;
        return true;
    case OPT_DF:
        c->df = true;
        return true;
    case OPT_ECN:
        c->ecn = (int)cli_int(c->cmd, "--ecn", arg, 0, 3);
        return true;
    default:
        return false;
    }
}

void cli_common_finish(cli_common_t *c)
{
    if (c->dscp >= 0)
        c->tos = (c->dscp << 2) | (c->tos & 3); /* keep the ECN bits of --tos */
    if (c->ecn >= 0)
        c->tos = (c->tos & ~3) | c->ecn; /* RFC 3168: 1 ECT(1), 2 ECT(0), 3 CE */
    tw_log_set_level(c->loglevel);
    if (c->logfile && tw_log_set_file(c->logfile) < 0)
        cli_usage_error(c->cmd, "cannot open log file '%s': %s", c->logfile, strerror(errno));
}

tw_sockopts_t cli_sockopts(const cli_common_t *c)
{
    return (tw_sockopts_t){.tos = c->tos, .ttl = c->ttl, .df = c->df};
}

void cli_resolve(const char *cmd, const char *what, const char *arg, uint16_t default_port,
                 int family, bool passive, struct sockaddr_storage *ss, socklen_t *len)
{
    tw_addr_spec_t spec;
    char err[512];
    if (tw_addr_parse(arg, default_port, &spec, err, sizeof err) < 0)
        cli_usage_error(cmd, "%s '%s': %s", what, arg, err);
    if (tw_addr_resolve(&spec, family, passive, ss, len, err, sizeof err) < 0)
        cli_fail("%s '%s': %s", what, arg, err);
}

int cli_max_padding(int family)
{
    int ip_udp = family == AF_INET6 ? 40 + 8 : 20 + 8;
    return 9000 - ip_udp - TW_SENDER_MIN_LEN;
}
