/*
 * helpers.cpp - shared helpers of the GoogleTest suites (see helpers.h).
 */
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

namespace bzt {

const char *const kTestSchema =
    "# The tables of Bazoola 0.0.7's own test suite.\n"
    "a: id PK, text CHAR(5)\n"
    "b: id PK, text CHAR(5), a_id FK(a)\n"
    "b2: id PK, text CHAR(5), a_id FK(a) NULL\n"
    "c: id PK, varchar CHAR(5), int INT\n"
    "d: id PK, varchar CHAR(5) NULL, int INT NULL\n"
    "e: id PK, text CHAR(20)\n"
    "f: id PK, text TEXT\n"
    "f2: id PK, text TEXT NULL\n"
    "g: id PK, text1 TEXT, text2 TEXT NULL, text3 TEXT\n";

/* ------------------------------------------------------------------ */
/* Temporary directories. */

TempDir::TempDir(const char *tag)
{
    /* TMPDIR lets a suite run on another file system (tmpfs: the outside
     * writer suite runs on both, tests/CMakeLists.txt). */
    const char *base = getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/" +
                        tag + "-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
        perror("mkdtemp");
        abort();
    }
    path_ = buf.data();
}

TempDir::~TempDir()
{
    if (path_.empty())
        return;
    /* A segment outlives a test whose writer was killed (and one whose
     * dead writer's log recovery refused is kept on purpose); the next
     * directory to get this inode number would meet it, and a test
     * running as another user would be refused by it.  The directory is
     * going: so is its segment. */
    struct stat st;
    if (stat(path_.c_str(), &st) == 0) {
        char name[128];
        snprintf(name, sizeof name, "/bazoola-%llx-%llx",
                 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        shm_unlink(name);
    }
    remove_tree(path_);
}

static int rm_entry(const char *path, const struct stat *, int, struct FTW *)
{
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool remove_tree(const std::string &path)
{
    return nftw(path.c_str(), rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

/* ------------------------------------------------------------------ */
/* Bytes and files. */

std::string base64_decode(const std::string &in, bool *ok)
{
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    bool good = true;
    for (char ch : in) {
        if (ch == '=' || ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t')
            continue;
        size_t v = alphabet.find(ch);
        if (v == std::string::npos) {
            good = false;
            continue;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    if (ok)
        *ok = good;
    return out;
}

std::string read_file(const std::string &path, bool *ok)
{
    if (ok)
        *ok = false;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "";
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return "";
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    if (ok)
        *ok = true;
    return out;
}

static bool write_all(int fd, const std::string &data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

bool write_file(const std::string &path, const std::string &data)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    bool good = write_all(fd, data);
    return close(fd) == 0 && good;
}

bool patch_file(const std::string &path, off_t offset, const std::string &data)
{
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool good = pwrite(fd, data.data(), data.size(), offset) ==
                static_cast<ssize_t>(data.size());
    return close(fd) == 0 && good;
}

bool append_file(const std::string &path, const std::string &data)
{
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool good = write_all(fd, data);
    return close(fd) == 0 && good;
}

bool file_exists(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

long long file_size(const std::string &path)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return -1;
    return static_cast<long long>(st.st_size);
}

std::map<std::string, std::string> snapshot_dir(const std::string &dir,
                                                bool dat_only)
{
    std::map<std::string, std::string> snap;
    DIR *d = opendir(dir.c_str());
    if (!d)
        return snap;
    while (struct dirent *e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        if (dat_only) {
            if (name[0] == '.' || name.size() < 4 ||
                name.compare(name.size() - 4, 4, ".dat") != 0)
                continue;
        }
        std::string path = dir + "/" + name;
        struct stat st;
        if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        snap[name] = read_file(path);
    }
    closedir(d);
    return snap;
}

std::string diff_snapshots(const std::map<std::string, std::string> &before,
                           const std::map<std::string, std::string> &after)
{
    std::ostringstream os;
    for (const auto &kv : before) {
        auto it = after.find(kv.first);
        if (it == after.end())
            os << "  " << kv.first << ": removed\n";
        else if (it->second != kv.second)
            os << "  " << kv.first << ": "
               << describe_bytes_diff(kv.second, it->second) << "\n";
    }
    for (const auto &kv : after)
        if (before.find(kv.first) == before.end())
            os << "  " << kv.first << ": created (" << kv.second.size()
               << " bytes: \"" << escape_bytes(kv.second) << "\")\n";
    return os.str();
}

std::string escape_bytes(const std::string &s, size_t max)
{
    std::string out;
    size_t n = s.size() < max ? s.size() : max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\0': out += "\\0"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                char buf[8];
                snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    if (n < s.size())
        out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

std::string describe_bytes_diff(const std::string &want, const std::string &got)
{
    if (want == got)
        return "";
    size_t i = 0;
    while (i < want.size() && i < got.size() && want[i] == got[i])
        i++;
    size_t from = i > 24 ? i - 24 : 0;
    std::ostringstream os;
    os << "sizes " << want.size() << " (expected) vs " << got.size()
       << " (got), first difference at byte " << i << "; expected[" << from
       << "..]: \"" << escape_bytes(want.substr(from), 80) << "\", got["
       << from << "..]: \"" << escape_bytes(got.substr(from < got.size() ? from : got.size()), 80)
       << "\"";
    return os.str();
}

/* ------------------------------------------------------------------ */
/* JSON. */

std::string json_dump(const json_t *j)
{
    if (!j)
        return "(none)";
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (!s)
        return "(unprintable)";
    std::string out = s;
    free(s);
    return out;
}

Json json_parse(const std::string &text, std::string *err)
{
    json_error_t e;
    json_t *j = json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &e);
    if (!j && err)
        *err = std::string(e.text) + " at line " + std::to_string(e.line) +
               " column " + std::to_string(e.column);
    return Json(j);
}

static json_t *string_json(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (!j) /* not UTF-8: keep it, so the comparison fails visibly */
        j = json_stringn_nocheck(s, len);
    return j;
}

json_t *row_to_json(const bz_row *r)
{
    if (!r)
        return json_null();
    json_t *obj = json_object();
    size_t n = bz_row_len(r);
    for (size_t i = 0; i < n; i++) {
        const char *name = bz_row_name(r, i);
        json_t *v = nullptr;
        switch (bz_row_type(r, i)) {
        case BZ_T_NULL:
            v = json_null();
            break;
        case BZ_T_INT:
            v = json_integer(static_cast<json_int_t>(bz_row_int(r, i)));
            break;
        case BZ_T_STR: {
            size_t len = 0;
            const char *s = bz_row_str(r, i, &len);
            v = s ? string_json(s, len) : json_string("(null string)");
            break;
        }
        case BZ_T_ROW:
            v = row_to_json(bz_row_row(r, i));
            break;
        case BZ_T_ROWS:
            v = rows_to_json(bz_row_rows(r, i));
            break;
        default:
            v = json_string("(unknown bz_type)");
        }
        json_object_set_new(obj, name ? name : "(null name)", v);
    }
    return obj;
}

json_t *rows_to_json(const bz_rows *rs)
{
    json_t *arr = json_array();
    if (!rs)
        return arr;
    size_t n = bz_rows_len(rs);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, row_to_json(bz_rows_at(rs, i)));
    return arr;
}

json_t *error_json(int rc)
{
    const char *kind = bz_errkind(rc);
    const char *msg = bz_errmsg();
    return json_pack("{s:s, s:s}", "error", kind ? kind : "(null kind)",
                     "message", msg ? msg : "(null message)");
}

std::string python_float_repr(double d)
{
    if (std::isnan(d))
        return "nan";
    if (std::isinf(d))
        return d < 0 ? "-inf" : "inf";
    if (d == 0)
        return std::signbit(d) ? "-0.0" : "0.0";
    /* Shortest round-trip digits. */
    char buf[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, d);
        if (strtod(buf, nullptr) == d)
            break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec, d);
    std::string s = buf;
    bool neg = s[0] == '-';
    if (neg)
        s.erase(0, 1);
    size_t e = s.find('e');
    int exp = atoi(s.c_str() + e + 1);
    std::string digits;
    for (size_t i = 0; i < e; i++)
        if (s[i] != '.')
            digits.push_back(s[i]);
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    std::string out;
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
            out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
                  digits.substr(static_cast<size_t>(exp) + 1);
        }
    } else {
        char eb[16];
        snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "") + eb;
    }
    return neg ? "-" + out : out;
}

static bool set_json_value(bz_values *v, const char *field, const json_t *val,
                           std::string *err)
{
    int rc;
    switch (json_typeof(val)) {
    case JSON_STRING:
        rc = bz_values_set_strn(v, field, json_string_value(val),
                                json_string_length(val));
        break;
    case JSON_INTEGER:
        rc = bz_values_set_int(v, field, json_integer_value(val));
        break;
    case JSON_NULL:
        rc = bz_values_set_null(v, field);
        break;
    case JSON_TRUE:
        rc = bz_values_set_other(v, field, "True");
        break;
    case JSON_FALSE:
        rc = bz_values_set_other(v, field, "False");
        break;
    case JSON_REAL:
        rc = bz_values_set_other(v, field,
                                 python_float_repr(json_real_value(val)).c_str());
        break;
    default: {
        /* Lists and dicts: Python would print them; JSON is close enough. */
        std::string repr = json_dump(val);
        rc = bz_values_set_other(v, field, repr.c_str());
    }
    }
    if (rc != BZ_OK) {
        *err = std::string("bz_values_set_* for '") + field + "' failed: " + last_error(rc);
        return false;
    }
    return true;
}

bz_values *values_from_json(const json_t *obj, std::string *err)
{
    if (!json_is_object(obj)) {
        *err = "values is not an object";
        return nullptr;
    }
    bz_values *v = bz_values_new();
    if (!v) {
        *err = "bz_values_new failed";
        return nullptr;
    }
    const char *key;
    json_t *val;
    json_object_foreach(const_cast<json_t *>(obj), key, val) {
        if (!set_json_value(v, key, val, err)) {
            bz_values_free(v);
            return nullptr;
        }
    }
    return v;
}

static bool leaf_op(const char *name, bz_op *op)
{
    static const struct { const char *name; bz_op op; } ops[] = {
        {"EQ", BZ_EQ}, {"NE", BZ_NE}, {"LT", BZ_LT}, {"LE", BZ_LE},
        {"GT", BZ_GT}, {"GE", BZ_GE}, {"SUBSTR", BZ_SUBSTR},
        {"ISUBSTR", BZ_ISUBSTR}, {"IN", BZ_IN},
    };
    for (const auto &o : ops)
        if (strcmp(o.name, name) == 0) {
            *op = o.op;
            return true;
        }
    return false;
}

static bz_cond *leaf_from_json(bz_op op, const json_t *pairs, std::string *err)
{
    if (!json_is_object(pairs)) {
        *err = "condition operands are not an object";
        return nullptr;
    }
    bz_cond *c = bz_cond_new(op);
    if (!c) {
        *err = "bz_cond_new failed";
        return nullptr;
    }
    const char *field;
    json_t *val;
    json_object_foreach(const_cast<json_t *>(pairs), field, val) {
        int rc = BZ_OK;
        if (op == BZ_IN) {
            if (!json_is_array(val)) {
                *err = "IN needs a list";
                bz_cond_free(c);
                return nullptr;
            }
            size_t i;
            json_t *x;
            json_array_foreach(val, i, x) {
                if (json_is_integer(x))
                    rc = bz_cond_add_in_int(c, field, json_integer_value(x));
                else if (json_is_string(x))
                    rc = bz_cond_add_in_strn(c, field, json_string_value(x),
                                             json_string_length(x));
                else {
                    *err = "IN value neither int nor string";
                    bz_cond_free(c);
                    return nullptr;
                }
                if (rc != BZ_OK)
                    break;
            }
        } else if (json_is_integer(val)) {
            rc = bz_cond_add_int(c, field, json_integer_value(val));
        } else if (json_is_string(val)) {
            rc = bz_cond_add_strn(c, field, json_string_value(val),
                                  json_string_length(val));
        } else if (json_is_null(val)) {
            rc = bz_cond_add_null(c, field);
        } else {
            *err = std::string("condition value for '") + field +
                   "' has an unsupported type";
            bz_cond_free(c);
            return nullptr;
        }
        if (rc != BZ_OK) {
            *err = std::string("bz_cond_add_* for '") + field + "' failed: " +
                   last_error(rc);
            bz_cond_free(c);
            return nullptr;
        }
    }
    return c;
}

bz_cond *cond_from_json(const json_t *cond, std::string *err)
{
    if (!json_is_object(cond) || json_object_size(cond) == 0) {
        *err = "condition is not a non-empty object";
        return nullptr;
    }
    bz_cond *all = nullptr;
    const char *key;
    json_t *val;
    json_object_foreach(const_cast<json_t *>(cond), key, val) {
        bz_cond *c = nullptr;
        bz_op op;
        if (strcmp(key, "AND") == 0 || strcmp(key, "OR") == 0) {
            bool is_and = key[0] == 'A';
            if (!json_is_array(val) || json_array_size(val) == 0) {
                *err = std::string(key) + " needs a non-empty list";
                bz_cond_free(all);
                return nullptr;
            }
            size_t i;
            json_t *x;
            json_array_foreach(val, i, x) {
                bz_cond *sub = cond_from_json(x, err);
                if (!sub) {
                    bz_cond_free(c);
                    bz_cond_free(all);
                    return nullptr;
                }
                c = c ? (is_and ? bz_cond_and(c, sub) : bz_cond_or(c, sub)) : sub;
            }
        } else if (strcmp(key, "NOT") == 0) {
            bz_cond *sub = cond_from_json(val, err);
            if (!sub) {
                bz_cond_free(all);
                return nullptr;
            }
            c = bz_cond_not(sub);
        } else if (leaf_op(key, &op)) {
            c = leaf_from_json(op, val, err);
        } else {
            *err = std::string("unknown condition operator ") + key;
        }
        if (!c) {
            if (err->empty())
                *err = "building the condition failed";
            bz_cond_free(all);
            return nullptr;
        }
        all = all ? bz_cond_and(all, c) : c;
        if (!all) {
            *err = "bz_cond_and failed";
            return nullptr;
        }
    }
    return all;
}

bz_joins *joins_from_json(const json_t *arr, std::string *err)
{
    if (!arr || json_is_null(arr))
        return nullptr;
    if (!json_is_array(arr)) {
        *err = "joins is not a list";
        return nullptr;
    }
    bz_joins *j = bz_joins_new();
    if (!j) {
        *err = "bz_joins_new failed";
        return nullptr;
    }
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        const char *type = json_string_value(json_object_get(x, "type"));
        const char *fk = json_string_value(json_object_get(x, "fk"));
        const char *key = json_string_value(json_object_get(x, "key"));
        const char *table = json_string_value(json_object_get(x, "table"));
        if (!type || !fk || !key || !table) {
            *err = "join needs type, fk, key and table";
            bz_joins_free(j);
            return nullptr;
        }
        int rc;
        if (strcmp(type, "join") == 0)
            rc = bz_joins_add(j, fk, key, table);
        else if (strcmp(type, "inverse") == 0)
            rc = bz_joins_add_inverse(j, fk, key, table);
        else {
            *err = std::string("unknown join type ") + type;
            bz_joins_free(j);
            return nullptr;
        }
        if (rc != BZ_OK) {
            *err = "bz_joins_add* failed: " + last_error(rc);
            bz_joins_free(j);
            return nullptr;
        }
    }
    return j;
}

static json_t *ok_json(json_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", v);
    return o;
}

static json_t *harness_error(const std::string &msg)
{
    return json_pack("{s:s, s:s}", "error", "test_harness", "message", msg.c_str());
}

json_t *run_json_op(bz_db *db, const json_t *op)
{
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *table = json_string_value(json_object_get(op, "table"));
    if (!name || !table)
        return harness_error("op without \"op\" or \"table\"");
    json_t *idj = json_object_get(op, "id");
    int64_t id = json_is_integer(idj) ? json_integer_value(idj) : 0;
    std::string err;
    int rc;

    if (strcmp(name, "insert") == 0 || strcmp(name, "update_by_id") == 0) {
        Values v(values_from_json(json_object_get(op, "values"), &err));
        if (!v)
            return harness_error(err);
        bz_row *row = nullptr;
        if (name[0] == 'i')
            rc = bz_insert(db, table, v.get(), &row);
        else
            rc = bz_update_by_id(db, table, id, v.get(), &row);
        Row owned(row);
        if (rc != BZ_OK)
            return error_json(rc);
        return ok_json(row_to_json(row));
    }
    if (strcmp(name, "find_by_id") == 0) {
        Joins j(joins_from_json(json_object_get(op, "joins"), &err));
        if (!err.empty())
            return harness_error(err);
        bz_row *row = nullptr;
        rc = bz_find_by_id(db, table, id, j.get(), &row);
        Row owned(row);
        if (rc != BZ_OK)
            return error_json(rc);
        return ok_json(row_to_json(row));
    }
    if (strcmp(name, "find_all") == 0 || strcmp(name, "find_by_cond") == 0) {
        Joins j(joins_from_json(json_object_get(op, "joins"), &err));
        if (!err.empty())
            return harness_error(err);
        bz_rows *rows = nullptr;
        if (name[5] == 'a') {
            rc = bz_find_all(db, table, j.get(), &rows);
        } else {
            Cond c(cond_from_json(json_object_get(op, "cond"), &err));
            if (!c)
                return harness_error(err);
            rc = bz_find_by_cond(db, table, c.get(), j.get(), &rows);
        }
        Rows owned(rows);
        if (rc != BZ_OK)
            return error_json(rc);
        return ok_json(rows_to_json(rows));
    }
    if (strcmp(name, "delete_by_id") == 0) {
        rc = bz_delete_by_id(db, table, id);
        if (rc != BZ_OK)
            return error_json(rc);
        return ok_json(json_null());
    }
    if (strcmp(name, "truncate") == 0) {
        rc = bz_truncate(db, table, json_is_true(json_object_get(op, "cascade")));
        if (rc != BZ_OK)
            return error_json(rc);
        return ok_json(json_null());
    }
    return harness_error(std::string("unknown op ") + name);
}

/* ------------------------------------------------------------------ */
/* Values and schemas for the unit tests. */

bz_values *make_values(const Fields &fields)
{
    bz_values *v = bz_values_new();
    if (!v)
        return nullptr;
    for (const auto &f : fields) {
        int rc = BZ_OK;
        switch (f.second.kind) {
        case V::INT: rc = bz_values_set_int(v, f.first.c_str(), f.second.i); break;
        case V::STR:
            rc = bz_values_set_strn(v, f.first.c_str(), f.second.s.data(),
                                    f.second.s.size());
            break;
        case V::NUL: rc = bz_values_set_null(v, f.first.c_str()); break;
        case V::OTHER:
            rc = bz_values_set_other(v, f.first.c_str(), f.second.s.c_str());
            break;
        }
        if (rc != BZ_OK) {
            bz_values_free(v);
            return nullptr;
        }
    }
    return v;
}

std::string last_error(int rc)
{
    const char *kind = bz_errkind(rc);
    const char *msg = bz_errmsg();
    return "rc=" + std::to_string(rc) + " (" + (kind ? kind : "?") + "): " +
           (msg ? msg : "(null)");
}

bz_schema *parse_schema(const std::string &text, std::string *err)
{
    bz_schema *s = nullptr;
    int rc = bz_schema_parse(text.data(), text.size(), &s);
    if (rc != BZ_OK) {
        if (err)
            *err = "bz_schema_parse: " + last_error(rc);
        return nullptr;
    }
    return s;
}

bz_db *open_db(const std::string &dir, const std::string &schema_text,
               std::string *err)
{
    Schema s(parse_schema(schema_text, err));
    if (!s)
        return nullptr;
    bz_db *db = nullptr;
    int rc = bz_open(dir.c_str(), s.get(), nullptr, &db);
    if (rc != BZ_OK) {
        if (err)
            *err = "bz_open(" + dir + "): " + last_error(rc);
        return nullptr;
    }
    return db;
}

std::vector<int64_t> row_ids(const bz_rows *rs)
{
    std::vector<int64_t> ids;
    if (!rs)
        return ids;
    for (size_t i = 0; i < bz_rows_len(rs); i++)
        ids.push_back(bz_row_id(bz_rows_at(rs, i)));
    return ids;
}

/* ------------------------------------------------------------------ */
/* Processes. */

pid_t spawn_child(const std::function<int()> &fn)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int rc = 99;
        try {
            rc = fn();
        } catch (...) {
            rc = 98;
        }
        _exit(rc);
    }
    return pid;
}

static long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool wait_child(pid_t pid, int timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (status)
                *status = st;
            return true;
        }
        if (r < 0 && errno != EINTR) {
            if (status)
                *status = -1;
            return false;
        }
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            if (status)
                *status = st;
            return false;
        }
        usleep(2000);
    }
}

std::string describe_status(int status)
{
    if (status == -1)
        return "not waited for";
    if (WIFEXITED(status))
        return "exited " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) +
               " (" + strsignal(WTERMSIG(status)) + ")";
    return "status " + std::to_string(status);
}

bool run_process(const std::vector<std::string> &argv, const std::string &in_data,
                 int timeout_ms, std::string *out, std::string *err, int *status)
{
    TempDir io("bzproc");
    std::string in_path = io.file("stdin"), out_path = io.file("stdout"),
                err_path = io.file("stderr");
    if (!write_file(in_path, in_data))
        return false;
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int in = open(in_path.c_str(), O_RDONLY);
        int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(args[0], args.data());
        _exit(127);
    }
    bool finished = wait_child(pid, timeout_ms, status);
    if (out)
        *out = read_file(out_path);
    if (err)
        *err = read_file(err_path);
    return finished;
}

} // namespace bzt

namespace bzt {
bool force_shared_mode()
{
    unsetenv("BAZOOLA_LOCK_MODE");
    return true;
}
} // namespace bzt
