/*
 * source_batches.c — the `batches(path)` source (§6), bounded, for tests
 * and replays.
 *
 * The file is read whole at start. Each line is one element (an empty line
 * is ""; a trailing '\r' is dropped as by the other line sources); a line
 * holding only a form feed ends a batch, so two in a row give an empty
 * batch. Lines after the last form feed form a last batch; a file ending
 * with a form-feed line has no empty batch after it. Batch k of the job is
 * the file's batch k; once they are all given out the source is exhausted
 * and gives empty batches. Elements point into the file's buffer, which
 * lives as long as the job.
 */
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
  int64_t start, end; /* bytes of the batch's lines, each ending in '\n' */
} range;

typedef struct batches_state {
  char *buf;
  int64_t len;
  range *batches;
  int64_t nbatches, next;
} batches_state;

static _Thread_local char message[4200];

static const char *read_file(const char *path, batches_state *st) {
  FILE *f = fopen(path, "rb");
  if (!f)
    goto fail;
  int64_t cap = 1 << 16;
  st->buf = malloc((size_t)cap);
  if (!st->buf)
    goto fail_file;
  for (;;) {
    if (st->len + 1 >= cap) {
      char *nb = realloc(st->buf, (size_t)cap * 2);
      if (!nb)
        goto fail_file;
      st->buf = nb;
      cap *= 2;
    }
    size_t n = fread(st->buf + st->len, 1, (size_t)(cap - 1 - st->len), f);
    st->len += (int64_t)n;
    if (n == 0)
      break;
  }
  if (ferror(f))
    goto fail_file;
  fclose(f);
  if (st->len > 0 && st->buf[st->len - 1] != '\n')
    st->buf[st->len++] = '\n';
  return NULL;
fail_file:
  fclose(f);
fail:
  snprintf(message, sizeof message, "cannot read '%s': %s", path, strerror(errno ? errno : ENOMEM));
  return message;
}

static bool push_batch(batches_state *st, int64_t *cap, int64_t start, int64_t end) {
  if (st->nbatches == *cap) {
    int64_t nc = *cap ? *cap * 2 : 16;
    range *nb = realloc(st->batches, sizeof(range) * (size_t)nc);
    if (!nb)
      return false;
    st->batches = nb;
    *cap = nc;
  }
  st->batches[st->nbatches++] = (range){start, end};
  return true;
}

static const char *batches_init(rt_job *rj, int node) {
  ds_node *n = &rj->job->nodes[node];
  batches_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  rj->state[node] = st;
  const char *msg = NULL;
  char *path = rt_local_path(n->str_arg, &msg);
  if (!path)
    return msg;
  msg = read_file(path, st);
  free(path);
  if (msg)
    return msg;
  int64_t cap = 0, start = 0;
  for (int64_t p = 0; p < st->len;) {
    const char *nl = memchr(st->buf + p, '\n', (size_t)(st->len - p));
    int64_t end = nl - st->buf, n_ = end - p;
    bool ff = (n_ == 1 && st->buf[p] == '\f') || (n_ == 2 && st->buf[p] == '\f' && st->buf[p + 1] == '\r');
    if (ff) {
      if (!push_batch(st, &cap, start, p))
        return "out of memory";
      start = end + 1;
    }
    p = end + 1;
  }
  if (start < st->len && !push_batch(st, &cap, start, st->len))
    return "out of memory";
  return NULL;
}

static void batches_run(rt_job *rj, int node, const rt_batch *b) {
  batches_state *st = rj->state[node];
  rt_stream *out = &rj->streams[node];
  int32_t nparts = (int32_t)rj->settings.partitions;
  if (st->next >= st->nbatches) {
    rt_stream_reset(out, nparts);
    return;
  }
  range r = st->batches[st->next++];
  if (rt_lines_to_parts(rj, out, st->buf + r.start, r.end - r.start, -1, nparts) < 0)
    rt_fatal("%s: out of memory", rj->job->nodes[node].loc);
}

static bool batches_exhausted(rt_job *rj, int node) {
  batches_state *st = rj->state[node];
  return st->next >= st->nbatches;
}

static void batches_free(rt_job *rj, int node) {
  batches_state *st = rj->state[node];
  if (!st)
    return;
  free(st->buf);
  free(st->batches);
  free(st);
  rj->state[node] = NULL;
}

/* Checkpoint: version (u32 1), the number of batches given out (i64) and
 * the file offset where the last of them ended (i64). A load checks that the
 * file still has that many batches, ending there, and goes on with the next
 * one. */
enum { BATCHES_VERSION = 1 };

static void batches_save(rt_job *rj, int node, rt_ckw *w) {
  batches_state *st = rj->state[node];
  rt_ckw_u32(w, BATCHES_VERSION);
  rt_ckw_i64(w, st->next);
  rt_ckw_i64(w, st->next > 0 ? st->batches[st->next - 1].end : 0);
}

static const char *batches_load(rt_job *rj, int node, rt_ckr *r) {
  batches_state *st = rj->state[node];
  const char *loc = rj->job->nodes[node].loc ? rj->job->nodes[node].loc : "batches";
  int64_t next = 0, end = 0;
  const char *why = rt_ckr_version(r, BATCHES_VERSION, loc);
  if (why || r->err)
    return why;
  rt_ckr_i64(r, &next);
  rt_ckr_i64(r, &end);
  if (r->err)
    return NULL;
  if (next < 0 || end < 0) {
    snprintf(message, sizeof message, "%s: checkpoint content is malformed", loc);
    return message;
  }
  /* A batch is a stretch of lines; the one before the saved position must end where it did. */
  int64_t have = next <= st->nbatches && next > 0 ? st->batches[next - 1].end : 0;
  if (next > st->nbatches || have != end) {
    snprintf(message, sizeof message,
             "%s: the file changed since the checkpoint: it had %lld batches given out, ending "
             "at byte %lld; it now has %lld batches%s",
             loc, (long long)next, (long long)end, (long long)st->nbatches,
             next <= st->nbatches ? " ending elsewhere" : "");
    return message;
  }
  st->next = next;
  return NULL;
}

const rt_exec rt_exec_source_batches = {
    .init = batches_init,
    .run = batches_run,
    .exhausted = batches_exhausted,
    .free = batches_free,
    .save = batches_save,
    .load = batches_load,
};
