/*
 * unit_errors_test.cpp - 0.0.7's error messages, their precedence, value
 * ranges and type checks; failed operations change no byte; bad arguments.
 */
#include "unit_fixture.h"

using namespace bzt;

namespace {

class Errors : public DbTest {};

TEST_F(Errors, ValueCantBeNone)
{
    EXPECT_BZ_ERR(insert("c", {{"varchar", nullptr}, {"int", 1}}), BZ_EVALIDATION,
                  "'varchar': The value can't be None");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", nullptr}}), BZ_EVALIDATION,
                  "'int': The value can't be None");
    EXPECT_BZ_ERR(insert("f", {{"text", nullptr}}), BZ_EVALIDATION,
                  "'text': The value can't be None");
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_BZ_ERR(insert("b", {{"text", "x"}, {"a_id", nullptr}}), BZ_EVALIDATION,
                  "'a_id': The value can't be None");
    /* A field left out is None too. */
    EXPECT_BZ_ERR(insert("c", {{"int", 1}}), BZ_EVALIDATION,
                  "'varchar': The value can't be None");
    EXPECT_EQ("[]", all_json("c"));
}

TEST_F(Errors, CharTooLongCountsUtf8Bytes)
{
    EXPECT_BZ_ERR(insert("a", {{"text", "abcdef"}}), BZ_EVALIDATION,
                  "'text': The value is too long");
    /* Five characters, six bytes. */
    EXPECT_BZ_ERR(insert("a", {{"text", "\xc3\x9c" "berx"}}), BZ_EVALIDATION,
                  "'text': The value is too long");
    EXPECT_BZ_ERR(insert("a", {{"text", "\xc3\xa9\xc3\xa9\xc3\xa9"}}), BZ_EVALIDATION,
                  "'text': The value is too long");
    EXPECT_EQ(1, add("a", {{"text", "abcde"}}));
    EXPECT_EQ(2, add("a", {{"text", "\xc3\x9c" "ber"}}));
    EXPECT_EQ(1, add("e", {{"text", std::string(20, 'x')}}));
    EXPECT_BZ_ERR(insert("e", {{"text", std::string(21, 'x')}}), BZ_EVALIDATION,
                  "'text': The value is too long");
}

TEST_F(Errors, IntRange)
{
    EXPECT_EQ(1, add("c", {{"varchar", "x"}, {"int", 999999999}}));
    EXPECT_EQ(2, add("c", {{"varchar", "x"}, {"int", -99999999}}));
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", 1000000000}}), BZ_EVALIDATION,
                  "'int': The value is too big");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", -100000000}}), BZ_EVALIDATION,
                  "'int': The value is too big");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", 1000000000000LL}}), BZ_EVALIDATION,
                  "'int': The value is too big");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", INT64_MIN}}), BZ_EVALIDATION,
                  "'int': The value is too big");
    EXPECT_BZ_ERR(insert("a", {{"text", "x"}, {"id", 1000000000}}), BZ_EVALIDATION,
                  "'id': The value is too big");
    EXPECT_EQ(2u, all_ids("c").size());
}

TEST_F(Errors, TypeMismatchForIntsShowsPythonRepr)
{
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", "7"}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `'7'` is not `int`");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", "it's"}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `\"it's\"` is not `int`");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", "a\\b"}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `'a\\\\b'` is not `int`");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", "a\nb"}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `'a\\nb'` is not `int`");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", "\xc3\x9c" "ber"}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `'\xc3\x9c" "ber'` is not `int`");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", V::other("3.5")}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `3.5` is not `int`");
    EXPECT_BZ_ERR(insert("d", {{"int", V::other("True")}}), BZ_EVALIDATION,
                  "'int': Type mismatch: `True` is not `int`");
    EXPECT_EQ("[]", all_json("c"));
}

TEST_F(Errors, TypeMismatchForForeignKey)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_BZ_ERR(insert("b", {{"text", "x"}, {"a_id", "1"}}), BZ_EVALIDATION,
                  "'a_id': Type mismatch: `'1'` is not `int`");
    EXPECT_EQ("[]", all_json("b"));
}

TEST_F(Errors, TypeMismatchForStringFields)
{
    EXPECT_BZ_ERR(insert("c", {{"varchar", 7}, {"int", 1}}), BZ_EVALIDATION,
                  "'varchar': Type mismatch");
    EXPECT_BZ_ERR(insert("f", {{"text", 7}}), BZ_EVALIDATION, "'text': Type mismatch");
    EXPECT_BZ_ERR(insert("f", {{"text", 1000000000000LL}}), BZ_EVALIDATION,
                  "'text': Type mismatch");
    EXPECT_BZ_ERR(insert("f2", {{"text", V::other("2.0")}}), BZ_EVALIDATION,
                  "'text': Type mismatch");
    EXPECT_BZ_ERR(insert("e", {{"text", V::other("False")}}), BZ_EVALIDATION,
                  "'text': Type mismatch");
}

TEST_F(Errors, DuplicateIdNotFoundAndMissingForeignKey)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    EXPECT_BZ_ERR(insert("a", {{"text", "y"}, {"id", 1}}), BZ_EVALIDATION,
                  "'id': row with id 1 already exists");
    EXPECT_BZ_ERR(bz_delete_by_id(db(), "a", 5), BZ_ENOTFOUND,
                  "Row with ID=5 does not exist");
    EXPECT_BZ_ERR(update("a", 7, {{"text", "z"}}), BZ_ENOTFOUND,
                  "Row with ID=7 does not exist");
    EXPECT_BZ_ERR(insert("b", {{"text", "x"}, {"a_id", 9}}), BZ_ECONSTRAINT,
                  "Item id=9 does not exist in 'a'");
    EXPECT_BZ_ERR(insert("b", {{"text", "x"}, {"a_id", 1000000000000LL}}), BZ_ECONSTRAINT,
                  "Item id=1000000000000 does not exist in 'a'");
    EXPECT_EQ(1, add("b", {{"text", "x"}, {"a_id", 1}}));
    EXPECT_BZ_ERR(update("b", 1, {{"a_id", 2}}), BZ_ECONSTRAINT,
                  "Item id=2 does not exist in 'a'");
    /* A deleted row cannot be referred to. */
    EXPECT_BZ_OK(bz_delete_by_id(db(), "a", 1));
    EXPECT_BZ_ERR(insert("b", {{"text", "x"}, {"a_id", 1}}), BZ_ECONSTRAINT,
                  "Item id=1 does not exist in 'a'");
    EXPECT_BZ_ERR(bz_delete_by_id(db(), "a", 1), BZ_ENOTFOUND,
                  "Row with ID=1 does not exist");
    /* find_by_id of a missing row is not an error. */
    bz_row *r = reinterpret_cast<bz_row *>(0x1);
    EXPECT_BZ_OK(bz_find_by_id(db(), "a", 1, nullptr, &r));
    EXPECT_EQ(nullptr, r);
}

/* Precedence: foreign keys (schema order), TEXT type checks, a duplicate
 * explicit id, then the fields in schema order. */
class Precedence : public DbTest {
protected:
    std::string schema_text() const override
    {
        return "p: id PK\n"
               "q: id PK\n"
               "t: id PK, n INT, s CHAR(3), body TEXT, body2 TEXT, p_id FK(p), q_id FK(q)\n";
    }
    void SetUp() override
    {
        DbTest::SetUp();
        ASSERT_EQ(1, add("p", {}));
        ASSERT_EQ(1, add("q", {}));
        ASSERT_EQ(1, add("t", {{"n", 1}, {"s", "s"}, {"body", "b"}, {"body2", "c"},
                               {"p_id", 1}, {"q_id", 1}}));
    }
};

TEST_F(Precedence, FirstErrorIn077Order)
{
    auto before = snapshot();
    Fields f = {{"id", 1},       {"n", "x"},    {"s", "toolong"}, {"body", 5},
                {"body2", 6},    {"p_id", 7},   {"q_id", 8}};
    auto set = [&f](const char *name, V v) {
        for (auto &kv : f)
            if (kv.first == name)
                kv.second = v;
    };
    EXPECT_BZ_ERR(insert("t", f), BZ_ECONSTRAINT, "Item id=7 does not exist in 'p'");
    set("p_id", 1);
    EXPECT_BZ_ERR(insert("t", f), BZ_ECONSTRAINT, "Item id=8 does not exist in 'q'");
    set("q_id", 1);
    EXPECT_BZ_ERR(insert("t", f), BZ_EVALIDATION, "'body': Type mismatch");
    set("body", "ok");
    EXPECT_BZ_ERR(insert("t", f), BZ_EVALIDATION, "'body2': Type mismatch");
    set("body2", "ok");
    EXPECT_BZ_ERR(insert("t", f), BZ_EVALIDATION, "'id': row with id 1 already exists");
    set("id", 2);
    EXPECT_BZ_ERR(insert("t", f), BZ_EVALIDATION, "'n': Type mismatch: `'x'` is not `int`");
    set("n", 5);
    EXPECT_BZ_ERR(insert("t", f), BZ_EVALIDATION, "'s': The value is too long");
    EXPECT_EQ("", diff_snapshots(before, snapshot()));
    set("s", "abc");
    EXPECT_EQ(2, add("t", f));
}

TEST_F(Precedence, UpdateReportsTheSameOrder)
{
    auto before = snapshot();
    EXPECT_BZ_ERR(update("t", 1, {{"n", "x"}, {"body", 5}, {"q_id", 9}, {"p_id", 8}}),
                  BZ_ECONSTRAINT, "Item id=8 does not exist in 'p'");
    EXPECT_BZ_ERR(update("t", 1, {{"n", "x"}, {"body", 5}}), BZ_EVALIDATION,
                  "'body': Type mismatch");
    EXPECT_BZ_ERR(update("t", 1, {{"s", "toolong"}, {"n", "x"}}), BZ_EVALIDATION,
                  "'n': Type mismatch: `'x'` is not `int`");
    EXPECT_EQ("", diff_snapshots(before, snapshot()));
}

/* Every failed operation leaves every file exactly as it was. */
class NoByteChanged : public DbTest {
protected:
    void SetUp() override
    {
        DbTest::SetUp();
        ASSERT_EQ(1, add("a", {{"text", "x"}}));
        ASSERT_EQ(1, add("b", {{"text", "y"}, {"a_id", 1}}));
        ASSERT_EQ(1, add("c", {{"varchar", "c1"}, {"int", 1}}));
        ASSERT_EQ(2, add("c", {{"varchar", "c2"}, {"int", 2}}));
        ASSERT_BZ_OK(bz_delete_by_id(db(), "c", 1)); /* a free slot to pop */
        ASSERT_EQ(1, add("f", {{"text", "hello"}}));
        ASSERT_EQ(1, add("g", {{"text1", "a"}, {"text2", "b"}, {"text3", "c"}}));
        before_ = snapshot();
    }
    void expect_unchanged(const char *what)
    {
        EXPECT_EQ("", diff_snapshots(before_, snapshot())) << what;
    }
    std::map<std::string, std::string> before_;
};

TEST_F(NoByteChanged, FailedInserts)
{
    EXPECT_EQ(BZ_ECONSTRAINT, insert("b", {{"text", "y"}, {"a_id", 42}}));
    expect_unchanged("insert with a missing foreign key");
    EXPECT_EQ(BZ_EVALIDATION, insert("f", {{"text", 5}}));
    expect_unchanged("insert with a bad TEXT type");
    EXPECT_EQ(BZ_EVALIDATION, insert("g", {{"text1", "aaa"}, {"text2", "bbb"}, {"text3", 5}}));
    expect_unchanged("insert with good TEXT values before a bad one");
    EXPECT_EQ(BZ_EVALIDATION, insert("g", {{"text1", "aaa"}, {"text2", "b"}, {"text3", "c"},
                                           {"id", 1}}));
    expect_unchanged("insert of TEXT values with a duplicate id");
    EXPECT_EQ(BZ_EVALIDATION, insert("a", {{"text", "dup"}, {"id", 1}}));
    expect_unchanged("insert with a duplicate id");
    EXPECT_EQ(BZ_EVALIDATION, insert("c", {{"varchar", "toolong"}, {"int", 3}}));
    expect_unchanged("insert of a too long value");
    EXPECT_EQ(BZ_EVALIDATION, insert("c", {{"varchar", "x"}, {"int", 1000000000}}));
    expect_unchanged("insert of a too big value");
    EXPECT_EQ(BZ_EVALIDATION, insert("c", {{"varchar", "x"}, {"int", "7"}}));
    expect_unchanged("insert with a type mismatch");
    EXPECT_EQ(BZ_EVALIDATION, insert("c", {{"varchar", nullptr}, {"int", 1}}));
    expect_unchanged("insert of None");
    EXPECT_EQ(BZ_EINVAL, insert("c", {{"varchar", "x"}, {"int", 1}, {"nosuch", 1}}));
    expect_unchanged("insert with an unknown field");
    /* No id was consumed by the failures. */
    EXPECT_EQ(3, add("c", {{"varchar", "c3"}, {"int", 3}}));
    EXPECT_EQ(2, add("a", {{"text", "z"}}));
}

TEST_F(NoByteChanged, FailedUpdatesKeepTheRow)
{
    EXPECT_EQ(BZ_EVALIDATION, update("c", 2, {{"int", "x"}}));
    expect_unchanged("update with a type mismatch");
    EXPECT_EQ(BZ_EVALIDATION, update("c", 2, {{"varchar", "toolong"}}));
    expect_unchanged("update with a too long value");
    EXPECT_EQ(BZ_EVALIDATION, update("f", 1, {{"text", 5}}));
    expect_unchanged("update with a bad TEXT type");
    EXPECT_EQ(BZ_EVALIDATION, update("f", 1, {{"text", nullptr}}));
    expect_unchanged("update of TEXT to None");
    EXPECT_EQ(BZ_EVALIDATION, update("g", 1, {{"text1", "new"}, {"text3", 5}}));
    expect_unchanged("update with good and bad TEXT values");
    EXPECT_EQ(BZ_ECONSTRAINT, update("b", 1, {{"a_id", 99}}));
    expect_unchanged("update with a missing foreign key");
    EXPECT_EQ(BZ_ENOTFOUND, update("c", 1, {{"int", 5}}));
    expect_unchanged("update of a deleted row");
    EXPECT_EQ(BZ_EINVAL, update("c", 2, {{"nosuch", 5}}));
    expect_unchanged("update with an unknown field");
    /* 0.0.7 loses the row here; we don't. */
    EXPECT_EQ(R"({"id":2,"int":2,"varchar":"c2"})", id_json("c", 2));
    EXPECT_EQ(R"({"id":1,"text":"hello"})", id_json("f", 1));
    EXPECT_EQ(R"({"a_id":1,"id":1,"text":"y"})", id_json("b", 1));
}

TEST_F(NoByteChanged, FailedDeleteAndTruncate)
{
    EXPECT_EQ(BZ_ENOTFOUND, bz_delete_by_id(db(), "c", 1));
    expect_unchanged("delete of a deleted row");
    EXPECT_EQ(BZ_ENOTFOUND, bz_delete_by_id(db(), "c", 1000));
    expect_unchanged("delete of an id past the index");
    EXPECT_EQ(BZ_ECONSTRAINT, bz_truncate(db(), "a", 0));
    expect_unchanged("refused truncate");
}

TEST_F(Errors, BadArguments)
{
    Values v(make_values({{"text", "x"}}));
    ASSERT_TRUE(v);
    bz_row *r = nullptr;
    bz_rows *rs = nullptr;
    EXPECT_EQ(BZ_EINVAL, bz_insert(nullptr, "a", v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_insert(db(), nullptr, v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_insert(db(), "a", nullptr, &r));
    EXPECT_EQ(BZ_EINVAL, bz_insert(db(), "nosuch", v.get(), &r));
    EXPECT_STRNE("", bz_errmsg());
    EXPECT_EQ(BZ_EINVAL, bz_insert(db(), "../a", v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_insert(db(), "", v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_update_by_id(nullptr, "a", 1, v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_update_by_id(db(), nullptr, 1, v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_update_by_id(db(), "a", 1, nullptr, &r));
    EXPECT_EQ(BZ_EINVAL, bz_update_by_id(db(), "nosuch", 1, v.get(), &r));
    EXPECT_EQ(BZ_EINVAL, bz_find_by_id(nullptr, "a", 1, nullptr, &r));
    EXPECT_EQ(BZ_EINVAL, bz_find_by_id(db(), nullptr, 1, nullptr, &r));
    EXPECT_EQ(BZ_EINVAL, bz_find_by_id(db(), "nosuch", 1, nullptr, &r));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(nullptr, "a", nullptr, &rs));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), nullptr, nullptr, &rs));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), "nosuch", nullptr, &rs));
    EXPECT_EQ(BZ_EINVAL, bz_find_by_cond(db(), "nosuch", nullptr, nullptr, &rs));
    EXPECT_EQ(BZ_EINVAL, bz_delete_by_id(nullptr, "a", 1));
    EXPECT_EQ(BZ_EINVAL, bz_delete_by_id(db(), nullptr, 1));
    EXPECT_EQ(BZ_EINVAL, bz_delete_by_id(db(), "nosuch", 1));
    EXPECT_EQ(BZ_EINVAL, bz_truncate(nullptr, "a", 0));
    EXPECT_EQ(BZ_EINVAL, bz_truncate(db(), nullptr, 0));
    EXPECT_EQ(BZ_EINVAL, bz_truncate(db(), "nosuch", 0));
    EXPECT_EQ(BZ_EINVAL, bz_lock(nullptr));
    EXPECT_EQ(BZ_EINVAL, bz_unlock(nullptr));
    bz_iter *it = nullptr;
    EXPECT_EQ(BZ_EINVAL, bz_iter_open(db(), "nosuch", nullptr, nullptr, &it));
    EXPECT_EQ(BZ_EINVAL, bz_iter_open(nullptr, "a", nullptr, nullptr, &it));
}

TEST_F(Errors, UnknownFieldsInConditionsAndJoins)
{
    EXPECT_EQ(1, add("a", {{"text", "x"}}));
    bz_rows *rs = nullptr;
    Cond c(leaf(BZ_EQ, "nosuch", 1));
    ASSERT_TRUE(c);
    EXPECT_EQ(BZ_EINVAL, bz_find_by_cond(db(), "a", c.get(), nullptr, &rs));
    bz_rows_free(rs);
    rs = nullptr;

    Joins j1(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add(j1.get(), "nosuch", "k", "a"));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), "b", j1.get(), &rs));
    bz_rows_free(rs);
    rs = nullptr;

    Joins j2(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add(j2.get(), "a_id", "k", "nosuch"));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), "b", j2.get(), &rs));
    bz_rows_free(rs);
    rs = nullptr;

    Joins j3(bz_joins_new());
    ASSERT_BZ_OK(bz_joins_add_inverse(j3.get(), "nosuch", "k", "b"));
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), "a", j3.get(), &rs));
    bz_rows_free(rs);
}

TEST(ErrorSpace, KindsAndStrings)
{
    EXPECT_STREQ("validation", bz_errkind(BZ_EVALIDATION));
    EXPECT_STREQ("not_found", bz_errkind(BZ_ENOTFOUND));
    EXPECT_STREQ("constraint", bz_errkind(BZ_ECONSTRAINT));
    EXPECT_STREQ("corrupt", bz_errkind(BZ_ECORRUPT));
    EXPECT_STREQ("bad_request", bz_errkind(BZ_EINVAL));
    EXPECT_STREQ("io", bz_errkind(BZ_EIO));
    for (int rc : std::initializer_list<int>{BZ_OK, BZ_EVALIDATION, BZ_ENOTFOUND, BZ_ECONSTRAINT, BZ_ECORRUPT,
                   BZ_EINVAL, BZ_EIO, BZ_ENOMEM, BZ_ESCHEMA, BZ_ELOCKED, 12345}) {
        ASSERT_NE(nullptr, bz_strerror(rc)) << rc;
        EXPECT_STRNE("", bz_strerror(rc)) << rc;
    }
    EXPECT_EQ(BZ_VERSION_NUMBER, bz_version_number());
    EXPECT_STREQ(BZ_VERSION_STRING, bz_version());
}

} // namespace

namespace {
/* A message quotes what was wrong; a huge name is cut, on a character
 * boundary, and the message says how much went. */
TEST_F(Errors, HugeNamesAreCutInMessages)
{
    std::string name;
    for (int i = 0; i < 50000; i++)
        name += "\xc3\xa9";  /* é: cutting must not split it */
    bz_rows *rs = nullptr;
    EXPECT_EQ(BZ_EINVAL, bz_find_all(db(), name.c_str(), nullptr, &rs));
    std::string m = bz_errmsg();
    EXPECT_LE(m.size(), 4096u);
    EXPECT_EQ(0u, m.rfind("no such table: '\xc3\xa9", 0)) << m.substr(0, 40);
    size_t cut = m.find("... (");
    ASSERT_NE(std::string::npos, cut);
    EXPECT_NE(std::string::npos, m.find("more bytes)", cut));
    /* What is kept is whole characters: the bytes before the cut come in
     * pairs after the quote. */
    size_t start = std::string("no such table: '").size();
    EXPECT_EQ(0u, (cut - start) % 2) << "cut inside a character";
}
} // namespace
