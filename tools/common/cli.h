/*
 * cli.h - the command-line contract every Bazoola program keeps.
 *
 * Options anywhere (GNU getopt_long permutation: `bazoola check DIR
 * --repair` is `bazoola check --repair DIR`; `--` ends them), --help and
 * --version on every program and subcommand, one table of exit statuses,
 * and errors written as "PROG: WHAT: WHY" so a script's log says which
 * program, about what, and why.  The man pages document the same table.
 */
#ifndef BAZOOLA_TOOLS_CLI_H
#define BAZOOLA_TOOLS_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Exit statuses of every program (see the EXIT STATUS of each man page). */
enum {
    BZ_EXIT_OK = 0,        /* done; check: clean; bzworkers: every check passed */
    BZ_EXIT_FAIL = 1,      /* findings or failure: damage found, a check or an
                              operation failed, a file could not be used   */
    BZ_EXIT_USAGE = 2,     /* bad command line: nothing was done           */
    BZ_EXIT_NOSEGMENT = 3  /* DIR has no shared segment (bzstat, bazoola shm) */
};

#define CLI_MAX_OPTIONS 32

/* One program's (or subcommand's) parser state. */
struct cli {
    const char *prog;  /* as messages name it: "bzstat", "bazoola check" */
    void (*usage)(FILE *out);
    int status;        /* when cli_next returned CLI_STOP: the exit status */
    /* Internal: the caller's options plus --help and --version. */
    struct option all[CLI_MAX_OPTIONS + 3];
    char shorts[2 * CLI_MAX_OPTIONS + 8];
};

/* cli_next's answer when the program should exit now with c->status:
 * --help or --version was answered, or a bad option was reported. */
#define CLI_STOP (-2)

/* shortopts as getopt's (without a leading '+', '-' or ':'); longopts
 * NULL-terminated, NULL for none.  -h/--help and -V/--version are added. */
void cli_init(struct cli *c, const char *prog, void (*usage)(FILE *out),
              const char *shortopts, const struct option *longopts);

/* The next option as getopt_long returns it (optarg set), -1 once only
 * operands are left (from argv[optind]), or CLI_STOP. */
int cli_next(struct cli *c, int argc, char **argv);

/* Check that between min and max operands are left (max < 0: any number);
 * names describes them for messages ("DIR", "DIR TABLE FILE").  With
 * nothing at all on the command line the usage goes to stderr.  Returns 0,
 * or BZ_EXIT_USAGE after reporting. */
int cli_operands(const struct cli *c, int argc, char **argv, int min, int max,
                 const char *names);

/* "PROG: WHAT: WHY" on stderr (WHAT may be NULL: "PROG: WHY"). */
__attribute__((format(printf, 3, 4)))
void cli_error(const char *prog, const char *what, const char *fmt, ...);

/* "PROG: WHAT: MSG" for a message from the library, WHAT left out when
 * MSG already names it (its messages often name the directory or file). */
void cli_error_msg(const char *prog, const char *what, const char *msg);

/* A usage error: "PROG: WHAT: WHY" and a pointer to --help; returns
 * BZ_EXIT_USAGE. */
__attribute__((format(printf, 3, 4)))
int cli_usage_error(const struct cli *c, const char *what, const char *fmt,
                    ...);

/* "PROG VERSION" on stdout, the library's version. */
void cli_version(const char *prog);

/* Parse a whole decimal number in [min, max] (the whole string); 0 or -1. */
int cli_long(const char *s, long min, long max, long *out);

/* The same text for every man page and --help: the exit status table. */
#define CLI_EXIT_HELP \
    "Exit status: 0 success, 1 findings or failure, 2 bad command line,\n" \
    "3 no shared segment (bzstat, bazoola shm).\n"

#endif /* BAZOOLA_TOOLS_CLI_H */
