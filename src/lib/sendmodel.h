/* sendmodel: how long the kernel takes to send a chunk of m datagrams in one
 * sendmmsg, fixed + m * per (ns), so that a reflector can write into each
 * reply the time it will actually leave (t3) rather than the time the batch
 * was stamped. Fitted on the smoothed durations and sizes of recent small
 * (<= TW_SEND_SMALL_CHUNK) and large sends: with one size alone the fixed cost
 * and the cost per datagram cannot be told apart. Integer ns, no clock reads
 * of its own (the caller passes the durations and its monotonic time). */
#ifndef TWAMPY_SENDMODEL_H
#define TWAMPY_SENDMODEL_H

#include <stdbool.h>
#include <stdint.h>

#define TW_SEND_SMALL_CHUNK 4
/* Sends of a size older than this are forgotten (the load changed). */
#define TW_SEND_MODEL_AGE_NS 1000000000LL

typedef struct tw_send_model {
    int64_t dur[2];  /* smoothed duration of a send, ns: [0] small, [1] large */
    int64_t size[2]; /* smoothed datagrams per send, in 1/16 */
    int64_t at[2];   /* the caller's monotonic time of the last one, 0 never */
} tw_send_model_t;

/* A running estimate moved 1/8 of the way to sample. A sample above twice the
 * estimate (a preemption, an interrupt, a clock step) counts as twice the
 * estimate: one stall does not skew many batches, a real change gets through
 * in a few rounds. */
void tw_smooth(int64_t *est, int64_t sample);

/* One send of m >= 1 datagrams took dur ns, at monotonic time now. */
void tw_send_model_add(tw_send_model_t *sm, int m, int64_t dur, int64_t now);

/* The fixed cost of a send and the cost per datagram in it, in ns, at now;
 * both 0 unless sends of both sizes were seen in the last
 * TW_SEND_MODEL_AGE_NS and their sizes differ by 2 or more. */
void tw_send_model_get(const tw_send_model_t *sm, int64_t now, int64_t *fixed, int64_t *per);

#endif
