/*
 * ops.c - insert, update, delete and truncate: 0.0.7's semantics and bytes,
 * with its data-losing paths closed.
 *
 * Every write operation has two phases:
 *   1. validate: everything that can refuse the operation is checked, in
 *      0.0.7's order (foreign keys in schema order, TEXT types, a duplicate
 *      id, then each field in schema order), and the new bytes are built in
 *      memory.  Nothing is written.
 *   2. write: the bytes go to the files through a bz_txn; an I/O error rolls
 *      every file back.  The final bytes equal what 0.0.7 leaves behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "journal.h"
#include "shm.h"

/* ---- validation ---------------------------------------------------- */

static int check_known_fields(const bz_tdef *t, const bz_values *v)
{
    if (!v)
        return bz__err(BZ_EINVAL, "NULL values for table '%s'", t->name);
    for (int i = 0; i < v->n; i++)
        if (bz__tdef_find_field(t, v->v[i].name) < 0)
            return bz__err(BZ_EINVAL, "table '%s' has no field '%s'", t->name,
                           v->v[i].name);
    return BZ_OK;
}

/* 0.0.7 checks the foreign keys given in values (a falsy value, NULL or 0,
 * is not checked) before anything else. */
static int check_fks(bz_opctx *op, bz_table *t, const bz_values *v)
{
    const bz_tdef *d = t->def;
    for (int j = 0; j < d->nfields; j++) {
        const bz_fdef *f = &d->fields[j];
        if (f->kind != BZ_FK)
            continue;
        const struct bz_value_in *x = bz__values_get(v, f->name);
        if (!x || x->kind != BZ_V_INT || x->i == 0)
            continue; /* NULL, 0, or a type error reported with the field */
        bz_table *ft = &op->db->tables[f->ref];
        bz_fval fv[ft->def->nfields];
        bool found;
        int64_t rownum;
        op->aux_text.len = 0;
        int rc = bz__table_find(ft, op->gen, x->i, &found, &rownum,
                                &op->aux_row, &op->aux_text, fv);
        if (rc)
            return rc;
        if (!found)
            return bz__err(BZ_ECONSTRAINT, "Item id=%lld does not exist in '%s'",
                           (long long)x->i, ft->def->name);
    }
    return BZ_OK;
}

static int check_text_types(const bz_tdef *d, const struct bz_value_in **vin)
{
    for (int j = 0; j < d->nfields; j++)
        if (d->fields[j].kind == BZ_TEXT && vin[j] &&
            vin[j]->kind != BZ_V_NULL && vin[j]->kind != BZ_V_STR)
            return bz__err(BZ_EVALIDATION, "'%s': Type mismatch",
                           d->fields[j].name);
    return BZ_OK;
}

static int type_mismatch_int(const bz_fdef *f, const struct bz_value_in *v)
{
    if (v->kind == BZ_V_OTHER)
        return bz__err(BZ_EVALIDATION, "'%s': Type mismatch: `%s` is not `int`",
                       f->name, v->s);
    char *r = bz__py_repr_str(v->s, v->len);
    if (!r)
        return bz__nomem();
    int rc = bz__err(BZ_EVALIDATION, "'%s': Type mismatch: `%s` is not `int`",
                     f->name, r);
    free(r);
    return rc;
}

/* The id a given "id" value asks for. */
static int explicit_id(const bz_tdef *d, const struct bz_value_in *v,
                       int64_t *id)
{
    const bz_fdef *f = &d->fields[d->id_field];
    if (v->kind == BZ_V_NULL)
        return bz__err(BZ_EVALIDATION, "'%s': The value can't be None", f->name);
    if (v->kind != BZ_V_INT)
        return type_mismatch_int(f, v);
    if (v->i <= 0)
        return bz__err(BZ_EVALIDATION, "'%s': The value must be greater than 0",
                       f->name);
    *id = v->i;
    return BZ_OK;
}

/* The new row's bytes, and the TEXT records to append at text_base. */
struct newrow {
    char *row;         /* row_size bytes */
    bz_buf texts;      /* records, back to back */
};

static int encode_fields(const bz_tdef *d, const struct bz_value_in **vin,
                         int64_t id, int64_t text_base, struct newrow *nr)
{
    int rc;
    for (int j = 0; j < d->nfields; j++) {
        const bz_fdef *f = &d->fields[j];
        const struct bz_value_in *v = vin[j];
        char *dst = nr->row + f->off;
        if (f->kind == BZ_PK) {
            if (id > BZ_INT_MAX)
                return bz__err(BZ_EVALIDATION, "'%s': The value is too big",
                               f->name);
            bz__enc_int(dst, id);
            continue;
        }
        if (!v || v->kind == BZ_V_NULL) {
            if (!f->nullable)
                return bz__err(BZ_EVALIDATION, "'%s': The value can't be None",
                               f->name);
            memset(dst, f->kind == BZ_CHAR ? '\0' : '#', (size_t)f->width);
            continue;
        }
        switch (f->kind) {
        case BZ_INT:
        case BZ_FK:
            if (v->kind != BZ_V_INT)
                return type_mismatch_int(f, v);
            /* 0.0.7 says "too big" for a too negative value as well. */
            if (!bz__int_fits(f->width, v->i))
                return bz__err(BZ_EVALIDATION, "'%s': The value is too big",
                               f->name);
            bz__enc_intw(dst, f->width, v->i);
            break;
        case BZ_CHAR:
            if (v->kind != BZ_V_STR)
                return bz__err(BZ_EVALIDATION, "'%s': Type mismatch", f->name);
            if (v->len > (size_t)f->width)
                return bz__err(BZ_EVALIDATION, "'%s': The value is too long",
                               f->name);
            /* A NUL would read back as NULL or a shorter string. */
            if (memchr(v->s, '\0', v->len))
                return bz__err(BZ_EVALIDATION,
                               "'%s': The value contains a NUL byte", f->name);
            if (!bz__utf8_valid(v->s, v->len))
                return bz__err(BZ_EVALIDATION, "'%s': The value is not UTF-8",
                               f->name);
            memcpy(dst, v->s, v->len);
            memset(dst + v->len, ' ', (size_t)f->width - v->len);
            break;
        case BZ_TEXT: {
            int64_t off = text_base + (int64_t)nr->texts.len;
            if (off > BZ_INT_MAX || v->len > (size_t)BZ_INT_MAX)
                return bz__err(BZ_EVALIDATION, "'%s': The value is too big",
                               f->name);
            if (!bz__utf8_valid(v->s, v->len))
                return bz__err(BZ_EVALIDATION, "'%s': The value is not UTF-8",
                               f->name);
            if ((rc = bz__buf_reserve(&nr->texts, nr->texts.len +
                                      BZ_INT_WIDTH + v->len)))
                return rc;
            bz__enc_int(nr->texts.p + nr->texts.len, (int64_t)v->len);
            memcpy(nr->texts.p + nr->texts.len + BZ_INT_WIDTH, v->s, v->len);
            nr->texts.len += BZ_INT_WIDTH + v->len;
            bz__enc_int(dst, off);
            break;
        }
        default:
            break;
        }
    }
    nr->row[d->row_size - 1] = '\n';
    return BZ_OK;
}

/* The result row of a write: the row as it reads back (CHAR values lose
 * trailing blanks, as in 0.0.7), with the TEXT values given. */
static int result_row(const bz_tdef *d, const char *row,
                      const struct bz_value_in **vin, bz_row **out)
{
    bz_fval vals[d->nfields];
    int bad;
    if (bz__dec_row(d, row, vals, &bad) != 0)
        return bz__err(BZ_ECORRUPT, "internal error: the new row of '%s' does "
                       "not decode (field %d)", d->name, bad);
    for (int j = 0; j < d->nfields; j++)
        if (d->fields[j].kind == BZ_TEXT && !vals[j].null) {
            vals[j].s = vin[j]->s;
            vals[j].len = vin[j]->len;
        }
    *out = bz__row_build(d, vals, 0);
    return *out ? BZ_OK : bz__nomem();
}

/* ---- writing ------------------------------------------------------- */

static int write_int_file(bz_txn *tx, bz_file *f, int64_t v)
{
    char buf[24];
    int n = (int)bz__fmt_int(buf, v);
    int rc = bz__txn_write(tx, f, 0, buf, (size_t)n);
    if (rc)
        return rc;
    /* 0.0.7 writes over the old digits without truncating; the value
     * only grows except at truncate, where we want exactly "0". */
    if (f->size > n)
        rc = bz__txn_truncate(tx, f, n);
    return rc;
}

/* Slot id-1 := value (or "#########"), filling a gap before it with '#'. */
static int index_set(bz_txn *tx, bz_table *t, int64_t id, int64_t rownum,
                     bool null)
{
    int64_t size = t->idx.size;
    int64_t off = (id - 1) * BZ_INT_WIDTH;
    int64_t start = off > size ? size : off;
    size_t len = (size_t)(off - start) + BZ_INT_WIDTH;
    char small[256];
    char *buf = len <= sizeof small ? small : malloc(len);
    if (!buf)
        return bz__nomem();
    memset(buf, '#', len - BZ_INT_WIDTH);
    if (null)
        bz__enc_null_int(buf + len - BZ_INT_WIDTH);
    else
        bz__enc_int(buf + len - BZ_INT_WIDTH, rownum);
    int rc = bz__txn_write(tx, &t->idx, start, buf, len);
    if (buf != small)
        free(buf);
    return rc;
}

/* Overwrite the TEXT records of a row being deleted with '#'. */
static int erase_texts(bz_txn *tx, bz_table *t, const bz_fval *vals)
{
    const bz_tdef *d = t->def;
    for (int j = 0; j < d->nfields; j++) {
        if (d->fields[j].kind != BZ_TEXT || vals[j].null)
            continue;
        size_t len = BZ_INT_WIDTH + vals[j].len;
        char *hash = malloc(len);
        if (!hash)
            return bz__nomem();
        memset(hash, '#', len);
        int rc = bz__txn_write(tx, &t->txt, vals[j].i, hash, len);
        free(hash);
        if (rc)
            return rc;
    }
    return BZ_OK;
}

/* Before writing: outside changes detected (shared mode), cached sizes
 * fresh and sane. */
static int prepare_write(bz_opctx *op, bz_table *t)
{
    int rc = BZ_OK;
    if (op->db->seg)
        rc = bz__table_check_files(t, op->db->dirfd, false);
    if (!rc)
        rc = bz__table_check_sizes(t, op->gen);
    int64_t sz;
    if (!rc && t->def->ntext)
        rc = bz__file_size(&t->txt, op->gen, &sz);
    return rc;
}

static int finish_txn(bz_txn *tx, int rc)
{
    if (rc == BZ_OK && (rc = bz__txn_commit(tx)) == BZ_OK)
        return rc;
    /* Keep the message of the failure; report a failed undo on top. */
    char *m = strdup(bz_errmsg());
    bz_journal *j = tx->batch ? NULL : tx->journal;
    int dirfd = tx->dirfd;
    int rb = bz__txn_rollback(tx);
    if (!rb && j)
        rb = bz__journal_clear(j, dirfd);
    if (rb) {
        char *m2 = strdup(bz_errmsg());
        bz__err(BZ_EIO, "%s; and undoing the operation failed too, files may "
                "be inconsistent: %s", m ? m : "", m2 ? m2 : "");
        free(m2);
    } else if (m) {
        bz__err(rc, "%s", m);
    }
    free(m);
    return rb ? BZ_EIO : rc;
}

/* A free-stack entry must name a deleted row: reusing a live one would
 * overwrite it. */
static int check_free_row(bz_table *t, int64_t rownum)
{
    char first;
    size_t got;
    int rc = bz__file_read(&t->dat, rownum * t->def->row_size, &first, 1, &got);
    if (rc)
        return rc;
    if (got != 1 || first != '*')
        return bz__corrupt(t->def->name, t->fre.name, t->fre.size - BZ_INT_WIDTH,
                           "top entry names row %lld, which is not deleted",
                           (long long)rownum);
    return BZ_OK;
}

/* ---- the frame of a write ---------------------------------------- */

struct write_args {
    const bz_values *values;
    int64_t id;
    bz_row **out;
};

typedef int (*write_fn)(bz_opctx *op, bz_table *t, bz_txn *tx,
                        struct write_args *a);

/* Lock, run fn with a transaction, undo everything if it failed, unlock. */
static int run_write(bz_db *db, const char *table, write_fn fn,
                     struct write_args *a, const char *what)
{
    bz__err_clear();
    if (a->out)
        *a->out = NULL;
    if (!db || !table)
        return bz__err(BZ_EINVAL, "%s: NULL argument", what);
    bz_opctx op;
    int rc = bz__op_begin(&op, db);
    if (rc)
        return rc;
    bz_table *t;
    bz_txn tx;
    bz_txn *batch = db->lock->batch;
    bz__txn_begin(&tx, op.gen, db->seg, db->dirfd);
    tx.batch = batch != NULL;
    if (db->sync == BZ_SYNC_FULL)
        tx.journal = batch && batch->journal ? batch->journal : &db->journal;
    if ((rc = bz__table_lookup(db, table, &t)) == BZ_OK)
        rc = fn(&op, t, &tx, a);
    /* In a batch a finished operation's undo records join the batch's: a
     * rollback of the batch undoes it too.  A failed one is undone now. */
    if (rc == BZ_OK && batch)
        rc = bz__txn_absorb(batch, &tx);
    rc = finish_txn(&tx, rc);
    if (rc && a->out && *a->out) {
        bz_row_free(*a->out);
        *a->out = NULL;
    }
    bz__op_end(&op);
    return rc;
}

/* ---- insert -------------------------------------------------------- */

/* The smallest id above seqnum whose index slot is empty.  Explicit ids do
 * not move seqnum, so ids above it may be taken; 0.0.7 would collide with
 * them, fail, and (since our failures change nothing) fail again on every
 * later insert.  Skipping them is the only rule that keeps such a table
 * usable.  Ids past BZ_INT_MAX read as empty, so the walk ends there and
 * encoding reports the id as too big. */
static int next_auto_id(bz_opctx *op, bz_table *t, int64_t *id)
{
    int64_t seq, rownum;
    bool taken = true;
    int rc = bz__table_seq_get(t, op->gen, &seq);
    for (*id = seq; rc == BZ_OK && taken;)
        rc = bz__table_index_get(t, op->gen, ++*id, &taken, &rownum);
    return rc;
}

static int insert_locked(bz_opctx *op, bz_table *t, bz_txn *tx,
                         struct write_args *a)
{
    const bz_tdef *d = t->def;
    int rc;
    if ((rc = check_known_fields(d, a->values)) ||
        (rc = check_fks(op, t, a->values)))
        return rc;
    const struct bz_value_in *vin[d->nfields];
    for (int j = 0; j < d->nfields; j++)
        vin[j] = bz__values_get(a->values, d->fields[j].name);
    if ((rc = check_text_types(d, vin)) || (rc = prepare_write(op, t)))
        return rc;

    int64_t id, rownum;
    bool auto_id = vin[d->id_field] == NULL;
    if (auto_id) {
        if ((rc = next_auto_id(op, t, &id)))
            return rc;
    } else {
        bool exists;
        if ((rc = explicit_id(d, vin[d->id_field], &id)) ||
            (rc = bz__table_index_get(t, op->gen, id, &exists, &rownum)))
            return rc;
        if (exists)
            return bz__err(BZ_EVALIDATION,
                           "'id': row with id %lld already exists",
                           (long long)id);
    }
    struct newrow nr = {0};
    if ((rc = bz__buf_reserve(&op->scan, (size_t)d->row_size)))
        return rc;
    nr.row = op->scan.p;
    int64_t text_base = d->ntext ? t->txt.size : 0;
    if ((rc = encode_fields(d, vin, id, text_base, &nr)))
        goto out;

    /* Phase 2, in 0.0.7's order: seqnum, texts, free stack, row, index. */
    if (auto_id && (rc = write_int_file(tx, &t->seq, id)))
        goto out;
    if (nr.texts.len &&
        (rc = bz__txn_write(tx, &t->txt, text_base, nr.texts.p, nr.texts.len)))
        goto out;
    bool reuse;
    if ((rc = bz__table_free_top(t, op->gen, &reuse, &rownum)))
        goto out;
    if (reuse && (rc = check_free_row(t, rownum)))
        goto out;
    if (reuse)
        rc = bz__txn_truncate(tx, &t->fre, t->fre.size - BZ_INT_WIDTH);
    else
        rownum = t->dat.size / d->row_size;
    if (rc || (rc = bz__txn_write(tx, &t->dat, rownum * d->row_size, nr.row,
                                  (size_t)d->row_size)) ||
        (rc = index_set(tx, t, id, rownum, false)))
        goto out;
    if (a->out)
        rc = result_row(d, nr.row, vin, a->out);
out:
    bz__buf_free(&nr.texts);
    return rc;
}

int bz_insert(bz_db *db, const char *table, const bz_values *values,
              bz_row **out)
{
    struct write_args a = {values, 0, out};
    return run_write(db, table, insert_locked, &a, "bz_insert");
}

/* ---- update -------------------------------------------------------- */

static int update_locked(bz_opctx *op, bz_table *t, bz_txn *tx,
                         struct write_args *a)
{
    const bz_tdef *d = t->def;
    int rc;
    if ((rc = check_known_fields(d, a->values)) ||
        (rc = check_fks(op, t, a->values)))
        return rc;
    bz_fval old[d->nfields];
    bool found;
    int64_t rownum;
    if ((rc = bz__table_find(t, op->gen, a->id, &found, &rownum, &op->row,
                             &op->text, old)))
        return rc;
    if (!found)
        return bz__err(BZ_ENOTFOUND, "Row with ID=%lld does not exist",
                       (long long)a->id);
    /* 0.0.7: existing_values | values, then delete and insert. */
    struct bz_value_in merged[d->nfields];
    const struct bz_value_in *vin[d->nfields];
    for (int j = 0; j < d->nfields; j++) {
        const bz_fdef *f = &d->fields[j];
        vin[j] = bz__values_get(a->values, f->name);
        if (vin[j])
            continue;
        struct bz_value_in *m = &merged[j];
        memset(m, 0, sizeof(*m));
        m->name = f->name;
        if (old[j].null)
            m->kind = BZ_V_NULL;
        else if (f->kind == BZ_CHAR || f->kind == BZ_TEXT) {
            m->kind = BZ_V_STR;
            m->s = (char *)old[j].s;
            m->len = old[j].len;
        } else {
            m->kind = BZ_V_INT;
            m->i = old[j].i;
        }
        vin[j] = m;
    }
    if ((rc = check_text_types(d, vin)) || (rc = prepare_write(op, t)))
        return rc;
    int64_t new_id;
    if ((rc = explicit_id(d, vin[d->id_field], &new_id)))
        return rc;
    if (new_id != a->id) {
        bool exists;
        int64_t other;
        if ((rc = bz__table_index_get(t, op->gen, new_id, &exists, &other)))
            return rc;
        if (exists)
            return bz__err(BZ_EVALIDATION,
                           "'id': row with id %lld already exists",
                           (long long)new_id);
    }
    struct newrow nr = {0};
    if ((rc = bz__buf_reserve(&op->scan, (size_t)d->row_size)))
        return rc;
    nr.row = op->scan.p;
    int64_t text_base = d->ntext ? t->txt.size : 0;
    if ((rc = encode_fields(d, vin, new_id, text_base, &nr)))
        goto out;
    /* The delete erases the old texts and pushes the row number, which the
     * insert pops again: net, the row is rewritten in place. */
    if ((rc = erase_texts(tx, t, old)))
        goto out;
    if (nr.texts.len &&
        (rc = bz__txn_write(tx, &t->txt, text_base, nr.texts.p, nr.texts.len)))
        goto out;
    if ((rc = bz__txn_write(tx, &t->dat, rownum * d->row_size, nr.row,
                            (size_t)d->row_size)))
        goto out;
    if (new_id != a->id && ((rc = index_set(tx, t, a->id, 0, true)) ||
                            (rc = index_set(tx, t, new_id, rownum, false))))
        goto out;
    if (a->out)
        rc = result_row(d, nr.row, vin, a->out);
out:
    bz__buf_free(&nr.texts);
    return rc;
}

int bz_update_by_id(bz_db *db, const char *table, int64_t id,
                    const bz_values *values, bz_row **out)
{
    struct write_args a = {values, id, out};
    return run_write(db, table, update_locked, &a, "bz_update_by_id");
}

/* ---- delete -------------------------------------------------------- */

static int delete_locked(bz_opctx *op, bz_table *t, bz_txn *tx,
                         struct write_args *a)
{
    const bz_tdef *d = t->def;
    bz_fval old[d->nfields];
    bool found;
    int64_t rownum;
    int rc;
    if ((rc = bz__table_find(t, op->gen, a->id, &found, &rownum, &op->row,
                             &op->text, old)))
        return rc;
    if (!found)
        return bz__err(BZ_ENOTFOUND, "Row with ID=%lld does not exist",
                       (long long)a->id);
    if ((rc = prepare_write(op, t)) ||
        (rc = bz__buf_reserve(&op->scan, (size_t)d->row_size)))
        return rc;
    char entry[BZ_INT_WIDTH];
    bz__enc_int(entry, rownum);
    bz__enc_deleted_row(d, op->scan.p);
    if ((rc = erase_texts(tx, t, old)) ||
        (rc = index_set(tx, t, a->id, 0, true)) ||
        (rc = bz__txn_write(tx, &t->dat, rownum * d->row_size, op->scan.p,
                            (size_t)d->row_size)) ||
        (rc = bz__txn_write(tx, &t->fre, t->fre.size, entry, sizeof entry)))
        return rc;
    return BZ_OK;
}

int bz_delete_by_id(bz_db *db, const char *table, int64_t id)
{
    struct write_args a = {NULL, id, NULL};
    return run_write(db, table, delete_locked, &a, "bz_delete_by_id");
}

/* ---- truncate ------------------------------------------------------ */

/* Does any row of dep refer to table target through an FK? */
static int has_referring_rows(bz_opctx *op, bz_table *dep, int target,
                              bool *any)
{
    const bz_tdef *d = dep->def;
    *any = false;
    int64_t nrows;
    int rc = bz__table_nrows(dep, op->gen, &nrows);
    if (rc)
        return rc;
    int64_t chunk = 65536 / d->row_size + 1;
    if ((rc = bz__buf_reserve(&op->scan, (size_t)(chunk * d->row_size))))
        return rc;
    bz_fval vals[d->nfields];
    for (int64_t r = 0; r < nrows && !*any; r += chunk) {
        int64_t n = nrows - r < chunk ? nrows - r : chunk;
        if ((rc = bz__table_read_rows(dep, r, n, op->scan.p)))
            return rc;
        for (int64_t k = 0; k < n && !*any; k++) {
            int bad;
            int s = bz__dec_row(d, op->scan.p + k * d->row_size, vals, &bad);
            if (s < 0)
                return bz__table_bad_row(dep, r + k, bad);
            if (s == 1)
                continue;
            for (int j = 0; j < d->nfields; j++)
                if (d->fields[j].kind == BZ_FK && d->fields[j].ref == target &&
                    !vals[j].null)
                    *any = true;
        }
    }
    return BZ_OK;
}

static int truncate_rec(bz_opctx *op, bz_txn *tx, int ti, bool cascade,
                        bool *done)
{
    bz_db *db = op->db;
    const bz_schema *s = db->schema;
    int rc;
    done[ti] = true;
    for (int k = 0; k < s->ntables; k++) {
        if (k == ti)
            continue;
        bool refers = false;
        for (int j = 0; j < s->tables[k].nfields; j++)
            refers |= s->tables[k].fields[j].kind == BZ_FK &&
                      s->tables[k].fields[j].ref == ti;
        if (!refers)
            continue;
        if (cascade) {
            if (!done[k] && (rc = truncate_rec(op, tx, k, true, done)))
                return rc;
            continue;
        }
        bool any;
        if ((rc = has_referring_rows(op, &db->tables[k], ti, &any)))
            return rc;
        if (any)
            return bz__err(BZ_ECONSTRAINT,
                           "Cannot truncate table '%s': table '%s' has "
                           "referring rows. Use `cascade` option to truncate "
                           "dependent tables.",
                           s->tables[ti].name, s->tables[k].name);
    }
    bz_table *t = &db->tables[ti];
    int64_t sz;
    if ((rc = bz__file_size(&t->dat, op->gen, &sz)) ||
        (rc = bz__txn_truncate(tx, &t->dat, 0)) ||
        (rc = bz__file_size(&t->seq, op->gen, &sz)) ||
        (rc = write_int_file(tx, &t->seq, 0)) ||
        (rc = bz__txn_truncate(tx, &t->idx, 0)) ||
        (rc = bz__txn_truncate(tx, &t->fre, 0)))
        return rc;
    if (t->def->ntext && (rc = bz__txn_truncate(tx, &t->txt, 0)))
        return rc;
    return BZ_OK;
}

static int truncate_locked(bz_opctx *op, bz_table *t, bz_txn *tx,
                           struct write_args *a)
{
    bool *done = calloc((size_t)op->db->schema->ntables, sizeof(bool));
    if (!done)
        return bz__nomem();
    int rc = truncate_rec(op, tx, (int)(t - op->db->tables), a->id != 0, done);
    free(done);
    return rc;
}

int bz_truncate(bz_db *db, const char *table, int cascade)
{
    struct write_args a = {NULL, cascade != 0, NULL};
    return run_write(db, table, truncate_locked, &a, "bz_truncate");
}
