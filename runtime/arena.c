/*
 * arena.c — the per-batch, per-partition bump allocator of the runtime.
 *
 * Builtins and generated code allocate record data here; nothing is freed
 * one by one. When a batch is done the runtime calls ds_arena_reset(), which
 * keeps the chunks that batch used (so a steady-state batch allocates nothing
 * from the system) and frees the chunks it did not reach (so one unusually
 * large batch does not pin its memory forever). Chunks come from the arena's
 * ds_alloc_fn, the runtime's single allocation hook, which tests replace to
 * count calls or inject failures.
 */
#include "ds_rt.h"

#include <stdlib.h>

struct ds_arena_chunk {
  ds_arena_chunk *next; /* the next chunk in the list, or NULL */
  size_t size;          /* bytes of the whole chunk, header included */
  _Alignas(16) char data[];
};

enum {
  DS_ARENA_ALIGN = 16,
  DS_ARENA_FIRST = 64 * 1024,   /* size of the first chunk */
  DS_ARENA_MAXGROW = 4 << 20,   /* chunks double up to this size */
};

void *ds_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return malloc(nsize);
}

void ds_arena_init(ds_arena *a, ds_alloc_fn alloc, void *ud) {
  a->alloc = alloc ? alloc : ds_default_alloc;
  a->ud = ud;
  a->first = NULL;
  a->cur = NULL;
  a->ptr = NULL;
  a->end = NULL;
  a->used = 0;
  a->reserved = 0;
  a->next_size = DS_ARENA_FIRST;
  a->intern = NULL;
}

static void use_chunk(ds_arena *a, ds_arena_chunk *c) {
  a->cur = c;
  a->ptr = c->data;
  a->end = (char *)c + c->size;
}

/* Slow path: the current chunk is full. Moves to the next kept chunk if the
 * request fits there, else inserts a new chunk after the current one. */
static void *alloc_slow(ds_arena *a, size_t size) {
  ds_arena_chunk *next = a->cur ? a->cur->next : a->first;
  if (next && next->size - sizeof(ds_arena_chunk) >= size) {
    use_chunk(a, next);
  } else {
    if (size > SIZE_MAX / 2 - sizeof(ds_arena_chunk))
      return NULL;
    size_t want = a->next_size;
    if (want < size + sizeof(ds_arena_chunk))
      want = size + sizeof(ds_arena_chunk);
    ds_arena_chunk *c = a->alloc(a->ud, NULL, 0, want);
    if (!c)
      return NULL;
    c->size = want;
    c->next = next;
    if (a->cur)
      a->cur->next = c;
    else
      a->first = c;
    a->reserved += want;
    if (a->next_size < DS_ARENA_MAXGROW)
      a->next_size *= 2;
    use_chunk(a, c);
  }
  void *p = a->ptr;
  a->ptr += size;
  a->used += size;
  return p;
}

void *ds_arena_alloc(ds_arena *a, size_t size) {
  /* Round up to the alignment; size 0 still gets its own 16 bytes. */
  size_t rounded = (size + DS_ARENA_ALIGN - 1) & ~(size_t)(DS_ARENA_ALIGN - 1);
  if (rounded < size)
    return NULL; /* size near SIZE_MAX */
  if (rounded == 0)
    rounded = DS_ARENA_ALIGN;
  if (a->ptr && (size_t)(a->end - a->ptr) >= rounded) {
    void *p = a->ptr;
    a->ptr += rounded;
    a->used += rounded;
    return p;
  }
  return alloc_slow(a, rounded);
}

void ds_arena_reset(ds_arena *a) {
  /* Chunks after the current one were not reached by the last batch. */
  if (a->cur) {
    ds_arena_chunk *c = a->cur->next;
    a->cur->next = NULL;
    while (c) {
      ds_arena_chunk *next = c->next;
      a->reserved -= c->size;
      a->alloc(a->ud, c, c->size, 0);
      c = next;
    }
  }
  a->used = 0;
  if (a->first)
    use_chunk(a, a->first);
  if (a->intern)
    ds_intern_clear(a);
}

void ds_arena_release(ds_arena *a, ds_arena_mark m) {
  a->cur = m.cur;
  a->ptr = m.ptr;
  a->end = m.cur ? (char *)m.cur + m.cur->size : NULL;
  a->used = m.used;
  if (a->intern)
    ds_intern_clear(a);
}

void ds_arena_destroy(ds_arena *a) {
  if (a->intern)
    ds_intern_free(a);
  ds_arena_chunk *c = a->first;
  while (c) {
    ds_arena_chunk *next = c->next;
    a->alloc(a->ud, c, c->size, 0);
    c = next;
  }
  ds_arena_init(a, a->alloc, a->ud);
}

size_t ds_arena_bytes(const ds_arena *a) {
  return a->used;
}

size_t ds_arena_reserved(const ds_arena *a) {
  return a->reserved;
}
