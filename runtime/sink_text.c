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
 * a restart must not write a batch twice (§12).
 *
 * The prefix may be on HDFS (hdfs://, webhdfs://): the same steps go through
 * storage.h. Each part file is one WebHDFS CREATE, made by the worker that
 * formats the partition on its own client (the storage layer's pool), its
 * bytes kept by the client until the upload (in memory up to 4 MiB, then in
 * a spill file). There is no fsync: a CREATE whose answer arrived is on the
 * DataNodes, and the RENAME into place is atomic at the NameNode, which logs
 * it before it answers, so a batch directory is whole and durable once the
 * rename returned. The hidden directory is made by the parts' CREATEs (they
 * create missing parents), and HDFS renames a directory into an existing
 * one, so the final name is checked first (it is anyway, for `_SUCCESS`).
 * A failure that outlasted the client's retries, or a refusal (4xx), stops
 * the job (exit 1) with the server's message.
 */
#include "rt.h"
#include "storage.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { FLUSH_BYTES = 1 << 20 };

typedef struct text_state {
  char *prefix, *suffix;  /* NUL-terminated copies; suffix NULL when none */
  bool remote;            /* the prefix is on HDFS */
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
  char msg[1600];  /* rt_st_why of that error, from the task's thread */
  pthread_mutex_t lock;
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

/* Removes a directory and what it holds (a stale temporary or a replaced batch). */
static void remove_dir(const char *path) {
  rt_st_remove(path, true);
}

static void write_part(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  write_task *t = arg;
  const ds_part *part = &t->in->parts[i];
  /* A copy on this task's stack: the buffers of neighbouring partitions
   * share cache lines, and the length changes with every piece written. */
  ds_strbuf local = t->st->bufs[i], *buf = &local;
  char path[4300];
  snprintf(path, sizeof path, "%s/part-%05d", t->dir, i);
  rt_st_writer *w;
  int r = rt_st_create(path, &w);
  if (r < 0)
    goto fail;
  buf->len = 0;
  for (int64_t k = 0; k < part->n; k++) {
    t->type->format(part->data + k * t->type->size, buf);
    ds_strbuf_put(buf, "\n", 1);
    if (buf->len >= FLUSH_BYTES) {
      if ((r = rt_st_write(w, buf->ptr, (size_t)buf->len)) < 0)
        goto fail_w;
      buf->len = 0;
    }
  }
  if ((r = rt_st_write(w, buf->ptr, (size_t)buf->len)) < 0)
    goto fail_w;
  if ((r = rt_st_close_write(w, t->durable)) < 0)
    goto fail;
  t->st->bufs[i] = local;
  return;
fail_w:
  rt_st_abort_write(w);
fail:
  t->st->bufs[i] = local;
  pthread_mutex_lock(&t->lock);
  if (!t->err) {
    t->err_part = i;
    t->err = -r;
    snprintf(t->msg, sizeof t->msg, "%s", rt_st_why(r));
  }
  pthread_mutex_unlock(&t->lock);
}

/* Removes what a crash left of this output's batch directories: the hidden
 * `.<prefix base>-<ms>....tmp` (being written) and `.old` (being replaced).
 * Returns 0, or (HDFS only: locally a directory that cannot be listed has
 * nothing to clean) the listing's error. */
static int clean_temporaries(const char *prefix, bool remote) {
  const char *slash = strrchr(prefix, '/');
  char parent[4000];
  snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - prefix) : 1, slash ? prefix : ".");
  if (!parent[0])
    snprintf(parent, sizeof parent, "/");
  const char *base = slash ? slash + 1 : prefix;
  size_t blen = strlen(base);
  rt_st_entry *v;
  int64_t nv;
  int rc = rt_st_list(parent, &v, &nv);
  if (rc < 0)
    return remote && rc != -ENOENT ? rc : 0;
  char path[8200];
  for (int64_t i = 0; i < nv; i++) {
    const char *nm = v[i].name;
    size_t n = strlen(nm);
    if (nm[0] != '.' || n < blen + 6 || strncmp(nm + 1, base, blen) != 0 || nm[1 + blen] != '-')
      continue;
    if (strcmp(nm + n - 4, ".tmp") != 0 && strcmp(nm + n - 4, ".old") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", parent, nm);
    if ((rc = rt_st_remove(path, true)) < 0 && remote)
      break;
    rc = 0;
  }
  rt_st_free_list(v, nv);
  return rc;
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
  st->prefix = rt_path_arg(n->str_arg, &msg);
  if (!st->prefix)
    return msg;
  st->suffix = n->str_arg2.len ? cstr(n->str_arg2) : NULL;
  if (n->str_arg2.len && !st->suffix)
    return "out of memory";
  st->remote = rt_st_is_remote(st->prefix);
  if (st->remote)
    rt_st_configure(rj->settings.hdfs_user, rj->settings.retries);
  int rc = clean_temporaries(st->prefix, st->remote);
  if (rc < 0) {
    static _Thread_local char m[2000];
    if (rt_st_unavailable(rc))
      rt_fatal("%s: cannot clean the temporaries of %s: %s", n->loc, st->prefix, rt_st_why(rc));
    snprintf(m, sizeof m, "cannot clean the temporaries of %s: %s", st->prefix, rt_st_why(rc));
    return m;
  }
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

  rt_st_info sb;
  int r = rt_st_stat(final, &sb);
  bool exists = r == 0;
  if (r < 0 && r != -ENOENT && st->remote)
    rt_fatal("%s: cannot look at %s: %s", n->loc, final, rt_st_why(r));
  if (exists) {
    snprintf(path, sizeof path, "%s/_SUCCESS", final);
    if (rj->settings.checkpoint && (r = rt_st_stat(path, &sb)) == 0) {
      rj->records_out += total;
      return; /* written complete before a restart: not again */
    }
    if (r < 0 && r != -ENOENT && st->remote)
      rt_fatal("%s: cannot look at %s: %s", n->loc, path, rt_st_why(r));
  }
  if (!st->remote) {
    /* On HDFS the CREATEs below make the directories they need. */
    if ((r = rt_st_mkdirs(parent)) < 0)
      rt_fatal("%s: cannot create the parents of %s: %s", n->loc, final, rt_st_why(r));
    remove_dir(tmp);
    if ((r = rt_st_mkdirs(tmp)) < 0)
      rt_fatal("%s: cannot create %s: %s", n->loc, tmp, rt_st_why(r));
  }

  /* Exactly-once output needs the batch on disk before the checkpoint that
   * records it; without a checkpoint there is nothing to be exact against,
   * and the atomic rename alone keeps directories whole. */
  bool durable = rj->settings.checkpoint != NULL;
  write_task t = {.st = st, .type = rj->job->nodes[n->inputs[0]].elem, .in = in, .dir = tmp, .durable = durable};
  pthread_mutex_init(&t.lock, NULL);
  if (in->nparts > 0)
    rt_parallel(rj, in->nparts, write_part, &t);
  pthread_mutex_destroy(&t.lock);
  if (t.err)
    rt_fatal("%s: cannot write %s/part-%05d: %s", n->loc, tmp, t.err_part, t.msg);

  snprintf(path, sizeof path, "%s/_SUCCESS", tmp);
  if ((r = rt_st_put(path, "", 0, durable)) < 0)
    rt_fatal("%s: cannot write %s: %s", n->loc, path, rt_st_why(r));
  if (durable && (r = rt_st_sync_dir(tmp)) < 0)
    rt_fatal("%s: cannot sync %s: %s", n->loc, tmp, rt_st_why(r));

  r = exists && st->remote ? -EEXIST : rt_st_rename(tmp, final);
  if (r < 0) {
    if (r != -ENOTEMPTY && r != -EEXIST)
      rt_fatal("%s: cannot rename %s to %s: %s", n->loc, tmp, final, rt_st_why(r));
    /* Replace an old directory: move it aside (hidden), then delete it. */
    snprintf(path, sizeof path, "%.*s%s.%s.old", dirlen, final, slash ? "/" : "", base);
    remove_dir(path);
    if ((r = rt_st_rename(final, path)) < 0 || (r = rt_st_rename(tmp, final)) < 0)
      rt_fatal("%s: cannot replace %s: %s", n->loc, final, rt_st_why(r));
    remove_dir(path);
  }
  if (durable && (r = rt_st_sync_dir(parent)) < 0)
    rt_fatal("%s: cannot sync %s: %s", n->loc, parent, rt_st_why(r));
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
