/* (b) per_ip: requests per client address, the first space-separated field
   of each line. Output: "ip<TAB>count", in order of first appearance. */
#include "base.h"

int main(int argc, char **argv) {
  Reader r;
  Table t;
  uint64_t lines = 0;
  reader_open(&r, argc > 1 ? argv[1] : "-");
  table_init(&t, 1 << 18);
  FOR_EACH_LINE(&r, ls, le, {
    const char *sp = memchr(ls, ' ', (size_t)(le - ls));
    size_t n = (size_t)((sp ? sp : le) - ls);
    uint32_t id;
    table_find(&t, ls, n, &id)->count++;
    lines++;
  });
  print_table(&t);
  fprintf(stderr, "per_ip: %" PRIu64 " lines, %zu addresses\n", lines, t.used);
  return 0;
}
