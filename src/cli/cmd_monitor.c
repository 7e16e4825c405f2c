/* twampy monitor: continuous measurement of the targets of a YAML file, with
 * Prometheus metrics (monitor.h, monitor_config.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "loop.h"
#include "metrics_opts.h"
#include "monitor.h"
#include "monitor_config.h"
#include "opts.h"
#include "sdnotify.h"
#include "signals.h"

static const char monitor_help[] =
    "usage: twampy monitor [options] CONFIG\n"
    "\n"
    "Measure every target of CONFIG (YAML) around the clock from one process and\n"
    "serve the figures to Prometheus. Each target runs in rounds of 'packets'\n"
    "packets (TWAMP light, STAMP, or full TWAMP with a TWAMP-Control connection per\n"
    "round); counters move when a round is over, so each packet is counted once\n"
    "as received or lost.\n"
    "\n"
    "  CONFIG                the targets, e.g.\n"
    "                          targets:\n"
    "                            - name: core-1\n"
    "                              address: 192.0.2.1:862\n"
    "                              protocol: stamp        # twamp-light, stamp, twamp\n"
    "                              interval: 1s\n"
    "                              dscp: ef\n"
    "                        (man twampy, MONITOR, lists every setting)\n"
    "\n"
    "options:\n"
    "  --check-config        read and check CONFIG (addresses resolved, keys found),\n"
    "                        print 'CONFIG: N targets, OK' and exit: 0 good, 2 bad\n"
    "  --metrics ADDR:PORT   serve /metrics on ADDR:PORT (Prometheus text format\n"
    "                        0.0.4, or OpenMetrics 1.0 when the scraper asks)\n"
    "  --json FILE           write the totals as JSON to FILE on SIGUSR1 and at exit\n"
    "                        ('-' for stdout)\n"
    "  --exit-when-done      exit once every target has run its 'rounds'\n"
    "\n"
    "signals: SIGHUP reloads CONFIG (targets added, removed, changed; unchanged ones\n"
    "keep their counters; a bad file is reported and the running one kept);\n"
    "SIGUSR1 writes --json; SIGINT, SIGTERM stop.\n"
    "\n"
    "Debug options:\n"
    "  -l, --logfile filename, -q, --quiet, -v, --verbose, -d, --debug\n"
    "  -h, --help            show this help and exit\n";

enum { OPT_CHECK_CONFIG = 700, OPT_METRICS, OPT_MON_JSON, OPT_EXIT_WHEN_DONE };

struct mon {
    tw_loop_t *loop;
    tw_monitor_t *m;
    const char *config, *json;
    bool exit_when_done;
    cli_signals_t sig;
    int sigfd;
    tw_watch_t sigwatch;
    cli_metrics_t metrics;
};

static void write_json(struct mon *c)
{
    if (!c->json)
        return;
    if (!strcmp(c->json, "-")) {
        tw_monitor_json(c->m, stdout);
        return;
    }
    /* Whole or not at all: a reader never sees half a file. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->json);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        tw_warn("--json %s: %s", tmp, strerror(errno));
        return;
    }
    tw_monitor_json(c->m, f);
    if (fclose(f) != 0 || rename(tmp, c->json) != 0) {
        tw_warn("--json %s: %s", c->json, strerror(errno));
        unlink(tmp);
    }
}

static void reload(struct mon *c)
{
    tw_mon_config_t cfg;
    char err[1024];
    if (tw_mon_config_load(c->config, &cfg, err, sizeof err) < 0) {
        tw_error("reload: %s; the running configuration stays", err);
        return;
    }
    if (tw_monitor_apply(c->m, &cfg, err, sizeof err) < 0)
        tw_error("reload: %s: %s; the running configuration stays", c->config, err);
    else
        tw_notice("reloaded %s", c->config);
    tw_mon_config_free(&cfg);
    cli_metrics_refresh(&c->metrics);
}

static void on_hup_usr1(void *arg, uint32_t events)
{
    struct mon *c = arg;
    (void)events;
    struct signalfd_siginfo si;
    while (read(c->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            tw_notice("SIGHUP received: reloading %s", c->config);
            reload(c);
        } else {
            tw_notice("SIGUSR1 received: writing %s", c->json ? c->json : "nothing (no --json)");
            write_json(c);
        }
    }
}

static void on_update(void *arg)
{
    struct mon *c = arg;
    cli_metrics_refresh(&c->metrics);
    if (c->exit_when_done && tw_monitor_finished(c->m))
        tw_loop_stop(c->loop);
}

static void render(void *arg, tw_prom_t *p)
{
    struct mon *c = arg;
    tw_monitor_prom(c->m, p);
}

int cmd_monitor(int argc, char **argv)
{
    const char *cmd = "monitor";
    static const struct option longopts[] = {
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"json", required_argument, NULL, OPT_MON_JSON},
        {"exit-when-done", no_argument, NULL, OPT_EXIT_WHEN_DONE},
        {"logfile", required_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_common_t common;
    cli_common_init(&common, cmd);
    struct mon c;
    memset(&c, 0, sizeof c);
    c.sigfd = -1;
    bool check = false;
    const char *metrics = NULL;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "l:qvdh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(monitor_help, stdout);
            return 0;
        case OPT_CHECK_CONFIG:
            check = true;
            break;
        case OPT_METRICS:
            metrics = optarg;
            break;
        case OPT_MON_JSON:
            c.json = optarg;
            break;
        case OPT_EXIT_WHEN_DONE:
            c.exit_when_done = true;
            break;
        default:
            if (!cli_common_opt(&common, opt, optarg))
                cli_bad_option(cmd, argc, argv);
        }
    }
    if (optind != argc - 1)
        cli_usage_error(cmd, optind >= argc ? "a CONFIG file is required" : "one CONFIG file only");
    c.config = argv[optind];
    cli_common_finish(&common);

    tw_mon_config_t cfg;
    char err[1024];
    if (tw_mon_config_load(c.config, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "twampy monitor: error: %s\n", err);
        return EXIT_USAGE;
    }
    /* Signals are blocked before any thread starts (the metrics server's),
     * so they all come to the loop's signalfds. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);

    if (check) {
        int rc = tw_monitor_check(&cfg, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "twampy monitor: error: %s: %s\n", c.config, err);
        else
            printf("%s: %zu targets, OK\n", c.config, cfg.ntargets);
        tw_mon_config_free(&cfg);
        return rc < 0 ? EXIT_USAGE : 0;
    }
    c.loop = tw_loop_new();
    if (!c.loop)
        cli_fail("cannot create the event loop: %s", strerror(errno));
    c.m = tw_monitor_new(c.loop, on_update, &c);
    if (!c.m)
        cli_fail("out of memory");
    int rc = tw_monitor_apply(c.m, &cfg, err, sizeof err);
    tw_mon_config_free(&cfg);
    if (rc < 0)
        cli_fail("%s: %s", c.config, err);

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    c.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c.sigfd < 0 || tw_loop_add(c.loop, &c.sigwatch, c.sigfd, EPOLLIN, on_hup_usr1, &c) < 0)
        cli_fail("cannot watch for signals: %s", strerror(errno));
    cli_signals_watch(&c.sig, c.loop, "stop", NULL, cli_signals_stop_loop, c.loop);
    cli_metrics_start(&c.metrics, cmd, metrics, c.loop, render, &c);
    tw_notice("monitor running (pid %d)", (int)getpid());
    /* systemd (Type=notify): the targets are open and --metrics listens. */
    tw_sd_notify("READY=1");
    if (!(c.exit_when_done && tw_monitor_finished(c.m)) && tw_loop_run(c.loop) < 0)
        cli_fail("event loop failed: %s", strerror(errno));

    tw_sd_notify("STOPPING=1");
    write_json(&c);
    cli_metrics_stop(&c.metrics);
    tw_monitor_free(c.m);
    tw_loop_del(c.loop, &c.sigwatch);
    close(c.sigfd);
    cli_signals_close(&c.sig);
    tw_loop_free(c.loop);
    tw_log_close();
    return 0;
}
