/*
 * shm_test.cpp - the shared segment and its page cache (shm/README.md):
 * coherence between separate programs, a cache far smaller than the data,
 * segments left by killed processes, damaged and foreign segments, outside
 * edits, and eight processes attaching for the first time at once.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

const bool kSharedMode = force_shared_mode();

std::string seg_name(const std::string &dir)
{
    struct stat st;
    if (stat(dir.c_str(), &st) != 0)
        return "";
    char buf[64];
    snprintf(buf, sizeof buf, "/bazoola-%" PRIx64 "-%" PRIx64,
             (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    return buf;
}

bool seg_exists(const std::string &dir)
{
    return file_exists("/dev/shm" + seg_name(dir));
}

/* The bytes of the directory's segment object. */
std::string seg_bytes(const std::string &dir)
{
    return read_file("/dev/shm" + seg_name(dir));
}

/* Replace the directory's segment object with these bytes. */
bool seg_put(const std::string &dir, const std::string &bytes)
{
    std::string name = seg_name(dir);
    shm_unlink(name.c_str());
    int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return false;
    bool ok = write(fd, bytes.data(), bytes.size()) == (ssize_t)bytes.size();
    close(fd);
    return ok;
}

const char *const kSchema = "t: id PK, n INT, body TEXT NULL\n";

/* A segment as the engine leaves it, captured while a handle is open. */
std::string live_segment_bytes(const std::string &dir)
{
    std::string err;
    Db db(open_db(dir, kSchema, &err));
    EXPECT_TRUE(db) << err;
    Values v(make_values({{"n", 1}, {"body", "x"}}));
    EXPECT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    std::string bytes = seg_bytes(dir);
    /* As if its processes had left: empty the process slots (256 slots of
     * 64 bytes after the 4 KiB header). */
    if (bytes.size() > 4096 + 256 * 64)
        memset(&bytes[4096], 0, 256 * 64);
    return bytes;
}

int64_t find_n(bz_db *db, int64_t id)
{
    bz_row *r = nullptr;
    if (bz_find_by_id(db, "t", id, nullptr, &r) != BZ_OK || !r)
        return -1;
    int64_t n = -1;
    bz_row_get_int(r, "n", &n);
    bz_row_free(r);
    return n;
}

/* A `bazoola exec` process driven line by line. */
class ExecProcess {
public:
    ExecProcess(const std::string &dir, const std::string &schema_file)
    {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0)
            return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            execl(BZ_TOOL_PATH, BZ_TOOL_PATH, "exec", dir.c_str(), "--schema",
                  schema_file.c_str(), (char *)nullptr);
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        to_ = fdopen(in[1], "w");
        from_ = fdopen(out[0], "r");
    }
    ~ExecProcess()
    {
        if (to_)
            fclose(to_);
        if (from_)
            fclose(from_);
        if (pid_ > 0)
            waitpid(pid_, nullptr, 0);
    }
    std::string call(const std::string &line)
    {
        fprintf(to_, "%s\n", line.c_str());
        fflush(to_);
        char *buf = nullptr;
        size_t cap = 0;
        ssize_t n = getline(&buf, &cap, from_);
        std::string r = n > 0 ? std::string(buf, (size_t)n - 1) : "";
        free(buf);
        return r;
    }

private:
    pid_t pid_ = -1;
    FILE *to_ = nullptr, *from_ = nullptr;
};

}  // namespace

TEST(SharedCache, TwoProgramsInterleavingSeeEveryWrite)
{
    TempDir dir("bzshm");
    ASSERT_TRUE(write_file(dir.file("s.schema"), kSchema));
    std::string data = dir.file("data");
    ExecProcess a(data, dir.file("s.schema"));
    ExecProcess b(data, dir.file("s.schema"));
    for (int i = 1; i <= 150; i++) {
        std::string id = std::to_string(i);
        EXPECT_EQ("{\"ok\":{\"id\":" + id + ",\"n\":" + id + ",\"body\":\"a" + id + "\"}}",
                  a.call("{\"op\":\"insert\",\"table\":\"t\",\"values\":{\"n\":" + id +
                         ",\"body\":\"a" + id + "\"}}"));
        /* The other program's next read sees it, from its cache or not. */
        EXPECT_EQ("{\"ok\":{\"id\":" + id + ",\"n\":" + id + ",\"body\":\"a" + id + "\"}}",
                  b.call("{\"op\":\"find_by_id\",\"table\":\"t\",\"id\":" + id + "}"));
        b.call("{\"op\":\"update_by_id\",\"table\":\"t\",\"id\":" + id +
               ",\"values\":{\"n\":-" + id + ",\"body\":\"b" + id + "\"}}");
        EXPECT_EQ("{\"ok\":{\"id\":" + id + ",\"n\":-" + id + ",\"body\":\"b" + id + "\"}}",
                  a.call("{\"op\":\"find_by_id\",\"table\":\"t\",\"id\":" + id + "}"));
        if (i % 10 == 0) {
            b.call("{\"op\":\"delete_by_id\",\"table\":\"t\",\"id\":" + id + "}");
            EXPECT_EQ("{\"ok\":null}",
                      a.call("{\"op\":\"find_by_id\",\"table\":\"t\",\"id\":" + id + "}"));
        }
    }
    /* Both see the same table, in file order. */
    std::string all_a = a.call("{\"op\":\"find_all\",\"table\":\"t\"}");
    EXPECT_EQ(all_a, b.call("{\"op\":\"find_all\",\"table\":\"t\"}"));
    EXPECT_NE(std::string::npos, all_a.find("\"b149\""));
}

TEST(SharedCache, EightFramesOverDataAHundredTimesLarger)
{
    TempDir dir("bzshm");
    setenv("BAZOOLA_CACHE_MB", "0.03", 1); /* 8 frames, 32 KiB */
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    unsetenv("BAZOOLA_CACHE_MB");
    ASSERT_TRUE(db) << err;
    const int n = 60000; /* ~3.7 MiB of rows, index and text in all */
    ASSERT_EQ(BZ_OK, bz_lock(db.get()));
    for (int i = 1; i <= n; i++) {
        Values v(make_values({{"n", i * 7}, {"body", "row-" + std::to_string(i) + "-padding"}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr)) << bz_errmsg();
    }
    ASSERT_EQ(BZ_OK, bz_unlock(db.get()));
    long long total = file_size(dir.file("t.dat")) + file_size(dir.file("t.text.dat")) +
                      file_size(dir.file("t__id.idx.dat"));
    EXPECT_GT(total, 100LL * 8 * 4096);
    /* Random-ish point reads and a full scan return exactly the rows. */
    for (int i = 1; i <= n; i += 97) {
        bz_row *r = nullptr;
        ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "t", i, nullptr, &r));
        Row row(r);
        ASSERT_TRUE(r);
        int64_t v = 0;
        const char *s = nullptr;
        ASSERT_EQ(BZ_OK, bz_row_get_int(r, "n", &v));
        ASSERT_EQ(BZ_OK, bz_row_get_str(r, "body", &s, nullptr));
        EXPECT_EQ(i * 7, v);
        EXPECT_EQ("row-" + std::to_string(i) + "-padding", s);
    }
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "t", nullptr, &rs));
    Rows rows(rs);
    ASSERT_EQ((size_t)n, bz_rows_len(rs));
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        ASSERT_EQ((int64_t)i + 1, bz_row_id(bz_rows_at(rs, i)));
    bz_stats *st = nullptr;
    ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st)) << bz_errmsg();
    EXPECT_EQ(8u, bz_stats_frames(st));
    EXPECT_GT(bz_stats_counter(st, BZ_STAT_EVICTIONS), 1000u);
    EXPECT_GT(bz_stats_counter(st, BZ_STAT_HITS), 0u);
    bz_stats_free(st);
}

/* A thread that makes a handful of reads and then idles (a demo worker
 * between requests) must not leave them in its private batch: bzstat
 * would show no traffic at all.  Its lookups reach the segment by the
 * time each call returns, exactly. */
TEST(SharedCache, LightUseShowsInTheCountersAtOnce)
{
    TempDir dir("bzshm");
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    Values v(make_values({{"n", 1}, {"body", "one"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    ASSERT_EQ(BZ_OK, bz_stats_reset(dir.c_str())) << bz_errmsg();
    std::mutex m;
    std::condition_variable cv;
    bool read_done = false, may_exit = false;
    uint64_t th = 0, tm = 0;
    std::thread reader([&]() {
        uint64_t h0, m0;
        bz_thread_cache_lookups(&h0, &m0);
        for (int i = 0; i < 3; i++) {
            bz_row *r = nullptr;
            EXPECT_EQ(BZ_OK, bz_find_by_id(db.get(), "t", 1, nullptr, &r));
            bz_row_free(r);
        }
        bz_thread_cache_lookups(&th, &tm);
        th -= h0;
        tm -= m0;
        std::unique_lock<std::mutex> lk(m);
        read_done = true;
        cv.notify_all();
        cv.wait(lk, [&]() { return may_exit; });
    });
    {
        std::unique_lock<std::mutex> lk(m);
        cv.wait(lk, [&]() { return read_done; });
    }
    bz_stats *st = nullptr;
    EXPECT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st)) << bz_errmsg();
    if (st) {
        EXPECT_GE(th + tm, 3u);
        EXPECT_EQ(th, bz_stats_counter(st, BZ_STAT_HITS));
        EXPECT_EQ(tm, bz_stats_counter(st, BZ_STAT_MISSES));
        bz_stats_free(st);
    }
    {
        std::lock_guard<std::mutex> lk(m);
        may_exit = true;
    }
    cv.notify_all();
    reader.join();
}

TEST(SharedCache, SegmentLeftByKilledProcessesIsReused)
{
    TempDir dir("bzshm");
    { Db db(open_db(dir.path(), kSchema)); ASSERT_TRUE(db); }
    /* Four processes attach, write, and are killed while idle. */
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    std::vector<pid_t> kids;
    for (int k = 0; k < 4; k++)
        kids.push_back(spawn_child([&, k]() {
            Db db(open_db(dir.path(), kSchema));
            if (!db)
                return 1;
            for (int i = 0; i < 25; i++) {
                Values v(make_values({{"n", k * 100 + i}}));
                if (bz_insert(db.get(), "t", v.get(), nullptr) != BZ_OK)
                    return 2;
            }
            char c = 'r';
            if (write(ready[1], &c, 1) != 1)
                return 3;
            pause();
            return 0;
        }));
    for (int k = 0; k < 4; k++) {
        char c;
        ASSERT_EQ(1, read(ready[0], &c, 1));
    }
    EXPECT_TRUE(seg_exists(dir.path()));
    for (pid_t p : kids)
        kill(p, SIGKILL);
    for (pid_t p : kids) {
        int status;
        ASSERT_TRUE(wait_child(p, 5000, &status));
    }
    close(ready[0]);
    close(ready[1]);
    /* The segment is still there, its processes dead. */
    ASSERT_TRUE(seg_exists(dir.path()));
    bz_stats *st = nullptr;
    ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st));
    size_t live = 0;
    for (size_t i = 0; i < bz_stats_nprocs(st); i++) {
        int alive = 0;
        bz_stats_proc(st, i, nullptr, &alive, nullptr);
        live += alive != 0;
    }
    EXPECT_EQ(0u, live);
    bz_stats_free(st);
    /* The next process attaches, reaps them, and sees every write. */
    Db db(open_db(dir.path(), kSchema));
    ASSERT_TRUE(db);
    int64_t count = 0;
    ASSERT_EQ(BZ_OK, bz_count(db.get(), "t", nullptr, &count));
    EXPECT_EQ(100, count);
    ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st));
    EXPECT_EQ(1u, bz_stats_nprocs(st));
    bz_stats_free(st);
}

namespace {
int die_at_third_write(const char *, int64_t, size_t, uint64_t nth)
{
    if (nth == 3)
        _exit(77);
    return 0;
}
}  // namespace

TEST(SharedCache, WriterKilledMidOperationLeavesNoStalePages)
{
    TempDir dir("bzshm");
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    ASSERT_TRUE(db) << err;
    Values v(make_values({{"n", 1}, {"body", "first"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    ASSERT_EQ(1, find_n(db.get(), 1)); /* cached */
    pid_t child = spawn_child([&]() {
        Db mine(open_db(dir.path(), kSchema));
        if (!mine)
            return 1;
        bz__set_write_hook(die_at_third_write);
        Values u(make_values({{"n", 2}, {"body", "second"}}));
        bz_update_by_id(mine.get(), "t", 1, u.get(), nullptr);
        return 0;
    });
    int status;
    ASSERT_TRUE(wait_child(child, 5000, &status));
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(77, WEXITSTATUS(status));
    /* Whatever the files now hold, the cache must agree with them. */
    ASSERT_EQ(BZ_OK, bz_lock(db.get()));
    ASSERT_EQ(BZ_OK, bz_unlock(db.get()));
    bz_stats *st = nullptr;
    ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st));
    EXPECT_EQ(1u, bz_stats_recoveries(st));
    bz_stats_free(st);
    Db fresh_view(nullptr);
    bz_options *o = bz_options_new();
    bz_options_set_lock_mode(o, BZ_LOCK_FLOCK);
    Schema s(parse_schema(kSchema));
    bz_db *raw = nullptr;
    ASSERT_EQ(BZ_OK, bz_open(dir.c_str(), s.get(), o, &raw));
    bz_options_free(o);
    Db direct(raw);
    EXPECT_EQ(find_n(direct.get(), 1), find_n(db.get(), 1));
}

TEST(SegmentValidation, BadMagicIsRefusedWithAdvice)
{
    TempDir dir("bzshm");
    { Db db(open_db(dir.path(), kSchema)); ASSERT_TRUE(db); }
    ASSERT_TRUE(seg_put(dir.path(), std::string(1 << 20, 'Z')));
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    EXPECT_FALSE(db);
    EXPECT_NE(std::string::npos, err.find("not ours")) << err;
    EXPECT_NE(std::string::npos, err.find("bazoola shm remove")) << err;
    /* The advice works. */
    ASSERT_EQ(BZ_OK, bz_shm_remove(dir.c_str())) << bz_errmsg();
    Db again(open_db(dir.path(), kSchema, &err));
    EXPECT_TRUE(again) << err;
}

TEST(SegmentValidation, OtherVersionIsRebuiltWhenUnused)
{
    TempDir dir("bzshm");
    std::string bytes = live_segment_bytes(dir.path());
    ASSERT_GT(bytes.size(), 4096u);
    uint32_t version, ours;
    memcpy(&ours, bytes.data() + 8, 4); /* sig.version follows magic */
    version = 99;
    memcpy(&bytes[8], &version, 4);
    ASSERT_TRUE(seg_put(dir.path(), bytes));
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    ASSERT_TRUE(db) << err;
    EXPECT_EQ(1, find_n(db.get(), 1));
    std::string now = seg_bytes(dir.path());
    memcpy(&version, now.data() + 8, 4);
    EXPECT_EQ(ours, version);
}

TEST(SegmentValidation, OtherVersionInUseIsRefused)
{
    TempDir dir("bzshm");
    std::string bytes = live_segment_bytes(dir.path());
    uint32_t version = 99;
    memcpy(&bytes[8], &version, 4);
    /* Claim a live process (this one) in the first process slot. */
    int32_t me = getpid();
    memcpy(&bytes[4096], &me, 4);
    /* Its start time (field 22 of /proc/self/stat) tells it from a later
     * process with a reused pid. */
    std::string stat = read_file("/proc/self/stat");
    size_t p = stat.rfind(')');
    ASSERT_NE(std::string::npos, p);
    std::vector<std::string> fields;
    for (size_t i = p + 2; i < stat.size();) {
        size_t j = stat.find(' ', i);
        fields.push_back(stat.substr(i, j - i));
        if (j == std::string::npos)
            break;
        i = j + 1;
    }
    ASSERT_GT(fields.size(), 20u);
    uint64_t start = std::stoull(fields[19]); /* field 22: index 22 - 3 */
    memcpy(&bytes[4096 + 8], &start, 8);
    ASSERT_TRUE(seg_put(dir.path(), bytes));
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    EXPECT_FALSE(db);
    EXPECT_NE(std::string::npos, err.find("stale")) << err;
    EXPECT_NE(std::string::npos, err.find(std::to_string(me))) << err;
    shm_unlink(seg_name(dir.path()).c_str());
}

TEST(SegmentValidation, TruncatedSegmentIsRebuilt)
{
    TempDir dir("bzshm");
    std::string bytes = live_segment_bytes(dir.path());
    for (size_t cut : {size_t(100), size_t(4096), bytes.size() / 2}) {
        ASSERT_TRUE(seg_put(dir.path(), bytes.substr(0, cut)));
        std::string err;
        Db db(open_db(dir.path(), kSchema, &err));
        ASSERT_TRUE(db) << "cut at " << cut << ": " << err;
        EXPECT_EQ(1, find_n(db.get(), 1));
        EXPECT_EQ(bytes.size(), seg_bytes(dir.path()).size());
    }
}

TEST(SegmentValidation, AnotherOwnersSegmentIsRefused)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to give the segment away";
    TempDir dir("bzshm");
    std::string bytes = live_segment_bytes(dir.path());
    ASSERT_TRUE(seg_put(dir.path(), bytes));
    ASSERT_EQ(0, chown(("/dev/shm" + seg_name(dir.path())).c_str(), 4242, 4242));
    std::string err;
    Db db(open_db(dir.path(), kSchema, &err));
    EXPECT_FALSE(db);
    EXPECT_NE(std::string::npos, err.find("4242")) << err;
    EXPECT_NE(std::string::npos, err.find("bazoola shm remove")) << err;
    shm_unlink(seg_name(dir.path()).c_str());
}

TEST(OutsideEdits, SameSizeEditAndReplacementAreSeenByTheNextWrite)
{
    TempDir dir("bzshm");
    std::string err;
    Db db(open_db(dir.path(), "c: id PK, name CHAR(5)\n", &err));
    ASSERT_TRUE(db) << err;
    Values v(make_values({{"name", "old"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "c", v.get(), nullptr));
    bz_row *r = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "c", 1, nullptr, &r)); /* cached */
    bz_row_free(r);
    usleep(20000); /* a later mtime tick */
    /* An editor rewrites the row in place: same size. */
    ASSERT_TRUE(patch_file(dir.file("c.dat"), 9, "new  "));
    Values w(make_values({{"name", "two"}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "c", w.get(), nullptr));
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "c", 1, nullptr, &r));
    const char *s = nullptr;
    bz_row_get_str(r, "name", &s, nullptr);
    EXPECT_STREQ("new", s);
    bz_row_free(r);
    /* An editor saves by writing a new file and renaming it over. */
    usleep(20000);
    std::string body = read_file(dir.file("c.dat"));
    body.replace(9, 5, "third");
    ASSERT_TRUE(write_file(dir.file("c.dat.tmp"), body));
    ASSERT_EQ(0, rename(dir.file("c.dat.tmp").c_str(), dir.file("c.dat").c_str()));
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "c", 2));
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "c", 1, nullptr, &r));
    bz_row_get_str(r, "name", &s, nullptr);
    EXPECT_STREQ("third", s);
    bz_row_free(r);
    /* And the delete went to the new file, not the replaced one. */
    EXPECT_EQ('*', read_file(dir.file("c.dat"))[15]);
}

TEST(FirstAttach, EightProcessesAtOnceMakeOneSegment)
{
    TempDir dir("bzshm");
    std::string data = dir.file("d");
    int go[2], report[2];
    ASSERT_EQ(0, pipe(go));
    ASSERT_EQ(0, pipe(report));
    std::vector<pid_t> kids;
    for (int k = 0; k < 8; k++)
        kids.push_back(spawn_child([&]() {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 0) /* wait for the pipe to close */
                return 1;
            Db db(open_db(data, kSchema));
            if (!db)
                return 2;
            Values v(make_values({{"n", getpid()}}));
            if (bz_insert(db.get(), "t", v.get(), nullptr) != BZ_OK)
                return 3;
            struct stat st;
            if (stat(("/dev/shm" + seg_name(data)).c_str(), &st) != 0)
                return 4;
            uint64_t ino = st.st_ino;
            if (write(report[1], &ino, sizeof ino) != sizeof ino)
                return 5;
            /* Stay attached until everyone has reported. */
            if (read(report[0], &c, 0) < 0)
                return 6;
            usleep(300000);
            return 0;
        }));
    close(go[0]);
    close(go[1]); /* all start at once */
    std::vector<uint64_t> inos;
    for (int k = 0; k < 8; k++) {
        uint64_t ino;
        ASSERT_EQ((ssize_t)sizeof ino, read(report[0], &ino, sizeof ino));
        inos.push_back(ino);
    }
    for (pid_t p : kids) {
        int status;
        ASSERT_TRUE(wait_child(p, 10000, &status));
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << describe_status(status);
    }
    for (uint64_t ino : inos)
        EXPECT_EQ(inos[0], ino) << "two segments were made";
    Db db(open_db(data, kSchema));
    int64_t count = 0;
    ASSERT_EQ(BZ_OK, bz_count(db.get(), "t", nullptr, &count));
    EXPECT_EQ(8, count);
}
