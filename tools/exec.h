/*
 * exec.h - `bazoola exec`, the JSON-lines runner (README.md).
 */
#ifndef BAZOOLA_TOOLS_EXEC_H
#define BAZOOLA_TOOLS_EXEC_H

#include <stdio.h>

#include <bazoola.h>

#include "common/cli.h" /* the exit statuses */

/* Run `bazoola exec`; argv[0] is "exec".  Returns the exit status. */
int exec_main(int argc, char **argv);
/* Print the usage text of `bazoola exec` to out. */
void exec_usage(FILE *out);
/* Handle one request line (line number lineno, for messages) against db;
 * returns the compact JSON reply (caller frees), NULL when out of memory. */
char *exec_line(bz_db *db, unsigned long lineno, const char *line,
                size_t len);

#endif /* BAZOOLA_TOOLS_EXEC_H */
