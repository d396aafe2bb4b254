/*
 * bazoola.h - the public interface of libbazoola.
 *
 * Bazoola keeps tables in fixed-width text files (the format of Bazoola 0.0.7,
 * byte for byte) and lets many threads and processes use one data directory
 * at once.  Every handle is opaque; every call returns a bz_rc; on failure the
 * calling thread's last error (bz_errmsg()) names what is wrong.
 *
 * Thread safety: a bz_db handle may be shared by any number of threads.  A
 * schema, values object, condition or join list is immutable once passed to
 * a call and may be shared too.  Results (bz_row, bz_rows) belong to the caller.
 *
 * Process safety: any number of processes may open one data directory.  Every
 * operation is atomic with respect to every other thread and process.  A
 * handle belongs to the process that opened it: after fork() the child must
 * open its own (calls on the inherited one fail with BZ_EINVAL; closing it
 * in the child is harmless).
 *
 * Constructors (bz_values_new, bz_cond_new, bz_joins_new, bz_options_new,
 * bz_cond_and/or/not) return NULL only when out of memory or, for
 * bz_cond_new, given an unknown operator.
 */
#ifndef BAZOOLA_H
#define BAZOOLA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; only this header exports. */
#if defined(BZ_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define BZ_VERSION_MAJOR 0
#define BZ_VERSION_MINOR 1
#define BZ_VERSION_PATCH 0
#define BZ_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable at compile time. */
#define BZ_VERSION_NUMBER \
    (BZ_VERSION_MAJOR * 10000 + BZ_VERSION_MINOR * 100 + BZ_VERSION_PATCH)

/* The version of the library actually linked (may differ from the header). */
int bz_version_number(void);
const char *bz_version(void);

/* ------------------------------------------------------------------ */
/* Result codes: one error space.  The OS errno, where one was involved, is a
 * detail available from bz_errno(). */
typedef enum bz_rc {
    BZ_OK = 0,
    BZ_EVALIDATION = 1, /* a value was refused (0.0.7's ValidationError)    */
    BZ_ENOTFOUND = 2,   /* no row with that id                              */
    BZ_ECONSTRAINT = 3, /* foreign key missing, truncate refused            */
    BZ_ECORRUPT = 4,    /* a file contradicts the format; message: where    */
    BZ_EINVAL = 5,      /* bad argument: unknown table/field, NULL, ...     */
    BZ_EIO = 6,         /* the OS failed a file operation (see bz_errno())  */
    BZ_ENOMEM = 7,
    BZ_ESCHEMA = 8,     /* bad schema text, or files contradict the schema  */
    BZ_ELOCKED = 9,     /* lock misuse (unlock without lock, ...)           */
    BZ_ROW = 100,       /* bz_iter_next(): a row is available               */
    BZ_DONE = 101       /* bz_iter_next(): no more rows                     */
} bz_rc;

/* A static description of a code ("validation error", ...). */
const char *bz_strerror(int rc);
/* The JSON protocol's kind for a code: "validation", "not_found", ... */
const char *bz_errkind(int rc);
/* The message of the calling thread's last failed call; "" if none.  Valid
 * until the thread's next bz_ call.  Messages of BZ_EVALIDATION,
 * BZ_ENOTFOUND and BZ_ECONSTRAINT are 0.0.7's wording exactly.  A
 * BZ_ECORRUPT message names the table, the file and the byte offset. */
const char *bz_errmsg(void);
/* The errno behind the calling thread's last BZ_EIO (0 otherwise). */
int bz_errno(void);

/* ------------------------------------------------------------------ */
/* Schemas. */
typedef struct bz_schema bz_schema;

typedef enum bz_kind {
    BZ_PK = 1,   /* the primary key; every table has exactly one, named "id" */
    BZ_INT = 2,  /* INT(size): size bytes of decimal; holds the values whose
                    text, '-' included, fits (INT(3): -99..999); INT alone
                    is INT(9).  Values are int64_t throughout.              */
    BZ_CHAR = 3, /* CHAR(size): size bytes of UTF-8                          */
    BZ_TEXT = 4,
    BZ_FK = 5    /* FK(ref): an id of table ref                              */
} bz_kind;

/* Input structures for bz_schema_from_defs(): plain data, read during the
 * call only. */
typedef struct bz_field_def {
    const char *name;
    bz_kind kind;
    int size;        /* BZ_CHAR: the width in bytes (1..65535); BZ_INT:
                        the width in digits (1..18), 0 meaning 9; ignored
                        for the other kinds (bz_schema_field gives 0)   */
    const char *ref; /* BZ_FK only: the referenced table                 */
    int nullable;    /* non-zero: NULL allowed (never for BZ_PK)          */
} bz_field_def;

typedef struct bz_table_def {
    const char *name;
    const bz_field_def *fields;
    size_t nfields;
} bz_table_def;

/* Build a schema from C structures.  BZ_ESCHEMA names the table and field at
 * fault (bad identifier, duplicate, FK to an unknown table, ...). */
int bz_schema_from_defs(const bz_table_def *tables, size_t ntables,
                        bz_schema **out);
/* Parse the schema text format: "name: field TYPE [NULL], ..." per line,
 * '#' comments.  BZ_ESCHEMA names the line and column at fault. */
int bz_schema_parse(const char *text, size_t len, bz_schema **out);
/* Read and parse a schema file. */
int bz_schema_load(const char *path, bz_schema **out);
/* The canonical text of a schema (caller frees with free()); two schemas are
 * equal when their texts are. */
char *bz_schema_text(const bz_schema *s);
void bz_schema_free(bz_schema *s);

size_t bz_schema_ntables(const bz_schema *s);
const char *bz_schema_table_name(const bz_schema *s, size_t t);
size_t bz_schema_nfields(const bz_schema *s, size_t t);
/* Fills *def with pointers into the schema (valid while it lives). */
int bz_schema_field(const bz_schema *s, size_t t, size_t f, bz_field_def *def);

/* ------------------------------------------------------------------ */
/* Opening a data directory. */
typedef struct bz_db bz_db;
typedef struct bz_options bz_options;

bz_options *bz_options_new(void);
void bz_options_free(bz_options *o);
/* Do not create the directory or missing files (default: create them). */
int bz_options_set_create(bz_options *o, int create);

typedef enum bz_lock_mode {
    BZ_LOCK_DEFAULT = 0, /* BAZOOLA_LOCK_MODE ("flock" or "shared"), else shared */
    BZ_LOCK_FLOCK = 1,   /* 0.0.7's design: every operation under one
                            exclusive flock, files read directly, no cache */
    BZ_LOCK_SHARED = 2   /* the shared segment: a page cache in POSIX shared
                            memory, shared by every process of the directory */
} bz_lock_mode;
int bz_options_set_lock_mode(bz_options *o, bz_lock_mode mode);
/* Size of the shared page cache in MiB, used by the process that creates
 * the segment (0: BAZOOLA_CACHE_MB, which may be fractional, else the
 * size follows the data: 1.25 x the table files, at least 32 MiB, at most a
 * quarter of RAM and half of /dev/shm's free space; shm/README.md,
 * "Size").  From 1 to half of RAM; BZ_EINVAL naming the range otherwise. */
int bz_options_set_cache_mb(bz_options *o, size_t mb);

typedef enum bz_sync {
    BZ_SYNC_OFF = 0,  /* an operation survives the death of any process
                         (shared mode); a power cut may lose or tear it  */
    BZ_SYNC_FULL = 1  /* also survives a power cut: the undo journal and
                         the data are on disk before an operation returns */
} bz_sync;
/* Durability (lockmgr/README.md states the exact guarantees). */
int bz_options_set_sync(bz_options *o, bz_sync sync);

/* Open (and by default create) the data directory dir for schema.  The
 * schema is copied; the caller may free it after the call.  The schema is
 * recorded in dir/.schema; a table whose recorded definition differs, or
 * whose files contradict it, is refused with BZ_ESCHEMA / BZ_ECORRUPT.
 * opts may be NULL. */
int bz_open(const char *dir, const bz_schema *schema, const bz_options *opts,
            bz_db **out);
/* Open with the schema recorded in dir/.schema (BZ_ESCHEMA when there is
 * none or it does not parse).  Never creates the directory. */
int bz_open_recorded(const char *dir, const bz_options *opts, bz_db **out);
/* Close the handle.  Results obtained from it must be freed before. */
void bz_close(bz_db *db);
/* The schema in use (owned by db). */
const bz_schema *bz_db_schema(const bz_db *db);

/* ------------------------------------------------------------------ */
/* Values: the fields given to insert and update. */
typedef struct bz_values bz_values;

bz_values *bz_values_new(void);
void bz_values_free(bz_values *v);
void bz_values_clear(bz_values *v);
/* Setting a field twice keeps the last value.  Names are copied. */
int bz_values_set_int(bz_values *v, const char *field, int64_t value);
int bz_values_set_str(bz_values *v, const char *field, const char *s);
int bz_values_set_strn(bz_values *v, const char *field, const char *s,
                       size_t len);
int bz_values_set_null(bz_values *v, const char *field);
/* A value of a type no field accepts (a float or boolean from a dynamic
 * language).  repr is how 0.0.7 would print it in "Type mismatch: `repr`". */
int bz_values_set_other(bz_values *v, const char *field, const char *repr);

/* ------------------------------------------------------------------ */
/* Results.  A row is a list of entries: the table's fields in schema order,
 * then one entry per join, named by the join's key.  Rows and row lists are
 * owned by the caller and freed with one call, nested rows included.  Names
 * point into the db's schema and joins: valid while the db is open. */
typedef struct bz_row bz_row;
typedef struct bz_rows bz_rows;

typedef enum bz_type {
    BZ_T_NULL = 0,
    BZ_T_INT = 1,
    BZ_T_STR = 2,
    BZ_T_ROW = 3,  /* a Join: the referenced row (or BZ_T_NULL)        */
    BZ_T_ROWS = 4  /* an InverseJoin: the referring rows, file order   */
} bz_type;

size_t bz_row_len(const bz_row *r);
const char *bz_row_name(const bz_row *r, size_t i);
bz_type bz_row_type(const bz_row *r, size_t i);
int64_t bz_row_int(const bz_row *r, size_t i);
/* NUL-terminated; *len (if not NULL) gets the length in bytes. */
const char *bz_row_str(const bz_row *r, size_t i, size_t *len);
const bz_row *bz_row_row(const bz_row *r, size_t i);
const bz_rows *bz_row_rows(const bz_row *r, size_t i);
/* The index of the entry called name, or -1. */
int bz_row_find(const bz_row *r, const char *name);
/* By name: BZ_OK with the value, BZ_ENOTFOUND when there is no such entry
 * or it is NULL, BZ_EINVAL when it has another type.  No error message is
 * set (these are lookups, not operations). */
int bz_row_get_int(const bz_row *r, const char *name, int64_t *value);
int bz_row_get_str(const bz_row *r, const char *name, const char **s,
                   size_t *len);
int64_t bz_row_id(const bz_row *r);
void bz_row_free(bz_row *r);

size_t bz_rows_len(const bz_rows *rs);
const bz_row *bz_rows_at(const bz_rows *rs, size_t i);
void bz_rows_free(bz_rows *rs);

/* ------------------------------------------------------------------ */
/* Conditions.  A leaf holds field/value pairs that must all hold (0.0.7's
 * EQ(a=1, b=2)); AND/OR/NOT combine conditions.
 *  - A NULL field value fails every leaf pair, with one exception: a NULL
 *    condition value (bz_cond_add_null), allowed with EQ and NE only, asks
 *    "is NULL" (EQ) or "is not NULL" (NE), as Python's == and != would.
 *  - NOT negates the whole operand: NOT(EQ(x=1)) matches rows where x is
 *    NULL too.
 *  - Values must suit the field: integers for PK/INT/FK, strings for CHAR
 *    and TEXT; SUBSTR and ISUBSTR take a string and match the decimal text of
 *    integer fields.  A mismatch is BZ_EINVAL when the condition is used.
 *  - Strings compare by code point (UTF-8 byte order), as Python's str.
 *  - ISUBSTR folds case for all of Unicode, as Python's str.lower() does. */
typedef struct bz_cond bz_cond;

typedef enum bz_op {
    BZ_EQ = 1, BZ_NE, BZ_LT, BZ_LE, BZ_GT, BZ_GE, BZ_SUBSTR, BZ_ISUBSTR,
    BZ_IN /* value is one of a list (bz_cond_add_in_*) */
} bz_op;

bz_cond *bz_cond_new(bz_op op);
int bz_cond_add_int(bz_cond *c, const char *field, int64_t value);
int bz_cond_add_str(bz_cond *c, const char *field, const char *value);
/* A string of len bytes, NUL bytes (U+0000) included, which the
 * NUL-terminated forms cannot express: 0.0.7 searches for any str, and
 * TEXT values (and CHAR values 0.0.7 wrote) may hold U+0000. */
int bz_cond_add_strn(bz_cond *c, const char *field, const char *value,
                     size_t len);
int bz_cond_add_null(bz_cond *c, const char *field);
/* BZ_IN: add one more allowed value of field (repeat the call). */
int bz_cond_add_in_int(bz_cond *c, const char *field, int64_t value);
int bz_cond_add_in_str(bz_cond *c, const char *field, const char *value);
int bz_cond_add_in_strn(bz_cond *c, const char *field, const char *value,
                        size_t len);
/* Combinators take ownership of their operands (also on failure). */
bz_cond *bz_cond_and(bz_cond *a, bz_cond *b);
bz_cond *bz_cond_or(bz_cond *a, bz_cond *b);
bz_cond *bz_cond_not(bz_cond *a);
void bz_cond_free(bz_cond *c);

/* ------------------------------------------------------------------ */
/* Joins: a list of Join / InverseJoin applied to each result row. */
typedef struct bz_joins bz_joins;

bz_joins *bz_joins_new(void);
/* Join: row[fk] is an id of table; the referenced row goes under key (NULL
 * when fk is NULL or the row is gone). */
int bz_joins_add(bz_joins *j, const char *fk, const char *key,
                 const char *table);
/* InverseJoin: the rows of table whose fk equals this row's id go under key
 * as a list, in file order. */
int bz_joins_add_inverse(bz_joins *j, const char *fk, const char *key,
                         const char *table);
void bz_joins_free(bz_joins *j);

/* ------------------------------------------------------------------ */
/* Operations.  Each is atomic: it happens entirely or (on any error) changes
 * no byte of any file.  joins may be NULL.  The out row of insert and update
 * may be NULL when the caller does not want it; the finds require theirs. */

/* Insert; an "id" in values chooses the id (BZ_EVALIDATION when it is
 * taken).  Without one the id is the smallest above the table's seqnum
 * that no row has (explicit ids may already hold seqnum+1, ...), and
 * seqnum becomes that id. */
int bz_insert(bz_db *db, const char *table, const bz_values *values,
              bz_row **out);
/* *out = the row, or NULL (and BZ_OK) when there is no row with that id. */
int bz_find_by_id(bz_db *db, const char *table, int64_t id,
                  const bz_joins *joins, bz_row **out);
int bz_find_all(bz_db *db, const char *table, const bz_joins *joins,
                bz_rows **out);
/* cond may be NULL (all rows). */
int bz_find_by_cond(bz_db *db, const char *table, const bz_cond *cond,
                    const bz_joins *joins, bz_rows **out);
/* *count = the number of rows matching cond (NULL: all), without building
 * them. */
int bz_count(bz_db *db, const char *table, const bz_cond *cond,
             int64_t *count);
/* Merge values into the row and rewrite it (same row number, TEXT values
 * appended anew).  BZ_ENOTFOUND when the id does not exist. */
int bz_update_by_id(bz_db *db, const char *table, int64_t id,
                    const bz_values *values, bz_row **out);
int bz_delete_by_id(bz_db *db, const char *table, int64_t id);
/* Empty the table.  Refused (BZ_ECONSTRAINT) while another table refers to
 * it, unless cascade, which empties the referring tables too. */
int bz_truncate(bz_db *db, const char *table, int cascade);

/* Iteration without materialising the table: rows come in file order, a
 * chunk at a time under the lock; rows changed by others between chunks may
 * be seen in either state, but never torn. */
typedef struct bz_iter bz_iter;

int bz_iter_open(bz_db *db, const char *table, const bz_cond *cond,
                 const bz_joins *joins, bz_iter **out);
/* BZ_ROW with *row (owned by the caller), BZ_DONE (again on every later
 * call), or an error. */
int bz_iter_next(bz_iter *it, bz_row **row);
void bz_iter_close(bz_iter *it);

/* ------------------------------------------------------------------ */
/* Statistics of a directory's shared segment (lock mode shared): a
 * snapshot taken without any lock, so counters read at slightly different
 * moments.  Works from any process of the same user, attached or not. */
typedef struct bz_stats bz_stats;

typedef enum bz_stat {
    BZ_STAT_HITS = 0,         /* page lookups found in the cache          */
    BZ_STAT_MISSES,           /* page lookups that read the file          */
    BZ_STAT_EVICTIONS,        /* frames taken from another page           */
    BZ_STAT_PAGE_READS,       /* pages read from files                    */
    BZ_STAT_PAGE_WRITES,      /* writes and truncates of files            */
    BZ_STAT_BYTES_READ,
    BZ_STAT_BYTES_WRITTEN,
    BZ_STAT_DROPS,            /* times a file's pages were dropped because
                                 it changed, or might have, outside the
                                 engine                                   */
    BZ_STAT_OUTSIDE,          /* changes by writers outside the segment
                                 (Bazoola 0.0.7, flock-mode processes, an
                                 editor) that the engine saw               */
    BZ_STAT__COUNT
} bz_stat;

/* BZ_ENOTFOUND (with a message saying so) when the directory has no
 * segment: no process has it open in shared mode. */
int bz_stats_read(const char *dir, bz_stats **out);
void bz_stats_free(bz_stats *s);
const char *bz_stats_segment_name(const bz_stats *s);
uint64_t bz_stats_segment_size(const bz_stats *s);   /* bytes */
uint64_t bz_stats_page_size(const bz_stats *s);
uint64_t bz_stats_frames(const bz_stats *s);
uint64_t bz_stats_frames_used(const bz_stats *s);
uint64_t bz_stats_created_at(const bz_stats *s);     /* unix seconds */
/* Writers found dead mid-operation (their cache was dropped). */
uint64_t bz_stats_recoveries(const bz_stats *s);
/* 1 when the data directory's file system gives multigrain timestamps
 * (every change provably seen); 0 when outside-change detection must
 * re-read files written within the last clock tick (shm/README.md). */
int bz_stats_fine_timestamps(const bz_stats *s);
/* The bytes of the table files the segment knows, as they are now. */
uint64_t bz_stats_data_bytes(const bz_stats *s);
/* 0 while the data fits the cache; else the cache, in MiB, a new segment
 * would get for it (1.25 x the data, at most half of RAM): set
 * BAZOOLA_CACHE_MB to it, or let the default follow the data, and the
 * next segment has it once every process has closed the directory. */
uint64_t bz_stats_suggested_cache_mb(const bz_stats *s);
uint64_t bz_stats_counter(const bz_stats *s, bz_stat which);
/* Per file of the directory ("books.dat", "books__id.idx.dat", ...). */
size_t bz_stats_nfiles(const bz_stats *s);
const char *bz_stats_file_name(const bz_stats *s, size_t i);
/* The table the file belongs to (its name without the file suffix). */
const char *bz_stats_file_table(const bz_stats *s, size_t i);
uint64_t bz_stats_file_counter(const bz_stats *s, size_t i, bz_stat which);
uint64_t bz_stats_file_frames(const bz_stats *s, size_t i);
int64_t bz_stats_file_size(const bz_stats *s, size_t i); /* -1: unknown */
/* Attached processes: pid, whether it is alive, when it attached. */
size_t bz_stats_nprocs(const bz_stats *s);
int bz_stats_proc(const bz_stats *s, size_t i, int64_t *pid, int *alive,
                  uint64_t *attached_at);
/* The writer lock (lockmgr/README.md). */
typedef enum bz_lock_stat {
    BZ_LSTAT_ACQUISITIONS = 0, /* outermost acquisitions of the lock         */
    BZ_LSTAT_CONTENDED,        /* of which had to wait                       */
    BZ_LSTAT_WAIT_NS,          /* total time waiting                         */
    BZ_LSTAT_WAIT_MAX_NS,      /* longest wait                               */
    BZ_LSTAT_HOLD_NS,          /* total time held                            */
    BZ_LSTAT_HOLDER_PID,       /* who holds it now (0: nobody)               */
    BZ_LSTAT_READ_RETRIES,     /* optimistic reads that had to try again     */
    BZ_LSTAT_READS_LOCKED,     /* reads that fell back to the lock           */
    BZ_LSTAT_OWNER_DEAD,       /* holders found dead (EOWNERDEAD)            */
    BZ_LSTAT__COUNT
} bz_lock_stat;
uint64_t bz_stats_lock(const bz_stats *s, bz_lock_stat which);
/* The wait histogram: bucket i counts waits shorter than 2^i microseconds
 * (and not shorter than 2^(i-1)); the last bucket is open-ended. */
size_t bz_stats_wait_buckets(const bz_stats *s);
uint64_t bz_stats_wait_hist(const bz_stats *s, size_t i);
/* The last owner-dead recoveries, newest first: the dead writer's pid,
 * when, and what was undone (records and bytes restored). */
size_t bz_stats_nrecoveries_logged(const bz_stats *s);
int bz_stats_recovery(const bz_stats *s, size_t i, int64_t *pid,
                      uint64_t *at, uint64_t *records, uint64_t *bytes);
/* Zero every counter of the directory's segment. */
int bz_stats_reset(const char *dir);
/* Remove the directory's segment (for a segment that is not ours or
 * damaged).  BZ_ENOTFOUND when there is none.  BZ_ELOCKED, naming them,
 * when live processes are attached: they would keep their mapping while
 * the next open makes a new one, two caches blind to each other's writes.
 * bz_shm_remove_forced removes it anyway. */
int bz_shm_remove(const char *dir);
int bz_shm_remove_forced(const char *dir);

/* ------------------------------------------------------------------ */
/* The explicit lock, for read-modify-write sequences (0.0.7's
 * `with db.storage.lock():`).  Re-entrant per thread: calls nest, and the
 * other threads and processes are kept out until the outermost unlock. */
int bz_lock(bz_db *db);
int bz_unlock(bz_db *db);
/* Nanoseconds the calling thread has spent waiting for writer locks (of
 * any directory, in either lock mode) since it started: read it before and
 * after a piece of work to see how much of it was waiting. */
uint64_t bz_lock_wait_ns(void);
/* Page lookups the calling thread has made in shared caches (lock mode
 * shared) since it started, found (hits) and read from the file (misses):
 * read before and after an operation to see what it cost.  The segment's
 * counters (bz_stats) include a thread's lookups once its call returns;
 * these are the thread's own, never reset. */
void bz_thread_cache_lookups(uint64_t *hits, uint64_t *misses);

/* A write batch: the writes of this thread between bz_begin and bz_commit
 * are one atomic unit.  Other threads and processes see all of it or none
 * (the writer lock is held throughout, and optimistic readers validate
 * against the whole batch); if this process dies inside the batch, the
 * next locker undoes all of it; bz_rollback undoes it on purpose.  An
 * operation that fails inside a batch changes nothing and leaves the batch
 * open: the caller decides to commit the rest or roll back.  Batches do
 * not nest (BZ_ELOCKED); they may sit inside bz_lock/bz_unlock. */
int bz_begin(bz_db *db);
int bz_commit(bz_db *db);
int bz_rollback(bz_db *db);

/* ------------------------------------------------------------------ */
/* Consistency check (`bazoola check`).  Every invariant of the files
 * (docs/file-format.md, "What check verifies") is checked under the
 * writer lock, so writers of every process wait while it runs and the
 * check sees one consistent state.  Problems go to a callback as they are
 * found; with BZ_CHECK_REPAIR what can be derived from the rows (the
 * index, the free stack, seqnum; nothing else, never a row) is rewritten
 * in one atomic write, and the check runs again to count what is left. */
#define BZ_CHECK_REPAIR 1u

/* Only states that neither 0.0.7 nor the engine can leave behind are
 * problems: a directory either wrote checks clean, whatever its seqnum
 * (explicit ids do not move it) or its foreign keys to deleted rows. */
typedef enum bz_severity {
    BZ_SEV_ERROR = 0,   /* an invariant the engine relies on is broken     */
    BZ_SEV_WARNING = 1  /* one it does not rely on (a deleted row missing
                           from the free stack only wastes its space)     */
} bz_severity;

typedef struct bz_problem {
    const char *table;    /* the table                                     */
    const char *file;     /* the file at fault, e.g. "books__id.idx.dat"   */
    int64_t offset;       /* byte offset in file (may be its size when
                             something is missing at the end); -1: none    */
    int64_t row;          /* row number involved, -1 when none             */
    int64_t id;           /* id involved, 0 when none                      */
    const char *kind;     /* stable short name: "row", "dat_size",
                             "index_slot", "index_missing", "duplicate_id",
                             "free_entry", "free_missing", "seqnum",
                             "text_ref", "cache", ...                       */
    bz_severity severity;
    int repairable;       /* BZ_CHECK_REPAIR rewrites what this is about   */
    const char *message;  /* a sentence; valid during the callback only    */
} bz_problem;

/* What a repair changed in one table (reported only for tables it wrote). */
typedef struct bz_repair {
    const char *table;
    int64_t slots_set;      /* index slots (re)pointed at their row         */
    int64_t slots_cleared;  /* index slots emptied (no live row has the id) */
    int64_t index_cut;      /* bytes of a partial slot cut off the end      */
    int64_t free_added;     /* deleted rows pushed on the free stack        */
    int64_t free_removed;   /* bad, live or duplicate entries taken off     */
    int seq_changed;
    int seq_old_valid;      /* 0: the old seqnum was not a number           */
    int64_t seq_old, seq_new;
} bz_repair;

typedef struct bz_check_cbs {
    /* Each problem; a non-zero return stops reporting (the check still
     * ends normally).  May be NULL. */
    int (*problem)(const bz_problem *p, void *arg);
    void (*repaired)(const bz_repair *r, void *arg);  /* may be NULL */
    /* Rows of table scanned so far, of total (may be NULL). */
    void (*progress)(const char *table, int64_t done, int64_t total,
                     void *arg);
    void *arg;
} bz_check_cbs;

typedef struct bz_check_summary {
    int64_t tables, rows;           /* tables checked, rows scanned        */
    int64_t errors, warnings;       /* problems found                      */
    int64_t cache_pages;            /* cached pages compared with files    */
    int64_t repaired_tables;        /* tables a repair wrote               */
    /* After a repair: what the second check found; else = found. */
    int64_t remaining_errors, remaining_warnings;
} bz_check_summary;

/* Check (and with BZ_CHECK_REPAIR repair) every table of db.  BZ_OK when
 * the check ran, whatever it found (see *sum); an error code when it could
 * not (I/O, memory, a batch open in this thread for a repair, ...).  cbs
 * and sum may be NULL. */
int bz_check(bz_db *db, unsigned flags, const bz_check_cbs *cbs,
             bz_check_summary *sum);
/* Open dir (schema NULL: the recorded one) without refusing damaged
 * files, check it, close it.  Missing or non-regular table files are
 * reported as problems; a repair creates missing index, free-stack and
 * seqnum files.  Never creates the directory. */
int bz_check_dir(const char *dir, const bz_schema *schema,
                 const bz_options *opts, unsigned flags,
                 const bz_check_cbs *cbs, bz_check_summary *sum);

#if defined(BZ_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* BAZOOLA_H */
