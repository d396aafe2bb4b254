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
#include "../lockmgr/crc32.h"

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

/* The journal's checksum: CRC-32 as zlib computes it, the value every
 * journal on disk already carries. */
namespace {

uint32_t crc_bitwise(uint32_t crc, const std::string &s)
{
    crc = ~crc;
    for (unsigned char c : s) {
        crc ^= c;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

}  // namespace

TEST(JournalCrc, MatchesTheStandardCheckValues)
{
    EXPECT_EQ(0u, bz__crc32(0, "", 0));
    EXPECT_EQ(0xCBF43926u, bz__crc32(0, "123456789", 9));
    EXPECT_EQ(0x414FA339u,
              bz__crc32(0, "The quick brown fox jumps over the lazy dog", 43));
}

TEST(JournalCrc, AgreesWithTheBitwiseDefinitionAtEveryLengthAndSplit)
{
    std::string data;
    for (int i = 0; i < 300; i++)
        data += (char)(i * 131 + 7);
    for (size_t n = 0; n <= data.size(); n++) {
        std::string s = data.substr(0, n);
        uint32_t want = crc_bitwise(0, s);
        ASSERT_EQ(want, bz__crc32(0, s.data(), n)) << "length " << n;
        /* Unaligned starts and chained pieces, as rec_crc feeds it. */
        size_t cut = n / 3;
        uint32_t c = bz__crc32(0, s.data(), cut);
        ASSERT_EQ(want, bz__crc32(c, s.data() + cut, n - cut)) << "split " << n;
    }
}

TEST(JournalCrc, AJournalWithTheOldChecksumsIsStillReplayed)
{
    TempDir dir("bzsync");
    {
        Db db(open_full(dir.path()));
        ASSERT_TRUE(db);
        Values v(make_values({{"n", 1}, {"body", "kept"}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    }
    bz_shm_remove(dir.c_str());
    auto before = snapshot_dir(dir.path(), true);
    /* A writer that never committed: it journalled the first 8 bytes of
     * t.dat and the file's size, then scribbled over and appended. */
    std::string dat = read_file(dir.file("t.dat"));
    ASSERT_GE(dat.size(), 8u);
    std::string name = "t.dat", old = dat.substr(0, 8);
    std::string rec(32, '\0');
    uint32_t magic = 0x4a5a4221u, len = (uint32_t)old.size();
    uint16_t name_len = (uint16_t)name.size(), pad = 0;
    int64_t off = 0, old_size = (int64_t)dat.size();
    memcpy(&rec[0], &magic, 4);
    memcpy(&rec[8], &name_len, 2);
    memcpy(&rec[10], &pad, 2);
    memcpy(&rec[12], &len, 4);
    memcpy(&rec[16], &off, 8);
    memcpy(&rec[24], &old_size, 8);
    uint32_t crc = crc_bitwise(0, rec.substr(8) + name + old);
    memcpy(&rec[4], &crc, 4);
    ASSERT_TRUE(write_file(dir.file(".journal"), rec + name + old));
    ASSERT_TRUE(write_file(dir.file("t.dat"), "XXXXXXXX" + dat.substr(8) + "tail"));
    Db db(open_full(dir.path()));
    ASSERT_TRUE(db);
    EXPECT_EQ(0, file_size(dir.file(".journal")));
    db.reset();
    EXPECT_EQ("", diff_snapshots(before, snapshot_dir(dir.path(), true)));
}
