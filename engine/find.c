/*
 * find.c - reads: find_by_id, find_all, find_by_cond, and joins.
 *
 * A scan reads the rows of a table a chunk at a time, decodes each in place,
 * evaluates the condition on the decoded fields (fetching TEXT values only
 * when the condition needs them) and builds result rows only for matches.
 * Joins are applied afterwards to the whole batch, so an InverseJoin reads
 * the foreign table once per batch rather than once per row.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "shm.h"

int bz__joins_check(bz_db *db, bz_table *t, const bz_joins *j)
{
    if (!j)
        return BZ_OK;
    for (int i = 0; i < j->n; i++) {
        const struct bz_join1 *x = &j->j[i];
        int ft = bz__schema_find_table(db->schema, x->table);
        if (ft < 0)
            return bz__err(BZ_EINVAL, "join '%s': no such table: '%s'", x->key,
                           x->table);
        const bz_tdef *holder = x->inverse ? &db->schema->tables[ft] : t->def;
        int f = bz__tdef_find_field(holder, x->fk);
        if (f < 0)
            return bz__err(BZ_EINVAL, "join '%s': table '%s' has no field '%s'",
                           x->key, holder->name, x->fk);
        if (!bz__kind_is_int(holder->fields[f].kind))
            return bz__err(BZ_EINVAL, "join '%s': field '%s' of table '%s' is "
                           "not an id", x->key, x->fk, holder->name);
    }
    return BZ_OK;
}

/* The row with PK id of ft, built (no joins), or NULL when absent. */
static int fetch_row(bz_opctx *op, bz_table *ft, int64_t id, bz_row **out)
{
    const bz_tdef *d = ft->def;
    bz_fval vals[d->nfields];
    bool found;
    int64_t rownum;
    *out = NULL;
    op->aux_text.len = 0;
    int rc = bz__table_find(ft, op->gen, id, &found, &rownum, &op->aux_row,
                            &op->aux_text, vals);
    if (rc || !found)
        return rc;
    *out = bz__row_build(d, vals, 0);
    return *out ? BZ_OK : bz__nomem();
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Row lookup by id within a batch: ids sorted, with their positions. */
struct id_pos {
    int64_t id;
    size_t pos;
};

static int cmp_id_pos(const void *a, const void *b)
{
    return cmp_i64(a, b);
}

/* InverseJoin for rows [from, rs->n): read ft once; each of its rows whose
 * fk names one of the batch's ids joins that row's list (ids are unique, so
 * a foreign row belongs to at most one list). */
static int inverse_join(bz_opctx *op, bz_rows *rs, size_t from,
                        const struct bz_join1 *j, bz_table *ft)
{
    size_t n = rs->n - from;
    struct id_pos *ids = malloc(n * sizeof(*ids));
    bz_rows **lists = calloc(n, sizeof(*lists));
    bz_rows *all = bz__rows_new();
    int rc = BZ_OK;
    if (!ids || !lists || !all) {
        rc = bz__nomem();
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i].id = bz_row_id(rs->v[from + i]);
        ids[i].pos = i;
        if (!(lists[i] = bz__rows_new())) {
            rc = bz__nomem();
            goto out;
        }
    }
    qsort(ids, n, sizeof(*ids), cmp_id_pos);
    /* Scan the foreign table without joins, keeping every live row whose
     * fk is not NULL; then distribute. */
    bz_ccond *none = NULL;
    int64_t next;
    bz_opctx sub = *op;  /* own scan buffers: the caller's are in use */
    memset(&sub.row, 0, sizeof(sub.row));
    memset(&sub.text, 0, sizeof(sub.text));
    memset(&sub.scan, 0, sizeof(sub.scan));
    memset(&sub.prefilter, 0, sizeof(sub.prefilter));
    rc = bz__scan(&sub, ft, none, NULL, 0, -1, all, &next);
    bz__buf_free(&sub.row);
    bz__buf_free(&sub.text);
    bz__buf_free(&sub.scan);
    bz__buf_free(&sub.prefilter);
    if (rc)
        goto out;
    int fk = bz__tdef_find_field(ft->def, j->fk);
    for (size_t k = 0; k < all->n; k++) {
        bz_row *fr = all->v[k];
        struct bz_entry *e = &fr->e[fk];
        struct id_pos *hit = NULL;
        if (e->type == BZ_T_INT)
            hit = bsearch(&e->i, ids, n, sizeof(*ids), cmp_id_pos);
        if (hit) {
            if (bz__rows_push(lists[hit->pos], fr)) {
                rc = bz__nomem();
                goto out;
            }
            all->v[k] = NULL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        bz__row_set_join(rs->v[from + i], j->key, BZ_T_ROWS, lists[i]);
        lists[i] = NULL;
    }
out:
    if (lists)
        for (size_t i = 0; i < n; i++)
            bz_rows_free(lists[i]);
    free(lists);
    free(ids);
    bz_rows_free(all);
    return rc;
}

static int apply_joins(bz_opctx *op, bz_table *t, const bz_joins *js,
                       bz_rows *rs, size_t from)
{
    if (!js)
        return BZ_OK;
    for (int i = 0; i < js->n; i++) {
        const struct bz_join1 *j = &js->j[i];
        bz_table *ft = &op->db->tables[bz__schema_find_table(op->db->schema,
                                                              j->table)];
        int rc;
        if (j->inverse) {
            if (rs->n > from && (rc = inverse_join(op, rs, from, j, ft)))
                return rc;
            continue;
        }
        int fk = bz__tdef_find_field(t->def, j->fk);
        for (size_t r = from; r < rs->n; r++) {
            bz_row *row = rs->v[r];
            bz_row *sub = NULL;
            /* 0.0.7 reads row[fk] as it stands: an earlier join under the
             * same key has replaced it. */
            const struct bz_entry *e = &row->e[fk];
            if (strcmp(e->name, j->fk) == 0 && e->type == BZ_T_INT &&
                (rc = fetch_row(op, ft, e->i, &sub)))
                return rc;
            bz__row_set_join(row, j->key, BZ_T_ROW, sub);
        }
    }
    return BZ_OK;
}

struct text_ctx {
    bz_opctx *op;
    bz_table *t;
    bz_fval *vals;
    bool done;
};

static int resolve_all(void *p, int field)
{
    (void)field;
    struct text_ctx *c = p;
    if (c->done)
        return BZ_OK;
    c->done = true;
    c->op->text.len = 0;
    return bz__table_resolve_texts(c->t, c->op->gen, c->vals, &c->op->text);
}

int bz__scan(bz_opctx *op, bz_table *t, const bz_ccond *cc, const bz_joins *j,
             int64_t first, int64_t max, bz_rows *out, int64_t *next)
{
    /* out == NULL: count matches in op->matched, build nothing. */
    const bz_tdef *d = t->def;
    int64_t nrows;
    int rc = bz__table_nrows(t, op->gen, &nrows);
    if (rc)
        return rc;
    int64_t last = max < 0 || nrows - first < max ? nrows : first + max;
    int64_t chunk = 65536 / d->row_size + 1;
    if ((rc = bz__buf_reserve(&op->scan, (size_t)(chunk * d->row_size))))
        return rc;
    const bz_prefilter *pf = bz__ccond_prefilter(cc);
    char *fold = NULL;
    unsigned char *cand = NULL;
    if (pf) {
        size_t bytes = (size_t)chunk * ((size_t)pf->width + 1);
        if ((rc = bz__buf_reserve(&op->prefilter, bytes + (size_t)chunk)))
            return rc;
        fold = op->prefilter.p;
        cand = (unsigned char *)op->prefilter.p + bytes;
    }
    size_t from = out ? out->n : 0;
    size_t extra = j ? (size_t)j->n : 0;
    bz_fval vals[d->nfields];
    for (int64_t r = first; r < last; r += chunk) {
        int64_t n = last - r < chunk ? last - r : chunk;
        if ((rc = bz__table_read_rows(t, r, n, op->scan.p)))
            return rc;
        /* Rows the prefilter rules out cannot match, and are not decoded:
         * a scan vouches for the rows it returns, not for every byte. */
        if (pf)
            bz__prefilter_run(pf, op->scan.p, d->row_size, n, fold, cand);
        for (int64_t k = 0; k < n; k++) {
            if (pf && !cand[k])
                continue;
            int bad;
            int s = bz__dec_row(d, op->scan.p + k * d->row_size, vals, &bad);
            if (s < 0)
                return bz__table_bad_row(t, r + k, bad);
            if (s == 1)
                continue;
            struct text_ctx tc = {op, t, vals, false};
            if (cc) {
                int m = bz__ccond_eval(cc, d, vals, resolve_all, &tc);
                if (m < 0)
                    return -m;
                if (!m)
                    continue;
            }
            if (!out) {
                op->matched++;
                continue;
            }
            if ((rc = resolve_all(&tc, 0)))
                return rc;
            bz_row *row = bz__row_build(d, vals, extra);
            if (!row || bz__rows_push(out, row)) {
                bz_row_free(row);
                return bz__nomem();
            }
        }
    }
    *next = last;
    return out ? apply_joins(op, t, j, out, from) : BZ_OK;
}

/* ---- the frame of a read -------------------------------------------
 * Shared mode reads optimistically (lockmgr/README.md, "Readers"): note
 * the sequence number, read from the cache without any lock, and keep the
 * result only if no write started or finished meanwhile.  A miss, a frame
 * changing under us or a write running sends us round again, a bounded
 * number of times, then to the lock.  A thread that holds the lock (bz_lock)
 * reads under it.  Whatever an optimistic attempt saw is thrown away unless
 * it validates, so a torn read can cost a retry but never a wrong row. */
#define OPT_TRIES 8

struct read_args {
    bz_table *t;
    int64_t id;
    const bz_ccond *cc;
    const bz_joins *joins;
    int64_t first, max, next;  /* scans: the row range, the row after */
    bz_row *row;               /* find_by_id's result                  */
    bz_rows *rows;             /* scans' results                       */
    int64_t count;             /* bz_count                             */
    bool counting;
};

static void discard(struct read_args *a)
{
    bz_row_free(a->row);
    a->row = NULL;
    if (a->rows) {
        for (size_t i = 0; i < a->rows->n; i++)
            bz_row_free(a->rows->v[i]);
        a->rows->n = 0;
    }
    a->count = 0;
}

typedef int (*read_fn)(bz_opctx *op, struct read_args *a);

static int run_read(bz_db *db, read_fn fn, struct read_args *a)
{
    int rc;
    struct bz_seg *seg = db->seg;
    if (seg && !bz__lock_held_by_me(db->lock)) {
        if ((rc = bz__db_check_process(db)))
            return rc;
        bool retried = false;
        for (int attempt = 0; attempt < OPT_TRIES; attempt++) {
            uint64_t seq = bz__seg_read_begin(seg);
            if (seq & 1) {
                /* A write is running: give it a moment. */
                retried = true;
                for (int k = 0; k < 64 << attempt; k++)
                    __asm__ __volatile__("" ::: "memory");
                continue;
            }
            bz_opctx op;
            memset(&op, 0, sizeof(op));
            op.db = db;
            bz__opt_read = true;
            rc = fn(&op, a);
            bz__opt_read = false;
            bz__op_free_bufs(&op);
            if (bz__seg_read_valid(seg, seq) && rc == BZ_OK) {
                if (retried)
                    bz__seg_count_read(seg, true, true);
                bz__cache_flush_counts(seg);
                return BZ_OK;
            }
            discard(a);
            if (!bz__seg_read_valid(seg, seq)) {
                retried = true;
                continue;
            }
            break; /* a miss, or an error only the lock can confirm */
        }
        bz__seg_count_read(seg, false, retried);
        bz__err_clear();
    }
    bz_opctx op;
    if ((rc = bz__op_begin(&op, db)))
        return rc;
    rc = fn(&op, a);
    if (rc)
        discard(a);
    bz__op_end(&op);
    return rc;
}

static int find_by_id_fn(bz_opctx *op, struct read_args *a)
{
    const bz_tdef *d = a->t->def;
    bz_fval vals[d->nfields];
    bool found;
    int64_t rownum;
    int rc = bz__table_find(a->t, op->gen, a->id, &found, &rownum, &op->row,
                            &op->text, vals);
    if (rc || !found)
        return rc;
    bz_rows one = {0};
    bz_row *row = bz__row_build(d, vals, a->joins ? (size_t)a->joins->n : 0);
    if (!row || bz__rows_push(&one, row)) {
        bz_row_free(row);
        return bz__nomem();
    }
    rc = apply_joins(op, a->t, a->joins, &one, 0);
    if (rc)
        bz_row_free(row);
    else
        a->row = row;
    free(one.v);
    return rc;
}

static int scan_fn(bz_opctx *op, struct read_args *a)
{
    if (a->counting) {
        op->matched = 0;
        int rc = bz__scan(op, a->t, a->cc, NULL, a->first, a->max, NULL,
                          &a->next);
        a->count = op->matched;
        return rc;
    }
    return bz__scan(op, a->t, a->cc, a->joins, a->first, a->max, a->rows,
                    &a->next);
}

int bz__read_rows(bz_db *db, bz_table *t, const bz_ccond *cc,
                  const bz_joins *j, int64_t first, int64_t max, bz_rows *out,
                  int64_t *next)
{
    struct read_args a = {.t = t, .cc = cc, .joins = j, .first = first,
                          .max = max, .rows = out};
    int rc = run_read(db, scan_fn, &a);
    *next = a.next;
    return rc;
}

/* ---- the public reads --------------------------------------------- */

int bz_find_by_id(bz_db *db, const char *table, int64_t id,
                  const bz_joins *joins, bz_row **out)
{
    bz__err_clear();
    if (out)
        *out = NULL;
    if (!db || !table || !out)
        return bz__err(BZ_EINVAL, "bz_find_by_id: NULL argument");
    struct read_args a = {.id = id, .joins = joins};
    int rc;
    if ((rc = bz__table_lookup(db, table, &a.t)) ||
        (rc = bz__joins_check(db, a.t, joins)))
        return rc;
    if ((rc = run_read(db, find_by_id_fn, &a)))
        return rc;
    *out = a.row;
    return BZ_OK;
}

int bz_find_by_cond(bz_db *db, const char *table, const bz_cond *cond,
                    const bz_joins *joins, bz_rows **out)
{
    bz__err_clear();
    if (out)
        *out = NULL;
    if (!db || !table || !out)
        return bz__err(BZ_EINVAL, "bz_find: NULL argument");
    bz_table *t;
    bz_ccond *cc = NULL;
    int rc;
    if ((rc = bz__table_lookup(db, table, &t)) ||
        (rc = bz__joins_check(db, t, joins)) ||
        (rc = bz__cond_compile(cond, t->def, &cc)))
        return rc;
    bz_rows *rs = bz__rows_new();
    if (!rs) {
        bz__ccond_free(cc);
        return bz__nomem();
    }
    int64_t next;
    rc = bz__read_rows(db, t, cc, joins, 0, -1, rs, &next);
    bz__ccond_free(cc);
    if (rc) {
        bz_rows_free(rs);
        return rc;
    }
    *out = rs;
    return BZ_OK;
}

int bz_count(bz_db *db, const char *table, const bz_cond *cond,
             int64_t *count)
{
    bz__err_clear();
    if (count)
        *count = 0;
    if (!db || !table || !count)
        return bz__err(BZ_EINVAL, "bz_count: NULL argument");
    struct read_args a = {.max = -1, .counting = true};
    int rc;
    bz_ccond *cc = NULL;
    if ((rc = bz__table_lookup(db, table, &a.t)) ||
        (rc = bz__cond_compile(cond, a.t->def, &cc)))
        return rc;
    a.cc = cc;
    rc = run_read(db, scan_fn, &a);
    bz__ccond_free(cc);
    if (!rc)
        *count = a.count;
    return rc;
}

int bz_find_all(bz_db *db, const char *table, const bz_joins *joins,
                bz_rows **out)
{
    return bz_find_by_cond(db, table, NULL, joins, out);
}

/* ---- join lists ---------------------------------------------------- */

bz_joins *bz_joins_new(void)
{
    return calloc(1, sizeof(bz_joins));
}

void bz_joins_free(bz_joins *j)
{
    if (!j)
        return;
    for (int i = 0; i < j->n; i++) {
        free(j->j[i].fk);
        free(j->j[i].key);
        free(j->j[i].table);
    }
    free(j->j);
    free(j);
}

static int joins_add(bz_joins *j, bool inverse, const char *fk,
                     const char *key, const char *table)
{
    bz__err_clear();
    if (!j || !fk || !key || !table || !*key)
        return bz__err(BZ_EINVAL, "bz_joins_add: NULL or empty argument");
    if (j->n == j->cap) {
        int cap = j->cap ? j->cap * 2 : 4;
        struct bz_join1 *n = realloc(j->j, (size_t)cap * sizeof(*n));
        if (!n)
            return bz__nomem();
        j->j = n;
        j->cap = cap;
    }
    struct bz_join1 *x = &j->j[j->n];
    x->inverse = inverse;
    x->fk = strdup(fk);
    x->key = strdup(key);
    x->table = strdup(table);
    if (!x->fk || !x->key || !x->table) {
        free(x->fk);
        free(x->key);
        free(x->table);
        return bz__nomem();
    }
    j->n++;
    return BZ_OK;
}

int bz_joins_add(bz_joins *j, const char *fk, const char *key,
                 const char *table)
{
    return joins_add(j, false, fk, key, table);
}

int bz_joins_add_inverse(bz_joins *j, const char *fk, const char *key,
                         const char *table)
{
    return joins_add(j, true, fk, key, table);
}
