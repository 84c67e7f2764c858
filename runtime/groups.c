/*
 * groups.c — grouping the elements of one output partition by key
 * (groupByKey, the joins, cogroup, distinct).
 *
 * After an exchange (exchange.c) an output partition holds references to
 * its elements, each with its key's hash; this table finds each key's
 * group. Its slot is the group: the key's hash tag, the number of elements
 * of each side (a join's two inputs) and where they were gathered, and a
 * pointer to the first element with the key. So a lookup touches one slot
 * and, when the tags agree, the key it compares with eq; the joins prefetch
 * slots ahead of their probes (rt_groups_home), which hides most of the
 * cache misses of a large table.
 *
 * The table is sized up front for the partition (at most one key per
 * element, at most half full, linear probing), so it never grows while it
 * is filled; between batches it is cleared, not freed. rt_groups_build
 * then gathers the part of each element a caller wants (a pair's value)
 * contiguously per key, in input order within a key, with a counting sort:
 * keys in table order, each side into its own array. Elements themselves
 * are never copied by the table: keys point into the input's memory.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

enum { GROUPS_FIRST_SLOTS = 16, GROUPS_PREFETCH = 16 };

void rt_groups_reset(rt_groups *g, int64_t max_keys) {
  if (max_keys >= (int64_t)UINT32_MAX)
    rt_fatal("too many elements (%lld) in one partition of a shuffle: raise `partitions`",
             (long long)max_keys);
  int64_t cap = GROUPS_FIRST_SLOTS;
  while (cap < 2 * max_keys)
    cap *= 2;
  if (cap > g->cap_slots) {
    free(g->slots);
    g->slots = calloc((size_t)cap, sizeof *g->slots);
    if (!g->slots)
      rt_fatal("out of memory (a key table of %lld slots)", (long long)cap);
    g->cap_slots = cap;
  } else if (g->len || g->nslots != cap) {
    memset(g->slots, 0, (size_t)(cap > g->nslots ? cap : g->nslots) * sizeof *g->slots);
  }
  g->nslots = cap;
  g->mask = (uint64_t)cap - 1;
  g->max_keys = max_keys;
  g->len = 0;
}

rt_slot *rt_groups_add(rt_groups *g, uint64_t hash, const char *key, rt_eq_fn eq, bool *added) {
  uint32_t tag = (uint32_t)(hash >> 32);
  for (uint64_t i = hash & g->mask;; i = (i + 1) & g->mask) {
    rt_slot *s = &g->slots[i];
    if (!s->flags) {
      if (g->len == g->max_keys)
        rt_fatal("internal error: a key table filled past the size it was made for");
      g->len++;
      s->tag = tag;
      s->flags = RT_SLOT_USED;
      s->key = key;
      *added = true;
      return s;
    }
    if (s->tag == tag && eq(key, s->key)) {
      *added = false;
      return s;
    }
  }
}

void rt_groups_build(rt_groups *g, const rt_group_side sides[2], rt_eq_fn eq) {
  int64_t total = sides[0].n + sides[1].n;
  rt_groups_reset(g, total);
  g->where = rt_scratch(g->where, &g->cap_where, total, sizeof *g->where);
  /* Each element's slot, and the keys' counts. */
  int64_t k = 0;
  for (int s = 0; s < 2; s++) {
    const rt_ref *refs = sides[s].refs;
    for (int64_t j = 0; j < sides[s].n; j++) {
      if (j + GROUPS_PREFETCH < sides[s].n)
        __builtin_prefetch(rt_groups_home(g, refs[j + GROUPS_PREFETCH].hash), 1);
      bool added;
      rt_slot *sl = rt_groups_add(g, refs[j].hash, refs[j].elem, eq, &added);
      sl->n[s]++;
      g->where[k++] = (uint32_t)(sl - g->slots);
    }
  }
  /* Where each key's elements go (keys in table order); n counts again
   * while they are gathered. */
  uint32_t at[2] = {0, 0};
  for (int64_t i = 0; i < g->nslots; i++) {
    rt_slot *sl = &g->slots[i];
    if (!sl->flags)
      continue;
    for (int s = 0; s < 2; s++) {
      sl->start[s] = at[s];
      at[s] += sl->n[s];
      sl->n[s] = 0;
    }
  }
  k = 0;
  for (int s = 0; s < 2; s++) {
    const rt_group_side *side = &sides[s];
    for (int64_t j = 0; j < side->n; j++) {
      if (k + GROUPS_PREFETCH < total)
        __builtin_prefetch(&g->slots[g->where[k + GROUPS_PREFETCH]], 1);
      rt_slot *sl = &g->slots[g->where[k++]];
      if (side->out)
        memcpy(side->out + (int64_t)(sl->start[s] + sl->n[s]) * side->size,
               side->refs[j].elem + side->off, (size_t)side->size);
      sl->n[s]++;
    }
  }
}

void rt_groups_free(rt_groups *g) {
  free(g->slots);
  free(g->where);
  memset(g, 0, sizeof *g);
}
