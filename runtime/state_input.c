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
 * first arrival (a scratch ds_map per output partition), then lays each
 * group's values out contiguously in arrival order: a ds_list of V, what
 * updateStateByKey's function takes and the order mapWithState's function
 * runs in. Work is linear in the batch; the per-element data (hashes,
 * element numbers, group numbers, values) lives in the batch arenas, so
 * nothing here allocates per record and nothing outlives the batch.
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
  si->gid_off = (node->key->size + 7) & ~(int64_t)7;
  si->groups = calloc((size_t)nout, sizeof *si->groups);
  if (!si->groups)
    rt_fatal("out of memory (state operator)");
  for (int32_t q = 0; q < nout; q++)
    ds_map_init(&si->groups[q], si->gid_off + 8);
}

void rt_state_input_free(rt_state_input *si) {
  if (si->groups)
    for (int32_t q = 0; q < si->nout; q++)
      ds_map_free(&si->groups[q]);
  free(si->groups);
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

rt_state_group *rt_state_input_groups(ds_ctx *ctx, rt_state_input *si, int32_t q, int64_t *ngroups) {
  int64_t m = 0;
  for (int32_t i = 0; i < si->in->nparts; i++)
    m += si->routes[i].start[q + 1] - si->routes[i].start[q];
  *ngroups = 0;
  if (m == 0)
    return NULL;
  /* Group numbers in order of first arrival. */
  ds_map *map = &si->groups[q];
  ds_map_clear(map);
  int64_t *gids = batch_alloc(ctx, m * 8);
  int64_t e = 0, ng = 0;
  const char *pair;
  uint64_t hash;
  for (pair_iter it = pairs_of(si, q); next_pair(&it, &pair, &hash);) {
    bool inserted;
    char *slot = ds_map_upsert(map, hash, pair, si->key->eq, &inserted);
    if (inserted) {
      memcpy(slot, pair, (size_t)si->key->size);
      *(int64_t *)(slot + si->gid_off) = ng++;
    }
    gids[e++] = *(int64_t *)(slot + si->gid_off);
  }
  /* Counts, then each group's slice of one array of values. */
  rt_state_group *groups = batch_alloc(ctx, ng * (int64_t)sizeof *groups);
  memset(groups, 0, (size_t)ng * sizeof *groups);
  e = 0;
  for (pair_iter it = pairs_of(si, q); next_pair(&it, &pair, &hash);) {
    rt_state_group *g = &groups[gids[e++]];
    if (g->values.len++ == 0) {
      g->hash = hash;
      g->key = pair;
    }
  }
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
