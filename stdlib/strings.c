/*
 * strings.c — the string builtins of LANGUAGE.md §11.
 *
 * Strings are byte slices (ds_str). Results are slices of the arguments
 * wherever possible; new bytes and list arrays come from the batch arena, and
 * an allocating builtin returns false when the arena is out of memory. Case
 * mapping and whitespace are ASCII only; nothing depends on the C locale.
 *
 * Decisions where the spec is silent (to be written into LANGUAGE.md):
 *   - split(s, sep) follows Java's String.split with a literal separator:
 *     trailing empty strings are removed, a leading empty string is kept,
 *     split("", sep) is [""] (no match: the whole string) while ",," split
 *     on "," is []. split(s, "") is chars(s), so split("", "") is [] (Java
 *     gives [""] there).
 *   - field(s, sep, i) uses the same boundaries as split but keeps trailing
 *     empty fields: field("a,b,", ",", 2) is some(""); i < 0 is none.
 *   - substr(s, start, n) counts bytes; start < 0, n < 0 or start > len(s)
 *     is a record error; n is clamped to the end of s (substr("abc", 1, 10)
 *     is "bc", substr("abc", 3, 1) is ""). It may cut a UTF-8 character.
 *   - replace(s, "", t) is s; matches are found left to right and do not
 *     overlap (Java's String.replace).
 *   - indexOf(s, "") is 0; contains(s, "") is true.
 *   - trim and words use ASCII whitespace: space, \t, \n, \v, \f, \r.
 *   - chars: a well-formed UTF-8 sequence (no overlongs, no surrogates, at
 *     most U+10FFFF) is one character; any other byte is a character alone.
 */
#define _GNU_SOURCE /* memmem */
#include "ds_rt.h"

#include <string.h>

/* s.ptr + i; an empty string may have a NULL ptr, and NULL + 0 is undefined. */
static inline const char *at(ds_str s, int64_t i) {
  return s.ptr ? s.ptr + i : s.ptr;
}

static inline bool is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* First occurrence of the non-empty needle in hay at or after `from`, or -1. */
#ifdef __SSE2__
#include <emmintrin.h>
/* Bit k set iff byte k of the 16 at p is c. */
static inline unsigned match16(const char *p, char c) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}
#endif

/* The first c in u[j, n), or n. Fields and the bytes before a marker are
 * short: 16 bytes at a time for the first 64 (no call), then memchr
 * (vectorised, for a long run to the end of a long line). */
static inline int64_t find_byte(const char *u, int64_t j, int64_t n, char c) {
#ifdef __SSE2__
  for (int w = 0; w < 4 && j + 16 <= n; w++, j += 16) {
    unsigned m = match16(u + j, c);
    if (m)
      return j + __builtin_ctz(m);
  }
  if (n - j < 16) {
    while (j < n && u[j] != c)
      j++;
    return j;
  }
#endif
  if (j >= n)
    return n;
  const char *e = memchr(u + j, c, (size_t)(n - j));
  return e ? e - u : n;
}

static inline int64_t find(ds_str hay, ds_str needle, int64_t from) {
  if (hay.len - from < needle.len)
    return -1;
  if (needle.len == 1) {
    int64_t at = find_byte(hay.ptr, from, hay.len, needle.ptr[0]);
    return at < hay.len ? at : -1;
  }
  const char *p = memmem(hay.ptr + from, (size_t)(hay.len - from), needle.ptr, (size_t)needle.len);
  return p ? p - hay.ptr : -1;
}

/* Length of the UTF-8 character starting at s[i] (1 for an invalid byte). */
static inline int64_t utf8_len(const unsigned char *s, int64_t i, int64_t n) {
  unsigned char c = s[i];
  if (c < 0x80)
    return 1;
  int64_t left = n - i;
  if (c >= 0xC2 && c <= 0xDF)
    return left >= 2 && (s[i + 1] & 0xC0) == 0x80 ? 2 : 1;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3)
      return 1;
    unsigned char c1 = s[i + 1];
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return c1 >= lo && c1 <= hi && (s[i + 2] & 0xC0) == 0x80 ? 3 : 1;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4)
      return 1;
    unsigned char c1 = s[i + 1];
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return c1 >= lo && c1 <= hi && (s[i + 2] & 0xC0) == 0x80 && (s[i + 3] & 0xC0) == 0x80 ? 4 : 1;
  }
  return 1;
}

static bool alloc_strs(ds_arena *a, int64_t n, ds_list *out) {
  out->len = n;
  if (n == 0) {
    out->ptr = NULL;
    return true;
  }
  out->ptr = ds_arena_alloc(a, (size_t)n * sizeof(ds_str));
  return out->ptr != NULL;
}

bool ds_chars(ds_arena *a, ds_str s, ds_list *out) {
  const unsigned char *u = (const unsigned char *)s.ptr;
  int64_t n = 0;
  for (int64_t i = 0; i < s.len; n++)
    i += utf8_len(u, i, s.len);
  if (!alloc_strs(a, n, out))
    return false;
  ds_str *v = out->ptr;
  for (int64_t i = 0, k = 0; i < s.len; k++) {
    int64_t l = utf8_len(u, i, s.len);
    v[k] = (ds_str){s.ptr + i, l};
    i += l;
  }
  return true;
}

bool ds_split(ds_arena *a, ds_str s, ds_str sep, ds_list *out) {
  if (sep.len == 0)
    return ds_chars(a, s, out);
  /* Count the fields up to the last non-empty one: trailing empties go. */
  int64_t fields = 0, kept = 0, start = 0, m;
  bool matched = false;
  while ((m = find(s, sep, start)) >= 0) {
    matched = true;
    fields++;
    if (m > start)
      kept = fields;
    start = m + sep.len;
  }
  fields++;
  if (s.len > start)
    kept = fields;
  if (!matched)
    kept = 1; /* Java: no match gives the whole string, "" included */
  if (!alloc_strs(a, kept, out))
    return false;
  ds_str *v = out->ptr;
  start = 0;
  for (int64_t k = 0; k < kept; k++) {
    m = find(s, sep, start);
    if (m < 0)
      m = s.len;
    v[k] = (ds_str){at(s, start), m - start};
    start = m + sep.len;
  }
  return true;
}

/* field(s, sep, i) for a one-byte sep, i >= 0: counts i separators 16
 * bytes at a time (a popcount per block, no loop per match), then finds the
 * one that ends field i. */
static bool field_byte(ds_str s, char c, int64_t i, ds_str *out) {
  const char *u = s.ptr;
  int64_t n = s.len, j = 0, start = 0, k = 0;
#ifdef __SSE2__
  for (; k < i && j + 16 <= n; j += 16) {
    unsigned m = match16(u + j, c);
    int64_t cnt = __builtin_popcount(m);
    if (k + cnt >= i) {
      for (int64_t r = i - k; r > 1; r--)
        m &= m - 1; /* drop the separators before the i-th */
      start = j + __builtin_ctz(m) + 1;
      k = i;
      break;
    }
    k += cnt;
  }
#endif
  for (; k < i && j < n; j++) {
    if (u[j] == c) {
      k++;
      start = j + 1;
    }
  }
  if (k < i)
    return false;
  *out = (ds_str){at(s, start), find_byte(u, start, n, c) - start};
  return true;
}

bool ds_field(ds_str s, ds_str sep, int64_t i, ds_str *out) {
  if (i < 0)
    return false;
  if (sep.len == 0) {
    const unsigned char *u = (const unsigned char *)s.ptr;
    for (int64_t p = 0, k = 0; p < s.len; k++) {
      int64_t l = utf8_len(u, p, s.len);
      if (k == i) {
        *out = (ds_str){s.ptr + p, l};
        return true;
      }
      p += l;
    }
    return false;
  }
  if (sep.len == 1)
    return field_byte(s, sep.ptr[0], i, out);
  int64_t start = 0;
  for (int64_t k = 0;; k++) {
    int64_t m = find(s, sep, start);
    if (k == i) {
      *out = (ds_str){at(s, start), (m < 0 ? s.len : m) - start};
      return true;
    }
    if (m < 0)
      return false;
    start = m + sep.len;
  }
}

bool ds_words(ds_arena *a, ds_str s, ds_list *out) {
  const unsigned char *u = (const unsigned char *)s.ptr;
  int64_t n = 0;
  for (int64_t i = 0; i < s.len;) {
    while (i < s.len && is_space(u[i]))
      i++;
    if (i == s.len)
      break;
    n++;
    while (i < s.len && !is_space(u[i]))
      i++;
  }
  if (!alloc_strs(a, n, out))
    return false;
  ds_str *v = out->ptr;
  for (int64_t i = 0, k = 0; k < n; k++) {
    while (is_space(u[i]))
      i++;
    int64_t b = i;
    while (i < s.len && !is_space(u[i]))
      i++;
    v[k] = (ds_str){s.ptr + b, i - b};
  }
  return true;
}

ds_str ds_trim(ds_str s) {
  const unsigned char *u = (const unsigned char *)s.ptr;
  int64_t b = 0, e = s.len;
  while (b < e && is_space(u[b]))
    b++;
  while (e > b && is_space(u[e - 1]))
    e--;
  return (ds_str){at(s, b), e - b};
}

/* Maps ASCII letters in [lo, lo+26) by XOR 0x20; copies only if one is found. */
static bool map_case(ds_arena *a, ds_str s, unsigned char lo, ds_str *out) {
  const unsigned char *u = (const unsigned char *)s.ptr;
  int64_t i = 0;
  while (i < s.len && (unsigned char)(u[i] - lo) >= 26)
    i++;
  if (i == s.len) {
    *out = s;
    return true;
  }
  char *d = ds_arena_alloc(a, (size_t)s.len);
  if (!d)
    return false;
  memcpy(d, s.ptr, (size_t)i);
  for (; i < s.len; i++) {
    unsigned char c = u[i];
    d[i] = (char)((unsigned char)(c - lo) < 26 ? c ^ 0x20 : c);
  }
  *out = (ds_str){d, s.len};
  return true;
}

bool ds_lower(ds_arena *a, ds_str s, ds_str *out) {
  return map_case(a, s, 'A', out);
}

bool ds_upper(ds_arena *a, ds_str s, ds_str *out) {
  return map_case(a, s, 'a', out);
}

bool ds_contains(ds_str s, ds_str t) {
  return ds_index_of(s, t) >= 0;
}

bool ds_starts_with(ds_str s, ds_str t) {
  return t.len <= s.len && (t.len == 0 || memcmp(s.ptr, t.ptr, (size_t)t.len) == 0);
}

bool ds_ends_with(ds_str s, ds_str t) {
  return t.len <= s.len && (t.len == 0 || memcmp(s.ptr + s.len - t.len, t.ptr, (size_t)t.len) == 0);
}

int64_t ds_index_of(ds_str s, ds_str t) {
  if (t.len == 0)
    return 0;
  return find(s, t, 0);
}

bool ds_substr(ds_str s, int64_t start, int64_t n, ds_str *out) {
  if (start < 0 || n < 0 || start > s.len)
    return false;
  if (n > s.len - start)
    n = s.len - start;
  *out = (ds_str){at(s, start), n};
  return true;
}

bool ds_replace(ds_arena *a, ds_str s, ds_str from, ds_str to, ds_str *out) {
  int64_t m = from.len ? find(s, from, 0) : -1;
  if (m < 0) {
    *out = s;
    return true;
  }
  int64_t count = 0;
  for (int64_t p = m; p >= 0; p = find(s, from, p + from.len))
    count++;
  /* Lengths are below 2^62 in practice; guard the product anyway. */
  int64_t delta = to.len - from.len;
  if (delta > 0 && count > (INT64_MAX - s.len) / delta)
    return false;
  int64_t len = s.len + count * delta;
  char *d = ds_arena_alloc(a, (size_t)len);
  if (!d)
    return false;
  char *w = d;
  int64_t start = 0;
  for (int64_t p = m; p >= 0; p = find(s, from, start)) {
    memcpy(w, s.ptr + start, (size_t)(p - start));
    w += p - start;
    if (to.len)
      memcpy(w, to.ptr, (size_t)to.len);
    w += to.len;
    start = p + from.len;
  }
  if (s.len > start)
    memcpy(w, s.ptr + start, (size_t)(s.len - start));
  *out = (ds_str){d, len};
  return true;
}

bool ds_concat(ds_arena *a, ds_str x, ds_str y, ds_str *out) {
  if (y.len == 0) {
    *out = x;
    return true;
  }
  if (x.len == 0) {
    *out = y;
    return true;
  }
  char *d = ds_arena_alloc(a, (size_t)(x.len + y.len));
  if (!d)
    return false;
  memcpy(d, x.ptr, (size_t)x.len);
  memcpy(d + x.len, y.ptr, (size_t)y.len);
  *out = (ds_str){d, x.len + y.len};
  return true;
}

int ds_str_cmp(ds_str x, ds_str y) {
  int64_t n = x.len < y.len ? x.len : y.len;
  int c = n ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;
  if (c)
    return c < 0 ? -1 : 1;
  return x.len < y.len ? -1 : x.len > y.len;
}

bool ds_str_eq(ds_str x, ds_str y) {
  return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}
