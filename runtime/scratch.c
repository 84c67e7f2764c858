/*
 * scratch.c — the per-batch scratch arrays of the shuffling and sorting
 * operators (exchange.c, groups.c, sort.c, ...).
 *
 * An operator that needs an array per batch (hashes, references, indices,
 * sort keys) keeps it in its state and asks for room before each batch: the
 * array grows by doubling to the largest batch seen and is then reused, so a
 * job in a steady state allocates nothing. The contents are not kept when
 * it grows (every batch rewrites them). Out of memory ends the job, as for
 * partitions (part.c).
 */
#include "rt.h"

#include <stdlib.h>

void *rt_scratch(void *p, int64_t *cap, int64_t n, size_t size) {
  if (n < 1)
    n = 1; /* never NULL, so offsets of 0 into it are defined */
  if (n <= *cap)
    return p;
  int64_t c = *cap ? *cap : 64;
  while (c < n)
    c *= 2;
  free(p);
  p = malloc((size_t)c * size);
  if (!p)
    rt_fatal("out of memory (a scratch array of %lld elements of %zu bytes)", (long long)c, size);
  *cap = c;
  return p;
}
