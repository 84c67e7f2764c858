/*
 * storage.h — the file operations of sources, outputs, checkpoints and the
 * journal, over local paths and hdfs:// (WebHDFS) behind the same calls
 * (storage.c). Internal to the runtime.
 *
 * A path is local (POSIX calls, as the runtime always made them: open,
 * rename, fsync, ...) or an `hdfs://HOST:PORT/PATH` / `webhdfs://...` URL,
 * served by the WebHDFS client of hdfs.c. `file://` is removed by
 * rt_path_arg before a path gets here. HDFS clients are kept in a pool, one
 * per NameNode and concurrent caller: a call takes a free client of its
 * NameNode (or opens one) and gives it back when it returns (a reader, a
 * writer or an appender holds its client until it is closed), so worker
 * threads that write part files at the same time each use their own, and a
 * connection is reused from call to call.
 *
 * Errors: every call returns 0 (or a count) or a negative errno: -ENOENT,
 * -EACCES, -EEXIST, -ENOTEMPTY for what they mean on either side; for HDFS
 * also -ETIMEDOUT when a request still failed after its attempts (the
 * `retries` setting: connection failures, timeouts, 5xx, StandbyException
 * are retried with a backoff doubling from 100 ms to 5 s, each retry logged
 * on stderr), -EREMOTEIO for another refusal (a 4xx answer), -EPROTO for an
 * answer that breaks the protocol. rt_st_why(rc) gives the text to print:
 * for an HDFS failure the client's message (the operation, the URL and the
 * server's RemoteException), else strerror. It is per thread and valid until
 * that thread's next storage call.
 *
 * What holds on HDFS where a local file would be fsync'd: a CREATE or APPEND
 * whose answer arrived is on the DataNodes (the DataNode answers once the
 * data is written and the file closed), so `sync` needs nothing more; a
 * RENAME is atomic at the NameNode, which logs it in its edit log before it
 * answers, so rt_st_sync_dir does nothing. HDFS has no rename over an
 * existing file: rt_st_rename deletes such a destination and renames again
 * (not atomic; the callers only replace files they can lose). There is no TRUNCATE in
 * the protocol subset used: rt_st_truncate rewrites the kept prefix to a
 * hidden `.NAME.trunc` file, moves the file aside to `.NAME.old`, renames
 * the new one into place and deletes the old one; rt_st_recover_truncate
 * finishes or undoes that after a crash.
 */
#ifndef DS_STORAGE_H
#define DS_STORAGE_H

#include "ds_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Is path an hdfs:// or webhdfs:// URL? */
bool rt_st_is_remote(const char *path);

/* The user.name and the attempts per request of the HDFS clients (§9:
 * hdfsUser, else HADOOP_USER_NAME, else the login name; retries, 0 for no
 * limit). Every user calls it with the job's settings before its first
 * call; the first values are kept. */
void rt_st_configure(const char *hdfs_user, int64_t retries);

/* A node's path argument as a malloc'd C string: `file://` removed, an
 * hdfs:// or webhdfs:// URL kept (checked: NULL and *msg for a URL that
 * names no NameNode), NULL and *msg for an empty path or a NUL byte. */
char *rt_path_arg(ds_str arg, const char **msg);

/* The message for a negative result of a storage call (see above). */
const char *rt_st_why(int rc);
/* Whether rc says an HDFS request still failed after its retries (the
 * server is unavailable: a runtime failure, exit 1, even at start). */
bool rt_st_unavailable(int rc);

typedef enum { RT_ST_FILE, RT_ST_DIR, RT_ST_OTHER } rt_st_kind;

typedef struct rt_st_info {
  rt_st_kind kind;
  int64_t size;      /* bytes of a file */
  int64_t mtime_ms;  /* modification time, ms since the epoch */
} rt_st_info;

typedef struct rt_st_entry {
  char *name;
  rt_st_info st;
} rt_st_entry;

/* stat(2) (following symlinks), or GETFILESTATUS. -ENOENT when missing. */
int rt_st_stat(const char *path, rt_st_info *out);
/* The entries of a directory ("." and ".." left out), sorted by name
 * (bytewise); an entry that vanished while it was listed is left out
 * (local). *out is freed with rt_st_free_list. */
int rt_st_list(const char *dir, rt_st_entry **out, int64_t *n);
void rt_st_free_list(rt_st_entry *v, int64_t n);
/* mkdir -p (the directory and its missing parents); an existing directory
 * is fine, a file in the way is -EEXIST (local: -ENOTDIR). */
int rt_st_mkdirs(const char *path);
/* Writes all n bytes to a local file descriptor (again after EINTR and
 * short writes): 0 or -errno (-EIO if the file accepts nothing). */
int rt_write_all(int fd, const void *data, size_t n);
/* Renames a file or directory. Local: rename(2) (replaces a file or an
 * empty directory at `to`). HDFS: RENAME; when HDFS refuses because a file
 * is at `to`, that file is deleted and the rename tried again. An existing
 * directory at `to` must be moved away first: HDFS would move `from` into
 * it (sink_text.c checks). A retried RENAME whose first answer was lost
 * (from gone, to there) counts as done. */
int rt_st_rename(const char *from, const char *to);
/* Removes a file, or a directory with everything below it when recursive
 * (local: a directory of plain files, as the runtime leaves them). 0 also
 * when nothing was there. */
int rt_st_remove(const char *path, bool recursive);
/* Makes the renames and creations in dir durable: fsync of the directory
 * (local; a file system that cannot, EINVAL, is taken as is), nothing on
 * HDFS (the NameNode logs before it answers). */
int rt_st_sync_dir(const char *dir);

/* A whole file in memory: *data (malloc'd, free it) of *len bytes. Local:
 * the bytes fstat promised (a file that grew is read as it was). A
 * directory or another kind of file is -EISDIR. */
int rt_st_read_all(const char *path, unsigned char **data, size_t *len);

/* Streaming read of bytes [offset, offset + length) (length < 0: to the
 * end). HDFS memory stays bounded however large the file; a DataNode that
 * drops the connection is read again from the offset reached. */
typedef struct rt_st_reader rt_st_reader;
int rt_st_open_read(const char *path, int64_t offset, int64_t length, rt_st_reader **out);
/* Up to n bytes: the count, 0 at the end, or a negative error. */
ssize_t rt_st_read(rt_st_reader *r, void *buf, size_t n);
void rt_st_close_read(rt_st_reader *r);

/* A new file (replacing one of that name): local open(O_CREAT|O_TRUNC);
 * HDFS CREATE with overwrite, the data sent when it is closed (kept in
 * memory up to 4 MiB, beyond in a spill file). */
typedef struct rt_st_writer rt_st_writer;
int rt_st_create(const char *path, rt_st_writer **out);
int rt_st_write(rt_st_writer *w, const void *data, size_t n);
/* Local: fsync first when `sync`, then close. HDFS: uploads (its answer
 * means the data is on the DataNodes). Frees w whatever happens. */
int rt_st_close_write(rt_st_writer *w, bool sync);
/* Frees w; the file (local) is left as far as it was written. */
void rt_st_abort_write(rt_st_writer *w);
/* create + write + close. */
int rt_st_put(const char *path, const void *data, size_t n, bool sync);

/* A file appended to record by record (the journal). Opening creates it if
 * it does not exist (local: O_APPEND; HDFS: the first record CREATEs it). */
typedef struct rt_st_appender rt_st_appender;
int rt_st_open_append(const char *path, rt_st_appender **out);
/* Appends n bytes. Local: write(2), then fdatasync when `sync`. HDFS: one
 * APPEND (or the CREATE) request; its answer means the bytes are on the
 * DataNodes, whatever `sync`. */
int rt_st_append(rt_st_appender *a, const void *data, size_t n, bool sync);
/* Local: fdatasync. HDFS: nothing (every append was answered). */
int rt_st_append_sync(rt_st_appender *a);
void rt_st_close_append(rt_st_appender *a);

/* Cuts path to its first len bytes, durably. Local: ftruncate + fsync.
 * HDFS: the prefix (given in `prefix`, len bytes, as the caller read it) is
 * written to `.NAME.trunc` beside it, the file moved aside to `.NAME.old`,
 * the new one renamed into place, the old one deleted. */
int rt_st_truncate(const char *path, const void *prefix, size_t len);
/* After a crash during rt_st_truncate of a file of dir (HDFS; nothing to do
 * locally): a `.NAME.old` whose NAME is missing is renamed back (the file as
 * it was before the cut), one whose NAME exists is deleted; `.NAME.trunc`
 * files are deleted. */
int rt_st_recover_truncate(const char *dir);

#endif
