/*
 * hdfs_json.c — a strict JSON parser into an arena-allocated tree (see
 * hdfs_json.h for the decisions it takes).
 *
 * Recursive descent over the bytes. Children of the array or object being
 * parsed are collected on a scratch stack shared by every level (a nested
 * container pops its own children before its parent pushes the next one),
 * then copied into the arena once their number is known, so each container
 * is one contiguous allocation and the scratch stacks are freed at the end.
 */
#include "hdfs_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
  struct block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} block;

struct hj_doc {
  block *blocks;
  hj_value root;
};

typedef struct {
  const unsigned char *p, *start, *end;
  hj_doc *doc;
  hj_value *vals;      /* scratch stack of array items */
  size_t nvals, capvals;
  hj_member *mems;     /* scratch stack of object members */
  size_t nmems, capmems;
  char *err;
  size_t errlen;
  bool failed;
} parser;

enum { BLOCK_MIN = 64 * 1024 };

static void *arena_alloc(hj_doc *d, size_t n) {
  n = (n + 15) & ~(size_t)15;
  block *b = d->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
    b = malloc(sizeof *b + cap);
    if (!b)
      return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = d->blocks;
    d->blocks = b;
  }
  void *r = b->data + b->used;
  b->used += n;
  return r;
}

static bool fail(parser *ps, const char *fmt, ...) {
  if (ps->failed)
    return false;
  ps->failed = true;
  if (ps->err && ps->errlen) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
  }
  return false;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static bool literal(parser *ps, const char *word, hj_type t, hj_value *out) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return fail(ps, "invalid literal");
  ps->p += n;
  out->type = t;
  return true;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool hex4(parser *ps, unsigned *out) {
  if (ps->end - ps->p < 4)
    return fail(ps, "truncated \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    int h = hexval(ps->p[k]);
    if (h < 0)
      return fail(ps, "bad hex digit in \\u escape");
    v = v << 4 | (unsigned)h;
  }
  ps->p += 4;
  *out = v;
  return true;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string starting at the opening quote. The decoded form is never longer
 * than the source (an escape of 6 or 12 bytes gives at most 4), so it is
 * written into an arena buffer of the source's size. */
static bool string(parser *ps, char **out, size_t *out_len) {
  ps->p++; /* the quote */
  const unsigned char *q = ps->p;
  while (q < ps->end && *q != '"') {
    if (*q == '\\')
      q++;
    q++;
  }
  if (q >= ps->end)
    return fail(ps, "unterminated string");
  unsigned char *o = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
  if (!o)
    return fail(ps, "out of memory");
  size_t n = 0;
  while (*ps->p != '"') {
    unsigned char c = *ps->p;
    if (c < 0x20)
      return fail(ps, "control character in string");
    if (c != '\\') {
      o[n++] = c;
      ps->p++;
      continue;
    }
    ps->p++;
    c = *ps->p++;
    switch (c) {
    case '"': o[n++] = '"'; break;
    case '\\': o[n++] = '\\'; break;
    case '/': o[n++] = '/'; break;
    case 'b': o[n++] = '\b'; break;
    case 'f': o[n++] = '\f'; break;
    case 'n': o[n++] = '\n'; break;
    case 'r': o[n++] = '\r'; break;
    case 't': o[n++] = '\t'; break;
    case 'u': {
      unsigned cp;
      if (!hex4(ps, &cp))
        return false;
      if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
        const unsigned char *save = ps->p;
        unsigned lo;
        ps->p += 2;
        if (!hex4(ps, &lo))
          return false;
        if (lo >= 0xDC00 && lo <= 0xDFFF)
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        else {
          ps->p = save; /* a lone high surrogate; the next escape stands alone */
          cp = 0xFFFD;
        }
      } else if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
      n += put_utf8(o + n, cp);
      break;
    }
    default:
      ps->p--;
      return fail(ps, "bad escape in string");
    }
  }
  ps->p++; /* the closing quote */
  o[n] = '\0';
  *out = (char *)o;
  *out_len = n;
  return true;
}

static bool number(parser *ps, hj_value *out) {
  const unsigned char *s = ps->p, *q = s;
  bool integral = true;
  if (q < ps->end && *q == '-')
    q++;
  if (q >= ps->end || !(*q >= '0' && *q <= '9'))
    return fail(ps, "invalid number");
  if (*q == '0')
    q++;
  else
    while (q < ps->end && *q >= '0' && *q <= '9')
      q++;
  if (q < ps->end && *q == '.') {
    integral = false;
    q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9'))
      return fail(ps, "invalid number");
    while (q < ps->end && *q >= '0' && *q <= '9')
      q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    integral = false;
    q++;
    if (q < ps->end && (*q == '+' || *q == '-'))
      q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9'))
      return fail(ps, "invalid number");
    while (q < ps->end && *q >= '0' && *q <= '9')
      q++;
  }
  size_t len = (size_t)(q - s);
  char tmp[64];
  char *buf = len < sizeof tmp ? tmp : malloc(len + 1);
  if (!buf)
    return fail(ps, "out of memory");
  memcpy(buf, s, len);
  buf[len] = '\0';
  out->type = HJ_NUMBER;
  out->num = strtod(buf, NULL);
  if (integral) {
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == 0) {
      out->is_int = true;
      out->i = (int64_t)v;
    }
  }
  if (buf != tmp)
    free(buf);
  ps->p = q;
  return true;
}

static bool value(parser *ps, hj_value *out, int depth);

static bool push_val(parser *ps, const hj_value *v) {
  if (ps->nvals == ps->capvals) {
    size_t cap = ps->capvals ? ps->capvals * 2 : 64;
    hj_value *n = realloc(ps->vals, cap * sizeof *n);
    if (!n)
      return fail(ps, "out of memory");
    ps->vals = n;
    ps->capvals = cap;
  }
  ps->vals[ps->nvals++] = *v;
  return true;
}

static bool push_mem(parser *ps, const hj_member *m) {
  if (ps->nmems == ps->capmems) {
    size_t cap = ps->capmems ? ps->capmems * 2 : 64;
    hj_member *n = realloc(ps->mems, cap * sizeof *n);
    if (!n)
      return fail(ps, "out of memory");
    ps->mems = n;
    ps->capmems = cap;
  }
  ps->mems[ps->nmems++] = *m;
  return true;
}

static bool array(parser *ps, hj_value *out, int depth) {
  ps->p++; /* [ */
  size_t base = ps->nvals;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']')
    ps->p++;
  else
    for (;;) {
      hj_value item;
      if (!value(ps, &item, depth + 1) || !push_val(ps, &item))
        return false;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        continue;
      }
      if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        break;
      }
      return fail(ps, "expected ',' or ']'");
    }
  size_t n = ps->nvals - base;
  out->type = HJ_ARRAY;
  out->len = n;
  out->items = NULL;
  if (n) {
    out->items = arena_alloc(ps->doc, n * sizeof *out->items);
    if (!out->items)
      return fail(ps, "out of memory");
    memcpy(out->items, ps->vals + base, n * sizeof *out->items);
  }
  ps->nvals = base;
  return true;
}

static bool object(parser *ps, hj_value *out, int depth) {
  ps->p++; /* { */
  size_t base = ps->nmems;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}')
    ps->p++;
  else
    for (;;) {
      hj_member m;
      memset(&m, 0, sizeof m);
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != '"')
        return fail(ps, "expected a string key");
      if (!string(ps, &m.key, &m.key_len))
        return false;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':')
        return fail(ps, "expected ':'");
      ps->p++;
      if (!value(ps, &m.value, depth + 1) || !push_mem(ps, &m))
        return false;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        continue;
      }
      if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        break;
      }
      return fail(ps, "expected ',' or '}'");
    }
  size_t n = ps->nmems - base;
  out->type = HJ_OBJECT;
  out->len = n;
  out->members = NULL;
  if (n) {
    out->members = arena_alloc(ps->doc, n * sizeof *out->members);
    if (!out->members)
      return fail(ps, "out of memory");
    memcpy(out->members, ps->mems + base, n * sizeof *out->members);
  }
  ps->nmems = base;
  return true;
}

static bool value(parser *ps, hj_value *out, int depth) {
  memset(out, 0, sizeof *out);
  if (depth > HJ_MAX_DEPTH)
    return fail(ps, "nesting deeper than %d", HJ_MAX_DEPTH);
  skip_ws(ps);
  if (ps->p >= ps->end)
    return fail(ps, "unexpected end of input");
  switch (*ps->p) {
  case '{': return object(ps, out, depth);
  case '[': return array(ps, out, depth);
  case '"':
    out->type = HJ_STRING;
    return string(ps, &out->str, &out->len);
  case 't': return literal(ps, "true", HJ_TRUE, out);
  case 'f': return literal(ps, "false", HJ_FALSE, out);
  case 'n': return literal(ps, "null", HJ_NULL, out);
  default:
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
      return number(ps, out);
    return fail(ps, "unexpected character 0x%02x", *ps->p);
  }
}

hj_doc *hj_parse(const char *text, size_t n, char *err, size_t errlen) {
  hj_doc *d = calloc(1, sizeof *d);
  if (!d) {
    if (err && errlen)
      snprintf(err, errlen, "out of memory");
    return NULL;
  }
  parser ps = {.p = (const unsigned char *)text, .start = (const unsigned char *)text,
               .end = (const unsigned char *)text + n, .doc = d, .err = err, .errlen = errlen};
  bool ok = value(&ps, &d->root, 0);
  if (ok) {
    skip_ws(&ps);
    if (ps.p != ps.end)
      ok = fail(&ps, "trailing data after the value");
  }
  free(ps.vals);
  free(ps.mems);
  if (!ok) {
    hj_free(d);
    return NULL;
  }
  return d;
}

const hj_value *hj_root(const hj_doc *d) { return &d->root; }

void hj_free(hj_doc *d) {
  if (!d)
    return;
  for (block *b = d->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(d);
}

const hj_value *hj_get(const hj_value *obj, const char *key) {
  if (!obj || obj->type != HJ_OBJECT)
    return NULL;
  size_t kl = strlen(key);
  for (size_t i = 0; i < obj->len; i++)
    if (obj->members[i].key_len == kl && memcmp(obj->members[i].key, key, kl) == 0)
      return &obj->members[i].value;
  return NULL;
}

const char *hj_string(const hj_value *v) { return v && v->type == HJ_STRING ? v->str : NULL; }

bool hj_int(const hj_value *v, int64_t *out) {
  if (!v || v->type != HJ_NUMBER || !v->is_int)
    return false;
  *out = v->i;
  return true;
}
