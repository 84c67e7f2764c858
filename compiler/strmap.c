/*
 * strmap.c — a hash map from names (Str slices) to pointers, allocated in
 * the compilation's arena. The checker keeps its top-level names here so a
 * program with 100k statements is checked in linear time.
 */
#include "dsc.h"

#include <string.h>

static uint64_t hash_str(Str s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a: names are short */
  for (size_t i = 0; i < s.len; i++)
    h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ull;
  return h;
}

void *strmap_get(const StrMap *m, Str key) {
  if (!m->cap)
    return NULL;
  for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->vals[i])
      return NULL;
    if (str_eq2(m->keys[i], key))
      return m->vals[i];
  }
}

static void grow(Arena *a, StrMap *m) {
  StrMap n = {.cap = m->cap ? m->cap * 2 : 64};
  n.keys = arena_alloc(a, sizeof(Str) * n.cap);
  n.vals = arena_alloc(a, sizeof(void *) * n.cap);
  for (size_t i = 0; i < m->cap; i++)
    if (m->vals[i])
      strmap_put(a, &n, m->keys[i], m->vals[i]);
  *m = n;
}

void strmap_put(Arena *a, StrMap *m, Str key, void *val) {
  if ((m->len + 1) * 2 > m->cap)
    grow(a, m);
  for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->vals[i]) {
      m->keys[i] = key;
      m->vals[i] = val;
      m->len++;
      return;
    }
    if (str_eq2(m->keys[i], key)) {
      m->vals[i] = val;
      return;
    }
  }
}
