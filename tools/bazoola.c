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

#include "common/cli.h"
#include "backup.h"
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
          "Options:\n"
          "  --force        remove the segment even while processes use it\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "Exit status: 0 when removed, 1 when it is in use or on an error,\n"
          "2 on a bad command line, 3 when DIR has no shared segment.\n", out);
}

static int shm_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    bool force = false;
    struct cli cli;
    int c;

    cli_init(&cli, "bazoola shm", shm_usage, "", longopts);
    while ((c = cli_next(&cli, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cli.status;
        force = true; /* 'f' */
    }
    if ((c = cli_operands(&cli, argc, argv, 2, 2, "remove DIR")))
        return c;
    if (strcmp(argv[optind], "remove") != 0)
        return cli_usage_error(&cli, argv[optind], "unknown subcommand "
                               "(remove)");
    const char *dir = argv[optind + 1];
    int rc = force ? bz_shm_remove_forced(dir) : bz_shm_remove(dir);
    if (rc == BZ_ENOTFOUND) {
        cli_error("bazoola shm remove", NULL, "%s has no shared segment", dir);
        return BZ_EXIT_NOSEGMENT;
    }
    if (rc != BZ_OK) {
        cli_error_msg("bazoola shm remove", dir, bz_errmsg());
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
      "back up a directory (JSON lines), or print rows as text, JSON, CSV" },
    { "load", load_main, load_usage,
      "make a new directory from the backup 'bazoola dump DIR' wrote" },
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
    cli_error("bazoola", name, "unknown command");
    fputs("Run 'bazoola --help' for the list of commands.\n", stderr);
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
        cli_error("bazoola help", argv[3], "unexpected operand (takes "
                  "[COMMAND])");
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
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        cli_version("bazoola");
        return BZ_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0)
        return help(argc, argv);
    /* Options before the command are only the shell's own: the rest
     * belong to the command (`bazoola check DIR --repair`). */
    if (arg[0] == '-') {
        cli_error("bazoola", NULL, "unknown option '%s' (before the command, "
                  "only --help and --version)", arg);
        fputs("Run 'bazoola --help' for usage.\n", stderr);
        return BZ_EXIT_USAGE;
    }
    const struct command *cmd = find_command(arg);
    if (!cmd)
        return unknown_command(arg);
    return cmd->run(argc - 1, argv + 1);
}
