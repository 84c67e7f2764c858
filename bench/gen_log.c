/*
 * gen_log.c - deterministic generator of synthetic web-server access logs for
 * the dstream benchmark and the examples' sample log.
 *
 * Each line is in the Common Log Format
 *   IP - - [dd/Mon/yyyy:HH:MM:SS +0000] "METHOD /path HTTP/1.1" status bytes
 * and with -c the combined format's two extra fields follow:
 *   ... status bytes "referer" "user-agent"
 *
 * The output is a pure function of the options: a splitmix64 generator seeded
 * with -s drives everything, and sampling after set-up uses integers only, so
 * the same options give byte-identical files on every machine.
 *
 *   IPs      Zipf(s = 1) over -i distinct addresses (default 100000)
 *   URLs     Zipf(s = 1) over -u distinct paths     (default 10000)
 *   method   GET 94 %, POST 5 %, HEAD 1 %
 *   status   200 88 %, 304 5 %, 404 4 %, 301 2 %, 500 1 % ("-" bytes for 304)
 *   time     from 2024-01-15T00:00:00Z (or -t EPOCH_SECONDS), advancing a
 *            uniform 0..1200 microseconds per line: 1M lines span ~10 minutes
 *
 * Zipf ranks are drawn by binary search over a cumulative table scaled to
 * 2^32 (built once with doubles in a fixed order). Rank r maps to a fixed,
 * scrambled address or path, so popular keys are not adjacent.
 *
 * Usage: gen_log [-b BYTES | -n LINES] [-s SEED] [-i N_IP] [-u N_URL]
 *                [-t EPOCH] [-c] [-o FILE]
 * BYTES takes the suffixes K, M, G (powers of 1024); the output stops at the
 * last whole line that fits. Without -b or -n, 1000 lines are written.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers ---------------------------------------------------- */

static uint64_t seed_state;

static uint64_t next_u64(void) {
  uint64_t z = (seed_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* A uniform integer in [0, n) by the multiply-high method (bias < n / 2^32). */
static uint32_t uniform(uint32_t n) {
  return (uint32_t)(((next_u64() >> 32) * (uint64_t)n) >> 32);
}

/* ---- Zipf sampling by inverse CDF --------------------------------------- */

typedef struct {
  uint32_t n;    /* number of ranks */
  uint32_t *cdf; /* cdf[r] = P(rank <= r) * 2^32, clamped; cdf[n-1] = 2^32-1 */
} Zipf;

static int zipf_init(Zipf *z, uint32_t n, double s) {
  double total = 0.0, run = 0.0;
  z->n = n;
  z->cdf = malloc((size_t)n * sizeof *z->cdf);
  if (!z->cdf)
    return -1;
  for (uint32_t r = 0; r < n; r++)
    total += 1.0 / pow((double)r + 1.0, s);
  for (uint32_t r = 0; r < n; r++) {
    run += 1.0 / pow((double)r + 1.0, s);
    double v = run / total * 4294967296.0;
    z->cdf[r] = v >= 4294967295.0 ? 4294967295u : (uint32_t)v;
  }
  z->cdf[n - 1] = 4294967295u;
  return 0;
}

/* The smallest rank whose cdf is above a uniform 32-bit draw. */
static uint32_t zipf_draw(const Zipf *z) {
  uint32_t u = (uint32_t)(next_u64() >> 32);
  uint32_t lo = 0, hi = z->n - 1;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (z->cdf[mid] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* A bijective 32-bit mix, so rank r gets a fixed, scattered identity. */
static uint32_t scramble(uint32_t x) {
  x = (x ^ (x >> 16)) * 0x45d9f3bu;
  x = (x ^ (x >> 16)) * 0x45d9f3bu;
  return x ^ (x >> 16);
}

/* ---- key tables ---------------------------------------------------------- */

typedef struct {
  char text[72]; /* NUL-terminated */
  uint8_t len;
} Key;

static const char *const SECTIONS[] = {"products", "blog", "api/v1/items", "static/img",
                                       "docs", "users", "search", "cart", "news", "help"};
static const char *const TOPICS[] = {"electronics", "gardening", "releases", "accounts",
                                     "summer-sale", "reference", "thumbnails", "tutorials"};
static const char *const EXTS[] = {"", ".html", ".png", ".css", ".js", ".json"};

/* Distinct IPv4 addresses a.b.c.d: the low 17 bits (b's low bit, c, d) are
   an odd-multiplier permutation of the rank, so ranks below 2^17 never
   collide; a and the rest of b come from a hash of the rank. */
static void make_ips(Key *ips, uint32_t n) {
  for (uint32_t r = 0; r < n; r++) {
    uint32_t h = scramble(r + 0x2545f491u);
    uint32_t p = (r * 0x9e3bu + 0x1234u) & 0x1ffffu;
    uint32_t a = 1 + (h >> 24) % 223; /* 1..223: no multicast */
    uint32_t b = ((h >> 8) & 0xfeu) | (p >> 16);
    ips[r].len = (uint8_t)snprintf(ips[r].text, sizeof ips[r].text, "%u.%u.%u.%u", a, b, (p >> 8) & 0xffu,
                                   p & 0xffu);
  }
}

/* Distinct paths: /section/topic/item-<rank in base 36><ext>. */
static void make_urls(Key *urls, uint32_t n) {
  for (uint32_t r = 0; r < n; r++) {
    uint32_t h = scramble(r ^ 0x5bd1e995u);
    char id[16];
    int k = 0;
    uint32_t v = r;
    do {
      id[k++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
      v /= 36;
    } while (v);
    char rev[16];
    for (int i = 0; i < k; i++)
      rev[i] = id[k - 1 - i];
    rev[k] = '\0';
    urls[r].len = (uint8_t)snprintf(urls[r].text, sizeof urls[r].text, "/%s/%s/item-%s%s",
                                    SECTIONS[h % 10], TOPICS[(h >> 12) % 8], rev, EXTS[(h >> 8) % 6]);
  }
}

/* ---- calendar ------------------------------------------------------------ */

static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Civil date from days since 1970-01-01 (the era-based algorithm). */
static void days_to_date(int64_t days, int64_t *y, int *m, int *d) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* ---- line writer --------------------------------------------------------- */

static const char *const AGENTS[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "curl/8.5.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
};
static const char *const REFERERS[] = {"-", "https://www.google.com/", "https://example.com/",
                                       "https://news.ycombinator.com/"};

static void usage(void) {
  fprintf(stderr, "usage: gen_log [-b BYTES[K|M|G] | -n LINES] [-s SEED] [-i N_IP] [-u N_URL]\n"
                  "               [-t EPOCH_SECONDS] [-c] [-o FILE]\n");
  exit(2);
}

static uint64_t parse_size(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    usage();
  switch (*end) {
  case 'K': case 'k': v <<= 10; end++; break;
  case 'M': case 'm': v <<= 20; end++; break;
  case 'G': case 'g': v <<= 30; end++; break;
  default: break;
  }
  if (*end)
    usage();
  return v;
}

int main(int argc, char **argv) {
  uint64_t max_bytes = 0, max_lines = 0, seed = 42;
  uint32_t n_ip = 100000, n_url = 10000;
  int64_t t0 = 1705276800; /* 2024-01-15T00:00:00Z */
  int combined = 0;
  const char *out_path = NULL;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-c")) {
      combined = 1;
      continue;
    }
    if (a[0] != '-' || !a[1] || a[2] || i + 1 >= argc)
      usage();
    const char *v = argv[++i];
    switch (a[1]) {
    case 'b': max_bytes = parse_size(v); break;
    case 'n': max_lines = parse_size(v); break;
    case 's': seed = strtoull(v, NULL, 10); break;
    case 'i': n_ip = (uint32_t)strtoul(v, NULL, 10); break;
    case 'u': n_url = (uint32_t)strtoul(v, NULL, 10); break;
    case 't': t0 = strtoll(v, NULL, 10); break;
    case 'o': out_path = v; break;
    default: usage();
    }
  }
  if (n_ip == 0 || n_ip > (1u << 17) || n_url == 0) {
    fprintf(stderr, "gen_log: -i must be 1..131072 and -u at least 1\n");
    return 2;
  }
  if (!max_bytes && !max_lines)
    max_lines = 1000;

  FILE *out = out_path ? fopen(out_path, "w") : stdout;
  if (!out) {
    fprintf(stderr, "gen_log: %s: %s\n", out_path, strerror(errno));
    return 1;
  }
  static char obuf[1 << 20];
  setvbuf(out, obuf, _IOFBF, sizeof obuf);

  seed_state = seed;
  Zipf zip, zurl;
  Key *ips = malloc((size_t)n_ip * sizeof *ips), *urls = malloc((size_t)n_url * sizeof *urls);
  if (!ips || !urls || zipf_init(&zip, n_ip, 1.0) || zipf_init(&zurl, n_url, 1.0)) {
    fprintf(stderr, "gen_log: out of memory\n");
    return 1;
  }
  make_ips(ips, n_ip);
  make_urls(urls, n_url);

  uint64_t micros = 0, bytes = 0, lines = 0;
  int64_t stamp_sec = -1;
  char stamp[64];
  char line[512];
  while (!max_lines || lines < max_lines) {
    int64_t sec = t0 + (int64_t)(micros / 1000000);
    if (sec != stamp_sec) { /* format the date once per second */
      int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400, y;
      int64_t rem = sec - days * 86400;
      int mo, d;
      days_to_date(days, &y, &mo, &d);
      snprintf(stamp, sizeof stamp, "%02d/%s/%04" PRId64 ":%02d:%02d:%02d +0000", d, MONTHS[mo - 1], y,
               (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
      stamp_sec = sec;
    }
    const Key *ip = &ips[zipf_draw(&zip)];
    const Key *url = &urls[zipf_draw(&zurl)];
    uint32_t pm = uniform(100), ps = uniform(100);
    const char *method = pm < 94 ? "GET" : pm < 99 ? "POST" : "HEAD";
    int status = ps < 88 ? 200 : ps < 93 ? 304 : ps < 97 ? 404 : ps < 99 ? 301 : 500;
    char size[24];
    if (status == 304)
      strcpy(size, "-");
    else
      snprintf(size, sizeof size, "%u", status == 200 ? 200 + uniform(50000) : 150 + uniform(400));
    int len = snprintf(line, sizeof line, "%s - - [%s] \"%s %s HTTP/1.1\" %d %s", ip->text, stamp, method,
                       url->text, status, size);
    if (combined) {
      const char *ref = REFERERS[uniform(4)];
      const char *agent = AGENTS[uniform(5)];
      len += snprintf(line + len, sizeof line - (size_t)len, " \"%s\" \"%s\"", ref, agent);
    }
    line[len++] = '\n';
    if (max_bytes && bytes + (uint64_t)len > max_bytes)
      break;
    fwrite(line, 1, (size_t)len, out);
    bytes += (uint64_t)len;
    lines++;
    micros += uniform(1201);
  }
  if (fflush(out) || (out != stdout && fclose(out))) {
    fprintf(stderr, "gen_log: write failed: %s\n", strerror(errno));
    return 1;
  }
  free(zip.cdf);
  free(zurl.cdf);
  free(ips);
  free(urls);
  return 0;
}
