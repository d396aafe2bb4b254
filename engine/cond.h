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

#endif
