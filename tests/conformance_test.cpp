/*
 * conformance_test.cpp - the seeded corpus (tests/conformance/case-NNNN.json)
 * run through the C API and through `bazoola exec`.
 *
 * Each case: a fresh data directory, the case's schema text, every op in
 * order; each result must equal the expected one as a JSON value, and at the
 * end every *.dat file must equal the expected bytes, with no other *.dat.
 */
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/wait.h>

#include <algorithm>
#include <sstream>

#include "helpers.h"

#ifndef BZ_CONFORMANCE_DIR
#error "BZ_CONFORMANCE_DIR must be defined by the build"
#endif

using namespace bzt;

namespace {

constexpr int kMaxMismatchesShown = 5;

std::vector<std::string> list_cases()
{
    std::vector<std::string> names;
    DIR *d = opendir(BZ_CONFORMANCE_DIR);
    if (!d)
        return names;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 10 && n.compare(0, 5, "case-") == 0 &&
            n.compare(n.size() - 5, 5, ".json") == 0)
            names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string case_test_name(const ::testing::TestParamInfo<std::string> &info)
{
    std::string n = info.param.substr(0, info.param.size() - 5); /* .json */
    for (char &c : n)
        if (!isalnum(static_cast<unsigned char>(c)))
            c = '_';
    return n;
}

struct Case {
    std::string name;
    Json doc;
    std::string schema;
    json_t *ops = nullptr;
    json_t *results = nullptr;
    json_t *files = nullptr;
};

/* Load and sanity-check a case file; "" on success, else why not. */
std::string load_case(const std::string &file, Case *c)
{
    c->name = file;
    bool ok = false;
    std::string text = read_file(std::string(BZ_CONFORMANCE_DIR) + "/" + file, &ok);
    if (!ok)
        return "cannot read " + file;
    std::string err;
    c->doc = json_parse(text, &err);
    if (!c->doc)
        return file + ": " + err;
    const char *schema = json_string_value(json_object_get(c->doc.get(), "schema"));
    c->ops = json_object_get(c->doc.get(), "ops");
    c->results = json_object_get(c->doc.get(), "results");
    c->files = json_object_get(c->doc.get(), "files");
    if (!schema || !json_is_array(c->ops) || !json_is_array(c->results) ||
        !json_is_object(c->files))
        return file + ": needs schema, ops, results and files";
    if (json_array_size(c->ops) != json_array_size(c->results))
        return file + ": ops and results differ in length";
    c->schema = schema;
    return "";
}

/* Compare one result; records a failure (up to a limit) on mismatch. */
void check_result(const Case &c, size_t i, const json_t *got, int *mismatches)
{
    const json_t *op = json_array_get(c.ops, i);
    const json_t *want = json_array_get(c.results, i);
    if (got && json_equal(const_cast<json_t *>(want), const_cast<json_t *>(got)))
        return;
    if (++*mismatches <= kMaxMismatchesShown)
        ADD_FAILURE() << c.name << ": op #" << i << " " << json_dump(op)
                      << "\n  expected: " << json_dump(want)
                      << "\n  got:      " << json_dump(got);
}

void report_mismatch_total(const Case &c, int mismatches)
{
    if (mismatches > kMaxMismatchesShown)
        ADD_FAILURE() << c.name << ": " << mismatches << " results differ in all ("
                      << kMaxMismatchesShown << " shown)";
}

/* Every *.dat of dir equals the case's files, and there is no other. */
void check_files(const Case &c, const std::string &dir)
{
    std::map<std::string, std::string> got = snapshot_dir(dir, true);
    const char *name;
    json_t *b64;
    json_object_foreach(c.files, name, b64) {
        bool ok = false;
        std::string want = base64_decode(json_string_value(b64) ? json_string_value(b64) : "", &ok);
        EXPECT_TRUE(ok) << c.name << ": bad base64 for " << name;
        auto it = got.find(name);
        if (it == got.end()) {
            ADD_FAILURE() << c.name << ": file " << name << " is missing";
            continue;
        }
        EXPECT_TRUE(it->second == want)
            << c.name << ": file " << name << " differs: "
            << describe_bytes_diff(want, it->second);
        got.erase(it);
    }
    for (const auto &kv : got)
        ADD_FAILURE() << c.name << ": unexpected file " << kv.first << " ("
                      << kv.second.size() << " bytes: \"" << escape_bytes(kv.second)
                      << "\")";
}

class ConformanceApi : public ::testing::TestWithParam<std::string> {};
class ConformanceExec : public ::testing::TestWithParam<std::string> {};
class ConformanceApiFlock : public ::testing::TestWithParam<std::string> {};
class ConformanceApiTinyCache : public ::testing::TestWithParam<std::string> {};

TEST(ConformanceCorpus, AllCasesPresentAndWellFormed)
{
    std::vector<std::string> cases = list_cases();
    /* case-0001 .. case-0050; 41-50 use INT(n).  A lost file would
     * otherwise pass silently as one case fewer. */
    EXPECT_GE(cases.size(), 50u) << "corpus directory " << BZ_CONFORMANCE_DIR;
    for (const auto &f : cases) {
        Case c;
        EXPECT_EQ("", load_case(f, &c));
    }
}

/* One case through the C API, with the given lock mode; tiny_cache makes
 * the segment 8 frames (32 KiB), far smaller than the case's data, so
 * every path of eviction and reloading runs. */
void run_api_case(const std::string &file, bz_lock_mode mode, bool tiny_cache)
{
    Case c;
    std::string err = load_case(file, &c);
    ASSERT_EQ("", err);

    TempDir dir("bzconf");
    Schema schema(parse_schema(c.schema, &err));
    ASSERT_TRUE(schema) << c.name << ": " << err;
    bz_options *opts = bz_options_new();
    ASSERT_NE(nullptr, opts);
    ASSERT_EQ(BZ_OK, bz_options_set_lock_mode(opts, mode));
    /* The segment is made by this process's first open of this fresh
     * directory, so the variable decides its size. */
    if (tiny_cache)
        setenv("BAZOOLA_CACHE_MB", "0.03", 1);
    bz_db *raw = nullptr;
    int rc = bz_open(dir.c_str(), schema.get(), opts, &raw);
    if (tiny_cache)
        unsetenv("BAZOOLA_CACHE_MB");
    bz_options_free(opts);
    ASSERT_EQ(BZ_OK, rc) << c.name << ": bz_open: " << last_error(rc);
    Db db(raw);
    if (tiny_cache) {
        bz_stats *st = nullptr;
        ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st)) << bz_errmsg();
        EXPECT_EQ(8u, bz_stats_frames(st));
        bz_stats_free(st);
    }

    int mismatches = 0;
    for (size_t i = 0; i < json_array_size(c.ops); i++) {
        Json got(run_json_op(db.get(), json_array_get(c.ops, i)));
        check_result(c, i, got.get(), &mismatches);
    }
    report_mismatch_total(c, mismatches);
    db.reset(); /* close before looking at the files */
    check_files(c, dir.path());
}

TEST_P(ConformanceApi, ResultsAndFilesMatch)
{
    run_api_case(GetParam(), BZ_LOCK_SHARED, false);
}

TEST_P(ConformanceApiFlock, ResultsAndFilesMatch)
{
    run_api_case(GetParam(), BZ_LOCK_FLOCK, false);
}

TEST_P(ConformanceApiTinyCache, ResultsAndFilesMatch)
{
    run_api_case(GetParam(), BZ_LOCK_SHARED, true);
}

TEST_P(ConformanceExec, ResultsAndFilesMatch)
{
#ifndef BZ_TOOL_PATH
    GTEST_SKIP() << "the bazoola tool is not part of this build";
#else
    Case c;
    std::string err = load_case(GetParam(), &c);
    ASSERT_EQ("", err);

    TempDir work("bzexec");
    std::string data = work.file("data");
    std::string schema_file = work.file("schema.txt");
    ASSERT_TRUE(write_file(schema_file, c.schema));

    std::string input;
    for (size_t i = 0; i < json_array_size(c.ops); i++) {
        char *line = json_dumps(json_array_get(c.ops, i), JSON_COMPACT);
        ASSERT_NE(nullptr, line);
        input += line;
        input += '\n';
        free(line);
    }

    std::string out, errout;
    int status = -1;
    bool finished = run_process({BZ_TOOL_PATH, "exec", data, "--schema", schema_file},
                                input, 60000, &out, &errout, &status);
    ASSERT_TRUE(finished) << c.name << ": bazoola exec did not finish in 60 s ("
                          << describe_status(status) << "); stderr: " << errout;
    EXPECT_TRUE(WIFEXITED(status)) << c.name << ": bazoola exec "
                                   << describe_status(status) << "; stderr: " << errout;

    std::vector<std::string> lines;
    std::istringstream is(out);
    for (std::string line; std::getline(is, line);)
        lines.push_back(line);
    EXPECT_EQ(json_array_size(c.ops), lines.size())
        << c.name << ": one output line per op expected; stderr: " << errout;

    int mismatches = 0;
    for (size_t i = 0; i < json_array_size(c.ops); i++) {
        if (i >= lines.size()) {
            check_result(c, i, nullptr, &mismatches);
            continue;
        }
        std::string perr;
        Json got = json_parse(lines[i], &perr);
        if (!got) {
            if (++mismatches <= kMaxMismatchesShown)
                ADD_FAILURE() << c.name << ": op #" << i << ": output line is not JSON ("
                              << perr << "): " << lines[i];
            continue;
        }
        check_result(c, i, got.get(), &mismatches);
    }
    report_mismatch_total(c, mismatches);
    check_files(c, data);
#endif
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceApi, ::testing::ValuesIn(list_cases()),
                         case_test_name);
INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceExec, ::testing::ValuesIn(list_cases()),
                         case_test_name);
INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceApiFlock, ::testing::ValuesIn(list_cases()),
                         case_test_name);
INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceApiTinyCache,
                         ::testing::ValuesIn(list_cases()), case_test_name);

} // namespace
