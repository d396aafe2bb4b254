/*
 * unit_format_test.cpp - the bytes on disk (BRIEF section 3): every field
 * type and NULL, seqnum, index slots and gaps, the free stack, TEXT records,
 * delete, update, truncate, reopen.
 */
#include <unistd.h>

#include "unit_fixture.h"

using namespace bzt;

namespace {

std::string stars(size_t row_size) { return std::string(row_size - 1, '*') + "\n"; }
std::string hashes(size_t n) { return std::string(n, '#'); }

class Format : public DbTest {};

TEST_F(Format, OpenCreatesEveryFile)
{
    const char *tables[] = {"a", "b", "b2", "c", "d", "e", "f", "f2", "g"};
    for (const char *t : tables) {
        std::string T = t;
        EXPECT_EQ("", file(T + ".dat")) << T;
        EXPECT_EQ("0", file(T + "__seqnum.dat")) << T;
        EXPECT_EQ("", file(T + "__id.idx.dat")) << T;
        EXPECT_EQ("", file(T + "__free.dat")) << T;
        bool has_text = T == "f" || T == "f2" || T == "g";
        EXPECT_EQ(has_text, file_exists(dir_.file(T + ".text.dat"))) << T;
        if (has_text) {
            EXPECT_EQ("", file(T + ".text.dat")) << T;
        }
    }
    EXPECT_TRUE(file_exists(dir_.file(".lock")));
    /* Nothing else that looks like a table file. */
    EXPECT_EQ(9u * 4 + 3, snapshot_dir(dir_.path(), true).size());
}

TEST_F(Format, OpenCreatesTheDirectory)
{
    std::string sub = dir_.file("nested");
    std::string err;
    Db other(open_db(sub, "t: id PK, n INT\n", &err));
    ASSERT_TRUE(other) << err;
    EXPECT_EQ("0", read_file(sub + "/t__seqnum.dat"));
    EXPECT_TRUE(file_exists(sub + "/t.dat"));
    EXPECT_FALSE(file_exists(sub + "/t.text.dat"));
}

TEST_F(Format, OpenWithoutCreateRefusesMissingDirectory)
{
    std::string sub = dir_.file("absent");
    Schema s(parse_schema("t: id PK\n"));
    ASSERT_TRUE(s);
    bz_options *o = bz_options_new();
    ASSERT_NE(nullptr, o);
    EXPECT_BZ_OK(bz_options_set_create(o, 0));
    bz_db *d = nullptr;
    int rc = bz_open(sub.c_str(), s.get(), o, &d);
    bz_options_free(o);
    EXPECT_NE(BZ_OK, rc);
    if (rc == BZ_OK)
        bz_close(d);
    EXPECT_FALSE(file_exists(sub));
}

TEST_F(Format, IntAndCharFields)
{
    EXPECT_EQ(1, add("c", {{"varchar", "ab"}, {"int", 42}}));
    EXPECT_EQ(std::string("1        ab   42       \n"), file("c.dat"));
    EXPECT_EQ("1", file("c__seqnum.dat"));
    EXPECT_EQ("0        ", file("c__id.idx.dat"));
    EXPECT_EQ("", file("c__free.dat"));

    EXPECT_EQ(2, add("c", {{"varchar", "abcde"}, {"int", -99999999}}));
    EXPECT_EQ(3, add("c", {{"varchar", ""}, {"int", 999999999}}));
    EXPECT_EQ(4, add("c", {{"varchar", " e"}, {"int", 0}}));
    EXPECT_EQ(std::string("1        ab   42       \n"
                          "2        abcde-99999999\n"
                          "3             999999999\n"
                          "4         e   0        \n"),
              file("c.dat"));
    EXPECT_EQ("4", file("c__seqnum.dat"));
    EXPECT_EQ("0        1        2        3        ", file("c__id.idx.dat"));
    EXPECT_EQ(R"([{"id":1,"int":42,"varchar":"ab"},)"
              R"({"id":2,"int":-99999999,"varchar":"abcde"},)"
              R"({"id":3,"int":999999999,"varchar":""},)"
              R"({"id":4,"int":0,"varchar":" e"}])",
              all_json("c"));
}

TEST_F(Format, RowEntriesHaveSchemaOrderAndTypes)
{
    bz_row *r = nullptr;
    ASSERT_BZ_OK(insert("d", {{"int", 7}, {"varchar", "x"}}, &r));
    Row row(r);
    ASSERT_TRUE(row);
    ASSERT_EQ(3u, bz_row_len(r));
    EXPECT_STREQ("id", bz_row_name(r, 0));
    EXPECT_STREQ("varchar", bz_row_name(r, 1));
    EXPECT_STREQ("int", bz_row_name(r, 2));
    EXPECT_EQ(BZ_T_INT, bz_row_type(r, 0));
    EXPECT_EQ(BZ_T_STR, bz_row_type(r, 1));
    EXPECT_EQ(BZ_T_INT, bz_row_type(r, 2));
    EXPECT_EQ(1, bz_row_int(r, 0));
    EXPECT_EQ(1, bz_row_id(r));
    size_t len = 99;
    EXPECT_STREQ("x", bz_row_str(r, 1, &len));
    EXPECT_EQ(1u, len);
    EXPECT_EQ(7, bz_row_int(r, 2));
    EXPECT_EQ(2, bz_row_find(r, "int"));
    EXPECT_EQ(-1, bz_row_find(r, "nosuch"));
}

TEST_F(Format, NullIntIsHashes)
{
    EXPECT_EQ(1, add("d", {{"varchar", "x"}}));
    EXPECT_EQ(2, add("d", {{"varchar", "y"}, {"int", nullptr}}));
    EXPECT_EQ(std::string("1        x    #########\n"
                          "2        y    #########\n"),
              file("d.dat"));
    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(db(), "d", 1, nullptr, &r));
    Row row(r);
    ASSERT_TRUE(row);
    EXPECT_EQ(BZ_T_NULL, bz_row_type(r, 2));
    EXPECT_EQ(R"({"id":2,"int":null,"varchar":"y"})", id_json("d", 2));
}

TEST_F(Format, NullCharIsNulBytes)
{
    EXPECT_EQ(1, add("d", {{"int", 5}}));
    EXPECT_EQ(2, add("d", {{"varchar", nullptr}, {"int", nullptr}}));
    EXPECT_EQ(std::string("1        \0\0\0\0\0" "5        \n"
                          "2        \0\0\0\0\0" "#########\n", 48),
              file("d.dat"));
    EXPECT_EQ(R"({"id":1,"int":5,"varchar":null})", id_json("d", 1));
    EXPECT_EQ(R"({"id":2,"int":null,"varchar":null})", id_json("d", 2));
}

TEST_F(Format, CharCountsUtf8BytesAndStripsTrailingSpace)
{
    EXPECT_EQ(1, add("a", {{"text", "\xc3\x9c" "ber"}})); /* Über: 5 bytes */
    EXPECT_EQ(2, add("a", {{"text", "\xc3\xa9t\xc3\xa9"}})); /* été: 5 bytes */
    EXPECT_EQ(3, add("a", {{"text", "ab  "}}));
    EXPECT_EQ(std::string("1        \xc3\x9c" "ber\n"
                          "2        \xc3\xa9t\xc3\xa9\n"
                          "3        ab   \n"),
              file("a.dat"));
    EXPECT_EQ("{\"id\":1,\"text\":\"\xc3\x9c" "ber\"}", id_json("a", 1));
    /* Reading strips trailing whitespace, as 0.0.7 does. */
    EXPECT_EQ(R"({"id":3,"text":"ab"})", id_json("a", 3));
}

TEST_F(Format, ForeignKeyField)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_EQ(1, add("b", {{"text", "y"}, {"a_id", 1}}));
    EXPECT_EQ(1, add("b2", {{"text", "z"}, {"a_id", nullptr}}));
    EXPECT_EQ(2, add("b2", {{"text", "w"}, {"a_id", 1}}));
    EXPECT_EQ("1        y    1        \n", file("b.dat"));
    EXPECT_EQ("1        z    #########\n"
              "2        w    1        \n",
              file("b2.dat"));
}

TEST_F(Format, TextRecords)
{
    EXPECT_EQ(1, add("f", {{"text", "hello"}}));
    EXPECT_EQ("5        hello", file("f.text.dat"));
    EXPECT_EQ("1        0        \n", file("f.dat"));
    EXPECT_EQ(2, add("f", {{"text", "ab"}}));
    EXPECT_EQ("5        hello2        ab", file("f.text.dat"));
    EXPECT_EQ("1        0        \n"
              "2        14       \n",
              file("f.dat"));
    /* Lengths are UTF-8 bytes; the empty string is a record of length 0. */
    EXPECT_EQ(3, add("f", {{"text", "\xc3\xa9t\xc3\xa9"}}));
    EXPECT_EQ(4, add("f", {{"text", ""}}));
    EXPECT_EQ("5        hello2        ab5        \xc3\xa9t\xc3\xa9"
              "0        ",
              file("f.text.dat"));
    EXPECT_EQ("3        25       \n", file("f.dat").substr(38, 19));
    EXPECT_EQ("4        39       \n", file("f.dat").substr(57, 19));
    EXPECT_EQ("{\"id\":3,\"text\":\"\xc3\xa9t\xc3\xa9\"}", id_json("f", 3));
    EXPECT_EQ(R"({"id":4,"text":""})", id_json("f", 4));
    /* A TEXT value keeps trailing whitespace and newlines. */
    EXPECT_EQ(5, add("f", {{"text", "a b \n"}}));
    EXPECT_EQ("{\"id\":5,\"text\":\"a b \\n\"}", id_json("f", 5));
}

TEST_F(Format, NullTextIsHashesAndWritesNoRecord)
{
    EXPECT_EQ(1, add("f2", {{"text", nullptr}}));
    EXPECT_EQ(2, add("f2", {}));
    EXPECT_EQ("1        #########\n"
              "2        #########\n",
              file("f2.dat"));
    EXPECT_EQ("", file("f2.text.dat"));
    EXPECT_EQ(R"({"id":1,"text":null})", id_json("f2", 1));
}

TEST_F(Format, SeveralTextFieldsAppendInSchemaOrder)
{
    EXPECT_EQ(1, add("g", {{"text3", "b"}, {"text1", "a"}, {"text2", nullptr}}));
    EXPECT_EQ("1        a1        b", file("g.text.dat"));
    EXPECT_EQ("1        0        #########10       \n", file("g.dat"));
}

TEST_F(Format, SeqnumCountsAutoIdsOnly)
{
    EXPECT_EQ("0", file("a__seqnum.dat"));
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_EQ("1", file("a__seqnum.dat"));
    EXPECT_EQ(2, add("a", {{"text", "y"}}));
    EXPECT_EQ("2", file("a__seqnum.dat"));
    /* An explicit id does not move seqnum. */
    EXPECT_EQ(10, add("a", {{"text", "z"}, {"id", 10}}));
    EXPECT_EQ("2", file("a__seqnum.dat"));
    EXPECT_EQ(3, add("a", {{"text", "w"}}));
    EXPECT_EQ("3", file("a__seqnum.dat"));
}

/* An explicit insert of seqnum+1 used to make every later auto insert fail
 * ("already exists") for good, as failed inserts change nothing. */
TEST_F(Format, AutoIdsSkipIdsTakenExplicitly)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_EQ(2, add("a", {{"text", "y"}, {"id", 2}}));
    EXPECT_EQ(3, add("a", {{"text", "z"}, {"id", 3}}));
    EXPECT_EQ(5, add("a", {{"text", "v"}, {"id", 5}}));
    EXPECT_EQ("1", file("a__seqnum.dat"));
    /* The smallest free id above seqnum, and seqnum follows it. */
    EXPECT_EQ(4, add("a", {{"text", "w"}}));
    EXPECT_EQ("4", file("a__seqnum.dat"));
    EXPECT_EQ(6, add("a", {{"text", "u"}}));
    EXPECT_EQ("6", file("a__seqnum.dat"));
    /* A deleted id below seqnum is not reused; one above it is. */
    EXPECT_BZ_OK(bz_delete_by_id(db(), "a", 2));
    EXPECT_EQ(8, add("a", {{"text", "t"}, {"id", 8}}));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "a", 8));
    EXPECT_EQ(7, add("a", {{"text", "s"}}));
    EXPECT_EQ(8, add("a", {{"text", "r"}}));
    EXPECT_EQ("8", file("a__seqnum.dat"));
    EXPECT_EQ((Ids{1, 7, 3, 5, 4, 6, 8}), all_ids("a"));
}

/* The walk over taken ids reads the index as it stands, also after the
 * files were written by someone else (0.0.7, an editor). */
TEST_F(Format, AutoIdsSkipTakenIdsAfterReopen)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}, {"id", 1}}));
    EXPECT_EQ(2, add("a", {{"text", "y"}, {"id", 2}}));
    reopen();
    EXPECT_EQ("0", file("a__seqnum.dat"));
    EXPECT_EQ(3, add("a", {{"text", "z"}}));
    EXPECT_EQ("3", file("a__seqnum.dat"));
}

TEST_F(Format, IndexGapIsFilledWithHashes)
{
    EXPECT_EQ(3, add("a", {{"text", "x"}, {"id", 3}}));
    EXPECT_EQ(hashes(18) + "0        ", file("a__id.idx.dat"));
    EXPECT_EQ("0", file("a__seqnum.dat"));
    EXPECT_EQ(1, add("a", {{"text", "y"}}));
    EXPECT_EQ("1        " + hashes(9) + "0        ", file("a__id.idx.dat"));
    EXPECT_EQ(2, add("a", {{"text", "z"}}));
    EXPECT_EQ("1        2        0        ", file("a__id.idx.dat"));
    EXPECT_EQ("3        x    \n"
              "1        y    \n"
              "2        z    \n",
              file("a.dat"));
    EXPECT_EQ((Ids{3, 1, 2}), all_ids("a"));
}

TEST_F(Format, DeleteStarsTheRowAndPushesTheFreeStack)
{
    EXPECT_EQ(1, add("c", {{"varchar", "a"}, {"int", 1}}));
    EXPECT_EQ(2, add("c", {{"varchar", "b"}, {"int", 2}}));
    EXPECT_EQ(3, add("c", {{"varchar", "c"}, {"int", 3}}));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "c", 2));
    EXPECT_EQ("1        a    1        \n" + stars(24) + "3        c    3        \n",
              file("c.dat"));
    EXPECT_EQ("0        " + kNull9 + "2        ", file("c__id.idx.dat"));
    EXPECT_EQ("1        ", file("c__free.dat"));
    EXPECT_EQ("3", file("c__seqnum.dat"));
    EXPECT_EQ("null", id_json("c", 2));

    EXPECT_BZ_OK(bz_delete_by_id(db(), "c", 1));
    EXPECT_EQ("1        0        ", file("c__free.dat"));
    EXPECT_EQ(kNull9 + kNull9 + "2        ", file("c__id.idx.dat"));

    /* Inserts pop the top of the stack (the last freed row) first. */
    EXPECT_EQ(4, add("c", {{"varchar", "d"}, {"int", 4}}));
    EXPECT_EQ("1        ", file("c__free.dat"));
    EXPECT_EQ("4        d    4        \n" + stars(24) + "3        c    3        \n",
              file("c.dat"));
    EXPECT_EQ(kNull9 + kNull9 + "2        " + "0        ", file("c__id.idx.dat"));
    EXPECT_EQ(5, add("c", {{"varchar", "e"}, {"int", 5}}));
    EXPECT_EQ("", file("c__free.dat"));
    EXPECT_EQ("4        d    4        \n"
              "5        e    5        \n"
              "3        c    3        \n",
              file("c.dat"));
    EXPECT_EQ(6, add("c", {{"varchar", "f"}, {"int", 6}}));
    EXPECT_EQ(4u * 24, file("c.dat").size());
    EXPECT_EQ((Ids{4, 5, 3, 6}), all_ids("c"));
}

TEST_F(Format, DeleteOverwritesTextRecords)
{
    EXPECT_EQ(1, add("f", {{"text", "hello"}}));
    EXPECT_EQ(2, add("f", {{"text", "ab"}}));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "f", 1));
    EXPECT_EQ(hashes(14) + "2        ab", file("f.text.dat"));
    EXPECT_EQ(stars(19) + "2        14       \n", file("f.dat"));
    EXPECT_EQ("0        ", file("f__free.dat"));
}

TEST_F(Format, UpdateKeepsRowNumber)
{
    EXPECT_EQ(1, add("c", {{"varchar", "ab"}, {"int", 1}}));
    EXPECT_EQ(2, add("c", {{"varchar", "cd"}, {"int", 2}}));
    bz_row *r = nullptr;
    ASSERT_BZ_OK(update("c", 1, {{"int", 7}}, &r));
    Row row(r);
    ASSERT_TRUE(row);
    Json js(row_to_json(r));
    EXPECT_EQ(R"({"id":1,"int":7,"varchar":"ab"})", json_dump(js.get()));
    EXPECT_EQ("1        ab   7        \n"
              "2        cd   2        \n",
              file("c.dat"));
    EXPECT_EQ("0        1        ", file("c__id.idx.dat"));
    EXPECT_EQ("", file("c__free.dat"));
    EXPECT_EQ("2", file("c__seqnum.dat"));
    EXPECT_EQ((Ids{1, 2}), all_ids("c"));
}

TEST_F(Format, UpdateAppendsTextAnewAndErasesTheOld)
{
    EXPECT_EQ(1, add("f", {{"text", "hello"}}));
    EXPECT_EQ(2, add("f", {{"text", "xy"}}));
    ASSERT_BZ_OK(update("f", 1, {{"text", "world"}}));
    EXPECT_EQ(hashes(14) + "2        xy" + "5        world", file("f.text.dat"));
    EXPECT_EQ("1        25       \n"
              "2        14       \n",
              file("f.dat"));
    EXPECT_EQ("", file("f__free.dat"));
    EXPECT_EQ(R"({"id":1,"text":"world"})", id_json("f", 1));
}

TEST_F(Format, UpdateOfAnotherFieldStillRewritesText)
{
    EXPECT_EQ(1, add("g", {{"text1", "a"}, {"text2", nullptr}, {"text3", "b"}}));
    ASSERT_BZ_OK(update("g", 1, {{"text2", "zz"}}));
    EXPECT_EQ(hashes(20) + "1        a" + "2        zz" + "1        b", file("g.text.dat"));
    EXPECT_EQ("1        20       30       41       \n", file("g.dat"));
    EXPECT_EQ(R"({"id":1,"text1":"a","text2":"zz","text3":"b"})", id_json("g", 1));
}

TEST_F(Format, UpdateToNullErasesText)
{
    EXPECT_EQ(1, add("f2", {{"text", "abc"}}));
    ASSERT_BZ_OK(update("f2", 1, {{"text", nullptr}}));
    EXPECT_EQ(hashes(12), file("f2.text.dat"));
    EXPECT_EQ("1        #########\n", file("f2.dat"));
}

TEST_F(Format, TruncateEmptiesEveryFileAndSeqnumIsExactlyZero)
{
    for (int i = 1; i <= 12; i++)
        EXPECT_EQ(i, add("c", {{"varchar", "v"}, {"int", i}}));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "c", 3));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "c", 5));
    EXPECT_EQ("12", file("c__seqnum.dat"));
    EXPECT_EQ(18u, file("c__free.dat").size());

    ASSERT_BZ_OK(bz_truncate(db(), "c", 0));
    EXPECT_EQ("", file("c.dat"));
    EXPECT_EQ("", file("c__id.idx.dat"));
    EXPECT_EQ("", file("c__free.dat"));
    EXPECT_EQ("0", file("c__seqnum.dat"));
    EXPECT_EQ("[]", all_json("c"));

    EXPECT_EQ(1, add("c", {{"varchar", "n"}, {"int", 1}}));
    EXPECT_EQ("1        n    1        \n", file("c.dat"));
    EXPECT_EQ("0        ", file("c__id.idx.dat"));
    EXPECT_EQ("", file("c__free.dat"));
    EXPECT_EQ("1", file("c__seqnum.dat"));
}

TEST_F(Format, TruncateEmptiesTheTextFile)
{
    EXPECT_EQ(1, add("f", {{"text", "hello"}}));
    ASSERT_BZ_OK(bz_truncate(db(), "f", 0));
    EXPECT_EQ("", file("f.text.dat"));
    EXPECT_EQ("", file("f.dat"));
    EXPECT_EQ(1, add("f", {{"text", "x"}}));
    EXPECT_EQ("1        x", file("f.text.dat"));
    EXPECT_EQ("1        0        \n", file("f.dat"));
}

TEST_F(Format, TruncateRefusedWhileRowsReferToTheTable)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_EQ(1, add("b2", {{"text", "y"}, {"a_id", 1}}));
    EXPECT_EQ(1, add("c", {{"varchar", "keep"}, {"int", 1}}));
    auto before = snapshot();
    EXPECT_BZ_ERR(bz_truncate(db(), "a", 0), BZ_ECONSTRAINT,
                  "Cannot truncate table 'a': table 'b2' has referring rows. "
                  "Use `cascade` option to truncate dependent tables.");
    EXPECT_EQ("", diff_snapshots(before, snapshot()));

    EXPECT_EQ(1, add("b", {{"text", "z"}, {"a_id", 1}}));
    EXPECT_BZ_ERR(bz_truncate(db(), "a", 0), BZ_ECONSTRAINT,
                  "Cannot truncate table 'a': table 'b' has referring rows. "
                  "Use `cascade` option to truncate dependent tables.");

    ASSERT_BZ_OK(bz_truncate(db(), "a", 1));
    for (const char *t : {"a", "b", "b2"}) {
        std::string T = t;
        EXPECT_EQ("", file(T + ".dat")) << T;
        EXPECT_EQ("", file(T + "__id.idx.dat")) << T;
        EXPECT_EQ("", file(T + "__free.dat")) << T;
        EXPECT_EQ("0", file(T + "__seqnum.dat")) << T;
    }
    /* Unrelated tables are untouched. */
    EXPECT_EQ("1        keep 1        \n", file("c.dat"));
    EXPECT_EQ("1", file("c__seqnum.dat"));
}

TEST_F(Format, TruncateAllowedWhenReferringTablesAreEmpty)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_BZ_OK(bz_truncate(db(), "a", 0));
    EXPECT_EQ("", file("a.dat"));
}

TEST_F(Format, ReopenKeepsDataAndSeqnumContinues)
{
    EXPECT_EQ(1, add("c", {{"varchar", "a"}, {"int", 1}}));
    EXPECT_EQ(2, add("c", {{"varchar", "b"}, {"int", 2}}));
    EXPECT_EQ(1, add("f", {{"text", "long text"}}));
    EXPECT_BZ_OK(bz_delete_by_id(db(), "c", 1));
    std::string c_before = all_json("c"), f_before = all_json("f");
    close();
    auto files = snapshot_dir(dir_.path(), true);
    open();
    EXPECT_EQ("", diff_snapshots(files, snapshot_dir(dir_.path(), true)))
        << "opening an existing directory changed files";
    EXPECT_EQ(c_before, all_json("c"));
    EXPECT_EQ(f_before, all_json("f"));
    /* Next auto id continues; the freed row is reused. */
    EXPECT_EQ(3, add("c", {{"varchar", "c"}, {"int", 3}}));
    EXPECT_EQ("3        c    3        \n"
              "2        b    2        \n",
              file("c.dat"));
    EXPECT_EQ(2, add("f", {{"text", "x"}}));
}

TEST_F(Format, OpenRecordedUsesTheRecordedSchema)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    close();
    bz_db *raw = nullptr;
    ASSERT_BZ_OK(bz_open_recorded(dir_.c_str(), nullptr, &raw));
    Db d(raw);
    Schema s(parse_schema(kTestSchema));
    ASSERT_TRUE(s);
    CStr want(bz_schema_text(s.get())), got(bz_schema_text(bz_db_schema(d.get())));
    ASSERT_TRUE(want && got);
    EXPECT_STREQ(want.get(), got.get());
    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(d.get(), "a", 1, nullptr, &r));
    Row row(r);
    EXPECT_TRUE(row);
}

TEST_F(Format, ExternalEditIsSeenAfterReopen)
{
    EXPECT_EQ(1, add("c", {{"varchar", "old"}, {"int", 1}}));
    EXPECT_EQ(R"({"id":1,"int":1,"varchar":"old"})", id_json("c", 1));
    close();
    usleep(20000);
    ASSERT_TRUE(write_file(dir_.file("c.dat"), "1        new  2        \n"));
    open();
    EXPECT_EQ(R"({"id":1,"int":2,"varchar":"new"})", id_json("c", 1));
}

TEST_F(Format, ExternalEditIsSeenAfterAWriterLock)
{
    EXPECT_EQ(1, add("c", {{"varchar", "old"}, {"int", 1}}));
    EXPECT_EQ(R"({"id":1,"int":1,"varchar":"old"})", id_json("c", 1));
    usleep(20000);
    /* Another program (Python Bazoola, an editor) appends a row while no
     * engine process writes. */
    ASSERT_TRUE(write_file(dir_.file("c.dat"),
                           "1        new  2        \n2        two  3        \n"));
    ASSERT_TRUE(write_file(dir_.file("c__id.idx.dat"), "0        1        "));
    ASSERT_TRUE(write_file(dir_.file("c__seqnum.dat"), "2"));
    ASSERT_BZ_OK(bz_lock(db()));
    ASSERT_BZ_OK(bz_unlock(db()));
    EXPECT_EQ(R"({"id":1,"int":2,"varchar":"new"})", id_json("c", 1));
    EXPECT_EQ(R"({"id":2,"int":3,"varchar":"two"})", id_json("c", 2));
    EXPECT_EQ(3, add("c", {{"varchar", "z"}, {"int", 4}}));
    EXPECT_EQ(72u, file("c.dat").size());
}

/* A directory removed and created again may get the inode of the old one;
 * whatever the engine keeps per directory must not leak into the new one. */
TEST(FormatLifecycle, RecreatedDirectoryStartsEmpty)
{
    for (int round = 0; round < 20; round++) {
        std::string path;
        {
            TempDir d("bzrecreate");
            path = d.path();
            std::string err;
            Db db(open_db(d.path(), "t: id PK, n INT\n", &err));
            ASSERT_TRUE(db) << "round " << round << ": " << err;
            bz_rows *rs = nullptr;
            ASSERT_BZ_OK(bz_find_all(db.get(), "t", nullptr, &rs));
            Rows rows(rs);
            ASSERT_EQ(0u, bz_rows_len(rs)) << "round " << round
                                          << ": a new directory has rows";
            for (int i = 0; i < 3; i++) {
                Values v(make_values({{"n", round * 10 + i}}));
                bz_row *r = nullptr;
                ASSERT_BZ_OK(bz_insert(db.get(), "t", v.get(), &r));
                Row row(r);
                ASSERT_EQ(i + 1, bz_row_id(r)) << "round " << round;
            }
        }
        ASSERT_FALSE(file_exists(path));
    }
}

} // namespace
