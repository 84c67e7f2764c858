/*
 * map_with_state.c — the executor of DS_MAP_WITH_STATE (`mapWithState(f)`,
 * with `timeout: d`, `onTimeout: g`, `initial: [(K, S)]`).
 *
 * Its input is a materialised pair stream. Every batch the new pairs are
 * routed to the `partitions` partitions that own their keys and grouped per
 * key in arrival order (state_input.c: input partitions in order, then
 * their elements). Partition q works on its own state store, so the
 * partitions run in parallel and the result does not depend on the thread
 * count. For each key with new values, f runs once per value, in order,
 * on a scratch copy of the key's state carried from one value to the next;
 * each call may emit one element. A call that fails with a record error
 * emits nothing and leaves the state as it was before it. After the key's
 * last value the store keeps the final state (deep-copied) with the batch
 * time as the key's last update, or removes the key when f removed it.
 *
 * Timeouts (timeout_ms > 0): a key whose state was last updated at t (keys
 * from `initial:` at T0) times out in the first batch with time >= t + d in
 * which it gets no value: its state is removed and onTimeout, when given,
 * may emit a last element. Receiving a value refreshes t even when every
 * call failed (as Spark Streaming, which refreshes the timestamp of every
 * key it calls the function for). The deadlines are a heap per partition
 * (state_timeouts.c) holding one valid item per key: entry.aux is the
 * deadline of the key's item, so an item whose deadline is not its entry's
 * aux is stale (its key was removed), and an item of a key updated since is
 * pushed again at the new deadline. A batch handles only the items that
 * have come due. Outputs are the values' elements, then the timeouts'.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mws_state {
  int32_t nout;            /* output partitions: one store each */
  rt_state_input input;    /* this batch's pairs per partition and key */
  rt_state_store *stores;
  rt_timeouts *timeouts;   /* one per partition (timeout_ms > 0) */
  char *scratch;           /* per partition: the state being carried, then a backup */
  int64_t stride;
  bool seeded;             /* initial: was applied */
} mws_state;

typedef struct mws_task {
  const ds_node *node;
  mws_state *st;
  rt_stream *out;
  int64_t time;
} mws_task;

/* After a compaction renumbered entries: one item per key, at its deadline. */
static void rebuild_timeouts(rt_state_store *s, rt_timeouts *t) {
  rt_timeouts_clear(t);
  for (int64_t i = 0; i < s->nentries; i++) {
    rt_state_entry *e = rt_state_at(s, i);
    if (e->time != RT_STATE_FREE)
      rt_timeouts_add(t, e->aux, i);
  }
  rt_timeouts_heapify(t);
}

/* Runs f over one key's new values. */
static void map_key(ds_ctx *ctx, const ds_node *n, mws_state *st, int32_t q,
                    const rt_state_group *g, ds_part *out, int64_t time) {
  rt_state_store *s = &st->stores[q];
  int64_t ssize = n->state->size, esize = n->elem->size, vsize = n->val->size;
  char *state = st->scratch + 2 * q * st->stride, *backup = state + st->stride;
  int64_t e = rt_state_find(s, g->hash, g->key);
  bool has = e >= 0;
  if (has)
    memcpy(state, rt_state_val(s, rt_state_at(s, e)), (size_t)ssize);
  else
    memset(state, 0, (size_t)ssize);
  for (int64_t j = 0; j < g->values.len; j++) {
    const void *v = (const char *)g->values.ptr + j * vsize;
    bool had = has;
    memcpy(backup, state, (size_t)ssize);
    void *slot = ds_part_push(out, esize);
    bool emitted = n->map_state(ctx, g->key, v, state, &has, slot);
    if (rt_ctx_dropped(ctx)) {
      memcpy(state, backup, (size_t)ssize);
      has = had;
      emitted = false;
    }
    if (!emitted)
      out->n--;
  }
  if (!has) {
    if (e >= 0)
      rt_state_remove(s, e);
    return;
  }
  if (e >= 0) {
    rt_state_set(s, e, state);
    rt_state_at(s, e)->time = time;
    return;
  }
  e = rt_state_insert(s, g->hash, g->key, state, time);
  if (n->timeout_ms > 0) {
    rt_state_at(s, e)->aux = time + n->timeout_ms;
    rt_timeouts_push(&st->timeouts[q], time + n->timeout_ms, e);
  }
}

/* Times out the keys whose deadline has come and that got no value since. */
static void expire(ds_ctx *ctx, const ds_node *n, mws_state *st, int32_t q, ds_part *out,
                   int64_t time) {
  rt_state_store *s = &st->stores[q];
  rt_timeouts *t = &st->timeouts[q];
  int64_t d = n->timeout_ms;
  rt_deadline due;
  while (rt_timeouts_pop_due(t, time, &due)) {
    if (due.entry >= s->nentries)
      continue;
    rt_state_entry *e = rt_state_at(s, due.entry);
    if (e->time == RT_STATE_FREE || e->aux != due.at)
      continue; /* stale: the key was removed (its slot may hold another key) */
    if (e->time + d > time) {
      e->aux = e->time + d; /* updated since: due later */
      rt_timeouts_push(t, e->aux, due.entry);
      continue;
    }
    if (n->on_timeout) {
      void *slot = ds_part_push(out, n->elem->size);
      bool emitted = n->on_timeout(ctx, rt_state_key(s, e), rt_state_val(s, e), slot);
      if (rt_ctx_dropped(ctx) || !emitted)
        out->n--;
    }
    rt_state_remove(s, due.entry);
  }
}

static void mws_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  (void)rj;
  mws_task *t = arg;
  const ds_node *n = t->node;
  mws_state *st = t->st;
  rt_state_store *s = &st->stores[q];
  if (rt_state_store_compact(s, false) && n->timeout_ms > 0)
    rebuild_timeouts(s, &st->timeouts[q]);
  ds_part *out = &t->out->parts[q];
  int64_t ngroups;
  rt_state_group *groups = rt_state_input_groups(ctx, &st->input, q, &ngroups);
  for (int64_t g = 0; g < ngroups; g++)
    map_key(ctx, n, st, q, &groups[g], out, t->time);
  if (n->timeout_ms > 0)
    expire(ctx, n, st, q, out, t->time);
}

static const char *mws_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !n->map_state || !n->elem || !n->key || !n->key->hash || !n->key->eq ||
      !n->val || !n->state)
    return "mapWithState needs one pair input, a function and a hashable key type";
  if (n->timeout_ms < 0)
    return "mapWithState's timeout must be positive";
  const ds_node *in = &rj->job->nodes[n->inputs[0]];
  if (!in->elem)
    return "mapWithState needs a pair stream as its input";
  mws_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (mapWithState)");
  rj->state[node] = st;
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  rt_state_input_init(&st->input, n, in->elem->size, st->nout);
  st->stores = calloc((size_t)st->nout, sizeof *st->stores);
  st->timeouts = calloc((size_t)st->nout, sizeof *st->timeouts);
  st->stride = (n->state->size + 15) & ~(int64_t)15;
  st->scratch = calloc((size_t)st->nout * 2, (size_t)(st->stride ? st->stride : 16));
  if (!st->stores || !st->timeouts || !st->scratch)
    rt_fatal("out of memory (mapWithState)");
  for (int32_t q = 0; q < st->nout; q++)
    rt_state_store_init(&st->stores[q], n->key, n->state);
  return NULL;
}

static void seed(rt_job *rj, const ds_node *n, mws_state *st) {
  rt_state_seed(st->stores, st->nout, &n->initial, rj->t0);
  if (n->timeout_ms <= 0)
    return;
  for (int32_t q = 0; q < st->nout; q++) {
    rt_state_store *s = &st->stores[q];
    for (int64_t i = 0; i < s->nentries; i++) {
      rt_state_entry *e = rt_state_at(s, i);
      if (e->time != RT_STATE_FREE) {
        e->aux = e->time + n->timeout_ms;
        rt_timeouts_push(&st->timeouts[q], e->aux, i);
      }
    }
  }
}

static void mws_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  mws_state *st = rj->state[node];
  if (!st->seeded) {
    seed(rj, n, st);
    st->seeded = true;
  }
  rt_state_input_route(rj, &st->input, &rj->streams[n->inputs[0]]);
  mws_task t = {.node = n, .st = st, .out = &rj->streams[node], .time = b->time};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, mws_part, &t);
}

static void mws_free(rt_job *rj, int node) {
  mws_state *st = rj->state[node];
  if (!st)
    return;
  rt_state_input_free(&st->input);
  for (int32_t q = 0; q < st->nout; q++) {
    if (st->stores)
      rt_state_store_free(&st->stores[q]);
    if (st->timeouts)
      rt_timeouts_free(&st->timeouts[q]);
  }
  free(st->stores);
  free(st->timeouts);
  free(st->scratch);
  free(st);
  rj->state[node] = NULL;
}

rt_state_store *rt_map_with_state_stores(rt_job *rj, int node, int32_t *n) {
  mws_state *st = rj->state[node];
  *n = st ? st->nout : 0;
  return st ? st->stores : NULL;
}

/* Checkpoint: version (u32 1), the timeout (i64), whether
 * initial: was applied (u8), then the stores (rt_state_stores_save: each
 * key's state, last update and the deadline of its heap item in aux). A
 * load replaces what init set up: initial: is marked applied when it was
 * (never applied again over loaded state), and the timeout heaps are
 * rebuilt from the deadlines, one item per key (the stale items of removed
 * keys never act), so keys time out at the same batches and in the same
 * order as without the restart. When the timeout changed, each key's
 * deadline becomes its last update + the new timeout. */
enum { MWS_VERSION = 1 };

static void mws_save(rt_job *rj, int node, rt_ckw *w) {
  mws_state *st = rj->state[node];
  rt_ckw_u32(w, MWS_VERSION);
  rt_ckw_i64(w, rj->job->nodes[node].timeout_ms);
  rt_ckw_u8(w, st->seeded);
  rt_state_stores_save(w, st->stores, st->nout);
}

static const char *mws_load(rt_job *rj, int node, rt_ckr *r) {
  const ds_node *n = &rj->job->nodes[node];
  mws_state *st = rj->state[node];
  int64_t timeout = 0;
  uint8_t seeded = 0;
  const char *why = rt_ckr_version(r, MWS_VERSION, "mapWithState");
  if (why || r->err)
    return why;
  rt_ckr_i64(r, &timeout);
  rt_ckr_u8(r, &seeded);
  if (r->err)
    return NULL;
  if (seeded > 1)
    return "mapWithState: checkpoint content is malformed";
  st->seeded = seeded;
  const char *msg = rt_state_stores_load(r, st->stores, st->nout);
  if (msg || r->err)
    return msg;
  bool same = timeout == n->timeout_ms;
  for (int32_t q = 0; q < st->nout; q++) {
    rt_state_store *s = &st->stores[q];
    for (int64_t i = 0; i < s->nentries; i++) {
      rt_state_entry *e = rt_state_at(s, i);
      if (e->time != RT_STATE_FREE && !same)
        e->aux = n->timeout_ms > 0 ? e->time + n->timeout_ms : 0;
    }
    if (n->timeout_ms > 0)
      rebuild_timeouts(s, &st->timeouts[q]);
  }
  return NULL;
}

const rt_exec rt_exec_map_with_state = {
    .init = mws_init, .run = mws_run, .free = mws_free, .save = mws_save, .load = mws_load};
