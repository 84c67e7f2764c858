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
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

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
      int64_t from = (int64_t)((__int128)i * s.lines / nparts);
      int64_t to = (int64_t)((__int128)(i + 1) * s.lines / nparts);
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
