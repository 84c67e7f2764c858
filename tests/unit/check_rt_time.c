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
#include <time.h>

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

static uint64_t rnd_state = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state;
}

static int rndn(int n) {
  return (int)(rnd() % (uint64_t)n);
}

/* Appends a number of `digits` digits (value below 10^digits) to b. */
static int put_digits(char *b, int digits, int max) {
  int v = rndn(max + 1), n = 0;
  char tmp[12];
  for (int k = 0; k < digits; k++, v /= 10)
    tmp[n++] = (char)('0' + v % 10);
  for (int k = 0; k < n; k++)
    b[k] = tmp[n - 1 - k];
  return n;
}

/* A number field: usually 2 digits in range, sometimes 1, 0 or 3, or out of range. */
static int put_field(char *b, int max) {
  int r = rndn(20);
  if (r == 0)
    return 0;
  if (r == 1)
    return put_digits(b, 3, 999);
  if (r < 5)
    return put_digits(b, 1, 9);
  return put_digits(b, 2, r == 5 ? 99 : max);
}

static int put_str(char *b, const char *s) {
  int n = (int)strlen(s);
  memcpy(b, s, (size_t)n);
  return n;
}

static int put_sep(char *b, char want) {
  int r = rndn(40);
  if (r == 0)
    return 0;
  if (r == 1)
    return put_str(b, " ");
  if (r == 2)
    return put_str(b, "//");
  b[0] = want;
  return 1;
}

static int put_space(char *b) {
  static const char *spaces[] = {" ", " ", " ", " ", "", "  ", "\t", " \n ", "x"};
  return put_str(b, spaces[rndn(sizeof spaces / sizeof *spaces)]);
}

static int put_year(char *b) {
  int r = rndn(20);
  if (r == 0)
    return put_digits(b, 3, 999);
  if (r == 1)
    return put_digits(b, 5, 99999);
  if (r == 2)
    return put_str(b, "-200");
  return put_digits(b, 4, 9999);
}

static int put_month(char *b) {
  static const char *full[] = {"January", "February", "March",    "April",
                               "May",     "June",     "July",     "August",
                               "September", "October", "November", "December"};
  static const char *odd[] = {"",      "Ma",    "Foo",    "jAn",  "JAN",
                              "Sept",  "Junee", "mayday", "Dece", "Dec1"};
  int r = rndn(20);
  if (r < 2)
    return put_str(b, odd[rndn(sizeof odd / sizeof *odd)]);
  const char *m = full[rndn(12)];
  int n = r < 12 ? 3 : r < 17 ? (int)strlen(m) : 3 + rndn((int)strlen(m) - 2);
  for (int k = 0; k < n; k++)
    b[k] = rndn(4) ? m[k] : (char)(m[k] ^ 0x20); /* flip the case now and then */
  return n;
}

static int put_zone(char *b) {
  static const char *zones[] = {"+0000", "+0000", "-0700", "+0530", "+05:30", "-12:45", "Z",
                                "+07",   "+2400", "+0760", "+7",    "0700",   "+07:0", "",
                                "+23:59", "-0000", "z",    "+05:3x"};
  return put_str(b, zones[rndn(sizeof zones / sizeof *zones)]);
}

/* Random damage: a byte replaced, dropped or inserted, or none. */
static int mutate(char *b, int n) {
  int r = rndn(6);
  if (r > 2 || n == 0)
    return n;
  static const char bytes[] = "0123456789/:-+ TZaAnNJ\t";
  int at = rndn(n);
  if (r == 0) {
    b[at] = bytes[rndn((int)sizeof bytes - 1)];
  } else if (r == 1) {
    memmove(b + at, b + at + 1, (size_t)(n - at - 1));
    n--;
  } else {
    memmove(b + at + 1, b + at, (size_t)(n - at));
    b[at] = bytes[rndn((int)sizeof bytes - 1)];
    n++;
  }
  return n;
}

/* Parses b[0..n) with the fast-path format and with an equivalent one that
 * goes through the general interpreter: same result, same instant. */
static void same_both_ways(const char *b, int n, const char *fast, const char *general, int *ok) {
  int64_t t1 = 0, t2 = 0;
  ds_str in = {b, n};
  bool r1 = ds_parse_time(in, S(fast), &t1), r2 = ds_parse_time(in, S(general), &t2);
  ck_assert_msg(r1 == r2 && (!r1 || t1 == t2), "\"%.*s\": \"%s\" gives %d/%lld, \"%s\" %d/%lld", n,
                b, fast, r1, (long long)t1, general, r2, (long long)t2);
  *ok += r1;
}

/* The fast paths for the common log format (the fixed-width one included)
 * and the two ISO-like formats against the general interpreter, on random
 * near-valid and invalid stamps. */
START_TEST(fast_path_vs_general) {
  static const char *clf = "%d/%b/%Y:%H:%M:%S %z";
  static const char *clf_general[] = {"%d/%h/%Y:%T %z", "%d/%b/%Y:%H:%M:%S%n%z",
                                      "%d/%B/%Y:%H:%M:%S%t%z"};
  static const char *iso_sp = "%Y-%m-%d %H:%M:%S", *iso_t = "%Y-%m-%dT%H:%M:%S";
  int ok_clf = 0, ok_iso = 0, ok_fixed = 0; /* ok_fixed: 26-byte CLF stamps (fixed_clf) */
  char b[128];
  for (int iter = 0; iter < 300000; iter++) {
    int n = 0;
    n += put_field(b + n, 31);
    n += put_sep(b + n, '/');
    n += put_month(b + n);
    n += put_sep(b + n, '/');
    n += put_year(b + n);
    n += put_sep(b + n, ':');
    n += put_field(b + n, 23);
    n += put_sep(b + n, ':');
    n += put_field(b + n, 59);
    n += put_sep(b + n, ':');
    n += put_field(b + n, 59);
    n += put_space(b + n);
    n += put_zone(b + n);
    if (rndn(30) == 0)
      n += put_str(b + n, rndn(2) ? " " : "0");
    n = mutate(b, n);
    int before = ok_clf;
    same_both_ways(b, n, clf, clf_general[iter % 3], &ok_clf);
    ok_fixed += n == 26 && ok_clf > before;

    n = 0;
    n += put_year(b + n);
    n += put_sep(b + n, '-');
    n += put_field(b + n, 12);
    n += put_sep(b + n, '-');
    n += put_field(b + n, 31);
    int t = rndn(8);
    n += t == 0 ? put_str(b + n, "T") : t == 1 ? put_str(b + n, "t") : put_space(b + n);
    n += put_field(b + n, 23);
    n += put_sep(b + n, ':');
    n += put_field(b + n, 59);
    n += put_sep(b + n, ':');
    n += put_field(b + n, 59);
    if (rndn(30) == 0)
      n += put_str(b + n, rndn(2) ? " " : "Z");
    n = mutate(b, n);
    same_both_ways(b, n, iso_sp, "%F %T", &ok_iso);
    same_both_ways(b, n, iso_t, "%FT%T", &ok_iso);
  }
  /* Both kinds of input occur often enough to mean something. */
  ck_assert_msg(ok_clf > 15000 && ok_iso > 15000 && ok_fixed > 1000, "only %d / %d / %d parsed", ok_clf,
                ok_iso, ok_fixed);

  /* Every valid instant formatted in these formats reads back, both ways. */
  ds_arena a;
  ds_arena_init(&a, NULL, NULL);
  const int64_t lo = -62135596800000, hi = 253402300799999;
  for (int iter = 0; iter < 20000; iter++) {
    int64_t t = lo + (int64_t)(rnd() % (uint64_t)(hi - lo));
    t -= ((t % 1000) + 1000) % 1000;
    const char *fmts[] = {clf, iso_sp, iso_t};
    for (int f = 0; f < 3; f++) {
      ds_str out;
      int64_t back = 0;
      ck_assert(ds_format_time(&a, t, S(fmts[f]), &out));
      ck_assert_msg(ds_parse_time(out, S(fmts[f]), &back) && back == t, "%.*s", (int)out.len,
                    out.ptr);
    }
    ds_arena_reset(&a);
  }
  ds_arena_destroy(&a);
  PARSES("15/Jan/2024:00:00:01 +0000", "%d/%b/%Y:%H:%M:%S %z", 1705276801000);
  PARSES("5/january/2024:0:0:1 -01:30", "%d/%b/%Y:%H:%M:%S %z", 1704418201000);
  PARSES("29/Feb/2024:23:59:59+2359", "%d/%b/%Y:%H:%M:%S %z", 1709164859000);
  PARSES("2024-01-15 00:00:01", "%Y-%m-%d %H:%M:%S", 1705276801000);
  PARSES("2024-1-5T1:2:3", "%Y-%m-%dT%H:%M:%S", 1704416523000);
  FAILS("30/Feb/2024:00:00:00 +0000", "%d/%b/%Y:%H:%M:%S %z");
  FAILS("15/Jan/2024:00:00:01 +0000 ", "%d/%b/%Y:%H:%M:%S %z");
  FAILS("2024-01-15 00:00:01 ", "%Y-%m-%d %H:%M:%S");
  FAILS("2024-01-15 00:00:01", "%Y-%m-%dT%H:%M:%S");
  FAILS("2024-01-15T00:00:01", "%Y-%m-%d %H:%M:%S");
}
END_TEST

/* read_name against its definition: every full name is tried before every
 * 3-letter form, any case, longest consumed. The text after the name is put
 * into the format as literal bytes, so the parse succeeds only if exactly the
 * reference's bytes were taken as the name. */
START_TEST(names_like_reference) {
  static const char *months[] = {"January", "February", "March",    "April",
                                 "May",     "June",     "July",     "August",
                                 "September", "October", "November", "December"};
  static const char *days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                               "Thursday", "Friday", "Saturday"};
  static const char *tails[] = {"",   "x",   "1", "ember", "uary", "ch",
                                "day", "e",   "y", "sday",  "ust"};
  char in[64], fmt[80];
  for (int kind = 0; kind < 2; kind++) {
    const char *const *names = kind ? days : months;
    int count = kind ? 7 : 12;
    for (int i = 0; i < count; i++) {
      int len = (int)strlen(names[i]);
      for (int plen = 0; plen <= len; plen++) {
        for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
          for (int caps = 0; caps < 4; caps++) {
            int n = 0;
            for (int k = 0; k < plen; k++) {
              char c = names[i][k];
              bool flip = caps == 1 ? k == 0 : caps == 2 ? true : caps == 3 ? k % 2 : false;
              in[n++] = flip ? (char)(c ^ 0x20) : c;
            }
            n += sprintf(in + n, "%s", tails[t]);
            /* The reference. */
            int got = -1, used = 0;
            for (int full = 1; full >= 0 && got < 0; full--) {
              for (int m = 0; m < count && got < 0; m++) {
                int l = full ? (int)strlen(names[m]) : 3;
                if (n < l)
                  continue;
                int k = 0;
                while (k < l && (in[k] | 0x20) == (names[m][k] | 0x20))
                  k++;
                if (k == l) {
                  got = m;
                  used = l;
                }
              }
            }
            snprintf(fmt, sizeof fmt, "%s%s", kind ? "%a" : "%b", got < 0 ? in : in + used);
            int64_t v = -1;
            bool ok = ds_parse_time((ds_str){in, n}, S(fmt), &v);
            ck_assert_msg(ok == (got >= 0), "\"%.*s\" with \"%s\": %d", n, in, fmt, ok);
            if (ok && !kind)
              ck_assert_int_eq(v, ds_days_from_civil(1970, got + 1, 1) * 86400000);
          }
        }
      }
    }
  }
}
END_TEST

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* DS_BENCH=1: ns per parseTime call (best of 5 runs). */
START_TEST(bench_parse_time) {
  if (!getenv("DS_BENCH"))
    return;
  struct {
    const char *s, *fmt;
  } cases[] = {{"15/Jan/2024:00:00:01 +0000", "%d/%b/%Y:%H:%M:%S %z"},
               {"15/Jan/2024:00:00:01 +0000", "%d/%h/%Y:%T %z"}, /* the general path */
               {"2024-01-15 00:00:01", "%Y-%m-%d %H:%M:%S"},
               {"2024-01-15T00:00:01.250Z", "%Y-%m-%dT%H:%M:%S.%f%z"},
               {"Mon, 15 January 2024 00:00:01 GMT", "%a, %d %B %Y %H:%M:%S %Z"}};
  const long n = 5000000;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    ds_str fmt = S(cases[c].fmt);
    double best = 1e30;
    int64_t sink = 0;
    for (int r = 0; r < 5; r++) {
      double t0 = now_ns();
      for (long k = 0; k < n; k++) {
        volatile ds_str vs = S(cases[c].s); /* reloaded every call: nothing hoisted */
        int64_t t = 0;
        ds_parse_time((ds_str){vs.ptr, vs.len}, fmt, &t);
        sink += t;
      }
      double dt = (now_ns() - t0) / (double)n;
      best = dt < best ? dt : best;
    }
    printf("bench parseTime(\"%s\", \"%s\"): %.2f ns/call (%lld)\n", cases[c].s, cases[c].fmt,
           best, (long long)sink);
  }
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
  tcase_add_test(tc, fast_path_vs_general);
  tcase_add_test(tc, names_like_reference);
  suite_add_tcase(s, tc);
  TCase *bench = tcase_create("bench"); /* DS_BENCH=1 only */
  tcase_set_timeout(bench, 300);
  tcase_add_test(bench, bench_parse_time);
  suite_add_tcase(s, bench);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(time_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
