#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "err.h"
#include "journal.h"

#define REC_MAGIC 0x4a5a4221u /* "!BZJ" */

struct jrec {
    uint32_t magic;
    uint32_t crc;       /* of everything after this field */
    uint16_t name_len;
    uint16_t pad;
    uint32_t len;
    int64_t off;
    int64_t old_size;
    /* name, then old bytes */
};

static uint32_t rec_crc(const struct jrec *r, const char *name, const void *old)
{
    uint32_t c = bz__crc32(0, &r->name_len,
                              sizeof(*r) - offsetof(struct jrec, name_len));
    c = bz__crc32(c, name, r->name_len);
    return bz__crc32(c, old, r->len);
}

static int journal_open(bz_journal *j, int dirfd)
{
    if (j->fd >= 0)
        return BZ_OK;
    j->fd = openat(dirfd, BZ_JOURNAL_FILE,
                   O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (j->fd < 0)
        return bz__err_os(errno, "cannot open the journal %s", BZ_JOURNAL_FILE);
    return BZ_OK;
}

int bz__journal_add(bz_journal *j, int dirfd, const char *file, int64_t off,
                    int64_t old_size, const void *old, size_t len)
{
    int rc = journal_open(j, dirfd);
    if (rc)
        return rc;
    size_t nl = strlen(file);
    struct jrec r = {REC_MAGIC, 0, (uint16_t)nl, 0, (uint32_t)len, off,
                     old_size};
    r.crc = rec_crc(&r, file, old);
    size_t total = sizeof r + nl + len;
    char *buf = malloc(total);
    if (!buf)
        return bz__nomem();
    memcpy(buf, &r, sizeof r);
    memcpy(buf + sizeof r, file, nl);
    if (len)
        memcpy(buf + sizeof r + nl, old, len);
    ssize_t w = pwrite(j->fd, buf, total, (off_t)j->used);
    int e = errno;
    free(buf);
    if (w != (ssize_t)total)
        return bz__err_os(w < 0 ? e : EIO, "cannot write the journal");
    /* Durable before the change it undoes is even started. */
    if (fdatasync(j->fd) != 0)
        return bz__err_os(errno, "cannot sync the journal");
    j->used += (int64_t)total;
    return BZ_OK;
}

int bz__journal_clear(bz_journal *j, int dirfd)
{
    (void)dirfd;
    if (j->fd < 0 || j->used == 0)
        return BZ_OK;
    if (ftruncate(j->fd, 0) != 0 || fdatasync(j->fd) != 0)
        return bz__err_os(errno, "cannot empty the journal");
    j->used = 0;
    return BZ_OK;
}

void bz__journal_close(bz_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    j->used = 0;
}

static int apply(int dirfd, const struct jrec *r, const char *name,
                 const char *old)
{
    char fname[256];
    if (r->name_len == 0 || r->name_len >= sizeof fname)
        return bz__err(BZ_ECORRUPT, "journal record names no valid file");
    memcpy(fname, name, r->name_len);
    fname[r->name_len] = '\0';
    if (strchr(fname, '/'))
        return bz__err(BZ_ECORRUPT, "journal record names %s, outside the "
                       "data directory", fname);
    int fd = openat(dirfd, fname, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return bz__err_os(errno, "journal recovery cannot open %s", fname);
    int rc = BZ_OK;
    if (r->len && pwrite(fd, old, r->len, (off_t)r->off) != (ssize_t)r->len)
        rc = bz__err_os(errno ? errno : EIO, "journal recovery cannot write %s",
                        fname);
    if (!rc && ftruncate(fd, (off_t)r->old_size) != 0)
        rc = bz__err_os(errno, "journal recovery cannot truncate %s", fname);
    if (!rc && fdatasync(fd) != 0)
        rc = bz__err_os(errno, "journal recovery cannot sync %s", fname);
    close(fd);
    return rc;
}

int bz__journal_recover(int dirfd, uint32_t *records)
{
    *records = 0;
    int fd = openat(dirfd, BZ_JOURNAL_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? BZ_OK
                               : bz__err_os(errno, "cannot open the journal");
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        return BZ_OK;
    }
    char *buf = malloc((size_t)st.st_size);
    int rc = BZ_OK;
    if (!buf) {
        close(fd);
        return bz__nomem();
    }
    if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        rc = bz__err_os(errno ? errno : EIO, "cannot read the journal");
        goto out;
    }
    /* Index the whole records; a torn or damaged one ends the list. */
    size_t cap = 64, n = 0;
    size_t *at = malloc(cap * sizeof(*at));
    if (!at) {
        rc = bz__nomem();
        goto out;
    }
    /* Records are packed, not aligned: headers are copied out. */
    for (size_t o = 0; o + sizeof(struct jrec) <= (size_t)st.st_size;) {
        struct jrec r;
        memcpy(&r, buf + o, sizeof r);
        size_t total = sizeof r + r.name_len + r.len;
        if (r.magic != REC_MAGIC || o + total > (size_t)st.st_size ||
            rec_crc(&r, buf + o + sizeof r, buf + o + sizeof r + r.name_len) !=
                r.crc)
            break;
        if (n == cap) {
            size_t *m = realloc(at, (cap *= 2) * sizeof(*at));
            if (!m) {
                free(at);
                rc = bz__nomem();
                goto out;
            }
            at = m;
        }
        at[n++] = o;
        o += total;
    }
    for (size_t i = n; i-- > 0 && !rc;) {
        struct jrec r;
        memcpy(&r, buf + at[i], sizeof r);
        rc = apply(dirfd, &r, buf + at[i] + sizeof r,
                   buf + at[i] + sizeof r + r.name_len);
        if (!rc)
            (*records)++;
    }
    free(at);
    if (!rc && (ftruncate(fd, 0) != 0 || fdatasync(fd) != 0))
        rc = bz__err_os(errno, "cannot empty the journal after recovery");
out:
    free(buf);
    close(fd);
    return rc;
}

int bz__journal_discard(int dirfd)
{
    int fd = openat(dirfd, BZ_JOURNAL_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? BZ_OK
                               : bz__err_os(errno, "cannot open the journal");
    struct stat st;
    int rc = BZ_OK;
    if (fstat(fd, &st) == 0 && st.st_size > 0 &&
        (ftruncate(fd, 0) != 0 || fdatasync(fd) != 0))
        rc = bz__err_os(errno, "cannot empty the journal");
    close(fd);
    return rc;
}
