/*
 * log.c — the runtime's messages on stderr.
 *
 * Every message is one line prefixed with "job: " so that it stands apart
 * from the program's own output on stdout. rt_usage_error and rt_fatal end
 * the process with the exit codes of §12: 2 for bad usage or settings, 1 for
 * a runtime failure. stderr is written with one fprintf per line, so lines
 * from different threads do not interleave mid-line.
 */
#include "rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Formats "job: <message>\n" into one buffer and writes it at once. */
static void vlog(const char *fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0)
    n = 0;
  if ((size_t)n >= sizeof buf)
    n = (int)sizeof buf - 1;
  fprintf(stderr, "job: %.*s\n", n, buf);
}

void rt_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
}

_Noreturn void rt_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
  fflush(stdout);
  exit(2);
}

_Noreturn void rt_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
  fflush(stdout);
  exit(1);
}
