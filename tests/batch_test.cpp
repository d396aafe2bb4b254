/*
 * batch_test.cpp - write batches: commit, rollback, failure inside, a
 * process dying inside one, and what other processes see meanwhile.
 */
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "helpers.h"

using namespace bzt;

namespace {

const bool kSharedMode = force_shared_mode();

const char *const kSchema =
    "a: id PK, name CHAR(8)\n"
    "b: id PK, a_id FK(a) NULL, body TEXT NULL, n INT\n";

int64_t count(bz_db *db, const char *table)
{
    int64_t n = -1;
    EXPECT_EQ(BZ_OK, bz_count(db, table, nullptr, &n)) << bz_errmsg();
    return n;
}

void seed(bz_db *db)
{
    for (int i = 0; i < 3; i++) {
        Values v(make_values({{"name", "a" + std::to_string(i)}}));
        ASSERT_EQ(BZ_OK, bz_insert(db, "a", v.get(), nullptr));
        Values w(make_values({{"a_id", 1}, {"body", "text " + std::to_string(i)},
                              {"n", i}}));
        ASSERT_EQ(BZ_OK, bz_insert(db, "b", w.get(), nullptr));
    }
}

/* A batch touching every kind of write. */
void busy_batch(bz_db *db)
{
    Values v(make_values({{"name", "new"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db, "a", v.get(), nullptr));
    Values u(make_values({{"body", "changed, and longer than before"}}));
    ASSERT_EQ(BZ_OK, bz_update_by_id(db, "b", 2, u.get(), nullptr));
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db, "b", 1));
    Values x(make_values({{"id", 40}, {"a_id", 4}, {"body", "explicit"}, {"n", 9}}));
    ASSERT_EQ(BZ_OK, bz_insert(db, "b", x.get(), nullptr));
    ASSERT_EQ(BZ_OK, bz_truncate(db, "b", 0));
}

}  // namespace

TEST(Batch, CommitKeepsEverything)
{
    TempDir dir("bzbatch");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    seed(db.get());
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    busy_batch(db.get());
    ASSERT_EQ(BZ_OK, bz_commit(db.get())) << bz_errmsg();
    EXPECT_EQ(4, count(db.get(), "a"));
    EXPECT_EQ(0, count(db.get(), "b"));
    EXPECT_EQ("0", read_file(dir.file("b__seqnum.dat")));
}

TEST(Batch, RollbackRestoresEveryByte)
{
    TempDir dir("bzbatch");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    seed(db.get());
    auto before = snapshot_dir(dir.path(), true);
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    busy_batch(db.get());
    EXPECT_EQ(0, count(db.get(), "b")); /* the batch sees its own writes */
    ASSERT_EQ(BZ_OK, bz_rollback(db.get())) << bz_errmsg();
    EXPECT_EQ("", diff_snapshots(before, snapshot_dir(dir.path(), true)));
    EXPECT_EQ(3, count(db.get(), "a"));
    EXPECT_EQ(3, count(db.get(), "b"));
    /* And the cache agrees with the files. */
    bz_row *r = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "b", 2, nullptr, &r));
    Row row(r);
    const char *body = nullptr;
    ASSERT_EQ(BZ_OK, bz_row_get_str(r, "body", &body, nullptr));
    EXPECT_STREQ("text 1", body);
}

TEST(Batch, AFailedOperationLeavesTheBatchOpen)
{
    TempDir dir("bzbatch");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    seed(db.get());
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    Values ok(make_values({{"name", "kept"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "a", ok.get(), nullptr));
    Values bad(make_values({{"a_id", 99}, {"n", 1}}));
    EXPECT_EQ(BZ_ECONSTRAINT, bz_insert(db.get(), "b", bad.get(), nullptr));
    EXPECT_STREQ("Item id=99 does not exist in 'a'", bz_errmsg());
    ASSERT_EQ(BZ_OK, bz_commit(db.get()));
    EXPECT_EQ(4, count(db.get(), "a"));
    EXPECT_EQ(3, count(db.get(), "b"));
}

TEST(Batch, MisuseIsRefused)
{
    TempDir dir("bzbatch");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    EXPECT_EQ(BZ_ELOCKED, bz_commit(db.get()));
    EXPECT_EQ(BZ_ELOCKED, bz_rollback(db.get()));
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    EXPECT_EQ(BZ_ELOCKED, bz_begin(db.get()));
    ASSERT_EQ(BZ_OK, bz_commit(db.get()));
    /* Inside an explicit lock, and the lock outlives the batch. */
    ASSERT_EQ(BZ_OK, bz_lock(db.get()));
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    ASSERT_EQ(BZ_OK, bz_rollback(db.get()));
    EXPECT_EQ(BZ_OK, bz_unlock(db.get()));
    EXPECT_EQ(BZ_ELOCKED, bz_unlock(db.get()));
}

TEST(Batch, AProcessDyingInsideIsUndoneWhole)
{
    for (int kill_after_ops : {1, 3, 5}) {
        TempDir dir("bzbatch");
        {
            Db db(open_db(dir.path(), kSchema));
            ASSERT_TRUE(db);
            seed(db.get());
        }
        auto before = snapshot_dir(dir.path(), true);
        pid_t child = spawn_child([&]() {
            Db db(open_db(dir.path(), kSchema));
            if (!db || bz_begin(db.get()) != BZ_OK)
                return 1;
            for (int i = 0; i < kill_after_ops; i++) {
                Values v(make_values({{"a_id", 2}, {"body", "doomed"}, {"n", i}}));
                if (bz_insert(db.get(), "b", v.get(), nullptr) != BZ_OK)
                    return 2;
            }
            raise(SIGKILL);
            return 3;
        });
        int status;
        ASSERT_TRUE(wait_child(child, 10000, &status));
        ASSERT_TRUE(WIFSIGNALED(status)) << describe_status(status);
        Db db(open_db(dir.path(), kSchema));
        ASSERT_TRUE(db);
        EXPECT_EQ(3, count(db.get(), "b")) << "after " << kill_after_ops;
        db.reset();
        EXPECT_EQ("", diff_snapshots(before, snapshot_dir(dir.path(), true)))
            << "after " << kill_after_ops << " operations";
    }
}

TEST(Batch, OtherProcessesSeeNoneOfItUntilCommit)
{
    TempDir dir("bzbatch");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    seed(db.get());
    ASSERT_EQ(BZ_OK, bz_begin(db.get()));
    Values v(make_values({{"name", "hidden"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "a", v.get(), nullptr));
    int seen[2];
    ASSERT_EQ(0, pipe(seen));
    pid_t reader = spawn_child([&]() {
        Db mine(open_db(dir.path(), kSchema));
        if (!mine)
            return 1;
        int64_t n = -1;
        /* Blocks until the batch ends: it must never see 4 rows and then
         * a rollback take one away. */
        if (bz_count(mine.get(), "a", nullptr, &n) != BZ_OK)
            return 2;
        char c = (char)('0' + n);
        return write(seen[1], &c, 1) == 1 ? 0 : 3;
    });
    usleep(200000);
    ASSERT_EQ(BZ_OK, bz_rollback(db.get()));
    int status;
    ASSERT_TRUE(wait_child(reader, 10000, &status));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char c = 0;
    ASSERT_EQ(1, read(seen[0], &c, 1));
    EXPECT_EQ('3', c);
}
