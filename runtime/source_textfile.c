/*
 * source_textfile.c — the `textFile(path)` source (§6): the lines of one
 * existing file, maxRecordsPerBatch per batch; bounded.
 *
 * The file is streamed: one reusable buffer holds the bytes of the current
 * batch plus what the last large read() brought beyond it. The buffer grows
 * with the batch (a batch's lines must stay in memory until the batch
 * ends), never with the file; bytes already handed out are dropped by
 * moving the rest to the front when more room is needed, which happens at
 * the next batch, when the previous batch's strings are dead.
 *
 * What holds between batches: buf[pos, len) are the bytes not yet given
 * out; newlines in [pos, scan) have been counted (scan_lines of them), so
 * no byte is counted twice however small the batches are. The batch's end
 * is found with a word-at-a-time newline count and memchr; cutting it into
 * partitions runs on the pool (rt_lines_to_parts). A last line without
 * '\n' gets one at the end of the file.
 */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  READ_BYTES = 8 << 20, /* the size of one read() */
  SKIP_BYTES = 4096,     /* blocks counted whole when looking for a batch's end */
};

typedef struct textfile_state {
  int fd;
  char *buf;
  int64_t cap, len, pos;
  int64_t scan, scan_lines;
  bool eof;
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
  st->loc = n->loc ? n->loc : "textFile";
  rj->state[node] = st;
  const char *msg = NULL;
  st->path = rt_local_path(n->str_arg, &msg);
  if (!st->path)
    return msg;
  st->fd = open(st->path, O_RDONLY | O_CLOEXEC);
  if (st->fd < 0) {
    snprintf(message, sizeof message, "cannot open '%s': %s", st->path, strerror(errno));
    return message;
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(st->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return NULL;
}

/* One read() into the buffer, making room first. Sets eof at the end of
 * the file (and terminates a last line that lacks its '\n'). */
static void fill(textfile_state *st) {
  if (st->cap - st->len - 1 < READ_BYTES) {
    if (st->pos > 0) {
      memmove(st->buf, st->buf + st->pos, (size_t)(st->len - st->pos));
      st->len -= st->pos;
      st->scan -= st->pos;
      st->pos = 0;
    }
    if (st->cap - st->len - 1 < READ_BYTES) {
      int64_t nc = st->cap ? st->cap : READ_BYTES + 1;
      while (nc - st->len - 1 < READ_BYTES)
        nc *= 2;
      char *nb = realloc(st->buf, (size_t)nc);
      if (!nb)
        rt_fatal("%s: out of memory reading '%s'", st->loc, st->path);
      st->buf = nb;
      st->cap = nc;
    }
  }
  for (;;) {
    ssize_t r = read(st->fd, st->buf + st->len, (size_t)(st->cap - st->len - 1));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      rt_fatal("%s: cannot read '%s': %s", st->loc, st->path, strerror(errno));
    if (r == 0) {
      st->eof = true;
      if (st->len > st->pos && st->buf[st->len - 1] != '\n')
        st->buf[st->len++] = '\n';
    }
    st->len += r;
    return;
  }
}

static void textfile_run(rt_job *rj, int node, const rt_batch *b) {
  textfile_state *st = rj->state[node];
  int64_t want = rj->settings.max_records_per_batch, end, lines;
  for (;;) {
    if (st->scan < st->len) {
      st->scan_lines += rt_count_lines(st->buf + st->scan, st->len - st->scan);
      st->scan = st->len;
    }
    if (st->scan_lines >= want) {
      /* The batch ends after the want-th newline from pos: skip whole
       * blocks by counting, then walk the last block with memchr. */
      const char *p = st->buf + st->pos, *lim = st->buf + st->len;
      int64_t k = want;
      for (int64_t c; lim - p > SKIP_BYTES && (c = rt_count_lines(p, SKIP_BYTES)) < k; p += SKIP_BYTES)
        k -= c;
      for (; k > 0; k--)
        p = (const char *)memchr(p, '\n', (size_t)(lim - p)) + 1;
      end = p - st->buf;
      lines = want;
      st->scan_lines -= want;
      break;
    }
    if (st->eof) {
      end = st->len;
      lines = st->scan_lines;
      st->scan_lines = 0;
      break;
    }
    fill(st);
  }
  int64_t start = st->pos;
  st->pos = end;
  if (rt_lines_to_parts(rj, &rj->streams[node], st->buf + start, end - start, lines,
                        (int32_t)rj->settings.partitions) < 0)
    rt_fatal("%s: out of memory", st->loc);
}

static bool textfile_exhausted(rt_job *rj, int node) {
  textfile_state *st = rj->state[node];
  if (!st->eof && st->pos == st->len)
    fill(st);
  return st->eof && st->pos == st->len;
}

static void textfile_free(rt_job *rj, int node) {
  textfile_state *st = rj->state[node];
  if (!st)
    return;
  if (st->fd >= 0)
    close(st->fd);
  free(st->buf);
  free(st->path);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_source_textfile = {
    .init = textfile_init,
    .run = textfile_run,
    .exhausted = textfile_exhausted,
    .free = textfile_free,
};
