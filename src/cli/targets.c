#include "targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define LINE_MAX_LEN 4096
#define LINE_MAX_ARGS 64

/* Split line (modified in place) into argv[1..] at blanks; '#' ends it.
 * Returns argc (argv[0] is cmd), or -1 with too many words. */
static int split(char *line, const char *cmd, char **argv)
{
    int argc = 0;
    argv[argc++] = (char *)cmd;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            break;
        if (argc == LINE_MAX_ARGS)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
        if (*p)
            *p++ = '\0';
    }
    argv[argc] = NULL;
    return argc;
}

int targets_load(const struct sender_args *global, const char *help, unsigned flags,
                 struct target **out)
{
    const char *cmd = global->common.cmd, *path = global->targets;
    FILE *f = fopen(path, "r");
    if (!f)
        cli_fail("cannot read the --targets file '%s': %s", path, strerror(errno));
    struct target *t = NULL;
    int n = 0, cap = 0, lineno = 0;
    char buf[LINE_MAX_LEN + 2];
    char where[512];
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        cli_set_context(where);
        size_t len = strlen(buf);
        if (len > LINE_MAX_LEN && buf[len - 1] != '\n')
            cli_usage_error(cmd, "line longer than %d characters", LINE_MAX_LEN);
        char *text = strdup(buf);
        char *argv[LINE_MAX_ARGS + 1];
        if (!text)
            cli_fail("out of memory");
        int argc = split(text, cmd, argv);
        if (argc < 0)
            cli_usage_error(cmd, "more than %d words on a line", LINE_MAX_ARGS - 1);
        if (argc == 1) {
            free(text);
            continue;
        }
        if (n == TARGETS_MAX)
            cli_usage_error(cmd, "more than %d targets", TARGETS_MAX);
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            struct target *nt = realloc(t, (size_t)cap * sizeof *t);
            if (!nt)
                cli_fail("out of memory for %d targets", cap);
            t = nt;
        }
        t[n].a = *global;
        t[n].a.targets = NULL;
        t[n].line = lineno;
        t[n].text = text;
        parse_sender_args(argc, argv, &t[n].a, cmd, help, flags | SO_LINE | SO_POSITIONAL);
        n++;
    }
    cli_set_context(NULL);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad)
        cli_fail("cannot read the --targets file '%s'", path);
    if (n == 0)
        cli_fail("the --targets file '%s' names no reflector", path);
    *out = t;
    return n;
}

void targets_free(struct target *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].text);
    free(t);
}
