/*
 * gen_types.c — lowering .ds types to LLVM types, and the per-type
 * functions the runtime calls through ds_type: hash, eq, cmp, copy, format;
 * and the ds_type constants, with each value's shape (ABI 3).
 *
 * Everything is memoised by the type's printed form (type_str), which is
 * canonical: records are named and names are unique. The functions are
 * generated on demand, with the builder's position saved and restored, so
 * they can be requested in the middle of another function.
 */
#include "gen.h"

#include <string.h>

static TypeFns *fns_of(Gen *g, Type *t) {
  const char *key = type_str(g->a, t);
  Str k = {key, strlen(key)};
  TypeFns *f = strmap_get(&g->types, k);
  if (!f) {
    f = arena_alloc(g->a, sizeof *f);
    strmap_put(g->a, &g->types, k, f);
  }
  return f;
}

LLVMTypeRef gen_type(Gen *g, Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION:
    return g->t_i64;
  case TY_FLOAT:
    return g->t_f64;
  case TY_BOOL:
    return g->t_i1;
  case TY_STRING:
  case TY_LIST:
    return g->t_str;
  default:
    break;
  }
  TypeFns *f = fns_of(g, t);
  if (f->ty)
    return f->ty;
  switch (t->kind) {
  case TY_TUPLE: {
    LLVMTypeRef el[t->nelems];
    for (int i = 0; i < t->nelems; i++)
      el[i] = gen_type(g, t->elems[i]);
    f->ty = LLVMStructTypeInContext(g->ctx, el, (unsigned)t->nelems, 0);
    break;
  }
  case TY_RECORD: {
    char *name = arena_printf(g->a, "rec.%.*s", (int)t->rec->name.len, t->rec->name.ptr);
    f->ty = LLVMStructCreateNamed(g->ctx, name);
    int n = t->rec->fields.len;
    LLVMTypeRef el[n ? n : 1];
    for (int i = 0; i < n; i++)
      el[i] = gen_type(g, ((FieldDecl *)t->rec->fields.items[i])->ty);
    LLVMStructSetBody(f->ty, el, (unsigned)n, 0);
    break;
  }
  case TY_OPTION: {
    LLVMTypeRef el[2] = {g->t_i1, gen_type(g, t->elem)};
    f->ty = LLVMStructTypeInContext(g->ctx, el, 2, 0);
    break;
  }
  default:
    f->ty = g->t_i64; /* errors and unresolved types never reach codegen */
    break;
  }
  return f->ty;
}

int64_t gen_sizeof(Gen *g, Type *t) { return (int64_t)LLVMABISizeOfType(g->td, gen_type(g, t)); }

static Type *member(Type *t, int i) {
  t = type_repr(t);
  if (t->kind == TY_TUPLE)
    return t->elems[i];
  return ((FieldDecl *)t->rec->fields.items[i])->ty;
}

static int nmembers(Type *t) {
  t = type_repr(t);
  if (t->kind == TY_TUPLE)
    return t->nelems;
  if (t->kind == TY_RECORD)
    return t->rec->fields.len;
  return 0;
}

/* Hashing and comparing keys run per record in the fused loops: inline them. */
static void always_inline(Gen *g, LLVMValueRef fn) {
  LLVMAddAttributeAtIndex(fn, (unsigned)LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(g->ctx, LLVMGetEnumAttributeKindForName("alwaysinline", 12), 0));
}

static LLVMValueRef i64c(Gen *g, int64_t v) { return LLVMConstInt(g->t_i64, (unsigned long long)v, 1); }
static LLVMValueRef i32c(Gen *g, int v) { return LLVMConstInt(g->t_i32, (unsigned long long)v, 1); }

/* ---------------------------------------------------------------- */
/* hash                                                              */
/* ---------------------------------------------------------------- */

static LLVMValueRef hash_value(Gen *g, Type *t, LLVMValueRef v) {
  t = type_repr(t);
  LLVMValueRef seed = i64c(g, (int64_t)0x0ddc0ffee0ddf00dull); /* DS_HASH_SEED */
  LLVMTypeRef i64 = g->t_i64;
  switch (t->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION: {
    LLVMValueRef args[2] = {v, seed};
    return gen_call(g, "ds_hash_i64", i64, args, 2);
  }
  case TY_BOOL: {
    LLVMValueRef args[2] = {LLVMBuildZExt(g->b, v, i64, ""), seed};
    return gen_call(g, "ds_hash_i64", i64, args, 2);
  }
  case TY_STRING: {
    LLVMValueRef args[3] = {LLVMBuildExtractValue(g->b, v, 0, ""),
                            LLVMBuildExtractValue(g->b, v, 1, ""), seed};
    return gen_call(g, "ds_hash_bytes", i64, args, 3);
  }
  case TY_TUPLE:
  case TY_RECORD: {
    LLVMValueRef h = seed;
    for (int i = 0; i < nmembers(t); i++) {
      LLVMValueRef args[2] = {h, hash_value(g, member(t, i), LLVMBuildExtractValue(g->b, v, (unsigned)i, ""))};
      h = gen_call(g, "ds_hash_combine", i64, args, 2);
    }
    return h;
  }
  case TY_OPTION: {
    LLVMValueRef some = LLVMBuildExtractValue(g->b, v, 0, "");
    LLVMValueRef inner = hash_value(g, t->elem, LLVMBuildExtractValue(g->b, v, 1, ""));
    LLVMValueRef args[2] = {i64c(g, 1), inner};
    LLVMValueRef hs = gen_call(g, "ds_hash_combine", i64, args, 2);
    return LLVMBuildSelect(g->b, some, hs, i64c(g, 0), "");
  }
  default:
    return i64c(g, 0);
  }
}

LLVMValueRef gen_hash_fn(Gen *g, Type *t) {
  TypeFns *f = fns_of(g, t);
  if (f->hash)
    return f->hash;
  GenNested h;
  LLVMTypeRef params[1] = {g->t_ptr};
  f->hash = gen_nested_begin(g, &h, "hash", g->t_i64, params, 1);
  always_inline(g, f->hash);
  LLVMValueRef v = LLVMBuildLoad2(g->b, gen_type(g, t), LLVMGetParam(f->hash, 0), "v");
  LLVMBuildRet(g->b, hash_value(g, t, v));
  gen_nested_end(g, &h);
  return f->hash;
}

/* ---------------------------------------------------------------- */
/* equality and order                                                */
/* ---------------------------------------------------------------- */

LLVMValueRef gen_values_eq(Gen *g, Type *t, LLVMValueRef x, LLVMValueRef y) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION:
  case TY_BOOL:
    return LLVMBuildICmp(g->b, LLVMIntEQ, x, y, "");
  case TY_FLOAT:
    return LLVMBuildFCmp(g->b, LLVMRealOEQ, x, y, "");
  case TY_STRING: {
    LLVMValueRef args[4] = {LLVMBuildExtractValue(g->b, x, 0, ""), LLVMBuildExtractValue(g->b, x, 1, ""),
                            LLVMBuildExtractValue(g->b, y, 0, ""), LLVMBuildExtractValue(g->b, y, 1, "")};
    return gen_call(g, "dsg_str_eq", g->t_i1, args, 4);
  }
  case TY_TUPLE:
  case TY_RECORD: {
    LLVMValueRef r = LLVMConstInt(g->t_i1, 1, 0);
    for (int i = 0; i < nmembers(t); i++)
      r = LLVMBuildAnd(g->b, r,
                       gen_values_eq(g, member(t, i), LLVMBuildExtractValue(g->b, x, (unsigned)i, ""),
                                     LLVMBuildExtractValue(g->b, y, (unsigned)i, "")),
                       "");
    return r;
  }
  case TY_OPTION: {
    LLVMValueRef sx = LLVMBuildExtractValue(g->b, x, 0, ""), sy = LLVMBuildExtractValue(g->b, y, 0, "");
    LLVMValueRef inner = gen_values_eq(g, t->elem, LLVMBuildExtractValue(g->b, x, 1, ""),
                                       LLVMBuildExtractValue(g->b, y, 1, ""));
    /* equal tags, and either both none or equal payloads */
    LLVMValueRef same = LLVMBuildICmp(g->b, LLVMIntEQ, sx, sy, "");
    return LLVMBuildAnd(g->b, same, LLVMBuildOr(g->b, LLVMBuildNot(g->b, sx, ""), inner, ""), "");
  }
  case TY_LIST: {
    LLVMValueRef eq = gen_eq_fn(g, t->elem);
    LLVMValueRef args[6] = {LLVMBuildExtractValue(g->b, x, 0, ""), LLVMBuildExtractValue(g->b, x, 1, ""),
                            LLVMBuildExtractValue(g->b, y, 0, ""), LLVMBuildExtractValue(g->b, y, 1, ""),
                            i64c(g, gen_sizeof(g, t->elem)), eq};
    return gen_call(g, "dsg_list_eq", g->t_i1, args, 6);
  }
  default:
    return LLVMConstInt(g->t_i1, 0, 0);
  }
}

/* -1, 0 or 1 from two "less" and "greater" flags. */
static LLVMValueRef cmp_of(Gen *g, LLVMValueRef lt, LLVMValueRef gt) {
  return LLVMBuildSelect(g->b, lt, i32c(g, -1), LLVMBuildSelect(g->b, gt, i32c(g, 1), i32c(g, 0), ""), "");
}

LLVMValueRef gen_values_cmp(Gen *g, Type *t, LLVMValueRef x, LLVMValueRef y) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION:
    return cmp_of(g, LLVMBuildICmp(g->b, LLVMIntSLT, x, y, ""), LLVMBuildICmp(g->b, LLVMIntSGT, x, y, ""));
  case TY_BOOL:
    return cmp_of(g, LLVMBuildICmp(g->b, LLVMIntULT, x, y, ""), LLVMBuildICmp(g->b, LLVMIntUGT, x, y, ""));
  case TY_FLOAT:
    return cmp_of(g, LLVMBuildFCmp(g->b, LLVMRealOLT, x, y, ""), LLVMBuildFCmp(g->b, LLVMRealOGT, x, y, ""));
  case TY_STRING: {
    LLVMValueRef args[4] = {LLVMBuildExtractValue(g->b, x, 0, ""), LLVMBuildExtractValue(g->b, x, 1, ""),
                            LLVMBuildExtractValue(g->b, y, 0, ""), LLVMBuildExtractValue(g->b, y, 1, "")};
    return gen_call(g, "dsg_str_cmp", g->t_i32, args, 4);
  }
  case TY_TUPLE:
  case TY_RECORD: {
    LLVMValueRef r = i32c(g, 0);
    for (int i = nmembers(t) - 1; i >= 0; i--) {
      LLVMValueRef c = gen_values_cmp(g, member(t, i), LLVMBuildExtractValue(g->b, x, (unsigned)i, ""),
                                      LLVMBuildExtractValue(g->b, y, (unsigned)i, ""));
      r = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntNE, c, i32c(g, 0), ""), c, r, "");
    }
    return r;
  }
  case TY_OPTION: {
    /* none < some(x); some values compare by payload */
    LLVMValueRef sx = LLVMBuildZExt(g->b, LLVMBuildExtractValue(g->b, x, 0, ""), g->t_i32, "");
    LLVMValueRef sy = LLVMBuildZExt(g->b, LLVMBuildExtractValue(g->b, y, 0, ""), g->t_i32, "");
    LLVMValueRef tag = LLVMBuildSub(g->b, sx, sy, "");
    LLVMValueRef inner = gen_values_cmp(g, t->elem, LLVMBuildExtractValue(g->b, x, 1, ""),
                                        LLVMBuildExtractValue(g->b, y, 1, ""));
    LLVMValueRef both = LLVMBuildAnd(g->b, LLVMBuildTrunc(g->b, sx, g->t_i1, ""),
                                     LLVMBuildTrunc(g->b, sy, g->t_i1, ""), "");
    return LLVMBuildSelect(g->b, both, inner, tag, "");
  }
  default:
    return i32c(g, 0);
  }
}

LLVMValueRef gen_eq_fn(Gen *g, Type *t) {
  TypeFns *f = fns_of(g, t);
  if (f->eq)
    return f->eq;
  GenNested h;
  LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
  f->eq = gen_nested_begin(g, &h, "eq", g->t_i1, params, 2);
  always_inline(g, f->eq);
  LLVMTypeRef ty = gen_type(g, t);
  LLVMValueRef x = LLVMBuildLoad2(g->b, ty, LLVMGetParam(f->eq, 0), "x");
  LLVMValueRef y = LLVMBuildLoad2(g->b, ty, LLVMGetParam(f->eq, 1), "y");
  LLVMBuildRet(g->b, gen_values_eq(g, t, x, y));
  gen_nested_end(g, &h);
  return f->eq;
}

LLVMValueRef gen_cmp_fn(Gen *g, Type *t) {
  TypeFns *f = fns_of(g, t);
  if (f->cmp)
    return f->cmp;
  GenNested h;
  LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
  f->cmp = gen_nested_begin(g, &h, "cmp", g->t_i32, params, 2);
  LLVMTypeRef ty = gen_type(g, t);
  LLVMValueRef x = LLVMBuildLoad2(g->b, ty, LLVMGetParam(f->cmp, 0), "x");
  LLVMValueRef y = LLVMBuildLoad2(g->b, ty, LLVMGetParam(f->cmp, 1), "y");
  LLVMBuildRet(g->b, gen_values_cmp(g, t, x, y));
  gen_nested_end(g, &h);
  return f->cmp;
}

/* ---------------------------------------------------------------- */
/* copy: deep copies of strings and lists into a store's arena        */
/* ---------------------------------------------------------------- */

bool gen_has_pointers(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_STRING:
  case TY_LIST:
    return true;
  case TY_TUPLE:
  case TY_RECORD:
    for (int i = 0; i < nmembers(t); i++)
      if (gen_has_pointers(member(t, i)))
        return true;
    return false;
  case TY_OPTION:
    return gen_has_pointers(t->elem);
  default:
    return false;
  }
}

static LLVMValueRef copy_value(Gen *g, Type *t, LLVMValueRef v, LLVMValueRef arena) {
  t = type_repr(t);
  if (!gen_has_pointers(t))
    return v;
  switch (t->kind) {
  case TY_STRING: {
    LLVMValueRef args[3] = {arena, LLVMBuildExtractValue(g->b, v, 0, ""), LLVMBuildExtractValue(g->b, v, 1, "")};
    LLVMValueRef p = gen_call(g, "dsg_copy_bytes", g->t_ptr, args, 3);
    return LLVMBuildInsertValue(g->b, v, p, 0, "");
  }
  case TY_LIST: {
    LLVMValueRef ecopy = gen_has_pointers(t->elem) ? gen_copy_fn(g, t->elem) : LLVMConstNull(g->t_ptr);
    LLVMValueRef args[5] = {arena, LLVMBuildExtractValue(g->b, v, 0, ""), LLVMBuildExtractValue(g->b, v, 1, ""),
                            i64c(g, gen_sizeof(g, t->elem)), ecopy};
    LLVMValueRef p = gen_call(g, "dsg_copy_list", g->t_ptr, args, 5);
    return LLVMBuildInsertValue(g->b, v, p, 0, "");
  }
  case TY_TUPLE:
  case TY_RECORD:
    for (int i = 0; i < nmembers(t); i++)
      v = LLVMBuildInsertValue(
          g->b, v, copy_value(g, member(t, i), LLVMBuildExtractValue(g->b, v, (unsigned)i, ""), arena), (unsigned)i, "");
    return v;
  case TY_OPTION:
    /* A none's payload is zeroed, so copying it copies nothing. */
    return LLVMBuildInsertValue(g->b, v, copy_value(g, t->elem, LLVMBuildExtractValue(g->b, v, 1, ""), arena), 1, "");
  default:
    return v;
  }
}

LLVMValueRef gen_copy_fn(Gen *g, Type *t) {
  if (!gen_has_pointers(t))
    return NULL;
  TypeFns *f = fns_of(g, t);
  if (f->copy)
    return f->copy;
  GenNested h;
  LLVMTypeRef params[3] = {g->t_ptr, g->t_ptr, g->t_ptr};
  f->copy = gen_nested_begin(g, &h, "copy", g->t_void, params, 3);
  LLVMValueRef v = LLVMBuildLoad2(g->b, gen_type(g, t), LLVMGetParam(f->copy, 1), "v");
  LLVMBuildStore(g->b, copy_value(g, t, v, LLVMGetParam(f->copy, 2)), LLVMGetParam(f->copy, 0));
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &h);
  return f->copy;
}

/* ---------------------------------------------------------------- */
/* format: §10's print form                                          */
/* ---------------------------------------------------------------- */

static void put_lit(Gen *g, LLVMValueRef buf, const char *s) {
  Str str = {s, strlen(s)};
  LLVMValueRef lit = gen_string_const(g, str);
  LLVMValueRef args[3] = {buf, LLVMBuildExtractValue(g->b, lit, 0, ""), i64c(g, (int64_t)str.len)};
  gen_call(g, "ds_strbuf_put", g->t_void, args, 3);
}

static void format_value(Gen *g, Type *t, LLVMValueRef v, LLVMValueRef buf) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION: {
    LLVMValueRef args[2] = {buf, v};
    gen_call(g, "dsg_fmt_int", g->t_void, args, 2);
    return;
  }
  case TY_FLOAT: {
    LLVMValueRef args[2] = {buf, v};
    gen_call(g, "dsg_fmt_float", g->t_void, args, 2);
    return;
  }
  case TY_BOOL: {
    LLVMValueRef args[2] = {buf, LLVMBuildZExt(g->b, v, g->t_i32, "")};
    gen_call(g, "dsg_fmt_bool", g->t_void, args, 2);
    return;
  }
  case TY_STRING: {
    LLVMValueRef args[3] = {buf, LLVMBuildExtractValue(g->b, v, 0, ""), LLVMBuildExtractValue(g->b, v, 1, "")};
    gen_call(g, "ds_strbuf_put", g->t_void, args, 3);
    return;
  }
  case TY_TUPLE:
  case TY_RECORD:
    if (t->kind == TY_RECORD)
      put_lit(g, buf, arena_printf(g->a, "%.*s(", (int)t->rec->name.len, t->rec->name.ptr));
    else
      put_lit(g, buf, "(");
    for (int i = 0; i < nmembers(t); i++) {
      if (i)
        put_lit(g, buf, ",");
      format_value(g, member(t, i), LLVMBuildExtractValue(g->b, v, (unsigned)i, ""), buf);
    }
    put_lit(g, buf, ")");
    return;
  case TY_OPTION: {
    LLVMValueRef fn = g->cur->fn;
    LLVMBasicBlockRef bs = LLVMAppendBasicBlockInContext(g->ctx, fn, "some");
    LLVMBasicBlockRef bn = LLVMAppendBasicBlockInContext(g->ctx, fn, "none");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, fn, "done");
    LLVMBuildCondBr(g->b, LLVMBuildExtractValue(g->b, v, 0, ""), bs, bn);
    LLVMPositionBuilderAtEnd(g->b, bs);
    put_lit(g, buf, "some(");
    format_value(g, t->elem, LLVMBuildExtractValue(g->b, v, 1, ""), buf);
    put_lit(g, buf, ")");
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, bn);
    put_lit(g, buf, "none");
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, done);
    return;
  }
  case TY_LIST: {
    LLVMValueRef ef = gen_format_fn(g, t->elem);
    LLVMValueRef args[5] = {buf, LLVMBuildExtractValue(g->b, v, 0, ""), LLVMBuildExtractValue(g->b, v, 1, ""),
                            i64c(g, gen_sizeof(g, t->elem)), ef};
    gen_call(g, "dsg_fmt_list", g->t_void, args, 5);
    return;
  }
  default:
    put_lit(g, buf, "?");
  }
}

LLVMValueRef gen_format_fn(Gen *g, Type *t) {
  TypeFns *f = fns_of(g, t);
  if (f->format)
    return f->format;
  GenNested h;
  LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
  f->format = gen_nested_begin(g, &h, "format", g->t_void, params, 2);
  LLVMValueRef v = LLVMBuildLoad2(g->b, gen_type(g, t), LLVMGetParam(f->format, 0), "v");
  format_value(g, t, v, LLVMGetParam(f->format, 1));
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &h);
  return f->format;
}

/* ---------------------------------------------------------------- */
/* the ds_type constant                                              */
/* ---------------------------------------------------------------- */

/* DS_SHAPE_* of ds_job.h (the compiler does not include the runtime's
 * headers: these values mirror that enum and must change with it). */
enum {
  SHAPE_NONE = 0,
  SHAPE_I64 = 1,
  SHAPE_F64 = 2,
  SHAPE_BOOL = 3,
  SHAPE_STR = 4,
  SHAPE_LIST = 5,
  SHAPE_STRUCT = 6,
  SHAPE_OPTION = 7,
};

/* A private constant array global, or a null pointer when n is 0. */
static LLVMValueRef const_array_or_null(Gen *g, LLVMTypeRef elem, LLVMValueRef *vals, int n, const char *name) {
  if (n == 0)
    return LLVMConstNull(g->t_ptr);
  LLVMValueRef init = LLVMConstArray2(elem, vals, (uint64_t)n);
  LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

/* A ds_type constant holds, besides the functions, the value's shape
 * (ABI 3): the parts' ds_types (made first: types are never recursive, so
 * this ends) and, for tuples, records and options, the parts' offsets in
 * the LLVM struct. */
LLVMValueRef gen_ds_type(Gen *g, Type *t) {
  TypeFns *f = fns_of(g, t);
  if (f->ds_type)
    return f->ds_type;
  LLVMTypeRef ty = gen_type(g, t);
  Type *r = type_repr(t);
  int shape = SHAPE_NONE, nparts = 0;
  bool has_offsets = false;
  switch (r->kind) {
  case TY_INT:
  case TY_TIME:
  case TY_DURATION:
    shape = SHAPE_I64;
    break;
  case TY_FLOAT:
    shape = SHAPE_F64;
    break;
  case TY_BOOL:
    shape = SHAPE_BOOL;
    break;
  case TY_STRING:
    shape = SHAPE_STR;
    break;
  case TY_LIST:
    shape = SHAPE_LIST;
    nparts = 1;
    break;
  case TY_TUPLE:
  case TY_RECORD:
    shape = SHAPE_STRUCT;
    nparts = nmembers(r);
    has_offsets = true;
    break;
  case TY_OPTION:
    shape = SHAPE_OPTION;
    nparts = 1;
    has_offsets = true;
    break;
  default:
    break;
  }
  LLVMValueRef part_types[nparts ? nparts : 1], part_offsets[nparts ? nparts : 1];
  for (int i = 0; i < nparts; i++) {
    Type *pt = shape == SHAPE_STRUCT ? member(r, i) : r->elem;
    part_types[i] = gen_ds_type(g, pt);
    /* The option's value is element 1 of { i1 some, T value }. */
    part_offsets[i] = i64c(g, (int64_t)LLVMOffsetOfElement(g->td, ty, shape == SHAPE_OPTION ? 1u : (unsigned)i));
  }
  int id = ++g->counter;
  LLVMValueRef parts = const_array_or_null(g, g->t_ptr, part_types, nparts, arena_printf(g->a, "dstype.%d.fields", id));
  LLVMValueRef offsets = has_offsets ? const_array_or_null(g, g->t_i64, part_offsets, nparts,
                                                           arena_printf(g->a, "dstype.%d.offsets", id))
                                     : LLVMConstNull(g->t_ptr);

  const char *name = type_str(g->a, t);
  LLVMValueRef null = LLVMConstNull(g->t_ptr);
  LLVMValueRef copy = gen_copy_fn(g, t);
  LLVMValueRef fields[] = {
      /* NUL-terminated (the runtime prints it with %s) */
      LLVMBuildExtractValue(g->b, gen_string_const(g, (Str){name, strlen(name) + 1}), 0, ""),
      i64c(g, (int64_t)LLVMABISizeOfType(g->td, ty)),
      i64c(g, (int64_t)LLVMABIAlignmentOfType(g->td, ty)),
      copy ? copy : null,
      gen_format_fn(g, t),
      type_unhashable_reason(t) ? null : gen_hash_fn(g, t),
      type_unhashable_reason(t) && type_repr(t)->kind != TY_FLOAT ? null : gen_eq_fn(g, t),
      type_is_orderable(t) ? gen_cmp_fn(g, t) : null,
      /* ABI 3 */
      i32c(g, shape),
      i32c(g, nparts),
      parts,
      offsets,
  };
  LLVMTypeRef ft[] = {g->t_ptr, g->t_i64, g->t_i64, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr,
                      g->t_i32, g->t_i32, g->t_ptr, g->t_ptr};
  enum { NFIELDS = sizeof ft / sizeof ft[0] };
  _Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "ds_type fields");
  LLVMTypeRef st = LLVMStructTypeInContext(g->ctx, ft, NFIELDS, 0);
  LLVMValueRef gv = LLVMAddGlobal(g->mod, st, arena_printf(g->a, "dstype.%d", id));
  LLVMSetInitializer(gv, LLVMConstNamedStruct(st, fields, NFIELDS));
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  f->ds_type = gv;
  return gv;
}
