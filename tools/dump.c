/*
 * dump.c - `bazoola dump DIR [TABLE] [--format text|json|csv]` and
 * `bazoola schema DIR`: thin clients of the public API.
 *
 * Rows come out in id order, but the engine gives them in file order (an
 * insert reuses the slot of a deleted row), so each table is read whole
 * and sorted.  It is read under bz_lock so that the dump of a table is one
 * consistent state, not rows from before and after a concurrent write; the
 * lock is released before printing, so a slow reader of our output never
 * holds writers up.
 *
 * The JSON lines of `dump DIR TABLE --format json` are exactly what
 * `bazoola import --format jsonl` reads, and its CSV what `import --format
 * csv` reads: dump then import gives the same rows.
 */
#include "dump.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bazoola.h>
#include <csv.h>
#include <jansson.h>
#include <uniwidth.h>

#include "backup.h"
#include "exec.h"
#include "progress.h"
#include "shell.h"

enum dump_format { FMT_DEFAULT, FMT_TEXT, FMT_JSON, FMT_CSV, FMT_BACKUP };

/* A table's rows, sorted by id. */
struct table_rows {
    bz_row **rows;
    size_t n, cap;
};

static void table_rows_free(struct table_rows *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        bz_row_free(tr->rows[i]);
    free(tr->rows);
    memset(tr, 0, sizeof *tr);
}

static int cmp_row_id(const void *a, const void *b)
{
    int64_t x = bz_row_id(*(bz_row *const *)a);
    int64_t y = bz_row_id(*(bz_row *const *)b);
    return (x > y) - (x < y);
}

/* Print "bazoola dump: TABLE: message" for a failed engine call; call it
 * before any other bz_ call replaces the thread's message. */
static void report_engine(const char *table, int rc)
{
    const char *msg = *bz_errmsg() ? bz_errmsg() : bz_strerror(rc);
    fprintf(stderr, "bazoola dump: %s: %s\n", table, msg);
}

static int load_rows(bz_db *db, const char *table, struct table_rows *tr)
{
    struct progress p = { 0 };
    bz_iter *it = NULL;
    bz_row *row;
    int64_t total = 0;
    int rc = bz_lock(db);

    if (rc != BZ_OK) {
        report_engine(table, rc);
        return rc;
    }
    rc = bz_count(db, table, NULL, &total);
    if (rc == BZ_OK)
        rc = bz_iter_open(db, table, NULL, NULL, &it);
    if (rc == BZ_OK) {
        char label[80];
        snprintf(label, sizeof label, "dump %s: reading", table);
        progress_start(&p, label, total);
        while ((rc = bz_iter_next(it, &row)) == BZ_ROW) {
            if (tr->n == tr->cap) {
                size_t cap = tr->cap ? 2 * tr->cap : 256;
                bz_row **grown = realloc(tr->rows, cap * sizeof *grown);
                if (!grown) {
                    bz_row_free(row);
                    fputs("bazoola dump: out of memory\n", stderr);
                    rc = BZ_ENOMEM;
                    break;
                }
                tr->rows = grown;
                tr->cap = cap;
            }
            tr->rows[tr->n++] = row;
            progress_update(&p, (int64_t)tr->n);
        }
        progress_end(&p);
        if (rc == BZ_DONE)
            rc = BZ_OK;
    }
    if (rc != BZ_OK && rc != BZ_ENOMEM)
        report_engine(table, rc);
    if (it)
        bz_iter_close(it);
    bz_unlock(db);
    if (rc != BZ_OK) {
        table_rows_free(tr);
        return rc;
    }
    if (tr->n)
        qsort(tr->rows, tr->n, sizeof *tr->rows, cmp_row_id);
    return BZ_OK;
}

/* ------------------------------------------------------------------ */
/* text: one aligned table per table, for people. */

struct buf {
    char *p;
    size_t len, cap;
};

static int buf_putn(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return -1;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* A cell as shown: NULL as NULL, and control characters escaped so that
 * every row stays on one line (a backslash is doubled so that the escapes
 * cannot be confused with the text). */
static int render_cell(const bz_row *r, size_t i, struct buf *b)
{
    char num[32];

    b->len = 0;
    switch (bz_row_type(r, i)) {
    case BZ_T_INT:
        snprintf(num, sizeof num, "%lld", (long long)bz_row_int(r, i));
        return buf_putn(b, num, strlen(num));
    case BZ_T_STR: {
        size_t len;
        const unsigned char *s = (const unsigned char *)bz_row_str(r, i, &len);
        if (buf_putn(b, "", 0))
            return -1;
        for (size_t k = 0; k < len; k++) {
            int rc;
            if (s[k] == '\\')
                rc = buf_putn(b, "\\\\", 2);
            else if (s[k] == '\n')
                rc = buf_putn(b, "\\n", 2);
            else if (s[k] == '\r')
                rc = buf_putn(b, "\\r", 2);
            else if (s[k] == '\t')
                rc = buf_putn(b, "\\t", 2);
            else if (s[k] < 0x20 || s[k] == 0x7f) {
                snprintf(num, sizeof num, "\\x%02x", s[k]);
                rc = buf_putn(b, num, 4);
            } else
                rc = buf_putn(b, (const char *)s + k, 1);
            if (rc)
                return -1;
        }
        return 0;
    }
    default:
        return buf_putn(b, "NULL", 4);
    }
}

/* Columns on screen, not bytes: "Über" is four columns wide. */
static size_t display_width(const char *s, size_t len)
{
    int w = u8_width((const uint8_t *)s, len, "UTF-8");
    return w < 0 ? len : (size_t)w;
}

static void put_padded(const char *s, size_t len, size_t width, int right,
                       int last)
{
    size_t w = display_width(s, len);
    size_t pad = width > w ? width - w : 0;

    if (right)
        for (size_t k = 0; k < pad; k++)
            putchar(' ');
    fwrite(s, 1, len, stdout);
    if (!right && !last) /* no trailing blanks at the end of a line */
        for (size_t k = 0; k < pad; k++)
            putchar(' ');
}

static int is_number_kind(const bz_schema *s, size_t t, size_t f)
{
    bz_field_def def;
    bz_schema_field(s, t, f, &def);
    return def.kind == BZ_PK || def.kind == BZ_INT || def.kind == BZ_FK;
}

static int print_text(const bz_schema *s, size_t t,
                      const struct table_rows *tr, struct progress *p)
{
    size_t nf = bz_schema_nfields(s, t);
    size_t *width = calloc(nf, sizeof *width);
    struct buf cell = { 0 };
    int rc = 0;

    if (!width)
        return -1;
    for (size_t f = 0; f < nf; f++) {
        bz_field_def def;
        bz_schema_field(s, t, f, &def);
        width[f] = display_width(def.name, strlen(def.name));
    }
    for (size_t i = 0; i < tr->n && !rc; i++)
        for (size_t f = 0; f < nf && !rc; f++) {
            rc = render_cell(tr->rows[i], f, &cell);
            if (!rc && display_width(cell.p, cell.len) > width[f])
                width[f] = display_width(cell.p, cell.len);
        }

    printf("%s (%zu row%s)\n", bz_schema_table_name(s, t), tr->n,
           tr->n == 1 ? "" : "s");
    for (size_t f = 0; f < nf && !rc; f++) {
        bz_field_def def;
        bz_schema_field(s, t, f, &def);
        fputs(f ? " | " : "", stdout);
        put_padded(def.name, strlen(def.name), width[f], 0, f + 1 == nf);
    }
    putchar('\n');
    for (size_t f = 0; f < nf; f++) {
        fputs(f ? "-+-" : "", stdout);
        for (size_t k = 0; k < width[f]; k++)
            putchar('-');
    }
    putchar('\n');
    for (size_t i = 0; i < tr->n && !rc; i++) {
        for (size_t f = 0; f < nf && !rc; f++) {
            rc = render_cell(tr->rows[i], f, &cell);
            /* no trailing blank after the last bar when the cell is empty */
            if (f)
                fputs(f + 1 == nf && !rc && cell.len == 0 ? " |" : " | ",
                      stdout);
            if (!rc)
                put_padded(cell.p, cell.len, width[f], is_number_kind(s, t, f),
                           f + 1 == nf);
        }
        putchar('\n');
        progress_update(p, (int64_t)i + 1);
    }
    free(cell.p);
    free(width);
    if (rc)
        fputs("bazoola dump: out of memory\n", stderr);
    return rc;
}

/* ------------------------------------------------------------------ */
/* json: one compact JSON object per line. */

static json_t *row_object(const bz_row *r)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < bz_row_len(r); i++) {
        json_t *v;
        switch (bz_row_type(r, i)) {
        case BZ_T_INT:
            v = json_integer(bz_row_int(r, i));
            break;
        case BZ_T_STR: {
            size_t len;
            const char *s = bz_row_str(r, i, &len);
            v = json_stringn(s, len); /* the engine only returns UTF-8 */
            break;
        }
        default:
            v = json_null();
            break;
        }
        if (!v || json_object_set_new(o, bz_row_name(r, i), v)) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* With a TABLE, bare row objects (what `import --format jsonl` reads);
 * without, {"table": T, "row": {...}} so that every line says where its
 * row belongs. */
static int print_json(const char *table, int wrap, const struct table_rows *tr,
                      struct progress *p)
{
    for (size_t i = 0; i < tr->n; i++) {
        json_t *row = row_object(tr->rows[i]);
        json_t *line = row;
        if (row && wrap) {
            line = json_object();
            /* set_new takes the reference to its value even on failure */
            if (!line)
                json_decref(row);
            else if (json_object_set_new(line, "table", json_string(table))) {
                json_decref(row);
                json_decref(line);
                line = NULL;
            } else if (json_object_set_new(line, "row", row)) {
                json_decref(line);
                line = NULL;
            }
        }
        if (!line || json_dumpf(line, stdout, JSON_COMPACT) != 0) {
            json_decref(line);
            fprintf(stderr, "bazoola dump: %s: cannot encode row id=%lld "
                    "as JSON\n", table, (long long)bz_row_id(tr->rows[i]));
            return -1;
        }
        json_decref(line);
        putchar('\n');
        progress_update(p, (int64_t)i + 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* csv: RFC 4180.  Every string is quoted, so an empty string ("") and NULL
 * (an empty unquoted field) differ, and leading or trailing blanks, which
 * CSV readers commonly trim from unquoted fields, survive. */

static int print_csv(const bz_schema *s, size_t t, const struct table_rows *tr,
                     struct progress *p)
{
    size_t nf = bz_schema_nfields(s, t);

    for (size_t f = 0; f < nf; f++) {
        bz_field_def def;
        bz_schema_field(s, t, f, &def);
        /* names are identifiers: nothing to quote */
        printf("%s%s", f ? "," : "", def.name);
    }
    fputs("\r\n", stdout);
    for (size_t i = 0; i < tr->n; i++) {
        const bz_row *r = tr->rows[i];
        for (size_t f = 0; f < nf; f++) {
            if (f)
                putchar(',');
            if (bz_row_type(r, f) == BZ_T_INT) {
                printf("%lld", (long long)bz_row_int(r, f));
            } else if (bz_row_type(r, f) == BZ_T_STR) {
                size_t len;
                const char *str = bz_row_str(r, f, &len);
                if (csv_fwrite(stdout, str, len) != 0)
                    return -1;
            }
        }
        fputs("\r\n", stdout);
        progress_update(p, (int64_t)i + 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The command line. */

void dump_usage(FILE *out)
{
    fputs(
"Usage: bazoola dump [--format FMT] DIR [TABLE]\n"
"\n"
"Without TABLE and --format: the backup of the data directory DIR, every\n"
"table read under the writer lock as one consistent state, as JSON lines\n"
"that 'bazoola load NEWDIR' turns back into the same files, byte for byte\n"
"(bazoola(5) describes the lines).  Otherwise the rows of every table, or\n"
"of TABLE only, in id order, for people or for 'bazoola import'.  DIR is\n"
"opened with the schema recorded in DIR/.schema.\n"
"\n"
"Options:\n"
"  -f, --format FMT  backup (the default without TABLE): see above; the\n"
"                    whole directory only.\n"
"                    text (the default with TABLE): per table a title\n"
"                    line \"T (N rows)\", then an aligned table with the\n"
"                    field names as header; NULL is shown as NULL and\n"
"                    control characters as \\n, \\t, \\xNN (a backslash as\n"
"                    \\\\), so that a row is one line.\n"
"                    json: one compact JSON object per line, fields in\n"
"                    schema order, NULL as null.  With TABLE each line is a\n"
"                    row object {\"id\":1,...}, the input of\n"
"                    'bazoola import --format jsonl'; without TABLE it is\n"
"                    {\"table\":T,\"row\":{...}}.  (jsonl is a synonym.)\n"
"                    csv: RFC 4180 (CRLF line ends), one table only: TABLE\n"
"                    is required unless DIR has a single table.  A header\n"
"                    line with the field names, then one record per row:\n"
"                    integers bare, strings always in double quotes (\"\"\n"
"                    for a quote), NULL as an empty unquoted field, so\n"
"                    NULL and the empty string \"\" differ.  The input of\n"
"                    'bazoola import --format csv'.\n"
"  -h, --help        show this help and exit\n"
"  -V, --version     show the version and exit\n"
"\n"
"On a terminal, a progress line on standard error follows large tables\n"
"(unless the rows themselves go to the terminal).\n"
"\n"
"Exit status: 0 when every row was written, 1 when DIR cannot be opened,\n"
"TABLE does not exist, a file is corrupt or writing fails, 2 on a usage\n"
"error.\n", out);
}

static int parse_format(const char *s, enum dump_format *fmt)
{
    if (strcmp(s, "text") == 0)
        *fmt = FMT_TEXT;
    else if (strcmp(s, "json") == 0 || strcmp(s, "jsonl") == 0)
        *fmt = FMT_JSON;
    else if (strcmp(s, "csv") == 0)
        *fmt = FMT_CSV;
    else if (strcmp(s, "backup") == 0)
        *fmt = FMT_BACKUP;
    else
        return -1;
    return 0;
}

static int dump_table(bz_db *db, size_t t, enum dump_format fmt, int wrap,
                      int first)
{
    const bz_schema *s = bz_db_schema(db);
    const char *table = bz_schema_table_name(s, t);
    struct table_rows tr = { 0 };
    struct progress p = { 0 };
    int rc;

    if (load_rows(db, table, &tr) != BZ_OK)
        return BZ_EXIT_FAIL;
    /* Rows going to the terminal are progress enough; a bar on the same
     * screen would only tear them. */
    if (!isatty(fileno(stdout))) {
        char label[80];
        snprintf(label, sizeof label, "dump %s", table);
        progress_start(&p, label, (int64_t)tr.n);
    }
    switch (fmt) {
    case FMT_TEXT:
        if (!first)
            putchar('\n');
        rc = print_text(s, t, &tr, &p);
        break;
    case FMT_JSON:
        rc = print_json(table, wrap, &tr, &p);
        break;
    default:
        rc = print_csv(s, t, &tr, &p);
        break;
    }
    progress_end(&p);
    table_rows_free(&tr);
    return rc ? BZ_EXIT_FAIL : BZ_EXIT_OK;
}

int dump_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    enum dump_format fmt = FMT_DEFAULT;
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola dump", dump_usage, "f:", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cli.status;
        if (parse_format(optarg, &fmt) != 0) /* 'f' */
            return cli_usage_error(&cli, optarg, "unknown format (backup, "
                                   "text, json or csv)");
    }
    if ((c = cli_operands(&cli, argc, argv, 1, 2, "DIR [TABLE]")))
        return c;
    const char *dir = argv[optind];
    const char *table = optind + 1 < argc ? argv[optind + 1] : NULL;
    /* `bazoola dump DIR > backup.jsonl` is the backup, as mdb_dump's and
     * sqlite3's .dump are; one table is for reading, as text. */
    if (fmt == FMT_DEFAULT)
        fmt = table ? FMT_TEXT : FMT_BACKUP;
    if (fmt == FMT_BACKUP) {
        if (table)
            return cli_usage_error(&cli, table, "a backup is of the whole "
                                   "directory: no TABLE");
        return backup_dump(dir);
    }

    bz_db *db;
    if (shell_open("dump", dir, &db) != BZ_OK)
        return BZ_EXIT_FAIL;
    const bz_schema *s = bz_db_schema(db);
    size_t first = 0, last = bz_schema_ntables(s);
    int status = BZ_EXIT_OK;

    if (table) {
        long t = shell_find_table("dump", dir, s, table);
        if (t < 0) {
            bz_close(db);
            return BZ_EXIT_FAIL;
        }
        first = (size_t)t;
        last = first + 1;
    } else if (fmt == FMT_CSV && last != 1) {
        bz_close(db);
        return cli_usage_error(&cli, "--format csv", "CSV holds one table: "
                               "name the TABLE to dump");
    }
    for (size_t t = first; t < last && status == BZ_EXIT_OK; t++)
        status = dump_table(db, t, fmt, table == NULL, t == first);
    bz_close(db);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bazoola dump: writing standard output: %s\n",
                strerror(errno));
        return BZ_EXIT_FAIL;
    }
    return status;
}

/* ------------------------------------------------------------------ */
/* `bazoola schema DIR` */

void schema_usage(FILE *out)
{
    fputs(
"Usage: bazoola schema DIR\n"
"\n"
"Print the schema recorded in the data directory DIR (DIR/.schema, written\n"
"by every open), in the canonical schema text format: one table per line,\n"
"\"table: field TYPE [NULL], ...\".  The output is a schema file that\n"
"'bazoola exec --schema' and bz_schema_load() accept.  The data files are\n"
"not opened, so this works on a directory whose files are damaged.\n"
"\n"
"Options:\n"
"  -h, --help     show this help and exit\n"
"  -V, --version  show the version and exit\n"
"\n"
"Exit status: 0 when printed, 1 when DIR has no readable schema, 2 on a\n"
"usage error.\n", out);
}

int schema_main(int argc, char **argv)
{
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola schema", schema_usage, "", NULL);
    while ((c = cli_next(&cli, argc, argv)) != -1)
        if (c == CLI_STOP)
            return cli.status;
    if ((c = cli_operands(&cli, argc, argv, 1, 1, "DIR")))
        return c;
    const char *dir = argv[optind];
    size_t plen = strlen(dir) + sizeof "/.schema";
    char *path = malloc(plen);
    if (!path) {
        fputs("bazoola schema: out of memory\n", stderr);
        return BZ_EXIT_FAIL;
    }
    snprintf(path, plen, "%s/.schema", dir);

    bz_schema *s;
    int rc = bz_schema_load(path, &s);
    if (rc != BZ_OK) {
        const char *msg = *bz_errmsg() ? bz_errmsg() : bz_strerror(rc);
        fprintf(stderr, "bazoola schema: %s has no readable recorded schema: "
                "%s\n", dir, msg);
        free(path);
        return BZ_EXIT_FAIL;
    }
    free(path);
    char *text = bz_schema_text(s);
    bz_schema_free(s);
    if (!text) {
        fputs("bazoola schema: out of memory\n", stderr);
        return BZ_EXIT_FAIL;
    }
    size_t len = strlen(text);
    fputs(text, stdout);
    if (len == 0 || text[len - 1] != '\n')
        putchar('\n');
    free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bazoola schema: writing standard output: %s\n",
                strerror(errno));
        return BZ_EXIT_FAIL;
    }
    return BZ_EXIT_OK;
}
