"""Every error: its class, and the engine's message (0.0.7's wording)."""
import pytest

from bazoola import (DB, EQ, IN, LT, SUBSTR, CHAR, ConstraintError,
                     CorruptError, DBError, Field, Join, LockError,
                     NotFoundError, PK, Schema, SchemaError, Table,
                     ValidationError)
from conftest import TABLES


@pytest.mark.parametrize("values, cls, message", [
    ({"title": None, "author_id": 1}, ValidationError,
     "'title': The value can't be None"),
    ({"author_id": 1}, ValidationError, "'title': The value can't be None"),
    ({"title": "x" * 21, "author_id": 1}, ValidationError,
     "'title': The value is too long"),
    ({"title": "é" * 11, "author_id": 1}, ValidationError,  # bytes count
     "'title': The value is too long"),
    ({"title": 5, "author_id": 1}, ValidationError, "'title': Type mismatch"),
    ({"title": "x", "author_id": 1, "year": 1234567890}, ValidationError,
     "'year': The value is too big"),
    ({"title": "x", "author_id": 1, "year": -10 ** 40}, ValidationError,
     "'year': The value is too big"),
    ({"title": "x", "author_id": 1, "year": "7"}, ValidationError,
     "'year': Type mismatch: `'7'` is not `int`"),
    ({"title": "x", "author_id": 1, "year": 2.5}, ValidationError,
     "'year': Type mismatch: `2.5` is not `int`"),
    ({"title": "x", "author_id": 1, "year": b"7"}, ValidationError,
     "'year': Type mismatch: `b'7'` is not `int`"),
    ({"title": "x", "author_id": 1, "year": [1]}, ValidationError,
     "'year': Type mismatch: `[1]` is not `int`"),
    ({"title": "x", "author_id": 1, "body": 42}, ValidationError,
     "'body': Type mismatch"),
    ({"title": "x", "author_id": 9}, ConstraintError,
     "Item id=9 does not exist in 'authors'"),
    ({"id": 1, "title": "x", "author_id": 1}, ValidationError,
     "'id': row with id 1 already exists"),
    ({"title": "x", "author_id": 1, "pages": 3}, DBError,
     "table 'books' has no field 'pages'"),
])
def test_insert_errors(library, values, cls, message):
    before = library.find_all("books")
    with pytest.raises(cls) as e:
        library.insert("books", values)
    assert str(e.value) == message and e.value.message == message
    assert type(e.value) is cls
    assert library.find_all("books") == before  # nothing changed


def test_error_order_is_0_0_7s(library):
    # A missing FK is reported before a bad type of another field.
    with pytest.raises(ConstraintError):
        library.insert("books", {"title": 5, "author_id": 9})


def test_constraint_and_corrupt_errors_are_value_errors(library):
    # 0.0.7 raised ValueError for these; old `except ValueError` still works.
    with pytest.raises(ValueError):
        library.insert("books", {"title": "x", "author_id": 9})
    with pytest.raises(ValueError, match="Cannot truncate table 'authors'"):
        library.truncate("authors")


def test_truncate_refused_message(library):
    with pytest.raises(ConstraintError) as e:
        library.truncate("books")
    assert str(e.value) == (
        "Cannot truncate table 'books': table 'notes' has referring rows. "
        "Use `cascade` option to truncate dependent tables.")
    assert e.value.kind == "constraint"


def test_update_errors(library):
    with pytest.raises(NotFoundError, match=r"^Row with ID=42 does not exist$"):
        library.update_by_id("books", 42, {"year": 1})
    with pytest.raises(ConstraintError, match="Item id=7 does not exist"):
        library.update_by_id("books", 1, {"author_id": 7})
    with pytest.raises(ValidationError, match="'year': The value is too big"):
        library.update_by_id("books", 1, {"year": 10 ** 12})
    assert library.find_by_id("books", 1)["year"] == 1965  # the row is kept


def test_delete_errors(library):
    library.delete_by_id("books", 3)
    with pytest.raises(NotFoundError, match="Row with ID=3 does not exist") as e:
        library.delete_by_id("books", 3)
    assert e.value.kind == "not_found"


def test_unknown_names(library):
    with pytest.raises(DBError, match="no such table: 'nope'") as e:
        library.find_all("nope")
    assert e.value.kind == "bad_request"
    with pytest.raises(DBError, match="no such table"):
        library.insert("nope", {})
    with pytest.raises(DBError, match="has no field 'x'"):
        library.find_all("books", joins=[Join("x", "y", "authors")])
    with pytest.raises(DBError, match="no such table: 'ghosts'"):
        library.find_by_id("books", 1, joins=[Join("author_id", "a", "ghosts")])


def test_condition_errors(library):
    with pytest.raises(DBError, match="the field is a string"):
        library.find_by_cond("books", LT(title=3))
    with pytest.raises(DBError, match="must be a string"):
        library.find_by_cond("books", SUBSTR(year=3))
    with pytest.raises(DBError, match="NULL only works with EQ and NE"):
        library.find_by_cond("books", LT(year=None))
    with pytest.raises(DBError, match="no field"):
        library.find_by_cond("books", EQ(pages=1))
    with pytest.raises(TypeError, match="must be an int, a str or None"):
        library.find_by_cond("books", LT(year=1.5))
    with pytest.raises(TypeError):
        library.find_by_cond("books", IN(year=5))
    with pytest.raises(ValueError, match="empty"):
        library.find_by_cond("books", IN(year=[]))
    with pytest.raises(ValueError):
        EQ()
    with pytest.raises(TypeError):
        library.find_by_cond("books", {"title": "Dune"})


def test_argument_type_errors(library):
    with pytest.raises(TypeError):
        library.find_by_id("books", "1")
    with pytest.raises(TypeError):
        library.find_by_id(b"books", 1)
    with pytest.raises(TypeError):
        library.insert("books", 5)
    with pytest.raises(TypeError):
        library.find_all("books", joins=["author_id"])


def test_corrupt_file_names_table_file_and_offset(tmp_path):
    class A(Table):
        name = "a"
        schema = Schema([Field("id", PK()), Field("t", CHAR(5))])

    d = tmp_path / "c"
    with DB([A], base_dir=str(d)) as db:
        db.insert("a", {"t": "x"})
    (d / "a.dat").write_bytes(b"1        \0\0\0\0\0\n")  # 0.0.7's own test
    with DB([A], base_dir=str(d)) as db:
        with pytest.raises(CorruptError) as e:
            db.find_by_id("a", 1)
        assert str(e.value).startswith("Inconsistent data")
        assert "a.dat" in str(e.value) and "offset 9" in str(e.value)
        assert isinstance(e.value, ValueError) and e.value.kind == "corrupt"


def test_schema_contradicting_the_recorded_one(tmp_path):
    d = str(tmp_path / "s")
    DB(TABLES, base_dir=d).close()

    class Authors(Table):
        name = "authors"
        schema = Schema([Field("id", PK()), Field("name", CHAR(30))])

    with pytest.raises(SchemaError, match="was written as") as e:
        DB([Authors], base_dir=d)
    assert e.value.kind != "validation"


def test_io_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("not a directory")
    with pytest.raises(DBError, match="Not a directory") as e:
        DB(TABLES, base_dir=str(f))
    assert e.value.kind == "io" and e.value.errno == 20


def test_lock_error_for_nested_batches(db):
    with pytest.raises(LockError, match="do not nest"):
        with db.transaction():
            with db.transaction():
                pass


def test_ids_below_one(library):
    assert library.find_by_id("books", 0) is None
    assert library.find_by_id("books", -3) is None
    with pytest.raises(NotFoundError, match="Row with ID=0 does not exist"):
        library.update_by_id("books", 0, {"year": 1})
    with pytest.raises(NotFoundError, match="Row with ID=-1 does not exist"):
        library.delete_by_id("books", -1)
