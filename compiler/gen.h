/*
 * gen.h — the code generator's internal header (gen_*.c and link.c).
 *
 * Code generation turns a checked Program and its Plan into one LLVM
 * module: a function per lambda and fn, a fused loop per plan stage, the
 * per-type functions the runtime needs (hash, eq, cmp, copy, format), and
 * the ds_job table of runtime/include/ds_job.h. link.c links the builtins'
 * bitcode in, optimises, emits an object and links the executable.
 *
 * Values in SSA form are LLVM first-class aggregates of the lowered type:
 * int/time/duration i64, float double, bool i1, string and list
 * {ptr, i64}, option {i1, T}, tuple and record a struct of their fields.
 * In memory the same structs use the C layout ds_job.h describes.
 *
 * Record errors: every generated function takes the ds_ctx first. A failing
 * operation stores the error and its site in the ctx and branches to the
 * function's fail block, which returns an undefined value; callers check
 * ctx->err after each call and propagate; the stage loop drops the record.
 */
#ifndef GEN_H
#define GEN_H

#include "dsc.h"

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

/* Fields of ds_ctx, as GEP indices (ds_job.h). */
enum { CTX_ARENA, CTX_BATCH_TIME, CTX_ERR, CTX_ERR_SITE, CTX_SITE_ERRORS, CTX_RECORDS_IN, CTX_RUNTIME };
/* DS_ERR_* of ds_job.h. */
enum { ERR_DIV_ZERO = 1, ERR_INDEX, ERR_UNWRAP_NONE, ERR_BAD_ARG, ERR_NO_MEMORY };

/* A local variable binding while generating a function body. */
typedef struct GenVar GenVar;
struct GenVar {
  const void *key;     /* Param* or Stmt* (block let) */
  LLVMValueRef value;
  GenVar *next;
};

/* Per-type generated functions (memoised by the type's printed form). */
typedef struct TypeFns {
  LLVMTypeRef ty;
  LLVMValueRef hash, eq, cmp, copy, format; /* built on demand */
  LLVMValueRef ds_type;                     /* the ds_type constant */
} TypeFns;

/* The function being generated. */
typedef struct GenFn {
  LLVMValueRef fn;
  LLVMValueRef ctx;        /* its ds_ctx* parameter */
  LLVMBasicBlockRef fail;  /* where a record error goes (created on first use) */
  LLVMTypeRef ret;         /* its return type, for the fail block's poison value */
  GenVar *vars;
} GenFn;

typedef struct Gen {
  Arena *a;
  Diags *d;
  Program *prog;
  Plan *plan;
  const Source *src;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTargetMachineRef tm;
  LLVMTargetDataRef td;
  /* Cached types. */
  LLVMTypeRef t_i1, t_i8, t_i32, t_i64, t_f64, t_ptr, t_void, t_str, t_ctx;
  StrMap types;         /* type_str -> TypeFns* */
  StrMap fns;           /* "name" -> LLVMValueRef of user fns (FnDecl) */
  StrMap strings;       /* string literal -> global */
  PtrVec sites;         /* char* "file:line:col: what", index = site id */
  PtrVec globals_expr;  /* LetBinding* of top-level value lets, in order */
  StrMap global_vars;   /* let name -> LLVMValueRef global */
  GenFn *cur;
  int counter;          /* for unique names */
} Gen;

/* gen_types.c */
LLVMTypeRef gen_type(Gen *g, Type *t);
TypeFns *gen_type_fns(Gen *g, Type *t);
LLVMValueRef gen_hash_fn(Gen *g, Type *t);   /* i64 (ptr) */
LLVMValueRef gen_eq_fn(Gen *g, Type *t);     /* i1 (ptr, ptr) */
LLVMValueRef gen_cmp_fn(Gen *g, Type *t);    /* i32 (ptr, ptr) */
LLVMValueRef gen_copy_fn(Gen *g, Type *t);   /* void (ptr dst, ptr src, ptr arena) */
LLVMValueRef gen_format_fn(Gen *g, Type *t); /* void (ptr v, ptr strbuf) */
LLVMValueRef gen_ds_type(Gen *g, Type *t);   /* pointer to the ds_type constant */
/* Structural equality and order of two SSA values of type t. */
LLVMValueRef gen_values_eq(Gen *g, Type *t, LLVMValueRef x, LLVMValueRef y);
LLVMValueRef gen_values_cmp(Gen *g, Type *t, LLVMValueRef x, LLVMValueRef y); /* i32 */
int64_t gen_sizeof(Gen *g, Type *t);
bool gen_has_pointers(Type *t); /* holds strings or lists (memory outside the value) */

/* gen_expr.c */
LLVMValueRef gen_expr(Gen *g, Expr *e);
/* Calls the function argument f (a lambda or a fn name) of an operator on
 * args (already destructured as the function wants); checks ctx->err. */
LLVMValueRef gen_apply(Gen *g, Expr *f, LLVMValueRef *args, int nargs);
/* The LLVM function of a lambda or fn passed to an operator. */
LLVMValueRef gen_fn_value(Gen *g, Expr *f);
/* Binds lambda f's parameters to vals (taking one tuple apart when f
 * destructures) in the current function; the caller restores g->cur->vars. */
void gen_bind_params(Gen *g, Expr *f, LLVMValueRef *vals, int n);
/* f's body generated in place with its parameters bound to vals. */
LLVMValueRef gen_inline_lambda(Gen *g, Expr *f, LLVMValueRef *vals, int n);
void gen_user_fns(Gen *g);
int gen_site(Gen *g, Loc loc, const char *what);
/* Branches to the current function's fail block when ok is false,
 * recording err and site; continues in a new block. */
void gen_check(Gen *g, LLVMValueRef ok, int err, int site);
/* After a call that may fail: propagates a set ctx->err. */
void gen_check_err(Gen *g);
LLVMValueRef gen_call(Gen *g, const char *name, LLVMTypeRef ret, LLVMValueRef *args, int n);
LLVMValueRef gen_string_const(Gen *g, Str s);
LLVMValueRef gen_entry_alloca(Gen *g, LLVMTypeRef t, const char *name);
/* A counted loop over n elements of type elem_ty at ptr: after begin, the
 * builder is in the body with i and elem set; `next` continues the loop. */
typedef struct GenLoop {
  LLVMBasicBlockRef head, body, next, done;
  LLVMValueRef i, elem;
} GenLoop;
/* ptr NULL: a counted loop whose elem is i itself (elem_ty unused). */
void gen_loop_begin(Gen *g, GenLoop *l, LLVMValueRef ptr, LLVMValueRef n, Type *elem_ty);
void gen_loop_end(Gen *g, GenLoop *l); /* closes the body; the builder continues after the loop */
void gen_loop_next(Gen *g, GenLoop *l);  /* ends the body and moves to the `next` block ... */
void gen_loop_close(Gen *g, GenLoop *l); /* ... then closes the loop (gen_loop_end = both) */
LLVMBasicBlockRef gen_block(Gen *g, const char *name);
/* A function generated while another may be half done: the builder's place
 * and the current GenFn are saved by begin and restored by end. */
typedef struct GenNested {
  LLVMBasicBlockRef block;
  GenFn *cur;
  GenFn fn;
} GenNested;
/* Adds an internal function `name.N` (params[0] is the ds_ctx* where it has one). */
LLVMValueRef gen_nested_begin(Gen *g, GenNested *n, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                              int nparams);
/* The same for a function already declared. */
void gen_nested_begin_fn(Gen *g, GenNested *n, LLVMValueRef fn);
void gen_nested_end(Gen *g, GenNested *n);

/* gen_job.c */
void gen_job(Gen *g);

/* link.c */
/* Generates, optimises and writes: an executable (emit_llvm false) or the IR. */
int link_job(Arena *a, Program *p, Plan *plan, const Source *src, Diags *d, const char *lib_dir,
             const char *out, int opt_level, bool emit_llvm);

#endif
