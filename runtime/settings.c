/*
 * settings.c — the job settings of §9, from the program's `set`s and from
 * `--set NAME=VALUE`.
 *
 * Both arrive as "name=value" text and go through rt_settings_apply, which
 * reads the value with the syntax of `.ds` literals: durations `500ms`, `1s`,
 * `5m`, `2h`; ints with `_` separators (and `0x` hex); `true`/`false`;
 * strings raw or in double quotes (with the `.ds` escapes). The checks are
 * those dsc applies to `set`, with the same wording, because `--set` must
 * refuse what the compiler refuses.
 *
 * What holds: after rt_settings_defaults and any sequence of successful
 * applies, every field is valid on its own, and the defaults that depend on
 * other settings (checkpointInterval = 10 x batch, wal = checkpoint set)
 * follow those settings until they are given explicitly.
 * rt_settings_check then checks what relates two settings.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { TY_INT, TY_DURATION, TY_BOOL, TY_STRING } value_type;

typedef enum {
  S_BATCH,
  S_PARTITIONS,
  S_THREADS,
  S_CHECKPOINT,
  S_CHECKPOINT_INTERVAL,
  S_WAL,
  S_MAX_RECORDS_PER_BATCH,
  S_MAX_RATE,
  S_MAX_LINE_BYTES,
  S_ON_ERROR,
  S_HDFS_USER,
  S_RETRIES,
  S_COUNT
} setting_id;

static const struct {
  const char *name;
  value_type type;
} table[S_COUNT] = {
    [S_BATCH] = {"batch", TY_DURATION},
    [S_PARTITIONS] = {"partitions", TY_INT},
    [S_THREADS] = {"threads", TY_INT},
    [S_CHECKPOINT] = {"checkpoint", TY_STRING},
    [S_CHECKPOINT_INTERVAL] = {"checkpointInterval", TY_DURATION},
    [S_WAL] = {"wal", TY_BOOL},
    [S_MAX_RECORDS_PER_BATCH] = {"maxRecordsPerBatch", TY_INT},
    [S_MAX_RATE] = {"maxRate", TY_INT},
    [S_MAX_LINE_BYTES] = {"maxLineBytes", TY_INT},
    [S_ON_ERROR] = {"onError", TY_STRING},
    [S_HDFS_USER] = {"hdfsUser", TY_STRING},
    [S_RETRIES] = {"retries", TY_INT},
};

static const char *const type_wants[] = {
    [TY_INT] = "an int such as 4",
    [TY_DURATION] = "a duration such as 500ms",
    [TY_BOOL] = "a bool (true or false)",
    [TY_STRING] = "a string",
};

/* Messages are built here; one job applies settings from one thread. */
static _Thread_local char message[512];

static const char *say(const char *fmt, const char *a, const char *b) {
  snprintf(message, sizeof message, fmt, a, b);
  return message;
}

void rt_settings_defaults(rt_settings *s) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    cpus = 1;
  *s = (rt_settings){
      .batch_ms = 1000,
      .partitions = cpus,
      .threads = cpus,
      .checkpoint = NULL,
      .checkpoint_interval_ms = 10 * 1000,
      .wal = false,
      .max_records_per_batch = 1000000,
      .max_rate = 0,
      .max_line_bytes = 1048576,
      .on_error_fail = false,
      .hdfs_user = NULL,
      .retries = 10,
  };
}

void rt_settings_free(rt_settings *s) {
  free(s->checkpoint);
  free(s->hdfs_user);
  s->checkpoint = s->hdfs_user = NULL;
}

/* [-]digits with `_` between digits, or 0x hex; false on overflow or junk.
 * *end gets the first byte after the number. */
static bool parse_int(const char *p, int64_t *out, const char **end) {
  bool neg = *p == '-';
  if (neg)
    p++;
  uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  int base = 10, digits = 0;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  }
  for (;; p++) {
    int d;
    if (*p >= '0' && *p <= '9')
      d = *p - '0';
    else if (base == 16 && *p >= 'a' && *p <= 'f')
      d = *p - 'a' + 10;
    else if (base == 16 && *p >= 'A' && *p <= 'F')
      d = *p - 'A' + 10;
    else if (*p == '_' && digits > 0 && p[1] != '\0' && p[1] != '_')
      continue;
    else
      break;
    if (v > (limit - (uint64_t)d) / (uint64_t)base)
      return false;
    v = v * (uint64_t)base + (uint64_t)d;
    digits++;
  }
  if (digits == 0 || p[-1] == '_')
    return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  *end = p;
  return true;
}

static bool parse_duration(const char *p, int64_t *out) {
  int64_t n;
  const char *unit;
  if (!parse_int(p, &n, &unit) || (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')))
    return false;
  int64_t scale;
  if (strcmp(unit, "ms") == 0)
    scale = 1;
  else if (strcmp(unit, "s") == 0)
    scale = 1000;
  else if (strcmp(unit, "m") == 0)
    scale = 60 * 1000;
  else if (strcmp(unit, "h") == 0)
    scale = 3600 * 1000;
  else
    return false;
  if (n > INT64_MAX / scale || n < INT64_MIN / scale)
    return false;
  *out = n * scale;
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A string value: raw, or "..." with the escapes of `.ds` string literals
 * (\u{...} is written as UTF-8). Returns a malloc'd copy or NULL when the
 * quoted form is malformed. */
static char *parse_string(const char *p) {
  size_t n = strlen(p);
  if (n == 0 || p[0] != '"')
    return strdup(p);
  if (n < 2 || p[n - 1] != '"')
    return NULL;
  char *out = malloc(n * 2 + 1), *o = out;
  if (!out)
    return NULL;
  for (size_t i = 1; i < n - 1; i++) {
    if (p[i] == '"')
      goto bad;
    if (p[i] != '\\') {
      *o++ = p[i];
      continue;
    }
    if (++i >= n - 1)
      goto bad;
    switch (p[i]) {
    case 'n': *o++ = '\n'; break;
    case 't': *o++ = '\t'; break;
    case 'r': *o++ = '\r'; break;
    case '0': *o++ = '\0'; break;
    case '\\': *o++ = '\\'; break;
    case '"': *o++ = '"'; break;
    case 'x': {
      int h = i + 2 < n - 1 ? hexval(p[i + 1]) : -1, l = h >= 0 ? hexval(p[i + 2]) : -1;
      if (l < 0)
        goto bad;
      *o++ = (char)(h * 16 + l);
      i += 2;
      break;
    }
    case 'u': {
      if (p[i + 1] != '{')
        goto bad;
      uint32_t cp = 0;
      size_t j = i + 2, digits = 0;
      for (; j < n - 1 && hexval(p[j]) >= 0 && digits < 6; j++, digits++)
        cp = cp * 16 + (uint32_t)hexval(p[j]);
      if (digits == 0 || j >= n - 1 || p[j] != '}' || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        goto bad;
      if (cp < 0x80) {
        *o++ = (char)cp;
      } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
      } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
      }
      i = j;
      break;
    }
    default:
      goto bad;
    }
  }
  *o = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

const char *rt_settings_apply(rt_settings *s, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  if (!eq || eq == assignment)
    return say("bad setting '%s': expected NAME=VALUE", assignment, "");
  size_t nlen = (size_t)(eq - assignment);
  const char *value = eq + 1;
  int id = -1;
  for (int i = 0; i < S_COUNT; i++)
    if (strlen(table[i].name) == nlen && memcmp(table[i].name, assignment, nlen) == 0)
      id = i;
  if (id < 0) {
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(nlen < 100 ? nlen : 100), assignment);
    return say("unknown setting '%s'", name, "");
  }
  const char *name = table[id].name;

  int64_t ival = 0;
  bool bval = false;
  char *sval = NULL;
  const char *end;
  switch (table[id].type) {
  case TY_INT:
    if (!parse_int(value, &ival, &end) || *end)
      return say("setting '%s' takes %s", name, type_wants[TY_INT]);
    break;
  case TY_DURATION:
    if (!parse_duration(value, &ival))
      return say("setting '%s' takes %s", name, type_wants[TY_DURATION]);
    break;
  case TY_BOOL:
    if (strcmp(value, "true") == 0)
      bval = true;
    else if (strcmp(value, "false") == 0)
      bval = false;
    else
      return say("setting '%s' takes %s", name, type_wants[TY_BOOL]);
    break;
  case TY_STRING:
    sval = parse_string(value);
    if (!sval)
      return say("setting '%s' takes %s", name, type_wants[TY_STRING]);
    break;
  }

  const char *bad = NULL;
  switch ((setting_id)id) {
  case S_BATCH:
  case S_CHECKPOINT_INTERVAL:
    if (ival <= 0)
      bad = "must be a positive duration";
    break;
  case S_PARTITIONS:
  case S_THREADS:
  case S_MAX_RECORDS_PER_BATCH:
  case S_MAX_LINE_BYTES:
    if (ival < 1)
      bad = "must be at least 1";
    else if ((id == S_PARTITIONS || id == S_THREADS) && ival > 65536)
      bad = "must be at most 65536";
    break;
  case S_MAX_RATE:
  case S_RETRIES:
    if (ival < 0)
      bad = "must not be negative";
    break;
  case S_ON_ERROR:
    if (strcmp(sval, "skip") != 0 && strcmp(sval, "fail") != 0)
      bad = "must be \"skip\" or \"fail\"";
    break;
  case S_CHECKPOINT:
  case S_HDFS_USER:
    if (!*sval)
      bad = "must not be empty";
    break;
  default:
    break;
  }
  if (bad) {
    free(sval);
    return say("setting '%s' %s", name, bad);
  }

  switch ((setting_id)id) {
  case S_BATCH:
    s->batch_ms = ival;
    if (!s->checkpoint_interval_given)
      s->checkpoint_interval_ms = 10 * ival;
    break;
  case S_PARTITIONS: s->partitions = ival; break;
  case S_THREADS: s->threads = ival; break;
  case S_CHECKPOINT:
    free(s->checkpoint);
    s->checkpoint = sval;
    if (!s->wal_given)
      s->wal = true;
    break;
  case S_CHECKPOINT_INTERVAL:
    s->checkpoint_interval_ms = ival;
    s->checkpoint_interval_given = true;
    break;
  case S_WAL:
    s->wal = bval;
    s->wal_given = true;
    break;
  case S_MAX_RECORDS_PER_BATCH: s->max_records_per_batch = ival; break;
  case S_MAX_RATE: s->max_rate = ival; break;
  case S_MAX_LINE_BYTES: s->max_line_bytes = ival; break;
  case S_ON_ERROR:
    s->on_error_fail = strcmp(sval, "fail") == 0;
    free(sval);
    break;
  case S_HDFS_USER:
    free(s->hdfs_user);
    s->hdfs_user = sval;
    break;
  case S_RETRIES: s->retries = ival; break;
  case S_COUNT: break;
  }
  return NULL;
}

const char *rt_settings_check(const rt_settings *s) {
  if (s->checkpoint_interval_ms % s->batch_ms != 0) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%lld", (long long)s->checkpoint_interval_ms);
    snprintf(b, sizeof b, "%lld", (long long)s->batch_ms);
    return say("checkpointInterval %sms is not a multiple of the batch interval %sms", a, b);
  }
  return NULL;
}
