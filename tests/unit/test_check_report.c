/* Unit tests for check_report: the table of `twampy check` (rows, counts,
 * the exit status), its text form (columns, wrapping, no trailing blanks)
 * and its JSON form (schema twampy-check/1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static tw_check_table_t tab;

static char out[16384];

static const char *printed(bool json)
{
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    if (json)
        tw_check_json(f, &tab, true);
    else
        tw_check_print(f, &tab);
    fclose(f);
    return out;
}

static void test_table(void **state)
{
    tw_check_table_init(&tab, "reflector", "127.0.0.1:20001", 2 * TW_NS_PER_SEC);
    snprintf(tab.title, sizeof tab.title, "twampy check: a title");
    tw_check_add(&tab, TW_CHECK_PASS, "reply", "RFC 5357 §4.2.1", "a reply", "41 octets");
    assert_int_equal(tw_check_exit_status(&tab), 1); /* nothing answered */
    tab.answered = 1;
    assert_int_equal(tw_check_exit_status(&tab), 0);
    tw_check_add(&tab, TW_CHECK_WARN, "a long one", "RFC 8972 §4",
                 "an expectation long enough to need more than one line of its column",
                 "and what was seen, %d words of it, also long enough to be wrapped", 14);
    assert_int_equal(tw_check_exit_status(&tab), 0);
    const char *s = printed(false);
    assert_non_null(strstr(s, "twampy check: a title\n"));
    assert_non_null(strstr(s, "reply                RFC 5357 §4.2.1   a reply"));
    assert_non_null(strstr(s, "2 tests: 1 PASS, 1 WARN, 0 FAIL, 0 SKIP. Result: PASS\n"));
    assert_null(strstr(s, " \n")); /* no trailing blanks */
    /* Every word of the wrapped texts is there. */
    assert_non_null(strstr(s, "expectation"));
    assert_non_null(strstr(s, "wrapped"));
    tw_check_add(&tab, TW_CHECK_FAIL, "bad", "RFC 4656 §4.1.2", "x", "y");
    assert_int_equal(tw_check_exit_status(&tab), 1);
    s = printed(true);
    assert_non_null(strstr(s, "\"schema\": \"twampy-check/1\""));
    assert_non_null(strstr(s, "{\"test\": \"bad\", \"clause\": \"RFC 4656 §4.1.2\", \"expected\": "
                              "\"x\", \"seen\": \"y\", \"result\": \"FAIL\"}"));
    assert_non_null(strstr(s, "\"summary\": {\"pass\": 1, \"warn\": 1, \"fail\": 1, \"skip\": 0}"));
    assert_non_null(strstr(s, "\"result\": \"FAIL\"\n}"));
    /* The table holds TW_CHECK_MAX_ROWS rows; more are dropped. */
    for (int i = 0; i < 2 * TW_CHECK_MAX_ROWS; i++)
        tw_check_add(&tab, TW_CHECK_PASS, "n", "c", "e", "s");
    assert_int_equal(tab.n, TW_CHECK_MAX_ROWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
