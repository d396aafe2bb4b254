/*
 * crc32.h - the CRC of the on-disk journal's records.
 *
 * CRC-32 as zlib and IEEE 802.3 define it (reflected 0xEDB88320, initial
 * and final XOR all ones), so every journal written since sync=full exists
 * keeps its checksums: a journal left by an older build is still replayed.
 * Chaining works as zlib's: crc = bz__crc32(crc, next, n), starting at 0.
 */
#ifndef BZ_CRC32_H
#define BZ_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint32_t bz__crc32(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif
