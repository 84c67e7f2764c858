/*
 * reduce_by_key_and_window.c — the executor of DS_REDUCE_BY_KEY_AND_WINDOW
 * (`reduceByKeyAndWindow(f, w, s)`, `reduceByKeyAndWindow(f, finv, w, s)`
 * with `filter: p`, and so `countByValueAndWindow`).
 *
 * Its input is a DS_STAGE_COMBINE stream (one map per input partition).
 * Every input batch that some window covers becomes a pane: its per-key
 * reduced values, shuffled into `partitions` partitions by key hash, stored
 * as (hash, pair) entries deep-copied into the pane's arenas. Output
 * partition q of every slide only reads partition q of the panes, so the
 * partitions run in parallel and the result does not depend on the thread
 * count.
 *
 * Without an inverse, a slide at T reduces per key the panes in (T - w, T]
 * in batch order: a key with no values in the window is absent.
 *
 * With an inverse, as Spark Streaming's ReducedWindowedDStream: the node
 * keeps the previous window's pairs; a key's new value is
 * f(finv(previous, reduce(leaving)), reduce(entering)), where leaving are
 * the batches of the previous window that are not in this one and entering
 * the batches of this window that were not in the previous one (each part
 * only when it has values for the key). A key not in the previous window
 * starts from reduce(entering); a key with neither is absent. A key stays
 * while `filter` (when given) holds for its pair: a pair it rejects (or
 * fails on) is dropped and forgotten. At the start there is no previous
 * window, so the first windows are built from what entered. The previous
 * window's pairs are deep-copied into one of two generations of maps and
 * arenas used in turn, so the output at T stays valid while T + s is built.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct rbkw_state {
  rt_winstore ws;
  int32_t nout;          /* output partitions */
  int64_t entry_size;    /* a pane entry: uint64_t hash, then the pair */
  ds_map *merged;        /* nout scratch maps: a batch's shuffle, a window's reduce, entering */
  ds_map *leaving;       /* nout scratch maps (inverse only) */
  ds_map *prev[2];       /* nout maps per generation: the previous window (inverse only) */
  ds_arena *arenas[2];   /* nout arenas per generation, owning prev's data */
  int gen;               /* the generation holding the previous window */
  char *tmp;             /* nout scratch pairs, tmp_stride bytes apart */
  int64_t tmp_stride;    /* the pair size rounded up to 16 */
} rbkw_state;

static void copy_pair(const ds_node *n, char *dst, const char *src, ds_arena *a) {
  memcpy(dst, src, (size_t)n->elem->size);
  if (n->key->copy)
    n->key->copy(dst, src, a);
  if (n->val->copy)
    n->val->copy(dst + n->val_offset, src + n->val_offset, a);
}

typedef struct pane_task {
  const ds_node *node;
  rbkw_state *st;
  rt_stream *in; /* the combine stage's maps, taken over by the shuffle */
  rt_pane *pane;
} pane_task;

/* Pane partition q: the batch's pairs of partition q, merged and copied. */
static void pane_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  pane_task *t = arg;
  const ds_node *n = t->node;
  rbkw_state *st = t->st;
  ds_map *m = &st->merged[q];
  ds_map_clear(m);
  rt_shuffle_stream(ctx, n, t->in, m, q, st->nout);
  ds_part *dst = &t->pane->parts[q];
  rt_part_reserve(dst, m->len, st->entry_size);
  for (int64_t i = 0; i < m->cap; i++) {
    uint64_t hash;
    const char *pair = ds_map_entry(m, i, &hash);
    if (!pair)
      continue;
    char *e = dst->data + dst->n * st->entry_size;
    dst->n++;
    *(uint64_t *)e = hash;
    copy_pair(n, e + 8, pair, &t->pane->arenas[q]);
  }
}

static void rbkw_retain(rt_job *rj, int node, int64_t t) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = rj->state[node];
  rt_stream *in = &rj->streams[n->inputs[0]];
  if (!in->active)
    return;
  st->ws.t0 = rj->t0;
  rt_pane *pane = rt_winstore_add(&st->ws, t, st->nout);
  if (!pane)
    return;
  pane_task pt = {.node = n, .st = st, .in = in, .pane = pane};
  rt_parallel(rj, st->nout, pane_part, &pt);
}

static ds_map *new_maps(int32_t n, int64_t pair_size) {
  ds_map *maps = calloc((size_t)n, sizeof *maps);
  if (!maps)
    rt_fatal("out of memory (reduceByKeyAndWindow)");
  for (int32_t i = 0; i < n; i++)
    ds_map_init(&maps[i], pair_size);
  return maps;
}

static void free_maps(ds_map *maps, int32_t n) {
  if (!maps)
    return;
  for (int32_t i = 0; i < n; i++)
    ds_map_free(&maps[i]);
  free(maps);
}

static const char *rbkw_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (reduceByKeyAndWindow)");
  rj->state[node] = st;
  const char *msg = rt_winstore_init(&st->ws, rj, node);
  if (msg)
    return msg;
  if (!n->elem || !n->key || !n->key->eq || !n->val || !n->reduce)
    return "reduceByKeyAndWindow needs pairs with a hashable key and a function";
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  int64_t pair_size = n->elem->size;
  st->entry_size = (8 + pair_size + 7) & ~(int64_t)7;
  st->merged = new_maps(st->nout, pair_size);
  st->tmp_stride = (pair_size + 15) & ~(int64_t)15;
  st->tmp = calloc((size_t)st->nout, (size_t)(st->tmp_stride ? st->tmp_stride : 16));
  if (!st->tmp)
    rt_fatal("out of memory (reduceByKeyAndWindow)");
  if (n->inv_reduce) {
    st->leaving = new_maps(st->nout, pair_size);
    for (int g = 0; g < 2; g++) {
      st->prev[g] = new_maps(st->nout, pair_size);
      st->arenas[g] = calloc((size_t)st->nout, sizeof(ds_arena));
      if (!st->arenas[g])
        rt_fatal("out of memory (reduceByKeyAndWindow)");
      for (int32_t q = 0; q < st->nout; q++)
        ds_arena_init(&st->arenas[g][q], NULL, NULL);
    }
  }
  return NULL;
}

static void rbkw_observe(rt_job *rj, int node, const rt_batch *b) {
  rbkw_retain(rj, node, b->time);
}

static bool rbkw_active(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = rj->state[node];
  if (!rj->streams[n->inputs[0]].active)
    return false;
  rbkw_retain(rj, node, b->time);
  return rt_winstore_is_slide(&st->ws, b->time);
}

/* Reduces partition q of the panes with times in (lo, hi] into m (cleared
 * first), per key, in batch order. */
static void reduce_panes(ds_ctx *ctx, const ds_node *n, const rbkw_state *st, int32_t q,
                         int64_t lo, int64_t hi, ds_map *m) {
  int64_t pair_size = n->elem->size, voff = n->val_offset;
  ds_map_clear(m);
  for (int32_t k = 0; k < st->ws.npanes; k++) {
    const rt_pane *p = st->ws.panes[k];
    if (p->time <= lo || p->time > hi)
      continue;
    const ds_part *part = &p->parts[q];
    for (int64_t i = 0; i < part->n; i++) {
      const char *e = part->data + i * st->entry_size;
      uint64_t hash = *(const uint64_t *)e;
      bool inserted;
      char *slot = ds_map_upsert(m, hash, e + 8, n->key->eq, &inserted);
      if (inserted) {
        memcpy(slot, e + 8, (size_t)pair_size);
      } else {
        n->reduce(ctx, slot + voff, e + 8 + voff);
        rt_ctx_dropped(ctx);
      }
    }
  }
}

typedef struct slide_task {
  const ds_node *node;
  rbkw_state *st;
  int64_t T;
  rt_stream *out;
} slide_task;

/* Adds the pair in tmp to the next generation unless the filter drops it. */
static void keep(ds_ctx *ctx, const ds_node *n, ds_map *next, ds_arena *a, uint64_t hash,
                 const char *tmp) {
  if (n->filter) {
    bool ok = n->filter(ctx, tmp);
    if (rt_ctx_dropped(ctx) || !ok)
      return;
  }
  bool inserted;
  char *slot = ds_map_upsert(next, hash, tmp, n->key->eq, &inserted);
  copy_pair(n, slot, tmp, a);
}

static void slide_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  slide_task *t = arg;
  const ds_node *n = t->node;
  rbkw_state *st = t->st;
  int64_t T = t->T, w = st->ws.window, s = st->ws.slide, voff = n->val_offset;
  ds_map *entering = &st->merged[q];
  if (!n->inv_reduce) {
    reduce_panes(ctx, n, st, q, T - w, T, entering);
    rt_map_to_part(entering, &t->out->parts[q]);
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
  bool first = st->ws.last_slide == INT64_MIN;
  int64_t P = !first && st->ws.last_slide < T ? st->ws.last_slide : T - s;
  int64_t leave_hi = P < T - w ? P : T - w;
  int64_t enter_lo = !first && P > T - w ? P : T - w;
  ds_map *leaving = &st->leaving[q];
  reduce_panes(ctx, n, st, q, P - w, leave_hi, leaving);
  reduce_panes(ctx, n, st, q, enter_lo, T, entering);
  const ds_map *prev = &st->prev[st->gen][q];
  int g = st->gen ^ 1;
  ds_map *next = &st->prev[g][q];
  ds_arena *a = &st->arenas[g][q];
  ds_map_clear(next);
  ds_arena_reset(a);
  char *tmp = st->tmp + (int64_t)q * st->tmp_stride;
  for (int64_t i = 0; i < prev->cap; i++) {
    uint64_t hash;
    const char *pair = ds_map_entry(prev, i, &hash);
    if (!pair)
      continue;
    memcpy(tmp, pair, (size_t)n->elem->size);
    const char *old = rt_map_find(leaving, hash, pair, n->key->eq);
    if (old) {
      n->inv_reduce(ctx, tmp + voff, old + voff);
      rt_ctx_dropped(ctx);
    }
    const char *add = rt_map_find(entering, hash, pair, n->key->eq);
    if (add) {
      n->reduce(ctx, tmp + voff, add + voff);
      rt_ctx_dropped(ctx);
    }
    keep(ctx, n, next, a, hash, tmp);
  }
  for (int64_t i = 0; i < entering->cap; i++) {
    uint64_t hash;
    const char *pair = ds_map_entry(entering, i, &hash);
    if (!pair || rt_map_find(prev, hash, pair, n->key->eq))
      continue;
    memcpy(tmp, pair, (size_t)n->elem->size);
    keep(ctx, n, next, a, hash, tmp);
  }
  rt_map_to_part(next, &t->out->parts[q]);
}

static void rbkw_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = rj->state[node];
  rbkw_retain(rj, node, b->time);
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, st->nout);
  slide_task t = {.node = n, .st = st, .T = b->time, .out = out};
  rt_parallel(rj, st->nout, slide_part, &t);
  if (n->inv_reduce)
    st->gen ^= 1;
  rt_winstore_slid(&st->ws, b->time);
}

static void rbkw_free(rt_job *rj, int node) {
  rbkw_state *st = rj->state[node];
  if (!st)
    return;
  rt_winstore_free(&st->ws);
  free_maps(st->merged, st->nout);
  free_maps(st->leaving, st->nout);
  for (int g = 0; g < 2; g++) {
    free_maps(st->prev[g], st->nout);
    if (st->arenas[g]) {
      for (int32_t q = 0; q < st->nout; q++)
        ds_arena_destroy(&st->arenas[g][q]);
      free(st->arenas[g]);
    }
  }
  free(st->tmp);
  free(st);
  rj->state[node] = NULL;
}

/* Checkpoint: version (u32 1), whether the node has an inverse (u8: a load
 * refuses a change), the window store (keyed panes: each batch's reduced
 * pairs with their hashes), and with an inverse the previous window's pairs:
 * the partition count (u32), then per partition its pairs (u64 count, then
 * hash and pair each). A load routes every pair by its hash among this
 * run's partitions, so the count may differ from the saved run's. */
enum { RBKW_VERSION = 1 };

static void rbkw_save(rt_job *rj, int node, rt_ckw *w) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = rj->state[node];
  rt_ckw_u32(w, RBKW_VERSION);
  rt_ckw_u8(w, n->inv_reduce != NULL);
  rt_winstore_save(w, &st->ws, n->elem, st->entry_size);
  if (!n->inv_reduce)
    return;
  rt_ckw_u32(w, (uint32_t)st->nout);
  for (int32_t q = 0; q < st->nout; q++) {
    const ds_map *m = &st->prev[st->gen][q];
    rt_ckw_u64(w, (uint64_t)m->len);
    for (int64_t i = 0; i < m->cap && !w->err; i++) {
      uint64_t hash;
      const char *pair = ds_map_entry(m, i, &hash);
      if (!pair)
        continue;
      rt_ckw_u64(w, hash);
      rt_ckw_value(w, n->elem, pair);
    }
  }
}

static const char *rbkw_load(rt_job *rj, int node, rt_ckr *r) {
  const ds_node *n = &rj->job->nodes[node];
  rbkw_state *st = rj->state[node];
  uint8_t inverse = 0;
  const char *why = rt_ckr_version(r, RBKW_VERSION, "reduceByKeyAndWindow");
  if (why || r->err)
    return why;
  if (rt_ckr_u8(r, &inverse) < 0)
    return NULL;
  if (inverse != (n->inv_reduce != NULL))
    return inverse ? "reduceByKeyAndWindow: the checkpoint was written with an inverse "
                     "function, this job has none"
                   : "reduceByKeyAndWindow: the checkpoint was written without an inverse "
                     "function, this job has one";
  const char *msg = rt_winstore_load(r, &st->ws, n->elem, st->entry_size, st->nout);
  if (msg || r->err || !inverse)
    return msg;
  uint32_t saved = 0;
  if (rt_ckr_u32(r, &saved) < 0)
    return NULL;
  if (saved > (r->len - r->pos) / 8)
    return "reduceByKeyAndWindow: checkpoint content is malformed";
  ds_map *prev = st->prev[st->gen];
  ds_arena *arenas = st->arenas[st->gen];
  char *tmp = st->tmp;
  for (uint32_t i = 0; i < saved && !r->err; i++) {
    uint64_t m = 0;
    if (rt_ckr_u64(r, &m) < 0)
      break;
    if (m > (r->len - r->pos) / 8)
      return "reduceByKeyAndWindow: checkpoint content is malformed";
    for (uint64_t j = 0; j < m && !r->err; j++) {
      uint64_t hash = 0;
      if (rt_ckr_u64(r, &hash) < 0)
        break;
      int32_t q = rt_partition_of(hash, st->nout);
      /* The pair's strings go straight to the arena of its partition. */
      if (rt_ckr_value(r, n->elem, tmp, &arenas[q]) < 0)
        break;
      bool inserted;
      char *slot = ds_map_upsert(&prev[q], hash, tmp, n->key->eq, &inserted);
      if (!inserted)
        return "reduceByKeyAndWindow: checkpoint content is malformed (a key twice)";
      memcpy(slot, tmp, (size_t)n->elem->size);
    }
  }
  return NULL;
}

const rt_exec rt_exec_reduce_by_key_and_window = {
    .init = rbkw_init,
    .run = rbkw_run,
    .active = rbkw_active,
    .free = rbkw_free,
    .observe = rbkw_observe,
    .save = rbkw_save,
    .load = rbkw_load,
};
