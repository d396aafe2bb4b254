/*
 * bazoola_engine.c - the bench's engine interface over libbazoola.
 *
 * The shared handle is one bz_db per process: threads of a process share
 * it (the library's handle is thread-safe; its threads queue on the
 * handle's mutex before the directory's lock), and each forked process
 * opens its own after fork().  A conn is a worker's reusable arguments
 * (values, the join list, the scan condition), made once, as SQLite's
 * prepared statements are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>

#include "bench.h"

static const char schema_text[] =
    "parents: id PK, name CHAR(20)\n"
    "items: id PK, title CHAR(40), parent_id FK(parents), qty INT\n";

struct bzc {
    bz_db *db;
    bz_values *v;
    bz_joins *joins;    /* items -> parent                        */
    bz_cond *scan;      /* ISUBSTR title scan_needle              */
    char scan_needle[64];
};

static int fail(char *err, const char *what)
{
    snprintf(err, BENCH_ERRLEN, "bazoola: %s: %s", what, bz_errmsg());
    return -1;
}

static int open_db(const struct bench_target *t, const char *dir, bz_db **db,
                   char *err)
{
    bz_schema *s = NULL;
    if (bz_schema_parse(schema_text, sizeof schema_text - 1, &s))
        return fail(err, "schema");
    bz_options *o = bz_options_new();
    if (!o) {
        bz_schema_free(s);
        snprintf(err, BENCH_ERRLEN, "bazoola: out of memory");
        return -1;
    }
    bz_options_set_lock_mode(o, (bz_lock_mode)t->setting);
    int rc = bz_open(dir, s, o, db);
    bz_options_free(o);
    bz_schema_free(s);
    if (rc) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "open %s", dir);
        return fail(err, what);
    }
    return 0;
}

/* Insert the data set's items (under the caller's lock). */
static int load_items(bz_db *db, bz_values *v, char *err)
{
    for (int64_t id = 1; id <= bench_items; id++) {
        const struct bench_item *it = bench_item(id);
        bz_values_clear(v);
        if (bz_values_set_str(v, "title", it->title) ||
            bz_values_set_int(v, "parent_id", it->parent_id) ||
            bz_values_set_int(v, "qty", it->qty) ||
            bz_insert(db, "items", v, NULL))
            return fail(err, "load items");
    }
    return 0;
}

static int bzc_load(const struct bench_target *t, const char *dir, char *err)
{
    bz_db *db = NULL;
    if (open_db(t, dir, &db, err))
        return -1;
    bz_values *v = bz_values_new();
    int rc = v ? 0 : -1;
    if (!v)
        snprintf(err, BENCH_ERRLEN, "bazoola: out of memory");
    /* One lock hold for the whole load: nobody else is waiting. */
    if (!rc && bz_lock(db))
        rc = fail(err, "lock");
    for (int64_t id = 1; !rc && id <= BENCH_PARENTS; id++) {
        bz_values_clear(v);
        if (bz_values_set_str(v, "name", bench_parent_name(id)) ||
            bz_insert(db, "parents", v, NULL))
            rc = fail(err, "load parents");
    }
    if (!rc)
        rc = load_items(db, v, err);
    if (bz_unlock(db) && !rc)
        rc = fail(err, "unlock");
    bz_values_free(v);
    bz_close(db);
    return rc;
}

static int bzc_share(const struct bench_target *t, const char *dir,
                     void **shared, char *err)
{
    bz_db *db = NULL;
    if (open_db(t, dir, &db, err))
        return -1;
    *shared = db;
    return 0;
}

static void bzc_unshare(void *shared)
{
    bz_close(shared);
}

static void bzc_close(void *conn)
{
    struct bzc *c = conn;
    if (!c)
        return;
    bz_values_free(c->v);
    bz_joins_free(c->joins);
    bz_cond_free(c->scan);
    free(c);
}

static int bzc_open(const struct bench_target *t, const char *dir,
                    void *shared, void **conn, char *err)
{
    (void)t;
    (void)dir;
    struct bzc *c = calloc(1, sizeof *c);
    if (!c || !(c->v = bz_values_new()) || !(c->joins = bz_joins_new())) {
        bzc_close(c);
        snprintf(err, BENCH_ERRLEN, "bazoola: out of memory");
        return -1;
    }
    if (bz_joins_add(c->joins, "parent_id", "parent", "parents")) {
        bzc_close(c);
        return fail(err, "join");
    }
    c->db = shared;
    *conn = c;
    return 0;
}

static void copy_str(char *buf, size_t size, const char *s, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
}

/* Copy the fields of an items row (and its joined parent) out. */
static int copy_item(const bz_row *row, int join, struct bench_item *out,
                     char *err)
{
    const char *s;
    size_t len;
    memset(out, 0, sizeof *out);
    out->id = bz_row_id(row);
    if (bz_row_get_str(row, "title", &s, &len) ||
        bz_row_get_int(row, "parent_id", &out->parent_id) ||
        bz_row_get_int(row, "qty", &out->qty)) {
        snprintf(err, BENCH_ERRLEN, "bazoola: item %" PRId64 ": a field is "
                 "missing or NULL", out->id);
        return -1;
    }
    copy_str(out->title, sizeof out->title, s, len);
    if (join) {
        int i = bz_row_find(row, "parent");
        const bz_row *p = i >= 0 && bz_row_type(row, (size_t)i) == BZ_T_ROW
                              ? bz_row_row(row, (size_t)i) : NULL;
        if (p && bz_row_get_str(p, "name", &s, &len) == BZ_OK) {
            out->has_parent = 1;
            copy_str(out->parent_name, sizeof out->parent_name, s, len);
        }
    }
    return 0;
}

static int bzc_read(void *conn, int64_t id, int join, struct bench_item *out,
                    int *found, char *err)
{
    struct bzc *c = conn;
    bz_row *row = NULL;
    if (bz_find_by_id(c->db, "items", id, join ? c->joins : NULL, &row))
        return fail(err, "find_by_id");
    *found = row != NULL;
    int rc = row ? copy_item(row, join, out, err) : 0;
    bz_row_free(row);
    return rc;
}

static int bzc_insert(void *conn, const struct bench_item *it, int64_t *id,
                      char *err)
{
    struct bzc *c = conn;
    bz_values_clear(c->v);
    if ((it->id && bz_values_set_int(c->v, "id", it->id)) ||
        bz_values_set_str(c->v, "title", it->title) ||
        bz_values_set_int(c->v, "parent_id", it->parent_id) ||
        bz_values_set_int(c->v, "qty", it->qty))
        return fail(err, "values");
    bz_row *row = NULL;
    if (bz_insert(c->db, "items", c->v, &row))
        return fail(err, "insert");
    *id = bz_row_id(row);
    bz_row_free(row);
    return 0;
}

static int bzc_update_qty(void *conn, int64_t id, int64_t qty, int *found,
                          char *err)
{
    struct bzc *c = conn;
    bz_values_clear(c->v);
    if (bz_values_set_int(c->v, "qty", qty))
        return fail(err, "values");
    int rc = bz_update_by_id(c->db, "items", id, c->v, NULL);
    *found = rc != BZ_ENOTFOUND;
    return rc && rc != BZ_ENOTFOUND ? fail(err, "update_by_id") : 0;
}

static int bzc_lock_cycle(void *conn, char *err)
{
    struct bzc *c = conn;
    if (bz_lock(c->db) || bz_unlock(c->db))
        return fail(err, "lock");
    return 0;
}

static int bzc_delete(void *conn, int64_t id, int *found, char *err)
{
    struct bzc *c = conn;
    int rc = bz_delete_by_id(c->db, "items", id);
    *found = rc != BZ_ENOTFOUND;
    return rc && rc != BZ_ENOTFOUND ? fail(err, "delete_by_id") : 0;
}

static int bzc_scan(void *conn, const char *needle, long *matches,
                    int64_t *idsum, char *err)
{
    struct bzc *c = conn;
    if (!c->scan || strcmp(c->scan_needle, needle) != 0) {
        bz_cond_free(c->scan);
        snprintf(c->scan_needle, sizeof c->scan_needle, "%s", needle);
        c->scan = bz_cond_new(BZ_ISUBSTR);
        if (!c->scan || bz_cond_add_str(c->scan, "title", needle))
            return fail(err, "condition");
    }
    bz_rows *rs = NULL;
    if (bz_find_by_cond(c->db, "items", c->scan, NULL, &rs))
        return fail(err, "find_by_cond");
    size_t n = bz_rows_len(rs);
    *idsum = 0;
    for (size_t i = 0; i < n; i++)
        *idsum += bz_row_id(bz_rows_at(rs, i));
    bz_rows_free(rs);
    *matches = (long)n;
    return 0;
}

static int bzc_restore(void *conn, char *err)
{
    struct bzc *c = conn;
    if (bz_lock(c->db))
        return fail(err, "lock");
    int rc = 0;
    if (bz_truncate(c->db, "items", 0))
        rc = fail(err, "truncate items");
    else
        rc = load_items(c->db, c->v, err);
    if (bz_unlock(c->db) && !rc)
        rc = fail(err, "unlock");
    return rc;
}

static void bzc_teardown(const char *dir)
{
    /* The segment outlives its processes; a bench leaves none behind. */
    bz_shm_remove(dir);
}

const struct bench_engine bench_bazoola = {
    .load = bzc_load,
    .share = bzc_share,
    .unshare = bzc_unshare,
    .open = bzc_open,
    .close = bzc_close,
    .read = bzc_read,
    .insert = bzc_insert,
    .update_qty = bzc_update_qty,
    .lock_wait_ns = bz_lock_wait_ns,
    .lock_cycle = bzc_lock_cycle,
    .delete = bzc_delete,
    .scan = bzc_scan,
    .restore = bzc_restore,
    .teardown = bzc_teardown,
};
