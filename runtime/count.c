/*
 * count.c — the executor of DS_COUNT (`s.count()`).
 *
 * Every batch of the input gives exactly one int element, the number of
 * elements in all its partitions: 0 for an empty batch, as Spark Streaming
 * (§7). The output has one partition.
 */
#include "rt.h"

static const char *count_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1)
    return "count needs one input";
  return NULL;
}

static void count_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, 1);
  int64_t *slot = ds_part_push(&out->parts[0], sizeof(int64_t));
  *slot = rt_stream_count(&rj->streams[n->inputs[0]]);
}

const rt_exec rt_exec_count = {.init = count_init, .run = count_run};
