/*
 * unit_cond_test.cpp - conditions, joins and iteration.
 */
#include <algorithm>

#include "unit_fixture.h"

using namespace bzt;

namespace {

/* Table d (varchar CHAR(5) NULL, int INT NULL) with a known content. */
class Conditions : public DbTest {
protected:
    void SetUp() override
    {
        DbTest::SetUp();
        ASSERT_EQ(1, add("d", {{"varchar", "qux"}, {"int", 42}}));
        ASSERT_EQ(2, add("d", {{"varchar", "\xc3\x9c" "ber"}, {"int", 1}}));   /* Über */
        ASSERT_EQ(3, add("d", {{"varchar", "\xc3\x89T\xc3\x89"}, {"int", -139}})); /* ÉTÉ */
        ASSERT_EQ(4, add("d", {{"varchar", nullptr}, {"int", 999999999}}));
        ASSERT_EQ(5, add("d", {{"varchar", "abc"}, {"int", nullptr}}));
        ASSERT_EQ(6, add("d", {{"varchar", "\xc3\xa9t\xc3\xa9"}, {"int", 0}}));   /* été */
        ASSERT_EQ(7, add("d", {{"varchar", "des"}, {"int", -99999999}}));
    }
    Ids where(bz_cond *c) { return ids_where("d", c); }
};

TEST_F(Conditions, Equality)
{
    EXPECT_EQ((Ids{1}), where(leaf(BZ_EQ, "varchar", "qux")));
    EXPECT_EQ((Ids{1}), where(leaf(BZ_EQ, "int", 42)));
    EXPECT_EQ((Ids{6}), where(leaf(BZ_EQ, "int", 0)));
    EXPECT_EQ((Ids{3}), where(leaf(BZ_EQ, "id", 3)));
    EXPECT_EQ((Ids{}), where(leaf(BZ_EQ, "varchar", "QUX")));
    EXPECT_EQ((Ids{}), where(leaf(BZ_EQ, "varchar", "qu")));
}

TEST_F(Conditions, NullNeverMatches)
{
    EXPECT_EQ((Ids{2, 3, 4, 6, 7}), where(leaf(BZ_NE, "int", 42)));
    EXPECT_EQ((Ids{2, 3, 5, 6, 7}), where(leaf(BZ_NE, "varchar", "qux")));
    EXPECT_EQ((Ids{3, 6, 7}), where(leaf(BZ_LT, "int", 1)));
    EXPECT_EQ((Ids{1, 2, 3, 5, 6, 7}), where(leaf(BZ_SUBSTR, "varchar", "")));
    EXPECT_EQ((Ids{1, 2, 3, 5, 6, 7}), where(leaf(BZ_ISUBSTR, "varchar", "")));
    EXPECT_EQ((Ids{1, 2, 3, 4, 6, 7}), where(leaf(BZ_SUBSTR, "int", "")));
}

TEST_F(Conditions, Ordering)
{
    EXPECT_EQ((Ids{3, 6, 7}), where(leaf(BZ_LT, "int", 1)));
    EXPECT_EQ((Ids{2, 3, 6, 7}), where(leaf(BZ_LE, "int", 1)));
    EXPECT_EQ((Ids{1, 4}), where(leaf(BZ_GT, "int", 1)));
    EXPECT_EQ((Ids{1, 4}), where(leaf(BZ_GE, "int", 42)));
    EXPECT_EQ((Ids{1, 2, 4}), where(leaf(BZ_GE, "int", 1)));
    EXPECT_EQ((Ids{6, 7}), where(leaf(BZ_GT, "id", 5)));
    /* Strings compare by code point, as Python's str does. */
    EXPECT_EQ((Ids{5}), where(leaf(BZ_LT, "varchar", "b")));
    EXPECT_EQ((Ids{2, 3, 6}), where(leaf(BZ_GT, "varchar", "z")));
    EXPECT_EQ((Ids{1, 5, 7}), where(leaf(BZ_LE, "varchar", "qux")));
}

TEST_F(Conditions, SubstrOnStringsAndIntegers)
{
    EXPECT_EQ((Ids{2, 5}), where(leaf(BZ_SUBSTR, "varchar", "b")));
    EXPECT_EQ((Ids{}), where(leaf(BZ_SUBSTR, "varchar", "QU")));
    EXPECT_EQ((Ids{1}), where(leaf(BZ_SUBSTR, "varchar", "ux")));
    /* Integers match their decimal text. */
    EXPECT_EQ((Ids{4, 7}), where(leaf(BZ_SUBSTR, "int", "99")));
    EXPECT_EQ((Ids{3}), where(leaf(BZ_SUBSTR, "int", "-1")));
    EXPECT_EQ((Ids{1}), where(leaf(BZ_SUBSTR, "int", "42")));
    EXPECT_EQ((Ids{3, 7}), where(leaf(BZ_ISUBSTR, "int", "-")));
    EXPECT_EQ((Ids{5}), where(leaf(BZ_SUBSTR, "id", "5")));
}

TEST_F(Conditions, IsubstrFoldsUnicode)
{
    EXPECT_EQ((Ids{1}), where(leaf(BZ_ISUBSTR, "varchar", "QU")));
    EXPECT_EQ((Ids{2}), where(leaf(BZ_ISUBSTR, "varchar", "\xc3\xbc" "b"))); /* üb */
    EXPECT_EQ((Ids{2}), where(leaf(BZ_ISUBSTR, "varchar", "\xc3\x9c" "B"))); /* ÜB */
    EXPECT_EQ((Ids{3, 6}), where(leaf(BZ_ISUBSTR, "varchar", "\xc3\xa9t\xc3\xa9")));
    EXPECT_EQ((Ids{3, 6}), where(leaf(BZ_ISUBSTR, "varchar", "\xc3\x89T\xc3\x89")));
    EXPECT_EQ((Ids{3, 6}), where(leaf(BZ_ISUBSTR, "varchar", "T\xc3\xa9")));
    /* Case-sensitive SUBSTR does not fold. */
    EXPECT_EQ((Ids{2}), where(leaf(BZ_SUBSTR, "varchar", "\xc3\x9c")));
    EXPECT_EQ((Ids{}), where(leaf(BZ_SUBSTR, "varchar", "\xc3\xbc")));
}

TEST_F(Conditions, IsubstrIsLowerNotCasefold)
{
    /* Python: "Straße".lower() == "straße", "STRASSE".lower() == "strasse". */
    ASSERT_EQ(1, add("e", {{"text", "Stra\xc3\x9f" "e"}}));
    ASSERT_EQ(2, add("e", {{"text", "Hello W\xc3\xb6rld"}}));
    EXPECT_EQ((Ids{}), ids_where("e", leaf(BZ_ISUBSTR, "text", "STRASSE")));
    EXPECT_EQ((Ids{1}), ids_where("e", leaf(BZ_ISUBSTR, "text", "STRA\xc3\x9f" "E")));
    EXPECT_EQ((Ids{2}), ids_where("e", leaf(BZ_ISUBSTR, "text", "w\xc3\x96R")));
}

TEST_F(Conditions, ConditionsOnTextFields)
{
    ASSERT_EQ(1, add("f", {{"text", "A long \xc3\x9c" "ber text"}}));
    ASSERT_EQ(2, add("f", {{"text", "short"}}));
    ASSERT_EQ(1, add("f2", {{"text", nullptr}}));
    EXPECT_EQ((Ids{1}), ids_where("f", leaf(BZ_ISUBSTR, "text", "\xc3\xbc" "BER")));
    EXPECT_EQ((Ids{2}), ids_where("f", leaf(BZ_EQ, "text", "short")));
    EXPECT_EQ((Ids{1, 2}), ids_where("f", leaf(BZ_SUBSTR, "text", "o")));
    EXPECT_EQ((Ids{}), ids_where("f2", leaf(BZ_SUBSTR, "text", "")));
}

/* A leaf on len bytes; the NUL-terminated forms stop at the first NUL. */
bz_cond *leafn(bz_op op, const char *field, const std::string &v)
{
    bz_cond *c = bz_cond_new(op);
    int rc = !c ? BZ_ENOMEM
                : op == BZ_IN ? bz_cond_add_in_strn(c, field, v.data(), v.size())
                              : bz_cond_add_strn(c, field, v.data(), v.size());
    if (rc != BZ_OK) {
        bz_cond_free(c);
        return nullptr;
    }
    return c;
}

TEST_F(Conditions, NeedlesMayHoldNul)
{
    const std::string nul(1, '\0');
    ASSERT_EQ(1, add("f", {{"text", std::string("a\0b", 3)}}));
    ASSERT_EQ(2, add("f", {{"text", "ab"}}));
    ASSERT_EQ(3, add("f", {{"text", std::string("X\0", 2)}}));
    EXPECT_EQ((Ids{1, 3}), ids_where("f", leafn(BZ_SUBSTR, "text", nul)));
    EXPECT_EQ((Ids{1}), ids_where("f", leafn(BZ_SUBSTR, "text", std::string("a\0", 2))));
    EXPECT_EQ((Ids{3}), ids_where("f", leafn(BZ_ISUBSTR, "text", std::string("x\0", 2))));
    EXPECT_EQ((Ids{1}), ids_where("f", leafn(BZ_EQ, "text", std::string("a\0b", 3))));
    EXPECT_EQ((Ids{2, 3}), ids_where("f", leafn(BZ_NE, "text", std::string("a\0b", 3))));
    /* Code point order: "X" < "a\0b" < "a\0c" < "ab". */
    EXPECT_EQ((Ids{1, 3}), ids_where("f", leafn(BZ_LT, "text", std::string("a\0c", 3))));
    bz_cond *in = leafn(BZ_IN, "text", std::string("X\0", 2));
    ASSERT_TRUE(in);
    ASSERT_BZ_OK(bz_cond_add_in_strn(in, "text", "a\0b", 3));
    EXPECT_EQ((Ids{1, 3}), ids_where("f", in));
    /* The C-string form is the prefix before the NUL. */
    EXPECT_EQ((Ids{2}), ids_where("f", leaf(BZ_EQ, "text", "ab")));
    EXPECT_EQ((Ids{1, 2}), ids_where("f", leaf(BZ_SUBSTR, "text", std::string("a\0", 2).c_str())));
    /* No CHAR value the engine writes holds a NUL: no match, no error. */
    EXPECT_EQ((Ids{}), where(leafn(BZ_SUBSTR, "varchar", nul)));
    EXPECT_EQ((Ids{}), where(leafn(BZ_EQ, "varchar", std::string("qux\0", 4))));
}

/* 0.0.7 writes a str holding U+0000 into a CHAR as it is; the scan's
 * prefilter separates rows with NULs and must not see such a needle. */
TEST_F(Conditions, NulInACharWrittenBy007)
{
    close();
    std::string dat = file("d.dat");
    /* Row 4 (id 5, "abc"): 9 + 5 + 9 + 1 = 24 bytes a row. */
    ASSERT_EQ("abc  ", dat.substr(4 * 24 + 9, 5));
    dat.replace(4 * 24 + 9, 5, std::string("a\0c  ", 5));
    ASSERT_TRUE(write_file(dir_.file("d.dat"), dat));
    open();
    EXPECT_EQ((Ids{5}), where(leafn(BZ_SUBSTR, "varchar", std::string("\0", 1))));
    EXPECT_EQ((Ids{5}), where(leafn(BZ_SUBSTR, "varchar", std::string("a\0c", 3))));
    EXPECT_EQ((Ids{5}), where(leafn(BZ_ISUBSTR, "varchar", std::string("A\0C", 3))));
    EXPECT_EQ((Ids{5}), where(leafn(BZ_EQ, "varchar", std::string("a\0c", 3))));
    EXPECT_EQ((Ids{}), where(leaf(BZ_SUBSTR, "varchar", "ac")));
}

TEST_F(Conditions, SeveralPairsInOneLeafMustAllHold)
{
    bz_cond *c = bz_cond_new(BZ_EQ);
    ASSERT_BZ_OK(bz_cond_add_str(c, "varchar", "qux"));
    ASSERT_BZ_OK(bz_cond_add_int(c, "int", 42));
    EXPECT_EQ((Ids{1}), where(c));
    c = bz_cond_new(BZ_EQ);
    ASSERT_BZ_OK(bz_cond_add_str(c, "varchar", "qux"));
    ASSERT_BZ_OK(bz_cond_add_int(c, "int", 1));
    EXPECT_EQ((Ids{}), where(c));
    c = bz_cond_new(BZ_GT);
    ASSERT_BZ_OK(bz_cond_add_int(c, "int", -200));
    ASSERT_BZ_OK(bz_cond_add_int(c, "id", 2));
    EXPECT_EQ((Ids{3, 4, 6}), where(c));
}

TEST_F(Conditions, InLists)
{
    bz_cond *c = bz_cond_new(BZ_IN);
    ASSERT_BZ_OK(bz_cond_add_in_int(c, "int", 1));
    ASSERT_BZ_OK(bz_cond_add_in_int(c, "int", 42));
    ASSERT_BZ_OK(bz_cond_add_in_int(c, "int", 5));
    EXPECT_EQ((Ids{1, 2}), where(c));
    c = bz_cond_new(BZ_IN);
    ASSERT_BZ_OK(bz_cond_add_in_str(c, "varchar", "abc"));
    ASSERT_BZ_OK(bz_cond_add_in_str(c, "varchar", "qux"));
    ASSERT_BZ_OK(bz_cond_add_in_str(c, "varchar", "zzz"));
    EXPECT_EQ((Ids{1, 5}), where(c));
}

TEST_F(Conditions, AndOrNot)
{
    EXPECT_EQ((Ids{2}), where(bz_cond_and(leaf(BZ_GT, "int", 0),
                                          leaf(BZ_SUBSTR, "varchar", "b"))));
    EXPECT_EQ((Ids{1, 6}), where(bz_cond_or(leaf(BZ_EQ, "int", 0),
                                            leaf(BZ_EQ, "varchar", "qux"))));
    EXPECT_EQ((Ids{1, 2, 4, 5, 6, 7}), where(bz_cond_not(leaf(BZ_EQ, "id", 3))));
    EXPECT_EQ((Ids{3, 4, 5, 6, 7}),
              where(bz_cond_not(bz_cond_or(leaf(BZ_EQ, "id", 1), leaf(BZ_EQ, "id", 2)))));
    EXPECT_EQ((Ids{5, 7}),
              where(bz_cond_and(bz_cond_or(leaf(BZ_LT, "int", 0), leaf(BZ_EQ, "id", 5)),
                                bz_cond_not(leaf(BZ_ISUBSTR, "varchar", "\xc3\xa9")))));
    /* NOT over a nullable field: the complement of the non-NULL matches. */
    Ids got = where(bz_cond_not(leaf(BZ_EQ, "int", 42)));
    for (int64_t id : {2, 3, 4, 6, 7})
        EXPECT_NE(got.end(), std::find(got.begin(), got.end(), id)) << id;
    EXPECT_EQ(got.end(), std::find(got.begin(), got.end(), 1));
}

TEST_F(Conditions, RowsComeInFileOrder)
{
    ASSERT_BZ_OK(bz_delete_by_id(db(), "d", 2));
    ASSERT_EQ(8, add("d", {{"varchar", "qux"}, {"int", 8}})); /* reuses row 1 */
    ASSERT_BZ_OK(update("d", 1, {{"int", 43}}));               /* keeps row 0 */
    EXPECT_EQ((Ids{1, 8, 3, 4, 5, 6, 7}), all_ids("d"));
    EXPECT_EQ((Ids{1, 8}), where(leaf(BZ_EQ, "varchar", "qux")));
    EXPECT_EQ((Ids{1, 8, 4}), where(leaf(BZ_GT, "int", 1)));
}

TEST_F(Conditions, NullCondIsAllRows)
{
    bz_rows *rs = nullptr;
    ASSERT_BZ_OK(bz_find_by_cond(db(), "d", nullptr, nullptr, &rs));
    Rows r(rs);
    EXPECT_EQ((Ids{1, 2, 3, 4, 5, 6, 7}), row_ids(rs));
}

/* Joins over a (<- b, <- b2). */
class JoinQueries : public DbTest {
protected:
    void SetUp() override
    {
        DbTest::SetUp();
        ASSERT_EQ(1, add("a", {{"text", "x"}}));
        ASSERT_EQ(2, add("a", {{"text", "y"}}));
        ASSERT_EQ(1, add("b", {{"text", "b1"}, {"a_id", 1}}));
        ASSERT_EQ(2, add("b", {{"text", "b2"}, {"a_id", 2}}));
        ASSERT_EQ(3, add("b", {{"text", "b3"}, {"a_id", 1}}));
        ASSERT_EQ(1, add("b2", {{"text", "c1"}, {"a_id", nullptr}}));
        ASSERT_EQ(2, add("b2", {{"text", "c2"}, {"a_id", 1}}));
    }
    bzt::Joins join(const char *fk, const char *key, const char *table)
    {
        bzt::Joins j(bz_joins_new());
        EXPECT_BZ_OK(bz_joins_add(j.get(), fk, key, table));
        return j;
    }
};

TEST_F(JoinQueries, JoinNestsTheReferencedRow)
{
    bzt::Joins j = join("a_id", "a", "a");
    EXPECT_EQ(R"({"a":{"id":1,"text":"x"},"a_id":1,"id":1,"text":"b1"})",
              id_json("b", 1, j.get()));
    EXPECT_EQ(R"([{"a":{"id":1,"text":"x"},"a_id":1,"id":1,"text":"b1"},)"
              R"({"a":{"id":2,"text":"y"},"a_id":2,"id":2,"text":"b2"},)"
              R"({"a":{"id":1,"text":"x"},"a_id":1,"id":3,"text":"b3"}])",
              all_json("b", j.get()));

    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(db(), "b", 2, j.get(), &r));
    Row row(r);
    ASSERT_TRUE(row);
    ASSERT_EQ(4u, bz_row_len(r));
    EXPECT_STREQ("a", bz_row_name(r, 3));
    EXPECT_EQ(3, bz_row_find(r, "a"));
    ASSERT_EQ(BZ_T_ROW, bz_row_type(r, 3));
    const bz_row *nested = bz_row_row(r, 3);
    ASSERT_NE(nullptr, nested);
    EXPECT_EQ(2, bz_row_id(nested));
}

TEST_F(JoinQueries, JoinOfNullOrDeletedRowIsNull)
{
    bzt::Joins j = join("a_id", "a", "a");
    EXPECT_EQ(R"({"a":null,"a_id":null,"id":1,"text":"c1"})", id_json("b2", 1, j.get()));
    ASSERT_BZ_OK(bz_delete_by_id(db(), "a", 2));
    EXPECT_EQ(R"({"a":null,"a_id":2,"id":2,"text":"b2"})", id_json("b", 2, j.get()));
    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(db(), "b", 2, j.get(), &r));
    Row row(r);
    ASSERT_TRUE(row);
    EXPECT_EQ(BZ_T_NULL, bz_row_type(r, 3));
}

TEST_F(JoinQueries, InverseJoinListsReferringRowsInFileOrder)
{
    bzt::Joins j(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add_inverse(j.get(), "a_id", "bs", "b"));
    ASSERT_BZ_OK(bz_joins_add_inverse(j.get(), "a_id", "b2s", "b2"));
    EXPECT_EQ(R"([{"b2s":[{"a_id":1,"id":2,"text":"c2"}],)"
              R"("bs":[{"a_id":1,"id":1,"text":"b1"},{"a_id":1,"id":3,"text":"b3"}],)"
              R"("id":1,"text":"x"},)"
              R"({"b2s":[],"bs":[{"a_id":2,"id":2,"text":"b2"}],"id":2,"text":"y"}])",
              all_json("a", j.get()));

    /* Delete b1 and insert b4 into its row: b4 now comes before b3. */
    ASSERT_BZ_OK(bz_delete_by_id(db(), "b", 1));
    ASSERT_EQ(4, add("b", {{"text", "b4"}, {"a_id", 1}}));
    EXPECT_EQ(R"({"b2s":[{"a_id":1,"id":2,"text":"c2"}],)"
              R"("bs":[{"a_id":1,"id":4,"text":"b4"},{"a_id":1,"id":3,"text":"b3"}],)"
              R"("id":1,"text":"x"})",
              id_json("a", 1, j.get()));

    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(db(), "a", 2, j.get(), &r));
    Row row(r);
    ASSERT_TRUE(row);
    ASSERT_EQ(4u, bz_row_len(r));
    EXPECT_STREQ("bs", bz_row_name(r, 2));
    EXPECT_STREQ("b2s", bz_row_name(r, 3));
    ASSERT_EQ(BZ_T_ROWS, bz_row_type(r, 3));
    ASSERT_NE(nullptr, bz_row_rows(r, 3));
    EXPECT_EQ(0u, bz_rows_len(bz_row_rows(r, 3)));
    ASSERT_EQ(BZ_T_ROWS, bz_row_type(r, 2));
    EXPECT_EQ(1u, bz_rows_len(bz_row_rows(r, 2)));
}

TEST_F(JoinQueries, JoinsWithConditions)
{
    bzt::Joins j = join("a_id", "owner", "a");
    Cond c(leaf(BZ_EQ, "a_id", 1));
    bz_rows *rs = nullptr;
    ASSERT_BZ_OK(bz_find_by_cond(db(), "b", c.get(), j.get(), &rs));
    Rows r(rs);
    Json js(rows_to_json(rs));
    EXPECT_EQ(R"([{"a_id":1,"id":1,"owner":{"id":1,"text":"x"},"text":"b1"},)"
              R"({"a_id":1,"id":3,"owner":{"id":1,"text":"x"},"text":"b3"}])",
              json_dump(js.get()));
}

TEST_F(JoinQueries, JoinAndInverseInOneQuery)
{
    /* s refers to b; b refers to a: query b with both directions. */
    TempDir other("bzjoins");
    std::string err;
    Db d(open_db(other.path(),
                 "a: id PK, name CHAR(5)\n"
                 "b: id PK, a_id FK(a)\n"
                 "s: id PK, b_id FK(b), note CHAR(3)\n",
                 &err));
    ASSERT_TRUE(d) << err;
    auto ins = [&](const char *t, const Fields &f) {
        Values v(make_values(f));
        bz_row *r = nullptr;
        int rc = bz_insert(d.get(), t, v.get(), &r);
        bz_row_free(r);
        return rc;
    };
    ASSERT_BZ_OK(ins("a", {{"name", "ann"}}));
    ASSERT_BZ_OK(ins("b", {{"a_id", 1}}));
    ASSERT_BZ_OK(ins("s", {{"b_id", 1}, {"note", "n1"}}));
    ASSERT_BZ_OK(ins("s", {{"b_id", 1}, {"note", "n2"}}));
    bzt::Joins j(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add(j.get(), "a_id", "author", "a"));
    ASSERT_BZ_OK(bz_joins_add_inverse(j.get(), "b_id", "notes", "s"));
    bz_row *r = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(d.get(), "b", 1, j.get(), &r));
    Row row(r);
    Json js(row_to_json(r));
    EXPECT_EQ(R"({"a_id":1,"author":{"id":1,"name":"ann"},"id":1,)"
              R"("notes":[{"b_id":1,"id":1,"note":"n1"},{"b_id":1,"id":2,"note":"n2"}]})",
              json_dump(js.get()));
    ASSERT_TRUE(row);
    EXPECT_STREQ("author", bz_row_name(r, 2));
    EXPECT_STREQ("notes", bz_row_name(r, 3));
}

/* Iteration walks the table in file order, a chunk at a time. */
class Iteration : public DbTest {
protected:
    void SetUp() override
    {
        DbTest::SetUp();
        for (int i = 1; i <= 300; i++)
            ASSERT_EQ(i, add("c", {{"varchar", std::to_string(i % 7)}, {"int", i}}));
        for (int id = 10; id <= 300; id += 10)
            ASSERT_BZ_OK(bz_delete_by_id(db(), "c", id));
        for (int i = 0; i < 5; i++) /* reuse some freed rows */
            ASSERT_EQ(301 + i, add("c", {{"varchar", "n"}, {"int", 301 + i}}));
    }
    Ids iterate(const bz_cond *c, const bz_joins *j = nullptr)
    {
        bz_iter *raw = nullptr;
        int rc = bz_iter_open(db(), "c", c, j, &raw);
        Iter it(raw);
        if (rc != BZ_OK) {
            ADD_FAILURE() << "bz_iter_open: " << last_error(rc);
            return {-1};
        }
        Ids ids;
        for (;;) {
            bz_row *r = nullptr;
            rc = bz_iter_next(raw, &r);
            if (rc == BZ_DONE)
                break;
            if (rc != BZ_ROW) {
                ADD_FAILURE() << "bz_iter_next: " << last_error(rc);
                break;
            }
            Row row(r);
            if (!r) {
                ADD_FAILURE() << "BZ_ROW without a row";
                break;
            }
            ids.push_back(bz_row_id(r));
            if (ids.size() > 1000) {
                ADD_FAILURE() << "iteration does not end";
                break;
            }
        }
        return ids;
    }
};

TEST_F(Iteration, WithoutCondition)
{
    Ids want = all_ids("c");
    EXPECT_EQ(275u, want.size());
    EXPECT_EQ(want, iterate(nullptr));
}

TEST_F(Iteration, WithCondition)
{
    Cond c(bz_cond_or(leaf(BZ_GT, "int", 250), leaf(BZ_EQ, "varchar", "3")));
    bz_rows *rs = nullptr;
    ASSERT_BZ_OK(bz_find_by_cond(db(), "c", c.get(), nullptr, &rs));
    Rows r(rs);
    Ids want = row_ids(rs);
    EXPECT_GT(want.size(), 50u);
    EXPECT_EQ(want, iterate(c.get()));
}

TEST_F(Iteration, EmptyTableAndNoMatch)
{
    Cond none(leaf(BZ_EQ, "int", -5));
    EXPECT_EQ((Ids{}), iterate(none.get()));
    ASSERT_BZ_OK(bz_truncate(db(), "c", 0));
    EXPECT_EQ((Ids{}), iterate(nullptr));
}

TEST_F(Iteration, RowsCarryJoins)
{
    ASSERT_EQ(1, add("a", {{"text", "x"}}));
    ASSERT_EQ(1, add("b", {{"text", "y"}, {"a_id", 1}}));
    bzt::Joins j(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add(j.get(), "a_id", "a", "a"));
    bz_iter *raw = nullptr;
    ASSERT_BZ_OK(bz_iter_open(db(), "b", nullptr, j.get(), &raw));
    Iter it(raw);
    bz_row *r = nullptr;
    ASSERT_EQ(BZ_ROW, bz_iter_next(raw, &r));
    Row row(r);
    Json js(row_to_json(r));
    EXPECT_EQ(R"({"a":{"id":1,"text":"x"},"a_id":1,"id":1,"text":"y"})", json_dump(js.get()));
    bz_row *r2 = nullptr;
    EXPECT_EQ(BZ_DONE, bz_iter_next(raw, &r2));
    bz_row_free(r2);
}

} // namespace

/* Scans run a prefilter over whole chunks of raw rows before decoding any
 * (engine/cond.h).  It must never lose a match: compare it, on random rows
 * spanning several chunks, with the same condition under an OR, which
 * switches the prefilter off and evaluates every row in full. */
class PrefilterScan : public DbTest {
protected:
    std::string schema_text() const override
    {
        return "s: id PK, a CHAR(12) NULL, b CHAR(7), n INT NULL\n";
    }
};

TEST_F(PrefilterScan, FindsExactlyWhatTheFullTestFinds)
{
    /* Pieces that fold in interesting ways: KELVIN SIGN lowers to ASCII
     * 'k', dotted capital I to "i" + a combining dot, and '*' is what a
     * deleted row is made of. */
    const char *pieces[] = {"a", "B", "z", "Ze", "ZE", "\xc3\x89", "\xc3\xa9",
                            "\xe2\x84\xaa", "\xc4\xb0", "k", "i", " ", "*",
                            "x", "bra"};
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    unsigned seed = 12345;
    auto rnd = [&seed](unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) % n;
    };
    auto word = [&](size_t max_bytes) {
        std::string s;
        for (;;) {
            std::string p = pieces[rnd(npieces)];
            if (s.size() + p.size() > max_bytes || rnd(5) == 0)
                break;
            s += p;
        }
        while (!s.empty() && s.back() == ' ')
            s.pop_back();
        return s.empty() ? std::string("x") : s;
    };
    /* 38-byte rows, 1725 to a 64 KiB chunk: 4000 rows make three chunks. */
    ASSERT_BZ_OK(bz_begin(db()));
    for (int i = 0; i < 4000; i++) {
        std::string a = word(12), b = word(7);
        if (rnd(10) == 0)
            ASSERT_EQ(i + 1, add("s", {{"a", nullptr}, {"b", b.c_str()}, {"n", i}}));
        else
            ASSERT_EQ(i + 1, add("s", {{"a", a.c_str()}, {"b", b.c_str()}, {"n", i}}));
    }
    for (int id = 1; id <= 4000; id += 7)
        ASSERT_BZ_OK(bz_delete_by_id(db(), "s", id));
    ASSERT_BZ_OK(bz_commit(db()));

    const char *needles[] = {"ze", "ZE", "e", "k", "K", "\xe2\x84\xaa", "i",
                             "\xc3\xa9", "\xc3\x89", "*", "**", "a ", " b",
                             "zebra", "bra", "x", "ab", "i\xcc\x87"};
    size_t checked_matches = 0;
    for (const char *n : needles) {
        for (bz_op op : {BZ_SUBSTR, BZ_ISUBSTR}) {
            for (const char *field : {"a", "b"}) {
                Ids fast = ids_where("s", leaf(op, field, n));
                Ids full = ids_where("s", bz_cond_or(leaf(op, field, n),
                                                     leaf(BZ_EQ, "id", 0)));
                EXPECT_EQ(full, fast) << "op " << op << " field " << field
                                      << " needle '" << n << "'";
                checked_matches += full.size();
                /* Under AND the prefilter still applies. */
                Ids fast_and = ids_where("s", bz_cond_and(leaf(op, field, n),
                                                          leaf(BZ_GE, "n", 100)));
                Ids full_and = ids_where("s", bz_cond_or(
                    bz_cond_and(leaf(op, field, n), leaf(BZ_GE, "n", 100)),
                    leaf(BZ_EQ, "id", 0)));
                EXPECT_EQ(full_and, fast_and) << "AND, needle '" << n << "'";
            }
        }
    }
    /* The data must exercise the comparison, not compare empty lists. */
    EXPECT_GT(checked_matches, 10000u);
}
