/*
 * shell.h - small pieces shared by the data commands of `bazoola` (dump,
 * schema, import): opening a directory with its recorded schema and finding
 * a table, with errors that name the command and what is at fault.
 */
#ifndef BAZOOLA_TOOLS_SHELL_H
#define BAZOOLA_TOOLS_SHELL_H

#include <stddef.h>

#include <bazoola.h>

/* Open dir with the schema recorded in dir/.schema, never creating
 * anything (a mistyped DIR must fail, not leave an empty directory).  On
 * failure prints "bazoola CMD: DIR: message" and returns the bz_rc. */
int shell_open(const char *cmd, const char *dir, bz_db **db);

/* The index of table in s, or -1 after printing an error that lists the
 * tables there are. */
long shell_find_table(const char *cmd, const char *dir, const bz_schema *s,
                      const char *table);

/* "--help" or "-h" */
int shell_is_help(const char *arg);

#endif /* BAZOOLA_TOOLS_SHELL_H */
