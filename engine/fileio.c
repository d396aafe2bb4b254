#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "journal.h"
#include "shm.h"

struct bz_undo {
    bz_file *f;
    int64_t off;
    int64_t old_size;
    size_t len;   /* bytes saved: the part of [off, off+len) inside old_size */
    char *old;
};

__thread bool bz__opt_read;

static _Atomic(bz_write_hook) write_hook;
static atomic_uint_fast64_t write_count;

void bz__set_write_hook(bz_write_hook hook)
{
    atomic_store(&write_count, 0);
    atomic_store(&write_hook, hook);
}

static int hook_check(bz_file *f, int64_t off, size_t len)
{
    bz_write_hook h = atomic_load_explicit(&write_hook, memory_order_relaxed);
    if (!h)
        return 0;
    uint64_t nth = atomic_fetch_add(&write_count, 1) + 1;
    return h(f->name, off, len, nth);
}

int bz__file_open(bz_file *f, int dirfd, const char *table, const char *name,
                  bool create, const char *init)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->table = table;
    f->name = strdup(name);
    if (!f->name)
        return bz__nomem();
    int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create) {
        /* O_EXCL: when two processes race to create, one creates and
         * writes the initial contents, the other opens what it made. */
        fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
                    O_NOFOLLOW, 0600);
        if (fd >= 0 && init && *init) {
            size_t l = strlen(init);
            if (pwrite(fd, init, l, 0) != (ssize_t)l) {
                int e = errno ? errno : EIO;
                close(fd);
                unlinkat(dirfd, name, 0);
                free(f->name);
                f->name = NULL;
                return bz__err_os(e, "cannot write new file %s", name);
            }
        }
        if (fd < 0 && errno == EEXIST)
            fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        int e = errno;
        free(f->name);
        f->name = NULL;
        if (e == ELOOP)
            return bz__err(BZ_EINVAL,
                           "%s is a symbolic link; data files must be "
                           "regular files inside the data directory", name);
        return bz__err_os(e, "cannot open %s", name);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        free(f->name);
        f->name = NULL;
        return bz__err(BZ_EINVAL, "%s is not a regular file", name);
    }
    f->fd = fd;
    f->dirfd = dirfd;
    f->ino = (uint64_t)st.st_ino;
    f->size = st.st_size;
    f->gen = 0;
    f->seg = NULL;
    f->slot = -1;
    return BZ_OK;
}

int bz__file_attach(bz_file *f, struct bz_seg *seg)
{
    int rc = bz__seg_file(seg, f->name, &f->slot);
    if (rc)
        return rc;
    f->seg = seg;
    return BZ_OK;
}

int bz__file_check(bz_file *f, int dirfd, bool *changed)
{
    *changed = false;
    if (!f->seg)
        return BZ_OK;
    for (int tries = 0; tries < 3; tries++) {
        bool reopen;
        int rc = bz__seg_check_file(f->seg, f->slot, dirfd, f->name, f->fd,
                                    f->ino, &reopen, changed);
        if (rc || !reopen)
            return rc;
        *changed = true;
        /* Replaced behind our back (an editor saving by rename): follow
         * the name, as a fresh open would. */
        int fd = openat(dirfd, f->name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return bz__err_os(errno, "cannot reopen %s", f->name);
        struct stat st;
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd);
            return bz__err_os(e, "cannot stat %s", f->name);
        }
        close(f->fd);
        f->fd = fd;
        f->ino = (uint64_t)st.st_ino;
    }
    return bz__err(BZ_EIO, "%s keeps being replaced", f->name);
}

/* Shared mode, under the lock: the first access to a file in a lock
 * epoch looks for outside changes first (shm/README.md, "Outside
 * writers"), so every decision is made on the file as it is. */
static int ensure_fresh(bz_file *f)
{
    if (bz__seg_file_fresh(f->seg, f->slot, f->ino))
        return BZ_OK;
    bool changed;
    return bz__file_check(f, f->dirfd, &changed);
}

void bz__file_close(bz_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->name);
    f->name = NULL;
}

int bz__file_size(bz_file *f, uint64_t gen, int64_t *size)
{
    if (f->seg && bz__opt_read) {
        int rc = bz__seg_size_opt(f->seg, f->slot, size);
        if (rc == BZ_SEG_STALE &&
            (rc = bz__seg_refresh_opt(f->seg, f->slot, f->dirfd, f->name)) ==
                BZ_OK)
            rc = bz__seg_size_opt(f->seg, f->slot, size);
        return rc == BZ_SEG_STALE ? BZ_SEG_RETRY : rc;
    }
    if (f->seg) {
        int rc = ensure_fresh(f);
        if (!rc && !(rc = bz__seg_file_size(f->seg, f->slot, f->fd, size)))
            f->size = *size;
        return rc;
    }
    if (gen == 0 || f->gen != gen) {
        struct stat st;
        if (fstat(f->fd, &st) != 0)
            return bz__err_os(errno, "cannot stat %s", f->name);
        f->size = st.st_size;
        f->gen = gen;
    }
    *size = f->size;
    return BZ_OK;
}

int bz__file_read(bz_file *f, int64_t off, void *buf, size_t len, size_t *got)
{
    if (f->seg && bz__opt_read) {
        /* Looked at too long ago: a stat without the lock may vouch for
         * the cache (shm/README.md, "Bounded staleness"). */
        int rc = bz__seg_read_opt(f->seg, f->slot, off, buf, len, got);
        if (rc == BZ_SEG_STALE &&
            (rc = bz__seg_refresh_opt(f->seg, f->slot, f->dirfd, f->name)) ==
                BZ_OK)
            rc = bz__seg_read_opt(f->seg, f->slot, off, buf, len, got);
        return rc == BZ_SEG_STALE ? BZ_SEG_RETRY : rc;
    }
    if (f->seg) {
        int rc = ensure_fresh(f);
        if (rc) {
            *got = 0;
            return rc;
        }
        return bz__seg_read(f->seg, f->slot, f->fd, off, buf, len, got);
    }
    return bz__file_pread(f, off, buf, len, got);
}

int bz__file_pread(bz_file *f, int64_t off, void *buf, size_t len, size_t *got)
{
    return bz__pread_full(f->fd, f->name, off, buf, len, got);
}

static int raw_write(bz_file *f, int64_t off, const void *buf, size_t len)
{
    int e = hook_check(f, off, len);
    if (e)
        return bz__err_os(e, "cannot write %s at offset %lld", f->name,
                          (long long)off);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(f->fd, (const char *)buf + done, len - done,
                           (off_t)(off + (int64_t)done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return bz__err_os(errno, "cannot write %s at offset %lld",
                              f->name, (long long)(off + (int64_t)done));
        }
        done += (size_t)w;
    }
    if (f->seg)
        bz__seg_wrote(f->seg, f->slot, off, buf, len);
    return BZ_OK;
}

static int raw_truncate(bz_file *f, int64_t size)
{
    int e = hook_check(f, size, 0);
    if (e)
        return bz__err_os(e, "cannot truncate %s to %lld bytes", f->name,
                          (long long)size);
    while (ftruncate(f->fd, (off_t)size) != 0) {
        if (errno != EINTR)
            return bz__err_os(errno, "cannot truncate %s to %lld bytes",
                              f->name, (long long)size);
    }
    if (f->seg)
        bz__seg_truncated(f->seg, f->slot, size);
    return BZ_OK;
}

void bz__txn_begin(bz_txn *tx, uint64_t gen, struct bz_seg *seg, int dirfd)
{
    tx->dirfd = dirfd;
    tx->batch = false;
    tx->journal = NULL;
    tx->rec = NULL;
    tx->n = tx->cap = 0;
    tx->gen = gen;
    tx->seg = seg;
    tx->marked = false;
}

/* Save the bytes of [off, off+len) that exist now, and the size; and,
 * for recovery, what the change will leave (nbuf, nlen; new_size). */
static int txn_record(bz_txn *tx, bz_file *f, int64_t off, size_t len,
                      int64_t new_size, const void *nbuf, size_t nlen)
{
    int64_t size;
    int rc = bz__file_size(f, tx->gen, &size);
    if (rc)
        return rc;
    if (tx->n == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 16;
        struct bz_undo *n = realloc(tx->rec, cap * sizeof(*n));
        if (!n)
            return bz__nomem();
        tx->rec = n;
        tx->cap = cap;
    }
    struct bz_undo *u = &tx->rec[tx->n];
    u->f = f;
    u->off = off;
    u->old_size = size;
    u->len = off < size ? (size_t)(size - off < (int64_t)len ? size - off
                                                              : (int64_t)len)
                        : 0;
    u->old = NULL;
    if (!tx->marked && tx->seg) {
        bz__seg_write_begin(tx->seg);
        tx->marked = true;
    }
    if (u->len) {
        u->old = malloc(u->len);
        if (!u->old)
            return bz__nomem();
        size_t got;
        if ((rc = bz__file_read(f, off, u->old, u->len, &got))) {
            free(u->old);
            return rc;
        }
        if (got != u->len) {
            free(u->old);
            return bz__err_os(EIO, "%s shrank while locked", f->name);
        }
    }
    /* The crash-safe copies: in the segment, and on disk for sync=full,
     * before the file changes. */
    if (new_size < 0)
        new_size = off + (int64_t)nlen > size ? off + (int64_t)nlen : size;
    if (tx->seg)
        bz__seg_note_dirty(tx->seg, f->slot, f->fd);
    if ((tx->seg && (rc = bz__seg_undo_add(tx->seg, tx->dirfd, f->slot, off,
                                           size, u->old, u->len, new_size,
                                           nbuf, nlen))) ||
        (tx->journal && (rc = bz__journal_add(tx->journal, tx->dirfd, f->name,
                                              off, size, u->old, u->len)))) {
        free(u->old);
        return rc;
    }
    tx->n++;
    return BZ_OK;
}

int bz__txn_write(bz_txn *tx, bz_file *f, int64_t off, const void *buf,
                  size_t len)
{
    int rc = txn_record(tx, f, off, len, -1, buf, len);
    if (rc)
        return rc;
    if ((rc = raw_write(f, off, buf, len)))
        return rc;
    if (off + (int64_t)len > f->size)
        f->size = off + (int64_t)len;
    return BZ_OK;
}

int bz__txn_truncate(bz_txn *tx, bz_file *f, int64_t size)
{
    int64_t cur;
    int rc = bz__file_size(f, tx->gen, &cur);
    if (rc)
        return rc;
    if ((rc = txn_record(tx, f, size, cur > size ? (size_t)(cur - size) : 0,
                         size, NULL, 0)))
        return rc;
    if ((rc = raw_truncate(f, size)))
        return rc;
    f->size = size;
    return BZ_OK;
}

int bz__txn_rollback(bz_txn *tx)
{
    int first = BZ_OK;
    /* The hook must not fail the undo of the very fault it injected. */
    bz_write_hook h = atomic_exchange(&write_hook, NULL);
    for (size_t i = tx->n; i-- > 0;) {
        struct bz_undo *u = &tx->rec[i];
        int rc = BZ_OK;
        if (u->len)
            rc = raw_write(u->f, u->off, u->old, u->len);
        if (!rc)
            rc = raw_truncate(u->f, u->old_size);
        if (!rc)
            u->f->size = u->old_size;
        else if (!first)
            first = rc;
        u->f->gen = 0; /* force a fresh fstat */
    }
    atomic_store(&write_hook, h);
    bz__txn_end(tx);
    return first;
}

/* sync=full commit: the data on disk, then the in-memory log closed, then
 * the journal emptied on disk (lockmgr/journal.h). */
static int txn_sync(bz_txn *tx)
{
    for (size_t i = 0; i < tx->n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = tx->rec[k].f == tx->rec[i].f;
        if (!seen && fdatasync(tx->rec[i].f->fd) != 0)
            return bz__err_os(errno, "cannot sync %s", tx->rec[i].f->name);
    }
    return BZ_OK;
}

int bz__txn_commit(bz_txn *tx)
{
    int rc = BZ_OK;
    if (tx->journal && !tx->batch)
        rc = txn_sync(tx);
    if (rc)
        return rc;
    bz_journal *j = tx->batch ? NULL : tx->journal;
    bz__txn_end(tx);
    if (j && (rc = bz__journal_clear(j, tx->dirfd)))
        return rc;
    return BZ_OK;
}

void bz__txn_end(bz_txn *tx)
{
    if (tx->marked && !tx->batch)
        bz__seg_write_end(tx->seg, tx->dirfd);
    tx->marked = false;
    for (size_t i = 0; i < tx->n; i++)
        free(tx->rec[i].old);
    free(tx->rec);
    tx->rec = NULL;
    tx->n = tx->cap = 0;
}

int bz__txn_absorb(bz_txn *into, bz_txn *tx)
{
    if (into->n + tx->n > into->cap) {
        size_t cap = into->cap ? into->cap : 16;
        while (cap < into->n + tx->n)
            cap *= 2;
        struct bz_undo *n = realloc(into->rec, cap * sizeof(*n));
        if (!n)
            return bz__nomem();
        into->rec = n;
        into->cap = cap;
    }
    memcpy(into->rec + into->n, tx->rec, tx->n * sizeof(*tx->rec));
    into->n += tx->n;
    /* The bytes now belong to the batch. */
    tx->n = 0;
    return BZ_OK;
}
