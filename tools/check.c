/*
 * check.c - `bazoola check DIR [--repair] [--json] [--schema FILE]`: the
 * consistency of a data directory (bz_check_dir does the work).
 *
 * Exit status (common/cli.h): 0 clean (after a repair: nothing left), 1
 * problems found or the check could not run (the summary line is printed
 * only when it ran), 2 bad usage.
 */
#include "check.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>
#include <jansson.h>

#include "common/cli.h"
#include "progress.h"


void check_usage(FILE *out)
{
    fputs("Usage: bazoola check [--repair] [--json] [--schema FILE] DIR\n"
          "\n"
          "Check the data directory DIR: every row of every table parses,\n"
          "row sizes divide the files, the index and the rows agree, the\n"
          "free stack holds exactly the deleted rows, seqnum is a number,\n"
          "TEXT references point at intact, unshared records, and (when a\n"
          "process has DIR open in lock mode shared) the shared cache\n"
          "holds the files' bytes.  Each problem names the table, the file\n"
          "and the byte offset.  Only states that neither Bazoola 0.0.7 nor\n"
          "the engine leaves behind are problems: seqnum below an explicit\n"
          "id and foreign keys to deleted rows are legal.  Errors break an\n"
          "invariant the engine relies on, warnings one it does not (a\n"
          "deleted row missing from the free stack wastes its space).\n"
          "\n"
          "The check runs under the writer lock: it is safe while other\n"
          "processes use DIR, and briefly blocks their writes while it runs.\n"
          "\n"
          "Options:\n"
          "  --repair       rebuild what is derived from the rows: the index,\n"
          "                 the free stack and seqnum (never a row), in one\n"
          "                 atomic write, and say what changed; then check\n"
          "                 again\n"
          "  --json         print one JSON document (problems, repairs,\n"
          "                 summary) instead of text\n"
          "  --schema FILE  use this schema instead of DIR/.schema\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "Options may come before or after DIR.  Exit status: 0 when clean\n"
          "(after --repair: nothing left), 1 when problems were found (or\n"
          "remain) or the check could not run (not a Bazoola directory, an\n"
          "I/O error; the reason is on stderr), 2 on a bad command line.\n",
          out);
}

struct out {
    bool json;
    json_t *problems, *repairs;
    struct progress prog;
    char prog_table[80];
};

static int on_problem(const bz_problem *p, void *arg)
{
    struct out *o = arg;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s}",
                              "table", p->table ? p->table : "",
                              "file", p->file ? p->file : "",
                              "kind", p->kind,
                              "severity", p->severity == BZ_SEV_ERROR
                                          ? "error" : "warning",
                              "offset", (json_int_t)p->offset,
                              "repairable", p->repairable,
                              "message", p->message);
        if (j && p->row >= 0)
            json_object_set_new(j, "row", json_integer(p->row));
        if (j && p->id > 0)
            json_object_set_new(j, "id", json_integer(p->id));
        if (j)
            json_array_append_new(o->problems, j);
        return 0;
    }
    /* The progress line shares the terminal: take it down first. */
    progress_end(&o->prog);
    o->prog_table[0] = '\0';
    if (p->offset >= 0)
        printf("%s: %s at byte %lld: %s: %s%s\n", p->table, p->file,
               (long long)p->offset,
               p->severity == BZ_SEV_ERROR ? "error" : "warning", p->message,
               p->repairable ? " [repairable]" : "");
    else
        printf("%s: %s: %s: %s%s\n", p->table, p->file,
               p->severity == BZ_SEV_ERROR ? "error" : "warning", p->message,
               p->repairable ? " [repairable]" : "");
    return 0;
}

static void on_repaired(const bz_repair *r, void *arg)
{
    struct out *o = arg;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
                              "table", r->table,
                              "index_slots_set", (json_int_t)r->slots_set,
                              "index_slots_cleared",
                              (json_int_t)r->slots_cleared,
                              "index_bytes_cut", (json_int_t)r->index_cut,
                              "free_added", (json_int_t)r->free_added,
                              "free_removed", (json_int_t)r->free_removed);
        if (j && r->seq_changed) {
            json_object_set_new(j, "seqnum_old", r->seq_old_valid
                                ? json_integer(r->seq_old) : json_null());
            json_object_set_new(j, "seqnum_new", json_integer(r->seq_new));
        }
        if (j)
            json_array_append_new(o->repairs, j);
        return;
    }
    progress_end(&o->prog);
    o->prog_table[0] = '\0';
    printf("repaired %s: index %lld slot%s set, %lld cleared",
           r->table, (long long)r->slots_set, r->slots_set == 1 ? "" : "s",
           (long long)r->slots_cleared);
    if (r->index_cut)
        printf(", %lld-byte partial slot cut", (long long)r->index_cut);
    printf("; free stack %lld added, %lld removed", (long long)r->free_added,
           (long long)r->free_removed);
    if (r->seq_changed) {
        if (r->seq_old_valid)
            printf("; seqnum %lld -> %lld", (long long)r->seq_old,
                   (long long)r->seq_new);
        else
            printf("; seqnum (not a number) -> %lld", (long long)r->seq_new);
    }
    putchar('\n');
}

static void on_progress(const char *table, int64_t done, int64_t total,
                        void *arg)
{
    struct out *o = arg;
    if (strcmp(o->prog_table, table) != 0) {
        progress_end(&o->prog);
        snprintf(o->prog_table, sizeof o->prog_table, "%s", table);
        char label[96];
        snprintf(label, sizeof label, "check %s", table);
        progress_start(&o->prog, label, total);
    }
    progress_update(&o->prog, done);
}

int check_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repair", no_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"schema", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    bool repair = false, json = false;
    const char *schema_path = NULL;
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola check", check_usage, "", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cli.status;
        case 'r': repair = true; break;
        case 'j': json = true; break;
        default: schema_path = optarg; break; /* 's' */
        }
    }
    if ((c = cli_operands(&cli, argc, argv, 1, 1, "DIR")))
        return c;
    const char *dir = argv[optind];
    bz_schema *schema = NULL;
    if (schema_path && bz_schema_load(schema_path, &schema) != BZ_OK) {
        cli_error_msg("bazoola check", schema_path, bz_errmsg());
        return BZ_EXIT_FAIL;
    }
    struct out o;
    memset(&o, 0, sizeof o);
    o.json = json;
    if (json) {
        o.problems = json_array();
        o.repairs = json_array();
    }
    bz_check_cbs cbs = {on_problem, on_repaired, on_progress, &o};
    bz_check_summary sum;
    int rc = bz_check_dir(dir, schema, NULL, repair ? BZ_CHECK_REPAIR : 0,
                          &cbs, &sum);
    progress_end(&o.prog);
    bz_schema_free(schema);
    if (rc != BZ_OK) {
        cli_error_msg("bazoola check", dir, bz_errmsg());
        json_decref(o.problems);
        json_decref(o.repairs);
        return BZ_EXIT_FAIL;
    }
    int64_t left = sum.remaining_errors + sum.remaining_warnings;
    if (json) {
        json_t *doc = json_pack(
            "{s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:s}",
            "dir", dir, "problems", o.problems, "repairs", o.repairs,
            "summary", "tables", (json_int_t)sum.tables,
            "rows", (json_int_t)sum.rows, "errors", (json_int_t)sum.errors,
            "warnings", (json_int_t)sum.warnings,
            "cache_pages", (json_int_t)sum.cache_pages,
            "repaired_tables", (json_int_t)sum.repaired_tables,
            "remaining_errors", (json_int_t)sum.remaining_errors,
            "remaining_warnings", (json_int_t)sum.remaining_warnings,
            "status", left ? "problems" : "clean");
        if (doc) {
            json_dumpf(doc, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(doc);
        }
    } else {
        printf("%s: %lld table%s, %lld rows, %lld cached page%s compared: "
               "%lld error%s, %lld warning%s", dir, (long long)sum.tables,
               sum.tables == 1 ? "" : "s", (long long)sum.rows,
               (long long)sum.cache_pages, sum.cache_pages == 1 ? "" : "s",
               (long long)sum.errors, sum.errors == 1 ? "" : "s",
               (long long)sum.warnings, sum.warnings == 1 ? "" : "s");
        if (repair)
            printf("; after repair: %lld error%s, %lld warning%s left",
                   (long long)sum.remaining_errors,
                   sum.remaining_errors == 1 ? "" : "s",
                   (long long)sum.remaining_warnings,
                   sum.remaining_warnings == 1 ? "" : "s");
        putchar('\n');
    }
    fflush(stdout);
    return left ? BZ_EXIT_FAIL : BZ_EXIT_OK;
}
