/*
 * progress.h - a progress line on the terminal for long-running commands
 * (every long-running command shows its progress on a terminal, and only
 * there).
 *
 *     struct progress p;
 *     progress_start(&p, "dump books", total);
 *     for (...)
 *         progress_update(&p, ++done);
 *     progress_end(&p);
 *
 * The line goes to stderr, and only when stderr is a terminal, so pipes,
 * logs and tests never see it.  Nothing is drawn during the first
 * PROGRESS_DELAY_MS (a quick command shows no flicker) and then at most
 * every PROGRESS_EVERY_MS, so progress_update() is cheap enough to call
 * per row.  progress_end() erases the line, leaving the terminal as it was.
 *
 * A zeroed struct progress is a valid, disabled one: a caller may skip
 * progress_start() (for instance when its output goes to the same terminal)
 * and still call the other two unconditionally.
 */
#ifndef BAZOOLA_TOOLS_PROGRESS_H
#define BAZOOLA_TOOLS_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define PROGRESS_DELAY_MS 200
#define PROGRESS_EVERY_MS 100

struct progress {
    FILE *out;          /* NULL: disabled                                  */
    char label[64];
    const char *unit;   /* shown after the counts; "rows" unless changed  */
    int64_t total;      /* <= 0: unknown, no bar or percentage is drawn    */
    int64_t done;
    int64_t started_ms;
    int64_t drawn_ms;   /* last redraw; 0 when nothing is on the screen    */
    int64_t delay_ms;
};

/* Start a progress line for label (cut to fit) over total units (<= 0 when
 * unknown).  Enabled only when stderr is a terminal. */
void progress_start(struct progress *p, const char *label, int64_t total);
/* The same, drawing to out when enabled (no terminal check) after delay_ms:
 * for tests and for callers that decide for themselves. */
void progress_start_on(struct progress *p, FILE *out, int enabled,
                       const char *label, int64_t total, int64_t delay_ms);
/* done units of total are finished; redraws when it is time. */
void progress_update(struct progress *p, int64_t done);
/* Erase the line (if one was drawn) and disable p. */
void progress_end(struct progress *p);

#endif /* BAZOOLA_TOOLS_PROGRESS_H */
