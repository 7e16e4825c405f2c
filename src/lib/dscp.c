/* dscp: DSCP names and the DSCP/TOS table, as the Python twampy. */
#include "dscp.h"

#include <stdbool.h>
#include <stddef.h>

/* twampy's dscpmap, indexed by value. */
static const char *const dscp_names[64] = {
    "be",  "cp1",  "cp2",  "cp3",  "cp4",  "cp5",  "cp6",  "cp7",  /* 0..7 */
    "cs1", "cp9",  "af11", "cp11", "af12", "cp13", "af13", "cp15", /* 8..15 */
    "cs2", "cp17", "af21", "cp19", "af22", "cp21", "af23", "cp23", /* 16..23 */
    "cs3", "cp25", "af31", "cp27", "af32", "cp29", "af33", "cp31", /* 24..31 */
    "cs4", "cp33", "af41", "cp35", "af42", "cp37", "af43", "cp39", /* 32..39 */
    "cs5", "cp41", "cp42", "cp43", "cp44", "cp45", "ef",   "cp47", /* 40..47 */
    "nc1", "cp49", "cp50", "cp51", "cp52", "cp53", "cp54", "cp55", /* 48..55 */
    "nc2", "cp57", "cp58", "cp59", "cp60", "cp61", "cp62", "cp63", /* 56..63 */
};

/* Standard class-selector names that twampy does not list. */
static const struct {
    const char *name;
    int value;
} dscp_aliases[] = {
    {"cs0", 0},
    {"cs6", 48},
    {"cs7", 56},
};

/* ASCII case-insensitive equality, independent of the locale. */
static bool name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char ca = *a, cb = *b;

        if (ca >= 'A' && ca <= 'Z')
            ca = (char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
        if (ca == '\0')
            return true;
    }
}

int tw_dscp_parse(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return -1;

    if (s[0] >= '0' && s[0] <= '9') {
        int v = 0;

        for (const char *p = s; *p != '\0'; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v = v * 10 + (*p - '0');
            if (v > 63)
                return -1;
        }
        return v;
    }

    for (int i = 0; i < 64; i++)
        if (name_eq(s, dscp_names[i]))
            return i;
    for (size_t i = 0; i < sizeof(dscp_aliases) / sizeof(dscp_aliases[0]); i++)
        if (name_eq(s, dscp_aliases[i].name))
            return dscp_aliases[i].value;
    return -1;
}

const char *tw_dscp_name(int dscp)
{
    if (dscp < 0 || dscp > 63)
        return "?";
    return dscp_names[dscp];
}

void tw_dscp_table_print(FILE *f)
{
    fputs("\n"
          "============================================================\n"
          "DSCP Mapping\n"
          "============================================================\n"
          "DSCP Name      DSCP Value     TOS (bin)      TOS (hex)\n"
          "------------------------------------------------------------\n",
          f);
    for (int d = 0; d < 64; d++) {
        unsigned tos = (unsigned)d << 2;
        char bits[10];

        for (int i = 0; i < 8; i++)
            bits[i < 4 ? i : i + 1] = (tos & (0x80u >> i)) ? '1' : '0';
        bits[4] = ' ';
        bits[9] = '\0';
        fprintf(f, "%-15s%-15d%-15s%02X\n", dscp_names[d], d, bits, tos);
    }
    fputs("============================================================\n", f);
}
