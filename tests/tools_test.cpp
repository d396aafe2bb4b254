/*
 * tools_test.cpp - `bzstat` and `bazoola shm remove` run as processes over
 * a directory this test process holds open in shared mode.
 *
 * The tools are run with run_process() (fork + exec, stdout and stderr kept
 * apart, killed after a timeout) rather than popen(), so a tool that hangs
 * fails its test instead of the suite, and stderr can be checked.
 */
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

const int kTimeoutMs = 20000;

const char *const kSchema =
    "authors: id PK, name CHAR(20)\n"
    "books: id PK, title CHAR(30), author_id FK(authors)\n";

struct ToolRun {
    bool finished = false;
    int status = -1; /* the exit status, or -1 when killed or not run */
    std::string out, err;
};

ToolRun run_tool(const char *tool, const std::vector<std::string> &args)
{
    std::vector<std::string> argv{tool};
    argv.insert(argv.end(), args.begin(), args.end());
    ToolRun r;
    int st = 0;
    r.finished = run_process(argv, "", kTimeoutMs, &r.out, &r.err, &st);
    if (r.finished && WIFEXITED(st))
        r.status = WEXITSTATUS(st);
    return r;
}

ToolRun bzstat(const std::vector<std::string> &args)
{
    return run_tool(BZ_BZSTAT_PATH, args);
}

ToolRun bazoola(const std::vector<std::string> &args)
{
    return run_tool(BZ_TOOL_PATH, args);
}

std::string describe(const ToolRun &r)
{
    return "exit " + std::to_string(r.status) + "\n--- stdout:\n" + r.out +
           "--- stderr:\n" + r.err;
}

/* The lock mode may be forced to flock for a whole test run; these tests
 * are about the shared segment. */
bool flock_forced()
{
    const char *m = getenv("BAZOOLA_LOCK_MODE");
    return m && strcmp(m, "flock") == 0;
}

int64_t get_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    EXPECT_TRUE(v && json_is_integer(v)) << "no integer \"" << key << "\"";
    return v ? json_integer_value(v) : -1;
}

/* Opens dir in shared mode (the default) and gives it hits and misses. */
class ToolsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (flock_forced())
            GTEST_SKIP() << "BAZOOLA_LOCK_MODE=flock: no shared segment";
        std::string err;
        db_.reset(open_db(tmp_.path(), kSchema, &err));
        ASSERT_TRUE(db_) << err;
        for (int i = 1; i <= 5; i++) {
            Values a(make_values({{"name", "author " + std::to_string(i)}}));
            ASSERT_EQ(bz_insert(db_.get(), "authors", a.get(), nullptr), BZ_OK)
                << last_error(BZ_OK);
        }
        for (int i = 1; i <= 50; i++) {
            Values b(make_values({{"title", "book " + std::to_string(i)},
                                  {"author_id", 1 + i % 5}}));
            ASSERT_EQ(bz_insert(db_.get(), "books", b.get(), nullptr), BZ_OK)
                << last_error(BZ_OK);
        }
        for (int round = 0; round < 3; round++) {
            for (int id = 1; id <= 60; id++) { /* 51..60 are not there */
                bz_row *r = nullptr;
                ASSERT_EQ(bz_find_by_id(db_.get(), "books", id, nullptr, &r),
                          BZ_OK);
                bz_row_free(r);
            }
            bz_rows *all = nullptr;
            ASSERT_EQ(bz_find_all(db_.get(), "authors", nullptr, &all), BZ_OK);
            EXPECT_EQ(bz_rows_len(all), 5u);
            bz_rows_free(all);
        }
    }

    /* bzstat DIR --json, parsed. */
    Json stats_json()
    {
        ToolRun r = bzstat({tmp_.path(), "--json"});
        EXPECT_TRUE(r.finished);
        EXPECT_EQ(r.status, 0) << describe(r);
        std::string err;
        Json j = json_parse(r.out, &err);
        EXPECT_TRUE(j && json_is_object(j.get())) << err << "\n" << r.out;
        return j;
    }

    TempDir tmp_{"bztools"};
    Db db_;
};

}  // namespace

TEST(ToolsBzstat, NoArgumentsIsAUsageError)
{
    ToolRun r = bzstat({});
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_NE(r.err.find("Usage: bzstat"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(ToolsBzstat, BadOptionsAreUsageErrors)
{
    for (const auto &args : std::vector<std::vector<std::string>>{
             {"--frobnicate", "/tmp"},
             {"--watch", "0", "/tmp"},
             {"--watch", "abc", "/tmp"},
             {"/tmp", "--watch"},
             {"/tmp", "/var"}}) {
        ToolRun r = bzstat(args);
        ASSERT_TRUE(r.finished);
        EXPECT_EQ(r.status, 2) << args[0] << "\n" << describe(r);
        EXPECT_NE(r.err, "");
    }
}

TEST(ToolsBzstat, HelpAndVersion)
{
    ToolRun h = bzstat({"--help"});
    EXPECT_EQ(h.status, 0) << describe(h);
    EXPECT_NE(h.out.find("Usage: bzstat"), std::string::npos);
    EXPECT_NE(h.out.find("--watch SECONDS"), std::string::npos);
    ToolRun v = bzstat({"--version"});
    EXPECT_EQ(v.status, 0) << describe(v);
    EXPECT_EQ(v.out, std::string("bzstat ") + bz_version() + "\n");
}

TEST(ToolsBzstat, NoSegmentExits3WithAFriendlyMessage)
{
    TempDir tmp("bztools");
    for (const auto &args : std::vector<std::vector<std::string>>{
             {tmp.path()}, {tmp.path(), "--json"}, {"--reset", tmp.path()}}) {
        ToolRun r = bzstat(args);
        ASSERT_TRUE(r.finished);
        EXPECT_EQ(r.status, 3) << describe(r);
        EXPECT_NE(r.err.find(tmp.path() + " has no shared segment"),
                  std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST(ToolsBzstat, MissingDirectoryExits1)
{
    TempDir tmp("bztools");
    ToolRun r = bzstat({tmp.file("nope")});
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_NE(r.err.find(tmp.file("nope")), std::string::npos) << r.err;
}

TEST_F(ToolsTest, BzstatShowsTheLiveSegmentResetsAndSeesItGo)
{
    /* JSON: counters, tables, this process, frames. */
    Json j = stats_json();
    ASSERT_TRUE(j);
    const json_t *counters = json_object_get(j.get(), "counters");
    ASSERT_TRUE(json_is_object(counters)) << json_dump(j.get());
    EXPECT_GT(get_int(counters, "hits") + get_int(counters, "misses"), 0)
        << json_dump(counters);
    const json_t *seg = json_object_get(j.get(), "segment");
    ASSERT_TRUE(json_is_object(seg)) << json_dump(j.get());
    EXPECT_GT(get_int(seg, "frames_used"), 0) << json_dump(seg);
    EXPECT_LE(get_int(seg, "frames_used"), get_int(seg, "frames"));
    EXPECT_EQ(std::string(json_string_value(json_object_get(j.get(),
                                                             "directory"))),
              tmp_.path());
    /* The test's inserts took the writer lock; nobody holds it now. */
    const json_t *locks = json_object_get(j.get(), "locks");
    ASSERT_TRUE(json_is_object(locks)) << json_dump(j.get());
    EXPECT_GE(get_int(locks, "acquisitions"), 3) << json_dump(locks);
    EXPECT_EQ(0, get_int(locks, "holder_pid")) << json_dump(locks);
    EXPECT_EQ(0, get_int(locks, "owner_dead")) << json_dump(locks);
    EXPECT_EQ(16u, json_array_size(json_object_get(locks, "wait_hist_log2_us")));

    std::set<std::string> tables;
    const json_t *ts = json_object_get(j.get(), "tables");
    ASSERT_TRUE(json_is_array(ts)) << json_dump(j.get());
    for (size_t i = 0; i < json_array_size(ts); i++)
        tables.insert(json_string_value(
            json_object_get(json_array_get(ts, i), "name")));
    EXPECT_TRUE(tables.count("books")) << json_dump(ts);
    EXPECT_TRUE(tables.count("authors")) << json_dump(ts);

    bool me_alive = false;
    const json_t *procs = json_object_get(j.get(), "processes");
    ASSERT_TRUE(json_is_array(procs)) << json_dump(j.get());
    for (size_t i = 0; i < json_array_size(procs); i++) {
        const json_t *p = json_array_get(procs, i);
        if (get_int(p, "pid") == (int64_t)getpid())
            me_alive = json_is_true(json_object_get(p, "alive"));
    }
    EXPECT_TRUE(me_alive) << "pid " << getpid() << " not listed alive: "
                          << json_dump(procs);

    /* Text: success, and the tables are there. */
    ToolRun text = bzstat({tmp_.path()});
    ASSERT_TRUE(text.finished);
    EXPECT_EQ(text.status, 0) << describe(text);
    EXPECT_NE(text.out.find("books"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("authors"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(std::to_string(getpid())), std::string::npos)
        << text.out;
    ToolRun files = bzstat({"--files", tmp_.path()});
    EXPECT_EQ(files.status, 0) << describe(files);
    EXPECT_NE(files.out.find("__id.idx.dat"), std::string::npos) << files.out;
    for (const ToolRun *r : {&text, &files}) {
        size_t start = 0;
        while (start < r->out.size()) {
            size_t end = r->out.find('\n', start);
            if (end == std::string::npos)
                end = r->out.size();
            EXPECT_LE(end - start, 80u) << "wider than 80 columns: "
                                        << r->out.substr(start, end - start);
            start = end + 1;
        }
    }

    /* --reset, then the counters read zero (this process is idle). */
    ToolRun reset = bzstat({"--reset", tmp_.path()});
    ASSERT_TRUE(reset.finished);
    EXPECT_EQ(reset.status, 0) << describe(reset);
    EXPECT_NE(reset.out.find("reset"), std::string::npos) << reset.out;
    Json after = stats_json();
    ASSERT_TRUE(after);
    counters = json_object_get(after.get(), "counters");
    EXPECT_EQ(get_int(counters, "hits"), 0) << json_dump(counters);
    EXPECT_EQ(get_int(counters, "misses"), 0) << json_dump(counters);

    /* The last process out removes the segment. */
    db_.reset();
    ToolRun gone = bzstat({tmp_.path()});
    ASSERT_TRUE(gone.finished);
    EXPECT_EQ(gone.status, 3) << describe(gone);
    EXPECT_NE(gone.err.find("has no shared segment: no process has it open "
                            "in shared mode"),
              std::string::npos) << gone.err;
    EXPECT_EQ(gone.out, "");
}

TEST_F(ToolsTest, BzstatWatchPrintsSnapshotsUntilInterrupted)
{
    /* Not a terminal: snapshots separated by a blank line, no ANSI codes.
     * timeout(1) stops it as a service manager would (SIGTERM: a background
     * job, as under CI, may have SIGINT ignored), and kills it if it does
     * not stop. */
    std::vector<std::string> argv{"/usr/bin/timeout", "--preserve-status",
                                  "-k", "10", "-s", "TERM", "1.5",
                                  BZ_BZSTAT_PATH, "--watch", "0.2",
                                  tmp_.path()};
    if (!file_exists(argv[0]))
        GTEST_SKIP() << "no /usr/bin/timeout";
    std::string out, err;
    int st = 0;
    ASSERT_TRUE(run_process(argv, "", kTimeoutMs, &out, &err, &st));
    ASSERT_TRUE(WIFEXITED(st)) << describe_status(st);
    EXPECT_EQ(WEXITSTATUS(st), 0) << err;
    EXPECT_EQ(out.find('\033'), std::string::npos);
    size_t frames = 0;
    for (size_t p = out.find("\nSegment\n"); p != std::string::npos;
         p = out.find("\nSegment\n", p + 1))
        frames++;
    EXPECT_GE(frames, 2u) << out;
    EXPECT_NE(out.find("\n\nbzstat "), std::string::npos) << out;
    EXPECT_NE(out.find("hits/s"), std::string::npos) << out;
}

TEST_F(ToolsTest, ShmRemoveWhileOpenThenThereIsNone)
{
    /* We are attached: refused without --force, naming our pid. */
    ToolRun no = bazoola({"shm", "remove", tmp_.path()});
    ASSERT_TRUE(no.finished);
    EXPECT_EQ(no.status, 1) << describe(no);
    EXPECT_NE(no.err.find(std::to_string(getpid())), std::string::npos)
        << no.err;
    ToolRun r = bazoola({"shm", "remove", "--force", tmp_.path()});
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "removed shared segment of " + tmp_.path() + "\n");

    ToolRun again = bazoola({"shm", "remove", tmp_.path()});
    ASSERT_TRUE(again.finished);
    EXPECT_EQ(again.status, 3) << describe(again); /* as bzstat's */
    EXPECT_NE(again.err.find("has no shared segment"), std::string::npos)
        << again.err;

    ToolRun stat = bzstat({tmp_.path()});
    EXPECT_EQ(stat.status, 3) << describe(stat);

    /* Our handle keeps its mapping and still works. */
    bz_row *row = nullptr;
    EXPECT_EQ(bz_find_by_id(db_.get(), "books", 1, nullptr, &row), BZ_OK)
        << last_error(BZ_OK);
    EXPECT_NE(row, nullptr);
    bz_row_free(row);
}

TEST(ToolsShmRemove, UsageErrorsAndHelp)
{
    for (const auto &args : std::vector<std::vector<std::string>>{
             {"shm"}, {"shm", "remove"}, {"shm", "frob", "/tmp"},
             {"shm", "remove", "/tmp", "/var"}}) {
        ToolRun r = bazoola(args);
        ASSERT_TRUE(r.finished);
        EXPECT_EQ(r.status, 2) << describe(r);
    }
    ToolRun help = bazoola({"--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("\n  shm "), std::string::npos) << help.out;
    ToolRun shm_help = bazoola({"help", "shm"});
    EXPECT_EQ(shm_help.status, 0);
    EXPECT_NE(shm_help.out.find("Usage: bazoola shm remove [--force] DIR"),
              std::string::npos) << shm_help.out;
}
