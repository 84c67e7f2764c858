/*
 * check_rt_checkpoint_state.c — what operators save in a checkpoint and
 * load at a restart: the value codec (value_codec.c), the keyed state
 * stores (updateStateByKey, mapWithState with timeouts and initial:), the
 * window stores (window, reduceByWindow and reduceByKeyAndWindow, with and
 * without an inverse and a filter) and the bounded sources' positions
 * (textFile, batches).
 *
 * The codec: round trips of every shape (nested records, lists, options,
 * strings with NUL bytes, NaN payloads and -0.0), values that stay valid
 * after the reader is closed, and malformed content refused (bad flags,
 * lists longer than the file, every truncation, every byte overwritten)
 * without reading out of bounds.
 *
 * The operators: a hand-made job as in check_rt_state.c and
 * check_rt_windows.c (node 0 a source the test fills, or a real source;
 * for keyed windows node 1 a DS_STAGE_COMBINE the test fills; the operator;
 * for mapWithState its stateSnapshots), driven batch by batch. For every
 * batch k of a scenario the job runs k batches, every node that saves
 * writes its own checkpoint file (rt_ckw_open/commit in a temporary
 * directory), the job is freed, a fresh one (possibly with another
 * partition count) loads the files (rt_ckr_open, then rt_ckr_end: every
 * byte read) and runs the following batches, whose outputs must equal an
 * uninterrupted run's: exactly, partition by partition, with the same
 * partition count (for reduceByKeyAndWindow each partition's pairs as a
 * set: its hash tables' order is not kept), else as a sequence (windows,
 * sources) or as a multiset (keyed results). Saved again right after the
 * load, a node writes the same bytes (reduceByKeyAndWindow's previous
 * window aside: a hash table's order). Stores come back slot by slot,
 * initial: is applied once, timeouts fire at their batches, a changed window
 * or a shorter or changed input file is refused, a textFile that had reached
 * its end reads nothing appended since, and truncated checkpoints are
 * refused. Every test works in its own directory under /tmp and removes it.
 */
#define _GNU_SOURCE
#include "rt.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_types.h"

/* ---- types with shapes, as dsc generates them ---- */

#define SHAPED(name, size, align, copy, shape, n, fields, offsets)                                 \
  { name, size, align, copy, NULL, NULL, NULL, NULL, shape, n, fields, offsets }

static const ds_type t_float = SHAPED("float", 8, 8, NULL, DS_SHAPE_F64, 0, NULL, NULL);
static const ds_type t_bool = SHAPED("bool", 1, 1, NULL, DS_SHAPE_BOOL, 0, NULL, NULL);

/* (string, int) and (int, int) pairs. */
typedef struct {
  ds_str key;
  int64_t val;
} spair;
typedef struct {
  int64_t key, val;
} ipair;
static void spair_copy(void *dst, const void *src, ds_arena *a) {
  memcpy(dst, src, sizeof(spair));
  str_copy(dst, src, a);
}
static const ds_type *const spair_f[] = {&t_str, &t_int};
static const int64_t spair_o[] = {offsetof(spair, key), offsetof(spair, val)};
static const ds_type t_spair =
    SHAPED("(string, int)", sizeof(spair), 8, spair_copy, DS_SHAPE_STRUCT, 2, spair_f, spair_o);
static const ds_type *const ipair_f[] = {&t_int, &t_int};
static const int64_t ipair_o[] = {offsetof(ipair, key), offsetof(ipair, val)};
static const ds_type t_ipair =
    SHAPED("(int, int)", sizeof(ipair), 8, NULL, DS_SHAPE_STRUCT, 2, ipair_f, ipair_o);
/* The same pair without a shape: cannot be checkpointed. */
static const ds_type t_ipair_noshape =
    SHAPED("(int, int)", sizeof(ipair), 8, NULL, DS_SHAPE_NONE, 0, NULL, NULL);

/* float? and int? */
typedef struct {
  uint8_t some;
  double v;
} optf;
typedef struct {
  uint8_t some;
  int64_t v;
} opti;
static const ds_type *const optf_f[] = {&t_float};
static const int64_t optf_o[] = {offsetof(optf, v)};
static const ds_type t_optf =
    SHAPED("float?", sizeof(optf), 8, NULL, DS_SHAPE_OPTION, 1, optf_f, optf_o);
static const ds_type *const opti_f[] = {&t_int};
static const int64_t opti_o[] = {offsetof(opti, v)};
static const ds_type t_opti =
    SHAPED("int?", sizeof(opti), 8, NULL, DS_SHAPE_OPTION, 1, opti_f, opti_o);

/* string? */
typedef struct {
  uint8_t some;
  ds_str v;
} opts;
static const ds_type *const opts_f[] = {&t_str};
static const int64_t opts_o[] = {offsetof(opts, v)};
static const ds_type t_opts =
    SHAPED("string?", sizeof(opts), 8, NULL, DS_SHAPE_OPTION, 1, opts_f, opts_o);

/* [string], [[string]] */
static const ds_type *const lstr_f[] = {&t_str};
static const ds_type t_lstr =
    SHAPED("[string]", sizeof(ds_list), 8, NULL, DS_SHAPE_LIST, 1, lstr_f, NULL);
static const ds_type *const llstr_f[] = {&t_lstr};
static const ds_type t_llstr =
    SHAPED("[[string]]", sizeof(ds_list), 8, NULL, DS_SHAPE_LIST, 1, llstr_f, NULL);

/* (int, float?) and [(int, float?)] */
typedef struct {
  int64_t n;
  optf f;
} numf;
static const ds_type *const numf_f[] = {&t_int, &t_optf};
static const int64_t numf_o[] = {offsetof(numf, n), offsetof(numf, f)};
static const ds_type t_numf =
    SHAPED("(int, float?)", sizeof(numf), 8, NULL, DS_SHAPE_STRUCT, 2, numf_f, numf_o);
static const ds_type *const lnumf_f[] = {&t_numf};
static const ds_type t_lnumf =
    SHAPED("[(int, float?)]", sizeof(ds_list), 8, NULL, DS_SHAPE_LIST, 1, lnumf_f, NULL);

/* A record { s: string, xs: [(int, float?)], b: bool, o: string?, nested: [[string]], i: int? } */
typedef struct {
  ds_str s;
  ds_list xs;
  uint8_t b;
  opts o;
  ds_list nested;
  opti i;
} record;
static const ds_type *const record_f[] = {&t_str, &t_lnumf, &t_bool, &t_opts, &t_llstr, &t_opti};
static const int64_t record_o[] = {offsetof(record, s),      offsetof(record, xs),
                                   offsetof(record, b),      offsetof(record, o),
                                   offsetof(record, nested), offsetof(record, i)};
static const ds_type t_record =
    SHAPED("Rec", sizeof(record), 8, NULL, DS_SHAPE_STRUCT, 6, record_f, record_o);
/* Rec? and [Rec] */
typedef struct {
  uint8_t some;
  record r;
} optrec;
static const ds_type *const optrec_f[] = {&t_record};
static const int64_t optrec_o[] = {offsetof(optrec, r)};
static const ds_type t_optrec =
    SHAPED("Rec?", sizeof(optrec), 8, NULL, DS_SHAPE_OPTION, 1, optrec_f, optrec_o);
static const ds_type *const lrec_f[] = {&t_record};
static const ds_type t_lrec =
    SHAPED("[Rec]", sizeof(ds_list), 8, NULL, DS_SHAPE_LIST, 1, lrec_f, NULL);
/* A struct with a part that has no shape. */
static const ds_type *const bad_f[] = {&t_int, &t_ipair_noshape};
static const int64_t bad_o[] = {0, 8};
static const ds_type t_bad =
    SHAPED("(int, (int, int))", 24, 8, NULL, DS_SHAPE_STRUCT, 2, bad_f, bad_o);

/* ---- printing any shaped value (floats as their bits) ---- */

static void fmt_value(FILE *f, const ds_type *t, const void *v) {
  switch (t->shape) {
  case DS_SHAPE_I64: fprintf(f, "%lld", (long long)*(const int64_t *)v); return;
  case DS_SHAPE_F64: {
    uint64_t bits;
    memcpy(&bits, v, 8);
    fprintf(f, "f%016llx", (unsigned long long)bits);
    return;
  }
  case DS_SHAPE_BOOL: fprintf(f, "%s", *(const uint8_t *)v ? "true" : "false"); return;
  case DS_SHAPE_STR: {
    const ds_str *s = v;
    fputc('"', f);
    for (int64_t i = 0; i < s->len; i++) {
      unsigned char c = (unsigned char)s->ptr[i];
      if (c < 32 || c > 126 || c == '"' || c == '\\')
        fprintf(f, "\\x%02x", c);
      else
        fputc(c, f);
    }
    fputc('"', f);
    return;
  }
  case DS_SHAPE_LIST: {
    const ds_list *l = v;
    fputc('[', f);
    for (int64_t i = 0; i < l->len; i++) {
      if (i)
        fputs(", ", f);
      fmt_value(f, t->fields[0], (const char *)l->ptr + i * t->fields[0]->size);
    }
    fputc(']', f);
    return;
  }
  case DS_SHAPE_STRUCT:
    fputc('(', f);
    for (int32_t i = 0; i < t->nfields; i++) {
      if (i)
        fputs(", ", f);
      fmt_value(f, t->fields[i], (const char *)v + t->offsets[i]);
    }
    fputc(')', f);
    return;
  case DS_SHAPE_OPTION:
    if (!*(const uint8_t *)v) {
      fputs("none", f);
      return;
    }
    fputs("some(", f);
    fmt_value(f, t->fields[0], (const char *)v + t->offsets[0]);
    fputc(')', f);
    return;
  default: fputs("?", f);
  }
}

static char *show(const ds_type *t, const void *v) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fmt_value(f, t, v);
  fclose(f);
  return buf;
}

/* ---- the temporary directory ---- */

#include "tmpdir.h"

static void make_tmpdir(void) { make_tmpdir_named("check_rt_ckst"); }

/* The payload of checkpoint `name` (malloc'd, *n bytes). */
static unsigned char *payload_of(const char *name, size_t *n) {
  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of(name)), 0);
  *n = (size_t)r.len;
  unsigned char *b = malloc(*n + 1);
  ck_assert_int_eq(rt_ckr_bytes(&r, b, *n), 0);
  rt_ckr_close(&r);
  return b;
}

/* Commits checkpoint `name` holding the given payload bytes. */
static void write_payload(const char *name, const unsigned char *b, size_t n) {
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, name), 0);
  rt_ckw_bytes(&w, b, n);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
}

/* ---- the value codec ---- */

static ds_str S(const char *s) { return (ds_str){s, (int64_t)strlen(s)}; }

/* A nested record with every shape in it. */
static record sample_record(int variant) {
  static ds_str words[] = {
      {"alpha", 5}, {"", 0}, {"nul\0byte", 8}, {"a string longer than sixteen", 28}};
  static ds_list inner[3];
  inner[0] = (ds_list){words, 4};
  inner[1] = (ds_list){NULL, 0};
  inner[2] = (ds_list){words + 2, 1};
  static numf nums[4];
  double nan_payload;
  uint64_t bits = UINT64_C(0x7ff8dead0000beef);
  memcpy(&nan_payload, &bits, 8);
  nums[0] = (numf){1, {1, -0.0}};
  nums[1] = (numf){INT64_MIN, {0, 0}};
  nums[2] = (numf){INT64_MAX, {1, nan_payload}};
  nums[3] = (numf){-7, {1, INFINITY}};
  record r = {0};
  if (variant == 0) {
    r.s = S("hello");
    r.xs = (ds_list){nums, 4};
    r.b = 1;
    r.o = (opts){1, words[2]};
    r.nested = (ds_list){inner, 3};
    r.i = (opti){1, -42};
  } else {
    r.s = (ds_str){NULL, 0};
    r.xs = (ds_list){NULL, 0};
    r.b = 0;
    r.o = (opts){0, {NULL, 0}};
    r.nested = (ds_list){inner + 1, 1};
    r.i = (opti){0, 0};
  }
  return r;
}

START_TEST(codec_round_trips_every_shape) {
  make_tmpdir();
  record r0 = sample_record(0), r1 = sample_record(1);
  record recs[2] = {r0, r1};
  ds_list lrec = {recs, 2};
  optrec some = {1, r0}, none;
  memset(&none, 0, sizeof none);
  double neg_zero = -0.0, nan;
  uint64_t nan_bits = UINT64_C(0xfff0000000000001); /* a signalling NaN with a payload */
  memcpy(&nan, &nan_bits, 8);
  int64_t i = -123456789012345;
  uint8_t yes = 1;
  ds_str s = {"x\0y", 3};
  struct {
    const ds_type *t;
    const void *v;
  } values[] = {{&t_int, &i},       {&t_float, &neg_zero}, {&t_float, &nan},      {&t_bool, &yes},
                {&t_str, &s},       {&t_record, &r0},      {&t_record, &r1},      {&t_lrec, &lrec},
                {&t_optrec, &some}, {&t_optrec, &none},    {&t_llstr, &r0.nested}};
  int nv = (int)(sizeof values / sizeof values[0]);
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "values"), 0);
  for (int k = 0; k < nv; k++) {
    ck_assert(rt_type_has_shape(values[k].t));
    ck_assert_int_eq(rt_ckw_value(&w, values[k].t, values[k].v), 0);
  }
  ck_assert_int_eq(rt_ckw_commit(&w), 0);

  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("values")), 0);
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  char *got[16];
  void *dst[16];
  for (int k = 0; k < nv; k++) {
    dst[k] = malloc((size_t)values[k].t->size);
    memset(dst[k], 0xa5, (size_t)values[k].t->size); /* zeroed by the reader */
    ck_assert_int_eq(rt_ckr_value(&r, values[k].t, dst[k], &a), 0);
    got[k] = show(values[k].t, dst[k]);
    char *want = show(values[k].t, values[k].v);
    ck_assert_str_eq(got[k], want);
    free(want);
  }
  ck_assert_int_eq(rt_ckr_end(&r), 0);
  rt_ckr_close(&r); /* the values live in the arena, not in the reader */
  for (int k = 0; k < nv; k++) {
    char *again = show(values[k].t, dst[k]);
    ck_assert_str_eq(again, got[k]);
    free(again);
    free(got[k]);
  }
  /* The bits of -0.0 and of the NaN came back as they were. */
  uint64_t b;
  memcpy(&b, dst[1], 8);
  ck_assert_uint_eq(b, UINT64_C(0x8000000000000000));
  memcpy(&b, dst[2], 8);
  ck_assert_uint_eq(b, nan_bits);
  record *back = dst[5];
  ck_assert_int_eq(back->s.len, 5);
  ck_assert(back->nested.ptr != r0.nested.ptr);
  for (int k = 0; k < nv; k++)
    free(dst[k]);
  ds_arena_destroy(&a);
  remove_tmpdir();
}
END_TEST

START_TEST(codec_encoding_is_the_documented_one) {
  make_tmpdir();
  /* (int, float?) = (5, some(-0.0)) then [string] = ["ab"] then string? = none, bool true. */
  numf x = {5, {1, -0.0}};
  ds_str ab = S("ab");
  ds_list l = {&ab, 1};
  opts no = {0, {NULL, 0}};
  uint8_t t = 1;
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "v"), 0);
  rt_ckw_value(&w, &t_numf, &x);
  rt_ckw_value(&w, &t_lstr, &l);
  rt_ckw_value(&w, &t_opts, &no);
  rt_ckw_value(&w, &t_bool, &t);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  size_t n;
  unsigned char *p = payload_of("v", &n);
  static const unsigned char want[] = {5, 0, 0, 0,    0, 0, 0, 0,   1,   0, 0, 0, 0,
                                       0, 0, 0, 0x80, 1, 0, 0, 0,   0,   0, 0, 0, 2,
                                       0, 0, 0, 0,    0, 0, 0, 'a', 'b', 0, 1};
  ck_assert_uint_eq(n, sizeof want);
  ck_assert_int_eq(memcmp(p, want, n), 0);
  free(p);
  remove_tmpdir();
}
END_TEST

START_TEST(codec_refuses_types_without_shape) {
  make_tmpdir();
  ck_assert(!rt_type_has_shape(&t_ipair_noshape));
  ck_assert(!rt_type_has_shape(&t_bad));
  ck_assert(!rt_type_has_shape(NULL));
  ipair p = {1, 2};
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "v"), 0);
  ck_assert_int_eq(rt_ckw_value(&w, &t_ipair_noshape, &p), -EINVAL);
  ck_assert_ptr_nonnull(strstr(w.msg, "(int, int)"));
  ck_assert_int_eq(rt_ckw_commit(&w), -EINVAL); /* sticky: nothing committed */
  ck_assert_int_eq(access(path_of("v"), F_OK), -1);
  remove_tmpdir();
}
END_TEST

/* Writes the given raw fields as checkpoint "m" and reads one value of t. */
typedef struct raw {
  char kind; /* 'b' u8, 'q' u64, 's' string, 0 end */
  uint64_t u;
  const char *s;
} raw;

static int read_raw(const raw *fields, const ds_type *t, char *msg, size_t cap) {
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "m"), 0);
  for (const raw *f = fields; f->kind; f++) {
    if (f->kind == 'b')
      rt_ckw_u8(&w, (uint8_t)f->u);
    else if (f->kind == 'q')
      rt_ckw_u64(&w, f->u);
    else
      rt_ckw_str(&w, S(f->s));
  }
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("m")), 0);
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  _Alignas(16) char dst[256];
  int rc = rt_ckr_value(&r, t, dst, &a);
  snprintf(msg, cap, "%s", r.msg);
  rt_ckr_close(&r);
  ds_arena_destroy(&a);
  return rc;
}

START_TEST(codec_refuses_malformed_values) {
  make_tmpdir();
  char msg[512];
  raw bool2[] = {{'b', 2, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(bool2, &t_bool, msg, sizeof msg), -EBADMSG);
  ck_assert_ptr_nonnull(strstr(msg, "bool"));
  raw flag3[] = {{'b', 3, NULL}, {'q', 1, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(flag3, &t_opti, msg, sizeof msg), -EBADMSG);
  /* A list of 2^62 strings in a few bytes: refused before anything is allocated. */
  raw huge[] = {{'q', UINT64_C(1) << 62, NULL}, {'s', 0, "a"}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(huge, &t_lstr, msg, sizeof msg), -EBADMSG);
  ck_assert_ptr_nonnull(strstr(msg, "list"));
  raw huge2[] = {{'q', UINT64_MAX, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(huge2, &t_llstr, msg, sizeof msg), -EBADMSG);
  /* Three elements announced, two there. */
  raw short3[] = {{'q', 3, NULL}, {'s', 0, "a"}, {'s', 0, "b"}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(short3, &t_lstr, msg, sizeof msg), -EBADMSG);
  /* A string longer than the file. */
  raw longstr[] = {{'q', 1000, NULL}, {'q', 0, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(longstr, &t_str, msg, sizeof msg), -EBADMSG);
  /* A record cut after its bool. */
  raw cut[] = {{'s', 0, "s"}, {'q', 0, NULL}, {'b', 1, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(cut, &t_record, msg, sizeof msg), -EBADMSG);
  /* Reading a type without a shape. */
  raw two[] = {{'q', 1, NULL}, {'q', 2, NULL}, {0, 0, NULL}};
  ck_assert_int_eq(read_raw(two, &t_ipair_noshape, msg, sizeof msg), -EINVAL);
  /* The same bytes as a shaped pair are fine. */
  ck_assert_int_eq(read_raw(two, &t_ipair, msg, sizeof msg), 0);
  remove_tmpdir();
}
END_TEST

/* Every truncation and every overwritten byte of a nested value: the reader
 * fails cleanly or reads some value, never out of bounds (ASan checks). */
START_TEST(codec_survives_truncation_and_garbage) {
  make_tmpdir();
  record r0 = sample_record(0), r1 = sample_record(1);
  record recs[2] = {r0, r1};
  ds_list lrec = {recs, 2};
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "full"), 0);
  rt_ckw_value(&w, &t_lrec, &lrec);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  size_t n;
  unsigned char *full = payload_of("full", &n);
  unsigned char *buf = malloc(n);
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  ds_list out;
  for (size_t len = 0; len < n; len++) {
    write_payload("cut", full, len);
    rt_ckr r;
    ck_assert_int_eq(rt_ckr_open(&r, path_of("cut")), 0);
    ck_assert_int_eq(rt_ckr_value(&r, &t_lrec, &out, &a), -EBADMSG);
    rt_ckr_close(&r);
    ds_arena_reset(&a);
  }
  int ok = 0, bad = 0;
  for (size_t pos = 0; pos < n; pos++) {
    for (int v = 0; v < 3; v++) {
      memcpy(buf, full, n);
      buf[pos] = v == 0 ? 0xff : v == 1 ? 0x02 : (unsigned char)(buf[pos] ^ 0x40);
      write_payload("bad", buf, n);
      rt_ckr r;
      ck_assert_int_eq(rt_ckr_open(&r, path_of("bad")), 0);
      int rc = rt_ckr_value(&r, &t_lrec, &out, &a);
      if (rc == 0) {
        ok++;
        free(show(&t_lrec, &out)); /* whatever was read is a well-formed value */
      } else {
        ck_assert_int_eq(rc, -EBADMSG);
        bad++;
      }
      rt_ckr_close(&r);
      ds_arena_reset(&a);
    }
  }
  ck_assert_int_gt(ok, 0);
  ck_assert_int_gt(bad, 0);
  ds_arena_destroy(&a);
  free(buf);
  free(full);
  remove_tmpdir();
}
END_TEST

/* ---- the hand-made job ---- */

enum { BATCH = 1000, T0 = 100000, MAXN = 4, MAXREC = 400 };

/* mapWithState's output: what one call saw and did (v TIMED_OUT: onTimeout). */
enum { TIMED_OUT = -1000 };
typedef struct {
  ds_str key;
  int64_t v, before, after;
} event;
static const ds_type *const event_f[] = {&t_str, &t_int, &t_int, &t_int};
static const int64_t event_o[] = {offsetof(event, key), offsetof(event, v), offsetof(event, before),
                                  offsetof(event, after)};
static const ds_type t_event =
    SHAPED("event", sizeof(event), 8, NULL, DS_SHAPE_STRUCT, 4, event_f, event_o);

/* A richer state: (int, [string]): how many values, the last three as text. */
typedef struct {
  int64_t n;
  ds_list last;
} hist;
static void hist_copy(void *dst, const void *src, ds_arena *a) {
  const hist *s = src;
  hist *d = dst;
  *d = *s;
  if (!s->last.len)
    return;
  ds_str *items = ds_arena_alloc(a, (size_t)s->last.len * sizeof(ds_str));
  for (int64_t i = 0; i < s->last.len; i++)
    str_copy(&items[i], &((const ds_str *)s->last.ptr)[i], a);
  d->last.ptr = items;
}
static const ds_type *const hist_f[] = {&t_int, &t_lstr};
static const int64_t hist_o[] = {offsetof(hist, n), offsetof(hist, last)};
static const ds_type t_hist =
    SHAPED("(int, [string])", sizeof(hist), 8, hist_copy, DS_SHAPE_STRUCT, 2, hist_f, hist_o);
typedef struct {
  ds_str key;
  hist h;
} shist;
static void shist_copy(void *dst, const void *src, ds_arena *a) {
  memcpy(dst, src, sizeof(shist));
  str_copy(dst, src, a);
  hist_copy(&((shist *)dst)->h, &((const shist *)src)->h, a);
}
static const ds_type *const shist_f[] = {&t_str, &t_hist};
static const int64_t shist_o[] = {offsetof(shist, key), offsetof(shist, h)};
static const ds_type t_shist = SHAPED("(string, (int, [string]))", sizeof(shist), 8, shist_copy,
                                      DS_SHAPE_STRUCT, 2, shist_f, shist_o);

/* ---- the job's functions ---- */

static void add(ds_ctx *ctx, void *acc, const void *v) { *(int64_t *)acc += *(const int64_t *)v; }
static void sub(ds_ctx *ctx, void *acc, const void *v) { *(int64_t *)acc -= *(const int64_t *)v; }
static bool nonzero(ds_ctx *ctx, const void *pair) { return ((const spair *)pair)->val != 0; }

static bool record_error(ds_ctx *ctx) {
  ctx->err = DS_ERR_DIV_ZERO;
  ctx->err_site = 1;
  return false;
}

static void make_s(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  spair *p = out;
  p->key = *(const ds_str *)k;
  p->val = *(const int64_t *)s;
}
static void make_i(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  ipair *p = out;
  p->key = *(const int64_t *)k;
  p->val = *(const int64_t *)s;
}
static void make_hist(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  shist *p = out;
  p->key = *(const ds_str *)k;
  p->h = *(const hist *)s;
}

/* updateStateByKey: adds the values; a batch without values decays the
 * state by 1; a state that falls to 0 or below, or a negative value,
 * removes the key; 13 is a record error. Keys come and go: the stores get
 * free slots and garbage. */
static bool upd_decay(ds_ctx *ctx, void *out, const ds_list *vs, const void *state) {
  int64_t s = state ? *(const int64_t *)state : 0;
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

/* updateStateByKey with (int, [string]) states: counts values, keeps the
 * last three as text; a key with more than 12 values is removed; a key
 * without values keeps its state. */
static bool upd_hist(ds_ctx *ctx, void *out, const ds_list *vs, const void *state) {
  hist h = state ? *(const hist *)state : (hist){0, {NULL, 0}};
  if (vs->len == 0) {
    *(hist *)out = h;
    return true;
  }
  int64_t keep = h.last.len + vs->len < 3 ? h.last.len + vs->len : 3;
  ds_str *items = ds_arena_alloc(ctx->arena, (size_t)keep * sizeof(ds_str));
  int64_t total = h.last.len + vs->len, k = 0;
  for (int64_t i = total - keep; i < total; i++) {
    if (i < h.last.len) {
      items[k++] = ((const ds_str *)h.last.ptr)[i];
    } else {
      char *text = ds_arena_alloc(ctx->arena, 24);
      int len = snprintf(text, 24, "v%lld", (long long)((const int64_t *)vs->ptr)[i - h.last.len]);
      items[k++] = (ds_str){text, len};
    }
  }
  h.n += vs->len;
  h.last = (ds_list){items, keep};
  *(hist *)out = h;
  return h.n <= 12;
}

/* mapWithState (as check_rt_state.c): the state is the digits of the
 * values seen; 0 removes it; a negative value sets it from -v and emits
 * nothing; 13 scribbles on the state, then fails. */
static bool map_s(ds_ctx *ctx, const void *k, const void *vp, void *state, bool *has, void *out) {
  event *ev = out;
  ev->key = *(const ds_str *)k;
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
/* onTimeout: emits the last state, except a state of 7 (nothing). */
static bool timeout_s(ds_ctx *ctx, const void *k, const void *state, void *out) {
  event *ev = out;
  ev->key = *(const ds_str *)k;
  int64_t s = *(const int64_t *)state;
  ev->v = TIMED_OUT;
  ev->before = s;
  ev->after = -1;
  return s != 7;
}

/* ---- scenarios ---- */

typedef enum input_kind {
  IN_INTS,    /* node 0: int elements, round robin over the input partitions */
  IN_STRS,    /* node 0: string elements */
  IN_PAIRS,   /* node 0: (K, int) pairs in contiguous slices */
  IN_COMBINE, /* node 0 and a DS_STAGE_COMBINE node 1 whose maps the test fills */
  IN_SOURCE,  /* node 0 is a real source (textFile, batches) and the node under test */
} input_kind;

typedef struct spec {
  const char *name;
  ds_node_kind kind;
  input_kind input;
  bool int_keys;     /* IN_PAIRS: int keys, else string keys */
  bool snapshots;    /* mapWithState: add its stateSnapshots */
  bool sorted_parts; /* same partition count: compare each partition as a set */
  void (*tweak)(ds_node *op);
  int nkeys;           /* input keys */
  int maxrec;          /* records per batch at most */
  const char *path;    /* IN_SOURCE: the file (under tmpdir) */
  int64_t max_records; /* IN_SOURCE: maxRecordsPerBatch */
} spec;

typedef struct rec {
  int key;
  int64_t val;
} rec;

typedef struct job {
  ds_job job;
  ds_node nodes[MAXN];
  rt_job rj;
  rt_stream streams[MAXN];
  void *state[MAXN];
  int64_t site_errors[2];
  int nnodes, op, first_exec; /* nodes [first_exec, nnodes) run through rt_exec_for */
  const spec *sp;
  int in_parts;
  char *bytes;
  size_t nbytes;
  bool started[MAXN];
  char path[256]; /* IN_SOURCE: the source's file */
} job;

static char key_names[64][40];

static void init_key_names(void) {
  for (int k = 0; k < 64; k++)
    snprintf(key_names[k], sizeof key_names[k], k % 3 ? "key-%02d" : "a-long-key-name-number-%02d",
             k);
}

/* Builds and initialises the job; returns init's message (NULL when fine). */
static const char *job_start(job *j, const spec *sp, int partitions, int threads, int in_parts,
                             bool eager) {
  memset(j, 0, sizeof *j);
  j->sp = sp;
  j->in_parts = in_parts;
  ds_node *src = &j->nodes[0];
  *src = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .loc = "t.ds:1:1", .ident = "src"};
  int op = 1;
  switch (sp->input) {
  case IN_INTS: src->elem = &t_int; break;
  case IN_STRS: src->elem = &t_str; break;
  case IN_PAIRS: src->elem = sp->int_keys ? &t_ipair : &t_spair; break;
  case IN_COMBINE:
    src->elem = &t_spair;
    j->nodes[1] = (ds_node){.kind = DS_STAGE_COMBINE,
                            .op = "map",
                            .ninputs = 1,
                            .inputs = {0},
                            .elem = &t_spair,
                            .key = &t_str,
                            .val = &t_int,
                            .val_offset = 16};
    op = 2;
    break;
  case IN_SOURCE:
    *src = (ds_node){
        .kind = sp->kind, .op = "source", .loc = "t.ds:1:1", .elem = &t_str, .ident = "src"};
    snprintf(j->path, sizeof j->path, "%s", path_of(sp->path));
    src->str_arg = S(j->path);
    op = 0;
    break;
  }
  j->first_exec = op;
  if (sp->input != IN_SOURCE) {
    ds_node *n = &j->nodes[op];
    *n = (ds_node){.kind = sp->kind,
                   .op = sp->name,
                   .loc = "t.ds:2:1",
                   .ninputs = 1,
                   .inputs = {op - 1},
                   .ident = "op"};
    n->elem = src->elem;
    if (sp->input == IN_PAIRS || sp->input == IN_COMBINE) {
      n->key = sp->int_keys ? &t_int : &t_str;
      n->val = &t_int;
      n->val_offset = sp->int_keys ? 8 : 16;
      n->state = &t_int;
    }
    n->reduce = add;
    if (sp->tweak)
      sp->tweak(n);
  }
  j->nnodes = op + 1;
  if (sp->snapshots) {
    j->nodes[op + 1] = (ds_node){.kind = DS_STATE_SNAPSHOTS,
                                 .op = "stateSnapshots",
                                 .loc = "t.ds:3:1",
                                 .ninputs = 1,
                                 .inputs = {op},
                                 .elem = &t_spair,
                                 .make = make_s};
    j->nnodes++;
  }
  j->op = op;
  j->job = (ds_job){.abi_version = DS_ABI_VERSION,
                    .program = "t.ds",
                    .nodes = j->nodes,
                    .nnodes = j->nnodes,
                    .nsites = 2};
  j->rj.job = &j->job;
  j->rj.settings.batch_ms = BATCH;
  j->rj.settings.partitions = partitions;
  j->rj.settings.threads = threads;
  j->rj.settings.max_records_per_batch = sp->max_records ? sp->max_records : INT64_MAX;
  j->rj.pool = rt_pool_new(threads, 2);
  j->rj.streams = j->streams;
  j->rj.state = j->state;
  j->rj.t0 = T0;
  j->rj.site_errors = j->site_errors;
  for (int i = j->first_exec; i < j->nnodes; i++) {
    const char *msg = rt_exec_for(j->nodes[i].kind)->init(&j->rj, i);
    j->started[i] = true;
    if (msg)
      return msg;
  }
  if (eager && (sp->kind == DS_UPDATE_STATE_BY_KEY || sp->kind == DS_MAP_WITH_STATE)) {
    int32_t n;
    rt_state_store *s = sp->kind == DS_UPDATE_STATE_BY_KEY
                            ? rt_update_state_stores(&j->rj, op, &n)
                            : rt_map_with_state_stores(&j->rj, op, &n);
    for (int32_t q = 0; q < n; q++) {
      s[q].min_garbage = 0;
      s[q].min_holes = 1;
    }
  }
  return NULL;
}

static void job_free(job *j) {
  for (int i = j->nnodes - 1; i >= 0; i--) {
    const rt_exec *e = rt_exec_for(j->nodes[i].kind);
    if (j->started[i] && e->free)
      e->free(&j->rj, i);
  }
  for (int i = 0; i < MAXN; i++)
    rt_stream_free(&j->streams[i]);
  rt_pool_free(j->rj.pool);
  free(j->bytes);
}

/* The records of batch b: deterministic, some batches empty, special values
 * (0, 13, negative) now and then. */
static int gen(const spec *sp, int64_t b, rec *out) {
  unsigned r = (unsigned)(b * 2654435761u) ^ 0x5bd1e995u;
  r = r * 1103515245 + 12345;
  if (b % 6 == 0)
    return 0;
  int n = (int)((r >> 16) % (unsigned)sp->maxrec) + 1;
  /* Batches move over the keys, so some keys go quiet and time out. */
  int span = sp->nkeys / 2 > 0 ? sp->nkeys / 2 : 1, base = (int)(b * 3) % sp->nkeys;
  for (int i = 0; i < n; i++) {
    r = r * 1103515245 + 12345;
    int k = (base + (int)((r >> 8) % (unsigned)span)) % sp->nkeys;
    int roll = (int)((r >> 20) % 100);
    int64_t v = roll < 3 ? 0 : roll < 5 ? 13 : roll < 8 ? -(roll % 5 + 1) : roll % 9 + 1;
    if (sp->kind != DS_MAP_WITH_STATE && sp->kind != DS_UPDATE_STATE_BY_KEY)
      v = roll % 7 == 0 ? -(int64_t)(roll % 4) : roll % 9 + 1; /* windows: negative values too */
    out[i] = (rec){k, v};
  }
  return n;
}

/* Fills the test-filled input nodes for one batch. */
static void fill(job *j, const rec *recs, int n) {
  free(j->bytes);
  size_t bytes = 1;
  for (int i = 0; i < n; i++)
    bytes += strlen(key_names[recs[i].key]) + 24;
  j->bytes = malloc(bytes);
  char *sp = j->bytes;
  rt_stream *src = &j->streams[0];
  rt_stream_reset(src, j->in_parts);
  src->active = true;
  switch (j->sp->input) {
  case IN_INTS:
    for (int i = 0; i < n; i++)
      *(int64_t *)ds_part_push(&src->parts[i % j->in_parts], 8) = recs[i].val;
    break;
  case IN_STRS:
    for (int i = 0; i < n; i++) {
      int len = sprintf(sp, "%s:%lld", key_names[recs[i].key], (long long)recs[i].val);
      *(ds_str *)ds_part_push(&src->parts[i % j->in_parts], 16) = (ds_str){sp, len};
      sp += len;
    }
    break;
  case IN_PAIRS:
    for (int p = 0; p < j->in_parts; p++) {
      int lo = (int)((int64_t)p * n / j->in_parts), hi = (int)((int64_t)(p + 1) * n / j->in_parts);
      for (int i = lo; i < hi; i++) {
        if (j->sp->int_keys) {
          ipair *e = ds_part_push(&src->parts[p], sizeof(ipair));
          e->key = recs[i].key * 7919 % 1000;
          e->val = recs[i].val;
          continue;
        }
        spair *e = ds_part_push(&src->parts[p], sizeof(spair));
        size_t len = strlen(key_names[recs[i].key]);
        memcpy(sp, key_names[recs[i].key], len);
        e->key = (ds_str){sp, (int64_t)len};
        e->val = recs[i].val;
        sp += len;
      }
    }
    break;
  case IN_COMBINE: {
    rt_stream *comb = &j->streams[1];
    rt_stream_reset_maps(comb, j->in_parts, sizeof(spair));
    comb->active = true;
    for (int i = 0; i < n; i++) {
      spair pair = {{sp, (int64_t)strlen(key_names[recs[i].key])}, recs[i].val};
      memcpy(sp, key_names[recs[i].key], (size_t)pair.key.len);
      sp += pair.key.len;
      bool inserted;
      char *slot =
          ds_map_upsert(&comb->maps[i % j->in_parts], str_hash(&pair), &pair, str_eq, &inserted);
      if (inserted)
        memcpy(slot, &pair, sizeof pair);
      else
        add(NULL, slot + 16, &pair.val);
    }
    break;
  }
  case IN_SOURCE: break;
  }
  j->nbytes = (size_t)(sp - j->bytes);
}

/* How outputs are compared. */
typedef enum mode {
  RAW,         /* partition by partition, in order */
  PART_SORTED, /* partition by partition, each as a sorted set */
  FLAT,        /* all partitions concatenated, in order */
  SORTED,      /* all elements sorted */
} mode;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *render(job *j, int node, mode m) {
  const rt_stream *s = &j->streams[node];
  if (!s->active)
    return strdup("-");
  const ds_type *t = j->nodes[node].elem;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int64_t total = rt_stream_count(s), k = 0;
  char **items = calloc((size_t)total + 1, sizeof *items);
  for (int p = 0; p < s->nparts; p++) {
    int64_t first = k;
    for (int64_t i = 0; i < s->parts[p].n; i++)
      items[k++] = show(t, s->parts[p].data + i * t->size);
    if (m == PART_SORTED)
      qsort(items + first, (size_t)(k - first), sizeof *items, cmp_str);
    if (m == RAW || m == PART_SORTED) {
      fprintf(f, "|");
      for (int64_t i = first; i < k; i++)
        fprintf(f, " %s", items[i]);
    }
  }
  if (m == SORTED)
    qsort(items, (size_t)total, sizeof *items, cmp_str);
  if (m == FLAT || m == SORTED)
    for (int64_t i = 0; i < total; i++)
      fprintf(f, " %s", items[i]);
  for (int64_t i = 0; i < total; i++)
    free(items[i]);
  free(items);
  fclose(f);
  return buf;
}

/* The output of one batch: the operator's (and the snapshots'). */
typedef struct outs {
  char *op, *snap;
  bool exhausted;
} outs;

static void outs_free(outs *o) {
  free(o->op);
  free(o->snap);
  o->op = o->snap = NULL;
}

/* Plays batch `index` as the driver does: fills the input, then for every
 * node observe, active and run. */
static void job_batch(job *j, int64_t index, mode m, outs *o) {
  rt_batch b = {.index = index, .time = T0 + index * BATCH};
  j->rj.batch_time = b.time;
  rec recs[MAXREC];
  int n = j->sp->input == IN_SOURCE ? 0 : gen(j->sp, index, recs);
  fill(j, recs, n);
  for (int i = j->first_exec; i < j->nnodes; i++) {
    const rt_exec *e = rt_exec_for(j->nodes[i].kind);
    if (e->observe)
      e->observe(&j->rj, i, &b);
    bool active = i == 0      ? true
                  : e->active ? e->active(&j->rj, i, &b)
                              : j->streams[j->nodes[i].inputs[0]].active;
    j->streams[i].active = active;
    if (active)
      e->run(&j->rj, i, &b);
  }
  o->op = render(j, j->op, m);
  o->snap = j->sp->snapshots ? render(j, j->op + 1, m) : NULL;
  const rt_exec *e0 = rt_exec_for(j->nodes[0].kind);
  o->exhausted = j->sp->input == IN_SOURCE && e0->exhausted(&j->rj, 0);
  rt_pool_reset_arenas(j->rj.pool);
  if (j->nbytes)
    memset(j->bytes, '#', j->nbytes); /* the input's memory goes with its batch */
}

/* Removes the files of a previous save. */
static void clear_node_files(void) {
  for (int i = 0; i < MAXN; i++) {
    char name[32];
    snprintf(name, sizeof name, "node-%d", i);
    unlink(path_of(name));
  }
}

/* Every node that saves writes checkpoint file "node-<i>". */
static void job_save(job *j) {
  clear_node_files();
  for (int i = 0; i < j->nnodes; i++) {
    const rt_exec *e = rt_exec_for(j->nodes[i].kind);
    if (!j->started[i] || !e->save)
      continue;
    char name[32];
    snprintf(name, sizeof name, "node-%d", i);
    rt_ckw w;
    ck_assert_int_eq(rt_ckw_open(&w, tmpdir, name), 0);
    e->save(&j->rj, i, &w);
    ck_assert_msg(rt_ckw_commit(&w) == 0, "saving node %d: %s", i, w.msg);
  }
}

/* Loads every node's file; returns the first message (or reader error). */
static char load_error[1024];
static const char *job_load(job *j) {
  for (int i = 0; i < j->nnodes; i++) {
    const rt_exec *e = rt_exec_for(j->nodes[i].kind);
    if (!j->started[i] || !e->load)
      continue;
    char name[32];
    snprintf(name, sizeof name, "node-%d", i);
    rt_ckr r;
    ck_assert_int_eq(rt_ckr_open(&r, path_of(name)), 0);
    const char *msg = e->load(&j->rj, i, &r);
    if (!msg && !r.err)
      rt_ckr_end(&r);
    if (msg || r.err) {
      snprintf(load_error, sizeof load_error, "%s", msg ? msg : r.msg);
      rt_ckr_close(&r);
      return load_error;
    }
    rt_ckr_close(&r); /* the loaded state must not point into the reader */
  }
  return NULL;
}

typedef struct run_opts {
  int p1, p2; /* partitions of the saving and of the loading run */
  int threads, in_parts;
  bool eager; /* compact the state stores as soon as possible */
  int nbatches;
  int save_from, save_step; /* save after batches save_from, +step, ... < nbatches */
} run_opts;

/* Compares, for every save point, a run saved and loaded there with an
 * uninterrupted one. */
static void scenario(const spec *sp, run_opts ro) {
  bool same = ro.p1 == ro.p2;
  bool keyed = sp->input == IN_PAIRS || sp->input == IN_COMBINE;
  mode m = same ? (sp->sorted_parts ? PART_SORTED : RAW) : keyed ? SORTED : FLAT;
  job a;
  ck_assert_ptr_null(job_start(&a, sp, ro.p1, ro.threads, ro.in_parts, ro.eager));
  outs *ref = calloc((size_t)ro.nbatches + 1, sizeof *ref);
  for (int b = 1; b <= ro.nbatches; b++)
    job_batch(&a, b, m, &ref[b]);
  job_free(&a);
  int step = ro.save_step > 0 ? ro.save_step : 1;
  for (int k = ro.save_from; k < ro.nbatches; k += step) {
    job j;
    ck_assert_ptr_null(job_start(&j, sp, ro.p1, ro.threads, ro.in_parts, ro.eager));
    for (int b = 1; b <= k; b++) {
      outs o;
      job_batch(&j, b, m, &o);
      ck_assert_str_eq(o.op, ref[b].op); /* the runs agree before the save too */
      outs_free(&o);
    }
    job_save(&j);
    job_free(&j);
    job c;
    ck_assert_ptr_null(job_start(&c, sp, ro.p2, ro.threads, ro.in_parts, ro.eager));
    const char *msg = job_load(&c);
    ck_assert_msg(msg == NULL, "%s: load after batch %d: %s", sp->name, k, msg);
    /* Saved again at once, a loaded node writes what it read (except the
     * order of a hash table's pairs). */
    if (same && !(sp->kind == DS_REDUCE_BY_KEY_AND_WINDOW && c.nodes[c.op].inv_reduce)) {
      size_t n1, n2;
      char name[32];
      snprintf(name, sizeof name, "node-%d", c.op);
      unsigned char *before = payload_of(name, &n1);
      job_save(&c);
      unsigned char *after = payload_of(name, &n2);
      ck_assert_msg(n1 == n2 && memcmp(before, after, n1) == 0,
                    "%s saved after batch %d: saved again after the load it differs", sp->name, k);
      free(before);
      free(after);
    }
    for (int b = k + 1; b <= ro.nbatches; b++) {
      outs o;
      job_batch(&c, b, m, &o);
      ck_assert_msg(strcmp(o.op, ref[b].op) == 0,
                    "%s (%d -> %d partitions), saved after batch %d: batch %d is\n  %s\nnot\n  %s",
                    sp->name, ro.p1, ro.p2, k, b, o.op, ref[b].op);
      if (o.snap)
        ck_assert_msg(strcmp(o.snap, ref[b].snap) == 0,
                      "%s saved after batch %d: snapshots of batch %d are\n  %s\nnot\n  %s",
                      sp->name, k, b, o.snap, ref[b].snap);
      ck_assert_int_eq(o.exhausted, ref[b].exhausted);
      outs_free(&o);
    }
    job_free(&c);
  }
  for (int b = 1; b <= ro.nbatches; b++)
    outs_free(&ref[b]);
  free(ref);
}

/* Saves after `k` batches, then loads every truncation of each node's file
 * into fresh jobs: each must be refused (message or reader error). */
static void truncations(const spec *sp, int p, int k, int every) {
  job j;
  ck_assert_ptr_null(job_start(&j, sp, p, 2, 2, false));
  for (int b = 1; b <= k; b++) {
    outs o;
    job_batch(&j, b, RAW, &o);
    outs_free(&o);
  }
  job_save(&j);
  job_free(&j);
  for (int i = 0; i < MAXN; i++) {
    char name[32];
    snprintf(name, sizeof name, "node-%d", i);
    if (access(path_of(name), F_OK) != 0)
      continue;
    size_t n;
    unsigned char *full = payload_of(name, &n);
    for (size_t len = 0; len < n; len += (len < 64 ? 1 : (size_t)every)) {
      write_payload(name, full, len);
      job c;
      ck_assert_ptr_null(job_start(&c, sp, p, 2, 2, false));
      ck_assert_msg(job_load(&c) != NULL, "%s: node %d cut at %zu of %zu bytes was accepted",
                    sp->name, i, len, n);
      job_free(&c);
    }
    write_payload(name, full, n); /* whole again for the next node's test */
    free(full);
  }
}

/* ---- updateStateByKey ---- */

static void usk_tweak(ds_node *n) {
  n->update = upd_decay;
  n->make = n->key == &t_int ? make_i : make_s;
  n->elem = n->key == &t_int ? &t_ipair : &t_spair;
}
static spair usk_initial[] = {{{"key-01", 6}, 5}, {{"seeded", 6}, 3}, {{"key-02", 6}, 100}};
static void usk_tweak_initial(ds_node *n) {
  usk_tweak(n);
  n->initial = (ds_list){usk_initial, 3};
}
static void usk_tweak_hist(ds_node *n) {
  n->update = upd_hist;
  n->make = make_hist;
  n->elem = &t_shist;
  n->state = &t_hist;
}

static const spec usk_spec = {"updateStateByKey",
                              DS_UPDATE_STATE_BY_KEY,
                              IN_PAIRS,
                              false,
                              false,
                              false,
                              usk_tweak_initial,
                              60,
                              120,
                              NULL,
                              0};
static const spec usk_int_spec = {"updateStateByKey (int keys)",
                                  DS_UPDATE_STATE_BY_KEY,
                                  IN_PAIRS,
                                  true,
                                  false,
                                  false,
                                  usk_tweak,
                                  64,
                                  200,
                                  NULL,
                                  0};
static const spec usk_hist_spec = {"updateStateByKey ((int, [string]) states)",
                                   DS_UPDATE_STATE_BY_KEY,
                                   IN_PAIRS,
                                   false,
                                   false,
                                   false,
                                   usk_tweak_hist,
                                   50,
                                   60,
                                   NULL,
                                   0};

START_TEST(usk_resumes_exactly) {
  make_tmpdir();
  scenario(&usk_spec, (run_opts){3, 3, 2, 2, false, 16, 0, 1});
  scenario(&usk_spec, (run_opts){3, 3, 1, 3, true, 16, 0, 1});
  scenario(&usk_int_spec, (run_opts){4, 4, 2, 2, true, 14, 1, 1});
  scenario(&usk_hist_spec, (run_opts){2, 2, 2, 3, false, 14, 1, 1});
  remove_tmpdir();
}
END_TEST

START_TEST(usk_resumes_with_other_partitions) {
  make_tmpdir();
  scenario(&usk_spec, (run_opts){3, 5, 2, 2, false, 14, 0, 1});
  scenario(&usk_spec, (run_opts){4, 1, 2, 2, true, 14, 1, 2});
  scenario(&usk_hist_spec, (run_opts){1, 3, 2, 3, false, 12, 1, 2});
  remove_tmpdir();
}
END_TEST

/* The stores after a load are the saved ones, slot for slot. */
START_TEST(usk_stores_rebuilt_slot_by_slot) {
  make_tmpdir();
  job j;
  ck_assert_ptr_null(job_start(&j, &usk_spec, 3, 2, 2, false));
  for (int b = 1; b <= 9; b++) {
    outs o;
    job_batch(&j, b, RAW, &o);
    outs_free(&o);
  }
  int32_t n;
  rt_state_store *s = rt_update_state_stores(&j.rj, j.op, &n);
  int64_t holes = 0;
  for (int32_t q = 0; q < n; q++)
    holes += s[q].nentries - s[q].nlive;
  ck_assert_int_gt(holes, 0); /* the scenario leaves free slots */
  job_save(&j);
  job c;
  ck_assert_ptr_null(job_start(&c, &usk_spec, 3, 2, 2, false));
  ck_assert_ptr_null(job_load(&c));
  int32_t n2;
  rt_state_store *s2 = rt_update_state_stores(&c.rj, c.op, &n2);
  ck_assert_int_eq(n2, n);
  for (int32_t q = 0; q < n; q++) {
    ck_assert_int_eq(s2[q].nentries, s[q].nentries);
    ck_assert_int_eq(s2[q].nlive, s[q].nlive);
    ck_assert_int_eq(s2[q].free_head, s[q].free_head);
    ck_assert_int_eq(s2[q].live_bytes, s[q].live_bytes);
    ck_assert_int_eq((int64_t)ds_arena_bytes(&s2[q].arena), (int64_t)ds_arena_bytes(&s[q].arena));
    for (int64_t i = 0; i < s[q].nentries; i++) {
      rt_state_entry *e = rt_state_at(&s[q], i), *e2 = rt_state_at(&s2[q], i);
      ck_assert_int_eq(e2->time, e->time);
      ck_assert_int_eq(e2->aux, e->aux);
      if (e->time == RT_STATE_FREE)
        continue;
      ck_assert_uint_eq(e2->hash, e->hash);
      ck_assert(str_eq(rt_state_key(&s[q], e), rt_state_key(&s2[q], e2)));
      ck_assert_int_eq(*(int64_t *)rt_state_val(&s[q], e), *(int64_t *)rt_state_val(&s2[q], e2));
      ck_assert_int_eq(rt_state_find(&s2[q], e->hash, rt_state_key(&s[q], e)), i);
    }
  }
  job_free(&c);
  job_free(&j);
  remove_tmpdir();
}
END_TEST

/* initial: is applied once, at the first batch: not again over loaded
 * state, but still when the checkpoint was taken before the first batch. */
START_TEST(usk_initial_applied_once) {
  make_tmpdir();
  spec sp = usk_spec;
  sp.maxrec = 1;
  sp.nkeys = 1;
  /* Only key-00 ever gets values; the initial keys decay by 1 per batch. */
  job j;
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  job_save(&j); /* before any batch: initial: not applied yet */
  job_free(&j);
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  ck_assert_ptr_null(job_load(&j));
  outs o;
  job_batch(&j, 1, SORTED, &o);
  ck_assert_ptr_nonnull(strstr(o.op, "(\"key-01\", 4)"));
  ck_assert_ptr_nonnull(strstr(o.op, "(\"seeded\", 2)"));
  outs_free(&o);
  job_save(&j);
  job_free(&j);
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  ck_assert_ptr_null(job_load(&j));
  job_batch(&j, 2, SORTED, &o);
  ck_assert_ptr_nonnull(strstr(o.op, "(\"key-01\", 3)")); /* not 5 - 1 again */
  ck_assert_ptr_nonnull(strstr(o.op, "(\"seeded\", 1)"));
  outs_free(&o);
  job_batch(&j, 3, SORTED, &o);
  ck_assert_ptr_null(strstr(o.op, "seeded")); /* it decayed to 0 and is gone for good */
  outs_free(&o);
  job_free(&j);
  remove_tmpdir();
}
END_TEST

/* ---- mapWithState ---- */

static spair mws_initial[] = {{{"key-05", 6}, 9}, {{"lonely", 6}, 7}, {{"quiet", 5}, 8}};
static void mws_tweak(ds_node *n) {
  n->elem = &t_event;
  n->map_state = map_s;
  n->timeout_ms = 3 * BATCH;
  n->on_timeout = timeout_s;
  n->initial = (ds_list){mws_initial, 3};
}
static void mws_tweak_no_timeout(ds_node *n) {
  mws_tweak(n);
  n->timeout_ms = 0;
  n->on_timeout = NULL;
}
static void mws_tweak_odd_timeout(ds_node *n) {
  mws_tweak(n);
  n->timeout_ms = 2500; /* not a multiple of the batch */
}
static const spec mws_spec = {
    "mapWithState", DS_MAP_WITH_STATE, IN_PAIRS, false, true, false, mws_tweak, 40, 60, NULL, 0};
static const spec mws_plain_spec = {"mapWithState (no timeout)",
                                    DS_MAP_WITH_STATE,
                                    IN_PAIRS,
                                    false,
                                    true,
                                    false,
                                    mws_tweak_no_timeout,
                                    40,
                                    60,
                                    NULL,
                                    0};
static const spec mws_odd_spec = {"mapWithState (timeout 2.5 batches)",
                                  DS_MAP_WITH_STATE,
                                  IN_PAIRS,
                                  false,
                                  true,
                                  false,
                                  mws_tweak_odd_timeout,
                                  64,
                                  30,
                                  NULL,
                                  0};

START_TEST(mws_resumes_exactly_with_timeouts) {
  make_tmpdir();
  scenario(&mws_spec, (run_opts){3, 3, 2, 2, false, 18, 0, 1});
  scenario(&mws_spec, (run_opts){2, 2, 1, 3, true, 18, 0, 1});
  scenario(&mws_odd_spec, (run_opts){3, 3, 2, 2, true, 16, 1, 1});
  scenario(&mws_plain_spec, (run_opts){3, 3, 2, 1, false, 12, 1, 2});
  remove_tmpdir();
}
END_TEST

START_TEST(mws_resumes_with_other_partitions) {
  make_tmpdir();
  scenario(&mws_spec, (run_opts){3, 2, 2, 2, false, 16, 0, 1});
  scenario(&mws_odd_spec, (run_opts){1, 4, 2, 2, true, 16, 1, 2});
  remove_tmpdir();
}
END_TEST

/* The timeouts fire after the restart at the batches they would have. */
START_TEST(mws_timeouts_fire_after_restart) {
  make_tmpdir();
  spec sp = mws_spec;
  sp.maxrec = 1;
  sp.nkeys = 1; /* only key-00 gets values (every batch but multiples of 6) */
  job j;
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  outs o;
  job_batch(&j, 1, SORTED, &o);
  outs_free(&o);
  job_batch(&j, 2, SORTED, &o);
  outs_free(&o);
  job_save(&j);
  job_free(&j);
  ck_assert_ptr_null(job_start(&j, &sp, 3, 1, 1, false));
  ck_assert_ptr_null(job_load(&j));
  /* initial: keys (T0) time out at T0 + 3 s, batch 3; "lonely" (7) silently. */
  job_batch(&j, 3, SORTED, &o);
  ck_assert_ptr_nonnull(strstr(o.op, "(\"key-05\", -1000, 9, -1)"));
  ck_assert_ptr_nonnull(strstr(o.op, "(\"quiet\", -1000, 8, -1)"));
  ck_assert_ptr_null(strstr(o.op, "lonely"));
  ck_assert_ptr_null(strstr(o.snap, "lonely"));
  outs_free(&o);
  job_free(&j);
  remove_tmpdir();
}
END_TEST

/* ---- windows ---- */

static void window_4_2(ds_node *n) {
  n->window_ms = 4 * BATCH;
  n->slide_ms = 2 * BATCH;
}
static void window_3_1(ds_node *n) {
  n->window_ms = 3 * BATCH;
  n->slide_ms = 0; /* the input's period */
}
static void window_2_3(ds_node *n) {
  n->window_ms = 2 * BATCH;
  n->slide_ms = 3 * BATCH; /* some batches fall in no window */
}
static void window_6_3_inverse(ds_node *n) {
  n->window_ms = 6 * BATCH;
  n->slide_ms = 3 * BATCH;
  n->inv_reduce = sub;
}
static void window_4_2_inverse(ds_node *n) {
  window_4_2(n);
  n->inv_reduce = sub;
}
static void window_5_1_inverse(ds_node *n) {
  n->window_ms = 5 * BATCH;
  n->slide_ms = BATCH;
  n->inv_reduce = sub;
}
static void window_4_2_inverse_filter(ds_node *n) {
  window_4_2_inverse(n);
  n->filter = nonzero;
}
static void window_3_1_inverse_filter(ds_node *n) {
  window_3_1(n);
  n->inv_reduce = sub;
  n->filter = nonzero;
}
static void window_2_3_inverse(ds_node *n) {
  window_2_3(n);
  n->inv_reduce = sub;
}

START_TEST(window_resumes_exactly) {
  make_tmpdir();
  const spec specs[] = {
      {"window(4s, 2s)", DS_WINDOW, IN_STRS, false, false, false, window_4_2, 20, 8, NULL, 0},
      {"window(3s)", DS_WINDOW, IN_STRS, false, false, false, window_3_1, 20, 8, NULL, 0},
      {"window(2s, 3s)", DS_WINDOW, IN_INTS, false, false, false, window_2_3, 20, 8, NULL, 0},
  };
  for (int i = 0; i < 3; i++) {
    scenario(&specs[i], (run_opts){3, 3, 2, 3, false, 13, 0, 1});
    scenario(&specs[i], (run_opts){3, 1, 2, 2, false, 13, 1, 1});
    scenario(&specs[i], (run_opts){2, 5, 1, 3, false, 11, 2, 1});
  }
  remove_tmpdir();
}
END_TEST

START_TEST(reduce_by_window_resumes_exactly) {
  make_tmpdir();
  const spec specs[] = {
      {"reduceByWindow(4s, 2s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false, window_4_2, 20,
       6, NULL, 0},
      {"reduceByWindow(2s, 3s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false, window_2_3, 20,
       6, NULL, 0},
      {"reduceByWindow(f, finv, 4s, 2s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false,
       window_4_2_inverse, 20, 6, NULL, 0},
      {"reduceByWindow(f, finv, 6s, 3s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false,
       window_6_3_inverse, 20, 6, NULL, 0},
      {"reduceByWindow(f, finv, 5s, 1s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false,
       window_5_1_inverse, 20, 6, NULL, 0},
      {"reduceByWindow(f, finv, 2s, 3s)", DS_REDUCE_BY_WINDOW, IN_INTS, false, false, false,
       window_2_3_inverse, 20, 6, NULL, 0},
  };
  for (int i = 0; i < 6; i++) {
    scenario(&specs[i], (run_opts){3, 3, 2, 2, false, 14, 0, 1});
    scenario(&specs[i], (run_opts){2, 4, 2, 3, false, 13, 1, 1});
  }
  remove_tmpdir();
}
END_TEST

START_TEST(reduce_by_key_and_window_resumes_exactly) {
  make_tmpdir();
  const spec specs[] = {
      {"reduceByKeyAndWindow(4s, 2s)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false, false, true,
       window_4_2, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(2s, 3s)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false, false, true,
       window_2_3, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(f, finv, 4s, 2s)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false,
       false, true, window_4_2_inverse, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(f, finv, 5s, 1s)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false,
       false, true, window_5_1_inverse, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(f, finv, 4s, 2s, filter)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE,
       false, false, true, window_4_2_inverse_filter, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(f, finv, 3s, filter)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false,
       false, true, window_3_1_inverse_filter, 24, 30, NULL, 0},
      {"reduceByKeyAndWindow(f, finv, 2s, 3s)", DS_REDUCE_BY_KEY_AND_WINDOW, IN_COMBINE, false,
       false, true, window_2_3_inverse, 24, 30, NULL, 0},
  };
  for (int i = 0; i < 7; i++) {
    scenario(&specs[i], (run_opts){3, 3, 2, 2, false, 14, 0, 1});
    scenario(&specs[i], (run_opts){3, 2, 2, 3, false, 13, 1, 1});
    scenario(&specs[i], (run_opts){1, 4, 2, 2, false, 12, 2, 2});
  }
  remove_tmpdir();
}
END_TEST

START_TEST(window_load_refuses_another_window) {
  make_tmpdir();
  const spec sp = {"reduceByKeyAndWindow(4s, 2s)",
                   DS_REDUCE_BY_KEY_AND_WINDOW,
                   IN_COMBINE,
                   false,
                   false,
                   true,
                   window_4_2_inverse,
                   24,
                   30,
                   NULL,
                   0};
  job j;
  ck_assert_ptr_null(job_start(&j, &sp, 2, 2, 2, false));
  outs o;
  job_batch(&j, 1, RAW, &o);
  outs_free(&o);
  job_save(&j);
  job_free(&j);
  spec other = sp;
  other.tweak = window_5_1_inverse;
  ck_assert_ptr_null(job_start(&j, &other, 2, 2, 2, false));
  const char *msg = job_load(&j);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(strstr(msg, "window of 4000ms sliding by 2000ms"));
  job_free(&j);
  other.tweak = window_4_2; /* the inverse function removed */
  ck_assert_ptr_null(job_start(&j, &other, 2, 2, 2, false));
  msg = job_load(&j);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(strstr(msg, "inverse"));
  job_free(&j);
  remove_tmpdir();
}
END_TEST

START_TEST(truncated_checkpoints_are_refused) {
  make_tmpdir();
  truncations(&usk_spec, 3, 5, 7);
  truncations(&usk_hist_spec, 2, 4, 5);
  truncations(&mws_spec, 2, 4, 7);
  const spec w = {"window(4s, 2s)", DS_WINDOW, IN_STRS, false, false, false,
                  window_4_2,       20,        8,       NULL,  0};
  truncations(&w, 2, 5, 3);
  const spec rbw = {"reduceByWindow(f, finv, 4s, 2s)",
                    DS_REDUCE_BY_WINDOW,
                    IN_INTS,
                    false,
                    false,
                    false,
                    window_4_2_inverse,
                    20,
                    6,
                    NULL,
                    0};
  truncations(&rbw, 2, 5, 1);
  const spec rbkw = {"reduceByKeyAndWindow(f, finv, 4s, 2s, filter)",
                     DS_REDUCE_BY_KEY_AND_WINDOW,
                     IN_COMBINE,
                     false,
                     false,
                     true,
                     window_4_2_inverse_filter,
                     24,
                     30,
                     NULL,
                     0};
  truncations(&rbkw, 2, 5, 5);
  remove_tmpdir();
}
END_TEST

/* ---- sources ---- */

/* A file of n lines: some empty, some with '\r', a last one without '\n'. */
static void write_lines(const char *name, int n, int width, bool last_newline) {
  char filler[256];
  for (int i = 0; i < 255; i++)
    filler[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[i % 62];
  filler[255] = 0;
  FILE *f = fopen(path_of(name), "wb");
  ck_assert_ptr_nonnull(f);
  for (int i = 0; i < n; i++) {
    if (i % 11 == 5)
      fputs("", f);
    else
      fprintf(f, "line %d %.*s", i, i % width, filler);
    if (i % 7 == 3)
      fputc('\r', f);
    if (i < n - 1 || last_newline)
      fputc('\n', f);
  }
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(textfile_resumes_exactly) {
  make_tmpdir();
  write_lines("small.txt", 103, 40, false);
  write_lines("newline.txt", 60, 40, true);
  const spec small = {"textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0,
                      0,          "small.txt",        9};
  const spec nl = {"textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0,
                   0,          "newline.txt",      10};
  scenario(&small, (run_opts){3, 3, 2, 1, false, 15, 0, 1});
  scenario(&small, (run_opts){3, 2, 2, 1, false, 15, 0, 1});
  scenario(&nl, (run_opts){2, 2, 1, 1, false, 9, 0, 1});
  /* Several chunks of 512 KiB: positions in the middle of a round. */
  write_lines("big.txt", 60000, 61, false);
  const spec big = {"textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0,
                    0,          "big.txt",          7000};
  scenario(&big, (run_opts){3, 3, 2, 1, false, 10, 1, 2});
  scenario(&big, (run_opts){3, 4, 2, 1, false, 10, 2, 3});
  /* Larger than the first read (16 chunks): saved before the end was reached. */
  write_lines("huge.txt", 110000, 200, true); /* about 11 MB */
  const spec huge = {"textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0,
                     0,          "huge.txt",         25000};
  scenario(&huge, (run_opts){2, 2, 2, 1, false, 6, 1, 1});
  remove_tmpdir();
}
END_TEST

START_TEST(textfile_load_checks_the_file) {
  make_tmpdir();
  write_lines("f.txt", 50, 30, false);
  const spec sp = {
      "textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0, 0, "f.txt", 20};
  job j;
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  outs o;
  job_batch(&j, 1, FLAT, &o);
  outs_free(&o);
  job_save(&j);
  job_free(&j);
  /* Shorter than what was read: refused. */
  ck_assert_int_eq(truncate(path_of("f.txt"), 100), 0);
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  const char *msg = job_load(&j);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(strstr(msg, "fewer than"));
  job_free(&j);
  remove_tmpdir();
}
END_TEST

/* A run that had read to the end of the file does not read what was
 * appended since: the resumed run stops where the file ended, as the
 * uninterrupted run did (a small file is read whole by the first batch). */
START_TEST(textfile_after_the_end_reads_no_further) {
  make_tmpdir();
  const spec sp = {
      "textFile", DS_SOURCE_TEXTFILE, IN_SOURCE, false, false, false, NULL, 0, 0, "f.txt", 20};
  for (int last_newline = 0; last_newline < 2; last_newline++) {
    for (int batches = 1; batches <= 3; batches++) {
      write_lines("f.txt", 30, 30, last_newline);
      job j;
      ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
      outs ref[5];
      for (int b = 1; b <= 4; b++)
        job_batch(&j, b, FLAT, &ref[b]);
      job_free(&j);
      ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
      for (int b = 1; b <= batches; b++) {
        outs o;
        job_batch(&j, b, FLAT, &o);
        outs_free(&o);
      }
      job_save(&j);
      job_free(&j);
      FILE *f = fopen(path_of("f.txt"), "ab");
      fputs("appended\nmore\n", f);
      fclose(f);
      ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
      ck_assert_ptr_null(job_load(&j));
      for (int b = batches + 1; b <= 4; b++) {
        outs o;
        job_batch(&j, b, FLAT, &o);
        ck_assert_str_eq(o.op, ref[b].op);
        ck_assert_int_eq(o.exhausted, ref[b].exhausted);
        outs_free(&o);
      }
      for (int b = 1; b <= 4; b++)
        outs_free(&ref[b]);
      job_free(&j);
    }
  }
  remove_tmpdir();
}
END_TEST

static void write_batches_file(const char *name) {
  FILE *f = fopen(path_of(name), "wb");
  ck_assert_ptr_nonnull(f);
  for (int b = 0; b < 9; b++) {
    for (int i = 0; i < (b * 5) % 7; i++)
      fprintf(f, "b%d-%d%s\n", b, i, i % 3 == 1 ? "\r" : "");
    if (b < 8)
      fputs(b == 4 ? "\f\r\n" : "\f\n", f);
  }
  fputs("last line without newline", f);
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(batches_resumes_exactly) {
  make_tmpdir();
  write_batches_file("b.txt");
  const spec sp = {"batches", DS_SOURCE_BATCHES, IN_SOURCE, false, false, false, NULL, 0,
                   0,         "b.txt",           0};
  scenario(&sp, (run_opts){3, 3, 2, 1, false, 12, 0, 1});
  scenario(&sp, (run_opts){3, 1, 2, 1, false, 12, 0, 1});
  remove_tmpdir();
}
END_TEST

START_TEST(batches_load_checks_the_file) {
  make_tmpdir();
  write_batches_file("b.txt");
  const spec sp = {"batches", DS_SOURCE_BATCHES, IN_SOURCE, false, false, false, NULL, 0,
                   0,         "b.txt",           0};
  job j;
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  for (int b = 1; b <= 4; b++) {
    outs o;
    job_batch(&j, b, FLAT, &o);
    outs_free(&o);
  }
  job_save(&j);
  job_free(&j);
  /* Fewer batches now. */
  FILE *f = fopen(path_of("b.txt"), "wb");
  fputs("one\n\ftwo\n", f);
  fclose(f);
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  const char *msg = job_load(&j);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(strstr(msg, "changed"));
  job_free(&j);
  /* As many batches, but they end elsewhere. */
  f = fopen(path_of("b.txt"), "wb");
  for (int b = 0; b < 12; b++)
    fprintf(f, "x%d\n\f\n", b);
  fclose(f);
  ck_assert_ptr_null(job_start(&j, &sp, 2, 1, 1, false));
  ck_assert_ptr_nonnull(job_load(&j));
  job_free(&j);
  remove_tmpdir();
}
END_TEST

int main(void) {
  init_key_names();
  Suite *s = suite_create("rt_checkpoint_state");
  TCase *tc = tcase_create("value_codec");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, codec_round_trips_every_shape);
  tcase_add_test(tc, codec_encoding_is_the_documented_one);
  tcase_add_test(tc, codec_refuses_types_without_shape);
  tcase_add_test(tc, codec_refuses_malformed_values);
  tcase_add_test(tc, codec_survives_truncation_and_garbage);
  suite_add_tcase(s, tc);
  TCase *ts = tcase_create("state");
  tcase_set_timeout(ts, 300);
  tcase_add_test(ts, usk_resumes_exactly);
  tcase_add_test(ts, usk_resumes_with_other_partitions);
  tcase_add_test(ts, usk_stores_rebuilt_slot_by_slot);
  tcase_add_test(ts, usk_initial_applied_once);
  tcase_add_test(ts, mws_resumes_exactly_with_timeouts);
  tcase_add_test(ts, mws_resumes_with_other_partitions);
  tcase_add_test(ts, mws_timeouts_fire_after_restart);
  suite_add_tcase(s, ts);
  TCase *tw = tcase_create("windows");
  tcase_set_timeout(tw, 300);
  tcase_add_test(tw, window_resumes_exactly);
  tcase_add_test(tw, reduce_by_window_resumes_exactly);
  tcase_add_test(tw, reduce_by_key_and_window_resumes_exactly);
  tcase_add_test(tw, window_load_refuses_another_window);
  tcase_add_test(tw, truncated_checkpoints_are_refused);
  suite_add_tcase(s, tw);
  TCase *tsrc = tcase_create("sources");
  tcase_set_timeout(tsrc, 300);
  tcase_add_test(tsrc, textfile_resumes_exactly);
  tcase_add_test(tsrc, textfile_load_checks_the_file);
  tcase_add_test(tsrc, textfile_after_the_end_reads_no_further);
  tcase_add_test(tsrc, batches_resumes_exactly);
  tcase_add_test(tsrc, batches_load_checks_the_file);
  suite_add_tcase(s, tsrc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
