/*
 * check.c — name resolution and type checking (LANGUAGE.md §3–§11).
 *
 * In: the AST from parser.y. Out: every Expr has its type (Expr.ty) and,
 * for names and calls, what it refers to (Expr.ref and friends); the
 * settings of the program are collected; every error went to Diags.
 *
 * Order: settings first (window checks need the batch), then record types,
 * then the signatures of all fns (so fns may call each other in any order),
 * then the statements in source order — fn bodies included — since `let`
 * names are visible from their definition on.
 *
 * Inference is local, by unification within a statement: an operator gives
 * the types of its function's parameters, the body gives the result, and a
 * `none` or `[]` that nothing fixed by the end of its statement is an error.
 * After an error the offending type becomes TY_ERROR, which unifies with
 * anything, so one mistake is reported once.
 */
#include "dsc.h"

#include <stdarg.h>
#include <string.h>

/* A local name: a parameter or a block's let. */
typedef struct Local Local;
struct Local {
  Str name;
  Type *ty;
  Param *param;   /* when a parameter */
  Stmt *let_stmt; /* when a block let */
  Local *next;
};

typedef struct Checker {
  Arena *a;
  Diags *d;
  Program *prog;
  Settings *settings;
  StrMap records; /* name -> RecordDecl* */
  PtrVec record_list; /* RecordDecl* in source order */
  StrMap fns;     /* name -> FnDecl* */
  PtrVec fn_list; /* FnDecl* in source order */
  StrMap globals; /* name -> LetBinding*, the lets defined so far */
  StrMap top;     /* name -> Loc* of its first top-level definition */
  Local *locals;
  int fn_depth;   /* > 0 inside a lambda or fn body: code an operator runs */
  PtrVec holes;   /* `none` and `[]` of the current statement */
  Expr *stmt_output; /* the expression statement being checked */
} Checker;

static Type *check_expr(Checker *c, Expr *e);

/* ---------------------------------------------------------------- */
/* small helpers                                                     */
/* ---------------------------------------------------------------- */

static Type *prim(TypeKind k) { return type_prim(k); }
static Type *err_type(void) { return type_prim(TY_ERROR); }
static const char *ts(Checker *c, Type *t) { return type_str(c->a, t); }
static TypeKind kind_of(Type *t) { return type_repr(t)->kind; }
static bool is_err(Type *t) { return kind_of(t) == TY_ERROR; }

static const char *name_cstr(Checker *c, Str s) { return arena_strndup(c->a, s.ptr, s.len); }

/* Binds every unbound variable inside t to TY_ERROR (after an error about it). */
static void settle(Checker *c, Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_VAR:
    type_unify(c->a, t, err_type());
    break;
  case TY_TUPLE:
  case TY_FUNC:
    for (int i = 0; i < t->nelems; i++)
      settle(c, t->elems[i]);
    if (t->ret)
      settle(c, t->ret);
    break;
  case TY_LIST:
  case TY_OPTION:
  case TY_STREAM:
    settle(c, t->elem);
    break;
  default:
    break;
  }
}

/* Where an error about the value of e should point: a block's or if's value. */
static Loc value_loc(Expr *e) {
  while (e) {
    if (e->kind == EX_BLOCK && e->items.len) {
      Stmt *last = e->items.items[e->items.len - 1];
      if (last->kind != SK_EXPR || !last->value)
        return last->loc;
      e = last->value;
    } else if (e->kind == EX_IF && e->lhs) {
      e = e->lhs;
    } else {
      return e->loc;
    }
  }
  return (Loc){0, 0};
}

/* The expression that gives a function argument's result: a lambda's body
 * (diagnostics about what a function returns point there), or f itself. */
static Expr *result_expr(Expr *f) { return f->kind == EX_LAMBDA ? f->body : f; }

/* Unifies the type of e with want, or reports "what: expected X, found Y" at e. */
static bool expect_type(Checker *c, Expr *e, Type *got, Type *want, const char *what) {
  if (type_unify(c->a, got, want))
    return true;
  diag_error(c->d, value_loc(e), "%s: expected %s, found %s", what, ts(c, want), ts(c, got));
  return false;
}

/* ---------------------------------------------------------------- */
/* types written in the source                                        */
/* ---------------------------------------------------------------- */

static RecordDecl *find_record(Checker *c, Str name) { return strmap_get(&c->records, name); }

static void resolve_record(Checker *c, RecordDecl *r);

static Type *resolve_type(Checker *c, TypeExpr *te) {
  if (!te)
    return err_type();
  switch (te->kind) {
  case TE_NAME: {
    static const struct { const char *name; TypeKind kind; } names[] = {
        {"int", TY_INT},   {"float", TY_FLOAT}, {"bool", TY_BOOL},
        {"string", TY_STRING}, {"time", TY_TIME}, {"duration", TY_DURATION},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (str_eq(te->name, names[i].name))
        return prim(names[i].kind);
    RecordDecl *r = find_record(c, te->name);
    if (!r) {
      if (str_eq(te->name, "stream"))
        diag_error(c->d, te->loc, "'stream' needs an element type, as in stream<string>");
      else
        diag_error(c->d, te->loc, "undefined type '%s'", name_cstr(c, te->name));
      return err_type();
    }
    return type_record(c->a, r);
  }
  case TE_TUPLE: {
    Type **elems = arena_alloc(c->a, sizeof(Type *) * (size_t)te->elems.len);
    for (int i = 0; i < te->elems.len; i++)
      elems[i] = resolve_type(c, te->elems.items[i]);
    return type_tuple(c->a, elems, te->elems.len);
  }
  case TE_LIST:
    return type_list(c->a, resolve_type(c, te->elem));
  case TE_OPTION:
    return type_option(c->a, resolve_type(c, te->elem));
  case TE_STREAM:
    diag_error(c->d, te->loc, "a stream is never a value: it cannot be a parameter, field or "
                              "element type; bind streams with a top-level let");
    return err_type();
  }
  return err_type();
}

/* Records may contain other records, but not themselves (§4). */
static bool record_contains(Type *t, RecordDecl *target) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_RECORD:
    if (t->rec == target)
      return true;
    for (int i = 0; i < t->rec->fields.len; i++) {
      FieldDecl *f = t->rec->fields.items[i];
      if (f->ty && record_contains(f->ty, target))
        return true;
    }
    return false;
  case TY_TUPLE:
    for (int i = 0; i < t->nelems; i++)
      if (record_contains(t->elems[i], target))
        return true;
    return false;
  case TY_LIST:
  case TY_OPTION:
    return record_contains(t->elem, target);
  default:
    return false;
  }
}

static void resolve_record(Checker *c, RecordDecl *r) {
  if (r->state)
    return;
  r->state = 1;
  for (int i = 0; i < r->fields.len; i++) {
    FieldDecl *f = r->fields.items[i];
    for (int j = 0; j < i; j++) {
      FieldDecl *g = r->fields.items[j];
      if (str_eq2(f->name, g->name)) {
        diag_error(c->d, f->loc, "field '%s' is already defined in record %s",
                   name_cstr(c, f->name), name_cstr(c, r->name));
        break;
      }
    }
    f->ty = resolve_type(c, f->type);
  }
  r->state = 2;
}

static void check_record_recursion(Checker *c, RecordDecl *r) {
  for (int i = 0; i < r->fields.len; i++) {
    FieldDecl *f = r->fields.items[i];
    if (f->ty && record_contains(f->ty, r)) {
      diag_error(c->d, f->type ? f->type->loc : f->loc,
                 "record %s contains itself through field '%s': records cannot be recursive",
                 name_cstr(c, r->name), name_cstr(c, f->name));
      f->ty = err_type();
    }
  }
}

/* ---------------------------------------------------------------- */
/* names                                                             */
/* ---------------------------------------------------------------- */

static FnDecl *find_fn(Checker *c, Str name) { return strmap_get(&c->fns, name); }
static LetBinding *find_global(Checker *c, Str name) { return strmap_get(&c->globals, name); }

static Local *find_local(Checker *c, Str name) {
  for (Local *l = c->locals; l; l = l->next)
    if (str_eq2(l->name, name))
      return l;
  return NULL;
}

static void push_local(Checker *c, Str name, Type *ty, Param *param, Stmt *let_stmt) {
  Local *l = arena_alloc(c->a, sizeof *l);
  l->name = name;
  l->ty = ty;
  l->param = param;
  l->let_stmt = let_stmt;
  l->next = c->locals;
  c->locals = l;
}

/* ---------------------------------------------------------------- */
/* function arguments: lambdas and fn names passed to operators       */
/* ---------------------------------------------------------------- */

/* Checks e as a function taking `n` parameters of types params[] and returns
 * its result type (or TY_ERROR). A lambda with N > 1 parameters where one
 * N-tuple is passed takes the tuple apart (§5). `who` names the receiver of
 * the function in messages ("map", "the filter: argument of ..."). */
static Type *check_fn_arg(Checker *c, Expr *e, Type **params, int n, const char *who) {
  if (e->kind == EX_LAMBDA) {
    int np = e->params.len;
    Type **ptypes = params;
    if (np != n) {
      Type *single = n == 1 ? type_repr(params[0]) : NULL;
      if (single && np > 1 && single->kind == TY_VAR) {
        Type **vars = arena_alloc(c->a, sizeof(Type *) * (size_t)np);
        for (int i = 0; i < np; i++)
          vars[i] = type_var(c->a);
        type_unify(c->a, single, type_tuple(c->a, vars, np));
        single = type_repr(single);
      }
      if (single && np > 1 && single->kind == TY_TUPLE && single->nelems == np) {
        ptypes = single->elems;
        e->destructure = true;
      } else if (single && single->kind == TY_ERROR) {
        ptypes = arena_alloc(c->a, sizeof(Type *) * (size_t)(np ? np : 1));
        for (int i = 0; i < np; i++)
          ptypes[i] = err_type();
      } else {
        if (single && np > 1)
          diag_error(c->d, e->loc,
                     "%s passes one value of type %s, which this function cannot take apart "
                     "into %d parameters",
                     who, ts(c, single), np);
        else
          diag_error(c->d, e->loc, "%s passes %d argument%s to this function, but it takes %d", who,
                     n, n == 1 ? "" : "s", np);
        return err_type();
      }
    }
    Local *saved = c->locals;
    c->fn_depth++;
    for (int i = 0; i < np; i++) {
      Param *p = e->params.items[i];
      p->ty = ptypes[i];
      if (p->type) {
        Type *written = resolve_type(c, p->type);
        if (!type_unify(c->a, written, p->ty))
          diag_error(c->d, p->loc, "parameter '%s' is written as %s, but %s passes %s",
                     name_cstr(c, p->name), ts(c, written), who, ts(c, p->ty));
      }
      for (int j = 0; j < i; j++) {
        Param *q = e->params.items[j];
        if (str_eq2(p->name, q->name))
          diag_error(c->d, p->loc, "parameter '%s' is already defined", name_cstr(c, p->name));
      }
      push_local(c, p->name, p->ty, p, NULL);
    }
    Type *ret = check_expr(c, e->body);
    c->fn_depth--;
    c->locals = saved;
    Type **pt = arena_alloc(c->a, sizeof(Type *) * (size_t)(np ? np : 1));
    for (int i = 0; i < np; i++)
      pt[i] = ((Param *)e->params.items[i])->ty;
    e->ty = type_func(c->a, pt, np, ret);
    return ret;
  }
  if (e->kind == EX_NAME && !find_local(c, e->name) && !find_global(c, e->name)) {
    FnDecl *f = find_fn(c, e->name);
    if (f) {
      e->ref = REF_FN;
      e->fn = f;
      int np = f->params.len;
      Type **ftypes = f->ty->elems;
      if (np != n) {
        Type *single = n == 1 ? type_repr(params[0]) : NULL;
        if (single && np > 1 && single->kind == TY_TUPLE && single->nelems == np) {
          e->destructure = true;
          params = single->elems;
        } else {
          diag_error(c->d, e->loc, "%s passes %d argument%s to a function, but '%s' takes %d", who,
                     n, n == 1 ? "" : "s", name_cstr(c, f->name), np);
          return err_type();
        }
      }
      for (int i = 0; i < np; i++)
        if (!type_unify(c->a, params[i], ftypes[i])) {
          diag_error(c->d, e->loc, "'%s' takes %s as parameter %d, but %s passes %s",
                     name_cstr(c, f->name), ts(c, ftypes[i]), i + 1, who, ts(c, params[i]));
          return err_type();
        }
      e->ty = f->ty;
      return f->ty->ret;
    }
    const BuiltinInfo *b = builtin_lookup(e->name);
    if (b) {
      diag_error(c->d, e->loc, "builtin '%s' cannot be passed as a function; wrap it in a lambda, "
                               "for instance x => %s(x)",
                 b->name, b->name);
      return err_type();
    }
  }
  Type *t = check_expr(c, e);
  if (!is_err(t))
    diag_error(c->d, value_loc(e), "%s needs a function here, found %s", who, ts(c, t));
  return err_type();
}

/* ---------------------------------------------------------------- */
/* call arguments                                                    */
/* ---------------------------------------------------------------- */

/* The arguments of a call sorted into positional slots and named ones.
 * Reports too many / missing / unknown / repeated arguments. */
typedef struct Args {
  Expr *pos[6];
  int npos;
  Expr *named[4];
  Loc named_loc[4];
  bool ok;
} Args;

static Loc callee_loc(Expr *call) { return call->lhs ? call->lhs->loc : call->loc; }

static Args bind_args(Checker *c, Expr *call, const char *what, int min_pos, int max_pos,
                      const char *const *named_names) {
  Args r = {.ok = true};
  for (int i = 0; i < call->args.len; i++) {
    Arg *arg = call->args.items[i];
    if (arg->name.len == 0) {
      if (r.npos >= max_pos) {
        diag_error(c->d, arg->loc, "too many arguments: %s takes %s%d", what,
                   min_pos == max_pos ? "" : "at most ", max_pos);
        r.ok = false;
        return r;
      }
      r.pos[r.npos++] = arg->value;
      continue;
    }
    int k = -1;
    for (int j = 0; named_names && named_names[j]; j++)
      if (str_eq(arg->name, named_names[j]))
        k = j;
    if (k < 0) {
      if (named_names && named_names[0]) {
        char list[256] = "";
        for (int j = 0; named_names[j]; j++) {
          strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
          strncat(list, named_names[j], sizeof list - strlen(list) - 1);
        }
        diag_error(c->d, arg->loc, "unknown named argument '%s' of %s (it takes %s)",
                   name_cstr(c, arg->name), what, list);
      } else {
        diag_error(c->d, arg->loc, "unknown named argument '%s': %s takes no named arguments",
                   name_cstr(c, arg->name), what);
      }
      r.ok = false;
      continue;
    }
    if (r.named[k]) {
      diag_error(c->d, arg->loc, "named argument '%s' is given twice", named_names[k]);
      r.ok = false;
      continue;
    }
    r.named[k] = arg->value;
    r.named_loc[k] = arg->loc;
  }
  if (r.npos < min_pos) {
    diag_error(c->d, callee_loc(call), "missing argument: %s takes %s%d, found %d", what,
               min_pos == max_pos ? "" : "at least ", min_pos, r.npos);
    r.ok = false;
  }
  return r;
}

/* Checks the value arguments of a call that are not functions (strings, ints). */
static bool arg_of_type(Checker *c, Expr *e, Type *want, const char *what) {
  Type *t = check_expr(c, e);
  return expect_type(c, e, t, want, what);
}

/* ---------------------------------------------------------------- */
/* stream operators                                                  */
/* ---------------------------------------------------------------- */

static Type *stream_of(Checker *c, Type *elem, int64_t period) {
  Type *s = type_stream(c->a, elem);
  s->period_ms = period;
  return s;
}

/* The (K, V) of a pair stream, or reports "op needs a stream of pairs". */
static bool need_pairs(Checker *c, Expr *call, const char *op, Type *stream, Type **k, Type **v) {
  Type *el = type_repr(stream->elem);
  if (el->kind == TY_VAR)
    type_unify(c->a, el, type_pair(c->a, type_var(c->a), type_var(c->a)));
  el = type_repr(el);
  if (el->kind == TY_ERROR) {
    *k = *v = err_type();
    return true;
  }
  if (el->kind != TY_TUPLE || el->nelems != 2) {
    diag_error(c->d, callee_loc(call), "%s needs a stream of pairs, found %s", op, ts(c, stream));
    return false;
  }
  *k = el->elems[0];
  *v = el->elems[1];
  return true;
}

static bool need_hashable(Checker *c, Expr *call, const char *op, const char *role, Type *t) {
  const char *why = type_unhashable_reason(t);
  if (!why || type_is_error(t))
    return true;
  diag_error(c->d, callee_loc(call), "%s needs a hashable %s, but %s is not hashable", op, role,
             ts(c, t));
  diag_note(c->d, callee_loc(call), "%s", why);
  return false;
}

/* A window length or slide: a positive duration literal, a multiple of the
 * batch (when the program sets it) and of the stream's own period. */
static int64_t window_duration(Checker *c, Expr *e, const char *what, int64_t period) {
  if (!e)
    return 0;
  if (e->kind != EX_DURATION) {
    Type *t = check_expr(c, e);
    if (!is_err(t))
      diag_error(c->d, e->loc, "the window %s must be a duration literal such as 30s, found %s",
                 what, kind_of(t) == TY_DURATION ? "an expression" : ts(c, t));
    return -1;
  }
  e->ty = prim(TY_DURATION);
  int64_t ms = e->ival;
  if (ms <= 0) {
    diag_error(c->d, e->loc, "the window %s must be positive", what);
    return -1;
  }
  SettingValue *b = &c->settings->v[SET_BATCH];
  if (b->given && b->ival > 0 && ms % b->ival != 0) {
    diag_error(c->d, e->loc, "the window %s %lldms is not a multiple of the batch interval %lldms",
               what, (long long)ms, (long long)b->ival);
    return -1;
  }
  if (period > 0 && ms % period != 0) {
    diag_error(c->d, e->loc,
               "the window %s %lldms is not a multiple of %lldms, the slide of the windowed "
               "stream it reads",
               what, (long long)ms, (long long)period);
    return -1;
  }
  return ms;
}

/* The element type of a flatMap result: [U] or U? gives U. */
static Type *flat_elem(Checker *c, Expr *f, Type *ret, const char *op) {
  Type *r = type_repr(ret);
  if (r->kind == TY_LIST || r->kind == TY_OPTION)
    return r->elem;
  if (r->kind != TY_ERROR)
    diag_error(c->d, value_loc(result_expr(f)),
               "%s needs a function that returns a list or an option, found %s", op, ts(c, r));
  return err_type();
}

/* The other stream argument of union/join/cogroup: a stream with the same period. */
static Type *other_stream(Checker *c, Expr *call, Expr *arg, Type *self, const char *op) {
  Type *t = type_repr(check_expr(c, arg));
  if (t->kind == TY_ERROR)
    return NULL;
  if (t->kind != TY_STREAM) {
    diag_error(c->d, value_loc(arg), "%s needs a stream as its argument, found %s", op, ts(c, t));
    return NULL;
  }
  if (t->period_ms != self->period_ms) {
    diag_error(c->d, value_loc(arg),
               "%s needs two streams with batches at the same times, but one has a batch every "
               "%lldms and the other every %lldms",
               op, (long long)(self->period_ms ? self->period_ms : c->settings->v[SET_BATCH].ival),
               (long long)(t->period_ms ? t->period_ms : c->settings->v[SET_BATCH].ival));
    return NULL;
  }
  (void)call;
  return t;
}

static Type *check_method(Checker *c, Expr *call, Type *recv, const OpInfo *op) {
  const char *name = op->name;
  Type *T = recv->elem;
  int64_t period = recv->period_ms;
  Type *K, *V;
  static const char *const none_named[] = {NULL};
  Args a;
  call->op_info = op;

  switch (op->kind) {
  case OP_MAP:
  case OP_FLATMAP:
  case OP_FILTER: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok)
      return err_type();
    Type *ret = check_fn_arg(c, a.pos[0], &T, 1, name);
    if (op->kind == OP_MAP)
      return stream_of(c, ret, period);
    if (op->kind == OP_FLATMAP)
      return stream_of(c, flat_elem(c, a.pos[0], ret, name), period);
    if (!type_unify(c->a, ret, prim(TY_BOOL)))
      diag_error(c->d, value_loc(result_expr(a.pos[0])),
                 "filter needs a function that returns bool, found %s", ts(c, ret));
    return stream_of(c, T, period);
  }
  case OP_MAPVALUES:
  case OP_FLATMAPVALUES: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok || !need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    Type *ret = check_fn_arg(c, a.pos[0], &V, 1, name);
    if (op->kind == OP_FLATMAPVALUES)
      ret = flat_elem(c, a.pos[0], ret, name);
    return stream_of(c, type_pair(c->a, K, ret), period);
  }
  case OP_UNION: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok)
      return err_type();
    Type *o = other_stream(c, call, a.pos[0], recv, name);
    if (o && !type_unify(c->a, o->elem, T))
      diag_error(c->d, value_loc(a.pos[0]), "union needs a %s, found %s",
                 ts(c, stream_of(c, T, 0)), ts(c, o));
    return stream_of(c, T, period);
  }
  case OP_COUNT:
    a = bind_args(c, call, name, 0, 0, none_named);
    return stream_of(c, prim(TY_INT), period);
  case OP_REDUCE: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok)
      return err_type();
    Type *ps[2] = {T, T};
    Type *ret = check_fn_arg(c, a.pos[0], ps, 2, name);
    expect_type(c, result_expr(a.pos[0]), ret, T,
                "reduce's function must return the element type");
    return stream_of(c, T, period);
  }
  case OP_COUNTBYVALUE:
  case OP_DISTINCT:
    a = bind_args(c, call, name, 0, 0, none_named);
    need_hashable(c, call, name, "element", T);
    return stream_of(c, op->kind == OP_DISTINCT ? T : type_pair(c->a, T, prim(TY_INT)), period);
  case OP_SORTBY: {
    static const char *const named[] = {"descending", NULL};
    a = bind_args(c, call, name, 1, 1, named);
    if (!a.ok)
      return err_type();
    Type *key = check_fn_arg(c, a.pos[0], &T, 1, name);
    if (!type_is_orderable(key))
      diag_error(c->d, value_loc(result_expr(a.pos[0])),
                 "sortBy needs a key that can be ordered (int, float, string, time, duration or "
                 "a tuple of them), found %s",
                 ts(c, key));
    if (a.named[0]) {
      if (a.named[0]->kind != EX_BOOL)
        diag_error(c->d, a.named[0]->loc, "descending: must be true or false");
      a.named[0]->ty = prim(TY_BOOL);
    }
    return stream_of(c, T, period);
  }
  case OP_TOP: {
    a = bind_args(c, call, name, 2, 2, none_named);
    if (!a.ok)
      return err_type();
    arg_of_type(c, a.pos[0], prim(TY_INT), "the count of top");
    Type *key = check_fn_arg(c, a.pos[1], &T, 1, name);
    if (!type_is_orderable(key))
      diag_error(c->d, value_loc(result_expr(a.pos[1])),
                 "top needs a key that can be ordered (int, float, string, time, duration or a "
                 "tuple of them), found %s",
                 ts(c, key));
    return stream_of(c, T, period);
  }
  case OP_REPARTITION:
    a = bind_args(c, call, name, 1, 1, none_named);
    if (a.ok)
      arg_of_type(c, a.pos[0], prim(TY_INT), "the partition count of repartition");
    return stream_of(c, T, period);
  case OP_REDUCEBYKEY: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok || !need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    need_hashable(c, call, name, "key", K);
    Type *ps[2] = {V, V};
    Type *ret = check_fn_arg(c, a.pos[0], ps, 2, name);
    expect_type(c, result_expr(a.pos[0]), ret, V,
                "reduceByKey's function must return the value type");
    return stream_of(c, type_pair(c->a, K, V), period);
  }
  case OP_GROUPBYKEY:
    a = bind_args(c, call, name, 0, 0, none_named);
    if (!need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    need_hashable(c, call, name, "key", K);
    return stream_of(c, type_pair(c->a, K, type_list(c->a, V)), period);
  case OP_JOIN:
  case OP_LEFTOUTERJOIN:
  case OP_RIGHTOUTERJOIN:
  case OP_FULLOUTERJOIN:
  case OP_COGROUP: {
    a = bind_args(c, call, name, 1, 1, none_named);
    if (!a.ok || !need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    need_hashable(c, call, name, "key", K);
    Type *o = other_stream(c, call, a.pos[0], recv, name);
    if (!o)
      return err_type();
    Type *K2, *W;
    Type *oel = type_repr(o->elem);
    if (oel->kind != TY_TUPLE || oel->nelems != 2) {
      diag_error(c->d, value_loc(a.pos[0]), "%s needs a stream of pairs as its argument, found %s",
                 name, ts(c, o));
      return err_type();
    }
    K2 = oel->elems[0];
    W = oel->elems[1];
    if (!type_unify(c->a, K, K2)) {
      diag_error(c->d, value_loc(a.pos[0]), "%s needs keys of the same type on both sides: %s and %s",
                 name, ts(c, K), ts(c, K2));
      return err_type();
    }
    Type *vv;
    switch (op->kind) {
    case OP_JOIN: vv = type_pair(c->a, V, W); break;
    case OP_LEFTOUTERJOIN: vv = type_pair(c->a, V, type_option(c->a, W)); break;
    case OP_RIGHTOUTERJOIN: vv = type_pair(c->a, type_option(c->a, V), W); break;
    case OP_FULLOUTERJOIN:
      vv = type_pair(c->a, type_option(c->a, V), type_option(c->a, W));
      break;
    default: vv = type_pair(c->a, type_list(c->a, V), type_list(c->a, W)); break;
    }
    return stream_of(c, type_pair(c->a, K, vv), period);
  }
  case OP_UPDATESTATEBYKEY: {
    static const char *const named[] = {"initial", NULL};
    a = bind_args(c, call, name, 1, 1, named);
    if (!a.ok || !need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    need_hashable(c, call, name, "key", K);
    Type *S = type_var(c->a);
    Type *ps[2] = {type_list(c->a, V), type_option(c->a, S)};
    Type *ret = check_fn_arg(c, a.pos[0], ps, 2, name);
    expect_type(c, result_expr(a.pos[0]), ret,
                type_option(c->a, S), "updateStateByKey's function must return the new state");
    if (a.named[0])
      arg_of_type(c, a.named[0], type_list(c->a, type_pair(c->a, K, S)), "initial:");
    return stream_of(c, type_pair(c->a, K, S), period);
  }
  case OP_MAPWITHSTATE: {
    static const char *const named[] = {"timeout", "onTimeout", "initial", NULL};
    a = bind_args(c, call, name, 1, 1, named);
    if (!a.ok || !need_pairs(c, call, name, recv, &K, &V))
      return err_type();
    need_hashable(c, call, name, "key", K);
    Type *S = type_var(c->a), *U = type_var(c->a);
    Type *ps[3] = {K, V, type_option(c->a, S)};
    Type *ret = check_fn_arg(c, a.pos[0], ps, 3, name);
    expect_type(c, result_expr(a.pos[0]), ret,
                type_pair(c->a, type_option(c->a, S), type_option(c->a, U)),
                "mapWithState's function must return (new state, output)");
    if (a.named[0]) {
      if (a.named[0]->kind != EX_DURATION || a.named[0]->ival <= 0)
        diag_error(c->d, a.named[0]->loc, "timeout: must be a positive duration literal such as 30m");
      a.named[0]->ty = prim(TY_DURATION);
    }
    if (a.named[1]) {
      if (!a.named[0])
        diag_error(c->d, a.named_loc[1], "onTimeout: needs timeout: as well");
      Type *ps2[2] = {K, S};
      Type *r2 = check_fn_arg(c, a.named[1], ps2, 2, "onTimeout:");
      expect_type(c, result_expr(a.named[1]), r2,
                  type_option(c->a, U), "onTimeout:'s function must return an optional output");
    }
    if (a.named[2])
      arg_of_type(c, a.named[2], type_list(c->a, type_pair(c->a, K, S)), "initial:");
    Type *s = stream_of(c, U, period);
    s->snap = type_pair(c->a, K, S);
    return s;
  }
  case OP_STATESNAPSHOTS:
    a = bind_args(c, call, name, 0, 0, none_named);
    if (!recv->snap) {
      diag_error(c->d, callee_loc(call),
                 "stateSnapshots works on a stream made by mapWithState, found %s",
                 ts(c, recv));
      return err_type();
    }
    return stream_of(c, recv->snap, period);
  case OP_WINDOW:
  case OP_COUNTBYWINDOW:
  case OP_COUNTBYVALUEANDWINDOW: {
    a = bind_args(c, call, name, 1, 2, none_named);
    if (!a.ok)
      return err_type();
    int64_t w = window_duration(c, a.pos[0], "length", period);
    int64_t s = window_duration(c, a.npos > 1 ? a.pos[1] : NULL, "slide", period);
    (void)w;
    int64_t np = s > 0 ? s : period;
    if (op->kind == OP_WINDOW)
      return stream_of(c, T, np);
    if (op->kind == OP_COUNTBYWINDOW)
      return stream_of(c, prim(TY_INT), np);
    need_hashable(c, call, name, "element", T);
    return stream_of(c, type_pair(c->a, T, prim(TY_INT)), np);
  }
  case OP_REDUCEBYWINDOW:
  case OP_REDUCEBYKEYANDWINDOW: {
    bool keyed = op->kind == OP_REDUCEBYKEYANDWINDOW;
    static const char *const named_k[] = {"filter", NULL};
    a = bind_args(c, call, name, 2, 4, keyed ? named_k : none_named);
    if (!a.ok)
      return err_type();
    /* Forms: (f, w), (f, w, s), (f, finv, w), (f, finv, w, s). */
    bool has_inv = a.pos[1]->kind != EX_DURATION;
    if (!has_inv && a.npos > 3) {
      diag_error(c->d, a.pos[3]->loc, "too many arguments: %s takes (f, w, s) or (f, finv, w, s)",
                 name);
      return err_type();
    }
    if (has_inv && a.npos < 3) {
      diag_error(c->d, callee_loc(call),
                 "missing argument: %s with an inverse function takes (f, finv, w) or (f, finv, w, s)",
                 name);
      return err_type();
    }
    Type *el = T;
    if (keyed) {
      if (!need_pairs(c, call, name, recv, &K, &V))
        return err_type();
      need_hashable(c, call, name, "key", K);
      el = V;
    }
    Type *ps[2] = {el, el};
    Type *ret = check_fn_arg(c, a.pos[0], ps, 2, name);
    expect_type(c, result_expr(a.pos[0]), ret, el,
                "the reduce function must return the value type");
    if (has_inv) {
      Type *ret2 = check_fn_arg(c, a.pos[1], ps, 2, name);
      expect_type(c, result_expr(a.pos[1]), ret2, el,
                  "the inverse function must return the value type");
    }
    int wi = has_inv ? 2 : 1;
    window_duration(c, a.pos[wi], "length", period);
    int64_t s = window_duration(c, a.npos > wi + 1 ? a.pos[wi + 1] : NULL, "slide", period);
    Type *result = keyed ? type_pair(c->a, K, V) : T;
    if (keyed && a.named[0]) {
      if (!has_inv)
        diag_error(c->d, a.named_loc[0],
                   "filter: works only with an inverse function (f, finv, w, s)");
      Type *r = check_fn_arg(c, a.named[0], &result, 1, "filter:");
      if (!type_unify(c->a, r, prim(TY_BOOL)))
        diag_error(c->d, value_loc(result_expr(a.named[0])),
                   "filter: needs a function that returns bool, found %s", ts(c, r));
    }
    return stream_of(c, result, s > 0 ? s : period);
  }
  case OP_PRINT:
    a = bind_args(c, call, name, 0, 1, none_named);
    if (a.ok && a.npos == 1)
      arg_of_type(c, a.pos[0], prim(TY_INT), "the count of print");
    return NULL;
  case OP_SAVEASTEXTFILES: {
    static const char *const named[] = {"skipEmpty", NULL};
    a = bind_args(c, call, name, 1, 2, named);
    if (!a.ok)
      return NULL;
    arg_of_type(c, a.pos[0], prim(TY_STRING), "the prefix of saveAsTextFiles");
    if (a.npos > 1)
      arg_of_type(c, a.pos[1], prim(TY_STRING), "the suffix of saveAsTextFiles");
    if (a.named[0]) {
      if (a.named[0]->kind != EX_BOOL)
        diag_error(c->d, a.named[0]->loc, "skipEmpty: must be true or false");
      a.named[0]->ty = prim(TY_BOOL);
    }
    return NULL;
  }
  default:
    break;
  }
  return err_type();
}

/* s.name(args) where s is a stream. */
static Type *check_method_call(Checker *c, Expr *call) {
  Expr *callee = call->lhs;
  Type *recv = type_repr(check_expr(c, callee->lhs));
  if (recv->kind == TY_ERROR) {
    for (int i = 0; i < call->args.len; i++) {
      Arg *arg = call->args.items[i];
      if (arg->value->kind != EX_LAMBDA)
        check_expr(c, arg->value);
    }
    return err_type();
  }
  if (recv->kind != TY_STREAM) {
    const BuiltinInfo *b = builtin_lookup(callee->name);
    if (b)
      diag_error(c->d, callee->loc,
                 "unknown method '%s' on %s: builtins are functions, call it as %s(x, ...)",
                 name_cstr(c, callee->name), ts(c, recv), b->name);
    else
      diag_error(c->d, callee->loc, "unknown method '%s' on %s: only streams have methods",
                 name_cstr(c, callee->name), ts(c, recv));
    return err_type();
  }
  const OpInfo *op = op_lookup_method(callee->name);
  if (!op) {
    diag_error(c->d, callee->loc, "unknown method '%s' on %s", name_cstr(c, callee->name),
               ts(c, recv));
    return err_type();
  }
  Type *t = check_method(c, call, recv, op);
  if (op->cls == OC_OUTPUT) {
    if (call != c->stmt_output)
      diag_error(c->d, callee->loc,
                 "%s is an output operation and has no value; write it as a statement of its own",
                 op->name);
    return err_type();
  }
  return t;
}

/* ---------------------------------------------------------------- */
/* sources, builtins and fn calls                                    */
/* ---------------------------------------------------------------- */

static Type *check_source(Checker *c, Expr *call, const OpInfo *op) {
  static const char *const none_named[] = {NULL};
  static const char *const tf_named[] = {"newFilesOnly", NULL};
  call->op_info = op;
  if (c->fn_depth > 0) {
    diag_error(c->d, callee_loc(call),
               "a source cannot be used inside a function: streams are made at the top level");
    return err_type();
  }
  Args a;
  switch (op->kind) {
  case OP_SOCKET:
    a = bind_args(c, call, op->name, 2, 2, none_named);
    if (a.ok) {
      arg_of_type(c, a.pos[0], prim(TY_STRING), "the host of socket");
      arg_of_type(c, a.pos[1], prim(TY_INT), "the port of socket");
    }
    break;
  case OP_TEXTFILES:
    a = bind_args(c, call, op->name, 1, 1, tf_named);
    if (a.ok)
      arg_of_type(c, a.pos[0], prim(TY_STRING), "the directory of textFiles");
    if (a.named[0]) {
      if (a.named[0]->kind != EX_BOOL)
        diag_error(c->d, a.named[0]->loc, "newFilesOnly: must be true or false");
      a.named[0]->ty = prim(TY_BOOL);
    }
    break;
  default:
    a = bind_args(c, call, op->name, 1, 1, none_named);
    if (a.ok)
      arg_of_type(c, a.pos[0], prim(TY_STRING), op->kind == OP_TEXTFILE ? "the path of textFile"
                                                                        : "the path of batches");
    break;
  }
  return stream_of(c, prim(TY_STRING), 0);
}

/* Checks argument i of a builtin call against want; returns its type. */
static Type *bi_arg(Checker *c, Expr *call, int i, Type *want) {
  Arg *arg = call->args.items[i];
  Type *t = check_expr(c, arg->value);
  if (want && !type_unify(c->a, t, want)) {
    diag_error(c->d, value_loc(arg->value), "%s expects %s as argument %d, found %s",
               call->builtin->name, ts(c, want), i + 1, ts(c, t));
    return err_type();
  }
  return t;
}

/* Reports an argument of the wrong kind for an overloaded builtin. */
static Type *bi_bad(Checker *c, Expr *call, int i, Type *got, const char *wanted) {
  if (is_err(got))
    return err_type();
  Arg *arg = call->args.items[i];
  diag_error(c->d, value_loc(arg->value), "%s expects %s as argument %d, found %s",
             call->builtin->name, wanted, i + 1, ts(c, got));
  return err_type();
}

static bool is_numeric(Type *t) {
  TypeKind k = kind_of(t);
  return k == TY_INT || k == TY_FLOAT;
}

static Type *check_builtin(Checker *c, Expr *call, const BuiltinInfo *b) {
  static const struct { BuiltinKind kind; int min, max; } arity[] = {
      {BI_LEN, 1, 1},       {BI_SPLIT, 2, 2},     {BI_WORDS, 1, 1},    {BI_TRIM, 1, 1},
      {BI_LOWER, 1, 1},     {BI_UPPER, 1, 1},     {BI_CONTAINS, 2, 2}, {BI_STARTSWITH, 2, 2},
      {BI_ENDSWITH, 2, 2},  {BI_INDEXOF, 2, 2},   {BI_SUBSTR, 3, 3},   {BI_REPLACE, 3, 3},
      {BI_FIELD, 3, 3},     {BI_PARSEINT, 1, 1},  {BI_PARSEFLOAT, 1, 1}, {BI_STR, 1, 1},
      {BI_FLOAT, 1, 1},     {BI_INT, 1, 1},       {BI_TIME, 1, 1},     {BI_DURATION, 1, 1},
      {BI_PARSETIME, 2, 2}, {BI_FORMATTIME, 2, 2}, {BI_ABS, 1, 1},     {BI_MIN, 2, 2},
      {BI_MAX, 2, 2},       {BI_FLOOR, 1, 1},     {BI_CEIL, 1, 1},     {BI_SQRT, 1, 1},
      {BI_POW, 2, 2},       {BI_SUM, 1, 1},       {BI_MAPLIST, 2, 2},  {BI_FILTERLIST, 2, 2},
      {BI_FOLD, 3, 3},      {BI_SORTED, 1, 1},    {BI_RANGE, 1, 1},    {BI_CHARS, 1, 1},
      {BI_ISSOME, 1, 1},    {BI_ISNONE, 1, 1},    {BI_BATCHTIME, 0, 0},
  };
  call->builtin = b;
  int min = 0, max = 0;
  for (size_t i = 0; i < sizeof arity / sizeof arity[0]; i++)
    if (arity[i].kind == b->kind) {
      min = arity[i].min;
      max = arity[i].max;
    }
  int n = call->args.len;
  for (int i = 0; i < n; i++) {
    Arg *arg = call->args.items[i];
    if (arg->name.len) {
      diag_error(c->d, arg->loc, "unknown named argument '%s': %s takes no named arguments",
                 name_cstr(c, arg->name), b->name);
      return err_type();
    }
    if (i >= max) {
      diag_error(c->d, arg->loc, "too many arguments: %s takes %d", b->name, max);
      return err_type();
    }
  }
  if (n < min) {
    diag_error(c->d, callee_loc(call), "missing argument: %s takes %d, found %d", b->name, min, n);
    return err_type();
  }
  Type *S = prim(TY_STRING), *I = prim(TY_INT), *F = prim(TY_FLOAT);
  Type *t0, *t1;
  switch (b->kind) {
  case BI_LEN:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) != TY_STRING && kind_of(t0) != TY_LIST)
      return bi_bad(c, call, 0, t0, "a string or a list"), I;
    return I;
  case BI_SPLIT:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    return type_list(c->a, S);
  case BI_WORDS:
  case BI_CHARS:
    bi_arg(c, call, 0, S);
    return type_list(c->a, S);
  case BI_TRIM:
  case BI_LOWER:
  case BI_UPPER:
    bi_arg(c, call, 0, S);
    return S;
  case BI_CONTAINS:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) == TY_LIST) {
      bi_arg(c, call, 1, type_repr(t0)->elem);
      return prim(TY_BOOL);
    }
    if (kind_of(t0) != TY_STRING && kind_of(t0) != TY_VAR)
      bi_bad(c, call, 0, t0, "a string or a list");
    bi_arg(c, call, 1, S);
    return prim(TY_BOOL);
  case BI_STARTSWITH:
  case BI_ENDSWITH:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    return prim(TY_BOOL);
  case BI_INDEXOF:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    return I;
  case BI_SUBSTR:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, I);
    bi_arg(c, call, 2, I);
    return S;
  case BI_REPLACE:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    bi_arg(c, call, 2, S);
    return S;
  case BI_FIELD:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    bi_arg(c, call, 2, I);
    return type_option(c->a, S);
  case BI_PARSEINT:
    bi_arg(c, call, 0, S);
    return type_option(c->a, I);
  case BI_PARSEFLOAT:
    bi_arg(c, call, 0, S);
    return type_option(c->a, F);
  case BI_STR:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) == TY_STREAM || kind_of(t0) == TY_FUNC)
      bi_bad(c, call, 0, t0, "a value");
    return S;
  case BI_FLOAT:
    t0 = bi_arg(c, call, 0, NULL);
    if (!is_numeric(t0))
      bi_bad(c, call, 0, t0, "an int");
    return F;
  case BI_INT:
    t0 = bi_arg(c, call, 0, NULL);
    switch (kind_of(t0)) {
    case TY_INT: case TY_FLOAT: case TY_TIME: case TY_DURATION: case TY_ERROR: break;
    default: bi_bad(c, call, 0, t0, "a float, time or duration");
    }
    return I;
  case BI_TIME:
    bi_arg(c, call, 0, I);
    return prim(TY_TIME);
  case BI_DURATION:
    bi_arg(c, call, 0, I);
    return prim(TY_DURATION);
  case BI_PARSETIME:
    bi_arg(c, call, 0, S);
    bi_arg(c, call, 1, S);
    return type_option(c->a, prim(TY_TIME));
  case BI_FORMATTIME:
    bi_arg(c, call, 0, prim(TY_TIME));
    bi_arg(c, call, 1, S);
    return S;
  case BI_ABS:
    t0 = bi_arg(c, call, 0, NULL);
    if (!is_numeric(t0) && kind_of(t0) != TY_DURATION)
      return bi_bad(c, call, 0, t0, "an int or a float");
    return t0;
  case BI_MIN:
  case BI_MAX:
    t0 = bi_arg(c, call, 0, NULL);
    switch (kind_of(t0)) {
    case TY_INT: case TY_FLOAT: case TY_TIME: case TY_DURATION: break;
    default: return bi_bad(c, call, 0, t0, "an int or a float");
    }
    bi_arg(c, call, 1, t0);
    return t0;
  case BI_FLOOR:
  case BI_CEIL:
  case BI_SQRT:
    bi_arg(c, call, 0, F);
    return F;
  case BI_POW:
    bi_arg(c, call, 0, F);
    bi_arg(c, call, 1, F);
    return F;
  case BI_SUM:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) == TY_LIST) {
      Type *e = type_repr(type_repr(t0)->elem);
      if (e->kind == TY_VAR)
        type_unify(c->a, e, I);
      e = type_repr(e);
      if (e->kind == TY_INT || e->kind == TY_FLOAT || e->kind == TY_DURATION || e->kind == TY_ERROR)
        return e;
    }
    return bi_bad(c, call, 0, t0, "a list of ints, floats or durations");
  case BI_MAPLIST:
  case BI_FILTERLIST: {
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) != TY_LIST) {
      bi_bad(c, call, 0, t0, "a list");
      return err_type();
    }
    Type *e = type_repr(t0)->elem;
    Arg *f = call->args.items[1];
    Type *r = check_fn_arg(c, f->value, &e, 1, b->name);
    if (b->kind == BI_MAPLIST)
      return type_list(c->a, r);
    if (!type_unify(c->a, r, prim(TY_BOOL)))
      diag_error(c->d, value_loc(result_expr(f->value)),
                 "filter needs a function that returns bool, found %s", ts(c, r));
    return t0;
  }
  case BI_FOLD: {
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) != TY_LIST) {
      bi_bad(c, call, 0, t0, "a list");
      return err_type();
    }
    t1 = bi_arg(c, call, 1, NULL);
    Arg *f = call->args.items[2];
    Type *ps[2] = {t1, type_repr(t0)->elem};
    Type *r = check_fn_arg(c, f->value, ps, 2, "fold");
    expect_type(c, result_expr(f->value), r, t1,
                "fold's function must return the accumulator type");
    return t1;
  }
  case BI_SORTED:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) != TY_LIST || !type_is_orderable(type_repr(t0)->elem))
      return bi_bad(c, call, 0, t0, "a list of ints, floats, strings, times, durations or tuples");
    return t0;
  case BI_RANGE:
    bi_arg(c, call, 0, I);
    return type_list(c->a, I);
  case BI_ISSOME:
  case BI_ISNONE:
    t0 = bi_arg(c, call, 0, NULL);
    if (kind_of(t0) == TY_VAR)
      type_unify(c->a, t0, type_option(c->a, type_var(c->a)));
    else if (kind_of(t0) != TY_OPTION)
      bi_bad(c, call, 0, t0, "an option");
    return prim(TY_BOOL);
  case BI_BATCHTIME:
    if (c->fn_depth == 0)
      diag_error(c->d, callee_loc(call),
                 "batchTime() is only known inside a function that an operator runs");
    return prim(TY_TIME);
  default:
    break;
  }
  return err_type();
}

static Type *check_fn_call(Checker *c, Expr *call, FnDecl *f) {
  call->fn = f;
  int np = f->params.len, n = call->args.len;
  for (int i = 0; i < n; i++) {
    Arg *arg = call->args.items[i];
    if (arg->name.len) {
      diag_error(c->d, arg->loc,
                 "named arguments exist for builtins and operators only, not for fn '%s'",
                 name_cstr(c, f->name));
      return f->ty->ret;
    }
    if (i >= np) {
      diag_error(c->d, arg->loc, "too many arguments: '%s' takes %d", name_cstr(c, f->name), np);
      return f->ty->ret;
    }
    Type *t = check_expr(c, arg->value);
    if (!type_unify(c->a, t, f->ty->elems[i]))
      diag_error(c->d, value_loc(arg->value), "'%s' expects %s as argument %d, found %s",
                 name_cstr(c, f->name), ts(c, f->ty->elems[i]), i + 1, ts(c, t));
  }
  if (n < np)
    diag_error(c->d, callee_loc(call), "missing argument: '%s' takes %d, found %d",
               name_cstr(c, f->name), np, n);
  return f->ty->ret;
}

static Type *check_call(Checker *c, Expr *call) {
  Expr *callee = call->lhs;
  if (callee->kind == EX_FIELD)
    return check_method_call(c, call);
  if (callee->kind != EX_NAME) {
    Type *t = check_expr(c, callee);
    if (!is_err(t))
      diag_error(c->d, callee->loc, "only functions can be called, this is %s", ts(c, t));
    return err_type();
  }
  Str name = callee->name;
  Local *l = find_local(c, name);
  LetBinding *g = l ? NULL : find_global(c, name);
  if (l || g) {
    diag_error(c->d, callee->loc, "'%s' is a value, not a function", name_cstr(c, name));
    return err_type();
  }
  FnDecl *f = find_fn(c, name);
  if (f) {
    callee->ref = REF_FN;
    callee->fn = f;
    return check_fn_call(c, call, f);
  }
  const BuiltinInfo *b = builtin_lookup(name);
  if (b) {
    callee->ref = REF_BUILTIN;
    callee->builtin = b;
    return check_builtin(c, call, b);
  }
  const OpInfo *op = op_lookup_source(name);
  if (op)
    return check_source(c, call, op);
  if (op_lookup_method(name))
    diag_error(c->d, callee->loc, "undefined function '%s': it is a stream operator, call it as "
                                  "s.%s(...) on a stream",
               name_cstr(c, name), name_cstr(c, name));
  else
    diag_error(c->d, callee->loc, "undefined function '%s'", name_cstr(c, name));
  return err_type();
}

/* ---------------------------------------------------------------- */
/* expressions                                                       */
/* ---------------------------------------------------------------- */

static Type *check_name(Checker *c, Expr *e) {
  Local *l = find_local(c, e->name);
  if (l) {
    e->ref = REF_LOCAL;
    e->param = l->param;
    e->let_stmt = l->let_stmt;
    return l->ty;
  }
  LetBinding *g = find_global(c, e->name);
  if (g) {
    e->ref = REF_GLOBAL;
    e->global = g;
    Type *t = g->value->ty ? g->value->ty : err_type();
    if (c->fn_depth > 0 && kind_of(t) == TY_STREAM) {
      diag_error(c->d, e->loc, "a function cannot use the stream '%s': functions work on values "
                               "(use join or union to combine streams)",
                 name_cstr(c, e->name));
      return err_type();
    }
    return t;
  }
  if (find_fn(c, e->name)) {
    diag_error(c->d, e->loc, "fn '%s' can only be called or passed to an operator",
               name_cstr(c, e->name));
    return err_type();
  }
  if (builtin_lookup(e->name) || op_lookup_source(e->name)) {
    diag_error(c->d, e->loc, "'%s' is a builtin function: call it with (...)",
               name_cstr(c, e->name));
    return err_type();
  }
  diag_error(c->d, e->loc, "undefined name '%s'", name_cstr(c, e->name));
  return err_type();
}

/* A value that may not be a stream (an element of a tuple, list, ...). */
static Type *check_value(Checker *c, Expr *e) {
  Type *t = check_expr(c, e);
  if (kind_of(t) == TY_STREAM) {
    diag_error(c->d, e->loc, "a stream cannot be stored inside a value");
    return err_type();
  }
  return t;
}

static Type *check_binary(Checker *c, Expr *e) {
  Type *l = check_value(c, e->lhs);
  Type *r = check_value(c, e->rhs);
  const char *op = binop_spelling(e->op);
  if (is_err(l) || is_err(r))
    return e->op >= OP_EQ && e->op <= OP_OR ? prim(TY_BOOL) : err_type();
  TypeKind lk = kind_of(l), rk = kind_of(r);
  switch (e->op) {
  case OP_AND:
  case OP_OR:
    if (type_unify(c->a, l, prim(TY_BOOL)) && type_unify(c->a, r, prim(TY_BOOL)))
      return prim(TY_BOOL);
    diag_error(c->d, e->op_loc, "'%s' needs two bools, found %s and %s", op, ts(c, l), ts(c, r));
    return prim(TY_BOOL);
  case OP_COALESCE:
    if (lk == TY_VAR)
      type_unify(c->a, l, type_option(c->a, type_var(c->a)));
    if (kind_of(l) != TY_OPTION) {
      diag_error(c->d, e->op_loc, "'?\?' needs an option on its left, found %s", ts(c, l));
      return err_type();
    }
    if (!type_unify(c->a, type_repr(l)->elem, r)) {
      diag_error(c->d, e->op_loc, "'?\?' needs a default of type %s, found %s",
                 ts(c, type_repr(l)->elem), ts(c, r));
      return err_type();
    }
    return r;
  case OP_EQ:
  case OP_NE:
    if (!type_unify(c->a, l, r)) {
      diag_error(c->d, e->op_loc, "'%s' compares values of one type, found %s and %s", op,
                 ts(c, l), ts(c, r));
      return prim(TY_BOOL);
    }
    if (lk != TY_FLOAT && type_unhashable_reason(l) && !type_is_error(l)) {
      /* Floats compare with IEEE equality; lists, streams and functions do not compare. */
      Type *lr = type_repr(l);
      bool floaty = lr->kind == TY_FLOAT;
      if (!floaty)
        diag_error(c->d, e->op_loc, "'%s' cannot compare values of type %s", op, ts(c, l));
    }
    return prim(TY_BOOL);
  case OP_LT:
  case OP_LE:
  case OP_GT:
  case OP_GE:
    if (!type_unify(c->a, l, r) || !type_is_orderable(l))
      diag_error(c->d, e->op_loc,
                 "'%s' orders two ints, floats, strings, times, durations or tuples of them, "
                 "found %s and %s",
                 op, ts(c, l), ts(c, r));
    return prim(TY_BOOL);
  default:
    break;
  }
  /* Arithmetic. */
  if (lk == TY_VAR && rk != TY_VAR)
    type_unify(c->a, l, r), lk = rk;
  else if (rk == TY_VAR && lk != TY_VAR)
    type_unify(c->a, r, l), rk = lk;
  switch (e->op) {
  case OP_ADD:
    if (lk == rk && (lk == TY_INT || lk == TY_FLOAT || lk == TY_STRING || lk == TY_DURATION))
      return l;
    if (lk == TY_LIST && rk == TY_LIST && type_unify(c->a, l, r))
      return l;
    if (lk == TY_TIME && rk == TY_DURATION)
      return l;
    if (lk == TY_DURATION && rk == TY_TIME)
      return r;
    break;
  case OP_SUB:
    if (lk == rk && (lk == TY_INT || lk == TY_FLOAT || lk == TY_DURATION))
      return l;
    if (lk == TY_TIME && rk == TY_TIME)
      return prim(TY_DURATION);
    if (lk == TY_TIME && rk == TY_DURATION)
      return l;
    break;
  case OP_MUL:
    if (lk == rk && (lk == TY_INT || lk == TY_FLOAT))
      return l;
    if (lk == TY_DURATION && rk == TY_INT)
      return l;
    if (lk == TY_INT && rk == TY_DURATION)
      return r;
    break;
  case OP_DIV:
  case OP_MOD:
    if (lk == rk && (lk == TY_INT || lk == TY_FLOAT))
      return l;
    break;
  default:
    break;
  }
  if (lk == TY_INT && rk == TY_FLOAT)
    diag_error(c->d, e->op_loc, "'%s' cannot combine int and float: convert with float(x)", op);
  else if (lk == TY_FLOAT && rk == TY_INT)
    diag_error(c->d, e->op_loc, "'%s' cannot combine float and int: convert with float(x)", op);
  else
    diag_error(c->d, e->op_loc, "'%s' cannot be applied to %s and %s", op, ts(c, l), ts(c, r));
  return err_type();
}

static Type *check_block(Checker *c, Expr *e) {
  Local *saved = c->locals;
  Type *t = err_type();
  for (int i = 0; i < e->items.len; i++) {
    Stmt *s = e->items.items[i];
    if (s->kind == SK_LET) {
      Type *v = check_expr(c, s->value);
      if (kind_of(v) == TY_STREAM) {
        diag_error(c->d, s->value->loc, "streams can only be bound by a top-level let");
        v = err_type();
      }
      for (Local *l = c->locals; l != saved; l = l->next)
        if (str_eq2(l->name, s->name)) {
          diag_error(c->d, s->name_loc, "'%s' is already defined in this block",
                     name_cstr(c, s->name));
          break;
        }
      push_local(c, s->name, v, NULL, s);
      t = v;
    } else if (s->kind == SK_EXPR && s->value) {
      t = check_value(c, s->value);
    }
  }
  c->locals = saved;
  return t;
}

static Type *check_expr_inner(Checker *c, Expr *e) {
  switch (e->kind) {
  case EX_INT:
    return prim(TY_INT);
  case EX_FLOAT:
    return prim(TY_FLOAT);
  case EX_STRING:
    return prim(TY_STRING);
  case EX_DURATION:
    return prim(TY_DURATION);
  case EX_BOOL:
    return prim(TY_BOOL);
  case EX_NONE:
    vec_push(c->a, &c->holes, e);
    return type_option(c->a, type_var(c->a));
  case EX_SOME:
    return type_option(c->a, check_value(c, e->lhs));
  case EX_NAME:
    return check_name(c, e);
  case EX_TUPLE: {
    Type **elems = arena_alloc(c->a, sizeof(Type *) * (size_t)e->items.len);
    for (int i = 0; i < e->items.len; i++)
      elems[i] = check_value(c, e->items.items[i]);
    return type_tuple(c->a, elems, e->items.len);
  }
  case EX_LIST: {
    Type *el = type_var(c->a);
    if (e->items.len == 0)
      vec_push(c->a, &c->holes, e);
    for (int i = 0; i < e->items.len; i++) {
      Expr *x = e->items.items[i];
      Type *t = check_value(c, x);
      if (!type_unify(c->a, el, t)) {
        diag_error(c->d, value_loc(x), "list elements must have one type: %s, then %s",
                   ts(c, el), ts(c, t));
        break;
      }
    }
    return type_list(c->a, el);
  }
  case EX_RECORD: {
    RecordDecl *r = find_record(c, e->name);
    if (!r) {
      diag_error(c->d, e->loc, "undefined type '%s'", name_cstr(c, e->name));
      for (int i = 0; i < e->fields.len; i++)
        check_expr(c, ((FieldInit *)e->fields.items[i])->value);
      return err_type();
    }
    bool *seen = arena_alloc(c->a, sizeof(bool) * (size_t)(r->fields.len + 1));
    for (int i = 0; i < e->fields.len; i++) {
      FieldInit *fi = e->fields.items[i];
      Type *t = check_value(c, fi->value);
      int k = -1;
      for (int j = 0; j < r->fields.len; j++)
        if (str_eq2(((FieldDecl *)r->fields.items[j])->name, fi->name))
          k = j;
      if (k < 0) {
        diag_error(c->d, fi->loc, "unknown field '%s' in record %s", name_cstr(c, fi->name),
                   name_cstr(c, r->name));
        continue;
      }
      if (seen[k]) {
        diag_error(c->d, fi->loc, "field '%s' is given twice", name_cstr(c, fi->name));
        continue;
      }
      seen[k] = true;
      FieldDecl *fd = r->fields.items[k];
      if (!type_unify(c->a, t, fd->ty))
        diag_error(c->d, value_loc(fi->value), "field '%s' of %s is %s, found %s",
                   name_cstr(c, fi->name), name_cstr(c, r->name), ts(c, fd->ty), ts(c, t));
    }
    for (int j = 0; j < r->fields.len; j++)
      if (!seen[j]) {
        diag_error(c->d, e->loc, "missing field '%s' in %s { ... }",
                   name_cstr(c, ((FieldDecl *)r->fields.items[j])->name), name_cstr(c, r->name));
        break;
      }
    return type_record(c->a, r);
  }
  case EX_FIELD: {
    Type *t = type_repr(check_value(c, e->lhs));
    if (t->kind == TY_ERROR)
      return t;
    if (t->kind != TY_RECORD) {
      if (t->kind == TY_TUPLE)
        diag_error(c->d, e->loc, "unknown field '%s': %s is a tuple, read its elements with .0, .1, ...",
                   name_cstr(c, e->name), ts(c, t));
      else if (t->kind == TY_VAR)
        diag_error(c->d, e->loc, "the type of this value is not known here, so '.%s' cannot be read; "
                                 "write the parameter's type",
                   name_cstr(c, e->name));
      else
        diag_error(c->d, e->loc, "unknown field '%s': %s has no fields", name_cstr(c, e->name),
                   ts(c, t));
      return err_type();
    }
    for (int j = 0; j < t->rec->fields.len; j++) {
      FieldDecl *fd = t->rec->fields.items[j];
      if (str_eq2(fd->name, e->name)) {
        e->field_index = j;
        return fd->ty;
      }
    }
    diag_error(c->d, e->loc, "unknown field '%s' in record %s", name_cstr(c, e->name),
               name_cstr(c, t->rec->name));
    return err_type();
  }
  case EX_INDEX: {
    Type *t = type_repr(check_value(c, e->lhs));
    if (t->kind == TY_ERROR)
      return t;
    if (t->kind != TY_TUPLE) {
      diag_error(c->d, e->loc, "'.%lld' reads a tuple element, but this is %s", (long long)e->ival,
                 ts(c, t));
      return err_type();
    }
    if (e->ival < 0 || e->ival >= t->nelems) {
      diag_error(c->d, e->loc, "%s has no element %lld (it has %d)", ts(c, t), (long long)e->ival,
                 t->nelems);
      return err_type();
    }
    return t->elems[e->ival];
  }
  case EX_SUBSCRIPT: {
    Type *t = type_repr(check_value(c, e->lhs));
    Type *i = check_value(c, e->rhs);
    if (!type_unify(c->a, i, prim(TY_INT)))
      diag_error(c->d, value_loc(e->rhs), "a list index must be an int, found %s", ts(c, i));
    if (t->kind == TY_ERROR)
      return t;
    if (t->kind != TY_LIST) {
      diag_error(c->d, e->loc, "only lists can be indexed with [i], this is %s", ts(c, t));
      return err_type();
    }
    return t->elem;
  }
  case EX_UNWRAP: {
    Type *t = type_repr(check_value(c, e->lhs));
    if (t->kind == TY_VAR)
      type_unify(c->a, t, type_option(c->a, type_var(c->a)));
    t = type_repr(t);
    if (t->kind == TY_ERROR)
      return t;
    if (t->kind != TY_OPTION) {
      diag_error(c->d, e->loc, "'!' unwraps an option, but this is %s", ts(c, t));
      return err_type();
    }
    return t->elem;
  }
  case EX_CALL:
    return check_call(c, e);
  case EX_UNARY_NEG: {
    Type *t = check_value(c, e->lhs);
    TypeKind k = kind_of(t);
    if (k == TY_INT || k == TY_FLOAT || k == TY_DURATION || k == TY_ERROR)
      return t;
    diag_error(c->d, e->loc, "'-' negates an int, float or duration, found %s", ts(c, t));
    return err_type();
  }
  case EX_NOT: {
    Type *t = check_value(c, e->lhs);
    if (!type_unify(c->a, t, prim(TY_BOOL)))
      diag_error(c->d, e->loc, "'not' needs a bool, found %s", ts(c, t));
    return prim(TY_BOOL);
  }
  case EX_BINARY:
    return check_binary(c, e);
  case EX_IF: {
    Type *ct = check_value(c, e->cond);
    if (!type_unify(c->a, ct, prim(TY_BOOL)))
      diag_error(c->d, value_loc(e->cond), "the condition of 'if' must be a bool, found %s",
                 ts(c, ct));
    Type *a = check_value(c, e->lhs);
    Type *b = check_value(c, e->rhs);
    if (!type_unify(c->a, a, b)) {
      diag_error(c->d, value_loc(e->rhs), "the branches of 'if' have different types: %s and %s",
                 ts(c, a), ts(c, b));
      return err_type();
    }
    return a;
  }
  case EX_BLOCK:
    return check_block(c, e);
  case EX_LAMBDA:
    diag_error(c->d, e->loc, "a lambda can only be passed as an argument to an operator or "
                             "builtin; name a function with fn");
    return err_type();
  case EX_ASCRIBE: {
    Type *want = resolve_type(c, e->texpr);
    Type *t = check_value(c, e->lhs);
    if (!type_unify(c->a, t, want))
      diag_error(c->d, value_loc(e->lhs), "this value is %s, not %s", ts(c, t), ts(c, want));
    return want;
  }
  case EX_ERROR:
    return err_type();
  }
  return err_type();
}

static Type *check_expr(Checker *c, Expr *e) {
  if (!e)
    return err_type();
  Type *t = check_expr_inner(c, e);
  e->ty = t ? t : err_type();
  return e->ty;
}

/* Reports the `none` and `[]` of a statement whose type nothing fixed. */
static void close_statement(Checker *c) {
  for (int i = 0; i < c->holes.len; i++) {
    Expr *e = c->holes.items[i];
    if (e->ty && !type_is_resolved(e->ty)) {
      if (e->kind == EX_NONE)
        diag_error(c->d, e->loc, "cannot tell the type of this 'none': write it, as in (none: int?)");
      else
        diag_error(c->d, e->loc, "cannot tell the element type of this '[]': write it, as in "
                                 "([]: [string])");
      settle(c, e->ty);
    }
  }
  c->holes.len = 0;
}

/* ---------------------------------------------------------------- */
/* statements                                                        */
/* ---------------------------------------------------------------- */

static bool literal_value(Expr *e, SettingType want, SettingValue *out) {
  bool neg = false;
  if (e->kind == EX_UNARY_NEG && e->lhs) {
    neg = true;
    e = e->lhs;
  }
  switch (e->kind) {
  case EX_INT:
    if (want != SETTY_INT)
      return false;
    out->ival = neg ? (int64_t)(0 - (uint64_t)e->ival) : e->ival;
    return true;
  case EX_DURATION:
    if (want != SETTY_DURATION)
      return false;
    out->ival = neg ? -e->ival : e->ival;
    return true;
  case EX_BOOL:
    if (want != SETTY_BOOL || neg)
      return false;
    out->ival = e->bval;
    return true;
  case EX_STRING:
    if (want != SETTY_STRING || neg)
      return false;
    out->sval = e->sval;
    return true;
  default:
    return false;
  }
}

static void check_set(Checker *c, Stmt *s) {
  int k = setting_lookup(s->name);
  if (k < 0) {
    diag_error(c->d, s->name_loc, "unknown setting '%s'", name_cstr(c, s->name));
    return;
  }
  SettingValue *v = &c->settings->v[k];
  if (v->given) {
    diag_error(c->d, s->name_loc, "setting '%s' is already set at %d:%d", setting_name(k),
               v->loc.line, v->loc.col);
    return;
  }
  static const char *const what[] = {
      [SETTY_INT] = "an int such as 4",
      [SETTY_DURATION] = "a duration such as 500ms",
      [SETTY_BOOL] = "a bool (true or false)",
      [SETTY_STRING] = "a string literal",
  };
  SettingValue nv = {.given = true, .loc = s->name_loc, .value_loc = s->value ? s->value->loc : s->name_loc};
  if (!s->value || !literal_value(s->value, setting_type(k), &nv)) {
    bool lit = s->value && (s->value->kind == EX_INT || s->value->kind == EX_FLOAT ||
                            s->value->kind == EX_STRING || s->value->kind == EX_DURATION ||
                            s->value->kind == EX_BOOL || s->value->kind == EX_UNARY_NEG);
    if (s->value && s->value->kind != EX_ERROR)
      diag_error(c->d, s->value->loc, "setting '%s' takes %s%s", setting_name(k),
                 what[setting_type(k)], lit ? "" : " (a literal)");
    return;
  }
  const char *bad = NULL;
  switch (k) {
  case SET_BATCH:
  case SET_CHECKPOINTINTERVAL:
    if (nv.ival <= 0)
      bad = "must be a positive duration";
    break;
  case SET_PARTITIONS:
  case SET_THREADS:
  case SET_MAXRECORDSPERBATCH:
  case SET_MAXLINEBYTES:
    if (nv.ival < 1)
      bad = "must be at least 1";
    break;
  case SET_MAXRATE:
  case SET_RETRIES:
    if (nv.ival < 0)
      bad = "must not be negative";
    break;
  case SET_ONERROR:
    if (!str_eq(nv.sval, "skip") && !str_eq(nv.sval, "fail"))
      bad = "must be \"skip\" or \"fail\"";
    break;
  case SET_CHECKPOINT:
  case SET_HDFSUSER:
    if (nv.sval.len == 0)
      bad = "must not be empty";
    break;
  default:
    break;
  }
  if (bad) {
    diag_error(c->d, s->value->loc, "setting '%s' %s", setting_name(k), bad);
    return;
  }
  *v = nv;
}

static void check_fn_signature(Checker *c, FnDecl *f) {
  int n = f->params.len;
  Type **ps = arena_alloc(c->a, sizeof(Type *) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    Param *p = f->params.items[i];
    if (!p->type) {
      diag_error(c->d, p->loc, "parameter '%s' of fn '%s' needs a written type",
                 name_cstr(c, p->name), name_cstr(c, f->name));
      p->ty = err_type();
    } else {
      p->ty = resolve_type(c, p->type);
    }
    for (int j = 0; j < i; j++)
      if (str_eq2(p->name, ((Param *)f->params.items[j])->name))
        diag_error(c->d, p->loc, "parameter '%s' is already defined", name_cstr(c, p->name));
    ps[i] = p->ty;
  }
  Type *ret = f->ret ? resolve_type(c, f->ret) : err_type();
  f->ty = type_func(c->a, ps, n, ret);
}

static void check_fn_body(Checker *c, FnDecl *f) {
  Local *saved = c->locals;
  c->fn_depth++;
  for (int i = 0; i < f->params.len; i++) {
    Param *p = f->params.items[i];
    push_local(c, p->name, p->ty, p, NULL);
  }
  Type *t = check_value(c, f->body);
  if (!type_unify(c->a, t, f->ty->ret))
    diag_error(c->d, value_loc(f->body), "fn '%s' returns %s, but its body is %s",
               name_cstr(c, f->name), ts(c, f->ty->ret), ts(c, t));
  c->fn_depth--;
  c->locals = saved;
  close_statement(c);
}

static bool is_output_call(Expr *e) {
  return e && e->kind == EX_CALL && e->op_info && e->op_info->cls == OC_OUTPUT;
}

/* Records the first definition of a top-level name; reports a second one. */
static bool define_top(Checker *c, Stmt *s) {
  Loc *prev = strmap_get(&c->top, s->name);
  if (prev) {
    diag_error(c->d, s->name_loc, "'%s' is already defined at %d:%d", name_cstr(c, s->name),
               prev->line, prev->col);
    return false;
  }
  strmap_put(c->a, &c->top, s->name, &s->name_loc);
  return true;
}

void check_program(Arena *a, Program *p, Settings *settings, Diags *d) {
  Checker cc = {.a = a, .d = d, .prog = p, .settings = settings};
  Checker *c = &cc;
  for (int k = 0; k < SET__COUNT; k++)
    settings->v[k].ival = setting_default(k);

  /* Settings, types and fn names first: they are visible everywhere. */
  for (int i = 0; i < p->stmts.len; i++) {
    Stmt *s = p->stmts.items[i];
    if (s->kind == SK_FN && s->fn && !s->name.len)
      s->name = s->fn->name, s->name_loc = s->fn->loc;
    if (s->kind == SK_TYPE && s->rec && !s->name.len)
      s->name = s->rec->name, s->name_loc = s->rec->loc;
    if (s->kind == SK_SET) {
      check_set(c, s);
    } else if (s->kind == SK_TYPE && s->rec) {
      if (define_top(c, s)) {
        strmap_put(a, &c->records, s->name, s->rec);
        vec_push(a, &c->record_list, s->rec);
      }
    } else if (s->kind == SK_FN && s->fn) {
      if (define_top(c, s)) {
        strmap_put(a, &c->fns, s->name, s->fn);
        vec_push(a, &c->fn_list, s->fn);
      }
    } else if (s->kind == SK_LET) {
      s->dup = !define_top(c, s);
    }
  }
  SettingValue *ci = &settings->v[SET_CHECKPOINTINTERVAL];
  SettingValue *b = &settings->v[SET_BATCH];
  if (ci->given && b->given && b->ival > 0 && ci->ival % b->ival != 0)
    diag_error(d, ci->value_loc, "checkpointInterval %lldms is not a multiple of the batch interval %lldms",
               (long long)ci->ival, (long long)b->ival);

  for (int i = 0; i < c->record_list.len; i++)
    resolve_record(c, c->record_list.items[i]);
  for (int i = 0; i < c->record_list.len; i++)
    check_record_recursion(c, c->record_list.items[i]);
  for (int i = 0; i < c->fn_list.len; i++)
    check_fn_signature(c, c->fn_list.items[i]);

  /* In source order: a fn body sees the lets defined before it (§3). */
  bool has_output = false;
  for (int i = 0; i < p->stmts.len; i++) {
    Stmt *s = p->stmts.items[i];
    if (s->kind == SK_FN && s->fn && find_fn(c, s->name) == s->fn) {
      check_fn_body(c, s->fn);
    } else if (s->kind == SK_LET) {
      Type *t = check_expr(c, s->value);
      close_statement(c);
      LetBinding *g = s->let;
      if (!g) {
        g = arena_alloc(a, sizeof *g);
        g->name = s->name;
        g->loc = s->name_loc;
        g->value = s->value;
        g->stmt = s;
        s->let = g;
      }
      (void)t;
      if (s->value && !s->dup)
        strmap_put(a, &c->globals, s->name, g);
    } else if (s->kind == SK_EXPR && s->value) {
      c->stmt_output = s->value;
      check_expr(c, s->value);
      c->stmt_output = NULL;
      close_statement(c);
      if (is_output_call(s->value)) {
        has_output = true;
      } else if (s->value->kind != EX_ERROR && !type_is_error(s->value->ty)) {
        diag_error(d, s->loc, "this expression is not an output operation, so its value would be "
                              "lost; outputs are print and saveAsTextFiles");
      }
    }
  }
  if (!has_output && d->errors == 0)
    diag_error(d, (Loc){1, 1}, "no output: the job would compute nothing");
}
