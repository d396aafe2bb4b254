/*
 * unit_lock_test.cpp - the explicit lock (0.0.7's `with db.storage.lock():`):
 * re-entrant per thread, keeps other writers out until the outermost unlock.
 */
#include <unistd.h>

#include <atomic>
#include <thread>

#include "unit_fixture.h"

using namespace bzt;

namespace {

class Lock : public DbTest {};

TEST_F(Lock, NestsAndOperationsWorkInside)
{
    ASSERT_BZ_OK(bz_lock(db()));
    ASSERT_BZ_OK(bz_lock(db()));
    EXPECT_EQ(1, add("c", {{"varchar", "x"}, {"int", 1}}));
    EXPECT_BZ_OK(update("c", 1, {{"int", 2}}));
    EXPECT_EQ(R"({"id":1,"int":2,"varchar":"x"})", id_json("c", 1));
    ASSERT_BZ_OK(bz_unlock(db()));
    EXPECT_EQ(2, add("c", {{"varchar", "y"}, {"int", 1}}));
    ASSERT_BZ_OK(bz_unlock(db()));
    /* Unbalanced unlock is lock misuse. */
    EXPECT_EQ(BZ_ELOCKED, bz_unlock(db()));
    /* And the lock still works afterwards. */
    ASSERT_BZ_OK(bz_lock(db()));
    ASSERT_BZ_OK(bz_unlock(db()));
    EXPECT_EQ(3, add("c", {{"varchar", "z"}, {"int", 1}}));
}

TEST_F(Lock, KeepsOtherThreadsWritersOutUntilTheOutermostUnlock)
{
    ASSERT_BZ_OK(bz_lock(db()));
    ASSERT_BZ_OK(bz_lock(db()));
    std::atomic<int> done{0};
    std::atomic<int> rc{-1};
    std::thread t([&] {
        Values v(make_values({{"varchar", "t"}, {"int", 9}}));
        rc = bz_insert(db(), "c", v.get(), nullptr);
        done = 1;
    });
    usleep(200000);
    EXPECT_EQ(0, done.load()) << "another thread wrote while the lock was held";
    ASSERT_BZ_OK(bz_unlock(db()));
    usleep(200000);
    EXPECT_EQ(0, done.load()) << "inner unlock released the lock";
    /* Our own writes still go through while the other thread waits. */
    EXPECT_EQ(1, add("c", {{"varchar", "me"}, {"int", 1}}));
    ASSERT_BZ_OK(bz_unlock(db()));
    t.join();
    EXPECT_EQ(1, done.load());
    EXPECT_EQ(BZ_OK, rc.load());
    EXPECT_EQ((Ids{1, 2}), all_ids("c"));
}

TEST_F(Lock, UnlockFromAnotherThreadIsMisuse)
{
    ASSERT_BZ_OK(bz_lock(db()));
    int other = BZ_OK;
    std::thread t([&] { other = bz_unlock(db()); });
    t.join();
    EXPECT_EQ(BZ_ELOCKED, other);
    ASSERT_BZ_OK(bz_unlock(db()));
}

} // namespace
