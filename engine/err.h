/*
 * err.h - the calling thread's last error.
 *
 * Every public call clears the thread's error on entry (bz__err_clear) and
 * sets it on failure through one of the setters below, which return the code
 * so that "return bz__err(...)" reads naturally.  Messages are per thread, so
 * threads sharing one bz_db never see each other's errors.
 */
#ifndef BZ_ERR_H
#define BZ_ERR_H

#include <stdint.h>
#include "bazoola.h"

#if defined(__GNUC__)
#define BZ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BZ_PRINTF(a, b)
#endif

void bz__err_clear(void);
int bz__err(int rc, const char *fmt, ...) BZ_PRINTF(2, 3);
/* BZ_EIO with the OS errno kept as the detail; the message gets strerror. */
int bz__err_os(int os_errno, const char *fmt, ...) BZ_PRINTF(2, 3);
/* BZ_ECORRUPT: where (table, file, offset) comes first in the message. */
int bz__corrupt(const char *table, const char *file, int64_t offset,
                const char *fmt, ...) BZ_PRINTF(4, 5);
int bz__nomem(void);
/* This process's pid, without a system call. */
#include <sys/types.h>
pid_t bz__pid(void);

#endif
