/*
 * codec.h - the bytes of 0.0.7's fixed-width format, both ways.
 *
 * Decoders are strict: they accept exactly what the encoders produce (and
 * what 0.0.7 writes) and report anything else, so that a damaged file gives
 * BZ_ECORRUPT rather than a wrong value.  They never read outside the
 * buffer they are given.
 */
#ifndef BZ_CODEC_H
#define BZ_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "schema.h"

#define BZ_INT_MIN (-99999999LL)   /* len(str(v)) <= 9 */
#define BZ_INT_MAX 999999999LL

/* A decoded field: points into the row buffer (CHAR) or holds the integer
 * (PK, INT, FK) or the text reference (TEXT, resolved separately). */
typedef struct bz_fval {
    bool null;
    int64_t i;
    const char *s;
    size_t len;
} bz_fval;

/* "%lld" into dst (room for 20 bytes), no NUL; returns the length. */
size_t bz__fmt_int(char *dst, int64_t v);
/* 0.0.7's rule for an integer field of width bytes: len(str(v)) <= width,
 * the '-' of a negative number included. */
bool bz__int_fits(int width, int64_t v);
/* "%-*lld" of 0.0.7 (width bytes); v must fit. */
void bz__enc_intw(char *dst, int width, int64_t v);
/* Returns 0, or -1 when the width bytes are neither a number nor all '#'. */
int bz__dec_intw(const char *src, int width, bool *null, int64_t *v);
/* The same at BZ_INT_WIDTH: PK, FK, TEXT references, index slots, ... */
void bz__enc_int(char *dst, int64_t v);
void bz__enc_null_int(char *dst);
int bz__dec_int(const char *src, bool *null, int64_t *v);
/* Parse a whole buffer holding a decimal number padded with spaces (index
 * slots, free stack entries, seqnum).  -1 when malformed. */
int bz__dec_uint_padded(const char *src, size_t len, int64_t *v);

/* Decode a live row (row_size bytes).  Returns 0 and fills vals[nfields],
 * 1 for a deleted row, or -1 with *bad_field set (-1 for the row framing). */
int bz__dec_row(const bz_tdef *t, const char *row, bz_fval *vals,
                int *bad_field);
void bz__enc_deleted_row(const bz_tdef *t, char *row);

bool bz__utf8_valid(const char *s, size_t len);
/* Append Python's repr() of a str (the UTF-8 bytes s) to a malloc'd
 * string; returns NULL on allocation failure. */
char *bz__py_repr_str(const char *s, size_t len);

#endif
