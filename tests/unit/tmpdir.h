/*
 * tmpdir.h — a scratch directory under /tmp for a Check suite that writes
 * real files (check_rt_ckpt.c, check_rt_checkpoint_state.c): made fresh by
 * each test, removed with everything in it at its end. Header-only: each
 * suite includes it once and names its directories with its own prefix.
 */
#ifndef TMPDIR_H
#define TMPDIR_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64];

/* /tmp/PREFIX.XXXXXX, made. */
static void make_tmpdir_named(const char *prefix) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/%s.XXXXXX", prefix);
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tmpdir(void) {
  ck_assert_int_eq(nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* tmpdir/NAME, in a buffer the next call reuses. */
static char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

#endif
