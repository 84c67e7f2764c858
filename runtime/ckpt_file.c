/*
 * ckpt_file.c — durable, checksummed checkpoint files and the directory that
 * numbers them (§12: checksums, the last two kept, a damaged newest one
 * skipped). What goes in is whatever bytes the checkpoint writer hands over;
 * what comes out is a file that is either complete and verified or refused.
 * The content (state stores, window panes, taken files, WAL positions) is
 * not this file's business.
 *
 * Writing follows Redis's rio + RDB: the bytes go through a buffered writer
 * that keeps a running CRC-32C into the hidden temporary `dir/.NAME.tmp`;
 * commit appends the trailer, writes, fsyncs the file, renames it to
 * `dir/NAME` and fsyncs the directory. Any failure removes the temporary and
 * leaves whatever was under NAME before untouched. Reading loads the whole
 * file, checks the trailer and the checksum before handing out one byte, then
 * serves typed, bounds-checked reads from memory.
 *
 * On-disk format, version 1 (docs/checkpoint-format.md says it at length).
 * All integers are little-endian.
 *
 *   file    = payload trailer
 *   payload = the bytes given to rt_ckw_* in order (u8: 1 byte; u32: 4;
 *             u64, i64 (two's complement), f64 (IEEE-754 bits): 8;
 *             str: u64 length, then the bytes; bytes: as given)
 *   trailer = 28 bytes:
 *     +0   u64  payload length in bytes
 *     +8   u32  flags, 0 in version 1 (a reader of version 1 refuses others)
 *     +12  u32  format version (1)
 *     +16  8    magic 89 44 53 43 4B 50 54 0A ("\x89DSCKPT\n")
 *     +24  u32  CRC-32C of every byte of the file before it
 *
 * Every later version keeps the last 16 bytes as they are (version, magic,
 * CRC of all bytes before the CRC), so a reader can tell a damaged file from
 * one written by a newer runtime. The checksum is CRC-32C (Castagnoli):
 * polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final XOR
 * 0xFFFFFFFF, bits reflected — the iSCSI/ext4/SSE4.2 CRC, of which
 * CRC-32C("123456789") = 0xE3069283. It detects every error confined to 32
 * consecutive bits, so every damaged byte.
 *
 * Numbered checkpoints are named `ckpt-` + the batch index in 19 decimal
 * digits, zero-padded (every non-negative int64 fits), so name order is
 * batch order. Names that start with '.' are never checkpoints; `.*.tmp` are
 * temporaries, removed at start by rt_ckpt_clean_temporaries. The two newest
 * checkpoints are kept (rt_ckpt_prune after each commit); at restart
 * rt_ckpt_open_latest takes the newest that verifies, skipping damaged ones
 * with a warning and moving them aside as `.ckpt-N.damaged`.
 *
 * The directory may be on HDFS (hdfs://, webhdfs://; storage.h). There the
 * writer stages the file in an unlinked temporary file under $TMPDIR (the
 * same buffered, checksummed writes), and commit uploads it with one
 * WebHDFS CREATE of `dir/.NAME.tmp`, then RENAMEs it to `dir/NAME`. What
 * fsync gives locally holds by the protocol: the CREATE's answer means the
 * data is on the DataNodes, the RENAME is atomic at the NameNode (which logs
 * it before it answers), so a name never points at an incomplete file. HDFS
 * does not rename over an existing file: a NAME already there (it cannot be
 * a checkpoint in use: names are batch indexes, and a damaged one is moved
 * aside) is deleted just before the rename. Listing, pruning, cleaning and
 * reading go through the same storage calls.
 */
#include "rt.h"
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* ---- CRC-32C, slicing-by-8 ---- */

#define CRC32C_POLY 0x82F63B78u /* 0x1EDC6F41 with its bits reflected */

/* crc_table[0] is the classic byte-at-a-time table; crc_table[k][b] is the
 * CRC of byte b followed by k zero bytes, so eight table lookups fold eight
 * input bytes at once. Built once, on first use. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t c = b;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
    crc_table[0][b] = c;
  }
  for (int k = 1; k < 8; k++)
    for (int b = 0; b < 256; b++)
      crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xff];
}


#if defined(__x86_64__)
/* The SSE 4.2 crc32 instruction computes CRC-32C itself, 8 bytes a step. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
                                                            size_t n) {
  uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = (uint32_t)c;
  for (; n > 0; p++, n--)
    c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
static int have_hw_crc = -1;
#endif

uint32_t rt_crc32c(uint32_t crc, const void *data, size_t n) {
#if defined(__x86_64__)
  int hw = __atomic_load_n(&have_hw_crc, __ATOMIC_RELAXED);
  if (hw < 0) {
    hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    __atomic_store_n(&have_hw_crc, hw, __ATOMIC_RELAXED);
  }
  if (hw)
    return crc32c_hw(crc, data, n);
#endif
  return rt_crc32c_portable(crc, data, n);
}

uint32_t rt_crc32c_portable(uint32_t crc, const void *data, size_t n) {
  pthread_once(&crc_once, crc_init);
  const unsigned char *p = data;
  crc = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t lo = rt_le_get32(p) ^ crc, hi = rt_le_get32(p + 4);
    crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
          crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^
          crc_table[2][(hi >> 8) & 0xff] ^ crc_table[1][(hi >> 16) & 0xff] ^
          crc_table[0][hi >> 24];
  }
  for (; n > 0; p++, n--)
    crc = crc_table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- the magic (integers are little-endian: rt_le_* in rt.h) ---- */

static const unsigned char ckpt_magic[8] = {0x89, 'D', 'S', 'C', 'K', 'P', 'T', '\n'};


/* ---- the writer ---- */

enum { CKW_BUF = RT_CKW_BUF };

/* The directory for messages, also once the writer is closed. */
static const char *ckw_dir(const rt_ckw *w) {
  return w->dir ? w->dir : "?";
}

/* Records the first error of w (later ones follow from it) and returns it. */
__attribute__((format(printf, 3, 4))) static int ckw_fail(rt_ckw *w, int err, const char *fmt,
                                                          ...) {
  if (w->err)
    return w->err;
  w->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->msg, sizeof w->msg, fmt, ap);
  va_end(ap);
  return err;
}


/* Every byte of the file but the CRC itself goes through here, so the CRC is
 * computed over large blocks (not per value written). */
static int ckw_write(rt_ckw *w, const unsigned char *p, size_t n) {
  w->crc = rt_crc32c(w->crc, p, n);
  int rc = rt_write_all(w->fd, p, n);
  if (rc < 0)
    return ckw_fail(w, rc, "cannot write checkpoint %s/%s: %s", w->dir, w->tmp, strerror(-rc));
  return 0;
}

int rt_ckw_flush(rt_ckw *w) {
  if (w->err)
    return w->err;
  if (w->fd < 0)
    return ckw_fail(w, -EBADF, "checkpoint writer %s/%s is not open", ckw_dir(w), w->name);
  int rc = ckw_write(w, w->buf, w->used);
  w->used = 0;
  return rc;
}

/* Appends bytes that are not payload (the trailer) or are (payload). */
static int ckw_put(rt_ckw *w, const void *data, size_t n) {
  if (w->err)
    return w->err;
  if (w->fd < 0)
    return ckw_fail(w, -EBADF, "checkpoint writer %s/%s is not open", ckw_dir(w), w->name);
  const unsigned char *p = data;
  if (w->used + n <= CKW_BUF) {
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    return 0;
  }
  int rc = rt_ckw_flush(w);
  if (rc < 0)
    return rc;
  if (n >= CKW_BUF)
    return ckw_write(w, p, n); /* large blocks skip the buffer */
  memcpy(w->buf, p, n);
  w->used = n;
  return 0;
}

/* HDFS: an unlinked file under $TMPDIR that holds the checkpoint until the
 * commit uploads it; -errno. */
static int staging_file(void) {
  const char *tmpdir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/dstream-ckpt-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0)
    return -errno;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  unlink(path);
  return fd;
}

int rt_ckw_open(rt_ckw *w, const char *dir, const char *name) {
  memset(w, 0, sizeof *w);
  w->fd = -1;
  w->dirfd = -1;
  w->dir = strdup(dir);
  size_t nlen = strlen(name);
  int rc;
  if (!w->dir) {
    rc = ckw_fail(w, -ENOMEM, "out of memory opening checkpoint %s/%s", dir, name);
    goto fail;
  }
  if (nlen == 0 || name[0] == '.' || strchr(name, '/') || nlen + 6 > sizeof w->name) {
    rc = ckw_fail(w, -EINVAL, "bad checkpoint file name \"%s\"", name);
    goto fail_dir;
  }
  memcpy(w->name, name, nlen + 1);
  snprintf(w->tmp, sizeof w->tmp, ".%s.tmp", name);
  w->buf = malloc(CKW_BUF);
  if (!w->buf) {
    rc = ckw_fail(w, -ENOMEM, "out of memory opening checkpoint %s/%s", dir, name);
    goto fail_dir;
  }
  if (rt_st_is_remote(dir)) {
    /* dirfd stays -1: the commit uploads and renames by path. */
    if ((w->fd = staging_file()) < 0) {
      rc = ckw_fail(w, w->fd, "cannot create a staging file for checkpoint %s/%s: %s", dir, w->tmp,
                    strerror(-w->fd));
      w->fd = -1;
      goto fail_buf;
    }
    return 0;
  }
  w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (w->dirfd < 0) {
    rc = ckw_fail(w, -errno, "cannot open checkpoint directory %s: %s", dir, strerror(errno));
    goto fail_buf;
  }
  w->fd = openat(w->dirfd, w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (w->fd < 0) {
    rc = ckw_fail(w, -errno, "cannot create checkpoint %s/%s: %s", dir, w->tmp, strerror(errno));
    goto fail_dirfd;
  }
  return 0;

fail_dirfd:
  close(w->dirfd);
  w->dirfd = -1;
fail_buf:
  free(w->buf);
  w->buf = NULL;
fail_dir:
  free(w->dir); /* the message already holds what it needs */
  w->dir = NULL;
fail:
  return rc;
}

int rt_ckw_put_slow(rt_ckw *w, const void *data, size_t n) {
  if (n == 0)
    return w->err; /* data may be NULL */
  if (ckw_put(w, data, n) < 0)
    return w->err;
  w->len += n;
  return 0;
}

int rt_ckw_str(rt_ckw *w, ds_str s) {
  if (s.len < 0)
    return ckw_fail(w, -EINVAL, "negative string length in checkpoint %s/%s", ckw_dir(w),
                     w->name);
  int rc = rt_ckw_u64(w, (uint64_t)s.len);
  if (rc < 0)
    return rc;
  return rt_ckw_bytes(w, s.ptr, (size_t)s.len);
}

/* Closes the temporary (if open) and removes it; frees everything. */
static void ckw_discard(rt_ckw *w) {
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  if (w->dirfd >= 0) {
    if (!w->committed)
      unlinkat(w->dirfd, w->tmp, 0);
    close(w->dirfd);
    w->dirfd = -1;
  }
  free(w->buf);
  w->buf = NULL;
  free(w->dir);
  w->dir = NULL;
}

/* HDFS: uploads the staged file as dir/.NAME.tmp, then renames it to
 * dir/NAME; on a failure the temporary is removed (best effort). */
static int commit_remote(rt_ckw *w) {
  size_t plen = strlen(w->dir) + sizeof w->tmp + 2;
  char *tmp = malloc(plen), *final = malloc(plen);
  unsigned char *chunk = malloc(1 << 20);
  rt_st_writer *out = NULL;
  int rc = 0;
  if (!tmp || !final || !chunk) {
    rc = ckw_fail(w, -ENOMEM, "out of memory writing checkpoint %s/%s", w->dir, w->tmp);
    goto done;
  }
  snprintf(tmp, plen, "%s/%s", w->dir, w->tmp);
  snprintf(final, plen, "%s/%s", w->dir, w->name);
  if ((rc = rt_st_create(tmp, &out)) < 0) {
    rc = ckw_fail(w, rc, "cannot create checkpoint %s: %s", tmp, rt_st_why(rc));
    goto done;
  }
  for (off_t off = 0;;) {
    ssize_t k = pread(w->fd, chunk, 1 << 20, off);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      rc = ckw_fail(w, -errno, "cannot read back the staging file of checkpoint %s: %s", tmp,
                    strerror(errno));
      goto done;
    }
    if (k == 0)
      break;
    if ((rc = rt_st_write(out, chunk, (size_t)k)) < 0) {
      rc = ckw_fail(w, rc, "cannot write checkpoint %s: %s", tmp, rt_st_why(rc));
      goto done;
    }
    off += k;
  }
  rc = rt_st_close_write(out, true); /* the upload: its answer means it is on the DataNodes */
  out = NULL;
  if (rc < 0) {
    rc = ckw_fail(w, rc, "cannot write checkpoint %s: %s", tmp, rt_st_why(rc));
    goto done;
  }
  if ((rc = rt_st_rename(tmp, final)) < 0) {
    rc = ckw_fail(w, rc, "cannot rename checkpoint %s to %s: %s", tmp, w->name, rt_st_why(rc));
    goto done;
  }
  w->committed = true;
done:
  if (out)
    rt_st_abort_write(out);
  if (rc < 0 && tmp)
    rt_st_remove(tmp, false);
  free(tmp);
  free(final);
  free(chunk);
  return rc;
}

int rt_ckw_commit(rt_ckw *w) {
  int rc = w->err;
  if (rc < 0)
    goto fail;
  if (w->fd < 0) {
    rc = ckw_fail(w, -EBADF, "checkpoint writer %s/%s is not open", ckw_dir(w), w->name);
    goto fail;
  }
  unsigned char t[RT_CKPT_TRAILER];
  rt_le_put64(t, w->len);
  rt_le_put32(t + 8, 0);
  rt_le_put32(t + 12, RT_CKPT_VERSION);
  memcpy(t + 16, ckpt_magic, sizeof ckpt_magic);
  if ((rc = ckw_put(w, t, 24)) < 0 || (rc = rt_ckw_flush(w)) < 0)
    goto fail;
  /* The CRC itself is written without being checksummed. */
  rt_le_put32(t + 24, w->crc);
  if ((rc = rt_write_all(w->fd, t + 24, 4)) < 0) {
    rc = ckw_fail(w, rc, "cannot write checkpoint %s/%s: %s", w->dir, w->tmp, strerror(-rc));
    goto fail;
  }
  if (w->dirfd < 0) { /* HDFS */
    rc = commit_remote(w);
    goto fail; /* done either way: discard the staging file */
  }
  if (fsync(w->fd) < 0) {
    rc = ckw_fail(w, -errno, "cannot sync checkpoint %s/%s: %s", w->dir, w->tmp, strerror(errno));
    goto fail;
  }
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) < 0) {
    rc = ckw_fail(w, -errno, "cannot close checkpoint %s/%s: %s", w->dir, w->tmp, strerror(errno));
    goto fail;
  }
  if (renameat(w->dirfd, w->tmp, w->dirfd, w->name) < 0) {
    rc = ckw_fail(w, -errno, "cannot rename checkpoint %s/%s to %s: %s", w->dir, w->tmp, w->name,
                  strerror(errno));
    goto fail;
  }
  w->committed = true;
  /* Makes the rename durable. Some file systems cannot sync a directory
   * (EINVAL): there the rename is as durable as they make it. */
  if (fsync(w->dirfd) < 0 && errno != EINVAL) {
    rc = ckw_fail(w, -errno, "cannot sync checkpoint directory %s: %s", w->dir, strerror(errno));
    goto fail;
  }
  ckw_discard(w);
  return 0;

fail:
  ckw_discard(w);
  return rc;
}

void rt_ckw_abort(rt_ckw *w) {
  ckw_discard(w);
}

/* ---- the reader ---- */

__attribute__((format(printf, 3, 4))) static int ckr_fail(rt_ckr *r, int err, const char *fmt,
                                                          ...) {
  if (r->err)
    return r->err;
  r->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
  return err;
}

/* Reads the whole regular file at path into a new buffer (*size bytes). */
static int read_file(rt_ckr *r, const char *path, unsigned char **out, size_t *size) {
  int rc;
  if (rt_st_is_remote(path)) {
    rc = rt_st_read_all(path, out, size);
    if (rc == -EISDIR)
      return ckr_fail(r, -EBADMSG, "checkpoint %s is not a regular file", path);
    if (rc < 0)
      return ckr_fail(r, rc, "cannot read checkpoint %s: %s", path, rt_st_why(rc));
    return 0;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = ckr_fail(r, -errno, "cannot open checkpoint %s: %s", path, strerror(errno));
    goto fail;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    rc = ckr_fail(r, -errno, "cannot stat checkpoint %s: %s", path, strerror(errno));
    goto fail_fd;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = ckr_fail(r, -EBADMSG, "checkpoint %s is not a regular file", path);
    goto fail_fd;
  }
  if ((uint64_t)st.st_size >= SIZE_MAX / 2) {
    rc = ckr_fail(r, -EFBIG, "checkpoint %s is too large to read", path);
    goto fail_fd;
  }
  size_t cap = (size_t)st.st_size, n = 0;
  unsigned char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    rc = ckr_fail(r, -ENOMEM, "out of memory reading checkpoint %s", path);
    goto fail_fd;
  }
  /* Reads what fstat promised; a file that shrank meanwhile reads short and
   * fails verification, one that grew is read as it was. */
  while (n < cap) {
    ssize_t k = read(fd, buf + n, cap - n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      rc = ckr_fail(r, -errno, "cannot read checkpoint %s: %s", path, strerror(errno));
      goto fail_buf;
    }
    if (k == 0)
      break;
    n += (size_t)k;
  }
  close(fd);
  *out = buf;
  *size = n;
  return 0;

fail_buf:
  free(buf);
fail_fd:
  close(fd);
fail:
  return rc;
}

int rt_ckr_open(rt_ckr *r, const char *path) {
  memset(r, 0, sizeof *r);
  unsigned char *d = NULL;
  size_t size = 0;
  int rc = read_file(r, path, &d, &size);
  if (rc < 0)
    goto fail;
  /* The last 16 bytes (version, magic, CRC) mean the same in every version. */
  if (size < 16 || memcmp(d + size - 12, ckpt_magic, sizeof ckpt_magic) != 0) {
    rc = ckr_fail(r, -EBADMSG,
                  "checkpoint %s is damaged: no trailer (truncated, or not a checkpoint)", path);
    goto fail_data;
  }
  uint32_t stored = rt_le_get32(d + size - 4), crc = rt_crc32c(0, d, size - 4);
  if (crc != stored) {
    rc = ckr_fail(r, -EBADMSG,
                  "checkpoint %s is damaged: checksum mismatch (stored %08" PRIx32
                  ", computed %08" PRIx32 ")",
                  path, stored, crc);
    goto fail_data;
  }
  uint32_t version = rt_le_get32(d + size - 16);
  if (version != RT_CKPT_VERSION) {
    rc = ckr_fail(r, -ENOTSUP,
                  "checkpoint %s has format version %" PRIu32 "; this runtime reads version %d",
                  path, version, RT_CKPT_VERSION);
    goto fail_data;
  }
  /* A sound checksum over an inconsistent trailer: a writer's bug, not a
   * disk's, but refused all the same. */
  if (size < RT_CKPT_TRAILER || rt_le_get64(d + size - RT_CKPT_TRAILER) != size - RT_CKPT_TRAILER ||
      rt_le_get32(d + size - RT_CKPT_TRAILER + 8) != 0) {
    rc = ckr_fail(r, -EBADMSG, "checkpoint %s is damaged: inconsistent trailer", path);
    goto fail_data;
  }
  r->data = d;
  r->len = size - RT_CKPT_TRAILER;
  r->version = version;
  return 0;

fail_data:
  free(d);
fail:
  return rc;
}

/* The next n payload bytes, or NULL (and the sticky error) when fewer remain. */
static const unsigned char *ckr_take(rt_ckr *r, uint64_t n) {
  if (r->err)
    return NULL;
  if (!r->data) {
    ckr_fail(r, -EBADF, "checkpoint reader is not open");
    return NULL;
  }
  if (n > r->len - r->pos) {
    ckr_fail(r, -EBADMSG,
             "checkpoint content ends early: %" PRIu64 " bytes wanted at offset %" PRIu64
             ", %" PRIu64 " left",
             n, r->pos, r->len - r->pos);
    return NULL;
  }
  const unsigned char *p = r->data + r->pos;
  r->pos += n;
  return p;
}

int rt_ckr_bytes(rt_ckr *r, void *out, size_t n) {
  const unsigned char *p = ckr_take(r, n);
  if (!p)
    return r->err;
  if (n)
    memcpy(out, p, n);
  return 0;
}

int rt_ckr_u8(rt_ckr *r, uint8_t *out) {
  const unsigned char *p = ckr_take(r, 1);
  if (!p)
    return r->err;
  *out = p[0];
  return 0;
}

int rt_ckr_u32(rt_ckr *r, uint32_t *out) {
  const unsigned char *p = ckr_take(r, 4);
  if (!p)
    return r->err;
  *out = rt_le_get32(p);
  return 0;
}

const char *rt_ckr_version(rt_ckr *r, uint32_t want, const char *who) {
  static _Thread_local char msg[300];
  uint32_t version = 0;
  if (rt_ckr_u32(r, &version) < 0 || version == want)
    return NULL;
  snprintf(msg, sizeof msg, "%s: checkpoint content of version %u, this runtime reads %u", who,
           (unsigned)version, (unsigned)want);
  return msg;
}

int rt_ckr_u64(rt_ckr *r, uint64_t *out) {
  const unsigned char *p = ckr_take(r, 8);
  if (!p)
    return r->err;
  *out = rt_le_get64(p);
  return 0;
}

int rt_ckr_i64(rt_ckr *r, int64_t *out) {
  uint64_t v;
  int rc = rt_ckr_u64(r, &v);
  if (rc < 0)
    return rc;
  *out = (int64_t)v;
  return 0;
}

int rt_ckr_f64(rt_ckr *r, double *out) {
  uint64_t v;
  int rc = rt_ckr_u64(r, &v);
  if (rc < 0)
    return rc;
  memcpy(out, &v, sizeof v);
  return 0;
}

int rt_ckr_str(rt_ckr *r, ds_str *out) {
  uint64_t n;
  int rc = rt_ckr_u64(r, &n);
  if (rc < 0)
    return rc;
  /* The length is checked against what is left before it is used at all. */
  const unsigned char *p = ckr_take(r, n);
  if (!p)
    return r->err;
  out->ptr = (const char *)p;
  out->len = (int64_t)n;
  return 0;
}

int rt_ckr_end(rt_ckr *r) {
  if (r->err)
    return r->err;
  if (r->pos != r->len)
    return ckr_fail(r, -EBADMSG,
                    "checkpoint content has %" PRIu64 " unread bytes at offset %" PRIu64,
                    r->len - r->pos, r->pos);
  return 0;
}

void rt_ckr_close(rt_ckr *r) {
  if (!r->borrowed)
    free(r->data);
  r->borrowed = false;
  r->data = NULL;
  r->len = r->pos = 0;
}

/* ---- the directory of numbered checkpoints ---- */

#define CKPT_PREFIX "ckpt-"
enum { CKPT_DIGITS = 19 };

void rt_ckpt_name(char buf[RT_CKPT_NAME_SIZE], int64_t index) {
  snprintf(buf, RT_CKPT_NAME_SIZE, CKPT_PREFIX "%019" PRId64, index);
}

/* The batch index a checkpoint name stands for, or -1 for any other name. */
static int64_t ckpt_index(const char *name) {
  size_t plen = sizeof CKPT_PREFIX - 1;
  if (strncmp(name, CKPT_PREFIX, plen) != 0 || strlen(name) != plen + CKPT_DIGITS)
    return -1;
  int64_t v = 0;
  for (const char *p = name + plen; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    if (v > (INT64_MAX - (*p - '0')) / 10)
      return -1;
    v = v * 10 + (*p - '0');
  }
  return v;
}

static int cmp_desc(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x < y) - (x > y);
}

/* rt_ckpt_list on HDFS. */
static int list_remote(const char *dir, int64_t **indexes, int64_t *n) {
  rt_st_entry *e;
  int64_t ne;
  int rc = rt_st_list(dir, &e, &ne);
  if (rc < 0)
    return rc;
  int64_t *v = malloc(sizeof *v * (size_t)(ne ? ne : 1)), len = 0;
  if (!v) {
    rt_st_free_list(e, ne);
    return -ENOMEM;
  }
  for (int64_t i = 0; i < ne; i++) {
    int64_t idx = ckpt_index(e[i].name);
    if (idx >= 0)
      v[len++] = idx;
  }
  rt_st_free_list(e, ne);
  if (len)
    qsort(v, (size_t)len, sizeof *v, cmp_desc);
  *indexes = v;
  *n = len;
  return 0;
}

int rt_ckpt_list(const char *dir, int64_t **indexes, int64_t *n) {
  *indexes = NULL;
  *n = 0;
  if (rt_st_is_remote(dir))
    return list_remote(dir, indexes, n);
  int rc = 0;
  int64_t *v = NULL, len = 0, cap = 0;
  DIR *d = opendir(dir);
  if (!d) {
    rc = -errno;
    goto fail;
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno) {
        rc = -errno;
        goto fail_dir;
      }
      break;
    }
    int64_t idx = ckpt_index(e->d_name);
    if (idx < 0)
      continue;
    if (len == cap) {
      int64_t ncap = cap ? 2 * cap : 16;
      int64_t *nv = realloc(v, (size_t)ncap * sizeof *nv);
      if (!nv) {
        rc = -ENOMEM;
        goto fail_dir;
      }
      v = nv;
      cap = ncap;
    }
    v[len++] = idx;
  }
  closedir(d);
  if (len)
    qsort(v, (size_t)len, sizeof *v, cmp_desc);
  *indexes = v;
  *n = len;
  return 0;

fail_dir:
  closedir(d);
  free(v);
fail:
  return rc;
}

int rt_ckpt_prune(const char *dir, int keep) {
  if (keep < 1)
    return -EINVAL;
  int64_t *v, n;
  int rc = rt_ckpt_list(dir, &v, &n);
  if (rc < 0)
    return rc;
  /* Oldest first, so a failure part-way leaves the newest ones. */
  for (int64_t i = n - 1; i >= keep; i--) {
    char name[RT_CKPT_NAME_SIZE], path[4096];
    rt_ckpt_name(name, v[i]);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
      rc = -ENAMETOOLONG;
      break;
    }
    if ((rc = rt_st_remove(path, false)) < 0) /* unlink(2) locally; missing is fine */
      break;
  }
  free(v);
  return rc;
}

int rt_ckpt_clean_temporaries(const char *dir, int64_t *removed) {
  if (removed)
    *removed = 0;
  int rc = 0;
  if (rt_st_is_remote(dir)) {
    rt_st_entry *e;
    int64_t ne;
    if ((rc = rt_st_list(dir, &e, &ne)) < 0)
      return rc;
    for (int64_t i = 0; i < ne && rc == 0; i++) {
      const char *s = e[i].name;
      size_t len = strlen(s);
      if (len < 6 || s[0] != '.' || strcmp(s + len - 4, ".tmp") != 0 || e[i].st.kind != RT_ST_FILE)
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, s);
      if ((rc = rt_st_remove(path, false)) == 0 && removed)
        (*removed)++;
    }
    rt_st_free_list(e, ne);
    return rc;
  }
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno)
        rc = -errno;
      break;
    }
    const char *s = e->d_name;
    size_t len = strlen(s);
    if (len < 6 || s[0] != '.' || strcmp(s + len - 4, ".tmp") != 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), s, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue;
      rc = -errno;
      break;
    }
    if (!S_ISREG(st.st_mode))
      continue; /* only files this layer could have left */
    if (unlinkat(dirfd(d), s, 0) < 0) {
      if (errno == ENOENT)
        continue;
      rc = -errno;
      break;
    }
    if (removed)
      (*removed)++;
  }
  closedir(d);
  return rc;
}

int rt_ckpt_open_latest(const char *dir, rt_ckr *r, int64_t *index) {
  memset(r, 0, sizeof *r);
  *index = -1;
  int64_t *v, n;
  int rc = rt_ckpt_list(dir, &v, &n);
  if (rc < 0) {
    if (rc == -ENOENT)
      snprintf(r->msg, sizeof r->msg, "no checkpoint directory %s", dir);
    else
      snprintf(r->msg, sizeof r->msg, "cannot list checkpoint directory %s: %s", dir,
               rt_st_why(rc));
    r->err = rc;
    return rc;
  }
  if (n == 0) {
    snprintf(r->msg, sizeof r->msg, "no checkpoint in %s", dir);
    r->err = -ENOENT;
    free(v);
    return -ENOENT;
  }
  char first[sizeof r->msg] = "";
  for (int64_t i = 0; i < n; i++) {
    char name[RT_CKPT_NAME_SIZE], path[4096];
    rt_ckpt_name(name, v[i]);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rc = rt_ckr_open(r, path);
    if (rc == 0) {
      /* Newer checkpoints were damaged: move them aside (hidden, kept for
       * inspection) so that they neither shadow the checkpoints this run
       * writes nor count among the ones kept. */
      for (int64_t j = 0; j < i; j++) {
        char bad[RT_CKPT_NAME_SIZE], from[4096], to[4096];
        rt_ckpt_name(bad, v[j]);
        snprintf(from, sizeof from, "%s/%s", dir, bad);
        snprintf(to, sizeof to, "%s/.%s.damaged", dir, bad);
        int mv = rt_st_rename(from, to); /* rename(2) locally */
        if (mv < 0)
          rt_log("warning: cannot move damaged checkpoint %s aside: %s", from, rt_st_why(mv));
      }
      *index = v[i];
      free(v);
      return 0;
    }
    if (rc != -EBADMSG) {
      free(v); /* not damage (an I/O error, a newer format): stop here */
      return rc;
    }
    if (i == 0)
      snprintf(first, sizeof first, "%s", r->msg);
    if (i + 1 < n)
      rt_log("warning: %s; using the one before it", r->msg);
  }
  int64_t found = n;
  free(v);
  memset(r, 0, sizeof *r);
  r->err = -EBADMSG;
  snprintf(r->msg, sizeof r->msg,
           "no usable checkpoint among the %" PRId64 " in %s (newest: %.300s)", found, dir, first);
  return -EBADMSG;
}
