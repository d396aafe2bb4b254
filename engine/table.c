#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "table.h"

int bz__buf_reserve(bz_buf *b, size_t need)
{
    if (need <= b->cap)
        return BZ_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return bz__nomem();
    b->p = p;
    b->cap = cap;
    return BZ_OK;
}

void bz__buf_free(bz_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static const char *const file_suffix[BZ_TABLE_MAX_FILES] = {
    ".dat", "__seqnum.dat", "__id.idx.dat", "__free.dat", ".text.dat",
};

int bz__table_file_names(const bz_tdef *def,
                         char names[BZ_TABLE_MAX_FILES][BZ_FILE_NAME_MAX])
{
    int n = def->ntext ? 5 : 4;
    for (int i = 0; i < n; i++)
        snprintf(names[i], BZ_FILE_NAME_MAX, "%s%s", def->name,
                 file_suffix[i]);
    return n;
}

int bz__table_open(bz_table *t, int dirfd, const bz_tdef *def, bool create)
{
    memset(t, 0, sizeof(*t));
    t->def = def;
    t->dat.fd = t->seq.fd = t->idx.fd = t->fre.fd = t->txt.fd = -1;
    char names[BZ_TABLE_MAX_FILES][BZ_FILE_NAME_MAX];
    struct { bz_file *f; const char *init; } files[] = {
        {&t->dat, NULL}, {&t->seq, "0"}, {&t->idx, NULL}, {&t->fre, NULL},
        {&t->txt, NULL},
    };
    int n = bz__table_file_names(def, names);
    for (int i = 0; i < n; i++) {
        int rc = bz__file_open(files[i].f, dirfd, def->name, names[i], create,
                               files[i].init);
        if (rc) {
            bz__table_close(t);
            return rc;
        }
    }
    return BZ_OK;
}

static int table_files(bz_table *t, bz_file **fs)
{
    fs[0] = &t->dat;
    fs[1] = &t->seq;
    fs[2] = &t->idx;
    fs[3] = &t->fre;
    fs[4] = &t->txt;
    return t->def->ntext ? 5 : 4;
}

int bz__table_attach(bz_table *t, struct bz_seg *seg, int dirfd)
{
    bz_file *fs[5];
    int n = table_files(t, fs), rc;
    for (int i = 0; i < n; i++)
        if ((rc = bz__file_attach(fs[i], seg)))
            return rc;
    return bz__table_check_files(t, dirfd);
}

/* At attach and in check: every file against its baseline. */
int bz__table_check_files(bz_table *t, int dirfd)
{
    bz_file *fs[5];
    int n = table_files(t, fs), rc;
    bool changed;
    for (int i = 0; i < n; i++)
        if ((rc = bz__file_check(fs[i], dirfd, &changed)))
            return rc;
    return BZ_OK;
}

void bz__table_close(bz_table *t)
{
    bz_file *fs[] = {&t->dat, &t->seq, &t->idx, &t->fre, &t->txt};
    for (int i = 0; i < 5; i++)
        if (fs[i]->fd >= 0 || fs[i]->name)
            bz__file_close(fs[i]);
}

int bz__table_check_sizes(bz_table *t, uint64_t gen)
{
    int64_t sz;
    int rc;
    if ((rc = bz__file_size(&t->dat, gen, &sz)))
        return rc;
    if (sz % t->def->row_size)
        return bz__corrupt(t->def->name, t->dat.name, sz - sz % t->def->row_size,
                           "size %lld is not a multiple of the row size %d "
                           "(a partial row at the end, or a schema that does "
                           "not match the file)",
                           (long long)sz, t->def->row_size);
    if ((rc = bz__file_size(&t->idx, gen, &sz)))
        return rc;
    if (sz % BZ_INT_WIDTH)
        return bz__corrupt(t->def->name, t->idx.name, sz - sz % BZ_INT_WIDTH,
                           "size %lld is not a multiple of the slot size 9",
                           (long long)sz);
    if ((rc = bz__file_size(&t->fre, gen, &sz)))
        return rc;
    if (sz % BZ_INT_WIDTH)
        return bz__corrupt(t->def->name, t->fre.name, sz - sz % BZ_INT_WIDTH,
                           "size %lld is not a multiple of the entry size 9",
                           (long long)sz);
    return BZ_OK;
}

int bz__table_nrows(bz_table *t, uint64_t gen, int64_t *n)
{
    int64_t sz;
    *n = 0;
    int rc = bz__file_size(&t->dat, gen, &sz);
    if (rc)
        return rc;
    if (sz % t->def->row_size)
        return bz__table_check_sizes(t, gen);
    *n = sz / t->def->row_size;
    return BZ_OK;
}

int bz__table_read_rows(bz_table *t, int64_t first, int64_t count, char *buf)
{
    size_t len = (size_t)count * (size_t)t->def->row_size, got;
    int64_t off = first * t->def->row_size;
    int rc = bz__file_read(&t->dat, off, buf, len, &got);
    if (rc)
        return rc;
    if (got != len)
        return bz__corrupt(t->def->name, t->dat.name, off + (int64_t)got,
                           "file ends inside row %lld",
                           (long long)(first + (int64_t)got / t->def->row_size));
    return BZ_OK;
}

int bz__table_seq_get(bz_table *t, uint64_t gen, int64_t *seq)
{
    int64_t sz;
    int rc = bz__file_size(&t->seq, gen, &sz);
    if (rc)
        return rc;
    char buf[32];
    size_t got = 0;
    if (sz > 0 && sz < (int64_t)sizeof buf &&
        (rc = bz__file_read(&t->seq, 0, buf, (size_t)sz, &got)))
        return rc;
    if (sz <= 0 || sz >= (int64_t)sizeof buf || got != (size_t)sz ||
        bz__dec_uint_padded(buf, got, seq))
        return bz__corrupt(t->def->name, t->seq.name, 0,
                           "expected a decimal number of at most 20 digits");
    /* 0.0.7 writes the number without padding; a trailing blank means
     * somebody edited it, but the value is still the number. */
    return BZ_OK;
}

int bz__table_index_get(bz_table *t, uint64_t gen, int64_t id, bool *found,
                        int64_t *rownum)
{
    *found = false;
    if (id <= 0 || id > BZ_INT_MAX)
        return BZ_OK;
    int64_t sz;
    int rc = bz__file_size(&t->idx, gen, &sz);
    if (rc)
        return rc;
    int64_t off = (id - 1) * BZ_INT_WIDTH;
    if (off + BZ_INT_WIDTH > sz)
        return BZ_OK;
    char slot[BZ_INT_WIDTH];
    size_t got;
    if ((rc = bz__file_read(&t->idx, off, slot, sizeof slot, &got)))
        return rc;
    if (got != sizeof slot)
        return BZ_OK; /* shrank under us: only an outside program does that */
    if (memcmp(slot, "#########", BZ_INT_WIDTH) == 0)
        return BZ_OK;
    int64_t r;
    if (bz__dec_uint_padded(slot, sizeof slot, &r))
        return bz__corrupt(t->def->name, t->idx.name, off,
                           "slot of id %lld is '%.9s', not a row number",
                           (long long)id, slot);
    int64_t nrows;
    if ((rc = bz__table_nrows(t, gen, &nrows)))
        return rc;
    if (r >= nrows)
        return bz__corrupt(t->def->name, t->idx.name, off,
                           "slot of id %lld points to row %lld, past the "
                           "last row (%lld rows)",
                           (long long)id, (long long)r, (long long)nrows);
    *found = true;
    *rownum = r;
    return BZ_OK;
}

int bz__table_free_top(bz_table *t, uint64_t gen, bool *found,
                       int64_t *rownum)
{
    *found = false;
    int64_t sz;
    int rc = bz__file_size(&t->fre, gen, &sz);
    if (rc)
        return rc;
    if (sz == 0)
        return BZ_OK;
    if (sz % BZ_INT_WIDTH)
        return bz__table_check_sizes(t, gen);
    char e[BZ_INT_WIDTH];
    size_t got;
    int64_t off = sz - BZ_INT_WIDTH;
    if ((rc = bz__file_read(&t->fre, off, e, sizeof e, &got)))
        return rc;
    int64_t r, nrows;
    if (got != sizeof e || bz__dec_uint_padded(e, sizeof e, &r))
        return bz__corrupt(t->def->name, t->fre.name, off,
                           "entry '%.9s' is not a row number", e);
    if ((rc = bz__table_nrows(t, gen, &nrows)))
        return rc;
    if (r >= nrows)
        return bz__corrupt(t->def->name, t->fre.name, off,
                           "entry %lld is past the last row (%lld rows)",
                           (long long)r, (long long)nrows);
    *found = true;
    *rownum = r;
    return BZ_OK;
}

int bz__table_text_get(bz_table *t, uint64_t gen, int64_t off, bz_buf *b,
                       size_t *start, size_t *len)
{
    int64_t sz;
    int rc = bz__file_size(&t->txt, gen, &sz);
    if (rc)
        return rc;
    char head[BZ_INT_WIDTH];
    size_t got;
    if (off < 0 || off + BZ_INT_WIDTH > sz)
        return bz__corrupt(t->def->name, t->txt.name, off,
                           "text reference past the end of the file "
                           "(%lld bytes)", (long long)sz);
    if ((rc = bz__file_read(&t->txt, off, head, sizeof head, &got)))
        return rc;
    int64_t n;
    if (got != sizeof head || bz__dec_uint_padded(head, sizeof head, &n))
        return bz__corrupt(t->def->name, t->txt.name, off,
                           "text record length '%.9s' is not a number", head);
    if (off + BZ_INT_WIDTH + n > sz)
        return bz__corrupt(t->def->name, t->txt.name, off,
                           "text record of %lld bytes runs past the end of "
                           "the file (%lld bytes)", (long long)n, (long long)sz);
    if ((rc = bz__buf_reserve(b, b->len + (size_t)n + 1)))
        return rc;
    if ((rc = bz__file_read(&t->txt, off + BZ_INT_WIDTH, b->p + b->len,
                            (size_t)n, &got)))
        return rc;
    if (got != (size_t)n)
        return bz__corrupt(t->def->name, t->txt.name, off, "short text record");
    if (!bz__utf8_valid(b->p + b->len, (size_t)n))
        return bz__corrupt(t->def->name, t->txt.name, off + BZ_INT_WIDTH,
                           "text record is not valid UTF-8");
    *start = b->len;
    *len = (size_t)n;
    b->len += (size_t)n;
    b->p[b->len] = '\0';
    return BZ_OK;
}

int bz__table_bad_row(bz_table *t, int64_t rownum, int bad_field)
{
    const bz_tdef *d = t->def;
    int64_t off = rownum * d->row_size;
    if (bad_field < 0)
        return bz__corrupt(d->name, t->dat.name, off,
                           "row %lld is malformed (not a row of %d bytes "
                           "ending in a newline, nor a deleted row)",
                           (long long)rownum, d->row_size);
    const bz_fdef *f = &d->fields[bad_field];
    return bz__corrupt(d->name, t->dat.name, off + f->off,
                       "row %lld, field '%s': not a valid %s value",
                       (long long)rownum, f->name,
                       f->kind == BZ_CHAR ? "CHAR" : f->kind == BZ_TEXT
                       ? "TEXT reference" : f->nullable ? "integer or NULL"
                       : "non-NULL integer");
}

int bz__table_resolve_texts(bz_table *t, uint64_t gen, bz_fval *vals,
                            bz_buf *text)
{
    const bz_tdef *d = t->def;
    if (!d->ntext)
        return BZ_OK;
    size_t starts[d->nfields];
    int rc;
    for (int j = 0; j < d->nfields; j++) {
        if (d->fields[j].kind != BZ_TEXT || vals[j].null)
            continue;
        if ((rc = bz__table_text_get(t, gen, vals[j].i, text, &starts[j],
                                     &vals[j].len)))
            return rc;
    }
    /* Pointers only now: the buffer may have moved while growing. */
    for (int j = 0; j < d->nfields; j++)
        if (d->fields[j].kind == BZ_TEXT && !vals[j].null)
            vals[j].s = text->p + starts[j];
    return BZ_OK;
}

int bz__table_load_row(bz_table *t, uint64_t gen, int64_t rownum, int64_t id,
                       bz_buf *rowbuf, bz_buf *text, bz_fval *vals)
{
    const bz_tdef *d = t->def;
    int rc;
    if ((rc = bz__buf_reserve(rowbuf, (size_t)d->row_size)))
        return rc;
    if ((rc = bz__table_read_rows(t, rownum, 1, rowbuf->p)))
        return rc;
    int bad;
    int r = bz__dec_row(d, rowbuf->p, vals, &bad);
    if (r < 0)
        return bz__table_bad_row(t, rownum, bad);
    if (r == 1)
        return bz__corrupt(d->name, t->idx.name, (id - 1) * BZ_INT_WIDTH,
                           "slot of id %lld points to row %lld, which is "
                           "deleted", (long long)id, (long long)rownum);
    if (vals[d->id_field].i != id)
        return bz__corrupt(d->name, t->idx.name, (id - 1) * BZ_INT_WIDTH,
                           "slot of id %lld points to row %lld, which holds "
                           "id %lld", (long long)id, (long long)rownum,
                           (long long)vals[d->id_field].i);
    return bz__table_resolve_texts(t, gen, vals, text);
}

int bz__table_find(bz_table *t, uint64_t gen, int64_t id, bool *found,
                   int64_t *rownum, bz_buf *rowbuf, bz_buf *text,
                   bz_fval *vals)
{
    int rc = bz__table_index_get(t, gen, id, found, rownum);
    if (rc || !*found)
        return rc;
    return bz__table_load_row(t, gen, *rownum, id, rowbuf, text, vals);
}
