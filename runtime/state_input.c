/*
 * state_input.c — a state operator's new pairs of one batch, moved to the
 * partition that owns each key and grouped per key.
 *
 * The input is a materialised pair stream (one ds_part per input
 * partition). Routing runs one task per input partition: it hashes every
 * pair once (key->hash) and sorts the partition's element numbers by output
 * partition with a stable counting sort, so each (input partition, output
 * partition) slice keeps the input's order. Grouping then runs in task q:
 * it walks the slices of q, input partitions in order, which is the
 * arrival order the operators promise (input partitions in order, then
 * their elements in order), and gives every key a group number in order of
 * first arrival (an open-addressing table of 8-byte slots sized to the
 * batch), then lays each group's values out contiguously in arrival order:
 * a ds_list of V, what updateStateByKey's function takes and the order
 * mapWithState's function runs in. Work is linear in the batch; the per-element data (hashes,
 * element numbers, the table, groups, values) lives in the batch arenas, so
 * nothing here allocates per record and nothing outlives the batch (a big
 * batch leaves no oversized table behind to slow the next ones).
 * Pairs and values are shallow copies: their strings point into the input.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

struct rt_state_route {
  uint64_t *hash;   /* the hash of each element of the input partition */
  uint32_t *order;  /* element numbers sorted by output partition, stably */
  int64_t *start;   /* nout + 1 offsets into order: output partition q's slice */
};

void rt_state_input_init(rt_state_input *si, const ds_node *node, int64_t pair_size, int32_t nout) {
  memset(si, 0, sizeof *si);
  si->key = node->key;
  si->val = node->val;
  si->val_offset = node->val_offset;
  si->pair_size = pair_size;
  si->nout = nout;
}

void rt_state_input_free(rt_state_input *si) {
  free(si->routes);
  memset(si, 0, sizeof *si);
}

static void *batch_alloc(ds_ctx *ctx, int64_t bytes) {
  void *p = ds_arena_alloc(ctx->arena, (size_t)bytes);
  if (!p)
    rt_fatal("out of memory (a state operator's batch of %lld bytes)", (long long)bytes);
  return p;
}

static void route_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  (void)rj;
  rt_state_input *si = arg;
  const ds_part *part = &si->in->parts[i];
  rt_state_route *r = &si->routes[i];
  int64_t n = part->n, nout = si->nout;
  if (n > UINT32_MAX)
    rt_fatal("a partition of %lld elements is too large for a state operator", (long long)n);
  r->hash = batch_alloc(ctx, n * 8);
  r->order = batch_alloc(ctx, n * 4);
  r->start = batch_alloc(ctx, (nout + 1) * 8);
  int32_t *dest = batch_alloc(ctx, n * 4);
  int64_t *next = batch_alloc(ctx, nout * 8);
  memset(r->start, 0, (size_t)(nout + 1) * 8);
  for (int64_t j = 0; j < n; j++) {
    uint64_t h = si->key->hash(part->data + j * si->pair_size);
    int32_t q = rt_partition_of(h, (int32_t)nout);
    r->hash[j] = h;
    dest[j] = q;
    r->start[q + 1]++;
  }
  for (int64_t q = 0; q < nout; q++) {
    r->start[q + 1] += r->start[q];
    next[q] = r->start[q];
  }
  for (int64_t j = 0; j < n; j++)
    r->order[next[dest[j]]++] = (uint32_t)j;
}

void rt_state_input_route(rt_job *rj, rt_state_input *si, const rt_stream *in) {
  if (in->nparts > si->cap_routes) {
    rt_state_route *routes = realloc(si->routes, (size_t)in->nparts * sizeof *routes);
    if (!routes)
      rt_fatal("out of memory (state operator)");
    si->routes = routes;
    si->cap_routes = in->nparts;
  }
  si->in = in;
  rt_parallel(rj, in->nparts, route_part, si);
}

/* Walks partition q's pairs in arrival order. */
typedef struct pair_iter {
  const rt_state_input *si;
  int32_t q, i;     /* output partition, current input partition */
  int64_t k;        /* position in input partition i's slice of q */
} pair_iter;

static pair_iter pairs_of(const rt_state_input *si, int32_t q) {
  pair_iter it = {.si = si, .q = q, .i = 0, .k = si->in->nparts ? si->routes[0].start[q] : 0};
  return it;
}

static bool next_pair(pair_iter *it, const char **pair, uint64_t *hash) {
  const rt_state_input *si = it->si;
  while (it->i < si->in->nparts) {
    const rt_state_route *r = &si->routes[it->i];
    if (it->k < r->start[it->q + 1]) {
      uint32_t j = r->order[it->k++];
      *pair = si->in->parts[it->i].data + (int64_t)j * si->pair_size;
      *hash = r->hash[j];
      return true;
    }
    if (++it->i < si->in->nparts)
      it->k = si->routes[it->i].start[it->q];
  }
  return false;
}

rt_state_group *rt_state_input_groups(ds_ctx *ctx, rt_state_input *si, int32_t q,
                                      int64_t *ngroups) {
  int64_t m = 0;
  for (int32_t i = 0; i < si->in->nparts; i++)
    m += si->routes[i].start[q + 1] - si->routes[i].start[q];
  *ngroups = 0;
  if (m == 0)
    return NULL;
  if (m > INT32_MAX)
    rt_fatal("a partition of %lld pairs is too large for a state operator", (long long)m);
  /* Group numbers in order of first arrival, through a table of
   * (group + 1) << 32 | low half of the hash, at most half full. */
  int64_t cap = 16;
  while (cap < 2 * m)
    cap *= 2;
  uint64_t *table = batch_alloc(ctx, cap * 8), mask = (uint64_t)cap - 1;
  memset(table, 0, (size_t)cap * 8);
  rt_state_group *groups = batch_alloc(ctx, m * (int64_t)sizeof *groups);
  int32_t *gids = batch_alloc(ctx, m * 4);
  int64_t e = 0, ng = 0;
  const char *pair;
  uint64_t hash;
  for (pair_iter it = pairs_of(si, q); next_pair(&it, &pair, &hash);) {
    uint64_t half = hash & 0xffffffffu, i = hash & mask;
    int64_t g = -1;
    for (; table[i]; i = (i + 1) & mask) {
      if ((table[i] & 0xffffffffu) != half)
        continue;
      int64_t c = (int64_t)(table[i] >> 32) - 1;
      if (groups[c].hash == hash && si->key->eq(pair, groups[c].key)) {
        g = c;
        break;
      }
    }
    if (g < 0) {
      g = ng++;
      table[i] = (uint64_t)(g + 1) << 32 | half;
      groups[g] = (rt_state_group){.hash = hash, .key = pair};
    }
    groups[g].values.len++;
    gids[e++] = (int32_t)g;
  }
  /* Each group's slice of one array of values, filled in arrival order. */
  int64_t vsize = si->val->size;
  char *vals = batch_alloc(ctx, m * vsize);
  int64_t off = 0;
  for (int64_t g = 0; g < ng; g++) {
    groups[g].values.ptr = vals + off * vsize;
    off += groups[g].values.len;
    groups[g].values.len = 0;
  }
  e = 0;
  for (pair_iter it = pairs_of(si, q); next_pair(&it, &pair, &hash);) {
    rt_state_group *g = &groups[gids[e++]];
    memcpy((char *)g->values.ptr + g->values.len * vsize, pair + si->val_offset, (size_t)vsize);
    g->values.len++;
  }
  *ngroups = ng;
  return groups;
}
