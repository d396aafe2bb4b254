/*
 * stats.c - the public statistics of a directory's shared segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "shm.h"

_Static_assert((int)BZ_STAT__COUNT == (int)BZ_C__COUNT,
               "public and segment counters match");

struct bz_stats {
    struct bz_seg_snapshot snap;
    char (*tables)[128];
    uint64_t data_bytes;
};

static int dir_identity(const char *dir, struct stat *st)
{
    if (!dir || !*dir)
        return bz__err(BZ_EINVAL, "no data directory given");
    if (stat(dir, st) != 0)
        return bz__err_os(errno, "cannot stat %s", dir);
    if (!S_ISDIR(st->st_mode))
        return bz__err(BZ_EINVAL, "%s is not a directory", dir);
    return BZ_OK;
}

/* "books__id.idx.dat" -> "books": table names never contain "__" or '.'. */
static void table_of(const char *file, char *out, size_t len)
{
    size_t n = strcspn(file, ".");
    const char *u = strstr(file, "__");
    if (u && (size_t)(u - file) < n)
        n = (size_t)(u - file);
    snprintf(out, len, "%.*s", (int)n, file);
}

int bz_stats_read(const char *dir, bz_stats **out)
{
    bz__err_clear();
    if (!out)
        return bz__err(BZ_EINVAL, "bz_stats_read: NULL out");
    *out = NULL;
    struct stat st;
    int rc = dir_identity(dir, &st);
    if (rc)
        return rc;
    bz_stats *s = calloc(1, sizeof(*s));
    if (!s)
        return bz__nomem();
    rc = bz__seg_snapshot(st.st_dev, st.st_ino, &s->snap);
    if (rc == BZ_ENOTFOUND)
        rc = bz__err(BZ_ENOTFOUND, "%s has no shared segment: no process has "
                     "it open in shared mode", dir);
    if (!rc) {
        s->tables = calloc((size_t)s->snap.nfiles + 1, sizeof(*s->tables));
        if (!s->tables)
            rc = bz__nomem();
        for (int i = 0; !rc && i < s->snap.nfiles; i++)
            table_of(s->snap.files[i].name, s->tables[i], sizeof s->tables[i]);
        /* The files as they are now: the segment knows a size only while
         * some process has looked at it in the current lock epoch. */
        int dfd = rc ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; dfd >= 0 && i < s->snap.nfiles; i++) {
            struct stat fst;
            if (fstatat(dfd, s->snap.files[i].name, &fst,
                        AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(fst.st_mode))
                s->data_bytes += (uint64_t)fst.st_size;
            else if (s->snap.files[i].size > 0)
                s->data_bytes += (uint64_t)s->snap.files[i].size;
        }
        if (dfd >= 0)
            close(dfd);
    }
    if (rc) {
        bz_stats_free(s);
        return rc;
    }
    *out = s;
    return BZ_OK;
}

void bz_stats_free(bz_stats *s)
{
    if (!s)
        return;
    bz__seg_snapshot_free(&s->snap);
    free(s->tables);
    free(s);
}

const char *bz_stats_segment_name(const bz_stats *s) { return s ? s->snap.name : ""; }
uint64_t bz_stats_segment_size(const bz_stats *s) { return s ? s->snap.size : 0; }
uint64_t bz_stats_page_size(const bz_stats *s) { return s ? s->snap.page_size : 0; }
uint64_t bz_stats_frames(const bz_stats *s) { return s ? s->snap.nframes : 0; }
uint64_t bz_stats_frames_used(const bz_stats *s) { return s ? s->snap.frames_used : 0; }
uint64_t bz_stats_created_at(const bz_stats *s) { return s ? s->snap.created_at : 0; }
uint64_t bz_stats_recoveries(const bz_stats *s) { return s ? s->snap.recoveries : 0; }
int bz_stats_fine_timestamps(const bz_stats *s) { return s && s->snap.mgtime; }
uint64_t bz_stats_data_bytes(const bz_stats *s) { return s ? s->data_bytes : 0; }

uint64_t bz_stats_suggested_cache_mb(const bz_stats *s)
{
    if (!s || s->data_bytes <= s->snap.nframes * s->snap.page_size)
        return 0;
    /* The rule a new segment follows, without the caps of free memory
     * (what is free now says little about when the user restarts). */
    uint64_t want = s->data_bytes + s->data_bytes / 4;
    uint64_t mb = (want + (1u << 20) - 1) >> 20, max = bz__seg_max_cache() >> 20;
    return mb > max ? max : mb;
}

uint64_t bz_stats_counter(const bz_stats *s, bz_stat which)
{
    return s && which >= 0 && which < BZ_STAT__COUNT ? s->snap.c[which] : 0;
}

size_t bz_stats_nfiles(const bz_stats *s) { return s ? (size_t)s->snap.nfiles : 0; }

const char *bz_stats_file_name(const bz_stats *s, size_t i)
{
    return s && i < (size_t)s->snap.nfiles ? s->snap.files[i].name : NULL;
}

const char *bz_stats_file_table(const bz_stats *s, size_t i)
{
    return s && i < (size_t)s->snap.nfiles ? s->tables[i] : NULL;
}

uint64_t bz_stats_file_counter(const bz_stats *s, size_t i, bz_stat which)
{
    if (!s || i >= (size_t)s->snap.nfiles || which < 0 || which >= BZ_STAT__COUNT)
        return 0;
    return s->snap.files[i].c[which];
}

uint64_t bz_stats_file_frames(const bz_stats *s, size_t i)
{
    return s && i < (size_t)s->snap.nfiles ? s->snap.files[i].frames : 0;
}

int64_t bz_stats_file_size(const bz_stats *s, size_t i)
{
    return s && i < (size_t)s->snap.nfiles ? s->snap.files[i].size : -1;
}

size_t bz_stats_nprocs(const bz_stats *s) { return s ? (size_t)s->snap.nprocs : 0; }

int bz_stats_proc(const bz_stats *s, size_t i, int64_t *pid, int *alive,
                  uint64_t *attached_at)
{
    if (!s || i >= (size_t)s->snap.nprocs)
        return BZ_EINVAL;
    if (pid)
        *pid = s->snap.procs[i].pid;
    if (alive)
        *alive = s->snap.procs[i].alive;
    if (attached_at)
        *attached_at = s->snap.procs[i].attached_at;
    return BZ_OK;
}

uint64_t bz_stats_lock(const bz_stats *s, bz_lock_stat which)
{
    if (!s)
        return 0;
    const struct bz_seg_lock_snapshot *l = &s->snap.lock;
    switch (which) {
    case BZ_LSTAT_ACQUISITIONS: return l->acquisitions;
    case BZ_LSTAT_CONTENDED: return l->contended;
    case BZ_LSTAT_WAIT_NS: return l->wait_ns;
    case BZ_LSTAT_WAIT_MAX_NS: return l->wait_max_ns;
    case BZ_LSTAT_HOLD_NS: return l->hold_ns;
    case BZ_LSTAT_HOLDER_PID: return l->holder_pid;
    case BZ_LSTAT_READ_RETRIES: return l->read_retries;
    case BZ_LSTAT_READS_LOCKED: return l->read_fallbacks;
    case BZ_LSTAT_OWNER_DEAD: return l->owner_dead;
    default: return 0;
    }
}

size_t bz_stats_wait_buckets(const bz_stats *s)
{
    return s ? sizeof s->snap.lock.wait_hist / sizeof s->snap.lock.wait_hist[0]
             : 0;
}

uint64_t bz_stats_wait_hist(const bz_stats *s, size_t i)
{
    return s && i < bz_stats_wait_buckets(s) ? s->snap.lock.wait_hist[i] : 0;
}

size_t bz_stats_nrecoveries_logged(const bz_stats *s)
{
    return s ? (size_t)s->snap.lock.nlog : 0;
}

int bz_stats_recovery(const bz_stats *s, size_t i, int64_t *pid,
                      uint64_t *at, uint64_t *records, uint64_t *bytes)
{
    if (!s || i >= (size_t)s->snap.lock.nlog)
        return BZ_EINVAL;
    if (pid)
        *pid = s->snap.lock.log[i].pid;
    if (at)
        *at = s->snap.lock.log[i].at;
    if (records)
        *records = s->snap.lock.log[i].records;
    if (bytes)
        *bytes = s->snap.lock.log[i].bytes;
    return BZ_OK;
}

int bz_stats_reset(const char *dir)
{
    bz__err_clear();
    struct stat st;
    int rc = dir_identity(dir, &st);
    if (rc)
        return rc;
    rc = bz__seg_reset(st.st_dev, st.st_ino);
    if (rc == BZ_ENOTFOUND)
        rc = bz__err(BZ_ENOTFOUND, "%s has no shared segment", dir);
    return rc;
}

static int shm_remove(const char *dir, bool force)
{
    bz__err_clear();
    struct stat st;
    int rc = dir_identity(dir, &st);
    if (rc)
        return rc;
    rc = bz__seg_remove(st.st_dev, st.st_ino, force);
    if (rc == BZ_ENOTFOUND)
        rc = bz__err(BZ_ENOTFOUND, "%s has no shared segment", dir);
    return rc;
}

int bz_shm_remove(const char *dir)
{
    return shm_remove(dir, false);
}

int bz_shm_remove_forced(const char *dir)
{
    return shm_remove(dir, true);
}
