/*
 * gen_expr.c — LLVM IR for expressions, lambdas and fns.
 *
 * Each lambda passed to an operator and each fn becomes an internal
 * function `T f(ds_ctx *ctx, params...)`; LLVM inlines them into the fused
 * stage loops. Lambdas passed to list builtins (map, filter, fold) are
 * generated inline in their loop, so they may use the enclosing locals.
 * Builtins call the dsg_* wrappers of runtime/gen_support.c, which take
 * only scalars and pointers (no C struct-passing ABI to get right) and are
 * linked in as bitcode, so they inline too.
 */
#include "gen.h"

#include <string.h>

static LLVMValueRef i64c(Gen *g, int64_t v) { return LLVMConstInt(g->t_i64, (unsigned long long)v, 1); }
static LLVMValueRef i32c(Gen *g, int v) { return LLVMConstInt(g->t_i32, (unsigned long long)v, 1); }
static LLVMValueRef i1c(Gen *g, int v) { return LLVMConstInt(g->t_i1, (unsigned long long)v, 0); }

LLVMBasicBlockRef gen_block(Gen *g, const char *name) {
  return LLVMAppendBasicBlockInContext(g->ctx, g->cur->fn, name);
}

LLVMValueRef gen_entry_alloca(Gen *g, LLVMTypeRef t, const char *name) {
  LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->cur->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first)
    LLVMPositionBuilderBefore(g->b, first);
  else
    LLVMPositionBuilderAtEnd(g->b, entry);
  LLVMValueRef a = LLVMBuildAlloca(g->b, t, name);
  LLVMPositionBuilderAtEnd(g->b, here);
  return a;
}

LLVMValueRef gen_call(Gen *g, const char *name, LLVMTypeRef ret, LLVMValueRef *args, int n) {
  LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
  LLVMTypeRef fty;
  if (fn) {
    fty = LLVMGlobalGetValueType(fn);
  } else {
    LLVMTypeRef params[n ? n : 1];
    for (int i = 0; i < n; i++)
      params[i] = LLVMTypeOf(args[i]);
    fty = LLVMFunctionType(ret, params, (unsigned)n, 0);
    fn = LLVMAddFunction(g->mod, name, fty);
  }
  return LLVMBuildCall2(g->b, fty, fn, args, (unsigned)n, "");
}

LLVMValueRef gen_string_const(Gen *g, Str s) {
  char *key = arena_printf(g->a, "%zu:", s.len);
  size_t kl = strlen(key);
  char *full = arena_alloc(g->a, kl + s.len + 1);
  memcpy(full, key, kl);
  if (s.len)
    memcpy(full + kl, s.ptr, s.len);
  Str k = {full, kl + s.len};
  LLVMValueRef gv = strmap_get(&g->strings, k);
  if (!gv) {
    LLVMValueRef init = LLVMConstStringInContext(g->ctx, s.ptr ? s.ptr : "", (unsigned)s.len, 1);
    gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), arena_printf(g->a, "str.%d", ++g->counter));
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    strmap_put(g->a, &g->strings, k, gv);
  }
  LLVMValueRef fields[2] = {gv, i64c(g, (int64_t)s.len)};
  return LLVMConstStructInContext(g->ctx, fields, 2, 0);
}

int gen_site(Gen *g, Loc loc, const char *what) {
  const char *base = strrchr(g->src->path, '/');
  vec_push(g->a, &g->sites,
           arena_printf(g->a, "%s:%d:%d: %s", base ? base + 1 : g->src->path, loc.line, loc.col, what));
  return g->sites.len - 1;
}

static LLVMValueRef ctx_field(Gen *g, int field) {
  return LLVMBuildStructGEP2(g->b, g->t_ctx, g->cur->ctx, (unsigned)field, "");
}

static LLVMBasicBlockRef fail_block(Gen *g) {
  GenFn *f = g->cur;
  if (!f->fail) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
    f->fail = LLVMAppendBasicBlockInContext(g->ctx, f->fn, "fail");
    LLVMPositionBuilderAtEnd(g->b, f->fail);
    if (f->ret == g->t_void)
      LLVMBuildRetVoid(g->b);
    else
      LLVMBuildRet(g->b, LLVMGetPoison(f->ret));
    LLVMPositionBuilderAtEnd(g->b, here);
  }
  return f->fail;
}

void gen_check(Gen *g, LLVMValueRef ok, int err, int site) {
  LLVMBasicBlockRef bad = gen_block(g, "err"), cont = gen_block(g, "ok");
  LLVMBuildCondBr(g->b, ok, cont, bad);
  LLVMPositionBuilderAtEnd(g->b, bad);
  LLVMBuildStore(g->b, i32c(g, err), ctx_field(g, CTX_ERR));
  LLVMBuildStore(g->b, i32c(g, site), ctx_field(g, CTX_ERR_SITE));
  LLVMBuildBr(g->b, fail_block(g));
  LLVMPositionBuilderAtEnd(g->b, cont);
}

void gen_check_err(Gen *g) {
  LLVMValueRef err = LLVMBuildLoad2(g->b, g->t_i32, ctx_field(g, CTX_ERR), "err");
  LLVMBasicBlockRef cont = gen_block(g, "ok");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, err, i32c(g, 0), ""), fail_block(g), cont);
  LLVMPositionBuilderAtEnd(g->b, cont);
}

/* Sets the error of a wrapper that returned false (it already set ctx->err
 * for out-of-memory; the site is ours). */
static void check_call_ok(Gen *g, LLVMValueRef ok, int err, Loc loc, const char *what) {
  gen_check(g, ok, err, gen_site(g, loc, what));
}

void gen_nested_begin_fn(Gen *g, GenNested *n, LLVMValueRef fn) {
  n->block = LLVMGetInsertBlock(g->b);
  n->cur = g->cur;
  GenFn *f = &n->fn;
  memset(f, 0, sizeof *f);
  f->fn = fn;
  f->ctx = LLVMCountParams(fn) ? LLVMGetParam(fn, 0) : NULL;
  f->ret = LLVMGetReturnType(LLVMGlobalGetValueType(fn));
  g->cur = f;
  LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
}

LLVMValueRef gen_nested_begin(Gen *g, GenNested *n, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                              int nparams) {
  LLVMValueRef fn = LLVMAddFunction(g->mod, arena_printf(g->a, "%s.%d", name, ++g->counter),
                                    LLVMFunctionType(ret, params, (unsigned)nparams, 0));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  gen_nested_begin_fn(g, n, fn);
  return fn;
}

void gen_nested_end(Gen *g, GenNested *n) {
  g->cur = n->cur;
  if (n->block)
    LLVMPositionBuilderAtEnd(g->b, n->block);
}

static void bind(Gen *g, const void *key, LLVMValueRef v) {
  GenVar *var = arena_alloc(g->a, sizeof *var);
  var->key = key;
  var->value = v;
  var->next = g->cur->vars;
  g->cur->vars = var;
}

static LLVMValueRef lookup(Gen *g, const void *key) {
  for (GenVar *v = g->cur->vars; v; v = v->next)
    if (v->key == key)
      return v->value;
  return NULL;
}

/* ---------------------------------------------------------------- */
/* functions                                                         */
/* ---------------------------------------------------------------- */

static LLVMValueRef declare_fn(Gen *g, const char *name, Type **params, int n, Type *ret) {
  LLVMTypeRef pt[n + 1];
  pt[0] = g->t_ptr;
  for (int i = 0; i < n; i++)
    pt[i + 1] = gen_type(g, params[i]);
  LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(gen_type(g, ret), pt, (unsigned)n + 1, 0));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  return fn;
}

/* Generates a function body: binds params, returns body's value. */
static void define_fn(Gen *g, LLVMValueRef fn, PtrVec *params, Expr *body) {
  GenNested n;
  gen_nested_begin_fn(g, &n, fn);
  for (int i = 0; i < params->len; i++)
    bind(g, params->items[i], LLVMGetParam(fn, (unsigned)i + 1));
  LLVMBuildRet(g->b, gen_expr(g, body));
  gen_nested_end(g, &n);
}

void gen_user_fns(Gen *g) {
  PtrVec decls = {0};
  for (int i = 0; i < g->prog->stmts.len; i++) {
    Stmt *s = g->prog->stmts.items[i];
    if (s->kind != SK_FN || !s->fn || !s->fn->ty)
      continue;
    FnDecl *f = s->fn;
    LLVMValueRef fn = declare_fn(g, arena_printf(g->a, "fn.%.*s", (int)f->name.len, f->name.ptr),
                                 f->ty->elems, f->ty->nelems, f->ty->ret);
    strmap_put(g->a, &g->fns, f->name, fn);
    vec_push(g->a, &decls, f);
  }
  for (int i = 0; i < decls.len; i++) {
    FnDecl *f = decls.items[i];
    define_fn(g, strmap_get(&g->fns, f->name), &f->params, f->body);
  }
}

LLVMValueRef gen_fn_value(Gen *g, Expr *f) {
  if (f->kind == EX_NAME && f->fn)
    return strmap_get(&g->fns, f->fn->name);
  if (f->kind != EX_LAMBDA)
    return NULL;
  if (f->gen_fn)
    return f->gen_fn;
  Type *ft = type_repr(f->ty);
  LLVMValueRef fn = declare_fn(g, arena_printf(g->a, "lambda.%d.%d", f->loc.line, f->loc.col), ft->elems,
                               ft->nelems, ft->ret);
  LLVMAddAttributeAtIndex(fn, (unsigned)LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(g->ctx, LLVMGetEnumAttributeKindForName("alwaysinline", 12), 0));
  f->gen_fn = fn;
  define_fn(g, fn, &f->params, f->body);
  return fn;
}

LLVMValueRef gen_apply(Gen *g, Expr *f, LLVMValueRef *args, int nargs) {
  LLVMValueRef fn = gen_fn_value(g, f);
  LLVMTypeRef fty = LLVMGlobalGetValueType(fn);
  unsigned want = LLVMCountParamTypes(fty) - 1;
  LLVMValueRef call_args[want + 1];
  call_args[0] = g->cur->ctx;
  if (f->destructure && nargs == 1) {
    for (unsigned i = 0; i < want; i++)
      call_args[i + 1] = LLVMBuildExtractValue(g->b, args[0], i, "");
  } else {
    for (unsigned i = 0; i < want && (int)i < nargs; i++)
      call_args[i + 1] = args[i];
  }
  LLVMValueRef r = LLVMBuildCall2(g->b, fty, fn, call_args, want + 1, "");
  gen_check_err(g);
  return r;
}

/* ---------------------------------------------------------------- */
/* expressions                                                       */
/* ---------------------------------------------------------------- */

static LLVMValueRef str_ptr(Gen *g, LLVMValueRef s) { return LLVMBuildExtractValue(g->b, s, 0, ""); }
static LLVMValueRef str_len(Gen *g, LLVMValueRef s) { return LLVMBuildExtractValue(g->b, s, 1, ""); }

static LLVMValueRef make_str(Gen *g, LLVMValueRef ptr, LLVMValueRef len) {
  LLVMValueRef v = LLVMGetUndef(g->t_str);
  v = LLVMBuildInsertValue(g->b, v, ptr, 0, "");
  return LLVMBuildInsertValue(g->b, v, len, 1, "");
}

static LLVMValueRef make_option(Gen *g, Type *opt, LLVMValueRef some, LLVMValueRef v) {
  LLVMValueRef o = LLVMConstNull(gen_type(g, opt));
  o = LLVMBuildInsertValue(g->b, o, some, 0, "");
  return LLVMBuildInsertValue(g->b, o, v, 1, "");
}

static LLVMValueRef arg(Gen *g, Expr *call, int i) {
  Arg *a = call->args.items[i];
  return gen_expr(g, a->value);
}

static Expr *arg_expr(Expr *call, int i) { return ((Arg *)call->args.items[i])->value; }

/* Calls wrapper `name(prefix..., out*)` -> i1 and loads *out of type t. */
static LLVMValueRef call_out(Gen *g, const char *name, LLVMValueRef *args, int n, LLVMTypeRef t,
                             LLVMValueRef *ok) {
  LLVMValueRef out = gen_entry_alloca(g, t, "out");
  LLVMValueRef all[n + 1];
  memcpy(all, args, sizeof(LLVMValueRef) * (size_t)n);
  all[n] = out;
  *ok = gen_call(g, name, g->t_i1, all, n + 1);
  return LLVMBuildLoad2(g->b, t, out, "");
}

/* A wrapper returning i1 whose false is a record error at the call. */
static LLVMValueRef call_checked(Gen *g, Expr *call, const char *name, LLVMValueRef *args, int n,
                                 LLVMTypeRef t, int err, const char *what) {
  LLVMValueRef ok;
  LLVMValueRef v = call_out(g, name, args, n, t, &ok);
  check_call_ok(g, ok, err, call->loc, what);
  return v;
}

void gen_loop_begin(Gen *g, GenLoop *l, LLVMValueRef ptr, LLVMValueRef n, Type *elem_ty) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
  l->head = gen_block(g, "loop");
  l->body = gen_block(g, "body");
  l->next = gen_block(g, "next");
  l->done = gen_block(g, "done");
  LLVMBuildBr(g->b, l->head);
  LLVMPositionBuilderAtEnd(g->b, l->head);
  l->i = LLVMBuildPhi(g->b, g->t_i64, "i");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, l->i, n, ""), l->body, l->done);
  LLVMPositionBuilderAtEnd(g->b, l->body);
  if (ptr) {
    LLVMTypeRef et = gen_type(g, elem_ty);
    l->elem = LLVMBuildLoad2(g->b, et, LLVMBuildGEP2(g->b, et, ptr, &l->i, 1, ""), "elem");
  } else {
    l->elem = l->i; /* a counted loop: range(n) without its list */
  }
  LLVMValueRef zero = i64c(g, 0);
  LLVMAddIncoming(l->i, &zero, &pre, 1);
}

void gen_loop_next(Gen *g, GenLoop *l) {
  LLVMBuildBr(g->b, l->next);
  LLVMPositionBuilderAtEnd(g->b, l->next);
}

void gen_loop_end(Gen *g, GenLoop *l) {
  gen_loop_next(g, l);
  gen_loop_close(g, l);
}

void gen_loop_close(Gen *g, GenLoop *l) {
  LLVMValueRef inc = LLVMBuildAdd(g->b, l->i, i64c(g, 1), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b); /* `next`, or a block after it */
  LLVMAddIncoming(l->i, &inc, &latch, 1);
  LLVMBuildBr(g->b, l->head);
  LLVMPositionBuilderAtEnd(g->b, l->done);
}

/* A loop over the elements of a list value. */
static void loop_begin(Gen *g, GenLoop *l, LLVMValueRef list, Type *elem_ty) {
  gen_loop_begin(g, l, str_ptr(g, list), str_len(g, list), elem_ty);
}

/* Allocates n elements of type t in the batch arena (a record error when it cannot). */
static LLVMValueRef alloc_elems(Gen *g, Expr *at, Type *t, LLVMValueRef n) {
  LLVMValueRef bytes = LLVMBuildMul(g->b, n, i64c(g, gen_sizeof(g, t)), "");
  LLVMValueRef args[2] = {g->cur->ctx, bytes};
  LLVMValueRef p = gen_call(g, "dsg_alloc", g->t_ptr, args, 2);
  check_call_ok(g, LLVMBuildIsNotNull(g->b, p, ""), ERR_NO_MEMORY, at->loc, "out of memory");
  return p;
}

/* Binds a lambda's parameter(s) to vals (destructuring a tuple) and
 * generates its body inline, where it may use the enclosing locals; a fn
 * name is called. */
void gen_bind_params(Gen *g, Expr *f, LLVMValueRef *vals, int n) {
  if (f->destructure && n == 1) {
    for (int i = 0; i < f->params.len; i++)
      bind(g, f->params.items[i], LLVMBuildExtractValue(g->b, vals[0], (unsigned)i, ""));
  } else {
    for (int i = 0; i < f->params.len && i < n; i++)
      bind(g, f->params.items[i], vals[i]);
  }
}

LLVMValueRef gen_inline_lambda(Gen *g, Expr *f, LLVMValueRef *vals, int n) {
  if (f->kind != EX_LAMBDA)
    return gen_apply(g, f, vals, n);
  GenVar *saved = g->cur->vars;
  gen_bind_params(g, f, vals, n);
  LLVMValueRef r = gen_expr(g, f->body);
  g->cur->vars = saved;
  return r;
}

static LLVMValueRef gen_list_builtin(Gen *g, Expr *e) {
  Type *lt = type_repr(((Arg *)e->args.items[0])->value->ty);
  LLVMValueRef list = arg(g, e, 0);
  Type *et = lt->elem;
  switch (e->builtin->kind) {
  case BI_MAPLIST: {
    Type *rt = type_repr(e->ty)->elem;
    LLVMTypeRef rlt = gen_type(g, rt);
    LLVMValueRef n = str_len(g, list);
    LLVMValueRef out = alloc_elems(g, e, rt, n);
    GenLoop l;
    loop_begin(g, &l, list, et);
    LLVMValueRef r = gen_inline_lambda(g, arg_expr(e, 1), &l.elem, 1);
    LLVMBuildStore(g->b, r, LLVMBuildGEP2(g->b, rlt, out, &l.i, 1, ""));
    gen_loop_end(g, &l);
    return make_str(g, out, n);
  }
  case BI_FILTERLIST: {
    LLVMTypeRef elt = gen_type(g, et);
    LLVMValueRef n = str_len(g, list);
    LLVMValueRef out = alloc_elems(g, e, et, n);
    LLVMValueRef count = gen_entry_alloca(g, g->t_i64, "count");
    LLVMBuildStore(g->b, i64c(g, 0), count);
    GenLoop l;
    loop_begin(g, &l, list, et);
    LLVMValueRef keep = gen_inline_lambda(g, arg_expr(e, 1), &l.elem, 1);
    LLVMBasicBlockRef yes = gen_block(g, "keep");
    LLVMBuildCondBr(g->b, keep, yes, l.next);
    LLVMPositionBuilderAtEnd(g->b, yes);
    LLVMValueRef c = LLVMBuildLoad2(g->b, g->t_i64, count, "");
    LLVMBuildStore(g->b, l.elem, LLVMBuildGEP2(g->b, elt, out, &c, 1, ""));
    LLVMBuildStore(g->b, LLVMBuildAdd(g->b, c, i64c(g, 1), ""), count);
    gen_loop_end(g, &l);
    return make_str(g, out, LLVMBuildLoad2(g->b, g->t_i64, count, ""));
  }
  case BI_FOLD: {
    LLVMValueRef init = arg(g, e, 1);
    LLVMValueRef acc = gen_entry_alloca(g, LLVMTypeOf(init), "acc");
    LLVMBuildStore(g->b, init, acc);
    GenLoop l;
    loop_begin(g, &l, list, et);
    LLVMValueRef vals[2] = {LLVMBuildLoad2(g->b, LLVMTypeOf(init), acc, ""), l.elem};
    LLVMBuildStore(g->b, gen_inline_lambda(g, arg_expr(e, 2), vals, 2), acc);
    gen_loop_end(g, &l);
    return LLVMBuildLoad2(g->b, LLVMTypeOf(init), acc, "");
  }
  case BI_SUM: {
    Type *rt = type_repr(e->ty);
    LLVMTypeRef t = gen_type(g, rt);
    LLVMValueRef acc = gen_entry_alloca(g, t, "sum");
    LLVMBuildStore(g->b, LLVMConstNull(t), acc);
    GenLoop l;
    loop_begin(g, &l, list, et);
    LLVMValueRef cur = LLVMBuildLoad2(g->b, t, acc, "");
    LLVMBuildStore(g->b, rt->kind == TY_FLOAT ? LLVMBuildFAdd(g->b, cur, l.elem, "") : LLVMBuildAdd(g->b, cur, l.elem, ""),
                   acc);
    gen_loop_end(g, &l);
    return LLVMBuildLoad2(g->b, t, acc, "");
  }
  case BI_CONTAINS: {
    LLVMValueRef x = arg(g, e, 1);
    LLVMValueRef found = gen_entry_alloca(g, g->t_i1, "found");
    LLVMBuildStore(g->b, i1c(g, 0), found);
    GenLoop l;
    loop_begin(g, &l, list, et);
    LLVMBasicBlockRef yes = gen_block(g, "found");
    LLVMBuildCondBr(g->b, gen_values_eq(g, et, l.elem, x), yes, l.next);
    LLVMPositionBuilderAtEnd(g->b, yes);
    LLVMBuildStore(g->b, i1c(g, 1), found);
    /* Found: leave the loop; gen_loop_end's branch from this dead block is harmless. */
    LLVMBuildBr(g->b, l.done);
    LLVMPositionBuilderAtEnd(g->b, gen_block(g, "found_after"));
    gen_loop_end(g, &l);
    return LLVMBuildLoad2(g->b, g->t_i1, found, "");
  }
  case BI_SORTED: {
    LLVMValueRef args[5] = {g->cur->ctx, str_ptr(g, list), str_len(g, list), i64c(g, gen_sizeof(g, et)),
                            gen_cmp_fn(g, et)};
    LLVMValueRef p = gen_call(g, "dsg_sorted", g->t_ptr, args, 5);
    check_call_ok(g, LLVMBuildIsNotNull(g->b, p, ""), ERR_NO_MEMORY, e->loc, "out of memory");
    return make_str(g, p, str_len(g, list));
  }
  case BI_LEN:
    return str_len(g, list);
  default:
    return list;
  }
}

static LLVMValueRef gen_builtin(Gen *g, Expr *e) {
  const BuiltinInfo *b = e->builtin;
  Type *a0 = e->args.len ? type_repr(arg_expr(e, 0)->ty) : NULL;
  LLVMValueRef ctx = g->cur->ctx;
  switch (b->kind) {
  case BI_LEN:
  case BI_SUM:
  case BI_MAPLIST:
  case BI_FILTERLIST:
  case BI_FOLD:
  case BI_SORTED:
    return gen_list_builtin(g, e);
  case BI_CONTAINS:
    if (a0->kind == TY_LIST)
      return gen_list_builtin(g, e);
    /* fallthrough */
  case BI_STARTSWITH:
  case BI_ENDSWITH:
  case BI_INDEXOF: {
    LLVMValueRef s = arg(g, e, 0), t = arg(g, e, 1);
    LLVMValueRef args[4] = {str_ptr(g, s), str_len(g, s), str_ptr(g, t), str_len(g, t)};
    const char *name = b->kind == BI_CONTAINS     ? "dsg_contains"
                       : b->kind == BI_STARTSWITH ? "dsg_starts_with"
                       : b->kind == BI_ENDSWITH   ? "dsg_ends_with"
                                                  : "dsg_index_of";
    return gen_call(g, name, b->kind == BI_INDEXOF ? g->t_i64 : g->t_i1, args, 4);
  }
  case BI_SPLIT: {
    LLVMValueRef s = arg(g, e, 0), sep = arg(g, e, 1);
    LLVMValueRef args[5] = {ctx, str_ptr(g, s), str_len(g, s), str_ptr(g, sep), str_len(g, sep)};
    return call_checked(g, e, "dsg_split", args, 5, g->t_str, ERR_NO_MEMORY, "out of memory");
  }
  case BI_WORDS:
  case BI_CHARS:
  case BI_LOWER:
  case BI_UPPER: {
    LLVMValueRef s = arg(g, e, 0);
    LLVMValueRef args[3] = {ctx, str_ptr(g, s), str_len(g, s)};
    const char *name = b->kind == BI_WORDS ? "dsg_words" : b->kind == BI_CHARS ? "dsg_chars"
                       : b->kind == BI_LOWER ? "dsg_lower" : "dsg_upper";
    return call_checked(g, e, name, args, 3, g->t_str, ERR_NO_MEMORY, "out of memory");
  }
  case BI_TRIM: {
    LLVMValueRef s = arg(g, e, 0);
    LLVMValueRef args[2] = {str_ptr(g, s), str_len(g, s)};
    LLVMValueRef ok;
    return call_out(g, "dsg_trim", args, 2, g->t_str, &ok);
  }
  case BI_SUBSTR: {
    LLVMValueRef s = arg(g, e, 0), st = arg(g, e, 1), n = arg(g, e, 2);
    LLVMValueRef args[4] = {str_ptr(g, s), str_len(g, s), st, n};
    return call_checked(g, e, "dsg_substr", args, 4, g->t_str, ERR_BAD_ARG,
                        "substr: start or length out of range");
  }
  case BI_REPLACE: {
    LLVMValueRef s = arg(g, e, 0), f = arg(g, e, 1), t = arg(g, e, 2);
    LLVMValueRef args[7] = {ctx, str_ptr(g, s), str_len(g, s), str_ptr(g, f), str_len(g, f), str_ptr(g, t), str_len(g, t)};
    return call_checked(g, e, "dsg_replace", args, 7, g->t_str, ERR_NO_MEMORY, "out of memory");
  }
  case BI_FIELD: {
    LLVMValueRef s = arg(g, e, 0), sep = arg(g, e, 1), i = arg(g, e, 2);
    LLVMValueRef args[5] = {str_ptr(g, s), str_len(g, s), str_ptr(g, sep), str_len(g, sep), i};
    LLVMValueRef ok;
    LLVMValueRef v = call_out(g, "dsg_field", args, 5, g->t_str, &ok);
    return make_option(g, e->ty, ok, v);
  }
  case BI_PARSEINT:
  case BI_PARSEFLOAT: {
    LLVMValueRef s = arg(g, e, 0);
    LLVMValueRef args[2] = {str_ptr(g, s), str_len(g, s)};
    LLVMValueRef ok;
    bool fl = b->kind == BI_PARSEFLOAT;
    LLVMValueRef v = call_out(g, fl ? "dsg_parse_float" : "dsg_parse_int", args, 2, fl ? g->t_f64 : g->t_i64, &ok);
    return make_option(g, e->ty, ok, v);
  }
  case BI_PARSETIME: {
    LLVMValueRef s = arg(g, e, 0), f = arg(g, e, 1);
    LLVMValueRef args[4] = {str_ptr(g, s), str_len(g, s), str_ptr(g, f), str_len(g, f)};
    LLVMValueRef ok;
    LLVMValueRef v = call_out(g, "dsg_parse_time", args, 4, g->t_i64, &ok);
    return make_option(g, e->ty, ok, v);
  }
  case BI_FORMATTIME: {
    LLVMValueRef t = arg(g, e, 0), f = arg(g, e, 1);
    LLVMValueRef args[4] = {ctx, t, str_ptr(g, f), str_len(g, f)};
    return call_checked(g, e, "dsg_format_time", args, 4, g->t_str, ERR_BAD_ARG, "formatTime: bad format");
  }
  case BI_STR: {
    if (a0->kind == TY_STRING)
      return arg(g, e, 0);
    LLVMValueRef v = arg(g, e, 0);
    LLVMValueRef slot = gen_entry_alloca(g, LLVMTypeOf(v), "v");
    LLVMBuildStore(g->b, v, slot);
    LLVMValueRef args[3] = {ctx, slot, gen_format_fn(g, a0)};
    return call_checked(g, e, "dsg_to_str", args, 3, g->t_str, ERR_NO_MEMORY, "out of memory");
  }
  case BI_FLOAT: {
    LLVMValueRef v = arg(g, e, 0);
    return a0->kind == TY_FLOAT ? v : LLVMBuildSIToFP(g->b, v, g->t_f64, "");
  }
  case BI_INT: {
    LLVMValueRef v = arg(g, e, 0);
    if (a0->kind != TY_FLOAT)
      return v;
    LLVMValueRef args[1] = {v};
    return call_checked(g, e, "dsg_float_to_int", args, 1, g->t_i64, ERR_BAD_ARG,
                        "int: not a number or out of the int range");
  }
  case BI_TIME:
  case BI_DURATION:
    return arg(g, e, 0);
  case BI_ABS: {
    LLVMValueRef v = arg(g, e, 0);
    if (a0->kind == TY_FLOAT) {
      LLVMValueRef args[1] = {v};
      return gen_call(g, "llvm.fabs.f64", g->t_f64, args, 1);
    }
    LLVMValueRef neg = LLVMBuildSub(g->b, i64c(g, 0), v, "");
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, v, i64c(g, 0), ""), neg, v, "");
  }
  case BI_MIN:
  case BI_MAX: {
    LLVMValueRef x = arg(g, e, 0), y = arg(g, e, 1);
    if (a0->kind == TY_FLOAT) {
      LLVMValueRef args[2] = {x, y};
      return gen_call(g, b->kind == BI_MIN ? "llvm.minnum.f64" : "llvm.maxnum.f64", g->t_f64, args, 2);
    }
    LLVMValueRef lt = LLVMBuildICmp(g->b, b->kind == BI_MIN ? LLVMIntSLT : LLVMIntSGT, x, y, "");
    return LLVMBuildSelect(g->b, lt, x, y, "");
  }
  case BI_FLOOR:
  case BI_CEIL:
  case BI_SQRT: {
    LLVMValueRef args[1] = {arg(g, e, 0)};
    const char *name = b->kind == BI_FLOOR ? "llvm.floor.f64" : b->kind == BI_CEIL ? "llvm.ceil.f64" : "llvm.sqrt.f64";
    return gen_call(g, name, g->t_f64, args, 1);
  }
  case BI_POW: {
    LLVMValueRef args[2] = {arg(g, e, 0), arg(g, e, 1)};
    return gen_call(g, "llvm.pow.f64", g->t_f64, args, 2);
  }
  case BI_RANGE: {
    LLVMValueRef n = arg(g, e, 0);
    n = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, n, i64c(g, 0), ""), i64c(g, 0), n, "");
    LLVMValueRef args[2] = {ctx, n};
    LLVMValueRef p = gen_call(g, "dsg_range", g->t_ptr, args, 2);
    check_call_ok(g, LLVMBuildIsNotNull(g->b, p, ""), ERR_NO_MEMORY, e->loc, "out of memory");
    return make_str(g, p, n);
  }
  case BI_ISSOME:
  case BI_ISNONE: {
    LLVMValueRef tag = LLVMBuildExtractValue(g->b, arg(g, e, 0), 0, "");
    return b->kind == BI_ISSOME ? tag : LLVMBuildNot(g->b, tag, "");
  }
  case BI_BATCHTIME:
    return LLVMBuildLoad2(g->b, g->t_i64, ctx_field(g, CTX_BATCH_TIME), "");
  default:
    return LLVMGetPoison(gen_type(g, e->ty));
  }
}

static LLVMValueRef gen_call_expr(Gen *g, Expr *e) {
  if (e->builtin)
    return gen_builtin(g, e);
  if (e->fn) {
    LLVMValueRef fn = strmap_get(&g->fns, e->fn->name);
    LLVMTypeRef fty = LLVMGlobalGetValueType(fn);
    int n = e->args.len;
    LLVMValueRef args[n + 1];
    args[0] = g->cur->ctx;
    for (int i = 0; i < n; i++)
      args[i + 1] = arg(g, e, i);
    LLVMValueRef r = LLVMBuildCall2(g->b, fty, fn, args, (unsigned)n + 1, "");
    gen_check_err(g);
    return r;
  }
  return LLVMGetPoison(gen_type(g, e->ty));
}

static LLVMValueRef gen_int_divmod(Gen *g, Expr *e, LLVMValueRef l, LLVMValueRef r) {
  bool div = e->op == OP_DIV;
  check_call_ok(g, LLVMBuildICmp(g->b, LLVMIntNE, r, i64c(g, 0), ""), ERR_DIV_ZERO, e->op_loc,
                "division by zero");
  /* INT64_MIN / -1 overflows in hardware; the language wraps (§4). */
  LLVMValueRef minus1 = LLVMBuildICmp(g->b, LLVMIntEQ, r, i64c(g, -1), "");
  LLVMValueRef safe_r = LLVMBuildSelect(g->b, minus1, i64c(g, 1), r, "");
  LLVMValueRef q = div ? LLVMBuildSDiv(g->b, l, safe_r, "") : LLVMBuildSRem(g->b, l, safe_r, "");
  LLVMValueRef special = div ? LLVMBuildSub(g->b, i64c(g, 0), l, "") : i64c(g, 0);
  return LLVMBuildSelect(g->b, minus1, special, q, "");
}

static LLVMValueRef gen_binary(Gen *g, Expr *e) {
  if (e->op == OP_AND || e->op == OP_OR || e->op == OP_COALESCE) {
    LLVMValueRef l = gen_expr(g, e->lhs);
    LLVMBasicBlockRef lblock = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef rhs = gen_block(g, "rhs"), done = gen_block(g, "done");
    LLVMValueRef short_val;
    if (e->op == OP_COALESCE) {
      LLVMValueRef some = LLVMBuildExtractValue(g->b, l, 0, "");
      short_val = LLVMBuildExtractValue(g->b, l, 1, "");
      LLVMBuildCondBr(g->b, some, done, rhs);
    } else {
      short_val = l;
      if (e->op == OP_AND)
        LLVMBuildCondBr(g->b, l, rhs, done);
      else
        LLVMBuildCondBr(g->b, l, done, rhs);
    }
    LLVMPositionBuilderAtEnd(g->b, rhs);
    LLVMValueRef r = gen_expr(g, e->rhs);
    LLVMBasicBlockRef rblock = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, done);
    LLVMValueRef phi = LLVMBuildPhi(g->b, LLVMTypeOf(r), "");
    LLVMValueRef vals[2] = {short_val, r};
    LLVMBasicBlockRef blocks[2] = {lblock, rblock};
    LLVMAddIncoming(phi, vals, blocks, 2);
    return phi;
  }
  LLVMValueRef l = gen_expr(g, e->lhs), r = gen_expr(g, e->rhs);
  Type *lt = type_repr(e->lhs->ty), *rt = type_repr(e->rhs->ty);
  bool fl = lt->kind == TY_FLOAT;
  switch (e->op) {
  case OP_EQ:
    return gen_values_eq(g, lt, l, r);
  case OP_NE:
    if (fl)
      return LLVMBuildFCmp(g->b, LLVMRealUNE, l, r, "");
    return LLVMBuildNot(g->b, gen_values_eq(g, lt, l, r), "");
  case OP_LT:
  case OP_LE:
  case OP_GT:
  case OP_GE: {
    if (fl) {
      LLVMRealPredicate p = e->op == OP_LT ? LLVMRealOLT : e->op == OP_LE ? LLVMRealOLE
                            : e->op == OP_GT ? LLVMRealOGT : LLVMRealOGE;
      return LLVMBuildFCmp(g->b, p, l, r, "");
    }
    if (lt->kind == TY_INT || lt->kind == TY_TIME || lt->kind == TY_DURATION) {
      LLVMIntPredicate p = e->op == OP_LT ? LLVMIntSLT : e->op == OP_LE ? LLVMIntSLE
                           : e->op == OP_GT ? LLVMIntSGT : LLVMIntSGE;
      return LLVMBuildICmp(g->b, p, l, r, "");
    }
    LLVMValueRef c = gen_values_cmp(g, lt, l, r);
    LLVMIntPredicate p = e->op == OP_LT ? LLVMIntSLT : e->op == OP_LE ? LLVMIntSLE
                         : e->op == OP_GT ? LLVMIntSGT : LLVMIntSGE;
    return LLVMBuildICmp(g->b, p, c, i32c(g, 0), "");
  }
  case OP_ADD:
    if (lt->kind == TY_STRING || lt->kind == TY_LIST) {
      int64_t esize = lt->kind == TY_LIST ? gen_sizeof(g, lt->elem) : 1;
      LLVMValueRef args[6] = {g->cur->ctx, str_ptr(g, l), str_len(g, l), str_ptr(g, r), str_len(g, r), i64c(g, esize)};
      return call_checked(g, e, "dsg_concat", args, 6, g->t_str, ERR_NO_MEMORY, "out of memory");
    }
    return fl ? LLVMBuildFAdd(g->b, l, r, "") : LLVMBuildAdd(g->b, l, r, "");
  case OP_SUB:
    return fl ? LLVMBuildFSub(g->b, l, r, "") : LLVMBuildSub(g->b, l, r, "");
  case OP_MUL:
    return fl ? LLVMBuildFMul(g->b, l, r, "") : LLVMBuildMul(g->b, l, r, "");
  case OP_DIV:
  case OP_MOD:
    if (fl)
      return e->op == OP_DIV ? LLVMBuildFDiv(g->b, l, r, "") : LLVMBuildFRem(g->b, l, r, "");
    (void)rt;
    return gen_int_divmod(g, e, l, r);
  default:
    return l;
  }
}

static LLVMValueRef gen_if(Gen *g, Expr *e) {
  LLVMValueRef c = gen_expr(g, e->cond);
  LLVMBasicBlockRef then = gen_block(g, "then"), els = gen_block(g, "else"), done = gen_block(g, "endif");
  LLVMBuildCondBr(g->b, c, then, els);
  LLVMPositionBuilderAtEnd(g->b, then);
  LLVMValueRef a = gen_expr(g, e->lhs);
  LLVMBasicBlockRef ab = LLVMGetInsertBlock(g->b);
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, els);
  LLVMValueRef b = gen_expr(g, e->rhs);
  LLVMBasicBlockRef bb = LLVMGetInsertBlock(g->b);
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
  LLVMValueRef phi = LLVMBuildPhi(g->b, gen_type(g, e->ty), "");
  LLVMValueRef vals[2] = {a, b};
  LLVMBasicBlockRef blocks[2] = {ab, bb};
  LLVMAddIncoming(phi, vals, blocks, 2);
  return phi;
}

LLVMValueRef gen_expr(Gen *g, Expr *e) {
  switch (e->kind) {
  case EX_INT:
  case EX_DURATION:
    return i64c(g, e->ival);
  case EX_FLOAT:
    return LLVMConstReal(g->t_f64, e->fval);
  case EX_BOOL:
    return i1c(g, e->bval);
  case EX_STRING:
    return gen_string_const(g, e->sval);
  case EX_NONE:
    return LLVMConstNull(gen_type(g, e->ty));
  case EX_SOME:
    return make_option(g, e->ty, i1c(g, 1), gen_expr(g, e->lhs));
  case EX_NAME: {
    if (e->ref == REF_LOCAL) {
      LLVMValueRef v = lookup(g, e->param ? (const void *)e->param : (const void *)e->let_stmt);
      if (v)
        return v;
    } else if (e->ref == REF_GLOBAL) {
      LLVMValueRef gv = strmap_get(&g->global_vars, e->global->name);
      if (gv)
        return LLVMBuildLoad2(g->b, gen_type(g, e->ty), gv, "");
    }
    return LLVMGetPoison(gen_type(g, e->ty));
  }
  case EX_TUPLE:
  case EX_RECORD: {
    LLVMTypeRef t = gen_type(g, e->ty);
    LLVMValueRef v = LLVMGetUndef(t);
    if (e->kind == EX_TUPLE) {
      for (int i = 0; i < e->items.len; i++)
        v = LLVMBuildInsertValue(g->b, v, gen_expr(g, e->items.items[i]), (unsigned)i, "");
      return v;
    }
    RecordDecl *r = type_repr(e->ty)->rec;
    for (int i = 0; i < e->fields.len; i++) {
      FieldInit *fi = e->fields.items[i];
      for (int j = 0; j < r->fields.len; j++)
        if (str_eq2(((FieldDecl *)r->fields.items[j])->name, fi->name))
          v = LLVMBuildInsertValue(g->b, v, gen_expr(g, fi->value), (unsigned)j, "");
    }
    return v;
  }
  case EX_LIST: {
    Type *et = type_repr(e->ty)->elem;
    int n = e->items.len;
    if (n == 0)
      return LLVMConstNull(g->t_str);
    LLVMValueRef p = alloc_elems(g, e, et, i64c(g, n));
    LLVMTypeRef elt = gen_type(g, et);
    for (int i = 0; i < n; i++) {
      LLVMValueRef idx = i64c(g, i);
      LLVMBuildStore(g->b, gen_expr(g, e->items.items[i]), LLVMBuildGEP2(g->b, elt, p, &idx, 1, ""));
    }
    return make_str(g, p, i64c(g, n));
  }
  case EX_FIELD:
    return LLVMBuildExtractValue(g->b, gen_expr(g, e->lhs), (unsigned)e->field_index, "");
  case EX_INDEX:
    return LLVMBuildExtractValue(g->b, gen_expr(g, e->lhs), (unsigned)e->ival, "");
  case EX_SUBSCRIPT: {
    LLVMValueRef list = gen_expr(g, e->lhs), i = gen_expr(g, e->rhs);
    LLVMValueRef in = LLVMBuildICmp(g->b, LLVMIntULT, i, str_len(g, list), "");
    check_call_ok(g, in, ERR_INDEX, e->loc, "list index out of range");
    LLVMTypeRef et = gen_type(g, e->ty);
    return LLVMBuildLoad2(g->b, et, LLVMBuildGEP2(g->b, et, str_ptr(g, list), &i, 1, ""), "");
  }
  case EX_UNWRAP: {
    LLVMValueRef o = gen_expr(g, e->lhs);
    check_call_ok(g, LLVMBuildExtractValue(g->b, o, 0, ""), ERR_UNWRAP_NONE, e->loc, "'!' on none");
    return LLVMBuildExtractValue(g->b, o, 1, "");
  }
  case EX_CALL:
    return gen_call_expr(g, e);
  case EX_UNARY_NEG: {
    LLVMValueRef v = gen_expr(g, e->lhs);
    return type_repr(e->ty)->kind == TY_FLOAT ? LLVMBuildFNeg(g->b, v, "") : LLVMBuildSub(g->b, i64c(g, 0), v, "");
  }
  case EX_NOT:
    return LLVMBuildNot(g->b, gen_expr(g, e->lhs), "");
  case EX_BINARY:
    return gen_binary(g, e);
  case EX_IF:
    return gen_if(g, e);
  case EX_BLOCK: {
    GenVar *saved = g->cur->vars;
    LLVMValueRef v = NULL;
    for (int i = 0; i < e->items.len; i++) {
      Stmt *s = e->items.items[i];
      if (!s->value)
        continue;
      v = gen_expr(g, s->value);
      if (s->kind == SK_LET)
        bind(g, s, v);
    }
    g->cur->vars = saved;
    return v ? v : LLVMGetPoison(gen_type(g, e->ty));
  }
  case EX_ASCRIBE:
    return gen_expr(g, e->lhs);
  default:
    return LLVMGetPoison(gen_type(g, e->ty));
  }
}
