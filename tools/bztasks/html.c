/*
 * html.c - the page buffer, the one escaping formatter, url-encoded forms,
 * the page frame and error pages of bztasks.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bztasks.h"

void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Escapes the five characters that matter in text and in quoted
 * attributes alike, so one function serves both. */
static void add_escaped(struct buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        buf_add(b, run, (size_t)(s - run));
        buf_add(b, rep, strlen(rep));
        run = s + 1;
    }
    buf_add(b, run, (size_t)(s - run));
}

void out(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char num[32];
    const char *run = fmt;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%')
            continue;
        buf_add(b, run, (size_t)(f - run));
        f++;
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s)
                add_escaped(b, s);
            break;
        }
        case 'R': {
            const char *s = va_arg(ap, const char *);
            if (s)
                buf_add(b, s, strlen(s));
            break;
        }
        case 'd':
            snprintf(num, sizeof num, "%d", va_arg(ap, int));
            buf_add(b, num, strlen(num));
            break;
        case 'D':
            snprintf(num, sizeof num, "%" PRId64, va_arg(ap, int64_t));
            buf_add(b, num, strlen(num));
            break;
        case 'U':
            snprintf(num, sizeof num, "%" PRIu64, va_arg(ap, uint64_t));
            buf_add(b, num, strlen(num));
            break;
        case '%':
            buf_add(b, "%", 1);
            break;
        default: /* a bug in a literal: show it rather than guess */
            buf_add(b, "%?", 2);
            if (!*f)
                f--;
            break;
        }
        run = f + 1;
    }
    buf_add(b, run, strlen(run));
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Form fields, as libmicrohttpd's post processor decodes them (main.c). */

int form_append(struct formdata *f, const char *key, const char *data,
                uint64_t off, size_t size)
{
    /* A field's value may come in pieces; off 0 starts a new field, so a
     * repeated name keeps its first value for form_get, as before. */
    struct form_kv *kv = f->n ? &f->kv[f->n - 1] : NULL;
    if (off == 0 || !kv || strcmp(kv->name, key) != 0) {
        struct form_kv *grown = realloc(f->kv, (f->n + 1) * sizeof *grown);
        if (!grown)
            return -1;
        f->kv = grown;
        kv = &f->kv[f->n];
        kv->name = strdup(key);
        kv->value = strdup("");
        kv->len = 0;
        kv->ended = 0;
        f->n++;
        if (!kv->name || !kv->value)
            return -1;
    }
    /* A NUL byte (%00) ends the value: every consumer, the engine
     * included, takes C strings. */
    const char *nul = data ? memchr(data, '\0', size) : NULL;
    if (kv->ended || !data)
        return 0;
    if (nul) {
        size = (size_t)(nul - data);
        kv->ended = 1;
    }
    char *v = realloc(kv->value, kv->len + size + 1);
    if (!v)
        return -1;
    memcpy(v + kv->len, data, size);
    kv->len += size;
    v[kv->len] = '\0';
    kv->value = v;
    return 0;
}

const char *form_get(const struct formdata *f, const char *name)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (strcmp(f->kv[i].name, name) == 0)
            return f->kv[i].value;
    return NULL;
}

void form_free(struct formdata *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->kv[i].name);
        free(f->kv[i].value);
    }
    free(f->kv);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------------ */
/* The frame. */

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;"
    "background:#f6f7f9}"
    "header{background:#2d3e50;padding:.6em 1.5em}"
    "header a{color:#fff;margin-right:1.2em;text-decoration:none}"
    "header form{display:inline;float:right}"
    "main{max-width:1100px;margin:1em auto;padding:0 1.5em}"
    "table{border-collapse:collapse;width:100%;background:#fff;"
    "margin-bottom:1.2em}"
    "th,td{border:1px solid #dde;padding:.3em .6em;text-align:left;"
    "vertical-align:top}"
    "th{background:#eef1f5}"
    ".err{color:#a00}.muted{color:#667}"
    ".charts{display:flex;flex-wrap:wrap;gap:.8em;margin-bottom:1em}"
    ".charts canvas{background:#fff;border:1px solid #dde}"
    ".badge{display:inline-block;padding:0 .5em;border-radius:.7em;"
    "font-size:13px;background:#e4e7eb;color:#333}"
    ".s-todo{background:#e4e7eb}.s-in_progress{background:#d6e4ff}"
    ".s-review{background:#fff1c2}.s-done,.s-completed{background:#d3f2dc}"
    ".s-active{background:#d6e4ff}.s-planning{background:#efe3ff}"
    ".s-on_hold{background:#ffe0cc}.p-high{background:#ffd6d6}"
    ".p-medium{background:#fff1c2}.p-low{background:#e4e7eb}"
    ".box{background:#fff;border:1px solid #dde;padding:.8em 1.2em;"
    "margin-bottom:1.2em}"
    "label{display:block;margin-top:.6em;font-weight:600}"
    "input,textarea,select{font:inherit;width:28em;max-width:100%}"
    "textarea{height:6em}"
    "pre{background:#fff;border:1px solid #dde;padding:.8em;"
    "overflow:auto}"
    "footer{max-width:1100px;margin:2em auto;padding:0 1.5em;"
    "color:#667;font-size:13px}";

void page_begin(struct buf *b, const char *title)
{
    out(b,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>%s - bztasks</title><style>%R</style></head><body>\n"
        "<header><a href=\"/\"><b>bztasks</b></a><a href=\"/projects\">"
        "Projects</a><a href=\"/tasks\">Tasks</a><a href=\"/users\">Users"
        "</a><a href=\"/stats\">Stats</a><form action=\"/search\" "
        "method=\"get\"><input name=\"q\" placeholder=\"Search\" "
        "style=\"width:14em\"></form></header>\n<main><h1>%s</h1>\n",
        title, style, title);
}

void page_end(struct buf *b, const struct app *app)
{
    out(b,
        "</main>\n<footer>Served by worker pid %d of bztasks, on "
        "libbazoola %s (lock mode shared).</footer>\n</body></html>\n",
        (int)app->pid, bz_version());
}

void error_page(struct resp *r, const struct app *app, int status,
                const char *title, const char *detail)
{
    buf_free(&r->body);
    r->status = status;
    page_begin(&r->body, title);
    out(&r->body, "<p class=\"err\">%s</p><p><a href=\"/\">Back to the "
        "dashboard</a></p>\n", detail);
    page_end(&r->body, app);
}

void engine_error(struct resp *r, const struct app *app, const char *what,
                  int rc)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s failed: %s (%s)", what,
             bz_errmsg(), bz_strerror(rc));
    error_page(r, app, 500, "Database error", detail);
}

void redirect(struct resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->location, sizeof r->location, fmt, ap);
    va_end(ap);
    r->status = 303;
}

const char *field_text(const bz_row *r, const char *name, char *tmp,
                       size_t len)
{
    int i = r ? bz_row_find(r, name) : -1;
    if (i < 0)
        return "";
    switch (bz_row_type(r, (size_t)i)) {
    case BZ_T_INT:
        snprintf(tmp, len, "%" PRId64, bz_row_int(r, (size_t)i));
        return tmp;
    case BZ_T_STR:
        return bz_row_str(r, (size_t)i, NULL);
    default:
        return "";
    }
}

int64_t field_int(const bz_row *r, const char *name)
{
    int64_t v = 0;
    return r && bz_row_get_int(r, name, &v) == BZ_OK ? v : 0;
}
