/*
 * verify.c - the cache against the files, for `bazoola check`.
 *
 * The cache is write-through (shm/README.md): under the lock every valid
 * frame must equal the file's bytes and a known size must be the file's
 * size.  Anything else is a bug or an outside change the engine failed to
 * notice, and readers would be served it.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "err.h"
#include "shm_int.h"
#include "verify.h"

int bz__seg_verify_file(bz_seg *s, int slot, int fd, bz_seg_diff_cb cb,
                        void *arg, int64_t *pages)
{
    struct shm_file *f = &s->files[slot];
    char msg[256];
    *pages = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return bz__err_os(errno, "cannot stat %s", f->name);
    if (LD(f->size_valid) && LD(f->size) != (int64_t)st.st_size) {
        int64_t cached = LD(f->size);
        snprintf(msg, sizeof msg, "the shared cache records a size of %lld "
                 "bytes, the file has %lld", (long long)cached,
                 (long long)st.st_size);
        cb(arg, cached < st.st_size ? cached : (int64_t)st.st_size, msg);
    }
    static __thread char cached[BZ_SHM_PAGE], disk[BZ_SHM_PAGE];
    uint32_t nf = s->h->sig.nframes;
    for (uint32_t i = 0; i < nf; i++) {
        struct shm_frame *fr = &s->frames[i];
        if (LD(fr->file) != slot)
            continue;
        int64_t page = LD(fr->page);
        uint32_t valid = LD(fr->valid);
        (*pages)++;
        if (valid > BZ_SHM_PAGE || page < 0) {
            snprintf(msg, sizeof msg, "cache frame %u claims %u bytes of "
                     "page %lld (damaged frame descriptor)", i, valid,
                     (long long)page);
            cb(arg, page < 0 ? 0 : page * BZ_SHM_PAGE, msg);
            continue;
        }
        size_t got = 0;
        int rc = bz__pread_full(fd, f->name, page * BZ_SHM_PAGE, disk,
                                BZ_SHM_PAGE, &got);
        if (rc)
            return rc;
        bz__copy_out(cached, s->data + (size_t)i * BZ_SHM_PAGE, valid);
        size_t n = got < valid ? got : valid;
        size_t k = 0;
        while (k < n && cached[k] == disk[k])
            k++;
        int64_t at = page * BZ_SHM_PAGE + (int64_t)k;
        if (k < n) {
            snprintf(msg, sizeof msg, "cached page %lld differs from the "
                     "file at byte %lld (cache 0x%02x, file 0x%02x): readers "
                     "are served bytes the file does not hold",
                     (long long)page, (long long)at,
                     (unsigned char)cached[k], (unsigned char)disk[k]);
            cb(arg, at, msg);
        } else if (valid > got) {
            snprintf(msg, sizeof msg, "cached page %lld holds %u bytes, the "
                     "file has only %zu there", (long long)page, valid, got);
            cb(arg, at, msg);
        } else if (got > valid && valid < BZ_SHM_PAGE) {
            /* Only the file's last page may be partly held. */
            snprintf(msg, sizeof msg, "cached page %lld holds %u bytes, the "
                     "file has %zu there: readers would see the file end "
                     "early", (long long)page, valid, got);
            cb(arg, at, msg);
        }
    }
    return BZ_OK;
}
