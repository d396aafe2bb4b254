/*
 * undo.c - the undo log of the write in progress, and its replay.
 *
 * Protocol (lockmgr/README.md, "Atomic operations"), all under the lock:
 *   1. write_begin: the log becomes active (pid, no records) and the
 *      sequence number odd, so optimistic readers know a write runs.
 *   2. Before each change of a file: the record (file, offset, old size,
 *      old bytes) is appended; only once it is complete does nrec count it
 *      (release order), so a record is never half-seen.
 *   3. write_end: the log is cleared (the commit point), the sequence
 *      number even.
 * A writer that dies between 1 and 3 leaves the log active.  The next
 * locker (EOWNERDEAD) replays the records newest first: each file gets its
 * old bytes back and its old size, which restores it exactly, whatever
 * subset of the writes had happened.  Records that do not fit in the
 * segment spill to DIR/.undo in the same format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "atomic.h"
#include "err.h"
#include "shm_int.h"

#define SPILL_FILE ".undo"

static size_t rec_size(size_t len)
{
    return (sizeof(struct shm_undo_rec) + len + 7) & ~(size_t)7;
}

static char *records(bz_seg *s)
{
    return (char *)(s->undo + 1);
}

static size_t capacity(void)
{
    return BZ_SHM_UNDO_SIZE - sizeof(struct shm_undo);
}

void bz__seg_write_begin(bz_seg *s)
{
    struct shm_undo *u = s->undo;
    if (u->active)
        return; /* a batch: one log for all its operations */
    u->nrec = 0;
    u->used = 0;
    u->spilled = 0;
    u->pid = bz__pid();
    uint64_t seq = LD(s->h->lock.seq);
    BZ_STORE_THEN_FENCE(s->h->lock.seq, seq | 1);
    __atomic_store_n(&u->active, 1, __ATOMIC_RELEASE);
}

static int spill(bz_seg *s, int dirfd, const struct shm_undo_rec *r,
                 const void *old)
{
    int fd = openat(dirfd, SPILL_FILE,
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    if (fd < 0)
        return bz__err_os(errno, "cannot open the undo spill file %s",
                          SPILL_FILE);
    if (!s->undo->spilled && ftruncate(fd, 0) != 0) {
        int e = errno;
        close(fd);
        return bz__err_os(e, "cannot reset %s", SPILL_FILE);
    }
    size_t n = rec_size(r->len);
    char *buf = calloc(1, n);
    if (!buf) {
        close(fd);
        return bz__nomem();
    }
    memcpy(buf, r, sizeof(*r));
    if (r->len)
        memcpy(buf + sizeof(*r), old, r->len);
    ssize_t w = write(fd, buf, n);
    int e = errno;
    free(buf);
    close(fd);
    if (w != (ssize_t)n)
        return bz__err_os(w < 0 ? e : EIO, "cannot write the undo spill "
                          "file %s", SPILL_FILE);
    __atomic_store_n(&s->undo->spilled, 1, __ATOMIC_RELEASE);
    return BZ_OK;
}

int bz__seg_undo_add(bz_seg *s, int dirfd, int slot, int64_t off,
                     int64_t old_size, const void *old, size_t len)
{
    struct shm_undo *u = s->undo;
    struct shm_undo_rec r = {slot, (uint32_t)len, off, old_size};
    if (len > UINT32_MAX)
        return bz__err(BZ_EIO, "undo record of %zu bytes is too large", len);
    size_t n = rec_size(len);
    if (u->spilled || u->used + n > capacity())
        return spill(s, dirfd, &r, old);
    char *p = records(s) + u->used;
    memcpy(p, &r, sizeof r);
    if (len)
        memcpy(p + sizeof r, old, len);
    u->used += n;
    /* The record is whole before it counts. */
    __atomic_store_n(&u->nrec, u->nrec + 1, __ATOMIC_RELEASE);
    return BZ_OK;
}

void bz__seg_write_end(bz_seg *s, int dirfd)
{
    struct shm_undo *u = s->undo;
    if (!u->active)
        return;
    bool spilled = u->spilled;
    __atomic_store_n(&u->active, 0, __ATOMIC_RELEASE); /* the commit */
    u->nrec = 0;
    u->used = 0;
    u->spilled = 0;
    if (spilled)
        unlinkat(dirfd, SPILL_FILE, 0);
    /* A release store: every change of the write is visible before the
     * number turns even. */
    uint64_t seq = LD(s->h->lock.seq);
    ST_REL(s->h->lock.seq, (seq | 1) + 1);
}

bool bz__seg_write_active(bz_seg *s)
{
    return __atomic_load_n(&s->undo->active, __ATOMIC_ACQUIRE) != 0;
}

/* Apply one record to its file. */
static int apply(bz_seg *s, int dirfd, const struct shm_undo_rec *r,
                 const char *old, uint64_t *bytes)
{
    if (r->file < 0 || (uint32_t)r->file >= s->h->nfiles ||
        (uint32_t)r->file >= s->h->sig.max_files)
        return bz__err(BZ_ECORRUPT, "undo record names file slot %d, which "
                       "does not exist", r->file);
    const char *name = s->files[r->file].name;
    int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return bz__err_os(errno, "recovery cannot open %s", name);
    int rc = BZ_OK;
    if (r->len && pwrite(fd, old, r->len, (off_t)r->off) != (ssize_t)r->len)
        rc = bz__err_os(errno ? errno : EIO, "recovery cannot write %s", name);
    if (!rc && ftruncate(fd, (off_t)r->old_size) != 0)
        rc = bz__err_os(errno, "recovery cannot truncate %s", name);
    close(fd);
    *bytes += r->len;
    return rc;
}

/* Walk the complete records of buf (n bytes, the log's format, at most
 * max of them); fn returns non-zero to stop. */
static int each_record(const char *buf, size_t n, uint32_t max,
                       int (*fn)(const struct shm_undo_rec *r, void *arg),
                       void *arg)
{
    uint32_t cnt = 0;
    for (size_t o = 0; o + sizeof(struct shm_undo_rec) <= n && cnt < max;
         cnt++) {
        const struct shm_undo_rec *r = (const void *)(buf + o);
        size_t sz = rec_size(r->len);
        if (o + sz > n)
            break;
        int rc = fn(r, arg);
        if (rc)
            return rc;
        o += sz;
    }
    return BZ_OK;
}

/* A log is replayed onto the files only if every record is one a writer
 * could have made: a damaged or forged segment must not make recovery
 * write at a negative offset or grow a file to an absurd size.  A size a
 * record restores is either no larger than the file is now, or covered by
 * old bytes some record saved (a truncation saves what it cut). */
struct vet {
    bz_seg *s;
    int dirfd;
    int64_t *cover;   /* per file slot: the largest off+len saved */
    int64_t *now;     /* per file slot: its size now (-1: not looked) */
    uint32_t nfiles;
};

static int vet_range(const struct shm_undo_rec *r, void *arg)
{
    struct vet *v = arg;
    if (r->file < 0 || (uint32_t)r->file >= v->nfiles)
        return bz__err(BZ_ECORRUPT, "the undo log names file slot %d, which "
                       "does not exist", r->file);
    if (r->off < 0 || r->old_size < 0 ||
        (r->len && (r->off > INT64_MAX - r->len ||
                    r->off + (int64_t)r->len > r->old_size)))
        return bz__err(BZ_ECORRUPT, "the undo log has an impossible record "
                       "for %s (offset %lld, %u bytes, old size %lld)",
                       v->s->files[r->file].name, (long long)r->off, r->len,
                       (long long)r->old_size);
    int64_t end = r->off + (int64_t)r->len;
    if (end > v->cover[r->file])
        v->cover[r->file] = end;
    return BZ_OK;
}

static int vet_size(const struct shm_undo_rec *r, void *arg)
{
    struct vet *v = arg;
    if (r->old_size <= v->cover[r->file])
        return BZ_OK;
    if (v->now[r->file] < 0) {
        struct stat st;
        const char *name = v->s->files[r->file].name;
        if (fstatat(v->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return bz__err_os(errno, "recovery cannot stat %s", name);
        v->now[r->file] = (int64_t)st.st_size;
    }
    if (r->old_size <= v->now[r->file])
        return BZ_OK;
    return bz__err(BZ_ECORRUPT, "the undo log would grow %s from %lld to "
                   "%lld bytes with nothing saved to fill them",
                   v->s->files[r->file].name, (long long)v->now[r->file],
                   (long long)r->old_size);
}

static int vet_logs(bz_seg *s, int dirfd, const char *spill, size_t nspill,
                    uint32_t nrec)
{
    uint32_t nf = s->h->nfiles < s->h->sig.max_files ? s->h->nfiles
                                                      : s->h->sig.max_files;
    struct vet v = { s, dirfd, calloc(nf + 1, sizeof(int64_t)),
                     malloc((nf + 1) * sizeof(int64_t)), nf };
    int rc = BZ_OK;
    if (!v.cover || !v.now)
        rc = bz__nomem();
    for (uint32_t i = 0; !rc && i < nf; i++)
        v.now[i] = -1;
    if (!rc)
        rc = each_record(spill, nspill, UINT32_MAX, vet_range, &v);
    if (!rc)
        rc = each_record(records(s), s->undo->used, nrec, vet_range, &v);
    if (!rc)
        rc = each_record(spill, nspill, UINT32_MAX, vet_size, &v);
    if (!rc)
        rc = each_record(records(s), s->undo->used, nrec, vet_size, &v);
    free(v.cover);
    free(v.now);
    return rc;
}

/* Replay the records of buf (n bytes, the log's format) newest first. */
static int replay_buf(bz_seg *s, int dirfd, const char *buf, size_t n,
                      uint32_t max, uint32_t *done, uint64_t *bytes)
{
    size_t cap = 64, cnt = 0;
    size_t *at = malloc(cap * sizeof(*at));
    if (!at)
        return bz__nomem();
    for (size_t o = 0; o + sizeof(struct shm_undo_rec) <= n && cnt < max;) {
        const struct shm_undo_rec *r = (const void *)(buf + o);
        size_t sz = rec_size(r->len);
        if (o + sz > n)
            break; /* a torn record at the end: never applied to a file */
        if (cnt == cap) {
            size_t *m = realloc(at, (cap *= 2) * sizeof(*at));
            if (!m) {
                free(at);
                return bz__nomem();
            }
            at = m;
        }
        at[cnt++] = o;
        o += sz;
    }
    int rc = BZ_OK;
    for (size_t i = cnt; i-- > 0 && !rc;) {
        const struct shm_undo_rec *r = (const void *)(buf + at[i]);
        rc = apply(s, dirfd, r, (const char *)(r + 1), bytes);
        (*done)++;
    }
    free(at);
    return rc;
}

int bz__seg_recover(bz_seg *s, int dirfd, bool *recovered)
{
    struct shm_undo *u = s->undo;
    *recovered = false;
    if (!__atomic_load_n(&u->active, __ATOMIC_ACQUIRE))
        return BZ_OK;
    uint32_t done = 0;
    uint64_t bytes = 0;
    int rc = BZ_OK;
    /* The spill file holds the newest records: they go first. */
    char *spill = NULL;
    size_t nspill = 0;
    if (u->spilled) {
        int fd = openat(dirfd, SPILL_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            off_t n = lseek(fd, 0, SEEK_END);
            spill = n > 0 ? malloc((size_t)n) : NULL;
            if (n > 0 && !spill)
                rc = bz__nomem();
            else if (n > 0 && pread(fd, spill, (size_t)n, 0) != n)
                rc = bz__err_os(errno ? errno : EIO, "cannot read %s",
                                SPILL_FILE);
            else if (n > 0)
                nspill = (size_t)n;
            close(fd);
        }
    }
    uint32_t nrec = __atomic_load_n(&u->nrec, __ATOMIC_ACQUIRE);
    size_t used = u->used;
    if (!rc && used > capacity())
        rc = bz__err(BZ_ECORRUPT, "the undo log claims %zu bytes, more than "
                     "its %zu", used, capacity());
    if (!rc)
        rc = vet_logs(s, dirfd, spill, nspill, nrec);
    if (!rc && nspill)
        rc = replay_buf(s, dirfd, spill, nspill, UINT32_MAX, &done, &bytes);
    free(spill);
    if (!rc)
        rc = replay_buf(s, dirfd, records(s), used, nrec, &done, &bytes);
    if (rc)
        return rc; /* the log stays active: the next locker tries again */
    /* The dead writer may have updated frames and sizes: forget them. */
    bz__cache_drop(s, -1, 0);
    for (uint32_t i = 0; i < s->h->nfiles && i < s->h->sig.max_files; i++)
        __atomic_store_n(&s->files[i].size_valid, 0, __ATOMIC_RELAXED);
    struct shm_lock *l = &s->h->lock;
    struct shm_recovery *e = &l->log[l->log_next++ % BZ_SHM_RECOVERY_LOG];
    e->pid = u->pid;
    e->records = done;
    e->bytes = bytes;
    e->at = (uint64_t)time(NULL);
    uatomic_inc(&s->h->recoveries);
    bz__seg_write_end(s, dirfd);
    *recovered = true;
    return BZ_OK;
}
