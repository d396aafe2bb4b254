#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"

/* The process's dirlocks.  Looked up only when a handle opens or closes,
 * so a list under one mutex is enough. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static bz_dirlock *registry;
static pid_t registry_pid;
static atomic_uint_fast64_t lock_generation;

int bz__dirlock_get(int dirfd, bz_dirlock **out)
{
    struct stat st;
    *out = NULL;
    if (fstat(dirfd, &st) != 0)
        return bz__err_os(errno, "cannot stat the data directory");
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
    if (l->fd < 0) {
        rc = bz__err_os(errno, "cannot open the lock file .lock");
        free(l);
        goto out;
    }
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        close(l->fd);
        free(l);
        rc = bz__err_os(EAGAIN, "cannot create the directory mutex");
        goto out;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->pid = getpid();
    l->refs = 1;
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

/* Generations are unique across every dirlock of the process, so a file
 * size cached under one hold is never mistaken for another's. */
static uint64_t next_gen(void)
{
    return atomic_fetch_add(&lock_generation, 1) + 1;
}

int bz__lock_acquire(bz_dirlock *l)
{
    if (bz__lock_held_by_me(l)) {
        l->depth++;
        return BZ_OK;
    }
    pthread_mutex_lock(&l->mu);
    while (flock(l->fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            pthread_mutex_unlock(&l->mu);
            return bz__err_os(e, "cannot lock .lock");
        }
    }
    l->depth = 1;
    l->gen = next_gen();
    atomic_store(&l->owner, pthread_self());
    atomic_store(&l->held, 1);
    return BZ_OK;
}

int bz__lock_release(bz_dirlock *l)
{
    if (!bz__lock_held_by_me(l))
        return bz__err(BZ_ELOCKED, "the calling thread does not hold the lock");
    if (--l->depth > 0)
        return BZ_OK;
    atomic_store(&l->held, 0);
    (void)flock(l->fd, LOCK_UN);
    pthread_mutex_unlock(&l->mu);
    return BZ_OK;
}
