/*
 * socket_print.c — `socket(HOST, PORT).print(100000)`.
 */
#include "common.h"

static ds_node nodes[] = {
    {.kind = DS_SOURCE_SOCKET, .plan_id = 1, .op = "socket", .loc = "socket_print.ds:1:13", .elem = &t_string},
    {.kind = DS_PRINT, .plan_id = 2, .op = "print", .loc = "socket_print.ds:2:7", .ninputs = 1, .inputs = {0}},
};

static bool init(ds_ctx *ctx, ds_node *n) {
  n[0].str_arg = env_str("HOST");
  n[0].int_arg = env_int("PORT", 0);
  n[1].int_arg = 100000;
  return true;
}

static ds_job job = {
    .abi_version = DS_ABI_VERSION,
    .program = "socket_print.ds",
    .nodes = nodes,
    .nnodes = 2,
    .init = init,
};

int main(int argc, char **argv) { return ds_main(argc, argv, &job); }
