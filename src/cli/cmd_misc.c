/* twampy dscptable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dscp.h"
#include "opts.h"

int cmd_dscptable(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: twampy dscptable\n\nPrints the DSCP names, values and TOS octets.");
            return 0;
        }
        /* The Python twampy takes its debug options here and ignores them. */
        if (strcmp(argv[i], "-q") && strcmp(argv[i], "-v") && strcmp(argv[i], "-d") &&
            strcmp(argv[i], "--quiet") && strcmp(argv[i], "--verbose") &&
            strcmp(argv[i], "--debug"))
            cli_usage_error("dscptable", "unexpected argument '%s'", argv[i]);
    }
    tw_dscp_table_print(stdout);
    return 0;
}
