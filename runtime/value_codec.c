/*
 * value_codec.c — any stored value written to and read from a checkpoint
 * through its ds_type shape (ABI 3), without generated code.
 *
 * The encoding carries no type tags (the reader knows the type): int, time
 * and duration as rt_ckw_i64, float as the IEEE-754 bits (rt_ckw_f64: -0.0
 * and NaN payloads kept), bool as one byte 0 or 1, a string as rt_ckw_str
 * (u64 length, bytes), a list as its length (u64) then its elements, a
 * tuple or record its fields in order, an option its flag byte (0 or 1)
 * then, when 1, its value.
 *
 * The reader trusts nothing it reads: a bool or option flag other than 0 or
 * 1 is -EBADMSG, and a list's length is checked against the bytes left
 * (every element takes at least min_bytes(element) >= 1 of them) before
 * anything is allocated, so no content makes it read out of bounds or
 * allocate more than the file could describe. Recursion follows the type,
 * which is finite; a depth limit guards against a malformed ds_type.
 */
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { MAX_DEPTH = 200 }; /* nesting of a ds_type; far beyond what dsc makes */

/* The sticky errors, in the same way ckpt_file.c records them. */
static int w_fail(rt_ckw *w, int err, const char *what, const ds_type *t) {
  if (!w->err) {
    w->err = err;
    snprintf(w->msg, sizeof w->msg, "cannot write a value of type %s to a checkpoint: %s",
             t && t->name ? t->name : "?", what);
  }
  return w->err;
}

static int r_fail(rt_ckr *r, int err, const char *what, const ds_type *t) {
  if (!r->err) {
    r->err = err;
    snprintf(r->msg, sizeof r->msg,
             "checkpoint content is malformed: %s (a value of type %s, at offset %llu)", what,
             t && t->name ? t->name : "?", (unsigned long long)r->pos);
  }
  return r->err;
}

/* Whether the parts a shape needs are there (not recursive). */
static bool parts_ok(const ds_type *t) {
  switch (t->shape) {
  case DS_SHAPE_I64:
  case DS_SHAPE_F64: return t->size >= 8;
  case DS_SHAPE_BOOL: return t->size >= 1;
  case DS_SHAPE_STR: return t->size >= (int64_t)sizeof(ds_str);
  case DS_SHAPE_LIST:
    return t->size >= (int64_t)sizeof(ds_list) && t->nfields >= 1 && t->fields && t->fields[0];
  case DS_SHAPE_OPTION:
    return t->size >= 1 && t->nfields >= 1 && t->fields && t->fields[0] && t->offsets &&
           t->offsets[0] >= 1 && t->offsets[0] + t->fields[0]->size <= t->size;
  case DS_SHAPE_STRUCT:
    if (t->nfields < 0 || (t->nfields > 0 && (!t->fields || !t->offsets)))
      return false;
    for (int32_t i = 0; i < t->nfields; i++)
      if (!t->fields[i] || t->offsets[i] < 0 || t->offsets[i] + t->fields[i]->size > t->size)
        return false;
    return true;
  default: return false;
  }
}

static bool has_shape(const ds_type *t, int depth) {
  if (!t || depth > MAX_DEPTH || !parts_ok(t))
    return false;
  switch (t->shape) {
  case DS_SHAPE_LIST:
  case DS_SHAPE_OPTION: return has_shape(t->fields[0], depth + 1);
  case DS_SHAPE_STRUCT:
    for (int32_t i = 0; i < t->nfields; i++)
      if (!has_shape(t->fields[i], depth + 1))
        return false;
    return true;
  default: return true;
  }
}

bool rt_type_has_shape(const ds_type *t) { return has_shape(t, 0); }

/* ---- writing ---- */

static int write_value(rt_ckw *w, const ds_type *t, const void *v, int depth) {
  if (w->err)
    return w->err;
  if (!t || depth > MAX_DEPTH || !parts_ok(t))
    return w_fail(w, -EINVAL,
                  t && t->shape == DS_SHAPE_NONE ? "the type has no shape" : "malformed type", t);
  switch (t->shape) {
  case DS_SHAPE_I64: {
    int64_t x;
    memcpy(&x, v, sizeof x);
    return rt_ckw_i64(w, x);
  }
  case DS_SHAPE_F64: {
    double x;
    memcpy(&x, v, sizeof x);
    return rt_ckw_f64(w, x);
  }
  case DS_SHAPE_BOOL: return rt_ckw_u8(w, *(const uint8_t *)v ? 1 : 0);
  case DS_SHAPE_STR: {
    ds_str s;
    memcpy(&s, v, sizeof s);
    return rt_ckw_str(w, s);
  }
  case DS_SHAPE_LIST: {
    ds_list l;
    memcpy(&l, v, sizeof l);
    if (l.len < 0 || (l.len > 0 && !l.ptr))
      return w_fail(w, -EINVAL, "a list with a negative length", t);
    const ds_type *e = t->fields[0];
    if (rt_ckw_u64(w, (uint64_t)l.len) < 0)
      return w->err;
    for (int64_t i = 0; i < l.len; i++)
      if (write_value(w, e, (const char *)l.ptr + i * e->size, depth + 1) < 0)
        return w->err;
    return w->err;
  }
  case DS_SHAPE_STRUCT:
    for (int32_t i = 0; i < t->nfields; i++)
      if (write_value(w, t->fields[i], (const char *)v + t->offsets[i], depth + 1) < 0)
        return w->err;
    return w->err;
  case DS_SHAPE_OPTION: {
    bool some = *(const uint8_t *)v != 0;
    if (rt_ckw_u8(w, some) < 0 || !some)
      return w->err;
    return write_value(w, t->fields[0], (const char *)v + t->offsets[0], depth + 1);
  }
  default: return w_fail(w, -EINVAL, "the type has no shape", t);
  }
}

int rt_ckw_value(rt_ckw *w, const ds_type *t, const void *v) { return write_value(w, t, v, 0); }

/* ---- reading ---- */

/* The fewest bytes a value of t takes in a checkpoint (at least 1 for a
 * list's element, so that a length can be checked against what remains). */
static uint64_t min_bytes(const ds_type *t, int depth) {
  switch (t->shape) {
  case DS_SHAPE_I64:
  case DS_SHAPE_F64:
  case DS_SHAPE_STR:
  case DS_SHAPE_LIST: return 8;
  case DS_SHAPE_BOOL:
  case DS_SHAPE_OPTION: return 1;
  case DS_SHAPE_STRUCT: {
    uint64_t n = 0;
    if (depth > MAX_DEPTH)
      return 0;
    for (int32_t i = 0; i < t->nfields; i++)
      n += min_bytes(t->fields[i], depth + 1);
    return n;
  }
  default: return 0;
  }
}

static int read_value(rt_ckr *r, const ds_type *t, void *dst, ds_arena *a, int depth) {
  if (r->err)
    return r->err;
  switch (t->shape) {
  case DS_SHAPE_I64: {
    int64_t x;
    if (rt_ckr_i64(r, &x) == 0)
      memcpy(dst, &x, sizeof x);
    return r->err;
  }
  case DS_SHAPE_F64: {
    double x;
    if (rt_ckr_f64(r, &x) == 0)
      memcpy(dst, &x, sizeof x);
    return r->err;
  }
  case DS_SHAPE_BOOL: {
    uint8_t b;
    if (rt_ckr_u8(r, &b) < 0)
      return r->err;
    if (b > 1)
      return r_fail(r, -EBADMSG, "a bool that is neither 0 nor 1", t);
    *(uint8_t *)dst = b;
    return 0;
  }
  case DS_SHAPE_STR: {
    ds_str s;
    if (rt_ckr_str(r, &s) < 0)
      return r->err;
    if (s.len > 0) {
      if (!a)
        return r_fail(r, -EINVAL, "no arena for a string", t);
      char *p = ds_arena_alloc(a, (size_t)s.len);
      if (!p)
        return r_fail(r, -ENOMEM, "out of memory for a string", t);
      memcpy(p, s.ptr, (size_t)s.len);
      s.ptr = p;
    } else {
      s.ptr = NULL;
    }
    memcpy(dst, &s, sizeof s);
    return 0;
  }
  case DS_SHAPE_LIST: {
    const ds_type *e = t->fields[0];
    uint64_t n;
    if (rt_ckr_u64(r, &n) < 0)
      return r->err;
    uint64_t each = min_bytes(e, depth + 1);
    if (each < 1)
      each = 1;
    if (n > (r->len - r->pos) / each)
      return r_fail(r, -EBADMSG, "a list longer than what remains", t);
    ds_list l = {NULL, (int64_t)n};
    if (n > 0) {
      if (!a)
        return r_fail(r, -EINVAL, "no arena for a list", t);
      if (e->size > 0 && n > (uint64_t)INT64_MAX / (uint64_t)e->size)
        return r_fail(r, -EBADMSG, "a list too large", t);
      size_t bytes = (size_t)(n * (uint64_t)(e->size > 0 ? e->size : 1));
      l.ptr = ds_arena_alloc(a, bytes);
      if (!l.ptr)
        return r_fail(r, -ENOMEM, "out of memory for a list", t);
      memset(l.ptr, 0, bytes);
      for (uint64_t i = 0; i < n; i++)
        if (read_value(r, e, (char *)l.ptr + i * (uint64_t)e->size, a, depth + 1) < 0)
          return r->err;
    }
    memcpy(dst, &l, sizeof l);
    return 0;
  }
  case DS_SHAPE_STRUCT:
    for (int32_t i = 0; i < t->nfields; i++)
      if (read_value(r, t->fields[i], (char *)dst + t->offsets[i], a, depth + 1) < 0)
        return r->err;
    return 0;
  case DS_SHAPE_OPTION: {
    uint8_t some;
    if (rt_ckr_u8(r, &some) < 0)
      return r->err;
    if (some > 1)
      return r_fail(r, -EBADMSG, "an option flag that is neither 0 nor 1", t);
    *(uint8_t *)dst = some;
    if (!some)
      return 0;
    return read_value(r, t->fields[0], (char *)dst + t->offsets[0], a, depth + 1);
  }
  default: return r_fail(r, -EINVAL, "the type has no shape", t);
  }
}

int rt_ckr_value(rt_ckr *r, const ds_type *t, void *dst, ds_arena *a) {
  if (r->err)
    return r->err;
  if (!rt_type_has_shape(t))
    return r_fail(r, -EINVAL,
                  t && t->shape == DS_SHAPE_NONE ? "the type has no shape" : "malformed type", t);
  memset(dst, 0, (size_t)t->size);
  return read_value(r, t, dst, a, 0);
}
