/*
 * textfiles_print.c — `textFiles(DIR, newFilesOnly: NEW == 1).print(1000)`.
 */
#include "common.h"

static ds_node nodes[] = {
    {.kind = DS_SOURCE_TEXTFILES, .plan_id = 1, .op = "textFiles", .loc = "textfiles_print.ds:1:13", .elem = &t_string},
    {.kind = DS_PRINT, .plan_id = 2, .op = "print", .loc = "textfiles_print.ds:2:7", .ninputs = 1, .inputs = {0}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("DIR");
  n[0].flag = env_int("NEW", 0) == 1;
  n[1].int_arg = 1000;
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "textfiles_print.ds",
    .nodes = nodes,
    .nnodes = 2,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
