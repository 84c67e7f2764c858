/*
 * textfile_count.c — `textFile(IN).filter(l => len(l) > 0).count().print()`:
 * a scan of a large file for timing (the filter is a DS_STAGE; count is the
 * keyed helper's executor).
 */
#include "common.h"

static void stage_nonempty(ds_ctx *ctx, const ds_part *in, void *sink) {
  ds_part *out = sink;
  const ds_str *e = (const ds_str *)in->data;
  for (int64_t i = 0; i < in->n; i++)
    if (e[i].len > 0)
      *(ds_str *)ds_part_push(out, sizeof(ds_str)) = e[i];
}

static ds_node nodes[] = {
    {.kind = DS_SOURCE_TEXTFILE, .plan_id = 1, .op = "textFile", .loc = "textfile_count.ds:1:13", .elem = &t_string},
    {.kind = DS_STAGE, .plan_id = 2, .op = "filter", .loc = "textfile_count.ds:2:4", .ninputs = 1, .inputs = {0},
     .elem = &t_string, .run = stage_nonempty},
    {.kind = DS_COUNT, .plan_id = 3, .op = "count", .loc = "textfile_count.ds:3:4", .ninputs = 1, .inputs = {1},
     .elem = &t_int},
    {.kind = DS_PRINT, .plan_id = 4, .op = "print", .loc = "textfile_count.ds:4:4", .ninputs = 1, .inputs = {2}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("IN");
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "textfile_count.ds",
    .nodes = nodes,
    .nnodes = 4,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
