/*
 * state_snapshots.c — the executor of DS_STATE_SNAPSHOTS
 * (`m.stateSnapshots()` on a stream made by mapWithState).
 *
 * Its input is the DS_MAP_WITH_STATE node, which runs first in every batch
 * (nodes are in topological order) and leaves its per-partition state
 * stores as the batch made them. Output partition q lists store q's keys
 * with their states, (K, S) built with node->make, in the store's order; so
 * each key appears once, in the partition that owns its hash. The pairs'
 * strings point into the store, which compacts only at the start of the
 * next batch of the mapWithState node.
 */
#include "rt.h"


typedef struct snap_task {
  const ds_node *node;
  rt_state_store *stores;
  rt_stream *out;
} snap_task;

static void snap_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  (void)rj;
  snap_task *t = arg;
  const ds_node *n = t->node;
  const rt_state_store *s = &t->stores[q];
  ds_part *out = &t->out->parts[q];
  int64_t esize = n->elem->size;
  rt_part_reserve(out, s->nlive, esize);
  for (int64_t i = 0; i < s->nentries; i++) {
    rt_state_entry *e = rt_state_at(s, i);
    if (e->time == RT_STATE_FREE)
      continue;
    void *slot = ds_part_push(out, esize);
    n->make(ctx, slot, rt_state_key(s, e), rt_state_val(s, e), NULL);
    if (rt_ctx_dropped(ctx))
      out->n--;
  }
}

static const char *snap_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->make || !n->elem ||
      rj->job->nodes[n->inputs[0]].kind != DS_MAP_WITH_STATE)
    return "stateSnapshots needs a stream made by mapWithState";
  return NULL;
}

static void snap_run(rt_job *rj, int node, const rt_batch *b) {
  (void)b;
  const ds_node *n = &rj->job->nodes[node];
  int32_t nstores;
  rt_state_store *stores = rt_map_with_state_stores(rj, n->inputs[0], &nstores);
  snap_task t = {.node = n, .stores = stores, .out = &rj->streams[node]};
  rt_stream_reset(t.out, nstores);
  rt_parallel(rj, nstores, snap_part, &t);
}

const rt_exec rt_exec_state_snapshots = {.init = snap_init, .run = snap_run};
