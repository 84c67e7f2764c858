/*
 * check_rt_pool.c — the worker pool (runtime/pool.c).
 *
 * Every task index runs exactly once per section, with a ds_ctx whose arena
 * belongs to the worker running it and whose batch_time is the job's; record
 * errors counted in the ctxs reach rj->site_errors after the section; many
 * short sections in a row (the generation handshake), fewer tasks than
 * threads, n = 0, a pool of one thread (inline), arenas reset at the end of
 * the batch. Run it under ThreadSanitizer too (see the report in the
 * commit): the tasks write only to their own index.
 */
#include "rt.h"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { NTASKS = 1000 };

typedef struct {
  int runs[NTASKS];
  ds_arena *arena[NTASKS];
  int64_t batch_time[NTASKS];
  void *mem[NTASKS];
} record;

static void record_task(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  record *r = arg;
  r->runs[i]++;
  r->arena[i] = ctx->arena;
  r->batch_time[i] = ctx->batch_time;
  ck_assert_int_eq(ctx->err, DS_ERR_NONE);
  r->mem[i] = ds_arena_alloc(ctx->arena, 100);
  memset(r->mem[i], i & 0xff, 100);
}

static void check_pool(int threads, int n) {
  rt_job rj = {0};
  rj.pool = rt_pool_new(threads, 0);
  rj.batch_time = 12345;
  ck_assert_int_eq(rt_pool_threads(rj.pool), threads < 1 ? 1 : threads);
  record *r = calloc(1, sizeof *r);
  for (int round = 0; round < 3; round++) {
    memset(r->runs, 0, sizeof r->runs);
    rt_parallel(&rj, n, record_task, r);
    for (int i = 0; i < n; i++) {
      ck_assert_int_eq(r->runs[i], 1);
      ck_assert_int_eq(r->batch_time[i], 12345);
      /* The memory each task got is its own until the arenas reset. */
      for (int k = 0; k < 100; k++)
        ck_assert_int_eq(((unsigned char *)r->mem[i])[k], i & 0xff);
    }
    for (int i = n; i < NTASKS; i++)
      ck_assert_int_eq(r->runs[i], 0);
    rt_pool_reset_arenas(rj.pool);
  }
  /* At most `threads` distinct arenas were used. */
  int distinct = 0;
  ds_arena *seen[64];
  for (int i = 0; i < n; i++) {
    bool found = false;
    for (int k = 0; k < distinct; k++)
      found = found || seen[k] == r->arena[i];
    if (!found && distinct < 64)
      seen[distinct++] = r->arena[i];
  }
  ck_assert_int_le(distinct, threads < 1 ? 1 : threads);
  free(r);
  rt_pool_free(rj.pool);
}

START_TEST(pool_one_thread) { check_pool(1, NTASKS); }
END_TEST
START_TEST(pool_zero_threads_means_one) { check_pool(0, 10); }
END_TEST
START_TEST(pool_four_threads) { check_pool(4, NTASKS); }
END_TEST
START_TEST(pool_fewer_tasks_than_threads) { check_pool(8, 3); }
END_TEST
START_TEST(pool_single_task) { check_pool(4, 1); }
END_TEST

static void never(rt_job *rj, int i, void *arg, ds_ctx *ctx) { ck_abort_msg("ran a task of 0"); }

START_TEST(pool_no_tasks) {
  rt_job rj = {0};
  rj.pool = rt_pool_new(3, 0);
  rt_parallel(&rj, 0, never, NULL);
  rt_pool_free(rj.pool);
}
END_TEST

static void add_one(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  atomic_fetch_add((atomic_long *)arg, i + 1);
}

START_TEST(pool_many_sections) {
  rt_job rj = {0};
  rj.pool = rt_pool_new(4, 0);
  atomic_long total = 0;
  long expect = 0;
  for (int round = 0; round < 20000; round++) {
    int n = round % 7;
    rt_parallel(&rj, n, add_one, &total);
    expect += (long)n * (n + 1) / 2;
  }
  ck_assert_int_eq(atomic_load(&total), expect);
  rt_pool_free(rj.pool);
}
END_TEST

/* Task i fails i % 3 times at site i % 5, as generated code would count. */
static void failing(rt_job *rj, int i, void *arg, ds_ctx *ctx) {
  for (int k = 0; k < i % 3; k++) {
    ctx->err = DS_ERR_DIV_ZERO;
    ctx->err_site = i % 5;
    ck_assert(rt_ctx_dropped(ctx));
  }
  ck_assert(!rt_ctx_dropped(ctx));
}

START_TEST(pool_merges_site_errors) {
  for (int threads = 1; threads <= 4; threads += 3) {
    rt_job rj = {0};
    int64_t errors[5] = {0};
    rj.site_errors = errors;
    rj.pool = rt_pool_new(threads, 5);
    rt_parallel(&rj, 100, failing, NULL);
    int64_t expect[5] = {0};
    for (int i = 0; i < 100; i++)
      expect[i % 5] += i % 3;
    for (int s = 0; s < 5; s++)
      ck_assert_int_eq(errors[s], expect[s]);
    /* The workers' counters were zeroed: a second section adds as much again. */
    rt_parallel(&rj, 100, failing, NULL);
    for (int s = 0; s < 5; s++)
      ck_assert_int_eq(errors[s], 2 * expect[s]);
    rt_pool_free(rj.pool);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("rt_pool");
  TCase *tc = tcase_create("pool");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, pool_one_thread);
  tcase_add_test(tc, pool_zero_threads_means_one);
  tcase_add_test(tc, pool_four_threads);
  tcase_add_test(tc, pool_fewer_tasks_than_threads);
  tcase_add_test(tc, pool_single_task);
  tcase_add_test(tc, pool_no_tasks);
  tcase_add_test(tc, pool_many_sections);
  tcase_add_test(tc, pool_merges_site_errors);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
