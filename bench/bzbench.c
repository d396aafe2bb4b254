/*
 * bzbench.c - contention benchmarks: Bazoola (flock and shared lock modes)
 * against SQLite, threads against processes (docs/benchmarks.md).
 *
 * Each engine and mode gets a fresh data directory with the data set
 * loaded (workloads.c).  Then every selected workload x kind x worker
 * count is one configuration, run for each engine in turn (runner.c):
 * warm-up, then R timed windows.  Rows are printed as they finish; at the
 * end a summary, and with --out the CSV, the summary in Markdown, the
 * machine and the plots.
 *
 * jemalloc against glibc malloc: bzbench is linked with jemalloc; after
 * each scan configuration it runs the same one through bzbench-glibc (the
 * same sources linked without jemalloc, found next to bzbench, with a
 * directory of its own), whose row reads mode "shared+glibc".
 *
 * See docs/benchmarks.md.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bazoola.h>

#include "bench.h"
#include "common/cli.h"

extern char **environ;


static struct bench_target targets[] = {
    { "bazoola", "flock", NULL, &bench_bazoola, BZ_LOCK_FLOCK, 0 },
    { "bazoola", "shared", NULL, &bench_bazoola, BZ_LOCK_SHARED, 0 },
    { "sqlite", "off", NULL, &bench_sqlite, 0, 0 },
    { "sqlite", "normal", NULL, &bench_sqlite, 1, 0 },
    { "lmdb", "nosync", NULL, &bench_lmdb, 0, 0 },
};
#define NTARGETS (sizeof targets / sizeof targets[0])
#define BENCH_MAX_ROWS 4
#define NCOLS (BENCH_MAX_ROWS * NTARGETS)

/* 20000 -> "20k", 1000000 -> "1M", 1500 -> "1500". */
static void rows_label(char *buf, size_t len, int64_t n)
{
    if (n % 1000000 == 0)
        snprintf(buf, len, "%lldM", (long long)(n / 1000000));
    else if (n % 1000 == 0)
        snprintf(buf, len, "%lldk", (long long)(n / 1000));
    else
        snprintf(buf, len, "%lld", (long long)n);
}

struct opts {
    int wl[WL__COUNT];        /* selected workloads                  */
    int target[NTARGETS];     /* selected engines/modes              */
    int glibc;                /* the shared+glibc scan rows          */
    int kind[KIND__COUNT];
    int workers[BENCH_MAX_WORKERS], nworkers;
    double duration, warmup;
    int reps;
    int64_t rows[BENCH_MAX_ROWS]; /* --rows, in the order given        */
    int nrows;
    int quick;
    const char *out, *dir, *raw, *rows_arg, *cache_mb;
    /* The lists as given. */
    const char *workers_arg, *kinds_arg;
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: bzbench [OPTION...]\n"
"Contention benchmarks: Bazoola (lock modes flock, shared) and SQLite (WAL,\n"
"synchronous off/normal), threads and processes, on one data set.\n"
"\n"
"  --quick            CI smoke: workers 1,2,4, 0.2 s windows, 1 rep\n"
"  --workloads LIST   read,read_join,insert,update,churn,scan,mix90,mix50,lock\n"
"                     (default: all)\n"
"  --engines LIST     flock,shared,off,normal,nosync,glibc; 'bazoola' is\n"
"                     flock,shared,glibc, 'sqlite' is off,normal, 'lmdb'\n"
"                     is nosync, 'all' (default) is all three; glibc =\n"
"                     the scan through bzbench-glibc, mode shared+glibc\n"
"  --rows LIST        items in the data set (default 20000; 1000..10^7);\n"
"                     several sizes run side by side, window by window,\n"
"                     as columns 'shared@20k', 'shared@1M', ...\n"
"  --cache-mb MB      Bazoola's shared cache (BAZOOLA_CACHE_MB for every\n"
"                     process; default: it follows the data)\n"
"  --workers LIST     worker counts (default 1,2,4,8; quick 1,2,4)\n"
"  --kinds LIST       threads,processes (default: both)\n"
"  --duration SEC     length of one timed window (default 1; quick 0.2)\n"
"  --reps N           timed windows per configuration, the engines taking\n"
"                     turns window by window (default 3; quick 1)\n"
"  --warmup SEC       warm-up before each window (default 0.2; quick 0.05)\n"
"  --out DIR          write DIR/results.csv, summary.md, machine.txt and\n"
"                     a PNG per workload (with gnuplot)\n"
"  --dir DIR          put the data directories in DIR (default: a new\n"
"                     directory under $TMPDIR or /tmp, removed at the end)\n"
"  -h, --help         this text\n"
"  -V, --version      the version\n"
"\n"
"Workloads:\n");
    for (int i = 0; i < WL__COUNT; i++)
        fprintf(f, "  %-10s %s\n", bench_wl_names[i], bench_wl_help[i]);
    fprintf(f,
"\n"
"Threads of a process share one bz_db handle; every process and every\n"
"SQLite worker opens its own.  Exit status: 0; 1 when an operation failed\n"
"or gave a wrong answer; 2 on bad usage.  Slow numbers never fail.\n");
}

static int bad(const char *fmt, const char *arg)
{
    char why[600];
    snprintf(why, sizeof why, fmt, arg);
    cli_error("bzbench", NULL, "%s", why);
    fputs("Run 'bzbench --help' for usage.\n", stderr);
    return -1;
}

/* Calls item() for each comma-separated element of list. */
static int each(const char *list, int (*item)(struct opts *, const char *),
                struct opts *o)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return bad("list too long: '%s'", list);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (item(o, t))
            return -1;
        n++;
    }
    return n ? 0 : bad("empty list: '%s'", list);
}

static int add_workload(struct opts *o, const char *s)
{
    int i = bench_wl_find(s);
    if (i < 0)
        return bad("unknown workload '%s'", s);
    o->wl[i] = 1;
    return 0;
}

static int add_engine(struct opts *o, const char *s)
{
    int all = strcmp(s, "all") == 0;
    int any = 0;
    for (size_t i = 0; i < NTARGETS; i++)
        if (all || strcmp(s, targets[i].engine) == 0 ||
            strcmp(s, targets[i].mode) == 0) {
            o->target[i] = 1;
            any = 1;
        }
    if (all || strcmp(s, "bazoola") == 0 || strcmp(s, "glibc") == 0) {
        o->glibc = 1;
        any = 1;
    }
    return any ? 0 : bad("unknown engine or mode '%s'", s);
}

static int add_kind(struct opts *o, const char *s)
{
    for (int k = 0; k < KIND__COUNT; k++)
        if (strcmp(s, bench_kind_names[k]) == 0) {
            o->kind[k] = 1;
            return 0;
        }
    return bad("unknown kind '%s'", s);
}

static int add_workers(struct opts *o, const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < 1 || n > BENCH_MAX_WORKERS)
        return bad("workers must be 1..64: '%s'", s);
    for (int i = 0; i < o->nworkers; i++)
        if (o->workers[i] == n)
            return 0;
    if (o->nworkers == BENCH_MAX_WORKERS)
        return bad("too many worker counts: '%s'", s);
    o->workers[o->nworkers++] = (int)n;
    return 0;
}

static int number(const char *s, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno || *end || end == s || !(*v >= lo && *v <= hi) ? -1 : 0;
}

static int add_rows(struct opts *o, const char *s)
{
    double r;
    if (number(s, 1000, BENCH_ITEMS_MAX, &r) || r != (double)(int64_t)r)
        return bad("--rows takes whole numbers from 1000 to 10000000: '%s'",
                   s);
    if (o->nrows == BENCH_MAX_ROWS)
        return bad("--rows: at most 4 sizes: '%s'", s);
    o->rows[o->nrows++] = (int64_t)r;
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    const char *wls = NULL, *engines = NULL, *dur = NULL, *reps = NULL,
               *warm = NULL;
    /* --raw FILE is internal (bzbench-glibc run by bzbench): no output
     * but each configuration's struct bench_acc written to FILE. */
    static const struct option longopts[] = {
        { "quick", no_argument, NULL, 'q' },
        { "workloads", required_argument, NULL, 'W' },
        { "engines", required_argument, NULL, 'e' },
        { "workers", required_argument, NULL, 'w' },
        { "kinds", required_argument, NULL, 'k' },
        { "duration", required_argument, NULL, 'd' },
        { "reps", required_argument, NULL, 'r' },
        { "warmup", required_argument, NULL, 'u' },
        { "out", required_argument, NULL, 'o' },
        { "dir", required_argument, NULL, 'D' },
        { "raw", required_argument, NULL, 'R' },
        { "rows", required_argument, NULL, 'n' },
        { "cache-mb", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    struct cli cli;
    int c;
    cli_init(&cli, "bzbench", usage, "", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cli.status == BZ_EXIT_OK ? 1 : -2;
        case 'q': o->quick = 1; break;
        case 'W': wls = optarg; break;
        case 'e': engines = optarg; break;
        case 'w': o->workers_arg = optarg; break;
        case 'k': o->kinds_arg = optarg; break;
        case 'd': dur = optarg; break;
        case 'r': reps = optarg; break;
        case 'u': warm = optarg; break;
        case 'o': o->out = optarg; break;
        case 'D': o->dir = optarg; break;
        case 'n': o->rows_arg = optarg; break;
        case 'c': o->cache_mb = optarg; break;
        default: o->raw = optarg; break; /* 'R' */
        }
    }
    if (cli_operands(&cli, argc, argv, 0, 0, "none"))
        return -2;
    if (each(wls ? wls : "read,read_join,insert,update,churn,scan,mix90,mix50,lock",
             add_workload, o) ||
        each(engines ? engines : "all", add_engine, o) ||
        each(o->kinds_arg ? o->kinds_arg : "threads,processes", add_kind, o) ||
        each(o->workers_arg ? o->workers_arg : o->quick ? "1,2,4" : "1,2,4,8",
             add_workers, o))
        return -1;
    double r = 0;
    if (number(dur ? dur : o->quick ? "0.2" : "1", 0.01, 3600, &o->duration))
        return bad("--duration must be 0.01..3600 seconds: '%s'", dur);
    if (number(warm ? warm : o->quick ? "0.05" : "0.2", 0, 3600, &o->warmup))
        return bad("--warmup must be 0..3600 seconds: '%s'", warm);
    if (number(reps ? reps : o->quick ? "1" : "3", 1, BENCH_MAX_REPS, &r) ||
        r != (int)r)
        return bad("--reps must be 1..50: '%s'", reps);
    o->reps = (int)r;
    if (each(o->rows_arg ? o->rows_arg : "20000", add_rows, o))
        return -1;
    /* Every Bazoola process takes it from the environment, bzbench-glibc
     * too; the library checks the range and says it at the first open. */
    if (o->cache_mb) {
        if (number(o->cache_mb, 0.03, 1e9, &r))
            return bad("--cache-mb must be a number of MiB: '%s'",
                       o->cache_mb);
        setenv("BAZOOLA_CACHE_MB", o->cache_mb, 1);
        bench_cache_mb = o->cache_mb;
    }
    /* Worker counts in increasing order. */
    for (int a = 1; a < o->nworkers; a++)
        for (int b = a; b > 0 && o->workers[b - 1] > o->workers[b]; b--) {
            int t = o->workers[b];
            o->workers[b] = o->workers[b - 1];
            o->workers[b - 1] = t;
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directories. */
static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* buf = "base/name" or "base/name-suffix"; -1 when it does not fit. */
static int path_of(char *buf, size_t len, const char *base, const char *name,
                   const char *suffix)
{
    int n = snprintf(buf, len, "%s/%s%s%s", base, name, suffix ? "-" : "",
                     suffix ? suffix : "");
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "bzbench: %s: path too long\n", base);
        return -1;
    }
    return 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "bzbench: %s: %s\n", path, strerror(errno));
    return -1;
}

/* ------------------------------------------------------------------ */
struct results {
    struct bench_result *r;
    size_t n, cap;
    int failed;
};

static int add_result(struct results *rs, const struct bench_result *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 64;
        struct bench_result *p = realloc(rs->r, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "bzbench: out of memory\n");
            return -1;
        }
        rs->r = p;
        rs->cap = cap;
    }
    rs->r[rs->n++] = *r;
    if (!r->ok)
        rs->failed = 1;
    return 0;
}

/* Put the data set back after an insert configuration (not timed). */
static void restore(const struct bench_target *t, const char *dir,
                    struct results *rs)
{
    char err[BENCH_ERRLEN];
    void *shared = NULL, *conn = NULL;
    int rc = t->ops->share(t, dir, &shared, err);
    if (!rc) {
        rc = t->ops->open(t, dir, shared, &conn, err);
        if (!rc) {
            rc = t->ops->restore(conn, err);
            t->ops->close(conn);
        }
        t->ops->unshare(shared);
    }
    if (rc) {
        fprintf(stderr, "bzbench: %s %s: after insert: %s\n", t->engine,
                t->label, err);
        rs->failed = 1;
    }
}

/* A fresh directory for target t with the data set loaded: 0, or -1 (the
 * target is then left out of the run). */
static int prepare(const struct bench_target *t, const char *base, char *dir,
                   size_t len, int quiet)
{
    char sz[24];
    rows_label(sz, sizeof sz, t->rows);
    char name[96];
    snprintf(name, sizeof name, "%s-%s", t->engine, sz);
    if (path_of(dir, len, base, name, t->label) || rm_rf(dir) ||
        make_dir(dir))
        return -1;
    if (!quiet) {
        printf("== %s %s: loading %d parents and %lld items into %s\n",
               t->engine, t->label, BENCH_PARENTS, (long long)bench_items,
               dir);
        fflush(stdout);
    }
    char err[BENCH_ERRLEN];
    double t0 = bench_now();
    if (t->ops->load(t, dir, err)) {
        fprintf(stderr, "bzbench: %s %s: load: %s\n", t->engine, t->label,
                err);
        t->ops->teardown(dir);
        rm_rf(dir);
        return -1;
    }
    if (!quiet) {
        double s = bench_now() - t0;
        printf("   loaded in %.2f s (%.0f rows/s)\n", s,
               (double)(t->rows + BENCH_PARENTS) / (s > 0 ? s : 1e-9));
    }
    return 0;
}

/* bzbench-glibc next to this executable, or NULL (with a note) when the
 * comparison cannot run. */
static const char *glibc_exe(void)
{
    static char exe[PATH_MAX + 8];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        printf("note: cannot find this executable (/proc/self/exe): jemalloc "
               "against glibc skipped\n");
        return NULL;
    }
    self[n] = '\0';
    snprintf(exe, sizeof exe, "%s-glibc", self);
    if (access(exe, X_OK) != 0) {
        printf("note: %s not found: jemalloc against glibc skipped\n", exe);
        return NULL;
    }
    if (!alloc_as_built()) {
        printf("note: this bzbench runs with %s, not jemalloc (a sanitizer "
               "build?): jemalloc against glibc skipped\n", alloc_describe());
        return NULL;
    }
    return exe;
}

/* The rows of bzbench-glibc, as the parent names them. */
static struct bench_target glibc_target = {
    "bazoola", "shared", "shared+glibc", &bench_bazoola, BZ_LOCK_SHARED, 0
};

/* One window of a scan configuration through bzbench-glibc (which loads a
 * directory of its own and hands back its struct bench_acc in --raw
 * FILE: the same sources, so the same layout); added to acc. */
static void run_glibc(const struct opts *o, const char *exe, const char *base,
                      const struct bench_spec *spec, struct bench_acc *acc)
{
    char dir[PATH_MAX], rawpath[PATH_MAX], dur[32], warm[32], nw[16],
        rows[24];
    if (path_of(dir, sizeof dir, base, "glibc", NULL) ||
        path_of(rawpath, sizeof rawpath, base, "glibc.raw", NULL) ||
        make_dir(dir))
        return;
    snprintf(dur, sizeof dur, "%g", o->duration);
    snprintf(warm, sizeof warm, "%g", o->warmup);
    snprintf(nw, sizeof nw, "%d", spec->workers);
    snprintf(rows, sizeof rows, "%lld", (long long)bench_items);
    char *argv[] = {
        (char *)exe, "--raw", rawpath, "--workloads", "scan", "--engines",
        "shared", "--workers", nw, "--kinds",
        (char *)bench_kind_names[spec->kind], "--duration", dur, "--reps",
        "1", "--warmup", warm, "--dir", dir, "--rows", rows, NULL,
    };
    fflush(NULL);
    pid_t pid;
    int e = posix_spawn(&pid, exe, NULL, NULL, argv, environ);
    int st = 0;
    if (!e)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    struct bench_acc *got = malloc(sizeof *got);
    FILE *f = fopen(rawpath, "rb");
    if (got && f && fread(got, sizeof *got, 1, f) == 1) {
        bench_acc_merge(acc, got);
    } else if (acc->r.ok) {
        acc->r.ok = 0;
        if (e)
            snprintf(acc->r.err, sizeof acc->r.err, "bzbench-glibc: %s",
                     strerror(e));
        else
            snprintf(acc->r.err, sizeof acc->r.err, "bzbench-glibc gave "
                     "no result (exit status %d)",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    if (f)
        fclose(f);
    free(got);
    remove(rawpath);
    rm_rf(dir);
}

/* Every selected configuration.  Each engine has its own directory,
 * loaded first.  Within a configuration the engines take turns window by
 * window (engine A's first window, B's first, ..., then A's second), each
 * window a launch of its own workers: a change in the machine's load
 * during the run falls on all engines alike, and the median of the
 * windows leaves out a burst that hits one. */
static void run_all(const struct opts *o, const char *base, FILE *raw,
                    struct results *rs)
{
    /* A column per data-set size and engine/mode; with several sizes the
     * label names the size ("shared@1M"), and each size has its own
     * directories, loaded before anything runs. */
    struct bench_target cols[NCOLS];
    char labels[NCOLS][48], dirs[NCOLS][PATH_MAX];
    int ready[NCOLS] = { 0 };
    /* Bazoola's shared segment lives while a process has the directory
     * open; without a keeper every window's workers would make it anew
     * and time a cold cache.  A deployment keeps its processes: so does
     * the bench (SQLite and LMDB keep theirs in the kernel's page cache
     * anyway).  Not LMDB's way: it allows one environment per process. */
    void *keep[NCOLS] = { 0 };
    size_t ncols = 0;
    for (int r = 0; r < o->nrows; r++)
        for (size_t i = 0; i < NTARGETS; i++) {
            struct bench_target *c = &cols[ncols];
            *c = targets[i];
            c->rows = o->rows[r];
            if (o->nrows > 1) {
                char sz[24];
                rows_label(sz, sizeof sz, c->rows);
                snprintf(labels[ncols], sizeof labels[ncols], "%s@%s",
                         targets[i].label, sz);
                c->label = labels[ncols];
            }
            if (o->target[i]) {
                bench_items = c->rows;
                ready[ncols] = prepare(c, base, dirs[ncols],
                                       sizeof dirs[ncols], raw != NULL) == 0;
                char err[BENCH_ERRLEN];
                if (ready[ncols] && c->ops == &bench_bazoola &&
                    c->setting == BZ_LOCK_SHARED &&
                    c->ops->share(c, dirs[ncols], &keep[ncols], err)) {
                    fprintf(stderr, "bzbench: %s %s: %s\n", c->engine,
                            c->label, err);
                    ready[ncols] = 0;
                }
                if (!ready[ncols])
                    rs->failed = 1;
            }
            ncols++;
        }
    /* The glibc rows come from bzbench-glibc, only for the scan, and only
     * with one size (its own directory is loaded per window). */
    const char *glibc = o->glibc && o->wl[WL_SCAN] && !*alloc_suffix() &&
                                !raw && o->nrows == 1 ? glibc_exe() : NULL;
    fflush(stdout);
    /* acc[ncols]: the glibc row. */
    struct bench_acc *acc = malloc((ncols + 1) * sizeof *acc);
    if (!acc) {
        fprintf(stderr, "bzbench: out of memory\n");
        rs->failed = 1;
        return;
    }
    glibc_target.rows = o->rows[0];
    for (int i = 0; i < WL__COUNT; i++) {
        enum bench_wl wl = bench_wl_run_order[i];
        if (!o->wl[wl])
            continue;
        for (int k = 0; k < KIND__COUNT; k++) {
            if (!o->kind[k])
                continue;
            for (int w = 0; w < o->nworkers; w++) {
                struct bench_spec spec[NCOLS + 1];
                int used[NCOLS + 1] = { 0 };
                for (size_t t = 0; t <= ncols; t++) {
                    used[t] = t < ncols ? ready[t]
                                        : wl == WL_SCAN && glibc != NULL;
                    spec[t] = (struct bench_spec){
                        .t = t < ncols ? &cols[t] : &glibc_target,
                        .dir = t < ncols ? dirs[t] : NULL, .wl = wl,
                        .kind = (enum bench_kind)k, .workers = o->workers[w],
                        .warmup = o->warmup, .duration = o->duration,
                        .reps = 1,
                    };
                    bench_items = spec[t].t->rows;
                    bench_acc_init(&acc[t], &spec[t]);
                }
                for (int rep = 0; rep < o->reps; rep++)
                    for (size_t t = 0; t <= ncols; t++) {
                        if (!used[t] || !acc[t].r.ok)
                            continue;
                        /* Workers (threads, or children forked now) and
                         * the loaders read the size from here. */
                        bench_items = spec[t].t->rows;
                        if (t == ncols) {
                            run_glibc(o, glibc, base, &spec[t], &acc[t]);
                            continue;
                        }
                        bench_acc_run(&acc[t], &spec[t]);
                        if (wl == WL_INSERT)
                            restore(&cols[t], dirs[t], rs);
                    }
                for (size_t t = 0; t <= ncols; t++) {
                    if (!used[t])
                        continue;
                    bench_acc_finish(&acc[t]);
                    if (raw) {
                        if (fwrite(&acc[t], sizeof acc[t], 1, raw) != 1)
                            rs->failed = 1;
                    } else {
                        report_row(stdout, &acc[t].r);
                    }
                    add_result(rs, &acc[t].r);
                }
            }
        }
    }
    free(acc);
    for (size_t t = 0; t < ncols; t++)
        if (ready[t]) {
            if (keep[t])
                cols[t].ops->unshare(keep[t]);
            cols[t].ops->teardown(dirs[t]);
            rm_rf(dirs[t]);
        }
}

/* Results in presentation order: by workload, then as they ran. */
static void sort_results(struct results *rs)
{
    /* qsort is not stable: sort an index by (workload, position). */
    struct bench_result *copy = malloc(rs->n * sizeof *copy);
    size_t *idx = malloc(rs->n * sizeof *idx);
    if (!copy || !idx) {
        free(copy);
        free(idx);
        return;
    }
    memcpy(copy, rs->r, rs->n * sizeof *copy);
    size_t k = 0;
    for (int wl = 0; wl < WL__COUNT; wl++)
        for (size_t i = 0; i < rs->n; i++)
            if (bench_wl_find(copy[i].workload) == wl)
                idx[k++] = i;
    for (size_t i = 0; i < k; i++)
        rs->r[i] = copy[idx[i]];
    free(copy);
    free(idx);
}

static int write_outputs(const struct opts *o, struct results *rs, int argc,
                         char **argv, double elapsed)
{
    char path[PATH_MAX];
    int rc = 0;
    if (make_dir(o->out))
        return -1;
    snprintf(path, sizeof path, "%s/results.csv", o->out);
    if (report_csv(path, rs->r, rs->n)) {
        fprintf(stderr, "bzbench: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/summary.md", o->out);
    FILE *f = fopen(path, "w");
    if (f) {
        report_verdict(f, rs->r, rs->n);
        fprintf(f, "## Results\n\nMedian ops/s over %d window(s) of %g s "
                "each.\n\n", o->reps, o->duration);
        report_summary(f, rs->r, rs->n, 1);
        fclose(f);
    } else {
        fprintf(stderr, "bzbench: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/machine.txt", o->out);
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "command:");
        for (int i = 0; i < argc; i++)
            fprintf(f, " %s", argv[i]);
        fprintf(f, "\nelapsed: %.0f s\n", elapsed);
        machine_describe(f, "", "at the end");
        fclose(f);
    }
    /* A plot that fails is reported, never a failure of the run. */
    int plots = report_plots(o->out, rs->r, rs->n);
    printf("wrote %s/: results.csv, summary.md, machine.txt%s\n", o->out,
           plots == 0 ? ", plots.gp and a PNG per workload" : ", plots.gp");
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    /* parse: 0 go on, 1 answered (--help, --version), else a usage error. */
    int parsed = parse(argc, argv, &o);
    if (parsed == 1)
        return BZ_EXIT_OK;
    if (parsed)
        return BZ_EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    int64_t most = 0;
    for (int i = 0; i < o.nrows; i++)
        most = o.rows[i] > most ? o.rows[i] : most;
    if (bench_data_init(most)) {
        fprintf(stderr, "bzbench: out of memory for %lld rows\n",
                (long long)most);
        return BZ_EXIT_FAIL;
    }
    double started = bench_now();
    static char labels[NTARGETS][32];
    for (size_t i = 0; i < NTARGETS; i++) {
        snprintf(labels[i], sizeof labels[i], "%s%s", targets[i].mode,
                 alloc_suffix());
        targets[i].label = labels[i];
    }
    FILE *raw = NULL;
    if (o.raw && !(raw = fopen(o.raw, "wb"))) {
        fprintf(stderr, "bzbench: %s: %s\n", o.raw, strerror(errno));
        return BZ_EXIT_FAIL;
    }
    int glibc = o.glibc && o.wl[WL_SCAN] && !*alloc_suffix() && !o.raw;

    size_t nt = 0, nk = 0, nwl = 0;
    for (size_t i = 0; i < NTARGETS; i++)
        nt += (size_t)o.target[i];
    for (int k = 0; k < KIND__COUNT; k++)
        nk += (size_t)o.kind[k];
    for (int i = 0; i < WL__COUNT; i++)
        nwl += (size_t)o.wl[i];
    glibc = glibc && o.nrows == 1;
    size_t configs = nk * (size_t)o.nworkers *
                     (nt * nwl * (size_t)o.nrows + (glibc ? 1 : 0));
    if (!o.raw) {
        printf("bzbench %s: %zu configurations x %d window(s) x (%g s "
               "warm-up + %g s), about %.0f s\n", bz_version(), configs,
               o.reps, o.warmup, o.duration,
               (double)configs * o.reps * (o.warmup + o.duration + 0.06));
        machine_describe(stdout, "  ", "at start");
        if (!alloc_as_built())
            printf("  note: built for %s but running with %s\n",
                   *alloc_suffix() ? "glibc malloc" : "jemalloc",
                   alloc_describe());
        printf("  lock%%: share of the workers' time spent waiting for "
               "Bazoola's writer lock (SQLite: not reported)\n\n");
        report_header(stdout);
    }
    fflush(stdout);

    char base[PATH_MAX];
    int own_base = 0;
    if (o.dir) {
        snprintf(base, sizeof base, "%s", o.dir);
        if (make_dir(base))
            return BZ_EXIT_FAIL;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/bzbench-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(base)) {
            fprintf(stderr, "bzbench: %s: %s\n", base, strerror(errno));
            return BZ_EXIT_FAIL;
        }
        own_base = 1;
    }

    struct results rs = { NULL, 0, 0, 0 };
    run_all(&o, base, raw, &rs);
    if (raw && fclose(raw) != 0)
        rs.failed = 1;
    if (own_base)
        rm_rf(base);

    if (!o.raw) {
        sort_results(&rs);
        printf("\nSummary: median ops/s (%d window(s) of %g s)\n", o.reps,
               o.duration);
        report_summary(stdout, rs.r, rs.n, 0);
        double elapsed = bench_now() - started;
        printf("\nelapsed: %.0f s\n", elapsed);
        if (o.out && write_outputs(&o, &rs, argc, argv, elapsed))
            rs.failed = 1;
        if (rs.failed)
            printf("\nbzbench: some configurations FAILED (see above)\n");
    }
    free(rs.r);
    return rs.failed ? BZ_EXIT_FAIL : BZ_EXIT_OK;
}
