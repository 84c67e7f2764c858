/* (a) wordcount: the count of every whitespace-separated token of the input.
   Output: "token<TAB>count" per distinct token, in order of first appearance.
   Tokens are hashed while they are scanned (FNV-1a, one byte at a time). */
#include "base.h"

/* The bytes that separate tokens, as the dstream builtin words() does. */
static unsigned char is_space[256];

int main(int argc, char **argv) {
  Reader r;
  Table t;
  uint64_t tokens = 0;
  is_space[' '] = is_space['\t'] = is_space['\n'] = is_space['\r'] = 1;
  is_space['\v'] = is_space['\f'] = 1;
  reader_open(&r, argc > 1 ? argv[1] : "-");
  table_init(&t, 1 << 18);
  char *start, *end;
  while (reader_next(&r, &start, &end)) {
    const unsigned char *p = (const unsigned char *)start, *e = (const unsigned char *)end;
    while (p < e) {
      while (p < e && is_space[*p])
        p++;
      if (p == e)
        break;
      const unsigned char *w = p;
      uint64_t h = 0xcbf29ce484222325ULL;
      while (p < e && !is_space[*p])
        h = (h ^ *p++) * 0x100000001b3ULL;
      uint32_t id;
      table_find_hashed(&t, (const char *)w, (size_t)(p - w), h, &id)->count++;
      tokens++;
    }
  }
  print_table(&t);
  fprintf(stderr, "wordcount: %" PRIu64 " tokens, %zu distinct\n", tokens, t.used);
  return 0;
}
