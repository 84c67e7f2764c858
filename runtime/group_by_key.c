/*
 * group_by_key.c — the executor of DS_GROUP_BY_KEY (`groupByKey()`).
 *
 * Its input is a materialised pair stream (K, V). The pairs are exchanged
 * by key hash to `partitions` output partitions (exchange.c); output
 * partition q groups its pairs by key (groups.c) and emits one element per
 * key, built by the generated node->make(ctx, out, &k, &values, NULL) where
 * values is a ds_list of the key's V values. The values of a partition are
 * gathered into one contiguous array in the task's batch arena, key by key,
 * so each list is a slice of it and lives until the batch ends. Within a
 * group the values keep input order; groups come in key table order. §7
 * leaves both unspecified, but the output is the same for the same input
 * whatever the thread count. Keys and values are copied shallowly (their
 * strings point into the input).
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct gbk_state {
  rt_exchange_side side;  /* the exchange of the input, kept across batches */
  rt_groups *groups;      /* one per output partition */
  int32_t nout;
} gbk_state;

typedef struct gbk_task {
  const ds_node *node;
  gbk_state *st;
  rt_stream *out;
} gbk_task;

static void gbk_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  gbk_task *t = arg;
  const ds_node *n = t->node;
  const rt_exchange_side *x = &t->st->side;
  rt_groups *g = &t->st->groups[q];
  int64_t first = x->start[q], nin = x->start[q + 1] - first;
  if (nin == 0)
    return;
  int64_t vsize = n->val->size, esize = n->elem->size;
  char *vals = ds_arena_alloc(ctx->arena, (size_t)(nin * vsize));
  if (!vals)
    rt_fatal("out of memory (the groups of groupByKey, %lld values)", (long long)nin);
  rt_group_side sides[2] = {{x->refs + first, nin, n->val_offset, vsize, vals}, {0}};
  rt_groups_build(g, sides, n->key->eq);
  ds_part *out = &t->out->parts[q];
  rt_part_reserve(out, g->len, esize);
  for (int64_t i = 0; i < g->nslots; i++) {
    const rt_slot *sl = &g->slots[i];
    if (!sl->flags)
      continue;
    ds_list list = {vals + (int64_t)sl->start[0] * vsize, sl->n[0]};
    void *slot = ds_part_push(out, esize);
    n->make(ctx, slot, sl->key, &list, NULL);
    if (rt_ctx_dropped(ctx))
      out->n--;
  }
}

static const char *gbk_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->make || !n->elem || !n->key || !n->key->hash || !n->key->eq ||
      !n->val)
    return "groupByKey needs one input, a make function and a hashable key type";
  gbk_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (groupByKey)");
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  st->groups = calloc((size_t)st->nout, sizeof *st->groups);
  if (!st->groups)
    rt_fatal("out of memory (groupByKey)");
  rj->state[node] = st;
  return NULL;
}

static void gbk_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  gbk_state *st = rj->state[node];
  st->side.in = &rj->streams[n->inputs[0]];
  st->side.hash = n->key->hash;
  st->side.elem_size = rj->job->nodes[n->inputs[0]].elem->size;
  rt_exchange(rj, &st->side, 1, st->nout);
  gbk_task t = {.node = n, .st = st, .out = &rj->streams[node]};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, gbk_part, &t);
}

static void gbk_free(rt_job *rj, int node) {
  gbk_state *st = rj->state[node];
  if (!st)
    return;
  rt_exchange_free(&st->side);
  for (int32_t q = 0; q < st->nout; q++)
    rt_groups_free(&st->groups[q]);
  free(st->groups);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_group_by_key = {.init = gbk_init, .run = gbk_run, .free = gbk_free};
