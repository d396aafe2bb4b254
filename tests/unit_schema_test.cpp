/*
 * unit_schema_test.cpp - the schema text format, C-struct schemas, names
 * that could escape the directory or clash with file names, the recorded
 * schema.
 */
#include "unit_fixture.h"

using namespace bzt;

namespace {

std::string canonical(const bz_schema *s)
{
    CStr t(bz_schema_text(s));
    return t ? std::string(t.get()) : "(bz_schema_text returned NULL)";
}

int parse_rc(const std::string &text, std::string *msg = nullptr)
{
    bz_schema *s = nullptr;
    int rc = bz_schema_parse(text.data(), text.size(), &s);
    if (msg)
        *msg = bz_errmsg();
    bz_schema_free(s);
    return rc;
}

TEST(SchemaText, ParsesTheTestSchema)
{
    std::string err;
    Schema s(parse_schema(kTestSchema, &err));
    ASSERT_TRUE(s) << err;
    ASSERT_EQ(9u, bz_schema_ntables(s.get()));
    const char *names[] = {"a", "b", "b2", "c", "d", "e", "f", "f2", "g"};
    for (size_t t = 0; t < 9; t++)
        EXPECT_STREQ(names[t], bz_schema_table_name(s.get(), t));
    EXPECT_EQ(2u, bz_schema_nfields(s.get(), 0));
    EXPECT_EQ(3u, bz_schema_nfields(s.get(), 2));
    EXPECT_EQ(4u, bz_schema_nfields(s.get(), 8));

    bz_field_def f;
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 0, &f));
    EXPECT_STREQ("id", f.name);
    EXPECT_EQ(BZ_PK, f.kind);
    EXPECT_EQ(0, f.nullable);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 1, &f));
    EXPECT_STREQ("text", f.name);
    EXPECT_EQ(BZ_CHAR, f.kind);
    EXPECT_EQ(5, f.size);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 1, 2, &f));
    EXPECT_STREQ("a_id", f.name);
    EXPECT_EQ(BZ_FK, f.kind);
    EXPECT_STREQ("a", f.ref);
    EXPECT_EQ(0, f.nullable);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 2, 2, &f));
    EXPECT_EQ(BZ_FK, f.kind);
    EXPECT_NE(0, f.nullable);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 4, 2, &f));
    EXPECT_STREQ("int", f.name);
    EXPECT_EQ(BZ_INT, f.kind);
    EXPECT_NE(0, f.nullable);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 7, 1, &f));
    EXPECT_EQ(BZ_TEXT, f.kind);
    EXPECT_NE(0, f.nullable);
    EXPECT_NE(BZ_OK, bz_schema_field(s.get(), 0, 2, &f));
    EXPECT_NE(BZ_OK, bz_schema_field(s.get(), 9, 0, &f));
}

TEST(SchemaText, CanonicalTextRoundTrips)
{
    Schema s(parse_schema(kTestSchema));
    ASSERT_TRUE(s);
    std::string text = canonical(s.get());
    std::string err;
    Schema again(parse_schema(text, &err));
    ASSERT_TRUE(again) << "canonical text does not parse: " << err << "\n" << text;
    EXPECT_EQ(text, canonical(again.get()));
}

TEST(SchemaText, CommentsAndBlankLines)
{
    std::string err;
    Schema s(parse_schema("# header\n\n   \nt: id PK, n INT NULL\n# between\n\nu: id PK\n", &err));
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(2u, bz_schema_ntables(s.get()));
    Schema plain(parse_schema("t: id PK, n INT NULL\nu: id PK\n"));
    ASSERT_TRUE(plain);
    EXPECT_EQ(canonical(plain.get()), canonical(s.get()));
    /* The last line needs no newline. */
    Schema nonl(parse_schema("t: id PK, n INT NULL\nu: id PK"));
    ASSERT_TRUE(nonl);
    EXPECT_EQ(canonical(plain.get()), canonical(nonl.get()));
}

TEST(SchemaText, DifferentSchemasHaveDifferentTexts)
{
    Schema a(parse_schema("t: id PK, n INT\n")), b(parse_schema("t: id PK, n INT NULL\n")),
        c(parse_schema("t: id PK, n CHAR(4)\n")), d(parse_schema("t: id PK, n CHAR(5)\n"));
    ASSERT_TRUE(a && b && c && d);
    EXPECT_NE(canonical(a.get()), canonical(b.get()));
    EXPECT_NE(canonical(c.get()), canonical(d.get()));
    EXPECT_NE(canonical(a.get()), canonical(c.get()));
}

struct BadText {
    const char *why;
    std::string text;
};

TEST(SchemaText, RejectsBadText)
{
    const std::vector<BadText> cases = {
        {"bad type", "t: id PK, x BLOB\n"},
        {"missing colon", "t id PK, x INT\n"},
        {"missing type", "t: id PK, x\n"},
        {"missing field name", "t: id PK, INT\n"},
        {"CHAR(0)", "t: id PK, x CHAR(0)\n"},
        {"CHAR(x)", "t: id PK, x CHAR(x)\n"},
        {"CHAR(-1)", "t: id PK, x CHAR(-1)\n"},
        {"CHAR(65536)", "t: id PK, x CHAR(65536)\n"},
        {"CHAR without size", "t: id PK, x CHAR\n"},
        {"CHAR unclosed", "t: id PK, x CHAR(5\n"},
        {"FK to unknown table", "t: id PK, x FK(nosuch)\n"},
        {"FK without table", "t: id PK, x FK\n"},
        {"duplicate table", "t: id PK\nt: id PK\n"},
        {"duplicate field", "t: id PK, x INT, x INT\n"},
        {"no fields", "t:\n"},
        {"no PK", "t: x INT\n"},
        {"PK not named id", "t: key PK\n"},
        {"two PKs", "t: id PK, id2 PK\n"},
        {"id that is not a PK", "t: id INT\n"},
        {"nullable PK", "t: id PK NULL\n"},
        {"table name with /", "a/b: id PK\n"},
        {"field name with /", "t: id PK, a/b INT\n"},
        {"table name ..", "..: id PK\n"},
        {"table name .", ".: id PK\n"},
        {"table name ../t", "../t: id PK\n"},
        {"table name /tmp/t", "/tmp/t: id PK\n"},
        {"empty table name", ": id PK\n"},
        {"table name with a dot", "x.text: id PK\n"},
        {"table name x.dat", "x.dat: id PK\n"},
        {"table name with a dash", "t-x: id PK\n"},
        {"table name with a space", "my t: id PK\n"},
        {"table name starting with a digit", "1t: id PK\n"},
        {"non-ASCII table name", "t\xc3\xa4: id PK\n"},
        {"field name starting with a digit", "t: id PK, 1x INT\n"},
        {"table name too long", std::string(300, 't') + ": id PK\n"},
        {"field name too long", "t: id PK, " + std::string(300, 'f') + " INT\n"},
        {"clashes with an index file", "x__id: id PK\n"},
        {"clashes with a seqnum file", "x__seqnum: id PK\n"},
        {"clashes with a free file", "x__free: id PK\n"},
        {"clashes with x's free file", "x: id PK\nx__free: id PK\n"},
        {"clashes with x's seqnum file", "x: id PK\nx__seqnum: id PK\n"},
    };
    for (const auto &c : cases) {
        std::string msg;
        EXPECT_EQ(BZ_ESCHEMA, parse_rc(c.text, &msg)) << c.why << ": \"" << escape_bytes(c.text)
                                                      << "\"";
        EXPECT_STRNE("", msg.c_str()) << c.why << ": no message";
    }
}

TEST(SchemaText, ErrorNamesTheLine)
{
    std::string msg;
    ASSERT_EQ(BZ_ESCHEMA, parse_rc("a: id PK\n# comment\nb: id PK, x BLOB\n", &msg));
    EXPECT_NE(std::string::npos, msg.find('3')) << "message should name line 3: " << msg;
}

TEST(SchemaText, LimitsThatAreValid)
{
    EXPECT_EQ(BZ_OK, parse_rc("t: id PK, x CHAR(1)\n"));
    EXPECT_EQ(BZ_OK, parse_rc("t: id PK, x CHAR(65535)\n"));
    EXPECT_EQ(BZ_OK, parse_rc("_t9: id PK, _x_1 INT NULL, Y TEXT\n"));
    EXPECT_EQ(BZ_OK, parse_rc("t: id PK, n INT, s CHAR(3) NULL, b TEXT NULL, r FK(t) NULL\n"));
}

/* The same tables as C structures. */
const bz_field_def kA[] = {{"id", BZ_PK, 0, nullptr, 0}, {"text", BZ_CHAR, 5, nullptr, 0}};
const bz_field_def kB[] = {{"id", BZ_PK, 0, nullptr, 0},
                           {"text", BZ_CHAR, 5, nullptr, 0},
                           {"a_id", BZ_FK, 0, "a", 0}};
const bz_field_def kB2[] = {{"id", BZ_PK, 0, nullptr, 0},
                            {"text", BZ_CHAR, 5, nullptr, 0},
                            {"a_id", BZ_FK, 0, "a", 1}};
const bz_field_def kC[] = {{"id", BZ_PK, 0, nullptr, 0},
                           {"varchar", BZ_CHAR, 5, nullptr, 0},
                           {"int", BZ_INT, 0, nullptr, 0}};
const bz_field_def kD[] = {{"id", BZ_PK, 0, nullptr, 0},
                           {"varchar", BZ_CHAR, 5, nullptr, 1},
                           {"int", BZ_INT, 0, nullptr, 1}};
const bz_field_def kE[] = {{"id", BZ_PK, 0, nullptr, 0}, {"text", BZ_CHAR, 20, nullptr, 0}};
const bz_field_def kF[] = {{"id", BZ_PK, 0, nullptr, 0}, {"text", BZ_TEXT, 0, nullptr, 0}};
const bz_field_def kF2[] = {{"id", BZ_PK, 0, nullptr, 0}, {"text", BZ_TEXT, 0, nullptr, 1}};
const bz_field_def kG[] = {{"id", BZ_PK, 0, nullptr, 0},
                           {"text1", BZ_TEXT, 0, nullptr, 0},
                           {"text2", BZ_TEXT, 0, nullptr, 1},
                           {"text3", BZ_TEXT, 0, nullptr, 0}};
#define TDEF(name, arr) {name, arr, sizeof arr / sizeof arr[0]}
const bz_table_def kTables[] = {TDEF("a", kA),   TDEF("b", kB), TDEF("b2", kB2),
                                TDEF("c", kC),   TDEF("d", kD), TDEF("e", kE),
                                TDEF("f", kF),   TDEF("f2", kF2), TDEF("g", kG)};

TEST(SchemaDefs, SameCanonicalTextAsParsedText)
{
    bz_schema *raw = nullptr;
    ASSERT_BZ_OK(bz_schema_from_defs(kTables, 9, &raw));
    Schema defs(raw);
    Schema parsed(parse_schema(kTestSchema));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(canonical(parsed.get()), canonical(defs.get()));
}

TEST(SchemaDefs, DefsSchemaOpensTheSameDirectory)
{
    TempDir dir("bzdefs");
    {
        std::string err;
        Db db(open_db(dir.path(), kTestSchema, &err));
        ASSERT_TRUE(db) << err;
    }
    bz_schema *raw = nullptr;
    ASSERT_BZ_OK(bz_schema_from_defs(kTables, 9, &raw));
    Schema defs(raw);
    bz_db *d = nullptr;
    int rc = bz_open(dir.c_str(), defs.get(), nullptr, &d);
    EXPECT_EQ(BZ_OK, rc) << last_error(rc);
    bz_close(d);
}

struct BadDefs {
    const char *why;
    std::vector<bz_field_def> fields;
    const char *table;
    const char *expect_in_message;
};

TEST(SchemaDefs, RejectsBadDefinitions)
{
    const bz_field_def id = {"id", BZ_PK, 0, nullptr, 0};
    const std::vector<BadDefs> cases = {
        {"table ../evil", {id}, "../evil", nullptr},
        {"table a/b", {id}, "a/b", nullptr},
        {"table ..", {id}, "..", nullptr},
        {"empty table name", {id}, "", nullptr},
        {"table x__free", {id}, "x__free", nullptr},
        {"table x.text", {id}, "x.text", nullptr},
        {"field ../f", {id, {"../f", BZ_INT, 0, nullptr, 0}}, "t", "t"},
        {"empty field name", {id, {"", BZ_INT, 0, nullptr, 0}}, "t", "t"},
        {"CHAR(0)", {id, {"c", BZ_CHAR, 0, nullptr, 0}}, "t", "c"},
        {"CHAR(65536)", {id, {"c", BZ_CHAR, 65536, nullptr, 0}}, "t", "c"},
        {"FK to unknown table", {id, {"r", BZ_FK, 0, "nosuch", 0}}, "t", "r"},
        {"FK without ref", {id, {"r", BZ_FK, 0, nullptr, 0}}, "t", "r"},
        {"duplicate field", {id, {"x", BZ_INT, 0, nullptr, 0}, {"x", BZ_INT, 0, nullptr, 0}},
         "t", "x"},
        {"nullable PK", {{"id", BZ_PK, 0, nullptr, 1}}, "t", "t"},
        {"no PK", {{"x", BZ_INT, 0, nullptr, 0}}, "t", "t"},
        {"unknown kind", {id, {"x", static_cast<bz_kind>(99), 0, nullptr, 0}}, "t", "x"},
        {"no fields", {}, "t", "t"},
    };
    for (const auto &c : cases) {
        bz_table_def t = {c.table, c.fields.data(), c.fields.size()};
        bz_schema *s = nullptr;
        int rc = bz_schema_from_defs(&t, 1, &s);
        std::string msg = bz_errmsg();
        EXPECT_EQ(BZ_ESCHEMA, rc) << c.why;
        bz_schema_free(s);
        if (c.expect_in_message) {
            EXPECT_NE(std::string::npos, msg.find(c.expect_in_message))
                << c.why << ": message should name '" << c.expect_in_message << "': " << msg;
        }
    }
    /* Duplicate tables. */
    bz_table_def two[] = {{"t", &id, 1}, {"t", &id, 1}};
    bz_schema *s = nullptr;
    EXPECT_EQ(BZ_ESCHEMA, bz_schema_from_defs(two, 2, &s));
    bz_schema_free(s);
}

TEST(SchemaDefs, NamesCannotEscapeTheDirectory)
{
    TempDir parent("bzescape");
    std::string data = parent.file("data");
    const bz_field_def id = {"id", BZ_PK, 0, nullptr, 0};
    for (const char *name : {"../evil", "../../evil", "/tmp/evil", "sub/evil", ".."}) {
        bz_table_def t = {name, &id, 1};
        bz_schema *s = nullptr;
        int rc = bz_schema_from_defs(&t, 1, &s);
        EXPECT_EQ(BZ_ESCHEMA, rc) << name;
        if (rc == BZ_OK) {
            bz_db *d = nullptr;
            if (bz_open(data.c_str(), s, nullptr, &d) == BZ_OK)
                bz_close(d);
        }
        bz_schema_free(s);
    }
    EXPECT_FALSE(file_exists(parent.file("evil.dat")));
    EXPECT_FALSE(file_exists(parent.file("data/sub")));
}

class RecordedSchema : public ::testing::Test {
protected:
    int open_with(const std::string &text)
    {
        Schema s(parse_schema(text));
        if (!s)
            return -1;
        bz_db *d = nullptr;
        int rc = bz_open(dir_.c_str(), s.get(), nullptr, &d);
        msg_ = bz_errmsg();
        bz_close(d);
        return rc;
    }
    TempDir dir_{"bzrecorded"};
    std::string msg_;
};

TEST_F(RecordedSchema, IsWrittenAndConflictsAreRefused)
{
    ASSERT_EQ(BZ_OK, open_with("t: id PK, x INT\n")) << msg_;
    EXPECT_TRUE(file_exists(dir_.file(".schema")));
    auto files = snapshot_dir(dir_.path(), false);

    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK, x CHAR(9)\n")) << msg_;
    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK, x INT NULL\n")) << msg_;
    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK, y INT\n")) << msg_;
    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK, x INT, y INT\n")) << msg_;
    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK\n")) << msg_;
    EXPECT_EQ("", diff_snapshots(files, snapshot_dir(dir_.path(), false)))
        << "a refused open changed files";

    EXPECT_EQ(BZ_OK, open_with("t: id PK, x INT\n")) << msg_;
}

TEST_F(RecordedSchema, DamagedRecordIsRefused)
{
    ASSERT_EQ(BZ_OK, open_with("t: id PK, x INT\n")) << msg_;
    ASSERT_TRUE(write_file(dir_.file(".schema"), "t: id PK, x BLOB(\n"));
    EXPECT_EQ(BZ_ESCHEMA, open_with("t: id PK, x INT\n")) << msg_;
    bz_db *d = nullptr;
    int rc = bz_open_recorded(dir_.c_str(), nullptr, &d);
    bz_close(d);
    EXPECT_EQ(BZ_ESCHEMA, rc) << last_error(rc);
}

TEST_F(RecordedSchema, ANewTableMayBeAdded)
{
    ASSERT_EQ(BZ_OK, open_with("t: id PK, x INT\n")) << msg_;
    EXPECT_EQ(BZ_OK, open_with("t: id PK, x INT\nu: id PK, y TEXT\n")) << msg_;
    EXPECT_TRUE(file_exists(dir_.file("u.text.dat")));
}

} // namespace
