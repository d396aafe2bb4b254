/*
 * main.c - bztasks, the task-manager demo server (README.md, "The demo").
 *
 * The parent binds one listening socket on 127.0.0.1, opens the data
 * directory once to create it and seed the sample data, closes it, and
 * pre-forks the workers.  Each worker opens its own handle in lock mode
 * shared (all of them attach to one segment: the shared page cache and
 * lock manager) and runs libmicrohttpd with one internal polling thread on
 * the inherited socket; the kernel hands each connection to one of them.
 * The parent only supervises: a worker that dies is replaced; SIGTERM or
 * SIGINT stops every worker and then the parent.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "bztasks.h"
#include "common/cli.h"

#define DEFAULT_DIR "./bztasks-data"
#define DEFAULT_PORT 5000
#define DEFAULT_WORKERS 4
#define MAX_WORKERS 64


static void usage(FILE *out)
{
    fputs(
"Usage: bztasks [-w WORKERS] [-p PORT] [-d DIR]\n"
"\n"
"Serve the task-manager demo on http://127.0.0.1:PORT/ from WORKERS\n"
"pre-forked processes sharing the data directory DIR (lock mode shared).\n"
"Sample data is created when the tables are empty.\n"
"\n"
"  -w, --workers N  worker processes (1 to 64; default 4)\n"
"  -p, --port PORT  TCP port on 127.0.0.1 (default 5000; 0 picks a free\n"
"                   one, and the line \"listening on\" says which)\n"
"  -d, --dir DIR    data directory (default ./bztasks-data)\n"
"  -h, --help       show this help\n"
"  -V, --version    show the version\n"
"\n"
"A worker that dies is restarted.  SIGTERM or SIGINT stops them all.\n"
"Exit status: 0 after a clean stop, 1 when the port or DIR cannot be\n"
"used, 2 on a bad command line.\n",
          out);
}

/* ------------------------------------------------------------------ */
/* A worker: libmicrohttpd glue. */

/* What accumulates across the calls MHD makes for one request. */
struct conn {
    struct MHD_PostProcessor *pp; /* POST: decodes the body into form */
    struct formdata form;
    size_t body_len;
    int too_big, bad_type, oom;
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *filename,
                                const char *content_type,
                                const char *transfer_encoding,
                                const char *data, uint64_t off, size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    struct conn *st = cls;
    if (form_append(&st->form, key, data, off, size)) {
        st->oom = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

static const char *query_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx,
                                       MHD_GET_ARGUMENT_KIND, name);
}

/* A positive id of at most 18 digits, the whole segment. */
static int64_t parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Debian's libjs-chart.js puts Chart.js here (/usr/share/javascript is
 * where Debian's web packages keep their scripts). */
#define BZT_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"

static void static_text(struct resp *r, const char *text, const char *type)
{
    buf_add(&r->body, text, strlen(text));
    r->content_type = type;
}

/* A file this program names (never a path from the request). */
static void static_file(struct app *app, struct resp *r, const char *path,
                        const char *type)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_page(r, app, 404, "Not found", "Chart.js is not installed "
                   "(Debian: apt-get install libjs-chart.js).");
        return;
    }
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&r->body, chunk, n);
    fclose(f);
    r->content_type = type;
}

/* Routes: /, /projects, /projects/ID, /tasks, /tasks/ID, /users, /search,
 * /stats (with /stats.json, /stats.js and Debian's Chart.js), and /TABLE/new, /TABLE/ID/edit for the four tables.  Only the
 * forms accept POST: every other page is read-only. */
static void route(struct app *app, const struct req *q, struct resp *r)
{
    static const char *const tables[] = {"users", "projects", "tasks",
                                         "comments"};
    const char *p = q->path;
    int post = strcmp(q->method, "POST") == 0;
    char seg[3][32] = {{0}};
    size_t len[3] = {0}, nseg = 0;
    while (*p == '/' && nseg < 4) {
        p++;
        size_t n = strcspn(p, "/");
        if (n == 0 && !*p)
            break;
        if (nseg == 3 || n >= sizeof seg[0])
            goto not_found;
        memcpy(seg[nseg], p, n);
        len[nseg++] = n;
        p += n;
    }
    if (*p)
        goto not_found;

    const char *t = NULL;
    for (size_t i = 0; nseg && i < 4; i++)
        if (strcmp(seg[0], tables[i]) == 0)
            t = tables[i];
    int64_t id = nseg >= 2 ? parse_id(seg[1], len[1]) : 0;

    if (t && nseg == 2 && strcmp(seg[1], "new") == 0)
        page_form(app, t, 0, q, r);
    else if (t && nseg == 3 && id && strcmp(seg[2], "edit") == 0)
        page_form(app, t, id, q, r);
    else if (post)
        error_page(r, app, 405, "Method not allowed",
                   "This page only reads: changes are made by the forms.");
    else if (nseg == 0)
        page_dashboard(app, q, r);
    else if (nseg == 1 && strcmp(seg[0], "search") == 0)
        page_search(app, q, r);
    else if (nseg == 1 && strcmp(seg[0], "stats") == 0)
        page_stats(app, r);
    else if (nseg == 1 && strcmp(seg[0], "stats.json") == 0)
        page_stats_json(app, r);
    else if (nseg == 1 && strcmp(seg[0], "stats.js") == 0)
        static_text(r, bzt_stats_js, "text/javascript");
    else if (nseg == 3 && strcmp(seg[0], "javascript") == 0 &&
             strcmp(seg[1], "chart.js") == 0 &&
             strcmp(seg[2], "chart.min.js") == 0)
        static_file(app, r, BZT_CHARTJS, "text/javascript");
    else if (t && nseg == 1 && strcmp(t, "projects") == 0)
        page_projects(app, q, r);
    else if (t && nseg == 1 && strcmp(t, "tasks") == 0)
        page_tasks(app, q, r);
    else if (t && nseg == 1 && strcmp(t, "users") == 0)
        page_users(app, q, r);
    else if (t && nseg == 2 && id && strcmp(t, "projects") == 0)
        page_project(app, id, r);
    else if (t && nseg == 2 && id && strcmp(t, "tasks") == 0)
        page_task(app, id, r);
    else
        goto not_found;
    return;
not_found:
    error_page(r, app, 404, "Not found", "There is no such page.");
}

static enum MHD_Result send_page(struct MHD_Connection *c,
                                 const struct app *app, struct resp *r)
{
    static const char oom[] = "<!DOCTYPE html><title>500</title>"
                              "<p>Out of memory.</p>";
    struct MHD_Response *res;
    if (r->body.oom || (!r->body.p && r->status != 303)) {
        buf_free(&r->body);
        r->status = 500;
        res = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                              MHD_RESPMEM_PERSISTENT);
    } else {
        res = MHD_create_response_from_buffer(r->body.len, r->body.p,
                                              MHD_RESPMEM_MUST_FREE);
        r->body.p = NULL; /* MHD frees it now */
    }
    if (!res)
        return MHD_NO;
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)app->pid);
    MHD_add_response_header(res, "Content-Type", r->content_type
                                ? r->content_type : "text/html; charset=utf-8");
    MHD_add_response_header(res, "X-Bztasks-Worker", pid);
    MHD_add_response_header(res, "Cache-Control", "no-store");
    MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
    /* Defence in depth behind the escaping: no inline script may run, only
     * the two files /stats loads from this server (its script and
     * Debian's Chart.js), which fetch /stats.json and nothing else. */
    MHD_add_response_header(res, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'"
                            "; script-src 'self'; connect-src 'self'"
                            "; form-action 'self'; frame-ancestors 'none'");
    if (r->status == 303)
        MHD_add_response_header(res, "Location", r->location);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, res);
    MHD_destroy_response(res);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct app *app = cls;
    struct conn *st = *con_cls;
    struct resp r = {.status = 200};
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (!st) {
        if (!(st = calloc(1, sizeof *st)))
            return MHD_NO;
        *con_cls = st;
        /* Refuse a declared oversized body before reading any of it. */
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (post && cl && strtoull(cl, NULL, 10) > BZT_MAX_BODY) {
            error_page(&r, app, 413, "Request too large",
                       "A form may send at most 64 KiB.");
            return send_page(c, app, &r);
        }
        /* NULL for a body that is not a form (no or another
         * Content-Type): refused below with 415. */
        if (post && !(st->pp = MHD_create_post_processor(c, 4096, on_field,
                                                          st)))
            st->bad_type = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A chunked body has no declared length: count as it comes. */
        st->body_len += *upload_data_size;
        if (st->body_len > BZT_MAX_BODY)
            st->too_big = 1;
        else if (st->pp && !st->oom)
            MHD_post_process(st->pp, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->pp) {
        /* The last field is complete only once the processor is gone. */
        MHD_destroy_post_processor(st->pp);
        st->pp = NULL;
    }

    if (st->too_big) {
        error_page(&r, app, 413, "Request too large",
                   "A form may send at most 64 KiB.");
    } else if (strlen(url) > BZT_MAX_URL) {
        error_page(&r, app, 414, "URL too long", "That address is too long.");
    } else if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
               strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        error_page(&r, app, 405, "Method not allowed",
                   "Only GET and POST are served.");
    } else if (post && st->bad_type && st->body_len) {
        error_page(&r, app, 415, "Unsupported form encoding",
                   "Forms are sent as application/x-www-form-urlencoded or "
                   "multipart/form-data.");
    } else if (st->oom) {
        error_page(&r, app, 500, "Out of memory", "Please try again.");
    } else {
        struct req q = {method, url, &st->form, query_arg, c};
        route(app, &q, &r);
    }
    enum MHD_Result ret = send_page(c, app, &r);
    buf_free(&r.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct conn *st = *con_cls;
    if (st) {
        if (st->pp)
            MHD_destroy_post_processor(st->pp);
        form_free(&st->form);
        free(st);
        *con_cls = NULL;
    }
}

/* The demo's directory, with its schema, in lock mode shared: the parent
 * (to seed it) and every worker open it the same way. */
static int open_shared(const char *dir, bz_db **db)
{
    bz_schema *schema = NULL;
    bz_options *opts = bz_options_new();
    int rc = bz_schema_parse(bzt_schema_text, strlen(bzt_schema_text),
                             &schema);
    if (!rc)
        rc = opts ? bz_options_set_lock_mode(opts, BZ_LOCK_SHARED)
                  : BZ_ENOMEM;
    if (!rc)
        rc = bz_open(dir, schema, opts, db);
    bz_schema_free(schema);
    bz_options_free(opts);
    return rc;
}

static int worker(int lfd, const char *dir)
{
    /* Block the stop signals before MHD starts its thread, so that only
     * sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A worker outliving a SIGKILLed parent would hold the port. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return BZ_EXIT_FAIL;

    struct app app = {.dir = dir, .pid = getpid()};
    if (open_shared(dir, &app.db)) {
        fprintf(stderr, "bztasks: worker %d: %s: %s\n", (int)app.pid, dir,
                bz_errmsg());
        return BZ_EXIT_FAIL;
    }

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
        on_request, &app, MHD_OPTION_LISTEN_SOCKET, lfd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bztasks: worker %d: libmicrohttpd did not start\n",
                (int)app.pid);
        bz_close(app.db);
        return BZ_EXIT_FAIL;
    }
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    MHD_stop_daemon(d);
    bz_close(app.db);
    return BZ_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* The parent. */

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static pid_t spawn(int lfd, const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        _exit(worker(lfd, dir));
    }
    return pid;
}

static int listen_on(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 512) ||
        getsockname(fd, (struct sockaddr *)&a, &alen)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Create the directory and seed it, then let go: handles do not cross
 * fork(), and the workers open their own. */
static int prepare(const char *dir)
{
    bz_db *db = NULL;
    int rc = open_shared(dir, &db);
    if (!rc)
        rc = seed_if_empty(db);
    if (rc)
        fprintf(stderr, "bztasks: %s: %s\n", dir, bz_errmsg());
    bz_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "workers", required_argument, NULL, 'w' },
        { "port", required_argument, NULL, 'p' },
        { "dir", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = DEFAULT_DIR;
    long workers = DEFAULT_WORKERS, port = DEFAULT_PORT;
    struct cli cli;
    int opt;
    cli_init(&cli, "bztasks", usage, "w:p:d:", longopts);
    while ((opt = cli_next(&cli, argc, argv)) != -1) {
        switch (opt) {
        case CLI_STOP:
            return cli.status;
        case 'w':
            if (cli_long(optarg, 1, MAX_WORKERS, &workers))
                return cli_usage_error(&cli, "--workers", "1 to %d, not '%s'",
                                       MAX_WORKERS, optarg);
            break;
        case 'p':
            if (cli_long(optarg, 0, 65535, &port))
                return cli_usage_error(&cli, "--port", "0 to 65535, not '%s'",
                                       optarg);
            break;
        default: /* 'd' */
            dir = optarg;
            break;
        }
    }
    if ((opt = cli_operands(&cli, argc, argv, 0, 0, "none")))
        return opt;

    int bound = 0;
    int lfd = listen_on((int)port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "bztasks: 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        return BZ_EXIT_FAIL;
    }
    if (prepare(dir))
        return BZ_EXIT_FAIL;

    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pid_t pids[MAX_WORKERS] = {0};
    time_t started[MAX_WORKERS] = {0};
    for (long i = 0; i < workers; i++) {
        pids[i] = spawn(lfd, dir);
        started[i] = time(NULL);
        if (pids[i] < 0) {
            perror("bztasks: fork");
            stopping = 1;
            break;
        }
    }
    printf("bztasks: listening on http://127.0.0.1:%d/ with %ld workers, "
           "data in %s\n", bound, workers, dir);
    fflush(stdout);

    while (!stopping) {
        int st;
        pid_t dead = waitpid(-1, &st, 0);
        if (dead < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (long i = 0; i < workers && !stopping; i++) {
            if (pids[i] != dead)
                continue;
            char why[64];
            if (WIFSIGNALED(st))
                snprintf(why, sizeof why, "killed by signal %d",
                         WTERMSIG(st));
            else
                snprintf(why, sizeof why, "exited with status %d",
                         WEXITSTATUS(st));
            /* A worker that cannot even start would be respawned in a hot
             * loop: give the cause (a full disk, ...) a second. */
            if (time(NULL) - started[i] < 1)
                sleep(1);
            pids[i] = stopping ? 0 : spawn(lfd, dir);
            started[i] = time(NULL);
            fprintf(stderr, "bztasks: worker %d %s; started worker %d\n",
                    (int)dead, why, (int)pids[i]);
        }
    }

    for (long i = 0; i < workers; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (long i = 0; i < workers; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
    close(lfd);
    fprintf(stderr, "bztasks: stopped\n");
    return BZ_EXIT_OK;
}
