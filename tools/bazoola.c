/*
 * bazoola.c - the `bazoola` shell: a git-style dispatcher.
 *
 * `bazoola COMMAND ARGS...` hands ARGS (with argv[0] = COMMAND) to the
 * command's main; each command parses its own options and prints its own
 * usage, so a new command is one file plus one line in `commands`.
 */
#include <stdio.h>
#include <string.h>

#include <bazoola.h>

#include "exec.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
    const char *summary;
};

static const struct command commands[] = {
    { "exec", exec_main, exec_usage,
      "run JSON-lines operations read from stdin" },
    /* dump, check, export, import, schema and "shm remove" slot in here. */
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
