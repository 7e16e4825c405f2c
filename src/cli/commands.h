/* The subcommands of the twampy command. Each returns the process exit code. */
#ifndef TWAMPY_CLI_COMMANDS_H
#define TWAMPY_CLI_COMMANDS_H

int cmd_sender(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_responder(int argc, char **argv);
int cmd_dscptable(int argc, char **argv);
int cmd_controller(int argc, char **argv);
int cmd_controlclient(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#endif
