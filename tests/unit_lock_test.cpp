/*
 * unit_lock_test.cpp - the explicit lock (0.0.7's `with db.storage.lock():`):
 * re-entrant per thread, keeps other writers out until the outermost unlock.
 */
#include <sys/wait.h>
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

/* bz_lock_wait_ns counts the calling thread's waits, whichever stage of
 * the lock made it wait, and nothing when nobody was in the way. */
TEST_F(Lock, WaitTimeIsCountedPerThreadOnlyWhenContended)
{
    uint64_t w0 = bz_lock_wait_ns();
    EXPECT_EQ(1, add("c", {{"varchar", "a"}, {"int", 1}}));
    EXPECT_EQ(w0, bz_lock_wait_ns()) << "an uncontended insert waited";

    /* Another thread of this process holds the lock for 300 ms. */
    std::atomic<int> held{0};
    std::thread t([&] {
        ASSERT_BZ_OK(bz_lock(db()));
        held = 1;
        usleep(300000);
        ASSERT_BZ_OK(bz_unlock(db()));
    });
    while (!held.load())
        usleep(1000);
    uint64_t t0 = bz_lock_wait_ns();
    EXPECT_EQ(2, add("c", {{"varchar", "b"}, {"int", 2}}));
    uint64_t waited = bz_lock_wait_ns() - t0;
    t.join();
    EXPECT_GE(waited, 200000000u);
    EXPECT_LT(waited, 10000000000u);
}

/* Our handle is open (in shared mode: attached, so the wait is on the
 * segment's robust mutex; in flock mode on the flock) while another
 * process holds the lock for 300 ms. */
TEST_F(Lock, WaitTimeCountsAnotherProcessHoldingTheLock)
{
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        bz_db *d = open_db(dir_.path(), schema_text());
        if (!d || bz_lock(d) != BZ_OK)
            _exit(1);
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        usleep(300000);
        bz_unlock(d);
        bz_close(d);
        _exit(0);
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1)) << "the child did not take the lock";
    ::close(ready[0]);
    uint64_t t0 = bz_lock_wait_ns();
    EXPECT_EQ(1, add("c", {{"varchar", "b"}, {"int", 2}}));
    uint64_t waited = bz_lock_wait_ns() - t0;
    int status = 0;
    ASSERT_EQ(pid, waitpid(pid, &status, 0));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_GE(waited, 200000000u);
    EXPECT_LT(waited, 10000000000u);
}

} // namespace
