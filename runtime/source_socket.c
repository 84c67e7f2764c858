/*
 * source_socket.c — the `socket(host, port)` source (§6): lines from a TCP
 * server, received by a libuv loop on a thread of its own.
 *
 * The loop thread owns the socket, the resolver request and the timers: it
 * connects, splits what arrives into lines ('\n'; a trailing '\r' removed;
 * a last unterminated line is kept when the server disconnects) and appends
 * them, each ending in '\n', to the `incoming` buffer under the mutex.
 * Lines longer than maxLineBytes are dropped and counted as record errors.
 * On refusal or disconnect it retries with backoff (100 ms doubling to
 * 5 s, back to 100 ms once connected), logging each retry.
 *
 * At each batch the driver thread takes the lines received since the last
 * batch by swapping `incoming` with its own `batch` buffer (whose strings
 * died with the last batch), so the lock is held for a pointer swap. With
 * maxRate, a batch takes at most maxRate x batch / 1 s lines, the rest
 * waits for the next batch, and the loop stops reading (TCP backpressure)
 * while more than two batches' worth are waiting. free() stops the loop
 * through an async handle and joins the thread.
 */
#include "rt.h"
#include "storage.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum {
  BACKOFF_FIRST_MS = 100,
  BACKOFF_MAX_MS = 5000,
  READ_BUF = 64 * 1024,
};

typedef struct buf {
  char *ptr;
  int64_t len, cap;
} buf;

typedef struct socket_state {
  /* Set at init, read-only afterwards. */
  char *host;
  char port[16];
  const char *loc;
  int64_t max_line_bytes;
  int64_t batch_limit;   /* lines per batch (maxRate x batch), 0 = no limit */

  /* Shared, under mu. */
  pthread_mutex_t mu;
  buf incoming;
  int64_t incoming_lines;
  int64_t dropped;       /* lines over maxLineBytes since the last batch */
  bool paused;           /* reading stopped by the rate limit */

  /* The driver thread's. */
  buf batch;

  /* The loop thread's. */
  pthread_t thread;
  bool thread_started;
  uv_loop_t loop;
  uv_tcp_t tcp;
  uv_timer_t retry;
  uv_async_t stop, resume;
  uv_getaddrinfo_t resolve;
  uv_connect_t connect;
  bool tcp_open, resolving, connected, stopping;
  int64_t backoff_ms;
  buf carry;             /* the start of a line not yet ended */
  bool discarding;       /* inside a line already known to be too long */
  char readbuf[READ_BUF];
} socket_state;

static void start_connect(socket_state *st);
static void on_retry(uv_timer_t *t);

static bool buf_put(buf *b, const char *p, int64_t n) {
  if (b->len + n > b->cap) {
    int64_t nc = b->cap ? b->cap : 1 << 16;
    while (nc < b->len + n)
      nc *= 2;
    char *np = realloc(b->ptr, (size_t)nc);
    if (!np)
      return false;
    b->ptr = np;
    b->cap = nc;
  }
  if (n)
    memcpy(b->ptr + b->len, p, (size_t)n);
  b->len += n;
  return true;
}

/* ---- the loop thread ---- */

static void schedule_retry(socket_state *st, const char *why) {
  if (st->stopping)
    return;
  rt_log("%s: socket %s:%s: %s; retrying in %" PRId64 " ms", st->loc, st->host, st->port, why,
         st->backoff_ms);
  uv_timer_start(&st->retry, on_retry, (uint64_t)st->backoff_ms, 0);
  st->backoff_ms = st->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : st->backoff_ms * 2;
}

/* A complete line (without its '\n'); called with mu held. */
static void emit_line(socket_state *st, const char *p, int64_t n) {
  if (n > 0 && p[n - 1] == '\r')
    n--;
  if (n > st->max_line_bytes) {
    st->dropped++;
    return;
  }
  if (!buf_put(&st->incoming, p, n) || !buf_put(&st->incoming, "\n", 1))
    rt_fatal("%s: out of memory receiving from %s:%s", st->loc, st->host, st->port);
  st->incoming_lines++;
}

/* Splits received bytes into lines; called with mu held. */
static void take_bytes(socket_state *st, const char *p, int64_t n) {
  while (n > 0) {
    const char *nl = memchr(p, '\n', (size_t)n);
    int64_t seg = nl ? nl - p : n;
    if (st->discarding) {
      if (nl) {
        st->discarding = false;
        st->dropped++;
      }
    } else if (st->carry.len + seg > st->max_line_bytes + 1) {
      st->carry.len = 0;
      if (nl)
        st->dropped++;
      else
        st->discarding = true;
    } else if (nl) {
      if (st->carry.len == 0) {
        emit_line(st, p, seg);
      } else {
        if (!buf_put(&st->carry, p, seg))
          rt_fatal("%s: out of memory", st->loc);
        emit_line(st, st->carry.ptr, st->carry.len);
        st->carry.len = 0;
      }
    } else if (!buf_put(&st->carry, p, seg)) {
      rt_fatal("%s: out of memory", st->loc);
    }
    if (!nl)
      break;
    n -= seg + 1;
    p = nl + 1;
  }
}

/* The end of a connection: what was received of a last line is a line. */
static void end_of_stream(socket_state *st) {
  pthread_mutex_lock(&st->mu);
  if (st->discarding)
    st->dropped++;
  else if (st->carry.len > 0)
    emit_line(st, st->carry.ptr, st->carry.len);
  st->discarding = false;
  st->carry.len = 0;
  st->paused = false;
  pthread_mutex_unlock(&st->mu);
}

static void on_tcp_closed(uv_handle_t *h) {
  socket_state *st = h->data;
  st->tcp_open = false;
  st->connected = false;
}

static void close_and_retry(socket_state *st, const char *why) {
  if (st->tcp_open && !uv_is_closing((uv_handle_t *)&st->tcp))
    uv_close((uv_handle_t *)&st->tcp, on_tcp_closed);
  schedule_retry(st, why);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  socket_state *st = h->data;
  *b = uv_buf_init(st->readbuf, sizeof st->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  socket_state *st = s->data;
  if (nread > 0) {
    pthread_mutex_lock(&st->mu);
    take_bytes(st, b->base, nread);
    if (st->batch_limit && st->incoming_lines >= 2 * st->batch_limit && !st->paused) {
      uv_read_stop(s);
      st->paused = true;
    }
    pthread_mutex_unlock(&st->mu);
  } else if (nread < 0) {
    end_of_stream(st);
    char why[128];
    snprintf(why, sizeof why, "%s", nread == UV_EOF ? "connection closed by the server" : uv_strerror((int)nread));
    close_and_retry(st, why);
  }
}

static void on_connect(uv_connect_t *req, int status) {
  socket_state *st = req->data;
  if (st->stopping)
    return;
  if (status < 0) {
    char why[128];
    snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(status));
    close_and_retry(st, why);
    return;
  }
  st->connected = true;
  st->backoff_ms = BACKOFF_FIRST_MS;
  uv_read_start((uv_stream_t *)&st->tcp, on_alloc, on_read);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  socket_state *st = req->data;
  st->resolving = false;
  if (st->stopping || status < 0) {
    if (res)
      uv_freeaddrinfo(res);
    if (!st->stopping) {
      char why[160];
      snprintf(why, sizeof why, "cannot resolve the host: %s", uv_strerror(status));
      schedule_retry(st, why);
    }
    return;
  }
  uv_tcp_init(&st->loop, &st->tcp);
  st->tcp.data = st;
  st->tcp_open = true;
  st->connect.data = st;
  int r = uv_tcp_connect(&st->connect, &st->tcp, res->ai_addr, on_connect);
  uv_freeaddrinfo(res);
  if (r < 0) {
    char why[128];
    snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(r));
    close_and_retry(st, why);
  }
}

static void start_connect(socket_state *st) {
  if (st->stopping || st->tcp_open) {
    if (st->tcp_open && !st->stopping) /* still closing: try again shortly */
      uv_timer_start(&st->retry, on_retry, 10, 0);
    return;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  st->resolve.data = st;
  st->resolving = true;
  int r = uv_getaddrinfo(&st->loop, &st->resolve, on_resolved, st->host, st->port, &hints);
  if (r < 0) {
    st->resolving = false;
    char why[128];
    snprintf(why, sizeof why, "cannot resolve the host: %s", uv_strerror(r));
    schedule_retry(st, why);
  }
}

static void on_retry(uv_timer_t *t) { start_connect(t->data); }

static void on_resume(uv_async_t *a) {
  socket_state *st = a->data;
  pthread_mutex_lock(&st->mu);
  bool resume = st->paused && st->connected && st->incoming_lines < 2 * st->batch_limit;
  if (resume)
    st->paused = false;
  pthread_mutex_unlock(&st->mu);
  if (resume)
    uv_read_start((uv_stream_t *)&st->tcp, on_alloc, on_read);
}

static void on_stop(uv_async_t *a) {
  socket_state *st = a->data;
  st->stopping = true;
  if (st->resolving)
    uv_cancel((uv_req_t *)&st->resolve);
  if (st->tcp_open && !uv_is_closing((uv_handle_t *)&st->tcp))
    uv_close((uv_handle_t *)&st->tcp, on_tcp_closed);
  uv_close((uv_handle_t *)&st->retry, NULL);
  uv_close((uv_handle_t *)&st->resume, NULL);
  uv_close((uv_handle_t *)&st->stop, NULL);
}

static void *loop_main(void *arg) {
  socket_state *st = arg;
  start_connect(st);
  uv_run(&st->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* ---- the executor, on the driver thread ---- */

static const char *socket_init(rt_job *rj, int node) {
  ds_node *n = &rj->job->nodes[node];
  socket_state *st = calloc(1, sizeof *st);
  if (!st)
    return "out of memory";
  rj->state[node] = st;
  st->loc = n->loc ? n->loc : "socket";
  if (n->int_arg < 1 || n->int_arg > 65535)
    return "the port must be between 1 and 65535";
  if (n->str_arg.len == 0 || memchr(n->str_arg.ptr, '\0', (size_t)n->str_arg.len))
    return "the host must be a non-empty name";
  st->host = malloc((size_t)n->str_arg.len + 1);
  if (!st->host)
    return "out of memory";
  memcpy(st->host, n->str_arg.ptr, (size_t)n->str_arg.len);
  st->host[n->str_arg.len] = '\0';
  snprintf(st->port, sizeof st->port, "%d", (int)n->int_arg);
  st->max_line_bytes = rj->settings.max_line_bytes;
  if (rj->settings.max_rate > 0) {
    st->batch_limit = rj->settings.max_rate * rj->settings.batch_ms / 1000;
    if (st->batch_limit < 1)
      st->batch_limit = 1;
  }
  st->backoff_ms = BACKOFF_FIRST_MS;

  if (pthread_mutex_init(&st->mu, NULL) != 0)
    return "cannot create a mutex";
  if (uv_loop_init(&st->loop) < 0)
    goto fail_mutex;
  uv_timer_init(&st->loop, &st->retry);
  st->retry.data = st;
  uv_async_init(&st->loop, &st->stop, on_stop);
  st->stop.data = st;
  uv_async_init(&st->loop, &st->resume, on_resume);
  st->resume.data = st;
  if (pthread_create(&st->thread, NULL, loop_main, st) != 0)
    goto fail_loop;
  st->thread_started = true;
  return NULL;

fail_loop:
  uv_close((uv_handle_t *)&st->retry, NULL);
  uv_close((uv_handle_t *)&st->stop, NULL);
  uv_close((uv_handle_t *)&st->resume, NULL);
  uv_run(&st->loop, UV_RUN_DEFAULT);
  uv_loop_close(&st->loop);
fail_mutex:
  pthread_mutex_destroy(&st->mu);
  return "cannot start the socket's event loop";
}

static void socket_run(rt_job *rj, int node, const rt_batch *b) {
  socket_state *st = rj->state[node];
  int64_t dropped;
  bool resume = false;
  st->batch.len = 0;
  const void *rec;
  size_t rlen;
  if (rt_journal_replay(rj, node, b, &rec, &rlen)) {
    /* A batch re-run after a restart: the lines the write-ahead log kept
     * (what arrives meanwhile waits for the first new batch). */
    if (!buf_put(&st->batch, rec, (int64_t)rlen))
      rt_fatal("%s: out of memory", st->loc);
    goto parts;
  }
  pthread_mutex_lock(&st->mu);
  if (!st->batch_limit || st->incoming_lines <= st->batch_limit) {
    buf t = st->batch;
    st->batch = st->incoming;
    st->incoming = t;
    st->incoming_lines = 0;
  } else {
    /* Take the first batch_limit lines; the rest waits. */
    const char *p = st->incoming.ptr, *end = p + st->incoming.len;
    for (int64_t k = 0; k < st->batch_limit; k++)
      p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
    int64_t n = p - st->incoming.ptr;
    if (!buf_put(&st->batch, st->incoming.ptr, n))
      rt_fatal("%s: out of memory", st->loc);
    memmove(st->incoming.ptr, p, (size_t)(end - p));
    st->incoming.len -= n;
    st->incoming_lines -= st->batch_limit;
  }
  dropped = st->dropped;
  st->dropped = 0;
  resume = st->paused && st->incoming_lines < 2 * st->batch_limit;
  pthread_mutex_unlock(&st->mu);
  if (resume)
    uv_async_send(&st->resume);

  if (dropped) {
    rt_log("%s: record error: line longer than maxLineBytes (%" PRId64 ") (dropped %" PRId64
           " record%s in batch %" PRId64 ")",
           st->loc, st->max_line_bytes, dropped, dropped == 1 ? "" : "s", b->time);
    rj->source_errors += dropped;
  }
  if (rj->journal) {
    /* The write-ahead log: the batch's lines are durable before it is
     * processed (without `wal`, an empty record: such a batch re-runs empty). */
    int r = rt_journal_put(rj, node, b, st->batch.ptr, rj->settings.wal ? (size_t)st->batch.len : 0);
    if (r < 0)
      rt_fatal("%s: cannot write the write-ahead log: %s", st->loc, rt_st_why(r));
  }
parts:
  if (rt_lines_to_parts(rj, &rj->streams[node], st->batch.ptr, st->batch.len, -1,
                        (int32_t)rj->settings.partitions) < 0)
    rt_fatal("%s: out of memory", st->loc);
}

static void socket_free(rt_job *rj, int node) {
  socket_state *st = rj->state[node];
  if (!st)
    return;
  if (st->thread_started) {
    uv_async_send(&st->stop);
    pthread_join(st->thread, NULL);
    uv_loop_close(&st->loop);
    pthread_mutex_destroy(&st->mu);
  }
  free(st->incoming.ptr);
  free(st->batch.ptr);
  free(st->carry.ptr);
  free(st->host);
  free(st);
  rj->state[node] = NULL;
}

const rt_exec rt_exec_source_socket = {
    .init = socket_init,
    .run = socket_run,
    .free = socket_free,
};
