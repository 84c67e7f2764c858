/*
 * reduce_by_key.c — the executor of DS_REDUCE_BY_KEY (`reduceByKey(f)`).
 *
 * Its input is a DS_STAGE_COMBINE stream: one map per input partition in
 * which every key was already combined (the map side). Output partition q of
 * `partitions` merges the entries of q from every input map (shuffle.c) and
 * lists the resulting pairs; each key appears once, in the partition that
 * owns its hash. The order of pairs within a partition is unspecified (§7)
 * but the same for the same input, whatever the thread count.
 */
#include "rt.h"

#include <stdlib.h>

typedef struct rbk_state {
  ds_map *merged;     /* one per output partition, kept across batches */
  int32_t nout;       /* output partitions */
} rbk_state;

typedef struct rbk_task {
  const ds_node *node;
  rt_stream *in; /* the combine stage's maps, taken over by the shuffle */
  rt_stream *out;
  rbk_state *st;
} rbk_task;

static void rbk_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  rbk_task *t = arg;
  ds_map *m = &t->st->merged[q];
  ds_map_clear(m);
  rt_shuffle_stream(ctx, t->node, t->in, m, q, t->st->nout);
  rt_map_to_part(m, &t->out->parts[q]);
}

static const char *rbk_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->reduce || !n->elem || !n->key || !n->key->eq)
    return "reduceByKey needs one input, a function and a hashable key type";
  rbk_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (reduceByKey)");
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  st->merged = calloc((size_t)st->nout, sizeof *st->merged);
  if (!st->merged)
    rt_fatal("out of memory (reduceByKey)");
  for (int32_t q = 0; q < st->nout; q++)
    ds_map_init(&st->merged[q], n->elem->size);
  rj->state[node] = st;
  return NULL;
}

static void rbk_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rbk_state *st = rj->state[node];
  rbk_task t = {.node = n, .in = &rj->streams[n->inputs[0]], .out = &rj->streams[node], .st = st};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, rbk_part, &t);
}

static void rbk_free(rt_job *rj, int node) {
  rbk_state *st = rj->state[node];
  if (!st)
    return;
  for (int32_t q = 0; q < st->nout; q++)
    ds_map_free(&st->merged[q]);
  free(st->merged);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_reduce_by_key = {.init = rbk_init, .run = rbk_run, .free = rbk_free};
