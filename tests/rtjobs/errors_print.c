/*
 * errors_print.c — record errors (§8):
 *
 *   let xs = batches(IN)
 *   xs.map(l => 100 / parseInt(l)!).print(100)
 *
 * Site 0 is the `!` (a line that is no int), site 1 the division. The stage
 * drops a failing record as generated code does: count it against its site
 * in ctx->site_errors and reset ctx->err. init also fails on purpose when
 * FAIL_INIT=1, as a top-level let that divides by zero would.
 */
#include "common.h"

static void stage_div(ds_ctx *ctx, const ds_part *in, void *sink) {
  ds_part *out = sink;
  const ds_str *e = (const ds_str *)in->data;
  for (int64_t i = 0; i < in->n; i++) {
    int64_t x, q;
    if (!ds_parse_int(e[i], &x)) {
      ctx->err = DS_ERR_UNWRAP_NONE;
      ctx->err_site = 0;
    } else if (!ds_div_i64(100, x, &q)) {
      ctx->err = DS_ERR_DIV_ZERO;
      ctx->err_site = 1;
    } else {
      *(int64_t *)ds_part_push(out, sizeof(int64_t)) = q;
      continue;
    }
    ctx->site_errors[ctx->err_site]++;
    ctx->err = DS_ERR_NONE;
  }
}

static ds_node nodes[] = {
    {.kind = DS_SOURCE_BATCHES, .plan_id = 1, .op = "batches", .loc = "errors_print.ds:1:10", .elem = &t_string},
    {.kind = DS_STAGE, .plan_id = 2, .op = "map", .loc = "errors_print.ds:2:4", .ninputs = 1, .inputs = {0},
     .elem = &t_int, .run = stage_div},
    {.kind = DS_PRINT, .plan_id = 3, .op = "print", .loc = "errors_print.ds:2:34", .ninputs = 1, .inputs = {1}},
};

static const char *const sites[] = {
    "errors_print.ds:2:30: '!' on none",
    "errors_print.ds:2:17: division by zero",
};

static bool init(ds_ctx *ctx, ds_node *n) {
  if (env_int("FAIL_INIT", 0) == 1) {
    ctx->err = DS_ERR_DIV_ZERO;
    ctx->err_site = 1;
    return false;
  }
  n[0].str_arg = env_str("IN");
  n[2].int_arg = 100;
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "errors_print.ds",
    .nodes = nodes,
    .nnodes = 3,
    .sites = sites,
    .nsites = 2,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
