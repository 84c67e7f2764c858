/*
 * hdfs.h — the runtime's WebHDFS client (hdfs.c, on libcurl). Internal to the
 * runtime: the sources, outputs and checkpoints use it for hdfs:// paths.
 *
 * URLs. `hdfs://HOST:PORT/PATH` and `webhdfs://HOST:PORT/PATH` mean the same
 * thing: HOST:PORT is the NameNode's HTTP address (not its RPC port; the
 * port defaults to 9870, Hadoop 3's). Requests go to
 * `http://HOST:PORT/webhdfs/v1/PATH?op=...&user.name=USER`. PATH is taken
 * literally, as Hadoop's Path does (a `%` or `?` in it is part of a name),
 * and percent-encoded on the wire.
 *
 * Paths given to the operations below are resolved against the client's URL:
 * "" is the URL's own path, a relative path is below it, a path starting
 * with `/` is absolute, and a full hdfs:// or webhdfs:// URL must name the
 * client's NameNode. Repeated and trailing slashes are dropped.
 *
 * Errors. Every operation returns 0 or a negative HDFS_E* code, and leaves a
 * one-line message in hdfs_errmsg(client) that names the operation and the
 * path and quotes the server's RemoteException (exception and message) if
 * there was one. Transient failures — connection failures, timeouts, an
 * interrupted transfer, HTTP 5xx, StandbyException, RetriableException —
 * are retried with a backoff doubling from 100 ms to 5 s, each retry logged
 * (hdfs_set_log) with its cause, up to `retries` attempts in all (0: no
 * limit); then the operation fails with HDFS_EUNAVAIL. Other 4xx answers fail
 * at once. A read interrupted mid-file resumes with a new OPEN at the offset
 * reached (after progress the attempts count from 1 again), so the caller
 * receives every byte exactly once.
 *
 * Timeouts: connecting gives up after connect_ms (default 10 s), and a
 * transfer (waiting for an answer included) during which no byte moves for
 * stall_s seconds (default 60 s) is abandoned, both as transient failures.
 *
 * Threads: a client, and the readers and writers made from it, may be used
 * by one thread at a time (any thread). Separate clients are independent.
 * Close a client's readers and writers before the client.
 * All requests of a client share one pool of keep-alive connections (one
 * curl multi handle), so a NameNode connection and a DataNode connection are
 * reused from request to request.
 */
#ifndef DS_HDFS_H
#define DS_HDFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
  HDFS_OK = 0,
  HDFS_EINVAL = -1,    /* a bad URL or argument, refused before any request */
  HDFS_ENOENT = -2,    /* FileNotFoundException (404) */
  HDFS_EACCES = -3,    /* AccessControlException, SecurityException, 401 */
  HDFS_EEXIST = -4,    /* FileAlreadyExistsException */
  HDFS_ENOTEMPTY = -5, /* PathIsNotEmptyDirectoryException */
  HDFS_EREMOTE = -6,   /* any other RemoteException or 4xx answer */
  HDFS_EUNAVAIL = -7,  /* transient failures until the attempts ran out */
  HDFS_EPROTO = -8,    /* an answer that does not follow the protocol */
  HDFS_EIO = -9,       /* a local error (the spill file of a writer) */
  HDFS_ENOMEM = -10,
  HDFS_EABORT = -11,   /* the caller's callback asked to stop */
};

typedef struct hdfs_client hdfs_client;
typedef struct hdfs_reader hdfs_reader;
typedef struct hdfs_writer hdfs_writer;

typedef enum { HDFS_FILE, HDFS_DIR, HDFS_SYMLINK } hdfs_kind;

/* A FileStatus. Strings are owned by the status (hdfs_status_clear). */
typedef struct {
  char *name;          /* pathSuffix: the entry's name in a listing, "" from hdfs_getstatus */
  hdfs_kind kind;
  int64_t length;      /* bytes (0 for a directory) */
  int64_t mtime_ms;    /* modificationTime, ms since the epoch */
  int64_t atime_ms;    /* accessTime */
  int permission;      /* e.g. 0644 */
  int replication;
  int64_t block_size;
  char *owner, *group;
} hdfs_status;

/* Is s an hdfs:// or webhdfs:// URL (by its scheme)? */
bool hdfs_is_url(const char *s);

/* A client for the NameNode of url (the URL's path becomes the base of
 * relative paths). user: the user.name of every request; NULL or "" takes
 * $HADOOP_USER_NAME, else the login name. retries: attempts per request, 0
 * for no limit. On failure returns NULL and, if err is not NULL, a message
 * the caller frees. */
hdfs_client *hdfs_open(const char *url, const char *user, int64_t retries, char **err);
void hdfs_close(hdfs_client *c);

/* connect_ms: connection timeout; stall_s: seconds without a byte moving
 * before a transfer is abandoned. 0 keeps the current value. */
void hdfs_set_timeouts(hdfs_client *c, long connect_ms, long stall_s);
/* Where retry messages go (one line, no newline). The default writes
 * "job: <line>" to stderr, as the runtime's own messages. */
void hdfs_set_log(hdfs_client *c, void (*log)(void *ctx, const char *line), void *ctx);

/* The last error's message ("" if none); valid until the next call. */
const char *hdfs_errmsg(const hdfs_client *c);
const char *hdfs_strerror(int code);
const char *hdfs_user(const hdfs_client *c);
/* The absolute HDFS path the client's URL names, e.g. "/data/in". */
const char *hdfs_base_path(const hdfs_client *c);
/* Connections curl opened so far (requests beyond them reused one). */
long hdfs_connects(const hdfs_client *c);

/* GETFILESTATUS. */
int hdfs_getstatus(hdfs_client *c, const char *path, hdfs_status *out);
/* LISTSTATUS: the entries of a directory (of a file: the file itself, with
 * name ""), sorted by name (bytewise). *out is an array of *n the caller
 * frees with hdfs_free_statuses. */
int hdfs_list(hdfs_client *c, const char *path, hdfs_status **out, size_t *n);
void hdfs_status_clear(hdfs_status *st);
void hdfs_free_statuses(hdfs_status *v, size_t n);

/* MKDIRS (with missing parents). permission < 0: the server's default.
 * *made (may be NULL) receives the answer's boolean. */
int hdfs_mkdirs(hdfs_client *c, const char *path, int permission, bool *made);
/* RENAME; *renamed receives the boolean (false: HDFS refused, e.g. the source
 * is missing or the destination exists). With renamed NULL a false answer
 * is an error (HDFS_EREMOTE). */
int hdfs_rename(hdfs_client *c, const char *src, const char *dst, bool *renamed);
/* DELETE; *deleted receives the boolean (false: nothing was there). */
int hdfs_delete(hdfs_client *c, const char *path, bool recursive, bool *deleted);

/* OPEN for streaming: bytes [offset, offset+length) of a file (length < 0:
 * to the end). Opening waits for the first answer, so a missing file or a
 * refused permission fails here. Memory stays bounded (about 1 MiB) however
 * large the file. */
int hdfs_reader_open(hdfs_client *c, const char *path, int64_t offset, int64_t length,
                     hdfs_reader **out);
/* Up to n bytes into buf: the count, 0 at the end, or a negative HDFS_E*. */
ssize_t hdfs_read(hdfs_reader *r, void *buf, size_t n);
/* Offset in the file of the next byte hdfs_read returns. */
int64_t hdfs_reader_offset(const hdfs_reader *r);
void hdfs_reader_close(hdfs_reader *r);
/* The same, pushed: fn receives consecutive pieces until the end; a non-zero
 * return from fn stops the read with HDFS_EABORT. */
int hdfs_read_range(hdfs_client *c, const char *path, int64_t offset, int64_t length,
                    int (*fn)(void *ctx, const void *data, size_t n), void *ctx);

/* CREATE (flags: HDFS_OVERWRITE; permission < 0: the server's default) and
 * APPEND. The data written is kept (in memory up to 4 MiB, beyond in an
 * unlinked temporary file under $TMPDIR) and sent by hdfs_writer_close with
 * the two-step protocol (PUT/POST to the NameNode, then the data to the
 * DataNode its 307 names), so a failed upload can be retried whole. A
 * CREATE retried after its data step failed sends overwrite=true (the file
 * may exist half-written). An APPEND retried after its data step failed
 * sends only the bytes beyond the file's new length. Without
 * HDFS_OVERWRITE, hdfs_create fails with HDFS_EEXIST at once if the path
 * exists; hdfs_append fails with HDFS_ENOENT at once if it does not. */
enum { HDFS_OVERWRITE = 1 };
int hdfs_create(hdfs_client *c, const char *path, int flags, int permission, hdfs_writer **out);
int hdfs_append(hdfs_client *c, const char *path, hdfs_writer **out);
int hdfs_write(hdfs_writer *w, const void *data, size_t n);
/* Uploads and frees the writer: 0 once the file holds the data. */
int hdfs_writer_close(hdfs_writer *w);
/* Frees the writer without sending anything. */
void hdfs_writer_abort(hdfs_writer *w);
/* create + write + close. */
int hdfs_put(hdfs_client *c, const char *path, int flags, const void *data, size_t n);

#endif
