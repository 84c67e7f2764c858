/*
 * repartition.c — the executor of DS_REPARTITION (`repartition(n)`).
 *
 * The batch is spread evenly over node->int_arg output partitions as
 * contiguous slices, the way bounded sources split a batch (§7): counting
 * the input's elements in partition order, slice i of n over m elements
 * starts at element floor(i*m/n). Reading the output partitions in order
 * therefore gives the input in its order. Output partitions are filled in
 * parallel; elements are copied shallowly (their strings point into the
 * input, which lives until the end of the batch).
 *
 * n must be at least 1 (init says so otherwise); it is also at most
 * RT_MAX_REPARTITION, since every output partition is a buffer kept from
 * batch to batch.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RT_MAX_REPARTITION = 1 << 20 };

typedef struct repart_state {
  int64_t *base;    /* nin + 1: the first element of each input partition */
  int64_t cap_base;
  char msg[96];     /* what init returns */
} repart_state;

typedef struct repart_task {
  const rt_stream *in;
  rt_stream *out;
  const int64_t *base;
  int64_t total, size;
  int32_t nout;
} repart_task;

static void repart_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  repart_task *t = arg;
  int64_t lo = (int64_t)i * t->total / t->nout, hi = ((int64_t)i + 1) * t->total / t->nout;
  if (lo == hi)
    return;
  ds_part *out = &t->out->parts[i];
  rt_part_reserve(out, hi - lo, t->size);
  /* The input partition that holds element lo: the last p with base[p] <= lo. */
  int32_t p = 0, end = t->in->nparts;
  while (end - p > 1) {
    int32_t mid = p + (end - p) / 2;
    if (t->base[mid] <= lo)
      p = mid;
    else
      end = mid;
  }
  for (; lo < hi; p++) {
    int64_t from = lo - t->base[p], n = t->base[p + 1] - lo;
    if (n > hi - lo)
      n = hi - lo;
    if (n <= 0)
      continue;
    memcpy(out->data + out->n * t->size, t->in->parts[p].data + from * t->size,
           (size_t)(n * t->size));
    out->n += n;
    lo += n;
  }
}

static const char *repart_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  repart_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (repartition)");
  rj->state[node] = st;
  if (n->ninputs != 1 || !n->elem)
    return "repartition needs one input and an element type";
  if (n->int_arg < 1 || n->int_arg > RT_MAX_REPARTITION) {
    snprintf(st->msg, sizeof st->msg, "repartition(%lld): the number of partitions must be %s",
             (long long)n->int_arg, n->int_arg < 1 ? "at least 1" : "at most 1048576");
    return st->msg;
  }
  return NULL;
}

static void repart_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  repart_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[n->inputs[0]];
  st->base = rt_scratch(st->base, &st->cap_base, (int64_t)in->nparts + 1, sizeof *st->base);
  st->base[0] = 0;
  for (int32_t p = 0; p < in->nparts; p++)
    st->base[p + 1] = st->base[p] + in->parts[p].n;
  repart_task t = {.in = in, .out = &rj->streams[node], .base = st->base,
                   .total = st->base[in->nparts], .size = n->elem->size,
                   .nout = (int32_t)n->int_arg};
  rt_stream_reset(t.out, t.nout);
  if (t.total > 0)
    rt_parallel(rj, t.nout, repart_part, &t);
}

static void repart_free(rt_job *rj, int node) {
  repart_state *st = rj->state[node];
  if (!st)
    return;
  free(st->base);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_repartition = {.init = repart_init, .run = repart_run, .free = repart_free};
