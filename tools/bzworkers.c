/*
 * bzworkers.c - several worker processes share one data directory.
 *
 * The batch example of libbazoola, beside the demo server (README.md).
 * The parent opens DIR with a small task-manager schema (which
 * bz_open records in DIR/.schema), seeds users, projects and a counter row,
 * measures what is there, closes its handle and forks the workers.  Each
 * worker opens a handle of its own (a handle never crosses a fork) and runs
 * its operations in a fixed cycle:
 *
 *   insert  a task with a TEXT description (some of it non-ASCII);
 *   update  the status of a task, any worker's;
 *   search  tasks by description, ISUBSTR (Unicode case folding);
 *   join    a task by id, with its project and assignee (Join);
 *   scan    all projects with their tasks (InverseJoin);
 *   incr    the shared counter: read, add one, write, under bz_lock().
 *
 * The parent waits for them all, reopens the directory and checks the work
 * against its measurements: as many new tasks as the workers inserted,
 * every task id unique, and the counter raised by exactly the number of
 * increments (an increment lost to a race would leave it short).  DIR may
 * hold the data of earlier runs: only this run's differences are checked.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bazoola.h>

#include "common/cli.h"

#define DEFAULT_DIR "bzworkers-data"
#define DEFAULT_WORKERS 4
#define DEFAULT_OPS 200
#define MAX_WORKERS 128
#define MAX_OPS 1000000L


/* The schema: a cut-down version of 0.0.7's demo task manager, plus the
 * counter table. */
static const char schema_text[] =
    "# bzworkers: a small task manager.\n"
    "users: id PK, username CHAR(20), email CHAR(50)\n"
    "projects: id PK, name CHAR(30), owner_id FK(users), status CHAR(10)\n"
    "tasks: id PK, title CHAR(50), description TEXT, project_id FK(projects),"
    " assignee_id FK(users) NULL, status CHAR(15), estimated_hours INT NULL\n"
    "counters: id PK, name CHAR(20), value INT\n";

/* ------------------------------------------------------------------ */
/* The seed data.  Rows are looked up by name first, so a second run on the
 * same directory finds them instead of adding copies. */
static const struct {
    const char *username, *email;
} seed_users[] = {
    { "alice", "alice@example.com" },
    { "bob", "bob@example.com" },
    { "carol", "carol@example.com" },
    { "dave", "dave@example.com" },
};
#define NUSERS (sizeof seed_users / sizeof seed_users[0])

static const struct {
    const char *name;
    size_t owner; /* index into seed_users */
} seed_projects[] = {
    { "Website redesign", 0 },
    { "Mobile app", 1 },
    { "Data pipeline", 2 },
};
#define NPROJECTS (sizeof seed_projects / sizeof seed_projects[0])

#define COUNTER_NAME "bzworkers"

struct seed {
    int64_t users[NUSERS];
    int64_t projects[NPROJECTS];
    int64_t counter;  /* id of the counters row                        */
    int created;      /* rows this run inserted while seeding          */
};

/* What the workers write and search for.  "über" finds "Überprüfen" only
 * with real Unicode case folding. */
static const char *const phrases[] = {
    "Fix the login bug on the sign-in page",
    "Überprüfen der Anmeldung: review the login flow",
    "Write the docs for the export command",
    "Café menu page: naïve date parsing",
    "Speed up the search over task descriptions",
};
#define NPHRASES (sizeof phrases / sizeof phrases[0])

static const char *const search_terms[] = { "LOGIN", "über", "Docs", "naïve" };
#define NTERMS (sizeof search_terms / sizeof search_terms[0])

static const char *const statuses[] = { "in_progress", "review", "done" };
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

/* ------------------------------------------------------------------ */
/* The operations of a worker, in a fixed cycle, so the parent knows how
 * many of each kind every worker runs. */
enum kind { K_INSERT, K_UPDATE, K_SEARCH, K_JOIN, K_SCAN, K_INCR, NKINDS };

static const char *const kind_names[NKINDS] = {
    "insert", "update", "search", "join", "scan", "incr"
};

static const enum kind cycle[] = {
    K_INSERT, K_UPDATE, K_JOIN, K_INSERT, K_SEARCH,
    K_INCR, K_INSERT, K_UPDATE, K_JOIN, K_SCAN,
};
#define CYCLE_LEN (sizeof cycle / sizeof cycle[0])

/* How many operations of kind k a worker runs in ops steps. */
static long planned(long ops, enum kind k)
{
    long n = 0;
    for (size_t i = 0; i < CYCLE_LEN; i++)
        if (cycle[i] == k)
            n += ops / (long)CYCLE_LEN + ((long)i < ops % (long)CYCLE_LEN);
    return n;
}

/* ------------------------------------------------------------------ */
/* "bzworkers: WHAT: <the library's message>", returns BZ_EXIT_FAIL. */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bzworkers: %s: %s\n", what, bz_errmsg());
    return BZ_EXIT_FAIL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* An integer field of a row, or -1 when it is NULL or absent. */
static int64_t field_int(const bz_row *r, const char *name)
{
    int i = bz_row_find(r, name);
    if (i < 0 || bz_row_type(r, (size_t)i) != BZ_T_INT)
        return -1;
    return bz_row_int(r, (size_t)i);
}

/* xorshift64*: each worker its own stream. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------ */
/* Parent: seeding and measuring. */

/* *id = the row of table whose key_field is key, inserting v if none. */
static int find_or_insert(bz_db *db, const char *table, const char *key_field,
                          const char *key, const bz_values *v, int64_t *id,
                          int *created)
{
    bz_cond *c = bz_cond_new(BZ_EQ);
    if (!c || bz_cond_add_str(c, key_field, key)) {
        bz_cond_free(c);
        return fail("condition on %s.%s", table, key_field);
    }
    bz_rows *rs = NULL;
    int rc = bz_find_by_cond(db, table, c, NULL, &rs);
    bz_cond_free(c);
    if (rc)
        return fail("find %s '%s'", table, key);
    if (bz_rows_len(rs) > 0) {
        *id = bz_row_id(bz_rows_at(rs, 0));
        bz_rows_free(rs);
        return BZ_EXIT_OK;
    }
    bz_rows_free(rs);
    bz_row *row = NULL;
    if (bz_insert(db, table, v, &row))
        return fail("insert into %s", table);
    *id = bz_row_id(row);
    bz_row_free(row);
    (*created)++;
    return BZ_EXIT_OK;
}

static int seed_data(bz_db *db, struct seed *sd)
{
    bz_values *v = bz_values_new();
    if (!v)
        return fail("values");
    int rc = BZ_EXIT_OK;
    for (size_t i = 0; i < NUSERS && !rc; i++) {
        bz_values_clear(v);
        if (bz_values_set_str(v, "username", seed_users[i].username) ||
            bz_values_set_str(v, "email", seed_users[i].email))
            rc = fail("values for users");
        else
            rc = find_or_insert(db, "users", "username", seed_users[i].username,
                                v, &sd->users[i], &sd->created);
    }
    for (size_t i = 0; i < NPROJECTS && !rc; i++) {
        bz_values_clear(v);
        if (bz_values_set_str(v, "name", seed_projects[i].name) ||
            bz_values_set_int(v, "owner_id", sd->users[seed_projects[i].owner]) ||
            bz_values_set_str(v, "status", "active"))
            rc = fail("values for projects");
        else
            rc = find_or_insert(db, "projects", "name", seed_projects[i].name,
                                v, &sd->projects[i], &sd->created);
    }
    if (!rc) {
        bz_values_clear(v);
        if (bz_values_set_str(v, "name", COUNTER_NAME) ||
            bz_values_set_int(v, "value", 0))
            rc = fail("values for counters");
        else
            rc = find_or_insert(db, "counters", "name", COUNTER_NAME, v,
                                &sd->counter, &sd->created);
    }
    bz_values_free(v);
    return rc;
}

/* The ids of all tasks, in file order, into a malloc'ed array (ids may be
 * NULL to count only). */
static int task_ids(bz_db *db, int64_t **ids, size_t *n)
{
    *n = 0;
    size_t cap = 0;
    int64_t *a = NULL;
    bz_iter *it = NULL;
    if (bz_iter_open(db, "tasks", NULL, NULL, &it))
        return fail("scan tasks");
    bz_row *row;
    int rc;
    while ((rc = bz_iter_next(it, &row)) == BZ_ROW) {
        if (ids && *n == cap) {
            cap = cap ? 2 * cap : 1024;
            int64_t *b = realloc(a, cap * sizeof(*a));
            if (!b) {
                bz_row_free(row);
                free(a);
                bz_iter_close(it);
                fprintf(stderr, "bzworkers: scan tasks: out of memory\n");
                return BZ_EXIT_FAIL;
            }
            a = b;
        }
        if (ids)
            a[*n] = bz_row_id(row);
        (*n)++;
        bz_row_free(row);
    }
    if (rc != BZ_DONE) {
        rc = fail("scan tasks");
        free(a);
        bz_iter_close(it);
        return rc;
    }
    bz_iter_close(it);
    if (ids)
        *ids = a;
    return BZ_EXIT_OK;
}

static int counter_value(bz_db *db, int64_t id, int64_t *value)
{
    bz_row *row = NULL;
    if (bz_find_by_id(db, "counters", id, NULL, &row))
        return fail("read counter");
    if (!row) {
        fprintf(stderr, "bzworkers: read counter: row %" PRId64 " is gone\n", id);
        return BZ_EXIT_FAIL;
    }
    *value = field_int(row, "value");
    bz_row_free(row);
    return BZ_EXIT_OK;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------ */
/* Worker. */
struct worker {
    int index;                 /* 1-based                                  */
    long ops;
    const struct seed *seed;
    bz_db *db;
    bz_values *v;
    bz_joins *task_joins;      /* task -> its project and assignee         */
    bz_joins *project_joins;   /* project -> its tasks                     */
    uint64_t rng;
    int64_t max_id;            /* highest task id this worker has seen     */
    long done[NKINDS];
};

static int op_insert(struct worker *w, long step)
{
    char title[51], desc[160];
    const struct seed *sd = w->seed;
    snprintf(title, sizeof title, "task %d.%ld", w->index, step);
    snprintf(desc, sizeof desc, "%s (worker %d, pid %ld, step %ld)",
             phrases[rnd(&w->rng) % NPHRASES], w->index, (long)getpid(), step);
    uint64_t r = rnd(&w->rng);
    bz_values_clear(w->v);
    int bad = bz_values_set_str(w->v, "title", title) ||
              bz_values_set_str(w->v, "description", desc) ||
              bz_values_set_int(w->v, "project_id", sd->projects[r % NPROJECTS]) ||
              bz_values_set_str(w->v, "status", "todo");
    if (!bad)
        bad = r % 5 == 0 ? bz_values_set_null(w->v, "assignee_id")
                         : bz_values_set_int(w->v, "assignee_id",
                                             sd->users[(r >> 8) % NUSERS]);
    if (!bad)
        bad = r % 4 == 0 ? bz_values_set_null(w->v, "estimated_hours")
                         : bz_values_set_int(w->v, "estimated_hours",
                                             (int64_t)(1 + (r >> 16) % 40));
    if (bad)
        return fail("worker %d: values for tasks", w->index);
    bz_row *row = NULL;
    if (bz_insert(w->db, "tasks", w->v, &row))
        return fail("worker %d: insert into tasks", w->index);
    if (bz_row_id(row) > w->max_id)
        w->max_id = bz_row_id(row);
    bz_row_free(row);
    return BZ_EXIT_OK;
}

/* Any task up to the highest id seen: other workers' tasks too. */
static int64_t some_task(struct worker *w)
{
    return w->max_id > 0 ? 1 + (int64_t)(rnd(&w->rng) % (uint64_t)w->max_id) : 0;
}

static int op_update(struct worker *w)
{
    int64_t id = some_task(w);
    if (id == 0)
        return BZ_EXIT_OK;
    bz_values_clear(w->v);
    if (bz_values_set_str(w->v, "status", statuses[rnd(&w->rng) % NSTATUSES]))
        return fail("worker %d: values for tasks", w->index);
    int rc = bz_update_by_id(w->db, "tasks", id, w->v, NULL);
    /* Someone may have deleted it from outside (bazoola exec): fine. */
    if (rc && rc != BZ_ENOTFOUND)
        return fail("worker %d: update task %" PRId64, w->index, id);
    return BZ_EXIT_OK;
}

static int op_search(struct worker *w)
{
    bz_cond *c = bz_cond_new(BZ_ISUBSTR);
    if (!c || bz_cond_add_str(c, "description",
                              search_terms[rnd(&w->rng) % NTERMS])) {
        bz_cond_free(c);
        return fail("worker %d: search condition", w->index);
    }
    bz_rows *rs = NULL;
    int rc = bz_find_by_cond(w->db, "tasks", c, NULL, &rs);
    bz_cond_free(c);
    if (rc)
        return fail("worker %d: search tasks", w->index);
    bz_rows_free(rs);
    return BZ_EXIT_OK;
}

static int op_join(struct worker *w)
{
    int64_t id = some_task(w);
    if (id == 0)
        return BZ_EXIT_OK;
    bz_row *row = NULL;
    if (bz_find_by_id(w->db, "tasks", id, w->task_joins, &row))
        return fail("worker %d: find task %" PRId64, w->index, id);
    if (row) {
        /* Projects are never deleted: a task without one is a bug. */
        int p = bz_row_find(row, "project");
        if (p < 0 || bz_row_type(row, (size_t)p) != BZ_T_ROW) {
            fprintf(stderr, "bzworkers: worker %d: task %" PRId64
                    " has no project\n", w->index, id);
            bz_row_free(row);
            return BZ_EXIT_FAIL;
        }
    }
    bz_row_free(row);
    return BZ_EXIT_OK;
}

static int op_scan(struct worker *w)
{
    bz_rows *rs = NULL;
    if (bz_find_all(w->db, "projects", w->project_joins, &rs))
        return fail("worker %d: projects with their tasks", w->index);
    bz_rows_free(rs);
    return BZ_EXIT_OK;
}

/* Read, add one, write: without the lock two workers could read the same
 * value and one increment would be lost. */
static int op_incr(struct worker *w)
{
    int64_t id = w->seed->counter, value;
    if (bz_lock(w->db))
        return fail("worker %d: lock", w->index);
    int rc = counter_value(w->db, id, &value);
    if (!rc) {
        bz_values_clear(w->v);
        if (bz_values_set_int(w->v, "value", value + 1) ||
            bz_update_by_id(w->db, "counters", id, w->v, NULL))
            rc = fail("worker %d: increment counter", w->index);
    }
    if (bz_unlock(w->db) && !rc)
        rc = fail("worker %d: unlock", w->index);
    return rc;
}

static int run_ops(struct worker *w)
{
    for (long step = 0; step < w->ops; step++) {
        enum kind k = cycle[step % (long)CYCLE_LEN];
        int rc;
        switch (k) {
        case K_INSERT: rc = op_insert(w, step); break;
        case K_UPDATE: rc = op_update(w); break;
        case K_SEARCH: rc = op_search(w); break;
        case K_JOIN: rc = op_join(w); break;
        case K_SCAN: rc = op_scan(w); break;
        case K_INCR: rc = op_incr(w); break;
        default: rc = BZ_EXIT_FAIL; break;
        }
        if (rc)
            return rc;
        w->done[k]++;
    }
    return BZ_EXIT_OK;
}

/* The body of a worker process; returns its exit status. */
static int worker_main(int index, long ops, const char *dir,
                       const bz_schema *schema, const struct seed *sd)
{
    struct worker w = { .index = index, .ops = ops, .seed = sd };
    w.rng = 0x9E3779B97F4A7C15ULL * (uint64_t)index ^ (uint64_t)getpid();
    if (!w.rng)
        w.rng = 1;
    double t0 = now_ms();
    int rc;
    if (bz_open(dir, schema, NULL, &w.db))
        return fail("worker %d: open %s", index, dir);
    w.v = bz_values_new();
    w.task_joins = bz_joins_new();
    w.project_joins = bz_joins_new();
    if (!w.v || !w.task_joins || !w.project_joins ||
        bz_joins_add(w.task_joins, "project_id", "project", "projects") ||
        bz_joins_add(w.task_joins, "assignee_id", "assignee", "users") ||
        bz_joins_add_inverse(w.project_joins, "project_id", "tasks", "tasks"))
        rc = fail("worker %d: joins", index);
    else
        rc = run_ops(&w);
    bz_joins_free(w.project_joins);
    bz_joins_free(w.task_joins);
    bz_values_free(w.v);
    bz_close(w.db);
    if (rc)
        return rc;

    char line[256];
    int len = snprintf(line, sizeof line, "worker %d (pid %ld):", index,
                       (long)getpid());
    for (int k = 0; k < NKINDS; k++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %s %ld%s",
                        kind_names[k], w.done[k], k + 1 < NKINDS ? "," : "");
    printf("%s in %.0f ms\n", line, now_ms() - t0);
    return BZ_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Parent. */

static void usage(FILE *out)
{
    fputs("Usage: bzworkers [-w WORKERS] [-n OPS] [DIR]\n"
          "\n"
          "Fork WORKERS processes that share the data directory DIR through\n"
          "libbazoola, each running OPS operations on a small task manager:\n"
          "inserts of tasks, status updates, ISUBSTR searches, reads by id\n"
          "with joins, projects with their tasks, and a shared counter\n"
          "incremented under bz_lock().  Then check that the task count, the\n"
          "uniqueness of task ids and the counter add up.  DIR may hold the\n"
          "data of an earlier run: only this run's work is checked.\n"
          "\n"
          "Options:\n"
          "  -w, --workers WORKERS  worker processes, 1..128 (default 4)\n"
          "  -n, --ops OPS          operations per worker, 0..1000000\n"
          "                         (default 200)\n"
          "  -h, --help             show this help\n"
          "  -V, --version          show the version\n"
          "\n"
          "DIR defaults to " DEFAULT_DIR "; options may follow it.  Exit\n"
          "status: 0 when every check passes, 1 on an error or a failed\n"
          "check, 2 on a bad command line.\n",
          out);
}

/* One line of the verdict; returns 1 when the check failed. */
__attribute__((format(printf, 2, 3)))
static int check(int ok, const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    printf("%-56s %s\n", what, ok ? "ok" : "FAILED");
    return !ok;
}

/* Before the workers: seed, then measure under one lock, so the
 * measurement sees the seeded state and nothing else. */
static int prepare(const char *dir, const bz_schema *schema, struct seed *sd,
                   size_t *tasks, int64_t *counter)
{
    bz_db *db = NULL;
    if (bz_open(dir, schema, NULL, &db))
        return fail("open %s", dir);
    int rc = BZ_EXIT_OK;
    if (bz_lock(db)) {
        rc = fail("lock %s", dir);
        goto out_close;
    }
    if (!(rc = seed_data(db, sd)) && !(rc = task_ids(db, NULL, tasks)))
        rc = counter_value(db, sd->counter, counter);
    if (bz_unlock(db) && !rc)
        rc = fail("unlock %s", dir);
out_close:
    bz_close(db);
    return rc;
}

/* After the workers: reopen and measure again. */
static int measure(const char *dir, const bz_schema *schema, int64_t counter_id,
                   int64_t **ids, size_t *tasks, int64_t *counter)
{
    bz_db *db = NULL;
    if (bz_open(dir, schema, NULL, &db))
        return fail("reopen %s", dir);
    int rc = task_ids(db, ids, tasks);
    if (!rc && (rc = counter_value(db, counter_id, counter))) {
        free(*ids);
        *ids = NULL;
    }
    bz_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "workers", required_argument, NULL, 'w' },
        { "ops", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    long workers = DEFAULT_WORKERS, ops = DEFAULT_OPS;
    struct cli cli;
    int opt;
    cli_init(&cli, "bzworkers", usage, "w:n:", longopts);
    while ((opt = cli_next(&cli, argc, argv)) != -1) {
        switch (opt) {
        case CLI_STOP:
            return cli.status;
        case 'w':
            if (cli_long(optarg, 1, MAX_WORKERS, &workers))
                return cli_usage_error(&cli, "--workers", "1 to %d, not '%s'",
                                       MAX_WORKERS, optarg);
            break;
        default: /* 'n' */
            if (cli_long(optarg, 0, MAX_OPS, &ops))
                return cli_usage_error(&cli, "--ops", "0 to %ld, not '%s'",
                                       MAX_OPS, optarg);
            break;
        }
    }
    if ((opt = cli_operands(&cli, argc, argv, 0, 1, "[DIR]")))
        return opt;
    const char *dir = optind < argc ? argv[optind] : DEFAULT_DIR;

    bz_schema *schema = NULL;
    if (bz_schema_parse(schema_text, sizeof schema_text - 1, &schema))
        return fail("built-in schema");

    double t0 = now_ms();
    struct seed sd = { .counter = 0 };
    size_t tasks_before;
    int64_t counter_before;
    if (prepare(dir, schema, &sd, &tasks_before, &counter_before)) {
        bz_schema_free(schema);
        return BZ_EXIT_FAIL;
    }
    printf("bzworkers: %ld workers x %ld ops on %s (libbazoola %s, pid %ld)\n",
           workers, ops, dir, bz_version(), (long)getpid());
    printf("seed: %zu users, %zu projects, 1 counter (%d new rows); "
           "before: %zu tasks, counter %" PRId64 "\n",
           NUSERS, NPROJECTS, sd.created, tasks_before, counter_before);
    fflush(stdout); /* or the children would print it again */

    /* Fork the workers.  No handle is open: each worker opens its own. */
    pid_t pids[MAX_WORKERS];
    long started = 0;
    int fork_failed = 0;
    for (; started < workers; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("bzworkers: fork");
            fork_failed = 1;
            break;
        }
        if (pid == 0) {
            int st = worker_main((int)started + 1, ops, dir, schema, &sd);
            bz_schema_free(schema);
            fflush(stdout);
            fflush(stderr);
            _exit(st);
        }
        pids[started] = pid;
    }
    long clean = 0;
    for (long i = 0; i < started; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            clean++;
        else if (WIFSIGNALED(st))
            fprintf(stderr, "bzworkers: worker %ld (pid %ld) killed: %s\n",
                    i + 1, (long)pids[i], strsignal(WTERMSIG(st)));
    }

    int64_t *ids = NULL;
    size_t tasks_after;
    int64_t counter_after;
    int rc = measure(dir, schema, sd.counter, &ids, &tasks_after, &counter_after);
    bz_schema_free(schema);
    if (rc)
        return BZ_EXIT_FAIL;

    qsort(ids, tasks_after, sizeof(*ids), cmp_id);
    size_t dups = 0;
    for (size_t i = 1; i < tasks_after; i++)
        dups += ids[i] == ids[i - 1];
    free(ids);

    long want_tasks = workers * planned(ops, K_INSERT);
    long want_incr = workers * planned(ops, K_INCR);
    int64_t got_tasks = (int64_t)tasks_after - (int64_t)tasks_before;
    int64_t got_incr = counter_after - counter_before;
    int failed = 0;
    failed += check(!fork_failed && clean == workers,
                    "workers: %ld of %ld exited cleanly", clean, workers);
    failed += check(got_tasks == want_tasks,
                    "tasks: %zu -> %zu (+%" PRId64 ", expected +%ld)",
                    tasks_before, tasks_after, got_tasks, want_tasks);
    failed += check(dups == 0, "task ids: %zu, %zu duplicated", tasks_after, dups);
    failed += check(got_incr == want_incr,
                    "counter: %" PRId64 " -> %" PRId64 " (+%" PRId64
                    ", expected +%ld)",
                    counter_before, counter_after, got_incr, want_incr);
    if (failed)
        printf("%d check%s FAILED in %.0f ms\n", failed, failed > 1 ? "s" : "",
               now_ms() - t0);
    else
        printf("all checks passed: %ld operations in %.0f ms\n",
               workers * ops, now_ms() - t0);
    return failed ? BZ_EXIT_FAIL : BZ_EXIT_OK;
}
