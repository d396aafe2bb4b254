#include "outside_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace bzt {

const char *const kOutsideSchema =
    "t: id PK, x INT, y INT, tag CHAR(16), body TEXT NULL\n";

namespace {
constexpr int W = 9;                       /* INT, PK, TEXT reference  */
constexpr int TAG = 16;
constexpr int ROW = W * 3 + TAG + W + 1;   /* 53 */

std::string num(int64_t v)
{
    std::string s = std::to_string(v);
    s.resize(W, ' ');
    return s;
}

bool parse_num(const std::string &s, int64_t *v)
{
    size_t end = s.find_last_not_of(' ');
    if (end == std::string::npos)
        return false;
    char *e;
    std::string t = s.substr(0, end + 1);
    errno = 0;
    *v = strtoll(t.c_str(), &e, 10);
    return errno == 0 && *e == 0;
}
} // namespace

OutsideWriter::OutsideWriter(const std::string &dir) : dir_(dir)
{
    auto open1 = [&](const char *name) {
        int fd = open((dir + "/" + name).c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0 && err_.empty())
            err_ = std::string("cannot open ") + name + ": " + strerror(errno);
        return fd;
    };
    lock_fd_ = open1(".lock");
    dat_ = open1("t.dat");
    seq_ = open1("t__seqnum.dat");
    idx_ = open1("t__id.idx.dat");
    fre_ = open1("t__free.dat");
    txt_ = open1("t.text.dat");
    ok_ = err_.empty();
}

OutsideWriter::~OutsideWriter()
{
    for (int fd : {lock_fd_, dat_, seq_, idx_, fre_, txt_})
        if (fd >= 0)
            close(fd);
}

bool OutsideWriter::fail(const std::string &why)
{
    err_ = why;
    return false;
}

bool OutsideWriter::lock()
{
    while (flock(lock_fd_, LOCK_EX) != 0)
        if (errno != EINTR)
            return fail(std::string("flock: ") + strerror(errno));
    return true;
}

void OutsideWriter::unlock()
{
    flock(lock_fd_, LOCK_UN);
}

bool OutsideWriter::read_at(int fd, int64_t off, std::string *out, size_t len)
{
    out->assign(len, '\0');
    ssize_t n = pread(fd, &(*out)[0], len, off);
    if (n != (ssize_t)len)
        return fail("short read at " + std::to_string(off));
    return true;
}

bool OutsideWriter::write_at(int fd, int64_t off, const std::string &data)
{
    if (pwrite(fd, data.data(), data.size(), off) != (ssize_t)data.size())
        return fail(std::string("pwrite: ") + strerror(errno));
    return true;
}

/* Python's f.seek(0, 2): no stat, so (like 0.0.7) this writer never asks
 * for a file's times, and its writes keep coarse timestamps. */
int64_t OutsideWriter::size_of(int fd)
{
    return (int64_t)lseek(fd, 0, SEEK_END);
}

bool OutsideWriter::read_row(int64_t id, int64_t *rownum, OutsideRow *row)
{
    std::string slot, raw;
    *rownum = -1;
    if ((id - 1) * W + W > size_of(idx_))
        return true;
    if (!read_at(idx_, (id - 1) * W, &slot, W))
        return false;
    int64_t rn;
    if (!parse_num(slot, &rn) || slot[0] == '#')
        return true;
    if (!read_at(dat_, rn * ROW, &raw, ROW))
        return false;
    int64_t rid;
    if (!parse_num(raw.substr(0, W), &rid) || rid != id)
        return fail("index slot of " + std::to_string(id) + " names row " +
                    std::to_string(rn) + ", which holds another id");
    row->id = id;
    if (!parse_num(raw.substr(W, W), &row->x) ||
        !parse_num(raw.substr(2 * W, W), &row->y))
        return fail("bad x or y in row " + std::to_string(rn));
    row->tag = raw.substr(3 * W, TAG);
    row->tag.erase(row->tag.find_last_not_of(' ') + 1);
    std::string ref = raw.substr(3 * W + TAG, W);
    row->body.reset();
    if (ref[0] != '#') {
        int64_t off, len;
        std::string lenb, bytes;
        if (!parse_num(ref, &off) || !read_at(txt_, off, &lenb, W) ||
            !parse_num(lenb, &len) || !read_at(txt_, off + W, &bytes, (size_t)len))
            return fail("bad text record for row " + std::to_string(rn));
        row->body = bytes;
    }
    *rownum = rn;
    return true;
}

/* 0.0.7's insert of a row whose id is decided: texts, free stack pop or
 * append, row, index slot.  Returns the row number or -1. */
int64_t OutsideWriter::put_row(int64_t id, const OutsideRow &r)
{
    std::string ref(W, '#');
    if (r.body) {
        int64_t at = size_of(txt_);
        if (!write_at(txt_, at, num((int64_t)r.body->size()) + *r.body))
            return -1;
        ref = num(at);
    }
    int64_t rownum, fsz = size_of(fre_);
    if (fsz >= W) {
        std::string top;
        if (!read_at(fre_, fsz - W, &top, W) || !parse_num(top, &rownum))
            return -1;
        if (ftruncate(fre_, fsz - W) != 0)
            return fail("ftruncate free"), -1;
    } else {
        rownum = size_of(dat_) / ROW;
    }
    std::string tag = r.tag;
    tag.resize(TAG, ' ');
    if (!write_at(dat_, rownum * ROW,
                  num(id) + num(r.x) + num(r.y) + tag + ref + "\n"))
        return -1;
    int64_t isz = size_of(idx_), off = (id - 1) * W;
    std::string slot = num(rownum);
    if (off > isz)
        slot = std::string((size_t)(off - isz), '#') + slot, off = isz;
    if (!write_at(idx_, off, slot))
        return -1;
    return rownum;
}

int64_t OutsideWriter::insert(int64_t x, int64_t y, const std::string &tag,
                              const std::optional<std::string> &body)
{
    if (!lock())
        return -1;
    std::string seqb(size_t(size_of(seq_)), '\0');
    int64_t seq = 0;
    int64_t id = -1;
    if (read_at(seq_, 0, &seqb, seqb.size()) && parse_num(seqb + " ", &seq)) {
        id = seq + 1;
        OutsideRow r{id, x, y, tag, body};
        if (!write_at(seq_, 0, std::to_string(id)) || put_row(id, r) < 0)
            id = -1;
    } else if (err_.empty()) {
        fail("bad seqnum '" + seqb + "'");
    }
    unlock();
    return id;
}

bool OutsideWriter::update_x(int64_t id, int64_t x, bool y_too, int64_t y)
{
    if (!lock())
        return false;
    OutsideRow r;
    int64_t rn;
    bool ok = read_row(id, &rn, &r);
    if (ok && rn < 0)
        ok = fail("no row " + std::to_string(id));
    if (ok) {
        /* delete: texts erased, index slot emptied, row starred, row
         * number pushed; then the insert pops it again. */
        if (r.body) {
            std::string raw;
            read_at(dat_, rn * ROW + 3 * W + TAG, &raw, W);
            int64_t off;
            parse_num(raw, &off);
            ok = write_at(txt_, off, std::string(W + r.body->size(), '#'));
        }
        ok = ok && write_at(idx_, (id - 1) * W, std::string(W, '#')) &&
             write_at(dat_, rn * ROW, std::string(ROW - 1, '*') + "\n") &&
             write_at(fre_, size_of(fre_), num(rn));
        r.x = x;
        if (y_too)
            r.y = y;
        ok = ok && put_row(id, r) >= 0;
    }
    unlock();
    return ok;
}

std::optional<OutsideRow> OutsideWriter::find(int64_t id)
{
    if (!lock())
        return std::nullopt;
    OutsideRow r;
    int64_t rn;
    bool ok = read_row(id, &rn, &r);
    unlock();
    if (!ok || rn < 0)
        return std::nullopt;
    return r;
}

} // namespace bzt
