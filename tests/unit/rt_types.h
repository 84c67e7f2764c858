/*
 * rt_types.h — ds_type descriptions of int and string written by hand, as
 * dsc generates them, for the runtime suites that build jobs without the
 * compiler (check_rt_windows.c, check_rt_state.c, check_rt_join.c,
 * check_rt_group_sort.c). Header-only: each suite includes it once.
 */
#ifndef RT_TYPES_H
#define RT_TYPES_H

#include "rt.h"

#include <string.h>

#define RT_TEST_UNUSED __attribute__((unused))

static uint64_t i64_hash(const void *v) { return ds_hash_i64(*(const int64_t *)v, DS_HASH_SEED); }
static bool i64_eq(const void *a, const void *b) { return *(const int64_t *)a == *(const int64_t *)b; }
static int i64_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}
RT_TEST_UNUSED static const ds_type t_int = {"int", 8, 8, NULL, NULL, i64_hash, i64_eq, i64_cmp, DS_SHAPE_I64, 0, NULL, NULL};

/* Deep copy of a string into a store's arena. */
RT_TEST_UNUSED static void str_copy(void *dst, const void *src, ds_arena *a) {
  const ds_str *s = src;
  ds_str *d = dst;
  char *p = s->len ? ds_arena_alloc(a, (size_t)s->len) : NULL;
  if (s->len)
    memcpy(p, s->ptr, (size_t)s->len);
  d->ptr = p;
  d->len = s->len;
}
static uint64_t str_hash(const void *v) {
  const ds_str *s = v;
  return ds_hash_bytes(s->ptr, s->len, DS_HASH_SEED);
}
static bool str_eq(const void *a, const void *b) { return ds_str_eq(*(const ds_str *)a, *(const ds_str *)b); }
static int str_cmp(const void *a, const void *b) { return ds_str_cmp(*(const ds_str *)a, *(const ds_str *)b); }
RT_TEST_UNUSED static const ds_type t_str = {"string", 16, 8, str_copy, NULL, str_hash, str_eq, str_cmp, DS_SHAPE_STR, 0, NULL, NULL};

#endif
