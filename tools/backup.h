/*
 * backup.h - the whole-directory backup: `bazoola dump DIR` writes it,
 * `bazoola load NEWDIR` makes the same files from it.
 */
#ifndef BAZOOLA_TOOLS_BACKUP_H
#define BAZOOLA_TOOLS_BACKUP_H

#include <stdio.h>

/* The backup of dir on standard output; returns the exit status. */
int backup_dump(const char *dir);
/* `bazoola load`; argv[0] is "load". */
int load_main(int argc, char **argv);
void load_usage(FILE *out);

#endif /* BAZOOLA_TOOLS_BACKUP_H */
