/*
 * export.c - `bazoola export --sql DIR [--dialect sqlite|postgres]
 * [TABLE...]`: the tables of a data directory as one SQL script (DDL, then
 * the rows as INSERTs) that `sqlite3 NEW.db < FILE` or `psql -f FILE`
 * loads: the way out when a user outgrows one machine.
 *
 * The script is one transaction, so a load that fails leaves nothing
 * behind.  Everything is read under the directory's explicit lock
 * (bz_lock): writers wait, so every table comes from the same moment.  It
 * is the lightest call that gives one snapshot of several tables; bz_begin
 * would hold the same lock and open an undo log we never use.
 *
 * Two passes, both under the lock:
 *  1. collect every exported table's ids and foreign-key values (8 bytes a
 *     value, not the rows): enough to sort by id, to find references to
 *     rows that do not exist, and to decide the DDL before printing any;
 *  2. print the DDL, then each table's rows in id order, fetched by id.
 *
 * Foreign keys, where a naive script would not load:
 *  - tables are created and filled in dependency order (referenced tables
 *    first, schema order otherwise), so an ordinary FK only ever points at
 *    rows already inserted;
 *  - a self-reference, or an FK that closes a cycle, may point at a row
 *    inserted later.  PostgreSQL: the constraint is added by ALTER TABLE
 *    after all the rows (checked then, once).  SQLite has no ALTER TABLE
 *    ADD CONSTRAINT: the constraint stays in CREATE TABLE (SQLite allows a
 *    reference to a table created later) as DEFERRABLE INITIALLY DEFERRED,
 *    so a load with PRAGMA foreign_keys=ON checks it at COMMIT;
 *  - Bazoola lets a referenced row be deleted, so real data can hold
 *    references to rows that do not exist.  They are exported unchanged,
 *    with a warning naming table, id and field.  PostgreSQL: that
 *    constraint is added after the rows with NOT VALID (enforced for new
 *    writes, existing rows not checked; VALIDATE CONSTRAINT once cleaned
 *    up).  SQLite: the script starts with PRAGMA foreign_keys=OFF (it must
 *    come before BEGIN to take effect), which SQLite's own .dump always
 *    does; the constraint is kept, and PRAGMA foreign_key_check lists the
 *    rows.  Without dangling references the pragma is left out, so a load
 *    with foreign keys on checks everything.
 *  - an FK to a table left out of a partial export (TABLE...) cannot be
 *    declared; it is left out with a comment and a note on stderr.
 */
#include "export.h"
#include "exec.h"
#include "progress.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bazoola.h>

/* Rows per INSERT statement, and the SQL text one may reach before it is
 * closed early (TEXT values can be large; SQLite refuses statements over
 * SQLITE_MAX_SQL_LENGTH, 1 GB by default, and parsing huge ones is slow). */
#define BATCH_ROWS 500
#define BATCH_BYTES (1u << 20)
/* Dangling references named one by one per field, then only counted. */
#define DANGLING_SHOWN 5

#define NO_TABLE SIZE_MAX
/* The value recorded for a NULL foreign key (Bazoola ints are 9 digits). */
#define FK_NULL INT64_MIN

enum dialect { DIALECT_SQLITE, DIALECT_POSTGRES };

struct fk {
    size_t field;      /* index into the table's fields (and row entries) */
    const char *ref;   /* the referenced table's name */
    size_t target;     /* index into exporter.tables, or NO_TABLE */
    bool late;         /* target is this table or is created after it */
    uint64_t dangling; /* rows whose value names no row of the target */
};

struct table {
    const char *name;  /* points into the db's schema */
    size_t nfields;
    bz_field_def *fields;
    struct fk *fks;
    size_t nfks;
    /* Pass 1: per row, its id then its FK values (FK_NULL for NULL):
     * stride = 1 + nfks int64s; sorted by id after the pass. */
    int64_t *recs;
    size_t nrows, cap;
    bool placed;       /* in the dependency order yet */
    size_t pos;        /* its place in that order */
};

struct exporter {
    enum dialect dialect;
    const char *dir;
    const char *out_path; /* NULL: stdout */
    char **only;          /* TABLE... arguments */
    size_t nonly;
    bz_db *db;
    FILE *out;
    struct table *tables; /* exported tables, schema order */
    size_t ntables;
    size_t *order;        /* dependency order: indexes into tables */
    uint64_t total_rows;
    bool any_dangling;
};

/* ------------------------------------------------------------------ */
/* Progress (tools/progress.h): on stderr when it is a terminal. */

/* SQL written to a terminal shares it with the progress line: the line
 * would land in the middle of the output, so there is none then. */
static void progress_begin(const struct exporter *x, struct progress *p,
                           const char *label, int64_t total)
{
    if (x->out == stdout && isatty(fileno(stdout)))
        return; /* p stays zeroed: disabled */
    progress_start(p, label, total);
}

/* ------------------------------------------------------------------ */
/* Errors. */

static void report_engine_error(const char *what, int rc)
{
    const char *msg = bz_errmsg();

    if (!*msg)
        msg = bz_strerror(rc);
    fprintf(stderr, "bazoola export: %s: %s\n", what, msg);
}

static int out_of_memory(void)
{
    fputs("bazoola export: out of memory\n", stderr);
    return BZ_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* SQL text. */

static void put_ident(FILE *out, const char *name)
{
    putc('"', out);
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            putc('"', out);
        putc(*p, out);
    }
    putc('"', out);
}

/* '...' with quotes doubled: both dialects take every other byte
 * literally, newlines and backslashes included (PostgreSQL because the
 * script turns standard_conforming_strings on). */
static size_t put_quoted(FILE *out, const char *s, size_t len)
{
    size_t written = len + 2;
    const char *p = s, *end = s + len;

    putc('\'', out);
    while (p < end) {
        const char *q = memchr(p, '\'', (size_t)(end - p));
        if (!q) {
            fwrite(p, 1, (size_t)(end - p), out);
            break;
        }
        fwrite(p, 1, (size_t)(q + 1 - p), out);
        putc('\'', out);
        written++;
        p = q + 1;
    }
    putc('\'', out);
    return written;
}

/* A string value holding exactly the bytes s[0..len); returns about how
 * many bytes it took.  Two bytes cannot go into a SQLite literal as they
 * are: the sqlite3 shell drops a CR before a line feed on every line it
 * reads (so "\r\n" in a value would load as "\n"), and a NUL (TEXT values
 * may hold one) ends the statement.  In SQLite they are spliced in with
 * char(13) and char(0), which work whatever the database's encoding.
 * PostgreSQL keeps CRs (psql reads them as they are) and cannot store a
 * NUL in text at all, which pass 1 refuses before any output. */
static size_t put_literal(FILE *out, const char *s, size_t len,
                          enum dialect d)
{
    if (d != DIALECT_SQLITE ||
        (!memchr(s, '\r', len) && !memchr(s, '\0', len)))
        return put_quoted(out, s, len);
    const char *p = s, *end = s + len;
    size_t written = 2;

    putc('(', out);
    for (;;) {
        const char *q = p;
        while (q < end && *q != '\r' && *q != '\0')
            q++;
        written += put_quoted(out, p, (size_t)(q - p));
        if (q == end)
            break;
        fprintf(out, " || char(%d) || ", *q == '\r' ? 13 : 0);
        written += 18;
        p = q + 1;
    }
    putc(')', out);
    return written;
}

/* For comments: a path may hold a newline, which would end the comment. */
static void put_comment_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        putc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

/* ------------------------------------------------------------------ */
/* The tables to export. */

static size_t table_index(const struct exporter *x, const char *name)
{
    for (size_t t = 0; t < x->ntables; t++)
        if (strcmp(x->tables[t].name, name) == 0)
            return t;
    return NO_TABLE;
}

static bool selected(const struct exporter *x, const char *name)
{
    if (x->nonly == 0)
        return true;
    for (size_t i = 0; i < x->nonly; i++)
        if (strcmp(x->only[i], name) == 0)
            return true;
    return false;
}

static int build_tables(struct exporter *x)
{
    const bz_schema *s = bz_db_schema(x->db);
    size_t n = bz_schema_ntables(s);

    for (size_t i = 0; i < x->nonly; i++) {
        size_t t;
        for (t = 0; t < n; t++)
            if (strcmp(bz_schema_table_name(s, t), x->only[i]) == 0)
                break;
        if (t == n) {
            fprintf(stderr, "bazoola export: %s has no table '%s' (tables:",
                    x->dir, x->only[i]);
            for (t = 0; t < n; t++)
                fprintf(stderr, " %s", bz_schema_table_name(s, t));
            fputs(")\n", stderr);
            return BZ_EXIT_FAIL;
        }
    }
    x->tables = calloc(n ? n : 1, sizeof *x->tables);
    x->order = calloc(n ? n : 1, sizeof *x->order);
    if (!x->tables || !x->order)
        return out_of_memory();
    for (size_t st = 0; st < n; st++) {
        const char *name = bz_schema_table_name(s, st);
        if (!selected(x, name))
            continue;
        struct table *t = &x->tables[x->ntables++];
        t->name = name;
        t->nfields = bz_schema_nfields(s, st);
        t->fields = calloc(t->nfields, sizeof *t->fields);
        t->fks = calloc(t->nfields, sizeof *t->fks);
        if (!t->fields || !t->fks)
            return out_of_memory();
        for (size_t f = 0; f < t->nfields; f++) {
            int rc = bz_schema_field(s, st, f, &t->fields[f]);
            if (rc != BZ_OK) {
                report_engine_error(name, rc);
                return BZ_EXIT_FAIL;
            }
            if (t->fields[f].kind == BZ_FK) {
                struct fk *k = &t->fks[t->nfks++];
                k->field = f;
                k->ref = t->fields[f].ref;
            }
        }
    }
    /* Targets are resolved once every exported table is in the list. */
    for (size_t t = 0; t < x->ntables; t++) {
        struct table *tb = &x->tables[t];
        for (size_t k = 0; k < tb->nfks; k++) {
            tb->fks[k].target = table_index(x, tb->fks[k].ref);
            if (tb->fks[k].target == NO_TABLE)
                fprintf(stderr,
                        "bazoola export: note: %s.%s refers to '%s', which "
                        "is not exported: its FOREIGN KEY is left out\n",
                        tb->name, tb->fields[tb->fks[k].field].name,
                        tb->fks[k].ref);
        }
    }
    return -1;
}

static void free_tables(struct exporter *x)
{
    for (size_t t = 0; t < x->ntables; t++) {
        free(x->tables[t].fields);
        free(x->tables[t].fks);
        free(x->tables[t].recs);
    }
    free(x->tables);
    free(x->order);
}

/* ------------------------------------------------------------------ */
/* Pass 1: ids and foreign-key values. */

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool has_id(const struct table *t, int64_t id)
{
    return bsearch(&id, t->recs, t->nrows, (1 + t->nfks) * sizeof(int64_t),
                   cmp_id) != NULL;
}

/* PostgreSQL text cannot hold a NUL byte; better to refuse before the
 * first line of output than to write a script that cannot load. */
static bool check_nul(const struct exporter *x, const struct table *t,
                      const bz_row *r)
{
    if (x->dialect != DIALECT_POSTGRES)
        return true;
    for (size_t f = 0; f < t->nfields; f++) {
        size_t len;
        const char *s;
        if (bz_row_type(r, f) != BZ_T_STR)
            continue;
        s = bz_row_str(r, f, &len);
        if (memchr(s, '\0', len)) {
            fprintf(stderr, "bazoola export: %s id %lld: %s holds a NUL byte, "
                            "which PostgreSQL text cannot store (the sqlite "
                            "dialect can export it)\n",
                    t->name, (long long)bz_row_id(r), t->fields[f].name);
            return false;
        }
    }
    return true;
}

static int collect_table(struct exporter *x, struct table *t)
{
    size_t stride = 1 + t->nfks;
    struct progress p = { 0 };
    char label[96];
    bz_iter *it;
    bz_row *r;
    int rc = bz_iter_open(x->db, t->name, NULL, NULL, &it);

    if (rc != BZ_OK) {
        report_engine_error(t->name, rc);
        return BZ_EXIT_FAIL;
    }
    /* The total would cost a scan of its own (bz_count): count only. */
    snprintf(label, sizeof label, "export: reading %s", t->name);
    progress_begin(x, &p, label, 0);
    while ((rc = bz_iter_next(it, &r)) == BZ_ROW) {
        progress_update(&p, (int64_t)t->nrows + 1);
        if (t->nrows == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 1024;
            int64_t *grown = realloc(t->recs, cap * stride * sizeof *grown);
            if (!grown) {
                progress_end(&p);
                bz_row_free(r);
                bz_iter_close(it);
                return out_of_memory();
            }
            t->recs = grown;
            t->cap = cap;
        }
        int64_t *rec = t->recs + t->nrows++ * stride;
        rec[0] = bz_row_id(r);
        for (size_t k = 0; k < t->nfks; k++) {
            size_t f = t->fks[k].field;
            rec[1 + k] = bz_row_type(r, f) == BZ_T_INT ? bz_row_int(r, f)
                                                        : FK_NULL;
        }
        bool ok = check_nul(x, t, r);
        bz_row_free(r);
        if (!ok) {
            progress_end(&p);
            bz_iter_close(it);
            return BZ_EXIT_FAIL;
        }
    }
    progress_end(&p);
    bz_iter_close(it);
    if (rc != BZ_DONE) {
        report_engine_error(t->name, rc);
        return BZ_EXIT_FAIL;
    }
    if (t->nrows)  /* recs is NULL for an empty table */
        qsort(t->recs, t->nrows, stride * sizeof(int64_t), cmp_id);
    x->total_rows += t->nrows;
    return -1;
}

/* After every table is collected: references to rows that do not exist. */
static void find_dangling(struct exporter *x)
{
    for (size_t ti = 0; ti < x->ntables; ti++) {
        struct table *t = &x->tables[ti];
        size_t stride = 1 + t->nfks;
        for (size_t k = 0; k < t->nfks; k++) {
            struct fk *fk = &t->fks[k];
            const char *field = t->fields[fk->field].name;
            if (fk->target == NO_TABLE)
                continue;
            for (size_t i = 0; i < t->nrows; i++) {
                int64_t v = t->recs[i * stride + 1 + k];
                if (v == FK_NULL || has_id(&x->tables[fk->target], v))
                    continue;
                if (fk->dangling++ < DANGLING_SHOWN)
                    fprintf(stderr, "bazoola export: warning: %s id %lld: "
                                    "%s = %lld refers to no row of '%s' "
                                    "(exported as is)\n",
                            t->name, (long long)t->recs[i * stride], field,
                            (long long)v, fk->ref);
            }
            if (fk->dangling > DANGLING_SHOWN)
                fprintf(stderr, "bazoola export: warning: %s.%s: %llu more "
                                "references to missing rows of '%s'\n",
                        t->name, field,
                        (unsigned long long)(fk->dangling - DANGLING_SHOWN),
                        fk->ref);
            if (fk->dangling)
                x->any_dangling = true;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Dependency order. */

/* The first table t waits for: an exported target, not t, not placed. */
static size_t waits_for(const struct exporter *x, size_t t)
{
    const struct table *tb = &x->tables[t];
    for (size_t k = 0; k < tb->nfks; k++) {
        size_t u = tb->fks[k].target;
        if (u != NO_TABLE && u != t && !x->tables[u].placed)
            return u;
    }
    return NO_TABLE;
}

/* Called when every unplaced table waits for another: following "waits
 * for" from any of them must come round, and after ntables steps the walk
 * is on a cycle.  Of that cycle, the table first in the schema goes first,
 * so the order depends on the schema only.  Picking any stuck table would
 * also load, but one that merely depends on a cycle would get late
 * constraints it does not need. */
static size_t cycle_member(const struct exporter *x)
{
    size_t t = 0;
    while (x->tables[t].placed)
        t++;
    for (size_t i = 0; i < x->ntables; i++)
        t = waits_for(x, t);
    size_t best = t;
    for (size_t u = waits_for(x, t); u != t; u = waits_for(x, u))
        if (u < best)
            best = u;
    return best;
}

static void order_tables(struct exporter *x)
{
    for (size_t n = 0; n < x->ntables; n++) {
        size_t pick = NO_TABLE;
        for (size_t t = 0; t < x->ntables && pick == NO_TABLE; t++)
            if (!x->tables[t].placed && waits_for(x, t) == NO_TABLE)
                pick = t;
        if (pick == NO_TABLE)
            pick = cycle_member(x);
        x->tables[pick].placed = true;
        x->tables[pick].pos = n;
        x->order[n] = pick;
    }
    for (size_t t = 0; t < x->ntables; t++) {
        struct table *tb = &x->tables[t];
        for (size_t k = 0; k < tb->nfks; k++) {
            size_t u = tb->fks[k].target;
            tb->fks[k].late = u != NO_TABLE &&
                              x->tables[u].pos >= tb->pos;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Pass 2: the script. */

/* PostgreSQL: only constraints that can be checked row by row while
 * loading are declared inline; the others come after the rows. */
static bool pg_after_rows(const struct fk *fk)
{
    return fk->late || fk->dangling;
}

static void put_fk(FILE *out, const struct table *t, const struct fk *fk)
{
    fputs("FOREIGN KEY (", out);
    put_ident(out, t->fields[fk->field].name);
    fputs(") REFERENCES ", out);
    put_ident(out, fk->ref);
    fputs(" (\"id\")", out);
}

static void put_create(const struct exporter *x, const struct table *t)
{
    FILE *out = x->out;
    bool pg = x->dialect == DIALECT_POSTGRES;

    for (size_t k = 0; k < t->nfks; k++)
        if (t->fks[k].target == NO_TABLE)
            fprintf(out, "-- %s.%s refers to table %s, not in this export: "
                         "no FOREIGN KEY declared\n",
                    t->name, t->fields[t->fks[k].field].name, t->fks[k].ref);
    fputs("CREATE TABLE ", out);
    put_ident(out, t->name);
    fputs(" (", out);
    for (size_t f = 0; f < t->nfields; f++) {
        const bz_field_def *d = &t->fields[f];
        fputs(f ? ",\n    " : "\n    ", out);
        put_ident(out, d->name);
        switch (d->kind) {
        case BZ_PK:
            /* SQLite: INTEGER PRIMARY KEY is the rowid, so new rows get
             * max(id)+1.  PostgreSQL: an identity column, restarted past
             * the largest id after the load, does the same. */
            fputs(pg ? " INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                     : " INTEGER PRIMARY KEY", out);
            continue;
        case BZ_INT:
            /* PostgreSQL's INTEGER is 32 bits: INT(10) and wider need
             * BIGINT (SQLite gives either 64-bit integer affinity). */
            fputs(d->size > 9 ? " BIGINT" : " INTEGER", out);
            break;
        case BZ_FK:
            fputs(" INTEGER", out);
            break;
        case BZ_CHAR:
            /* Bazoola counts bytes, PostgreSQL characters: never more
             * characters than bytes, so every value fits. */
            fprintf(out, " VARCHAR(%d)", d->size);
            break;
        case BZ_TEXT:
            fputs(" TEXT", out);
            break;
        }
        if (!d->nullable)
            fputs(" NOT NULL", out);
    }
    for (size_t k = 0; k < t->nfks; k++) {
        const struct fk *fk = &t->fks[k];
        if (fk->target == NO_TABLE || (pg && pg_after_rows(fk)))
            continue;
        fputs(",\n    ", out);
        put_fk(out, t, fk);
        if (!pg && fk->late)
            fputs(" DEFERRABLE INITIALLY DEFERRED", out);
    }
    fputs("\n);\n", out);
}

static void put_column_list(FILE *out, const struct table *t)
{
    putc('(', out);
    for (size_t f = 0; f < t->nfields; f++) {
        if (f)
            fputs(", ", out);
        put_ident(out, t->fields[f].name);
    }
    putc(')', out);
}

static int put_rows(struct exporter *x, const struct table *t,
                    struct progress *p, int64_t *done)
{
    FILE *out = x->out;
    size_t stride = 1 + t->nfks;
    size_t in_batch = 0, batch_bytes = 0;

    for (size_t i = 0; i < t->nrows; i++) {
        int64_t id = t->recs[i * stride];
        bz_row *r;
        int rc = bz_find_by_id(x->db, t->name, id, NULL, &r);
        if (rc != BZ_OK) {
            report_engine_error(t->name, rc);
            return BZ_EXIT_FAIL;
        }
        if (!r) {
            /* Cannot happen under the lock; say so rather than skip. */
            fprintf(stderr, "bazoola export: %s id %lld vanished while "
                            "exporting\n", t->name, (long long)id);
            return BZ_EXIT_FAIL;
        }
        if (in_batch == 0) {
            fputs("INSERT INTO ", out);
            put_ident(out, t->name);
            putc(' ', out);
            put_column_list(out, t);
            fputs(" VALUES\n(", out);
        } else {
            fputs(",\n(", out);
        }
        for (size_t f = 0; f < t->nfields; f++) {
            if (f)
                fputs(", ", out);
            switch (bz_row_type(r, f)) {
            case BZ_T_INT:
                batch_bytes += (size_t)fprintf(out, "%lld",
                                               (long long)bz_row_int(r, f));
                break;
            case BZ_T_STR: {
                size_t len;
                const char *s = bz_row_str(r, f, &len);
                batch_bytes += put_literal(out, s, len, x->dialect);
                break;
            }
            default:
                fputs("NULL", out);
                batch_bytes += 4;
                break;
            }
        }
        putc(')', out);
        bz_row_free(r);
        if (++in_batch == BATCH_ROWS || batch_bytes >= BATCH_BYTES ||
            i + 1 == t->nrows) {
            fputs(";\n", out);
            in_batch = 0;
            batch_bytes = 0;
        }
        progress_update(p, ++*done);
        if (ferror(out))
            return BZ_EXIT_FAIL; /* reported by finish_output */
    }
    return -1;
}

static void put_header(const struct exporter *x)
{
    FILE *out = x->out;
    bool pg = x->dialect == DIALECT_POSTGRES;

    fprintf(out, "-- Bazoola %s export of ", bz_version());
    put_comment_text(out, x->dir);
    fprintf(out, "\n-- %zu table%s, %llu row%s, read as one snapshot.\n",
            x->ntables, x->ntables == 1 ? "" : "s",
            (unsigned long long)x->total_rows, x->total_rows == 1 ? "" : "s");
    if (pg) {
        fputs("-- Load: psql -v ON_ERROR_STOP=1 -d DB -f FILE\n"
              "SET client_encoding = 'UTF8';\n"
              "SET standard_conforming_strings = on;\n", out);
    } else {
        fputs("-- Load: sqlite3 NEW.db < FILE\n", out);
        if (x->any_dangling)
            fputs("-- Some foreign keys name rows that do not exist (the\n"
                  "-- data had them): foreign key checks are off for this\n"
                  "-- load.  PRAGMA foreign_key_check lists those rows.\n"
                  "PRAGMA foreign_keys=OFF;\n", out);
    }
    fputs("BEGIN;\n", out);
}

static void put_footer(const struct exporter *x)
{
    FILE *out = x->out;

    if (x->dialect == DIALECT_POSTGRES) {
        for (size_t n = 0; n < x->ntables; n++) {
            const struct table *t = &x->tables[x->order[n]];
            for (size_t k = 0; k < t->nfks; k++) {
                const struct fk *fk = &t->fks[k];
                if (fk->target == NO_TABLE || !pg_after_rows(fk))
                    continue;
                fputs("ALTER TABLE ", out);
                put_ident(out, t->name);
                fputs(" ADD ", out);
                put_fk(out, t, fk);
                if (fk->dangling)
                    fprintf(out, " NOT VALID; -- %llu row%s name%s a missing "
                                 "row\n",
                            (unsigned long long)fk->dangling,
                            fk->dangling == 1 ? "" : "s",
                            fk->dangling == 1 ? "s" : "");
                else
                    fputs(";\n", out);
            }
        }
        for (size_t n = 0; n < x->ntables; n++) {
            const struct table *t = &x->tables[x->order[n]];
            int64_t max = t->nrows ? t->recs[(t->nrows - 1) * (1 + t->nfks)]
                                   : 0;
            /* The identity starts at 1; ids below that need no restart
             * (and one there would be refused). */
            if (max < 1)
                continue;
            fputs("ALTER TABLE ", out);
            put_ident(out, t->name);
            fprintf(out, " ALTER COLUMN \"id\" RESTART WITH %lld;\n",
                    (long long)max + 1);
        }
    }
    fputs("COMMIT;\n", out);
}

static int write_script(struct exporter *x)
{
    struct progress p = { 0 };
    int64_t done = 0;
    int status = -1;

    put_header(x);
    for (size_t n = 0; n < x->ntables; n++)
        put_create(x, &x->tables[x->order[n]]);
    progress_begin(x, &p, "export: writing rows", (int64_t)x->total_rows);
    for (size_t n = 0; n < x->ntables && status < 0; n++)
        status = put_rows(x, &x->tables[x->order[n]], &p, &done);
    progress_end(&p);
    if (status >= 0)
        return status;
    put_footer(x);
    return -1;
}

/* ------------------------------------------------------------------ */
/* The command line. */

void export_usage(FILE *out)
{
    fputs(
"Usage: bazoola export --sql DIR [--dialect sqlite|postgres] [-o FILE]\n"
"                      [TABLE...]\n"
"\n"
"Write the tables of the data directory DIR (all, or the TABLEs named) as\n"
"one SQL script: a transaction with a CREATE TABLE per table, then the rows\n"
"as INSERTs, in id order, that load into a new database:\n"
"  sqlite3 NEW.db < FILE\n"
"  psql -v ON_ERROR_STOP=1 -d DB -f FILE\n"
"DIR is opened with the schema recorded in it.  The whole export is read\n"
"under DIR's lock, so the tables come from one moment; other processes'\n"
"writes wait until it ends.\n"
"\n"
"Options:\n"
"      --sql            SQL output (the only format, and the default)\n"
"  -d, --dialect NAME   sqlite (default) or postgres\n"
"  -o, --output FILE    write to FILE instead of standard output (removed\n"
"                       again if the export fails)\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Types: PK -> INTEGER PRIMARY KEY (postgres: an identity column restarted\n"
"past the largest id); INT and FK(t) -> INTEGER; CHAR(n) -> VARCHAR(n);\n"
"TEXT -> TEXT; fields without NULL -> NOT NULL; FK(t) -> FOREIGN KEY\n"
"REFERENCES t(id).  Tables come in dependency order.  A foreign key to the\n"
"same table or closing a cycle is added after the rows (postgres) or\n"
"declared DEFERRABLE INITIALLY DEFERRED (sqlite).  References to rows that\n"
"do not exist are exported as they are, with a warning on standard error;\n"
"their constraint is added NOT VALID (postgres), or the script turns\n"
"foreign key checks off for the load (sqlite).  A foreign key to a table\n"
"not exported is left out.\n"
"\n"
"Exit status: 0 when the script is written (warnings or not), 1 when DIR\n"
"cannot be opened, a TABLE does not exist, a value cannot be expressed in\n"
"the dialect, or reading or writing fails, 2 on a usage error.\n", out);
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(struct exporter *x, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "sql", no_argument, NULL, 'S' },
        { "dialect", required_argument, NULL, 'd' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola export", export_usage, "d:o:", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cli.status;
        case 'd':
            if (strcmp(optarg, "sqlite") == 0 ||
                strcmp(optarg, "sqlite3") == 0) {
                x->dialect = DIALECT_SQLITE;
            } else if (strcmp(optarg, "postgres") == 0 ||
                       strcmp(optarg, "postgresql") == 0) {
                x->dialect = DIALECT_POSTGRES;
            } else {
                return cli_usage_error(&cli, optarg, "unknown dialect "
                                       "(sqlite or postgres)");
            }
            break;
        case 'o':
            x->out_path = optarg;
            break;
        default: /* 'S': SQL is the only output */
            break;
        }
    }
    if ((c = cli_operands(&cli, argc, argv, 1, -1, "DIR [TABLE...]")))
        return c;
    x->dir = argv[optind++];
    x->only = argv + optind;
    x->nonly = (size_t)(argc - optind);
    return -1;
}

/* Without create, a mistyped DIR fails instead of appearing empty. */
static int open_dir(struct exporter *x)
{
    bz_options *opts = bz_options_new();
    int rc = opts ? bz_options_set_create(opts, 0) : BZ_ENOMEM;

    if (rc == BZ_OK)
        rc = bz_open_recorded(x->dir, opts, &x->db);
    if (rc != BZ_OK)
        report_engine_error(x->dir, rc);
    bz_options_free(opts);
    return rc == BZ_OK ? -1 : BZ_EXIT_FAIL;
}

static int open_output(struct exporter *x)
{
    if (!x->out_path) {
        x->out = stdout;
    } else if (!(x->out = fopen(x->out_path, "w"))) {
        fprintf(stderr, "bazoola export: %s: %s\n", x->out_path,
                strerror(errno));
        return BZ_EXIT_FAIL;
    }
    /* Rows are written a few bytes at a time. */
    setvbuf(x->out, NULL, _IOFBF, 1 << 16);
    return -1;
}

/* Flush and close; status is the export's so far.  A script cut short
 * must not stay behind looking like an export. */
static int finish_output(struct exporter *x, int status)
{
    const char *name = x->out_path ? x->out_path : "standard output";
    bool failed = ferror(x->out) != 0;
    int err = errno;

    if (fflush(x->out) != 0 && !failed) {
        failed = true;
        err = errno;
    }
    if (x->out_path && fclose(x->out) != 0 && !failed) {
        failed = true;
        err = errno;
    }
    if (failed) {
        fprintf(stderr, "bazoola export: writing %s: %s\n", name,
                strerror(err));
        status = BZ_EXIT_FAIL;
    }
    if (status != BZ_EXIT_OK && x->out_path)
        unlink(x->out_path);
    return status;
}

int export_main(int argc, char **argv)
{
    struct exporter x = { 0 };
    int status = parse_args(&x, argc, argv);
    int rc;

    if (status >= 0)
        return status;
    if ((status = open_dir(&x)) >= 0)
        return status;
    if ((status = build_tables(&x)) >= 0)
        goto fail_close;
    if ((status = open_output(&x)) >= 0)
        goto fail_close;
    if ((rc = bz_lock(x.db)) != BZ_OK) {
        report_engine_error(x.dir, rc);
        status = BZ_EXIT_FAIL;
        goto fail_output;
    }
    for (size_t t = 0; t < x.ntables && status < 0; t++)
        status = collect_table(&x, &x.tables[t]);
    if (status < 0) {
        find_dangling(&x);
        order_tables(&x);
        status = write_script(&x);
    }
    bz_unlock(x.db);
    if (status < 0)
        status = BZ_EXIT_OK;
fail_output:
    status = finish_output(&x, status);
fail_close:
    free_tables(&x);
    bz_close(x.db);
    return status;
}
