"""bazoola: Bazoola 0.0.7's API over libbazoola, the multi-process C engine.

    from bazoola import DB, Table, Schema, Field, PK, FK, CHAR, INT, TEXT, \
        Join, InverseJoin, EQ, ISUBSTR

Same classes, calls, results, file bytes and error messages as 0.0.7 (see
python/README.md for the differences); every operation runs in the engine,
shared safely by threads and processes.
"""
from ._lib import version as _version
from .cond import (AND, EQ, GE, GT, IN, ISUBSTR, LE, LT, NE, NOT, OR, SUBSTR,
                   BaseCond)
from .db import DB, Row, RowIterator, stats
from .errors import (ConstraintError, CorruptError, DBError, LockError,
                     NotFoundError, SchemaError, ValidationError)
from .join import BaseJoin, InverseJoin, Join
from .schema import CHAR, FK, INT, PK, TEXT, Field, FieldType, Schema, Table

__version__ = "0.1.0"


def library_version():
    """The version of the libbazoola in use ("0.1.0")."""
    return _version().decode()


__all__ = [
    "DB", "Row", "RowIterator", "stats", "library_version",
    "Table", "Schema", "Field", "FieldType", "PK", "INT", "CHAR", "TEXT", "FK",
    "BaseJoin", "Join", "InverseJoin",
    "BaseCond", "EQ", "NE", "LT", "LE", "GT", "GE", "SUBSTR", "ISUBSTR", "IN",
    "AND", "OR", "NOT",
    "DBError", "ValidationError", "NotFoundError", "ConstraintError",
    "CorruptError", "SchemaError", "LockError",
]
