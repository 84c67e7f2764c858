/*
 * ast_dump.c — the AST as S-expressions, one statement per line.
 *
 * The parser's unit tests compare these strings, so the form is terse and
 * stable: names and numbers print bare, strings quoted with C escapes,
 * durations as "<ms>ms", and every compound node as (head children...):
 *
 *   (let x (+ 1 (* 2 3)))          (fn f ((a int)) int (block (let b a) b))
 *   (call (field xs map) (lambda (x) x) (named n 1))
 *
 * It also owns binop_spelling, the one table of operator spellings.
 */
#include "dsc.h"

#include <stdlib.h>
#include <string.h>

const char *binop_spelling(BinOp op) {
  static const char *const spelling[] = {
      [OP_ADD] = "+",  [OP_SUB] = "-",  [OP_MUL] = "*", [OP_DIV] = "/", [OP_MOD] = "%",
      [OP_EQ] = "==",  [OP_NE] = "!=",  [OP_LT] = "<",  [OP_LE] = "<=", [OP_GT] = ">",
      [OP_GE] = ">=",  [OP_AND] = "and", [OP_OR] = "or", [OP_COALESCE] = "??",
  };
  return (unsigned)op < sizeof spelling / sizeof spelling[0] ? spelling[op] : "?";
}

static void put_str(FILE *out, Str s) {
  if (s.len)
    fwrite(s.ptr, 1, s.len, out);
}

static void put_quoted(FILE *out, Str s) {
  fputc('"', out);
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.ptr[i];
    switch (c) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default:
      if (c < 0x20 || c == 0x7F)
        fprintf(out, "\\x%02x", c);
      else
        fputc(c, out);
    }
  }
  fputc('"', out);
}

/* The shortest %g form that reads back as the same double, always with a
 * '.' or an exponent so it cannot be mistaken for an int. */
static void put_float(FILE *out, double v) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, out);
  if (!strpbrk(buf, ".eEn"))
    fputs(".0", out);
}

static void dump_type(FILE *out, const TypeExpr *t) {
  if (!t) {
    fputs("_", out);
    return;
  }
  switch (t->kind) {
  case TE_NAME:
    /* An empty name stands in for a type too deeply nested. */
    if (t->name.len)
      put_str(out, t->name);
    else
      fputs("<error>", out);
    return;
  case TE_TUPLE:
    fputs("(tuple", out);
    for (int i = 0; i < t->elems.len; i++) {
      fputc(' ', out);
      dump_type(out, t->elems.items[i]);
    }
    fputc(')', out);
    return;
  case TE_LIST:
    fputs("(list ", out);
    break;
  case TE_OPTION:
    fputs("(option ", out);
    break;
  case TE_STREAM:
    fputs("(stream ", out);
    break;
  }
  dump_type(out, t->elem);
  fputc(')', out);
}

static void dump_expr(FILE *out, const Expr *e);
static void dump_stmt(FILE *out, const Stmt *s);

static void dump_params(FILE *out, const PtrVec *params) {
  fputc('(', out);
  for (int i = 0; i < params->len; i++) {
    const Param *p = params->items[i];
    if (i)
      fputc(' ', out);
    if (p->type) {
      fputc('(', out);
      put_str(out, p->name);
      fputc(' ', out);
      dump_type(out, p->type);
      fputc(')', out);
    } else {
      put_str(out, p->name);
    }
  }
  fputc(')', out);
}

static void dump_items(FILE *out, const PtrVec *items) {
  for (int i = 0; i < items->len; i++) {
    fputc(' ', out);
    dump_expr(out, items->items[i]);
  }
}

static void dump_expr(FILE *out, const Expr *e) {
  if (!e) {
    fputs("<null>", out);
    return;
  }
  switch (e->kind) {
  case EX_INT:
    fprintf(out, "%lld", (long long)e->ival);
    return;
  case EX_FLOAT:
    put_float(out, e->fval);
    return;
  case EX_STRING:
    put_quoted(out, e->sval);
    return;
  case EX_DURATION:
    fprintf(out, "%lldms", (long long)e->ival);
    return;
  case EX_BOOL:
    fputs(e->bval ? "true" : "false", out);
    return;
  case EX_NONE:
    fputs("none", out);
    return;
  case EX_NAME:
    put_str(out, e->name);
    return;
  case EX_ERROR:
    fputs("<error>", out);
    return;
  case EX_SOME:
    fputs("(some ", out);
    dump_expr(out, e->lhs);
    break;
  case EX_TUPLE:
    fputs("(tuple", out);
    dump_items(out, &e->items);
    break;
  case EX_LIST:
    fputs("(list", out);
    dump_items(out, &e->items);
    break;
  case EX_RECORD:
    fputs("(record ", out);
    put_str(out, e->name);
    for (int i = 0; i < e->fields.len; i++) {
      const FieldInit *f = e->fields.items[i];
      fputs(" (", out);
      put_str(out, f->name);
      fputc(' ', out);
      dump_expr(out, f->value);
      fputc(')', out);
    }
    break;
  case EX_FIELD:
    fputs("(field ", out);
    dump_expr(out, e->lhs);
    fputc(' ', out);
    put_str(out, e->name);
    break;
  case EX_INDEX:
    fputs("(index ", out);
    dump_expr(out, e->lhs);
    fprintf(out, " %lld", (long long)e->ival);
    break;
  case EX_SUBSCRIPT:
    fputs("(subscript ", out);
    dump_expr(out, e->lhs);
    fputc(' ', out);
    dump_expr(out, e->rhs);
    break;
  case EX_UNWRAP:
    fputs("(! ", out);
    dump_expr(out, e->lhs);
    break;
  case EX_CALL:
    fputs("(call ", out);
    dump_expr(out, e->lhs);
    for (int i = 0; i < e->args.len; i++) {
      const Arg *a = e->args.items[i];
      fputc(' ', out);
      if (a->name.len) {
        fputs("(named ", out);
        put_str(out, a->name);
        fputc(' ', out);
        dump_expr(out, a->value);
        fputc(')', out);
      } else {
        dump_expr(out, a->value);
      }
    }
    break;
  case EX_UNARY_NEG:
    fputs("(neg ", out);
    dump_expr(out, e->lhs);
    break;
  case EX_NOT:
    fputs("(not ", out);
    dump_expr(out, e->lhs);
    break;
  case EX_BINARY:
    fprintf(out, "(%s ", binop_spelling(e->op));
    dump_expr(out, e->lhs);
    fputc(' ', out);
    dump_expr(out, e->rhs);
    break;
  case EX_IF:
    fputs("(if ", out);
    dump_expr(out, e->cond);
    fputc(' ', out);
    dump_expr(out, e->lhs);
    fputc(' ', out);
    dump_expr(out, e->rhs);
    break;
  case EX_BLOCK:
    fputs("(block", out);
    for (int i = 0; i < e->items.len; i++) {
      fputc(' ', out);
      dump_stmt(out, e->items.items[i]);
    }
    break;
  case EX_LAMBDA:
    fputs("(lambda ", out);
    dump_params(out, &e->params);
    fputc(' ', out);
    dump_expr(out, e->body);
    break;
  case EX_ASCRIBE:
    fputs("(as ", out);
    dump_expr(out, e->lhs);
    fputc(' ', out);
    dump_type(out, e->texpr);
    break;
  }
  fputc(')', out);
}

static void dump_stmt(FILE *out, const Stmt *s) {
  switch (s->kind) {
  case SK_SET:
  case SK_LET:
    fputs(s->kind == SK_SET ? "(set " : "(let ", out);
    put_str(out, s->name);
    fputc(' ', out);
    dump_expr(out, s->value);
    fputc(')', out);
    return;
  case SK_TYPE:
    fputs("(type ", out);
    put_str(out, s->rec->name);
    for (int i = 0; i < s->rec->fields.len; i++) {
      const FieldDecl *f = s->rec->fields.items[i];
      fputs(" (", out);
      put_str(out, f->name);
      fputc(' ', out);
      dump_type(out, f->type);
      fputc(')', out);
    }
    fputc(')', out);
    return;
  case SK_FN:
    fputs("(fn ", out);
    put_str(out, s->fn->name);
    fputc(' ', out);
    dump_params(out, &s->fn->params);
    fputc(' ', out);
    dump_type(out, s->fn->ret);
    fputc(' ', out);
    dump_expr(out, s->fn->body);
    fputc(')', out);
    return;
  case SK_EXPR:
    dump_expr(out, s->value);
    return;
  }
}

void ast_dump(FILE *out, const Program *p) {
  for (int i = 0; i < p->stmts.len; i++) {
    dump_stmt(out, p->stmts.items[i]);
    fputc('\n', out);
  }
}
