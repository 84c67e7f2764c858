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
 * At a restart the records of batches after the checkpoint are read back. A
 * batch whose BEGIN and all its source records are there is re-run from
 * them (rt_journal_replay); the first batch that is incomplete (the crash
 * came while its sources were being logged: it processed nothing) and all
 * after it are cut off the files, and the job goes on live from there. A
 * torn record at the end of a file (CRC mismatch) ends that file.
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
  int fd;                 /* the file being appended to */
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

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

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

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
  close(fd);
  return rc;
}

static int read_whole(const char *path, unsigned char **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat sb;
  if (fstat(fd, &sb) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  size_t size = (size_t)sb.st_size, got = 0;
  unsigned char *d = malloc(size ? size : 1);
  if (!d) {
    close(fd);
    return -ENOMEM;
  }
  while (got < size) {
    ssize_t k = read(fd, d + got, size - got);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    got += (size_t)k;
  }
  close(fd);
  *out = d;
  *len = got;
  return 0;
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
  int64_t index = (int64_t)get64(p + 1), time = (int64_t)get64(p + 9);
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
    j->batches[j->nbatches++] = (jbatch){.index = index, .time = time, .expected = get32(p + FIXED)};
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
  uint32_t ilen = get32(p + FIXED);
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
    uint32_t len = get32(h + 4);
    if (get32(h) != MAGIC || len > s->len - off - HEADER || len < FIXED ||
        rt_crc32c(0, h + HEADER, len) != get32(h + 8))
      break; /* a torn or damaged tail: the file ends here */
    const unsigned char *p = h + HEADER;
    if (apply) {
      int rc = take_record(j, p, len);
      if (rc < 0)
        return rc;
    } else if ((int64_t)get64(p + 1) <= j->replay_last) {
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
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0)
    return -errno;
  if (j->fd >= 0)
    close(j->fd);
  j->fd = fd;
  j->first = first;
  return fsync_dir(j->dir);
}

int rt_journal_open(rt_job *rj, const char *dir, int64_t ckpt_index, char *msg, size_t msgsz) {
  rt_journal *j = calloc(1, sizeof *j);
  if (!j || !(j->dir = strdup(dir))) {
    free(j);
    snprintf(msg, msgsz, "out of memory");
    return -ENOMEM;
  }
  j->fd = -1;
  j->ckpt = ckpt_index;
  rj->journal = j;
  int rc = 0;
  char path[4200];

  DIR *d = opendir(dir);
  if (!d) {
    rc = -errno;
    snprintf(msg, msgsz, "cannot read checkpoint directory %s: %s", dir, strerror(-rc));
    return rc;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    int64_t first = segment_first(e->d_name);
    if (first < 0)
      continue;
    seg *ns = realloc(j->segs, sizeof(seg) * (size_t)(j->nsegs + 1));
    if (!ns) {
      closedir(d);
      snprintf(msg, msgsz, "out of memory");
      return -ENOMEM;
    }
    j->segs = ns;
    seg *s = &j->segs[j->nsegs++];
    *s = (seg){.first = first};
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if ((rc = read_whole(path, &s->data, &s->len)) < 0) {
      closedir(d);
      snprintf(msg, msgsz, "cannot read journal %s: %s", path, strerror(-rc));
      return rc;
    }
  }
  closedir(d);
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
      if (unlink(path) < 0) {
        rc = -errno;
        snprintf(msg, msgsz, "cannot remove journal %s: %s", path, strerror(-rc));
        return rc;
      }
      continue;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)s->keep) < 0 || fsync(fd) < 0) {
      rc = -errno;
      if (fd >= 0)
        close(fd);
      snprintf(msg, msgsz, "cannot truncate journal %s: %s", path, strerror(-rc));
      return rc;
    }
    close(fd);
  }
  if ((rc = open_segment(j, j->replay_last + 1)) < 0) {
    snprintf(msg, msgsz, "cannot create a journal file in %s: %s", dir, strerror(-rc));
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
  put64(p + 1, (uint64_t)b->index);
  put64(p + 9, (uint64_t)b->time);
  if (nextra)
    memcpy(p + FIXED, extra, nextra);
  if (len)
    memcpy(p + FIXED + nextra, data, len);
  put32(j->rec, MAGIC);
  put32(j->rec + 4, (uint32_t)plen);
  put32(j->rec + 8, rt_crc32c(0, p, plen));
  put32(j->rec + 12, 0);
  size_t n = HEADER + plen, off = 0;
  while (off < n) {
    ssize_t k = write(j->fd, j->rec + off, n - off);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    if (k == 0)
      return -EIO;
    off += (size_t)k;
  }
  if (sync && fdatasync(j->fd) < 0)
    return -errno;
  return 0;
}

int rt_journal_begin(rt_job *rj, const rt_batch *b, uint32_t nsources) {
  unsigned char n[4];
  put32(n, nsources);
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
  put32(extra, (uint32_t)ilen);
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
  if (j->fd >= 0 && fdatasync(j->fd) < 0)
    return -errno;
  if ((rc = open_segment(j, ckpt_index + 1)) < 0)
    return rc;
  /* Files whose batches all lie at or before the oldest checkpoint kept:
   * file k holds batches first_k .. first_{k+1} - 1. */
  DIR *d = opendir(j->dir);
  if (!d)
    return -errno;
  int64_t *firsts = NULL, n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    int64_t f = segment_first(e->d_name);
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
  closedir(d);
  for (int64_t a = 0; rc == 0 && a < n; a++) {
    int64_t next = INT64_MAX;
    for (int64_t b = 0; b < n; b++)
      if (firsts[b] > firsts[a] && firsts[b] < next)
        next = firsts[b];
    if (next != INT64_MAX && next - 1 <= oldest_kept) {
      char name[64], path[4200];
      segment_name(name, sizeof name, firsts[a]);
      snprintf(path, sizeof path, "%s/%s", j->dir, name);
      if (unlink(path) < 0 && errno != ENOENT)
        rc = -errno;
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
  if (j->fd >= 0) {
    fdatasync(j->fd);
    close(j->fd);
  }
  free(j->batches);
  free(j->rec);
  free(j->dir);
  free(j);
  rj->journal = NULL;
}
