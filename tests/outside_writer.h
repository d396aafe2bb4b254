/*
 * outside_writer.h - a writer that works on a data directory exactly as
 * Bazoola 0.0.7 does: it takes flock(LOCK_EX) on DIR/.lock for each
 * operation, then reads and writes the table files with plain
 * pread/pwrite/ftruncate on descriptors it keeps open.  It knows nothing of
 * the shared segment, which is the point: shared-mode processes must see
 * everything it does (shm/README.md, "Outside writers").
 *
 * It handles one table of a fixed schema, kOutsideSchema:
 *     t: id PK, x INT, y INT, tag CHAR(16), body TEXT NULL
 * and 0.0.7's insert (auto id: seqnum+1) and update_by_id (delete, then
 * insert of the merged row, which reuses the row number it just freed).
 * No validation beyond what the tests need: it is a test double, not a
 * second engine.
 */
#ifndef BZ_TESTS_OUTSIDE_WRITER_H
#define BZ_TESTS_OUTSIDE_WRITER_H

#include <cstdint>
#include <optional>
#include <string>

namespace bzt {

extern const char *const kOutsideSchema;

struct OutsideRow {
    int64_t id = 0;
    int64_t x = 0, y = 0;
    std::string tag;
    std::optional<std::string> body;
};

class OutsideWriter {
public:
    /* Opens DIR/.lock and the table's five files (they must exist). */
    explicit OutsideWriter(const std::string &dir);
    ~OutsideWriter();
    OutsideWriter(const OutsideWriter &) = delete;
    OutsideWriter &operator=(const OutsideWriter &) = delete;

    bool ok() const { return ok_; }
    const std::string &error() const { return err_; }

    /* The new id, or -1 (error() says why). */
    int64_t insert(int64_t x, int64_t y, const std::string &tag,
                   const std::optional<std::string> &body);
    /* Set x (and y when y_too): 0.0.7's delete-then-insert. */
    bool update_x(int64_t id, int64_t x, bool y_too = false, int64_t y = 0);
    /* Read under the flock; nullopt when the id has no row. */
    std::optional<OutsideRow> find(int64_t id);

private:
    bool lock();
    void unlock();
    bool read_at(int fd, int64_t off, std::string *out, size_t len);
    bool write_at(int fd, int64_t off, const std::string &data);
    int64_t size_of(int fd);
    bool read_row(int64_t id, int64_t *rownum, OutsideRow *row);
    int64_t put_row(int64_t id, const OutsideRow &r);
    bool fail(const std::string &why);

    std::string dir_;
    int lock_fd_ = -1, dat_ = -1, seq_ = -1, idx_ = -1, fre_ = -1, txt_ = -1;
    bool ok_ = false;
    std::string err_;
};

} // namespace bzt

#endif
