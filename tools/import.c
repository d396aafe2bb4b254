/*
 * import.c - `bazoola import DIR TABLE FILE [--format csv|jsonl]`.
 *
 * All rows or none: every insert runs inside one bz_begin/bz_commit batch,
 * and the first row the engine refuses (or the first line we cannot read)
 * rolls the whole batch back, so a bad line on row 90,000 leaves every file
 * of the directory as it was.  The batch also holds the writer lock
 * throughout, so other processes never see half an import.
 *
 * Errors name the input line (for a CSV record spanning several lines, the
 * line it starts on), the field, and the reason in the engine's words
 * (bz_errmsg()).  CSV is parsed by libcsv in strict mode, as RFC 4180 says:
 * blanks are part of a field, a quote inside an unquoted field is an error.
 */
#include "import.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bazoola.h>
#include <csv.h>
#include <jansson.h>

#include "exec.h"
#include "progress.h"
#include "shell.h"

enum import_format { IMP_UNKNOWN, IMP_CSV, IMP_JSONL };

/* One field of the CSV record being read. */
struct cell {
    char *p;   /* NULL for an empty unquoted field: NULL */
    size_t len;
};

struct import_ctx {
    bz_db *db;
    const bz_schema *schema;
    size_t t;                 /* the table's index in schema */
    const char *table;
    const char *input;        /* FILE, or "stdin" */
    bz_values *values;
    int64_t rows;             /* inserted so far */
    int failed;               /* an error was reported: stop */

    unsigned long line;       /* physical line being read, from 1 */
    struct progress progress;
    int progress_bytes;       /* progress counts bytes (else rows) */
    int64_t bytes;

    /* CSV only */
    unsigned long rec_line;   /* where the current record began; 0: none */
    int ended;                /* a record ended on the line being read */
    int header_done;
    long *col_field;          /* field index of each column */
    size_t ncols;
    struct cell *cells;       /* the current record */
    size_t ncells, capcells;
    int nomem;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail_at(struct import_ctx *x, unsigned long line, const char *fmt,
                    ...)
{
    va_list ap;

    if (x->failed)
        return;
    x->failed = 1;
    progress_end(&x->progress); /* the message must not share its line */
    if (line)
        fprintf(stderr, "bazoola import: %s line %lu: ", x->input, line);
    else
        fprintf(stderr, "bazoola import: %s: ", x->input);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *field_name(const struct import_ctx *x, size_t f)
{
    bz_field_def def;
    bz_schema_field(x->schema, x->t, f, &def);
    return def.name;
}

static long find_field(const struct import_ctx *x, const char *name)
{
    size_t nf = bz_schema_nfields(x->schema, x->t);
    for (size_t f = 0; f < nf; f++)
        if (strcmp(field_name(x, f), name) == 0)
            return (long)f;
    return -1;
}

/* "id, title, author_id" for messages about unknown names. */
static void fail_unknown(struct import_ctx *x, unsigned long line,
                         const char *what, const char *name)
{
    char known[512];
    size_t n = 0, nf = bz_schema_nfields(x->schema, x->t);

    known[0] = '\0';
    for (size_t f = 0; f < nf && n < sizeof known; f++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
                              f ? ", " : "", field_name(x, f));
    fail_at(x, line, "unknown %s '%s' (table '%s' has %s)", what, name,
            x->table, known);
}

/* Insert the row in x->values, reporting the engine's refusal. */
static void insert_row(struct import_ctx *x, unsigned long line)
{
    int rc = bz_insert(x->db, x->table, x->values, NULL);

    if (rc == BZ_OK) {
        x->rows++;
        if (!x->progress_bytes)
            progress_update(&x->progress, x->rows);
        return;
    }
    /* A copy: the schema lookups below are bz_ calls, which may replace
     * the thread's message. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", *bz_errmsg() ? bz_errmsg()
                                                 : bz_strerror(rc));
    if (msg[0] == '\'') {
        /* 0.0.7's messages start with the field: "'year': Type mismatch" */
        fail_at(x, line, "%s", msg);
        return;
    }
    /* "Item id=7 does not exist in 'authors'" names the table, not the
     * field: name the foreign keys to that table. */
    const char *q = rc == BZ_ECONSTRAINT ? strstr(msg, " in '") : NULL;
    if (q) {
        char fks[256] = "";
        size_t n = 0, nf = bz_schema_nfields(x->schema, x->t);
        q += 5;
        size_t qlen = strcspn(q, "'");
        for (size_t f = 0; f < nf && n < sizeof fks; f++) {
            bz_field_def def;
            bz_schema_field(x->schema, x->t, f, &def);
            if (def.kind == BZ_FK && strlen(def.ref) == qlen &&
                strncmp(def.ref, q, qlen) == 0)
                n += (size_t)snprintf(fks + n, sizeof fks - n, "%s'%s'",
                                      n ? ", " : "", def.name);
        }
        if (n) {
            fail_at(x, line, "%s: %s", fks, msg);
            return;
        }
    }
    fail_at(x, line, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* CSV */

/* A strict decimal integer that fits int64, the form dump writes.  Anything
 * else goes to the engine as a string, which refuses it for an integer
 * field in 0.0.7's words: "'year': Type mismatch: `'x'` is not `int`". */
static int parse_int(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;

    if (len && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len || len - i > 19)
        return -1;
    for (; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static void csv_header(struct import_ctx *x, unsigned long line)
{
    x->col_field = calloc(x->ncells ? x->ncells : 1, sizeof *x->col_field);
    if (!x->col_field) {
        fail_at(x, line, "out of memory");
        return;
    }
    x->ncols = x->ncells;
    for (size_t c = 0; c < x->ncells && !x->failed; c++) {
        const char *name = x->cells[c].p ? x->cells[c].p : "";
        long f = find_field(x, name);
        if (f < 0) {
            fail_unknown(x, line, "column", name);
            break;
        }
        for (size_t k = 0; k < c; k++)
            if (x->col_field[k] == f)
                fail_at(x, line, "column '%s' given twice", name);
        x->col_field[c] = f;
    }
    x->header_done = 1;
}

static void csv_row(struct import_ctx *x, unsigned long line)
{
    if (x->ncells != x->ncols) {
        fail_at(x, line, "%zu field%s, but the header has %zu columns",
                x->ncells, x->ncells == 1 ? "" : "s", x->ncols);
        return;
    }
    bz_values_clear(x->values);
    for (size_t c = 0; c < x->ncells; c++) {
        size_t f = (size_t)x->col_field[c];
        const char *name = field_name(x, f);
        const struct cell *cell = &x->cells[c];
        bz_field_def def;
        int64_t iv;
        int rc;

        bz_schema_field(x->schema, x->t, f, &def);
        if (!cell->p)
            rc = bz_values_set_null(x->values, name);
        else if ((def.kind == BZ_PK || def.kind == BZ_INT ||
                  def.kind == BZ_FK) && parse_int(cell->p, cell->len, &iv) == 0)
            rc = bz_values_set_int(x->values, name, iv);
        else
            rc = bz_values_set_strn(x->values, name, cell->p, cell->len);
        if (rc != BZ_OK) {
            fail_at(x, line, "'%s': %s", name, bz_strerror(rc));
            return;
        }
    }
    insert_row(x, line);
}

static void csv_on_field(void *s, size_t len, void *data)
{
    struct import_ctx *x = data;

    if (x->failed)
        return;
    if (!x->rec_line)
        x->rec_line = x->line;
    if (x->ncells == x->capcells) {
        size_t cap = x->capcells ? 2 * x->capcells : 16;
        struct cell *grown = realloc(x->cells, cap * sizeof *grown);
        if (!grown) {
            fail_at(x, x->rec_line, "out of memory");
            return;
        }
        x->cells = grown;
        x->capcells = cap;
    }
    struct cell *cell = &x->cells[x->ncells];
    cell->len = len;
    cell->p = NULL;
    if (s) {
        /* libcsv reuses its buffer for the next field: keep a copy */
        cell->p = malloc(len + 1);
        if (!cell->p) {
            fail_at(x, x->rec_line, "out of memory");
            return;
        }
        memcpy(cell->p, s, len);
        cell->p[len] = '\0';
    }
    x->ncells++;
}

static void clear_cells(struct import_ctx *x)
{
    for (size_t c = 0; c < x->ncells; c++)
        free(x->cells[c].p);
    x->ncells = 0;
}

static void csv_on_record(int term, void *data)
{
    struct import_ctx *x = data;
    unsigned long line = x->rec_line ? x->rec_line : x->line;

    (void)term;
    if (!x->failed) {
        if (!x->header_done)
            csv_header(x, line);
        else
            csv_row(x, line);
    }
    clear_cells(x);
    x->rec_line = 0;
    x->ended = 1;
}

static int only_line_end(const char *s, size_t n)
{
    return (n == 1 && s[0] == '\n') || (n == 2 && s[0] == '\r' && s[1] == '\n');
}

/* RFC 4180: blanks belong to the field; libcsv trims them unless told. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void import_csv(struct import_ctx *x, FILE *in)
{
    struct csv_parser parser;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;

    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
        fail_at(x, 0, "out of memory");
        return;
    }
    csv_set_space_func(&parser, no_space);
    /* Fed a line at a time so that errors can name the line. */
    while (!x->failed && (n = getline(&buf, &cap, in)) > 0) {
        x->line++;
        x->ended = 0;
        if (csv_parse(&parser, buf, (size_t)n, csv_on_field, csv_on_record,
                      x) != (size_t)n && !x->failed) {
            fail_at(x, x->line, "malformed CSV: %s",
                    csv_strerror(csv_error(&parser)));
            break;
        }
        /* A record still open at the end of a line that gave no field yet
         * (its first field is quoted and spans lines, or the last line has
         * no line end) began on this line.  A record ending here ends at
         * the line end, so nothing is open after it. */
        if (!x->rec_line && !x->ended && !only_line_end(buf, (size_t)n))
            x->rec_line = x->line;
        x->bytes += n;
        if (x->progress_bytes)
            progress_update(&x->progress, x->bytes);
    }
    if (!x->failed && ferror(in))
        fail_at(x, 0, "read error: %s", strerror(errno));
    if (!x->failed &&
        csv_fini(&parser, csv_on_field, csv_on_record, x) != 0 && !x->failed)
        fail_at(x, x->rec_line ? x->rec_line : x->line,
                "malformed CSV: a quoted field is not closed");
    if (!x->failed && !x->header_done)
        fail_at(x, 0, "no header line (the CSV must start with the field "
                "names)");
    clear_cells(x);
    csv_free(&parser);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* JSON lines */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "a value of another type";
    }
}

static void jsonl_row(struct import_ctx *x, const char *text, size_t len)
{
    json_error_t err;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    const char *key;
    json_t *v;

    if (!obj) {
        fail_at(x, x->line, "not valid JSON (column %d): %s", err.column,
                err.text);
        return;
    }
    if (!json_is_object(obj)) {
        fail_at(x, x->line, "expected a JSON object of field: value, got %s",
                json_is_string(obj) ? "a string" : json_kind(obj));
        json_decref(obj);
        return;
    }
    bz_values_clear(x->values);
    json_object_foreach(obj, key, v) {
        int rc;
        if (find_field(x, key) < 0) {
            fail_unknown(x, x->line, "field", key);
            break;
        }
        if (json_is_integer(v))
            rc = bz_values_set_int(x->values, key, json_integer_value(v));
        else if (json_is_string(v))
            rc = bz_values_set_strn(x->values, key, json_string_value(v),
                                    json_string_length(v));
        else if (json_is_null(v))
            rc = bz_values_set_null(x->values, key);
        else {
            fail_at(x, x->line, "'%s': expected an integer, a string or "
                    "null, got %s", key, json_kind(v));
            break;
        }
        if (rc != BZ_OK) {
            fail_at(x, x->line, "'%s': %s", key, bz_strerror(rc));
            break;
        }
    }
    json_decref(obj);
    if (!x->failed)
        insert_row(x, x->line);
}

static void import_jsonl(struct import_ctx *x, FILE *in)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;

    while (!x->failed && (n = getline(&buf, &cap, in)) > 0) {
        x->line++;
        size_t len = (size_t)n;
        while (len && isspace((unsigned char)buf[len - 1]))
            len--;
        if (len)
            jsonl_row(x, buf, len);
        x->bytes += n;
        if (x->progress_bytes)
            progress_update(&x->progress, x->bytes);
    }
    if (!x->failed && ferror(in))
        fail_at(x, 0, "read error: %s", strerror(errno));
    free(buf);
}

/* ------------------------------------------------------------------ */
/* The command line. */

void import_usage(FILE *out)
{
    fputs(
"Usage: bazoola import DIR TABLE FILE [--format csv|jsonl]\n"
"\n"
"Insert the rows read from FILE (- for standard input) into TABLE of the\n"
"data directory DIR (opened with the schema recorded in DIR/.schema).  All\n"
"or nothing: the rows are inserted in one batch that is rolled back at the\n"
"first bad line, leaving every file as it was; the error names the line,\n"
"the field and the reason.  Rows without an \"id\" get the next automatic\n"
"id; an explicit id is kept (and, as in Bazoola 0.0.7, does not move the\n"
"automatic ids on: 'bazoola check --repair' moves them past it).\n"
"\n"
"Options:\n"
"  -f, --format FMT  csv: RFC 4180, what 'bazoola dump --format csv' writes.\n"
"                    The first record names the columns (fields of TABLE,\n"
"                    in any order; a field left out gets NULL).  An empty\n"
"                    unquoted field is NULL, a quoted one (\"\") the empty\n"
"                    string; blanks belong to the field.  For an integer\n"
"                    field the text must be a decimal integer.\n"
"                    jsonl: one JSON object of field: value per line, values\n"
"                    integers, strings or null; what 'bazoola dump DIR TABLE\n"
"                    --format json' writes (json is a synonym).\n"
"                    Default: from FILE's suffix (.csv, .jsonl, .json,\n"
"                    .ndjson); required for standard input.\n"
"  -h, --help        show this help and exit\n"
"  -V, --version     show the version and exit\n"
"Blank lines are skipped.\n"
"\n"
"On success prints \"imported N rows into TABLE\".  On a terminal, a\n"
"progress line on standard error follows large files.\n"
"\n"
"Exit status: 0 when every row was imported, 1 when nothing was (DIR,\n"
"TABLE or FILE cannot be opened, or a line was refused), 2 on a usage\n"
"error.\n", out);
}

static enum import_format format_named(const char *s)
{
    if (strcmp(s, "csv") == 0)
        return IMP_CSV;
    if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0 ||
        strcmp(s, "ndjson") == 0)
        return IMP_JSONL;
    return IMP_UNKNOWN;
}

static enum import_format format_of_file(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') ? format_named(dot + 1) : IMP_UNKNOWN;
}

/* Run the import inside a batch; returns the exit status. */
static int run_import(struct import_ctx *x, enum import_format fmt, FILE *in)
{
    struct stat st;
    char label[80];
    int rc = bz_begin(x->db);

    if (rc != BZ_OK) {
        fprintf(stderr, "bazoola import: %s\n",
                *bz_errmsg() ? bz_errmsg() : bz_strerror(rc));
        return BZ_EXIT_FAIL;
    }
    snprintf(label, sizeof label, "import %s", x->table);
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        progress_start(&x->progress, label, (int64_t)st.st_size);
        x->progress.unit = "bytes";
        x->progress_bytes = 1;
    } else {
        progress_start(&x->progress, label, 0);
    }
    if (fmt == IMP_CSV)
        import_csv(x, in);
    else
        import_jsonl(x, in);
    progress_end(&x->progress);

    if (!x->failed) {
        rc = bz_commit(x->db);
        if (rc == BZ_OK)
            return BZ_EXIT_OK;
        fprintf(stderr, "bazoola import: commit: %s\n",
                *bz_errmsg() ? bz_errmsg() : bz_strerror(rc));
    }
    rc = bz_rollback(x->db);
    if (rc != BZ_OK && x->failed) /* after a failed commit: already undone */
        fprintf(stderr, "bazoola import: rollback: %s\n",
                *bz_errmsg() ? bz_errmsg() : bz_strerror(rc));
    fprintf(stderr, "bazoola import: nothing imported into %s\n", x->table);
    return BZ_EXIT_FAIL;
}

int import_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    enum import_format fmt = IMP_UNKNOWN;
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola import", import_usage, "f:", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cli.status;
        fmt = format_named(optarg); /* 'f' */
        if (fmt == IMP_UNKNOWN)
            return cli_usage_error(&cli, optarg, "unknown format (csv or "
                                   "jsonl)");
    }
    if ((c = cli_operands(&cli, argc, argv, 3, 3, "DIR TABLE FILE")))
        return c;
    const char *dir = argv[optind], *table = argv[optind + 1];
    const char *path = argv[optind + 2];
    int from_stdin = strcmp(path, "-") == 0;

    if (fmt == IMP_UNKNOWN && !from_stdin)
        fmt = format_of_file(path);
    if (fmt == IMP_UNKNOWN) {
        return cli_usage_error(&cli, from_stdin ? "standard input" : path,
                               "cannot tell the format: give --format csv "
                               "or --format jsonl");
    }

    FILE *in = from_stdin ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "bazoola import: %s: %s\n", path, strerror(errno));
        return BZ_EXIT_FAIL;
    }
    struct import_ctx x = { 0 };
    x.input = from_stdin ? "stdin" : path;
    x.table = table;
    int status = BZ_EXIT_FAIL;
    if (shell_open("import", dir, &x.db) == BZ_OK) {
        x.schema = bz_db_schema(x.db);
        long t = shell_find_table("import", dir, x.schema, table);
        x.values = bz_values_new();
        if (t >= 0 && x.values) {
            x.t = (size_t)t;
            status = run_import(&x, fmt, in);
        } else if (t >= 0) {
            fputs("bazoola import: out of memory\n", stderr);
        }
        bz_values_free(x.values);
        bz_close(x.db);
    }
    if (!from_stdin)
        fclose(in);
    free(x.col_field);
    free(x.cells);
    if (status == BZ_EXIT_OK) {
        printf("imported %" PRId64 " row%s into %s\n", x.rows,
               x.rows == 1 ? "" : "s", table);
        if (fflush(stdout) != 0)
            return BZ_EXIT_FAIL;
    }
    return status;
}
