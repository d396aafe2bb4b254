/*
 * segment.c - naming, creating, validating, attaching and removing the
 * segment; process slots; file entries; statistics snapshots.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <urcu/arch.h>
#include <urcu/uatomic.h>

#include "atomic.h"
#include "err.h"
#include "shm_int.h"

static void probe_timestamps(const char *dir, uint32_t *mgtime,
                             int64_t *margin_ns, int64_t *round_ns);
static void choose_ticks(uint32_t *tsc, int64_t *stale_ticks);

void bz__seg_name(dev_t dev, ino_t ino, char *buf, size_t len)
{
    snprintf(buf, len, "/bazoola-%" PRIx64 "-%" PRIx64, (uint64_t)dev,
             (uint64_t)ino);
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

void bz__seg_layout(const struct shm_signature *sig, struct shm_layout *lay)
{
    size_t off = BZ_SHM_HEADER_SIZE;
    lay->procs = off;
    off += (size_t)sig->max_procs * sizeof(struct shm_proc);
    lay->files = off;
    off += (size_t)sig->max_files * sizeof(struct shm_file);
    lay->undo = off;
    off += BZ_SHM_UNDO_SIZE;
    lay->buckets = off;
    off = align_up(off + (size_t)sig->nbuckets * sizeof(int32_t),
                   BZ_SHM_CACHE_LINE);
    lay->frames = off;
    off = align_up(off + (size_t)sig->nframes * sizeof(struct shm_frame),
                   BZ_SHM_PAGE);
    lay->data = off;
    off += (size_t)sig->nframes * sig->page_size;
    lay->total = off;
}

static uint64_t ram_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

static bool shm_free_bytes(uint64_t *out)
{
    struct statvfs v;
    if (statvfs(BZ_SHM_FS, &v) != 0)
        return false;
    *out = (uint64_t)v.f_bavail * v.f_frsize;
    return true;
}

size_t bz__seg_max_cache(void)
{
    uint64_t cap = (uint64_t)BZ_SHM_PAGE << 24, half = ram_bytes() / 2;
    if (half && half < cap)
        cap = half;
    return (size_t)cap;
}

uint32_t bz__seg_max_files_limit(void) { return BZ_SHM_MAX_FILES; }

size_t bz__seg_default_cache(uint64_t data_bytes, char *why, size_t len)
{
    /* A quarter more than the data, so inserts have room to grow into
     * before the working set spills; never below the old fixed default,
     * where small directories cost nothing worth saving. */
    uint64_t want = data_bytes + data_bytes / 4;
    const char *reason = "1.25 x the data";
    if (want < ((uint64_t)BZ_SHM_DEFAULT_MB << 20)) {
        want = (uint64_t)BZ_SHM_DEFAULT_MB << 20;
        reason = "the minimum";
    }
    /* The segment is real memory (allocated at creation): leave most of
     * RAM to the page cache that the files live in, and most of /dev/shm
     * to everybody else. */
    uint64_t q = ram_bytes() / 4, shm;
    if (q && want > q) {
        want = q;
        reason = "a quarter of RAM";
    }
    if (shm_free_bytes(&shm) && want > shm / 2) {
        want = shm / 2;
        reason = "half of " BZ_SHM_FS "'s free space";
    }
    if (want < BZ_SHM_MIN_CACHE)
        want = BZ_SHM_MIN_CACHE;
    if (want > bz__seg_max_cache())
        want = bz__seg_max_cache();
    if (why)
        snprintf(why, len, "%s", reason);
    return (size_t)want;
}

/* Twice the opener's files, so other schemas may add tables later. */
static uint32_t files_for(uint32_t files)
{
    uint64_t n = (uint64_t)files * 2;
    if (n < BZ_SHM_MIN_FILES)
        n = BZ_SHM_MIN_FILES;
    if (n > BZ_SHM_MAX_FILES)
        n = BZ_SHM_MAX_FILES;
    return (uint32_t)n;
}

static void make_signature(size_t cache_bytes, uint32_t max_files,
                           struct shm_signature *sig)
{
    memset(sig, 0, sizeof(*sig));
    sig->version = BZ_SHM_VERSION;
    sig->page_size = BZ_SHM_PAGE;
    sig->cache_line = BZ_SHM_CACHE_LINE;
    sig->mutex_size = sizeof(pthread_mutex_t);
    sig->max_procs = BZ_SHM_MAX_PROCS;
    sig->max_files = max_files;
    size_t nframes = cache_bytes / BZ_SHM_PAGE;
    if (nframes < 8)
        nframes = 8;
    if (nframes > (1u << 24))
        nframes = 1u << 24;
    sig->nframes = (uint32_t)nframes;
    uint32_t nb = 16;
    while (nb < 2 * sig->nframes)
        nb *= 2;
    sig->nbuckets = nb;
    struct shm_layout lay;
    bz__seg_layout(sig, &lay);
    sig->total_size = lay.total;
}

void bz__seg_map_areas(bz_seg *s)
{
    char *b = s->base;
    s->h = (struct shm_header *)b;
    s->procs = (struct shm_proc *)(b + s->lay.procs);
    s->files = (struct shm_file *)(b + s->lay.files);
    s->undo = (struct shm_undo *)(b + s->lay.undo);
    s->buckets = (int32_t *)(b + s->lay.buckets);
    s->frames = (struct shm_frame *)(b + s->lay.frames);
    s->data = b + s->lay.data;
}

/* Field 22 of /proc/<pid>/stat: when the process started, in clock ticks.
 * With the pid it names a process uniquely (pids are reused). */
static uint64_t proc_starttime(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may contain spaces */
    if (!p)
        return 0;
    unsigned long long v = 0;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        if (++field == 22) {
            v = strtoull(tok, NULL, 10);
            break;
        }
    }
    return v;
}

static bool proc_alive(const struct shm_proc *p)
{
    pid_t pid = uatomic_read(&p->pid);
    if (pid <= 0)
        return false;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return false;
    uint64_t st = proc_starttime(pid);
    return st == 0 || st == p->starttime;
}

static int live_pids(bz_seg *s, char *buf, size_t len)
{
    int n = 0;
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->h->sig.max_procs; i++)
        if (proc_alive(&s->procs[i])) {
            n++;
            if (o + 16 < len)
                o += (size_t)snprintf(buf + o, len - o, "%s%d", n > 1 ? ", " : "",
                                      (int)s->procs[i].pid);
        }
    return n;
}

/* Initialise a freshly sized segment (we created it; nobody else maps it
 * yet: the flock keeps other attachers out). */
static void seg_init(bz_seg *s, const struct shm_signature *sig, dev_t dev,
                     ino_t ino, const uint64_t token[2], uint32_t mgtime,
                     int64_t margin_ns, int64_t round_ns)
{
    memset(s->base, 0, BZ_SHM_HEADER_SIZE);
    struct shm_header *h = s->h;
    h->mgtime = mgtime;
    h->ts_margin_ns = margin_ns;
    h->ts_round_ns = round_ns;
    choose_ticks(&h->tsc, &h->stale_ticks);
    h->sig = *sig;
    h->owner_uid = (uint32_t)geteuid();
    h->dir_dev = (uint64_t)dev;
    h->dir_ino = (uint64_t)ino;
    h->dir_token[0] = token[0];
    h->dir_token[1] = token[1];
    h->created_at = (uint64_t)time(NULL);
    memset(s->procs, 0, (size_t)sig->max_procs * sizeof(struct shm_proc));
    memset(s->files, 0, (size_t)sig->max_files * sizeof(struct shm_file));
    memset(s->undo, 0, sizeof(*s->undo));
    /* The writer mutex: shared between processes, and robust, so that a
     * holder's death is reported (EOWNERDEAD) instead of wedging us all. */
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&h->lock.mutex, &a);
    pthread_mutexattr_destroy(&a);
    bz__cache_init(s);
    memcpy(h->magic, BZ_SHM_MAGIC, sizeof h->magic);
    /* Everything above is visible before ready says so. */
    cmm_smp_wmb();
    uatomic_set(&h->ready, 1);
}

static int seg_map(bz_seg *s, size_t size, const char *dir)
{
    s->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (s->base == MAP_FAILED) {
        s->base = NULL;
        return bz__err_os(errno, "cannot map the shared segment %s of %s",
                          s->name, dir);
    }
    s->size = size;
    return BZ_OK;
}

static void seg_unmap(bz_seg *s)
{
    if (s->base)
        munmap(s->base, s->size);
    s->base = NULL;
}

enum verdict { SEG_OK, SEG_STALE, SEG_FOREIGN };

/* Judge an existing segment (mapped header-sized or more). */
static enum verdict judge(bz_seg *s, const struct stat *st, char *why,
                          size_t len)
{
    if (st->st_uid != geteuid()) {
        snprintf(why, len, "it belongs to uid %d, not to us (uid %d)",
                 (int)st->st_uid, (int)geteuid());
        return SEG_FOREIGN;
    }
    if ((size_t)st->st_size < BZ_SHM_HEADER_SIZE) {
        snprintf(why, len, "it is truncated (%lld bytes)",
                 (long long)st->st_size);
        return SEG_STALE;
    }
    struct shm_header *h = s->base;
    if (memcmp(h->magic, BZ_SHM_MAGIC, sizeof h->magic) != 0) {
        if (!uatomic_read(&h->ready) &&
            memcmp(h->magic, "\0\0\0\0\0\0\0\0", 8) == 0) {
            snprintf(why, len, "its creator died before finishing it");
            return SEG_STALE;
        }
        snprintf(why, len, "it is not a Bazoola segment (bad magic)");
        return SEG_FOREIGN;
    }
    if (h->owner_uid != (uint32_t)geteuid()) {
        snprintf(why, len, "its header names owner uid %u", h->owner_uid);
        return SEG_FOREIGN;
    }
    if (h->sig.version != BZ_SHM_VERSION) {
        snprintf(why, len, "it has format version %u, we use %u",
                 h->sig.version, BZ_SHM_VERSION);
        return SEG_STALE;
    }
    struct shm_signature want = h->sig;
    struct shm_layout lay;
    bz__seg_layout(&want, &lay);
    if (h->sig.page_size != BZ_SHM_PAGE ||
        h->sig.cache_line != BZ_SHM_CACHE_LINE ||
        h->sig.mutex_size != sizeof(pthread_mutex_t) ||
        h->sig.max_procs != BZ_SHM_MAX_PROCS ||
        h->sig.max_files < BZ_SHM_MIN_FILES ||
        h->sig.max_files > BZ_SHM_MAX_FILES || h->sig.nframes < 8 ||
        h->sig.nbuckets < 2 * h->sig.nframes ||
        (h->sig.nbuckets & (h->sig.nbuckets - 1)) ||
        h->sig.total_size != lay.total) {
        snprintf(why, len, "its layout differs from this build's");
        return SEG_STALE;
    }
    if ((uint64_t)st->st_size < h->sig.total_size) {
        snprintf(why, len, "it is truncated (%lld of %llu bytes)",
                 (long long)st->st_size,
                 (unsigned long long)h->sig.total_size);
        return SEG_STALE;
    }
    if (!uatomic_read(&h->ready)) {
        snprintf(why, len, "its creator died before finishing it");
        return SEG_STALE;
    }
    return SEG_OK;
}


static double mib(uint64_t b) { return (double)b / 1048576.0; }

static int create_segment(bz_seg *s, const char *dir, dev_t dev, ino_t ino,
                          const uint64_t token[2],
                          const struct bz_seg_sizing *sz)
{
    char why[64] = "";
    size_t cache = sz->cache_bytes ? sz->cache_bytes
                                   : bz__seg_default_cache(sz->data_bytes, why,
                                                           sizeof why);
    struct shm_signature sig;
    make_signature(cache, files_for(sz->files), &sig);
    s->fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return bz__err_os(errno, "cannot create the shared segment %s of %s",
                          s->name, dir);
    /* Allocated now, not on first touch: tmpfs delivers SIGBUS for a page
     * it has no room for, long after the open that promised the cache. */
    int e = posix_fallocate(s->fd, 0, (off_t)sig.total_size);
    if (e != 0) {
        close(s->fd);
        shm_unlink(s->name);
        uint64_t avail = 0;
        bool known = shm_free_bytes(&avail);
        char src[160], fix[160];
        if (sz->cache_bytes)
            snprintf(src, sizeof src, "as %s asks", sz->source);
        else
            snprintf(src, sizeof src, "the default, %s, for %.1f MiB of data",
                     why, mib(sz->data_bytes));
        uint64_t over = sig.total_size - (uint64_t)sig.nframes * BZ_SHM_PAGE;
        if (known && avail >= over + 2 * (uint64_t)BZ_SHM_MIN_CACHE)
            snprintf(fix, sizeof fix, "set BAZOOLA_CACHE_MB to at most %.2f, "
                     "or make room in %s", mib(avail - over) * 0.9,
                     BZ_SHM_FS);
        else
            snprintf(fix, sizeof fix, "make room in %s (it cannot hold even "
                     "the smallest cache), or use lock mode flock, which "
                     "has none; BAZOOLA_CACHE_MB sets the cache's size",
                     BZ_SHM_FS);
        if (e == ENOSPC && known)
            return bz__err(BZ_EIO,
                           "the shared cache of %s needs %.1f MiB (%.1f MiB "
                           "of pages, %s, and %.1f MiB for its file table "
                           "and undo log), but %s has %.1f MiB free; %s",
                           dir, mib(sig.total_size),
                           mib((uint64_t)sig.nframes * BZ_SHM_PAGE), src,
                           mib(over), BZ_SHM_FS, mib(avail), fix);
        return bz__err_os(e, "cannot allocate the shared segment %s of %s "
                          "(%.1f MiB, %s; set BAZOOLA_CACHE_MB to change it)",
                          s->name, dir, mib(sig.total_size), src);
    }
    int rc = seg_map(s, sig.total_size, dir);
    if (rc) {
        close(s->fd);
        shm_unlink(s->name);
        return rc;
    }
    bz__seg_layout(&sig, &s->lay);
    bz__seg_map_areas(s);
    uint32_t mgtime;
    int64_t margin_ns, round_ns;
    probe_timestamps(dir, &mgtime, &margin_ns, &round_ns);
    seg_init(s, &sig, dev, ino, token, mgtime, margin_ns, round_ns);
    s->created = true;
    return BZ_OK;
}

/* Open and validate an existing segment; *verdict says what we found. */
static int open_existing(bz_seg *s, const char *dir, enum verdict *v,
                         char *why, size_t wlen)
{
    s->fd = shm_open(s->name, O_RDWR | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return errno == ENOENT ? BZ_ENOTFOUND
                               : bz__err_os(errno, "cannot open the shared "
                                            "segment %s of %s", s->name, dir);
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        int e = errno;
        close(s->fd);
        return bz__err_os(e, "cannot stat the shared segment %s", s->name);
    }
    if ((size_t)st.st_size < BZ_SHM_HEADER_SIZE || st.st_uid != geteuid()) {
        *v = judge(s, &st, why, wlen);
        return BZ_OK;
    }
    int rc = seg_map(s, (size_t)st.st_size, dir);
    if (rc) {
        close(s->fd);
        return rc;
    }
    *v = judge(s, &st, why, wlen);
    if (*v == SEG_OK) {
        bz__seg_layout(&((struct shm_header *)s->base)->sig, &s->lay);
        s->size = (size_t)st.st_size;
        bz__seg_map_areas(s);
    }
    return BZ_OK;
}

static void reap_dead(bz_seg *s)
{
    for (uint32_t i = 0; i < s->h->sig.max_procs; i++)
        if (s->procs[i].pid && !proc_alive(&s->procs[i]))
            uatomic_set(&s->procs[i].pid, 0);
}

static int take_proc_slot(bz_seg *s, const char *dir)
{
    pid_t me = getpid();
    uint64_t st = proc_starttime(me);
    for (uint32_t i = 0; i < s->h->sig.max_procs; i++)
        if (s->procs[i].pid == 0) {
            s->procs[i].starttime = st;
            s->procs[i].attached_at = (uint64_t)time(NULL);
            uatomic_set(&s->procs[i].pid, me);
            s->my_slot = (int)i;
            return BZ_OK;
        }
    return bz__err(BZ_EIO, "the shared segment %s of %s has no free process "
                   "slot (%u processes attached)", s->name, dir,
                   s->h->sig.max_procs);
}

/* The mutable areas of a segment whose header passed judge(): every index
 * the cache follows must be in range before we use any of them (a stale
 * or damaged segment must be rebuilt or refused, never followed out of the
 * mapping).  Called under the flock, so no writer changes them meanwhile.
 * Returns false with why set when something is out of range. */
static bool seg_sane(bz_seg *s, char *why, size_t len)
{
    const struct shm_header *h = s->h;
    uint32_t nf = h->sig.nframes, nfiles = h->nfiles;
    if (nfiles > h->sig.max_files || h->clock_hand >= nf) {
        snprintf(why, len, "its header is damaged (files %u, clock %u)",
                 nfiles, h->clock_hand);
        return false;
    }
    for (uint32_t i = 0; i < nfiles; i++)
        if (!memchr(s->files[i].name, '\0', sizeof s->files[i].name)) {
            snprintf(why, len, "its file entry %u is damaged", i);
            return false;
        }
    if (s->undo->used > BZ_SHM_UNDO_SIZE - sizeof(struct shm_undo)) {
        snprintf(why, len, "its undo log is damaged");
        return false;
    }
    for (uint32_t i = 0; i < h->sig.nbuckets; i++) {
        int32_t b = LD(s->buckets[i]);
        if (b < -1 || (b >= 0 && (uint32_t)b >= nf)) {
            snprintf(why, len, "its hash bucket %u is damaged", i);
            return false;
        }
    }
    for (uint32_t i = 0; i < nf; i++) {
        const struct shm_frame *fr = &s->frames[i];
        int32_t file = LD(fr->file), next = LD(fr->next);
        if (file < -1 || (file >= 0 && (uint32_t)file >= nfiles) ||
            next < -1 || (next >= 0 && (uint32_t)next >= nf) ||
            LD(fr->valid) > BZ_SHM_PAGE || (file >= 0 && LD(fr->page) < 0)) {
            snprintf(why, len, "its cache frame %u is damaged", i);
            return false;
        }
    }
    return true;
}

int bz__seg_attach(const char *dir, dev_t dev, ino_t ino,
                   const uint64_t token[2], const struct bz_seg_sizing *sz,
                   bz_seg **out)
{
    *out = NULL;
    bz_seg *s = calloc(1, sizeof(*s));
    if (!s)
        return bz__nomem();
    s->fd = -1;
    s->my_slot = -1;
    bz__seg_name(dev, ino, s->name, sizeof s->name);
    enum verdict v = SEG_OK;
    char why[160] = "";
    int rc = open_existing(s, dir, &v, why, sizeof why);
    if (rc == BZ_OK && v == SEG_OK &&
        (s->h->dir_token[0] != token[0] || s->h->dir_token[1] != token[1])) {
        /* Same device and inode, another directory: the old one was
         * removed and its inode reused.  Whoever still maps the old
         * segment works on the removed directory; the name is ours. */
        seg_unmap(s);
        close(s->fd);
        s->fd = -1;
        shm_unlink(s->name);
        rc = BZ_ENOTFOUND;
    }
    if (rc == BZ_OK && v == SEG_OK && !seg_sane(s, why, sizeof why))
        v = SEG_STALE;
    /* Left by processes that all died, and too small for our schema: make
     * it again rather than refuse later (its undo log, if active, must
     * be replayed first: then it stays, and the open's check says why). */
    if (rc == BZ_OK && v == SEG_OK && s->h->sig.max_files < sz->files &&
        !s->undo->active) {
        char pids[16];
        if (live_pids(s, pids, sizeof pids) == 0) {
            snprintf(why, sizeof why, "its file table holds %u files, the "
                     "schema needs %u", s->h->sig.max_files, sz->files);
            v = SEG_STALE;
        }
    }
    if (rc == BZ_ENOTFOUND) {
        rc = create_segment(s, dir, dev, ino, token, sz);
    } else if (rc == BZ_OK && v == SEG_FOREIGN) {
        rc = bz__err(BZ_EINVAL,
                     "the shared segment %s of %s is not ours: %s.  If no "
                     "Bazoola process uses %s, remove it with `bazoola shm "
                     "remove %s`", s->name, dir, why, dir, dir);
    } else if (rc == BZ_OK && v == SEG_STALE) {
        /* Rebuild only if nobody lives in it: two caches of one directory
         * would not see each other's writes. */
        char pids[128] = "";
        int live = 0;
        if (s->base && (size_t)s->size >= BZ_SHM_HEADER_SIZE &&
            memcmp(((struct shm_header *)s->base)->magic, BZ_SHM_MAGIC, 8) == 0 &&
            ((struct shm_header *)s->base)->sig.max_procs == BZ_SHM_MAX_PROCS &&
            s->size >= BZ_SHM_HEADER_SIZE + BZ_SHM_MAX_PROCS *
                           sizeof(struct shm_proc)) {
            s->h = s->base;
            s->procs = (struct shm_proc *)((char *)s->base + BZ_SHM_HEADER_SIZE);
            live = live_pids(s, pids, sizeof pids);
        }
        seg_unmap(s);
        close(s->fd);
        s->fd = -1;
        if (live)
            rc = bz__err(BZ_EINVAL,
                         "the shared segment %s of %s is stale (%s) but "
                         "processes %s still use it; stop them first",
                         s->name, dir, why, pids);
        else {
            shm_unlink(s->name);
            rc = create_segment(s, dir, dev, ino, token, sz);
        }
    }
    if (rc == BZ_OK) {
        reap_dead(s);
        rc = take_proc_slot(s, dir);
        /* Read on every lock-free read: kept here, off the header's
         * cache lines that counters write. */
        s->tsc = s->h->tsc != 0;
        s->stale_ticks = s->h->stale_ticks;
    }
    if (rc) {
        seg_unmap(s);
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return rc;
    }
    *out = s;
    return BZ_OK;
}

void bz__seg_detach(bz_seg *s)
{
    if (!s)
        return;
    bz__cache_flush_counts(s);
    if (s->my_slot >= 0 && s->procs[s->my_slot].pid == getpid())
        uatomic_set(&s->procs[s->my_slot].pid, 0);
    /* The last one out removes the name (the caller holds the flock, so
     * nobody attaches meanwhile): no segment outlives its users, and a
     * removed directory leaves nothing behind. */
    bool others = false;
    for (uint32_t i = 0; i < s->h->sig.max_procs && !others; i++)
        others = proc_alive(&s->procs[i]);
    /* A dead writer's log that recovery refused to replay stays, and with
     * it the refusal, until `bazoola check --repair`: removing it would
     * let the next open use the half-written files without a word. */
    if (!others && !bz__seg_write_active(s))
        shm_unlink(s->name);
    seg_unmap(s);
    if (s->fd >= 0)
        close(s->fd);
    free(s->dirty);
    free(s);
}

static int open_for_stats(dev_t dev, ino_t ino, bz_seg *s);

int bz__seg_remove(dev_t dev, ino_t ino, bool force)
{
    char name[64];
    bz__seg_name(dev, ino, name, sizeof name);
    if (!force) {
        /* Processes attached to it would go on with their cache while the
         * next opener makes another: two caches of one directory, blind
         * to each other's writes.  A segment we cannot read (not ours,
         * damaged) is what this command exists for: no pids to protect. */
        bz_seg seg;
        if (open_for_stats(dev, ino, &seg) == BZ_OK) {
            char pids[256];
            int n = live_pids(&seg, pids, sizeof pids);
            bool log = bz__seg_write_active(&seg);
            int32_t dead = seg.undo->pid;
            seg_unmap(&seg);
            close(seg.fd);
            if (n == 0 && log)
                return bz__err(BZ_ELOCKED, "the shared segment %s holds the "
                               "undo log of a write that process %d left "
                               "half-done; removing it would leave that "
                               "write in the files unnoticed: open the "
                               "directory (or run `bazoola check --repair` "
                               "if opening refuses), or use --force", name,
                               (int)dead);
            if (n > 0)
                return bz__err(BZ_ELOCKED, "the shared segment %s is in use "
                               "by process%s %s; removing it would leave "
                               "them with a cache that new processes do not "
                               "see: stop them first, or use --force", name,
                               n > 1 ? "es" : "", pids);
        }
        bz__err_clear();
    }
    if (shm_unlink(name) != 0) {
        if (errno == ENOENT)
            return bz__err(BZ_ENOTFOUND, "no shared segment %s", name);
        return bz__err_os(errno, "cannot remove the shared segment %s", name);
    }
    return BZ_OK;
}

/* ---- files ---------------------------------------------------------- */

bool bz__seg_has_file(bz_seg *s, const char *name)
{
    uint32_t n = s->h->nfiles;
    if (n > s->h->sig.max_files)
        n = s->h->sig.max_files;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(s->files[i].name, name) == 0)
            return true;
    return false;
}

uint32_t bz__seg_files_free(bz_seg *s)
{
    uint32_t n = s->h->nfiles;
    return n >= s->h->sig.max_files ? 0 : s->h->sig.max_files - n;
}

int bz__seg_file(bz_seg *s, const char *name, int *slot)
{
    size_t len = strlen(name);
    if (len >= sizeof s->files[0].name)
        return bz__err(BZ_EINVAL, "file name %s is too long for the segment",
                       name);
    uint32_t n = s->h->nfiles;
    if (n > s->h->sig.max_files)
        n = s->h->sig.max_files;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(s->files[i].name, name) == 0) {
            *slot = (int)i;
            return BZ_OK;
        }
    if (n == s->h->sig.max_files)
        return bz__err(BZ_EIO, "the shared segment %s has no room for more "
                       "than %u files", s->name, s->h->sig.max_files);
    struct shm_file *f = &s->files[n];
    memset(f, 0, sizeof(*f));
    memcpy(f->name, name, len + 1);
    uatomic_set(&s->h->nfiles, n + 1);
    *slot = (int)n;
    return BZ_OK;
}

/* ---- outside writers (shm/README.md, "Outside writers") -------------- */

static int64_t ts_ns(struct statx_timestamp t)
{
    return t.tv_sec * 1000000000 + (int64_t)t.tv_nsec;
}

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define STATX_WANT (STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME)

/* statx asking for the ctime: on a multigrain file system that very query
 * makes the file's next change carry a strictly later ctime.  By name
 * (fd < 0) or through a descriptor. */
static int stat_file(int dirfd, const char *name, int fd, struct statx *st)
{
    int r = fd >= 0 ? statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
                            STATX_WANT, st)
                    : statx(dirfd, name, AT_SYMLINK_NOFOLLOW |
                            AT_STATX_SYNC_AS_STAT, STATX_WANT, st);
    if (r != 0)
        return bz__err_os(errno, "cannot stat %s", name);
    if ((st->stx_mask & STATX_WANT) != STATX_WANT)
        return bz__err(BZ_EIO, "the file system of %s reports no inode, size "
                       "or change time, which outside-change detection "
                       "needs", name);
    return BZ_OK;
}

/* Is a baseline with this ctime, taken when the coarse real-time clock
 * read coarse0, proof against a later write?  With multigrain timestamps
 * always; else a later write is stamped with that coarse clock, and only
 * once the clock has moved past the ctime (by the file system's
 * granularity) can such a write not carry the same times. */
static uint32_t judge_base(bz_seg *s, int64_t ctime, int64_t coarse0)
{
    return s->h->mgtime || coarse0 - ctime >= s->h->ts_margin_ns
               ? BASE_TRUSTED : BASE_AMBIGUOUS;
}

/* Take st as the file's new baseline.  Lock-free readers read these
 * fields (bz__seg_refresh_opt): atomic stores. */
static void set_baseline(bz_seg *s, struct shm_file *f, const struct statx *st,
                         int64_t coarse0, int64_t tick0)
{
    ST(f->size, (int64_t)st->stx_size);
    ST_REL(f->size_valid, 1u);
    ST(f->ino, st->stx_ino);
    ST(f->mtime_ns, bz__seg_ts(s, st->stx_mtime));
    ST(f->ctime_ns, bz__seg_ts(s, st->stx_ctime));
    ST(f->base, judge_base(s, bz__seg_ts(s, st->stx_ctime), coarse0));
    f->checked_epoch = s->h->lock.epoch;
    ST(f->checked_tick, tick0);
}

static bool same_as_base(const bz_seg *s, const struct shm_file *f,
                         const struct statx *st)
{
    return LD(f->base) == BASE_TRUSTED && LD(f->size_valid) && !LD(f->dirty) &&
           bz__seg_stat_equal(s, f, st);
}

/* Drop a changed file's pages so that nobody is served its old bytes.  An
 * optimistic reader may have read the old size, so unless a write is
 * already running (sequence number odd), make the drop look like one. */
static void drop_changed(bz_seg *s, int slot, int dirfd)
{
    struct shm_file *f = &s->files[slot];
    if (uatomic_read(&f->frames) == 0 && !f->size_valid)
        return;
    bool bracket = !bz__seg_write_active(s);
    if (bracket)
        bz__seg_write_begin(s);
    bz__cache_drop(s, slot, 0);
    __atomic_store_n(&f->size_valid, 0, __ATOMIC_RELAXED);
    if (bracket)
        bz__seg_write_end(s, dirfd);
    uatomic_inc(&f->c[BZ_C_DROPS]);
    uatomic_inc(&s->h->c[BZ_C_DROPS]);
}

/* Once per epoch: was any name in the directory added, removed or
 * replaced since the last look?  If not, a file's descriptor still holds
 * what its name names, and it can be looked at through the descriptor. */
static bool dir_unchanged(bz_seg *s, int dirfd)
{
    struct shm_header *h = s->h;
    if (h->dir_checked_epoch == h->lock.epoch)
        return h->dir_same;
    int64_t coarse0 = clock_ns(CLOCK_REALTIME_COARSE);
    struct statx st;
    if (statx(dirfd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
              STATX_MTIME | STATX_CTIME, &st) != 0 ||
        (st.stx_mask & (STATX_MTIME | STATX_CTIME)) !=
            (STATX_MTIME | STATX_CTIME)) {
        h->dir_base = BASE_UNKNOWN;
        h->dir_same = 0;
        h->dir_changes++;
        h->dir_checked_epoch = h->lock.epoch;
        return false;
    }
    bool same = h->dir_base == BASE_TRUSTED &&
                h->dir_mtime_ns == bz__seg_ts(s, st.stx_mtime) &&
                h->dir_ctime_ns == bz__seg_ts(s, st.stx_ctime);
    h->dir_mtime_ns = bz__seg_ts(s, st.stx_mtime);
    h->dir_ctime_ns = bz__seg_ts(s, st.stx_ctime);
    h->dir_base = judge_base(s, bz__seg_ts(s, st.stx_ctime), coarse0);
    if (!same)
        h->dir_changes++;
    /* The verdict holds for the whole epoch: after a change, every file
     * is looked at by name until the next one. */
    h->dir_same = same;
    h->dir_checked_epoch = h->lock.epoch;
    return same;
}

int bz__seg_file_size(bz_seg *s, int slot, int fd, int64_t *size)
{
    struct shm_file *f = &s->files[slot];
    if (!f->size_valid) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            return bz__err_os(errno, "cannot stat %s", f->name);
        ST(f->size, (int64_t)st.st_size);
        ST_REL(f->size_valid, 1u);
    }
    *size = f->size;
    return BZ_OK;
}

bool bz__seg_file_fresh(bz_seg *s, int slot, uint64_t fd_ino)
{
    /* Looked at in this epoch, through a descriptor on the same inode as
     * the caller's (another handle may have followed a rename). */
    return s->files[slot].checked_epoch == s->h->lock.epoch &&
           s->files[slot].ino == fd_ino;
}

int bz__seg_check_file(bz_seg *s, int slot, int dirfd, const char *name,
                       int fd, uint64_t fd_ino, bool *reopen, bool *changed)
{
    struct shm_file *f = &s->files[slot];
    struct statx st;
    *reopen = false;
    *changed = false;
    int64_t coarse0 = clock_ns(CLOCK_REALTIME_COARSE);
    int64_t tick0 = bz__seg_ticks(s);
    /* By name unless the descriptor provably holds what the name names: a
     * file saved by rename (an editor) is another inode than the one a
     * descriptor holds.  That proof: the directory has not changed since
     * this file was last looked at by name, and the descriptor's inode is
     * the one that look found (another handle, or another process, may
     * have reopened the name since ours was opened). */
    bool by_fd = dir_unchanged(s, dirfd) && f->base != BASE_UNKNOWN &&
                 f->dir_seen == s->h->dir_changes && f->ino == fd_ino;
    int rc = stat_file(dirfd, name, by_fd ? fd : -1, &st);
    if (rc)
        return rc;
    if (!by_fd)
        f->dir_seen = s->h->dir_changes;
    if (st.stx_ino != fd_ino) {
        *reopen = true;
        return BZ_OK;
    }
    if (!same_as_base(s, f, &st)) {
        /* Only a trusted, clean baseline that differs proves a writer
         * other than the engine: an ambiguous or unknown one is re-read
         * on suspicion, and a dirty one is our own hold that never took
         * its baseline again (it died after committing). */
        if (f->base == BASE_TRUSTED && f->size_valid && !f->dirty) {
            uatomic_inc(&f->c[BZ_C_OUTSIDE]);
            uatomic_inc(&s->h->c[BZ_C_OUTSIDE]);
        }
        *changed = true;
        drop_changed(s, slot, dirfd);
        ST(f->dirty, 0u);
    }
    set_baseline(s, f, &st, coarse0, tick0);
    return BZ_OK;
}

int bz__seg_refresh_opt(bz_seg *s, int slot, int dirfd, const char *name)
{
    struct shm_file *f = &s->files[slot];
    if (LD(f->base) != BASE_TRUSTED || LD(f->dirty))
        return BZ_SEG_RETRY;
    int64_t tick0 = bz__seg_ticks(s);
    struct statx st;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_WANT, &st) != 0 || (st.stx_mask & STATX_WANT) != STATX_WANT)
        return BZ_SEG_RETRY;
    /* Equal to the trusted baseline: no outside change since that look,
     * and the cache holds what the file does (every engine write updates
     * both).  A lock holder moving the baseline meanwhile makes the
     * comparison fail, or the read's sequence number move. */
    if (!same_as_base(s, f, &st))
        return BZ_SEG_RETRY;
    /* Equal now means unchanged since the baseline, so also when this
     * read began: record that (the earlier) time, or this very read would
     * find the look younger than itself. */
    if (tick0 > bz__opt_started)
        tick0 = bz__opt_started;
    if (tick0 > LD(f->checked_tick))
        ST(f->checked_tick, tick0);
    return BZ_OK;
}

void bz__seg_note_dirty(bz_seg *s, int slot, int fd)
{
    struct shm_file *f = &s->files[slot];
    if (f->dirty)
        return;
    if (s->ndirty == s->dirty_cap) {
        uint32_t cap = s->dirty_cap ? s->dirty_cap * 2 : 16;
        void *n = realloc(s->dirty, cap * sizeof(*s->dirty));
        if (!n) {
            /* Untracked: its baseline is not taken again at the end of
             * the hold, so the next look must not trust it. */
            ST(f->base, (uint32_t)BASE_UNKNOWN);
            ST(f->dirty, 1u);
            return;
        }
        s->dirty = n;
        s->dirty_cap = cap;
    }
    s->dirty[s->ndirty].slot = slot;
    s->dirty[s->ndirty].fd = fd;
    s->ndirty++;
    ST(f->dirty, 1u);
}

void bz__seg_rebaseline(bz_seg *s)
{
    for (uint32_t i = 0; i < s->ndirty; i++) {
        struct shm_file *f = &s->files[s->dirty[i].slot];
        struct statx st;
        int64_t coarse0 = clock_ns(CLOCK_REALTIME_COARSE);
        int64_t tick0 = bz__seg_ticks(s);
        /* Through the descriptor we wrote with: we hold the flock, and a
         * rename meanwhile shows at the next look's directory check.  A
         * plain statx: a failure here must not replace the message of the
         * operation being finished. */
        if (statx(s->dirty[i].fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
                  STATX_WANT, &st) != 0 ||
            (st.stx_mask & STATX_WANT) != STATX_WANT || st.stx_ino != f->ino)
            ST(f->base, (uint32_t)BASE_UNKNOWN); /* the next look decides */
        else
            set_baseline(s, f, &st, coarse0, tick0);
        ST(f->dirty, 0u);
    }
    s->ndirty = 0;
}

/* The clock of checked_tick: the TSC where the kernel itself keeps time
 * with it (so it is constant-rate and synchronised across CPUs), else
 * CLOCK_MONOTONIC.  stale_ticks: BZ_SHM_STALE_NS in that clock, measured
 * against CLOCK_MONOTONIC over 1 ms and rounded down 2%, so the bound
 * holds even if the estimate is a little off. */
static void choose_ticks(uint32_t *tsc, int64_t *stale_ticks)
{
    *tsc = 0;
    *stale_ticks = BZ_SHM_STALE_NS;
#if defined(__x86_64__)
    char cs[32] = "";
    FILE *fp = fopen("/sys/devices/system/clocksource/clocksource0/"
                     "current_clocksource", "re");
    if (fp) {
        if (!fgets(cs, sizeof cs, fp))
            cs[0] = 0;
        fclose(fp);
    }
    if (strcmp(cs, "tsc\n") != 0)
        return;
    bool constant = false, nonstop = false;
    fp = fopen("/proc/cpuinfo", "re");
    char line[4096];
    while (fp && fgets(line, sizeof line, fp))
        if (strncmp(line, "flags", 5) == 0) {
            constant = strstr(line, " constant_tsc") != NULL;
            nonstop = strstr(line, " nonstop_tsc") != NULL;
            break;
        }
    if (fp)
        fclose(fp);
    if (!constant || !nonstop)
        return;
    int64_t t0 = clock_ns(CLOCK_MONOTONIC);
    int64_t c0 = (int64_t)__rdtsc(), t1, c1;
    do {
        t1 = clock_ns(CLOCK_MONOTONIC);
        c1 = (int64_t)__rdtsc();
    } while (t1 - t0 < 1000000);
    if (c1 <= c0)
        return;
    double per_ns = (double)(c1 - c0) / (double)(t1 - t0);
    *stale_ticks = (int64_t)(per_ns * BZ_SHM_STALE_NS * 0.98);
    *tsc = 1;
#endif
}

/* Does the file system stamp changes with fine-grained, strictly later
 * ctimes once the ctime was queried (Linux 6.13+, multigrain timestamps)?
 * Eight write-then-stat rounds take microseconds, far less than a coarse
 * tick: with coarse stamps some two rounds would share a ctime.  The file
 * has no name (O_TMPFILE), or a private one removed at once. */
static void probe_timestamps(const char *dir, uint32_t *mgtime,
                             int64_t *margin_ns, int64_t *round_ns)
{
    *mgtime = 0;
    *round_ns = 0;
    *margin_ns = 2000000000; /* unknown granularity: assume FAT's 2 s */
    /* For tests and for file systems that lie: behave as with coarse
     * timestamps whatever the probe would say. */
    const char *coarse = getenv("BAZOOLA_COARSE_TIMESTAMPS");
    bool force_coarse = coarse && *coarse && strcmp(coarse, "0") != 0;
    /* Network and FUSE file systems stamp with another machine's or
     * process's clock: no baseline of theirs is ever trusted. */
    struct statfs sf;
    if (statfs(dir, &sf) == 0) {
        switch ((unsigned long)sf.f_type) {
        case 0x6969UL:        /* NFS   */
        case 0x517BUL:        /* SMB   */
        case 0xFF534D42UL:    /* CIFS  */
        case 0xFE534D42UL:    /* SMB2  */
        case 0x65735546UL:    /* FUSE  */
        case 0x01021997UL:    /* 9P    */
        case 0x00C36400UL:    /* Ceph  */
            *margin_ns = INT64_MAX;
            return;
        }
    }
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    char tmp[4096];
    tmp[0] = 0;
    if (fd < 0) {
        snprintf(tmp, sizeof tmp, "%s/.bzprobe.%ld", dir, (long)getpid());
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600);
        if (fd < 0)
            return;
        unlink(tmp);
    }
    int64_t prev = -1;
    bool strictly = true;
    /* The granularity: the largest power of ten dividing every stamp's
     * nanoseconds (vfat 10 ms, NTFS 100 ns, ext4 and tmpfs 1 ns). */
    int64_t gran = 1000000000;
    for (int i = 0; i < 8; i++) {
        struct statx st;
        if (pwrite(fd, "x", 1, i) != 1 ||
            statx(fd, "", AT_EMPTY_PATH, STATX_CTIME, &st) != 0 ||
            !(st.stx_mask & STATX_CTIME)) {
            close(fd);
            return;
        }
        int64_t c = ts_ns(st.stx_ctime);
        while (gran > 1 && st.stx_ctime.tv_nsec % gran)
            gran /= 10;
        if (i > 0 && c <= prev)
            strictly = false;
        prev = c;
    }
    close(fd);
    *mgtime = strictly && !force_coarse;
    /* Whole seconds only: FAT's 2 s, to be safe. */
    *margin_ns = gran >= 1000000000 ? 2000000000 : gran;
    if (force_coarse) {
        /* Simulate a coarse file system for the tests: every time the
         * engine compares is rounded down to a 4 ms tick, so a same-tick
         * change carries the same times. */
        *round_ns = 4000000;
        *margin_ns = 4000000;
    }
}

/* ---- statistics ------------------------------------------------------ */

/* Map a directory's existing segment for statistics, without attaching
 * (no process slot).  BZ_ENOTFOUND when there is none; BZ_EINVAL when it
 * is not usable. */
static int open_for_stats(dev_t dev, ino_t ino, bz_seg *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    bz__seg_name(dev, ino, s->name, sizeof s->name);
    enum verdict v;
    char why[160];
    int rc = open_existing(s, "the data directory", &v, why, sizeof why);
    if (rc == BZ_ENOTFOUND)
        return bz__err(BZ_ENOTFOUND, "no shared segment %s", s->name);
    if (rc)
        return rc;
    if (v != SEG_OK) {
        seg_unmap(s);
        close(s->fd);
        return bz__err(BZ_EINVAL, "the shared segment %s is unusable: %s",
                       s->name, why);
    }
    return BZ_OK;
}

int bz__seg_snapshot(dev_t dev, ino_t ino, struct bz_seg_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    bz_seg s;
    int rc = open_for_stats(dev, ino, &s);
    if (rc)
        return rc;
    struct shm_header *h = s.h;
    snprintf(out->name, sizeof out->name, "%s", s.name);
    out->size = h->sig.total_size;
    out->page_size = h->sig.page_size;
    out->nframes = h->sig.nframes;
    out->frames_used = uatomic_read(&h->frames_used);
    out->created_at = h->created_at;
    out->version = h->sig.version;
    out->owner_uid = h->owner_uid;
    out->recoveries = uatomic_read(&h->recoveries);
    out->mgtime = h->mgtime != 0;
    for (int k = 0; k < BZ_C__COUNT; k++)
        out->c[k] = uatomic_read(&h->c[k]);
    uint32_t nf = uatomic_read(&h->nfiles);
    if (nf > h->sig.max_files)
        nf = h->sig.max_files;
    out->files = calloc(nf ? nf : 1, sizeof(*out->files));
    out->procs = calloc(h->sig.max_procs, sizeof(*out->procs));
    if (!out->files || !out->procs) {
        bz__seg_snapshot_free(out);
        seg_unmap(&s);
        close(s.fd);
        return bz__nomem();
    }
    for (uint32_t i = 0; i < nf; i++) {
        struct bz_seg_file_stat *fs = &out->files[out->nfiles++];
        memcpy(fs->name, s.files[i].name, sizeof fs->name);
        fs->name[sizeof fs->name - 1] = '\0';
        fs->size = s.files[i].size_valid ? s.files[i].size : -1;
        fs->frames = uatomic_read(&s.files[i].frames);
        for (int k = 0; k < BZ_C__COUNT; k++)
            fs->c[k] = uatomic_read(&s.files[i].c[k]);
    }
    struct shm_lock *l = &h->lock;
    struct bz_seg_lock_snapshot *ls = &out->lock;
    ls->acquisitions = uatomic_read(&l->acquisitions);
    ls->contended = uatomic_read(&l->contended);
    ls->wait_ns = uatomic_read(&l->wait_ns);
    ls->wait_max_ns = uatomic_read(&l->wait_max_ns);
    ls->hold_ns = uatomic_read(&l->hold_ns);
    ls->holder_pid = (uint64_t)uatomic_read(&l->holder_pid);
    ls->read_retries = uatomic_read(&l->read_retries);
    ls->read_fallbacks = uatomic_read(&l->read_fallbacks);
    ls->owner_dead = uatomic_read(&l->owner_dead);
    for (int k = 0; k < BZ_SHM_WAIT_BUCKETS && k < 16; k++)
        ls->wait_hist[k] = uatomic_read(&l->wait_hist[k]);
    /* The recovery ring, newest first. */
    uint32_t next = uatomic_read(&l->log_next);
    for (uint32_t k = 0; k < BZ_SHM_RECOVERY_LOG && k < next; k++) {
        const struct shm_recovery *e =
            &l->log[(next - 1 - k) % BZ_SHM_RECOVERY_LOG];
        ls->log[ls->nlog].pid = e->pid;
        ls->log[ls->nlog].at = e->at;
        ls->log[ls->nlog].records = e->records;
        ls->log[ls->nlog].bytes = e->bytes;
        ls->nlog++;
    }
    for (uint32_t i = 0; i < h->sig.max_procs; i++) {
        if (!uatomic_read(&s.procs[i].pid))
            continue;
        struct bz_seg_proc_stat *ps = &out->procs[out->nprocs++];
        ps->pid = s.procs[i].pid;
        ps->alive = proc_alive(&s.procs[i]);
        ps->attached_at = s.procs[i].attached_at;
    }
    seg_unmap(&s);
    close(s.fd);
    return BZ_OK;
}

void bz__seg_snapshot_free(struct bz_seg_snapshot *snap)
{
    free(snap->files);
    free(snap->procs);
    snap->files = NULL;
    snap->procs = NULL;
}

int bz__seg_reset(dev_t dev, ino_t ino)
{
    bz_seg s;
    int rc = open_for_stats(dev, ino, &s);
    if (rc)
        return rc;
    for (int k = 0; k < BZ_C__COUNT; k++)
        uatomic_set(&s.h->c[k], 0);
    uatomic_set(&s.h->recoveries, 0);
    struct shm_lock *l = &s.h->lock;
    uatomic_set(&l->acquisitions, 0);
    uatomic_set(&l->contended, 0);
    uatomic_set(&l->wait_ns, 0);
    uatomic_set(&l->wait_max_ns, 0);
    uatomic_set(&l->hold_ns, 0);
    uatomic_set(&l->read_retries, 0);
    uatomic_set(&l->read_fallbacks, 0);
    uatomic_set(&l->owner_dead, 0);
    for (int k = 0; k < BZ_SHM_WAIT_BUCKETS; k++)
        uatomic_set(&l->wait_hist[k], 0);
    uint32_t nf = s.h->nfiles;
    for (uint32_t i = 0; i < nf && i < s.h->sig.max_files; i++)
        for (int k = 0; k < BZ_C__COUNT; k++)
            uatomic_set(&s.files[i].c[k], 0);
    seg_unmap(&s);
    close(s.fd);
    return BZ_OK;
}

/* ---- the writer lock's shared half --------------------------------- */

pthread_mutex_t *bz__seg_mutex(bz_seg *s)
{
    return &s->h->lock.mutex;
}

void bz__seg_lock_taken(bz_seg *s, bool contended, uint64_t wait_ns)
{
    struct shm_lock *l = &s->h->lock;
    uatomic_inc(&l->acquisitions);
    uatomic_set(&l->holder_pid, bz__pid());
    l->epoch++; /* every file must be looked at again (README) */
    if (!contended)
        return;
    uatomic_inc(&l->contended);
    uatomic_add(&l->wait_ns, wait_ns);
    if (wait_ns > uatomic_read(&l->wait_max_ns))
        uatomic_set(&l->wait_max_ns, wait_ns); /* we hold the lock */
    uint64_t us = wait_ns / 1000;
    int b = 0;
    while (b < BZ_SHM_WAIT_BUCKETS - 1 && us >= (1ull << b))
        b++;
    uatomic_inc(&l->wait_hist[b]);
}

void bz__seg_lock_leaving(bz_seg *s, uint64_t hold_ns)
{
    struct shm_lock *l = &s->h->lock;
    uatomic_add(&l->hold_ns, hold_ns);
    uatomic_set(&l->holder_pid, 0);
}

void bz__seg_note_owner_dead(bz_seg *s)
{
    uatomic_inc(&s->h->lock.owner_dead);
}

/* ---- the sequence number -------------------------------------------- */

__thread int64_t bz__opt_started;

uint64_t bz__seg_read_begin(bz_seg *s)
{
    /* checked_tick is read before each look's stat, so "started -
     * checked_tick < stale_ticks" means that stat ran at most the bound
     * before this read began. */
    bz__opt_started = bz__seg_ticks(s);
    return __atomic_load_n(&s->h->lock.seq, __ATOMIC_ACQUIRE);
}

bool bz__seg_read_valid(bz_seg *s, uint64_t seq)
{
    return !(seq & 1) && BZ_FENCE_THEN_LOAD(s->h->lock.seq) == seq;
}

void bz__seg_count_read(bz_seg *s, bool optimistic, bool retried)
{
    struct shm_lock *l = &s->h->lock;
    if (retried)
        uatomic_inc(&l->read_retries);
    if (!optimistic)
        uatomic_inc(&l->read_fallbacks);
}

bool bz__seg_created(bz_seg *s)
{
    return s->created;
}
