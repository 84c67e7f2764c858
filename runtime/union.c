/*
 * union.c — the executor of `s.union(t)`.
 *
 * The output's partitions are inputs[0]'s, then inputs[1]'s, so the union's
 * elements are those of s, then those of t (§7). Partition contents are
 * copied byte for byte: strings and lists inside elements keep pointing at
 * their inputs' memory, which lives until the end of the batch, as the
 * output does. Copying (not aliasing) keeps every stream's buffers its own.
 */
#include "rt.h"

#include <string.h>

static const char *union_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 2 || !n->elem)
    return "union needs two inputs and an element type";
  return NULL;
}

static void union_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  const rt_stream *a = &rj->streams[n->inputs[0]], *c = &rj->streams[n->inputs[1]];
  rt_stream *out = &rj->streams[node];
  int64_t size = n->elem->size;
  rt_stream_reset(out, a->nparts + c->nparts);
  for (int32_t i = 0; i < out->nparts; i++) {
    const ds_part *src = i < a->nparts ? &a->parts[i] : &c->parts[i - a->nparts];
    ds_part *dst = &out->parts[i];
    if (src->n == 0)
      continue;
    rt_part_reserve(dst, src->n, size);
    memcpy(dst->data, src->data, (size_t)(size * src->n));
    dst->n = src->n;
  }
}

const rt_exec rt_exec_union = {.init = union_init, .run = union_run};
