/*
 * check_rt_ckpt.c — checkpoint files (runtime/ckpt_file.c).
 *
 * CRC-32C against known answers and a bit-at-a-time reference; round trips
 * of every typed value (buffer boundaries and large blocks included); every
 * damaged file refused before any data is read (each bit of a small file
 * flipped in turn, truncation at every length, appended bytes, garbage, a
 * sound checksum over an inconsistent trailer, a newer format version);
 * bounds-checked reads; a crash between write and rename (the old
 * checkpoint stays, the temporary is cleaned up); listing newest first and
 * pruning to the newest two; a full file system simulated with
 * RLIMIT_FSIZE in a child (commit fails with EFBIG, the previous checkpoint
 * is intact, nothing partial under the final name); choosing the newest
 * usable checkpoint. Every test works in its own directory under /tmp and
 * removes it.
 */
#define _GNU_SOURCE
#include "rt.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

#include "tmpdir.h"

static void make_tmpdir(void) { make_tmpdir_named("check_rt_ckpt"); }

static bool exists(const char *name) {
  struct stat st;
  return stat(path_of(name), &st) == 0;
}

/* Entries of tmpdir other than . and .. */
static int count_entries(void) {
  int n = 0;
  DIR *d = opendir(tmpdir);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)size + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  *n = (size_t)size;
  return b;
}

static void spit(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(b, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
}

static ds_str S(const char *s) {
  return (ds_str){s, (int64_t)strlen(s)};
}

/* Commits a checkpoint holding `tag` and `n` bytes of filler derived from it. */
static int write_tagged(const char *name, uint64_t tag, size_t n, rt_ckw *w) {
  int rc = rt_ckw_open(w, tmpdir, name);
  if (rc < 0)
    return rc;
  rt_ckw_u64(w, tag);
  rt_ckw_u64(w, n);
  unsigned char block[4096];
  for (size_t i = 0; i < sizeof block; i++)
    block[i] = (unsigned char)(tag * 31 + i);
  for (size_t done = 0; done < n;) {
    size_t k = n - done < sizeof block ? n - done : sizeof block;
    rt_ckw_bytes(w, block, k);
    done += k;
  }
  return rt_ckw_commit(w);
}

/* Whether path is a complete checkpoint written by write_tagged(tag). */
static bool holds_tag(const char *path, uint64_t tag) {
  rt_ckr r;
  if (rt_ckr_open(&r, path) < 0)
    return false;
  uint64_t t = 0, n = 0;
  bool ok = rt_ckr_u64(&r, &t) == 0 && t == tag && rt_ckr_u64(&r, &n) == 0;
  unsigned char block[4096];
  for (size_t done = 0; ok && done < n;) {
    size_t k = n - done < sizeof block ? n - done : sizeof block;
    ok = rt_ckr_bytes(&r, block, k) == 0;
    for (size_t i = 0; ok && i < k; i++)
      ok = block[i] == (unsigned char)(tag * 31 + i);
    done += k;
  }
  ok = ok && rt_ckr_end(&r) == 0;
  rt_ckr_close(&r);
  return ok;
}

static char *ckpt_path(int64_t index) {
  char name[RT_CKPT_NAME_SIZE];
  rt_ckpt_name(name, index);
  return path_of(name);
}

static int write_ckpt(int64_t index, uint64_t tag, size_t n) {
  char name[RT_CKPT_NAME_SIZE];
  rt_ckpt_name(name, index);
  rt_ckw w;
  return write_tagged(name, tag, n, &w);
}

/* ---- CRC-32C ---- */

static uint32_t crc_bitwise(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0x82F63B78u & -(c & 1));
  }
  return ~c;
}

START_TEST(test_crc_known_answers) {
  ck_assert_uint_eq(rt_crc32c(0, "123456789", 9), 0xE3069283u);
  ck_assert_uint_eq(rt_crc32c(0, "", 0), 0);
  ck_assert_uint_eq(rt_crc32c(0, "a", 1), 0xC1D04330u);
  /* RFC 3720 (iSCSI), appendix B.4. */
  unsigned char b[32];
  memset(b, 0, sizeof b);
  ck_assert_uint_eq(rt_crc32c(0, b, 32), 0x8A9136AAu);
  memset(b, 0xFF, sizeof b);
  ck_assert_uint_eq(rt_crc32c(0, b, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; i++)
    b[i] = (unsigned char)i;
  ck_assert_uint_eq(rt_crc32c(0, b, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; i++)
    b[i] = (unsigned char)(31 - i);
  ck_assert_uint_eq(rt_crc32c(0, b, 32), 0x113FDB5Cu);
}
END_TEST

START_TEST(test_crc_matches_reference) {
  enum { N = 1000 };
  unsigned char buf[N + 8];
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
  /* Every length and alignment, and every split point of the chaining. */
  /* rt_crc32c may use the CPU's crc32 instruction; the portable tables
   * must agree with it and with the bit-by-bit reference. */
  for (size_t off = 0; off < 8; off++)
    for (size_t n = 0; n <= 300; n++) {
      ck_assert_uint_eq(rt_crc32c(0, buf + off, n), crc_bitwise(buf + off, n));
      ck_assert_uint_eq(rt_crc32c_portable(0, buf + off, n), crc_bitwise(buf + off, n));
    }
  uint32_t whole = crc_bitwise(buf, N);
  for (size_t cut = 0; cut <= N; cut += 7) {
    ck_assert_uint_eq(rt_crc32c(rt_crc32c(0, buf, cut), buf + cut, N - cut), whole);
    ck_assert_uint_eq(rt_crc32c_portable(rt_crc32c_portable(0, buf, cut), buf + cut, N - cut), whole);
  }
}
END_TEST

/* ---- round trips ---- */

static const int64_t i64s[] = {0, 1, -1, 42, -42, INT64_MAX, INT64_MIN, 1700000000000};
static const uint64_t u64s[] = {0, 1, 0xFF, 0x0123456789ABCDEFull, UINT64_MAX};
static const uint32_t u32s[] = {0, 1, 0x80000000u, 0xDEADBEEFu, UINT32_MAX};

START_TEST(test_roundtrip_every_type) {
  make_tmpdir();
  double f64s[] = {0.0, -0.0, 1.5, -3.25e300, 5e-324, INFINITY, -INFINITY, NAN};
  static char big[200000]; /* larger than the writer's buffer */
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)(i * 7 + 3);
  const char nul[] = {'a', 0, 'b', 0};

  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "state"), 0);
  ck_assert(exists(".state.tmp"));
  ck_assert(!exists("state"));
  for (int v = 0; v < 256; v++)
    ck_assert_int_eq(rt_ckw_u8(&w, (uint8_t)v), 0);
  for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++)
    ck_assert_int_eq(rt_ckw_u32(&w, u32s[i]), 0);
  for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++)
    ck_assert_int_eq(rt_ckw_u64(&w, u64s[i]), 0);
  for (size_t i = 0; i < sizeof i64s / sizeof *i64s; i++)
    ck_assert_int_eq(rt_ckw_i64(&w, i64s[i]), 0);
  for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++)
    ck_assert_int_eq(rt_ckw_f64(&w, f64s[i]), 0);
  ck_assert_int_eq(rt_ckw_str(&w, (ds_str){NULL, 0}), 0);
  ck_assert_int_eq(rt_ckw_str(&w, S("hello, checkpoint")), 0);
  ck_assert_int_eq(rt_ckw_str(&w, (ds_str){nul, 4}), 0);
  ck_assert_int_eq(rt_ckw_str(&w, (ds_str){big, (int64_t)sizeof big}), 0);
  ck_assert_int_eq(rt_ckw_bytes(&w, NULL, 0), 0);
  /* Many small writes across buffer boundaries. */
  for (int i = 0; i < 30000; i++)
    ck_assert_int_eq(rt_ckw_u32(&w, (uint32_t)i * 2654435761u), 0);
  ck_assert_int_eq(rt_ckw_bytes(&w, big, 1000), 0);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  ck_assert(exists("state"));
  ck_assert(!exists(".state.tmp"));
  ck_assert_int_eq(count_entries(), 1);
  rt_ckw_abort(&w); /* harmless after commit */
  ck_assert(exists("state"));

  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("state")), 0);
  ck_assert_uint_eq(r.version, RT_CKPT_VERSION);
  for (int v = 0; v < 256; v++) {
    uint8_t b;
    ck_assert_int_eq(rt_ckr_u8(&r, &b), 0);
    ck_assert_int_eq(b, v);
  }
  for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++) {
    uint32_t v;
    ck_assert_int_eq(rt_ckr_u32(&r, &v), 0);
    ck_assert_uint_eq(v, u32s[i]);
  }
  for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++) {
    uint64_t v;
    ck_assert_int_eq(rt_ckr_u64(&r, &v), 0);
    ck_assert_uint_eq(v, u64s[i]);
  }
  for (size_t i = 0; i < sizeof i64s / sizeof *i64s; i++) {
    int64_t v;
    ck_assert_int_eq(rt_ckr_i64(&r, &v), 0);
    ck_assert_int_eq(v, i64s[i]);
  }
  for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++) {
    double v;
    ck_assert_int_eq(rt_ckr_f64(&r, &v), 0);
    ck_assert_int_eq(memcmp(&v, &f64s[i], sizeof v), 0); /* bit for bit: -0.0, NaN */
  }
  ds_str s;
  ck_assert_int_eq(rt_ckr_str(&r, &s), 0);
  ck_assert_int_eq(s.len, 0);
  ck_assert_int_eq(rt_ckr_str(&r, &s), 0);
  ck_assert_int_eq(s.len, 17);
  ck_assert_int_eq(memcmp(s.ptr, "hello, checkpoint", 17), 0);
  ck_assert_int_eq(rt_ckr_str(&r, &s), 0);
  ck_assert_int_eq(s.len, 4);
  ck_assert_int_eq(memcmp(s.ptr, nul, 4), 0);
  ck_assert_int_eq(rt_ckr_str(&r, &s), 0);
  ck_assert_int_eq(s.len, (int64_t)sizeof big);
  ck_assert_int_eq(memcmp(s.ptr, big, sizeof big), 0);
  ck_assert_int_eq(rt_ckr_bytes(&r, NULL, 0), 0);
  for (int i = 0; i < 30000; i++) {
    uint32_t v;
    ck_assert_int_eq(rt_ckr_u32(&r, &v), 0);
    ck_assert_uint_eq(v, (uint32_t)i * 2654435761u);
  }
  char back[1000];
  ck_assert_int_eq(rt_ckr_bytes(&r, back, sizeof back), 0);
  ck_assert_int_eq(memcmp(back, big, sizeof back), 0);
  ck_assert_int_eq(rt_ckr_end(&r), 0);
  /* Past the end: refused, *out untouched, and the error sticks. */
  uint8_t b = 7;
  ck_assert_int_eq(rt_ckr_u8(&r, &b), -EBADMSG);
  ck_assert_int_eq(b, 7);
  ck_assert_ptr_nonnull(strstr(r.msg, "ends early"));
  ck_assert_int_eq(rt_ckr_end(&r), -EBADMSG);
  rt_ckr_close(&r);
  rt_ckr_close(&r); /* harmless twice */
  remove_tmpdir();
}
END_TEST

START_TEST(test_roundtrip_empty_and_replace) {
  make_tmpdir();
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "e"), 0);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  size_t n;
  unsigned char *d = slurp(path_of("e"), &n);
  ck_assert_uint_eq(n, RT_CKPT_TRAILER);
  free(d);
  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("e")), 0);
  ck_assert_uint_eq(r.len, 0);
  ck_assert_int_eq(rt_ckr_end(&r), 0);
  uint32_t v;
  ck_assert_int_eq(rt_ckr_u32(&r, &v), -EBADMSG);
  rt_ckr_close(&r);
  /* Committing under an existing name replaces the file whole. */
  ck_assert_int_eq(write_tagged("e", 5, 10000, &w), 0);
  ck_assert(holds_tag(path_of("e"), 5));
  ck_assert_int_eq(count_entries(), 1);
  remove_tmpdir();
}
END_TEST

/* rt_ckr_version: a node section's content version, as every load reads it. */
START_TEST(test_content_version) {
  make_tmpdir();
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "v"), 0);
  rt_ckw_u32(&w, 2);
  rt_ckw_u8(&w, 7);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);

  rt_ckr r;
  uint8_t b = 0;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("v")), 0);
  ck_assert_ptr_null(rt_ckr_version(&r, 2, "window"));
  ck_assert_int_eq(rt_ckr_u8(&r, &b), 0); /* the content follows */
  ck_assert_int_eq(b, 7);
  rt_ckr_close(&r);

  ck_assert_int_eq(rt_ckr_open(&r, path_of("v")), 0);
  const char *why = rt_ckr_version(&r, 1, "window");
  ck_assert_ptr_nonnull(why);
  ck_assert_str_eq(why, "window: checkpoint content of version 2, this runtime reads 1");
  ck_assert_int_eq(r.err, 0);
  rt_ckr_close(&r);

  /* Past the end: no message, the reader's error says why. */
  ck_assert_int_eq(rt_ckr_open(&r, path_of("v")), 0);
  ck_assert_int_eq(rt_ckr_u32(&r, &(uint32_t){0}), 0);
  ck_assert_ptr_null(rt_ckr_version(&r, 2, "window"));
  ck_assert_int_eq(r.err, -EBADMSG);
  rt_ckr_close(&r);
}
END_TEST

START_TEST(test_bounds_checks) {
  make_tmpdir();
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "b"), 0);
  rt_ckw_u64(&w, UINT64_MAX); /* a string length far past the end */
  rt_ckw_u32(&w, 1);
  rt_ckw_u64(&w, 5);          /* a length just one too many */
  rt_ckw_bytes(&w, "abcd", 4);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);

  rt_ckr r;
  ck_assert_int_eq(rt_ckr_open(&r, path_of("b")), 0);
  ds_str s = {"x", 1};
  ck_assert_int_eq(rt_ckr_str(&r, &s), -EBADMSG);
  ck_assert_int_eq(s.len, 1);
  rt_ckr_close(&r);

  ck_assert_int_eq(rt_ckr_open(&r, path_of("b")), 0);
  uint64_t u;
  uint32_t one;
  ck_assert_int_eq(rt_ckr_u64(&r, &u), 0);
  ck_assert_int_eq(rt_ckr_u32(&r, &one), 0);
  ck_assert_int_eq(rt_ckr_end(&r), -EBADMSG); /* 12 bytes unread */
  rt_ckr_close(&r);

  ck_assert_int_eq(rt_ckr_open(&r, path_of("b")), 0);
  ck_assert_int_eq(rt_ckr_u64(&r, &u), 0);
  ck_assert_int_eq(rt_ckr_u32(&r, &one), 0);
  ck_assert_int_eq(rt_ckr_str(&r, &s), -EBADMSG);
  /* Sticky: even a read that would fit fails now. */
  uint8_t b;
  ck_assert_int_eq(rt_ckr_u8(&r, &b), -EBADMSG);
  rt_ckr_close(&r);
  remove_tmpdir();
}
END_TEST

/* ---- damage ---- */

/* A small checkpoint with a bit of every type; returns its bytes. */
static unsigned char *small_file(size_t *n) {
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "small"), 0);
  rt_ckw_u8(&w, 9);
  rt_ckw_u32(&w, 0xCAFEBABEu);
  rt_ckw_u64(&w, 123456789);
  rt_ckw_i64(&w, -5);
  rt_ckw_f64(&w, 2.5);
  rt_ckw_str(&w, S("key"));
  rt_ckw_bytes(&w, "\0\1\2", 3);
  ck_assert_int_eq(rt_ckw_commit(&w), 0);
  return slurp(path_of("small"), n);
}

static int open_bytes(const unsigned char *b, size_t n, rt_ckr *r) {
  spit(path_of("probe"), b, n);
  int rc = rt_ckr_open(r, path_of("probe"));
  if (rc == 0)
    rt_ckr_close(r);
  else
    ck_assert_ptr_null(r->data);
  return rc;
}

START_TEST(test_every_flip_detected) {
  make_tmpdir();
  size_t n;
  unsigned char *orig = small_file(&n);
  ck_assert_uint_eq(n, 1 + 4 + 8 + 8 + 8 + 8 + 3 + 3 + RT_CKPT_TRAILER);
  unsigned char *b = malloc(n);
  rt_ckr r;
  ck_assert_int_eq(open_bytes(orig, n, &r), 0);
  int flips = 0;
  for (size_t pos = 0; pos < n; pos++) {
    for (int bit = 0; bit <= 8; bit++) {
      memcpy(b, orig, n);
      b[pos] ^= bit < 8 ? (unsigned char)(1u << bit) : 0xFF;
      ck_assert_msg(open_bytes(b, n, &r) == -EBADMSG, "flip at %zu bit %d not detected", pos, bit);
      flips++;
    }
  }
  ck_assert_int_eq(flips, (int)n * 9);
  free(b);
  free(orig);
  remove_tmpdir();
}
END_TEST

START_TEST(test_every_truncation_detected) {
  make_tmpdir();
  size_t n;
  unsigned char *orig = small_file(&n);
  rt_ckr r;
  for (size_t len = 0; len < n; len++)
    ck_assert_msg(open_bytes(orig, len, &r) == -EBADMSG, "truncation to %zu not detected", len);
  /* Bytes appended after a complete file. */
  unsigned char *b = calloc(1, n + 64);
  memcpy(b, orig, n);
  for (size_t extra = 1; extra <= 64; extra++)
    ck_assert_msg(open_bytes(b, n + extra, &r) == -EBADMSG, "%zu appended bytes accepted", extra);
  /* The file twice in a row: the trailer at the end verifies only itself. */
  unsigned char *two = malloc(2 * n);
  memcpy(two, orig, n);
  memcpy(two + n, orig, n);
  ck_assert_int_eq(open_bytes(two, 2 * n, &r), -EBADMSG);
  free(two);
  free(b);
  free(orig);
  remove_tmpdir();
}
END_TEST

/* Appends a trailer with the given fields and a correct checksum. */
static size_t forge(unsigned char *b, size_t payload, uint64_t len, uint32_t flags,
                    uint32_t version) {
  unsigned char *t = b + payload;
  for (int i = 0; i < 8; i++)
    t[i] = (unsigned char)(len >> (8 * i));
  for (int i = 0; i < 4; i++) {
    t[8 + i] = (unsigned char)(flags >> (8 * i));
    t[12 + i] = (unsigned char)(version >> (8 * i));
  }
  memcpy(t + 16, "\x89" "DSCKPT\n", 8);
  uint32_t crc = rt_crc32c(0, b, payload + 24);
  for (int i = 0; i < 4; i++)
    t[24 + i] = (unsigned char)(crc >> (8 * i));
  return payload + RT_CKPT_TRAILER;
}

START_TEST(test_forged_and_garbage) {
  make_tmpdir();
  unsigned char b[4096];
  rt_ckr r;
  memset(b, 'x', 100);
  /* The forger agrees with the writer. */
  ck_assert_int_eq(open_bytes(b, forge(b, 100, 100, 0, 1), &r), 0);
  /* Sound checksums over inconsistent trailers. */
  ck_assert_int_eq(open_bytes(b, forge(b, 100, 99, 0, 1), &r), -EBADMSG);
  ck_assert_int_eq(open_bytes(b, forge(b, 100, UINT64_MAX, 0, 1), &r), -EBADMSG);
  ck_assert_int_eq(open_bytes(b, forge(b, 100, 100, 1, 1), &r), -EBADMSG);
  ck_assert_ptr_nonnull(strstr(r.msg, "inconsistent trailer"));
  /* A newer (or unknown) version: not damage, a different format. */
  ck_assert_int_eq(open_bytes(b, forge(b, 100, 100, 0, 2), &r), -ENOTSUP);
  ck_assert_ptr_nonnull(strstr(r.msg, "format version 2"));
  /* Fewer than 28 bytes that still end in version, magic and a sound CRC. */
  memcpy(b + 4, "\x01\0\0\0" "\x89" "DSCKPT\n", 12);
  uint32_t crc = rt_crc32c(0, b, 16);
  for (int i = 0; i < 4; i++)
    b[16 + i] = (unsigned char)(crc >> (8 * i));
  ck_assert_int_eq(open_bytes(b, 20, &r), -EBADMSG);
  /* Random garbage, some of it ending in the magic. */
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int round = 0; round < 2000; round++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t n = (size_t)(x % 300);
    for (size_t i = 0; i < n; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b[i] = (unsigned char)x;
    }
    if ((round & 1) && n >= 12)
      memcpy(b + n - 12, "\x89" "DSCKPT\n", 8);
    ck_assert_int_eq(open_bytes(b, n, &r), -EBADMSG);
  }
  /* Not a file at all. */
  ck_assert_int_eq(rt_ckr_open(&r, tmpdir), -EBADMSG);
  ck_assert_int_eq(rt_ckr_open(&r, path_of("missing")), -ENOENT);
  ck_assert_ptr_nonnull(strstr(r.msg, "missing"));
  rt_ckr_close(&r);
  remove_tmpdir();
}
END_TEST

/* ---- writer errors ---- */

START_TEST(test_writer_errors) {
  make_tmpdir();
  rt_ckw w;
  ck_assert_int_eq(rt_ckw_open(&w, path_of("nodir"), "x"), -ENOENT);
  ck_assert_ptr_nonnull(strstr(w.msg, "nodir"));
  ck_assert_ptr_nonnull(strstr(w.msg, strerror(ENOENT)));
  rt_ckw_abort(&w); /* harmless after a failed open */
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, ""), -EINVAL);
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, ".hidden"), -EINVAL);
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "a/b"), -EINVAL);
  char longname[300];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, longname), -EINVAL);
  ck_assert_int_eq(count_entries(), 0);

  /* Abort removes the temporary; the committed file is untouched. */
  ck_assert_int_eq(write_tagged("keep", 1, 100, &w), 0);
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "keep"), 0);
  rt_ckw_u64(&w, 2);
  ck_assert(exists(".keep.tmp"));
  rt_ckw_abort(&w);
  rt_ckw_abort(&w);
  ck_assert(!exists(".keep.tmp"));
  ck_assert(holds_tag(path_of("keep"), 1));
  ck_assert_int_eq(count_entries(), 1);

  /* A closed writer refuses work. */
  ck_assert_int_eq(rt_ckw_u64(&w, 1), -EBADF);
  ck_assert_int_eq(rt_ckw_commit(&w), -EBADF);
  ck_assert(holds_tag(path_of("keep"), 1));

  /* A negative string length is a caller's bug: the commit fails. */
  ck_assert_int_eq(rt_ckw_open(&w, tmpdir, "neg"), 0);
  ck_assert_int_eq(rt_ckw_str(&w, (ds_str){"x", -1}), -EINVAL);
  ck_assert_int_eq(rt_ckw_u8(&w, 1), -EINVAL);
  ck_assert_int_eq(rt_ckw_commit(&w), -EINVAL);
  ck_assert(!exists("neg"));
  ck_assert(!exists(".neg.tmp"));
  remove_tmpdir();
}
END_TEST

/* ---- crashes and full disks ---- */

/* In a child: writes a checkpoint of n bytes under name, flushes it, and
 * dies as from a crash before the rename. */
static void crash_while_writing(const char *name, uint64_t tag, size_t n) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    rt_ckw w;
    if (rt_ckw_open(&w, tmpdir, name) < 0)
      _exit(3);
    rt_ckw_u64(&w, tag);
    rt_ckw_u64(&w, n);
    for (size_t i = 0; i < n; i++)
      rt_ckw_u8(&w, (uint8_t)(tag * 31 + i % 4096));
    if (rt_ckw_flush(&w) < 0)
      _exit(4);
    raise(SIGKILL);
    _exit(5);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

START_TEST(test_crash_before_rename) {
  make_tmpdir();
  ck_assert_int_eq(write_ckpt(1, 11, 5000), 0);
  char name1[RT_CKPT_NAME_SIZE], name2[RT_CKPT_NAME_SIZE], tmp[64];
  rt_ckpt_name(name1, 1);
  rt_ckpt_name(name2, 2);
  /* A crash while replacing the same name, and while writing the next one. */
  crash_while_writing(name1, 12, 300000);
  crash_while_writing(name2, 13, 300000);
  ck_assert(holds_tag(ckpt_path(1), 11));
  ck_assert(!exists(name2));
  snprintf(tmp, sizeof tmp, ".%s.tmp", name1);
  ck_assert(exists(tmp));
  snprintf(tmp, sizeof tmp, ".%s.tmp", name2);
  ck_assert(exists(tmp));

  int64_t *v, n;
  ck_assert_int_eq(rt_ckpt_list(tmpdir, &v, &n), 0);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(v[0], 1);
  free(v);

  /* Things that are not this layer's temporaries stay. */
  spit(path_of(".hidden"), "h", 1);
  spit(path_of("data.tmp"), "d", 1);
  ck_assert_int_eq(mkdir(path_of(".dir.tmp"), 0700), 0);
  int64_t removed;
  ck_assert_int_eq(rt_ckpt_clean_temporaries(tmpdir, &removed), 0);
  ck_assert_int_eq(removed, 2);
  ck_assert(!exists(tmp));
  ck_assert(exists(".hidden") && exists("data.tmp") && exists(".dir.tmp"));
  ck_assert(holds_tag(ckpt_path(1), 11));
  ck_assert_int_eq(count_entries(), 4);
  ck_assert_int_eq(rt_ckpt_clean_temporaries(tmpdir, NULL), 0);
  ck_assert_int_eq(rt_ckpt_clean_temporaries(path_of("nodir"), NULL), -ENOENT);
  remove_tmpdir();
}
END_TEST

enum { FSIZE_LIMIT = 256 * 1024 };

/* In a child limited to FSIZE_LIMIT bytes per file, with SIGXFSZ ignored so
 * that write fails with EFBIG: a checkpoint of n bytes under `name`. Exit 0
 * when commit returned -EFBIG with a message that says so. */
static void commit_over_limit(const char *name, size_t n) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {FSIZE_LIMIT, FSIZE_LIMIT};
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
      _exit(3);
    rt_ckw w;
    int rc = write_tagged(name, 99, n, &w);
    if (rc != -EFBIG)
      _exit(4);
    if (!strstr(w.msg, strerror(EFBIG)) || !strstr(w.msg, name))
      _exit(5);
    _exit(0);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

START_TEST(test_full_disk) {
  make_tmpdir();
  ck_assert_int_eq(write_ckpt(1, 21, 100000), 0);
  char name1[RT_CKPT_NAME_SIZE], name2[RT_CKPT_NAME_SIZE];
  rt_ckpt_name(name1, 1);
  rt_ckpt_name(name2, 2);
  /* The next checkpoint, and a rewrite of the same one, both too large. */
  commit_over_limit(name2, 4 * FSIZE_LIMIT);
  commit_over_limit(name1, 4 * FSIZE_LIMIT);
  /* One byte of payload over the limit is enough to fail. */
  commit_over_limit(name2, FSIZE_LIMIT + 1);
  ck_assert(holds_tag(ckpt_path(1), 21));
  ck_assert(!exists(name2));
  ck_assert_int_eq(count_entries(), 1); /* no temporaries either */
  rt_ckr r;
  int64_t index;
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), 0);
  ck_assert_int_eq(index, 1);
  rt_ckr_close(&r);
  remove_tmpdir();
}
END_TEST

/* ---- the directory ---- */

START_TEST(test_names_and_list) {
  make_tmpdir();
  char name[RT_CKPT_NAME_SIZE];
  rt_ckpt_name(name, 42);
  ck_assert_str_eq(name, "ckpt-0000000000000000042");
  rt_ckpt_name(name, INT64_MAX);
  ck_assert_str_eq(name, "ckpt-9223372036854775807");

  int64_t *v, n;
  ck_assert_int_eq(rt_ckpt_list(tmpdir, &v, &n), 0);
  ck_assert_int_eq(n, 0);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(rt_ckpt_list(path_of("nodir"), &v, &n), -ENOENT);

  int64_t idx[] = {9, 100, 10, 0, 1234567890123};
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(write_ckpt(idx[i], (uint64_t)idx[i], 10), 0);
  /* Names that only look like checkpoints. */
  const char *others[] = {"ckpt-5", "ckpt-00000000000000000011", "ckpt-000000000000000001x",
                          "ckpt-9999999999999999999", ".ckpt-0000000000000000007.tmp",
                          "xckpt-0000000000000000007", "ckpt-0000000000000000007.old"};
  for (int i = 0; i < 7; i++)
    spit(path_of(others[i]), "o", 1);
  ck_assert_int_eq(rt_ckpt_list(tmpdir, &v, &n), 0);
  int64_t want[] = {1234567890123, 100, 10, 9, 0};
  ck_assert_int_eq(n, 5);
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(v[i], want[i]);
  free(v);
  remove_tmpdir();
}
END_TEST

START_TEST(test_prune_keeps_newest_two) {
  make_tmpdir();
  ck_assert_int_eq(rt_ckpt_prune(tmpdir, RT_CKPT_KEEP), 0); /* nothing to do */
  spit(path_of("notes"), "n", 1);
  spit(path_of("ckpt-3"), "n", 1);
  for (int64_t i = 1; i <= 5; i++) {
    ck_assert_int_eq(write_ckpt(i * 10, (uint64_t)i, 1000), 0);
    ck_assert_int_eq(rt_ckpt_prune(tmpdir, RT_CKPT_KEEP), 0);
    int64_t *v, n;
    ck_assert_int_eq(rt_ckpt_list(tmpdir, &v, &n), 0);
    ck_assert_int_eq(n, i < 2 ? i : 2);
    ck_assert_int_eq(v[0], i * 10);
    if (n == 2)
      ck_assert_int_eq(v[1], (i - 1) * 10);
    free(v);
  }
  ck_assert(holds_tag(ckpt_path(50), 5));
  ck_assert(holds_tag(ckpt_path(40), 4));
  ck_assert(exists("notes") && exists("ckpt-3"));
  ck_assert_int_eq(count_entries(), 4);
  ck_assert_int_eq(rt_ckpt_prune(tmpdir, 1), 0);
  ck_assert_int_eq(count_entries(), 3);
  ck_assert(holds_tag(ckpt_path(50), 5));
  ck_assert_int_eq(rt_ckpt_prune(tmpdir, 0), -EINVAL);
  ck_assert_int_eq(count_entries(), 3);
  remove_tmpdir();
}
END_TEST

static void damage(const char *path) {
  size_t n;
  unsigned char *b = slurp(path, &n);
  b[n / 2] ^= 0x10;
  spit(path, b, n);
  free(b);
}

START_TEST(test_open_latest) {
  make_tmpdir();
  rt_ckr r;
  int64_t index;
  ck_assert_int_eq(rt_ckpt_open_latest(path_of("nodir"), &r, &index), -ENOENT);
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), -ENOENT);
  ck_assert_int_eq(index, -1);

  ck_assert_int_eq(write_ckpt(1, 1, 100), 0);
  ck_assert_int_eq(write_ckpt(2, 2, 100), 0);
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), 0);
  ck_assert_int_eq(index, 2);
  uint64_t tag;
  ck_assert_int_eq(rt_ckr_u64(&r, &tag), 0);
  ck_assert_uint_eq(tag, 2);
  rt_ckr_close(&r);

  /* A damaged newest one: skipped (with a warning), then moved aside. */
  damage(ckpt_path(2));
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), 0);
  ck_assert_int_eq(index, 1);
  ck_assert_int_eq(rt_ckr_u64(&r, &tag), 0);
  ck_assert_uint_eq(tag, 1);
  rt_ckr_close(&r);
  ck_assert(exists(".ckpt-0000000000000000002.damaged"));
  int64_t *v, n;
  ck_assert_int_eq(rt_ckpt_list(tmpdir, &v, &n), 0);
  ck_assert_int_eq(n, 1);
  free(v);

  /* None usable: an error, never "start from empty". */
  damage(ckpt_path(1));
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), -EBADMSG);
  ck_assert_ptr_nonnull(strstr(r.msg, "no usable checkpoint"));
  ck_assert_ptr_nonnull(strstr(r.msg, "checksum mismatch"));
  ck_assert(exists("ckpt-0000000000000000001")); /* kept for inspection */
  rt_ckr_close(&r);

  /* A newer format is not damage: it stops the search. */
  ck_assert_int_eq(write_ckpt(3, 3, 100), 0);
  unsigned char b[200];
  memset(b, 0, 100);
  spit(ckpt_path(4), b, forge(b, 100, 100, 0, 7));
  ck_assert_int_eq(rt_ckpt_open_latest(tmpdir, &r, &index), -ENOTSUP);
  ck_assert(exists("ckpt-0000000000000000004"));
  ck_assert(exists("ckpt-0000000000000000003"));
  rt_ckr_close(&r);
  remove_tmpdir();
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_ckpt");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_crc_known_answers);
  tcase_add_test(tc, test_crc_matches_reference);
  tcase_add_test(tc, test_roundtrip_every_type);
  tcase_add_test(tc, test_roundtrip_empty_and_replace);
  tcase_add_test(tc, test_bounds_checks);
  tcase_add_test(tc, test_content_version);
  tcase_add_test(tc, test_every_flip_detected);
  tcase_add_test(tc, test_every_truncation_detected);
  tcase_add_test(tc, test_forged_and_garbage);
  tcase_add_test(tc, test_writer_errors);
  tcase_add_test(tc, test_crash_before_rename);
  tcase_add_test(tc, test_full_disk);
  tcase_add_test(tc, test_names_and_list);
  tcase_add_test(tc, test_prune_keeps_newest_two);
  tcase_add_test(tc, test_open_latest);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
