/*
 * state_store.c — the keys and states a state operator keeps from batch to
 * batch (updateStateByKey, mapWithState): one store per partition, holding
 * K -> (S, time of the last update) for the keys whose hash the partition
 * owns (rt_partition_of).
 *
 * Entries are fixed-size records (a header with the key's hash, its time
 * and the arena bytes it holds, then the key, then the state) in pages of
 * RT_STATE_PAGE, numbered in order; a removed key's slot goes on a free list
 * and is reused. A separate open-addressing index of 8-byte slots (entry
 * number and the low half of the hash) finds a key: it probes without
 * touching the entries until the half-hashes match, and deletes by shifting
 * back, so it never fills with tombstones. Pages and index come from
 * malloc; nothing here allocates per record except the deep copies of keys
 * and states (ds_type.copy), which bump-allocate in the store's arena.
 *
 * Memory is reclaimed by compaction: removed keys and replaced states leave
 * their arena bytes behind as garbage, and removed keys leave free slots.
 * When the garbage exceeds the live bytes, or free slots outnumber live
 * entries, rt_state_store_compact moves the live entries down in order (so
 * the stable order is kept), deep-copies them into a fresh arena, frees the
 * old arena and the pages no longer needed, and rebuilds the index. Each
 * compaction copies the live data once after at least as much garbage was
 * made, so its cost is amortised over the updates that made the garbage.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

enum {
  MIN_GARBAGE = 256 * 1024, /* arena garbage worth a compaction */
  FIRST_INDEX = 16,         /* index slots of a store's first key */
};

static int64_t align_up(int64_t x, int64_t a) {
  if (a < 1)
    a = 1;
  return (x + a - 1) / a * a;
}

void rt_state_store_init(rt_state_store *s, const ds_type *key, const ds_type *state) {
  memset(s, 0, sizeof *s);
  s->key = key;
  s->state = state;
  s->key_off = align_up((int64_t)sizeof(rt_state_entry), key->align);
  s->state_off = align_up(s->key_off + key->size, state->align);
  int64_t a = key->align > state->align ? key->align : state->align;
  s->entry_size = align_up(s->state_off + state->size, a > 8 ? a : 8);
  s->free_head = -1;
  s->min_garbage = MIN_GARBAGE;
  s->min_holes = RT_STATE_PAGE;
  ds_arena_init(&s->arena, NULL, NULL);
  s->tmp = malloc((size_t)s->entry_size);
  if (!s->tmp)
    rt_fatal("out of memory (state store)");
}

void rt_state_store_free(rt_state_store *s) {
  for (int64_t p = 0; p < s->npages; p++)
    free(s->pages[p]);
  free(s->pages);
  free(s->index);
  free(s->tmp);
  ds_arena_destroy(&s->arena);
  memset(s, 0, sizeof *s);
  s->free_head = -1;
}

/* ---- the index ---- */

static inline uint64_t slot_of(int64_t entry, uint64_t hash) {
  return (uint64_t)(entry + 1) << 32 | (hash & 0xffffffffu);
}
static inline int64_t slot_entry(uint64_t slot) { return (int64_t)(slot >> 32) - 1; }

/* Puts an entry known to be absent into an index with room for it. */
static void index_put(uint64_t *index, int64_t cap, int64_t entry, uint64_t hash) {
  uint64_t mask = (uint64_t)cap - 1;
  uint64_t i = hash & mask;
  while (index[i])
    i = (i + 1) & mask;
  index[i] = slot_of(entry, hash);
}

/* Makes an index of cap slots holding every live entry. */
static void index_rebuild(rt_state_store *s, int64_t cap) {
  uint64_t *index = calloc((size_t)cap, sizeof *index);
  if (!index)
    rt_fatal("out of memory (a state index of %lld slots)", (long long)cap);
  for (int64_t i = 0; i < s->nentries; i++) {
    rt_state_entry *e = rt_state_at(s, i);
    if (e->time != RT_STATE_FREE)
      index_put(index, cap, i, e->hash);
  }
  free(s->index);
  s->index = index;
  s->index_cap = cap;
}

/* The smallest power of two that holds n keys at most half full. */
static int64_t index_cap_for(int64_t n) {
  int64_t cap = FIRST_INDEX;
  while (cap < 2 * n)
    cap *= 2;
  return cap;
}

int64_t rt_state_find(const rt_state_store *s, uint64_t hash, const void *key) {
  if (s->nlive == 0)
    return -1;
  uint64_t mask = (uint64_t)s->index_cap - 1, half = hash & 0xffffffffu;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t slot = s->index[i];
    if (!slot)
      return -1;
    if ((slot & 0xffffffffu) != half)
      continue;
    int64_t n = slot_entry(slot);
    rt_state_entry *e = rt_state_at(s, n);
    if (e->hash == hash && s->key->eq(key, rt_state_key(s, e)))
      return n;
  }
}

/* Removes entry n's slot and shifts the run after it back (linear probing
 * without tombstones). */
static void index_delete(rt_state_store *s, int64_t n, uint64_t hash) {
  uint64_t mask = (uint64_t)s->index_cap - 1;
  uint64_t i = hash & mask;
  while (slot_entry(s->index[i]) != n)
    i = (i + 1) & mask;
  for (uint64_t j = i;;) {
    j = (j + 1) & mask;
    uint64_t slot = s->index[j];
    if (!slot)
      break;
    uint64_t home = slot & mask; /* the low half of the hash gives the home slot */
    /* Leave the slot if its home lies cyclically in (i, j]. */
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays)
      continue;
    s->index[i] = slot;
    i = j;
  }
  s->index[i] = 0;
}

/* ---- entries ---- */

/* A free slot's number: the last freed one, else a new one at the end. */
static int64_t take_slot(rt_state_store *s) {
  if (s->free_head >= 0) {
    int64_t n = s->free_head;
    s->free_head = rt_state_at(s, n)->aux;
    return n;
  }
  int64_t n = s->nentries;
  if (n >= INT64_C(0xfffffffe))
    rt_fatal("a state partition holds too many keys");
  if (n / RT_STATE_PAGE >= s->npages) {
    if (s->npages == s->cap_pages) {
      int64_t cap = s->cap_pages ? s->cap_pages * 2 : 8;
      char **pages = realloc(s->pages, (size_t)cap * sizeof *pages);
      if (!pages)
        rt_fatal("out of memory (state store)");
      s->pages = pages;
      s->cap_pages = cap;
    }
    s->pages[s->npages] = malloc((size_t)(RT_STATE_PAGE * s->entry_size));
    if (!s->pages[s->npages])
      rt_fatal("out of memory (a state page of %lld bytes)",
               (long long)(RT_STATE_PAGE * s->entry_size));
    s->npages++;
  }
  s->nentries++;
  return n;
}

/* Deep-copies a value of type t from src into dst (whose bytes are already
 * src's) and returns the arena bytes it took. */
static uint32_t deep_copy(const ds_type *t, void *dst, const void *src, ds_arena *a) {
  if (!t->copy)
    return 0;
  size_t before = ds_arena_bytes(a);
  t->copy(dst, src, a);
  size_t used = ds_arena_bytes(a) - before;
  if (used > UINT32_MAX)
    rt_fatal("a key or state of %zu bytes is too large for a state store", used);
  return (uint32_t)used;
}

int64_t rt_state_insert(rt_state_store *s, uint64_t hash, const void *key, const void *state,
                        int64_t time) {
  if (4 * (s->nlive + 1) > 3 * s->index_cap)
    index_rebuild(s, s->index_cap ? s->index_cap * 2 : FIRST_INDEX);
  int64_t n = take_slot(s);
  rt_state_entry *e = rt_state_at(s, n);
  e->hash = hash;
  e->time = time;
  e->aux = 0;
  void *k = rt_state_key(s, e), *v = rt_state_val(s, e);
  memcpy(k, key, (size_t)s->key->size);
  memcpy(v, state, (size_t)s->state->size);
  e->key_bytes = deep_copy(s->key, k, key, &s->arena);
  e->state_bytes = deep_copy(s->state, v, state, &s->arena);
  s->live_bytes += (int64_t)e->key_bytes + e->state_bytes;
  s->nlive++;
  index_put(s->index, s->index_cap, n, hash);
  return n;
}

void rt_state_set(rt_state_store *s, int64_t i, const void *state) {
  rt_state_entry *e = rt_state_at(s, i);
  void *v = rt_state_val(s, e);
  if (v == state || memcmp(v, state, (size_t)s->state->size) == 0)
    return;
  s->live_bytes -= e->state_bytes;
  memcpy(v, state, (size_t)s->state->size);
  e->state_bytes = deep_copy(s->state, v, state, &s->arena);
  s->live_bytes += e->state_bytes;
}

void rt_state_remove(rt_state_store *s, int64_t i) {
  rt_state_entry *e = rt_state_at(s, i);
  index_delete(s, i, e->hash);
  s->live_bytes -= (int64_t)e->key_bytes + e->state_bytes;
  e->time = RT_STATE_FREE;
  e->aux = s->free_head;
  e->key_bytes = e->state_bytes = 0;
  s->free_head = i;
  s->nlive--;
}

/* ---- compaction ---- */

bool rt_state_store_compact(rt_state_store *s, bool force) {
  int64_t garbage = (int64_t)ds_arena_bytes(&s->arena) - s->live_bytes;
  int64_t holes = s->nentries - s->nlive;
  bool arena = garbage > s->live_bytes && garbage >= s->min_garbage;
  bool slots = holes > s->nlive && holes >= s->min_holes;
  if (!force && !arena && !slots)
    return false;
  bool deep = s->key->copy || s->state->copy;
  ds_arena fresh;
  ds_arena_init(&fresh, NULL, NULL);
  int64_t j = 0, live_bytes = 0;
  bool moved = false;
  for (int64_t i = 0; i < s->nentries; i++) {
    rt_state_entry *e = rt_state_at(s, i);
    if (e->time == RT_STATE_FREE)
      continue;
    rt_state_entry *d = rt_state_at(s, j);
    moved = moved || d != e;
    if (deep) {
      /* The copy functions read the old bytes while writing the new ones:
       * go through tmp, so source and destination never overlap. */
      memcpy(s->tmp, e, (size_t)s->entry_size);
      memcpy(d, s->tmp, (size_t)s->entry_size);
      d->key_bytes = deep_copy(s->key, rt_state_key(s, d), s->tmp + s->key_off, &fresh);
      d->state_bytes = deep_copy(s->state, rt_state_val(s, d), s->tmp + s->state_off, &fresh);
      live_bytes += (int64_t)d->key_bytes + d->state_bytes;
    } else if (d != e) {
      memcpy(d, e, (size_t)s->entry_size);
    }
    j++;
  }
  ds_arena_destroy(&s->arena);
  s->arena = fresh;
  s->live_bytes = live_bytes;
  s->nentries = s->nlive = j;
  s->free_head = -1;
  int64_t pages = (j + RT_STATE_PAGE - 1) / RT_STATE_PAGE;
  for (int64_t p = pages; p < s->npages; p++)
    free(s->pages[p]);
  s->npages = pages;
  if (moved || holes)
    index_rebuild(s, index_cap_for(j));
  return moved;
}

int64_t rt_state_store_bytes(const rt_state_store *s) {
  return s->npages * RT_STATE_PAGE * s->entry_size + s->cap_pages * (int64_t)sizeof(char *) +
         s->index_cap * 8 + (int64_t)ds_arena_reserved(&s->arena);
}

void rt_state_seed(rt_state_store *stores, int32_t n, const ds_list *initial, int64_t time) {
  if (n <= 0 || initial->len == 0)
    return;
  const ds_type *key = stores[0].key, *state = stores[0].state;
  int64_t state_off = align_up(key->size, state->align);
  int64_t a = key->align > state->align ? key->align : state->align;
  int64_t stride = align_up(state_off + state->size, a);
  for (int64_t i = 0; i < initial->len; i++) {
    const char *pair = (const char *)initial->ptr + i * stride;
    uint64_t hash = key->hash(pair);
    rt_state_store *s = &stores[rt_partition_of(hash, n)];
    int64_t e = rt_state_find(s, hash, pair);
    if (e >= 0) {
      rt_state_set(s, e, pair + state_off);
      rt_state_at(s, e)->time = time;
    } else {
      rt_state_insert(s, hash, pair, pair + state_off, time);
    }
  }
}

/* ---- checkpoints ---- */

/* Per store: nentries (u64), free_head (i64), garbage (u64: arena bytes
 * that live entries do not hold), then every entry number in order: a live
 * one as u8 1, time (i64), aux (i64), key and state (rt_ckw_value); a free
 * one as u8 0 and the next free slot (i64). Keeping the free slots, their
 * list and the garbage lets a load into as many partitions rebuild each
 * store exactly: new keys then take the same slots and compactions come at
 * the same batches, so the store's order (the operators' output order)
 * stays what it would have been without the restart. */

static _Thread_local char load_msg[320];

void rt_state_stores_save(rt_ckw *w, const rt_state_store *stores, int32_t n) {
  rt_ckw_u32(w, (uint32_t)n);
  for (int32_t q = 0; q < n; q++) {
    const rt_state_store *s = &stores[q];
    int64_t garbage = (int64_t)ds_arena_bytes(&s->arena) - s->live_bytes;
    rt_ckw_u64(w, (uint64_t)s->nentries);
    rt_ckw_i64(w, s->free_head);
    rt_ckw_u64(w, (uint64_t)(garbage > 0 ? garbage : 0));
    for (int64_t i = 0; i < s->nentries && !w->err; i++) {
      rt_state_entry *e = rt_state_at(s, i);
      if (e->time == RT_STATE_FREE) {
        rt_ckw_u8(w, 0);
        rt_ckw_i64(w, e->aux);
        continue;
      }
      rt_ckw_u8(w, 1);
      rt_ckw_i64(w, e->time);
      rt_ckw_i64(w, e->aux);
      rt_ckw_value(w, s->key, rt_state_key(s, e));
      rt_ckw_value(w, s->state, rt_state_val(s, e));
    }
  }
}

/* Appends a free slot (load, same partition count). */
static void append_free(rt_state_store *s, int64_t next) {
  int64_t i = take_slot(s);
  rt_state_entry *e = rt_state_at(s, i);
  memset(e, 0, (size_t)s->entry_size);
  e->time = RT_STATE_FREE;
  e->aux = next;
}

/* Checks the free list of a store loaded slot by slot and installs it. */
static const char *install_free_list(rt_state_store *s, int64_t head, int32_t q) {
  int64_t nfree = s->nentries - s->nlive, steps = 0;
  for (int64_t i = head; i != -1; i = rt_state_at(s, i)->aux) {
    if (i < 0 || i >= s->nentries || rt_state_at(s, i)->time != RT_STATE_FREE || steps >= nfree) {
      snprintf(load_msg, sizeof load_msg,
               "checkpoint content is malformed: a bad free list in state partition %d", (int)q);
      return load_msg;
    }
    steps++;
  }
  if (steps != nfree) {
    snprintf(load_msg, sizeof load_msg,
             "checkpoint content is malformed: %lld free slots but %lld listed in state "
             "partition %d",
             (long long)nfree, (long long)steps, (int)q);
    return load_msg;
  }
  s->free_head = head;
  return NULL;
}

const char *rt_state_stores_load(rt_ckr *r, rt_state_store *stores, int32_t n) {
  uint32_t saved = 0;
  if (rt_ckr_u32(r, &saved) < 0)
    return NULL; /* the caller reports r->err */
  if (n < 1 || saved < 1 || saved > (uint32_t)INT32_MAX) {
    snprintf(load_msg, sizeof load_msg,
             "checkpoint content is malformed: %u state partitions", (unsigned)saved);
    return load_msg;
  }
  for (int32_t q = 0; q < n; q++)
    if (stores[q].nentries != 0) {
      snprintf(load_msg, sizeof load_msg, "state partition %d is not empty before a load", (int)q);
      return load_msg;
    }
  bool exact = saved == (uint32_t)n; /* same partitions: rebuild each store slot by slot */
  const ds_type *kt = stores[0].key, *st = stores[0].state;
  char *key = calloc(1, (size_t)kt->size + 16), *state = calloc(1, (size_t)st->size + 16);
  if (!key || !state)
    rt_fatal("out of memory (loading a state store)");
  ds_arena tmp;
  ds_arena_init(&tmp, NULL, NULL);
  const char *msg = NULL;
  for (uint32_t q = 0; q < saved && !msg && !r->err; q++) {
    uint64_t nentries = 0, garbage = 0;
    int64_t free_head = -1;
    rt_ckr_u64(r, &nentries);
    rt_ckr_i64(r, &free_head);
    rt_ckr_u64(r, &garbage);
    if (r->err)
      break;
    /* Each entry takes at least 9 bytes (its flag and an i64). */
    if (nentries > (r->len - r->pos) / 9 || nentries >= UINT64_C(0xfffffffe) ||
        garbage > (UINT64_C(1) << 40)) {
      snprintf(load_msg, sizeof load_msg,
               "checkpoint content is malformed: state partition %u of %llu entries", (unsigned)q,
               (unsigned long long)nentries);
      msg = load_msg;
      break;
    }
    for (uint64_t i = 0; i < nentries && !msg; i++) {
      uint8_t live = 0;
      if (rt_ckr_u8(r, &live) < 0)
        break;
      if (live == 0) {
        int64_t next = 0;
        if (rt_ckr_i64(r, &next) < 0)
          break;
        if (exact)
          append_free(&stores[q], next);
        continue;
      }
      int64_t time = 0, aux = 0;
      rt_ckr_i64(r, &time);
      rt_ckr_i64(r, &aux);
      ds_arena_reset(&tmp);
      rt_ckr_value(r, kt, key, &tmp);
      rt_ckr_value(r, st, state, &tmp);
      if (r->err)
        break;
      if (live != 1 || time == RT_STATE_FREE) {
        snprintf(load_msg, sizeof load_msg,
                 "checkpoint content is malformed: a bad entry in state partition %u", (unsigned)q);
        msg = load_msg;
        break;
      }
      uint64_t hash = kt->hash(key);
      int32_t p = rt_partition_of(hash, n);
      if (exact && p != (int32_t)q) {
        snprintf(load_msg, sizeof load_msg,
                 "a key of state partition %u belongs to partition %d: the key type's hash "
                 "changed since the checkpoint",
                 (unsigned)q, (int)p);
        msg = load_msg;
        break;
      }
      rt_state_store *s = &stores[p];
      if (rt_state_find(s, hash, key) >= 0) {
        snprintf(load_msg, sizeof load_msg,
                 "checkpoint content is malformed: a key twice in a state store");
        msg = load_msg;
        break;
      }
      int64_t e = rt_state_insert(s, hash, key, state, time);
      rt_state_at(s, e)->aux = aux;
    }
    if (msg || r->err || !exact)
      continue;
    rt_state_store *s = &stores[q];
    msg = install_free_list(s, free_head, (int32_t)q);
    /* The garbage, so that the next compaction comes when it would have. */
    if (!msg && garbage > 0)
      (void)ds_arena_alloc(&s->arena, (size_t)garbage);
  }
  ds_arena_destroy(&tmp);
  free(key);
  free(state);
  return msg;
}
