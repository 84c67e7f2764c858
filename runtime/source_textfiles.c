/*
 * source_textfiles.c — the `textFiles(dir, newFilesOnly:)` source (§6):
 * every file that appears in a directory, read whole into one batch.
 *
 * Each batch lists the directory; every regular file not taken before (and
 * not named `.*` or `_*`: files being written, markers) is read whole, and
 * all its lines go into this batch, files in name order. The files present
 * at the first start are taken by the first batch, or, with newFilesOnly,
 * marked taken without being read. Taken names are kept in a set for the
 * life of the job and in its checkpoints; with a checkpoint the names each
 * batch took are written to the journal before the batch is processed, and
 * a batch re-run after a restart reads those files again. The batch's bytes
 * live in one buffer reused from batch to batch. Unbounded.
 *
 * The directory is local, file://, or on HDFS (hdfs://, webhdfs://): the
 * listing and the reads go through storage.h, a LISTSTATUS per batch and a
 * streaming OPEN per new file. On HDFS a failure that outlasted the client's
 * retries, or a refusal (a 4xx: permission denied, ...), stops the job
 * (exit 1) with the server's message, as a local listing failure does not:
 * a local one is logged and tried again every batch. A file gone between
 * the listing and its read (or before a re-run reads it again) is skipped
 * with a message, on either side.
 */
#include "rt.h"
#include "storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A set of file names: open addressing, hash beside each name. */
typedef struct name_set {
  char **names;
  uint64_t *hashes;
  int64_t cap, len;
} name_set;

typedef struct textfiles_state {
  char *dir;
  bool remote;         /* dir is on HDFS */
  const char *loc;
  name_set taken;
  char *buf;           /* this batch's bytes: whole files, each ending in '\n' */
  int64_t len, cap;
  char **batch_names;  /* names found by this batch's listing */
  int64_t nbatch_names, cap_batch_names;
  bool list_failed;    /* the last listing failed (logged once per streak) */
} textfiles_state;

static _Thread_local char message[4200];

static bool set_has(const name_set *s, const char *name, uint64_t h) {
  if (!s->cap)
    return false;
  for (int64_t i = (int64_t)(h & (uint64_t)(s->cap - 1));; i = (i + 1) & (s->cap - 1)) {
    if (!s->names[i])
      return false;
    if (s->hashes[i] == h && !strcmp(s->names[i], name))
      return true;
  }
}

static int set_add(name_set *s, const char *name, uint64_t h) {
  if ((s->len + 1) * 2 > s->cap) {
    name_set n = {.cap = s->cap ? s->cap * 2 : 64};
    n.names = calloc((size_t)n.cap, sizeof(char *));
    n.hashes = calloc((size_t)n.cap, sizeof(uint64_t));
    if (!n.names || !n.hashes) {
      free(n.names);
      free(n.hashes);
      return -ENOMEM;
    }
    for (int64_t i = 0; i < s->cap; i++) {
      if (!s->names[i])
        continue;
      int64_t j = (int64_t)(s->hashes[i] & (uint64_t)(n.cap - 1));
      while (n.names[j])
        j = (j + 1) & (n.cap - 1);
      n.names[j] = s->names[i];
      n.hashes[j] = s->hashes[i];
    }
    n.len = s->len;
    free(s->names);
    free(s->hashes);
    *s = n;
  }
  char *copy = strdup(name);
  if (!copy)
    return -ENOMEM;
  int64_t j = (int64_t)(h & (uint64_t)(s->cap - 1));
  while (s->names[j])
    j = (j + 1) & (s->cap - 1);
  s->names[j] = copy;
  s->hashes[j] = h;
  s->len++;
  return 0;
}

static void set_free(name_set *s) {
  for (int64_t i = 0; i < s->cap; i++)
    free(s->names[i]);
  free(s->names);
  free(s->hashes);
  *s = (name_set){0};
}

static uint64_t name_hash(const char *name) {
  return ds_hash_bytes(name, (int64_t)strlen(name), DS_HASH_SEED);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void clear_batch_names(textfiles_state *st) {
  for (int64_t i = 0; i < st->nbatch_names; i++)
    free(st->batch_names[i]);
  st->nbatch_names = 0;
}

/* Lists the directory into batch_names: regular files, not hidden, not
 * taken, in name order. Returns 0 or a negative errno (rt_st_why). */
static int list_new(textfiles_state *st) {
  clear_batch_names(st);
  rt_st_entry *v;
  int64_t n;
  int rc = rt_st_list(st->dir, &v, &n);
  if (rc < 0)
    return rc;
  for (int64_t i = 0; i < n; i++) {
    const char *name = v[i].name;
    if (name[0] == '.' || name[0] == '_')
      continue;
    if (set_has(&st->taken, name, name_hash(name)))
      continue;
    if (v[i].st.kind != RT_ST_FILE)
      continue;
    if (st->nbatch_names == st->cap_batch_names) {
      int64_t nc = st->cap_batch_names ? st->cap_batch_names * 2 : 16;
      char **nb = realloc(st->batch_names, sizeof(char *) * (size_t)nc);
      if (!nb)
        goto fail;
      st->batch_names = nb;
      st->cap_batch_names = nc;
    }
    if (!(st->batch_names[st->nbatch_names] = strdup(name)))
      goto fail;
    st->nbatch_names++;
  }
  rt_st_free_list(v, n);
  qsort(st->batch_names, (size_t)st->nbatch_names, sizeof(char *), cmp_names);
  return 0;
fail:
  rt_st_free_list(v, n);
  return -ENOMEM;
}

/* Appends the whole file to the batch buffer, with a final '\n'. Returns 0
 * or a negative errno (rt_st_why). */
static int append_file(textfiles_state *st, const char *path) {
  rt_st_reader *r;
  int rc = rt_st_open_read(path, 0, -1, &r);
  if (rc < 0)
    return rc;
  int64_t start = st->len;
  for (;;) {
    if (st->cap - st->len < (1 << 16) + 1) {
      int64_t nc = st->cap ? st->cap * 2 : 1 << 20;
      char *nb = realloc(st->buf, (size_t)nc);
      if (!nb) {
        rt_st_close_read(r);
        st->len = start;
        return -ENOMEM;
      }
      st->buf = nb;
      st->cap = nc;
    }
    ssize_t k = rt_st_read(r, st->buf + st->len, (size_t)(st->cap - st->len - 1));
    if (k < 0) {
      rt_st_close_read(r);
      st->len = start;
      return (int)k;
    }
    if (k == 0)
      break;
    st->len += k;
  }
  rt_st_close_read(r);
  if (st->len > start && st->buf[st->len - 1] != '\n')
    st->buf[st->len++] = '\n';
  return 0;
}

static const char *textfiles_init(rt_job *rj, int node) {
  ds_node *n = &rj->job->nodes[node];
  textfiles_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  rj->state[node] = st;
  st->loc = n->loc ? n->loc : "textFiles";
  const char *msg = NULL;
  st->dir = rt_path_arg(n->str_arg, &msg);
  if (!st->dir)
    return msg;
  st->remote = rt_st_is_remote(st->dir);
  if (st->remote)
    rt_st_configure(rj->settings.hdfs_user, rj->settings.retries);
  rt_st_info sb;
  int rc = rt_st_stat(st->dir, &sb);
  if (rc < 0 && rt_st_unavailable(rc))
    rt_fatal("%s: cannot watch '%s': %s", st->loc, st->dir, rt_st_why(rc));
  if (rc < 0) {
    snprintf(message, sizeof message, "cannot watch '%s': %s", st->dir, rt_st_why(rc));
    return message;
  }
  if (sb.kind != RT_ST_DIR) {
    snprintf(message, sizeof message, "cannot watch '%s': not a directory", st->dir);
    return message;
  }
  if (n->flag) { /* newFilesOnly: what is there now is not new */
    int r = list_new(st);
    for (int64_t i = 0; r == 0 && i < st->nbatch_names; i++)
      r = set_add(&st->taken, st->batch_names[i], name_hash(st->batch_names[i]));
    clear_batch_names(st);
    if (r < 0 && rt_st_unavailable(r))
      rt_fatal("%s: cannot list '%s': %s", st->loc, st->dir, rt_st_why(r));
    if (r < 0) {
      snprintf(message, sizeof message, "cannot list '%s': %s", st->dir, rt_st_why(r));
      return message;
    }
  }
  return NULL;
}

/* Reads one file of the batch into the buffer and marks it taken. */
static bool take_file(textfiles_state *st, const char *name, const char *what) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", st->dir, name);
  int r = append_file(st, path);
  if (r < 0 && st->remote && r != -ENOENT)
    rt_fatal("%s: cannot %s '%s': %s", st->loc, what, path, rt_st_why(r));
  if (r < 0) {
    rt_log("%s: cannot %s '%s': %s (skipped)", st->loc, what, path, rt_st_why(r));
    return false;
  }
  if (!set_has(&st->taken, name, name_hash(name)) && set_add(&st->taken, name, name_hash(name)) < 0)
    rt_fatal("%s: out of memory", st->loc);
  return true;
}

static void textfiles_run(rt_job *rj, int node, const rt_batch *b) {
  textfiles_state *st = rj->state[node];
  st->len = 0;
  const void *rec;
  size_t rlen;
  if (rt_journal_replay(rj, node, b, &rec, &rlen)) {
    /* A batch re-run after a restart takes the files it took then (their
     * names, each followed by a NUL). */
    for (const char *p = rec, *end = p + rlen; p < end;) {
      const char *z = memchr(p, 0, (size_t)(end - p));
      if (!z)
        break;
      take_file(st, p, "re-read");
      p = z + 1;
    }
  } else {
    int r = list_new(st);
    if (r < 0 && st->remote && r != -ENOENT)
      rt_fatal("%s: cannot list '%s': %s", st->loc, st->dir, rt_st_why(r));
    if (r < 0) {
      if (!st->list_failed)
        rt_log("%s: cannot list '%s': %s (trying again every batch)", st->loc, st->dir, rt_st_why(r));
      st->list_failed = true;
    } else {
      st->list_failed = false;
    }
    ds_strbuf names = {0};
    for (int64_t i = 0; i < st->nbatch_names; i++)
      if (take_file(st, st->batch_names[i], "read"))
        ds_strbuf_put(&names, st->batch_names[i], (int64_t)strlen(st->batch_names[i]) + 1);
    /* The names are durable before the batch is processed. */
    if (rj->journal && (r = rt_journal_put(rj, node, b, names.ptr, (size_t)names.len)) < 0)
      rt_fatal("%s: cannot write the journal: %s", st->loc, rt_st_why(r));
    ds_strbuf_free(&names);
  }
  if (rt_lines_to_parts(rj, &rj->streams[node], st->buf, st->len, -1, (int32_t)rj->settings.partitions) < 0)
    rt_fatal("%s: out of memory", st->loc);
}

/* A checkpoint holds the names of every file taken so far. */
static void textfiles_save(rt_job *rj, int node, rt_ckw *w) {
  textfiles_state *st = rj->state[node];
  rt_ckw_u32(w, 1);
  rt_ckw_u64(w, (uint64_t)st->taken.len);
  for (int64_t i = 0; i < st->taken.cap; i++)
    if (st->taken.names[i])
      rt_ckw_str(w, (ds_str){st->taken.names[i], (int64_t)strlen(st->taken.names[i])});
}

static const char *textfiles_load(rt_job *rj, int node, rt_ckr *r) {
  textfiles_state *st = rj->state[node];
  uint32_t version = 0;
  uint64_t n = 0;
  if (rt_ckr_u32(r, &version) < 0 || rt_ckr_u64(r, &n) < 0)
    return NULL;
  if (version != 1)
    return "unknown content version";
  set_free(&st->taken); /* newFilesOnly's first listing is not the truth any more */
  char name[4096];
  for (uint64_t i = 0; i < n; i++) {
    ds_str s;
    if (rt_ckr_str(r, &s) < 0)
      return NULL;
    if (s.len <= 0 || s.len >= (int64_t)sizeof name || memchr(s.ptr, 0, (size_t)s.len))
      return "a bad file name";
    memcpy(name, s.ptr, (size_t)s.len);
    name[s.len] = 0;
    if (!set_has(&st->taken, name, name_hash(name)) && set_add(&st->taken, name, name_hash(name)) < 0)
      return "out of memory";
  }
  return NULL;
}

static void textfiles_free(rt_job *rj, int node) {
  textfiles_state *st = rj->state[node];
  if (!st)
    return;
  clear_batch_names(st);
  free(st->batch_names);
  set_free(&st->taken);
  free(st->buf);
  free(st->dir);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_source_textfiles = {
    .init = textfiles_init,
    .run = textfiles_run,
    .free = textfiles_free,
    .save = textfiles_save,
    .load = textfiles_load,
};
