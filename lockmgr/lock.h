/*
 * lock.h - the writer lock of a data directory.
 *
 * One bz_dirlock per data directory per process, shared by every handle of
 * that process on that directory (found by the directory's device and
 * inode).  Two layers, always taken in this order and released in reverse:
 *   1. a process-local mutex: the threads of this process queue here, so
 *      the kernel lock below has one owner per process, and every handle of
 *      the process sees the same owner (no self-deadlock across handles);
 *   2. flock(LOCK_EX) on DIR/.lock: processes queue here.  The kernel drops
 *      it when the holder dies, so a crashed process never wedges the rest.
 * The lock is re-entrant per thread: nested acquisitions only count.
 *
 * Rules:
 *   L1. Every read and write of a table file, and every access to the
 *       shared segment's cache, happens with the lock held.
 *   L2. gen changes at every outermost acquisition, so sizes cached from an
 *       earlier hold are never trusted (another process may have written).
 *   L3. Hold no other engine lock while acquiring this one.
 *   L4. A dirlock belongs to the process that made it; after fork() the
 *       child makes its own (it would otherwise share the parent's flock).
 */
#ifndef BZ_LOCK_H
#define BZ_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

struct bz_seg;

typedef struct bz_dirlock {
    dev_t dev;
    ino_t ino;
    pid_t pid;               /* the process that made it (L4)            */
    int refs;                /* handles using it; under the registry lock */
    int fd;                  /* DIR/.lock                                */
    pthread_mutex_t mu;
    _Atomic(pthread_t) owner;/* meaningful only while held               */
    atomic_int held;
    int depth;               /* owner thread only                        */
    uint64_t gen;            /* set by the owner at acquisition (L2)     */
    struct bz_seg *seg;      /* the attached segment, or NULL; set under
                                the lock, lives until the last put      */
    int dirfd;               /* the data directory, for recovery        */
    int spin;                /* adaptive spin limit; owner only         */
    bool robust_taken;       /* this hold took the segment's mutex      */
    uint64_t taken_at;       /* ns, for the hold-time statistics        */
    struct bz_txn *batch;    /* the write batch of the holder, or NULL  */
    struct bz_dirlock *next; /* registry list                            */
} bz_dirlock;

/* The dirlock of the directory open as dirfd: found or made (opening
 * DIR/.lock).  Each get is matched by one put. */
int bz__dirlock_get(int dirfd, const char *dir, bz_dirlock **out);
/* The last put detaches the segment (seg_detach) and closes the lock. */
void bz__dirlock_put(bz_dirlock *l, void (*seg_detach)(struct bz_seg *));
/* Returns BZ_OK or BZ_EIO. */
int bz__lock_acquire(bz_dirlock *l);
/* Set by a repair around its acquisition: a dead writer's undo log that
 * cannot be replayed (a file changed since) is closed unreplayed. */
extern __thread bool bz__lock_repairing;
/* Nanoseconds the calling thread has waited in bz__lock_acquire. */
uint64_t bz__lock_thread_wait_ns(void);
/* Returns BZ_OK, or BZ_ELOCKED when the calling thread does not hold it. */
int bz__lock_release(bz_dirlock *l);
int bz__lock_held_by_me(bz_dirlock *l);
/* Depth of the calling thread's hold (0 when it does not hold it). */
int bz__lock_depth(bz_dirlock *l);
/* Once per process: prove EOWNERDEAD works (BZ_EIO when it does not). */
int bz__lock_probe_owner_dead(void);

#endif
