/*
 * check.c - bz_check: every invariant of a directory's files, and the
 * repair of what can be derived from the rows.
 *
 * The rows (T.dat) are the data; the index, the free stack and seqnum are
 * derived from them, so a repair rewrites only those three and never a
 * row.  Everything runs under the writer lock (one acquisition for check,
 * repair and re-check), so the state examined is one that some writer
 * left complete.  The files are read with pread, not through the cache:
 * the files are the truth of a write-through cache, and the cache is then
 * compared with them separately.
 *
 * What is reported: only states that neither 0.0.7 nor the engine can
 * leave behind, so a directory either of them wrote checks clean.  Hence
 * no report for
 *   - seqnum below ids that exist: explicit ids do not move seqnum, and
 *     auto ids step over taken ones, so any numeric seqnum is legal;
 *   - a foreign key naming no live row: deleting the referenced row
 *     leaves it (0.0.7 too), and a Join gives NULL;
 *   - text records no row refers to: 0.0.7 appends a failed insert's
 *     texts before it fails.
 * Severity: an error is a broken invariant the engine relies on (reads
 * fail with BZ_ECORRUPT, or a write could overwrite a live row); a
 * warning is one it does not rely on: a deleted row missing from the free
 * stack only wastes its space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "shm.h"
#include "verify.h"


enum { ROW_LIVE = 0, ROW_DELETED = 1, ROW_BAD = 2 };

#define CHUNK_BYTES (1 << 20)
#define SLOTS_PER_CHUNK 8192

struct idrow {
    int64_t id, row;
};

struct textref {
    int64_t off, row;
    int field;
};

/* What the scan of one table learned. */
struct tstate {
    bz_table *t;
    int64_t dat_size, idx_size, fre_size, txt_size;
    int64_t nrows;
    uint8_t *st;        /* per row: ROW_*                                  */
    int64_t *rid;       /* live: its id; bad: the id its PK field claims
                           (0: none); deleted: 1 + its free-stack entry   */
    struct idrow *ids;  /* live rows by id, then row                      */
    size_t nids;
    int64_t maxid;
    struct textref *refs;
    size_t nrefs, caprefs;
    bool seq_valid;
    int64_t seq;
    bool fix_idx, fix_free, fix_seq, cache_bad;
};

struct chk {
    bz_db *db;
    uint64_t gen;
    const bz_check_cbs *cbs;
    bool quiet;         /* the re-check after a repair: count only        */
    bool stopped;
    int64_t errors, warnings, pages, rows;
    struct tstate *cur; /* for the cache callback                         */
    const char *cur_file;
};

static int report(struct chk *c, const char *table, const char *file,
                  int64_t off, int64_t row, int64_t id, const char *kind,
                  bz_severity sev, bool repairable, const char *fmt, ...)
    BZ_PRINTF(10, 11);

static int report(struct chk *c, const char *table, const char *file,
                  int64_t off, int64_t row, int64_t id, const char *kind,
                  bz_severity sev, bool repairable, const char *fmt, ...)
{
    if (sev == BZ_SEV_ERROR)
        c->errors++;
    else
        c->warnings++;
    if (c->quiet || c->stopped || !c->cbs || !c->cbs->problem)
        return BZ_OK;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bz_problem p = {table, file, off, row, id, kind, sev, repairable, msg};
    if (c->cbs->problem(&p, c->cbs->arg))
        c->stopped = true;
    return BZ_OK;
}

/* Printable copy of n bytes for a message. */
static const char *show(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    out[o] = '\0';
    return out;
}

static int fsize(bz_file *f, int64_t *size)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return bz__err_os(errno, "cannot stat %s", f->name);
    *size = st.st_size;
    return BZ_OK;
}

static void tstate_free(struct tstate *ts)
{
    free(ts->st);
    free(ts->rid);
    free(ts->ids);
    free(ts->refs);
    memset(ts, 0, sizeof(*ts));
}

static int cmp_idrow(const void *a, const void *b)
{
    const struct idrow *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_ref(const void *a, const void *b)
{
    const struct textref *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The first live row with id, or NULL. */
static const struct idrow *find_id(const struct tstate *ts, int64_t id)
{
    size_t lo = 0, hi = ts->nids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts->ids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ts->nids && ts->ids[lo].id == id ? &ts->ids[lo] : NULL;
}

static const char *field_kind_name(const bz_fdef *f)
{
    switch (f->kind) {
    case BZ_CHAR: return f->nullable ? "CHAR or NULL (all NUL bytes)"
                                     : "CHAR (UTF-8, space-padded)";
    case BZ_TEXT: return f->nullable ? "TEXT reference or NULL"
                                     : "TEXT reference";
    case BZ_PK: return "positive id";
    default: return f->nullable ? "integer or NULL" : "non-NULL integer";
    }
}

/* ---- rows ------------------------------------------------------------ */

/* Say what is wrong with a row that does not decode. */
static int report_bad_row(struct chk *c, struct tstate *ts, int64_t r,
                          const char *row, int bad)
{
    const bz_tdef *d = ts->t->def;
    const char *file = ts->t->dat.name;
    int64_t off = r * d->row_size;
    char b[160];
    if (bad < 0) {
        if (row[d->row_size - 1] != '\n')
            return report(c, d->name, file, off + d->row_size - 1, r, 0,
                          "row", BZ_SEV_ERROR, false,
                          "row %lld does not end in a newline (last byte "
                          "'%s'): a torn write or a schema that does not "
                          "match the file", (long long)r,
                          show(row + d->row_size - 1, 1, b, sizeof b));
        return report(c, d->name, file, off, r, 0, "row", BZ_SEV_ERROR, false,
                      "row %lld starts with '*' but is not a deleted row "
                      "(a deleted row is %d '*' and a newline)",
                      (long long)r, d->row_size - 1);
    }
    const bz_fdef *f = &d->fields[bad];
    size_t w = (size_t)f->width < 40 ? (size_t)f->width : 40;
    return report(c, d->name, file, off + f->off, r, 0, "row", BZ_SEV_ERROR,
                  false, "row %lld, field '%s': '%s%s' is not a valid %s",
                  (long long)r, f->name, show(row + f->off, w, b, sizeof b),
                  (size_t)f->width > w ? "..." : "", field_kind_name(f));
}

static int scan_rows(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    const bz_tdef *d = t->def;
    int rc;
    if (ts->dat_size % d->row_size)
        report(c, d->name, t->dat.name, ts->dat_size - ts->dat_size % d->row_size,
               -1, 0, "dat_size", BZ_SEV_ERROR, false,
               "size %lld is not a multiple of the row size %d: the last "
               "%lld bytes are a partial row (a torn append, or a schema "
               "that does not match the file)", (long long)ts->dat_size,
               d->row_size, (long long)(ts->dat_size % d->row_size));
    ts->nrows = ts->dat_size / d->row_size;
    size_t n = (size_t)ts->nrows ? (size_t)ts->nrows : 1;
    ts->st = malloc(n);
    ts->rid = calloc(n, sizeof(int64_t));
    ts->ids = malloc(n * sizeof(struct idrow));
    if (!ts->st || !ts->rid || !ts->ids)
        return bz__nomem();
    int64_t per = CHUNK_BYTES / d->row_size + 1;
    char *buf = malloc((size_t)(per * d->row_size));
    if (!buf)
        return bz__nomem();
    bz_fval vals[d->nfields];
    const bz_fdef *pk = &d->fields[d->id_field];
    for (int64_t r0 = 0; r0 < ts->nrows; r0 += per) {
        int64_t cnt = ts->nrows - r0 < per ? ts->nrows - r0 : per;
        size_t got;
        if ((rc = bz__file_pread(&t->dat, r0 * d->row_size, buf,
                            (size_t)(cnt * d->row_size), &got))) {
            free(buf);
            return rc;
        }
        if (got != (size_t)(cnt * d->row_size)) {
            free(buf);
            return bz__err_os(EIO, "%s shrank while locked", t->dat.name);
        }
        for (int64_t k = 0; k < cnt; k++) {
            int64_t r = r0 + k;
            const char *row = buf + k * d->row_size;
            int bad;
            int s = bz__dec_row(d, row, vals, &bad);
            if (s == 1) {
                ts->st[r] = ROW_DELETED;
                continue;
            }
            if (s < 0) {
                ts->st[r] = ROW_BAD;
                bool null;
                int64_t id;
                /* An index slot naming this row under the id its PK
                 * field still holds is not the index's fault. */
                if (row[0] != '*' && bz__dec_int(row + pk->off, &null, &id) == 0 &&
                    !null && id > 0)
                    ts->rid[r] = id;
                report_bad_row(c, ts, r, row, bad);
                continue;
            }
            ts->st[r] = ROW_LIVE;
            int64_t id = vals[d->id_field].i;
            ts->rid[r] = id;
            ts->ids[ts->nids].id = id;
            ts->ids[ts->nids].row = r;
            ts->nids++;
            if (id > ts->maxid)
                ts->maxid = id;
            for (int j = 0; j < d->nfields; j++) {
                if (d->fields[j].kind != BZ_TEXT || vals[j].null)
                    continue;
                if (ts->nrefs == ts->caprefs) {
                    size_t cap = ts->caprefs ? ts->caprefs * 2 : 64;
                    struct textref *p = realloc(ts->refs, cap * sizeof(*p));
                    if (!p) {
                        free(buf);
                        return bz__nomem();
                    }
                    ts->refs = p;
                    ts->caprefs = cap;
                }
                ts->refs[ts->nrefs++] = (struct textref){vals[j].i, r, j};
            }
        }
        c->rows += cnt;
        if (c->cbs && c->cbs->progress && !c->quiet)
            c->cbs->progress(d->name, r0 + cnt, ts->nrows, c->cbs->arg);
    }
    free(buf);
    if (ts->nids)
        qsort(ts->ids, ts->nids, sizeof(*ts->ids), cmp_idrow);
    for (size_t i = 1; i < ts->nids; i++)
        if (ts->ids[i].id == ts->ids[i - 1].id)
            report(c, d->name, t->dat.name,
                   ts->ids[i].row * d->row_size + pk->off, ts->ids[i].row,
                   ts->ids[i].id, "duplicate_id", BZ_SEV_ERROR, false,
                   "rows %lld and %lld both hold id %lld (only one can be "
                   "found by id; the file must be edited by hand)",
                   (long long)ts->ids[i - 1].row, (long long)ts->ids[i].row,
                   (long long)ts->ids[i].id);
    return BZ_OK;
}

/* ---- the index --------------------------------------------------------- */

/* The row slot id-1 should hold, or -1 for empty.  cur is what the slot
 * holds now (-1: empty or not a number). */
static int64_t desired_slot(const struct tstate *ts, int64_t id, int64_t cur)
{
    const struct idrow *p = find_id(ts, id);
    if (p) {
        for (const struct idrow *q = p; q < ts->ids + ts->nids && q->id == id; q++)
            if (q->row == cur)
                return cur;
        return p->row;
    }
    if (cur >= 0 && cur < ts->nrows && ts->st[cur] == ROW_BAD &&
        ts->rid[cur] == id)
        return cur;
    return -1;
}

/* Parse a slot: 1 empty, 0 a row number in *v, -1 neither. */
static int parse_slot(const char *s, int64_t *v)
{
    if (memcmp(s, "#########", BZ_INT_WIDTH) == 0)
        return 1;
    return bz__dec_uint_padded(s, BZ_INT_WIDTH, v) ? -1 : 0;
}

/* Entries [first, first+cnt) of a file of 9-byte entries (the index, the
 * free stack), which must all be there: the size was taken under the same
 * lock. */
static int read_slots(bz_file *f, int64_t first, int64_t cnt, char *buf)
{
    size_t want = (size_t)cnt * BZ_INT_WIDTH, got;
    int rc = bz__file_pread(f, first * BZ_INT_WIDTH, buf, want, &got);
    if (!rc && got != want)
        rc = bz__err_os(EIO, "%s shrank while locked", f->name);
    return rc;
}

static int check_index(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    const bz_tdef *d = t->def;
    const char *file = t->idx.name;
    int rc;
    if (ts->idx_size % BZ_INT_WIDTH) {
        ts->fix_idx = true;
        report(c, d->name, file, ts->idx_size - ts->idx_size % BZ_INT_WIDTH,
               -1, 0, "index_size", BZ_SEV_ERROR, true,
               "size %lld is not a multiple of the slot size 9: the last "
               "%lld bytes are a partial slot", (long long)ts->idx_size,
               (long long)(ts->idx_size % BZ_INT_WIDTH));
    }
    int64_t nslots = ts->idx_size / BZ_INT_WIDTH;
    char *buf = malloc((size_t)SLOTS_PER_CHUNK * BZ_INT_WIDTH);
    if (!buf)
        return bz__nomem();
    char b[64];
    for (int64_t k0 = 0; k0 < nslots; k0 += SLOTS_PER_CHUNK) {
        int64_t cnt = nslots - k0 < SLOTS_PER_CHUNK ? nslots - k0
                                                    : SLOTS_PER_CHUNK;
        if ((rc = read_slots(&t->idx, k0, cnt, buf))) {
            free(buf);
            return rc;
        }
        for (int64_t k = 0; k < cnt; k++) {
            int64_t id = k0 + k + 1, off = (id - 1) * BZ_INT_WIDTH, v = -1;
            const char *s = buf + k * BZ_INT_WIDTH;
            int p = parse_slot(s, &v);
            const struct idrow *live = find_id(ts, id);
            if (p < 0) {
                ts->fix_idx = true;
                report(c, d->name, file, off, -1, id, "index_slot",
                       BZ_SEV_ERROR, true, "slot of id %lld is '%s', neither "
                       "a row number nor empty ('#########')", (long long)id,
                       show(s, BZ_INT_WIDTH, b, sizeof b));
                continue;
            }
            if (p == 1) {
                if (live) {
                    ts->fix_idx = true;
                    report(c, d->name, file, off, live->row, id,
                           "index_missing", BZ_SEV_ERROR, true,
                           "id %lld (row %lld) has no index slot: its slot "
                           "is empty, so the row cannot be found by id",
                           (long long)id, (long long)live->row);
                }
                continue;
            }
            if (desired_slot(ts, id, v) == v)
                continue;
            ts->fix_idx = true;
            if (v >= ts->nrows)
                report(c, d->name, file, off, v, id, "index_slot",
                       BZ_SEV_ERROR, true, "slot of id %lld points to row "
                       "%lld, past the last row (%lld rows)", (long long)id,
                       (long long)v, (long long)ts->nrows);
            else if (ts->st[v] == ROW_DELETED)
                report(c, d->name, file, off, v, id, "index_slot",
                       BZ_SEV_ERROR, true, "slot of id %lld points to row "
                       "%lld, which is deleted", (long long)id, (long long)v);
            else if (ts->st[v] == ROW_BAD)
                report(c, d->name, file, off, v, id, "index_slot",
                       BZ_SEV_ERROR, true, "slot of id %lld points to row "
                       "%lld, which is damaged and does not hold that id",
                       (long long)id, (long long)v);
            else
                report(c, d->name, file, off, v, id, "index_slot",
                       BZ_SEV_ERROR, true, "slot of id %lld points to row "
                       "%lld, which holds id %lld", (long long)id,
                       (long long)v, (long long)ts->rid[v]);
        }
    }
    free(buf);
    /* Live ids past the end of the index. */
    for (size_t i = 0; i < ts->nids; i++) {
        if (ts->ids[i].id <= nslots || (i && ts->ids[i].id == ts->ids[i - 1].id))
            continue;
        ts->fix_idx = true;
        report(c, d->name, file, (ts->ids[i].id - 1) * BZ_INT_WIDTH,
               ts->ids[i].row, ts->ids[i].id, "index_missing", BZ_SEV_ERROR,
               true, "id %lld (row %lld) has no index slot: the index ends "
               "at id %lld", (long long)ts->ids[i].id,
               (long long)ts->ids[i].row, (long long)nslots);
    }
    return BZ_OK;
}

/* ---- the free stack ---------------------------------------------------- */

static int check_free(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    const bz_tdef *d = t->def;
    const char *file = t->fre.name;
    int rc;
    if (ts->fre_size % BZ_INT_WIDTH) {
        ts->fix_free = true;
        report(c, d->name, file, ts->fre_size - ts->fre_size % BZ_INT_WIDTH,
               -1, 0, "free_size", BZ_SEV_ERROR, true,
               "size %lld is not a multiple of the entry size 9: the last "
               "%lld bytes are a partial entry", (long long)ts->fre_size,
               (long long)(ts->fre_size % BZ_INT_WIDTH));
    }
    int64_t n = ts->fre_size / BZ_INT_WIDTH;
    char *buf = malloc((size_t)SLOTS_PER_CHUNK * BZ_INT_WIDTH);
    if (!buf)
        return bz__nomem();
    char b[64];
    for (int64_t e0 = 0; e0 < n; e0 += SLOTS_PER_CHUNK) {
        int64_t cnt = n - e0 < SLOTS_PER_CHUNK ? n - e0 : SLOTS_PER_CHUNK;
        if ((rc = read_slots(&t->fre, e0, cnt, buf))) {
            free(buf);
            return rc;
        }
        for (int64_t k = 0; k < cnt; k++) {
            int64_t e = e0 + k, off = e * BZ_INT_WIDTH, v;
            const char *s = buf + k * BZ_INT_WIDTH;
            if (bz__dec_uint_padded(s, BZ_INT_WIDTH, &v)) {
                ts->fix_free = true;
                report(c, d->name, file, off, -1, 0, "free_entry",
                       BZ_SEV_ERROR, true, "entry %lld is '%s', not a row "
                       "number", (long long)e,
                       show(s, BZ_INT_WIDTH, b, sizeof b));
                continue;
            }
            if (v >= ts->nrows) {
                ts->fix_free = true;
                report(c, d->name, file, off, v, 0, "free_entry",
                       BZ_SEV_ERROR, true, "entry %lld names row %lld, past "
                       "the last row (%lld rows)", (long long)e, (long long)v,
                       (long long)ts->nrows);
            } else if (ts->st[v] == ROW_LIVE) {
                ts->fix_free = true;
                report(c, d->name, file, off, v, ts->rid[v], "free_entry",
                       BZ_SEV_ERROR, true, "entry %lld names row %lld, which "
                       "is live (id %lld): an insert would overwrite it",
                       (long long)e, (long long)v, (long long)ts->rid[v]);
            } else if (ts->st[v] == ROW_BAD) {
                ts->fix_free = true;
                report(c, d->name, file, off, v, 0, "free_entry",
                       BZ_SEV_ERROR, true, "entry %lld names row %lld, which "
                       "is damaged, not deleted", (long long)e, (long long)v);
            } else if (ts->rid[v]) {
                ts->fix_free = true;
                report(c, d->name, file, off, v, 0, "free_entry",
                       BZ_SEV_ERROR, true, "entry %lld names row %lld, which "
                       "entry %lld already names: two inserts would share "
                       "the row", (long long)e, (long long)v,
                       (long long)(ts->rid[v] - 1));
            } else {
                ts->rid[v] = e + 1;
            }
        }
    }
    free(buf);
    for (int64_t r = 0; r < ts->nrows; r++) {
        if (ts->st[r] != ROW_DELETED || ts->rid[r])
            continue;
        ts->fix_free = true;
        report(c, d->name, t->dat.name, r * d->row_size, r, 0, "free_missing",
               BZ_SEV_WARNING, true, "row %lld is deleted but not on the free "
               "stack %s (its space is never reused)", (long long)r, file);
    }
    return BZ_OK;
}

/* ---- seqnum ------------------------------------------------------------ */

static int check_seq(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    const bz_tdef *d = t->def;
    int64_t sz = 0;
    int rc;
    if ((rc = fsize(&t->seq, &sz)))
        return rc;
    char buf[32], b[140];
    size_t got = 0;
    size_t want = sz < (int64_t)sizeof buf ? (size_t)sz : sizeof buf;
    if ((rc = bz__file_pread(&t->seq, 0, buf, want, &got)))
        return rc;
    ts->seq_valid = sz > 0 && sz < 21 && got == (size_t)sz &&
                    bz__dec_uint_padded(buf, got, &ts->seq) == 0;
    if (!ts->seq_valid) {
        ts->fix_seq = true;
        return report(c, d->name, t->seq.name, 0, -1, 0, "seqnum",
                      BZ_SEV_ERROR, true, "'%s%s' (%lld bytes) is not a "
                      "decimal number: inserts without an id fail",
                      show(buf, got < 24 ? got : 24, b, sizeof b),
                      got > 24 || sz > (int64_t)got ? "..." : "",
                      (long long)sz);
    }
    return BZ_OK;
}

/* ---- TEXT references --------------------------------------------------- */

static int check_texts(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    const bz_tdef *d = t->def;
    if (!d->ntext || !ts->nrefs)
        return BZ_OK;
    qsort(ts->refs, ts->nrefs, sizeof(*ts->refs), cmp_ref);
    bz_buf body = {0};
    int64_t prev_end = -1, prev_off = -1, prev_row = -1;
    int rc = BZ_OK;
    char b[64];
    for (size_t i = 0; i < ts->nrefs && !rc; i++) {
        const struct textref *x = &ts->refs[i];
        const bz_fdef *f = &d->fields[x->field];
        int64_t field_off = x->row * d->row_size + f->off;
        if (x->off == prev_off) {
            report(c, d->name, t->txt.name, x->off, x->row, ts->rid[x->row],
                   "text_shared", BZ_SEV_ERROR, false,
                   "rows %lld and %lld both refer to the text record at "
                   "offset %lld: deleting or updating one erases the "
                   "other's text", (long long)prev_row, (long long)x->row,
                   (long long)x->off);
            continue;
        }
        if (x->off + BZ_INT_WIDTH > ts->txt_size) {
            report(c, d->name, t->dat.name, field_off, x->row,
                   ts->rid[x->row], "text_ref", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': text reference %lld is past the "
                   "end of %s (%lld bytes)", (long long)x->row, f->name,
                   (long long)x->off, t->txt.name, (long long)ts->txt_size);
            continue;
        }
        if (x->off < prev_end)
            report(c, d->name, t->txt.name, x->off, x->row, ts->rid[x->row],
                   "text_overlap", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': text reference %lld points inside "
                   "the record of row %lld (offset %lld)", (long long)x->row,
                   f->name, (long long)x->off, (long long)prev_row,
                   (long long)prev_off);
        prev_off = x->off;
        prev_row = x->row;
        char head[BZ_INT_WIDTH];
        size_t got;
        if ((rc = bz__file_pread(&t->txt, x->off, head, sizeof head, &got)))
            break;
        int64_t n;
        if (memcmp(head, "#########", BZ_INT_WIDTH) == 0) {
            report(c, d->name, t->txt.name, x->off, x->row, ts->rid[x->row],
                   "text_erased", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': the text record at offset %lld "
                   "was erased (overwritten with '#', as a delete does)",
                   (long long)x->row, f->name, (long long)x->off);
            continue;
        }
        if (got != sizeof head || bz__dec_uint_padded(head, sizeof head, &n)) {
            report(c, d->name, t->txt.name, x->off, x->row, ts->rid[x->row],
                   "text_record", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': the length header '%s' of the text "
                   "record at offset %lld is not a number", (long long)x->row,
                   f->name, show(head, got, b, sizeof b), (long long)x->off);
            continue;
        }
        if (n > ts->txt_size - x->off - BZ_INT_WIDTH) {
            report(c, d->name, t->txt.name, x->off, x->row, ts->rid[x->row],
                   "text_record", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': the text record at offset %lld "
                   "claims %lld bytes, past the end of the file (%lld bytes)",
                   (long long)x->row, f->name, (long long)x->off,
                   (long long)n, (long long)ts->txt_size);
            continue;
        }
        prev_end = x->off + BZ_INT_WIDTH + n;
        if ((rc = bz__buf_reserve(&body, (size_t)n + 1)))
            break;
        if ((rc = bz__file_pread(&t->txt, x->off + BZ_INT_WIDTH, body.p, (size_t)n,
                            &got)))
            break;
        if (got != (size_t)n || !bz__utf8_valid(body.p, (size_t)n))
            report(c, d->name, t->txt.name, x->off + BZ_INT_WIDTH, x->row,
                   ts->rid[x->row], "text_record", BZ_SEV_ERROR, false,
                   "row %lld, field '%s': the text record at offset %lld is "
                   "not valid UTF-8", (long long)x->row, f->name,
                   (long long)x->off);
    }
    bz__buf_free(&body);
    return rc;
}

/* ---- the shared cache -------------------------------------------------- */

static void cache_diff(void *arg, int64_t off, const char *msg)
{
    struct chk *c = arg;
    c->cur->cache_bad = true;
    report(c, c->cur->t->def->name, c->cur_file, off, -1, 0, "cache",
           BZ_SEV_ERROR, false, "%s (the file is authoritative: stop the "
           "processes using the directory, or run 'bazoola shm remove')",
           msg);
}

static int check_cache(struct chk *c, struct tstate *ts)
{
    bz_table *t = ts->t;
    bz_file *fs[5] = {&t->dat, &t->seq, &t->idx, &t->fre, &t->txt};
    int n = t->def->ntext ? 5 : 4;
    c->cur = ts;
    for (int i = 0; i < n; i++) {
        if (!fs[i]->seg)
            continue;
        int64_t pages;
        c->cur_file = fs[i]->name;
        int rc = bz__seg_verify_file(fs[i]->seg, fs[i]->slot, fs[i]->fd,
                                     cache_diff, c, &pages);
        if (rc)
            return rc;
        c->pages += pages;
    }
    return BZ_OK;
}

/* ---- one pass over every table ----------------------------------------- */

static int check_all(struct chk *c, struct tstate *ts)
{
    bz_db *db = c->db;
    int nt = db->schema->ntables, rc;
    for (int i = 0; i < nt; i++) {
        struct tstate *s = &ts[i];
        s->t = &db->tables[i];
        if ((rc = fsize(&s->t->dat, &s->dat_size)) ||
            (rc = fsize(&s->t->idx, &s->idx_size)) ||
            (rc = fsize(&s->t->fre, &s->fre_size)) ||
            (s->t->def->ntext && (rc = fsize(&s->t->txt, &s->txt_size))) ||
            (rc = scan_rows(c, s)) || (rc = check_index(c, s)) ||
            (rc = check_free(c, s)) || (rc = check_seq(c, s)) ||
            (rc = check_texts(c, s)))
            return rc;
        if (db->seg && (rc = check_cache(c, s)))
            return rc;
    }
    return BZ_OK;
}

/* ---- repair ------------------------------------------------------------ */

/* Write slots [from, to) of want where they differ from have (have holds
 * nhave valid slots from the same start), one write per run. */
static int write_runs(bz_txn *tx, bz_file *f, int64_t first, const char *want,
                      const char *have, int64_t nhave, int64_t cnt)
{
    int64_t k = 0;
    while (k < cnt) {
        while (k < cnt && k < nhave &&
               memcmp(want + k * BZ_INT_WIDTH, have + k * BZ_INT_WIDTH,
                      BZ_INT_WIDTH) == 0)
            k++;
        if (k == cnt)
            break;
        int64_t e = k + 1;
        while (e < cnt && (e >= nhave ||
                           memcmp(want + e * BZ_INT_WIDTH,
                                  have + e * BZ_INT_WIDTH, BZ_INT_WIDTH)))
            e++;
        int rc = bz__txn_write(tx, f, (first + k) * BZ_INT_WIDTH,
                               want + k * BZ_INT_WIDTH,
                               (size_t)(e - k) * BZ_INT_WIDTH);
        if (rc)
            return rc;
        k = e;
    }
    return BZ_OK;
}

static int repair_index(struct chk *c, struct tstate *ts, bz_txn *tx,
                        bz_repair *rep)
{
    bz_table *t = ts->t;
    int64_t sz;
    int rc = bz__file_size(&t->idx, c->gen, &sz);
    if (rc)
        return rc;
    int64_t have = sz / BZ_INT_WIDTH;
    if (sz % BZ_INT_WIDTH) {
        rep->index_cut = sz % BZ_INT_WIDTH;
        if ((rc = bz__txn_truncate(tx, &t->idx, have * BZ_INT_WIDTH)))
            return rc;
    }
    int64_t total = have > ts->maxid ? have : ts->maxid;
    size_t bytes = (size_t)SLOTS_PER_CHUNK * BZ_INT_WIDTH;
    char *want = malloc(bytes), *cur = malloc(bytes);
    if (!want || !cur) {
        free(want);
        free(cur);
        return bz__nomem();
    }
    for (int64_t k0 = 0; k0 < total && !rc; k0 += SLOTS_PER_CHUNK) {
        int64_t cnt = total - k0 < SLOTS_PER_CHUNK ? total - k0
                                                   : SLOTS_PER_CHUNK;
        int64_t nhave = have - k0 < 0 ? 0 : have - k0 < cnt ? have - k0 : cnt;
        size_t got = 0;
        if (nhave && (rc = bz__file_pread(&t->idx, k0 * BZ_INT_WIDTH, cur,
                                     (size_t)nhave * BZ_INT_WIDTH, &got)))
            break;
        for (int64_t k = 0; k < cnt; k++) {
            int64_t id = k0 + k + 1, v = -1;
            int p = k < nhave ? parse_slot(cur + k * BZ_INT_WIDTH, &v) : 1;
            int64_t w = desired_slot(ts, id, p == 0 ? v : -1);
            char *dst = want + k * BZ_INT_WIDTH;
            if (w < 0)
                bz__enc_null_int(dst);
            else
                bz__enc_int(dst, w);
            if (k < nhave && memcmp(dst, cur + k * BZ_INT_WIDTH,
                                    BZ_INT_WIDTH) == 0)
                continue;
            if (w >= 0)
                rep->slots_set++;
            else if (k < nhave && p != 1)
                rep->slots_cleared++;
        }
        rc = write_runs(tx, &t->idx, k0, want, cur, nhave, cnt);
    }
    free(want);
    free(cur);
    return rc;
}

static int repair_free(struct chk *c, struct tstate *ts, bz_txn *tx,
                       bz_repair *rep)
{
    bz_table *t = ts->t;
    int64_t sz;
    int rc = bz__file_size(&t->fre, c->gen, &sz);
    if (rc)
        return rc;
    int64_t n = sz / BZ_INT_WIDTH;
    char *cur = malloc((size_t)(sz ? sz : 1));
    uint8_t *seen = calloc((size_t)(ts->nrows ? ts->nrows : 1), 1);
    int64_t *keep = malloc(sizeof(int64_t) * (size_t)(ts->nrows ? ts->nrows : 1));
    size_t got = 0;
    if (!cur || !seen || !keep)
        rc = bz__nomem();
    else
        rc = bz__file_pread(&t->fre, 0, cur, (size_t)sz, &got);
    /* The valid entries keep their order (the top of the stack stays
     * where inserts expect it); the missing rows go on top. */
    int64_t nk = 0;
    for (int64_t e = 0; !rc && e < n; e++) {
        int64_t v;
        if (!bz__dec_uint_padded(cur + e * BZ_INT_WIDTH, BZ_INT_WIDTH, &v) &&
            v < ts->nrows && ts->st[v] == ROW_DELETED && !seen[v]) {
            seen[v] = 1;
            keep[nk++] = v;
        } else {
            rep->free_removed++;
        }
    }
    for (int64_t r = 0; !rc && r < ts->nrows; r++)
        if (ts->st[r] == ROW_DELETED && !seen[r]) {
            keep[nk++] = r;
            rep->free_added++;
        }
    if (!rc) {
        /* Rewrite from the first entry that changes. */
        int64_t same = 0;
        char e[BZ_INT_WIDTH];
        while (same < nk && same < n) {
            bz__enc_int(e, keep[same]);
            if (memcmp(e, cur + same * BZ_INT_WIDTH, BZ_INT_WIDTH))
                break;
            same++;
        }
        if (same < nk) {
            char *w = malloc((size_t)(nk - same) * BZ_INT_WIDTH);
            if (!w)
                rc = bz__nomem();
            for (int64_t i = same; !rc && i < nk; i++)
                bz__enc_int(w + (i - same) * BZ_INT_WIDTH, keep[i]);
            if (!rc && sz > same * BZ_INT_WIDTH)
                rc = bz__txn_truncate(tx, &t->fre, same * BZ_INT_WIDTH);
            if (!rc)
                rc = bz__txn_write(tx, &t->fre, same * BZ_INT_WIDTH, w,
                                   (size_t)(nk - same) * BZ_INT_WIDTH);
            free(w);
        } else if (sz != nk * BZ_INT_WIDTH) {
            rc = bz__txn_truncate(tx, &t->fre, nk * BZ_INT_WIDTH);
        }
    }
    free(cur);
    free(seen);
    free(keep);
    return rc;
}

/* Only a seqnum that is not a number is repaired (any number is legal).
 * The largest id replaces it: what it was is lost, and starting there
 * never hands out again an id a deleted row had below it. */
static int repair_seq(struct chk *c, struct tstate *ts, bz_txn *tx,
                      bz_repair *rep)
{
    bz_table *t = ts->t;
    int64_t sz;
    int rc = bz__file_size(&t->seq, c->gen, &sz);
    if (rc)
        return rc;
    int64_t v = ts->maxid;
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    if (sz == n) {
        char old[24];
        size_t got;
        if ((rc = bz__file_pread(&t->seq, 0, old, (size_t)n, &got)))
            return rc;
        if (got == (size_t)n && memcmp(old, buf, (size_t)n) == 0)
            return BZ_OK;
    }
    rep->seq_changed = 1;
    rep->seq_old_valid = ts->seq_valid;
    rep->seq_old = ts->seq_valid ? ts->seq : 0;
    rep->seq_new = v;
    if ((rc = bz__txn_write(tx, &t->seq, 0, buf, (size_t)n)))
        return rc;
    if (sz > n)
        rc = bz__txn_truncate(tx, &t->seq, n);
    return rc;
}

static int repair_all(struct chk *c, struct tstate *ts, bz_repair *reps,
                      bool *wrote)
{
    bz_db *db = c->db;
    bz_txn tx;
    bz__txn_begin(&tx, c->gen, db->seg, db->dirfd);
    if (db->sync == BZ_SYNC_FULL)
        tx.journal = &db->journal;
    int rc = BZ_OK;
    for (int i = 0; i < db->schema->ntables && !rc; i++) {
        struct tstate *s = &ts[i];
        bz_repair *r = &reps[i];
        memset(r, 0, sizeof(*r));
        r->table = s->t->def->name;
        if (s->fix_idx)
            rc = repair_index(c, s, &tx, r);
        if (!rc && s->fix_free)
            rc = repair_free(c, s, &tx, r);
        if (!rc && s->fix_seq)
            rc = repair_seq(c, s, &tx, r);
    }
    *wrote = tx.n > 0;
    if (!rc && (rc = bz__txn_commit(&tx)) == BZ_OK)
        return BZ_OK;
    char *m = strdup(bz_errmsg());
    bz_journal *j = tx.journal;
    int rb = bz__txn_rollback(&tx);
    if (!rb && j)
        rb = bz__journal_clear(j, db->dirfd);
    *wrote = false;
    if (rb)
        rc = bz__err(BZ_EIO, "repair failed (%s) and undoing it failed too, "
                     "files may be inconsistent: %s", m ? m : "", bz_errmsg());
    else
        rc = bz__err(rc, "repair failed, nothing was changed: %s", m ? m : "");
    free(m);
    return rc;
}

/* ---- entry points ------------------------------------------------------ */

static int run_check(struct chk *c, struct tstate *ts)
{
    int nt = c->db->schema->ntables;
    memset(ts, 0, sizeof(*ts) * (size_t)nt);
    int rc = check_all(c, ts);
    return rc;
}

static void free_states(struct tstate *ts, int nt)
{
    for (int i = 0; i < nt; i++)
        tstate_free(&ts[i]);
}

int bz_check(bz_db *db, unsigned flags, const bz_check_cbs *cbs,
             bz_check_summary *sum)
{
    bz__err_clear();
    if (sum)
        memset(sum, 0, sizeof(*sum));
    if (!db)
        return bz__err(BZ_EINVAL, "bz_check: NULL db");
    if (flags & ~BZ_CHECK_REPAIR)
        return bz__err(BZ_EINVAL, "bz_check: unknown flags 0x%x", flags);
    bz_opctx op;
    int rc = bz__op_begin(&op, db);
    if (rc)
        return rc;
    if ((flags & BZ_CHECK_REPAIR) && db->lock->batch) {
        bz__op_end(&op);
        return bz__err(BZ_ELOCKED, "bz_check: cannot repair inside a batch "
                       "(commit or roll it back first)");
    }
    int nt = db->schema->ntables;
    /* Outside changes are noticed (and their stale pages dropped) first,
     * as every writer does: what remains different in the cache after
     * that would be served to readers. */
    for (int i = 0; i < nt && db->seg && !rc; i++)
        rc = bz__table_check_files(&db->tables[i], db->dirfd);
    size_t ntab = nt > 0 ? (size_t)nt : 1;
    struct tstate *ts = calloc(ntab, sizeof(*ts));
    bz_repair *reps = calloc(ntab, sizeof(*reps));
    if (!rc && (!ts || !reps))
        rc = bz__nomem();
    struct chk c = {.db = db, .gen = op.gen, .cbs = cbs};
    if (!rc)
        rc = run_check(&c, ts);
    int64_t found_e = c.errors, found_w = c.warnings, repaired = 0;
    bool repair = !rc && (flags & BZ_CHECK_REPAIR);
    bool any_fix = false, cache_bad = false;
    for (int i = 0; repair && i < nt; i++) {
        any_fix |= ts[i].fix_idx || ts[i].fix_free || ts[i].fix_seq;
        cache_bad |= ts[i].cache_bad;
    }
    if (repair && any_fix && cache_bad) {
        /* Writes go through the cache; on top of a cache that already
         * disagrees with the files they would mix both. */
        bz_table *t0 = &db->tables[0];
        for (int i = 0; i < nt; i++)
            if (ts[i].cache_bad) {
                t0 = ts[i].t;
                break;
            }
        report(&c, t0->def->name, t0->dat.name, -1, -1, 0, "repair_refused",
               BZ_SEV_ERROR, false, "not repairing anything: the shared "
               "cache disagrees with the files; stop the processes using "
               "the directory or run 'bazoola shm remove', then repair");
        found_e = c.errors;
    } else if (repair && any_fix) {
        bool wrote;
        rc = repair_all(&c, ts, reps, &wrote);
        for (int i = 0; !rc && i < nt; i++) {
            bz_repair *r = &reps[i];
            if (!(r->slots_set || r->slots_cleared || r->index_cut ||
                  r->free_added || r->free_removed || r->seq_changed))
                continue;
            repaired++;
            if (cbs && cbs->repaired)
                cbs->repaired(r, cbs->arg);
        }
        if (!rc) {
            /* Count what is left, from the files as they are now. */
            free_states(ts, nt);
            struct chk again = {.db = db, .gen = op.gen, .cbs = cbs,
                                .quiet = true};
            rc = run_check(&again, ts);
            c.errors = again.errors;
            c.warnings = again.warnings;
        }
    }
    if (sum) {
        sum->tables = nt;
        sum->rows = c.rows;
        sum->errors = found_e;
        sum->warnings = found_w;
        sum->cache_pages = c.pages;
        sum->repaired_tables = repaired;
        sum->remaining_errors = c.errors;
        sum->remaining_warnings = c.warnings;
    }
    if (ts)
        free_states(ts, nt);
    free(ts);
    free(reps);
    bz__op_end(&op);
    return rc;
}

/* Missing or odd table files are problems of the directory, not reasons
 * to give up: report them before opening.  *fatal when the open would fail
 * or would have to invent data (T.dat, T.text.dat). */
static int precheck_files(const char *dir, const bz_schema *s, bool repair,
                          struct chk *c, bool *fatal, bool *missing)
{
    *fatal = *missing = false;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return bz__err_os(errno, "cannot open data directory %s", dir);
    static const char *const sfx[] = {".dat", "__seqnum.dat", "__id.idx.dat",
                                      "__free.dat", ".text.dat"};
    for (int i = 0; i < s->ntables; i++) {
        const bz_tdef *d = &s->tables[i];
        for (int k = 0; k < (d->ntext ? 5 : 4); k++) {
            char name[BZ_NAME_MAX + 32];
            snprintf(name, sizeof name, "%s%s", d->name, sfx[k]);
            struct stat st;
            bool derived = k >= 1 && k <= 3;
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) {
                    int e = errno;
                    close(dfd);
                    return bz__err_os(e, "cannot stat %s/%s", dir, name);
                }
                *missing = true;
                if (!derived || !repair)
                    *fatal = true;
                report(c, d->name, name, 0, -1, 0, "missing_file",
                       BZ_SEV_ERROR, derived, "%s is missing%s", name,
                       derived ? " (a repair recreates it from the rows)"
                               : "");
            } else if (!S_ISREG(st.st_mode)) {
                *fatal = true;
                report(c, d->name, name, 0, -1, 0, "not_regular",
                       BZ_SEV_ERROR, false, "%s is not a regular file "
                       "(a symbolic link, directory or device)", name);
            }
        }
    }
    close(dfd);
    return BZ_OK;
}

int bz_check_dir(const char *dir, const bz_schema *schema,
                 const bz_options *opts, unsigned flags,
                 const bz_check_cbs *cbs, bz_check_summary *sum)
{
    bz__err_clear();
    if (sum)
        memset(sum, 0, sizeof(*sum));
    if (!dir || !*dir)
        return bz__err(BZ_EINVAL, "bz_check_dir: no data directory given");
    struct stat st;
    if (stat(dir, &st) != 0)
        return bz__err_os(errno, "cannot open data directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return bz__err(BZ_EINVAL, "%s is not a directory", dir);
    bz_schema *rec = NULL;
    const bz_schema *s = schema;
    int rc;
    if (!s) {
        char *path = malloc(strlen(dir) + 16);
        if (!path)
            return bz__nomem();
        sprintf(path, "%s/.schema", dir);
        if (access(path, F_OK) != 0) {
            free(path);
            return bz__err(BZ_ESCHEMA, "%s has no recorded schema (%s/.schema)"
                           ": not a Bazoola directory, or give the schema",
                           dir, dir);
        }
        rc = bz_schema_load(path, &rec);
        free(path);
        if (rc)
            return rc;
        s = rec;
    }
    struct chk pre = {.cbs = cbs};
    bool fatal, missing;
    rc = precheck_files(dir, s, flags & BZ_CHECK_REPAIR, &pre, &fatal,
                        &missing);
    if (rc || fatal) {
        if (!rc && sum) {
            sum->tables = s->ntables;
            sum->errors = sum->remaining_errors = pre.errors;
        }
        bz_schema_free(rec);
        return rc;
    }
    bz_options *o = bz_options_new();
    if (!o) {
        bz_schema_free(rec);
        return bz__nomem();
    }
    if (opts)
        *o = *opts;
    /* Create nothing, except the derived files a repair rebuilds. */
    o->create = missing;
    bz_db *db;
    o->for_check = true;
    o->for_repair = (flags & BZ_CHECK_REPAIR) != 0;
    rc = schema ? bz_open(dir, schema, o, &db) : bz_open_recorded(dir, o, &db);
    bz_options_free(o);
    bz_schema_free(rec);
    if (rc)
        return rc;
    rc = bz_check(db, flags, cbs, sum);
    if (sum && pre.errors) {
        sum->errors += pre.errors;
        /* The repair recreated them; the re-check saw them present. */
        if (!(flags & BZ_CHECK_REPAIR))
            sum->remaining_errors += pre.errors;
    }
    bz_close(db);
    return rc;
}
