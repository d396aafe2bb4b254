/*
 * shm.h - the shared segment of a data directory: page cache, file sizes,
 * attached processes, statistics.  Design and invariants: shm/README.md.
 *
 * Every call except bz__seg_attach/detach/remove and the statistics
 * snapshot requires the directory's writer lock (lockmgr rule L1).
 */
#ifndef BZ_SHM_H
#define BZ_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#define BZ_SHM_PAGE 4096
#define BZ_SHM_DEFAULT_MB 32
/* Where shm_open puts segments; its free space bounds the cache. */
#define BZ_SHM_FS "/dev/shm"

typedef struct bz_seg bz_seg;

/* How the process that creates a segment sizes it (shm/README.md,
 * "Size"). */
struct bz_seg_sizing {
    size_t cache_bytes;        /* 0: follow the data                      */
    const char *source;        /* who asked for cache_bytes, for messages */
    uint64_t data_bytes;       /* the table files' bytes now              */
    uint32_t files;            /* table files the opener's schema names   */
};
/* The cache that follows data_bytes of data: 1.25 x, at least 32 MiB, at
 * most a quarter of RAM and half of /dev/shm's free space (the cap wins).
 * why, when not NULL, says which bound decided. */
size_t bz__seg_default_cache(uint64_t data_bytes, char *why, size_t len);
/* The largest cache a user may ask for: half of RAM, at most 2^24
 * frames. */
size_t bz__seg_max_cache(void);
/* The smallest: 8 frames. */
#define BZ_SHM_MIN_CACHE (8u * BZ_SHM_PAGE)
/* The most files a segment's table can hold. */
uint32_t bz__seg_max_files_limit(void);

/* The segment's name for a directory ("/bazoola-<dev>-<ino>"). */
void bz__seg_name(dev_t dev, ino_t ino, char *buf, size_t len);

/* Attach to the directory's segment, creating or rebuilding it as needed;
 * the caller holds the directory's flock.  token identifies this very
 * directory (inode and birth time of DIR/.lock): a directory removed and
 * recreated with the same inode must not find the old one's cache.
 * sz only matters to the process that creates the segment (and to one
 * that finds a segment too small for its schema that nobody uses). */
int bz__seg_attach(const char *dir, dev_t dev, ino_t ino,
                   const uint64_t token[2], const struct bz_seg_sizing *sz,
                   bz_seg **out);
/* Did this process's attach create the segment (an earlier one, and any
 * undo log in it, was lost)? */
bool bz__seg_created(bz_seg *s);
/* Leave the process slot and unmap; the last process out removes the
 * segment.  The caller holds the directory's flock. */
void bz__seg_detach(bz_seg *s);
/* Remove the segment of a directory (the object only: attached processes
 * keep their mapping).  BZ_ENOTFOUND when there is none; BZ_ELOCKED,
 * naming them, when live processes use it, unless force. */
int bz__seg_remove(dev_t dev, ino_t ino, bool force);

/* ---- files (under the lock) ---- */
/* Is name in the file table already?  How many more names fit?  Both
 * under the lock: an open checks its schema fits before creating a file. */
bool bz__seg_has_file(bz_seg *s, const char *name);
uint32_t bz__seg_files_free(bz_seg *s);
/* The slot of file name (a table file), added when new. */
int bz__seg_file(bz_seg *s, const char *name, int *slot);
/* Check the file against its baseline (shm/README.md, "Outside
 * writers"): drops its pages unless it provably did not change
 * (*changed), and marks it checked in this lock epoch.  *reopen is set
 * when the name now names another inode than fd_ino, the one the caller's
 * descriptor holds (the caller must reopen and call again). */
int bz__seg_check_file(bz_seg *s, int slot, int dirfd, const char *name,
                       int fd, uint64_t fd_ino, bool *reopen, bool *changed);
/* Was the file looked at in the current lock epoch, through the same
 * inode as fd_ino (nothing to look at)? */
bool bz__seg_file_fresh(bz_seg *s, int slot, uint64_t fd_ino);
/* Before the first change of a file in a hold (fd: the caller's
 * descriptor, valid until the hold ends). */
void bz__seg_note_dirty(bz_seg *s, int slot, int fd);
/* Take the baseline of every file written since the last call again, so
 * an outside write after ours shows.  Called at every commit or rollback
 * (the log's end) and, as a last resort, before the flock is released. */
void bz__seg_rebaseline(bz_seg *s);
int bz__seg_file_size(bz_seg *s, int slot, int fd, int64_t *size);

/* ---- optimistic reads (no lock; see lockmgr/README.md) ---- */
/* Returned when an optimistic read cannot be served from the cache as it
 * stands (a miss, a frame changing): take the lock and read again. */
#define BZ_SEG_RETRY 1000
/* Returned when the file was last looked at too long before the read
 * began: bz__seg_refresh_opt may vouch for it, else take the lock. */
#define BZ_SEG_STALE 1001
/* The sequence number before a read (odd: a write is running); also
 * notes when the read began (bz__opt_started, in the segment's ticks). */
uint64_t bz__seg_read_begin(bz_seg *s);
extern __thread int64_t bz__opt_started;
/* Without the lock: does the file, stat by name, still equal its trusted
 * baseline?  Then it is looked at as of now (BZ_OK); else BZ_SEG_RETRY. */
int bz__seg_refresh_opt(bz_seg *s, int slot, int dirfd, const char *name);
/* A read that begins this long after a file was last looked at for
 * outside changes takes the lock instead.  Half of the promised bound
 * (a read that starts 1 ms after an outside writer released the flock
 * sees its data; shm/README.md), the other half being margin. */
#define BZ_SHM_STALE_NS 500000
/* Did no write start or finish since begin returned seq? */
bool bz__seg_read_valid(bz_seg *s, uint64_t seq);
int bz__seg_read_opt(bz_seg *s, int slot, int64_t off, void *buf, size_t len,
                     size_t *got);
int bz__seg_size_opt(bz_seg *s, int slot, int64_t *size);
/* Add this thread's batched hit/miss counts to the segment. */
void bz__cache_flush_counts(bz_seg *s);
/* The calling thread's lookups in any segment since it started. */
void bz__cache_thread_lookups(uint64_t *hits, uint64_t *misses);
void bz__seg_count_read(bz_seg *s, bool optimistic, bool retried);

/* Read len bytes at off, retrying interrupted and short reads; *got < len
 * only at end of file.  name is for the message.  The one read loop of the
 * cache, the checker's comparison and the engine's uncached reads. */
int bz__pread_full(int fd, const char *name, int64_t off, void *buf,
                   size_t len, size_t *got);

/* ---- pages (under the lock) ---- */
int bz__seg_read(bz_seg *s, int slot, int fd, int64_t off, void *buf,
                 size_t len, size_t *got);
/* The file was written (pwrite done) / truncated: update frames, size. */
void bz__seg_wrote(bz_seg *s, int slot, int64_t off, const void *buf,
                   size_t len);
void bz__seg_truncated(bz_seg *s, int slot, int64_t size);

/* ---- the writer lock's shared half (lockmgr owns the protocol) ---- */
pthread_mutex_t *bz__seg_mutex(bz_seg *s);
/* Statistics at acquisition (after the wait) and release. */
void bz__seg_lock_taken(bz_seg *s, bool contended, uint64_t wait_ns);
void bz__seg_lock_leaving(bz_seg *s, uint64_t hold_ns);
void bz__seg_note_owner_dead(bz_seg *s);

/* ---- the write in progress and its undo log (under the lock) ---- */
/* Open the log (no-op when a batch has it open) and make the sequence
 * number odd. */
void bz__seg_write_begin(bz_seg *s);
/* Record what a change of file slot is about to overwrite (old, len at
 * off; the size old_size) and what it will leave (nbuf, nlen at off: the
 * bytes written, none for a truncate; the size new_size). */
int bz__seg_undo_add(bz_seg *s, int dirfd, int slot, int64_t off,
                     int64_t old_size, const void *old, size_t len,
                     int64_t new_size, const void *nbuf, size_t nlen);
/* Commit: clear the log, make the sequence number even. */
void bz__seg_write_end(bz_seg *s, int dirfd);
bool bz__seg_write_active(bz_seg *s);
/* Undo a dead writer's half-done write from its log (no-op when the log is
 * not active); drops the cache; *recovered says whether anything ran.
 * A log that a file changed since refuses (BZ_ECORRUPT) and stays; with
 * discard_refused (a repair) it is closed instead, unreplayed. */
int bz__seg_recover(bz_seg *s, int dirfd, bool discard_refused,
                    bool *recovered);


/* ---- statistics ---- */
enum bz_seg_counter {
    BZ_C_HITS, BZ_C_MISSES, BZ_C_EVICTIONS, BZ_C_PAGE_READS, BZ_C_PAGE_WRITES,
    BZ_C_BYTES_READ, BZ_C_BYTES_WRITTEN, BZ_C_DROPS, BZ_C_OUTSIDE, BZ_C__COUNT
};

struct bz_seg_file_stat {
    char name[128];
    int64_t size;
    uint64_t frames;
    uint64_t c[BZ_C__COUNT];
};

struct bz_seg_proc_stat {
    pid_t pid;
    bool alive;
    uint64_t attached_at;   /* unix seconds */
};

struct bz_seg_lock_snapshot {
    uint64_t acquisitions, contended, wait_ns, wait_max_ns, hold_ns;
    uint64_t holder_pid, read_retries, read_fallbacks, owner_dead;
    uint64_t wait_hist[16];
    int nlog;
    struct { int64_t pid; uint64_t at, records, bytes; } log[8];
};

struct bz_seg_snapshot {
    char name[64];
    uint64_t size, page_size, nframes, frames_used, created_at;
    uint32_t version, owner_uid;
    uint64_t recoveries;    /* dead writers whose pages were dropped */
    bool mgtime;            /* the file system gives multigrain ctimes */
    uint64_t c[BZ_C__COUNT];
    int nfiles, nprocs;
    struct bz_seg_file_stat *files;
    struct bz_seg_proc_stat *procs;
    struct bz_seg_lock_snapshot lock;
};

/* Map the directory's existing segment read-only-ish and copy its
 * statistics (BZ_ENOTFOUND when there is no segment). */
int bz__seg_snapshot(dev_t dev, ino_t ino, struct bz_seg_snapshot *out);
void bz__seg_snapshot_free(struct bz_seg_snapshot *snap);
/* Zero the counters (under the lock). */
int bz__seg_reset(dev_t dev, ino_t ino);

#endif
