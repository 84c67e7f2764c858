/*
 * diag.c — diagnostics: "file:line:col: error: message", the source line,
 * and a caret under the column (LANGUAGE.md §13).
 *
 * Passes never stop on an error: they report here and go on; the driver
 * looks at Diags.errors between passes. After DIAG_MAX_ERRORS errors the
 * rest are counted but not printed, so a pathological input cannot flood
 * the terminal. Columns are bytes, 1-based; a tab is one column, and the
 * caret line copies tabs so the caret lines up in a terminal too.
 */
#include "dsc.h"

#include <stdarg.h>
#include <string.h>

/* The bytes of line `line` (1-based) of the source, without its newline. */
static Str source_line(const Source *src, int line) {
  const char *p = src->text, *end = src->text + src->len;
  for (int l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
      return (Str){end, 0};
    p = nl + 1;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  Str s = {p, (size_t)((nl ? nl : end) - p)};
  if (s.len && s.ptr[s.len - 1] == '\r')
    s.len--;
  return s;
}

enum { SHOWN_LINE_MAX = 200 }; /* bytes of a long line shown around the column */

static void show_line(Diags *d, Loc loc) {
  if (!d->src || loc.line <= 0)
    return;
  Str s = source_line(d->src, loc.line);
  size_t col = loc.col > 0 ? (size_t)loc.col - 1 : 0;
  size_t from = 0;
  if (col > s.len)
    col = s.len;
  if (s.len > SHOWN_LINE_MAX && col > SHOWN_LINE_MAX / 2)
    from = col - SHOWN_LINE_MAX / 2;
  size_t to = s.len - from > SHOWN_LINE_MAX ? from + SHOWN_LINE_MAX : s.len;
  fputs("  ", d->out);
  for (size_t i = from; i < to; i++) {
    unsigned char c = (unsigned char)s.ptr[i];
    /* NULs and other control bytes would garble the terminal. */
    fputc(c == '\t' || c >= 0x20 ? c : ' ', d->out);
  }
  fputs("\n  ", d->out);
  for (size_t i = from; i < col; i++)
    fputc(s.ptr[i] == '\t' ? '\t' : ' ', d->out);
  fputs("^\n", d->out);
}

static void report(Diags *d, const char *kind, Loc loc, const char *fmt, va_list ap) {
  const char *path = d->src ? d->src->path : "dsc";
  if (loc.line > 0)
    fprintf(d->out, "%s:%d:%d: %s: ", path, loc.line, loc.col, kind);
  else
    fprintf(d->out, "%s: %s: ", path, kind);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  show_line(d, loc);
}

void diag_error(Diags *d, Loc loc, const char *fmt, ...) {
  d->errors++;
  d->last_printed = d->errors <= DIAG_MAX_ERRORS;
  if (!d->last_printed) {
    d->suppressed++;
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  report(d, "error", loc, fmt, ap);
  va_end(ap);
}

void diag_note(Diags *d, Loc loc, const char *fmt, ...) {
  if (!d->last_printed)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(d, "note", loc, fmt, ap);
  va_end(ap);
}

void diag_warning(Diags *d, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(d, "warning", loc, fmt, ap);
  va_end(ap);
}
