/*
 * forms.c - create and edit forms of users, projects, tasks and comments,
 * and the sample data.
 *
 * One table-driven form serves the four tables: GET shows it (empty, or
 * with the row being edited), POST validates every field and saves only
 * when all are valid; otherwise the form comes back (422) with the user's
 * values and a message per field, and nothing was written.  The engine
 * validates again (a foreign key can vanish between the check and the
 * insert): its refusal is shown on the form too.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bztasks.h"

const char bzt_schema_text[] =
    "users: id PK, username CHAR(20), email CHAR(50), role CHAR(10)\n"
    "projects: id PK, name CHAR(30), description TEXT, owner_id FK(users), "
    "status CHAR(10), created_date CHAR(10), due_date CHAR(10) NULL\n"
    "tasks: id PK, title CHAR(50), description TEXT, project_id FK(projects),"
    " assignee_id FK(users) NULL, status CHAR(15), priority CHAR(6), "
    "created_date CHAR(10), due_date CHAR(10) NULL, estimated_hours INT "
    "NULL\n"
    "comments: id PK, task_id FK(tasks), user_id FK(users), content TEXT, "
    "created_date CHAR(10)\n";

enum kind { K_CHAR, K_TEXT, K_INT, K_FK, K_DATE, K_CHOICE };

/* The values a K_CHOICE field offers, as 0.0.7's demo has them: a select,
 * not free text, so a typo cannot make a status no filter finds. */
static const char *const project_statuses[] = {"planning", "active",
                                               "on_hold", "completed", NULL};
static const char *const task_statuses[] = {"todo", "in_progress", "review",
                                            "done", NULL};
static const char *const priorities[] = {"low", "medium", "high", NULL};

struct field {
    const char *name, *label;
    enum kind kind;
    int size;         /* K_CHAR: the CHAR(n) width in bytes            */
    int required;
    const char *ref;  /* K_FK: the table, and the field naming its rows */
    const char *ref_label;
    const char *const *choices; /* K_CHOICE: NULL-terminated      */
};

#define NFIELDS_MAX 8

struct table_form {
    const char *table, *singular;
    struct field f[NFIELDS_MAX];
    size_t n;
    int created_date; /* set to today on insert */
};

static const struct table_form forms[] = {
    {"users", "user", {
        {"username", "Username", K_CHAR, 20, 1, NULL, NULL, NULL},
        {"email", "Email", K_CHAR, 50, 1, NULL, NULL, NULL},
        {"role", "Role", K_CHAR, 10, 1, NULL, NULL, NULL},
     }, 3, 0},
    {"projects", "project", {
        {"name", "Name", K_CHAR, 30, 1, NULL, NULL, NULL},
        {"description", "Description", K_TEXT, 0, 0, NULL, NULL, NULL},
        {"owner_id", "Owner", K_FK, 0, 1, "users", "username", NULL},
        {"status", "Status", K_CHOICE, 10, 1, NULL, NULL, project_statuses},
        {"due_date", "Due date (YYYY-MM-DD)", K_DATE, 10, 0, NULL, NULL, NULL},
     }, 5, 1},
    {"tasks", "task", {
        {"title", "Title", K_CHAR, 50, 1, NULL, NULL, NULL},
        {"description", "Description", K_TEXT, 0, 0, NULL, NULL, NULL},
        {"project_id", "Project", K_FK, 0, 1, "projects", "name", NULL},
        {"assignee_id", "Assignee", K_FK, 0, 0, "users", "username", NULL},
        {"status", "Status", K_CHOICE, 15, 1, NULL, NULL, task_statuses},
        {"priority", "Priority", K_CHOICE, 6, 1, NULL, NULL, priorities},
        {"due_date", "Due date (YYYY-MM-DD)", K_DATE, 10, 0, NULL, NULL, NULL},
        {"estimated_hours", "Estimated hours", K_INT, 0, 0, NULL, NULL, NULL},
     }, 8, 1},
    {"comments", "comment", {
        {"task_id", "Task", K_FK, 0, 1, "tasks", "title", NULL},
        {"user_id", "Author", K_FK, 0, 1, "users", "username", NULL},
        {"content", "Comment", K_TEXT, 0, 1, NULL, NULL, NULL},
     }, 3, 1},
};

static const struct table_form *form_of(const char *table)
{
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcmp(forms[i].table, table) == 0)
            return &forms[i];
    return NULL;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* A whole decimal integer in [lo, hi]; no sign games, no trailing junk. */
static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

/* YYYY-MM-DD, a real day of the Gregorian calendar. */
static int valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static void today(char out10[11])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out10, 11, "%Y-%m-%d", &tm);
}

/* The submitted values, checked one by one into vals (NULL-valued
 * optional fields become NULL); errs[i] names what is wrong with field i.
 * Returns the number of bad fields, or -1 with *rc on an engine error. */
static int validate(struct app *app, const struct table_form *tf,
                    const char *const *in, const char **errs,
                    char (*ebuf)[96], bz_values *vals, int *rc)
{
    int bad = 0;
    for (size_t i = 0; i < tf->n; i++) {
        const struct field *f = &tf->f[i];
        const char *s = in[i];
        errs[i] = NULL;
        if (blank(s)) {
            if (f->required && f->kind != K_TEXT) {
                errs[i] = "This field is required.";
            } else if (f->required) {
                errs[i] = "Please write something.";
            } else if (f->kind == K_TEXT) {
                bz_values_set_str(vals, f->name, "");
            } else {
                bz_values_set_null(vals, f->name);
            }
            bad += errs[i] != NULL;
            continue;
        }
        int64_t v = 0;
        switch (f->kind) {
        case K_CHAR:
            if ((int)strlen(s) > f->size) {
                snprintf(ebuf[i], sizeof ebuf[i], "Too long: at most %d "
                         "bytes (this is %zu).", f->size, strlen(s));
                errs[i] = ebuf[i];
            }
            else
                bz_values_set_str(vals, f->name, s);
            break;
        case K_TEXT:
            bz_values_set_str(vals, f->name, s);
            break;
        case K_CHOICE: {
            size_t k = 0;
            while (f->choices[k] && strcmp(f->choices[k], s) != 0)
                k++;
            if (!f->choices[k]) {
                size_t n = (size_t)snprintf(ebuf[i], sizeof ebuf[i],
                                            "Not one of:");
                for (k = 0; f->choices[k] && n < sizeof ebuf[i]; k++)
                    n += (size_t)snprintf(ebuf[i] + n, sizeof ebuf[i] - n,
                                          "%s %s", k ? "," : "",
                                          f->choices[k]);
                errs[i] = ebuf[i];
            } else {
                bz_values_set_str(vals, f->name, s);
            }
            break;
        }
        case K_DATE:
            if (!valid_date(s))
                errs[i] = "Not a date: write YYYY-MM-DD, e.g. 2025-06-30.";
            else
                bz_values_set_str(vals, f->name, s);
            break;
        case K_INT:
            if (parse_int(s, 0, 1000000, &v))
                errs[i] = "Not a whole number from 0 to 1000000.";
            else
                bz_values_set_int(vals, f->name, v);
            break;
        case K_FK: {
            bz_row *ref = NULL;
            if (parse_int(s, 1, INT64_MAX, &v)) {
                errs[i] = "Not a valid choice.";
                break;
            }
            int r = bz_find_by_id(app->db, f->ref, v, NULL, &ref);
            if (r) {
                *rc = r;
                return -1;
            }
            if (!ref)
                errs[i] = "No such row: it may have been deleted.";
            else
                bz_values_set_int(vals, f->name, v);
            bz_row_free(ref);
            break;
        }
        }
        bad += errs[i] != NULL;
    }
    return bad;
}

static void render(struct app *app, struct resp *r,
                   const struct table_form *tf, int64_t id,
                   const char *const *in, const char *const *errs,
                   const char *general)
{
    struct buf *b = &r->body;
    char title[64];
    if (id)
        snprintf(title, sizeof title, "Edit %s #%" PRId64, tf->singular, id);
    else
        snprintf(title, sizeof title, "New %s", tf->singular);
    page_begin(b, title);
    if (general)
        out(b, "<p class=\"err\" id=\"form-error\">%s</p>\n", general);
    if (id)
        out(b, "<form method=\"post\" action=\"/%s/%D/edit\" class=\"box\">"
            "\n", tf->table, id);
    else
        out(b, "<form method=\"post\" action=\"/%s/new\" class=\"box\">\n",
            tf->table);
    for (size_t i = 0; i < tf->n; i++) {
        const struct field *f = &tf->f[i];
        out(b, "<label for=\"%s\">%s%R</label>\n", f->name, f->label,
            f->required ? " *" : "");
        if (f->kind == K_TEXT) {
            out(b, "<textarea id=\"%s\" name=\"%s\">%s</textarea>\n",
                f->name, f->name, in[i]);
        } else if (f->kind == K_FK) {
            bz_rows *rs = NULL;
            out(b, "<select id=\"%s\" name=\"%s\">", f->name, f->name);
            if (!f->required || !in[i][0])
                out(b, "<option value=\"\">-</option>");
            int found = 0;
            if (bz_find_all(app->db, f->ref, NULL, &rs) == BZ_OK) {
                for (size_t k = 0; k < bz_rows_len(rs); k++) {
                    const bz_row *o = bz_rows_at(rs, k);
                    char ids[24], tmp[24];
                    snprintf(ids, sizeof ids, "%" PRId64, bz_row_id(o));
                    int sel = strcmp(ids, in[i]) == 0;
                    found |= sel;
                    out(b, "<option value=\"%s\"%R>%s</option>", ids,
                        sel ? " selected" : "",
                        field_text(o, f->ref_label, tmp, sizeof tmp));
                }
            }
            bz_rows_free(rs);
            /* Keep what the user sent even when it is not a choice. */
            if (!found && in[i][0])
                out(b, "<option value=\"%s\" selected>(unknown: %s)</option>",
                    in[i], in[i]);
            out(b, "</select>\n");
        } else if (f->kind == K_CHOICE) {
            out(b, "<select id=\"%s\" name=\"%s\">", f->name, f->name);
            int found = 0;
            if (!in[i][0])
                out(b, "<option value=\"\" selected>-</option>");
            for (size_t k = 0; f->choices[k]; k++) {
                int sel = strcmp(f->choices[k], in[i]) == 0;
                found |= sel;
                out(b, "<option value=\"%s\"%R>%s</option>", f->choices[k],
                    sel ? " selected" : "", f->choices[k]);
            }
            /* Kept, like an unknown foreign key, so the error shows it. */
            if (!found && in[i][0])
                out(b, "<option value=\"%s\" selected>(unknown: %s)</option>",
                    in[i], in[i]);
            out(b, "</select>\n");
        } else {
            out(b, "<input id=\"%s\" name=\"%s\" value=\"%s\"%R>\n",
                f->name, f->name, in[i],
                f->kind == K_DATE ? " placeholder=\"YYYY-MM-DD\"" : "");
        }
        if (errs && errs[i])
            out(b, "<div class=\"err\" id=\"err-%s\" role=\"alert\">%s"
                "</div>\n", f->name, errs[i]);
    }
    out(b, "<p><button type=\"submit\">Save</button></p></form>\n");
    page_end(b, app);
}

/* Where a saved row is shown. */
static void after_save(struct resp *r, const struct table_form *tf,
                       const bz_row *row)
{
    if (strcmp(tf->table, "users") == 0)
        redirect(r, "/users");
    else if (strcmp(tf->table, "comments") == 0)
        redirect(r, "/tasks/%" PRId64, field_int(row, "task_id"));
    else
        redirect(r, "/%s/%" PRId64, tf->table, bz_row_id(row));
}

void page_form(struct app *app, const char *table, int64_t id,
               const struct req *q, struct resp *r)
{
    const struct table_form *tf = form_of(table);
    const char *in[NFIELDS_MAX] = {NULL}, *errs[NFIELDS_MAX] = {NULL};
    char nums[NFIELDS_MAX][24];
    bz_row *row = NULL, *saved = NULL;
    bz_values *vals = NULL;
    int rc = BZ_OK;
    if (!tf) {
        error_page(r, app, 404, "Not found", "There is no such page.");
        return;
    }
    if (id) {
        if ((rc = bz_find_by_id(app->db, table, id, NULL, &row)))
            goto engine;
        if (!row) {
            error_page(r, app, 404, "Not found", "There is no such row.");
            return;
        }
    }
    int post = strcmp(q->method, "POST") == 0;
    for (size_t i = 0; i < tf->n; i++) {
        const char *v = NULL;
        if (post)
            v = form_get(q->form, tf->f[i].name);
        else if (row)
            v = field_text(row, tf->f[i].name, nums[i], sizeof nums[i]);
        else /* prefill from the query: /tasks/new?project_id=3 */
            v = q->arg(q->arg_ctx, tf->f[i].name);
        in[i] = v ? v : "";
    }
    if (!post) {
        render(app, r, tf, id, in, NULL, NULL);
        goto done;
    }

    if (!(vals = bz_values_new())) {
        rc = BZ_ENOMEM;
        goto engine;
    }
    char ebuf[NFIELDS_MAX][96];
    int bad = validate(app, tf, in, errs, ebuf, vals, &rc);
    if (bad < 0)
        goto engine;
    if (bad) {
        r->status = 422;
        render(app, r, tf, id, in, errs, "Nothing was saved: please correct "
               "the fields marked below.");
        goto done;
    }
    if (tf->created_date && !id) {
        char d[11];
        today(d);
        bz_values_set_str(vals, "created_date", d);
    }
    rc = id ? bz_update_by_id(app->db, table, id, vals, &saved)
            : bz_insert(app->db, table, vals, &saved);
    if (rc == BZ_EVALIDATION || rc == BZ_ECONSTRAINT) {
        char msg[512];
        snprintf(msg, sizeof msg, "Nothing was saved: %s", bz_errmsg());
        r->status = 422;
        render(app, r, tf, id, in, NULL, msg);
        goto done;
    }
    if (rc == BZ_ENOTFOUND) { /* deleted by someone else meanwhile */
        error_page(r, app, 404, "Not found", "There is no such row.");
        goto done;
    }
    if (rc)
        goto engine;
    after_save(r, tf, saved);
    goto done;
engine:
    engine_error(r, app, id ? "Saving the changes" : "Saving the new row",
                 rc);
done:
    bz_values_free(vals);
    bz_row_free(row);
    bz_row_free(saved);
}

/* ------------------------------------------------------------------ */
/* Sample data. */

static const char *const users[][3] = {
    {"alice", "alice@example.com", "admin"},
    {"bob", "bob@example.com", "developer"},
    {"carol", "carol@example.com", "designer"},
    {"dave", "dave@example.com", "manager"},
};

static const struct {
    const char *name, *description;
    int owner;
    const char *status, *due;
} projects[] = {
    {"Design system", "Shared components, colours and type for every "
     "product.", 3, "active", "2025-09-30"},
    {"Redesign landing page", "A new landing page that explains the product "
     "in one screen.", 3, "active", "2025-07-15"},
    {"Mobile app", "The iOS and Android app.", 2, "planning", NULL},
    {"Data pipeline", "Nightly imports and the reporting warehouse.", 1,
     "active", NULL},
};

static const struct {
    const char *title, *description;
    int project, assignee;
    const char *status, *priority, *due;
    int hours; /* 0: not estimated */
} tasks[] = {
    {"Design the button component", "States: default, hover, disabled.", 1,
     3, "in_progress", "high", "2025-06-30", 8},
    {"Colour tokens for dark mode", "Derive the palette from the design "
     "tokens.", 1, 3, "todo", "medium", NULL, 5},
    {"Hero section design", "Headline, screenshot and one call to action.",
     2, 3, "todo", "high", "2025-07-01", 6},
    {"Write landing page copy", "Short and concrete.", 2, 4, "todo",
     "medium", NULL, 4},
    {"Login screen", "Email and password; passkeys later.", 3, 2,
     "in_progress", "high", NULL, 12},
    {"Push notifications", "", 3, 0, "todo", "low", NULL, 0},
    {"Import CSV exports nightly", "From the three sources.", 4, 2, "done",
     "medium", "2025-05-01", 10},
    {"Dashboard queries", "The weekly report.", 4, 1, "review", "low", NULL,
     3},
};

static const struct {
    int task, user;
    const char *content;
} comments[] = {
    {1, 1, "Let's follow the spacing scale of the design system."},
    {1, 2, "Disabled state needs more contrast."},
    {3, 4, "Can we have two variants to test?"},
    {5, 3, "Mock-ups are in the shared folder."},
    {7, 1, "Runs in 4 minutes now."},
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static int seed_rows(bz_db *db)
{
    bz_values *v = bz_values_new();
    int64_t uid[LEN(users)], pid[LEN(projects)], tid[LEN(tasks)];
    char d[11];
    bz_row *row = NULL;
    int rc = v ? BZ_OK : BZ_ENOMEM;
    today(d);
    for (size_t i = 0; !rc && i < LEN(users); i++) {
        bz_values_clear(v);
        bz_values_set_str(v, "username", users[i][0]);
        bz_values_set_str(v, "email", users[i][1]);
        bz_values_set_str(v, "role", users[i][2]);
        if (!(rc = bz_insert(db, "users", v, &row)))
            uid[i] = bz_row_id(row);
        bz_row_free(row);
    }
    for (size_t i = 0; !rc && i < LEN(projects); i++) {
        bz_values_clear(v);
        bz_values_set_str(v, "name", projects[i].name);
        bz_values_set_str(v, "description", projects[i].description);
        bz_values_set_int(v, "owner_id", uid[projects[i].owner - 1]);
        bz_values_set_str(v, "status", projects[i].status);
        bz_values_set_str(v, "created_date", d);
        if (projects[i].due)
            bz_values_set_str(v, "due_date", projects[i].due);
        else
            bz_values_set_null(v, "due_date");
        if (!(rc = bz_insert(db, "projects", v, &row)))
            pid[i] = bz_row_id(row);
        bz_row_free(row);
    }
    for (size_t i = 0; !rc && i < LEN(tasks); i++) {
        bz_values_clear(v);
        bz_values_set_str(v, "title", tasks[i].title);
        bz_values_set_str(v, "description", tasks[i].description);
        bz_values_set_int(v, "project_id", pid[tasks[i].project - 1]);
        if (tasks[i].assignee)
            bz_values_set_int(v, "assignee_id", uid[tasks[i].assignee - 1]);
        else
            bz_values_set_null(v, "assignee_id");
        bz_values_set_str(v, "status", tasks[i].status);
        bz_values_set_str(v, "priority", tasks[i].priority);
        bz_values_set_str(v, "created_date", d);
        if (tasks[i].due)
            bz_values_set_str(v, "due_date", tasks[i].due);
        else
            bz_values_set_null(v, "due_date");
        if (tasks[i].hours)
            bz_values_set_int(v, "estimated_hours", tasks[i].hours);
        else
            bz_values_set_null(v, "estimated_hours");
        if (!(rc = bz_insert(db, "tasks", v, &row)))
            tid[i] = bz_row_id(row);
        bz_row_free(row);
    }
    for (size_t i = 0; !rc && i < LEN(comments); i++) {
        bz_values_clear(v);
        bz_values_set_int(v, "task_id", tid[comments[i].task - 1]);
        bz_values_set_int(v, "user_id", uid[comments[i].user - 1]);
        bz_values_set_str(v, "content", comments[i].content);
        bz_values_set_str(v, "created_date", d);
        rc = bz_insert(db, "comments", v, NULL);
    }
    bz_values_free(v);
    return rc;
}

/* Under the lock and in one batch: two servers started at once on one
 * directory seed it once, and a crash mid-seed leaves it empty. */
int seed_if_empty(bz_db *db)
{
    int64_t n = 0;
    int rc = bz_lock(db);
    if (rc)
        return rc;
    if (!(rc = bz_count(db, "users", NULL, &n)) && n == 0 &&
        !(rc = bz_count(db, "projects", NULL, &n)) && n == 0 &&
        !(rc = bz_begin(db))) {
        rc = seed_rows(db);
        int rc2 = rc ? bz_rollback(db) : bz_commit(db);
        if (!rc)
            rc = rc2;
    }
    bz_unlock(db);
    return rc;
}
