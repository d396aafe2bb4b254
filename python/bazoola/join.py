"""Joins: Join(fk_attr, key, foreign_table_name) puts the row that fk_attr
refers to under key (None when fk_attr is NULL or the row is gone);
InverseJoin(fk_attr, key, foreign_table_name) puts the list of rows of the
foreign table whose fk_attr is this row's id, in file order."""
from . import _lib
from .errors import check


class BaseJoin:
    fk_attr: str
    key: str
    foreign_table_name: str


class Join(BaseJoin):
    inverse = False

    def __init__(self, fk_attr, key, foreign_table_name):
        for what, v in (("fk_attr", fk_attr), ("key", key),
                        ("foreign_table_name", foreign_table_name)):
            if not isinstance(v, str) or not v:
                raise ValueError(f"{type(self).__name__}: {what} must be a "
                                 f"non-empty str, not {v!r}")
        self.fk_attr = fk_attr
        self.key = key
        self.foreign_table_name = foreign_table_name

    def __repr__(self):
        return (f"{type(self).__name__}({self.fk_attr!r}, {self.key!r}, "
                f"{self.foreign_table_name!r})")


class InverseJoin(Join):
    inverse = True


def build(joins):
    """bz_joins for a list of joins (None or empty: NULL)."""
    if not joins:
        return None
    joins = list(joins)
    for j in joins:
        if not isinstance(j, Join):
            raise TypeError(f"expected Join or InverseJoin, got {j!r}")
    j = _lib.joins_new()
    if not j:
        raise MemoryError("bz_joins_new")
    try:
        for x in joins:
            add = _lib.joins_add_inverse if x.inverse else _lib.joins_add
            check(add(j, x.fk_attr.encode(), x.key.encode(),
                      x.foreign_table_name.encode()))
    except BaseException:
        _lib.joins_free(j)
        raise
    return j
