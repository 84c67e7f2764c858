/*
 * check_lexer.c — unit tests of lexer.re: every token kind, literal values,
 * escapes, durations, the newline rules of LANGUAGE.md §2, the '{' and '('
 * classification, lexical errors and their positions, and robustness on
 * hostile input (NULs, invalid UTF-8, deep nesting, huge lines).
 *
 * Each test lexes a string into a compact line of tokens — identifiers bare,
 * keywords in capitals, punctuation as spelled, literals as KIND:value,
 * NL for a statement-ending newline, '(L' for a lambda's '(' and '{R' for a
 * record's '{' — and compares it, and the diagnostics, with what is expected.
 */
#include "dsc.h"
#include "parser.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char errs[8192]; /* "line:col: message" lines of the last lex() */

/* Keeps "L:C: message" of each "path:L:C: error: message" line. */
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

static const char *kind_name(int k) {
  switch (k) {
  case TK_LET: return "LET";
  case TK_FN: return "FN";
  case TK_TYPE: return "TYPE";
  case TK_SET: return "SET";
  case TK_IF: return "IF";
  case TK_ELSE: return "ELSE";
  case TK_TRUE: return "TRUE";
  case TK_FALSE: return "FALSE";
  case TK_NONE: return "NONE";
  case TK_SOME: return "SOME";
  case TK_AND: return "AND";
  case TK_OR: return "OR";
  case TK_NOT: return "NOT";
  case TK_NEWLINE: return "NL";
  case TK_BAD: return "BAD";
  case TK_LPAREN: return "(";
  case TK_LPAREN_LAMBDA: return "(L";
  case TK_RPAREN: return ")";
  case TK_LBRACKET: return "[";
  case TK_RBRACKET: return "]";
  case TK_LBRACE: return "{";
  case TK_LBRACE_REC: return "{R";
  case TK_RBRACE: return "}";
  case TK_COMMA: return ",";
  case TK_DOT: return ".";
  case TK_COLON: return ":";
  case TK_SEMI: return ";";
  case TK_ASSIGN: return "=";
  case TK_FATARROW: return "=>";
  case TK_ARROW: return "->";
  case TK_PLUS: return "+";
  case TK_MINUS: return "-";
  case TK_STAR: return "*";
  case TK_SLASH: return "/";
  case TK_PERCENT: return "%";
  case TK_EQ: return "==";
  case TK_NE: return "!=";
  case TK_LT: return "<";
  case TK_LE: return "<=";
  case TK_GT: return ">";
  case TK_GE: return ">=";
  case TK_COALESCE: return "??";
  case TK_QUESTION: return "?";
  case TK_BANG: return "!";
  default: return "???";
  }
}

/* Appends one token to buf in the compact form. */
static void put_token(char *buf, size_t size, int k, const TokenValue *v) {
  size_t used = strlen(buf);
  const char *sep = used ? " " : "";
  switch (k) {
  case TK_IDENT:
    snprintf(buf + used, size - used, "%s%.*s", sep, (int)v->text.len, v->text.ptr);
    break;
  case TK_INT:
    snprintf(buf + used, size - used, "%sINT:%lld", sep, (long long)v->ival);
    break;
  case TK_DURATION:
    snprintf(buf + used, size - used, "%sDUR:%lld", sep, (long long)v->ival);
    break;
  case TK_FLOAT:
    snprintf(buf + used, size - used, "%sFLOAT:%.17g", sep, v->fval);
    break;
  case TK_STRING: {
    /* Escape what would be unreadable, so tests can spell decoded bytes. */
    char s[512];
    size_t n = 0;
    for (size_t i = 0; i < v->sval.len && n + 5 < sizeof s; i++) {
      unsigned char c = (unsigned char)v->sval.ptr[i];
      if (c < 0x20 || c >= 0x7F || c == '\\')
        n += (size_t)snprintf(s + n, sizeof s - n, "\\x%02x", c);
      else
        s[n++] = (char)c;
    }
    s[n] = '\0';
    snprintf(buf + used, size - used, "%sSTR:\"%s\"", sep, s);
    break;
  }
  default:
    snprintf(buf + used, size - used, "%s%s", sep, kind_name(k));
  }
}

static char toks[16384];

/* Lexes len bytes of src to the end; returns the compact token line. */
static const char *lexn(const char *src, size_t len) {
  Arena a = {0};
  char *text = arena_strndup(&a, src, len);
  Source s = {.path = "t.ds", .text = text, .len = len};
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  Diags d = {.src = &s, .out = f};
  Lexer *lx = lexer_new(&a, &s, &d);
  toks[0] = '\0';
  TokenValue v;
  Loc loc;
  int k, n = 0;
  while ((k = lexer_next(lx, &v, &loc)) != TK_END && n++ < 100000)
    put_token(toks, sizeof toks, k, &v);
  fclose(f);
  collect_errors(out);
  free(out);
  arena_free(&a);
  return toks;
}

static const char *lex(const char *src) {
  return lexn(src, strlen(src));
}

/* The location of the n-th token (0-based) of src, as "L:C". */
static char locbuf[32];
static const char *loc_of(const char *src, int n) {
  Arena a = {0};
  Source s = {.path = "t.ds", .text = src, .len = strlen(src)};
  FILE *f = fopen("/dev/null", "w");
  Diags d = {.src = &s, .out = f};
  Lexer *lx = lexer_new(&a, &s, &d);
  TokenValue v;
  Loc loc = {0, 0};
  for (int i = 0; i <= n; i++)
    if (lexer_next(lx, &v, &loc) == TK_END)
      break;
  snprintf(locbuf, sizeof locbuf, "%d:%d", loc.line, loc.col);
  fclose(f);
  arena_free(&a);
  return locbuf;
}

#define LEX_OK(src, expected)                                                                   \
  do {                                                                                          \
    ck_assert_str_eq(lex(src), expected);                                                       \
    ck_assert_str_eq(errs, "");                                                                 \
  } while (0)

#define LEX_ERR(src, expected, errors)                                                          \
  do {                                                                                          \
    ck_assert_str_eq(lex(src), expected);                                                       \
    ck_assert_str_eq(errs, errors);                                                             \
  } while (0)

/* ------------------------------------------------------------------ */

START_TEST(test_identifiers_and_keywords) {
  LEX_OK("x _a1 A_b snake_case CamelCase", "x _a1 A_b snake_case CamelCase");
  LEX_OK("let fn type set if else true false none some and or not",
         "LET FN TYPE SET IF ELSE TRUE FALSE NONE SOME AND OR NOT");
  /* A keyword is only a whole word. */
  LEX_OK("letter iffy fnord nonex someone android order nothing types settle elsewhere",
         "letter iffy fnord nonex someone android order nothing types settle elsewhere");
  LEX_OK("stream int string", "stream int string");
}
END_TEST

START_TEST(test_punctuation) {
  LEX_OK("( ) [ ] , . : ; = => -> + - * / % == != < <= > >= ?? ? !",
         "( ) [ ] , . : ; = => -> + - * / % == != < <= > >= ?? ? !");
  LEX_OK("{ }", "{ }");
  /* Longest match, no spaces needed. */
  LEX_OK("a==b!=c<=d>=e=>f->g??h", "a == b != c <= d >= e => f -> g ?? h");
  LEX_OK("a=-b", "a = - b");
  LEX_OK("x!.y", "x ! . y");
  LEX_OK("int???", "int ?? ?");
}
END_TEST

START_TEST(test_integers) {
  LEX_OK("0 42 1_000_000 0xff 0XFF 0x7fffffffffffffff 0xdead_beef",
         "INT:0 INT:42 INT:1000000 INT:255 INT:255 INT:9223372036854775807 INT:3735928559");
  LEX_OK("9223372036854775807", "INT:9223372036854775807");
  LEX_OK("007", "INT:7");
}
END_TEST

START_TEST(test_integer_overflow) {
  LEX_ERR("x = 9223372036854775808", "x = BAD",
          "1:5: integer literal '9223372036854775808' does not fit in 64 bits");
  LEX_ERR("x = 0x8000000000000000", "x = BAD",
          "1:5: integer literal '0x8000000000000000' does not fit in 64 bits");
  LEX_ERR("99999999999999999999999 + 1", "BAD + INT:1",
          "1:1: integer literal '99999999999999999999999' does not fit in 64 bits");
}
END_TEST

START_TEST(test_floats) {
  LEX_OK("1.5 2e9 1.5e+20 1e-3 0.5 1_000.25 2E3", "FLOAT:1.5 FLOAT:2000000000 FLOAT:1.5e+20 "
                                                 "FLOAT:0.001 FLOAT:0.5 FLOAT:1000.25 FLOAT:2000");
  /* ".5" is not a float: a '.' and then a tuple index. */
  LEX_OK(".5", ". INT:5");
  /* "1." is an int and a '.'; so is "1.x" (a field of an int). */
  LEX_OK("1.x", "INT:1 . x");
  LEX_ERR("1e999", "BAD", "1:1: float literal '1e999' is too large");
}
END_TEST

START_TEST(test_tuple_index_after_dot) {
  LEX_OK("x.1.0", "x . INT:1 . INT:0");
  LEX_OK("x.0", "x . INT:0");
  LEX_OK("t.12.3.4", "t . INT:12 . INT:3 . INT:4");
  LEX_OK("(a, b).1", "( a , b ) . INT:1");
  LEX_OK("x. 1", "x . INT:1");
  /* Only right after a '.'. */
  LEX_OK("x.1 1.0", "x . INT:1 FLOAT:1");
  LEX_ERR("x.1e5", "x . BAD", "1:3: invalid tuple index '1e5'");
  LEX_ERR("x.1_0", "x . BAD", "1:3: invalid tuple index '1_0'");
}
END_TEST

START_TEST(test_strings) {
  LEX_OK("\"\"", "STR:\"\"");
  LEX_OK("\"hello, world\"", "STR:\"hello, world\"");
  LEX_OK("\"a\\nb\\tc\\rd\"", "STR:\"a\\x0ab\\x09c\\x0dd\"");
  LEX_OK("\"q\\\"q\"", "STR:\"q\"q\"");
  LEX_OK("\"back\\\\slash\"", "STR:\"back\\x5cslash\"");
  LEX_OK("\"nul\\0\"", "STR:\"nul\\x00\"");
  LEX_OK("\"\\x41\\x7a\\xff\"", "STR:\"Az\\xff\"");
  LEX_OK("\"\\u{41}\\u{e9}\\u{20AC}\\u{1F600}\\u{10FFFF}\\u{000041}\"",
         "STR:\"A\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80\\xf4\\x8f\\xbf\\xbfA\"");
  /* Strings are bytes: raw UTF-8, and even invalid UTF-8, pass through. */
  LEX_OK("\"caf\xc3\xa9\"", "STR:\"caf\\xc3\\xa9\"");
  LEX_OK("\"\xff\xfe\"", "STR:\"\\xff\\xfe\"");
  LEX_OK("\"// not a comment /* */\"", "STR:\"// not a comment /* */\"");
  LEX_OK("\"a\" + \"b\"", "STR:\"a\" + STR:\"b\"");
}
END_TEST

START_TEST(test_string_errors) {
  /* Bad escapes point at the backslash; the string is one bad token. */
  LEX_ERR("x = \"a\\qb\"", "x = BAD", "1:7: invalid escape '\\q' in a string");
  LEX_ERR("\"\\x4\"", "BAD", "1:2: invalid escape: '\\x' takes two hex digits, as in '\\x41'");
  LEX_ERR("\"\\xg0\"", "BAD", "1:2: invalid escape: '\\x' takes two hex digits, as in '\\x41'");
  LEX_ERR("\"\\u41\"", "BAD",
          "1:2: invalid escape: '\\u' takes 1 to 6 hex digits in braces, as in '\\u{e9}'");
  LEX_ERR("\"\\u{}\"", "BAD",
          "1:2: invalid escape: '\\u' takes 1 to 6 hex digits in braces, as in '\\u{e9}'");
  LEX_ERR("\"\\u{1234567}\"", "BAD",
          "1:2: invalid escape: '\\u' takes 1 to 6 hex digits in braces, as in '\\u{e9}'");
  LEX_ERR("\"\\u{41\"", "BAD",
          "1:2: invalid escape: '\\u' takes 1 to 6 hex digits in braces, as in '\\u{e9}'");
  LEX_ERR("\"\\u{D800}\"", "BAD",
          "1:2: invalid escape: U+D800 is not a Unicode scalar value (a surrogate)");
  LEX_ERR("\"\\u{DFFF}\"", "BAD",
          "1:2: invalid escape: U+DFFF is not a Unicode scalar value (a surrogate)");
  LEX_ERR("\"\\u{110000}\"", "BAD",
          "1:2: invalid escape: U+110000 is not a Unicode scalar value (the largest is U+10FFFF)");
  /* Every bad escape of a string is reported. */
  LEX_ERR("\"\\a\\b\"", "BAD",
          "1:2: invalid escape '\\a' in a string\n1:4: invalid escape '\\b' in a string");
  /* A raw newline ends the string with an error at its opening quote; the
   * next line lexes normally. */
  LEX_ERR("let s = \"abc\nlet t = 1", "LET s = BAD NL LET t = INT:1",
          "1:9: unterminated string literal: a string ends on the line it starts "
          "(write \\n for a newline)");
  LEX_ERR("s = \"abc\\\ndef\"", "s = BAD NL def BAD",
          "1:5: unterminated string literal: a string ends on the line it starts (write \\n for "
          "a newline)\n2:4: unterminated string literal");
  LEX_ERR("x = \"abc", "x = BAD", "1:5: unterminated string literal");
  LEX_ERR("x = \"abc\\", "x = BAD", "1:5: unterminated string literal");
  LEX_ERR("\"", "BAD", "1:1: unterminated string literal");
}
END_TEST

START_TEST(test_string_with_nul) {
  ck_assert_str_eq(lexn("\"a\0b\"", 5), "BAD");
  ck_assert_str_eq(errs, "1:3: NUL byte in a string (write \\0)");
}
END_TEST

START_TEST(test_durations) {
  LEX_OK("500ms 1s 5m 1h 1_000ms 0s", "DUR:500 DUR:1000 DUR:300000 DUR:3600000 DUR:1000 DUR:0");
  LEX_OK("30s, 10s)", "DUR:30000 , DUR:10000 )");
  LEX_OK("9223372036854775807ms", "DUR:9223372036854775807");
  LEX_OK("2562047788015h", "DUR:9223372036854000000");
  LEX_ERR("2562047788016h", "BAD",
          "1:1: duration literal '2562047788016h' does not fit in 64 bits of milliseconds");
  LEX_ERR("9223372036854775807s", "BAD",
          "1:1: duration literal '9223372036854775807s' does not fit in 64 bits of milliseconds");
  LEX_ERR("99999999999999999999ms", "BAD",
          "1:1: duration literal '99999999999999999999ms' does not fit in 64 bits of "
          "milliseconds");
}
END_TEST

START_TEST(test_number_followed_by_letters) {
  const char *why = "a number cannot be followed by letters (duration units are ms, s, m and h)";
  char want[256];
  snprintf(want, sizeof want, "1:6: invalid number '5d': %s", why);
  LEX_ERR("x = (5d)", "x = ( BAD )", want);
  snprintf(want, sizeof want, "1:1: invalid number '5sec': %s", why);
  LEX_ERR("5sec", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '5x': %s", why);
  LEX_ERR("5x", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '10mss': %s", why);
  LEX_ERR("10mss", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '1.5s': %s", why);
  LEX_ERR("1.5s", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '0xfg': %s", why);
  LEX_ERR("0xfg", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '0x': %s", why);
  LEX_ERR("0x", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '1_': %s", why);
  LEX_ERR("1_", "BAD", want);
  snprintf(want, sizeof want, "1:1: invalid number '5h2': %s", why);
  LEX_ERR("5h2 + 1", "BAD + INT:1", want);
}
END_TEST

START_TEST(test_comments) {
  LEX_OK("a // comment ( [ {\nb", "a NL b");
  LEX_OK("a /* ( [ { */ b", "a b");
  LEX_OK("// only a comment", "");
  LEX_OK("a /* x */ /* y */ + b", "a + b");
  /* Not nested: the first "*" "/" closes. */
  LEX_OK("a /* /* */ * / b", "a * / b");
  /* A newline inside a block comment is a newline. */
  LEX_OK("a /* one\ntwo */ b", "a NL b");
  LEX_OK("a // c1\n// c2\n\n/* c3 */ b", "a NL b");
  /* Comments may hold any bytes. */
  ck_assert_str_eq(lexn("a // \0\xff\n/* \0\xfe */ b", 18), "a NL b");
  ck_assert_str_eq(errs, "");
  LEX_ERR("a\n  /* never closed\n\nb", "a", "2:3: unterminated comment: '/*' without '*/'");
}
END_TEST

START_TEST(test_bom) {
  LEX_OK("\xEF\xBB\xBFlet x = 1", "LET x = INT:1");
  ck_assert_str_eq(loc_of("\xEF\xBB\xBFlet x = 1", 0), "1:1");
  ck_assert_str_eq(loc_of("\xEF\xBB\xBFlet x = 1", 1), "1:5");
  /* Only at the very start. */
  LEX_ERR("x \xEF\xBB\xBF", "x BAD", "1:3: unexpected character '\xEF\xBB\xBF' (U+FEFF)");
}
END_TEST

START_TEST(test_bad_bytes) {
  LEX_ERR("a @ b", "a BAD b", "1:3: unexpected character '@'");
  LEX_ERR("a # b $ c", "a BAD b BAD c",
          "1:3: unexpected character '#'\n1:7: unexpected character '$'");
  LEX_ERR("'a'", "BAD a BAD", "1:1: unexpected character '''; strings use double quotes\n"
                              "1:3: unexpected character '''; strings use double quotes");
  LEX_ERR("a \x01 b", "a BAD b", "1:3: unexpected control character 0x01");
  LEX_ERR("a \x7f", "a BAD", "1:3: unexpected control character 0x7F");
  LEX_ERR("caf\xc3\xa9", "caf BAD", "1:4: unexpected character '\xc3\xa9' (U+00E9)");
  LEX_ERR("x \xe2\x86\x92 y", "x BAD y", "1:3: unexpected character '\xe2\x86\x92' (U+2192)");
  LEX_ERR("x \xf0\x9f\x98\x80", "x BAD", "1:3: unexpected character '\xf0\x9f\x98\x80' (U+1F600)");
  /* Invalid UTF-8: one error per run of bad bytes. */
  LEX_ERR("a \xff\xfe b", "a BAD BAD b", "1:3: invalid UTF-8 (byte 0xFF)\n1:4: invalid UTF-8 (byte 0xFE)");
  LEX_ERR("a \x80\x80\x80 b", "a BAD b", "1:3: invalid UTF-8 (byte 0x80)");
  LEX_ERR("a \xc0\xaf b", "a BAD b", "1:3: invalid UTF-8 (byte 0xC0)");        /* overlong */
  LEX_ERR("a \xed\xa0\x80 b", "a BAD b", "1:3: invalid UTF-8 (byte 0xED)");    /* surrogate */
  LEX_ERR("a \xf4\x90\x80\x80 b", "a BAD b", "1:3: invalid UTF-8 (byte 0xF4)"); /* > 10FFFF */
  LEX_ERR("a \xe2\x82", "a BAD", "1:3: invalid UTF-8 (byte 0xE2)");            /* truncated */
}
END_TEST

START_TEST(test_nul_bytes) {
  ck_assert_str_eq(lexn("a\0b", 3), "a BAD b");
  ck_assert_str_eq(errs, "1:2: unexpected NUL byte");
  ck_assert_str_eq(lexn("a\0\0\0\0b", 6), "a BAD b");
  ck_assert_str_eq(errs, "1:2: unexpected NUL byte");
  ck_assert_str_eq(lexn("\0", 1), "BAD");
  ck_assert_str_eq(lexn("x = 1\n\0", 7), "x = INT:1 NL BAD");
  ck_assert_str_eq(errs, "2:1: unexpected NUL byte");
}
END_TEST

START_TEST(test_locations) {
  const char *src = "let x = 1\n\tfoo(\"s\", 10s)  // c\n";
  ck_assert_str_eq(loc_of(src, 0), "1:1");
  ck_assert_str_eq(loc_of(src, 1), "1:5");
  ck_assert_str_eq(loc_of(src, 3), "1:9");
  ck_assert_str_eq(loc_of(src, 4), "1:10"); /* the NEWLINE, at the newline byte */
  ck_assert_str_eq(loc_of(src, 5), "2:2");  /* a tab is one column */
  ck_assert_str_eq(loc_of(src, 6), "2:5");
  ck_assert_str_eq(loc_of(src, 7), "2:6");
  ck_assert_str_eq(loc_of(src, 9), "2:11");
  ck_assert_str_eq(loc_of(src, 10), "2:14");
  ck_assert_str_eq(loc_of(src, 11), "3:1"); /* end of input */
  ck_assert_str_eq(loc_of("a /* x\ny */ b", 2), "2:6");
  ck_assert_str_eq(loc_of("a\r\nb", 1), "1:3");
}
END_TEST

/* §2: where newlines end statements. */
START_TEST(test_newline_ends_statement) {
  LEX_OK("a\nb", "a NL b");
  LEX_OK("a\r\nb\r\n", "a NL b");
  LEX_OK("let x = 1\nx.print()\n", "LET x = INT:1 NL x . print ( )");
  /* Never at the start, twice in a row, after ';' or at the end. */
  LEX_OK("\n\n\na\n\n\nb\n\n", "a NL b");
  LEX_OK("a;\nb;\n", "a ; b ;");
  LEX_OK("a;;b", "a ; ; b");
  LEX_OK("  // c\n/* d */\n a", "a");
  /* Statement ends inside a block. */
  LEX_OK("x => {\n  let a = 1\n  a\n}", "x => { LET a = INT:1 NL a NL }");
  LEX_OK("{ a\n b }", "{ a NL b }");
}
END_TEST

START_TEST(test_newline_in_brackets) {
  /* (a) ignored in '(', '[' and a record's '{'. */
  LEX_OK("f(a\n, b\n)", "f ( a , b )");
  LEX_OK("[1\n,2\n]", "[ INT:1 , INT:2 ]");
  LEX_OK("P {\n x: 1\n ,y: 2\n}", "P {R x : INT:1 , y : INT:2 }");
  LEX_OK("type P = {\n x: int\n ,y: int\n}", "TYPE P = {R x : int , y : int }");
  /* A block inside parentheses has its own statement ends... */
  LEX_OK("f(x => {\n let a = x\n a\n})", "f ( x => { LET a = x NL a NL } )");
  /* ...and parentheses inside a block ignore them again. */
  LEX_OK("{ f(a\n) }", "{ f ( a ) }");
  /* After the bracket closes, newlines count again. */
  LEX_OK("f(a\n)\ng", "f ( a ) NL g");
}
END_TEST

START_TEST(test_newline_before_dot_or_else) {
  /* (b) the next line starts with '.' or 'else'. */
  LEX_OK("xs\n  .map(f)\n  .print()", "xs . map ( f ) . print ( )");
  LEX_OK("if a { b }\nelse { c }", "IF a { b } ELSE { c }");
  /* Blank lines and comments between are skipped. */
  LEX_OK("xs\n\n  // map them\n  /* really */\n  .map(f)", "xs . map ( f )");
  LEX_OK("if a { b } // then\n\n// otherwise\nelse { c }", "IF a { b } ELSE { c }");
  /* Only '.' and 'else': '..' no, 'elsewhere' no. */
  LEX_OK("a\nelsewhere", "a NL elsewhere");
  LEX_OK("a\n-b", "a NL - b");
  /* The token after the newline is delivered after the NEWLINE. */
  LEX_OK("a\n(b)", "a NL ( b )");
  /* Tuple index after a continued line. */
  LEX_OK("t\n.0", "t . INT:0");
}
END_TEST

START_TEST(test_newline_after_continuing_tokens) {
  /* (c) the line ends with a binary operator, '=', '=>', ',', '(', '[' or '{'. */
  LEX_OK("a +\nb", "a + b");
  LEX_OK("a -\nb *\nc /\nd %\ne", "a - b * c / d % e");
  LEX_OK("a ==\nb !=\nc <\nd <=\ne >\nf >=\ng", "a == b != c < d <= e > f >= g");
  LEX_OK("a and\nb or\nc ??\nd", "a AND b OR c ?? d");
  LEX_OK("let x =\n 1", "LET x = INT:1");
  LEX_OK("x =>\n x", "x => x");
  LEX_OK("{\n a }", "{ a }");
  LEX_OK("[\n1]", "[ INT:1 ]");
  LEX_OK("f(\na)", "f ( a )");
  /* But not after others: a postfix '!', a ')' or 'not' end the line. */
  LEX_OK("a!\nb", "a ! NL b");
  LEX_OK("f()\nb", "f ( ) NL b");
  LEX_OK("not\nb", "NOT NL b");
  LEX_OK("a ->\nb", "a -> NL b");
}
END_TEST

START_TEST(test_record_or_block_brace) {
  LEX_OK("Point { x: 1, y: 2 }", "Point {R x : INT:1 , y : INT:2 }");
  LEX_OK("type P = { x: int }", "TYPE P = {R x : int }");
  LEX_OK("if x { a } else { b }", "IF x { a } ELSE { b }");
  LEX_OK("if a { b } else if c { d } else { e }",
         "IF a { b } ELSE IF c { d } ELSE { e }");
  LEX_OK("if (x) { a } else { b }", "IF ( x ) { a } ELSE { b }");
  LEX_OK("if x.y { a } else { b }", "IF x . y { a } ELSE { b }");
  LEX_OK("fn f() -> Point { p }", "FN f ( ) -> Point { p }");
  LEX_OK("fn f(a: int) -> int? { a }", "FN f ( a : int ) -> int ? { a }");
  /* After the '=' of a fn, a name's '{' is a record again. */
  LEX_OK("fn f() -> P = P { x: 1 }", "FN f ( ) -> P = P {R x : INT:1 }");
  LEX_OK("x => { x }", "x => { x }");
  LEX_OK("let v = { let a = 1; a }", "LET v = { LET a = INT:1 ; a }");
  LEX_OK("{ P { x: 1 } }", "{ P {R x : INT:1 } }");
  /* In an if's condition a record literal needs parentheses (§5). */
  LEX_OK("if p == (P { x: 1 }) { a } else { b }",
         "IF p == ( P {R x : INT:1 } ) { a } ELSE { b }");
  LEX_OK("if p == P { x } else { y }", "IF p == P { x } ELSE { y }");
  /* An if inside an if's condition. */
  LEX_OK("if if a { b } else { c } == x { d } else { e }",
         "IF IF a { b } ELSE { c } == x { d } ELSE { e }");
  /* A finished if leaves later records alone. */
  LEX_OK("(if c { 1 } else { 2 }, P { x: 1 })",
         "( IF c { INT:1 } ELSE { INT:2 } , P {R x : INT:1 } )");
  LEX_OK("if c { P { x: 1 } } else { P { x: 2 } }",
         "IF c { P {R x : INT:1 } } ELSE { P {R x : INT:2 } }");
  /* A newline between a name and '{' ends the statement: a block follows. */
  LEX_OK("x\n{ a }", "x NL { a }");
  /* A statement end forgets a dangling 'if' or 'type'. */
  LEX_OK("if\nP { x: 1 }", "IF NL P {R x : INT:1 }");
  LEX_OK("type;P { x: 1 }", "TYPE ; P {R x : INT:1 }");
}
END_TEST

START_TEST(test_lambda_paren) {
  LEX_OK("(a, b) => a", "(L a , b ) => a");
  LEX_OK("() => 1", "(L ) => INT:1");
  LEX_OK("(x) => x", "(L x ) => x");
  LEX_OK("(x: int, y) => x", "(L x : int , y ) => x");
  LEX_OK("(a, b,) => a", "(L a , b , ) => a");
  LEX_OK("(x: (int, [string?]), y: stream<int>) => x",
         "(L x : ( int , [ string ? ] ) , y : stream < int > ) => x");
  LEX_OK("f(( a , /* c */ b\n )\n => a)", "f ( (L a , b ) => a )");
  /* At top level a newline before '=>' still ends the statement (§2). */
  LEX_OK("(a)\n=> a", "(L a ) NL => a");
  LEX_OK("xs.map((k, v) => v)", "xs . map ( (L k , v ) => v )");
  /* Not followed by '=>': a tuple or a parenthesised expression. */
  LEX_OK("(a, b)", "( a , b )");
  LEX_OK("(a, b) = c", "( a , b ) = c");
  LEX_OK("(a + b) => c", "( a + b ) => c");
  LEX_OK("(1, b) => c", "( INT:1 , b ) => c");
  LEX_OK("((a, b)) => c", "( ( a , b ) ) => c");
  LEX_OK("(a: int", "( a : int");
  LEX_OK("(a: [int) => a", "( a : [ int ) => a");
  LEX_OK("(a: int]) => a", "( a : int ] ) => a");
  LEX_ERR("(a /* unclosed", "( a", "1:4: unterminated comment: '/*' without '*/'");
}
END_TEST

/* Lexes src and reports the innermost open bracket afterwards. */
static const char *open_after(const char *src) {
  Arena a = {0};
  Source s = {.path = "t.ds", .text = src, .len = strlen(src)};
  FILE *f = fopen("/dev/null", "w");
  Diags d = {.src = &s, .out = f};
  Lexer *lx = lexer_new(&a, &s, &d);
  TokenValue v;
  Loc loc;
  while (lexer_next(lx, &v, &loc) != TK_END) {
  }
  char open;
  Loc at;
  if (lexer_open_bracket(lx, &open, &at))
    snprintf(locbuf, sizeof locbuf, "%c %d:%d", open, at.line, at.col);
  else
    snprintf(locbuf, sizeof locbuf, "none");
  fclose(f);
  arena_free(&a);
  return locbuf;
}

START_TEST(test_open_bracket) {
  ck_assert_str_eq(open_after(""), "none");
  ck_assert_str_eq(open_after("f(a, [b"), "[ 1:6");
  ck_assert_str_eq(open_after("f(a, [b]"), "( 1:2");
  ck_assert_str_eq(open_after("x => {\n P { a"), "{ 2:4");
  ck_assert_str_eq(open_after("(x) => (1"), "( 1:8");
  /* Mismatched closers pop (the parser reports them); extra ones do not underflow. */
  ck_assert_str_eq(open_after("f(a]"), "none");
  ck_assert_str_eq(open_after(")))]]]}}}"), "none");
  ck_assert_str_eq(open_after(")))(("), "( 1:5");
}
END_TEST

START_TEST(test_nesting_limit) {
  char src[600];
  memset(src, '(', 300);
  memcpy(src + 300, "x", 2);
  const char *t = lex(src);
  /* 256 '(' then the input ends, with one error at the 257th. */
  ck_assert_int_eq((int)strlen(t), 256 * 2 - 1);
  ck_assert_str_eq(errs, "1:257: too deeply nested: more than 256 open brackets");
  memset(src, '[', 256);
  memcpy(src + 256, "x", 2);
  lex(src);
  ck_assert_str_eq(errs, "");
  memset(src, '{', 257);
  src[257] = '\0';
  lex(src);
  ck_assert_str_eq(errs, "1:257: too deeply nested: more than 256 open brackets");
}
END_TEST

START_TEST(test_errors_continue) {
  /* Several lexical errors in one run, and lexing goes on after each. */
  LEX_ERR("a = 5d\nb = @\nc = \"\\q\"\nd = 1", "a = BAD NL b = BAD NL c = BAD NL d = INT:1",
          "1:5: invalid number '5d': a number cannot be followed by letters (duration units "
          "are ms, s, m and h)\n2:5: unexpected character '@'\n3:6: invalid escape '\\q' in "
          "a string");
}
END_TEST

/* Huge inputs lex in linear time and never crash. */
START_TEST(test_robustness) {
  size_t n = 10 * 1024 * 1024;
  char *big = malloc(n + 16);
  /* A 10 MB string literal. */
  big[0] = '"';
  memset(big + 1, 'a', n);
  big[n + 1] = '"';
  Arena a = {0};
  Source s = {.path = "t.ds", .text = big, .len = n + 2};
  FILE *f = fopen("/dev/null", "w");
  Diags d = {.src = &s, .out = f};
  Lexer *lx = lexer_new(&a, &s, &d);
  TokenValue v;
  Loc loc;
  ck_assert_int_eq(lexer_next(lx, &v, &loc), TK_STRING);
  ck_assert_uint_eq(v.sval.len, n);
  ck_assert_int_eq(lexer_next(lx, &v, &loc), TK_END);
  arena_free(&a);

  /* 10 MB of NUL bytes, of invalid UTF-8, of '(' and of "(a, ": each
   * ends with a bounded number of tokens and no hang. */
  const char fills[][5] = {"\0", "\xff", "(", "(a, ", "\x80", "5d ", "/", "\"\\q"};
  for (size_t k = 0; k < sizeof fills / sizeof fills[0]; k++) {
    size_t w = k == 0 ? 1 : strlen(fills[k]);
    for (size_t i = 0; i + w <= n; i += w)
      memcpy(big + i, fills[k], w);
    big[n] = '\0';
    s.len = n;
    d.errors = 0;
    lx = lexer_new(&a, &s, &d);
    long count = 0;
    while (lexer_next(lx, &v, &loc) != TK_END)
      count++;
    ck_assert(count >= 1 || k == 6); /* "//////..." is one comment */
    ck_assert(d.errors >= 1 || k == 6);
    arena_free(&a);
  }
  fclose(f);
  free(big);
}
END_TEST

START_TEST(test_empty) {
  LEX_OK("", "");
  LEX_OK("   \n\t\r\n", "");
}
END_TEST

static Suite *lexer_suite(void) {
  Suite *s = suite_create("lexer");
  TCase *tc = tcase_create("tokens");
  tcase_add_test(tc, test_identifiers_and_keywords);
  tcase_add_test(tc, test_punctuation);
  tcase_add_test(tc, test_integers);
  tcase_add_test(tc, test_integer_overflow);
  tcase_add_test(tc, test_floats);
  tcase_add_test(tc, test_tuple_index_after_dot);
  tcase_add_test(tc, test_strings);
  tcase_add_test(tc, test_string_errors);
  tcase_add_test(tc, test_string_with_nul);
  tcase_add_test(tc, test_durations);
  tcase_add_test(tc, test_number_followed_by_letters);
  tcase_add_test(tc, test_comments);
  tcase_add_test(tc, test_bom);
  tcase_add_test(tc, test_bad_bytes);
  tcase_add_test(tc, test_nul_bytes);
  tcase_add_test(tc, test_locations);
  tcase_add_test(tc, test_errors_continue);
  tcase_add_test(tc, test_empty);
  suite_add_tcase(s, tc);

  tc = tcase_create("context");
  tcase_add_test(tc, test_newline_ends_statement);
  tcase_add_test(tc, test_newline_in_brackets);
  tcase_add_test(tc, test_newline_before_dot_or_else);
  tcase_add_test(tc, test_newline_after_continuing_tokens);
  tcase_add_test(tc, test_record_or_block_brace);
  tcase_add_test(tc, test_lambda_paren);
  tcase_add_test(tc, test_open_bracket);
  tcase_add_test(tc, test_nesting_limit);
  suite_add_tcase(s, tc);

  tc = tcase_create("robustness");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_robustness);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(lexer_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
