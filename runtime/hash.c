/*
 * hash.c — the stable 64-bit hash that partitions keys.
 *
 * A key's partition is hash % partitions, so the hash must give the same
 * value on every machine, run and build: checkpoints and a later
 * multi-machine runtime depend on it. Changing any constant or step here is
 * a checkpoint-format change; tests/unit/check_rt_arena_hash.c pins outputs.
 *
 * Design (written from the public-domain ideas of wyhash by Wang Yi, and of
 * the splitmix64/Stafford "variant 13" finalizer):
 *   - mum(a, b): the 128-bit product of a and b, folded by XOR of its halves.
 *     One multiply mixes every input bit into the middle output bits.
 *   - bytes: the seed is premixed; inputs of 0..16 bytes are read as two
 *     overlapping 64-bit words (short inputs as 3 spread bytes), longer ones
 *     are consumed 16 bytes per mum round and finished with their last 16
 *     bytes; the length goes into the final round, so "a" and "a\0" differ.
 *     Words are read little-endian on every host.
 *   - i64: a bijective finalizer of x XOR a multiple of the seed.
 *   - combine: h1 * odd + h2 + a constant (so combine(0, 0) is not 0), then
 *     the finalizer: bijective in each argument and not symmetric, so
 *     (a, b) and (b, a) differ.
 * An independent Python model of these steps reproduced the pinned values.
 */
#include "ds_rt.h"

#include <string.h>

#define P0 UINT64_C(0xa0761d6478bd642f)
#define P1 UINT64_C(0xe7037ed1a0b428db)
#define P2 UINT64_C(0x8ebc6af09c88c6e3)
#define P3 UINT64_C(0x9e3779b97f4a7c15)

static inline void mum128(uint64_t *a, uint64_t *b) {
#ifdef __SIZEOF_INT128__
  __uint128_t r = (__uint128_t)*a * *b;
  *a = (uint64_t)r;
  *b = (uint64_t)(r >> 64);
#else
  uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
  uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
  uint64_t t = rl + (rm0 << 32), c = t < rl;
  uint64_t lo = t + (rm1 << 32);
  c += lo < t;
  uint64_t hi = rh + (rm0 >> 32) + (rm1 >> 32) + c;
  *a = lo;
  *b = hi;
#endif
}

static inline uint64_t mum(uint64_t a, uint64_t b) {
  mum128(&a, &b);
  return a ^ b;
}

static inline uint64_t read64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint64_t read32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

/* 1..3 bytes: the first, middle and last byte. */
static inline uint64_t read_small(const unsigned char *p, size_t n) {
  return ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
}

uint64_t ds_hash_bytes(const void *ptr, int64_t len, uint64_t seed) {
  const unsigned char *p = ptr;
  size_t n = len > 0 ? (size_t)len : 0;
  uint64_t a, b;
  seed ^= mum(seed ^ P0, P1);
  if (n <= 16) {
    if (n >= 4) {
      size_t off = (n >> 3) << 2; /* 0 for 4..7 bytes, 4 for 8..16 */
      a = (read32(p) << 32) | read32(p + off);
      b = (read32(p + n - 4) << 32) | read32(p + n - 4 - off);
    } else if (n > 0) {
      a = read_small(p, n);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = n;
    while (i > 16) {
      seed = mum(read64(p) ^ P1, read64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = read64(p + i - 16);
    b = read64(p + i - 8);
  }
  a ^= P1;
  b ^= seed;
  mum128(&a, &b);
  return mum(a ^ P0 ^ (uint64_t)n, b ^ P1);
}

/* Stafford's mix13 (the splitmix64 finalizer): a bijection on 64 bits. */
static inline uint64_t fmix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

uint64_t ds_hash_i64(int64_t x, uint64_t seed) {
  return fmix((uint64_t)x ^ (seed * P3 + P2));
}

uint64_t ds_hash_combine(uint64_t h1, uint64_t h2) {
  return fmix(h1 * P3 + h2 + P2);
}
