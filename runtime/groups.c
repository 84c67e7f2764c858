/*
 * groups.c — grouping the elements of one output partition by key
 * (groupByKey, the joins, cogroup, distinct).
 *
 * After an exchange (exchange.c) an output partition holds references to
 * its elements, each with its key's hash; this table finds each key's group.
 * It is sized up front for the partition (at most one group per element, at
 * most half full), so it never grows while it is filled, and it is cleared,
 * not freed, between batches. A slot is one uint64_t: the high half of the
 * key's hash as a tag, and the group's index + 1 (0 is an empty slot), so a
 * probe compares tags before it calls the key's eq. Groups are numbered in
 * the order their keys first appear.
 *
 * rt_groups_build then lays out the elements of each side (a join's two
 * inputs) contiguously per group with a counting sort: group by group, and
 * within a group in input order. Keys are compared at the element's start
 * (a pair begins with its key; distinct compares whole elements). Nothing
 * here copies an element: groups and orders point into the input's memory.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

enum { GROUPS_FIRST_SLOTS = 16 };

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
  } else {
    memset(g->slots, 0, (size_t)cap * sizeof *g->slots);
  }
  g->mask = (uint64_t)cap - 1;
  g->groups = rt_scratch(g->groups, &g->cap_groups, max_keys, sizeof *g->groups);
  g->max_keys = max_keys;
  g->ngroups = 0;
}

int64_t rt_groups_add(rt_groups *g, uint64_t hash, const char *key, rt_eq_fn eq, bool *added) {
  uint64_t tag = hash >> 32, mask = g->mask;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = g->slots[i];
    if (s == 0) {
      if (g->ngroups == g->max_keys)
        rt_fatal("internal error: a key table filled past the size it was made for");
      int64_t id = g->ngroups++;
      g->slots[i] = tag << 32 | (uint64_t)(id + 1);
      g->groups[id] = (rt_group){.key = key};
      *added = true;
      return id;
    }
    if (s >> 32 == tag) {
      int64_t id = (int64_t)(s & UINT32_MAX) - 1;
      if (eq(key, g->groups[id].key)) {
        *added = false;
        return id;
      }
    }
  }
}

int64_t rt_groups_find(const rt_groups *g, uint64_t hash, const char *key, rt_eq_fn eq) {
  uint64_t tag = hash >> 32, mask = g->mask;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = g->slots[i];
    if (s == 0)
      return -1;
    if (s >> 32 == tag) {
      int64_t id = (int64_t)(s & UINT32_MAX) - 1;
      if (eq(key, g->groups[id].key))
        return id;
    }
  }
}

void rt_groups_build(rt_groups *g, const rt_ref *a, int64_t na, const rt_ref *b, int64_t nb,
                     rt_eq_fn eq) {
  const rt_ref *side[2] = {a, b};
  int64_t n[2] = {na, nb};
  rt_groups_reset(g, na + nb);
  g->gid = rt_scratch(g->gid, &g->cap_gid, na + nb, sizeof *g->gid);
  /* Each element's group, and the groups' sizes. */
  int64_t k = 0;
  for (int s = 0; s < 2; s++) {
    for (int64_t j = 0; j < n[s]; j++) {
      bool added;
      int64_t id = rt_groups_add(g, side[s][j].hash, side[s][j].elem, eq, &added);
      g->groups[id].n[s]++;
      g->gid[k++] = (uint32_t)id;
    }
  }
  /* Where each group's elements go, then the elements themselves: start[s]
   * runs over the group's places and is moved back afterwards. */
  for (int s = 0; s < 2; s++) {
    g->order[s] = rt_scratch(g->order[s], &g->cap_order[s], n[s], sizeof *g->order[s]);
    int64_t at = 0;
    for (int64_t i = 0; i < g->ngroups; i++) {
      g->groups[i].start[s] = at;
      at += g->groups[i].n[s];
    }
  }
  k = 0;
  for (int s = 0; s < 2; s++)
    for (int64_t j = 0; j < n[s]; j++)
      g->order[s][g->groups[g->gid[k++]].start[s]++] = side[s][j].elem;
  for (int64_t i = 0; i < g->ngroups; i++)
    for (int s = 0; s < 2; s++)
      g->groups[i].start[s] -= g->groups[i].n[s];
}

void rt_groups_free(rt_groups *g) {
  free(g->slots);
  free(g->groups);
  free(g->gid);
  free(g->order[0]);
  free(g->order[1]);
  memset(g, 0, sizeof *g);
}
