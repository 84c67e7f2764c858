/*
 * hdfs_tool.c — a command-line driver of the runtime's WebHDFS client
 * (runtime/hdfs.h), for tests/hdfs/test_hdfs_client.py and the WebHDFS read
 * figures in bench/README.md. The server it talks to in the tests is
 * tests/fixtures/webhdfs.py: a fixture that follows the documented WebHDFS
 * protocol, not Hadoop.
 *
 *   hdfs_tool [OPTIONS] URL COMMAND [ARGS] [+ COMMAND [ARGS]]...
 *
 * Several commands separated by `+` run in order on one client (to check that
 * requests reuse connections). Options:
 *   --user U          the hdfsUser (default: $HADOOP_USER_NAME, then the login name)
 *   --retries N       attempts per request, 0 for no limit (default 10)
 *   --connect-ms N    connect timeout
 *   --stall-s N       seconds without progress before a transfer is abandoned
 *   --bufsize N       the buffer handed to hdfs_read (default 1 MiB)
 *   --stats           at the end, one JSON line on stderr: connects, bytes read,
 *                     seconds spent reading, MB/s, peak RSS (VmHWM, kB), whether
 *                     built with AddressSanitizer
 * Commands (paths are resolved against URL as hdfs.h says):
 *   stat PATH                         kind length mtime_ms perm(octal) owner group
 *   ls PATH                           one line per entry: name kind length mtime_ms (tabs)
 *   cat PATH [OFFSET [LENGTH]]        the bytes on stdout (pull interface, hdfs_read)
 *   catcb PATH [OFFSET [LENGTH]]      the same through hdfs_read_range (push interface)
 *   sum PATH [OFFSET [LENGTH]]        "BYTES CRC32" of the bytes (pull interface)
 *   bench PATH                        reads and discards (for the figures)
 *   localbench FILE                   read(2) of a local file, discarded, same buffer
 *   put PATH [--overwrite] [--perm OCTAL]   CREATE with stdin's bytes
 *   append PATH                       APPEND stdin's bytes
 *   mv SRC DST                        prints true or false
 *   rm PATH [-r]                      prints true or false
 *   mkdir PATH [OCTAL]                prints true or false
 *   user                              prints the user.name the client sends
 *   base                              prints the client's base path
 * Exit status: 0; 1 when an operation fails, after a line on stderr
 * "hdfs_tool: error CODE (TEXT): MESSAGE"; 2 for bad usage or a refused URL.
 */
#define _GNU_SOURCE
#include "hdfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* AddressSanitizer's shadow memory and quarantine raise the peak RSS: --stats says so. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static size_t bufsize = 1 << 20;
static int64_t bytes_read;
static double read_seconds;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n) {
  crc = ~crc;
  while (n--)
    crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static long vm_hwm_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0)
      v = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

static int fail(hdfs_client *c, int rc) {
  fprintf(stderr, "hdfs_tool: error %d (%s): %s\n", rc, hdfs_strerror(rc), hdfs_errmsg(c));
  return 1;
}

static const char *kind_name(hdfs_kind k) {
  return k == HDFS_DIR ? "DIRECTORY" : k == HDFS_SYMLINK ? "SYMLINK" : "FILE";
}

static bool write_out(const void *p, size_t n) { return fwrite(p, 1, n, stdout) == n; }

/* Reads [off, off+len) with the pull interface; mode: 0 cat, 1 sum, 2 bench. */
static int do_read(hdfs_client *c, const char *path, int64_t off, int64_t len, int mode) {
  hdfs_reader *r;
  double t0 = now_s();
  int rc = hdfs_reader_open(c, path, off, len, &r);
  if (rc)
    return fail(c, rc);
  unsigned char *buf = malloc(bufsize);
  if (!buf) {
    hdfs_reader_close(r);
    return 1;
  }
  uint32_t crc = 0;
  int64_t total = 0;
  for (;;) {
    ssize_t k = hdfs_read(r, buf, bufsize);
    if (k < 0) {
      free(buf);
      hdfs_reader_close(r);
      return fail(c, (int)k);
    }
    if (k == 0)
      break;
    total += k;
    if (mode == 0 && !write_out(buf, (size_t)k)) {
      free(buf);
      hdfs_reader_close(r);
      return 1;
    }
    if (mode == 1)
      crc = crc_update(crc, buf, (size_t)k);
  }
  if (hdfs_reader_offset(r) != off + total) {
    fprintf(stderr, "hdfs_tool: reader offset %" PRId64 " != %" PRId64 "\n", hdfs_reader_offset(r), off + total);
    rc = 1;
  }
  free(buf);
  hdfs_reader_close(r);
  read_seconds += now_s() - t0;
  bytes_read += total;
  if (mode == 1)
    printf("%" PRId64 " %08x\n", total, crc);
  return rc;
}

static int push_cb(void *ctx, const void *data, size_t n) {
  (void)ctx;
  bytes_read += (int64_t)n;
  return write_out(data, n) ? 0 : 1;
}

static int do_write(hdfs_client *c, const char *path, bool append, int flags, int perm) {
  hdfs_writer *w;
  int rc = append ? hdfs_append(c, path, &w) : hdfs_create(c, path, flags, perm, &w);
  if (rc)
    return fail(c, rc);
  unsigned char *buf = malloc(65536);
  ssize_t k;
  while (buf && (k = read(0, buf, 65536)) != 0) {
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      perror("hdfs_tool: stdin");
      hdfs_writer_abort(w);
      free(buf);
      return 1;
    }
    if ((rc = hdfs_write(w, buf, (size_t)k))) {
      hdfs_writer_abort(w);
      free(buf);
      return fail(c, rc);
    }
  }
  free(buf);
  rc = hdfs_writer_close(w);
  return rc ? fail(c, rc) : 0;
}

static int local_bench(const char *file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror(file);
    return 1;
  }
  unsigned char *buf = malloc(bufsize);
  double t0 = now_s();
  int64_t total = 0;
  ssize_t k;
  while (buf && (k = read(fd, buf, bufsize)) != 0) {
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      perror(file);
      close(fd);
      free(buf);
      return 1;
    }
    total += k;
  }
  read_seconds += now_s() - t0;
  bytes_read += total;
  close(fd);
  free(buf);
  return 0;
}

static int64_t num_arg(const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s) {
    fprintf(stderr, "hdfs_tool: bad number %s\n", s);
    exit(2);
  }
  return v;
}

static int usage(void) {
  fprintf(stderr, "usage: hdfs_tool [--user U] [--retries N] [--connect-ms N] [--stall-s N] [--bufsize N] "
                  "[--stats] URL COMMAND [ARGS] [+ COMMAND [ARGS]]...\n");
  return 2;
}

/* Runs one command, argv[0..argc). */
static int run(hdfs_client *c, int argc, char **argv) {
  const char *cmd = argv[0];
  int rc;
  if (strcmp(cmd, "stat") == 0 && argc == 2) {
    hdfs_status st;
    if ((rc = hdfs_getstatus(c, argv[1], &st)))
      return fail(c, rc);
    printf("%s %" PRId64 " %" PRId64 " %o %s %s\n", kind_name(st.kind), st.length, st.mtime_ms, st.permission,
           st.owner, st.group);
    hdfs_status_clear(&st);
    return 0;
  }
  if (strcmp(cmd, "ls") == 0 && argc == 2) {
    hdfs_status *v;
    size_t n;
    if ((rc = hdfs_list(c, argv[1], &v, &n)))
      return fail(c, rc);
    for (size_t i = 0; i < n; i++)
      printf("%s\t%s\t%" PRId64 "\t%" PRId64 "\n", v[i].name, kind_name(v[i].kind), v[i].length, v[i].mtime_ms);
    hdfs_free_statuses(v, n);
    return 0;
  }
  if ((strcmp(cmd, "cat") == 0 || strcmp(cmd, "sum") == 0 || strcmp(cmd, "catcb") == 0) && argc >= 2 &&
      argc <= 4) {
    int64_t off = argc > 2 ? num_arg(argv[2]) : 0, len = argc > 3 ? num_arg(argv[3]) : -1;
    if (strcmp(cmd, "catcb") == 0) {
      rc = hdfs_read_range(c, argv[1], off, len, push_cb, NULL);
      return rc ? fail(c, rc) : 0;
    }
    return do_read(c, argv[1], off, len, cmd[0] == 'c' ? 0 : 1);
  }
  if (strcmp(cmd, "bench") == 0 && argc == 2)
    return do_read(c, argv[1], 0, -1, 2);
  if (strcmp(cmd, "localbench") == 0 && argc == 2)
    return local_bench(argv[1]);
  if (strcmp(cmd, "put") == 0 && argc >= 2) {
    int flags = 0, perm = -1;
    for (int i = 2; i < argc; i++) {
      if (strcmp(argv[i], "--overwrite") == 0)
        flags |= HDFS_OVERWRITE;
      else if (strcmp(argv[i], "--perm") == 0 && i + 1 < argc)
        perm = (int)strtol(argv[++i], NULL, 8);
      else
        return usage();
    }
    return do_write(c, argv[1], false, flags, perm);
  }
  if (strcmp(cmd, "append") == 0 && argc == 2)
    return do_write(c, argv[1], true, 0, -1);
  if (strcmp(cmd, "mv") == 0 && argc == 3) {
    bool ok;
    if ((rc = hdfs_rename(c, argv[1], argv[2], &ok)))
      return fail(c, rc);
    printf("%s\n", ok ? "true" : "false");
    return 0;
  }
  if (strcmp(cmd, "rm") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "-r") == 0))) {
    bool ok;
    if ((rc = hdfs_delete(c, argv[1], argc == 3, &ok)))
      return fail(c, rc);
    printf("%s\n", ok ? "true" : "false");
    return 0;
  }
  if (strcmp(cmd, "mkdir") == 0 && (argc == 2 || argc == 3)) {
    bool ok;
    if ((rc = hdfs_mkdirs(c, argv[1], argc == 3 ? (int)strtol(argv[2], NULL, 8) : -1, &ok)))
      return fail(c, rc);
    printf("%s\n", ok ? "true" : "false");
    return 0;
  }
  if (strcmp(cmd, "user") == 0 && argc == 1) {
    printf("%s\n", hdfs_user(c));
    return 0;
  }
  if (strcmp(cmd, "base") == 0 && argc == 1) {
    printf("%s\n", hdfs_base_path(c));
    return 0;
  }
  return usage();
}

int main(int argc, char **argv) {
  const char *user = NULL;
  int64_t retries = 10;
  long connect_ms = 0, stall_s = 0;
  bool stats = false;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--stats") == 0)
      stats = true;
    else if (i + 1 >= argc)
      return usage();
    else if (strcmp(argv[i], "--user") == 0)
      user = argv[++i];
    else if (strcmp(argv[i], "--retries") == 0)
      retries = num_arg(argv[++i]);
    else if (strcmp(argv[i], "--connect-ms") == 0)
      connect_ms = (long)num_arg(argv[++i]);
    else if (strcmp(argv[i], "--stall-s") == 0)
      stall_s = (long)num_arg(argv[++i]);
    else if (strcmp(argv[i], "--bufsize") == 0)
      bufsize = (size_t)num_arg(argv[++i]);
    else
      return usage();
  }
  if (argc - i < 2 || bufsize == 0)
    return usage();
  crc_init();
  char *err = NULL;
  hdfs_client *c = hdfs_open(argv[i], user, retries, &err);
  if (!c) {
    fprintf(stderr, "hdfs_tool: %s\n", err ? err : "cannot open");
    free(err);
    return 2;
  }
  hdfs_set_timeouts(c, connect_ms, stall_s);
  int rc = 0;
  for (int start = i + 1; start < argc && rc == 0;) {
    int end = start;
    while (end < argc && strcmp(argv[end], "+") != 0)
      end++;
    if (end == start) {
      rc = usage();
      break;
    }
    rc = run(c, end - start, argv + start);
    fflush(stdout);
    start = end + 1;
  }
  if (stats)
    fprintf(stderr,
            "{\"connects\": %ld, \"bytes\": %" PRId64 ", \"seconds\": %.4f, \"mb_per_s\": %.1f, "
            "\"vm_hwm_kb\": %ld, \"sanitized\": %s}\n",
            hdfs_connects(c), bytes_read, read_seconds,
            read_seconds > 0 ? (double)bytes_read / 1e6 / read_seconds : 0.0, vm_hwm_kb(),
            SANITIZED ? "true" : "false");
  hdfs_close(c);
  return rc;
}
