/*
 * import.h - `bazoola import DIR TABLE FILE --format csv|jsonl`: rows into a
 * table, all or none.
 */
#ifndef BAZOOLA_TOOLS_IMPORT_H
#define BAZOOLA_TOOLS_IMPORT_H

#include <stdio.h>

/* argv[0] is "import"; returns the exit status. */
int import_main(int argc, char **argv);
void import_usage(FILE *out);

#endif /* BAZOOLA_TOOLS_IMPORT_H */
