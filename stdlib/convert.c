/*
 * convert.c — number <-> string conversions: parseInt, parseFloat, str(int),
 * str(float), int(float).
 *
 * All of it is locale-independent: parsing is done here digit by digit, and
 * where libc does the exact decimal/binary work (strtod, snprintf "%e") the
 * strings handed to it or read back contain only digits, a sign and 'e', so
 * the locale's decimal point never matters.
 *
 * Decisions where the spec is silent (to be written into LANGUAGE.md):
 *   - parseInt: [+-]?[0-9]+, nothing else (no whitespace, '_', hex); a value
 *     outside int64 is none. ("+5" is 5, as Java's Long.parseLong.)
 *   - parseFloat: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?,
 *     correctly rounded (round to nearest even). No whitespace, "inf",
 *     "Infinity", "nan", hex floats or Java's d/f suffixes: those are none.
 *     A finite literal too large for a double ("1e400") is none; one too
 *     small rounds to 0.0 or a subnormal, as Java. "-0" is -0.0.
 *   - int(f) truncates toward zero; NaN or a value outside int64 is a record
 *     error (ds_float_to_int returns false).
 *
 * str(float) prints exactly Python 3's repr(float): the shortest digits that
 * read back to the same double (the nearest such string if several), fixed
 * notation when the decimal exponent is in [-4, 16) with at least one digit
 * after the point, otherwise d[.ddd]e±XX with at least two exponent digits.
 * Method (a first, correct, not the fastest version): integers below 1e16
 * print directly; otherwise take the correctly rounded 15-digit form from
 * snprintf and keep it, trailing zeros stripped, if strtod reads it back;
 * else the same with 16 digits (and its two 16-digit neighbours, which matter
 * next to powers of two); else 17 digits, which always read back. For at
 * most 15 digits the rounded form is the only candidate, so this is exact.
 * Subnormals have fewer significant bits: for them k = 1, 2, ... digits are
 * tried in turn;
 * tests compare it with python3 on thousands of values. A Ryu-style
 * formatter would be several times faster.
 */
#include "ds_rt.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ds_parse_int(ds_str s, int64_t *out) {
  if (s.len <= 0)
    return false;
  const char *p = s.ptr, *e = s.ptr + s.len;
  bool neg = false;
  if (p < e && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  if (p == e)
    return false;
  /* Accumulate as a negative number so INT64_MIN fits. */
  int64_t v = 0;
  for (; p < e; p++) {
    unsigned d = (unsigned char)*p - '0';
    if (d > 9)
      return false;
    if (v < (INT64_MIN + (int64_t)d) / 10)
      return false;
    v = v * 10 - (int64_t)d;
  }
  if (!neg) {
    if (v == INT64_MIN)
      return false;
    v = -v;
  }
  *out = v;
  return true;
}

enum {
  MAX_SIG = 800, /* significant digits kept for strtod; 767 decide any rounding */
  MAX_EXP = 100000000,
};

bool ds_parse_float(ds_str s, double *out) {
  if (s.len <= 0)
    return false;
  const char *p = s.ptr, *e = s.ptr + s.len;
  char buf[MAX_SIG + 2 + 16];
  int nd = 0;               /* significant digits in buf */
  int64_t dropped = 0;      /* digits after the first MAX_SIG significant ones */
  int64_t nfrac = 0;        /* digits after the point */
  bool sticky = false;      /* a dropped digit was non-zero */
  bool any = false, neg = false;

  if (p < e && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  for (int part = 0; part < 2; part++) {
    for (; p < e && (unsigned char)(*p - '0') <= 9; p++) {
      any = true;
      nfrac += part;
      if (nd == 0 && *p == '0')
        continue;
      if (nd < MAX_SIG) {
        buf[nd++] = *p;
      } else {
        dropped++;
        sticky |= *p != '0';
      }
    }
    if (part == 0) {
      if (p < e && *p == '.')
        p++;
      else
        break;
    }
  }
  if (!any)
    return false;
  int64_t exp = 0;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    bool eneg = false;
    if (p < e && (*p == '+' || *p == '-'))
      eneg = *p++ == '-';
    if (p == e)
      return false;
    for (; p < e; p++) {
      unsigned d = (unsigned char)*p - '0';
      if (d > 9)
        return false;
      if (exp < MAX_EXP)
        exp = exp * 10 + d;
    }
    if (eneg)
      exp = -exp;
  }
  if (p != e)
    return false;
  if (nd == 0) {
    *out = neg ? -0.0 : 0.0;
    return true;
  }
  /* value = buf * 10^scale (+ a sticky digit standing for what was dropped). */
  int64_t scale = exp - nfrac + dropped;
  if (sticky) {
    buf[nd++] = '1';
    scale--;
  }
  if (scale > 1000)
    return false; /* at least 1e1000 */
  if (scale < -2000)
    scale = -2000; /* below 1e-1100: rounds to zero all the same */
  snprintf(buf + nd, 16, "e%d", (int)scale);
  double v = strtod(buf, NULL);
  if (isinf(v))
    return false;
  *out = neg ? -v : v;
  return true;
}

/* "00" "01" ... "99": two digits per division. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

int ds_format_int(char *buf, int64_t x) {
  char tmp[DS_FORMAT_INT_MAX];
  uint64_t u = x < 0 ? -(uint64_t)x : (uint64_t)x;
  int n = DS_FORMAT_INT_MAX; /* tmp[n..] holds the digits */
  while (u >= 100) {
    unsigned d = (unsigned)(u % 100) * 2;
    u /= 100;
    tmp[--n] = digit_pairs[d + 1];
    tmp[--n] = digit_pairs[d];
  }
  if (u >= 10) {
    tmp[--n] = digit_pairs[u * 2 + 1];
    tmp[--n] = digit_pairs[u * 2];
  } else {
    tmp[--n] = (char)('0' + u);
  }
  int len = 0;
  if (x < 0)
    buf[len++] = '-';
  memcpy(buf + len, tmp + n, (size_t)(DS_FORMAT_INT_MAX - n));
  return len + DS_FORMAT_INT_MAX - n;
}

bool ds_float_to_int(double f, int64_t *out) {
  if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
    return false; /* NaN fails both comparisons */
  *out = (int64_t)f;
  return true;
}

/* Digits of a positive double: digits d[0..n) with the first one at decimal
 * exponent e10 (value = 0.d... * 10^(e10+1)). */
typedef struct {
  char d[24]; /* the significant digits, no trailing zeros */
  int n;      /* how many */
  int e10;    /* decimal exponent of d[0] */
} Digits;

/* The correctly rounded `prec`-digit form of v (> 0). */
static void round_digits(double v, int prec, Digits *out) {
  char tmp[40];
  snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
  const char *p = tmp;
  out->n = 0;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9')
      out->d[out->n++] = *p; /* any other byte is the locale's radix */
  out->e10 = atoi(p + 1);   /* "e+05", "e-310": atoi reads the sign */
}

static void strip_zeros(Digits *d) {
  while (d->n > 1 && d->d[d->n - 1] == '0')
    d->n--;
}

/* Does the decimal d read back as exactly v? */
static bool reads_back(const Digits *d, double v) {
  char tmp[48];
  memcpy(tmp, d->d, (size_t)d->n);
  snprintf(tmp + d->n, sizeof tmp - (size_t)d->n, "e%d", d->e10 - (d->n - 1));
  return strtod(tmp, NULL) == v;
}

/* d (16 digits) plus or minus one unit in the last place. */
static Digits neighbour(const Digits *d, int step) {
  Digits r = *d;
  int i = r.n - 1;
  if (step > 0) {
    while (i >= 0 && r.d[i] == '9')
      r.d[i--] = '0';
    if (i < 0) { /* 9999...9 + 1 = 1000...0, one decade up */
      r.d[0] = '1';
      r.e10++;
    } else {
      r.d[i]++;
    }
  } else {
    while (i >= 0 && r.d[i] == '0')
      r.d[i--] = '9';
    r.d[i]--; /* d[0] is never '0' */
    if (r.d[0] == '0') { /* 1000...0 - 1: the finer grid of the decade below */
      memset(r.d, '9', (size_t)r.n);
      r.e10--;
    }
  }
  return r;
}

static void shortest(double v, Digits *out) {
  if (v < DBL_MIN) {
    /* Subnormal: fewer significant bits, so fewer digits may do; the
     * rounding interval is symmetric, so the nearest k-digit decimal reads
     * back whenever any k-digit one does. */
    for (int k = 1; k < 17; k++) {
      round_digits(v, k, out);
      if (reads_back(out, v))
        goto done;
    }
    round_digits(v, 17, out);
    goto done;
  }
  round_digits(v, 15, out);
  if (reads_back(out, v))
    goto done;
  round_digits(v, 16, out);
  if (reads_back(out, v))
    goto done;
  for (int step = -1; step <= 1; step += 2) {
    Digits nb = neighbour(out, step);
    if (reads_back(&nb, v)) {
      *out = nb;
      goto done;
    }
  }
  round_digits(v, 17, out);
done:
  strip_zeros(out);
}

int ds_format_float(char *buf, double x) {
  int len = 0;
  if (isnan(x)) {
    memcpy(buf, "nan", 3);
    return 3;
  }
  if (signbit(x))
    buf[len++] = '-';
  double v = fabs(x);
  if (isinf(v)) {
    memcpy(buf + len, "inf", 3);
    return len + 3;
  }
  if (v == 0) {
    memcpy(buf + len, "0.0", 3);
    return len + 3;
  }
  if (v < 1e16 && v == (double)(int64_t)v) {
    /* Integral and exact: every digit is significant; fixed notation. */
    len += ds_format_int(buf + len, (int64_t)v);
    buf[len++] = '.';
    buf[len++] = '0';
    return len;
  }
  Digits d;
  shortest(v, &d);
  if (d.e10 >= 16 || d.e10 < -4) {
    buf[len++] = d.d[0];
    if (d.n > 1) {
      buf[len++] = '.';
      memcpy(buf + len, d.d + 1, (size_t)(d.n - 1));
      len += d.n - 1;
    }
    buf[len++] = 'e';
    int e = d.e10;
    buf[len++] = e < 0 ? '-' : '+';
    if (e < 0)
      e = -e;
    if (e >= 100)
      buf[len++] = (char)('0' + e / 100);
    buf[len++] = (char)('0' + e / 10 % 10);
    buf[len++] = (char)('0' + e % 10);
  } else if (d.e10 >= 0) {
    int ip = d.e10 + 1; /* digits before the point */
    for (int i = 0; i < ip; i++)
      buf[len++] = i < d.n ? d.d[i] : '0';
    buf[len++] = '.';
    if (d.n > ip) {
      memcpy(buf + len, d.d + ip, (size_t)(d.n - ip));
      len += d.n - ip;
    } else {
      buf[len++] = '0';
    }
  } else {
    buf[len++] = '0';
    buf[len++] = '.';
    for (int i = -1; i > d.e10; i--)
      buf[len++] = '0';
    memcpy(buf + len, d.d, (size_t)d.n);
    len += d.n;
  }
  return len;
}
