#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "siphash.h"

/* The reference vectors of SipHash-2-4 (the SipHash reference implementation's
 * vectors.h, 64-bit output read little-endian): key 00 01 .. 0f, message
 * 00 01 .. (len - 1). len 15 is the example of the paper's appendix A. */
static const struct {
    size_t len;
    uint64_t out;
} vectors[] = {
    {0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {2, 0x0d6c8009d9a94f5aull},
    {3, 0x85676696d7fb7e2dull},  {4, 0xcf2794e0277187b7ull},  {5, 0x18765564cd99a68dull},
    {6, 0xcbc9466e58fee3ceull},  {7, 0xab0200f58b01d137ull},  {8, 0x93f5f5799a932462ull},
    {9, 0x9e0082df0ba9e4b0ull},  {10, 0x7a5dbbc594ddb9f3ull}, {11, 0xf4b32f46226bada7ull},
    {12, 0x751e8fbc860ee5fbull}, {13, 0x14ea5627c0843d90ull}, {14, 0xf723ca908e7af2eeull},
    {15, 0xa129ca6149be45e5ull}, {16, 0x3f2acc7f57c29bdbull}, {17, 0x699ae9f52cbe4794ull},
    {63, 0x958a324ceb064572ull},
};

static void test_reference_vectors(void **state)
{
    (void)state;
    uint8_t key[TW_SIPHASH_KEY_LEN], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint64_t h = tw_siphash24(key, msg, vectors[i].len);
        if (h != vectors[i].out)
            fail_msg("length %zu: 0x%016llx, expected 0x%016llx", vectors[i].len,
                     (unsigned long long)h, (unsigned long long)vectors[i].out);
    }
}

/* The key matters: another key, another hash (for the same input). */
static void test_key_changes_hash(void **state)
{
    (void)state;
    uint8_t k1[TW_SIPHASH_KEY_LEN] = {0}, k2[TW_SIPHASH_KEY_LEN] = {0};
    k2[15] = 1;
    const char msg[] = "twampy";
    assert_true(tw_siphash24(k1, msg, 6) != tw_siphash24(k2, msg, 6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_key_changes_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
