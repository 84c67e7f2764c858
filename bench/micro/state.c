/*
 * bench/micro/state.c — memory and batch time of the state operators
 * (updateStateByKey, mapWithState), driven directly through their rt_exec
 * as tests/unit/check_rt_state.c does, without dsc.
 *
 * usage: state {usk|mws} KEYS [VALUES_PER_BATCH] [BATCHES] [TIMEOUT_BATCHES]
 *   Loads KEYS distinct string keys ("user-%010d", 15 bytes) with an int
 *   state, 100k new keys per batch, then runs BATCHES batches of
 *   VALUES_PER_BATCH values on random existing keys, and prints the load
 *   time, the median and max steady batch time and the peak RSS. mapWithState
 *   runs with a timeout of TIMEOUT_BATCHES batches (default: longer than the
 *   run, so nothing expires but the deadlines are kept and checked).
 *   STATE_BENCH_LOAD=n in the environment loads n new keys per batch instead.
 *
 * build (from the repository root, after building ds_rt in build/):
 *   cc -O2 -std=gnu11 -Iruntime -Iruntime/include bench/micro/state.c \
 *      build/lib/libds_rt.a -luv -lpthread -lm -o /tmp/state_bench
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
  ds_str key;
  int64_t val;
} spair;

static void str_copy(void *dst, const void *src, ds_arena *a) {
  const ds_str *s = src;
  ds_str *d = dst;
  char *p = s->len ? ds_arena_alloc(a, (size_t)s->len) : NULL;
  if (s->len)
    memcpy(p, s->ptr, (size_t)s->len);
  d->ptr = p;
  d->len = s->len;
}
static uint64_t str_hash(const void *v) {
  const ds_str *s = v;
  return ds_hash_bytes(s->ptr, s->len, DS_HASH_SEED);
}
static bool str_eq(const void *a, const void *b) {
  return ds_str_eq(*(const ds_str *)a, *(const ds_str *)b);
}
static const ds_type t_str = {"string", 16, 8, str_copy, NULL, str_hash, str_eq, NULL};
static const ds_type t_int = {"int", 8, 8, NULL, NULL, NULL, NULL, NULL};
static const ds_type t_spair = {"(string, int)", 24, 8, NULL, NULL, NULL, NULL, NULL};

static bool upd_sum(ds_ctx *ctx, void *out, const ds_list *vs, const void *state) {
  (void)ctx;
  int64_t sum = state ? *(const int64_t *)state : 0;
  for (int64_t i = 0; i < vs->len; i++)
    sum += ((const int64_t *)vs->ptr)[i];
  *(int64_t *)out = sum;
  return true;
}
static void make_s(ds_ctx *ctx, void *out, const void *k, const void *s, const void *c) {
  (void)ctx;
  (void)c;
  spair *p = out;
  p->key = *(const ds_str *)k;
  p->val = *(const int64_t *)s;
}
/* mapWithState((k, v, s) => (some((s ?? 0) + v), some((k, v)))). */
static bool map_s(ds_ctx *ctx, const void *k, const void *v, void *state, bool *has, void *out) {
  (void)ctx;
  int64_t *s = state;
  *s = (*has ? *s : 0) + *(const int64_t *)v;
  *has = true;
  spair *p = out;
  p->key = *(const ds_str *)k;
  p->val = *s;
  return true;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: state {usk|mws} KEYS [VALUES_PER_BATCH] [BATCHES] [TIMEOUT_BATCHES]\n");
    return 2;
  }
  bool usk = strcmp(argv[1], "usk") == 0;
  int64_t keys = atoll(argv[2]);
  int64_t per_batch = argc > 3 ? atoll(argv[3]) : 10000;
  int nbatches = argc > 4 ? atoi(argv[4]) : 20;
  int64_t load = getenv("STATE_BENCH_LOAD") ? atoll(getenv("STATE_BENCH_LOAD")) : 100000;
  int64_t batch_ms = 1000, t0 = 0;
  int64_t load_batches = (keys + load - 1) / load;
  int64_t timeout_batches = argc > 5 ? atoll(argv[5]) : load_batches + nbatches + 10;

  ds_node nodes[2] = {0};
  nodes[0] = (ds_node){.kind = DS_SOURCE_BATCHES, .op = "batches", .elem = &t_spair};
  ds_node *n = &nodes[1];
  *n = (ds_node){.kind = usk ? DS_UPDATE_STATE_BY_KEY : DS_MAP_WITH_STATE, .op = argv[1],
                 .ninputs = 1, .inputs = {0}, .elem = &t_spair, .key = &t_str, .val = &t_int,
                 .val_offset = 16, .state = &t_int};
  if (usk) {
    n->update = upd_sum;
    n->make = make_s;
  } else {
    n->map_state = map_s;
    n->timeout_ms = timeout_batches * batch_ms;
  }
  ds_job job = {.abi_version = DS_ABI_VERSION, .program = "bench", .nodes = nodes, .nnodes = 2};
  rt_stream streams[2] = {0};
  void *state[2] = {0};
  int64_t site_errors[1] = {0};
  rt_job rj = {.job = &job, .streams = streams, .state = state, .t0 = t0, .site_errors = site_errors};
  rj.settings.batch_ms = batch_ms;
  rj.settings.partitions = 2;
  rj.settings.threads = 2;
  rj.pool = rt_pool_new(2, 0);
  const rt_exec *e = usk ? &rt_exec_update_state_by_key : &rt_exec_map_with_state;
  const char *msg = e->init(&rj, 1);
  if (msg) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }

  int64_t cap = load > per_batch ? load : per_batch;
  char *text = malloc((size_t)cap * 16);
  double load_ms = 0;
  double *times = malloc(sizeof(double) * (size_t)(nbatches > 0 ? nbatches : 1));
  uint64_t r = 88172645463325252ull;
  int64_t index = 0;
  for (int64_t b = 0; b < load_batches + nbatches; b++) {
    bool loading = b < load_batches;
    int64_t m = loading ? (keys - b * load < load ? keys - b * load : load) : per_batch;
    rt_stream *src = &streams[0];
    rt_stream_reset(src, 2);
    src->active = true;
    for (int64_t i = 0; i < m; i++) {
      int64_t k;
      if (loading) {
        k = b * load + i;
      } else {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        k = (int64_t)(r % (uint64_t)keys);
      }
      char *p = text + i * 16;
      snprintf(p, 16, "user-%010lld", (long long)k);
      spair *pair = ds_part_push(&src->parts[i * 2 / m], sizeof(spair));
      pair->key = (ds_str){p, 15};
      pair->val = 1;
    }
    index++;
    rt_batch batch = {.index = index, .time = t0 + index * batch_ms};
    rj.batch_time = batch.time;
    double start = now_ms();
    streams[1].active = true;
    e->run(&rj, 1, &batch);
    double took = now_ms() - start;
    rt_pool_reset_arenas(rj.pool);
    if (loading)
      load_ms += took;
    else
      times[b - load_batches] = took;
  }
  int32_t nstores;
  rt_state_store *stores = usk ? rt_update_state_stores(&rj, 1, &nstores)
                               : rt_map_with_state_stores(&rj, 1, &nstores);
  int64_t live = 0, store_bytes = 0;
  for (int32_t q = 0; q < nstores; q++) {
    live += stores[q].nlive;
    store_bytes += rt_state_store_bytes(&stores[q]);
  }
  qsort(times, (size_t)nbatches, sizeof *times, cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%s keys=%lld values/batch=%lld: load %.0f ms (%lld batches), steady batch median %.2f ms "
         "max %.2f ms, %lld keys in state, store %.1f MB, peak RSS %.1f MB\n",
         argv[1], (long long)keys, (long long)per_batch, load_ms, (long long)load_batches,
         nbatches ? times[nbatches / 2] : 0.0, nbatches ? times[nbatches - 1] : 0.0, (long long)live,
         store_bytes / 1048576.0, ru.ru_maxrss / 1024.0);
  e->free(&rj, 1);
  for (int i = 0; i < 2; i++)
    rt_stream_free(&streams[i]);
  rt_pool_free(rj.pool);
  free(text);
  free(times);
  return 0;
}
