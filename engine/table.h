/*
 * table.h - the five files of one table (0.0.7 format, docs/file-format.md).
 *
 * Invariants of a healthy table T (row size R, checked where read):
 *   T1. T.dat holds whole rows: size % R == 0.  Row r lives at r*R.  A row is
 *       live (fields, then '\n') or deleted ('*' x R-1, then '\n').
 *   T2. T__id.idx.dat holds 9-byte slots, size % 9 == 0.  Slot id-1 is
 *       "#########" (no such id) or the row number of the live row whose PK
 *       is id.  Slots past the end mean "no such id".
 *   T3. T__free.dat is a stack of 9-byte row numbers of deleted rows (top
 *       at the end); every deleted row is on it exactly once.
 *   T4. T__seqnum.dat is the last auto id in decimal, no newline; "0" when
 *       empty.  Any value is legal: explicit ids do not move it, so ids
 *       above it may exist.  An auto id is the smallest id above seqnum
 *       whose slot is empty, and becomes the new seqnum.
 *   T5. T.text.dat (tables with TEXT fields) holds records "%-9d" length +
 *       bytes; a live row's TEXT field is the offset of its record.  Records
 *       of deleted values are overwritten with '#'.
 * Readers enforce T1, T2 and T5 for what they touch and report a violation
 * as BZ_ECORRUPT naming table, file and offset.
 */
#ifndef BZ_TABLE_H
#define BZ_TABLE_H

#include "codec.h"
#include "fileio.h"

typedef struct bz_table {
    const bz_tdef *def;
    bz_file dat, seq, idx, fre, txt;  /* txt.fd < 0 without TEXT fields */
} bz_table;

/* Growable scratch memory of one operation. */
typedef struct bz_buf {
    char *p;
    size_t len, cap;
} bz_buf;
int bz__buf_reserve(bz_buf *b, size_t need);
void bz__buf_free(bz_buf *b);

int bz__table_open(bz_table *t, int dirfd, const bz_tdef *def, bool create);
/* The names of the table's files (4, or 5 with TEXT fields): what an open
 * must find room for before it creates any of them. */
#define BZ_TABLE_MAX_FILES 5
#define BZ_FILE_NAME_MAX (BZ_NAME_MAX + 32)
int bz__table_file_names(const bz_tdef *def,
                         char names[BZ_TABLE_MAX_FILES][BZ_FILE_NAME_MAX]);
void bz__table_close(bz_table *t);
/* Shared mode: serve the files through seg, checking them for outside
 * changes first (at attach). */
int bz__table_attach(bz_table *t, struct bz_seg *seg, int dirfd);
/* Shared mode: every file of the table against its baseline (at attach
 * and in check; operations look at each file at its first access). */
int bz__table_check_files(bz_table *t, int dirfd);
/* Check T1-T3 size invariants (used at open and before writing). */
int bz__table_check_sizes(bz_table *t, uint64_t gen);

int bz__table_nrows(bz_table *t, uint64_t gen, int64_t *n);
/* Read rows [first, first+count) into buf (count*R bytes). */
int bz__table_read_rows(bz_table *t, int64_t first, int64_t count, char *buf);
int bz__table_seq_get(bz_table *t, uint64_t gen, int64_t *seq);
/* BZ_OK with *found=false when the id has no row. */
int bz__table_index_get(bz_table *t, uint64_t gen, int64_t id, bool *found,
                        int64_t *rownum);
int bz__table_free_top(bz_table *t, uint64_t gen, bool *found,
                       int64_t *rownum);
/* Read the TEXT record at off; its bytes are appended to b (b->len grows),
 * *start receives their offset in b. */
int bz__table_text_get(bz_table *t, uint64_t gen, int64_t off, bz_buf *b,
                       size_t *start, size_t *len);

/* Read row rownum and decode it; the row must be live with PK id (an index
 * slot pointing elsewhere is corruption).  TEXT values are resolved into
 * text (vals point into rowbuf and text). */
int bz__table_load_row(bz_table *t, uint64_t gen, int64_t rownum, int64_t id,
                       bz_buf *rowbuf, bz_buf *text, bz_fval *vals);
/* Resolve every non-NULL TEXT field of vals into text. */
int bz__table_resolve_texts(bz_table *t, uint64_t gen, bz_fval *vals,
                            bz_buf *text);
/* Find the live row with PK id: *found false when absent. */
int bz__table_find(bz_table *t, uint64_t gen, int64_t id, bool *found,
                   int64_t *rownum, bz_buf *rowbuf, bz_buf *text,
                   bz_fval *vals);
/* Report a row that does not decode. */
int bz__table_bad_row(bz_table *t, int64_t rownum, int bad_field);

#endif
