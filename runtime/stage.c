/*
 * stage.c — the executor of fused element-wise stages (DS_STAGE and
 * DS_STAGE_COMBINE).
 *
 * A stage is one generated loop over one input partition (ds_node.run).
 * The executor runs it on the worker pool, one task per input partition,
 * so partition i of the output comes from partition i of the input and
 * element-wise operators keep the order of their input. DS_STAGE appends to
 * the output's ds_part i; DS_STAGE_COMBINE combines into the `partitions`
 * maps of input partition i, one per destination partition of the shuffle
 * that follows (the map side of a keyed reduce, whose pairs have the node's
 * element type).
 * Each task counts its input records in ctx->records_in.
 *
 * A combine stage that keeps nothing of its records (ds_node.flag: its keys
 * are copied into the maps' stores and its values hold no strings) may be
 * given its input in pieces: when it is the only reader of a textFile, the
 * source does not keep the batch's text but reads each piece again right
 * before the stage runs over it (rt_stream.feed), so the bytes come from
 * the core's cache instead of memory. The stage function is called once per
 * piece with the same maps.
 */
#include "rt.h"

typedef struct stage_task {
  const ds_node *node;
  const rt_stream *in;
  rt_stream *out;
  bool combine;
} stage_task;

typedef struct piece_sink {
  const ds_node *node;
  ds_map_set *set;
} piece_sink;

static void run_piece(void *arg, const ds_part *piece, ds_ctx *ctx) {
  piece_sink *p = arg;
  p->node->run(ctx, piece, p->set);
}

static void run_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  stage_task *t = arg;
  const ds_part *in = &t->in->parts[i];
  ctx->records_in += in->n;
  if (t->combine) {
    ds_map_set set = {&t->out->maps[i * t->out->nsplit], t->out->nsplit};
    if (t->in->feed) {
      piece_sink p = {t->node, &set};
      t->in->feed(t->in->feed_state, i, ctx, run_piece, &p);
    } else {
      t->node->run(ctx, in, &set);
    }
  } else {
    t->node->run(ctx, in, &t->out->parts[i]);
  }
}

static const char *stage_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->run || !n->elem)
    return "a stage needs one input, a run function and an element type";
  return NULL;
}

static void stage_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  stage_task t = {
      .node = n,
      .in = &rj->streams[n->inputs[0]],
      .out = &rj->streams[node],
      .combine = n->kind == DS_STAGE_COMBINE,
  };
  int32_t nparts = t.in->nparts;
  if (t.combine) {
    /* Split by destination now, so the shuffle only merges. */
    int32_t nsplit = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
    rt_stream_reset_maps(t.out, nparts * nsplit, n->elem->size);
    t.out->nparts = nparts;
    t.out->nsplit = nsplit;
  } else
    rt_stream_reset(t.out, nparts);
  if (nparts > 0)
    rt_parallel(rj, nparts, run_part, &t);
}

bool rt_read_in_pieces(const ds_job *job, int node) {
  int readers = 0, reader = -1;
  for (int i = node + 1; i < job->nnodes; i++)
    for (int32_t k = 0; k < job->nodes[i].ninputs; k++)
      if (job->nodes[i].inputs[k] == node) {
        readers++;
        reader = i;
      }
  return readers == 1 && job->nodes[reader].kind == DS_STAGE_COMBINE && job->nodes[reader].flag;
}

const rt_exec rt_exec_stage = {.init = stage_init, .run = stage_run};
