/*
 * fuzz_front.c — libFuzzer target for the whole front end: every input
 * goes through the lexer, parser, checker and planner, as `dsc plan` would
 * run them. Built with -DDSC_FUZZ=ON (clang-19) together with
 * -DDSC_SANITIZE=ON, so a crash, a sanitizer report, a leak or a hang
 * (libFuzzer's -timeout) is a finding. scripts/fuzz.sh runs it seeded from
 * the golden tests.
 */
#include "dsc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *devnull;
  if (!devnull)
    devnull = fopen("/dev/null", "w");
  Arena arena = {0};
  Source src = {.path = "fuzz.ds", .text = arena_strndup(&arena, (const char *)data, size),
                .len = size};
  Diags diags = {.src = &src, .out = devnull};
  Program *prog = parse_program(&arena, &src, &diags);
  if (!diags.errors) {
    Settings settings;
    memset(&settings, 0, sizeof settings);
    check_program(&arena, prog, &settings, &diags);
    if (!diags.errors) {
      Plan *plan = plan_build(&arena, prog, &settings, &diags);
      if (!diags.errors)
        plan_print(devnull, plan, &src);
    }
  }
  arena_free(&arena);
  return 0;
}
