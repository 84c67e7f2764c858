/*
 * sink_print.c — the executor of `s.print()` and `s.print(n)` (§10).
 *
 * Each batch it writes, on rj->out, the header of Spark Streaming's print
 * (a line of 43 dashes, `Time: <ms> ms`, the dashes again), the first n
 * elements of the batch (partitions in order), `...` when the batch had
 * more, and an empty line; then it flushes, so a reader of the pipe sees
 * each batch whole. Elements are formatted by the input's ds_type into one
 * buffer the executor keeps, so printing allocates nothing per batch.
 * records_out counts every element of the batch.
 */
#include "rt.h"

#include <inttypes.h>
#include <stdlib.h>

static const char dashes[] = "-------------------------------------------";

typedef struct print_state {
  ds_strbuf buf;
} print_state;

static const char *print_init(rt_job *rj, int node) {
  const ds_node *n = &rj->job->nodes[node];
  if (n->ninputs != 1 || !rj->job->nodes[n->inputs[0]].elem ||
      !rj->job->nodes[n->inputs[0]].elem->format)
    return "print needs one input whose type can be formatted";
  if (n->int_arg < 0)
    return "print(n) needs n >= 0";
  print_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  rj->state[node] = st;
  return NULL;
}

static void print_run(rt_job *rj, int node, const rt_batch *b) {
  const ds_node *n = &rj->job->nodes[node];
  print_state *st = rj->state[node];
  const ds_type *t = rj->job->nodes[n->inputs[0]].elem;
  const rt_stream *in = &rj->streams[n->inputs[0]];
  int64_t limit = n->int_arg > 0 ? n->int_arg : 10, shown = 0, total = rt_stream_count(in);
  FILE *out = rj->out;

  if (rt_journal_printed(rj, b->index)) {
    /* Re-run after a restart, and printed before it (the journal says so). */
    rj->records_out += total;
    return;
  }
  fprintf(out, "%s\nTime: %" PRId64 " ms\n%s\n", dashes, b->time, dashes);
  st->buf.len = 0;
  for (int32_t p = 0; p < in->nparts && shown < limit; p++) {
    const ds_part *part = &in->parts[p];
    for (int64_t i = 0; i < part->n && shown < limit; i++, shown++) {
      t->format(part->data + i * t->size, &st->buf);
      ds_strbuf_put(&st->buf, "\n", 1);
    }
  }
  if (st->buf.len)
    fwrite(st->buf.ptr, 1, (size_t)st->buf.len, out);
  if (total > shown)
    fputs("...\n", out);
  fputs("\n", out);
  fflush(out);
  rj->records_out += total;
}

static void print_free(rt_job *rj, int node) {
  print_state *st = rj->state[node];
  if (!st)
    return;
  ds_strbuf_free(&st->buf);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_print = {.init = print_init, .run = print_run, .free = print_free};
