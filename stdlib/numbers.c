/*
 * numbers.c — the numeric builtins that are not a single LLVM instruction.
 *
 * Integer division and remainder report division by zero to the caller,
 * which turns it into a record error (LANGUAGE.md §8); INT64_MIN / -1 wraps
 * to INT64_MIN and INT64_MIN % -1 is 0, in line with `+ - *` wrapping (§4),
 * instead of trapping as the machine instruction would. The float functions
 * wrap libm; built with -fno-math-errno, floor/ceil/sqrt become single
 * instructions once inlined.
 */
#include "ds_rt.h"

#include <math.h>

bool ds_div_i64(int64_t x, int64_t y, int64_t *out) {
  if (y == 0)
    return false;
  *out = y == -1 ? (int64_t)(0 - (uint64_t)x) : x / y;
  return true;
}

bool ds_mod_i64(int64_t x, int64_t y, int64_t *out) {
  if (y == 0)
    return false;
  *out = y == -1 ? 0 : x % y;
  return true;
}

int64_t ds_abs_i64(int64_t x) {
  return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
}

double ds_fmod(double x, double y) {
  return fmod(x, y);
}

double ds_pow(double x, double y) {
  return pow(x, y);
}

double ds_floor(double x) {
  return floor(x);
}

double ds_ceil(double x) {
  return ceil(x);
}

double ds_sqrt(double x) {
  return sqrt(x);
}
