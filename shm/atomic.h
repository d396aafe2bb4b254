/*
 * atomic.h - how the segment's shared fields are accessed.
 *
 * Fields that optimistic readers read without the lock (frame descriptors,
 * hash buckets, frame bytes, file sizes, the sequence number) are written
 * by the lock holder with relaxed atomic stores and read with relaxed
 * atomic loads; the ordering comes from the sequence number and frame
 * versions (acquire/release, see lockmgr/README.md).  On x86 and ARM these
 * compile to plain moves; they also tell ThreadSanitizer, truthfully, that
 * the races are intended and validated.
 */
#ifndef BZ_SHM_ATOMIC_H
#define BZ_SHM_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define LD_ACQ(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST_REL(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* The two halves of a sequence lock.  BZ_STORE_THEN_FENCE stores v and keeps
 * every later store after it (the writer's "now odd"); BZ_FENCE_THEN_LOAD
 * keeps every earlier load before the load of x (the reader's recheck).
 * ThreadSanitizer does not model standalone fences, so its builds use
 * read-modify-writes with the same ordering instead: slower, and only
 * there. */
#if defined(__SANITIZE_THREAD__)
#define BZ_STORE_THEN_FENCE(x, v) \
    ((void)__atomic_exchange_n(&(x), (v), __ATOMIC_ACQ_REL))
#define BZ_FENCE_THEN_LOAD(x) __atomic_fetch_add(&(x), 0, __ATOMIC_ACQ_REL)
#else
#define BZ_STORE_THEN_FENCE(x, v) \
    (ST(x, v), __atomic_thread_fence(__ATOMIC_RELEASE))
#define BZ_FENCE_THEN_LOAD(x) \
    (__atomic_thread_fence(__ATOMIC_ACQUIRE), LD(x))
#endif

/* Copy out of / into frame bytes, word by word where aligned. */
static inline void bz__copy_out(void *dst, const char *src, size_t len)
{
    unsigned char *d = dst;
    while (len && ((uintptr_t)src & 7)) {
        *d++ = __atomic_load_n((const unsigned char *)src, __ATOMIC_RELAXED);
        src++;
        len--;
    }
    for (; len >= 8; len -= 8, src += 8, d += 8) {
        uint64_t w = __atomic_load_n((const uint64_t *)(const void *)src,
                                     __ATOMIC_RELAXED);
        __builtin_memcpy(d, &w, 8);
    }
    while (len--) {
        *d++ = __atomic_load_n((const unsigned char *)src, __ATOMIC_RELAXED);
        src++;
    }
}

static inline void bz__copy_in(char *dst, const void *src, size_t len)
{
    const unsigned char *s = src;
    while (len && ((uintptr_t)dst & 7)) {
        __atomic_store_n((unsigned char *)dst, *s++, __ATOMIC_RELAXED);
        dst++;
        len--;
    }
    for (; len >= 8; len -= 8, dst += 8, s += 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        __atomic_store_n((uint64_t *)(void *)dst, w, __ATOMIC_RELAXED);
    }
    while (len--) {
        __atomic_store_n((unsigned char *)dst, *s++, __ATOMIC_RELAXED);
        dst++;
    }
}

#endif
