/*
 * exchange.c — the shuffle of materialised streams (groupByKey, the joins,
 * cogroup, distinct).
 *
 * shuffle.c merges the maps that a DS_STAGE_COMBINE left, whose keys were
 * already combined; the operators here read plain partitions of elements
 * instead. An exchange routes a reference to every element (its hash and
 * its address: the element itself is not copied) to output partition
 * rt_partition_of(hash, nout), for one or two input streams at once (the
 * two sides of a join land in the same partitions: they are co-partitioned).
 *
 * It is a parallel counting sort. One task per input partition hashes its
 * elements (keeping the hashes) and counts them per output partition; a
 * prefix sum, output partition by output partition and input partitions in
 * order, gives every task the places of its elements; a second pass writes
 * the references there. So output partition q holds its elements in input
 * order (input partitions in order), whatever the thread count, and nothing
 * is allocated per record: the arrays grow to the largest batch seen and are
 * kept for the next one.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct ex_task {
  rt_exchange_side *sides;
  int nsides;
  int32_t nout;
} ex_task;

/* Task t is input partition i of side s: the sides' partitions in order. */
static rt_exchange_side *side_of(ex_task *t, int task, int32_t *part) {
  for (int s = 0;; s++) {
    if (task < t->sides[s].in->nparts || s == t->nsides - 1) {
      *part = task;
      return &t->sides[s];
    }
    task -= t->sides[s].in->nparts;
  }
}

static void ex_count(rt_job *rj, int task, void *arg, ds_ctx *ctx) {
  ex_task *t = arg;
  int32_t i;
  rt_exchange_side *s = side_of(t, task, &i);
  const ds_part *p = &s->in->parts[i];
  uint64_t *h = s->hashes + s->base[i];
  int64_t *cnt = s->cursor + (int64_t)i * t->nout;
  memset(cnt, 0, (size_t)t->nout * sizeof *cnt);
  uint64_t (*hash)(const void *) = s->hash;
  int64_t size = s->elem_size;
  for (int64_t j = 0; j < p->n; j++) {
    h[j] = hash(p->data + j * size);
    cnt[rt_partition_of(h[j], t->nout)]++;
  }
}

static void ex_scatter(rt_job *rj, int task, void *arg, ds_ctx *ctx) {
  ex_task *t = arg;
  int32_t i;
  rt_exchange_side *s = side_of(t, task, &i);
  const ds_part *p = &s->in->parts[i];
  const uint64_t *h = s->hashes + s->base[i];
  int64_t *cur = s->cursor + (int64_t)i * t->nout;
  rt_ref *refs = s->refs;
  int64_t size = s->elem_size;
  for (int64_t j = 0; j < p->n; j++) {
    int64_t at = cur[rt_partition_of(h[j], t->nout)]++;
    refs[at].hash = h[j];
    refs[at].elem = p->data + j * size;
  }
}

void rt_exchange(rt_job *rj, rt_exchange_side *sides, int nsides, int32_t nout) {
  int ntasks = 0;
  for (int k = 0; k < nsides; k++) {
    rt_exchange_side *s = &sides[k];
    int32_t nin = s->in->nparts;
    s->base = rt_scratch(s->base, &s->cap_base, (int64_t)nin + 1, sizeof *s->base);
    s->base[0] = 0;
    for (int32_t i = 0; i < nin; i++)
      s->base[i + 1] = s->base[i] + s->in->parts[i].n;
    int64_t total = s->base[nin];
    s->hashes = rt_scratch(s->hashes, &s->cap_hashes, total, sizeof *s->hashes);
    s->refs = rt_scratch(s->refs, &s->cap_refs, total, sizeof *s->refs);
    s->cursor = rt_scratch(s->cursor, &s->cap_cursor, (int64_t)nin * nout, sizeof *s->cursor);
    s->start = rt_scratch(s->start, &s->cap_start, (int64_t)nout + 1, sizeof *s->start);
    ntasks += nin;
  }
  ex_task t = {.sides = sides, .nsides = nsides, .nout = nout};
  if (ntasks > 0)
    rt_parallel(rj, ntasks, ex_count, &t);
  /* Counts to places: output partition by output partition, inputs in order. */
  for (int k = 0; k < nsides; k++) {
    rt_exchange_side *s = &sides[k];
    int32_t nin = s->in->nparts;
    int64_t at = 0;
    for (int32_t q = 0; q < nout; q++) {
      s->start[q] = at;
      for (int32_t i = 0; i < nin; i++) {
        int64_t *c = &s->cursor[(int64_t)i * nout + q];
        int64_t n = *c;
        *c = at;
        at += n;
      }
    }
    s->start[nout] = at;
  }
  if (ntasks > 0)
    rt_parallel(rj, ntasks, ex_scatter, &t);
}

void rt_exchange_free(rt_exchange_side *s) {
  free(s->refs);
  free(s->start);
  free(s->hashes);
  free(s->base);
  free(s->cursor);
  s->refs = NULL;
  s->start = NULL;
  s->hashes = NULL;
  s->base = NULL;
  s->cursor = NULL;
  s->cap_refs = s->cap_start = s->cap_hashes = s->cap_base = s->cap_cursor = 0;
}
