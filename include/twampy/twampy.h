/* twampy.h: the public API of libtwampy, in one include.
 *
 *   #include <twampy/twampy.h>      cc prog.c $(pkg-config --cflags --libs twampy)
 *
 * What another program embeds, header by header (each documents its own
 * contract; examples/measure.c uses them end to end):
 *
 *   ntptime.h        the one timestamp type (tw_time_t, ns since the Unix epoch),
 *                    clocks, NTP/PTP wire formats, Error Estimate
 *   wire.h           pure codecs of TWAMP-Test / TWAMP light / STAMP packets
 *   control_wire.h   pure codecs of TWAMP-Control messages
 *   auth.h           the authenticated and encrypted modes' cryptography
 *   addr.h           the address syntax ("ip:port", "[v6]:port") and resolution
 *   dscp.h           DSCP names
 *   acl.h            source address filters
 *   loop.h           the event loop every engine runs on
 *   net.h            test sockets: IP options, kernel timestamps, batched I/O
 *   phc.h            a NIC's PTP hardware clock as system time
 *   log.h            the logger (thread-safe, paced repeats)
 *   conformance.h    what replies say about a reflector: findings with RFC clauses
 *   sender.h         the Session-Sender (TWAMP light, STAMP, a TWAMP session)
 *   reflector.h      the Session-Reflector (TWAMP light, STAMP)
 *   workers.h        one event loop per core, reflectors on SO_REUSEPORT sockets
 *   control_client.h the TWAMP-Control client (a controller's state machine)
 *   stats.h hist.h metrics.h  delay, loss, jitter, percentiles, IPDV/PDV
 *   report.h report_json.h report_csv.h  the text table, JSON and CSV reports
 *   run_report.h     a whole run's report (text, JSON, totals) as `twampy sender`
 *                    prints it, interval lines, the progress line
 *   plot_svg.h       a run's packets drawn as one self-contained SVG
 *   sdnotify.h       systemd readiness (READY=1, STOPPING=1) without libsystemd
 *   check.h          the conformance battery of `twampy check` (a reflector,
 *                    a TWAMP server) and its table
 *
 * The headers use glibc's struct in6_pktinfo: compile with -D_GNU_SOURCE (as
 * `pkg-config --cflags twampy` says). Everything is single-threaded per event
 * loop; the logger alone is shared. */
#ifndef TWAMPY_TWAMPY_H
#define TWAMPY_TWAMPY_H

#include "ntptime.h"
#include "wire.h"
#include "stamp_tlv.h"
#include "control_wire.h"
#include "auth.h"
#include "addr.h"
#include "dscp.h"
#include "acl.h"
#include "loop.h"
#include "net.h"
#include "flowlabel.h"
#include "phc.h"
#include "log.h"
#include "hist.h"
#include "stats.h"
#include "metrics.h"
#include "conformance.h"
#include "sender.h"
#include "reflector.h"
#include "workers.h"
#include "control_client.h"
#include "report.h"
#include "report_json.h"
#include "report_csv.h"
#include "run_report.h"
#include "plot_svg.h"
#include "sdnotify.h"
#include "check.h"
#include "prom.h"
#include "monitor_config.h"
#include "monitor.h"

#endif
