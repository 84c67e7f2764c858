/*
 * part.c — the per-batch buffers of streams: ds_part, ds_strbuf and rt_stream.
 *
 * A ds_part is a growable array of elements of one size (its cap counts
 * elements of that size). A node's rt_stream keeps its partitions' buffers
 * and its maps from batch to batch: resetting empties them but keeps their
 * memory, so a job in a steady state allocates nothing here. Buffers grow by
 * doubling; running out of memory ends the job (rt_fatal), since generated
 * code has no way to go on without the element it is writing.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

enum { PART_FIRST_CAP = 16 };

void rt_part_reserve(ds_part *p, int64_t n, int64_t size) {
  if (n <= p->cap)
    return;
  int64_t cap = p->cap ? p->cap : PART_FIRST_CAP;
  while (cap < n)
    cap *= 2;
  char *data = realloc(p->data, (size_t)(cap * (size ? size : 1)));
  if (!data)
    rt_fatal("out of memory (a partition of %lld elements of %lld bytes)", (long long)cap,
             (long long)size);
  p->data = data;
  p->cap = cap;
}

void *ds_part_push(ds_part *p, int64_t size) {
  if (__builtin_expect(p->n == p->cap, 0))
    rt_part_reserve(p, p->n + 1, size);
  char *slot = p->data + p->n * size;
  p->n++;
  memset(slot, 0, (size_t)size);
  return slot;
}

void rt_part_free(ds_part *p) {
  free(p->data);
  p->data = NULL;
  p->n = p->cap = 0;
}

void ds_strbuf_grow(ds_strbuf *b, int64_t n) {
  int64_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + n + 1)
    cap *= 2;
  char *ptr = realloc(b->ptr, (size_t)cap);
  if (!ptr)
    rt_fatal("out of memory (a text buffer of %lld bytes)", (long long)cap);
  b->ptr = ptr;
  b->cap = cap;
}

void ds_strbuf_free(ds_strbuf *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = b->cap = 0;
}

/* Makes room for n entries in both arrays; new entries are zero (an empty
 * part, a map with no table that rt_stream_reset_maps initializes). */
static void stream_grow(rt_stream *s, int32_t n) {
  if (n <= s->cap_parts)
    return;
  int32_t cap = s->cap_parts ? s->cap_parts : 4;
  while (cap < n)
    cap *= 2;
  /* Cache-line aligned, so that tasks filling neighbouring partitions (one
   * cache line each) never write the same line. */
  ds_part *parts = aligned_alloc(64, (size_t)cap * sizeof *parts);
  ds_map *maps = aligned_alloc(64, (size_t)cap * sizeof *maps);
  if (!parts || !maps)
    rt_fatal("out of memory (partitions of a stream)");
  if (s->cap_parts) {
    memcpy(parts, s->parts, (size_t)s->cap_parts * sizeof *parts);
    memcpy(maps, s->maps, (size_t)s->cap_parts * sizeof *maps);
  }
  free(s->parts);
  free(s->maps);
  s->parts = parts;
  s->maps = maps;
  memset(s->parts + s->cap_parts, 0, (size_t)(cap - s->cap_parts) * sizeof *parts);
  memset(s->maps + s->cap_parts, 0, (size_t)(cap - s->cap_parts) * sizeof *maps);
  s->cap_parts = cap;
}

void rt_stream_reset(rt_stream *s, int32_t nparts) {
  stream_grow(s, nparts);
  for (int32_t i = 0; i < nparts; i++)
    s->parts[i].n = 0;
  s->nparts = nparts;
  s->feed = NULL;
  s->feed_state = NULL;
}

void rt_stream_reset_maps(rt_stream *s, int32_t nparts, int64_t pair_size) {
  stream_grow(s, nparts);
  for (int32_t i = 0; i < nparts; i++) {
    ds_map *m = &s->maps[i];
    if (m->entry_size == 0 || m->pair_size != pair_size) {
      ds_map_free(m);
      ds_map_init(m, pair_size);
    } else {
      ds_map_clear(m);
    }
  }
  s->nparts = nparts;
}

int64_t rt_stream_count(const rt_stream *s) {
  int64_t n = 0;
  for (int32_t i = 0; i < s->nparts; i++)
    n += s->parts[i].n;
  return n;
}

void rt_stream_free(rt_stream *s) {
  for (int32_t i = 0; i < s->cap_parts; i++) {
    rt_part_free(&s->parts[i]);
    ds_map_free(&s->maps[i]);
  }
  free(s->parts);
  free(s->maps);
  memset(s, 0, sizeof *s);
}
