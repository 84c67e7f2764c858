/*
 * check_hdfs_json.c — the WebHDFS client's JSON parser (runtime/hdfs_json.c).
 *
 * The documented WebHDFS answers (FileStatus, FileStatuses, boolean,
 * RemoteException) parse to the values they hold; every RFC 8259 rule the
 * parser enforces is checked with a refused input (bad literals, numbers,
 * escapes, control characters, trailing commas and data, unterminated
 * containers, nesting beyond HJ_MAX_DEPTH) and every prefix of a valid
 * document is refused; escapes decode to UTF-8 (surrogate pairs included, a
 * lone surrogate gives U+FFFD, \u0000 a NUL inside the string); integers keep
 * their exact int64 value, larger ones and fractions only a double.
 */
#include "hdfs_json.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hj_doc *parse(const char *s) { return hj_parse(s, strlen(s), NULL, 0); }

static bool refused(const char *s) {
  char err[200] = "";
  hj_doc *d = hj_parse(s, strlen(s), err, sizeof err);
  if (d) {
    hj_free(d);
    return false;
  }
  return strstr(err, "at byte") != NULL;
}

START_TEST(file_status) {
  const char *s = "{\"FileStatus\":{\"accessTime\":1320171722771,\"blockSize\":33554432,"
                  "\"group\":\"supergroup\",\"length\":24930,\"modificationTime\":1320171722771,"
                  "\"owner\":\"webuser\",\"pathSuffix\":\"\",\"permission\":\"644\",\"replication\":1,"
                  "\"type\":\"FILE\"}}";
  hj_doc *d = parse(s);
  ck_assert_ptr_nonnull(d);
  const hj_value *fs = hj_get(hj_root(d), "FileStatus");
  ck_assert_int_eq(fs->type, HJ_OBJECT);
  ck_assert_uint_eq(fs->len, 10);
  int64_t v;
  ck_assert(hj_int(hj_get(fs, "length"), &v));
  ck_assert_int_eq(v, 24930);
  ck_assert(hj_int(hj_get(fs, "modificationTime"), &v));
  ck_assert_int_eq(v, 1320171722771LL);
  ck_assert_str_eq(hj_string(hj_get(fs, "type")), "FILE");
  ck_assert_str_eq(hj_string(hj_get(fs, "pathSuffix")), "");
  ck_assert_ptr_null(hj_get(fs, "missing"));
  ck_assert_ptr_null(hj_string(hj_get(fs, "length")));
  ck_assert(!hj_int(hj_get(fs, "owner"), &v));
  hj_free(d);
}
END_TEST

START_TEST(file_statuses_and_boolean) {
  hj_doc *d = parse("{\"FileStatuses\":{\"FileStatus\":[{\"pathSuffix\":\"a\",\"type\":\"FILE\"},"
                    " {\"pathSuffix\":\"b\",\"type\":\"DIRECTORY\"} ]}}");
  ck_assert_ptr_nonnull(d);
  const hj_value *arr = hj_get(hj_get(hj_root(d), "FileStatuses"), "FileStatus");
  ck_assert_int_eq(arr->type, HJ_ARRAY);
  ck_assert_uint_eq(arr->len, 2);
  ck_assert_str_eq(hj_string(hj_get(&arr->items[1], "type")), "DIRECTORY");
  hj_free(d);
  d = parse("{\"FileStatuses\":{\"FileStatus\":[]}}");
  ck_assert_uint_eq(hj_get(hj_get(hj_root(d), "FileStatuses"), "FileStatus")->len, 0);
  hj_free(d);
  d = parse(" {\"boolean\": true} \r\n");
  ck_assert_int_eq(hj_get(hj_root(d), "boolean")->type, HJ_TRUE);
  hj_free(d);
  d = parse("{\"boolean\":false}");
  ck_assert_int_eq(hj_get(hj_root(d), "boolean")->type, HJ_FALSE);
  hj_free(d);
}
END_TEST

START_TEST(remote_exception) {
  hj_doc *d = parse("{\"RemoteException\":{\"exception\":\"FileNotFoundException\","
                    "\"javaClassName\":\"java.io.FileNotFoundException\","
                    "\"message\":\"File does not exist: /foo/a.patch\"}}");
  const hj_value *r = hj_get(hj_root(d), "RemoteException");
  ck_assert_str_eq(hj_string(hj_get(r, "exception")), "FileNotFoundException");
  ck_assert_str_eq(hj_string(hj_get(r, "javaClassName")), "java.io.FileNotFoundException");
  ck_assert_str_eq(hj_string(hj_get(r, "message")), "File does not exist: /foo/a.patch");
  hj_free(d);
}
END_TEST

START_TEST(scalars_and_numbers) {
  struct {
    const char *text;
    bool is_int;
    int64_t i;
    double num;
  } cases[] = {
      {"0", true, 0, 0},
      {"-0", true, 0, -0.0},
      {"9223372036854775807", true, INT64_MAX, 9223372036854775807.0},
      {"-9223372036854775808", true, INT64_MIN, -9223372036854775808.0},
      {"9223372036854775808", false, 0, 9223372036854775808.0},
      {"1.5", false, 0, 1.5},
      {"-2e3", false, 0, -2000},
      {"1E+2", false, 0, 100},
      {"0.25e-1", false, 0, 0.025},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    hj_doc *d = parse(cases[k].text);
    ck_assert_msg(d != NULL, "%s refused", cases[k].text);
    const hj_value *v = hj_root(d);
    ck_assert_int_eq(v->type, HJ_NUMBER);
    ck_assert_msg(v->is_int == cases[k].is_int, "%s is_int", cases[k].text);
    if (cases[k].is_int)
      ck_assert_int_eq(v->i, cases[k].i);
    ck_assert_double_eq_tol(v->num, cases[k].num, 1e-9);
    hj_free(d);
  }
  hj_doc *d = parse("[null, true, false, \"x\", [], {}]");
  const hj_value *a = hj_root(d);
  ck_assert_uint_eq(a->len, 6);
  ck_assert_int_eq(a->items[0].type, HJ_NULL);
  ck_assert_int_eq(a->items[1].type, HJ_TRUE);
  ck_assert_int_eq(a->items[2].type, HJ_FALSE);
  ck_assert_int_eq(a->items[3].type, HJ_STRING);
  ck_assert_int_eq(a->items[4].type, HJ_ARRAY);
  ck_assert_int_eq(a->items[5].type, HJ_OBJECT);
  hj_free(d);
}
END_TEST

START_TEST(string_escapes) {
  hj_doc *d = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"");
  ck_assert_ptr_nonnull(d);
  const hj_value *v = hj_root(d);
  const char want[] = "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  ck_assert_uint_eq(v->len, sizeof want - 1);
  ck_assert_mem_eq(v->str, want, sizeof want);
  hj_free(d);
  d = parse("\"x\\u0000y\"");
  ck_assert_uint_eq(hj_root(d)->len, 3);
  ck_assert_mem_eq(hj_root(d)->str, "x\0y", 4);
  hj_free(d);
  /* lone surrogates: U+FFFD, and the escape after a lone high one stands alone */
  d = parse("[\"\\ud800\", \"\\udc00x\", \"\\ud800\\u0041\"]");
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(hj_root(d)->items[0].str, "\xef\xbf\xbd");
  ck_assert_str_eq(hj_root(d)->items[1].str, "\xef\xbf\xbdx");
  ck_assert_str_eq(hj_root(d)->items[2].str, "\xef\xbf\xbd" "A");
  hj_free(d);
  /* raw UTF-8 bytes pass through */
  d = parse("{\"n\\u00e4me\":\"f\xc3\xbc r.txt\"}");
  ck_assert_str_eq(hj_string(hj_get(hj_root(d), "n\xc3\xa4me")), "f\xc3\xbc r.txt");
  hj_free(d);
}
END_TEST

START_TEST(refusals) {
  const char *bad[] = {
      "", " ", "tru", "nul", "falsey", "True", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10",
      "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"tab\there\"", "\"nl\nx\"", "[1,]", "[,1]",
      "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}", "{1:2}", "[1]x", "{} {}", "[", "{",
      "[[]", "{\"a\":[}", "NaN", "Infinity", "'a'", "\"\\ud800\\u12\"",
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    ck_assert_msg(refused(bad[k]), "accepted: %s", bad[k]);
  /* a NUL byte inside the text is not whitespace */
  ck_assert_ptr_null(hj_parse("{}\0", 3, NULL, 0));
}
END_TEST

START_TEST(every_prefix_refused) {
  const char *s = "{\"FileStatuses\":{\"FileStatus\":[{\"length\":-12.5e3,\"pathSuffix\":\"a\\u00e9\\n\","
                  "\"x\":[true,false,null]}]}}";
  size_t n = strlen(s);
  for (size_t k = 0; k < n; k++)
    ck_assert_msg(hj_parse(s, k, NULL, 0) == NULL, "prefix of %zu accepted", k);
  hj_doc *d = hj_parse(s, n, NULL, 0);
  ck_assert_ptr_nonnull(d);
  hj_free(d);
}
END_TEST

START_TEST(depth_limit) {
  char deep[2 * (HJ_MAX_DEPTH + 2) + 1];
  for (int depth = HJ_MAX_DEPTH; depth <= HJ_MAX_DEPTH + 1; depth++) {
    int n = depth + 1; /* containers: the root is depth 0 */
    memset(deep, '[', (size_t)n);
    memset(deep + n, ']', (size_t)n);
    deep[2 * n] = '\0';
    hj_doc *d = parse(deep);
    if (depth == HJ_MAX_DEPTH)
      ck_assert_ptr_nonnull(d);
    else
      ck_assert_ptr_null(d);
    hj_free(d);
  }
}
END_TEST

START_TEST(large_listing) {
  /* 20000 entries: the scratch stacks and arena blocks grow as needed. */
  size_t cap = 20000 * 64 + 64, n = 0;
  char *s = malloc(cap);
  n += (size_t)sprintf(s + n, "{\"FileStatuses\":{\"FileStatus\":[");
  for (int i = 0; i < 20000; i++)
    n += (size_t)sprintf(s + n, "%s{\"pathSuffix\":\"f%05d\",\"length\":%d}", i ? "," : "", i, i * 3);
  n += (size_t)sprintf(s + n, "]}}");
  hj_doc *d = hj_parse(s, n, NULL, 0);
  ck_assert_ptr_nonnull(d);
  const hj_value *arr = hj_get(hj_get(hj_root(d), "FileStatuses"), "FileStatus");
  ck_assert_uint_eq(arr->len, 20000);
  int64_t v;
  ck_assert(hj_int(hj_get(&arr->items[19999], "length"), &v));
  ck_assert_int_eq(v, 19999 * 3);
  ck_assert_str_eq(hj_string(hj_get(&arr->items[12345], "pathSuffix")), "f12345");
  hj_free(d);
  free(s);
}
END_TEST

START_TEST(duplicate_keys_first_wins) {
  hj_doc *d = parse("{\"a\":1,\"a\":2}");
  int64_t v;
  ck_assert(hj_int(hj_get(hj_root(d), "a"), &v));
  ck_assert_int_eq(v, 1);
  ck_assert_uint_eq(hj_root(d)->len, 2);
  hj_free(d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("hdfs_json");
  TCase *tc = tcase_create("json");
  tcase_add_test(tc, file_status);
  tcase_add_test(tc, file_statuses_and_boolean);
  tcase_add_test(tc, remote_exception);
  tcase_add_test(tc, scalars_and_numbers);
  tcase_add_test(tc, string_escapes);
  tcase_add_test(tc, refusals);
  tcase_add_test(tc, every_prefix_refused);
  tcase_add_test(tc, depth_limit);
  tcase_add_test(tc, large_listing);
  tcase_add_test(tc, duplicate_keys_first_wins);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
