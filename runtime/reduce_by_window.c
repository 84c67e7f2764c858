/*
 * reduce_by_window.c — the executor of DS_REDUCE_BY_WINDOW
 * (`reduceByWindow(f, w, s)` and `reduceByWindow(f, finv, w, s)`, and so
 * `countByWindow`).
 *
 * Each input batch is reduced to at most one value (reduce.c), deep-copied
 * into a one-partition pane of the window store. Without an inverse, a
 * slide time T reduces the panes in (T - w, T] in batch order and emits the
 * result, or nothing for an empty window (Spark: reduce, window, reduce).
 * With an inverse it is the single-key case of reduceByKeyAndWindow (Spark
 * maps every element to the key 1): the value of the previous window, with
 * the batches that left inverse-reduced out and the ones that entered
 * reduced in; a window before any element emits nothing, every later one
 * emits, an empty one its inverse-reduced value (0 for countByWindow). The
 * previous window's value is deep-copied into one of two arenas used in
 * turn, so the output at T stays valid while T + s is computed.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct rbw_state {
  rt_winstore ws;
  rt_reducer reducer;
  char *batch_value;   /* scratch for one batch's reduced value */
  char *prev;          /* the previous window's value (inverse only) */
  bool has_prev;       /* whether an element was ever seen (inverse only) */
  ds_arena arenas[2];  /* prev's memory, used in turn */
  int gen;             /* which arena prev lives in */
} rbw_state;

static void copy_value(const ds_type *t, void *dst, const void *src, ds_arena *a) {
  if (t->copy)
    t->copy(dst, src, a);
  else
    memcpy(dst, src, (size_t)t->size);
}

static void rbw_retain(rt_job *rj, int node, int64_t t) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[n->inputs[0]];
  if (!in->active)
    return;
  st->ws.t0 = rj->t0;
  rt_pane *pane = rt_winstore_add(&st->ws, t, 1);
  if (!pane)
    return;
  if (rt_reduce_stream(rj, n, in, &st->reducer, st->batch_value)) {
    void *slot = ds_part_push(&pane->parts[0], n->elem->size);
    copy_value(n->elem, slot, st->batch_value, &pane->arenas[0]);
  }
}

static const char *rbw_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (reduceByWindow)");
  rj->state[node] = st;
  ds_arena_init(&st->arenas[0], NULL, NULL);
  ds_arena_init(&st->arenas[1], NULL, NULL);
  const char *msg = rt_winstore_init(&st->ws, rj, node);
  if (msg)
    return msg;
  if (!n->elem || !n->reduce)
    return "reduceByWindow needs an element type and a function";
  st->batch_value = calloc(1, (size_t)n->elem->size + 1);
  st->prev = calloc(1, (size_t)n->elem->size + 1);
  if (!st->batch_value || !st->prev)
    rt_fatal("out of memory (reduceByWindow)");
  return NULL;
}

static void rbw_observe(rt_job *rj, int node, const rt_batch *b) { rbw_retain(rj, node, b->time); }

static bool rbw_active(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = rj->state[node];
  if (!rj->streams[n->inputs[0]].active)
    return false;
  rbw_retain(rj, node, b->time);
  return rt_winstore_is_slide(&st->ws, b->time);
}

/* Reduces the values of the panes with times in (lo, hi] into acc, in
 * batch order; returns whether there was one. */
static bool reduce_panes(ds_ctx *ctx, const ds_node *n, const rt_winstore *ws, int64_t lo,
                         int64_t hi, void *acc) {
  bool any = false;
  for (int32_t k = 0; k < ws->npanes; k++) {
    const rt_pane *p = ws->panes[k];
    if (p->time <= lo || p->time > hi || p->parts[0].n == 0)
      continue;
    if (!any) {
      memcpy(acc, p->parts[0].data, (size_t)n->elem->size);
      any = true;
    } else {
      n->reduce(ctx, acc, p->parts[0].data);
      rt_ctx_dropped(ctx);
    }
  }
  return any;
}

typedef struct slide_task {
  const ds_node *node;
  rbw_state *st;
  int64_t T;
  ds_part *out;
} slide_task;

static void rbw_slide(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  slide_task *t = arg;
  const ds_node *n = t->node;
  rbw_state *st = t->st;
  const rt_winstore *ws = &st->ws;
  int64_t T = t->T, w = ws->window, s = ws->slide, size = n->elem->size;
  char *slot = ds_part_push(t->out, size);
  if (!n->inv_reduce) {
    if (!reduce_panes(ctx, n, ws, T - w, T, slot))
      t->out->n = 0;
    return;
  }
  /* The previous window ended at P: T - s, or earlier when the job was down
   * in between (a restart skips the grid times of the downtime).
   * Leaving: in the previous window (P - w, P], not in this one.
   * Entering: in this window (T - w, T], not in the previous one.
   * Before the first slide computed there is no previous window (nothing
   * to subtract: the previous value is empty) and all of (T - w, T]
   * enters. Taking P = T - s there would be right only if the slide at
   * T - s had run: a restart from the journal alone that re-ran no slide,
   * then skipped the first slide time(s) of the grid, left the batches in
   * (T - w, T - s] out of this window, and subtracted them when they left. */
  bool first = ws->last_slide == INT64_MIN;
  int64_t P = !first && ws->last_slide < T ? ws->last_slide : T - s;
  int64_t leave_hi = P < T - w ? P : T - w;
  int64_t enter_lo = !first && P > T - w ? P : T - w;
  if (st->has_prev) {
    memcpy(slot, st->prev, (size_t)size);
    if (reduce_panes(ctx, n, ws, P - w, leave_hi, st->batch_value)) {
      n->inv_reduce(ctx, slot, st->batch_value);
      rt_ctx_dropped(ctx);
    }
    if (reduce_panes(ctx, n, ws, enter_lo, T, st->batch_value)) {
      n->reduce(ctx, slot, st->batch_value);
      rt_ctx_dropped(ctx);
    }
  } else if (!reduce_panes(ctx, n, ws, enter_lo, T, slot)) {
    t->out->n = 0;
    return;
  }
  /* The new previous value, in the arena not holding the old one. */
  int g = st->gen ^ 1;
  ds_arena_reset(&st->arenas[g]);
  copy_value(n->elem, st->prev, slot, &st->arenas[g]);
  st->gen = g;
  st->has_prev = true;
}

static void rbw_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = rj->state[node];
  rbw_retain(rj, node, b->time);
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, 1);
  slide_task t = {.node = n, .st = st, .T = b->time, .out = &out->parts[0]};
  rt_parallel(rj, 1, rbw_slide, &t);
  rt_winstore_slid(&st->ws, b->time);
}

static void rbw_free(rt_job *rj, int node) {
  rbw_state *st = rj->state[node];
  if (!st)
    return;
  rt_winstore_free(&st->ws);
  rt_reducer_free(&st->reducer);
  ds_arena_destroy(&st->arenas[0]);
  ds_arena_destroy(&st->arenas[1]);
  free(st->batch_value);
  free(st->prev);
  free(st);
  rj->state[node] = NULL;
}

/* Checkpoint: version (u32 1), whether the node has an inverse (u8: a load
 * refuses a change, as the previous value would be missing or stale), the
 * window store (each kept batch's reduced value, if any), whether there is
 * a previous window's value (u8, inverse only) and, if so, that value. */
enum { RBW_VERSION = 1 };

static void rbw_save(rt_job *rj, int node, rt_ckw *w) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = rj->state[node];
  rt_ckw_u32(w, RBW_VERSION);
  rt_ckw_u8(w, n->inv_reduce != NULL);
  rt_winstore_save(w, &st->ws, n->elem, 0);
  rt_ckw_u8(w, st->has_prev);
  if (st->has_prev)
    rt_ckw_value(w, n->elem, st->prev);
}

static const char *rbw_load(rt_job *rj, int node, rt_ckr *r) {
  const ds_node *n = &rj->job->nodes[node];
  rbw_state *st = rj->state[node];
  const char *why = rt_ckr_version(r, RBW_VERSION, "reduceByWindow");
  if (why || r->err)
    return why;
  uint8_t inverse = 0;
  if (rt_ckr_u8(r, &inverse) < 0)
    return NULL;
  if (inverse != (n->inv_reduce != NULL))
    return inverse ? "reduceByWindow: the checkpoint was written with an inverse function, "
                     "this job has none"
                   : "reduceByWindow: the checkpoint was written without an inverse function, "
                     "this job has one";
  const char *msg = rt_winstore_load(r, &st->ws, n->elem, 0, 1);
  if (msg || r->err)
    return msg;
  uint8_t has = 0;
  if (rt_ckr_u8(r, &has) < 0)
    return NULL;
  if (has > 1 || (has && !n->inv_reduce))
    return "reduceByWindow: checkpoint content is malformed";
  if (has) {
    ds_arena_reset(&st->arenas[st->gen]);
    if (rt_ckr_value(r, n->elem, st->prev, &st->arenas[st->gen]) < 0)
      return NULL;
  }
  st->has_prev = has;
  return NULL;
}

const rt_exec rt_exec_reduce_by_window = {
    .init = rbw_init,
    .run = rbw_run,
    .active = rbw_active,
    .free = rbw_free,
    .observe = rbw_observe,
    .save = rbw_save,
    .load = rbw_load,
};
