/*
 * fileio.h - the files of a table, and the undo log of one operation.
 *
 * Every byte the engine changes goes through bz__txn_write/bz__txn_truncate,
 * which first record what they overwrite (the old bytes and the old size).
 * If a later step of the operation fails, bz__txn_rollback restores every
 * file to its state before the operation, newest change first; so a failed
 * operation changes no byte of any file.  (Crash atomicity, where the undo
 * record must survive the process, is the lock manager's job, on top of the
 * same records.)
 *
 * Sizes are cached per file and trusted only while the writer lock is held
 * in the generation they were read in (see bz_file.gen).
 */
#ifndef BZ_FILEIO_H
#define BZ_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bz_seg;

typedef struct bz_file {
    int fd;
    const char *table;  /* for messages */
    char *name;         /* file name inside the data directory */
    int64_t size;       /* valid when gen == the lock generation */
    uint64_t gen;
    struct bz_seg *seg; /* shared mode: pages and size live there */
    int slot;           /* the file's entry in seg */
    uint64_t ino;       /* the inode fd holds */
    int dirfd;          /* the data directory (not ours to close) */
} bz_file;

/* Set while this thread runs an optimistic read (no lock held): reads and
 * sizes of shared-mode files come from the segment as it stands, and a
 * miss returns BZ_SEG_RETRY instead of loading (lockmgr/README.md). */
extern __thread bool bz__opt_read;

/* Open (creating it with contents init when missing and create is set).
 * Refuses symlinks and anything that is not a regular file. */
int bz__file_open(bz_file *f, int dirfd, const char *table, const char *name,
                  bool create, const char *init);
void bz__file_close(bz_file *f);
/* Shared mode: serve the file through seg's cache from now on. */
int bz__file_attach(bz_file *f, struct bz_seg *seg);
/* Shared mode, before a write operation touches the file: detect outside
 * changes (see shm/README.md), reopening the file if it was replaced. */
int bz__file_check(bz_file *f, int dirfd, bool *changed);
/* The size, from the cache when gen matches, else from fstat. */
int bz__file_size(bz_file *f, uint64_t gen, int64_t *size);
/* Read exactly len bytes at off; *got < len only at end of file. */
int bz__file_read(bz_file *f, int64_t off, void *buf, size_t len, size_t *got);
/* The file itself, bypassing the cache (the checker compares the two). */
int bz__file_pread(bz_file *f, int64_t off, void *buf, size_t len, size_t *got);

struct bz_undo;
typedef struct bz_txn {
    struct bz_undo *rec;
    size_t n, cap;
    uint64_t gen;
    struct bz_seg *seg; /* marks the write in progress (shm invariant 4) */
    bool marked;        /* the segment's undo log is open for us */
    bool batch;         /* part of a batch: the batch commits the log */
    int dirfd;
    struct bz_journal *journal; /* sync=full: the on-disk undo journal */
} bz_txn;

void bz__txn_begin(bz_txn *tx, uint64_t gen, struct bz_seg *seg, int dirfd);
int bz__txn_write(bz_txn *tx, bz_file *f, int64_t off, const void *buf,
                  size_t len);
int bz__txn_truncate(bz_txn *tx, bz_file *f, int64_t size);
/* Undo every change, newest first.  Returns BZ_OK or the first error (the
 * files may then be damaged: the error says so). */
int bz__txn_rollback(bz_txn *tx);
void bz__txn_end(bz_txn *tx);
/* The operation succeeded: with sync=full make it durable (data, then the
 * journal emptied); then end the transaction.  An error leaves it open for
 * the caller to roll back. */
int bz__txn_commit(bz_txn *tx);
/* Move tx's records to the end of into (a batch's). */
int bz__txn_absorb(bz_txn *into, bz_txn *tx);

/* Fault injection for tests: called before every file write or truncate
 * with a running count (from 1); a non-zero return makes that call fail
 * with that errno.  The hook may also end the process. */
typedef int (*bz_write_hook)(const char *file, int64_t off, size_t len,
                             uint64_t nth);
void bz__set_write_hook(bz_write_hook hook);

#endif
