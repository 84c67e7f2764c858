/*
 * check_rt_settings.c — the job settings of §9 (runtime/settings.c).
 *
 * Defaults (cores, 10 x batch, wal following checkpoint), the value syntax
 * of `.ds` literals for each type, the range checks dsc also makes (with
 * its wording), unknown names, and the order rule: a later assignment
 * overrides an earlier one, and explicit values stop following defaults.
 */
#include "rt.h"

#include <check.h>
#include <string.h>
#include <unistd.h>

static rt_settings s;

static void setup(void) { rt_settings_defaults(&s); }
static void teardown(void) { rt_settings_free(&s); }

START_TEST(defaults) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  ck_assert_int_eq(s.batch_ms, 1000);
  ck_assert_int_eq(s.partitions, cpus);
  ck_assert_int_eq(s.threads, cpus);
  ck_assert_ptr_null(s.checkpoint);
  ck_assert_int_eq(s.checkpoint_interval_ms, 10000);
  ck_assert(!s.wal);
  ck_assert_int_eq(s.max_records_per_batch, 1000000);
  ck_assert_int_eq(s.max_rate, 0);
  ck_assert_int_eq(s.max_line_bytes, 1048576);
  ck_assert(!s.on_error_fail);
  ck_assert_ptr_null(s.hdfs_user);
  ck_assert_int_eq(s.retries, 10);
  ck_assert_ptr_null(rt_settings_check(&s));
}
END_TEST

START_TEST(durations) {
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=500ms"));
  ck_assert_int_eq(s.batch_ms, 500);
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=2s"));
  ck_assert_int_eq(s.batch_ms, 2000);
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=5m"));
  ck_assert_int_eq(s.batch_ms, 300000);
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=2h"));
  ck_assert_int_eq(s.batch_ms, 7200000);
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=1_500ms"));
  ck_assert_int_eq(s.batch_ms, 1500);
  const char *bad[] = {"batch=5", "batch=5d", "batch=s", "batch=", "batch=1.5s", "batch=0x10s",
                       "batch=1__0ms", "batch=_1s", "batch=1_s", "batch= 1s"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_str_eq(rt_settings_apply(&s, bad[i]), "setting 'batch' takes a duration such as 500ms");
  ck_assert_str_eq(rt_settings_apply(&s, "batch=0ms"), "setting 'batch' must be a positive duration");
  ck_assert_str_eq(rt_settings_apply(&s, "batch=-1s"), "setting 'batch' must be a positive duration");
  ck_assert_str_eq(rt_settings_apply(&s, "batch=99999999999999999999ms"),
                   "setting 'batch' takes a duration such as 500ms");
  ck_assert_int_eq(s.batch_ms, 1500); /* unchanged by the failures */
}
END_TEST

START_TEST(ints) {
  ck_assert_ptr_null(rt_settings_apply(&s, "maxRecordsPerBatch=1_000"));
  ck_assert_int_eq(s.max_records_per_batch, 1000);
  ck_assert_ptr_null(rt_settings_apply(&s, "partitions=0x10"));
  ck_assert_int_eq(s.partitions, 16);
  ck_assert_ptr_null(rt_settings_apply(&s, "threads=3"));
  ck_assert_int_eq(s.threads, 3);
  ck_assert_ptr_null(rt_settings_apply(&s, "maxRate=0"));
  ck_assert_ptr_null(rt_settings_apply(&s, "retries=0"));
  ck_assert_ptr_null(rt_settings_apply(&s, "maxLineBytes=65536"));
  ck_assert_int_eq(s.max_line_bytes, 65536);
  ck_assert_str_eq(rt_settings_apply(&s, "partitions=0"), "setting 'partitions' must be at least 1");
  ck_assert_str_eq(rt_settings_apply(&s, "threads=-2"), "setting 'threads' must be at least 1");
  ck_assert_str_eq(rt_settings_apply(&s, "maxRate=-1"), "setting 'maxRate' must not be negative");
  ck_assert_str_eq(rt_settings_apply(&s, "retries=-1"), "setting 'retries' must not be negative");
  ck_assert_str_eq(rt_settings_apply(&s, "partitions=4s"), "setting 'partitions' takes an int such as 4");
  ck_assert_str_eq(rt_settings_apply(&s, "partitions=four"), "setting 'partitions' takes an int such as 4");
  ck_assert_str_eq(rt_settings_apply(&s, "maxRate=9223372036854775808"),
                   "setting 'maxRate' takes an int such as 4");
  ck_assert_ptr_null(rt_settings_apply(&s, "maxRate=9223372036854775807"));
  ck_assert_int_eq(s.max_rate, INT64_MAX);
}
END_TEST

START_TEST(bools_and_strings) {
  ck_assert_ptr_null(rt_settings_apply(&s, "onError=fail"));
  ck_assert(s.on_error_fail);
  ck_assert_ptr_null(rt_settings_apply(&s, "onError=\"skip\""));
  ck_assert(!s.on_error_fail);
  ck_assert_str_eq(rt_settings_apply(&s, "onError=stop"), "setting 'onError' must be \"skip\" or \"fail\"");
  ck_assert_ptr_null(rt_settings_apply(&s, "hdfsUser=\"ha\\x64oop\\u{e9}\""));
  ck_assert_str_eq(s.hdfs_user, "hadoop\xc3\xa9");
  ck_assert_ptr_null(rt_settings_apply(&s, "hdfsUser=raw value=with equals"));
  ck_assert_str_eq(s.hdfs_user, "raw value=with equals");
  ck_assert_str_eq(rt_settings_apply(&s, "hdfsUser=\"unterminated"), "setting 'hdfsUser' takes a string");
  ck_assert_str_eq(rt_settings_apply(&s, "hdfsUser=\"bad\\q\""), "setting 'hdfsUser' takes a string");
  ck_assert_str_eq(rt_settings_apply(&s, "hdfsUser=\"\""), "setting 'hdfsUser' must not be empty");
  ck_assert_str_eq(rt_settings_apply(&s, "checkpoint="), "setting 'checkpoint' must not be empty");
  ck_assert_ptr_null(rt_settings_apply(&s, "wal=true"));
  ck_assert(s.wal);
  ck_assert_ptr_null(rt_settings_apply(&s, "wal=false"));
  ck_assert(!s.wal);
  ck_assert_str_eq(rt_settings_apply(&s, "wal=yes"), "setting 'wal' takes a bool (true or false)");
  ck_assert_str_eq(rt_settings_apply(&s, "wal=1"), "setting 'wal' takes a bool (true or false)");
}
END_TEST

START_TEST(names) {
  ck_assert_str_eq(rt_settings_apply(&s, "Batch=1s"), "unknown setting 'Batch'");
  ck_assert_str_eq(rt_settings_apply(&s, "batchInterval=1s"), "unknown setting 'batchInterval'");
  ck_assert_str_eq(rt_settings_apply(&s, "batch"), "bad setting 'batch': expected NAME=VALUE");
  ck_assert_str_eq(rt_settings_apply(&s, "=1s"), "bad setting '=1s': expected NAME=VALUE");
}
END_TEST

START_TEST(dependent_defaults) {
  /* checkpointInterval follows batch until it is given. */
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=2s"));
  ck_assert_int_eq(s.checkpoint_interval_ms, 20000);
  ck_assert_ptr_null(rt_settings_apply(&s, "checkpointInterval=4s"));
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=1s"));
  ck_assert_int_eq(s.checkpoint_interval_ms, 4000);
  ck_assert_ptr_null(rt_settings_check(&s));
  ck_assert_ptr_null(rt_settings_apply(&s, "batch=3s"));
  ck_assert_str_eq(rt_settings_check(&s),
                   "checkpointInterval 4000ms is not a multiple of the batch interval 3000ms");
  /* wal follows checkpoint until it is given. */
  ck_assert_ptr_null(rt_settings_apply(&s, "checkpoint=/tmp/ck"));
  ck_assert_str_eq(s.checkpoint, "/tmp/ck");
  ck_assert(s.wal);
  ck_assert_ptr_null(rt_settings_apply(&s, "checkpoint=\"/tmp/ck2\""));
  ck_assert_str_eq(s.checkpoint, "/tmp/ck2");
}
END_TEST

START_TEST(wal_given_first) {
  ck_assert_ptr_null(rt_settings_apply(&s, "wal=false"));
  ck_assert_ptr_null(rt_settings_apply(&s, "checkpoint=/tmp/ck"));
  ck_assert(!s.wal);
}
END_TEST

static Suite *suite(void) {
  Suite *su = suite_create("rt_settings");
  TCase *tc = tcase_create("settings");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, durations);
  tcase_add_test(tc, ints);
  tcase_add_test(tc, bools_and_strings);
  tcase_add_test(tc, names);
  tcase_add_test(tc, dependent_defaults);
  tcase_add_test(tc, wal_given_first);
  suite_add_tcase(su, tc);
  return su;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
