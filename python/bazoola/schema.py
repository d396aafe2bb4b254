"""Table declarations in 0.0.7's style, and their schema text.

    class Books(Table):
        name = "books"
        schema = Schema([Field("id", PK()), Field("title", CHAR(20)),
                         Field("author_id", FK("authors")),
                         Field("year", INT(null=True))])

The engine does every check (names, sizes, references); this module only
turns the declarations into the schema text format (docs/file-format.md,
README "Schemas"): one line per table, "name: field TYPE [NULL], ...".
"""
import re
from typing import NamedTuple

INT_SIZE = 9
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _size(what, size):
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{what}: size must be an int, not {size!r}")
    return size


class FieldType:
    """A field's type: its width in bytes and whether NULL is allowed."""

    kind = None  # the schema text's type word

    def __init__(self, size, null=False):
        self.size = _size(type(self).__name__, size)
        self.null = bool(null)
        self.params = {}

    def spec(self):
        return self.kind + (" NULL" if self.null else "")

    def __repr__(self):
        return f"{type(self).__name__}({self.spec()!r})"


class INT(FieldType):
    """An integer of at most `size` characters (9 by default: -99999999 ..
    999999999); INT(size=n) is the schema text's INT(n)."""

    kind = "INT"

    def __init__(self, size=INT_SIZE, null=False):
        super().__init__(size, null)

    def spec(self):
        t = "INT" if self.size == INT_SIZE else f"INT({self.size})"
        return t + (" NULL" if self.null else "")


class PK(INT):
    """The primary key: every table has one, named "id"."""

    kind = "PK"

    def __init__(self):
        super().__init__(null=False)

    def spec(self):
        return "PK"


class FK(INT):
    """The id of a row of table rel_name."""

    kind = "FK"

    def __init__(self, rel_name, null=False):
        super().__init__(null=null)
        if not isinstance(rel_name, str):
            raise TypeError(f"FK: the table name must be a str, not {rel_name!r}")
        self.params["rel_name"] = rel_name

    def spec(self):
        return f"FK({self.params['rel_name']})" + (" NULL" if self.null else "")


class CHAR(FieldType):
    """At most `size` bytes of UTF-8."""

    kind = "CHAR"

    def spec(self):
        return f"CHAR({self.size})" + (" NULL" if self.null else "")


class TEXT(INT):
    """A string of any length, kept in T.text.dat (the row holds a 9-byte
    reference)."""

    kind = "TEXT"

    def __init__(self, size=INT_SIZE, null=False):
        if _size("TEXT", size) != INT_SIZE:
            raise ValueError(f"TEXT: the reference is {INT_SIZE} bytes wide, "
                             f"size={size} is not supported")
        super().__init__(size, null)

    def spec(self):
        return "TEXT" + (" NULL" if self.null else "")


class Field(NamedTuple):
    name: str
    type: FieldType


class Schema:
    def __init__(self, schema):
        self.schema = list(schema)
        if not self.schema:
            raise ValueError("Schema must not be empty")
        for f in self.schema:
            if not isinstance(f, Field) or not isinstance(f.type, FieldType):
                raise TypeError(f"Schema: expected Field(name, type), got {f!r}")

    def relations(self):
        return [(f.name, f.type.params["rel_name"]) for f in self.schema
                if isinstance(f.type, FK)]

    def text_fields(self):
        return [f.name for f in self.schema if isinstance(f.type, TEXT)]


class Table:
    """Subclass with `name` and `schema`; DB takes the classes."""

    name = None
    schema = None

    def __init__(self, db=None):
        self.db = db


def _check_name(what, name):
    # Only what would break the text's syntax; the engine checks the rest
    # (length, "__" in table names, duplicates, references).
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{what} {name!r} is not an identifier "
                         "([A-Za-z_][A-Za-z0-9_]*)")


def schema_text(table_classes):
    """The schema text of the declared tables, one line per table."""
    lines = []
    for cls in table_classes:
        if not (isinstance(cls, type) and issubclass(cls, Table)):
            raise TypeError(f"DB: expected Table subclasses, got {cls!r}")
        if not isinstance(getattr(cls, "schema", None), Schema):
            raise TypeError(f"table class {cls.__name__}: `schema` must be a "
                            "Schema")
        _check_name(f"table class {cls.__name__}: table name", cls.name)
        fields = []
        for f in cls.schema.schema:
            _check_name(f"table '{cls.name}': field name", f.name)
            if isinstance(f.type, FK):
                _check_name(f"table '{cls.name}': field '{f.name}': FK table",
                            f.type.params["rel_name"])
            fields.append(f"{f.name} {f.type.spec()}")
        lines.append(f"{cls.name}: " + ", ".join(fields))
    return "\n".join(lines) + "\n"
