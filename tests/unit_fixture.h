/*
 * unit_fixture.h - the gtest fixture and assertion helpers of the unit
 * suites: a fresh data directory per test, opened with a schema.
 */
#ifndef BZ_TESTS_UNIT_FIXTURE_H
#define BZ_TESTS_UNIT_FIXTURE_H

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "helpers.h"

/* expr must fail with code and exactly message (captured right after). */
#define EXPECT_BZ_ERR(expr, code, message)                                  \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        std::string m_ = bz_errmsg() ? bz_errmsg() : "(null)";              \
        EXPECT_EQ(static_cast<int>(code), rc_) << #expr << ": " << m_;      \
        EXPECT_EQ(std::string(message), m_) << #expr;                       \
    } while (0)

#define EXPECT_BZ_OK(expr)                                                  \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        EXPECT_EQ(BZ_OK, rc_) << #expr << ": " << bzt::last_error(rc_);     \
    } while (0)

#define ASSERT_BZ_OK(expr)                                                  \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        ASSERT_EQ(BZ_OK, rc_) << #expr << ": " << bzt::last_error(rc_);     \
    } while (0)

namespace bzt {

/* A 9-byte number field: decimal, left-justified, space-padded. */
inline std::string num9(long long v)
{
    std::string s = std::to_string(v);
    s.resize(9, ' ');
    return s;
}
inline const std::string kNull9 = "#########";

class DbTest : public ::testing::Test {
protected:
    /* Override to use another schema. */
    virtual std::string schema_text() const { return kTestSchema; }

    void SetUp() override { open(); }
    void TearDown() override { db_.reset(); }

    void open()
    {
        std::string err;
        db_.reset(open_db(dir_.path(), schema_text(), &err));
        ASSERT_TRUE(db_) << err;
    }
    void close() { db_.reset(); }
    void reopen()
    {
        close();
        open();
    }
    bz_db *db() { return db_.get(); }

    int insert(const char *table, const Fields &f, bz_row **out = nullptr)
    {
        Values v(make_values(f));
        if (!v) {
            ADD_FAILURE() << "make_values failed";
            return -1;
        }
        return bz_insert(db(), table, v.get(), out);
    }
    int update(const char *table, int64_t id, const Fields &f, bz_row **out = nullptr)
    {
        Values v(make_values(f));
        if (!v) {
            ADD_FAILURE() << "make_values failed";
            return -1;
        }
        return bz_update_by_id(db(), table, id, v.get(), out);
    }
    /* Insert that must succeed; returns the new id (or -1). */
    int64_t add(const char *table, const Fields &f)
    {
        bz_row *row = nullptr;
        int rc = insert(table, f, &row);
        Row owned(row);
        if (rc != BZ_OK) {
            ADD_FAILURE() << "insert into " << table << ": " << last_error(rc);
            return -1;
        }
        if (!row) {
            ADD_FAILURE() << "insert into " << table << " returned no row";
            return -1;
        }
        return bz_row_id(row);
    }

    /* Result JSON of find_all / find_by_id / find_by_cond ("ERROR ..." on
     * failure, so comparisons fail loudly). */
    std::string all_json(const char *table, const bz_joins *j = nullptr)
    {
        bz_rows *rs = nullptr;
        int rc = bz_find_all(db(), table, j, &rs);
        Rows owned(rs);
        if (rc != BZ_OK)
            return "ERROR " + last_error(rc);
        Json js(rows_to_json(rs));
        return json_dump(js.get());
    }
    std::string id_json(const char *table, int64_t id, const bz_joins *j = nullptr)
    {
        bz_row *r = nullptr;
        int rc = bz_find_by_id(db(), table, id, j, &r);
        Row owned(r);
        if (rc != BZ_OK)
            return "ERROR " + last_error(rc);
        Json js(row_to_json(r));
        return json_dump(js.get());
    }
    /* Takes ownership of c. */
    std::vector<int64_t> ids_where(const char *table, bz_cond *c)
    {
        Cond owned(c);
        if (!c) {
            ADD_FAILURE() << "condition is NULL";
            return {-1};
        }
        bz_rows *rs = nullptr;
        int rc = bz_find_by_cond(db(), table, c, nullptr, &rs);
        Rows r(rs);
        if (rc != BZ_OK) {
            ADD_FAILURE() << "find_by_cond on " << table << ": " << last_error(rc);
            return {-1};
        }
        return row_ids(rs);
    }
    std::vector<int64_t> all_ids(const char *table)
    {
        bz_rows *rs = nullptr;
        int rc = bz_find_all(db(), table, nullptr, &rs);
        Rows r(rs);
        if (rc != BZ_OK) {
            ADD_FAILURE() << "find_all on " << table << ": " << last_error(rc);
            return {-1};
        }
        return row_ids(rs);
    }

    std::string file(const std::string &name) const
    {
        bool ok = false;
        std::string s = read_file(dir_.file(name), &ok);
        return ok ? s : "<missing " + name + ">";
    }
    std::map<std::string, std::string> snapshot() const
    {
        return snapshot_dir(dir_.path(), false);
    }

    TempDir dir_{"bzunit"};
    Db db_;
};

/* Leaf condition helpers: C("int", BZ_GT, 5). */
inline bz_cond *leaf(bz_op op, const char *field, long long v)
{
    bz_cond *c = bz_cond_new(op);
    if (c && bz_cond_add_int(c, field, v) != BZ_OK) {
        bz_cond_free(c);
        return nullptr;
    }
    return c;
}
inline bz_cond *leaf(bz_op op, const char *field, int v)
{
    return leaf(op, field, static_cast<long long>(v));
}
inline bz_cond *leaf(bz_op op, const char *field, const char *v)
{
    bz_cond *c = bz_cond_new(op);
    if (c && bz_cond_add_str(c, field, v) != BZ_OK) {
        bz_cond_free(c);
        return nullptr;
    }
    return c;
}

using Ids = std::vector<int64_t>;

} // namespace bzt

#endif
