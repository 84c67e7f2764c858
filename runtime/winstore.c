/*
 * winstore.c — the input batches that a window operator keeps, and the
 * window timing (§7).
 *
 * A windowed node emits at the times T with (T - t0) mod slide = 0, each
 * window covering the input batches with times in (T - window, T]; there
 * are no batches at or before t0, so the first windows hold fewer. An input
 * batch that no window will cover (when the slide is longer than the
 * window) is not kept at all. Otherwise the operator keeps what it needs of
 * the batch in a pane (deep copies in arenas the pane owns) until the batch
 * has left every window: after the slide at T, the panes with times
 * <= T - window are no longer needed, but the output at T may still point
 * into them until the end of that batch, so they are dropped when the next
 * input batch arrives. Dropped panes are kept for reuse with their buffers
 * and arenas, so a window in a steady state does not allocate.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rt_winstore_init(rt_winstore *ws, rt_job *rj, int node) {
  memset(ws, 0, sizeof *ws);
  ws->last_seen = INT64_MIN;
  ws->last_slide = INT64_MIN;
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1)
    return "a window operator needs one input";
  ws->t0 = rj->t0;
  ws->period = rt_period_ms(rj, n->inputs[0]);
  ws->window = n->window_ms;
  ws->slide = n->slide_ms > 0 ? n->slide_ms : ws->period;
  /* The input is windowed when its period is not the batch interval. */
  bool windowed = ws->period != rj->settings.batch_ms;
  const char *what[2] = {"length", "slide"};
  int64_t ms[2] = {ws->window, ws->slide};
  if (ws->period <= 0) {
    snprintf(ws->msg, sizeof ws->msg, "the batch interval %lldms is not positive",
             (long long)ws->period);
    return ws->msg;
  }
  for (int i = 0; i < 2; i++) {
    if (ms[i] <= 0) {
      snprintf(ws->msg, sizeof ws->msg, "the window %s must be positive", what[i]);
      return ws->msg;
    }
    if (ms[i] % ws->period == 0)
      continue;
    if (windowed)
      snprintf(ws->msg, sizeof ws->msg,
               "the window %s %lldms is not a multiple of %lldms, the slide of the windowed "
               "stream it reads",
               what[i], (long long)ms[i], (long long)ws->period);
    else
      snprintf(ws->msg, sizeof ws->msg,
               "the window %s %lldms is not a multiple of the batch interval %lldms", what[i],
               (long long)ms[i], (long long)ws->period);
    return ws->msg;
  }
  return NULL;
}

bool rt_winstore_is_slide(const rt_winstore *ws, int64_t t) {
  return t > ws->t0 && (t - ws->t0) % ws->slide == 0;
}

/* Whether the first slide time at or after t covers the batch at t. */
static bool in_some_window(const rt_winstore *ws, int64_t t) {
  int64_t k = (t - ws->t0 + ws->slide - 1) / ws->slide;
  return ws->t0 + k * ws->slide - ws->window < t;
}

/* Moves the panes that left every window to the spare list. */
static void drop_old(rt_winstore *ws) {
  if (ws->last_slide == INT64_MIN)
    return;
  int64_t limit = ws->last_slide - ws->window;
  int32_t k = 0;
  while (k < ws->npanes && ws->panes[k]->time <= limit)
    k++;
  if (k == 0)
    return;
  if (ws->nspare + k > ws->cap_spare) {
    int32_t cap = ws->cap_spare ? ws->cap_spare : 8;
    while (cap < ws->nspare + k)
      cap *= 2;
    rt_pane **spare = realloc(ws->spare, (size_t)cap * sizeof *spare);
    if (!spare)
      rt_fatal("out of memory (window store)");
    ws->spare = spare;
    ws->cap_spare = cap;
  }
  for (int32_t i = 0; i < k; i++)
    ws->spare[ws->nspare++] = ws->panes[i];
  memmove(ws->panes, ws->panes + k, (size_t)(ws->npanes - k) * sizeof *ws->panes);
  ws->npanes -= k;
}

static rt_pane *take_pane(rt_winstore *ws, int64_t t, int32_t nparts);

rt_pane *rt_winstore_add(rt_winstore *ws, int64_t t, int32_t nparts) {
  if (ws->last_seen != INT64_MIN && t <= ws->last_seen)
    return NULL;
  ws->last_seen = t;
  drop_old(ws);
  if (!in_some_window(ws, t))
    return NULL;
  return take_pane(ws, t, nparts);
}

/* A pane at time t (after the kept ones) with nparts empty partitions. */
static rt_pane *take_pane(rt_winstore *ws, int64_t t, int32_t nparts) {
  rt_pane *p = ws->nspare ? ws->spare[--ws->nspare] : calloc(1, sizeof *p);
  if (!p)
    rt_fatal("out of memory (window store)");
  if (nparts > p->cap) {
    ds_part *parts = realloc(p->parts, (size_t)nparts * sizeof *parts);
    if (!parts)
      rt_fatal("out of memory (window store)");
    p->parts = parts;
    ds_arena *arenas = realloc(p->arenas, (size_t)nparts * sizeof *arenas);
    if (!arenas)
      rt_fatal("out of memory (window store)");
    p->arenas = arenas;
    for (int32_t i = p->cap; i < nparts; i++) {
      memset(&p->parts[i], 0, sizeof p->parts[i]);
      ds_arena_init(&p->arenas[i], NULL, NULL);
    }
    p->cap = nparts;
  }
  for (int32_t i = 0; i < p->cap; i++) {
    p->parts[i].n = 0;
    ds_arena_reset(&p->arenas[i]);
  }
  p->time = t;
  p->nparts = nparts;
  if (ws->npanes == ws->cap) {
    int32_t cap = ws->cap ? ws->cap * 2 : 8;
    rt_pane **panes = realloc(ws->panes, (size_t)cap * sizeof *panes);
    if (!panes)
      rt_fatal("out of memory (window store)");
    ws->panes = panes;
    ws->cap = cap;
  }
  ws->panes[ws->npanes++] = p;
  return p;
}

void rt_winstore_slid(rt_winstore *ws, int64_t t) { ws->last_slide = t; }

static void pane_free(rt_pane *p) {
  for (int32_t i = 0; i < p->cap; i++) {
    rt_part_free(&p->parts[i]);
    ds_arena_destroy(&p->arenas[i]);
  }
  free(p->parts);
  free(p->arenas);
  free(p);
}

void rt_winstore_free(rt_winstore *ws) {
  for (int32_t i = 0; i < ws->npanes; i++)
    pane_free(ws->panes[i]);
  for (int32_t i = 0; i < ws->nspare; i++)
    pane_free(ws->spare[i]);
  free(ws->panes);
  free(ws->spare);
  ws->panes = ws->spare = NULL;
  ws->npanes = ws->nspare = ws->cap = ws->cap_spare = 0;
}

/* ---- checkpoints ---- */

/* The window's timing (T0, then period, length and slide, which a load
 * checks), last_seen and last_slide, then the kept panes, oldest first:
 * each its time and its elements. Unkeyed panes (entry_size 0) are written
 * as one sequence, the partitions in order, and read back in contiguous
 * slices over the partitions of this run (a window only ever concatenates
 * them). Keyed panes are written partition by partition, each entry as its
 * hash (u64) and its pair, and read back into the partition of its hash
 * among this run's (the same partition, in the same order, when the count
 * did not change). Spare panes are not written. */

static _Thread_local char load_msg[320];

void rt_winstore_save(rt_ckw *w, const rt_winstore *ws, const ds_type *elem, int64_t entry_size) {
  rt_ckw_i64(w, ws->t0);
  rt_ckw_i64(w, ws->period);
  rt_ckw_i64(w, ws->window);
  rt_ckw_i64(w, ws->slide);
  rt_ckw_i64(w, ws->last_seen);
  rt_ckw_i64(w, ws->last_slide);
  rt_ckw_u32(w, (uint32_t)ws->npanes);
  for (int32_t k = 0; k < ws->npanes && !w->err; k++) {
    const rt_pane *p = ws->panes[k];
    rt_ckw_i64(w, p->time);
    if (entry_size == 0) {
      int64_t total = 0;
      for (int32_t i = 0; i < p->nparts; i++)
        total += p->parts[i].n;
      rt_ckw_u64(w, (uint64_t)total);
      for (int32_t i = 0; i < p->nparts; i++)
        for (int64_t j = 0; j < p->parts[i].n && !w->err; j++)
          rt_ckw_value(w, elem, p->parts[i].data + j * elem->size);
      continue;
    }
    rt_ckw_u32(w, (uint32_t)p->nparts);
    for (int32_t i = 0; i < p->nparts; i++) {
      const ds_part *part = &p->parts[i];
      rt_ckw_u64(w, (uint64_t)part->n);
      for (int64_t j = 0; j < part->n && !w->err; j++) {
        const char *e = part->data + j * entry_size;
        rt_ckw_u64(w, *(const uint64_t *)e);
        rt_ckw_value(w, elem, e + 8);
      }
    }
  }
}

static const char *malformed(const char *what) {
  snprintf(load_msg, sizeof load_msg, "checkpoint content is malformed: %s", what);
  return load_msg;
}

/* Bytes left to read. */
static uint64_t left(const rt_ckr *r) { return r->len - r->pos; }

const char *rt_winstore_load(rt_ckr *r, rt_winstore *ws, const ds_type *elem, int64_t entry_size,
                             int32_t nparts) {
  int64_t t0 = 0, period = 0, window = 0, slide = 0, last_seen = 0, last_slide = 0;
  uint32_t npanes = 0;
  rt_ckr_i64(r, &t0);
  rt_ckr_i64(r, &period);
  rt_ckr_i64(r, &window);
  rt_ckr_i64(r, &slide);
  rt_ckr_i64(r, &last_seen);
  rt_ckr_i64(r, &last_slide);
  rt_ckr_u32(r, &npanes);
  if (r->err)
    return NULL;
  if (period != ws->period || window != ws->window || slide != ws->slide) {
    snprintf(load_msg, sizeof load_msg,
             "the checkpoint holds a window of %lldms sliding by %lldms over batches of %lldms; "
             "this one is of %lldms sliding by %lldms over batches of %lldms",
             (long long)window, (long long)slide, (long long)period, (long long)ws->window,
             (long long)ws->slide, (long long)ws->period);
    return load_msg;
  }
  if (ws->npanes != 0 || ws->last_seen != INT64_MIN)
    return "a window store is not empty before a load";
  if (nparts < 1)
    nparts = 1;
  if (npanes > left(r) / 16)
    return malformed("more window panes than bytes");
  int64_t prev = INT64_MIN;
  for (uint32_t k = 0; k < npanes && !r->err; k++) {
    int64_t time = 0;
    if (rt_ckr_i64(r, &time) < 0)
      break;
    if (time <= prev || time > last_seen)
      return malformed("window panes out of order");
    prev = time;
    rt_pane *p = take_pane(ws, time, nparts);
    if (entry_size == 0) {
      uint64_t m = 0;
      if (rt_ckr_u64(r, &m) < 0)
        break;
      if (m > left(r))
        return malformed("a window pane with more elements than bytes");
      for (int32_t i = 0; i < nparts && !r->err; i++) {
        int64_t from = (int64_t)((__int128)i * (int64_t)m / nparts);
        int64_t to = (int64_t)((__int128)(i + 1) * (int64_t)m / nparts);
        ds_part *dst = &p->parts[i];
        rt_part_reserve(dst, to - from, elem->size);
        for (int64_t j = from; j < to && !r->err; j++)
          rt_ckr_value(r, elem, ds_part_push(dst, elem->size), &p->arenas[i]);
      }
      continue;
    }
    uint32_t saved = 0;
    if (rt_ckr_u32(r, &saved) < 0)
      break;
    if (saved > left(r) / 8)
      return malformed("a window pane with more partitions than bytes");
    for (uint32_t i = 0; i < saved && !r->err; i++) {
      uint64_t m = 0;
      if (rt_ckr_u64(r, &m) < 0)
        break;
      if (m > left(r) / 8)
        return malformed("a window pane partition with more entries than bytes");
      for (uint64_t j = 0; j < m && !r->err; j++) {
        uint64_t hash = 0;
        if (rt_ckr_u64(r, &hash) < 0)
          break;
        int32_t q = rt_partition_of(hash, nparts);
        char *e = ds_part_push(&p->parts[q], entry_size);
        *(uint64_t *)e = hash;
        rt_ckr_value(r, elem, e + 8, &p->arenas[q]);
      }
    }
  }
  if (r->err)
    return NULL;
  ws->last_seen = last_seen;
  ws->last_slide = last_slide;
  /* The saved grid (the driver restores rj->t0 to it; every batch sets
   * ws->t0 from rj->t0 again). */
  ws->t0 = t0;
  return NULL;
}
