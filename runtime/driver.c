/*
 * driver.c — ds_main: the job's command line (§12) and the batch loop.
 *
 * ds_main reads the settings (the program's `set`s, then --set and
 * --checkpoint), evaluates the job's arguments (ds_job.init), creates the
 * worker pool and one rt_stream per node, initialises every node's
 * executor, then runs batches until a stop condition holds:
 *
 *   - the clock: virtual when every source is bounded (batch i has time
 *     T0 + i x batch, T0 = --start-time or 0, batches back to back), wall
 *     clock otherwise (T0 = the start time rounded down to the batch grid,
 *     whose origin --start-time may move; each batch waits for its time; a
 *     batch that starts late keeps its grid time and reports the lateness
 *     as scheduling delay);
 *   - per batch: every node in order decides whether it has a batch now
 *     (sources always; others through their executor's `active`, else "all
 *     inputs active") and runs if so; then record errors are logged, the
 *     status line and metrics written, the batch arenas reset;
 *   - stopping: after batch N with --batches N; for a bounded job without
 *     it, after its last input batch t, or after the last window time T
 *     with T - w < t when it has windows; on SIGINT/SIGTERM after the batch
 *     in progress (a second signal exits at once).
 *
 * Exit codes: 0 done, 1 runtime failure (ds_job.init failed, onError =
 * "fail" saw a record error), 2 bad usage or settings. What holds: the
 * executors' state and the streams are freed on every return path after
 * they were created, so sanitizer builds see no leaks.
 */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef DS_RT_VERSION
#define DS_RT_VERSION "0.1.0"
#endif

enum { MAX_LOGGED_SITES = 5 }; /* record-error lines per batch */

/* Signals: the handler counts them and wakes the clock wait through a
 * self-pipe; the second one ends the process at once. */
static volatile sig_atomic_t signals_seen;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  (void)sig;
  if (++signals_seen >= 2)
    _exit(1);
  int saved = errno;
  if (wake_pipe[1] >= 0) {
    ssize_t r = write(wake_pipe[1], "", 1);
    (void)r;
  }
  errno = saved;
}

static int install_signals(void) {
  if (pipe(wake_pipe) < 0)
    return -errno;
  for (int i = 0; i < 2; i++) {
    fcntl(wake_pipe[i], F_SETFL, fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return 0;
}

static void remove_signals(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  for (int i = 0; i < 2; i++) {
    if (wake_pipe[i] >= 0)
      close(wake_pipe[i]);
    wake_pipe[i] = -1;
  }
}

static int64_t now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until the wall clock reaches t (ms) or a signal arrives. */
static void wait_until(int64_t t) {
  while (!signals_seen) {
    int64_t left = t - now_ms(CLOCK_REALTIME);
    if (left <= 0)
      return;
    struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};
    poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
  }
}

/* ---- the command line ---- */

typedef struct options {
  const char *argv0;
  int64_t batches;      /* -1: not given */
  bool start_time_given;
  int64_t start_time;
  const char *metrics;  /* NULL: none */
  bool quiet;
} options;

static void usage(FILE *f, const char *argv0) {
  fprintf(f,
          "usage: %s [--set NAME=VALUE]... [--batches N] [--start-time MS] [--checkpoint DIR]\n"
          "          [--metrics FILE] [--quiet] [--help] [--version]\n"
          "\n"
          "  --set NAME=VALUE   override a setting (batch, partitions, threads, checkpoint, ...)\n"
          "  --batches N        stop after batch N\n"
          "  --start-time MS    bounded jobs: the time of batch 0 in ms since the epoch\n"
          "                     (default 0); others: a time on the batch grid\n"
          "  --checkpoint DIR   the checkpoint directory (the setting `checkpoint`)\n"
          "  --metrics FILE     append one JSON object per batch to FILE\n"
          "  --quiet            no status line on stderr\n"
          "  --help, --version  print this text or the version, and exit\n",
          argv0);
}

static bool parse_i64(const char *s, int64_t *out) {
  if (!*s)
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

/* Returns -1 to go on, or the exit code to return at once. */
static int parse_args(int argc, char **argv, ds_job *job, rt_settings *s, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *value = NULL;
    char name[32];
    if (strncmp(arg, "--", 2) != 0) {
      fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n", o->argv0, arg, o->argv0);
      return 2;
    }
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(name, sizeof name, "%.*s", (int)(nlen < 31 ? nlen : 31), arg);
    bool takes_value = !strcmp(name, "--set") || !strcmp(name, "--batches") ||
                       !strcmp(name, "--start-time") || !strcmp(name, "--checkpoint") ||
                       !strcmp(name, "--metrics");
    bool is_flag = !strcmp(name, "--quiet") || !strcmp(name, "--help") || !strcmp(name, "--version");
    if ((!takes_value && !is_flag) || nlen >= 31) {
      fprintf(stderr, "%s: unknown option '%s'\nTry '%s --help'.\n", o->argv0, arg, o->argv0);
      return 2;
    }
    if (takes_value) {
      if (eq)
        value = eq + 1;
      else if (i + 1 < argc)
        value = argv[++i];
      else {
        fprintf(stderr, "%s: option '%s' needs a value\n", o->argv0, name);
        return 2;
      }
    } else if (eq) {
      fprintf(stderr, "%s: option '%s' takes no value\n", o->argv0, name);
      return 2;
    }

    if (!strcmp(name, "--help")) {
      usage(stdout, o->argv0);
      return 0;
    } else if (!strcmp(name, "--version")) {
      printf("%s (dstream job runtime %s, ABI %d)\n", job->program ? job->program : o->argv0,
             DS_RT_VERSION, DS_ABI_VERSION);
      return 0;
    } else if (!strcmp(name, "--quiet")) {
      o->quiet = true;
    } else if (!strcmp(name, "--set")) {
      const char *msg = rt_settings_apply(s, value);
      if (msg) {
        fprintf(stderr, "%s: --set %s: %s\n", o->argv0, value, msg);
        return 2;
      }
    } else if (!strcmp(name, "--checkpoint")) {
      if (!*value) {
        fprintf(stderr, "%s: --checkpoint needs a directory\n", o->argv0);
        return 2;
      }
      char buf[4096];
      snprintf(buf, sizeof buf, "checkpoint=%s", value);
      const char *msg = rt_settings_apply(s, buf);
      if (msg) {
        fprintf(stderr, "%s: --checkpoint: %s\n", o->argv0, msg);
        return 2;
      }
    } else if (!strcmp(name, "--batches")) {
      if (!parse_i64(value, &o->batches) || o->batches < 0) {
        fprintf(stderr, "%s: --batches takes a number of batches, not '%s'\n", o->argv0, value);
        return 2;
      }
    } else if (!strcmp(name, "--start-time")) {
      if (!parse_i64(value, &o->start_time)) {
        fprintf(stderr, "%s: --start-time takes milliseconds since the epoch, not '%s'\n",
                o->argv0, value);
        return 2;
      }
      o->start_time_given = true;
    } else if (!strcmp(name, "--metrics")) {
      o->metrics = value;
    }
  }
  return -1;
}

/* ---- pieces of the run ---- */

static bool is_bounded_source(ds_node_kind k) {
  return k == DS_SOURCE_TEXTFILE || k == DS_SOURCE_BATCHES;
}

static bool is_window(ds_node_kind k) {
  return k == DS_WINDOW || k == DS_REDUCE_BY_WINDOW || k == DS_REDUCE_BY_KEY_AND_WINDOW;
}

static const char *err_name(int32_t err) {
  switch (err) {
  case DS_ERR_DIV_ZERO: return "division by zero";
  case DS_ERR_INDEX: return "list index out of range";
  case DS_ERR_UNWRAP_NONE: return "'!' on none";
  case DS_ERR_BAD_ARG: return "argument out of range";
  case DS_ERR_NO_MEMORY: return "out of memory";
  default: return "error";
  }
}

/* Splits "file.ds:3:14: what" at its first ": " into location and text. */
static void split_site(const char *site, int *loc_len, const char **what) {
  const char *sep = strstr(site, ": ");
  if (sep) {
    *loc_len = (int)(sep - site);
    *what = sep + 2;
  } else {
    *loc_len = (int)strlen(site);
    *what = NULL;
  }
}

/* Logs this batch's record errors (the first few sites) and returns the total. */
static int64_t report_record_errors(rt_job *rj, const rt_batch *b) {
  const ds_job *job = rj->job;
  int64_t total = rj->source_errors;
  int logged = 0, unlogged = 0;
  for (int32_t i = 0; i < job->nsites; i++) {
    int64_t n = rj->site_errors[i];
    if (!n)
      continue;
    total += n;
    if (logged++ >= MAX_LOGGED_SITES) {
      unlogged++;
      continue;
    }
    int loc_len;
    const char *what;
    const char *site = job->sites && job->sites[i] ? job->sites[i] : "?";
    split_site(site, &loc_len, &what);
    fprintf(stderr, "%.*s: record error: %s (dropped %" PRId64 " record%s in batch %" PRId64 ")\n",
            loc_len, site, what ? what : "error", n, n == 1 ? "" : "s", b->time);
  }
  if (unlogged)
    fprintf(stderr, "%s: record errors at %d more place%s in batch %" PRId64 "\n",
            job->program ? job->program : "job", unlogged, unlogged == 1 ? "" : "s", b->time);
  memset(rj->site_errors, 0, sizeof(int64_t) * (size_t)(job->nsites ? job->nsites : 1));
  rj->source_errors = 0;
  return total;
}

/* The time after which a bounded job whose last input batch had time t
 * stops: t, or the last time a windowed stream emits a window holding t. */
static int64_t stop_time_after(const rt_job *rj, int64_t t) {
  int64_t stop = t;
  for (int32_t i = 0; i < rj->job->nnodes; i++) {
    const ds_node *n = &rj->job->nodes[i];
    if (!is_window(n->kind) || n->window_ms <= 0)
      continue;
    int64_t slide = n->slide_ms > 0 ? n->slide_ms : rt_period_ms(rj, n->inputs[0]);
    if (slide <= 0)
      continue;
    /* The largest T = T0 + k * slide with T - w < t, i.e. T <= t + w - 1. */
    int64_t span = t + n->window_ms - 1 - rj->t0;
    if (span < 0)
      continue;
    int64_t last = rj->t0 + span / slide * slide;
    if (last > stop)
      stop = last;
  }
  return stop;
}

static void free_streams(rt_job *rj) {
  if (!rj->streams)
    return;
  for (int32_t i = 0; i < rj->job->nnodes; i++)
    rt_stream_free(&rj->streams[i]);
  free(rj->streams);
  rj->streams = NULL;
}

/* ---- ds_main ---- */

int ds_main(int argc, char **argv, ds_job *job) {
  options o = {.argv0 = argc > 0 && argv[0] ? argv[0] : "job", .batches = -1};
  rt_job rj = {.job = job, .out = stdout};
  const char *where = job->program ? job->program : o.argv0;
  int code = 2, ninit = 0;
  FILE *metrics = NULL;
  ds_arena init_arena;
  const rt_exec **execs = NULL;

  ds_arena_init(&init_arena, NULL, NULL);
  rt_settings_defaults(&rj.settings);
  if (job->abi_version != DS_ABI_VERSION) {
    fprintf(stderr, "%s: job built for runtime ABI %d, this runtime has ABI %d\n", where,
            job->abi_version, DS_ABI_VERSION);
    goto done_settings;
  }
  for (int32_t i = 0; i < job->nsettings; i++) {
    const char *msg = rt_settings_apply(&rj.settings, job->settings[i]);
    if (msg) {
      fprintf(stderr, "%s: set %s: %s\n", where, job->settings[i], msg);
      goto done_settings;
    }
  }
  code = parse_args(argc, argv, job, &rj.settings, &o);
  if (code >= 0)
    goto done_settings;
  code = 2;
  const char *msg = rt_settings_check(&rj.settings);
  if (msg) {
    fprintf(stderr, "%s: %s\n", where, msg);
    goto done_settings;
  }
  /* The job's arguments (top-level lets, operator arguments). */
  rj.site_errors = calloc((size_t)(job->nsites > 0 ? job->nsites : 1), sizeof(int64_t));
  if (!rj.site_errors) {
    code = 1;
    goto done_settings;
  }
  if (job->init) {
    ds_ctx ctx = {.arena = &init_arena, .batch_time = 0, .site_errors = rj.site_errors};
    if (!job->init(&ctx, job->nodes)) {
      if (ctx.err_site >= 0 && ctx.err_site < job->nsites && job->sites && job->sites[ctx.err_site]) {
        int loc_len;
        const char *what, *site = job->sites[ctx.err_site];
        split_site(site, &loc_len, &what);
        fprintf(stderr, "%.*s: error: %s\n", loc_len, site, what ? what : err_name(ctx.err));
      } else {
        fprintf(stderr, "%s: error: %s while computing the job's arguments\n", where, err_name(ctx.err));
      }
      code = 1;
      goto done_site_errors;
    }
    memset(rj.site_errors, 0, sizeof(int64_t) * (size_t)(job->nsites > 0 ? job->nsites : 1));
  }

  /* Clock and boundedness. */
  bool bounded = true;
  for (int32_t i = 0; i < job->nnodes; i++)
    if (rt_is_source(job->nodes[i].kind) && !is_bounded_source(job->nodes[i].kind))
      bounded = false;
  int64_t batch_ms = rj.settings.batch_ms;
  if (bounded) {
    rj.t0 = o.start_time_given ? o.start_time : 0;
  } else {
    /* The grid is anchored at multiples of the batch, or at --start-time;
     * T0 is the last grid time not after now. */
    int64_t now = now_ms(CLOCK_REALTIME), anchor = o.start_time_given ? o.start_time : 0;
    int64_t r = (now - anchor) % batch_ms;
    rj.t0 = now - (r < 0 ? r + batch_ms : r);
  }

  /* A restart: the newest usable checkpoint and the journal of the batches
   * after it (re-run first, from their records). Both are read before the
   * executors start, so that they see the restored batch grid; the nodes'
   * sections are loaded into them afterwards. */
  rt_resume resume = {.t0 = rj.t0, .stop_time = INT64_MAX};
  rt_checkpoint *ck = NULL;
  bool restored = false;
  int64_t restore_started = now_ms(CLOCK_MONOTONIC);
  if (rj.settings.checkpoint) {
    char cmsg[1400];
    int rc = rt_checkpoint_prepare(&rj, cmsg, sizeof cmsg);
    if (rc == 0)
      rc = rt_checkpoint_open(&rj, &resume, &ck, cmsg, sizeof cmsg);
    if (rc == 0)
      restored = true;
    if (rc >= 0 && (rc = rt_journal_open(&rj, rj.settings.checkpoint, resume.index, cmsg, sizeof cmsg)) < 0)
      rc = -1;
    if (rc < 0) {
      fprintf(stderr, "%s: error: %s\n", where, cmsg);
      rt_checkpoint_close(ck);
      rt_journal_close(&rj);
      goto done_site_errors;
    }
    if (restored)
      rj.t0 = resume.t0;
    else if (rt_journal_replay_last(rj.journal) > 0) /* killed before its first checkpoint */
      rj.t0 = resume.t0 = rt_journal_replay_time(rj.journal, 1) - batch_ms;
  }

  /* Streams, pool and executors. */
  rj.streams = calloc((size_t)(job->nnodes > 0 ? job->nnodes : 1), sizeof(rt_stream));
  rj.state = calloc((size_t)(job->nnodes > 0 ? job->nnodes : 1), sizeof(void *));
  execs = calloc((size_t)(job->nnodes > 0 ? job->nnodes : 1), sizeof(*execs));
  if (!rj.streams || !rj.state || !execs) {
    code = 1;
    goto done_streams;
  }
  rj.pool = rt_pool_new((int)rj.settings.threads, job->nsites);
  if (!rj.pool) {
    fprintf(stderr, "%s: cannot start %" PRId64 " worker threads\n", where, rj.settings.threads);
    code = 1;
    goto done_streams;
  }
  for (; ninit < job->nnodes; ninit++) {
    const ds_node *n = &job->nodes[ninit];
    execs[ninit] = rt_exec_for(n->kind);
    if (!execs[ninit] || !execs[ninit]->run) {
      fprintf(stderr, "%s: error: operator '%s' is not supported by this runtime\n",
              n->loc ? n->loc : where, n->op ? n->op : "?");
      goto done_execs;
    }
    const char *m = execs[ninit]->init ? execs[ninit]->init(&rj, ninit) : NULL;
    if (m) {
      fprintf(stderr, "%s: error: %s\n", n->loc ? n->loc : where, m);
      ninit++; /* its state may be half made: let its free run */
      goto done_execs;
    }
  }

  if (ck) {
    char cmsg[1400];
    int rc = rt_checkpoint_apply(&rj, execs, ck, cmsg, sizeof cmsg);
    rt_checkpoint_close(ck);
    ck = NULL;
    if (rc < 0) {
      fprintf(stderr, "%s: error: %s\n", where, cmsg);
      goto done_execs;
    }
    rt_log("%s: restored from checkpoint %s: batch %" PRId64 " (time %" PRId64 " ms), in %" PRId64 " ms",
           where, rj.settings.checkpoint, resume.index, resume.time,
           now_ms(CLOCK_MONOTONIC) - restore_started);
  }
  if (rj.journal && rt_journal_replay_last(rj.journal) > resume.index)
    rt_log("%s: re-running batches %" PRId64 " to %" PRId64 " from the journal", where,
           rt_journal_replay_time(rj.journal, resume.index + 1),
           rt_journal_replay_time(rj.journal, rt_journal_replay_last(rj.journal)));

  if (o.metrics) {
    metrics = fopen(o.metrics, "a");
    if (!metrics) {
      fprintf(stderr, "%s: cannot open metrics file '%s': %s\n", where, o.metrics, strerror(errno));
      goto done_execs;
    }
  }
  if (install_signals() < 0) {
    fprintf(stderr, "%s: cannot set up signal handling: %s\n", where, strerror(errno));
    code = 1;
    goto done_metrics;
  }
  bool status = !o.quiet && isatty(STDERR_FILENO);

  /* The batch loop. */
  code = 0;
  uint32_t nlogged = 0; /* sources that journal each batch */
  for (int32_t i = 0; i < job->nnodes; i++)
    nlogged += job->nodes[i].kind == DS_SOURCE_SOCKET || job->nodes[i].kind == DS_SOURCE_TEXTFILES;
  int64_t replay_last = rj.journal ? rt_journal_replay_last(rj.journal) : 0;
  bool restarted = restored || replay_last > resume.index;
  bool recovered = restarted; /* the next batch is the first after a restart */
  bool input_done = resume.input_done, ran_any = false;
  int64_t stop_time = resume.stop_time;
  int64_t last_time = resume.index > 0 ? resume.time : rj.t0;
  int64_t last_ckpt_time = last_time, last_ckpt_index = resume.index;
  bool last_ckpt_failed = false; /* the last checkpoint tried could not be written */
  int64_t index = resume.index, done_index = resume.index;
  while (!signals_seen) {
    index++;
    bool replaying = index <= replay_last;
    rt_batch b = {.index = index};
    if (replaying) {
      b.time = rt_journal_replay_time(rj.journal, index);
    } else if (bounded) {
      b.time = rj.t0 + index * batch_ms;
    } else {
      b.time = last_time + batch_ms;
      if (restarted && index == replay_last + 1) {
        /* After a restart the grid goes on at its next time; the grid
         * times the job was down get no batch. */
        int64_t now = now_ms(CLOCK_REALTIME), k = (now - rj.t0) / batch_ms + 1;
        if (rj.t0 + k * batch_ms > b.time)
          b.time = rj.t0 + k * batch_ms;
      }
    }
    if (bounded && !input_done) {
      /* Recorded even when --batches decides, so that a checkpoint knows. */
      bool all = true;
      for (int32_t i = 0; i < job->nnodes && all; i++)
        if (rt_is_source(job->nodes[i].kind))
          all = execs[i]->exhausted && execs[i]->exhausted(&rj, i);
      if (all) {
        input_done = true;
        stop_time = stop_time_after(&rj, index > 1 ? last_time : rj.t0);
      }
    }
    if (o.batches >= 0) {
      if (index > o.batches)
        break;
    } else if (bounded && b.time > stop_time) {
      break;
    }
    int64_t delay = 0;
    if (!bounded && !replaying) {
      wait_until(b.time);
      if (signals_seen)
        break;
      delay = now_ms(CLOCK_REALTIME) - b.time;
      if (delay < 0)
        delay = 0;
    }
    int64_t started = now_ms(CLOCK_MONOTONIC);
    if (rj.journal && !replaying && rt_journal_begin(&rj, &b, nlogged) < 0)
      rt_fatal("%s: cannot write the journal in %s: %s", where, rj.settings.checkpoint, strerror(errno));

    rj.records_out = 0;
    rj.batch_time = b.time; /* batchTime() in every task of this batch */
    int64_t records_in = 0;
    for (int32_t i = 0; i < job->nnodes; i++) {
      const ds_node *n = &job->nodes[i];
      bool active;
      if (rt_is_source(n->kind)) {
        active = true;
      } else if (execs[i]->active) {
        active = execs[i]->active(&rj, i, &b);
      } else {
        active = true;
        for (int32_t k = 0; k < n->ninputs; k++)
          active = active && rj.streams[n->inputs[k]].active;
      }
      rj.streams[i].active = active;
      if (!active)
        continue;
      execs[i]->run(&rj, i, &b);
      if (rt_is_source(n->kind))
        records_in += rt_stream_count(&rj.streams[i]);
    }
    fflush(rj.out);
    if (rj.journal && rt_journal_done(&rj, &b) < 0)
      rt_log("%s: cannot write the journal in %s: %s", where, rj.settings.checkpoint, strerror(errno));
    ran_any = true;
    last_time = b.time;
    done_index = index;

    int64_t errors = report_record_errors(&rj, &b);
    int64_t processing = now_ms(CLOCK_MONOTONIC) - started;
    if (status)
      fprintf(stderr,
              "batch %" PRId64 " ms: %" PRId64 " in, %" PRId64 " out, %" PRId64
              " ms processing, %" PRId64 " ms scheduling delay, %" PRId64 " record errors%s\n",
              b.time, records_in, rj.records_out, processing, delay, errors,
              replaying ? " (re-run from the journal)" : "");
    bool was_recovered = recovered;
    recovered = false;
    rt_pool_reset_arenas(rj.pool);
    if (replaying && index == replay_last)
      rt_journal_end_replay(&rj);
    int64_t checkpoint_ms = -1;
    if (rj.settings.checkpoint && !(errors && rj.settings.on_error_fail) &&
        b.time - last_ckpt_time >= rj.settings.checkpoint_interval_ms) {
      int64_t ck_started = now_ms(CLOCK_MONOTONIC);
      rt_resume now = {.index = index, .time = b.time, .t0 = rj.t0, .input_done = input_done, .stop_time = stop_time};
      /* A failed checkpoint is tried again at the next interval, not at
       * every batch (the previous ones are intact). */
      last_ckpt_failed = rt_checkpoint_write(&rj, execs, &now) < 0;
      last_ckpt_time = b.time;
      last_ckpt_index = index;
      checkpoint_ms = now_ms(CLOCK_MONOTONIC) - ck_started;
    }
    bool fail = errors && rj.settings.on_error_fail;
    if (fail) {
      fprintf(stderr, "%s: stopping after batch %" PRId64 ": record errors and onError = \"fail\"\n",
              where, b.time);
      code = 1;
    }
    /* Metrics last: they include the checkpoint written after the batch. */
    if (metrics) {
      fprintf(metrics,
              "{\"batch\": %" PRId64 ", \"records_in\": %" PRId64 ", \"records_out\": %" PRId64
              ", \"processing_ms\": %" PRId64 ", \"scheduling_delay_ms\": %" PRId64
              ", \"record_errors\": %" PRId64 ", \"recovered\": %s",
              b.time, records_in, rj.records_out, processing, delay, errors, was_recovered ? "true" : "false");
      if (checkpoint_ms >= 0) /* a checkpoint was written after this batch */
        fprintf(metrics, ", \"checkpoint_ms\": %" PRId64, checkpoint_ms);
      fputs("}\n", metrics);
      fflush(metrics);
    }
    if (fail)
      break;
  }
  /* A graceful stop (signal, --batches, the end of a bounded job, onError =
   * "fail") writes a checkpoint of the last completed batch. */
  if (rj.settings.checkpoint && ran_any && done_index != last_ckpt_index) {
    rt_resume now = {.index = done_index, .time = last_time, .t0 = rj.t0, .input_done = input_done, .stop_time = stop_time};
    last_ckpt_failed = rt_checkpoint_write(&rj, execs, &now) < 0;
  }
  if (rt_checkpoint_wait(&rj) < 0) /* the last checkpoint's commit */
    last_ckpt_failed = true;
  if (rj.settings.checkpoint && ran_any && last_ckpt_failed) {
    if (code == 0) {
      /* The stop promised a checkpoint of the last batch and could not
       * write it: a restart resumes from the previous one. */
      fprintf(stderr, "%s: error: the final checkpoint could not be written; a restart resumes from the previous one\n", where);
      code = 1;
    }
  }
  remove_signals();
done_metrics:
  if (metrics)
    fclose(metrics);
done_execs:
  rt_checkpoint_wait(&rj);
  rt_checkpoint_close(ck);
  rt_journal_close(&rj);
  while (ninit-- > 0)
    if (execs[ninit] && execs[ninit]->free)
      execs[ninit]->free(&rj, ninit);
  if (rj.pool)
    rt_pool_free(rj.pool);
done_streams:
  free_streams(&rj);
  free(execs);
  free(rj.state);
done_site_errors:
  free(rj.site_errors);
done_settings:
  rt_settings_free(&rj.settings);
  ds_arena_destroy(&init_arena);
  fflush(stdout);
  return code;
}
