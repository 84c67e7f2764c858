/*
 * time.c — parseTime and formatTime: strptime/strftime-style conversion
 * between text and `time` (int64 milliseconds since 1970-01-01T00:00:00Z).
 *
 * Written here rather than taken from libc because libc's strptime depends
 * on the locale (month names, %p), has no portable %z, and would need
 * timegm; the calendar is the proleptic Gregorian one, converted with
 * Howard Hinnant's public-domain days-from-civil algorithms, valid for any
 * int64 millisecond value.
 *
 * Directives (both directions unless said):
 *   %Y year, exactly 4 digits when parsing (formatting: at least 4, '-' if < 0)
 *   %y 2 digits: 69..99 -> 1969..1999, 00..68 -> 2000..2068 (POSIX)
 *   %m month 1..12, %d day 1..31, %H 0..23, %M 0..59, %S 0..59 (no leap
 *      second): parsing takes 1 or 2 digits, formatting prints 2
 *   %e day, parsing allows leading spaces; formatting pads with a space
 *   %j day of the year 1..366 (1..3 digits; formatting 3)
 *   %I hour 1..12 and %p AM/PM (any case): %p only changes hours read by %I;
 *      %I without %p is AM. Formatting: %I 01..12, %p "AM"/"PM"
 *   %b %h %B English month names, any case; parsing accepts the full or the
 *      3-letter name for all three; formatting: %b %h "Oct", %B "October"
 *   %a %A English day names, parsed (full or 3 letters) and ignored (not
 *      checked against the date); formatting: "Tue", "Tuesday"
 *   %f fractional seconds: parsing 1..9 digits, truncated to milliseconds
 *      ("5" is 500 ms, "123456" is 123 ms); formatting 3 digits (ms)
 *   %z parsing: Z, +hh, +hhmm, +hh:mm (or -); formatting "+0000"
 *   %Z parsing: UTC, GMT, UT or Z (other zone names fail); formatting "UTC"
 *   %s epoch seconds (optional '-', at most 18 digits); when parsed it fixes
 *      the instant: the other fields are checked for syntax but ignored,
 *      except %f whose milliseconds are added. Formatting floors, and %f is
 *      the millisecond within that second, so -1.5 s prints as "-2.500" with
 *      "%s.%f" and reads back as -1500 ms
 *   %T = %H:%M:%S, %R = %H:%M, %D = %m/%d/%y, %F = %Y-%m-%d
 *   %n %t and any whitespace in the format: any run of whitespace, possibly
 *      empty (formatting: the format's bytes, %n newline, %t tab)
 *   %% a '%'; any other byte matches itself exactly.
 * Parsing must consume the whole input. Missing fields default to
 * 1970-01-01 00:00:00.000; without %z or %Z the text is UTC. An invalid date
 * (Feb 30, day 366 of a common year, %j disagreeing with %m/%d) fails, as
 * does an unknown directive (in formatting too).
 */
#include "ds_rt.h"

#include <string.h>

static const char *const month_names[12] = {"January", "February", "March",     "April",
                                            "May",     "June",     "July",      "August",
                                            "September", "October", "November", "December"};
static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const unsigned char month_len[12] = {7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8};
static const unsigned char day_len[7] = {6, 6, 7, 9, 8, 6, 8};

/* The first three letters of each name, lower case, packed little-end first
 * (byte k at bits 8k): what read_name compares the input's first three
 * (lower-cased) bytes with. No two names of a table share these three. */
#define PACK3(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)
static const uint32_t month_abbr[12] = {
    PACK3('j', 'a', 'n'), PACK3('f', 'e', 'b'), PACK3('m', 'a', 'r'), PACK3('a', 'p', 'r'),
    PACK3('m', 'a', 'y'), PACK3('j', 'u', 'n'), PACK3('j', 'u', 'l'), PACK3('a', 'u', 'g'),
    PACK3('s', 'e', 'p'), PACK3('o', 'c', 't'), PACK3('n', 'o', 'v'), PACK3('d', 'e', 'c')};
static const uint32_t day_abbr[7] = {
    PACK3('s', 'u', 'n'), PACK3('m', 'o', 'n'), PACK3('t', 'u', 'e'), PACK3('w', 'e', 'd'),
    PACK3('t', 'h', 'u'), PACK3('f', 'r', 'i'), PACK3('s', 'a', 't')};

enum { MS_PER_DAY = 86400000 };

/* A string literal and its length (no strlen per call). */
#define LIT(s) s, (int64_t)(sizeof s - 1)

int64_t ds_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static inline bool is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *s; /* the input */
  int64_t len;   /* its length */
  int64_t pos;   /* next byte to read */
  int64_t year;
  int mon, day, hour, min, sec, ms, yday, hour12;
  int64_t offset_min; /* east of UTC, from %z */
  int64_t epoch;      /* from %s */
  bool have_mon, have_day, have_yday, have_I, pm, have_epoch;
} Parse;

/* Reads min..max digits; false if fewer than min. */
static inline bool read_num(Parse *p, int min, int max, int64_t *out) {
  int64_t v = 0;
  int n = 0;
  while (n < max && p->pos < p->len && (unsigned char)(p->s[p->pos] - '0') <= 9) {
    v = v * 10 + (p->s[p->pos++] - '0');
    n++;
  }
  *out = v;
  return n >= min;
}

static inline bool read_range(Parse *p, int max_digits, int lo, int hi, int *out) {
  int64_t v;
  if (!read_num(p, 1, max_digits, &v) || v < lo || v > hi)
    return false;
  *out = (int)v;
  return true;
}

/* Matches the full or the 3-letter form of one of n names, any case; the
 * full form wins when the input continues with it. Since no two names share
 * their first three letters, this is the same as trying every full name
 * before every 3-letter form, with one comparison per name instead of two
 * string walks. */
static inline bool read_name(Parse *p, const char *const *names, const unsigned char *lens,
                             const uint32_t *abbr, int n, int *out) {
  if (p->len - p->pos < 3)
    return false;
  const char *s = p->s + p->pos;
  uint32_t key = PACK3((unsigned char)lower(s[0]), (unsigned char)lower(s[1]),
                       (unsigned char)lower(s[2]));
  int i = 0;
  while (i < n && abbr[i] != key)
    i++;
  if (i == n)
    return false;
  int64_t l = lens[i], k = 3;
  if (p->len - p->pos >= l) {
    while (k < l && lower(s[k]) == names[i][k])
      k++;
  }
  p->pos += k == l ? l : 3;
  *out = i;
  return true;
}

static bool read_lit(Parse *p, const char *lit, int64_t l) {
  if (p->len - p->pos < l || memcmp(p->s + p->pos, lit, (size_t)l) != 0)
    return false;
  p->pos += l;
  return true;
}

static inline void skip_space(Parse *p) {
  while (p->pos < p->len && is_space((unsigned char)p->s[p->pos]))
    p->pos++;
}

static inline bool parse_zone(Parse *p) {
  if (p->pos < p->len && p->s[p->pos] == 'Z') {
    p->pos++;
    p->offset_min = 0;
    return true;
  }
  if (p->pos >= p->len || (p->s[p->pos] != '+' && p->s[p->pos] != '-'))
    return false;
  bool neg = p->s[p->pos++] == '-';
  int64_t hh, mm = 0;
  if (!read_num(p, 2, 2, &hh) || hh > 23)
    return false;
  if (p->pos < p->len && p->s[p->pos] == ':') {
    p->pos++;
    if (!read_num(p, 2, 2, &mm))
      return false;
  } else if (p->pos < p->len && (unsigned char)(p->s[p->pos] - '0') <= 9) {
    if (!read_num(p, 2, 2, &mm))
      return false;
  }
  if (mm > 59)
    return false;
  p->offset_min = (neg ? -1 : 1) * (hh * 60 + mm);
  return true;
}

static bool parse_fmt(Parse *p, const char *f, int64_t flen);

static bool parse_directive(Parse *p, char c) {
  int64_t v;
  int k;
  switch (c) {
  case 'Y':
    if (!read_num(p, 4, 4, &v))
      return false;
    p->year = v;
    return true;
  case 'y':
    if (!read_num(p, 2, 2, &v))
      return false;
    p->year = v < 69 ? 2000 + v : 1900 + v;
    return true;
  case 'm':
    return (p->have_mon = read_range(p, 2, 1, 12, &p->mon));
  case 'd':
    return (p->have_day = read_range(p, 2, 1, 31, &p->day));
  case 'e':
    skip_space(p);
    return (p->have_day = read_range(p, 2, 1, 31, &p->day));
  case 'H':
    p->have_I = false;
    return read_range(p, 2, 0, 23, &p->hour);
  case 'I':
    p->have_I = true;
    return read_range(p, 2, 1, 12, &p->hour12);
  case 'M':
    return read_range(p, 2, 0, 59, &p->min);
  case 'S':
    return read_range(p, 2, 0, 59, &p->sec);
  case 'j':
    return (p->have_yday = read_range(p, 3, 1, 366, &p->yday));
  case 'f': {
    int64_t start = p->pos;
    if (!read_num(p, 1, 9, &v))
      return false;
    for (int64_t n = p->pos - start; n < 9; n++)
      v *= 10;
    p->ms = (int)(v / 1000000);
    return true;
  }
  case 'b':
  case 'B':
  case 'h':
    if (!read_name(p, month_names, month_len, month_abbr, 12, &k))
      return false;
    p->mon = k + 1;
    p->have_mon = true;
    return true;
  case 'a':
  case 'A':
    return read_name(p, day_names, day_len, day_abbr, 7, &k);
  case 'p':
    if (p->len - p->pos < 2 || lower(p->s[p->pos + 1]) != 'm')
      return false;
    c = lower(p->s[p->pos]);
    if (c != 'a' && c != 'p')
      return false;
    p->pm = c == 'p';
    p->pos += 2;
    return true;
  case 'z':
    return parse_zone(p);
  case 'Z':
    if (read_lit(p, LIT("UTC")) || read_lit(p, LIT("GMT")) || read_lit(p, LIT("UT")) ||
        read_lit(p, LIT("Z"))) {
      p->offset_min = 0;
      return true;
    }
    return false;
  case 's': {
    bool neg = p->pos < p->len && p->s[p->pos] == '-';
    p->pos += neg;
    if (!read_num(p, 1, 18, &v)) /* 18 digits: v * 1000 cannot overflow */
      return false;
    p->epoch = neg ? -v : v;
    p->have_epoch = true;
    return true;
  }
  case 'T':
    return parse_fmt(p, LIT("%H:%M:%S"));
  case 'R':
    return parse_fmt(p, LIT("%H:%M"));
  case 'D':
    return parse_fmt(p, LIT("%m/%d/%y"));
  case 'F':
    return parse_fmt(p, LIT("%Y-%m-%d"));
  case 'n':
  case 't':
    skip_space(p);
    return true;
  case '%':
    return read_lit(p, LIT("%"));
  default:
    return false;
  }
}

static bool parse_fmt(Parse *p, const char *f, int64_t flen) {
  for (int64_t i = 0; i < flen; i++) {
    unsigned char c = (unsigned char)f[i];
    if (c == '%') {
      if (++i == flen || !parse_directive(p, f[i]))
        return false;
    } else if (is_space(c)) {
      while (i + 1 < flen && is_space((unsigned char)f[i + 1]))
        i++;
      skip_space(p);
    } else {
      if (p->pos >= p->len || p->s[p->pos] != (char)c)
        return false;
      p->pos++;
    }
  }
  return true;
}

/* ---- Fast paths: a few common formats, recognised by their exact bytes and
 * parsed by the same steps parse_fmt takes for them, in a straight line
 * (no directive dispatch). They must give exactly what parse_fmt gives;
 * check_rt_time.c compares them with equivalent formats that parse_fmt
 * handles. */

static inline bool read_char(Parse *p, char c) {
  if (p->pos >= p->len || p->s[p->pos] != c)
    return false;
  p->pos++;
  return true;
}

/* %Y-%m-%d */
static inline bool fast_ymd(Parse *p) {
  int64_t v;
  if (!read_num(p, 4, 4, &v))
    return false;
  p->year = v;
  return read_char(p, '-') && (p->have_mon = read_range(p, 2, 1, 12, &p->mon)) &&
         read_char(p, '-') && (p->have_day = read_range(p, 2, 1, 31, &p->day));
}

/* %H:%M:%S */
static inline bool fast_hms(Parse *p) {
  return read_range(p, 2, 0, 23, &p->hour) && read_char(p, ':') &&
         read_range(p, 2, 0, 59, &p->min) && read_char(p, ':') &&
         read_range(p, 2, 0, 59, &p->sec);
}

/* %d/%b/%Y:%H:%M:%S %z (the common log format's stamp) */
static bool fast_clf(Parse *p) {
  int64_t v;
  int k;
  if (!(p->have_day = read_range(p, 2, 1, 31, &p->day)) || !read_char(p, '/') ||
      !read_name(p, month_names, month_len, month_abbr, 12, &k) || !read_char(p, '/'))
    return false;
  p->mon = k + 1;
  p->have_mon = true;
  if (!read_num(p, 4, 4, &v))
    return false;
  p->year = v;
  if (!read_char(p, ':') || !fast_hms(p))
    return false;
  skip_space(p);
  return parse_zone(p);
}

/* The common log format's stamp at its usual fixed width, "dd/Mon/yyyy:
 * HH:MM:SS +hhmm" (26 bytes), read at fixed offsets without the Parse
 * cursor. It accepts a subset of what fast_clf accepts, with the same
 * fields; anything else (other widths, full month names, bad bytes or
 * values) returns false and goes to fast_clf. */
static inline bool fixed_clf(Parse *p) {
  static const unsigned char digit_at[16] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25};
  const char *s = p->s;
  if (p->len != 26)
    return false;
  unsigned bad = 0;
  for (int i = 0; i < 16; i++)
    bad |= (unsigned char)(s[digit_at[i]] - '0') > 9;
  if (bad || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' ||
      (s[21] != '+' && s[21] != '-'))
    return false;
  uint32_t key = PACK3((unsigned char)lower(s[3]), (unsigned char)lower(s[4]), (unsigned char)lower(s[5]));
  int m = 0;
  while (m < 12 && month_abbr[m] != key)
    m++;
#define D2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
  int day = D2(0), hour = D2(12), min = D2(15), sec = D2(18), zh = D2(22), zm = D2(24);
  if (m == 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59 || zh > 23 || zm > 59)
    return false;
  p->day = day;
  p->have_day = true;
  p->mon = m + 1;
  p->have_mon = true;
  p->year = D2(7) * 100 + D2(9);
  p->hour = hour;
  p->min = min;
  p->sec = sec;
  p->offset_min = (s[21] == '-' ? -1 : 1) * (zh * 60 + zm);
#undef D2
  p->pos = 26;
  return true;
}

/* Parses s with fmt into p: a fast path for a known format, else parse_fmt. */
static inline bool parse_any(Parse *p, const char *f, int64_t flen) {
  static const char clf[] = "%d/%b/%Y:%H:%M:%S %z";
  static const char iso[] = "%Y-%m-%d %H:%M:%S"; /* and 'T' for the ' ' */
  if (flen == (int64_t)sizeof clf - 1 && memcmp(f, clf, sizeof clf - 1) == 0)
    return fixed_clf(p) || fast_clf(p);
  if (flen == (int64_t)sizeof iso - 1 && memcmp(f, iso, 8) == 0 && (f[8] == ' ' || f[8] == 'T') &&
      memcmp(f + 9, iso + 9, sizeof iso - 10) == 0) {
    if (!fast_ymd(p))
      return false;
    if (f[8] == ' ')
      skip_space(p);
    else if (!read_char(p, 'T'))
      return false;
    return fast_hms(p);
  }
  return parse_fmt(p, f, flen);
}

bool ds_parse_time(ds_str s, ds_str fmt, int64_t *out_ms) {
  Parse p = {.s = s.ptr, .len = s.len, .year = 1970, .mon = 1, .day = 1};
  if (!parse_any(&p, fmt.ptr, fmt.len) || p.pos != p.len)
    return false;
  if (p.have_epoch) {
    *out_ms = p.epoch * 1000 + p.ms;
    return true;
  }
  if (p.have_yday) {
    int ylen = is_leap(p.year) ? 366 : 365;
    if (p.yday > ylen)
      return false;
    int m = 1, d = p.yday;
    while (d > days_in_month(p.year, m))
      d -= days_in_month(p.year, m++);
    if ((p.have_mon && p.mon != m) || (p.have_day && p.day != d))
      return false;
    p.mon = m;
    p.day = d;
  }
  if (p.day > days_in_month(p.year, p.mon))
    return false;
  int hour = p.have_I ? p.hour12 % 12 + (p.pm ? 12 : 0) : p.hour;
  int64_t days = ds_days_from_civil(p.year, p.mon, p.day);
  *out_ms = days * MS_PER_DAY + (int64_t)hour * 3600000 + (int64_t)p.min * 60000 +
            (int64_t)p.sec * 1000 + p.ms - p.offset_min * 60000;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
  int64_t t_ms; /* the instant */
  int64_t year;
  int mon, day, hour, min, sec, ms, yday, wday;
} Civil;

/* Writes v (>= 0) with at least `width` digits, padded with `pad`. */
static int put_num(char *b, int64_t v, int width, char pad) {
  char tmp[24];
  int n = 0;
  uint64_t u = (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  int len = 0;
  for (int i = n; i < width; i++)
    b[len++] = pad;
  while (n)
    b[len++] = tmp[--n];
  return len;
}

static int put_str(char *b, const char *s, int n) {
  memcpy(b, s, (size_t)n);
  return n;
}

static int64_t emit_fmt(const Civil *c, const char *f, int64_t flen, char *dst);

static int64_t emit_sub(const Civil *c, const char *f, int64_t flen, char *dst) {
  return emit_fmt(c, f, flen, dst);
}

/* Output of one directive into b (>= 32 bytes) or, for the compound ones,
 * straight to dst (which may be NULL when only counting); -1 if unknown. */
static int64_t emit_directive(const Civil *c, char d, char *b, char *dst) {
  int hour12 = c->hour % 12 ? c->hour % 12 : 12;
  switch (d) {
  case 'Y':
    if (c->year < 0) {
      b[0] = '-';
      return 1 + put_num(b + 1, -c->year, 4, '0');
    }
    return put_num(b, c->year, 4, '0');
  case 'y':
    return put_num(b, (c->year % 100 + 100) % 100, 2, '0');
  case 'm':
    return put_num(b, c->mon, 2, '0');
  case 'd':
    return put_num(b, c->day, 2, '0');
  case 'e':
    return put_num(b, c->day, 2, ' ');
  case 'H':
    return put_num(b, c->hour, 2, '0');
  case 'I':
    return put_num(b, hour12, 2, '0');
  case 'M':
    return put_num(b, c->min, 2, '0');
  case 'S':
    return put_num(b, c->sec, 2, '0');
  case 'f':
    return put_num(b, c->ms, 3, '0');
  case 'j':
    return put_num(b, c->yday, 3, '0');
  case 'b':
  case 'h':
    return put_str(b, month_names[c->mon - 1], 3);
  case 'B':
    return put_str(b, month_names[c->mon - 1], month_len[c->mon - 1]);
  case 'a':
    return put_str(b, day_names[c->wday], 3);
  case 'A':
    return put_str(b, day_names[c->wday], day_len[c->wday]);
  case 'p':
    return put_str(b, c->hour < 12 ? "AM" : "PM", 2);
  case 'z':
    return put_str(b, "+0000", 5);
  case 'Z':
    return put_str(b, "UTC", 3);
  case 's': {
    int64_t secs = c->t_ms / 1000 - (c->t_ms % 1000 < 0);
    if (secs < 0) {
      b[0] = '-';
      return 1 + put_num(b + 1, -secs, 1, '0');
    }
    return put_num(b, secs, 1, '0');
  }
  case 'n':
    return put_str(b, "\n", 1);
  case 't':
    return put_str(b, "\t", 1);
  case '%':
    return put_str(b, "%", 1);
  case 'T':
    return emit_sub(c, LIT("%H:%M:%S"), dst);
  case 'R':
    return emit_sub(c, LIT("%H:%M"), dst);
  case 'D':
    return emit_sub(c, LIT("%m/%d/%y"), dst);
  case 'F':
    return emit_sub(c, LIT("%Y-%m-%d"), dst);
  default:
    return -1;
  }
}

/* Writes the output to dst, or only counts it when dst is NULL; -1 on an
 * unknown directive. */
static int64_t emit_fmt(const Civil *c, const char *f, int64_t flen, char *dst) {
  int64_t len = 0;
  char b[32];
  for (int64_t i = 0; i < flen; i++) {
    if (f[i] != '%') {
      if (dst)
        dst[len] = f[i];
      len++;
      continue;
    }
    if (++i == flen)
      return -1;
    char d = f[i];
    bool compound = d == 'T' || d == 'R' || d == 'D' || d == 'F';
    int64_t n = emit_directive(c, d, b, dst ? dst + len : NULL);
    if (n < 0)
      return -1;
    if (dst && !compound)
      memcpy(dst + len, b, (size_t)n);
    len += n;
  }
  return len;
}

bool ds_format_time(ds_arena *a, int64_t t_ms, ds_str fmt, ds_str *out) {
  Civil c = {.t_ms = t_ms};
  int64_t days = t_ms / MS_PER_DAY, msday = t_ms % MS_PER_DAY;
  if (msday < 0) {
    msday += MS_PER_DAY;
    days--;
  }
  civil_from_days(days, &c.year, &c.mon, &c.day);
  c.hour = (int)(msday / 3600000);
  c.min = (int)(msday / 60000 % 60);
  c.sec = (int)(msday / 1000 % 60);
  c.ms = (int)(msday % 1000);
  c.yday = (int)(days - ds_days_from_civil(c.year, 1, 1)) + 1;
  c.wday = (int)(((days + 4) % 7 + 7) % 7);
  int64_t len = emit_fmt(&c, fmt.ptr, fmt.len, NULL);
  if (len < 0)
    return false;
  if (len == 0) {
    *out = (ds_str){NULL, 0};
    return true;
  }
  char *d = ds_arena_alloc(a, (size_t)len);
  if (!d)
    return false;
  emit_fmt(&c, fmt.ptr, fmt.len, d);
  *out = (ds_str){d, len};
  return true;
}
