/*
 * lexer.re — the tokens of .ds programs (LANGUAGE.md §2), for parser.y.
 *
 * In: one source file. Out: the token kinds of parser.h, one per call of
 * lexer_next, with values (decoded literals) and locations.
 *
 * Two layers. scan() is the re2c scanner proper: it cuts bytes into raw
 * tokens, decodes literals, reports lexical errors (returning TK_BAD so the
 * parser does not report the same place again) and notes whether a newline
 * came before the token. lexer_next() then applies what needs context:
 *   - the newline rules of §2: a NEWLINE token only where a newline ends a
 *     statement, using a bracket stack and one token of lookahead (a newline
 *     before '.' or 'else' continues the statement);
 *   - which '{' opens a record (TK_LBRACE_REC) rather than a block: after
 *     'type', a record type; the next '{' after 'if' or 'fn' (at the same
 *     bracket depth) a block; otherwise a '{' right after a name a record
 *     literal, and any other '{' a block;
 * and scan() itself marks a '(' that opens a lambda's parameter list
 * (TK_LPAREN_LAMBDA) by looking ahead for "(a, b: T) =>", so that the
 * grammar need not tell a tuple from parameters.
 *
 * Every path consumes input or ends it, and the lookahead of a '(' stops at
 * the first byte that cannot belong to a parameter list, so lexing is linear
 * and terminates on any input (NUL bytes, invalid UTF-8, endless nesting:
 * more than LEX_MAX_DEPTH open brackets end the input with an error).
 */
#include "dsc.h"
#include "parser.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned char uchar;

/* One open bracket, and what the statement at its depth is waiting for. */
typedef struct Level {
  BracketKind kind;  /* the bracket that opened this level (level 0: none) */
  Loc loc;           /* where it was opened */
  int ifs;           /* 'if's whose block '{' has not come yet */
  bool fn_pending;   /* a 'fn' whose body '{' may come (until its '=') */
  bool type_pending; /* a 'type' whose record '{' has not come yet */
} Level;

/* A token as scan() cut it, before the newline and brace rules. */
typedef struct RawTok {
  int kind;
  TokenValue val;
  Loc loc;
  bool nl_before;   /* a newline (maybe in a comment) came since the last token */
  const uchar *nl;  /* the first such newline */
  Loc nl_loc;
} RawTok;

struct Lexer {
  Arena *arena;
  const Source *src;
  Diags *d;
  const uchar *cur, *lim, *tok, *mrk; /* re2c's cursor, limit, token start, marker */
  const uchar *line_start;
  int line;
  bool after_dot;       /* the last token was '.': digits are a tuple index */
  bool nl_seen;         /* newline since the last token */
  const uchar *nl;
  Loc nl_loc;
  int prev;             /* kind of the last token returned, 0 before the first */
  bool has_pending;     /* a token read ahead after a NEWLINE */
  RawTok pending;
  bool dead;            /* nesting overflowed: only end of input from now on */
  int depth;            /* open brackets; levels[depth] is the innermost */
  Level levels[LEX_MAX_DEPTH + 1];
};

Lexer *lexer_new(Arena *a, const Source *src, Diags *d) {
  Lexer *lx = arena_alloc(a, sizeof *lx);
  lx->arena = a;
  lx->src = src;
  lx->d = d;
  lx->cur = (const uchar *)src->text;
  lx->lim = lx->cur + src->len;
  /* A byte-order mark is no part of the program (§2); columns start after it. */
  if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0)
    lx->cur += 3;
  lx->line_start = lx->cur;
  lx->line = 1;
  return lx;
}

static Loc loc_at(const Lexer *lx, const uchar *p) {
  ptrdiff_t col = p - lx->line_start + 1;
  return (Loc){lx->line, col < 1 << 30 ? (int)col : 1 << 30};
}

static void new_line(Lexer *lx, const uchar *nl) {
  if (!lx->nl_seen) {
    lx->nl_seen = true;
    lx->nl = nl;
    lx->nl_loc = loc_at(lx, nl);
  }
  lx->line++;
  lx->line_start = nl + 1;
}

/* Finishes the raw token [tok, cur) as `kind`. */
static void emit(Lexer *lx, RawTok *t, int kind) {
  t->kind = kind;
  t->loc = loc_at(lx, lx->tok);
  t->val.text = (Str){(const char *)lx->tok, (size_t)(lx->cur - lx->tok)};
  t->nl_before = lx->nl_seen;
  t->nl = lx->nl;
  t->nl_loc = lx->nl_loc;
  lx->nl_seen = false;
  lx->after_dot = kind == TK_DOT;
}

/* Reports a lexical error at `at` and finishes [tok, cur) as a bad token. */
__attribute__((format(printf, 4, 5)))
static void bad(Lexer *lx, RawTok *t, const uchar *at, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(lx->d, loc_at(lx, at), "%s", msg);
  emit(lx, t, TK_BAD);
}

/* The token's text for a message, cut short when long. */
static int shown_len(const Lexer *lx) {
  ptrdiff_t n = lx->cur - lx->tok;
  return n > 40 ? 40 : (int)n;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_ident_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || is_digit(c);
}
static int hex_value(int c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The value of digits in [p, end) (underscores skipped) in base 10 or 16;
 * false when it does not fit in an int64. */
static bool parse_int(const uchar *p, const uchar *end, int base, int64_t *out) {
  uint64_t v = 0;
  for (; p < end; p++) {
    if (*p == '_')
      continue;
    int digit = hex_value(*p);
    if (v > ((uint64_t)INT64_MAX - (uint64_t)digit) / (uint64_t)base)
      return false;
    v = v * (uint64_t)base + (uint64_t)digit;
  }
  *out = (int64_t)v;
  return true;
}

static void lex_int(Lexer *lx, RawTok *t, int base) {
  const uchar *digits = base == 16 ? lx->tok + 2 : lx->tok;
  if (!parse_int(digits, lx->cur, base, &t->val.ival)) {
    bad(lx, t, lx->tok, "integer literal '%.*s' does not fit in 64 bits", shown_len(lx),
        (const char *)lx->tok);
    return;
  }
  emit(lx, t, TK_INT);
}

static void lex_duration(Lexer *lx, RawTok *t) {
  const uchar *end = lx->cur;
  int64_t unit;
  if (end[-1] == 's' && end[-2] == 'm') {
    unit = 1;
    end -= 2;
  } else {
    unit = end[-1] == 's' ? 1000 : end[-1] == 'm' ? 60 * 1000 : 60 * 60 * 1000;
    end -= 1;
  }
  int64_t n;
  if (!parse_int(lx->tok, end, 10, &n) || n > INT64_MAX / unit) {
    bad(lx, t, lx->tok, "duration literal '%.*s' does not fit in 64 bits of milliseconds",
        shown_len(lx), (const char *)lx->tok);
    return;
  }
  t->val.ival = n * unit;
  emit(lx, t, TK_DURATION);
}

static void lex_float(Lexer *lx, RawTok *t) {
  size_t n = (size_t)(lx->cur - lx->tok);
  char small[64];
  char *buf = n < sizeof small ? small : arena_alloc(lx->arena, n + 1);
  size_t len = 0;
  for (const uchar *p = lx->tok; p < lx->cur; p++)
    if (*p != '_')
      buf[len++] = (char)*p;
  buf[len] = '\0';
  double v = strtod(buf, NULL);
  if (isinf(v)) {
    bad(lx, t, lx->tok, "float literal '%.*s' is too large", shown_len(lx),
        (const char *)lx->tok);
    return;
  }
  t->val.fval = v;
  emit(lx, t, TK_FLOAT);
}

/* UTF-8 encoding of scalar value c into out; returns its length. */
static int utf8_encode(uint32_t c, char *out) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* Decodes the escape at q (a backslash, inside the string that ends at
 * `end`) into out. Returns the bytes written and sets *next past the
 * escape, or returns -1 after reporting a bad escape. */
static int decode_escape(Lexer *lx, const uchar *q, const uchar *end, char *out,
                         const uchar **next) {
  uchar c = q[1]; /* there is one: scan_string never ends a string on "\"" */
  *next = q + 2;
  switch (c) {
  case 'n': *out = '\n'; return 1;
  case 't': *out = '\t'; return 1;
  case 'r': *out = '\r'; return 1;
  case '\\': *out = '\\'; return 1;
  case '"': *out = '"'; return 1;
  case '0': *out = '\0'; return 1;
  case 'x': {
    int hi = q + 2 < end ? hex_value(q[2]) : -1;
    int lo = q + 3 < end ? hex_value(q[3]) : -1;
    if (hi < 0 || lo < 0) {
      diag_error(lx->d, loc_at(lx, q), "invalid escape: '\\x' takes two hex digits, as in '\\x41'");
      return -1;
    }
    *out = (char)(hi * 16 + lo);
    *next = q + 4;
    return 1;
  }
  case 'u': {
    const uchar *p = q + 2;
    uint32_t v = 0;
    int digits = 0;
    if (p < end && *p == '{')
      for (p++; p < end && hex_value(*p) >= 0 && digits < 7; p++, digits++)
        v = v * 16 + (uint32_t)hex_value(*p);
    if (digits < 1 || digits > 6 || p >= end || *p != '}') {
      diag_error(lx->d, loc_at(lx, q),
                 "invalid escape: '\\u' takes 1 to 6 hex digits in braces, as in '\\u{e9}'");
      return -1;
    }
    *next = p + 1;
    if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
      diag_error(lx->d, loc_at(lx, q), "invalid escape: U+%04X is not a Unicode scalar value%s",
                 (unsigned)v, v > 0x10FFFF ? " (the largest is U+10FFFF)" : " (a surrogate)");
      return -1;
    }
    return utf8_encode(v, out);
  }
  default:
    if (c >= 0x20 && c < 0x7F)
      diag_error(lx->d, loc_at(lx, q), "invalid escape '\\%c' in a string", c);
    else
      diag_error(lx->d, loc_at(lx, q), "invalid escape in a string: '\\' before byte 0x%02X", c);
    *next = q + 1; /* the byte after the backslash is copied as it is */
    return -1;
  }
}

/* A string literal from the '"' at tok. Strings are byte strings, so any
 * byte may appear except a newline (and NUL, which would be invisible). */
static void scan_string(Lexer *lx, RawTok *t) {
  const uchar *open = lx->tok, *p = open + 1;
  for (;;) {
    if (p >= lx->lim) {
      lx->cur = lx->lim;
      bad(lx, t, open, "unterminated string literal");
      return;
    }
    if (*p == '"')
      break;
    if (*p == '\n') {
      lx->cur = p; /* the newline is lexed as usual */
      bad(lx, t, open, "unterminated string literal: a string ends on the line it starts "
                       "(write \\n for a newline)");
      return;
    }
    p += *p == '\\' && p + 1 < lx->lim && p[1] != '\n' ? 2 : 1;
  }
  const uchar *end = p;
  lx->cur = end + 1;
  /* Decoding never makes a string longer. */
  char *buf = arena_alloc(lx->arena, (size_t)(end - open));
  size_t len = 0;
  bool ok = true;
  for (const uchar *q = open + 1; q < end;) {
    if (*q == '\\') {
      int n = decode_escape(lx, q, end, buf + len, &q);
      if (n < 0)
        ok = false;
      else
        len += (size_t)n;
    } else if (*q == '\0') {
      diag_error(lx->d, loc_at(lx, q), "NUL byte in a string (write \\0)");
      ok = false;
      q++;
    } else {
      buf[len++] = (char)*q++;
    }
  }
  if (!ok) {
    emit(lx, t, TK_BAD);
    return;
  }
  t->val.sval = (Str){buf, len};
  emit(lx, t, TK_STRING);
}

/* Skips a block comment whose "/ *" is at tok; newlines inside count. */
static void skip_block_comment(Lexer *lx) {
  Loc open = loc_at(lx, lx->tok);
  for (const uchar *p = lx->cur; p < lx->lim; p++) {
    if (*p == '*' && p + 1 < lx->lim && p[1] == '/') {
      lx->cur = p + 2;
      return;
    }
    if (*p == '\n')
      new_line(lx, p);
  }
  diag_error(lx->d, open, "unterminated comment: '/*' without '*/'");
  lx->cur = lx->lim;
}

/* Skips blanks, newlines and comments for the lambda lookahead; NULL at an
 * unterminated block comment. */
static const uchar *skip_space(const Lexer *lx, const uchar *p) {
  for (;;) {
    if (p < lx->lim && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
      p++;
    } else if (p + 1 < lx->lim && p[0] == '/' && p[1] == '/') {
      while (p < lx->lim && *p != '\n')
        p++;
    } else if (p + 1 < lx->lim && p[0] == '/' && p[1] == '*') {
      const uchar *q = p + 2;
      while (q + 1 < lx->lim && !(q[0] == '*' && q[1] == '/'))
        q++;
      if (q + 1 >= lx->lim)
        return NULL;
      p = q + 2;
    } else {
      return p;
    }
  }
}

/* Whether the '(' just before p opens a lambda's parameter list:
 * "(" [name [":" type] {"," name [":" type]} [","]] ")" "=>". A type is
 * made of names, brackets, '?', ',', '<' and '>' with brackets balanced.
 * Stops at the first byte that cannot belong, so "((((..." costs O(1). */
static bool lambda_ahead(const Lexer *lx, const uchar *p) {
  /* Reading *lim is safe: the source has a '\0' there, which matches nothing. */
  if (!(p = skip_space(lx, p)))
    return false;
  while (*p != ')') {
    if (!is_ident_char(*p) || is_digit(*p))
      return false;
    while (is_ident_char(*p))
      p++;
    if (!(p = skip_space(lx, p)))
      return false;
    if (*p == ':') {
      /* The type ends at a ',' or ')' outside its own brackets. */
      long open = 0;
      for (p++;; p++) {
        if (!(p = skip_space(lx, p)) || p >= lx->lim)
          return false;
        uchar c = *p;
        if (is_ident_char(c) || c == '?')
          continue;
        if (c == '(' || c == '[' || c == '<') {
          open++;
        } else if ((c == ')' || c == ',') && open == 0) {
          break; /* the end of this parameter */
        } else if (c == ')' || c == ']' || c == '>') {
          if (open-- == 0)
            return false;
        } else if (c != ',') {
          return false;
        }
      }
    }
    if (*p == ',') {
      if (!(p = skip_space(lx, p + 1)))
        return false;
    } else if (*p != ')') {
      return false;
    }
  }
  p = skip_space(lx, p + 1);
  return p && p + 1 < lx->lim && p[0] == '=' && p[1] == '>';
}

/* The character at tok, for a message about it. */
static void unexpected_byte(Lexer *lx, RawTok *t) {
  uchar c = *lx->tok;
  if (c == '\'')
    bad(lx, t, lx->tok, "unexpected character '''; strings use double quotes");
  else if (c >= 0x20 && c < 0x7F)
    bad(lx, t, lx->tok, "unexpected character '%c'", c);
  else
    bad(lx, t, lx->tok, "unexpected control character 0x%02X", c);
}

/* A valid UTF-8 character outside a string or comment, named by its code
 * point too: it may be invisible (a stray byte-order mark, a no-break space). */
static void unexpected_char(Lexer *lx, RawTok *t) {
  const uchar *p = lx->tok;
  int n = (int)(lx->cur - p);
  uint32_t c = n == 2 ? (p[0] & 0x1Fu) : n == 3 ? (p[0] & 0x0Fu) : (p[0] & 0x07u);
  for (int i = 1; i < n; i++)
    c = c << 6 | (p[i] & 0x3Fu);
  bad(lx, t, p, "unexpected character '%.*s' (U+%04X)", n, (const char *)p, (unsigned)c);
}

/* Cuts the next raw token. */
static void scan(Lexer *lx, RawTok *t) {
  memset(t, 0, sizeof *t);
  for (;;) {
    lx->tok = lx->cur;
    /* After '.', digits are one tuple index: x.1.0 is (x.1).0 (§2). */
    if (lx->after_dot && lx->cur < lx->lim && is_digit(*lx->cur)) {
      while (lx->cur < lx->lim && is_digit(*lx->cur))
        lx->cur++;
      if (lx->cur < lx->lim && is_ident_char(*lx->cur)) {
        while (lx->cur < lx->lim && is_ident_char(*lx->cur))
          lx->cur++;
        bad(lx, t, lx->tok, "invalid tuple index '%.*s'", shown_len(lx), (const char *)lx->tok);
        return;
      }
      lex_int(lx, t, 10);
      return;
    }
    /*!re2c
      re2c:define:YYCTYPE = uchar;
      re2c:define:YYCURSOR = "lx->cur";
      re2c:define:YYLIMIT = "lx->lim";
      re2c:define:YYMARKER = "lx->mrk";
      re2c:yyfill:enable = 0;
      re2c:eof = 0;

      ident = [A-Za-z_][A-Za-z0-9_]*;
      dec   = [0-9]+ ("_" [0-9]+)*;
      hex   = "0" [xX] [0-9a-fA-F]+ ("_" [0-9a-fA-F]+)*;
      float = dec "." dec ([eE] [+-]? dec)? | dec [eE] [+-]? dec;
      u2    = [\xC2-\xDF] [\x80-\xBF];
      u3    = "\xE0" [\xA0-\xBF] [\x80-\xBF] | [\xE1-\xEC\xEE\xEF] [\x80-\xBF]{2}
            | "\xED" [\x80-\x9F] [\x80-\xBF];
      u4    = "\xF0" [\x90-\xBF] [\x80-\xBF]{2} | [\xF1-\xF3] [\x80-\xBF]{3}
            | "\xF4" [\x80-\x8F] [\x80-\xBF]{2};

      $                 { emit(lx, t, TK_END); return; }
      [ \t\r]+          { continue; }
      "\n"              { new_line(lx, lx->tok); continue; }
      "//" [^\n]*       { continue; }
      "/*"              { skip_block_comment(lx); continue; }

      "let"             { emit(lx, t, TK_LET); return; }
      "fn"              { emit(lx, t, TK_FN); return; }
      "type"            { emit(lx, t, TK_TYPE); return; }
      "set"             { emit(lx, t, TK_SET); return; }
      "if"              { emit(lx, t, TK_IF); return; }
      "else"            { emit(lx, t, TK_ELSE); return; }
      "true"            { emit(lx, t, TK_TRUE); return; }
      "false"           { emit(lx, t, TK_FALSE); return; }
      "none"            { emit(lx, t, TK_NONE); return; }
      "some"            { emit(lx, t, TK_SOME); return; }
      "and"             { emit(lx, t, TK_AND); return; }
      "or"              { emit(lx, t, TK_OR); return; }
      "not"             { emit(lx, t, TK_NOT); return; }
      ident             { emit(lx, t, TK_IDENT); return; }

      dec ("ms" | [smh]) { lex_duration(lx, t); return; }
      dec               { lex_int(lx, t, 10); return; }
      hex               { lex_int(lx, t, 16); return; }
      float             { lex_float(lx, t); return; }
      // A number run into letters is one bad token: 5d, 5sec, 0xfg, 1.5s.
      (dec | hex | float) [A-Za-z_] [A-Za-z0-9_]* {
        bad(lx, t, lx->tok, "invalid number '%.*s': a number cannot be followed by letters "
            "(duration units are ms, s, m and h)", shown_len(lx), (const char *)lx->tok);
        return;
      }
      "\""              { scan_string(lx, t); return; }

      "("               { emit(lx, t, lambda_ahead(lx, lx->cur) ? TK_LPAREN_LAMBDA : TK_LPAREN); return; }
      ")"               { emit(lx, t, TK_RPAREN); return; }
      "["               { emit(lx, t, TK_LBRACKET); return; }
      "]"               { emit(lx, t, TK_RBRACKET); return; }
      "{"               { emit(lx, t, TK_LBRACE); return; }
      "}"               { emit(lx, t, TK_RBRACE); return; }
      ","               { emit(lx, t, TK_COMMA); return; }
      "."               { emit(lx, t, TK_DOT); return; }
      ":"               { emit(lx, t, TK_COLON); return; }
      ";"               { emit(lx, t, TK_SEMI); return; }
      "="               { emit(lx, t, TK_ASSIGN); return; }
      "=>"              { emit(lx, t, TK_FATARROW); return; }
      "->"              { emit(lx, t, TK_ARROW); return; }
      "+"               { emit(lx, t, TK_PLUS); return; }
      "-"               { emit(lx, t, TK_MINUS); return; }
      "*"               { emit(lx, t, TK_STAR); return; }
      "/"               { emit(lx, t, TK_SLASH); return; }
      "%"               { emit(lx, t, TK_PERCENT); return; }
      "=="              { emit(lx, t, TK_EQ); return; }
      "!="              { emit(lx, t, TK_NE); return; }
      "<"               { emit(lx, t, TK_LT); return; }
      "<="              { emit(lx, t, TK_LE); return; }
      ">"               { emit(lx, t, TK_GT); return; }
      ">="              { emit(lx, t, TK_GE); return; }
      "??"              { emit(lx, t, TK_COALESCE); return; }
      "?"               { emit(lx, t, TK_QUESTION); return; }
      "!"               { emit(lx, t, TK_BANG); return; }

      // Outside strings and comments only ASCII has a meaning. A run of
      // NULs or of bytes that are no UTF-8 is one error, not one per byte.
      u2 | u3 | u4      { unexpected_char(lx, t); return; }
      "\x00"+           { bad(lx, t, lx->tok, "unexpected NUL byte"); return; }
      [\x80-\xFF] [\x80-\xBF]* {
        bad(lx, t, lx->tok, "invalid UTF-8 (byte 0x%02X)", *lx->tok);
        return;
      }
      *                 { unexpected_byte(lx, t); return; }
    */
  }
}

/* ------------------------------------------------------------------ */
/* Newlines and brackets                                               */
/* ------------------------------------------------------------------ */

/* §2 (c): after these a line is not complete. */
static bool continues_line(int kind) {
  switch (kind) {
  case TK_PLUS: case TK_MINUS: case TK_STAR: case TK_SLASH: case TK_PERCENT:
  case TK_EQ: case TK_NE: case TK_LT: case TK_LE: case TK_GT: case TK_GE:
  case TK_AND: case TK_OR: case TK_COALESCE:
  case TK_ASSIGN: case TK_FATARROW: case TK_COMMA:
  case TK_LPAREN: case TK_LPAREN_LAMBDA: case TK_LBRACKET: case TK_LBRACE: case TK_LBRACE_REC:
    return true;
  default:
    return false;
  }
}

/* Whether a newline here ends a statement (§2), the next token aside. */
static bool newline_ends_statement(const Lexer *lx) {
  if (lx->prev == 0 || lx->prev == TK_NEWLINE || lx->prev == TK_SEMI)
    return false;
  if (lx->depth > 0 && lx->levels[lx->depth].kind != BR_BLOCK)
    return false;
  return !continues_line(lx->prev);
}

/* A statement ended: whatever its 'if', 'fn' or 'type' waited for is moot. */
static void end_statement(Lexer *lx) {
  Level *l = &lx->levels[lx->depth];
  l->ifs = 0;
  l->fn_pending = false;
  l->type_pending = false;
}

/* Opens a bracket; false (after reporting) when nesting is too deep. */
static bool push(Lexer *lx, BracketKind kind, Loc at) {
  if (lx->depth == LEX_MAX_DEPTH) {
    diag_error(lx->d, at, "too deeply nested: more than %d open brackets", LEX_MAX_DEPTH);
    lx->dead = true;
    return false;
  }
  Level *l = &lx->levels[++lx->depth];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->loc = at;
  return true;
}

/* Which '{' this is (see the top of the file). */
static BracketKind brace_kind(Lexer *lx) {
  Level *l = &lx->levels[lx->depth];
  if (l->type_pending) {
    l->type_pending = false;
    return BR_RECORD;
  }
  if (l->fn_pending) {
    l->fn_pending = false;
    return BR_BLOCK;
  }
  /* The '{' after 'else' is a block but not the one an 'if' waits for. */
  if (l->ifs > 0 && lx->prev != TK_ELSE) {
    l->ifs--;
    return BR_BLOCK;
  }
  return lx->prev == TK_IDENT ? BR_RECORD : BR_BLOCK;
}

/* Applies the bracket and brace rules to t and returns it. */
static int deliver(Lexer *lx, RawTok *t, TokenValue *val, Loc *loc) {
  int kind = t->kind;
  Level *l = &lx->levels[lx->depth];
  switch (kind) {
  case TK_LPAREN:
  case TK_LPAREN_LAMBDA:
    if (!push(lx, BR_PAREN, t->loc))
      kind = TK_END;
    break;
  case TK_LBRACKET:
    if (!push(lx, BR_SQUARE, t->loc))
      kind = TK_END;
    break;
  case TK_LBRACE: {
    BracketKind bk = brace_kind(lx);
    if (bk == BR_RECORD)
      kind = TK_LBRACE_REC;
    if (!push(lx, bk, t->loc))
      kind = TK_END;
    break;
  }
  case TK_RPAREN:
  case TK_RBRACKET:
  case TK_RBRACE:
    /* Even a mismatched closer pops: the parser reports the mismatch. */
    if (lx->depth > 0)
      lx->depth--;
    break;
  case TK_SEMI:
    end_statement(lx);
    break;
  case TK_IF:
    if (l->ifs < 1 << 30)
      l->ifs++;
    break;
  case TK_FN:
    l->fn_pending = true;
    break;
  case TK_ASSIGN:
    l->fn_pending = false;
    break;
  case TK_TYPE:
    l->type_pending = true;
    break;
  default:
    break;
  }
  lx->prev = kind;
  if (kind == TK_END)
    t->val.text.len = 0;
  *val = t->val;
  *loc = t->loc;
  return kind;
}

int lexer_next(Lexer *lx, TokenValue *val, Loc *loc) {
  RawTok t;
  if (lx->dead) {
    memset(val, 0, sizeof *val);
    *loc = loc_at(lx, lx->cur);
    lx->prev = TK_END;
    return TK_END;
  }
  if (lx->has_pending) {
    t = lx->pending;
    lx->has_pending = false;
    return deliver(lx, &t, val, loc);
  }
  scan(lx, &t);
  /* §2 (b): a newline before '.' or 'else' continues the statement. The
   * token is read ahead, so the NEWLINE comes first and the token next. */
  if (t.nl_before && t.kind != TK_END && t.kind != TK_DOT && t.kind != TK_ELSE &&
      newline_ends_statement(lx)) {
    lx->pending = t;
    lx->has_pending = true;
    end_statement(lx);
    lx->prev = TK_NEWLINE;
    memset(val, 0, sizeof *val);
    val->text = (Str){(const char *)t.nl, 1};
    *loc = t.nl_loc;
    return TK_NEWLINE;
  }
  return deliver(lx, &t, val, loc);
}

bool lexer_open_bracket(const Lexer *lx, char *open, Loc *at) {
  if (lx->depth == 0)
    return false;
  const Level *l = &lx->levels[lx->depth];
  *open = l->kind == BR_PAREN ? '(' : l->kind == BR_SQUARE ? '[' : '{';
  *at = l->loc;
  return true;
}

bool lexer_gave_up(const Lexer *lx) {
  return lx->dead;
}
