/*
 * pool.c — the worker pool that runs the per-partition tasks of a batch.
 *
 * rt_pool_new starts threads - 1 pthreads once; the thread that calls
 * rt_parallel is worker 0 and works too, so `threads` tasks run at once and
 * a pool of one thread runs everything inline. A parallel section publishes
 * (task, arg, n) under the mutex and bumps a generation number; each worker
 * then takes the next task index from an atomic counter until all n are
 * taken, and the last worker to finish wakes the caller. Tasks therefore
 * may run in any order on any worker: a task must only write to data of its
 * own index.
 *
 * Every worker owns a ds_arena (its batch arena, reset by
 * rt_pool_reset_arenas at the end of the batch) and an array of per-site
 * error counters; a task gets a ds_ctx on the stack that points at them, so
 * running a task allocates nothing. After the section the caller adds the
 * workers' counters into rj->site_errors and zeroes them.
 */
#include "rt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct rt_worker {
  rt_pool *pool;          /* the pool it belongs to */
  int index;              /* 0 is the calling thread */
  pthread_t thread;       /* valid for index > 0 */
  ds_arena arena;         /* batch arena of the tasks it runs */
  int64_t *site_errors;   /* pool->nsites counters, merged after each section */
} rt_worker;

struct rt_pool {
  int nworkers;           /* workers[0] is the caller's slot */
  int nsites;             /* length of each worker's site_errors */
  rt_worker *workers;
  pthread_mutex_t mu;     /* guards generation, stopping, running and the section */
  pthread_cond_t work_cv; /* a new section (or stopping) */
  pthread_cond_t done_cv; /* running fell to 0 */
  uint64_t generation;    /* bumped for every section */
  bool stopping;          /* rt_pool_free was called */
  int running;            /* pthreads still working on the current section */
  bool busy;              /* a section is running (no nesting) */
  /* The current section, written under mu before generation is bumped. */
  rt_job *rj;
  rt_task_fn task;
  void *arg;
  int n;
  atomic_int next;        /* next task index to hand out */
};

/* Takes and runs tasks of the current section until none is left. */
static void run_tasks(rt_pool *p, rt_worker *w, rt_job *rj, rt_task_fn task, void *arg, int n) {
  for (;;) {
    int i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
    if (i >= n)
      return;
    ds_ctx ctx = {
        .arena = &w->arena,
        .batch_time = rj->batch_time,
        .err = DS_ERR_NONE,
        .err_site = 0,
        .site_errors = w->site_errors,
        .records_in = 0,
        .runtime = w,
    };
    task(rj, i, arg, &ctx);
  }
}

static void *worker_main(void *opaque) {
  rt_worker *w = opaque;
  rt_pool *p = w->pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->generation == seen && !p->stopping)
      pthread_cond_wait(&p->work_cv, &p->mu);
    if (p->stopping)
      break;
    seen = p->generation;
    rt_job *rj = p->rj;
    rt_task_fn task = p->task;
    void *arg = p->arg;
    int n = p->n;
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, w, rj, task, arg, n);
    pthread_mutex_lock(&p->mu);
    if (--p->running == 0)
      pthread_cond_signal(&p->done_cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

rt_pool *rt_pool_new(int threads, int nsites) {
  if (threads < 1)
    threads = 1;
  if (nsites < 0)
    nsites = 0;
  rt_pool *p = calloc(1, sizeof *p);
  if (!p)
    rt_fatal("out of memory (worker pool)");
  p->nworkers = threads;
  p->nsites = nsites;
  p->workers = calloc((size_t)threads, sizeof *p->workers);
  if (!p->workers)
    rt_fatal("out of memory (worker pool)");
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  atomic_init(&p->next, 0);
  for (int i = 0; i < threads; i++) {
    rt_worker *w = &p->workers[i];
    w->pool = p;
    w->index = i;
    ds_arena_init(&w->arena, NULL, NULL);
    w->site_errors = calloc((size_t)(nsites ? nsites : 1), sizeof *w->site_errors);
    if (!w->site_errors)
      rt_fatal("out of memory (worker pool)");
  }
  for (int i = 1; i < threads; i++) {
    int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
    if (rc != 0)
      rt_fatal("cannot start worker thread %d of %d: %s", i, threads, strerror(rc));
  }
  return p;
}

/* Adds the workers' error counters into the job's and zeroes them. */
static void merge_site_errors(rt_pool *p, rt_job *rj) {
  for (int i = 0; i < p->nworkers; i++) {
    int64_t *c = p->workers[i].site_errors;
    for (int s = 0; s < p->nsites; s++) {
      if (c[s]) {
        if (rj->site_errors)
          rj->site_errors[s] += c[s];
        c[s] = 0;
      }
    }
  }
}

void rt_parallel(rt_job *rj, int n, rt_task_fn task, void *arg) {
  rt_pool *p = rj->pool;
  if (n <= 0)
    return;
  if (p->busy)
    rt_fatal("internal error: nested rt_parallel");
  p->busy = true;
  atomic_store_explicit(&p->next, 0, memory_order_relaxed);
  int helpers = p->nworkers - 1;
  if (helpers > 0 && n > 1) {
    pthread_mutex_lock(&p->mu);
    p->rj = rj;
    p->task = task;
    p->arg = arg;
    p->n = n;
    p->running = helpers;
    p->generation++;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, &p->workers[0], rj, task, arg, n);
    pthread_mutex_lock(&p->mu);
    while (p->running > 0)
      pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
  } else {
    run_tasks(p, &p->workers[0], rj, task, arg, n);
  }
  merge_site_errors(p, rj);
  p->busy = false;
}

void rt_pool_reset_arenas(rt_pool *p) {
  for (int i = 0; i < p->nworkers; i++)
    ds_arena_reset(&p->workers[i].arena);
}

int rt_pool_threads(const rt_pool *p) { return p->nworkers; }

int rt_task_worker(const ds_ctx *ctx) { return ((const rt_worker *)ctx->runtime)->index; }

void rt_pool_free(rt_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->nworkers; i++)
    pthread_join(p->workers[i].thread, NULL);
  for (int i = 0; i < p->nworkers; i++) {
    ds_arena_destroy(&p->workers[i].arena);
    free(p->workers[i].site_errors);
  }
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  pthread_mutex_destroy(&p->mu);
  free(p->workers);
  free(p);
}
