/*
 * sort.c — the executors of DS_SORT_BY (`sortBy(f)`, `sortBy(f,
 * descending: true)`) and DS_TOP (`top(n, f)`): the batch in order.
 *
 * Both compute each element's key with the generated node->key_of (of type
 * node->key, compared with node->key->cmp) and write ONE output partition,
 * so output operators keep the order. Input order is the input partitions
 * in order; an element whose key_of fails with a record error is dropped.
 *
 * sortBy is stable in both directions (ties keep input order). Keys are
 * computed into one array, one slot per element, by one task per input
 * partition, which also merge-sorts the indices of its partition; the
 * sorted runs are then merged pairwise, in parallel rounds, left run before
 * right on ties. The order used is total (ties fall back to the element's
 * index), so every merge is stable by construction.
 *
 * top(n) keeps the n elements with the largest keys, largest first, ties
 * broken by input order (the earlier element first). It does not sort the
 * batch: each input partition keeps a bounded heap of its best
 * min(n, elements) (the root is the worst kept; a new element replaces it
 * only when it ranks before it, so among equal keys the earlier stays),
 * and the candidates of all partitions, at most n per partition, are then
 * sorted and cut to n. Keys live in the heaps' own slots: n + 1 per
 * partition, not one per element.
 *
 * Arrays are kept in the node's state from batch to batch; keys may point
 * into the task's batch arena (a string key made by f), which lives until
 * the batch ends, as the output does.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a total order on element ids and a stable merge sort ---- */

typedef struct sort_order {
  const char *keys;                       /* key of id i at keys + i * ksize */
  int64_t ksize;
  int (*cmp)(const void *, const void *);
  bool desc;                              /* larger keys first */
  const int64_t *tie;                     /* input position of id i; NULL: i itself */
} sort_order;

/* <0 when id a comes before id b. Never 0 for distinct ids. */
static inline int order_cmp(const sort_order *o, int64_t a, int64_t b) {
  const char *ka = o->keys + a * o->ksize, *kb = o->keys + b * o->ksize;
  int c = o->desc ? o->cmp(kb, ka) : o->cmp(ka, kb);
  if (c)
    return c;
  int64_t ta = o->tie ? o->tie[a] : a, tb = o->tie ? o->tie[b] : b;
  return (ta > tb) - (ta < tb);
}

/* Merges the sorted runs l[0..nl) and r[0..nr) into dst (left first on ties). */
static void merge_runs(const sort_order *o, const int64_t *l, int64_t nl, const int64_t *r,
                       int64_t nr, int64_t *dst) {
  int64_t i = 0, j = 0, k = 0;
  while (i < nl && j < nr)
    dst[k++] = order_cmp(o, l[i], r[j]) <= 0 ? l[i++] : r[j++];
  memcpy(dst + k, l + i, (size_t)(nl - i) * sizeof *dst);
  k += nl - i;
  memcpy(dst + k, r + j, (size_t)(nr - j) * sizeof *dst);
}

enum { INSERTION_MAX = 16 };

/* Sorts a[0..n) by o, with tmp[0..n) as scratch. */
static void merge_sort(const sort_order *o, int64_t *a, int64_t *tmp, int64_t n) {
  if (n <= INSERTION_MAX) {
    for (int64_t i = 1; i < n; i++) {
      int64_t x = a[i], j = i;
      for (; j > 0 && order_cmp(o, a[j - 1], x) > 0; j--)
        a[j] = a[j - 1];
      a[j] = x;
    }
    return;
  }
  int64_t h = n / 2;
  merge_sort(o, a, tmp, h);
  merge_sort(o, a + h, tmp + h, n - h);
  if (order_cmp(o, a[h - 1], a[h]) <= 0)
    return; /* already in order (sorted input) */
  merge_runs(o, a, h, a + h, n - h, tmp);
  memcpy(a, tmp, (size_t)n * sizeof *a);
}

/* ---- state ---- */

/* One input partition's bounded heap (top). */
typedef struct top_heap {
  char *keys;            /* cap + 1 key slots: the kept keys and one spare */
  const char **elems;    /* per slot: the element */
  int64_t *pos;          /* per slot: the element's input position */
  int64_t *heap;         /* size slot numbers; heap[0] is the worst kept */
  int64_t size, cap;     /* cap = min(n, partition size) this batch */
  int64_t cap_keys, cap_elems, cap_pos, cap_heap;
} top_heap;

typedef struct sort_state {
  int64_t *base;         /* nin + 1: first input position of each input partition */
  int64_t *kept;         /* nin: elements of each input partition whose key_of succeeded */
  int64_t *runs;         /* sorted runs' starts (sortBy) */
  char *keys;            /* sortBy: one key per input element; top: the candidates' */
  const char **elems;    /* per id: the element */
  int64_t *pos;          /* top: per candidate, its input position */
  int64_t *ids, *tmp;    /* ids being sorted, scratch */
  top_heap *heaps;       /* top: one per input partition */
  int64_t cap_base, cap_kept, cap_runs, cap_keys, cap_elems, cap_pos, cap_ids, cap_tmp;
  int32_t nheaps;
  char msg[96];          /* what init returns */
} sort_state;

/* Makes st->base describe the input; returns the number of elements. */
static int64_t number_input(sort_state *st, const rt_stream *in) {
  st->base = rt_scratch(st->base, &st->cap_base, (int64_t)in->nparts + 1, sizeof *st->base);
  st->kept = rt_scratch(st->kept, &st->cap_kept, in->nparts, sizeof *st->kept);
  st->base[0] = 0;
  for (int32_t p = 0; p < in->nparts; p++)
    st->base[p + 1] = st->base[p] + in->parts[p].n;
  return st->base[in->nparts];
}

/* Copies the elements of ids[0..n) in that order into one output partition. */
static void write_out(rt_job *rj, int node, const sort_state *st, int64_t n) {
  const ds_node *nd = &rj->job->nodes[node];
  rt_stream *out = &rj->streams[node];
  rt_stream_reset(out, 1);
  ds_part *p = &out->parts[0];
  int64_t size = nd->elem->size;
  rt_part_reserve(p, n, size);
  for (int64_t i = 0; i < n; i++)
    memcpy(p->data + i * size, st->elems[st->ids[i]], (size_t)size);
  p->n = n;
}

static const char *sort_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  sort_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (%s)", n->op ? n->op : "sortBy");
  rj->state[node] = st;
  bool top = n->kind == DS_TOP;
  if (n->ninputs != 1 || !n->elem || !n->key_of || !n->key || !n->key->cmp)
    return top ? "top needs one input, a key function and an ordered key type"
               : "sortBy needs one input, a key function and an ordered key type";
  if (top && n->int_arg < 0) {
    snprintf(st->msg, sizeof st->msg, "top(%lld): the number of elements must be at least 0",
             (long long)n->int_arg);
    return st->msg;
  }
  return NULL;
}

static void sort_free(rt_job *rj, int node) {
  sort_state *st = rj->state[node];
  if (!st)
    return;
  for (int32_t i = 0; i < st->nheaps; i++) {
    top_heap *h = &st->heaps[i];
    free(h->keys);
    free(h->elems);
    free(h->pos);
    free(h->heap);
  }
  free(st->heaps);
  free(st->base);
  free(st->kept);
  free(st->runs);
  free(st->keys);
  free(st->elems);
  free(st->pos);
  free(st->ids);
  free(st->tmp);
  free(st);
  rj->state[node] = NULL;
}

/* ---- sortBy ---- */

typedef struct sortby_task {
  const ds_node *node;
  sort_state *st;
  const rt_stream *in;
  sort_order order;
  int64_t *src, *dst;    /* merge rounds: runs in src, merged into dst */
  int32_t nruns;
} sortby_task;

/* Task i: the keys of input partition i, and its run sorted. */
static void sortby_keys(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  sortby_task *t = arg;
  sort_state *st = t->st;
  const ds_part *p = &t->in->parts[i];
  int64_t base = st->base[i], ks = t->order.ksize, es = t->node->elem->size, kept = 0;
  ds_key_fn key_of = t->node->key_of;
  int64_t *ids = st->ids + base;
  for (int64_t j = 0; j < p->n; j++) {
    const char *e = p->data + j * es;
    st->elems[base + j] = e;
    key_of(ctx, st->keys + (base + j) * ks, e);
    if (rt_ctx_dropped(ctx))
      continue;
    ids[kept++] = base + j;
  }
  st->kept[i] = kept;
  merge_sort(&t->order, ids, st->tmp + base, kept);
}

/* Task k of a round: merges runs 2k and 2k + 1 (or copies a last odd run). */
static void sortby_merge(rt_job *rj, int k, void *arg, ds_ctx *ctx) {
  sortby_task *t = arg;
  const int64_t *r = t->st->runs;
  int64_t a = r[2 * k], m = r[2 * k + 1 < t->nruns ? 2 * k + 1 : t->nruns];
  int64_t e = r[2 * k + 2 <= t->nruns ? 2 * k + 2 : t->nruns];
  merge_runs(&t->order, t->src + a, m - a, t->src + m, e - m, t->dst + a);
}

static void sortby_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  sort_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[n->inputs[0]];
  int64_t total = number_input(st, in), ks = n->key->size;
  st->keys = rt_scratch(st->keys, &st->cap_keys, total * ks, 1);
  st->elems = rt_scratch(st->elems, &st->cap_elems, total, sizeof *st->elems);
  st->ids = rt_scratch(st->ids, &st->cap_ids, total, sizeof *st->ids);
  st->tmp = rt_scratch(st->tmp, &st->cap_tmp, total, sizeof *st->tmp);
  st->runs = rt_scratch(st->runs, &st->cap_runs, (int64_t)in->nparts + 1, sizeof *st->runs);
  sortby_task t = {.node = n, .st = st, .in = in,
                   .order = {.keys = st->keys, .ksize = ks, .cmp = n->key->cmp, .desc = n->flag}};
  if (in->nparts > 0)
    rt_parallel(rj, in->nparts, sortby_keys, &t);
  /* The runs side by side (dropped elements leave gaps), empty ones left out. */
  int64_t at = 0;
  t.nruns = 0;
  for (int32_t i = 0; i < in->nparts; i++) {
    if (st->kept[i] == 0)
      continue;
    if (at != st->base[i])
      memmove(st->ids + at, st->ids + st->base[i], (size_t)st->kept[i] * sizeof *st->ids);
    st->runs[t.nruns++] = at;
    at += st->kept[i];
  }
  st->runs[t.nruns] = at;
  t.src = st->ids;
  t.dst = st->tmp;
  while (t.nruns > 1) {
    int32_t pairs = (t.nruns + 1) / 2;
    rt_parallel(rj, pairs, sortby_merge, &t);
    for (int32_t k = 0; k < pairs; k++)
      st->runs[k] = st->runs[2 * k];
    st->runs[pairs] = at;
    t.nruns = pairs;
    int64_t *swap = t.src;
    t.src = t.dst;
    t.dst = swap;
  }
  /* write_out reads st->ids: make it the merged array. */
  int64_t *ids = st->ids, *tmp = st->tmp;
  if (t.src != ids) {
    st->ids = tmp;
    st->tmp = ids;
    int64_t c = st->cap_ids;
    st->cap_ids = st->cap_tmp;
    st->cap_tmp = c;
  }
  write_out(rj, node, st, at);
}

const rt_exec rt_exec_sort_by = {.init = sort_init, .run = sortby_run, .free = sort_free};

/* ---- top ---- */

typedef struct top_task {
  const ds_node *node;
  sort_state *st;
  const rt_stream *in;
  int64_t n;
} top_task;

/* Whether slot x of h ranks before slot y: a larger key, or an equal key
 * earlier in the input. */
static inline bool ranks_before(const top_heap *h, int (*cmp)(const void *, const void *),
                                int64_t ks, int64_t x, int64_t y) {
  int c = cmp(h->keys + x * ks, h->keys + y * ks);
  return c > 0 || (c == 0 && h->pos[x] < h->pos[y]);
}

/* Restores the heap (every child ranks before its parent) below index i. */
static void sift_down(top_heap *h, int (*cmp)(const void *, const void *), int64_t ks, int64_t i) {
  for (;;) {
    int64_t worst = i, l = 2 * i + 1, r = l + 1;
    if (l < h->size && ranks_before(h, cmp, ks, h->heap[worst], h->heap[l]))
      worst = l;
    if (r < h->size && ranks_before(h, cmp, ks, h->heap[worst], h->heap[r]))
      worst = r;
    if (worst == i)
      return;
    int64_t s = h->heap[i];
    h->heap[i] = h->heap[worst];
    h->heap[worst] = s;
    i = worst;
  }
}

static void sift_up(top_heap *h, int (*cmp)(const void *, const void *), int64_t ks, int64_t i) {
  while (i > 0) {
    int64_t parent = (i - 1) / 2;
    if (!ranks_before(h, cmp, ks, h->heap[parent], h->heap[i]))
      return;
    int64_t s = h->heap[i];
    h->heap[i] = h->heap[parent];
    h->heap[parent] = s;
    i = parent;
  }
}

/* Task i: the best min(n, size) elements of input partition i. */
static void top_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  top_task *t = arg;
  const ds_node *nd = t->node;
  top_heap *h = &t->st->heaps[i];
  const ds_part *p = &t->in->parts[i];
  h->size = 0;
  h->cap = p->n < t->n ? p->n : t->n;
  if (h->cap == 0)
    return;
  int64_t ks = nd->key->size, es = nd->elem->size, base = t->st->base[i];
  h->keys = rt_scratch(h->keys, &h->cap_keys, (h->cap + 1) * ks, 1);
  h->elems = rt_scratch(h->elems, &h->cap_elems, h->cap + 1, sizeof *h->elems);
  h->pos = rt_scratch(h->pos, &h->cap_pos, h->cap + 1, sizeof *h->pos);
  h->heap = rt_scratch(h->heap, &h->cap_heap, h->cap, sizeof *h->heap);
  int (*cmp)(const void *, const void *) = nd->key->cmp;
  ds_key_fn key_of = nd->key_of;
  int64_t spare = 0; /* the slot the next key is computed into */
  for (int64_t j = 0; j < p->n; j++) {
    const char *e = p->data + j * es;
    key_of(ctx, h->keys + spare * ks, e);
    if (rt_ctx_dropped(ctx))
      continue;
    h->elems[spare] = e;
    h->pos[spare] = base + j;
    if (h->size < h->cap) {
      h->heap[h->size++] = spare;
      sift_up(h, cmp, ks, h->size - 1);
      spare = h->size; /* slots 0 .. size - 1 are in the heap */
    } else if (ranks_before(h, cmp, ks, spare, h->heap[0])) {
      int64_t worst = h->heap[0];
      h->heap[0] = spare;
      spare = worst;
      sift_down(h, cmp, ks, 0);
    }
  }
}

static void top_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *nd = &rj->job->nodes[node];
  sort_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[nd->inputs[0]];
  int64_t total = number_input(st, in), ks = nd->key->size;
  if (in->nparts > st->nheaps) {
    top_heap *heaps = realloc(st->heaps, (size_t)in->nparts * sizeof *heaps);
    if (!heaps)
      rt_fatal("out of memory (top)");
    memset(heaps + st->nheaps, 0, (size_t)(in->nparts - st->nheaps) * sizeof *heaps);
    st->heaps = heaps;
    st->nheaps = in->nparts;
  }
  top_task t = {.node = nd, .st = st, .in = in, .n = nd->int_arg};
  if (total > 0 && t.n > 0)
    rt_parallel(rj, in->nparts, top_part, &t);
  /* The candidates of every partition, sorted, cut to n. */
  int64_t ncand = 0;
  if (total > 0 && t.n > 0)
    for (int32_t i = 0; i < in->nparts; i++)
      ncand += st->heaps[i].size;
  st->keys = rt_scratch(st->keys, &st->cap_keys, ncand * ks, 1);
  st->elems = rt_scratch(st->elems, &st->cap_elems, ncand, sizeof *st->elems);
  st->pos = rt_scratch(st->pos, &st->cap_pos, ncand, sizeof *st->pos);
  st->ids = rt_scratch(st->ids, &st->cap_ids, ncand, sizeof *st->ids);
  st->tmp = rt_scratch(st->tmp, &st->cap_tmp, ncand, sizeof *st->tmp);
  int64_t c = 0;
  for (int32_t i = 0; i < in->nparts && ncand > 0; i++) {
    const top_heap *h = &st->heaps[i];
    for (int64_t k = 0; k < h->size; k++, c++) {
      int64_t s = h->heap[k];
      memcpy(st->keys + c * ks, h->keys + s * ks, (size_t)ks);
      st->elems[c] = h->elems[s];
      st->pos[c] = h->pos[s];
      st->ids[c] = c;
    }
  }
  sort_order o = {.keys = st->keys, .ksize = ks, .cmp = nd->key->cmp, .desc = true,
                  .tie = st->pos};
  merge_sort(&o, st->ids, st->tmp, ncand);
  write_out(rj, node, st, ncand < t.n ? ncand : t.n);
}

const rt_exec rt_exec_top = {.init = sort_init, .run = top_run, .free = sort_free};
