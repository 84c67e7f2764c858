/*
 * check_rt_arena_hash.c — the batch arena (runtime/arena.c, with the string
 * cache of intern.c) and the stable hash (runtime/hash.c).
 *
 * Arena: alignment, accounting, reuse without calling the allocator after
 * the first batch (counted through the allocation hook), release of chunks
 * a batch no longer reaches, huge requests, and injected failures that must
 * give NULL and leak nothing. Hash: known answers pinned forever (they were
 * cross-checked against an independent Python model of the algorithm), and
 * basic distribution checks. Intern (runtime/intern.c): a key store's
 * equal strings share one copy, the cache empties with the arena, and it
 * degrades to plain copies without memory.
 */
#include "ds_rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A counting allocator that fails from the `fail_at`-th allocation on
 * (0: never) and tracks the bytes outstanding. */
typedef struct {
  int allocs, frees, fail_at;
  size_t outstanding;
} Counter;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  Counter *c = ud;
  if (nsize == 0) {
    if (ptr) {
      c->frees++;
      c->outstanding -= osize;
    }
    free(ptr);
    return NULL;
  }
  if (c->fail_at && c->allocs + 1 >= c->fail_at)
    return NULL;
  void *p = malloc(nsize);
  if (p) {
    c->allocs++;
    c->outstanding += nsize;
  }
  return p;
}

/* One batch's worth of mixed allocations; returns false if one failed. */
static bool run_batch(ds_arena *a, int records) {
  for (int i = 0; i < records; i++) {
    size_t size = (size_t)(i % 97) * 3 + 1;
    char *p = ds_arena_alloc(a, size);
    if (!p)
      return false;
    memset(p, 0xab, size);
  }
  return true;
}

START_TEST(arena_alignment_and_accounting) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  ck_assert_uint_eq(ds_arena_bytes(&a), 0);
  ck_assert_uint_eq(ds_arena_reserved(&a), 0);
  size_t total = 0;
  void *prev = NULL;
  for (size_t size = 0; size < 300; size++) {
    char *p = ds_arena_alloc(&a, size);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    ck_assert(p != prev); /* size 0 too gets a distinct block */
    memset(p, 1, size);
    total += size ? (size + 15) / 16 * 16 : 16;
    prev = p;
  }
  ck_assert_uint_eq(ds_arena_bytes(&a), total);
  ck_assert_uint_ge(ds_arena_reserved(&a), total);
  ds_arena_reset(&a);
  ck_assert_uint_eq(ds_arena_bytes(&a), 0);
  ck_assert_uint_gt(ds_arena_reserved(&a), 0);
  ds_arena_destroy(&a);
  ck_assert_uint_eq(ds_arena_reserved(&a), 0);
}
END_TEST

START_TEST(arena_no_malloc_in_steady_state) {
  Counter c = {0};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  ck_assert_int_eq(c.allocs, 0); /* init allocates nothing */
  ck_assert(run_batch(&a, 50000)); /* several MB: several chunks */
  int first = c.allocs;
  ck_assert_int_gt(first, 1);
  size_t reserved = ds_arena_reserved(&a);
  for (int batch = 0; batch < 20; batch++) {
    ds_arena_reset(&a);
    ck_assert(run_batch(&a, 50000 - batch * 100)); /* the same or a bit less */
  }
  ck_assert_int_eq(c.allocs, first);
  ck_assert_int_eq(c.frees, 0);
  ck_assert_uint_eq(ds_arena_reserved(&a), reserved);
  ds_arena_destroy(&a);
  ck_assert_int_eq(c.frees, c.allocs);
  ck_assert_uint_eq(c.outstanding, 0);
}
END_TEST

START_TEST(arena_spike_released) {
  Counter c = {0};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  ck_assert(run_batch(&a, 1000));
  ds_arena_reset(&a);
  ck_assert(run_batch(&a, 300000)); /* one huge batch */
  size_t spike = ds_arena_reserved(&a);
  ds_arena_reset(&a);                /* still kept: the spike batch reached them */
  ck_assert(run_batch(&a, 1000));
  ds_arena_reset(&a);                /* the small batch did not: released */
  ck_assert_uint_lt(ds_arena_reserved(&a), spike);
  ck_assert_uint_le(ds_arena_reserved(&a), 1u << 20);
  ck_assert_uint_eq(c.outstanding, ds_arena_reserved(&a));
  ds_arena_destroy(&a);
  ck_assert_uint_eq(c.outstanding, 0);
}
END_TEST

START_TEST(arena_large_requests) {
  Counter c = {0};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  char *small = ds_arena_alloc(&a, 10);
  char *big = ds_arena_alloc(&a, 10u << 20);
  ck_assert_ptr_nonnull(small);
  ck_assert_ptr_nonnull(big);
  ck_assert_uint_eq((uintptr_t)big % 16, 0);
  memset(big, 7, 10u << 20);
  char *after = ds_arena_alloc(&a, 10);
  ck_assert_ptr_nonnull(after);
  ck_assert_ptr_null(ds_arena_alloc(&a, SIZE_MAX));
  ck_assert_ptr_null(ds_arena_alloc(&a, SIZE_MAX - 8));
  ck_assert_ptr_null(ds_arena_alloc(&a, SIZE_MAX / 2));
  /* The big chunk is reused by the next batch. */
  ds_arena_reset(&a);
  int allocs = c.allocs;
  ck_assert_ptr_nonnull(ds_arena_alloc(&a, 10));
  ck_assert_ptr_nonnull(ds_arena_alloc(&a, 10u << 20));
  ck_assert_int_eq(c.allocs, allocs);
  ds_arena_destroy(&a);
  ck_assert_uint_eq(c.outstanding, 0);
}
END_TEST

START_TEST(arena_failure_injection) {
  for (int fail_at = 1; fail_at <= 4; fail_at++) {
    Counter c = {.fail_at = fail_at};
    ds_arena a;
    ds_arena_init(&a, counting_alloc, &c);
    ck_assert(!run_batch(&a, 200000)); /* needs more than 3 chunks */
    ck_assert_int_eq(c.allocs, fail_at - 1);
    /* The arena stays usable: once memory is back, allocation works again. */
    c.fail_at = 0;
    ck_assert(run_batch(&a, 200000));
    ds_arena_reset(&a);
    ck_assert(run_batch(&a, 200000));
    ds_arena_destroy(&a);
    ck_assert_int_eq(c.frees, c.allocs);
    ck_assert_uint_eq(c.outstanding, 0);
  }
  /* A builtin reports the failure; the arena is intact afterwards. */
  Counter c = {.fail_at = 1};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  ds_str out;
  ds_list l;
  ck_assert(!ds_concat(&a, (ds_str){"a", 1}, (ds_str){"b", 1}, &out));
  ck_assert(!ds_split(&a, (ds_str){"a,b", 3}, (ds_str){",", 1}, &l));
  c.fail_at = 0;
  ck_assert(ds_concat(&a, (ds_str){"a", 1}, (ds_str){"b", 1}, &out));
  ck_assert(out.len == 2 && memcmp(out.ptr, "ab", 2) == 0);
  ds_arena_destroy(&a);
  ck_assert_uint_eq(c.outstanding, 0);
}
END_TEST

START_TEST(arena_destroy_and_reinit) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  ds_arena_destroy(&a); /* never used */
  ck_assert_ptr_nonnull(ds_arena_alloc(&a, 100));
  ds_arena_reset(&a);
  ds_arena_reset(&a);
  ds_arena_destroy(&a);
  ds_arena_destroy(&a);
}
END_TEST

/* ---- intern (runtime/intern.c): a key store's shared string copies ---- */

START_TEST(intern_shares_equal_strings) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  ds_arena_intern(&a);
  char x[] = "/section/topic/item-1.html", y[] = "/section/topic/item-1.html", z[] = "/section/topic/item-2.html";
  int64_t n = (int64_t)strlen(x);
  char *p = ds_intern_bytes(&a, x, n);
  ck_assert_ptr_ne(p, x);
  ck_assert_mem_eq(p, x, (size_t)n);
  ck_assert_ptr_eq(ds_intern_bytes(&a, y, n), p);
  char *q = ds_intern_bytes(&a, z, n);
  ck_assert_ptr_ne(q, p);
  ck_assert_mem_eq(q, z, (size_t)n);
  ck_assert_ptr_ne(ds_intern_bytes(&a, x, n - 1), p); /* a prefix is another string */
  ds_arena_destroy(&a);
  ck_assert_ptr_null(a.intern);
}
END_TEST

/* After a reset (or a release) the cache must not hand out the old copies:
 * their memory is reused by the next allocations. */
START_TEST(intern_emptied_with_the_arena) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  ds_arena_intern(&a);
  const char *s = "a key that repeats";
  int64_t n = (int64_t)strlen(s);
  ds_intern_bytes(&a, s, n);
  ds_arena_reset(&a);
  ck_assert_uint_eq(ds_arena_bytes(&a), 0);
  char *p = ds_intern_bytes(&a, s, n);
  ck_assert_uint_gt(ds_arena_bytes(&a), 0); /* copied anew */
  ds_arena_mark m = ds_arena_get_mark(&a);
  char *q = ds_intern_bytes(&a, "another one", 11);
  ds_arena_release(&a, m);
  size_t before = ds_arena_bytes(&a);
  char *r = ds_intern_bytes(&a, "another one", 11);
  ck_assert_uint_gt(ds_arena_bytes(&a), before);
  ck_assert_ptr_eq(r, q); /* the same memory, copied again */
  ck_assert_mem_eq(p, s, (size_t)n);
  ds_arena_destroy(&a);
}
END_TEST

/* Many strings: every result holds its bytes, most repeats are shared, the
 * cache grows, and everything is given back on destroy. */
START_TEST(intern_many_strings) {
  Counter c = {0};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  ds_arena_intern(&a);
  enum { N = 20000 };
  static char *last[N];
  char buf[64];
  int shared = 0;
  for (int round = 0; round < 4; round++) {
    shared = 0;
    for (int i = 0; i < N; i++) {
      int n = snprintf(buf, sizeof buf, "/section-%d/topic/item-%d.html", i % 7, i);
      char *p = ds_intern_bytes(&a, buf, n);
      ck_assert_mem_eq(p, buf, (size_t)n);
      shared += p == last[i];
      last[i] = p;
    }
  }
  /* The cache grew to at least 3 N slots by the last round (direct-mapped, so
   * a string whose slot a later one took is copied again). */
  ck_assert_int_gt(shared, N / 2);
  ds_arena_destroy(&a);
  ck_assert_uint_eq(c.outstanding, 0);
}
END_TEST

/* Without memory for the cache the arena still copies. */
START_TEST(intern_without_memory_copies) {
  Counter c = {.fail_at = 1};
  ds_arena a;
  ds_arena_init(&a, counting_alloc, &c);
  ds_arena_intern(&a);
  ck_assert_ptr_null(a.intern);
  c.fail_at = 0;
  ds_arena_destroy(&a);
}
END_TEST

/* ---- hash ---- */

static const struct {
  const char *s;
  uint64_t with_default_seed, with_zero_seed;
} bytes_kat[] = {
    {"", UINT64_C(0x340b838f77fc4d74), UINT64_C(0x0409638ee2bde459)},
    {"a", UINT64_C(0xd0f10e2897d49fcc), UINT64_C(0x28d2053309d28531)},
    {"ab", UINT64_C(0xa4d350c5b056af79), UINT64_C(0xbc9ce12eaf0083ec)},
    {"abc", UINT64_C(0xdce08a3356a2ef41), UINT64_C(0x02a4f1d7cb516c72)},
    {"abcd", UINT64_C(0x2032afcd3d1176f3), UINT64_C(0x48dfe2b09ab52113)},
    {"hello", UINT64_C(0x8fe375d8962cb6e3), UINT64_C(0x0e24bbd9f93f532d)},
    {"hello, wo", UINT64_C(0x6f653132eebe2301), UINT64_C(0x08303c0f71d657c9)},
    {"0123456789abcdef", UINT64_C(0x5e14b2390d84cec2), UINT64_C(0xc304e72c387cd229)},
    {"0123456789abcdefg", UINT64_C(0x41c99f8160be7b4d), UINT64_C(0xb496f8f306600195)},
    {"The quick brown fox jumps over the lazy dog", UINT64_C(0x6c906506eea24324), UINT64_C(0x6303b3bade45a571)},
    {"0123456789012345678901234567890123456789012345678901234567890123456789", UINT64_C(0xdd8b7cdbc49d1e4d), UINT64_C(0xc1bd8f1aa5fc8091)},
};

static const struct {
  int64_t x;
  uint64_t with_default_seed, with_zero_seed;
} i64_kat[] = {
    {0LL, UINT64_C(0x18923ac8c8f0e4a5), UINT64_C(0x3adc22f1b1c30c39)},
    {1LL, UINT64_C(0x40581d6c6042b9e2), UINT64_C(0x7f43b9861f92067c)},
    {-1LL, UINT64_C(0xa7fb0ee1a47c6875), UINT64_C(0x9fd014e2eabcfe9d)},
    {42LL, UINT64_C(0x52c6c8446bf8b941), UINT64_C(0xc84686f2596a295b)},
    {INT64_MAX, UINT64_C(0xc60256cb3e660fe1), UINT64_C(0x2e94d2a141c93d58)},
    {INT64_MIN, UINT64_C(0x61e9ac9f6dce3ccb), UINT64_C(0xd2ef3496f753a3b4)},
    {1234567890123LL, UINT64_C(0x620ed2d5cf2fe796), UINT64_C(0x14053f75a364d2ce)},
};

static const uint64_t combine_kat[3] = {UINT64_C(0x696aff512179c85d), UINT64_C(0x404abedc22ae46fe), UINT64_C(0x3adc22f1b1c30c39)};

START_TEST(hash_known_answers) {
  for (size_t i = 0; i < sizeof bytes_kat / sizeof *bytes_kat; i++) {
    int64_t n = (int64_t)strlen(bytes_kat[i].s);
    ck_assert_msg(ds_hash_bytes(bytes_kat[i].s, n, DS_HASH_SEED) == bytes_kat[i].with_default_seed,
                  "hash_bytes(\"%s\") changed: partitions and checkpoints would move", bytes_kat[i].s);
    ck_assert(ds_hash_bytes(bytes_kat[i].s, n, 0) == bytes_kat[i].with_zero_seed);
  }
  for (size_t i = 0; i < sizeof i64_kat / sizeof *i64_kat; i++) {
    ck_assert(ds_hash_i64(i64_kat[i].x, DS_HASH_SEED) == i64_kat[i].with_default_seed);
    ck_assert(ds_hash_i64(i64_kat[i].x, 0) == i64_kat[i].with_zero_seed);
  }
  ck_assert(ds_hash_combine(1, 2) == combine_kat[0]);
  ck_assert(ds_hash_combine(2, 1) == combine_kat[1]);
  ck_assert(ds_hash_combine(0, 0) == combine_kat[2]);
}
END_TEST

START_TEST(hash_properties) {
  /* Only the bytes count: not alignment, not what lies beyond len. */
  char buf[128];
  const char *text = "some key that is longer than sixteen bytes, to take the loop";
  size_t n = strlen(text);
  uint64_t h = ds_hash_bytes(text, (int64_t)n, DS_HASH_SEED);
  for (int off = 1; off < 16; off++) {
    memset(buf, off, sizeof buf);
    memcpy(buf + off, text, n);
    ck_assert(ds_hash_bytes(buf + off, (int64_t)n, DS_HASH_SEED) == h);
  }
  ck_assert(ds_hash_bytes(NULL, 0, 1) == ds_hash_bytes("x", 0, 1));
  /* Length is mixed in: "a" and "a\0" differ; so do seeds and prefixes. */
  ck_assert(ds_hash_bytes("a\0", 1, 0) != ds_hash_bytes("a\0", 2, 0));
  ck_assert(ds_hash_bytes("a", 1, 0) != ds_hash_bytes("a", 1, 1));
  ck_assert(ds_hash_i64(5, 0) != ds_hash_i64(5, 1));
  ck_assert(ds_hash_combine(1, 2) != ds_hash_combine(2, 1));
  /* Every length 0..100 over the same buffer gives distinct values. */
  uint64_t seen[101];
  memset(buf, 0, sizeof buf);
  for (int len = 0; len <= 100; len++) {
    seen[len] = ds_hash_bytes(buf, len, DS_HASH_SEED);
    for (int j = 0; j < len; j++)
      ck_assert(seen[j] != seen[len]);
  }
}
END_TEST

/* Keys "key0".."keyN" and 0..N spread evenly over 16 partitions, and one
 * flipped input bit flips about half the output bits. */
START_TEST(hash_distribution) {
  enum { N = 160000, P = 16 };
  int by_str[P] = {0}, by_int[P] = {0};
  char key[32];
  for (int i = 0; i < N; i++) {
    int n = snprintf(key, sizeof key, "key%d", i);
    by_str[ds_hash_bytes(key, n, DS_HASH_SEED) % P]++;
    by_int[ds_hash_i64(i, DS_HASH_SEED) % P]++;
  }
  for (int p = 0; p < P; p++) {
    ck_assert_int_gt(by_str[p], N / P * 95 / 100);
    ck_assert_int_lt(by_str[p], N / P * 105 / 100);
    ck_assert_int_gt(by_int[p], N / P * 95 / 100);
    ck_assert_int_lt(by_int[p], N / P * 105 / 100);
  }
  long flips = 0, trials = 0;
  unsigned char b[24] = {0};
  for (int len = 1; len <= 24; len++)
    for (int bit = 0; bit < len * 8; bit++) {
      uint64_t h0 = ds_hash_bytes(b, len, 7);
      b[bit / 8] ^= (unsigned char)(1u << bit % 8);
      flips += __builtin_popcountll(h0 ^ ds_hash_bytes(b, len, 7));
      b[bit / 8] ^= (unsigned char)(1u << bit % 8);
      trials++;
    }
  double avg = (double)flips / (double)trials;
  ck_assert_msg(avg > 30 && avg < 34, "avalanche %f bits", avg);
}
END_TEST

static Suite *arena_hash_suite(void) {
  Suite *s = suite_create("rt_arena_hash");
  TCase *ta = tcase_create("arena");
  tcase_set_timeout(ta, 30);
  tcase_add_test(ta, arena_alignment_and_accounting);
  tcase_add_test(ta, arena_no_malloc_in_steady_state);
  tcase_add_test(ta, arena_spike_released);
  tcase_add_test(ta, arena_large_requests);
  tcase_add_test(ta, arena_failure_injection);
  tcase_add_test(ta, arena_destroy_and_reinit);
  suite_add_tcase(s, ta);
  TCase *ti = tcase_create("intern");
  tcase_add_test(ti, intern_shares_equal_strings);
  tcase_add_test(ti, intern_emptied_with_the_arena);
  tcase_add_test(ti, intern_many_strings);
  tcase_add_test(ti, intern_without_memory_copies);
  suite_add_tcase(s, ti);
  TCase *th = tcase_create("hash");
  tcase_add_test(th, hash_known_answers);
  tcase_add_test(th, hash_properties);
  tcase_add_test(th, hash_distribution);
  suite_add_tcase(s, th);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(arena_hash_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
