/*
 * badinput_test.cpp - the bad-input catalogue (issue 8): every way of
 * handing the library something wrong gets an error code and a message,
 * never a crash.
 *
 *  - PublicCalls: public calls with NULL / empty / oversized / negative /
 *    unknown arguments.  Each case runs in a forked child, so a crash is
 *    reported as that case's failure (with its name) instead of ending the
 *    suite.
 *  - Truncation: every file of a table cut at every length: each
 *    operation gives BZ_OK or BZ_ECORRUPT (never a crash, never a wrong
 *    row), and bz_check_dir reports the damage.
 *  - FileSizeLimit: RLIMIT_FSIZE tiny (SIGXFSZ ignored) during inserts,
 *    in a forked child, in both lock modes: a clear BZ_EIO (EFBIG), and
 *    afterwards every earlier row is intact and check finds nothing.
 *  - DamagedSegment: the regression test of the fuzz_segment finding (a
 *    segment whose header is valid but whose cache indices are out of
 *    range is rebuilt, not followed out of the mapping).
 *
 * Each test prints how many cases it tried.
 */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "helpers.h"

/* The segment's layout, for the regression test only (C11 header). */
#define _Static_assert static_assert
extern "C" {
#include "shm_int.h"
}
#undef _Static_assert

using namespace bzt;

namespace {

const char *kSchema =
    "people: id PK, name CHAR(8), age INT NULL\n"
    "notes: id PK, body TEXT, person_id FK(people) NULL, tag CHAR(3) NULL\n";

bz_options *mode_opts(bz_lock_mode m)
{
    bz_options *o = bz_options_new();
    bz_options_set_lock_mode(o, m);
    if (m == BZ_LOCK_SHARED)
        bz_options_set_cache_mb(o, 1);
    return o;
}

bz_db *open_mode(const std::string &dir, bz_lock_mode m, int *rc_out = nullptr)
{
    Schema s(parse_schema(kSchema));
    bz_options *o = mode_opts(m);
    bz_db *db = nullptr;
    int rc = bz_open(dir.c_str(), s.get(), o, &db);
    bz_options_free(o);
    if (rc_out)
        *rc_out = rc;
    return rc == BZ_OK ? db : nullptr;
}

int64_t add(bz_db *db, const char *table, const Fields &f)
{
    Values v(make_values(f));
    bz_row *r = nullptr;
    if (bz_insert(db, table, v.get(), &r) != BZ_OK)
        return -1;
    int64_t id = bz_row_id(r);
    bz_row_free(r);
    return id;
}

/* A small database with every field kind, a deleted row (free stack) and
 * erased TEXT records. */
void build(const std::string &dir)
{
    Db db(open_mode(dir, BZ_LOCK_FLOCK));
    ASSERT_TRUE(db) << last_error(-1);
    ASSERT_EQ(1, add(db.get(), "people", {{"name", "ann"}, {"age", 30}}));
    ASSERT_EQ(2, add(db.get(), "people", {{"name", "b\xc3\xa9"}, {"age", nullptr}}));
    ASSERT_EQ(3, add(db.get(), "people", {{"name", "cy"}, {"age", -5}}));
    ASSERT_EQ(1, add(db.get(), "notes", {{"body", "first"}, {"person_id", 1}, {"tag", "x"}}));
    ASSERT_EQ(2, add(db.get(), "notes", {{"body", "second note"}, {"person_id", nullptr}}));
    ASSERT_EQ(3, add(db.get(), "notes", {{"body", "third"}, {"person_id", 3}, {"tag", "abc"}}));
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "people", 2));
    ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "notes", 2));
}

/* ------------------------------------------------------------------ */
/* Public calls with bad arguments. */

struct Case {
    std::string name;
    std::function<int(bz_db *)> call;
    bool ok_allowed; /* BZ_OK is a correct answer too (e.g. "no such row") */
};

/* Run call in a child: 0 when it returned an error with a message (or OK
 * where allowed), else a code saying what went wrong. */
int run_case(const std::string &dir, const Case &c, std::string *what)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        Db db(open_mode(dir, BZ_LOCK_FLOCK));
        int rc = db ? c.call(db.get()) : -100;
        /* Messages may echo the bad argument (100 kB of name): the first
         * 400 bytes tell the parent enough. */
        std::string msg = std::string(std::to_string(rc) + " " + bz_errmsg()).substr(0, 400);
        if (write(pfd[1], msg.data(), msg.size()) < 0)
            _exit(3);
        int bad = rc == -100 ? 4
                  : rc == BZ_OK ? (c.ok_allowed ? 0 : 1)
                  : (rc < 0 || rc > BZ_ELOCKED) ? 5
                  : !*bz_errmsg() ? 2 : 0;
        db.reset();
        _exit(bad);
    }
    close(pfd[1]);
    char buf[512];
    ssize_t n = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    *what = n > 0 ? std::string(buf, (size_t)n) : std::string("(nothing)");
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        return 100 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

std::vector<Case> public_cases(const std::string &dir)
{
    static std::string huge(100000, 'a');
    static std::string big_dir = dir + "/" + std::string(5000, 'd');
    std::vector<Case> v;
    auto add_case = [&](const std::string &n, std::function<int(bz_db *)> f,
                        bool ok = false) { v.push_back({n, std::move(f), ok}); };

    /* Schemas. */
    add_case("schema_parse NULL text", [](bz_db *) {
        bz_schema *s = nullptr;
        return bz_schema_parse(nullptr, 5, &s);
    });
    add_case("schema_parse NULL out", [](bz_db *) {
        return bz_schema_parse("a: id PK", 8, nullptr);
    });
    add_case("schema_parse empty", [](bz_db *) {
        bz_schema *s = nullptr;
        int rc = bz_schema_parse("", 0, &s);
        if (rc == BZ_OK)
            bz_schema_free(s);
        return rc;
    }, true);
    for (const char *txt : {"a: id PK, b CHAR(0)", "a: id PK, b CHAR(-1)",
                            "a: id PK, b CHAR(65536)", "a: id PK, b CHAR(99999999999999999999)",
                            "a: id INT", "a: b INT", "a__b: id PK", "../x: id PK",
                            "a/b: id PK", "a: id PK, id INT", "a: id PK\na: id PK",
                            "a: id PK, f FK(nope)", "a: id PK NULL", "a: id PK, b WHAT",
                            "\xff: id PK", "a: id PK, b CHAR(3) NULL NULL", ":", "a:"}) {
        std::string t = txt;
        add_case(std::string("schema_parse '") + escape_bytes(t) + "'", [t](bz_db *) {
            bz_schema *s = nullptr;
            int rc = bz_schema_parse(t.data(), t.size(), &s);
            if (rc == BZ_OK)
                bz_schema_free(s);
            return rc;
        });
    }
    add_case("schema_parse oversized name", [](bz_db *) {
        std::string t = huge + ": id PK";
        bz_schema *s = nullptr;
        return bz_schema_parse(t.data(), t.size(), &s);
    });
    add_case("schema_load missing file", [](bz_db *) {
        bz_schema *s = nullptr;
        return bz_schema_load("/nonexistent/schema", &s);
    });
    add_case("schema_load NULL", [](bz_db *) {
        bz_schema *s = nullptr;
        return bz_schema_load(nullptr, &s);
    });
    add_case("schema_from_defs NULL tables", [](bz_db *) {
        bz_schema *s = nullptr;
        return bz_schema_from_defs(nullptr, 1, &s);
    });
    add_case("schema_from_defs NULL names", [](bz_db *) {
        bz_field_def f[] = {{nullptr, BZ_PK, 0, nullptr, 0}};
        bz_table_def t[] = {{nullptr, f, 1}};
        bz_schema *s = nullptr;
        return bz_schema_from_defs(t, 1, &s);
    });
    add_case("schema_from_defs bad kind and size", [](bz_db *) {
        bz_field_def f[] = {{"id", BZ_PK, 0, nullptr, 0},
                            {"x", (bz_kind)99, -4, nullptr, 0}};
        bz_table_def t[] = {{"t", f, 2}};
        bz_schema *s = nullptr;
        return bz_schema_from_defs(t, 1, &s);
    });
    add_case("schema_from_defs FK NULL ref", [](bz_db *) {
        bz_field_def f[] = {{"id", BZ_PK, 0, nullptr, 0},
                            {"x", BZ_FK, 0, nullptr, 0}};
        bz_table_def t[] = {{"t", f, 2}};
        bz_schema *s = nullptr;
        return bz_schema_from_defs(t, 1, &s);
    });
    add_case("schema_field out of range", [](bz_db *db) {
        bz_field_def d;
        return bz_schema_field(bz_db_schema(db), 99, 0, &d);
    });
    add_case("schema_field field out of range", [](bz_db *db) {
        bz_field_def d;
        return bz_schema_field(bz_db_schema(db), 0, 99, &d);
    });

    /* Opening. */
    add_case("open NULL dir", [](bz_db *db) {
        bz_db *d = nullptr;
        return bz_open(nullptr, bz_db_schema(db), nullptr, &d);
    });
    add_case("open NULL schema", [dir](bz_db *) {
        bz_db *d = nullptr;
        return bz_open(dir.c_str(), nullptr, nullptr, &d);
    });
    add_case("open NULL out", [dir](bz_db *db) {
        return bz_open(dir.c_str(), bz_db_schema(db), nullptr, nullptr);
    });
    add_case("open empty dir name", [](bz_db *db) {
        bz_db *d = nullptr;
        return bz_open("", bz_db_schema(db), nullptr, &d);
    });
    add_case("open oversized dir name", [](bz_db *db) {
        bz_db *d = nullptr;
        return bz_open(big_dir.c_str(), bz_db_schema(db), nullptr, &d);
    });
    add_case("open a regular file", [dir](bz_db *db) {
        bz_db *d = nullptr;
        std::string f = dir + "/people.dat";
        return bz_open(f.c_str(), bz_db_schema(db), nullptr, &d);
    });
    add_case("open other schema", [dir](bz_db *) {
        Schema s(parse_schema("people: id PK, name CHAR(9)\n"));
        bz_db *d = nullptr;
        return bz_open(dir.c_str(), s.get(), nullptr, &d);
    });
    add_case("open_recorded missing dir", [](bz_db *) {
        bz_db *d = nullptr;
        return bz_open_recorded("/nonexistent/dir", nullptr, &d);
    });
    add_case("open_recorded NULL", [](bz_db *) {
        bz_db *d = nullptr;
        return bz_open_recorded(nullptr, nullptr, &d);
    });
    add_case("open no create, missing", [dir](bz_db *db) {
        bz_options *o = bz_options_new();
        bz_options_set_create(o, 0);
        bz_db *d = nullptr;
        std::string m = dir + "/missing";
        int rc = bz_open(m.c_str(), bz_db_schema(db), o, &d);
        bz_options_free(o);
        return rc;
    });
    add_case("options_set_lock_mode unknown", [](bz_db *) {
        bz_options *o = bz_options_new();
        int rc = bz_options_set_lock_mode(o, (bz_lock_mode)42);
        bz_options_free(o);
        return rc;
    });
    add_case("options_set_lock_mode negative", [](bz_db *) {
        bz_options *o = bz_options_new();
        int rc = bz_options_set_lock_mode(o, (bz_lock_mode)-1);
        bz_options_free(o);
        return rc;
    });
    add_case("options_set_sync unknown", [](bz_db *) {
        bz_options *o = bz_options_new();
        int rc = bz_options_set_sync(o, (bz_sync)7);
        bz_options_free(o);
        return rc;
    });
    add_case("options_set_cache_mb oversized", [](bz_db *) {
        bz_options *o = bz_options_new();
        int rc = bz_options_set_cache_mb(o, (size_t)1 << 40);
        bz_options_free(o);
        return rc;
    });
    add_case("options NULL", [](bz_db *) { return bz_options_set_create(nullptr, 1); });

    /* Values, conditions, joins. */
    add_case("values_set_int NULL values", [](bz_db *) {
        return bz_values_set_int(nullptr, "x", 1);
    });
    add_case("values_set_int NULL field", [](bz_db *) {
        Values v(bz_values_new());
        return bz_values_set_int(v.get(), nullptr, 1);
    });
    add_case("values_set_str NULL string", [](bz_db *) {
        Values v(bz_values_new());
        return bz_values_set_str(v.get(), "x", nullptr);
    });
    add_case("values_set_strn NULL string", [](bz_db *) {
        Values v(bz_values_new());
        return bz_values_set_strn(v.get(), "x", nullptr, 3);
    });
    add_case("values_set_other NULL repr", [](bz_db *) {
        Values v(bz_values_new());
        return bz_values_set_other(v.get(), "x", nullptr);
    });
    add_case("cond_new unknown op gives NULL", [](bz_db *) {
        /* Documented: NULL for an unknown operator (no bz_rc to report). */
        for (int op : {0, -1, 10, 1000}) {
            bz_cond *c = bz_cond_new((bz_op)op);
            if (c) {
                bz_cond_free(c);
                return -9;
            }
        }
        return (int)BZ_OK;
    }, true);
    add_case("cond_add_int NULL cond", [](bz_db *) {
        return bz_cond_add_int(nullptr, "id", 1);
    });
    add_case("cond_add_str NULL value", [](bz_db *) {
        Cond c(bz_cond_new(BZ_EQ));
        return bz_cond_add_str(c.get(), "name", nullptr);
    });
    add_case("cond_add_null with LT, used", [](bz_db *db) {
        Cond c(bz_cond_new(BZ_LT));
        int rc = bz_cond_add_null(c.get(), "age");
        if (rc)
            return rc;
        bz_rows *r = nullptr;
        return bz_find_by_cond(db, "people", c.get(), nullptr, &r);
    });
    add_case("cond_add_in_int on EQ", [](bz_db *) {
        Cond c(bz_cond_new(BZ_EQ));
        return bz_cond_add_in_int(c.get(), "age", 1);
    });
    add_case("joins_add NULLs", [](bz_db *) {
        Joins j(bz_joins_new());
        return bz_joins_add(j.get(), nullptr, nullptr, nullptr);
    });
    add_case("joins_add_inverse NULL list", [](bz_db *) {
        return bz_joins_add_inverse(nullptr, "a", "b", "c");
    });

    /* Operations. */
    add_case("insert NULL db", [](bz_db *) {
        Values v(bz_values_new());
        return bz_insert(nullptr, "people", v.get(), nullptr);
    });
    add_case("insert NULL table", [](bz_db *db) {
        Values v(bz_values_new());
        return bz_insert(db, nullptr, v.get(), nullptr);
    });
    add_case("insert empty table name", [](bz_db *db) {
        Values v(bz_values_new());
        return bz_insert(db, "", v.get(), nullptr);
    });
    add_case("insert oversized table name", [](bz_db *db) {
        Values v(bz_values_new());
        return bz_insert(db, huge.c_str(), v.get(), nullptr);
    });
    add_case("insert path table name", [](bz_db *db) {
        Values v(bz_values_new());
        return bz_insert(db, "../people", v.get(), nullptr);
    });
    add_case("insert NULL values", [](bz_db *db) {
        return bz_insert(db, "people", nullptr, nullptr);
    });
    add_case("insert unknown field", [](bz_db *db) {
        Values v(make_values({{"name", "x"}, {"nope", 1}}));
        return bz_insert(db, "people", v.get(), nullptr);
    });
    add_case("insert oversized CHAR", [](bz_db *db) {
        Values v(make_values({{"name", huge}}));
        return bz_insert(db, "people", v.get(), nullptr);
    });
    add_case("insert invalid UTF-8", [](bz_db *db) {
        Values v(make_values({{"name", "\xff\xfe"}}));
        return bz_insert(db, "people", v.get(), nullptr);
    });
    add_case("insert NUL in CHAR", [](bz_db *db) {
        Values v(bz_values_new());
        bz_values_set_strn(v.get(), "name", "a\0b", 3);
        return bz_insert(db, "people", v.get(), nullptr);
    });
    for (int64_t bad : {(int64_t)-1, (int64_t)0, (int64_t)1000000000, INT64_MIN, INT64_MAX}) {
        add_case("insert id " + std::to_string(bad), [bad](bz_db *db) {
            Values v(make_values({{"id", (long long)bad}, {"name", "x"}}));
            return bz_insert(db, "people", v.get(), nullptr);
        });
        add_case("insert INT " + std::to_string(bad), [bad](bz_db *db) {
            Values v(make_values({{"name", "x"}, {"age", (long long)bad}}));
            int rc = bz_insert(db, "people", v.get(), nullptr);
            return rc;
        }, bad == 0 || bad == -1);
        add_case("find_by_id " + std::to_string(bad), [bad](bz_db *db) {
            bz_row *r = nullptr;
            int rc = bz_find_by_id(db, "people", bad, nullptr, &r);
            if (rc == BZ_OK && r) {
                bz_row_free(r);
                return -7; /* a row for an id that cannot exist */
            }
            return rc;
        }, true);
        add_case("update_by_id " + std::to_string(bad), [bad](bz_db *db) {
            Values v(make_values({{"name", "y"}}));
            return bz_update_by_id(db, "people", bad, v.get(), nullptr);
        });
        add_case("delete_by_id " + std::to_string(bad), [bad](bz_db *db) {
            return bz_delete_by_id(db, "people", bad);
        });
    }
    add_case("insert FK to missing row", [](bz_db *db) {
        Values v(make_values({{"body", "b"}, {"person_id", 99}}));
        return bz_insert(db, "notes", v.get(), nullptr);
    });
    add_case("insert string into INT", [](bz_db *db) {
        Values v(make_values({{"name", "x"}, {"age", "12"}}));
        return bz_insert(db, "people", v.get(), nullptr);
    });
    add_case("insert other into TEXT", [](bz_db *db) {
        Values v(make_values({{"body", V::other("3.5")}}));
        return bz_insert(db, "notes", v.get(), nullptr);
    });
    add_case("insert NULL into NOT NULL", [](bz_db *db) {
        Values v(make_values({{"name", nullptr}}));
        return bz_insert(db, "people", v.get(), nullptr);
    });
    add_case("find_by_id NULL out", [](bz_db *db) {
        return bz_find_by_id(db, "people", 1, nullptr, nullptr);
    });
    add_case("find_by_id unknown table", [](bz_db *db) {
        bz_row *r = nullptr;
        return bz_find_by_id(db, "nope", 1, nullptr, &r);
    });
    add_case("find_all NULL out", [](bz_db *db) {
        return bz_find_all(db, "people", nullptr, nullptr);
    });
    add_case("find_all NULL db", [](bz_db *) {
        bz_rows *r = nullptr;
        return bz_find_all(nullptr, "people", nullptr, &r);
    });
    add_case("find_by_cond unknown field", [](bz_db *db) {
        Cond c(bz_cond_new(BZ_EQ));
        bz_cond_add_int(c.get(), "nope", 1);
        bz_rows *r = nullptr;
        return bz_find_by_cond(db, "people", c.get(), nullptr, &r);
    });
    add_case("find_by_cond type mismatch", [](bz_db *db) {
        Cond c(bz_cond_new(BZ_LT));
        bz_cond_add_str(c.get(), "age", "x");
        bz_rows *r = nullptr;
        return bz_find_by_cond(db, "people", c.get(), nullptr, &r);
    });
    add_case("find_by_cond join unknown table", [](bz_db *db) {
        Joins j(bz_joins_new());
        bz_joins_add(j.get(), "person_id", "p", "nope");
        bz_rows *r = nullptr;
        return bz_find_by_cond(db, "notes", nullptr, j.get(), &r);
    });
    add_case("find_by_cond join non-FK field", [](bz_db *db) {
        Joins j(bz_joins_new());
        bz_joins_add(j.get(), "tag", "p", "people");
        bz_rows *r = nullptr;
        return bz_find_by_cond(db, "notes", nullptr, j.get(), &r);
    });
    add_case("find_by_cond join key clashes with a field", [](bz_db *db) {
        Joins j(bz_joins_new());
        bz_joins_add(j.get(), "person_id", "body", "people");
        bz_rows *r = nullptr;
        int rc = bz_find_by_cond(db, "notes", nullptr, j.get(), &r);
        if (rc == BZ_OK)
            bz_rows_free(r);
        return rc;
    }, true);
    add_case("count NULL out", [](bz_db *db) {
        return bz_count(db, "people", nullptr, nullptr);
    });
    add_case("truncate referenced", [](bz_db *db) {
        return bz_truncate(db, "people", 0);
    });
    add_case("truncate unknown", [](bz_db *db) { return bz_truncate(db, "nope", 1); });
    add_case("iter_open unknown table", [](bz_db *db) {
        bz_iter *it = nullptr;
        return bz_iter_open(db, "nope", nullptr, nullptr, &it);
    });
    add_case("iter_open NULL out", [](bz_db *db) {
        return bz_iter_open(db, "people", nullptr, nullptr, nullptr);
    });
    add_case("iter_next NULL", [](bz_db *) {
        bz_row *r = nullptr;
        return bz_iter_next(nullptr, &r);
    });
    add_case("unlock without lock", [](bz_db *db) { return bz_unlock(db); });
    add_case("lock NULL", [](bz_db *) { return bz_lock(nullptr); });
    add_case("commit without begin", [](bz_db *db) { return bz_commit(db); });
    add_case("rollback without begin", [](bz_db *db) { return bz_rollback(db); });
    add_case("begin twice", [](bz_db *db) {
        int rc = bz_begin(db);
        if (rc)
            return -8;
        return bz_begin(db); /* the child exits with the batch open */
    });
    add_case("stats_read NULL", [](bz_db *) {
        bz_stats *s = nullptr;
        return bz_stats_read(nullptr, &s);
    });
    add_case("stats_read no segment", [dir](bz_db *) {
        bz_stats *s = nullptr;
        return bz_stats_read(dir.c_str(), &s);
    });
    add_case("stats_read missing dir", [](bz_db *) {
        bz_stats *s = nullptr;
        return bz_stats_read("/nonexistent/dir", &s);
    });
    add_case("stats_reset missing dir", [](bz_db *) {
        return bz_stats_reset("/nonexistent/dir");
    });
    add_case("shm_remove no segment", [dir](bz_db *) { return bz_shm_remove(dir.c_str()); });
    add_case("check NULL db", [](bz_db *) { return bz_check(nullptr, 0, nullptr, nullptr); });
    add_case("check unknown flags", [](bz_db *db) {
        bz_check_summary s;
        return bz_check(db, 0x80000000u, nullptr, &s);
    }, true);
    add_case("check_dir NULL dir", [](bz_db *) {
        return bz_check_dir(nullptr, nullptr, nullptr, 0, nullptr, nullptr);
    });
    add_case("check_dir missing dir", [](bz_db *) {
        return bz_check_dir("/nonexistent/dir", nullptr, nullptr, 0, nullptr, nullptr);
    });
    add_case("check_dir oversized path", [](bz_db *) {
        return bz_check_dir(big_dir.c_str(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return v;
}

TEST(BadInput, PublicCalls)
{
    TempDir dir("bzbad");
    build(dir.path());
    std::vector<Case> cases = public_cases(dir.path());
    int tried = 0;
    for (const Case &c : cases) {
        std::string what;
        int r = run_case(dir.path(), c, &what);
        tried++;
        EXPECT_EQ(0, r) << c.name << ": "
                        << (r >= 100 ? "killed by signal " + std::to_string(r - 100)
                            : r == 1 ? std::string("returned BZ_OK")
                            : r == 2 ? std::string("error without a message")
                            : r == 5 ? std::string("rc outside bz_rc")
                                     : "status " + std::to_string(r))
                        << " (child said: " << what << ")";
    }
    /* The directory is still whole after all of that. */
    int errors = -1;
    bz_check_summary sum;
    ASSERT_EQ(BZ_OK, bz_check_dir(dir.c_str(), nullptr, nullptr, 0, nullptr, &sum))
        << last_error(-1);
    errors = (int)sum.errors;
    EXPECT_EQ(0, errors);
    printf("[ badinput ] public calls: %d cases tried\n", tried);
}

/* ------------------------------------------------------------------ */
/* Truncation of every file at every length. */

const char *const kFiles[] = {
    "people.dat", "people__seqnum.dat", "people__id.idx.dat", "people__free.dat",
    "notes.dat", "notes__seqnum.dat", "notes__id.idx.dat", "notes__free.dat",
    "notes.text.dat",
};

/* Every read the API offers on both tables; each must be OK or
 * BZ_ECORRUPT (with a message), and a row returned must have the id
 * asked for.  Returns whether any was BZ_ECORRUPT. */
bool read_everything(bz_db *db, const std::string &label)
{
    bool corrupt = false;
    auto ok = [&](int rc, const char *what) {
        if (rc == BZ_ECORRUPT) {
            corrupt = true;
            EXPECT_NE('\0', bz_errmsg()[0]) << label << " " << what;
        } else {
            EXPECT_EQ(BZ_OK, rc) << label << " " << what << ": " << last_error(rc);
        }
    };
    for (const char *t : {"people", "notes"}) {
        Joins j(bz_joins_new());
        if (!strcmp(t, "notes"))
            bz_joins_add(j.get(), "person_id", "person", "people");
        else
            bz_joins_add_inverse(j.get(), "person_id", "notes", "notes");
        bz_rows *rs = nullptr;
        ok(bz_find_all(db, t, j.get(), &rs), "find_all");
        bz_rows_free(rs);
        for (int64_t id = 1; id <= 4; id++) {
            bz_row *r = nullptr;
            ok(bz_find_by_id(db, t, id, j.get(), &r), "find_by_id");
            if (r) {
                EXPECT_EQ(id, bz_row_id(r)) << label;
            }
            bz_row_free(r);
        }
        int64_t n;
        ok(bz_count(db, t, nullptr, &n), "count");
        Cond c(bz_cond_new(BZ_ISUBSTR));
        bz_cond_add_str(c.get(), strcmp(t, "notes") ? "name" : "body", "E");
        rs = nullptr;
        ok(bz_find_by_cond(db, t, c.get(), nullptr, &rs), "find_by_cond");
        bz_rows_free(rs);
    }
    return corrupt;
}

TEST(BadInput, Truncation)
{
    TempDir dir("bzbad");
    build(dir.path());
    auto snap = snapshot_dir(dir.path(), false);
    int tried = 0, refused_at_open = 0, corrupt_reads = 0, unnoticed = 0;
    for (const char *f : kFiles) {
        ASSERT_TRUE(snap.count(f)) << f;
        const std::string &full = snap[f];
        for (size_t len = 0; len < full.size(); len++) {
            for (const auto &kv : snap)
                ASSERT_TRUE(write_file(dir.file(kv.first), kv.second));
            ASSERT_EQ(0, truncate(dir.file(f).c_str(), (off_t)len));
            /* Shared mode for every fifth length: the cache's path too. */
            bz_lock_mode m = len % 5 == 0 ? BZ_LOCK_SHARED : BZ_LOCK_FLOCK;
            std::string label = std::string(f) + " cut at " + std::to_string(len) +
                                (m == BZ_LOCK_SHARED ? " (shared)" : " (flock)");
            tried++;
            int rc;
            Db db(open_mode(dir.path(), m, &rc));
            bool corrupt = false;
            if (!db) {
                EXPECT_EQ(BZ_ECORRUPT, rc) << label << ": " << last_error(rc);
                EXPECT_NE('\0', bz_errmsg()[0]) << label;
                corrupt = true;
                refused_at_open++;
            } else {
                corrupt = read_everything(db.get(), label);
                corrupt_reads += corrupt;
            }
            db.reset();
            bz_check_summary sum;
            bz_options *o = mode_opts(m);
            int crc = bz_check_dir(dir.c_str(), nullptr, o, 0, nullptr, &sum);
            bz_options_free(o);
            ASSERT_EQ(BZ_OK, crc) << label << ": " << last_error(crc);
            if (corrupt) {
                EXPECT_GT(sum.errors, 0) << label << ": an operation saw "
                                         << "BZ_ECORRUPT but check found nothing";
            }
            /* Every cut changes what the rows imply, except a seqnum cut
             * that still parses (a lower seqnum is a warning). */
            if (sum.errors + sum.warnings == 0) {
                unnoticed++;
                ADD_FAILURE() << label << ": check reported nothing";
            }
        }
    }
    printf("[ badinput ] truncation: %d cases tried (%d refused at open, "
           "%d with BZ_ECORRUPT reads, %d unnoticed by check)\n",
           tried, refused_at_open, corrupt_reads, unnoticed);
}

/* ------------------------------------------------------------------ */
/* RLIMIT_FSIZE during inserts. */

void fsize_limit(bz_lock_mode m)
{
    TempDir dir("bzbad");
    build(dir.path());
    int pfd[2];
    ASSERT_EQ(0, pipe(pfd));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        signal(SIGXFSZ, SIG_IGN);
        Db db(open_mode(dir.path(), m));
        if (!db)
            _exit(10);
        long long biggest = 0;
        for (const char *f : kFiles)
            biggest = std::max(biggest, file_size(dir.file(f)));
        struct rlimit rl = {(rlim_t)biggest + 200, (rlim_t)biggest + 200};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(11);
        /* Insert until refused; report the ids that went in, then the
         * refusal. */
        std::string out;
        int rc = BZ_OK;
        for (int i = 0; i < 1000 && rc == BZ_OK; i++) {
            Values v(make_values({{"body", std::string(40, 'a' + i % 26)},
                                  {"person_id", 1}, {"tag", "t"}}));
            bz_row *r = nullptr;
            rc = bz_insert(db.get(), "notes", v.get(), &r);
            if (rc == BZ_OK) {
                out += std::to_string(bz_row_id(r)) + " ";
                bz_row_free(r);
            }
        }
        out += "| " + std::to_string(rc) + " " + std::to_string(bz_errno()) + " " +
               bz_errmsg();
        if (write(pfd[1], out.data(), out.size()) < 0)
            _exit(12);
        _exit(0);
    }
    close(pfd[1]);
    std::string got;
    char buf[4096];
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf)) > 0)
        got.append(buf, (size_t)n);
    close(pfd[0]);
    int st;
    ASSERT_EQ(pid, waitpid(pid, &st, 0));
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st << " " << got;
    size_t bar = got.find("| ");
    ASSERT_NE(std::string::npos, bar) << got;
    std::string tail = got.substr(bar + 2);
    EXPECT_EQ(std::to_string(BZ_EIO) + " " + std::to_string(EFBIG),
              tail.substr(0, tail.find(' ', tail.find(' ') + 1)))
        << "the refusal: " << tail;
    EXPECT_NE(std::string::npos, tail.find(' ', tail.find(' ') + 1)) << tail;
    std::vector<int64_t> inserted;
    for (size_t p = 0; p < bar;) {
        size_t q = got.find(' ', p);
        inserted.push_back(std::stoll(got.substr(p, q - p)));
        p = q + 1;
    }
    /* Re-open: every earlier row is there and intact; check is clean. */
    Db db(open_mode(dir.path(), m));
    ASSERT_TRUE(db) << last_error(-1);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "notes", nullptr, &rs)) << last_error(-1);
    Rows rows(rs);
    std::vector<int64_t> want = {1, 3};
    want.insert(want.end(), inserted.begin(), inserted.end());
    std::vector<int64_t> have = row_ids(rs); /* file order: 4 reuses row 2 */
    std::sort(have.begin(), have.end());
    EXPECT_EQ(want, have);
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *r = bz_rows_at(rs, i);
        const char *body;
        size_t len;
        ASSERT_EQ(BZ_OK, bz_row_get_str(r, "body", &body, &len));
        int64_t id = bz_row_id(r);
        std::string expect = id == 1 ? "first" : id == 3 ? "third"
                             : std::string(40, (char)('a' + (id - 4) % 26));
        EXPECT_EQ(expect, std::string(body, len)) << "id " << id;
    }
    db.reset();
    bz_check_summary sum;
    ASSERT_EQ(BZ_OK, bz_check_dir(dir.c_str(), nullptr, nullptr, 0, nullptr, &sum));
    EXPECT_EQ(0, sum.errors);
    printf("[ badinput ] RLIMIT_FSIZE (%s): %zu inserts before the refusal "
           "(%s)\n", m == BZ_LOCK_SHARED ? "shared" : "flock",
           inserted.size(), tail.c_str());
}

TEST(BadInput, FileSizeLimitFlock) { fsize_limit(BZ_LOCK_FLOCK); }
TEST(BadInput, FileSizeLimitShared) { fsize_limit(BZ_LOCK_SHARED); }

/* ------------------------------------------------------------------ */
/* Symlinks in the data directory are never followed: a table file, the
 * recorded schema or the lock file replaced by a link to a file outside
 * is refused, and the outside file is untouched. */

TEST(BadInput, SymlinksAreNotFollowed)
{
    int tried = 0;
    for (const char *f : {"people.dat", "people__seqnum.dat", "notes.text.dat",
                          "notes__id.idx.dat", "notes__free.dat", ".schema", ".lock"}) {
        for (bz_lock_mode m : {BZ_LOCK_FLOCK, BZ_LOCK_SHARED}) {
            TempDir dir("bzbad"), outside("bzout");
            build(dir.path());
            std::string victim = outside.file("victim");
            std::string original = read_file(dir.file(f));
            ASSERT_TRUE(write_file(victim, original));
            ASSERT_EQ(0, unlink(dir.file(f).c_str()));
            ASSERT_EQ(0, symlink(victim.c_str(), dir.file(f).c_str()));
            std::string label = std::string(f) + (m == BZ_LOCK_SHARED ? " (shared)" : " (flock)");
            int rc;
            Db db(open_mode(dir.path(), m, &rc));
            if (db) {
                /* Opened (a link left alone): writes must not reach it. */
                Values v(make_values({{"name", "zed"}}));
                bz_insert(db.get(), "people", v.get(), nullptr);
                Values w(make_values({{"body", "zz"}}));
                bz_insert(db.get(), "notes", w.get(), nullptr);
                db.reset();
                ADD_FAILURE() << label << ": opened through a symlink";
            } else {
                EXPECT_NE('\0', bz_errmsg()[0]) << label;
            }
            EXPECT_EQ(original, read_file(victim)) << label << ": the outside file changed";
            if (f[0] != '.') {
                bz_check_summary sum;
                Schema sc(parse_schema(kSchema));
                ASSERT_EQ(BZ_OK, bz_check_dir(dir.c_str(), sc.get(), nullptr, 0,
                                              nullptr, &sum)) << label << ": " << last_error(-1);
                EXPECT_GT(sum.errors, 0) << label << ": check did not report the link";
                EXPECT_EQ(original, read_file(victim)) << label;
            }
            tried++;
        }
    }
    printf("[ badinput ] symlinks: %d cases tried\n", tried);
}

/* ------------------------------------------------------------------ */
/* The segment of a directory, mapped by hand to damage it. */
struct MappedSegment {
    char *base = nullptr;
    size_t size = 0;
    struct shm_layout lay {};

    MappedSegment(const std::string &dir, bool writable)
    {
        struct stat ds;
        if (stat(dir.c_str(), &ds) != 0)
            return;
        char name[128];
        snprintf(name, sizeof name, "/bazoola-%llx-%llx",
                 (unsigned long long)ds.st_dev, (unsigned long long)ds.st_ino);
        int fd = shm_open(name, writable ? O_RDWR : O_RDONLY, 0);
        struct stat ss;
        if (fd < 0)
            return;
        if (fstat(fd, &ss) == 0) {
            void *p = mmap(nullptr, (size_t)ss.st_size,
                           PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
                           fd, 0);
            if (p != MAP_FAILED) {
                base = (char *)p;
                size = (size_t)ss.st_size;
                bz__seg_layout(&header()->sig, &lay);
            }
        }
        close(fd);
    }
    ~MappedSegment()
    {
        if (base)
            munmap(base, size);
    }
    MappedSegment(const MappedSegment &) = delete;
    MappedSegment &operator=(const MappedSegment &) = delete;

    struct shm_header *header() { return (struct shm_header *)base; }
    struct shm_frame *frames() { return (struct shm_frame *)(base + lay.frames); }
    struct shm_file *files() { return (struct shm_file *)(base + lay.files); }
    struct shm_undo *undo() { return (struct shm_undo *)(base + lay.undo); }
    int32_t *buckets() { return (int32_t *)(base + lay.buckets); }
};

/* ------------------------------------------------------------------ */
/* Regression (fuzz_segment): a segment left by dead processes whose header
 * is valid but whose cache indices point outside the mapping is rebuilt. */

TEST(BadInput, DamagedSegmentIsRebuilt)
{
    int tried = 0;
    for (int variant = 0; variant < 4; variant++) {
        TempDir dir("bzbad");
        build(dir.path());
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            /* Attach, warm the cache, die without detaching. */
            Db db(open_mode(dir.path(), BZ_LOCK_SHARED));
            bz_rows *rs = nullptr;
            if (!db || bz_find_all(db.get(), "notes", nullptr, &rs) != BZ_OK)
                _exit(1);
            _exit(0);
        }
        int st;
        ASSERT_EQ(pid, waitpid(pid, &st, 0));
        ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        {
            MappedSegment seg(dir.path(), true);
            ASSERT_NE(nullptr, seg.base);
            switch (variant) {
            case 0: seg.header()->clock_hand = 0xfffffff0u; break;
            case 1: seg.buckets()[3] = 1 << 30; break;
            case 2: seg.frames()[0].file = 1 << 20; break;
            case 3: seg.undo()->used = UINT64_MAX / 2; break;
            }
        }
        Db db(open_mode(dir.path(), BZ_LOCK_SHARED));
        ASSERT_TRUE(db) << "variant " << variant << ": " << last_error(-1);
        EXPECT_FALSE(read_everything(db.get(), "variant " + std::to_string(variant)));
        /* Rebuilt: the new segment's indices are in range. */
        {
            MappedSegment seg(dir.path(), false);
            ASSERT_NE(nullptr, seg.base);
            EXPECT_LT(seg.header()->clock_hand, seg.header()->sig.nframes)
                << "variant " << variant;
            EXPECT_LT(seg.undo()->used, (uint64_t)BZ_SHM_UNDO_SIZE);
        }
        db.reset();
        tried++;
    }
    printf("[ badinput ] damaged segments: %d cases tried\n", tried);
}

/* A forged undo log (a process of the same uid scribbling on the
 * segment) must not be replayed onto the files: recovery refuses it with
 * an error naming the log, and no file changes size. */
TEST(BadInput, ForgedUndoLogIsRefused)
{
    int tried = 0;
    for (int variant = 0; variant < 4; variant++) {
        TempDir dir("bzbad");
        build(dir.path());
        Db db(open_mode(dir.path(), BZ_LOCK_SHARED));
        ASSERT_TRUE(db) << last_error(-1);
        bz_rows *rs = nullptr;
        ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "notes", nullptr, &rs));
        bz_rows_free(rs);
        struct stat before;
        ASSERT_EQ(0, stat((dir.path() + "/notes.dat").c_str(), &before));

        {
            MappedSegment seg(dir.path(), true);
            ASSERT_NE(nullptr, seg.base);
            int32_t slot = -1;
            for (uint32_t k = 0; k < seg.header()->nfiles; k++)
                if (strcmp(seg.files()[k].name, "notes.dat") == 0)
                    slot = (int32_t)k;
            ASSERT_GE(slot, 0);
            struct shm_undo *u = seg.undo();
            auto *r = (struct shm_undo_rec *)(u + 1);
            r->file = slot;
            r->len = 0;
            r->off = 0;
            r->old_size = before.st_size;
            switch (variant) {
            case 0: r->old_size = (int64_t)1 << 39; break;  /* grow to 512 GiB */
            case 1: r->off = -4096; break;                 /* before the start */
            case 2: r->len = 8; r->old_size = 4; break;    /* bytes past the size */
            case 3: r->file = 1 << 20; break;              /* no such file */
            }
            u->nrec = 1;
            u->used = (sizeof(*r) + r->len + 7) & ~(size_t)7;
            u->pid = 1;
            __atomic_store_n(&u->active, 1, __ATOMIC_RELEASE);
        }

        /* The next writer finds the log active and must refuse it. */
        bz_values *v = bz_values_new();
        ASSERT_EQ(BZ_OK, bz_values_set_str(v, "body", "x"));
        int rc = bz_insert(db.get(), "notes", v, nullptr);
        bz_values_free(v);
        EXPECT_EQ(BZ_ECORRUPT, rc) << "variant " << variant;
        EXPECT_NE(nullptr, strstr(bz_errmsg(), "undo log"))
            << "variant " << variant << ": " << bz_errmsg();
        struct stat after;
        ASSERT_EQ(0, stat((dir.path() + "/notes.dat").c_str(), &after));
        EXPECT_EQ(before.st_size, after.st_size) << "variant " << variant;
        db.reset();
        bz_shm_remove(dir.c_str());
        tried++;
    }
    printf("[ badinput ] forged undo logs: %d cases tried\n", tried);
}

/* A data directory, or a table file, this process may not use: a clear
 * error naming the path, in both lock modes, and the data untouched.  As
 * root permission bits do not apply, so the attempt runs in a child that
 * dropped to nobody. */
TEST(BadInput, NoPermissionIsAClearError)
{
    int tried = 0;
    for (int variant = 0; variant < 4; variant++) {
        TempDir dir("bzbad");
        build(dir.path());
        std::string victim = variant < 2 ? dir.path() : dir.path() + "/people.dat";
        ASSERT_EQ(0, chmod(victim.c_str(), variant < 2 ? 0700 : 0400));
        if (variant >= 2) {
            /* nobody may enter the directory and lock it, not write the
             * file: the error must come from the table file itself */
            ASSERT_EQ(0, chmod(dir.c_str(), 0777));
            DIR *d = opendir(dir.c_str());
            ASSERT_NE(nullptr, d);
            while (struct dirent *e = readdir(d))
                if (e->d_name[0] != '.' || strcmp(e->d_name, ".lock") == 0 ||
                    strcmp(e->d_name, ".schema") == 0)
                    chmod((dir.path() + "/" + e->d_name).c_str(), 0666);
            closedir(d);
            ASSERT_EQ(0, chmod(victim.c_str(), 0444));
        }
        bz_lock_mode mode = variant % 2 ? BZ_LOCK_SHARED : BZ_LOCK_FLOCK;
        int pipefd[2];
        ASSERT_EQ(0, pipe(pipefd));
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(pipefd[0]);
            bool root = geteuid() == 0;
            if (root && (setgid(65534) != 0 || setuid(65534) != 0))
                _exit(3);
            if (!root && variant < 2) {
                if (chmod(victim.c_str(), 0) != 0)
                    _exit(5);
            }
            int rc = -1;
            bz_db *db = open_mode(dir.path(), mode, &rc);
            std::string msg = std::to_string(rc) + " " + bz_errmsg();
            if (write(pipefd[1], msg.data(), msg.size()) < 0)
                _exit(4);
            if (db)
                bz_close(db);
            _exit(rc == BZ_OK ? 1 : 0);
        }
        close(pipefd[1]);
        std::string msg;
        char buf[512];
        ssize_t n;
        while ((n = read(pipefd[0], buf, sizeof buf)) > 0)
            msg.append(buf, (size_t)n);
        close(pipefd[0]);
        int st;
        ASSERT_EQ(pid, waitpid(pid, &st, 0));
        ASSERT_TRUE(WIFEXITED(st));
        EXPECT_EQ(0, WEXITSTATUS(st)) << "variant " << variant << " opened: " << msg;
        EXPECT_NE(std::string::npos, msg.find("ermission denied")) << msg;
        EXPECT_NE(std::string::npos,
                  msg.find(variant < 2 ? dir.path() : std::string("people.dat")))
            << "the error names the path: " << msg;
        /* Nothing stored was lost: the owner still reads every row. */
        chmod(victim.c_str(), 0700);
        chmod(dir.c_str(), 0700);
        Db db(open_mode(dir.path(), BZ_LOCK_FLOCK));
        ASSERT_TRUE(db) << last_error(-1);
        EXPECT_FALSE(read_everything(db.get(), "variant " + std::to_string(variant)));
        db.reset();
        bz_shm_remove(dir.c_str());
        tried++;
    }
    printf("[ badinput ] no permission: %d cases tried\n", tried);
}

/* EIO from the I/O layer at every write of every kind of operation, in
 * both lock modes: the operation fails with BZ_EIO naming the file, every
 * byte of every table file is as before, and bazoola check is clean. */
std::atomic<uint64_t> g_fail_at{0};
std::string g_failed_file;

int fail_nth(const char *file, int64_t, size_t, uint64_t nth)
{
    if (nth != g_fail_at.load())
        return 0;
    g_failed_file = file;
    return EIO;
}

TEST(BadInput, EioAtEveryWriteChangesNoByte)
{
    using Op = std::function<int(bz_db *)>;
    const std::vector<std::pair<std::string, Op>> ops = {
        {"insert with TEXT", [](bz_db *db) {
             Values v(make_values({{"body", "new body"}, {"person_id", 1}, {"tag", "t"}}));
             return bz_insert(db, "notes", v.get(), nullptr);
         }},
        {"insert reusing a freed row", [](bz_db *db) {
             Values v(make_values({{"name", "dee"}, {"age", 4}}));
             return bz_insert(db, "people", v.get(), nullptr);
         }},
        {"update of a TEXT", [](bz_db *db) {
             Values v(make_values({{"body", "longer replacement body"}}));
             return bz_update_by_id(db, "notes", 3, v.get(), nullptr);
         }},
        {"delete", [](bz_db *db) { return bz_delete_by_id(db, "notes", 1); }},
        {"truncate", [](bz_db *db) { return bz_truncate(db, "notes", 0); }},
    };
    int tried = 0;
    for (bz_lock_mode mode : {BZ_LOCK_FLOCK, BZ_LOCK_SHARED}) {
        for (const auto &op : ops) {
            for (uint64_t n = 1;; n++) {
                TempDir dir("bzbad");
                build(dir.path());
                Db db(open_mode(dir.path(), mode));
                ASSERT_TRUE(db) << last_error(-1);
                auto before = snapshot_dir(dir.path(), true);
                g_fail_at = n;
                g_failed_file.clear();
                bz__set_write_hook(fail_nth);
                int rc = op.second(db.get());
                bz__set_write_hook(nullptr);
                std::string label = op.first + ", write " + std::to_string(n) +
                                    (mode == BZ_LOCK_SHARED ? ", shared" : ", flock");
                if (g_failed_file.empty()) {
                    /* Fewer than n writes: the operation ran whole. */
                    EXPECT_EQ(BZ_OK, rc) << label << ": " << bz_errmsg();
                    EXPECT_GT(n, 1u) << label << ": wrote nothing";
                    break;
                }
                tried++;
                EXPECT_EQ(BZ_EIO, rc) << label;
                EXPECT_NE(nullptr, strstr(bz_errmsg(), g_failed_file.c_str()))
                    << label << ": the error names " << g_failed_file << ": "
                    << bz_errmsg();
                EXPECT_EQ("", diff_snapshots(before, snapshot_dir(dir.path(), true)))
                    << label;
                db.reset();
                bz_check_summary sum;
                ASSERT_EQ(BZ_OK, bz_check_dir(dir.c_str(), nullptr, nullptr, 0,
                                              nullptr, &sum)) << label;
                EXPECT_EQ(0u, sum.errors + sum.warnings) << label;
                bz_shm_remove(dir.c_str());
            }
        }
    }
    EXPECT_GT(tried, 20);
    printf("[ badinput ] EIO injected: %d faults\n", tried);
}

} // namespace
