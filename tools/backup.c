/*
 * backup.c - the whole-directory backup: `bazoola dump DIR` (format
 * backup) and `bazoola load NEWDIR`.
 *
 * A backup must give back the same files, byte for byte: not only the rows
 * but where each one sits (an insert reuses the slot on top of the free
 * stack), the free stack's order, seqnum as written (0.0.7's truncate can
 * leave "0" over a first digit), the length of the index, and the layout of
 * the TEXT file with the dead records updates and deletes leave behind.
 * The public API hides all of that on purpose, so this command reads and
 * writes the files of the 0.0.7 format (docs/file-format.md) itself; the
 * engine still opens the directory (recovering a dead writer's undo log),
 * holds the writer lock while the files are read, and checks what load
 * built before it is given its name.
 *
 * Each line is one JSON object (docs/man/bazoola.5):
 *   {"bazoola_backup":1,"version":V,"schema":TEXT}        first, once
 *   {"table":T,"rows":N,"seqnum":S,"free":[...],"index_slots":N,
 *    "text_size":N}                                       per table
 *   {"table":T,"row":R,"values":{...},"text_at":{...}}    a live row
 *   {"table":T,"row":R,"deleted":true}                    a deleted row
 *   {"table":T,"text_at":OFF,"erased":N}                  N bytes of '#'
 *   {"table":T,"text_at":OFF,"bytes":S}                   other unreferenced
 *                                                         TEXT file bytes
 * Where the bytes are not what the values re-encode to (an outside editor
 * wrote "007"), "raw", "free_raw" or "index_raw" carry them exactly.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bazoola.h>
#include <jansson.h>

#include "common/cli.h"
#include "shell.h"

#define W 9 /* the width of ids, references, TEXT offsets and record heads */

/* ------------------------------------------------------------------ */
/* A table's layout, from the schema. */

struct field {
    const char *name;
    bz_kind kind;
    int width, off;
};

struct layout {
    const char *name;
    struct field *f;
    size_t nf;
    int row_size, id_field; /* row_size counts the newline */
    bool has_text;
};

static void layout_free(struct layout *l)
{
    free(l->f);
    memset(l, 0, sizeof *l);
}

static int layout_of(const bz_schema *s, size_t t, struct layout *l)
{
    memset(l, 0, sizeof *l);
    l->name = bz_schema_table_name(s, t);
    l->nf = bz_schema_nfields(s, t);
    l->f = calloc(l->nf ? l->nf : 1, sizeof *l->f);
    if (!l->f)
        return -1;
    int off = 0;
    l->id_field = -1;
    for (size_t i = 0; i < l->nf; i++) {
        bz_field_def d;
        bz_schema_field(s, t, i, &d);
        struct field *f = &l->f[i];
        f->name = d.name;
        f->kind = d.kind;
        f->width = d.kind == BZ_CHAR ? d.size
                   : d.kind == BZ_INT && d.size > 0 ? d.size : W;
        f->off = off;
        off += f->width;
        if (d.kind == BZ_PK)
            l->id_field = (int)i;
        if (d.kind == BZ_TEXT)
            l->has_text = true;
    }
    l->row_size = off + 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Numbers as the format writes them: decimal, left-justified, spaces. */

static void enc_num(char *dst, int width, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    memset(dst, ' ', (size_t)width);
    memcpy(dst, tmp, (size_t)(n < width ? n : width));
}

/* Decimal digits (a '-' first when neg_ok) then spaces only; 0 or -1. */
static int dec_num(const char *s, int width, bool neg_ok, long long *v)
{
    int i = 0;
    bool neg = neg_ok && width > 0 && s[0] == '-';
    long long x = 0;
    if (neg)
        i++;
    int digits = i;
    for (; i < width && s[i] >= '0' && s[i] <= '9'; i++) {
        if (x > (INT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    if (i == digits)
        return -1;
    for (; i < width; i++)
        if (s[i] != ' ')
            return -1;
    *v = neg ? -x : x;
    return 0;
}

static bool all_of(const char *s, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != c)
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* Files. */

struct blob {
    char *p;
    size_t n;
    bool missing;
};

static int read_blob(const char *dir, const char *name, struct blob *b)
{
    memset(b, 0, sizeof *b);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            b->missing = true;
            b->p = calloc(1, 1); /* never NULL, even for no bytes */
            return b->p ? 0 : -1;
        }
        cli_error("bazoola dump", path, "%s", strerror(errno));
        return -1;
    }
    size_t cap = 4096;
    b->p = malloc(cap);
    for (size_t got; b->p && (got = fread(b->p + b->n, 1, cap - b->n, f)) > 0;) {
        b->n += got;
        if (b->n == cap) {
            char *g = realloc(b->p, cap *= 2);
            if (!g) {
                free(b->p);
                b->p = NULL;
            }
            b->p = g;
        }
    }
    int bad = !b->p || ferror(f);
    fclose(f);
    if (bad) {
        cli_error("bazoola dump", path, "%s", b->p ? "read error" : "out of memory");
        free(b->p);
        b->p = NULL;
        return -1;
    }
    return 0;
}

static char *file_name(const char *table, const char *suffix)
{
    size_t n = strlen(table) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", table, suffix);
    return s;
}

static const char *const suffixes[] = {
    ".dat", "__seqnum.dat", "__id.idx.dat", "__free.dat", ".text.dat",
};
enum { F_DAT, F_SEQ, F_IDX, F_FREE, F_TEXT, F__N };

/* ------------------------------------------------------------------ */
/* Dump. */

/* Append a JSON line to out; steals j. */
static int emit(FILE *out, json_t *j)
{
    if (!j)
        return -1;
    int rc = json_dumpf(j, out, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(j);
    if (rc == 0 && fputc('\n', out) == EOF)
        rc = -1;
    return rc;
}

/* The record of a TEXT reference: its value (borrowed bytes), or -1. */
static int text_record(const struct blob *txt, long long off, const char **s,
                       size_t *len)
{
    long long n;
    if (off < 0 || (size_t)off + W > txt->n ||
        dec_num(txt->p + off, W, false, &n) != 0 ||
        (size_t)n > txt->n - (size_t)off - W)
        return -1;
    *s = txt->p + off + W;
    *len = (size_t)n;
    return 0;
}

struct span {
    size_t off, len;
};

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* One live row as a JSON line, or NULL (after a message) when its bytes
 * do not decode.  Adds its TEXT records to spans. */
static json_t *row_json(const struct layout *l, const char *row, long r,
                        const struct blob *txt, struct span *spans,
                        size_t *nspans, long long *id)
{
    json_t *vals = json_object(), *at = json_object();
    char *canon = malloc((size_t)l->row_size);
    bool ok = vals && at && canon;
    for (size_t i = 0; ok && i < l->nf; i++) {
        const struct field *f = &l->f[i];
        const char *p = row + f->off;
        json_t *v = NULL;
        long long n;
        if (f->kind == BZ_CHAR) {
            if (all_of(p, (size_t)f->width, '\0')) {
                v = json_null();
                memset(canon + f->off, 0, (size_t)f->width);
            } else {
                /* What the engine reads: trailing ASCII whitespace dropped. */
                size_t len = (size_t)f->width;
                while (len && strchr(" \t\n\r\v\f", p[len - 1]) && p[len - 1])
                    len--;
                v = json_stringn(p, len);
                memset(canon + f->off, ' ', (size_t)f->width);
                memcpy(canon + f->off, p, len);
            }
        } else if (all_of(p, (size_t)f->width, '#')) {
            v = json_null();
            memset(canon + f->off, '#', (size_t)f->width);
        } else if (dec_num(p, f->width, f->kind != BZ_TEXT, &n) == 0) {
            enc_num(canon + f->off, f->width, n);
            if (f->kind == BZ_TEXT) {
                const char *s;
                size_t len;
                if (text_record(txt, n, &s, &len) == 0) {
                    v = json_stringn(s, len);
                    json_object_set_new(at, f->name, json_integer(n));
                    spans[(*nspans)++] = (struct span){(size_t)n, W + len};
                }
            } else {
                v = json_integer(n);
                if ((int)i == l->id_field)
                    *id = n;
            }
        }
        if (!v) {
            cli_error("bazoola dump", l->name, "row %ld, field '%s': not a "
                      "valid value (run 'bazoola check')", r, f->name);
            ok = false;
            break;
        }
        json_object_set_new(vals, f->name, v);
    }
    json_t *line = NULL;
    if (ok) {
        canon[l->row_size - 1] = '\n';
        line = json_pack("{s:s, s:I, s:O}", "table", l->name, "row",
                         (json_int_t)r, "values", vals);
        if (line && json_object_size(at))
            json_object_set(line, "text_at", at);
        if (line && memcmp(canon, row, (size_t)l->row_size) != 0 &&
            json_object_set_new(line, "raw",
                                json_stringn(row, (size_t)l->row_size))) {
            cli_error("bazoola dump", l->name, "row %ld: its bytes are not "
                      "UTF-8 (run 'bazoola check')", r);
            json_decref(line);
            line = NULL;
        }
    }
    json_decref(vals);
    json_decref(at);
    free(canon);
    return line;
}

static int dump_one(const char *dir, const struct layout *l, FILE *out)
{
    struct blob b[F__N];
    int rc = -1;
    memset(b, 0, sizeof b);
    for (int k = 0; k < F__N; k++) {
        if (k == F_TEXT && !l->has_text) {
            b[k].missing = true;
            continue;
        }
        char *name = file_name(l->name, suffixes[k]);
        if (!name || read_blob(dir, name, &b[k])) {
            free(name);
            goto out;
        }
        free(name);
    }
    if (b[F_DAT].n % (size_t)l->row_size || b[F_IDX].n % W ||
        b[F_FREE].n % W) {
        cli_error("bazoola dump", l->name, "a file's size does not fit the "
                  "format (run 'bazoola check')");
        goto out;
    }
    size_t nrows = b[F_DAT].n / (size_t)l->row_size;
    size_t nslots = b[F_IDX].n / W;
    json_t *head = json_object();
    json_object_set_new(head, "table", json_string(l->name));
    json_object_set_new(head, "rows", json_integer((json_int_t)nrows));
    json_t *missing = json_array();
    for (int k = 0; k < F__N; k++)
        if (b[k].missing && (k != F_TEXT || l->has_text))
            json_array_append_new(missing, json_string(suffixes[k]));
    if (json_array_size(missing))
        json_object_set_new(head, "missing", missing);
    else
        json_decref(missing);
    if (!b[F_SEQ].missing)
        json_object_set_new(head, "seqnum",
                            json_stringn(b[F_SEQ].p, b[F_SEQ].n));
    /* The free stack, bottom first; exact bytes when not canonical. */
    json_t *free_ids = json_array();
    bool free_canon = true;
    for (size_t i = 0; i < b[F_FREE].n / W; i++) {
        long long v;
        char c[W];
        if (dec_num(b[F_FREE].p + i * W, W, false, &v) != 0) {
            free_canon = false;
            break;
        }
        enc_num(c, W, v);
        free_canon = free_canon && memcmp(c, b[F_FREE].p + i * W, W) == 0;
        json_array_append_new(free_ids, json_integer(v));
    }
    if (free_canon) {
        json_object_set_new(head, "free", free_ids);
    } else {
        json_decref(free_ids);
        json_object_set_new(head, "free_raw",
                            json_stringn(b[F_FREE].p, b[F_FREE].n));
    }
    if (l->has_text && !b[F_TEXT].missing)
        json_object_set_new(head, "text_size",
                            json_integer((json_int_t)b[F_TEXT].n));

    /* Rows; the index they imply is compared with the file's. */
    char *index = malloc(nslots * W + 1);
    struct span *spans = malloc((nrows * l->nf + 1) * sizeof *spans);
    size_t nspans = 0;
    json_t **lines = calloc(nrows + 1, sizeof *lines);
    bool ok = index && spans && lines;
    if (ok)
        memset(index, '#', nslots * W);
    for (size_t r = 0; ok && r < nrows; r++) {
        const char *row = b[F_DAT].p + r * (size_t)l->row_size;
        if (row[0] == '*' && all_of(row, (size_t)l->row_size - 1, '*') &&
            row[l->row_size - 1] == '\n') {
            lines[r] = json_pack("{s:s, s:I, s:b}", "table", l->name, "row",
                                 (json_int_t)r, "deleted", 1);
            continue;
        }
        long long id = -1;
        lines[r] = row_json(l, row, (long)r, &b[F_TEXT], spans, &nspans, &id);
        if (!lines[r]) {
            ok = false;
            break;
        }
        if (id >= 1 && (size_t)id <= nslots)
            enc_num(index + (id - 1) * W, W, (long long)r);
    }
    if (ok) {
        if (memcmp(index, b[F_IDX].p, nslots * W) == 0)
            json_object_set_new(head, "index_slots",
                                json_integer((json_int_t)nslots));
        else
            json_object_set_new(head, "index_raw",
                                json_stringn(b[F_IDX].p, b[F_IDX].n));
        ok = emit(out, head) == 0;
        head = NULL;
    }
    for (size_t r = 0; r < nrows; r++) {
        if (ok && emit(out, lines[r]) != 0)
            ok = false;
        else if (!ok)
            json_decref(lines[r]);
    }
    /* What no row refers to, in file order: erased runs and the rest. */
    if (ok && l->has_text && !b[F_TEXT].missing) {
        if (nspans)
            qsort(spans, nspans, sizeof *spans, cmp_span);
        size_t at = 0;
        for (size_t i = 0; ok && i <= nspans; i++) {
            size_t end = i < nspans ? spans[i].off : b[F_TEXT].n;
            if (end < at) {
                cli_error("bazoola dump", l->name, "two TEXT values share "
                          "bytes at offset %zu (run 'bazoola check')", end);
                ok = false;
                break;
            }
            while (at < end) {
                size_t n = 0;
                bool hashes = b[F_TEXT].p[at] == '#';
                while (at + n < end && (b[F_TEXT].p[at + n] == '#') == hashes)
                    n++;
                json_t *j = hashes
                    ? json_pack("{s:s, s:I, s:I}", "table", l->name, "text_at",
                                (json_int_t)at, "erased", (json_int_t)n)
                    : json_pack("{s:s, s:I, s:s%}", "table", l->name,
                                "text_at", (json_int_t)at, "bytes",
                                b[F_TEXT].p + at, n);
                if (!j)
                    cli_error("bazoola dump", l->name, "TEXT file bytes at "
                              "offset %zu are not UTF-8", at);
                if (emit(out, j) != 0)
                    ok = false;
                at += n;
            }
            if (i < nspans)
                at = spans[i].off + spans[i].len;
        }
    }
    json_decref(head);
    free(index);
    free(spans);
    free(lines);
    rc = ok ? 0 : -1;
out:
    for (int k = 0; k < F__N; k++)
        free(b[k].p);
    return rc;
}

int backup_dump(const char *dir)
{
    bz_db *db;
    if (shell_open("dump", dir, &db) != BZ_OK)
        return BZ_EXIT_FAIL;
    const bz_schema *s = bz_db_schema(db);
    char *mem = NULL;
    size_t memlen = 0;
    /* Into memory under the lock, out after it: a slow reader of our
     * output must not hold the writers up. */
    FILE *out = open_memstream(&mem, &memlen);
    int status = BZ_EXIT_FAIL;
    if (!out) {
        cli_error("bazoola dump", NULL, "out of memory");
        bz_close(db);
        return BZ_EXIT_FAIL;
    }
    if (bz_lock(db) != BZ_OK) {
        cli_error_msg("bazoola dump", dir, bz_errmsg());
        goto out;
    }
    struct blob schema;
    bool ok = read_blob(dir, ".schema", &schema) == 0 && !schema.missing;
    if (ok)
        ok = emit(out, json_pack("{s:i, s:s, s:s%}", "bazoola_backup", 1,
                                 "version", bz_version(), "schema", schema.p,
                                 schema.n)) == 0;
    free(schema.p);
    for (size_t t = 0; ok && t < bz_schema_ntables(s); t++) {
        struct layout l;
        ok = layout_of(s, t, &l) == 0 && dump_one(dir, &l, out) == 0;
        layout_free(&l);
    }
    bz_unlock(db);
    if (fflush(out) != 0)
        ok = false;
    if (ok) {
        fwrite(mem, 1, memlen, stdout);
        if (fflush(stdout) != 0 || ferror(stdout))
            cli_error("bazoola dump", "standard output", "%s", strerror(errno));
        else
            status = BZ_EXIT_OK;
    }
out:
    fclose(out);
    free(mem);
    bz_close(db);
    return status;
}

/* ------------------------------------------------------------------ */
/* Load. */

struct tload {
    struct layout l;
    bool seen;
    size_t nrows, text_size;
    char *dat;             /* nrows rows; unset rows stay NUL */
    bool *row_set;
    char *text;            /* text_size bytes */
    struct span *spans;    /* what fills text */
    size_t nspans, cap;
    json_t *head;
};

struct loader {
    const char *prog;
    bz_schema *schema;
    struct tload *t;
    size_t nt;
    unsigned long lineno;
    char *tmp;             /* the directory being built */
};

static int lerr(struct loader *L, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int lerr(struct loader *L, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char what[64];
    snprintf(what, sizeof what, "line %lu", L->lineno);
    cli_error(L->prog, what, "%s", why);
    return -1;
}

static struct tload *find_t(struct loader *L, const char *name)
{
    for (size_t i = 0; i < L->nt; i++)
        if (strcmp(L->t[i].l.name, name) == 0)
            return &L->t[i];
    return NULL;
}

static int add_span(struct loader *L, struct tload *t, size_t off, size_t len)
{
    if (off > t->text_size || len > t->text_size - off)
        return lerr(L, "table %s: TEXT bytes at %zu..%zu run past text_size "
                    "%zu", t->l.name, off, off + len, t->text_size);
    if (t->nspans == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct span *g = realloc(t->spans, cap * sizeof *g);
        if (!g)
            return lerr(L, "out of memory");
        t->spans = g;
        t->cap = cap;
    }
    t->spans[t->nspans++] = (struct span){off, len};
    return 0;
}

static int get_size(struct loader *L, json_t *o, const char *key, size_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return lerr(L, "\"%s\" must be a count", key);
    *v = (size_t)json_integer_value(j);
    return 0;
}

static int on_head(struct loader *L, struct tload *t, json_t *o)
{
    if (t->seen)
        return lerr(L, "table %s appears twice", t->l.name);
    t->seen = true;
    if (get_size(L, o, "rows", &t->nrows))
        return -1;
    if (t->l.has_text && json_object_get(o, "text_size") &&
        get_size(L, o, "text_size", &t->text_size))
        return -1;
    if (t->nrows > SIZE_MAX / (size_t)t->l.row_size / 2)
        return lerr(L, "table %s: too many rows", t->l.name);
    t->dat = calloc(t->nrows ? t->nrows : 1, (size_t)t->l.row_size);
    t->row_set = calloc(t->nrows ? t->nrows : 1, 1);
    t->text = malloc(t->text_size ? t->text_size : 1);
    if (!t->dat || !t->row_set || !t->text)
        return lerr(L, "out of memory");
    t->head = json_incref(o);
    return 0;
}

static int on_row(struct loader *L, struct tload *t, size_t r, json_t *o)
{
    if (r >= t->nrows)
        return lerr(L, "table %s: row %zu past its %zu rows", t->l.name, r,
                    t->nrows);
    if (t->row_set[r])
        return lerr(L, "table %s: row %zu given twice", t->l.name, r);
    t->row_set[r] = true;
    const struct layout *l = &t->l;
    char *row = t->dat + r * (size_t)l->row_size;
    if (json_is_true(json_object_get(o, "deleted"))) {
        memset(row, '*', (size_t)l->row_size - 1);
        row[l->row_size - 1] = '\n';
        return 0;
    }
    json_t *vals = json_object_get(o, "values");
    json_t *at = json_object_get(o, "text_at");
    if (!json_is_object(vals))
        return lerr(L, "table %s: row %zu has neither \"values\" nor "
                    "\"deleted\"", l->name, r);
    for (size_t i = 0; i < l->nf; i++) {
        const struct field *f = &l->f[i];
        char *p = row + f->off;
        json_t *v = json_object_get(vals, f->name);
        if (!v)
            return lerr(L, "table %s: row %zu has no field '%s'", l->name, r,
                        f->name);
        if (json_is_null(v)) {
            memset(p, f->kind == BZ_CHAR ? '\0' : '#', (size_t)f->width);
        } else if (f->kind == BZ_CHAR) {
            size_t n = json_string_length(v);
            if (!json_is_string(v) || n > (size_t)f->width)
                return lerr(L, "table %s: row %zu: '%s' must be a string of "
                            "at most %d bytes", l->name, r, f->name, f->width);
            memset(p, ' ', (size_t)f->width);
            memcpy(p, json_string_value(v), n);
        } else if (f->kind == BZ_TEXT) {
            json_t *off = json_object_get(at, f->name);
            if (!json_is_string(v) || !json_is_integer(off) ||
                json_integer_value(off) < 0)
                return lerr(L, "table %s: row %zu: TEXT '%s' needs a string "
                            "and its offset in \"text_at\"", l->name, r,
                            f->name);
            size_t o2 = (size_t)json_integer_value(off);
            size_t n = json_string_length(v);
            if (add_span(L, t, o2, W + n))
                return -1;
            enc_num(t->text + o2, W, (long long)n);
            memcpy(t->text + o2 + W, json_string_value(v), n);
            enc_num(p, W, (long long)o2);
        } else {
            char tmp[32];
            if (!json_is_integer(v) ||
                snprintf(tmp, sizeof tmp, "%lld",
                         (long long)json_integer_value(v)) > f->width)
                return lerr(L, "table %s: row %zu: '%s' must be an integer of "
                            "at most %d characters", l->name, r, f->name,
                            f->width);
            enc_num(p, f->width, (long long)json_integer_value(v));
        }
    }
    row[l->row_size - 1] = '\n';
    json_t *raw = json_object_get(o, "raw");
    if (raw) {
        if (!json_is_string(raw) ||
            json_string_length(raw) != (size_t)l->row_size)
            return lerr(L, "table %s: row %zu: \"raw\" must be the row's %d "
                        "bytes", l->name, r, l->row_size);
        memcpy(row, json_string_value(raw), (size_t)l->row_size);
    }
    return 0;
}

static int on_text(struct loader *L, struct tload *t, size_t off, json_t *o)
{
    json_t *erased = json_object_get(o, "erased");
    json_t *bytes = json_object_get(o, "bytes");
    if (json_is_integer(erased) && json_integer_value(erased) >= 0) {
        size_t n = (size_t)json_integer_value(erased);
        if (add_span(L, t, off, n))
            return -1;
        memset(t->text + off, '#', n);
    } else if (json_is_string(bytes)) {
        size_t n = json_string_length(bytes);
        if (add_span(L, t, off, n))
            return -1;
        memcpy(t->text + off, json_string_value(bytes), n);
    } else {
        return lerr(L, "table %s: TEXT bytes at %zu need \"erased\" or "
                    "\"bytes\"", t->l.name, off);
    }
    return 0;
}

static int on_line(struct loader *L, json_t *o)
{
    if (!json_is_object(o))
        return lerr(L, "not a JSON object");
    if (L->lineno == 1) {
        json_t *v = json_object_get(o, "bazoola_backup");
        json_t *schema = json_object_get(o, "schema");
        if (!json_is_integer(v) || !json_is_string(schema))
            return lerr(L, "not a backup of 'bazoola dump' (the first line "
                        "names its format and schema)");
        if (json_integer_value(v) != 1)
            return lerr(L, "backup format %lld is not known to this version",
                        (long long)json_integer_value(v));
        if (bz_schema_parse(json_string_value(schema),
                            json_string_length(schema), &L->schema) != BZ_OK)
            return lerr(L, "schema: %s", bz_errmsg());
        L->nt = bz_schema_ntables(L->schema);
        L->t = calloc(L->nt ? L->nt : 1, sizeof *L->t);
        if (!L->t)
            return lerr(L, "out of memory");
        for (size_t i = 0; i < L->nt; i++)
            if (layout_of(L->schema, i, &L->t[i].l))
                return lerr(L, "out of memory");
        char path[4096];
        snprintf(path, sizeof path, "%s/.schema", L->tmp);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(json_string_value(schema), 1,
                         json_string_length(schema), f) !=
                      json_string_length(schema)) {
            if (f)
                fclose(f);
            return lerr(L, "%s: %s", path, strerror(errno));
        }
        if (fclose(f) != 0)
            return lerr(L, "%s: %s", path, strerror(errno));
        return 0;
    }
    const char *name = json_string_value(json_object_get(o, "table"));
    struct tload *t = name ? find_t(L, name) : NULL;
    if (!t)
        return lerr(L, name ? "table '%s' is not in the schema"
                            : "a line without \"table\"%s", name ? name : "");
    json_t *row = json_object_get(o, "row");
    json_t *text_at = json_object_get(o, "text_at");
    if (!t->seen && (row || json_is_integer(text_at)))
        return lerr(L, "table %s: a row before the table's line", name);
    if (json_is_integer(row) && json_integer_value(row) >= 0)
        return on_row(L, t, (size_t)json_integer_value(row), o);
    if (json_is_integer(text_at) && json_integer_value(text_at) >= 0)
        return on_text(L, t, (size_t)json_integer_value(text_at), o);
    return on_head(L, t, o);
}

static int write_file_at(struct loader *L, const char *name, const char *p,
                         size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", L->tmp, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        cli_error(L->prog, path, "%s", strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int e = errno;
    /* Durable before the rename that publishes the directory. */
    if (done != n || fsync(fd) != 0) {
        cli_error(L->prog, path, "%s", strerror(done != n ? e : errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static bool in_list(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* "bazoola load: TABLE: why"; returns -1. */
static int terr(struct loader *L, const char *table, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int terr(struct loader *L, const char *table, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cli_error(L->prog, table, "%s", why);
    return -1;
}

/* Every table complete: write its files. */
static int finish_table(struct loader *L, struct tload *t)
{
    const struct layout *l = &t->l;
    if (!t->seen)
        return terr(L, l->name, "the backup has no line for this "
                         "table (truncated?)");
    for (size_t r = 0; r < t->nrows; r++)
        if (!t->row_set[r])
            return terr(L, l->name, "row %zu is missing from the "
                             "backup (truncated?)", r);
    /* The TEXT file is tiled exactly by rows' records and the rest. */
    if (t->nspans) /* spans is NULL for a table without TEXT records */
        qsort(t->spans, t->nspans, sizeof *t->spans, cmp_span);
    size_t at = 0;
    for (size_t i = 0; i < t->nspans; i++) {
        if (t->spans[i].off != at)
            return terr(L, l->name, "TEXT bytes at offset %zu are "
                             "%s", at, t->spans[i].off < at ? "given twice"
                                                            : "missing");
        at += t->spans[i].len;
    }
    if (at != t->text_size)
        return terr(L, l->name, "TEXT bytes from offset %zu are "
                         "missing", at);
    json_t *missing = json_object_get(t->head, "missing");
    /* The index the rows imply, unless the backup carries its bytes. */
    json_t *iraw = json_object_get(t->head, "index_raw");
    size_t nslots = 0;
    char *index = NULL;
    if (json_is_string(iraw)) {
        nslots = json_string_length(iraw);
        index = malloc(nslots + 1);
        if (index)
            memcpy(index, json_string_value(iraw), nslots);
    } else {
        json_t *s = json_object_get(t->head, "index_slots");
        if (!json_is_integer(s) || json_integer_value(s) < 0)
            return terr(L, l->name, "no \"index_slots\"");
        size_t slots = (size_t)json_integer_value(s);
        nslots = slots * W;
        index = malloc(nslots + 1);
        if (index) {
            memset(index, '#', nslots);
            for (size_t r = 0; r < t->nrows; r++) {
                const char *row = t->dat + r * (size_t)l->row_size;
                long long id;
                if (row[0] != '*' &&
                    dec_num(row + l->f[l->id_field].off, W, false, &id) == 0 &&
                    id >= 1 && (size_t)id <= slots)
                    enc_num(index + (id - 1) * W, W, (long long)r);
            }
        }
    }
    /* The free stack. */
    json_t *fraw = json_object_get(t->head, "free_raw");
    json_t *fl = json_object_get(t->head, "free");
    char *fr = NULL;
    size_t frn = 0;
    if (json_is_string(fraw)) {
        frn = json_string_length(fraw);
        fr = malloc(frn + 1);
        if (fr)
            memcpy(fr, json_string_value(fraw), frn);
    } else if (json_is_array(fl)) {
        frn = json_array_size(fl) * W;
        fr = malloc(frn + 1);
        size_t i;
        json_t *v;
        json_array_foreach(fl, i, v)
            if (fr)
                enc_num(fr + i * W, W, (long long)json_integer_value(v));
    } else {
        fr = malloc(1);
    }
    json_t *seq = json_object_get(t->head, "seqnum");
    int rc = index && fr ? 0 : -1;
    for (int k = 0; rc == 0 && k < F__N; k++) {
        if ((k == F_TEXT && !l->has_text) || in_list(missing, suffixes[k]))
            continue;
        char *name = file_name(l->name, suffixes[k]);
        if (!name) {
            rc = -1;
            break;
        }
        switch (k) {
        case F_DAT:
            rc = write_file_at(L, name, t->dat, t->nrows * (size_t)l->row_size);
            break;
        case F_SEQ:
            rc = write_file_at(L, name, json_is_string(seq)
                                   ? json_string_value(seq) : "0",
                               json_is_string(seq) ? json_string_length(seq)
                                                   : 1);
            break;
        case F_IDX:
            rc = write_file_at(L, name, index, nslots);
            break;
        case F_FREE:
            rc = write_file_at(L, name, fr, frn);
            break;
        default:
            rc = write_file_at(L, name, t->text, t->text_size);
            break;
        }
        free(name);
    }
    free(index);
    free(fr);
    return rc;
}

static void loader_free(struct loader *L)
{
    for (size_t i = 0; i < L->nt; i++) {
        struct tload *t = &L->t[i];
        free(t->dat);
        free(t->row_set);
        free(t->text);
        free(t->spans);
        json_decref(t->head);
        layout_free(&t->l);
    }
    free(L->t);
    bz_schema_free(L->schema);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int count_problem(const bz_problem *p, void *arg)
{
    if (p->severity == BZ_SEV_ERROR) {
        (*(int64_t *)arg)++;
        fprintf(stderr, "bazoola load: %s: %s at %lld: %s\n", p->table,
                p->file, (long long)p->offset, p->message);
    }
    return 0;
}

void load_usage(FILE *out)
{
    fputs(
"Usage: bazoola load NEWDIR < BACKUP\n"
"\n"
"Make the data directory NEWDIR from a backup that 'bazoola dump DIR'\n"
"wrote (read from standard input): every table's files come back byte for\n"
"byte as they were in DIR, with the same rows in the same places, the\n"
"same free rows in the same order, the same seqnums and TEXT files.\n"
"\n"
"The load is atomic: the files are written into a new directory next to\n"
"NEWDIR, made durable and checked (bazoola check), and only then renamed\n"
"to NEWDIR.  A backup that is damaged, truncated or does not check leaves\n"
"nothing behind.  NEWDIR must not exist, or be an empty directory.\n"
"\n"
"Options:\n"
"  -h, --help     show this help\n"
"  -V, --version  show the version\n"
"\n"
CLI_EXIT_HELP, out);
}

int load_main(int argc, char **argv)
{
    struct cli cli;
    int c;
    cli_init(&cli, "bazoola load", load_usage, "", NULL);
    while ((c = cli_next(&cli, argc, argv)) != -1)
        if (c == CLI_STOP)
            return cli.status;
    if ((c = cli_operands(&cli, argc, argv, 1, 1, "NEWDIR")))
        return c;
    const char *dir = argv[optind];
    /* Checked first to fail before reading the backup; rename() checks
     * again (an empty directory is replaced, any other refused). */
    DIR *d = opendir(dir);
    if (d || errno != ENOENT) {
        bool empty = d != NULL;
        for (struct dirent *e; d && (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                empty = false;
        if (d)
            closedir(d);
        if (!empty) {
            cli_error("bazoola load", dir, "exists and is not an empty "
                      "directory (load makes a new one)");
            return BZ_EXIT_FAIL;
        }
    }
    /* Beside NEWDIR, so the final rename stays within one filesystem. */
    char *copy = strdup(dir), *base = strdup(dir);
    size_t tl = strlen(dir) + 32;
    char *tmp = malloc(tl);
    if (!copy || !base || !tmp) {
        free(copy);
        free(base);
        free(tmp);
        cli_error("bazoola load", NULL, "out of memory");
        return BZ_EXIT_FAIL;
    }
    snprintf(tmp, tl, "%s/.%s.load-XXXXXX", dirname(copy), basename(base));
    free(copy);
    free(base);
    if (!mkdtemp(tmp)) {
        cli_error("bazoola load", tmp, "%s", strerror(errno));
        free(tmp);
        return BZ_EXIT_FAIL;
    }
    /* mkdtemp's 0700 and the files' 0600 are what bz_open gives a new
     * directory (docs/security.md). */
    struct loader L = {.prog = "bazoola load", .tmp = tmp};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0) {
        L.lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
        if (!o)
            rc = lerr(&L, "not JSON: %s", jerr.text);
        else
            rc = on_line(&L, o);
        json_decref(o);
    }
    free(line);
    if (rc == 0 && ferror(stdin))
        rc = lerr(&L, "reading standard input: %s", strerror(errno));
    if (rc == 0 && L.lineno == 0) {
        cli_error("bazoola load", "standard input", "empty: no backup");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < L.nt; i++)
        rc = finish_table(&L, &L.t[i]);
    if (rc == 0)
        rc = write_file_at(&L, ".lock", "", 0);
    if (rc == 0) {
        /* The engine must accept what was built, before anyone sees it. */
        int64_t errors = 0;
        bz_check_cbs cbs = {count_problem, NULL, NULL, &errors};
        bz_check_summary sum;
        if (bz_check_dir(tmp, NULL, NULL, 0, &cbs, &sum) != BZ_OK) {
            cli_error_msg("bazoola load", dir, bz_errmsg());
            rc = -1;
        } else if (errors) {
            cli_error("bazoola load", dir, "the backup does not check clean "
                      "(%lld errors above): nothing was made",
                      (long long)errors);
            rc = -1;
        }
    }
    if (rc == 0) {
        int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        if (rename(tmp, dir) != 0) {
            cli_error("bazoola load", dir, "%s", strerror(errno));
            rc = -1;
        }
    }
    if (rc != 0)
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    loader_free(&L);
    free(tmp);
    return rc == 0 ? BZ_EXIT_OK : BZ_EXIT_FAIL;
}
