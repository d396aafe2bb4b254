/*
 * cond.c - EQ NE LT LE GT GE SUBSTR ISUBSTR IN, and AND OR NOT.
 *
 * Semantics follow 0.0.7's Python classes: every pair of a leaf must hold;
 * a NULL field value fails LT/GT/SUBSTR/ISUBSTR (and every other leaf op),
 * except that EQ with a NULL value asks "is NULL" and NE with a NULL value
 * asks "is not NULL", as Python's == and != would.  Strings compare as
 * Python's str does (code point order, which is UTF-8 byte order).  SUBSTR
 * and ISUBSTR look in the decimal text of integer fields; ISUBSTR folds case
 * with full Unicode lower-casing (libunistring), like str.lower().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>

#include "cond.h"
#include "err.h"

enum { NODE_LEAF, NODE_AND, NODE_OR, NODE_NOT };

struct cpair {
    char *field;
    enum bz_vkind kind;
    int64_t i;
    char *s;
    size_t len;
};

struct bz_cond {
    int node;
    bz_op op;
    struct cpair *p;
    int n, cap;
    bz_cond *a, *b;
};

struct cc_pair {
    int field;
    enum bz_vkind kind;
    int64_t i;
    char *s;        /* owned; for ISUBSTR the folded needle */
    size_t len;
    /* BZ_IN: the allowed values */
    struct cc_pair *in;
    int nin;
};

struct bz_ccond {
    int node;
    bz_op op;
    struct cc_pair *p;
    int n;
    bz_ccond *a, *b;
    bool has_pf;           /* set on the root only */
    bz_prefilter pf;
};

/* ---- building ------------------------------------------------------ */

bz_cond *bz_cond_new(bz_op op)
{
    if (op < BZ_EQ || op > BZ_IN)
        return NULL;
    bz_cond *c = calloc(1, sizeof(*c));
    if (c) {
        c->node = NODE_LEAF;
        c->op = op;
    }
    return c;
}

static bz_cond *node(int kind, bz_cond *a, bz_cond *b)
{
    if (!a || (kind != NODE_NOT && !b)) {
        bz_cond_free(a);
        bz_cond_free(b);
        return NULL;
    }
    bz_cond *c = calloc(1, sizeof(*c));
    if (!c) {
        bz_cond_free(a);
        bz_cond_free(b);
        return NULL;
    }
    c->node = kind;
    c->a = a;
    c->b = b;
    return c;
}

bz_cond *bz_cond_and(bz_cond *a, bz_cond *b) { return node(NODE_AND, a, b); }
bz_cond *bz_cond_or(bz_cond *a, bz_cond *b) { return node(NODE_OR, a, b); }
bz_cond *bz_cond_not(bz_cond *a) { return node(NODE_NOT, a, NULL); }

void bz_cond_free(bz_cond *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        free(c->p[i].field);
        free(c->p[i].s);
    }
    free(c->p);
    bz_cond_free(c->a);
    bz_cond_free(c->b);
    free(c);
}

/* A copy of len bytes with a NUL after them: needles may hold NULs of
 * their own (0.0.7 searches any Python str), so nothing may strlen them. */
static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static int cond_add(bz_cond *c, const char *field, enum bz_vkind kind,
                    int64_t i, const char *s, size_t len, bool in)
{
    bz__err_clear();
    if (!c || !field || c->node != NODE_LEAF || (kind == BZ_V_STR && !s))
        return bz__err(BZ_EINVAL, "bz_cond_add: bad argument");
    if (in != (c->op == BZ_IN))
        return bz__err(BZ_EINVAL, in ? "bz_cond_add_in_*: the condition is not IN"
                                     : "IN conditions take bz_cond_add_in_*");
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 4;
        struct cpair *n = realloc(c->p, (size_t)cap * sizeof(*n));
        if (!n)
            return bz__nomem();
        c->p = n;
        c->cap = cap;
    }
    struct cpair *p = &c->p[c->n];
    memset(p, 0, sizeof(*p));
    p->field = strdup(field);
    if (s) {
        p->len = len;
        p->s = memdup0(s, len);
    }
    if (!p->field || (s && !p->s)) {
        free(p->field);
        free(p->s);
        return bz__nomem();
    }
    p->kind = kind;
    p->i = i;
    c->n++;
    return BZ_OK;
}

int bz_cond_add_int(bz_cond *c, const char *f, int64_t v)
{
    return cond_add(c, f, BZ_V_INT, v, NULL, 0, false);
}
int bz_cond_add_str(bz_cond *c, const char *f, const char *v)
{
    return cond_add(c, f, BZ_V_STR, 0, v, v ? strlen(v) : 0, false);
}
int bz_cond_add_strn(bz_cond *c, const char *f, const char *v, size_t len)
{
    return cond_add(c, f, BZ_V_STR, 0, v, len, false);
}
int bz_cond_add_null(bz_cond *c, const char *f)
{
    return cond_add(c, f, BZ_V_NULL, 0, NULL, 0, false);
}
int bz_cond_add_in_int(bz_cond *c, const char *f, int64_t v)
{
    return cond_add(c, f, BZ_V_INT, v, NULL, 0, true);
}
int bz_cond_add_in_str(bz_cond *c, const char *f, const char *v)
{
    return cond_add(c, f, BZ_V_STR, 0, v, v ? strlen(v) : 0, true);
}
int bz_cond_add_in_strn(bz_cond *c, const char *f, const char *v, size_t len)
{
    return cond_add(c, f, BZ_V_STR, 0, v, len, true);
}

/* ---- compiling ----------------------------------------------------- */

static const char *op_name(bz_op op)
{
    static const char *names[] = {"?", "EQ", "NE", "LT", "LE", "GT", "GE",
                                  "SUBSTR", "ISUBSTR", "IN"};
    return op >= BZ_EQ && op <= BZ_IN ? names[op] : "?";
}

void bz__ccond_free(bz_ccond *cc)
{
    if (!cc)
        return;
    for (int i = 0; i < cc->n; i++) {
        free(cc->p[i].s);
        for (int k = 0; k < cc->p[i].nin; k++)
            free(cc->p[i].in[k].s);
        free(cc->p[i].in);
    }
    free(cc->p);
    bz__ccond_free(cc->a);
    bz__ccond_free(cc->b);
    free(cc);
}

static char *fold(const char *s, size_t len, size_t *outlen)
{
    size_t n = 0;
    uint8_t *r = u8_tolower((const uint8_t *)s, len, NULL, NULL, NULL, &n);
    if (!r)
        return NULL;
    char *z = realloc(r, n + 1);
    if (!z) {
        free(r);
        return NULL;
    }
    z[n] = '\0';
    *outlen = n;
    return z;
}

static int check_pair(const bz_tdef *t, bz_op op, const struct cpair *p,
                      int field)
{
    const bz_fdef *f = &t->fields[field];
    bool int_field = bz__kind_is_int(f->kind);
    if (p->kind == BZ_V_NULL) {
        if (op == BZ_EQ || op == BZ_NE)
            return BZ_OK;
        return bz__err(BZ_EINVAL, "condition %s on '%s': NULL only works with "
                       "EQ and NE", op_name(op), f->name);
    }
    if (op == BZ_SUBSTR || op == BZ_ISUBSTR) {
        if (p->kind != BZ_V_STR)
            return bz__err(BZ_EINVAL, "condition %s on '%s': the value must "
                           "be a string", op_name(op), f->name);
        return BZ_OK;
    }
    if (int_field && p->kind != BZ_V_INT)
        return bz__err(BZ_EINVAL, "condition %s on '%s': the field is an "
                       "integer, the value is not", op_name(op), f->name);
    if (!int_field && p->kind != BZ_V_STR)
        return bz__err(BZ_EINVAL, "condition %s on '%s': the field is a "
                       "string, the value is not", op_name(op), f->name);
    return BZ_OK;
}

static int compile_leaf(const bz_cond *c, const bz_tdef *t, bz_ccond *cc)
{
    if (c->n == 0)
        return bz__err(BZ_EINVAL, "condition %s has no fields", op_name(c->op));
    cc->p = calloc((size_t)c->n, sizeof(*cc->p));
    if (!cc->p)
        return bz__nomem();
    int rc;
    for (int i = 0; i < c->n; i++) {
        const struct cpair *p = &c->p[i];
        int field = bz__tdef_find_field(t, p->field);
        if (field < 0)
            return bz__err(BZ_EINVAL, "condition %s: table '%s' has no "
                           "field '%s'", op_name(c->op), t->name, p->field);
        if ((rc = check_pair(t, c->op, p, field)))
            return rc;
        /* IN: pairs on one field gather into one entry. */
        struct cc_pair *q = NULL;
        if (c->op == BZ_IN)
            for (int k = 0; k < cc->n; k++)
                if (cc->p[k].field == field)
                    q = &cc->p[k];
        if (!q) {
            q = &cc->p[cc->n++];
            q->field = field;
            q->kind = p->kind;
            q->i = p->i;
        }
        struct cc_pair *dst = q;
        if (c->op == BZ_IN) {
            struct cc_pair *n = realloc(q->in, (size_t)(q->nin + 1) * sizeof(*n));
            if (!n)
                return bz__nomem();
            q->in = n;
            dst = &q->in[q->nin++];
            memset(dst, 0, sizeof(*dst));
            dst->kind = p->kind;
            dst->i = p->i;
        }
        if (p->kind == BZ_V_STR) {
            if (c->op == BZ_ISUBSTR)
                dst->s = fold(p->s, p->len, &dst->len);
            else {
                dst->s = memdup0(p->s, p->len);
                dst->len = p->len;
            }
            if (!dst->s)
                return bz__nomem();
        }
    }
    return BZ_OK;
}

static int compile_node(const bz_cond *c, const bz_tdef *t, bz_ccond **out);

static bool ascii_only(const char *s, size_t len);

/* The first SUBSTR/ISUBSTR pair that every match must satisfy (the leaf
 * itself, or a leaf reached through ANDs), on a CHAR field: on an integer
 * field it looks at the decimal text, not the bytes, and a TEXT field's
 * bytes live in another file.  An ISUBSTR needle must fold to ASCII, so
 * that ASCII-lowering the row bytes finds every match in ASCII rows (rows
 * with other bytes are let through to the full test). */
static const struct cc_pair *find_pf(const bz_ccond *cc, const bz_tdef *t,
                                     bz_op *op)
{
    if (!cc)
        return NULL;
    if (cc->node == NODE_AND) {
        const struct cc_pair *p = find_pf(cc->a, t, op);
        return p ? p : find_pf(cc->b, t, op);
    }
    if (cc->node != NODE_LEAF ||
        (cc->op != BZ_SUBSTR && cc->op != BZ_ISUBSTR))
        return NULL;
    for (int i = 0; i < cc->n; i++) {
        const struct cc_pair *p = &cc->p[i];
        if (t->fields[p->field].kind != BZ_CHAR || p->kind != BZ_V_STR ||
            p->len == 0 || memchr(p->s, '\0', p->len))
            continue;
        if (cc->op == BZ_ISUBSTR && !ascii_only(p->s, p->len))
            continue;
        *op = cc->op;
        return p;
    }
    return NULL;
}

int bz__cond_compile(const bz_cond *c, const bz_tdef *t, bz_ccond **out)
{
    int rc = compile_node(c, t, out);
    if (rc || !*out)
        return rc;
    bz_op op;
    const struct cc_pair *p = find_pf(*out, t, &op);
    if (p) {
        bz_prefilter *pf = &(*out)->pf;
        (*out)->has_pf = true;
        pf->off = t->fields[p->field].off;
        pf->width = t->fields[p->field].width;
        pf->needle = p->s;
        pf->len = p->len;
        pf->fold = op == BZ_ISUBSTR;
    }
    return BZ_OK;
}

static int compile_node(const bz_cond *c, const bz_tdef *t, bz_ccond **out)
{
    *out = NULL;
    if (!c)
        return BZ_OK;
    bz_ccond *cc = calloc(1, sizeof(*cc));
    if (!cc)
        return bz__nomem();
    cc->node = c->node;
    cc->op = c->op;
    int rc;
    if (c->node == NODE_LEAF)
        rc = compile_leaf(c, t, cc);
    else {
        rc = compile_node(c->a, t, &cc->a);
        if (!rc && c->b)
            rc = compile_node(c->b, t, &cc->b);
    }
    if (rc) {
        bz__ccond_free(cc);
        return rc;
    }
    *out = cc;
    return BZ_OK;
}

/* ---- evaluating ---------------------------------------------------- */

static int cmp_str(const char *a, size_t al, const char *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    if (r)
        return r;
    return al < bl ? -1 : al > bl;
}

static bool ascii_only(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* needle (already folded) in fold(hay)? */
static bool isubstr(const char *hay, size_t hl, const char *needle, size_t nl)
{
    if (nl == 0)
        return true;
    if (ascii_only(hay, hl)) {
        char small[512];
        char *buf = hl <= sizeof small ? small : malloc(hl);
        if (!buf)
            return false;
        for (size_t i = 0; i < hl; i++) {
            char ch = hay[i];
            buf[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
        }
        bool r = memmem(buf, hl, needle, nl) != NULL;
        if (buf != small)
            free(buf);
        return r;
    }
    uint8_t small[1024];
    size_t n = sizeof small;
    uint8_t *f = u8_tolower((const uint8_t *)hay, hl, NULL, NULL, small, &n);
    if (!f)
        return false;
    bool r = memmem(f, n, needle, nl) != NULL;
    if (f != small)
        free(f);
    return r;
}

static bool pair_holds(bz_op op, const struct cc_pair *p, const bz_fdef *f,
                       const bz_fval *v)
{
    if (p->kind == BZ_V_NULL)
        return op == BZ_EQ ? v->null : !v->null;
    if (v->null)
        return false;
    bool int_field = bz__kind_is_int(f->kind);
    if (op == BZ_SUBSTR || op == BZ_ISUBSTR) {
        const char *hay = v->s;
        size_t hl = v->len;
        char num[24];
        if (int_field) {
            hl = bz__fmt_int(num, v->i);
            hay = num;
        }
        if (op == BZ_SUBSTR)
            return p->len == 0 || memmem(hay, hl, p->s, p->len) != NULL;
        return isubstr(hay, hl, p->s, p->len);
    }
    if (op == BZ_IN) {
        for (int k = 0; k < p->nin; k++)
            if (pair_holds(BZ_EQ, &p->in[k], f, v))
                return true;
        return false;
    }
    int c = int_field ? (v->i > p->i) - (v->i < p->i)
                      : cmp_str(v->s, v->len, p->s, p->len);
    switch (op) {
    case BZ_EQ: return c == 0;
    case BZ_NE: return c != 0;
    case BZ_LT: return c < 0;
    case BZ_LE: return c <= 0;
    case BZ_GT: return c > 0;
    case BZ_GE: return c >= 0;
    default: return false;
    }
}

int bz__ccond_eval(const bz_ccond *cc, const bz_tdef *t, bz_fval *vals,
                   bz_text_fn text, void *ctx)
{
    int r;
    switch (cc->node) {
    case NODE_AND:
        r = bz__ccond_eval(cc->a, t, vals, text, ctx);
        return r != 1 ? r : bz__ccond_eval(cc->b, t, vals, text, ctx);
    case NODE_OR:
        r = bz__ccond_eval(cc->a, t, vals, text, ctx);
        return r != 0 ? r : bz__ccond_eval(cc->b, t, vals, text, ctx);
    case NODE_NOT:
        r = bz__ccond_eval(cc->a, t, vals, text, ctx);
        return r < 0 ? r : !r;
    }
    for (int i = 0; i < cc->n; i++) {
        const struct cc_pair *p = &cc->p[i];
        const bz_fdef *f = &t->fields[p->field];
        if (f->kind == BZ_TEXT && !vals[p->field].null) {
            int rc = text(ctx, p->field);
            if (rc)
                return -rc;
        }
        if (!pair_holds(cc->op, p, f, &vals[p->field]))
            return 0;
    }
    return 1;
}

/* ---- the prefilter ------------------------------------------------- */

const bz_prefilter *bz__ccond_prefilter(const bz_ccond *cc)
{
    return cc && cc->has_pf ? &cc->pf : NULL;
}

/* Eight bytes lowered at once (bytes >= 0x80 untouched); *high collects
 * their top bits.  The usual SWAR range test: for each byte b < 0x80,
 * b + (0x80 - 'A') has its top bit set iff b >= 'A', b + (0x7f - 'Z') iff
 * b > 'Z'. */
static inline uint64_t lower8(uint64_t x, uint64_t *high)
{
    const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
    uint64_t h7 = x & ~top;
    uint64_t ge_a = h7 + ones * (0x80 - 'A');
    uint64_t gt_z = h7 + ones * (0x7f - 'Z');
    uint64_t upper = (ge_a ^ gt_z) & ~x & top;
    *high |= x;
    return x | (upper >> 2);
}

/* The field of every row is laid out in `fold`, lowered for ISUBSTR, each
 * followed by a NUL; one memmem over that finds the candidates of the whole
 * chunk, and since needles hold no NUL a hit never spans two rows.  A hit
 * may still run into a value's padding: the full test sorts that out. */
void bz__prefilter_run(const bz_prefilter *pf, const char *buf, int row_size,
                       int64_t nrows, char *fold, unsigned char *cand)
{
    size_t w = (size_t)pf->width, stride = w + 1;
    memset(cand, 0, (size_t)nrows);
    char *dst = fold;
    for (int64_t k = 0; k < nrows; k++, dst += stride) {
        const char *src = buf + (size_t)k * (size_t)row_size + (size_t)pf->off;
        if (!pf->fold) {
            memcpy(dst, src, w);
            dst[w] = '\0';
            continue;
        }
        uint64_t high = 0;
        size_t i = 0;
        for (; i + 8 <= w; i += 8) {
            uint64_t x;
            memcpy(&x, src + i, 8);
            x = lower8(x, &high);
            memcpy(dst + i, &x, 8);
        }
        for (; i < w; i++) {
            unsigned char c = (unsigned char)src[i];
            high |= c;
            dst[i] = (char)((unsigned char)(c - 'A') < 26 ? c | 0x20 : c);
        }
        dst[w] = '\0';
        /* Non-ASCII text can lower-case into ASCII (KELVIN SIGN -> k):
         * such rows go to the full test. */
        if (high & 0x8080808080808080ULL)
            cand[k] = 1;
    }
    size_t total = stride * (size_t)nrows, pos = 0;
    while (pos + pf->len <= total) {
        const char *h = memmem(fold + pos, total - pos, pf->needle, pf->len);
        if (!h)
            break;
        size_t k = (size_t)(h - fold) / stride;
        cand[k] = 1;
        pos = (k + 1) * stride;
    }
}
