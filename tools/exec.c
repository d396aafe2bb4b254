/*
 * exec.c - `bazoola exec DIR [--schema FILE]`: the JSON-lines protocol of
 * README.md ("bazoola exec") and docs/man/bazoola.1.
 *
 * One request per input line, one reply per output line, in order, flushed
 * at once so a program driving us through a pipe can wait for each reply.
 * A reply is built as a jansson value and printed compact, UTF-8 as-is,
 * object keys in insertion order (rows keep the schema's field order).
 *
 * A line we cannot understand gets a bad_request reply naming the line and
 * the key at fault; an operation the engine refuses gets the engine's kind
 * and message.  Neither stops the run: only the end of stdin does.
 */
#include "exec.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>
#include <jansson.h>

/* Long enough for any message a person reads; a longer one is cut. */
#define MSG_MAX 1024
/* Key paths in messages ("cond.AND[2].EQ"); deeper ones are cut. */
#define PATH_MAX_LEN 256

struct exec_ctx {
    bz_db *db;
    unsigned long lineno; /* of the line being handled, from 1 */
};

/* ------------------------------------------------------------------ */
/* JSON strings from bytes that should be UTF-8. */

/* The length of the well-formed UTF-8 sequence at s (n bytes available), or
 * 0.  Refuses what jansson refuses: overlong forms, surrogates, > U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string of s.  Data files edited by hand may hold bytes that are not
 * UTF-8; JSON cannot carry them, so each such byte becomes U+FFFD rather
 * than the whole reply being lost. */
static json_t *text_json(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j || len > (SIZE_MAX - 1) / 3)
        return j;

    const unsigned char *in = (const unsigned char *)s;
    char *fixed = malloc(3 * len + 1);
    if (!fixed)
        return NULL;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(in + i, len - i);
        if (n) {
            memcpy(fixed + out, in + i, n);
            out += n;
            i += n;
        } else {
            memcpy(fixed + out, "\xef\xbf\xbd", 3);
            out += 3;
            i++;
        }
    }
    j = json_stringn(fixed, out);
    free(fixed);
    return j;
}

/* ------------------------------------------------------------------ */
/* Replies. */

static json_t *reply_error(const char *kind, const char *message)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    if (json_object_set_new(r, "error", json_string(kind)) ||
        json_object_set_new(r, "message",
                            text_json(message, strlen(message)))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* The reply to a failed engine call: call it before any other bz_ call,
 * which may replace the thread's last error. */
static json_t *reply_engine(int rc)
{
    const char *msg = bz_errmsg();
    return reply_error(bz_errkind(rc), *msg ? msg : bz_strerror(rc));
}

static json_t *reply_nomem(void)
{
    return reply_error(bz_errkind(BZ_ENOMEM), "out of memory");
}

/* {"error":"bad_request","message":"line N: ..."} */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static json_t *bad_request(const struct exec_ctx *x, const char *fmt, ...)
{
    char msg[MSG_MAX];
    int n = snprintf(msg, sizeof msg, "line %lu: ", x->lineno);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    return reply_error(bz_errkind(BZ_EINVAL), msg);
}

/* {"ok": value}; takes the reference to value, which may be NULL when
 * building it ran out of memory. */
static json_t *reply_ok(json_t *value)
{
    if (!value)
        return reply_nomem();
    json_t *r = json_object();
    if (!r || json_object_set_new(r, "ok", value)) {
        json_decref(r);
        return reply_nomem();
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* Rows to JSON: fields in schema order, then one entry per join. */

static json_t *row_json(const bz_row *r);

static json_t *rows_json(const bz_rows *rs)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        if (json_array_append_new(a, row_json(bz_rows_at(rs, i)))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *entry_json(const bz_row *r, size_t i)
{
    switch (bz_row_type(r, i)) {
    case BZ_T_NULL:
        return json_null();
    case BZ_T_INT:
        return json_integer(bz_row_int(r, i));
    case BZ_T_STR: {
        size_t len;
        const char *s = bz_row_str(r, i, &len);
        return text_json(s, len);
    }
    case BZ_T_ROW: {
        const bz_row *joined = bz_row_row(r, i);
        return joined ? row_json(joined) : json_null();
    }
    case BZ_T_ROWS: {
        const bz_rows *referring = bz_row_rows(r, i);
        return referring ? rows_json(referring) : json_array();
    }
    }
    return json_null(); /* a type newer than this tool */
}

static json_t *row_json(const bz_row *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < bz_row_len(r); i++) {
        if (json_object_set_new(o, bz_row_name(r, i), entry_json(r, i))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The reply to an operation giving one row (or none); frees the row. */
static json_t *reply_row(int rc, bz_row *row)
{
    json_t *reply = rc != BZ_OK ? reply_engine(rc)
                                : reply_ok(row ? row_json(row) : json_null());
    if (row)
        bz_row_free(row);
    return reply;
}

/* The reply to an operation giving a list of rows; frees the list. */
static json_t *reply_rows(int rc, bz_rows *rows)
{
    json_t *reply = rc != BZ_OK ? reply_engine(rc)
                                : reply_ok(rows ? rows_json(rows) : json_array());
    if (rows)
        bz_rows_free(rows);
    return reply;
}

/* ------------------------------------------------------------------ */
/* Python's repr of JSON values.  A value no field type accepts (a boolean,
 * a float, a list, an object) still goes to the engine, which refuses it in
 * 0.0.7's words: "Type mismatch: `<repr>` is not `int`". */

static void repr_value(FILE *f, const json_t *v);

static void repr_str(FILE *f, const char *s, size_t len)
{
    /* Python quotes with ' unless the text holds ' and no ". */
    char q = memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
    const unsigned char *u = (const unsigned char *)s;

    fputc(q, f);
    for (size_t i = 0; i < len; i++) {
        if (u[i] == q || u[i] == '\\')
            fprintf(f, "\\%c", u[i]);
        else if (u[i] == '\n')
            fputs("\\n", f);
        else if (u[i] == '\r')
            fputs("\\r", f);
        else if (u[i] == '\t')
            fputs("\\t", f);
        else if (u[i] < 0x20 || u[i] == 0x7f)
            fprintf(f, "\\x%02x", u[i]);
        else if (u[i] == 0xc2 && i + 1 < len &&
                 ((u[i + 1] >= 0x80 && u[i + 1] <= 0xa0) || u[i + 1] == 0xad))
            fprintf(f, "\\x%02x", u[++i]); /* U+0080..U+00A0, U+00AD */
        else
            fputc(u[i], f);
    }
    fputc(q, f);
}

static void put_zeros(FILE *f, int n)
{
    while (n-- > 0)
        fputc('0', f);
}

/* Python's float repr: the shortest digits that read back as x, in fixed
 * notation when the exponent is in [-4, 16), with ".0" on whole numbers. */
static void repr_real(FILE *f, double x)
{
    char buf[40];

    if (isnan(x)) {
        fputs("nan", f);
        return;
    }
    if (isinf(x)) {
        fputs(x < 0 ? "-inf" : "inf", f);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x)
            break;
    }

    /* buf is "[-]d[.ddd]e[+-]XX": split into sign, digits and exponent. */
    char digits[24];
    size_t nd = 0;
    const char *p = buf;
    if (*p == '-')
        fputc(*p++, f);
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1);

    if (exp < -4 || exp >= 16) {
        fputc(digits[0], f);
        if (nd > 1)
            fprintf(f, ".%.*s", (int)(nd - 1), digits + 1);
        fprintf(f, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        fputs("0.", f);
        put_zeros(f, -exp - 1);
        fprintf(f, "%.*s", (int)nd, digits);
    } else if ((size_t)exp + 1 >= nd) {
        fprintf(f, "%.*s", (int)nd, digits);
        put_zeros(f, exp + 1 - (int)nd);
        fputs(".0", f);
    } else {
        fprintf(f, "%.*s.%.*s", exp + 1, digits, (int)nd - exp - 1,
                digits + exp + 1);
    }
}

static void repr_array(FILE *f, const json_t *a)
{
    size_t i;
    json_t *item;

    fputc('[', f);
    json_array_foreach(a, i, item) {
        if (i)
            fputs(", ", f);
        repr_value(f, item);
    }
    fputc(']', f);
}

static void repr_object(FILE *f, const json_t *o)
{
    const char *key;
    size_t keylen;
    json_t *item;
    int first = 1;

    fputc('{', f);
    json_object_keylen_foreach((json_t *)o, key, keylen, item) {
        if (!first)
            fputs(", ", f);
        first = 0;
        repr_str(f, key, keylen);
        fputs(": ", f);
        repr_value(f, item);
    }
    fputc('}', f);
}

static void repr_value(FILE *f, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        repr_object(f, v);
        break;
    case JSON_ARRAY:
        repr_array(f, v);
        break;
    case JSON_STRING:
        repr_str(f, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        repr_real(f, json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("True", f);
        break;
    case JSON_FALSE:
        fputs("False", f);
        break;
    case JSON_NULL:
        fputs("None", f);
        break;
    }
}

/* The repr as a malloc'ed string, or NULL when out of memory. */
static char *python_repr(const json_t *v)
{
    char *s = NULL;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    repr_value(f, v);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Requests: the parts of a line, checked and turned into engine objects. */

enum {
    K_TABLE = 1 << 0,
    K_ID = 1 << 1,
    K_VALUES = 1 << 2,
    K_COND = 1 << 3,
    K_JOINS = 1 << 4,
    K_CASCADE = 1 << 5
};

/* The path of a nested key, for messages ("cond.AND[2].EQ"); a path cut
 * at PATH_MAX_LEN still points the reader to the right place. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void key_path(char buf[PATH_MAX_LEN], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

struct request {
    const char *table;  /* points into the parsed line */
    int64_t id;
    bz_values *values;  /* NULL when not given */
    bz_cond *cond;      /* NULL: every row */
    bz_joins *joins;    /* NULL: no joins */
    int cascade;
};

static void request_release(struct request *rq)
{
    if (rq->values)
        bz_values_free(rq->values);
    if (rq->cond)
        bz_cond_free(rq->cond);
    if (rq->joins)
        bz_joins_free(rq->joins);
}

static int has_nul(const char *s, size_t len)
{
    return memchr(s, '\0', len) != NULL;
}

/* A string member of obj that names something (table, field, key): no NUL
 * inside, since the engine takes C strings.  path names obj in messages. */
static json_t *need_name(const struct exec_ctx *x, const json_t *obj,
                         const char *key, const char *path, const char **out)
{
    const json_t *v = json_object_get(obj, key);
    const char *dot = *path ? "." : "";

    if (!v)
        return bad_request(x, "missing key '%s%s%s'", path, dot, key);
    if (!json_is_string(v))
        return bad_request(x, "'%s%s%s' must be a string", path, dot, key);
    if (has_nul(json_string_value(v), json_string_length(v)))
        return bad_request(x, "'%s%s%s' contains a NUL character", path, dot,
                           key);
    *out = json_string_value(v);
    return NULL;
}

/* One value of an insert or update, by its JSON type. */
static json_t *set_value(bz_values *vals, const char *field,
                         const json_t *v)
{
    int rc;
    char *repr;

    switch (json_typeof(v)) {
    case JSON_INTEGER:
        rc = bz_values_set_int(vals, field, json_integer_value(v));
        break;
    case JSON_STRING:
        rc = bz_values_set_strn(vals, field, json_string_value(v),
                                json_string_length(v));
        break;
    case JSON_NULL:
        rc = bz_values_set_null(vals, field);
        break;
    default:
        repr = python_repr(v);
        if (!repr)
            return reply_nomem();
        rc = bz_values_set_other(vals, field, repr);
        free(repr);
        break;
    }
    return rc == BZ_OK ? NULL : reply_engine(rc);
}

static json_t *parse_values(const struct exec_ctx *x, const json_t *obj,
                            bz_values **out)
{
    const char *field;
    size_t len;
    json_t *v, *err;

    if (!json_is_object(obj))
        return bad_request(x, "'values' must be an object");
    bz_values *vals = bz_values_new();
    if (!vals)
        return reply_nomem();
    json_object_keylen_foreach((json_t *)obj, field, len, v) {
        if (has_nul(field, len))
            err = bad_request(x, "a field name in 'values' contains a NUL "
                                 "character");
        else
            err = set_value(vals, field, v);
        if (err) {
            bz_values_free(vals);
            return err;
        }
    }
    *out = vals;
    return NULL;
}

/* ---- conditions ---- */

static const struct {
    const char *name;
    bz_op op;
} leaf_ops[] = {
    { "EQ", BZ_EQ }, { "NE", BZ_NE }, { "LT", BZ_LT }, { "LE", BZ_LE },
    { "GT", BZ_GT }, { "GE", BZ_GE }, { "SUBSTR", BZ_SUBSTR },
    { "ISUBSTR", BZ_ISUBSTR }, { "IN", BZ_IN },
};

static int find_leaf_op(const char *name, bz_op *op)
{
    for (size_t i = 0; i < sizeof leaf_ops / sizeof leaf_ops[0]; i++) {
        if (strcmp(leaf_ops[i].name, name) == 0) {
            *op = leaf_ops[i].op;
            return 1;
        }
    }
    return 0;
}

static json_t *parse_cond(const struct exec_ctx *x, const json_t *c,
                          const char *path, bz_cond **out);

/* {"IN": {"field": [v1, v2, ...]}}: the values of one field. */
static json_t *add_in_values(const struct exec_ctx *x, bz_cond *c,
                             const char *field, const json_t *list,
                             const char *path)
{
    size_t i;
    json_t *v;
    int rc;
    char sub[PATH_MAX_LEN];

    if (!json_is_array(list))
        return bad_request(x, "'%s' must be a list", path);
    if (json_array_size(list) == 0)
        return bad_request(x, "'%s' is an empty list", path);
    json_array_foreach(list, i, v) {
        key_path(sub, "%s[%zu]", path, i);
        if (json_is_integer(v)) {
            rc = bz_cond_add_in_int(c, field, json_integer_value(v));
        } else if (json_is_string(v)) {
            /* By length: "\u0000" is a character like any other. */
            rc = bz_cond_add_in_strn(c, field, json_string_value(v),
                                     json_string_length(v));
        } else {
            return bad_request(x, "'%s' must be an integer or a string", sub);
        }
        if (rc != BZ_OK)
            return reply_engine(rc);
    }
    return NULL;
}

/* One field/value pair of a leaf other than IN. */
static json_t *add_pair(const struct exec_ctx *x, bz_cond *c,
                        const char *field, const json_t *v, const char *path)
{
    int rc;

    if (json_is_integer(v)) {
        rc = bz_cond_add_int(c, field, json_integer_value(v));
    } else if (json_is_string(v)) {
        rc = bz_cond_add_strn(c, field, json_string_value(v),
                              json_string_length(v));
    } else if (json_is_null(v)) {
        rc = bz_cond_add_null(c, field);
    } else {
        return bad_request(x, "'%s' must be an integer, a string or null",
                           path);
    }
    return rc == BZ_OK ? NULL : reply_engine(rc);
}

/* {"EQ": {"a": 1, "b": "x"}}: every pair must hold. */
static json_t *parse_leaf(const struct exec_ctx *x, bz_op op,
                          const json_t *pairs, const char *path,
                          bz_cond **out)
{
    const char *field;
    size_t len;
    json_t *v, *err;
    char sub[PATH_MAX_LEN];

    if (!json_is_object(pairs))
        return bad_request(x, "'%s' must be an object of field: value", path);
    bz_cond *c = bz_cond_new(op);
    if (!c)
        return reply_nomem();
    json_object_keylen_foreach((json_t *)pairs, field, len, v) {
        key_path(sub, "%s.%s", path, field);
        if (has_nul(field, len))
            err = bad_request(x, "a field name in '%s' contains a NUL "
                                 "character", path);
        else if (op == BZ_IN)
            err = add_in_values(x, c, field, v, sub);
        else
            err = add_pair(x, c, field, v, sub);
        if (err) {
            bz_cond_free(c);
            return err;
        }
    }
    *out = c;
    return NULL;
}

/* {"AND": [c1, c2, ...]} or {"OR": [...]}. */
static json_t *parse_junction(const struct exec_ctx *x, int is_and,
                              const json_t *list, const char *path,
                              bz_cond **out)
{
    size_t i;
    json_t *item, *err;
    bz_cond *all = NULL, *one;
    char sub[PATH_MAX_LEN];

    if (!json_is_array(list))
        return bad_request(x, "'%s' must be a list of conditions", path);
    if (json_array_size(list) == 0)
        return bad_request(x, "'%s' is an empty list", path);
    json_array_foreach(list, i, item) {
        key_path(sub, "%s[%zu]", path, i);
        if ((err = parse_cond(x, item, sub, &one))) {
            if (all)
                bz_cond_free(all);
            return err;
        }
        if (!all)
            all = one;
        else if (!(all = is_and ? bz_cond_and(all, one) : bz_cond_or(all, one)))
            return reply_nomem();
    }
    *out = all;
    return NULL;
}

/* One key of a condition object: an operator and its operand. */
static json_t *parse_cond_key(const struct exec_ctx *x, const char *key,
                              const json_t *v, const char *path,
                              bz_cond **out)
{
    char sub[PATH_MAX_LEN];
    bz_op op;
    json_t *err;
    bz_cond *inner;

    key_path(sub, "%s.%s", path, key);
    if (strcmp(key, "AND") == 0 || strcmp(key, "OR") == 0)
        return parse_junction(x, key[0] == 'A', v, sub, out);
    if (strcmp(key, "NOT") == 0) {
        if ((err = parse_cond(x, v, sub, &inner)))
            return err;
        return (*out = bz_cond_not(inner)) ? NULL : reply_nomem();
    }
    if (find_leaf_op(key, &op))
        return parse_leaf(x, op, v, sub, out);
    return bad_request(x, "'%s': unknown condition '%s' (expected EQ, NE, "
                          "LT, LE, GT, GE, SUBSTR, ISUBSTR, IN, AND, OR or "
                          "NOT)", path, key);
}

/* A condition object; several keys mean all of them must hold. */
static json_t *parse_cond(const struct exec_ctx *x, const json_t *c,
                          const char *path, bz_cond **out)
{
    const char *key;
    json_t *v, *err;
    bz_cond *all = NULL, *one;

    if (!json_is_object(c))
        return bad_request(x, "'%s' must be an object", path);
    if (json_object_size(c) == 0)
        return bad_request(x, "'%s' is an empty condition", path);
    json_object_foreach((json_t *)c, key, v) {
        if ((err = parse_cond_key(x, key, v, path, &one))) {
            if (all)
                bz_cond_free(all);
            return err;
        }
        if (!all)
            all = one;
        else if (!(all = bz_cond_and(all, one)))
            return reply_nomem();
    }
    *out = all;
    return NULL;
}

/* ---- joins ---- */

static json_t *parse_join(const struct exec_ctx *x, bz_joins *js,
                          const json_t *j, const char *path)
{
    const char *key, *type, *fk, *name, *table;
    json_t *v, *err;
    int rc;

    if (!json_is_object(j))
        return bad_request(x, "'%s' must be an object", path);
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "type") && strcmp(key, "fk") && strcmp(key, "key") &&
            strcmp(key, "table"))
            return bad_request(x, "'%s': unknown key '%s' (expected type, "
                                  "fk, key and table)", path, key);
    }
    if ((err = need_name(x, j, "type", path, &type)) ||
        (err = need_name(x, j, "fk", path, &fk)) ||
        (err = need_name(x, j, "key", path, &name)) ||
        (err = need_name(x, j, "table", path, &table)))
        return err;
    if (strcmp(type, "join") == 0)
        rc = bz_joins_add(js, fk, name, table);
    else if (strcmp(type, "inverse") == 0)
        rc = bz_joins_add_inverse(js, fk, name, table);
    else
        return bad_request(x, "'%s.type' must be \"join\" or \"inverse\"",
                           path);
    return rc == BZ_OK ? NULL : reply_engine(rc);
}

static json_t *parse_joins(const struct exec_ctx *x, const json_t *list,
                           bz_joins **out)
{
    size_t i;
    json_t *j, *err;
    char path[PATH_MAX_LEN];

    if (!json_is_array(list))
        return bad_request(x, "'joins' must be a list");
    bz_joins *js = bz_joins_new();
    if (!js)
        return reply_nomem();
    json_array_foreach(list, i, j) {
        key_path(path, "joins[%zu]", i);
        if ((err = parse_join(x, js, j, path))) {
            bz_joins_free(js);
            return err;
        }
    }
    *out = js;
    return NULL;
}

/* ---- whole requests ---- */

static const char *const key_names[] = {
    "table", "id", "values", "cond", "joins", "cascade"
};

static unsigned key_flag(const char *key)
{
    if (strcmp(key, "op") == 0)
        return ~0u; /* always allowed */
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (strcmp(key, key_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* Unknown keys are refused rather than ignored: a misspelt "cond" would
 * otherwise turn a search into "every row". */
static json_t *check_keys(const struct exec_ctx *x, const json_t *req,
                          const char *op, unsigned allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)req, key, v) {
        if (!(key_flag(key) & allowed))
            return bad_request(x, "unknown key '%s' for op '%s'", key, op);
    }
    return NULL;
}

/* Fill rq from req.  required is a subset of allowed; K_TABLE is in both
 * for every op. */
static json_t *parse_request(const struct exec_ctx *x, const json_t *req,
                             const char *op, unsigned allowed,
                             unsigned required, struct request *rq)
{
    json_t *err, *v;

    if ((err = check_keys(x, req, op, allowed)))
        return err;
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++) {
        if ((required & (1u << i)) && !json_object_get(req, key_names[i]))
            return bad_request(x, "missing key '%s' for op '%s'",
                               key_names[i], op);
    }
    if ((err = need_name(x, req, "table", "", &rq->table)))
        return err;
    if ((v = json_object_get(req, "id"))) {
        if (!json_is_integer(v))
            return bad_request(x, "'id' must be an integer");
        rq->id = json_integer_value(v);
    }
    if ((v = json_object_get(req, "cascade"))) {
        if (!json_is_boolean(v))
            return bad_request(x, "'cascade' must be true or false");
        rq->cascade = json_is_true(v);
    }
    if ((v = json_object_get(req, "values")) &&
        (err = parse_values(x, v, &rq->values)))
        return err;
    if ((v = json_object_get(req, "cond")) &&
        (err = parse_cond(x, v, "cond", &rq->cond)))
        return err;
    if ((v = json_object_get(req, "joins")) &&
        (err = parse_joins(x, v, &rq->joins)))
        return err;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Operations.  Rows are turned into JSON before the request is released:
 * the names of joined entries point into its joins. */

static json_t *run_insert(bz_db *db, const struct request *rq)
{
    bz_row *row = NULL;
    int rc = bz_insert(db, rq->table, rq->values, &row);
    return reply_row(rc, row);
}

static json_t *run_find_by_id(bz_db *db, const struct request *rq)
{
    bz_row *row = NULL;
    int rc = bz_find_by_id(db, rq->table, rq->id, rq->joins, &row);
    return reply_row(rc, row);
}

static json_t *run_find_all(bz_db *db, const struct request *rq)
{
    bz_rows *rows = NULL;
    int rc = bz_find_all(db, rq->table, rq->joins, &rows);
    return reply_rows(rc, rows);
}

static json_t *run_find_by_cond(bz_db *db, const struct request *rq)
{
    bz_rows *rows = NULL;
    int rc = bz_find_by_cond(db, rq->table, rq->cond, rq->joins, &rows);
    return reply_rows(rc, rows);
}

static json_t *run_update_by_id(bz_db *db, const struct request *rq)
{
    bz_row *row = NULL;
    int rc = bz_update_by_id(db, rq->table, rq->id, rq->values, &row);
    return reply_row(rc, row);
}

static json_t *run_delete_by_id(bz_db *db, const struct request *rq)
{
    return reply_row(bz_delete_by_id(db, rq->table, rq->id), NULL);
}

static json_t *run_truncate(bz_db *db, const struct request *rq)
{
    return reply_row(bz_truncate(db, rq->table, rq->cascade), NULL);
}

static const struct op_spec {
    const char *name;
    unsigned allowed;
    unsigned required;
    json_t *(*run)(bz_db *db, const struct request *rq);
} ops[] = {
    { "insert", K_TABLE | K_VALUES, K_TABLE | K_VALUES, run_insert },
    { "find_by_id", K_TABLE | K_ID | K_JOINS, K_TABLE | K_ID,
      run_find_by_id },
    { "find_all", K_TABLE | K_JOINS, K_TABLE, run_find_all },
    { "find_by_cond", K_TABLE | K_COND | K_JOINS, K_TABLE, run_find_by_cond },
    { "update_by_id", K_TABLE | K_ID | K_VALUES, K_TABLE | K_ID | K_VALUES,
      run_update_by_id },
    { "delete_by_id", K_TABLE | K_ID, K_TABLE | K_ID, run_delete_by_id },
    { "truncate", K_TABLE | K_CASCADE, K_TABLE, run_truncate },
};

static const struct op_spec *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

static json_t *handle_request(const struct exec_ctx *x, const json_t *req)
{
    const json_t *opv = json_object_get(req, "op");
    const struct op_spec *spec;
    struct request rq = { 0 };
    json_t *reply;

    if (!json_is_object(req))
        return bad_request(x, "a request must be a JSON object");
    if (!opv)
        return bad_request(x, "missing key 'op'");
    if (!json_is_string(opv))
        return bad_request(x, "'op' must be a string");
    if (!(spec = find_op(json_string_value(opv))))
        return bad_request(x, "unknown op '%s' (expected insert, find_by_id, "
                              "find_all, find_by_cond, update_by_id, "
                              "delete_by_id or truncate)",
                           json_string_value(opv));
    reply = parse_request(x, req, spec->name, spec->allowed, spec->required,
                          &rq);
    if (!reply)
        reply = spec->run(x->db, &rq);
    request_release(&rq);
    return reply;
}

static json_t *handle_line(const struct exec_ctx *x, const char *line,
                           size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES |
                                        JSON_ALLOW_NUL, &jerr);
    if (!req)
        return bad_request(x, "not valid JSON (column %d): %s", jerr.column,
                           jerr.text);
    json_t *reply = handle_request(x, req);
    json_decref(req);
    return reply;
}

/* One request line against db, for callers without stdin (the fuzzer,
 * tests/fuzz/fuzz_exec.c): the reply exactly as run_lines would print it,
 * without the newline, malloc'd (NULL when out of memory). */
char *exec_line(bz_db *db, unsigned long lineno, const char *line,
                size_t len)
{
    struct exec_ctx x = { db, lineno };
    json_t *reply = handle_line(&x, line, len);
    char *out = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

    json_decref(reply);
    return out;
}

/* ------------------------------------------------------------------ */
/* The loop. */

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
            return 0;
    return 1;
}

/* One reply line, flushed; -1 when stdout fails. */
static int print_reply(const json_t *reply)
{
    if (reply) {
        if (json_dumpf(reply, stdout, JSON_COMPACT) != 0)
            return -1;
    } else {
        /* Even building the out-of-memory reply failed: say it plainly. */
        printf("{\"error\":\"%s\",\"message\":\"out of memory\"}",
               bz_errkind(BZ_ENOMEM));
    }
    if (putchar('\n') == EOF || fflush(stdout) != 0)
        return -1;
    return 0;
}

/* A request line is bounded, so that one enormous line cannot take the
 * memory of the process: longer ones are skipped to their newline and
 * answered with bad_request. */
#define EXEC_MAX_LINE ((size_t)64 << 20)

/* Read one line (with its newline) into *buf; -1 at end of input.  A line
 * longer than max sets *too_long and keeps only its first max bytes. */
static ssize_t read_line(FILE *in, char **buf, size_t *cap, size_t max,
                         bool *too_long)
{
    size_t len = 0;
    int c;
    *too_long = false;
    while ((c = getc_unlocked(in)) != EOF) {
        if (len < max) {
            if (len + 2 > *cap) {
                size_t ncap = *cap ? *cap * 2 : 4096;
                char *n = realloc(*buf, ncap);
                if (!n)
                    return -2;
                *buf = n;
                *cap = ncap;
            }
            (*buf)[len++] = (char)c;
        } else {
            *too_long = true;
        }
        if (c == '\n')
            break;
    }
    if (c == EOF && len == 0 && !*too_long)
        return -1;
    (*buf)[len] = '\0';
    return (ssize_t)len;
}

static int run_lines(struct exec_ctx *x)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = BZ_EXIT_OK;
    bool too_long;

    while ((n = read_line(stdin, &line, &cap, EXEC_MAX_LINE, &too_long)) != -1) {
        x->lineno++;
        json_t *reply;
        if (n == -2) {
            /* The rest of the line would be read as another: stop. */
            print_reply(NULL);
            status = BZ_EXIT_FAIL;
            break;
        }
        if (too_long)
            reply = bad_request(x, "the line is longer than %zu MiB",
                                EXEC_MAX_LINE >> 20);
        else if (is_blank(line, (size_t)n))
            continue;
        else
            reply = handle_line(x, line, (size_t)n);
        int failed = print_reply(reply);
        json_decref(reply);
        if (failed) {
            perror("bazoola: stdout");
            status = BZ_EXIT_FAIL;
            break;
        }
    }
    if (status == BZ_EXIT_OK && ferror(stdin)) {
        perror("bazoola: stdin");
        status = BZ_EXIT_FAIL;
    }
    free(line);
    return status;
}

/* ------------------------------------------------------------------ */
/* The command line. */

void exec_usage(FILE *out)
{
    fputs(
"Usage: bazoola exec DIR [--schema FILE]\n"
"\n"
"Run operations on the data directory DIR: read one JSON operation per\n"
"line on standard input, write one JSON result per line on standard output,\n"
"in order, flushed after each line.  Blank lines are skipped and get no\n"
"result.\n"
"\n"
"Options:\n"
"  -s, --schema FILE  open DIR with the schema in FILE (schema text format:\n"
"                     \"table: field TYPE [NULL], ...\" per line), creating\n"
"                     DIR and its files if missing; without it, DIR\n"
"                     must exist and is opened with the schema recorded\n"
"                     in DIR/.schema by an earlier open\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Operations, one JSON object per line:\n"
"  {\"op\":\"insert\",\"table\":T,\"values\":{FIELD:VALUE,...}}\n"
"  {\"op\":\"find_by_id\",\"table\":T,\"id\":N,\"joins\":JOINS}\n"
"  {\"op\":\"find_all\",\"table\":T,\"joins\":JOINS}\n"
"  {\"op\":\"find_by_cond\",\"table\":T,\"cond\":COND,\"joins\":JOINS}\n"
"  {\"op\":\"update_by_id\",\"table\":T,\"id\":N,\"values\":{FIELD:VALUE,...}}\n"
"  {\"op\":\"delete_by_id\",\"table\":T,\"id\":N}\n"
"  {\"op\":\"truncate\",\"table\":T,\"cascade\":BOOL}\n"
"\"joins\", \"cond\" and \"cascade\" may be left out (no joins, every row,\n"
"false); any other unknown key is an error.\n"
"JOINS is a list of {\"type\":\"join\"|\"inverse\",\"fk\":F,\"key\":K,\"table\":T}.\n"
"COND is {\"EQ\":{FIELD:VALUE,...}} (every pair must hold), likewise NE, LT,\n"
"LE, GT, GE, SUBSTR, ISUBSTR; {\"IN\":{FIELD:[VALUE,...]}}; {\"AND\":[COND,...]},\n"
"{\"OR\":[COND,...]}, {\"NOT\":COND}.  Several keys in one COND must all hold.\n"
"\n"
"Results: {\"ok\":ROW}, {\"ok\":[ROW,...]} or {\"ok\":null}; on failure\n"
"{\"error\":KIND,\"message\":TEXT} with KIND one of validation, not_found,\n"
"constraint, corrupt, bad_request, io.  A line that is not a valid request\n"
"gets bad_request, naming the line number and the key; the run goes on.\n"
"\n"
"Exit status: 0 when standard input ends (even if operations failed),\n"
"1 when DIR or FILE cannot be opened or reading or writing fails,\n"
"2 on a usage error.\n", out);
}

/* Parse argv into *dir and *schema_path (NULL when not given); returns -1
 * to go on, else the exit status. */
static int parse_args(int argc, char **argv, const char **dir,
                      const char **schema_path)
{
    static const struct option longopts[] = {
        { "schema", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola exec", exec_usage, "s:", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cli.status;
        *schema_path = optarg; /* 's', the only option */
    }
    if ((c = cli_operands(&cli, argc, argv, 1, 1, "DIR")))
        return c;
    *dir = argv[optind];
    return -1;
}

/* "bazoola: WHAT: message", WHAT left out when the engine's message
 * already names it. */
static void report_open_error(const char *what, int rc)
{
    const char *msg = bz_errmsg();

    if (!*msg)
        msg = bz_strerror(rc);
    if (strstr(msg, what))
        fprintf(stderr, "bazoola: %s\n", msg);
    else
        fprintf(stderr, "bazoola: %s: %s\n", what, msg);
}

/* Without a schema there is nothing to create: a mistyped DIR must fail,
 * not leave an empty data directory behind. */
static int open_recorded(const char *dir, bz_db **db)
{
    bz_options *opts = bz_options_new();
    int rc = opts ? bz_options_set_create(opts, 0) : BZ_ENOMEM;

    if (rc == BZ_OK)
        rc = bz_open_recorded(dir, opts, db);
    if (rc != BZ_OK)
        report_open_error(dir, rc); /* before a bz_ call resets the error */
    if (opts)
        bz_options_free(opts);
    return rc;
}

static int open_db(const char *dir, const char *schema_path, bz_db **db)
{
    bz_schema *schema;
    int rc;

    if (!schema_path)
        return open_recorded(dir, db);
    rc = bz_schema_load(schema_path, &schema);
    if (rc != BZ_OK) {
        report_open_error(schema_path, rc);
        return rc;
    }
    rc = bz_open(dir, schema, NULL, db);
    if (rc != BZ_OK)
        report_open_error(dir, rc);
    bz_schema_free(schema);
    return rc;
}

int exec_main(int argc, char **argv)
{
    const char *dir = NULL, *schema_path = NULL;
    struct exec_ctx x = { 0 };
    int status = parse_args(argc, argv, &dir, &schema_path);

    if (status >= 0)
        return status;
    if (open_db(dir, schema_path, &x.db) != BZ_OK)
        return BZ_EXIT_FAIL;
    status = run_lines(&x);
    bz_close(x.db);
    return status;
}
