/*
 * main.c — the dsc driver: reads the command line and runs the passes in
 * order, stopping between passes when there were errors.
 *
 *   read source -> parse_program (lexer.re, parser.y) -> check_program
 *   (check.c) -> plan_build (plan.c) -> link_job (gen_*.c, link.c)
 *
 * Exit codes (LANGUAGE.md §13): 0 success, 1 errors in the program,
 * 2 bad usage (unknown command or option, unreadable file).
 */
#include "gen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DSC_VERSION
#define DSC_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: dsc COMMAND FILE.ds [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  build FILE.ds [-o OUT] [-O0|-O1|-O2|-O3]   compile to a native executable (default -O2)\n"
    "  check FILE.ds                               parse and type-check only\n"
    "  emit-llvm FILE.ds [-o OUT.ll]               print the LLVM IR\n"
    "  plan FILE.ds [--dot]                        print the operator graph after fusion\n"
    "  run FILE.ds [-- JOB ARGS...]                build into a cache and run\n"
    "\n"
    "options:\n"
    "  --help       show this help\n"
    "  --version    show the version\n"
    "\n"
    "Diagnostics are file:line:col: error: message. Exit codes: 0 ok, 1 errors in the\n"
    "program, 2 bad usage.\n";

static int usage_error(const char *fmt, const char *arg) {
  fputs("dsc: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nrun 'dsc --help' for usage\n", stderr);
  return 2;
}

/* Reads the whole file; NUL-terminates it (the lexer also stops at len). */
static bool read_source(Arena *a, const char *path, Source *src) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fclose(f);
      errno = ENOMEM;
      return false;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
    if (cap - len - 1 == 0) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb)
        free(buf);
      buf = nb;
    }
  }
  bool ok = !ferror(f);
  fclose(f);
  if (!ok) {
    free(buf);
    return false;
  }
  buf[len] = '\0';
  src->path = path;
  src->text = arena_strndup(a, buf, len);
  src->len = len;
  free(buf);
  return true;
}

/* "dir/job.ds" -> "job" in the current directory (as cc's a.out, but named). */
static const char *default_output(Arena *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 3 && !strcmp(base + n - 3, ".ds"))
    n -= 3;
  return arena_strndup(a, base, n);
}

/* `dsc run`: builds into $XDG_CACHE_HOME/dstream (or ~/.cache/dstream), then
 * replaces dsc with the job. */
static int build_and_run(Arena *a, Program *prog, Plan *plan, const Source *src, Diags *d, const char *dir,
                         int opt, int nargs, char **args) {
  const char *cache = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char *cdir = cache && *cache ? arena_printf(a, "%s/dstream", cache)
                               : arena_printf(a, "%s/.cache/dstream", home && *home ? home : "/tmp");
  char *mk = arena_printf(a, "mkdir -p '%s'", cdir);
  if (system(mk) != 0) {
    fprintf(stderr, "dsc: cannot create %s\n", cdir);
    return 2;
  }
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < src->len; i++)
    h = (h ^ (unsigned char)src->text[i]) * 1099511628211ull;
  char *exe = arena_printf(a, "%s/%s-%016llx", cdir, default_output(a, src->path), (unsigned long long)h);
  int status = link_job(a, prog, plan, src, d, dir, exe, opt, false);
  if (status)
    return status;
  char **argv = arena_alloc(a, sizeof(char *) * (size_t)(nargs + 2));
  argv[0] = exe;
  for (int i = 0; i < nargs; i++)
    argv[i + 1] = args[i];
  fflush(NULL);
  execv(exe, argv);
  fprintf(stderr, "dsc: cannot run %s: %s\n", exe, strerror(errno));
  return 1;
}

typedef enum Command { CMD_CHECK, CMD_PLAN, CMD_BUILD, CMD_EMIT_LLVM, CMD_RUN } Command;

int main(int argc, char **argv) {
  if (argc < 2)
    return usage_error("%s", "missing command");
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("dsc %s (dstream)\n", DSC_VERSION);
    return 0;
  }
  static const struct { const char *name; Command cmd; } commands[] = {
      {"check", CMD_CHECK},         {"plan", CMD_PLAN}, {"build", CMD_BUILD},
      {"emit-llvm", CMD_EMIT_LLVM}, {"run", CMD_RUN},
  };
  int cmd = -1;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      cmd = (int)commands[i].cmd;
  if (cmd < 0)
    return usage_error("unknown command '%s'", argv[1]);

  const char *path = NULL, *out = NULL;
  bool dot = false;
  int opt = 2, job_args = argc;
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--")) {
      job_args = i + 1; /* job arguments of `dsc run` */
      break;
    }
    if (!strcmp(arg, "--dot") && cmd == CMD_PLAN)
      dot = true;
    else if ((!strcmp(arg, "-o")) && (cmd == CMD_BUILD || cmd == CMD_EMIT_LLVM) && i + 1 < argc)
      out = argv[++i];
    else if ((cmd == CMD_BUILD || cmd == CMD_EMIT_LLVM || cmd == CMD_RUN) && arg[0] == '-' &&
             arg[1] == 'O' && arg[2] >= '0' && arg[2] <= '3' && !arg[3])
      opt = arg[2] - '0';
    else if (arg[0] == '-' && arg[1])
      return usage_error("unknown option '%s'", arg);
    else if (path)
      return usage_error("more than one input file ('%s')", arg);
    else
      path = arg;
  }
  if (!path)
    return usage_error("%s", "missing input file (FILE.ds)");

  Arena arena = {0};
  Source src;
  if (!read_source(&arena, path, &src)) {
    fprintf(stderr, "dsc: cannot read '%s': %s\n", path, strerror(errno));
    arena_free(&arena);
    return 2;
  }
  Diags diags = {.src = &src, .out = stderr};
  int status = 1;

  Program *prog = parse_program(&arena, &src, &diags);
  if (diags.errors)
    goto done;
  const char *dir = lib_dir(&arena, argv[0]);
  add_prelude(&arena, prog, dir, &diags);
  if (diags.errors)
    goto done;
  Settings settings;
  memset(&settings, 0, sizeof settings);
  check_program(&arena, prog, &settings, &diags);
  if (diags.errors)
    goto done;
  Plan *plan = plan_build(&arena, prog, &settings, &diags);
  if (diags.errors)
    goto done;

  switch ((Command)cmd) {
  case CMD_CHECK:
    status = 0;
    break;
  case CMD_PLAN:
    if (dot)
      plan_print_dot(stdout, plan, &src);
    else
      plan_print(stdout, plan, &src);
    status = 0;
    break;
  case CMD_BUILD:
    status = link_job(&arena, prog, plan, &src, &diags, dir, out ? out : default_output(&arena, path),
                      opt, false);
    break;
  case CMD_EMIT_LLVM:
    status = link_job(&arena, prog, plan, &src, &diags, dir, out, opt, true);
    break;
  case CMD_RUN:
    status = build_and_run(&arena, prog, plan, &src, &diags, dir, opt, argc - job_args, argv + job_args);
    break;
  }
done:
  if (diags.suppressed)
    fprintf(stderr, "%s: %d more errors not shown\n", src.path, diags.suppressed);
  arena_free(&arena);
  return status;
}
