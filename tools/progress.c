/*
 * progress.c - the terminal progress line (see progress.h).
 */
/* clock_gettime, fileno, isatty: also when built outside the tools (the
 * tests link this file) without _GNU_SOURCE. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24

static int64_t now_ms(void)
{
    struct timespec ts;

    /* Monotonic: a clock step must not freeze or spam the redraws. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_start_on(struct progress *p, FILE *out, int enabled,
                       const char *label, int64_t total, int64_t delay_ms)
{
    memset(p, 0, sizeof *p);
    if (!enabled || !out)
        return;
    p->out = out;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->unit = "rows";
    p->total = total;
    p->delay_ms = delay_ms < 0 ? 0 : delay_ms;
    p->started_ms = now_ms();
}

void progress_start(struct progress *p, const char *label, int64_t total)
{
    progress_start_on(p, stderr, isatty(fileno(stderr)), label, total,
                      PROGRESS_DELAY_MS);
}

static void draw(struct progress *p)
{
    /* \r and erase-to-end rather than padding: a shorter line than the
     * last one must not leave its tail behind. */
    fprintf(p->out, "\r\033[K%s", p->label);
    if (p->total > 0) {
        int64_t done = p->done > p->total ? p->total : p->done;
        int pct = (int)(done * 100 / p->total);
        int fill = (int)(done * BAR_WIDTH / p->total);
        char bar[BAR_WIDTH + 1];

        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        fprintf(p->out, " [%s] %3d%% %lld/%lld %s", bar, pct,
                (long long)p->done, (long long)p->total, p->unit);
    } else {
        fprintf(p->out, " %lld %s", (long long)p->done, p->unit);
    }
    fflush(p->out);
}

void progress_update(struct progress *p, int64_t done)
{
    if (!p->out)
        return;
    p->done = done;
    int64_t t = now_ms();
    if (t - p->started_ms < p->delay_ms)
        return;
    if (p->drawn_ms && t - p->drawn_ms < PROGRESS_EVERY_MS)
        return;
    draw(p);
    p->drawn_ms = t;
}

void progress_end(struct progress *p)
{
    if (p->out && p->drawn_ms) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->out = NULL;
}
