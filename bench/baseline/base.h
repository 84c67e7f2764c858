/*
 * base.h - the pieces the hand-written C baselines share: a line reader over
 * read(), a counting hash table keyed by byte strings, a Common Log Format
 * timestamp parser and a buffered writer.
 *
 * The baselines are what a competent engineer writes in an afternoon:
 * single-threaded, no allocation per line, memchr to find lines and fields,
 * FNV-1a over the key bytes, linear probing in a power-of-two table. They are
 * the "plain C" yardstick the compiled .ds jobs are measured against, not the
 * fastest possible code.
 *
 * Everything is static in this header; each baseline is one .c file that
 * includes it and reads the file named by argv[1] ("-" or nothing: stdin).
 */
#ifndef BENCH_BASE_H
#define BENCH_BASE_H

#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static inline void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p)
    die("realloc");
  return p;
}

/* ---- line reader ------------------------------------------------------- */

#define READ_CHUNK ((size_t)4 << 20)

/* Reads a file in 4 MiB chunks into one reused buffer. The partial line at
   the end of a chunk stays in the buffer and moves to the front when the
   next chunk is read. */
typedef struct {
  int fd;
  char *buf;   /* the buffer: a carried-over partial line, then a chunk */
  size_t cap;  /* bytes allocated at buf */
  char *tail;  /* the partial line left by the last call */
  size_t keep; /* its length */
  int eof;     /* read() returned 0 */
} Reader;

static inline void reader_open(Reader *r, const char *path) {
  r->fd = path && strcmp(path, "-") ? open(path, O_RDONLY) : 0;
  if (r->fd < 0)
    die(path);
  r->cap = 2 * READ_CHUNK;
  r->buf = xrealloc(NULL, r->cap);
  r->tail = r->buf;
  r->keep = 0;
  r->eof = 0;
}

/* Sets [*start, *end) to a run of whole lines, each ending in '\n' except
   possibly the file's last line. Returns 0 when the file is exhausted. The
   lines stay valid until the next call. */
static inline int reader_next(Reader *r, char **start, char **end) {
  while (!r->eof) {
    memmove(r->buf, r->tail, r->keep);
    if (r->cap - r->keep < READ_CHUNK) { /* a line longer than a chunk */
      r->cap *= 2;
      r->buf = xrealloc(r->buf, r->cap);
    }
    ssize_t n = read(r->fd, r->buf + r->keep, READ_CHUNK);
    if (n < 0) {
      if (errno == EINTR) {
        r->tail = r->buf;
        continue;
      }
      die("read");
    }
    size_t have = r->keep + (size_t)n;
    if (n == 0) { /* end of file: hand out what is left */
      r->eof = 1;
      r->keep = 0;
      if (!have)
        return 0;
      *start = r->buf;
      *end = r->buf + have;
      return 1;
    }
    char *last = r->buf + have;
    while (last > r->buf && last[-1] != '\n')
      last--;
    r->tail = last;
    r->keep = (size_t)(r->buf + have - last);
    if (last > r->buf) {
      *start = r->buf;
      *end = last;
      return 1;
    }
  }
  return 0;
}

/* Calls the statement BODY once per line with `ls` and `le` bounding the line
   (without its '\n'). */
#define FOR_EACH_LINE(reader, ls, le, BODY)                                 \
  do {                                                                      \
    char *chunk_, *chunk_end_;                                              \
    while (reader_next((reader), &chunk_, &chunk_end_)) {                   \
      for (char *ls = chunk_; ls < chunk_end_;) {                           \
        char *nl_ = memchr(ls, '\n', (size_t)(chunk_end_ - ls));            \
        char *le = nl_ ? nl_ : chunk_end_;                                  \
        BODY;                                                               \
        ls = le + 1;                                                        \
      }                                                                     \
    }                                                                       \
  } while (0)

/* ---- hash table ----------------------------------------------------------- */

static inline uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
  return h;
}

/* One slot: the key's bytes live in the table's key store. */
typedef struct {
  uint64_t hash;  /* full hash; 0 marks an empty slot (real hashes are forced non-zero) */
  uint32_t off;   /* key offset in the key store */
  uint32_t len;   /* key length */
  uint64_t count; /* the value */
} Slot;

/* Open addressing with linear probing; doubles at half load. Entries are
   also numbered densely (in insertion order) so callers can keep parallel
   arrays indexed by a key's id. */
typedef struct {
  Slot *slots;
  size_t mask;    /* capacity - 1 */
  size_t used;    /* keys held */
  char *keys;     /* key store */
  size_t keys_len, keys_cap;
  uint32_t *ids;  /* ids[slot] = dense id of the key in that slot */
  uint32_t *order;/* order[id] = slot of the key with that id */
} Table;

static inline void table_init(Table *t, size_t cap_pow2) {
  t->slots = calloc(cap_pow2, sizeof *t->slots);
  t->ids = calloc(cap_pow2, sizeof *t->ids);
  t->order = xrealloc(NULL, cap_pow2 / 2 * sizeof *t->order);
  if (!t->slots || !t->ids)
    die("calloc");
  t->mask = cap_pow2 - 1;
  t->used = 0;
  t->keys_cap = 1 << 20;
  t->keys = xrealloc(NULL, t->keys_cap);
  t->keys_len = 0;
}

static inline void table_grow(Table *t) {
  size_t ncap = (t->mask + 1) * 2;
  Slot *ns = calloc(ncap, sizeof *ns);
  uint32_t *nids = calloc(ncap, sizeof *nids);
  if (!ns || !nids)
    die("calloc");
  t->order = xrealloc(t->order, ncap / 2 * sizeof *t->order);
  for (size_t id = 0; id < t->used; id++) {
    const Slot *s = &t->slots[t->order[id]];
    size_t i = s->hash & (ncap - 1);
    while (ns[i].hash)
      i = (i + 1) & (ncap - 1);
    ns[i] = *s;
    nids[i] = (uint32_t)id;
    t->order[id] = (uint32_t)i;
  }
  free(t->slots);
  free(t->ids);
  t->slots = ns;
  t->ids = nids;
  t->mask = ncap - 1;
}

/* The slot of key [p, p+n), inserted with count 0 when new. *id gets the
   key's dense id. */
static inline Slot *table_find_hashed(Table *t, const char *p, size_t n, uint64_t h, uint32_t *id) {
  h |= 1;
  size_t i = h & t->mask;
  for (;;) {
    Slot *s = &t->slots[i];
    if (s->hash == h && s->len == n && memcmp(t->keys + s->off, p, n) == 0) {
      *id = t->ids[i];
      return s;
    }
    if (!s->hash)
      break;
    i = (i + 1) & t->mask;
  }
  if ((t->used + 1) * 2 > t->mask + 1) {
    table_grow(t);
    return table_find_hashed(t, p, n, h, id);
  }
  if (t->keys_len + n > t->keys_cap) {
    while (t->keys_len + n > t->keys_cap)
      t->keys_cap *= 2;
    t->keys = xrealloc(t->keys, t->keys_cap);
  }
  memcpy(t->keys + t->keys_len, p, n);
  Slot *s = &t->slots[i];
  s->hash = h;
  s->off = (uint32_t)t->keys_len;
  s->len = (uint32_t)n;
  s->count = 0;
  t->keys_len += n;
  *id = (uint32_t)t->used;
  t->ids[i] = *id;
  t->order[t->used++] = (uint32_t)i;
  return s;
}

static inline Slot *table_find(Table *t, const char *p, size_t n, uint32_t *id) {
  return table_find_hashed(t, p, n, fnv1a(p, n), id);
}

/* The key of the entry with dense id `id`. */
static inline const Slot *table_entry(const Table *t, uint32_t id) {
  return &t->slots[t->order[id]];
}

/* ---- output -------------------------------------------------------------- */

static char out_buf[1 << 16];
static size_t out_len;

static inline void write_all(const char *p, size_t n) {
  while (n) {
    ssize_t k = write(1, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      die("write");
    }
    p += k;
    n -= (size_t)k;
  }
}

static inline void out_flush(void) {
  write_all(out_buf, out_len);
  out_len = 0;
}

static inline void out_bytes(const char *p, size_t n) {
  if (out_len + n > sizeof out_buf)
    out_flush();
  if (n > sizeof out_buf) {
    write_all(p, n);
    return;
  }
  memcpy(out_buf + out_len, p, n);
  out_len += n;
}

static inline void out_char(char c) {
  if (out_len == sizeof out_buf)
    out_flush();
  out_buf[out_len++] = c;
}

static inline void out_i64(int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  out_bytes(tmp, (size_t)n);
}

/* Prints "key<TAB>count" for every key of a table, in insertion order. */
static inline void print_table(const Table *t) {
  for (uint32_t id = 0; id < t->used; id++) {
    const Slot *s = table_entry(t, id);
    out_bytes(t->keys + s->off, s->len);
    out_char('\t');
    out_i64((int64_t)s->count);
    out_char('\n');
  }
  out_flush();
}

/* ---- Common Log Format --------------------------------------------------- */

static inline int two_digits(const char *p) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
    return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

static inline int month_index(const char *p) {
  static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int m = 0; m < 12; m++)
    if (!memcmp(names + 3 * m, p, 3))
      return m + 1;
  return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static inline int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Parses "dd/Mon/yyyy:HH:MM:SS +zzzz" (26 bytes at p) to UTC epoch seconds.
   Returns 0 on a malformed stamp. */
static inline int parse_clf_time(const char *p, int64_t *secs) {
  int d = two_digits(p), mo = month_index(p + 3);
  int y1 = two_digits(p + 7), y2 = two_digits(p + 9);
  int hh = two_digits(p + 12), mi = two_digits(p + 15), ss = two_digits(p + 18);
  int zh = two_digits(p + 22), zm = two_digits(p + 24);
  if (d < 1 || !mo || y1 < 0 || y2 < 0 || hh < 0 || mi < 0 || ss < 0 || zh < 0 || zm < 0 ||
      p[2] != '/' || p[6] != '/' || p[11] != ':' || p[20] != ' ' || (p[21] != '+' && p[21] != '-'))
    return 0;
  int64_t t = days_from_civil(y1 * 100 + y2, mo, d) * 86400 + hh * 3600 + mi * 60 + ss;
  int64_t zone = zh * 3600 + zm * 60;
  *secs = p[21] == '+' ? t - zone : t + zone;
  return 1;
}

/* The event minute (epoch seconds / 60) and URL of one CLF line, or 0 when
   the line does not parse. */
static inline int clf_minute_url(const char *ls, const char *le, int64_t *minute, const char **url,
                          size_t *url_len) {
  const char *lb = memchr(ls, '[', (size_t)(le - ls));
  if (!lb || le - lb < 31 || lb[27] != ']' || lb[28] != ' ' || lb[29] != '"')
    return 0;
  int64_t secs;
  if (!parse_clf_time(lb + 1, &secs))
    return 0;
  const char *method = lb + 30;
  const char *sp = memchr(method, ' ', (size_t)(le - method));
  if (!sp)
    return 0;
  const char *u = sp + 1;
  const char *ue = memchr(u, ' ', (size_t)(le - u));
  if (!ue)
    ue = le;
  *minute = secs >= 0 ? secs / 60 : (secs - 59) / 60;
  *url = u;
  *url_len = (size_t)(ue - u);
  return 1;
}

#endif
