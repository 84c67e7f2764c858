/*
 * textfile_save.c — `textFile(IN).saveAsTextFiles(PREFIX)`: the benchmark
 * path of a bounded file, straight to part files.
 */
#include "common.h"

static ds_node nodes[] = {
    {.kind = DS_SOURCE_TEXTFILE, .plan_id = 1, .op = "textFile", .loc = "textfile_save.ds:1:13", .elem = &t_string},
    {.kind = DS_SAVE_TEXT, .plan_id = 2, .op = "saveAsTextFiles", .loc = "textfile_save.ds:2:7", .ninputs = 1,
     .inputs = {0}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("IN");
  n[1].str_arg = env_str("PREFIX");
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "textfile_save.ds",
    .nodes = nodes,
    .nnodes = 2,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
