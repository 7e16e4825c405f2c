/* twampy: a thin command over libtwampy. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "opts.h"

static const char main_help[] =
    "usage: twampy [-h] [-v] "
    "{sender,responder,controller,controlclient,server,check,monitor,demo,plot,dscptable} "
    "...\n"
    "\n"
    "TWAMP, TWAMP light and STAMP measurement: round-trip and one-way delay,\n"
    "jitter and loss between two endpoints.\n"
    "\n"
    "first measurement against a router at 192.0.2.1:\n"
    "  twampy sender 192.0.2.1              TWAMP light, to its reflector on port 20001\n"
    "  twampy sender 192.0.2.1:862 --stamp  STAMP (RFC 8762), to its reflector on 862\n"
    "  twampy controller 192.0.2.1          full TWAMP, via its TWAMP server on 862\n"
    "  twampy demo                          no router: a reflector and a sender here\n"
    "  twampy check 192.0.2.1:862           conformance table of its reflector (RFCs)\n"
    "\n"
    "subcommands:\n"
    "  sender              TWAMP light / STAMP Session-Sender (TWL sender)\n"
    "  responder           TWAMP light / STAMP Session-Reflector (TWL responder)\n"
    "  controller          TWAMP-Control client and Session-Sender (TWAMP controller)\n"
    "  controlclient       TWAMP-Control client for an external Session-Sender\n"
    "  server              TWAMP server: control listener and Session-Reflectors\n"
    "  check               conformance test of a reflector (or --control a server)\n"
    "  monitor             many targets around the clock, Prometheus metrics\n"
    "  demo                a reflector and a sender on loopback in one process\n"
    "  plot                draw a run saved with --csv as an SVG picture\n"
    "  dscptable           print the DSCP/TOS table\n"
    "\n"
    "options: -h, --help (this help), -v, --version (the version)\n"
    "\n"
    "'twampy SUBCOMMAND --help' describes each subcommand.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        cli_usage_error(NULL, "a subcommand is required");
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        fputs(main_help, stdout);
        return 0;
    }
    if (!strcmp(sub, "-v") || !strcmp(sub, "--version")) {
        printf("twampy %s\n", TWAMPY_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"sender", cmd_sender},
        {"responder", cmd_responder},
        {"demo", cmd_demo},
        {"dscptable", cmd_dscptable},
        {"controller", cmd_controller},
        {"controlclient", cmd_controlclient},
        {"server", cmd_server},
        {"plot", cmd_plot},
        {"check", cmd_check},
        {"monitor", cmd_monitor},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(sub, cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    cli_usage_error(NULL,
                    "unknown subcommand '%s' (choose from sender, responder, controller, "
                    "controlclient, server, check, monitor, demo, plot, dscptable)",
                    sub);
}
