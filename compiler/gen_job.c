/*
 * gen_job.c — the fused stage loops and the ds_job table of a job.
 *
 * In: the Plan. Out: in the module, one ds_node per runtime operator, a
 * stage function per chain of element-wise operators, the reduce, filter
 * and init functions, the ds_job constant and `main`.
 *
 * Fusion: the element-wise operators between two materialised streams
 * (map, flatMap, filter, mapValues, flatMapValues) become one loop over the
 * input partition, with flatMap as a nested loop, so no element between
 * them is ever stored. When the chain feeds reduceByKey or a keyed window
 * (and nothing else reads it), the loop ends by combining into the
 * partition's hash map (DS_STAGE_COMBINE): the map side of the reduce,
 * before the shuffle. countByValue, countByWindow and countByValueAndWindow
 * are lowered to their definitions in §7 (a map to (x, 1) or 1, then the
 * reduce with + and -).
 */
#include "gen.h"

#include <string.h>

static LLVMValueRef i64c(Gen *g, int64_t v) { return LLVMConstInt(g->t_i64, (unsigned long long)v, 1); }
static LLVMValueRef i32c(Gen *g, int v) { return LLVMConstInt(g->t_i32, (unsigned long long)v, 1); }

/* ds_node_kind of ds_job.h. */
enum {
  K_SOURCE_SOCKET, K_SOURCE_TEXTFILES, K_SOURCE_TEXTFILE, K_SOURCE_BATCHES, K_STAGE, K_STAGE_COMBINE,
  K_UNION, K_COUNT, K_REDUCE, K_REDUCE_BY_KEY, K_WINDOW, K_REDUCE_BY_WINDOW, K_REDUCE_BY_KEY_AND_WINDOW,
  K_PRINT, K_SAVE_TEXT, K_GROUP_BY_KEY, K_JOIN, K_LEFT_OUTER_JOIN, K_RIGHT_OUTER_JOIN, K_FULL_OUTER_JOIN,
  K_COGROUP, K_DISTINCT, K_REPARTITION, K_SORT_BY, K_TOP, K_UPDATE_STATE_BY_KEY, K_MAP_WITH_STATE,
  K_STATE_SNAPSHOTS,
};

/* One step of a fused chain. */
typedef enum StepKind {
  STEP_OP,       /* a plan node: map, flatMap, filter, mapValues, flatMapValues */
  STEP_PAIR_ONE, /* x => (x, 1) */
  STEP_ONE,      /* x => 1 */
} StepKind;

typedef struct Step {
  StepKind kind;
  PlanNode *node;
} Step;

/* A runtime node being built. */
typedef struct DsNode {
  int kind;
  PlanNode *plan;          /* the plan node it stands for (or that made it) */
  int inputs[2], ninputs;
  Type *elem, *key, *val;  /* output element, and K, V for keyed nodes */
  LLVMValueRef run, reduce, inv_reduce, filter;
  int64_t window_ms, slide_ms;
  Expr *str_arg, *str_arg2, *int_arg; /* expressions init evaluates */
  int64_t int_const;       /* int_arg when constant */
  bool flag;
  const char *op;
  int index;               /* in JobGen.nodes */
  Type *val2, *state;      /* W of a second input; S of state operators */
  LLVMValueRef make, key_of, update, map_state, on_timeout;
  int64_t timeout_ms;
  Expr *initial;           /* initial: of state operators, evaluated by init */
} DsNode;

typedef struct JobGen {
  Gen *g;
  PtrVec nodes;        /* DsNode* */
  int *node_of;        /* plan id -> ds node index of its stream, -1 if not materialised */
  PtrVec **chain_of;   /* plan id -> Step* chain ending at this element-wise node (NULL if none) */
} JobGen;

static DsNode *add_node(JobGen *j, int kind, PlanNode *plan, Type *elem) {
  DsNode *n = arena_alloc(j->g->a, sizeof *n);
  n->kind = kind;
  n->plan = plan;
  n->elem = elem;
  n->op = plan ? plan->op->name : "";
  n->index = j->nodes.len;
  vec_push(j->g->a, &j->nodes, n);
  return n;
}

/* A node with one input, added after the input (the table is topological). */
static DsNode *add_input_node(JobGen *j, int kind, PlanNode *plan, Type *elem, int input) {
  DsNode *n = add_node(j, kind, plan, elem);
  n->inputs[0] = input;
  n->ninputs = 1;
  return n;
}

static int index_of(DsNode *n) { return n->index; }

static Type *elem_of(PlanNode *n) { return type_repr(n->ty)->elem; }

/* ---------------------------------------------------------------- */
/* functions for the runtime                                         */
/* ---------------------------------------------------------------- */

/* void reduce(ds_ctx *, T *acc, const T *v): *acc = f(*acc, *v). f NULL: integer +. */
static LLVMValueRef gen_reduce_fn(Gen *g, Expr *f, Type *t, bool subtract) {
  GenNested s;
  LLVMTypeRef params[3] = {g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "reduce", g->t_void, params, 3);
  LLVMTypeRef ty = gen_type(g, t);
  LLVMValueRef acc = LLVMGetParam(fn, 1);
  LLVMValueRef args[2] = {LLVMBuildLoad2(g->b, ty, acc, "a"), LLVMBuildLoad2(g->b, ty, LLVMGetParam(fn, 2), "b")};
  LLVMValueRef r;
  if (f)
    r = gen_apply(g, f, args, 2);
  else
    r = subtract ? LLVMBuildSub(g->b, args[0], args[1], "") : LLVMBuildAdd(g->b, args[0], args[1], "");
  LLVMBuildStore(g->b, r, acc);
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &s);
  return fn;
}

/* bool pred(ds_ctx *, const T *elem). f NULL: the count is not 0 (countByValueAndWindow). */
static LLVMValueRef gen_pred_fn(Gen *g, Expr *f, Type *t) {
  GenNested s;
  LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "pred", g->t_i1, params, 2);
  LLVMValueRef v = LLVMBuildLoad2(g->b, gen_type(g, t), LLVMGetParam(fn, 1), "v");
  LLVMValueRef r;
  if (f) {
    r = gen_apply(g, f, &v, 1);
  } else {
    LLVMValueRef c = LLVMBuildExtractValue(g->b, v, 1, "");
    r = LLVMBuildICmp(g->b, LLVMIntNE, c, i64c(g, 0), "");
  }
  LLVMBuildRet(g->b, r);
  gen_nested_end(g, &s);
  return fn;
}

/* Loads *p as t, or gives none/some when p may be NULL (t is then the option type). */
static LLVMValueRef load_maybe(Gen *g, Type *opt, LLVMValueRef p) {
  Type *inner = type_repr(opt)->elem;
  LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
  LLVMBasicBlockRef yes = gen_block(g, "present"), done = gen_block(g, "loaded");
  LLVMBuildCondBr(g->b, LLVMBuildIsNotNull(g->b, p, ""), yes, done);
  LLVMPositionBuilderAtEnd(g->b, yes);
  LLVMValueRef some = LLVMConstNull(gen_type(g, opt));
  some = LLVMBuildInsertValue(g->b, some, LLVMConstInt(g->t_i1, 1, 0), 0, "");
  some = LLVMBuildInsertValue(g->b, some, LLVMBuildLoad2(g->b, gen_type(g, inner), p, ""), 1, "");
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
  LLVMValueRef phi = LLVMBuildPhi(g->b, gen_type(g, opt), "");
  LLVMValueRef vals[2] = {LLVMConstNull(gen_type(g, opt)), some};
  LLVMBasicBlockRef blocks[2] = {here, yes};
  LLVMAddIncoming(phi, vals, blocks, 2);
  return phi;
}

/* void make(ctx, out, a, b, c) building out = (*a, *b) of type `out_t` = (A, B);
 * with `nested`, out = (*a, (*b, *c)), where b (maybe_b) or c (maybe_c) may be
 * NULL for a missing side and then becomes none. */
static LLVMValueRef gen_make_fn(Gen *g, Type *out_t, bool nested, bool maybe_b, bool maybe_c) {
  GenNested s;
  LLVMTypeRef params[5] = {g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "make", g->t_void, params, 5);
  Type *ot = type_repr(out_t);
  LLVMValueRef out = LLVMGetUndef(gen_type(g, ot));
  out = LLVMBuildInsertValue(g->b, out, LLVMBuildLoad2(g->b, gen_type(g, ot->elems[0]), LLVMGetParam(fn, 2), ""), 0, "");
  if (!nested) {
    out = LLVMBuildInsertValue(g->b, out, LLVMBuildLoad2(g->b, gen_type(g, ot->elems[1]), LLVMGetParam(fn, 3), ""), 1,
                               "");
  } else {
    Type *it = type_repr(ot->elems[1]);
    LLVMValueRef inner = LLVMGetUndef(gen_type(g, it));
    for (int i = 0; i < 2; i++) {
      Type *et = type_repr(it->elems[i]);
      LLVMValueRef p = LLVMGetParam(fn, (unsigned)(3 + i));
      bool maybe = i == 0 ? maybe_b : maybe_c;
      LLVMValueRef v = maybe ? load_maybe(g, et, p) : LLVMBuildLoad2(g->b, gen_type(g, et), p, "");
      inner = LLVMBuildInsertValue(g->b, inner, v, (unsigned)i, "");
    }
    out = LLVMBuildInsertValue(g->b, out, inner, 1, "");
  }
  LLVMBuildStore(g->b, out, LLVMGetParam(fn, 1));
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &s);
  return fn;
}

/* void key_of(ctx, key*, elem*): *key = f(*elem). */
static LLVMValueRef gen_key_fn(Gen *g, Expr *f, Type *elem) {
  GenNested s;
  LLVMTypeRef params[3] = {g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "key_of", g->t_void, params, 3);
  LLVMValueRef v = LLVMBuildLoad2(g->b, gen_type(g, elem), LLVMGetParam(fn, 2), "");
  LLVMBuildStore(g->b, gen_apply(g, f, &v, 1), LLVMGetParam(fn, 1));
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &s);
  return fn;
}

/* Stores option o's payload to p when it is some; returns its tag. */
static LLVMValueRef store_some(Gen *g, LLVMValueRef o, LLVMValueRef p) {
  LLVMValueRef tag = LLVMBuildExtractValue(g->b, o, 0, "");
  LLVMBasicBlockRef yes = gen_block(g, "some"), done = gen_block(g, "stored");
  LLVMBuildCondBr(g->b, tag, yes, done);
  LLVMPositionBuilderAtEnd(g->b, yes);
  LLVMBuildStore(g->b, LLVMBuildExtractValue(g->b, o, 1, ""), p);
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
  return tag;
}

/* bool update(ctx, new_state*, const ds_list *values, const S *state_or_null) */
static LLVMValueRef gen_update_fn(Gen *g, Expr *f, Type *state_t) {
  GenNested s;
  LLVMTypeRef params[4] = {g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "update", g->t_i1, params, 4);
  LLVMValueRef args[2] = {LLVMBuildLoad2(g->b, g->t_str, LLVMGetParam(fn, 2), "values"),
                          load_maybe(g, type_option(g->a, state_t), LLVMGetParam(fn, 3))};
  LLVMValueRef r = gen_apply(g, f, args, 2);
  LLVMBuildRet(g->b, store_some(g, r, LLVMGetParam(fn, 1)));
  gen_nested_end(g, &s);
  return fn;
}

/* bool map_state(ctx, k*, v*, state*, bool *has_state, out*) */
static LLVMValueRef gen_map_state_fn(Gen *g, Expr *f, Type *k, Type *v, Type *state_t) {
  GenNested s;
  LLVMTypeRef params[6] = {g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "map_state", g->t_i1, params, 6);
  LLVMValueRef has = LLVMGetParam(fn, 4), st = LLVMGetParam(fn, 3);
  LLVMValueRef has_v = LLVMBuildTrunc(g->b, LLVMBuildLoad2(g->b, g->t_i8, has, ""), g->t_i1, "");
  Type *opt = type_option(g->a, state_t);
  LLVMValueRef sv = LLVMConstNull(gen_type(g, opt));
  sv = LLVMBuildInsertValue(g->b, sv, has_v, 0, "");
  LLVMValueRef loaded = LLVMBuildLoad2(g->b, gen_type(g, state_t), st, "");
  sv = LLVMBuildInsertValue(g->b, sv, LLVMBuildSelect(g->b, has_v, loaded, LLVMConstNull(gen_type(g, state_t)), ""), 1, "");
  LLVMValueRef args[3] = {LLVMBuildLoad2(g->b, gen_type(g, k), LLVMGetParam(fn, 1), ""),
                          LLVMBuildLoad2(g->b, gen_type(g, v), LLVMGetParam(fn, 2), ""), sv};
  LLVMValueRef r = gen_apply(g, f, args, 3);
  LLVMValueRef ns = LLVMBuildExtractValue(g->b, r, 0, "");
  LLVMBuildStore(g->b, LLVMBuildZExt(g->b, store_some(g, ns, st), g->t_i8, ""), has);
  LLVMBuildRet(g->b, store_some(g, LLVMBuildExtractValue(g->b, r, 1, ""), LLVMGetParam(fn, 5)));
  gen_nested_end(g, &s);
  return fn;
}

/* bool on_timeout(ctx, k*, state*, out*) */
static LLVMValueRef gen_timeout_fn(Gen *g, Expr *f, Type *k, Type *state_t) {
  GenNested s;
  LLVMTypeRef params[4] = {g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "on_timeout", g->t_i1, params, 4);
  LLVMValueRef args[2] = {LLVMBuildLoad2(g->b, gen_type(g, k), LLVMGetParam(fn, 1), ""),
                          LLVMBuildLoad2(g->b, gen_type(g, state_t), LLVMGetParam(fn, 2), "")};
  LLVMValueRef r = gen_apply(g, f, args, 2);
  LLVMBuildRet(g->b, store_some(g, r, LLVMGetParam(fn, 3)));
  gen_nested_end(g, &s);
  return fn;
}

/* ---------------------------------------------------------------- */
/* fused stages                                                      */
/* ---------------------------------------------------------------- */

typedef struct StageGen {
  Gen *g;
  Step *steps;
  int nsteps;
  bool combine;          /* sink is a ds_map */
  Type *out_elem;        /* element type at the end of the chain */
  LLVMValueRef sink;     /* ds_part* or ds_map* */
  LLVMValueRef reduce;   /* combine: the reduce function on V */
  Type *key, *val;
  bool input_compact;    /* combine: the input's strings already live in a store (a keyed
                          * operator's output), so new keys need not be copied */
  bool release;          /* combine: values hold no strings, so nothing a record allocates
                          * outlives its upsert (keys are copied into the map's store) */
  LLVMValueRef mark;     /* combine with release: the arena mark records are released to */
  LLVMTypeRef item_t;    /* combine: a pending pair, {i64 hash, ds_map *map, pair} */
  LLVMValueRef pending;  /* combine: COMBINE_PENDING items */
  LLVMValueRef npending; /* combine: i64, how many are pending */
  LLVMValueRef nrecords; /* combine: i64, records read since the last flush */
  LLVMValueRef flush;    /* combine: combine_flush */
} StageGen;

/* A combine stage does not upsert a pair as it is emitted: the pair waits,
 * with its hash, while the cache lines of its slot are prefetched, and the
 * upserts run together when COMBINE_PENDING pairs wait or COMBINE_RECORDS
 * records were read (so the map's misses overlap instead of stalling each
 * record). Pairs are upserted in the order they were emitted. Records'
 * allocations are released after each flush, so at most COMBINE_RECORDS
 * records' memory is held. */
enum { COMBINE_PENDING = 64, COMBINE_RECORDS = 16 };

/* The block that drops the current record: counts it against its site
 * and goes on with `next`. */
static LLVMBasicBlockRef drop_block(Gen *g, LLVMBasicBlockRef next) {
  LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
  LLVMBasicBlockRef drop = gen_block(g, "drop");
  LLVMPositionBuilderAtEnd(g->b, drop);
  LLVMValueRef ctx = g->cur->ctx;
  LLVMValueRef site = LLVMBuildLoad2(g->b, g->t_i32, LLVMBuildStructGEP2(g->b, g->t_ctx, ctx, CTX_ERR_SITE, ""), "");
  LLVMValueRef counts = LLVMBuildLoad2(g->b, g->t_ptr, LLVMBuildStructGEP2(g->b, g->t_ctx, ctx, CTX_SITE_ERRORS, ""), "");
  LLVMValueRef idx = LLVMBuildSExt(g->b, site, g->t_i64, "");
  LLVMValueRef slot = LLVMBuildGEP2(g->b, g->t_i64, counts, &idx, 1, "");
  LLVMBuildStore(g->b, LLVMBuildAdd(g->b, LLVMBuildLoad2(g->b, g->t_i64, slot, ""), i64c(g, 1), ""), slot);
  LLVMBuildStore(g->b, i32c(g, 0), LLVMBuildStructGEP2(g->b, g->t_ctx, ctx, CTX_ERR, ""));
  LLVMBuildBr(g->b, next);
  LLVMPositionBuilderAtEnd(g->b, here);
  return drop;
}

/* Upserts one pending pair (at `tmp`, hash h) into its map: a new key is
 * stored (its strings copied into the map's store when they could be
 * released), an old one combined with the reduce function. */
static void emit_upsert(StageGen *sg, LLVMValueRef map, LLVMValueRef h, LLVMValueRef tmp, LLVMValueRef mark) {
  Gen *g = sg->g;
  LLVMTypeRef ty = gen_type(g, sg->out_elem);
  LLVMValueRef inserted = gen_entry_alloca(g, g->t_i8, "inserted");
  LLVMValueRef uargs[5] = {map, h, tmp, gen_eq_fn(g, sg->key), inserted};
  LLVMValueRef slot = gen_call(g, "ds_map_upsert", g->t_ptr, uargs, 5);
  LLVMValueRef ins = LLVMBuildTrunc(g->b, LLVMBuildLoad2(g->b, g->t_i8, inserted, ""), g->t_i1, "");
  LLVMBasicBlockRef bnew = gen_block(g, "new"), bold = gen_block(g, "combine"), done = gen_block(g, "combined");
  LLVMBuildCondBr(g->b, ins, bnew, bold);
  LLVMPositionBuilderAtEnd(g->b, bnew);
  LLVMBuildStore(g->b, LLVMBuildLoad2(g->b, ty, tmp, ""), slot);
  if (gen_has_pointers(sg->key) && (!sg->input_compact || mark)) {
    /* A new key's strings move into the map's store: compact (later hits
     * compare against them), and they outlive the records (whose
     * allocations a stage may release). When the input's strings already
     * sit in a store, a key is copied only if the records since the last
     * release allocated memory that it would take back; otherwise the key
     * keeps pointing where the input's does, and equal keys compare by
     * address. */
    LLVMBasicBlockRef bcopy = gen_block(g, "copy_key"), bcopied = gen_block(g, "key_kept");
    if (sg->input_compact) {
      LLVMValueRef margs[2] = {g->cur->ctx, mark};
      LLVMValueRef grew = gen_call(g, "dsg_arena_grew", g->t_i1, margs, 2);
      LLVMBuildCondBr(g->b, grew, bcopy, bcopied);
    } else {
      LLVMBuildBr(g->b, bcopy);
    }
    LLVMPositionBuilderAtEnd(g->b, bcopy);
    /* Strings in a key of several fields repeat (a url in every window's
     * key): the store keeps one copy of each (intern.c). */
    TypeKind kk = type_repr(sg->key)->kind;
    const char *get_store = kk == TY_TUPLE || kk == TY_RECORD ? "ds_map_store_interned" : "ds_map_store";
    LLVMValueRef store = gen_call(g, get_store, g->t_ptr, &map, 1);
    LLVMValueRef cargs[3] = {slot, slot, store};
    LLVMValueRef cf = gen_copy_fn(g, sg->key);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(cf), cf, cargs, 3, "");
    LLVMBuildBr(g->b, bcopied);
    LLVMPositionBuilderAtEnd(g->b, bcopied);
  }
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, bold);
  LLVMValueRef voff = i64c(g, (int64_t)LLVMOffsetOfElement(g->td, ty, 1));
  LLVMValueRef rargs[3] = {g->cur->ctx, LLVMBuildGEP2(g->b, g->t_i8, slot, &voff, 1, ""),
                           LLVMBuildGEP2(g->b, g->t_i8, tmp, &voff, 1, "")};
  LLVMBuildCall2(g->b, LLVMGlobalGetValueType(sg->reduce), sg->reduce, rargs, 3, "");
  /* A failing reduce function keeps the accumulated value and drops this one. */
  gen_check_err(g);
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
}

/* void flush(ds_ctx *ctx, item *pending, i64 n, ds_arena_mark *mark): the
 * upserts of the pending pairs, in the order they were emitted. */
static LLVMValueRef gen_combine_flush(StageGen *sg) {
  Gen *g = sg->g;
  GenNested s;
  LLVMTypeRef params[4] = {g->t_ptr, g->t_ptr, g->t_i64, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "combine_flush", g->t_void, params, 4);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(g->ctx, LLVMGetEnumAttributeKindForName("noinline", 8), 0));
  GenLoop l;
  gen_loop_begin(g, &l, NULL, LLVMGetParam(fn, 2), NULL);
  g->cur->fail = drop_block(g, l.next);
  LLVMValueRef item = LLVMBuildGEP2(g->b, sg->item_t, LLVMGetParam(fn, 1), &l.i, 1, "item");
  LLVMValueRef h = LLVMBuildLoad2(g->b, g->t_i64, LLVMBuildStructGEP2(g->b, sg->item_t, item, 0, ""), "h");
  LLVMValueRef map = LLVMBuildLoad2(g->b, g->t_ptr, LLVMBuildStructGEP2(g->b, sg->item_t, item, 1, ""), "map");
  LLVMValueRef tmp = LLVMBuildStructGEP2(g->b, sg->item_t, item, 2, "pair");
  emit_upsert(sg, map, h, tmp, LLVMGetParam(fn, 3));
  gen_loop_end(g, &l);
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &s);
  return fn;
}

/* Hands the pending pairs to combine_flush and empties the buffer. */
static void emit_flush(StageGen *sg) {
  Gen *g = sg->g;
  LLVMValueRef args[4] = {g->cur->ctx, sg->pending, LLVMBuildLoad2(g->b, g->t_i64, sg->npending, ""),
                          sg->mark ? sg->mark : LLVMConstNull(g->t_ptr)};
  LLVMBuildCall2(g->b, LLVMGlobalGetValueType(sg->flush), sg->flush, args, 4, "");
  LLVMBuildStore(g->b, i64c(g, 0), sg->npending);
}

static void emit_sink(StageGen *sg, LLVMValueRef v) {
  Gen *g = sg->g;
  if (!sg->combine) {
    LLVMTypeRef ty = gen_type(g, sg->out_elem);
    LLVMValueRef args[2] = {sg->sink, i64c(g, (int64_t)LLVMABISizeOfType(g->td, ty))};
    LLVMValueRef slot = gen_call(g, "ds_part_push", g->t_ptr, args, 2);
    LLVMBuildStore(g->b, v, slot);
    return;
  }
  /* The pair waits in the pending buffer with its hash and map while the
   * cache lines of its slot are fetched; combine_flush upserts it later. */
  LLVMValueRef k = LLVMBuildLoad2(g->b, g->t_i64, sg->npending, "k");
  LLVMValueRef item = LLVMBuildGEP2(g->b, sg->item_t, sg->pending, &k, 1, "item");
  LLVMValueRef tmp = LLVMBuildStructGEP2(g->b, sg->item_t, item, 2, "pair");
  LLVMBuildStore(g->b, v, tmp);
  LLVMValueRef hfn = gen_hash_fn(g, sg->key);
  LLVMValueRef h = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(hfn), hfn, &tmp, 1, "h");
  /* The map of the destination partition, the start of its probe prefetched. */
  LLVMValueRef rargs[2] = {sg->sink, h};
  LLVMValueRef map = gen_call(g, "ds_map_set_route", g->t_ptr, rargs, 2);
  LLVMBuildStore(g->b, h, LLVMBuildStructGEP2(g->b, sg->item_t, item, 0, ""));
  LLVMBuildStore(g->b, map, LLVMBuildStructGEP2(g->b, sg->item_t, item, 1, ""));
  LLVMValueRef k1 = LLVMBuildAdd(g->b, k, i64c(g, 1), "");
  LLVMBuildStore(g->b, k1, sg->npending);
  LLVMBasicBlockRef bfull = gen_block(g, "pending_full"), bon = gen_block(g, "pending_kept");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, k1, i64c(g, COMBINE_PENDING), ""), bfull, bon);
  LLVMPositionBuilderAtEnd(g->b, bfull);
  emit_flush(sg);
  LLVMBuildBr(g->b, bon);
  LLVMPositionBuilderAtEnd(g->b, bon);
}

static void emit_chain(StageGen *sg, int k, LLVMValueRef v, Type *vt);

/* The pair (key, value) of type pair_t. */
static LLVMValueRef make_pair(Gen *g, Type *pair_t, LLVMValueRef key, LLVMValueRef value) {
  LLVMValueRef p = LLVMGetUndef(gen_type(g, pair_t));
  p = LLVMBuildInsertValue(g->b, p, key, 0, "");
  return LLVMBuildInsertValue(g->b, p, value, 1, "");
}

/* The builtin call `name(...)` that e is, or NULL. */
static Expr *builtin_call(Expr *e, BuiltinKind kind) {
  return e && e->kind == EX_CALL && e->builtin && e->builtin->kind == kind ? e : NULL;
}

/* flatMap(x => map(xs, y => e)): loops over xs (over 0..n-1 for range(n))
 * and emits each e, without building either list. The lambdas are generated
 * in place, so the inner one may use x. `key` is set for flatMapValues.
 * Returns false when f has another shape. */
static bool emit_flat_map_of_map(StageGen *sg, int k, Expr *f, LLVMValueRef arg, LLVMValueRef key, Type *out) {
  Gen *g = sg->g;
  Expr *map = f->kind == EX_LAMBDA ? builtin_call(f->body, BI_MAPLIST) : NULL;
  Expr *inner = map ? ((Arg *)map->args.items[1])->value : NULL;
  if (!inner || inner->kind != EX_LAMBDA)
    return false;
  Expr *src = ((Arg *)map->args.items[0])->value;
  Expr *range = builtin_call(src, BI_RANGE);
  GenVar *saved_vars = g->cur->vars;
  gen_bind_params(g, f, &arg, 1); /* x stays bound for the whole loop */
  GenLoop l;
  if (range) {
    LLVMValueRef n = gen_expr(g, ((Arg *)range->args.items[0])->value);
    gen_loop_begin(g, &l, NULL, n, NULL);
  } else {
    LLVMValueRef list = gen_expr(g, src);
    gen_loop_begin(g, &l, LLVMBuildExtractValue(g->b, list, 0, ""), LLVMBuildExtractValue(g->b, list, 1, ""),
                   type_repr(src->ty)->elem);
  }
  /* A record error inside drops only that item. */
  LLVMBasicBlockRef saved_fail = g->cur->fail;
  g->cur->fail = drop_block(g, l.next);
  LLVMValueRef item = gen_inline_lambda(g, inner, &l.elem, 1);
  if (key)
    item = make_pair(g, out, key, item);
  emit_chain(sg, k + 1, item, out);
  g->cur->fail = saved_fail;
  gen_loop_end(g, &l);
  g->cur->vars = saved_vars;
  return true;
}

/* Generates steps k.. applied to value v, in the current block. */
static void emit_chain(StageGen *sg, int k, LLVMValueRef v, Type *vt) {
  Gen *g = sg->g;
  if (k == sg->nsteps) {
    emit_sink(sg, v);
    return;
  }
  Step *st = &sg->steps[k];
  if (st->kind == STEP_PAIR_ONE) {
    Type *pt = type_pair(g->a, vt, type_prim(TY_INT));
    emit_chain(sg, k + 1, make_pair(g, pt, v, i64c(g, 1)), pt);
    return;
  }
  if (st->kind == STEP_ONE) {
    emit_chain(sg, k + 1, i64c(g, 1), type_prim(TY_INT));
    return;
  }
  PlanNode *n = st->node;
  Expr *f = ((Arg *)n->call->args.items[0])->value;
  Type *out = elem_of(n);
  switch (n->op->kind) {
  case OP_MAP:
    emit_chain(sg, k + 1, gen_apply(g, f, &v, 1), out);
    return;
  case OP_FILTER: {
    LLVMValueRef keep = gen_apply(g, f, &v, 1);
    LLVMBasicBlockRef yes = gen_block(g, "keep"), done = gen_block(g, "skip");
    LLVMBuildCondBr(g->b, keep, yes, done);
    LLVMPositionBuilderAtEnd(g->b, yes);
    emit_chain(sg, k + 1, v, out);
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, done);
    return;
  }
  case OP_MAPVALUES: {
    LLVMValueRef val = LLVMBuildExtractValue(g->b, v, 1, "");
    LLVMValueRef r = gen_apply(g, f, &val, 1);
    emit_chain(sg, k + 1, make_pair(g, out, LLVMBuildExtractValue(g->b, v, 0, ""), r), out);
    return;
  }
  case OP_FLATMAP:
  case OP_FLATMAPVALUES: {
    bool values = n->op->kind == OP_FLATMAPVALUES;
    LLVMValueRef arg = values ? LLVMBuildExtractValue(g->b, v, 1, "") : v;
    if (emit_flat_map_of_map(sg, k, f, arg, values ? LLVMBuildExtractValue(g->b, v, 0, "") : NULL, out))
      return;
    LLVMValueRef r = gen_apply(g, f, &arg, 1);
    Type *rt = type_repr(type_repr(f->ty)->ret);
    Type *item_t = rt->elem;
    /* Builds the element the next step sees from one item of the result. */
    LLVMValueRef key = values ? LLVMBuildExtractValue(g->b, v, 0, "") : NULL;
    if (rt->kind == TY_OPTION) {
      LLVMBasicBlockRef yes = gen_block(g, "some"), done = gen_block(g, "none");
      LLVMBuildCondBr(g->b, LLVMBuildExtractValue(g->b, r, 0, ""), yes, done);
      LLVMPositionBuilderAtEnd(g->b, yes);
      LLVMValueRef item = LLVMBuildExtractValue(g->b, r, 1, "");
      if (values)
        item = make_pair(g, out, key, item);
      emit_chain(sg, k + 1, item, out);
      LLVMBuildBr(g->b, done);
      LLVMPositionBuilderAtEnd(g->b, done);
      return;
    }
    /* A list: a nested loop; a record error inside drops only that item. */
    GenLoop l;
    gen_loop_begin(g, &l, LLVMBuildExtractValue(g->b, r, 0, ""), LLVMBuildExtractValue(g->b, r, 1, ""), item_t);
    LLVMValueRef item = l.elem;
    if (values) {
      LLVMValueRef p = LLVMGetUndef(gen_type(g, out));
      p = LLVMBuildInsertValue(g->b, p, key, 0, "");
      item = LLVMBuildInsertValue(g->b, p, item, 1, "");
    }
    LLVMBasicBlockRef saved_fail = g->cur->fail;
    g->cur->fail = drop_block(g, l.next);
    emit_chain(sg, k + 1, item, out);
    g->cur->fail = saved_fail;
    gen_loop_end(g, &l);
    return;
  }
  default:
    emit_chain(sg, k + 1, v, out);
    return;
  }
}

/* void stage(ds_ctx *ctx, const ds_part *in, void *sink) */
static LLVMValueRef gen_stage_fn(StageGen *sg, Type *in_elem) {
  Gen *g = sg->g;
  GenNested s;
  LLVMTypeRef params[3] = {g->t_ptr, g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "stage", g->t_void, params, 3);
  sg->sink = LLVMGetParam(fn, 2);
  LLVMValueRef in = LLVMGetParam(fn, 1);
  LLVMTypeRef part_t = LLVMStructTypeInContext(g->ctx, (LLVMTypeRef[]){g->t_ptr, g->t_i64, g->t_i64}, 3, 0);
  LLVMValueRef data = LLVMBuildLoad2(g->b, g->t_ptr, LLVMBuildStructGEP2(g->b, part_t, in, 0, ""), "data");
  LLVMValueRef n = LLVMBuildLoad2(g->b, g->t_i64, LLVMBuildStructGEP2(g->b, part_t, in, 1, ""), "n");
  /* In a combine stage whose values hold no strings nothing a record
   * allocates outlives its upsert (keys are copied into the map's store):
   * release it after each flush, so memory does not grow with the batch. */
  bool release = sg->release;
  LLVMValueRef mark = release ? gen_entry_alloca(g, LLVMArrayType2(g->t_i64, 3), "mark") : NULL;
  LLVMValueRef margs[2] = {g->cur->ctx, mark};
  sg->mark = mark;
  if (release)
    gen_call(g, "dsg_arena_mark", g->t_void, margs, 2);
  if (sg->combine) {
    LLVMTypeRef f[3] = {g->t_i64, g->t_ptr, gen_type(g, sg->out_elem)};
    sg->item_t = LLVMStructTypeInContext(g->ctx, f, 3, 0);
    sg->pending = gen_entry_alloca(g, LLVMArrayType2(sg->item_t, COMBINE_PENDING), "pending");
    sg->npending = gen_entry_alloca(g, g->t_i64, "npending");
    sg->nrecords = gen_entry_alloca(g, g->t_i64, "nrecords");
    LLVMBuildStore(g->b, i64c(g, 0), sg->npending);
    LLVMBuildStore(g->b, i64c(g, 0), sg->nrecords);
    sg->flush = gen_combine_flush(sg);
  }
  GenLoop l;
  gen_loop_begin(g, &l, data, n, in_elem);
  g->cur->fail = drop_block(g, l.next);
  emit_chain(sg, 0, l.elem, in_elem);
  gen_loop_next(g, &l);
  if (sg->combine) {
    /* Every COMBINE_RECORDS records: flush, then release what they allocated. */
    LLVMValueRef r = LLVMBuildAdd(g->b, LLVMBuildLoad2(g->b, g->t_i64, sg->nrecords, ""), i64c(g, 1), "");
    LLVMBasicBlockRef bflush = gen_block(g, "flush"), bon = gen_block(g, "read_on");
    LLVMBuildStore(g->b, r, sg->nrecords);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, r, i64c(g, COMBINE_RECORDS), ""), bflush, bon);
    LLVMPositionBuilderAtEnd(g->b, bflush);
    emit_flush(sg);
    LLVMBuildStore(g->b, i64c(g, 0), sg->nrecords);
    if (release)
      gen_call(g, "dsg_arena_release", g->t_void, margs, 2);
    LLVMBuildBr(g->b, bon);
    LLVMPositionBuilderAtEnd(g->b, bon);
  }
  gen_loop_close(g, &l);
  if (sg->combine) {
    emit_flush(sg);
    if (release)
      gen_call(g, "dsg_arena_release", g->t_void, margs, 2);
  }
  LLVMBuildRetVoid(g->b);
  gen_nested_end(g, &s);
  return fn;
}

/* ---------------------------------------------------------------- */
/* building the runtime graph                                        */
/* ---------------------------------------------------------------- */

static int materialize(JobGen *j, PlanNode *n);

/* Emits the chain ending at element-wise plan node n (plus extra steps) as a
 * stage node; combine: ending in a map for keyed reduce `reduce_f`. */
static int emit_stage(JobGen *j, PlanNode *chain_end, Step *extra, int nextra, bool combine, Expr *reduce_f,
                      PlanNode *input_if_no_chain) {
  Gen *g = j->g;
  PtrVec *chain = chain_end ? j->chain_of[chain_end->id] : NULL;
  int nchain = chain ? chain->len : 0;
  PlanNode *input = chain_end ? ((Step *)chain->items[0])->node->inputs.items[0] : input_if_no_chain;
  int in_idx = materialize(j, input);
  Step *steps = arena_alloc(g->a, sizeof(Step) * (size_t)(nchain + nextra + 1));
  for (int i = 0; i < nchain; i++)
    steps[i] = *(Step *)chain->items[i];
  for (int i = 0; i < nextra; i++)
    steps[nchain + i] = extra[i];
  Type *out = chain_end ? elem_of(chain_end) : elem_of(input);
  for (int i = 0; i < nextra; i++)
    out = extra[i].kind == STEP_PAIR_ONE ? type_pair(g->a, out, type_prim(TY_INT)) : type_prim(TY_INT);
  StageGen sg = {.g = g, .steps = steps, .nsteps = nchain + nextra, .combine = combine, .out_elem = out};
  /* Outputs of keyed reductions hold their keys in their maps' stores. */
  sg.input_compact = input->op->kind == OP_REDUCEBYKEY || input->op->kind == OP_COUNTBYVALUE;
  DsNode *d = add_node(j, combine ? K_STAGE_COMBINE : K_STAGE, chain_end ? chain_end : input, out);
  d->op = combine ? "combine" : "stage";
  d->inputs[0] = in_idx;
  d->ninputs = 1;
  if (combine) {
    Type *pt = type_repr(out);
    sg.key = d->key = pt->elems[0];
    sg.val = d->val = pt->elems[1];
    sg.reduce = d->reduce = gen_reduce_fn(g, reduce_f, sg.val, false);
    /* Such a stage keeps nothing of its input records, so the runtime may
     * hand its input over in pieces (ds_node.flag). */
    sg.release = d->flag = !gen_has_pointers(sg.val);
  }
  d->run = gen_stage_fn(&sg, elem_of(input));
  return index_of(d);
}

/* A combine stage over plan node `in` (fusing its chain when it is only read here). */
static int combine_input(JobGen *j, PlanNode *in, Step *extra, int nextra, Expr *reduce_f) {
  bool fuse = in->op->cls == OC_ELEMENTWISE && plan_consumers(j->g->plan, in) == 1 && j->node_of[in->id] < 0;
  return emit_stage(j, fuse ? in : NULL, extra, nextra, true, reduce_f, fuse ? NULL : in);
}

/* The ds node index holding plan node n's stream (emitting what it needs). */
static int materialize(JobGen *j, PlanNode *n) {
  if (j->node_of[n->id] >= 0)
    return j->node_of[n->id];
  Gen *g = j->g;
  int idx = -1;
  DsNode *d = NULL;
  PlanNode *in = n->inputs.len ? n->inputs.items[0] : NULL;
  switch (n->op->kind) {
  case OP_SOCKET:
  case OP_TEXTFILES:
  case OP_TEXTFILE:
  case OP_BATCHES: {
    int kind = n->op->kind == OP_SOCKET ? K_SOURCE_SOCKET : n->op->kind == OP_TEXTFILES ? K_SOURCE_TEXTFILES
               : n->op->kind == OP_TEXTFILE ? K_SOURCE_TEXTFILE : K_SOURCE_BATCHES;
    d = add_node(j, kind, n, elem_of(n));
    d->str_arg = plan_arg(n, 0);
    if (kind == K_SOURCE_SOCKET)
      d->int_arg = plan_arg(n, 1);
    Expr *nfo = plan_named_arg(n, "newFilesOnly");
    d->flag = nfo && nfo->bval;
    break;
  }
  case OP_MAP:
  case OP_FLATMAP:
  case OP_FILTER:
  case OP_MAPVALUES:
  case OP_FLATMAPVALUES:
    idx = emit_stage(j, n, NULL, 0, false, NULL, NULL);
    break;
  case OP_UNION: {
    int a = materialize(j, in), b = materialize(j, n->inputs.items[1]);
    d = add_node(j, K_UNION, n, elem_of(n));
    d->inputs[0] = a;
    d->inputs[1] = b;
    d->ninputs = 2;
    break;
  }
  case OP_COUNT:
    d = add_input_node(j, K_COUNT, n, elem_of(n), materialize(j, in));
    break;
  case OP_REDUCE:
    d = add_input_node(j, K_REDUCE, n, elem_of(n), materialize(j, in));
    d->reduce = gen_reduce_fn(g, plan_arg(n, 0), elem_of(n), false);
    break;
  case OP_REDUCEBYKEY:
  case OP_COUNTBYVALUE: {
    bool count = n->op->kind == OP_COUNTBYVALUE;
    Step one = {STEP_PAIR_ONE, NULL};
    Expr *f = count ? NULL : plan_arg(n, 0);
    int c = combine_input(j, in, &one, count ? 1 : 0, f);
    DsNode *comb = j->nodes.items[c];
    d = add_input_node(j, K_REDUCE_BY_KEY, n, elem_of(n), c);
    d->key = comb->key;
    d->val = comb->val;
    d->reduce = comb->reduce;
    break;
  }
  case OP_WINDOW:
    d = add_input_node(j, K_WINDOW, n, elem_of(n), materialize(j, in));
    break;
  case OP_REDUCEBYWINDOW:
  case OP_COUNTBYWINDOW: {
    bool count = n->op->kind == OP_COUNTBYWINDOW;
    int input;
    if (count) {
      Step one = {STEP_ONE, NULL};
      bool fuse = in->op->cls == OC_ELEMENTWISE && plan_consumers(g->plan, in) == 1 && j->node_of[in->id] < 0;
      input = emit_stage(j, fuse ? in : NULL, &one, 1, false, NULL, fuse ? NULL : in);
    } else {
      input = materialize(j, in);
    }
    d = add_input_node(j, K_REDUCE_BY_WINDOW, n, elem_of(n), input);
    d->reduce = gen_reduce_fn(g, count ? NULL : plan_arg(n, 0), elem_of(n), false);
    if (count)
      d->inv_reduce = gen_reduce_fn(g, NULL, elem_of(n), true);
    else if (n->inverse)
      d->inv_reduce = gen_reduce_fn(g, plan_arg(n, 1), elem_of(n), false);
    break;
  }
  case OP_REDUCEBYKEYANDWINDOW:
  case OP_COUNTBYVALUEANDWINDOW: {
    bool count = n->op->kind == OP_COUNTBYVALUEANDWINDOW;
    Step one = {STEP_PAIR_ONE, NULL};
    int c = combine_input(j, in, &one, count ? 1 : 0, count ? NULL : plan_arg(n, 0));
    DsNode *comb = j->nodes.items[c];
    d = add_input_node(j, K_REDUCE_BY_KEY_AND_WINDOW, n, elem_of(n), c);
    d->key = comb->key;
    d->val = comb->val;
    d->reduce = comb->reduce;
    if (count) {
      d->inv_reduce = gen_reduce_fn(g, NULL, d->val, true);
      d->filter = gen_pred_fn(g, NULL, elem_of(n));
    } else if (n->inverse) {
      d->inv_reduce = gen_reduce_fn(g, plan_arg(n, 1), d->val, false);
      Expr *flt = plan_named_arg(n, "filter");
      if (flt)
        d->filter = gen_pred_fn(g, flt, elem_of(n));
    }
    break;
  }
  case OP_PRINT:
    d = add_input_node(j, K_PRINT, n, NULL, materialize(j, in));
    d->int_arg = plan_arg(n, 0);
    d->int_const = 10;
    break;
  case OP_SAVEASTEXTFILES: {
    d = add_input_node(j, K_SAVE_TEXT, n, NULL, materialize(j, in));
    d->str_arg = plan_arg(n, 0);
    d->str_arg2 = plan_arg(n, 1);
    Expr *se = plan_named_arg(n, "skipEmpty");
    d->flag = se && se->bval;
    break;
  }
  case OP_GROUPBYKEY: {
    d = add_input_node(j, K_GROUP_BY_KEY, n, elem_of(n), materialize(j, in));
    Type *pt = type_repr(elem_of(in));
    d->key = pt->elems[0];
    d->val = pt->elems[1];
    d->make = gen_make_fn(g, elem_of(n), false, false, false);
    break;
  }
  case OP_JOIN:
  case OP_LEFTOUTERJOIN:
  case OP_RIGHTOUTERJOIN:
  case OP_FULLOUTERJOIN:
  case OP_COGROUP: {
    int a = materialize(j, in), b = materialize(j, n->inputs.items[1]);
    int kind = n->op->kind == OP_JOIN ? K_JOIN : n->op->kind == OP_LEFTOUTERJOIN ? K_LEFT_OUTER_JOIN
               : n->op->kind == OP_RIGHTOUTERJOIN ? K_RIGHT_OUTER_JOIN : n->op->kind == OP_FULLOUTERJOIN
               ? K_FULL_OUTER_JOIN : K_COGROUP;
    d = add_node(j, kind, n, elem_of(n));
    d->inputs[0] = a;
    d->inputs[1] = b;
    d->ninputs = 2;
    Type *l = type_repr(elem_of(in)), *r = type_repr(elem_of(n->inputs.items[1]));
    d->key = l->elems[0];
    d->val = l->elems[1];
    d->val2 = r->elems[1];
    d->make = gen_make_fn(g, elem_of(n), true, kind == K_RIGHT_OUTER_JOIN || kind == K_FULL_OUTER_JOIN,
                          kind == K_LEFT_OUTER_JOIN || kind == K_FULL_OUTER_JOIN);
    break;
  }
  case OP_DISTINCT:
    d = add_input_node(j, K_DISTINCT, n, elem_of(n), materialize(j, in));
    break;
  case OP_REPARTITION:
    d = add_input_node(j, K_REPARTITION, n, elem_of(n), materialize(j, in));
    d->int_arg = plan_arg(n, 0);
    break;
  case OP_SORTBY:
  case OP_TOP: {
    bool top = n->op->kind == OP_TOP;
    d = add_input_node(j, top ? K_TOP : K_SORT_BY, n, elem_of(n), materialize(j, in));
    Expr *f = plan_arg(n, top ? 1 : 0);
    d->key = type_repr(f->ty)->ret;
    d->key_of = gen_key_fn(g, f, elem_of(n));
    if (top)
      d->int_arg = plan_arg(n, 0);
    Expr *desc = plan_named_arg(n, "descending");
    d->flag = desc && desc->bval;
    break;
  }
  case OP_UPDATESTATEBYKEY: {
    d = add_input_node(j, K_UPDATE_STATE_BY_KEY, n, elem_of(n), materialize(j, in));
    Type *pt = type_repr(elem_of(in)), *ot = type_repr(elem_of(n));
    d->key = pt->elems[0];
    d->val = pt->elems[1];
    d->state = ot->elems[1];
    d->update = gen_update_fn(g, plan_arg(n, 0), d->state);
    d->make = gen_make_fn(g, elem_of(n), false, false, false);
    d->initial = plan_named_arg(n, "initial");
    break;
  }
  case OP_MAPWITHSTATE: {
    d = add_input_node(j, K_MAP_WITH_STATE, n, elem_of(n), materialize(j, in));
    Type *pt = type_repr(elem_of(in)), *snap = type_repr(type_repr(n->ty)->snap);
    d->key = pt->elems[0];
    d->val = pt->elems[1];
    d->state = snap->elems[1];
    d->map_state = gen_map_state_fn(g, plan_arg(n, 0), d->key, d->val, d->state);
    Expr *timeout = plan_named_arg(n, "timeout"), *on_timeout = plan_named_arg(n, "onTimeout");
    d->timeout_ms = timeout ? timeout->ival : 0;
    if (on_timeout)
      d->on_timeout = gen_timeout_fn(g, on_timeout, d->key, d->state);
    d->initial = plan_named_arg(n, "initial");
    break;
  }
  case OP_STATESNAPSHOTS: {
    d = add_input_node(j, K_STATE_SNAPSHOTS, n, elem_of(n), materialize(j, in));
    Type *ot = type_repr(elem_of(n));
    d->key = ot->elems[0];
    d->state = ot->elems[1];
    d->make = gen_make_fn(g, elem_of(n), false, false, false);
    break;
  }
  default: {
    Loc loc = n->call->lhs && n->call->lhs->kind == EX_FIELD ? n->call->lhs->loc : n->call->loc;
    diag_error(g->d, loc, "%s is not supported by code generation yet", n->op->name);
    return -1;
  }
  }
  if (d) {
    if (n->op->cls == OC_WINDOW) {
      d->window_ms = n->window_ms;
      d->slide_ms = n->slide_ms;
    }
    idx = index_of(d);
  }
  j->node_of[n->id] = idx;
  return idx;
}

/* Records, for each element-wise plan node, the chain it ends. */
static void find_chains(JobGen *j) {
  Plan *plan = j->g->plan;
  for (int i = 0; i < plan->nodes.len; i++) {
    PlanNode *n = plan->nodes.items[i];
    if (n->op->cls != OC_ELEMENTWISE)
      continue;
    PlanNode *in = n->inputs.items[0];
    PtrVec *chain = arena_alloc(j->g->a, sizeof *chain);
    if (in->op->cls == OC_ELEMENTWISE && in->stage == n->stage)
      for (int k = 0; k < j->chain_of[in->id]->len; k++)
        vec_push(j->g->a, chain, j->chain_of[in->id]->items[k]);
    Step *st = arena_alloc(j->g->a, sizeof *st);
    st->kind = STEP_OP;
    st->node = n;
    vec_push(j->g->a, chain, st);
    j->chain_of[n->id] = chain;
  }
}

/* ---------------------------------------------------------------- */
/* the ds_job table                                                  */
/* ---------------------------------------------------------------- */

static LLVMTypeRef node_type(Gen *g) {
  LLVMTypeRef fields[] = {g->t_i32, g->t_i32, g->t_ptr, g->t_ptr, g->t_i32, LLVMArrayType2(g->t_i32, 2),
                          g->t_ptr, g->t_ptr, g->t_ptr, g->t_i64, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr,
                          g->t_i64, g->t_i64, g->t_str, g->t_str, g->t_i64, g->t_i8,
                          /* ABI 2 */
                          g->t_ptr, g->t_i64, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr,
                          g->t_i64, g->t_str,
                          /* ABI 3 */
                          g->t_ptr};
  return LLVMStructTypeInContext(g->ctx, fields, sizeof fields / sizeof fields[0], 0);
}
enum { NF_STR_ARG = 16, NF_STR_ARG2 = 17, NF_INT_ARG = 18, NF_INITIAL = 29 };

static LLVMValueRef cstr(Gen *g, const char *s) {
  return LLVMBuildExtractValue(g->b, gen_string_const(g, (Str){s, strlen(s) + 1}), 0, "");
}

static LLVMValueRef ptr_or_null(Gen *g, LLVMValueRef v) { return v ? v : LLVMConstNull(g->t_ptr); }

static bool is_value_let(Stmt *st) {
  if (st->kind != SK_LET || st->dup || !st->value || !st->value->ty)
    return false;
  TypeKind k = type_repr(st->value->ty)->kind;
  return k != TY_STREAM && k != TY_FUNC && k != TY_ERROR;
}

/* A global variable per top-level value let; init stores the values. */
static void declare_globals(Gen *g) {
  for (int i = 0; i < g->prog->stmts.len; i++) {
    Stmt *st = g->prog->stmts.items[i];
    if (!is_value_let(st))
      continue;
    LLVMTypeRef t = gen_type(g, st->value->ty);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, t, arena_printf(g->a, "let.%.*s", (int)st->name.len, st->name.ptr));
    LLVMSetInitializer(gv, LLVMConstNull(t));
    LLVMSetLinkage(gv, LLVMInternalLinkage);
    strmap_put(g->a, &g->global_vars, st->name, gv);
  }
}

/* bool init(ds_ctx *ctx, ds_node *nodes): top-level lets, then operator arguments. */
static LLVMValueRef gen_init(JobGen *j, LLVMTypeRef nt) {
  Gen *g = j->g;
  GenNested s;
  LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
  LLVMValueRef fn = gen_nested_begin(g, &s, "init", g->t_i1, params, 2);
  LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
  g->cur->fail = gen_block(g, "fail");
  LLVMPositionBuilderAtEnd(g->b, g->cur->fail);
  LLVMBuildRet(g->b, LLVMConstInt(g->t_i1, 0, 0));
  LLVMPositionBuilderAtEnd(g->b, here);
  for (int i = 0; i < g->prog->stmts.len; i++) {
    Stmt *st = g->prog->stmts.items[i];
    LLVMValueRef gv = is_value_let(st) ? strmap_get(&g->global_vars, st->name) : NULL;
    if (gv)
      LLVMBuildStore(g->b, gen_expr(g, st->value), gv);
  }
  LLVMValueRef nodes = LLVMGetParam(fn, 1);
  for (int i = 0; i < j->nodes.len; i++) {
    DsNode *d = j->nodes.items[i];
    LLVMValueRef idx[2] = {i64c(g, i), i32c(g, 0)};
    LLVMValueRef base = LLVMBuildGEP2(g->b, nt, nodes, idx, 1, "");
    if (d->str_arg)
      LLVMBuildStore(g->b, gen_expr(g, d->str_arg), LLVMBuildStructGEP2(g->b, nt, base, NF_STR_ARG, ""));
    if (d->str_arg2)
      LLVMBuildStore(g->b, gen_expr(g, d->str_arg2), LLVMBuildStructGEP2(g->b, nt, base, NF_STR_ARG2, ""));
    if (d->int_arg)
      LLVMBuildStore(g->b, gen_expr(g, d->int_arg), LLVMBuildStructGEP2(g->b, nt, base, NF_INT_ARG, ""));
    if (d->initial)
      LLVMBuildStore(g->b, gen_expr(g, d->initial), LLVMBuildStructGEP2(g->b, nt, base, NF_INITIAL, ""));
  }
  LLVMBuildRet(g->b, LLVMConstInt(g->t_i1, 1, 0));
  gen_nested_end(g, &s);
  return fn;
}

static const char *setting_text(Arena *a, SettingKind k, const SettingValue *v) {
  switch (setting_type(k)) {
  case SETTY_DURATION:
    return arena_printf(a, "%s=%lldms", setting_name(k), (long long)v->ival);
  case SETTY_BOOL:
    return arena_printf(a, "%s=%s", setting_name(k), v->ival ? "true" : "false");
  case SETTY_STRING:
    return arena_printf(a, "%s=%.*s", setting_name(k), (int)v->sval.len, v->sval.ptr);
  default:
    return arena_printf(a, "%s=%lld", setting_name(k), (long long)v->ival);
  }
}

static LLVMValueRef const_array(Gen *g, LLVMTypeRef t, LLVMValueRef *vals, int n, const char *name, bool constant) {
  LLVMValueRef init = LLVMConstArray2(t, vals, (uint64_t)n);
  LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, constant);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

void gen_job(Gen *g) {
  JobGen j = {.g = g};
  int n = g->plan->nodes.len + 1;
  j.node_of = arena_alloc(g->a, sizeof(int) * (size_t)n);
  j.chain_of = arena_alloc(g->a, sizeof(PtrVec *) * (size_t)n);
  for (int i = 0; i < n; i++)
    j.node_of[i] = -1;
  declare_globals(g);
  gen_user_fns(g);
  find_chains(&j);
  /* Outputs pull in what they read; a let-bound stream nothing reads is dropped. */
  for (int i = 0; i < g->plan->outputs.len; i++)
    materialize(&j, g->plan->outputs.items[i]);
  if (g->d->errors)
    return;

  LLVMTypeRef nt = node_type(g);
  LLVMValueRef init = gen_init(&j, nt);
  const char *base = strrchr(g->src->path, '/');
  base = base ? base + 1 : g->src->path;
  LLVMValueRef *nodes = arena_alloc(g->a, sizeof(LLVMValueRef) * (size_t)(j.nodes.len + 1));
  LLVMValueRef null = LLVMConstNull(g->t_ptr);
  for (int i = 0; i < j.nodes.len; i++) {
    DsNode *d = j.nodes.items[i];
    Loc loc = {0, 0};
    if (d->plan)
      loc = d->plan->call->lhs && d->plan->call->lhs->kind == EX_FIELD ? d->plan->call->lhs->loc : d->plan->call->loc;
    LLVMValueRef inputs[2] = {i32c(g, d->inputs[0]), i32c(g, d->inputs[1])};
    int64_t voff = 0, voff2 = 0;
    if (d->key && d->val) {
      LLVMTypeRef pt = gen_type(g, type_pair(g->a, d->key, d->val));
      voff = (int64_t)LLVMOffsetOfElement(g->td, pt, 1);
    }
    if (d->key && d->val2) {
      LLVMTypeRef pt = gen_type(g, type_pair(g->a, d->key, d->val2));
      voff2 = (int64_t)LLVMOffsetOfElement(g->td, pt, 1);
    }
    LLVMValueRef fields[] = {
        i32c(g, d->kind),
        i32c(g, d->plan ? d->plan->id : 0),
        cstr(g, d->op),
        cstr(g, arena_printf(g->a, "%s:%d:%d", base, loc.line, loc.col)),
        i32c(g, d->ninputs),
        LLVMConstArray2(g->t_i32, inputs, 2),
        d->elem ? gen_ds_type(g, d->elem) : null,
        d->key ? gen_ds_type(g, d->key) : null,
        d->val ? gen_ds_type(g, d->val) : null,
        i64c(g, voff),
        ptr_or_null(g, d->run),
        ptr_or_null(g, d->reduce),
        ptr_or_null(g, d->inv_reduce),
        ptr_or_null(g, d->filter),
        i64c(g, d->window_ms),
        i64c(g, d->slide_ms),
        LLVMConstNull(g->t_str),
        LLVMConstNull(g->t_str),
        i64c(g, d->int_arg ? 0 : d->int_const),
        LLVMConstInt(g->t_i8, d->flag, 0),
        d->val2 ? gen_ds_type(g, d->val2) : null,
        i64c(g, voff2),
        d->state ? gen_ds_type(g, d->state) : null,
        ptr_or_null(g, d->make),
        ptr_or_null(g, d->key_of),
        ptr_or_null(g, d->update),
        ptr_or_null(g, d->map_state),
        ptr_or_null(g, d->on_timeout),
        i64c(g, d->timeout_ms),
        LLVMConstNull(g->t_str),
        /* ABI 3: the identity in checkpoints. A stage's is its last plan
         * node's, or its input's when it only adds the step of a count or
         * a combine (stages keep nothing across batches). */
        cstr(g, d->plan ? d->plan->ident : ""),
    };
    nodes[i] = LLVMConstNamedStruct(nt, fields, sizeof fields / sizeof fields[0]);
  }
  LLVMValueRef nodes_gv = const_array(g, nt, nodes, j.nodes.len, "ds.nodes", false);

  int nset = 0;
  LLVMValueRef sets[SET__COUNT + 1];
  for (int k = 0; k < SET__COUNT; k++)
    if (g->plan->settings.v[k].given)
      sets[nset++] = cstr(g, setting_text(g->a, (SettingKind)k, &g->plan->settings.v[k]));
  LLVMValueRef sets_gv = const_array(g, g->t_ptr, sets, nset, "ds.settings", true);
  LLVMValueRef *sites = arena_alloc(g->a, sizeof(LLVMValueRef) * (size_t)(g->sites.len + 1));
  for (int i = 0; i < g->sites.len; i++)
    sites[i] = cstr(g, g->sites.items[i]);
  LLVMValueRef sites_gv = const_array(g, g->t_ptr, sites, g->sites.len, "ds.sites", true);

  LLVMTypeRef jf[] = {g->t_i32, g->t_ptr, g->t_ptr, g->t_i32, g->t_ptr, g->t_i32, g->t_ptr, g->t_i32, g->t_ptr};
  LLVMTypeRef jt = LLVMStructTypeInContext(g->ctx, jf, sizeof jf / sizeof jf[0], 0);
  LLVMValueRef jv[] = {i32c(g, 3 /* DS_ABI_VERSION */), cstr(g, base), nodes_gv, i32c(g, j.nodes.len), sets_gv, i32c(g, nset),
                       sites_gv, i32c(g, g->sites.len), init};
  LLVMValueRef job = LLVMAddGlobal(g->mod, jt, "ds.job");
  LLVMSetInitializer(job, LLVMConstNamedStruct(jt, jv, sizeof jv / sizeof jv[0]));
  LLVMSetLinkage(job, LLVMPrivateLinkage);

  LLVMTypeRef mp[2] = {g->t_i32, g->t_ptr};
  LLVMValueRef mainfn = LLVMAddFunction(g->mod, "main", LLVMFunctionType(g->t_i32, mp, 2, 0));
  LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, mainfn, "entry"));
  LLVMValueRef margs[3] = {LLVMGetParam(mainfn, 0), LLVMGetParam(mainfn, 1), job};
  LLVMTypeRef dmt[3] = {g->t_i32, g->t_ptr, g->t_ptr};
  LLVMTypeRef dsmain_t = LLVMFunctionType(g->t_i32, dmt, 3, 0);
  LLVMValueRef dsmain = LLVMAddFunction(g->mod, "ds_main", dsmain_t);
  LLVMBuildRet(g->b, LLVMBuildCall2(g->b, dsmain_t, dsmain, margs, 3, ""));
}
