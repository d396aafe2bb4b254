#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "result.h"

bz_values *bz_values_new(void)
{
    return calloc(1, sizeof(bz_values));
}

void bz_values_clear(bz_values *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].s);
    }
    v->n = 0;
}

void bz_values_free(bz_values *v)
{
    if (!v)
        return;
    bz_values_clear(v);
    free(v->v);
    free(v);
}

const struct bz_value_in *bz__values_get(const bz_values *v, const char *field)
{
    if (!v)
        return NULL;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->v[i].name, field) == 0)
            return &v->v[i];
    return NULL;
}

/* Find or add the slot for field; its old contents are released. */
static struct bz_value_in *slot(bz_values *v, const char *field)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->v[i].name, field) == 0) {
            free(v->v[i].s);
            v->v[i].s = NULL;
            return &v->v[i];
        }
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 8;
        struct bz_value_in *n = realloc(v->v, (size_t)cap * sizeof(*n));
        if (!n)
            return NULL;
        v->v = n;
        v->cap = cap;
    }
    char *name = strdup(field);
    if (!name)
        return NULL;
    struct bz_value_in *s = &v->v[v->n++];
    memset(s, 0, sizeof(*s));
    s->name = name;
    return s;
}

static int set_common(bz_values *v, const char *field, enum bz_vkind kind,
                      int64_t i, const char *s, size_t len)
{
    bz__err_clear();
    if (!v || !field || (kind >= BZ_V_STR && !s))
        return bz__err(BZ_EINVAL, "bz_values_set: NULL argument");
    char *copy = NULL;
    if (kind >= BZ_V_STR) {
        copy = malloc(len + 1);
        if (!copy)
            return bz__nomem();
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    struct bz_value_in *sl = slot(v, field);
    if (!sl) {
        free(copy);
        return bz__nomem();
    }
    sl->kind = kind;
    sl->i = i;
    sl->s = copy;
    sl->len = len;
    return BZ_OK;
}

int bz_values_set_int(bz_values *v, const char *field, int64_t value)
{
    return set_common(v, field, BZ_V_INT, value, NULL, 0);
}

int bz_values_set_str(bz_values *v, const char *field, const char *s)
{
    return set_common(v, field, BZ_V_STR, 0, s, s ? strlen(s) : 0);
}

int bz_values_set_strn(bz_values *v, const char *field, const char *s,
                       size_t len)
{
    return set_common(v, field, BZ_V_STR, 0, s, len);
}

int bz_values_set_null(bz_values *v, const char *field)
{
    return set_common(v, field, BZ_V_NULL, 0, NULL, 0);
}

int bz_values_set_other(bz_values *v, const char *field, const char *repr)
{
    return set_common(v, field, BZ_V_OTHER, 0, repr, repr ? strlen(repr) : 0);
}
