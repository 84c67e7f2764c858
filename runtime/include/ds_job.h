/*
 * ds_job.h — the ABI between a compiled job and the runtime.
 *
 * `dsc build` generates one LLVM module per job. It defines the functions
 * the runtime cannot know (fused stages, reduce functions, how to hash,
 * compare, copy and print each element type) and one `ds_job` table that
 * describes the operator graph; its `main` calls ds_main(). Everything else
 * — the batch clock, sources, the worker pool, shuffles, window stores,
 * outputs, the command line — is the runtime's.
 *
 * Values are stored in C layout, as the generated LLVM structs lay them out:
 * int/time/duration int64_t, float double, bool uint8_t, string ds_str,
 * list ds_list, tuple and record a struct of their fields in order, option
 * T a struct { uint8_t some; T value; }. A pair stream's element is the
 * struct { K key; V value; } with the value at ds_node.val_offset.
 *
 * Lifetimes: strings and lists inside elements point into memory that lives
 * until the end of the batch (the source's buffers or a ds_ctx arena). A
 * store that keeps elements longer (windows, state) deep-copies them with
 * ds_type.copy into memory it owns.
 */
#ifndef DS_JOB_H
#define DS_JOB_H

#include "ds_rt.h"

#include <stdbool.h>
#include <stdint.h>

#define DS_ABI_VERSION 3

/* One partition of one stream in one batch: n elements of elem->size bytes.
 * Buffers are owned by the runtime and reused from batch to batch. */
typedef struct ds_part {
  char *data;
  int64_t n, cap;
  char pad_[40]; /* a cache line each: tasks fill neighbouring partitions at the same time */
} ds_part;

/* Appends one zeroed element slot of `size` bytes (grows the buffer; never
 * fails: out of memory aborts the job with a message). */
void *ds_part_push(ds_part *p, int64_t size);

/* Per-record errors (§8): a builtin or operation that fails sets err and
 * err_site and the generated code drops the record. */
enum {
  DS_ERR_NONE = 0,
  DS_ERR_DIV_ZERO,    /* integer division or modulo by zero */
  DS_ERR_INDEX,       /* list index out of range */
  DS_ERR_UNWRAP_NONE, /* x! on none */
  DS_ERR_BAD_ARG,     /* a builtin's argument out of its domain (substr, int(nan), ...) */
  DS_ERR_NO_MEMORY,   /* the batch arena could not grow */
};

/* What generated code gets from the runtime while it runs for one task. */
typedef struct ds_ctx {
  ds_arena *arena;        /* lives until the end of the batch */
  int64_t batch_time;     /* ms since the epoch: batchTime() */
  int32_t err;            /* DS_ERR_*, reset by the code that drops the record */
  int32_t err_site;       /* index into ds_job.sites of the failing expression */
  int64_t *site_errors;   /* per-site counters of this task (ds_job.nsites of them) */
  int64_t records_in;     /* records the task read */
  void *runtime;          /* the runtime's own per-task data */
} ds_ctx;

/* Records a record error and returns false, for builtin wrappers. */
static inline bool ds_fail(ds_ctx *ctx, int32_t err) {
  ctx->err = err;
  return false;
}

/* A growable byte buffer for printing values. */
typedef struct ds_strbuf {
  char *ptr;
  int64_t len, cap;
} ds_strbuf;
/* Appends n bytes, keeping one byte past len for a NUL (so tests and logs
 * can use the text). In the builtins' bitcode, so that generated formatters
 * inline it: their literal pieces become a few stores. */
void ds_strbuf_put(ds_strbuf *b, const char *s, int64_t n);
/* Makes room for n more bytes and the NUL (out of memory ends the job). */
void ds_strbuf_grow(ds_strbuf *b, int64_t n);
void ds_strbuf_free(ds_strbuf *b);

/* The shape of a value (ABI 3), so that the runtime can walk any value
 * without generated code: checkpoints write and read stored values through
 * it (runtime/value_codec.c). DS_SHAPE_NONE: unknown (a type written by hand
 * in a test), such values cannot be checkpointed. */
enum {
  DS_SHAPE_NONE = 0,
  DS_SHAPE_I64,    /* int, time, duration: int64_t */
  DS_SHAPE_F64,    /* float: double */
  DS_SHAPE_BOOL,   /* bool: uint8_t, 0 or 1 */
  DS_SHAPE_STR,    /* string: ds_str */
  DS_SHAPE_LIST,   /* [T]: ds_list of fields[0] */
  DS_SHAPE_STRUCT, /* tuple, record: nfields fields at offsets[i] */
  DS_SHAPE_OPTION, /* T?: uint8_t some at 0, fields[0] at offsets[0] */
};

/* How the runtime handles values of one type (generated per type). */
typedef struct ds_type {
  const char *name;                                     /* the type as dsc prints it */
  int64_t size, align;
  void (*copy)(void *dst, const void *src, ds_arena *a); /* deep copy; NULL = memcpy suffices */
  void (*format)(const void *v, ds_strbuf *out);        /* §10 print form, appended */
  uint64_t (*hash)(const void *v);                      /* stable hash; NULL if not hashable */
  bool (*eq)(const void *a, const void *b);             /* NULL if not comparable */
  int (*cmp)(const void *a, const void *b);             /* <0, 0, >0; NULL if not orderable */
  /* ABI 3: the shape (DS_SHAPE_*) and its parts. */
  int32_t shape;
  int32_t nfields;                                      /* STRUCT: fields; LIST, OPTION: 1 */
  const struct ds_type *const *fields;                  /* STRUCT: field types; LIST: element; OPTION: value */
  const int64_t *offsets;                               /* STRUCT: field offsets; OPTION: the value's */
} ds_type;

/* A fused stage: the element-wise operators between two materialised
 * streams, as one loop over partition `in`. `sink` is the ds_part to append
 * to (DS_STAGE), or the ds_map_set to combine into (DS_STAGE_COMBINE: the
 * map side of reduceByKey and of the keyed window operators). */
typedef void (*ds_stage_fn)(ds_ctx *ctx, const ds_part *in, void *sink);
/* acc = f(acc, v), in place; v is an element (reduce) or a value (keyed). */
typedef void (*ds_reduce_fn)(ds_ctx *ctx, void *acc, const void *v);
/* A predicate on an element (the filter: of reduceByKeyAndWindow). */
typedef bool (*ds_pred_fn)(ds_ctx *ctx, const void *elem);
/* Builds an output element from its parts; what a, b, c are depends on the
 * node kind (see ds_node_kind). A NULL part is a missing side (outer joins). */
typedef void (*ds_make_fn)(ds_ctx *ctx, void *out, const void *a, const void *b, const void *c);
/* sortBy and top: writes the sort key of elem (of type ds_node.key) to *key. */
typedef void (*ds_key_fn)(ds_ctx *ctx, void *key, const void *elem);
/* updateStateByKey: f(values, state?) -> state?. Writes the new state to
 * *new_state and returns true when it is some; false removes the key.
 * `values` is a ds_list of V; `state` is NULL for a key without state. */
typedef bool (*ds_update_fn)(ds_ctx *ctx, void *new_state, const ds_list *values, const void *state);
/* mapWithState: f(k, v, state?) -> (state?, out?). On entry *has_state says
 * whether *state holds the key's state; on return *state / *has_state are the
 * new state (has_state false removes it). Returns true when it wrote an
 * output element to *out. */
typedef bool (*ds_map_state_fn)(ds_ctx *ctx, const void *k, const void *v, void *state, bool *has_state,
                                void *out);
/* mapWithState's onTimeout: g(k, state) -> out?; true when it wrote *out. */
typedef bool (*ds_timeout_fn)(ds_ctx *ctx, const void *k, const void *state, void *out);

typedef enum ds_node_kind {
  DS_SOURCE_SOCKET,    /* str_arg host, int_arg port */
  DS_SOURCE_TEXTFILES, /* str_arg directory, flag newFilesOnly */
  DS_SOURCE_TEXTFILE,  /* str_arg path */
  DS_SOURCE_BATCHES,   /* str_arg path */
  DS_STAGE,            /* run: fused element-wise operators into a ds_part per input partition */
  DS_STAGE_COMBINE,    /* run: the same, ending in a combine into a ds_map per input partition;
                        * flag: keeps nothing of its input records past a call of run (keys
                        * copied into the maps' stores, values without strings) */
  DS_UNION,            /* inputs[0]'s partitions, then inputs[1]'s */
  DS_COUNT,            /* one int per batch, 0 when empty */
  DS_REDUCE,           /* reduce: one element per non-empty batch */
  DS_REDUCE_BY_KEY,    /* input is a DS_STAGE_COMBINE: shuffle by key hash, merge with reduce */
  DS_WINDOW,           /* window_ms, slide_ms */
  DS_REDUCE_BY_WINDOW, /* reduce, inv_reduce (may be NULL), window_ms, slide_ms */
  DS_REDUCE_BY_KEY_AND_WINDOW, /* input is a DS_STAGE_COMBINE; reduce, inv_reduce, filter */
  DS_PRINT,            /* int_arg: how many elements (default 10) */
  DS_SAVE_TEXT,        /* str_arg prefix, str_arg2 suffix (or NULL), flag skipEmpty */
  /* Keyed operators on materialised pair streams: inputs are shuffled by
   * key->hash into `partitions` partitions; key/val (and val2 for the second
   * input) with val_offset/val_offset2 describe the input pairs. */
  DS_GROUP_BY_KEY,     /* make(out, k, const ds_list *values, NULL) -> (K, [V]) */
  DS_JOIN,             /* make(out, k, v, w) for each matching (v, w) */
  DS_LEFT_OUTER_JOIN,  /* make(out, k, v, w or NULL) */
  DS_RIGHT_OUTER_JOIN, /* make(out, k, v or NULL, w) */
  DS_FULL_OUTER_JOIN,  /* make(out, k, v or NULL, w or NULL) */
  DS_COGROUP,          /* make(out, k, const ds_list *vs, const ds_list *ws), keys of either side */
  DS_DISTINCT,         /* elem->hash/eq; shuffled by element */
  DS_REPARTITION,      /* int_arg partitions: the batch spread evenly, order kept */
  DS_SORT_BY,          /* key_of, key->cmp, flag descending: one partition, stable */
  DS_TOP,              /* key_of, key->cmp, int_arg n: one partition, largest first, ties in input order */
  DS_UPDATE_STATE_BY_KEY, /* update; state type; make(out, k, state, NULL) -> (K, S); initial */
  DS_MAP_WITH_STATE,   /* map_state, on_timeout (or NULL), timeout_ms (0 = none), state type, initial */
  DS_STATE_SNAPSHOTS,  /* input is a DS_MAP_WITH_STATE: make(out, k, state, NULL) -> (K, S) */
  DS_NODE_KIND_COUNT
} ds_node_kind;

enum { DS_MAX_INPUTS = 2 };

typedef struct ds_node {
  ds_node_kind kind;
  int32_t plan_id;                 /* #N of `dsc plan` */
  const char *op;                  /* operator name, e.g. "reduceByKey" */
  const char *loc;                 /* "file.ds:line:col" of the operator, for messages */
  int32_t ninputs;
  int32_t inputs[DS_MAX_INPUTS];   /* indices into ds_job.nodes, always smaller than this one's */
  const ds_type *elem;             /* the element type of this node's stream (NULL for outputs) */
  const ds_type *key, *val;        /* keyed nodes (and DS_STAGE_COMBINE): K and V of the pairs */
  int64_t val_offset;              /* offset of V in a pair element */
  ds_stage_fn run;                 /* DS_STAGE, DS_STAGE_COMBINE */
  ds_reduce_fn reduce;             /* reduce functions: f ... */
  ds_reduce_fn inv_reduce;         /* ... and finv (NULL without an inverse) */
  ds_pred_fn filter;               /* filter: of reduceByKeyAndWindow, or NULL */
  int64_t window_ms;               /* window length */
  int64_t slide_ms;                /* window slide; 0 = the period of the input stream */
  /* Arguments, filled by ds_job.init (they may be computed from top-level lets). */
  ds_str str_arg, str_arg2;
  int64_t int_arg;
  bool flag;
  /* Keyed and state operators (ABI 2). */
  const ds_type *val2;             /* V of the second input (joins, cogroup) */
  int64_t val_offset2;             /* offset of that V in the second input's pairs */
  const ds_type *state;            /* S of state operators */
  ds_make_fn make;
  ds_key_fn key_of;
  ds_update_fn update;
  ds_map_state_fn map_state;
  ds_timeout_fn on_timeout;
  int64_t timeout_ms;
  ds_list initial;                 /* initial: a list of (K, S) pairs, filled by init */
  /* ABI 3: the operator's identity in checkpoints: the name of the `let` it
   * is bound to, else its path from its source(s), e.g.
   * "textFiles#1.flatMap.map.reduceByKeyAndWindow" (a source is its operator
   * and its position among the sources of that operator, from 1; a second
   * input is written in parentheses: "a.join(b)"). Never line numbers, so
   * editing an unrelated line keeps it. */
  const char *ident;
} ds_node;

typedef struct ds_job {
  int32_t abi_version;             /* DS_ABI_VERSION */
  const char *program;             /* the .ds file name */
  ds_node *nodes;                  /* topological order; outputs in declaration order */
  int32_t nnodes;
  const char *const *settings;     /* the program's `set`s as "name=value" (as --set takes them) */
  int32_t nsettings;
  const char *const *sites;        /* "file.ds:line:col: what" of each expression that can fail */
  int32_t nsites;
  /* Evaluates the top-level lets and the operators' arguments into nodes[].
   * Returns false (with ctx->err set) if one of them failed. */
  bool (*init)(ds_ctx *ctx, ds_node *nodes);
} ds_job;

/* The job's entry point: parses the command line (§12), runs, returns the
 * process exit code. */
int ds_main(int argc, char **argv, ds_job *job);

/* ---- the keyed map that DS_STAGE_COMBINE fills (runtime/map.c) ---- */

/* An open-addressing hash table of pair elements, with the hash kept beside
 * each entry. Generated code inserts through ds_map_upsert with constant
 * function pointers; the function is small and linked as bitcode so LLVM
 * inlines it and the key comparison with it. */
typedef struct ds_map {
  char *entries;       /* cap entries of entry_size bytes: uint64_t hash, then the pair */
  uint8_t *used;       /* cap flags */
  int64_t cap, len;
  int64_t pair_size, entry_size;
  ds_arena *store;     /* copies of the keys' strings and lists (made on first use);
                        * emptied with the map, so keys stay compact and outlive
                        * the record that brought them */
  int64_t pad_;        /* a cache line each (64 bytes): tasks fill neighbouring maps */
} ds_map;

/* The map's store arena (created on first use; out of memory aborts). */
ds_arena *ds_map_store(ds_map *m);
/* The same store, sharing the copies of equal strings (keys made of several
 * fields, whose strings repeat: intern.c). */
ds_arena *ds_map_store_interned(ds_map *m);

/* The sink of a DS_STAGE_COMBINE: one map per destination partition; a pair
 * goes to maps[rt_partition_of(hash, n)], so the shuffle after it only
 * merges maps and never re-partitions. */
typedef struct ds_map_set {
  ds_map *maps;
  int32_t n;
} ds_map_set;

/* The map of set s that a key hash goes to (rt_partition_of), with the
 * cache lines where its upsert will probe prefetched. */
ds_map *ds_map_set_route(const ds_map_set *s, uint64_t hash);

void ds_map_init(ds_map *m, int64_t pair_size);
void ds_map_clear(ds_map *m);      /* empties it, keeps the memory */
void ds_map_free(ds_map *m);
/* The pair slot for key (a pointer to a pair whose key is first): an existing
 * one (*inserted = false) or a new zeroed one (*inserted = true) the caller
 * fills. Pointers stay valid until the next upsert. */
void *ds_map_upsert(ds_map *m, uint64_t hash, const void *key,
                    bool (*key_eq)(const void *, const void *), bool *inserted);
/* Fetches the cache lines where an upsert of hash starts probing. */
static inline void ds_map_prefetch(const ds_map *m, uint64_t hash) {
  if (m->cap) {
    uint64_t i = hash & (uint64_t)(m->cap - 1);
    __builtin_prefetch(m->used + i, 1);
    __builtin_prefetch(m->entries + (int64_t)i * m->entry_size, 1);
  }
}
/* The pair of entry i (0 <= i < cap) if used, else NULL; its hash in *hash. */
static inline void *ds_map_entry(const ds_map *m, int64_t i, uint64_t *hash) {
  if (!m->used[i])
    return 0;
  char *e = m->entries + i * m->entry_size;
  if (hash)
    *hash = *(uint64_t *)e;
  return e + 8;
}

#endif
