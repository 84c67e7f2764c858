/*
 * types.c — the types of LANGUAGE.md §4 and their unification.
 *
 * Types are trees allocated in the arena; type variables (TY_VAR) stand for
 * what inference has not fixed yet (a lambda parameter, the element of `[]`,
 * the value of `none`) and are bound by type_unify(). type_repr() follows
 * the bindings. TY_ERROR unifies with everything so that one mistake is
 * reported once, not at every use.
 */
#include "dsc.h"

#include <string.h>

static Type prims[] = {
    [TY_INT] = {.kind = TY_INT},       [TY_FLOAT] = {.kind = TY_FLOAT},
    [TY_BOOL] = {.kind = TY_BOOL},     [TY_STRING] = {.kind = TY_STRING},
    [TY_TIME] = {.kind = TY_TIME},     [TY_DURATION] = {.kind = TY_DURATION},
    [TY_ERROR] = {.kind = TY_ERROR},
};

Type *type_prim(TypeKind k) { return &prims[k]; }

static Type *type_new(Arena *a, TypeKind k) {
  Type *t = arena_alloc(a, sizeof *t);
  t->kind = k;
  return t;
}

Type *type_tuple(Arena *a, Type **elems, int n) {
  Type *t = type_new(a, TY_TUPLE);
  t->elems = arena_alloc(a, sizeof(Type *) * (size_t)n);
  memcpy(t->elems, elems, sizeof(Type *) * (size_t)n);
  t->nelems = n;
  return t;
}

Type *type_pair(Arena *a, Type *k, Type *v) {
  Type *e[2] = {k, v};
  return type_tuple(a, e, 2);
}

Type *type_list(Arena *a, Type *elem) {
  Type *t = type_new(a, TY_LIST);
  t->elem = elem;
  return t;
}

Type *type_option(Arena *a, Type *elem) {
  Type *t = type_new(a, TY_OPTION);
  t->elem = elem;
  return t;
}

Type *type_stream(Arena *a, Type *elem) {
  Type *t = type_new(a, TY_STREAM);
  t->elem = elem;
  return t;
}

Type *type_func(Arena *a, Type **params, int n, Type *ret) {
  Type *t = type_new(a, TY_FUNC);
  t->elems = arena_alloc(a, sizeof(Type *) * (size_t)(n ? n : 1));
  if (n)
    memcpy(t->elems, params, sizeof(Type *) * (size_t)n);
  t->nelems = n;
  t->ret = ret;
  return t;
}

Type *type_var(Arena *a) {
  return type_new(a, TY_VAR);
}

Type *type_record(Arena *a, RecordDecl *rec) {
  Type *t = type_new(a, TY_RECORD);
  t->rec = rec;
  return t;
}

Type *type_repr(Type *t) {
  while (t->kind == TY_VAR && t->bound)
    t = t->bound;
  return t;
}

/* Whether variable v occurs in t: binding it would build an infinite type. */
static bool occurs(Type *v, Type *t) {
  t = type_repr(t);
  if (t == v)
    return true;
  switch (t->kind) {
  case TY_TUPLE:
  case TY_FUNC:
    for (int i = 0; i < t->nelems; i++)
      if (occurs(v, t->elems[i]))
        return true;
    return t->ret && occurs(v, t->ret);
  case TY_LIST:
  case TY_OPTION:
  case TY_STREAM:
    return occurs(v, t->elem);
  default:
    return false;
  }
}

bool type_unify(Arena *a, Type *x, Type *y) {
  x = type_repr(x);
  y = type_repr(y);
  if (x == y || x->kind == TY_ERROR || y->kind == TY_ERROR)
    return true;
  if (x->kind == TY_VAR) {
    if (occurs(x, y))
      return false;
    x->bound = y;
    return true;
  }
  if (y->kind == TY_VAR)
    return type_unify(a, y, x);
  if (x->kind != y->kind)
    return false;
  switch (x->kind) {
  case TY_TUPLE:
    if (x->nelems != y->nelems)
      return false;
    for (int i = 0; i < x->nelems; i++)
      if (!type_unify(a, x->elems[i], y->elems[i]))
        return false;
    return true;
  case TY_FUNC:
    if (x->nelems != y->nelems)
      return false;
    for (int i = 0; i < x->nelems; i++)
      if (!type_unify(a, x->elems[i], y->elems[i]))
        return false;
    return type_unify(a, x->ret, y->ret);
  case TY_RECORD:
    return x->rec == y->rec;
  case TY_LIST:
  case TY_OPTION:
  case TY_STREAM:
    return type_unify(a, x->elem, y->elem);
  default:
    return true; /* equal primitive kinds */
  }
}

bool type_is_resolved(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_VAR:
    return false;
  case TY_TUPLE:
  case TY_FUNC:
    for (int i = 0; i < t->nelems; i++)
      if (!type_is_resolved(t->elems[i]))
        return false;
    return !t->ret || type_is_resolved(t->ret);
  case TY_LIST:
  case TY_OPTION:
  case TY_STREAM:
    return type_is_resolved(t->elem);
  default:
    return true;
  }
}

bool type_is_error(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_ERROR:
    return true;
  case TY_TUPLE:
  case TY_FUNC:
    for (int i = 0; i < t->nelems; i++)
      if (type_is_error(t->elems[i]))
        return true;
    return t->ret && type_is_error(t->ret);
  case TY_LIST:
  case TY_OPTION:
  case TY_STREAM:
    return type_is_error(t->elem);
  default:
    return false;
  }
}

const char *type_unhashable_reason(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_FLOAT:
    return "float is not hashable: values that print alike can differ (0.1 + 0.2 != 0.3) and NaN "
           "never equals itself; use an int, or str(x) of a rounded value";
  case TY_LIST:
    return "lists are not hashable; use a tuple or a record";
  case TY_STREAM:
  case TY_FUNC:
    return "streams and functions are not hashable";
  case TY_TUPLE:
    for (int i = 0; i < t->nelems; i++) {
      const char *r = type_unhashable_reason(t->elems[i]);
      if (r)
        return r;
    }
    return NULL;
  case TY_OPTION:
    return type_unhashable_reason(t->elem);
  case TY_RECORD:
    for (int i = 0; i < t->rec->fields.len; i++) {
      FieldDecl *f = t->rec->fields.items[i];
      if (f->ty) {
        const char *r = type_unhashable_reason(f->ty);
        if (r)
          return r;
      }
    }
    return NULL;
  default:
    return NULL;
  }
}

bool type_is_orderable(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_INT:
  case TY_FLOAT:
  case TY_STRING:
  case TY_TIME:
  case TY_DURATION:
  case TY_ERROR:
    return true;
  case TY_TUPLE:
    for (int i = 0; i < t->nelems; i++)
      if (!type_is_orderable(t->elems[i]))
        return false;
    return true;
  default:
    return false;
  }
}

bool type_has_stream(Type *t) {
  t = type_repr(t);
  switch (t->kind) {
  case TY_STREAM:
    return true;
  case TY_TUPLE:
    for (int i = 0; i < t->nelems; i++)
      if (type_has_stream(t->elems[i]))
        return true;
    return false;
  case TY_LIST:
  case TY_OPTION:
    return type_has_stream(t->elem);
  default:
    return false;
  }
}

static void type_fmt(Arena *a, Type *t, char **buf, size_t *len, size_t *cap);

static void put(Arena *a, char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t ncap = (*cap ? *cap * 2 : 64) + n;
    char *nb = arena_alloc(a, ncap);
    if (*len)
      memcpy(nb, *buf, *len);
    *buf = nb;
    *cap = ncap;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
}

static void puts_(Arena *a, char **buf, size_t *len, size_t *cap, const char *s) {
  put(a, buf, len, cap, s, strlen(s));
}

static void type_fmt(Arena *a, Type *t, char **buf, size_t *len, size_t *cap) {
  static const char *names[] = {
      [TY_INT] = "int",   [TY_FLOAT] = "float",       [TY_BOOL] = "bool",
      [TY_STRING] = "string", [TY_TIME] = "time", [TY_DURATION] = "duration",
  };
  t = type_repr(t);
  switch (t->kind) {
  case TY_TUPLE:
  case TY_FUNC:
    puts_(a, buf, len, cap, "(");
    for (int i = 0; i < t->nelems; i++) {
      if (i)
        puts_(a, buf, len, cap, ", ");
      type_fmt(a, t->elems[i], buf, len, cap);
    }
    puts_(a, buf, len, cap, ")");
    if (t->kind == TY_FUNC) {
      puts_(a, buf, len, cap, " -> ");
      type_fmt(a, t->ret, buf, len, cap);
    }
    break;
  case TY_RECORD:
    put(a, buf, len, cap, t->rec->name.ptr, t->rec->name.len);
    break;
  case TY_LIST:
    puts_(a, buf, len, cap, "[");
    type_fmt(a, t->elem, buf, len, cap);
    puts_(a, buf, len, cap, "]");
    break;
  case TY_OPTION: {
    Type *e = type_repr(t->elem);
    bool paren = e->kind == TY_FUNC;
    if (paren)
      puts_(a, buf, len, cap, "(");
    type_fmt(a, e, buf, len, cap);
    puts_(a, buf, len, cap, paren ? ")?" : "?");
    break;
  }
  case TY_STREAM:
    puts_(a, buf, len, cap, "stream<");
    type_fmt(a, t->elem, buf, len, cap);
    puts_(a, buf, len, cap, ">");
    break;
  case TY_VAR:
    puts_(a, buf, len, cap, "_");
    break;
  case TY_ERROR:
    puts_(a, buf, len, cap, "<error>");
    break;
  default:
    puts_(a, buf, len, cap, names[t->kind]);
  }
}

char *type_str(Arena *a, Type *t) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  type_fmt(a, t, &buf, &len, &cap);
  return buf ? buf : arena_strndup(a, "", 0);
}
