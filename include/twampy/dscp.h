/* dscp: DSCP names (as the Python twampy: be, cs1..cs5, afXY, ef, nc1, nc2, cpNN)
 * and the DSCP/TOS table. A DSCP occupies the upper six bits of the TOS / Traffic
 * Class octet: tos = dscp << 2. */
#ifndef TWAMPY_DSCP_H
#define TWAMPY_DSCP_H

#include <stdio.h>

/* A name (case-insensitive) or a decimal number 0..63 -> 0..63; -1 when invalid. */
int tw_dscp_parse(const char *s);
/* The canonical name of a DSCP value 0..63 (e.g. "ef", "af41", "cp1"). */
const char *tw_dscp_name(int dscp);
/* Print twampy's DSCP Mapping table, byte for byte as the Python twampy does. */
void tw_dscp_table_print(FILE *f);

#endif
