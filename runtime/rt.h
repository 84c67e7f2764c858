/*
 * rt.h — the runtime's one internal header (ds_job.h is the public ABI).
 *
 * A job runs batch after batch. For each batch the driver (driver.c) fills
 * the source nodes' streams, then runs every other node in the order of
 * ds_job.nodes through its executor (rt_exec_table, one per ds_node_kind),
 * then the outputs, then resets the batch arenas. An executor turns its
 * inputs' rt_stream into its own, using the worker pool (pool.c) for the
 * per-partition work. A node whose inputs have no batch at this time (a
 * windowed stream between its slide times) has no batch either, and is
 * not run.
 *
 * Sectioned by the file that owns each declaration.
 */
#ifndef RT_H
#define RT_H

#include "ds_job.h"

#include <stdio.h>
#include <string.h>

/* ---- settings.c: §9 settings, from the program and from --set ---- */

typedef struct rt_settings {
  int64_t batch_ms;
  int64_t partitions;          /* default: number of cores */
  int64_t threads;             /* default: number of cores */
  char *checkpoint;            /* NULL when not set */
  int64_t checkpoint_interval_ms; /* default 10 x batch */
  bool wal;                    /* default: checkpoint != NULL */
  int64_t max_records_per_batch;
  int64_t max_rate;
  int64_t max_line_bytes;
  bool on_error_fail;
  char *hdfs_user;
  int64_t retries;
  bool checkpoint_interval_given; /* else checkpoint_interval_ms follows batch_ms */
  bool wal_given;              /* else wal follows checkpoint */
} rt_settings;

/* Applies "name=value"; returns NULL or a message saying what is wrong. */
const char *rt_settings_apply(rt_settings *s, const char *assignment);
void rt_settings_defaults(rt_settings *s);
/* What relates two settings (checkpointInterval a multiple of batch), once
 * all are applied: NULL or a message. */
const char *rt_settings_check(const rt_settings *s);
void rt_settings_free(rt_settings *s); /* the strings it owns */

/* ---- the per-batch data of every node ---- */

/* How a source hands a partition to the one stage that reads it in pieces
 * (see rt_stream.feed): fn(arg, piece, ctx) for consecutive pieces of
 * partition `part`, in order, on the calling task; a piece's elements are
 * valid only during its call. */
typedef void (*rt_piece_fn)(void *arg, const ds_part *piece, ds_ctx *ctx);
typedef void (*rt_feed_fn)(void *state, int32_t part, ds_ctx *ctx, rt_piece_fn fn, void *arg);

typedef struct rt_stream {
  bool active;       /* has a batch at the current batch time */
  int32_t nparts;
  ds_part *parts;    /* nparts partitions (not for DS_STAGE_COMBINE) */
  /* A source read in place (source_textfile.c): parts[i].n counts partition
   * i's elements but holds none (data is not to be read); feed gives them
   * out. NULL otherwise; rt_stream_reset clears it. */
  rt_feed_fn feed;
  void *feed_state;
  ds_map *maps;      /* DS_STAGE_COMBINE: nsplit maps per input partition, the
                      * pairs for output partition q of input i in maps[i * nsplit + q] */
  int32_t nsplit;    /* DS_STAGE_COMBINE: output partitions of the shuffle after it */
  int32_t cap_parts; /* allocated entries of parts/maps, kept across batches */
} rt_stream;

/* Makes room for n partitions, all emptied (buffers kept for reuse). */
void rt_stream_reset(rt_stream *s, int32_t nparts);
void rt_stream_reset_maps(rt_stream *s, int32_t nparts, int64_t pair_size);
int64_t rt_stream_count(const rt_stream *s); /* elements in all partitions */
/* part.c: frees every buffer and map of the stream; it is then empty. */
void rt_stream_free(rt_stream *s);
/* part.c: a ds_part's cap counts elements of the one size it is used with.
 * rt_part_reserve makes room for n elements of `size` bytes (n unchanged). */
void rt_part_reserve(ds_part *p, int64_t n, int64_t size);
void rt_part_free(ds_part *p);

typedef struct rt_batch {
  int64_t index;  /* 1, 2, ... counted from the job's first start */
  int64_t time;   /* ms since the epoch */
} rt_batch;

typedef struct rt_pool rt_pool;

typedef struct rt_job {
  ds_job *job;
  rt_settings settings;
  rt_pool *pool;
  rt_stream *streams;  /* one per node */
  void **state;        /* one per node: the executor's private state */
  int64_t t0;          /* time of batch 0 (batch i has time t0 + i * batch) */
  int64_t batch_time;  /* time of the batch being run: the driver sets it before running
                        * the nodes; rt_parallel hands it to tasks as ctx->batch_time */
  int64_t *site_errors; /* record errors per ds_job.sites entry, this batch */
  int64_t records_out;  /* elements written by outputs this batch */
  FILE *out;           /* where print writes (stdout) */
  int64_t source_errors; /* records sources dropped this batch (socket lines over maxLineBytes) */
  struct rt_journal *journal; /* journal.c: the batch log in the checkpoint directory, or NULL */
  struct commit_job *pending_commit; /* checkpoint.c: a checkpoint being committed, or NULL */
} rt_job;

/* How often node i has a batch, in ms: the batch interval, or the slide of
 * the nearest window above it. (period.c: a source's is settings.batch_ms, a
 * window node's its slide_ms or, when 0, its input's period, any other
 * node's its first input's.) */
int64_t rt_period_ms(const rt_job *rj, int node);

/* ---- pool.c: the worker pool ---- */

/* One unit of parallel work: task i of n, with a ds_ctx whose arena is the
 * running worker's batch arena. */
typedef void (*rt_task_fn)(rt_job *rj, int i, void *arg, ds_ctx *ctx);

rt_pool *rt_pool_new(int threads, int nsites);
/* Runs task(rj, i, arg, ctx) for i in [0, n) on the workers; returns when all
 * are done. Record errors counted in the ctxs are added to rj->site_errors. */
void rt_parallel(rt_job *rj, int n, rt_task_fn task, void *arg);
/* Resets every worker's batch arena (end of batch). */
void rt_pool_reset_arenas(rt_pool *p);
void rt_pool_free(rt_pool *p);
/* How many tasks can run at once (the calling thread included). */
int rt_pool_threads(const rt_pool *p);
/* The worker running the task of ctx: 0 .. rt_pool_threads - 1, for data a
 * task keeps per worker (no two tasks of a worker run at once). */
int rt_task_worker(const ds_ctx *ctx);

/* For the runtime's own calls of generated functions (reduce, filter): when
 * the call failed with a record error, counts it against its site and
 * clears it, as generated code does for the records it drops. Returns
 * whether there was an error. */
static inline bool rt_ctx_dropped(ds_ctx *ctx) {
  if (ctx->err == DS_ERR_NONE)
    return false;
  if (ctx->site_errors && ctx->err_site >= 0)
    ctx->site_errors[ctx->err_site]++;
  ctx->err = DS_ERR_NONE;
  return true;
}

/* ---- executors: one per ds_node_kind ---- */

typedef struct rt_ckw rt_ckw; /* ckpt_file.c */
typedef struct rt_ckr rt_ckr;

typedef struct rt_exec {
  /* Called once at start: allocate rj->state[node], check parameters (for
   * instance window multiples of the period). Returns NULL or a message;
   * a message stops the job with exit code 2. */
  const char *(*init)(rt_job *rj, int node);
  /* Computes rj->streams[node] for this batch. Sources read their input;
   * outputs write. Only called when the node is active at b->time. */
  void (*run)(rt_job *rj, int node, const rt_batch *b);
  /* Whether the node has a batch at time t (windows: slide times only);
   * NULL means "whenever its inputs have one". */
  bool (*active)(rt_job *rj, int node, const rt_batch *b);
  /* Bounded sources: true once every record was read. NULL otherwise. */
  bool (*exhausted)(rt_job *rj, int node);
  void (*free)(rt_job *rj, int node);
  /* Window operators (window.c, reduce_by_window.c,
   * reduce_by_key_and_window.c): called at every batch time at which the
   * node's input has a batch, after the input ran and before active/run, so
   * the node keeps that batch even when it has no batch itself. NULL for the
   * others. The window executors also do this from `active` if observe was
   * not called for that time (it is idempotent per batch time), so a driver
   * that calls `active` in node order after the inputs ran works without it. */
  void (*observe)(rt_job *rj, int node, const rt_batch *b);
  /* Checkpoints (checkpoint.c calls them; NULL for nodes that keep nothing
   * across batches): save writes, after a completed batch, everything the
   * node keeps (state stores, window panes and previous values, a bounded
   * source's read position) through rt_ckw_* and rt_ckw_value; load reads it
   * back at a restart, after init and before the first batch, into the
   * node's freshly initialised state. The `partitions` setting may differ
   * from the run that saved: keyed data is re-routed by rt_partition_of of
   * its key hash. load returns NULL or a message (the job exits 2); a read
   * error (r->err) is reported by the caller. */
  void (*save)(rt_job *rj, int node, rt_ckw *w);
  const char *(*load)(rt_job *rj, int node, rt_ckr *r);
} rt_exec;

extern const rt_exec rt_exec_source_socket, rt_exec_source_textfiles, rt_exec_source_textfile,
    rt_exec_source_batches, rt_exec_stage, rt_exec_union, rt_exec_count, rt_exec_reduce,
    rt_exec_reduce_by_key, rt_exec_window, rt_exec_reduce_by_window,
    rt_exec_reduce_by_key_and_window, rt_exec_print, rt_exec_save_text;
extern const rt_exec rt_exec_update_state_by_key, rt_exec_map_with_state, rt_exec_state_snapshots;
/* Grouping, joins and ordering (group_by_key.c, join.c: the four joins and
 * cogroup, distinct.c, repartition.c, sort.c: sortBy and top). */
extern const rt_exec rt_exec_group_by_key, rt_exec_join, rt_exec_distinct, rt_exec_repartition,
    rt_exec_sort_by, rt_exec_top;

/* stage.c: whether node's stream is read by one node only, a DS_STAGE_COMBINE
 * that keeps nothing of its input records (ds_node.flag), so the stream may
 * be handed to it in pieces (rt_stream.feed). */
bool rt_read_in_pieces(const ds_job *job, int node);

/* Whether nodes of kind k are sources (they fill their stream from outside). */
static inline bool rt_is_source(ds_node_kind k) {
  return k == DS_SOURCE_SOCKET || k == DS_SOURCE_TEXTFILES || k == DS_SOURCE_TEXTFILE ||
         k == DS_SOURCE_BATCHES;
}

/* Indexed by ds_node_kind (exec.c). */
const rt_exec *rt_exec_for(ds_node_kind k);

/* ---- lines.c: a buffer of lines into a source's partitions ---- */

/* The first record of slice i when m records are split into n contiguous
 * slices (the partitions of a source's batch): floor(i*m/n). */
static inline int64_t rt_slice_start(int64_t i, int64_t m, int64_t n) {
  return (int64_t)((__int128)i * m / n);
}

/* Newlines in n bytes. */
int64_t rt_count_lines(const char *p, int64_t n);
/* Resets `out` to nparts partitions and fills them with the lines of buf
 * (every line ends in '\n'; a trailing '\r' is dropped) as ds_str elements
 * pointing into buf, in contiguous slices (slice i of n over m lines starts
 * at line floor(i*m/n)); nlines is the number of lines if the caller knows
 * it, else -1. Uses the pool for large buffers. 0 or -1 (no memory). */
int rt_lines_to_parts(rt_job *rj, rt_stream *out, const char *buf, int64_t len, int64_t nlines,
                      int32_t nparts);

/* The newlines of a stretch of text, by position: each entry is
 * (offset << 1) | cr, cr = 1 when the byte before the '\n' is '\r'. Kept
 * and reused (zero-initialize it). */
typedef struct rt_newlines {
  uint64_t *at;
  int64_t n, cap;
} rt_newlines;

/* Appends an entry for every '\n' of p[0, n), which sits at offset `off`
 * (entries hold off + index). A '\n' at p[0] gets cr = 0: the scan reads
 * nothing outside p[0, n), so chunks can be scanned while their
 * neighbours are being written (rt_line_runs_to_parts checks that one). */
void rt_newlines_scan(rt_newlines *nl, const char *p, int64_t n, int64_t off);
void rt_newlines_push(rt_newlines *nl, int64_t at, bool cr);
void rt_newlines_free(rt_newlines *nl);

/* n consecutive lines of a batch: the first is line `first` of the batch
 * and starts at offset prev + 1; nl[k] is the entry of line first + k's
 * newline. The entries of a run come from one chunk's scan: the first
 * line's cr bit is recomputed from the buffer, no other. */
typedef struct rt_line_run {
  const uint64_t *nl;
  int64_t n, first, prev;
} rt_line_run;

/* Resets `out` to nparts partitions and fills them with the nlines lines
 * of the runs (in order, together lines 0 .. nlines-1 of the batch) as
 * ds_str pointing into buf, where offset x is buf[x - base], in contiguous
 * slices (slice i of n over m lines starts at line floor(i*m/n)); a
 * trailing '\r' is dropped. One pool task per run when `parallel`. */
void rt_line_runs_to_parts(rt_job *rj, rt_stream *out, const char *buf, int64_t base,
                           const rt_line_run *runs, int64_t nruns, int64_t nlines, int32_t nparts,
                           bool parallel);

/* ---- sources: shared by source_*.c ---- */

/* A node's str_arg as a malloc'd C string with `file://` removed; NULL and
 * *msg set for hdfs:// (for sources that read local files only: batches) or
 * no memory. The paths that may be on HDFS come from rt_path_arg
 * (storage.h, the storage layer of local and hdfs:// files). */
char *rt_local_path(ds_str arg, const char **msg);

/* ---- shuffle.c: moving keyed data to the partition that owns each key ---- */

/* The partition of a key hash among n: stable across runs and machines. */
static inline int32_t rt_partition_of(uint64_t hash, int32_t n) {
  uint64_t hi = hash >> 32;
  return (int32_t)((n & (n - 1)) == 0 ? hi & (uint64_t)(n - 1) : hi % (uint64_t)n);
}

/* Merges the pairs for output partition q (of nout) of a DS_STAGE_COMBINE
 * stream into out. When the stage split its maps by destination (nsplit ==
 * nout) only map q of each input partition is read, and the first one is
 * taken over whole when out is still empty (swapped: the stage's stream is
 * read by this one consumer only); otherwise (nsplit 0: one map per input
 * partition, as tests build them) it is rt_shuffle_partition. */
void rt_shuffle_stream(ds_ctx *ctx, const ds_node *node, rt_stream *in, ds_map *out, int32_t q, int32_t nout);

/* Merges the entries of partition q (of nout) found in the maps in[0..nin)
 * into out, combining equal keys with node->reduce on the values at
 * node->val_offset, inputs in order. Pairs are copied shallowly: their
 * strings still point into the input's memory. */
void rt_shuffle_partition(ds_ctx *ctx, const ds_node *node, const ds_map *in, int32_t nin,
                          ds_map *out, int32_t q, int32_t nout);
/* The same for every q in [0, nout), in parallel; out[q] is cleared first
 * (out[] must be initialized maps of node->elem->size pairs). */
void rt_shuffle(rt_job *rj, const ds_node *node, const ds_map *in, int32_t nin, ds_map *out,
                int32_t nout);
/* Appends the pairs of m to out (pair_size elements, in table order). */
void rt_map_to_part(const ds_map *m, ds_part *out);

/* ---- scratch.c: per-batch arrays kept across batches ---- */

/* p, or a new block (p freed, contents not kept) when p, of *cap elements,
 * has room for fewer than n elements of `size` bytes; never NULL. */
void *rt_scratch(void *p, int64_t *cap, int64_t n, size_t size);

/* ---- exchange.c: the shuffle of materialised streams ---- */

/* An element routed by an exchange: its key's hash and its address in its
 * input partition's buffer (not a copy). */
typedef struct rt_ref {
  uint64_t hash;
  const char *elem;
} rt_ref;

/* One input stream of an exchange. The caller sets in, hash and elem_size;
 * rt_exchange fills refs and start; the rest is its scratch. */
typedef struct rt_exchange_side {
  const rt_stream *in;             /* the input's partitions (part streams) */
  uint64_t (*hash)(const void *);  /* of an element's start: a pair's key, or the element */
  int64_t elem_size;
  rt_ref *refs;                    /* out: output partition q is refs[start[q], start[q + 1]) */
  int64_t *start;                  /* out: nout + 1 offsets */
  uint64_t *hashes;                /* the elements' hashes, in input order */
  int64_t *base;                   /* nin + 1: first element of each input partition */
  int64_t *cursor;                 /* nin x nout: counts, then places */
  int64_t cap_refs, cap_start, cap_hashes, cap_base, cap_cursor;
} rt_exchange_side;

/* Routes every element of each side to output partition
 * rt_partition_of(hash, nout), in input order within each output partition,
 * using the pool. References stay valid until the inputs change. */
void rt_exchange(rt_job *rj, rt_exchange_side *sides, int nsides, int32_t nout);
void rt_exchange_free(rt_exchange_side *s);

/* ---- groups.c: the elements of one partition grouped by key ---- */

typedef bool (*rt_eq_fn)(const void *, const void *);

enum { RT_SLOT_USED = 1, RT_SLOT_MARK = 2 };

/* One key of a key table: its slot is its group. */
typedef struct rt_slot {
  uint32_t tag;          /* the high half of the key's hash */
  uint32_t flags;        /* RT_SLOT_USED; RT_SLOT_MARK is free for the caller (cleared by reset) */
  uint32_t n[2];         /* elements of each side with this key */
  uint32_t start[2];     /* after rt_groups_build: where they were gathered, in elements */
  const char *key;       /* the first element with this key (a pair starts with its key) */
} rt_slot;

/* A key table sized up front for one partition and kept across batches
 * (zero-initialize it). Slots are visited in table order: the order of
 * the groups is unspecified but the same for the same input. */
typedef struct rt_groups {
  rt_slot *slots;        /* nslots slots, linear probing */
  uint64_t mask;         /* nslots - 1 */
  int64_t nslots, len;   /* slots in use this batch; keys in the table */
  int64_t max_keys;      /* keys the table was sized for */
  uint32_t *where;       /* rt_groups_build: each element's slot */
  int64_t cap_slots, cap_where;
} rt_groups;

/* Empties the table and sizes it for up to max_keys keys (< 2^32). */
void rt_groups_reset(rt_groups *g, int64_t max_keys);
/* The slot of key (hash is its hash), made (*added) if the key is new. */
rt_slot *rt_groups_add(rt_groups *g, uint64_t hash, const char *key, rt_eq_fn eq, bool *added);
/* The slot of key, or NULL. */
static inline const rt_slot *rt_groups_find(const rt_groups *g, uint64_t hash, const char *key,
                                            rt_eq_fn eq) {
  uint32_t tag = (uint32_t)(hash >> 32);
  for (uint64_t i = hash & g->mask;; i = (i + 1) & g->mask) {
    const rt_slot *s = &g->slots[i];
    if (!s->flags)
      return NULL;
    if (s->tag == tag && eq(key, s->key))
      return s;
  }
}
/* Where a lookup of hash starts (to prefetch it). */
static inline const rt_slot *rt_groups_home(const rt_groups *g, uint64_t hash) {
  return &g->slots[hash & g->mask];
}

/* One side of rt_groups_build: its elements, and where to gather `size`
 * bytes at `off` of each (a pair's value, say), key by key in input order
 * within a key: out must hold n * size bytes. out NULL gathers nothing. */
typedef struct rt_group_side {
  const rt_ref *refs;
  int64_t n;
  int64_t off, size;
  char *out;
} rt_group_side;

/* Resets the table and groups the elements of both sides by key (either may
 * be empty): afterwards each used slot has n[s] elements of side s, whose
 * gathered bytes are at sides[s].out + start[s] * size. */
void rt_groups_build(rt_groups *g, const rt_group_side sides[2], rt_eq_fn eq);
void rt_groups_free(rt_groups *g);

/* ---- map.c: lookups the runtime needs besides ds_map_upsert ---- */

/* The pair with this key, or NULL. */
void *rt_map_find(const ds_map *m, uint64_t hash, const void *key,
                  bool (*key_eq)(const void *, const void *));

/* ---- reduce.c: reducing a whole batch to one element ---- */

/* Scratch memory of a reducer, kept across batches. */
typedef struct rt_reducer {
  char *partials;     /* one element per input partition */
  uint8_t *has;       /* whether that partition had an element */
  int32_t cap;        /* entries allocated in both */
} rt_reducer;

/* Reduces every element of `in` (a part stream of node->elem) with
 * node->reduce: partitions in parallel, then their results in partition
 * order. Writes the result (pointing into batch memory) to out and returns
 * true, or returns false for an empty batch. */
bool rt_reduce_stream(rt_job *rj, const ds_node *node, const rt_stream *in, rt_reducer *r,
                      void *out);
void rt_reducer_free(rt_reducer *r);

/* ---- winstore.c: the input batches a window operator keeps ---- */

/* What a window operator keeps of one input batch: nparts partitions, each
 * with an arena that owns the deep copies of its elements. */
typedef struct rt_pane {
  int64_t time;       /* the batch's time */
  int32_t nparts;     /* partitions in use */
  int32_t cap;        /* partitions allocated (kept when the pane is reused) */
  ds_part *parts;
  ds_arena *arenas;
} rt_pane;

/* The window timing of one node and the panes it keeps, oldest first. The
 * node emits at the times T with (T - t0) mod slide == 0 (T > t0), covering
 * the panes with times in (T - window, T]. */
typedef struct rt_winstore {
  int64_t t0, period, window, slide; /* ms; period is the input's */
  rt_pane **panes;    /* kept panes in time order */
  int32_t npanes, cap;
  rt_pane **spare;    /* panes that left, kept for reuse */
  int32_t nspare, cap_spare;
  int64_t last_seen;  /* time of the last input batch observed (INT64_MIN: none) */
  int64_t last_slide; /* time of the last slide computed (INT64_MIN: none) */
  char msg[160];      /* the message rt_winstore_init returns */
} rt_winstore;

/* Reads the node's window_ms/slide_ms and its input's period; returns NULL
 * or the message for a window or slide that is not a multiple of it. */
const char *rt_winstore_init(rt_winstore *ws, rt_job *rj, int node);
/* Whether T is a slide time. */
bool rt_winstore_is_slide(const rt_winstore *ws, int64_t t);
/* A pane for the input batch at time t with nparts empty partitions and
 * reset arenas, or NULL when t was already observed or falls in no window.
 * First drops the panes no window after the last slide covers (their memory
 * was still in use until this next batch). */
rt_pane *rt_winstore_add(rt_winstore *ws, int64_t t, int32_t nparts);
/* Records that the slide at T was computed (for dropping panes later). */
void rt_winstore_slid(rt_winstore *ws, int64_t t);
void rt_winstore_free(rt_winstore *ws);
/* Checkpoints: writes the window's timing, last_seen, last_slide and the
 * kept panes with their elements of type elem (rt_ckw_value): entry_size 0
 * for panes of plain elements, else keyed panes of entry_size-byte entries
 * (uint64_t hash, then the pair of type elem at offset 8). */
void rt_winstore_save(rt_ckw *w, const rt_winstore *ws, const ds_type *elem, int64_t entry_size);
/* Reads that back into an initialised, empty ws (a message if the window's
 * length, slide or period differ from the saved ones), the panes with
 * nparts partitions: plain elements in contiguous slices, keyed entries in
 * the partition of their hash. Returns NULL or a message; a read error is
 * left in r->err. */
const char *rt_winstore_load(rt_ckr *r, rt_winstore *ws, const ds_type *elem, int64_t entry_size,
                             int32_t nparts);

/* ---- state_store.c: the keys and states a state operator keeps ---- */

/* The header of one entry of a state store; the key follows at
 * rt_state_store.key_off and the state at state_off. */
typedef struct rt_state_entry {
  uint64_t hash;          /* key->hash of the key: the stable hash checkpoints key by */
  int64_t time;           /* batch time of the key's last update; RT_STATE_FREE: a free slot */
  int64_t aux;            /* the operator's word (mapWithState: the key's timeout deadline);
                           * in a free slot, the next free slot or -1 */
  uint32_t key_bytes;     /* arena bytes the key's deep copy holds */
  uint32_t state_bytes;   /* arena bytes the state's deep copy holds */
} rt_state_entry;

#define RT_STATE_FREE INT64_MIN
enum { RT_STATE_PAGE = 1024 }; /* entries per page of a store */

/* One partition's K -> (S, last update time). Entries live in pages and are
 * numbered 0 .. nentries-1; a key keeps its number until it is removed or
 * the store is compacted (rt_state_store_compact), which keeps the order of
 * the live entries. Iterating the numbers in order is the store's stable
 * order (what a checkpoint writes; inserting the entries in that order into
 * an empty store gives the same order back). Keys and states are deep-copied
 * into the store's arena; the memory of removed keys and replaced states is
 * garbage until compaction copies the live entries into a fresh arena.
 * Pointers into the store (keys, states, their strings) stay valid until the
 * next rt_state_store_compact; an operator compacts only at the start of a
 * batch, so its outputs of the previous batch may point into the store. */
typedef struct rt_state_store {
  const ds_type *key, *state;
  int64_t key_off, state_off, entry_size; /* entry layout: header, key, state */
  char **pages;           /* npages pages of RT_STATE_PAGE entries */
  int64_t npages, cap_pages;
  int64_t nentries;       /* numbers handed out: live entries and free slots */
  int64_t nlive;          /* entries that hold a key */
  int64_t free_head;      /* the free slot to reuse first, or -1 */
  uint64_t *index;        /* linear probing: (entry + 1) << 32 | low half of the hash; 0 = empty */
  int64_t index_cap;      /* slots of index, a power of two (0 before the first key) */
  ds_arena arena;         /* deep copies of keys and states */
  int64_t live_bytes;     /* arena bytes live entries hold (the rest is garbage) */
  char *tmp;              /* entry_size bytes of scratch for compaction */
  int64_t min_garbage;    /* compact for garbage only past this many bytes (tests lower it) */
  int64_t min_holes;      /* compact for free slots only past this many (tests lower it) */
} rt_state_store;

void rt_state_store_init(rt_state_store *s, const ds_type *key, const ds_type *state);
void rt_state_store_free(rt_state_store *s);
/* Entry number i (0 <= i < nentries); its time is RT_STATE_FREE when free. */
static inline rt_state_entry *rt_state_at(const rt_state_store *s, int64_t i) {
  return (rt_state_entry *)(s->pages[i / RT_STATE_PAGE] + (i % RT_STATE_PAGE) * s->entry_size);
}
static inline void *rt_state_key(const rt_state_store *s, rt_state_entry *e) {
  return (char *)e + s->key_off;
}
static inline void *rt_state_val(const rt_state_store *s, rt_state_entry *e) {
  return (char *)e + s->state_off;
}
/* The number of the entry with this key, or -1. */
int64_t rt_state_find(const rt_state_store *s, uint64_t hash, const void *key);
/* Adds a key that is not in the store, with its state and time (both deep
 * copied); returns its number. aux starts at 0. */
int64_t rt_state_insert(rt_state_store *s, uint64_t hash, const void *key, const void *state,
                        int64_t time);
/* Replaces entry i's state with a deep copy of *state (nothing is copied
 * when the two are bytewise equal). */
void rt_state_set(rt_state_store *s, int64_t i, const void *state);
/* Removes entry i: its slot is free and its arena bytes are garbage. */
void rt_state_remove(rt_state_store *s, int64_t i);
/* Reclaims memory when garbage exceeds the live data (arena bytes of removed
 * keys and replaced states, or free slots); `force` compacts anyway. Live
 * entries keep their order but may change numbers: returns whether any did. */
bool rt_state_store_compact(rt_state_store *s, bool force);
/* Bytes the store holds from malloc (pages, index, arena), for tests and metrics. */
int64_t rt_state_store_bytes(const rt_state_store *s);
/* Seeds n stores (partitions by rt_partition_of) from an `initial:` list
 * of (K, S) pairs, struct { K; S; } in C layout, at `time`; a key listed
 * twice keeps its last state. */
void rt_state_seed(rt_state_store *stores, int32_t n, const ds_list *initial, int64_t time);
/* Checkpoints: writes the n per-partition stores of a state operator in
 * partition order, each in its stable order: every entry number, live ones
 * with their time, aux, key and state (rt_ckw_value), free ones with their
 * free-list link, and the store's arena garbage. */
void rt_state_stores_save(rt_ckw *w, const rt_state_store *stores, int32_t n);
/* Reads what rt_state_stores_save wrote into n empty, initialised stores.
 * With as many partitions as were saved each store is rebuilt exactly (the
 * same entry numbers, free slots and garbage, so it behaves as the saved one
 * would have); otherwise every live entry goes to the store of
 * rt_partition_of(key->hash(key), n), in saved order. Returns NULL or a
 * message; a read error is left in r->err. */
const char *rt_state_stores_load(rt_ckr *r, rt_state_store *stores, int32_t n);

/* ---- state_input.c: a state operator's new pairs, grouped by key ---- */

/* The new values of one key in one batch. */
typedef struct rt_state_group {
  uint64_t hash;          /* key->hash of the key */
  const void *key;        /* the key of its first pair (batch memory) */
  ds_list values;         /* its values (shallow copies), in arrival order */
} rt_state_group;

typedef struct rt_state_route rt_state_route; /* internal to state_input.c */

/* Routes a batch of pairs to the `nout` partitions that own their keys and
 * groups them per key. Arrival order is the input's partitions in order,
 * then their elements in order. */
typedef struct rt_state_input {
  const ds_type *key, *val;
  int64_t val_offset, pair_size; /* the input pairs */
  int32_t nout;
  const rt_stream *in;    /* the batch being routed */
  rt_state_route *routes; /* one per input partition, kept across batches */
  int32_t cap_routes;
} rt_state_input;

/* node's key/val/val_offset describe the pairs; pair_size is the input's elem->size. */
void rt_state_input_init(rt_state_input *si, const ds_node *node, int64_t pair_size, int32_t nout);
/* Hashes the batch's pairs and sorts each input partition's by output
 * partition, keeping their order (in parallel; memory from the batch arenas). */
void rt_state_input_route(rt_job *rj, rt_state_input *si, const rt_stream *in);
/* For task q after routing: partition q's keys in order of first arrival,
 * each with its values in arrival order; *ngroups of them, in ctx->arena. */
rt_state_group *rt_state_input_groups(ds_ctx *ctx, rt_state_input *si, int32_t q, int64_t *ngroups);
void rt_state_input_free(rt_state_input *si);

/* ---- state_timeouts.c: when mapWithState's keys are due ---- */

typedef struct rt_deadline {
  int64_t at;             /* a key's deadline: last update + timeout */
  int64_t entry;          /* its entry number in the partition's store */
} rt_deadline;

/* A min-heap of deadlines (ties by entry number). Stale items are allowed:
 * their owner recognises them (mapWithState: the entry's aux is not `at`). */
typedef struct rt_timeouts {
  rt_deadline *heap;
  int64_t n, cap;
} rt_timeouts;

void rt_timeouts_push(rt_timeouts *t, int64_t at, int64_t entry);
/* Pops the earliest deadline into *d if it is <= now. */
bool rt_timeouts_pop_due(rt_timeouts *t, int64_t now, rt_deadline *d);
/* Empties it; then rt_timeouts_add items in any order and rt_timeouts_heapify. */
void rt_timeouts_clear(rt_timeouts *t);
void rt_timeouts_add(rt_timeouts *t, int64_t at, int64_t entry);
void rt_timeouts_heapify(rt_timeouts *t);
void rt_timeouts_free(rt_timeouts *t);

/* ---- map_with_state.c: the stores stateSnapshots (and checkpoints) read ---- */

/* The per-partition stores of DS_MAP_WITH_STATE node `node` (*n of them). */
rt_state_store *rt_map_with_state_stores(rt_job *rj, int node, int32_t *n);

/* ---- update_state.c ---- */

/* The per-partition stores of DS_UPDATE_STATE_BY_KEY node `node` (*n of them). */
rt_state_store *rt_update_state_stores(rt_job *rj, int node, int32_t *n);

/* ---- ckpt_file.c: durable, checksummed checkpoint files ---- */

/* The file layer under checkpoints (format: docs/checkpoint-format.md).
 * Every function returns 0 or a negative error code: -errno for I/O
 * (-ENOSPC, -EFBIG, -EIO, ...), -EBADMSG for a damaged file (truncated,
 * checksum mismatch, bad trailer) or a read past the end of the payload,
 * -ENOTSUP for a file of another format version, -EINVAL for bad arguments.
 * Writer and reader errors are sticky and come with a message in w->msg /
 * r->msg naming the file and the cause. */

enum {
  RT_CKPT_VERSION = 1,    /* the format version written and read */
  RT_CKPT_TRAILER = 28,   /* bytes of the trailer after the payload */
  RT_CKPT_NAME_SIZE = 32, /* room for "ckpt-" + 19 digits + NUL */
  RT_CKPT_KEEP = 2,       /* committed checkpoints kept (§12) */
  RT_CKW_BUF = 256 * 1024, /* bytes a writer buffers before write(2) */
};

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of n bytes,
 * continuing from crc (0 to start): rt_crc32c(rt_crc32c(0, a), b) is the
 * CRC of a then b. rt_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t rt_crc32c(uint32_t crc, const void *data, size_t n);
/* The same without the SSE 4.2 instruction rt_crc32c uses where the CPU has
 * it (slicing-by-8 tables), for tests and other CPUs. */
uint32_t rt_crc32c_portable(uint32_t crc, const void *data, size_t n);

/* A checkpoint being written to dir/.NAME.tmp. Usage: rt_ckw_open, any
 * number of rt_ckw_* writes (their results may be ignored: the first error
 * sticks and rt_ckw_commit returns it), then rt_ckw_commit or rt_ckw_abort.
 * Both close the writer whatever happens; rt_ckw_abort is harmless on a
 * closed writer, and w->msg stays readable after either. */
typedef struct rt_ckw {
  int fd;             /* the temporary, open for writing; -1 when closed */
  int dirfd;          /* the directory (renameat, its fsync); -1 when closed */
  char *dir;          /* the directory's path, for messages */
  char name[250];     /* the final name */
  char tmp[256];      /* "." name ".tmp" */
  unsigned char *buf; /* bytes not yet written to fd */
  size_t used;        /* bytes in buf */
  uint64_t len;       /* payload bytes so far */
  uint32_t crc;       /* running CRC-32C of every byte so far */
  bool committed;     /* renamed: the temporary is gone */
  int err;            /* the first error, 0 while all went well */
  char msg[512];      /* what went wrong, when err != 0 */
} rt_ckw;

/* Creates (or truncates) dir/.NAME.tmp; name must not start with '.' nor
 * contain '/'. On failure nothing is left open or created. */
int rt_ckw_open(rt_ckw *w, const char *dir, const char *name);
/* Little-endian integers, whatever the machine: checkpoints and the journal. */
static inline void rt_le_put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static inline void rt_le_put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t rt_le_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rt_le_get64(const unsigned char *p) {
  return (uint64_t)rt_le_get32(p) | (uint64_t)rt_le_get32(p + 4) << 32;
}

/* The typed writes are inline: a value that fits in the buffer is copied
 * there (saving a million keys is a million small writes); the rest goes
 * through rt_ckw_put_slow, which flushes. Integers are little-endian. */
int rt_ckw_put_slow(rt_ckw *w, const void *data, size_t n);
static inline int rt_ckw_bytes(rt_ckw *w, const void *data, size_t n) {
  if (__builtin_expect(w->used + n <= RT_CKW_BUF && w->buf && !w->err && n, 1)) {
    memcpy(w->buf + w->used, data, n);
    w->used += n;
    w->len += n;
    return 0;
  }
  return rt_ckw_put_slow(w, data, n);
}
static inline int rt_ckw_u64(rt_ckw *w, uint64_t v) {
  unsigned char b[8];
  rt_le_put64(b, v);
  return rt_ckw_bytes(w, b, 8);
}
static inline int rt_ckw_u32(rt_ckw *w, uint32_t v) {
  unsigned char b[4];
  rt_le_put32(b, v);
  return rt_ckw_bytes(w, b, 4);
}
static inline int rt_ckw_u8(rt_ckw *w, uint8_t v) { return rt_ckw_bytes(w, &v, 1); }
static inline int rt_ckw_i64(rt_ckw *w, int64_t v) { return rt_ckw_u64(w, (uint64_t)v); }
static inline int rt_ckw_f64(rt_ckw *w, double v) { /* the IEEE-754 bits, NaNs included */
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  return rt_ckw_u64(w, bits);
}
int rt_ckw_str(rt_ckw *w, ds_str s); /* u64 length, then the bytes */
/* Writes out the buffer (no fsync): for tests that simulate a crash. */
int rt_ckw_flush(rt_ckw *w);
/* Appends the trailer, writes, fsyncs, renames to dir/NAME (replacing a file
 * of that name) and fsyncs dir. On an error before the rename the temporary
 * is removed and dir/NAME is as it was; a failing directory fsync (after the
 * rename) is reported too, with the new file complete under NAME. */
int rt_ckw_commit(rt_ckw *w);
/* Closes the writer and removes the temporary. */
void rt_ckw_abort(rt_ckw *w);

/* A verified checkpoint in memory (the whole file: memory = its size). */
typedef struct rt_ckr {
  unsigned char *data; /* the file; NULL when closed */
  uint64_t len;        /* payload bytes, data[0, len) */
  uint64_t pos;        /* next payload byte to read */
  uint32_t version;    /* the file's format version */
  bool borrowed;       /* a reader over part of another's memory: close frees nothing */
  int err;             /* the first error, 0 while all went well */
  char msg[512];       /* what went wrong, when err != 0 */
} rt_ckr;

/* Reads path and checks its trailer and checksum before anything can be
 * read; on failure r holds no memory (rt_ckr_close is still harmless). */
int rt_ckr_open(rt_ckr *r, const char *path);
/* Typed reads of what the rt_ckw_* calls wrote, in the same order. Past the
 * end of the payload they fail with -EBADMSG and leave *out unchanged. */
int rt_ckr_bytes(rt_ckr *r, void *out, size_t n);
int rt_ckr_u8(rt_ckr *r, uint8_t *out);
int rt_ckr_u32(rt_ckr *r, uint32_t *out);
/* Reads a node section's content version (u32) and compares it with want:
 * NULL when they match or the read failed (r->err says so), else a message
 * for the load to return, naming `who` (valid until the thread's next call). */
const char *rt_ckr_version(rt_ckr *r, uint32_t want, const char *who);
int rt_ckr_u64(rt_ckr *r, uint64_t *out);
int rt_ckr_i64(rt_ckr *r, int64_t *out);
int rt_ckr_f64(rt_ckr *r, double *out);
/* *out points into the reader's memory (borrowed until rt_ckr_close). */
int rt_ckr_str(rt_ckr *r, ds_str *out);
/* 0 when every payload byte was read, else -EBADMSG (or the sticky error). */
int rt_ckr_end(rt_ckr *r);
void rt_ckr_close(rt_ckr *r);

/* The name of the checkpoint of batch `index` (>= 0): "ckpt-" and 19
 * zero-padded digits. */
void rt_ckpt_name(char buf[RT_CKPT_NAME_SIZE], int64_t index);
/* The batch indexes of the committed checkpoints in dir (names exactly as
 * rt_ckpt_name makes them; temporaries and other names are ignored), newest
 * first, in a malloc'd array *indexes (free it; NULL when *n is 0). */
int rt_ckpt_list(const char *dir, int64_t **indexes, int64_t *n);
/* Removes all but the `keep` (>= 1) newest committed checkpoints. Call it
 * after rt_ckw_commit of a new one succeeded, with RT_CKPT_KEEP. */
int rt_ckpt_prune(const char *dir, int keep);
/* Removes the regular files named ".*.tmp" that a crash left in dir (at
 * start, before anything writes there); *removed (may be NULL) counts them. */
int rt_ckpt_clean_temporaries(const char *dir, int64_t *removed);
/* Opens the newest usable checkpoint of dir into r and sets *index. A
 * damaged one (-EBADMSG) is skipped with a warning on stderr, and once an
 * older one verifies, the damaged newer ones are renamed aside to
 * ".ckpt-N.damaged". Returns -ENOENT when dir has no checkpoint (or does not
 * exist): start from empty; -EBADMSG when checkpoints exist but none is
 * usable (§12: exit 2, never start from empty); another error (-ENOTSUP, an
 * I/O error) as soon as a checkpoint fails for a reason other than damage.
 * r->msg says why in every case. */
int rt_ckpt_open_latest(const char *dir, rt_ckr *r, int64_t *index);

/* ---- value_codec.c: any stored value through its ds_type shape ---- */

/* Writes the value at v of type t (its shape must not be DS_SHAPE_NONE):
 * scalars as rt_ckw_i64/f64/u8, strings as rt_ckw_str, a list as its length
 * (u64) then its elements, a struct its fields in order, an option its flag
 * (u8) then, when some, its value. Returns w's (sticky) error. */
int rt_ckw_value(rt_ckw *w, const ds_type *t, const void *v);
/* Reads what rt_ckw_value wrote into dst (t->size bytes, zeroed first);
 * strings and lists are allocated in `a` (so they outlive the reader).
 * Returns r's (sticky) error: -EBADMSG for malformed data (a bool not 0/1,
 * a list longer than what remains), never reading out of bounds. */
int rt_ckr_value(rt_ckr *r, const ds_type *t, void *dst, ds_arena *a);
/* Whether values of t can be checkpointed (every part has a shape). */
bool rt_type_has_shape(const ds_type *t);

/* ---- journal.c: the batch log (write-ahead log) of a checkpointed job ---- */

/* Sources that do not re-read deterministically (socket: the lines of each
 * batch; textFiles: the names of the files each batch took) record what a
 * batch took before the batch is processed; at a restart the batches after
 * the checkpoint are re-run from these records. */
typedef struct rt_journal rt_journal;
/* Appends node's record for batch b and makes it durable (fdatasync);
 * returns 0 or -errno (the job then stops with exit code 1). */
int rt_journal_put(rt_job *rj, int node, const rt_batch *b, const void *data, size_t len);
/* While the job re-runs batch b after a restart: the record node wrote for
 * it (borrowed until the end of the batch) and true; else false (the batch
 * is live: take new input). */
bool rt_journal_replay(rt_job *rj, int node, const rt_batch *b, const void **data, size_t *len);

/* The driver's side. rt_journal_open reads the journal of dir after the
 * checkpoint of batch ckpt_index (0: none), decides which batches to re-run
 * (rt_journal_replay_last: the last of them, ckpt_index if none), cuts off
 * the rest and opens a file for what follows; it sets rj->journal (also on
 * failure: rt_journal_close frees it) and returns 0 or -errno with msg. */
int rt_journal_open(rt_job *rj, const char *dir, int64_t ckpt_index, char *msg, size_t msgsz);
int64_t rt_journal_replay_last(const rt_journal *j);
/* The time a re-run batch had (INT64_MIN for an index not re-run). */
int64_t rt_journal_replay_time(const rt_journal *j, int64_t index);
/* Whether the outputs of batch `index` completed before the restart. */
bool rt_journal_printed(const rt_job *rj, int64_t index);
/* Records batch b before its sources run (nsources: how many source records
 * it will have) and after its outputs ran. 0 or -errno. */
int rt_journal_begin(rt_job *rj, const rt_batch *b, uint32_t nsources);
int rt_journal_done(rt_job *rj, const rt_batch *b);
/* After the checkpoint of batch ckpt_index committed: later batches go to a
 * new file, and the files covered by the oldest checkpoint kept are removed. */
int rt_journal_rotate(rt_job *rj, int64_t ckpt_index, int64_t oldest_kept);
/* Frees the records read at the start (after the last re-run batch). */
void rt_journal_end_replay(rt_job *rj);
void rt_journal_close(rt_job *rj);

/* ---- checkpoint.c: a checkpoint's content; writing and restoring ---- */

/* Where the job stands after a completed batch: what a checkpoint records
 * besides the nodes' sections. */
typedef struct rt_resume {
  int64_t index;      /* the batch, counted from the job's first start (0: none) */
  int64_t time;       /* its time */
  int64_t t0;         /* the batch grid's origin */
  bool input_done;    /* bounded job: every source was exhausted */
  int64_t stop_time;  /* bounded job: the time after which it stops (INT64_MAX: not known) */
} rt_resume;

/* Creates the checkpoint directory as needed and removes the temporaries a
 * crash left. 0 or -errno with msg (exit 2). */
int rt_checkpoint_prepare(rt_job *rj, char *msg, size_t msgsz);
/* Writes the checkpoint of batch p->index (the sections of every node
 * whose executor has save) and rotates the journal, between batches; then
 * a thread of its own fsyncs, renames and prunes to the last two while the
 * next batches run. Returns 0 or the error of the writing part; failures
 * are logged; the previous checkpoints stay as they were. */
int rt_checkpoint_write(rt_job *rj, const rt_exec **execs, const rt_resume *p);
/* Waits for the checkpoint being committed, if any: 0 or its error. */
int rt_checkpoint_wait(rt_job *rj);
/* A restart in two steps: rt_checkpoint_open reads the newest usable
 * checkpoint and fills *p (before the executors are initialised, so that
 * they see the restored batch grid): 0 opened (*out set), 1 none there
 * (start empty), < 0 refused or unusable, with msg (the job exits 2).
 * rt_checkpoint_apply then loads the nodes' sections into the initialised
 * executors (0, or < 0 with msg: exit 2). rt_checkpoint_close frees it. */
typedef struct rt_checkpoint rt_checkpoint;
int rt_checkpoint_open(rt_job *rj, rt_resume *p, rt_checkpoint **out, char *msg, size_t msgsz);
int rt_checkpoint_apply(rt_job *rj, const rt_exec **execs, rt_checkpoint *ck, char *msg, size_t msgsz);
void rt_checkpoint_close(rt_checkpoint *ck);

/* ---- log.c: messages on stderr ---- */

void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and exits with code 2 (bad usage or settings). */
_Noreturn void rt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and exits with code 1 (runtime failure). */
_Noreturn void rt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
