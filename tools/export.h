/*
 * export.h - `bazoola export --sql`: a data directory as SQL that sqlite3
 * and psql load (docs/man/bazoola.1).
 */
#ifndef BAZOOLA_TOOLS_EXPORT_H
#define BAZOOLA_TOOLS_EXPORT_H

#include <stdio.h>

/* Run `bazoola export`; argv[0] is "export".  Returns the exit status
 * (BZ_EXIT_* of exec.h). */
int export_main(int argc, char **argv);
/* Print the usage text of `bazoola export` to out. */
void export_usage(FILE *out);

#endif /* BAZOOLA_TOOLS_EXPORT_H */
