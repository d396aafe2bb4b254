"""Exceptions.  Every error the engine reports becomes one of these, with
the engine's message (bz_errmsg(), 0.0.7's wording) as its text.

0.0.7 raised ValueError for a missing foreign key, a refused truncate and
inconsistent data; ConstraintError and CorruptError are ValueErrors too, so
code written against 0.0.7 keeps catching them.
"""
from . import _lib


class DBError(Exception):
    """Base of every error of the module.

    message: the engine's text; kind: the JSON protocol's name of the code
    ("validation", "not_found", "constraint", "corrupt", "bad_request",
    "io", ...); code: the bz_rc number; errno: the OS error behind an "io"
    error (0 otherwise).
    """

    def __init__(self, message, code=_lib.EINVAL, errno=0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = _lib.errkind(code).decode()
        self.errno = errno


class ValidationError(DBError):
    """A value was refused: "'year': The value is too big", ..."""


class NotFoundError(DBError):
    """No row with that id ("Row with ID=N does not exist"), or no shared
    segment for stats()."""


class ConstraintError(DBError, ValueError):
    """A foreign key names no row, or truncate is refused."""


class CorruptError(DBError, ValueError):
    """A file contradicts the format; the message names table, file and
    byte offset."""


class SchemaError(DBError):
    """Bad table declarations, or files that contradict them."""


class LockError(DBError):
    """Lock misuse: unlock without lock, nested batches, ..."""


_BY_CODE = {
    _lib.EVALIDATION: ValidationError,
    _lib.ENOTFOUND: NotFoundError,
    _lib.ECONSTRAINT: ConstraintError,
    _lib.ECORRUPT: CorruptError,
    _lib.ESCHEMA: SchemaError,
    _lib.ELOCKED: LockError,
}


def from_rc(rc):
    """The exception for a failed call's code, with the calling thread's
    message (read now, before any other bz_ call)."""
    msg = _lib.errmsg().decode("utf-8", "replace")
    if rc == _lib.ENOMEM:
        return MemoryError(msg or "libbazoola: out of memory")
    if not msg:
        msg = _lib.strerror(rc).decode()
    cls = _BY_CODE.get(rc, DBError)
    return cls(msg, rc, _lib.errno_() if rc == _lib.EIO else 0)


def check(rc):
    if rc != _lib.OK:
        raise from_rc(rc)
