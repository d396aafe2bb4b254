/*
 * schema.h - tables and fields as the engine sees them.
 *
 * Invariants of a bz_schema (established by schema_finish, relied on by all
 * of the engine):
 *   S1. Every table and field name is an identifier [A-Za-z_][A-Za-z0-9_]*
 *       of at most BZ_NAME_MAX bytes; no table name contains "__", so no
 *       table's file names can equal another table's (T__id.idx.dat, ...).
 *   S2. Table names are unique; field names are unique within a table.
 *   S3. Every table has exactly one BZ_PK field and it is named "id".
 *   S4. Every FK names a table of the schema (ref is its index).
 *   S5. off/width describe the row layout: fields back to back in schema
 *       order, then '\n'; row_size is their sum + 1.
 *   S6. width is BZ_INT_WIDTH for PK, FK and TEXT, 1..BZ_INTN_MAX for INT
 *       (BZ_INT_WIDTH when the schema says plain INT), 1..BZ_CHAR_MAX for
 *       CHAR.
 */
#ifndef BZ_SCHEMA_H
#define BZ_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include "bazoola.h"

#define BZ_NAME_MAX 64
#define BZ_INT_WIDTH 9      /* PK, INT, FK, TEXT references            */
/* INT(n): 18 digits is the widest every value of which fits an int64. */
#define BZ_INTN_MAX 18
#define BZ_CHAR_MAX 65535

typedef struct bz_fdef {
    char *name;
    bz_kind kind;
    bool nullable;
    int width;     /* bytes in the row (S6)                             */
    int off;       /* offset in the row                                 */
    int ref;       /* BZ_FK: index of the referenced table, else -1     */
} bz_fdef;

typedef struct bz_tdef {
    char *name;
    bz_fdef *fields;
    int nfields;
    int row_size;
    int id_field;  /* index of the PK field                             */
    int ntext;     /* number of TEXT fields                             */
} bz_tdef;

struct bz_schema {
    bz_tdef *tables;
    int ntables;
};

bool bz__is_identifier(const char *s, size_t len);
int bz__schema_find_table(const bz_schema *s, const char *name);
int bz__tdef_find_field(const bz_tdef *t, const char *name);
bz_schema *bz__schema_dup(const bz_schema *s);
/* The canonical text of one table ("name: f TYPE, ..."), malloc'd. */
char *bz__tdef_text(const bz_schema *s, const bz_tdef *t);
static inline bool bz__kind_is_int(bz_kind k)
{
    return k == BZ_PK || k == BZ_INT || k == BZ_FK;
}

#endif
