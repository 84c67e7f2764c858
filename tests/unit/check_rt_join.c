/*
 * check_rt_join.c — the two-input keyed operators of the runtime: join,
 * leftOuterJoin, rightOuterJoin, fullOuterJoin and cogroup (join.c), with
 * the exchange (exchange.c) and key tables (groups.c) under them.
 *
 * Each test builds an rt_job by hand: node 0 is the left source, pairs
 * (K, int), node 1 the right source, pairs (K, string), node 2 the operator
 * under test, with a `make` written in C that builds the output element as
 * the generated code would (C layout: (K, (V, W)), options as
 * { uint8_t some; T value; }, cogroup's ([V], [W]) as two ds_lists). Keys are
 * ints or strings. Batches are written as text, one partition per '|'
 * ("a:1 b:2 | a:3"); outputs are rendered as sorted lines, since the order
 * after a shuffle is unspecified (§7), and compared exactly: empty batches,
 * keys on one side only for each outer join, duplicate keys on both sides
 * (Spark's cross product), several partition and thread counts, inputs
 * whose string memory is overwritten after each batch, and a randomised
 * comparison with a nested-loop model. A last test times a join of two
 * streams of N records against a reduceByKey of 2N (DS_BENCH=1 for 1 M).
 */
#include "rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- types written by hand, as dsc would generate them ---- */

#include "rt_types.h"

typedef struct {
  uint8_t some;
  int64_t value;
} opt_int;
typedef struct {
  uint8_t some;
  ds_str value;
} opt_str;

/* The pairs and outputs for one key type KT (prefix P), and the makes. */
#define DEFINE_JOIN_TYPES(P, KT)                                                                  \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    int64_t v;                                                                                    \
  } P##_lpair;                                                                                    \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    ds_str w;                                                                                     \
  } P##_rpair;                                                                                    \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    struct {                                                                                      \
      int64_t v;                                                                                  \
      ds_str w;                                                                                   \
    } x;                                                                                          \
  } P##_join;                                                                                     \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    struct {                                                                                      \
      int64_t v;                                                                                  \
      opt_str w;                                                                                  \
    } x;                                                                                          \
  } P##_left;                                                                                     \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    struct {                                                                                      \
      opt_int v;                                                                                  \
      ds_str w;                                                                                   \
    } x;                                                                                          \
  } P##_right;                                                                                    \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    struct {                                                                                      \
      opt_int v;                                                                                  \
      opt_str w;                                                                                  \
    } x;                                                                                          \
  } P##_full;                                                                                     \
  typedef struct {                                                                                \
    KT k;                                                                                         \
    struct {                                                                                      \
      ds_list vs, ws;                                                                             \
    } x;                                                                                          \
  } P##_cogroup;                                                                                  \
  static void P##_make_join(ds_ctx *c, void *out, const void *k, const void *v, const void *w) { \
    P##_join *o = out;                                                                            \
    o->k = *(const KT *)k;                                                                        \
    o->x.v = *(const int64_t *)v;                                                                 \
    o->x.w = *(const ds_str *)w;                                                                  \
  }                                                                                               \
  static void P##_make_left(ds_ctx *c, void *out, const void *k, const void *v, const void *w) { \
    P##_left *o = out;                                                                            \
    o->k = *(const KT *)k;                                                                        \
    o->x.v = *(const int64_t *)v;                                                                 \
    o->x.w = w ? (opt_str){1, *(const ds_str *)w} : (opt_str){0, {0, 0}};                         \
  }                                                                                               \
  static void P##_make_right(ds_ctx *c, void *out, const void *k, const void *v, const void *w) {\
    P##_right *o = out;                                                                           \
    o->k = *(const KT *)k;                                                                        \
    o->x.v = v ? (opt_int){1, *(const int64_t *)v} : (opt_int){0, 0};                             \
    o->x.w = *(const ds_str *)w;                                                                  \
  }                                                                                               \
  static void P##_make_full(ds_ctx *c, void *out, const void *k, const void *v, const void *w) { \
    P##_full *o = out;                                                                            \
    o->k = *(const KT *)k;                                                                        \
    o->x.v = v ? (opt_int){1, *(const int64_t *)v} : (opt_int){0, 0};                             \
    o->x.w = w ? (opt_str){1, *(const ds_str *)w} : (opt_str){0, {0, 0}};                         \
  }                                                                                               \
  static void P##_make_cogroup(ds_ctx *c, void *out, const void *k, const void *v,               \
                               const void *w) {                                                   \
    P##_cogroup *o = out;                                                                         \
    o->k = *(const KT *)k;                                                                        \
    o->x.vs = *(const ds_list *)v;                                                                \
    o->x.ws = *(const ds_list *)w;                                                                \
  }

DEFINE_JOIN_TYPES(ik, int64_t)
DEFINE_JOIN_TYPES(sk, ds_str)

/* Output types (only size and alignment matter to the runtime). */
#define OUT_TYPE(P, kind) {#P "_" #kind, sizeof(P##_##kind), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL}
static const ds_type out_types[2][5] = {
    {OUT_TYPE(ik, join), OUT_TYPE(ik, left), OUT_TYPE(ik, right), OUT_TYPE(ik, full),
     OUT_TYPE(ik, cogroup)},
    {OUT_TYPE(sk, join), OUT_TYPE(sk, left), OUT_TYPE(sk, right), OUT_TYPE(sk, full),
     OUT_TYPE(sk, cogroup)},
};
static const ds_make_fn makes[2][5] = {
    {ik_make_join, ik_make_left, ik_make_right, ik_make_full, ik_make_cogroup},
    {sk_make_join, sk_make_left, sk_make_right, sk_make_full, sk_make_cogroup},
};
static const ds_type t_ilpair = {"(int, int)", sizeof(ik_lpair), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static const ds_type t_irpair = {"(int, string)", sizeof(ik_rpair), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static const ds_type t_slpair = {"(string, int)", sizeof(sk_lpair), 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static const ds_type t_srpair = {"(string, string)", sizeof(sk_rpair), 8, NULL, NULL, NULL, NULL,
                                 NULL, DS_SHAPE_NONE, 0, NULL, NULL};

static int kind_index(ds_node_kind k) { return (int)(k - DS_JOIN); } /* JOIN .. COGROUP */

/* ---- the hand-made job ---- */

typedef struct harness {
  ds_job job;
  ds_node nodes[3];
  rt_job rj;
  rt_stream streams[3];
  void *state[3];
  int64_t site_errors[1];
  bool strings;          /* string keys */
  char *text[2];         /* each side's batch text (its strings point into it) */
} harness;

static void setup(harness *h, ds_node_kind kind, bool strings, int partitions, int threads) {
  memset(h, 0, sizeof *h);
  h->strings = strings;
  h->nodes[0] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:1:1",
                          .elem = strings ? &t_slpair : &t_ilpair};
  h->nodes[1] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:2:1",
                          .elem = strings ? &t_srpair : &t_irpair};
  ds_node *n = &h->nodes[2];
  *n = (ds_node){.kind = kind, .op = "join", .loc = "t.ds:3:1", .ninputs = 2, .inputs = {0, 1}};
  n->elem = &out_types[strings][kind_index(kind)];
  n->make = makes[strings][kind_index(kind)];
  n->key = strings ? &t_str : &t_int;
  n->val = &t_int;
  n->val2 = &t_str;
  n->val_offset = strings ? offsetof(sk_lpair, v) : offsetof(ik_lpair, v);
  n->val_offset2 = strings ? offsetof(sk_rpair, w) : offsetof(ik_rpair, w);
  h->job = (ds_job){.abi_version = DS_ABI_VERSION, .program = "t.ds", .nodes = h->nodes,
                    .nnodes = 3, .nsites = 1};
  h->rj.job = &h->job;
  h->rj.settings.batch_ms = 1000;
  h->rj.settings.partitions = partitions;
  h->rj.settings.threads = threads;
  h->rj.pool = rt_pool_new(threads, 1);
  h->rj.streams = h->streams;
  h->rj.state = h->state;
  h->rj.site_errors = h->site_errors;
  ck_assert_ptr_null(rt_exec_join.init(&h->rj, 2));
}

static void teardown(harness *h) {
  rt_exec_join.free(&h->rj, 2);
  for (int i = 0; i < 3; i++)
    rt_stream_free(&h->streams[i]);
  rt_pool_free(h->rj.pool);
  free(h->text[0]);
  free(h->text[1]);
}

/* Fills side s from text: partitions separated by '|', pairs "key:value"
 * separated by spaces. Keys and string values point into a copy of the
 * text that lives until the batch is done. */
static void fill(harness *h, int s, const char *spec) {
  free(h->text[s]);
  char *t = h->text[s] = strdup(spec);
  rt_stream *st = &h->streams[s];
  int nparts = 1;
  for (const char *p = spec; *p; p++)
    nparts += *p == '|';
  rt_stream_reset(st, nparts);
  st->active = true;
  int part = 0;
  char *p = t;
  while (*p) {
    if (*p == ' ') {
      p++;
      continue;
    }
    if (*p == '|') {
      part++;
      p++;
      continue;
    }
    char *k = p;
    while (*p != ':')
      p++;
    int64_t klen = p - k;
    char *v = ++p;
    while (*p && *p != ' ' && *p != '|')
      p++;
    int64_t vlen = p - v;
    ds_part *dp = &st->parts[part];
    if (h->strings) {
      ds_str key = {k, klen};
      if (s == 0) {
        sk_lpair *e = ds_part_push(dp, sizeof *e);
        e->k = key;
        e->v = strtoll(v, NULL, 10);
      } else {
        sk_rpair *e = ds_part_push(dp, sizeof *e);
        e->k = key;
        e->w = (ds_str){v, vlen};
      }
    } else {
      int64_t key = strtoll(k, NULL, 10);
      if (s == 0) {
        ik_lpair *e = ds_part_push(dp, sizeof *e);
        e->k = key;
        e->v = strtoll(v, NULL, 10);
      } else {
        ik_rpair *e = ds_part_push(dp, sizeof *e);
        e->k = key;
        e->w = (ds_str){v, vlen};
      }
    }
  }
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static int cmp_i64p(const void *a, const void *b) { return i64_cmp(a, b); }
static int cmp_strp(const void *a, const void *b) { return str_cmp(a, b); }

/* One output element as text: "k:(v,w)" with "-" for a missing side, or
 * cogroup's "k:[v,...]/[w,...]" with each list sorted. */
static void render_elem(const harness *h, const char *e, char *buf, size_t cap) {
  ds_node_kind kind = h->nodes[2].kind;
  char key[64];
  const char *x; /* the (V, W) part */
  if (h->strings) {
    const ds_str *k = (const ds_str *)e;
    snprintf(key, sizeof key, "%.*s", (int)k->len, k->ptr);
    x = e + sizeof(ds_str);
  } else {
    snprintf(key, sizeof key, "%lld", (long long)*(const int64_t *)e);
    x = e + sizeof(int64_t);
  }
  char v[32] = "-", w[64] = "-";
  switch (kind) {
  case DS_JOIN: {
    const ik_join *o = (const ik_join *)(x - 8);
    snprintf(v, sizeof v, "%lld", (long long)o->x.v);
    snprintf(w, sizeof w, "%.*s", (int)o->x.w.len, o->x.w.ptr);
    break;
  }
  case DS_LEFT_OUTER_JOIN: {
    const ik_left *o = (const ik_left *)(x - 8);
    snprintf(v, sizeof v, "%lld", (long long)o->x.v);
    if (o->x.w.some)
      snprintf(w, sizeof w, "%.*s", (int)o->x.w.value.len, o->x.w.value.ptr);
    break;
  }
  case DS_RIGHT_OUTER_JOIN: {
    const ik_right *o = (const ik_right *)(x - 8);
    if (o->x.v.some)
      snprintf(v, sizeof v, "%lld", (long long)o->x.v.value);
    snprintf(w, sizeof w, "%.*s", (int)o->x.w.len, o->x.w.ptr);
    break;
  }
  case DS_FULL_OUTER_JOIN: {
    const ik_full *o = (const ik_full *)(x - 8);
    if (o->x.v.some)
      snprintf(v, sizeof v, "%lld", (long long)o->x.v.value);
    if (o->x.w.some)
      snprintf(w, sizeof w, "%.*s", (int)o->x.w.value.len, o->x.w.value.ptr);
    break;
  }
  default: {
    const ik_cogroup *o = (const ik_cogroup *)(x - 8);
    int64_t vs[64];
    ds_str ws[64];
    ck_assert_int_le(o->x.vs.len, 64);
    ck_assert_int_le(o->x.ws.len, 64);
    ck_assert(o->x.vs.len == 0 || o->x.vs.ptr);
    ck_assert(o->x.ws.len == 0 || o->x.ws.ptr);
    if (o->x.vs.len)
      memcpy(vs, o->x.vs.ptr, (size_t)o->x.vs.len * sizeof *vs);
    if (o->x.ws.len)
      memcpy(ws, o->x.ws.ptr, (size_t)o->x.ws.len * sizeof *ws);
    qsort(vs, (size_t)o->x.vs.len, sizeof *vs, cmp_i64p);
    qsort(ws, (size_t)o->x.ws.len, sizeof *ws, cmp_strp);
    size_t len = (size_t)snprintf(buf, cap, "%s:[", key);
    for (int64_t i = 0; i < o->x.vs.len; i++)
      len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)vs[i]);
    len += (size_t)snprintf(buf + len, cap - len, "]/[");
    for (int64_t i = 0; i < o->x.ws.len; i++)
      len += (size_t)snprintf(buf + len, cap - len, "%s%.*s", i ? "," : "", (int)ws[i].len,
                              ws[i].ptr);
    snprintf(buf + len, cap - len, "]");
    return;
  }
  }
  snprintf(buf, cap, "%s:(%s,%s)", key, v, w);
}

/* The (V, W) part sits after K, so the int-key structs (offset 8) serve
 * both key types once `x` is moved back by 8: check that assumption. */
_Static_assert(offsetof(ik_full, x) == 8 && offsetof(sk_full, x) == 16, "layout");
_Static_assert(sizeof(ik_full) - 8 == sizeof(sk_full) - 16, "layout");

/* The output as sorted lines joined by spaces; also checks that every
 * element sits in the partition that owns its key. */
static char *render(const harness *h) {
  const rt_stream *s = &h->streams[2];
  const ds_node *n = &h->nodes[2];
  int64_t total = rt_stream_count(s);
  char **lines = calloc((size_t)total + 1, sizeof *lines);
  int64_t k = 0;
  for (int q = 0; q < s->nparts; q++) {
    for (int64_t i = 0; i < s->parts[q].n; i++) {
      const char *e = s->parts[q].data + i * n->elem->size;
      ck_assert_int_eq(rt_partition_of(n->key->hash(e), s->nparts), q);
      char buf[2048];
      render_elem(h, e, buf, sizeof buf);
      lines[k++] = strdup(buf);
    }
  }
  qsort(lines, (size_t)total, sizeof *lines, cmp_line);
  size_t cap = 1;
  for (int64_t i = 0; i < total; i++)
    cap += strlen(lines[i]) + 1;
  char *out = malloc(cap);
  size_t len = 0;
  out[0] = 0;
  for (int64_t i = 0; i < total; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", lines[i]);
    free(lines[i]);
  }
  free(lines);
  return out;
}

/* The output partition by partition, in order (for determinism). */
static char *render_raw(const harness *h) {
  const rt_stream *s = &h->streams[2];
  size_t cap = 16, len = 0;
  for (int q = 0; q < s->nparts; q++)
    cap += (size_t)s->parts[q].n * 2048 + 2;
  char *out = malloc(cap);
  out[0] = 0;
  for (int q = 0; q < s->nparts; q++) {
    len += (size_t)snprintf(out + len, cap - len, "|");
    for (int64_t i = 0; i < s->parts[q].n; i++) {
      char buf[2048];
      render_elem(h, s->parts[q].data + i * h->nodes[2].elem->size, buf, sizeof buf);
      len += (size_t)snprintf(out + len, cap - len, "%s ", buf);
    }
  }
  return out;
}

/* Runs one batch of the two sides; returns the rendered output (malloc'd).
 * Afterwards the inputs' memory is overwritten, as a source's would be. */
static char *step_raw(harness *h, const char *left, const char *right, bool raw) {
  fill(h, 0, left);
  fill(h, 1, right);
  rt_batch b = {.index = 1, .time = 1000};
  h->rj.batch_time = b.time;
  rt_exec_join.run(&h->rj, 2, &b);
  char *out = raw ? render_raw(h) : render(h);
  rt_pool_reset_arenas(h->rj.pool);
  memset(h->text[0], '#', strlen(h->text[0]));
  memset(h->text[1], '#', strlen(h->text[1]));
  return out;
}

static char *step(harness *h, const char *left, const char *right) {
  return step_raw(h, left, right, false);
}

#define EXPECT(h, left, right, want)                                                              \
  do {                                                                                            \
    char *got_ = step(h, left, right);                                                            \
    ck_assert_str_eq(got_, want);                                                                 \
    free(got_);                                                                                   \
  } while (0)

/* ---- the joins on small batches ---- */

static const char *kind_name(ds_node_kind k) {
  switch (k) {
  case DS_JOIN: return "join";
  case DS_LEFT_OUTER_JOIN: return "left";
  case DS_RIGHT_OUTER_JOIN: return "right";
  case DS_FULL_OUTER_JOIN: return "full";
  default: return "cogroup";
  }
}

/* Left a:1 a:2 b:3 c:4, right a:x a:y a:z b:u d:v: a has 2 v and 3 w. */
static const char *const L1 = "1:1 1:2 | 2:3 | 3:4";
static const char *const R1 = "1:x | 1:y 2:u | 4:v 1:z";
static const char *const SL1 = "a:1 a:2 | b:3 | c:4";
static const char *const SR1 = "a:x | a:y b:u | d:v a:z";

START_TEST(joins_cross_product_and_missing_sides) {
  const char *want[5] = {
      "1:(1,x) 1:(1,y) 1:(1,z) 1:(2,x) 1:(2,y) 1:(2,z) 2:(3,u)",
      "1:(1,x) 1:(1,y) 1:(1,z) 1:(2,x) 1:(2,y) 1:(2,z) 2:(3,u) 3:(4,-)",
      "1:(1,x) 1:(1,y) 1:(1,z) 1:(2,x) 1:(2,y) 1:(2,z) 2:(3,u) 4:(-,v)",
      "1:(1,x) 1:(1,y) 1:(1,z) 1:(2,x) 1:(2,y) 1:(2,z) 2:(3,u) 3:(4,-) 4:(-,v)",
      "1:[1,2]/[x,y,z] 2:[3]/[u] 3:[4]/[] 4:[]/[v]",
  };
  for (ds_node_kind kind = DS_JOIN; kind <= DS_COGROUP; kind++) {
    for (int partitions = 1; partitions <= 5; partitions += 2) {
      for (int strings = 0; strings < 2; strings++) {
        harness h;
        setup(&h, kind, strings, partitions, 2);
        char expect[512];
        snprintf(expect, sizeof expect, "%s", want[kind_index(kind)]);
        if (strings) /* the same with keys a, b, c, d for 1, 2, 3, 4 (sorted alike) */
          for (char *p = expect; *p; p++)
            if ((p == expect || p[-1] == ' ') && *p >= '1' && *p <= '4')
              *p = (char)('a' + (*p - '1'));
        char *got = step(&h, strings ? SL1 : L1, strings ? SR1 : R1);
        ck_assert_msg(strcmp(got, expect) == 0, "%s, %d partitions, strings %d: %s", kind_name(kind),
                      partitions, strings, got);
        free(got);
        ck_assert_int_eq(h.streams[2].nparts, partitions);
        teardown(&h);
      }
    }
  }
}
END_TEST

START_TEST(joins_empty_batches) {
  for (ds_node_kind kind = DS_JOIN; kind <= DS_COGROUP; kind++) {
    harness h;
    setup(&h, kind, false, 3, 2);
    EXPECT(&h, "", "", "");
    EXPECT(&h, " | ", "", "");
    /* One side empty: only the outer joins (and cogroup) emit. */
    const char *left_only[5] = {"", "1:(5,-) 2:(6,-)", "", "1:(5,-) 2:(6,-)", "1:[5]/[] 2:[6]/[]"};
    const char *right_only[5] = {"", "", "7:(-,p) 7:(-,q)", "7:(-,p) 7:(-,q)", "7:[]/[p,q]"};
    EXPECT(&h, "1:5 | 2:6", "", left_only[kind_index(kind)]);
    EXPECT(&h, "", "7:p | | 7:q", right_only[kind_index(kind)]);
    EXPECT(&h, "", "", "");
    teardown(&h);
  }
}
END_TEST

START_TEST(joins_keys_on_one_side_only) {
  /* No key in common: the inner join is empty, each outer join keeps its side. */
  const char *want[5] = {
      "",
      "1:(10,-) 1:(11,-) 2:(20,-)",
      "3:(-,c) 4:(-,d) 4:(-,e)",
      "1:(10,-) 1:(11,-) 2:(20,-) 3:(-,c) 4:(-,d) 4:(-,e)",
      "1:[10,11]/[] 2:[20]/[] 3:[]/[c] 4:[]/[d,e]",
  };
  for (ds_node_kind kind = DS_JOIN; kind <= DS_COGROUP; kind++) {
    for (int partitions = 1; partitions <= 4; partitions += 3) {
      harness h;
      setup(&h, kind, false, partitions, 3);
      EXPECT(&h, "1:10 2:20 | 1:11", "3:c | 4:d 4:e", want[kind_index(kind)]);
      teardown(&h);
    }
  }
}
END_TEST

START_TEST(joins_string_keys) {
  /* Empty and long string keys; keys equal in bytes but not in pointer. */
  harness h;
  setup(&h, DS_FULL_OUTER_JOIN, true, 4, 2);
  EXPECT(&h, ":1 | long-key-number-one:2 x:3", "long-key-number-one:L | :E | y:Y",
         ":(1,E) long-key-number-one:(2,L) x:(3,-) y:(-,Y)");
  EXPECT(&h, "x:4", "x:X", "x:(4,X)");
  teardown(&h);
}
END_TEST

START_TEST(joins_self_join) {
  /* s.join(s): both inputs are the same stream. */
  harness h;
  setup(&h, DS_COGROUP, false, 2, 2);
  h.nodes[2].inputs[1] = 0;
  h.nodes[2].val2 = &t_int;
  h.nodes[2].val_offset2 = offsetof(ik_lpair, v);
  fill(&h, 0, "1:1 | 1:2 2:3");
  rt_batch b = {.index = 1, .time = 1000};
  rt_exec_join.run(&h.rj, 2, &b);
  int64_t n = 0;
  for (int q = 0; q < h.streams[2].nparts; q++)
    for (int64_t i = 0; i < h.streams[2].parts[q].n; i++, n++) {
      const ik_cogroup *o = (const ik_cogroup *)(h.streams[2].parts[q].data + i * sizeof *o);
      ck_assert_int_eq(o->x.vs.len, o->k == 1 ? 2 : 1);
      ck_assert_int_eq(o->x.ws.len, o->x.vs.len);
      for (int64_t j = 0; j < o->x.vs.len; j++)
        ck_assert_int_eq(((int64_t *)o->x.vs.ptr)[j], ((int64_t *)o->x.ws.ptr)[j]);
    }
  ck_assert_int_eq(n, 2);
  rt_pool_reset_arenas(h.rj.pool);
  teardown(&h);
}
END_TEST

START_TEST(joins_independent_of_threads) {
  char left[4096], right[4096];
  size_t ll = 0, rl = 0;
  for (int i = 0; i < 200; i++) {
    ll += (size_t)snprintf(left + ll, sizeof left - ll, "%s%d:%d", i % 50 == 49 ? " | " : " ",
                           (i * 7919) % 37, i);
    rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s%d:w%d", i % 70 == 69 ? " | " : " ",
                           (i * 104729) % 41, i);
  }
  for (ds_node_kind kind = DS_JOIN; kind <= DS_COGROUP; kind++) {
    char *first = NULL;
    for (int threads = 1; threads <= 4; threads += 3) {
      harness h;
      setup(&h, kind, false, 5, threads);
      char *got = step_raw(&h, left, right, true);
      if (!first)
        first = got;
      else {
        ck_assert_str_eq(got, first);
        free(got);
      }
      teardown(&h);
    }
    free(first);
  }
}
END_TEST

/* ---- a randomised comparison with a nested-loop model ---- */

typedef struct mrec {
  int64_t k, v;
} mrec;

START_TEST(joins_match_model) {
  unsigned seed = 12345;
  for (int round = 0; round < 30; round++) {
    int nl = (int)((seed = seed * 1103515245 + 12345) >> 16) % 40;
    int nr = (int)((seed = seed * 1103515245 + 12345) >> 16) % 40;
    int keys = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 15;
    mrec l[40], r[40];
    char left[1024], right[1024];
    size_t ll = 0, rl = 0;
    left[0] = right[0] = 0;
    for (int i = 0; i < nl; i++) {
      l[i] = (mrec){(int64_t)((seed = seed * 1103515245 + 12345) >> 16) % keys, i};
      ll += (size_t)snprintf(left + ll, sizeof left - ll, "%s%lld:%lld", i % 7 == 6 ? " | " : " ",
                             (long long)l[i].k, (long long)l[i].v);
    }
    for (int i = 0; i < nr; i++) {
      r[i] = (mrec){(int64_t)((seed = seed * 1103515245 + 12345) >> 16) % keys, 100 + i};
      rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s%lld:w%lld",
                             i % 5 == 4 ? " | " : " ", (long long)r[i].k, (long long)r[i].v);
    }
    for (ds_node_kind kind = DS_JOIN; kind <= DS_FULL_OUTER_JOIN; kind++) {
      /* The model: every matching pair, then the unmatched of each kept side. */
      char *lines[2000];
      int n = 0;
      for (int i = 0; i < nl; i++) {
        bool matched = false;
        for (int j = 0; j < nr; j++)
          if (l[i].k == r[j].k) {
            lines[n] = malloc(64);
            snprintf(lines[n++], 64, "%lld:(%lld,w%lld)", (long long)l[i].k, (long long)l[i].v,
                     (long long)r[j].v);
            matched = true;
          }
        if (!matched && (kind == DS_LEFT_OUTER_JOIN || kind == DS_FULL_OUTER_JOIN)) {
          lines[n] = malloc(64);
          snprintf(lines[n++], 64, "%lld:(%lld,-)", (long long)l[i].k, (long long)l[i].v);
        }
      }
      if (kind == DS_RIGHT_OUTER_JOIN || kind == DS_FULL_OUTER_JOIN)
        for (int j = 0; j < nr; j++) {
          bool matched = false;
          for (int i = 0; i < nl; i++)
            matched = matched || l[i].k == r[j].k;
          if (!matched) {
            lines[n] = malloc(64);
            snprintf(lines[n++], 64, "%lld:(-,w%lld)", (long long)r[j].k, (long long)r[j].v);
          }
        }
      qsort(lines, (size_t)n, sizeof *lines, cmp_line);
      char expect[65536];
      size_t len = 0;
      expect[0] = 0;
      for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(expect + len, sizeof expect - len, "%s%s", i ? " " : "", lines[i]);
        free(lines[i]);
      }
      harness h;
      setup(&h, kind, false, 1 + round % 4, 2);
      char *got = step(&h, left, right);
      ck_assert_msg(strcmp(got, expect) == 0, "round %d %s:\n%s\n!=\n%s", round, kind_name(kind),
                    got, expect);
      free(got);
      teardown(&h);
    }
  }
}
END_TEST

/* ---- performance: join of 2 x N against reduceByKey of 2N ---- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
  int64_t k, v;
} bpair;
static const ds_type t_bpair = {"(int, int)", 16, 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
typedef struct {
  int64_t k;
  struct {
    int64_t v, w;
  } x;
} bjoin;
static const ds_type t_bjoin = {"(int, (int, int))", 24, 8, NULL, NULL, NULL, NULL, NULL, DS_SHAPE_NONE, 0, NULL, NULL};
static void make_bjoin(ds_ctx *c, void *out, const void *k, const void *v, const void *w) {
  bjoin *o = out;
  o->k = *(const int64_t *)k;
  o->x.v = *(const int64_t *)v;
  o->x.w = *(const int64_t *)w;
}
static void add(ds_ctx *ctx, void *acc, const void *v) { *(int64_t *)acc += *(const int64_t *)v; }

/* The map side of reduceByKey as generated code does it: each pair of the
 * input partition combined into the map of its destination partition. */
static void combine_stage(ds_ctx *ctx, const ds_part *in, void *sink) {
  ds_map_set *set = sink;
  const bpair *p = (const bpair *)in->data;
  for (int64_t i = 0; i < in->n; i++) {
    uint64_t hash = i64_hash(&p[i].k);
    ds_map *m = &set->maps[rt_partition_of(hash, set->n)];
    bool inserted;
    bpair *slot = ds_map_upsert(m, hash, &p[i], i64_eq, &inserted);
    if (inserted)
      *slot = p[i];
    else
      slot->v += p[i].v;
  }
}

/* Fills stream s with n pairs, keys uniform in [0, keys), in nparts slices. */
static void fill_bench(rt_stream *s, int64_t n, int64_t keys, int nparts, unsigned seed) {
  rt_stream_reset(s, nparts);
  s->active = true;
  uint64_t x = seed;
  for (int p = 0; p < nparts; p++) {
    int64_t lo = p * n / nparts, hi = (p + 1) * n / nparts;
    rt_part_reserve(&s->parts[p], hi - lo, 16);
    for (int64_t i = lo; i < hi; i++) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      bpair *e = ds_part_push(&s->parts[p], 16);
      e->k = (int64_t)((x >> 33) % (uint64_t)keys);
      e->v = i;
    }
  }
}

/* Best of `reps` batches of each, in ms. */
static void bench(int64_t n, int64_t keys, int threads, int reps, double *join_ms, double *rbk_ms,
                  int64_t *join_rows) {
  int parts = threads;
  /* The join: nodes 0, 1 sources of n pairs each, node 2 the join. */
  ds_node nodes[3] = {
      {.kind = DS_SOURCE_BATCHES, .elem = &t_bpair},
      {.kind = DS_SOURCE_BATCHES, .elem = &t_bpair},
      {.kind = DS_JOIN, .op = "join", .ninputs = 2, .inputs = {0, 1}, .elem = &t_bjoin,
       .key = &t_int, .val = &t_int, .val2 = &t_int, .val_offset = 8, .val_offset2 = 8,
       .make = make_bjoin},
  };
  ds_job job = {.abi_version = DS_ABI_VERSION, .nodes = nodes, .nnodes = 3};
  rt_stream streams[3] = {0};
  void *state[3] = {0};
  rt_job rj = {.job = &job, .streams = streams, .state = state};
  rj.settings.partitions = parts;
  rj.settings.threads = threads;
  rj.pool = rt_pool_new(threads, 0);
  fill_bench(&streams[0], n, keys, parts, 1);
  fill_bench(&streams[1], n, keys, parts, 2);
  ck_assert_ptr_null(rt_exec_join.init(&rj, 2));
  rt_batch b = {.index = 1, .time = 1000};
  *join_ms = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now_ms();
    rt_exec_join.run(&rj, 2, &b);
    double t = now_ms() - t0;
    *join_ms = t < *join_ms ? t : *join_ms;
    *join_rows = rt_stream_count(&streams[2]);
    rt_pool_reset_arenas(rj.pool);
  }
  rt_exec_join.free(&rj, 2);
  for (int i = 0; i < 3; i++)
    rt_stream_free(&streams[i]);
  /* reduceByKey: node 0 a source of 2n pairs, node 1 the combine stage, node 2 reduceByKey. */
  ds_node rnodes[3] = {
      {.kind = DS_SOURCE_BATCHES, .elem = &t_bpair},
      {.kind = DS_STAGE_COMBINE, .op = "map", .ninputs = 1, .inputs = {0}, .elem = &t_bpair,
       .key = &t_int, .val = &t_int, .val_offset = 8, .run = combine_stage},
      {.kind = DS_REDUCE_BY_KEY, .op = "reduceByKey", .ninputs = 1, .inputs = {1},
       .elem = &t_bpair, .key = &t_int, .val = &t_int, .val_offset = 8, .reduce = add},
  };
  job.nodes = rnodes;
  memset(streams, 0, sizeof streams);
  memset(state, 0, sizeof state);
  fill_bench(&streams[0], 2 * n, keys, parts, 3);
  ck_assert_ptr_null(rt_exec_stage.init(&rj, 1));
  ck_assert_ptr_null(rt_exec_reduce_by_key.init(&rj, 2));
  *rbk_ms = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now_ms();
    rt_exec_stage.run(&rj, 1, &b);
    rt_exec_reduce_by_key.run(&rj, 2, &b);
    double t = now_ms() - t0;
    *rbk_ms = t < *rbk_ms ? t : *rbk_ms;
    rt_pool_reset_arenas(rj.pool);
  }
  rt_exec_reduce_by_key.free(&rj, 2);
  for (int i = 0; i < 3; i++)
    rt_stream_free(&streams[i]);
  rt_pool_free(rj.pool);
}

START_TEST(join_within_twice_reduce_by_key) {
  /* Small by default (sanitizer builds run this too); DS_BENCH=1 for 1 M. */
  const char *env = getenv("DS_BENCH");
  bool full = env && *env == '1';
  int64_t n = full ? 1000000 : 20000;
  int64_t key_counts[3] = {n / 4, n, 4 * n};
  for (int threads = 1; threads <= 2; threads++) {
    for (int k = 0; k < 3; k++) {
      double join_ms, rbk_ms;
      int64_t rows;
      bench(n, key_counts[k], threads, full ? 5 : 2, &join_ms, &rbk_ms, &rows);
      printf("join 2 x %lld (%lld keys, %d threads): %.1f ms, %lld rows; "
             "reduceByKey %lld: %.1f ms; ratio %.2f\n",
             (long long)n, (long long)key_counts[k], threads, join_ms, (long long)rows,
             (long long)(2 * n), rbk_ms, join_ms / rbk_ms);
      if (full && key_counts[k] >= n)
        ck_assert_msg(join_ms <= 2 * rbk_ms, "join %.1f ms > 2 x reduceByKey %.1f ms", join_ms,
                      rbk_ms);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_join");
  TCase *tc = tcase_create("join");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, joins_cross_product_and_missing_sides);
  tcase_add_test(tc, joins_empty_batches);
  tcase_add_test(tc, joins_keys_on_one_side_only);
  tcase_add_test(tc, joins_string_keys);
  tcase_add_test(tc, joins_self_join);
  tcase_add_test(tc, joins_independent_of_threads);
  tcase_add_test(tc, joins_match_model);
  tcase_add_test(tc, join_within_twice_reduce_by_key);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
