/*
 * parser.y — the grammar of .ds programs (LANGUAGE.md §3, §4, §5).
 *
 * In: the token stream of lexer.re, which has already decided where
 * statements end (NEWLINE tokens), which '{' opens a record and which '('
 * opens a lambda's parameter list. Out: a Program whose statements and
 * expressions are built by the constructor functions at the end of this
 * file, one call per action; the grammar itself carries no semantics.
 *
 * Afterwards: every Expr has a location (see "Where nodes point" below)
 * and a depth of at most AST_MAX_DEPTH (deeper ones are replaced by an
 * EX_ERROR, reported once), so later passes may recurse over the tree
 * freely. Syntax errors are reported through Diags with a message built
 * from Bison's expected-token list, at most one per statement: the `error`
 * rules resynchronise at the next statement end, at top level and inside
 * blocks. Any input parses in linear time and bounded memory: the parse
 * stops early only when Bison's stack (YYMAXDEPTH) overflows, reported as
 * nesting too deep, or past AST_MAX_NODES nodes, "program too large".
 *
 * Where nodes point (Expr.loc): literals and names at their token; EX_FIELD
 * and EX_INDEX at the field name or index after the '.'; EX_CALL at the start
 * of its callee (the callee is lhs; for a method call lhs is an EX_FIELD
 * whose loc is the method name; EX_CALL.name/op_loc hold the called name and
 * where it is, for a name or a method callee); EX_BINARY at the start of its
 * left operand with op_loc at the operator; EX_UNARY_NEG, EX_NOT, EX_SOME at
 * their keyword or '-'; EX_SUBSCRIPT at the '['; EX_UNWRAP at the '!';
 * EX_TUPLE, EX_LIST, EX_BLOCK at their opening bracket; EX_RECORD at the
 * record name; EX_IF at 'if' with op_loc at 'else' (the else branch's value
 * is rhs: a block, whose last item is its value, or a nested if); EX_LAMBDA
 * at its first token with op_loc at '=>'; EX_ASCRIBE at the value's start.
 */

%require "3.8"
%define api.pure full
%define api.token.prefix {TK_}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%parse-param {Parser *P}
%lex-param {Parser *P}
/* Diags counts the errors; clang would warn that Bison's count is unused. */
%initial-action { (void)yynerrs; }

%code requires {
#include "dsc.h"

typedef struct Parser Parser;

/* A token's or rule's span: where it begins and one past where it ends. */
typedef struct YYLTYPE {
  Loc begin, end;
} YYLTYPE;
#define YYLTYPE_IS_DECLARED 1

/* An empty rule sits where the previous symbol ended. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                         \
  do {                                                                                      \
    if (N) {                                                                                \
      (Cur).begin = YYRHSLOC(Rhs, 1).begin;                                                 \
      (Cur).end = YYRHSLOC(Rhs, N).end;                                                     \
    } else {                                                                                \
      (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;                                       \
    }                                                                                       \
  } while (0)
}

%code {
#include <string.h>

/* Bison's parser stack grows up to here; only pathological nesting that
 * has no brackets (a million prefix '-' or right-nested '??') gets close,
 * and yyerror turns the overflow into a normal diagnostic. */
#define YYMAXDEPTH 10000

struct Parser {
  Arena *a;
  Diags *d;
  Lexer *lx;
  Program *prog;
  /* The lookahead token, as the last yylex call returned it. */
  int la_kind;
  TokenValue la_val;
  /* The two tokens before the lookahead, for messages about their context. */
  int prev, prev2;
  TokenValue prev_val;
  bool fn_header; /* between 'fn' and its '->' */
  /* The innermost bracket open before the lookahead was read. */
  bool br_open;
  char br_char;
  Loc br_loc;
  Loc la_loc;
  bool depth_reported; /* "too deeply nested" is said once per parse */
  Expr *deep_expr;     /* the shared node that replaces too deep expressions */
  TypeExpr *deep_type; /* and too deep types */
  int nodes;           /* nodes made so far, against AST_MAX_NODES */
  bool stop;           /* the program was too large: the input ends here */
};

/* Far more than any real program (a few MB of source), few enough that the
 * AST of any input stays well under a gigabyte. */
enum { AST_MAX_NODES = 1 << 20 };

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, Parser *P);
static void yyerror(const YYLTYPE *loc, Parser *P, const char *msg);

/* Node constructors (at the end of this file). */
static void prog_add(Parser *P, Stmt *s);
static Stmt *stmt_set(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, Expr *value);
static Stmt *stmt_let(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, Expr *value,
                      bool top);
static Stmt *stmt_type(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, PtrVec *fields);
static Stmt *stmt_fn(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, PtrVec *params,
                     TypeExpr *ret, Expr *body);
static Stmt *stmt_expr(Parser *P, YYLTYPE at, Expr *e);
static PtrVec *vec_new(Parser *P);
static PtrVec *vec_add(Parser *P, PtrVec *v, void *item);
static PtrVec *args_add(Parser *P, PtrVec *v, Arg *arg);
static Param *param_new(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *type);
static FieldDecl *fdecl_new(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *type);
static FieldInit *finit_new(Parser *P, TokenValue name, YYLTYPE at, Expr *value);
static Arg *arg_new(Parser *P, const TokenValue *name, YYLTYPE at, Expr *value);
static TypeExpr *te_name(Parser *P, TokenValue name, YYLTYPE at);
static TypeExpr *te_generic(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *elem);
static TypeExpr *te_wrap(Parser *P, TypeExprKind k, YYLTYPE at, TypeExpr *elem);
static TypeExpr *te_wrap2(Parser *P, TypeExprKind k, YYLTYPE at, TypeExpr *elem);
static TypeExpr *te_tuple(Parser *P, YYLTYPE at, TypeExpr *first, PtrVec *rest);
static Expr *ex_literal(Parser *P, ExprKind k, YYLTYPE at, TokenValue v);
static Expr *ex_leaf(Parser *P, ExprKind k, YYLTYPE at);
static Expr *ex_bool(Parser *P, YYLTYPE at, bool value);
static Expr *ex_name(Parser *P, YYLTYPE at, TokenValue name);
static Expr *ex_prefix(Parser *P, ExprKind k, YYLTYPE span, YYLTYPE op, Expr *operand);
static Expr *ex_binary(Parser *P, YYLTYPE span, BinOp op, YYLTYPE oploc, Expr *l, Expr *r);
static Expr *ex_field(Parser *P, YYLTYPE span, Expr *lhs, TokenValue name, YYLTYPE nloc);
static Expr *ex_index(Parser *P, YYLTYPE span, Expr *lhs, TokenValue index, YYLTYPE iloc);
static Expr *ex_subscript(Parser *P, YYLTYPE span, Expr *lhs, YYLTYPE bracket, Expr *index);
static Expr *ex_call(Parser *P, YYLTYPE span, Expr *callee, PtrVec *args);
static Expr *ex_unwrap(Parser *P, YYLTYPE span, Expr *lhs, YYLTYPE bang);
static Expr *ex_some(Parser *P, YYLTYPE span, Expr *value);
static Expr *ex_seq(Parser *P, ExprKind k, YYLTYPE span, Expr *first, PtrVec *rest);
static Expr *ex_record(Parser *P, YYLTYPE span, TokenValue name, PtrVec *fields);
static Expr *ex_ascribe(Parser *P, YYLTYPE span, YYLTYPE vloc, Expr *value, TypeExpr *type);
static Expr *ex_block(Parser *P, YYLTYPE span, PtrVec *items, YYLTYPE rbrace);
static Expr *ex_if(Parser *P, YYLTYPE span, Expr *cond, Expr *then, YYLTYPE kw_else,
                   Expr *otherwise);
static Expr *ex_lambda1(Parser *P, YYLTYPE span, TokenValue name, YYLTYPE nloc,
                        YYLTYPE arrow, Expr *body);
static Expr *ex_lambda(Parser *P, YYLTYPE span, PtrVec *params, YYLTYPE arrow, Expr *body);
}

%union {
  TokenValue tok;
  Expr *expr;
  Stmt *stmt;
  TypeExpr *type;
  PtrVec *vec;
  Param *param;
  Arg *arg;
  FieldInit *finit;
  FieldDecl *fdecl;
  BinOp op;
}

/* Every token has a readable alias: the messages quote them. The lambda
 * '(' and the record '{' need aliases of their own (Bison wants them
 * unique); messages show them as '(' and '{' again. */
%token END 0 "end of input"
%token <tok> IDENT "identifier"
%token <tok> INT "integer literal"
%token <tok> FLOAT "float literal"
%token <tok> STRING "string literal"
%token <tok> DURATION "duration literal"
%token BAD "invalid token"
%token NEWLINE "end of line"
%token LET "'let'" FN "'fn'" TYPE "'type'" SET "'set'" IF "'if'" ELSE "'else'"
%token TRUE "'true'" FALSE "'false'" NONE "'none'" SOME "'some'"
%token AND "'and'" OR "'or'" NOT "'not'"
%token LPAREN "'('" LPAREN_LAMBDA "'(' of a lambda" RPAREN "')'"
%token LBRACKET "'['" RBRACKET "']'"
%token LBRACE "'{'" LBRACE_REC "'{' of a record" RBRACE "'}'"
%token COMMA "','" DOT "'.'" COLON "':'" SEMI "';'"
%token ASSIGN "'='" FATARROW "'=>'" ARROW "'->'"
%token PLUS "'+'" MINUS "'-'" STAR "'*'" SLASH "'/'" PERCENT "'%'"
%token EQ "'=='" NE "'!='" LT "'<'" LE "'<='" GT "'>'" GE "'>='"
%token COALESCE "'??'" QUESTION "'?'" BANG "'!'"

%type <stmt> stmt block_item
%type <expr> expr lambda coalesce or_expr and_expr not_expr cmp_expr add_expr mul_expr
%type <expr> unary postfix primary block if_expr fn_body
%type <vec> block_items block_body params param_list fn_params fn_param_list
%type <vec> field_decls fdecl_list
%type <vec> field_inits finit_list args arg_list expr_list type_list
%type <param> param fn_param
%type <fdecl> fdecl
%type <finit> finit
%type <arg> arg
%type <type> type
%type <op> cmp_op add_op mul_op

%%

/* Statements end at a NEWLINE or ';' (the last one may end at the end of
 * input); empty statements are allowed. After a syntax error, everything
 * up to the next statement end is skipped. */
program:
    stmts
  | stmts stmt                   { prog_add(P, $2); }
  | stmts error
  ;

stmts:
    %empty
  | stmts sep
  | stmts stmt sep               { prog_add(P, $2); }
  | stmts error sep              { yyerrok; }
  ;

sep: NEWLINE | SEMI ;

stmt:
    SET IDENT ASSIGN expr        { $$ = stmt_set(P, @1, $2, @2, $4); }
  | TYPE IDENT ASSIGN LBRACE_REC field_decls RBRACE
                                 { $$ = stmt_type(P, @1, $2, @2, $5); }
  | FN IDENT fn_lparen fn_params RPAREN ARROW type fn_body
                                 { $$ = stmt_fn(P, @1, $2, @2, $4, $7, $8); }
  | LET IDENT ASSIGN expr        { $$ = stmt_let(P, @1, $2, @2, $4, true); }
  | expr                         { $$ = stmt_expr(P, @1, $1); }
  ;

/* A fn's parameter list followed by '=>' by mistake lexes as a lambda's. */
fn_lparen: LPAREN | LPAREN_LAMBDA ;

fn_body:
    ASSIGN expr                  { $$ = $2; }
  | block
  ;

/* A fn's parameters have types (§4: inference is local). */
fn_params:
    %empty                       { $$ = vec_new(P); }
  | fn_param_list
  | fn_param_list COMMA
  ;

fn_param_list:
    fn_param                     { $$ = vec_add(P, vec_new(P), $1); }
  | fn_param_list COMMA fn_param { $$ = vec_add(P, $1, $3); }
  ;

fn_param: IDENT COLON type       { $$ = param_new(P, $1, @1, $3); } ;

/* A lambda's may leave them to inference. */
params:
    %empty                       { $$ = vec_new(P); }
  | param_list
  | param_list COMMA
  ;

param_list:
    param                        { $$ = vec_add(P, vec_new(P), $1); }
  | param_list COMMA param       { $$ = vec_add(P, $1, $3); }
  ;

param:
    IDENT                        { $$ = param_new(P, $1, @1, NULL); }
  | IDENT COLON type             { $$ = param_new(P, $1, @1, $3); }
  ;

field_decls:
    %empty                       { $$ = vec_new(P); }
  | fdecl_list
  | fdecl_list COMMA
  ;

fdecl_list:
    fdecl                        { $$ = vec_add(P, vec_new(P), $1); }
  | fdecl_list COMMA fdecl       { $$ = vec_add(P, $1, $3); }
  ;

fdecl: IDENT COLON type          { $$ = fdecl_new(P, $1, @1, $3); } ;

/* Types (§4). Any name may take '<T>' here; only stream does, and
 * te_generic says so. */
type:
    IDENT                        { $$ = te_name(P, $1, @1); }
  | IDENT LT type GT             { $$ = te_generic(P, $1, @1, $3); }
  | LPAREN type RPAREN           { $$ = $2; }
  | LPAREN type COMMA type_list opt_comma RPAREN
                                 { $$ = te_tuple(P, @1, $2, $4); }
  | LBRACKET type RBRACKET       { $$ = te_wrap(P, TE_LIST, @1, $2); }
  | type QUESTION                { $$ = te_wrap(P, TE_OPTION, @1, $1); }
  | type COALESCE                { $$ = te_wrap2(P, TE_OPTION, @1, $1); }
  ;

type_list:
    type                         { $$ = vec_add(P, vec_new(P), $1); }
  | type_list COMMA type         { $$ = vec_add(P, $1, $3); }
  ;

opt_comma: %empty | COMMA ;

/* Expressions, lowest precedence first (§5). */
expr: lambda | coalesce ;

lambda:
    IDENT FATARROW expr          { $$ = ex_lambda1(P, @$, $1, @1, @2, $3); }
  | LPAREN_LAMBDA params RPAREN FATARROW expr
                                 { $$ = ex_lambda(P, @$, $2, @4, $5); }
  ;

coalesce:
    or_expr
  | or_expr COALESCE coalesce    { $$ = ex_binary(P, @$, OP_COALESCE, @2, $1, $3); }
  ;

or_expr:
    and_expr
  | or_expr OR and_expr          { $$ = ex_binary(P, @$, OP_OR, @2, $1, $3); }
  ;

and_expr:
    not_expr
  | and_expr AND not_expr        { $$ = ex_binary(P, @$, OP_AND, @2, $1, $3); }
  ;

not_expr:
    cmp_expr
  | NOT not_expr                 { $$ = ex_prefix(P, EX_NOT, @$, @1, $2); }
  ;

/* Non-associative: a second comparison operator is a syntax error. */
cmp_expr:
    add_expr
  | add_expr cmp_op add_expr     { $$ = ex_binary(P, @$, $2, @2, $1, $3); }
  ;

cmp_op:
    EQ { $$ = OP_EQ; } | NE { $$ = OP_NE; } | LT { $$ = OP_LT; }
  | LE { $$ = OP_LE; } | GT { $$ = OP_GT; } | GE { $$ = OP_GE; }
  ;

add_expr:
    mul_expr
  | add_expr add_op mul_expr     { $$ = ex_binary(P, @$, $2, @2, $1, $3); }
  ;

add_op: PLUS { $$ = OP_ADD; } | MINUS { $$ = OP_SUB; } ;

mul_expr:
    unary
  | mul_expr mul_op unary        { $$ = ex_binary(P, @$, $2, @2, $1, $3); }
  ;

mul_op: STAR { $$ = OP_MUL; } | SLASH { $$ = OP_DIV; } | PERCENT { $$ = OP_MOD; } ;

unary:
    postfix
  | MINUS unary                  { $$ = ex_prefix(P, EX_UNARY_NEG, @$, @1, $2); }
  ;

postfix:
    primary
  | postfix DOT IDENT            { $$ = ex_field(P, @$, $1, $3, @3); }
  | postfix DOT INT              { $$ = ex_index(P, @$, $1, $3, @3); }
  | postfix LBRACKET expr RBRACKET
                                 { $$ = ex_subscript(P, @$, $1, @2, $3); }
  | postfix LPAREN args RPAREN   { $$ = ex_call(P, @$, $1, $3); }
  | postfix BANG                 { $$ = ex_unwrap(P, @$, $1, @2); }
  ;

primary:
    INT                          { $$ = ex_literal(P, EX_INT, @1, $1); }
  | FLOAT                        { $$ = ex_literal(P, EX_FLOAT, @1, $1); }
  | STRING                       { $$ = ex_literal(P, EX_STRING, @1, $1); }
  | DURATION                     { $$ = ex_literal(P, EX_DURATION, @1, $1); }
  | TRUE                         { $$ = ex_bool(P, @1, true); }
  | FALSE                        { $$ = ex_bool(P, @1, false); }
  | NONE                         { $$ = ex_leaf(P, EX_NONE, @1); }
  | BAD                          { $$ = ex_leaf(P, EX_ERROR, @1); }
  | SOME LPAREN expr RPAREN      { $$ = ex_some(P, @$, $3); }
  | IDENT                        { $$ = ex_name(P, @1, $1); }
  | LPAREN expr RPAREN           { $$ = $2; }
  | LPAREN expr COLON type RPAREN
                                 { $$ = ex_ascribe(P, @$, @2, $2, $4); }
  | LPAREN expr COMMA expr_list opt_comma RPAREN
                                 { $$ = ex_seq(P, EX_TUPLE, @$, $2, $4); }
  | LBRACKET RBRACKET            { $$ = ex_seq(P, EX_LIST, @$, NULL, NULL); }
  | LBRACKET expr_list opt_comma RBRACKET
                                 { $$ = ex_seq(P, EX_LIST, @$, NULL, $2); }
  | IDENT LBRACE_REC field_inits RBRACE
                                 { $$ = ex_record(P, @$, $1, $3); }
  | block
  | if_expr
  ;

expr_list:
    expr                         { $$ = vec_add(P, vec_new(P), $1); }
  | expr_list COMMA expr         { $$ = vec_add(P, $1, $3); }
  ;

field_inits:
    %empty                       { $$ = vec_new(P); }
  | finit_list
  | finit_list COMMA
  ;

finit_list:
    finit                        { $$ = vec_add(P, vec_new(P), $1); }
  | finit_list COMMA finit       { $$ = vec_add(P, $1, $3); }
  ;

finit: IDENT COLON expr          { $$ = finit_new(P, $1, @1, $3); } ;

/* Positional and named arguments may come in any order here; args_add
 * reports a positional one after a named one. */
args:
    %empty                       { $$ = vec_new(P); }
  | arg_list
  | arg_list COMMA
  ;

arg_list:
    arg                          { $$ = args_add(P, vec_new(P), $1); }
  | arg_list COMMA arg           { $$ = args_add(P, $1, $3); }
  ;

arg:
    expr                         { $$ = arg_new(P, NULL, @1, $1); }
  | IDENT COLON expr             { $$ = arg_new(P, &$1, @1, $3); }
  ;

/* The else branch is required; an 'else if' nests another if. */
if_expr:
    IF expr block ELSE block     { $$ = ex_if(P, @$, $2, $3, @4, $5); }
  | IF expr block ELSE if_expr   { $$ = ex_if(P, @$, $2, $3, @4, $5); }
  ;

/* A block's items are lets and expressions, separated like statements; a
 * NULL item stands for one skipped after a syntax error. ex_block checks
 * that the last item is an expression. */
block: LBRACE block_body RBRACE  { $$ = ex_block(P, @$, $2, @3); } ;

block_body:
    block_items
  | block_items block_item       { $$ = vec_add(P, $1, $2); }
  | block_items error            { $$ = vec_add(P, $1, NULL); }
  ;

block_items:
    %empty                       { $$ = vec_new(P); }
  | block_items sep
  | block_items block_item sep   { $$ = vec_add(P, $1, $2); }
  | block_items error sep        { yyerrok; $$ = vec_add(P, $1, NULL); }
  ;

block_item:
    LET IDENT ASSIGN expr        { $$ = stmt_let(P, @1, $2, @2, $4, false); }
  | expr                         { $$ = stmt_expr(P, @1, $1); }
  ;

%%

/* ------------------------------------------------------------------ */
/* The lexer, seen from the parser                                     */
/* ------------------------------------------------------------------ */

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, Parser *P) {
  P->prev2 = P->prev;
  P->prev = P->la_kind;
  P->prev_val = P->la_val;
  /* Before reading: a closer that turns out wrong has already popped. */
  P->br_open = lexer_open_bracket(P->lx, &P->br_char, &P->br_loc);
  Loc at;
  int kind;
  if (P->stop) {
    memset(&lval->tok, 0, sizeof lval->tok);
    at = P->la_loc;
    kind = TK_END;
  } else {
    kind = lexer_next(P->lx, &lval->tok, &at);
  }
  P->la_loc = at;
  P->la_kind = kind;
  P->la_val = lval->tok;
  if (kind == TK_FN || kind == TK_ARROW || kind == TK_NEWLINE || kind == TK_SEMI)
    P->fn_header = kind == TK_FN;
  lloc->begin = lloc->end = at;
  /* Tokens never span lines, so the end is a column count away. */
  size_t n = lval->tok.text.len;
  lloc->end.col += n < (size_t)1 << 30 ? (int)n : 1 << 30;
  return kind;
}

/* ------------------------------------------------------------------ */
/* Syntax error messages                                               */
/* ------------------------------------------------------------------ */

/* How an expected token is named in a message. */
static const char *sym_desc(yysymbol_kind_t s) {
  switch (s) {
  case YYSYMBOL_LPAREN_LAMBDA:
    return "'('";
  case YYSYMBOL_LBRACE_REC:
    return "'{'";
  case YYSYMBOL_IDENT:
    return "a name";
  case YYSYMBOL_STRING:
    return "a string";
  default:
    return yysymbol_name(s);
  }
}

/* How the unexpected token is named: with its spelling when it has one. */
static const char *found_desc(Parser *P, yysymbol_kind_t s, char *buf, size_t size) {
  switch (s) {
  case YYSYMBOL_IDENT:
  case YYSYMBOL_INT:
  case YYSYMBOL_FLOAT:
  case YYSYMBOL_DURATION: {
    Str t = P->la_val.text;
    if (t.len > 40)
      snprintf(buf, size, "'%.40s...'", t.ptr);
    else
      snprintf(buf, size, "'%.*s'", (int)t.len, t.ptr);
    return buf;
  }
  case YYSYMBOL_STRING:
    return "a string";
  case YYSYMBOL_YYEMPTY:
  case YYSYMBOL_YYEOF:
    return "end of input";
  default:
    return sym_desc(s);
  }
}

/* Tokens that can start an expression: listed together as "expression". */
static bool starts_expr(yysymbol_kind_t s) {
  switch (s) {
  case YYSYMBOL_IDENT: case YYSYMBOL_INT: case YYSYMBOL_FLOAT: case YYSYMBOL_STRING:
  case YYSYMBOL_DURATION: case YYSYMBOL_BAD: case YYSYMBOL_TRUE: case YYSYMBOL_FALSE:
  case YYSYMBOL_NONE: case YYSYMBOL_SOME: case YYSYMBOL_NOT: case YYSYMBOL_IF:
  case YYSYMBOL_LPAREN: case YYSYMBOL_LPAREN_LAMBDA: case YYSYMBOL_LBRACKET:
  case YYSYMBOL_LBRACE: case YYSYMBOL_MINUS:
    return true;
  default:
    return false;
  }
}

/* Tokens that may continue any complete expression (operators, postfix
 * forms): listing them after every expression would bury the one that
 * matters, so they are left out of "expected ..." lists. */
static bool continues_expr(yysymbol_kind_t s) {
  switch (s) {
  case YYSYMBOL_PLUS: case YYSYMBOL_MINUS: case YYSYMBOL_STAR: case YYSYMBOL_SLASH:
  case YYSYMBOL_PERCENT: case YYSYMBOL_EQ: case YYSYMBOL_NE: case YYSYMBOL_LT:
  case YYSYMBOL_LE: case YYSYMBOL_GT: case YYSYMBOL_GE: case YYSYMBOL_AND: case YYSYMBOL_OR:
  case YYSYMBOL_COALESCE: case YYSYMBOL_DOT: case YYSYMBOL_LBRACKET: case YYSYMBOL_LPAREN:
  case YYSYMBOL_LPAREN_LAMBDA: case YYSYMBOL_BANG: case YYSYMBOL_FATARROW:
  case YYSYMBOL_LBRACE_REC:
    return true;
  default:
    return false;
  }
}

static bool is_comparison(yysymbol_kind_t s) {
  return s == YYSYMBOL_EQ || s == YYSYMBOL_NE || s == YYSYMBOL_LT || s == YYSYMBOL_LE ||
         s == YYSYMBOL_GT || s == YYSYMBOL_GE;
}

static bool is_closer(yysymbol_kind_t s) {
  return s == YYSYMBOL_RPAREN || s == YYSYMBOL_RBRACKET || s == YYSYMBOL_RBRACE;
}

static const char *keyword_of(int kind) {
  switch (kind) {
  case TK_LET: return "let";
  case TK_SET: return "set";
  case TK_TYPE: return "type";
  case TK_FN: return "fn";
  default: return NULL;
  }
}

enum { MAX_ITEMS = 8 };

typedef struct Items {
  const char *v[MAX_ITEMS];
  int n;
  bool overflow;
} Items;

static void items_add(Items *it, const char *s) {
  for (int i = 0; i < it->n; i++)
    if (strcmp(it->v[i], s) == 0)
      return;
  if (it->n == MAX_ITEMS)
    it->overflow = true;
  else
    it->v[it->n++] = s;
}

/* "A", "A or B", "A, B or C" into buf. */
static void items_join(const Items *it, char *buf, size_t size) {
  buf[0] = '\0';
  size_t used = 0;
  for (int i = 0; i < it->n && used < size; i++) {
    const char *sep = i == 0 ? "" : i == it->n - 1 ? " or " : ", ";
    int w = snprintf(buf + used, size - used, "%s%s", sep, it->v[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

static int yyreport_syntax_error(const yypcontext_t *ctx, Parser *P) {
  yysymbol_kind_t la = yypcontext_token(ctx);
  Loc at = yypcontext_location(ctx)->begin;
  /* The lexer has reported the bad token already; one message is enough.
   * And when the input was cut short, what is missing is no news. */
  if (la == YYSYMBOL_BAD || P->stop || lexer_gave_up(P->lx))
    return 0;

  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  if (n < 0)
    n = 0;
  bool want[YYNTOKENS] = {false};
  for (int i = 0; i < n; i++)
    want[exp[i]] = true;

  char fbuf[64];
  const char *found = found_desc(P, la, fbuf, sizeof fbuf);
  const char *kw = keyword_of(P->prev);
  const char *kw2 = keyword_of(P->prev2);
  bool after_expr = want[YYSYMBOL_BANG];    /* a complete expression precedes */
  bool after_type = want[YYSYMBOL_QUESTION]; /* a complete type precedes */
  bool has_expr = want[YYSYMBOL_INT];

  /* Messages for particular places first. */
  if (is_comparison(la) && after_expr && !want[la]) {
    diag_error(P->d, at, "unexpected %s: comparisons do not chain; write 'a < b and b < c'",
               found);
    return 0;
  }
  if (P->prev == TK_DOT && want[YYSYMBOL_IDENT]) {
    diag_error(P->d, at, "expected a field name or a tuple index after '.', found %s", found);
    return 0;
  }
  if (kw && want[YYSYMBOL_IDENT]) {
    diag_error(P->d, at, "expected a name after '%s', found %s", kw, found);
    return 0;
  }
  if (kw2 && P->prev == TK_IDENT && want[YYSYMBOL_ASSIGN]) {
    diag_error(P->d, at, "expected '=' after the name in '%s', found %s", kw2, found);
    return 0;
  }
  if (P->fn_header && P->prev == TK_IDENT && want[YYSYMBOL_COLON] && !want[YYSYMBOL_COMMA]) {
    Str name = P->prev_val.text;
    diag_error(P->d, at, "expected ':' and a type after parameter '%.*s' (fn parameters need "
                         "types), found %s", name.len > 40 ? 40 : (int)name.len, name.ptr, found);
    return 0;
  }
  if (want[YYSYMBOL_ARROW]) {
    diag_error(P->d, at, "expected '->' and the return type after the parameters of 'fn', "
                         "found %s", found);
    return 0;
  }
  if (want[YYSYMBOL_LBRACE_REC] && P->prev == TK_ASSIGN) {
    diag_error(P->d, at, "expected a record type '{ name: Type, ... }' after '=' in 'type', "
                         "found %s", found);
    return 0;
  }
  if (want[YYSYMBOL_ASSIGN] && want[YYSYMBOL_LBRACE]) {
    diag_error(P->d, at, "expected '=' or '{' before the body of 'fn', found %s", found);
    return 0;
  }
  if (want[YYSYMBOL_ELSE]) {
    diag_error(P->d, at, "expected 'else': an 'if' expression needs an else branch, found %s",
               found);
    return 0;
  }

  /* The expected tokens, summarised. */
  yysymbol_kind_t closer = YYSYMBOL_YYEMPTY;
  char open = 0;
  if (P->br_open) {
    open = P->br_char;
    closer = open == '(' ? YYSYMBOL_RPAREN : open == '[' ? YYSYMBOL_RBRACKET : YYSYMBOL_RBRACE;
    if (!want[closer])
      closer = YYSYMBOL_YYEMPTY;
  }
  Items it = {.n = 0};
  if (has_expr)
    items_add(&it, "expression");
  for (int i = 0; i < n; i++) {
    yysymbol_kind_t s = exp[i];
    if (s == closer || s == YYSYMBOL_YYerror)
      continue;
    if (has_expr && starts_expr(s))
      continue;
    if (after_expr && (continues_expr(s) || (s == YYSYMBOL_COLON && want[YYSYMBOL_COMMA])))
      continue;
    if (after_type && (s == YYSYMBOL_QUESTION || s == YYSYMBOL_COALESCE || s == YYSYMBOL_LT))
      continue;
    /* At a statement start, an empty statement is always possible. */
    if (has_expr && (s == YYSYMBOL_NEWLINE || s == YYSYMBOL_SEMI))
      continue;
    if (s == YYSYMBOL_YYEOF && (want[YYSYMBOL_NEWLINE] || has_expr))
      continue;
    items_add(&it, sym_desc(s));
  }

  char list[256];
  /* Where the bracket could close, that is the news (even if a ',' or an
   * operator would fit too), unless an expression is missing first. */
  if (closer != YYSYMBOL_YYEMPTY) {
    diag_error(P->d, at, "expected %s%s to close '%c' at %d:%d, found %s",
               has_expr ? "expression or " : "", sym_desc(closer), open, P->br_loc.line,
               P->br_loc.col, found);
    return 0;
  }
  bool stmt_start = want[YYSYMBOL_LET] && want[YYSYMBOL_FN];
  /* A closer with nothing open, or where nothing else fits. */
  if (la == YYSYMBOL_ELSE || it.n == 0 ||
      (is_closer(la) && !P->br_open && (!has_expr || stmt_start))) {
    diag_error(P->d, at, "unexpected %s", found);
    return 0;
  }
  if (stmt_start) {
    diag_error(P->d, at, "expected a statement, found %s", found);
    return 0;
  }
  if (it.n <= 4 && !it.overflow) {
    items_join(&it, list, sizeof list);
    diag_error(P->d, at, "expected %s, found %s", list, found);
    return 0;
  }
  if (has_expr)
    diag_error(P->d, at, "expected expression, found %s", found);
  else
    diag_error(P->d, at, "unexpected %s", found);
  return 0;
}

/* Bison calls this only when its stack is full ("memory exhausted"):
 * nesting beyond YYMAXDEPTH, which brackets cannot reach (the lexer stops
 * at LEX_MAX_DEPTH) but long runs of prefix operators can. */
static void yyerror(const YYLTYPE *loc, Parser *P, const char *msg) {
  if (strstr(msg, "exhausted"))
    diag_error(P->d, loc->begin, "expression too deeply nested");
  else
    diag_error(P->d, loc->begin, "%s", msg);
}

Program *parse_program(Arena *a, const Source *src, Diags *d) {
  Program *prog = arena_alloc(a, sizeof *prog);
  prog->src = src;
  Parser P = {.a = a, .d = d, .prog = prog};
  P.lx = lexer_new(a, src, d);
  yyparse(&P);
  return prog;
}

/* ------------------------------------------------------------------ */
/* Node constructors                                                   */
/* ------------------------------------------------------------------ */

/* Every node comes from here. Past AST_MAX_NODES the program is "too
 * large": the input is cut short (yylex returns end of input) so that no
 * input, however long, makes the parse slow or its memory huge. */
static void *new_node(Parser *P, size_t size) {
  if (++P->nodes == AST_MAX_NODES) {
    diag_error(P->d, P->la_loc, "program too large: more than %d syntax nodes", AST_MAX_NODES);
    P->stop = true;
  }
  return arena_alloc(P->a, size);
}

static void prog_add(Parser *P, Stmt *s) {
  vec_push(P->a, &P->prog->stmts, s);
}

static PtrVec *vec_new(Parser *P) {
  return arena_alloc(P->a, sizeof(PtrVec));
}

static PtrVec *vec_add(Parser *P, PtrVec *v, void *item) {
  vec_push(P->a, v, item);
  return v;
}

static Stmt *stmt_new(Parser *P, StmtKind k, YYLTYPE at) {
  Stmt *s = new_node(P, sizeof *s);
  s->kind = k;
  s->loc = at.begin;
  return s;
}

static Stmt *stmt_set(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, Expr *value) {
  Stmt *s = stmt_new(P, SK_SET, kw);
  s->name = name.text;
  s->name_loc = nloc.begin;
  s->value = value;
  return s;
}

static Stmt *stmt_let(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, Expr *value,
                      bool top) {
  Stmt *s = stmt_new(P, SK_LET, kw);
  s->name = name.text;
  s->name_loc = nloc.begin;
  s->value = value;
  if (top) {
    LetBinding *b = new_node(P, sizeof *b);
    b->name = s->name;
    b->loc = s->name_loc;
    b->value = value;
    b->stmt = s;
    s->let = b;
  }
  return s;
}

static Stmt *stmt_type(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, PtrVec *fields) {
  Stmt *s = stmt_new(P, SK_TYPE, kw);
  s->name = name.text;
  s->name_loc = nloc.begin;
  RecordDecl *r = new_node(P, sizeof *r);
  r->name = s->name;
  r->loc = s->name_loc;
  r->fields = *fields;
  s->rec = r;
  return s;
}

static Stmt *stmt_fn(Parser *P, YYLTYPE kw, TokenValue name, YYLTYPE nloc, PtrVec *params,
                     TypeExpr *ret, Expr *body) {
  Stmt *s = stmt_new(P, SK_FN, kw);
  s->name = name.text;
  s->name_loc = nloc.begin;
  FnDecl *f = new_node(P, sizeof *f);
  f->name = s->name;
  f->loc = s->name_loc;
  f->params = *params;
  f->ret = ret;
  f->body = body;
  s->fn = f;
  return s;
}

static Stmt *stmt_expr(Parser *P, YYLTYPE at, Expr *e) {
  Stmt *s = stmt_new(P, SK_EXPR, at);
  s->value = e;
  return s;
}

static Param *param_new(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *type) {
  Param *p = new_node(P, sizeof *p);
  p->name = name.text;
  p->loc = at.begin;
  p->type = type;
  return p;
}

static FieldDecl *fdecl_new(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *type) {
  FieldDecl *f = new_node(P, sizeof *f);
  f->name = name.text;
  f->loc = at.begin;
  f->type = type;
  return f;
}

static FieldInit *finit_new(Parser *P, TokenValue name, YYLTYPE at, Expr *value) {
  FieldInit *f = new_node(P, sizeof *f);
  f->name = name.text;
  f->loc = at.begin;
  f->value = value;
  return f;
}

static Arg *arg_new(Parser *P, const TokenValue *name, YYLTYPE at, Expr *value) {
  Arg *g = new_node(P, sizeof *g);
  if (name)
    g->name = name->text;
  g->loc = at.begin;
  g->value = value;
  return g;
}

/* §5: positional arguments come first, then named ones. */
static PtrVec *args_add(Parser *P, PtrVec *v, Arg *arg) {
  if (!arg->name.len && v->len) {
    Arg *last = v->items[v->len - 1];
    if (last->name.len)
      diag_error(P->d, arg->loc,
                 "positional argument after the named argument '%.*s': positional "
                 "arguments come first",
                 (int)last->name.len, last->name.ptr);
  }
  return vec_add(P, v, arg);
}

/* Nesting is bounded so that later passes may recurse over the tree: a
 * node that would be deeper than AST_MAX_DEPTH is replaced by one shared
 * error node, reported once. That node is itself as deep as allowed, so
 * everything built on it collapses into it too, and a million-term
 * "1+1+...+1" costs no memory past its first thousand terms. */
static void too_deep(Parser *P, Loc at, const char *what) {
  if (!P->depth_reported)
    diag_error(P->d, at, "%s too deeply nested", what);
  P->depth_reported = true;
}

static TypeExpr *te_new(Parser *P, TypeExprKind k, YYLTYPE at, int child_depth) {
  if (child_depth >= AST_MAX_DEPTH) {
    too_deep(P, at.begin, "type");
    if (!P->deep_type) {
      P->deep_type = arena_alloc(P->a, sizeof *P->deep_type); /* TE_NAME "" */
      P->deep_type->loc = at.begin;
      P->deep_type->depth = AST_MAX_DEPTH;
    }
    return P->deep_type;
  }
  TypeExpr *t = new_node(P, sizeof *t);
  t->kind = k;
  t->loc = at.begin;
  t->depth = child_depth + 1;
  return t;
}

static TypeExpr *te_name(Parser *P, TokenValue name, YYLTYPE at) {
  TypeExpr *t = te_new(P, TE_NAME, at, 0);
  t->name = name.text;
  return t;
}

static TypeExpr *te_generic(Parser *P, TokenValue name, YYLTYPE at, TypeExpr *elem) {
  if (!str_eq(name.text, "stream"))
    diag_error(P->d, at.begin, "'%.*s' takes no type argument: only stream<T> does",
               (int)name.text.len, name.text.ptr);
  TypeExpr *t = te_new(P, TE_STREAM, at, elem->depth);
  if (t != P->deep_type) {
    t->elem = elem;
    t->name = name.text;
  }
  return t;
}

static TypeExpr *te_wrap(Parser *P, TypeExprKind k, YYLTYPE at, TypeExpr *elem) {
  TypeExpr *t = te_new(P, k, at, elem->depth);
  if (t != P->deep_type)
    t->elem = elem;
  return t;
}

static TypeExpr *te_tuple(Parser *P, YYLTYPE at, TypeExpr *first, PtrVec *rest) {
  int depth = first->depth;
  for (int i = 0; i < rest->len; i++) {
    TypeExpr *e = rest->items[i];
    if (e->depth > depth)
      depth = e->depth;
  }
  TypeExpr *t = te_new(P, TE_TUPLE, at, depth);
  if (t != P->deep_type) {
    vec_push(P->a, &t->elems, first);
    for (int i = 0; i < rest->len; i++)
      vec_push(P->a, &t->elems, rest->items[i]);
  }
  return t;
}

/* A node of kind k whose deepest child has child_depth, or the shared
 * error node (see too_deep), which callers recognise by its kind. */
static Expr *ex_new(Parser *P, ExprKind k, YYLTYPE span, Loc loc, int child_depth) {
  if (child_depth >= AST_MAX_DEPTH) {
    too_deep(P, loc, "expression");
    if (!P->deep_expr) {
      P->deep_expr = arena_alloc(P->a, sizeof *P->deep_expr);
      P->deep_expr->kind = EX_ERROR;
      P->deep_expr->loc = loc;
      P->deep_expr->end = span.end;
      P->deep_expr->depth = AST_MAX_DEPTH;
    }
    return P->deep_expr;
  }
  Expr *e = new_node(P, sizeof *e);
  e->kind = k;
  e->loc = loc;
  e->end = span.end;
  e->depth = child_depth + 1;
  return e;
}

static int max_depth(int a, int b) {
  return a > b ? a : b;
}

static Expr *ex_literal(Parser *P, ExprKind k, YYLTYPE at, TokenValue v) {
  Expr *e = ex_new(P, k, at, at.begin, 0);
  e->ival = v.ival;
  e->fval = v.fval;
  e->sval = v.sval;
  return e;
}

/* none, and the placeholder of a bad token. */
static Expr *ex_leaf(Parser *P, ExprKind k, YYLTYPE at) {
  return ex_new(P, k, at, at.begin, 0);
}

static Expr *ex_bool(Parser *P, YYLTYPE at, bool value) {
  Expr *e = ex_new(P, EX_BOOL, at, at.begin, 0);
  e->bval = value;
  return e;
}

static Expr *ex_name(Parser *P, YYLTYPE at, TokenValue name) {
  Expr *e = ex_new(P, EX_NAME, at, at.begin, 0);
  e->name = name.text;
  return e;
}

static Expr *ex_prefix(Parser *P, ExprKind k, YYLTYPE span, YYLTYPE op, Expr *operand) {
  Expr *e = ex_new(P, k, span, op.begin, operand->depth);
  if (e->kind == k)
    e->lhs = operand;
  return e;
}

static Expr *ex_binary(Parser *P, YYLTYPE span, BinOp op, YYLTYPE oploc, Expr *l, Expr *r) {
  /* Made at the operator, where "too deeply nested" should point. */
  Expr *e = ex_new(P, EX_BINARY, span, oploc.begin, max_depth(l->depth, r->depth));
  if (e->kind == EX_BINARY) {
    e->loc = span.begin;
    e->op = op;
    e->op_loc = oploc.begin;
    e->lhs = l;
    e->rhs = r;
  }
  return e;
}

static Expr *ex_field(Parser *P, YYLTYPE span, Expr *lhs, TokenValue name, YYLTYPE nloc) {
  Expr *e = ex_new(P, EX_FIELD, span, nloc.begin, lhs->depth);
  if (e->kind == EX_FIELD) {
    e->lhs = lhs;
    e->name = name.text;
  }
  return e;
}

static Expr *ex_index(Parser *P, YYLTYPE span, Expr *lhs, TokenValue index, YYLTYPE iloc) {
  Expr *e = ex_new(P, EX_INDEX, span, iloc.begin, lhs->depth);
  if (e->kind == EX_INDEX) {
    e->lhs = lhs;
    e->ival = index.ival;
  }
  return e;
}

static Expr *ex_subscript(Parser *P, YYLTYPE span, Expr *lhs, YYLTYPE bracket, Expr *index) {
  Expr *e = ex_new(P, EX_SUBSCRIPT, span, bracket.begin, max_depth(lhs->depth, index->depth));
  if (e->kind == EX_SUBSCRIPT) {
    e->lhs = lhs;
    e->rhs = index;
  }
  return e;
}

static Expr *ex_call(Parser *P, YYLTYPE span, Expr *callee, PtrVec *args) {
  int depth = callee->depth;
  for (int i = 0; i < args->len; i++) {
    Arg *g = args->items[i];
    depth = max_depth(depth, g->value->depth);
  }
  Expr *e = ex_new(P, EX_CALL, span, span.begin, depth);
  if (e->kind == EX_CALL) {
    e->lhs = callee;
    e->args = *args;
    if (callee->kind == EX_NAME || callee->kind == EX_FIELD) {
      e->name = callee->name;
      e->op_loc = callee->loc;
    }
  }
  return e;
}

static Expr *ex_unwrap(Parser *P, YYLTYPE span, Expr *lhs, YYLTYPE bang) {
  Expr *e = ex_new(P, EX_UNWRAP, span, bang.begin, lhs->depth);
  if (e->kind == EX_UNWRAP)
    e->lhs = lhs;
  return e;
}

static Expr *ex_some(Parser *P, YYLTYPE span, Expr *value) {
  Expr *e = ex_new(P, EX_SOME, span, span.begin, value->depth);
  if (e->kind == EX_SOME)
    e->lhs = value;
  return e;
}

/* A tuple (first, rest...) or a list (rest...). */
static Expr *ex_seq(Parser *P, ExprKind k, YYLTYPE span, Expr *first, PtrVec *rest) {
  int depth = first ? first->depth : 0;
  for (int i = 0; rest && i < rest->len; i++)
    depth = max_depth(depth, ((Expr *)rest->items[i])->depth);
  Expr *e = ex_new(P, k, span, span.begin, depth);
  if (e->kind != k)
    return e;
  if (first)
    vec_push(P->a, &e->items, first);
  for (int i = 0; rest && i < rest->len; i++)
    vec_push(P->a, &e->items, rest->items[i]);
  return e;
}

static Expr *ex_record(Parser *P, YYLTYPE span, TokenValue name, PtrVec *fields) {
  int depth = 0;
  for (int i = 0; i < fields->len; i++)
    depth = max_depth(depth, ((FieldInit *)fields->items[i])->value->depth);
  Expr *e = ex_new(P, EX_RECORD, span, span.begin, depth);
  if (e->kind == EX_RECORD) {
    e->name = name.text;
    e->fields = *fields;
  }
  return e;
}

static Expr *ex_ascribe(Parser *P, YYLTYPE span, YYLTYPE vloc, Expr *value, TypeExpr *type) {
  Expr *e = ex_new(P, EX_ASCRIBE, span, vloc.begin, value->depth);
  if (e->kind == EX_ASCRIBE) {
    e->lhs = value;
    e->texpr = type;
  }
  return e;
}

/* §5: a block ends with an expression, its value. Items skipped after a
 * syntax error (NULL) are dropped; the check is skipped after one, since
 * the error may have eaten the value. */
static Expr *ex_block(Parser *P, YYLTYPE span, PtrVec *items, YYLTYPE rbrace) {
  int depth = 0;
  bool error = false;
  Stmt *last = NULL;
  for (int i = 0; i < items->len; i++) {
    Stmt *s = items->items[i];
    error = s == NULL;
    if (s) {
      last = s;
      if (s->value)
        depth = max_depth(depth, s->value->depth);
    }
  }
  if (!error && (!last || last->kind != SK_EXPR))
    diag_error(P->d, rbrace.begin, "a block must end with an expression, its value");
  Expr *e = ex_new(P, EX_BLOCK, span, span.begin, depth);
  if (e->kind != EX_BLOCK)
    return e;
  for (int i = 0; i < items->len; i++)
    if (items->items[i])
      vec_push(P->a, &e->items, items->items[i]);
  return e;
}

static Expr *ex_if(Parser *P, YYLTYPE span, Expr *cond, Expr *then, YYLTYPE kw_else,
                   Expr *otherwise) {
  int depth = max_depth(cond->depth, max_depth(then->depth, otherwise->depth));
  Expr *e = ex_new(P, EX_IF, span, span.begin, depth);
  if (e->kind == EX_IF) {
    e->cond = cond;
    e->lhs = then;
    e->rhs = otherwise;
    e->op_loc = kw_else.begin;
  }
  return e;
}

static Expr *ex_lambda1(Parser *P, YYLTYPE span, TokenValue name, YYLTYPE nloc,
                        YYLTYPE arrow, Expr *body) {
  PtrVec *params = vec_add(P, vec_new(P), param_new(P, name, nloc, NULL));
  return ex_lambda(P, span, params, arrow, body);
}

static Expr *ex_lambda(Parser *P, YYLTYPE span, PtrVec *params, YYLTYPE arrow, Expr *body) {
  Expr *e = ex_new(P, EX_LAMBDA, span, span.begin, body->depth);
  if (e->kind == EX_LAMBDA) {
    e->params = *params;
    e->op_loc = arrow.begin;
    e->body = body;
  }
  return e;
}

/* "T??" lexes as the operator '??': an option of an option. */
static TypeExpr *te_wrap2(Parser *P, TypeExprKind k, YYLTYPE at, TypeExpr *elem) {
  return te_wrap(P, k, at, te_wrap(P, k, at, elem));
}
