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
#include <stdint.h>

#include "shm.h"

#define BZ_SHM_MAGIC "BZSHM\0v1"
#define BZ_SHM_VERSION 1
#define BZ_SHM_CACHE_LINE 64
#define BZ_SHM_MAX_PROCS 256
#define BZ_SHM_MAX_FILES 1024
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

struct shm_header {
    char magic[8];                   /* immutable                          */
    struct shm_signature sig;        /* immutable                          */
    uint32_t owner_uid;              /* immutable                          */
    uint32_t ready;                  /* atomic: 1 once initialised         */
    uint64_t dir_dev, dir_ino;       /* immutable                          */
    uint64_t dir_token[2];           /* immutable: identity of DIR/.lock   */
    uint64_t created_at;             /* immutable, unix seconds            */
    /* Mutable, under the lock. */
    uint32_t clock_hand;
    int32_t writer_pid;              /* invariant 4: a write in progress   */
    uint32_t nfiles;                 /* entries in use (never shrinks)     */
    uint32_t frames_used;            /* atomic                             */
    int64_t dir_mtime_ns;            /* last seen mtime of the directory   */
    uint64_t recoveries;             /* atomic                             */
    uint64_t c[BZ_C__COUNT];         /* atomic: global counters            */
    char reserved[BZ_SHM_HEADER_SIZE - 8 - sizeof(struct shm_signature) -
                  8 - 16 - 16 - 8 - 16 - 8 - 8 - 8 * BZ_C__COUNT];
};
_Static_assert(sizeof(struct shm_header) == BZ_SHM_HEADER_SIZE,
               "header size");

struct shm_proc {                    /* one per attached process           */
    int32_t pid;                     /* atomic; 0: free                    */
    uint32_t pad;
    uint64_t starttime;              /* /proc/<pid>/stat field 22          */
    uint64_t attached_at;            /* unix seconds                       */
    char pad2[BZ_SHM_CACHE_LINE - 24];
};
_Static_assert(sizeof(struct shm_proc) == BZ_SHM_CACHE_LINE, "proc slot");

struct shm_file {                    /* one per table file seen            */
    char name[128];                  /* immutable once set (lock)          */
    int64_t size;                    /* lock; valid when size_valid        */
    uint32_t size_valid;             /* lock                               */
    uint32_t stamp_dirty;            /* lock: written since last stamp     */
    uint64_t ino;                    /* lock: last seen identity           */
    int64_t mtime_ns;                /* lock                               */
    uint64_t frames;                 /* atomic: frames holding its pages   */
    uint64_t c[BZ_C__COUNT];         /* atomic                             */
    char pad[256 - 128 - 8 - 8 - 8 - 8 - 8 - 8 * BZ_C__COUNT];
};
_Static_assert(sizeof(struct shm_file) == 256, "file entry");

struct shm_frame {                   /* frame descriptor; all under lock   */
    int32_t file;                    /* -1: free                           */
    int32_t next;                    /* hash chain, -1 ends                */
    int64_t page;
    uint32_t valid;                  /* bytes of the page held             */
    uint32_t ref;                    /* clock bit                          */
    uint64_t pad;
};
_Static_assert(sizeof(struct shm_frame) == 32, "frame descriptor");

/* Offsets of the areas, computed from a signature. */
struct shm_layout {
    size_t procs, files, buckets, frames, data, total;
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
    char *data;
    int my_slot;                     /* our process slot                   */
};

void bz__seg_layout(const struct shm_signature *sig, struct shm_layout *lay);
void bz__seg_map_areas(bz_seg *s);
/* Drop every frame of file slot (or of every file when slot < 0). */
void bz__cache_drop(bz_seg *s, int slot, int64_t from_page);
void bz__cache_init(bz_seg *s);

#endif
