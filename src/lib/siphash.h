/* siphash: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012), the keyed hash of the tables that remote parties fill. With a
 * secret random key, nobody outside the process can choose keys that collide.
 * A small implementation rather than a library call: OpenSSL's EVP_MAC SIPHASH
 * needs a context per hash and is 2-13 times slower for one short key per
 * packet (README, "Dependencies"). */
#ifndef TWAMPY_SIPHASH_H
#define TWAMPY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define TW_SIPHASH_KEY_LEN 16

/* SipHash-2-4 of in[0..len) under the 16-octet key, as the reference
 * implementation's 64-bit output read as a little-endian number. */
uint64_t tw_siphash24(const uint8_t key[TW_SIPHASH_KEY_LEN], const void *in, size_t len);

#endif
