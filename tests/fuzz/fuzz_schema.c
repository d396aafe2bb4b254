/*
 * fuzz_schema - bz_schema_parse on arbitrary text.
 *
 * Properties: never a crash, leak or UB; a refusal is BZ_ESCHEMA (or
 * BZ_ENOMEM) with a message; an accepted schema round-trips:
 * parse -> bz_schema_text -> parse gives the same text, and its names obey
 * S1 (identifiers, no "__" in table names), so no table file can leave the
 * data directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>

static int is_ident(const char *s)
{
    if (!*s || strlen(s) > 64 || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bz_schema *s = NULL, *s2 = NULL;
    int rc = bz_schema_parse((const char *)data, size, &s);
    if (rc != BZ_OK) {
        if (rc != BZ_ESCHEMA && rc != BZ_ENOMEM)
            abort();
        if (!*bz_errmsg())
            abort();
        return 0;
    }
    char *text = bz_schema_text(s);
    if (!text)
        abort();
    for (size_t t = 0; t < bz_schema_ntables(s); t++) {
        const char *name = bz_schema_table_name(s, t);
        if (!is_ident(name) || strstr(name, "__"))
            abort();
        for (size_t f = 0; f < bz_schema_nfields(s, t); f++) {
            bz_field_def d;
            if (bz_schema_field(s, t, f, &d) != BZ_OK || !is_ident(d.name))
                abort();
        }
    }
    if (bz_schema_parse(text, strlen(text), &s2) != BZ_OK)
        abort();
    char *text2 = bz_schema_text(s2);
    if (!text2 || strcmp(text, text2) != 0)
        abort();
    free(text);
    free(text2);
    bz_schema_free(s);
    bz_schema_free(s2);
    return 0;
}
