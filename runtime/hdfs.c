/*
 * hdfs.c — the WebHDFS client on libcurl (the API and its decisions are in
 * hdfs.h; the protocol is Hadoop's "WebHDFS REST API" page).
 *
 * A client owns one curl multi handle, whose connection cache every request
 * shares: a `main` easy handle for the metadata requests and the two steps
 * of an upload, and one easy handle per open reader. Every transfer, even a
 * blocking one, runs through the multi handle (wait_until drives it), so a
 * reader's transfer and the client's other requests can alternate on the
 * same connections.
 *
 * Requests: metadata operations are one request to the NameNode with a JSON
 * answer. OPEN lets curl follow the NameNode's 307 to the DataNode (only
 * GET, so nothing is re-sent), and streams the 200 body into the reader.
 * CREATE and APPEND take the two documented steps by hand: a PUT/POST to
 * the NameNode without data, whose 307 Location names the DataNode, then
 * the data to that Location (curl never sends data to the NameNode).
 *
 * A reader's write callback copies into the caller's buffer while hdfs_read
 * waits, else into the reader's own buffer (512 KiB); when both are full it
 * pauses the transfer (CURL_WRITEFUNC_PAUSE; curl keeps that piece and
 * stops reading the socket) until hdfs_read has room again. `got` counts the
 * bytes accepted from the current range, so an interrupted transfer is
 * resumed with OPEN at offset+got and nothing is delivered twice.
 */
#define _GNU_SOURCE
#include "curl_dl.h"
#include "hdfs.h"
#include "hdfs_json.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT "9870"
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define JSON_LIMIT ((size_t)256 << 20) /* largest JSON answer accepted */
#define ERROR_BODY_LIMIT ((size_t)64 << 10)
#define READ_BUF ((size_t)512 << 10)   /* a reader's buffer and curl's receive buffer */
#define SPILL_LIMIT ((size_t)4 << 20)  /* a writer's data kept in memory before spilling */

typedef struct {
  char *p;
  size_t len, cap;
} buf;

typedef struct xfer {
  CURL *e;
  bool in_multi, done;
  CURLcode result;
  long status;          /* of the last status line received */
  bool headers_done;    /* a final header block (not 1xx, not a followed 3xx) ended */
  bool follow;
  buf body;             /* the JSON or error body */
  size_t body_limit;
  bool overflow;        /* the body went beyond body_limit */
  hdfs_reader *reader;  /* 200 bodies go to this reader */
  hdfs_writer *writer;  /* upload source */
  int64_t up_base, up_pos, up_end;
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
} xfer;

struct hdfs_client {
  CURLM *multi;
  xfer main;
  char *authority; /* host:port */
  char *base;      /* absolute path of the URL */
  char *user;      /* NULL: no user.name */
  char *user_q;    /* "&user.name=..." or "" */
  int64_t retries;
  long connect_ms, stall_s;
  long connects;
  void (*log)(void *, const char *);
  void *log_ctx;
  char *msg;
};

struct hdfs_reader {
  hdfs_client *c;
  char *path;
  int64_t offset;   /* of the first byte asked for */
  int64_t length;   /* asked for; -1: to the end */
  int64_t end;      /* absolute end promised by the first 200 answer, -1 unknown */
  int64_t got;      /* bytes accepted since offset */
  int64_t got_at_failure;
  xfer x;
  bool active, paused, eof;
  int err;
  unsigned char *buf;
  size_t cap, head, len;
  unsigned char *dst; /* the caller's buffer while hdfs_read waits */
  size_t dst_cap, dst_len;
};

struct hdfs_writer {
  hdfs_client *c;
  char *path;
  bool append;
  int flags, permission;
  unsigned char *mem; /* the data, or once spilled a staging buffer for fd */
  size_t mem_len;
  int fd;             /* the spill file, -1 while in memory */
  int64_t size;       /* bytes written */
  int err;
  bool io_failed;
};

typedef struct {
  int64_t attempt;
  long delay_ms;
} backoff;

/* ------------------------------------------------------------------ small helpers */

static void buf_free(buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static bool buf_add(buf *b, const void *d, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return false;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  b->p[b->len] = '\0';
  return true;
}

static bool buf_printf(buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return false;
  if ((size_t)n < sizeof tmp)
    return buf_add(b, tmp, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (!big)
    return false;
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  bool ok = buf_add(b, big, (size_t)n);
  free(big);
  return ok;
}

static char *xvasprintf(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

static int set_msg(hdfs_client *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *m = xvasprintf(fmt, ap);
  va_end(ap);
  free(c->msg);
  c->msg = m;
  return code;
}

static void logf_(hdfs_client *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *m = xvasprintf(fmt, ap);
  va_end(ap);
  if (m)
    c->log(c->log_ctx, m);
  free(m);
}

static void default_log(void *ctx, const char *line) {
  (void)ctx;
  fprintf(stderr, "job: %s\n", line);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static bool is_unreserved(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
         ch == '.' || ch == '_' || ch == '~';
}

/* Percent-encodes s (every byte but the unreserved ones and '/'). */
static bool enc_add(buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (is_unreserved(*p) || *p == '/') {
      if (!buf_add(b, p, 1))
        return false;
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      if (!buf_add(b, e, 3))
        return false;
    }
  }
  return true;
}

/* Collapses repeated slashes and drops a trailing one; the result starts with '/'. */
static char *normalize(const char *a, const char *b) {
  size_t na = strlen(a), nb = b ? strlen(b) : 0;
  char *out = malloc(na + nb + 3);
  if (!out)
    return NULL;
  size_t n = 0;
  out[n++] = '/';
  const char *parts[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    if (!parts[k])
      continue;
    for (const char *p = parts[k]; *p; p++) {
      if (*p == '/' && out[n - 1] == '/')
        continue;
      out[n++] = *p;
    }
    if (out[n - 1] != '/')
      out[n++] = '/';
  }
  if (n > 1 && out[n - 1] == '/')
    n--;
  out[n] = '\0';
  return out;
}

bool hdfs_is_url(const char *s) {
  return s && (strncasecmp(s, "hdfs://", 7) == 0 || strncasecmp(s, "webhdfs://", 10) == 0);
}

/* Splits an hdfs:// or webhdfs:// URL into a canonical "host:port" (host in
 * lower case, the default port added) and its path (literal, normalized). */
static int parse_url(const char *url, char **authority, char **path, const char **why) {
  const char *s;
  if (strncasecmp(url, "hdfs://", 7) == 0)
    s = url + 7;
  else if (strncasecmp(url, "webhdfs://", 10) == 0)
    s = url + 10;
  else {
    *why = "not an hdfs:// or webhdfs:// URL";
    return HDFS_EINVAL;
  }
  const char *slash = strchr(s, '/');
  size_t alen = slash ? (size_t)(slash - s) : strlen(s);
  if (alen == 0) {
    *why = "the URL names no NameNode (hdfs://HOST:PORT/PATH)";
    return HDFS_EINVAL;
  }
  const char *host = s, *hend, *port = NULL;
  size_t plen = 0;
  if (*s == '[') {
    hend = memchr(s, ']', alen);
    if (!hend) {
      *why = "unterminated [IPv6 address] in the URL";
      return HDFS_EINVAL;
    }
    for (const char *p = s + 1; p < hend; p++)
      if (!(isxdigit((unsigned char)*p) || *p == ':' || *p == '.')) {
        *why = "bad character in the [IPv6 address] of the URL";
        return HDFS_EINVAL;
      }
    hend++;
    if (hend < s + alen) {
      if (*hend != ':') {
        *why = "bad NameNode address in the URL";
        return HDFS_EINVAL;
      }
      port = hend + 1;
      plen = (size_t)(s + alen - port);
    }
  } else {
    const char *colon = memchr(s, ':', alen);
    hend = colon ? colon : s + alen;
    if (colon) {
      port = colon + 1;
      plen = (size_t)(s + alen - port);
    }
    if (hend == host) {
      *why = "the URL names no NameNode host";
      return HDFS_EINVAL;
    }
    for (const char *p = host; p < hend; p++)
      if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')) {
        *why = "bad character in the NameNode host of the URL";
        return HDFS_EINVAL;
      }
  }
  if (port) {
    long v = 0;
    if (plen == 0 || plen > 5) {
      *why = "bad NameNode port in the URL";
      return HDFS_EINVAL;
    }
    for (size_t i = 0; i < plen; i++) {
      if (!isdigit((unsigned char)port[i])) {
        *why = "bad NameNode port in the URL";
        return HDFS_EINVAL;
      }
      v = v * 10 + (port[i] - '0');
    }
    if (v < 1 || v > 65535) {
      *why = "NameNode port out of range in the URL";
      return HDFS_EINVAL;
    }
  }
  size_t hl = (size_t)(hend - host);
  char *a = malloc(hl + 1 + (port ? plen : strlen(DEFAULT_PORT)) + 1);
  if (!a) {
    *why = "out of memory";
    return HDFS_ENOMEM;
  }
  for (size_t i = 0; i < hl; i++)
    a[i] = (char)tolower((unsigned char)host[i]);
  a[hl] = ':';
  if (port) {
    memcpy(a + hl + 1, port, plen);
    a[hl + 1 + plen] = '\0';
  } else
    strcpy(a + hl + 1, DEFAULT_PORT);
  char *p = normalize(slash ? slash : "/", NULL);
  if (!p) {
    free(a);
    *why = "out of memory";
    return HDFS_ENOMEM;
  }
  *authority = a;
  *path = p;
  return 0;
}

/* The absolute path an operation's argument names (hdfs.h: paths). */
static int resolve(hdfs_client *c, const char *op, const char *arg, char **out) {
  if (!arg)
    arg = "";
  if (hdfs_is_url(arg)) {
    char *auth, *path;
    const char *why;
    int rc = parse_url(arg, &auth, &path, &why);
    if (rc)
      return set_msg(c, rc, "%s %s: %s", op, arg, why);
    bool same = strcmp(auth, c->authority) == 0;
    free(auth);
    if (!same) {
      free(path);
      return set_msg(c, HDFS_EINVAL, "%s %s: another NameNode than this client's (%s)", op, arg, c->authority);
    }
    *out = path;
    return 0;
  }
  *out = arg[0] == '/' ? normalize(arg, NULL) : normalize(c->base, arg);
  return *out ? 0 : set_msg(c, HDFS_ENOMEM, "%s: out of memory", op);
}

/* http://AUTH/webhdfs/v1PATH?op=OP<extra>&user.name=U */
static char *nn_url(hdfs_client *c, const char *path, const char *op, const char *extra) {
  buf b = {0};
  bool ok = buf_printf(&b, "http://%s/webhdfs/v1", c->authority) && enc_add(&b, path) &&
            buf_printf(&b, "?op=%s%s%s", op, extra ? extra : "", c->user_q);
  if (!ok) {
    buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* ------------------------------------------------------------------ transfers */

static size_t reader_accept(hdfs_reader *r, const char *data, size_t n);

static size_t header_cb(char *data, size_t size, size_t nitems, void *ud) {
  xfer *x = ud;
  size_t n = size * nitems;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', n);
    long code = 0;
    if (sp)
      for (const char *p = sp + 1; p < data + n && *p >= '0' && *p <= '9'; p++)
        code = code * 10 + (*p - '0');
    x->status = code;
    x->headers_done = false;
    x->body.len = 0;
    x->overflow = false;
  } else if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
    bool interim = x->status < 200;
    bool followed = x->follow && x->status >= 300 && x->status < 400;
    if (!interim && !followed)
      x->headers_done = true;
  }
  return n;
}

static size_t write_cb(char *data, size_t size, size_t nitems, void *ud) {
  xfer *x = ud;
  size_t n = size * nitems;
  if (x->reader && x->status == 200 && x->headers_done)
    return reader_accept(x->reader, data, n);
  if (x->body.len + n > x->body_limit) {
    x->overflow = true;
    return x->reader ? n : 0; /* a reader's error body is cut; a JSON answer fails */
  }
  if (!buf_add(&x->body, data, n))
    return 0;
  return n;
}

static size_t read_cb(char *dst, size_t size, size_t nitems, void *ud) {
  xfer *x = ud;
  hdfs_writer *w = x->writer;
  size_t want = size * nitems;
  int64_t left = x->up_end - x->up_pos;
  if ((int64_t)want > left)
    want = (size_t)left;
  if (want == 0)
    return 0;
  if (w->fd < 0) {
    memcpy(dst, w->mem + x->up_pos, want);
  } else {
    ssize_t k;
    do
      k = pread(w->fd, dst, want, (off_t)x->up_pos);
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
      w->io_failed = true;
      return CURL_READFUNC_ABORT;
    }
    want = (size_t)k;
  }
  x->up_pos += (int64_t)want;
  return want;
}

static int seek_cb(void *ud, curl_off_t offset, int origin) {
  xfer *x = ud;
  if (origin != SEEK_SET || offset < 0 || x->up_base + offset > x->up_end)
    return CURL_SEEKFUNC_CANTSEEK;
  x->up_pos = x->up_base + offset;
  return CURL_SEEKFUNC_OK;
}

/* Resets x's handle to the options every request has. */
static void x_prepare(hdfs_client *c, xfer *x, const char *url) {
  CURL *e = x->e;
  curl_easy_reset(e);
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  x->done = x->headers_done = x->overflow = false;
  x->status = 0;
  x->result = CURLE_OK;
  x->body.len = 0;
  x->follow = false;
  x->errbuf[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->stall_s);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "dstream-webhdfs/1");
}

static void x_add_header(xfer *x, const char *h) {
  struct curl_slist *l = curl_slist_append(x->headers, h);
  if (l)
    x->headers = l;
  curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->headers);
}

/* A request without a body that still says Content-Length: 0 (PUT, POST). */
static void x_empty_body(xfer *x, const char *method) {
  curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(x->e, CURLOPT_CUSTOMREQUEST, method);
  x_add_header(x, "Content-Type:");
}

/* Runs curl until nothing more can happen without waiting; records finished transfers. */
static void pump(hdfs_client *c) {
  int running = 0;
  curl_multi_perform(c->multi, &running);
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left)))
    if (m->msg == CURLMSG_DONE) {
      xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      if (x) {
        x->done = true;
        x->result = m->data.result;
      }
    }
}

static void wait_until(hdfs_client *c, bool (*cond)(void *), void *arg) {
  for (;;) {
    pump(c);
    if (cond(arg))
      return;
    curl_multi_poll(c->multi, NULL, 0, 500, NULL);
  }
}

static bool x_is_done(void *p) { return ((xfer *)p)->done; }

static void x_start(hdfs_client *c, xfer *x) {
  x->done = false;
  if (curl_multi_add_handle(c->multi, x->e) == CURLM_OK)
    x->in_multi = true;
  else {
    x->done = true;
    x->result = CURLE_FAILED_INIT;
  }
}

static void x_stop(hdfs_client *c, xfer *x) {
  if (x->in_multi) {
    curl_multi_remove_handle(c->multi, x->e);
    x->in_multi = false;
    long n = 0;
    if (curl_easy_getinfo(x->e, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
      c->connects += n;
  }
}

static void x_run(hdfs_client *c, xfer *x) {
  x_start(c, x);
  wait_until(c, x_is_done, x);
  x_stop(c, x);
}

/* ------------------------------------------------------------------ outcomes and retries */

typedef struct {
  int code;         /* 0, or the HDFS_E* to fail with */
  bool transient;   /* worth another attempt */
  bool connected;   /* the request may have reached the server */
  char cause[768];
} outcome;

static bool curl_transient(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_PARTIAL_FILE:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY:
    return true;
  default:
    return false;
  }
}

/* Judges a finished transfer: the wanted status, or why not. */
static void judge(const xfer *x, long want, outcome *o) {
  memset(o, 0, sizeof *o);
  o->connected = true;
  if (x->result != CURLE_OK) {
    if (x->overflow && x->result == CURLE_WRITE_ERROR) {
      o->code = HDFS_EPROTO;
      snprintf(o->cause, sizeof o->cause, "the answer is larger than %zu bytes", x->body_limit);
      return;
    }
    o->code = HDFS_EUNAVAIL;
    o->transient = curl_transient(x->result);
    o->connected = x->result != CURLE_COULDNT_CONNECT && x->result != CURLE_COULDNT_RESOLVE_HOST;
    snprintf(o->cause, sizeof o->cause, "%s%s", x->result == CURLE_OPERATION_TIMEDOUT ? "timed out: " : "",
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    if (!o->transient)
      o->code = x->result == CURLE_OUT_OF_MEMORY ? HDFS_ENOMEM : HDFS_EPROTO;
    return;
  }
  if (x->status == want)
    return;
  const char *exc = NULL, *jcls = NULL, *msg = NULL;
  hj_doc *d = x->body.len ? hj_parse(x->body.p, x->body.len, NULL, 0) : NULL;
  if (d) {
    const hj_value *rex = hj_get(hj_root(d), "RemoteException");
    exc = hj_string(hj_get(rex, "exception"));
    jcls = hj_string(hj_get(rex, "javaClassName"));
    msg = hj_string(hj_get(rex, "message"));
  }
  if (exc || msg)
    snprintf(o->cause, sizeof o->cause, "%s: %s (HTTP %ld)", exc ? exc : "RemoteException", msg ? msg : "",
             x->status);
  else if (x->status == 0)
    snprintf(o->cause, sizeof o->cause, "no HTTP status in the answer");
  else
    snprintf(o->cause, sizeof o->cause, "HTTP %ld%s", x->status,
             x->status == 307 ? " without a usable Location" : "");
  bool standby = (exc && (strcmp(exc, "StandbyException") == 0 || strcmp(exc, "RetriableException") == 0)) ||
                 (jcls && (strstr(jcls, ".StandbyException") || strstr(jcls, ".RetriableException")));
  if (x->status >= 500 || standby) {
    o->code = HDFS_EUNAVAIL;
    o->transient = true;
  } else if (exc && strcmp(exc, "FileNotFoundException") == 0)
    o->code = HDFS_ENOENT;
  else if ((exc && (strcmp(exc, "AccessControlException") == 0 || strcmp(exc, "SecurityException") == 0)) ||
           x->status == 401)
    o->code = HDFS_EACCES;
  else if (exc && strcmp(exc, "FileAlreadyExistsException") == 0)
    o->code = HDFS_EEXIST;
  else if (exc && strcmp(exc, "PathIsNotEmptyDirectoryException") == 0)
    o->code = HDFS_ENOTEMPTY;
  else if (x->status == 404)
    o->code = HDFS_ENOENT;
  else if (x->status >= 400)
    o->code = HDFS_EREMOTE;
  else
    o->code = HDFS_EPROTO;
  hj_free(d);
}

static void backoff_reset(backoff *b) {
  b->attempt = 0;
  b->delay_ms = BACKOFF_FIRST_MS;
}

/* After a transient failure: logs, waits and returns true for another
 * attempt, or returns false when the attempts are used up. */
static bool backoff_next(hdfs_client *c, backoff *b, const char *op, const char *path, const char *cause,
                         const char *action) {
  b->attempt++;
  if (c->retries > 0 && b->attempt >= c->retries)
    return false;
  if (c->retries > 0)
    logf_(c, "hdfs: %s hdfs://%s%s: %s; %s in %ld ms (attempt %" PRId64 " of %" PRId64 ")", op, c->authority,
          path, cause, action, b->delay_ms, b->attempt + 1, c->retries);
  else
    logf_(c, "hdfs: %s hdfs://%s%s: %s; %s in %ld ms (attempt %" PRId64 ")", op, c->authority, path, cause, action,
          b->delay_ms, b->attempt + 1);
  sleep_ms(b->delay_ms);
  b->delay_ms = b->delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->delay_ms * 2;
  return true;
}

static int fail_outcome(hdfs_client *c, const char *op, const char *path, const outcome *o, const backoff *b) {
  if (o->transient)
    return set_msg(c, HDFS_EUNAVAIL, "%s hdfs://%s%s: %s (gave up after %" PRId64 " attempts)", op, c->authority,
                   path, o->cause, b->attempt);
  return set_msg(c, o->code, "%s hdfs://%s%s: %s", op, c->authority, path, o->cause);
}

/* One metadata request with retries: METHOD op on path, a 200 JSON answer. */
static int call_json(hdfs_client *c, const char *op, const char *method, const char *path, const char *extra,
                     hj_doc **out) {
  char *url = nn_url(c, path, op, extra);
  if (!url)
    return set_msg(c, HDFS_ENOMEM, "%s: out of memory", op);
  backoff b;
  backoff_reset(&b);
  xfer *x = &c->main;
  int rc;
  for (;;) {
    x_prepare(c, x, url);
    x->body_limit = JSON_LIMIT;
    if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
      x_empty_body(x, method);
    else if (strcmp(method, "GET") != 0)
      curl_easy_setopt(x->e, CURLOPT_CUSTOMREQUEST, method);
    x_run(c, x);
    outcome o;
    judge(x, 200, &o);
    if (o.code == 0) {
      char err[256];
      hj_doc *d = hj_parse(x->body.p ? x->body.p : "", x->body.len, err, sizeof err);
      if (!d)
        rc = set_msg(c, HDFS_EPROTO, "%s hdfs://%s%s: the answer is not JSON: %s", op, c->authority, path, err);
      else {
        *out = d;
        rc = 0;
      }
      break;
    }
    if (!o.transient || !backoff_next(c, &b, op, path, o.cause, "retrying")) {
      rc = fail_outcome(c, op, path, &o, &b);
      break;
    }
  }
  buf_free(&x->body);
  free(url);
  return rc;
}

static int call_boolean(hdfs_client *c, const char *op, const char *method, const char *path, const char *extra,
                        bool *result) {
  hj_doc *d = NULL;
  int rc = call_json(c, op, method, path, extra, &d);
  if (rc)
    return rc;
  const hj_value *v = hj_get(hj_root(d), "boolean");
  if (!v || (v->type != HJ_TRUE && v->type != HJ_FALSE)) {
    hj_free(d);
    return set_msg(c, HDFS_EPROTO, "%s hdfs://%s%s: no boolean in the answer", op, c->authority, path);
  }
  *result = v->type == HJ_TRUE;
  hj_free(d);
  return 0;
}

/* ------------------------------------------------------------------ the client */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static const char *curl_load_why; /* libcurl could not be loaded: why */
static CURLcode curl_init_rc;
static void curl_init(void) {
  curl_load_why = ds_curl_load();
  if (!curl_load_why)
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *login_name(void) {
  long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t n = sz > 0 ? (size_t)sz : 16384;
  char *tmp = malloc(n);
  char *name = NULL;
  if (tmp) {
    struct passwd pw, *res = NULL;
    if (getpwuid_r(geteuid(), &pw, tmp, n, &res) == 0 && res && res->pw_name && *res->pw_name)
      name = strdup(res->pw_name);
    free(tmp);
  }
  if (!name) {
    const char *e = getenv("LOGNAME");
    if (!e || !*e)
      e = getenv("USER");
    if (e && *e)
      name = strdup(e);
  }
  return name;
}

static char *dup_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *m = xvasprintf(fmt, ap);
  va_end(ap);
  return m;
}

hdfs_client *hdfs_open(const char *url, const char *user, int64_t retries, char **err) {
  if (err)
    *err = NULL;
  if (!url || !hdfs_is_url(url)) {
    if (err)
      *err = dup_err("%s: not an hdfs:// or webhdfs:// URL", url ? url : "(null)");
    return NULL;
  }
  if (retries < 0) {
    if (err)
      *err = dup_err("%s: retries must be 0 (no limit) or more", url);
    return NULL;
  }
  pthread_once(&curl_once, curl_init);
  if (curl_load_why) {
    if (err)
      *err = dup_err("%s: %s", url, curl_load_why);
    return NULL;
  }
  if (curl_init_rc != CURLE_OK) {
    if (err)
      *err = dup_err("%s: libcurl failed to initialise: %s", url, curl_easy_strerror(curl_init_rc));
    return NULL;
  }
  hdfs_client *c = calloc(1, sizeof *c);
  if (!c)
    goto oom;
  const char *why = NULL;
  int rc = parse_url(url, &c->authority, &c->base, &why);
  if (rc) {
    if (err)
      *err = dup_err("%s: %s", url, why);
    free(c);
    return NULL;
  }
  c->retries = retries;
  c->connect_ms = 10000;
  c->stall_s = 60;
  c->log = default_log;
  if (user && *user)
    c->user = strdup(user);
  else if (getenv("HADOOP_USER_NAME") && *getenv("HADOOP_USER_NAME"))
    c->user = strdup(getenv("HADOOP_USER_NAME"));
  else
    c->user = login_name();
  buf q = {0};
  if (!buf_add(&q, "", 0) || (c->user && (!buf_add(&q, "&user.name=", 11) || !enc_add(&q, c->user)))) {
    buf_free(&q);
    hdfs_close(c);
    goto oom;
  }
  c->user_q = q.p;
  c->multi = curl_multi_init();
  c->main.e = curl_easy_init();
  if (!c->multi || !c->main.e) {
    hdfs_close(c);
    goto oom;
  }
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 8L);
  return c;
oom:
  if (err)
    *err = dup_err("%s: out of memory", url);
  return NULL;
}

void hdfs_close(hdfs_client *c) {
  if (!c)
    return;
  if (c->main.e) {
    x_stop(c, &c->main);
    curl_easy_cleanup(c->main.e);
  }
  curl_slist_free_all(c->main.headers);
  buf_free(&c->main.body);
  if (c->multi)
    curl_multi_cleanup(c->multi);
  free(c->authority);
  free(c->base);
  free(c->user);
  free(c->user_q);
  free(c->msg);
  free(c);
}

void hdfs_set_timeouts(hdfs_client *c, long connect_ms, long stall_s) {
  if (connect_ms > 0)
    c->connect_ms = connect_ms;
  if (stall_s > 0)
    c->stall_s = stall_s;
}

void hdfs_set_log(hdfs_client *c, void (*log)(void *ctx, const char *line), void *ctx) {
  c->log = log ? log : default_log;
  c->log_ctx = log ? ctx : NULL;
}

const char *hdfs_errmsg(const hdfs_client *c) { return c->msg ? c->msg : ""; }
const char *hdfs_user(const hdfs_client *c) { return c->user ? c->user : ""; }
const char *hdfs_base_path(const hdfs_client *c) { return c->base; }
long hdfs_connects(const hdfs_client *c) { return c->connects; }

const char *hdfs_strerror(int code) {
  switch (code) {
  case HDFS_OK: return "success";
  case HDFS_EINVAL: return "invalid argument";
  case HDFS_ENOENT: return "no such file or directory";
  case HDFS_EACCES: return "permission denied";
  case HDFS_EEXIST: return "file exists";
  case HDFS_ENOTEMPTY: return "directory not empty";
  case HDFS_EREMOTE: return "refused by the server";
  case HDFS_EUNAVAIL: return "server unavailable";
  case HDFS_EPROTO: return "protocol error";
  case HDFS_EIO: return "local I/O error";
  case HDFS_ENOMEM: return "out of memory";
  case HDFS_EABORT: return "stopped by the caller";
  default: return "unknown error";
  }
}

/* ------------------------------------------------------------------ metadata */

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static bool status_from_json(const hj_value *v, hdfs_status *st) {
  memset(st, 0, sizeof *st);
  if (!v || v->type != HJ_OBJECT)
    return false;
  const char *type = hj_string(hj_get(v, "type"));
  if (!type)
    return false;
  if (strcmp(type, "FILE") == 0)
    st->kind = HDFS_FILE;
  else if (strcmp(type, "DIRECTORY") == 0)
    st->kind = HDFS_DIR;
  else if (strcmp(type, "SYMLINK") == 0)
    st->kind = HDFS_SYMLINK;
  else
    return false;
  if (!hj_int(hj_get(v, "length"), &st->length) || !hj_int(hj_get(v, "modificationTime"), &st->mtime_ms))
    return false;
  const hj_value *suffix = hj_get(v, "pathSuffix");
  if (suffix && suffix->type != HJ_STRING)
    return false;
  hj_int(hj_get(v, "accessTime"), &st->atime_ms);
  hj_int(hj_get(v, "blockSize"), &st->block_size);
  int64_t rep = 0;
  if (hj_int(hj_get(v, "replication"), &rep) && rep >= 0 && rep <= 32767)
    st->replication = (int)rep;
  const char *perm = hj_string(hj_get(v, "permission"));
  if (perm) {
    char *end;
    long p = strtol(perm, &end, 8);
    if (*perm && !*end && p >= 0 && p <= 07777)
      st->permission = (int)p;
  }
  st->name = dup_or_empty(hj_string(suffix));
  st->owner = dup_or_empty(hj_string(hj_get(v, "owner")));
  st->group = dup_or_empty(hj_string(hj_get(v, "group")));
  return true;
}

void hdfs_status_clear(hdfs_status *st) {
  if (!st)
    return;
  free(st->name);
  free(st->owner);
  free(st->group);
  memset(st, 0, sizeof *st);
}

void hdfs_free_statuses(hdfs_status *v, size_t n) {
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    hdfs_status_clear(&v[i]);
  free(v);
}

int hdfs_getstatus(hdfs_client *c, const char *path, hdfs_status *out) {
  memset(out, 0, sizeof *out);
  char *p;
  int rc = resolve(c, "GETFILESTATUS", path, &p);
  if (rc)
    return rc;
  hj_doc *d = NULL;
  rc = call_json(c, "GETFILESTATUS", "GET", p, NULL, &d);
  if (rc == 0) {
    if (!status_from_json(hj_get(hj_root(d), "FileStatus"), out)) {
      hdfs_status_clear(out);
      rc = set_msg(c, HDFS_EPROTO, "GETFILESTATUS hdfs://%s%s: no valid FileStatus in the answer", c->authority, p);
    } else if (!out->name || !out->owner || !out->group) {
      hdfs_status_clear(out);
      rc = set_msg(c, HDFS_ENOMEM, "GETFILESTATUS: out of memory");
    }
  }
  hj_free(d);
  free(p);
  return rc;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const hdfs_status *)a)->name, ((const hdfs_status *)b)->name);
}

int hdfs_list(hdfs_client *c, const char *path, hdfs_status **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char *p;
  int rc = resolve(c, "LISTSTATUS", path, &p);
  if (rc)
    return rc;
  hj_doc *d = NULL;
  rc = call_json(c, "LISTSTATUS", "GET", p, NULL, &d);
  if (rc == 0) {
    const hj_value *arr = hj_get(hj_get(hj_root(d), "FileStatuses"), "FileStatus");
    if (!arr || arr->type != HJ_ARRAY)
      rc = set_msg(c, HDFS_EPROTO, "LISTSTATUS hdfs://%s%s: no FileStatuses in the answer", c->authority, p);
    else {
      hdfs_status *v = calloc(arr->len ? arr->len : 1, sizeof *v);
      if (!v)
        rc = set_msg(c, HDFS_ENOMEM, "LISTSTATUS: out of memory");
      for (size_t i = 0; v && i < arr->len; i++) {
        if (!status_from_json(&arr->items[i], &v[i])) {
          hdfs_free_statuses(v, i + 1);
          v = NULL;
          rc = set_msg(c, HDFS_EPROTO, "LISTSTATUS hdfs://%s%s: entry %zu is not a valid FileStatus", c->authority,
                       p, i);
        } else if (!v[i].name || !v[i].owner || !v[i].group) {
          hdfs_free_statuses(v, i + 1);
          v = NULL;
          rc = set_msg(c, HDFS_ENOMEM, "LISTSTATUS: out of memory");
        }
      }
      if (v) {
        qsort(v, arr->len, sizeof *v, by_name);
        *out = v;
        *n = arr->len;
      }
    }
  }
  hj_free(d);
  free(p);
  return rc;
}

int hdfs_mkdirs(hdfs_client *c, const char *path, int permission, bool *made) {
  char *p;
  int rc = resolve(c, "MKDIRS", path, &p);
  if (rc)
    return rc;
  char extra[32] = "";
  if (permission >= 0)
    snprintf(extra, sizeof extra, "&permission=%o", (unsigned)permission & 07777);
  bool b = false;
  rc = call_boolean(c, "MKDIRS", "PUT", p, extra, &b);
  if (rc == 0 && made)
    *made = b;
  else if (rc == 0 && !b)
    rc = set_msg(c, HDFS_EREMOTE, "MKDIRS hdfs://%s%s: the NameNode answered false", c->authority, p);
  free(p);
  return rc;
}

int hdfs_rename(hdfs_client *c, const char *src, const char *dst, bool *renamed) {
  char *s, *t;
  int rc = resolve(c, "RENAME", src, &s);
  if (rc)
    return rc;
  if ((rc = resolve(c, "RENAME", dst, &t))) {
    free(s);
    return rc;
  }
  buf extra = {0};
  bool b = false;
  if (!buf_add(&extra, "&destination=", 13) || !enc_add(&extra, t))
    rc = set_msg(c, HDFS_ENOMEM, "RENAME: out of memory");
  else
    rc = call_boolean(c, "RENAME", "PUT", s, extra.p, &b);
  if (rc == 0 && renamed)
    *renamed = b;
  else if (rc == 0 && !b)
    rc = set_msg(c, HDFS_EREMOTE,
                 "RENAME hdfs://%s%s to %s: the NameNode answered false (the source is missing, the "
                 "destination exists or its parent does not)",
                 c->authority, s, t);
  buf_free(&extra);
  free(s);
  free(t);
  return rc;
}

int hdfs_delete(hdfs_client *c, const char *path, bool recursive, bool *deleted) {
  char *p;
  int rc = resolve(c, "DELETE", path, &p);
  if (rc)
    return rc;
  bool b = false;
  rc = call_boolean(c, "DELETE", "DELETE", p, recursive ? "&recursive=true" : "&recursive=false", &b);
  if (rc == 0 && deleted)
    *deleted = b;
  free(p);
  return rc;
}

/* ------------------------------------------------------------------ reading */

static size_t reader_accept(hdfs_reader *r, const char *data, size_t n) {
  /* Bytes go to the caller's buffer only while none wait in ours (order). */
  size_t room = r->dst && r->len == 0 ? r->dst_cap - r->dst_len : 0;
  if (r->head && r->head + r->len + n > r->cap) {
    memmove(r->buf, r->buf + r->head, r->len);
    r->head = 0;
  }
  size_t space = r->cap - r->head - r->len;
  if (n > room + space) {
    if (r->len == 0) {
      /* A piece larger than the buffer (curl may hand over what it kept
       * while paused at once): grow rather than pause for ever. */
      unsigned char *nb = realloc(r->buf, n);
      if (!nb)
        return 0;
      r->buf = nb;
      r->cap = n;
      r->head = 0;
    } else {
      r->paused = true;
      return CURL_WRITEFUNC_PAUSE;
    }
  }
  size_t k = n < room ? n : room;
  if (k) {
    memcpy(r->dst + r->dst_len, data, k);
    r->dst_len += k;
  }
  if (n > k) {
    memcpy(r->buf + r->head + r->len, data + k, n - k);
    r->len += n - k;
  }
  r->got += (int64_t)n;
  return n;
}

static bool reader_has_headers(void *p) {
  hdfs_reader *r = p;
  return r->x.done || r->x.headers_done;
}

static bool reader_has_data(void *p) {
  hdfs_reader *r = p;
  return r->x.done || r->dst_len > 0 || r->len > 0 || r->paused;
}

/* Starts (or resumes) the OPEN transfer at offset+got and waits for its
 * answer: 0 with a 200 streaming, or an error after the retries. */
static int reader_start(hdfs_reader *r, backoff *b) {
  hdfs_client *c = r->c;
  for (;;) {
    int64_t off = r->offset + r->got;
    char extra[80];
    int64_t len = r->end >= 0 ? r->end - off : r->length >= 0 ? r->length - r->got : -1;
    if (len >= 0)
      snprintf(extra, sizeof extra, "&offset=%" PRId64 "&length=%" PRId64, off, len);
    else
      snprintf(extra, sizeof extra, "&offset=%" PRId64, off);
    char *url = nn_url(c, r->path, "OPEN", extra);
    if (!url)
      return set_msg(c, HDFS_ENOMEM, "OPEN: out of memory");
    x_prepare(c, &r->x, url);
    free(url);
    r->x.follow = true;
    r->x.reader = r;
    r->x.body_limit = ERROR_BODY_LIMIT;
    curl_easy_setopt(r->x.e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(r->x.e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(r->x.e, CURLOPT_BUFFERSIZE, (long)READ_BUF);
    r->paused = false;
    x_start(c, &r->x);
    r->active = true;
    wait_until(c, reader_has_headers, r);
    if (r->x.headers_done && r->x.status == 200) {
      curl_off_t cl = -1;
      if (r->end < 0 && curl_easy_getinfo(r->x.e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
        r->end = off + cl;
      return 0;
    }
    wait_until(c, x_is_done, &r->x);
    x_stop(c, &r->x);
    r->active = false;
    outcome o;
    judge(&r->x, 200, &o);
    if (o.code == 0) { /* a 200 whose headers never ended: cannot happen with a finished transfer */
      o.code = HDFS_EPROTO;
      snprintf(o.cause, sizeof o.cause, "an answer without a body");
    }
    if (!o.transient || !backoff_next(c, b, "OPEN", r->path, o.cause, "retrying"))
      return fail_outcome(c, "OPEN", r->path, &o, b);
  }
}

int hdfs_reader_open(hdfs_client *c, const char *path, int64_t offset, int64_t length, hdfs_reader **out) {
  *out = NULL;
  if (offset < 0)
    return set_msg(c, HDFS_EINVAL, "OPEN %s: negative offset", path ? path : "");
  hdfs_reader *r = calloc(1, sizeof *r);
  if (!r)
    return set_msg(c, HDFS_ENOMEM, "OPEN: out of memory");
  r->c = c;
  r->offset = offset;
  r->length = length < 0 ? -1 : length;
  r->end = -1;
  r->cap = READ_BUF;
  r->buf = malloc(r->cap);
  r->x.e = curl_easy_init();
  if (!r->buf || !r->x.e) {
    hdfs_reader_close(r);
    return set_msg(c, HDFS_ENOMEM, "OPEN: out of memory");
  }
  int rc = resolve(c, "OPEN", path, &r->path);
  if (rc) {
    hdfs_reader_close(r);
    return rc;
  }
  backoff b;
  backoff_reset(&b);
  rc = reader_start(r, &b);
  if (rc) {
    hdfs_reader_close(r);
    return rc;
  }
  *out = r;
  return 0;
}

int64_t hdfs_reader_offset(const hdfs_reader *r) { return r->offset + r->got - (int64_t)r->len; }

ssize_t hdfs_read(hdfs_reader *r, void *out, size_t n) {
  hdfs_client *c = r->c;
  if (r->err)
    return r->err;
  if (n == 0)
    return 0;
  if (n > SSIZE_MAX)
    n = SSIZE_MAX;
  backoff b;
  backoff_reset(&b);
  for (;;) {
    if (r->len) {
      size_t k = n < r->len ? n : r->len;
      memcpy(out, r->buf + r->head, k);
      r->head += k;
      r->len -= k;
      if (!r->len)
        r->head = 0;
      return (ssize_t)k;
    }
    if (r->eof)
      return 0;
    if (!r->active) {
      int rc = reader_start(r, &b);
      if (rc) {
        r->err = rc;
        return rc;
      }
      continue; /* waiting for the answer may have buffered bytes: they go first */
    }
    r->dst = out;
    r->dst_cap = n;
    r->dst_len = 0;
    if (r->paused) {
      r->paused = false;
      curl_easy_pause(r->x.e, CURLPAUSE_CONT); /* may deliver what curl kept, right here */
    }
    wait_until(c, reader_has_data, r);
    r->dst = NULL;
    if (r->dst_len)
      return (ssize_t)r->dst_len;
    if (r->len || !r->x.done)
      continue;
    /* The transfer ended. */
    x_stop(c, &r->x);
    r->active = false;
    int64_t at = r->offset + r->got;
    if (r->x.result == CURLE_OK && r->x.status == 200 && (r->end < 0 || at >= r->end)) {
      r->eof = true;
      return 0;
    }
    outcome o;
    judge(&r->x, 200, &o);
    if (o.code == 0) { /* complete by HTTP, short of the length promised */
      o.transient = true;
      o.code = HDFS_EUNAVAIL;
      snprintf(o.cause, sizeof o.cause, "the answer ended at offset %" PRId64 " before %" PRId64, at, r->end);
    }
    if (r->got > r->got_at_failure) /* progress since the last failure: a fresh set of attempts */
      backoff_reset(&b);
    r->got_at_failure = r->got;
    char action[96];
    snprintf(action, sizeof action, "resuming at offset %" PRId64, at);
    if (!o.transient || !backoff_next(c, &b, "OPEN", r->path, o.cause, action)) {
      r->err = fail_outcome(c, "OPEN", r->path, &o, &b);
      return r->err;
    }
  }
}

void hdfs_reader_close(hdfs_reader *r) {
  if (!r)
    return;
  if (r->x.e) {
    x_stop(r->c, &r->x);
    curl_easy_cleanup(r->x.e);
  }
  curl_slist_free_all(r->x.headers);
  buf_free(&r->x.body);
  free(r->buf);
  free(r->path);
  free(r);
}

int hdfs_read_range(hdfs_client *c, const char *path, int64_t offset, int64_t length,
                    int (*fn)(void *ctx, const void *data, size_t n), void *ctx) {
  hdfs_reader *r;
  int rc = hdfs_reader_open(c, path, offset, length, &r);
  if (rc)
    return rc;
  size_t cap = (size_t)1 << 20;
  unsigned char *tmp = malloc(cap);
  if (!tmp) {
    hdfs_reader_close(r);
    return set_msg(c, HDFS_ENOMEM, "OPEN: out of memory");
  }
  for (;;) {
    ssize_t k = hdfs_read(r, tmp, cap);
    if (k < 0) {
      rc = (int)k;
      break;
    }
    if (k == 0)
      break;
    if (fn(ctx, tmp, (size_t)k) != 0) {
      rc = set_msg(c, HDFS_EABORT, "OPEN hdfs://%s%s: stopped by the caller at offset %" PRId64, c->authority,
                   r->path, hdfs_reader_offset(r));
      break;
    }
  }
  free(tmp);
  hdfs_reader_close(r);
  return rc;
}

/* ------------------------------------------------------------------ writing */

static int writer_new(hdfs_client *c, const char *op, const char *path, bool append, int flags, int permission,
                      hdfs_writer **out) {
  *out = NULL;
  hdfs_writer *w = calloc(1, sizeof *w);
  if (!w)
    return set_msg(c, HDFS_ENOMEM, "%s: out of memory", op);
  w->c = c;
  w->append = append;
  w->flags = flags;
  w->permission = permission;
  w->fd = -1;
  int rc = resolve(c, op, path, &w->path);
  if (rc) {
    free(w);
    return rc;
  }
  *out = w;
  return 0;
}

int hdfs_create(hdfs_client *c, const char *path, int flags, int permission, hdfs_writer **out) {
  hdfs_writer *w;
  int rc = writer_new(c, "CREATE", path, false, flags, permission, &w);
  if (rc)
    return rc;
  if (!(flags & HDFS_OVERWRITE)) {
    hdfs_status st;
    rc = hdfs_getstatus(c, w->path, &st);
    if (rc == 0) {
      bool dir = st.kind == HDFS_DIR;
      hdfs_status_clear(&st);
      rc = set_msg(c, HDFS_EEXIST, "CREATE hdfs://%s%s: the path exists%s", c->authority, w->path,
                   dir ? " (a directory)" : "");
    } else if (rc == HDFS_ENOENT)
      rc = 0;
    if (rc) {
      hdfs_writer_abort(w);
      return rc;
    }
  }
  *out = w;
  return 0;
}

int hdfs_append(hdfs_client *c, const char *path, hdfs_writer **out) {
  hdfs_writer *w;
  int rc = writer_new(c, "APPEND", path, true, 0, -1, &w);
  if (rc)
    return rc;
  hdfs_status st;
  rc = hdfs_getstatus(c, w->path, &st);
  if (rc == 0 && st.kind != HDFS_FILE)
    rc = set_msg(c, HDFS_ENOENT, "APPEND hdfs://%s%s: not a file", c->authority, w->path);
  hdfs_status_clear(&st);
  if (rc) {
    hdfs_writer_abort(w);
    return rc;
  }
  *out = w;
  return 0;
}

static bool write_all(int fd, const void *p, size_t n) {
  const unsigned char *s = p;
  while (n) {
    ssize_t k = write(fd, s, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return false;
    s += k;
    n -= (size_t)k;
  }
  return true;
}

static int spill(hdfs_writer *w) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir)
    dir = "/tmp";
  char *tmpl = NULL;
  if (asprintf(&tmpl, "%s/dstream-hdfs-XXXXXX", dir) < 0)
    return set_msg(w->c, HDFS_ENOMEM, "CREATE: out of memory");
  int fd = mkostemp(tmpl, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    set_msg(w->c, HDFS_EIO, "%s hdfs://%s%s: cannot create a spill file in %s: %s", w->append ? "APPEND" : "CREATE",
            w->c->authority, w->path, dir, strerror(e));
    free(tmpl);
    return HDFS_EIO;
  }
  unlink(tmpl);
  free(tmpl);
  w->fd = fd;
  return 0;
}

int hdfs_write(hdfs_writer *w, const void *data, size_t n) {
  if (w->err)
    return w->err;
  if (n == 0)
    return 0;
  if (!w->mem) {
    w->mem = malloc(SPILL_LIMIT);
    if (!w->mem)
      return w->err = set_msg(w->c, HDFS_ENOMEM, "write: out of memory");
  }
  const unsigned char *s = data;
  while (n) {
    if (w->mem_len == SPILL_LIMIT) {
      /* full: the first time, start the spill file; then flush the staging buffer */
      if (w->fd < 0 && (w->err = spill(w)))
        return w->err;
      if (!write_all(w->fd, w->mem, w->mem_len)) {
        int e = errno;
        return w->err = set_msg(w->c, HDFS_EIO, "%s hdfs://%s%s: writing the spill file: %s",
                                w->append ? "APPEND" : "CREATE", w->c->authority, w->path, strerror(e));
      }
      w->mem_len = 0;
    }
    size_t k = SPILL_LIMIT - w->mem_len;
    if (k > n)
      k = n;
    memcpy(w->mem + w->mem_len, s, k);
    w->mem_len += k;
    s += k;
    n -= k;
    w->size += (int64_t)k;
  }
  return 0;
}

void hdfs_writer_abort(hdfs_writer *w) {
  if (!w)
    return;
  if (w->fd >= 0)
    close(w->fd);
  free(w->mem);
  free(w->path);
  free(w);
}

/* Step 1: the NameNode's 307 Location for the data (NULL and *o on failure). */
static char *upload_location(hdfs_writer *w, bool overwrite, outcome *o) {
  hdfs_client *c = w->c;
  char extra[64] = "";
  if (!w->append) {
    int n = snprintf(extra, sizeof extra, "&overwrite=%s", overwrite ? "true" : "false");
    if (w->permission >= 0)
      snprintf(extra + n, sizeof extra - (size_t)n, "&permission=%o", (unsigned)w->permission & 07777);
  }
  char *url = nn_url(c, w->path, w->append ? "APPEND" : "CREATE", extra);
  if (!url) {
    memset(o, 0, sizeof *o);
    o->code = HDFS_ENOMEM;
    snprintf(o->cause, sizeof o->cause, "out of memory");
    return NULL;
  }
  xfer *x = &c->main;
  x_prepare(c, x, url);
  free(url);
  x->body_limit = ERROR_BODY_LIMIT;
  x_empty_body(x, w->append ? "POST" : "PUT");
  x_run(c, x);
  judge(x, 307, o);
  if (o->code)
    return NULL;
  char *loc = NULL;
  if (curl_easy_getinfo(x->e, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc || !*loc) {
    o->code = HDFS_EPROTO;
    snprintf(o->cause, sizeof o->cause, "a 307 answer without a Location");
    return NULL;
  }
  return strdup(loc);
}

/* Step 2: bytes [skip, size) to the DataNode at loc. */
static void upload_data(hdfs_writer *w, const char *loc, int64_t skip, outcome *o) {
  hdfs_client *c = w->c;
  xfer *x = &c->main;
  x_prepare(c, x, loc);
  x->body_limit = ERROR_BODY_LIMIT;
  x->writer = w;
  x->up_base = x->up_pos = skip;
  x->up_end = w->size;
  curl_easy_setopt(x->e, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(x->e, CURLOPT_READDATA, (void *)x);
  curl_easy_setopt(x->e, CURLOPT_SEEKFUNCTION, seek_cb);
  curl_easy_setopt(x->e, CURLOPT_SEEKDATA, (void *)x);
  if (w->append) {
    curl_easy_setopt(x->e, CURLOPT_POST, 1L);
    curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(w->size - skip));
  } else {
    curl_easy_setopt(x->e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x->e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(w->size - skip));
  }
  x_add_header(x, "Content-Type: application/octet-stream");
  x_run(c, x);
  x->writer = NULL;
  if (w->io_failed) {
    memset(o, 0, sizeof *o);
    o->code = HDFS_EIO;
    snprintf(o->cause, sizeof o->cause, "reading the spill file failed");
    return;
  }
  judge(x, w->append ? 200 : 201, o);
}

int hdfs_writer_close(hdfs_writer *w) {
  if (!w)
    return 0;
  hdfs_client *c = w->c;
  const char *op = w->append ? "APPEND" : "CREATE";
  int rc = w->err;
  if (!rc && w->fd >= 0 && w->mem_len) {
    if (!write_all(w->fd, w->mem, w->mem_len)) {
      int e = errno;
      rc = set_msg(c, HDFS_EIO, "%s hdfs://%s%s: writing the spill file: %s", op, c->authority, w->path,
                   strerror(e));
    }
    w->mem_len = 0;
  }
  int64_t base = 0;
  if (!rc && w->append) {
    hdfs_status st;
    rc = hdfs_getstatus(c, w->path, &st);
    base = st.length;
    hdfs_status_clear(&st);
  }
  if (!rc && w->append && w->size == 0) {
    hdfs_writer_abort(w); /* appending nothing: the file is as it should be */
    return 0;
  }
  bool overwrite = (w->flags & HDFS_OVERWRITE) != 0;
  int64_t skip = 0;
  backoff b;
  backoff_reset(&b);
  while (!rc) {
    outcome o;
    char *loc = upload_location(w, overwrite, &o);
    bool data_step = false;
    if (loc) {
      data_step = true;
      upload_data(w, loc, skip, &o);
      free(loc);
    }
    if (o.code == 0)
      break;
    if (!o.transient || !backoff_next(c, &b, op, w->path, o.cause, "retrying")) {
      rc = fail_outcome(c, op, w->path, &o, &b);
      break;
    }
    if (data_step && o.connected) {
      /* The DataNode may have taken part of the data. */
      if (!w->append)
        overwrite = true;
      else {
        hdfs_status st;
        if ((rc = hdfs_getstatus(c, w->path, &st)))
          break;
        int64_t now = st.length;
        hdfs_status_clear(&st);
        if (now < base || now - base > w->size) {
          rc = set_msg(c, HDFS_EREMOTE,
                       "APPEND hdfs://%s%s: the file changed during the append (length %" PRId64
                       ", was %" PRId64 " with %" PRId64 " bytes to add)",
                       c->authority, w->path, now, base, w->size);
          break;
        }
        skip = now - base;
        if (skip == w->size)
          break; /* everything arrived; only the answer was lost */
      }
    }
  }
  buf_free(&c->main.body);
  hdfs_writer_abort(w);
  return rc;
}

int hdfs_put(hdfs_client *c, const char *path, int flags, const void *data, size_t n) {
  hdfs_writer *w;
  int rc = hdfs_create(c, path, flags, -1, &w);
  if (rc)
    return rc;
  if ((rc = hdfs_write(w, data, n))) {
    hdfs_writer_abort(w);
    return rc;
  }
  return hdfs_writer_close(w);
}
