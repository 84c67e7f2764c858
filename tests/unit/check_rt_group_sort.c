/*
 * check_rt_group_sort.c — the one-input grouping and ordering operators of
 * the runtime: groupByKey (group_by_key.c), distinct (distinct.c),
 * repartition (repartition.c), sortBy and top (sort.c).
 *
 * Each test builds an rt_job by hand: node 0 is a source whose partitions
 * the test fills, node 1 the operator under test, with the generated
 * functions (make, key_of) written in C on C-layout elements. Outputs are
 * rendered as text and compared exactly: as sorted lines where §7 leaves
 * the order unspecified (groupByKey, distinct), in order where it defines it
 * (repartition read in partition order, sortBy, top). Covered: empty
 * batches, int and string keys, duplicates across partitions (distinct keeps
 * the first), repartition's slices and order, stable sorting with ties in
 * both directions, top with ties and n larger than the batch, record errors
 * in key functions, several partition and thread counts, and randomised
 * comparisons of sortBy and top with a model.
 */
#include "rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- types written by hand, as dsc would generate them ---- */

#include "rt_types.h"

/* An element with a key and a tag: equal (and hashed) by key only, so
 * tests can tell which of equal elements an operator kept, and where a
 * sorted element came from. */
typedef struct {
  int64_t key, tag;
} tagged;
static const ds_type t_tagged = {"(int, int)", 16, 8, NULL, NULL, i64_hash, i64_eq, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

typedef struct {
  ds_str key;
  int64_t tag;
} stagged;
static const ds_type t_stagged = {"(string, int)", 24, 8, NULL, NULL, str_hash, str_eq, NULL, DS_SHAPE_NONE, 0, NULL, NULL};

/* groupByKey's output (K, [int]). */
typedef struct {
  int64_t k;
  ds_list vs;
} igroup;
typedef struct {
  ds_str k;
  ds_list vs;
} sgroup;
static const ds_type t_igroup = {"(int, [int])", sizeof(igroup), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static const ds_type t_sgroup = {"(string, [int])", sizeof(sgroup), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static void make_igroup(ds_ctx *c, void *out, const void *k, const void *vs, const void *unused) {
  igroup *o = out;
  o->k = *(const int64_t *)k;
  o->vs = *(const ds_list *)vs;
}
static void make_sgroup(ds_ctx *c, void *out, const void *k, const void *vs, const void *unused) {
  sgroup *o = out;
  o->k = *(const ds_str *)k;
  o->vs = *(const ds_list *)vs;
}

/* key_of functions: the key; its string; a key that fails (site 0) on 13. */
static void key_tagged(ds_ctx *ctx, void *key, const void *e) {
  *(int64_t *)key = ((const tagged *)e)->key;
}
static void key_stagged(ds_ctx *ctx, void *key, const void *e) {
  *(ds_str *)key = ((const stagged *)e)->key;
}
static void key_or_fail(ds_ctx *ctx, void *key, const void *e) {
  if (((const tagged *)e)->key == 13) {
    ctx->err = DS_ERR_DIV_ZERO;
    ctx->err_site = 0;
    return;
  }
  *(int64_t *)key = ((const tagged *)e)->key;
}

/* ---- the hand-made job ---- */

typedef struct harness {
  ds_job job;
  ds_node nodes[2];
  rt_job rj;
  rt_stream streams[2];
  void *state[2];
  int64_t site_errors[1];
  const rt_exec *exec;
  bool strings;          /* string keys */
  char *text;            /* the batch text the strings point into */
} harness;

static const rt_exec *exec_of(ds_node_kind kind) {
  switch (kind) {
  case DS_GROUP_BY_KEY: return &rt_exec_group_by_key;
  case DS_DISTINCT: return &rt_exec_distinct;
  case DS_REPARTITION: return &rt_exec_repartition;
  case DS_SORT_BY: return &rt_exec_sort_by;
  case DS_TOP: return &rt_exec_top;
  default: return NULL;
  }
}

/* Sets the job up; the caller may adjust node 1 before init(). */
static void setup(harness *h, ds_node_kind kind, bool strings, int partitions, int threads) {
  memset(h, 0, sizeof *h);
  h->strings = strings;
  h->exec = exec_of(kind);
  const ds_type *elem = strings ? &t_stagged : &t_tagged;
  h->nodes[0] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:1:1",
                          .elem = elem};
  ds_node *n = &h->nodes[1];
  *n = (ds_node){.kind = kind, .op = "op", .loc = "t.ds:2:1", .ninputs = 1, .inputs = {0},
                 .elem = elem};
  if (kind == DS_GROUP_BY_KEY) {
    n->elem = strings ? &t_sgroup : &t_igroup;
    n->make = strings ? make_sgroup : make_igroup;
    n->val = &t_int;
    n->val_offset = strings ? offsetof(stagged, tag) : offsetof(tagged, tag);
  }
  n->key = strings ? &t_str : &t_int;
  n->key_of = strings ? key_stagged : key_tagged;
  h->job = (ds_job){.abi_version = DS_ABI_VERSION, .program = "t.ds", .nodes = h->nodes,
                    .nnodes = 2, .nsites = 1};
  h->rj.job = &h->job;
  h->rj.settings.batch_ms = 1000;
  h->rj.settings.partitions = partitions;
  h->rj.settings.threads = threads;
  h->rj.pool = rt_pool_new(threads, 1);
  h->rj.streams = h->streams;
  h->rj.state = h->state;
  h->rj.site_errors = h->site_errors;
}

static const char *init(harness *h) { return h->exec->init(&h->rj, 1); }

static void teardown(harness *h) {
  if (h->exec->free)
    h->exec->free(&h->rj, 1);
  for (int i = 0; i < 2; i++)
    rt_stream_free(&h->streams[i]);
  rt_pool_free(h->rj.pool);
  free(h->text);
}

/* Fills the input: partitions separated by '|', elements "key.tag" (or
 * "key:tag") separated by spaces; "-5.1" is key -5. */
static void fill(harness *h, const char *spec) {
  free(h->text);
  char *t = h->text = strdup(spec);
  rt_stream *st = &h->streams[0];
  int nparts = 1;
  for (const char *p = spec; *p; p++)
    nparts += *p == '|';
  rt_stream_reset(st, nparts);
  st->active = true;
  int part = 0;
  char *p = t;
  while (*p) {
    if (*p == ' ' || *p == '|') {
      part += *p == '|';
      p++;
      continue;
    }
    char *k = p;
    while (*p != '.' && *p != ':')
      p++;
    int64_t klen = p - k;
    int64_t tag = strtoll(p + 1, &p, 10);
    if (h->strings) {
      stagged *e = ds_part_push(&st->parts[part], sizeof *e);
      *e = (stagged){{k, klen}, tag};
    } else {
      tagged *e = ds_part_push(&st->parts[part], sizeof *e);
      *e = (tagged){strtoll(k, NULL, 10), tag};
    }
  }
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void render_elem(const harness *h, const char *e, char *buf, size_t cap) {
  const ds_node *n = &h->nodes[1];
  char key[64];
  const char *rest;
  if (h->strings) {
    const ds_str *k = (const ds_str *)e;
    snprintf(key, sizeof key, "%.*s", (int)k->len, k->ptr);
    rest = e + sizeof(ds_str);
  } else {
    snprintf(key, sizeof key, "%lld", (long long)*(const int64_t *)e);
    rest = e + sizeof(int64_t);
  }
  if (n->kind != DS_GROUP_BY_KEY) {
    snprintf(buf, cap, "%s.%lld", key, (long long)*(const int64_t *)rest);
    return;
  }
  const ds_list *l = (const ds_list *)rest;
  int64_t vs[256];
  ck_assert_int_le(l->len, 256);
  ck_assert_int_gt(l->len, 0);
  memcpy(vs, l->ptr, (size_t)l->len * sizeof *vs);
  qsort(vs, (size_t)l->len, sizeof *vs, i64_cmp); /* the order inside a group is unspecified */
  size_t len = (size_t)snprintf(buf, cap, "%s:[", key);
  for (int64_t i = 0; i < l->len; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)vs[i]);
  snprintf(buf + len, cap - len, "]");
}

/* The output: "|"-separated partitions in order (`sorted`: one line of
 * sorted elements instead). */
static char *render(const harness *h, bool sorted) {
  const rt_stream *s = &h->streams[1];
  int64_t total = rt_stream_count(s), k = 0;
  char **lines = calloc((size_t)total + 1, sizeof *lines);
  size_t cap = 16 + (size_t)s->nparts;
  for (int q = 0; q < s->nparts; q++)
    for (int64_t i = 0; i < s->parts[q].n; i++) {
      char buf[4096];
      render_elem(h, s->parts[q].data + i * h->nodes[1].elem->size, buf, sizeof buf);
      lines[k] = strdup(buf);
      cap += strlen(lines[k++]) + 1;
    }
  if (sorted)
    qsort(lines, (size_t)total, sizeof *lines, cmp_line);
  char *out = malloc(cap);
  size_t len = 0;
  out[0] = 0;
  k = 0;
  for (int q = 0; q < s->nparts; q++) {
    if (!sorted && q)
      len += (size_t)snprintf(out + len, cap - len, "|");
    for (int64_t i = 0; i < s->parts[q].n; i++, k++) {
      bool first = sorted ? k == 0 : i == 0;
      len += (size_t)snprintf(out + len, cap - len, "%s%s", first ? "" : " ", lines[k]);
    }
  }
  for (int64_t i = 0; i < total; i++)
    free(lines[i]);
  free(lines);
  return out;
}

/* Runs one batch; returns the output rendered. The input's memory is
 * overwritten afterwards, as a source's would be. */
static char *step(harness *h, const char *spec, bool sorted) {
  fill(h, spec);
  rt_batch b = {.index = 1, .time = 1000};
  h->rj.batch_time = b.time;
  h->exec->run(&h->rj, 1, &b);
  char *out = render(h, sorted);
  rt_pool_reset_arenas(h->rj.pool);
  memset(h->text, '#', strlen(h->text));
  return out;
}

#define EXPECT(h, spec, sorted, want)                                                             \
  do {                                                                                            \
    char *got_ = step(h, spec, sorted);                                                           \
    ck_assert_str_eq(got_, want);                                                                 \
    free(got_);                                                                                   \
  } while (0)

/* ---- groupByKey ---- */

START_TEST(group_by_key_groups_across_partitions) {
  for (int strings = 0; strings < 2; strings++) {
    for (int partitions = 1; partitions <= 5; partitions += 2) {
      harness h;
      setup(&h, DS_GROUP_BY_KEY, strings, partitions, 2);
      ck_assert_ptr_null(init(&h));
      if (strings) {
        EXPECT(&h, "a:1 b:2 | a:3 | c:4 a:5 | :6 b:7", true, ":[6] a:[1,3,5] b:[2,7] c:[4]");
        EXPECT(&h, "", true, "");
        EXPECT(&h, "x:1 | x:1", true, "x:[1,1]");
      } else {
        EXPECT(&h, "1:1 2:2 | 1:3 | 3:4 1:5 | -4:6 2:7", true, "-4:[6] 1:[1,3,5] 2:[2,7] 3:[4]");
        EXPECT(&h, " | | ", true, "");
        EXPECT(&h, "7:9", true, "7:[9]");
      }
      ck_assert_int_eq(h.streams[1].nparts, partitions);
      teardown(&h);
    }
  }
}
END_TEST

START_TEST(group_by_key_values_in_input_order_and_owner_partition) {
  /* Not promised by §7, but the runtime keeps input order within a group
   * and puts each key in the partition that owns its hash. */
  harness h;
  setup(&h, DS_GROUP_BY_KEY, false, 3, 3);
  ck_assert_ptr_null(init(&h));
  char spec[4096];
  size_t len = 0;
  for (int i = 0; i < 300; i++)
    len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%d:%d", i % 40 == 39 ? " | " : " ",
                            i % 17, i);
  free(step(&h, spec, true));
  const rt_stream *s = &h.streams[1];
  int groups = 0;
  for (int q = 0; q < s->nparts; q++)
    for (int64_t i = 0; i < s->parts[q].n; i++, groups++) {
      const igroup *g = (const igroup *)(s->parts[q].data + i * sizeof *g);
      ck_assert_int_eq(rt_partition_of(i64_hash(&g->k), 3), q);
      const int64_t *v = g->vs.ptr;
      for (int64_t j = 0; j < g->vs.len; j++)
        ck_assert_int_eq(v[j], g->k + 17 * j);
    }
  ck_assert_int_eq(groups, 17);
  teardown(&h);
}
END_TEST

/* ---- distinct ---- */

START_TEST(distinct_keeps_the_first) {
  for (int strings = 0; strings < 2; strings++) {
    for (int partitions = 1; partitions <= 4; partitions++) {
      for (int threads = 1; threads <= 3; threads += 2) {
        harness h;
        setup(&h, DS_DISTINCT, strings, partitions, threads);
        ck_assert_ptr_null(init(&h));
        /* Equal elements (same key) in several partitions: the first in
         * input order (partitions in order) is kept. */
        if (strings) {
          EXPECT(&h, "a.1 b.2 a.3 | c.4 b.5 | | a.6 c.7 .8 .9", true, ".8 a.1 b.2 c.4");
        } else {
          EXPECT(&h, "1.1 2.2 1.3 | 3.4 2.5 | | 1.6 3.7 0.8 0.9", true, "0.8 1.1 2.2 3.4");
          EXPECT(&h, "5.1 5.2 5.3 5.4", true, "5.1");
        }
        EXPECT(&h, "", true, "");
        teardown(&h);
      }
    }
  }
}
END_TEST

START_TEST(distinct_many_duplicates) {
  harness h;
  setup(&h, DS_DISTINCT, false, 4, 2);
  ck_assert_ptr_null(init(&h));
  char spec[20000];
  size_t len = 0;
  for (int i = 0; i < 2000; i++)
    len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%d.%d", i % 300 == 299 ? " | " : " ",
                            (i * 7) % 101, i);
  free(step(&h, spec, true));
  /* Each key once, with the tag of its first occurrence. */
  int64_t first[101];
  for (int k = 0; k < 101; k++)
    first[k] = -1;
  for (int i = 0; i < 2000; i++)
    if (first[(i * 7) % 101] < 0)
      first[(i * 7) % 101] = i;
  const rt_stream *s = &h.streams[1];
  ck_assert_int_eq(rt_stream_count(s), 101);
  for (int q = 0; q < s->nparts; q++)
    for (int64_t i = 0; i < s->parts[q].n; i++) {
      const tagged *e = (const tagged *)(s->parts[q].data + i * sizeof *e);
      ck_assert_int_eq(e->tag, first[e->key]);
    }
  teardown(&h);
}
END_TEST

/* ---- repartition ---- */

START_TEST(repartition_slices_in_order) {
  struct {
    int64_t n;
    const char *in, *want;
  } cases[] = {
      /* 10 elements over 4: slices start at 0, 2, 5, 7. */
      {4, "0.0 1.1 2.2 | | 3.3 4.4 5.5 6.6 7.7 8.8 9.9", "0.0 1.1|2.2 3.3 4.4|5.5 6.6|7.7 8.8 9.9"},
      {1, "0.0 1.1 | 2.2 | 3.3", "0.0 1.1 2.2 3.3"},
      {3, "0.0 | 1.1", "|0.0|1.1"},
      {5, "", "||||"},
      {2, "0.0 1.1 2.2 3.3 4.4 5.5", "0.0 1.1 2.2|3.3 4.4 5.5"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int threads = 1; threads <= 2; threads++) {
      harness h;
      setup(&h, DS_REPARTITION, false, 7, threads);
      h.nodes[1].int_arg = cases[c].n;
      ck_assert_ptr_null(init(&h));
      EXPECT(&h, cases[c].in, false, cases[c].want);
      ck_assert_int_eq(h.streams[1].nparts, cases[c].n);
      EXPECT(&h, "", false, cases[c].n == 1 ? "" : cases[c].n == 2 ? "|" : cases[c].n == 3 ? "||"
                            : cases[c].n == 4 ? "|||" : "||||");
      teardown(&h);
    }
  }
}
END_TEST

START_TEST(repartition_large_keeps_order) {
  harness h;
  setup(&h, DS_REPARTITION, false, 2, 2);
  h.nodes[1].int_arg = 7;
  ck_assert_ptr_null(init(&h));
  char spec[40000];
  size_t len = 0;
  for (int i = 0; i < 1000; i++)
    len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%d.%d", i % 333 == 332 ? " | " : " ",
                            i, i);
  free(step(&h, spec, false));
  const rt_stream *s = &h.streams[1];
  int64_t next = 0;
  for (int q = 0; q < 7; q++) {
    ck_assert_int_eq(s->parts[q].n, (q + 1) * 1000 / 7 - q * 1000 / 7);
    for (int64_t i = 0; i < s->parts[q].n; i++)
      ck_assert_int_eq(((const tagged *)s->parts[q].data)[i].key, next++);
  }
  teardown(&h);
}
END_TEST

START_TEST(repartition_checks_n) {
  int64_t bad[3] = {0, -1, 1 << 21};
  const char *msg[3] = {"repartition(0): the number of partitions must be at least 1",
                        "repartition(-1): the number of partitions must be at least 1",
                        "repartition(2097152): the number of partitions must be at most 1048576"};
  for (int i = 0; i < 3; i++) {
    harness h;
    setup(&h, DS_REPARTITION, false, 2, 1);
    h.nodes[1].int_arg = bad[i];
    ck_assert_str_eq(init(&h), msg[i]);
    teardown(&h);
  }
}
END_TEST

/* ---- sortBy ---- */

START_TEST(sort_by_stable_both_directions) {
  for (int threads = 1; threads <= 3; threads += 2) {
    harness h;
    setup(&h, DS_SORT_BY, false, 4, threads);
    ck_assert_ptr_null(init(&h));
    /* Tags give the input order; ties on keys 2 and 5 keep it. */
    const char *in = "5.0 2.1 9.2 | 2.3 | | 5.4 -1.5 2.6 | 5.7";
    EXPECT(&h, in, false, "-1.5 2.1 2.3 2.6 5.0 5.4 5.7 9.2");
    ck_assert_int_eq(h.streams[1].nparts, 1);
    EXPECT(&h, "", false, "");
    EXPECT(&h, " | | ", false, "");
    EXPECT(&h, "3.0", false, "3.0");
    teardown(&h);
    setup(&h, DS_SORT_BY, false, 4, threads);
    h.nodes[1].flag = true; /* descending */
    ck_assert_ptr_null(init(&h));
    EXPECT(&h, in, false, "9.2 5.0 5.4 5.7 2.1 2.3 2.6 -1.5");
    teardown(&h);
  }
}
END_TEST

START_TEST(sort_by_string_keys) {
  harness h;
  setup(&h, DS_SORT_BY, true, 2, 2);
  ck_assert_ptr_null(init(&h));
  EXPECT(&h, "pear.0 apple.1 | .2 pear.3 | apples.4 Apple.5", false,
         ".2 Apple.5 apple.1 apples.4 pear.0 pear.3");
  teardown(&h);
}
END_TEST

START_TEST(sort_by_drops_key_errors) {
  harness h;
  setup(&h, DS_SORT_BY, false, 2, 2);
  h.nodes[1].key_of = key_or_fail;
  ck_assert_ptr_null(init(&h));
  EXPECT(&h, "13.0 4.1 | 13.2 | 1.3 13.4", false, "1.3 4.1");
  ck_assert_int_eq(h.site_errors[0], 3);
  EXPECT(&h, "13.0 | 13.1", false, "");
  teardown(&h);
}
END_TEST

/* A direct model: the tags (input positions) sorted by key, then tag. */
static int64_t model_keys[20000];
static bool model_desc;
static int cmp_model(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  int64_t kx = model_keys[x], ky = model_keys[y];
  if (kx != ky)
    return model_desc ? (kx < ky ? 1 : -1) : (kx < ky ? -1 : 1);
  return (x > y) - (x < y);
}

/* Random batches of n elements (keys in [0, range)) in p partitions; the
 * expected order in want (tags). */
static char *random_batch(unsigned *seed, int n, int range, int p) {
  char *spec = malloc((size_t)n * 24 + (size_t)p * 3 + 1);
  size_t len = 0;
  spec[0] = 0;
  for (int i = 0; i < n; i++) {
    *seed = *seed * 1103515245 + 12345;
    model_keys[i] = (int64_t)((*seed >> 8) % (unsigned)range);
    bool cut = p > 1 && i && i % ((n + p - 1) / p) == 0;
    len += (size_t)sprintf(spec + len, "%s%lld.%d", cut ? " | " : " ", (long long)model_keys[i], i);
  }
  return spec;
}

static char *render_model(int64_t *order, int n) {
  char *want = malloc((size_t)n * 24 + 1);
  size_t len = 0;
  want[0] = 0;
  for (int i = 0; i < n; i++)
    len += (size_t)sprintf(want + len, "%s%lld.%lld", i ? " " : "", (long long)model_keys[order[i]],
                           (long long)order[i]);
  return want;
}

START_TEST(sort_by_matches_model) {
  unsigned seed = 99;
  int sizes[] = {1, 2, 17, 100, 1000, 5000};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (int desc = 0; desc < 2; desc++) {
      int n = sizes[s], p = 1 + (int)(s % 7), range = s % 2 ? n / 4 + 1 : 3 * n;
      char *spec = random_batch(&seed, n, range, p);
      int64_t order[5000];
      for (int i = 0; i < n; i++)
        order[i] = i;
      model_desc = desc;
      qsort(order, (size_t)n, sizeof *order, cmp_model);
      char *want = render_model(order, n);
      harness h;
      setup(&h, DS_SORT_BY, false, 3, 2);
      h.nodes[1].flag = desc;
      ck_assert_ptr_null(init(&h));
      char *got = step(&h, spec, false);
      ck_assert_msg(strcmp(got, want) == 0, "n %d desc %d", n, desc);
      free(got);
      free(want);
      free(spec);
      teardown(&h);
    }
  }
}
END_TEST

/* ---- top ---- */

START_TEST(top_largest_first_ties_in_input_order) {
  for (int threads = 1; threads <= 3; threads += 2) {
    harness h;
    setup(&h, DS_TOP, false, 4, threads);
    h.nodes[1].int_arg = 4;
    ck_assert_ptr_null(init(&h));
    /* 7 appears 3 times: the earlier ones win; a later 9 still ranks first. */
    const char *in = "7.0 1.1 | 7.2 | | 3.3 7.4 7.5 | 9.6";
    EXPECT(&h, in, false, "9.6 7.0 7.2 7.4");
    ck_assert_int_eq(h.streams[1].nparts, 1);
    EXPECT(&h, "", false, "");
    EXPECT(&h, "2.0 | 5.1", false, "5.1 2.0"); /* n larger than the batch */
    EXPECT(&h, "5.0 5.1 5.2 5.3 5.4 5.5", false, "5.0 5.1 5.2 5.3");
    teardown(&h);
  }
}
END_TEST

START_TEST(top_zero_and_negative) {
  harness h;
  setup(&h, DS_TOP, false, 2, 2);
  h.nodes[1].int_arg = 0;
  ck_assert_ptr_null(init(&h));
  EXPECT(&h, "1.0 2.1", false, "");
  ck_assert_int_eq(h.streams[1].nparts, 1);
  teardown(&h);
  setup(&h, DS_TOP, false, 2, 2);
  h.nodes[1].int_arg = -3;
  ck_assert_str_eq(init(&h), "top(-3): the number of elements must be at least 0");
  teardown(&h);
}
END_TEST

START_TEST(top_string_keys_and_errors) {
  harness h;
  setup(&h, DS_TOP, true, 2, 2);
  h.nodes[1].int_arg = 3;
  ck_assert_ptr_null(init(&h));
  EXPECT(&h, "b.0 a.1 | c.2 | b.3 c.4", false, "c.2 c.4 b.0");
  teardown(&h);
  setup(&h, DS_TOP, false, 2, 2);
  h.nodes[1].int_arg = 2;
  h.nodes[1].key_of = key_or_fail;
  ck_assert_ptr_null(init(&h));
  EXPECT(&h, "13.0 4.1 | 13.2 | 1.3 13.4", false, "4.1 1.3");
  ck_assert_int_eq(h.site_errors[0], 3);
  teardown(&h);
}
END_TEST

START_TEST(top_matches_model) {
  unsigned seed = 4242;
  int sizes[] = {1, 5, 60, 1000, 5000};
  int64_t ns[] = {0, 1, 3, 10, 100, 100000};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
      int n = sizes[s], p = 1 + (int)((s + k) % 5), range = k % 2 ? n / 3 + 1 : 4 * n;
      char *spec = random_batch(&seed, n, range, p);
      int64_t order[5000];
      for (int i = 0; i < n; i++)
        order[i] = i;
      model_desc = true;
      qsort(order, (size_t)n, sizeof *order, cmp_model);
      char *want = render_model(order, ns[k] < n ? (int)ns[k] : n);
      harness h;
      setup(&h, DS_TOP, false, 3, 2);
      h.nodes[1].int_arg = ns[k];
      ck_assert_ptr_null(init(&h));
      char *got = step(&h, spec, false);
      ck_assert_msg(strcmp(got, want) == 0, "n %d top %lld: %s", n, (long long)ns[k], got);
      free(got);
      free(want);
      free(spec);
      teardown(&h);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_group_sort");
  TCase *tg = tcase_create("group");
  tcase_set_timeout(tg, 60);
  tcase_add_test(tg, group_by_key_groups_across_partitions);
  tcase_add_test(tg, group_by_key_values_in_input_order_and_owner_partition);
  tcase_add_test(tg, distinct_keeps_the_first);
  tcase_add_test(tg, distinct_many_duplicates);
  tcase_add_test(tg, repartition_slices_in_order);
  tcase_add_test(tg, repartition_large_keeps_order);
  tcase_add_test(tg, repartition_checks_n);
  suite_add_tcase(s, tg);
  TCase *ts = tcase_create("sort");
  tcase_set_timeout(ts, 60);
  tcase_add_test(ts, sort_by_stable_both_directions);
  tcase_add_test(ts, sort_by_string_keys);
  tcase_add_test(ts, sort_by_drops_key_errors);
  tcase_add_test(ts, sort_by_matches_model);
  tcase_add_test(ts, top_largest_first_ties_in_input_order);
  tcase_add_test(ts, top_zero_and_negative);
  tcase_add_test(ts, top_string_keys_and_errors);
  tcase_add_test(ts, top_matches_model);
  suite_add_tcase(s, ts);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
