/*
 * iter.c - iteration over a table without materialising all of it.
 *
 * Each refill takes the lock, scans the next chunk of row numbers, builds
 * the matching rows (with their joins) and releases the lock.  The caller
 * holds no lock between bz_iter_next calls, so a slow consumer never blocks
 * writers; the price is that rows changed between two chunks may be seen
 * before or after the change (each row is whole: a chunk is read under the
 * lock).
 */
#include <stdlib.h>

#include "db.h"
#include "err.h"

#define ITER_CHUNK_ROWS 512

struct bz_iter {
    bz_db *db;
    bz_table *t;
    bz_ccond *cc;
    const bz_joins *joins;
    int64_t next_row;     /* first row number not yet scanned */
    bz_rows *batch;
    size_t pos;
    bool eof;
};

int bz_iter_open(bz_db *db, const char *table, const bz_cond *cond,
                 const bz_joins *joins, bz_iter **out)
{
    bz__err_clear();
    if (out)
        *out = NULL;
    if (!db || !table || !out)
        return bz__err(BZ_EINVAL, "bz_iter_open: NULL argument");
    bz_table *t;
    int rc;
    if ((rc = bz__table_lookup(db, table, &t)) ||
        (rc = bz__joins_check(db, t, joins)))
        return rc;
    bz_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return bz__nomem();
    it->db = db;
    it->t = t;
    it->joins = joins;
    if ((rc = bz__cond_compile(cond, t->def, &it->cc))) {
        free(it);
        return rc;
    }
    *out = it;
    return BZ_OK;
}

static int refill(bz_iter *it)
{
    bz_rows_free(it->batch);
    it->batch = bz__rows_new();
    it->pos = 0;
    if (!it->batch)
        return bz__nomem();
    /* Chunks until one has a match or the table ends. */
    for (;;) {
        int64_t before = it->next_row;
        int rc = bz__read_rows(it->db, it->t, it->cc, it->joins, it->next_row,
                               ITER_CHUNK_ROWS, it->batch, &it->next_row);
        if (rc)
            return rc;
        if (it->next_row == before) {
            it->eof = true;
            return BZ_OK;
        }
        if (it->batch->n)
            return BZ_OK;
    }
}

int bz_iter_next(bz_iter *it, bz_row **row)
{
    bz__err_clear();
    if (row)
        *row = NULL;
    if (!it || !row)
        return bz__err(BZ_EINVAL, "bz_iter_next: NULL argument");
    while (!it->batch || it->pos >= it->batch->n) {
        if (it->eof)
            return BZ_DONE;
        int rc = refill(it);
        if (rc)
            return rc;
    }
    *row = it->batch->v[it->pos];
    it->batch->v[it->pos++] = NULL;
    return BZ_ROW;
}

void bz_iter_close(bz_iter *it)
{
    if (!it)
        return;
    bz_rows_free(it->batch);
    bz__ccond_free(it->cc);
    free(it);
}
