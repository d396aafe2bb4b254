/*
 * bzstat.c - the shared page cache of a data directory, live (README.md,
 * "Watching it").
 *
 * A thin client of the public statistics API (bz_stats_read and friends in
 * bazoola.h), in the manner of LMDB's mdb_stat: it never opens the
 * directory, never attaches to the segment as a user of the cache and
 * takes no lock, so it can watch a busy directory without slowing it down.
 * A snapshot's counters are read at slightly different moments (the API
 * says so); the figures are for people, not for accounting.
 *
 * Output: the segment, the global counters, one line per table (files
 * grouped by bz_stats_file_table), optionally one line per file, and the
 * writer lock (acquisitions, waits and their histogram, the holder, read
 * retries, owner-dead recoveries with their log) and the attached
 * processes; or the same as one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bazoola.h>
#include <jansson.h>

#include "common/cli.h"


#define WATCH_MIN 0.1
#define WATCH_MAX 86400.0
/* Text layout: everything fits 80 columns. */
#define NAME_COL_MIN 6  /* narrowest name column of the table lines      */
#define NAME_COL_MAX 17 /* widest; longer names get a line of their own  */
#define NUMS_FMT "%9s %8s %7s %9s %7s %8s %8s\n" /* 62 columns       */

struct options {
    const char *dir;
    int json;
    int files;
    int reset;
    double watch; /* seconds between snapshots; 0: one snapshot */
};

/* Counter names in JSON, in bz_stat order. */
static const char *const counter_key[BZ_STAT__COUNT] = {
    [BZ_STAT_HITS] = "hits",
    [BZ_STAT_MISSES] = "misses",
    [BZ_STAT_EVICTIONS] = "evictions",
    [BZ_STAT_PAGE_READS] = "page_reads",
    [BZ_STAT_PAGE_WRITES] = "page_writes",
    [BZ_STAT_BYTES_READ] = "bytes_read",
    [BZ_STAT_BYTES_WRITTEN] = "bytes_written",
    [BZ_STAT_DROPS] = "drops",
    [BZ_STAT_OUTSIDE] = "outside_changes",
};

static void usage(FILE *out)
{
    fputs(
"Usage: bzstat [OPTIONS] DIR\n"
"\n"
"Show the shared page cache of the data directory DIR, live: the segment,\n"
"its frames, cache hits and misses, evictions, page reads and writes per\n"
"table (and per file), writers found dead, and the attached processes.\n"
"bzstat only reads the statistics: it takes no lock and opens no table.\n"
"\n"
"Options:\n"
"  -j, --json           print one JSON object instead of text (with the\n"
"                       files always; with --watch, one object per line)\n"
"  -f, --files          show each file of each table too\n"
"  -w, --watch SECONDS  redraw every SECONDS seconds (0.1 to 86400) until\n"
"                       interrupted, with hits and misses per second over\n"
"                       the last interval\n"
"  -r, --reset          zero the counters of DIR's segment; then watch if\n"
"                       --watch is given, else print a confirmation\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version of libbazoola and exit\n"
"\n"
"A directory has a shared segment while some process has it open in lock\n"
"mode shared (the default); lock mode flock uses none.  Lock manager\n"
"statistics: acquisitions, waits, the holder, read retries, recoveries.\n"
"\n"
"Exit status: 0 on success, 1 on an error, 2 on a bad command line, 3 when\n"
"DIR has no shared segment.\n", out);
}

/* ------------------------------------------------------------------ */
/* Formatting. */

/* v in at most width characters: exact when it fits, else scaled with
 * k, M, G, T, P (powers of 1000) and one decimal. */
static const char *fmt_count(char *buf, size_t len, uint64_t v, int width)
{
    static const char suffix[] = "kMGTPE";
    snprintf(buf, len, "%" PRIu64, v);
    if ((int)strlen(buf) <= width)
        return buf;
    double d = (double)v;
    int i = -1;
    do {
        d /= 1000.0;
        i++;
    } while (d >= 999.95 && suffix[i + 1]);
    snprintf(buf, len, "%.1f%c", d, suffix[i]);
    return buf;
}

/* "512 B", "1.9 MiB", ... */
static const char *fmt_bytes(char *buf, size_t len, uint64_t v)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB" };
    if (v < 1024) {
        snprintf(buf, len, "%" PRIu64 " B", v);
        return buf;
    }
    double d = (double)v;
    size_t i = 0;
    for (d /= 1024.0; d >= 1023.95 && i + 1 < sizeof unit / sizeof *unit; i++)
        d /= 1024.0;
    snprintf(buf, len, "%.1f %s", d, unit[i]);
    return buf;
}

/* The hit ratio in percent, or a negative number when nothing was looked
 * up. */
static double hit_ratio(uint64_t hits, uint64_t misses)
{
    uint64_t n = hits + misses;
    return n ? 100.0 * (double)hits / (double)n : -1.0;
}

static const char *fmt_ratio(char *buf, size_t len, double ratio)
{
    if (ratio < 0)
        snprintf(buf, len, "-");
    else /* rounded down: 100.0% only when every lookup hit */
        snprintf(buf, len, "%.1f%%", floor(ratio * 10.0) / 10.0);
    return buf;
}

/* A rate: one decimal below 100, none above. */
static const char *fmt_rate(char *buf, size_t len, double v)
{
    snprintf(buf, len, v < 100.0 ? "%.1f" : "%.0f", v);
    return buf;
}

/* "45s", "3m 12s", "2h 05m", "3d 04h". */
static const char *fmt_age(char *buf, size_t len, uint64_t secs)
{
    if (secs < 60)
        snprintf(buf, len, "%" PRIu64 "s", secs);
    else if (secs < 3600)
        snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 "s", secs / 60, secs % 60);
    else if (secs < 86400)
        snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m", secs / 3600,
                 secs / 60 % 60);
    else
        snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 "h", secs / 86400,
                 secs / 3600 % 24);
    return buf;
}

/* "2025-06-01 11:58:40 (1m 23s ago)", local time; "unknown" for 0. */
static const char *fmt_when(char *buf, size_t len, uint64_t when, time_t now)
{
    struct tm tm;
    time_t t = (time_t)when;
    char date[32], age[32];
    if (!when || !localtime_r(&t, &tm) ||
        !strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm)) {
        snprintf(buf, len, "unknown");
        return buf;
    }
    if ((uint64_t)now >= when)
        snprintf(buf, len, "%s (%s ago)", date,
                 fmt_age(age, sizeof age, (uint64_t)now - when));
    else
        snprintf(buf, len, "%s", date);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Tables: the files of a snapshot grouped by table. */

struct table_sum {
    const char *name;       /* points into the snapshot                   */
    uint64_t c[BZ_STAT__COUNT];
    uint64_t frames;
    size_t first, nfiles;   /* a range of struct summary's order[]        */
};

struct summary {
    size_t *order;          /* file indices sorted by (table, file name)   */
    struct table_sum *tables;
    size_t ntables;
};

static const bz_stats *sort_stats; /* qsort has no context argument */

static int cmp_file(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(bz_stats_file_table(sort_stats, i),
                   bz_stats_file_table(sort_stats, j));
    return c ? c : strcmp(bz_stats_file_name(sort_stats, i),
                          bz_stats_file_name(sort_stats, j));
}

static void summary_free(struct summary *sum)
{
    free(sum->order);
    free(sum->tables);
    memset(sum, 0, sizeof *sum);
}

static int summarize(const bz_stats *s, struct summary *sum)
{
    size_t n = bz_stats_nfiles(s);
    memset(sum, 0, sizeof *sum);
    sum->order = calloc(n ? n : 1, sizeof *sum->order);
    sum->tables = calloc(n ? n : 1, sizeof *sum->tables);
    if (!sum->order || !sum->tables) {
        summary_free(sum);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        sum->order[i] = i;
    sort_stats = s;
    qsort(sum->order, n, sizeof *sum->order, cmp_file);
    for (size_t k = 0; k < n; k++) {
        size_t f = sum->order[k];
        const char *table = bz_stats_file_table(s, f);
        struct table_sum *t =
            sum->ntables ? &sum->tables[sum->ntables - 1] : NULL;
        if (!t || strcmp(t->name, table) != 0) {
            t = &sum->tables[sum->ntables++];
            t->name = table;
            t->first = k;
        }
        t->nfiles++;
        t->frames += bz_stats_file_frames(s, f);
        for (int c = 0; c < BZ_STAT__COUNT; c++)
            t->c[c] += bz_stats_file_counter(s, f, (bz_stat)c);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Rates over a watch interval. */

struct rates {
    int valid;              /* 0: first snapshot, or counters restarted   */
    double seconds;
    double per_s[BZ_STAT__COUNT];
};

static void compute_rates(const bz_stats *prev, const bz_stats *cur,
                          double seconds, struct rates *r)
{
    memset(r, 0, sizeof *r);
    if (!prev || !cur || seconds <= 0 ||
        bz_stats_created_at(prev) != bz_stats_created_at(cur) ||
        strcmp(bz_stats_segment_name(prev), bz_stats_segment_name(cur)) != 0)
        return;
    for (int c = 0; c < BZ_STAT__COUNT; c++) {
        uint64_t a = bz_stats_counter(prev, (bz_stat)c);
        uint64_t b = bz_stats_counter(cur, (bz_stat)c);
        if (b < a)
            return; /* reset in between: no honest rate this time */
        r->per_s[c] = (double)(b - a) / seconds;
    }
    r->valid = 1;
    r->seconds = seconds;
}

/* ------------------------------------------------------------------ */
/* Text. */

/* The table and file lines share these columns. */
static void print_nums(const uint64_t *c, uint64_t frames)
{
    char h[32], m[32], ra[16], e[32], fr[32], rd[32], wr[32];
    printf(NUMS_FMT,
           fmt_count(h, sizeof h, c[BZ_STAT_HITS], 9),
           fmt_count(m, sizeof m, c[BZ_STAT_MISSES], 8),
           fmt_ratio(ra, sizeof ra,
                     hit_ratio(c[BZ_STAT_HITS], c[BZ_STAT_MISSES])),
           fmt_count(e, sizeof e, c[BZ_STAT_EVICTIONS], 9),
           fmt_count(fr, sizeof fr, frames, 7),
           fmt_count(rd, sizeof rd, c[BZ_STAT_PAGE_READS], 8),
           fmt_count(wr, sizeof wr, c[BZ_STAT_PAGE_WRITES], 8));
}

/* indent + name in a column of width; a longer name gets its own line and
 * the numbers go on the next. */
static void print_name(int indent, const char *name, int width)
{
    int len = (int)strlen(name);
    if (indent + len <= width) {
        printf("%*s%-*s", indent, "", width - indent, name);
        return;
    }
    printf("%*s%s\n%*s", indent, "", name, width, "");
}

/* A file's name under its table's line: without the table's name when it
 * starts with it ("tasks__id.idx.dat" under "tasks" is "__id.idx.dat"). */
static const char *file_label(const char *file, const char *table)
{
    size_t n = strlen(table);
    return strncmp(file, table, n) == 0 && file[n] ? file + n : file;
}

/* The writer lock: how often it was taken and waited for, who holds it,
 * how readers fared, and the dead writers it recovered from. */
static void print_locks(const bz_stats *s)
{
    uint64_t acq = bz_stats_lock(s, BZ_LSTAT_ACQUISITIONS);
    uint64_t cont = bz_stats_lock(s, BZ_LSTAT_CONTENDED);
    uint64_t wait = bz_stats_lock(s, BZ_LSTAT_WAIT_NS);
    uint64_t holder = bz_stats_lock(s, BZ_LSTAT_HOLDER_PID);
    printf("\nLocks\n");
    printf("  acquisitions %10llu    contended %10llu (%.1f%%)\n",
           (unsigned long long)acq, (unsigned long long)cont,
           acq ? 100.0 * (double)cont / (double)acq : 0.0);
    printf("  wait total   %8.1f ms    wait max  %8.1f us    mean %.1f us\n",
           (double)wait / 1e6,
           (double)bz_stats_lock(s, BZ_LSTAT_WAIT_MAX_NS) / 1e3,
           cont ? (double)wait / (double)cont / 1e3 : 0.0);
    char who[32] = "none";
    if (holder)
        snprintf(who, sizeof who, "pid %llu", (unsigned long long)holder);
    printf("  hold total   %8.1f ms    holder    %s\n",
           (double)bz_stats_lock(s, BZ_LSTAT_HOLD_NS) / 1e6, who);
    printf("  reads retried %9llu    reads under the lock %llu\n",
           (unsigned long long)bz_stats_lock(s, BZ_LSTAT_READ_RETRIES),
           (unsigned long long)bz_stats_lock(s, BZ_LSTAT_READS_LOCKED));
    printf("  owner-dead recoveries %llu\n",
           (unsigned long long)bz_stats_lock(s, BZ_LSTAT_OWNER_DEAD));
    if (cont) {
        printf("  waits");
        size_t nb = bz_stats_wait_buckets(s), shown = 0;
        for (size_t i = 0; i < nb; i++) {
            uint64_t n = bz_stats_wait_hist(s, i);
            if (!n)
                continue;
            if (shown && shown % 4 == 0)
                printf("\n       ");
            if (i + 1 == nb)
                printf("  >=%lluus: %llu", 1ULL << (i - 1), (unsigned long long)n);
            else
                printf("  <%lluus: %llu", 1ULL << i, (unsigned long long)n);
            shown++;
        }
        printf("\n");
    }
    for (size_t i = 0; i < bz_stats_nrecoveries_logged(s); i++) {
        int64_t pid;
        uint64_t at, rec, bytes;
        bz_stats_recovery(s, i, &pid, &at, &rec, &bytes);
        char when[32];
        time_t t = (time_t)at;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
        printf("  recovered  %s  pid %lld died: %llu records, %llu bytes "
               "undone\n", when, (long long)pid, (unsigned long long)rec,
               (unsigned long long)bytes);
    }
}

static json_t *locks_json(const bz_stats *s)
{
    static const char *names[] = {
        "acquisitions", "contended", "wait_ns", "wait_max_ns", "hold_ns",
        "holder_pid", "read_retries", "reads_locked", "owner_dead"};
    json_t *o = json_object();
    for (int i = 0; i < BZ_LSTAT__COUNT; i++)
        json_object_set_new(o, names[i],
                            json_integer((json_int_t)bz_stats_lock(s, (bz_lock_stat)i)));
    json_t *h = json_array();
    for (size_t i = 0; i < bz_stats_wait_buckets(s); i++)
        json_array_append_new(h, json_integer((json_int_t)bz_stats_wait_hist(s, i)));
    json_object_set_new(o, "wait_hist_log2_us", h);
    json_t *log = json_array();
    for (size_t i = 0; i < bz_stats_nrecoveries_logged(s); i++) {
        int64_t pid;
        uint64_t at, rec, bytes;
        bz_stats_recovery(s, i, &pid, &at, &rec, &bytes);
        json_t *e = json_object();
        json_object_set_new(e, "pid", json_integer(pid));
        json_object_set_new(e, "at", json_integer((json_int_t)at));
        json_object_set_new(e, "records", json_integer((json_int_t)rec));
        json_object_set_new(e, "bytes", json_integer((json_int_t)bytes));
        json_array_append_new(log, e);
    }
    json_object_set_new(o, "recoveries", log);
    return o;
}

static void print_tables(const bz_stats *s, const struct summary *sum,
                         int files)
{
    int width = NAME_COL_MIN;
    for (size_t t = 0; t < sum->ntables; t++) {
        const struct table_sum *ts = &sum->tables[t];
        int len = 2 + (int)strlen(ts->name);
        if (len > width)
            width = len;
        for (size_t k = 0; files && k < ts->nfiles; k++) {
            const char *f = bz_stats_file_name(s, sum->order[ts->first + k]);
            len = 4 + (int)strlen(file_label(f, ts->name));
            if (len > width)
                width = len;
        }
    }
    if (width > NAME_COL_MAX)
        width = NAME_COL_MAX;
    printf("%-*s" NUMS_FMT, width, "Tables", "hits", "misses", "ratio",
           "evictions", "frames", "reads", "writes");
    if (!sum->ntables)
        printf("  (no files yet)\n");
    for (size_t t = 0; t < sum->ntables; t++) {
        const struct table_sum *ts = &sum->tables[t];
        print_name(2, ts->name, width);
        print_nums(ts->c, ts->frames);
        for (size_t k = 0; files && k < ts->nfiles; k++) {
            size_t f = sum->order[ts->first + k];
            uint64_t c[BZ_STAT__COUNT];
            for (int i = 0; i < BZ_STAT__COUNT; i++)
                c[i] = bz_stats_file_counter(s, f, (bz_stat)i);
            print_name(4, file_label(bz_stats_file_name(s, f), ts->name),
                       width);
            print_nums(c, bz_stats_file_frames(s, f));
        }
    }
}

/* Two "key  value" pairs on one line. */
static void print_pair(const char *k1, const char *v1, const char *k2,
                       const char *v2)
{
    if (k2)
        printf("  %-14s%10s    %-14s%10s\n", k1, v1, k2, v2);
    else
        printf("  %-14s%10s\n", k1, v1);
}

static void print_text(const struct options *o, const bz_stats *s,
                       const struct summary *sum, const struct rates *r,
                       time_t now)
{
    char a[64], when[96];
    uint64_t c[BZ_STAT__COUNT];
    for (int i = 0; i < BZ_STAT__COUNT; i++)
        c[i] = bz_stats_counter(s, (bz_stat)i);

    fmt_when(when, sizeof when, (uint64_t)now, 0);
    printf("bzstat %s: %s\n", o->dir, when);
    if (o->watch > 0)
        printf("every %g s, Ctrl-C to stop\n", o->watch);

    uint64_t frames = bz_stats_frames(s), used = bz_stats_frames_used(s);
    printf("\nSegment\n");
    printf("  %-14s%s\n", "name", bz_stats_segment_name(s));
    printf("  %-14s%s, page size %" PRIu64 " B\n", "size",
           fmt_bytes(a, sizeof a, bz_stats_segment_size(s)),
           bz_stats_page_size(s));
    printf("  %-14s%" PRIu64 " of %" PRIu64 " used (%.1f%%)\n", "frames", used,
           frames, frames ? 100.0 * (double)used / (double)frames : 0.0);
    uint64_t data = bz_stats_data_bytes(s), cache = frames * bz_stats_page_size(s);
    uint64_t suggest = bz_stats_suggested_cache_mb(s);
    char b1[64];
    if (suggest)
        printf("  %-14s%s, more than the cache's %s: reads miss and go to "
               "the files.\n  %-14sset BAZOOLA_CACHE_MB=%" PRIu64
               " (1.25 x the data), or leave it unset to follow the data; "
               "the next segment, made once every process has closed the "
               "directory, gets it\n", "data outgrows",
               fmt_bytes(a, sizeof a, data), fmt_bytes(b1, sizeof b1, cache),
               "", suggest);
    else
        printf("  %-14s%s of table files, %.0f%% of the cache\n", "data",
               fmt_bytes(a, sizeof a, data),
               cache ? 100.0 * (double)data / (double)cache : 0.0);
    printf("  %-14s%s\n", "created",
           fmt_when(when, sizeof when, bz_stats_created_at(s), now));
    printf("  %-14s%" PRIu64 " (writers found dead mid-operation)\n",
           "recoveries", bz_stats_recoveries(s));

    char v1[32], v2[32];
    printf("\nCache\n");
    print_pair("hits", fmt_count(v1, sizeof v1, c[BZ_STAT_HITS], 10),
               "misses", fmt_count(v2, sizeof v2, c[BZ_STAT_MISSES], 10));
    print_pair("hit ratio",
               fmt_ratio(v1, sizeof v1,
                         hit_ratio(c[BZ_STAT_HITS], c[BZ_STAT_MISSES])),
               "evictions", fmt_count(v2, sizeof v2, c[BZ_STAT_EVICTIONS], 10));
    print_pair("page reads",
               fmt_count(v1, sizeof v1, c[BZ_STAT_PAGE_READS], 10),
               "page writes",
               fmt_count(v2, sizeof v2, c[BZ_STAT_PAGE_WRITES], 10));
    print_pair("bytes read", fmt_bytes(v1, sizeof v1, c[BZ_STAT_BYTES_READ]),
               "bytes written",
               fmt_bytes(v2, sizeof v2, c[BZ_STAT_BYTES_WRITTEN]));
    print_pair("drops", fmt_count(v1, sizeof v1, c[BZ_STAT_DROPS], 10),
               "outside changes",
               fmt_count(v2, sizeof v2, c[BZ_STAT_OUTSIDE], 10));
    printf("  %-14s%s\n", "timestamps",
           bz_stats_fine_timestamps(s)
               ? "multigrain: every outside change is seen"
               : "coarse: files written within a clock tick are re-read");
    if (o->watch > 0) {
        char h[32], m[32], rd[32], wr[32];
        if (r->valid) {
            double hs = r->per_s[BZ_STAT_HITS], ms = r->per_s[BZ_STAT_MISSES];
            printf("  %-14s%s hits/s, %s misses/s, hit ratio %s\n",
                   "per second", fmt_rate(h, sizeof h, hs),
                   fmt_rate(m, sizeof m, ms),
                   fmt_ratio(v1, sizeof v1,
                             hs + ms > 0 ? 100.0 * hs / (hs + ms) : -1));
            printf("  %-14s%s page reads/s, %s page writes/s (last %.1f s)\n",
                   "", fmt_rate(rd, sizeof rd, r->per_s[BZ_STAT_PAGE_READS]),
                   fmt_rate(wr, sizeof wr, r->per_s[BZ_STAT_PAGE_WRITES]),
                   r->seconds);
        } else {
            printf("  %-14s(rates from the next snapshot)\n", "per second");
        }
    }

    printf("\n");
    print_tables(s, sum, o->files);

    print_locks(s);

    size_t np = bz_stats_nprocs(s), alive = 0;
    for (size_t i = 0; i < np; i++) {
        int al = 0;
        if (bz_stats_proc(s, i, NULL, &al, NULL) == BZ_OK && al)
            alive++;
    }
    printf("\nProcesses     %zu attached, %zu alive\n", np, alive);
    if (np)
        printf("  %10s  %-5s  %s\n", "pid", "state", "attached");
    for (size_t i = 0; i < np; i++) {
        int64_t pid = 0;
        int al = 0;
        uint64_t at = 0;
        if (bz_stats_proc(s, i, &pid, &al, &at) != BZ_OK)
            continue;
        printf("  %10" PRId64 "  %-5s  %s\n", pid, al ? "alive" : "dead",
               fmt_when(when, sizeof when, at, now));
    }
}

/* ------------------------------------------------------------------ */
/* JSON.  jansson's integers are signed 64-bit: counters past 2^63 would
 * take centuries. */

static json_t *jint(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *jratio(uint64_t hits, uint64_t misses)
{
    double r = hit_ratio(hits, misses);
    /* Two decimals, rounded down like the text's one. */
    return r < 0 ? json_null() : json_real(floor(r * 100.0) / 100.0);
}

/* Counters into obj, with hit_ratio after misses. */
static void json_counters(json_t *obj, const uint64_t *c)
{
    for (int i = 0; i < BZ_STAT__COUNT; i++) {
        json_object_set_new(obj, counter_key[i], jint(c[i]));
        if (i == BZ_STAT_MISSES)
            json_object_set_new(obj, "hit_ratio",
                                jratio(c[BZ_STAT_HITS], c[BZ_STAT_MISSES]));
    }
}

static json_t *build_json(const struct options *o, const bz_stats *s,
                          const struct summary *sum, const struct rates *r,
                          time_t now)
{
    json_t *root = json_object();
    json_object_set_new(root, "directory", json_string(o->dir));
    json_object_set_new(root, "time", json_integer((json_int_t)now));
    json_object_set_new(root, "version", json_string(bz_version()));

    json_t *seg = json_object();
    json_object_set_new(seg, "name", json_string(bz_stats_segment_name(s)));
    json_object_set_new(seg, "size", jint(bz_stats_segment_size(s)));
    json_object_set_new(seg, "page_size", jint(bz_stats_page_size(s)));
    json_object_set_new(seg, "frames", jint(bz_stats_frames(s)));
    json_object_set_new(seg, "frames_used", jint(bz_stats_frames_used(s)));
    json_object_set_new(seg, "data_bytes", jint(bz_stats_data_bytes(s)));
    json_object_set_new(seg, "suggested_cache_mb",
                        bz_stats_suggested_cache_mb(s)
                            ? jint(bz_stats_suggested_cache_mb(s))
                            : json_null());
    json_object_set_new(seg, "created_at", jint(bz_stats_created_at(s)));
    json_object_set_new(seg, "recoveries", jint(bz_stats_recoveries(s)));
    json_object_set_new(seg, "fine_timestamps",
                        json_boolean(bz_stats_fine_timestamps(s)));
    json_object_set_new(root, "segment", seg);

    uint64_t c[BZ_STAT__COUNT];
    for (int i = 0; i < BZ_STAT__COUNT; i++)
        c[i] = bz_stats_counter(s, (bz_stat)i);
    json_t *counters = json_object();
    json_counters(counters, c);
    json_object_set_new(root, "counters", counters);

    if (o->watch > 0) {
        json_t *rt = json_null();
        if (r->valid) {
            rt = json_object();
            json_object_set_new(rt, "seconds",
                                json_real(round(r->seconds * 1000.0) / 1000.0));
            for (int i = 0; i < BZ_STAT__COUNT; i++) {
                char key[48];
                snprintf(key, sizeof key, "%s_per_s", counter_key[i]);
                double v = round(r->per_s[i] * 10.0) / 10.0;
                json_object_set_new(rt, key, json_real(v));
            }
        }
        json_object_set_new(root, "rates", rt);
    }

    json_t *tables = json_array(), *files = json_array();
    for (size_t t = 0; t < sum->ntables; t++) {
        const struct table_sum *ts = &sum->tables[t];
        json_t *tj = json_object(), *names = json_array();
        json_object_set_new(tj, "name", json_string(ts->name));
        json_counters(tj, ts->c);
        json_object_set_new(tj, "frames", jint(ts->frames));
        for (size_t k = 0; k < ts->nfiles; k++) {
            size_t f = sum->order[ts->first + k];
            json_t *fj = json_object();
            uint64_t fc[BZ_STAT__COUNT];
            for (int i = 0; i < BZ_STAT__COUNT; i++)
                fc[i] = bz_stats_file_counter(s, f, (bz_stat)i);
            int64_t size = bz_stats_file_size(s, f);
            json_array_append_new(names, json_string(bz_stats_file_name(s, f)));
            json_object_set_new(fj, "name",
                                json_string(bz_stats_file_name(s, f)));
            json_object_set_new(fj, "table", json_string(ts->name));
            json_object_set_new(fj, "size",
                                size < 0 ? json_null() : json_integer(size));
            json_counters(fj, fc);
            json_object_set_new(fj, "frames", jint(bz_stats_file_frames(s, f)));
            json_array_append_new(files, fj);
        }
        json_object_set_new(tj, "files", names);
        json_array_append_new(tables, tj);
    }
    json_object_set_new(root, "tables", tables);
    json_object_set_new(root, "files", files);

    json_object_set_new(root, "locks", locks_json(s));

    json_t *procs = json_array();
    for (size_t i = 0; i < bz_stats_nprocs(s); i++) {
        int64_t pid = 0;
        int alive = 0;
        uint64_t at = 0;
        if (bz_stats_proc(s, i, &pid, &alive, &at) != BZ_OK)
            continue;
        json_t *pj = json_object();
        json_object_set_new(pj, "pid", json_integer(pid));
        json_object_set_new(pj, "alive", json_boolean(alive));
        json_object_set_new(pj, "attached_at", jint(at));
        json_array_append_new(procs, pj);
    }
    json_object_set_new(root, "processes", procs);
    return root;
}

/* ------------------------------------------------------------------ */
/* One snapshot, and the watch loop. */

static void no_segment(const char *dir)
{
    fprintf(stderr, "bzstat: %s has no shared segment: no process has it open "
                    "in shared mode (lock mode flock, or nothing running)\n",
            dir);
}

/* Print s; -1 when out of memory. */
static int report(const struct options *o, const bz_stats *s,
                  const struct rates *r)
{
    struct summary sum;
    time_t now = time(NULL);
    if (summarize(s, &sum)) {
        fprintf(stderr, "bzstat: out of memory\n");
        return -1;
    }
    if (o->json) {
        json_t *root = build_json(o, s, &sum, r, now);
        size_t flags = o->watch > 0 ? JSON_COMPACT : JSON_INDENT(2);
        if (!root || json_dumpf(root, stdout, flags) != 0) {
            fprintf(stderr, "bzstat: cannot build the JSON output\n");
            json_decref(root);
            summary_free(&sum);
            return -1;
        }
        putchar('\n');
        json_decref(root);
    } else {
        print_text(o, s, &sum, r, now);
    }
    summary_free(&sum);
    return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until the monotonic time deadline or a signal. */
static void sleep_until(double deadline)
{
    for (;;) {
        double left = deadline - monotonic_s();
        if (interrupted || left <= 0)
            return;
        struct timespec ts = { .tv_sec = (time_t)left };
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL); /* EINTR: the loop looks at the flag */
    }
}

/* Installed first thing in main: a signal that came before would be lost
 * if it was ignored (a background job's SIGINT is), or kill us if not.
 * No SA_RESTART: nanosleep must return so the loop sees the flag. */
static void catch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int watch(const struct options *o)
{
    int tty = isatty(STDOUT_FILENO) && !o->json;
    bz_stats *prev = NULL;
    double prev_t = 0, next = monotonic_s();
    int status = BZ_EXIT_OK;
    for (int n = 0; !interrupted; n++) {
        bz_stats *cur = NULL;
        double t = monotonic_s();
        int rc = bz_stats_read(o->dir, &cur);
        if (rc == BZ_ENOTFOUND && n == 0) {
            no_segment(o->dir);
            status = BZ_EXIT_NOSEGMENT;
            break;
        }
        if (rc != BZ_OK && rc != BZ_ENOTFOUND) {
            fprintf(stderr, "bzstat: %s\n", bz_errmsg());
            status = BZ_EXIT_FAIL;
            break;
        }
        if (tty)
            fputs("\033[H\033[2J", stdout);
        else if (n > 0 && !o->json)
            putchar('\n');
        if (rc == BZ_ENOTFOUND) {
            /* The last process closed the directory; keep watching for
             * the next one. */
            if (o->json) {
                json_t *j = json_pack("{s:s, s:I, s:n}", "directory", o->dir,
                                      "time", (json_int_t)time(NULL),
                                      "segment");
                if (j)
                    json_dumpf(j, stdout, JSON_COMPACT);
                putchar('\n');
                json_decref(j);
            } else
                printf("bzstat %s: no shared segment (no process has it open "
                       "in shared mode); waiting\n", o->dir);
        } else {
            struct rates r;
            compute_rates(prev, cur, t - prev_t, &r);
            if (report(o, cur, &r)) {
                bz_stats_free(cur);
                status = BZ_EXIT_FAIL;
                break;
            }
        }
        fflush(stdout);
        bz_stats_free(prev);
        prev = cur;
        prev_t = t;
        next += o->watch;
        if (next < monotonic_s()) /* fell behind (suspended): start over */
            next = monotonic_s() + o->watch;
        sleep_until(next);
    }
    bz_stats_free(prev);
    return status;
}

static int once(const struct options *o)
{
    bz_stats *s = NULL;
    int rc = bz_stats_read(o->dir, &s);
    if (rc == BZ_ENOTFOUND) {
        no_segment(o->dir);
        return BZ_EXIT_NOSEGMENT;
    }
    if (rc != BZ_OK) {
        fprintf(stderr, "bzstat: %s\n", bz_errmsg());
        return BZ_EXIT_FAIL;
    }
    struct rates r = { 0 };
    int status = report(o, s, &r) ? BZ_EXIT_FAIL : BZ_EXIT_OK;
    bz_stats_free(s);
    return status;
}

static int reset(const struct options *o)
{
    int rc = bz_stats_reset(o->dir);
    if (rc == BZ_ENOTFOUND) {
        no_segment(o->dir);
        return BZ_EXIT_NOSEGMENT;
    }
    if (rc != BZ_OK) {
        fprintf(stderr, "bzstat: %s\n", bz_errmsg());
        return BZ_EXIT_FAIL;
    }
    /* With --watch the report follows: keep stdout for it. */
    FILE *out = o->watch > 0 ? stderr : stdout;
    if (o->json && o->watch <= 0) {
        json_t *j = json_pack("{s:s, s:b}", "directory", o->dir, "reset", 1);
        if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
            json_decref(j);
            fprintf(stderr, "bzstat: cannot build the JSON output\n");
            return BZ_EXIT_FAIL;
        }
        putchar('\n');
        json_decref(j);
    } else {
        fprintf(out, "bzstat: counters of %s reset to zero\n", o->dir);
    }
    return BZ_EXIT_OK;
}

/* ------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "files", no_argument, NULL, 'f' },
        { "watch", required_argument, NULL, 'w' },
        { "reset", no_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    struct cli cli;
    int opt;
    memset(o, 0, sizeof *o);
    cli_init(&cli, "bzstat", usage, "jfw:r", longopts);
    while ((opt = cli_next(&cli, argc, argv)) != -1) {
        switch (opt) {
        case CLI_STOP:
            return cli.status;
        case 'j':
            o->json = 1;
            break;
        case 'f':
            o->files = 1;
            break;
        case 'w': {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(v >= WATCH_MIN) ||
                !(v <= WATCH_MAX))
                return cli_usage_error(&cli, "--watch", "seconds from %g to "
                                       "%g, not '%s'", WATCH_MIN, WATCH_MAX,
                                       optarg);
            o->watch = v;
            break;
        }
        default: /* 'r' */
            o->reset = 1;
            break;
        }
    }
    if ((opt = cli_operands(&cli, argc, argv, 1, 1, "DIR")))
        return opt;
    o->dir = argv[optind];
    return -1;
}

int main(int argc, char **argv)
{
    struct options o;
    catch_signals();
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    if (o.reset) {
        status = reset(&o);
        if (status != BZ_EXIT_OK || o.watch <= 0)
            goto out;
    }
    status = o.watch > 0 ? watch(&o) : once(&o);
out:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bzstat: cannot write the output: %s\n",
                strerror(errno));
        return BZ_EXIT_FAIL;
    }
    return status;
}
