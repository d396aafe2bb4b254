/*
 * bazoola.c - the `bazoola` shell: a git-style dispatcher.
 *
 * `bazoola COMMAND ARGS...` hands ARGS (with argv[0] = COMMAND) to the
 * command's main; each command parses its own options and prints its own
 * usage, so a new command is one file plus one line in `commands`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bazoola.h>

#include "dump.h"
#include "check.h"
#include "exec.h"
#include "import.h"
#include "export.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
    const char *summary;
};

/* ------------------------------------------------------------------ */
/* `bazoola shm remove DIR`: small enough to live here. */

static void shm_usage(FILE *out)
{
    fputs("Usage: bazoola shm remove [--force] DIR\n"
          "\n"
          "Remove the shared segment of the data directory DIR (the page\n"
          "cache that processes opening DIR in lock mode shared attach to),\n"
          "for a segment that is not ours or is damaged.  The data files are\n"
          "not touched.  A segment that live processes use is refused (they\n"
          "would keep their cache while the next open makes another one,\n"
          "blind to each other's writes); --force removes it anyway.\n"
          "\n"
          "Exit status: 0 when removed, 1 when DIR has no segment, it is in\n"
          "use, or on an error, 2 on a bad command line.\n", out);
}

static int shm_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "-h") == 0)) {
        shm_usage(stdout);
        return BZ_EXIT_OK;
    }
    if (argc < 2) {
        shm_usage(stderr);
        return BZ_EXIT_USAGE;
    }
    if (strcmp(argv[1], "remove") != 0) {
        fprintf(stderr, "bazoola shm: unknown subcommand '%s'\n"
                        "Run 'bazoola shm --help' for usage.\n", argv[1]);
        return BZ_EXIT_USAGE;
    }
    if (argc == 3 && (strcmp(argv[2], "--help") == 0 ||
                      strcmp(argv[2], "-h") == 0)) {
        shm_usage(stdout);
        return BZ_EXIT_OK;
    }
    bool force = false;
    const char *dir = NULL, *bad = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0)
            force = true;
        else if (argv[i][0] == '-' || dir)
            bad = bad ? bad : argv[i];
        else
            dir = argv[i];
    }
    if (!dir || bad) {
        if (bad)
            fprintf(stderr, "bazoola shm remove: unexpected argument '%s'\n",
                    bad);
        else
            fputs("bazoola shm remove: no data directory given\n", stderr);
        fputs("Run 'bazoola shm --help' for usage.\n", stderr);
        return BZ_EXIT_USAGE;
    }
    int rc = force ? bz_shm_remove_forced(dir) : bz_shm_remove(dir);
    if (rc == BZ_ENOTFOUND) {
        fprintf(stderr, "bazoola shm remove: %s has no shared segment\n", dir);
        return BZ_EXIT_FAIL;
    }
    if (rc != BZ_OK) {
        fprintf(stderr, "bazoola shm remove: %s\n", bz_errmsg());
        return BZ_EXIT_FAIL;
    }
    printf("removed shared segment of %s\n", dir);
    return BZ_EXIT_OK;
}

/* ------------------------------------------------------------------ */

static const struct command commands[] = {
    { "exec", exec_main, exec_usage,
      "run JSON-lines operations read from stdin" },
    { "dump", dump_main, dump_usage,
      "print the rows of a directory as text, JSON lines or CSV" },
    { "schema", schema_main, schema_usage,
      "print the schema recorded in a directory" },
    { "import", import_main, import_usage,
      "insert rows from CSV or JSON lines into a table, all or none" },
    { "export", export_main, export_usage,
      "write tables as SQL that sqlite3 or psql load (export --sql DIR)" },
    { "check", check_main, check_usage,
      "check a directory's files; --repair rebuilds index, free, seqnum" },
    { "shm", shm_main, shm_usage,
      "remove the shared segment of a directory (shm remove DIR)" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fputs("Usage: bazoola COMMAND [ARGS...]\n"
          "       bazoola help [COMMAND]\n"
          "       bazoola --help | --version\n"
          "\n"
          "The command-line shell of Bazoola, a small table store.\n"
          "\n"
          "Commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Run 'bazoola help COMMAND' or 'bazoola COMMAND --help' for the\n"
          "usage of a command.\n", out);
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "bazoola: unknown command '%s'\n"
                    "Run 'bazoola --help' for the list of commands.\n", name);
    return BZ_EXIT_USAGE;
}

/* `bazoola help [COMMAND]` */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return BZ_EXIT_OK;
    }
    if (argc > 3) {
        fprintf(stderr, "bazoola help: unexpected argument '%s'\n", argv[3]);
        return BZ_EXIT_USAGE;
    }
    const struct command *cmd = find_command(argv[2]);
    if (!cmd)
        return unknown_command(argv[2]);
    cmd->usage(stdout);
    return BZ_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BZ_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return BZ_EXIT_OK;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("bazoola %s\n", bz_version());
        return BZ_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0)
        return help(argc, argv);
    if (arg[0] == '-') {
        fprintf(stderr, "bazoola: unknown option '%s'\n"
                        "Run 'bazoola --help' for usage.\n", arg);
        return BZ_EXIT_USAGE;
    }
    const struct command *cmd = find_command(arg);
    if (!cmd)
        return unknown_command(arg);
    return cmd->run(argc - 1, argv + 1);
}
