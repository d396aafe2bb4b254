/*
 * cache.c - the page cache: frames, the hash of (file, page), clock
 * eviction, reads through the cache and writes through to the files.
 *
 * Writers (under the lock) change frames; optimistic readers (no lock)
 * read them.  A frame that changes owner (evicted, loaded, dropped) has
 * its version made odd first and even after, so a reader that copied from
 * it while it changed sees the version move and retries (invariant 1 of
 * shm/README.md holds for every copy a reader keeps).  In-place updates of
 * a page by a write operation are covered by the segment's sequence
 * number instead (odd during the operation).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "atomic.h"
#include "err.h"
#include "shm_int.h"

static uint32_t hash_page(int32_t file, int64_t page, uint32_t nbuckets)
{
    uint64_t x = ((uint64_t)(uint32_t)file << 40) ^ (uint64_t)page;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x & (nbuckets - 1);
}

/* ---- counters ---------------------------------------------------------
 * Hits and misses happen on every read, in every process at once: adding
 * to shared counters each time would make the processes fight over those
 * cache lines.  Each thread counts locally and adds its counts to the
 * segment every FLUSH_EVERY lookups, when FLUSH_NS have passed since its
 * batch began (a long scan shows up while it runs), whenever it writes,
 * and when an operation ends (bz__cache_flush_counts from the engine): so
 * once a call has returned its lookups are in the segment, and a process
 * doing a few reads a second is not invisible to bzstat. */
#define FLUSH_EVERY 256
#define FLUSH_NS 10000000ull
#define TL_FILES 64

static uint64_t coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static __thread struct {
    bz_seg *seg;
    uint32_t pending;
    uint64_t batch_start; /* CLOCK_MONOTONIC_COARSE ns at its first lookup */
    uint64_t hits[TL_FILES], misses[TL_FILES];
} tl;

void bz__cache_flush_counts(bz_seg *s)
{
    if (tl.seg != s || !tl.pending)
        return;
    uint64_t h = 0, m = 0;
    for (int i = 0; i < TL_FILES; i++) {
        if (tl.hits[i]) {
            uatomic_add(&s->files[i].c[BZ_C_HITS], tl.hits[i]);
            h += tl.hits[i];
            tl.hits[i] = 0;
        }
        if (tl.misses[i]) {
            uatomic_add(&s->files[i].c[BZ_C_MISSES], tl.misses[i]);
            m += tl.misses[i];
            tl.misses[i] = 0;
        }
    }
    uatomic_add(&s->h->c[BZ_C_HITS], h);
    uatomic_add(&s->h->c[BZ_C_MISSES], m);
    tl.pending = 0;
}

/* The calling thread's own lookups, never reset: what one request cost
 * (bz_thread_cache_lookups), exact whatever the batching above. */
static __thread uint64_t tl_hits_total, tl_misses_total;

void bz__cache_thread_lookups(uint64_t *hits, uint64_t *misses)
{
    *hits = tl_hits_total;
    *misses = tl_misses_total;
}

static void count_lookup(bz_seg *s, int slot, bool hit)
{
    int c = hit ? BZ_C_HITS : BZ_C_MISSES;
    if (hit)
        tl_hits_total++;
    else
        tl_misses_total++;
    if (slot >= TL_FILES) {
        uatomic_inc(&s->files[slot].c[c]);
        uatomic_inc(&s->h->c[c]);
        return;
    }
    if (tl.seg != s) {
        /* Another segment's pending counts: it may be gone (detached and
         * unmapped), so they are dropped rather than added (at most
         * FLUSH_EVERY lookups of statistics). */
        memset(&tl, 0, sizeof(tl));
        tl.seg = s;
    }
    if (hit)
        tl.hits[slot]++;
    else
        tl.misses[slot]++;
    /* The coarse clock is a vDSO read of a kernel tick, cheap enough per
     * lookup, and ticks (1-4 ms) are fine enough for a 10 ms bound. */
    uint64_t now = coarse_ns();
    if (tl.pending++ == 0)
        tl.batch_start = now;
    if (tl.pending >= FLUSH_EVERY || now - tl.batch_start >= FLUSH_NS)
        bz__cache_flush_counts(s);
}

static void count(bz_seg *s, int slot, int which, uint64_t n)
{
    uatomic_add(&s->h->c[which], n);
    uatomic_add(&s->files[slot].c[which], n);
}

/* ---- frames ------------------------------------------------------------ */

void bz__cache_init(bz_seg *s)
{
    uint32_t nb = s->h->sig.nbuckets, nf = s->h->sig.nframes;
    for (uint32_t i = 0; i < nb; i++)
        ST(s->buckets[i], -1);
    for (uint32_t i = 0; i < nf; i++) {
        struct shm_frame *fr = &s->frames[i];
        ST(fr->file, -1);
        ST(fr->next, -1);
        ST(fr->page, 0);
        ST(fr->valid, 0);
        ST(fr->ref, 0);
        ST(fr->version, 0);
    }
    s->h->clock_hand = 0;
    uatomic_set(&s->h->frames_used, 0);
}

/* Frame versions: odd while the frame changes owner. */
static void frame_change_begin(struct shm_frame *fr)
{
    BZ_STORE_THEN_FENCE(fr->version, LD(fr->version) + 1);
}

static void frame_change_end(struct shm_frame *fr)
{
    ST_REL(fr->version, LD(fr->version) + 1);
}

/* The frame holding (file, page), or -1.  Bounded: a chain being changed
 * under an optimistic reader, or damaged, must not loop forever. */
static int32_t lookup(bz_seg *s, int32_t file, int64_t page)
{
    uint32_t nf = s->h->sig.nframes;
    int32_t i = LD(s->buckets[hash_page(file, page, s->h->sig.nbuckets)]);
    for (uint32_t steps = 0; i >= 0 && (uint32_t)i < nf && steps < nf; steps++) {
        struct shm_frame *fr = &s->frames[i];
        if (LD(fr->file) == file && LD(fr->page) == page)
            return i;
        i = LD(fr->next);
    }
    return -1;
}

/* Take a frame off its chain; the caller brackets the change. */
static void unlink_locked(bz_seg *s, int32_t idx)
{
    struct shm_frame *fr = &s->frames[idx];
    int32_t *p = &s->buckets[hash_page(fr->file, fr->page, s->h->sig.nbuckets)];
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t steps = 0; LD(*p) >= 0 && steps < nf; steps++) {
        if (LD(*p) == idx) {
            ST(*p, LD(fr->next));
            break;
        }
        p = &s->frames[LD(*p)].next;
    }
    uatomic_add(&s->files[fr->file].frames, -1);
    uatomic_add(&s->h->frames_used, -1);
    ST(fr->file, -1);
    ST(fr->next, -1);
    ST(fr->valid, 0);
    ST(fr->ref, 0);
}

static void unlink_frame(bz_seg *s, int32_t idx)
{
    struct shm_frame *fr = &s->frames[idx];
    frame_change_begin(fr);
    unlink_locked(s, idx);
    frame_change_end(fr);
}

/* A frame to load into, left mid-change (version odd): a free one, else
 * the clock's victim. */
static int32_t take_frame(bz_seg *s)
{
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t steps = 0; steps <= 2 * nf; steps++) {
        uint32_t i = s->h->clock_hand;
        s->h->clock_hand = (i + 1) % nf;
        struct shm_frame *fr = &s->frames[i];
        if (fr->file >= 0 && LD(fr->ref)) {
            ST(fr->ref, 0);
            continue;
        }
        frame_change_begin(fr);
        if (fr->file >= 0) {
            count(s, fr->file, BZ_C_EVICTIONS, 1);
            unlink_locked(s, (int32_t)i);
        }
        return (int32_t)i;
    }
    /* Every frame referenced twice in a row: take the hand's. */
    uint32_t i = s->h->clock_hand;
    struct shm_frame *fr = &s->frames[i];
    frame_change_begin(fr);
    if (fr->file >= 0) {
        count(s, fr->file, BZ_C_EVICTIONS, 1);
        unlink_locked(s, (int32_t)i);
    }
    return (int32_t)i;
}

int bz__pread_full(int fd, const char *name, int64_t off, void *buf,
                   size_t len, size_t *got)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return bz__err_os(errno, "cannot read %s at offset %lld", name,
                              (long long)(off + (int64_t)done));
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return BZ_OK;
}

static int load(bz_seg *s, int32_t file, int fd, int64_t page, int32_t *out)
{
    /* Read into private memory first: the frame may be read at any moment
     * by an optimistic reader, and is only written with atomic stores. */
    static __thread char buf[BZ_SHM_PAGE];
    size_t done;
    int rc = bz__pread_full(fd, s->files[file].name, page * BZ_SHM_PAGE, buf,
                            BZ_SHM_PAGE, &done);
    if (rc)
        return rc;
    int32_t idx = take_frame(s);
    struct shm_frame *fr = &s->frames[idx];
    bz__copy_in(s->data + (size_t)idx * BZ_SHM_PAGE, buf, done);
    ST(fr->file, file);
    ST(fr->page, page);
    ST(fr->valid, (uint32_t)done);
    ST(fr->ref, 1);
    uint32_t b = hash_page(file, page, s->h->sig.nbuckets);
    ST(fr->next, LD(s->buckets[b]));
    frame_change_end(fr);
    ST_REL(s->buckets[b], idx);
    uatomic_inc(&s->files[file].frames);
    uatomic_inc(&s->h->frames_used);
    count(s, file, BZ_C_PAGE_READS, 1);
    count(s, file, BZ_C_BYTES_READ, done);
    *out = idx;
    return BZ_OK;
}

int bz__seg_read(bz_seg *s, int slot, int fd, int64_t off, void *buf,
                 size_t len, size_t *got)
{
    int64_t size;
    int rc = bz__seg_file_size(s, slot, fd, &size);
    *got = 0;
    if (rc)
        return rc;
    if (off >= size)
        return BZ_OK;
    if ((int64_t)len > size - off)
        len = (size_t)(size - off);
    char *out = buf;
    while (*got < len) {
        int64_t pos = off + (int64_t)*got;
        int64_t page = pos / BZ_SHM_PAGE;
        uint32_t in = (uint32_t)(pos % BZ_SHM_PAGE);
        int32_t idx = lookup(s, slot, page);
        count_lookup(s, slot, idx >= 0);
        if (idx < 0 && (rc = load(s, slot, fd, page, &idx)))
            return rc;
        struct shm_frame *fr = &s->frames[idx];
        if (!LD(fr->ref))
            ST(fr->ref, 1);
        uint32_t valid = LD(fr->valid);
        if (in >= valid)
            break; /* the file is shorter than its recorded size */
        size_t n = valid - in;
        if (n > len - *got)
            n = len - *got;
        bz__copy_out(out + *got, s->data + (size_t)idx * BZ_SHM_PAGE + in, n);
        *got += n;
        if (valid < BZ_SHM_PAGE)
            break;
    }
    return BZ_OK;
}

/* A lock-free reader trusts a file's pages only if the file was looked at
 * for outside changes shortly before the read began (shm/README.md,
 * "Bounded staleness"); otherwise it takes the lock, which looks. */
static bool looked_recently(const bz_seg *s, const struct shm_file *f)
{
    int64_t age = bz__opt_started - LD(f->checked_tick);
    /* Negative: TSCs of two CPUs a little apart; do not trust it. */
    return age >= 0 && age < s->stale_ticks;
}

int bz__seg_read_opt(bz_seg *s, int slot, int64_t off, void *buf, size_t len,
                     size_t *got)
{
    struct shm_file *f = &s->files[slot];
    *got = 0;
    if (!LD(f->size_valid))
        return BZ_SEG_RETRY;
    if (!looked_recently(s, f))
        return BZ_SEG_STALE;
    int64_t size = LD(f->size);
    if (off >= size)
        return BZ_OK;
    if ((int64_t)len > size - off)
        len = (size_t)(size - off);
    char *out = buf;
    while (*got < len) {
        int64_t pos = off + (int64_t)*got;
        int64_t page = pos / BZ_SHM_PAGE;
        uint32_t in = (uint32_t)(pos % BZ_SHM_PAGE);
        int32_t idx = lookup(s, slot, page);
        if (idx < 0)
            return BZ_SEG_RETRY; /* a miss: loading needs the lock */
        struct shm_frame *fr = &s->frames[idx];
        uint64_t v1 = LD_ACQ(fr->version);
        if ((v1 & 1) || LD(fr->file) != slot || LD(fr->page) != page)
            return BZ_SEG_RETRY;
        uint32_t valid = LD(fr->valid);
        if (valid > BZ_SHM_PAGE)
            return BZ_SEG_RETRY;
        if (in >= valid)
            break;
        size_t n = valid - in;
        if (n > len - *got)
            n = len - *got;
        bz__copy_out(out + *got, s->data + (size_t)idx * BZ_SHM_PAGE + in, n);
        if (BZ_FENCE_THEN_LOAD(fr->version) != v1)
            return BZ_SEG_RETRY;
        /* Only write the shared line when the bit is clear. */
        if (!LD(fr->ref))
            ST(fr->ref, 1);
        count_lookup(s, slot, true);
        *got += n;
        if (valid < BZ_SHM_PAGE)
            break;
    }
    return BZ_OK;
}

int bz__seg_size_opt(bz_seg *s, int slot, int64_t *size)
{
    struct shm_file *f = &s->files[slot];
    if (!LD(f->size_valid))
        return BZ_SEG_RETRY;
    if (!looked_recently(s, f))
        return BZ_SEG_STALE;
    *size = LD(f->size);
    return BZ_OK;
}

void bz__seg_wrote(bz_seg *s, int slot, int64_t off, const void *buf,
                   size_t len)
{
    struct shm_file *f = &s->files[slot];
    const char *src = buf;
    size_t done = 0;
    while (done < len) {
        int64_t pos = off + (int64_t)done;
        int64_t page = pos / BZ_SHM_PAGE;
        uint32_t in = (uint32_t)(pos % BZ_SHM_PAGE);
        size_t n = BZ_SHM_PAGE - in;
        if (n > len - done)
            n = len - done;
        int32_t idx = lookup(s, slot, page);
        if (idx >= 0) {
            struct shm_frame *fr = &s->frames[idx];
            if (in > fr->valid) {
                /* A hole the frame never held: forget the page. */
                unlink_frame(s, idx);
            } else {
                bz__copy_in(s->data + (size_t)idx * BZ_SHM_PAGE + in,
                            src + done, n);
                if (in + n > fr->valid)
                    ST(fr->valid, in + (uint32_t)n);
            }
        }
        done += n;
    }
    if (f->size_valid && off + (int64_t)len > f->size)
        ST(f->size, off + (int64_t)len);
    bz__cache_flush_counts(s);
    count(s, slot, BZ_C_PAGE_WRITES, 1);
    count(s, slot, BZ_C_BYTES_WRITTEN, len);
}

void bz__seg_truncated(bz_seg *s, int slot, int64_t size)
{
    struct shm_file *f = &s->files[slot];
    int64_t keep = (size + BZ_SHM_PAGE - 1) / BZ_SHM_PAGE;
    /* Popping the free stack truncates a file by a few bytes on every
     * reuse: look the few dropped pages up rather than walk every frame
     * (bzbench's churn spent a fifth of its time in that walk). */
    int64_t had = f->size_valid ? (f->size + BZ_SHM_PAGE - 1) / BZ_SHM_PAGE
                                : -1;
    if (had >= 0 && had - keep <= 64) {
        for (int64_t p = keep; p < had; p++) {
            int32_t idx = lookup(s, slot, p);
            if (idx >= 0)
                unlink_frame(s, idx);
        }
    } else {
        bz__cache_drop(s, slot, keep);
    }
    if (size % BZ_SHM_PAGE) {
        int32_t idx = lookup(s, slot, size / BZ_SHM_PAGE);
        if (idx >= 0 && s->frames[idx].valid > size % BZ_SHM_PAGE)
            ST(s->frames[idx].valid, (uint32_t)(size % BZ_SHM_PAGE));
    }
    if (f->size_valid)
        ST(f->size, size);
    count(s, slot, BZ_C_PAGE_WRITES, 1);
}

void bz__cache_drop(bz_seg *s, int slot, int64_t from_page)
{
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t i = 0; i < nf; i++) {
        struct shm_frame *fr = &s->frames[i];
        if (fr->file < 0)
            continue;
        if (slot < 0 || (fr->file == slot && fr->page >= from_page))
            unlink_frame(s, (int32_t)i);
    }
}
