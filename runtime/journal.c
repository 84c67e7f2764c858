/*
 * journal.c — the batch journal (write-ahead log) of a checkpointed job.
 *
 * A checkpoint holds the state after some batch c. To re-run the batches
 * after c exactly as they ran, the inputs that cannot be read again the same
 * way are logged here before each batch is processed: the lines a socket
 * source took (the write-ahead log of `wal`) and the names of the files a
 * textFiles source took. The driver adds a BEGIN record per batch (its index,
 * its time and how many source records follow) and a DONE record once its
 * outputs ran (so `print` does not print a batch twice).
 *
 * Files: DIR/wal-<19-digit index of the first batch written to it>. A new
 * file starts after each checkpoint; files whose batches are all covered by
 * the oldest checkpoint kept are deleted (the journal is truncated once a
 * checkpoint covers it). Records:
 *
 *   u32 magic "DSWL", u32 payload length, u32 CRC-32C of the payload,
 *   u32 0, then the payload: u8 type, i64 batch index, i64 batch time,
 *   BEGIN: u32 number of source records; SOURCE: u32 ident length, the
 *   ident, the data; DONE: nothing. Integers little-endian.
 *
 * A source record is made durable (fdatasync) before the source returns its
 * batch, so nothing a batch read is lost by a crash; BEGIN and DONE ride on
 * the next sync (a kill loses no written data, a power cut may lose a DONE).
 *
 * In a checkpoint directory on HDFS (storage.h) every append is a WebHDFS
 * APPEND (the first record of a new file a CREATE), whose answer means the
 * bytes are on the DataNodes: what fdatasync gives locally. To spare
 * requests, BEGIN records are kept in memory and sent with the batch's
 * first source record (or with its DONE); DONE records are sent at once
 * when the job has a `print` output (print decides from them), else with
 * the next record. A kill loses only records that were not sent, which a
 * restart treats as it treats a torn tail: the batch is not re-run (it had
 * taken no input), or its print is not known to be done. Cutting a file at
 * a restart rewrites the kept records (rt_st_truncate: there is no TRUNCATE
 * in WebHDFS) and rt_st_recover_truncate first finishes or undoes a cut a
 * crash interrupted.
 *
 * At a restart the records of batches after the checkpoint are read back. A
 * batch whose BEGIN and all its source records are there is re-run from
 * them (rt_journal_replay); the first batch that is incomplete (the crash
 * came while its sources were being logged: it processed nothing) and all
 * after it are cut off the files, and the job goes on live from there. A
 * torn record at the end of a file (CRC mismatch) ends that file.
 */
#include "rt.h"
#include "storage.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
  REC_BEGIN = 1,
  REC_SOURCE = 2,
  REC_DONE = 3,
  HEADER = 16,
  FIXED = 1 + 8 + 8, /* type, index, time */
  MAX_RECORD = 1 << 30,
};
static const uint32_t MAGIC = 0x4C575344; /* "DSWL" little-endian */

#define SEGMENT_PREFIX "wal-"

typedef struct seg {
  int64_t first;          /* from the name */
  unsigned char *data;    /* the file */
  size_t len;
  size_t keep;            /* bytes of records of batches <= replay_last */
} seg;

typedef struct src_rec {
  int64_t index;
  const char *ident;
  uint32_t ident_len;
  const unsigned char *data;
  size_t len;
} src_rec;

typedef struct jbatch {
  int64_t index, time;
  uint32_t expected, got;
  bool done;
} jbatch;

struct rt_journal {
  char *dir;
  rt_st_appender *out;    /* the file being appended to */
  bool remote;            /* dir is on HDFS */
  bool print;             /* the job has print outputs: send DONE at once (HDFS) */
  unsigned char *pending; /* HDFS: records not sent yet (BEGIN, DONE) */
  size_t npending, cap_pending;
  int64_t first;          /* its first batch */
  seg *segs;              /* files read at the start, by first batch */
  int64_t nsegs;
  src_rec *srcs;          /* source records of the batches to re-run */
  int64_t nsrcs, cap_srcs;
  jbatch *batches;        /* batches ckpt+1 .. replay_last (and maybe one more, incomplete) */
  int64_t nbatches, cap_batches;
  int64_t ckpt;           /* the checkpoint's batch index (0: none) */
  int64_t replay_last;    /* the last batch to re-run, or ckpt */
  unsigned char *rec;     /* scratch for one record */
  size_t cap_rec;
};

static void segment_name(char *buf, size_t n, int64_t first) {
  snprintf(buf, n, SEGMENT_PREFIX "%019" PRId64, first);
}

/* The first batch of a segment's name, or -1 for another name. */
static int64_t segment_first(const char *name) {
  size_t plen = strlen(SEGMENT_PREFIX);
  if (strncmp(name, SEGMENT_PREFIX, plen) != 0 || strlen(name) != plen + 19)
    return -1;
  int64_t v = 0;
  for (const char *p = name + plen; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (*p - '0');
  }
  return v;
}

static int cmp_segs(const void *a, const void *b) {
  int64_t x = ((const seg *)a)->first, y = ((const seg *)b)->first;
  return (x > y) - (x < y);
}

/* HDFS: keeps a record to send with the next one. */
static int keep_pending(rt_journal *j, const void *rec, size_t n) {
  if (j->npending + n > j->cap_pending) {
    size_t nc = j->cap_pending ? j->cap_pending : 256;
    while (nc < j->npending + n)
      nc *= 2;
    unsigned char *np = realloc(j->pending, nc);
    if (!np)
      return -ENOMEM;
    j->pending = np;
    j->cap_pending = nc;
  }
  memcpy(j->pending + j->npending, rec, n);
  j->npending += n;
  return 0;
}

/* HDFS: sends the records kept in memory (with `more` after them, if
 * any) in one append. */
static int send_pending(rt_journal *j, const void *more, size_t nmore) {
  int rc;
  if (j->npending && nmore) {
    if ((rc = keep_pending(j, more, nmore)) < 0)
      return rc;
    nmore = 0;
  }
  if (j->npending) {
    if ((rc = rt_st_append(j->out, j->pending, j->npending, true)) == 0)
      j->npending = 0;
    return rc;
  }
  return nmore ? rt_st_append(j->out, more, nmore, true) : 0;
}

static jbatch *batch_of(rt_journal *j, int64_t index) {
  int64_t k = index - j->ckpt - 1;
  return k >= 0 && k < j->nbatches ? &j->batches[k] : NULL;
}

/* Takes one record of a segment into the replay tables. */
static int take_record(rt_journal *j, const unsigned char *p, size_t len) {
  if (len < FIXED)
    return -EBADMSG;
  int type = p[0];
  int64_t index = (int64_t)rt_le_get64(p + 1), time = (int64_t)rt_le_get64(p + 9);
  if (index <= j->ckpt)
    return 0; /* covered by the checkpoint */
  if (type == REC_BEGIN) {
    if (len < FIXED + 4)
      return -EBADMSG;
    if (index != j->ckpt + 1 + j->nbatches)
      return 0; /* not the next batch: a gap, replay stops before it */
    if (j->nbatches == j->cap_batches) {
      int64_t nc = j->cap_batches ? j->cap_batches * 2 : 16;
      jbatch *nb = realloc(j->batches, sizeof(jbatch) * (size_t)nc);
      if (!nb)
        return -ENOMEM;
      j->batches = nb;
      j->cap_batches = nc;
    }
    j->batches[j->nbatches++] = (jbatch){.index = index, .time = time, .expected = rt_le_get32(p + FIXED)};
    return 0;
  }
  jbatch *b = batch_of(j, index);
  if (!b)
    return 0;
  if (type == REC_DONE) {
    b->done = true;
    return 0;
  }
  if (type != REC_SOURCE || len < FIXED + 4)
    return -EBADMSG;
  uint32_t ilen = rt_le_get32(p + FIXED);
  if (ilen > len - FIXED - 4)
    return -EBADMSG;
  if (j->nsrcs == j->cap_srcs) {
    int64_t nc = j->cap_srcs ? j->cap_srcs * 2 : 16;
    src_rec *ns = realloc(j->srcs, sizeof(src_rec) * (size_t)nc);
    if (!ns)
      return -ENOMEM;
    j->srcs = ns;
    j->cap_srcs = nc;
  }
  j->srcs[j->nsrcs++] = (src_rec){.index = index,
                                  .ident = (const char *)p + FIXED + 4,
                                  .ident_len = ilen,
                                  .data = p + FIXED + 4 + ilen,
                                  .len = len - FIXED - 4 - ilen};
  b->got++;
  return 0;
}

/* Walks the records of s; on `apply`, takes them into the tables, else
 * computes s->keep: the bytes of the records of batches <= replay_last. */
static int walk(rt_journal *j, seg *s, bool apply) {
  size_t off = 0;
  if (!apply)
    s->keep = 0;
  while (s->len - off >= HEADER) {
    const unsigned char *h = s->data + off;
    uint32_t len = rt_le_get32(h + 4);
    if (rt_le_get32(h) != MAGIC || len > s->len - off - HEADER || len < FIXED ||
        rt_crc32c(0, h + HEADER, len) != rt_le_get32(h + 8))
      break; /* a torn or damaged tail: the file ends here */
    const unsigned char *p = h + HEADER;
    if (apply) {
      int rc = take_record(j, p, len);
      if (rc < 0)
        return rc;
    } else if ((int64_t)rt_le_get64(p + 1) <= j->replay_last) {
      s->keep = off + HEADER + len;
    } else {
      break;
    }
    off += HEADER + len;
  }
  return 0;
}

static int open_segment(rt_journal *j, int64_t first) {
  char name[64], path[4200];
  segment_name(name, sizeof name, first);
  snprintf(path, sizeof path, "%s/%s", j->dir, name);
  rt_st_appender *a;
  int rc = rt_st_open_append(path, &a);
  if (rc < 0)
    return rc;
  rt_st_close_append(j->out);
  j->out = a;
  j->first = first;
  return rt_st_sync_dir(j->dir);
}

static int journal_open(rt_job *rj, const char *dir, int64_t ckpt_index, char *msg, size_t msgsz);

int rt_journal_open(rt_job *rj, const char *dir, int64_t ckpt_index, char *msg, size_t msgsz) {
  int rc = journal_open(rj, dir, ckpt_index, msg, msgsz);
  /* An HDFS that still did not answer after the retries: a runtime failure
   * (exit 1), not a bad checkpoint (exit 2). */
  if (rc < 0 && rt_st_unavailable(rc))
    rt_fatal("%s", msg);
  return rc;
}

static int journal_open(rt_job *rj, const char *dir, int64_t ckpt_index, char *msg, size_t msgsz) {
  rt_journal *j = calloc(1, sizeof *j);
  if (!j || !(j->dir = strdup(dir))) {
    free(j);
    snprintf(msg, msgsz, "out of memory");
    return -ENOMEM;
  }
  j->ckpt = ckpt_index;
  j->remote = rt_st_is_remote(dir);
  for (int32_t i = 0; rj->job && i < rj->job->nnodes; i++)
    j->print = j->print || rj->job->nodes[i].kind == DS_PRINT;
  rj->journal = j;
  int rc = 0;
  char path[4200];

  /* HDFS: a cut that a crash interrupted is finished or undone first. */
  if (j->remote && (rc = rt_st_recover_truncate(dir)) < 0) {
    snprintf(msg, msgsz, "cannot read checkpoint directory %s: %s", dir, rt_st_why(rc));
    return rc;
  }
  rt_st_entry *ents;
  int64_t nents;
  if ((rc = rt_st_list(dir, &ents, &nents)) < 0) {
    snprintf(msg, msgsz, "cannot read checkpoint directory %s: %s", dir, rt_st_why(rc));
    return rc;
  }
  for (int64_t k = 0; k < nents; k++) {
    int64_t first = segment_first(ents[k].name);
    if (first < 0)
      continue;
    seg *ns = realloc(j->segs, sizeof(seg) * (size_t)(j->nsegs + 1));
    if (!ns) {
      rt_st_free_list(ents, nents);
      snprintf(msg, msgsz, "out of memory");
      return -ENOMEM;
    }
    j->segs = ns;
    seg *s = &j->segs[j->nsegs++];
    *s = (seg){.first = first};
    snprintf(path, sizeof path, "%s/%s", dir, ents[k].name);
    if ((rc = rt_st_read_all(path, &s->data, &s->len)) < 0) {
      rt_st_free_list(ents, nents);
      snprintf(msg, msgsz, "cannot read journal %s: %s", path, rt_st_why(rc));
      return rc;
    }
  }
  rt_st_free_list(ents, nents);
  if (j->nsegs > 1)
    qsort(j->segs, (size_t)j->nsegs, sizeof(seg), cmp_segs);
  for (int64_t i = 0; i < j->nsegs; i++)
    if ((rc = walk(j, &j->segs[i], true)) < 0) {
      snprintf(msg, msgsz, "journal in %s: %s", dir, strerror(-rc));
      return rc;
    }

  /* The batches to re-run: complete ones, in order from ckpt + 1. */
  j->replay_last = j->ckpt;
  for (int64_t i = 0; i < j->nbatches && j->batches[i].got >= j->batches[i].expected; i++)
    j->replay_last = j->batches[i].index;
  if (j->nbatches > j->replay_last - j->ckpt)
    j->nbatches = j->replay_last - j->ckpt;

  /* Cut what comes after them off the files, so that the batches run from
   * here on are the only ones with their numbers. */
  for (int64_t i = 0; i < j->nsegs; i++) {
    seg *s = &j->segs[i];
    walk(j, s, false);
    if (s->keep == s->len)
      continue;
    char name[64];
    segment_name(name, sizeof name, s->first);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (s->keep == 0 && s->first > j->replay_last + 1) {
      if ((rc = rt_st_remove(path, false)) < 0) {
        snprintf(msg, msgsz, "cannot remove journal %s: %s", path, rt_st_why(rc));
        return rc;
      }
      continue;
    }
    if ((rc = rt_st_truncate(path, s->data, s->keep)) < 0) {
      snprintf(msg, msgsz, "cannot truncate journal %s: %s", path, rt_st_why(rc));
      return rc;
    }
  }
  if ((rc = open_segment(j, j->replay_last + 1)) < 0) {
    snprintf(msg, msgsz, "cannot create a journal file in %s: %s", dir, rt_st_why(rc));
    return rc;
  }
  return 0;
}

int64_t rt_journal_replay_last(const rt_journal *j) { return j ? j->replay_last : 0; }

int64_t rt_journal_replay_time(const rt_journal *j, int64_t index) {
  const jbatch *b = batch_of((rt_journal *)j, index);
  return b ? b->time : INT64_MIN;
}

bool rt_journal_printed(const rt_job *rj, int64_t index) {
  const jbatch *b = rj->journal ? batch_of(rj->journal, index) : NULL;
  return b && b->done;
}

/* Appends one record: type, index, time, then `extra` and `data`. */
static int append(rt_journal *j, int type, const rt_batch *b, const void *extra, size_t nextra,
                  const void *data, size_t len, bool sync) {
  size_t plen = FIXED + nextra + len;
  if (plen > MAX_RECORD)
    return -EFBIG;
  if (HEADER + plen > j->cap_rec) {
    size_t nc = j->cap_rec ? j->cap_rec : 4096;
    while (nc < HEADER + plen)
      nc *= 2;
    unsigned char *nr = realloc(j->rec, nc);
    if (!nr)
      return -ENOMEM;
    j->rec = nr;
    j->cap_rec = nc;
  }
  unsigned char *p = j->rec + HEADER;
  p[0] = (unsigned char)type;
  rt_le_put64(p + 1, (uint64_t)b->index);
  rt_le_put64(p + 9, (uint64_t)b->time);
  if (nextra)
    memcpy(p + FIXED, extra, nextra);
  if (len)
    memcpy(p + FIXED + nextra, data, len);
  rt_le_put32(j->rec, MAGIC);
  rt_le_put32(j->rec + 4, (uint32_t)plen);
  rt_le_put32(j->rec + 8, rt_crc32c(0, p, plen));
  rt_le_put32(j->rec + 12, 0);
  size_t n = HEADER + plen;
  if (!j->remote)
    return rt_st_append(j->out, j->rec, n, sync); /* write(2), fdatasync when sync */
  /* HDFS: BEGIN waits for the next record; DONE too unless print needs it. */
  if (type == REC_BEGIN || (type == REC_DONE && !j->print))
    return keep_pending(j, j->rec, n);
  int rc = send_pending(j, j->rec, n);
  if (rc < 0) {
    errno = -rc;
    rt_log("%s: the journal: %s", j->dir, rt_st_why(rc));
  }
  return rc;
}

int rt_journal_begin(rt_job *rj, const rt_batch *b, uint32_t nsources) {
  unsigned char n[4];
  rt_le_put32(n, nsources);
  return append(rj->journal, REC_BEGIN, b, n, 4, NULL, 0, false);
}

int rt_journal_done(rt_job *rj, const rt_batch *b) {
  return append(rj->journal, REC_DONE, b, NULL, 0, NULL, 0, false);
}

static const char *node_ident(const rt_job *rj, int node, char *buf, size_t n) {
  const char *id = rj->job->nodes[node].ident;
  if (id)
    return id;
  snprintf(buf, n, "node#%d", node);
  return buf;
}

int rt_journal_put(rt_job *rj, int node, const rt_batch *b, const void *data, size_t len) {
  char buf[32];
  const char *id = node_ident(rj, node, buf, sizeof buf);
  size_t ilen = strlen(id);
  unsigned char *extra = malloc(4 + ilen);
  if (!extra)
    return -ENOMEM;
  rt_le_put32(extra, (uint32_t)ilen);
  memcpy(extra + 4, id, ilen);
  int rc = append(rj->journal, REC_SOURCE, b, extra, 4 + ilen, data, len, true);
  free(extra);
  return rc;
}

bool rt_journal_replay(rt_job *rj, int node, const rt_batch *b, const void **data, size_t *len) {
  rt_journal *j = rj->journal;
  if (!j || b->index > j->replay_last || b->index <= j->ckpt)
    return false;
  char buf[32];
  const char *id = node_ident(rj, node, buf, sizeof buf);
  size_t ilen = strlen(id);
  for (int64_t i = 0; i < j->nsrcs; i++) {
    const src_rec *s = &j->srcs[i];
    if (s->index == b->index && s->ident_len == ilen && !memcmp(s->ident, id, ilen)) {
      *data = s->data;
      *len = s->len;
      return true;
    }
  }
  /* A source the journal does not know (the program changed): nothing. */
  *data = "";
  *len = 0;
  return true;
}

int rt_journal_rotate(rt_job *rj, int64_t ckpt_index, int64_t oldest_kept) {
  rt_journal *j = rj->journal;
  int rc = 0;
  if (j->out && (rc = j->remote ? send_pending(j, NULL, 0) : rt_st_append_sync(j->out)) < 0)
    return rc;
  if ((rc = open_segment(j, ckpt_index + 1)) < 0)
    return rc;
  /* Files whose batches all lie at or before the oldest checkpoint kept:
   * file k holds batches first_k .. first_{k+1} - 1. */
  rt_st_entry *ents;
  int64_t nents;
  if ((rc = rt_st_list(j->dir, &ents, &nents)) < 0)
    return rc;
  int64_t *firsts = NULL, n = 0;
  for (int64_t k = 0; k < nents; k++) {
    int64_t f = segment_first(ents[k].name);
    if (f < 0)
      continue;
    int64_t *nf = realloc(firsts, sizeof(int64_t) * (size_t)(n + 1));
    if (!nf) {
      rc = -ENOMEM;
      break;
    }
    firsts = nf;
    firsts[n++] = f;
  }
  rt_st_free_list(ents, nents);
  for (int64_t a = 0; rc == 0 && a < n; a++) {
    int64_t next = INT64_MAX;
    for (int64_t b = 0; b < n; b++)
      if (firsts[b] > firsts[a] && firsts[b] < next)
        next = firsts[b];
    if (next != INT64_MAX && next - 1 <= oldest_kept) {
      char name[64], path[4200];
      segment_name(name, sizeof name, firsts[a]);
      snprintf(path, sizeof path, "%s/%s", j->dir, name);
      rc = rt_st_remove(path, false); /* unlink(2) locally; missing is fine */
    }
  }
  free(firsts);
  return rc;
}

void rt_journal_end_replay(rt_job *rj) {
  rt_journal *j = rj->journal;
  if (!j)
    return;
  for (int64_t i = 0; i < j->nsegs; i++)
    free(j->segs[i].data);
  free(j->segs);
  j->segs = NULL;
  j->nsegs = 0;
  free(j->srcs);
  j->srcs = NULL;
  j->nsrcs = j->cap_srcs = 0;
}

void rt_journal_close(rt_job *rj) {
  rt_journal *j = rj->journal;
  if (!j)
    return;
  rt_journal_end_replay(rj);
  if (j->out) {
    if (j->remote) {
      int rc = send_pending(j, NULL, 0);
      if (rc < 0)
        rt_log("%s: the journal: %s", j->dir, rt_st_why(rc));
    } else {
      rt_st_append_sync(j->out);
    }
    rt_st_close_append(j->out);
  }
  free(j->pending);
  free(j->batches);
  free(j->rec);
  free(j->dir);
  free(j);
  rj->journal = NULL;
}
