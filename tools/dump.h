/*
 * dump.h - `bazoola dump` (a directory's rows as text, JSON lines or CSV)
 * and `bazoola schema` (its recorded schema).
 */
#ifndef BAZOOLA_TOOLS_DUMP_H
#define BAZOOLA_TOOLS_DUMP_H

#include <stdio.h>

/* argv[0] is the command's name; each returns the exit status. */
int dump_main(int argc, char **argv);
void dump_usage(FILE *out);
int schema_main(int argc, char **argv);
void schema_usage(FILE *out);

#endif /* BAZOOLA_TOOLS_DUMP_H */
