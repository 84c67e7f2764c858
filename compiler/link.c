/*
 * link.c — from a checked program to a native executable.
 *
 * Sets up the LLVM context, module and target machine; runs the code
 * generator (gen_job.c); verifies the module; links the builtins' bitcode
 * (lib/ds_builtins.bc, made from runtime/ and stdlib/ by clang-19) into it
 * with internal linkage, so LLVM inlines builtins into the fused loops and
 * drops the unused ones; optimises with the new pass manager; writes an
 * object file and links it with `cc` against the runtime library.
 *
 * The runtime files are found relative to dsc's own executable (lib_dir in
 * prelude.c).
 */
#include "gen.h"

#include <errno.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void init_gen(Gen *g) {
  g->t_i1 = LLVMInt1TypeInContext(g->ctx);
  g->t_i8 = LLVMInt8TypeInContext(g->ctx);
  g->t_i32 = LLVMInt32TypeInContext(g->ctx);
  g->t_i64 = LLVMInt64TypeInContext(g->ctx);
  g->t_f64 = LLVMDoubleTypeInContext(g->ctx);
  g->t_ptr = LLVMPointerTypeInContext(g->ctx, 0);
  g->t_void = LLVMVoidTypeInContext(g->ctx);
  LLVMTypeRef sf[2] = {g->t_ptr, g->t_i64};
  g->t_str = LLVMStructTypeInContext(g->ctx, sf, 2, 0);
  /* ds_ctx of ds_job.h */
  LLVMTypeRef cf[7] = {g->t_ptr, g->t_i64, g->t_i32, g->t_i32, g->t_ptr, g->t_i64, g->t_ptr};
  g->t_ctx = LLVMStructTypeInContext(g->ctx, cf, 7, 0);
}

/* Links the builtins' bitcode into the module; its definitions become internal. */
static bool link_builtins(Gen *g, const char *dir) {
  char *path = arena_printf(g->a, "%s/ds_builtins.bc", dir);
  LLVMMemoryBufferRef buf;
  char *msg = NULL;
  if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg)) {
    diag_error(g->d, (Loc){0, 0}, "cannot read %s: %s", path, msg);
    LLVMDisposeMessage(msg);
    return false;
  }
  LLVMModuleRef bc;
  if (LLVMParseBitcodeInContext2(g->ctx, buf, &bc)) {
    diag_error(g->d, (Loc){0, 0}, "cannot parse %s", path);
    LLVMDisposeMemoryBuffer(buf);
    return false;
  }
  LLVMDisposeMemoryBuffer(buf);
  PtrVec defined = {0};
  for (LLVMValueRef f = LLVMGetFirstFunction(bc); f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f)) {
      size_t len;
      const char *name = LLVMGetValueName2(f, &len);
      vec_push(g->a, &defined, arena_strndup(g->a, name, len));
    }
  LLVMSetTarget(bc, LLVMGetTarget(g->mod));
  LLVMSetDataLayout(bc, LLVMGetDataLayoutStr(g->mod));
  if (LLVMLinkModules2(g->mod, bc)) {
    diag_error(g->d, (Loc){0, 0}, "cannot link %s into the job", path);
    return false;
  }
  for (int i = 0; i < defined.len; i++) {
    LLVMValueRef f = LLVMGetNamedFunction(g->mod, defined.items[i]);
    if (f && !LLVMIsDeclaration(f))
      LLVMSetLinkage(f, LLVMInternalLinkage);
  }
  /* The per-record path of a combine stage: inline it whatever LLVM's cost
   * model says (the map's slow path, growing, stays out of line). */
  static const char *const hot[] = {"ds_map_set_route", "ds_map_upsert", "ds_hash_bytes",
                                    "ds_hash_i64",      "ds_hash_combine", "dsg_str_eq"};
  unsigned kind = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
  for (size_t i = 0; i < sizeof hot / sizeof hot[0]; i++) {
    LLVMValueRef f = LLVMGetNamedFunction(g->mod, hot[i]);
    if (f && !LLVMIsDeclaration(f))
      LLVMAddAttributeAtIndex(f, (unsigned)LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, kind, 0));
  }
  return true;
}

#ifndef DSC_JOB_LDFLAGS
#define DSC_JOB_LDFLAGS ""
#endif

static int run_cc(Arena *a, const char *obj, const char *dir, const char *out) {
  const char *cc = getenv("CC");
  if (!cc || !*cc)
    cc = "cc";
  char *cmd = arena_printf(a, "%s %s -o '%s' '%s' '%s/libds_rt.a' -luv -lm -lpthread -ldl", cc,
                           DSC_JOB_LDFLAGS, out, obj, dir);
  int rc = system(cmd);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    fprintf(stderr, "dsc: linking failed: %s\n", cmd);
    return 1;
  }
  return 0;
}

int link_job(Arena *a, Program *p, Plan *plan, const Source *src, Diags *d, const char *dir,
             const char *out, int opt_level, bool emit_llvm) {
  if (!dir) {
    fprintf(stderr, "dsc: cannot find the runtime (ds_builtins.bc, libds_rt.a) next to dsc; "
                    "build it with cmake, or reinstall\n");
    return 2;
  }
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  Gen gg = {.a = a, .d = d, .prog = p, .plan = plan, .src = src};
  Gen *g = &gg;
  g->ctx = LLVMContextCreate();
  g->mod = LLVMModuleCreateWithNameInContext(src->path, g->ctx);
  g->b = LLVMCreateBuilderInContext(g->ctx);
  char *triple = LLVMGetDefaultTargetTriple();
  char *err = NULL;
  LLVMTargetRef target;
  int status = 1;
  if (LLVMGetTargetFromTriple(triple, &target, &err)) {
    fprintf(stderr, "dsc: no LLVM target for %s: %s\n", triple, err);
    LLVMDisposeMessage(err);
    goto fail_target;
  }
  static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                               LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};
  char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
  g->tm = LLVMCreateTargetMachine(target, triple, cpu, features, levels[opt_level], LLVMRelocPIC,
                                  LLVMCodeModelDefault);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  g->td = LLVMCreateTargetDataLayout(g->tm);
  LLVMSetTarget(g->mod, triple);
  char *layout = LLVMCopyStringRepOfTargetData(g->td);
  LLVMSetDataLayout(g->mod, layout);
  LLVMDisposeMessage(layout);
  init_gen(g);

  gen_job(g);
  if (d->errors)
    goto fail_gen;
  if (LLVMVerifyModule(g->mod, LLVMReturnStatusAction, &err)) {
    fprintf(stderr, "dsc: internal error: the generated module does not verify:\n%s\n", err);
    LLVMDisposeMessage(err);
    goto fail_gen;
  }
  LLVMDisposeMessage(err);
  err = NULL;
  if (!link_builtins(g, dir))
    goto fail_gen;
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  char passes[32];
  snprintf(passes, sizeof passes, "default<O%d>", opt_level);
  LLVMErrorRef perr = LLVMRunPasses(g->mod, passes, g->tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (perr) {
    char *m = LLVMGetErrorMessage(perr);
    fprintf(stderr, "dsc: internal error: optimisation failed: %s\n", m);
    LLVMDisposeErrorMessage(m);
    goto fail_gen;
  }
  if (emit_llvm) {
    if (!out || !strcmp(out, "-")) {
      char *ir = LLVMPrintModuleToString(g->mod);
      fputs(ir, stdout);
      LLVMDisposeMessage(ir);
    } else if (LLVMPrintModuleToFile(g->mod, out, &err)) {
      fprintf(stderr, "dsc: cannot write %s: %s\n", out, err);
      LLVMDisposeMessage(err);
      goto fail_gen;
    }
    status = 0;
    goto fail_gen;
  }
  char *obj = arena_printf(a, "%s.o.%d", out, (int)getpid());
  if (LLVMTargetMachineEmitToFile(g->tm, g->mod, obj, LLVMObjectFile, &err)) {
    fprintf(stderr, "dsc: cannot write %s: %s\n", obj, err);
    LLVMDisposeMessage(err);
    goto fail_gen;
  }
  status = run_cc(a, obj, dir, out);
  unlink(obj);
fail_gen:
  LLVMDisposeTargetData(g->td);
  LLVMDisposeTargetMachine(g->tm);
fail_target:
  LLVMDisposeMessage(triple);
  LLVMDisposeBuilder(g->b);
  LLVMDisposeModule(g->mod);
  LLVMContextDispose(g->ctx);
  return status;
}
