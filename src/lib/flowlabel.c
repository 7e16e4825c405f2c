#include "flowlabel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ntptime.h"

int tw_flowlabel_parse(const char *s, int *mode, uint32_t *label)
{
    *label = 0;
    if (!strcmp(s, "random")) {
        *mode = TW_FL_RANDOM;
        return 0;
    }
    if (!strcmp(s, "per-packet")) {
        *mode = TW_FL_PER_PACKET;
        return 0;
    }
    if (*s < '0' || *s > '9') /* no sign, no blank */
        return -1;
    char *end;
    errno = 0;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex && !s[2])
        return -1;
    unsigned long long v = strtoull(s, &end, hex ? 16 : 10);
    if (*end || errno || v > TW_FLOWLABEL_MAX)
        return -1;
    *mode = TW_FL_FIXED;
    *label = (uint32_t)v;
    return 0;
}

const char *tw_flowlabel_mode_name(int mode)
{
    switch (mode) {
    case TW_FL_FIXED:
        return "fixed";
    case TW_FL_RANDOM:
        return "random";
    case TW_FL_PER_PACKET:
        return "per-packet";
    case TW_FL_MIXED:
        return "mixed";
    default:
        return "off";
    }
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t random64(void)
{
    uint64_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
        return v;
    return mix64((uint64_t)tw_now() ^ ((uint64_t)tw_mono_now() << 17));
}

uint32_t tw_flowlabel_random(void)
{
    for (;;) {
        uint32_t l = (uint32_t)random64() & TW_FLOWLABEL_MAX;
        if (l)
            return l;
    }
}

uint64_t tw_flowlabel_key(void)
{
    return random64();
}

/* A permutation of 0..2^20-1: four Feistel rounds on two 10-bit halves. */
static uint32_t feistel20(uint64_t key, uint32_t x)
{
    uint32_t l = x >> 10, r = x & 0x3FF;
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t f = (uint32_t)mix64(key + ((uint64_t)i << 32) + r) & 0x3FF;
        uint32_t nl = r;
        r = l ^ f;
        l = nl;
    }
    return (l << 10) | r;
}

uint32_t tw_flowlabel_of_seq(uint64_t key, uint32_t seq)
{
    /* 1..0xFFFFF in, and out: cycle walking keeps a permutation of the
     * non-zero labels (only one value maps to 0; 0 maps elsewhere). */
    uint32_t y = feistel20(key, seq % TW_FLOWLABEL_MAX + 1);
    while (!y)
        y = feistel20(key, y);
    return y;
}
