/* (c) tumble_url: requests per URL per 1-minute tumbling window of the log's
   own timestamp (zone offset applied). A window is written when the first
   line of a later minute arrives (the log is in time order; a line older
   than the open window is counted as late and dropped). URLs are interned to
   dense ids; the open window is a count per id plus the list of ids it has
   touched. Output: "window_start_ms<TAB>url<TAB>count". */
#include "base.h"

static Table urls;
static uint64_t *counts;
static uint32_t *touched;
static size_t ntouched, cap;

static void flush_window(int64_t minute) {
  for (size_t i = 0; i < ntouched; i++) {
    const Slot *s = table_entry(&urls, touched[i]);
    out_i64(minute * 60000);
    out_char('\t');
    out_bytes(urls.keys + s->off, s->len);
    out_char('\t');
    out_i64((int64_t)counts[touched[i]]);
    out_char('\n');
    counts[touched[i]] = 0;
  }
  ntouched = 0;
}

int main(int argc, char **argv) {
  Reader r;
  uint64_t lines = 0, bad = 0, late = 0, windows = 0;
  int64_t open_minute = INT64_MIN;
  reader_open(&r, argc > 1 ? argv[1] : "-");
  table_init(&urls, 1 << 15);
  cap = 1 << 14;
  counts = calloc(cap, sizeof *counts);
  touched = xrealloc(NULL, cap * sizeof *touched);
  FOR_EACH_LINE(&r, ls, le, {
    int64_t minute;
    const char *u;
    size_t un;
    lines++;
    if (!clf_minute_url(ls, le, &minute, &u, &un)) {
      bad++;
      continue;
    }
    if (minute != open_minute) {
      if (minute < open_minute) {
        late++;
        continue;
      }
      if (open_minute != INT64_MIN) {
        flush_window(open_minute);
        windows++;
      }
      open_minute = minute;
    }
    uint32_t id;
    table_find(&urls, u, un, &id);
    if (id >= cap) {
      counts = xrealloc(counts, 2 * cap * sizeof *counts);
      memset(counts + cap, 0, cap * sizeof *counts);
      touched = xrealloc(touched, 2 * cap * sizeof *touched);
      cap *= 2;
    }
    if (counts[id]++ == 0)
      touched[ntouched++] = id;
  });
  if (open_minute != INT64_MIN) {
    flush_window(open_minute);
    windows++;
  }
  out_flush();
  fprintf(stderr, "tumble_url: %" PRIu64 " lines, %zu urls, %" PRIu64 " windows, %" PRIu64 " bad, %" PRIu64 " late\n",
          lines, urls.used, windows, bad, late);
  return 0;
}
