"""A deliberately small pure-Python implementation of the Bazoola table
format (docs/file-format.md), just enough for the benchmark's workloads:
insert, find by id and a full-scan case-insensitive substring search over
tables of PK / INT / CHAR fields.  It follows 0.0.7's design: one exclusive
flock on DIR/.lock around every operation, unbuffered file I/O.  It is the
baseline the module is measured against, not a second engine: no TEXT, no
deletes, no validation beyond what the workload needs.
"""
import fcntl
import os

W = 9  # width of PK/INT fields, index slots and free-stack entries


class PureTable:
    def __init__(self, base_dir, name, fields):
        """fields: [(name, "PK" | "INT" | ("CHAR", n))] in schema order."""
        self.fields = [(n, W if t in ("PK", "INT") else t[1], t in ("PK", "INT"))
                       for n, t in fields]
        self.row_size = sum(w for _, w, _ in self.fields) + 1
        os.makedirs(base_dir, exist_ok=True)

        def f(suffix, init=b""):
            path = os.path.join(base_dir, name + suffix)
            if not os.path.exists(path):
                with open(path, "wb") as g:
                    g.write(init)
            return open(path, "r+b", buffering=0)

        self.dat, self.seq = f(".dat"), f("__seqnum.dat", b"0")
        self.idx, self.free = f("__id.idx.dat"), f("__free.dat")
        self.lockf = open(os.path.join(base_dir, ".lock"), "a+b")

    def close(self):
        for x in (self.dat, self.seq, self.idx, self.free, self.lockf):
            x.close()

    def _lock(self):
        fcntl.flock(self.lockf, fcntl.LOCK_EX)

    def _unlock(self):
        fcntl.flock(self.lockf, fcntl.LOCK_UN)

    def _encode(self, values):
        out = []
        for name, width, is_int in self.fields:
            v = values.get(name)
            if v is None:
                out.append((b"#" if is_int else b"\0") * width)
            else:
                b = str(v).encode() if is_int else v.encode()
                if len(b) > width:
                    raise ValueError(f"'{name}': The value is too long")
                out.append(b.ljust(width))
        return b"".join(out) + b"\n"

    def _decode(self, raw):
        row, pos = {}, 0
        for name, width, is_int in self.fields:
            v = raw[pos:pos + width]
            pos += width
            if is_int:
                row[name] = None if v[:1] == b"#" else int(v)
            else:
                row[name] = None if v[:1] == b"\0" else v.rstrip().decode()
        return row

    def insert(self, values):
        self._lock()
        try:
            self.seq.seek(0)
            new_id = int(self.seq.read()) + 1
            self.seq.seek(0)
            self.seq.write(str(new_id).encode())
            row = self._encode(dict(values, id=new_id))
            size = os.fstat(self.free.fileno()).st_size
            if size:
                self.free.seek(size - W)
                rownum = int(self.free.read(W))
                self.free.truncate(size - W)
            else:
                rownum = os.fstat(self.dat.fileno()).st_size // self.row_size
            self.dat.seek(rownum * self.row_size)
            self.dat.write(row)
            off = (new_id - 1) * W
            end = os.fstat(self.idx.fileno()).st_size
            if off > end:
                self.idx.seek(end)
                self.idx.write(b"#" * (off - end))
            self.idx.seek(off)
            self.idx.write(str(rownum).encode().ljust(W))
            return self._decode(row)
        finally:
            self._unlock()

    def find_by_id(self, pk):
        self._lock()
        try:
            self.idx.seek((pk - 1) * W)
            slot = self.idx.read(W)
            if len(slot) < W or slot[:1] == b"#":
                return None
            self.dat.seek(int(slot) * self.row_size)
            raw = self.dat.read(self.row_size)
            return None if raw[:1] == b"*" else self._decode(raw)
        finally:
            self._unlock()

    def find_isubstr(self, field, needle):
        needle = needle.lower()
        self._lock()
        try:
            self.dat.seek(0)
            data = self.dat.read()
        finally:
            self._unlock()
        out = []
        rs = self.row_size
        for i in range(0, len(data), rs):
            raw = data[i:i + rs]
            if raw[:1] == b"*":
                continue
            row = self._decode(raw)
            v = row[field]
            if v is not None and needle in str(v).lower():
                out.append(row)
        return out
