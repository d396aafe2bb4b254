"""DB: 0.0.7's operations, each one call into libbazoola.

Every operation marshals its arguments (values, a condition tree, a join
list), makes one engine call, turns the result rows into Row dicts through
the bz_row_* accessors and frees them.  The engine does all validation,
condition evaluation and joining; its errors become the exceptions of
errors.py with bz_errmsg()'s text.
"""
import contextlib
import ctypes
import os
import threading
import weakref

from . import _lib
from . import cond as _cond
from . import join as _join
from .errors import DBError, check, from_rc
from .schema import CHAR, INT, TEXT, PK, schema_text

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

_LOCK_MODES = {None: 0, "flock": 1, "shared": 2}
_SYNC = {None: None, "off": 0, "full": 1}

# Handles belong to the process that opened them (bazoola.h): after fork()
# each DB reopens its directory on first use in the child.
_fork_gen = 0
_open_dbs = weakref.WeakSet()


def _after_fork_in_child():
    global _fork_gen
    _fork_gen += 1
    for db in list(_open_dbs):
        db._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Row(dict):
    """A row: field name -> value (int, str or None), joined rows under
    their keys.  A plain dict otherwise."""


class _TableInfo:
    __slots__ = ("name", "fields", "kinds")

    def __init__(self, cls):
        self.name = cls.name
        # (name, is_str, nullable) in schema order: the order of a result
        # row's entries (bazoola.h, "Results").
        self.fields = []
        self.kinds = {}
        for f in cls.schema.schema:
            is_str = isinstance(f.type, (CHAR, TEXT))
            self.fields.append((f.name, is_str, f.type.null))
            self.kinds[f.name] = f.type


def _int64(v):
    return _INT64_MIN if v < _INT64_MIN else _INT64_MAX if v > _INT64_MAX else v


def _set_value(vals, name, v, ftype):
    """One value of an insert or update, as 0.0.7 would see its type."""
    bname = name.encode()
    if v is None:
        return _lib.values_set_null(vals, bname)
    if isinstance(v, bool):
        # 0.0.7 would write "True" into an INT field; we refuse it as the
        # type mismatch it is.
        return _lib.values_set_other(vals, bname, repr(v).encode())
    if isinstance(v, int):
        # Beyond int64 no field can hold it: the nearest int64 gets the
        # same "too big" / "Type mismatch" answer.
        return _lib.values_set_int(vals, bname, _int64(v))
    if isinstance(v, str):
        b = v.encode()
        return _lib.values_set_strn(vals, bname, b, len(b))
    if isinstance(v, (bytes, bytearray)) and (
            ftype is None or isinstance(ftype, (CHAR, TEXT))):
        b = bytes(v)  # 0.0.7 takes bytes for CHAR and TEXT
        return _lib.values_set_strn(vals, bname, b, len(b))
    return _lib.values_set_other(vals, bname, repr(v).encode())


class _Storage:
    """db.storage: 0.0.7's home of the lock."""

    def __init__(self, db):
        self._db = weakref.proxy(db)

    @contextlib.contextmanager
    def lock(self):
        """Hold the directory's writer lock (re-entrant per thread) for a
        read-modify-write sequence: no other thread or process writes
        until the outermost block ends."""
        h = self._db._enter()
        try:
            check(_lib.lock(h))
            try:
                yield
            finally:
                check(_lib.unlock(h))
        finally:
            self._db._leave()


class RowIterator:
    """Rows of one table in file order, a chunk at a time (bz_iter_*): the
    whole table is never in memory and no lock is held between rows.  Rows
    changed by others between chunks may be seen in either state, never
    torn.  Close it (or exhaust it, or use it in a with block) to free the
    engine's iterator; db.close() closes the ones still open."""

    def __init__(self, db, table, cond, joins):
        self._db = db
        self._it = None
        self._joins_spec = None
        self._busy = threading.Lock()
        if not isinstance(table, str):
            raise TypeError(f"table name must be a str, not {table!r}")
        c = _cond.build(cond)
        try:
            self._joins = _join.build(joins)  # the iterator reads it until closed
        except BaseException:
            if c:
                _lib.cond_free(c)
            raise
        try:
            h = db._enter()
            try:
                it = ctypes.c_void_p()
                rc = _lib.iter_open(h, table.encode(), c, self._joins,
                                    ctypes.byref(it))
                if rc != _lib.OK:
                    raise from_rc(rc)
                self._it = it
                self._gen = db._gen
                self._info = db._tables[table]
                self._joins_spec = db._joins_spec(joins)
                db._iters.add(self)
            finally:
                db._leave()
        finally:
            if c:
                _lib.cond_free(c)  # compiled into the iterator by bz_iter_open
            if self._it is None and self._joins:
                _lib.joins_free(self._joins)
                self._joins = None

    def __iter__(self):
        return self

    def __next__(self):
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("RowIterator is already in use by another thread")
        try:
            if self._it is None:
                raise StopIteration
            db = self._db
            h = db._enter()
            try:
                if self._gen != db._gen:  # opened before a fork or a reopen
                    self._free()
                    raise DBError("iterator opened in another process: "
                                  "open a new one", _lib.EINVAL)
                row = ctypes.c_void_p()
                rc = _lib.iter_next(self._it, ctypes.byref(row))
                if rc == _lib.ROW:
                    try:
                        return db._decode(row.value, self._info,
                                          self._joins_spec)
                    finally:
                        _lib.row_free(row)
                if rc == _lib.DONE:
                    self._free()
                    raise StopIteration
                raise from_rc(rc)
            finally:
                db._leave()
        finally:
            self._busy.release()

    def _free(self):
        if self._it is not None:
            if self._gen == self._db._gen:
                _lib.iter_close(self._it)
            self._it = None
            self._db._iters.discard(self)
        if self._joins:
            _lib.joins_free(self._joins)
            self._joins = None

    def close(self):
        with self._busy:
            self._free()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._free()
        except Exception:
            pass


class DB:
    """A data directory opened through libbazoola.

    DB(table_classes, base_dir="data", *, lock_mode=None, sync=None,
       cache_mb=None, create=True)

    lock_mode: "shared" (the shared page cache; the default unless
    BAZOOLA_LOCK_MODE says otherwise) or "flock" (0.0.7's design: one
    exclusive lock for every operation, no cache).  sync: "off" (default:
    an operation survives the death of any process) or "full" (also a
    power cut).  cache_mb: size of the shared cache in MiB, used by the
    process that creates the segment (default BAZOOLA_CACHE_MB, else it
    follows the data: shm/README.md, "Size").
    create=False refuses a missing directory or file instead of creating it.
    """

    def __init__(self, cls_tables, base_dir="data", *, lock_mode=None,
                 sync=None, cache_mb=None, create=True):
        self._db = None
        cls_tables = list(cls_tables)
        if not cls_tables:
            raise ValueError("DB must have at least one table")
        if lock_mode not in _LOCK_MODES:
            raise ValueError(f"lock_mode must be 'shared' or 'flock', not "
                             f"{lock_mode!r}")
        if sync not in _SYNC:
            raise ValueError(f"sync must be 'off' or 'full', not {sync!r}")
        if cache_mb is not None and (isinstance(cache_mb, bool) or
                                     not isinstance(cache_mb, int) or
                                     cache_mb < 1):
            raise ValueError(f"cache_mb must be a positive int, not "
                             f"{cache_mb!r}")
        self.base_dir = os.fspath(base_dir)
        self._schema_text = schema_text(cls_tables)
        self._opts = (lock_mode, sync, cache_mb, bool(create))
        self._tables = {c.name: _TableInfo(c) for c in cls_tables}
        self.tables = {c.name: c(self) for c in cls_tables}
        self.storage = _Storage(self)
        self._mu = threading.Lock()
        self._idle = threading.Condition(self._mu)
        self._active = 0
        self._closing = False
        self._iters = weakref.WeakSet()
        self._gen = _fork_gen
        self._db = self._open()
        _open_dbs.add(self)

    # ---- the handle ----------------------------------------------------

    def _open(self):
        text = self._schema_text.encode()
        sch = ctypes.c_void_p()
        rc = _lib.schema_parse(text, len(text), ctypes.byref(sch))
        if rc != _lib.OK:
            e = from_rc(rc)
            sized = [f"{t}.{n}" for t, info in self._tables.items()
                     for n, ft in info.kinds.items()
                     if type(ft) is INT and ft.size != 9]
            if sized:
                e.message += (f" (INT(size=n) fields {', '.join(sized)} need "
                              f"a libbazoola that knows INT(n); this one is "
                              f"{_lib.version().decode()})")
                e.args = (e.message,)
            raise e
        opts = _lib.options_new()
        if not opts:
            _lib.schema_free(sch)
            raise MemoryError("bz_options_new")
        try:
            lock_mode, sync, cache_mb, create = self._opts
            check(_lib.options_set_lock_mode(opts, _LOCK_MODES[lock_mode]))
            if sync is not None:
                check(_lib.options_set_sync(opts, _SYNC[sync]))
            if cache_mb is not None:
                check(_lib.options_set_cache_mb(opts, cache_mb))
            check(_lib.options_set_create(opts, 1 if create else 0))
            h = ctypes.c_void_p()
            check(_lib.open_(os.fsencode(self.base_dir), sch, opts,
                             ctypes.byref(h)))
            return h.value
        finally:
            _lib.options_free(opts)
            _lib.schema_free(sch)

    def _forked(self):
        # In the child of a fork: the lock may have been held by a parent
        # thread, and the inherited handle only refuses calls.
        self._mu = threading.Lock()
        self._idle = threading.Condition(self._mu)
        self._active = 0

    def _enter(self):
        """The handle for one call; close() waits for the call to _leave."""
        with self._mu:
            if self._db is None or self._closing:
                raise DBError("the database is closed", _lib.EINVAL)
            if self._gen != _fork_gen:
                old, self._db = self._db, None
                _lib.close(old)  # harmless in the child (bazoola.h)
                self._gen = _fork_gen
                self._db = self._open()
            self._active += 1
            return self._db

    def _leave(self):
        with self._mu:
            self._active -= 1
            if self._active == 0:
                self._idle.notify_all()

    def close(self):
        """Close the directory (after the calls of other threads end);
        later calls raise DBError.  Closing twice is harmless."""
        with self._mu:
            if self._db is None or self._closing:
                return
            self._closing = True
            while self._active:
                self._idle.wait()
        for it in list(self._iters):
            it.close()
        with self._mu:
            h, self._db = self._db, None
            self._closing = False
        if self._gen == _fork_gen:
            _lib.close(h)
        _open_dbs.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_db", None) is not None:
                self.close()
        except Exception:
            pass

    # ---- results -------------------------------------------------------

    def _joins_spec(self, joins):
        """(key, table info, inverse) per join, in the rows' entry order."""
        if not joins:
            return ()
        return tuple((j.key, self._tables[j.foreign_table_name], j.inverse)
                     for j in joins)

    def _decode(self, r, info, joins_spec=()):
        row = Row()
        n = ctypes.c_size_t()
        i = 0
        for name, is_str, nullable in info.fields:
            if is_str:
                p = _lib.row_str(r, i, ctypes.byref(n))
                row[name] = None if p is None else ctypes.string_at(p, n.value).decode()
            elif nullable and _lib.row_type(r, i) == _lib.T_NULL:
                row[name] = None
            else:
                row[name] = _lib.row_int(r, i)
            i += 1
        for key, sub_info, inverse in joins_spec:
            if inverse:
                rs = _lib.row_rows(r, i)
                row[key] = [self._decode(_lib.rows_at(rs, k), sub_info)
                            for k in range(_lib.rows_len(rs))]
            else:
                sub = _lib.row_row(r, i)
                row[key] = None if not sub else self._decode(sub, sub_info)
            i += 1
        return row

    def _decode_rows(self, rs, info, joins_spec):
        try:
            return [self._decode(_lib.rows_at(rs, k), info, joins_spec)
                    for k in range(_lib.rows_len(rs))]
        finally:
            _lib.rows_free(rs)

    def _values(self, table, values):
        if not isinstance(values, dict):
            try:
                values = dict(values)
            except (TypeError, ValueError):
                raise TypeError(f"values must be a dict of field: value, not "
                                f"{values!r}") from None
        info = self._tables.get(table)
        kinds = info.kinds if info else {}
        vals = _lib.values_new()
        if not vals:
            raise MemoryError("bz_values_new")
        try:
            for name, v in values.items():
                if not isinstance(name, str):
                    raise TypeError(f"field names must be str, not {name!r}")
                check(_set_value(vals, name, v, kinds.get(name)))
        except BaseException:
            _lib.values_free(vals)
            raise
        return vals

    @staticmethod
    def _name(table):
        if not isinstance(table, str):
            raise TypeError(f"table name must be a str, not {table!r}")
        return table.encode()

    @staticmethod
    def _pk(pk):
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise TypeError(f"id must be an int, not {pk!r}")
        return _int64(pk)

    # ---- 0.0.7's operations --------------------------------------------

    def _write_row(self, table_name, values, call):
        """One engine call that writes a row and returns it: call(handle,
        values, out) -> rc."""
        vals = self._values(table_name, values)
        out = ctypes.c_void_p()
        h = self._enter()
        try:
            rc = call(h, vals, ctypes.byref(out))
        finally:
            self._leave()
            _lib.values_free(vals)
        if rc != _lib.OK:
            raise from_rc(rc)
        try:
            return self._decode(out.value, self._tables[table_name])
        finally:
            _lib.row_free(out)

    def insert(self, table_name, values):
        """Insert a row; an "id" in values chooses the id.  Returns the row."""
        t = self._name(table_name)
        return self._write_row(table_name, values,
                               lambda h, v, o: _lib.insert(h, t, v, o))

    def find_by_id(self, table_name, pk, *, joins=None):
        """The row with id pk, or None."""
        t, pk = self._name(table_name), self._pk(pk)
        j = _join.build(joins)
        out = ctypes.c_void_p()
        try:
            h = self._enter()
            try:
                rc = _lib.find_by_id(h, t, pk, j, ctypes.byref(out))
            finally:
                self._leave()
            if rc != _lib.OK:
                raise from_rc(rc)
            if not out.value:
                return None
            try:
                return self._decode(out.value, self._tables[table_name],
                                    self._joins_spec(joins))
            finally:
                _lib.row_free(out)
        finally:
            if j:
                _lib.joins_free(j)

    def find_all(self, table_name, *, joins=None):
        """Every row, in file order."""
        return self.find_by_cond(table_name, None, joins=joins)

    def find_by_cond(self, table_name, cond, joins=None):
        """The rows matching cond (None: all), in file order."""
        t = self._name(table_name)
        c = _cond.build(cond)
        try:
            j = _join.build(joins)
        except BaseException:
            if c:
                _lib.cond_free(c)
            raise
        out = ctypes.c_void_p()
        try:
            h = self._enter()
            try:
                if c is None:
                    rc = _lib.find_all(h, t, j, ctypes.byref(out))
                else:
                    rc = _lib.find_by_cond(h, t, c, j, ctypes.byref(out))
            finally:
                self._leave()
            if rc != _lib.OK:
                raise from_rc(rc)
            return self._decode_rows(out.value, self._tables[table_name],
                                     self._joins_spec(joins))
        finally:
            if c:
                _lib.cond_free(c)
            if j:
                _lib.joins_free(j)

    def update_by_id(self, table_name, pk, values):
        """Merge values into row pk; NotFoundError when there is none."""
        t, pk = self._name(table_name), self._pk(pk)
        return self._write_row(table_name, values,
                               lambda h, v, o: _lib.update_by_id(h, t, pk, v, o))

    def delete_by_id(self, table_name, pk):
        """Delete row pk; NotFoundError when there is none."""
        t, pk = self._name(table_name), self._pk(pk)
        h = self._enter()
        try:
            rc = _lib.delete_by_id(h, t, pk)
        finally:
            self._leave()
        check(rc)

    def truncate(self, table_name, cascade=False):
        """Empty the table; refused (ConstraintError) while rows of another
        table refer to it, unless cascade, which empties those too."""
        t = self._name(table_name)
        h = self._enter()
        try:
            rc = _lib.truncate(h, t, 1 if cascade else 0)
        finally:
            self._leave()
        check(rc)

    # ---- beyond 0.0.7 --------------------------------------------------

    def iterate(self, table_name, cond=None, *, joins=None):
        """A RowIterator over the rows matching cond (None: all)."""
        return RowIterator(self, table_name, cond, joins)

    def count(self, table_name, cond=None):
        """The number of rows matching cond (None: all)."""
        t = self._name(table_name)
        c = _cond.build(cond)
        n = ctypes.c_int64()
        try:
            h = self._enter()
            try:
                rc = _lib.count(h, t, c, ctypes.byref(n))
            finally:
                self._leave()
        finally:
            if c:
                _lib.cond_free(c)
        check(rc)
        return n.value

    @contextlib.contextmanager
    def transaction(self):
        """The writes of this thread inside the block are one atomic batch:
        committed at the end, rolled back by an exception (which goes on)."""
        h = self._enter()
        try:
            check(_lib.begin(h))
            try:
                yield self
            except BaseException:
                check(_lib.rollback(h))
                raise
            check(_lib.commit(h))
        finally:
            self._leave()

    def stats(self):
        """The shared segment's statistics as a dict (see stats())."""
        if self._db is None:
            raise DBError("the database is closed", _lib.EINVAL)
        return stats(self.base_dir)


def _counters(get):
    names = ("hits", "misses", "evictions", "page_reads", "page_writes",
             "bytes_read", "bytes_written", "drops")
    d = {name: get(i) for i, name in enumerate(names)}
    looked = d["hits"] + d["misses"]
    d["hit_ratio"] = d["hits"] / looked if looked else None
    return d


def stats(base_dir):
    """A snapshot of the shared segment of a data directory (lock mode
    shared), from any process: the same figures as `bzstat --json`.
    NotFoundError when no process has the directory open in shared mode."""
    s = ctypes.c_void_p()
    check(_lib.stats_read(os.fsencode(os.fspath(base_dir)), ctypes.byref(s)))
    try:
        d = {
            "directory": os.fspath(base_dir),
            "segment": {
                "name": _lib.stats_segment_name(s).decode(),
                "size": _lib.stats_segment_size(s),
                "page_size": _lib.stats_page_size(s),
                "frames": _lib.stats_frames(s),
                "frames_used": _lib.stats_frames_used(s),
                "created_at": _lib.stats_created_at(s),
                "recoveries": _lib.stats_recoveries(s),
            },
            "counters": _counters(lambda i: _lib.stats_counter(s, i)),
        }
        lock_names = ("acquisitions", "contended", "wait_ns", "wait_max_ns",
                      "hold_ns", "holder_pid", "read_retries", "reads_locked",
                      "owner_dead")
        lk = {name: _lib.stats_lock(s, i) for i, name in enumerate(lock_names)}
        lk["wait_hist_log2_us"] = [_lib.stats_wait_hist(s, i) for i in
                                   range(_lib.stats_wait_buckets(s))]
        d["lock"] = lk
        files = []
        for i in range(_lib.stats_nfiles(s)):
            size = _lib.stats_file_size(s, i)
            files.append({
                "name": _lib.stats_file_name(s, i).decode(),
                "table": _lib.stats_file_table(s, i).decode(),
                "frames": _lib.stats_file_frames(s, i),
                "size": None if size < 0 else size,
                "counters": _counters(
                    lambda k, i=i: _lib.stats_file_counter(s, i, k)),
            })
        d["files"] = files
        procs = []
        pid, alive, at = ctypes.c_int64(), ctypes.c_int(), ctypes.c_uint64()
        for i in range(_lib.stats_nprocs(s)):
            check(_lib.stats_proc(s, i, ctypes.byref(pid), ctypes.byref(alive),
                                  ctypes.byref(at)))
            procs.append({"pid": pid.value, "alive": bool(alive.value),
                          "attached_at": at.value})
        d["processes"] = procs
        rec = []
        recs, byts = ctypes.c_uint64(), ctypes.c_uint64()
        for i in range(_lib.stats_nrecoveries_logged(s)):
            check(_lib.stats_recovery(s, i, ctypes.byref(pid), ctypes.byref(at),
                                      ctypes.byref(recs), ctypes.byref(byts)))
            rec.append({"pid": pid.value, "at": at.value,
                        "records": recs.value, "bytes": byts.value})
        d["recoveries"] = rec
        return d
    finally:
        _lib.stats_free(s)
