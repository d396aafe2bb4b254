/*
 * helpers.h - shared helpers of the GoogleTest suites.
 *
 * Everything here goes through the public C API (bazoola.h) or the plain
 * file system: the tests never look inside the engine.  The helpers do not
 * use gtest assertions themselves (so they can run in forked children);
 * they report failure through return values and an error string.
 */
#ifndef BZ_TESTS_HELPERS_H
#define BZ_TESTS_HELPERS_H

#include <bazoola.h>
#include <jansson.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

/* The engine's fault-injection hook (engine/fileio.h), internal but
 * linked into the tests: called before every file write or truncate with a
 * running count nth from 1 (reset when the hook is set); a non-zero return
 * fails that write with that errno; the hook may also end the process. */
extern "C" {
typedef int (*bz_write_hook)(const char *file, int64_t off, size_t len,
                             uint64_t nth);
void bz__set_write_hook(bz_write_hook hook);
}

namespace bzt {

/* For suites about shared mode (the segment, crash atomicity): a
 * suite-wide BAZOOLA_LOCK_MODE=flock run must not turn them into flock
 * tests.  Call from a static initializer; returns true. */
bool force_shared_mode();

/* ------------------------------------------------------------------ */
/* Owning handles for the C objects. */
struct JsonFree { void operator()(json_t *j) const { json_decref(j); } };
struct SchemaFree { void operator()(bz_schema *s) const { bz_schema_free(s); } };
struct DbClose { void operator()(bz_db *d) const { bz_close(d); } };
struct ValuesFree { void operator()(bz_values *v) const { bz_values_free(v); } };
struct RowFree { void operator()(bz_row *r) const { bz_row_free(r); } };
struct RowsFree { void operator()(bz_rows *r) const { bz_rows_free(r); } };
struct CondFree { void operator()(bz_cond *c) const { bz_cond_free(c); } };
struct JoinsFree { void operator()(bz_joins *j) const { bz_joins_free(j); } };
struct IterClose { void operator()(bz_iter *i) const { bz_iter_close(i); } };
struct CFree { void operator()(char *p) const { free(p); } };

using Json = std::unique_ptr<json_t, JsonFree>;
using Schema = std::unique_ptr<bz_schema, SchemaFree>;
using Db = std::unique_ptr<bz_db, DbClose>;
using Values = std::unique_ptr<bz_values, ValuesFree>;
using Row = std::unique_ptr<bz_row, RowFree>;
using Rows = std::unique_ptr<bz_rows, RowsFree>;
using Cond = std::unique_ptr<bz_cond, CondFree>;
using Joins = std::unique_ptr<bz_joins, JoinsFree>;
using Iter = std::unique_ptr<bz_iter, IterClose>;
using CStr = std::unique_ptr<char, CFree>;

/* ------------------------------------------------------------------ */
/* A fresh directory under $TMPDIR, else /tmp (mkdtemp), removed with its
 * contents. */
class TempDir {
public:
    explicit TempDir(const char *tag = "bztest");
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::string &path() const { return path_; }
    const char *c_str() const { return path_.c_str(); }
    std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

/* Remove a directory tree (like rm -rf); true on success. */
bool remove_tree(const std::string &path);

/* ------------------------------------------------------------------ */
/* Bytes and files. */

/* Decode standard base64 (with or without padding, whitespace ignored).
 * *ok (if given) is false on a character outside the alphabet. */
std::string base64_decode(const std::string &in, bool *ok = nullptr);

/* The whole file; *ok false (and "" returned) when it cannot be read. */
std::string read_file(const std::string &path, bool *ok = nullptr);
bool write_file(const std::string &path, const std::string &data);
/* Overwrite bytes at offset (the file must exist). */
bool patch_file(const std::string &path, off_t offset, const std::string &data);
bool append_file(const std::string &path, const std::string &data);
bool file_exists(const std::string &path);
long long file_size(const std::string &path); /* -1 when missing */

/* name -> bytes of the regular files directly in dir.  dat_only keeps the
 * non-hidden names ending in ".dat" (what a shell glob *.dat matches). */
std::map<std::string, std::string> snapshot_dir(const std::string &dir,
                                                bool dat_only);
/* Human-readable difference of two snapshots ("" when equal). */
std::string diff_snapshots(const std::map<std::string, std::string> &before,
                           const std::map<std::string, std::string> &after);

/* Bytes with non-printables escaped (\n, \0, \xNN), cut at max bytes. */
std::string escape_bytes(const std::string &s, size_t max = 160);
/* Where and how two byte strings differ ("" when equal). */
std::string describe_bytes_diff(const std::string &want, const std::string &got);

/* ------------------------------------------------------------------ */
/* JSON <-> API. */

std::string json_dump(const json_t *j);
/* Parse one JSON text (any value); null on error, *err says why. */
Json json_parse(const std::string &text, std::string *err = nullptr);

/* Results as the JSON-lines protocol prints them (new references). */
json_t *row_to_json(const bz_row *r);
json_t *rows_to_json(const bz_rows *rs);
/* {"error": bz_errkind(rc), "message": bz_errmsg()} */
json_t *error_json(int rc);

/* How Python's repr() prints a float (shortest round-trip, ".0" added). */
std::string python_float_repr(double d);

/* Translate the protocol's pieces (README.md, "bazoola exec").  On a translation
 * failure they return nullptr and set *err. */
bz_values *values_from_json(const json_t *obj, std::string *err);
bz_cond *cond_from_json(const json_t *cond, std::string *err);
bz_joins *joins_from_json(const json_t *arr, std::string *err);

/* Run one protocol operation through the C API and return its result in
 * the protocol's form: {"ok": ...} or {"error": kind, "message": text}. */
json_t *run_json_op(bz_db *db, const json_t *op);

/* ------------------------------------------------------------------ */
/* Values for the unit tests: V(42), V("abc"), V(nullptr), V::other("3.5"). */
struct V {
    enum Kind { INT, STR, NUL, OTHER } kind;
    int64_t i = 0;
    std::string s;

    V(int v) : kind(INT), i(v) {}
    V(long v) : kind(INT), i(v) {}
    V(long long v) : kind(INT), i(v) {}
    V(const char *v) : kind(STR), s(v) {}
    V(const std::string &v) : kind(STR), s(v) {}
    V(std::nullptr_t) : kind(NUL) {}
    static V other(const char *repr)
    {
        V v(nullptr);
        v.kind = OTHER;
        v.s = repr;
        return v;
    }
};
using Fields = std::vector<std::pair<std::string, V>>;

/* Build a bz_values (nullptr if a setter failed). */
bz_values *make_values(const Fields &fields);

/* Parse schema text; nullptr on failure (*err gets rc and bz_errmsg()). */
bz_schema *parse_schema(const std::string &text, std::string *err = nullptr);
/* Parse and open; nullptr on failure (*err says why). */
bz_db *open_db(const std::string &dir, const std::string &schema_text,
               std::string *err = nullptr);

/* "rc=N (kind): message" of the calling thread's last error. */
std::string last_error(int rc);

/* The ids of a row list, in order. */
std::vector<int64_t> row_ids(const bz_rows *rs);

/* ------------------------------------------------------------------ */
/* Processes. */

/* fork(); the child runs fn and _exit()s with its return value. */
pid_t spawn_child(const std::function<int()> &fn);
/* Wait for pid up to timeout_ms; on timeout kill it (SIGKILL), reap it and
 * return false.  *status gets the waitpid status. */
bool wait_child(pid_t pid, int timeout_ms, int *status);
/* "exited 3", "killed by signal 11", ... */
std::string describe_status(int status);

/* Run argv with stdin from in_data; collect stdout and stderr.  false on
 * a spawn failure or timeout (the process is killed). */
bool run_process(const std::vector<std::string> &argv, const std::string &in_data,
                 int timeout_ms, std::string *out, std::string *err, int *status);

/* ------------------------------------------------------------------ */
/* The schema of Bazoola 0.0.7's own test suite (the corpus uses it). */
extern const char *const kTestSchema;

} // namespace bzt

#endif
