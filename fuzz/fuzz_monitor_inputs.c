/* fuzz_monitor_inputs: what `twampy monitor` and --metrics read: the YAML
 * configuration (tw_mon_config_parse, on the raw octets), the Accept header of
 * a scrape (tw_prom_wants_openmetrics, which a remote party sends) and label
 * values in the exposition (tw_prom_* escaping), on arbitrary octets.
 *
 * Checks: a configuration either parses into targets that each have an
 * address and a unique name, a positive interval and packets per round, TTL
 * 1..255, DSCP 0..63 and a line inside the file; or fails with an error that
 * names a line and column (digits, ':', digits, ':') and no targets. The
 * Accept decision does not depend on the header's letter case. A label value
 * (the input cut at its first NUL) written into both formats reads back
 * exactly when unescaped, and the sample stays on one line. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "monitor_config.h"
#include "prom.h"

#define TEXT_MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_OFF);
    return 0;
}

static void check_config(const uint8_t *data, size_t size)
{
    tw_mon_config_t c;
    char err[600];
    memset(err, 0, sizeof err);
    if (tw_mon_config_parse((const char *)data, size, &c, err, sizeof err) < 0) {
        FUZZ_CHECK(c.targets == NULL && c.ntargets == 0);
        const char *p = err;
        FUZZ_CHECK(isdigit((unsigned char)*p));
        while (isdigit((unsigned char)*p))
            p++;
        FUZZ_CHECK(*p++ == ':');
        FUZZ_CHECK(isdigit((unsigned char)*p));
        while (isdigit((unsigned char)*p))
            p++;
        FUZZ_CHECK(*p == ':');
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        return;
    }
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r';
    FUZZ_CHECK(c.ntargets <= TW_MON_MAX_TARGETS);
    for (size_t i = 0; i < c.ntargets; i++) {
        const tw_mon_target_t *t = &c.targets[i];
        FUZZ_CHECK(t->address[0] && t->name[0]);
        FUZZ_CHECK(t->interval_ns > 0 && t->packets >= 1);
        FUZZ_CHECK(t->ttl >= 1 && t->ttl <= 255 && t->dscp >= 0 && t->dscp <= 63);
        FUZZ_CHECK(t->line >= 1 && (size_t)t->line <= lines);
        FUZZ_CHECK(tw_mon_target_same(t, t));
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(c.targets[j].name, t->name) != 0);
    }
    tw_mon_config_free(&c);
    FUZZ_CHECK(c.targets == NULL);
}

static void check_accept(const char *text)
{
    bool om = tw_prom_wants_openmetrics(text);
    char *up = strdup(text);
    FUZZ_CHECK(up != NULL);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    /* Parameter values compare exactly ("version=1.0.0" has no letters), so
     * only the letters of names change. */
    FUZZ_CHECK(tw_prom_wants_openmetrics(up) == om);
    free(up);
}

/* The sample's label value, unescaped, from `name{l="..."} 1\n`. */
static void check_label(const char *value, bool openmetrics)
{
    tw_prom_t p;
    tw_prom_init(&p, openmetrics);
    tw_prom_label_t l = {"l", value};
    tw_prom_gauge(&p, "m", &l, 1, 1);
    tw_prom_end(&p);
    FUZZ_CHECK(!p.failed && p.buf);
    FUZZ_CHECK(!strncmp(p.buf, "m{l=\"", 5));
    const char *s = p.buf + 5;
    size_t n = strlen(value), k = 0;
    while (*s != '"') {
        FUZZ_CHECK(*s && *s != '\n');
        char ch = *s++;
        if (ch == '\\') {
            ch = *s++;
            FUZZ_CHECK(ch == '\\' || ch == '"' || ch == 'n');
            ch = ch == 'n' ? '\n' : ch;
        }
        FUZZ_CHECK(k < n && value[k] == ch);
        k++;
    }
    FUZZ_CHECK(k == n);
    FUZZ_CHECK(!strcmp(s, openmetrics ? "\"} 1\n# EOF\n" : "\"} 1\n"));
    tw_prom_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_config(data, size);
    size_t n = size < TEXT_MAX ? size : TEXT_MAX;
    char *text = malloc(n + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, n);
    text[n] = '\0';
    check_accept(text);
    check_label(text, false);
    check_label(text, true);
    free(text);
    return 0;
}
