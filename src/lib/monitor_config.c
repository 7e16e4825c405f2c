#include "monitor_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "addr.h"
#include "auth.h"
#include "control_wire.h"
#include "dscp.h"
#include "sender.h"

#define CONFIG_SIZE_MAX (4 * 1024 * 1024)

const char *tw_mon_protocol_name(enum tw_mon_protocol p)
{
    return p == TW_MON_STAMP ? "stamp" : p == TW_MON_TWAMP ? "twamp" : "twamp-light";
}

struct ctx {
    yaml_document_t *doc;
    char *err;
    size_t errlen;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        snprintf(c->err, c->errlen, "%zu:%zu: %s", n->start_mark.line + 1, n->start_mark.column + 1,
                 msg);
    else
        snprintf(c->err, c->errlen, "1:1: %s", msg);
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "100ms", "1.5s", "2m", "250us", "1h"; a bare number is seconds. */
static int parse_duration(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"", 1e9},   {"s", 1e9}, {"ms", 1e6}, {"us", 1e3},
                 {"µs", 1e3}, {"ns", 1},  {"m", 60e9}, {"h", 3600e9}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcmp(end, units[i].unit)) {
            double x = v * units[i].mul;
            if (x > 86400e9)
                return -1;
            *ns = (int64_t)(x + 0.5);
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int copy_str(struct ctx *c, const yaml_node_t *n, const char *key, char *dst, size_t cap)
{
    const char *v = scalar(n);
    if (!v)
        return fail(c, n, "%s: expected a string", key);
    if (strlen(v) >= cap)
        return fail(c, n, "%s: longer than %zu characters", key, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* One setting of a target (or of defaults). */
static int target_key(struct ctx *c, tw_mon_target_t *t, const char *key, const yaml_node_t *v,
                      bool is_default)
{
    const char *s = scalar(v);
    long x;
    if (!s)
        return fail(c, v, "%s: expected a value, not a list or a mapping", key);
    if (!strcmp(key, "name") || !strcmp(key, "address")) {
        if (is_default)
            return fail(c, v, "%s: belongs to a target, not to defaults", key);
        if (!*s)
            return fail(c, v, "%s: empty", key);
        if (!strcmp(key, "name"))
            return copy_str(c, v, key, t->name, sizeof t->name);
        tw_addr_spec_t spec;
        char why[256];
        if (tw_addr_parse(s, 862, &spec, why, sizeof why) < 0)
            return fail(c, v, "address '%s': %s", s, why);
        return copy_str(c, v, key, t->address, sizeof t->address);
    }
    if (!strcmp(key, "source")) {
        tw_addr_spec_t spec;
        char why[256];
        if (tw_addr_parse(s, 0, &spec, why, sizeof why) < 0)
            return fail(c, v, "source '%s': %s", s, why);
        return copy_str(c, v, key, t->source, sizeof t->source);
    }
    if (!strcmp(key, "key")) {
        if (!*s || strlen(s) > TW_KEYID_MAX)
            return fail(c, v, "key: a KeyID of 1 to %d octets", TW_KEYID_MAX);
        return copy_str(c, v, key, t->key, sizeof t->key);
    }
    if (!strcmp(key, "protocol")) {
        if (!strcasecmp(s, "twamp-light") || !strcasecmp(s, "light"))
            t->protocol = TW_MON_LIGHT;
        else if (!strcasecmp(s, "stamp"))
            t->protocol = TW_MON_STAMP;
        else if (!strcasecmp(s, "twamp"))
            t->protocol = TW_MON_TWAMP;
        else
            return fail(c, v, "protocol '%s': expected twamp-light, stamp or twamp", s);
        return 0;
    }
    if (!strcmp(key, "mode")) {
        if (!strcasecmp(s, "open") || !strcasecmp(s, "unauthenticated"))
            t->mode = TW_MODE_UNAUTHENTICATED;
        else if (!strcasecmp(s, "authenticated"))
            t->mode = TW_MODE_AUTHENTICATED;
        else if (!strcasecmp(s, "encrypted"))
            t->mode = TW_MODE_ENCRYPTED;
        else if (!strcasecmp(s, "mixed"))
            t->mode = TW_MODE_MIXED;
        else
            return fail(c, v, "mode '%s': expected open, authenticated, encrypted or mixed", s);
        return 0;
    }
    if (!strcmp(key, "interval") || !strcmp(key, "timeout")) {
        int64_t ns;
        if (parse_duration(s, &ns) < 0)
            return fail(c, v, "%s '%s': not a duration (e.g. 100ms, 1s, 2m)", key, s);
        if (key[0] == 'i') {
            if (ns < 100000)
                return fail(c, v, "interval '%s': at least 100us", s);
            t->interval_ns = ns;
        } else {
            t->timeout_ns = ns;
        }
        return 0;
    }
    if (!strcmp(key, "schedule")) {
        if (!strcasecmp(s, "periodic"))
            t->poisson = false;
        else if (!strcasecmp(s, "poisson"))
            t->poisson = true;
        else
            return fail(c, v, "schedule '%s': expected periodic or poisson", s);
        return 0;
    }
    if (!strcmp(key, "packets")) {
        if (parse_int(s, 1, 1000000, &x) < 0)
            return fail(c, v, "packets '%s': expected 1 to 1000000 packets per round", s);
        t->packets = (uint32_t)x;
        return 0;
    }
    if (!strcmp(key, "rounds")) {
        if (parse_int(s, 0, 1000000000, &x) < 0)
            return fail(c, v, "rounds '%s': expected a number, 0 for no end", s);
        t->rounds = (uint32_t)x;
        return 0;
    }
    if (!strcmp(key, "padding")) {
        if (!strcasecmp(s, "imix")) {
            t->padding = TW_PADDING_IMIX;
            return 0;
        }
        if (parse_int(s, 0, 8958, &x) < 0)
            return fail(c, v, "padding '%s': expected 0 to 8958 octets, or imix", s);
        t->padding = (int)x;
        return 0;
    }
    if (!strcmp(key, "dscp")) {
        int d = tw_dscp_parse(s);
        if (d < 0)
            return fail(c, v, "dscp '%s': expected 0..63 or a name (be, af41, ef, cs5...)", s);
        t->dscp = d;
        return 0;
    }
    if (!strcmp(key, "ttl")) {
        if (parse_int(s, 1, 255, &x) < 0)
            return fail(c, v, "ttl '%s': expected 1 to 255", s);
        t->ttl = (int)x;
        return 0;
    }
    if (!strcmp(key, "ssid")) {
        if (parse_int(s, 0, 65535, &x) < 0)
            return fail(c, v, "ssid '%s': expected 0 to 65535", s);
        t->ssid = (int)x;
        return 0;
    }
    return fail(c, v,
                "unknown setting '%s' (address, name, protocol, mode, key, interval, "
                "schedule, packets, padding, dscp, ttl, timeout, source, ssid, rounds)",
                key);
}

static int target_map(struct ctx *c, const yaml_node_t *n, tw_mon_target_t *t, bool is_default)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, "%s: expected a mapping of settings (key: value)",
                    is_default ? "defaults" : "a target");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = scalar(k);
        if (!ks)
            return fail(c, k, "expected a setting's name");
        if (target_key(c, t, ks, v, is_default) < 0)
            return -1;
    }
    return 0;
}

static void target_defaults(tw_mon_target_t *t)
{
    memset(t, 0, sizeof *t);
    t->protocol = TW_MON_LIGHT;
    t->mode = TW_MODE_UNAUTHENTICATED;
    t->interval_ns = 1000000000;
    t->packets = 60;
    t->padding = 0;
    t->ttl = 64;
    t->timeout_ns = 2000000000;
}

/* What only makes sense across settings. */
static int target_check(struct ctx *c, const yaml_node_t *n, tw_mon_target_t *t,
                        const tw_mon_config_t *cfg)
{
    if (!t->address[0])
        return fail(c, n, "a target needs an address");
    if (!t->name[0])
        memcpy(t->name, t->address, sizeof t->name);
    if (t->mode != TW_MODE_UNAUTHENTICATED) {
        if (t->protocol == TW_MON_LIGHT)
            return fail(c, n,
                        "target '%s': TWAMP light has no security mode (use protocol stamp "
                        "or twamp)",
                        t->name);
        if (t->protocol == TW_MON_STAMP && t->mode != TW_MODE_AUTHENTICATED)
            return fail(c, n, "target '%s': STAMP has the modes open and authenticated", t->name);
        if (!t->key[0] || !cfg->keyfile[0])
            return fail(c, n, "target '%s': mode %s needs a key and a keyfile", t->name,
                        tw_mode_name(t->mode));
    }
    if (t->protocol == TW_MON_STAMP && t->padding >= 0 &&
        tw_sender_packet_len(true, t->padding) == 0)
        return fail(c, n,
                    "target '%s': padding %d with STAMP: use 30 or less, or 34 or more "
                    "(the octets past 44 form an Extra Padding TLV)",
                    t->name, t->padding);
    return 0;
}

static int parse_doc(struct ctx *c, tw_mon_config_t *out)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root)
        return fail(c, NULL, "the file is empty: it needs a 'targets:' list");
    if (root->type != YAML_MAPPING_NODE)
        return fail(c, root, "expected a mapping with 'targets:' at the top");
    tw_mon_target_t def;
    target_defaults(&def);
    yaml_node_t *targets = NULL;
    /* keyfile and defaults first, whatever their order in the file. */
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = scalar(k);
        if (!ks)
            return fail(c, k, "expected a name (targets, defaults, keyfile)");
        if (!strcmp(ks, "targets")) {
            targets = v;
        } else if (!strcmp(ks, "defaults")) {
            if (target_map(c, v, &def, true) < 0)
                return -1;
        } else if (!strcmp(ks, "keyfile")) {
            if (copy_str(c, v, "keyfile", out->keyfile, sizeof out->keyfile) < 0)
                return -1;
        } else {
            return fail(c, k, "unknown top-level key '%s' (targets, defaults, keyfile)", ks);
        }
    }
    if (!targets)
        return fail(c, root, "no 'targets:' list");
    if (targets->type != YAML_SEQUENCE_NODE)
        return fail(c, targets, "targets: expected a list (- address: ...)");
    size_t n = (size_t)(targets->data.sequence.items.top - targets->data.sequence.items.start);
    if (n > TW_MON_MAX_TARGETS)
        return fail(c, targets, "targets: more than %d", TW_MON_MAX_TARGETS);
    out->targets = calloc(n ? n : 1, sizeof *out->targets);
    if (!out->targets)
        return fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *tn = yaml_document_get_node(c->doc, targets->data.sequence.items.start[i]);
        tw_mon_target_t *t = &out->targets[i];
        *t = def;
        t->line = (int)tn->start_mark.line + 1;
        if (target_map(c, tn, t, false) < 0 || target_check(c, tn, t, out) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(out->targets[j].name, t->name))
                return fail(c, tn, "target name '%s' used twice (also on line %d)", t->name,
                            out->targets[j].line);
        out->ntargets++;
    }
    return 0;
}

int tw_mon_config_parse(const char *text, size_t len, tw_mon_config_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ctx c = {.doc = &doc, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%zu:%zu: %s%s%s", parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "bad YAML",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    int rc = parse_doc(&c, out);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0)
        tw_mon_config_free(out);
    return rc;
}

int tw_mon_config_load(const char *path, tw_mon_config_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CONFIG_SIZE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_SIZE_MAX + 1, f) : 0;
    bool rerr = ferror(f);
    fclose(f);
    if (!buf || rerr || n > CONFIG_SIZE_MAX) {
        snprintf(err, errlen, "%s: %s", path,
                 !buf   ? "out of memory"
                 : rerr ? "read error"
                        : "larger than 4 MiB");
        free(buf);
        return -1;
    }
    char why[600];
    int rc = tw_mon_config_parse(buf, n, out, why, sizeof why);
    free(buf);
    if (rc < 0)
        snprintf(err, errlen, "%s:%s", path, why);
    return rc;
}

void tw_mon_config_free(tw_mon_config_t *c)
{
    free(c->targets);
    memset(c, 0, sizeof *c);
}

bool tw_mon_target_same(const tw_mon_target_t *a, const tw_mon_target_t *b)
{
    return !strcmp(a->name, b->name) && !strcmp(a->address, b->address) &&
           !strcmp(a->source, b->source) && !strcmp(a->key, b->key) && a->protocol == b->protocol &&
           a->mode == b->mode && a->interval_ns == b->interval_ns && a->poisson == b->poisson &&
           a->packets == b->packets && a->padding == b->padding && a->dscp == b->dscp &&
           a->ttl == b->ttl && a->timeout_ns == b->timeout_ns && a->ssid == b->ssid &&
           a->rounds == b->rounds;
}
