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

rt_pane *rt_winstore_add(rt_winstore *ws, int64_t t, int32_t nparts) {
  if (ws->last_seen != INT64_MIN && t <= ws->last_seen)
    return NULL;
  ws->last_seen = t;
  drop_old(ws);
  if (!in_some_window(ws, t))
    return NULL;
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
