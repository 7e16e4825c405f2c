/* Dropping root after binding a privileged port (--user). */
#ifndef TWAMPY_CLI_PRIVILEGES_H
#define TWAMPY_CLI_PRIVILEGES_H

/* Switch to user's uid and gid (and no supplementary groups). Any failure, or
 * a process that could get root back afterwards, is fatal (exit 1): twampy
 * never runs on as root when --user was given. */
void cli_drop_privileges(const char *user);

#endif
