/*
 * pages.c - the read-only pages of bztasks: dashboard, lists, details,
 * search with its explanation, and the segment's statistics.  None of
 * them writes: GET never changes the directory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bztasks.h"

#define RECENT_TASKS 10

/* The row joined under key (NULL when the join found none). */
static const bz_row *joined(const bz_row *r, const char *key)
{
    int i = bz_row_find(r, key);
    return i >= 0 && bz_row_type(r, (size_t)i) == BZ_T_ROW
               ? bz_row_row(r, (size_t)i) : NULL;
}

static const char *str(const bz_row *r, const char *name)
{
    const char *s = NULL;
    return r && bz_row_get_str(r, name, &s, NULL) == BZ_OK ? s : "";
}

/* A user's name by id, for rows that came without a join (the rows of an
 * InverseJoin carry their own fields only). */
static void out_user(struct app *app, struct buf *b, int64_t id)
{
    bz_row *u = NULL;
    if (id && bz_find_by_id(app->db, "users", id, NULL, &u) == BZ_OK && u)
        out(b, "%s", str(u, "username"));
    else
        out(b, "<span class=\"muted\">-</span>");
    bz_row_free(u);
}

static int cmp_id_desc(const void *a, const void *b)
{
    int64_t x = bz_row_id(*(const bz_row *const *)a);
    int64_t y = bz_row_id(*(const bz_row *const *)b);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Rows newest first: ids grow, while file order reuses deleted slots. */
static const bz_row **newest_first(const bz_rows *rs)
{
    size_t n = bz_rows_len(rs);
    const bz_row **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = bz_rows_at(rs, i);
    qsort(v, n, sizeof *v, cmp_id_desc);
    return v;
}

static bz_joins *task_joins(void)
{
    bz_joins *j = bz_joins_new();
    if (j && (bz_joins_add(j, "project_id", "project", "projects") ||
              bz_joins_add(j, "assignee_id", "assignee", "users"))) {
        bz_joins_free(j);
        return NULL;
    }
    return j;
}

static bz_joins *owner_join(void)
{
    bz_joins *j = bz_joins_new();
    if (j && bz_joins_add(j, "owner_id", "owner", "users")) {
        bz_joins_free(j);
        return NULL;
    }
    return j;
}

/* A status (kind "s") or priority ("p") as a coloured badge; the class
 * comes from the value only when it is a plain word, so stored text can
 * never smuggle markup into the attribute. */
static void badge(struct buf *b, const char *kind, const char *v)
{
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz_");
    if (!*v)
        return;
    out(b, "<span class=\"badge %s-%s\">%s</span>", kind,
        n == strlen(v) ? v : "other", v);
}

/* " · Due DATE", or nothing when there is no due date. */
static void due(struct buf *b, const char *date)
{
    if (*date)
        out(b, " &middot; Due %s", date);
}

static void project_table(struct buf *b, const bz_rows *rs)
{
    out(b, "<table><tr><th>#</th><th>Project</th><th>Owner</th>"
        "<th>Status</th><th>Due</th></tr>\n");
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *p = bz_rows_at(rs, i);
        out(b, "<tr><td>%D</td><td><a href=\"/projects/%D\">%s</a></td>"
            "<td>%s</td><td>", bz_row_id(p), bz_row_id(p), str(p, "name"),
            str(joined(p, "owner"), "username"));
        badge(b, "s", str(p, "status"));
        out(b, "</td><td>%s</td></tr>\n", str(p, "due_date"));
    }
    if (!bz_rows_len(rs))
        out(b, "<tr><td colspan=\"5\" class=\"muted\">none</td></tr>\n");
    out(b, "</table>\n");
}

/* Task rows joined with task_joins(), in the order given. */
static void task_table(struct buf *b, const bz_row *const *v, size_t n)
{
    out(b, "<table><tr><th>#</th><th>Task</th><th>Project</th>"
        "<th>Assignee</th><th>Status</th><th>Priority</th><th>Due</th>"
        "</tr>\n");
    for (size_t i = 0; i < n; i++) {
        const bz_row *t = v[i];
        const bz_row *p = joined(t, "project");
        out(b, "<tr><td>%D</td><td><a href=\"/tasks/%D\">%s</a></td>"
            "<td><a href=\"/projects/%D\">%s</a></td><td>%s</td><td>",
            bz_row_id(t), bz_row_id(t), str(t, "title"),
            field_int(t, "project_id"), str(p, "name"),
            str(joined(t, "assignee"), "username"));
        badge(b, "s", str(t, "status"));
        out(b, "</td><td>");
        badge(b, "p", str(t, "priority"));
        out(b, "</td><td>%s</td></tr>\n", str(t, "due_date"));
    }
    if (!n)
        out(b, "<tr><td colspan=\"7\" class=\"muted\">none</td></tr>\n");
    out(b, "</table>\n");
}

void page_dashboard(struct app *app, const struct req *q, struct resp *r)
{
    (void)q;
    bz_joins *pj = owner_join(), *tj = task_joins();
    bz_rows *projects = NULL, *tasks = NULL;
    int64_t nusers = 0, ncomments = 0;
    int rc;
    if (!pj || !tj) {
        rc = BZ_ENOMEM;
        goto fail;
    }
    if ((rc = bz_find_all(app->db, "projects", pj, &projects)) ||
        (rc = bz_find_all(app->db, "tasks", tj, &tasks)) ||
        (rc = bz_count(app->db, "users", NULL, &nusers)) ||
        (rc = bz_count(app->db, "comments", NULL, &ncomments)))
        goto fail;
    const bz_row **v = newest_first(tasks);
    if (!v) {
        rc = BZ_ENOMEM;
        goto fail;
    }
    size_t nt = bz_rows_len(tasks);
    page_begin(&r->body, "Dashboard");
    out(&r->body, "<p class=\"box\">%D projects, %D tasks, %D users, %D "
        "comments.  <a href=\"/projects/new\">New project</a> | "
        "<a href=\"/tasks/new\">New task</a> | <a href=\"/users/new\">New "
        "user</a></p>\n<h2>Projects</h2>\n",
        (int64_t)bz_rows_len(projects), (int64_t)nt, nusers, ncomments);
    project_table(&r->body, projects);
    out(&r->body, "<h2>Recent tasks</h2>\n");
    task_table(&r->body, v, nt < RECENT_TASKS ? nt : RECENT_TASKS);
    out(&r->body, "<p class=\"muted\">Projects: find_all(projects) with "
        "Join(owner_id &rarr; users as owner).  Tasks: find_all(tasks) with "
        "Join(project_id &rarr; projects), Join(assignee_id &rarr; users), "
        "newest %d by id.</p>\n", RECENT_TASKS);
    page_end(&r->body, app);
    free(v);
    goto done;
fail:
    engine_error(r, app, "Loading the dashboard", rc);
done:
    bz_rows_free(projects);
    bz_rows_free(tasks);
    bz_joins_free(pj);
    bz_joins_free(tj);
}

void page_projects(struct app *app, const struct req *q, struct resp *r)
{
    (void)q;
    bz_joins *j = owner_join();
    bz_rows *rs = NULL;
    int rc = j ? bz_find_all(app->db, "projects", j, &rs) : BZ_ENOMEM;
    if (rc) {
        engine_error(r, app, "Listing projects", rc);
    } else {
        page_begin(&r->body, "Projects");
        out(&r->body, "<p><a href=\"/projects/new\">New project</a></p>\n");
        project_table(&r->body, rs);
        page_end(&r->body, app);
    }
    bz_rows_free(rs);
    bz_joins_free(j);
}

void page_project(struct app *app, int64_t id, struct resp *r)
{
    bz_joins *j = owner_join();
    bz_row *p = NULL;
    int rc = j ? bz_joins_add_inverse(j, "project_id", "tasks", "tasks")
               : BZ_ENOMEM;
    if (!rc)
        rc = bz_find_by_id(app->db, "projects", id, j, &p);
    if (rc) {
        engine_error(r, app, "Loading the project", rc);
    } else if (!p) {
        error_page(r, app, 404, "Not found", "There is no such project.");
    } else {
        struct buf *b = &r->body;
        page_begin(b, str(p, "name"));
        out(b, "<div class=\"box\"><p>%s</p><p>Owner: <b>%s</b> &middot; "
            "Status: ", str(p, "description"),
            str(joined(p, "owner"), "username"));
        badge(b, "s", str(p, "status"));
        out(b, " &middot; Created %s", str(p, "created_date"));
        due(b, str(p, "due_date"));
        out(b, "</p><p><a href=\"/projects/%D/edit\">Edit</a> | <a href=\""
            "/tasks/new?project_id=%D\">New task</a></p></div>\n"
            "<h2>Tasks</h2>\n", id, id);
        int ti = bz_row_find(p, "tasks");
        const bz_rows *ts = ti >= 0 && bz_row_type(p, (size_t)ti) == BZ_T_ROWS
                                ? bz_row_rows(p, (size_t)ti) : NULL;
        out(b, "<table><tr><th>#</th><th>Task</th><th>Assignee</th>"
            "<th>Status</th><th>Priority</th><th>Hours</th></tr>\n");
        for (size_t i = 0; ts && i < bz_rows_len(ts); i++) {
            const bz_row *t = bz_rows_at(ts, i);
            char h[24];
            out(b, "<tr><td>%D</td><td><a href=\"/tasks/%D\">%s</a></td><td>",
                bz_row_id(t), bz_row_id(t), str(t, "title"));
            out_user(app, b, field_int(t, "assignee_id"));
            out(b, "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                str(t, "status"), str(t, "priority"),
                field_text(t, "estimated_hours", h, sizeof h));
        }
        if (!ts || !bz_rows_len(ts))
            out(b, "<tr><td colspan=\"6\" class=\"muted\">none</td></tr>\n");
        out(b, "</table>\n<p class=\"muted\">find_by_id(projects, %D) with "
            "Join(owner_id &rarr; users as owner) and InverseJoin(tasks."
            "project_id as tasks).</p>\n", id);
        page_end(b, app);
    }
    bz_row_free(p);
    bz_joins_free(j);
}

void page_tasks(struct app *app, const struct req *q, struct resp *r)
{
    (void)q;
    bz_joins *j = task_joins();
    bz_rows *rs = NULL;
    int rc = j ? bz_find_all(app->db, "tasks", j, &rs) : BZ_ENOMEM;
    const bz_row **v = rc ? NULL : newest_first(rs);
    if (!rc && !v)
        rc = BZ_ENOMEM;
    if (rc) {
        engine_error(r, app, "Listing tasks", rc);
    } else {
        page_begin(&r->body, "Tasks");
        out(&r->body, "<p><a href=\"/tasks/new\">New task</a></p>\n");
        task_table(&r->body, v, bz_rows_len(rs));
        page_end(&r->body, app);
    }
    free(v);
    bz_rows_free(rs);
    bz_joins_free(j);
}

void page_task(struct app *app, int64_t id, struct resp *r)
{
    bz_joins *j = task_joins(), *cj = bz_joins_new();
    bz_cond *c = bz_cond_new(BZ_EQ);
    bz_row *t = NULL;
    bz_rows *cs = NULL;
    int rc = BZ_ENOMEM;
    if (j && cj && c && !bz_joins_add(cj, "user_id", "author", "users") &&
        !bz_cond_add_int(c, "task_id", id))
        rc = bz_find_by_id(app->db, "tasks", id, j, &t);
    if (!rc && t)
        rc = bz_find_by_cond(app->db, "comments", c, cj, &cs);
    if (rc) {
        engine_error(r, app, "Loading the task", rc);
    } else if (!t) {
        error_page(r, app, 404, "Not found", "There is no such task.");
    } else {
        struct buf *b = &r->body;
        char h[24];
        page_begin(b, str(t, "title"));
        const char *assignee = str(joined(t, "assignee"), "username");
        const char *est = field_text(t, "estimated_hours", h, sizeof h);
        out(b, "<div class=\"box\"><p>%s</p><p>Project: <a href=\"/projects/"
            "%D\">%s</a> &middot; Assignee: <b>%s</b> &middot; Status: ",
            str(t, "description"), field_int(t, "project_id"),
            str(joined(t, "project"), "name"),
            *assignee ? assignee : "nobody");
        badge(b, "s", str(t, "status"));
        out(b, " &middot; Priority: ");
        badge(b, "p", str(t, "priority"));
        out(b, " &middot; Created %s", str(t, "created_date"));
        due(b, str(t, "due_date"));
        if (*est)
            out(b, " &middot; Estimate %s h", est);
        out(b, "</p><p><a href=\"/tasks/%D/edit\">Edit</a> | <a href=\""
            "/comments/new?task_id=%D\">Add a comment</a></p></div>\n"
            "<h2>Comments</h2>\n", id, id);
        for (size_t i = 0; i < bz_rows_len(cs); i++) {
            const bz_row *cm = bz_rows_at(cs, i);
            out(b, "<div class=\"box\"><b>%s</b> <span class=\"muted\">on %s"
                "</span> <a href=\"/comments/%D/edit\">edit</a><p>%s</p>"
                "</div>\n", str(joined(cm, "author"), "username"),
                str(cm, "created_date"), bz_row_id(cm), str(cm, "content"));
        }
        if (!bz_rows_len(cs))
            out(b, "<p class=\"muted\">No comments yet.</p>\n");
        out(b, "<p class=\"muted\">find_by_id(tasks, %D) with Join(project_id"
            ", assignee_id); comments: find_by_cond(comments, EQ(task_id=%D))"
            " with Join(user_id &rarr; users as author).</p>\n", id, id);
        page_end(b, app);
    }
    bz_rows_free(cs);
    bz_row_free(t);
    bz_cond_free(c);
    bz_joins_free(j);
    bz_joins_free(cj);
}

void page_users(struct app *app, const struct req *q, struct resp *r)
{
    (void)q;
    bz_rows *rs = NULL;
    int rc = bz_find_all(app->db, "users", NULL, &rs);
    if (rc) {
        engine_error(r, app, "Listing users", rc);
        return;
    }
    struct buf *b = &r->body;
    page_begin(b, "Users");
    out(b, "<p><a href=\"/users/new\">New user</a></p>\n<table><tr><th>#"
        "</th><th>Username</th><th>Email</th><th>Role</th><th></th></tr>\n");
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *u = bz_rows_at(rs, i);
        out(b, "<tr><td>%D</td><td>%s</td><td>%s</td><td>%s</td><td><a "
            "href=\"/users/%D/edit\">edit</a></td></tr>\n", bz_row_id(u),
            str(u, "username"), str(u, "email"), str(u, "role"),
            bz_row_id(u));
    }
    out(b, "</table>\n");
    page_end(b, app);
    bz_rows_free(rs);
}

/* ------------------------------------------------------------------ */
/* Search. */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct search_part {
    const char *table, *field, *joins_text;
    bz_rows *rows;
    int64_t scanned;
};

void page_search(struct app *app, const struct req *q, struct resp *r)
{
    const char *text = q->arg(q->arg_ctx, "q");
    char query[BZT_MAX_QUERY + 1];
    snprintf(query, sizeof query, "%s", text ? text : "");
    size_t qn = strlen(query);
    if (text && strlen(text) > qn) /* cut whole characters, not bytes */
        while (qn && ((unsigned char)query[qn - 1] & 0xC0) == 0x80)
            query[--qn] = '\0';
    if (text && strlen(text) > qn && qn &&
        ((unsigned char)query[qn - 1] & 0xC0) == 0xC0)
        query[--qn] = '\0';
    struct buf *b = &r->body;
    if (!query[0]) {
        page_begin(b, "Search");
        out(b, "<form action=\"/search\"><input name=\"q\" autofocus> "
            "<button>Search</button></form><p class=\"muted\">Project "
            "names, task titles and usernames, case-insensitively.</p>\n");
        page_end(b, app);
        return;
    }
    struct search_part parts[] = {
        {"projects", "name", "Join(owner_id &rarr; users as owner)", NULL, 0},
        {"tasks", "title", "Join(project_id &rarr; projects as project), "
         "Join(assignee_id &rarr; users as assignee)", NULL, 0},
        {"users", "username", "none", NULL, 0},
    };
    enum { NPARTS = sizeof parts / sizeof parts[0] };
    bz_joins *joins[NPARTS] = {owner_join(), task_joins(), NULL};
    bz_cond *conds[NPARTS] = {NULL};
    int rc = joins[0] && joins[1] ? BZ_OK : BZ_ENOMEM;
    for (int i = 0; !rc && i < NPARTS; i++) {
        conds[i] = bz_cond_new(BZ_ISUBSTR);
        if (!conds[i] || bz_cond_add_str(conds[i], parts[i].field, query))
            rc = BZ_ENOMEM;
    }
    /* This thread's own lookups and lock wait (one MHD thread serves this
     * worker): what this query cost, whatever the other workers do. */
    uint64_t hits0, misses0, hits1, misses1;
    bz_thread_cache_lookups(&hits0, &misses0);
    uint64_t wait0 = bz_lock_wait_ns();
    double t0 = now_ms();
    for (int i = 0; !rc && i < NPARTS; i++) {
        rc = bz_find_by_cond(app->db, parts[i].table, conds[i], joins[i],
                             &parts[i].rows);
        if (!rc)
            rc = bz_count(app->db, parts[i].table, NULL, &parts[i].scanned);
    }
    double ms = now_ms() - t0;
    uint64_t wait = bz_lock_wait_ns() - wait0;
    bz_thread_cache_lookups(&hits1, &misses1);
    if (rc) {
        engine_error(r, app, "The search", rc);
        goto done;
    }

    char title[BZT_MAX_QUERY + 32];
    snprintf(title, sizeof title, "Search: %s", query);
    page_begin(b, title);
    out(b, "<form action=\"/search\"><input name=\"q\" value=\"%s\"> "
        "<button>Search</button></form>\n", query);
    out(b, "<h2>Projects (%D)</h2>\n", (int64_t)bz_rows_len(parts[0].rows));
    project_table(b, parts[0].rows);
    const bz_row **v = newest_first(parts[1].rows);
    out(b, "<h2>Tasks (%D)</h2>\n", (int64_t)bz_rows_len(parts[1].rows));
    if (v)
        task_table(b, v, bz_rows_len(parts[1].rows));
    free(v);
    out(b, "<h2>Users (%D)</h2>\n<table><tr><th>#</th><th>Username</th>"
        "<th>Email</th><th>Role</th></tr>\n",
        (int64_t)bz_rows_len(parts[2].rows));
    for (size_t i = 0; i < bz_rows_len(parts[2].rows); i++) {
        const bz_row *u = bz_rows_at(parts[2].rows, i);
        out(b, "<tr><td>%D</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
            bz_row_id(u), str(u, "username"), str(u, "email"),
            str(u, "role"));
    }
    out(b, "</table>\n");

    out(b, "<h2>How this query ran</h2>\n<div class=\"box\" id=\"explain\">"
        "<table><tr><th>Table</th><th>Condition</th><th>Joins</th>"
        "<th>Rows scanned</th><th>Matched</th></tr>\n");
    int64_t scanned = 0;
    for (int i = 0; i < NPARTS; i++) {
        scanned += parts[i].scanned;
        out(b, "<tr><td>%s</td><td>ISUBSTR(%s, &quot;%s&quot;)</td><td>%R"
            "</td><td>%D</td><td>%D</td></tr>\n", parts[i].table,
            parts[i].field, query, parts[i].joins_text, parts[i].scanned,
            (int64_t)bz_rows_len(parts[i].rows));
    }
    out(b, "</table><p>Three find_by_cond calls, each a full scan of its "
        "table (%D rows scanned in all; ISUBSTR folds case for all of "
        "Unicode, and needs no index).</p><ul>\n", scanned);
    out(b, "<li>Cache: <b id=\"hits\">%U</b> page hits, <b id=\"misses\">%U"
        "</b> misses in the shared segment (this query's own lookups)</li>\n",
        hits1 - hits0, misses1 - misses0);
    char t[64];
    snprintf(t, sizeof t, "%.3f ms", ms);
    out(b, "<li>Lock wait: <b id=\"lockwait\">%U</b> ns (this worker's "
        "thread; readers take no lock unless a writer interferes)</li>\n"
        "<li>Time: %s</li>\n<li>Served by worker pid <b id=\"pid\">%d</b>"
        "</li></ul></div>\n", wait, t, (int)app->pid);
    page_end(b, app);
done:
    for (int i = 0; i < NPARTS; i++) {
        bz_rows_free(parts[i].rows);
        bz_cond_free(conds[i]);
        bz_joins_free(joins[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Stats: bzstat's view (segment, cache, tables and files, locks,
 * processes) as HTML, from the same public statistics API. */

static const char *ratio(char *buf, size_t len, uint64_t h, uint64_t m)
{
    if (h + m == 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%", 100.0 * (double)h / (double)(h + m));
    return buf;
}

static const char *when(char *buf, size_t len, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) ||
        !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, len, "?");
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Numbers with their units, for people: 1,234,567 / 12.3 KiB / 4.5 ms. */
static const char *count(char *buf, size_t len, uint64_t v)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *bytes(char *buf, size_t len, uint64_t v)
{
    if (v < 1024)
        snprintf(buf, len, "%" PRIu64 " B", v);
    else if (v < 1024 * 1024)
        snprintf(buf, len, "%.1f KiB", (double)v / 1024);
    else
        snprintf(buf, len, "%.1f MiB", (double)v / (1024 * 1024));
    return buf;
}

static const char *nanos(char *buf, size_t len, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, len, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f \xc2\xb5s", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.2f s", (double)ns / 1e9);
    return buf;
}

/* /stats.json: the cumulative counters the page's charts difference into
 * rates, with the moment they were read. */
void page_stats_json(struct app *app, struct resp *r)
{
    bz_stats *s = NULL;
    int rc = bz_stats_read(app->dir, &s);
    struct buf *b = &r->body;
    r->content_type = "application/json";
    if (rc) {
        r->status = 503;
        out(b, "{\"error\":\"no statistics\"}\n");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    out(b, "{\"time_ms\":%U,\"hits\":%U,\"misses\":%U,\"page_reads\":%U,"
        "\"page_writes\":%U,\"outside\":%U,\"lock_acquisitions\":%U,"
        "\"lock_contended\":%U,\"lock_wait_ns\":%U,\"reads_retried\":%U,"
        "\"frames_used\":%U,\"frames\":%U}\n",
        (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
        bz_stats_counter(s, BZ_STAT_HITS), bz_stats_counter(s, BZ_STAT_MISSES),
        bz_stats_counter(s, BZ_STAT_PAGE_READS),
        bz_stats_counter(s, BZ_STAT_PAGE_WRITES),
        bz_stats_counter(s, BZ_STAT_OUTSIDE),
        bz_stats_lock(s, BZ_LSTAT_ACQUISITIONS),
        bz_stats_lock(s, BZ_LSTAT_CONTENDED),
        bz_stats_lock(s, BZ_LSTAT_WAIT_NS),
        bz_stats_lock(s, BZ_LSTAT_READ_RETRIES), bz_stats_frames_used(s),
        bz_stats_frames(s));
    bz_stats_free(s);
}

/* The script of /stats (served as /stats.js: the pages' Content Security
 * Policy allows scripts from this server only, none inline).  It polls
 * /stats.json every second and keeps the last two minutes, so the charts
 * move without a reload; Chart.js comes from Debian's libjs-chart.js. */
const char bzt_stats_js[] =
    "'use strict';\n"
    "const keep = 120, samples = [];\n"
    "const specs = [\n"
    "  ['chart-ratio', 'hit ratio (%)', (a, b) => {\n"
    "     const h = b.hits - a.hits, m = b.misses - a.misses;\n"
    "     return h + m ? 100 * h / (h + m) : null; }],\n"
    "  ['chart-lookups', 'page lookups per second',\n"
    "   (a, b, dt) => (b.hits + b.misses - a.hits - a.misses) / dt],\n"
    "  ['chart-writes', 'writes (lock acquisitions) per second',\n"
    "   (a, b, dt) => (b.lock_acquisitions - a.lock_acquisitions) / dt],\n"
    "  ['chart-wait', 'lock wait (ms per second)',\n"
    "   (a, b, dt) => (b.lock_wait_ns - a.lock_wait_ns) / 1e6 / dt],\n"
    "  ['chart-outside', 'outside changes seen per second',\n"
    "   (a, b, dt) => (b.outside - a.outside) / dt],\n"
    "];\n"
    "const charts = specs.map(([id, label]) => new Chart(\n"
    "  document.getElementById(id), {type: 'line',\n"
    "  data: {labels: [], datasets: [{label, data: [], borderColor: '#2d3e50',\n"
    "         pointRadius: 0, tension: 0.2}]},\n"
    "  options: {animation: false, responsive: false,\n"
    "            scales: {x: {title: {display: true, text: 'seconds ago'}},\n"
    "                     y: {beginAtZero: true,\n"
    "                         title: {display: true, text: label}}}}}));\n"
    "function redraw() {\n"
    "  const last = samples[samples.length - 1];\n"
    "  specs.forEach(([, , f], k) => {\n"
    "    const c = charts[k];\n"
    "    c.data.labels = []; c.data.datasets[0].data = [];\n"
    "    for (let i = 1; i < samples.length; i++) {\n"
    "      const a = samples[i - 1], b = samples[i];\n"
    "      const dt = (b.time_ms - a.time_ms) / 1000;\n"
    "      if (dt <= 0) continue;\n"
    "      c.data.labels.push(((last.time_ms - b.time_ms) / 1000).toFixed(0));\n"
    "      c.data.datasets[0].data.push(f(a, b, dt));\n"
    "    }\n"
    "    c.update();\n"
    "  });\n"
    "  document.getElementById('live').textContent =\n"
    "    'live: ' + (samples.length - 1) + ' s of history';\n"
    "}\n"
    "async function poll() {\n"
    "  try {\n"
    "    const r = await fetch('/stats.json', {cache: 'no-store'});\n"
    "    if (r.ok) { samples.push(await r.json());\n"
    "      if (samples.length > keep + 1) samples.shift(); redraw(); }\n"
    "  } catch (e) { document.getElementById('live').textContent =\n"
    "                  'live: server not answering'; }\n"
    "}\n"
    "poll(); setInterval(poll, 1000);\n";

void page_stats(struct app *app, struct resp *r)
{
    bz_stats *s = NULL;
    int rc = bz_stats_read(app->dir, &s);
    if (rc) {
        engine_error(r, app, "Reading the segment's statistics", rc);
        return;
    }
    struct buf *b = &r->body;
    char a[64], c2[64], c3[64], c4[64], c5[64], c6[64];
    page_begin(b, "Stats");
    /* The charts need scripts; without them the tables below still say
     * everything, as of the moment the page was served. */
    out(b, "<p class=\"muted\" id=\"live\">live charts need JavaScript; "
        "the tables are as of this page's loading</p>\n<div class=\"charts\">"
        "<canvas id=\"chart-ratio\" width=\"520\" height=\"220\"></canvas>"
        "<canvas id=\"chart-lookups\" width=\"520\" height=\"220\"></canvas>"
        "<canvas id=\"chart-writes\" width=\"520\" height=\"220\"></canvas>"
        "<canvas id=\"chart-wait\" width=\"520\" height=\"220\"></canvas>"
        "<canvas id=\"chart-outside\" width=\"520\" height=\"220\"></canvas>"
        "</div>\n<script src=\"/javascript/chart.js/chart.min.js\"></script>"
        "<script src=\"/stats.js\"></script>\n");
    uint64_t frames = bz_stats_frames(s), used = bz_stats_frames_used(s);
    uint64_t hits = bz_stats_counter(s, BZ_STAT_HITS);
    uint64_t misses = bz_stats_counter(s, BZ_STAT_MISSES);
    out(b, "<h2>Segment</h2><table>\n<tr><th>name</th><td>%s</td></tr>\n"
        "<tr><th>size</th><td>%s, pages of %s</td></tr>\n"
        "<tr><th>frames</th><td>%s of %s pages in use</td></tr>\n"
        "<tr><th>created</th><td>%s</td></tr>\n<tr><th>recoveries</th><td>"
        "%s (writers found dead mid-operation)</td></tr></table>\n",
        bz_stats_segment_name(s), bytes(c2, sizeof c2, bz_stats_segment_size(s)),
        bytes(c3, sizeof c3, bz_stats_page_size(s)), count(c4, sizeof c4, used),
        count(c5, sizeof c5, frames),
        when(a, sizeof a, bz_stats_created_at(s)),
        count(c6, sizeof c6, bz_stats_recoveries(s)));
    out(b, "<h2>Cache</h2><table>\n<tr><th>hits</th><td>%s lookups</td>",
        count(c2, sizeof c2, hits));
    out(b, "<th>misses</th><td>%s lookups</td><th>hit ratio</th>"
        "<td id=\"ratio\">%s</td></tr>\n", count(c3, sizeof c3, misses),
        ratio(a, sizeof a, hits, misses));
    out(b, "<tr><th>evictions</th><td>%s pages</td>",
        count(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_EVICTIONS)));
    out(b, "<th>page reads</th><td>%s pages</td>",
        count(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_PAGE_READS)));
    out(b, "<th>page writes</th><td>%s writes</td></tr>\n",
        count(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_PAGE_WRITES)));
    out(b, "<tr><th>read from files</th><td>%s</td>",
        bytes(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_BYTES_READ)));
    out(b, "<th>written to files</th><td>%s</td>",
        bytes(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_BYTES_WRITTEN)));
    out(b, "<th>outside changes seen</th><td>%s changes, %s drops</td></tr>"
        "</table>\n",
        count(c2, sizeof c2, bz_stats_counter(s, BZ_STAT_OUTSIDE)),
        count(c3, sizeof c3, bz_stats_counter(s, BZ_STAT_DROPS)));

    /* Files sorted by name group a table's files together, as in bzstat. */
    size_t nf = bz_stats_nfiles(s);
    const char **names = malloc((nf ? nf : 1) * sizeof *names);
    size_t *idx = malloc((nf ? nf : 1) * sizeof *idx);
    out(b, "<h2>Files</h2><table><tr><th>table</th><th>file</th><th>hits "
        "(lookups)</th><th>misses (lookups)</th><th>hit ratio</th><th>"
        "evictions (pages)</th><th>cached (pages)</th><th>reads (pages)</th>"
        "<th>writes</th><th>size (bytes)</th></tr>\n");
    if (names && idx) {
        for (size_t i = 0; i < nf; i++)
            names[i] = bz_stats_file_name(s, i);
        qsort(names, nf, sizeof *names, cmp_str);
        for (size_t k = 0; k < nf; k++)
            for (size_t i = 0; i < nf; i++)
                if (bz_stats_file_name(s, i) == names[k])
                    idx[k] = i;
        for (size_t k = 0; k < nf; k++) {
            size_t i = idx[k];
            uint64_t fh = bz_stats_file_counter(s, i, BZ_STAT_HITS);
            uint64_t fm = bz_stats_file_counter(s, i, BZ_STAT_MISSES);
            out(b, "<tr><td>%s</td><td>%s</td><td>%U</td><td>%U</td><td>%s"
                "</td><td>%U</td><td>%U</td><td>%U</td><td>%U</td><td>%D"
                "</td></tr>\n", bz_stats_file_table(s, i),
                bz_stats_file_name(s, i), fh, fm,
                ratio(c2, sizeof c2, fh, fm),
                bz_stats_file_counter(s, i, BZ_STAT_EVICTIONS),
                bz_stats_file_frames(s, i),
                bz_stats_file_counter(s, i, BZ_STAT_PAGE_READS),
                bz_stats_file_counter(s, i, BZ_STAT_PAGE_WRITES),
                bz_stats_file_size(s, i));
        }
    }
    out(b, "</table>\n");
    free(names);
    free(idx);

    uint64_t acq = bz_stats_lock(s, BZ_LSTAT_ACQUISITIONS);
    uint64_t cont = bz_stats_lock(s, BZ_LSTAT_CONTENDED);
    out(b, "<h2>Locks</h2><table>\n<tr><th>acquisitions</th><td>%s times</td>",
        count(c2, sizeof c2, acq));
    out(b, "<th>contended</th><td>%s times (%s)</td></tr>\n",
        count(c2, sizeof c2, cont), ratio(c3, sizeof c3, cont, acq - cont));
    out(b, "<tr><th>waited in all</th><td>%s</td>",
        nanos(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_WAIT_NS)));
    out(b, "<th>longest wait</th><td>%s</td></tr>\n",
        nanos(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_WAIT_MAX_NS)));
    out(b, "<tr><th>held in all</th><td>%s</td>",
        nanos(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_HOLD_NS)));
    uint64_t holder = bz_stats_lock(s, BZ_LSTAT_HOLDER_PID);
    if (holder)
        out(b, "<th>held now by</th><td>pid %U</td></tr>\n", holder);
    else
        out(b, "<th>held now by</th><td>nobody</td></tr>\n");
    out(b, "<tr><th>reads retried</th><td>%s reads</td>",
        count(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_READ_RETRIES)));
    out(b, "<th>reads under the lock</th><td>%s reads</td></tr>\n",
        count(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_READS_LOCKED)));
    out(b, "<tr><th>owner-dead recoveries</th><td>%s holders</td><th></th>"
        "<td></td>"
        "</tr></table>\n",
        count(c2, sizeof c2, bz_stats_lock(s, BZ_LSTAT_OWNER_DEAD)));
    if (cont) {
        out(b, "<p>Waits (how many took):");
        size_t nb = bz_stats_wait_buckets(s);
        for (size_t i = 0; i < nb; i++) {
            uint64_t n = bz_stats_wait_hist(s, i);
            if (n)
                out(b, " %R%U &micro;s: %U;", i + 1 == nb ? "&ge;" : "&lt;",
                    (uint64_t)1 << (i + 1 == nb ? i - 1 : i), n);
        }
        out(b, "</p>\n");
    }
    for (size_t i = 0; i < bz_stats_nrecoveries_logged(s); i++) {
        int64_t pid;
        uint64_t at, rec, bytes;
        if (bz_stats_recovery(s, i, &pid, &at, &rec, &bytes) == BZ_OK)
            out(b, "<p>Recovered %s: pid %D died, %U records, %U bytes "
                "undone.</p>\n", when(a, sizeof a, at), pid, rec, bytes);
    }

    size_t np = bz_stats_nprocs(s);
    out(b, "<h2>Processes</h2><table><tr><th>pid</th><th>state</th><th>"
        "attached</th></tr>\n");
    for (size_t i = 0; i < np; i++) {
        int64_t pid = 0;
        int alive = 0;
        uint64_t at = 0;
        if (bz_stats_proc(s, i, &pid, &alive, &at) != BZ_OK)
            continue;
        out(b, "<tr><td>%D%R</td><td>%s</td><td>%s</td></tr>\n", pid,
            pid == app->pid ? " (this worker)" : "", alive ? "alive" : "dead",
            when(a, sizeof a, at));
    }
    out(b, "</table>\n");
    page_end(b, app);
    bz_stats_free(s);
}
