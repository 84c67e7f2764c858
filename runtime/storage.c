/*
 * storage.c — local and HDFS files behind the same calls (storage.h says
 * what each call does and what holds on HDFS instead of fsync).
 *
 * Local paths go to the POSIX calls the runtime always made. HDFS URLs go to
 * hdfs.c's WebHDFS client; clients come from a pool with one free list per
 * NameNode (its canonical host:port): a call takes a free client or opens a
 * new one and gives it back when it returns, so concurrent callers (the
 * part files of an output, written on the worker threads) each have their
 * own and the connections of a client are reused from call to call.
 */
#define _GNU_SOURCE
#include "storage.h"
#include "hdfs.h"
#include "rt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- errors ---- */

static _Thread_local char why_msg[1600];
static _Thread_local int why_rc; /* the rc why_msg explains (0: none) */

static void clear_why(void) {
  why_rc = 0;
  why_msg[0] = '\0';
}

const char *rt_st_why(int rc) {
  if (rc < 0 && rc == why_rc && why_msg[0])
    return why_msg;
  return strerror(rc < 0 ? -rc : rc);
}

bool rt_st_unavailable(int rc) { return rc == -ETIMEDOUT; }

__attribute__((format(printf, 2, 3))) static int set_why(int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why_msg, sizeof why_msg, fmt, ap);
  va_end(ap);
  why_rc = rc;
  return rc;
}

static int errno_of(int code) {
  switch (code) {
  case HDFS_OK: return 0;
  case HDFS_EINVAL: return -EINVAL;
  case HDFS_ENOENT: return -ENOENT;
  case HDFS_EACCES: return -EACCES;
  case HDFS_EEXIST: return -EEXIST;
  case HDFS_ENOTEMPTY: return -ENOTEMPTY;
  case HDFS_EUNAVAIL: return -ETIMEDOUT;
  case HDFS_EPROTO: return -EPROTO;
  case HDFS_EIO: return -EIO;
  case HDFS_ENOMEM: return -ENOMEM;
  case HDFS_EABORT: return -ECANCELED;
  default: return -EREMOTEIO;
  }
}

/* ---- paths ---- */

bool rt_st_is_remote(const char *path) { return hdfs_is_url(path); }

/* ---- the HDFS client pool ---- */

typedef struct pooled {
  char *key;       /* "host:port" as written in the URL, lower case */
  hdfs_client *c;
  bool busy;
} pooled;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled **pool;
static int npool, cap_pool;
static char *cfg_user;
static int64_t cfg_retries = 10;
static bool configured;

void rt_st_configure(const char *hdfs_user, int64_t retries) {
  pthread_mutex_lock(&pool_lock);
  if (!configured) {
    configured = true;
    cfg_user = hdfs_user && *hdfs_user ? strdup(hdfs_user) : NULL;
    cfg_retries = retries < 0 ? 0 : retries;
  }
  pthread_mutex_unlock(&pool_lock);
}

/* The authority of a URL ("host:port", lower case) into buf. */
static bool url_key(const char *url, char *buf, size_t n) {
  const char *s = strstr(url, "://");
  if (!s)
    return false;
  s += 3;
  size_t k = strcspn(s, "/");
  if (k == 0 || k + 1 > n)
    return false;
  for (size_t i = 0; i < k; i++)
    buf[i] = (char)tolower((unsigned char)s[i]);
  buf[k] = '\0';
  return true;
}

/* A free client for url's NameNode (opened if none is free), or NULL with
 * the reason in why_msg (*rc). */
static pooled *acquire(const char *url, int *rc) {
  char key[512];
  if (!url_key(url, key, sizeof key)) {
    *rc = set_why(-EINVAL, "%s: not an hdfs://HOST:PORT/PATH URL", url);
    return NULL;
  }
  pthread_mutex_lock(&pool_lock);
  for (int i = 0; i < npool; i++)
    if (!pool[i]->busy && !strcmp(pool[i]->key, key)) {
      pool[i]->busy = true;
      pthread_mutex_unlock(&pool_lock);
      return pool[i];
    }
  char *user = cfg_user ? strdup(cfg_user) : NULL;
  int64_t retries = cfg_retries;
  pthread_mutex_unlock(&pool_lock);

  char root[600];
  snprintf(root, sizeof root, "hdfs://%s/", key);
  char *err = NULL;
  hdfs_client *c = hdfs_open(root, user, retries, &err);
  free(user);
  if (!c) {
    *rc = set_why(-EINVAL, "%s: %s", url, err ? err : "cannot open a WebHDFS client");
    free(err);
    return NULL;
  }
  pooled *p = calloc(1, sizeof *p);
  if (p)
    p->key = strdup(key);
  pthread_mutex_lock(&pool_lock);
  if (p && p->key && npool == cap_pool) {
    int nc = cap_pool ? cap_pool * 2 : 8;
    pooled **np = realloc(pool, sizeof *np * (size_t)nc);
    if (np) {
      pool = np;
      cap_pool = nc;
    }
  }
  if (!p || !p->key || npool == cap_pool) {
    pthread_mutex_unlock(&pool_lock);
    hdfs_close(c);
    if (p)
      free(p->key);
    free(p);
    *rc = set_why(-ENOMEM, "%s: out of memory", url);
    return NULL;
  }
  p->c = c;
  p->busy = true;
  pool[npool++] = p;
  pthread_mutex_unlock(&pool_lock);
  return p;
}

static void release(pooled *p) {
  if (!p)
    return;
  pthread_mutex_lock(&pool_lock);
  p->busy = false;
  pthread_mutex_unlock(&pool_lock);
}

/* The error of a failed client call, kept for rt_st_why. */
static int hfail(pooled *p, int code) {
  int rc = errno_of(code);
  return set_why(rc, "%s", hdfs_errmsg(p->c));
}

/* ---- stat, list ---- */

static rt_st_kind kind_of_mode(mode_t m) {
  return S_ISREG(m) ? RT_ST_FILE : S_ISDIR(m) ? RT_ST_DIR : RT_ST_OTHER;
}

static void fill_stat(rt_st_info *out, const struct stat *sb) {
  out->kind = kind_of_mode(sb->st_mode);
  out->size = (int64_t)sb->st_size;
  out->mtime_ms = (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
}

static void fill_hstat(rt_st_info *out, const hdfs_status *h) {
  out->kind = h->kind == HDFS_FILE ? RT_ST_FILE : h->kind == HDFS_DIR ? RT_ST_DIR : RT_ST_OTHER;
  out->size = h->length;
  out->mtime_ms = h->mtime_ms;
}

int rt_st_stat(const char *path, rt_st_info *out) {
  clear_why();
  memset(out, 0, sizeof *out);
  if (!rt_st_is_remote(path)) {
    struct stat sb;
    if (stat(path, &sb) < 0)
      return -errno;
    fill_stat(out, &sb);
    return 0;
  }
  int rc;
  pooled *p = acquire(path, &rc);
  if (!p)
    return rc;
  hdfs_status h;
  int code = hdfs_getstatus(p->c, path, &h);
  if (code)
    rc = hfail(p, code);
  else {
    fill_hstat(out, &h);
    hdfs_status_clear(&h);
    rc = 0;
  }
  release(p);
  return rc;
}

void rt_st_free_list(rt_st_entry *v, int64_t n) {
  if (!v)
    return;
  for (int64_t i = 0; i < n; i++)
    free(v[i].name);
  free(v);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const rt_st_entry *)a)->name, ((const rt_st_entry *)b)->name);
}

static int list_local(const char *dir, rt_st_entry **out, int64_t *n) {
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  rt_st_entry *v = NULL;
  int64_t len = 0, cap = 0;
  int rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno)
        rc = -errno;
      break;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    rt_st_entry ent = {0};
    /* The kind from the entry where the file system gives it; symlinks
     * (followed) and unknown kinds from a stat. */
    if (e->d_type == DT_REG) {
      ent.st.kind = RT_ST_FILE;
    } else if (e->d_type == DT_DIR) {
      ent.st.kind = RT_ST_DIR;
    } else if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN) {
      ent.st.kind = RT_ST_OTHER;
    } else {
      struct stat sb;
      if (fstatat(dirfd(d), e->d_name, &sb, 0) < 0) {
        if (errno == ENOENT)
          continue; /* gone meanwhile */
        ent.st.kind = RT_ST_OTHER;
      } else {
        fill_stat(&ent.st, &sb);
      }
    }
    if (len == cap) {
      int64_t nc = cap ? cap * 2 : 32;
      rt_st_entry *nv = realloc(v, sizeof *nv * (size_t)nc);
      if (!nv) {
        rc = -ENOMEM;
        break;
      }
      v = nv;
      cap = nc;
    }
    if (!(ent.name = strdup(e->d_name))) {
      rc = -ENOMEM;
      break;
    }
    v[len++] = ent;
  }
  closedir(d);
  if (rc < 0) {
    rt_st_free_list(v, len);
    return rc;
  }
  if (len > 1)
    qsort(v, (size_t)len, sizeof *v, by_name);
  *out = v;
  *n = len;
  return 0;
}

int rt_st_list(const char *dir, rt_st_entry **out, int64_t *n) {
  clear_why();
  *out = NULL;
  *n = 0;
  if (!rt_st_is_remote(dir))
    return list_local(dir, out, n);
  int rc;
  pooled *p = acquire(dir, &rc);
  if (!p)
    return rc;
  hdfs_status *hs = NULL;
  size_t hn = 0;
  int code = hdfs_list(p->c, dir, &hs, &hn);
  if (code) {
    rc = hfail(p, code);
    release(p);
    return rc;
  }
  release(p);
  if (hn == 1 && hs[0].name[0] == '\0') { /* LISTSTATUS of a file lists the file */
    hdfs_free_statuses(hs, hn);
    return set_why(-ENOTDIR, "%s: not a directory", dir);
  }
  rt_st_entry *v = calloc(hn ? hn : 1, sizeof *v);
  if (!v) {
    hdfs_free_statuses(hs, hn);
    return -ENOMEM;
  }
  for (size_t i = 0; i < hn; i++) {
    fill_hstat(&v[i].st, &hs[i]);
    v[i].name = hs[i].name; /* taken over */
    hs[i].name = NULL;
  }
  hdfs_free_statuses(hs, hn);
  *out = v; /* LISTSTATUS comes sorted by name */
  *n = (int64_t)hn;
  return 0;
}

/* ---- directories, renames, removal ---- */

static int mkdirs_local(const char *path) {
  size_t n = strlen(path);
  char *buf = malloc(n + 1);
  if (!buf)
    return -ENOMEM;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != 0)
      continue;
    char c = buf[i];
    buf[i] = 0;
    if (mkdir(buf, 0777) < 0 && errno != EEXIST) {
      int e = errno;
      free(buf);
      return -e;
    }
    buf[i] = c;
  }
  free(buf);
  struct stat sb;
  if (stat(path, &sb) < 0)
    return -errno;
  return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

int rt_st_mkdirs(const char *path) {
  clear_why();
  if (!rt_st_is_remote(path))
    return mkdirs_local(path);
  int rc;
  pooled *p = acquire(path, &rc);
  if (!p)
    return rc;
  int code = hdfs_mkdirs(p->c, path, -1, NULL);
  rc = code ? hfail(p, code) : 0;
  release(p);
  return rc;
}

/* HDFS: the kind at path, RT_ST_OTHER + 1 when nothing is there, or < 0. */
static int remote_kind(pooled *p, const char *path) {
  hdfs_status h;
  int code = hdfs_getstatus(p->c, path, &h);
  if (code == HDFS_ENOENT)
    return RT_ST_OTHER + 1;
  if (code)
    return hfail(p, code);
  int k = h.kind == HDFS_FILE ? RT_ST_FILE : h.kind == HDFS_DIR ? RT_ST_DIR : RT_ST_OTHER;
  hdfs_status_clear(&h);
  return k;
}

int rt_st_rename(const char *from, const char *to) {
  clear_why();
  if (!rt_st_is_remote(from) && !rt_st_is_remote(to))
    return rename(from, to) < 0 ? -errno : 0;
  if (!rt_st_is_remote(from) || !rt_st_is_remote(to))
    return set_why(-EXDEV, "cannot rename %s to %s: one is on HDFS, the other not", from, to);
  int rc;
  pooled *p = acquire(from, &rc);
  if (!p)
    return rc;
  for (int attempt = 0;; attempt++) {
    bool renamed = false;
    int code = hdfs_rename(p->c, from, to, &renamed);
    if (code) {
      rc = hfail(p, code);
      break;
    }
    if (renamed) {
      rc = 0;
      break;
    }
    /* HDFS said false: find out why. */
    int kf = remote_kind(p, from), kt = remote_kind(p, to);
    if (kf < 0 || kt < 0) {
      rc = kf < 0 ? kf : kt;
      break;
    }
    if (kf == RT_ST_OTHER + 1) {
      /* The source is gone: a retried RENAME whose first answer was lost
       * went through if the destination is there. */
      rc = kt != RT_ST_OTHER + 1 ? 0
                                 : set_why(-ENOENT, "RENAME %s to %s: the source does not exist", from, to);
      break;
    }
    if (kt == RT_ST_DIR) {
      rc = set_why(-EEXIST, "RENAME %s to %s: the destination is a directory", from, to);
      break;
    }
    if (kt == RT_ST_OTHER + 1 || attempt > 0) {
      rc = set_why(-ENOENT, "RENAME %s to %s: the NameNode answered false (the destination's parent "
                            "may be missing)",
                   from, to);
      break;
    }
    /* A file in the way: HDFS does not replace it; delete it and try again. */
    code = hdfs_delete(p->c, to, false, NULL);
    if (code) {
      rc = hfail(p, code);
      break;
    }
  }
  release(p);
  return rc;
}

/* A local directory and everything below it. */
static int remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d)
    return errno == ENOTDIR ? (unlink(path) < 0 && errno != ENOENT ? -errno : 0)
                            : errno == ENOENT ? 0 : -errno;
  int rc = 0;
  struct dirent *e;
  size_t plen = strlen(path);
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    char *sub = malloc(plen + strlen(e->d_name) + 2);
    if (!sub) {
      rc = -ENOMEM;
      break;
    }
    sprintf(sub, "%s/%s", path, e->d_name);
    if (e->d_type == DT_DIR) {
      int r = remove_tree(sub);
      if (r < 0 && !rc)
        rc = r;
    } else if (unlink(sub) < 0 && errno != ENOENT) {
      if (errno == EISDIR) {
        int r = remove_tree(sub);
        if (r < 0 && !rc)
          rc = r;
      } else if (!rc) {
        rc = -errno;
      }
    }
    free(sub);
  }
  closedir(d);
  if (rmdir(path) < 0 && errno != ENOENT && !rc)
    rc = -errno;
  return rc;
}

int rt_st_remove(const char *path, bool recursive) {
  clear_why();
  if (!rt_st_is_remote(path)) {
    if (recursive)
      return remove_tree(path);
    if (unlink(path) == 0 || errno == ENOENT)
      return 0;
    if (errno == EISDIR || errno == EPERM) {
      if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    }
    return -errno;
  }
  int rc;
  pooled *p = acquire(path, &rc);
  if (!p)
    return rc;
  int code = hdfs_delete(p->c, path, recursive, NULL);
  rc = code ? hfail(p, code) : 0;
  release(p);
  return rc;
}

int rt_st_sync_dir(const char *dir) {
  clear_why();
  if (rt_st_is_remote(dir))
    return 0;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
  close(fd);
  return rc;
}

/* ---- reading ---- */

struct rt_st_reader {
  int fd;              /* local, else -1 */
  int64_t left;        /* local: bytes still to read (-1: to the end) */
  pooled *p;           /* HDFS */
  hdfs_reader *hr;
};

int rt_st_open_read(const char *path, int64_t offset, int64_t length, rt_st_reader **out) {
  clear_why();
  *out = NULL;
  rt_st_reader *r = calloc(1, sizeof *r);
  if (!r)
    return -ENOMEM;
  r->fd = -1;
  if (!rt_st_is_remote(path)) {
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0 || (offset > 0 && lseek(r->fd, (off_t)offset, SEEK_SET) < 0)) {
      int e = errno;
      if (r->fd >= 0)
        close(r->fd);
      free(r);
      return -e;
    }
    r->left = length < 0 ? -1 : length;
    *out = r;
    return 0;
  }
  int rc;
  r->p = acquire(path, &rc);
  if (!r->p) {
    free(r);
    return rc;
  }
  int code = hdfs_reader_open(r->p->c, path, offset, length, &r->hr);
  if (code) {
    rc = hfail(r->p, code);
    release(r->p);
    free(r);
    return rc;
  }
  *out = r;
  return 0;
}

ssize_t rt_st_read(rt_st_reader *r, void *buf, size_t n) {
  clear_why();
  if (r->fd >= 0) {
    if (r->left >= 0 && (int64_t)n > r->left)
      n = (size_t)r->left;
    if (n == 0)
      return 0;
    ssize_t k;
    do
      k = read(r->fd, buf, n);
    while (k < 0 && errno == EINTR);
    if (k < 0)
      return -errno;
    if (r->left >= 0)
      r->left -= k;
    return k;
  }
  ssize_t k = hdfs_read(r->hr, buf, n);
  if (k < 0)
    return hfail(r->p, (int)k);
  return k;
}

void rt_st_close_read(rt_st_reader *r) {
  if (!r)
    return;
  if (r->fd >= 0)
    close(r->fd);
  if (r->hr)
    hdfs_reader_close(r->hr);
  release(r->p);
  free(r);
}

int rt_st_read_all(const char *path, unsigned char **data, size_t *len) {
  clear_why();
  *data = NULL;
  *len = 0;
  if (!rt_st_is_remote(path)) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (!S_ISREG(sb.st_mode)) {
      close(fd);
      return -EISDIR;
    }
    if ((uint64_t)sb.st_size >= SIZE_MAX / 2) {
      close(fd);
      return -EFBIG;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    unsigned char *d = malloc(size ? size : 1);
    if (!d) {
      close(fd);
      return -ENOMEM;
    }
    /* What fstat promised; a file that shrank meanwhile reads short. */
    while (got < size) {
      ssize_t k = read(fd, d + got, size - got);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0) {
        int e = errno;
        free(d);
        close(fd);
        return -e;
      }
      if (k == 0)
        break;
      got += (size_t)k;
    }
    close(fd);
    *data = d;
    *len = got;
    return 0;
  }
  rt_st_info st;
  int rc = rt_st_stat(path, &st);
  if (rc < 0)
    return rc;
  if (st.kind != RT_ST_FILE)
    return -EISDIR;
  size_t cap = st.size > 0 ? (size_t)st.size + 1 : 4096, got = 0;
  unsigned char *d = malloc(cap);
  if (!d)
    return -ENOMEM;
  rt_st_reader *r;
  if ((rc = rt_st_open_read(path, 0, -1, &r)) < 0) {
    free(d);
    return rc;
  }
  for (;;) {
    if (got == cap) {
      unsigned char *nd = realloc(d, cap * 2);
      if (!nd) {
        rc = -ENOMEM;
        break;
      }
      d = nd;
      cap *= 2;
    }
    ssize_t k = rt_st_read(r, d + got, cap - got);
    if (k < 0) {
      rc = (int)k;
      break;
    }
    if (k == 0)
      break;
    got += (size_t)k;
  }
  rt_st_close_read(r);
  if (rc < 0) {
    free(d);
    return rc;
  }
  *data = d;
  *len = got;
  return 0;
}

/* ---- writing ---- */

struct rt_st_writer {
  int fd;              /* local, else -1 */
  pooled *p;           /* HDFS */
  hdfs_writer *hw;
};

int rt_st_create(const char *path, rt_st_writer **out) {
  clear_why();
  *out = NULL;
  rt_st_writer *w = calloc(1, sizeof *w);
  if (!w)
    return -ENOMEM;
  w->fd = -1;
  if (!rt_st_is_remote(path)) {
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (w->fd < 0) {
      int e = errno;
      free(w);
      return -e;
    }
    *out = w;
    return 0;
  }
  int rc;
  w->p = acquire(path, &rc);
  if (!w->p) {
    free(w);
    return rc;
  }
  int code = hdfs_create(w->p->c, path, HDFS_OVERWRITE, -1, &w->hw);
  if (code) {
    rc = hfail(w->p, code);
    release(w->p);
    free(w);
    return rc;
  }
  *out = w;
  return 0;
}

int rt_write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (k == 0)
      return -EIO; /* a regular file never accepts nothing; do not spin */
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int rt_st_write(rt_st_writer *w, const void *data, size_t n) {
  clear_why();
  if (n == 0)
    return 0;
  if (w->fd >= 0)
    return rt_write_all(w->fd, data, n);
  int code = hdfs_write(w->hw, data, n);
  return code ? hfail(w->p, code) : 0;
}

int rt_st_close_write(rt_st_writer *w, bool sync) {
  clear_why();
  int rc = 0;
  if (w->fd >= 0) {
    if (sync && fsync(w->fd) < 0)
      rc = -errno;
    if (close(w->fd) < 0 && !rc)
      rc = -errno;
  } else {
    int code = hdfs_writer_close(w->hw); /* frees hw */
    if (code)
      rc = hfail(w->p, code);
    release(w->p);
  }
  free(w);
  return rc;
}

void rt_st_abort_write(rt_st_writer *w) {
  if (!w)
    return;
  if (w->fd >= 0)
    close(w->fd);
  if (w->hw)
    hdfs_writer_abort(w->hw);
  release(w->p);
  free(w);
}

int rt_st_put(const char *path, const void *data, size_t n, bool sync) {
  rt_st_writer *w;
  int rc = rt_st_create(path, &w);
  if (rc < 0)
    return rc;
  if ((rc = rt_st_write(w, data, n)) < 0) {
    /* keep the write's message: abort makes no storage call */
    rt_st_abort_write(w);
    return rc;
  }
  return rt_st_close_write(w, sync);
}

/* ---- appending ---- */

struct rt_st_appender {
  int fd;              /* local, else -1 */
  char *path;          /* HDFS */
};

int rt_st_open_append(const char *path, rt_st_appender **out) {
  clear_why();
  *out = NULL;
  rt_st_appender *a = calloc(1, sizeof *a);
  if (!a)
    return -ENOMEM;
  a->fd = -1;
  if (!rt_st_is_remote(path)) {
    a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (a->fd < 0) {
      int e = errno;
      free(a);
      return -e;
    }
    *out = a;
    return 0;
  }
  if (!(a->path = strdup(path))) {
    free(a);
    return -ENOMEM;
  }
  int rc;
  pooled *p = acquire(path, &rc);
  if (!p)
    goto fail;
  int k = remote_kind(p, path);
  if (k < 0)
    rc = k;
  else if (k == RT_ST_OTHER + 1) { /* a new, empty file */
    int code = hdfs_put(p->c, path, HDFS_OVERWRITE, "", 0);
    rc = code ? hfail(p, code) : 0;
  } else if (k != RT_ST_FILE)
    rc = set_why(-EISDIR, "%s: not a file", path);
  else
    rc = 0;
  release(p);
  if (rc < 0)
    goto fail;
  *out = a;
  return 0;
fail:
  free(a->path);
  free(a);
  return rc;
}

int rt_st_append(rt_st_appender *a, const void *data, size_t n, bool sync) {
  clear_why();
  if (a->fd >= 0) {
    int rc = rt_write_all(a->fd, data, n);
    if (rc == 0 && sync && fdatasync(a->fd) < 0)
      rc = -errno;
    return rc;
  }
  if (n == 0)
    return 0;
  int rc;
  pooled *p = acquire(a->path, &rc);
  if (!p)
    return rc;
  hdfs_writer *hw;
  int code = hdfs_append(p->c, a->path, &hw);
  if (!code && (code = hdfs_write(hw, data, n)))
    hdfs_writer_abort(hw);
  else if (!code)
    code = hdfs_writer_close(hw);
  rc = code ? hfail(p, code) : 0;
  release(p);
  return rc;
}

int rt_st_append_sync(rt_st_appender *a) {
  clear_why();
  if (a->fd >= 0 && fdatasync(a->fd) < 0)
    return -errno;
  return 0;
}

void rt_st_close_append(rt_st_appender *a) {
  if (!a)
    return;
  if (a->fd >= 0)
    close(a->fd);
  free(a->path);
  free(a);
}

/* ---- truncation ---- */

/* dir/.BASE<suffix> for path dir/BASE. */
static char *hidden_beside(const char *path, const char *suffix) {
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dlen;
  char *out = malloc(strlen(path) + strlen(suffix) + 2);
  if (out)
    sprintf(out, "%.*s.%s%s", (int)dlen, path, base, suffix);
  return out;
}

int rt_st_truncate(const char *path, const void *prefix, size_t len) {
  clear_why();
  if (!rt_st_is_remote(path)) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    int rc = 0;
    if (ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0)
      rc = -errno;
    close(fd);
    return rc;
  }
  char *fresh = hidden_beside(path, ".trunc"), *old = hidden_beside(path, ".old");
  int rc = -ENOMEM;
  if (fresh && old) {
    /* The new content complete under a hidden name, the old moved aside,
     * the new into place, the old deleted: at every step one of the two is
     * complete (rt_st_recover_truncate sorts out a crash). */
    if ((rc = rt_st_put(fresh, prefix, len, true)) == 0 && (rc = rt_st_rename(path, old)) == 0 &&
        (rc = rt_st_rename(fresh, path)) == 0)
      rc = rt_st_remove(old, false);
  }
  free(fresh);
  free(old);
  return rc;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

int rt_st_recover_truncate(const char *dir) {
  clear_why();
  if (!rt_st_is_remote(dir))
    return 0;
  rt_st_entry *v;
  int64_t n;
  int rc = rt_st_list(dir, &v, &n);
  if (rc < 0)
    return rc == -ENOENT ? 0 : rc;
  size_t dlen = strlen(dir);
  for (int pass = 0; pass < 2 && rc == 0; pass++) {
    const char *suffix = pass == 0 ? ".old" : ".trunc";
    for (int64_t i = 0; i < n && rc == 0; i++) {
      const char *nm = v[i].name;
      size_t len = strlen(nm), sl = strlen(suffix);
      if (nm[0] != '.' || len <= sl + 1 || !ends_with(nm, suffix) || v[i].st.kind != RT_ST_FILE)
        continue;
      char *hidden = malloc(dlen + len + 2), *orig = malloc(dlen + len + 2);
      if (!hidden || !orig) {
        free(hidden);
        free(orig);
        rc = -ENOMEM;
        break;
      }
      sprintf(hidden, "%s/%s", dir, nm);
      sprintf(orig, "%s/%.*s", dir, (int)(len - 1 - sl), nm + 1);
      if (pass == 1) {
        rc = rt_st_remove(hidden, false);
      } else {
        rt_st_info st;
        int k = rt_st_stat(orig, &st);
        if (k == 0)
          rc = rt_st_remove(hidden, false); /* the cut file is in place */
        else if (k == -ENOENT)
          rc = rt_st_rename(hidden, orig); /* put the file back as it was */
        else
          rc = k;
      }
      free(hidden);
      free(orig);
    }
  }
  rt_st_free_list(v, n);
  return rc;
}
