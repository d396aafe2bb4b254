#include <stdlib.h>
#include <string.h>

#include "result.h"

bz_row *bz__row_build(const bz_tdef *t, const bz_fval *vals, size_t extra)
{
    size_t n = (size_t)t->nfields, bytes = 0;
    for (size_t j = 0; j < n; j++)
        if (!vals[j].null && (t->fields[j].kind == BZ_CHAR ||
                              t->fields[j].kind == BZ_TEXT))
            bytes += vals[j].len + 1;
    size_t cap = n + extra;
    bz_row *r = malloc(sizeof(*r) + cap * sizeof(struct bz_entry) + bytes);
    if (!r)
        return NULL;
    r->n = n;
    r->cap = cap;
    char *p = (char *)&r->e[cap];
    for (size_t j = 0; j < n; j++) {
        const bz_fdef *f = &t->fields[j];
        struct bz_entry *e = &r->e[j];
        e->name = f->name;
        e->sub = NULL;
        e->s = NULL;
        e->len = 0;
        e->i = 0;
        if (vals[j].null) {
            e->type = BZ_T_NULL;
        } else if (f->kind == BZ_CHAR || f->kind == BZ_TEXT) {
            e->type = BZ_T_STR;
            memcpy(p, vals[j].s, vals[j].len);
            p[vals[j].len] = '\0';
            e->s = p;
            e->len = vals[j].len;
            p += vals[j].len + 1;
        } else {
            e->type = BZ_T_INT;
            e->i = vals[j].i;
        }
    }
    return r;
}

static void entry_release(struct bz_entry *e)
{
    if (e->type == BZ_T_ROW)
        bz_row_free(e->sub);
    else if (e->type == BZ_T_ROWS)
        bz_rows_free(e->sub);
    e->sub = NULL;
}

void bz__row_set_join(bz_row *r, const char *key, bz_type type, void *sub)
{
    struct bz_entry *e = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->e[i].name, key) == 0)
            e = &r->e[i];
    if (e) {
        entry_release(e);
    } else {
        /* Callers reserve one entry per join when building the row. */
        e = &r->e[r->n++];
        e->name = key;
    }
    e->type = sub ? type : BZ_T_NULL;
    e->sub = sub;
    e->s = NULL;
    e->len = 0;
    e->i = 0;
}

void bz_row_free(bz_row *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        entry_release(&r->e[i]);
    free(r);
}

bz_rows *bz__rows_new(void)
{
    return calloc(1, sizeof(bz_rows));
}

int bz__rows_push(bz_rows *rs, bz_row *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        bz_row **n = realloc(rs->v, cap * sizeof(*n));
        if (!n)
            return -1;
        rs->v = n;
        rs->cap = cap;
    }
    rs->v[rs->n++] = r;
    return 0;
}

void bz_rows_free(bz_rows *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        bz_row_free(rs->v[i]);
    free(rs->v);
    free(rs);
}

size_t bz_rows_len(const bz_rows *rs) { return rs ? rs->n : 0; }

const bz_row *bz_rows_at(const bz_rows *rs, size_t i)
{
    return rs && i < rs->n ? rs->v[i] : NULL;
}

size_t bz_row_len(const bz_row *r) { return r ? r->n : 0; }

const char *bz_row_name(const bz_row *r, size_t i)
{
    return r && i < r->n ? r->e[i].name : NULL;
}

bz_type bz_row_type(const bz_row *r, size_t i)
{
    return r && i < r->n ? r->e[i].type : BZ_T_NULL;
}

int64_t bz_row_int(const bz_row *r, size_t i)
{
    return r && i < r->n && r->e[i].type == BZ_T_INT ? r->e[i].i : 0;
}

const char *bz_row_str(const bz_row *r, size_t i, size_t *len)
{
    if (r && i < r->n && r->e[i].type == BZ_T_STR) {
        if (len)
            *len = r->e[i].len;
        return r->e[i].s;
    }
    if (len)
        *len = 0;
    return NULL;
}

const bz_row *bz_row_row(const bz_row *r, size_t i)
{
    return r && i < r->n && r->e[i].type == BZ_T_ROW ? r->e[i].sub : NULL;
}

const bz_rows *bz_row_rows(const bz_row *r, size_t i)
{
    return r && i < r->n && r->e[i].type == BZ_T_ROWS ? r->e[i].sub : NULL;
}

int bz_row_find(const bz_row *r, const char *name)
{
    if (!r || !name)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->e[i].name, name) == 0)
            return (int)i;
    return -1;
}

int64_t bz_row_id(const bz_row *r)
{
    int i = bz_row_find(r, "id");
    return i >= 0 ? bz_row_int(r, (size_t)i) : 0;
}

int bz_row_get_int(const bz_row *r, const char *name, int64_t *value)
{
    int i = bz_row_find(r, name);
    if (i < 0 || r->e[i].type == BZ_T_NULL)
        return BZ_ENOTFOUND;
    if (r->e[i].type != BZ_T_INT)
        return BZ_EINVAL;
    if (value)
        *value = r->e[i].i;
    return BZ_OK;
}

int bz_row_get_str(const bz_row *r, const char *name, const char **s,
                   size_t *len)
{
    int i = bz_row_find(r, name);
    if (i < 0 || r->e[i].type == BZ_T_NULL)
        return BZ_ENOTFOUND;
    if (r->e[i].type != BZ_T_STR)
        return BZ_EINVAL;
    if (s)
        *s = r->e[i].s;
    if (len)
        *len = r->e[i].len;
    return BZ_OK;
}
