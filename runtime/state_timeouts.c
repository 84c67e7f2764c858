/*
 * state_timeouts.c — when mapWithState's keys are due to time out: a binary
 * min-heap of (deadline, entry number) per partition.
 *
 * mapWithState keeps at most one valid item per key. A new key gets one at
 * last update + timeout; a key that gets values later is not touched (its
 * entry's time moves on, nothing else). When the item comes due, the
 * operator looks at the entry: if it was updated since, the item is pushed
 * again at its new deadline; if not, the key times out. So a batch only
 * handles the items whose deadline has come — keys that may expire — and
 * each key costs at most one re-push per timeout period, which is no more
 * work than the values that kept it alive. Removed keys leave stale items,
 * which their owner recognises and drops when they come due. Ties are
 * broken by entry number so the order of timeouts is deterministic.
 */
#include "rt.h"

#include <stdlib.h>

static inline bool before(const rt_deadline *a, const rt_deadline *b) {
  return a->at < b->at || (a->at == b->at && a->entry < b->entry);
}

static void sift_up(rt_deadline *h, int64_t i) {
  rt_deadline x = h[i];
  while (i > 0) {
    int64_t parent = (i - 1) / 2;
    if (!before(&x, &h[parent]))
      break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = x;
}

static void sift_down(rt_deadline *h, int64_t n, int64_t i) {
  rt_deadline x = h[i];
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && before(&h[c + 1], &h[c]))
      c++;
    if (!before(&h[c], &x))
      break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

void rt_timeouts_add(rt_timeouts *t, int64_t at, int64_t entry) {
  if (t->n == t->cap) {
    int64_t cap = t->cap ? t->cap * 2 : 64;
    rt_deadline *heap = realloc(t->heap, (size_t)cap * sizeof *heap);
    if (!heap)
      rt_fatal("out of memory (timeouts of %lld keys)", (long long)cap);
    t->heap = heap;
    t->cap = cap;
  }
  t->heap[t->n++] = (rt_deadline){at, entry};
}

void rt_timeouts_push(rt_timeouts *t, int64_t at, int64_t entry) {
  rt_timeouts_add(t, at, entry);
  sift_up(t->heap, t->n - 1);
}

bool rt_timeouts_pop_due(rt_timeouts *t, int64_t now, rt_deadline *d) {
  if (t->n == 0 || t->heap[0].at > now)
    return false;
  *d = t->heap[0];
  t->heap[0] = t->heap[--t->n];
  if (t->n > 1)
    sift_down(t->heap, t->n, 0);
  return true;
}

void rt_timeouts_clear(rt_timeouts *t) { t->n = 0; }

void rt_timeouts_heapify(rt_timeouts *t) {
  for (int64_t i = t->n / 2 - 1; i >= 0; i--)
    sift_down(t->heap, t->n, i);
}

void rt_timeouts_free(rt_timeouts *t) {
  free(t->heap);
  t->heap = NULL;
  t->n = t->cap = 0;
}
