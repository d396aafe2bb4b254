/*
 * workloads.c - the data set, and what one operation of each workload is.
 *
 * The data set, the same for every engine:
 *   parents: BENCH_PARENTS rows, id 1..100, name "Parent 007";
 *   items:   bench_items rows, id 1..20000, a title made from the id
 *            ("Item 00042 cobalt fjord"), parent_id 1 + id % 100, qty
 *            id % 1000.  One title in BENCH_NEEDLE_EVERY (ids divisible by
 *            100) has "ZeBrA" in it, so a case-insensitive search for
 *            "zebra" matches exactly 1% of the rows.
 *
 * The workloads keep the data set's size and its titles: update changes
 * qty only, churn deletes an item and inserts it again with its own id and
 * values, and after each insert configuration the items are emptied and
 * loaded again (not timed), so every one starts from the same files.  So
 * every read can check its answer against the data set, and every scan
 * must find exactly bench_items / BENCH_NEEDLE_EVERY rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *const bench_wl_names[WL__COUNT] = {
    "read", "read_join", "insert", "update", "churn", "scan", "mix90", "mix50",
    "lock"
};

const char *const bench_wl_help[WL__COUNT] = {
    "find an item by id (random id)",
    "find an item by id with a Join to its parent",
    "insert a new item (auto id)",
    "update the qty of an item by id",
    "delete an item, insert it again with the same id (one op = both)",
    "full scan: titles containing \"" BENCH_NEEDLE "\", any case (1% match)",
    "90% read, 10% update",
    "50% read, 50% update",
    "take the writer lock and release it (contended: the handoff's cost)",
};

const enum bench_wl bench_wl_run_order[WL__COUNT] = {
    WL_READ, WL_READ_JOIN, WL_SCAN, WL_UPDATE, WL_CHURN, WL_MIX90, WL_MIX50,
    WL_LOCK, WL_INSERT
};

int bench_wl_find(const char *name)
{
    for (int i = 0; i < WL__COUNT; i++)
        if (strcmp(name, bench_wl_names[i]) == 0)
            return i;
    return -1;
}

/* xorshift64*: each worker its own stream. */
uint64_t bench_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------ */
/* The data set. */
static const char *const words[] = {
    "amber", "birch", "cobalt", "dune", "ember", "fjord", "granite", "harbor",
    "indigo", "juniper", "kelp", "lagoon", "meadow", "nickel", "onyx", "pine",
};
#define NWORDS (sizeof words / sizeof words[0])

int64_t bench_items = BENCH_ITEMS_DEFAULT;
const char *bench_cache_mb;
static struct bench_item *items;
static char parent_names[BENCH_PARENTS + 1][24];

int bench_data_init(int64_t n)
{
    bench_items = n;
    free(items);
    items = calloc((size_t)n + 1, sizeof *items);
    if (!items)
        return -1;
    for (int64_t id = 1; id <= bench_items; id++) {
        struct bench_item *it = &items[id];
        it->id = id;
        it->parent_id = 1 + id % BENCH_PARENTS;
        it->qty = id % 1000;
        if (id % BENCH_NEEDLE_EVERY == 0)
            snprintf(it->title, sizeof it->title, "Item %05" PRId64 " %s ZeBrA",
                     id, words[(uint64_t)id / 7 % NWORDS]);
        else
            snprintf(it->title, sizeof it->title, "Item %05" PRId64 " %s %s",
                     id, words[(uint64_t)id / 7 % NWORDS],
                     words[(uint64_t)id % NWORDS]);
    }
    for (int64_t id = 1; id <= BENCH_PARENTS; id++)
        snprintf(parent_names[id], sizeof parent_names[id],
                 "Parent %03" PRId64, id);
    return 0;
}

const struct bench_item *bench_item(int64_t id)
{
    return &items[id];
}

const char *bench_parent_name(int64_t id)
{
    return parent_names[id];
}

/* ------------------------------------------------------------------ */
/* The operations.  Each checks what it gets back. */

#define ERR(w, ...) (snprintf((w)->err, BENCH_ERRLEN, __VA_ARGS__), -1)

static int do_read(struct bench_worker *w, int join)
{
    int64_t id = 1 + (int64_t)(bench_rnd(&w->rng) % bench_items);
    struct bench_item got;
    int found = 0;
    if (w->t->ops->read(w->conn, id, join, &got, &found, w->err))
        return -1;
    if (!found)
        return ERR(w, "read item %" PRId64 ": not found", id);
    const struct bench_item *want = bench_item(id);
    if (got.id != id || got.parent_id != want->parent_id ||
        strcmp(got.title, want->title) != 0)
        return ERR(w, "read item %" PRId64 ": got id %" PRId64 " '%s' "
                   "parent %" PRId64, id, got.id, got.title, got.parent_id);
    if (join) {
        const char *name = bench_parent_name(want->parent_id);
        if (!got.has_parent || strcmp(got.parent_name, name) != 0)
            return ERR(w, "read item %" PRId64 " with its parent: got '%s'",
                       id, got.has_parent ? got.parent_name : "(none)");
    }
    return 0;
}

static int do_update(struct bench_worker *w)
{
    int64_t id = 1 + (int64_t)(bench_rnd(&w->rng) % bench_items);
    int64_t qty = (int64_t)(bench_rnd(&w->rng) % 1000);
    int found = 0;
    if (w->t->ops->update_qty(w->conn, id, qty, &found, w->err))
        return -1;
    if (!found)
        return ERR(w, "update item %" PRId64 ": not found", id);
    return 0;
}

/* Delete one of this worker's items and insert it again. */
static int do_churn(struct bench_worker *w)
{
    int64_t mine = (bench_items - 1 - w->index) / w->nworkers + 1;
    int64_t k = (int64_t)(bench_rnd(&w->rng) % (uint64_t)mine);
    int64_t id = 1 + w->index + k * w->nworkers;
    int found = 0;
    if (w->t->ops->delete(w->conn, id, &found, w->err))
        return -1;
    if (!found)
        return ERR(w, "churn: delete item %" PRId64 ": not found", id);
    int64_t got = 0;
    if (w->t->ops->insert(w->conn, bench_item(id), &got, w->err))
        return -1;
    if (got != id)
        return ERR(w, "churn: insert item %" PRId64 ": got id %" PRId64, id,
                   got);
    return 0;
}

static int do_insert(struct bench_worker *w)
{
    struct bench_item it;
    memset(&it, 0, sizeof it);
    snprintf(it.title, sizeof it.title, "New item %d.%ld", w->index, w->seq++);
    it.parent_id = 1 + (int64_t)(bench_rnd(&w->rng) % BENCH_PARENTS);
    it.qty = (int64_t)(bench_rnd(&w->rng) % 1000);
    int64_t id = 0;
    if (w->t->ops->insert(w->conn, &it, &id, w->err))
        return -1;
    if (id <= bench_items)
        return ERR(w, "insert: got id %" PRId64 ", inside the data set", id);
    return 0;
}

static int do_scan(struct bench_worker *w)
{
    long n = 0;
    int64_t sum = 0;
    if (w->t->ops->scan(w->conn, BENCH_NEEDLE, &n, &sum, w->err))
        return -1;
    /* The matches are the ids divisible by BENCH_NEEDLE_EVERY. */
    const int64_t k = bench_items / BENCH_NEEDLE_EVERY;
    const int64_t want = BENCH_NEEDLE_EVERY * k * (k + 1) / 2;
    if (n != k || sum != want)
        return ERR(w, "scan for '%s': %ld rows (ids summing to %" PRId64 "), "
                   "expected %" PRId64 " (summing to %" PRId64 ")",
                   BENCH_NEEDLE, n, sum, k, want);
    return 0;
}

int bench_wl_step(enum bench_wl wl, struct bench_worker *w)
{
    switch (wl) {
    case WL_READ:
        return do_read(w, 0);
    case WL_READ_JOIN:
        return do_read(w, 1);
    case WL_INSERT:
        return do_insert(w);
    case WL_UPDATE:
        return do_update(w);
    case WL_CHURN:
        return do_churn(w);
    case WL_SCAN:
        return do_scan(w);
    case WL_MIX90:
        return bench_rnd(&w->rng) % 100 < 90 ? do_read(w, 0) : do_update(w);
    case WL_MIX50:
        return bench_rnd(&w->rng) % 100 < 50 ? do_read(w, 0) : do_update(w);
    case WL_LOCK:
        return w->t->ops->lock_cycle(w->conn, w->err);
    case WL__COUNT:
        break;
    }
    return ERR(w, "unknown workload %d", (int)wl);
}
