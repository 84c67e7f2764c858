/*
 * check_rt_map.c — the keyed table (runtime/map.c) and the stream buffers
 * (runtime/part.c).
 *
 * Map: inserts and finds, equal hashes with different keys (key_eq must
 * decide), growth that keeps every entry and its hash, clear that keeps the
 * memory, iteration with ds_map_entry, string keys. Buffers: ds_part_push
 * returns zeroed slots and grows, streams keep their buffers and maps across
 * resets, ds_strbuf appends.
 */
#include "rt.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int64_t key, val;
} ipair;

static bool ikey_eq(const void *a, const void *b) {
  return ((const ipair *)a)->key == ((const ipair *)b)->key;
}

static uint64_t ihash(int64_t k) { return ds_hash_i64(k, DS_HASH_SEED); }

START_TEST(map_insert_find_update) {
  ds_map m;
  ds_map_init(&m, sizeof(ipair));
  ck_assert_int_eq(m.entry_size, 24);
  ck_assert_ptr_null(rt_map_find(&m, ihash(1), &(ipair){1, 0}, ikey_eq));
  for (int64_t k = 0; k < 1000; k++) {
    bool inserted = false;
    ipair *p = ds_map_upsert(&m, ihash(k), &(ipair){k, 0}, ikey_eq, &inserted);
    ck_assert(inserted);
    ck_assert_int_eq(p->key, 0);
    ck_assert_int_eq(p->val, 0);
    p->key = k;
    p->val = k * 10;
  }
  ck_assert_int_eq(m.len, 1000);
  ck_assert_int_eq(m.cap & (m.cap - 1), 0);
  ck_assert(4 * m.len <= 3 * m.cap);
  for (int64_t k = 0; k < 1000; k++) {
    bool inserted = true;
    ipair *p = ds_map_upsert(&m, ihash(k), &(ipair){k, 0}, ikey_eq, &inserted);
    ck_assert(!inserted);
    ck_assert_int_eq(p->val, k * 10);
    p->val++;
    ipair *f = rt_map_find(&m, ihash(k), &(ipair){k, 0}, ikey_eq);
    ck_assert_ptr_eq(f, p);
  }
  ck_assert_ptr_null(rt_map_find(&m, ihash(5000), &(ipair){5000, 0}, ikey_eq));
  /* Iteration sees every entry once, with its hash. */
  int64_t seen = 0, sum = 0;
  for (int64_t i = 0; i < m.cap; i++) {
    uint64_t h;
    ipair *p = ds_map_entry(&m, i, &h);
    if (!p)
      continue;
    ck_assert_uint_eq(h, ihash(p->key));
    ck_assert_int_eq(p->val, p->key * 10 + 1);
    seen++;
    sum += p->key;
  }
  ck_assert_int_eq(seen, 1000);
  ck_assert_int_eq(sum, 999 * 1000 / 2);
  ds_map_free(&m);
  ck_assert_int_eq(m.cap, 0);
}
END_TEST

START_TEST(map_equal_hashes) {
  /* Every key with the same hash: probing and key_eq must tell them apart. */
  ds_map m;
  ds_map_init(&m, sizeof(ipair));
  for (int64_t k = 0; k < 100; k++) {
    bool inserted;
    ipair *p = ds_map_upsert(&m, 42, &(ipair){k, 0}, ikey_eq, &inserted);
    ck_assert(inserted);
    p->key = k;
    p->val = k;
  }
  for (int64_t k = 0; k < 100; k++) {
    ipair *p = rt_map_find(&m, 42, &(ipair){k, 0}, ikey_eq);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->val, k);
  }
  ck_assert_ptr_null(rt_map_find(&m, 43, &(ipair){1, 0}, ikey_eq));
  ck_assert_ptr_null(rt_map_find(&m, 42, &(ipair){100, 0}, ikey_eq));
  ds_map_free(&m);
}
END_TEST

static int eq_calls;
static bool counting_eq(const void *a, const void *b) {
  eq_calls++;
  return ikey_eq(a, b);
}

START_TEST(map_compares_hashes_first) {
  ds_map m;
  ds_map_init(&m, sizeof(ipair));
  for (int64_t k = 0; k < 500; k++) {
    bool inserted;
    ipair *p = ds_map_upsert(&m, ihash(k), &(ipair){k, 0}, counting_eq, &inserted);
    p->key = k;
  }
  /* With distinct 64-bit hashes key_eq runs only on a real match. */
  eq_calls = 0;
  for (int64_t k = 0; k < 500; k++) {
    bool inserted;
    ds_map_upsert(&m, ihash(k), &(ipair){k, 0}, counting_eq, &inserted);
  }
  ck_assert_int_eq(eq_calls, 500);
  ds_map_free(&m);
}
END_TEST

START_TEST(map_clear_keeps_memory) {
  ds_map m;
  ds_map_init(&m, sizeof(ipair));
  for (int round = 0; round < 3; round++) {
    for (int64_t k = 0; k < 300; k++) {
      bool inserted;
      ipair *p = ds_map_upsert(&m, ihash(k), &(ipair){k, 0}, ikey_eq, &inserted);
      ck_assert(inserted);
      p->key = k;
    }
    int64_t cap = m.cap;
    char *entries = m.entries;
    ds_map_clear(&m);
    ck_assert_int_eq(m.len, 0);
    ck_assert_int_eq(m.cap, cap);
    ck_assert_ptr_eq(m.entries, entries);
    for (int64_t i = 0; i < m.cap; i++)
      ck_assert_ptr_null(ds_map_entry(&m, i, NULL));
  }
  ds_map_free(&m);
}
END_TEST

typedef struct {
  ds_str key;
  int64_t val;
} spair;

static bool skey_eq(const void *a, const void *b) {
  return ds_str_eq(((const spair *)a)->key, ((const spair *)b)->key);
}

START_TEST(map_string_keys) {
  ds_map m;
  ds_map_init(&m, sizeof(spair));
  const char *words[] = {"a", "b", "a", "", "ab", "b", "a"};
  for (int i = 0; i < 7; i++) {
    ds_str s = {words[i], (int64_t)strlen(words[i])};
    bool inserted;
    spair *p = ds_map_upsert(&m, ds_hash_bytes(s.ptr, s.len, DS_HASH_SEED), &(spair){s, 0},
                             skey_eq, &inserted);
    if (inserted)
      p->key = s;
    p->val++;
  }
  ck_assert_int_eq(m.len, 4);
  ds_str a = {"a", 1};
  spair *p = rt_map_find(&m, ds_hash_bytes("a", 1, DS_HASH_SEED), &(spair){a, 0}, skey_eq);
  ck_assert_int_eq(p->val, 3);
  ds_map_free(&m);
}
END_TEST

START_TEST(part_push_zeroed_and_grows) {
  ds_part p = {0};
  for (int64_t i = 0; i < 10000; i++) {
    int64_t *slot = ds_part_push(&p, 24);
    ck_assert_int_eq(slot[0], 0);
    ck_assert_int_eq(slot[1], 0);
    ck_assert_int_eq(slot[2], 0);
    slot[0] = i;
    slot[2] = -1;
  }
  ck_assert_int_eq(p.n, 10000);
  ck_assert(p.cap >= p.n);
  for (int64_t i = 0; i < 10000; i++)
    ck_assert_int_eq(((int64_t *)(p.data + i * 24))[0], i);
  /* Reused after n = 0: slots are zeroed again. */
  p.n = 0;
  int64_t *slot = ds_part_push(&p, 24);
  ck_assert_int_eq(slot[2], 0);
  rt_part_free(&p);
}
END_TEST

START_TEST(stream_reset_keeps_buffers) {
  rt_stream s = {0};
  rt_stream_reset(&s, 3);
  ck_assert_int_eq(s.nparts, 3);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j <= i; j++)
      *(int64_t *)ds_part_push(&s.parts[i], 8) = j;
  ck_assert_int_eq(rt_stream_count(&s), 6);
  char *data = s.parts[2].data;
  rt_stream_reset(&s, 3);
  ck_assert_int_eq(rt_stream_count(&s), 0);
  ck_assert_ptr_eq(s.parts[2].data, data);
  rt_stream_reset(&s, 20); /* grows: old buffers kept */
  ck_assert_ptr_eq(s.parts[2].data, data);
  ck_assert_int_eq(s.nparts, 20);
  ck_assert_int_eq(rt_stream_count(&s), 0);

  rt_stream_reset_maps(&s, 2, sizeof(ipair));
  bool inserted;
  ds_map_upsert(&s.maps[1], 7, &(ipair){7, 0}, ikey_eq, &inserted);
  char *entries = s.maps[1].entries;
  rt_stream_reset_maps(&s, 2, sizeof(ipair));
  ck_assert_int_eq(s.maps[1].len, 0);
  ck_assert_ptr_eq(s.maps[1].entries, entries);
  rt_stream_free(&s);
  ck_assert_int_eq(s.cap_parts, 0);
}
END_TEST

START_TEST(strbuf_appends) {
  ds_strbuf b = {0};
  ds_strbuf_put(&b, "abc", 3);
  ds_strbuf_put(&b, "", 0);
  for (int i = 0; i < 100; i++)
    ds_strbuf_put(&b, "xy", 2);
  ck_assert_int_eq(b.len, 203);
  ck_assert_int_eq(memcmp(b.ptr, "abcxyxy", 7), 0);
  ck_assert_int_eq(b.ptr[b.len], '\0');
  ds_strbuf_free(&b);
  ck_assert_ptr_null(b.ptr);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_map");
  TCase *tc = tcase_create("map");
  tcase_add_test(tc, map_insert_find_update);
  tcase_add_test(tc, map_equal_hashes);
  tcase_add_test(tc, map_compares_hashes_first);
  tcase_add_test(tc, map_clear_keeps_memory);
  tcase_add_test(tc, map_string_keys);
  suite_add_tcase(s, tc);
  TCase *tb = tcase_create("buffers");
  tcase_add_test(tb, part_push_zeroed_and_grows);
  tcase_add_test(tb, stream_reset_keeps_buffers);
  tcase_add_test(tb, strbuf_appends);
  suite_add_tcase(s, tb);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
