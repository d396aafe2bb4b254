/*
 * bench.h - the private interface between bzbench's files.
 *
 *   bzbench.c         options, the order of runs, the jemalloc/glibc re-run
 *   runner.c          one configuration: workers as threads or processes,
 *                     the timed windows, results back through pipes
 *   workloads.c       the data set and what one operation of each workload is
 *   latency.c         the latency histogram
 *   bazoola_engine.c  the engine interface over libbazoola
 *   sqlite_engine.c   the engine interface over SQLite
 *   lmdb_engine.c     the engine interface over LMDB
 *   report.c          the terminal table, results.csv, summary.md, plots
 *   machine.c         what machine and allocator the numbers came from
 *   alloc.c           compiled into each executable: which malloc it has
 *
 * A benchmark reports; it never fails a build or a test.  bzbench exits
 * non-zero only when an operation failed or returned a wrong answer (a bug
 * in an engine or in the bench), never because a number is low.
 */
#ifndef BZBENCH_H
#define BZBENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The data set (workloads.c): BENCH_PARENTS parents, bench_items items
 * (--rows), one item in BENCH_NEEDLE_EVERY has BENCH_NEEDLE in its title. */
#define BENCH_PARENTS 100
#define BENCH_ITEMS_DEFAULT 20000
#define BENCH_ITEMS_MAX 10000000
extern int64_t bench_items;
/* --cache-mb as given (BAZOOLA_CACHE_MB for every process), NULL: the
 * default, which follows the data. */
extern const char *bench_cache_mb;
#define BENCH_NEEDLE "zebra"
#define BENCH_NEEDLE_EVERY 100

#define BENCH_MAX_WORKERS 64
#define BENCH_MAX_REPS 50
#define BENCH_ERRLEN 256    /* every error buffer below */

/* ------------------------------------------------------------------ */
/* Engines (bazoola_engine.c, sqlite_engine.c).  A conn is what one worker
 * uses; a shared handle is opened once per process and given to every conn
 * of that process (bazoola: one bz_db for all threads; SQLite: none, each
 * conn opens its own connection).  Every call returns 0, or -1 with a
 * message in err (BENCH_ERRLEN bytes). */
struct bench_target;

/* An item as the engines read it back. */
struct bench_item {
    int64_t id, parent_id, qty;
    char title[48];
    char parent_name[24]; /* read_join only: the joined parent's name */
    int has_parent;       /* read_join only: the join found the parent */
};

struct bench_engine {
    /* Create the schema in the empty directory dir and load the data set. */
    int (*load)(const struct bench_target *t, const char *dir, char *err);
    int (*share)(const struct bench_target *t, const char *dir, void **shared,
                 char *err);
    void (*unshare)(void *shared);
    int (*open)(const struct bench_target *t, const char *dir, void *shared,
                void **conn, char *err);
    void (*close)(void *conn);
    /* *found = 0 when there is no such item; join: the parent too. */
    int (*read)(void *conn, int64_t id, int join, struct bench_item *out,
                int *found, char *err);
    /* it->id == 0: the engine picks the id; *id gets the id used. */
    int (*insert)(void *conn, const struct bench_item *it, int64_t *id,
                  char *err);
    /* *found = 0 when there is no such item. */
    int (*update_qty)(void *conn, int64_t id, int64_t qty, int *found,
                      char *err);
    int (*delete)(void *conn, int64_t id, int *found, char *err);
    /* Items whose title contains needle, any case: how many, and the sum
     * of their ids (each row is read). */
    int (*scan)(void *conn, const char *needle, long *matches, int64_t *idsum,
                char *err);
    /* Nanoseconds the calling thread has waited for the engine's lock so
     * far (bz_lock_wait_ns); NULL when the engine cannot tell. */
    uint64_t (*lock_wait_ns)(void);
    /* Take the writer lock and give it back (the handoff's cost). */
    int (*lock_cycle)(void *conn, char *err);
    /* Empty items and load them again, so that every insert configuration
     * starts from the same files (cleanup, not timed). */
    int (*restore)(void *conn, char *err);
    /* Remove what the engine keeps outside dir (bazoola: the segment). */
    void (*teardown)(const char *dir);
};

extern const struct bench_engine bench_bazoola;
extern const struct bench_engine bench_sqlite;
extern const struct bench_engine bench_lmdb;

/* An engine in one mode: a line of the results. */
struct bench_target {
    const char *engine;       /* "bazoola" | "sqlite" | "lmdb"             */
    const char *mode;         /* "flock" | "shared" | "off" | "normal" |
                                 "nosync"                                  */
    const char *label;        /* mode as reported: mode + alloc suffix     */
    const struct bench_engine *ops;
    int setting;              /* bazoola: bz_lock_mode; sqlite: synchronous */
    int64_t rows;             /* the data set's items for this column      */
};

/* ------------------------------------------------------------------ */
/* Workloads (workloads.c), in the order they are presented. */
enum bench_wl {
    WL_READ, WL_READ_JOIN, WL_INSERT, WL_UPDATE, WL_CHURN, WL_SCAN,
    WL_MIX90, WL_MIX50, WL_LOCK, WL__COUNT
};

extern const char *const bench_wl_names[WL__COUNT];
extern const char *const bench_wl_help[WL__COUNT];
/* The order they run in: everything that keeps the table's size first,
 * insert (which grows it) last. */
extern const enum bench_wl bench_wl_run_order[WL__COUNT];
int bench_wl_find(const char *name); /* -1 when unknown */

/* The state of one worker.  Worker `index` of `nworkers` owns the items
 * whose (id - 1) % nworkers == index (churn deletes and re-inserts only
 * those, so workers never race on one id). */
struct bench_worker {
    const struct bench_target *t;
    void *conn;
    int index, nworkers;
    uint64_t rng;
    long seq;        /* inserts done by this worker              */
    char err[BENCH_ERRLEN];
};

/* One operation of workload wl: 0, or -1 with w->err set.  A read that
 * finds no row, or the wrong one, and a scan with the wrong number of
 * matches are errors: the bench checks the answers it times. */
int bench_wl_step(enum bench_wl wl, struct bench_worker *w);
/* The data set, made once by bench_data_init() before any worker starts
 * (so that checking an answer costs a strcmp, not a snprintf):
 * item id (1..BENCH_ITEMS) and the name of parent id (1..BENCH_PARENTS). */
int bench_data_init(int64_t items); /* -1: out of memory */
const struct bench_item *bench_item(int64_t id);
const char *bench_parent_name(int64_t id);
uint64_t bench_rnd(uint64_t *s);

/* ------------------------------------------------------------------ */
/* Latency histogram (latency.c): log-linear buckets, 64 per power of two
 * (at most 1.6% error), in nanoseconds. */
#define HIST_SUB 64
#define HIST_BUCKETS (2 * HIST_SUB + 58 * HIST_SUB)
struct bench_hist {
    uint64_t n;
    uint64_t b[HIST_BUCKETS];
};
void hist_add(struct bench_hist *h, uint64_t ns);
void hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* The q-quantile (0 < q <= 1) in microseconds; 0 when empty. */
double hist_quantile_us(const struct bench_hist *h, double q);

/* ------------------------------------------------------------------ */
/* One configuration (runner.c). */
enum bench_kind { KIND_THREADS, KIND_PROCESSES, KIND__COUNT };
extern const char *const bench_kind_names[KIND__COUNT];

struct bench_spec {
    const struct bench_target *t;
    const char *dir;
    enum bench_wl wl;
    enum bench_kind kind;
    int workers;
    double warmup, duration; /* seconds */
    int reps;
};

struct bench_result {
    /* What was run. */
    const char *workload, *engine, *mode, *kind;
    int workers;
    /* What came out. */
    int ok;                  /* 0: an operation failed (see err)        */
    int reps;                /* timed windows                           */
    double ops_per_s[BENCH_MAX_REPS];
    double median, min, max; /* ops/s over the reps                     */
    double p50_us, p99_us;   /* over every timed op of every rep        */
    double lock_wait_pct;    /* of the workers' timed time; < 0: unknown */
    uint64_t wait_ns, busy_ns; /* its parts, summed over the reps       */
    uint64_t ops;            /* timed ops in all                        */
    int64_t rows;            /* items in the data set                   */
    char cache_mb[16];       /* --cache-mb, "" for the default          */
    uint64_t anon_kib;       /* processes: the largest growth of a
                                worker's RssAnon (anonymous memory; the
                                shared cache is RssShmem, not in it) from
                                before it opened the engine to the end
                                of its windows; 0: not measured
                                (threads)                               */
    char err[BENCH_ERRLEN];
};

/* A result being gathered over several launches of the same
 * configuration (bzbench interleaves the engines' windows):
 * bench_acc_init, then bench_acc_run (or _merge) any number of times, then
 * bench_acc_finish for the median, min, max and quantiles. */
struct bench_acc {
    struct bench_result r;   /* r.ops_per_s[0..r.reps) so far            */
    struct bench_hist hist;  /* every timed op of every window so far    */
};
void bench_acc_init(struct bench_acc *a, const struct bench_spec *spec);
/* Launch the workers of spec for its spec->reps windows and add them to
 * a.  Returns 0, or -1 when an operation failed (a->r.ok is then 0). */
int bench_acc_run(struct bench_acc *a, const struct bench_spec *spec);
void bench_acc_merge(struct bench_acc *into, const struct bench_acc *from);
void bench_acc_finish(struct bench_acc *a);
double bench_now(void); /* CLOCK_MONOTONIC, seconds */

/* ------------------------------------------------------------------ */
/* Report (report.c). */
void report_header(FILE *f);
void report_row(FILE *f, const struct bench_result *r);
/* The pivot: median ops/s per workload, kind and workers, a column per
 * engine and mode.  markdown: a Markdown table instead of aligned text. */
void report_summary(FILE *f, const struct bench_result *rs, size_t n,
                    int markdown);
int report_csv(const char *path, const struct bench_result *rs, size_t n);
/* summary.md's first block: each target, the measured ratio, met or not. */
void report_verdict(FILE *f, const struct bench_result *rs, size_t n);
/* dir/plots.gp, and with gnuplot one PNG per workload in dir: 0; 1 (with
 * a note) when gnuplot is not installed; -1 when it failed. */
int report_plots(const char *dir, const struct bench_result *rs, size_t n);

/* Machine (machine.c) and allocator (alloc.c). */
/* when: "at start", "at the end" (of the load average). */
void machine_describe(FILE *f, const char *prefix, const char *when);
/* "+glibc" in bzbench-glibc, "" in bzbench. */
const char *alloc_suffix(void);
/* The malloc actually in use: "jemalloc 5.3.0-..." or "glibc malloc". */
const char *alloc_describe(void);
/* 1 when the malloc in use is the one this executable was built for. */
int alloc_as_built(void);

#endif /* BZBENCH_H */
