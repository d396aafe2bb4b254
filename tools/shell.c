/*
 * shell.c - helpers shared by the data commands (see shell.h).
 */
#include "shell.h"

#include <stdio.h>
#include <string.h>

int shell_open(const char *cmd, const char *dir, bz_db **db)
{
    bz_options *opts = bz_options_new();
    int rc = opts ? bz_options_set_create(opts, 0) : BZ_ENOMEM;

    if (rc == BZ_OK)
        rc = bz_open_recorded(dir, opts, db);
    if (rc != BZ_OK) {
        /* Read the message before any other bz_ call can replace it. */
        const char *msg = *bz_errmsg() ? bz_errmsg() : bz_strerror(rc);
        if (strstr(msg, dir))
            fprintf(stderr, "bazoola %s: %s\n", cmd, msg);
        else
            fprintf(stderr, "bazoola %s: %s: %s\n", cmd, dir, msg);
    }
    if (opts)
        bz_options_free(opts);
    return rc;
}

long shell_find_table(const char *cmd, const char *dir, const bz_schema *s,
                      const char *table)
{
    size_t n = bz_schema_ntables(s);

    for (size_t t = 0; t < n; t++)
        if (strcmp(bz_schema_table_name(s, t), table) == 0)
            return (long)t;
    fprintf(stderr, "bazoola %s: %s has no table '%s' (tables:", cmd, dir,
            table);
    for (size_t t = 0; t < n; t++)
        fprintf(stderr, "%s %s", t ? "," : "", bz_schema_table_name(s, t));
    fputs(")\n", stderr);
    return -1;
}

int shell_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}
