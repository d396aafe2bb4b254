/*
 * check.h - `bazoola check DIR [--repair] [--json]`.
 */
#ifndef BAZOOLA_TOOLS_CHECK_H
#define BAZOOLA_TOOLS_CHECK_H

#include <stdio.h>

int check_main(int argc, char **argv);
void check_usage(FILE *out);

#endif
