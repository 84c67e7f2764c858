/*
 * storage_tool.c — a command line over runtime/storage.h and the checkpoint
 * file layer (ckpt_file.c), for tests/hdfs/test_hdfs_jobs.py, which runs it
 * against the WebHDFS test fixture (tests/fixtures/webhdfs.py: the
 * documented WebHDFS protocol over a local directory, not Hadoop) and checks
 * the effects in the fixture's directory.
 *
 *   storage_tool [--user U] [--retries N] COMMAND ARGS...
 *
 *   stat P | ls P | mkdirs P | mv A B | rm P [-r] | cat P | read P OFF LEN
 *   put P (stdin) | append P (stdin, one append) | truncate P LEN | recover DIR
 *   ckpt-write DIR INDEX TEXT   a checkpoint holding TEXT, then prune to two
 *   ckpt-latest DIR             "INDEX TEXT" of the newest usable one
 *   ckpt-list DIR | ckpt-clean DIR
 *
 * Exit 0, or 1 with "storage_tool: error RC: MESSAGE" on stderr.
 */
#include "rt.h"
#include "storage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int rc, const char *why) {
  fprintf(stderr, "storage_tool: error %d: %s\n", rc, why);
  return 1;
}

static unsigned char *read_stdin(size_t *n) {
  size_t cap = 1 << 16, len = 0;
  unsigned char *b = malloc(cap);
  for (;;) {
    if (len == cap)
      b = realloc(b, cap *= 2);
    size_t k = fread(b + len, 1, cap - len, stdin);
    if (k == 0)
      break;
    len += k;
  }
  *n = len;
  return b;
}

static const char *kind_name(rt_st_kind k) {
  return k == RT_ST_FILE ? "FILE" : k == RT_ST_DIR ? "DIR" : "OTHER";
}

int main(int argc, char **argv) {
  const char *user = NULL;
  int64_t retries = 10;
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
    if (!strcmp(argv[i], "--user"))
      user = argv[i + 1];
    else if (!strcmp(argv[i], "--retries"))
      retries = strtoll(argv[i + 1], NULL, 10);
  }
  if (i >= argc)
    return fail(-22, "usage: storage_tool [--user U] [--retries N] COMMAND ARGS...");
  rt_st_configure(user, retries);
  const char *cmd = argv[i];
  char **a = argv + i + 1;
  int na = argc - i - 1;
  int rc = 0;
  if (!strcmp(cmd, "stat") && na == 1) {
    rt_st_info st;
    if ((rc = rt_st_stat(a[0], &st)) < 0)
      return fail(rc, rt_st_why(rc));
    printf("%s %" PRId64 "\n", kind_name(st.kind), st.size);
  } else if (!strcmp(cmd, "ls") && na == 1) {
    rt_st_entry *v;
    int64_t n;
    if ((rc = rt_st_list(a[0], &v, &n)) < 0)
      return fail(rc, rt_st_why(rc));
    for (int64_t k = 0; k < n; k++)
      printf("%s\t%s\n", v[k].name, kind_name(v[k].st.kind));
    rt_st_free_list(v, n);
  } else if (!strcmp(cmd, "mkdirs") && na == 1) {
    rc = rt_st_mkdirs(a[0]);
  } else if (!strcmp(cmd, "mv") && na == 2) {
    rc = rt_st_rename(a[0], a[1]);
  } else if (!strcmp(cmd, "rm") && (na == 1 || na == 2)) {
    rc = rt_st_remove(a[0], na == 2 && !strcmp(a[1], "-r"));
  } else if (!strcmp(cmd, "cat") && na == 1) {
    unsigned char *d;
    size_t n;
    if ((rc = rt_st_read_all(a[0], &d, &n)) < 0)
      return fail(rc, rt_st_why(rc));
    fwrite(d, 1, n, stdout);
    free(d);
  } else if (!strcmp(cmd, "read") && na == 3) {
    rt_st_reader *r;
    if ((rc = rt_st_open_read(a[0], strtoll(a[1], NULL, 10), strtoll(a[2], NULL, 10), &r)) < 0)
      return fail(rc, rt_st_why(rc));
    char buf[7000]; /* an odd size: reads that end mid-piece */
    for (;;) {
      ssize_t k = rt_st_read(r, buf, sizeof buf);
      if (k < 0) {
        rc = (int)k;
        char why[2000];
        snprintf(why, sizeof why, "%s", rt_st_why(rc));
        rt_st_close_read(r);
        return fail(rc, why);
      }
      if (k == 0)
        break;
      fwrite(buf, 1, (size_t)k, stdout);
    }
    rt_st_close_read(r);
  } else if (!strcmp(cmd, "put") && na == 1) {
    size_t n;
    unsigned char *d = read_stdin(&n);
    rc = rt_st_put(a[0], d, n, true);
    free(d);
  } else if (!strcmp(cmd, "append") && na == 1) {
    size_t n;
    unsigned char *d = read_stdin(&n);
    rt_st_appender *ap;
    if ((rc = rt_st_open_append(a[0], &ap)) == 0) {
      rc = rt_st_append(ap, d, n, true);
      rt_st_close_append(ap);
    }
    free(d);
  } else if (!strcmp(cmd, "truncate") && na == 2) {
    unsigned char *d;
    size_t n;
    if ((rc = rt_st_read_all(a[0], &d, &n)) < 0)
      return fail(rc, rt_st_why(rc));
    size_t len = (size_t)strtoull(a[1], NULL, 10);
    rc = rt_st_truncate(a[0], d, len < n ? len : n);
    free(d);
  } else if (!strcmp(cmd, "recover") && na == 1) {
    rc = rt_st_recover_truncate(a[0]);
  } else if (!strcmp(cmd, "ckpt-write") && na == 3) {
    char name[RT_CKPT_NAME_SIZE];
    rt_ckpt_name(name, strtoll(a[1], NULL, 10));
    rt_ckw w;
    if (rt_ckw_open(&w, a[0], name) < 0)
      return fail(w.err, w.msg);
    rt_ckw_str(&w, (ds_str){a[2], (int64_t)strlen(a[2])});
    if (rt_ckw_commit(&w) < 0)
      return fail(w.err, w.msg);
    if ((rc = rt_ckpt_prune(a[0], RT_CKPT_KEEP)) < 0)
      return fail(rc, rt_st_why(rc));
  } else if (!strcmp(cmd, "ckpt-latest") && na == 1) {
    rt_ckr r;
    int64_t index;
    if ((rc = rt_ckpt_open_latest(a[0], &r, &index)) < 0)
      return fail(rc, r.msg);
    ds_str s;
    if (rt_ckr_str(&r, &s) < 0 || rt_ckr_end(&r) < 0)
      return fail(r.err, r.msg);
    printf("%" PRId64 " %.*s\n", index, (int)s.len, s.ptr);
    rt_ckr_close(&r);
  } else if (!strcmp(cmd, "ckpt-list") && na == 1) {
    int64_t *v, n;
    if ((rc = rt_ckpt_list(a[0], &v, &n)) < 0)
      return fail(rc, rt_st_why(rc));
    for (int64_t k = 0; k < n; k++)
      printf("%" PRId64 "\n", v[k]);
    free(v);
  } else if (!strcmp(cmd, "ckpt-clean") && na == 1) {
    int64_t removed = 0;
    if ((rc = rt_ckpt_clean_temporaries(a[0], &removed)) < 0)
      return fail(rc, rt_st_why(rc));
    printf("%" PRId64 "\n", removed);
  } else {
    return fail(-22, "unknown command or wrong arguments");
  }
  if (rc < 0)
    return fail(rc, rt_st_why(rc));
  return 0;
}
