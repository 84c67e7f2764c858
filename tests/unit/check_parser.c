/*
 * check_parser.c — unit tests of parser.y: every statement and expression
 * form (compared as ast_dump S-expressions), precedence and associativity,
 * where each node's location points, the syntax error messages and their
 * positions, error recovery (several errors per run, no cascades), and
 * robustness on hostile input (deep nesting, huge programs, bad bytes).
 */
#include "dsc.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char errs[16384]; /* "line:col: message" lines of the last parse */
static char dump[65536]; /* ast_dump of the last parse, without the final newline */
static Arena arena;
static Source source;
static int nerrors;

static void collect_errors(const char *out) {
  errs[0] = '\0';
  for (const char *line = out; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    const char *e = strstr(line, ": error: ");
    if (e && e < line + len && strncmp(line, "t.ds:", 5) == 0) {
      const char *pos = line + 5;
      size_t used = strlen(errs);
      snprintf(errs + used, sizeof errs - used, "%s%.*s:%.*s", used ? "\n" : "",
               (int)(e - pos), pos, (int)(line + len - e - 8), e + 8);
    }
    line = nl ? nl + 1 : line + len;
  }
}

/* Parses len bytes of src; the Program lives in `arena` until the next call. */
static Program *parsen(const char *src, size_t len) {
  arena_free(&arena);
  char *text = arena_strndup(&arena, src, len);
  source = (Source){.path = "t.ds", .text = text, .len = len};
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  Diags d = {.src = &source, .out = f};
  Program *p = parse_program(&arena, &source, &d);
  fclose(f);
  collect_errors(out);
  free(out);
  nerrors = d.errors;

  char *text_out = NULL;
  size_t text_len = 0;
  f = open_memstream(&text_out, &text_len);
  ast_dump(f, p);
  fclose(f);
  if (text_len && text_out[text_len - 1] == '\n')
    text_out[--text_len] = '\0';
  snprintf(dump, sizeof dump, "%s", text_out);
  free(text_out);
  return p;
}

static Program *parse(const char *src) {
  return parsen(src, strlen(src));
}

#define PARSE_OK(src, expected)                                                                 \
  do {                                                                                          \
    parse(src);                                                                                 \
    ck_assert_str_eq(errs, "");                                                                 \
    ck_assert_str_eq(dump, expected);                                                           \
  } while (0)

#define PARSE_ERR(src, errors)                                                                  \
  do {                                                                                          \
    parse(src);                                                                                 \
    ck_assert_str_eq(errs, errors);                                                             \
  } while (0)

static char locbuf[64];
static const char *L(Loc l) {
  snprintf(locbuf, sizeof locbuf, "%d:%d", l.line, l.col);
  return locbuf;
}

static Stmt *stmt(Program *p, int i) {
  ck_assert_int_gt(p->stmts.len, i);
  return p->stmts.items[i];
}

static Expr *value(Program *p, int i) {
  return stmt(p, i)->value;
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_statements) {
  PARSE_OK("set batch = 1s", "(set batch 1000ms)");
  PARSE_OK("set partitions = -4", "(set partitions (neg 4))");
  PARSE_OK("set onError = \"fail\"", "(set onError \"fail\")");
  PARSE_OK("type Point = { x: int, y: string }", "(type Point (x int) (y string))");
  PARSE_OK("type Point = { x: int, y: string, }", "(type Point (x int) (y string))");
  PARSE_OK("type E = {}", "(type E)");
  PARSE_OK("type P = {\n  x: int,\n  y: [int?]\n}", "(type P (x int) (y (list (option int))))");
  PARSE_OK("fn add(a: int, b: int) -> int = a + b", "(fn add ((a int) (b int)) int (+ a b))");
  PARSE_OK("fn one() -> int = 1", "(fn one () int 1)");
  PARSE_OK("fn f(a: int,) -> int = a", "(fn f ((a int)) int a)");
  PARSE_OK("fn f(x: int) -> int {\n  let y = x * 2\n  y + 1\n}",
           "(fn f ((x int)) int (block (let y (* x 2)) (+ y 1)))");
  PARSE_OK("fn f() -> P = P { x: 1 }", "(fn f () P (record P (x 1)))");
  PARSE_OK("let x = 1", "(let x 1)");
  PARSE_OK("counts.print()", "(call (field counts print))");
  PARSE_OK("let a = 1\nlet b = 2; let c = 3\n\n;;\nc", "(let a 1)\n(let b 2)\n(let c 3)\nc");
  PARSE_OK("", "");
  PARSE_OK("\n\n;\n// nothing\n", "");
}
END_TEST

START_TEST(test_first_program) {
  PARSE_OK("// Count words arriving on a socket: a 30 s window, every 10 s.\n"
           "set batch = 1s\n"
           "\n"
           "let lines  = socket(\"localhost\", 9999)\n"
           "let tokens = lines.flatMap(l => words(l))\n"
           "let counts = tokens\n"
           "  .map(w => (w, 1))\n"
           "  .reduceByKeyAndWindow((a, b) => a + b, (a, b) => a - b, 30s, 10s)\n"
           "\n"
           "counts.print()\n",
           "(set batch 1000ms)\n"
           "(let lines (call socket \"localhost\" 9999))\n"
           "(let tokens (call (field lines flatMap) (lambda (l) (call words l))))\n"
           "(let counts (call (field (call (field tokens map) (lambda (w) (tuple w 1))) "
           "reduceByKeyAndWindow) (lambda (a b) (+ a b)) (lambda (a b) (- a b)) 30000ms "
           "10000ms))\n"
           "(call (field counts print))");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expressions                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_literals) {
  PARSE_OK("42; 0xff; 1.5; 2e9; 1e-3; \"s\\n\"; 500ms; 5m; true; false; none",
           "42\n255\n1.5\n2e+09\n0.001\n\"s\\n\"\n500ms\n300000ms\ntrue\nfalse\nnone");
  PARSE_OK("some(1)", "(some 1)");
  PARSE_OK("some(some(none))", "(some (some none))");
  PARSE_OK("x", "x");
}
END_TEST

START_TEST(test_tuples_lists_parens) {
  PARSE_OK("(1)", "1");
  PARSE_OK("((x))", "x");
  PARSE_OK("(1, 2)", "(tuple 1 2)");
  PARSE_OK("(1, \"a\", x,)", "(tuple 1 \"a\" x)");
  PARSE_OK("((1, 2), 3)", "(tuple (tuple 1 2) 3)");
  PARSE_OK("[]", "(list)");
  PARSE_OK("[1]", "(list 1)");
  PARSE_OK("[1, 2, 3,]", "(list 1 2 3)");
  PARSE_OK("[[1], []]", "(list (list 1) (list))");
  PARSE_OK("[\n  1,\n  2\n]", "(list 1 2)");
}
END_TEST

START_TEST(test_records) {
  PARSE_OK("Point { x: 1, y: 2 }", "(record Point (x 1) (y 2))");
  PARSE_OK("Point { y: 2, x: 1, }", "(record Point (y 2) (x 1))");
  PARSE_OK("E {}", "(record E)");
  PARSE_OK("P {\n  x: 1,\n  y: Q { z: [] }\n}", "(record P (x 1) (y (record Q (z (list)))))");
  PARSE_OK("P { x: 1 }.x", "(field (record P (x 1)) x)");
}
END_TEST

START_TEST(test_ascription) {
  PARSE_OK("(none: int?)", "(as none (option int))");
  PARSE_OK("([]: [string])", "(as (list) (list string))");
  PARSE_OK("(x: (int, [string?]))", "(as x (tuple int (list (option string))))");
  PARSE_OK("(x: int?\?)", "(as x (option (option int)))");
  PARSE_OK("(x: int??\?)", "(as x (option (option (option int))))");
  PARSE_OK("(x: stream<int>)", "(as x (stream int))");
  PARSE_OK("(x: [stream<(string, int)>])", "(as x (list (stream (tuple string int))))");
  PARSE_OK("(x: (int))", "(as x int)");
  PARSE_OK("(a + 1: int)", "(as (+ a 1) int)");
}
END_TEST

START_TEST(test_postfix) {
  PARSE_OK("a.b.c", "(field (field a b) c)");
  PARSE_OK("x.1.0", "(index (index x 1) 0)");
  PARSE_OK("t.0.name", "(field (index t 0) name)");
  PARSE_OK("xs[0][i + 1]", "(subscript (subscript xs 0) (+ i 1))");
  PARSE_OK("f()", "(call f)");
  PARSE_OK("f(1)(2)", "(call (call f 1) 2)");
  PARSE_OK("x!", "(! x)");
  PARSE_OK("x!!.y!", "(! (field (! (! x)) y))");
  PARSE_OK("parseInt(s)!", "(! (call parseInt s))");
  PARSE_OK("a.b(c).d[0]!", "(! (subscript (field (call (field a b) c) d) 0))");
  PARSE_OK("(1, 2).0", "(index (tuple 1 2) 0)");
  PARSE_OK("xs\n  .map(f)\n  // comment\n\n  .filter(g)",
           "(call (field (call (field xs map) f) filter) g)");
}
END_TEST

START_TEST(test_calls) {
  PARSE_OK("f(1, 2)", "(call f 1 2)");
  PARSE_OK("f(1, 2,)", "(call f 1 2)");
  PARSE_OK("s.mapWithState(f, timeout: 30m)",
           "(call (field s mapWithState) f (named timeout 1800000ms))");
  PARSE_OK("f(a: 1, b: 2,)", "(call f (named a 1) (named b 2))");
  PARSE_OK("textFiles(\"d\", newFilesOnly: true)",
           "(call textFiles \"d\" (named newFilesOnly true))");
  PARSE_OK("f(\n  1,\n  x: 2\n)", "(call f 1 (named x 2))");
  PARSE_OK("f(x => x, y: z => z)", "(call f (lambda (x) x) (named y (lambda (z) z)))");
}
END_TEST

START_TEST(test_precedence) {
  PARSE_OK("1 + 2 * 3", "(+ 1 (* 2 3))");
  PARSE_OK("1 * 2 + 3", "(+ (* 1 2) 3)");
  PARSE_OK("a - b - c", "(- (- a b) c)");
  PARSE_OK("a / b % c * d", "(* (% (/ a b) c) d)");
  PARSE_OK("-a * b", "(* (neg a) b)");
  PARSE_OK("- -a", "(neg (neg a))");
  PARSE_OK("-x.y", "(neg (field x y))");
  PARSE_OK("-x!", "(neg (! x))");
  PARSE_OK("a + b == c * d", "(== (+ a b) (* c d))");
  PARSE_OK("a < b and c >= d", "(and (< a b) (>= c d))");
  PARSE_OK("not a == b", "(not (== a b))");
  PARSE_OK("not not a", "(not (not a))");
  PARSE_OK("not a and b", "(and (not a) b)");
  PARSE_OK("a and b or c and d", "(or (and a b) (and c d))");
  PARSE_OK("a or b or c", "(or (or a b) c)");
  PARSE_OK("a ?? b or c", "(?? a (or b c))");
  PARSE_OK("a ?? b ?? c", "(?? a (?? b c))");
  PARSE_OK("(s ?? 0) + 1", "(+ (?? s 0) 1)");
  PARSE_OK("a != b; a <= b; a > b", "(!= a b)\n(<= a b)\n(> a b)");
  PARSE_OK("a +\n  b", "(+ a b)");
}
END_TEST

START_TEST(test_lambdas) {
  PARSE_OK("x => x + 1", "(lambda (x) (+ x 1))");
  PARSE_OK("(a, b) => a + b", "(lambda (a b) (+ a b))");
  PARSE_OK("() => 1", "(lambda () 1)");
  PARSE_OK("(x) => x", "(lambda (x) x)");
  PARSE_OK("(x: int, y) => x", "(lambda ((x int) y) x)");
  PARSE_OK("(x: (int, string)?) => x", "(lambda ((x (option (tuple int string)))) x)");
  PARSE_OK("x => y => x", "(lambda (x) (lambda (y) x))");
  PARSE_OK("x => x ?? 0", "(lambda (x) (?? x 0))");
  PARSE_OK("x => {\n  let y = x\n  y\n}", "(lambda (x) (block (let y x) y))");
  PARSE_OK("xs.map((k, v) => (k, v * 2))",
           "(call (field xs map) (lambda (k v) (tuple k (* v 2))))");
  PARSE_OK("(x => x)", "(lambda (x) x)");
  PARSE_OK("f(x =>\n  x)", "(call f (lambda (x) x))");
}
END_TEST

START_TEST(test_if_and_blocks) {
  PARSE_OK("if c { 1 } else { 2 }", "(if c (block 1) (block 2))");
  PARSE_OK("if a { 1 } else if b { 2 } else { 3 }",
           "(if a (block 1) (if b (block 2) (block 3)))");
  PARSE_OK("if a {\n  1\n}\nelse {\n  2\n}", "(if a (block 1) (block 2))");
  PARSE_OK("if a { 1 } // c\nelse if b { 2 }\n\nelse { 3 }",
           "(if a (block 1) (if b (block 2) (block 3)))");
  PARSE_OK("if x > 0 and y { P { a: 1 } } else { P { a: 2 } }",
           "(if (and (> x 0) y) (block (record P (a 1))) (block (record P (a 2))))");
  PARSE_OK("if p == (P { a: 1 }) { 1 } else { 2 }",
           "(if (== p (record P (a 1))) (block 1) (block 2))");
  PARSE_OK("let v = if c { 1 } else { 2 } + 1", "(let v (+ (if c (block 1) (block 2)) 1))");
  PARSE_OK("{ 1 }", "(block 1)");
  PARSE_OK("let v = { let a = 1; let b = 2; a + b }",
           "(let v (block (let a 1) (let b 2) (+ a b)))");
  PARSE_OK("{\n\n  let a = 1;;\n\n  a;\n}", "(block (let a 1) a)");
  PARSE_OK("{ { 1 } }", "(block (block 1))");
  PARSE_OK("{ f(a)\n  g(b) }", "(block (call f a) (call g b))");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Where nodes point                                                   */
/* ------------------------------------------------------------------ */

START_TEST(test_locations) {
  Program *p = parse("let total = a + b * c");
  ck_assert_str_eq(errs, "");
  Stmt *s = stmt(p, 0);
  ck_assert_str_eq(L(s->loc), "1:1");
  ck_assert_str_eq(L(s->name_loc), "1:5");
  ck_assert_str_eq(L(s->let->loc), "1:5");
  ck_assert_ptr_eq(s->let->stmt, s);
  Expr *e = s->value;
  ck_assert_int_eq(e->kind, EX_BINARY);
  ck_assert_str_eq(L(e->loc), "1:13");    /* the left operand's start */
  ck_assert_str_eq(L(e->op_loc), "1:15"); /* the operator */
  ck_assert_str_eq(L(e->rhs->loc), "1:17");
  ck_assert_str_eq(L(e->rhs->op_loc), "1:19");
  ck_assert_str_eq(L(e->end), "1:22");
  ck_assert_int_eq(e->depth, 3);

  p = parse("  lines.map(f).reduceByKey(g)");
  e = value(p, 0);
  ck_assert_str_eq(L(stmt(p, 0)->loc), "1:3");
  ck_assert_int_eq(e->kind, EX_CALL);
  ck_assert_str_eq(L(e->loc), "1:3");      /* the callee's start */
  ck_assert_int_eq(e->lhs->kind, EX_FIELD);
  ck_assert_str_eq(L(e->lhs->loc), "1:16"); /* the method name */
  ck_assert_str_eq(L(e->op_loc), "1:16");
  ck_assert(str_eq(e->name, "reduceByKey"));
  ck_assert_str_eq(L(((Arg *)e->args.items[0])->loc), "1:28");

  p = parse("f(1, n: 2)");
  e = value(p, 0);
  ck_assert(str_eq(e->name, "f"));
  ck_assert_str_eq(L(e->op_loc), "1:1");
  ck_assert_str_eq(L(((Arg *)e->args.items[0])->loc), "1:3");
  ck_assert_str_eq(L(((Arg *)e->args.items[1])->loc), "1:6"); /* the name */
  ck_assert(str_eq(((Arg *)e->args.items[1])->name, "n"));

  p = parse("x.1\nxs[2]\nx!\n-x\nnot x\nsome(x)\n(a, b)\n[a]\nP { f: 1 }\n{ 1 }");
  ck_assert_str_eq(errs, "");
  ck_assert_str_eq(L(value(p, 0)->loc), "1:3");   /* the index */
  ck_assert_str_eq(L(value(p, 1)->loc), "2:3");   /* '[' */
  ck_assert_str_eq(L(value(p, 2)->loc), "3:2");   /* '!' */
  ck_assert_str_eq(L(value(p, 3)->loc), "4:1");   /* '-' */
  ck_assert_str_eq(L(value(p, 4)->loc), "5:1");   /* 'not' */
  ck_assert_str_eq(L(value(p, 5)->loc), "6:1");   /* 'some' */
  ck_assert_str_eq(L(value(p, 6)->loc), "7:1");   /* '(' */
  ck_assert_str_eq(L(value(p, 7)->loc), "8:1");   /* '[' */
  ck_assert_str_eq(L(value(p, 8)->loc), "9:1");   /* the record name */
  FieldInit *fi = value(p, 8)->fields.items[0];
  ck_assert_str_eq(L(fi->loc), "9:5");
  ck_assert_str_eq(L(fi->value->loc), "9:8");
  ck_assert_str_eq(L(value(p, 9)->loc), "10:1"); /* '{' */

  p = parse("let v = if c {\n  1\n} else {\n  let a = 2\n  a\n}");
  e = value(p, 0);
  ck_assert_int_eq(e->kind, EX_IF);
  ck_assert_str_eq(L(e->loc), "1:9");
  ck_assert_str_eq(L(e->op_loc), "3:3"); /* 'else' */
  ck_assert_int_eq(e->rhs->kind, EX_BLOCK);
  Stmt *last = e->rhs->items.items[e->rhs->items.len - 1];
  ck_assert_str_eq(L(last->value->loc), "5:3"); /* the else branch's value */
  Stmt *let = e->rhs->items.items[0];
  ck_assert_int_eq(let->kind, SK_LET);
  ck_assert_str_eq(L(let->name_loc), "4:7");
  ck_assert_ptr_null(let->let); /* only top-level lets are bindings */

  p = parse("f((a, b: int) => a)");
  e = ((Arg *)value(p, 0)->args.items[0])->value;
  ck_assert_int_eq(e->kind, EX_LAMBDA);
  ck_assert_str_eq(L(e->loc), "1:3");
  ck_assert_str_eq(L(e->op_loc), "1:15");
  ck_assert_str_eq(L(((Param *)e->params.items[1])->loc), "1:7");
  ck_assert_str_eq(L(((Param *)e->params.items[1])->type->loc), "1:10");

  p = parse("fn f(a: [int]) -> int = 1\ntype T = { x: int? }\nset batch = 2s\n(x: int)");
  s = stmt(p, 0);
  ck_assert_str_eq(L(s->loc), "1:1");
  ck_assert_str_eq(L(s->name_loc), "1:4");
  ck_assert_str_eq(L(s->fn->loc), "1:4");
  ck_assert(str_eq(s->name, "f"));
  ck_assert_str_eq(L(((Param *)s->fn->params.items[0])->loc), "1:6");
  ck_assert_str_eq(L(((Param *)s->fn->params.items[0])->type->loc), "1:9");
  ck_assert_str_eq(L(s->fn->ret->loc), "1:19");
  s = stmt(p, 1);
  ck_assert_str_eq(L(s->rec->loc), "2:6");
  ck_assert(str_eq(s->name, "T"));
  ck_assert_str_eq(L(((FieldDecl *)s->rec->fields.items[0])->loc), "2:12");
  s = stmt(p, 2);
  ck_assert_str_eq(L(s->name_loc), "3:5");
  ck_assert_str_eq(L(s->value->loc), "3:13");
  ck_assert_str_eq(L(value(p, 3)->loc), "4:2"); /* an ascription: its value */
  ck_assert_str_eq(L(value(p, 3)->texpr->loc), "4:5");
}
END_TEST

START_TEST(test_values) {
  Program *p = parse("\"a\\u{e9}\\x00b\"; 1.25; 90s; x.3");
  ck_assert_int_eq((int)value(p, 0)->sval.len, 5);
  ck_assert_int_eq(memcmp(value(p, 0)->sval.ptr, "a\xc3\xa9\0b", 5), 0);
  ck_assert(value(p, 1)->fval == 1.25);
  ck_assert_int_eq(value(p, 2)->ival, 90000);
  ck_assert_int_eq(value(p, 3)->ival, 3);
  p = parse("true; false");
  ck_assert(value(p, 0)->bval);
  ck_assert(!value(p, 1)->bval);
}
END_TEST

START_TEST(test_depth) {
  Program *p = parse("1; -1; f(a + [b, (c, d.e)]); x => { y }");
  ck_assert_int_eq(value(p, 0)->depth, 1);
  ck_assert_int_eq(value(p, 1)->depth, 2);
  ck_assert_int_eq(value(p, 2)->depth, 6);
  ck_assert_int_eq(value(p, 3)->depth, 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Syntax errors                                                       */
/* ------------------------------------------------------------------ */

START_TEST(test_error_messages) {
  PARSE_ERR("let x = f(a b)", "1:13: expected ')' to close '(' at 1:10, found 'b'");
  PARSE_ERR("let x = [1, 2", "1:14: expected ']' to close '[' at 1:9, found end of input");
  PARSE_ERR("let x = (1\n\nlet y = 2",
            "3:1: expected ')' to close '(' at 1:9, found 'let'");
  PARSE_ERR("f(1,,2)", "1:5: expected expression or ')' to close '(' at 1:2, found ','");
  PARSE_ERR("f(a]", "1:4: expected ')' to close '(' at 1:2, found ']'");
  PARSE_ERR("P { x: 1 y: 2 }", "1:10: expected '}' to close '{' at 1:3, found 'y'");
  PARSE_ERR("x => {\n  let a = 1",
            "2:12: expected '}' to close '{' at 1:6, found end of input");
  PARSE_ERR("let x = (1 + )", "1:14: expected expression, found ')'");
  PARSE_ERR("let x = ", "1:9: expected expression, found end of input");
  PARSE_ERR("let x =\nlet y = 1", "2:1: expected expression, found 'let'");
  PARSE_ERR("let x = (a,)", "1:12: expected expression, found ')'");
  PARSE_ERR("let = 5", "1:5: expected a name after 'let', found '='");
  PARSE_ERR("fn (a: int) -> int = a", "1:4: expected a name after 'fn', found '('");
  PARSE_ERR("let x 5", "1:7: expected '=' after the name in 'let', found '5'");
  PARSE_ERR("set batch 1s", "1:11: expected '=' after the name in 'set', found '1s'");
  PARSE_ERR("fn f(a: int) = a",
            "1:14: expected '->' and the return type after the parameters of 'fn', found '='");
  PARSE_ERR("fn f(a, b: int) -> int = b", "1:7: expected ':' and a type after parameter 'a' "
                                         "(fn parameters need types), found ','");
  PARSE_ERR("fn f(a: int, b) -> int = b", "1:15: expected ':' and a type after parameter 'b' "
                                          "(fn parameters need types), found ')'");
  PARSE_ERR("fn f(a: int) -> int a",
            "1:21: expected '=' or '{' before the body of 'fn', found 'a'");
  PARSE_ERR("let v = if c { 1 }\nlet w = 2",
            "1:19: expected 'else': an 'if' expression needs an else branch, found end of line");
  PARSE_ERR("if c x", "1:6: expected '{', found 'x'");
  PARSE_ERR("else { 1 }", "1:1: unexpected 'else'");
  PARSE_ERR(")", "1:1: unexpected ')'");
  PARSE_ERR("let x = 1)", "1:10: unexpected ')'");
  PARSE_ERR("= 1", "1:1: expected a statement, found '='");
  PARSE_ERR("let x = 1 2", "1:11: expected end of line or ';', found '2'");
  PARSE_ERR("a < b < c", "1:7: unexpected '<': comparisons do not chain; write 'a < b and b < c'");
  PARSE_ERR("a == b != c",
            "1:8: unexpected '!=': comparisons do not chain; write 'a < b and b < c'");
  PARSE_ERR("x.)", "1:3: expected a field name or a tuple index after '.', found ')'");
  PARSE_ERR("type P = Q", "1:10: expected a record type '{ name: Type, ... }' after '=' in "
                          "'type', found 'Q'");
  PARSE_ERR("type P = { x }", "1:14: expected ':', found '}'");
  PARSE_ERR("P { x 1 }", "1:7: expected ':', found '1'");
  PARSE_ERR("(x: int y)", "1:9: expected ')' to close '(' at 1:1, found 'y'");
  PARSE_ERR("let s = \"a\" \"b\"", "1:13: expected end of line or ';', found a string");
  PARSE_ERR("let x = fn", "1:9: expected expression, found 'fn'");
  PARSE_ERR("{ fn f() -> int = 1 }",
            "1:3: expected expression or '}' to close '{' at 1:1, found 'fn'");
  PARSE_ERR("(a, b) =>", "1:10: expected expression, found end of input");
  PARSE_ERR("let averylongidentifiernamethatgoesonandonandonforever 1",
            "1:56: expected '=' after the name in 'let', found '1'");
  PARSE_ERR("f(averylongidentifiernamethatgoesonandonandonforever_x y)",
            "1:56: expected ')' to close '(' at 1:2, found 'y'");
  PARSE_ERR("f(x averylongidentifiernamethatgoesonandonandonforever_x)",
            "1:5: expected ')' to close '(' at 1:2, found "
            "'averylongidentifiernamethatgoesonandonan...'");
}
END_TEST

START_TEST(test_constructor_errors) {
  PARSE_ERR("f(a: 1, 2)", "1:9: positional argument after the named argument 'a': positional "
                          "arguments come first");
  PARSE_ERR("let v = { let a = 1 }", "1:21: a block must end with an expression, its value");
  PARSE_ERR("let v = {}", "1:10: a block must end with an expression, its value");
  PARSE_ERR("let v = {\n  let a = 1\n}", "3:1: a block must end with an expression, its value");
  PARSE_ERR("let x = (y: list<int>)", "1:13: 'list' takes no type argument: only stream<T> does");
}
END_TEST

START_TEST(test_error_recovery) {
  /* One error per statement, and every bad statement is reported. */
  Program *p = parse("let a = )\nlet b = 2\nlet = 3\nlet c = (1 +)\nlet d = 4");
  ck_assert_str_eq(errs, "1:9: expected expression, found ')'\n"
                         "3:5: expected a name after 'let', found '='\n"
                         "4:13: expected expression, found ')'");
  ck_assert_str_eq(dump, "(let b 2)\n(let d 4)");
  ck_assert_int_eq(p->stmts.len, 2);
  /* Errors right after another statement's error are reported too. */
  PARSE_ERR("let a = )\nlet = 1", "1:9: expected expression, found ')'\n"
                                 "2:5: expected a name after 'let', found '='");
  /* Recovery inside a block: the block's later items survive. */
  parse("let f = x => {\n  let a = 1 +* 2\n  let b = * 3\n  a\n}\nlet g = 1");
  ck_assert_str_eq(errs, "2:14: expected expression, found '*'\n"
                         "3:11: expected expression, found '*'");
  ck_assert_str_eq(dump, "(let f (lambda (x) (block a)))\n(let g 1)");
  /* An error at the end of input. */
  PARSE_ERR("let a = 1\nlet b = (", "2:10: expected expression, found end of input");
  PARSE_ERR("let a = 1\nlet b = f(", "2:11: expected expression or ')' to close '(' at 2:10, "
                                      "found end of input");
  /* A mismatched closer, then the next statement. */
  PARSE_ERR("let x = (1]\nlet y = [2)\nlet z = 3",
            "1:11: expected ')' to close '(' at 1:9, found ']'\n"
            "2:11: expected ']' to close '[' at 2:9, found ')'");
}
END_TEST

START_TEST(test_no_cascade_after_lexical_errors) {
  /* A bad token stands for an expression; nothing else is reported. */
  PARSE_ERR("let x = 5d + 1\nlet y = 2",
            "1:9: invalid number '5d': a number cannot be followed by letters (duration units "
            "are ms, s, m and h)");
  ck_assert_str_eq(dump, "(let x (+ <error> 1))\n(let y 2)");
  PARSE_ERR("let s = \"abc\nlet t = 1",
            "1:9: unterminated string literal: a string ends on the line it starts (write \\n "
            "for a newline)");
  ck_assert_str_eq(dump, "(let s <error>)\n(let t 1)");
  PARSE_ERR("let x = a @ b\nlet y = 1", "1:11: unexpected character '@'");
  ck_assert_str_eq(dump, "(let y 1)");
  PARSE_ERR("let x = (1, \"\\q\", 3)", "1:14: invalid escape '\\q' in a string");
  PARSE_ERR("let x = 1 /* never\n closed", "1:11: unterminated comment: '/*' without '*/'");
  ck_assert_str_eq(dump, "(let x 1)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Robustness                                                          */
/* ------------------------------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail) {
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + ul * times + tl + 1);
  memcpy(s, head, hl);
  for (size_t i = 0; i < times; i++)
    memcpy(s + hl + i * ul, unit, ul);
  memcpy(s + hl + ul * times, tail, tl + 1);
  return s;
}

static void parse_owned(char *src) {
  parse(src);
  free(src);
}

START_TEST(test_deep_brackets) {
  char *s = repeat("let x = ", "(", 100000, "");
  size_t n = strlen(s);
  s = realloc(s, n + 100000 + 2);
  memset(s + n, ')', 100000);
  s[n + 100000] = '\0';
  parse_owned(s);
  ck_assert_str_eq(errs, "1:265: too deeply nested: more than 256 open brackets");
  parse_owned(repeat("f(", "[{", 200000, ""));
  ck_assert_str_eq(errs, "1:258: too deeply nested: more than 256 open brackets");
  /* Exactly at the limit is fine. */
  char *ok = repeat("", "(", 256, "1");
  char *ok2 = repeat(ok, ")", 256, "");
  free(ok);
  parse_owned(ok2);
  ck_assert_str_eq(errs, "");
  ck_assert_str_eq(dump, "1");
}
END_TEST

START_TEST(test_deep_expressions) {
  /* A million terms, left-deep, no brackets. */
  parse_owned(repeat("let x = 1", "+1", 1000000, "\nlet y = 2"));
  ck_assert_str_eq(errs, "1:2008: expression too deeply nested");
  ck_assert_str_eq(dump, "(let x <error>)\n(let y 2)");
  /* Right-deep and prefix chains overflow the parser stack instead. */
  parse_owned(repeat("let x = ", "- ", 1000000, "1"));
  ck_assert_int_eq(nerrors, 1);
  ck_assert_ptr_nonnull(strstr(errs, "expression too deeply nested"));
  parse_owned(repeat("let x = ", "a ?? ", 1000000, "1"));
  ck_assert_int_eq(nerrors, 1);
  ck_assert_ptr_nonnull(strstr(errs, "expression too deeply nested"));
  parse_owned(repeat("let x = ", "not ", 1000000, "1"));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("let x = ", "x => ", 1000000, "1"));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("let x = 1", "!", 1000000, ""));
  ck_assert_str_eq(errs, "1:1009: expression too deeply nested");
  parse_owned(repeat("let x = a", ".b", 1000000, ""));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("let x = f", "()", 1000000, ""));
  ck_assert_str_eq(errs, "1:9: expression too deeply nested");
  /* With arguments, the program also grows too large. */
  parse_owned(repeat("let x = f", "(1)", 1000000, ""));
  ck_assert_int_eq(nerrors, 2);
  parse_owned(repeat("let x = ", "if c { 1 } else ", 1000000, "{ 2 }"));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("let x = (a: int", "?", 1000000, ")"));
  ck_assert_str_eq(errs, "1:13: type too deeply nested");
  /* Just under the limit is accepted. */
  parse_owned(repeat("let x = 1", "+1", AST_MAX_DEPTH - 2, ""));
  ck_assert_str_eq(errs, "");
}
END_TEST

START_TEST(test_huge_inputs) {
  /* 10 MB lines of different kinds. */
  size_t n = 10 * 1024 * 1024;
  parse_owned(repeat("let s = \"", "a", n, "\"\ns.print()"));
  ck_assert_str_eq(errs, "");
  parse_owned(repeat("// ", "x", n, "\nlet a = 1"));
  ck_assert_str_eq(dump, "(let a 1)");
  parse_owned(repeat("let ", "a", n, " = 1"));
  ck_assert_str_eq(errs, "");
  parse_owned(repeat("let x = [", "1,", n / 2, "1]"));
  ck_assert_int_eq(nerrors, 1);
  ck_assert_ptr_nonnull(strstr(errs, "program too large"));
  parse_owned(repeat("", "x;", n / 2, ""));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("let x = ", "(a, ", n / 4, "1"));
  ck_assert_int_eq(nerrors, 1);
  parse_owned(repeat("", "5d ", n / 3, ""));
  ck_assert_int_eq(nerrors, (int)(n / 3));
  parse_owned(repeat("", "@", n, ""));
  ck_assert_int_eq(nerrors, (int)n);
  parse_owned(repeat("", "if ", n / 3, ""));
  ck_assert_int_ge(nerrors, 1);
  parse_owned(repeat("", "\n", n, "x"));
  ck_assert_str_eq(dump, "x");
}
END_TEST

START_TEST(test_bad_bytes) {
  parsen("let a = 1\0\0 + 2\nlet b = 3", 25);
  ck_assert_str_eq(errs, "1:10: unexpected NUL byte");
  ck_assert_str_eq(dump, "(let b 3)");
  parsen("\0", 1);
  ck_assert_str_eq(errs, "1:1: unexpected NUL byte");
  parse("let a = \xff\xfe\nlet b = \xc3\xa9");
  ck_assert_str_eq(errs, "1:9: invalid UTF-8 (byte 0xFF)\n"
                         "1:10: invalid UTF-8 (byte 0xFE)\n"
                         "2:9: unexpected character '\xc3\xa9' (U+00E9)");
  parse("\xEF\xBB\xBFlet x = 1");
  ck_assert_str_eq(errs, "");
  ck_assert_str_eq(dump, "(let x 1)");
  /* Every byte value, alone and after a statement start: never a crash. */
  for (int c = 0; c < 256; c++) {
    char src[16];
    src[0] = (char)c;
    parsen(src, 1);
    memcpy(src, "let x = ", 8);
    src[8] = (char)c;
    parsen(src, 9);
    ck_assert_int_ge(nerrors, 0);
  }
}
END_TEST

START_TEST(test_empty_file) {
  Program *p = parse("");
  ck_assert_int_eq(nerrors, 0);
  ck_assert_int_eq(p->stmts.len, 0);
  ck_assert_ptr_eq(p->src, &source);
  p = parse("\n  // just a comment\n");
  ck_assert_int_eq(nerrors, 0);
  ck_assert_int_eq(p->stmts.len, 0);
}
END_TEST

/* Every prefix of a valid program parses without a crash, and so does
 * every program with one byte removed. */
START_TEST(test_prefixes_and_deletions) {
  const char *prog =
      "set batch = 1s\ntype P = { x: int, y: string? }\n"
      "fn f(a: int, b: (int, [P])) -> int {\n  let c = a * 2; c + b.0\n}\n"
      "let s = socket(\"h\", 1).map(l => P { x: len(l), y: some(l) })\n"
      "  .filter((p: P) => if p.x > 1 { true } else { false })\n"
      "s.window(30s, 10s).print(5)  // done\n";
  size_t n = strlen(prog);
  char buf[512];
  for (size_t i = 0; i <= n; i++) {
    parsen(prog, i);
    memcpy(buf, prog, i);
    memcpy(buf + i, prog + i + (i < n), n - i - (i < n));
    parsen(buf, n - (i < n));
  }
  parse(prog);
  ck_assert_str_eq(errs, "");
}
END_TEST

static Suite *parser_suite(void) {
  Suite *s = suite_create("parser");
  TCase *tc = tcase_create("syntax");
  tcase_add_test(tc, test_statements);
  tcase_add_test(tc, test_first_program);
  tcase_add_test(tc, test_literals);
  tcase_add_test(tc, test_tuples_lists_parens);
  tcase_add_test(tc, test_records);
  tcase_add_test(tc, test_ascription);
  tcase_add_test(tc, test_postfix);
  tcase_add_test(tc, test_calls);
  tcase_add_test(tc, test_precedence);
  tcase_add_test(tc, test_lambdas);
  tcase_add_test(tc, test_if_and_blocks);
  tcase_add_test(tc, test_locations);
  tcase_add_test(tc, test_values);
  tcase_add_test(tc, test_depth);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_error_messages);
  tcase_add_test(tc, test_constructor_errors);
  tcase_add_test(tc, test_error_recovery);
  tcase_add_test(tc, test_no_cascade_after_lexical_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("robustness");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_deep_brackets);
  tcase_add_test(tc, test_deep_expressions);
  tcase_add_test(tc, test_huge_inputs);
  tcase_add_test(tc, test_bad_bytes);
  tcase_add_test(tc, test_empty_file);
  tcase_add_test(tc, test_prefixes_and_deletions);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(parser_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  arena_free(&arena);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
