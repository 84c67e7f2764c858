/*
 * period.c — how often each node of the job has a batch.
 *
 * Sources have a batch every batch interval. A window operator has one at
 * each of its slide times, so its period is its slide (slide_ms, or when
 * that is 0 the period of the stream it reads, as `window(w)` slides by one
 * of the input's batches). Every other node has a batch whenever its first
 * input has one (the compiler checks that two-input operators read streams
 * of the same period). The answer depends only on the job graph and the
 * batch setting, so it is computed by walking up the inputs.
 */
#include "rt.h"

static bool is_window_kind(ds_node_kind k) {
  return k == DS_WINDOW || k == DS_REDUCE_BY_WINDOW || k == DS_REDUCE_BY_KEY_AND_WINDOW;
}

int64_t rt_period_ms(const rt_job *rj, int node) {
  for (;;) {
    const ds_node *n = &rj->job->nodes[node];
    if (is_window_kind(n->kind) && n->slide_ms > 0)
      return n->slide_ms;
    if (n->ninputs == 0)
      return rj->settings.batch_ms;
    node = n->inputs[0];
  }
}
