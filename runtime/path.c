/*
 * path.c — the local file name behind a source's or an output's path.
 *
 * Paths in a program are local (relative to the working directory),
 * `file://...`, or `hdfs://` / `webhdfs://` (WebHDFS, not supported yet).
 * rt_local_path gives the local name as a C string the caller frees, or
 * says why there is none.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

static bool has_prefix(ds_str s, const char *p) {
  size_t n = strlen(p);
  return (size_t)s.len >= n && memcmp(s.ptr, p, n) == 0;
}

char *rt_local_path(ds_str arg, const char **msg) {
  if (has_prefix(arg, "hdfs://") || has_prefix(arg, "webhdfs://")) {
    *msg = "hdfs:// paths are not supported yet";
    return NULL;
  }
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
  return p;
}
