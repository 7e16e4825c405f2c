/* counter: counters one thread writes and another reads. With --workers each
 * worker counts on its own thread and the metrics endpoint (on worker 0's
 * loop) sums them all while they count. Relaxed atomic loads and stores, no
 * read-modify-write: the writer is the only one, so an increment is a load
 * of its own value and a store, the same instructions as a plain `+=` on
 * x86-64 and arm64, and no data race in the C11 sense. A reader sees each
 * counter whole, never torn, and never a sum half made (see tw_srv_tally). */
#ifndef TWAMPY_COUNTER_H
#define TWAMPY_COUNTER_H

#define TW_CTR_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)
#define TW_CTR_INC(x) TW_CTR_ADD(x, 1)
#define TW_CTR_SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define TW_CTR_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

#endif
