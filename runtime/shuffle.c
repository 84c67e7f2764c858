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

/* Merges into out the pairs of m whose key hash falls in partition q of
 * nout (every pair when nout is 0), combining equal keys with node->reduce. */
static void merge_map(ds_ctx *ctx, const ds_node *node, const ds_map *m, ds_map *out, int32_t q, int32_t nout) {
  int64_t pair_size = node->elem->size, voff = node->val_offset;
  bool (*key_eq)(const void *, const void *) = node->key->eq;
  for (int64_t j = 0; j < m->cap; j++) {
    uint64_t hash;
    const char *pair = ds_map_entry(m, j, &hash);
    if (!pair || (nout && rt_partition_of(hash, nout) != q))
      continue;
    bool inserted;
    char *slot = ds_map_upsert(out, hash, pair, key_eq, &inserted);
    if (inserted) {
      memcpy(slot, pair, (size_t)pair_size);
    } else {
      node->reduce(ctx, slot + voff, pair + voff);
      rt_ctx_dropped(ctx);
    }
  }
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
