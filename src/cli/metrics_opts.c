#include "metrics_opts.h"

#include <string.h>

#include "addr.h"
#include "log.h"
#include "ntptime.h"
#include "opts.h"

#define REFRESH_NS ((int64_t)1000000000)

static void render_both(cli_metrics_t *m)
{
    tw_prom_t text, om;
    tw_prom_init(&text, false);
    tw_prom_init(&om, true);
    m->render(m->arg, &text);
    m->render(m->arg, &om);
    tw_prom_end(&text);
    tw_prom_end(&om);
    if (!text.failed && !om.failed)
        tw_metrics_http_publish(m->http, text.buf ? text.buf : "", text.len, om.buf ? om.buf : "",
                                om.len);
    tw_prom_free(&text);
    tw_prom_free(&om);
}

static void on_timer(void *arg)
{
    cli_metrics_t *m = arg;
    render_both(m);
    tw_timer_set(m->loop, &m->timer, tw_mono_now() + REFRESH_NS, on_timer, m);
}

void cli_metrics_start(cli_metrics_t *m, const char *cmd, const char *addr, tw_loop_t *loop,
                       void (*render)(void *arg, tw_prom_t *p), void *arg)
{
    memset(m, 0, sizeof *m);
    m->loop = loop;
    m->render = render;
    m->arg = arg;
    if (!addr)
        return;
    struct sockaddr_storage ss;
    socklen_t len;
    cli_resolve(cmd, "--metrics", addr, 0, AF_UNSPEC, true, &ss, &len);
    char err[512];
    if (tw_metrics_http_start(&m->http, (struct sockaddr *)&ss, len, err, sizeof err) < 0)
        cli_fail("--metrics %s: %s", addr, err);
    tw_addr_set_port(&ss, (uint16_t)tw_metrics_http_port(m->http));
    char a[TW_ADDRSTRLEN];
    tw_notice("metrics on http://%s/metrics", tw_addr_str((struct sockaddr *)&ss, a, sizeof a));
    on_timer(m);
}

void cli_metrics_refresh(cli_metrics_t *m)
{
    if (m->http)
        render_both(m);
}

void cli_metrics_stop(cli_metrics_t *m)
{
    if (!m->http)
        return;
    tw_timer_cancel(m->loop, &m->timer);
    tw_metrics_http_stop(m->http);
    m->http = NULL;
}
