/*
 * dsc.h — the one internal header of the dstream compiler.
 *
 * The compiler is a pipeline of passes, one per file, called in order by
 * main.c:  lexer.re -> parser.y -> check.c -> plan.c (-> codegen, later).
 * This header declares what flows between them: the arena every pass
 * allocates from, source locations and diagnostics, tokens, the AST, types
 * and the operator plan. It is sectioned by the file that owns each
 * declaration.
 *
 * Ownership: everything a pass builds lives in the compilation's arena
 * (Compiler.arena) and is freed at once by compiler_free(). Strings inside
 * the AST are slices {ptr, len} into the source text or the arena.
 */
#ifndef DSC_H
#define DSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* arena.c — one bump allocator per compilation                        */
/* ------------------------------------------------------------------ */

typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
  ArenaChunk *head; /* newest chunk; older chunks follow its next links */
} Arena;

void *arena_alloc(Arena *a, size_t size);   /* zeroed, 16-byte aligned; aborts on OOM */
char *arena_strndup(Arena *a, const char *s, size_t len);
char *arena_printf(Arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

/* A growable array of pointers, allocated from the arena. */
typedef struct PtrVec {
  void **items;
  int len, cap;
} PtrVec;
void vec_push(Arena *a, PtrVec *v, void *item);

/* A byte slice: identifiers, string contents. Not NUL-terminated. */
typedef struct Str {
  const char *ptr;
  size_t len;
} Str;
bool str_eq(Str s, const char *cstr);
bool str_eq2(Str a, Str b);

/* A hash map from names to non-NULL pointers (strmap.c). */
typedef struct StrMap {
  Str *keys;
  void **vals;
  size_t cap, len;
} StrMap;
void *strmap_get(const StrMap *m, Str key);
void strmap_put(Arena *a, StrMap *m, Str key, void *val); /* replaces an existing value */

/* ------------------------------------------------------------------ */
/* diag.c — source files, locations and diagnostics                    */
/* ------------------------------------------------------------------ */

typedef struct Source {
  const char *path; /* as given on the command line */
  const char *text; /* whole file; text[len] == '\0' (NULs may occur inside) */
  size_t len;
} Source;

/* 1-based line and byte column. line == 0 means "no location". */
typedef struct Loc {
  int line, col;
} Loc;

typedef struct Diags {
  const Source *src;
  FILE *out;     /* where diagnostics are written (stderr normally) */
  int errors;    /* errors reported so far */
  int suppressed; /* errors not printed because of the limit */
  bool last_printed; /* whether the latest error was printed, for its notes */
} Diags;

enum { DIAG_MAX_ERRORS = 50 };

/* Report "file:line:col: error: message", the source line and a caret. */
void diag_error(Diags *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A "note:" that belongs to the previous error (printed only if that was). */
void diag_note(Diags *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_warning(Diags *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* lexer.re — tokens                                                   */
/* ------------------------------------------------------------------ */

/* Token kinds live in the Bison-generated parser.h (enum yytokentype);
 * the lexer returns them. Token values: */
typedef struct TokenValue {
  Str text;       /* the token's bytes in the source */
  int64_t ival;   /* INT and DURATION (in milliseconds) literals */
  double fval;    /* FLOAT literals */
  Str sval;       /* STRING literals, escapes decoded (arena) */
} TokenValue;

/* What an open bracket is, for the newline rules of LANGUAGE.md §2. */
typedef enum BracketKind {
  BR_PAREN,   /* ( : newlines inside are ignored */
  BR_SQUARE,  /* [ : newlines inside are ignored */
  BR_BLOCK,   /* { of a block body: newlines end statements */
  BR_RECORD,  /* { of a record literal or record type: newlines ignored */
} BracketKind;

enum { LEX_MAX_DEPTH = 256 }; /* deepest bracket nesting accepted */

typedef struct Lexer Lexer;
Lexer *lexer_new(Arena *a, const Source *src, Diags *d);
/* Next token kind (a yytokentype); fills *val and *loc. 0 at end of input. */
int lexer_next(Lexer *lx, TokenValue *val, Loc *loc);
/* The innermost open bracket, for "expected ')' to close '(' at L:C". */
bool lexer_open_bracket(const Lexer *lx, char *open, Loc *at);
/* Whether the input was cut short after "too deeply nested" (then the
 * parser does not report what is missing at the end). */
bool lexer_gave_up(const Lexer *lx);

/* ------------------------------------------------------------------ */
/* types.c — the types of §4                                           */
/* ------------------------------------------------------------------ */

typedef enum TypeKind {
  TY_INT,
  TY_FLOAT,
  TY_BOOL,
  TY_STRING,
  TY_TIME,
  TY_DURATION,
  TY_TUPLE,   /* elems (len >= 2) */
  TY_RECORD,  /* rec */
  TY_LIST,    /* elem */
  TY_OPTION,  /* elem */
  TY_STREAM,  /* elem; snap when made by mapWithState: the (K, S) pair type */
  TY_FUNC,    /* elems = parameter types, ret */
  TY_VAR,     /* a unification variable: bound (when non-NULL) */
  TY_ERROR,   /* an earlier error; unifies with everything, never reported */
} TypeKind;

typedef struct RecordDecl RecordDecl;
typedef struct Type Type;
struct Type {
  TypeKind kind;
  Type **elems;      /* TY_TUPLE elements, TY_FUNC parameters */
  int nelems;
  Type *elem;        /* TY_LIST, TY_OPTION, TY_STREAM element */
  Type *ret;         /* TY_FUNC result */
  Type *snap;        /* TY_STREAM from mapWithState: (K, S) */
  RecordDecl *rec;   /* TY_RECORD */
  Type *bound;       /* TY_VAR: what it was unified with, or NULL */
  int64_t period_ms; /* TY_STREAM: how often it has a batch; 0 = every batch */
};

Type *type_prim(TypeKind k); /* shared instances for the primitive kinds and TY_ERROR */
Type *type_tuple(Arena *a, Type **elems, int n);
Type *type_pair(Arena *a, Type *k, Type *v);
Type *type_list(Arena *a, Type *elem);
Type *type_option(Arena *a, Type *elem);
Type *type_stream(Arena *a, Type *elem);
Type *type_func(Arena *a, Type **params, int n, Type *ret);
Type *type_var(Arena *a);
Type *type_record(Arena *a, RecordDecl *rec);
Type *type_repr(Type *t);                 /* follows TY_VAR bindings */
bool type_unify(Arena *a, Type *x, Type *y); /* false on mismatch */
bool type_is_resolved(Type *t);            /* no unbound TY_VAR inside */
bool type_is_error(Type *t);               /* contains TY_ERROR */
/* Why t cannot be a key, or NULL if it is hashable. */
const char *type_unhashable_reason(Type *t);
bool type_is_orderable(Type *t);
bool type_has_stream(Type *t);
char *type_str(Arena *a, Type *t);          /* "stream<(string, int)>" */

/* ------------------------------------------------------------------ */
/* parser.y — the AST                                                  */
/* ------------------------------------------------------------------ */

typedef struct Expr Expr;
typedef struct Stmt Stmt;
typedef struct FnDecl FnDecl;
typedef struct OpInfo OpInfo;
typedef struct BuiltinInfo BuiltinInfo;
typedef struct LetBinding LetBinding;

typedef enum TypeExprKind {
  TE_NAME,   /* name (int, string, a record, ...) */
  TE_TUPLE,  /* elems */
  TE_LIST,   /* elem */
  TE_OPTION, /* elem */
  TE_STREAM, /* elem: stream<T>, only to report "streams are never values" */
} TypeExprKind;

typedef struct TypeExpr TypeExpr;
struct TypeExpr {
  TypeExprKind kind;
  Loc loc;
  Str name;         /* TE_NAME */
  TypeExpr *elem;   /* TE_LIST, TE_OPTION, TE_STREAM */
  PtrVec elems;     /* TE_TUPLE: TypeExpr* */
  int depth;        /* nesting depth, bounded by the parser like Expr.depth */
};

typedef struct Param {
  Str name;
  Loc loc;
  TypeExpr *type; /* NULL when not written (lambdas) */
  Type *ty;       /* set by the checker */
} Param;

typedef struct FieldInit {
  Str name;
  Loc loc;
  Expr *value;
} FieldInit;

typedef struct Arg {
  Str name; /* empty for a positional argument */
  Loc loc;  /* of the name, or of the value when positional */
  Expr *value;
} Arg;

typedef enum BinOp {
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  OP_AND, OP_OR, OP_COALESCE,
} BinOp;
const char *binop_spelling(BinOp op);

typedef enum ExprKind {
  EX_INT,       /* ival */
  EX_FLOAT,     /* fval */
  EX_STRING,    /* sval (escapes decoded) */
  EX_DURATION,  /* ival: milliseconds */
  EX_BOOL,      /* bval */
  EX_NONE,      /* — */
  EX_SOME,      /* lhs: the wrapped value */
  EX_NAME,      /* name; resolved by the checker into ref_* */
  EX_TUPLE,     /* items: Expr* (>= 2) */
  EX_LIST,      /* items: Expr* */
  EX_RECORD,    /* name (the record type), fields: FieldInit* */
  EX_FIELD,     /* lhs.name */
  EX_INDEX,     /* lhs.ival (tuple element) */
  EX_SUBSCRIPT, /* lhs[rhs] */
  EX_UNWRAP,    /* lhs! */
  EX_CALL,      /* callee(args): a builtin, fn or source; a method call when callee is EX_FIELD */
  EX_UNARY_NEG, /* -lhs */
  EX_NOT,       /* not lhs */
  EX_BINARY,    /* lhs op rhs */
  EX_IF,        /* if cond { lhs } else { rhs } — lhs, rhs are blocks or ifs */
  EX_BLOCK,     /* items: Stmt* (SK_LET or SK_EXPR), the last an SK_EXPR */
  EX_LAMBDA,    /* params: Param*, body */
  EX_ASCRIBE,   /* (lhs: type) */
  EX_ERROR,     /* a syntax error was reported here */
} ExprKind;

typedef enum RefKind {
  REF_NONE,    /* not resolved (or not a name) */
  REF_LOCAL,   /* a lambda or fn parameter, or a block let: param or let_stmt */
  REF_GLOBAL,  /* a top-level let: global */
  REF_FN,      /* a user fn: fn */
  REF_BUILTIN, /* a builtin function: builtin */
} RefKind;

/* Where Expr.loc points (parser.y has the full list): EX_BINARY at the start
 * of its left operand, op_loc at the operator; EX_FIELD and EX_INDEX at the
 * name or index after '.'; EX_CALL at the start of its callee (lhs), with
 * name/op_loc the called name and its place when the callee is a name or a
 * method (an EX_FIELD, whose loc is the method name); EX_IF at 'if', op_loc
 * at 'else'; EX_LAMBDA op_loc at '=>'; EX_SUBSCRIPT at '['; EX_UNWRAP at '!'. */
struct Expr {
  ExprKind kind;
  Loc loc;          /* where a diagnostic about this expression points */
  Loc end;          /* one past the last byte, for ranges (best effort) */
  int depth;        /* nesting depth, bounded by the parser */
  int64_t ival;
  double fval;
  bool bval;
  Str sval;
  Str name;
  BinOp op;
  Loc op_loc;       /* EX_BINARY: the operator */
  Expr *lhs, *rhs, *cond, *body;
  PtrVec items;     /* EX_TUPLE, EX_LIST: Expr*; EX_BLOCK: Stmt* */
  PtrVec fields;    /* EX_RECORD: FieldInit* */
  PtrVec args;      /* EX_CALL: Arg* */
  PtrVec params;    /* EX_LAMBDA: Param* */
  TypeExpr *texpr;  /* EX_ASCRIBE */
  /* Filled by the checker. */
  Type *ty;
  RefKind ref;
  Param *param;     /* REF_LOCAL to a parameter */
  Stmt *let_stmt;   /* REF_LOCAL to a block let */
  LetBinding *global; /* REF_GLOBAL */
  FnDecl *fn;       /* REF_FN, or the fn passed where a function is expected */
  const BuiltinInfo *builtin; /* REF_BUILTIN, and EX_CALL of a builtin */
  const OpInfo *op_info;      /* EX_CALL: a stream operator, source or output */
  int field_index;  /* EX_FIELD: the record field; EX_RECORD: unused */
  bool destructure; /* EX_LAMBDA: its N parameters take apart one N-tuple argument */
  int node_id;      /* EX_CALL of a stream operator: its plan node */
  void *gen_fn;     /* EX_LAMBDA: its generated LLVM function (codegen) */
};

typedef enum StmtKind {
  SK_SET,   /* set name = expr */
  SK_TYPE,  /* type name = record */
  SK_FN,    /* fn */
  SK_LET,   /* let name = expr */
  SK_EXPR,  /* expr */
} StmtKind;

typedef struct FieldDecl {
  Str name;
  Loc loc;
  TypeExpr *type;
  Type *ty;
} FieldDecl;

struct RecordDecl {
  Str name;
  Loc loc;
  PtrVec fields; /* FieldDecl* */
  int state;     /* checker: 0 new, 1 resolving, 2 done (recursion check) */
};

struct FnDecl {
  Str name;
  Loc loc;
  PtrVec params;   /* Param* */
  TypeExpr *ret;
  Expr *body;
  Type *ty;        /* TY_FUNC, set by the checker */
  bool checked;
};

struct LetBinding {
  Str name;
  Loc loc;
  Expr *value;
  Stmt *stmt;
};

struct Stmt {
  StmtKind kind;
  Loc loc;          /* first token */
  Str name;         /* SK_SET, SK_TYPE, SK_LET */
  Loc name_loc;
  Expr *value;      /* SK_SET, SK_LET, SK_EXPR */
  RecordDecl *rec;  /* SK_TYPE */
  FnDecl *fn;       /* SK_FN */
  LetBinding *let;  /* SK_LET at top level */
  bool dup;         /* checker: a second definition of a top-level name */
};

typedef struct Program {
  const Source *src;
  PtrVec stmts; /* Stmt* in source order */
} Program;

enum { AST_MAX_DEPTH = 1000 }; /* deepest expression nesting accepted */

/* Parses the whole source; syntax errors go to d. Never NULL. */
Program *parse_program(Arena *a, const Source *src, Diags *d);
/* Prints the AST as an S-expression (tests and debugging). */
void ast_dump(FILE *out, const Program *p);

/* ------------------------------------------------------------------ */
/* builtins.c — builtin functions, stream operators, sources, outputs  */
/* ------------------------------------------------------------------ */

typedef enum OpKind {
#define OP(kind, name, cls) kind,
#include "ops.def"
#undef OP
  OP__COUNT
} OpKind;

typedef enum OpClass {
  OC_SOURCE,       /* a source: a function call that makes a stream */
  OC_ELEMENTWISE,  /* fuses with its neighbours */
  OC_BATCH,        /* a per-batch operator that needs the whole batch (or a shuffle) */
  OC_WINDOW,       /* a window operator */
  OC_STATE,        /* a keyed state operator */
  OC_OUTPUT,       /* an output operation */
} OpClass;

struct OpInfo {
  OpKind kind;
  const char *name;
  OpClass cls;
};
const OpInfo *op_lookup_method(Str name);
const OpInfo *op_lookup_source(Str name);

typedef enum BuiltinKind {
#define BUILTIN(kind, name) kind,
#include "builtins.def"
#undef BUILTIN
  BI__COUNT
} BuiltinKind;

struct BuiltinInfo {
  BuiltinKind kind;
  const char *name;
};
const BuiltinInfo *builtin_lookup(Str name);

/* ------------------------------------------------------------------ */
/* settings.c — job settings of §9                                      */
/* ------------------------------------------------------------------ */

typedef enum SettingKind {
#define SETTING(kind, name, type, deflt) kind,
#include "settings.def"
#undef SETTING
  SET__COUNT
} SettingKind;

typedef enum SettingType { SETTY_INT, SETTY_DURATION, SETTY_BOOL, SETTY_STRING } SettingType;

typedef struct SettingValue {
  bool given;      /* set in the program */
  Loc loc;         /* the setting's name in `set` */
  Loc value_loc;   /* its value */
  int64_t ival;    /* int, duration (ms), bool */
  Str sval;        /* string */
} SettingValue;

typedef struct Settings {
  SettingValue v[SET__COUNT];
} Settings;

const char *setting_name(SettingKind k);
SettingType setting_type(SettingKind k);
int64_t setting_default(SettingKind k); /* 0 where the runtime computes it */
int setting_lookup(Str name); /* SettingKind or -1 */

/* ------------------------------------------------------------------ */
/* prelude.c — dsc's own files and the standard library in .ds           */
/* ------------------------------------------------------------------ */

/* The directory of ds_builtins.bc, libds_rt.a and stdlib/, or NULL. */
const char *lib_dir(Arena *a, const char *argv0);
/* Adds the fns and types of the .ds files in dir/stdlib that the program does not define. */
void add_prelude(Arena *a, Program *prog, const char *dir, Diags *d);

/* ------------------------------------------------------------------ */
/* check.c — name resolution and type checking                         */
/* ------------------------------------------------------------------ */

/* Resolves names, infers and checks types of the whole program, fills
 * Expr.ty/ref fields and the settings. Errors go to d. */
void check_program(Arena *a, Program *p, Settings *settings, Diags *d);

/* ------------------------------------------------------------------ */
/* plan.c — the operator graph                                         */
/* ------------------------------------------------------------------ */

typedef struct PlanNode PlanNode;
struct PlanNode {
  int id;             /* 1-based, in creation order */
  const OpInfo *op;
  Expr *call;         /* the EX_CALL that made it */
  PtrVec inputs;      /* PlanNode* (0 for a source, 2 for union/join/...) */
  Type *ty;           /* the resulting stream's type (NULL for outputs) */
  int stage;          /* fused stage this node belongs to */
  int64_t window_ms, slide_ms; /* window operators; slide 0 = one batch */
  bool inverse;       /* reduceByWindow, reduceByKeyAndWindow: the incremental form */
  Str let_name;       /* the let that names this node, if any */
  const char *ident;  /* identity in checkpoints: let_name, else the path from the sources
                       * ("textFiles#1.flatMap.reduceByKey", "a.join(b)"); never line numbers */
};

typedef struct Plan {
  PtrVec nodes;   /* PlanNode*, topologically ordered */
  PtrVec outputs; /* PlanNode* of class OC_OUTPUT, in declaration order */
  int nstages;
  Settings settings;
} Plan;

Plan *plan_build(Arena *a, Program *p, const Settings *s, Diags *d);
Expr *plan_arg(const PlanNode *n, int i);                 /* i-th positional argument, or NULL */
Expr *plan_named_arg(const PlanNode *n, const char *name); /* a named argument, or NULL */
int plan_consumers(const Plan *plan, const PlanNode *n);  /* how many nodes read n */
void plan_print(FILE *out, const Plan *plan, const Source *src);
void plan_print_dot(FILE *out, const Plan *plan, const Source *src);

#endif
