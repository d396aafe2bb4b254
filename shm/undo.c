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
#include <stdarg.h>
#include <stdio.h>
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

/* A record in the log: header, old bytes, new bytes, 8-byte aligned. */
static size_t rec_size(const struct shm_undo_rec *r)
{
    return (sizeof(struct shm_undo_rec) + (size_t)r->len + r->new_len + 7) &
           ~(size_t)7;
}

static const char *rec_old(const struct shm_undo_rec *r)
{
    return (const char *)(r + 1);
}

static const char *rec_new(const struct shm_undo_rec *r)
{
    return (const char *)(r + 1) + r->len;
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
    u->epoch = s->h->lock.epoch;
    uint64_t seq = LD(s->h->lock.seq);
    BZ_STORE_THEN_FENCE(s->h->lock.seq, seq | 1);
    __atomic_store_n(&u->active, 1, __ATOMIC_RELEASE);
}

static int spill(bz_seg *s, int dirfd, const struct shm_undo_rec *r,
                 const void *old, const void *nbuf)
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
    size_t n = rec_size(r);
    char *buf = calloc(1, n);
    if (!buf) {
        close(fd);
        return bz__nomem();
    }
    memcpy(buf, r, sizeof(*r));
    if (r->len)
        memcpy(buf + sizeof(*r), old, r->len);
    if (r->new_len)
        memcpy(buf + sizeof(*r) + r->len, nbuf, r->new_len);
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
                     int64_t old_size, const void *old, size_t len,
                     int64_t new_size, const void *nbuf, size_t nlen)
{
    struct shm_undo *u = s->undo;
    if (len > UINT32_MAX || nlen > UINT32_MAX)
        return bz__err(BZ_EIO, "undo record of %zu bytes is too large",
                       len + nlen);
    struct shm_undo_rec r = {slot, (uint32_t)len, off, old_size, new_size,
                             (uint32_t)nlen, 0};
    size_t n = rec_size(&r);
    if (u->spilled || u->used + n > capacity())
        return spill(s, dirfd, &r, old, nbuf);
    char *p = records(s) + u->used;
    memcpy(p, &r, sizeof r);
    if (len)
        memcpy(p + sizeof r, old, len);
    if (nlen)
        memcpy(p + sizeof r + len, nbuf, nlen);
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
    /* Committed: what it left is every written file's baseline now, so
     * that a later operation of the same hold that dies is judged
     * against it, not against the state before this one. */
    bz__seg_rebaseline(s);
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
        size_t sz = rec_size(r);
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
    if (r->off < 0 || r->old_size < 0 || r->new_size < 0 ||
        r->off > INT64_MAX - (int64_t)UINT32_MAX ||
        (r->len && r->off + (int64_t)r->len > r->old_size) ||
        (r->new_len && r->off + (int64_t)r->new_len > r->new_size))
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

/* ---- Before replaying: did an outside writer come in? ---------------
 * The dead writer held the flock; the kernel dropped it at its death, so
 * Bazoola 0.0.7 or a flock-mode process may have written since.  Replaying
 * over such a write would destroy it.  Each record says what its change
 * left (new bytes, new size), so for every file the log names, going from
 * its newest record back: the file must look exactly as after some prefix
 * of the dead writer's changes — the newest change that happened shows its
 * bytes and size, those that did not happen show their old bytes and size,
 * and every earlier change's bytes are still there where no later change
 * of the writer's own overwrote or cut them.  Anything else is a writer
 * we do not know about: refuse, replay nothing, keep the log. */
struct rec_list {
    const struct shm_undo_rec **r;
    size_t n, cap;
};

static int collect(const struct shm_undo_rec *r, void *arg)
{
    struct rec_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        const struct shm_undo_rec **m = realloc(l->r, cap * sizeof(*m));
        if (!m)
            return bz__nomem();
        l->r = m;
        l->cap = cap;
    }
    l->r[l->n++] = r;
    return BZ_OK;
}

static int refuse(bz_seg *s, const char *name, const char *why, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(bz_seg *s, const char *name, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return bz__err(BZ_ECORRUPT, "process %d died in the middle of a write, "
                   "and %s changed after that (%s): another program, such as "
                   "Bazoola 0.0.7 or a flock-mode process, wrote to the "
                   "directory since; undoing the dead write would destroy "
                   "that program's changes, so nothing was undone: run "
                   "`bazoola check --repair` on the directory",
                   (int)s->undo->pid, name, why);
}

/* Do len bytes at off of fd equal want?  -1: an I/O error. */
static int same_bytes(int fd, const char *name, int64_t off, const char *want,
                      size_t len)
{
    char stack[4096];
    char *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf)
        return bz__nomem(), -1;
    size_t got;
    int rc = bz__pread_full(fd, name, off, buf, len, &got);
    int same = rc ? -1 : got == len && memcmp(buf, want, len) == 0;
    if (buf != stack)
        free(buf);
    return same;
}

/* Is the file (size bytes now) want_size bytes, with bytes at off? */
static int shows(int fd, const char *name, int64_t size, int64_t want_size,
                 int64_t off, const char *bytes, size_t len)
{
    if (size != want_size)
        return 0;
    return len ? same_bytes(fd, name, off, bytes, len) : 1;
}

struct span {
    int64_t a, b;
};

/* The parts of [a, b) not covered by the sorted, disjoint spans cl. */
static int compare_unclaimed(int fd, const char *name, const struct span *cl,
                             size_t ncl, int64_t a, int64_t b,
                             const char *bytes, int64_t base, int64_t *bad)
{
    int64_t at = a;
    for (size_t i = 0; i <= ncl && at < b; i++) {
        int64_t end = i < ncl && cl[i].a < b ? cl[i].a : b;
        if (i < ncl && cl[i].b <= at)
            continue;
        if (end > at) {
            int same = same_bytes(fd, name, at, bytes + (at - base),
                                  (size_t)(end - at));
            if (same < 0)
                return -1;
            if (!same) {
                *bad = at;
                return 0;
            }
        }
        if (i < ncl && cl[i].b > at)
            at = cl[i].b;
    }
    return 1;
}

static int claim(struct span **cl, size_t *n, int64_t a, int64_t b)
{
    struct span *m = realloc(*cl, (*n + 1) * sizeof(**cl));
    if (!m)
        return bz__nomem();
    *cl = m;
    size_t i = 0;
    while (i < *n && m[i].b < a)
        i++;
    size_t j = i;
    while (j < *n && m[j].a <= b) {
        if (m[j].a < a)
            a = m[j].a;
        if (m[j].b > b)
            b = m[j].b;
        j++;
    }
    memmove(m + i + 1, m + j, (*n - j) * sizeof(*m));
    m[i].a = a;
    m[i].b = b;
    *n = *n - (j - i) + 1;
    return BZ_OK;
}

/* Did the write of r stop part way?  kill -9 can end a pwrite between
 * pages, leaving new bytes up to some point and old bytes (or, past the
 * old size, nothing) after it.  1: the file shows exactly such a state;
 * 0: not; -1: an I/O error. */
static int torn_write(int fd, const char *name, const struct shm_undo_rec *r,
                      int64_t size)
{
    int64_t end = r->off + (int64_t)r->new_len;
    if (size < r->old_size || size > r->new_size)
        return 0;
    int64_t stop = size < end ? size : end;   /* what exists of the range */
    if (stop <= r->off)
        return 0;
    size_t len = (size_t)(stop - r->off);
    char *buf = malloc(len);
    if (!buf)
        return bz__nomem(), -1;
    size_t got;
    if (bz__pread_full(fd, name, r->off, buf, len, &got) || got != len) {
        free(buf);
        return -1;
    }
    const char *nb = rec_new(r), *ob = rec_old(r);
    size_t k = 0;
    while (k < len && buf[k] == nb[k])
        k++;
    /* Past the new prefix: the old bytes, where there were any. */
    bool ok = true;
    for (size_t j = k; j < len && ok; j++)
        ok = j < r->len && buf[j] == ob[j];
    /* A write that grew the file grows it as far as it got. */
    if (ok && size > r->old_size)
        ok = size == r->off + (int64_t)k;
    free(buf);
    return ok;
}

/* recs: the records of one file, oldest first. */
static int verify_file(bz_seg *s, int dirfd, int slot,
                       const struct shm_undo_rec **recs, size_t n)
{
    struct shm_file *f = &s->files[slot];
    const char *name = f->name;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return refuse(s, name, "it was removed");
        return bz__err_os(errno, "recovery cannot open %s", name);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bz__err_os(e, "recovery cannot stat %s", name);
    }
    int rc = BZ_OK;
    if (f->base != BASE_UNKNOWN && f->ino && (uint64_t)st.st_ino != f->ino) {
        close(fd);
        return refuse(s, name, "it was replaced by another file");
    }
    int64_t size = (int64_t)st.st_size;
    /* The newest change that happened: k of the n did (the k-th perhaps
     * only in part: torn). */
    size_t k = n;
    bool torn = false;
    while (k > 0 && !rc) {
        const struct shm_undo_rec *r = recs[k - 1];
        int after = shows(fd, name, size, r->new_size, r->off, rec_new(r),
                          r->new_len);
        if (after < 0) {
            rc = -1;
            break;
        }
        if (after)
            break;
        int before = shows(fd, name, size, r->old_size, r->off, rec_old(r),
                           r->len);
        if (before < 0) {
            rc = -1;
            break;
        }
        if (!before && k == n && r->new_len) {
            int t = torn_write(fd, name, r, size);
            if (t < 0) {
                rc = -1;
                break;
            }
            if (t) {
                torn = true;
                break;
            }
        }
        if (!before)
            rc = refuse(s, name, "it is %lld bytes and matches neither the "
                        "state before nor the state after that process's "
                        "last change to it (offset %lld)", (long long)size,
                        (long long)r->off);
        k--;
    }
    /* Every change that happened must still show, newest first: a range
     * a newer change overwrote (claimed) or cut (cut) is that change's. */
    struct span *cl = NULL;
    size_t ncl = 0;
    int64_t cut = INT64_MAX;
    for (size_t i = k; i-- > 0 && !rc;) {
        const struct shm_undo_rec *r = recs[i];
        if (!r->new_len) {
            if (r->new_size < cut)
                cut = r->new_size;
            continue;
        }
        int64_t a = r->off, b = r->off + (int64_t)r->new_len;
        if (torn && i == k - 1) {
            /* Checked by torn_write; its range is its own. */
            rc = claim(&cl, &ncl, a, b);
            continue;
        }
        int64_t bad = 0;
        int same = compare_unclaimed(fd, name, cl, ncl, a, b < cut ? b : cut,
                                     rec_new(r), r->off, &bad);
        if (same < 0)
            rc = -1;
        else if (!same)
            rc = refuse(s, name, "bytes at offset %lld are not what that "
                        "process wrote there", (long long)bad);
        else
            rc = claim(&cl, &ncl, a, b);
    }
    free(cl);
    close(fd);
    return rc < 0 ? BZ_EIO : rc;
}

/* A file the dead writer looked at in its hold but did not change: the
 * look was a stat, so with multigrain timestamps any write since shows as
 * another ctime.  This is what catches an outside writer whose bytes, in
 * the ranges the dead writer changed, happen to equal its own (an outside
 * insert writes the same seqnum the dead one was writing): 0.0.7 changes
 * T.dat and the index with every row it writes, and the dead writer had
 * looked at both.  An ambiguous baseline (coarse timestamps) proves
 * nothing either way and is let through: shm/README.md says so. */
static int verify_unwritten(bz_seg *s, int dirfd, int slot)
{
    struct shm_file *f = &s->files[slot];
    /* Dirty without a record: a committed operation whose baseline was
     * never retaken (shm_file.dirty); there is nothing to compare with. */
    if (f->base == BASE_UNKNOWN || !f->size_valid || f->dirty)
        return BZ_OK;
    struct statx st;
    if (statx(dirfd, f->name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME, &st) != 0) {
        if (errno == ENOENT)
            return refuse(s, f->name, "it was removed");
        return bz__err_os(errno, "recovery cannot stat %s", f->name);
    }
    if (!bz__seg_stat_equal(s, f, &st))
        return refuse(s, f->name, "that process had read it, and it was "
                      "written since");
    return BZ_OK;
}

static int verify_logs(bz_seg *s, int dirfd, const char *spill, size_t nspill,
                       uint32_t nrec)
{
    struct rec_list all = {0};
    /* Oldest first: the segment's records, then the spilled ones. */
    int rc = each_record(records(s), s->undo->used, nrec, collect, &all);
    if (!rc)
        rc = each_record(spill, nspill, UINT32_MAX, collect, &all);
    const struct shm_undo_rec **mine = NULL;
    if (!rc && all.n && !(mine = malloc(all.n * sizeof(*mine))))
        rc = bz__nomem();
    uint32_t nf = s->h->nfiles < s->h->sig.max_files ? s->h->nfiles
                                                      : s->h->sig.max_files;
    for (uint32_t slot = 0; slot < nf && !rc; slot++) {
        size_t m = 0;
        for (size_t i = 0; i < all.n; i++)
            if (all.r[i]->file == (int32_t)slot)
                mine[m++] = all.r[i];
        if (m)
            rc = verify_file(s, dirfd, (int)slot, mine, m);
        else if (s->files[slot].checked_epoch == s->undo->epoch)
            rc = verify_unwritten(s, dirfd, (int)slot);
    }
    free(mine);
    free(all.r);
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
        size_t sz = rec_size(r);
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
        rc = apply(s, dirfd, r, rec_old(r), bytes);
        (*done)++;
    }
    free(at);
    return rc;
}

int bz__seg_recover(bz_seg *s, int dirfd, bool discard_refused,
                    bool *recovered)
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
    bool discard = false;
    if (!rc && (rc = verify_logs(s, dirfd, spill, nspill, nrec)) ==
                   BZ_ECORRUPT && discard_refused) {
        /* A repair takes over: it rebuilds what can be derived from the
         * rows both writers left, so the log must not be replayed. */
        discard = true;
        rc = BZ_OK;
        bz__err_clear();
    }
    if (!rc && nspill && !discard)
        rc = replay_buf(s, dirfd, spill, nspill, UINT32_MAX, &done, &bytes);
    free(spill);
    if (!rc && !discard)
        rc = replay_buf(s, dirfd, records(s), used, nrec, &done, &bytes);
    if (rc)
        return rc; /* the log stays active: the next locker tries again */
    /* The dead writer may have updated frames and sizes: forget them, and
     * every baseline (the files changed under recovery's own writes). */
    bz__cache_drop(s, -1, 0);
    for (uint32_t i = 0; i < s->h->nfiles && i < s->h->sig.max_files; i++) {
        __atomic_store_n(&s->files[i].size_valid, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->files[i].base, (uint32_t)BASE_UNKNOWN,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&s->files[i].dirty, 0u, __ATOMIC_RELAXED);
    }
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
