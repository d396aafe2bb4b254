/*
 * verify.h - comparing the shared cache with the files (`bazoola check`).
 *
 * Kept out of shm.h and cache.c on purpose: it is a reader of the layout
 * that the checker needs and the hot paths do not.
 */
#ifndef BZ_SHM_VERIFY_H
#define BZ_SHM_VERIFY_H

#include <stdint.h>

#include "shm.h"

/* One disagreement between the segment and the file: off is the first
 * byte of the file where they differ; msg a sentence naming both sides. */
typedef void (*bz_seg_diff_cb)(void *arg, int64_t off, const char *msg);

/* Under the writer lock: compare what the segment holds for file slot
 * (its recorded size, when known, and the valid bytes of every cached
 * page) with the file behind fd.  *pages receives the number of cached
 * pages compared.  BZ_OK, or BZ_EIO when the file cannot be read. */
int bz__seg_verify_file(bz_seg *s, int slot, int fd, bz_seg_diff_cb cb,
                        void *arg, int64_t *pages);

#endif
