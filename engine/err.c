#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

/* Messages can quote user values of any length (0.0.7 prints the repr of a
 * rejected value), so the buffer grows; it is freed at thread exit. */
struct err_state {
    char *msg;
    size_t cap;
    int os_errno;
};

static pthread_key_t err_key;
static pthread_once_t err_once = PTHREAD_ONCE_INIT;
static char nomem_msg[] = "out of memory";

static void err_state_free(void *p)
{
    struct err_state *st = p;
    free(st->msg);
    free(st);
}

static void err_key_init(void)
{
    (void)pthread_key_create(&err_key, err_state_free);
}

static struct err_state *err_state(void)
{
    pthread_once(&err_once, err_key_init);
    struct err_state *st = pthread_getspecific(err_key);
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return NULL;
        if (pthread_setspecific(err_key, st) != 0) {
            free(st);
            return NULL;
        }
    }
    return st;
}

/* Messages quote what was wrong (a name, a value), and a caller may pass
 * a huge one: keep the start, cut on a UTF-8 boundary, and say how much
 * went, so a message stays something a person can read. */
#define MSG_MAX 4096

static void cap_message(char *msg, size_t len)
{
    if (len <= MSG_MAX)
        return;
    size_t keep = MSG_MAX - 64;
    while (keep > 0 && ((unsigned char)msg[keep] & 0xC0) == 0x80)
        keep--;
    snprintf(msg + keep, len + 1 - keep, "... (%zu more bytes)", len - keep);
}

static void err_vset(const char *prefix, const char *fmt, va_list ap)
{
    struct err_state *st = err_state();
    if (!st)
        return;
    va_list ap2;
    va_copy(ap2, ap);
    size_t plen = prefix ? strlen(prefix) : 0;
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    size_t need = plen + (size_t)n + 1;
    if (need > st->cap) {
        char *m = realloc(st->msg, need);
        if (!m)
            return;
        st->msg = m;
        st->cap = need;
    }
    if (plen)
        memcpy(st->msg, prefix, plen);
    vsnprintf(st->msg + plen, (size_t)n + 1, fmt, ap);
    cap_message(st->msg, need - 1);
}

void bz__err_clear(void)
{
    struct err_state *st = err_state();
    if (st) {
        if (st->msg)
            st->msg[0] = '\0';
        st->os_errno = 0;
    }
}

int bz__err(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int bz__err_os(int os_errno, const char *fmt, ...)
{
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    err_vset(NULL, fmt, ap);
    va_end(ap);
    struct err_state *st = err_state();
    if (st && st->msg) {
        snprintf(detail, sizeof(detail), ": %s", strerror(os_errno));
        size_t have = strlen(st->msg), add = strlen(detail);
        if (have + add + 1 > st->cap) {
            char *m = realloc(st->msg, have + add + 1);
            if (m) {
                st->msg = m;
                st->cap = have + add + 1;
            }
        }
        if (have + add + 1 <= st->cap)
            memcpy(st->msg + have, detail, add + 1);
        st->os_errno = os_errno;
    }
    return BZ_EIO;
}

int bz__corrupt(const char *table, const char *file, int64_t offset,
                const char *fmt, ...)
{
    char prefix[512];
    snprintf(prefix, sizeof(prefix),
             "Inconsistent data: table '%s', file %s, offset %lld: ",
             table ? table : "?", file ? file : "?", (long long)offset);
    va_list ap;
    va_start(ap, fmt);
    err_vset(prefix, fmt, ap);
    va_end(ap);
    return BZ_ECORRUPT;
}

int bz__nomem(void)
{
    struct err_state *st = err_state();
    if (st && st->cap >= sizeof(nomem_msg))
        memcpy(st->msg, nomem_msg, sizeof(nomem_msg));
    else if (st && !st->msg && (st->msg = malloc(sizeof(nomem_msg)))) {
        st->cap = sizeof(nomem_msg);
        memcpy(st->msg, nomem_msg, sizeof(nomem_msg));
    }
    return BZ_ENOMEM;
}

const char *bz_errmsg(void)
{
    struct err_state *st = err_state();
    return st && st->msg ? st->msg : "";
}

int bz_errno(void)
{
    struct err_state *st = err_state();
    return st ? st->os_errno : 0;
}

const char *bz_strerror(int rc)
{
    switch (rc) {
    case BZ_OK: return "success";
    case BZ_EVALIDATION: return "value refused";
    case BZ_ENOTFOUND: return "no such row";
    case BZ_ECONSTRAINT: return "constraint violated";
    case BZ_ECORRUPT: return "data file corrupt";
    case BZ_EINVAL: return "invalid argument";
    case BZ_EIO: return "I/O error";
    case BZ_ENOMEM: return "out of memory";
    case BZ_ESCHEMA: return "schema error";
    case BZ_ELOCKED: return "lock misuse";
    case BZ_ROW: return "row available";
    case BZ_DONE: return "no more rows";
    default: return "unknown result code";
    }
}

const char *bz_errkind(int rc)
{
    switch (rc) {
    case BZ_OK: return "ok";
    case BZ_EVALIDATION: return "validation";
    case BZ_ENOTFOUND: return "not_found";
    case BZ_ECONSTRAINT: return "constraint";
    case BZ_ECORRUPT: return "corrupt";
    case BZ_EIO: return "io";
    case BZ_ENOMEM: return "io";
    default: return "bad_request";
    }
}

int bz_version_number(void) { return BZ_VERSION_NUMBER; }
const char *bz_version(void) { return BZ_VERSION_STRING; }

/* getpid() is a system call in glibc 2.25+; the engine asks on every
 * operation (a handle refuses use across fork), so the answer is kept and
 * renewed in the child of every fork. */
static pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_reset(void)
{
    __atomic_store_n(&cached_pid, getpid(), __ATOMIC_RELAXED);
}

static void pid_init(void)
{
    pid_reset();
    pthread_atfork(NULL, NULL, pid_reset);
}

pid_t bz__pid(void)
{
    pthread_once(&pid_once, pid_init);
    return __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
}
