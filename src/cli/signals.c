#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

static void on_signal(void *arg, uint32_t events)
{
    cli_signals_t *s = arg;
    struct signalfd_siginfo si;
    if (read(s->fd, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    if (s->before)
        s->before(s->arg);
    tw_notice("%s received: %s", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", s->what);
    s->act(s->arg);
}

void cli_signals_watch(cli_signals_t *s, tw_loop_t *loop, const char *what, cli_signal_fn *before,
                       cli_signal_fn *act, void *arg)
{
    *s = (cli_signals_t){
        .loop = loop, .fd = -1, .what = what, .before = before, .act = act, .arg = arg};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->fd < 0 || tw_loop_add(loop, &s->watch, s->fd, EPOLLIN, on_signal, s) < 0)
        cli_fail("cannot watch for signals: %s", strerror(errno));
}

void cli_signals_close(cli_signals_t *s)
{
    if (s->fd < 0)
        return;
    tw_loop_del(s->loop, &s->watch);
    close(s->fd);
    s->fd = -1;
}

void cli_signals_stop_loop(void *loop)
{
    tw_loop_stop(loop);
}
