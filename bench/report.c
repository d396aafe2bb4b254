/*
 * report.c - the terminal table, results.csv, summary.md and the plots.
 *
 * results.csv has exactly the columns
 *   workload,engine,mode,kind,workers,ops_per_s,p50_us,p99_us,lock_wait_pct,
 *   rows,cache_mb,anon_kib
 * with ops_per_s the median over the reps; a failed configuration keeps its
 * row with empty numbers.  rows and cache_mb say what the run was given
 * (cache_mb empty: the default, which follows the data), anon_kib the
 * largest growth of a worker process's anonymous memory from before it
 * opened the engine to the end of its windows (empty for threads).  The terminal also shows min and max.
 *
 * lock_wait_pct is the share of the workers' timed time spent waiting
 * for Bazoola's writer lock (every stage: the process mutex, the shared
 * robust mutex, the flock), from bz_lock_wait_ns() read by each worker
 * around its timed operations.  SQLite waits inside its own locking and
 * busy handler, which it does not report: its cells stay empty ("-").
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* The terminal table. */
void report_header(FILE *f)
{
    fprintf(f, "%-10s %-7s %-13s %-9s %3s %11s  %-25s %9s %9s %5s\n",
            "workload", "engine", "mode", "kind", "w", "ops/s",
            "[min .. max]", "p50 us", "p99 us", "lock%");
}

void report_row(FILE *f, const struct bench_result *r)
{
    fprintf(f, "%-10s %-7s %-13s %-9s %3d ", r->workload, r->engine, r->mode,
            r->kind, r->workers);
    if (!r->ok) {
        fprintf(f, "FAILED: %s\n", r->err);
        return;
    }
    char range[64];
    snprintf(range, sizeof range, "[%.0f .. %.0f]", r->min, r->max);
    char wait[16] = "-";
    if (r->lock_wait_pct >= 0)
        snprintf(wait, sizeof wait, "%.1f", r->lock_wait_pct);
    fprintf(f, "%11.0f  %-25s %9.1f %9.1f %5s\n", r->median, range, r->p50_us,
            r->p99_us, wait);
    fflush(f);
}

/* ------------------------------------------------------------------ */
/* The summary: rows workload x kind x workers, a column per engine/mode. */
struct col {
    const char *engine, *mode;
};

static size_t columns(const struct bench_result *rs, size_t n, struct col *c,
                      size_t max)
{
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nc && !(strcmp(c[j].engine, rs[i].engine) == 0 &&
                           strcmp(c[j].mode, rs[i].mode) == 0))
            j++;
        if (j == nc && nc < max)
            c[nc++] = (struct col){ rs[i].engine, rs[i].mode };
    }
    return nc;
}

static const struct bench_result *
find(const struct bench_result *rs, size_t n, const char *wl, const char *kind,
     int workers, const struct col *c)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rs[i].workload, wl) == 0 && strcmp(rs[i].kind, kind) == 0 &&
            rs[i].workers == workers && strcmp(rs[i].engine, c->engine) == 0 &&
            strcmp(rs[i].mode, c->mode) == 0)
            return &rs[i];
    return NULL;
}

void report_summary(FILE *f, const struct bench_result *rs, size_t n,
                    int markdown)
{
    struct col c[16];
    size_t nc = columns(rs, n, c, 16);
    char name[48];
    if (markdown) {
        fprintf(f, "| workload | kind | workers |");
        for (size_t j = 0; j < nc; j++)
            fprintf(f, " %s %s |", c[j].engine, c[j].mode);
        fprintf(f, "\n|---|---|--:|");
        for (size_t j = 0; j < nc; j++)
            fprintf(f, "--:|");
        fprintf(f, "\n");
    } else {
        fprintf(f, "%-10s %-9s %3s", "workload", "kind", "w");
        for (size_t j = 0; j < nc; j++) {
            snprintf(name, sizeof name, "%s %s", c[j].engine, c[j].mode);
            fprintf(f, " %20s", name);
        }
        fprintf(f, "\n");
    }
    /* Workers in increasing order, as they appear. */
    int ws[BENCH_MAX_WORKERS], nw = 0;
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (k < nw && ws[k] != rs[i].workers)
            k++;
        if (k == nw && nw < BENCH_MAX_WORKERS)
            ws[nw++] = rs[i].workers;
    }
    for (int a = 1; a < nw; a++)
        for (int b = a; b > 0 && ws[b - 1] > ws[b]; b--) {
            int t = ws[b];
            ws[b] = ws[b - 1];
            ws[b - 1] = t;
        }
    for (int wl = 0; wl < WL__COUNT; wl++)
        for (int k = 0; k < KIND__COUNT; k++)
            for (int w = 0; w < nw; w++) {
                const char *wn = bench_wl_names[wl], *kn = bench_kind_names[k];
                int any = 0;
                for (size_t j = 0; j < nc; j++)
                    any |= find(rs, n, wn, kn, ws[w], &c[j]) != NULL;
                if (!any)
                    continue;
                if (markdown)
                    fprintf(f, "| %s | %s | %d |", wn, kn, ws[w]);
                else
                    fprintf(f, "%-10s %-9s %3d", wn, kn, ws[w]);
                for (size_t j = 0; j < nc; j++) {
                    const struct bench_result *r = find(rs, n, wn, kn, ws[w],
                                                        &c[j]);
                    char cell[32];
                    if (!r)
                        snprintf(cell, sizeof cell, "-");
                    else if (!r->ok)
                        snprintf(cell, sizeof cell, "FAILED");
                    else
                        snprintf(cell, sizeof cell, "%.0f", r->median);
                    if (markdown)
                        fprintf(f, " %s |", cell);
                    else
                        fprintf(f, " %20s", cell);
                }
                fprintf(f, "\n");
            }
}

/* ------------------------------------------------------------------ */
/* The verdict: each target of the brief, what this run measured, met or
 * not.  A target whose configurations were not run says so. */

struct target {
    const char *what;
    /* numerator and denominator: workload, engine, mode, workers
     * (processes); the ratio must reach min. */
    const char *wl_a, *eng_a, *mode_a;
    int w_a;
    const char *wl_b, *eng_b, *mode_b;
    int w_b;
    double min;
};

static const struct target targets[] = {
    {"point read, shared >= 5x SQLite off (1 process)",
     "read", "bazoola", "shared", 1, "read", "sqlite", "off", 1, 5.0},
    {"point read, 2 processes >= 1.7x 1 process (shared)",
     "read", "bazoola", "shared", 2, "read", "bazoola", "shared", 1, 1.7},
    {"insert >= 2x SQLite off (1 process)",
     "insert", "bazoola", "shared", 1, "insert", "sqlite", "off", 1, 2.0},
    {"insert, 4 processes >= 2x SQLite off with 4",
     "insert", "bazoola", "shared", 4, "insert", "sqlite", "off", 4, 2.0},
    {"insert, 4 processes >= 0.7x our 1 process",
     "insert", "bazoola", "shared", 4, "insert", "bazoola", "shared", 1, 0.7},
    {"ISUBSTR scan >= 3x SQLite LIKE (1 process)",
     "scan", "bazoola", "shared", 1, "scan", "sqlite", "off", 1, 3.0},
    {"90/10 mix, 4 processes, shared >= 5x flock",
     "mix90", "bazoola", "shared", 4, "mix90", "bazoola", "flock", 4, 5.0},
};

static const struct bench_result *
find_proc(const struct bench_result *rs, size_t n, const char *wl,
          const char *engine, const char *mode, int workers)
{
    struct col c = {engine, mode};
    const struct bench_result *r = find(rs, n, wl, "processes", workers, &c);
    return r && r->ok ? r : NULL;
}

void report_verdict(FILE *f, const struct bench_result *rs, size_t n)
{
    int met = 0, measured = 0;
    fprintf(f, "## Verdict\n\n| target | measured | met |\n| --- | --: | :-: |"
               "\n");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const struct target *t = &targets[i];
        const struct bench_result *a = find_proc(rs, n, t->wl_a, t->eng_a,
                                                 t->mode_a, t->w_a);
        const struct bench_result *b = find_proc(rs, n, t->wl_b, t->eng_b,
                                                 t->mode_b, t->w_b);
        if (!a || !b || b->median <= 0) {
            fprintf(f, "| %s | not measured by this run | - |\n", t->what);
            continue;
        }
        double ratio = a->median / b->median;
        measured++;
        met += ratio >= t->min;
        fprintf(f, "| %s | %.0f / %.0f ops/s = %.2fx | %s |\n", t->what,
                a->median, b->median, ratio, ratio >= t->min ? "yes" : "no");
    }
    fprintf(f, "\n%d of %d measured targets met.\n\n", met, measured);
}

int report_csv(const char *path, const struct bench_result *rs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "workload,engine,mode,kind,workers,ops_per_s,p50_us,p99_us,"
               "lock_wait_pct,rows,cache_mb,anon_kib\n");
    for (size_t i = 0; i < n; i++) {
        const struct bench_result *r = &rs[i];
        fprintf(f, "%s,%s,%s,%s,%d,", r->workload, r->engine, r->mode, r->kind,
                r->workers);
        if (r->ok && r->lock_wait_pct >= 0)
            fprintf(f, "%.1f,%.2f,%.2f,%.1f,", r->median, r->p50_us,
                    r->p99_us, r->lock_wait_pct);
        else if (r->ok)
            fprintf(f, "%.1f,%.2f,%.2f,,", r->median, r->p50_us, r->p99_us);
        else
            fprintf(f, ",,,,");
        fprintf(f, "%lld,%s,", (long long)r->rows, r->cache_mb);
        if (r->anon_kib)
            fprintf(f, "%llu", (unsigned long long)r->anon_kib);
        fprintf(f, "\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Plots. */

/* s as a gnuplot single-quoted string ('' stands for a quote). */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* A colour per engine/mode, the same in every plot. */
static const char *colour_of(const char *engine, const char *mode)
{
    static const char *const known[][2] = {
        { "bazoola flock", "#9400d3" },  { "bazoola shared", "#009e73" },
        { "sqlite off", "#0072b2" },     { "sqlite normal", "#e69f00" },
        { "bazoola shared+glibc", "#000000" },
    };
    char name[64];
    snprintf(name, sizeof name, "%s %s", engine, mode);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i][0]) == 0)
            return known[i][1];
    return "#808080";
}

static int write_script(const char *path, const char *dir,
                        const struct bench_result *rs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# Made by bzbench: ops/s against workers, one PNG per "
               "workload.\n"
               "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "  set terminal pngcairo size 900,560 noenhanced font ',10'\n"
               "} else {\n"
               "  set terminal png size 900,560 noenhanced\n"
               "}\n"
               "set logscale x 2\nset logscale y 10\nset grid\n"
               "set key outside right top\nset xlabel 'workers'\n"
               "set ylabel 'ops/s (median of the reps, log scale)'\n");
    struct col c[16];
    size_t nc = columns(rs, n, c, 16);
    int ws[BENCH_MAX_WORKERS], nw = 0, maxw = 1;
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (k < nw && ws[k] != rs[i].workers)
            k++;
        if (k == nw && nw < BENCH_MAX_WORKERS)
            ws[nw++] = rs[i].workers;
        if (rs[i].workers > maxw)
            maxw = rs[i].workers;
    }
    fprintf(f, "set xrange [0.8:%g]\nset xtics (", maxw * 1.25);
    for (int k = 0; k < nw; k++)
        fprintf(f, "%s%d", k ? ", " : "", ws[k]);
    fprintf(f, ")\n");
    for (int wl = 0; wl < WL__COUNT; wl++) {
        const char *wn = bench_wl_names[wl];
        int series = 0;
        char plot[4096], plot99[4096];
        size_t pl = 0, pl99 = 0;
        for (size_t j = 0; j < nc; j++)
            for (int k = 0; k < KIND__COUNT; k++) {
                const char *kn = bench_kind_names[k];
                int pts = 0;
                for (size_t i = 0; i < n; i++) {
                    const struct bench_result *r = &rs[i];
                    if (!r->ok || strcmp(r->workload, wn) ||
                        strcmp(r->kind, kn) || strcmp(r->engine, c[j].engine) ||
                        strcmp(r->mode, c[j].mode))
                        continue;
                    if (pts++ == 0)
                        fprintf(f, "$%s_%d << EOD\n", wn, series);
                    fprintf(f, "%d %.1f %.2f\n", r->workers, r->median,
                            r->p99_us);
                }
                if (!pts)
                    continue;
                fprintf(f, "EOD\n");
                /* The same series twice: ops/s (column 2) and p99
                 * latency (column 3), one plot each. */
                for (int col = 2; col <= 3; col++) {
                    char *dst = col == 2 ? plot : plot99;
                    size_t *len = col == 2 ? &pl : &pl99;
                    if (*len < sizeof plot)
                        *len += (size_t)snprintf(dst + *len,
                                 sizeof plot - *len,
                                 "%s$%s_%d using 1:%d with linespoints lw 2 "
                                 "lc rgb '%s' dt %d pt %d title '%s %s %s'",
                                 series ? ", \\\n  " : "", wn, series, col,
                                 colour_of(c[j].engine, c[j].mode),
                                 k == KIND_THREADS ? 1 : 2,
                                 k == KIND_THREADS ? 7 : 6, c[j].engine,
                                 c[j].mode, kn);
                }
                series++;
            }
        if (!series)
            continue;
        char out[4096];
        snprintf(out, sizeof out, "%s/%s.png", dir, wn);
        fprintf(f, "set output ");
        gp_quote(f, out);
        /* Quoted like the path: a help text with an apostrophe ("the
         * handoff's cost") ended the string early, gnuplot stopped, and
         * lock.png was left empty. */
        char title[512];
        snprintf(title, sizeof title, "%s: %s", wn, bench_wl_help[wl]);
        fprintf(f, "\nset title ");
        gp_quote(f, title);
        fprintf(f, "\nset ylabel 'ops/s (median of the reps, log scale)'"
                   "\nplot %s\nunset output\n", plot);
        snprintf(out, sizeof out, "%s/%s-p99.png", dir, wn);
        fprintf(f, "set output ");
        gp_quote(f, out);
        fprintf(f, "\nset ylabel 'p99 latency, microseconds (log scale)'"
                   "\nplot %s\nunset output\n", plot99);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int report_plots(const char *dir, const struct bench_result *rs, size_t n)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/plots.gp", dir);
    if (write_script(script, dir, rs, n)) {
        fprintf(stderr, "bzbench: %s: %s\n", script, strerror(errno));
        return -1;
    }
    char *argv[] = { "gnuplot", script, NULL };
    pid_t pid;
    int e = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    if (e == ENOENT) {
        printf("note: gnuplot is not installed (Debian: apt-get install "
               "gnuplot-nox): no plots; %s is kept for later\n", script);
        return 1;
    }
    if (e) {
        fprintf(stderr, "bzbench: gnuplot: %s\n", strerror(e));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bzbench: gnuplot %s failed\n", script);
        return -1;
    }
    return 0;
}
