/*
 * check_rt_time.c — parseTime and formatTime (stdlib/time.c).
 *
 * Expected instants were computed with python3's datetime (proleptic
 * Gregorian, UTC); formatting is checked by exact text and by round trips
 * through parsing over a wide range of instants, negative ones included.
 */
#include "ds_rt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ds_str S(const char *s) {
  return (ds_str){s, (int64_t)strlen(s)};
}

static bool parse(const char *s, const char *fmt, int64_t *out) {
  return ds_parse_time(S(s), S(fmt), out);
}

#define PARSES(s, fmt, want)                                                                      \
  do {                                                                                            \
    int64_t got_ = 0;                                                                             \
    ck_assert_msg(parse(s, fmt, &got_), "\"%s\" with \"%s\" failed", s, fmt);                     \
    ck_assert_msg(got_ == (int64_t)(want), "\"%s\" with \"%s\": %lld, want %lld", s, fmt,         \
                  (long long)got_, (long long)(want));                                            \
  } while (0)

#define FAILS(s, fmt)                                                                             \
  do {                                                                                            \
    int64_t got_ = 0;                                                                             \
    ck_assert_msg(!parse(s, fmt, &got_), "\"%s\" with \"%s\" parsed", s, fmt);                    \
  } while (0)

START_TEST(parse_common_formats) {
  PARSES("10/Oct/2000:13:55:36 -0700", "%d/%b/%Y:%H:%M:%S %z", 971211336000);
  PARSES("2000-10-10T20:55:36Z", "%Y-%m-%dT%H:%M:%S%z", 971211336000);
  PARSES("2000-10-10 20:55:36", "%Y-%m-%d %H:%M:%S", 971211336000);
  PARSES("2000-10-10 20:55:36", "%F %T", 971211336000);
  PARSES("1970-01-01", "%Y-%m-%d", 0);
  PARSES("2024-02-29 23:59:59", "%Y-%m-%d %H:%M:%S", 1709251199000);
  PARSES("1969-12-31 23:59:59", "%F %T", -1000);
  PARSES("0001-01-01", "%F", -62135596800000);
  PARSES("9999-12-31 23:59:59", "%F %T", 253402300799000);
  PARSES("1600-02-29", "%F", -11670998400000);
  PARSES("2023-11-05 14:30 +05:30", "%Y-%m-%d %H:%M %z", 1699174800000);
  PARSES("2023-11-05 14:30 +0530", "%Y-%m-%d %H:%M %z", 1699174800000);
  PARSES("2023-11-05 09 +00", "%Y-%m-%d %H %z", 1699174800000);
  PARSES("01/02/99 03:04:05", "%D %T", 915246245000);
  PARSES("1/2/1999 3:4:5", "%m/%d/%Y %H:%M:%S", 915246245000);
  PARSES("20210301", "%Y%m%d", 1614556800000);
  PARSES("Mon, 01 Mar 2021 00:00:00 GMT", "%a, %d %b %Y %H:%M:%S %Z", 1614556800000);
  PARSES("Monday 1 march 2021", "%A %e %B %Y", 1614556800000);
  PARSES("MAR  1 2021", "%b %e %Y", 1614556800000);
  PARSES("March 1 2021", "%b %d %Y", 1614556800000); /* %b takes the full name too */
  PARSES("2021 060", "%Y %j", 1614556800000);        /* day 60 of 2021 is March 1 */
  PARSES("2021-03-01 060", "%F %j", 1614556800000);
  PARSES("12:00:00 AM", "%I:%M:%S %p", 0);
  PARSES("12:30 pm", "%I:%M %p", 45000000);
  PARSES("01:00 PM", "%I:%M %p", 13 * 3600000);
  PARSES("11", "%I", 11 * 3600000);
  PARSES("23:59", "%R", 86340000);
  PARSES("10%", "%S%%", 10000);
  PARSES("%2000", "%%%Y", 946684800000);
}
END_TEST

START_TEST(parse_fraction_epoch_whitespace) {
  PARSES("2009-02-13 23:31:30.123", "%F %T.%f", 1234567890123);
  PARSES("2009-02-13 23:31:30.1", "%F %T.%f", 1234567890100);
  PARSES("2009-02-13 23:31:30.123999999", "%F %T.%f", 1234567890123); /* truncated */
  PARSES("1234567890", "%s", 1234567890000);
  PARSES("1234567890.5", "%s.%f", 1234567890500);
  PARSES("-1", "%s", -1000);
  PARSES("-2.500", "%s.%f", -1500);
  PARSES("0", "%s", 0);
  /* One format space matches any run of whitespace, or none. */
  PARSES("2000-10-10 \t\n 20:55:36", "%F %T", 971211336000);
  PARSES("2000-10-1020:55:36", "%F %T", 971211336000);
  PARSES("2000-10-10  20:55:36", "%F%n%T", 971211336000);
  PARSES("x2000", "x%Y", 946684800000);
  PARSES("", "", 0);
  FAILS("1234567890123456789", "%s"); /* 19 digits: could overflow ms */
  FAILS("1.2345678901", "%s.%f");     /* 10 fraction digits */
}
END_TEST

START_TEST(parse_invalid) {
  FAILS("2023-02-29", "%F");  /* not a leap year */
  FAILS("2024-02-30", "%F");
  FAILS("1900-02-29", "%F");
  FAILS("2023-04-31", "%F");
  FAILS("2023-13-01", "%F");
  FAILS("2023-00-01", "%F");
  FAILS("2023-01-00", "%F");
  FAILS("2023-01-32", "%F");
  FAILS("2023-01-01 24:00:00", "%F %T");
  FAILS("2023-01-01 23:60:00", "%F %T");
  FAILS("2023-01-01 23:59:60", "%F %T"); /* no leap seconds */
  FAILS("2023 366", "%Y %j");
  FAILS("2023 000", "%Y %j");
  FAILS("2021-03-02 060", "%F %j"); /* %j disagrees */
  FAILS("00:00 AM", "%I:%M %p");
  FAILS("13:00 PM", "%I:%M %p");
  FAILS("10:00 XM", "%I:%M %p");
  FAILS("23", "%Y");          /* %Y is exactly 4 digits */
  FAILS("12023", "%Y");       /* trailing input */
  FAILS("2023-01-01 ", "%F"); /* trailing whitespace */
  FAILS("2023-01-01x", "%F");
  FAILS("2023-01", "%F");     /* input ends early */
  FAILS("", "%Y");
  FAILS("Foo 1 2021", "%b %d %Y");
  FAILS("Ma 1 2021", "%b %d %Y");
  FAILS("2000-10-10 +07", "%F %Q"); /* unknown directive */
  FAILS("2000", "%Y%");             /* lone % at the end */
  FAILS("2000 +2400", "%Y %z");
  FAILS("2000 +0760", "%Y %z");
  FAILS("2000 +7", "%Y %z");
  FAILS("2000 0700", "%Y %z");
  FAILS("2000 +07:0", "%Y %z");
  FAILS("2000 EST", "%Y %Z");
  FAILS("2000-10-10", "%Y/%m/%d");
  FAILS("-5", "%Y");
  FAILS("2000-1o-10", "%F");
}
END_TEST

START_TEST(format_examples) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  struct {
    int64_t t;
    const char *fmt, *want;
  } cases[] = {
      {971211336000, "%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:20:55:36 +0000"},
      {1234567890123, "%F %T.%f", "2009-02-13 23:31:30.123"},
      {1234567890123, "%a %A %b %B %h %j %y %I %p %Z", "Fri Friday Feb February Feb 044 09 11 PM UTC"},
      {1234567890123, "%s", "1234567890"},
      {1234567890123, "%D %R", "02/13/09 23:31"},
      {1234567890123, "%e|%%|%n|%t|", "13|%|\n|\t|"},
      {0, "%F %T.%f", "1970-01-01 00:00:00.000"},
      {0, "%a %I %p", "Thu 12 AM"},
      {-1, "%F %T.%f", "1969-12-31 23:59:59.999"},
      {-1, "%s.%f", "-1.999"},
      {-1500, "%s.%f", "-2.500"},
      {-62135596800000, "%F", "0001-01-01"},
      {-62135596800000 - 86400000, "%F %A", "0000-12-31 Sunday"},
      {-62167219200000 - 86400000, "%F", "-0001-12-31"},
      {253402300800000, "%F", "10000-01-01"},
      {1709251199000, "%j", "060"},
      {86400000 * 4, "%e %a", " 5 Mon"},
      {0, "", ""},
      {0, "plain text", "plain text"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ds_str out;
    ck_assert(ds_format_time(&a, cases[i].t, S(cases[i].fmt), &out));
    ck_assert_msg(out.len == (int64_t)strlen(cases[i].want) &&
                      (out.len == 0 || memcmp(out.ptr, cases[i].want, (size_t)out.len) == 0),
                  "format %lld with \"%s\": \"%.*s\", want \"%s\"", (long long)cases[i].t,
                  cases[i].fmt, (int)out.len, out.ptr, cases[i].want);
  }
  ds_str out;
  ck_assert(!ds_format_time(&a, 0, S("%Q"), &out));
  ck_assert(!ds_format_time(&a, 0, S("abc%"), &out));
  /* Extreme instants do not overflow. */
  ck_assert(ds_format_time(&a, INT64_MIN, S("%F %T.%f %s %j %a"), &out));
  ck_assert(ds_format_time(&a, INT64_MAX, S("%F %T.%f %s %j %a"), &out));
  ds_arena_destroy(&a);
}
END_TEST

/* format -> parse is the identity, for instants from year 1 to 9999. */
START_TEST(format_parse_round_trip) {
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  const char *fmts[] = {"%F %T.%f", "%Y-%m-%dT%H:%M:%S.%f%z", "%d/%b/%Y:%H:%M:%S.%f %z",
                        "%a, %d %B %Y %I:%M:%S.%f %p %Z", "%Y %j %T.%f", "%s.%f"};
  const int64_t lo = -62135596800000, hi = 253402300799999;
  uint64_t x = 88172645463325252u;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t t = lo + (int64_t)(x % (uint64_t)(hi - lo));
    for (size_t f = 0; f < sizeof fmts / sizeof *fmts; f++) {
      ds_str out;
      ck_assert(ds_format_time(&a, t, S(fmts[f]), &out));
      int64_t back;
      ck_assert_msg(ds_parse_time(out, S(fmts[f]), &back) && back == t, "%lld -> %.*s",
                    (long long)t, (int)out.len, out.ptr);
    }
    ds_arena_reset(&a);
  }
  /* Every day around the epoch and around leap years. */
  for (int64_t d = -800; d < 800; d++) {
    ds_str out;
    int64_t t = d * 86400000 * 367 / 7, back;
    ck_assert(ds_format_time(&a, t, S("%F %T.%f"), &out));
    ck_assert(ds_parse_time(out, S("%F %T.%f"), &back) && back == t);
  }
  ds_arena_destroy(&a);
}
END_TEST

START_TEST(days_from_civil) {
  ck_assert_int_eq(ds_days_from_civil(1970, 1, 1), 0);
  ck_assert_int_eq(ds_days_from_civil(1970, 1, 2), 1);
  ck_assert_int_eq(ds_days_from_civil(1969, 12, 31), -1);
  ck_assert_int_eq(ds_days_from_civil(2000, 3, 1), 11017);
  ck_assert_int_eq(ds_days_from_civil(1, 1, 1), -719162);
}
END_TEST

static Suite *time_suite(void) {
  Suite *s = suite_create("rt_time");
  TCase *tc = tcase_create("time");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, parse_common_formats);
  tcase_add_test(tc, parse_fraction_epoch_whitespace);
  tcase_add_test(tc, parse_invalid);
  tcase_add_test(tc, format_examples);
  tcase_add_test(tc, format_parse_round_trip);
  tcase_add_test(tc, days_from_civil);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(time_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
