/*
 * intern.c — the string cache of a keyed table's key store.
 *
 * Keys made of several fields repeat their strings: the keys (window, url)
 * of a sliding-window count hold each url once per window. When the key
 * store of a map interns (ds_map_store_interned, used by combine stages for
 * tuple and record keys), a string copied into it that equals one copied
 * before is not copied again: the key points at the earlier copy. The store
 * stays small, the stages and outputs that read the keys touch fewer cache
 * lines, and equal strings compare equal by address (dsg_str_eq's fast
 * path). The cache is direct-mapped on the string's hash, so a collision
 * only costs a second copy; it grows by 4x when it has copied as many new
 * strings as it has slots (up to INTERN_MAX_SLOTS) and empties with the arena:
 * its pointers are only valid until ds_arena_reset or ds_arena_release.
 */
#include "ds_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { INTERN_FIRST_SLOTS = 1024, INTERN_MAX_SLOTS = 1 << 16 };

typedef struct intern_slot {
  const char *ptr;
  uint32_t len;
  uint32_t tag; /* the hash's high half */
} intern_slot;

struct ds_intern {
  uint64_t mask;  /* slots - 1 */
  int64_t copied; /* strings copied since the cache was made, grew or was emptied */
  intern_slot slot[];
};

static size_t intern_size(uint64_t slots) { return sizeof(ds_intern) + slots * sizeof(intern_slot); }

static ds_intern *intern_new(ds_arena *a, uint64_t slots) {
  ds_intern *t = a->alloc(a->ud, NULL, 0, intern_size(slots));
  if (!t)
    return NULL;
  t->mask = slots - 1;
  t->copied = 0;
  memset(t->slot, 0, slots * sizeof(intern_slot));
  return t;
}

void ds_arena_intern(ds_arena *a) {
  if (!a->intern)
    a->intern = intern_new(a, INTERN_FIRST_SLOTS); /* without memory: plain copies */
}

void ds_intern_clear(ds_arena *a) {
  ds_intern *t = a->intern;
  memset(t->slot, 0, (t->mask + 1) * sizeof(intern_slot));
  t->copied = 0;
}

void ds_intern_free(ds_arena *a) {
  a->alloc(a->ud, a->intern, intern_size(a->intern->mask + 1), 0);
  a->intern = NULL;
}

void *ds_intern_bytes(ds_arena *a, const char *p, int64_t n) {
  ds_intern *t = a->intern;
  uint64_t h = ds_hash_bytes(p, n, DS_HASH_SEED);
  intern_slot *s = &t->slot[h & t->mask];
  uint32_t tag = (uint32_t)(h >> 32);
  if (s->ptr && s->tag == tag && s->len == (uint64_t)n && memcmp(s->ptr, p, (size_t)n) == 0)
    return (void *)s->ptr;
  char *q = ds_arena_alloc(a, (size_t)n);
  if (!q) {
    fputs("job: out of memory\n", stderr);
    abort();
  }
  memcpy(q, p, (size_t)n);
  if (n > UINT32_MAX)
    return q;
  if (++t->copied > (int64_t)(t->mask + 1) && t->mask + 1 < INTERN_MAX_SLOTS) {
    ds_intern *bigger = intern_new(a, (t->mask + 1) * 4);
    if (bigger) {
      ds_intern_free(a);
      a->intern = t = bigger;
      s = &t->slot[h & t->mask];
    }
  }
  *s = (intern_slot){q, (uint32_t)n, tag};
  return q;
}
