/*
 * schema.c - schemas from C structures and from the schema text format.
 *
 * Both front ends build the same intermediate (a list of table and field
 * definitions with names still unresolved) and share schema_finish(), which
 * enforces invariants S1-S6 of schema.h, so the two can never disagree.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "schema.h"

/* A field before FK names are resolved. */
struct pfield {
    char *name;
    bz_kind kind;
    int size;      /* CHAR(n), INT(n); 0 for plain INT */
    char *ref;
    bool nullable;
    int line, col; /* for messages; 0 when built from C structs */
};

struct ptable {
    char *name;
    struct pfield *fields;
    int nfields, cap;
    int line;
};

struct pschema {
    struct ptable *tables;
    int ntables, cap;
};

bool bz__is_identifier(const char *s, size_t len)
{
    if (len == 0 || len > BZ_NAME_MAX)
        return false;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

static void pschema_free(struct pschema *p)
{
    for (int i = 0; i < p->ntables; i++) {
        struct ptable *t = &p->tables[i];
        for (int j = 0; j < t->nfields; j++) {
            free(t->fields[j].name);
            free(t->fields[j].ref);
        }
        free(t->fields);
        free(t->name);
    }
    free(p->tables);
}

void bz_schema_free(bz_schema *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ntables; i++) {
        for (int j = 0; j < s->tables[i].nfields; j++)
            free(s->tables[i].fields[j].name);
        free(s->tables[i].fields);
        free(s->tables[i].name);
    }
    free(s->tables);
    free(s);
}

static const char *kind_name(bz_kind k)
{
    switch (k) {
    case BZ_PK: return "PK";
    case BZ_INT: return "INT";
    case BZ_CHAR: return "CHAR";
    case BZ_TEXT: return "TEXT";
    case BZ_FK: return "FK";
    }
    return "?";
}

/* "line 3, column 7: " or "" for schemas built from C structures. */
static const char *where(char *buf, size_t n, int line, int col)
{
    if (line <= 0)
        return "";
    if (col > 0)
        snprintf(buf, n, "line %d, column %d: ", line, col);
    else
        snprintf(buf, n, "line %d: ", line);
    return buf;
}

static int check_name(const char *what, const char *name, int line, int col)
{
    char w[64];
    if (!name)
        return bz__err(BZ_ESCHEMA, "%s%s name missing",
                       where(w, sizeof w, line, col), what);
    size_t len = strlen(name);
    if (len == 0)
        return bz__err(BZ_ESCHEMA, "%sempty %s name",
                       where(w, sizeof w, line, col), what);
    if (len > BZ_NAME_MAX)
        return bz__err(BZ_ESCHEMA, "%s%s name '%.64s...' is longer than %d bytes",
                       where(w, sizeof w, line, col), what, name, BZ_NAME_MAX);
    if (!bz__is_identifier(name, len))
        return bz__err(BZ_ESCHEMA,
                       "%s%s name '%s' is not an identifier "
                       "([A-Za-z_][A-Za-z0-9_]*): names become file names "
                       "and may not contain '/', '.' or other characters",
                       where(w, sizeof w, line, col), what, name);
    return BZ_OK;
}

/* Enforce S1-S6 and build the final schema. */
static int schema_finish(struct pschema *p, bz_schema **out)
{
    char w[64];
    int rc;
    if (p->ntables == 0)
        return bz__err(BZ_ESCHEMA, "the schema has no tables");
    for (int i = 0; i < p->ntables; i++) {
        struct ptable *t = &p->tables[i];
        if ((rc = check_name("table", t->name, t->line, 0)))
            return rc;
        if (strstr(t->name, "__"))
            return bz__err(BZ_ESCHEMA,
                           "%stable name '%s' contains \"__\", which would "
                           "clash with the file names of other tables "
                           "(T__seqnum.dat, T__id.idx.dat, T__free.dat)",
                           where(w, sizeof w, t->line, 0), t->name);
        for (int k = 0; k < i; k++)
            if (strcmp(p->tables[k].name, t->name) == 0)
                return bz__err(BZ_ESCHEMA, "%stable '%s' is defined twice",
                               where(w, sizeof w, t->line, 0), t->name);
        if (t->nfields == 0)
            return bz__err(BZ_ESCHEMA, "%stable '%s' has no fields",
                           where(w, sizeof w, t->line, 0), t->name);
        int npk = 0;
        for (int j = 0; j < t->nfields; j++) {
            struct pfield *f = &t->fields[j];
            if ((rc = check_name("field", f->name, f->line, f->col)))
                return rc;
            for (int k = 0; k < j; k++)
                if (strcmp(t->fields[k].name, f->name) == 0)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': field '%s' is defined twice",
                                   where(w, sizeof w, f->line, f->col),
                                   t->name, f->name);
            switch (f->kind) {
            case BZ_PK:
                npk++;
                if (strcmp(f->name, "id") != 0)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': the PK field must be named "
                                   "'id', not '%s'",
                                   where(w, sizeof w, f->line, f->col),
                                   t->name, f->name);
                if (f->nullable)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': the PK field cannot be NULL",
                                   where(w, sizeof w, f->line, f->col), t->name);
                break;
            case BZ_CHAR:
                if (f->size < 1 || f->size > BZ_CHAR_MAX)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': field '%s': CHAR size %d is "
                                   "out of range 1..%d",
                                   where(w, sizeof w, f->line, f->col), t->name,
                                   f->name, f->size, BZ_CHAR_MAX);
                break;
            case BZ_FK: {
                if (!f->ref || !*f->ref)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': field '%s': FK without a table",
                                   where(w, sizeof w, f->line, f->col), t->name,
                                   f->name);
                int found = 0;
                for (int k = 0; k < p->ntables; k++)
                    found |= p->tables[k].name &&
                             strcmp(p->tables[k].name, f->ref) == 0;
                if (!found)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': field '%s': FK to unknown "
                                   "table '%s'",
                                   where(w, sizeof w, f->line, f->col), t->name,
                                   f->name, f->ref);
                break;
            }
            case BZ_INT:
                if (f->size == 0)
                    f->size = BZ_INT_WIDTH;
                if (f->size < 1 || f->size > BZ_INTN_MAX)
                    return bz__err(BZ_ESCHEMA,
                                   "%stable '%s': field '%s': INT size %d is "
                                   "out of range 1..%d",
                                   where(w, sizeof w, f->line, f->col), t->name,
                                   f->name, f->size, BZ_INTN_MAX);
                break;
            case BZ_TEXT:
                break;
            default:
                return bz__err(BZ_ESCHEMA,
                               "%stable '%s': field '%s': unknown kind %d",
                               where(w, sizeof w, f->line, f->col), t->name,
                               f->name, (int)f->kind);
            }
        }
        if (npk != 1)
            return bz__err(BZ_ESCHEMA,
                           "%stable '%s' must have exactly one PK field "
                           "named 'id' (it has %d)",
                           where(w, sizeof w, t->line, 0), t->name, npk);
    }

    bz_schema *s = calloc(1, sizeof(*s));
    if (!s)
        return bz__nomem();
    s->tables = calloc((size_t)p->ntables, sizeof(bz_tdef));
    if (!s->tables)
        goto fail_nomem;
    s->ntables = p->ntables;
    for (int i = 0; i < p->ntables; i++) {
        struct ptable *pt = &p->tables[i];
        bz_tdef *t = &s->tables[i];
        t->name = strdup(pt->name);
        t->fields = calloc((size_t)pt->nfields, sizeof(bz_fdef));
        if (!t->name || !t->fields)
            goto fail_nomem;
        t->nfields = pt->nfields;
        int off = 0;
        for (int j = 0; j < pt->nfields; j++) {
            struct pfield *pf = &pt->fields[j];
            bz_fdef *f = &t->fields[j];
            f->name = strdup(pf->name);
            if (!f->name)
                goto fail_nomem;
            f->kind = pf->kind;
            f->nullable = pf->nullable;
            f->width = pf->kind == BZ_CHAR || pf->kind == BZ_INT
                           ? pf->size : BZ_INT_WIDTH;
            f->off = off;
            off += f->width;
            f->ref = -1;
            if (pf->kind == BZ_FK)
                for (int k = 0; k < p->ntables; k++)
                    if (strcmp(p->tables[k].name, pf->ref) == 0)
                        f->ref = k;
            if (pf->kind == BZ_PK)
                t->id_field = j;
            if (pf->kind == BZ_TEXT)
                t->ntext++;
        }
        t->row_size = off + 1;
    }
    *out = s;
    return BZ_OK;

fail_nomem:
    bz_schema_free(s);
    return bz__nomem();
}

static int ptable_add_field(struct ptable *t, struct pfield *f)
{
    if (t->nfields == t->cap) {
        int cap = t->cap ? t->cap * 2 : 8;
        struct pfield *n = realloc(t->fields, (size_t)cap * sizeof(*n));
        if (!n)
            return bz__nomem();
        t->fields = n;
        t->cap = cap;
    }
    t->fields[t->nfields++] = *f;
    return BZ_OK;
}

static struct ptable *pschema_add_table(struct pschema *p)
{
    if (p->ntables == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        struct ptable *n = realloc(p->tables, (size_t)cap * sizeof(*n));
        if (!n)
            return NULL;
        p->tables = n;
        p->cap = cap;
    }
    struct ptable *t = &p->tables[p->ntables++];
    memset(t, 0, sizeof(*t));
    return t;
}

int bz_schema_from_defs(const bz_table_def *tables, size_t ntables,
                        bz_schema **out)
{
    bz__err_clear();
    if (!out || (!tables && ntables))
        return bz__err(BZ_EINVAL, "bz_schema_from_defs: NULL argument");
    *out = NULL;
    struct pschema p = {0};
    int rc = BZ_OK;
    for (size_t i = 0; i < ntables && rc == BZ_OK; i++) {
        struct ptable *t = pschema_add_table(&p);
        if (!t) {
            rc = bz__nomem();
            break;
        }
        t->name = tables[i].name ? strdup(tables[i].name) : NULL;
        if (tables[i].name && !t->name) {
            rc = bz__nomem();
            break;
        }
        if (!tables[i].fields && tables[i].nfields) {
            rc = bz__err(BZ_EINVAL, "table '%s': fields is NULL",
                         tables[i].name ? tables[i].name : "?");
            break;
        }
        for (size_t j = 0; j < tables[i].nfields && rc == BZ_OK; j++) {
            const bz_field_def *d = &tables[i].fields[j];
            struct pfield f = {0};
            f.name = d->name ? strdup(d->name) : NULL;
            f.ref = d->ref && d->kind == BZ_FK ? strdup(d->ref) : NULL;
            f.kind = d->kind;
            f.size = d->size;
            f.nullable = d->nullable != 0;
            if ((d->name && !f.name) || (d->ref && d->kind == BZ_FK && !f.ref)) {
                free(f.name);
                free(f.ref);
                rc = bz__nomem();
                break;
            }
            if ((rc = ptable_add_field(t, &f))) {
                free(f.name);
                free(f.ref);
            }
        }
    }
    if (rc == BZ_OK)
        rc = schema_finish(&p, out);
    pschema_free(&p);
    return rc;
}

/* ---- the text format ---------------------------------------------- */

struct lexer {
    const char *s, *end;
    const char *line_start;
    int line;
};

static void skip_blanks(struct lexer *lx)
{
    while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' || *lx->s == '\r'))
        lx->s++;
}

static int col(const struct lexer *lx)
{
    return (int)(lx->s - lx->line_start) + 1;
}

/* A run of identifier characters (validated later, with the whole name in
 * the message, so "my-table" is reported as a bad name, not a bad ':'). */
static char *take_word(struct lexer *lx)
{
    const char *b = lx->s;
    while (lx->s < lx->end && *lx->s != ':' && *lx->s != ',' &&
           *lx->s != '(' && *lx->s != ')' && *lx->s != ' ' &&
           *lx->s != '\t' && *lx->s != '\r' && *lx->s != '\n' &&
           *lx->s != '#')
        lx->s++;
    return strndup(b, (size_t)(lx->s - b));
}

/* "(arg)" after a type name; *arg is malloc'd, *argcol its column. */
static int parse_paren(struct lexer *lx, const char *ty, char **arg,
                       int *argcol)
{
    char w[64];
    skip_blanks(lx);
    if (lx->s >= lx->end || *lx->s != '(')
        return bz__err(BZ_ESCHEMA, "%sexpected '(' after %s",
                       where(w, sizeof w, lx->line, col(lx)), ty);
    lx->s++;
    skip_blanks(lx);
    *argcol = col(lx);
    if (!(*arg = take_word(lx)))
        return bz__nomem();
    skip_blanks(lx);
    if (lx->s >= lx->end || *lx->s != ')') {
        free(*arg);
        *arg = NULL;
        return bz__err(BZ_ESCHEMA, "%sexpected ')' after %s(...",
                       where(w, sizeof w, lx->line, col(lx)), ty);
    }
    lx->s++;
    return BZ_OK;
}

/* A size in 1..max, or -1. */
static int parse_size(const char *arg, long max)
{
    char *e;
    errno = 0;
    long n = strtol(arg, &e, 10);
    return !*arg || *e || errno || n < 1 || n > max ? -1 : (int)n;
}

static int parse_type(struct lexer *lx, struct pfield *f)
{
    char w[64];
    int c0 = col(lx), ca = 0;
    char *ty = take_word(lx), *arg = NULL;
    if (!ty)
        return bz__nomem();
    int rc = BZ_OK;
    if (strcasecmp(ty, "PK") == 0) {
        f->kind = BZ_PK;
    } else if (strcasecmp(ty, "TEXT") == 0) {
        f->kind = BZ_TEXT;
    } else if (strcasecmp(ty, "INT") == 0) {
        f->kind = BZ_INT;
        /* INT alone is INT(9): look for a size without taking the blanks
         * before a NULL that may follow instead. */
        const char *save = lx->s;
        skip_blanks(lx);
        bool sized = lx->s < lx->end && *lx->s == '(';
        lx->s = save;
        if (sized && (rc = parse_paren(lx, ty, &arg, &ca)) == BZ_OK &&
            (f->size = parse_size(arg, BZ_INTN_MAX)) < 0)
            rc = bz__err(BZ_ESCHEMA,
                         "%sfield '%s': INT size '%s' is not a number in "
                         "1..%d", where(w, sizeof w, lx->line, ca), f->name,
                         arg, BZ_INTN_MAX);
    } else if (strcasecmp(ty, "CHAR") == 0) {
        f->kind = BZ_CHAR;
        if ((rc = parse_paren(lx, ty, &arg, &ca)) == BZ_OK &&
            (f->size = parse_size(arg, BZ_CHAR_MAX)) < 0)
            rc = bz__err(BZ_ESCHEMA, "%sCHAR size '%s' is not a number in 1..%d",
                         where(w, sizeof w, lx->line, ca), arg, BZ_CHAR_MAX);
    } else if (strcasecmp(ty, "FK") == 0) {
        f->kind = BZ_FK;
        if ((rc = parse_paren(lx, ty, &arg, &ca)) == BZ_OK) {
            f->ref = arg;
            arg = NULL;
        }
    } else {
        rc = bz__err(BZ_ESCHEMA,
                     "%sunknown type '%s' (expected PK, INT, INT(n), CHAR(n), "
                     "TEXT or FK(table))",
                     where(w, sizeof w, lx->line, c0), ty);
    }
    free(arg);
    free(ty);
    return rc;
}

static int parse_field(struct lexer *lx, struct ptable *t)
{
    char w[64];
    struct pfield f = {0};
    skip_blanks(lx);
    f.line = lx->line;
    f.col = col(lx);
    f.name = take_word(lx);
    if (!f.name)
        return bz__nomem();
    int rc;
    if (!*f.name) {
        rc = bz__err(BZ_ESCHEMA, "%sexpected a field name",
                     where(w, sizeof w, lx->line, col(lx)));
        goto fail;
    }
    skip_blanks(lx);
    if ((rc = parse_type(lx, &f)))
        goto fail;
    skip_blanks(lx);
    if (lx->s < lx->end && *lx->s != ',' && *lx->s != '\n' && *lx->s != '#') {
        int c = col(lx);
        char *mod = take_word(lx);
        if (!mod) {
            rc = bz__nomem();
            goto fail;
        }
        if (strcasecmp(mod, "NULL") != 0) {
            rc = bz__err(BZ_ESCHEMA, "%sunexpected '%s' after the type of '%s'",
                         where(w, sizeof w, lx->line, c), *mod ? mod : "(",
                         f.name);
            free(mod);
            goto fail;
        }
        free(mod);
        f.nullable = true;
        skip_blanks(lx);
    }
    if ((rc = ptable_add_field(t, &f)))
        goto fail;
    return BZ_OK;
fail:
    free(f.name);
    free(f.ref);
    return rc;
}

static int parse_line(struct lexer *lx, struct pschema *p)
{
    char w[64];
    skip_blanks(lx);
    if (lx->s >= lx->end || *lx->s == '\n' || *lx->s == '#')
        return BZ_OK;
    struct ptable *t = pschema_add_table(p);
    if (!t)
        return bz__nomem();
    t->line = lx->line;
    t->name = take_word(lx);
    if (!t->name)
        return bz__nomem();
    skip_blanks(lx);
    if (lx->s >= lx->end || *lx->s != ':')
        return bz__err(BZ_ESCHEMA, "%sexpected ':' after table name '%s'",
                       where(w, sizeof w, lx->line, col(lx)), t->name);
    lx->s++;
    for (;;) {
        int rc = parse_field(lx, t);
        if (rc)
            return rc;
        if (lx->s < lx->end && *lx->s == ',') {
            lx->s++;
            continue;
        }
        break;
    }
    return BZ_OK;
}

int bz_schema_parse(const char *text, size_t len, bz_schema **out)
{
    bz__err_clear();
    if (!out || (!text && len))
        return bz__err(BZ_EINVAL, "bz_schema_parse: NULL argument");
    *out = NULL;
    if (memchr(text, '\0', len))
        return bz__err(BZ_ESCHEMA, "schema text contains a NUL byte");
    struct pschema p = {0};
    struct lexer lx = {text, text + len, text, 1};
    int rc = BZ_OK;
    while (lx.s < lx.end) {
        if ((rc = parse_line(&lx, &p)))
            break;
        /* The rest of the line must be a comment or nothing. */
        skip_blanks(&lx);
        if (lx.s < lx.end && *lx.s == '#')
            while (lx.s < lx.end && *lx.s != '\n')
                lx.s++;
        if (lx.s < lx.end && *lx.s != '\n') {
            char w[64];
            rc = bz__err(BZ_ESCHEMA, "%sunexpected '%c'",
                         where(w, sizeof w, lx.line, col(&lx)), *lx.s);
            break;
        }
        if (lx.s < lx.end) {
            lx.s++;
            lx.line++;
            lx.line_start = lx.s;
        }
    }
    if (rc == BZ_OK)
        rc = schema_finish(&p, out);
    pschema_free(&p);
    return rc;
}

int bz_schema_load(const char *path, bz_schema **out)
{
    bz__err_clear();
    if (!path || !out)
        return bz__err(BZ_EINVAL, "bz_schema_load: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bz__err_os(errno, "cannot open schema file %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            if (cap > (64u << 20)) {
                free(buf);
                fclose(f);
                return bz__err(BZ_ESCHEMA, "schema file %s is too large", path);
            }
            char *n = realloc(buf, cap);
            if (!n) {
                free(buf);
                fclose(f);
                return bz__nomem();
            }
            buf = n;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return bz__err_os(EIO, "cannot read schema file %s", path);
    }
    int rc = bz_schema_parse(buf ? buf : "", len, out);
    if (rc) {
        /* Say which file the line numbers refer to. */
        char *m = strdup(bz_errmsg());
        if (m) {
            bz__err(rc, "%s: %s", path, m);
            free(m);
        }
    }
    free(buf);
    return rc;
}

/* ---- canonical text and accessors ---------------------------------- */

char *bz__tdef_text(const bz_schema *s, const bz_tdef *t)
{
    size_t cap = 64 + strlen(t->name), len = 0;
    for (int j = 0; j < t->nfields; j++)
        cap += strlen(t->fields[j].name) + 2 * BZ_NAME_MAX + 32;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    len += (size_t)snprintf(b + len, cap - len, "%s:", t->name);
    for (int j = 0; j < t->nfields; j++) {
        const bz_fdef *f = &t->fields[j];
        len += (size_t)snprintf(b + len, cap - len, "%s %s ",
                                j ? "," : "", f->name);
        if (f->kind == BZ_CHAR)
            len += (size_t)snprintf(b + len, cap - len, "CHAR(%d)", f->width);
        else if (f->kind == BZ_INT && f->width != BZ_INT_WIDTH)
            /* Plain INT stays "INT": recorded schemas of existing
             * directories must keep comparing equal. */
            len += (size_t)snprintf(b + len, cap - len, "INT(%d)", f->width);
        else if (f->kind == BZ_FK)
            len += (size_t)snprintf(b + len, cap - len, "FK(%s)",
                                    s->tables[f->ref].name);
        else
            len += (size_t)snprintf(b + len, cap - len, "%s", kind_name(f->kind));
        if (f->nullable)
            len += (size_t)snprintf(b + len, cap - len, " NULL");
    }
    return b;
}

char *bz_schema_text(const bz_schema *s)
{
    if (!s)
        return NULL;
    size_t cap = 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (int i = 0; i < s->ntables; i++) {
        char *line = bz__tdef_text(s, &s->tables[i]);
        if (!line) {
            free(out);
            return NULL;
        }
        size_t l = strlen(line);
        char *n = realloc(out, cap + l + 1);
        if (!n) {
            free(line);
            free(out);
            return NULL;
        }
        out = n;
        cap += l + 1;
        memcpy(out + len, line, l);
        len += l;
        out[len++] = '\n';
        out[len] = '\0';
        free(line);
    }
    return out;
}

int bz__schema_find_table(const bz_schema *s, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0)
            return i;
    return -1;
}

int bz__tdef_find_field(const bz_tdef *t, const char *name)
{
    if (!name)
        return -1;
    for (int j = 0; j < t->nfields; j++)
        if (strcmp(t->fields[j].name, name) == 0)
            return j;
    return -1;
}

bz_schema *bz__schema_dup(const bz_schema *s)
{
    char *text = bz_schema_text(s);
    if (!text)
        return NULL;
    bz_schema *d = NULL;
    (void)bz_schema_parse(text, strlen(text), &d);
    free(text);
    return d;
}

size_t bz_schema_ntables(const bz_schema *s)
{
    return s ? (size_t)s->ntables : 0;
}

const char *bz_schema_table_name(const bz_schema *s, size_t t)
{
    return s && t < (size_t)s->ntables ? s->tables[t].name : NULL;
}

size_t bz_schema_nfields(const bz_schema *s, size_t t)
{
    return s && t < (size_t)s->ntables ? (size_t)s->tables[t].nfields : 0;
}

int bz_schema_field(const bz_schema *s, size_t t, size_t f, bz_field_def *def)
{
    bz__err_clear();
    if (!s || !def || t >= (size_t)s->ntables ||
        f >= (size_t)s->tables[t].nfields)
        return bz__err(BZ_EINVAL, "bz_schema_field: no such table or field");
    const bz_fdef *fd = &s->tables[t].fields[f];
    def->name = fd->name;
    def->kind = fd->kind;
    def->size = fd->kind == BZ_CHAR || fd->kind == BZ_INT ? fd->width : 0;
    def->ref = fd->kind == BZ_FK ? s->tables[fd->ref].name : NULL;
    def->nullable = fd->nullable;
    return BZ_OK;
}
