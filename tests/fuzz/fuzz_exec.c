/*
 * fuzz_exec - the JSON-lines protocol of `bazoola exec` (tools/exec.c's
 * exec_line) on arbitrary lines.
 *
 * Input: a schema text, FUZZ_SEP, then request lines.  The schema opens
 * (creates) a fresh directory in flock mode; each non-blank line is run
 * through exec_line.  Properties: never a crash, leak or UB; every line
 * gets one reply that is a JSON object with "ok" or "error".
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>
#include "exec.h"
#include "fuzz_common.h"

#define MAX_LINES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[2];
    size_t len[2];
    if (fuzz_split((const char *)data, size, part, len, 2) != 2)
        return 0;
    bz_schema *schema;
    if (bz_schema_parse(part[0], len[0], &schema) != BZ_OK)
        return 0;
    /* Keep rows small: a CHAR(60000) table makes every op slow, not wrong. */
    for (size_t t = 0; t < bz_schema_ntables(schema); t++)
        for (size_t f = 0; f < bz_schema_nfields(schema, t); f++) {
            bz_field_def d;
            bz_schema_field(schema, t, f, &d);
            if (d.kind == BZ_CHAR && d.size > 256) {
                bz_schema_free(schema);
                return 0;
            }
        }
    const char *dir = fuzz_dir("exec");
    fuzz_empty_dir(dir, NULL);
    bz_options *o = bz_options_new();
    bz_options_set_lock_mode(o, BZ_LOCK_FLOCK);
    bz_db *db;
    int rc = bz_open(dir, schema, o, &db);
    bz_options_free(o);
    bz_schema_free(schema);
    if (rc != BZ_OK)
        return 0;

    const char *p = part[1], *end = part[1] + len[1];
    for (unsigned long lineno = 1; p < end && lineno <= MAX_LINES; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *reply = exec_line(db, lineno, p, n);
        if (!reply)
            abort();
        json_error_t jerr;
        json_t *j = json_loads(reply, JSON_ALLOW_NUL, &jerr);
        if (!j || !json_is_object(j) ||
            (!json_object_get(j, "ok") && !json_object_get(j, "error")))
            abort();
        json_decref(j);
        free(reply);
        p += n;
    }
    bz_close(db);
    return 0;
}
