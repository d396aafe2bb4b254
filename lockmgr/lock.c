/*
 * lock.c - the writer lock: process mutex, robust shared mutex, flock.
 * The protocol and its argument: lockmgr/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "journal.h"
#include "lock.h"
#include "shm.h"

#define SPIN_MIN 16
#define SPIN_MAX 4000

/* The process's dirlocks.  Looked up only when a handle opens or closes,
 * so a list under one mutex is enough. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static bz_dirlock *registry;
static pid_t registry_pid;
static atomic_uint_fast64_t lock_generation;
__thread bool bz__lock_repairing;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Time this thread spent waiting for writer locks, in any directory: what
 * a caller needs to tell waiting from working (bz_lock_wait_ns). */
static _Thread_local uint64_t tl_wait_ns;

uint64_t bz__lock_thread_wait_ns(void)
{
    return tl_wait_ns;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- the EOWNERDEAD probe -------------------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_result; /* 0: works; else the errno-like failure */

/* Prove that a robust process-shared mutex whose holder dies is reported
 * as EOWNERDEAD to the next locker (Samba tdb does the same): without it,
 * a dead writer would wedge every process, and shared mode must not run. */
static void probe_owner_dead(void)
{
    pthread_mutex_t *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        probe_result = errno;
        return;
    }
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(m);
        _exit(0); /* dies holding it */
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        probe_result = pid < 0 ? errno : ECHILD;
    } else {
        int r = pthread_mutex_trylock(m);
        probe_result = r == EOWNERDEAD ? 0 : (r ? r : EINVAL);
        if (r == EOWNERDEAD || r == 0) {
            if (r == EOWNERDEAD)
                pthread_mutex_consistent(m);
            pthread_mutex_unlock(m);
        }
    }
    pthread_mutex_destroy(m);
    munmap(m, sizeof(*m));
}

int bz__lock_probe_owner_dead(void)
{
    pthread_once(&probe_once, probe_owner_dead);
    if (probe_result)
        return bz__err(BZ_EIO, "this platform does not report the death of "
                       "a mutex holder (EOWNERDEAD probe failed: %d); shared "
                       "lock mode cannot run here, use lock mode flock",
                       probe_result);
    return BZ_OK;
}

/* ---- the registry ---------------------------------------------------- */

int bz__dirlock_get(int dirfd, const char *dir, bz_dirlock **out)
{
    struct stat st;
    *out = NULL;
    if (fstat(dirfd, &st) != 0)
        return bz__err_os(errno, "cannot stat the data directory %s", dir);
    pthread_mutex_lock(&registry_mu);
    /* L4: after fork the inherited entries are the parent's. */
    if (registry_pid != getpid()) {
        registry = NULL;
        registry_pid = getpid();
    }
    for (bz_dirlock *l = registry; l; l = l->next)
        if (l->dev == st.st_dev && l->ino == st.st_ino) {
            l->refs++;
            *out = l;
            pthread_mutex_unlock(&registry_mu);
            return BZ_OK;
        }
    int rc = BZ_OK;
    bz_dirlock *l = calloc(1, sizeof(*l));
    if (!l) {
        rc = bz__nomem();
        goto out;
    }
    l->fd = openat(dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                   0600);
    l->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (l->fd < 0 || l->dirfd < 0) {
        rc = bz__err_os(errno, "cannot open the lock file %s/.lock", dir);
        if (l->fd >= 0)
            close(l->fd);
        if (l->dirfd >= 0)
            close(l->dirfd);
        free(l);
        goto out;
    }
    /* Threads of one process spin briefly on this one before sleeping. */
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    int e = pthread_mutex_init(&l->mu, &a);
    pthread_mutexattr_destroy(&a);
    if (e) {
        close(l->fd);
        close(l->dirfd);
        free(l);
        rc = bz__err_os(e, "cannot create the directory mutex");
        goto out;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->pid = getpid();
    l->refs = 1;
    l->spin = 100;
    atomic_store(&l->held, 0);
    l->next = registry;
    registry = l;
    *out = l;
out:
    pthread_mutex_unlock(&registry_mu);
    return rc;
}

void bz__dirlock_put(bz_dirlock *l, void (*seg_detach)(struct bz_seg *))
{
    if (!l)
        return;
    pthread_mutex_lock(&registry_mu);
    if (l->pid != getpid()) {
        /* A handle inherited across fork: the entry is the parent's
         * memory image; dropping our descriptor is all we may do. */
        pthread_mutex_unlock(&registry_mu);
        return;
    }
    if (--l->refs > 0) {
        pthread_mutex_unlock(&registry_mu);
        return;
    }
    for (bz_dirlock **p = &registry; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    if (l->seg && seg_detach) {
        /* Detaching may remove the segment: only under the flock. */
        while (flock(l->fd, LOCK_EX) != 0 && errno == EINTR)
            ;
        seg_detach(l->seg);
        (void)flock(l->fd, LOCK_UN);
    }
    pthread_mutex_destroy(&l->mu);
    close(l->fd);
    close(l->dirfd);
    free(l);
}

int bz__lock_held_by_me(bz_dirlock *l)
{
    return atomic_load(&l->held) &&
           pthread_equal(atomic_load(&l->owner), pthread_self());
}

int bz__lock_depth(bz_dirlock *l)
{
    return bz__lock_held_by_me(l) ? l->depth : 0;
}

static uint64_t next_gen(void)
{
    return atomic_fetch_add(&lock_generation, 1) + 1;
}

/* ---- acquire and release ---------------------------------------------- */

/* The robust mutex of the segment: try, spin a while (a handoff between
 * running processes costs well under a microsecond, waking a sleeper
 * about twenty), then sleep.  The spin adapts: it grows when spinning
 * got the lock and shrinks when it did not. */
static int robust_lock(bz_dirlock *l, bool *owner_died, bool *contended,
                       uint64_t *wait_ns)
{
    pthread_mutex_t *m = bz__seg_mutex(l->seg);
    int r = pthread_mutex_trylock(m);
    *contended = r == EBUSY;
    *wait_ns = 0;
    if (r == EBUSY) {
        uint64_t t0 = now_ns();
        int limit = l->spin, i;
        for (i = 0; i < limit && r == EBUSY; i++) {
            cpu_relax();
            r = pthread_mutex_trylock(m);
        }
        if (r == EBUSY) {
            l->spin -= l->spin / 8;
            if (l->spin < SPIN_MIN)
                l->spin = SPIN_MIN;
            r = pthread_mutex_lock(m);
        } else {
            l->spin += (2 * i - l->spin) / 8 + 1;
            if (l->spin > SPIN_MAX)
                l->spin = SPIN_MAX;
        }
        *wait_ns = now_ns() - t0;
    }
    *owner_died = r == EOWNERDEAD;
    if (r == EOWNERDEAD)
        return BZ_OK;
    if (r == ENOTRECOVERABLE)
        return bz__err(BZ_EIO, "the writer lock of this directory's shared "
                       "segment is unrecoverable; stop every process using "
                       "it and run `bazoola shm remove DIR`");
    if (r)
        return bz__err_os(r, "cannot lock the writer mutex");
    return BZ_OK;
}

int bz__lock_acquire(bz_dirlock *l)
{
    if (bz__lock_held_by_me(l)) {
        l->depth++;
        return BZ_OK;
    }
    /* Each stage is tried first and timed only when it has to wait, so
     * an uncontended acquisition reads no clock. */
    uint64_t t0;
    if (pthread_mutex_trylock(&l->mu) != 0) {
        t0 = now_ns();
        pthread_mutex_lock(&l->mu);
        tl_wait_ns += now_ns() - t0;
    }
    bool robust = l->seg != NULL, died = false, contended = false;
    uint64_t wait_ns = 0;
    int rc = BZ_OK;
    if (robust && (rc = robust_lock(l, &died, &contended, &wait_ns))) {
        pthread_mutex_unlock(&l->mu);
        return rc;
    }
    tl_wait_ns += wait_ns;
    int how = LOCK_EX | LOCK_NB;
    t0 = 0;
    while (flock(l->fd, how) != 0) {
        if (errno == EWOULDBLOCK && how != LOCK_EX) {
            how = LOCK_EX;
            t0 = now_ns();
            continue;
        }
        if (errno != EINTR) {
            int e = errno;
            if (robust)
                pthread_mutex_unlock(bz__seg_mutex(l->seg));
            pthread_mutex_unlock(&l->mu);
            return bz__err_os(e, "cannot lock .lock");
        }
    }
    if (t0)
        tl_wait_ns += now_ns() - t0;
    if (robust) {
        /* Recover before anyone can see the dead writer's half-done
         * write, then declare the mutex consistent again.  A log still
         * active without EOWNERDEAD is a recovery that failed before. */
        if (died || bz__seg_write_active(l->seg)) {
            bool done;
            if (died)
                bz__seg_note_owner_dead(l->seg);
            rc = bz__seg_recover(l->seg, l->dirfd, bz__lock_repairing, &done);
            /* The segment's log covered everything the journal holds. */
            if (!rc)
                rc = bz__journal_discard(l->dirfd);
        }
        if (died)
            pthread_mutex_consistent(bz__seg_mutex(l->seg));
        bz__seg_lock_taken(l->seg, contended, wait_ns);
        l->taken_at = now_ns();
    }
    l->robust_taken = robust;
    l->depth = 1;
    l->gen = next_gen();
    atomic_store(&l->owner, pthread_self());
    atomic_store(&l->held, 1);
    if (rc) {
        /* The files may be half-written: refuse this operation; the log
         * stays active, so the next locker tries the recovery again. */
        bz__lock_release(l);
        return rc;
    }
    return BZ_OK;
}

int bz__lock_release(bz_dirlock *l)
{
    if (!bz__lock_held_by_me(l))
        return bz__err(BZ_ELOCKED, "the calling thread does not hold the lock");
    if (--l->depth > 0)
        return BZ_OK;
    atomic_store(&l->held, 0);
    if (l->robust_taken) {
        /* Every commit already retook its files' baselines; any file
         * still noted as written gets its baseline here, while the flock
         * keeps outside writers out. */
        bz__seg_rebaseline(l->seg);
        bz__seg_lock_leaving(l->seg, now_ns() - l->taken_at);
    }
    (void)flock(l->fd, LOCK_UN);
    if (l->robust_taken)
        pthread_mutex_unlock(bz__seg_mutex(l->seg));
    pthread_mutex_unlock(&l->mu);
    return BZ_OK;
}
