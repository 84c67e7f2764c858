/*
 * distinct.c — the executor of DS_DISTINCT (`distinct()`).
 *
 * The elements are exchanged by elem->hash of the whole element to
 * `partitions` output partitions (exchange.c), so equal elements meet in one
 * partition, in input order (input partitions in order). Output partition q
 * keeps the first of each set of equal elements (elem->eq), in the order
 * they first appear, through a key table sized up front (groups.c).
 * Elements are copied shallowly: their strings point into the input.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct distinct_state {
  rt_exchange_side side;  /* the exchange of the input, kept across batches */
  rt_groups *seen;        /* one per output partition */
  int32_t nout;
} distinct_state;

typedef struct distinct_task {
  const ds_node *node;
  distinct_state *st;
  rt_stream *out;
} distinct_task;

static void distinct_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  distinct_task *t = arg;
  const ds_node *n = t->node;
  const rt_exchange_side *x = &t->st->side;
  const rt_ref *refs = x->refs + x->start[q];
  int64_t nin = x->start[q + 1] - x->start[q], size = n->elem->size;
  if (nin == 0)
    return;
  rt_groups *g = &t->st->seen[q];
  rt_groups_reset(g, nin);
  ds_part *out = &t->out->parts[q];
  rt_part_reserve(out, nin, size);
  rt_eq_fn eq = n->elem->eq;
  for (int64_t j = 0; j < nin; j++) {
    bool added;
    if (j + 16 < nin)
      __builtin_prefetch(rt_groups_home(g, refs[j + 16].hash), 1);
    rt_groups_add(g, refs[j].hash, refs[j].elem, eq, &added);
    if (added)
      memcpy(out->data + out->n++ * size, refs[j].elem, (size_t)size);
  }
}

static const char *distinct_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->elem || !n->elem->hash || !n->elem->eq)
    return "distinct needs one input of a hashable element type";
  distinct_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (distinct)");
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  st->seen = calloc((size_t)st->nout, sizeof *st->seen);
  if (!st->seen)
    rt_fatal("out of memory (distinct)");
  rj->state[node] = st;
  return NULL;
}

static void distinct_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  distinct_state *st = rj->state[node];
  st->side.in = &rj->streams[n->inputs[0]];
  st->side.hash = n->elem->hash;
  st->side.elem_size = n->elem->size;
  rt_exchange(rj, &st->side, 1, st->nout);
  distinct_task t = {.node = n, .st = st, .out = &rj->streams[node]};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, distinct_part, &t);
}

static void distinct_free(rt_job *rj, int node) {
  distinct_state *st = rj->state[node];
  if (!st)
    return;
  rt_exchange_free(&st->side);
  for (int32_t q = 0; q < st->nout; q++)
    rt_groups_free(&st->seen[q]);
  free(st->seen);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_distinct = {.init = distinct_init, .run = distinct_run,
                                  .free = distinct_free};
