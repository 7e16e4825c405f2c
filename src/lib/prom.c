#include "prom.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void tw_prom_init(tw_prom_t *p, bool openmetrics)
{
    memset(p, 0, sizeof *p);
    p->om = openmetrics;
}

void tw_prom_free(tw_prom_t *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

static bool grow(tw_prom_t *p, size_t more)
{
    if (p->failed)
        return false;
    if (p->len + more + 1 <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < p->len + more + 1)
        cap *= 2;
    char *b = realloc(p->buf, cap);
    if (!b) {
        p->failed = true;
        return false;
    }
    p->buf = b;
    p->cap = cap;
    return true;
}

static void put(tw_prom_t *p, const char *s, size_t n)
{
    if (!grow(p, n))
        return;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void puts_(tw_prom_t *p, const char *s)
{
    put(p, s, strlen(s));
}

/* Escaped: backslash and newline always, the double quote in label values
 * (quote) and in OpenMetrics' HELP text. */
static void put_escaped(tw_prom_t *p, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(p, "\\\\", 2);
        else if (*s == '\n')
            put(p, "\\n", 2);
        else if (*s == '"' && quote)
            put(p, "\\\"", 2);
        else
            put(p, s, 1);
    }
}

const char *tw_prom_float(char *buf, size_t len, double v)
{
    if (isnan(v))
        snprintf(buf, len, "NaN");
    else if (isinf(v))
        snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(buf, len, "%.0f", v);
    else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, len, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    return buf;
}

static const char *type_name(enum tw_prom_type t)
{
    return t == TW_PROM_COUNTER ? "counter" : t == TW_PROM_GAUGE ? "gauge" : "histogram";
}

void tw_prom_family(tw_prom_t *p, const char *name, enum tw_prom_type type, const char *unit,
                    const char *help)
{
    /* The text format names a counter's family by its sample (name_total). */
    const char *suffix = type == TW_PROM_COUNTER && !p->om ? "_total" : "";
    puts_(p, "# HELP ");
    puts_(p, name);
    puts_(p, suffix);
    puts_(p, " ");
    put_escaped(p, help, p->om);
    puts_(p, "\n# TYPE ");
    puts_(p, name);
    puts_(p, suffix);
    puts_(p, " ");
    puts_(p, type_name(type));
    puts_(p, "\n");
    if (p->om && unit) {
        puts_(p, "# UNIT ");
        puts_(p, name);
        puts_(p, " ");
        puts_(p, unit);
        puts_(p, "\n");
    }
}

/* name{labels[,le="x"]} value */
static void sample(tw_prom_t *p, const char *name, const char *suffix, const tw_prom_label_t *l,
                   size_t nl, const char *le, const char *value)
{
    puts_(p, name);
    puts_(p, suffix);
    if (nl || le) {
        puts_(p, "{");
        for (size_t i = 0; i < nl; i++) {
            if (i)
                puts_(p, ",");
            puts_(p, l[i].name);
            puts_(p, "=\"");
            put_escaped(p, l[i].value ? l[i].value : "", true);
            puts_(p, "\"");
        }
        if (le) {
            puts_(p, nl ? ",le=\"" : "le=\"");
            puts_(p, le);
            puts_(p, "\"");
        }
        puts_(p, "}");
    }
    puts_(p, " ");
    puts_(p, value);
    puts_(p, "\n");
}

void tw_prom_gauge(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl, double v)
{
    char b[40];
    sample(p, name, "", l, nl, NULL, tw_prom_float(b, sizeof b, v));
}

static void created(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl, double t)
{
    if (!p->om || t <= 0)
        return;
    char b[40];
    snprintf(b, sizeof b, "%.3f", t);
    sample(p, name, "_created", l, nl, NULL, b);
}

void tw_prom_counter(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl,
                     uint64_t v, double created_s)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    sample(p, name, "_total", l, nl, NULL, b);
    created(p, name, l, nl, created_s);
}

void tw_prom_histogram(tw_prom_t *p, const char *name, const tw_prom_label_t *l, size_t nl,
                       const double *le, const uint64_t *counts, size_t nb, double sum,
                       double created_s)
{
    uint64_t cum = 0;
    char b[40], v[32];
    for (size_t i = 0; i <= nb; i++) {
        cum += counts[i];
        snprintf(v, sizeof v, "%llu", (unsigned long long)cum);
        sample(p, name, "_bucket", l, nl, i < nb ? tw_prom_float(b, sizeof b, le[i]) : "+Inf", v);
    }
    sample(p, name, "_sum", l, nl, NULL, tw_prom_float(b, sizeof b, sum));
    sample(p, name, "_count", l, nl, NULL, v);
    created(p, name, l, nl, created_s);
}

void tw_prom_end(tw_prom_t *p)
{
    if (p->om)
        puts_(p, "# EOF\n");
}

const char *tw_prom_content_type(bool openmetrics)
{
    return openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                       : "text/plain; version=0.0.4; charset=utf-8";
}

/* Copy [s, e) into out without surrounding blanks. */
static void trim(char *out, size_t outlen, const char *s, const char *e)
{
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    size_t n = (size_t)(e - s) < outlen - 1 ? (size_t)(e - s) : outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

bool tw_prom_wants_openmetrics(const char *accept)
{
    double om = 0, text = 0;
    if (!accept)
        return false;
    const char *s = accept;
    while (*s) {
        const char *end = strchr(s, ',');
        if (!end)
            end = s + strlen(s);
        /* type/subtype;param=value;... */
        const char *semi = memchr(s, ';', (size_t)(end - s));
        char type[64];
        trim(type, sizeof type, s, semi ? semi : end);
        double q = 1;
        bool version_ok = true;
        for (const char *a = semi; a && a < end;) {
            const char *next = memchr(a + 1, ';', (size_t)(end - a - 1));
            char param[64];
            trim(param, sizeof param, a + 1, next ? next : end);
            if (!strncasecmp(param, "q=", 2))
                q = strtod(param + 2, NULL);
            else if (!strncasecmp(param, "version=", 8))
                version_ok = !strcmp(param + 8, "1.0.0") || !strcmp(param + 8, "0.0.1");
            a = next;
        }
        if (!strcasecmp(type, "application/openmetrics-text")) {
            if (version_ok && q > om)
                om = q;
        } else if (!strcasecmp(type, "text/plain") || !strcasecmp(type, "text/*") ||
                   !strcmp(type, "*/*")) {
            if (q > text)
                text = q;
        }
        s = *end ? end + 1 : end;
    }
    return om > 0 && om > text;
}
