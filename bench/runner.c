/*
 * runner.c - one configuration: W workers, as threads or as processes.
 *
 * The timeline, on CLOCK_MONOTONIC (one clock for the whole machine, so
 * threads and forked processes agree on it):
 *
 *   1. every worker opens its connection and says it is ready (threads: a
 *      counter under a mutex; processes: a byte on the ready pipe);
 *   2. the parent picks t0 = now + 20 ms and hands it to every worker
 *      (threads: a condition variable; processes: 8 bytes each on the go
 *      pipe, atomic since they are under PIPE_BUF);
 *   3. [t0, t0 + warmup): warm-up, not counted;
 *   4. R windows of `duration` seconds, back to back.  Every operation is
 *      timed (two clock_gettime calls around it); it counts in the window
 *      it completes in, and its latency goes into the worker's histogram;
 *   5. at the end of the last window each worker stops; an operation still
 *      in flight finishes and is not counted.
 *
 * Each worker returns its ops per window and its histogram (threads: in
 * memory; processes: through a pipe of its own, one struct wres written
 * whole).  A worker whose operation fails stops,
 * and the configuration is reported as failed with the first message.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

const char *const bench_kind_names[KIND__COUNT] = { "threads", "processes" };

/* What one worker sends back. */
struct wres {
    int ok;
    char err[BENCH_ERRLEN];
    uint64_t ops[BENCH_MAX_REPS];
    uint64_t wait_ns, busy_ns; /* lock wait within the timed windows */
    uint64_t anon_kib;
    struct bench_hist hist;
};

/* RssAnon of this process in KiB (0 when /proc does not say): what a
 * reader costs beyond the shared segment, which is RssShmem. */
static uint64_t rss_anon_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_now(void)
{
    return (double)now_ns() / 1e9;
}

static void sleep_until(uint64_t ns)
{
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
                           .tv_nsec = (long)(ns % 1000000000u) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Steps 3-5 for one worker. */
static void work(const struct bench_spec *s, struct bench_worker *w,
                 uint64_t t0, struct wres *r)
{
    const uint64_t win = (uint64_t)(s->duration * 1e9);
    const uint64_t warm_end = t0 + (uint64_t)(s->warmup * 1e9);
    const uint64_t end = warm_end + win * (uint64_t)s->reps;
    uint64_t (*lock_wait)(void) = s->t->ops->lock_wait_ns;
    uint64_t wait0 = 0, busy0 = 0;
    bool timing = false;
    sleep_until(t0);
    for (;;) {
        uint64_t a = now_ns();
        if (a >= warm_end && !timing && lock_wait) {
            /* From the first operation that starts in the timed windows:
             * the wait it and its successors see, over the time they take. */
            timing = true;
            wait0 = lock_wait();
            busy0 = a;
        }
        if (a >= end)
            break;
        if (bench_wl_step(s->wl, w)) {
            r->ok = 0;
            snprintf(r->err, sizeof r->err, "worker %d: %.200s", w->index,
                     w->err);
            break;
        }
        uint64_t b = now_ns();
        if (b >= warm_end && b < end) {
            r->ops[(b - warm_end) / win]++;
            hist_add(&r->hist, b - a);
        }
    }
    if (timing) {
        r->wait_ns = lock_wait() - wait0;
        r->busy_ns = now_ns() - busy0;
    }
}

static void worker_init(const struct bench_spec *s, int index, void *conn,
                        struct bench_worker *w)
{
    memset(w, 0, sizeof *w);
    w->t = s->t;
    w->conn = conn;
    w->index = index;
    w->nworkers = s->workers;
    w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(index + 1) ^
             (uint64_t)s->wl << 32 ^ (uint64_t)s->workers << 40;
}

/* ------------------------------------------------------------------ */
/* Threads: one shared handle, a connection per thread. */
struct tstart {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;          /* threads with their connection open (or failed) */
    uint64_t t0;        /* 0 until the parent starts them                 */
};

struct tctx {
    const struct bench_spec *s;
    void *shared;
    int index;
    struct wres *r;
    struct tstart *st;
};

static void *thread_main(void *arg)
{
    struct tctx *c = arg;
    const struct bench_spec *s = c->s;
    struct tstart *st = c->st;
    void *conn = NULL;
    if (s->t->ops->open(s->t, s->dir, c->shared, &conn, c->r->err))
        c->r->ok = 0;
    pthread_mutex_lock(&st->mu);
    st->ready++;
    pthread_cond_broadcast(&st->cv);
    while (st->t0 == 0)
        pthread_cond_wait(&st->cv, &st->mu);
    uint64_t t0 = st->t0;
    pthread_mutex_unlock(&st->mu);
    if (c->r->ok) {
        struct bench_worker w;
        worker_init(s, c->index, conn, &w);
        work(s, &w, t0, c->r);
        s->t->ops->close(conn);
    }
    return NULL;
}

static int run_threads(const struct bench_spec *s, struct wres *rs, char *err)
{
    void *shared = NULL;
    if (s->t->ops->share(s->t, s->dir, &shared, err))
        return -1;
    struct tstart st = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                         0, 0 };
    struct tctx ctx[BENCH_MAX_WORKERS];
    pthread_t tid[BENCH_MAX_WORKERS];
    int n = 0, rc = 0;
    for (; n < s->workers; n++) {
        ctx[n] = (struct tctx){ s, shared, n, &rs[n], &st };
        int e = pthread_create(&tid[n], NULL, thread_main, &ctx[n]);
        if (e) {
            snprintf(err, BENCH_ERRLEN, "pthread_create: %s", strerror(e));
            rc = -1;
            break;
        }
    }
    /* Start the threads there are (all of them, unless one failed). */
    pthread_mutex_lock(&st.mu);
    while (st.ready < n)
        pthread_cond_wait(&st.cv, &st.mu);
    st.t0 = now_ns() + 20000000u;
    pthread_cond_broadcast(&st.cv);
    pthread_mutex_unlock(&st.mu);
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    s->t->ops->unshare(shared);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Processes: each child opens its own handle after fork(). */
static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void child_main(const struct bench_spec *s, int index, int ready_fd,
                       int go_fd, int res_fd)
{
    struct wres *r = calloc(1, sizeof *r);
    if (!r)
        _exit(3);
    r->ok = 1;
    /* What the engine costs the process, not what fork() handed down. */
    uint64_t anon0 = rss_anon_kib();
    void *shared = NULL, *conn = NULL;
    if (s->t->ops->share(s->t, s->dir, &shared, r->err))
        r->ok = 0;
    else if (s->t->ops->open(s->t, s->dir, shared, &conn, r->err)) {
        r->ok = 0;
        s->t->ops->unshare(shared);
    }
    char c = 1;
    uint64_t t0 = 0;
    if (write_full(ready_fd, &c, 1) || read_full(go_fd, &t0, sizeof t0))
        _exit(4);
    if (r->ok) {
        struct bench_worker w;
        worker_init(s, index, conn, &w);
        work(s, &w, t0, r);
        uint64_t anon = rss_anon_kib();
        r->anon_kib = anon > anon0 ? anon - anon0 : 1;
        s->t->ops->close(conn);
        s->t->ops->unshare(shared);
    }
    _exit(write_full(res_fd, r, sizeof *r) ? 5 : 0);
}

static int run_processes(const struct bench_spec *s, struct wres *rs,
                         char *err)
{
    int ready[2], go[2], res[BENCH_MAX_WORKERS];
    pid_t pid[BENCH_MAX_WORKERS];
    if (pipe(ready) || pipe(go)) {
        snprintf(err, BENCH_ERRLEN, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    int n = 0, rc = 0;
    for (; n < s->workers; n++) {
        int p[2];
        if (pipe(p)) {
            snprintf(err, BENCH_ERRLEN, "pipe: %s", strerror(errno));
            rc = -1;
            break;
        }
        pid[n] = fork();
        if (pid[n] < 0) {
            snprintf(err, BENCH_ERRLEN, "fork: %s", strerror(errno));
            close(p[0]);
            close(p[1]);
            rc = -1;
            break;
        }
        if (pid[n] == 0) {
            close(ready[0]);
            close(go[1]);
            close(p[0]);
            for (int j = 0; j < n; j++)
                close(res[j]);
            child_main(s, n, ready[1], go[0], p[1]);
        }
        close(p[1]);
        res[n] = p[0];
    }
    close(ready[1]);
    close(go[0]);
    /* Wait until every child is ready (or gone), then start them all.  On
     * a failed fork the children already started are still released, and
     * their results thrown away. */
    char c;
    for (int i = 0; i < n; i++)
        if (read_full(ready[0], &c, 1))
            break;
    uint64_t t0 = now_ns() + 20000000u;
    for (int i = 0; i < n; i++)
        if (write_full(go[1], &t0, sizeof t0))
            break;
    close(go[1]);
    close(ready[0]);
    int got[BENCH_MAX_WORKERS];
    for (int i = 0; i < n; i++) {
        got[i] = read_full(res[i], &rs[i], sizeof rs[i]) == 0;
        close(res[i]);
    }
    for (int i = 0; i < n; i++) {
        int st;
        while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(st)) {
            rs[i].ok = 0;
            snprintf(rs[i].err, sizeof rs[i].err, "worker %d (pid %ld) "
                     "killed by signal %d", i, (long)pid[i], WTERMSIG(st));
        } else if (!got[i] || WEXITSTATUS(st) != 0) {
            rs[i].ok = 0;
            snprintf(rs[i].err, sizeof rs[i].err, "worker %d (pid %ld) "
                     "exited with status %d%s", i, (long)pid[i],
                     WEXITSTATUS(st), got[i] ? "" : " and no result");
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_acc_init(struct bench_acc *a, const struct bench_spec *s)
{
    memset(a, 0, sizeof *a);
    struct bench_result *r = &a->r;
    r->workload = bench_wl_names[s->wl];
    r->engine = s->t->engine;
    r->mode = s->t->label;
    r->kind = bench_kind_names[s->kind];
    r->workers = s->workers;
    r->ok = 1;
    r->lock_wait_pct = -1;
    r->rows = bench_items;
    snprintf(r->cache_mb, sizeof r->cache_mb, "%s",
             bench_cache_mb ? bench_cache_mb : "");
}

void bench_acc_merge(struct bench_acc *into, const struct bench_acc *from)
{
    struct bench_result *r = &into->r;
    for (int i = 0; i < from->r.reps && r->reps < BENCH_MAX_REPS; i++)
        r->ops_per_s[r->reps++] = from->r.ops_per_s[i];
    r->ops += from->r.ops;
    r->wait_ns += from->r.wait_ns;
    r->busy_ns += from->r.busy_ns;
    if (from->r.anon_kib > r->anon_kib)
        r->anon_kib = from->r.anon_kib;
    hist_merge(&into->hist, &from->hist);
    if (r->ok && !from->r.ok) {
        r->ok = 0;
        snprintf(r->err, sizeof r->err, "%s", from->r.err);
    }
}

int bench_acc_run(struct bench_acc *a, const struct bench_spec *s)
{
    struct bench_result *r = &a->r;
    if (r->reps + s->reps > BENCH_MAX_REPS) {
        r->ok = 0;
        snprintf(r->err, sizeof r->err, "more than %d windows",
                 BENCH_MAX_REPS);
        return -1;
    }
    struct wres *rs = calloc((size_t)s->workers, sizeof *rs);
    if (!rs) {
        r->ok = 0;
        snprintf(r->err, sizeof r->err, "out of memory");
        return -1;
    }
    for (int i = 0; i < s->workers; i++)
        rs[i].ok = 1;
    char err[BENCH_ERRLEN] = "";
    int rc = s->kind == KIND_THREADS ? run_threads(s, rs, err)
                                     : run_processes(s, rs, err);
    if (rc && r->ok) {
        r->ok = 0;
        snprintf(r->err, sizeof r->err, "%s", err);
    }
    for (int i = 0; i < s->workers && r->ok; i++)
        if (!rs[i].ok) {
            r->ok = 0;
            snprintf(r->err, sizeof r->err, "%s", rs[i].err);
        }
    for (int rep = 0; rep < s->reps; rep++) {
        uint64_t ops = 0;
        for (int i = 0; i < s->workers; i++)
            ops += rs[i].ops[rep];
        r->ops += ops;
        r->ops_per_s[r->reps++] = (double)ops / s->duration;
    }
    for (int i = 0; i < s->workers; i++) {
        hist_merge(&a->hist, &rs[i].hist);
        r->wait_ns += rs[i].wait_ns;
        r->busy_ns += rs[i].busy_ns;
        if (rs[i].anon_kib > r->anon_kib)
            r->anon_kib = rs[i].anon_kib;
    }
    free(rs);
    return r->ok ? 0 : -1;
}

void bench_acc_finish(struct bench_acc *a)
{
    struct bench_result *r = &a->r;
    if (r->reps == 0)
        return;
    double sorted[BENCH_MAX_REPS];
    memcpy(sorted, r->ops_per_s, sizeof(double) * (size_t)r->reps);
    qsort(sorted, (size_t)r->reps, sizeof(double), cmp_double);
    r->min = sorted[0];
    r->max = sorted[r->reps - 1];
    int mid = r->reps / 2;
    r->median = r->reps % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    r->p50_us = hist_quantile_us(&a->hist, 0.50);
    r->p99_us = hist_quantile_us(&a->hist, 0.99);
    if (r->busy_ns > 0)
        r->lock_wait_pct = 100.0 * (double)r->wait_ns / (double)r->busy_ns;
}
