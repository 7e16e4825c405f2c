/* flowlabel: --flow-label values (decimal, hex, random, per-packet; out of
 * range and malformed refused), the mode names, random labels (never 0) and
 * the per-packet labels: never 0, all distinct over 0xFFFFF consecutive
 * sequence numbers, another key another sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flowlabel.h"

static void test_parse(void **st)
{
    (void)st;
    int mode = -1;
    uint32_t label = 7;
    assert_int_equal(tw_flowlabel_parse("0x12345", &mode, &label), 0);
    assert_int_equal(mode, TW_FL_FIXED);
    assert_int_equal(label, 0x12345);
    assert_int_equal(tw_flowlabel_parse("0XfFfFf", &mode, &label), 0);
    assert_int_equal(label, 0xFFFFF);
    assert_int_equal(tw_flowlabel_parse("1048575", &mode, &label), 0);
    assert_int_equal(label, 1048575);
    assert_int_equal(tw_flowlabel_parse("0", &mode, &label), 0);
    assert_int_equal(mode, TW_FL_FIXED);
    assert_int_equal(label, 0);
    assert_int_equal(tw_flowlabel_parse("random", &mode, &label), 0);
    assert_int_equal(mode, TW_FL_RANDOM);
    assert_int_equal(label, 0);
    assert_int_equal(tw_flowlabel_parse("per-packet", &mode, &label), 0);
    assert_int_equal(mode, TW_FL_PER_PACKET);
    /* Out of range, signs, blanks, garbage, empty. */
    static const char *const bad[] = {
        "1048576", "0x100000", "-1", "+5",     " 5",        "5 ",
        "0x",      "12ab",     "",   "Random", "perpacket", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tw_flowlabel_parse(bad[i], &mode, &label), -1);
}

static void test_mode_names(void **st)
{
    (void)st;
    assert_string_equal(tw_flowlabel_mode_name(TW_FL_NONE), "off");
    assert_string_equal(tw_flowlabel_mode_name(TW_FL_FIXED), "fixed");
    assert_string_equal(tw_flowlabel_mode_name(TW_FL_RANDOM), "random");
    assert_string_equal(tw_flowlabel_mode_name(TW_FL_PER_PACKET), "per-packet");
    assert_string_equal(tw_flowlabel_mode_name(TW_FL_MIXED), "mixed");
    assert_string_equal(tw_flowlabel_mode_name(99), "off");
}

static void test_random(void **st)
{
    (void)st;
    uint32_t first = tw_flowlabel_random();
    bool differs = false;
    for (int i = 0; i < 1000; i++) {
        uint32_t l = tw_flowlabel_random();
        assert_true(l != 0 && l <= TW_FLOWLABEL_MAX);
        differs = differs || l != first;
    }
    assert_true(differs);
}

/* Every one of 0xFFFFF consecutive sequence numbers gets its own non-zero
 * label (not across the wrap of the 32-bit sequence number: 2^32 is not a
 * multiple of 0xFFFFF). */
static void test_per_packet_distinct(void **st)
{
    (void)st;
    uint8_t *seen = calloc((TW_FLOWLABEL_MAX + 1) / 8, 1);
    assert_non_null(seen);
    uint64_t key = 0x0123456789abcdefull;
    uint32_t start = 0x7FFFFFF0u;
    for (uint32_t i = 0; i < TW_FLOWLABEL_MAX; i++) {
        uint32_t l = tw_flowlabel_of_seq(key, start + i);
        assert_true(l != 0 && l <= TW_FLOWLABEL_MAX);
        assert_false(seen[l / 8] & (1u << (l % 8)));
        seen[l / 8] |= (uint8_t)(1u << (l % 8));
    }
    free(seen);
    /* The same key, the same label; another key, other labels. */
    assert_int_equal(tw_flowlabel_of_seq(key, 5), tw_flowlabel_of_seq(key, 5));
    int same = 0;
    for (uint32_t s = 0; s < 64; s++)
        same += tw_flowlabel_of_seq(key, s) == tw_flowlabel_of_seq(key + 1, s);
    assert_true(same < 4);
    /* Consecutive packets do not get consecutive labels (ECMP hashing). */
    int steps = 0;
    for (uint32_t s = 0; s < 64; s++)
        steps += tw_flowlabel_of_seq(key, s + 1) == tw_flowlabel_of_seq(key, s) + 1;
    assert_true(steps < 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_per_packet_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
