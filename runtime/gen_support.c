/*
 * gen_support.c — the entry points generated code calls for builtins and
 * for printing, hashing and copying values (compiler/gen_*.c).
 *
 * Every function here takes only scalars and pointers — strings as
 * (pointer, length), results through an out pointer — so the code
 * generator never depends on how C passes structs. Each returns false on a
 * record error; the generated code records the site and drops the record.
 * The file is compiled into the runtime library and into the builtins'
 * bitcode, so LLVM inlines these into the fused loops.
 */
#include "ds_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entry points, declared here because only generated code calls them. */
bool dsg_str_eq(const char *a, int64_t an, const char *b, int64_t bn);
int32_t dsg_str_cmp(const char *a, int64_t an, const char *b, int64_t bn);
bool dsg_list_eq(const char *a, int64_t an, const char *b, int64_t bn, int64_t esize,
                 bool (*eq)(const void *, const void *));
void *dsg_alloc(ds_ctx *ctx, int64_t size);
void *dsg_copy_bytes(ds_arena *a, const char *p, int64_t n);
void *dsg_copy_list(ds_arena *a, const char *p, int64_t n, int64_t esize,
                    void (*copy)(void *, const void *, ds_arena *));
void dsg_fmt_int(ds_strbuf *b, int64_t x);
void dsg_fmt_float(ds_strbuf *b, double x);
void dsg_fmt_bool(ds_strbuf *b, int32_t x);
void dsg_fmt_list(ds_strbuf *b, const char *p, int64_t n, int64_t esize,
                  void (*fmt)(const void *, ds_strbuf *));
bool dsg_to_str(ds_ctx *ctx, const void *v, void (*fmt)(const void *, ds_strbuf *), ds_str *out);
bool dsg_contains(const char *s, int64_t n, const char *t, int64_t m);
bool dsg_starts_with(const char *s, int64_t n, const char *t, int64_t m);
bool dsg_ends_with(const char *s, int64_t n, const char *t, int64_t m);
int64_t dsg_index_of(const char *s, int64_t n, const char *t, int64_t m);
bool dsg_split(ds_ctx *ctx, const char *s, int64_t n, const char *sep, int64_t m, ds_list *out);
bool dsg_words(ds_ctx *ctx, const char *s, int64_t n, ds_list *out);
bool dsg_chars(ds_ctx *ctx, const char *s, int64_t n, ds_list *out);
bool dsg_lower(ds_ctx *ctx, const char *s, int64_t n, ds_str *out);
bool dsg_upper(ds_ctx *ctx, const char *s, int64_t n, ds_str *out);
bool dsg_trim(const char *s, int64_t n, ds_str *out);
bool dsg_substr(const char *s, int64_t n, int64_t start, int64_t len, ds_str *out);
bool dsg_replace(ds_ctx *ctx, const char *s, int64_t n, const char *f, int64_t fn, const char *t,
                 int64_t tn, ds_str *out);
bool dsg_field(const char *s, int64_t n, const char *sep, int64_t m, int64_t i, ds_str *out);
bool dsg_concat(ds_ctx *ctx, const char *a, int64_t an, const char *b, int64_t bn, int64_t esize,
                ds_str *out);
bool dsg_parse_int(const char *s, int64_t n, int64_t *out);
bool dsg_parse_float(const char *s, int64_t n, double *out);
bool dsg_float_to_int(double f, int64_t *out);
bool dsg_parse_time(const char *s, int64_t n, const char *f, int64_t fn, int64_t *out);
bool dsg_format_time(ds_ctx *ctx, int64_t t, const char *f, int64_t fn, ds_str *out);
void *dsg_range(ds_ctx *ctx, int64_t n);
void *dsg_sorted(ds_ctx *ctx, const char *p, int64_t n, int64_t esize,
                 int32_t (*cmp)(const void *, const void *));
void dsg_arena_mark(ds_ctx *ctx, ds_arena_mark *m);
void dsg_arena_release(ds_ctx *ctx, const ds_arena_mark *m);
/* Whether the record allocated since mark m (then its new keys are copied). */
bool dsg_arena_grew(ds_ctx *ctx, const ds_arena_mark *m);

static ds_str S(const char *p, int64_t n) { return (ds_str){p, n}; }

static inline uint64_t load64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint32_t load32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Keys are mostly short (words, addresses, paths): compare them with word
 * loads, inline, instead of calling memcmp. */
bool dsg_str_eq(const char *a, int64_t an, const char *b, int64_t bn) {
  if (an != bn)
    return false;
  if (a == b) /* keys kept where their input's are (gen_job.c) */
    return true;
  if (an >= 8 && an <= 16)
    return load64(a) == load64(b) && load64(a + an - 8) == load64(b + an - 8);
  if (an >= 4 && an < 8)
    return load32(a) == load32(b) && load32(a + an - 4) == load32(b + an - 4);
  if (an < 4) {
    for (int64_t i = 0; i < an; i++)
      if (a[i] != b[i])
        return false;
    return true;
  }
  /* Longer keys (URLs, paths): 8 bytes at a time, the last word overlapping;
   * a libc call per probe costs more than this loop for keys under ~100 bytes. */
  for (int64_t i = 0; i + 8 < an; i += 8)
    if (load64(a + i) != load64(b + i))
      return false;
  return load64(a + an - 8) == load64(b + an - 8);
}

int32_t dsg_str_cmp(const char *a, int64_t an, const char *b, int64_t bn) {
  int c = ds_str_cmp(S(a, an), S(b, bn));
  return c < 0 ? -1 : c > 0;
}

bool dsg_list_eq(const char *a, int64_t an, const char *b, int64_t bn, int64_t esize,
                 bool (*eq)(const void *, const void *)) {
  if (an != bn)
    return false;
  for (int64_t i = 0; i < an; i++)
    if (!eq(a + i * esize, b + i * esize))
      return false;
  return true;
}

void *dsg_alloc(ds_ctx *ctx, int64_t size) {
  void *p = ds_arena_alloc(ctx->arena, (size_t)(size > 0 ? size : 1));
  if (!p)
    ctx->err = DS_ERR_NO_MEMORY;
  return p;
}

/* Stores copy strings into memory they own; running out there is fatal. */
static void *store_alloc(ds_arena *a, int64_t n) {
  void *p = ds_arena_alloc(a, (size_t)(n > 0 ? n : 1));
  if (!p) {
    fputs("job: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *dsg_copy_bytes(ds_arena *a, const char *p, int64_t n) {
  if (n == 0)
    return (void *)p;
  if (a->intern)
    return ds_intern_bytes(a, p, n);
  void *q = store_alloc(a, n);
  memcpy(q, p, (size_t)n);
  return q;
}

void *dsg_copy_list(ds_arena *a, const char *p, int64_t n, int64_t esize,
                    void (*copy)(void *, const void *, ds_arena *)) {
  if (n == 0)
    return (void *)p;
  char *q = store_alloc(a, n * esize);
  memcpy(q, p, (size_t)(n * esize));
  if (copy)
    for (int64_t i = 0; i < n; i++)
      copy(q + i * esize, q + i * esize, a);
  return q;
}

void ds_strbuf_put(ds_strbuf *b, const char *s, int64_t n) {
  if (__builtin_expect(b->len + n + 1 > b->cap, 0))
    ds_strbuf_grow(b, n);
  if (n)
    memcpy(b->ptr + b->len, s, (size_t)n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

void dsg_fmt_int(ds_strbuf *b, int64_t x) {
  char buf[DS_FORMAT_INT_MAX];
  ds_strbuf_put(b, buf, ds_format_int(buf, x));
}

void dsg_fmt_float(ds_strbuf *b, double x) {
  char buf[DS_FORMAT_FLOAT_MAX];
  ds_strbuf_put(b, buf, ds_format_float(buf, x));
}

void dsg_fmt_bool(ds_strbuf *b, int32_t x) {
  if (x)
    ds_strbuf_put(b, "true", 4);
  else
    ds_strbuf_put(b, "false", 5);
}

void dsg_fmt_list(ds_strbuf *b, const char *p, int64_t n, int64_t esize,
                  void (*fmt)(const void *, ds_strbuf *)) {
  ds_strbuf_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i)
      ds_strbuf_put(b, ", ", 2);
    fmt(p + i * esize, b);
  }
  ds_strbuf_put(b, "]", 1);
}

bool dsg_to_str(ds_ctx *ctx, const void *v, void (*fmt)(const void *, ds_strbuf *), ds_str *out) {
  ds_strbuf b = {0};
  fmt(v, &b);
  char *p = b.len ? ds_arena_alloc(ctx->arena, (size_t)b.len) : NULL;
  if (b.len && !p) {
    ds_strbuf_free(&b);
    return ds_fail(ctx, DS_ERR_NO_MEMORY);
  }
  if (b.len)
    memcpy(p, b.ptr, (size_t)b.len);
  *out = S(p ? p : "", b.len);
  ds_strbuf_free(&b);
  return true;
}

bool dsg_contains(const char *s, int64_t n, const char *t, int64_t m) { return ds_contains(S(s, n), S(t, m)); }
bool dsg_starts_with(const char *s, int64_t n, const char *t, int64_t m) { return ds_starts_with(S(s, n), S(t, m)); }
bool dsg_ends_with(const char *s, int64_t n, const char *t, int64_t m) { return ds_ends_with(S(s, n), S(t, m)); }
int64_t dsg_index_of(const char *s, int64_t n, const char *t, int64_t m) { return ds_index_of(S(s, n), S(t, m)); }

bool dsg_split(ds_ctx *ctx, const char *s, int64_t n, const char *sep, int64_t m, ds_list *out) {
  return ds_split(ctx->arena, S(s, n), S(sep, m), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_words(ds_ctx *ctx, const char *s, int64_t n, ds_list *out) {
  return ds_words(ctx->arena, S(s, n), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_chars(ds_ctx *ctx, const char *s, int64_t n, ds_list *out) {
  return ds_chars(ctx->arena, S(s, n), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_lower(ds_ctx *ctx, const char *s, int64_t n, ds_str *out) {
  return ds_lower(ctx->arena, S(s, n), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_upper(ds_ctx *ctx, const char *s, int64_t n, ds_str *out) {
  return ds_upper(ctx->arena, S(s, n), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_trim(const char *s, int64_t n, ds_str *out) {
  *out = ds_trim(S(s, n));
  return true;
}

bool dsg_substr(const char *s, int64_t n, int64_t start, int64_t len, ds_str *out) {
  return ds_substr(S(s, n), start, len, out);
}

bool dsg_replace(ds_ctx *ctx, const char *s, int64_t n, const char *f, int64_t fn, const char *t,
                 int64_t tn, ds_str *out) {
  return ds_replace(ctx->arena, S(s, n), S(f, fn), S(t, tn), out) || ds_fail(ctx, DS_ERR_NO_MEMORY);
}

bool dsg_field(const char *s, int64_t n, const char *sep, int64_t m, int64_t i, ds_str *out) {
  return ds_field(S(s, n), S(sep, m), i, out);
}

bool dsg_concat(ds_ctx *ctx, const char *a, int64_t an, const char *b, int64_t bn, int64_t esize,
                ds_str *out) {
  if (bn == 0) {
    *out = S(a, an);
    return true;
  }
  if (an == 0) {
    *out = S(b, bn);
    return true;
  }
  char *p = ds_arena_alloc(ctx->arena, (size_t)((an + bn) * esize));
  if (!p)
    return ds_fail(ctx, DS_ERR_NO_MEMORY);
  memcpy(p, a, (size_t)(an * esize));
  memcpy(p + an * esize, b, (size_t)(bn * esize));
  *out = S(p, an + bn);
  return true;
}

bool dsg_parse_int(const char *s, int64_t n, int64_t *out) { return ds_parse_int(S(s, n), out); }
bool dsg_parse_float(const char *s, int64_t n, double *out) { return ds_parse_float(S(s, n), out); }
bool dsg_float_to_int(double f, int64_t *out) { return ds_float_to_int(f, out); }

bool dsg_parse_time(const char *s, int64_t n, const char *f, int64_t fn, int64_t *out) {
  return ds_parse_time(S(s, n), S(f, fn), out);
}

bool dsg_format_time(ds_ctx *ctx, int64_t t, const char *f, int64_t fn, ds_str *out) {
  return ds_format_time(ctx->arena, t, S(f, fn), out);
}

void *dsg_range(ds_ctx *ctx, int64_t n) {
  int64_t *p = dsg_alloc(ctx, n * (int64_t)sizeof(int64_t));
  if (p)
    for (int64_t i = 0; i < n; i++)
      p[i] = i;
  return p;
}

/* A stable merge sort into a new array of the batch arena. */
void *dsg_sorted(ds_ctx *ctx, const char *p, int64_t n, int64_t esize,
                 int32_t (*cmp)(const void *, const void *)) {
  char *a = dsg_alloc(ctx, n * esize), *tmp = dsg_alloc(ctx, n * esize);
  if (!a || !tmp)
    return NULL;
  memcpy(a, p, (size_t)(n * esize));
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (cmp(a + j * esize, a + i * esize) < 0)
          memcpy(tmp + (k++) * esize, a + (j++) * esize, (size_t)esize);
        else
          memcpy(tmp + (k++) * esize, a + (i++) * esize, (size_t)esize);
      }
      while (i < mid)
        memcpy(tmp + (k++) * esize, a + (i++) * esize, (size_t)esize);
      while (j < hi)
        memcpy(tmp + (k++) * esize, a + (j++) * esize, (size_t)esize);
    }
    memcpy(a, tmp, (size_t)(n * esize));
  }
  return a;
}

/* A combine stage whose values hold no strings frees what each record
 * allocated (words(), split(), ...) once the record is combined: its keys
 * were copied into the map's store. */
void dsg_arena_mark(ds_ctx *ctx, ds_arena_mark *m) { *m = ds_arena_get_mark(ctx->arena); }

void dsg_arena_release(ds_ctx *ctx, const ds_arena_mark *m) { ds_arena_release(ctx->arena, *m); }

bool dsg_arena_grew(ds_ctx *ctx, const ds_arena_mark *m) { return ctx->arena->used != m->used; }
