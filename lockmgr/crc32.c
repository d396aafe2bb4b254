/*
 * crc32.c - table-driven CRC-32, slicing by four bytes (see crc32.h).
 *
 * Recovery checks every record of a journal that can hold a whole
 * operation's old pages, so the checksum is on the path of a restart; the
 * bit-at-a-time loop cost eight shifts per byte.  Four tables let the loop
 * fold a 32-bit word per step.  They are built once, on first use, rather
 * than spelled out as 1024 constants nobody could review.
 */
#include "crc32.h"

#include <pthread.h>
#include <string.h>

#define POLY 0xEDB88320u

static uint32_t tab[4][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        tab[0][b] = c;
    }
    /* tab[k][b]: the CRC of byte b followed by k zero bytes. */
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 4; k++)
            tab[k][b] = (tab[k - 1][b] >> 8) ^ tab[0][tab[k - 1][b] & 0xff];
}

uint32_t bz__crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;

    pthread_once(&tab_once, build_tables);
    crc = ~crc;
    for (; n >= 4; n -= 4, p += 4) {
        /* Byte order spelled out so the result is the same on any host. */
        crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
        crc = tab[3][crc & 0xff] ^ tab[2][(crc >> 8) & 0xff] ^
              tab[1][(crc >> 16) & 0xff] ^ tab[0][crc >> 24];
    }
    while (n--)
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
