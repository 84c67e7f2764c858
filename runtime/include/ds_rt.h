/*
 * ds_rt.h — the runtime ABI that compiled .ds jobs call.
 *
 * Generated code (LLVM IR) calls these functions per record; the stdlib/ sources,
 * runtime/arena.c and runtime/hash.c are also compiled to LLVM bitcode
 * (build/lib/ds_builtins.bc) and linked into each job so that LLVM can
 * inline them. Everything here is plain C11, has no global mutable state and
 * never depends on the C locale.
 *
 * Values: `int` is int64_t, `float` is double, `bool` is bool, `time` and
 * `duration` are int64_t milliseconds, `string` is a ds_str, `[T]` a ds_list.
 *
 * Ownership, written once:
 *   - A ds_str is a borrowed byte slice {ptr, len}; it is NOT NUL-terminated
 *     and may contain any bytes. No function here frees or keeps a string.
 *   - A result string or list either points into an argument (a slice: trim,
 *     substr, field, split, words, chars, and lower/upper/replace/concat when
 *     nothing changes) or into memory from the ds_arena passed in. Either way
 *     it lives as long as both its arguments and that arena (until
 *     ds_arena_reset or ds_arena_destroy). Callers must treat results as
 *     read-only.
 *   - Every function that may allocate takes the arena first, writes its
 *     result through `out` and returns false when the allocation failed
 *     (`out` is then unspecified). Other `bool` results mean "the builtin has
 *     a value" (false: parse failure, record error, or `none`).
 *
 * Calling from IR: ds_str and ds_list are passed and returned by value. Their
 * lowering depends on the target's C ABI (x86-64: a by-value ds_str becomes
 * two parameters `ptr, i64`; a returned one `{ ptr, i64 }`). Codegen should
 * take each function's type from the linked bitcode (LLVMGetNamedFunction,
 * LLVMGlobalGetValueType) rather than spell it by hand.
 */
#ifndef DS_RT_H
#define DS_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A string: `len` bytes at `ptr` (ptr may be NULL when len == 0). */
typedef struct ds_str {
  const char *ptr; /* first byte; not NUL-terminated */
  int64_t len;     /* number of bytes, >= 0 */
} ds_str;

/* A list: `len` contiguous elements at `ptr`; the caller knows their type. */
typedef struct ds_list {
  void *ptr;   /* first element; NULL when len == 0 */
  int64_t len; /* number of elements, >= 0 */
} ds_list;

/* ------------------------------------------------------------------------ */
/* Arena (runtime/arena.c): one per batch and partition, reset per batch.    */
/* ------------------------------------------------------------------------ */

/*
 * The one allocation function of the runtime (as Lua's lua_Alloc): with
 * nsize > 0 it returns a new block of nsize bytes, or NULL on failure; with
 * nsize == 0 it frees `ptr` (of osize bytes) and returns NULL. Tests install
 * their own to count allocations or inject failures.
 */
typedef void *(*ds_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct ds_arena_chunk ds_arena_chunk; /* internal to arena.c */

/* A bump allocator; treat the fields as private to arena.c. */
typedef struct ds_arena {
  ds_alloc_fn alloc;     /* where chunks come from (never NULL after init) */
  void *ud;              /* passed to alloc */
  ds_arena_chunk *first; /* the chunk list, in allocation order */
  ds_arena_chunk *cur;   /* the chunk allocations currently come from */
  char *ptr;             /* next free byte in cur */
  char *end;             /* end of cur's usable bytes */
  size_t used;           /* bytes handed out since the last reset */
  size_t reserved;       /* bytes held in chunks (headers included) */
  size_t next_size;      /* size of the next chunk to ask for */
  struct ds_intern *intern; /* NULL, or the cache that shares equal strings copied in (intern.c) */
} ds_arena;

/* A point in an arena to come back to: everything allocated after the mark
 * is released by ds_arena_release (its chunks are kept for reuse). */
typedef struct ds_arena_mark {
  ds_arena_chunk *cur;
  char *ptr;
  size_t used;
} ds_arena_mark;

static inline ds_arena_mark ds_arena_get_mark(const ds_arena *a) {
  ds_arena_mark m = {a->cur, a->ptr, a->used};
  return m;
}

/* The default ds_alloc_fn: malloc and free. */
void *ds_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Initializes an empty arena (no allocation yet); alloc NULL means ds_default_alloc. */
void ds_arena_init(ds_arena *a, ds_alloc_fn alloc, void *ud);
/* Returns size bytes aligned to 16 (size 0 is a valid, distinct block), or NULL when out of memory. */
void *ds_arena_alloc(ds_arena *a, size_t size);
/* Frees every allocation at once; keeps the chunks the last batch used, frees the others. */
void ds_arena_reset(ds_arena *a);
/* Frees (for reuse) everything allocated since mark m. */
void ds_arena_release(ds_arena *a, ds_arena_mark m);
/* Frees all chunks; the arena may be initialized again. */
void ds_arena_destroy(ds_arena *a);
/* Bytes handed out since the last reset (16-byte rounding included), for memory accounting. */
size_t ds_arena_bytes(const ds_arena *a);
/* Bytes the arena holds from its allocator (chunk headers and free space included). */
size_t ds_arena_reserved(const ds_arena *a);

/* intern.c: an arena whose copies of equal strings are shared (a keyed
 * table's key store). ds_arena_intern turns it on; dsg_copy_bytes then calls
 * ds_intern_bytes, which returns an earlier copy of the same bytes or makes
 * one. Reset, release and destroy empty the cache. */
typedef struct ds_intern ds_intern;
void ds_arena_intern(ds_arena *a);
void *ds_intern_bytes(ds_arena *a, const char *p, int64_t n);
void ds_intern_clear(ds_arena *a);
void ds_intern_free(ds_arena *a);

/* ------------------------------------------------------------------------ */
/* Hashing (runtime/hash.c): stable across machines, runs and versions.      */
/* ------------------------------------------------------------------------ */

/* Default seed for partitioning keys; changing it breaks checkpoints. */
#define DS_HASH_SEED UINT64_C(0x0ddc0ffee0ddf00d)

/* Hash of len bytes (a string key); the same bytes always give the same value. */
uint64_t ds_hash_bytes(const void *ptr, int64_t len, uint64_t seed);
/* Hash of a 64-bit value (int, time, duration; bool as 0/1). */
uint64_t ds_hash_i64(int64_t x, uint64_t seed);
/* Combines element hashes of a tuple/record/option, left to right: order matters. */
uint64_t ds_hash_combine(uint64_t h1, uint64_t h2);

/* ------------------------------------------------------------------------ */
/* Strings (stdlib/strings.c). Whitespace is ASCII: ' ' \t \n \v \f \r.      */
/* ------------------------------------------------------------------------ */

/* split(s, sep): Java String.split with a literal sep; out is a list of ds_str slices of s. */
bool ds_split(ds_arena *a, ds_str s, ds_str sep, ds_list *out);
/* words(s): the non-empty runs of non-whitespace; out is a list of ds_str slices of s. */
bool ds_words(ds_arena *a, ds_str s, ds_list *out);
/* chars(s): one ds_str per UTF-8 character (an invalid byte is a character of its own). */
bool ds_chars(ds_arena *a, ds_str s, ds_list *out);
/* trim(s): s without leading and trailing ASCII whitespace (a slice, no allocation). */
ds_str ds_trim(ds_str s);
/* lower(s): ASCII letters lowered; other bytes kept; allocates only if something changes. */
bool ds_lower(ds_arena *a, ds_str s, ds_str *out);
/* upper(s): ASCII letters raised; other bytes kept; allocates only if something changes. */
bool ds_upper(ds_arena *a, ds_str s, ds_str *out);
/* contains(s, t): t occurs in s (always true for empty t). */
bool ds_contains(ds_str s, ds_str t);
/* startsWith(s, t). */
bool ds_starts_with(ds_str s, ds_str t);
/* endsWith(s, t). */
bool ds_ends_with(ds_str s, ds_str t);
/* indexOf(s, t): byte index of the first t in s, 0 for empty t, -1 if absent. */
int64_t ds_index_of(ds_str s, ds_str t);
/* substr(s, start, n): bytes [start, start+n) clamped to the end; false if start < 0, n < 0 or start > len(s). */
bool ds_substr(ds_str s, int64_t start, int64_t n, ds_str *out);
/* replace(s, from, to): every non-overlapping from, left to right; empty from gives s. */
bool ds_replace(ds_arena *a, ds_str s, ds_str from, ds_str to, ds_str *out);
/* field(s, sep, i): split's i-th field (from 0, trailing empties kept) without a list; false if none. */
bool ds_field(ds_str s, ds_str sep, int64_t i, ds_str *out);
/* a + b; allocates only when both are non-empty. */
bool ds_concat(ds_arena *a, ds_str x, ds_str y, ds_str *out);
/* Bytewise order: memcmp of the common prefix, then the shorter first; -1, 0 or 1. */
int ds_str_cmp(ds_str x, ds_str y);
/* x == y bytewise. */
bool ds_str_eq(ds_str x, ds_str y);

/* ------------------------------------------------------------------------ */
/* Conversions (stdlib/convert.c).                                           */
/* ------------------------------------------------------------------------ */

/* Buffer sizes for the formatters (no NUL is written). */
#define DS_FORMAT_INT_MAX 20   /* "-9223372036854775808" */
#define DS_FORMAT_FLOAT_MAX 32 /* "-2.2250738585072014e-308" is 24 */

/* parseInt(s): [+-]?[0-9]+ exactly, no whitespace; false on anything else or overflow. */
bool ds_parse_int(ds_str s, int64_t *out);
/* parseFloat(s): [+-]? digits [. digits] [e [+-] digits], correctly rounded; no inf/nan/hex/space; overflow false. */
bool ds_parse_float(ds_str s, double *out);
/* str(int): decimal into buf (>= DS_FORMAT_INT_MAX bytes); returns the length. */
int ds_format_int(char *buf, int64_t x);
/* str(float): exactly Python 3's repr(float) into buf (>= DS_FORMAT_FLOAT_MAX bytes); returns the length. */
int ds_format_float(char *buf, double x);
/* int(f): truncates toward zero; false for NaN or a value outside int64. */
bool ds_float_to_int(double f, int64_t *out);

/* ------------------------------------------------------------------------ */
/* Time (stdlib/time.c): strptime/strftime-style, English names, UTC.        */
/* ------------------------------------------------------------------------ */

/* parseTime(s, fmt): milliseconds since the epoch; false if s does not match fmt entirely or the date is invalid. */
bool ds_parse_time(ds_str s, ds_str fmt, int64_t *out_ms);
/* formatTime(t, fmt) in UTC; false on an unknown directive or allocation failure. */
bool ds_format_time(ds_arena *a, int64_t t_ms, ds_str fmt, ds_str *out);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31, not checked). */
int64_t ds_days_from_civil(int64_t y, int m, int d);

/* ------------------------------------------------------------------------ */
/* Numbers (stdlib/numbers.c).                                               */
/* ------------------------------------------------------------------------ */

/* a / b truncating; false when b == 0; INT64_MIN / -1 wraps to INT64_MIN. */
bool ds_div_i64(int64_t x, int64_t y, int64_t *out);
/* a % b with the sign of a (C, Java); false when b == 0; INT64_MIN % -1 is 0. */
bool ds_mod_i64(int64_t x, int64_t y, int64_t *out);
/* Float % : C fmod (sign of x; NaN when y is 0). */
double ds_fmod(double x, double y);
/* pow(x, y) as C pow. */
double ds_pow(double x, double y);
/* floor(x). */
double ds_floor(double x);
/* ceil(x). */
double ds_ceil(double x);
/* sqrt(x); NaN for x < 0. */
double ds_sqrt(double x);
/* abs(int): wraps for INT64_MIN (stays INT64_MIN), as `-` does. */
int64_t ds_abs_i64(int64_t x);

#ifdef __cplusplus
}
#endif

#endif /* DS_RT_H */
