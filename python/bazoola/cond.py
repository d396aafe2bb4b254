"""Conditions: descriptions that become a bz_cond tree for each call.

0.0.7's leaves take keyword arguments, all of which must hold:
EQ(title="Dune"), LT(year=1970), GT(...), SUBSTR(...), ISUBSTR(...).  Ours
add NE LE GE and IN(field=[v, ...]); AND(c, ...), OR(c, ...), NOT(c), also
spelled c1 & c2, c1 | c2, ~c.

Values: int (bool counts as int, as in Python), str, or None (EQ/NE only:
"is NULL" / "is not NULL").  The engine evaluates everything; a value that
does not suit the field (a str for an INT field in LT, ...) is a DBError
when the condition is used.
"""
from . import _lib
from .errors import check

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _clamp(v):
    # Beyond int64 a value has more digits than any field holds, so the
    # nearest int64 compares the same way with every stored value.
    return _INT64_MIN if v < _INT64_MIN else _INT64_MAX if v > _INT64_MAX else v


def _add_str(c, name, s, in_list):
    # By length: a Python str may hold U+0000, as 0.0.7 lets one search.
    b = s.encode()
    fn = _lib.cond_add_in_strn if in_list else _lib.cond_add_strn
    return fn(c, name.encode(), b, len(b))


def _add(c, op_name, name, v, in_list=False):
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        fn = _lib.cond_add_in_int if in_list else _lib.cond_add_int
        return fn(c, name.encode(), _clamp(v))
    if isinstance(v, str):
        return _add_str(c, name, v, in_list)
    if v is None and not in_list:
        return _lib.cond_add_null(c, name.encode())
    raise TypeError(f"{op_name}({name}=...): a condition value must be an int, "
                    f"a str{'' if in_list else ' or None'}, not {v!r}")


class BaseCond:
    """A condition; combine with & | ~ or AND OR NOT."""

    def _build(self):
        """A new bz_cond (the caller frees it)."""
        raise NotImplementedError

    def __and__(self, other):
        return AND(self, other)

    def __or__(self, other):
        return OR(self, other)

    def __invert__(self):
        return NOT(self)


class _Leaf(BaseCond):
    _op = None

    def __init__(self, **params):
        if not params:
            raise ValueError(f"{type(self).__name__}() needs at least one "
                             "field=value")
        self.params = params

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def _build(self):
        c = _lib.cond_new(self._op)
        if not c:
            raise MemoryError("bz_cond_new")
        try:
            for name, v in self.params.items():
                self._add_pair(c, name, v)
        except BaseException:
            _lib.cond_free(c)
            raise
        return c

    def _add_pair(self, c, name, v):
        check(_add(c, type(self).__name__, name, v))


class EQ(_Leaf):
    _op = _lib.EQ


class NE(_Leaf):
    _op = _lib.NE


class LT(_Leaf):
    _op = _lib.LT


class LE(_Leaf):
    _op = _lib.LE


class GT(_Leaf):
    _op = _lib.GT


class GE(_Leaf):
    _op = _lib.GE


class SUBSTR(_Leaf):
    _op = _lib.SUBSTR


class ISUBSTR(_Leaf):
    _op = _lib.ISUBSTR


class IN(_Leaf):
    """IN(status=["open", "blocked"]): the field's value is one of the list."""

    _op = _lib.IN

    def _add_pair(self, c, name, values):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"IN({name}=...): expected a list of values, "
                            f"not {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"IN({name}=[]): the list of values is empty")
        for v in values:
            check(_add(c, "IN", name, v, in_list=True))


class _Junction(BaseCond):
    _combine = None

    def __init__(self, *conds):
        if not conds:
            raise ValueError(f"{type(self).__name__}() needs at least one "
                             "condition")
        for x in conds:
            if not isinstance(x, BaseCond):
                raise TypeError(f"{type(self).__name__}: expected conditions, "
                                f"got {x!r}")
        self.conds = conds

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.conds))})"

    def _build(self):
        acc = self.conds[0]._build()
        for x in self.conds[1:]:
            try:
                nxt = x._build()
            except BaseException:
                _lib.cond_free(acc)
                raise
            acc = type(self)._combine(acc, nxt)  # takes both, even on failure
            if not acc:
                raise MemoryError(type(self).__name__)
        return acc


class AND(_Junction):
    _combine = staticmethod(_lib.cond_and)


class OR(_Junction):
    _combine = staticmethod(_lib.cond_or)


class NOT(BaseCond):
    def __init__(self, cond):
        if not isinstance(cond, BaseCond):
            raise TypeError(f"NOT: expected a condition, got {cond!r}")
        self.cond = cond

    def __repr__(self):
        return f"NOT({self.cond!r})"

    def _build(self):
        c = _lib.cond_not(self.cond._build())
        if not c:
            raise MemoryError("NOT")
        return c


def build(cond):
    """bz_cond for cond (None: NULL, all rows)."""
    if cond is None:
        return None
    if not isinstance(cond, BaseCond):
        raise TypeError(f"expected a condition (EQ, LT, ..., AND, OR, NOT), "
                        f"got {cond!r}")
    return cond._build()

