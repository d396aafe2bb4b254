/*
 * alloc.c - which malloc this executable runs with.
 *
 * Compiled into each executable on its own: bzbench is linked with
 * jemalloc (${BAZOOLA_EXE_MALLOC}), bzbench-glibc with nothing, so it uses
 * glibc's malloc, and is built with BZBENCH_GLIBC defined so that every
 * mode it reports reads "...+glibc".  Whether jemalloc is really in use is
 * checked at run time, by looking for its mallctl() entry point, rather
 * than trusted from the build.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "bench.h"

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* jemalloc's version, or NULL when jemalloc is not the malloc in use. */
static const char *jemalloc_version(void)
{
    mallctl_fn f;
    *(void **)&f = dlsym(RTLD_DEFAULT, "mallctl");
    if (!f)
        return NULL;
    const char *v = NULL;
    size_t len = sizeof v;
    return f("version", &v, &len, NULL, 0) == 0 && v ? v : "(version unknown)";
}

const char *alloc_suffix(void)
{
#ifdef BZBENCH_GLIBC
    return "+glibc";
#else
    return "";
#endif
}

const char *alloc_describe(void)
{
    static char buf[96];
    const char *v = jemalloc_version();
    if (v)
        snprintf(buf, sizeof buf, "jemalloc %s", v);
    else
        snprintf(buf, sizeof buf, "glibc malloc");
    return buf;
}

int alloc_as_built(void)
{
#ifdef BZBENCH_GLIBC
    return jemalloc_version() == NULL;
#else
    return jemalloc_version() != NULL;
#endif
}
