/*
 * lines.c — turning a buffer of text lines into a source's partitions.
 *
 * Every line source (batches, textFile, textFiles, socket) ends up with one
 * buffer per batch in which every line, the last one included, ends in
 * '\n'. rt_lines_to_parts splits it into `nparts` contiguous slices by
 * line count — slice i of n over m lines starts at line floor(i*m/n), §7 —
 * and appends one ds_str per line (a trailing '\r' removed) pointing into
 * the buffer, which must live until the batch ends.
 *
 * Large buffers are done in two parallel passes on the worker pool: count
 * the newlines of fixed-size chunks, then let each partition's task find
 * its first line from the chunk counts and cut its lines with memchr. The
 * counting is word-at-a-time (SWAR), which runs near memory speed.
 *
 * textFile works in one pass instead (rt_newlines_scan, rt_line_runs_to_parts):
 * each chunk of the file is scanned once, while it is still in cache, for
 * the positions of its newlines (16 bytes at a time with SSE2, recording
 * for each whether a '\r' precedes it); a batch's lines are then the
 * newlines of a series of chunks ("runs"), and turning them into the
 * partitions' ds_str is a streaming pass over those arrays, one task per
 * run, every line written straight to its place in its partition.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_SCAN 1
#endif

enum {
  CHUNK_BYTES = 1 << 20,      /* newline counts are kept per chunk of this size */
  PARALLEL_BYTES = 1 << 20,   /* smaller buffers are split on the calling thread */
};

int64_t rt_count_lines(const char *p, int64_t n) {
  const uint64_t ones = 0x0101010101010101u, nl = ones * '\n', low7 = ones * 0x7f;
  const uint64_t even = 0x00ff00ff00ff00ffu;
  int64_t count = 0, i = 0;
  while (i + 8 <= n) {
    /* Up to 255 words per round: each byte of acc counts the newlines
     * seen in that byte lane, so it cannot overflow. */
    uint64_t acc = 0;
    int64_t stop = i + 8 * 255 < n ? i + 8 * 255 : n;
    for (; i + 8 <= stop; i += 8) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      uint64_t x = w ^ nl;                  /* zero bytes where '\n' was */
      uint64_t t = ((x & low7) + low7) | x; /* high bit clear exactly at zero bytes */
      acc += (~t & (ones << 7)) >> 7;
    }
    uint64_t pairs = (acc & even) + ((acc >> 8) & even); /* 16-bit lanes */
    count += (int64_t)((pairs * 0x0001000100010001u) >> 48);
  }
  for (; i < n; i++)
    count += p[i] == '\n';
  return count;
}

typedef struct split_job {
  const char *buf;
  int64_t len, nchunks, lines;
  int64_t *chunk_lines;  /* lines starting before chunk c: prefix sums (nchunks + 1) */
  rt_stream *out;
  int32_t nparts;
} split_job;

static void count_task(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  split_job *s = arg;
  for (int64_t c = i; c < s->nchunks; c += s->nparts) {
    int64_t start = c * CHUNK_BYTES, end = start + CHUNK_BYTES < s->len ? start + CHUNK_BYTES : s->len;
    s->chunk_lines[c + 1] = rt_count_lines(s->buf + start, end - start);
  }
}

/* Appends lines [from, to) of the buffer to part and returns the byte
 * where line `to` starts. `pos` is where to start looking and `passed` the
 * number of newlines before it: either passed < from, or passed == from
 * and pos is the start of line `from`. */
static int64_t cut_lines(const split_job *s, ds_part *part, int64_t pos, int64_t passed,
                         int64_t from, int64_t to) {
  const char *p = s->buf + pos, *end = s->buf + s->len;
  for (; passed < from; passed++)
    p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
  rt_part_reserve(part, part->n + (to - passed), (int64_t)sizeof(ds_str));
  ds_str *e = (ds_str *)part->data + part->n;
  part->n += to - passed;
  for (; passed < to; passed++, e++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    int64_t n = nl - p;
    if (n > 0 && p[n - 1] == '\r')
      n--;
    e->ptr = p;
    e->len = n;
    p = nl + 1;
  }
  return p - s->buf;
}

static void cut_task(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  split_job *s = arg;
  int64_t from = (int64_t)((__int128)i * s->lines / s->nparts);
  int64_t to = (int64_t)((__int128)(i + 1) * s->lines / s->nparts);
  if (from == to)
    return;
  /* Start at the last chunk with fewer than `from` newlines before it (or
   * chunk 0): the from-th newline, after which line `from` starts, lies at
   * or after that chunk's start. */
  int64_t lo = 0, hi = s->nchunks - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi + 1) / 2;
    if (s->chunk_lines[mid] < from)
      lo = mid;
    else
      hi = mid - 1;
  }
  cut_lines(s, &s->out->parts[i], lo * CHUNK_BYTES, s->chunk_lines[lo], from, to);
}

int rt_lines_to_parts(rt_job *rj, rt_stream *out, const char *buf, int64_t len, int64_t nlines,
                      int32_t nparts) {
  rt_stream_reset(out, nparts);
  if (len == 0)
    return 0;
  split_job s = {.buf = buf, .len = len, .out = out, .nparts = nparts};
  if (len < PARALLEL_BYTES || nparts == 1) {
    s.lines = nlines >= 0 ? nlines : rt_count_lines(buf, len);
    int64_t pos = 0;
    for (int32_t i = 0; i < nparts; i++) {
      int64_t from = rt_slice_start(i, s.lines, nparts);
      int64_t to = rt_slice_start(i + 1, s.lines, nparts);
      pos = cut_lines(&s, &out->parts[i], pos, from, from, to);
    }
    return 0;
  }
  s.nchunks = (len + CHUNK_BYTES - 1) / CHUNK_BYTES;
  s.chunk_lines = malloc(sizeof(int64_t) * (size_t)(s.nchunks + 1));
  if (!s.chunk_lines)
    return -1;
  s.chunk_lines[0] = 0;
  rt_parallel(rj, nparts, count_task, &s);
  for (int64_t c = 0; c < s.nchunks; c++)
    s.chunk_lines[c + 1] += s.chunk_lines[c];
  s.lines = s.chunk_lines[s.nchunks];
  rt_parallel(rj, nparts, cut_task, &s);
  free(s.chunk_lines);
  return 0;
}

/* ---- textFile: newline positions per chunk, then lines per partition ---- */

/* Room for at least `more` more entries. */
static void newlines_room(rt_newlines *nl, int64_t more) {
  if (nl->cap - nl->n >= more)
    return;
  int64_t cap = nl->cap ? nl->cap : 1024;
  while (cap - nl->n < more)
    cap *= 2;
  uint64_t *at = realloc(nl->at, sizeof *at * (size_t)cap);
  if (!at)
    rt_fatal("out of memory (a newline index of %lld entries)", (long long)cap);
  nl->at = at;
  nl->cap = cap;
}

/* Bit i of the result: p[i] is '\n' (64 bytes at p). */
#if defined(__SSE2__)
static inline uint64_t nl_mask_sse2(const char *p) {
  const __m128i nl = _mm_set1_epi8('\n');
  uint64_t m = 0;
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * k);
  }
  return m;
}
#define NL_MASK nl_mask_sse2
#else
static inline uint64_t nl_mask_bytes(const char *p) {
  uint64_t m = 0;
  for (int i = 0; i < 64; i++)
    m |= (uint64_t)(p[i] == '\n') << i;
  return m;
}
#define NL_MASK nl_mask_bytes
#endif

/* The scan, for one way of computing the masks: an entry for each newline
 * of each 64-byte block, the cr bit from the byte before it (inside p
 * only). This plain loop measured faster than computing a '\r' mask too
 * and writing entries without branching on their number (25 against 46 ms
 * per GiB of in-cache ~100-byte lines; counting alone takes 18). */
#define SCAN_BODY(MASK)                                                        \
  uint64_t *out = nl->at + nl->n, *lim = nl->at + nl->cap;                     \
  for (int64_t i = 0; i < n; i += 64) {                                        \
    uint64_t m;                                                                \
    if (n - i >= 64) {                                                         \
      m = MASK(p + i);                                                         \
    } else {                                                                   \
      char tail[64] = {0};                                                     \
      memcpy(tail, p + i, (size_t)(n - i));                                    \
      m = MASK(tail);                                                          \
    }                                                                          \
    if (!m)                                                                    \
      continue;                                                                \
    if (lim - out < 64) {                                                      \
      nl->n = out - nl->at;                                                    \
      newlines_room(nl, 64);                                                   \
      out = nl->at + nl->n;                                                    \
      lim = nl->at + nl->cap;                                                  \
    }                                                                          \
    do {                                                                       \
      int64_t at = i + __builtin_ctzll(m);                                     \
      uint64_t cr = at > 0 && p[at - 1] == '\r';                               \
      *out++ = (uint64_t)(off + at) << 1 | cr;                                 \
      m &= m - 1;                                                              \
    } while (m);                                                               \
  }                                                                            \
  nl->n = out - nl->at;

static void scan_default(rt_newlines *nl, const char *p, int64_t n, int64_t off) {
  SCAN_BODY(NL_MASK)
}

#ifdef HAVE_AVX2_SCAN
__attribute__((target("avx2"))) static inline uint64_t nl_mask_avx2(const char *p) {
  const __m256i nl = _mm256_set1_epi8('\n');
  __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
  return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, nl)) |
         (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, nl)) << 32;
}

__attribute__((target("avx2,bmi"))) static void scan_avx2(rt_newlines *nl, const char *p, int64_t n,
                                                          int64_t off) {
  SCAN_BODY(nl_mask_avx2)
}
#endif

void rt_newlines_scan(rt_newlines *nl, const char *p, int64_t n, int64_t off) {
  if (!nl->at)
    newlines_room(nl, 64);
#ifdef HAVE_AVX2_SCAN
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi")) {
    scan_avx2(nl, p, n, off);
    return;
  }
#endif
  scan_default(nl, p, n, off);
}

void rt_newlines_push(rt_newlines *nl, int64_t at, bool cr) {
  newlines_room(nl, 1);
  nl->at[nl->n++] = (uint64_t)at << 1 | (uint64_t)cr;
}

void rt_newlines_free(rt_newlines *nl) {
  free(nl->at);
  nl->at = NULL;
  nl->n = nl->cap = 0;
}

typedef struct runs_job {
  const char *buf;
  int64_t base, nlines;
  const rt_line_run *runs;
  rt_stream *out;
  int32_t nparts;
} runs_job;

static inline int64_t slice_start(const runs_job *j, int64_t p) {
  return rt_slice_start(p, j->nlines, j->nparts);
}

static void run_task(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  (void)rj;
  (void)ctx;
  const runs_job *j = arg;
  const rt_line_run *r = &j->runs[i];
  if (r->n == 0)
    return;
  const char *buf = j->buf;
  const uint64_t *e = r->nl;
  int64_t g = r->first, end = r->first + r->n, prev = r->prev;
  /* The partition of line g: the last one whose slice starts at or before it. */
  int64_t p = (int64_t)((__int128)g * j->nparts / j->nlines);
  while (p + 1 < j->nparts && slice_start(j, p + 1) <= g)
    p++;
  while (p > 0 && slice_start(j, p) > g)
    p--;
  /* The first line: only the first newline of a chunk may lack its '\r'
   * bit (the scan of a chunk does not look before it), so it is checked
   * against the buffer. */
  int64_t at = (int64_t)(*e >> 1), start = prev + 1;
  ds_str *s = (ds_str *)j->out->parts[p].data + (g - slice_start(j, p));
  s->ptr = buf + (start - j->base);
  s->len = at - start - (at > start && buf[at - 1 - j->base] == '\r');
  prev = at;
  g++;
  e++;
  for (; g < end; p++) {
    int64_t from = slice_start(j, p), to = slice_start(j, p + 1);
    if (to > end)
      to = end;
    if (g >= to)
      continue;
    s = (ds_str *)j->out->parts[p].data + (g - from);
    for (; g < to; g++, e++, s++) {
      uint64_t v = *e;
      at = (int64_t)(v >> 1);
      start = prev + 1;
      s->ptr = buf + (start - j->base);
      s->len = at - start - (int64_t)(v & 1);
      prev = at;
    }
  }
}

void rt_line_runs_to_parts(rt_job *rj, rt_stream *out, const char *buf, int64_t base,
                           const rt_line_run *runs, int64_t nruns, int64_t nlines, int32_t nparts,
                           bool parallel) {
  rt_stream_reset(out, nparts);
  if (nlines == 0)
    return;
  runs_job j = {.buf = buf, .base = base, .nlines = nlines, .runs = runs, .out = out, .nparts = nparts};
  for (int32_t p = 0; p < nparts; p++) {
    int64_t n = slice_start(&j, p + 1) - slice_start(&j, p);
    rt_part_reserve(&out->parts[p], n, (int64_t)sizeof(ds_str));
    out->parts[p].n = n;
  }
  if (parallel && nruns > 1) {
    rt_parallel(rj, (int)nruns, run_task, &j);
  } else {
    for (int64_t i = 0; i < nruns; i++)
      run_task(rj, (int)i, &j, NULL);
  }
}
