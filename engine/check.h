/*
 * check.h - what the checker needs from the open path.
 */
#ifndef BZ_CHECK_H
#define BZ_CHECK_H

#include <stdbool.h>

/* Set by bz_check_dir around its open: the directory is opened even when
 * a file's size or seqnum contradicts the format, so that the checker can
 * report the damage (table, file, offset) instead of failing to open.
 * Nothing else reads rows at open, so nothing else is skipped. */
extern __thread bool bz__open_for_check;

#endif
