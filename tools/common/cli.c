/*
 * cli.c - the command-line contract (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bazoola.h>

void cli_init(struct cli *c, const char *prog, void (*usage)(FILE *out),
              const char *shortopts, const struct option *longopts)
{
    memset(c, 0, sizeof *c);
    c->prog = prog;
    c->usage = usage;
    size_t n = 0;
    for (; longopts && longopts[n].name && n < CLI_MAX_OPTIONS; n++)
        c->all[n] = longopts[n];
    c->all[n++] = (struct option){"help", no_argument, NULL, 'h'};
    c->all[n++] = (struct option){"version", no_argument, NULL, 'V'};
    /* ':' first: a missing argument is told apart from an unknown option.
     * No '+': operands and options mix (GNU permutation). */
    snprintf(c->shorts, sizeof c->shorts, ":%shV", shortopts ? shortopts : "");
    /* 0, not 1: glibc then forgets the state of any earlier scan. */
    optind = 0;
    opterr = 0;
}

int cli_next(struct cli *c, int argc, char **argv)
{
    int opt = getopt_long(argc, argv, c->shorts, c->all, NULL);
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    switch (opt) {
    case 'h':
        c->usage(stdout);
        c->status = BZ_EXIT_OK;
        return CLI_STOP;
    case 'V':
        cli_version(c->prog);
        c->status = BZ_EXIT_OK;
        return CLI_STOP;
    case ':':
        if (optopt && arg[0] == '-' && arg[1] != '-')
            c->status = cli_usage_error(c, NULL, "option '-%c' needs a value",
                                        optopt);
        else
            c->status = cli_usage_error(c, NULL, "option '%s' needs a value",
                                        arg);
        return CLI_STOP;
    case '?':
        if (strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
            c->status = cli_usage_error(c, NULL, "option '%.*s' takes no value "
                                        "or is unknown",
                                        (int)(strchr(arg, '=') - arg), arg);
        else if (strncmp(arg, "--", 2) == 0)
            c->status = cli_usage_error(c, NULL, "unknown option '%s'", arg);
        else
            c->status = cli_usage_error(c, NULL, "unknown option '-%c'",
                                        optopt);
        return CLI_STOP;
    default:
        return opt;
    }
}

int cli_operands(const struct cli *c, int argc, char **argv, int min, int max,
                 const char *names)
{
    int n = argc - optind;
    if (argc <= 1 && min > 0) {
        c->usage(stderr);
        return BZ_EXIT_USAGE;
    }
    if (n < min)
        return cli_usage_error(c, NULL, "missing operand (takes %s)", names);
    if (max == 0 && n > 0)
        return cli_usage_error(c, argv[optind], "unexpected operand (takes "
                               "none)");
    if (max >= 0 && n > max)
        return cli_usage_error(c, argv[optind + max], "unexpected operand "
                               "(takes %s)", names);
    return 0;
}

static void verror(const char *prog, const char *what, const char *fmt,
                   va_list ap)
{
    char why[1024];
    vsnprintf(why, sizeof why, fmt, ap);
    if (what)
        fprintf(stderr, "%s: %s: %s\n", prog, what, why);
    else
        fprintf(stderr, "%s: %s\n", prog, why);
}

void cli_error(const char *prog, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(prog, what, fmt, ap);
    va_end(ap);
}

void cli_error_msg(const char *prog, const char *what, const char *msg)
{
    if (!msg || !*msg)
        msg = "unknown error";
    if (what && strstr(msg, what))
        what = NULL;
    cli_error(prog, what, "%s", msg);
}

int cli_usage_error(const struct cli *c, const char *what, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(c->prog, what, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Run '%s --help' for usage.\n", c->prog);
    return BZ_EXIT_USAGE;
}

void cli_version(const char *prog)
{
    /* "bazoola check" answers as "bazoola": the program is versioned. */
    size_t n = strcspn(prog, " ");
    printf("%.*s %s\n", (int)n, prog, bz_version());
}

int cli_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
