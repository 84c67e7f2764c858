/*
 * source_textfile.c — the `textFile(path)` source (§6): the lines of one
 * existing file, maxRecordsPerBatch per batch; bounded.
 *
 * One pass over the bytes. The file is read in chunks of CHUNK_BYTES, a
 * round of chunks at a time: one pool task per chunk pread()s it into its
 * place in the buffer and, while it is still in cache, records where its
 * newlines are (rt_newlines_scan, at file offsets). A batch is the next
 * maxRecordsPerBatch newlines of the chunks read so far; its partitions are
 * then filled from those arrays (rt_line_runs_to_parts, one task per
 * chunk), which reads no file byte again. Rounds are sized from the average
 * line length seen so far, so a batch reads little beyond its end; what it
 * read beyond stays indexed in its chunks for the next batch, so no byte is
 * read or scanned twice, however small the batches. A last line without
 * '\n' gets one at the end of the file.
 *
 * Memory: buf holds file bytes from `base` on; [line, end) are the bytes
 * read and not given out. The bytes of a batch stay in place until the
 * batch ends (its strings point at them); at the start of a batch, when
 * the rest of the buffer could not hold it, the bytes not given out are
 * moved to the front (what the last round read beyond the batch: a few
 * percent of it), so a buffer of about one batch is reused from batch to
 * batch and grows only while the first batches find their size. The chunks' newline arrays and the
 * partitions' arrays are kept too: a job in a steady state allocates
 * nothing here and touches no fresh page. The whole file is never held.
 *
 * Read in place: when the only reader of the lines is a combine stage that
 * keeps nothing of them (rt_read_in_pieces: word counts, counts per key),
 * the text is not kept at all. Each chunk is read into a small buffer of
 * the worker (which stays in its cache) just to find its newlines; then
 * each stage task reads its partition's bytes again, one chunk's lines at
 * a time, into that buffer and runs the stage over them there
 * (textfile_feed). The partitions are the same slices of lines; the file's
 * bytes are copied twice from the page cache but never written to or read
 * back from memory, and the job holds no batch-sized buffer. This is done
 * for local regular files; one that shrinks under the job stops it with an
 * error (bytes rewritten in place would be read as other lines).
 *
 * A non-seekable file (a FIFO) is read with read() on the calling thread,
 * the chunks then scanned on the pool. So is a file on HDFS (hdfs://): one
 * streaming WebHDFS read (storage.h) from the offset where reading starts
 * (0, or the position a checkpoint restored), in the same chunks, so a
 * large file is never held whole either; a DataNode that drops the
 * connection is read again from the offset reached, and a read that still
 * fails after the retries stops the job (exit 1).
 */
#include "rt.h"
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


enum {
  CHUNK_BYTES = 512 << 10,   /* one pread() and one task: stays in the core's cache */
  FIRST_ROUND_CHUNKS = 16,   /* chunks of a round while no line length is known */
  MAX_ROUND_CHUNKS = 512,    /* chunks read at most per round (one rt_parallel) */
  PARALLEL_BYTES = 1 << 20,  /* smaller batches fill their partitions on the calling thread */
};

/* One chunk of the file: read into buf, newlines recorded. */
typedef struct tf_chunk {
  rt_newlines nl;  /* its newlines, at file offsets */
  int64_t foff;    /* file offset of its first byte */
  int64_t got;     /* bytes read */
  int err;         /* errno of a failed read, else 0 */
} tf_chunk;

/* A worker's buffers when the file is read in place: the bytes of one chunk
 * (or of one piece of a partition) and the piece's lines. */
typedef struct tf_scratch {
  char *bytes;
  int64_t cap;
  ds_str *lines;
  int64_t cap_lines;
} tf_scratch;

typedef struct textfile_state {
  int fd;
  bool seekable, eof;
  bool in_place;         /* read in place (above): buf is not used */
  tf_scratch *scratch;   /* in place: one per worker */
  int nscratch;
  int64_t nruns, batch_lines; /* in place: the current batch's runs and lines */
  int32_t batch_parts;
  bool remote;           /* on HDFS: read through rd, sequentially */
  rt_st_reader *rd;      /* HDFS: opened at the first read, at offset `end` */
  int64_t size;          /* the file's size at the start (seekable files), for estimates */
  char *buf;
  int64_t cap;
  int64_t base;          /* the file offset buf[0] holds */
  int64_t line;          /* file offset where the next line to give out starts */
  int64_t end;           /* file offset after the bytes read */
  int64_t tail;          /* file offset after the last newline found */
  /* chunks[head, nchunks) hold the newlines found and not given out (from
   * index cur of chunks[head]); slots up to cap_chunks are kept for reuse. */
  tf_chunk *chunks;
  int64_t head, cur, nchunks, cap_chunks;
  int64_t queued;        /* newlines found and not given out */
  int64_t seen_bytes, seen_lines; /* read so far: the average line length */
  int64_t limit;         /* reads stop at this offset (resumed after the end), else INT64_MAX */
  int64_t eof_at;        /* once eof: the file offset where the file ended */
  int64_t known;         /* bytes a checkpoint this run resumed from had seen in the file */
  rt_line_run *runs;     /* one batch's runs (scratch) */
  int64_t cap_runs;
  const char *loc;
  char *path;
} textfile_state;

static _Thread_local char message[4200];

static const char *textfile_init(rt_job *rj, int node) {
  ds_node *n = &rj->job->nodes[node];
  textfile_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  st->fd = -1;
  st->limit = INT64_MAX;
  st->loc = n->loc ? n->loc : "textFile";
  rj->state[node] = st;
  const char *msg = NULL;
  st->path = rt_path_arg(n->str_arg, &msg);
  if (!st->path)
    return msg;
  if (rt_st_is_remote(st->path)) {
    rt_st_configure(rj->settings.hdfs_user, rj->settings.retries);
    st->remote = true;
    rt_st_info sb;
    int rc = rt_st_stat(st->path, &sb);
    if (rc < 0 && rt_st_unavailable(rc))
      rt_fatal("%s: cannot open '%s': %s", st->loc, st->path, rt_st_why(rc));
    if (rc < 0) {
      snprintf(message, sizeof message, "cannot open '%s': %s", st->path, rt_st_why(rc));
      return message;
    }
    if (sb.kind != RT_ST_FILE) {
      snprintf(message, sizeof message, "cannot open '%s': not a file", st->path);
      return message;
    }
    st->size = sb.size;
    return NULL;
  }
  st->fd = open(st->path, O_RDONLY | O_CLOEXEC);
  if (st->fd < 0) {
    snprintf(message, sizeof message, "cannot open '%s': %s", st->path, strerror(errno));
    return message;
  }
  struct stat sb;
  if (fstat(st->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    st->seekable = true;
    st->size = (int64_t)sb.st_size;
    st->in_place = rt_read_in_pieces(rj->job, node);
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(st->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return NULL;
}

/* Makes room in buf for `need` bytes after `end`. Moves the bytes not given
 * out to the front first, so it must only run before the current batch's
 * lines are handed out (the previous batch's are dead by then). */
static void make_room(textfile_state *st, int64_t need) {
  if (st->cap - (st->end - st->base) >= need)
    return;
  if (st->line > st->base) {
    memmove(st->buf, st->buf + (st->line - st->base), (size_t)(st->end - st->line));
    st->base = st->line;
    if (st->cap - (st->end - st->base) >= need)
      return;
  }
  int64_t want = st->end - st->base + need, cap = st->cap ? st->cap : 2 << 20;
  while (cap < want)
    cap *= 2;
  char *nb = realloc(st->buf, (size_t)cap);
  if (!nb)
    rt_fatal("%s: out of memory reading '%s'", st->loc, st->path);
  st->buf = nb;
  st->cap = cap;
}

/* Reads up to n bytes at file offset foff (or the next n of a FIFO or an
 * HDFS file); short only at the end of the file or on an error (*err: an
 * errno; for HDFS, rt_st_why(-*err) says more). */
static int64_t read_at(const textfile_state *st, char *dst, int64_t n, int64_t foff, int *err) {
  int64_t got = 0;
  while (got < n) {
    ssize_t r = st->remote     ? rt_st_read(st->rd, dst + got, (size_t)(n - got))
                : st->seekable ? pread(st->fd, dst + got, (size_t)(n - got), (off_t)(foff + got))
                               : read(st->fd, dst + got, (size_t)(n - got));
    if (st->remote && r < 0) {
      *err = (int)-r;
      break;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      *err = errno;
      break;
    }
    if (r == 0)
      break;
    got += r;
  }
  return got;
}

/* The worker's scratch buffers of the task of ctx. */
static tf_scratch *worker_scratch(const textfile_state *st, const ds_ctx *ctx) {
  return &st->scratch[rt_task_worker(ctx)];
}

/* s's byte buffer, with room for n bytes. */
static char *scratch_bytes(const textfile_state *st, tf_scratch *s, int64_t n) {
  if (s->cap < n) {
    free(s->bytes);
    s->cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
    s->bytes = malloc((size_t)s->cap);
    if (!s->bytes)
      rt_fatal("%s: out of memory", st->loc);
  }
  return s->bytes;
}

typedef struct round_job {
  textfile_state *st;
  int64_t first;  /* the round's first chunk */
} round_job;

static void chunk_task(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  (void)rj;
  const round_job *r = arg;
  const textfile_state *st = r->st;
  tf_chunk *c = &st->chunks[r->first + i];
  char *dst = st->in_place ? scratch_bytes(st, worker_scratch(st, ctx), CHUNK_BYTES)
                           : st->buf + (c->foff - st->base);
  if (st->seekable) {
    int64_t n = st->limit - c->foff < CHUNK_BYTES ? st->limit - c->foff : CHUNK_BYTES;
    c->got = n > 0 ? read_at(st, dst, n, c->foff, &c->err) : 0;
  }
  rt_newlines_scan(&c->nl, dst, c->got, c->foff);
}

/* Reads and scans the next n chunks (n >= 1). Sets eof at the end of the
 * file, where a last line without '\n' gets one. */
static void read_round(rt_job *rj, textfile_state *st, int64_t n) {
  if (st->in_place && !st->scratch) {
    st->nscratch = rt_pool_threads(rj->pool);
    st->scratch = calloc((size_t)st->nscratch, sizeof *st->scratch);
    if (!st->scratch)
      rt_fatal("%s: out of memory", st->loc);
  }
  if (!st->in_place)
    make_room(st, n * CHUNK_BYTES + 1); /* + 1: the '\n' a last line may need */
  if (st->cap_chunks < st->nchunks + n) {
    int64_t cap = st->cap_chunks ? st->cap_chunks : 64;
    while (cap < st->nchunks + n)
      cap *= 2;
    tf_chunk *nc = realloc(st->chunks, sizeof *nc * (size_t)cap);
    if (!nc)
      rt_fatal("%s: out of memory", st->loc);
    memset(nc + st->cap_chunks, 0, sizeof *nc * (size_t)(cap - st->cap_chunks));
    st->chunks = nc;
    st->cap_chunks = cap;
  }
  tf_chunk *cs = st->chunks + st->nchunks;
  for (int64_t i = 0; i < n; i++) {
    cs[i].foff = st->end + i * CHUNK_BYTES;
    cs[i].got = 0;
    cs[i].err = 0;
    cs[i].nl.n = 0;
  }
  if (st->remote && !st->rd) {
    /* The read starts where the file is to be read from (after a restore,
     * the saved position) and ends at the limit when there is one. */
    int rc = rt_st_open_read(st->path, st->end, st->limit == INT64_MAX ? -1 : st->limit - st->end,
                             &st->rd);
    if (rc < 0)
      rt_fatal("%s: cannot read '%s': %s", st->loc, st->path, rt_st_why(rc));
  }
  if (!st->seekable) {
    for (int64_t i = 0; i < n; i++) {
      cs[i].got = read_at(st, st->buf + (cs[i].foff - st->base), CHUNK_BYTES, 0, &cs[i].err);
      if (cs[i].got < CHUNK_BYTES)
        break;
    }
  }
  round_job r = {.st = st, .first = st->nchunks};
  rt_parallel(rj, (int)n, chunk_task, &r);
  /* The chunks up to the first short one are the file's next bytes. */
  int64_t kept = 0;
  while (kept < n) {
    tf_chunk *c = &cs[kept++];
    if (c->err)
      rt_fatal("%s: cannot read '%s': %s", st->loc, st->path,
               st->remote ? rt_st_why(-c->err) : strerror(c->err));
    st->end += c->got;
    st->queued += c->nl.n;
    st->seen_bytes += c->got;
    st->seen_lines += c->nl.n;
    if (c->nl.n)
      st->tail = (int64_t)(c->nl.at[c->nl.n - 1] >> 1) + 1;
    if (c->got < CHUNK_BYTES) {
      st->eof = true;
      st->eof_at = st->end < st->limit ? st->end : st->limit; /* resumed past a last line */
      break;
    }
  }
  st->nchunks += kept;
  if (st->eof && st->end > st->tail) {
    bool cr;
    if (st->in_place) {
      char c = 0;
      int err = 0;
      cr = read_at(st, &c, 1, st->end - 1, &err) == 1 && c == '\r';
    } else {
      char *last = st->buf + (st->end - st->base);
      *last = '\n';
      cr = last[-1] == '\r';
    }
    rt_newlines_push(&st->chunks[st->nchunks - 1].nl, st->end, cr);
    st->end++;
    st->tail = st->end;
    st->queued++;
    st->seen_lines++;
  }
}

/* Moves the chunks given out whole (before head) behind the live ones, for
 * reuse. */
static void recycle(textfile_state *st) {
  if (st->head == 0)
    return;
  int64_t live = st->nchunks - st->head;
  for (int64_t i = 0; i < live; i++) {
    tf_chunk t = st->chunks[i];
    st->chunks[i] = st->chunks[st->head + i];
    st->chunks[st->head + i] = t;
  }
  st->nchunks = live;
  st->head = 0;
}

/* Bytes the next `lines` lines probably take (average so far, with a
 * margin), capped by what the file has left; 0 when nothing was seen. */
static int64_t estimate(const textfile_state *st, int64_t lines) {
  if (st->seen_lines == 0 || lines <= 0)
    return 0;
  double est = (double)lines * ((double)st->seen_bytes / (double)st->seen_lines) * 1.03 + 4096;
  double left = st->seekable || st->remote ? (double)(st->size - st->end) + CHUNK_BYTES : (double)(1 << 30);
  if (est > left)
    est = left > 0 ? left : 0;
  return (int64_t)est;
}

/* Partition `part` of the current batch, read in place: for each run of
 * lines (one chunk's) in the partition, its bytes are read into the
 * worker's buffer and its lines given to fn. */
static void textfile_feed(void *state, int32_t part, ds_ctx *ctx, rt_piece_fn fn, void *arg) {
  const textfile_state *st = state;
  tf_scratch *s = worker_scratch(st, ctx);
  int64_t a = rt_slice_start(part, st->batch_lines, st->batch_parts);
  int64_t b = rt_slice_start(part + 1, st->batch_lines, st->batch_parts);
  for (int64_t k = 0; k < st->nruns && a < b; k++) {
    const rt_line_run *r = &st->runs[k];
    if (r->first + r->n <= a)
      continue;
    int64_t hi = r->first + r->n < b ? r->first + r->n : b;
    const uint64_t *e = r->nl + (a - r->first);
    /* Bytes from the first line's start to the last line's newline. */
    int64_t from = (a == r->first ? r->prev : (int64_t)(e[-1] >> 1)) + 1;
    int64_t to = (int64_t)(r->nl[hi - 1 - r->first] >> 1);
    char *bytes = scratch_bytes(st, s, to - from);
    int err = 0;
    int64_t got = to > from ? read_at(st, bytes, to - from, from, &err) : 0;
    if (got < to - from)
      rt_fatal("%s: cannot read '%s' again at byte %lld: %s", st->loc, st->path,
               (long long)(from + got),
               err ? strerror(err)
                   : "the file is shorter than it was (textFile reads a file that only grows)");
    if (s->cap_lines < hi - a) {
      free(s->lines);
      s->cap_lines = hi - a;
      s->lines = malloc(sizeof *s->lines * (size_t)s->cap_lines);
      if (!s->lines)
        rt_fatal("%s: out of memory", st->loc);
    }
    /* The first line's '\r' is looked up in the bytes: a chunk's scan
     * cannot see the byte before its first newline. */
    int64_t prev = from - 1, at = (int64_t)(e[0] >> 1);
    s->lines[0] = (ds_str){bytes, at - from - (at > from && bytes[at - 1 - from] == '\r')};
    for (int64_t g = 1; g < hi - a; g++) {
      prev = at;
      at = (int64_t)(e[g] >> 1);
      s->lines[g] = (ds_str){bytes + (prev + 1 - from), at - prev - 1 - (int64_t)(e[g] & 1)};
    }
    ds_part piece = {.data = (char *)s->lines, .n = hi - a, .cap = hi - a};
    fn(arg, &piece, ctx);
    a = hi;
  }
}

static void textfile_run(rt_job *rj, int node, const rt_batch *b) {
  (void)b;
  textfile_state *st = rj->state[node];
  int64_t want = rj->settings.max_records_per_batch;
  int32_t nparts = (int32_t)rj->settings.partitions;
  recycle(st);
  if (!st->eof && st->queued < want) {
    /* Room for the whole batch now, while little is to be moved. */
    int64_t est = estimate(st, want - st->queued);
    if (!st->in_place)
      make_room(st, est + est / 16 + (est ? 4 : FIRST_ROUND_CHUNKS) * CHUNK_BYTES + 1);
    while (!st->eof && st->queued < want) {
      int64_t n = FIRST_ROUND_CHUNKS;
      est = estimate(st, want - st->queued);
      if (est > 0)
        n = (est + CHUNK_BYTES - 1) / CHUNK_BYTES;
      read_round(rj, st, n < 1 ? 1 : n > MAX_ROUND_CHUNKS ? MAX_ROUND_CHUNKS : n);
    }
  }
  /* The batch: the next m newlines, as one run per chunk. */
  int64_t m = st->queued < want ? st->queued : want;
  if (st->cap_runs < st->nchunks - st->head) {
    free(st->runs);
    st->cap_runs = st->nchunks - st->head;
    st->runs = malloc(sizeof *st->runs * (size_t)st->cap_runs);
    if (!st->runs)
      rt_fatal("%s: out of memory", st->loc);
  }
  int64_t g = 0, prev = st->line - 1, nruns = 0, start = st->line;
  while (g < m) {
    tf_chunk *c = &st->chunks[st->head];
    int64_t k = c->nl.n - st->cur < m - g ? c->nl.n - st->cur : m - g;
    if (k > 0) {
      st->runs[nruns++] = (rt_line_run){.nl = c->nl.at + st->cur, .n = k, .first = g, .prev = prev};
      g += k;
      st->cur += k;
      prev = (int64_t)(c->nl.at[st->cur - 1] >> 1);
    }
    if (st->cur == c->nl.n) {
      st->head++;
      st->cur = 0;
    }
  }
  st->queued -= m;
  st->line = prev + 1;
  if (st->in_place) {
    rt_stream *out = &rj->streams[node];
    rt_stream_reset(out, nparts);
    for (int32_t p = 0; p < nparts; p++)
      out->parts[p].n = rt_slice_start(p + 1, m, nparts) - rt_slice_start(p, m, nparts);
    out->feed = textfile_feed;
    out->feed_state = st;
    st->nruns = nruns;
    st->batch_lines = m;
    st->batch_parts = nparts;
    return;
  }
  bool parallel = rt_pool_threads(rj->pool) > 1 && st->line - start >= PARALLEL_BYTES;
  rt_line_runs_to_parts(rj, &rj->streams[node], st->buf, st->base, st->runs, nruns, m, nparts,
                        parallel);
}

static bool textfile_exhausted(rt_job *rj, int node) {
  textfile_state *st = rj->state[node];
  if (!st->eof && st->line == st->end) {
    recycle(st);
    read_round(rj, st, 1);
  }
  return st->eof && st->line == st->end;
}

static void textfile_free(rt_job *rj, int node) {
  textfile_state *st = rj->state[node];
  if (!st)
    return;
  if (st->fd >= 0)
    close(st->fd);
  rt_st_close_read(st->rd);
  for (int64_t i = 0; i < st->cap_chunks; i++)
    rt_newlines_free(&st->chunks[i].nl);
  free(st->chunks);
  free(st->runs);
  free(st->buf);
  for (int i = 0; i < st->nscratch; i++) {
    free(st->scratch[i].bytes);
    free(st->scratch[i].lines);
  }
  free(st->scratch);
  free(st->path);
  free(st);
  rj->state[node] = NULL;
}

/* Checkpoint: version (u32 1), the offset of the next line to give out
 * (i64; one past the end of the file once a last line without '\n' was
 * given out), whether the end of the file was reached (u8), the bytes known
 * to be in the file (i64: where it ended, else the offset read up to), and
 * the line statistics (two i64, for read sizes only). A load checks that the
 * file still has those bytes and resumes reading at the saved offset; when
 * the saved run had reached the end it reads no further than where the file
 * ended then (bytes appended since are not read), as the run would have. The
 * bytes read beyond the position are read again. A file that is not a
 * regular file (a FIFO) cannot be resumed once anything was read. */
enum { TEXTFILE_VERSION = 1 };

static void textfile_save(rt_job *rj, int node, rt_ckw *w) {
  textfile_state *st = rj->state[node];
  /* A run resumed after the end has its end at the limit, found or not yet;
   * one resumed before it knows the bytes its checkpoint knew. */
  bool eof = st->eof || st->limit != INT64_MAX;
  int64_t known = st->eof ? st->eof_at : eof ? st->limit : st->end;
  if (!eof && known < st->known)
    known = st->known;
  rt_ckw_u32(w, TEXTFILE_VERSION);
  rt_ckw_i64(w, st->line);
  rt_ckw_u8(w, eof);
  rt_ckw_i64(w, known);
  rt_ckw_i64(w, st->seen_bytes);
  rt_ckw_i64(w, st->seen_lines);
}

static const char *textfile_load(rt_job *rj, int node, rt_ckr *r) {
  textfile_state *st = rj->state[node];
  int64_t line = 0, known = 0, seen_bytes = 0, seen_lines = 0;
  uint8_t eof = 0;
  const char *why = rt_ckr_version(r, TEXTFILE_VERSION, st->loc);
  if (why || r->err)
    return why;
  rt_ckr_i64(r, &line);
  rt_ckr_u8(r, &eof);
  rt_ckr_i64(r, &known);
  rt_ckr_i64(r, &seen_bytes);
  rt_ckr_i64(r, &seen_lines);
  if (r->err)
    return NULL;
  if (eof > 1 || known < 0 || line < 0 || line > known + (eof ? 1 : 0) || seen_bytes < 0 ||
      seen_lines < 0) {
    snprintf(message, sizeof message, "%s: checkpoint content is malformed", st->loc);
    return message;
  }
  if (st->line != 0 || st->end != 0 || st->eof) {
    snprintf(message, sizeof message, "%s: the source has read before a load", st->loc);
    return message;
  }
  int64_t size;
  if (st->remote) {
    rt_st_info sb;
    int rc = rt_st_stat(st->path, &sb);
    if (rc < 0) {
      snprintf(message, sizeof message, "%s: cannot stat '%s': %s", st->loc, st->path, rt_st_why(rc));
      return message;
    }
    size = sb.size;
  } else {
    if (!st->seekable) {
      if (line == 0 && known == 0) { /* nothing was read: start over, or stay at the end */
        st->eof = eof;
        return NULL;
      }
      snprintf(message, sizeof message,
               "%s: cannot resume reading '%s' at byte %lld: it is not a regular file", st->loc,
               st->path, (long long)line);
      return message;
    }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0) {
      snprintf(message, sizeof message, "%s: cannot stat '%s': %s", st->loc, st->path,
               strerror(errno));
      return message;
    }
    size = (int64_t)sb.st_size;
  }
  if (size < known) {
    snprintf(message, sizeof message,
             "%s: '%s' has %lld bytes, fewer than the %lld it had when the checkpoint was "
             "written",
             st->loc, st->path, (long long)size, (long long)known);
    return message;
  }
  /* Reading resumes at the saved offset (an HDFS reader opens there). */
  st->size = size;
  st->base = st->line = st->end = st->tail = line;
  st->limit = eof ? known : INT64_MAX;
  st->known = known;
  st->seen_bytes = seen_bytes;
  st->seen_lines = seen_lines;
  return NULL;
}

const rt_exec rt_exec_source_textfile = {
    .init = textfile_init,
    .run = textfile_run,
    .exhausted = textfile_exhausted,
    .free = textfile_free,
    .save = textfile_save,
    .load = textfile_load,
};
