/*
 * sink_text.c — the executor of `s.saveAsTextFiles(prefix, suffix)` (§10).
 *
 * Each batch (each non-empty one with skipEmpty) becomes a directory
 * `prefix-<ms>` or `prefix-<ms>.suffix` holding `part-NNNNN` per input
 * partition (empty files included), one element per line, and an empty
 * `_SUCCESS`. The directory is written under a hidden name beside its final
 * one (`.<name>.tmp`), every file and the directory fsync'd (when a
 * checkpoint is configured: exactly-once output needs it), then renamed
 * into place, so a reader sees a batch's directory complete or not at all.
 * Partitions are formatted and written in parallel, each through a buffer
 * kept per partition across batches.
 *
 * A final directory that already exists is replaced, except that with a
 * checkpoint configured a complete one (it has `_SUCCESS`) is kept as it is:
 * a restart must not write a batch twice (§12). Local paths only for now.
 */
#include "rt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FLUSH_BYTES = 1 << 20 };

typedef struct text_state {
  char *prefix, *suffix;  /* NUL-terminated copies; suffix NULL when none */
  ds_strbuf *bufs;        /* one per partition */
  int32_t nbufs;
} text_state;

typedef struct write_task {
  text_state *st;
  const ds_type *type;
  const rt_stream *in;
  const char *dir;
  bool durable;    /* fsync files and directories (only with a checkpoint) */
  int err;         /* the first errno of any task (0: none) */
  int32_t err_part;
} write_task;

static char *cstr(ds_str s) {
  char *p = malloc((size_t)s.len + 1);
  if (p) {
    if (s.len)
      memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
  }
  return p;
}

/* mkdir -p of every parent of path (not path itself). */
static int make_parents(const char *path) {
  char *p = strdup(path);
  if (!p)
    return -ENOMEM;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0777) < 0 && errno != EEXIST) {
      int e = errno;
      free(p);
      return -e;
    }
    *s = '/';
  }
  free(p);
  return 0;
}

/* Removes a directory of plain files (a stale temporary or a replaced batch). */
static void remove_dir(const char *path) {
  DIR *d = opendir(path);
  if (!d)
    return;
  struct dirent *e;
  char buf[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(buf, sizeof buf, "%s/%s", path, e->d_name);
    unlink(buf);
  }
  closedir(d);
  rmdir(path);
}

static int fsync_path(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = fsync(fd) < 0 ? -errno : 0;
  close(fd);
  return r;
}

static int write_all(int fd, const char *p, int64_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, (size_t)n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= w;
  }
  return 0;
}

static void write_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  write_task *t = arg;
  const ds_part *part = &t->in->parts[i];
  ds_strbuf *buf = &t->st->bufs[i];
  char path[4300];
  snprintf(path, sizeof path, "%s/part-%05d", t->dir, i);
  int r = 0, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    r = -errno;
    goto fail;
  }
  buf->len = 0;
  for (int64_t k = 0; k < part->n; k++) {
    t->type->format(part->data + k * t->type->size, buf);
    ds_strbuf_put(buf, "\n", 1);
    if (buf->len >= FLUSH_BYTES) {
      if ((r = write_all(fd, buf->ptr, buf->len)) < 0)
        goto fail_fd;
      buf->len = 0;
    }
  }
  if ((r = write_all(fd, buf->ptr, buf->len)) < 0)
    goto fail_fd;
  if (t->durable && fsync(fd) < 0) {
    r = -errno;
    goto fail_fd;
  }
  if (close(fd) < 0) {
    r = -errno;
    goto fail;
  }
  return;
fail_fd:
  close(fd);
fail:
  __atomic_store_n(&t->err_part, i, __ATOMIC_RELAXED);
  __atomic_store_n(&t->err, -r, __ATOMIC_RELAXED);
}

/* Removes what a crash left of this output's batch directories: the hidden
 * `.<prefix base>-<ms>....tmp` (being written) and `.old` (being replaced). */
static void clean_temporaries(const char *prefix) {
  const char *slash = strrchr(prefix, '/');
  char parent[4000];
  snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - prefix) : 1, slash ? prefix : ".");
  if (!parent[0])
    snprintf(parent, sizeof parent, "/");
  const char *base = slash ? slash + 1 : prefix;
  size_t blen = strlen(base);
  DIR *d = opendir(parent);
  if (!d)
    return;
  struct dirent *e;
  char path[8200];
  while ((e = readdir(d))) {
    const char *nm = e->d_name;
    size_t n = strlen(nm);
    if (nm[0] != '.' || n < blen + 6 || strncmp(nm + 1, base, blen) != 0 || nm[1 + blen] != '-')
      continue;
    if (strcmp(nm + n - 4, ".tmp") != 0 && strcmp(nm + n - 4, ".old") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", parent, nm);
    remove_dir(path);
  }
  closedir(d);
}

static const char *text_init(rt_job *rj, int node) {
  ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !rj->job->nodes[n->inputs[0]].elem ||
      !rj->job->nodes[n->inputs[0]].elem->format)
    return "saveAsTextFiles needs one input whose type can be formatted";
  text_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  rj->state[node] = st;
  const char *msg = NULL;
  st->prefix = rt_local_path(n->str_arg, &msg);
  if (!st->prefix)
    return msg;
  st->suffix = n->str_arg2.len ? cstr(n->str_arg2) : NULL;
  if (n->str_arg2.len && !st->suffix)
    return "out of memory";
  clean_temporaries(st->prefix);
  return NULL;
}

static void text_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  text_state *st = rj->state[node];
  const rt_stream *in = &rj->streams[n->inputs[0]];
  int64_t total = rt_stream_count(in);
  if (n->flag && total == 0)
    return;

  if (in->nparts > st->nbufs) {
    ds_strbuf *nb = realloc(st->bufs, sizeof *nb * (size_t)in->nparts);
    if (!nb)
      rt_fatal("%s: out of memory", n->loc);
    memset(nb + st->nbufs, 0, sizeof *nb * (size_t)(in->nparts - st->nbufs));
    st->bufs = nb;
    st->nbufs = in->nparts;
  }

  char final[4000], tmp[4200], path[4300];
  int len = snprintf(final, sizeof final, "%s-%" PRId64 "%s%s", st->prefix, b->time,
                     st->suffix ? "." : "", st->suffix ? st->suffix : "");
  if (len >= (int)sizeof final)
    rt_fatal("%s: output path too long: %s", n->loc, st->prefix);
  const char *slash = strrchr(final, '/');
  int dirlen = slash ? (int)(slash - final) : 0;
  const char *base = slash ? slash + 1 : final;
  snprintf(tmp, sizeof tmp, "%.*s%s.%s.tmp", dirlen, final, slash ? "/" : "", base);
  char parent[4000];
  snprintf(parent, sizeof parent, "%.*s", dirlen ? dirlen : 1, slash ? final : ".");

  struct stat sb;
  if (stat(final, &sb) == 0) {
    snprintf(path, sizeof path, "%s/_SUCCESS", final);
    if (rj->settings.checkpoint && stat(path, &sb) == 0) {
      rj->records_out += total;
      return; /* written complete before a restart: not again */
    }
  }
  int r = make_parents(final);
  if (r < 0)
    rt_fatal("%s: cannot create the parents of %s: %s", n->loc, final, strerror(-r));
  remove_dir(tmp);
  if (mkdir(tmp, 0777) < 0)
    rt_fatal("%s: cannot create %s: %s", n->loc, tmp, strerror(errno));

  /* Exactly-once output needs the batch on disk before the checkpoint that
   * records it; without a checkpoint there is nothing to be exact against,
   * and the atomic rename alone keeps directories whole. */
  bool durable = rj->settings.checkpoint != NULL;
  write_task t = {.st = st, .type = rj->job->nodes[n->inputs[0]].elem, .in = in, .dir = tmp, .durable = durable};
  if (in->nparts > 0)
    rt_parallel(rj, in->nparts, write_part, &t);
  if (t.err)
    rt_fatal("%s: cannot write %s/part-%05d: %s", n->loc, tmp, t.err_part, strerror(t.err));

  snprintf(path, sizeof path, "%s/_SUCCESS", tmp);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0 || (durable && fsync(fd) < 0))
    rt_fatal("%s: cannot write %s: %s", n->loc, path, strerror(errno));
  close(fd);
  if (durable && (r = fsync_path(tmp, O_RDONLY | O_DIRECTORY)) < 0)
    rt_fatal("%s: cannot sync %s: %s", n->loc, tmp, strerror(-r));

  if (rename(tmp, final) < 0) {
    if (errno != ENOTEMPTY && errno != EEXIST)
      rt_fatal("%s: cannot rename %s to %s: %s", n->loc, tmp, final, strerror(errno));
    /* Replace an old directory: move it aside (hidden), then delete it. */
    snprintf(path, sizeof path, "%.*s%s.%s.old", dirlen, final, slash ? "/" : "", base);
    remove_dir(path);
    if (rename(final, path) < 0 || rename(tmp, final) < 0)
      rt_fatal("%s: cannot replace %s: %s", n->loc, final, strerror(errno));
    remove_dir(path);
  }
  if (durable && (r = fsync_path(parent, O_RDONLY | O_DIRECTORY)) < 0)
    rt_fatal("%s: cannot sync %s: %s", n->loc, parent, strerror(-r));
  rj->records_out += total;
}

static void text_free(rt_job *rj, int node) {
  text_state *st = rj->state[node];
  if (!st)
    return;
  for (int32_t i = 0; i < st->nbufs; i++)
    ds_strbuf_free(&st->bufs[i]);
  free(st->bufs);
  free(st->prefix);
  free(st->suffix);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_save_text = {.init = text_init, .run = text_run, .free = text_free};
