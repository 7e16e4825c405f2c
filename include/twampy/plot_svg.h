/* plot_svg: a run's packets as one self-contained SVG picture (--plot, twampy
 * plot): the delay of every packet over time per direction (round trip,
 * outbound, inbound) with the lost packets marked, the round-trip histogram
 * and a summary of the key figures. Pure: it writes to a FILE * and reads
 * only the records it is given; the SVG has no script, no style sheet, no
 * link and no external reference, so a browser shows it as it is. */
#ifndef TWAMPY_PLOT_SVG_H
#define TWAMPY_PLOT_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "sender.h"

/* The picture's layout in SVG user units (1 unit = 1 px at 100 %): tests that
 * look at a rendered picture rely on these. */
#define TW_PLOT_WIDTH 1200
#define TW_PLOT_HEIGHT 900
/* The delay-over-time panel's plot area (x to the right, y down). */
#define TW_PLOT_TS_X0 90
#define TW_PLOT_TS_X1 1170
#define TW_PLOT_TS_Y0 110
#define TW_PLOT_TS_Y1 480
/* The round-trip histogram's plot area. */
#define TW_PLOT_HIST_X0 90
#define TW_PLOT_HIST_X1 700
#define TW_PLOT_HIST_Y0 580
#define TW_PLOT_HIST_Y1 840
/* The summary box. */
#define TW_PLOT_SUM_X0 760
#define TW_PLOT_SUM_Y0 560

/* The series colours (sRGB). */
#define TW_PLOT_RTT_RGB "#1f77b4"  /* round trip: blue (also the histogram's bars) */
#define TW_PLOT_OUT_RGB "#ff7f0e"  /* outbound: orange */
#define TW_PLOT_IN_RGB "#2ca02c"   /* inbound: green */
#define TW_PLOT_LOST_RGB "#d62728" /* a lost packet: a red mark at its send time */

/* Lost-packet marks: a red triangle between these y's above the plot area at
 * the packet's send time, and a faint red line through the plot area. */
#define TW_PLOT_LOST_Y0 (TW_PLOT_TS_Y0 - 14)
#define TW_PLOT_LOST_Y1 (TW_PLOT_TS_Y0 - 2)

typedef struct tw_plot_info {
    const char *title; /* e.g. "TWAMP light to 192.0.2.1:20001"; NULL: none */
} tw_plot_info_t;

/* Draw n records (any order; a controller's sessions together) into f. Time
 * runs from the earliest send time t1; answered packets (ok, reordered,
 * duplicate) are drawn, lost ones marked, late ones (answered after the
 * timeout) marked in the summary only. Above ~2000 packets each series keeps
 * its lowest and highest delay per pixel column, so the size stays bounded
 * and no spike disappears. Returns 0, or -1 when f could not be written or
 * memory ran out (errno says which). */
int tw_plot_svg(FILE *f, const tw_packet_record_t *recs, size_t n, const tw_plot_info_t *info);

#endif
