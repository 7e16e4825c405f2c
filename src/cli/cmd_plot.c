/* twampy plot: draw a saved run (a --csv file) as an SVG picture. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "opts.h"
#include "plot_svg.h"
#include "report_csv.h"

/* Rows read at most (88 octets each in memory). */
#define PLOT_MAX_ROWS 10000000

static const char plot_help[] =
    "usage: twampy plot [-h] [-o file.svg] [--title text] run.csv\n"
    "\n"
    "Draws a run saved with --csv (by sender, demo or controller) as one\n"
    "self-contained SVG picture, the same as --plot draws at the end of a run:\n"
    "the delay of each packet over time per direction (round trip, outbound,\n"
    "inbound) with the lost packets marked, the round-trip histogram and a\n"
    "summary (packets sent, answered, lost, round trip min/median/mean/p99/max,\n"
    "one-way min/avg/max).\n"
    "\n"
    "A --json report has the run's totals but no per-packet records, so it cannot\n"
    "be drawn: save the run with --csv (or use --plot) for a picture.\n"
    "\n"
    "options:\n"
    "  -o, --output file.svg  where to write the picture (default: standard output)\n"
    "  --title text          the picture's title (default: the input's name)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 the input could not be read or the picture not\n"
    "written, 2 usage error.\n";

static const char csv_header[] =
    "session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,outbound_ns,"
    "inbound_ns,ttl_out,ttl_in,dscp_in,size";

/* The first octet that is not white space. */
static int first_char(FILE *f)
{
    int c;
    while ((c = getc(f)) == ' ' || c == '\t' || c == '\r' || c == '\n')
        ;
    if (c != EOF)
        ungetc(c, f);
    return c;
}

static tw_packet_record_t *read_csv(FILE *f, const char *name, size_t *count)
{
    char *line = NULL, err[160];
    size_t cap = 0, n = 0, rcap = 0;
    tw_packet_record_t *recs = NULL;
    long lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, csv_header))
                cli_fail("%s:1: not a twampy --csv file (the first line is not its header "
                         "'session,seq,status,t1,...')",
                         name);
            continue;
        }
        if (!len)
            continue;
        if (n == PLOT_MAX_ROWS)
            cli_fail("%s: more than %d packets; plot a part of it (e.g. head -n %d)", name,
                     PLOT_MAX_ROWS, PLOT_MAX_ROWS + 1);
        if (n == rcap) {
            rcap = rcap ? rcap * 2 : 1024;
            tw_packet_record_t *p = realloc(recs, rcap * sizeof *p);
            if (!p)
                cli_fail("out of memory after %zu packets of %s", n, name);
            recs = p;
        }
        int session;
        if (tw_csv_parse_row(line, &session, &recs[n], err, sizeof err) < 0)
            cli_fail("%s:%ld: %s", name, lineno, err);
        n++;
    }
    if (ferror(f))
        cli_fail("cannot read %s: %s", name, strerror(errno));
    if (lineno == 0)
        cli_fail("%s is empty: not a twampy --csv file", name);
    free(line);
    *count = n;
    return recs;
}

int cmd_plot(int argc, char **argv)
{
    enum { OPT_TITLE = 300 };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, OPT_TITLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *title = NULL;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(plot_help, stdout);
            return 0;
        case 'o':
            if (!*optarg)
                cli_usage_error("plot", "-o needs a file name");
            out = strcmp(optarg, "-") ? optarg : NULL;
            break;
        case OPT_TITLE:
            title = optarg;
            break;
        default:
            cli_usage_error("plot", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        cli_usage_error("plot",
                        argc == optind ? "the run to draw (a --csv file) is required"
                                       : "one input file, not %d",
                        argc - optind);
    const char *in = argv[optind];
    FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
    if (!f)
        cli_fail("cannot open %s: %s", in, strerror(errno));
    if (first_char(f) == '{')
        cli_fail("%s is a --json report: it has the run's totals but no per-packet records, "
                 "so it cannot be drawn; save the run with --csv FILE (or draw it at once "
                 "with --plot FILE.svg) and plot that",
                 in);
    size_t n;
    tw_packet_record_t *recs = read_csv(f, in, &n);
    if (f != stdin)
        fclose(f);
    FILE *o = out ? fopen(out, "w") : stdout;
    if (!o)
        cli_fail("cannot open the plot file '%s': %s", out, strerror(errno));
    tw_plot_info_t info = {.title = title ? title : in};
    int rc = tw_plot_svg(o, recs, n, &info);
    if (o != stdout ? fclose(o) != 0 : fflush(o) != 0)
        rc = -1;
    free(recs);
    if (rc < 0)
        cli_fail("cannot write the plot file '%s'", out ? out : "(standard output)");
    return 0;
}
