/*
 * checkpoint.c — what a checkpoint holds, and how the driver writes one and
 * restores the newest usable one at a restart.
 *
 * A checkpoint is one file of ckpt_file.c's format, written after a
 * completed batch. Its content (version 1):
 *
 *   u32 1, str "dstream", str program, i64 batch interval (ms), i64 T0 (the
 *   batch grid's origin), i64 batch index, i64 batch time, u8 input done,
 *   i64 stop time (bounded jobs); then the sections of the nodes that keep
 *   something across batches (rt_exec.save), back to back, each written
 *   straight into the file; then their index: u32 count, and per section
 *   str identity, str signature, str location, u64 offset, u64 length; and
 *   last the u64 offset of that index (docs/checkpoint-format.md).
 *
 * The identity (ds_node.ident: a `let` name or the path from the source) is
 * how a restarted, possibly changed, program finds each operator's state;
 * the signature (operator, types, window lengths, source arguments) says
 * whether that state still fits. At a restart: a section whose identity
 * and signature match is loaded; a changed signature stops the job (exit 2)
 * naming the operator; an operator without a section starts empty (with a
 * note on stderr); a section no operator claims is dropped with a note.
 *
 * The checkpoint directory may be on HDFS (hdfs://, webhdfs://): the files
 * and the journal go through storage.h (see ckpt_file.c and journal.c for
 * what holds there instead of fsync).
 */
#include "rt.h"
#include "storage.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { CONTENT_VERSION = 1 };
static const char CONTENT_MAGIC[] = "dstream";

static ds_str cstr(const char *s) { return (ds_str){s ? s : "", s ? (int64_t)strlen(s) : 0}; }

static bool str_is(ds_str s, const char *c) {
  size_t n = strlen(c);
  return (size_t)s.len == n && !memcmp(s.ptr, c, n);
}

/* The identities of the nodes that save, made unique: a later node whose
 * identity repeats an earlier one's gets "#2", "#3", ... appended. */
static char **idents(const rt_job *rj, const rt_exec **execs) {
  int32_t n = rj->job->nnodes;
  char **ids = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  if (!ids)
    return NULL;
  for (int32_t i = 0; i < n; i++) {
    if (!execs[i] || !execs[i]->save)
      continue;
    const ds_node *nd = &rj->job->nodes[i];
    char base[1024];
    if (nd->ident)
      snprintf(base, sizeof base, "%s", nd->ident);
    else
      snprintf(base, sizeof base, "%s#%d", nd->op ? nd->op : "node", i);
    int dup = 1;
    for (int32_t k = 0; k < i; k++)
      if (ids[k] && !strncmp(ids[k], base, strlen(base)) &&
          (ids[k][strlen(base)] == 0 || ids[k][strlen(base)] == '#'))
        dup++;
    char full[1100];
    if (dup > 1)
      snprintf(full, sizeof full, "%s#%d", base, dup);
    else
      snprintf(full, sizeof full, "%s", base);
    ids[i] = strdup(full);
    if (!ids[i]) {
      for (int32_t k = 0; k < i; k++)
        free(ids[k]);
      free(ids);
      return NULL;
    }
  }
  return ids;
}

static void free_idents(const rt_job *rj, char **ids) {
  if (!ids)
    return;
  for (int32_t i = 0; i < rj->job->nnodes; i++)
    free(ids[i]);
  free(ids);
}

/* Whether a saved signature is a source's (see signature()). */
static bool sig_is_source(ds_str sig) {
  static const char *const ops[] = {"textFile(", "textFiles(", "batches(", "socket("};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    size_t n = strlen(ops[i]);
    if ((size_t)sig.len >= n && !memcmp(sig.ptr, ops[i], n))
      return true;
  }
  return false;
}

/* What must not change for a node's saved state to fit it. */
static void signature(const rt_job *rj, int node, char *buf, size_t n) {
  const ds_node *nd = &rj->job->nodes[node];
  size_t k = (size_t)snprintf(buf, n, "%s", nd->op ? nd->op : "?");
#define ADD(...)                                                                                   \
  do {                                                                                             \
    if (k < n)                                                                                     \
      k += (size_t)snprintf(buf + k, n - k, __VA_ARGS__);                                          \
  } while (0)
  switch (nd->kind) {
  case DS_SOURCE_TEXTFILE:
  case DS_SOURCE_BATCHES:
  case DS_SOURCE_TEXTFILES:
    ADD("(%.*s)", (int)nd->str_arg.len, nd->str_arg.ptr ? nd->str_arg.ptr : "");
    return;
  default:
    break;
  }
  if (nd->key)
    ADD(" key %s", nd->key->name);
  if (nd->val)
    ADD(" value %s", nd->val->name);
  if (nd->state)
    ADD(" state %s", nd->state->name);
  if (!nd->key && nd->elem)
    ADD(" element %s", nd->elem->name);
  if (nd->kind == DS_WINDOW || nd->kind == DS_REDUCE_BY_WINDOW || nd->kind == DS_REDUCE_BY_KEY_AND_WINDOW)
    ADD(" window %" PRId64 " ms slide %" PRId64 " ms%s", nd->window_ms,
        nd->slide_ms > 0 ? nd->slide_ms : rt_period_ms(rj, nd->inputs[0]),
        nd->inv_reduce ? " with inverse" : "");
  if (nd->kind == DS_MAP_WITH_STATE)
    ADD(" timeout %" PRId64 " ms", nd->timeout_ms);
#undef ADD
}

int rt_checkpoint_prepare(rt_job *rj, char *msg, size_t msgsz) {
  const char *dir = rj->settings.checkpoint;
  if (rt_st_is_remote(dir))
    rt_st_configure(rj->settings.hdfs_user, rj->settings.retries);
  int rc = rt_st_mkdirs(dir); /* created as needed (§12) */
  /* An HDFS that does not answer is a runtime failure (exit 1); a refusal
   * (permission denied, a file in the way) a bad setting (exit 2). */
  if (rc < 0 && rt_st_unavailable(rc))
    rt_fatal("cannot create checkpoint directory '%s': %s", dir, rt_st_why(rc));
  if (rc < 0) {
    snprintf(msg, msgsz, "cannot create checkpoint directory '%s': %s", dir, rt_st_why(rc));
    return rc;
  }
  int64_t removed = 0;
  rc = rt_ckpt_clean_temporaries(dir, &removed);
  if (rc < 0 && rt_st_unavailable(rc))
    rt_fatal("cannot clean checkpoint directory '%s': %s", dir, rt_st_why(rc));
  if (rc < 0) {
    snprintf(msg, msgsz, "cannot clean checkpoint directory '%s': %s", dir, rt_st_why(rc));
    return rc;
  }
  return 0;
}

/* A written checkpoint being committed in the background. */
typedef struct commit_job {
  rt_ckw w;
  int64_t index, time;
  char dir[4096];
  pthread_t thread;
  int rc;
} commit_job;

static void *commit_main(void *arg) {
  commit_job *c = arg;
  const char *dir = c->dir;
  if ((c->rc = rt_ckw_commit(&c->w)) < 0) {
    rt_log("%s: checkpoint of batch %" PRId64 " (time %" PRId64 " ms) failed: %s; the previous checkpoint is kept",
           dir, c->index, c->time, c->w.msg);
    return NULL;
  }
  int rc = rt_ckpt_prune(dir, RT_CKPT_KEEP); /* the last two kept */
  if (rc < 0)
    rt_log("%s: cannot remove old checkpoints: %s", dir, rt_st_why(rc));
  return NULL;
}

int rt_checkpoint_wait(rt_job *rj) {
  commit_job *c = rj->pending_commit;
  if (!c)
    return 0;
  pthread_join(c->thread, NULL);
  int rc = c->rc;
  free(c);
  rj->pending_commit = NULL;
  return rc;
}

int rt_checkpoint_write(rt_job *rj, const rt_exec **execs, const rt_resume *p) {
  const char *dir = rj->settings.checkpoint;
  const ds_job *job = rj->job;
  char name[RT_CKPT_NAME_SIZE];
  rt_ckpt_name(name, p->index);
  rt_checkpoint_wait(rj); /* one commit at a time */
  char **ids = idents(rj, execs);
  if (!ids) {
    rt_log("%s: checkpoint of batch %" PRId64 " (time %" PRId64 " ms) failed: out of memory; the previous checkpoint is kept",
           dir, p->index, p->time);
    return -ENOMEM;
  }
  rt_ckw w;
  int rc = rt_ckw_open(&w, dir, name);
  if (rc == 0) {
    uint32_t nsections = 0;
    for (int32_t i = 0; i < job->nnodes; i++)
      nsections += ids[i] != NULL;
    rt_ckw_u32(&w, CONTENT_VERSION);
    rt_ckw_str(&w, cstr(CONTENT_MAGIC));
    rt_ckw_str(&w, cstr(job->program));
    rt_ckw_i64(&w, rj->settings.batch_ms);
    rt_ckw_i64(&w, p->t0);
    rt_ckw_i64(&w, p->index);
    rt_ckw_i64(&w, p->time);
    rt_ckw_u8(&w, p->input_done);
    rt_ckw_i64(&w, p->stop_time);
    /* The sections back to back, each written straight into the file, then
     * their index (the reader finds it through the payload's last 8 bytes). */
    uint64_t *start = calloc((size_t)(job->nnodes > 0 ? job->nnodes : 1), 2 * sizeof(uint64_t));
    if (!start) {
      snprintf(w.msg, sizeof w.msg, "out of memory");
      w.err = -ENOMEM;
    }
    for (int32_t i = 0; i < job->nnodes && !w.err; i++) {
      if (!ids[i])
        continue;
      start[2 * i] = w.len;
      execs[i]->save(rj, i, &w);
      start[2 * i + 1] = w.len - start[2 * i];
    }
    uint64_t index_at = w.len;
    rt_ckw_u32(&w, nsections);
    for (int32_t i = 0; i < job->nnodes && !w.err; i++) {
      if (!ids[i])
        continue;
      char sig[1024];
      signature(rj, i, sig, sizeof sig);
      rt_ckw_str(&w, cstr(ids[i]));
      rt_ckw_str(&w, cstr(sig));
      rt_ckw_str(&w, cstr(job->nodes[i].loc));
      rt_ckw_u64(&w, start[2 * i]);
      rt_ckw_u64(&w, start[2 * i + 1]);
    }
    rt_ckw_u64(&w, index_at);
    free(start);
    if (w.err) {
      rc = w.err;
      rt_log("%s: checkpoint of batch %" PRId64 " (time %" PRId64 " ms) failed: %s; the previous checkpoint is kept", dir,
             p->index, p->time, w.msg);
      rt_ckw_abort(&w);
    }
  } else {
    rt_log("%s: checkpoint of batch %" PRId64 " (time %" PRId64 " ms) failed: %s; the previous checkpoint is kept", dir,
           p->index, p->time, w.msg);
  }
  free_idents(rj, ids);
  if (rc < 0)
    return rc;

  /* Later batches go to a new journal file now; the files the checkpoints
   * already committed cover go too (those this one covers, at the next). */
  if (rj->journal) {
    int64_t *indexes = NULL, n = 0, oldest = 0;
    if (rt_ckpt_list(dir, &indexes, &n) == 0 && n > 0)
      oldest = indexes[n - 1];
    free(indexes);
    if ((rc = rt_journal_rotate(rj, p->index, oldest)) < 0) {
      rt_log("%s: cannot start a new journal file after the checkpoint of batch %" PRId64 ": %s", dir,
             p->time, rt_st_why(rc));
      rt_ckw_abort(&w);
      return rc;
    }
  }

  /* The file is written; syncing, renaming and pruning happen on a thread of
   * their own while the next batches run (rt_checkpoint_wait collects it). */
  commit_job *c = calloc(1, sizeof *c);
  if (!c) {
    rt_ckw_abort(&w);
    return -ENOMEM;
  }
  c->w = w;
  c->index = p->index;
  c->time = p->time;
  snprintf(c->dir, sizeof c->dir, "%s", dir);
  if (pthread_create(&c->thread, NULL, commit_main, c) != 0) {
    commit_main(c); /* no thread: commit here */
    rc = c->rc;
    free(c);
    return rc;
  }
  rj->pending_commit = c;
  return 0;
}

typedef struct section {
  ds_str ident, sig, loc;
  rt_ckr data;
  bool used;
} section;

struct rt_checkpoint {
  rt_ckr r;               /* the whole file, verified */
  int64_t index;          /* from its name */
  section *secs;
  uint32_t nsections;
};

void rt_checkpoint_close(rt_checkpoint *ck) {
  if (!ck)
    return;
  free(ck->secs);
  rt_ckr_close(&ck->r);
  free(ck);
}

/* Fails the open with a message. */
static int refuse(rt_checkpoint *ck, int rc, char *msg, size_t msgsz, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int refuse(rt_checkpoint *ck, int rc, char *msg, size_t msgsz, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msgsz, fmt, ap);
  va_end(ap);
  rt_checkpoint_close(ck);
  return rc;
}

int rt_checkpoint_open(rt_job *rj, rt_resume *p, rt_checkpoint **out, char *msg, size_t msgsz) {
  const char *dir = rj->settings.checkpoint;
  const char *prog = rj->job->program ? rj->job->program : "job";
  *out = NULL;
  rt_checkpoint *ck = calloc(1, sizeof *ck);
  if (!ck)
    return refuse(NULL, -ENOMEM, msg, msgsz, "out of memory");
  rt_ckr *r = &ck->r;
  int rc = rt_ckpt_open_latest(dir, r, &ck->index);
  if (rc == -ENOENT) {
    rt_checkpoint_close(ck);
    return 1;
  }
  if (rc < 0 && rt_st_unavailable(rc)) /* HDFS did not answer: exit 1, not 2 */
    rt_fatal("%s", r->msg);
  if (rc < 0)
    return refuse(ck, rc, msg, msgsz,
                  "%s; move the checkpoint directory aside to start from empty state (its outputs "
                  "already written are kept)",
                  r->msg);

  uint32_t version = 0;
  ds_str magic = {0}, program = {0};
  int64_t batch_ms = 0;
  uint8_t input_done = 0;
  rt_ckr_u32(r, &version);
  if (!r->err && version != CONTENT_VERSION)
    return refuse(ck, -ENOTSUP, msg, msgsz,
                  "checkpoint %s/ckpt-%019" PRId64 " holds content version %" PRIu32
                  ", this runtime reads version %d; use the runtime that wrote it or a new "
                  "checkpoint directory",
                  dir, ck->index, version, CONTENT_VERSION);
  rt_ckr_str(r, &magic);
  rt_ckr_str(r, &program);
  rt_ckr_i64(r, &batch_ms);
  rt_ckr_i64(r, &p->t0);
  rt_ckr_i64(r, &p->index);
  rt_ckr_i64(r, &p->time);
  rt_ckr_u8(r, &input_done);
  rt_ckr_i64(r, &p->stop_time);
  p->input_done = input_done;
  uint64_t sections_at = r->pos, index_at = 0;
  const char *bad = NULL;
  if (!r->err && !str_is(magic, CONTENT_MAGIC))
    bad = "not a dstream checkpoint";
  if (!r->err && !bad && r->len >= 8) {
    r->pos = r->len - 8;
    rt_ckr_u64(r, &index_at);
    if (!r->err && (index_at < sections_at || index_at > r->len - 8))
      bad = "a bad section index offset";
    r->pos = index_at;
  }
  if (!bad)
    rt_ckr_u32(r, &ck->nsections);
  if (!r->err && !bad && ck->nsections > r->len)
    bad = "a bad section count";
  if (!r->err && !bad && !(ck->secs = calloc(ck->nsections ? ck->nsections : 1, sizeof(section))))
    bad = "out of memory";
  for (uint32_t i = 0; !bad && i < ck->nsections && !r->err; i++) {
    section *sc = &ck->secs[i];
    uint64_t at = 0, len = 0;
    rt_ckr_str(r, &sc->ident);
    rt_ckr_str(r, &sc->sig);
    rt_ckr_str(r, &sc->loc);
    rt_ckr_u64(r, &at);
    rt_ckr_u64(r, &len);
    if (!r->err && (at < sections_at || at > index_at || len > index_at - at))
      bad = "a section outside the content";
    sc->data = (rt_ckr){.data = r->data + at, .len = len, .version = r->version, .borrowed = true};
  }
  if (!r->err && !bad) {
    uint64_t end = 0;
    rt_ckr_u64(r, &end); /* the index's own offset, read above */
    rt_ckr_end(r);
  }
  if (r->err || bad)
    return refuse(ck, -EBADMSG, msg, msgsz,
                  "checkpoint %s/ckpt-%019" PRId64 " has a sound checksum but content this runtime "
                  "cannot read (%s); use a new checkpoint directory",
                  dir, ck->index, bad ? bad : r->msg);
  if (p->index != ck->index)
    return refuse(ck, -EBADMSG, msg, msgsz, "checkpoint %s/ckpt-%019" PRId64 " says it is of batch %" PRId64,
                  dir, ck->index, p->index);
  if (batch_ms != rj->settings.batch_ms)
    return refuse(ck, -EINVAL, msg, msgsz,
                  "checkpoint %s was written with batch = %" PRId64 " ms, the job now has batch = %" PRId64
                  " ms; the batch interval cannot change under a checkpoint: set it back or use a "
                  "new checkpoint directory",
                  dir, batch_ms, rj->settings.batch_ms);
  if (!str_is(program, prog))
    rt_log("%s: note: checkpoint %s was written by %.*s; the state of the operators both programs "
           "share is carried over",
           prog, dir, (int)program.len, program.ptr);
  *out = ck;
  return 0;
}

int rt_checkpoint_apply(rt_job *rj, const rt_exec **execs, rt_checkpoint *ck, char *msg, size_t msgsz) {
  const char *dir = rj->settings.checkpoint;
  const ds_job *job = rj->job;
  const char *prog = job->program ? job->program : "job";
  char **ids = idents(rj, execs);
  int rc = ids ? 0 : -ENOMEM;
  if (rc < 0)
    snprintf(msg, msgsz, "out of memory");
  for (int32_t i = 0; rc == 0 && i < job->nnodes; i++) {
    if (!ids[i] || !execs[i]->load)
      continue;
    const ds_node *nd = &job->nodes[i];
    const char *loc = nd->loc ? nd->loc : prog;
    section *s = NULL;
    for (uint32_t k = 0; k < ck->nsections && !s; k++)
      if (!ck->secs[k].used && str_is(ck->secs[k].ident, ids[i]))
        s = &ck->secs[k];
    if (!s) {
      rt_log("%s: %s '%s' has no state in checkpoint %s: it starts empty", loc,
             nd->op ? nd->op : "operator", ids[i], dir);
      continue;
    }
    s->used = true;
    char sig[1024];
    signature(rj, i, sig, sizeof sig);
    if (!str_is(s->sig, sig)) {
      snprintf(msg, msgsz,
               "%s: %s '%s' changed since checkpoint %s was written: it was %.*s, it is now %s; its "
               "state cannot be carried over. Restore the operator, or give the changed one a new "
               "name (a let) so that it starts empty, or use a new checkpoint directory",
               loc, nd->op ? nd->op : "operator", ids[i], dir, (int)s->sig.len, s->sig.ptr, sig);
      rc = -EINVAL;
      break;
    }
    const char *m = execs[i]->load(rj, i, &s->data);
    if (!m && !s->data.err)
      rt_ckr_end(&s->data);
    if (m || s->data.err) {
      snprintf(msg, msgsz, "%s: cannot restore the state of %s '%s' from checkpoint %s: %s", loc,
               nd->op ? nd->op : "operator", ids[i], dir, m ? m : s->data.msg);
      rc = -EBADMSG;
      break;
    }
  }
  /* No stateful operator in common at all, while both have some: the
   * checkpoint of another program (a wrong directory, most likely) is
   * refused rather than dropped. Sources do not count: two programs may
   * read the same file. */
  uint32_t saved = 0, matched = 0, first = 0;
  int32_t stateful = 0;
  for (uint32_t k = 0; k < ck->nsections; k++) {
    if (sig_is_source(ck->secs[k].sig))
      continue;
    if (!saved++)
      first = k;
    matched += ck->secs[k].used;
  }
  for (int32_t i = 0; ids && i < job->nnodes; i++)
    stateful += ids[i] && execs[i]->load && !rt_is_source(job->nodes[i].kind);
  if (rc == 0 && saved > 0 && stateful > 0 && matched == 0) {
    snprintf(msg, msgsz,
             "checkpoint %s holds the state of another program: none of its %" PRIu32
             " stateful operators (the first: '%.*s' at %.*s) is in %s; use a new checkpoint "
             "directory, or the program that wrote it",
             dir, saved, (int)ck->secs[first].ident.len, ck->secs[first].ident.ptr,
             (int)ck->secs[first].loc.len, ck->secs[first].loc.ptr, prog);
    rc = -EINVAL;
  }
  for (uint32_t k = 0; rc == 0 && k < ck->nsections; k++)
    if (!ck->secs[k].used)
      rt_log("%s: note: the state of '%.*s' (%.*s) in checkpoint %s belongs to no operator of "
             "this program: dropped",
             prog, (int)ck->secs[k].ident.len, ck->secs[k].ident.ptr, (int)ck->secs[k].loc.len,
             ck->secs[k].loc.ptr, dir);
  free_idents(rj, ids);
  return rc;
}
