/* check_report: the result table of `twampy check` and its text and JSON forms. */
#include "check.h"

#include <stdarg.h>
#include <string.h>

#include "report_json.h"

void tw_check_table_init(tw_check_table_t *t, const char *kind, const char *target,
                         int64_t timeout_ns)
{
    memset(t, 0, sizeof *t);
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    snprintf(t->target, sizeof t->target, "%s", target);
    t->timeout_ns = timeout_ns;
}

void tw_check_add(tw_check_table_t *t, tw_check_result_t result, const char *name,
                  const char *clause, const char *expected, const char *seen, ...)
{
    if (t->n >= TW_CHECK_MAX_ROWS)
        return;
    tw_check_row_t *r = &t->rows[t->n++];
    r->result = result;
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->clause, sizeof r->clause, "%s", clause);
    snprintf(r->expected, sizeof r->expected, "%s", expected);
    va_list ap;
    va_start(ap, seen);
    vsnprintf(r->seen, sizeof r->seen, seen, ap);
    va_end(ap);
}

int tw_check_count(const tw_check_table_t *t, tw_check_result_t result)
{
    int n = 0;
    for (int i = 0; i < t->n; i++)
        n += t->rows[i].result == result;
    return n;
}

int tw_check_exit_status(const tw_check_table_t *t)
{
    return tw_check_count(t, TW_CHECK_FAIL) || !t->answered ? 1 : 0;
}

const char *tw_check_result_str(tw_check_result_t r)
{
    switch (r) {
    case TW_CHECK_PASS:
        return "PASS";
    case TW_CHECK_WARN:
        return "WARN";
    case TW_CHECK_FAIL:
        return "FAIL";
    default:
        return "SKIP";
    }
}

/* Columns of the text table, in characters. */
enum { W_NAME = 20, W_CLAUSE = 17, W_EXP = 30, W_SEEN = 36 };

/* Characters (not octets) of UTF-8 s[0..n). */
static size_t u8len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* The next line of *s that fits w characters: its length in octets, and *s
 * moved past it (and past the blank it was broken at). */
static size_t next_line(const char **s, size_t w)
{
    const char *p = *s;
    size_t n = strlen(p);
    if (u8len(p, n) <= w) {
        *s = p + n;
        return n;
    }
    /* The longest prefix of at most w characters, broken at a blank. */
    size_t cut = 0, chars = 0, brk = 0;
    while (cut < n && chars < w) {
        cut++;
        while (cut < n && ((unsigned char)p[cut] & 0xc0) == 0x80)
            cut++;
        chars++;
        if (cut < n && p[cut] == ' ')
            brk = cut;
    }
    size_t len = brk ? brk : cut;
    *s = p + len;
    while (**s == ' ')
        (*s)++;
    return len;
}

static void print_cell(FILE *f, const char *line, size_t len, size_t w, bool last)
{
    fwrite(line, 1, len, f);
    if (last)
        return;
    for (size_t c = u8len(line, len); c < w + 1; c++)
        fputc(' ', f);
}

void tw_check_print(FILE *f, const tw_check_table_t *t)
{
    fprintf(f, "%s\n", t->title);
    static const size_t w[5] = {W_NAME, W_CLAUSE, W_EXP, W_SEEN, 6};
    static const char *const head[5] = {"Test", "RFC clause", "Expected", "Seen", "Result"};
    size_t total = 0;
    for (int c = 0; c < 5; c++)
        total += w[c] + 1;
    for (size_t i = 0; i + 1 < total; i++)
        fputc('=', f);
    fputc('\n', f);
    for (int c = 0; c < 5; c++)
        print_cell(f, head[c], strlen(head[c]), w[c], c == 4);
    fputc('\n', f);
    for (size_t i = 0; i + 1 < total; i++)
        fputc('-', f);
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        const tw_check_row_t *r = &t->rows[i];
        const char *p[4] = {r->name, r->clause, r->expected, r->seen};
        bool first = true;
        while (*p[0] || *p[1] || *p[2] || *p[3] || first) {
            /* One line into a buffer, its trailing blanks cut. */
            char line[4 * TW_CHECK_TEXT_LEN];
            FILE *m = fmemopen(line, sizeof line - 1, "w");
            if (!m)
                return;
            for (int c = 0; c < 4; c++) {
                const char *start = p[c];
                size_t len = next_line(&p[c], w[c]);
                print_cell(m, start, len, w[c], false);
            }
            if (first)
                fputs(tw_check_result_str(r->result), m);
            long n = ftell(m);
            fclose(m);
            line[n < 0 ? 0 : n] = 0;
            size_t l = strlen(line);
            while (l && line[l - 1] == ' ')
                line[--l] = 0;
            fprintf(f, "%s\n", line);
            first = false;
        }
    }
    for (size_t i = 0; i + 1 < total; i++)
        fputc('=', f);
    fputc('\n', f);
    int fail = tw_check_count(t, TW_CHECK_FAIL);
    fprintf(f, "%d tests: %d PASS, %d WARN, %d FAIL, %d SKIP. Result: %s%s\n", t->n,
            tw_check_count(t, TW_CHECK_PASS), tw_check_count(t, TW_CHECK_WARN), fail,
            tw_check_count(t, TW_CHECK_SKIP), tw_check_exit_status(t) ? "FAIL" : "PASS",
            !t->answered ? " (the device answered nothing)" : "");
}

void tw_check_json(FILE *f, const tw_check_table_t *t, bool pretty)
{
    tw_json_t j;
    tw_json_init(&j, f, pretty);
    tw_json_obj_begin(&j, NULL);
    tw_json_str(&j, "schema", TW_CHECK_JSON_SCHEMA);
    tw_json_str(&j, "kind", t->kind);
    tw_json_str(&j, "target", t->target);
    tw_json_str(&j, "title", t->title);
    tw_json_num(&j, "timeout_s", (double)t->timeout_ns / 1e9);
    tw_json_bool(&j, "answered", t->answered > 0);
    tw_json_arr_begin(&j, "tests");
    for (int i = 0; i < t->n; i++) {
        const tw_check_row_t *r = &t->rows[i];
        tw_json_obj_begin_line(&j, NULL);
        tw_json_str(&j, "test", r->name);
        tw_json_str(&j, "clause", r->clause);
        tw_json_str(&j, "expected", r->expected);
        tw_json_str(&j, "seen", r->seen);
        tw_json_str(&j, "result", tw_check_result_str(r->result));
        tw_json_obj_end(&j);
    }
    tw_json_arr_end(&j);
    tw_json_obj_begin_line(&j, "summary");
    tw_json_int(&j, "pass", tw_check_count(t, TW_CHECK_PASS));
    tw_json_int(&j, "warn", tw_check_count(t, TW_CHECK_WARN));
    tw_json_int(&j, "fail", tw_check_count(t, TW_CHECK_FAIL));
    tw_json_int(&j, "skip", tw_check_count(t, TW_CHECK_SKIP));
    tw_json_obj_end(&j);
    tw_json_str(&j, "result", tw_check_exit_status(t) ? "FAIL" : "PASS");
    tw_json_obj_end(&j);
    tw_json_end(&j);
}
