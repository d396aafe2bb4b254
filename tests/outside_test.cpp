/*
 * outside_test.cpp - shared-mode processes next to writers that do not use
 * the segment: Bazoola 0.0.7 (OutsideWriter, which writes exactly as it
 * does) and our own flock-mode processes.  shm/README.md, "Outside
 * writers", states what must hold; each test below is one way it failed
 * before:
 *
 *   EmulatorWritesEngineBytes   the test double is faithful (else nothing
 *                               below means anything)
 *   MergeSeesOutsideUpdate      update_by_id merged a cached row: the
 *                               outside change to another field reverted
 *   SameTickWritesAreSeen       an outside write of the same size within
 *                               one timestamp tick went unseen
 *   ReadersSeeOutsideWrites     a process that only reads served old rows
 *                               forever
 *   RecoveryRefusesOverOutside  a dead writer's undo log was replayed over
 *                               an outside writer's rows
 *   MixedLoad                   2 shared + 2 outside writers, every
 *                               acknowledged row checked, check clean
 *   ShmRemoveRefusesLiveUsers   `bazoola shm remove` of a segment in use
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "helpers.h"
#include "outside_writer.h"

using namespace bzt;

namespace {

const bool kShared = force_shared_mode();

Db open_mode(const std::string &dir, bz_lock_mode mode, std::string *err)
{
    Schema s(parse_schema(kOutsideSchema, err));
    if (!s)
        return nullptr;
    bz_options *o = bz_options_new();
    bz_options_set_lock_mode(o, mode);
    bz_db *db = nullptr;
    int rc = bz_open(dir.c_str(), s.get(), o, &db);
    bz_options_free(o);
    if (rc && err)
        *err = last_error(rc);
    return Db(rc ? nullptr : db);
}

int64_t insert(bz_db *db, int64_t x, int64_t y, const std::string &tag,
               const char *body, std::string *err = nullptr)
{
    Values v(make_values({{"x", V(x)}, {"y", V(y)}, {"tag", V(tag)}}));
    if (body)
        bz_values_set_str(v.get(), "body", body);
    else
        bz_values_set_null(v.get(), "body");
    bz_row *r = nullptr;
    int rc = bz_insert(db, "t", v.get(), &r);
    if (rc) {
        if (err)
            *err = last_error(rc);
        return -1;
    }
    int64_t id = bz_row_id(r);
    bz_row_free(r);
    return id;
}

int update(bz_db *db, int64_t id, const char *field, int64_t val)
{
    Values v(make_values({{field, V(val)}}));
    return bz_update_by_id(db, "t", id, v.get(), nullptr);
}

int64_t field_of(bz_db *db, int64_t id, const char *field, int *rc_out)
{
    bz_row *r = nullptr;
    int rc = bz_find_by_id(db, "t", id, nullptr, &r);
    *rc_out = rc;
    if (rc || !r)
        return INT64_MIN;
    int64_t v = bz_row_int(r, bz_row_find(r, field));
    bz_row_free(r);
    return v;
}

std::string check_output(const std::string &dir, int *status)
{
    std::string out, err;
    run_process({BZ_TOOL_PATH, "check", dir}, "", 60000, &out, &err, status);
    return out + err;
}

/* The outside writer of a round: OutsideWriter (0.0.7) or a flock-mode
 * handle of our engine, behind one face. */
struct Outside {
    virtual ~Outside() = default;
    virtual bool set_x(int64_t id, int64_t x) = 0;
    virtual int64_t add(int64_t x, const std::string &tag, const char *body) = 0;
    virtual std::string why() = 0;
};

struct Outside007 : Outside {
    OutsideWriter w;
    explicit Outside007(const std::string &dir) : w(dir) {}
    bool set_x(int64_t id, int64_t x) override { return w.update_x(id, x); }
    int64_t add(int64_t x, const std::string &tag, const char *body) override
    {
        return w.insert(x, 0, tag,
                        body ? std::optional<std::string>(body) : std::nullopt);
    }
    std::string why() override { return w.error(); }
};

struct OutsideFlock : Outside {
    std::string err; /* before db: its initialiser writes err */
    Db db;
    explicit OutsideFlock(const std::string &dir)
        : db(open_mode(dir, BZ_LOCK_FLOCK, &err)) {}
    bool set_x(int64_t id, int64_t x) override
    {
        if (!db)
            return false;
        int rc = update(db.get(), id, "x", x);
        if (rc)
            err = last_error(rc);
        return rc == 0;
    }
    int64_t add(int64_t x, const std::string &tag, const char *body) override
    {
        if (!db)
            return -1; /* err says why the open failed */
        return insert(db.get(), x, 0, tag, body, &err);
    }
    std::string why() override { return err; }
};

std::unique_ptr<Outside> make_outside(bool py, const std::string &dir)
{
    if (py)
        return std::make_unique<Outside007>(dir);
    return std::make_unique<OutsideFlock>(dir);
}

/* Each scenario with both outside writers, and with the segment told the
 * file system has only coarse timestamps (BAZOOLA_COARSE_TIMESTAMPS):
 * then no baseline younger than a tick is believed, which must stay
 * correct, only slower. */
struct Param {
    bool py, coarse;
};

class OutsideBoth : public ::testing::TestWithParam<Param> {
protected:
    void SetUp() override
    {
        if (GetParam().coarse)
            setenv("BAZOOLA_COARSE_TIMESTAMPS", "1", 1);
    }
    void TearDown() override { unsetenv("BAZOOLA_COARSE_TIMESTAMPS"); }
    bool py() const { return GetParam().py; }
};

INSTANTIATE_TEST_SUITE_P(
    Writers, OutsideBoth,
    ::testing::Values(Param{true, false}, Param{false, false},
                      Param{true, true}, Param{false, true}),
    [](const ::testing::TestParamInfo<Param> &i) {
        return std::string(i.param.py ? "Bazoola007" : "FlockMode") +
               (i.param.coarse ? "Coarse" : "");
    });

} // namespace

TEST(Outside, EmulatorWritesEngineBytes)
{
    TempDir a("bzouta"), b("bzoutb");
    std::string err;
    {
        Db da = open_mode(a.path(), BZ_LOCK_FLOCK, &err);
        Db db = open_mode(b.path(), BZ_LOCK_FLOCK, &err);
        ASSERT_TRUE(da && db) << err;
        OutsideWriter w(b.path());
        ASSERT_TRUE(w.ok()) << w.error();
        for (int i = 1; i <= 6; i++) {
            const char *body = i % 2 ? "some text" : nullptr;
            ASSERT_EQ(i, insert(da.get(), i * 10, i, "tag" + std::to_string(i),
                                body, &err)) << err;
            ASSERT_EQ(i, w.insert(i * 10, i, "tag" + std::to_string(i),
                                  body ? std::optional<std::string>(body)
                                       : std::nullopt)) << w.error();
        }
        for (int id : {2, 3, 5}) {
            ASSERT_EQ(0, update(da.get(), id, "x", 7 * id));
            ASSERT_TRUE(w.update_x(id, 7 * id)) << w.error();
        }
        auto r = w.find(3);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(21, r->x);
        EXPECT_EQ("tag3", r->tag);
        EXPECT_EQ("some text", r->body.value_or("<null>"));
    }
    EXPECT_EQ("", diff_snapshots(snapshot_dir(a.path(), true),
                                 snapshot_dir(b.path(), true)));
}

/* A shared process has row 1 cached; an outside writer changes x; the
 * shared process updates y.  The merge must start from the file. */
TEST_P(OutsideBoth, MergeSeesOutsideUpdate)
{
    TempDir d("bzoutm");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    ASSERT_EQ(1, insert(sh.get(), 0, 0, "row", "body one", &err)) << err;
    auto out = make_outside(py(), d.path());
    int lost = 0;
    for (int i = 1; i <= 300; i++) {
        int rc;
        ASSERT_EQ(i - 1, field_of(sh.get(), 1, "y", &rc)) << last_error(rc);
        ASSERT_TRUE(out->set_x(1, i)) << out->why();
        ASSERT_EQ(0, update(sh.get(), 1, "y", i)) << last_error(1);
        OutsideWriter look(d.path());
        auto r = look.find(1);
        ASSERT_TRUE(r.has_value()) << look.error();
        lost += r->x != i;
        ASSERT_EQ(i, r->y);
        ASSERT_EQ("body one", r->body.value_or("<null>"));
    }
    EXPECT_EQ(0, lost) << "outside updates of x reverted by the merge";
    int st;
    std::string out_text = check_output(d.path(), &st);
    EXPECT_EQ(0, WEXITSTATUS(st)) << out_text;
}

/* Back to back, within one timestamp tick: the shared process inserts a
 * TEXT row, the outside writer rewrites it at once (the row and the index
 * keep their sizes; its TEXT record moves to the end of T.text.dat), and
 * the shared process inserts again: its TEXT record must go after the
 * outside one, not over it, and a locked read must see the outside x. */
TEST_P(OutsideBoth, SameTickWritesAreSeen)
{
    TempDir d("bzoutt");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    auto out = make_outside(py(), d.path());
    std::map<int64_t, std::string> bodies;
    std::map<int64_t, int64_t> xs;
    int stale = 0;
    for (int i = 0; i < 300; i++) {
        std::string b1 = "mine " + std::to_string(i);
        int64_t id = insert(sh.get(), i, 0, "s", b1.c_str(), &err);
        ASSERT_GT(id, 0) << err;
        bodies[id] = b1;
        ASSERT_TRUE(out->set_x(id, 1000 + i)) << out->why();
        xs[id] = 1000 + i;
        std::string b2 = "after " + std::to_string(i);
        int64_t id2 = insert(sh.get(), i, 0, "s", b2.c_str(), &err);
        ASSERT_GT(id2, 0) << err;
        bodies[id2] = b2;
        xs[id2] = i;
        ASSERT_TRUE(out->set_x(id2, 3000 + i)) << out->why();
        xs[id2] = 3000 + i;
        ASSERT_EQ(0, bz_lock(sh.get()));
        int rc;
        stale += field_of(sh.get(), id2, "x", &rc) != 3000 + i;
        ASSERT_EQ(0, bz_unlock(sh.get()));
    }
    EXPECT_EQ(0, stale) << "locked reads returned pre-outside-write values";
    sh.reset();
    OutsideWriter look(d.path());
    int bad = 0;
    for (auto &[id, body] : bodies) {
        auto r = look.find(id);
        bad += !r || r->x != xs[id] || r->body.value_or("") != body;
    }
    EXPECT_EQ(0, bad) << "of " << bodies.size() << " rows lost or garbled; "
                      << look.error();
    int st;
    std::string text = check_output(d.path(), &st);
    EXPECT_EQ(0, WEXITSTATUS(st)) << text;
}

/* A process that only reads: after an outside write, a read that starts
 * 1 ms after the outside writer released the flock returns the new data
 * (shm/README.md, "Bounded staleness"). */
TEST_P(OutsideBoth, ReadersSeeOutsideWrites)
{
    TempDir d("bzoutr");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    ASSERT_EQ(1, insert(sh.get(), 0, 0, "r", nullptr, &err)) << err;
    auto out = make_outside(py(), d.path());
    int stale = 0;
    for (int i = 1; i <= 200; i++) {
        int rc;
        /* Cached, and read lock-free many times. */
        for (int k = 0; k < 20; k++)
            ASSERT_EQ(i - 1, field_of(sh.get(), 1, "x", &rc));
        ASSERT_TRUE(out->set_x(1, i)) << out->why();
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, nullptr);
        stale += field_of(sh.get(), 1, "x", &rc) != i;
    }
    EXPECT_EQ(0, stale) << "reads 1 ms after an outside write were stale";
    bz_stats *s = nullptr;
    ASSERT_EQ(0, bz_stats_read(d.c_str(), &s));
    EXPECT_EQ(!GetParam().coarse, bz_stats_fine_timestamps(s));
    /* Coarse: each outside change may be taken for one of ours (ambiguous
     * baselines are re-read without being counted). */
    if (!GetParam().coarse) {
        EXPECT_GE(bz_stats_counter(s, BZ_STAT_OUTSIDE), 200u);
    }
    bz_stats_free(s);
}

namespace {
uint64_t g_die_at;
int die_hook(const char *, int64_t, size_t, uint64_t nth)
{
    if (nth == g_die_at)
        raise(SIGKILL);
    return 0;
}

/* A child in shared mode inserts a TEXT row and is killed before its
 * die_at-th file write. */
bool kill_mid_insert(const std::string &dir, uint64_t die_at)
{
    pid_t pid = spawn_child([&]() {
        std::string err;
        Db db = open_mode(dir, BZ_LOCK_SHARED, &err);
        if (!db)
            return 3;
        g_die_at = die_at;
        bz__set_write_hook(die_hook);
        insert(db.get(), 77, 77, "dying", "half written", &err);
        return 0; /* the insert had fewer writes than die_at */
    });
    int st;
    return wait_child(pid, 20000, &st) && WIFSIGNALED(st) &&
           WTERMSIG(st) == SIGKILL;
}
} // namespace

/* A shared writer dies mid-insert; before any shared process comes back,
 * an outside writer inserts.  The next shared open must not replay the
 * dead writer's log over that: it refuses, naming the file and the
 * repair, and the repair keeps every row both writers completed.  Without
 * the outside write, the same kill is undone as always. */
TEST_P(OutsideBoth, RecoveryRefusesOverOutside)
{
    int refused = 0, recovered = 0, rounds = 0;
    for (uint64_t die_at = 1; die_at <= 4; die_at++) {
        for (bool outside_writes : {true, false}) {
            TempDir d("bzoutk");
            std::string err;
            {
                Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
                ASSERT_TRUE(db) << err;
                for (int i = 1; i <= 3; i++)
                    ASSERT_EQ(i, insert(db.get(), i, i, "before", "kept", &err));
            }
            ASSERT_TRUE(kill_mid_insert(d.path(), die_at)) << "round " << die_at;
            rounds++;
            int64_t oid = -1;
            if (outside_writes) {
                auto out = make_outside(py(), d.path());
                oid = out->add(555, "outside", "acknowledged");
                ASSERT_GT(oid, 0) << out->why();
            }
            Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
            if (!outside_writes) {
                /* No outside writer: recovery as before. */
                ASSERT_TRUE(db) << "die_at " << die_at << ": " << err;
                recovered++;
                int rc;
                EXPECT_EQ(3, field_of(db.get(), 3, "x", &rc));
                EXPECT_EQ(INT64_MIN, field_of(db.get(), 4, "x", &rc));
                db.reset();
                int st;
                std::string text = check_output(d.path(), &st);
                EXPECT_EQ(0, WEXITSTATUS(st)) << text;
                continue;
            }
            if (db) {
                /* Only when the dead insert touched nothing the outside
                 * writer's insert changed could replay be harmless; an
                 * insert always writes seqnum first, so that never
                 * happens here. */
                ADD_FAILURE() << "die_at " << die_at
                              << ": replayed over an outside write";
                continue;
            }
            refused++;
            EXPECT_NE(std::string::npos, err.find("corrupt")) << err;
            EXPECT_NE(std::string::npos, err.find("check --repair")) << err;
            bool names_file = false;
            for (const char *f : {"t.dat", "t__seqnum.dat", "t__id.idx.dat",
                                  "t__free.dat", "t.text.dat"})
                names_file |= err.find(std::string(f) + " changed") !=
                              std::string::npos;
            EXPECT_TRUE(names_file) << err;
            /* The outside row is still in the files, untouched. */
            {
                OutsideWriter look(d.path());
                auto r = look.find(oid);
                ASSERT_TRUE(r.has_value()) << look.error();
                EXPECT_EQ(555, r->x);
                EXPECT_EQ("acknowledged", r->body.value_or(""));
            }
            /* Still refused on the next try: nothing silent. */
            std::string err2;
            EXPECT_FALSE(open_mode(d.path(), BZ_LOCK_SHARED, &err2));
            std::string out, e;
            int st;
            run_process({BZ_TOOL_PATH, "check", "--repair", d.path()}, "",
                        60000, &out, &e, &st);
            EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) <= 1) << out << e;
            std::string text = check_output(d.path(), &st);
            EXPECT_EQ(0, WEXITSTATUS(st)) << "after repair: " << text;
            db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
            ASSERT_TRUE(db) << "after repair: " << err;
            int rc;
            for (int i = 1; i <= 3; i++)
                EXPECT_EQ(i, field_of(db.get(), i, "x", &rc)) << i;
            EXPECT_EQ(555, field_of(db.get(), oid, "x", &rc));
        }
    }
    EXPECT_EQ(8, rounds);
    EXPECT_EQ(4, refused);
    EXPECT_EQ(4, recovered);
}

/* Real kill -9 from outside at random moments while a shared child
 * inserts; after each, an outside writer inserts; then the directory must
 * either open (the kill fell between operations, or replay was provably
 * harmless) or refuse; and after `check --repair` every acknowledged
 * outside row and every row the child reported done is there. */
TEST_P(OutsideBoth, KillNineThenOutsideWriteLosesNothing)
{
    TempDir d("bzoutk9");
    std::string err;
    { ASSERT_TRUE(open_mode(d.path(), BZ_LOCK_SHARED, &err)) << err; }
    std::map<int64_t, int64_t> acked; /* id -> x */
    std::string ackfile = d.file("acks.log");
    unsigned seed = 12345;
    for (int round = 0; round < 12; round++) {
        int fds[2];
        ASSERT_EQ(0, pipe(fds));
        pid_t pid = spawn_child([&]() {
            close(fds[0]);
            Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
            if (!db)
                return 3;
            write(fds[1], "R", 1);
            for (int i = 0;; i++) {
                int64_t x = round * 100000 + i;
                int64_t id = insert(db.get(), x, 0, "child", "t", &err);
                if (id > 0) {
                    char line[64];
                    int n = snprintf(line, sizeof line, "%lld %lld\n",
                                     (long long)id, (long long)x);
                    int fd = open(ackfile.c_str(),
                                  O_WRONLY | O_APPEND | O_CREAT, 0600);
                    write(fd, line, (size_t)n);
                    close(fd);
                }
            }
        });
        close(fds[1]);
        char c;
        ASSERT_EQ(1, read(fds[0], &c, 1));
        close(fds[0]);
        usleep(2000 + rand_r(&seed) % 20000);
        kill(pid, SIGKILL);
        int st;
        wait_child(pid, 10000, &st);
        auto out = make_outside(py(), d.path());
        int64_t oid = out->add(-round - 1, "outside", "ack");
        if (oid < 0 && !py()) {
            /* kill -9 can end a pwrite at a page boundary: a row crossing
             * one is left torn.  A flock-mode process cannot undo that
             * (it has no log) and must refuse, naming the file, until a
             * shared-mode open undoes the dead write. */
            EXPECT_NE(std::string::npos, out->why().find("corrupt"))
                << out->why();
            out.reset();
            Db undo = open_mode(d.path(), BZ_LOCK_SHARED, &err);
            ASSERT_TRUE(undo) << err;
            undo.reset();
            out = make_outside(py(), d.path());
            oid = out->add(-round - 1, "outside", "ack");
        }
        ASSERT_GT(oid, 0) << out->why();
        acked[oid] = -round - 1;
        Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
        if (!db) {
            EXPECT_NE(std::string::npos, err.find("check --repair")) << err;
            std::string o, e;
            run_process({BZ_TOOL_PATH, "check", "--repair", d.path()}, "",
                        60000, &o, &e, &st);
            EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) <= 1) << o << e;
        }
    }
    std::ifstream in(ackfile);
    long long id, x;
    while (in >> id >> x)
        acked[id] = x;
    OutsideWriter look(d.path());
    int missing = 0;
    std::string first;
    for (auto &[id, x] : acked) {
        auto r = look.find(id);
        if ((!r || r->x != x) && !missing++)
            first = "id " + std::to_string(id) + " want x=" + std::to_string(x) +
                    (r ? " got x=" + std::to_string(r->x) + " tag " + r->tag
                       : " no row: " + look.error());
    }
    EXPECT_EQ(0, missing) << "of " << acked.size() << " acknowledged rows; "
                          << first;
    int st;
    std::string text = check_output(d.path(), &st);
    EXPECT_EQ(0, WEXITSTATUS(st)) << text;
}

/* 2 shared + 2 outside writers (one 0.0.7, one flock-mode), each
 * inserting rows with unique tags and updating its own rows, logging what
 * was acknowledged.  At the end every acknowledged row holds its last
 * acknowledged value and `bazoola check` is clean. */
TEST(Outside, MixedLoad)
{
    TempDir d("bzoutmix");
    std::string err;
    { ASSERT_TRUE(open_mode(d.path(), BZ_LOCK_SHARED, &err)) << err; }
    const char *env = getenv("BZ_MIXED_SECONDS");
    double seconds = env ? atof(env) : 20.0;
    auto worker = [&](int k) {
        return [&, k]() {
            std::string log = d.file("acks." + std::to_string(k));
            std::ofstream ack(log);
            std::unique_ptr<Outside> out;
            Db sh;
            std::string e;
            if (k < 2) {
                sh = open_mode(d.path(), BZ_LOCK_SHARED, &e);
                if (!sh)
                    return 3;
            } else {
                out = make_outside(k == 2, d.path());
            }
            std::vector<int64_t> mine;
            auto t_end = std::chrono::steady_clock::now() +
                         std::chrono::duration<double>(seconds);
            unsigned seed = (unsigned)k * 7919u;
            for (int64_t n = 0; std::chrono::steady_clock::now() < t_end; n++) {
                std::string tag = "w" + std::to_string(k) + "-" + std::to_string(n);
                /* Shared writers mostly insert, outside ones mostly
                 * update: an outside update keeps T.dat's size, which is
                 * what size-based detection missed. */
                bool ins = mine.empty() ||
                           (k < 2 ? rand_r(&seed) % 3 != 0
                                  : rand_r(&seed) % 3 == 0);
                if (ins) {
                    int64_t id = sh ? insert(sh.get(), n, k, tag, tag.c_str(), &e)
                                    : out->add(n, tag, tag.c_str());
                    if (id <= 0) {
                        fprintf(stderr, "worker %d insert: %s\n", k,
                                sh ? e.c_str() : out->why().c_str());
                        return 4;
                    }
                    mine.push_back(id);
                    ack << id << ' ' << n << ' ' << tag << '\n' << std::flush;
                } else {
                    int64_t id = mine[rand_r(&seed) % mine.size()];
                    int64_t x = 1000000 + n;
                    bool ok = sh ? update(sh.get(), id, "x", x) == 0
                                 : out->set_x(id, x);
                    if (!ok) {
                        fprintf(stderr, "worker %d update %lld: %s\n", k,
                                (long long)id,
                                sh ? last_error(1).c_str() : out->why().c_str());
                        return 5;
                    }
                    ack << id << ' ' << x << " =\n" << std::flush;
                }
            }
            return 0;
        };
    };
    std::vector<pid_t> pids;
    for (int k = 0; k < 4; k++)
        pids.push_back(spawn_child(worker(k)));
    for (pid_t p : pids) {
        int st;
        ASSERT_TRUE(wait_child(p, (int)(seconds * 1000) + 60000, &st));
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << describe_status(st);
    }
    std::map<int64_t, int64_t> want;
    std::map<int64_t, std::string> tags;
    size_t acks = 0;
    for (int k = 0; k < 4; k++) {
        std::ifstream in(d.file("acks." + std::to_string(k)));
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream ls(line);
            long long id, x;
            std::string tag;
            ls >> id >> x >> tag;
            want[id] = x;
            if (tag != "=")
                tags[id] = tag;
            acks++;
        }
    }
    EXPECT_GT(acks, 400u);
    OutsideWriter look(d.path());
    int bad = 0;
    std::string first;
    for (auto &[id, x] : want) {
        auto r = look.find(id);
        if (!r || r->x != x || r->tag != tags[id] || r->body != tags[id]) {
            if (!bad++)
                first = "id " + std::to_string(id) + ": want x=" +
                        std::to_string(x) + " tag " + tags[id] + ", got " +
                        (r ? "x=" + std::to_string(r->x) + " tag " + r->tag
                           : "no row (" + look.error() + ")");
        }
    }
    EXPECT_EQ(0, bad) << "of " << want.size() << " rows; first: " << first;
    int st;
    std::string text = check_output(d.path(), &st);
    EXPECT_EQ(0, WEXITSTATUS(st)) << text;
}

TEST(Outside, ShmRemoveRefusesLiveUsers)
{
    TempDir d("bzoutrm");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    std::string out, e;
    int st;
    run_process({BZ_TOOL_PATH, "shm", "remove", d.path()}, "", 20000, &out, &e,
                &st);
    EXPECT_NE(0, WEXITSTATUS(st));
    EXPECT_NE(std::string::npos, e.find(std::to_string(getpid()))) << e;
    EXPECT_NE(std::string::npos, e.find("--force")) << e;
    bz_stats *s = nullptr;
    ASSERT_EQ(0, bz_stats_read(d.c_str(), &s)) << "refused, yet removed";
    bz_stats_free(s);
    run_process({BZ_TOOL_PATH, "shm", "remove", "--force", d.path()}, "", 20000,
                &out, &e, &st);
    EXPECT_EQ(0, WEXITSTATUS(st)) << e;
    EXPECT_EQ(BZ_ENOTFOUND, bz_stats_read(d.c_str(), &s));
}

/* The staleness bound must not turn a read-mostly load into locked reads:
 * a file looked at more than 500 us ago is vouched for by a stat, not by
 * taking the lock (shm/README.md, "Bounded staleness"). */
TEST(Outside, QuietReadersDoNotTakeTheLock)
{
    TempDir d("bzoutq");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    for (int i = 1; i <= 100; i++)
        ASSERT_EQ(i, insert(sh.get(), i, 0, "q", nullptr, &err)) << err;
    auto locked = [&]() {
        bz_stats *s = nullptr;
        EXPECT_EQ(0, bz_stats_read(d.c_str(), &s));
        uint64_t n = s ? bz_stats_lock(s, BZ_LSTAT_READS_LOCKED) : 0;
        bz_stats_free(s);
        return n;
    };
    int rc;
    for (int i = 1; i <= 100; i++) /* every page cached */
        ASSERT_EQ(i, field_of(sh.get(), i, "x", &rc));
    uint64_t before = locked();
    auto t_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    uint64_t reads = 0;
    while (std::chrono::steady_clock::now() < t_end) {
        ASSERT_EQ(int64_t(reads % 100 + 1),
                  field_of(sh.get(), (int64_t)(reads % 100 + 1), "x", &rc));
        reads++;
        if (reads % 1000 == 0)
            usleep(700); /* past the window: the next read must vouch */
    }
    uint64_t fell_back = locked() - before;
    /* Each pause makes both files stale; a lock per stale file would be
     * 2 per pause. */
    EXPECT_LT(fell_back, reads / 1000 / 4 + 3)
        << reads << " reads, " << reads / 1000 << " pauses";
}

/* An editor saves t.dat by rename while the shared process has it open.
 * The next locked operation touches only the index (a missing id), then
 * an outside writer updates row 1 in the new t.dat: the shared process
 * must read and update the new file, not the unlinked one it still holds. */
TEST(Outside, RenameIsFollowedInLaterHolds)
{
    TempDir d("bzoutren");
    std::string err;
    Db sh = open_mode(d.path(), BZ_LOCK_SHARED, &err);
    ASSERT_TRUE(sh) << err;
    ASSERT_EQ(1, insert(sh.get(), 0, 0, "r", nullptr, &err)) << err;
    int rc;
    ASSERT_EQ(0, field_of(sh.get(), 1, "x", &rc));
    std::string body = read_file(d.file("t.dat"));
    ASSERT_TRUE(write_file(d.file("t.dat.new"), body));
    ASSERT_EQ(0, rename(d.file("t.dat.new").c_str(), d.file("t.dat").c_str()));
    ASSERT_EQ(0, bz_lock(sh.get()));
    EXPECT_EQ(INT64_MIN, field_of(sh.get(), 99, "x", &rc)); /* index only */
    ASSERT_EQ(0, bz_unlock(sh.get()));
    OutsideWriter out(d.path());
    ASSERT_TRUE(out.update_x(1, 42)) << out.error();
    ASSERT_EQ(0, bz_lock(sh.get()));
    EXPECT_EQ(42, field_of(sh.get(), 1, "x", &rc)) << last_error(rc);
    ASSERT_EQ(0, bz_unlock(sh.get()));
    ASSERT_EQ(0, update(sh.get(), 1, "y", 5));
    auto r = out.find(1);
    ASSERT_TRUE(r.has_value()) << out.error();
    EXPECT_EQ(42, r->x);
    EXPECT_EQ(5, r->y) << "the update went to the unlinked file";
}

/* A writer dies in the second operation of an explicit bz_lock hold, with
 * no outside writer anywhere: recovery must undo that operation and keep
 * the first (committed) one, not take the first one's writes for an
 * outside change. */
TEST(Outside, DeathInTheSecondOperationOfAHoldIsRecovered)
{
    for (uint64_t die_at = 1; die_at <= 4; die_at++) {
        TempDir d("bzouthold");
        std::string err;
        { ASSERT_TRUE(open_mode(d.path(), BZ_LOCK_SHARED, &err)) << err; }
        pid_t pid = spawn_child([&]() {
            Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
            if (!db || bz_lock(db.get()) != 0)
                return 3;
            if (insert(db.get(), 1, 1, "first", "one", &err) != 1)
                return 4;
            g_die_at = die_at;
            bz__set_write_hook(die_hook);
            insert(db.get(), 2, 2, "second", "two", &err);
            return 0;
        });
        int st;
        ASSERT_TRUE(wait_child(pid, 20000, &st));
        ASSERT_TRUE(WIFSIGNALED(st)) << "die_at " << die_at << ": "
                                     << describe_status(st);
        Db db = open_mode(d.path(), BZ_LOCK_SHARED, &err);
        ASSERT_TRUE(db) << "die_at " << die_at << ": " << err;
        int rc;
        EXPECT_EQ(1, field_of(db.get(), 1, "x", &rc)) << die_at;
        EXPECT_EQ(INT64_MIN, field_of(db.get(), 2, "x", &rc)) << die_at;
        db.reset();
        std::string text = check_output(d.path(), &st);
        EXPECT_EQ(0, WEXITSTATUS(st)) << text;
    }
}
