/*
 * fuzz_codec - the fixed-width codecs (engine/codec.h) on arbitrary bytes.
 *
 * Input: byte 0 picks one of a few table layouts; the rest is cut into
 * rows of that layout and each is decoded with bz__dec_row.  Properties:
 *   - decoding never reads outside the row (ASan) and never hits UB;
 *   - a live row's integer fields fit their width (len(str(v)) <= width)
 *     and re-encode (bz__enc_intw) to bytes that decode to the same value; CHAR values are valid UTF-8 without
 *     trailing whitespace; a deleted row is exactly the encoder's bytes;
 *   - the padded-number decoder (slots, free stack, seqnum) and the UTF-8
 *     check and Python repr accept any bytes; repr output is ASCII-safe
 *     (no raw control bytes).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>
#include "codec.h"
#include "schema.h"

static const char *const LAYOUTS[] = {
    "t: id PK, n INT NULL, c CHAR(5), c2 CHAR(1) NULL, x TEXT NULL, f FK(t) NULL\n",
    "t: id PK\n",
    "t: id PK, c CHAR(3) NULL, n INT\n",
    "t: id PK, x TEXT, y TEXT NULL, c CHAR(12)\n",
    "t: id PK, a INT(1), b INT(3) NULL, c INT(18) NULL, d INT(12)\n",
};
#define NLAYOUTS (sizeof LAYOUTS / sizeof LAYOUTS[0])
static bz_schema *schemas[NLAYOUTS];

static void init(void)
{
    for (size_t i = 0; i < NLAYOUTS; i++)
        if (!schemas[i] &&
            bz_schema_parse(LAYOUTS[i], strlen(LAYOUTS[i]), &schemas[i]) != BZ_OK)
            abort();
}

static void check_row(const bz_tdef *t, const char *row)
{
    bz_fval vals[16];
    int bad;
    int r = bz__dec_row(t, row, vals, &bad);
    if (r == 1) {
        char *del = malloc((size_t)t->row_size);
        bz__enc_deleted_row(t, del);
        if (memcmp(del, row, (size_t)t->row_size) != 0)
            abort();
        free(del);
        return;
    }
    if (r < 0) {
        if (bad < -1 || bad >= t->nfields)
            abort();
        return;
    }
    if (bad != -1)
        abort();
    for (int j = 0; j < t->nfields; j++) {
        const bz_fdef *f = &t->fields[j];
        if (vals[j].null) {
            if (!f->nullable)
                abort();
            continue;
        }
        if (f->kind == BZ_CHAR) {
            if (vals[j].len > (size_t)f->width ||
                vals[j].s != row + f->off ||
                !bz__utf8_valid(vals[j].s, vals[j].len))
                abort();
            /* rstrip: no trailing ASCII whitespace (NUL is kept, as 0.0.7's
             * bytes.rstrip() keeps it; strchr would match the NUL). */
            if (vals[j].len && vals[j].s[vals[j].len - 1] != '\0' &&
                strchr(" \t\n\r\v\f", vals[j].s[vals[j].len - 1]))
                abort();
            char *rep = bz__py_repr_str(vals[j].s, vals[j].len);
            if (!rep)
                abort();
            free(rep);
            continue;
        }
        int64_t v = vals[j].i;
        if (!bz__int_fits(f->width, v))
            abort();
        char enc[BZ_INTN_MAX], txt[24];
        bool null;
        int64_t back;
        bz__enc_intw(enc, f->width, v);
        if (bz__dec_intw(enc, f->width, &null, &back) || null || back != v)
            abort();
        size_t n = bz__fmt_int(txt, v);
        if (n > (size_t)f->width)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    const bz_tdef *t = &schemas[data[0] % NLAYOUTS]->tables[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    /* Rows: whole ones, each in its own exact-size buffer (ASan sees any
     * read past the row). */
    for (size_t off = 0; off + (size_t)t->row_size <= n; off += (size_t)t->row_size) {
        char *row = malloc((size_t)t->row_size);
        memcpy(row, p + off, (size_t)t->row_size);
        check_row(t, row);
        free(row);
    }
    /* The padded decoders and string helpers on the whole rest. */
    char *buf = malloc(n ? n : 1);
    memcpy(buf, p, n);
    int64_t v;
    if (bz__dec_uint_padded(buf, n, &v) == 0 && v < 0)
        abort();
    if (n >= BZ_INT_WIDTH) {
        bool null;
        if (bz__dec_int(buf, &null, &v) == 0 && !null &&
            (v < BZ_INT_MIN || v > BZ_INT_MAX))
            abort();
    }
    if (bz__utf8_valid(buf, n)) { /* repr's precondition */
        char *rep = bz__py_repr_str(buf, n);
        if (!rep)
            abort();
        for (const char *c = rep; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                abort();
        free(rep);
    }
    free(buf);
    return 0;
}
