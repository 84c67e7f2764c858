/* (d) slide_url: requests per URL over 5-minute windows sliding by 1 minute,
   by the log's own timestamp: the window starting at minute k holds minutes
   k .. k+4, and every window that holds a line is written. Panes: one count
   array per minute for the last five minutes plus a running per-URL sum over
   them; when minute m is complete the window starting at m-4 is written and
   pane m-4 leaves the sum. Same ordering rule as tumble_url.
   Output: "window_start_ms<TAB>url<TAB>count". */
#include "base.h"

#define PANES 5

static Table urls;
static uint64_t *pane[PANES], *sum;
static size_t cap;

/* Minute m is complete: write the window [m-4, m] and drop pane m-4. */
static void close_minute(int64_t m) {
  int64_t first = m - (PANES - 1);
  uint64_t *old = pane[(uint64_t)first % PANES];
  for (uint32_t id = 0; id < urls.used; id++) {
    if (sum[id]) {
      const Slot *s = table_entry(&urls, id);
      out_i64(first * 60000);
      out_char('\t');
      out_bytes(urls.keys + s->off, s->len);
      out_char('\t');
      out_i64((int64_t)sum[id]);
      out_char('\n');
    }
    sum[id] -= old[id];
    old[id] = 0;
  }
}

int main(int argc, char **argv) {
  Reader r;
  uint64_t lines = 0, bad = 0, late = 0;
  int64_t cur = INT64_MIN;
  uint64_t *cur_pane = NULL;
  reader_open(&r, argc > 1 ? argv[1] : "-");
  table_init(&urls, 1 << 15);
  cap = 1 << 14;
  for (int i = 0; i < PANES; i++)
    pane[i] = calloc(cap, sizeof **pane);
  sum = calloc(cap, sizeof *sum);
  FOR_EACH_LINE(&r, ls, le, {
    int64_t minute;
    const char *u;
    size_t un;
    lines++;
    if (!clf_minute_url(ls, le, &minute, &u, &un)) {
      bad++;
      continue;
    }
    if (minute != cur) {
      if (minute < cur) {
        late++;
        continue;
      }
      if (cur != INT64_MIN) /* after PANES empty minutes every pane is zero */
        for (int64_t m = cur; m < minute && m < cur + PANES; m++)
          close_minute(m);
      cur = minute;
      cur_pane = pane[(uint64_t)cur % PANES];
    }
    uint32_t id;
    table_find(&urls, u, un, &id);
    if (id >= cap) {
      for (int i = 0; i < PANES; i++) {
        pane[i] = xrealloc(pane[i], 2 * cap * sizeof **pane);
        memset(pane[i] + cap, 0, cap * sizeof **pane);
      }
      sum = xrealloc(sum, 2 * cap * sizeof *sum);
      memset(sum + cap, 0, cap * sizeof *sum);
      cap *= 2;
      cur_pane = pane[(uint64_t)cur % PANES];
    }
    cur_pane[id]++;
    sum[id]++;
  });
  if (cur != INT64_MIN)
    for (int64_t m = cur; m < cur + PANES; m++)
      close_minute(m);
  out_flush();
  fprintf(stderr, "slide_url: %" PRIu64 " lines, %zu urls, %" PRIu64 " bad, %" PRIu64 " late\n", lines,
          urls.used, bad, late);
  return 0;
}
