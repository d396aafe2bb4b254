/*
 * concurrency_test.cpp - many threads and processes on one data directory:
 * concurrent inserts lose nothing and never repeat an id, read-modify-write
 * under the explicit lock counts exactly, readers never see a torn row,
 * delete/insert churn keeps the files consistent, and a writer that dies
 * (holding the lock, or in the middle of an operation) leaves a directory
 * that the next process recovers.
 *
 * Every test checks the files themselves at the end (check_table_files).
 */
#include <gtest/gtest.h>

#include <cstring>

#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "helpers.h"

using namespace bzt;

namespace {

constexpr int kWorkers = 8;
constexpr int kInsertsEach = 500;
constexpr int kChildTimeoutMs = 90000;

#define ASSERT_OPEN(var, dir, schema)                                      \
    std::string var##_err;                                                \
    Db var(open_db((dir), (schema), &var##_err));                         \
    ASSERT_TRUE(var) << var##_err

/* "t": id PK, worker INT, seq INT  -> row size 28. */
const char *const kInsertSchema = "t: id PK, worker INT, seq INT\n";
constexpr size_t kInsertRowSize = 28;

/*
 * Check a table's files against the format (docs/file-format.md): rows whole,
 * index slots pointing at live rows of their id, every live row indexed,
 * free stack = exactly the deleted rows, seqnum >= every id.  "" when fine.
 */
std::string check_table_files(const std::string &dir, const std::string &t, size_t row_size)
{
    auto num = [](const std::string &s, long long *out) {
        size_t i = 0;
        if (i < s.size() && s[i] == '-')
            i++;
        size_t digits = 0;
        while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
            i++;
            digits++;
        }
        while (i < s.size() && s[i] == ' ')
            i++;
        if (digits == 0 || i != s.size())
            return false;
        *out = atoll(s.c_str());
        return true;
    };
    std::string dat = read_file(dir + "/" + t + ".dat");
    std::string idx = read_file(dir + "/" + t + "__id.idx.dat");
    std::string fre = read_file(dir + "/" + t + "__free.dat");
    std::string seq = read_file(dir + "/" + t + "__seqnum.dat");
    std::ostringstream err;
    if (dat.size() % row_size)
        return t + ".dat size " + std::to_string(dat.size()) + " is not a multiple of " +
               std::to_string(row_size);
    if (idx.size() % 9)
        return t + "__id.idx.dat size is not a multiple of 9";
    if (fre.size() % 9)
        return t + "__free.dat size is not a multiple of 9";
    size_t nrows = dat.size() / row_size;
    std::string deleted_row = std::string(row_size - 1, '*') + "\n";
    std::vector<long long> row_id(nrows, -1); /* -1: deleted */
    long long max_id = 0;
    for (size_t r = 0; r < nrows; r++) {
        std::string row = dat.substr(r * row_size, row_size);
        if (row == deleted_row)
            continue;
        if (row.back() != '\n')
            err << "row " << r << " does not end in a newline; ";
        long long id;
        if (!num(row.substr(0, 9), &id))
            err << "row " << r << " has a bad id \"" << escape_bytes(row.substr(0, 9)) << "\"; ";
        else {
            row_id[r] = id;
            max_id = std::max(max_id, id);
        }
    }
    std::set<long long> indexed;
    for (size_t k = 0; k < idx.size() / 9; k++) {
        std::string slot = idx.substr(k * 9, 9);
        if (slot == "#########")
            continue;
        long long r;
        if (!num(slot, &r) || r < 0 || static_cast<size_t>(r) >= nrows) {
            err << "index slot " << k << " is bad: \"" << escape_bytes(slot) << "\"; ";
            continue;
        }
        if (row_id[r] != static_cast<long long>(k) + 1)
            err << "index slot of id " << k + 1 << " points to row " << r << " holding id "
                << row_id[r] << "; ";
        indexed.insert(static_cast<long long>(k) + 1);
    }
    std::set<long long> freed;
    for (size_t k = 0; k < fre.size() / 9; k++) {
        long long r;
        if (!num(fre.substr(k * 9, 9), &r) || r < 0 || static_cast<size_t>(r) >= nrows) {
            err << "free entry " << k << " is bad; ";
            continue;
        }
        if (row_id[r] != -1)
            err << "free entry " << k << " points to live row " << r << "; ";
        if (!freed.insert(r).second)
            err << "row " << r << " is twice on the free stack; ";
    }
    size_t live = 0;
    for (size_t r = 0; r < nrows; r++) {
        if (row_id[r] == -1) {
            if (!freed.count(static_cast<long long>(r)))
                err << "deleted row " << r << " is not on the free stack; ";
            continue;
        }
        live++;
        if (!indexed.count(row_id[r]))
            err << "row " << r << " (id " << row_id[r] << ") is not indexed; ";
    }
    if (indexed.size() != live)
        err << indexed.size() << " ids indexed but " << live << " live rows; ";
    long long s;
    if (!num(seq, &s))
        err << "seqnum \"" << escape_bytes(seq) << "\" is not a number; ";
    else if (s < max_id)
        err << "seqnum " << s << " is below the largest id " << max_id << "; ";
    return err.str();
}

struct Inserted {
    int64_t id;
    int worker;
    int seq;
};

/* Insert kInsertsEach rows as worker w; false (and *why) on an error. */
bool insert_rows(bz_db *db, int w, std::vector<Inserted> *out, std::string *why)
{
    for (int s = 0; s < kInsertsEach; s++) {
        Values v(make_values({{"worker", w}, {"seq", s}}));
        bz_row *r = nullptr;
        int rc = bz_insert(db, "t", v.get(), &r);
        Row row(r);
        if (rc != BZ_OK || !r) {
            *why = "worker " + std::to_string(w) + " insert " + std::to_string(s) + ": " +
                   last_error(rc);
            return false;
        }
        out->push_back({bz_row_id(r), w, s});
    }
    return true;
}

/* Everything inserted is there exactly once, ids are 1..N. */
void verify_inserts(const std::string &dir, const std::vector<Inserted> &all)
{
    const size_t total = static_cast<size_t>(kWorkers) * kInsertsEach;
    ASSERT_EQ(total, all.size());
    std::set<int64_t> ids;
    for (const auto &x : all)
        ids.insert(x.id);
    EXPECT_EQ(total, ids.size()) << "an id was handed out twice";
    EXPECT_EQ(1, *ids.begin());
    EXPECT_EQ(static_cast<int64_t>(total), *ids.rbegin());

    ASSERT_OPEN(db, dir, kInsertSchema);
    bz_rows *rs = nullptr;
    int rc = bz_find_all(db.get(), "t", nullptr, &rs);
    Rows rows(rs);
    ASSERT_EQ(BZ_OK, rc) << last_error(rc);
    ASSERT_EQ(total, bz_rows_len(rs)) << "rows lost or duplicated";
    std::map<int64_t, std::pair<int64_t, int64_t>> by_id;
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *r = bz_rows_at(rs, i);
        by_id[bz_row_id(r)] = {bz_row_int(r, 1), bz_row_int(r, 2)};
    }
    for (const auto &x : all) {
        auto it = by_id.find(x.id);
        ASSERT_NE(by_id.end(), it) << "id " << x.id << " missing";
        EXPECT_EQ(x.worker, it->second.first) << "id " << x.id;
        EXPECT_EQ(x.seq, it->second.second) << "id " << x.id;
    }
    EXPECT_EQ(std::to_string(total), read_file(dir + "/t__seqnum.dat"));
    EXPECT_EQ(static_cast<long long>(total * kInsertRowSize), file_size(dir + "/t.dat"));
    EXPECT_EQ(static_cast<long long>(total * 9), file_size(dir + "/t__id.idx.dat"));
    EXPECT_EQ(0, file_size(dir + "/t__free.dat"));
    EXPECT_EQ("", check_table_files(dir, "t", kInsertRowSize));
}

TEST(ConcurrentInserts, ThreadsSharingOneHandle)
{
    TempDir dir("bzconc");
    std::vector<std::vector<Inserted>> got(kWorkers);
    std::vector<std::string> why(kWorkers);
    {
        ASSERT_OPEN(db, dir.path(), kInsertSchema);
        std::vector<std::thread> threads;
        for (int w = 0; w < kWorkers; w++)
            threads.emplace_back([&, w] { insert_rows(db.get(), w, &got[w], &why[w]); });
        for (auto &t : threads)
            t.join();
    }
    std::vector<Inserted> all;
    for (int w = 0; w < kWorkers; w++) {
        EXPECT_EQ("", why[w]);
        all.insert(all.end(), got[w].begin(), got[w].end());
    }
    verify_inserts(dir.path(), all);
}

TEST(ConcurrentInserts, ThreadsWithOwnHandles)
{
    TempDir dir("bzconc");
    {
        ASSERT_OPEN(db, dir.path(), kInsertSchema); /* create the files first */
    }
    std::vector<std::vector<Inserted>> got(kWorkers);
    std::vector<std::string> why(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; w++)
        threads.emplace_back([&, w] {
            Db db(open_db(dir.path(), kInsertSchema, &why[w]));
            if (db)
                insert_rows(db.get(), w, &got[w], &why[w]);
        });
    for (auto &t : threads)
        t.join();
    std::vector<Inserted> all;
    for (int w = 0; w < kWorkers; w++) {
        EXPECT_EQ("", why[w]);
        all.insert(all.end(), got[w].begin(), got[w].end());
    }
    verify_inserts(dir.path(), all);
}

TEST(ConcurrentInserts, ThreadsOpeningAFreshDirectoryTogether)
{
    /* Creation of the files and of whatever is shared races too. */
    TempDir dir("bzconc");
    std::string data = dir.file("data");
    std::vector<std::vector<Inserted>> got(kWorkers);
    std::vector<std::string> why(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; w++)
        threads.emplace_back([&, w] {
            Db db(open_db(data, kInsertSchema, &why[w]));
            if (db)
                insert_rows(db.get(), w, &got[w], &why[w]);
        });
    for (auto &t : threads)
        t.join();
    std::vector<Inserted> all;
    for (int w = 0; w < kWorkers; w++) {
        EXPECT_EQ("", why[w]);
        all.insert(all.end(), got[w].begin(), got[w].end());
    }
    verify_inserts(data, all);
}

/* A child's stderr line plus an exit code >= 10 says what went wrong. */
int child_fail(int code, const std::string &why)
{
    fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), why.c_str());
    return code;
}

/* Fork n children running fn(i); they start together (a pipe barrier) and
 * report through *results (one pipe each).  Returns "" or what failed. */
std::string run_children(int n, const std::function<int(int, int)> &fn,
                         std::vector<std::string> *results = nullptr)
{
    int go[2];
    if (pipe(go) != 0)
        return "pipe failed";
    std::vector<pid_t> pids;
    std::vector<int> out_fds;
    for (int i = 0; i < n; i++) {
        int out[2];
        if (pipe(out) != 0)
            return "pipe failed";
        pid_t pid = spawn_child([&, i] {
            close(go[1]);
            close(out[0]);
            char c;
            if (read(go[0], &c, 1) < 0)
                return child_fail(11, "barrier read failed");
            return fn(i, out[1]);
        });
        if (pid < 0)
            return "fork failed";
        close(out[1]);
        pids.push_back(pid);
        out_fds.push_back(out[0]);
    }
    close(go[0]);
    close(go[1]); /* release the barrier: read() returns 0 */
    std::string errs;
    if (results)
        results->assign(n, "");
    for (int i = 0; i < n; i++) {
        std::string data;
        char buf[4096];
        ssize_t k;
        /* Drain the pipe while the child runs, so it never blocks. */
        while ((k = read(out_fds[i], buf, sizeof buf)) > 0)
            data.append(buf, static_cast<size_t>(k));
        close(out_fds[i]);
        int status = 0;
        if (!wait_child(pids[i], kChildTimeoutMs, &status))
            errs += "child " + std::to_string(i) + " timed out; ";
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            errs += "child " + std::to_string(i) + " " + describe_status(status) + "; ";
        if (results)
            (*results)[i] = data;
    }
    return errs;
}

bool write_all_fd(int fd, const void *p, size_t n)
{
    const char *c = static_cast<const char *>(p);
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k <= 0)
            return false;
        c += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

TEST(ConcurrentInserts, Processes)
{
    TempDir dir("bzconc");
    {
        ASSERT_OPEN(db, dir.path(), kInsertSchema);
    }
    std::vector<std::string> results;
    std::string errs = run_children(
        kWorkers,
        [&](int w, int out) {
            std::string why;
            Db db(open_db(dir.path(), kInsertSchema, &why));
            if (!db)
                return child_fail(12, why);
            std::vector<Inserted> got;
            if (!insert_rows(db.get(), w, &got, &why))
                return child_fail(13, why);
            db.reset();
            if (!write_all_fd(out, got.data(), got.size() * sizeof(Inserted)))
                return child_fail(14, "write to parent failed");
            return 0;
        },
        &results);
    EXPECT_EQ("", errs);
    std::vector<Inserted> all;
    for (const auto &r : results) {
        ASSERT_EQ(0u, r.size() % sizeof(Inserted));
        const Inserted *p = reinterpret_cast<const Inserted *>(r.data());
        all.insert(all.end(), p, p + r.size() / sizeof(Inserted));
    }
    verify_inserts(dir.path(), all);
}

/* ------------------------------------------------------------------ */
/* Read-modify-write under the explicit lock. */

const char *const kCounterSchema = "counter: id PK, n INT\n";
constexpr int kCounterWorkers = 4;
constexpr int kIncrements = 250;

/* n increments of counter 1 via lock / find / update / unlock. */
std::string increment(bz_db *db, int n)
{
    for (int i = 0; i < n; i++) {
        int rc = bz_lock(db);
        if (rc != BZ_OK)
            return "bz_lock: " + last_error(rc);
        bz_row *r = nullptr;
        rc = bz_find_by_id(db, "counter", 1, nullptr, &r);
        Row row(r);
        if (rc != BZ_OK || !r) {
            std::string why = "find_by_id: " + last_error(rc);
            bz_unlock(db);
            return why;
        }
        Values v(make_values({{"n", static_cast<long long>(bz_row_int(r, 1) + 1)}}));
        rc = bz_update_by_id(db, "counter", 1, v.get(), nullptr);
        if (rc != BZ_OK) {
            std::string why = "update_by_id: " + last_error(rc);
            bz_unlock(db);
            return why;
        }
        rc = bz_unlock(db);
        if (rc != BZ_OK)
            return "bz_unlock: " + last_error(rc);
    }
    return "";
}

void setup_counter(const std::string &dir)
{
    ASSERT_OPEN(db, dir, kCounterSchema);
    Values v(make_values({{"n", 0}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "counter", v.get(), nullptr));
}

void expect_counter(const std::string &dir, int64_t want)
{
    ASSERT_OPEN(db, dir, kCounterSchema);
    bz_row *r = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "counter", 1, nullptr, &r));
    Row row(r);
    ASSERT_TRUE(row);
    EXPECT_EQ(want, bz_row_int(r, 1)) << "increments were lost";
    /* Updates keep the row number: still one row, nothing freed. */
    EXPECT_EQ("1        " + std::to_string(want) + std::string(9 - std::to_string(want).size(), ' ') +
                  "\n",
              read_file(dir + "/counter.dat"));
    EXPECT_EQ("", read_file(dir + "/counter__free.dat"));
}

TEST(LockedCounter, ThreadsSharingOneHandle)
{
    TempDir dir("bzcounter");
    setup_counter(dir.path());
    {
        ASSERT_OPEN(db, dir.path(), kCounterSchema);
        std::vector<std::string> why(kCounterWorkers);
        std::vector<std::thread> threads;
        for (int w = 0; w < kCounterWorkers; w++)
            threads.emplace_back([&, w] { why[w] = increment(db.get(), kIncrements); });
        for (auto &t : threads)
            t.join();
        for (const auto &y : why)
            EXPECT_EQ("", y);
    }
    expect_counter(dir.path(), kCounterWorkers * kIncrements);
}

TEST(LockedCounter, ThreadsWithOwnHandles)
{
    TempDir dir("bzcounter");
    setup_counter(dir.path());
    std::vector<std::string> why(kCounterWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kCounterWorkers; w++)
        threads.emplace_back([&, w] {
            Db db(open_db(dir.path(), kCounterSchema, &why[w]));
            if (db)
                why[w] = increment(db.get(), kIncrements);
        });
    for (auto &t : threads)
        t.join();
    for (const auto &y : why)
        EXPECT_EQ("", y);
    expect_counter(dir.path(), kCounterWorkers * kIncrements);
}

TEST(LockedCounter, Processes)
{
    TempDir dir("bzcounter");
    setup_counter(dir.path());
    std::string errs = run_children(kCounterWorkers, [&](int, int) {
        std::string why;
        Db db(open_db(dir.path(), kCounterSchema, &why));
        if (!db)
            return child_fail(12, why);
        why = increment(db.get(), kIncrements);
        return why.empty() ? 0 : child_fail(13, why);
    });
    EXPECT_EQ("", errs);
    expect_counter(dir.path(), kCounterWorkers * kIncrements);
}

TEST(LockedCounter, ThreadsAndProcessesTogether)
{
    TempDir dir("bzcounter");
    setup_counter(dir.path());
    /* Two processes (forked while this process has one thread) and two
     * threads in this process, all incrementing at once. */
    std::vector<pid_t> pids;
    for (int i = 0; i < 2; i++)
        pids.push_back(spawn_child([&] {
            std::string w;
            Db db(open_db(dir.path(), kCounterSchema, &w));
            if (!db)
                return child_fail(12, w);
            w = increment(db.get(), kIncrements);
            return w.empty() ? 0 : child_fail(13, w);
        }));
    std::vector<std::string> why(2);
    {
        ASSERT_OPEN(db, dir.path(), kCounterSchema);
        std::vector<std::thread> threads;
        for (int w = 0; w < 2; w++)
            threads.emplace_back([&, w] { why[w] = increment(db.get(), kIncrements); });
        for (auto &t : threads)
            t.join();
    }
    for (pid_t pid : pids) {
        int status = 0;
        EXPECT_TRUE(wait_child(pid, kChildTimeoutMs, &status)) << "child timed out";
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status);
    }
    for (const auto &y : why)
        EXPECT_EQ("", y);
    expect_counter(dir.path(), 4 * kIncrements);
}

TEST(ExplicitLock, KeepsOtherProcessesWritersOut)
{
    TempDir dir("bzlockproc");
    ASSERT_OPEN(db, dir.path(), kCounterSchema);
    ASSERT_EQ(BZ_OK, bz_lock(db.get())) << last_error(-1);
    int done[2];
    ASSERT_EQ(0, pipe(done));
    pid_t pid = spawn_child([&] {
        close(done[0]);
        std::string why;
        Db mine(open_db(dir.path(), kCounterSchema, &why));
        if (!mine)
            return child_fail(12, why);
        Values v(make_values({{"n", 7}}));
        int rc = bz_insert(mine.get(), "counter", v.get(), nullptr);
        if (rc != BZ_OK)
            return child_fail(13, last_error(rc));
        char c = 'x';
        if (write(done[1], &c, 1) != 1)
            return child_fail(14, "write failed");
        return 0;
    });
    ASSERT_GT(pid, 0);
    close(done[1]);
    usleep(300000);
    struct timeval tv = {0, 0};
    fd_set set;
    FD_ZERO(&set);
    FD_SET(done[0], &set);
    int ready = select(done[0] + 1, &set, nullptr, nullptr, &tv);
    EXPECT_EQ(0, ready) << "another process wrote while the lock was held";
    ASSERT_EQ(BZ_OK, bz_unlock(db.get()));
    int status = 0;
    EXPECT_TRUE(wait_child(pid, kChildTimeoutMs, &status)) << "child never got the lock";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status);
    close(done[0]);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "counter", nullptr, &rs));
    Rows rows(rs);
    EXPECT_EQ(1u, bz_rows_len(rs));
}

/* ------------------------------------------------------------------ */
/* Readers against writers: a row is always one writer's whole row. */

const char *const kPairSchema = "pair: id PK, a INT, b CHAR(12), c TEXT\n";
constexpr int kPairRows = 16;

std::string pair_text(int64_t a) { return "v" + std::to_string(a) + "-" + std::to_string(a * 7); }

/* "" when the row is whole: b and c both derive from a. */
std::string torn(const bz_row *r)
{
    if (!r)
        return "no row";
    if (bz_row_len(r) < 4 || bz_row_type(r, 1) != BZ_T_INT || bz_row_type(r, 2) != BZ_T_STR ||
        bz_row_type(r, 3) != BZ_T_STR)
        return "bad row shape";
    int64_t a = bz_row_int(r, 1);
    std::string b = bz_row_str(r, 2, nullptr), c = bz_row_str(r, 3, nullptr);
    if (b != std::to_string(a) || c != pair_text(a))
        return "torn row id " + std::to_string(bz_row_id(r)) + ": a=" + std::to_string(a) +
               " b=" + b + " c=" + c;
    return "";
}

std::string pair_writer(bz_db *db, unsigned seed, int n)
{
    std::mt19937 rng(seed);
    for (int i = 0; i < n; i++) {
        int64_t id = 1 + rng() % kPairRows;
        int64_t a = rng() % 99999999;
        Values v(make_values({{"a", static_cast<long long>(a)},
                              {"b", std::to_string(a)},
                              {"c", pair_text(a)}}));
        int rc = bz_update_by_id(db, "pair", id, v.get(), nullptr);
        if (rc != BZ_OK)
            return "update: " + last_error(rc);
    }
    return "";
}

std::string pair_reader(bz_db *db, unsigned seed, const std::atomic<bool> &stop, long *reads)
{
    std::mt19937 rng(seed);
    while (!stop.load()) {
        bz_row *r = nullptr;
        int64_t id = 1 + rng() % kPairRows;
        int rc = bz_find_by_id(db, "pair", id, nullptr, &r);
        Row row(r);
        if (rc != BZ_OK)
            return "find_by_id: " + last_error(rc);
        if (!r)
            return "row " + std::to_string(id) + " vanished during an update";
        std::string t = torn(r);
        if (!t.empty())
            return t;
        if (++*reads % 16 == 0) {
            bz_rows *rs = nullptr;
            rc = bz_find_all(db, "pair", nullptr, &rs);
            Rows rows(rs);
            if (rc != BZ_OK)
                return "find_all: " + last_error(rc);
            if (bz_rows_len(rs) != kPairRows)
                return "find_all saw " + std::to_string(bz_rows_len(rs)) + " rows";
            for (size_t i = 0; i < bz_rows_len(rs); i++) {
                t = torn(bz_rows_at(rs, i));
                if (!t.empty())
                    return t;
            }
        }
    }
    return "";
}

void setup_pairs(const std::string &dir)
{
    ASSERT_OPEN(db, dir, kPairSchema);
    for (int i = 0; i < kPairRows; i++) {
        Values v(make_values({{"a", i}, {"b", std::to_string(i)}, {"c", pair_text(i)}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "pair", v.get(), nullptr));
    }
}

TEST(ReadersAndWriters, ThreadsNeverSeeATornRow)
{
    TempDir dir("bzpairs");
    setup_pairs(dir.path());
    ASSERT_OPEN(db, dir.path(), kPairSchema);
    std::atomic<bool> stop{false};
    std::string wr[2], rd[2];
    long reads[2] = {0, 0};
    std::thread readers[2], writers[2];
    for (int i = 0; i < 2; i++)
        readers[i] = std::thread([&, i] { rd[i] = pair_reader(db.get(), 100 + i, stop, &reads[i]); });
    for (int i = 0; i < 2; i++)
        writers[i] = std::thread([&, i] { wr[i] = pair_writer(db.get(), 200 + i, 600); });
    for (auto &t : writers)
        t.join();
    stop = true;
    for (auto &t : readers)
        t.join();
    for (int i = 0; i < 2; i++) {
        EXPECT_EQ("", wr[i]);
        EXPECT_EQ("", rd[i]);
        EXPECT_GT(reads[i], 0);
    }
    db.reset();
    EXPECT_EQ("", check_table_files(dir.path(), "pair", 9 + 9 + 12 + 9 + 1));
}

TEST(ReadersAndWriters, ProcessesNeverSeeATornRow)
{
    TempDir dir("bzpairs");
    setup_pairs(dir.path());
    std::string errs = run_children(4, [&](int i, int) {
        std::string why;
        Db db(open_db(dir.path(), kPairSchema, &why));
        if (!db)
            return child_fail(12, why);
        if (i < 2) {
            why = pair_writer(db.get(), 300 + i, 400);
        } else {
            std::atomic<bool> stop{false};
            long reads = 0;
            /* Read for as long as the writers typically run. */
            std::thread timer([&] {
                usleep(1500000);
                stop = true;
            });
            why = pair_reader(db.get(), 400 + i, stop, &reads);
            stop = true;
            timer.join();
        }
        return why.empty() ? 0 : child_fail(13, why);
    });
    EXPECT_EQ("", errs);
    EXPECT_EQ("", check_table_files(dir.path(), "pair", 9 + 9 + 12 + 9 + 1));
}

/* ------------------------------------------------------------------ */
/* Delete/insert churn: the free stack and the index stay exact. */

TEST(Churn, ThreadsDeletingAndInserting)
{
    TempDir dir("bzchurn");
    std::vector<std::string> why(4);
    std::vector<std::vector<int64_t>> kept(4);
    {
        ASSERT_OPEN(db, dir.path(), kInsertSchema);
        std::vector<std::thread> threads;
        for (int w = 0; w < 4; w++)
            threads.emplace_back([&, w] {
                std::vector<int64_t> mine;
                for (int round = 0; round < 6 && why[w].empty(); round++) {
                    for (int i = 0; i < 40; i++) {
                        Values v(make_values({{"worker", w}, {"seq", round * 100 + i}}));
                        bz_row *r = nullptr;
                        int rc = bz_insert(db.get(), "t", v.get(), &r);
                        Row row(r);
                        if (rc != BZ_OK || !r) {
                            why[w] = "insert: " + last_error(rc);
                            break;
                        }
                        mine.push_back(bz_row_id(r));
                    }
                    /* Delete every other of this worker's rows. */
                    std::vector<int64_t> rest;
                    for (size_t i = 0; i < mine.size(); i++) {
                        if (i % 2 == 0) {
                            int rc = bz_delete_by_id(db.get(), "t", mine[i]);
                            if (rc != BZ_OK) {
                                why[w] = "delete: " + last_error(rc);
                                break;
                            }
                        } else {
                            rest.push_back(mine[i]);
                        }
                    }
                    mine.swap(rest);
                }
                kept[w] = mine;
            });
        for (auto &t : threads)
            t.join();
    }
    std::set<int64_t> want;
    for (int w = 0; w < 4; w++) {
        EXPECT_EQ("", why[w]);
        want.insert(kept[w].begin(), kept[w].end());
    }
    ASSERT_OPEN(db, dir.path(), kInsertSchema);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "t", nullptr, &rs));
    Rows rows(rs);
    std::vector<int64_t> got = row_ids(rs);
    EXPECT_EQ(want, std::set<int64_t>(got.begin(), got.end()));
    EXPECT_EQ(want.size(), got.size());
    EXPECT_EQ("960", read_file(dir.file("t__seqnum.dat"))); /* 4 x 6 x 40 inserts */
    EXPECT_EQ("", check_table_files(dir.path(), "t", kInsertRowSize));
}

/* ------------------------------------------------------------------ */
/* Writers that die. */

TEST(DeadWriter, DiedHoldingTheExplicitLock)
{
    TempDir dir("bzdead");
    {
        ASSERT_OPEN(db, dir.path(), kCounterSchema);
    }
    pid_t pid = spawn_child([&] {
        std::string why;
        Db db(open_db(dir.path(), kCounterSchema, &why));
        if (!db)
            return child_fail(12, why);
        if (bz_lock(db.get()) != BZ_OK)
            return child_fail(13, "bz_lock failed");
        Values v(make_values({{"n", 1}}));
        if (bz_insert(db.get(), "counter", v.get(), nullptr) != BZ_OK)
            return child_fail(14, "insert failed");
        _exit(0); /* no unlock, no close */
    });
    int status = 0;
    ASSERT_TRUE(wait_child(pid, kChildTimeoutMs, &status));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status);

    /* The next writer must get in (not hang) and find consistent files. */
    std::atomic<int> rc{-1};
    std::thread t([&] {
        std::string why;
        Db db(open_db(dir.path(), kCounterSchema, &why));
        if (!db) {
            ADD_FAILURE() << "open after the dead writer: " << why;
            rc = -2;
            return;
        }
        Values v(make_values({{"n", 2}}));
        rc = bz_insert(db.get(), "counter", v.get(), nullptr);
    });
    for (int i = 0; i < 200 && rc.load() == -1; i++)
        usleep(50000);
    if (rc.load() == -1) {
        t.detach();
        FAIL() << "a writer died holding the lock and the next one hangs";
    }
    t.join();
    EXPECT_EQ(BZ_OK, rc.load());
    EXPECT_EQ("", check_table_files(dir.path(), "counter", 9 + 9 + 1));
    ASSERT_OPEN(db, dir.path(), kCounterSchema);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "counter", nullptr, &rs));
    Rows rows(rs);
    /* The dead writer's insert finished: it is kept or undone, never half. */
    EXPECT_TRUE(bz_rows_len(rs) == 1 || bz_rows_len(rs) == 2) << bz_rows_len(rs);
}

const char *const kKillSchema = "k: id PK, n INT, body TEXT\n";

std::string kill_body(int64_t n)
{
    return "body-" + std::to_string(n) + std::string(static_cast<size_t>((n % 50 + 50) % 50), 'x');
}

/* Crash atomicity is the shared mode's undo log in the segment, replayed
 * by the next locker on EOWNERDEAD; flock mode is 0.0.7's design and
 * promises no more than 0.0.7 did (lockmgr/README.md). */
TEST(DeadWriter, KilledAtRandomMomentsTheFilesRecover)
{
    const char *mode = getenv("BAZOOLA_LOCK_MODE");
    if (mode && strcmp(mode, "flock") == 0)
        GTEST_SKIP() << "crash atomicity is a shared-mode guarantee";
    TempDir dir("bzkill");
    {
        ASSERT_OPEN(db, dir.path(), kKillSchema);
    }
    std::mt19937 rng(12345);
    int64_t next = 0;
    for (int round = 0; round < 8; round++) {
        int64_t start = next;
        next += 100000;
        pid_t pid = spawn_child([&] {
            std::string why;
            Db db(open_db(dir.path(), kKillSchema, &why));
            if (!db)
                return child_fail(12, why);
            for (int64_t n = start;; n++) {
                Values v(make_values({{"n", static_cast<long long>(n)}, {"body", kill_body(n)}}));
                bz_row *r = nullptr;
                int rc = bz_insert(db.get(), "k", v.get(), &r);
                if (rc != BZ_OK)
                    return child_fail(13, last_error(rc));
                int64_t id = bz_row_id(r);
                bz_row_free(r);
                if (n % 3 == 0 && (rc = bz_update_by_id(db.get(), "k", id, v.get(), nullptr)) != BZ_OK)
                    return child_fail(14, last_error(rc));
                if (n % 5 == 0 && (rc = bz_delete_by_id(db.get(), "k", id)) != BZ_OK)
                    return child_fail(15, last_error(rc));
            }
        });
        ASSERT_GT(pid, 0);
        usleep(5000 + rng() % 60000);
        kill(pid, SIGKILL);
        int status = 0;
        ASSERT_TRUE(wait_child(pid, kChildTimeoutMs, &status));
        ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": child "
                                         << describe_status(status);

        /* The next process recovers (at its first lock), then everything is
         * whole. */
        ASSERT_OPEN(db, dir.path(), kKillSchema);
        ASSERT_EQ(BZ_OK, bz_lock(db.get())) << "round " << round;
        ASSERT_EQ(BZ_OK, bz_unlock(db.get())) << "round " << round;
        bz_rows *rs = nullptr;
        int rc = bz_find_all(db.get(), "k", nullptr, &rs);
        Rows rows(rs);
        ASSERT_EQ(BZ_OK, rc) << "round " << round << ": " << last_error(rc);
        for (size_t i = 0; i < bz_rows_len(rs); i++) {
            const bz_row *r = bz_rows_at(rs, i);
            int64_t n = bz_row_int(r, 1);
            ASSERT_EQ(BZ_T_STR, bz_row_type(r, 2)) << "round " << round;
            EXPECT_EQ(kill_body(n), bz_row_str(r, 2, nullptr))
                << "round " << round << " id " << bz_row_id(r);
        }
        Values v(make_values({{"n", -1 - round}, {"body", kill_body(-1 - round)}}));
        EXPECT_EQ(BZ_OK, bz_insert(db.get(), "k", v.get(), nullptr)) << "round " << round;
        db.reset();
        ASSERT_EQ("", check_table_files(dir.path(), "k", 9 + 9 + 9 + 1)) << "round " << round;
    }
}

} // namespace
