/*
 * cond.h - conditions, compiled against a table and evaluated on decoded
 * rows without building them.
 */
#ifndef BZ_COND_H
#define BZ_COND_H

#include "codec.h"
#include "result.h"

/* A condition bound to one table: field names resolved, value types
 * checked, ISUBSTR needles already case-folded. */
typedef struct bz_ccond bz_ccond;

/* Fetches the text of TEXT field j of the row being evaluated (fills
 * vals[j].s/len); returns BZ_OK or an error code. */
typedef int (*bz_text_fn)(void *ctx, int field);

int bz__cond_compile(const bz_cond *c, const bz_tdef *t, bz_ccond **out);
void bz__ccond_free(bz_ccond *cc);
/* 1 match, 0 no match, <0 -rc (an error from the text fetcher). */
int bz__ccond_eval(const bz_ccond *cc, const bz_tdef *t, bz_fval *vals,
                   bz_text_fn text, void *ctx);

/* A test on a row's raw bytes that every matching row passes: the needle of
 * a SUBSTR or ISUBSTR that must hold (a leaf, or under ANDs only) on a CHAR
 * field.  Scans run it over a whole chunk of rows at once and decode only
 * the rows it lets through, which still meet the full condition.  NULL when
 * the condition has no such pair. */
typedef struct bz_prefilter {
    int off, width;      /* the field's bytes in the row */
    const char *needle;  /* no NUL; folded and ASCII-only when fold */
    size_t len;          /* > 0 */
    bool fold;           /* ISUBSTR: compare ASCII-lowered bytes */
} bz_prefilter;

const bz_prefilter *bz__ccond_prefilter(const bz_ccond *cc);
/* Mark in cand[k] (k < nrows) the rows of buf (nrows rows of row_size bytes)
 * that may match; fold is scratch of (width+1)*nrows bytes. */
void bz__prefilter_run(const bz_prefilter *pf, const char *buf, int row_size,
                       int64_t nrows, char *fold, unsigned char *cand);

#endif
