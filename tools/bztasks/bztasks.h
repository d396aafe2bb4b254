/*
 * bztasks.h - the task-manager demo server (README.md, "The demo"), shared
 * declarations of its parts:
 *
 *   main.c   the parent (socket, pre-forked workers, restarts, signals),
 *            a worker's libmicrohttpd glue (bounded bodies, routing);
 *   html.c   the page buffer, the one HTML-escaping formatter, forms'
 *            url-encoded bodies, the page frame and error pages;
 *   pages.c  the read-only pages: dashboard, lists, details, search, stats;
 *   forms.c  create and edit forms of the four tables, validation, seed.
 */
#ifndef BZTASKS_H
#define BZTASKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bazoola.h>

#define BZT_MAX_BODY (64 * 1024) /* bytes of a request body; else 413   */
#define BZT_MAX_URL 2048         /* bytes of a path; else 414           */
#define BZT_MAX_QUERY 200        /* bytes of a search query             */

/* The schema of 0.0.7's demo, exactly. */
extern const char bzt_schema_text[];

/* One worker's state: its own handle (a handle never crosses a fork). */
struct app {
    bz_db *db;
    const char *dir;
    pid_t pid;
};

/* A growing byte buffer; after a failed allocation it stays failed (oom)
 * and the caller answers 500 instead of a truncated page. */
struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

void buf_add(struct buf *b, const char *s, size_t n);
void buf_free(struct buf *b);

/* The one formatter of everything that goes into a page:
 *   %s  a string, HTML-escaped (NULL prints nothing)
 *   %R  a string of trusted markup, as is (literals of this program only)
 *   %d  int     %D  int64_t     %U  uint64_t     %%  a percent sign
 * Every value that came from a request or from the database goes through
 * %s, so nothing a user typed can become markup. */
void out(struct buf *b, const char *fmt, ...);

/* Name/value pairs of a form body, decoded by libmicrohttpd's post
 * processor (url-encoded or multipart). */
struct form_kv {
    char *name, *value;
    size_t len;
    int ended; /* a NUL byte came: the rest is dropped */
};
struct formdata {
    struct form_kv *kv;
    size_t n;
};
/* Add size bytes at offset off of field key's value; 0, or -1 when out of
 * memory. */
int form_append(struct formdata *f, const char *key, const char *data,
                uint64_t off, size_t size);
/* The value of name, or NULL when the form has no such field. */
const char *form_get(const struct formdata *f, const char *name);
void form_free(struct formdata *f);

/* A request, as the pages see it. */
struct req {
    const char *method;           /* "GET", "HEAD" or "POST"             */
    const char *path;             /* decoded, without the query          */
    const struct formdata *form;  /* POST body (empty for GET)           */
    const char *(*arg)(void *ctx, const char *name); /* query argument    */
    void *arg_ctx;
};

/* A response: a status, a page, or a redirect (status 303). */
struct resp {
    int status;
    const char *content_type; /* NULL: an HTML page */
    struct buf body;
    char location[128];
};

/* The page frame; title is escaped. */
void page_begin(struct buf *b, const char *title);
void page_end(struct buf *b, const struct app *app);
/* A whole error page with status (404, 405, 500, ...). */
void error_page(struct resp *r, const struct app *app, int status,
                const char *title, const char *detail);
/* 500 for an engine call that failed: names the call and bz_errmsg(). */
void engine_error(struct resp *r, const struct app *app, const char *what,
                  int rc);
void redirect(struct resp *r, const char *fmt, ...);

/* The value of field name of row r as text ("" for NULL), in tmp if it is
 * a number. */
const char *field_text(const bz_row *r, const char *name, char *tmp,
                       size_t len);
int64_t field_int(const bz_row *r, const char *name); /* 0 for NULL */

/* Pages: each fills r (status 200 unless it says otherwise). */
void page_dashboard(struct app *app, const struct req *q, struct resp *r);
void page_projects(struct app *app, const struct req *q, struct resp *r);
void page_project(struct app *app, int64_t id, struct resp *r);
void page_tasks(struct app *app, const struct req *q, struct resp *r);
void page_task(struct app *app, int64_t id, struct resp *r);
void page_users(struct app *app, const struct req *q, struct resp *r);
void page_search(struct app *app, const struct req *q, struct resp *r);
void page_stats(struct app *app, struct resp *r);
void page_stats_json(struct app *app, struct resp *r);
extern const char bzt_stats_js[];
/* /TABLE/new (id 0) and /TABLE/ID/edit, GET and POST. */
void page_form(struct app *app, const char *table, int64_t id,
               const struct req *q, struct resp *r);

/* Sample data on first start (when the tables are empty), atomically. */
int seed_if_empty(bz_db *db);

#endif /* BZTASKS_H */
