/*
 * shuffle.c — moving keyed data to the partition that owns each key.
 *
 * The map side of a keyed operator (a DS_STAGE_COMBINE) leaves one ds_map
 * per input partition, each key already combined within it. The shuffle
 * builds `nout` output maps: output q takes every entry whose key hash
 * belongs to q (rt_partition_of) from every input map, and combines equal
 * keys with the node's reduce function. Output partitions are independent,
 * so they run in parallel; each scans all input maps for its own keys
 * (nin x nout work, fine for a shared-memory pool). Inputs are read in
 * partition order and each input map in slot order, so the result — even
 * the order inside an output map — does not depend on the thread count.
 *
 * Pairs are copied shallowly: strings inside keys and values keep pointing
 * into the input's batch memory, which lives until the end of the batch.
 */
#include "rt.h"

#include <string.h>

/* Upserts the n pairs into out, combining equal keys with node->reduce. */
static void upsert_pairs(ds_ctx *ctx, const ds_node *node, const char **pairs, const uint64_t *hashes, int n,
                         ds_map *out) {
  int64_t pair_size = node->elem->size, voff = node->val_offset;
  for (int i = 0; i < n; i++) {
    bool inserted;
    char *slot = ds_map_upsert(out, hashes[i], pairs[i], node->key->eq, &inserted);
    if (inserted) {
      memcpy(slot, pairs[i], (size_t)pair_size);
    } else {
      node->reduce(ctx, slot + voff, pairs[i] + voff);
      rt_ctx_dropped(ctx);
    }
  }
}

/* Merges into out the pairs of m whose key hash falls in partition q of
 * nout (every pair when nout is 0), combining equal keys with node->reduce.
 * The pairs go in blocks of MERGE_BLOCK, in slot order; while a block
 * fills, the slots its upserts will probe are prefetched (as combine
 * stages do), so the misses overlap. */
enum { MERGE_BLOCK = 16 };

static void merge_map(ds_ctx *ctx, const ds_node *node, const ds_map *m, ds_map *out, int32_t q, int32_t nout) {
  const char *pairs[MERGE_BLOCK];
  uint64_t hashes[MERGE_BLOCK];
  int k = 0;
  for (int64_t j = 0; j < m->cap; j++) {
    uint64_t hash;
    const char *pair = ds_map_entry(m, j, &hash);
    if (!pair || (nout && rt_partition_of(hash, nout) != q))
      continue;
    ds_map_prefetch(out, hash);
    pairs[k] = pair;
    hashes[k++] = hash;
    if (k == MERGE_BLOCK) {
      upsert_pairs(ctx, node, pairs, hashes, k, out);
      k = 0;
    }
  }
  upsert_pairs(ctx, node, pairs, hashes, k, out);
}

void rt_shuffle_partition(ds_ctx *ctx, const ds_node *node, const ds_map *in, int32_t nin,
                          ds_map *out, int32_t q, int32_t nout) {
  for (int32_t i = 0; i < nin; i++)
    if (in[i].len)
      merge_map(ctx, node, &in[i], out, q, nout);
}

void rt_shuffle_stream(ds_ctx *ctx, const ds_node *node, rt_stream *in, ds_map *out, int32_t q, int32_t nout) {
  if (in->nsplit != nout) {
    rt_shuffle_partition(ctx, node, in->maps, in->nparts, out, q, nout);
    return;
  }
  for (int32_t i = 0; i < in->nparts; i++) {
    ds_map *m = &in->maps[i * in->nsplit + q];
    if (m->len == 0)
      continue;
    if (out->len == 0 && out->pair_size == m->pair_size) {
      ds_map tmp = *out;
      *out = *m;
      *m = tmp;
      continue;
    }
    merge_map(ctx, node, m, out, 0, 0); /* a split map holds only partition q */
  }
}

typedef struct shuffle_task {
  const ds_node *node;
  const ds_map *in;
  int32_t nin;
  ds_map *out;
  int32_t nout;
} shuffle_task;

static void shuffle_one(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  shuffle_task *t = arg;
  ds_map_clear(&t->out[q]);
  rt_shuffle_partition(ctx, t->node, t->in, t->nin, &t->out[q], q, t->nout);
}

void rt_shuffle(rt_job *rj, const ds_node *node, const ds_map *in, int32_t nin, ds_map *out,
                int32_t nout) {
  shuffle_task t = {.node = node, .in = in, .nin = nin, .out = out, .nout = nout};
  rt_parallel(rj, nout, shuffle_one, &t);
}

void rt_map_to_part(const ds_map *m, ds_part *out) {
  rt_part_reserve(out, out->n + m->len, m->pair_size);
  for (int64_t i = 0; i < m->cap; i++) {
    const void *pair = ds_map_entry(m, i, NULL);
    if (pair) {
      memcpy(out->data + out->n * m->pair_size, pair, (size_t)m->pair_size);
      out->n++;
    }
  }
}
