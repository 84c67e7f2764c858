/*
 * path.c — the file name behind a source's, an output's or the checkpoint
 * directory's path.
 *
 * Paths in a program are local (relative to the working directory),
 * `file://...`, or `hdfs://HOST:PORT/PATH` / `webhdfs://...` (WebHDFS, with
 * HOST:PORT the NameNode's HTTP address). rt_path_arg gives the path the
 * storage layer (storage.c) takes, as a C string the caller frees: local
 * names without `file://`, URLs as written once they are known to name a
 * NameNode. rt_local_path is for the sources that read local files only
 * (`batches`).
 */
#include "rt.h"
#include "hdfs.h"
#include "storage.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_prefix(ds_str s, const char *p) {
  size_t n = strlen(p);
  return (size_t)s.len >= n && memcmp(s.ptr, p, n) == 0;
}

/* hdfs:// or webhdfs://, any case (URL schemes are case-insensitive). */
static bool is_hdfs(ds_str s) {
  return ((size_t)s.len >= 7 && strncasecmp(s.ptr, "hdfs://", 7) == 0) ||
         ((size_t)s.len >= 10 && strncasecmp(s.ptr, "webhdfs://", 10) == 0);
}

char *rt_path_arg(ds_str arg, const char **msg) {
  if (has_prefix(arg, "file://")) {
    arg.ptr += 7;
    arg.len -= 7;
  }
  if (arg.len == 0 || memchr(arg.ptr, '\0', (size_t)arg.len)) {
    *msg = "the path is empty or holds a NUL byte";
    return NULL;
  }
  char *p = malloc((size_t)arg.len + 1);
  if (!p) {
    *msg = "out of memory";
    return NULL;
  }
  memcpy(p, arg.ptr, (size_t)arg.len);
  p[arg.len] = '\0';
  if (rt_st_is_remote(p)) {
    /* Opening a client parses the URL (it sends no request). */
    static _Thread_local char m[1200];
    char *err = NULL;
    hdfs_client *c = hdfs_open(p, NULL, 1, &err);
    if (!c) {
      snprintf(m, sizeof m, "%s", err ? err : "a bad hdfs:// URL");
      free(err);
      free(p);
      *msg = m;
      return NULL;
    }
    hdfs_close(c);
  }
  return p;
}

char *rt_local_path(ds_str arg, const char **msg) {
  if (is_hdfs(arg)) {
    *msg = "hdfs:// paths are not supported here: batches() reads a local file";
    return NULL;
  }
  return rt_path_arg(arg, msg);
}
