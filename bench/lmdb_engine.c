/*
 * lmdb_engine.c - the bench's engine interface over LMDB (Debian
 * liblmdb-dev): the embedded multi-process store a user would weigh us
 * against.
 *
 * The same data and work as on Bazoola and SQLite: two named databases of
 * one environment, "parents" (id -> name) and "items" (id -> parent_id,
 * qty, title), integer keys (MDB_INTEGERKEY).  MDB_NOSYNC: commits are not
 * flushed, as Bazoola's sync=off and SQLite's synchronous=OFF.  The shared
 * handle is one MDB_env per process (LMDB allows no other: an environment
 * must not be opened twice in a process, nor used across fork()), opened
 * with MDB_NOTLS so that a read transaction belongs to its conn, not to
 * its thread.  Each read is one read-only transaction (renewed from the
 * conn's reset one, LMDB's cheap path); each write one write transaction.
 * An insert checks that its parent exists, as Bazoola and SQLite check the
 * foreign key.  The scan walks every item with a cursor and matches the
 * title without regard to ASCII case, as SQLite's LIKE.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bench.h"

/* Sparse: the file grows as pages are used. */
#define MAP_SIZE ((size_t)16 << 30)

struct lm_item {
    int64_t parent_id, qty;
    char title[48];
};

struct lm_shared {
    MDB_env *env;
    MDB_dbi items, parents;
};

struct lmc {
    struct lm_shared *sh;
    MDB_txn *rtxn; /* reset between reads */
};

static int fail(char *err, const char *what, int rc)
{
    snprintf(err, BENCH_ERRLEN, "lmdb: %s: %s", what, mdb_strerror(rc));
    return -1;
}

static int lm_env(const char *dir, int create, struct lm_shared **out,
                  char *err)
{
    struct lm_shared *sh = calloc(1, sizeof *sh);
    if (!sh)
        return fail(err, "shared", ENOMEM);
    int rc = mdb_env_create(&sh->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(sh->env, 2);
    if (!rc)
        rc = mdb_env_set_mapsize(sh->env, MAP_SIZE);
    if (!rc)
        rc = mdb_env_set_maxreaders(sh->env, 2 * BENCH_MAX_WORKERS + 8);
    if (!rc)
        rc = mdb_env_open(sh->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600);
    MDB_txn *t = NULL;
    if (!rc)
        rc = mdb_txn_begin(sh->env, NULL, 0, &t);
    unsigned flags = MDB_INTEGERKEY | (create ? MDB_CREATE : 0);
    if (!rc)
        rc = mdb_dbi_open(t, "items", flags, &sh->items);
    if (!rc)
        rc = mdb_dbi_open(t, "parents", flags, &sh->parents);
    if (!rc) {
        rc = mdb_txn_commit(t);
        t = NULL;
    }
    if (t)
        mdb_txn_abort(t);
    if (rc) {
        if (sh->env)
            mdb_env_close(sh->env);
        free(sh);
        return fail(err, dir, rc);
    }
    *out = sh;
    return 0;
}

static void lm_unshare(void *shared)
{
    struct lm_shared *sh = shared;
    if (!sh)
        return;
    mdb_env_close(sh->env);
    free(sh);
}

static int put_item(MDB_txn *t, struct lm_shared *sh, size_t id,
                    const struct bench_item *it, unsigned flags)
{
    struct lm_item v;
    memset(&v, 0, sizeof v);
    v.parent_id = it->parent_id;
    v.qty = it->qty;
    snprintf(v.title, sizeof v.title, "%s", it->title);
    MDB_val k = {sizeof id, &id}, d = {sizeof v, &v};
    return mdb_put(t, sh->items, &k, &d, flags);
}

static int load_items(MDB_txn *t, struct lm_shared *sh)
{
    int rc = 0;
    for (int64_t id = 1; !rc && id <= bench_items; id++)
        rc = put_item(t, sh, (size_t)id, bench_item(id), MDB_APPEND);
    return rc;
}

static int lm_load(const struct bench_target *tg, const char *dir, char *err)
{
    (void)tg;
    struct lm_shared *sh = NULL;
    if (lm_env(dir, 1, &sh, err))
        return -1;
    MDB_txn *t = NULL;
    int rc = mdb_txn_begin(sh->env, NULL, 0, &t);
    for (int64_t id = 1; !rc && id <= BENCH_PARENTS; id++) {
        size_t key = (size_t)id;
        const char *name = bench_parent_name(id);
        MDB_val k = {sizeof key, &key}, d = {strlen(name) + 1, (void *)name};
        rc = mdb_put(t, sh->parents, &k, &d, MDB_APPEND);
    }
    if (!rc)
        rc = load_items(t, sh);
    if (!rc) {
        rc = mdb_txn_commit(t);
        t = NULL;
    }
    if (t)
        mdb_txn_abort(t);
    lm_unshare(sh);
    return rc ? fail(err, "load", rc) : 0;
}

static int lm_share(const struct bench_target *t, const char *dir,
                    void **shared, char *err)
{
    (void)t;
    struct lm_shared *sh = NULL;
    if (lm_env(dir, 0, &sh, err))
        return -1;
    *shared = sh;
    return 0;
}

static int lm_open(const struct bench_target *t, const char *dir,
                   void *shared, void **conn, char *err)
{
    (void)t;
    (void)dir;
    struct lmc *c = calloc(1, sizeof *c);
    if (!c)
        return fail(err, "connection", ENOMEM);
    c->sh = shared;
    *conn = c;
    return 0;
}

static void lm_close(void *conn)
{
    struct lmc *c = conn;
    if (!c)
        return;
    if (c->rtxn)
        mdb_txn_abort(c->rtxn);
    free(c);
}

static int read_begin(struct lmc *c, char *err)
{
    int rc = c->rtxn ? mdb_txn_renew(c->rtxn)
                     : mdb_txn_begin(c->sh->env, NULL, MDB_RDONLY, &c->rtxn);
    return rc ? fail(err, "read transaction", rc) : 0;
}

static int lm_read(void *conn, int64_t id, int join, struct bench_item *out,
                   int *found, char *err)
{
    struct lmc *c = conn;
    if (read_begin(c, err))
        return -1;
    size_t key = (size_t)id;
    MDB_val k = {sizeof key, &key}, d;
    int rc = mdb_get(c->rtxn, c->sh->items, &k, &d);
    *found = rc == 0;
    if (rc == 0) {
        const struct lm_item *v = d.mv_data;
        memset(out, 0, sizeof *out);
        out->id = id;
        out->parent_id = v->parent_id;
        out->qty = v->qty;
        memcpy(out->title, v->title, sizeof out->title);
        out->title[sizeof out->title - 1] = '\0';
        if (join) {
            size_t pk = (size_t)v->parent_id;
            MDB_val pkv = {sizeof pk, &pk}, pd;
            int prc = mdb_get(c->rtxn, c->sh->parents, &pkv, &pd);
            if (prc == 0) {
                out->has_parent = 1;
                snprintf(out->parent_name, sizeof out->parent_name, "%s",
                         (const char *)pd.mv_data);
            } else if (prc != MDB_NOTFOUND) {
                rc = prc;
            }
        }
    }
    mdb_txn_reset(c->rtxn);
    return rc && rc != MDB_NOTFOUND ? fail(err, "read", rc) : 0;
}

static int write_txn(struct lmc *c, MDB_txn **t, char *err)
{
    int rc = mdb_txn_begin(c->sh->env, NULL, 0, t);
    return rc ? fail(err, "write transaction", rc) : 0;
}

static int finish(MDB_txn *t, int rc, char *err, const char *what)
{
    if (rc) {
        mdb_txn_abort(t);
        return fail(err, what, rc);
    }
    rc = mdb_txn_commit(t);
    return rc ? fail(err, "commit", rc) : 0;
}

static int lm_insert(void *conn, const struct bench_item *it, int64_t *id,
                     char *err)
{
    struct lmc *c = conn;
    MDB_txn *t;
    if (write_txn(c, &t, err))
        return -1;
    size_t pk = (size_t)it->parent_id;
    MDB_val pkv = {sizeof pk, &pk}, pd;
    int rc = mdb_get(t, c->sh->parents, &pkv, &pd);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(t);
        snprintf(err, BENCH_ERRLEN, "lmdb: insert: no parent %" PRId64,
                 it->parent_id);
        return -1;
    }
    size_t key = (size_t)it->id;
    if (!rc && !key) {
        /* The engine picks the id: one past the largest. */
        MDB_cursor *cur;
        MDB_val k, d;
        rc = mdb_cursor_open(t, c->sh->items, &cur);
        if (!rc) {
            int g = mdb_cursor_get(cur, &k, &d, MDB_LAST);
            key = g == 0 ? *(const size_t *)k.mv_data + 1 : 1;
            if (g && g != MDB_NOTFOUND)
                rc = g;
            mdb_cursor_close(cur);
        }
    }
    if (!rc)
        rc = put_item(t, c->sh, key, it, MDB_NOOVERWRITE);
    *id = (int64_t)key;
    return finish(t, rc, err, "insert");
}

static int lm_update_qty(void *conn, int64_t id, int64_t qty, int *found,
                         char *err)
{
    struct lmc *c = conn;
    MDB_txn *t;
    if (write_txn(c, &t, err))
        return -1;
    size_t key = (size_t)id;
    MDB_val k = {sizeof key, &key}, d;
    int rc = mdb_get(t, c->sh->items, &k, &d);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(t);
        return 0;
    }
    if (!rc) {
        struct lm_item v;
        memcpy(&v, d.mv_data, sizeof v);
        v.qty = qty;
        MDB_val nd = {sizeof v, &v};
        rc = mdb_put(t, c->sh->items, &k, &nd, 0);
    }
    return finish(t, rc, err, "update");
}

static int lm_delete(void *conn, int64_t id, int *found, char *err)
{
    struct lmc *c = conn;
    MDB_txn *t;
    if (write_txn(c, &t, err))
        return -1;
    size_t key = (size_t)id;
    MDB_val k = {sizeof key, &key};
    int rc = mdb_del(t, c->sh->items, &k, NULL);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(t);
        return 0;
    }
    return finish(t, rc, err, "delete");
}

static int lm_scan(void *conn, const char *needle, long *matches,
                   int64_t *idsum, char *err)
{
    struct lmc *c = conn;
    if (read_begin(c, err))
        return -1;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->rtxn, c->sh->items, &cur);
    long n = 0;
    int64_t sum = 0;
    if (!rc) {
        MDB_val k, d;
        MDB_cursor_op op = MDB_FIRST;
        while ((rc = mdb_cursor_get(cur, &k, &d, op)) == 0) {
            op = MDB_NEXT;
            const struct lm_item *v = d.mv_data;
            char title[sizeof v->title];
            memcpy(title, v->title, sizeof title);
            title[sizeof title - 1] = '\0';
            if (strcasestr(title, needle)) {
                n++;
                sum += (int64_t)*(const size_t *)k.mv_data;
            }
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    mdb_txn_reset(c->rtxn);
    if (rc)
        return fail(err, "scan", rc);
    *matches = n;
    *idsum = sum;
    return 0;
}

/* LMDB's writer lock: a write transaction takes it, commit gives it back. */
static int lm_lock_cycle(void *conn, char *err)
{
    struct lmc *c = conn;
    MDB_txn *t;
    if (write_txn(c, &t, err))
        return -1;
    return finish(t, 0, err, "lock");
}

static int lm_restore(void *conn, char *err)
{
    struct lmc *c = conn;
    MDB_txn *t;
    if (write_txn(c, &t, err))
        return -1;
    int rc = mdb_drop(t, c->sh->items, 0);
    if (!rc)
        rc = load_items(t, c->sh);
    return finish(t, rc, err, "restore");
}

static void lm_teardown(const char *dir)
{
    (void)dir; /* everything lives in dir */
}

const struct bench_engine bench_lmdb = {
    .load = lm_load,
    .share = lm_share,
    .unshare = lm_unshare,
    .open = lm_open,
    .close = lm_close,
    .read = lm_read,
    .insert = lm_insert,
    .update_qty = lm_update_qty,
    .lock_cycle = lm_lock_cycle,
    .delete = lm_delete,
    .scan = lm_scan,
    .restore = lm_restore,
    .teardown = lm_teardown,
};
