/*
 * machine.c - what machine the numbers came from.
 *
 * Printed at the top of every run and written to OUT/machine.txt: CPUs
 * online, the CPU model (/proc/cpuinfo), the kernel, the memory, the load
 * average (at the start on the terminal, at the end in machine.txt: other
 * work on the machine skews results),
 * and the versions of the libraries measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bazoola.h>
#include <lmdb.h>
#include <sqlite3.h>

#include "bench.h"

/* The value of the first line of path that starts with key, trimmed. */
static int proc_field(const char *path, const char *key, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int rc = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(buf, len, "%s", v);
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

void machine_describe(FILE *f, const char *prefix, const char *when)
{
    char cpu[256] = "unknown", mem[64] = "unknown";
    proc_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    if (proc_field("/proc/meminfo", "MemTotal", mem, sizeof mem) == 0) {
        long kb = atol(mem);
        snprintf(mem, sizeof mem, "%.1f GiB", (double)kb / (1024.0 * 1024.0));
    }
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "unknown");
    double load[3] = { 0, 0, 0 };
    int nload = getloadavg(load, 3);
    fprintf(f, "%scpus: %ld online, %s\n", prefix,
            sysconf(_SC_NPROCESSORS_ONLN), cpu);
    fprintf(f, "%skernel: %s %s %s; memory: %s\n", prefix, u.sysname,
            u.release, u.machine, mem);
    if (nload == 3)
        fprintf(f, "%sload average %s: %.2f %.2f %.2f\n", prefix, when,
                load[0], load[1], load[2]);
    fprintf(f, "%sbazoola %s, SQLite %s, %s, malloc: %s\n", prefix,
            bz_version(), sqlite3_libversion(), mdb_version(NULL, NULL, NULL),
            alloc_describe());
}
