/*
 * journal.h - the on-disk undo journal of sync=full (DIR/.journal).
 *
 * The segment's undo log survives the death of any process but not the
 * loss of the segment (a reboot, a power cut).  With sync=full every undo
 * record is also appended to DIR/.journal and made durable (fdatasync)
 * before the change it describes is written; when the operation ends, the
 * data files are made durable, then the journal is emptied and that made
 * durable: the commit point.  A journal found non-empty by a process that
 * holds the writer lock belongs to a writer that never committed, and is
 * replayed newest record first.  Records carry a CRC: a record torn by a
 * power cut was never followed by its change, and ends the replay.
 */
#ifndef BZ_JOURNAL_H
#define BZ_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define BZ_JOURNAL_FILE ".journal"

typedef struct bz_journal {
    int fd;           /* DIR/.journal, opened on first use, -1 before */
    int64_t used;     /* bytes appended by the current operation */
} bz_journal;

/* Append one record (file name, offset, old size, old bytes), durably. */
int bz__journal_add(bz_journal *j, int dirfd, const char *file, int64_t off,
                    int64_t old_size, const void *old, size_t len);
/* The operation committed: empty the journal, durably. */
int bz__journal_clear(bz_journal *j, int dirfd);
/* Replay a journal left by a writer that never committed (the caller holds
 * the writer lock); *records says how many records were undone. */
int bz__journal_recover(int dirfd, uint32_t *records);
void bz__journal_close(bz_journal *j);
/* Empty a journal whose write is known to be undone or committed. */
int bz__journal_discard(int dirfd);

#endif
