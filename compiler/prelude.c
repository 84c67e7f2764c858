/*
 * prelude.c — the standard library written in .ds (the .ds files of stdlib/), and where
 * dsc finds its own files.
 *
 * dsc's files live beside its executable: in the build tree build/bin/dsc
 * finds build/lib/ (ds_builtins.bc, libds_rt.a, stdlib/ with its .ds files), and after
 * `cmake --install` PREFIX/bin/dsc finds PREFIX/lib/dstream/.
 *
 * The prelude's fn and type definitions are added in front of the program's
 * statements, as if the user had written them, file by file; a file one of
 * whose names the program defines itself is left out whole (a top-level name
 * may shadow a builtin, §3, and that file's other definitions use it). Its
 * files are parsed with their own Source, so a (never expected) syntax error
 * in them is reported against the right file.
 */
#include "dsc.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *lib_dir(Arena *a, const char *argv0) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    if (!argv0 || !realpath(argv0, exe))
      return NULL;
  } else {
    exe[n] = '\0';
  }
  char *slash = strrchr(exe, '/');
  if (!slash)
    return NULL;
  *slash = '\0';
  const char *candidates[] = {"%s/../lib", "%s/../lib/dstream"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    char *dir = arena_printf(a, candidates[i], exe);
    struct stat st;
    if (stat(arena_printf(a, "%s/ds_builtins.bc", dir), &st) == 0)
      return dir;
  }
  return NULL;
}

static char *read_file(Arena *a, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = arena_alloc(a, (size_t)(size > 0 ? size : 0) + 1);
  *len = size > 0 ? fread(buf, 1, (size_t)size, f) : 0;
  fclose(f);
  return buf;
}

static int by_name(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

void add_prelude(Arena *a, Program *prog, const char *dir, Diags *d) {
  if (!dir)
    return;
  char *sdir = arena_printf(a, "%s/stdlib", dir);
  DIR *dh = opendir(sdir);
  if (!dh)
    return;
  PtrVec names = {0};
  for (struct dirent *e; (e = readdir(dh));) {
    size_t n = strlen(e->d_name);
    if (n > 3 && !strcmp(e->d_name + n - 3, ".ds"))
      vec_push(a, &names, arena_strndup(a, e->d_name, n));
  }
  closedir(dh);
  if (names.len > 1)
    qsort(names.items, (size_t)names.len, sizeof(void *), by_name);

  StrMap own = {0};
  for (int i = 0; i < prog->stmts.len; i++) {
    Stmt *s = prog->stmts.items[i];
    if (s->kind == SK_LET || s->kind == SK_FN || s->kind == SK_TYPE)
      strmap_put(a, &own, s->name, s);
  }
  PtrVec stmts = {0};
  for (int i = 0; i < names.len; i++) {
    Source *src = arena_alloc(a, sizeof *src);
    src->path = arena_printf(a, "%s/%s", sdir, (char *)names.items[i]);
    src->text = read_file(a, src->path, &src->len);
    if (!src->text)
      continue;
    Diags pd = {.src = src, .out = d->out};
    Program *lib = parse_program(a, src, &pd);
    d->errors += pd.errors;
    /* A file comes whole or not at all: its fns use its types, and a program
     * that redefines one of its names means to replace that file. */
    bool shadowed = false;
    for (int k = 0; k < lib->stmts.len; k++) {
      Stmt *s = lib->stmts.items[k];
      shadowed |= (s->kind == SK_FN || s->kind == SK_TYPE) && strmap_get(&own, s->name);
    }
    for (int k = 0; k < lib->stmts.len && !shadowed; k++) {
      Stmt *s = lib->stmts.items[k];
      if (s->kind == SK_FN || s->kind == SK_TYPE)
        vec_push(a, &stmts, s);
    }
  }
  for (int i = 0; i < prog->stmts.len; i++)
    vec_push(a, &stmts, prog->stmts.items[i]);
  prog->stmts = stmts;
}
