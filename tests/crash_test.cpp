/*
 * crash_test.cpp - tests that kill (STYLE.md habit 12), and the concurrency
 * suite of Bazoola 0.0.7 at ten times its sizes.
 *
 *   KillAtNthWrite       a child runs a scripted mix of operations and dies
 *                        (_exit or SIGKILL) inside the engine's write hook
 *                        at write N, for N = 1, 2, ... until it finishes;
 *                        after each death the next process must find every
 *                        *.dat file as before or as after the interrupted
 *                        operation, and the rest of the script must end in
 *                        the reference run's exact bytes.
 *   DeadHolder           a process dies (SIGKILL) holding the lock in the
 *                        middle of an insert while four others wait.
 *   Suite007x10          0.0.7's tests/test_concurrency.py, sizes x10.
 *   ReadersAndChurn      reader processes verify every row they get while
 *                        writer processes update, delete and insert.
 *
 * Every test ends with check_dir(): the table files read directly (not
 * through the engine) against the 0.0.7 format's invariants.
 *
 * Crash atomicity is a shared-mode guarantee (the undo log lives in the
 * segment): BAZOOLA_LOCK_MODE is unset before any test runs.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

const bool kSharedMode = force_shared_mode();

constexpr int kChildTimeoutMs = 60000;

using Snapshot = std::map<std::string, std::string>;

long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/* ================================================================== */
/* The consistency checker: the files of a table, read directly.       */
/* ================================================================== */

struct FieldLayout {
    std::string name;
    bz_kind kind;
    size_t width;
    bool nullable;
};

struct TableLayout {
    std::string name;
    std::vector<FieldLayout> fields;
    size_t row_size = 0;
    bool has_text = false;
};

/* The tables of a schema text, through the public schema API. */
std::vector<TableLayout> layouts_of(const std::string &schema_text)
{
    std::vector<TableLayout> out;
    Schema s(parse_schema(schema_text));
    if (!s)
        return out;
    for (size_t t = 0; t < bz_schema_ntables(s.get()); t++) {
        TableLayout tl;
        tl.name = bz_schema_table_name(s.get(), t);
        for (size_t f = 0; f < bz_schema_nfields(s.get(), t); f++) {
            bz_field_def d;
            if (bz_schema_field(s.get(), t, f, &d) != BZ_OK)
                return {};
            size_t w = d.kind == BZ_CHAR || d.kind == BZ_INT ? static_cast<size_t>(d.size) : 9;
            tl.fields.push_back({d.name, d.kind, w, d.nullable != 0});
            tl.row_size += w;
            tl.has_text |= d.kind == BZ_TEXT;
        }
        tl.row_size += 1; /* '\n' */
        out.push_back(tl);
    }
    return out;
}

/* A 9-byte number: optional '-', digits, then only spaces. */
bool parse_num(const std::string &s, long long *out)
{
    size_t i = 0;
    if (i < s.size() && s[i] == '-')
        i++;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    size_t end_digits = i;
    while (i < s.size() && s[i] == ' ')
        i++;
    if (digits == 0 || i != s.size() || digits > 18)
        return false;
    *out = atoll(s.substr(0, end_digits).c_str());
    return true;
}

const std::string kNull9 = "#########";

struct TableCheck {
    std::string errors; /* "" when consistent */
    size_t live = 0, deleted = 0, text_refs = 0;
};

/*
 * The invariants of one table's files (BRIEF section 3):
 *   C1. T.dat is whole rows; each row is the deleted pattern or decodes
 *       (PK a number, INT/FK a number or NULL when nullable, CHAR without a
 *       stray NUL, TEXT a reference or NULL), ending in '\n'.
 *   C2. Index slots: "#########" or the row number of a live row holding
 *       exactly that id; every live row's id is indexed there; no id twice.
 *   C3. The free stack holds exactly the deleted rows, each once.
 *   C4. seqnum is a plain number >= the largest id below explicit_from
 *       (explicit ids do not move seqnum).
 *   C5. Every TEXT reference of a live row names a whole record (9-byte
 *       length + bytes) inside T.text.dat; records do not overlap; every
 *       byte no live row references is '#' (erased), so no half-written
 *       or orphan text survives.
 */
TableCheck check_table(const std::string &dir, const TableLayout &t,
                       long long explicit_from)
{
    TableCheck c;
    std::ostringstream err;
    int nerr = 0;
    auto bad = [&](const std::string &m) {
        if (nerr++ < 12)
            err << t.name << ": " << m << "; ";
    };
    bool ok[5] = {true, true, true, true, true};
    std::string dat = read_file(dir + "/" + t.name + ".dat", &ok[0]);
    std::string idx = read_file(dir + "/" + t.name + "__id.idx.dat", &ok[1]);
    std::string fre = read_file(dir + "/" + t.name + "__free.dat", &ok[2]);
    std::string seq = read_file(dir + "/" + t.name + "__seqnum.dat", &ok[3]);
    std::string txt;
    if (t.has_text)
        txt = read_file(dir + "/" + t.name + ".text.dat", &ok[4]);
    for (bool o : ok)
        if (!o) {
            c.errors = t.name + ": a table file is missing or unreadable";
            return c;
        }
    const size_t rs = t.row_size;
    if (dat.size() % rs)
        bad(".dat size " + std::to_string(dat.size()) + " is not a multiple of " +
            std::to_string(rs));
    if (idx.size() % 9)
        bad("__id.idx.dat size " + std::to_string(idx.size()) + " is not a multiple of 9");
    if (fre.size() % 9)
        bad("__free.dat size " + std::to_string(fre.size()) + " is not a multiple of 9");
    if (nerr) {
        c.errors = err.str();
        return c;
    }
    const size_t nrows = dat.size() / rs;
    const std::string deleted_row = std::string(rs - 1, '*') + "\n";
    std::vector<long long> row_id(nrows, -1); /* -1: deleted */
    std::map<long long, size_t> id_row;
    std::vector<std::pair<long long, long long>> refs; /* [start, end) */
    long long max_auto = 0;
    for (size_t r = 0; r < nrows; r++) {
        std::string row = dat.substr(r * rs, rs);
        if (row == deleted_row) {
            c.deleted++;
            continue;
        }
        const std::string where = "row " + std::to_string(r);
        if (row.back() != '\n')
            bad(where + " does not end in a newline: \"" + escape_bytes(row) + "\"");
        size_t off = 0;
        long long id = -1;
        bool row_ok = true;
        for (const auto &f : t.fields) {
            std::string v = row.substr(off, f.width);
            off += f.width;
            long long num;
            switch (f.kind) {
            case BZ_PK:
                if (!parse_num(v, &num) || num <= 0) {
                    bad(where + " has a bad id \"" + escape_bytes(v) + "\"");
                    row_ok = false;
                } else {
                    id = num;
                }
                break;
            case BZ_INT:
            case BZ_FK:
                if (v == kNull9) {
                    if (!f.nullable)
                        bad(where + " field " + f.name + " is NULL but not nullable");
                } else if (!parse_num(v, &num)) {
                    bad(where + " field " + f.name + " is not a number: \"" +
                        escape_bytes(v) + "\"");
                }
                break;
            case BZ_CHAR:
                if (v == std::string(f.width, '\0')) {
                    if (!f.nullable)
                        bad(where + " field " + f.name + " is NULL but not nullable");
                } else if (v.find('\0') != std::string::npos) {
                    bad(where + " field " + f.name + " holds a NUL byte: \"" +
                        escape_bytes(v) + "\"");
                }
                break;
            case BZ_TEXT:
                if (v == kNull9) {
                    if (!f.nullable)
                        bad(where + " field " + f.name + " is NULL but not nullable");
                } else if (!parse_num(v, &num) || num < 0 ||
                           static_cast<size_t>(num) + 9 > txt.size()) {
                    bad(where + " TEXT " + f.name + " reference \"" + escape_bytes(v) +
                        "\" is outside .text.dat (" + std::to_string(txt.size()) + " bytes)");
                } else {
                    long long len;
                    std::string lenf = txt.substr(static_cast<size_t>(num), 9);
                    if (!parse_num(lenf, &len) || len < 0 ||
                        static_cast<size_t>(num + 9 + len) > txt.size())
                        bad(where + " TEXT " + f.name + " at " + std::to_string(num) +
                            " has a bad record length \"" + escape_bytes(lenf) + "\"");
                    else {
                        refs.push_back({num, num + 9 + len});
                        c.text_refs++;
                    }
                }
                break;
            }
        }
        if (!row_ok)
            continue;
        c.live++;
        row_id[r] = id;
        if (!id_row.emplace(id, r).second)
            bad("id " + std::to_string(id) + " is live in rows " +
                std::to_string(id_row[id]) + " and " + std::to_string(r));
        if (id < explicit_from)
            max_auto = std::max(max_auto, id);
    }
    /* C2 */
    std::set<long long> indexed;
    for (size_t k = 0; k < idx.size() / 9; k++) {
        std::string slot = idx.substr(k * 9, 9);
        if (slot == kNull9)
            continue;
        long long r;
        if (!parse_num(slot, &r) || r < 0 || static_cast<size_t>(r) >= nrows) {
            bad("index slot of id " + std::to_string(k + 1) + " is bad: \"" +
                escape_bytes(slot) + "\"");
            continue;
        }
        if (row_id[r] != static_cast<long long>(k) + 1)
            bad("index slot of id " + std::to_string(k + 1) + " points to row " +
                std::to_string(r) + " holding id " + std::to_string(row_id[r]));
        indexed.insert(static_cast<long long>(k) + 1);
    }
    for (const auto &kv : id_row)
        if (!indexed.count(kv.first))
            bad("row " + std::to_string(kv.second) + " (id " + std::to_string(kv.first) +
                ") is not indexed");
    /* C3 */
    std::set<long long> freed;
    for (size_t k = 0; k < fre.size() / 9; k++) {
        long long r;
        std::string e = fre.substr(k * 9, 9);
        if (!parse_num(e, &r) || r < 0 || static_cast<size_t>(r) >= nrows) {
            bad("free entry " + std::to_string(k) + " is bad: \"" + escape_bytes(e) + "\"");
            continue;
        }
        if (row_id[r] != -1)
            bad("free entry " + std::to_string(k) + " names live row " + std::to_string(r));
        if (!freed.insert(r).second)
            bad("row " + std::to_string(r) + " is twice on the free stack");
    }
    for (size_t r = 0; r < nrows; r++)
        if (row_id[r] == -1 && dat.substr(r * rs, rs) == deleted_row &&
            !freed.count(static_cast<long long>(r)))
            bad("deleted row " + std::to_string(r) + " is not on the free stack");
    /* C4 */
    long long s;
    if (seq.empty() || seq.find_first_not_of("0123456789") != std::string::npos ||
        !parse_num(seq, &s))
        bad("seqnum \"" + escape_bytes(seq) + "\" is not a plain number");
    else if (s < max_auto)
        bad("seqnum " + std::to_string(s) + " is below the largest id " +
            std::to_string(max_auto));
    /* C5 */
    if (t.has_text) {
        std::sort(refs.begin(), refs.end());
        std::vector<bool> covered(txt.size(), false);
        for (size_t i = 0; i < refs.size(); i++) {
            if (i && refs[i].first < refs[i - 1].second)
                bad("TEXT records at " + std::to_string(refs[i - 1].first) + " and " +
                    std::to_string(refs[i].first) + " overlap");
            for (long long b = refs[i].first; b < refs[i].second; b++)
                covered[static_cast<size_t>(b)] = true;
        }
        size_t orphan = 0, first = 0;
        for (size_t b = 0; b < txt.size(); b++)
            if (!covered[b] && txt[b] != '#' && orphan++ == 0)
                first = b;
        if (orphan)
            bad(std::to_string(orphan) + " bytes of .text.dat are neither referenced nor "
                "erased, from offset " + std::to_string(first) + ": \"" +
                escape_bytes(txt.substr(first, 60)) + "\"");
    }
    if (nerr > 12)
        err << "(" << nerr - 12 << " more)";
    c.errors = err.str();
    return c;
}

/* Every table of the schema; "" when all are consistent. */
std::string check_dir(const std::string &dir, const std::string &schema_text,
                      long long explicit_from = LLONG_MAX)
{
    auto tables = layouts_of(schema_text);
    if (tables.empty())
        return "schema does not parse";
    std::string all;
    for (const auto &t : tables)
        all += check_table(dir, t, explicit_from).errors;
    return all;
}

/* The checker must be able to fail: it is checked on damaged files once. */
TEST(Checker, FindsWhatItMustFind)
{
    const char *schema = "t: id PK, n INT, body TEXT\n";
    TempDir dir("bzcheck");
    {
        std::string err;
        Db db(open_db(dir.path(), schema, &err));
        ASSERT_TRUE(db) << err;
        for (int i = 0; i < 4; i++) {
            Values v(make_values({{"n", i}, {"body", "text" + std::to_string(i)}}));
            ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
        }
        ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "t", 2));
    }
    ASSERT_EQ("", check_dir(dir.path(), schema));
    Snapshot good = snapshot_dir(dir.path(), true);
    auto damaged = [&](const std::string &file, off_t off, const std::string &bytes) {
        for (const auto &kv : good)
            write_file(dir.file(kv.first), kv.second);
        patch_file(dir.file(file), off, bytes);
        return check_dir(dir.path(), schema);
    };
    EXPECT_NE("", damaged("t__seqnum.dat", 0, "2"));            /* C4 */
    EXPECT_NE("", damaged("t__free.dat", 0, "0        "));      /* C3 */
    EXPECT_NE("", damaged("t__id.idx.dat", 0, "2        "));    /* C2 */
    EXPECT_NE("", damaged("t.text.dat", 3, "Z"));               /* C5: length */
    EXPECT_NE("", damaged("t.text.dat", 16, "Z"));              /* C5: erased byte */
    EXPECT_NE("", damaged("t.dat", 18, "999999999"));           /* C5: reference */
    EXPECT_NE("", damaged("t.dat", 9, "x"));                    /* C1 */
    std::string orphan = good["t.text.dat"] + "000000003abc";
    for (const auto &kv : good)
        write_file(dir.file(kv.first), kv.second);
    write_file(dir.file("t.text.dat"), orphan);
    EXPECT_NE("", check_dir(dir.path(), schema));               /* C5: orphan */
}

/* ================================================================== */
/* Children.                                                           */
/* ================================================================== */

bool write_all_fd(int fd, const std::string &s)
{
    const char *c = s.data();
    size_t n = s.size();
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        c += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

/* A child's failure: a line on its report pipe and on stderr. */
int child_fail(int fd, int code, const std::string &why)
{
    fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), why.c_str());
    write_all_fd(fd, "ERROR " + why + "\n");
    return code;
}

struct ChildOut {
    pid_t pid = -1;
    int status = -1;
    bool finished = false;
    std::string out;
};

/*
 * Fork n children running fn(i, report_fd); they start together (a pipe
 * barrier).  on_start (optional) runs in the parent once they are released,
 * with their report descriptors (to poll, not read).  Their reports are
 * drained concurrently.  Returns "" or what failed (with the reports of the
 * children that failed).
 */
std::string run_children(int n, const std::function<int(int, int)> &fn,
                         std::vector<ChildOut> *res, int timeout_ms = kChildTimeoutMs,
                         const std::function<void(const std::vector<int> &)> &on_start =
                             nullptr)
{
    int go[2];
    if (pipe(go) != 0)
        return "pipe failed";
    res->assign(static_cast<size_t>(n), ChildOut());
    std::vector<int> fds;
    for (int i = 0; i < n; i++) {
        int out[2];
        if (pipe(out) != 0)
            return "pipe failed";
        pid_t pid = spawn_child([&, i] {
            close(go[1]);
            close(out[0]);
            char c;
            if (read(go[0], &c, 1) < 0)
                return child_fail(out[1], 11, "barrier read failed");
            return fn(i, out[1]);
        });
        close(out[1]);
        if (pid < 0)
            return "fork failed";
        (*res)[static_cast<size_t>(i)].pid = pid;
        fds.push_back(out[0]);
    }
    close(go[0]);
    close(go[1]); /* release the barrier */
    long long deadline = now_ms() + timeout_ms;
    if (on_start)
        on_start(fds);
    std::vector<bool> open(static_cast<size_t>(n), true);
    int nopen = n;
    while (nopen > 0 && now_ms() < deadline) {
        std::vector<struct pollfd> p;
        std::vector<int> which;
        for (int i = 0; i < n; i++)
            if (open[static_cast<size_t>(i)]) {
                p.push_back({fds[static_cast<size_t>(i)], POLLIN, 0});
                which.push_back(i);
            }
        int r = poll(p.data(), p.size(), 200);
        if (r < 0 && errno != EINTR)
            break;
        for (size_t k = 0; r > 0 && k < p.size(); k++) {
            if (!p[k].revents)
                continue;
            size_t i = static_cast<size_t>(which[k]);
            char buf[65536];
            ssize_t got = read(fds[i], buf, sizeof buf);
            if (got > 0) {
                (*res)[i].out.append(buf, static_cast<size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                open[i] = false;
                nopen--;
            }
        }
    }
    std::string errs;
    for (int i = 0; i < n; i++) {
        auto &c = (*res)[static_cast<size_t>(i)];
        close(fds[static_cast<size_t>(i)]);
        long long left = std::max(1000LL, deadline - now_ms());
        c.finished = wait_child(c.pid, static_cast<int>(left), &c.status);
        if (!c.finished)
            errs += "child " + std::to_string(i) + " timed out (killed); ";
        else if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0)
            errs += "child " + std::to_string(i) + " " + describe_status(c.status) +
                    ": " + c.out.substr(0, 400) + "; ";
    }
    return errs;
}

std::vector<std::string> lines_of(const std::string &s)
{
    std::vector<std::string> out;
    std::istringstream is(s);
    std::string l;
    while (std::getline(is, l))
        if (!l.empty())
            out.push_back(l);
    return out;
}

int64_t rint(const bz_row *r, const char *name)
{
    int64_t v = INT64_MIN;
    bz_row_get_int(r, name, &v);
    return v;
}

std::string rstr(const bz_row *r, const char *name)
{
    const char *s = nullptr;
    size_t len = 0;
    if (bz_row_get_str(r, name, &s, &len) != BZ_OK || !s)
        return "<null>";
    return std::string(s, len);
}

int do_insert(bz_db *db, const char *t, const Fields &f, int64_t *id = nullptr)
{
    Values v(make_values(f));
    if (!v)
        return BZ_ENOMEM;
    bz_row *r = nullptr;
    int rc = bz_insert(db, t, v.get(), &r);
    Row row(r);
    if (rc == BZ_OK && id)
        *id = r ? bz_row_id(r) : -1;
    return rc;
}

int do_update(bz_db *db, const char *t, int64_t id, const Fields &f)
{
    Values v(make_values(f));
    if (!v)
        return BZ_ENOMEM;
    return bz_update_by_id(db, t, id, v.get(), nullptr);
}

/* ================================================================== */
/* 1. Kill at the Nth write.                                           */
/* ================================================================== */

const char *const kKillSchema =
    "a: id PK, name CHAR(8)\n"
    "b: id PK, a_id FK(a) NULL, body TEXT NULL, n INT\n";
/* Ids at or above this are given explicitly (they do not move seqnum). */
constexpr long long kKillExplicitFrom = 50;

struct ScriptOp {
    std::string what;
    std::function<int(bz_db *)> run;
};

std::string big_text(size_t n, char c)
{
    std::string s = "big-" + std::string(1, c) + ":";
    s.reserve(n);
    for (size_t i = s.size(); i < n; i++)
        s.push_back(i % 80 == 79 ? '\n' : static_cast<char>(c + i % 3));
    return s;
}

/*
 * Every kind of write: inserts with TEXT (small and 600 KB ones, so that the
 * cascade truncate's undo record of .text.dat outgrows the segment's undo
 * area and spills to DIR/.undo), updates changing TEXT, deletes, explicit
 * ids (free-stack reuse, index gaps), a truncate with cascade, more inserts.
 */
std::vector<ScriptOp> kill_script()
{
    using F = Fields;
    return {
        {"insert a a1", [](bz_db *d) { return do_insert(d, "a", F{{"name", "a1"}}); }},
        {"insert a a2", [](bz_db *d) { return do_insert(d, "a", F{{"name", "a2"}}); }},
        {"insert b 1", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 1}, {"body", "hello world"}, {"n", 1}});
         }},
        {"insert b 2 (300-byte text)", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 2}, {"body", std::string(300, 'p')}, {"n", 2}});
         }},
        {"insert b 3 (NULLs)", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", nullptr}, {"body", nullptr}, {"n", 3}});
         }},
        {"update b 1 (text)", [](bz_db *d) {
             return do_update(d, "b", 1, F{{"body", "changed body one"}, {"n", 10}});
         }},
        {"update b 3 (NULL -> text)", [](bz_db *d) {
             return do_update(d, "b", 3, F{{"body", "now it has a body"}});
         }},
        {"delete b 2", [](bz_db *d) { return bz_delete_by_id(d, "b", 2); }},
        {"insert b id=50 (reuses row 1)", [](bz_db *d) {
             return do_insert(d, "b", F{{"id", 50}, {"a_id", 1}, {"body", "explicit"}, {"n", 50}});
         }},
        {"insert b 4", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 2}, {"body", "after explicit"}, {"n", 4}});
         }},
        {"update a 1", [](bz_db *d) { return do_update(d, "a", 1, F{{"name", "A-one"}}); }},
        {"insert b 5 (600 KB text)", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 1}, {"body", big_text(600000, 'x')}, {"n", 5}});
         }},
        {"update b 5 (600 KB text)", [](bz_db *d) {
             return do_update(d, "b", 5, F{{"body", big_text(600000, 'k')}});
         }},
        {"delete b 1", [](bz_db *d) { return bz_delete_by_id(d, "b", 1); }},
        {"update b 50 (text -> NULL)", [](bz_db *d) {
             return do_update(d, "b", 50, F{{"a_id", 2}, {"body", nullptr}});
         }},
        {"truncate a cascade", [](bz_db *d) { return bz_truncate(d, "a", 1); }},
        {"insert a x1", [](bz_db *d) { return do_insert(d, "a", F{{"name", "x1"}}); }},
        {"insert b 1 after truncate", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 1}, {"body", "post-truncate"}, {"n", 100}});
         }},
        {"insert b id=70", [](bz_db *d) {
             return do_insert(d, "b", F{{"id", 70}, {"body", "seventy"}, {"n", 70}});
         }},
        {"update b 1", [](bz_db *d) {
             return do_update(d, "b", 1, F{{"body", "final text"}, {"n", 101}});
         }},
        {"delete b 70", [](bz_db *d) { return bz_delete_by_id(d, "b", 70); }},
        {"insert b 2 (reuses row)", [](bz_db *d) {
             return do_insert(d, "b", F{{"a_id", 1}, {"body", "reuse"}, {"n", 102}});
         }},
        {"insert a x2", [](bz_db *d) { return do_insert(d, "a", F{{"name", "x2"}}); }},
        {"update b 2 (FK only)", [](bz_db *d) { return do_update(d, "b", 2, F{{"a_id", 2}}); }},
        {"delete b 1", [](bz_db *d) { return bz_delete_by_id(d, "b", 1); }},
    };
}

struct Reference {
    std::vector<Snapshot> snaps;          /* [k]: before op k; [n]: at the end */
    std::vector<uint64_t> writes_before;  /* [k]: hooked writes before op k    */
};

std::atomic<uint64_t> g_writes{0};
int count_hook(const char *, int64_t, size_t, uint64_t nth)
{
    g_writes.store(nth);
    return 0;
}

/* Run the script without faults, counting writes and taking snapshots. */
std::string run_reference(const std::string &dir, const std::vector<ScriptOp> &script,
                          Reference *ref)
{
    std::string err;
    Db db(open_db(dir, kKillSchema, &err));
    if (!db)
        return err;
    g_writes = 0;
    bz__set_write_hook(count_hook);
    std::string why;
    for (size_t k = 0; k < script.size() && why.empty(); k++) {
        ref->snaps.push_back(snapshot_dir(dir, true));
        ref->writes_before.push_back(g_writes.load());
        int rc = script[k].run(db.get());
        if (rc != BZ_OK)
            why = "reference op " + std::to_string(k) + " (" + script[k].what +
                  "): " + last_error(rc);
    }
    bz__set_write_hook(nullptr);
    ref->snaps.push_back(snapshot_dir(dir, true));
    ref->writes_before.push_back(g_writes.load());
    return why;
}

uint64_t g_kill_at;
bool g_kill_sigkill;
int kill_hook(const char *, int64_t, size_t, uint64_t nth)
{
    if (nth == g_kill_at) {
        if (g_kill_sigkill)
            raise(SIGKILL);
        _exit(0);
    }
    return 0;
}

/* In a fresh process, after a death in op k: open (the recovery runs at
 * the first lock), compare, finish the script, compare again.  "OK before"
 * / "OK after", or what is wrong. */
std::string verify_after_kill(const std::string &dir, size_t k,
                              const std::vector<ScriptOp> &script, const Reference &ref,
                              pid_t dead, uint64_t started_writes)
{
    std::string err;
    Db db(open_db(dir, kKillSchema, &err));
    if (!db)
        return "reopen failed: " + err;
    bz_stats *st = nullptr;
    uint64_t recoveries = 0, owner_dead = 0, records = 0, bytes = 0, at = 0;
    int64_t logged_pid = 0;
    size_t logged = 0;
    if (bz_stats_read(dir.c_str(), &st) == BZ_OK) {
        recoveries = bz_stats_recoveries(st);
        owner_dead = bz_stats_lock(st, BZ_LSTAT_OWNER_DEAD);
        logged = bz_stats_nrecoveries_logged(st);
        if (logged)
            bz_stats_recovery(st, 0, &logged_pid, &at, &records, &bytes);
        bz_stats_free(st);
    }
    Snapshot now = snapshot_dir(dir, true);
    size_t state;
    if (now == ref.snaps[k])
        state = k;
    else if (now == ref.snaps[k + 1])
        state = k + 1;
    else
        return "the files are neither as before nor as after op " + std::to_string(k) +
               " (" + script[k].what + ")\n against before:\n" +
               diff_snapshots(ref.snaps[k], now) + " against after:\n" +
               diff_snapshots(ref.snaps[k + 1], now);
    if (recoveries != 1 || owner_dead != 1 || logged != 1)
        return "after one writer died mid-operation: bz_stats_recoveries " +
               std::to_string(recoveries) + ", owner-dead " + std::to_string(owner_dead) +
               ", recoveries logged " + std::to_string(logged) + " (expected 1, 1, 1)";
    /* The log names the dead writer; it undid at most one record per write
     * the operation had started (write N's record is taken before the
     * hook runs). */
    if (logged_pid != dead || records < 1 || records > started_writes)
        return "the recovery log says pid " + std::to_string(logged_pid) + " with " +
               std::to_string(records) + " records undone; expected pid " +
               std::to_string(dead) + " and 1.." + std::to_string(started_writes);
    std::string c = check_dir(dir, kKillSchema, kKillExplicitFrom);
    if (!c.empty())
        return "recovered files are inconsistent: " + c;
    for (size_t j = state; j < script.size(); j++) {
        int rc = script[j].run(db.get());
        if (rc != BZ_OK)
            return "after recovery op " + std::to_string(j) + " (" + script[j].what +
                   ") failed: " + last_error(rc);
    }
    db.reset();
    now = snapshot_dir(dir, true);
    if (now != ref.snaps.back())
        return "finishing the script after recovery does not give the reference "
               "bytes:\n" + diff_snapshots(ref.snaps.back(), now);
    c = check_dir(dir, kKillSchema, kKillExplicitFrom);
    if (!c.empty())
        return "final files are inconsistent: " + c;
    return state == k ? "OK before" : "OK after";
}

void kill_at_every_write(bool sigkill)
{
    const auto script = kill_script();
    const size_t nops = script.size();
    Reference ref;
    {
        TempDir rdir("bzkillref");
        std::string why = run_reference(rdir.path(), script, &ref);
        ASSERT_EQ("", why);
        ASSERT_EQ("", check_dir(rdir.path(), kKillSchema, kKillExplicitFrom));
    }
    const uint64_t total = ref.writes_before.back();
    ASSERT_GT(total, nops) << "the write hook is not called";

    long long t0 = now_ms();
    uint64_t kills = 0, before = 0, after = 0, dirty = 0, spilled = 0;
    std::vector<uint64_t> per_op(nops, 0);
    bool finished = false;
    for (uint64_t n = 1; n <= total + 1 && !::testing::Test::HasFailure(); n++) {
        TempDir dir("bzkill");
        int p[2];
        ASSERT_EQ(0, pipe(p));
        pid_t pid = spawn_child([&] {
            close(p[0]);
            std::string err;
            Db db(open_db(dir.path(), kKillSchema, &err));
            if (!db) {
                fprintf(stderr, "kill child: %s\n", err.c_str());
                return 12;
            }
            g_kill_at = n;
            g_kill_sigkill = sigkill;
            bz__set_write_hook(kill_hook);
            for (size_t k = 0; k < nops; k++) {
                int32_t m = static_cast<int32_t>(k);
                if (write(p[1], &m, sizeof m) != sizeof m)
                    return 14;
                int rc = script[k].run(db.get());
                if (rc != BZ_OK) {
                    fprintf(stderr, "kill child: op %zu: %s\n", k, last_error(rc).c_str());
                    return 13;
                }
            }
            bz__set_write_hook(nullptr);
            int32_t done = static_cast<int32_t>(nops);
            return write(p[1], &done, sizeof done) == sizeof done ? 0 : 14;
        });
        ASSERT_GT(pid, 0);
        close(p[1]);
        std::string got;
        char buf[256];
        ssize_t k;
        while ((k = read(p[0], buf, sizeof buf)) > 0)
            got.append(buf, static_cast<size_t>(k));
        close(p[0]);
        int status = 0;
        ASSERT_TRUE(wait_child(pid, kChildTimeoutMs, &status)) << "N=" << n << ": child hangs";
        ASSERT_TRUE(!got.empty() && got.size() % 4 == 0)
            << "N=" << n << ": child reported nothing (" << describe_status(status) << ")";
        int32_t last;
        memcpy(&last, got.data() + got.size() - 4, 4);
        if (static_cast<size_t>(last) == nops) {
            ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "N=" << n << ": " << describe_status(status);
            EXPECT_EQ(total + 1, n) << "the child finished without reaching write N";
            finished = true;
            bz_shm_remove(dir.c_str());
            break;
        }
        if (sigkill)
            ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                << "N=" << n << ": " << describe_status(status);
        else
            ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "N=" << n << ": " << describe_status(status);
        size_t op = static_cast<size_t>(last);
        ASSERT_LT(op, nops);
        /* Which op the reference run says write N belongs to. */
        size_t want = 0;
        while (want + 1 < ref.writes_before.size() && ref.writes_before[want + 1] < n)
            want++;
        ASSERT_EQ(want, op) << "N=" << n << ": the child died in another op than the "
                               "reference run's write count says";
        kills++;
        per_op[op]++;
        /* Before recovery: half-done (the next locker must undo it)? */
        Snapshot raw = snapshot_dir(dir.path(), true);
        if (raw != ref.snaps[op] && raw != ref.snaps[op + 1])
            dirty++;
        if (file_exists(dir.file(".undo")))
            spilled++;

        int v[2];
        ASSERT_EQ(0, pipe(v));
        pid_t vpid = spawn_child([&] {
            close(v[0]);
            std::string r = verify_after_kill(dir.path(), op, script, ref, pid,
                                              n - ref.writes_before[op]);
            return write_all_fd(v[1], r) ? 0 : 14;
        });
        ASSERT_GT(vpid, 0);
        close(v[1]);
        std::string verdict;
        while ((k = read(v[0], buf, sizeof buf)) > 0)
            verdict.append(buf, static_cast<size_t>(k));
        close(v[0]);
        ASSERT_TRUE(wait_child(vpid, kChildTimeoutMs, &status)) << "N=" << n << ": verifier hangs";
        bz_shm_remove(dir.c_str());
        if (verdict == "OK before")
            before++;
        else if (verdict == "OK after")
            after++;
        else
            ADD_FAILURE() << (sigkill ? "SIGKILL" : "_exit") << " at write N=" << n
                          << " of " << total << ", in op " << op << " ("
                          << script[op].what << "): " << verdict << " ["
                          << describe_status(status) << "]";
    }
    long long ms = now_ms() - t0;
    printf("[ kill    ] %s: %" PRIu64 " kill points over %zu ops (%" PRIu64
           " writes); recovered to before: %" PRIu64 ", to after: %" PRIu64
           "; half-done files undone: %" PRIu64 "; with spilled undo: %" PRIu64
           "; %lld ms\n",
           sigkill ? "SIGKILL" : "_exit", kills, nops, total, before, after, dirty,
           spilled, ms);
    ::testing::Test::RecordProperty("kill_points", static_cast<int>(kills));
    ::testing::Test::RecordProperty("recovered_before", static_cast<int>(before));
    ::testing::Test::RecordProperty("recovered_after", static_cast<int>(after));
    ::testing::Test::RecordProperty("half_done_states", static_cast<int>(dirty));
    if (::testing::Test::HasFailure())
        return; /* stopped at the first failing kill point, reported above */
    EXPECT_TRUE(finished) << "the child never completed the script";
    EXPECT_EQ(total, kills) << "every write must be a kill point";
    for (size_t op = 0; op < nops; op++)
        EXPECT_GT(per_op[op], 0u) << "op " << op << " (" << script[op].what
                                  << ") was never interrupted";
    /* The undo log was really needed, and its spill file too. */
    EXPECT_GT(dirty, 0u) << "no kill left a half-done write: the test proves nothing";
    EXPECT_GT(spilled, 0u) << "no kill happened with an undo spill file";
}

TEST(KillAtNthWrite, ChildExitsInsideTheHook) { kill_at_every_write(false); }

TEST(KillAtNthWrite, ChildSigkilledInsideTheHook) { kill_at_every_write(true); }

/* ================================================================== */
/* 2. A holder killed mid-operation while four processes wait.          */
/* ================================================================== */

const char *const kHolderSchema = "t: id PK, w INT, seq INT, body TEXT\n";

std::string holder_body(int64_t w, int64_t s)
{
    return "w" + std::to_string(w) + "-s" + std::to_string(s) + ":" +
           std::string(static_cast<size_t>(s % 37), 'b');
}

int g_pause_fd = -1;
/* Write 4 of an insert into a table with freed rows: seqnum, text and the
 * free-stack pop are done, the row and its index slot are not. */
int pause_hook(const char *, int64_t, size_t, uint64_t nth)
{
    if (nth == 4) {
        char c = 'P';
        if (write(g_pause_fd, &c, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    return 0;
}

/* Wait up to ms for one byte on fd. */
int read_byte(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return -1;
    unsigned char c;
    return read(fd, &c, 1) == 1 ? c : -1;
}

TEST(DeadHolder, HolderKilledWhileFourWait)
{
    constexpr int kWaiters = 4, kEach = 50, kInitial = 10;
    TempDir dir("bzholder");
    std::string err;
    /* Held open to the end, so the segment (and its statistics) lives. */
    Db db(open_db(dir.path(), kHolderSchema, &err));
    ASSERT_TRUE(db) << err;
    for (int i = 0; i < kInitial; i++)
        ASSERT_EQ(BZ_OK, do_insert(db.get(), "t", {{"w", -1}, {"seq", i}, {"body", holder_body(-1, i)}}));
    for (int id : {2, 5, 8})
        ASSERT_EQ(BZ_OK, bz_delete_by_id(db.get(), "t", id));
    ASSERT_EQ("", check_dir(dir.path(), kHolderSchema));
    Snapshot before_h = snapshot_dir(dir.path(), true);

    int hp[2];
    ASSERT_EQ(0, pipe(hp));
    pid_t h = spawn_child([&] {
        close(hp[0]);
        std::string e;
        Db mine(open_db(dir.path(), kHolderSchema, &e));
        if (!mine)
            return child_fail(hp[1], 12, e);
        if (bz_lock(mine.get()) != BZ_OK)
            return child_fail(hp[1], 13, "bz_lock: " + last_error(-1));
        char c = 'L';
        if (write(hp[1], &c, 1) != 1)
            return 14;
        g_pause_fd = hp[1];
        bz__set_write_hook(pause_hook);
        do_insert(mine.get(), "t", {{"w", 99}, {"seq", 0}, {"body", "the holder's row"}});
        return child_fail(hp[1], 15, "the holder's insert returned");
    });
    ASSERT_GT(h, 0);
    close(hp[1]);
    ASSERT_EQ('L', read_byte(hp[0], 20000)) << "the holder did not take the lock";
    ASSERT_EQ('P', read_byte(hp[0], 20000)) << "the holder did not reach write 4";
    /* The holder's half-done insert is in the files right now. */
    Snapshot half = snapshot_dir(dir.path(), true);
    EXPECT_NE(before_h, half) << "the holder's first writes did not reach the files";

    bool got_through = false;
    std::vector<ChildOut> res;
    std::string errs = run_children(
        kWaiters,
        [&](int w, int out) {
            std::string e;
            Db mine(open_db(dir.path(), kHolderSchema, &e));
            if (!mine)
                return child_fail(out, 12, e);
            write_all_fd(out, "opened\n");
            std::ostringstream rep;
            for (int s = 0; s < kEach; s++) {
                int64_t id = -1;
                int rc = do_insert(mine.get(), "t",
                                   {{"w", w}, {"seq", s}, {"body", holder_body(w, s)}}, &id);
                if (rc != BZ_OK)
                    return child_fail(out, 13, "insert: " + last_error(rc));
                rep << id << " " << w << " " << s << "\n";
            }
            return write_all_fd(out, rep.str()) ? 0 : 14;
        },
        &res, kChildTimeoutMs,
        [&](const std::vector<int> &fds) {
            /* They must all be blocked while the holder lives. */
            std::vector<struct pollfd> p;
            for (int fd : fds)
                p.push_back({fd, POLLIN, 0});
            if (poll(p.data(), p.size(), 400) > 0)
                got_through = true;
            kill(h, SIGKILL);
        });
    int status = 0;
    ASSERT_TRUE(wait_child(h, kChildTimeoutMs, &status));
    close(hp[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
    EXPECT_FALSE(got_through) << "a waiter opened the directory while the holder held the lock";
    ASSERT_EQ("", errs);

    /* Exactly the waiters' 200 rows plus the survivors; nothing of H. */
    std::set<int64_t> ids;
    std::map<int64_t, std::pair<int64_t, int64_t>> want;
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            if (l == "opened")
                continue;
            long long id, w, s;
            ASSERT_EQ(3, sscanf(l.c_str(), "%lld %lld %lld", &id, &w, &s)) << l;
            EXPECT_TRUE(ids.insert(id).second) << "id " << id << " handed out twice";
            want[id] = {w, s};
        }
    ASSERT_EQ(static_cast<size_t>(kWaiters * kEach), ids.size());
    /* H's seqnum write was undone: the waiters got exactly 11..210. */
    EXPECT_EQ(kInitial + 1, *ids.begin());
    EXPECT_EQ(kInitial + kWaiters * kEach, *ids.rbegin());
    EXPECT_EQ(std::to_string(kInitial + kWaiters * kEach), read_file(dir.file("t__seqnum.dat")));
    int64_t count = -1;
    ASSERT_EQ(BZ_OK, bz_count(db.get(), "t", nullptr, &count));
    EXPECT_EQ(kInitial - 3 + kWaiters * kEach, count);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "t", nullptr, &rs));
    Rows rows(rs);
    size_t survivors = 0;
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *r = bz_rows_at(rs, i);
        int64_t id = bz_row_id(r), w = rint(r, "w"), s = rint(r, "seq");
        EXPECT_NE(99, w) << "the dead holder's row survived (id " << id << ")";
        EXPECT_EQ(holder_body(w, s), rstr(r, "body")) << "id " << id;
        if (w == -1) {
            survivors++;
            EXPECT_EQ(id - 1, s);
            continue;
        }
        auto it = want.find(id);
        ASSERT_NE(want.end(), it) << "row id " << id << " nobody inserted";
        EXPECT_EQ(it->second, std::make_pair(w, s)) << "id " << id;
    }
    EXPECT_EQ(static_cast<size_t>(kInitial - 3), survivors);
    EXPECT_EQ(static_cast<size_t>(kWaiters * kEach), bz_rows_len(rs) - survivors);
    EXPECT_EQ("", check_dir(dir.path(), kHolderSchema));
    bz_stats *st = nullptr;
    ASSERT_EQ(BZ_OK, bz_stats_read(dir.c_str(), &st)) << bz_errmsg();
    EXPECT_GE(bz_stats_recoveries(st), 1u);
    EXPECT_GE(bz_stats_lock(st, BZ_LSTAT_OWNER_DEAD), 1u);
    /* The newest logged recovery is H's: its seqnum, text and free-stack
     * writes (and the record of the row write it paused before) undone. */
    ASSERT_GE(bz_stats_nrecoveries_logged(st), 1u);
    int64_t rpid = 0;
    uint64_t at = 0, records = 0, bytes = 0;
    ASSERT_EQ(BZ_OK, bz_stats_recovery(st, 0, &rpid, &at, &records, &bytes));
    EXPECT_EQ(static_cast<int64_t>(h), rpid);
    EXPECT_GE(records, 3u);
    EXPECT_LE(records, 4u);
    bz_stats_free(st);
}

/* ================================================================== */
/* 3. Bazoola 0.0.7's tests/test_concurrency.py at ten times its sizes. */
/* ================================================================== */

/* 0.0.7's tables e (id, text CHAR(20)), c (id, varchar CHAR(5), int INT)
 * and f (id, text TEXT). */
const char *const kSuiteSchema =
    "c: id PK, varchar CHAR(5), int INT\n"
    "e: id PK, text CHAR(20)\n"
    "f: id PK, text TEXT\n";

#define ASSERT_OPEN(var, dir)                                            \
    std::string var##_err;                                              \
    Db var(open_db((dir), kSuiteSchema, &var##_err));                   \
    ASSERT_TRUE(var) << var##_err

/* test_concurrent_seqnum_generation_threads: 5 threads x 10 -> 8 x 250. */
TEST(Suite007x10, UniqueIdsFromThreads)
{
    constexpr int kThreads = 8, kEach = 250;
    TempDir dir("bz007");
    ASSERT_OPEN(db, dir.path());
    std::vector<std::vector<int64_t>> got(kThreads);
    std::vector<std::string> why(kThreads);
    std::vector<std::thread> ts;
    for (int w = 0; w < kThreads; w++)
        ts.emplace_back([&, w] {
            for (int i = 0; i < kEach && why[w].empty(); i++) {
                int64_t id;
                int rc = do_insert(db.get(), "e",
                                   {{"text", "w" + std::to_string(w) + "_" + std::to_string(i)}}, &id);
                if (rc != BZ_OK)
                    why[w] = last_error(rc);
                got[w].push_back(id);
            }
        });
    for (auto &t : ts)
        t.join();
    std::map<int64_t, std::string> by_id;
    for (int w = 0; w < kThreads; w++) {
        EXPECT_EQ("", why[w]);
        for (int i = 0; i < static_cast<int>(got[w].size()); i++)
            EXPECT_TRUE(by_id.emplace(got[w][i], "w" + std::to_string(w) + "_" +
                                                     std::to_string(i)).second)
                << "duplicate id " << got[w][i];
    }
    ASSERT_EQ(static_cast<size_t>(kThreads * kEach), by_id.size());
    EXPECT_EQ(1, by_id.begin()->first);
    EXPECT_EQ(kThreads * kEach, by_id.rbegin()->first);
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "e", nullptr, &rs));
    Rows rows(rs);
    ASSERT_EQ(by_id.size(), bz_rows_len(rs));
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        EXPECT_EQ(by_id[bz_row_id(bz_rows_at(rs, i))], rstr(bz_rows_at(rs, i), "text"));
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_seqnum_generation_processes: 20 x 100 (10 at a time)
 * -> 20 processes x 1000 inserts, all at once. */
TEST(Suite007x10, UniqueIdsFromProcesses)
{
    constexpr int kProcs = 20, kEach = 1000;
    TempDir dir("bz007");
    {
        ASSERT_OPEN(db, dir.path());
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(kProcs, [&](int w, int out) {
        std::string e;
        Db db(open_db(dir.path(), kSuiteSchema, &e));
        if (!db)
            return child_fail(out, 12, e);
        std::ostringstream rep;
        for (int i = 0; i < kEach; i++) {
            int64_t id;
            int rc = do_insert(db.get(), "e", {{"text", std::to_string(w) + "_" + std::to_string(i)}}, &id);
            if (rc != BZ_OK)
                return child_fail(out, 13, last_error(rc));
            rep << id << " " << i << "\n";
        }
        return write_all_fd(out, rep.str()) ? 0 : 14;
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::string> by_id;
    for (int w = 0; w < kProcs; w++)
        for (const auto &l : lines_of(res[static_cast<size_t>(w)].out)) {
            long long id, i;
            ASSERT_EQ(2, sscanf(l.c_str(), "%lld %lld", &id, &i)) << l;
            EXPECT_TRUE(by_id.emplace(id, std::to_string(w) + "_" + std::to_string(i)).second)
                << "duplicate id " << id;
        }
    ASSERT_EQ(static_cast<size_t>(kProcs * kEach), by_id.size());
    EXPECT_EQ(kProcs * kEach, by_id.rbegin()->first);
    ASSERT_OPEN(db, dir.path());
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "e", nullptr, &rs));
    Rows rows(rs);
    ASSERT_EQ(by_id.size(), bz_rows_len(rs));
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        ASSERT_EQ(by_id[bz_row_id(bz_rows_at(rs, i))], rstr(bz_rows_at(rs, i), "text"));
    EXPECT_EQ(std::to_string(kProcs * kEach), read_file(dir.file("e__seqnum.dat")));
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_delete_insert_race_condition: 20 rows, 10 deletes, 10
 * inserts -> 200 rows, 2 processes deleting 50 each, 2 inserting 50 each. */
TEST(Suite007x10, DeleteInsertFromProcesses)
{
    constexpr int kRows = 200, kEach = 50;
    TempDir dir("bz007");
    {
        ASSERT_OPEN(db, dir.path());
        for (int i = 0; i < kRows; i++)
            ASSERT_EQ(BZ_OK, do_insert(db.get(), "e", {{"text", "r_" + std::to_string(i)}}));
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(4, [&](int w, int out) {
        std::string e;
        Db db(open_db(dir.path(), kSuiteSchema, &e));
        if (!db)
            return child_fail(out, 12, e);
        std::ostringstream rep;
        for (int i = 0; i < kEach; i++) {
            if (w < 2) {
                /* Deleters: the even indexes, ids 1, 3, 5, ... split in two. */
                int64_t id = 1 + 2 * (2 * i + w);
                int rc = bz_delete_by_id(db.get(), "e", id);
                if (rc != BZ_OK)
                    return child_fail(out, 13, "delete " + std::to_string(id) + ": " + last_error(rc));
                rep << "D " << id << "\n";
            } else {
                int64_t id;
                int rc = do_insert(db.get(), "e", {{"text", "n" + std::to_string(w) + "_" + std::to_string(i)}}, &id);
                if (rc != BZ_OK)
                    return child_fail(out, 13, "insert: " + last_error(rc));
                rep << "I " << id << " n" << w << "_" << i << "\n";
            }
        }
        return write_all_fd(out, rep.str()) ? 0 : 14;
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::string> want;
    for (int i = 0; i < kRows; i++)
        want[i + 1] = "r_" + std::to_string(i);
    std::set<int64_t> inserted;
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            char kind;
            long long id;
            char text[32] = "";
            ASSERT_GE(sscanf(l.c_str(), "%c %lld %31s", &kind, &id, text), 2) << l;
            if (kind == 'D') {
                EXPECT_EQ(1u, want.erase(id)) << "deleted id " << id;
            } else {
                EXPECT_GT(id, kRows) << "an insert reused the id of a deleted row";
                EXPECT_TRUE(inserted.insert(id).second) << "id " << id << " handed out twice";
                want[id] = text;
            }
        }
    EXPECT_EQ(static_cast<size_t>(kRows), want.size());
    ASSERT_OPEN(db, dir.path());
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "e", nullptr, &rs));
    Rows rows(rs);
    std::map<int64_t, std::string> got;
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        got[bz_row_id(bz_rows_at(rs, i))] = rstr(bz_rows_at(rs, i), "text");
    EXPECT_EQ(want, got);
    EXPECT_EQ(std::to_string(kRows + 2 * kEach), read_file(dir.file("e__seqnum.dat")));
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_update_same_record: 4 threads x 5 increments under
 * db.storage.lock() -> 8 processes x 250.  Every value 1..2000 is written
 * exactly once, and the final varchar is the one written with 2000. */
TEST(Suite007x10, NoLostUpdatesUnderExplicitLockFromProcesses)
{
    constexpr int kProcs = 8, kEach = 250;
    TempDir dir("bz007");
    {
        ASSERT_OPEN(db, dir.path());
        ASSERT_EQ(BZ_OK, do_insert(db.get(), "c", {{"varchar", "init"}, {"int", 0}}));
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(kProcs, [&](int w, int out) {
        std::string e;
        Db db(open_db(dir.path(), kSuiteSchema, &e));
        if (!db)
            return child_fail(out, 12, e);
        std::ostringstream rep;
        for (int i = 0; i < kEach; i++) {
            int rc = bz_lock(db.get());
            if (rc != BZ_OK)
                return child_fail(out, 13, "bz_lock: " + last_error(rc));
            bz_row *r = nullptr;
            rc = bz_find_by_id(db.get(), "c", 1, nullptr, &r);
            Row row(r);
            if (rc != BZ_OK || !r)
                return child_fail(out, 14, "find: " + last_error(rc));
            int64_t v = rint(r, "int") + 1;
            sched_yield(); /* some work between the read and the write */
            rc = do_update(db.get(), "c", 1, {{"varchar", std::to_string(w) + "_" + std::to_string(i)}, {"int", v}});
            if (rc != BZ_OK)
                return child_fail(out, 15, "update: " + last_error(rc));
            if ((rc = bz_unlock(db.get())) != BZ_OK)
                return child_fail(out, 16, "bz_unlock: " + last_error(rc));
            rep << v << " " << w << "_" << i << "\n";
            /* 0.0.7 sleeps 1 ms here "to increase chance of race": the
             * workers then really interleave instead of each finishing
             * within one time slice. */
            usleep(200);
        }
        return write_all_fd(out, rep.str()) ? 0 : 17;
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::string> written;
    size_t lost = 0;
    std::string examples;
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            long long v;
            char tag[16];
            ASSERT_EQ(2, sscanf(l.c_str(), "%lld %15s", &v, tag)) << l;
            if (!written.emplace(v, tag).second && lost++ < 5)
                examples += " " + std::to_string(v) + " (" + written[v] + " and " + tag + ")";
        }
    EXPECT_EQ(0u, lost) << "lost updates: values written twice, e.g." << examples;
    ASSERT_EQ(static_cast<size_t>(kProcs * kEach), written.size());
    EXPECT_EQ(1, written.begin()->first);
    EXPECT_EQ(kProcs * kEach, written.rbegin()->first);
    ASSERT_OPEN(db, dir.path());
    bz_row *r = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "c", 1, nullptr, &r));
    Row row(r);
    ASSERT_TRUE(row);
    EXPECT_EQ(kProcs * kEach, rint(r, "int"));
    EXPECT_EQ(written[kProcs * kEach], rstr(r, "varchar"));
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_file_corruption_simulation: 4 processes x 20 mixed
 * operations -> 4 x 200.  Each worker knows exactly which of its rows
 * exist and what they hold; the table must be the union. */
TEST(Suite007x10, MixedWritesFromProcessesKeepFilesWhole)
{
    constexpr int kProcs = 4, kOps = 200;
    TempDir dir("bz007");
    {
        ASSERT_OPEN(db, dir.path());
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(kProcs, [&](int w, int out) {
        std::string e;
        Db db(open_db(dir.path(), kSuiteSchema, &e));
        if (!db)
            return child_fail(out, 12, e);
        std::map<int64_t, std::string> mine;
        std::vector<int64_t> order;
        for (int i = 0; i < kOps; i++) {
            int rc = BZ_OK;
            if (i % 3 == 0) {
                int64_t id;
                std::string t = std::to_string(w) + "_" + std::to_string(i);
                rc = do_insert(db.get(), "e", {{"text", t}}, &id);
                if (rc == BZ_OK) {
                    mine[id] = t;
                    order.push_back(id);
                }
            } else if (i % 3 == 1 && !order.empty()) {
                std::string t = "u" + std::to_string(w) + "_" + std::to_string(i);
                rc = do_update(db.get(), "e", order.back(), {{"text", t}});
                if (rc == BZ_OK)
                    mine[order.back()] = t;
            } else if (i % 3 == 2 && !order.empty() && i % 2 == 0) {
                rc = bz_delete_by_id(db.get(), "e", order.back());
                if (rc == BZ_OK) {
                    mine.erase(order.back());
                    order.pop_back();
                }
            }
            if (rc != BZ_OK)
                return child_fail(out, 13, "op " + std::to_string(i) + ": " + last_error(rc));
        }
        std::ostringstream rep;
        for (const auto &kv : mine)
            rep << kv.first << " " << kv.second << "\n";
        return write_all_fd(out, rep.str()) ? 0 : 14;
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::string> want;
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            long long id;
            char t[32];
            ASSERT_EQ(2, sscanf(l.c_str(), "%lld %31s", &id, t)) << l;
            EXPECT_TRUE(want.emplace(id, t).second) << "id " << id << " owned twice";
        }
    ASSERT_OPEN(db, dir.path());
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "e", nullptr, &rs));
    Rows rows(rs);
    std::map<int64_t, std::string> got;
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        got[bz_row_id(bz_rows_at(rs, i))] = rstr(bz_rows_at(rs, i), "text");
    EXPECT_EQ(want, got);
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_text_insert_threads: 10 threads x 20 -> 10 x 200. */
TEST(Suite007x10, TextInsertsFromThreads)
{
    constexpr int kThreads = 10, kEach = 200;
    TempDir dir("bz007");
    ASSERT_OPEN(db, dir.path());
    std::vector<std::vector<std::pair<int64_t, std::string>>> got(kThreads);
    std::vector<std::string> why(kThreads);
    std::vector<std::thread> ts;
    for (int w = 0; w < kThreads; w++)
        ts.emplace_back([&, w] {
            for (int i = 0; i < kEach && why[w].empty(); i++) {
                std::string t = "worker_" + std::to_string(w) + "_item_" + std::to_string(i) + "_" +
                                std::string(100, 'x');
                int64_t id;
                int rc = do_insert(db.get(), "f", {{"text", t}}, &id);
                if (rc != BZ_OK)
                    why[w] = last_error(rc);
                else
                    got[w].push_back({id, t});
            }
        });
    for (auto &t : ts)
        t.join();
    size_t n = 0;
    for (int w = 0; w < kThreads; w++) {
        EXPECT_EQ("", why[w]);
        for (const auto &x : got[w]) {
            n++;
            bz_row *r = nullptr;
            ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "f", x.first, nullptr, &r));
            Row row(r);
            ASSERT_TRUE(row) << "record " << x.first << " not found";
            ASSERT_EQ(x.second, rstr(r, "text")) << "record " << x.first;
        }
    }
    EXPECT_EQ(static_cast<size_t>(kThreads * kEach), n);
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* test_concurrent_text_update_threads: 20 records, 4 threads x 10 rounds
 * -> 4 x 100 rounds.  Every thread's last update of a record is round 99,
 * so whichever thread wrote last, the record holds a round-99 text. */
TEST(Suite007x10, TextUpdatesFromThreads)
{
    constexpr int kThreads = 4, kRounds = 100, kRecords = 20;
    TempDir dir("bz007");
    ASSERT_OPEN(db, dir.path());
    for (int i = 0; i < kRecords; i++)
        ASSERT_EQ(BZ_OK, do_insert(db.get(), "f", {{"text", "initial_" + std::to_string(i)}}));
    auto text = [](int w, int round, int id) {
        return "w" + std::to_string(w) + "_r" + std::to_string(round) + "_id" +
               std::to_string(id) + "_" + std::string(50, 'z');
    };
    std::vector<std::string> why(kThreads);
    std::vector<std::thread> ts;
    for (int w = 0; w < kThreads; w++)
        ts.emplace_back([&, w] {
            for (int round = 0; round < kRounds && why[w].empty(); round++)
                for (int id = 1; id <= kRecords && why[w].empty(); id++) {
                    int rc = do_update(db.get(), "f", id, {{"text", text(w, round, id)}});
                    if (rc != BZ_OK)
                        why[w] = "update " + std::to_string(id) + ": " + last_error(rc);
                }
        });
    for (auto &t : ts)
        t.join();
    for (const auto &y : why)
        EXPECT_EQ("", y);
    for (int id = 1; id <= kRecords; id++) {
        bz_row *r = nullptr;
        ASSERT_EQ(BZ_OK, bz_find_by_id(db.get(), "f", id, nullptr, &r));
        Row row(r);
        ASSERT_TRUE(row) << "record " << id << " missing after updates";
        std::string t = rstr(r, "text");
        bool ok = false;
        for (int w = 0; w < kThreads; w++)
            ok |= t == text(w, kRounds - 1, id);
        EXPECT_TRUE(ok) << "record " << id << " holds \"" << t.substr(0, 60) << "\"";
    }
    auto check = check_table(dir.path(), layouts_of(kSuiteSchema)[2], LLONG_MAX);
    EXPECT_EQ("", check.errors);
    EXPECT_EQ(static_cast<size_t>(kRecords), check.text_refs);
}

/* test_concurrent_text_stress: 6 processes x 30 mixed TEXT operations ->
 * 6 x 300.  Every row holds the last text its worker wrote. */
TEST(Suite007x10, TextStressFromProcesses)
{
    constexpr int kProcs = 6, kOps = 300;
    TempDir dir("bz007");
    {
        ASSERT_OPEN(db, dir.path());
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(kProcs, [&](int w, int out) {
        std::string e;
        Db db(open_db(dir.path(), kSuiteSchema, &e));
        if (!db)
            return child_fail(out, 12, e);
        std::map<int64_t, std::string> mine;
        std::vector<int64_t> ids;
        for (int i = 0; i < kOps; i++) {
            int rc = BZ_OK;
            switch (i % 4) {
            case 0: {
                std::string t = "stress_" + std::to_string(w) + "_" + std::to_string(i) + "_" +
                                std::string(150, 's');
                int64_t id;
                if ((rc = do_insert(db.get(), "f", {{"text", t}}, &id)) == BZ_OK) {
                    mine[id] = t;
                    ids.push_back(id);
                }
                break;
            }
            case 1: {
                std::string t = "updated_" + std::to_string(w) + "_" + std::to_string(i) + "_" +
                                std::string(150 + i % 7, 'u');
                if ((rc = do_update(db.get(), "f", ids.back(), {{"text", t}})) == BZ_OK)
                    mine[ids.back()] = t;
                break;
            }
            case 2: {
                bz_row *r = nullptr;
                rc = bz_find_by_id(db.get(), "f", ids.back(), nullptr, &r);
                Row row(r);
                if (rc == BZ_OK && (!r || rstr(r, "text") != mine[ids.back()]))
                    return child_fail(out, 15, "read back of " + std::to_string(ids.back()) +
                                                   " differs: " + (r ? rstr(r, "text") : "no row"));
                break;
            }
            case 3:
                if (ids.size() > 1) {
                    if ((rc = bz_delete_by_id(db.get(), "f", ids.front())) == BZ_OK) {
                        mine.erase(ids.front());
                        ids.erase(ids.begin());
                    }
                }
                break;
            }
            if (rc != BZ_OK)
                return child_fail(out, 13, "op " + std::to_string(i) + ": " + last_error(rc));
        }
        std::ostringstream rep;
        for (const auto &kv : mine)
            rep << kv.first << " " << kv.second << "\n";
        return write_all_fd(out, rep.str()) ? 0 : 14;
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::string> want;
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            size_t sp = l.find(' ');
            ASSERT_NE(std::string::npos, sp) << l;
            EXPECT_TRUE(want.emplace(atoll(l.substr(0, sp).c_str()), l.substr(sp + 1)).second);
        }
    ASSERT_OPEN(db, dir.path());
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "f", nullptr, &rs));
    Rows rows(rs);
    std::map<int64_t, std::string> got;
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        got[bz_row_id(bz_rows_at(rs, i))] = rstr(bz_rows_at(rs, i), "text");
    EXPECT_EQ(want.size(), got.size());
    EXPECT_TRUE(want == got) << "a row does not hold the last text its worker wrote";
    auto check = check_table(dir.path(), layouts_of(kSuiteSchema)[2], LLONG_MAX);
    EXPECT_EQ("", check.errors);
    EXPECT_EQ(want.size(), check.text_refs);
    EXPECT_EQ("", check_dir(dir.path(), kSuiteSchema));
}

/* ================================================================== */
/* 4. Readers verify every row while writers churn.                     */
/* ================================================================== */

const char *const kChurnSchema = "r: id PK, w INT, n INT, s CHAR(12), body TEXT\n";
constexpr int kChurnWriters = 4, kChurnReaders = 4, kChurnRowsEach = 16;
constexpr int kChurnMs = 2000;

/* The payload of n: s and body derive from n, so a torn row, or one mixing
 * two writers' versions, does not check. */
std::string churn_body(int64_t n)
{
    std::string b = "n=" + std::to_string(n) + ":";
    b.append(static_cast<size_t>(n % 300), static_cast<char>('a' + n % 26));
    b += ":" + std::to_string((n * 7919) % 1000003);
    return b;
}

Fields churn_fields(int64_t w, int64_t n)
{
    return {{"w", w}, {"n", n}, {"s", std::to_string(n)}, {"body", churn_body(n)}};
}

/* "" when the row is one whole version. */
std::string churn_torn(const bz_row *r)
{
    int64_t n = rint(r, "n"), w = rint(r, "w");
    std::string s = rstr(r, "s"), body = rstr(r, "body");
    if (w < 0 || w >= kChurnWriters || s != std::to_string(n) || body != churn_body(n))
        return "row id " + std::to_string(bz_row_id(r)) + " is not whole: w=" +
               std::to_string(w) + " n=" + std::to_string(n) + " s=\"" + s + "\" body=\"" +
               escape_bytes(body, 60) + "\"";
    return "";
}

int churn_writer(const std::string &dir, int w, int out)
{
    std::string e;
    Db db(open_db(dir, kChurnSchema, &e));
    if (!db)
        return child_fail(out, 12, e);
    /* The rows of writer w are the ones with w (set up by the parent). */
    std::map<int64_t, int64_t> mine;
    {
        Cond c(bz_cond_new(BZ_EQ));
        bz_cond_add_int(c.get(), "w", w);
        bz_rows *rs = nullptr;
        int rc = bz_find_by_cond(db.get(), "r", c.get(), nullptr, &rs);
        Rows rows(rs);
        if (rc != BZ_OK)
            return child_fail(out, 13, "find own rows: " + last_error(rc));
        for (size_t i = 0; i < bz_rows_len(rs); i++)
            mine[bz_row_id(bz_rows_at(rs, i))] = rint(bz_rows_at(rs, i), "n");
    }
    std::mt19937 rng(1000 + w);
    long long end = now_ms() + kChurnMs;
    long updates = 0, replaced = 0;
    while (now_ms() < end) {
        auto it = mine.begin();
        std::advance(it, rng() % mine.size());
        int64_t id = it->first, n = rng() % 99999999;
        int rc;
        if (rng() % 4) {
            if ((rc = do_update(db.get(), "r", id, churn_fields(w, n))) != BZ_OK)
                return child_fail(out, 14, "update " + std::to_string(id) + ": " + last_error(rc));
            it->second = n;
            updates++;
        } else {
            if ((rc = bz_delete_by_id(db.get(), "r", id)) != BZ_OK)
                return child_fail(out, 15, "delete " + std::to_string(id) + ": " + last_error(rc));
            mine.erase(it);
            int64_t nid;
            if ((rc = do_insert(db.get(), "r", churn_fields(w, n), &nid)) != BZ_OK)
                return child_fail(out, 16, "insert: " + last_error(rc));
            mine[nid] = n;
            replaced++;
        }
    }
    std::ostringstream rep;
    rep << "W " << updates << " " << replaced << "\n";
    for (const auto &kv : mine)
        rep << kv.first << " " << w << " " << kv.second << "\n";
    return write_all_fd(out, rep.str()) ? 0 : 17;
}

int churn_reader(const std::string &dir, int i, int out)
{
    std::string e;
    Db db(open_db(dir, kChurnSchema, &e));
    if (!db)
        return child_fail(out, 12, e);
    std::mt19937 rng(2000 + i);
    long long end = now_ms() + kChurnMs;
    long by_id = 0, by_all = 0, by_cond = 0, by_iter = 0, rounds = 0;
    const size_t total = kChurnWriters * kChurnRowsEach;
    /* Ids seen live by the last find_all (most are still there). */
    std::vector<int64_t> live;
    for (size_t k = 0; k < total; k++)
        live.push_back(static_cast<int64_t>(k) + 1);
    while (now_ms() < end) {
        rounds++;
        int rc;
        /* find_by_id: the row of that id, whole, or none. */
        for (int k = 0; k < 8; k++) {
            int64_t id = live[rng() % live.size()];
            bz_row *r = nullptr;
            if ((rc = bz_find_by_id(db.get(), "r", id, nullptr, &r)) != BZ_OK)
                return child_fail(out, 13, "find_by_id: " + last_error(rc));
            Row row(r);
            if (!r)
                continue;
            if (bz_row_id(r) != id)
                return child_fail(out, 14, "find_by_id(" + std::to_string(id) + ") gave id " +
                                               std::to_string(bz_row_id(r)));
            std::string t = churn_torn(r);
            if (!t.empty())
                return child_fail(out, 15, "find_by_id: " + t);
            by_id++;
        }
        /* find_all: an atomic view; each writer misses at most the one row
         * it is replacing. */
        {
            bz_rows *rs = nullptr;
            if ((rc = bz_find_all(db.get(), "r", nullptr, &rs)) != BZ_OK)
                return child_fail(out, 16, "find_all: " + last_error(rc));
            Rows rows(rs);
            size_t n = bz_rows_len(rs);
            if (n > total || n + kChurnWriters < total)
                return child_fail(out, 17, "find_all saw " + std::to_string(n) + " rows");
            std::set<int64_t> seen;
            live.clear();
            for (size_t k = 0; k < n; k++) {
                const bz_row *r = bz_rows_at(rs, k);
                std::string t = churn_torn(r);
                if (!t.empty())
                    return child_fail(out, 18, "find_all: " + t);
                if (!seen.insert(bz_row_id(r)).second)
                    return child_fail(out, 19, "find_all: id " + std::to_string(bz_row_id(r)) + " twice");
                live.push_back(bz_row_id(r));
                by_all++;
            }
        }
        /* find_by_cond: one writer's rows, or a range of n. */
        {
            int64_t w = rng() % kChurnWriters, lo = rng() % 99999999;
            bool eq = rounds % 2;
            Cond c(bz_cond_new(eq ? BZ_EQ : BZ_GE));
            bz_cond_add_int(c.get(), eq ? "w" : "n", eq ? w : lo);
            bz_rows *rs = nullptr;
            if ((rc = bz_find_by_cond(db.get(), "r", c.get(), nullptr, &rs)) != BZ_OK)
                return child_fail(out, 20, "find_by_cond: " + last_error(rc));
            Rows rows(rs);
            size_t n = bz_rows_len(rs);
            if (eq && (n > kChurnRowsEach || n + 1 < kChurnRowsEach))
                return child_fail(out, 21, "find_by_cond(w=" + std::to_string(w) + ") saw " +
                                               std::to_string(n) + " rows");
            for (size_t k = 0; k < n; k++) {
                const bz_row *r = bz_rows_at(rs, k);
                std::string t = churn_torn(r);
                if (!t.empty())
                    return child_fail(out, 22, "find_by_cond: " + t);
                if (eq ? rint(r, "w") != w : rint(r, "n") < lo)
                    return child_fail(out, 23, "find_by_cond returned a row that does not match");
                by_cond++;
            }
        }
        /* The iterator: chunks may see rows in either state, never torn. */
        if (rounds % 4 == 0) {
            bz_iter *it = nullptr;
            if ((rc = bz_iter_open(db.get(), "r", nullptr, nullptr, &it)) != BZ_OK)
                return child_fail(out, 24, "iter_open: " + last_error(rc));
            Iter iter(it);
            bz_row *r = nullptr;
            while ((rc = bz_iter_next(it, &r)) == BZ_ROW) {
                Row row(r);
                std::string t = churn_torn(r);
                if (!t.empty())
                    return child_fail(out, 25, "iter: " + t);
                by_iter++;
            }
            if (rc != BZ_DONE)
                return child_fail(out, 26, "iter_next: " + last_error(rc));
        }
    }
    std::ostringstream rep;
    rep << "R " << by_id << " " << by_all << " " << by_cond << " " << by_iter << "\n";
    return write_all_fd(out, rep.str()) ? 0 : 27;
}

TEST(ReadersAndChurn, ReadersCheckEveryRowWhileWritersChurn)
{
    TempDir dir("bzchurn");
    {
        std::string err;
        Db db(open_db(dir.path(), kChurnSchema, &err));
        ASSERT_TRUE(db) << err;
        for (int i = 0; i < kChurnWriters * kChurnRowsEach; i++)
            ASSERT_EQ(BZ_OK, do_insert(db.get(), "r", churn_fields(i % kChurnWriters, i)));
    }
    std::vector<ChildOut> res;
    std::string errs = run_children(kChurnWriters + kChurnReaders, [&](int i, int out) {
        return i < kChurnWriters ? churn_writer(dir.path(), i, out)
                                 : churn_reader(dir.path(), i - kChurnWriters, out);
    }, &res);
    ASSERT_EQ("", errs);
    std::map<int64_t, std::pair<int64_t, int64_t>> want;
    long updates = 0, replaced = 0, checked[4] = {0, 0, 0, 0};
    for (const auto &c : res)
        for (const auto &l : lines_of(c.out)) {
            long a, b, x, y;
            long long id, w, n;
            if (sscanf(l.c_str(), "W %ld %ld", &a, &b) == 2) {
                updates += a;
                replaced += b;
                EXPECT_GT(a + b, 0) << "a writer wrote nothing";
            } else if (sscanf(l.c_str(), "R %ld %ld %ld %ld", &a, &b, &x, &y) == 4) {
                checked[0] += a;
                checked[1] += b;
                checked[2] += x;
                checked[3] += y;
                EXPECT_GT(a, 0) << "a reader checked no row by id";
                EXPECT_GT(b, 0) << "a reader checked no row of find_all";
                EXPECT_GT(x, 0) << "a reader checked no row of find_by_cond";
            } else {
                ASSERT_EQ(3, sscanf(l.c_str(), "%lld %lld %lld", &id, &w, &n)) << l;
                EXPECT_TRUE(want.emplace(id, std::make_pair(w, n)).second);
            }
        }
    ::testing::Test::RecordProperty("writer_updates", static_cast<int>(updates));
    ::testing::Test::RecordProperty("writer_replacements", static_cast<int>(replaced));
    ::testing::Test::RecordProperty("rows_checked",
                                    static_cast<int>(checked[0] + checked[1] + checked[2] + checked[3]));
    printf("[ churn   ] writers: %ld updates, %ld delete+insert; readers checked rows: "
           "%ld by id, %ld find_all, %ld find_by_cond, %ld iter; 0 inconsistent\n",
           updates, replaced, checked[0], checked[1], checked[2], checked[3]);
    ASSERT_EQ(static_cast<size_t>(kChurnWriters * kChurnRowsEach), want.size());
    std::string err;
    Db db(open_db(dir.path(), kChurnSchema, &err));
    ASSERT_TRUE(db) << err;
    bz_rows *rs = nullptr;
    ASSERT_EQ(BZ_OK, bz_find_all(db.get(), "r", nullptr, &rs));
    Rows rows(rs);
    std::map<int64_t, std::pair<int64_t, int64_t>> got;
    for (size_t i = 0; i < bz_rows_len(rs); i++) {
        const bz_row *r = bz_rows_at(rs, i);
        EXPECT_EQ("", churn_torn(r));
        got[bz_row_id(r)] = {rint(r, "w"), rint(r, "n")};
    }
    EXPECT_TRUE(want == got) << "the table is not what the writers last wrote";
    EXPECT_EQ("", check_dir(dir.path(), kChurnSchema));
}

} // namespace
