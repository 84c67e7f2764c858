/*
 * batches_print.c — `batches(IN).print(N)`, with `set partitions = 2` in
 * the program (so --set partitions=... tests the override order).
 */
#include "common.h"

static ds_node nodes[] = {
    {.kind = DS_SOURCE_BATCHES, .plan_id = 1, .op = "batches", .loc = "batches_print.ds:1:13", .elem = &t_string},
    {.kind = DS_PRINT, .plan_id = 2, .op = "print", .loc = "batches_print.ds:2:7", .ninputs = 1, .inputs = {0}},
};

static const char *const settings[] = {"partitions=2"};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("IN");
  n[1].int_arg = env_int("N", 0);
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "batches_print.ds",
    .nodes = nodes,
    .nnodes = 2,
    .settings = settings,
    .nsettings = 1,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
