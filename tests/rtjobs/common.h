/*
 * common.h — what the hand-written test jobs share: the ds_type tables of
 * `string` and `int` as codegen lays them out (ds_job.h), and reading a job
 * argument from the environment.
 *
 * These jobs stand where `dsc build` output will: each defines a ds_job
 * table, its stage functions and its init, and main calls ds_main. Paths
 * and counts come from environment variables so that one job serves
 * several .test files (generated code would compute them from lets).
 */
#ifndef RTJOBS_COMMON_H
#define RTJOBS_COMMON_H

#include "ds_job.h"

#include <stdlib.h>
#include <string.h>

static inline void str_copy(void *dst, const void *src, ds_arena *a) {
  const ds_str *s = src;
  ds_str *d = dst;
  d->len = s->len;
  d->ptr = NULL;
  if (s->len) {
    char *p = ds_arena_alloc(a, (size_t)s->len);
    if (p)
      memcpy(p, s->ptr, (size_t)s->len);
    d->ptr = p;
  }
}
static inline void str_format(const void *v, ds_strbuf *out) {
  const ds_str *s = v;
  ds_strbuf_put(out, s->ptr, s->len);
}
static inline uint64_t str_hash(const void *v) {
  const ds_str *s = v;
  return ds_hash_bytes(s->ptr, s->len, DS_HASH_SEED);
}
static inline bool str_eq(const void *a, const void *b) {
  return ds_str_eq(*(const ds_str *)a, *(const ds_str *)b);
}
static inline int str_cmp(const void *a, const void *b) {
  return ds_str_cmp(*(const ds_str *)a, *(const ds_str *)b);
}

static inline void int_format(const void *v, ds_strbuf *out) {
  char buf[DS_FORMAT_INT_MAX];
  int n = ds_format_int(buf, *(const int64_t *)v);
  ds_strbuf_put(out, buf, n);
}
static inline uint64_t int_hash(const void *v) { return ds_hash_i64(*(const int64_t *)v, DS_HASH_SEED); }
static inline bool int_eq(const void *a, const void *b) { return *(const int64_t *)a == *(const int64_t *)b; }
static inline int int_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static const ds_type t_string = {"string", 16, 8, str_copy, str_format, str_hash, str_eq, str_cmp, DS_SHAPE_STR, 0, NULL, NULL};
static const ds_type t_int = {"int", 8, 8, NULL, int_format, int_hash, int_eq, int_cmp, DS_SHAPE_I64, 0, NULL, NULL};

/* The value of environment variable `name` as a string argument ("" if unset). */
static inline ds_str env_str(const char *name) {
  const char *v = getenv(name);
  return (ds_str){v ? v : "", v ? (int64_t)strlen(v) : 0};
}
static inline int64_t env_int(const char *name, int64_t dflt) {
  const char *v = getenv(name);
  return v && *v ? strtoll(v, NULL, 10) : dflt;
}

#endif
