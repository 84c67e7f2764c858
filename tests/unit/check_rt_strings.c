/*
 * check_rt_strings.c — the string builtins (stdlib/strings.c): Java's split
 * edge cases, words, chars over valid and invalid UTF-8, trim, case mapping
 * without needless allocation, search, substr bounds, replace, field, concat
 * and bytewise comparison; allocation failures are reported, not crashed on.
 */
#include "ds_rt.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ds_str S(const char *s) {
  return (ds_str){s, (int64_t)strlen(s)};
}

static bool eq(ds_str s, const char *want) {
  return s.len == (int64_t)strlen(want) && (s.len == 0 || memcmp(s.ptr, want, (size_t)s.len) == 0);
}

/* Checks that the list of ds_str holds exactly the n strings given. */
static void expect_list(ds_list l, const char *what, int n, ...) {
  ck_assert_msg(l.len == n, "%s: %lld elements, want %d", what, (long long)l.len, n);
  const ds_str *v = l.ptr;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    const char *want = va_arg(ap, const char *);
    ck_assert_msg(eq(v[i], want), "%s: [%d] is \"%.*s\", want \"%s\"", what, i, (int)v[i].len,
                  v[i].ptr, want);
  }
  va_end(ap);
}

static ds_arena arena;

static void setup(void) {
  ds_arena_init(&arena, NULL, NULL);
}

static void teardown(void) {
  ds_arena_destroy(&arena);
}

#define SPLIT(s, sep, ...)                                                                         \
  do {                                                                                             \
    ds_list l_;                                                                                    \
    ck_assert(ds_split(&arena, S(s), S(sep), &l_));                                                \
    expect_list(l_, "split(\"" s "\", \"" sep "\")", __VA_ARGS__);                                 \
  } while (0)

START_TEST(split_java) {
  SPLIT("a,b,c", ",", 3, "a", "b", "c");
  SPLIT("a,b,,", ",", 2, "a", "b");
  SPLIT(",a", ",", 2, "", "a");
  SPLIT(",a,", ",", 2, "", "a");
  SPLIT(",,", ",", 0);
  SPLIT(",", ",", 0);
  SPLIT("", ",", 1, "");
  SPLIT("abc", ",", 1, "abc");
  SPLIT("a,,b", ",", 3, "a", "", "b");
  SPLIT("a::b::", "::", 2, "a", "b");
  SPLIT("::a::::b", "::", 4, "", "a", "", "b");
  SPLIT("aaa", "aa", 2, "", "a");
  SPLIT("aaaa", "aa", 0);
  SPLIT("a.b", ".", 2, "a", "b"); /* literal, not a regex */
  SPLIT("a|b", "|", 2, "a", "b");
  SPLIT("x", "longer than x", 1, "x");
  SPLIT("héllo wörld", "ö", 2, "héllo w", "rld");
  SPLIT("a b", "", 3, "a", " ", "b"); /* split(s, "") is chars(s) */
  SPLIT("", "", 0);
  /* Slices point into the input. */
  const char *in = "k=v";
  ds_list l;
  ck_assert(ds_split(&arena, S(in), S("="), &l));
  ck_assert_ptr_eq(((ds_str *)l.ptr)[1].ptr, in + 2);
  /* Not NUL-terminated input. */
  ck_assert(ds_split(&arena, (ds_str){"a,b,c,d", 3}, S(","), &l));
  expect_list(l, "prefix", 2, "a", "b");
  ck_assert(ds_split(&arena, (ds_str){NULL, 0}, S(","), &l));
  expect_list(l, "null", 1, "");
}
END_TEST

START_TEST(field_like_split) {
  ds_str f;
  ck_assert(ds_field(S("a,b,c"), S(","), 0, &f) && eq(f, "a"));
  ck_assert(ds_field(S("a,b,c"), S(","), 2, &f) && eq(f, "c"));
  ck_assert(!ds_field(S("a,b,c"), S(","), 3, &f));
  ck_assert(!ds_field(S("a,b,c"), S(","), -1, &f));
  ck_assert(ds_field(S("a,b,,"), S(","), 2, &f) && eq(f, "")); /* trailing empties kept */
  ck_assert(ds_field(S("a,b,,"), S(","), 3, &f) && eq(f, ""));
  ck_assert(!ds_field(S("a,b,,"), S(","), 4, &f));
  ck_assert(ds_field(S(",a"), S(","), 0, &f) && eq(f, ""));
  ck_assert(ds_field(S(""), S(","), 0, &f) && eq(f, ""));
  ck_assert(!ds_field(S(""), S(","), 1, &f));
  ck_assert(ds_field(S("x::y::z"), S("::"), 1, &f) && eq(f, "y"));
  ck_assert(ds_field(S("aaa"), S("aa"), 1, &f) && eq(f, "a"));
  ck_assert(ds_field(S("héllo"), S(""), 1, &f) && eq(f, "é"));
  ck_assert(!ds_field(S("héllo"), S(""), 5, &f));
  ck_assert(!ds_field(S(""), S(""), 0, &f));
  /* The same boundaries as split wherever split keeps the field. */
  const char *inputs[] = {"a,b,c", ",a,,b", "x", ",,x,,", "1,22,333,4444"};
  for (size_t k = 0; k < sizeof inputs / sizeof *inputs; k++) {
    ds_list l;
    ck_assert(ds_split(&arena, S(inputs[k]), S(","), &l));
    for (int64_t i = 0; i < l.len; i++) {
      ck_assert(ds_field(S(inputs[k]), S(","), i, &f));
      ck_assert(ds_str_eq(f, ((ds_str *)l.ptr)[i]));
    }
  }
}
END_TEST

/* field by the definition: the i-th piece between non-overlapping
 * separators found left to right, the last running to the end. */
static bool ref_field(ds_str s, ds_str sep, int64_t i, ds_str *out) {
  if (i < 0)
    return false;
  int64_t start = 0, k = 0;
  for (int64_t j = 0; j + sep.len <= s.len;) {
    if (memcmp(s.ptr + j, sep.ptr, (size_t)sep.len) == 0) {
      if (k++ == i) {
        *out = (ds_str){s.ptr + start, j - start};
        return true;
      }
      j += sep.len;
      start = j;
    } else {
      j++;
    }
  }
  if (k != i)
    return false;
  *out = (ds_str){s.len ? s.ptr + start : s.ptr, s.len - start};
  return true;
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state;
}

/* Random strings over a few bytes (bytes with the high bit set, NUL and
 * bytes next to the separators included), at every alignment, against the
 * reference: same result, same slice (pointer and length). */
START_TEST(field_random_vs_reference) {
  static const char alphabet[] = {',',    ',',    ' ',    'a',    'b', '\0',
                                  '\x01', '\x7f', '\x80', '\xff', '+', '-'};
  static const char *seps[] = {",", " ", "a", "\xff", "\x80", "+", ",,", ", ", "ab", "\xff\x80"};
  char buf[96];
  for (int iter = 0; iter < 200000; iter++) {
    int64_t off = (int64_t)(rnd() % 8), len = (int64_t)(rnd() % 80);
    int dense = (int)(rnd() % 4); /* 0: mostly separators .. 3: few */
    for (int64_t j = 0; j < len; j++) {
      uint64_t r = rnd();
      buf[off + j] = (int)(r % 8) < 4 - dense ? ',' : alphabet[(r >> 8) % sizeof alphabet];
    }
    const char *sp = seps[rnd() % (sizeof seps / sizeof *seps)];
    ds_str sep = {sp, (int64_t)strlen(sp)};
    if (sep.len == 1 && rnd() % 2) { /* make the random separator byte the common one */
      for (int64_t j = 0; j < len; j++)
        if (buf[off + j] == ',')
          buf[off + j] = sp[0];
    }
    ds_str s = {len ? buf + off : (rnd() % 2 ? NULL : buf + off), len};
    int64_t i = (int64_t)(rnd() % 40) - 3;
    if (rnd() % 16 == 0)
      i = rnd() % 2 ? INT64_MAX : INT64_MIN;
    ds_str got = {NULL, -1}, want = {NULL, -1};
    bool g = ds_field(s, sep, i, &got), w = ref_field(s, sep, i, &want);
    ck_assert_msg(g == w, "iter %d: field(len %lld, \"%s\", %lld): %d, want %d", iter,
                  (long long)len, sp, (long long)i, g, w);
    if (w)
      ck_assert_msg(got.ptr == want.ptr && got.len == want.len,
                    "iter %d: field(len %lld, \"%s\", %lld): [%td, %lld), want [%td, %lld)", iter,
                    (long long)len, sp, (long long)i, got.ptr - s.ptr, (long long)got.len,
                    want.ptr - s.ptr, (long long)want.len);
  }
}
END_TEST

/* indexOf with a one-byte needle (16-byte blocks for the first 64 bytes,
 * then memchr) against a byte loop, for every length up to 200 and needle
 * positions in each block, the tail and the memchr part. */
START_TEST(index_of_byte_random) {
  char buf[224];
  for (int iter = 0; iter < 100000; iter++) {
    int64_t off = (int64_t)(rnd() % 16), len = (int64_t)(rnd() % 201);
    for (int64_t j = 0; j < len; j++)
      buf[off + j] = (char)('a' + rnd() % 3);
    char c = (char)('a' + rnd() % 6); /* d, e, f: absent unless placed */
    if (len && rnd() % 2)
      buf[off + (int64_t)(rnd() % (uint64_t)len)] = c;
    int64_t want = -1;
    for (int64_t j = 0; j < len; j++)
      if (buf[off + j] == c) {
        want = j;
        break;
      }
    ds_str s = {buf + off, len};
    ck_assert_int_eq(ds_index_of(s, (ds_str){&c, 1}), want);
  }
}
END_TEST

/* Edge cases of the one-byte path, both below and above 8 bytes. */
START_TEST(field_one_byte_edges) {
  ds_str f;
  ck_assert(ds_field(S(","), S(","), 0, &f) && eq(f, ""));
  ck_assert(ds_field(S(","), S(","), 1, &f) && eq(f, ""));
  ck_assert(!ds_field(S(","), S(","), 2, &f));
  ck_assert(ds_field(S(",,,,,,,,,,,,,,,,,"), S(","), 17, &f) && eq(f, ""));
  ck_assert(!ds_field(S(",,,,,,,,,,,,,,,,,"), S(","), 18, &f));
  ck_assert(ds_field(S("abcdefghijklmnopq"), S(","), 0, &f) && eq(f, "abcdefghijklmnopq"));
  ck_assert(!ds_field(S("abcdefghijklmnopq"), S(","), 1, &f));
  ck_assert(ds_field(S("abcdefgh,ijklmnop,"), S(","), 1, &f) && eq(f, "ijklmnop"));
  ck_assert(ds_field(S("abcdefgh,ijklmnop,"), S(","), 2, &f) && eq(f, ""));
  ck_assert(ds_field(S(",abcdefghijklmnop"), S(","), 0, &f) && eq(f, ""));
  ck_assert(ds_field(S(",abcdefghijklmnop"), S(","), 1, &f) && eq(f, "abcdefghijklmnop"));
  ck_assert(!ds_field(S("a,b"), S(","), INT64_MAX, &f));
  ck_assert(!ds_field(S("a,b"), S(","), INT64_MIN, &f));
  ck_assert(ds_field((ds_str){NULL, 0}, S(","), 0, &f) && f.len == 0);
  ck_assert(!ds_field((ds_str){NULL, 0}, S(","), 1, &f));
  /* Not NUL-terminated: the byte after the slice is a separator. */
  ck_assert(ds_field((ds_str){"abcdefghij,k", 10}, S(","), 0, &f) && eq(f, "abcdefghij"));
  ck_assert(!ds_field((ds_str){"abcdefghij,k", 10}, S(","), 1, &f));
  ck_assert(ds_field(S("a\xff" "b\xff"), S("\xff"), 1, &f) && eq(f, "b"));
  ck_assert(ds_field((ds_str){"a\0b\0c\0d\0e\0f", 11}, (ds_str){"\0", 1}, 5, &f) && eq(f, "f"));
  const char *line = "127.0.0.1 - - [15/Jan/2024:00:00:01 +0000] \"GET /a/b/c HTTP/1.1\" 200 1234";
  ck_assert(ds_field(S(line), S(" "), 0, &f) && eq(f, "127.0.0.1"));
  ck_assert(ds_field(S(line), S(" "), 3, &f) && eq(f, "[15/Jan/2024:00:00:01"));
  ck_assert(ds_field(S(line), S(" "), 6, &f) && eq(f, "/a/b/c"));
  ck_assert(ds_field(S(line), S(" "), 9, &f) && eq(f, "1234"));
  ck_assert(!ds_field(S(line), S(" "), 10, &f));
  ck_assert(ds_field(S(line), S("["), 1, &f) &&
            eq(f, "15/Jan/2024:00:00:01 +0000] \"GET /a/b/c HTTP/1.1\" 200 1234"));
  ck_assert(ds_field(S(line), S("]"), 0, &f) && eq(f, "127.0.0.1 - - [15/Jan/2024:00:00:01 +0000"));
}
END_TEST

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* DS_BENCH=1: ns per field() call on a log line (best of 5 runs). */
START_TEST(bench_field) {
  if (!getenv("DS_BENCH"))
    return;
  const char *line = "127.0.0.1 - - [15/Jan/2024:00:00:01 +0000] \"GET /a/b/c HTTP/1.1\" 200 1234";
  struct {
    const char *sep;
    int64_t i;
  } cases[] = {{" ", 0}, {" ", 6}, {"[", 1}, {" ", 9}, {"\" ", 1}};
  const long n = 10000000;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    ds_str sep = S(cases[c].sep);
    double best = 1e30;
    int64_t sink = 0;
    for (int r = 0; r < 5; r++) {
      double t0 = now_ns();
      for (long k = 0; k < n; k++) {
        volatile ds_str vl = S(line); /* reloaded every call: nothing hoisted */
        ds_str f = {NULL, 0};
        ds_field((ds_str){vl.ptr, vl.len}, sep, cases[c].i, &f);
        sink += f.len;
      }
      double dt = (now_ns() - t0) / (double)n;
      best = dt < best ? dt : best;
    }
    printf("bench field(line, \"%s\", %lld): %.2f ns/call (%lld)\n", cases[c].sep,
           (long long)cases[c].i, best, (long long)sink);
  }
}
END_TEST

START_TEST(words_whitespace) {
  ds_list l;
  ck_assert(ds_words(&arena, S("hello world"), &l));
  expect_list(l, "simple", 2, "hello", "world");
  ck_assert(ds_words(&arena, S("  \t one\ttwo\n\nthree \r\n\v\ffour  "), &l));
  expect_list(l, "mixed", 4, "one", "two", "three", "four");
  ck_assert(ds_words(&arena, S(""), &l));
  expect_list(l, "empty", 0);
  ck_assert(l.ptr == NULL);
  ck_assert(ds_words(&arena, S(" \t\n "), &l));
  expect_list(l, "blank", 0);
  ck_assert(ds_words(&arena, S("x"), &l));
  expect_list(l, "one", 1, "x");
  ck_assert(ds_words(&arena, S("naïve\u00a0café"), &l)); /* U+00A0 is not ASCII whitespace */
  expect_list(l, "nbsp", 1, "naïve\u00a0café");
}
END_TEST

START_TEST(chars_utf8) {
  ds_list l;
  ck_assert(ds_chars(&arena, S("abc"), &l));
  expect_list(l, "ascii", 3, "a", "b", "c");
  ck_assert(ds_chars(&arena, S("h\u00e9\u20ac\U0001F600!"), &l));
  expect_list(l, "multibyte", 5, "h", "\u00e9", "\u20ac", "\U0001F600", "!");
  ck_assert(ds_chars(&arena, S(""), &l));
  expect_list(l, "empty", 0);
  /* Invalid bytes are characters of their own. */
  ck_assert(ds_chars(&arena, S("a\xff" "b"), &l));
  expect_list(l, "ff", 3, "a", "\xff", "b");
  ck_assert(ds_chars(&arena, S("\xc3"), &l)); /* truncated 2-byte sequence */
  expect_list(l, "truncated", 1, "\xc3");
  ck_assert(ds_chars(&arena, S("\xe2\x82x"), &l)); /* truncated 3-byte, then x */
  expect_list(l, "truncated3", 3, "\xe2", "\x82", "x");
  ck_assert(ds_chars(&arena, S("\xc0\xaf"), &l)); /* overlong '/' */
  expect_list(l, "overlong", 2, "\xc0", "\xaf");
  ck_assert(ds_chars(&arena, S("\xe0\x80\xaf"), &l)); /* overlong 3-byte */
  expect_list(l, "overlong3", 3, "\xe0", "\x80", "\xaf");
  ck_assert(ds_chars(&arena, S("\xed\xa0\x80"), &l)); /* surrogate U+D800 */
  expect_list(l, "surrogate", 3, "\xed", "\xa0", "\x80");
  ck_assert(ds_chars(&arena, S("\xf4\x90\x80\x80"), &l)); /* above U+10FFFF */
  expect_list(l, "too big", 4, "\xf4", "\x90", "\x80", "\x80");
  ck_assert(ds_chars(&arena, S("\xf4\x8f\xbf\xbf"), &l)); /* U+10FFFF itself */
  expect_list(l, "max", 1, "\xf4\x8f\xbf\xbf");
  ck_assert(ds_chars(&arena, S("\x80\x80"), &l)); /* stray continuation bytes */
  expect_list(l, "stray", 2, "\x80", "\x80");
  /* A NUL byte is a character like any other. */
  ck_assert(ds_chars(&arena, (ds_str){"a\0b", 3}, &l));
  ck_assert_int_eq(l.len, 3);
}
END_TEST

START_TEST(trim_ascii) {
  ck_assert(eq(ds_trim(S("  hi  ")), "hi"));
  ck_assert(eq(ds_trim(S("\t\r\n\v\f x y \n")), "x y"));
  ck_assert(eq(ds_trim(S("   ")), ""));
  ck_assert(eq(ds_trim(S("")), ""));
  ck_assert(eq(ds_trim(S("a")), "a"));
  ck_assert(eq(ds_trim(S("\u00a0a\u00a0")), "\u00a0a\u00a0"));
  const char *in = " ab ";
  ck_assert_ptr_eq(ds_trim(S(in)).ptr, in + 1);
}
END_TEST

START_TEST(case_mapping) {
  ds_str out;
  const char *in = "already lower 123 é";
  size_t before = ds_arena_bytes(&arena);
  ck_assert(ds_lower(&arena, S(in), &out) && out.ptr == in && eq(out, in));
  ck_assert(ds_upper(&arena, S("ABC 1"), &out) && eq(out, "ABC 1"));
  ck_assert_uint_eq(ds_arena_bytes(&arena), before); /* nothing changed: no allocation */
  ck_assert(ds_lower(&arena, S("Hello WORLD @[`{"), &out) && eq(out, "hello world @[`{"));
  ck_assert(ds_upper(&arena, S("Hello world @[`{"), &out) && eq(out, "HELLO WORLD @[`{"));
  ck_assert(ds_upper(&arena, S("straße é"), &out) && eq(out, "STRAßE é")); /* ASCII only */
  ck_assert(ds_lower(&arena, S("ÀB"), &out) && eq(out, "Àb"));
  ck_assert(ds_lower(&arena, S(""), &out) && out.len == 0);
}
END_TEST

START_TEST(search) {
  ck_assert(ds_contains(S("hello"), S("ell")));
  ck_assert(ds_contains(S("hello"), S("")));
  ck_assert(ds_contains(S(""), S("")));
  ck_assert(!ds_contains(S("hello"), S("elk")));
  ck_assert(!ds_contains(S("he"), S("hello")));
  ck_assert(ds_starts_with(S("hello"), S("he")));
  ck_assert(ds_starts_with(S("hello"), S("")));
  ck_assert(ds_starts_with(S("hello"), S("hello")));
  ck_assert(!ds_starts_with(S("hello"), S("hello!")));
  ck_assert(!ds_starts_with(S("hello"), S("el")));
  ck_assert(ds_ends_with(S("hello"), S("llo")));
  ck_assert(ds_ends_with(S("hello"), S("")));
  ck_assert(!ds_ends_with(S("hello"), S("hell")));
  ck_assert(!ds_ends_with(S("lo"), S("hello")));
  ck_assert_int_eq(ds_index_of(S("hello"), S("l")), 2);
  ck_assert_int_eq(ds_index_of(S("hello"), S("lo")), 3);
  ck_assert_int_eq(ds_index_of(S("hello"), S("")), 0);
  ck_assert_int_eq(ds_index_of(S(""), S("")), 0);
  ck_assert_int_eq(ds_index_of(S("hello"), S("x")), -1);
  ck_assert_int_eq(ds_index_of(S("hello"), S("hello world")), -1);
  ck_assert_int_eq(ds_index_of(S("aaab"), S("aab")), 1);
  ck_assert_int_eq(ds_index_of(S("héllo"), S("llo")), 3); /* bytes */
  /* The match must lie inside the slice, not past its end. */
  ck_assert_int_eq(ds_index_of((ds_str){"abcdef", 4}, S("de")), -1);
  ck_assert_int_eq(ds_index_of((ds_str){"abcdef", 4}, S("e")), -1);
  ck_assert(!ds_contains((ds_str){"ab\0cd", 5}, S("cde")));
  ck_assert_int_eq(ds_index_of((ds_str){"ab\0cd", 5}, (ds_str){"\0c", 2}), 2);
}
END_TEST

START_TEST(substr_bounds) {
  ds_str out;
  ck_assert(ds_substr(S("hello"), 1, 3, &out) && eq(out, "ell"));
  ck_assert(ds_substr(S("hello"), 0, 5, &out) && eq(out, "hello"));
  ck_assert(ds_substr(S("hello"), 1, 100, &out) && eq(out, "ello")); /* clamped */
  ck_assert(ds_substr(S("hello"), 5, 1, &out) && eq(out, ""));
  ck_assert(ds_substr(S("hello"), 2, 0, &out) && eq(out, ""));
  ck_assert(ds_substr(S("hello"), 0, INT64_MAX, &out) && eq(out, "hello"));
  ck_assert(!ds_substr(S("hello"), 6, 0, &out));
  ck_assert(!ds_substr(S("hello"), -1, 2, &out));
  ck_assert(!ds_substr(S("hello"), 1, -1, &out));
  ck_assert(!ds_substr(S("hello"), INT64_MIN, 1, &out));
  ck_assert(ds_substr(S(""), 0, 0, &out) && eq(out, ""));
}
END_TEST

START_TEST(replace_all) {
  ds_str out;
  ck_assert(ds_replace(&arena, S("a-b-c"), S("-"), S("+"), &out) && eq(out, "a+b+c"));
  ck_assert(ds_replace(&arena, S("a-b-c"), S("-"), S(""), &out) && eq(out, "abc"));
  ck_assert(ds_replace(&arena, S("a-b-c"), S("-"), S("<->"), &out) && eq(out, "a<->b<->c"));
  ck_assert(ds_replace(&arena, S("aaaa"), S("aa"), S("b"), &out) && eq(out, "bb"));
  ck_assert(ds_replace(&arena, S("aaa"), S("aa"), S("b"), &out) && eq(out, "ba"));
  ck_assert(ds_replace(&arena, S("abab"), S("ab"), S("abab"), &out) && eq(out, "abababab"));
  ck_assert(ds_replace(&arena, S("xx"), S("xx"), S(""), &out) && eq(out, ""));
  ck_assert(ds_replace(&arena, S("--"), S("-"), S("ab"), &out) && eq(out, "abab"));
  size_t before = ds_arena_bytes(&arena);
  const char *in = "unchanged";
  ck_assert(ds_replace(&arena, S(in), S("zz"), S("y"), &out) && out.ptr == in);
  ck_assert(ds_replace(&arena, S(in), S(""), S("y"), &out) && out.ptr == in); /* empty from */
  ck_assert_uint_eq(ds_arena_bytes(&arena), before);
  ck_assert(ds_replace(&arena, S(""), S("a"), S("b"), &out) && eq(out, ""));
}
END_TEST

START_TEST(concat_and_compare) {
  ds_str out;
  ck_assert(ds_concat(&arena, S("foo"), S("bar"), &out) && eq(out, "foobar"));
  const char *x = "x";
  ck_assert(ds_concat(&arena, S(x), S(""), &out) && out.ptr == x);
  ck_assert(ds_concat(&arena, S(""), S(x), &out) && out.ptr == x);
  ck_assert(ds_concat(&arena, S(""), S(""), &out) && out.len == 0);

  ck_assert_int_eq(ds_str_cmp(S("a"), S("b")), -1);
  ck_assert_int_eq(ds_str_cmp(S("b"), S("a")), 1);
  ck_assert_int_eq(ds_str_cmp(S("abc"), S("abc")), 0);
  ck_assert_int_eq(ds_str_cmp(S("ab"), S("abc")), -1);
  ck_assert_int_eq(ds_str_cmp(S("abc"), S("ab")), 1);
  ck_assert_int_eq(ds_str_cmp(S(""), S("")), 0);
  ck_assert_int_eq(ds_str_cmp(S(""), S("a")), -1);
  ck_assert_int_eq(ds_str_cmp(S("\xff"), S("a")), 1); /* bytes are unsigned */
  ck_assert_int_eq(ds_str_cmp(S("Z"), S("a")), -1);
  ck_assert_int_eq(ds_str_cmp((ds_str){"a\0", 2}, S("a")), 1);
  ck_assert(ds_str_eq(S("abc"), S("abc")));
  ck_assert(!ds_str_eq(S("abc"), S("abd")));
  ck_assert(!ds_str_eq(S("abc"), S("ab")));
  ck_assert(ds_str_eq(S(""), (ds_str){NULL, 0}));
}
END_TEST

/* Allocation failure: an arena whose allocator always fails. */
static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return NULL;
}

START_TEST(allocation_failure) {
  ds_arena bad;
  ds_arena_init(&bad, failing_alloc, NULL);
  ds_list l;
  ds_str out;
  ck_assert(!ds_split(&bad, S("a,b"), S(","), &l));
  ck_assert(!ds_words(&bad, S("a b"), &l));
  ck_assert(!ds_chars(&bad, S("ab"), &l));
  ck_assert(!ds_lower(&bad, S("AB"), &out));
  ck_assert(!ds_upper(&bad, S("ab"), &out));
  ck_assert(!ds_replace(&bad, S("ab"), S("a"), S("c"), &out));
  ck_assert(!ds_concat(&bad, S("a"), S("b"), &out));
  ck_assert(!ds_format_time(&bad, 0, S("%F"), &out));
  /* What needs no memory still works. */
  ck_assert(ds_split(&bad, S(",,"), S(","), &l) && l.len == 0);
  ck_assert(ds_words(&bad, S("  "), &l) && l.len == 0);
  ck_assert(ds_lower(&bad, S("ab"), &out) && eq(out, "ab"));
  ck_assert(ds_replace(&bad, S("ab"), S("x"), S("c"), &out) && eq(out, "ab"));
  ck_assert(ds_concat(&bad, S("a"), S(""), &out) && eq(out, "a"));
  ds_arena_destroy(&bad);
}
END_TEST

/* Many results in one arena stay valid until the reset. */
START_TEST(many_allocations) {
  char line[64];
  ds_list lists[2000];
  for (int i = 0; i < 2000; i++) {
    int n = snprintf(line, sizeof line, "w%d x%d  y%d", i, i * 7, i * 13);
    ck_assert(ds_words(&arena, (ds_str){line, n}, &lists[i]));
    ds_str up;
    ck_assert(ds_upper(&arena, ((ds_str *)lists[i].ptr)[0], &up));
    ((ds_str *)lists[i].ptr)[0] = up; /* now arena-owned, unlike the others */
  }
  for (int i = 0; i < 2000; i++) {
    char want[16];
    snprintf(want, sizeof want, "W%d", i);
    ck_assert(eq(((ds_str *)lists[i].ptr)[0], want));
  }
}
END_TEST

static Suite *strings_suite(void) {
  Suite *s = suite_create("rt_strings");
  TCase *tc = tcase_create("strings");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, split_java);
  tcase_add_test(tc, field_like_split);
  tcase_add_test(tc, field_random_vs_reference);
  tcase_add_test(tc, index_of_byte_random);
  tcase_add_test(tc, field_one_byte_edges);
  tcase_add_test(tc, words_whitespace);
  tcase_add_test(tc, chars_utf8);
  tcase_add_test(tc, trim_ascii);
  tcase_add_test(tc, case_mapping);
  tcase_add_test(tc, search);
  tcase_add_test(tc, substr_bounds);
  tcase_add_test(tc, replace_all);
  tcase_add_test(tc, concat_and_compare);
  tcase_add_test(tc, allocation_failure);
  tcase_add_test(tc, many_allocations);
  suite_add_tcase(s, tc);
  TCase *bench = tcase_create("bench"); /* DS_BENCH=1 only */
  tcase_set_timeout(bench, 300);
  tcase_add_test(bench, bench_field);
  suite_add_tcase(s, bench);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(strings_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
