/*
 * db.c - opening a data directory, the recorded schema, the explicit lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "shm.h"

#define SCHEMA_FILE ".schema"
#define SCHEMA_HEADER "# Bazoola schema, recorded by libbazoola; one table per line.\n"

bz_options *bz_options_new(void)
{
    bz_options *o = calloc(1, sizeof(*o));
    if (o) {
        o->create = true;
        o->lock_mode = BZ_LOCK_DEFAULT;
    }
    return o;
}

int bz_options_set_lock_mode(bz_options *o, bz_lock_mode mode)
{
    bz__err_clear();
    if (!o)
        return bz__err(BZ_EINVAL, "bz_options_set_lock_mode: NULL options");
    if (mode != BZ_LOCK_DEFAULT && mode != BZ_LOCK_FLOCK &&
        mode != BZ_LOCK_SHARED)
        return bz__err(BZ_EINVAL, "unknown lock mode %d", (int)mode);
    o->lock_mode = mode;
    return BZ_OK;
}

int bz_options_set_sync(bz_options *o, bz_sync sync)
{
    bz__err_clear();
    if (!o)
        return bz__err(BZ_EINVAL, "bz_options_set_sync: NULL options");
    if (sync != BZ_SYNC_OFF && sync != BZ_SYNC_FULL)
        return bz__err(BZ_EINVAL, "unknown sync mode %d", (int)sync);
    o->sync = sync;
    return BZ_OK;
}

int bz_options_set_cache_mb(bz_options *o, size_t mb)
{
    bz__err_clear();
    if (!o)
        return bz__err(BZ_EINVAL, "bz_options_set_cache_mb: NULL options");
    size_t max = bz__seg_max_cache() >> 20;
    if (mb > max)
        return bz__err(BZ_EINVAL, "bz_options_set_cache_mb(%zu): a cache of "
                       "%zu MiB is out of range: from 1 to %zu MiB (half of "
                       "this machine's RAM), or 0 to follow the data", mb, mb,
                       max);
    o->cache_mb = mb;
    return BZ_OK;
}

/* The lock mode: the option, else BAZOOLA_LOCK_MODE, else shared. */
static int lock_mode_of(const bz_options *o, bz_lock_mode *mode)
{
    *mode = o ? o->lock_mode : BZ_LOCK_DEFAULT;
    if (*mode != BZ_LOCK_DEFAULT)
        return BZ_OK;
    const char *env = getenv("BAZOOLA_LOCK_MODE");
    if (!env || !*env || strcmp(env, "shared") == 0)
        *mode = BZ_LOCK_SHARED;
    else if (strcmp(env, "flock") == 0)
        *mode = BZ_LOCK_FLOCK;
    else
        return bz__err(BZ_EINVAL, "BAZOOLA_LOCK_MODE=%s: expected 'flock' "
                       "or 'shared'", env);
    return BZ_OK;
}

/* The cache size: the option, else BAZOOLA_CACHE_MB, else 0 (the segment
 * follows the data, shm/README.md "Size").  Fractions of a MiB are allowed
 * in the variable, for tests of tiny caches ("0.03" is 8 frames). */
static int cache_bytes_of(const bz_options *o, size_t *bytes, char *src,
                          size_t srclen)
{
    *bytes = 0;
    if (o && o->cache_mb) {
        *bytes = o->cache_mb << 20;
        snprintf(src, srclen, "bz_options_set_cache_mb(%zu)", o->cache_mb);
        return BZ_OK;
    }
    const char *env = getenv("BAZOOLA_CACHE_MB");
    if (env && *env) {
        char *end;
        double mb = strtod(env, &end);
        /* 0.03 rounds to 8 pages, the smallest cache (make_signature). */
        double hi = (double)(bz__seg_max_cache() >> 20);
        if (*end || !(mb >= 0.03 && mb <= hi))
            return bz__err(BZ_EINVAL, "BAZOOLA_CACHE_MB=%s is out of range: "
                           "expected a number of MiB from 0.03 (8 pages) to "
                           "%.0f (half of this machine's RAM); unset it to "
                           "size the cache from the data", env, hi);
        *bytes = (size_t)(mb * 1048576.0);
        snprintf(src, srclen, "BAZOOLA_CACHE_MB=%s", env);
        return BZ_OK;
    }
    snprintf(src, srclen, "the default");
    return BZ_OK;
}

void bz_options_free(bz_options *o) { free(o); }

int bz_options_set_create(bz_options *o, int create)
{
    bz__err_clear();
    if (!o)
        return bz__err(BZ_EINVAL, "bz_options_set_create: NULL options");
    o->create = create != 0;
    return BZ_OK;
}

/* mkdir -p, as 0.0.7's os.makedirs. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return bz__nomem();
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = bz__err_os(e, "cannot create directory %s", p);
            free(p);
            return rc;
        }
        *s = '/';
    }
    int rc = BZ_OK;
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = bz__err_os(errno, "cannot create directory %s", p);
    free(p);
    return rc;
}

/* Read DIR/.schema: BZ_OK with *out NULL when there is none. */
static int read_recorded(int dirfd, const char *dir, bz_schema **out)
{
    *out = NULL;
    int fd = openat(dirfd, SCHEMA_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return BZ_OK;
        return bz__err_os(errno, "cannot open %s/%s", dir, SCHEMA_FILE);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 24)) {
        close(fd);
        return bz__err(BZ_ESCHEMA, "%s/%s is not a schema file", dir,
                       SCHEMA_FILE);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return bz__nomem();
    }
    ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
    int e = errno;
    close(fd);
    if (n < 0) {
        free(buf);
        return bz__err_os(e, "cannot read %s/%s", dir, SCHEMA_FILE);
    }
    int rc = bz_schema_parse(buf, (size_t)n, out);
    free(buf);
    if (rc) {
        char *m = strdup(bz_errmsg());
        rc = bz__err(BZ_ESCHEMA, "recorded schema %s/%s: %s", dir, SCHEMA_FILE,
                     m ? m : "");
        free(m);
    }
    return rc;
}

/* The given schema must agree with the recorded one on every table both
 * define: the files were written with the recorded row layout. */
static int check_against_recorded(const bz_schema *given, const bz_schema *rec,
                                  const char *dir)
{
    for (int i = 0; i < given->ntables; i++) {
        int k = bz__schema_find_table(rec, given->tables[i].name);
        if (k < 0)
            continue;
        char *a = bz__tdef_text(given, &given->tables[i]);
        char *b = bz__tdef_text(rec, &rec->tables[k]);
        int same = a && b && strcmp(a, b) == 0;
        int rc = BZ_OK;
        if (!a || !b)
            rc = bz__nomem();
        else if (!same)
            rc = bz__err(BZ_ESCHEMA,
                         "table '%s' is defined as \"%s\" but the data in %s "
                         "was written as \"%s\" (recorded in %s/%s)",
                         given->tables[i].name, a, dir, b, dir, SCHEMA_FILE);
        free(a);
        free(b);
        if (rc)
            return rc;
    }
    return BZ_OK;
}

/* Record the schema: the given tables, then recorded ones it does not name
 * (their files are still there).  Written to a temporary file and renamed,
 * so a reader sees the old or the new text, never a mix. */
static int record_schema(int dirfd, const char *dir, const bz_schema *given,
                         const bz_schema *rec)
{
    char *text = bz_schema_text(given);
    if (!text)
        return bz__nomem();
    size_t len = strlen(text);
    for (int k = 0; rec && k < rec->ntables; k++) {
        if (bz__schema_find_table(given, rec->tables[k].name) >= 0)
            continue;
        char *line = bz__tdef_text(rec, &rec->tables[k]);
        char *n = line ? realloc(text, len + strlen(line) + 2) : NULL;
        if (!n) {
            free(line);
            free(text);
            return bz__nomem();
        }
        text = n;
        len += (size_t)sprintf(text + len, "%s\n", line);
        free(line);
    }
    /* Unchanged: leave the file (and its mtime) alone. */
    if (rec) {
        char *old = bz_schema_text(rec);
        int same = old && strcmp(old, text) == 0;
        free(old);
        if (same) {
            free(text);
            return BZ_OK;
        }
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", SCHEMA_FILE, (long)getpid());
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
                    O_NOFOLLOW, 0600);
    int rc = BZ_OK;
    if (fd < 0) {
        rc = bz__err_os(errno, "cannot create %s/%s", dir, tmp);
        goto out;
    }
    size_t hl = strlen(SCHEMA_HEADER);
    if (write(fd, SCHEMA_HEADER, hl) != (ssize_t)hl ||
        write(fd, text, len) != (ssize_t)len) {
        rc = bz__err_os(errno ? errno : EIO, "cannot write %s/%s", dir, tmp);
        close(fd);
        unlinkat(dirfd, tmp, 0);
        goto out;
    }
    close(fd);
    if (renameat(dirfd, tmp, dirfd, SCHEMA_FILE) != 0) {
        rc = bz__err_os(errno, "cannot rename %s/%s", dir, tmp);
        unlinkat(dirfd, tmp, 0);
    }
out:
    free(text);
    return rc;
}

static void db_free(bz_db *db)
{
    if (!db)
        return;
    if (db->tables)
        for (int i = 0; i < db->schema->ntables; i++)
            bz__table_close(&db->tables[i]);
    free(db->tables);
    bz__journal_close(&db->journal);
    bz__dirlock_put(db->lock, bz__seg_detach);
    if (db->dirfd >= 0)
        close(db->dirfd);
    bz_schema_free(db->schema);
    free(db->dir);
    free(db);
}

/* The files of the tables of a and of b (either may be NULL), counted
 * once each, and their bytes now: what the segment is sized from. */
static void schema_files(const bz_schema *a, const bz_schema *b, int dirfd,
                         uint32_t *nfiles, uint64_t *bytes)
{
    *nfiles = 0;
    *bytes = 0;
    char names[BZ_TABLE_MAX_FILES][BZ_FILE_NAME_MAX];
    for (int pass = 0; pass < 2; pass++) {
        const bz_schema *sc = pass ? b : a;
        for (int i = 0; sc && i < sc->ntables; i++) {
            if (pass && a && bz__schema_find_table(a, sc->tables[i].name) >= 0)
                continue;
            int n = bz__table_file_names(&sc->tables[i], names);
            *nfiles += (uint32_t)n;
            for (int k = 0; k < n; k++) {
                struct stat st;
                if (fstatat(dirfd, names[k], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISREG(st.st_mode))
                    *bytes += (uint64_t)st.st_size;
            }
        }
    }
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the one opendir holds */
}

/* Every limit the schema could hit, checked before any file is created:
 * an open that fails must leave the directory as it found it. */
static int check_limits(bz_db *db)
{
    const bz_schema *sc = db->schema;
    uint64_t files = 0, fresh = 0;
    char names[BZ_TABLE_MAX_FILES][BZ_FILE_NAME_MAX];
    for (int i = 0; i < sc->ntables; i++) {
        int n = bz__table_file_names(&sc->tables[i], names);
        files += (uint64_t)n;
        for (int k = 0; k < n && db->seg; k++)
            fresh += !bz__seg_has_file(db->seg, names[k]);
    }
    if (db->seg && files > bz__seg_max_files_limit())
        return bz__err(BZ_ESCHEMA, "the schema's %d tables have %llu files, "
                       "more than a shared segment holds (%u); use fewer "
                       "tables, or lock mode flock", sc->ntables,
                       (unsigned long long)files, bz__seg_max_files_limit());
    if (db->seg && fresh > bz__seg_files_free(db->seg))
        return bz__err(BZ_ESCHEMA, "the schema's %d tables have %llu files "
                       "the shared segment of %s does not know yet, and its "
                       "file table has room for %u more (it was sized when "
                       "the first process opened %s); close every process "
                       "that has %s open, and the next open sizes it for "
                       "this schema", sc->ntables, (unsigned long long)fresh,
                       db->dir, bz__seg_files_free(db->seg), db->dir, db->dir);
    struct rlimit rl;
    long now = open_fds();
    /* Headroom for the journal, the schema's temporary file and what
     * the caller opens next. */
    if (now >= 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)now + files + 16 > (uint64_t)rl.rlim_cur)
        return bz__err(BZ_EINVAL, "opening the schema's %d tables takes %llu "
                       "file descriptors; this process has %ld open and may "
                       "have %llu (RLIMIT_NOFILE): raise the limit (ulimit "
                       "-n) or open fewer tables", sc->ntables,
                       (unsigned long long)files, now,
                       (unsigned long long)rl.rlim_cur);
    return BZ_OK;
}

/* Under the lock: reconcile the schema with the recording, open (and
 * create) every table's files, check their sizes. */
static int open_tables(bz_db *db, const bz_schema *rec, bool create,
                       bool for_check)
{
    int rc;
    if (rec && (rc = check_against_recorded(db->schema, rec, db->dir)))
        return rc;
    if ((rc = check_limits(db)))
        return rc;
    if (create && (rc = record_schema(db->dirfd, db->dir, db->schema, rec)))
        return rc;
    db->tables = calloc((size_t)db->schema->ntables, sizeof(bz_table));
    if (!db->tables)
        return bz__nomem();
    for (int i = 0; i < db->schema->ntables; i++) {
        bz_table *t = &db->tables[i];
        if ((rc = bz__table_open(t, db->dirfd, &db->schema->tables[i], create))) {
            /* Mark the rest unopened for db_free. */
            for (int k = i; k < db->schema->ntables; k++)
                db->tables[k].dat.fd = db->tables[k].seq.fd =
                    db->tables[k].idx.fd = db->tables[k].fre.fd =
                    db->tables[k].txt.fd = -1;
            return rc;
        }
    }
    for (int i = 0; i < db->schema->ntables && db->seg; i++)
        if ((rc = bz__table_attach(&db->tables[i], db->seg, db->dirfd)))
            return rc;
    for (int i = 0; i < db->schema->ntables && !for_check; i++) {
        int64_t seq;
        if ((rc = bz__table_check_sizes(&db->tables[i], db->lock->gen)) ||
            (rc = bz__table_seq_get(&db->tables[i], db->lock->gen, &seq)))
            return rc;
    }
    return BZ_OK;
}

/* What tells this directory from an earlier one with the same inode: the
 * lock file's inode and birth time (change time where the file system
 * keeps no birth time). */
static int dir_token(int lockfd, uint64_t token[2])
{
    struct statx sx;
    if (statx(lockfd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME | STATX_CTIME,
              &sx) != 0)
        return bz__err_os(errno, "cannot stat .lock");
    struct statx_timestamp t = (sx.stx_mask & STATX_BTIME) ? sx.stx_btime
                                                            : sx.stx_ctime;
    token[0] = sx.stx_ino;
    token[1] = (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
    return BZ_OK;
}

static int db_open(const char *dir, const bz_schema *schema,
                   const bz_options *opts, bz_db **out)
{
    bz__err_clear();
    if (!out)
        return bz__err(BZ_EINVAL, "bz_open: NULL out");
    *out = NULL;
    if (!dir || !*dir)
        return bz__err(BZ_EINVAL, "bz_open: no data directory given");
    bool create = opts ? opts->create : true;
    int rc;
    /* Without a schema there is nothing to create a directory for. */
    if (create && schema && (rc = make_dirs(dir)))
        return rc;
    bz_db *db = calloc(1, sizeof(*db));
    if (!db)
        return bz__nomem();
    db->dirfd = -1;
    db->pid = getpid();
    db->journal.fd = -1;
    db->sync = opts ? opts->sync : BZ_SYNC_OFF;
    db->dir = strdup(dir);
    if (!db->dir) {
        rc = bz__nomem();
        goto fail;
    }
    db->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (db->dirfd < 0) {
        rc = bz__err_os(errno, "cannot open data directory %s", dir);
        goto fail;
    }
    bz_lock_mode mode;
    char src[96];
    struct bz_seg_sizing sz = {.source = src};
    if ((rc = lock_mode_of(opts, &mode)) ||
        (rc = cache_bytes_of(opts, &sz.cache_bytes, src, sizeof src)))
        goto fail;
    if ((rc = bz__dirlock_get(db->dirfd, db->dir, &db->lock)))
        goto fail;
    if ((rc = bz__lock_acquire(db->lock)))
        goto fail;
    bz_schema *rec = NULL;
    /* The first shared-mode handle of the process attaches the segment
     * (under the flock: creation must be, see shm/README.md). */
    if (mode == BZ_LOCK_SHARED && !db->lock->seg &&
        !(rc = bz__lock_probe_owner_dead())) {
        struct stat st;
        uint64_t token[2];
        /* Sized from the schema and the data as they are now (under the
         * flock); read again below, after the full lock, for the open. */
        bz_schema *pre = NULL;
        if (fstat(db->dirfd, &st) != 0)
            rc = bz__err_os(errno, "cannot stat %s", dir);
        else if (!(rc = dir_token(db->lock->fd, token)) &&
                 !(rc = read_recorded(db->dirfd, dir, &pre))) {
            schema_files(schema, pre, db->dirfd, &sz.files, &sz.data_bytes);
            rc = bz__seg_attach(dir, st.st_dev, st.st_ino, token, &sz,
                                &db->lock->seg);
        }
        bz_schema_free(pre);
    }
    if (mode == BZ_LOCK_SHARED && !rc) {
        db->seg = db->lock->seg;
        /* Take the lock again, now with the segment's mutex: a writer
         * that died since the segment was last used is undone before we
         * read a byte. */
        bz__lock_release(db->lock);
        bz__lock_repairing = opts && opts->for_repair;
        rc = bz__lock_acquire(db->lock);
        bz__lock_repairing = false;
        if (rc)
            goto fail;
    }
    /* A journal left by a sync=full writer that never committed: replay
     * it when the segment that would have undone the write is gone (new,
     * or flock mode); with a live segment whose log is closed, the write
     * had committed and only the journal's emptying was lost. */
    if (!rc) {
        uint32_t undone;
        if (!db->seg || bz__seg_created(db->seg))
            rc = bz__journal_recover(db->dirfd, &undone);
        else
            rc = bz__journal_discard(db->dirfd);
    }
    if (!rc)
        rc = read_recorded(db->dirfd, dir, &rec);
    if (!rc && !schema && !rec)
        rc = bz__err(BZ_ESCHEMA, "%s has no recorded schema (%s/%s); give "
                     "the schema explicitly", dir, dir, SCHEMA_FILE);
    if (!rc) {
        db->schema = bz__schema_dup(schema ? schema : rec);
        if (!db->schema)
            rc = bz__nomem();
    }
    if (!rc)
        rc = open_tables(db, rec, create, opts && opts->for_check);
    bz_schema_free(rec);
    bz__lock_release(db->lock);
    if (rc)
        goto fail;
    *out = db;
    return BZ_OK;

fail:
    db_free(db);
    return rc;
}

int bz_open(const char *dir, const bz_schema *schema, const bz_options *opts,
            bz_db **out)
{
    if (!schema) {
        bz__err_clear();
        if (out)
            *out = NULL;
        return bz__err(BZ_EINVAL, "bz_open: NULL schema (use bz_open_recorded)");
    }
    return db_open(dir, schema, opts, out);
}

int bz_open_recorded(const char *dir, const bz_options *opts, bz_db **out)
{
    return db_open(dir, NULL, opts, out);
}

void bz_close(bz_db *db)
{
    db_free(db);
}

const bz_schema *bz_db_schema(const bz_db *db)
{
    return db ? db->schema : NULL;
}

/* A forked child shares the parent's .lock open file description, so its
 * flock would not exclude the parent: refuse instead of corrupting. */
int bz__db_check_process(const bz_db *db)
{
    pid_t me = bz__pid();
    if (db->pid != me)
        return bz__err(BZ_EINVAL, "this handle of %s was opened by process %ld "
                       "and cannot be used in process %ld: open a new handle "
                       "after fork()", db->dir, (long)db->pid, (long)me);
    return BZ_OK;
}

int bz_lock(bz_db *db)
{
    bz__err_clear();
    if (!db)
        return bz__err(BZ_EINVAL, "bz_lock: NULL db");
    int rc = bz__db_check_process(db);
    if (rc || (rc = bz__lock_acquire(db->lock)))
        return rc;
    /* Outside changes are looked for at each file's first access under
     * the lock (fileio.c), so everything read inside it is current. */
    return rc;
}

int bz_unlock(bz_db *db)
{
    bz__err_clear();
    if (!db)
        return bz__err(BZ_EINVAL, "bz_unlock: NULL db");
    return bz__lock_release(db->lock);
}

uint64_t bz_lock_wait_ns(void)
{
    return bz__lock_thread_wait_ns();
}

void bz_thread_cache_lookups(uint64_t *hits, uint64_t *misses)
{
    uint64_t h, m;
    bz__cache_thread_lookups(&h, &m);
    if (hits)
        *hits = h;
    if (misses)
        *misses = m;
}

int bz__op_begin(bz_opctx *op, bz_db *db)
{
    memset(op, 0, sizeof(*op));
    op->db = db;
    int rc = bz__db_check_process(db);
    if (rc)
        return rc;
    rc = bz__lock_acquire(db->lock);
    if (rc)
        return rc;
    op->gen = db->lock->gen;
    return BZ_OK;
}

void bz__op_free_bufs(bz_opctx *op)
{
    bz__buf_free(&op->row);
    bz__buf_free(&op->text);
    bz__buf_free(&op->aux_row);
    bz__buf_free(&op->aux_text);
    bz__buf_free(&op->scan);
    bz__buf_free(&op->prefilter);
}

void bz__op_end(bz_opctx *op)
{
    bz__op_free_bufs(op);
    /* What this operation looked up is visible once it returns. */
    if (op->db->seg)
        bz__cache_flush_counts(op->db->seg);
    bz__lock_release(op->db->lock);
}

int bz__table_lookup(bz_db *db, const char *name, bz_table **t)
{
    int i = bz__schema_find_table(db->schema, name);
    if (i < 0)
        return bz__err(BZ_EINVAL, "no such table: '%s'", name ? name : "(null)");
    *t = &db->tables[i];
    return BZ_OK;
}

/* ---- write batches ------------------------------------------------- */

int bz_begin(bz_db *db)
{
    bz__err_clear();
    if (!db)
        return bz__err(BZ_EINVAL, "bz_begin: NULL db");
    int rc = bz__db_check_process(db);
    if (rc || (rc = bz_lock(db)))
        return rc;
    if (db->lock->batch) {
        bz__lock_release(db->lock);
        return bz__err(BZ_ELOCKED, "a batch is already open in this thread "
                       "(batches do not nest)");
    }
    bz_txn *b = calloc(1, sizeof(*b));
    if (!b) {
        bz__lock_release(db->lock);
        return bz__nomem();
    }
    bz__txn_begin(b, db->lock->gen, db->seg, db->dirfd);
    b->batch = true;
    if (db->sync == BZ_SYNC_FULL)
        b->journal = &db->journal;
    /* Readers see the whole batch or none of it: the sequence number stays
     * odd until the end. */
    if (db->seg) {
        bz__seg_write_begin(db->seg);
        b->marked = true;
    }
    db->lock->batch = b;
    return BZ_OK;
}

static int batch_end(bz_db *db, bool commit, const char *what)
{
    bz__err_clear();
    if (!db)
        return bz__err(BZ_EINVAL, "%s: NULL db", what);
    if (!bz__lock_held_by_me(db->lock) || !db->lock->batch)
        return bz__err(BZ_ELOCKED, "%s: no batch is open in this thread", what);
    bz_txn *b = db->lock->batch;
    db->lock->batch = NULL;
    int rc = BZ_OK;
    b->batch = false; /* its end commits the segment's log */
    if (commit && (rc = bz__txn_commit(b)) == BZ_OK) {
        /* committed */
    } else {
        int rb = bz__txn_rollback(b);
        if (!rb && b->journal)
            rb = bz__journal_clear(b->journal, db->dirfd);
        if (rb)
            rc = bz__err(BZ_EIO, "rolling the batch back failed, files may "
                         "be inconsistent: %s", bz_errmsg());
    }
    free(b);
    /* Unwind the lock to the depth bz_begin found (it may be nested in an
     * explicit bz_lock). */
    bz__lock_release(db->lock);
    return rc;
}

int bz_commit(bz_db *db)
{
    return batch_end(db, true, "bz_commit");
}

int bz_rollback(bz_db *db)
{
    return batch_end(db, false, "bz_rollback");
}
