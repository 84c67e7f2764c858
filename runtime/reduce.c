/*
 * reduce.c — the executor of DS_REDUCE (`s.reduce(f)`), and the reduction
 * of a whole batch that reduceByWindow shares.
 *
 * Each input partition is reduced on its own (in parallel), starting from
 * its first element; then the partitions' results are combined in
 * partition order. A non-empty batch gives one element, an empty batch
 * none (§7). f is associative and commutative, so the grouping does not
 * change the result; the fixed order keeps it independent of the thread
 * count all the same. A reduce call that fails with a record error leaves
 * the accumulator as the generated code left it and is counted (§8).
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct reduce_task {
  const ds_node *node;
  const rt_stream *in;
  rt_reducer *r;
  void *out;
  bool any;
} reduce_task;

static void reduce_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  reduce_task *t = arg;
  const ds_part *p = &t->in->parts[i];
  int64_t size = t->node->elem->size;
  char *acc = t->r->partials + (int64_t)i * size;
  t->r->has[i] = p->n > 0;
  if (p->n == 0)
    return;
  memcpy(acc, p->data, (size_t)size);
  for (int64_t j = 1; j < p->n; j++) {
    t->node->reduce(ctx, acc, p->data + j * size);
    rt_ctx_dropped(ctx);
  }
}

/* The single task that combines the partials in partition order. */
static void reduce_partials(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  reduce_task *t = arg;
  int64_t size = t->node->elem->size;
  for (int32_t k = 0; k < t->in->nparts; k++) {
    if (!t->r->has[k])
      continue;
    const char *v = t->r->partials + (int64_t)k * size;
    if (!t->any) {
      memcpy(t->out, v, (size_t)size);
      t->any = true;
    } else {
      t->node->reduce(ctx, t->out, v);
      rt_ctx_dropped(ctx);
    }
  }
}

bool rt_reduce_stream(rt_job *rj, const ds_node *node, const rt_stream *in, rt_reducer *r,
                      void *out) {
  if (rt_stream_count(in) == 0)
    return false;
  if (in->nparts > r->cap) {
    int32_t cap = in->nparts;
    char *partials = realloc(r->partials, (size_t)(cap * node->elem->size));
    uint8_t *has = realloc(r->has, (size_t)cap);
    if (!partials || !has)
      rt_fatal("out of memory (reduce)");
    r->partials = partials;
    r->has = has;
    r->cap = cap;
  }
  reduce_task t = {.node = node, .in = in, .r = r, .out = out, .any = false};
  rt_parallel(rj, in->nparts, reduce_part, &t);
  rt_parallel(rj, 1, reduce_partials, &t);
  return t.any;
}

void rt_reducer_free(rt_reducer *r) {
  free(r->partials);
  free(r->has);
  r->partials = NULL;
  r->has = NULL;
  r->cap = 0;
}

static const char *reduce_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->reduce || !n->elem)
    return "reduce needs one input, a function and an element type";
  rt_reducer *r = calloc(1, sizeof *r);
  if (!r)
    rt_fatal("out of memory (reduce)");
  rj->state[node] = r;
  return NULL;
}

static void reduce_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, 1);
  ds_part *p = &out->parts[0];
  void *slot = ds_part_push(p, n->elem->size);
  if (!rt_reduce_stream(rj, n, &rj->streams[n->inputs[0]], rj->state[node], slot))
    p->n = 0;
}

static void reduce_free(rt_job *rj, int node) {
  rt_reducer *r = rj->state[node];
  if (r) {
    rt_reducer_free(r);
    free(r);
    rj->state[node] = NULL;
  }
}

const rt_exec rt_exec_reduce = {.init = reduce_init, .run = reduce_run, .free = reduce_free};
