/*
 * sync_test.cpp - sync=full: the on-disk undo journal.  A power cut is
 * simulated by a writer dying at its Nth file write and the shared segment
 * (whose undo log would otherwise repair it) being removed before anyone
 * opens the directory again.
 */
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "helpers.h"

using namespace bzt;

namespace {

const bool kSharedMode = force_shared_mode();

const char *const kSchema = "t: id PK, n INT, body TEXT NULL\n";

bz_db *open_full(const std::string &dir)
{
    Schema s(parse_schema(kSchema));
    bz_options *o = bz_options_new();
    bz_options_set_sync(o, BZ_SYNC_FULL);
    bz_db *db = nullptr;
    int rc = bz_open(dir.c_str(), s.get(), o, &db);
    bz_options_free(o);
    EXPECT_EQ(BZ_OK, rc) << bz_errmsg();
    return db;
}

uint64_t die_at;
int die_hook(const char *, int64_t, size_t, uint64_t nth)
{
    if (nth == die_at)
        _exit(42);
    return 0;
}

/* The operation under test: an update that rewrites TEXT (overwrite of the
 * old record, append of the new one, the row in place). */
int the_update(bz_db *db)
{
    Values v(make_values({{"n", 7}, {"body", "a new and much longer body"}}));
    return bz_update_by_id(db, "t", 2, v.get(), nullptr);
}

}  // namespace

TEST(SyncFull, OperationsLeaveAnEmptyJournal)
{
    TempDir dir("bzsync");
    Db db(open_full(dir.path()));
    ASSERT_TRUE(db);
    for (int i = 0; i < 5; i++) {
        Values v(make_values({{"n", i}, {"body", "x" + std::to_string(i)}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    }
    ASSERT_EQ(BZ_OK, the_update(db.get()));
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "t", 3));
    EXPECT_EQ(0, file_size(dir.file(".journal")));
    /* A failed operation also leaves it empty. */
    Values bad(make_values({{"n", "seven"}}));
    EXPECT_EQ(BZ_EVALIDATION, bz_insert(db.get(), "t", bad.get(), nullptr));
    EXPECT_EQ(0, file_size(dir.file(".journal")));
}

TEST(SyncFull, ACutAtEveryWriteIsUndoneFromTheJournal)
{
    int points = 0;
    for (die_at = 1;; die_at++) {
        TempDir dir("bzsync");
        {
            Db db(open_full(dir.path()));
            ASSERT_TRUE(db);
            for (int i = 0; i < 3; i++) {
                Values v(make_values({{"n", i}, {"body", "body " + std::to_string(i)}}));
                ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
            }
        }
        auto before = snapshot_dir(dir.path(), true);
        /* A second process keeps the segment alive while the writer dies,
         * as in a real crash of one process... */
        pid_t child = spawn_child([&]() {
            Db db(open_full(dir.path()));
            if (!db)
                return 1;
            bz__set_write_hook(die_hook);
            return the_update(db.get()) == BZ_OK ? 0 : 2;
        });
        int status;
        ASSERT_TRUE(wait_child(child, 10000, &status));
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0) {
            ASSERT_GT(points, 2) << "the update never reached its writes";
            break; /* the update finished before write die_at */
        }
        ASSERT_EQ(42, WEXITSTATUS(status));
        points++;
        /* ...then the power goes: the segment and its undo log are lost. */
        bz_shm_remove(dir.c_str());
        ASSERT_GT(file_size(dir.file(".journal")), 0) << "cut at write " << die_at;
        Db db(open_full(dir.path()));
        ASSERT_TRUE(db);
        EXPECT_EQ(0, file_size(dir.file(".journal")));
        db.reset();
        EXPECT_EQ("", diff_snapshots(before, snapshot_dir(dir.path(), true)))
            << "cut at write " << die_at;
    }
    RecordProperty("cut_points", points);
}

TEST(SyncFull, AStaleJournalOfACommittedWriteIsNotReplayed)
{
    TempDir dir("bzsync");
    {
        Db db(open_full(dir.path()));
        ASSERT_TRUE(db);
        for (int i = 0; i < 3; i++) {
            Values v(make_values({{"n", i}, {"body", "b" + std::to_string(i)}}));
            ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
        }
    }
    /* A process that keeps the segment alive throughout. */
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    pid_t keeper = spawn_child([&]() {
        Db db(open_full(dir.path()));
        char c = 'r';
        if (!db || write(ready[1], &c, 1) != 1)
            return 1;
        pause();
        return 0;
    });
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    /* A writer dies in the middle of the update: its journal is real. */
    die_at = 2;
    pid_t child = spawn_child([&]() {
        Db db(open_full(dir.path()));
        if (!db)
            return 1;
        bz__set_write_hook(die_hook);
        return the_update(db.get()) == BZ_OK ? 0 : 2;
    });
    int status;
    ASSERT_TRUE(wait_child(child, 10000, &status));
    ASSERT_EQ(42, WEXITSTATUS(status));
    std::string journal = read_file(dir.file(".journal"));
    ASSERT_FALSE(journal.empty());
    /* The next writer recovers (segment log), then commits the update. */
    pid_t again = spawn_child([&]() {
        Db db(open_full(dir.path()));
        return db && the_update(db.get()) == BZ_OK ? 0 : 1;
    });
    ASSERT_TRUE(wait_child(again, 10000, &status));
    ASSERT_EQ(0, WEXITSTATUS(status));
    auto after = snapshot_dir(dir.path(), true);
    /* As if the emptying of the journal after that commit had been lost. */
    ASSERT_TRUE(write_file(dir.file(".journal"), journal));
    pid_t opener = spawn_child([&]() {
        Db db(open_full(dir.path()));
        return db ? 0 : 1;
    });
    ASSERT_TRUE(wait_child(opener, 10000, &status));
    ASSERT_EQ(0, WEXITSTATUS(status));
    EXPECT_EQ(0, file_size(dir.file(".journal")));
    EXPECT_EQ("", diff_snapshots(after, snapshot_dir(dir.path(), true)))
        << "a committed write was undone from a stale journal";
    kill(keeper, SIGKILL);
    ASSERT_TRUE(wait_child(keeper, 10000, &status));
}
