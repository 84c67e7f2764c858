/*
 * check_rt_state.c — the state operators of the runtime: the state store,
 * updateStateByKey, mapWithState (with timeouts and onTimeout) and
 * stateSnapshots, called through their rt_exec batch by batch.
 *
 * Each test builds an rt_job by hand: node 0 is a source whose pair stream
 * (int or string keys, int values) the test fills, node 1 the state
 * operator with C callbacks standing where dsc's generated functions will,
 * and for mapWithState node 2 its stateSnapshots. A small loop plays the
 * driver: every batch it fills the input (contiguous slices over the input
 * partitions, so arrival order is the order of the test's list), runs the
 * nodes, renders their outputs as text, resets the batch arenas and
 * overwrites the input's string bytes (the stores must own deep copies).
 * Outputs are compared exactly: keyed outputs sorted by key, mapWithState's
 * outputs sorted by key but in emission order within a key. Randomised
 * tests compare many batches with a direct model, with several partition
 * and thread counts and with compaction thresholds lowered so the stores
 * compact while keys and timeouts are live.
 */
#include "rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- types written by hand, as dsc would generate them ---- */

#include "rt_types.h"

typedef struct {
  int64_t key, val;
} ipair;
typedef struct {
  ds_str key;
  int64_t val;
} spair;
static void spair_copy(void *dst, const void *src, ds_arena *a) {
  memcpy(dst, src, sizeof(spair));
  str_copy(dst, src, a);
}
static const ds_type t_ipair = {"(int, int)", 16, 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static const ds_type t_spair = {"(string, int)", 24, 8, spair_copy, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

/* mapWithState's output: what one call saw and did. v == TIMED_OUT marks
 * an onTimeout element. */
enum { TIMED_OUT = -1000 };
typedef struct {
  int64_t v, before, after; /* before/after -1: no state */
  union {
    int64_t i;
    ds_str s;
  } key;
} event;
static const ds_type t_event = {"event", 40, 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

/* ---- the job's functions ---- */

/* (K, S) outputs of updateStateByKey and stateSnapshots. */
static void make_i(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  ipair *p = out;
  p->key = *(const int64_t *)k;
  p->val = *(const int64_t *)s;
}
static void make_s(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  spair *p = out;
  p->key = *(const ds_str *)k;
  p->val = *(const int64_t *)s;
}

static bool record_error(ds_ctx *ctx) {
  ctx->err = DS_ERR_DIV_ZERO;
  ctx->err_site = 1;
  return false;
}

/* updateStateByKey((vs, s) => some((s ?? 0) + sum(vs))). */
static bool upd_sum(ds_ctx *ctx, void *out, const ds_list *vs, const void *state) {
  int64_t sum = state ? *(const int64_t *)state : 0;
  for (int64_t i = 0; i < vs->len; i++)
    sum += ((const int64_t *)vs->ptr)[i];
  *(int64_t *)out = sum;
  return true;
}

/* Adds the values; a batch without values decays the state by 1; a state
 * that falls to 0 or below, or a negative value, removes the key; 13 is a
 * record error (after scribbling on out). */
static bool upd_decay(ds_ctx *ctx, void *out, const ds_list *vs, const void *state) {
  int64_t s = state ? *(const int64_t *)state : 0;
  *(int64_t *)out = 12345;
  for (int64_t i = 0; i < vs->len; i++) {
    int64_t v = ((const int64_t *)vs->ptr)[i];
    if (v == 13)
      return record_error(ctx);
    if (v < 0)
      return false;
    s += v;
  }
  if (vs->len == 0)
    s--;
  *(int64_t *)out = s;
  return s > 0;
}

/* mapWithState: the state is the digits of the values seen, in order
 * (modulo a prime, to stay in range). 0 removes the state; a negative value
 * sets the state from -v but emits nothing; 13 scribbles on the state, then
 * fails. */
static bool map_core(ds_ctx *ctx, const void *vp, void *state, bool *has, event *ev) {
  int64_t v = *(const int64_t *)vp, *s = state;
  int64_t before = *has ? *s : -1;
  if (v == 13) {
    *s = 999;
    *has = !*has;
    return record_error(ctx);
  }
  ev->v = v;
  ev->before = before;
  if (v == 0) {
    *has = false;
    ev->after = -1;
    return true;
  }
  int64_t d = v < 0 ? -v : v;
  *s = ((*has ? *s : 0) * 10 + d) % 1000003;
  *has = true;
  ev->after = *s;
  return v > 0;
}
static bool map_i(ds_ctx *ctx, const void *k, const void *v, void *state, bool *has, void *out) {
  event *ev = out;
  ev->key.i = *(const int64_t *)k;
  return map_core(ctx, v, state, has, ev);
}
static bool map_s(ds_ctx *ctx, const void *k, const void *v, void *state, bool *has, void *out) {
  event *ev = out;
  ev->key.s = *(const ds_str *)k;
  return map_core(ctx, v, state, has, ev);
}
/* onTimeout: emits the last state, except a state of 7 (emits nothing) or
 * 77 (a record error). */
static bool timeout_core(ds_ctx *ctx, const void *state, event *ev) {
  int64_t s = *(const int64_t *)state;
  if (s == 77)
    return record_error(ctx);
  ev->v = TIMED_OUT;
  ev->before = s;
  ev->after = -1;
  return s != 7;
}
static bool timeout_i(ds_ctx *ctx, const void *k, const void *state, void *out) {
  ((event *)out)->key.i = *(const int64_t *)k;
  return timeout_core(ctx, state, out);
}
static bool timeout_s(ds_ctx *ctx, const void *k, const void *state, void *out) {
  ((event *)out)->key.s = *(const ds_str *)k;
  return timeout_core(ctx, state, out);
}

/* ---- the hand-made job ---- */

enum { BATCH = 1000, T0 = 100000, MAXN = 3 };

typedef struct harness {
  ds_job job;
  ds_node nodes[MAXN];
  rt_job rj;
  rt_stream streams[MAXN];
  void *state[MAXN];
  int64_t site_errors[2];
  int nnodes;
  bool strings;         /* string keys */
  int in_parts;         /* partitions of the input */
  char *bytes;          /* the input's string bytes for this batch */
  size_t nbytes;
} harness;

static const rt_exec *exec_of(ds_node_kind kind) {
  switch (kind) {
  case DS_UPDATE_STATE_BY_KEY: return &rt_exec_update_state_by_key;
  case DS_MAP_WITH_STATE: return &rt_exec_map_with_state;
  case DS_STATE_SNAPSHOTS: return &rt_exec_state_snapshots;
  default: return NULL;
  }
}

/* A job: source -> kind (-> stateSnapshots for mapWithState). */
static void setup(harness *h, ds_node_kind kind, bool strings, int partitions, int threads,
                  int in_parts) {
  memset(h, 0, sizeof *h);
  h->strings = strings;
  h->in_parts = in_parts;
  const ds_type *pair = strings ? &t_spair : &t_ipair;
  h->nodes[0] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:1:1", .elem = pair};
  ds_node *n = &h->nodes[1];
  *n = (ds_node){.kind = kind, .op = "op", .loc = "t.ds:2:1", .ninputs = 1, .inputs = {0}};
  n->key = strings ? &t_str : &t_int;
  n->val = &t_int;
  n->val_offset = strings ? 16 : 8;
  n->state = &t_int;
  h->nnodes = 2;
  if (kind == DS_UPDATE_STATE_BY_KEY) {
    n->elem = pair;
    n->update = upd_sum;
    n->make = strings ? make_s : make_i;
  } else {
    n->elem = &t_event;
    n->map_state = strings ? map_s : map_i;
    h->nodes[2] = (ds_node){.kind = DS_STATE_SNAPSHOTS, .op = "stateSnapshots", .loc = "t.ds:3:1",
                            .ninputs = 1, .inputs = {1}, .elem = pair};
    h->nodes[2].make = strings ? make_s : make_i;
    h->nnodes = 3;
  }
  h->job = (ds_job){.abi_version = DS_ABI_VERSION, .program = "t.ds", .nodes = h->nodes,
                    .nnodes = h->nnodes, .nsites = 2};
  h->rj.job = &h->job;
  h->rj.settings.batch_ms = BATCH;
  h->rj.settings.partitions = partitions;
  h->rj.settings.threads = threads;
  h->rj.pool = rt_pool_new(threads, 2);
  h->rj.streams = h->streams;
  h->rj.state = h->state;
  h->rj.t0 = T0;
  h->rj.site_errors = h->site_errors;
}

static const char *init(harness *h) {
  for (int i = 1; i < h->nnodes; i++) {
    const char *msg = exec_of(h->nodes[i].kind)->init(&h->rj, i);
    if (msg)
      return msg;
  }
  return NULL;
}

/* Lowers the operator's compaction thresholds so its stores compact often. */
static void eager_compaction(harness *h) {
  int32_t n;
  rt_state_store *s = h->nodes[1].kind == DS_UPDATE_STATE_BY_KEY
                          ? rt_update_state_stores(&h->rj, 1, &n)
                          : rt_map_with_state_stores(&h->rj, 1, &n);
  for (int32_t q = 0; q < n; q++) {
    s[q].min_garbage = 0;
    s[q].min_holes = 1;
  }
}

static void teardown(harness *h) {
  for (int i = h->nnodes - 1; i >= 1; i--) {
    const rt_exec *e = exec_of(h->nodes[i].kind);
    if (e->free)
      e->free(&h->rj, i);
  }
  for (int i = 0; i < MAXN; i++)
    rt_stream_free(&h->streams[i]);
  rt_pool_free(h->rj.pool);
  free(h->bytes);
}

/* One input pair: "k" -> v, or int key -> v. */
typedef struct rec {
  const char *key; /* NULL: int key */
  int64_t ikey, val;
} rec;

/* Fills the input: slice p of in_parts over n records starts at p*n/in_parts. */
static void fill(harness *h, const rec *recs, int n) {
  free(h->bytes);
  size_t bytes = 1;
  for (int i = 0; i < n; i++)
    bytes += recs[i].key ? strlen(recs[i].key) : 0;
  h->bytes = malloc(bytes);
  char *sp = h->bytes;
  rt_stream *src = &h->streams[0];
  rt_stream_reset(src, h->in_parts);
  src->active = true;
  for (int p = 0; p < h->in_parts; p++) {
    int lo = (int)((int64_t)p * n / h->in_parts), hi = (int)((int64_t)(p + 1) * n / h->in_parts);
    for (int i = lo; i < hi; i++) {
      if (h->strings) {
        spair *e = ds_part_push(&src->parts[p], sizeof(spair));
        size_t len = strlen(recs[i].key);
        memcpy(sp, recs[i].key, len);
        e->key = (ds_str){sp, (int64_t)len};
        e->val = recs[i].val;
        sp += len;
      } else {
        ipair *e = ds_part_push(&src->parts[p], sizeof(ipair));
        e->key = recs[i].ikey;
        e->val = recs[i].val;
      }
    }
  }
  h->nbytes = (size_t)(sp - h->bytes);
}

/* ---- rendering ---- */

typedef struct line {
  char key[48];
  int seq;
  char text[96];
} line;

static int cmp_line(const void *a, const void *b) {
  const line *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : x->seq - y->seq;
}

static void key_text(const harness *h, const void *k, char *buf, size_t cap) {
  if (h->strings)
    snprintf(buf, cap, "%.*s", (int)((const ds_str *)k)->len, ((const ds_str *)k)->ptr);
  else
    snprintf(buf, cap, "%lld", (long long)*(const int64_t *)k);
}

/* Node i's output as text: "k=s ..." for (K, S) pairs, "k:v:before>after"
 * and "k:timeout:s" for events; sorted by key, emission order within a key.
 * "-" when the node had no batch. */
static char *render(harness *h, int node) {
  const rt_stream *s = &h->streams[node];
  if (!s->active)
    return strdup("-");
  int64_t total = rt_stream_count(s);
  line *lines = calloc((size_t)total + 1, sizeof *lines);
  const ds_node *n = &h->nodes[node];
  int64_t k = 0;
  for (int p = 0; p < s->nparts; p++) {
    for (int64_t i = 0; i < s->parts[p].n; i++) {
      const char *e = s->parts[p].data + i * n->elem->size;
      line *l = &lines[k];
      l->seq = (int)k++;
      if (n->elem == &t_event) {
        const event *ev = (const event *)e;
        key_text(h, &ev->key, l->key, sizeof l->key);
        if (ev->v == TIMED_OUT)
          snprintf(l->text, sizeof l->text, "%s:timeout:%lld", l->key, (long long)ev->before);
        else
          snprintf(l->text, sizeof l->text, "%s:%lld:%lld>%lld", l->key, (long long)ev->v,
                   (long long)ev->before, (long long)ev->after);
      } else {
        key_text(h, e, l->key, sizeof l->key);
        snprintf(l->text, sizeof l->text, "%s=%lld", l->key,
                 (long long)*(const int64_t *)(e + (h->strings ? 16 : 8)));
      }
    }
  }
  qsort(lines, (size_t)total, sizeof *lines, cmp_line);
  size_t cap = 16, len = 0;
  for (int64_t i = 0; i < total; i++)
    cap += strlen(lines[i].text) + 1;
  char *out = malloc(cap);
  out[0] = '\0';
  for (int64_t i = 0; i < total; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", lines[i].text);
  free(lines);
  return out;
}

/* Plays batch `index` (time T0 + index * BATCH): fills the input, runs the
 * nodes, renders node 1 into out[0] and node 2 (if any) into out[1]. */
static void step(harness *h, int64_t index, const rec *recs, int n, char **out) {
  rt_batch b = {.index = index, .time = T0 + index * BATCH};
  h->rj.batch_time = b.time;
  fill(h, recs, n);
  for (int i = 1; i < h->nnodes; i++) {
    h->streams[i].active = h->streams[h->nodes[i].inputs[0]].active;
    exec_of(h->nodes[i].kind)->run(&h->rj, i, &b);
  }
  for (int i = 1; i < h->nnodes; i++)
    out[i - 1] = render(h, i);
  rt_pool_reset_arenas(h->rj.pool);
  memset(h->bytes, '#', h->nbytes); /* the input's memory goes away with its batch */
}

/* Runs one batch and checks node 1's output (and node 2's when snap is
 * not NULL). */
static void expect(harness *h, int64_t index, const rec *recs, int n, const char *want,
                   const char *snap) {
  char *out[2] = {NULL, NULL};
  step(h, index, recs, n, out);
  ck_assert_msg(strcmp(out[0], want) == 0, "batch %lld: got \"%s\", want \"%s\"", (long long)index,
                out[0], want);
  if (snap)
    ck_assert_msg(strcmp(out[1], snap) == 0, "batch %lld snapshots: got \"%s\", want \"%s\"",
                  (long long)index, out[1], snap);
  free(out[0]);
  free(out[1]);
}

#define S(k, v) {k, 0, v}
#define I(k, v) {NULL, k, v}

/* ---- the state store ---- */

START_TEST(store_insert_find_remove_compact) {
  rt_state_store s;
  rt_state_store_init(&s, &t_str, &t_int);
  char keys[5000][16];
  for (int i = 0; i < 5000; i++) {
    snprintf(keys[i], sizeof keys[i], "key-%07d", i);
    ds_str k = {keys[i], (int64_t)strlen(keys[i])};
    int64_t v = i;
    ck_assert_int_eq(rt_state_find(&s, str_hash(&k), &k), -1);
    ck_assert_int_eq(rt_state_insert(&s, str_hash(&k), &k, &v, T0 + i), i);
  }
  memset(keys, '#', sizeof keys); /* the store owns its copies */
  for (int i = 0; i < 5000; i += 3) {
    char buf[16];
    snprintf(buf, sizeof buf, "key-%07d", i);
    ds_str k = {buf, (int64_t)strlen(buf)};
    int64_t e = rt_state_find(&s, str_hash(&k), &k);
    ck_assert_int_eq(e, i);
    rt_state_remove(&s, e);
  }
  ck_assert_int_eq(s.nlive, 5000 - 1667);
  /* The freed slots are reused, last freed first. */
  ds_str nk = {"new", 3};
  int64_t nv = -1;
  ck_assert_int_eq(rt_state_insert(&s, str_hash(&nk), &nk, &nv, T0), 4998);
  int64_t before = (int64_t)ds_arena_bytes(&s.arena);
  ck_assert(rt_state_store_compact(&s, true));
  ck_assert_int_lt((int64_t)ds_arena_bytes(&s.arena), before);
  ck_assert_int_eq(s.nentries, s.nlive);
  /* Order kept: entries still ascend by key number, with "new" where 4998 was. */
  int64_t prev = -1;
  for (int64_t i = 0; i < s.nentries; i++) {
    rt_state_entry *e = rt_state_at(&s, i);
    const ds_str *k = rt_state_key(&s, e);
    int64_t v = *(int64_t *)rt_state_val(&s, e);
    if (v == -1) {
      ck_assert(ds_str_eq(*k, nk));
      continue;
    }
    ck_assert_int_gt(v, prev);
    ck_assert_int_ne(v % 3, 0);
    ck_assert_int_eq(e->time, T0 + v);
    ck_assert_int_eq(e->hash, str_hash(k));
    char buf[16];
    snprintf(buf, sizeof buf, "key-%07d", (int)v);
    ck_assert(ds_str_eq(*k, (ds_str){buf, (int64_t)strlen(buf)}));
    ck_assert_int_eq(rt_state_find(&s, e->hash, k), i);
    prev = v;
  }
  /* Replacing a state with an equal one copies nothing. */
  int64_t e0 = 0, same = *(int64_t *)rt_state_val(&s, rt_state_at(&s, e0));
  rt_state_set(&s, e0, &same);
  rt_state_store_free(&s);
}
END_TEST

START_TEST(store_reclaims_memory_under_churn) {
  /* 200 rounds of inserting and removing 2000 keys of a 10-key steady
   * state: the store's memory stays bounded. */
  rt_state_store s;
  rt_state_store_init(&s, &t_str, &t_int);
  int64_t peak = 0;
  char buf[32];
  for (int round = 0; round < 200; round++) {
    for (int i = 0; i < 2000; i++) {
      snprintf(buf, sizeof buf, "churn-%d-%d-xxxxxxxxxxxx", round, i);
      ds_str k = {buf, (int64_t)strlen(buf)};
      int64_t v = i;
      rt_state_insert(&s, str_hash(&k), &k, &v, round);
    }
    for (int64_t i = 0; i < s.nentries; i++) {
      rt_state_entry *e = rt_state_at(&s, i);
      if (e->time != RT_STATE_FREE && e->time == round && *(int64_t *)rt_state_val(&s, e) >= 10)
        rt_state_remove(&s, i);
    }
    rt_state_store_compact(&s, false);
    int64_t bytes = rt_state_store_bytes(&s);
    if (bytes > peak)
      peak = bytes;
  }
  ck_assert_int_eq(s.nlive, 2000);
  ck_assert_int_lt(peak, 2 * 1024 * 1024);
  rt_state_store_free(&s);
}
END_TEST

/* ---- updateStateByKey ---- */

static const rec words[] = {S("a", 1), S("b", 1), S("a", 1), S("c", 5), S("a", 1), S("", 2)};

START_TEST(usk_sums_over_batches_and_empty_batches) {
  for (int partitions = 1; partitions <= 5; partitions += 2) {
    harness h;
    setup(&h, DS_UPDATE_STATE_BY_KEY, true, partitions, 2, 2);
    ck_assert_ptr_null(init(&h));
    expect(&h, 1, NULL, 0, "", NULL);
    expect(&h, 2, words, 6, "=2 a=3 b=1 c=5", NULL);
    ck_assert_int_eq(h.streams[1].nparts, partitions);
    expect(&h, 3, NULL, 0, "=2 a=3 b=1 c=5", NULL);
    expect(&h, 4, words, 2, "=2 a=4 b=2 c=5", NULL);
    expect(&h, 5, NULL, 0, "=2 a=4 b=2 c=5", NULL);
    teardown(&h);
  }
}
END_TEST

START_TEST(usk_runs_for_every_key_and_none_removes) {
  harness h;
  setup(&h, DS_UPDATE_STATE_BY_KEY, false, 3, 2, 2);
  h.nodes[1].update = upd_decay;
  ck_assert_ptr_null(init(&h));
  rec b1[] = {I(1, 3), I(2, 1), I(3, 5), I(1, 1)};
  expect(&h, 1, b1, 4, "1=4 2=1 3=5", NULL);
  /* Empty batch: every key decays; 2 falls to 0 and is removed. */
  expect(&h, 2, NULL, 0, "1=3 3=4", NULL);
  /* A negative value removes 3 at once; 2 comes back from nothing. */
  rec b3[] = {I(3, -1), I(2, 2)};
  expect(&h, 3, b3, 2, "1=2 2=2", NULL);
  expect(&h, 4, NULL, 0, "1=1 2=1", NULL);
  expect(&h, 5, NULL, 0, "", NULL);
  expect(&h, 6, NULL, 0, "", NULL);
  rec b7[] = {I(9, 2)};
  expect(&h, 7, b7, 1, "9=2", NULL);
  teardown(&h);
}
END_TEST

START_TEST(usk_initial_state) {
  harness h;
  setup(&h, DS_UPDATE_STATE_BY_KEY, true, 2, 2, 1);
  spair initial[] = {{{"x", 1}, 10}, {{"a", 1}, 100}, {{"x", 1}, 20}};
  h.nodes[1].initial = (ds_list){initial, 3};
  ck_assert_ptr_null(init(&h));
  /* Initial is read once, at the first batch; a key listed twice keeps its last state. */
  expect(&h, 1, NULL, 0, "a=100 x=20", NULL);
  initial[0].val = initial[2].val = -5;
  expect(&h, 2, words, 3, "a=102 b=1 x=20", NULL);
  teardown(&h);
}
END_TEST

START_TEST(usk_record_errors_keep_state) {
  harness h;
  setup(&h, DS_UPDATE_STATE_BY_KEY, false, 2, 1, 1);
  h.nodes[1].update = upd_decay;
  ck_assert_ptr_null(init(&h));
  rec b1[] = {I(1, 5), I(2, 5)};
  expect(&h, 1, b1, 2, "1=5 2=5", NULL);
  /* 13 fails: key 1 keeps 5 (no decay either: f ran and failed), key 7 gets no state. */
  rec b2[] = {I(1, 2), I(1, 13), I(7, 13)};
  expect(&h, 2, b2, 3, "1=5 2=4", NULL);
  ck_assert_int_eq(h.site_errors[1], 2);
  expect(&h, 3, NULL, 0, "1=4 2=3", NULL);
  teardown(&h);
}
END_TEST

START_TEST(usk_keys_in_owning_partition_and_thread_independent) {
  char *first = NULL;
  for (int threads = 1; threads <= 4; threads += 3) {
    harness h;
    setup(&h, DS_UPDATE_STATE_BY_KEY, false, 5, threads, 3);
    ck_assert_ptr_null(init(&h));
    rec recs[300];
    for (int i = 0; i < 300; i++)
      recs[i] = (rec){NULL, (i * 7919) % 97, i};
    char *out[2];
    step(&h, 1, recs, 300, out);
    free(out[0]);
    step(&h, 2, NULL, 0, out);
    free(out[0]);
    const rt_stream *s = &h.streams[1];
    size_t len = 0;
    char *raw = malloc(8192);
    raw[0] = 0;
    for (int q = 0; q < s->nparts; q++) {
      len += (size_t)snprintf(raw + len, 8192 - len, "|");
      for (int64_t i = 0; i < s->parts[q].n; i++) {
        const ipair *p = (const ipair *)(s->parts[q].data + i * 16);
        ck_assert_int_eq(rt_partition_of(i64_hash(&p->key), 5), q);
        len += (size_t)snprintf(raw + len, 8192 - len, "%lld=%lld ", (long long)p->key,
                                (long long)p->val);
      }
    }
    ck_assert_int_eq(rt_stream_count(s), 97);
    if (first) {
      ck_assert_str_eq(raw, first);
      free(raw);
    } else {
      first = raw;
    }
    teardown(&h);
  }
  free(first);
}
END_TEST

/* ---- mapWithState ---- */

START_TEST(mws_runs_once_per_value_in_arrival_order) {
  for (int in_parts = 1; in_parts <= 4; in_parts++) {
    harness h;
    setup(&h, DS_MAP_WITH_STATE, true, 3, 2, in_parts);
    ck_assert_ptr_null(init(&h));
    rec b1[] = {S("a", 1), S("b", 5), S("a", 2), S("a", 3), S("b", 6), S("c", 0)};
    expect(&h, 1, b1, 6, "a:1:-1>1 a:2:1>12 a:3:12>123 b:5:-1>5 b:6:5>56 c:0:-1>-1",
           "a=123 b=56");
    /* State carried across batches; 0 removes it and the next value starts over. */
    rec b2[] = {S("b", 7), S("a", 0), S("a", 4), S("b", -8)};
    expect(&h, 2, b2, 4, "a:0:123>-1 a:4:-1>4 b:7:56>567", "a=4 b=5678");
    expect(&h, 3, NULL, 0, "", "a=4 b=5678");
    teardown(&h);
  }
}
END_TEST

START_TEST(mws_record_error_restores_state) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, false, 2, 2, 2);
  ck_assert_ptr_null(init(&h));
  rec b1[] = {I(1, 1), I(1, 13), I(1, 2), I(2, 13), I(3, 13), I(3, 4)};
  /* The failing calls emit nothing and leave the state as before them. */
  expect(&h, 1, b1, 6, "1:1:-1>1 1:2:1>12 3:4:-1>4", "1=12 3=4");
  ck_assert_int_eq(h.site_errors[1], 3);
  teardown(&h);
}
END_TEST

START_TEST(mws_timeouts_exact_batches) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, true, 3, 2, 2);
  ds_node *n = &h.nodes[1];
  n->timeout_ms = 3 * BATCH;
  n->on_timeout = timeout_s;
  spair initial[] = {{{"i", 1}, 9}, {{"j", 1}, 8}};
  n->initial = (ds_list){initial, 2};
  ck_assert_ptr_null(init(&h));
  /* Batch 1 (T0+1s): a and b updated; i, j from initial at T0. */
  rec b1[] = {S("a", 1), S("b", 2)};
  expect(&h, 1, b1, 2, "a:1:-1>1 b:2:-1>2", "a=1 b=2 i=9 j=8");
  expect(&h, 2, NULL, 0, "", "a=1 b=2 i=9 j=8");
  /* Batch 3 = T0 + 3s: i times out (its deadline); j gets a value exactly then. */
  rec b3[] = {S("j", 1)};
  expect(&h, 3, b3, 1, "i:timeout:9 j:1:8>81", "a=1 b=2 j=81");
  /* Batch 4: a's deadline (1s + 3s) — it times out; b got a value exactly at its deadline. */
  rec b4[] = {S("b", 3)};
  expect(&h, 4, b4, 1, "a:timeout:1 b:3:2>23", "b=23 j=81");
  expect(&h, 5, NULL, 0, "", "b=23 j=81");
  expect(&h, 6, NULL, 0, "j:timeout:81", "b=23");
  expect(&h, 7, NULL, 0, "b:timeout:23", "");
  expect(&h, 8, NULL, 0, "", "");
  teardown(&h);
}
END_TEST

START_TEST(mws_timeout_not_a_multiple_of_the_batch) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, false, 2, 1, 1);
  h.nodes[1].timeout_ms = 2500; /* updated at 1s: deadline 3.5s, so batch 4 */
  h.nodes[1].on_timeout = timeout_i;
  ck_assert_ptr_null(init(&h));
  rec b1[] = {I(5, 5)};
  expect(&h, 1, b1, 1, "5:5:-1>5", "5=5");
  expect(&h, 2, NULL, 0, "", "5=5");
  expect(&h, 3, NULL, 0, "", "5=5");
  expect(&h, 4, NULL, 0, "5:timeout:5", "");
  teardown(&h);
}
END_TEST

START_TEST(mws_on_timeout_outputs) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, false, 2, 2, 1);
  h.nodes[1].timeout_ms = BATCH;
  h.nodes[1].on_timeout = timeout_i;
  ck_assert_ptr_null(init(&h));
  /* States 7 (onTimeout gives none) and 77 (fails) time out silently. */
  rec b1[] = {I(1, 7), I(2, 7), I(2, 7), I(3, 4)};
  expect(&h, 1, b1, 4, "1:7:-1>7 2:7:-1>7 2:7:7>77 3:4:-1>4", "1=7 2=77 3=4");
  expect(&h, 2, NULL, 0, "3:timeout:4", "");
  ck_assert_int_eq(h.site_errors[1], 1);
  teardown(&h);
  /* Without onTimeout keys leave without output; removed keys never time out. */
  setup(&h, DS_MAP_WITH_STATE, false, 2, 2, 1);
  h.nodes[1].timeout_ms = 2 * BATCH;
  ck_assert_ptr_null(init(&h));
  rec c1[] = {I(1, 1), I(2, 2)};
  expect(&h, 1, c1, 2, "1:1:-1>1 2:2:-1>2", "1=1 2=2");
  rec c2[] = {I(2, 0)};
  expect(&h, 2, c2, 1, "2:0:2>-1", "1=1");
  rec c3[] = {I(2, 3)};
  expect(&h, 3, c3, 1, "2:3:-1>3", "2=3");
  expect(&h, 4, NULL, 0, "", "2=3");
  expect(&h, 5, NULL, 0, "", "");
  teardown(&h);
}
END_TEST

START_TEST(mws_without_timeout_keeps_keys) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, false, 1, 1, 1);
  ck_assert_ptr_null(init(&h));
  rec b1[] = {I(1, 1)};
  expect(&h, 1, b1, 1, "1:1:-1>1", "1=1");
  for (int i = 2; i < 20; i++)
    expect(&h, i, NULL, 0, "", "1=1");
  teardown(&h);
}
END_TEST

START_TEST(snapshots_need_map_with_state) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, false, 1, 1, 1);
  h.nodes[2].inputs[0] = 0;
  ck_assert_ptr_null(exec_of(DS_MAP_WITH_STATE)->init(&h.rj, 1));
  ck_assert_ptr_nonnull(exec_of(DS_STATE_SNAPSHOTS)->init(&h.rj, 2));
  teardown(&h);
}
END_TEST

/* ---- randomised comparison with a model ---- */

enum { MKEYS = 6000 };

typedef struct model {
  bool has[MKEYS];
  int64_t state[MKEYS], last[MKEYS];
  bool touched[MKEYS];
} model;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins lines sorted (rendering's per-key order is checked elsewhere;
 * here the model's own order within a key is the one it emitted in). */
static char *join_sorted(char **lines, int n) {
  qsort(lines, (size_t)n, sizeof *lines, cmp_str);
  size_t cap = 16;
  for (int i = 0; i < n; i++)
    cap += strlen(lines[i]) + 1;
  char *out = malloc(cap);
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", lines[i]);
    free(lines[i]);
  }
  return out;
}

/* Splits a rendered output into words and sorts them the same way. */
static char *resort(const char *text) {
  char *copy = strdup(text);
  int n = 0, cap = 64;
  char **lines = malloc((size_t)cap * sizeof *lines);
  for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
    if (n == cap)
      lines = realloc(lines, (size_t)(cap *= 2) * sizeof *lines);
    lines[n++] = strdup(tok);
  }
  char *out = join_sorted(lines, n);
  free(lines);
  free(copy);
  return out;
}

static void run_model_test(bool strings, int partitions, int threads, int in_parts, int64_t timeout,
                           bool eager, unsigned seed) {
  harness h;
  setup(&h, DS_MAP_WITH_STATE, strings, partitions, threads, in_parts);
  h.nodes[1].timeout_ms = timeout;
  h.nodes[1].on_timeout = timeout ? (strings ? timeout_s : timeout_i) : NULL;
  ck_assert_ptr_null(init(&h));
  if (eager)
    eager_compaction(&h);
  model *m = calloc(1, sizeof *m);
  static char names[MKEYS][24];
  for (int k = 0; k < MKEYS; k++)
    snprintf(names[k], sizeof names[k], "k%05d-%s", k, k % 3 ? "long-key-name" : "s");
  rec *recs = malloc(4000 * sizeof *recs);
  int nlines_cap = 20000;
  char **lines = malloc((size_t)nlines_cap * sizeof *lines);
  unsigned r = seed;
  for (int b = 1; b <= 40; b++) {
    int64_t T = T0 + (int64_t)b * BATCH;
    /* Early batches spread over many keys, later ones over a few. */
    int n = b % 7 == 0 ? 0 : (int)((r = r * 1103515245 + 12345) >> 16) % 2000;
    int span = b < 10 ? MKEYS : 300;
    for (int i = 0; i < n; i++) {
      r = r * 1103515245 + 12345;
      int k = (int)((r >> 8) % (unsigned)span);
      int roll = (int)((r >> 20) % 100);
      int64_t v = roll < 4 ? 0 : roll < 7 ? 13 : roll < 12 ? -(roll % 9 + 1) : roll % 9 + 1;
      recs[i] = (rec){strings ? names[k] : NULL, k, v};
    }
    /* The model. */
    int nl = 0;
    memset(m->touched, 0, sizeof m->touched);
    for (int i = 0; i < n; i++) {
      int k = (int)recs[i].ikey;
      int64_t v = recs[i].val;
      char buf[160];
      m->touched[k] = true;
      if (v == 13)
        continue;
      int64_t before = m->has[k] ? m->state[k] : -1;
      if (v == 0) {
        m->has[k] = false;
        snprintf(buf, sizeof buf, "%.23s:0:%lld>-1", strings ? names[k] : "", (long long)before);
      } else {
        int64_t d = v < 0 ? -v : v;
        m->state[k] = ((m->has[k] ? m->state[k] : 0) * 10 + d) % 1000003;
        m->has[k] = true;
        if (v < 0)
          continue;
        snprintf(buf, sizeof buf, "%.23s:%lld:%lld>%lld", strings ? names[k] : "", (long long)v,
                 (long long)before, (long long)m->state[k]);
      }
      if (!strings) {
        char ib[200];
        snprintf(ib, sizeof ib, "%d%s", k, buf);
        lines[nl++] = strdup(ib);
      } else {
        lines[nl++] = strdup(buf);
      }
    }
    for (int k = 0; k < MKEYS; k++) {
      if (m->touched[k] && m->has[k])
        m->last[k] = T;
      if (timeout && m->has[k] && !m->touched[k] && m->last[k] + timeout <= T) {
        m->has[k] = false;
        if (m->state[k] != 7 && m->state[k] != 77) {
          char buf[160];
          if (strings)
            snprintf(buf, sizeof buf, "%.23s:timeout:%lld", names[k], (long long)m->state[k]);
          else
            snprintf(buf, sizeof buf, "%d:timeout:%lld", k, (long long)m->state[k]);
          lines[nl++] = strdup(buf);
        }
      }
    }
    char *want = join_sorted(lines, nl);
    nl = 0;
    for (int k = 0; k < MKEYS; k++) {
      if (!m->has[k])
        continue;
      char buf[160];
      if (strings)
        snprintf(buf, sizeof buf, "%.23s=%lld", names[k], (long long)m->state[k]);
      else
        snprintf(buf, sizeof buf, "%d=%lld", k, (long long)m->state[k]);
      lines[nl++] = strdup(buf);
    }
    char *want_snap = join_sorted(lines, nl);
    char *out[2];
    step(&h, b, recs, n, out);
    char *got = resort(out[0]), *got_snap = resort(out[1]);
    ck_assert_msg(strcmp(got, want) == 0, "batch %d: outputs differ", b);
    ck_assert_msg(strcmp(got_snap, want_snap) == 0, "batch %d: snapshots differ", b);
    free(got);
    free(got_snap);
    free(want);
    free(want_snap);
    free(out[0]);
    free(out[1]);
  }
  free(lines);
  free(recs);
  free(m);
  teardown(&h);
}

START_TEST(mws_matches_model_int_keys) {
  run_model_test(false, 3, 2, 2, 3 * BATCH, true, 1);
  run_model_test(false, 1, 1, 1, 2 * BATCH, false, 2);
  run_model_test(false, 4, 3, 3, 0, true, 3);
}
END_TEST

START_TEST(mws_matches_model_string_keys) {
  run_model_test(true, 3, 2, 4, 3 * BATCH, true, 4);
  run_model_test(true, 2, 2, 1, 5 * BATCH, false, 5);
}
END_TEST

/* updateStateByKey against a model, compacting eagerly. */
START_TEST(usk_matches_model) {
  harness h;
  setup(&h, DS_UPDATE_STATE_BY_KEY, true, 3, 2, 3);
  h.nodes[1].update = upd_decay;
  ck_assert_ptr_null(init(&h));
  eager_compaction(&h);
  static char names[2000][16];
  bool has[2000] = {0};
  int64_t state[2000], add[2000];
  bool bad[2000], err[2000], got_vals[2000];
  for (int k = 0; k < 2000; k++)
    snprintf(names[k], sizeof names[k], "key%d", k);
  rec recs[1500];
  unsigned r = 7;
  char **lines = malloc(2000 * sizeof *lines);
  for (int b = 1; b <= 30; b++) {
    int n = b % 5 == 0 ? 0 : (int)((r = r * 1103515245 + 12345) >> 16) % 1500;
    memset(add, 0, sizeof add);
    memset(bad, 0, sizeof bad);
    memset(err, 0, sizeof err);
    memset(got_vals, 0, sizeof got_vals);
    for (int i = 0; i < n; i++) {
      r = r * 1103515245 + 12345;
      int k = (int)((r >> 8) % 2000);
      int roll = (int)((r >> 20) % 100);
      int64_t v = roll < 2 ? -1 : roll < 4 ? 13 : roll % 5 + 1;
      recs[i] = (rec){names[k], k, v};
      /* upd_decay stops at the first 13 or negative value, in arrival order. */
      if (!err[k] && !bad[k]) {
        if (v == 13)
          err[k] = true;
        else if (v < 0)
          bad[k] = true;
        else
          add[k] += v;
      }
      got_vals[k] = true;
    }
    int nl = 0;
    for (int k = 0; k < 2000; k++) {
      if (!got_vals[k] && !has[k])
        continue;
      if (err[k]) {
        /* keeps its state */
      } else if (bad[k]) {
        has[k] = false;
      } else {
        int64_t s = (has[k] ? state[k] : 0) + add[k] - (got_vals[k] ? 0 : 1);
        has[k] = s > 0;
        state[k] = s;
      }
      if (has[k]) {
        char buf[48];
        snprintf(buf, sizeof buf, "%s=%lld", names[k], (long long)state[k]);
        lines[nl++] = strdup(buf);
      }
    }
    char *want = join_sorted(lines, nl), *out[2];
    step(&h, b, recs, n, out);
    char *got = resort(out[0]);
    ck_assert_msg(strcmp(got, want) == 0, "batch %d differs", b);
    free(got);
    free(want);
    free(out[0]);
  }
  free(lines);
  teardown(&h);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_state");
  TCase *ts = tcase_create("store");
  tcase_add_test(ts, store_insert_find_remove_compact);
  tcase_add_test(ts, store_reclaims_memory_under_churn);
  suite_add_tcase(s, ts);
  TCase *tu = tcase_create("update_state_by_key");
  tcase_set_timeout(tu, 30);
  tcase_add_test(tu, usk_sums_over_batches_and_empty_batches);
  tcase_add_test(tu, usk_runs_for_every_key_and_none_removes);
  tcase_add_test(tu, usk_initial_state);
  tcase_add_test(tu, usk_record_errors_keep_state);
  tcase_add_test(tu, usk_keys_in_owning_partition_and_thread_independent);
  tcase_add_test(tu, usk_matches_model);
  suite_add_tcase(s, tu);
  TCase *tm = tcase_create("map_with_state");
  tcase_set_timeout(tm, 60);
  tcase_add_test(tm, mws_runs_once_per_value_in_arrival_order);
  tcase_add_test(tm, mws_record_error_restores_state);
  tcase_add_test(tm, mws_timeouts_exact_batches);
  tcase_add_test(tm, mws_timeout_not_a_multiple_of_the_batch);
  tcase_add_test(tm, mws_on_timeout_outputs);
  tcase_add_test(tm, mws_without_timeout_keeps_keys);
  tcase_add_test(tm, snapshots_need_map_with_state);
  tcase_add_test(tm, mws_matches_model_int_keys);
  tcase_add_test(tm, mws_matches_model_string_keys);
  suite_add_tcase(s, tm);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
