/*
 * fuzz_common.h - helpers shared by the libFuzzer targets (tests/fuzz/).
 *
 * Each target works in one scratch directory per process (under
 * $TMPDIR or /tmp), emptied at the start of every input, so one input
 * always runs against the same starting state (reproducible crashes).
 */
#ifndef BZ_FUZZ_COMMON_H
#define BZ_FUZZ_COMMON_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Inputs made of several parts (schema, files, ...) separate them with
 * this line; the seed corpora use it, libFuzzer learns it quickly. */
#define FUZZ_SEP "\n%%\n"
#define FUZZ_SEP_LEN 4

/* Split data into at most max parts at FUZZ_SEP; returns the count. */
static inline size_t fuzz_split(const char *data, size_t size,
                                const char **part, size_t *len, size_t max)
{
    size_t n = 0;
    const char *p = data, *end = data + size;
    while (n < max) {
        const char *q = memmem(p, (size_t)(end - p), FUZZ_SEP, FUZZ_SEP_LEN);
        if (!q || n == max - 1) {
            part[n] = p;
            len[n++] = (size_t)(end - p);
            break;
        }
        part[n] = p;
        len[n++] = (size_t)(q - p);
        p = q + FUZZ_SEP_LEN;
    }
    return n;
}

static char fuzz_dir_path[256];

static inline void fuzz_empty_dir(const char *dir, const char *const *keep);

static inline void fuzz_dir_remove(void)
{
    fuzz_empty_dir(fuzz_dir_path, NULL);
    rmdir(fuzz_dir_path);
}

/* A scratch directory for this process, created once, removed at exit. */
static inline const char *fuzz_dir(const char *tag)
{
    char *path = fuzz_dir_path;
    if (!path[0]) {
        atexit(fuzz_dir_remove);
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof fuzz_dir_path, "%s/bzfuzz-%s-%d", tmp && *tmp ? tmp : "/tmp",
                 tag, (int)getpid());
        mkdir(path, 0700);
    }
    return path;
}

/* Remove every entry of dir except those named in keep (NULL-ended). */
static inline void fuzz_empty_dir(const char *dir, const char *const *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int kept = 0;
        for (size_t i = 0; keep && keep[i]; i++)
            if (!strcmp(keep[i], e->d_name))
                kept = 1;
        if (!kept)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static inline int fuzz_write_file(const char *dir, const char *name,
                                  const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

#endif
