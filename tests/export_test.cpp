/*
 * export_test.cpp - `bazoola export --sql`: the script loads into a real
 * sqlite3 (the CLI, as a user would run it) and a throwaway PostgreSQL
 * cluster, and every row and value that comes back equals what the API
 * reads from the directory.  Rows are compared as JSON (the API's rows
 * through helpers' row_to_json; SQLite's through libsqlite3; PostgreSQL's
 * through json_agg), so a wrong escape, type or NULL shows as a diff.
 */
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <glob.h>
#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

/* The referring tables come first on purpose: the export must reorder
 * them.  books and series refer to each other; authors to itself. */
const char *const kSchema =
    "notes: id PK, book_id FK(books), body TEXT NULL, label CHAR(8) NULL\n"
    "books: id PK, title CHAR(40), author_id FK(authors), year INT NULL, "
    "series_id FK(series) NULL\n"
    "series: id PK, name CHAR(10), first_book FK(books) NULL\n"
    "authors: id PK, name CHAR(30), mentor_id FK(authors) NULL\n"
    "empty: id PK, x INT\n";

const char *const kTables[] = { "notes", "books", "series", "authors",
                                "empty" };

std::string find_in_path(const char *name)
{
    const char *path = getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find(':', start);
        if (end == std::string::npos)
            end = p.size();
        std::string cand = p.substr(start, end - start) + "/" + name;
        if (access(cand.c_str(), X_OK) == 0)
            return cand;
        start = end + 1;
    }
    return "";
}

std::string canon(const json_t *j)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII |
                                JSON_ENCODE_ANY);
    std::string out = s ? s : "<unprintable>";
    free(s);
    return out;
}

/* Every row of table as the API reads it, in id order. */
std::string api_rows(bz_db *db, const char *table)
{
    bz_rows *rs = nullptr;
    int rc = bz_find_all(db, table, nullptr, &rs);
    if (rc != BZ_OK)
        return "find_all failed: " + last_error(rc);
    Rows owned(rs);
    std::vector<const bz_row *> v;
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        v.push_back(bz_rows_at(rs, i));
    std::sort(v.begin(), v.end(), [](const bz_row *a, const bz_row *b) {
        return bz_row_id(a) < bz_row_id(b);
    });
    Json arr(json_array());
    for (const bz_row *r : v)
        json_array_append_new(arr.get(), row_to_json(r));
    return canon(arr.get());
}

/* Every row of table as SQLite holds it, in id order. */
std::string sqlite_rows(sqlite3 *db, const char *table)
{
    std::string sql = std::string("SELECT * FROM \"") + table +
                      "\" ORDER BY \"id\"";
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        return std::string("prepare failed: ") + sqlite3_errmsg(db);
    Json arr(json_array());
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *obj = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            json_t *v;
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                v = json_integer(sqlite3_column_int64(st, c));
                break;
            case SQLITE_TEXT: {
                const char *s =
                    reinterpret_cast<const char *>(sqlite3_column_text(st, c));
                v = json_stringn(s, (size_t)sqlite3_column_bytes(st, c));
                break;
            }
            case SQLITE_NULL:
                v = json_null();
                break;
            default: /* a float or a blob: the export got a type wrong */
                v = json_string("<not an integer, text or NULL>");
            }
            json_object_set_new(obj, sqlite3_column_name(st, c),
                                v ? v : json_string("<bad text>"));
        }
        json_array_append_new(arr.get(), obj);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return std::string("step failed: ") + sqlite3_errmsg(db);
    return canon(arr.get());
}

/* One string of every row the query returns, columns joined by '|'. */
std::vector<std::string> sqlite_query(sqlite3 *db, const std::string &sql)
{
    std::vector<std::string> out;
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        return { std::string("prepare failed: ") + sqlite3_errmsg(db) };
    while (sqlite3_step(st) == SQLITE_ROW) {
        std::string line;
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            line += (c ? "|" : "") +
                    std::string(t ? reinterpret_cast<const char *>(t) : "NULL");
        }
        out.push_back(line);
    }
    sqlite3_finalize(st);
    return out;
}

/* "" when equal, else where they differ (rows can be 70 kB long). */
std::string differ(const std::string &want, const std::string &got)
{
    return want == got ? "" : describe_bytes_diff(want, got);
}

struct ToolRun {
    bool finished = false;
    int status = -1;
    std::string out, err;
    int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

ToolRun run(const std::vector<std::string> &argv, const std::string &in = "")
{
    ToolRun r;
    r.finished = run_process(argv, in, 120000, &r.out, &r.err, &r.status);
    return r;
}

ToolRun export_sql(const std::string &dir, const std::vector<std::string> &more)
{
    std::vector<std::string> argv = { BZ_TOOL_PATH, "export", "--sql", dir };
    argv.insert(argv.end(), more.begin(), more.end());
    return run(argv);
}

bool insert(bz_db *db, const char *table, const Fields &f, std::string *err)
{
    Values v(make_values(f));
    int rc = v ? bz_insert(db, table, v.get(), nullptr) : BZ_ENOMEM;
    if (rc != BZ_OK)
        *err = std::string("insert into ") + table + ": " + last_error(rc);
    return rc == BZ_OK;
}

bool update(bz_db *db, const char *table, int64_t id, const Fields &f,
            std::string *err)
{
    Values v(make_values(f));
    int rc = v ? bz_update_by_id(db, table, id, v.get(), nullptr) : BZ_ENOMEM;
    if (rc != BZ_OK)
        *err = std::string("update ") + table + ": " + last_error(rc);
    return rc == BZ_OK;
}

/* The data every dialect must carry: quotes, backslashes, newlines, CR
 * (alone and before a line feed), tab, non-ASCII, empty strings and NULLs,
 * lines that look like sqlite3 dot-commands and psql backslash commands;
 * explicit and deleted ids (not near 999999999: the index file would be
 * 9 GB of filler slots); a
 * self-reference and a two-table cycle that point at rows with higher ids
 * (inserted later in id order); enough rows for several INSERT batches. */
bool fill(bz_db *db, std::string *err)
{
    return insert(db, "authors", { { "name", "Ursula K. Le Guin" } }, err) &&
           insert(db, "authors", { { "name", "O'Brien \"Flann\"" },
                                   { "mentor_id", 1 } }, err) &&
           insert(db, "authors", { { "id", 7 }, { "name", "Ünïcødé ✓ 日本" },
                                   { "mentor_id", 2 } }, err) &&
           insert(db, "authors", { { "id", 5000 },
                                   { "name", "back\\slash \\' \\n" } }, err) &&
           update(db, "authors", 1, { { "mentor_id", 5000 } }, err) &&
           insert(db, "authors", { { "name", "gone" } }, err) &&
           bz_delete_by_id(db, "authors", 3) == BZ_OK &&
           insert(db, "books", { { "title", "Dune" }, { "author_id", 1 },
                                 { "year", 1965 } }, err) &&
           insert(db, "books", { { "title", "" }, { "author_id", 7 } }, err) &&
           insert(db, "series", { { "name", "Earthsea" },
                                  { "first_book", 2 } }, err) &&
           update(db, "books", 1, { { "series_id", 1 } }, err) &&
           insert(db, "notes", { { "book_id", 1 },
                                 { "body", "line1\nline2\r\n\ttab \r lone CR\r 'q' "
                                           "\"dq\" \\ -- not a comment; "
                                           "\n.quit\n\\q\nDROP TABLE x;" },
                                 { "label", "a'b\\c" } }, err) &&
           insert(db, "notes", { { "book_id", 2 }, { "body", "" },
                                 { "label", "" } }, err) &&
           insert(db, "notes", { { "book_id", 2 }, { "body", nullptr } },
                  err) &&
           insert(db, "notes", { { "id", 50 }, { "book_id", 1 },
                                 { "body", std::string(70000, 'x') } }, err) &&
           [&] {
               for (int i = 0; i < 1203; i++)
                   if (!insert(db, "books",
                               { { "title", "bulk '" + std::to_string(i) },
                                 { "author_id", i % 2 ? 2 : 7 },
                                 { "year", i % 3 ? V(i) : V(nullptr) } },
                               err))
                       return false;
               for (int64_t id = 10; id < 200; id += 7)
                   if (bz_delete_by_id(db, "books", id) != BZ_OK)
                       return false;
               return true;
           }();
}

/* A directory filled by fill(), closed again (the export opens its own). */
class ExportTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string err;
        Db db(open_db(tmp_.file("data"), kSchema, &err));
        ASSERT_TRUE(db) << err;
        ASSERT_TRUE(fill(db.get(), &err)) << err;
    }

    std::string data() const { return tmp_.file("data"); }

    /* Each table's rows as the API reads them. */
    std::vector<std::string> expected()
    {
        std::string err;
        Db db(open_db(data(), kSchema, &err));
        std::vector<std::string> v;
        for (const char *t : kTables)
            v.push_back(db ? api_rows(db.get(), t) : err);
        return v;
    }

    TempDir tmp_{ "bzexport" };
};

std::string sqlite3_cli()
{
    return find_in_path("sqlite3");
}

/* Load script into a new SQLite database with the sqlite3 CLI, foreign key
 * enforcement on.  Returns the CLI's stderr, "" on success. */
std::string sqlite_load(const std::string &db_path, const std::string &script)
{
    ToolRun r = run({ sqlite3_cli(), "-bail", db_path },
                "PRAGMA foreign_keys=ON;\n" + script);
    if (!r.finished || r.code() != 0 || !r.err.empty())
        return "sqlite3 failed (" + describe_status(r.status) + "): " + r.err;
    return "";
}

}  // namespace

TEST_F(ExportTest, SqliteLoadsEveryRowAndValueWithForeignKeysOn)
{
    ASSERT_FALSE(sqlite3_cli().empty())
        << "the sqlite3 command-line shell is needed (Debian: sqlite3)";
    ToolRun ex = export_sql(data(), {});
    ASSERT_TRUE(ex.finished);
    ASSERT_EQ(ex.code(), 0) << ex.err;
    EXPECT_EQ(ex.err, "") << "no warnings expected: every reference is valid";
    EXPECT_EQ(ex.out.find("PRAGMA foreign_keys=OFF"), std::string::npos)
        << "valid data must load with foreign keys enforced";
    /* Several batches: 1203+2 books minus 28 deleted, 500 a statement. */
    EXPECT_GE(std::count(ex.out.begin(), ex.out.end(), ';'), 3);

    std::string db_path = tmp_.file("out.sqlite");
    ASSERT_EQ(sqlite_load(db_path, ex.out), "");
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE,
                              nullptr), SQLITE_OK);
    std::vector<std::string> want = expected();
    for (size_t i = 0; i < sizeof kTables / sizeof *kTables; i++)
        EXPECT_EQ(differ(want[i], sqlite_rows(db, kTables[i])), "")
            << "table " << kTables[i];

    /* The declared schema: types, NOT NULL, keys. */
    EXPECT_EQ(sqlite_query(db, "SELECT name, type, \"notnull\", pk FROM "
                               "pragma_table_info('books')"),
              (std::vector<std::string>{ "id|INTEGER|0|1",
                                         "title|VARCHAR(40)|1|0",
                                         "author_id|INTEGER|1|0",
                                         "year|INTEGER|0|0",
                                         "series_id|INTEGER|0|0" }));
    EXPECT_EQ(sqlite_query(db, "SELECT name, type, \"notnull\" FROM "
                               "pragma_table_info('notes')"),
              (std::vector<std::string>{ "id|INTEGER|0", "book_id|INTEGER|1",
                                         "body|TEXT|0",
                                         "label|VARCHAR(8)|0" }));
    std::vector<std::string> fks;
    for (const char *t : kTables)
        for (const std::string &fk : sqlite_query(
                 db, std::string("SELECT \"from\", \"table\", \"to\" FROM "
                                 "pragma_foreign_key_list('") + t + "')"))
            fks.push_back(std::string(t) + "." + fk);
    std::sort(fks.begin(), fks.end());
    EXPECT_EQ(fks, (std::vector<std::string>{
                       "authors.mentor_id|authors|id",
                       "books.author_id|authors|id",
                       "books.series_id|series|id",
                       "notes.book_id|books|id",
                       "series.first_book|books|id" }));
    EXPECT_TRUE(sqlite_query(db, "PRAGMA foreign_key_check").empty());
    /* The user can go on inserting: new ids come after the largest. */
    EXPECT_EQ(sqlite3_exec(db, "INSERT INTO authors (name) VALUES ('new')",
                          nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_last_insert_rowid(db), 5001);
    sqlite3_close(db);
}

TEST_F(ExportTest, TablesComeInDependencyOrder)
{
    ToolRun ex = export_sql(data(), {});
    ASSERT_EQ(ex.code(), 0) << ex.err;
    auto at = [&](const char *what) { return ex.out.find(what); };
    /* authors (referenced by books), then books, then the tables that
     * refer to books; empty keeps its place in the schema among the free. */
    EXPECT_LT(at("CREATE TABLE \"authors\""), at("CREATE TABLE \"books\""));
    EXPECT_LT(at("CREATE TABLE \"books\""), at("CREATE TABLE \"series\""));
    EXPECT_LT(at("CREATE TABLE \"books\""), at("CREATE TABLE \"notes\""));
    EXPECT_LT(at("INSERT INTO \"authors\""), at("INSERT INTO \"books\""));
    EXPECT_LT(at("INSERT INTO \"books\""), at("INSERT INTO \"notes\""));
    EXPECT_EQ(at("INSERT INTO \"empty\""), std::string::npos);
    EXPECT_LT(at("BEGIN;"), at("CREATE TABLE"));
    EXPECT_NE(ex.out.rfind("COMMIT;\n"), std::string::npos);
    EXPECT_EQ(ex.out.rfind("COMMIT;\n"), ex.out.size() - 8);
}

TEST_F(ExportTest, DanglingReferencesAreWarnedAboutAndStillLoad)
{
    {
        std::string err;
        Db db(open_db(data(), kSchema, &err));
        ASSERT_TRUE(db) << err;
        /* Bazoola lets a referenced row go: books and authors now point
         * at rows that do not exist. */
        ASSERT_EQ(bz_delete_by_id(db.get(), "authors", 7), BZ_OK);
        ASSERT_EQ(bz_delete_by_id(db.get(), "books", 1), BZ_OK);
    }
    ToolRun ex = export_sql(data(), { "-o", tmp_.file("dump.sql") });
    ASSERT_EQ(ex.code(), 0) << ex.err;
    EXPECT_EQ(ex.out, "");
    EXPECT_NE(ex.err.find("warning: books id 2: author_id = 7 refers to no "
                          "row of 'authors'"), std::string::npos) << ex.err;
    EXPECT_NE(ex.err.find("warning: notes id 1: book_id = 1 refers to no row "
                          "of 'books'"), std::string::npos) << ex.err;
    EXPECT_NE(ex.err.find("more references to missing rows of 'authors'"),
              std::string::npos) << ex.err;
    std::string script = read_file(tmp_.file("dump.sql"));
    EXPECT_NE(script.find("PRAGMA foreign_keys=OFF;\nBEGIN;"),
              std::string::npos);

    std::string db_path = tmp_.file("out.sqlite");
    ASSERT_EQ(sqlite_load(db_path, script), "");
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr), SQLITE_OK);
    std::vector<std::string> want = expected();
    for (size_t i = 0; i < sizeof kTables / sizeof *kTables; i++)
        EXPECT_EQ(differ(want[i], sqlite_rows(db, kTables[i])), "")
            << "table " << kTables[i];
    /* The constraints are there; SQLite lists the rows that break them. */
    EXPECT_FALSE(sqlite_query(db, "PRAGMA foreign_key_check").empty());
    sqlite3_close(db);
}

TEST_F(ExportTest, PartialExportLeavesOutForeignKeysToMissingTables)
{
    ToolRun ex = export_sql(data(), { "notes", "books", "notes" });
    ASSERT_EQ(ex.code(), 0) << ex.err;
    EXPECT_NE(ex.err.find("books.author_id refers to 'authors', which is not "
                          "exported"), std::string::npos) << ex.err;
    EXPECT_EQ(ex.out.find("CREATE TABLE \"authors\""), std::string::npos);
    EXPECT_EQ(ex.out.find("REFERENCES \"authors\""), std::string::npos);

    std::string db_path = tmp_.file("out.sqlite");
    ASSERT_EQ(sqlite_load(db_path, ex.out), "");
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr), SQLITE_OK);
    std::vector<std::string> want = expected();
    EXPECT_EQ(differ(want[0], sqlite_rows(db, "notes")), "");
    EXPECT_EQ(differ(want[1], sqlite_rows(db, "books")), "");
    EXPECT_EQ(sqlite_query(db, "SELECT count(*) FROM sqlite_schema WHERE "
                               "type = 'table'"),
              (std::vector<std::string>{ "2" }));
    sqlite3_close(db);
}

TEST(ExportNul, SqliteKeepsANulInTextAndPostgresRefusesIt)
{
    TempDir tmp("bzexport");
    std::string err;
    {
        Db db(open_db(tmp.file("d"), "t: id PK, body TEXT\n", &err));
        ASSERT_TRUE(db) << err;
        ASSERT_TRUE(insert(db.get(), "t",
                           { { "body", std::string("a\0b'", 4) } }, &err))
            << err;
    }
    ToolRun ex = export_sql(tmp.file("d"), {});
    ASSERT_EQ(ex.code(), 0) << ex.err;
    std::string db_path = tmp.file("out.sqlite");
    ASSERT_EQ(sqlite_load(db_path, ex.out), "");
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite_rows(db, "t"), "[{\"body\":\"a\\u0000b'\",\"id\":1}]");
    sqlite3_close(db);

    ToolRun pg = export_sql(tmp.file("d"), { "--dialect", "postgres", "-o",
                                         tmp.file("pg.sql") });
    EXPECT_EQ(pg.code(), 1);
    EXPECT_NE(pg.err.find("t id 1: body holds a NUL byte"), std::string::npos)
        << pg.err;
    EXPECT_FALSE(file_exists(tmp.file("pg.sql")))
        << "a failed export must not leave a script behind";
}

TEST(ExportUsage, HelpErrorsAndExitStatus)
{
    TempDir tmp("bzexport");
    ToolRun help = run({ BZ_TOOL_PATH, "export", "--help" });
    EXPECT_EQ(help.code(), 0);
    EXPECT_EQ(help.out.rfind("Usage: bazoola export --sql DIR", 0), 0u)
        << help.out;
    EXPECT_NE(help.out.find("Exit status"), std::string::npos);
    ToolRun listed = run({ BZ_TOOL_PATH, "--help" });
    EXPECT_NE(listed.out.find("  export "), std::string::npos) << listed.out;

    EXPECT_EQ(run({ BZ_TOOL_PATH, "export", "--sql" }).code(), 2);
    ToolRun dialect = run({ BZ_TOOL_PATH, "export", "--sql", tmp.path(),
                        "--dialect", "oracle" });
    EXPECT_EQ(dialect.code(), 2);
    EXPECT_NE(dialect.err.find("bazoola export: oracle: unknown dialect"), std::string::npos);
    EXPECT_EQ(run({ BZ_TOOL_PATH, "export", "--frobnicate" }).code(), 2);

    ToolRun missing = export_sql(tmp.file("nope"), {});
    EXPECT_EQ(missing.code(), 1);
    EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
    EXPECT_FALSE(file_exists(tmp.file("nope")));

    std::string err;
    {
        Db db(open_db(tmp.file("d"), "a: id PK\nb: id PK\n", &err));
        ASSERT_TRUE(db) << err;
    }
    ToolRun table = export_sql(tmp.file("d"), { "c" });
    EXPECT_EQ(table.code(), 1);
    EXPECT_NE(table.err.find("has no table 'c' (tables: a b)"),
              std::string::npos) << table.err;
}

/* ------------------------------------------------------------------ */
/* PostgreSQL: a cluster of our own in a temporary directory, on a unix
 * socket there, no TCP.  Skipped when the server binaries are absent
 * (Debian: postgresql). */

namespace {

std::string pg_bindir()
{
    glob_t g;
    std::string dir;
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0 &&
        g.gl_pathc > 0) {
        /* The newest version: glob sorts, and versions are 2 digits. */
        dir = g.gl_pathv[g.gl_pathc - 1];
        dir.resize(dir.size() - strlen("/initdb"));
    }
    globfree(&g);
    if (dir.empty()) {
        std::string initdb = find_in_path("initdb");
        if (!initdb.empty())
            dir = initdb.substr(0, initdb.size() - strlen("/initdb"));
    }
    return dir;
}

class Postgres {
public:
    /* "" when running, else why not. */
    std::string start()
    {
        bin_ = pg_bindir();
        psql_ = bin_.empty() ? "" : bin_ + "/psql";
        if (bin_.empty() || access(psql_.c_str(), X_OK) != 0)
            return "PostgreSQL binaries not found (Debian: postgresql)";
        /* The server refuses to run as root: run it as nobody then. */
        if (geteuid() == 0) {
            as_ = { find_in_path("runuser"), "-u", "nobody", "--" };
            if (as_[0].empty() && access("/usr/sbin/runuser", X_OK) == 0)
                as_[0] = "/usr/sbin/runuser";
            if (as_[0].empty())
                return "running as root and runuser not found";
            if (chmod(tmp_.c_str(), 0777) != 0)
                return "chmod failed";
        }
        ToolRun init = run(cmd({ bin_ + "/initdb", "-D", tmp_.file("data"), "-A",
                             "trust", "-U", "bz", "-E", "UTF8", "--locale=C",
                             "--no-sync" }));
        if (init.code() != 0)
            return "initdb failed: " + init.out + init.err;
        ToolRun up = run(cmd({ bin_ + "/pg_ctl", "-D", tmp_.file("data"), "-w",
                           "-t", "60", "-l", tmp_.file("log"), "-o",
                           "-k " + tmp_.path() +
                               " -c listen_addresses= -c fsync=off",
                           "start" }));
        if (up.code() != 0)
            return "pg_ctl start failed: " + up.err + read_file(tmp_.file("log"));
        running_ = true;
        return "";
    }

    ~Postgres()
    {
        if (running_)
            run(cmd({ bin_ + "/pg_ctl", "-D", tmp_.file("data"), "-m",
                      "immediate", "-w", "stop" }));
    }

    ToolRun psql(const std::string &db, const std::vector<std::string> &args,
             const std::string &in = "")
    {
        std::vector<std::string> argv = { psql_, "-X", "-q", "-h", tmp_.path(),
                                          "-U", "bz", "-d", db, "-v",
                                          "ON_ERROR_STOP=1" };
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, in);
    }

    /* The single value a query returns ("-At": no alignment, no headers). */
    std::string value(const std::string &db, const std::string &sql)
    {
        ToolRun r = psql(db, { "-At", "-c", sql });
        if (r.code() != 0)
            return "psql failed: " + r.err;
        if (!r.out.empty() && r.out.back() == '\n')
            r.out.pop_back();
        return r.out;
    }

private:
    std::vector<std::string> cmd(std::vector<std::string> argv)
    {
        argv.insert(argv.begin(), as_.begin(), as_.end());
        return argv;
    }

    TempDir tmp_{ "bzpg" };
    std::string bin_, psql_;
    std::vector<std::string> as_;
    bool running_ = false;
};

/* Every row of table as PostgreSQL holds it, in id order, canonical. */
std::string pg_rows(Postgres &pg, const std::string &db, const char *table)
{
    std::string v = pg.value(db, std::string("SELECT coalesce(json_agg(t "
                                             "ORDER BY id), '[]') FROM \"") +
                                     table + "\" t");
    std::string err;
    Json j = json_parse(v, &err);
    return j ? canon(j.get()) : "not JSON (" + err + "): " + v;
}

}  // namespace

TEST_F(ExportTest, PostgresLoadsEveryRowAndValue)
{
    Postgres pg;
    std::string why = pg.start();
    if (!why.empty())
        GTEST_SKIP() << why;
    {
        std::string err;
        Db db(open_db(data(), kSchema, &err));
        ASSERT_TRUE(db) << err;
        ASSERT_EQ(bz_delete_by_id(db.get(), "authors", 7), BZ_OK);
    }
    ToolRun ex = export_sql(data(), { "--dialect", "postgres" });
    ASSERT_EQ(ex.code(), 0) << ex.err;
    EXPECT_NE(ex.err.find("author_id = 7 refers to no row"), std::string::npos)
        << ex.err;

    ASSERT_EQ(pg.psql("postgres", { "-c", "CREATE DATABASE x" }).code(), 0);
    /* standard_conforming_strings off on the server: the script's own SET
     * must still make backslashes load as themselves. */
    ASSERT_EQ(pg.psql("postgres", { "-c", "ALTER DATABASE x SET "
                                          "standard_conforming_strings = off" })
                  .code(), 0);
    ToolRun load = pg.psql("x", { "-f", "-" }, ex.out);
    ASSERT_EQ(load.code(), 0) << load.err;
    EXPECT_EQ(load.err, "");

    std::vector<std::string> want = expected();
    for (size_t i = 0; i < sizeof kTables / sizeof *kTables; i++)
        EXPECT_EQ(differ(want[i], pg_rows(pg, "x", kTables[i])), "")
            << "table " << kTables[i];

    EXPECT_EQ(pg.value("x", "SELECT string_agg(column_name || ' ' || "
                            "data_type || ' ' || coalesce("
                            "character_maximum_length::text, '-') || ' ' || "
                            "is_nullable, ', ' ORDER BY ordinal_position) "
                            "FROM information_schema.columns WHERE "
                            "table_name = 'books'"),
              "id integer - NO, title character varying 40 NO, "
              "author_id integer - NO, year integer - YES, "
              "series_id integer - YES");
    /* Every FK declared; the one with a dangling reference NOT VALID. */
    EXPECT_EQ(pg.value("x", "SELECT string_agg(fk, ', ' ORDER BY fk) FROM "
                            "(SELECT conrelid::regclass || '.' || a.attname "
                            "|| '->' || confrelid::regclass || (CASE WHEN "
                            "convalidated THEN '' ELSE ' not valid' END) AS fk "
                            "FROM pg_constraint c JOIN pg_attribute a ON "
                            "a.attrelid = c.conrelid AND a.attnum = "
                            "c.conkey[1] WHERE contype = 'f') s"),
              "authors.mentor_id->authors, books.author_id->authors not valid, "
              "books.series_id->series, notes.book_id->books, "
              "series.first_book->books");
    /* New rows get ids past the largest, and the constraints hold. */
    EXPECT_EQ(pg.value("x", "INSERT INTO authors (name) VALUES ('new') "
                            "RETURNING id"), "5001");
    EXPECT_EQ(pg.value("x", "INSERT INTO books (title, author_id) VALUES "
                            "('t', 7) RETURNING id").rfind("psql failed", 0),
              0u);
}

/* INT(n) wider than 9 digits holds values past 32 bits: PostgreSQL needs
 * BIGINT for them, and both databases must get the values exactly. */
class ExportIntN : public ::testing::Test {
protected:
    static constexpr const char *kIntSchema =
        "h: id PK, small INT(3), big INT(18) NULL, plain INT NULL\n";
    void SetUp() override
    {
        std::string err;
        Db db(open_db(tmp_.file("d"), kIntSchema, &err));
        ASSERT_TRUE(db) << err;
        ASSERT_TRUE(insert(db.get(), "h", { { "small", -99 },
                                            { "big", 999999999999999999LL },
                                            { "plain", 999999999 } }, &err))
            << err;
        ASSERT_TRUE(insert(db.get(), "h", { { "small", 999 },
                                            { "big", -99999999999999999LL } },
                           &err))
            << err;
        ASSERT_TRUE(insert(db.get(), "h", { { "small", 0 }, { "big", nullptr } },
                           &err))
            << err;
        want_ = api_rows(db.get(), "h");
    }
    TempDir tmp_{ "bzexport" };
    std::string want_;
};

TEST_F(ExportIntN, WideColumnsAreBigintAndValuesLoadIntoSqlite)
{
    ToolRun ex = export_sql(tmp_.file("d"), {});
    ASSERT_EQ(ex.code(), 0) << ex.err;
    EXPECT_NE(ex.out.find("\"small\" INTEGER NOT NULL,"), std::string::npos)
        << ex.out;
    EXPECT_NE(ex.out.find("\"big\" BIGINT,"), std::string::npos) << ex.out;
    EXPECT_NE(ex.out.find("\"plain\" INTEGER\n"), std::string::npos) << ex.out;
    ASSERT_FALSE(sqlite3_cli().empty())
        << "the sqlite3 command-line shell is needed (Debian: sqlite3)";
    std::string db_path = tmp_.file("out.sqlite");
    ASSERT_EQ(sqlite_load(db_path, ex.out), "");
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr), SQLITE_OK);
    EXPECT_EQ(differ(want_, sqlite_rows(db, "h")), "");
    sqlite3_close(db);
}

TEST_F(ExportIntN, PostgresLoadsWideValues)
{
    Postgres pg;
    std::string why = pg.start();
    if (!why.empty())
        GTEST_SKIP() << why;
    ToolRun ex = export_sql(tmp_.file("d"), { "--dialect", "postgres" });
    ASSERT_EQ(ex.code(), 0) << ex.err;
    ASSERT_EQ(pg.psql("postgres", { "-c", "CREATE DATABASE x" }).code(), 0);
    ToolRun load = pg.psql("x", { "-f", "-" }, ex.out);
    ASSERT_EQ(load.code(), 0) << load.err;
    EXPECT_EQ(differ(want_, pg_rows(pg, "x", "h")), "");
    EXPECT_EQ(pg.value("x", "SELECT string_agg(column_name || ' ' || data_type, "
                            "', ' ORDER BY ordinal_position) FROM "
                            "information_schema.columns WHERE table_name = 'h'"),
              "id integer, small integer, big bigint, plain integer");
}
