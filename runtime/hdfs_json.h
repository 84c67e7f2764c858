/*
 * hdfs_json.h — the small JSON parser behind the WebHDFS client (hdfs.c).
 *
 * A strict RFC 8259 parser into a read-only tree that lives in one arena:
 * hj_parse checks the whole text (grammar, escapes, nesting depth, nothing
 * but whitespace after the value) before handing out the tree, and hj_free
 * releases it at once. No dependency; internal to the runtime.
 *
 * Decisions where RFC 8259 leaves room: strings keep their bytes as sent
 * (no UTF-8 validation; a \u0000 escape gives a NUL inside the string, whose
 * length is `len`); a lone UTF-16 surrogate escape becomes U+FFFD; numbers
 * are kept as a double and, when written without fraction or exponent and
 * within int64, also exactly as an integer; duplicate object keys are kept,
 * hj_get finds the first; nesting deeper than HJ_MAX_DEPTH is refused.
 */
#ifndef DS_HDFS_JSON_H
#define DS_HDFS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HJ_MAX_DEPTH 128

typedef enum { HJ_NULL, HJ_FALSE, HJ_TRUE, HJ_NUMBER, HJ_STRING, HJ_ARRAY, HJ_OBJECT } hj_type;

typedef struct hj_value hj_value;
typedef struct hj_member hj_member;

struct hj_value {
  hj_type type;
  bool is_int;       /* HJ_NUMBER: written as an integer that fits int64 */
  size_t len;        /* HJ_STRING: bytes; HJ_ARRAY: items; HJ_OBJECT: members */
  int64_t i;         /* HJ_NUMBER with is_int */
  double num;        /* HJ_NUMBER */
  char *str;         /* HJ_STRING, NUL-terminated */
  hj_value *items;   /* HJ_ARRAY */
  hj_member *members; /* HJ_OBJECT, in document order */
};

struct hj_member {
  char *key;         /* NUL-terminated */
  size_t key_len;
  hj_value value;
};

typedef struct hj_doc hj_doc;

/* Parses text[0..n). On success returns the document; on failure NULL with a
 * message ("... at byte N") in err (err may be NULL). */
hj_doc *hj_parse(const char *text, size_t n, char *err, size_t errlen);
const hj_value *hj_root(const hj_doc *d);
void hj_free(hj_doc *d);

/* The first member named key of an object, or NULL (also when obj is NULL or
 * not an object). */
const hj_value *hj_get(const hj_value *obj, const char *key);
/* The string of a HJ_STRING value, else NULL. */
const char *hj_string(const hj_value *v);
/* An integer value: true and *out set for a HJ_NUMBER with is_int. */
bool hj_int(const hj_value *v, int64_t *out);

#endif
