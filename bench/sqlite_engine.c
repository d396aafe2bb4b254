/*
 * sqlite_engine.c - the bench's engine interface over SQLite.
 *
 * The same data and the same work as on Bazoola: the tables
 *   parents(id INTEGER PRIMARY KEY, name TEXT)
 *   items(id INTEGER PRIMARY KEY, title TEXT,
 *         parent_id INTEGER REFERENCES parents(id), qty INTEGER)
 * with foreign keys enforced (Bazoola checks them too), in WAL mode, every
 * statement prepared once per connection, busy_timeout 5000 ms.  Each
 * worker has a connection of its own (threads too), opened after fork() in
 * processes.  The mode is PRAGMA synchronous: "off" or "normal" (in WAL
 * mode NORMAL syncs at checkpoints only).  Each statement is its own
 * transaction (autocommit), as each Bazoola call is.
 *
 * The scan is `title LIKE '%zebra%'`: SQLite's LIKE folds ASCII case only,
 * while Bazoola's ISUBSTR folds all of Unicode (more work per row).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench.h"

#define DB_FILE "bench.db"

enum {
    ST_READ, ST_READ_JOIN, ST_INSERT, ST_UPDATE, ST_DELETE, ST_SCAN, NSTMT
};

static const char *const sql[NSTMT] = {
    [ST_READ] = "SELECT id, title, parent_id, qty FROM items WHERE id = ?1",
    [ST_READ_JOIN] = "SELECT i.id, i.title, i.parent_id, i.qty, p.name "
                     "FROM items i LEFT JOIN parents p ON p.id = i.parent_id "
                     "WHERE i.id = ?1",
    [ST_INSERT] = "INSERT INTO items (id, title, parent_id, qty) "
                  "VALUES (?1, ?2, ?3, ?4)",
    [ST_UPDATE] = "UPDATE items SET qty = ?2 WHERE id = ?1",
    [ST_DELETE] = "DELETE FROM items WHERE id = ?1",
    [ST_SCAN] = "SELECT id, title FROM items WHERE title LIKE ?1",
};

struct sqc {
    sqlite3 *db;
    sqlite3_stmt *st[NSTMT];
    char pattern[72]; /* the scan's bound pattern, '%needle%' */
};

static int fail(sqlite3 *db, char *err, const char *what)
{
    snprintf(err, BENCH_ERRLEN, "sqlite: %.120s: %.100s", what,
             db ? sqlite3_errmsg(db) : "out of memory");
    return -1;
}

static int exec(sqlite3 *db, const char *s, char *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, s, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, BENCH_ERRLEN, "sqlite: %s: %s", s,
                 msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* A connection with the target's settings (WAL is recorded in the file
 * by the connection that creates it). */
static int sq_connect(const struct bench_target *t, const char *dir,
                      int create, sqlite3 **out, char *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, DB_FILE);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fail(db, err, path);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "%sPRAGMA synchronous = %s; PRAGMA foreign_keys = ON;",
             create ? "PRAGMA journal_mode = WAL; " : "",
             t->setting ? "NORMAL" : "OFF");
    if (exec(db, pragmas, err)) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* Insert the data set's items with stmt (ST_INSERT), in the caller's
 * transaction. */
static int load_items(sqlite3 *db, sqlite3_stmt *i, char *err)
{
    for (int64_t id = 1; id <= bench_items; id++) {
        const struct bench_item *it = bench_item(id);
        sqlite3_bind_int64(i, 1, id);
        sqlite3_bind_text(i, 2, it->title, -1, SQLITE_STATIC);
        sqlite3_bind_int64(i, 3, it->parent_id);
        sqlite3_bind_int64(i, 4, it->qty);
        int rc = sqlite3_step(i);
        sqlite3_reset(i);
        if (rc != SQLITE_DONE)
            return fail(db, err, "load items");
    }
    sqlite3_clear_bindings(i);
    return 0;
}

static int sqc_load(const struct bench_target *t, const char *dir, char *err)
{
    sqlite3 *db = NULL;
    if (sq_connect(t, dir, 1, &db, err))
        return -1;
    int rc = exec(db,
                  "CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT);"
                  "CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, "
                  "parent_id INTEGER REFERENCES parents(id), qty INTEGER);"
                  "BEGIN;", err);
    sqlite3_stmt *p = NULL, *i = NULL;
    if (!rc && (sqlite3_prepare_v2(db, "INSERT INTO parents VALUES (?1, ?2)",
                                   -1, &p, NULL) ||
                sqlite3_prepare_v2(db, sql[ST_INSERT], -1, &i, NULL)))
        rc = fail(db, err, "prepare");
    for (int64_t id = 1; !rc && id <= BENCH_PARENTS; id++) {
        sqlite3_bind_int64(p, 1, id);
        sqlite3_bind_text(p, 2, bench_parent_name(id), -1, SQLITE_STATIC);
        if (sqlite3_step(p) != SQLITE_DONE)
            rc = fail(db, err, "load parents");
        sqlite3_reset(p);
    }
    if (!rc)
        rc = load_items(db, i, err);
    sqlite3_finalize(p);
    sqlite3_finalize(i);
    if (!rc)
        rc = exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", err);
    sqlite3_close(db);
    return rc;
}

static int sqc_share(const struct bench_target *t, const char *dir,
                     void **shared, char *err)
{
    (void)t;
    (void)dir;
    (void)err;
    *shared = NULL; /* every worker opens its own connection */
    return 0;
}

static void sqc_unshare(void *shared)
{
    (void)shared;
}

static void sqc_close(void *conn)
{
    struct sqc *c = conn;
    if (!c)
        return;
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

static int sqc_open(const struct bench_target *t, const char *dir,
                    void *shared, void **conn, char *err)
{
    (void)shared;
    struct sqc *c = calloc(1, sizeof *c);
    if (!c)
        return fail(NULL, err, "connection");
    if (sq_connect(t, dir, 0, &c->db, err)) {
        free(c);
        return -1;
    }
    for (int i = 0; i < NSTMT; i++)
        if (sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &c->st[i], NULL) != SQLITE_OK) {
            fail(c->db, err, sql[i]);
            sqc_close(c);
            return -1;
        }
    *conn = c;
    return 0;
}

static void copy_text(sqlite3_stmt *s, int col, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    size_t len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy(buf, t, len);
    buf[len] = '\0';
}

static int sqc_read(void *conn, int64_t id, int join, struct bench_item *out,
                    int *found, char *err)
{
    struct sqc *c = conn;
    sqlite3_stmt *s = c->st[join ? ST_READ_JOIN : ST_READ];
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(s, 0);
        copy_text(s, 1, out->title, sizeof out->title);
        out->parent_id = sqlite3_column_int64(s, 2);
        out->qty = sqlite3_column_int64(s, 3);
        if (join && sqlite3_column_type(s, 4) != SQLITE_NULL) {
            out->has_parent = 1;
            copy_text(s, 4, out->parent_name, sizeof out->parent_name);
        }
        rc = sqlite3_step(s);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(c->db, err, "read");
}

static int sqc_insert(void *conn, const struct bench_item *it, int64_t *id,
                      char *err)
{
    struct sqc *c = conn;
    sqlite3_stmt *s = c->st[ST_INSERT];
    if (it->id)
        sqlite3_bind_int64(s, 1, it->id);
    else
        sqlite3_bind_null(s, 1);
    sqlite3_bind_text(s, 2, it->title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, it->parent_id);
    sqlite3_bind_int64(s, 4, it->qty);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s); /* the title pointer is the caller's */
    if (rc != SQLITE_DONE)
        return fail(c->db, err, "insert");
    *id = sqlite3_last_insert_rowid(c->db);
    return 0;
}

/* Run a write statement bound to id (and maybe a second int). */
static int write1(struct sqc *c, int which, int64_t id, int64_t *second,
                  int *found, char *err, const char *what)
{
    sqlite3_stmt *s = c->st[which];
    sqlite3_bind_int64(s, 1, id);
    if (second)
        sqlite3_bind_int64(s, 2, *second);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(c->db, err, what);
    if (found)
        *found = sqlite3_changes(c->db) > 0;
    return 0;
}

static int sqc_update_qty(void *conn, int64_t id, int64_t qty, int *found,
                          char *err)
{
    return write1(conn, ST_UPDATE, id, &qty, found, err, "update");
}

/* SQLite's writer lock: an immediate transaction takes it, COMMIT gives it
 * back. */
static int sqc_lock_cycle(void *conn, char *err)
{
    struct sqc *c = conn;
    return exec(c->db, "BEGIN IMMEDIATE; COMMIT;", err);
}

static int sqc_delete(void *conn, int64_t id, int *found, char *err)
{
    return write1(conn, ST_DELETE, id, NULL, found, err, "delete");
}

static int sqc_scan(void *conn, const char *needle, long *matches,
                    int64_t *idsum, char *err)
{
    struct sqc *c = conn;
    sqlite3_stmt *s = c->st[ST_SCAN];
    char pattern[sizeof c->pattern];
    snprintf(pattern, sizeof pattern, "%%%s%%", needle);
    if (strcmp(pattern, c->pattern) != 0) {
        memcpy(c->pattern, pattern, sizeof pattern);
        sqlite3_bind_text(s, 1, c->pattern, -1, SQLITE_STATIC);
    }
    long n = 0;
    int64_t sum = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        /* Read the row as Bazoola builds it: id and title. */
        sum += sqlite3_column_int64(s, 0);
        if (sqlite3_column_text(s, 1))
            n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(c->db, err, "scan");
    *matches = n;
    *idsum = sum;
    return 0;
}

static int sqc_restore(void *conn, char *err)
{
    struct sqc *c = conn;
    if (exec(c->db, "BEGIN IMMEDIATE; DELETE FROM items;", err))
        return -1;
    if (load_items(c->db, c->st[ST_INSERT], err)) {
        exec(c->db, "ROLLBACK;", err);
        return -1;
    }
    return exec(c->db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", err);
}

static void sqc_teardown(const char *dir)
{
    (void)dir; /* everything lives in dir */
}

const struct bench_engine bench_sqlite = {
    .load = sqc_load,
    .share = sqc_share,
    .unshare = sqc_unshare,
    .open = sqc_open,
    .close = sqc_close,
    .read = sqc_read,
    .insert = sqc_insert,
    .update_qty = sqc_update_qty,
    .lock_cycle = sqc_lock_cycle,
    .delete = sqc_delete,
    .scan = sqc_scan,
    .restore = sqc_restore,
    .teardown = sqc_teardown,
};
