/*
 * shell_test.cpp - `bazoola dump`, `bazoola schema` and `bazoola import`
 * run as processes over directories built through the C API, plus the
 * progress line of tools/progress.c (linked in) drawn to a memory stream.
 *
 * The expected outputs are spelled out byte for byte: the formats are an
 * interface (scripts parse them, import reads what dump writes).
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "helpers.h"

extern "C" {
#include "progress.h"
}

using namespace bzt;

namespace {

const int kTimeoutMs = 60000;

const char *const kSchema =
    "authors: id PK, name CHAR(30)\n"
    "books: id PK, title CHAR(40), author_id FK(authors), year INT NULL, "
    "notes TEXT NULL\n";

struct ToolRun {
    bool finished = false;
    int status = -1; /* exit status; -1 when killed or not run */
    std::string out, err;
};

ToolRun bazoola(const std::vector<std::string> &args,
                const std::string &in = "")
{
    std::vector<std::string> argv{BZ_TOOL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    ToolRun r;
    int st = 0;
    r.finished = run_process(argv, in, kTimeoutMs, &r.out, &r.err, &st);
    if (r.finished && WIFEXITED(st))
        r.status = WEXITSTATUS(st);
    return r;
}

std::string describe(const ToolRun &r)
{
    return "exit " + std::to_string(r.status) + "\n--- stdout:\n" + r.out +
           "--- stderr:\n" + r.err;
}

bool contains(const std::string &hay, const std::string &needle)
{
    return hay.find(needle) != std::string::npos;
}

void insert(bz_db *db, const char *table, const Fields &f)
{
    Values v(make_values(f));
    ASSERT_TRUE(v);
    int rc = bz_insert(db, table, v.get(), nullptr);
    ASSERT_EQ(BZ_OK, rc) << last_error(rc);
}

/* Authors 1, 2; books 2, 3, 4 stored in file order 4, 2, 3 (4 reuses the
 * slot of the deleted 1), so id order is not file order.  Values hold
 * commas, quotes, a newline, non-ASCII, NULLs, a negative number and an
 * empty string next to a NULL. */
void fill_library(const std::string &dir)
{
    std::string err;
    Db db(open_db(dir, kSchema, &err));
    ASSERT_TRUE(db) << err;
    insert(db.get(), "authors", {{"name", "Ursula K. Le Guin"}});
    insert(db.get(), "authors", {{"name", "Gabriel García Márquez"}});
    insert(db.get(), "books", {{"title", "Temp"}, {"author_id", 1}});
    insert(db.get(), "books", {{"title", "The \"Dispossessed\""},
                               {"author_id", 1}, {"year", nullptr},
                               {"notes", ""}});
    insert(db.get(), "books", {{"title", "Earthsea"}, {"author_id", 1},
                               {"year", -5}});
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "books", 1));
    insert(db.get(), "books", {{"title", "Cien años, de soledad"},
                               {"author_id", 2}, {"year", 1967},
                               {"notes", "He said \"hi\"\nthen left, quietly"}});
}

/* id -> the row as JSON, for every row of table. */
std::map<int64_t, std::string> rows_by_id(const std::string &dir,
                                          const char *table)
{
    std::map<int64_t, std::string> out;
    bz_db *raw = nullptr;
    int rc = bz_open_recorded(dir.c_str(), nullptr, &raw);
    EXPECT_EQ(BZ_OK, rc) << last_error(rc);
    if (rc != BZ_OK)
        return out;
    Db db(raw);
    bz_rows *rs = nullptr;
    rc = bz_find_all(db.get(), table, nullptr, &rs);
    EXPECT_EQ(BZ_OK, rc) << last_error(rc);
    Rows rows(rs);
    for (size_t i = 0; rows && i < bz_rows_len(rows.get()); i++) {
        const bz_row *r = bz_rows_at(rows.get(), i);
        Json j(row_to_json(r));
        out[bz_row_id(r)] = json_dump(j.get());
    }
    return out;
}

const char *const kBooksCsv =
    "id,title,author_id,year,notes\r\n"
    "2,\"The \"\"Dispossessed\"\"\",1,,\"\"\r\n"
    "3,\"Earthsea\",1,-5,\r\n"
    "4,\"Cien años, de soledad\",2,1967,\"He said \"\"hi\"\"\nthen left, "
    "quietly\"\r\n";

const char *const kBooksJson =
    "{\"id\":2,\"title\":\"The \\\"Dispossessed\\\"\",\"author_id\":1,"
    "\"year\":null,\"notes\":\"\"}\n"
    "{\"id\":3,\"title\":\"Earthsea\",\"author_id\":1,\"year\":-5,"
    "\"notes\":null}\n"
    "{\"id\":4,\"title\":\"Cien años, de soledad\",\"author_id\":2,"
    "\"year\":1967,\"notes\":\"He said \\\"hi\\\"\\nthen left, quietly\"}\n";

}  // namespace

/* ------------------------------------------------------------------ */
/* dump */

TEST(ShellDump, CsvIsRfc4180InIdOrder)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", tmp.file("d"), "books", "--format", "csv"});
    ASSERT_EQ(0, r.status) << describe(r);
    EXPECT_EQ(kBooksCsv, r.out);
    EXPECT_EQ("", r.err);
}

TEST(ShellDump, JsonWithTableIsBareRows)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", tmp.file("d"), "books", "--format", "json"});
    ASSERT_EQ(0, r.status) << describe(r);
    EXPECT_EQ(kBooksJson, r.out);
}

TEST(ShellDump, JsonOfEveryTableNamesTheTable)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", "--format=json", tmp.file("d")});
    ASSERT_EQ(0, r.status) << describe(r);
    EXPECT_EQ(
        "{\"table\":\"authors\",\"row\":{\"id\":1,\"name\":\"Ursula K. Le Guin\"}}\n"
        "{\"table\":\"authors\",\"row\":{\"id\":2,\"name\":\"Gabriel García "
        "Márquez\"}}\n"
        "{\"table\":\"books\",\"row\":{\"id\":2,\"title\":\"The \\\"Dispossessed\\\"\","
        "\"author_id\":1,\"year\":null,\"notes\":\"\"}}\n"
        "{\"table\":\"books\",\"row\":{\"id\":3,\"title\":\"Earthsea\",\"author_id\":1,"
        "\"year\":-5,\"notes\":null}}\n"
        "{\"table\":\"books\",\"row\":{\"id\":4,\"title\":\"Cien años, de soledad\","
        "\"author_id\":2,\"year\":1967,\"notes\":\"He said \\\"hi\\\"\\nthen left, "
        "quietly\"}}\n",
        r.out);
}

TEST(ShellDump, TextIsAlignedWithNullAndEscapes)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", tmp.file("d"), "--format", "text"});
    ASSERT_EQ(0, r.status) << describe(r);
    /* "García Márquez" and "años" are wider in bytes than on screen: the
     * columns line up on screen. */
    EXPECT_EQ(
        "authors (2 rows)\n"
        "id | name\n"
        "---+-----------------------\n"
        " 1 | Ursula K. Le Guin\n"
        " 2 | Gabriel García Márquez\n"
        "\n"
        "books (3 rows)\n"
        "id | title                 | author_id | year | notes\n"
        "---+-----------------------+-----------+------+---------------------------------\n"
        " 2 | The \"Dispossessed\"    |         1 | NULL |\n"
        " 3 | Earthsea              |         1 |   -5 | NULL\n"
        " 4 | Cien años, de soledad |         2 | 1967 | He said \"hi\"\\nthen left, quietly\n",
        r.out);
}

TEST(ShellDump, CsvOfSeveralTablesNeedsATable)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", tmp.file("d"), "--format", "csv"});
    EXPECT_EQ(2, r.status) << describe(r);
    EXPECT_EQ("", r.out);
    EXPECT_TRUE(contains(r.err, "TABLE")) << r.err;
}

TEST(ShellDump, ErrorsNameWhatIsWrong)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"dump", tmp.file("d"), "nope"});
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_TRUE(contains(r.err, "no table 'nope'")) << r.err;
    EXPECT_TRUE(contains(r.err, "authors, books")) << r.err;

    r = bazoola({"dump", tmp.file("missing")});
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_TRUE(contains(r.err, tmp.file("missing"))) << r.err;
    EXPECT_FALSE(file_exists(tmp.file("missing"))); /* nothing created */
}

/* ------------------------------------------------------------------ */
/* schema */

TEST(ShellSchema, PrintsTheRecordedSchema)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"schema", tmp.file("d")});
    ASSERT_EQ(0, r.status) << describe(r);
    EXPECT_EQ(kSchema, r.out);

    /* What it prints is a schema that parses to the same schema. */
    Schema again(parse_schema(r.out));
    ASSERT_TRUE(again);
    CStr text(bz_schema_text(again.get()));
    EXPECT_EQ(std::string(kSchema), text.get());

    r = bazoola({"schema", tmp.file("missing")});
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_EQ("", r.out);
    EXPECT_TRUE(contains(r.err, tmp.file("missing"))) << r.err;
}

/* ------------------------------------------------------------------ */
/* import */

class ShellRoundTrip : public ::testing::TestWithParam<const char *> {};

TEST_P(ShellRoundTrip, DumpThenImportGivesTheSameRows)
{
    const std::string fmt = GetParam(); /* csv or json */
    const std::string ext = fmt == "csv" ? ".csv" : ".jsonl";
    TempDir tmp("bzshell");
    fill_library(tmp.file("src"));

    /* The new directory gets the old one's schema, through `schema`. */
    ToolRun s = bazoola({"schema", tmp.file("src")});
    ASSERT_EQ(0, s.status) << describe(s);
    ASSERT_TRUE(write_file(tmp.file("s.schema"), s.out));
    ToolRun e = bazoola({"exec", tmp.file("dst"), "--schema", tmp.file("s.schema")});
    ASSERT_EQ(0, e.status) << describe(e);

    for (const char *table : {"authors", "books"}) {
        ToolRun d = bazoola({"dump", tmp.file("src"), table, "--format", fmt});
        ASSERT_EQ(0, d.status) << describe(d);
        std::string file = tmp.file(std::string(table) + ext);
        ASSERT_TRUE(write_file(file, d.out));
        /* The format comes from the suffix. */
        ToolRun i = bazoola({"import", tmp.file("dst"), table, file});
        ASSERT_EQ(0, i.status) << describe(i);
        size_t n = rows_by_id(tmp.file("src"), table).size();
        EXPECT_EQ("imported " + std::to_string(n) + " row" +
                      (n == 1 ? "" : "s") + " into " + table + "\n",
                  i.out);
        EXPECT_EQ("", i.err);
    }
    for (const char *table : {"authors", "books"})
        EXPECT_EQ(rows_by_id(tmp.file("src"), table),
                  rows_by_id(tmp.file("dst"), table))
            << table;
    /* And the dumps of both agree byte for byte. */
    EXPECT_EQ(bazoola({"dump", "-f", "text", tmp.file("src")}).out,
              bazoola({"dump", "-f", "text", tmp.file("dst")}).out);
}

INSTANTIATE_TEST_SUITE_P(Formats, ShellRoundTrip,
                         ::testing::Values("csv", "json"));

/* INT(n): the width survives `schema`, values past 32 bits survive dump
 * and import in each format, and import applies the width's range. */
TEST(ShellIntN, SchemaDumpAndImportKeepWidthsAndWideValues)
{
    const std::string schema =
        "h: id PK, small INT(3), big INT(18) NULL\n";
    TempDir tmp("bzshell");
    {
        std::string err;
        Db db(open_db(tmp.file("src"), schema, &err));
        ASSERT_TRUE(db) << err;
        insert(db.get(), "h", {{"small", -99}, {"big", 999999999999999999LL}});
        insert(db.get(), "h", {{"small", 999}, {"big", nullptr}});
    }
    ToolRun s = bazoola({"schema", tmp.file("src")});
    ASSERT_EQ(0, s.status) << describe(s);
    EXPECT_EQ(schema, s.out);
    ASSERT_TRUE(write_file(tmp.file("s.schema"), s.out));

    ToolRun text = bazoola({"dump", tmp.file("src"), "-f", "text"});
    ASSERT_EQ(0, text.status) << describe(text);
    EXPECT_EQ("h (2 rows)\n"
              "id | small | big\n"
              "---+-------+-------------------\n"
              " 1 |   -99 | 999999999999999999\n"
              " 2 |   999 |               NULL\n",
              text.out);

    for (const std::string fmt : {"csv", "json"}) {
        std::string dst = tmp.file("dst-" + fmt);
        ToolRun e = bazoola({"exec", dst, "--schema", tmp.file("s.schema")});
        ASSERT_EQ(0, e.status) << describe(e);
        ToolRun d = bazoola({"dump", tmp.file("src"), "h", "--format", fmt});
        ASSERT_EQ(0, d.status) << describe(d);
        std::string file = tmp.file("h." + std::string(fmt == "csv" ? "csv" : "jsonl"));
        ASSERT_TRUE(write_file(file, d.out));
        ToolRun i = bazoola({"import", dst, "h", file});
        ASSERT_EQ(0, i.status) << describe(i);
        EXPECT_EQ(rows_by_id(tmp.file("src"), "h"), rows_by_id(dst, "h")) << fmt;
        EXPECT_EQ(bazoola({"dump", "-f", "text", tmp.file("src")}).out,
                  bazoola({"dump", "-f", "text", dst}).out)
            << fmt;
    }
    ASSERT_TRUE(write_file(tmp.file("bad.csv"), "small,big\n1000,1\n"));
    ToolRun bad = bazoola({"import", tmp.file("dst-csv"), "h", tmp.file("bad.csv")});
    EXPECT_EQ(1, bad.status) << describe(bad);
    EXPECT_TRUE(contains(bad.err, "line 2")) << bad.err;
    EXPECT_TRUE(contains(bad.err, "'small': The value is too big")) << bad.err;
}

TEST(ShellImport, CsvNullIsEmptyUnquotedAndColumnsInAnyOrder)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"import", tmp.file("d"), "books", "-", "--format", "csv"},
                        "notes,author_id,title\r\n"
                        ",2,\"  padded  \"\r\n"
                        "\"\",1,\"a, \"\"b\"\"\n c\"\r\n");
    ASSERT_EQ(0, r.status) << describe(r);
    EXPECT_EQ("imported 2 rows into books\n", r.out);
    auto rows = rows_by_id(tmp.file("d"), "books");
    ASSERT_EQ(5u, rows.size());
    /* Auto ids continue from seqnum (4), blanks kept, year left out: NULL. */
    /* (keys sorted by json_dump) */
    EXPECT_EQ("{\"author_id\":2,\"id\":5,\"notes\":null,"
              "\"title\":\"  padded\",\"year\":null}",
              rows[5]);
    EXPECT_EQ("{\"author_id\":1,\"id\":6,\"notes\":\"\","
              "\"title\":\"a, \\\"b\\\"\\n c\",\"year\":null}",
              rows[6]);
}

struct BadInput {
    const char *name;
    const char *format;
    const char *input;
    std::vector<std::string> says; /* substrings of the error */
};

/* gtest prints a failing parameter with this, not as raw bytes. */
void PrintTo(const BadInput &b, std::ostream *os)
{
    *os << b.name;
}

class ShellBadImport : public ::testing::TestWithParam<BadInput> {};

/* Good lines come first, so the rollback has real inserts to undo. */
TEST_P(ShellBadImport, FailsNamingLineAndFieldAndChangesNoByte)
{
    const BadInput &bad = GetParam();
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    auto before = snapshot_dir(tmp.file("d"), true);
    ASSERT_FALSE(before.empty());

    ToolRun r = bazoola({"import", tmp.file("d"), "books", "-", "--format",
                         bad.format},
                        bad.input);
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_EQ("", r.out);
    for (const auto &s : bad.says)
        EXPECT_TRUE(contains(r.err, s)) << "missing \"" << s << "\" in:\n"
                                        << r.err;
    EXPECT_TRUE(contains(r.err, "nothing imported into books")) << r.err;
    EXPECT_EQ("", diff_snapshots(before, snapshot_dir(tmp.file("d"), true)));

    /* No batch or lock is left behind: a good import works afterwards. */
    ToolRun ok = bazoola({"import", tmp.file("d"), "books", "-", "--format",
                          "csv"},
                         "title,author_id\n\"fine\",1\n");
    EXPECT_EQ(0, ok.status) << describe(ok);
    EXPECT_EQ("imported 1 row into books\n", ok.out);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ShellBadImport,
    ::testing::Values(
        BadInput{"CsvBadValue", "csv",
                 "title,author_id,year\n\"a\",1,1999\n\"b\",1,\"19x\"\n",
                 {"stdin line 3", "'year'", "Type mismatch", "'19x'"}},
        BadInput{"CsvUnknownColumn", "csv",
                 "title,author_id,colour\n\"a\",1,\"red\"\n",
                 {"line 1", "unknown column 'colour'"}},
        BadInput{"CsvRepeatedColumn", "csv", "title,title,author_id\n",
                 {"line 1", "column 'title' given twice"}},
        BadInput{"CsvMalformedQuote", "csv",
                 "title,author_id\n\"a\",1\n\"b\"x,1\n",
                 {"line 3", "malformed CSV"}},
        BadInput{"CsvUnclosedQuote", "csv",
                 "title,author_id\n\"a\",1\n\"b\n\nc,1\n",
                 {"line 3", "not closed"}},
        BadInput{"CsvFieldCount", "csv", "title,author_id\n\"a\",1\n\"b\",1,5\n",
                 {"line 3", "3 fields", "2 columns"}},
        BadInput{"CsvDuplicateId", "csv",
                 "id,title,author_id\n10,\"a\",1\n3,\"b\",1\n",
                 {"line 3", "'id': row with id 3 already exists"}},
        BadInput{"CsvMissingForeignRow", "csv",
                 "title,author_id\n\"a\",1\n\"b\n(two lines)\",99\n",
                 {"line 3", "'author_id'", "Item id=99 does not exist in "
                  "'authors'"}},
        BadInput{"CsvNullInNotNull", "csv", "title,author_id\n\"a\",1\n,1\n",
                 {"line 3", "'title': The value can't be None"}},
        BadInput{"CsvNoHeader", "csv", "", {"no header"}},
        BadInput{"JsonWrongType", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n"
                 "{\"title\":\"b\",\"author_id\":1,\"year\":\"1999\"}\n",
                 {"line 2", "'year': Type mismatch: `'1999'` is not `int`"}},
        BadInput{"JsonReal", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n"
                 "{\"title\":\"b\",\"author_id\":1,\"year\":19.5}\n",
                 {"line 2", "'year'", "real number"}},
        BadInput{"JsonUnknownField", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n"
                 "{\"title\":\"b\",\"author_id\":1,\"colour\":\"red\"}\n",
                 {"line 2", "unknown field 'colour'"}},
        BadInput{"JsonMalformed", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n\n{\"title\":\n",
                 {"line 3", "not valid JSON"}},
        BadInput{"JsonNotAnObject", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n[1, 2]\n",
                 {"line 2", "expected a JSON object"}},
        BadInput{"JsonDuplicateId", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n"
                 "{\"id\":2,\"title\":\"b\",\"author_id\":1}\n",
                 {"line 2", "'id': row with id 2 already exists"}},
        BadInput{"JsonTooLong", "jsonl",
                 "{\"title\":\"a\",\"author_id\":1}\n"
                 "{\"title\":\"0123456789012345678901234567890123456789x\","
                 "\"author_id\":1}\n",
                 {"line 2", "'title': The value is too long"}},
        BadInput{"JsonDuplicateKey", "jsonl",
                 "{\"title\":\"a\",\"title\":\"b\",\"author_id\":1}\n",
                 {"line 1", "duplicate"}}),
    [](const ::testing::TestParamInfo<BadInput> &i) {
        return std::string(i.param.name);
    });

TEST(ShellImport, UnknownTableAndUnreadableFile)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    ToolRun r = bazoola({"import", tmp.file("d"), "nope", "-", "--format", "csv"},
                        "title\n\"a\"\n");
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_TRUE(contains(r.err, "no table 'nope'")) << r.err;

    r = bazoola({"import", tmp.file("d"), "books", tmp.file("absent.csv")});
    EXPECT_EQ(1, r.status) << describe(r);
    EXPECT_TRUE(contains(r.err, tmp.file("absent.csv"))) << r.err;

    /* No suffix to go by and no --format. */
    r = bazoola({"import", tmp.file("d"), "books", "-"}, "");
    EXPECT_EQ(2, r.status) << describe(r);
    EXPECT_TRUE(contains(r.err, "--format")) << r.err;
}

/* ------------------------------------------------------------------ */
/* help and the command line */

TEST(ShellHelp, EveryCommandHasUsageWithExitStatus)
{
    for (const char *cmd : {"dump", "schema", "import"}) {
        ToolRun r = bazoola({cmd, "--help"});
        EXPECT_EQ(0, r.status) << describe(r);
        EXPECT_EQ(0u, r.out.find(std::string("Usage: bazoola ") + cmd + " "))
            << r.out;
        EXPECT_TRUE(contains(r.out, "Exit status")) << r.out;
        EXPECT_EQ("", r.err);
        ToolRun h = bazoola({"help", cmd});
        EXPECT_EQ(0, h.status) << describe(h);
        EXPECT_EQ(r.out, h.out);
    }
    ToolRun r = bazoola({"--help"});
    EXPECT_EQ(0, r.status);
    for (const char *cmd : {"dump", "schema", "import"})
        EXPECT_TRUE(contains(r.out, std::string("  ") + cmd + " ")) << r.out;
}

TEST(ShellHelp, BadCommandLinesExitTwo)
{
    TempDir tmp("bzshell");
    fill_library(tmp.file("d"));
    const std::vector<std::vector<std::string>> bad = {
        {"frobnicate"},
        {"--frobnicate"},
        {"dump"},
        {"dump", tmp.file("d"), "--frob"},
        {"dump", tmp.file("d"), "--format"},
        {"dump", tmp.file("d"), "--format", "xml"},
        {"dump", tmp.file("d"), "books", "extra"},
        {"schema"},
        {"schema", "--frob"},
        {"schema", tmp.file("d"), "extra"},
        {"import", tmp.file("d"), "books"},
        {"import", tmp.file("d"), "books", "f.csv", "extra"},
        {"import", tmp.file("d"), "books", "f.csv", "--format", "xml"},
        {"import", "--frob", tmp.file("d"), "books", "f.csv"},
    };
    auto before = snapshot_dir(tmp.file("d"), true);
    for (const auto &args : bad) {
        ToolRun r = bazoola(args);
        std::string line;
        for (const auto &a : args)
            line += a + " ";
        EXPECT_EQ(2, r.status) << line << "\n" << describe(r);
        EXPECT_EQ("", r.out) << line;
        EXPECT_FALSE(r.err.empty()) << line;
    }
    EXPECT_EQ("", diff_snapshots(before, snapshot_dir(tmp.file("d"), true)));
}

/* ------------------------------------------------------------------ */
/* progress */

TEST(ShellProgress, NoneWhenStderrIsAPipe)
{
    TempDir tmp("bzshell");
    {
        std::string err;
        Db db(open_db(tmp.file("d"), kSchema, &err));
        ASSERT_TRUE(db) << err;
        insert(db.get(), "authors", {{"name", "A"}});
        ASSERT_EQ(BZ_OK, bz_begin(db.get()));
        for (int i = 0; i < 20000; i++)
            insert(db.get(), "books", {{"title", "t" + std::to_string(i)},
                                       {"author_id", 1}, {"year", i}});
        ASSERT_EQ(BZ_OK, bz_commit(db.get()));
    }
    /* stderr into the pipe popen reads, stdout to a file. */
    std::string csv = tmp.file("books.csv");
    std::string cmd = std::string(BZ_TOOL_PATH) + " dump " + tmp.file("d") +
                      " books --format csv 2>&1 >" + csv;
    FILE *p = popen(cmd.c_str(), "r");
    ASSERT_TRUE(p);
    std::string err;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        err.append(buf, n);
    EXPECT_EQ(0, pclose(p));
    EXPECT_EQ("", err);
    std::string out = read_file(csv);
    EXPECT_EQ(20001, std::count(out.begin(), out.end(), '\n'));

    ToolRun e = bazoola({"exec", tmp.file("d2"), "--schema", tmp.file("d") + "/.schema"});
    ASSERT_EQ(0, e.status) << describe(e);
    insert(Db(open_db(tmp.file("d2"), kSchema)).get(), "authors", {{"name", "A"}});
    cmd = std::string(BZ_TOOL_PATH) + " import " + tmp.file("d2") + " books " +
          csv + " 2>&1 >/dev/null";
    p = popen(cmd.c_str(), "r");
    ASSERT_TRUE(p);
    err.clear();
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        err.append(buf, n);
    EXPECT_EQ(0, pclose(p));
    EXPECT_EQ("", err);
    EXPECT_EQ(20000u, rows_by_id(tmp.file("d2"), "books").size());
}

TEST(ShellProgress, DisabledUnlessStderrIsATerminal)
{
    int pipefd[2];
    ASSERT_EQ(0, pipe(pipefd));
    fflush(stderr);
    int saved = dup(2);
    dup2(pipefd[1], 2);
    struct progress p;
    progress_start(&p, "dump books", 100);
    dup2(saved, 2);
    close(saved);
    close(pipefd[0]);
    close(pipefd[1]);
    EXPECT_EQ(nullptr, p.out);
    progress_update(&p, 50); /* harmless when disabled */
    progress_end(&p);
}

TEST(ShellProgress, DrawsRateLimitedAndErasesAtTheEnd)
{
    char *text = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ASSERT_TRUE(f);
    struct progress p;
    progress_start_on(&p, f, 1, "dump books", 200, 0);
    progress_update(&p, 50);  /* drawn: no delay asked */
    progress_update(&p, 100); /* within PROGRESS_EVERY_MS: not drawn */
    progress_end(&p);
    progress_update(&p, 150); /* after the end: nothing */
    fclose(f);
    EXPECT_EQ("\r\033[Kdump books [######..................]  25% 50/200 rows"
              "\r\033[K",
              std::string(text, len));
    free(text);

    /* Unknown total: a count, no bar. */
    f = open_memstream(&text, &len);
    progress_start_on(&p, f, 1, "import books", 0, 0);
    progress_update(&p, 7);
    progress_end(&p);
    fclose(f);
    EXPECT_EQ("\r\033[Kimport books 7 rows\r\033[K", std::string(text, len));
    free(text);

    /* Nothing drawn before the delay, so nothing to erase. */
    f = open_memstream(&text, &len);
    progress_start_on(&p, f, 1, "quick", 10, 60000);
    progress_update(&p, 10);
    progress_end(&p);
    fclose(f);
    EXPECT_EQ("", std::string(text, len));
    free(text);
}
