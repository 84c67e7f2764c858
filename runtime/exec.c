/*
 * exec.c — which executor runs each kind of node.
 *
 * The driver knows nodes only by their ds_node_kind; this table maps every
 * kind to the rt_exec that implements it. Both stage kinds share one
 * executor, which looks at the node's kind to choose its sink. Every kind
 * below DS_NODE_KIND_COUNT has an entry.
 */
#include "rt.h"

static const rt_exec *const table[DS_NODE_KIND_COUNT] = {
    [DS_SOURCE_SOCKET] = &rt_exec_source_socket,
    [DS_SOURCE_TEXTFILES] = &rt_exec_source_textfiles,
    [DS_SOURCE_TEXTFILE] = &rt_exec_source_textfile,
    [DS_SOURCE_BATCHES] = &rt_exec_source_batches,
    [DS_STAGE] = &rt_exec_stage,
    [DS_STAGE_COMBINE] = &rt_exec_stage,
    [DS_UNION] = &rt_exec_union,
    [DS_COUNT] = &rt_exec_count,
    [DS_REDUCE] = &rt_exec_reduce,
    [DS_REDUCE_BY_KEY] = &rt_exec_reduce_by_key,
    [DS_WINDOW] = &rt_exec_window,
    [DS_REDUCE_BY_WINDOW] = &rt_exec_reduce_by_window,
    [DS_REDUCE_BY_KEY_AND_WINDOW] = &rt_exec_reduce_by_key_and_window,
    [DS_PRINT] = &rt_exec_print,
    [DS_SAVE_TEXT] = &rt_exec_save_text,
    [DS_UPDATE_STATE_BY_KEY] = &rt_exec_update_state_by_key,
    [DS_MAP_WITH_STATE] = &rt_exec_map_with_state,
    [DS_STATE_SNAPSHOTS] = &rt_exec_state_snapshots,
    [DS_GROUP_BY_KEY] = &rt_exec_group_by_key,
    [DS_JOIN] = &rt_exec_join,
    [DS_LEFT_OUTER_JOIN] = &rt_exec_join,
    [DS_RIGHT_OUTER_JOIN] = &rt_exec_join,
    [DS_FULL_OUTER_JOIN] = &rt_exec_join,
    [DS_COGROUP] = &rt_exec_join,
    [DS_DISTINCT] = &rt_exec_distinct,
    [DS_REPARTITION] = &rt_exec_repartition,
    [DS_SORT_BY] = &rt_exec_sort_by,
    [DS_TOP] = &rt_exec_top,
};

const rt_exec *rt_exec_for(ds_node_kind k) {
  if ((unsigned)k >= DS_NODE_KIND_COUNT)
    return NULL;
  return table[k];
}
