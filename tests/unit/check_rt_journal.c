/*
 * check_rt_journal.c — the batch journal (runtime/journal.c).
 *
 * A first "run" writes batches through the driver's calls (begin, source
 * records, done) into a real directory; a second run opens the journal as a
 * restart would and must re-run exactly the complete batches after the
 * checkpoint, with their times and records, know which batches were done,
 * cut off an incomplete last batch and a torn record, and append after
 * them. Rotation after a checkpoint deletes only the files the oldest
 * checkpoint kept covers. Every test works in its own directory under /tmp.
 *
 * With CHECK_HDFS_URL=hdfs://HOST:PORT and CHECK_HDFS_ROOT=DIR in the
 * environment (tests/hdfs/test_hdfs_jobs.py sets them for a WebHDFS test
 * fixture serving DIR) the same tests run with the journal on HDFS: the
 * journal opens the hdfs:// URL of its directory, while the tests look at
 * and damage its files through the fixture's local directory.
 */
#define _GNU_SOURCE
#include "rt.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[512]; /* the directory, as the tests look at it */
static char jdir[1024];  /* the directory, as the journal opens it */

static void make_tmpdir(void) {
  const char *url = getenv("CHECK_HDFS_URL"), *root = getenv("CHECK_HDFS_ROOT");
  bool hdfs = url && *url && root && *root;
  snprintf(tmpdir, sizeof tmpdir, "%s/check_rt_journal.XXXXXX", hdfs ? root : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  if (hdfs)
    snprintf(jdir, sizeof jdir, "%s/%s", url, tmpdir + strlen(root) + 1);
  else
    snprintf(jdir, sizeof jdir, "%s", tmpdir);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static void remove_tmpdir(void) { nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Two journaling sources, named as dsc names them. */
static ds_node nodes[2] = {{.kind = DS_SOURCE_SOCKET, .ident = "socket#1"},
                           {.kind = DS_SOURCE_TEXTFILES, .ident = "files"}};
static ds_job job = {.abi_version = DS_ABI_VERSION, .program = "t.ds", .nodes = nodes, .nnodes = 2};

static void open_journal(rt_job *rj, int64_t ckpt) {
  *rj = (rt_job){.job = &job};
  char msg[512];
  int rc = rt_journal_open(rj, jdir, ckpt, msg, sizeof msg);
  ck_assert_msg(rc == 0, "rt_journal_open: %s", msg);
}

/* Batch i at time 1000 * i: both sources' records ("line<i>", "f<i>"). */
static void write_batch(rt_job *rj, int64_t i, bool sources, bool done) {
  rt_batch b = {.index = i, .time = 1000 * i};
  ck_assert_int_eq(rt_journal_begin(rj, &b, 2), 0);
  if (sources) {
    char data[32];
    int n = snprintf(data, sizeof data, "line%lld\n", (long long)i);
    ck_assert_int_eq(rt_journal_put(rj, 0, &b, data, (size_t)n), 0);
    n = snprintf(data, sizeof data, "f%lld", (long long)i);
    ck_assert_int_eq(rt_journal_put(rj, 1, &b, data, (size_t)n + 1), 0);
  }
  if (done)
    ck_assert_int_eq(rt_journal_done(rj, &b), 0);
}

static void expect_replay(rt_job *rj, int64_t i) {
  rt_batch b = {.index = i, .time = 1000 * i};
  const void *data;
  size_t len;
  char want[32];
  ck_assert_int_eq(rt_journal_replay_time(rj->journal, i), 1000 * i);
  ck_assert(rt_journal_replay(rj, 0, &b, &data, &len));
  int n = snprintf(want, sizeof want, "line%lld\n", (long long)i);
  ck_assert_uint_eq(len, (size_t)n);
  ck_assert(!memcmp(data, want, len));
  ck_assert(rt_journal_replay(rj, 1, &b, &data, &len));
  n = snprintf(want, sizeof want, "f%lld", (long long)i);
  ck_assert_uint_eq(len, (size_t)n + 1);
  ck_assert(!memcmp(data, want, len));
}

static int count_files(const char *prefix) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += !strncmp(e->d_name, prefix, strlen(prefix));
  closedir(d);
  return n;
}

START_TEST(test_replays_complete_batches_after_the_checkpoint) {
  make_tmpdir();
  rt_job rj;
  open_journal(&rj, 0);
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 0);
  for (int64_t i = 1; i <= 5; i++)
    write_batch(&rj, i, true, i != 5); /* batch 5's outputs never ran */
  write_batch(&rj, 6, false, false);   /* killed while its sources were logged */
  rt_journal_close(&rj);

  open_journal(&rj, 2); /* the checkpoint holds batch 2 */
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 5);
  for (int64_t i = 3; i <= 5; i++)
    expect_replay(&rj, i);
  ck_assert(rt_journal_printed(&rj, 3));
  ck_assert(rt_journal_printed(&rj, 4));
  ck_assert(!rt_journal_printed(&rj, 5));
  rt_batch b2 = {.index = 2}, b6 = {.index = 6};
  const void *data;
  size_t len;
  ck_assert(!rt_journal_replay(&rj, 0, &b2, &data, &len)); /* in the checkpoint */
  ck_assert(!rt_journal_replay(&rj, 0, &b6, &data, &len)); /* live */
  /* The run goes on: batch 6 anew, with other data. */
  rt_batch nb = {.index = 6, .time = 9000};
  ck_assert_int_eq(rt_journal_begin(&rj, &nb, 2), 0);
  ck_assert_int_eq(rt_journal_put(&rj, 0, &nb, "new\n", 4), 0);
  ck_assert_int_eq(rt_journal_put(&rj, 1, &nb, "", 0), 0);
  rt_journal_close(&rj);

  /* A second restart sees the new batch 6, not the cut-off one. */
  open_journal(&rj, 2);
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 6);
  ck_assert_int_eq(rt_journal_replay_time(rj.journal, 6), 9000);
  ck_assert(rt_journal_replay(&rj, 0, &b6, &data, &len));
  ck_assert_uint_eq(len, 4);
  ck_assert(!memcmp(data, "new\n", 4));
  rt_journal_close(&rj);
  remove_tmpdir();
}
END_TEST

START_TEST(test_torn_record_ends_the_file) {
  make_tmpdir();
  rt_job rj;
  open_journal(&rj, 0);
  for (int64_t i = 1; i <= 3; i++)
    write_batch(&rj, i, true, true);
  rt_journal_close(&rj);
  /* Tear the last record: drop its last 3 bytes (a crash mid-write). */
  char path[600];
  snprintf(path, sizeof path, "%s/wal-%019d", tmpdir, 1);
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(truncate(path, sb.st_size - 3), 0);
  open_journal(&rj, 0);
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 3); /* only DONE of 3 was torn */
  ck_assert(!rt_journal_printed(&rj, 3));
  expect_replay(&rj, 3);
  rt_journal_close(&rj);

  /* Flip a byte inside batch 2's socket record: the file ends before it. */
  int fd = open(path, O_RDWR);
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  ck_assert_int_gt(n, 0);
  char *hit = memmem(buf, (size_t)n, "line2", 5);
  ck_assert_ptr_nonnull(hit);
  hit[0] ^= 1;
  ck_assert_int_eq(pwrite(fd, buf, (size_t)n, 0), n);
  close(fd);
  open_journal(&rj, 0);
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 1);
  expect_replay(&rj, 1);
  rt_journal_close(&rj);
  remove_tmpdir();
}
END_TEST

START_TEST(test_rotation_removes_covered_files) {
  make_tmpdir();
  rt_job rj;
  open_journal(&rj, 0);
  write_batch(&rj, 1, true, true);
  write_batch(&rj, 2, true, true);
  ck_assert_int_eq(rt_journal_rotate(&rj, 2, 2), 0); /* checkpoint 2, the only one */
  ck_assert_int_eq(count_files("wal-"), 1);          /* wal-1 (batches 1-2) is covered */
  write_batch(&rj, 3, true, true);
  write_batch(&rj, 4, true, true);
  ck_assert_int_eq(rt_journal_rotate(&rj, 4, 2), 0); /* checkpoints 2 and 4 kept */
  ck_assert_int_eq(count_files("wal-"), 2);          /* wal-3 still needed after 2 */
  write_batch(&rj, 5, true, true);
  rt_journal_close(&rj);
  /* Falling back to checkpoint 2 (4 damaged) still finds batches 3-5. */
  open_journal(&rj, 2);
  ck_assert_int_eq(rt_journal_replay_last(rj.journal), 5);
  for (int64_t i = 3; i <= 5; i++)
    expect_replay(&rj, i);
  rt_journal_close(&rj);
  remove_tmpdir();
}
END_TEST

START_TEST(test_unknown_source_replays_empty) {
  make_tmpdir();
  rt_job rj;
  open_journal(&rj, 0);
  write_batch(&rj, 1, true, true);
  rt_journal_close(&rj);
  /* The program changed: its source has another identity now. */
  nodes[1].ident = "renamed";
  open_journal(&rj, 0);
  rt_batch b = {.index = 1, .time = 1000};
  const void *data;
  size_t len = 99;
  ck_assert(rt_journal_replay(&rj, 1, &b, &data, &len));
  ck_assert_uint_eq(len, 0);
  rt_journal_close(&rj);
  nodes[1].ident = "files";
  remove_tmpdir();
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_journal");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_replays_complete_batches_after_the_checkpoint);
  tcase_add_test(tc, test_torn_record_ends_the_file);
  tcase_add_test(tc, test_rotation_removes_covered_files);
  tcase_add_test(tc, test_unknown_source_replays_empty);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
