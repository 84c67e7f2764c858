/*
 * union_window.c — two bounded sources, a union and a window:
 *
 *   let a = batches(IN)
 *   let b = batches(IN2)
 *   a.union(b).window(4s, 2s).print(100)
 *
 * with the default batch of 1s: checks the union's order and the driver's
 * stop rule for a bounded job with windows (it runs empty batches until the
 * last window that holds data).
 */
#include "common.h"

static ds_node nodes[] = {
    {.kind = DS_SOURCE_BATCHES, .plan_id = 1, .op = "batches", .loc = "union_window.ds:1:9", .elem = &t_string},
    {.kind = DS_SOURCE_BATCHES, .plan_id = 2, .op = "batches", .loc = "union_window.ds:2:9", .elem = &t_string},
    {.kind = DS_UNION, .plan_id = 3, .op = "union", .loc = "union_window.ds:3:3", .ninputs = 2, .inputs = {0, 1},
     .elem = &t_string},
    {.kind = DS_WINDOW, .plan_id = 4, .op = "window", .loc = "union_window.ds:3:12", .ninputs = 1, .inputs = {2},
     .elem = &t_string, .window_ms = 4000, .slide_ms = 2000},
    {.kind = DS_PRINT, .plan_id = 5, .op = "print", .loc = "union_window.ds:3:27", .ninputs = 1, .inputs = {3}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("IN");
  n[1].str_arg = env_str("IN2");
  n[4].int_arg = 100;
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "union_window.ds",
    .nodes = nodes,
    .nnodes = 5,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
