/*
 * fuzz_open - a table directory whose files hold arbitrary bytes.
 *
 * Input: byte 0 (mode flags), byte 1 (which table), then parts separated
 * by FUZZ_SEP: schema text, T.dat, T__seqnum.dat, T__id.idx.dat,
 * T__free.dat, T.text.dat, where T is table byte1 % ntables of the schema
 * (the other tables' files are created empty).  A part left out means the
 * file is absent.  Then: open (flock mode; shared with a tiny cache when
 * flags % 8 == 0), find_all,
 * find_by_id, a scan with a condition and joins, count, insert, update,
 * delete, an iterator, truncate (flag bit 4), close, and bz_check_dir
 * (with --repair when flag bit 3 is set) followed by a re-open.  Property: never a crash, leak, UB
 * or hang; every failure is an error code with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>
#include "fuzz_common.h"

static const char *const SUFFIX[5] = {
    ".dat", "__seqnum.dat", "__id.idx.dat", "__free.dat", ".text.dat",
};

static void expect(int rc)
{
    /* Every refusal carries a message; BZ_ROW/BZ_DONE are not errors. */
    if (rc != BZ_OK && rc != BZ_ROW && rc != BZ_DONE && !*bz_errmsg())
        abort();
    if (rc < 0 || (rc > BZ_ELOCKED && rc != BZ_ROW && rc != BZ_DONE))
        abort();
}

static void fill_values(const bz_schema *s, size_t t, bz_values *v, int k)
{
    for (size_t f = 0; f < bz_schema_nfields(s, t); f++) {
        bz_field_def d;
        bz_schema_field(s, t, f, &d);
        switch (d.kind) {
        case BZ_PK:
            break;
        case BZ_INT:
            bz_values_set_int(v, d.name, k * 7);
            break;
        case BZ_CHAR:
            bz_values_set_str(v, d.name, k ? "\xc3\xa9" : "a");
            break;
        case BZ_TEXT:
            bz_values_set_str(v, d.name, "some text");
            break;
        case BZ_FK:
            if (d.nullable)
                bz_values_set_null(v, d.name);
            else
                bz_values_set_int(v, d.name, 1);
            break;
        }
    }
}

static void ops(bz_db *db, const bz_schema *s, size_t ti, unsigned flags)
{
    bz_rows *rows = NULL;
    bz_row *row = NULL;
    int64_t n;

    /* Joins over every FK of T (to whatever table it names). */
    const char *T = bz_schema_table_name(s, ti);
    bz_joins *j = bz_joins_new();
    const char *fk = NULL;
    for (size_t f = 0; f < bz_schema_nfields(s, ti); f++) {
        bz_field_def d;
        bz_schema_field(s, ti, f, &d);
        if (d.kind == BZ_FK) {
            bz_joins_add(j, d.name, "joined", d.ref);
            fk = d.name;
        }
    }
    if (fk && bz_schema_ntables(s) > 0)
        bz_joins_add_inverse(j, fk, "inv", T);

    expect(bz_find_all(db, T, j, &rows));
    if (rows)
        bz_rows_free(rows);
    rows = NULL;
    for (int64_t id = 1; id <= 3; id++) {
        expect(bz_find_by_id(db, T, id, j, &row));
        if (row)
            bz_row_free(row);
        row = NULL;
    }
    expect(bz_find_by_id(db, T, (int64_t)(flags >> 5) * 1000 + 7, NULL, &row));
    if (row)
        bz_row_free(row);
    row = NULL;

    /* id >= 2 OR NOT (str(id) contains "1"): every row's id decoded. */
    bz_cond *c1 = bz_cond_new(BZ_GE);
    bz_cond_add_int(c1, "id", 2);
    bz_cond *c2 = bz_cond_new(BZ_SUBSTR);
    bz_cond_add_str(c2, "id", "1");
    bz_cond *c = bz_cond_or(c1, bz_cond_not(c2));
    expect(bz_find_by_cond(db, T, c, j, &rows));
    if (rows)
        bz_rows_free(rows);
    rows = NULL;
    expect(bz_count(db, T, c, &n));
    expect(bz_count(db, T, NULL, &n));

    bz_values *v = bz_values_new();
    fill_values(s, ti, v, 0);
    expect(bz_insert(db, T, v, &row));
    if (row)
        bz_row_free(row);
    row = NULL;
    bz_values_clear(v);
    fill_values(s, ti, v, 1);
    expect(bz_update_by_id(db, T, 2, v, &row));
    if (row)
        bz_row_free(row);
    row = NULL;
    bz_values_set_int(v, "id", 5);
    expect(bz_insert(db, T, v, NULL));
    expect(bz_delete_by_id(db, T, 1));
    expect(bz_delete_by_id(db, T, 5));
    bz_values_free(v);

    bz_iter *it = NULL;
    expect(bz_iter_open(db, T, c, j, &it));
    if (it) {
        int rc, k = 0;
        while ((rc = bz_iter_next(it, &row)) == BZ_ROW && k++ < 1000) {
            bz_row_free(row);
            row = NULL;
        }
        expect(rc);
        bz_iter_close(it);
    }
    bz_cond_free(c);
    bz_joins_free(j);
    if (flags & 0x10)
        expect(bz_truncate(db, T, 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0];
    const char *part[6];
    size_t len[6];
    size_t np = fuzz_split((const char *)data + 2, size - 2, part, len, 6);
    bz_schema *schema;
    if (bz_schema_parse(part[0], len[0], &schema) != BZ_OK)
        return 0;
    /* Small rows and few tables: bigger ones are slower, not different. */
    int ok = bz_schema_ntables(schema) <= 16;
    for (size_t t = 0; ok && t < bz_schema_ntables(schema); t++)
        for (size_t f = 0; f < bz_schema_nfields(schema, t); f++) {
            bz_field_def d;
            bz_schema_field(schema, t, f, &d);
            if (d.kind == BZ_CHAR && d.size > 256)
                ok = 0;
        }
    if (!ok || bz_schema_ntables(schema) == 0) {
        bz_schema_free(schema);
        return 0;
    }
    size_t ti = data[1] % bz_schema_ntables(schema);
    const char *T = bz_schema_table_name(schema, ti);
    const char *dir = fuzz_dir("open");
    fuzz_empty_dir(dir, NULL);
    for (size_t i = 1; i < np; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", T, SUFFIX[i - 1]);
        fuzz_write_file(dir, name, part[i], len[i]);
    }

    bz_options *o = bz_options_new();
    int shared = (flags & 7) == 0;
    bz_options_set_lock_mode(o, shared ? BZ_LOCK_SHARED : BZ_LOCK_FLOCK);
    if (shared)
        bz_options_set_cache_mb(o, 1);
    bz_db *db;
    int rc = bz_open(dir, schema, o, &db);
    expect(rc);
    if (rc == BZ_OK) {
        ops(db, schema, ti, flags);
        bz_check_summary sum;
        expect(bz_check(db, 0, NULL, &sum));
        bz_close(db);
    }
    bz_check_summary sum;
    expect(bz_check_dir(dir, schema, o, (flags & 8) ? BZ_CHECK_REPAIR : 0,
                        NULL, &sum));
    if ((flags & 8) && bz_open(dir, schema, o, &db) == BZ_OK) {
        bz_rows *rows;
        expect(bz_find_all(db, T, NULL, &rows));
        if (rows)
            bz_rows_free(rows);
        bz_close(db);
    }
    bz_options_free(o);
    bz_schema_free(schema);
    return 0;
}
