/*
 * join.c — the executor of the two-input keyed operators: DS_JOIN,
 * DS_LEFT_OUTER_JOIN, DS_RIGHT_OUTER_JOIN, DS_FULL_OUTER_JOIN, DS_COGROUP.
 *
 * inputs[0] holds pairs (K, V) (val, val_offset), inputs[1] pairs (K, W)
 * (val2, val_offset2); they may come from different sources and have any
 * numbers of partitions. One exchange routes both by key hash to the same
 * `partitions` output partitions (co-partitioned), then each output
 * partition is a hash join, as Spark's: the right side's pairs are grouped
 * by key (groups.c: a table sized up front, each key's W values gathered
 * contiguously into the task's batch arena) and the left side's pairs probe
 * it in input order, with the table's slots prefetched a few probes ahead
 * (the probes are independent, so their cache misses overlap). For each
 * left pair (k, v), node->make(ctx, out, &k, &v, &w) runs for every w of
 * k, so a key with 2 v and 3 w gives 6 rows; a v without a w gives
 * (k, v, NULL) for the left and full outer joins. The right and full outer joins then emit
 * (k, NULL, w) for the w of every key no left pair matched. cogroup groups
 * both sides in one table and calls make(ctx, out, &k, &vs, &ws) once per
 * key of either side, with ds_lists of the values copied contiguously into
 * the task's batch arena (possibly empty).
 *
 * The order of the output is unspecified (§7); it is the same for the same
 * input whatever the thread count (left pairs in input order, then the
 * unmatched right keys in table order). Nothing is allocated per record:
 * the exchange and tables are reused from batch to batch, values go to the
 * batch arena in one block per partition.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct join_state {
  rt_exchange_side sides[2]; /* the two inputs' exchange, kept across batches */
  rt_groups *groups;         /* one per output partition */
  int32_t nout;
} join_state;

typedef struct join_task {
  const ds_node *node;
  join_state *st;
  rt_stream *out;
} join_task;

/* Appends make(k, a, b) to out; drops it again after a record error. */
static inline void emit(ds_ctx *ctx, const ds_node *n, ds_part *out, const void *k, const void *a,
                        const void *b) {
  void *slot = ds_part_push(out, n->elem->size);
  n->make(ctx, slot, k, a, b);
  if (__builtin_expect(ctx->err != DS_ERR_NONE, 0)) {
    rt_ctx_dropped(ctx);
    out->n--;
  }
}

enum { PREFETCH = 16 };

/* An array of n values of `size` bytes in the batch arena. */
static char *values(ds_ctx *ctx, int64_t n, int64_t size) {
  char *p = ds_arena_alloc(ctx->arena, (size_t)(n * size));
  if (!p)
    rt_fatal("out of memory (the values of a join, %lld of %lld bytes)", (long long)n,
             (long long)size);
  return p;
}

static void cogroup_part(ds_ctx *ctx, const ds_node *n, rt_groups *g, const rt_ref *a, int64_t na,
                         const rt_ref *b, int64_t nb, ds_part *out) {
  int64_t vsize = n->val->size, wsize = n->val2->size;
  char *vs = values(ctx, na, vsize), *ws = values(ctx, nb, wsize);
  rt_group_side sides[2] = {{a, na, n->val_offset, vsize, vs}, {b, nb, n->val_offset2, wsize, ws}};
  rt_groups_build(g, sides, n->key->eq);
  rt_part_reserve(out, g->len, n->elem->size);
  for (int64_t i = 0; i < g->nslots; i++) {
    const rt_slot *sl = &g->slots[i];
    if (!sl->flags)
      continue;
    ds_list lv = {sl->n[0] ? vs + (int64_t)sl->start[0] * vsize : NULL, sl->n[0]};
    ds_list lw = {sl->n[1] ? ws + (int64_t)sl->start[1] * wsize : NULL, sl->n[1]};
    emit(ctx, n, out, sl->key, &lv, &lw);
  }
}

static void join_part(rt_job *rj, int q, void *arg, ds_ctx *ctx) {
  join_task *t = arg;
  const ds_node *n = t->node;
  const rt_exchange_side *x = t->st->sides;
  rt_groups *g = &t->st->groups[q];
  const rt_ref *a = x[0].refs + x[0].start[q], *b = x[1].refs + x[1].start[q];
  int64_t na = x[0].start[q + 1] - x[0].start[q], nb = x[1].start[q + 1] - x[1].start[q];
  ds_part *out = &t->out->parts[q];
  if (n->kind == DS_COGROUP) {
    if (na + nb > 0)
      cogroup_part(ctx, n, g, a, na, b, nb, out);
    return;
  }
  bool keep_left = n->kind == DS_LEFT_OUTER_JOIN || n->kind == DS_FULL_OUTER_JOIN;
  bool keep_right = n->kind == DS_RIGHT_OUTER_JOIN || n->kind == DS_FULL_OUTER_JOIN;
  if ((nb == 0 && !keep_left) || (na == 0 && !keep_right))
    return;
  /* The right side's values, gathered key by key. */
  int64_t wsize = n->val2->size, voff = n->val_offset;
  char *ws = values(ctx, nb, wsize);
  rt_group_side sides[2] = {{0}, {b, nb, n->val_offset2, wsize, ws}};
  rt_groups_build(g, sides, n->key->eq);
  rt_eq_fn eq = n->key->eq;
  rt_part_reserve(out, keep_left || na < nb ? na : nb, n->elem->size);
  /* The left side probes in input order. Slots are prefetched PREFETCH
   * probes ahead; halfway there, the key and values a slot points at. */
  for (int64_t j = 0; j < na; j++) {
    if (j + PREFETCH < na)
      __builtin_prefetch(rt_groups_home(g, a[j + PREFETCH].hash));
    if (j + PREFETCH / 2 < na) {
      const rt_slot *h = rt_groups_home(g, a[j + PREFETCH / 2].hash);
      __builtin_prefetch(h->key);
      __builtin_prefetch(ws + (int64_t)h->start[1] * wsize);
    }
    const char *pair = a[j].elem;
    rt_slot *sl = nb ? (rt_slot *)rt_groups_find(g, a[j].hash, pair, eq) : NULL;
    if (!sl) {
      if (keep_left)
        emit(ctx, n, out, pair, pair + voff, NULL);
      continue;
    }
    sl->flags |= RT_SLOT_MARK;
    const char *w = ws + (int64_t)sl->start[1] * wsize;
    for (uint32_t k = 0; k < sl->n[1]; k++, w += wsize)
      emit(ctx, n, out, pair, pair + voff, w);
  }
  if (!keep_right)
    return;
  for (int64_t i = 0; i < g->nslots; i++) {
    const rt_slot *sl = &g->slots[i];
    if (!sl->flags || (sl->flags & RT_SLOT_MARK))
      continue;
    const char *w = ws + (int64_t)sl->start[1] * wsize;
    for (uint32_t k = 0; k < sl->n[1]; k++, w += wsize)
      emit(ctx, n, out, sl->key, NULL, w);
  }
}

static const char *join_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 2 || !n->make || !n->elem || !n->key || !n->key->hash || !n->key->eq ||
      !n->val || !n->val2)
    return "a join needs two inputs, a make function and a hashable key type";
  join_state *st = calloc(1, sizeof *st);
  if (!st)
    rt_fatal("out of memory (%s)", n->op ? n->op : "join");
  st->nout = rj->settings.partitions > 0 ? (int32_t)rj->settings.partitions : 1;
  st->groups = calloc((size_t)st->nout, sizeof *st->groups);
  if (!st->groups)
    rt_fatal("out of memory (%s)", n->op ? n->op : "join");
  rj->state[node] = st;
  return NULL;
}

static void join_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  join_state *st = rj->state[node];
  for (int s = 0; s < 2; s++) {
    st->sides[s].in = &rj->streams[n->inputs[s]];
    st->sides[s].hash = n->key->hash;
    st->sides[s].elem_size = rj->job->nodes[n->inputs[s]].elem->size;
  }
  rt_exchange(rj, st->sides, 2, st->nout);
  join_task t = {.node = n, .st = st, .out = &rj->streams[node]};
  rt_stream_reset(t.out, st->nout);
  rt_parallel(rj, st->nout, join_part, &t);
}

static void join_free(rt_job *rj, int node) {
  join_state *st = rj->state[node];
  if (!st)
    return;
  rt_exchange_free(&st->sides[0]);
  rt_exchange_free(&st->sides[1]);
  for (int32_t q = 0; q < st->nout; q++)
    rt_groups_free(&st->groups[q]);
  free(st->groups);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_join = {.init = join_init, .run = join_run, .free = join_free};
