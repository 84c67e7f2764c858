/*
 * window.c — the executor of DS_WINDOW (`window(w, s)`).
 *
 * Every input batch that some window will cover is deep-copied (elem->copy)
 * into a pane of the node's window store, one arena per partition, so the
 * batch's own memory can go at the end of its batch. At each slide time T
 * the output is the concatenation, in batch order, of the kept batches with
 * times in (T - w, T] (fewer at the start, none for batches that fall in no
 * window, §7). The concatenated elements are spread over as many partitions
 * as the input has, in contiguous slices (slice i of n over m elements
 * starts at element ⌊i·m/n⌋, as bounded sources do), so concatenating the
 * output's partitions gives the window in order. Output elements point into
 * the panes, which stay until the next input batch after they left.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct window_state {
  rt_winstore ws;
  const rt_pane **cur;   /* the panes of the window being emitted */
  int32_t ncur, cap_cur;
} window_state;

typedef struct copy_task {
  const ds_type *elem;
  const rt_stream *in;
  rt_pane *pane;
} copy_task;

static void copy_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  copy_task *t = arg;
  const ds_part *src = &t->in->parts[i];
  ds_part *dst = &t->pane->parts[i];
  int64_t size = t->elem->size;
  rt_part_reserve(dst, src->n, size);
  dst->n = src->n;
  if (src->n == 0)
    return;
  if (!t->elem->copy) {
    memcpy(dst->data, src->data, (size_t)(src->n * size));
    return;
  }
  for (int64_t j = 0; j < src->n; j++)
    t->elem->copy(dst->data + j * size, src->data + j * size, &t->pane->arenas[i]);
}

/* Keeps the input's batch at t, once. */
static void window_retain(rt_job *rj, int node, int64_t t) {
  const ds_node *n = &rj->job->nodes[node];
  window_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[n->inputs[0]];
  if (!in->active)
    return;
  st->ws.t0 = rj->t0;
  rt_pane *pane = rt_winstore_add(&st->ws, t, in->nparts);
  if (!pane || in->nparts == 0)
    return;
  copy_task ct = {.elem = n->elem, .in = in, .pane = pane};
  rt_parallel(rj, in->nparts, copy_part, &ct);
}

static const char *window_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  window_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (window)");
  rj->state[node] = st;
  const char *msg = rt_winstore_init(&st->ws, rj, node);
  if (msg)
    return msg;
  if (!n->elem)
    return "window needs an element type";
  return NULL;
}

static void window_observe(rt_job *rj, int node, const rt_batch *b) {
  window_retain(rj, node, b->time);
}

static bool window_active(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  window_state *st = rj->state[node];
  if (!rj->streams[n->inputs[0]].active)
    return false;
  window_retain(rj, node, b->time);
  return rt_winstore_is_slide(&st->ws, b->time);
}

typedef struct emit_task {
  window_state *st;
  int64_t size, total;
  int32_t nout;
  rt_stream *out;
} emit_task;

/* Output partition q: elements [⌊q·m/n⌋, ⌊(q+1)·m/n⌋) of the window. */
static void emit_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  emit_task *t = arg;
  int64_t from = (int64_t)((__int128)q * t->total / t->nout);
  int64_t to = (int64_t)((__int128)(q + 1) * t->total / t->nout);
  ds_part *dst = &t->out->parts[q];
  rt_part_reserve(dst, to - from, t->size);
  dst->n = 0;
  int64_t pos = 0; /* index in the window of the current part's first element */
  for (int32_t k = 0; k < t->st->ncur && pos < to; k++) {
    const rt_pane *p = t->st->cur[k];
    for (int32_t i = 0; i < p->nparts && pos < to; i++) {
      const ds_part *src = &p->parts[i];
      int64_t lo = from > pos ? from - pos : 0;
      int64_t hi = to - pos < src->n ? to - pos : src->n;
      if (lo < hi) {
        memcpy(dst->data + dst->n * t->size, src->data + lo * t->size,
               (size_t)((hi - lo) * t->size));
        dst->n += hi - lo;
      }
      pos += src->n;
    }
  }
}

static void window_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  window_state *st = rj->state[node];
  int64_t T = b->time;
  window_retain(rj, node, T);
  st->ncur = 0;
  int64_t total = 0;
  for (int32_t k = 0; k < st->ws.npanes; k++) {
    const rt_pane *p = st->ws.panes[k];
    if (p->time <= T - st->ws.window || p->time > T)
      continue;
    if (st->ncur == st->cap_cur) {
      int32_t cap = st->cap_cur ? st->cap_cur * 2 : 8;
      const rt_pane **cur = realloc(st->cur, (size_t)cap * sizeof *cur);
      if (!cur)
        rt_fatal("out of memory (window)");
      st->cur = cur;
      st->cap_cur = cap;
    }
    st->cur[st->ncur++] = p;
    for (int32_t i = 0; i < p->nparts; i++)
      total += p->parts[i].n;
  }
  int32_t nout = rj->streams[n->inputs[0]].nparts;
  if (nout < 1)
    nout = 1;
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, nout);
  emit_task et = {.st = st, .size = n->elem->size, .total = total, .nout = nout, .out = out};
  if (total > 0)
    rt_parallel(rj, nout, emit_part, &et);
  rt_winstore_slid(&st->ws, T);
}

static void window_free(rt_job *rj, int node) {
  window_state *st = rj->state[node];
  if (!st)
    return;
  rt_winstore_free(&st->ws);
  free(st->cur);
  free(st);
  rj->state[node] = NULL;
}

/* Checkpoint: version (u32 1), then the window store (rt_winstore_save:
 * the kept batches' elements, re-sliced over this run's partitions on load,
 * which changes nothing a window emits: it concatenates them). */
enum { WINDOW_VERSION = 1 };

static void window_save(rt_job *rj, int node, rt_ckw *w) {
  window_state *st = rj->state[node];
  rt_ckw_u32(w, WINDOW_VERSION);
  rt_winstore_save(w, &st->ws, rj->job->nodes[node].elem, 0);
}

static const char *window_load(rt_job *rj, int node, rt_ckr *r) {
  window_state *st = rj->state[node];
  const char *why = rt_ckr_version(r, WINDOW_VERSION, "window");
  if (why || r->err)
    return why;
  int32_t nparts = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  return rt_winstore_load(r, &st->ws, rj->job->nodes[node].elem, 0, nparts);
}

const rt_exec rt_exec_window = {
    .init = window_init,
    .run = window_run,
    .active = window_active,
    .free = window_free,
    .observe = window_observe,
    .save = window_save,
    .load = window_load,
};
