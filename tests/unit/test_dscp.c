/* Unit tests for dscp: names, parsing and twampy's DSCP Mapping table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dscp.h"

/* twampy's names by value, written out. */
static const char *const expected_names[64] = {
    "be",   "cp1",  "cp2",  "cp3",  "cp4",  "cp5",  "cp6",  "cp7",  "cs1",  "cp9",  "af11",
    "cp11", "af12", "cp13", "af13", "cp15", "cs2",  "cp17", "af21", "cp19", "af22", "cp21",
    "af23", "cp23", "cs3",  "cp25", "af31", "cp27", "af32", "cp29", "af33", "cp31", "cs4",
    "cp33", "af41", "cp35", "af42", "cp37", "af43", "cp39", "cs5",  "cp41", "cp42", "cp43",
    "cp44", "cp45", "ef",   "cp47", "nc1",  "cp49", "cp50", "cp51", "cp52", "cp53", "cp54",
    "cp55", "nc2",  "cp57", "cp58", "cp59", "cp60", "cp61", "cp62", "cp63",
};

/* The Python twampy's dscpTable() output, line by line (without newlines). */
static const char *const expected_table[] = {
    "",
    "============================================================",
    "DSCP Mapping",
    "============================================================",
    "DSCP Name      DSCP Value     TOS (bin)      TOS (hex)",
    "------------------------------------------------------------",
    "be             0              0000 0000      00",
    "cp1            1              0000 0100      04",
    "cp2            2              0000 1000      08",
    "cp3            3              0000 1100      0C",
    "cp4            4              0001 0000      10",
    "cp5            5              0001 0100      14",
    "cp6            6              0001 1000      18",
    "cp7            7              0001 1100      1C",
    "cs1            8              0010 0000      20",
    "cp9            9              0010 0100      24",
    "af11           10             0010 1000      28",
    "cp11           11             0010 1100      2C",
    "af12           12             0011 0000      30",
    "cp13           13             0011 0100      34",
    "af13           14             0011 1000      38",
    "cp15           15             0011 1100      3C",
    "cs2            16             0100 0000      40",
    "cp17           17             0100 0100      44",
    "af21           18             0100 1000      48",
    "cp19           19             0100 1100      4C",
    "af22           20             0101 0000      50",
    "cp21           21             0101 0100      54",
    "af23           22             0101 1000      58",
    "cp23           23             0101 1100      5C",
    "cs3            24             0110 0000      60",
    "cp25           25             0110 0100      64",
    "af31           26             0110 1000      68",
    "cp27           27             0110 1100      6C",
    "af32           28             0111 0000      70",
    "cp29           29             0111 0100      74",
    "af33           30             0111 1000      78",
    "cp31           31             0111 1100      7C",
    "cs4            32             1000 0000      80",
    "cp33           33             1000 0100      84",
    "af41           34             1000 1000      88",
    "cp35           35             1000 1100      8C",
    "af42           36             1001 0000      90",
    "cp37           37             1001 0100      94",
    "af43           38             1001 1000      98",
    "cp39           39             1001 1100      9C",
    "cs5            40             1010 0000      A0",
    "cp41           41             1010 0100      A4",
    "cp42           42             1010 1000      A8",
    "cp43           43             1010 1100      AC",
    "cp44           44             1011 0000      B0",
    "cp45           45             1011 0100      B4",
    "ef             46             1011 1000      B8",
    "cp47           47             1011 1100      BC",
    "nc1            48             1100 0000      C0",
    "cp49           49             1100 0100      C4",
    "cp50           50             1100 1000      C8",
    "cp51           51             1100 1100      CC",
    "cp52           52             1101 0000      D0",
    "cp53           53             1101 0100      D4",
    "cp54           54             1101 1000      D8",
    "cp55           55             1101 1100      DC",
    "nc2            56             1110 0000      E0",
    "cp57           57             1110 0100      E4",
    "cp58           58             1110 1000      E8",
    "cp59           59             1110 1100      EC",
    "cp60           60             1111 0000      F0",
    "cp61           61             1111 0100      F4",
    "cp62           62             1111 1000      F8",
    "cp63           63             1111 1100      FC",
    "============================================================",
};

static void test_names(void **state)
{
    for (int d = 0; d < 64; d++)
        assert_string_equal(tw_dscp_name(d), expected_names[d]);
    assert_string_equal(tw_dscp_name(46), "ef");
    assert_string_equal(tw_dscp_name(34), "af41");
    assert_string_equal(tw_dscp_name(1), "cp1");
    assert_string_equal(tw_dscp_name(0), "be");
    assert_string_equal(tw_dscp_name(48), "nc1");
    assert_string_equal(tw_dscp_name(56), "nc2");
}

static void test_name_out_of_range(void **state)
{
    assert_string_equal(tw_dscp_name(-1), "?");
    assert_string_equal(tw_dscp_name(64), "?");
    assert_string_equal(tw_dscp_name(255), "?");
}

static void test_parse_all_names(void **state)
{
    for (int d = 0; d < 64; d++) {
        char upper[8];
        size_t i;

        assert_int_equal(tw_dscp_parse(expected_names[d]), d);
        for (i = 0; expected_names[d][i] != '\0'; i++)
            upper[i] = (char)(expected_names[d][i] >= 'a' && expected_names[d][i] <= 'z'
                                  ? expected_names[d][i] - 'a' + 'A'
                                  : expected_names[d][i]);
        upper[i] = '\0';
        assert_int_equal(tw_dscp_parse(upper), d);
    }
    assert_int_equal(tw_dscp_parse("EF"), 46);
    assert_int_equal(tw_dscp_parse("Af41"), 34);
    assert_int_equal(tw_dscp_parse("bE"), 0);
    assert_int_equal(tw_dscp_parse("Cp63"), 63);
}

static void test_parse_all_numbers(void **state)
{
    for (int d = 0; d < 64; d++) {
        char num[8];

        snprintf(num, sizeof(num), "%d", d);
        assert_int_equal(tw_dscp_parse(num), d);
    }
    assert_int_equal(tw_dscp_parse("046"), 46);
    assert_int_equal(tw_dscp_parse("00"), 0);
}

static void test_parse_aliases(void **state)
{
    assert_int_equal(tw_dscp_parse("cs0"), 0);
    assert_int_equal(tw_dscp_parse("cs6"), 48);
    assert_int_equal(tw_dscp_parse("cs7"), 56);
    assert_int_equal(tw_dscp_parse("CS0"), 0);
    assert_int_equal(tw_dscp_parse("Cs6"), 48);
    assert_int_equal(tw_dscp_parse("CS7"), 56);
    /* the aliases do not change the canonical names */
    assert_string_equal(tw_dscp_name(0), "be");
    assert_string_equal(tw_dscp_name(48), "nc1");
    assert_string_equal(tw_dscp_name(56), "nc2");
}

static void test_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "64",   "-1",   "xyz",  "",     "1x",   "cp64", "cp0",
        "cp8",  "cp10", "cp46", "cp48", "cp56", "cp",   "cs8",
        "cs",   "af14", "af44", "af51", "ef1",  "nc3",  " 1",
        "1 ",   "ef ",  " ef",  "+1",   "0x10", "100",  "99999999999999999999",
        "cp01", "be0",  "b",    "e",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tw_dscp_parse(bad[i]) != -1)
            fail_msg("'%s' parsed as %d", bad[i], tw_dscp_parse(bad[i]));
    assert_int_equal(tw_dscp_parse(NULL), -1);
}

static void test_table(void **state)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    size_t nlines = sizeof(expected_table) / sizeof(expected_table[0]);
    char *line;
    size_t i = 0;

    assert_non_null(f);
    tw_dscp_table_print(f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);

    assert_int_equal(nlines, 6 + 64 + 1);
    /* every line ends with a newline, the last one too */
    assert_true(size > 0);
    assert_int_equal(text[size - 1], '\n');

    line = text;
    while (*line != '\0') {
        char *nl = strchr(line, '\n');

        assert_non_null(nl);
        *nl = '\0';
        if (i >= nlines)
            fail_msg("extra line %zu: '%s'", i + 1, line);
        if (strcmp(line, expected_table[i]) != 0)
            fail_msg("line %zu is '%s', expected '%s'", i + 1, line, expected_table[i]);
        i++;
        line = nl + 1;
    }
    assert_int_equal(i, nlines);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),           cmocka_unit_test(test_name_out_of_range),
        cmocka_unit_test(test_parse_all_names), cmocka_unit_test(test_parse_all_numbers),
        cmocka_unit_test(test_parse_aliases),   cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
