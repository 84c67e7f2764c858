/*
 * batches_save.c — `batches(IN).map(l => "<" + l + ">")
 *   .saveAsTextFiles(PREFIX, SUFFIX, skipEmpty: SKIP == 1)`; SUFFIX empty
 * means no suffix. The map is a fused DS_STAGE that allocates its strings
 * in the task's arena, as generated code does.
 */
#include "common.h"

static void stage_wrap(ds_ctx *ctx, const ds_part *in, void *sink) {
  ds_part *out = sink;
  const ds_str *e = (const ds_str *)in->data;
  for (int64_t i = 0; i < in->n; i++) {
    char *p = ds_arena_alloc(ctx->arena, (size_t)e[i].len + 2);
    p[0] = '<';
    if (e[i].len)
      memcpy(p + 1, e[i].ptr, (size_t)e[i].len);
    p[e[i].len + 1] = '>';
    ds_str *o = ds_part_push(out, sizeof(ds_str));
    o->ptr = p;
    o->len = e[i].len + 2;
  }
}

static ds_node nodes[] = {
    {.kind = DS_SOURCE_BATCHES, .plan_id = 1, .op = "batches", .loc = "batches_save.ds:1:13", .elem = &t_string},
    {.kind = DS_STAGE, .plan_id = 2, .op = "map", .loc = "batches_save.ds:2:4", .ninputs = 1, .inputs = {0},
     .elem = &t_string, .run = stage_wrap},
    {.kind = DS_SAVE_TEXT, .plan_id = 3, .op = "saveAsTextFiles", .loc = "batches_save.ds:3:4", .ninputs = 1,
     .inputs = {1}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("IN");
  n[2].str_arg = env_str("PREFIX");
  n[2].str_arg2 = env_str("SUFFIX");
  n[2].flag = env_int("SKIP", 0) == 1;
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "batches_save.ds",
    .nodes = nodes,
    .nnodes = 3,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
