/*
 * result.h - input values (bz_values) and result rows (bz_row, bz_rows).
 *
 * A bz_row is one allocation: the header, its entries, then the bytes of its
 * strings, so building and freeing a row costs one malloc and one free (plus
 * the nested rows of joins).  Entry names point into the schema or the
 * caller's join list, which outlive the row by contract.
 */
#ifndef BZ_RESULT_H
#define BZ_RESULT_H

#include "codec.h"

enum bz_vkind { BZ_V_NULL, BZ_V_INT, BZ_V_STR, BZ_V_OTHER };

struct bz_value_in {
    char *name;
    enum bz_vkind kind;
    int64_t i;
    char *s;      /* BZ_V_STR: the bytes; BZ_V_OTHER: the repr */
    size_t len;
};

struct bz_values {
    struct bz_value_in *v;
    int n, cap;
};

/* The value given for field, or NULL when absent. */
const struct bz_value_in *bz__values_get(const bz_values *v, const char *field);

struct bz_entry {
    const char *name;
    bz_type type;
    int64_t i;
    const char *s;
    size_t len;
    void *sub;    /* bz_row * (BZ_T_ROW) or bz_rows * (BZ_T_ROWS) */
};

struct bz_row {
    size_t n;     /* entries in use                         */
    size_t cap;   /* entries allocated (fields + joins)     */
    struct bz_entry e[];
};

struct bz_rows {
    size_t n, cap;
    bz_row **v;
};

/* Build a row from decoded fields (TEXT values already resolved into s/len),
 * leaving room for extra join entries. */
bz_row *bz__row_build(const bz_tdef *t, const bz_fval *vals, size_t extra);
/* Add or replace (same name: 0.0.7's dict merge) a join entry; takes
 * ownership of sub (a bz_row *, bz_rows * or NULL). */
void bz__row_set_join(bz_row *r, const char *key, bz_type type, void *sub);
bz_rows *bz__rows_new(void);
int bz__rows_push(bz_rows *rs, bz_row *r);

#endif
