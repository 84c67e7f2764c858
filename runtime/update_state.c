/*
 * update_state.c — the executor of DS_UPDATE_STATE_BY_KEY
 * (`updateStateByKey(f)`, with `initial: [(K, S)]`).
 *
 * Its input is a materialised pair stream. Every batch the new pairs are
 * routed to the `partitions` partitions that own their keys and grouped per
 * key (state_input.c); each partition q then works on its own state store
 * (state_store.c), so the partitions run in parallel and the result does
 * not depend on the thread count. In partition q, f runs once for every key
 * with new values, with its values (in arrival order) and its state or
 * NULL, and then once, with no values, for every other key that has state —
 * also in an empty batch, as Spark Streaming: f returning some keeps the
 * new state, none removes the key, and a record error keeps the state the
 * key had (or leaves it without one). The output is every key that has
 * state after the batch, (K, S) built with node->make, in the store's
 * order; its strings may point into the store, which compacts only at the
 * start of the next batch. Every key f ran for has the batch time as its
 * time. `initial:` seeds the stores at time T0 when the first batch runs.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct usk_state {
  int32_t nout;          /* output partitions: one store each */
  rt_state_input input;  /* this batch's pairs per partition and key */
  rt_state_store *stores;
  char *scratch;         /* nout new-state buffers, stride bytes apart */
  int64_t stride;
  bool seeded;           /* initial: was applied */
} usk_state;

typedef struct usk_task {
  const ds_node *node;
  usk_state *st;
  rt_stream *out;
  int64_t time;
} usk_task;

/* Runs f for one key; e is its entry number or -1. On return the store
 * holds what f decided. */
static void update_key(ds_ctx *ctx, const ds_node *n, rt_state_store *s, char *buf, uint64_t hash,
                       const void *key, int64_t e, const ds_list *values, int64_t time) {
  memset(buf, 0, (size_t)n->state->size);
  const void *old = e >= 0 ? rt_state_val(s, rt_state_at(s, e)) : NULL;
  bool some = n->update(ctx, buf, values, old);
  if (rt_ctx_dropped(ctx)) {
    if (e >= 0)
      rt_state_at(s, e)->time = time;
    return;
  }
  if (!some) {
    if (e >= 0)
      rt_state_remove(s, e);
  } else if (e >= 0) {
    rt_state_set(s, e, buf);
    rt_state_at(s, e)->time = time;
  } else {
    rt_state_insert(s, hash, key, buf, time);
  }
}

static void usk_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  (void)rj;
  usk_task *t = arg;
  const ds_node *n = t->node;
  usk_state *st = t->st;
  rt_state_store *s = &st->stores[q];
  char *buf = st->scratch + q * st->stride;
  rt_state_store_compact(s, false);
  /* Keys with new values: their time becomes the batch's. */
  int64_t ngroups;
  rt_state_group *groups = rt_state_input_groups(ctx, &st->input, q, &ngroups);
  for (int64_t g = 0; g < ngroups; g++) {
    rt_state_group *gr = &groups[g];
    int64_t e = rt_state_find(s, gr->hash, gr->key);
    update_key(ctx, n, s, buf, gr->hash, gr->key, e, &gr->values, t->time);
  }
  /* Every other key with state, then the output, in one pass in store
   * order; keys inserted above sit in reused or new slots with the batch's
   * time and are only emitted. */
  ds_part *out = &t->out->parts[q];
  int64_t esize = n->elem->size;
  rt_part_reserve(out, s->nlive, esize);
  ds_list none = {NULL, 0};
  for (int64_t i = 0; i < s->nentries; i++) {
    rt_state_entry *e = rt_state_at(s, i);
    if (e->time == RT_STATE_FREE)
      continue;
    if (e->time != t->time) {
      update_key(ctx, n, s, buf, e->hash, rt_state_key(s, e), i, &none, t->time);
      if (e->time == RT_STATE_FREE)
        continue;
    }
    void *slot = ds_part_push(out, esize);
    n->make(ctx, slot, rt_state_key(s, e), rt_state_val(s, e), NULL);
    if (rt_ctx_dropped(ctx))
      out->n--;
  }
}

static const char *usk_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->update || !n->make || !n->elem || !n->key || !n->key->hash ||
      !n->key->eq || !n->val || !n->state)
    return "updateStateByKey needs one pair input, a function and a hashable key type";
  const ds_node *in = &rj->job->nodes[n->inputs[0]];
  if (!in->elem)
    return "updateStateByKey needs a pair stream as its input";
  usk_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (updateStateByKey)");
  rj->state[node] = st;
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  rt_state_input_init(&st->input, n, in->elem->size, st->nout);
  st->stores = calloc((size_t)st->nout, sizeof *st->stores);
  st->stride = (n->state->size + 15) & ~(int64_t)15;
  st->scratch = calloc((size_t)st->nout, (size_t)(st->stride ? st->stride : 16));
  if (!st->stores || !st->scratch)
    rt_fatal("out of memory (updateStateByKey)");
  for (int32_t q = 0; q < st->nout; q++)
    rt_state_store_init(&st->stores[q], n->key, n->state);
  return NULL;
}

static void usk_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  usk_state *st = rj->state[node];
  if (!st->seeded) {
    rt_state_seed(st->stores, st->nout, &n->initial, rj->t0);
    st->seeded = true;
  }
  rt_state_input_route(rj, &st->input, &rj->streams[n->inputs[0]]);
  usk_task t = {.node = n, .st = st, .out = &rj->streams[node], .time = b->time};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, usk_part, &t);
}

static void usk_free(rt_job *rj, int node) {
  usk_state *st = rj->state[node];
  if (!st)
    return;
  rt_state_input_free(&st->input);
  if (st->stores)
    for (int32_t q = 0; q < st->nout; q++)
      rt_state_store_free(&st->stores[q]);
  free(st->stores);
  free(st->scratch);
  free(st);
  rj->state[node] = NULL;
}

rt_state_store *rt_update_state_stores(rt_job *rj, int node, int32_t *n) {
  usk_state *st = rj->state[node];
  *n = st ? st->nout : 0;
  return st ? st->stores : NULL;
}

/* Checkpoint: version (u32 1), whether initial: was applied (u8),
 * then the stores (rt_state_stores_save). A load replaces what init set up
 * and marks initial: as applied when it was, so it is never applied over
 * loaded state; a node that had not run yet seeds at its first batch. */
enum { USK_VERSION = 1 };

static void usk_save(rt_job *rj, int node, rt_ckw *w) {
  usk_state *st = rj->state[node];
  rt_ckw_u32(w, USK_VERSION);
  rt_ckw_u8(w, st->seeded);
  rt_state_stores_save(w, st->stores, st->nout);
}

static const char *usk_load(rt_job *rj, int node, rt_ckr *r) {
  usk_state *st = rj->state[node];
  uint8_t seeded = 0;
  const char *why = rt_ckr_version(r, USK_VERSION, "updateStateByKey");
  if (why || r->err)
    return why;
  rt_ckr_u8(r, &seeded);
  if (r->err)
    return NULL;
  if (seeded > 1)
    return "updateStateByKey: checkpoint content is malformed";
  st->seeded = seeded;
  return rt_state_stores_load(r, st->stores, st->nout);
}

const rt_exec rt_exec_update_state_by_key = {
    .init = usk_init, .run = usk_run, .free = usk_free, .save = usk_save, .load = usk_load};
