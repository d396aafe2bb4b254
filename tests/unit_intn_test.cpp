/*
 * unit_intn_test.cpp - INT(n), 0.0.7's INT(size=n): the schema text and C
 * structures, the bytes at every width, the range rule len(str(v)) <= n,
 * 64-bit values through values, rows and conditions, the recorded schema
 * and damaged fields.
 */
#include "unit_fixture.h"

using namespace bzt;

namespace {

std::string canonical(const std::string &text, std::string *err = nullptr)
{
    std::string e;
    Schema s(parse_schema(text, &e));
    if (!s) {
        if (err)
            *err = e;
        return "(does not parse: " + e + ")";
    }
    CStr t(bz_schema_text(s.get()));
    return t ? std::string(t.get()) : "(bz_schema_text returned NULL)";
}

std::string parse_error(const std::string &text)
{
    bz_schema *s = nullptr;
    int rc = bz_schema_parse(text.data(), text.size(), &s);
    bz_schema_free(s);
    if (rc != BZ_ESCHEMA)
        return "rc " + std::to_string(rc);
    return bz_errmsg();
}

TEST(IntNSchema, TextFormAndCanonicalText)
{
    EXPECT_EQ("h: id PK, small INT(3), big INT(12) NULL, n INT\n",
              canonical("h: id PK, small INT(3), big INT ( 12 ) NULL, n INT\n"));
    /* INT(9) is INT: a directory recorded with one opens with the other. */
    EXPECT_EQ(canonical("t: id PK, n INT\n"), canonical("t: id PK, n INT(9)\n"));
    EXPECT_EQ(canonical("t: id PK, n INT NULL\n"),
              canonical("t: id PK, n int(9) null\n"));
    EXPECT_NE(canonical("t: id PK, n INT\n"), canonical("t: id PK, n INT(8)\n"));
}

TEST(IntNSchema, FieldReportsItsWidth)
{
    std::string err;
    Schema s(parse_schema("h: id PK, small INT(3), plain INT, c CHAR(4), t TEXT\n",
                          &err));
    ASSERT_TRUE(s) << err;
    bz_field_def f;
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 1, &f));
    EXPECT_EQ(BZ_INT, f.kind);
    EXPECT_EQ(3, f.size);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 2, &f));
    EXPECT_EQ(BZ_INT, f.kind);
    EXPECT_EQ(9, f.size);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 3, &f));
    EXPECT_EQ(4, f.size);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 0, &f));
    EXPECT_EQ(0, f.size);
    ASSERT_BZ_OK(bz_schema_field(s.get(), 0, 4, &f));
    EXPECT_EQ(0, f.size);
}

TEST(IntNSchema, OutOfRangeSizesNameTheField)
{
    for (const char *bad : {"INT(0)", "INT(19)", "INT(-1)", "INT(x)", "INT()",
                            "INT(99999999999999999999)"}) {
        std::string msg = parse_error(std::string("t: id PK, small ") + bad + "\n");
        EXPECT_NE(std::string::npos, msg.find("'small'")) << bad << ": " << msg;
        EXPECT_NE(std::string::npos, msg.find("1..18")) << bad << ": " << msg;
        EXPECT_NE(std::string::npos, msg.find("line 1")) << bad << ": " << msg;
    }
    EXPECT_NE(std::string::npos, parse_error("t: id PK, n INT(3\n").find("')'"));
    EXPECT_NE(std::string::npos, parse_error("t: id PK, n INT(3) x\n").find("'x'"));
}

TEST(IntNSchema, FromDefs)
{
    const bz_field_def ok[] = {{"id", BZ_PK, 0, nullptr, 0},
                               {"small", BZ_INT, 3, nullptr, 0},
                               {"big", BZ_INT, 18, nullptr, 1},
                               {"plain", BZ_INT, 0, nullptr, 0}};
    bz_table_def t = {"h", ok, 4};
    bz_schema *raw = nullptr;
    ASSERT_BZ_OK(bz_schema_from_defs(&t, 1, &raw));
    Schema s(raw);
    CStr text(bz_schema_text(s.get()));
    EXPECT_STREQ("h: id PK, small INT(3), big INT(18) NULL, plain INT\n", text.get());

    for (int size : {-1, 19, 1000}) {
        const bz_field_def bad[] = {{"id", BZ_PK, 0, nullptr, 0},
                                    {"small", BZ_INT, size, nullptr, 0}};
        bz_table_def bt = {"h", bad, 2};
        bz_schema *b = nullptr;
        EXPECT_EQ(BZ_ESCHEMA, bz_schema_from_defs(&bt, 1, &b)) << size;
        std::string msg = bz_errmsg();
        EXPECT_NE(std::string::npos, msg.find("'small'")) << msg;
        EXPECT_NE(std::string::npos, msg.find("'h'")) << msg;
        bz_schema_free(b);
    }
}

class IntN : public DbTest {
protected:
    std::string schema_text() const override
    {
        return "a: id PK, text CHAR(5)\n"
               "h: id PK, small INT(3), big INT(12) NULL, a_id FK(a) NULL\n"
               "w: id PK, one INT(1) NULL, wide INT(18) NULL\n"
               "c: id PK, varchar CHAR(5), int INT\n";
    }
};

/* Row size of h: 9 + 3 + 12 + 9 + 1 = 34. */
TEST_F(IntN, BytesOfEachWidth)
{
    EXPECT_EQ(1, add("h", {{"small", 7}, {"big", 386962718396LL}, {"a_id", nullptr}}));
    EXPECT_EQ(2, add("h", {{"small", -99}, {"big", nullptr}, {"a_id", nullptr}}));
    EXPECT_EQ(3, add("h", {{"small", 999}, {"big", -99999999999LL}}));
    EXPECT_EQ("1        7  386962718396#########\n"
              "2        -99#####################\n"
              "3        999-99999999999#########\n",
              file("h.dat"));
    EXPECT_EQ(1, add("w", {{"one", 0}, {"wide", 999999999999999999LL}}));
    EXPECT_EQ(2, add("w", {{"one", 9}, {"wide", -99999999999999999LL}}));
    EXPECT_EQ(3, add("w", {{"one", nullptr}, {"wide", nullptr}}));
    EXPECT_EQ("1        0999999999999999999\n"
              "2        9-99999999999999999\n"
              "3        ###################\n",
              file("w.dat"));
}

TEST_F(IntN, SixtyFourBitValuesComeBack)
{
    EXPECT_EQ(1, add("w", {{"one", 5}, {"wide", 999999999999999999LL}}));
    EXPECT_EQ(R"({"id":1,"one":5,"wide":999999999999999999})", id_json("w", 1));
    reopen();
    bz_row *raw = nullptr;
    ASSERT_BZ_OK(bz_find_by_id(db(), "w", 1, nullptr, &raw));
    Row r(raw);
    ASSERT_TRUE(r);
    int64_t v = 0;
    ASSERT_BZ_OK(bz_row_get_int(r.get(), "wide", &v));
    EXPECT_EQ(999999999999999999LL, v);
    EXPECT_EQ(999999999999999999LL, bz_row_int(r.get(), 2));
    EXPECT_BZ_OK(update("w", 1, {{"wide", -99999999999999999LL}}));
    EXPECT_EQ(R"({"id":1,"one":5,"wide":-99999999999999999})", id_json("w", 1));
}

TEST_F(IntN, RangeIsTheLengthOfTheDecimalText)
{
    auto snap = snapshot();
    EXPECT_BZ_ERR(insert("h", {{"small", 1000}}), BZ_EVALIDATION,
                  "'small': The value is too big");
    /* "-100" is four characters: 0.0.7 calls that too big as well. */
    EXPECT_BZ_ERR(insert("h", {{"small", -100}}), BZ_EVALIDATION,
                  "'small': The value is too big");
    EXPECT_BZ_ERR(insert("h", {{"small", 1}, {"big", 1000000000000LL}}),
                  BZ_EVALIDATION, "'big': The value is too big");
    EXPECT_BZ_ERR(insert("h", {{"small", 1}, {"big", -100000000000LL}}),
                  BZ_EVALIDATION, "'big': The value is too big");
    EXPECT_BZ_ERR(insert("w", {{"one", -1}}), BZ_EVALIDATION,
                  "'one': The value is too big");
    EXPECT_BZ_ERR(insert("w", {{"one", 10}}), BZ_EVALIDATION,
                  "'one': The value is too big");
    EXPECT_BZ_ERR(insert("w", {{"wide", 1000000000000000000LL}}), BZ_EVALIDATION,
                  "'wide': The value is too big");
    EXPECT_BZ_ERR(insert("w", {{"wide", INT64_MIN}}), BZ_EVALIDATION,
                  "'wide': The value is too big");
    EXPECT_BZ_ERR(insert("w", {{"wide", -100000000000000000LL}}), BZ_EVALIDATION,
                  "'wide': The value is too big");
    EXPECT_EQ("", diff_snapshots(snap, snapshot()));
    /* Plain INT keeps its 9-character range. */
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", 1000000000}}),
                  BZ_EVALIDATION, "'int': The value is too big");
    EXPECT_BZ_ERR(insert("c", {{"varchar", "x"}, {"int", -100000000}}),
                  BZ_EVALIDATION, "'int': The value is too big");
    EXPECT_EQ(1, add("c", {{"varchar", "x"}, {"int", -99999999}}));
}

TEST_F(IntN, TypeAndNullErrorsKeep007Wording)
{
    EXPECT_BZ_ERR(insert("h", {{"small", "7"}}), BZ_EVALIDATION,
                  "'small': Type mismatch: `'7'` is not `int`");
    EXPECT_BZ_ERR(insert("h", {{"small", 1}, {"big", V::other("2.5")}}), BZ_EVALIDATION,
                  "'big': Type mismatch: `2.5` is not `int`");
    EXPECT_BZ_ERR(insert("h", {{"small", nullptr}}), BZ_EVALIDATION,
                  "'small': The value can't be None");
    EXPECT_BZ_ERR(insert("h", {{"big", 5}}), BZ_EVALIDATION,
                  "'small': The value can't be None");
}

TEST_F(IntN, ConditionsOnWideValues)
{
    EXPECT_EQ(1, add("h", {{"small", 1}, {"big", 386962718396LL}}));
    EXPECT_EQ(2, add("h", {{"small", -5}, {"big", -99999999999LL}}));
    EXPECT_EQ(3, add("h", {{"small", 42}, {"big", nullptr}}));
    EXPECT_EQ((Ids{1}), ids_where("h", leaf(BZ_EQ, "big", 386962718396LL)));
    EXPECT_EQ((Ids{1}), ids_where("h", leaf(BZ_GT, "big", 4294967296LL)));
    EXPECT_EQ((Ids{2}), ids_where("h", leaf(BZ_LT, "big", -4294967296LL)));
    EXPECT_EQ((Ids{2}), ids_where("h", leaf(BZ_LT, "small", 0)));
    EXPECT_EQ((Ids{1}), ids_where("h", leaf(BZ_SUBSTR, "big", "69627")));
    EXPECT_EQ((Ids{2}), ids_where("h", leaf(BZ_SUBSTR, "small", "-")));
    bz_cond *in = bz_cond_new(BZ_IN);
    ASSERT_TRUE(in);
    ASSERT_BZ_OK(bz_cond_add_in_int(in, "big", -99999999999LL));
    ASSERT_BZ_OK(bz_cond_add_in_int(in, "big", 7));
    EXPECT_EQ((Ids{2}), ids_where("h", in));
}

TEST_F(IntN, RecordedSchemaKeepsTheWidth)
{
    close();
    EXPECT_NE(std::string::npos,
              file(".schema").find("h: id PK, small INT(3), big INT(12) NULL"))
        << file(".schema");
    bz_db *raw = nullptr;
    ASSERT_BZ_OK(bz_open_recorded(dir_.c_str(), nullptr, &raw));
    Db recorded(raw);
    const bz_schema *s = bz_db_schema(recorded.get());
    bz_field_def f;
    ASSERT_BZ_OK(bz_schema_field(s, 1, 2, &f));
    EXPECT_EQ(12, f.size);
    recorded.reset();
    /* Another width is another schema. */
    std::string err;
    std::string other = schema_text();
    other.replace(other.find("INT(3)"), 6, "INT(4)");
    Db d(open_db(dir_.path(), other, &err));
    EXPECT_FALSE(d);
    EXPECT_NE(std::string::npos, err.find("h")) << err;
}

TEST_F(IntN, DamagedFieldIsCorruptionAtItsOffset)
{
    EXPECT_EQ(1, add("h", {{"small", 7}, {"big", 1}}));
    close();
    /* Row 0 of h: small at bytes 9..11. */
    std::string dat = file("h.dat");
    dat.replace(9, 3, "7x ");
    ASSERT_TRUE(write_file(dir_.file("h.dat"), dat));
    open();
    bz_row *raw = nullptr;
    int rc = bz_find_by_id(db(), "h", 1, nullptr, &raw);
    bz_row_free(raw);
    EXPECT_EQ(BZ_ECORRUPT, rc);
    std::string msg = bz_errmsg();
    EXPECT_NE(std::string::npos, msg.find("h.dat")) << msg;
    EXPECT_NE(std::string::npos, msg.find("small")) << msg;
}

} // namespace
