#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"

static uint64_t lock_generation;  /* process-wide, under each lock's mu */
static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;

int bz__lock_init(bz_wlock *l, int dirfd)
{
    l->fd = openat(dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                   0600);
    if (l->fd < 0)
        return bz__err_os(errno, "cannot open the lock file .lock");
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        close(l->fd);
        return bz__err_os(EAGAIN, "cannot create the handle mutex");
    }
    atomic_store(&l->held, 0);
    l->depth = 0;
    l->gen = 0;
    return BZ_OK;
}

void bz__lock_destroy(bz_wlock *l)
{
    pthread_mutex_destroy(&l->mu);
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

int bz__lock_held_by_me(bz_wlock *l)
{
    return atomic_load(&l->held) &&
           pthread_equal(atomic_load(&l->owner), pthread_self());
}

/* Generations are unique across every handle of the process, so a file
 * size cached under one handle's hold is never mistaken for another's. */
static uint64_t next_gen(void)
{
    pthread_mutex_lock(&gen_mu);
    uint64_t g = ++lock_generation;
    pthread_mutex_unlock(&gen_mu);
    return g;
}

int bz__lock_acquire(bz_wlock *l)
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

int bz__lock_release(bz_wlock *l)
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
