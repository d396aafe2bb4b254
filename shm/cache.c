/*
 * cache.c - the page cache: frames, the hash of (file, page), clock
 * eviction, reads through the cache and writes through to the files.
 * Invariants 1-3 of shm/README.md; everything here runs under the lock.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <urcu/uatomic.h>

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

static void count(bz_seg *s, int slot, int which, uint64_t n)
{
    uatomic_add(&s->h->c[which], n);
    uatomic_add(&s->files[slot].c[which], n);
}

void bz__cache_init(bz_seg *s)
{
    uint32_t nb = s->h->sig.nbuckets, nf = s->h->sig.nframes;
    for (uint32_t i = 0; i < nb; i++)
        s->buckets[i] = -1;
    for (uint32_t i = 0; i < nf; i++) {
        s->frames[i].file = -1;
        s->frames[i].next = -1;
        s->frames[i].page = 0;
        s->frames[i].valid = 0;
        s->frames[i].ref = 0;
    }
    s->h->clock_hand = 0;
    uatomic_set(&s->h->frames_used, 0);
}

/* The frame holding (file, page), or -1.  The walk is bounded: a damaged
 * chain must not loop forever. */
static int32_t lookup(bz_seg *s, int32_t file, int64_t page)
{
    uint32_t nf = s->h->sig.nframes;
    int32_t i = s->buckets[hash_page(file, page, s->h->sig.nbuckets)];
    for (uint32_t steps = 0; i >= 0 && (uint32_t)i < nf && steps < nf; steps++) {
        struct shm_frame *fr = &s->frames[i];
        if (fr->file == file && fr->page == page)
            return i;
        i = fr->next;
    }
    return -1;
}

static void unlink_frame(bz_seg *s, int32_t idx)
{
    struct shm_frame *fr = &s->frames[idx];
    int32_t *p = &s->buckets[hash_page(fr->file, fr->page, s->h->sig.nbuckets)];
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t steps = 0; *p >= 0 && steps < nf; steps++) {
        if (*p == idx) {
            *p = fr->next;
            break;
        }
        p = &s->frames[*p].next;
    }
    uatomic_add(&s->files[fr->file].frames, -1);
    uatomic_add(&s->h->frames_used, -1);
    fr->file = -1;
    fr->next = -1;
    fr->valid = 0;
    fr->ref = 0;
}

/* A frame to load into: a free one, else the clock's victim. */
static int32_t take_frame(bz_seg *s)
{
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t steps = 0; steps < 2 * nf + 1; steps++) {
        uint32_t i = s->h->clock_hand;
        s->h->clock_hand = (i + 1) % nf;
        struct shm_frame *fr = &s->frames[i];
        if (fr->file < 0)
            return (int32_t)i;
        if (fr->ref) {
            fr->ref = 0;
            continue;
        }
        count(s, fr->file, BZ_C_EVICTIONS, 1);
        unlink_frame(s, (int32_t)i);
        return (int32_t)i;
    }
    /* Every frame referenced twice in a row: take the hand's. */
    uint32_t i = s->h->clock_hand;
    if (s->frames[i].file >= 0) {
        count(s, s->frames[i].file, BZ_C_EVICTIONS, 1);
        unlink_frame(s, (int32_t)i);
    }
    return (int32_t)i;
}

static int load(bz_seg *s, int32_t file, int fd, int64_t page, int32_t *out)
{
    int32_t idx = take_frame(s);
    char *dst = s->data + (size_t)idx * BZ_SHM_PAGE;
    size_t done = 0;
    while (done < BZ_SHM_PAGE) {
        ssize_t r = pread(fd, dst + done, BZ_SHM_PAGE - done,
                          (off_t)(page * BZ_SHM_PAGE + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return bz__err_os(errno, "cannot read %s at offset %lld",
                              s->files[file].name,
                              (long long)(page * BZ_SHM_PAGE));
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    struct shm_frame *fr = &s->frames[idx];
    fr->file = file;
    fr->page = page;
    fr->valid = (uint32_t)done;
    fr->ref = 1;
    uint32_t b = hash_page(file, page, s->h->sig.nbuckets);
    fr->next = s->buckets[b];
    s->buckets[b] = idx;
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
        if (idx >= 0) {
            count(s, slot, BZ_C_HITS, 1);
        } else {
            count(s, slot, BZ_C_MISSES, 1);
            if ((rc = load(s, slot, fd, page, &idx)))
                return rc;
        }
        struct shm_frame *fr = &s->frames[idx];
        fr->ref = 1;
        if (in >= fr->valid)
            break; /* the file is shorter than its recorded size */
        size_t n = fr->valid - in;
        if (n > len - *got)
            n = len - *got;
        memcpy(out + *got, s->data + (size_t)idx * BZ_SHM_PAGE + in, n);
        *got += n;
        if (fr->valid < BZ_SHM_PAGE)
            break;
    }
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
                memcpy(s->data + (size_t)idx * BZ_SHM_PAGE + in, src + done, n);
                if (in + n > fr->valid)
                    fr->valid = in + (uint32_t)n;
            }
        }
        done += n;
    }
    if (f->size_valid && off + (int64_t)len > f->size)
        f->size = off + (int64_t)len;
    f->stamp_dirty = 1;
    count(s, slot, BZ_C_PAGE_WRITES, 1);
    count(s, slot, BZ_C_BYTES_WRITTEN, len);
}

void bz__seg_truncated(bz_seg *s, int slot, int64_t size)
{
    struct shm_file *f = &s->files[slot];
    int64_t keep = (size + BZ_SHM_PAGE - 1) / BZ_SHM_PAGE;
    bz__cache_drop(s, slot, keep);
    if (size % BZ_SHM_PAGE) {
        int32_t idx = lookup(s, slot, size / BZ_SHM_PAGE);
        if (idx >= 0 && s->frames[idx].valid > size % BZ_SHM_PAGE)
            s->frames[idx].valid = (uint32_t)(size % BZ_SHM_PAGE);
    }
    if (f->size_valid)
        f->size = size;
    f->stamp_dirty = 1;
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
