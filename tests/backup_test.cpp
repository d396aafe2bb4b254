/*
 * backup_test.cpp - `bazoola dump DIR` then `bazoola load NEWDIR` gives back
 * every file byte for byte (the conformance corpus's final states, and
 * directories with deleted rows, free stacks, dead TEXT records, low
 * seqnums and bytes only an outside editor writes), and a failed load
 * leaves nothing behind.
 */
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

struct Result {
    int status = -1;
    std::string out, err;
};

Result bazoola(const std::vector<std::string> &args, const std::string &in = "")
{
    std::vector<std::string> argv{BZ_TOOL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    Result r;
    int st = 0;
    if (run_process(argv, in, 60000, &r.out, &r.err, &st) && WIFEXITED(st))
        r.status = WEXITSTATUS(st);
    return r;
}

std::vector<std::string> entries(const std::string &dir)
{
    std::vector<std::string> v;
    if (DIR *d = opendir(dir.c_str())) {
        while (struct dirent *e = readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
                v.push_back(e->d_name);
        closedir(d);
    }
    std::sort(v.begin(), v.end());
    return v;
}

/* Dump src, load it into a new directory beside it, and compare every file
 * (.schema and .lock included). */
void round_trip(const std::string &src, const std::string &label,
                std::string *dump = nullptr)
{
    Result d = bazoola({"dump", src});
    if (dump)
        *dump = d.out;
    ASSERT_EQ(0, d.status) << label << "\n" << d.err;
    ASSERT_EQ("", d.err) << label;
    std::string dst = src + "-loaded";
    Result l = bazoola({"load", dst}, d.out);
    ASSERT_EQ(0, l.status) << label << "\n" << l.err << "\n" << d.out;
    auto want = snapshot_dir(src, false), got = snapshot_dir(dst, false);
    EXPECT_EQ(entries(src), entries(dst)) << label;
    for (const auto &kv : want) {
        auto it = got.find(kv.first);
        ASSERT_NE(it, got.end()) << label << ": " << kv.first << " missing";
        EXPECT_TRUE(kv.second == it->second)
            << label << ": " << kv.first << " differs: "
            << describe_bytes_diff(kv.second, it->second) << "\n" << d.out;
    }
    /* And the engine finds the copy as it found the original. */
    Result c0 = bazoola({"check", src}), c = bazoola({"check", dst});
    EXPECT_EQ(c0.status, c.status) << label << "\n" << c.out << c.err;
    auto verdict = [](const std::string &out) {
        size_t p = out.rfind(" compared: ");
        return p == std::string::npos ? out : out.substr(p);
    };
    EXPECT_EQ(verdict(c0.out), verdict(c.out)) << label;
}

std::vector<std::string> corpus()
{
    std::vector<std::string> v;
    for (const std::string &e : entries(BZ_CONFORMANCE_DIR))
        if (e.size() > 5 && e.compare(e.size() - 5, 5, ".json") == 0)
            v.push_back(std::string(BZ_CONFORMANCE_DIR) + "/" + e);
    return v;
}

}  // namespace

TEST(Backup, EveryConformanceFinalStateComesBackByteForByte)
{
    auto cases = corpus();
    ASSERT_GE(cases.size(), 50u);
    for (const std::string &path : cases) {
        std::string err;
        Json doc = json_parse(read_file(path), &err);
        ASSERT_TRUE(doc) << path << ": " << err;
        const char *schema_text =
            json_string_value(json_object_get(doc.get(), "schema"));
        json_t *files = json_object_get(doc.get(), "files");
        ASSERT_TRUE(schema_text && json_is_object(files)) << path;
        TempDir work("bzbackup");
        std::string dir = work.file("data");
        ASSERT_EQ(0, mkdir(dir.c_str(), 0700));
        const char *name;
        json_t *b64;
        json_object_foreach(files, name, b64) {
            bool ok = false;
            std::string bytes = base64_decode(json_string_value(b64), &ok);
            ASSERT_TRUE(ok && write_file(dir + "/" + name, bytes)) << name;
        }
        /* Opening records the schema (and makes .lock): a real directory. */
        { Db db(open_db(dir, schema_text, &err)); ASSERT_TRUE(db) << err; }
        round_trip(dir, path);
        if (HasFatalFailure())
            return;
    }
}

/* Everything that defines bytes besides the rows: deleted rows reused and
 * not, a free stack several deep, TEXT rewritten by updates and erased by
 * deletes, NULLs of every kind, explicit ids above seqnum, a truncate. */
TEST(Backup, AChurnedDirectoryComesBackByteForByte)
{
    TempDir work("bzbackup");
    std::string dir = work.file("data");
    Db db(open_db(dir,
                  "p: id PK, name CHAR(12), n INT(4) NULL, big INT(18) NULL\n"
                  "q: id PK, body TEXT NULL, note TEXT, p_id FK(p) NULL, "
                  "tag CHAR(3) NULL\n"
                  "z: id PK, v INT\n"));
    ASSERT_TRUE(db);
    std::mt19937 rng(18);
    std::vector<std::string> texts = {"", "x", "héllo wörld", "tab\tand\nnl",
                                      std::string("nul\0byte", 8),
                                      std::string(300, 'L'), "€€€"};
    for (int i = 0; i < 400; i++) {
        int op = (int)(rng() % 10);
        int64_t id = 1 + rng() % 40;
        if (op < 4) {
            Values v(make_values({{"name", "n" + std::to_string(i)}}));
            if (rng() % 3)
                bz_values_set_int(v.get(), "n", (int64_t)(rng() % 9999));
            else
                bz_values_set_null(v.get(), "n");
            if (rng() % 2)
                bz_values_set_int(v.get(), "big", -(int64_t)(rng() % 1000000000) * 1000000);
            if (rng() % 5 == 0)
                bz_values_set_int(v.get(), "id", 50 + (int64_t)(rng() % 20));
            bz_insert(db.get(), "p", v.get(), nullptr);
        } else if (op < 7) {
            const std::string &t = texts[rng() % texts.size()];
            Values v(make_values({{"note", texts[rng() % texts.size()]}}));
            bz_values_set_strn(v.get(), "body", t.data(), t.size());
            if (rng() % 2)
                bz_values_set_int(v.get(), "p_id", id);
            if (rng() % 2)
                bz_values_set_str(v.get(), "tag", "ab");
            if (op == 6)
                bz_update_by_id(db.get(), "q", id % 15 + 1, v.get(), nullptr);
            else
                bz_insert(db.get(), "q", v.get(), nullptr);
        } else {
            bz_delete_by_id(db.get(), rng() % 2 ? "p" : "q", id);
        }
    }
    /* Deletes last, so the free stack is several rows deep. */
    for (int64_t id = 1; id <= 40; id += 3)
        bz_delete_by_id(db.get(), "p", id);
    for (int i = 0; i < 5; i++) {
        Values v(make_values({{"v", i}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "z", v.get(), nullptr));
    }
    ASSERT_EQ(BZ_OK, bz_truncate(db.get(), "z", 0));
    Values v(make_values({{"v", 7}, {"id", 3}}));
    ASSERT_EQ(BZ_OK, bz_insert(db.get(), "z", v.get(), nullptr));
    db.reset();
    std::string free_stack = read_file(dir + "/p__free.dat");
    ASSERT_GE(free_stack.size(), 18u) << "the churn should leave free rows";
    ASSERT_NE(std::string::npos, read_file(dir + "/q.text.dat").find("####"))
        << "the churn should leave erased TEXT records";
    std::string dump;
    round_trip(dir, "churn", &dump);
    EXPECT_NE(std::string::npos, dump.find("\"erased\":")) << dump;
    EXPECT_NE(std::string::npos, dump.find("\"deleted\":true")) << dump;
}

/* Bytes the engine reads but never writes: a seqnum with a leading zero
 * (0.0.7's truncate), an INT written as "007", a CHAR padded with a tab,
 * a deleted row left off the free stack, a TEXT record no row refers to. */
TEST(Backup, BytesOnlyAnOutsideEditorWritesComeBackToo)
{
    TempDir work("bzbackup");
    std::string dir = work.file("data");
    {
        Db db(open_db(dir, "t: id PK, c CHAR(4), n INT, s TEXT\n"));
        ASSERT_TRUE(db);
        for (int i = 0; i < 4; i++) {
            Values v(make_values({{"c", "ab"}, {"n", 7}, {"s", "text"}}));
            ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
        }
        ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "t", 4));
    }
    /* row size 9 + 4 + 9 + 9 + 1 = 32 */
    ASSERT_TRUE(patch_file(dir + "/t.dat", 9 + 4, "007      "));
    ASSERT_TRUE(patch_file(dir + "/t.dat", 32 + 9, "ab\t "));
    ASSERT_TRUE(write_file(dir + "/t__seqnum.dat", "04"));
    ASSERT_TRUE(write_file(dir + "/t__free.dat", ""));
    ASSERT_TRUE(append_file(dir + "/t.text.dat", "5        extra"));
    Result c = bazoola({"check", dir});
    ASSERT_EQ(1, c.status) << "a warning (free_missing) only:\n" << c.out << c.err;
    ASSERT_NE(std::string::npos, c.out.find("0 errors")) << c.out;
    std::string dump;
    round_trip(dir, "outside", &dump);
    /* Not by luck: the backup carried those bytes. */
    EXPECT_NE(std::string::npos, dump.find("\"seqnum\":\"04\"")) << dump;
    EXPECT_NE(std::string::npos, dump.find("\"raw\":\"1        ab  007")) << dump;
    EXPECT_NE(std::string::npos, dump.find("\"raw\":\"2        ab\\t ")) << dump;
    EXPECT_NE(std::string::npos, dump.find("\"bytes\":\"5        extra\"")) << dump;
}

TEST(Backup, AFailedLoadLeavesNothingBehind)
{
    TempDir work("bzbackup");
    std::string dir = work.file("data");
    {
        Db db(open_db(dir, "t: id PK, s TEXT\nu: id PK, n INT\n"));
        ASSERT_TRUE(db);
        for (int i = 0; i < 3; i++) {
            Values v(make_values({{"s", "row " + std::to_string(i)}}));
            ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
            Values w(make_values({{"n", i}}));
            ASSERT_EQ(BZ_OK, bz_insert(db.get(), "u", w.get(), nullptr));
        }
    }
    Result d = bazoola({"dump", dir});
    ASSERT_EQ(0, d.status) << d.err;
    std::vector<size_t> ends;
    for (size_t p = d.out.find('\n'); p != std::string::npos;
         p = d.out.find('\n', p + 1))
        ends.push_back(p + 1);
    ASSERT_GE(ends.size(), 8u);
    /* Cut after every line but the last, and in the middle of one. */
    std::vector<std::string> bad;
    for (size_t i = 0; i + 1 < ends.size(); i++)
        bad.push_back(d.out.substr(0, ends[i]));
    bad.push_back(d.out.substr(0, ends[3] - 5));
    std::string broken = d.out;
    broken.replace(broken.find("\"row 1\""), 7, "\"row 1 longer\"");
    bad.push_back(broken); /* its TEXT record no longer fits its place */
    for (const std::string &in : bad) {
        std::string dst = work.file("new");
        Result l = bazoola({"load", dst}, in);
        EXPECT_EQ(1, l.status) << in << "\n" << l.err;
        EXPECT_EQ(0u, l.err.find("bazoola load: ")) << l.err;
        EXPECT_EQ((std::vector<std::string>{"data"}), entries(work.path()))
            << "left behind after:\n" << in;
    }
    /* A directory with something in it is never overwritten. */
    std::string full = work.file("full");
    ASSERT_EQ(0, mkdir(full.c_str(), 0700));
    ASSERT_TRUE(write_file(full + "/keep", "mine"));
    Result l = bazoola({"load", full}, d.out);
    EXPECT_EQ(1, l.status);
    EXPECT_NE(std::string::npos, l.err.find("not an empty directory")) << l.err;
    EXPECT_EQ((std::vector<std::string>{"keep"}), entries(full));
    /* An empty one is taken. */
    std::string empty = work.file("empty");
    ASSERT_EQ(0, mkdir(empty.c_str(), 0700));
    Result ok = bazoola({"load", empty}, d.out);
    EXPECT_EQ(0, ok.status) << ok.err;
    EXPECT_EQ(snapshot_dir(dir, false), snapshot_dir(empty, false));
}

TEST(Backup, ADumpOfOneTableIsNotABackup)
{
    TempDir work("bzbackup");
    std::string dir = work.file("data");
    { Db db(open_db(dir, "t: id PK, n INT\n")); ASSERT_TRUE(db); }
    Result r = bazoola({"dump", dir, "t", "--format", "backup"});
    EXPECT_EQ(2, r.status);
    EXPECT_EQ(0u, r.err.find("bazoola dump: t: a backup is of the whole "
                             "directory")) << r.err;
}
