/*
 * db.h - the bz_db handle and the frame of every operation.
 *
 * An operation runs as: op_begin (clear the thread's error, take the writer
 * lock, learn the lock generation), the work, op_end (release).  Write
 * operations also open a bz_txn, and roll it back on any error, so that a
 * failed operation leaves every file as it found it.
 */
#ifndef BZ_DB_H
#define BZ_DB_H

#include <sys/types.h>

#include "cond.h"
#include "journal.h"
#include "lock.h"
#include "table.h"

struct bz_options {
    bool create;
    bz_lock_mode lock_mode;
    size_t cache_mb;       /* 0: BAZOOLA_CACHE_MB or the default */
    bz_sync sync;
    /* Internal, for bz_check_dir: open even when a file's size or seqnum
     * contradicts the format, so that the checker can report the damage
     * (table, file, offset) instead of failing to open.  Nothing else
     * reads rows at open, so nothing else is skipped. */
    bool for_check;
    /* Internal, for a repair: a dead writer's undo log that cannot be
     * replayed (an outside writer wrote since) is closed unreplayed, and
     * the repair rebuilds what the rows both writers left imply. */
    bool for_repair;
};

struct bz_db {
    char *dir;
    int dirfd;
    bz_schema *schema;
    bz_table *tables;      /* schema->ntables, in schema order */
    bz_dirlock *lock;
    pid_t pid;             /* the opener: flock is shared across fork */
    struct bz_seg *seg;    /* shared mode: the directory's segment */
    bz_sync sync;
    bz_journal journal;    /* sync=full; used under the lock only */
};

/* Scratch of one operation (one per thread: lives on its stack). */
typedef struct bz_opctx {
    bz_db *db;
    uint64_t gen;
    bz_buf row, text;      /* the row being decoded and its texts */
    bz_buf aux_row, aux_text; /* lookups in other tables (FKs, joins) */
    bz_buf scan;           /* a chunk of rows read at once */
    bz_buf prefilter;      /* its folded copy and candidate marks */
    int64_t matched;       /* bz__scan without a result list counts here */
} bz_opctx;

struct bz_join1 {
    bool inverse;
    char *fk, *key, *table;
};

struct bz_joins {
    struct bz_join1 *j;
    int n, cap;
};

int bz__op_begin(bz_opctx *op, bz_db *db);
void bz__op_end(bz_opctx *op);
/* The scratch buffers only (an optimistic read takes no lock). */
void bz__op_free_bufs(bz_opctx *op);
/* Resolve a table name (BZ_EINVAL naming it when unknown). */
int bz__table_lookup(bz_db *db, const char *name, bz_table **t);

/* Scan rows [first, first+max) of t (max < 0: to the end) in file order;
 * rows matching cc (NULL: all) are built with joins and pushed to out.
 * *next receives the row number after the last one read. */
int bz__scan(bz_opctx *op, bz_table *t, const bz_ccond *cc, const bz_joins *j,
             int64_t first, int64_t max, bz_rows *out, int64_t *next);
/* Read rows [first, first+max) like bz__scan, optimistically in shared
 * mode (find.c), under the lock otherwise. */
int bz__read_rows(bz_db *db, bz_table *t, const bz_ccond *cc,
                  const bz_joins *j, int64_t first, int64_t max, bz_rows *out,
                  int64_t *next);
/* BZ_EINVAL when the handle is used in a process that did not open it. */
int bz__db_check_process(const bz_db *db);
/* Check a join list against t. */
int bz__joins_check(bz_db *db, bz_table *t, const bz_joins *j);

#endif
