/*
 * map.c — ds_map, the keyed hash table of pair elements (ds_job.h).
 *
 * Open addressing with linear probing over a power-of-two number of slots;
 * each entry is the key's 64-bit hash followed by the pair, so a probe
 * compares hashes first and calls key_eq only when they match, and growing
 * never rehashes a key. The table doubles when an insert would pass 3/4 load,
 * so after growing it is at most 3/8 full. Slots use the low bits of the hash
 * (rt_partition_of uses the high ones, so a partition's keys still spread).
 *
 * ds_map_set_route and ds_map_upsert are what generated code calls per
 * record: they are small, keep the growth out of line, and this file is also
 * compiled to LLVM bitcode so that LLVM inlines them and the key comparison
 * into the fused stage. Memory
 * comes from malloc and is kept across batches (ds_map_clear keeps it);
 * running out of memory ends the job.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

enum { MAP_FIRST_CAP = 16 };

_Static_assert(sizeof(ds_map) == 64, "a ds_map is one cache line");
_Static_assert(sizeof(ds_part) == 64, "a ds_part is one cache line");

void ds_map_init(ds_map *m, int64_t pair_size) {
  m->pad_ = 0;
  m->entries = NULL;
  m->used = NULL;
  m->store = NULL;
  m->cap = 0;
  m->len = 0;
  m->pair_size = pair_size;
  m->entry_size = (8 + pair_size + 7) & ~(int64_t)7;
}

void ds_map_clear(ds_map *m) {
  if (m->len) {
    memset(m->used, 0, (size_t)m->cap);
    m->len = 0;
  }
  if (m->store)
    ds_arena_reset(m->store);
}

void ds_map_free(ds_map *m) {
  free(m->entries);
  free(m->used);
  if (m->store) {
    ds_arena_destroy(m->store);
    free(m->store);
  }
  ds_map_init(m, m->pair_size);
}

__attribute__((noinline, cold)) static ds_arena *map_new_store(ds_map *m) {
  m->store = malloc(sizeof *m->store);
  if (!m->store)
    rt_fatal("out of memory (a keyed table's key store)");
  ds_arena_init(m->store, NULL, NULL);
  return m->store;
}

ds_arena *ds_map_store(ds_map *m) { return m->store ? m->store : map_new_store(m); }

ds_arena *ds_map_store_interned(ds_map *m) {
  ds_arena *a = ds_map_store(m);
  if (!a->intern)
    ds_arena_intern(a);
  return a;
}

/* Doubles the table (or makes the first one) and moves every entry to its
 * slot in the new one; keys are distinct, so no comparisons are needed. */
__attribute__((noinline, cold)) static void map_grow(ds_map *m) {
  int64_t cap = m->cap ? m->cap * 2 : MAP_FIRST_CAP;
  char *entries = malloc((size_t)(cap * m->entry_size));
  uint8_t *used = calloc((size_t)cap, 1);
  if (!entries || !used)
    rt_fatal("out of memory (a keyed table of %lld entries)", (long long)cap);
  uint64_t mask = (uint64_t)cap - 1;
  for (int64_t i = 0; i < m->cap; i++) {
    if (!m->used[i])
      continue;
    const char *e = m->entries + i * m->entry_size;
    uint64_t j = *(const uint64_t *)e & mask;
    while (used[j])
      j = (j + 1) & mask;
    used[j] = 1;
    memcpy(entries + (int64_t)j * m->entry_size, e, (size_t)m->entry_size);
  }
  free(m->entries);
  free(m->used);
  m->entries = entries;
  m->used = used;
  m->cap = cap;
}

ds_map *ds_map_set_route(const ds_map_set *s, uint64_t hash) {
  ds_map *m = &s->maps[rt_partition_of(hash, s->n)];
  ds_map_prefetch(m, hash);
  return m;
}

void *ds_map_upsert(ds_map *m, uint64_t hash, const void *key,
                    bool (*key_eq)(const void *, const void *), bool *inserted) {
  if (__builtin_expect(4 * (m->len + 1) > 3 * m->cap, 0))
    map_grow(m);
  uint64_t mask = (uint64_t)m->cap - 1;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    char *e = m->entries + (int64_t)i * m->entry_size;
    if (!m->used[i]) {
      m->used[i] = 1;
      m->len++;
      *(uint64_t *)e = hash;
      memset(e + 8, 0, (size_t)m->pair_size);
      *inserted = true;
      return e + 8;
    }
    if (*(uint64_t *)e == hash && key_eq(key, e + 8)) {
      *inserted = false;
      return e + 8;
    }
  }
}

void *rt_map_find(const ds_map *m, uint64_t hash, const void *key,
                  bool (*key_eq)(const void *, const void *)) {
  if (m->len == 0)
    return NULL;
  uint64_t mask = (uint64_t)m->cap - 1;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    if (!m->used[i])
      return NULL;
    char *e = m->entries + (int64_t)i * m->entry_size;
    if (*(uint64_t *)e == hash && key_eq(key, e + 8))
      return e + 8;
  }
}
