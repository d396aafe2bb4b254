/*
 * shm_int.h - the layout of the segment, shared by segment.c and cache.c.
 *
 * Every field says what protects it.  "lock" is the directory's writer
 * lock (lockmgr); "atomic" fields are read without it (bzstat) and updated
 * with uatomic_* under it.  Offsets are never read from the segment: each
 * attacher computes them from the validated signature (seg_layout).
 */
#ifndef BZ_SHM_INT_H
#define BZ_SHM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "shm.h"

#define BZ_SHM_MAGIC "BZSHM\0v1"
#define BZ_SHM_VERSION 4
#define BZ_SHM_CACHE_LINE 64
#define BZ_SHM_MAX_PROCS 256
/* The file table is sized from the opener's schema (twice its files, so
 * later schemas may add tables), within these bounds. */
#define BZ_SHM_MIN_FILES 1024
#define BZ_SHM_MAX_FILES 65536
#define BZ_SHM_HEADER_SIZE 4096

/* Fixed at creation; validated on every attach. */
struct shm_signature {
    uint32_t version;
    uint32_t page_size;
    uint32_t cache_line;
    uint32_t mutex_size;     /* sizeof(pthread_mutex_t) of the creator   */
    uint32_t max_procs;
    uint32_t max_files;
    uint32_t nframes;
    uint32_t nbuckets;
    uint64_t total_size;
};

#define BZ_SHM_WAIT_BUCKETS 16         /* log2 histogram of lock waits (us) */
#define BZ_SHM_RECOVERY_LOG 8

/* One owner-dead recovery, for bzstat. */
struct shm_recovery {
    int32_t pid;                     /* the writer that died               */
    uint32_t records;                /* undo records applied               */
    uint64_t at;                     /* unix seconds                       */
    uint64_t bytes;                  /* bytes restored                     */
};

/* The writer lock's shared half (lockmgr/README.md).  The mutex protects
 * every "lock" field of the segment; the counters are atomic. */
struct shm_lock {
    pthread_mutex_t mutex;           /* robust, process-shared             */
    uint64_t seq;                    /* __atomic: odd while a write runs   */
    int32_t holder_pid;              /* atomic: who holds it now (0: none) */
    uint32_t pad;
    uint64_t acquisitions, contended;          /* atomic */
    uint64_t wait_ns, wait_max_ns, hold_ns;    /* atomic */
    uint64_t wait_hist[BZ_SHM_WAIT_BUCKETS];   /* atomic: [i] waits < 2^i us */
    uint64_t read_retries, read_fallbacks, reads_optimistic; /* atomic */
    uint64_t owner_dead;             /* atomic: recoveries on EOWNERDEAD   */
    uint64_t epoch;                  /* lock: +1 at every outermost
                                        acquisition; a file checked in the
                                        current epoch cannot have changed
                                        since (we hold the flock)          */
    uint32_t log_next;               /* lock: ring index                   */
    uint32_t pad2;
    struct shm_recovery log[BZ_SHM_RECOVERY_LOG];
};

struct shm_header {
    union {
        struct {
            char magic[8];               /* immutable                      */
            struct shm_signature sig;    /* immutable                      */
            uint32_t owner_uid;          /* immutable                      */
            uint32_t ready;              /* atomic: 1 once initialised     */
            uint64_t dir_dev, dir_ino;   /* immutable                      */
            uint64_t dir_token[2];       /* immutable: DIR/.lock identity  */
            uint64_t created_at;         /* immutable, unix seconds        */
            /* Mutable, under the lock. */
            uint32_t clock_hand;
            uint32_t pad_;
            uint32_t nfiles;             /* entries in use (never shrinks) */
            uint32_t frames_used;        /* atomic                         */
            uint64_t recoveries;         /* atomic                         */
            uint64_t c[BZ_C__COUNT];     /* atomic: global counters        */
            /* Immutable, probed at creation (shm/README.md, "Outside
             * writers"): does the directory's file system give a changed
             * file a strictly later ctime once its ctime was queried
             * (multigrain timestamps)?  If not, a baseline is trusted only
             * once the coarse clock has moved margin_ns past its ctime. */
            uint32_t mgtime;
            /* Immutable: the clock of checked_tick (shm/README.md,
             * "Bounded staleness"): the TSC where it is the kernel's own
             * clocksource and runs at a constant rate (a few ns to read,
             * against ~20 for clock_gettime: a tenth of a cached point
             * read), else CLOCK_MONOTONIC in ns.  stale_ticks is
             * BZ_SHM_STALE_NS in that clock, calibrated at creation. */
            uint32_t tsc;
            int64_t ts_margin_ns;
            int64_t stale_ticks;
            /* Lock: the directory itself as last seen.  While it is
             * unchanged no name in it was replaced, so files are looked
             * at through their descriptors (cheaper than by name). */
            uint64_t dir_checked_epoch;
            int64_t dir_mtime_ns, dir_ctime_ns;
            uint32_t dir_base;           /* BASE_*                         */
            uint32_t dir_same;           /* its verdict in that epoch      */
            uint64_t dir_changes;        /* lock: looks that found it changed */
            /* Immutable: times are rounded down to this many ns before
             * any comparison (BAZOOLA_COARSE_TIMESTAMPS simulates a
             * coarse file system with it; 0 otherwise). */
            int64_t ts_round_ns;
        };
        char head_[1024];
    };
    union {
        struct shm_lock lock;            /* its own cache lines            */
        char lock_[BZ_SHM_HEADER_SIZE - 1024];
    };
};
_Static_assert(sizeof(struct shm_header) == BZ_SHM_HEADER_SIZE,
               "header size");
_Static_assert(sizeof(struct shm_lock) <= BZ_SHM_HEADER_SIZE - 1024,
               "lock area");

struct shm_proc {                    /* one per attached process           */
    int32_t pid;                     /* atomic; 0: free                    */
    uint32_t pad;
    uint64_t starttime;              /* /proc/<pid>/stat field 22          */
    uint64_t attached_at;            /* unix seconds                       */
    char pad2[BZ_SHM_CACHE_LINE - 24];
};
_Static_assert(sizeof(struct shm_proc) == BZ_SHM_CACHE_LINE, "proc slot");

/* What the segment knows of one file (shm/README.md, "Outside writers").
 * The baseline (ino, size, mtime, ctime) is the file as stat reported it
 * the last time an engine process looked, under the flock: at the first
 * access in a lock epoch, and at the end of a hold that wrote it. */
enum { BASE_UNKNOWN = 0, BASE_TRUSTED = 1, BASE_AMBIGUOUS = 2 };

struct shm_file {                    /* one per table file seen            */
    union {
        struct {
            char name[128];          /* immutable once set (lock)          */
            int64_t size;            /* lock; valid when size_valid        */
            uint32_t size_valid;     /* lock                               */
            uint32_t base;           /* lock: BASE_*                       */
            uint64_t ino;            /* lock: baseline                     */
            int64_t mtime_ns;        /* lock: baseline                     */
            int64_t ctime_ns;        /* lock: baseline                     */
            uint64_t checked_epoch;  /* lock: epoch of the last look       */
            int64_t checked_tick;    /* atomic: bz__seg_ticks just before
                                        the last look; lock-free readers
                                        trust the cache only shortly after */
            uint32_t dirty;          /* lock: written in the current
                                        operation, baseline not yet taken
                                        again (a dead writer's files)     */
            uint32_t pad0;
            uint64_t dir_seen;       /* lock: dir_changes at the last look
                                        by name: a look through a
                                        descriptor is only as good as it */
            uint64_t frames;         /* atomic: frames holding its pages   */
            uint64_t c[BZ_C__COUNT]; /* atomic                             */
        };
        char pad_[384];
    };
};
_Static_assert(sizeof(struct shm_file) == 384, "file entry");

/* Frame descriptor.  Written under the lock; read by optimistic readers
 * (lockmgr/README.md) with __atomic loads, validated by version. */
struct shm_frame {
    int32_t file;                    /* -1: free                           */
    int32_t next;                    /* hash chain, -1 ends                */
    int64_t page;
    uint32_t valid;                  /* bytes of the page held             */
    uint32_t ref;                    /* clock bit (readers set it too)     */
    uint64_t version;                /* odd while the frame changes owner  */
};
_Static_assert(sizeof(struct shm_frame) == 32, "frame descriptor");

/* Offsets of the areas, computed from a signature. */
struct shm_layout {
    size_t procs, files, undo, buckets, frames, data, total;
};

#define BZ_SHM_UNDO_SIZE (1u << 20)

/* The undo log of the write in progress (lockmgr/README.md, "Atomic
 * operations").  Under the lock; replayed by the next locker when its
 * writer died. */
struct shm_undo {
    uint32_t active;                 /* a write (or batch) is in progress  */
    uint32_t nrec;                   /* complete records                   */
    uint64_t used;                   /* bytes of records                   */
    int32_t pid;                     /* the writer                         */
    uint32_t spilled;                /* later records are in DIR/.undo     */
    uint64_t epoch;                  /* the writer's lock epoch: the files
                                        it looked at carry it (recovery)   */
    uint64_t pad[4];
    /* records follow: struct shm_undo_rec + old bytes, 8-byte aligned */
};

struct shm_undo_rec {
    int32_t file;                    /* file slot                          */
    uint32_t len;                    /* old bytes saved                    */
    int64_t off;
    int64_t old_size;
    /* What the change leaves, so recovery can tell "the dead writer's
     * change happened, and nothing since" from "an outside writer came
     * in" (undo.c, "Before replaying"). */
    int64_t new_size;                /* the file's size after the change   */
    uint32_t new_len;                /* bytes written at off (0: truncate) */
    uint32_t pad;
    /* then len old bytes, then new_len new bytes */
};

struct bz_seg {
    char name[64];
    int fd;
    void *base;
    size_t size;
    struct shm_layout lay;
    struct shm_header *h;
    struct shm_proc *procs;
    struct shm_file *files;
    int32_t *buckets;
    struct shm_frame *frames;
    struct shm_undo *undo;
    char *data;
    int my_slot;                     /* our process slot                   */
    /* Process-local, the lock holder's: slots written in this hold,
     * whose baselines are taken again before the flock is released. */
    struct { int32_t slot; int fd; } *dirty;
    uint32_t ndirty, dirty_cap;
    bool created;                    /* this attach made the segment       */
    bool tsc;                        /* copies of the header's clock       */
    int64_t stale_ticks;
};

void bz__seg_layout(const struct shm_signature *sig, struct shm_layout *lay);
void bz__seg_map_areas(bz_seg *s);
/* Drop every frame of file slot (or of every file when slot < 0). */
void bz__cache_drop(bz_seg *s, int slot, int64_t from_page);
void bz__cache_init(bz_seg *s);
/* A statx time in ns, rounded as the header says. */
static inline int64_t bz__seg_ts(const bz_seg *s, struct statx_timestamp t)
{
    int64_t v = t.tv_sec * 1000000000 + (int64_t)t.tv_nsec;
    int64_t r = s->h->ts_round_ns;
    return r > 1 ? v - v % r : v;
}

/* Does st show the file exactly as its baseline records it?  (Whether
 * that baseline is to be believed is the caller's question.) */
static inline bool bz__seg_stat_equal(const bz_seg *s, const struct shm_file *f,
                                      const struct statx *st)
{
    return __atomic_load_n(&f->ino, __ATOMIC_RELAXED) == st->stx_ino &&
           __atomic_load_n(&f->size, __ATOMIC_RELAXED) ==
               (int64_t)st->stx_size &&
           __atomic_load_n(&f->mtime_ns, __ATOMIC_RELAXED) ==
               bz__seg_ts(s, st->stx_mtime) &&
           __atomic_load_n(&f->ctime_ns, __ATOMIC_RELAXED) ==
               bz__seg_ts(s, st->stx_ctime);
}

/* The clock of checked_tick (see the header's tsc). */
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
static inline int64_t bz__seg_ticks(const bz_seg *s)
{
#if defined(__x86_64__)
    if (s->tsc)
        return (int64_t)__rdtsc();
#endif
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
