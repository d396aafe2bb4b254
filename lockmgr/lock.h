/*
 * lock.h - the writer lock of a data directory (issue-2 form).
 *
 * Two layers, always taken in this order and released in reverse:
 *   1. a process-local mutex of the bz_db handle: threads of one process
 *      queue here, so the kernel lock below sees one owner per handle;
 *   2. flock(LOCK_EX) on DIR/.lock: processes queue here.  The kernel drops
 *      it when the holder dies, so a crashed process never wedges the rest.
 * The lock is re-entrant per thread: nested acquisitions only count.
 *
 * Rules:
 *   L1. Every read and write of a table file happens with the lock held.
 *   L2. gen changes at every outermost acquisition, so cached file sizes
 *       from an earlier hold are never trusted (another process may have
 *       written in between).
 *   L3. Hold no other engine lock while acquiring this one.
 */
#ifndef BZ_LOCK_H
#define BZ_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct bz_wlock {
    pthread_mutex_t mu;
    int fd;                  /* DIR/.lock                                */
    _Atomic(pthread_t) owner;/* meaningful only while depth > 0          */
    atomic_int held;         /* 1 while some thread owns the lock        */
    int depth;               /* protected by mu                          */
    uint64_t gen;            /* protected by mu; see L2                  */
} bz_wlock;

int bz__lock_init(bz_wlock *l, int dirfd);
void bz__lock_destroy(bz_wlock *l);
/* Returns BZ_OK or BZ_EIO. */
int bz__lock_acquire(bz_wlock *l);
/* Returns BZ_OK, or BZ_ELOCKED when the calling thread does not hold it. */
int bz__lock_release(bz_wlock *l);
int bz__lock_held_by_me(bz_wlock *l);

#endif
