/* fuzz: what every fuzz target shares. The libFuzzer entry points, a check
 * that aborts (so that both libFuzzer and the standalone replay see a crash),
 * the split of an input into writes of chosen sizes, and a counter of open file
 * descriptors to catch fd leaks. */
#ifndef TWAMPY_FUZZ_H
#define TWAMPY_FUZZ_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Defined by every target; called by libFuzzer or by standalone.c. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle: a property that must hold for every input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* How a stream is cut into writes, from one input octet s: 0 is one write of
 * everything; otherwise chunks of 1..max octets with max = ((s & 31) + 1) << (s
 * >> 5) (1..4096), the sizes drawn from a generator seeded with s. */
typedef struct fuzz_split {
    uint32_t state;
    size_t max;
} fuzz_split_t;

static inline void fuzz_split_init(fuzz_split_t *sp, uint8_t s)
{
    sp->state = s ? (uint32_t)s * 2654435761u : 0;
    sp->max = s ? (size_t)((s & 31u) + 1) << (s >> 5) : 0;
}

/* The size of the next write, 1..left (left > 0). */
static inline size_t fuzz_split_next(fuzz_split_t *sp, size_t left)
{
    if (sp->max == 0)
        return left;
    /* xorshift32 */
    uint32_t x = sp->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sp->state = x;
    size_t n = 1 + (size_t)x % sp->max;
    return n < left ? n : left;
}

/* The number of open file descriptors of this process, or -1. Pipes are not
 * counted: libFuzzer opens its own while it checks an input for memory leaks
 * (twampy opens no pipes). */
static inline int fuzz_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k > 0) {
            target[k] = 0;
            if (!strncmp(target, "pipe:", 5))
                continue;
        }
        n++;
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Call after each input has been cleaned up: aborts when more descriptors are
 * open than after the first input. Checked after every input (about 15 us), so
 * that the input libFuzzer saves is the one that leaked. */
static inline void fuzz_check_fds(void)
{
    static int baseline = -1;
    int n = fuzz_count_fds();
    if (n < 0)
        return;
    if (baseline < 0 || n < baseline)
        baseline = n;
    if (n > baseline) {
        fprintf(stderr, "fuzz: file descriptor leak: %d open, %d after the first input\n", n,
                baseline);
        abort();
    }
}

#endif
