/*
 * check_rt_windows.c — the per-batch and windowed operators of the runtime:
 * count, reduce, reduceByKey (with the shuffle), window, reduceByWindow and
 * reduceByKeyAndWindow, called through their rt_exec batch by batch.
 *
 * Each test builds an rt_job by hand: a ds_job whose node 0 is a source
 * whose stream the test fills, node 1 (for keyed operators) a
 * DS_STAGE_COMBINE whose maps the test fills as the map side would, and the
 * operator under test last. A small loop plays the driver: for every batch
 * it fills the input, decides activity (the executor's active, else the
 * inputs'), runs the active nodes and resets the batch arenas. Outputs are
 * printed as text and compared exactly: §7's list of exact results, its two
 * worked window examples, keys that leave and the filter, empty batches,
 * string keys whose input memory is overwritten after each batch (the
 * stores must own deep copies), several partition and thread counts (the
 * same results), and a randomised comparison with a direct model.
 */
#include "rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- types written by hand, as dsc would generate them ---- */

#include "rt_types.h"

typedef struct {
  ds_str key;
  int64_t val;
} spair;
static void spair_copy(void *dst, const void *src, ds_arena *a) {
  memcpy(dst, src, sizeof(spair));
  str_copy(dst, src, a);
}
static const ds_type t_spair = {"(string, int)", 24, 8, spair_copy, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

typedef struct {
  int64_t key, val;
} ipair;
static const ds_type t_ipair = {"(int, int)", 16, 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

/* Functions the jobs would define. */
static void add(ds_ctx *ctx, void *acc, const void *v) { *(int64_t *)acc += *(const int64_t *)v; }
static void sub(ds_ctx *ctx, void *acc, const void *v) { *(int64_t *)acc -= *(const int64_t *)v; }
static bool nonzero(ds_ctx *ctx, const void *pair) { return ((const spair *)pair)->val != 0; }
static bool inonzero(ds_ctx *ctx, const void *pair) { return ((const ipair *)pair)->val != 0; }
/* A reduce that fails (division by zero at site 0) when v is 13. */
static void add_or_fail(ds_ctx *ctx, void *acc, const void *v) {
  if (*(const int64_t *)v == 13) {
    ctx->err = DS_ERR_DIV_ZERO;
    ctx->err_site = 0;
    return;
  }
  *(int64_t *)acc += *(const int64_t *)v;
}

/* ---- the hand-made job ---- */

/* The executors under test (exec.c's table without the sources and sinks). */
static const rt_exec *exec_of(ds_node_kind kind) {
  switch (kind) {
  case DS_COUNT: return &rt_exec_count;
  case DS_REDUCE: return &rt_exec_reduce;
  case DS_REDUCE_BY_KEY: return &rt_exec_reduce_by_key;
  case DS_WINDOW: return &rt_exec_window;
  case DS_REDUCE_BY_WINDOW: return &rt_exec_reduce_by_window;
  case DS_REDUCE_BY_KEY_AND_WINDOW: return &rt_exec_reduce_by_key_and_window;
  default: return NULL;
  }
}

enum { BATCH = 1000, T0 = 100000 };

typedef struct harness {
  ds_job job;
  ds_node nodes[3];
  rt_job rj;
  rt_stream streams[3];
  void *state[3];
  int64_t site_errors[1];
  int op;               /* index of the node under test */
  bool keyed;           /* node 1 is a DS_STAGE_COMBINE */
  int in_parts;         /* partitions of the input */
  bool call_observe;    /* play a driver that calls observe before active */
  const rt_exec *exec;
  char *strings;        /* the input's string bytes for this batch (freed after it) */
  size_t nstrings;      /* bytes used in strings */
} harness;

static void setup(harness *h, ds_node_kind kind, bool keyed, bool strings, int partitions,
                  int threads, int in_parts) {
  memset(h, 0, sizeof *h);
  h->keyed = keyed;
  h->in_parts = in_parts;
  h->nodes[0] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:1:1"};
  h->nodes[0].elem = keyed ? (strings ? &t_spair : &t_ipair) : &t_int;
  int op = 1;
  if (keyed) {
    h->nodes[1] = (ds_node){.kind = DS_STAGE_COMBINE, .op = "map", .ninputs = 1, .inputs = {0}};
    h->nodes[1].elem = h->nodes[0].elem;
    op = 2;
  }
  ds_node *n = &h->nodes[op];
  *n = (ds_node){.kind = kind, .op = "op", .loc = "t.ds:2:1", .ninputs = 1, .inputs = {op - 1}};
  n->elem = h->nodes[0].elem;
  if (keyed) {
    n->key = strings ? &t_str : &t_int;
    n->val = &t_int;
    n->val_offset = strings ? 16 : 8;
    h->nodes[1].key = n->key;
    h->nodes[1].val = n->val;
    h->nodes[1].val_offset = n->val_offset;
  }
  n->reduce = add;
  h->op = op;
  h->job = (ds_job){.abi_version = DS_ABI_VERSION, .program = "t.ds", .nodes = h->nodes,
                    .nnodes = op + 1, .nsites = 1};
  h->rj.job = &h->job;
  h->rj.settings.batch_ms = BATCH;
  h->rj.settings.partitions = partitions;
  h->rj.settings.threads = threads;
  h->rj.pool = rt_pool_new(threads, 1);
  h->rj.streams = h->streams;
  h->rj.state = h->state;
  h->rj.t0 = T0;
  h->rj.site_errors = h->site_errors;
  h->exec = exec_of(kind);
}

/* Runs init; returns its message. */
static const char *init(harness *h) { return h->exec->init(&h->rj, h->op); }

static void teardown(harness *h) {
  if (h->exec->free)
    h->exec->free(&h->rj, h->op);
  for (int i = 0; i < 3; i++)
    rt_stream_free(&h->streams[i]);
  rt_pool_free(h->rj.pool);
  free(h->strings);
}

/* One input record: an int element, or a pair "k" -> v / int key -> v. */
typedef struct rec {
  const char *key; /* NULL: int element or int key */
  int64_t ikey, val;
} rec;

/* Fills the input for batch `index` with recs spread round-robin over the
 * input partitions (the map side combines within each partition). String
 * keys are copied into a buffer that is freed after the batch. */
static void fill(harness *h, const rec *recs, int n) {
  free(h->strings);
  size_t bytes = 1;
  for (int i = 0; i < n; i++)
    bytes += recs[i].key ? strlen(recs[i].key) : 0;
  h->strings = malloc(bytes);
  char *sp = h->strings;
  rt_stream *src = &h->streams[0];
  rt_stream_reset(src, h->in_parts);
  src->active = true;
  const ds_node *op = &h->nodes[h->op];
  if (!h->keyed) {
    for (int i = 0; i < n; i++)
      *(int64_t *)ds_part_push(&src->parts[i % h->in_parts], 8) = recs[i].val;
    h->nstrings = 0;
    return;
  }
  rt_stream *comb = &h->streams[1];
  rt_stream_reset_maps(comb, h->in_parts, op->elem->size);
  for (int i = 0; i < n; i++) {
    char pair[24] = {0};
    uint64_t hash;
    if (recs[i].key) {
      size_t len = strlen(recs[i].key);
      memcpy(sp, recs[i].key, len);
      ((spair *)pair)->key = (ds_str){sp, (int64_t)len};
      ((spair *)pair)->val = recs[i].val;
      sp += len;
      hash = str_hash(pair);
    } else {
      ((ipair *)pair)->key = recs[i].ikey;
      ((ipair *)pair)->val = recs[i].val;
      hash = i64_hash(pair);
    }
    bool inserted;
    char *slot = ds_map_upsert(&comb->maps[i % h->in_parts], hash, pair, op->key->eq, &inserted);
    if (inserted)
      memcpy(slot, pair, (size_t)op->elem->size);
    else
      add(NULL, slot + op->val_offset, pair + op->val_offset);
  }
  h->nstrings = (size_t)(sp - h->strings);
}

/* Prints the operator's output: ints in order ("1 2 3"), or pairs sorted by
 * key ("a=1 b=2"); "-" when the node had no batch. */
static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void render(harness *h, char *out, size_t cap) {
  const rt_stream *s = &h->streams[h->op];
  const ds_node *n = &h->nodes[h->op];
  out[0] = '\0';
  if (!s->active) {
    snprintf(out, cap, "-");
    return;
  }
  if (!h->keyed) {
    size_t len = 0;
    for (int p = 0; p < s->nparts; p++)
      for (int64_t i = 0; i < s->parts[p].n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", len ? " " : "",
                                (long long)((int64_t *)s->parts[p].data)[i]);
    return;
  }
  int64_t total = rt_stream_count(s);
  char **lines = calloc((size_t)total + 1, sizeof *lines);
  int64_t k = 0;
  for (int p = 0; p < s->nparts; p++) {
    for (int64_t i = 0; i < s->parts[p].n; i++) {
      const char *e = s->parts[p].data + i * n->elem->size;
      char buf[128];
      if (n->key == &t_str) {
        const spair *sp = (const spair *)e;
        snprintf(buf, sizeof buf, "%.*s=%lld", (int)sp->key.len, sp->key.ptr, (long long)sp->val);
      } else {
        const ipair *ip = (const ipair *)e;
        snprintf(buf, sizeof buf, "%lld=%lld", (long long)ip->key, (long long)ip->val);
      }
      lines[k++] = strdup(buf);
    }
  }
  qsort(lines, (size_t)total, sizeof *lines, cmp_line);
  size_t len = 0;
  for (int64_t i = 0; i < total; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", lines[i]);
    free(lines[i]);
  }
  free(lines);
}

/* Plays batch `index` (time T0 + index * BATCH) with the given input and
 * renders the output. */
static void step(harness *h, int64_t index, const rec *recs, int n, char *out, size_t cap) {
  rt_batch b = {.index = index, .time = T0 + index * BATCH};
  h->rj.batch_time = b.time;
  fill(h, recs, n);
  for (int i = 1; i <= h->op; i++) {
    const rt_exec *e = h->exec;
    bool active;
    if (i < h->op) {
      active = h->streams[0].active; /* node 1: the map side, filled by fill() */
    } else {
      if (h->call_observe && e->observe)
        e->observe(&h->rj, i, &b);
      active = e->active ? e->active(&h->rj, i, &b) : h->streams[h->nodes[i].inputs[0]].active;
    }
    h->streams[i].active = active;
    if (active && i == h->op)
      e->run(&h->rj, i, &b);
  }
  render(h, out, cap);
  rt_pool_reset_arenas(h->rj.pool);
  /* The input's memory goes away with its batch: overwrite it. */
  memset(h->strings, '#', h->nstrings);
}

#define OUT 4096

/* One int element `i` per batch i: the examples of §7. */
static void run_ints(harness *h, int nbatches, char outs[][OUT]) {
  for (int i = 1; i <= nbatches; i++) {
    rec r = {NULL, 0, i};
    step(h, i, &r, 1, outs[i], OUT);
  }
}

/* ---- count, reduce ---- */

START_TEST(count_one_element_every_batch) {
  harness h;
  setup(&h, DS_COUNT, false, false, 2, 2, 3);
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  rec five[5] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}, {0, 0, 4}, {0, 0, 5}};
  step(&h, 1, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "0");
  step(&h, 2, five, 5, out, OUT);
  ck_assert_str_eq(out, "5");
  step(&h, 3, five, 1, out, OUT);
  ck_assert_str_eq(out, "1");
  step(&h, 4, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "0");
  ck_assert_int_eq(h.streams[h.op].nparts, 1);
  teardown(&h);
}
END_TEST

START_TEST(reduce_one_element_per_non_empty_batch) {
  for (int parts = 1; parts <= 7; parts += 3) {
    harness h;
    setup(&h, DS_REDUCE, false, false, 2, 3, parts);
    ck_assert_ptr_null(init(&h));
    char out[OUT];
    rec recs[6] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}, {0, 0, 4}, {0, 0, 5}, {0, 0, 6}};
    step(&h, 1, recs, 6, out, OUT);
    ck_assert_str_eq(out, "21");
    step(&h, 2, NULL, 0, out, OUT);
    ck_assert_str_eq(out, "");
    step(&h, 3, recs + 4, 1, out, OUT);
    ck_assert_str_eq(out, "5");
    teardown(&h);
  }
}
END_TEST

START_TEST(reduce_counts_record_errors) {
  harness h;
  setup(&h, DS_REDUCE, false, false, 2, 2, 2);
  h.nodes[h.op].reduce = add_or_fail;
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  rec recs[5] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 13}, {0, 0, 4}, {0, 0, 5}};
  step(&h, 1, recs, 5, out, OUT);
  /* 13 sits second in partition 0 (1, 13, 5): it is dropped and counted. */
  ck_assert_str_eq(out, "12");
  ck_assert_int_eq(h.site_errors[0], 1);
  teardown(&h);
}
END_TEST

/* ---- reduceByKey ---- */

static const rec words1[] = {{"a", 0, 1}, {"b", 0, 1}, {"a", 0, 1}, {"c", 0, 5},
                             {"a", 0, 1}, {"", 0, 2}, {"b", 0, 1}, {"dd", 0, 1}};

START_TEST(reduce_by_key_merges_partitions) {
  const char *expect = "=2 a=3 b=2 c=5 dd=1";
  for (int partitions = 1; partitions <= 7; partitions += 2) {
    for (int in_parts = 1; in_parts <= 4; in_parts += 3) {
      harness h;
      setup(&h, DS_REDUCE_BY_KEY, true, true, partitions, 2, in_parts);
      ck_assert_ptr_null(init(&h));
      char out[OUT];
      step(&h, 1, words1, 8, out, OUT);
      ck_assert_str_eq(out, expect);
      ck_assert_int_eq(h.streams[h.op].nparts, partitions);
      step(&h, 2, NULL, 0, out, OUT);
      ck_assert_str_eq(out, "");
      step(&h, 3, words1, 2, out, OUT);
      ck_assert_str_eq(out, "a=1 b=1");
      teardown(&h);
    }
  }
}
END_TEST

/* The raw output (partition by partition, in order), for determinism. */
static void raw(harness *h, char *out, size_t cap) {
  const rt_stream *s = &h->streams[h->op];
  size_t len = 0;
  out[0] = 0;
  for (int p = 0; p < s->nparts; p++) {
    len += (size_t)snprintf(out + len, cap - len, "|");
    for (int64_t i = 0; i < s->parts[p].n; i++) {
      const ipair *ip = (const ipair *)(s->parts[p].data + i * 16);
      len += (size_t)snprintf(out + len, cap - len, "%lld=%lld ", (long long)ip->key,
                              (long long)ip->val);
    }
  }
}

START_TEST(reduce_by_key_independent_of_threads) {
  rec recs[300];
  for (int i = 0; i < 300; i++)
    recs[i] = (rec){NULL, (i * 7919) % 97, i};
  char first[2][OUT * 4];
  for (int t = 0; t < 2; t++) {
    harness h;
    setup(&h, DS_REDUCE_BY_KEY, true, false, 5, t ? 4 : 1, 3);
    ck_assert_ptr_null(init(&h));
    char out[OUT * 4];
    step(&h, 1, recs, 300, out, sizeof out);
    raw(&h, first[t], sizeof first[t]);
    /* Each key sits in the partition that owns its hash. */
    const rt_stream *s = &h.streams[h.op];
    for (int q = 0; q < s->nparts; q++)
      for (int64_t i = 0; i < s->parts[q].n; i++)
        ck_assert_int_eq(rt_partition_of(i64_hash(s->parts[q].data + i * 16), 5), q);
    teardown(&h);
  }
  ck_assert_str_eq(first[0], first[1]);
}
END_TEST

/* ---- window ---- */

START_TEST(window_4s_2s_example) {
  harness h;
  setup(&h, DS_WINDOW, false, false, 2, 2, 1);
  h.nodes[h.op].window_ms = 4000;
  h.nodes[h.op].slide_ms = 2000;
  ck_assert_ptr_null(init(&h));
  char outs[11][OUT];
  run_ints(&h, 10, outs);
  const char *expect[11] = {"", "-", "1 2", "-", "1 2 3 4", "-", "3 4 5 6", "-", "5 6 7 8",
                            "-", "7 8 9 10"};
  for (int i = 1; i <= 10; i++)
    ck_assert_str_eq(outs[i], expect[i]);
  teardown(&h);
}
END_TEST

START_TEST(window_2s_3s_example) {
  for (int observe = 0; observe < 2; observe++) {
    harness h;
    setup(&h, DS_WINDOW, false, false, 2, 2, 1);
    h.call_observe = observe;
    h.nodes[h.op].window_ms = 2000;
    h.nodes[h.op].slide_ms = 3000;
    ck_assert_ptr_null(init(&h));
    char outs[10][OUT];
    run_ints(&h, 9, outs);
    const char *expect[10] = {"", "-", "-", "2 3", "-", "-", "5 6", "-", "-", "8 9"};
    for (int i = 1; i <= 9; i++)
      ck_assert_str_eq(outs[i], expect[i]);
    /* Batches 1, 4, 7 fall in no window and are never kept; the panes that
     * left the window at 6 go when batch 9 arrives. */
    const rt_winstore *ws = h.state[h.op];
    ck_assert_int_eq(ws->npanes, 4);
    for (int k = 0; k < ws->npanes; k++)
      ck_assert_int_ne((ws->panes[k]->time - T0) / BATCH % 3, 1);
    teardown(&h);
  }
}
END_TEST

START_TEST(window_default_slide_and_order) {
  /* window(3s): slides every batch; several input partitions keep order. */
  harness h;
  setup(&h, DS_WINDOW, false, false, 2, 3, 3);
  h.nodes[h.op].window_ms = 3000;
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  rec r[4] = {{0, 0, 10}, {0, 0, 11}, {0, 0, 12}, {0, 0, 13}};
  /* Partition slices: partition 0 gets 10 and 13, 1 gets 11, 2 gets 12. */
  step(&h, 1, r, 4, out, OUT);
  ck_assert_str_eq(out, "10 13 11 12");
  step(&h, 2, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "10 13 11 12");
  rec s[2] = {{0, 0, 20}, {0, 0, 21}};
  step(&h, 3, s, 2, out, OUT);
  ck_assert_str_eq(out, "10 13 11 12 20 21");
  ck_assert_int_eq(h.streams[h.op].nparts, 3);
  step(&h, 4, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "20 21");
  step(&h, 5, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "20 21");
  step(&h, 6, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "");
  teardown(&h);
}
END_TEST

START_TEST(window_deep_copies_strings) {
  harness h;
  setup(&h, DS_WINDOW, true, true, 2, 2, 2);
  /* A window of pairs: node 1 is not used; feed node 0's parts directly. */
  h.nodes[h.op].inputs[0] = 0;
  h.nodes[h.op].window_ms = 3000;
  h.nodes[h.op].slide_ms = 1000;
  ck_assert_ptr_null(init(&h));
  char text[3][4] = {"ab", "cd", "ef"};
  char got[OUT];
  for (int i = 1; i <= 4; i++) {
    rt_batch b = {.index = i, .time = T0 + i * BATCH};
    h.rj.batch_time = b.time;
    rt_stream *src = &h.streams[0];
    rt_stream_reset(src, 2);
    src->active = true;
    char *mem = malloc(4);
    memcpy(mem, text[(i - 1) % 3], 3);
    if (i <= 3) {
      spair *p = ds_part_push(&src->parts[i % 2], sizeof(spair));
      p->key = (ds_str){mem, 2};
      p->val = i;
    }
    ck_assert(h.exec->active(&h.rj, h.op, &b));
    h.exec->run(&h.rj, h.op, &b);
    memset(mem, '#', 3);
    free(mem);
    const rt_stream *s = &h.streams[h.op];
    size_t len = 0;
    got[0] = 0;
    for (int p = 0; p < s->nparts; p++)
      for (int64_t k = 0; k < s->parts[p].n; k++) {
        const spair *sp = (const spair *)(s->parts[p].data + k * 24);
        len += (size_t)snprintf(got + len, OUT - len, "%.*s%lld ", (int)sp->key.len, sp->key.ptr,
                                (long long)sp->val);
      }
  }
  /* At 4 the window (1, 4] holds batches 2 and 3, copied before their memory went. */
  ck_assert_str_eq(got, "cd2 ef3 ");
  teardown(&h);
}
END_TEST

START_TEST(window_checks_multiples) {
  struct {
    int64_t w, s;
    const char *msg;
  } cases[] = {
      {2500, 1000, "the window length 2500ms is not a multiple of the batch interval 1000ms"},
      {4000, 1500, "the window slide 1500ms is not a multiple of the batch interval 1000ms"},
      {4000, 0, NULL},
      {3000, 3000, NULL},
  };
  ds_node_kind kinds[3] = {DS_WINDOW, DS_REDUCE_BY_WINDOW, DS_REDUCE_BY_KEY_AND_WINDOW};
  for (int k = 0; k < 3; k++) {
    for (int c = 0; c < 4; c++) {
      harness h;
      setup(&h, kinds[k], kinds[k] == DS_REDUCE_BY_KEY_AND_WINDOW, false, 2, 1, 1);
      h.nodes[h.op].window_ms = cases[c].w;
      h.nodes[h.op].slide_ms = cases[c].s;
      const char *msg = init(&h);
      if (cases[c].msg)
        ck_assert_str_eq(msg, cases[c].msg);
      else
        ck_assert_ptr_null(msg);
      teardown(&h);
    }
  }
}
END_TEST

START_TEST(window_of_window_period) {
  /* A window over window(4s, 2s): its period is 2s. */
  harness h;
  setup(&h, DS_WINDOW, false, false, 2, 1, 1);
  h.nodes[1] = (ds_node){.kind = DS_WINDOW, .ninputs = 1, .inputs = {0}, .elem = &t_int,
                         .window_ms = 4000, .slide_ms = 2000};
  h.nodes[2] = (ds_node){.kind = DS_WINDOW, .ninputs = 1, .inputs = {1}, .elem = &t_int,
                         .window_ms = 6000, .slide_ms = 3000};
  h.job.nnodes = 3;
  h.op = 2;
  ck_assert_int_eq(rt_period_ms(&h.rj, 1), 2000);
  ck_assert_int_eq(rt_period_ms(&h.rj, 0), 1000);
  ck_assert_str_eq(init(&h), "the window slide 3000ms is not a multiple of 2000ms, the slide "
                             "of the windowed stream it reads");
  h.nodes[2].slide_ms = 0;
  h.exec->free(&h.rj, 2);
  ck_assert_ptr_null(init(&h));
  ck_assert_int_eq(rt_period_ms(&h.rj, 2), 2000);
  teardown(&h);
}
END_TEST

/* ---- reduceByWindow ---- */

START_TEST(reduce_by_window_empty_window_emits_nothing) {
  harness h;
  setup(&h, DS_REDUCE_BY_WINDOW, false, false, 2, 2, 2);
  h.nodes[h.op].window_ms = 2000;
  h.nodes[h.op].slide_ms = 1000;
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  rec r[3] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}};
  step(&h, 1, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "");
  step(&h, 2, r, 3, out, OUT);
  ck_assert_str_eq(out, "6");
  step(&h, 3, r, 1, out, OUT);
  ck_assert_str_eq(out, "7");
  step(&h, 4, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "1");
  step(&h, 5, NULL, 0, out, OUT);
  ck_assert_str_eq(out, "");
  teardown(&h);
}
END_TEST

START_TEST(count_by_window_emits_zero_after_first_element) {
  /* countByWindow(2s, 1s) = map(x => 1).reduceByWindow(+, -, 2s, 1s). */
  harness h;
  setup(&h, DS_REDUCE_BY_WINDOW, false, false, 2, 2, 2);
  h.nodes[h.op].window_ms = 2000;
  h.nodes[h.op].slide_ms = 1000;
  h.nodes[h.op].inv_reduce = sub;
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  rec ones[3] = {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}};
  const int counts[9] = {0, 0, 0, 3, 1, 0, 0, 2, 0};
  const char *expect[9] = {"", "", "", "3", "4", "1", "0", "2", "2"};
  for (int i = 1; i <= 8; i++) {
    step(&h, i, ones, counts[i], out, OUT);
    ck_assert_str_eq(out, expect[i]);
  }
  teardown(&h);
}
END_TEST

START_TEST(reduce_by_window_inverse_4s_2s) {
  harness h;
  setup(&h, DS_REDUCE_BY_WINDOW, false, false, 2, 2, 1);
  h.nodes[h.op].window_ms = 4000;
  h.nodes[h.op].slide_ms = 2000;
  h.nodes[h.op].inv_reduce = sub;
  ck_assert_ptr_null(init(&h));
  char outs[11][OUT];
  run_ints(&h, 10, outs);
  const char *expect[11] = {"", "-", "3", "-", "10", "-", "18", "-", "26", "-", "34"};
  for (int i = 1; i <= 10; i++)
    ck_assert_str_eq(outs[i], expect[i]);
  teardown(&h);
}
END_TEST

START_TEST(reduce_by_window_inverse_first_slide_after_gap) {
  /* A restart from the journal alone re-ran batch 1, and the job was down at
   * times 2 and 3 (no batch: the first slide, at 2, was never computed). The
   * slide at 4 has no previous window: everything in (0, 4] enters, batch 1
   * included; later slides go on from it. */
  harness h;
  setup(&h, DS_REDUCE_BY_WINDOW, false, false, 2, 2, 1);
  h.nodes[h.op].window_ms = 4000;
  h.nodes[h.op].slide_ms = 2000;
  h.nodes[h.op].inv_reduce = sub;
  ck_assert_ptr_null(init(&h));
  char out[OUT];
  const int batches[] = {1, 4, 5, 6, 7, 8, 9, 10};
  const char *expect[] = {"-", "5", "-", "15", "-", "26", "-", "34"};
  for (int k = 0; k < 8; k++) {
    rec r = {NULL, 0, batches[k]};
    step(&h, batches[k], &r, 1, out, OUT);
    ck_assert_msg(strcmp(out, expect[k]) == 0, "batch %d: %s != %s", batches[k], out, expect[k]);
  }
  teardown(&h);
}
END_TEST

/* ---- reduceByKeyAndWindow ---- */

/* Batch i holds the pairs of line i ("key:value,...", "" for none). */
static void run_pairs(harness *h, const char *const *lines, int nbatches, char outs[][OUT]) {
  for (int i = 1; i <= nbatches; i++) {
    rec recs[32];
    char keys[32][8];
    int n = 0;
    const char *p = lines[i];
    while (p && *p) {
      int len = 0;
      long long v = 0;
      sscanf(p, "%7[^:]:%lld%n", keys[n], &v, &len);
      recs[n] = (rec){keys[n], 0, v};
      n++;
      p += len;
      if (*p == ',')
        p++;
    }
    step(h, i, recs, n, outs[i], OUT);
  }
}

static void rbkw(harness *h, int partitions, int threads, int64_t w, int64_t s, bool inverse,
                 bool filter) {
  setup(h, DS_REDUCE_BY_KEY_AND_WINDOW, true, true, partitions, threads, 2);
  h->nodes[h->op].window_ms = w;
  h->nodes[h->op].slide_ms = s;
  h->nodes[h->op].inv_reduce = inverse ? sub : NULL;
  h->nodes[h->op].filter = filter ? nonzero : NULL;
  ck_assert_ptr_null(init(h));
}

static const char *const lines_a[] = {NULL, "a:1", "b:2,a:1", "", "", "c:1", "", ""};

START_TEST(rbkw_without_inverse_key_absent) {
  for (int partitions = 1; partitions <= 4; partitions += 3) {
    harness h;
    rbkw(&h, partitions, 2, 2000, 1000, false, false);
    char outs[8][OUT];
    run_pairs(&h, lines_a, 7, outs);
    const char *expect[8] = {"", "a=1", "a=2 b=2", "a=1 b=2", "", "c=1", "c=1", ""};
    for (int i = 1; i <= 7; i++)
      ck_assert_str_eq(outs[i], expect[i]);
    teardown(&h);
  }
}
END_TEST

START_TEST(rbkw_inverse_keys_stay) {
  for (int partitions = 1; partitions <= 4; partitions += 3) {
    harness h;
    rbkw(&h, partitions, 3, 2000, 1000, true, false);
    char outs[8][OUT];
    run_pairs(&h, lines_a, 7, outs);
    const char *expect[8] = {"",          "a=1",         "a=2 b=2",     "a=1 b=2",
                             "a=0 b=0",   "a=0 b=0 c=1", "a=0 b=0 c=1", "a=0 b=0 c=0"};
    for (int i = 1; i <= 7; i++)
      ck_assert_str_eq(outs[i], expect[i]);
    teardown(&h);
  }
}
END_TEST

START_TEST(rbkw_inverse_filter_drops_and_forgets) {
  /* countByValueAndWindow: the filter c != 0 drops keys whose count fell to 0. */
  harness h;
  rbkw(&h, 3, 2, 2000, 1000, true, true);
  const char *const lines[] = {NULL, "a:1", "b:2,a:1", "", "", "a:5", "", ""};
  char outs[8][OUT];
  run_pairs(&h, lines, 7, outs);
  const char *expect[8] = {"", "a=1", "a=2 b=2", "a=1 b=2", "", "a=5", "a=5", ""};
  for (int i = 1; i <= 7; i++)
    ck_assert_str_eq(outs[i], expect[i]);
  teardown(&h);
}
END_TEST

START_TEST(rbkw_worked_example_4s_2s) {
  /* One pair ("k", i) in batch i: the windows of §7 as sums. */
  const char *const lines[] = {NULL, "k:1", "k:2", "k:3", "k:4", "k:5", "k:6", "k:7", "k:8"};
  for (int inverse = 0; inverse < 2; inverse++) {
    harness h;
    rbkw(&h, 2, 2, 4000, 2000, inverse, false);
    char outs[9][OUT];
    run_pairs(&h, lines, 8, outs);
    const char *expect[9] = {"", "-", "k=3", "-", "k=10", "-", "k=18", "-", "k=26"};
    for (int i = 1; i <= 8; i++)
      ck_assert_str_eq(outs[i], expect[i]);
    teardown(&h);
  }
}
END_TEST

START_TEST(rbkw_worked_example_2s_3s) {
  /* Batches 1 and 4 fall in no window: x (only in 4) never appears. */
  const char *const lines[] = {NULL, "k:1", "k:2", "k:3", "k:4,x:9", "k:5", "k:6", "", "", ""};
  for (int inverse = 0; inverse < 2; inverse++) {
    harness h;
    rbkw(&h, 2, 2, 2000, 3000, inverse, false);
    char outs[10][OUT];
    run_pairs(&h, lines, 9, outs);
    const char *expect[10] = {"", "-", "-", "k=5", "-", "-", "k=11", "-", "-",
                              inverse ? "k=0" : ""};
    for (int i = 1; i <= 9; i++)
      ck_assert_str_eq(outs[i], expect[i]);
    teardown(&h);
  }
}
END_TEST

START_TEST(rbkw_counts_record_errors) {
  harness h;
  rbkw(&h, 1, 1, 3000, 1000, false, false);
  h.nodes[h.op].reduce = add_or_fail;
  const char *const lines[] = {NULL, "a:1", "a:13", "a:2"};
  char outs[4][OUT];
  run_pairs(&h, lines, 3, outs);
  /* Window at 2 reduces a=1 with a=13 (fails: dropped, counted); at 3 again. */
  ck_assert_str_eq(outs[2], "a=1");
  ck_assert_str_eq(outs[3], "a=3");
  ck_assert_int_eq(h.site_errors[0], 2);
  teardown(&h);
}
END_TEST

START_TEST(rbkw_first_slide_after_gap) {
  /* The chaos_files failure: countByValueAndWindow(4s, 2s) after a restart
   * from the journal alone that re-ran only batch 1, then a downtime over
   * times 2 and 3 (the first slide time). The slide at 4 must count batch 1
   * (window (0, 4]); it was left out, and the later slides subtracted it
   * when it left, so every count stayed off by batch 1's. Plain, inverse,
   * inverse + filter (countByValueAndWindow). */
  const char *const lines[] = {NULL, "a:1,b:2", "", "", "a:1", "c:1", "a:1", "", "", "", ""};
  const int batches[] = {1, 4, 5, 6, 7, 8, 9, 10};
  const char *expect[3][8] = {
      {"-", "a=2 b=2", "-", "a=2 c=1", "-", "a=1 c=1", "-", ""},
      {"-", "a=2 b=2", "-", "a=2 b=0 c=1", "-", "a=1 b=0 c=1", "-", "a=0 b=0 c=0"},
      {"-", "a=2 b=2", "-", "a=2 c=1", "-", "a=1 c=1", "-", ""},
  };
  for (int mode = 0; mode < 3; mode++) {
    for (int partitions = 1; partitions <= 3; partitions += 2) {
      harness h;
      rbkw(&h, partitions, 2, 4000, 2000, mode > 0, mode == 2);
      for (int k = 0; k < 8; k++) {
        const char *p = lines[batches[k]];
        rec recs[8];
        char keys[8][8];
        int n = 0;
        while (*p) {
          int len = 0;
          long long v = 0;
          sscanf(p, "%7[^:]:%lld%n", keys[n], &v, &len);
          recs[n] = (rec){keys[n], 0, v};
          n++;
          p += len;
          if (*p == ',')
            p++;
        }
        char out[OUT];
        step(&h, batches[k], recs, n, out, OUT);
        ck_assert_msg(strcmp(out, expect[mode][k]) == 0, "mode %d, %d partitions, batch %d: %s != %s",
                      mode, partitions, batches[k], out, expect[mode][k]);
      }
      teardown(&h);
    }
  }
}
END_TEST

/* A direct model: for every slide T, the sums of the batches in (T - w, T];
 * with an inverse, every key that has appeared in a window stays (filter:
 * only the non-zero ones). Int keys, random values, several shapes. */
START_TEST(rbkw_matches_model) {
  enum { NB = 40, NK = 12 };
  int64_t shapes[][2] = {{1000, 1000}, {3000, 1000}, {4000, 2000}, {2000, 3000}, {5000, 5000},
                         {6000, 4000}};
  unsigned seed = 7;
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
    int64_t w = shapes[sh][0] / BATCH, s = shapes[sh][1] / BATCH;
    int64_t vals[NB + 1][NK];
    for (int i = 1; i <= NB; i++)
      for (int k = 0; k < NK; k++) {
        seed = seed * 1103515245 + 12345;
        vals[i][k] = (seed >> 16) % 4 == 0 ? (int64_t)((seed >> 8) % 5) + 1 : 0;
      }
    for (int mode = 0; mode < 3; mode++) { /* plain, inverse, inverse + filter */
      for (int partitions = 1; partitions <= 5; partitions += 4) {
        harness h;
        setup(&h, DS_REDUCE_BY_KEY_AND_WINDOW, true, false, partitions, 2, 3);
        h.nodes[h.op].window_ms = w * BATCH;
        h.nodes[h.op].slide_ms = s * BATCH;
        h.nodes[h.op].inv_reduce = mode ? sub : NULL;
        h.nodes[h.op].filter = mode == 2 ? inonzero : NULL;
        ck_assert_ptr_null(init(&h));
        bool seen[NK] = {0};
        for (int i = 1; i <= NB; i++) {
          rec recs[NK];
          int n = 0;
          for (int k = 0; k < NK; k++)
            if (vals[i][k])
              recs[n++] = (rec){NULL, k, vals[i][k]};
          char out[OUT], expect[OUT];
          step(&h, i, recs, n, out, OUT);
          if (i % s) {
            ck_assert_str_eq(out, "-");
            continue;
          }
          char *lines[NK];
          int nl = 0;
          for (int k = 0; k < NK; k++) {
            int64_t sum = 0;
            bool any = false;
            for (int j = i - (int)w + 1; j <= i; j++)
              if (j >= 1 && vals[j][k]) {
                sum += vals[j][k];
                any = true;
              }
            seen[k] = seen[k] || any;
            bool show = mode == 0 ? any : mode == 1 ? seen[k] : sum != 0;
            if (show) {
              lines[nl] = malloc(32);
              snprintf(lines[nl++], 32, "%d=%lld", k, (long long)sum);
            }
          }
          qsort(lines, (size_t)nl, sizeof *lines, cmp_line);
          size_t len = 0;
          expect[0] = 0;
          for (int k = 0; k < nl; k++) {
            len += (size_t)snprintf(expect + len, OUT - len, "%s%s", k ? " " : "", lines[k]);
            free(lines[k]);
          }
          ck_assert_msg(strcmp(out, expect) == 0, "w=%lld s=%lld mode %d batch %d: %s != %s",
                        (long long)w, (long long)s, mode, i, out, expect);
        }
        teardown(&h);
      }
    }
  }
}
END_TEST

START_TEST(rbkw_independent_of_threads) {
  char first[2][OUT * 4];
  for (int t = 0; t < 2; t++) {
    harness h;
    setup(&h, DS_REDUCE_BY_KEY_AND_WINDOW, true, false, 4, t ? 4 : 1, 3);
    h.nodes[h.op].window_ms = 3000;
    h.nodes[h.op].slide_ms = 1000;
    h.nodes[h.op].inv_reduce = sub;
    ck_assert_ptr_null(init(&h));
    char out[OUT];
    for (int i = 1; i <= 6; i++) {
      rec recs[50];
      for (int k = 0; k < 50; k++)
        recs[k] = (rec){NULL, (k * 31 + i) % 40, k};
      step(&h, i, recs, 50, out, OUT);
    }
    raw(&h, first[t], sizeof first[t]);
    teardown(&h);
  }
  ck_assert_str_eq(first[0], first[1]);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_windows");
  TCase *tb = tcase_create("per_batch");
  tcase_add_test(tb, count_one_element_every_batch);
  tcase_add_test(tb, reduce_one_element_per_non_empty_batch);
  tcase_add_test(tb, reduce_counts_record_errors);
  tcase_add_test(tb, reduce_by_key_merges_partitions);
  tcase_add_test(tb, reduce_by_key_independent_of_threads);
  suite_add_tcase(s, tb);
  TCase *tw = tcase_create("window");
  tcase_add_test(tw, window_4s_2s_example);
  tcase_add_test(tw, window_2s_3s_example);
  tcase_add_test(tw, window_default_slide_and_order);
  tcase_add_test(tw, window_deep_copies_strings);
  tcase_add_test(tw, window_checks_multiples);
  tcase_add_test(tw, window_of_window_period);
  suite_add_tcase(s, tw);
  TCase *tr = tcase_create("reduce_by_window");
  tcase_add_test(tr, reduce_by_window_empty_window_emits_nothing);
  tcase_add_test(tr, count_by_window_emits_zero_after_first_element);
  tcase_add_test(tr, reduce_by_window_inverse_4s_2s);
  tcase_add_test(tr, reduce_by_window_inverse_first_slide_after_gap);
  suite_add_tcase(s, tr);
  TCase *tk = tcase_create("reduce_by_key_and_window");
  tcase_set_timeout(tk, 30);
  tcase_add_test(tk, rbkw_without_inverse_key_absent);
  tcase_add_test(tk, rbkw_inverse_keys_stay);
  tcase_add_test(tk, rbkw_inverse_filter_drops_and_forgets);
  tcase_add_test(tk, rbkw_worked_example_4s_2s);
  tcase_add_test(tk, rbkw_worked_example_2s_3s);
  tcase_add_test(tk, rbkw_counts_record_errors);
  tcase_add_test(tk, rbkw_first_slide_after_gap);
  tcase_add_test(tk, rbkw_matches_model);
  tcase_add_test(tk, rbkw_independent_of_threads);
  suite_add_tcase(s, tk);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
