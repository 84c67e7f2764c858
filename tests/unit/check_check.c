/*
 * check_check.c — unit tests of the checker (check.c) and the planner
 * (plan.c): inferred types of let-bound streams, the errors a program gets
 * (position and wording), and the stages fusion makes. The golden tests in
 * tests/compile/ cover the same rules end to end through `dsc`; these pin
 * the internal results (Expr.ty, PlanNode.stage) that the driver only prints.
 */
#include "dsc.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

typedef struct Result {
  Arena arena;
  Source src;
  Program *prog;
  Settings settings;
  Plan *plan;
  int errors;
  char out[8192]; /* the diagnostics text */
} Result;

static Result *compile(const char *text) {
  Result *r = calloc(1, sizeof *r);
  r->src = (Source){.path = "t.ds", .text = text, .len = strlen(text)};
  FILE *f = fmemopen(r->out, sizeof r->out - 1, "w");
  Diags d = {.src = &r->src, .out = f};
  r->prog = parse_program(&r->arena, &r->src, &d);
  if (!d.errors)
    check_program(&r->arena, r->prog, &r->settings, &d);
  if (!d.errors)
    r->plan = plan_build(&r->arena, r->prog, &r->settings, &d);
  fclose(f);
  r->errors = d.errors;
  return r;
}

static void release(Result *r) {
  arena_free(&r->arena);
  free(r);
}

/* The type of top-level let `name`, as a string. */
static const char *let_type(Result *r, const char *name) {
  for (int i = 0; i < r->prog->stmts.len; i++) {
    Stmt *s = r->prog->stmts.items[i];
    if (s->kind == SK_LET && str_eq(s->name, name) && s->value && s->value->ty)
      return type_str(&r->arena, s->value->ty);
  }
  return "(none)";
}

#define EXPECT_OK(r) ck_assert_msg((r)->errors == 0, "unexpected errors:\n%s", (r)->out)
#define EXPECT_ERR(r, text)                                                                    \
  ck_assert_msg(strstr((r)->out, text) != NULL, "expected \"%s\" in:\n%s", text, (r)->out)

START_TEST(infers_wordcount_types) {
  Result *r = compile("let lines = socket(\"localhost\", 9999)\n"
                      "let words2 = lines.flatMap(l => words(l))\n"
                      "let pairs = words2.map(w => (w, 1))\n"
                      "let counts = pairs.reduceByKeyAndWindow((a, b) => a + b, (a, b) => a - b, "
                      "30s, 10s)\n"
                      "counts.print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "lines"), "stream<string>");
  ck_assert_str_eq(let_type(r, "words2"), "stream<string>");
  ck_assert_str_eq(let_type(r, "pairs"), "stream<(string, int)>");
  ck_assert_str_eq(let_type(r, "counts"), "stream<(string, int)>");
  release(r);
}
END_TEST

START_TEST(state_type_from_body) {
  /* §5: the state type of updateStateByKey comes from its body. */
  Result *r = compile("let s = batches(\"in.txt\").map(w => (w, 1))\n"
                      "let st = s.updateStateByKey((vs, s) => some(sum(vs) + (s ?? 0)))\n"
                      "st.print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "st"), "stream<(string, int)>");
  release(r);
}
END_TEST

START_TEST(map_with_state_and_snapshots) {
  Result *r = compile(
      "let s = batches(\"in.txt\").map(w => (w, 1))\n"
      "let m = s.mapWithState((k, v, st) => (some((st ?? 0) + v), some(k)), timeout: 30m,\n"
      "                       onTimeout: (k, st) => some(k + \"!\"))\n"
      "let snaps = m.stateSnapshots()\n"
      "m.print()\nsnaps.print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "m"), "stream<string>");
  ck_assert_str_eq(let_type(r, "snaps"), "stream<(string, int)>");
  release(r);
}
END_TEST

START_TEST(joins_and_options) {
  Result *r = compile("let a = batches(\"a\").map(l => (l, 1))\n"
                      "let b = batches(\"b\").map(l => (l, 2.5))\n"
                      "let j = a.join(b)\nlet l = a.leftOuterJoin(b)\n"
                      "let f = a.fullOuterJoin(b)\nlet c = a.cogroup(b)\n"
                      "j.print()\nl.print()\nf.print()\nc.print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "j"), "stream<(string, (int, float))>");
  ck_assert_str_eq(let_type(r, "l"), "stream<(string, (int, float?))>");
  ck_assert_str_eq(let_type(r, "f"), "stream<(string, (int?, float?))>");
  ck_assert_str_eq(let_type(r, "c"), "stream<(string, ([int], [float]))>");
  release(r);
}
END_TEST

START_TEST(records_and_fns) {
  Result *r = compile("type Hit = { ip: string, n: int }\n"
                      "fn parse(l: string) -> Hit? = if len(l) > 0 { some(Hit { ip: l, n: 1 }) } "
                      "else { none }\n"
                      "let hits = batches(\"x\").flatMap(parse)\n"
                      "let per = hits.map(h => (h.ip, h.n)).reduceByKey((a, b) => a + b)\n"
                      "per.print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "hits"), "stream<Hit>");
  ck_assert_str_eq(let_type(r, "per"), "stream<(string, int)>");
  release(r);
}
END_TEST

START_TEST(recursive_fns_any_order) {
  Result *r = compile("fn even(n: int) -> bool = if n == 0 { true } else { odd(n - 1) }\n"
                      "fn odd(n: int) -> bool = if n == 0 { false } else { even(n - 1) }\n"
                      "batches(\"x\").filter(l => even(len(l))).print()\n");
  EXPECT_OK(r);
  release(r);
}
END_TEST

START_TEST(error_reduce_by_key_needs_pairs) {
  Result *r = compile("let s = socket(\"h\", 1)\ns.reduceByKey((a, b) => a + b).print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:2:3: error: reduceByKey needs a stream of pairs, found stream<string>");
  release(r);
}
END_TEST

START_TEST(error_float_key) {
  Result *r = compile("batches(\"x\").map(l => (1.5, l)).groupByKey().print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "error: groupByKey needs a hashable key, but float is not hashable");
  EXPECT_ERR(r, "note:");
  release(r);
}
END_TEST

START_TEST(error_operand_types_point_at_operator) {
  Result *r = compile("let x = 1 + \"a\"\nbatches(\"x\").print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:1:11: error:");
  release(r);
}
END_TEST

START_TEST(error_if_branches) {
  Result *r = compile("let x = if true { 1 } else { \"a\" }\nbatches(\"x\").print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:1:30: error: the branches of 'if' have different types: int and string");
  release(r);
}
END_TEST

START_TEST(error_no_output) {
  Result *r = compile("let s = socket(\"h\", 1)\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:1:1: error: no output");
  release(r);
}
END_TEST

START_TEST(error_not_an_output) {
  Result *r = compile("let s = socket(\"h\", 1)\ns.count()\ns.print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:2:1: error: this expression is not an output operation");
  release(r);
}
END_TEST

START_TEST(error_stream_in_value_and_capture) {
  Result *r = compile("let s = socket(\"h\", 1)\n"
                      "let t = (s, 1)\n"
                      "s.map(x => s).print()\n");
  ck_assert_int_eq(r->errors, 2);
  EXPECT_ERR(r, "t.ds:2:10: error: a stream cannot be stored inside a value");
  EXPECT_ERR(r, "t.ds:3:12: error: a function cannot use the stream 's'");
  release(r);
}
END_TEST

START_TEST(error_settings) {
  Result *r = compile("set batchh = 1s\nset batch = 5\nset onError = \"ignore\"\n"
                      "batches(\"x\").print()\n");
  ck_assert_int_eq(r->errors, 3);
  EXPECT_ERR(r, "t.ds:1:5: error: unknown setting 'batchh'");
  EXPECT_ERR(r, "t.ds:2:13: error: setting 'batch' takes a duration");
  EXPECT_ERR(r, "t.ds:3:15: error: setting 'onError' must be \"skip\" or \"fail\"");
  release(r);
}
END_TEST

START_TEST(error_window_multiple) {
  Result *r = compile("set batch = 2s\n"
                      "batches(\"x\").window(5s, 2s).print()\n"
                      "batches(\"y\").window(6s, 2s).window(4s, 3s).print()\n");
  ck_assert_int_eq(r->errors, 2);
  EXPECT_ERR(r, "t.ds:2:21: error: the window length 5000ms is not a multiple of the batch");
  EXPECT_ERR(r, "t.ds:3:40: error: the window slide 3000ms is not a multiple");
  release(r);
}
END_TEST

START_TEST(error_none_needs_type) {
  Result *r = compile("let x = none\nbatches(\"x\").print()\n");
  ck_assert_int_eq(r->errors, 1);
  EXPECT_ERR(r, "t.ds:1:9: error: cannot tell the type of this 'none'");
  release(r);
}
END_TEST

START_TEST(ascription_fixes_none) {
  Result *r = compile("let x = (none: int?)\nlet y = ([]: [string])\nbatches(\"x\").print()\n");
  EXPECT_OK(r);
  ck_assert_str_eq(let_type(r, "x"), "int?");
  ck_assert_str_eq(let_type(r, "y"), "[string]");
  release(r);
}
END_TEST

START_TEST(error_named_and_extra_args) {
  Result *r = compile("let s = batches(\"x\")\n"
                      "s.sortBy(x => x, ascending: true).print()\n"
                      "s.map(x => x, 2).print()\n"
                      "s.window().print()\n");
  ck_assert_int_eq(r->errors, 3);
  EXPECT_ERR(r, "t.ds:2:18: error: unknown named argument 'ascending'");
  EXPECT_ERR(r, "t.ds:3:15: error: too many arguments");
  EXPECT_ERR(r, "t.ds:4:3: error: missing argument");
  release(r);
}
END_TEST

START_TEST(error_redefined_and_undefined) {
  Result *r = compile("let a = 1\nlet a = 2\nlet b = c\nbatches(\"x\").print()\n");
  ck_assert_int_eq(r->errors, 2);
  EXPECT_ERR(r, "t.ds:2:5: error: 'a' is already defined at 1:5");
  EXPECT_ERR(r, "t.ds:3:9: error: undefined name 'c'");
  release(r);
}
END_TEST

START_TEST(plan_fuses_elementwise) {
  Result *r = compile("let lines = socket(\"localhost\", 9999)\n"
                      "let counts = lines.flatMap(l => words(l)).filter(w => len(w) > 2)\n"
                      "  .map(w => (w, 1)).reduceByKey((a, b) => a + b)\n"
                      "counts.print()\n");
  EXPECT_OK(r);
  ck_assert_int_eq(r->plan->nodes.len, 6);
  PlanNode **n = (PlanNode **)r->plan->nodes.items;
  ck_assert_int_eq(n[0]->stage, n[1]->stage); /* socket + flatMap */
  ck_assert_int_eq(n[1]->stage, n[2]->stage); /* + filter */
  ck_assert_int_eq(n[2]->stage, n[3]->stage); /* + map */
  ck_assert_int_ne(n[3]->stage, n[4]->stage); /* reduceByKey shuffles */
  ck_assert_int_eq(r->plan->outputs.len, 1);
  release(r);
}
END_TEST

START_TEST(plan_shared_stream_is_one_node) {
  Result *r = compile("let s = batches(\"x\").map(l => len(l))\n"
                      "s.print()\ns.count().print()\n");
  EXPECT_OK(r);
  /* batches, map, print, count, print */
  ck_assert_int_eq(r->plan->nodes.len, 5);
  release(r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("check");
  TCase *t = tcase_create("types");
  tcase_add_test(t, infers_wordcount_types);
  tcase_add_test(t, state_type_from_body);
  tcase_add_test(t, map_with_state_and_snapshots);
  tcase_add_test(t, joins_and_options);
  tcase_add_test(t, records_and_fns);
  tcase_add_test(t, recursive_fns_any_order);
  tcase_add_test(t, ascription_fixes_none);
  suite_add_tcase(s, t);
  t = tcase_create("errors");
  tcase_add_test(t, error_reduce_by_key_needs_pairs);
  tcase_add_test(t, error_float_key);
  tcase_add_test(t, error_operand_types_point_at_operator);
  tcase_add_test(t, error_if_branches);
  tcase_add_test(t, error_no_output);
  tcase_add_test(t, error_not_an_output);
  tcase_add_test(t, error_stream_in_value_and_capture);
  tcase_add_test(t, error_settings);
  tcase_add_test(t, error_window_multiple);
  tcase_add_test(t, error_none_needs_type);
  tcase_add_test(t, error_named_and_extra_args);
  tcase_add_test(t, error_redefined_and_undefined);
  suite_add_tcase(s, t);
  t = tcase_create("plan");
  tcase_add_test(t, plan_fuses_elementwise);
  tcase_add_test(t, plan_shared_stream_is_one_node);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
