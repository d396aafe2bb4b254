"""Every API point of the module, against what 0.0.7 returns."""
import os
import subprocess
import sys

import pytest

import bazoola
from bazoola import (AND, DB, EQ, GE, GT, IN, INT, ISUBSTR, LE, LT, NE, NOT,
                     OR, PK, SUBSTR, CHAR, DBError, Field, InverseJoin, Join,
                     NotFoundError, Row, RowIterator, Schema, SchemaError,
                     Table)
from conftest import TABLES, Authors, Books


def titles(rows):
    return [r["title"] for r in rows]


def test_insert_returns_row_with_auto_ids(db):
    a = db.insert("authors", {"name": "Frank Herbert"})
    assert type(a) is Row and isinstance(a, dict)
    assert a == {"id": 1, "name": "Frank Herbert"}
    b = db.insert("authors", {"name": "Le Guin"})
    assert b["id"] == 2
    assert list(a) == ["id", "name"]  # schema order


def test_insert_explicit_id_then_auto(db):
    assert db.insert("authors", {"id": 10, "name": "x"})["id"] == 10
    assert db.insert("authors", {"name": "y"})["id"] == 1


def test_insert_nulls_text_and_bytes(db):
    db.insert("authors", {"name": b"Bytes Author"})
    r = db.insert("books", {"title": "T", "author_id": 1})
    assert r == {"id": 1, "title": "T", "author_id": 1, "year": None,
                 "body": None}
    r = db.insert("books", {"title": "Ünïcode", "author_id": 1,
                            "body": b"raw \xc3\xa9"})
    assert r["body"] == "raw é" and r["title"] == "Ünïcode"
    assert db.find_by_id("authors", 1)["name"] == "Bytes Author"


def test_char_values_lose_trailing_blanks_as_in_0_0_7(db):
    assert db.insert("authors", {"name": "pad   "})["name"] == "pad"


def test_find_by_id(library):
    assert library.find_by_id("books", 2)["title"] == "The Dispossessed"
    assert library.find_by_id("books", 99) is None
    library.delete_by_id("books", 2)
    assert library.find_by_id("books", 2) is None


def test_find_by_id_join_and_inverse_join(library):
    b = library.find_by_id("books", 1, joins=[Join("author_id", "author",
                                                   "authors")])
    assert b["author"] == {"id": 1, "name": "Frank Herbert"}
    assert type(b["author"]) is Row
    a = library.find_by_id("authors", 2, joins=[
        InverseJoin("author_id", "books", "books")])
    assert titles(a["books"]) == ["The Dispossessed", "Earthsea"]
    b = library.find_by_id("books", 1, joins=[
        Join("author_id", "author", "authors"),
        InverseJoin("book_id", "notes", "notes")])
    assert b["author"]["name"] == "Frank Herbert"
    assert [n["text"] for n in b["notes"]] == ["Über-classic"]
    assert list(b)[-2:] == ["author", "notes"]  # joins after the fields


def test_join_to_null_and_deleted_rows_gives_none(library):
    n = library.insert("notes", {"book_id": None, "text": "orphan"})
    j = [Join("book_id", "book", "books")]
    assert library.find_by_id("notes", n["id"], joins=j)["book"] is None
    library.delete_by_id("books", 1)
    assert library.find_by_id("notes", 1, joins=j)["book"] is None


def test_find_all(library):
    assert titles(library.find_all("books")) == [
        "Dune", "The Dispossessed", "Earthsea"]
    rows = library.find_all("books", joins=[Join("author_id", "a", "authors")])
    assert [r["a"]["name"] for r in rows] == [
        "Frank Herbert", "Ursula K. Le Guin", "Ursula K. Le Guin"]
    library.truncate("notes")
    library.truncate("books")
    assert library.find_all("books") == []


def test_rows_come_in_file_order_after_delete_and_reuse(library):
    library.delete_by_id("books", 1)
    library.insert("books", {"title": "Children", "author_id": 1})
    assert titles(library.find_all("books")) == [
        "Children", "The Dispossessed", "Earthsea"]


@pytest.mark.parametrize("cond, expected", [
    (EQ(title="Dune"), ["Dune"]),
    (EQ(author_id=2, year=1974), ["The Dispossessed"]),  # all pairs hold
    (EQ(year=None), ["Earthsea"]),
    (NE(year=None), ["Dune", "The Dispossessed"]),
    (NE(year=1965), ["The Dispossessed"]),  # NULL fails every leaf pair
    (LT(year=1970), ["Dune"]),
    (LE(year=1974), ["Dune", "The Dispossessed"]),
    (GT(year=1965), ["The Dispossessed"]),
    (GE(year=1965), ["Dune", "The Dispossessed"]),
    (LT(title="E"), ["Dune"]),
    (SUBSTR(title="Dis"), ["The Dispossessed"]),
    (SUBSTR(title="dis"), []),
    (SUBSTR(year="97"), ["The Dispossessed"]),  # an int's decimal text
    (ISUBSTR(title="EARTH"), ["Earthsea"]),
    (ISUBSTR(body="SPICE"), ["Dune"]),
    (IN(year=[1965, 1974, 2000]), ["Dune", "The Dispossessed"]),
    (IN(title=("Dune", "Earthsea")), ["Dune", "Earthsea"]),
    (AND(GT(year=1900), LT(year=1970)), ["Dune"]),
    (OR(EQ(title="Dune"), EQ(year=None)), ["Dune", "Earthsea"]),
    (NOT(EQ(year=1965)), ["The Dispossessed", "Earthsea"]),  # NULL included
    (EQ(author_id=2) & ~EQ(year=None), ["The Dispossessed"]),
    (EQ(title="Dune") | EQ(title="Earthsea"), ["Dune", "Earthsea"]),
    (EQ(year=True), []),  # True == 1, as in Python
    (GT(year=10 ** 30), []),  # beyond int64
    (LT(year=10 ** 30), ["Dune", "The Dispossessed"]),
])
def test_find_by_cond(library, cond, expected):
    assert titles(library.find_by_cond("books", cond)) == expected
    assert library.count("books", cond) == len(expected)
    assert titles(library.iterate("books", cond)) == expected


def test_conditions_on_strings_holding_nul(db):
    db.insert("authors", {"name": "A"})
    db.insert("books", {"title": "plain", "author_id": 1, "body": "a b"})
    db.insert("books", {"title": "nul", "author_id": 1, "body": "a\0b"})
    assert titles(db.find_by_cond("books", SUBSTR(body="a\0b"))) == ["nul"]
    assert titles(db.find_by_cond("books", EQ(body="a\0b"))) == ["nul"]
    assert titles(db.find_by_cond("books", IN(body=["x", "a\0b"]))) == ["nul"]
    assert titles(db.find_by_cond("books", SUBSTR(body="\0"))) == ["nul"]


def test_isubstr_folds_all_of_unicode(library):
    rows = library.find_by_cond("notes", ISUBSTR(text="üB"))
    assert [r["text"] for r in rows] == ["Über-classic"]


def test_find_by_cond_with_joins_and_none(library):
    rows = library.find_by_cond("books", ISUBSTR(title="dis"),
                                [Join("author_id", "author", "authors")])
    assert rows[0]["author"]["name"] == "Ursula K. Le Guin"
    assert len(library.find_by_cond("books", None)) == 3


def test_update_by_id(library):
    r = library.update_by_id("books", 3, {"year": 1968, "body": "Ged"})
    assert r == {"id": 3, "title": "Earthsea", "author_id": 2, "year": 1968,
                 "body": "Ged"}
    assert library.find_by_id("books", 3) == r
    assert titles(library.find_all("books"))[2] == "Earthsea"  # same row


def test_delete_by_id(library):
    assert library.delete_by_id("books", 2) is None
    assert titles(library.find_all("books")) == ["Dune", "Earthsea"]


def test_truncate_and_cascade(library):
    library.truncate("authors", cascade=True)
    for t in ("authors", "books", "notes"):
        assert library.find_all(t) == []
    assert library.insert("authors", {"name": "again"})["id"] == 1


def test_data_persists_across_reopen(tmp_path):
    d = str(tmp_path / "p")
    with DB(TABLES, base_dir=d) as db:
        db.insert("authors", {"name": "kept"})
    with DB(TABLES, base_dir=d) as db:
        assert db.find_by_id("authors", 1) == {"id": 1, "name": "kept"}


def test_default_base_dir_is_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with DB([Authors]) as db:
        db.insert("authors", {"name": "x"})
    assert os.path.exists(tmp_path / "data" / "authors.dat")


def test_close_is_idempotent_and_later_calls_fail(tmp_path):
    db = DB(TABLES, base_dir=str(tmp_path / "c"))
    db.close()
    db.close()
    with pytest.raises(DBError, match="the database is closed"):
        db.find_all("authors")
    with pytest.raises(DBError, match="closed"):
        db.stats()


def test_tables_attribute(db):
    assert set(db.tables) == {"authors", "books", "notes"}
    assert isinstance(db.tables["books"], Books)
    assert db.tables["books"].schema.relations() == [("author_id", "authors")]
    assert db.tables["books"].schema.text_fields() == ["body"]


def test_iterate_is_lazy_and_closable(db):
    for i in range(1500):  # three chunks of the engine's iterator
        db.insert("authors", {"name": f"a{i}"})
    it = db.iterate("authors")
    assert isinstance(it, RowIterator)
    first = next(it)
    assert first == {"id": 1, "name": "a0"}
    db.insert("authors", {"name": "late"})  # no lock held between rows
    rest = list(it)
    assert len(rest) == 1500 and rest[-1]["name"] == "late"
    with pytest.raises(StopIteration):
        next(it)
    with db.iterate("authors", GE(id=1499)) as it2:
        assert next(it2)["id"] == 1499
    assert list(it2) == []  # closed by the with block


def test_iterate_with_joins(library):
    rows = list(library.iterate("authors", joins=[
        InverseJoin("author_id", "books", "books")]))
    assert [len(r["books"]) for r in rows] == [1, 2]


def test_close_closes_open_iterators(tmp_path):
    db = DB(TABLES, base_dir=str(tmp_path / "i"))
    db.insert("authors", {"name": "x"})
    db.insert("authors", {"name": "y"})
    it = db.iterate("authors")
    next(it)
    db.close()
    assert list(it) == []


def test_count(library):
    assert library.count("books") == 3
    assert library.count("books", EQ(author_id=2)) == 2


def test_storage_lock_nests(db):
    with db.storage.lock():
        with db.storage.lock():
            n = db.insert("authors", {"name": "in lock"})
        assert db.find_by_id("authors", n["id"])["name"] == "in lock"
    st = db.stats()
    assert st["lock"]["holder_pid"] == 0


def test_transaction_commits_and_rolls_back(db):
    with db.transaction():
        db.insert("authors", {"name": "one"})
        db.insert("authors", {"name": "two"})
    assert db.count("authors") == 2
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.insert("authors", {"name": "three"})
            raise RuntimeError("changed my mind")
    assert [r["name"] for r in db.find_all("authors")] == ["one", "two"]


def test_stats_dict(library):
    st = library.stats()
    assert st["directory"] == library.base_dir
    assert st["segment"]["frames"] >= st["segment"]["frames_used"] > 0
    assert st["segment"]["page_size"] > 0
    c = st["counters"]
    assert c["hits"] + c["misses"] > 0 and c["page_writes"] > 0
    assert 0.0 <= c["hit_ratio"] <= 1.0
    assert st["lock"]["acquisitions"] > 0
    assert isinstance(st["lock"]["wait_hist_log2_us"], list)
    assert {"books.dat", "books.text.dat"} <= {f["name"] for f in st["files"]}
    assert {f["table"] for f in st["files"]} >= {"authors", "books", "notes"}
    assert [p["pid"] for p in st["processes"]] == [os.getpid()]
    assert st["processes"][0]["alive"] is True
    assert st["recoveries"] == []
    assert bazoola.stats(library.base_dir)["segment"]["name"] == \
        st["segment"]["name"]


def test_stats_of_a_directory_nobody_has_open(tmp_path):
    with pytest.raises(NotFoundError):
        bazoola.stats(str(tmp_path))


def test_lock_mode_flock_has_no_segment(tmp_path):
    with DB(TABLES, base_dir=str(tmp_path / "f"), lock_mode="flock") as db:
        db.insert("authors", {"name": "flock"})
        assert db.find_all("authors")[0]["name"] == "flock"
        with pytest.raises(NotFoundError):
            db.stats()


def test_sync_full_and_cache_mb(tmp_path):
    with DB(TABLES, base_dir=str(tmp_path / "s"), sync="full", cache_mb=1,
            lock_mode="shared") as db:
        db.insert("authors", {"name": "durable"})
        seg = db.stats()["segment"]
        assert seg["frames"] * seg["page_size"] <= 1 << 20
    with DB(TABLES, base_dir=str(tmp_path / "s"), sync="off") as db:
        assert db.count("authors") == 1


def test_bad_options(tmp_path):
    for kw in ({"lock_mode": "exclusive"}, {"sync": "sometimes"},
               {"cache_mb": 0}, {"cache_mb": 1.5}):
        with pytest.raises(ValueError):
            DB(TABLES, base_dir=str(tmp_path / "o"), **kw)


def test_create_false_refuses_a_missing_directory(tmp_path):
    with pytest.raises(DBError, match="No such file or directory") as e:
        DB(TABLES, base_dir=str(tmp_path / "missing"), create=False)
    assert e.value.kind == "io" and e.value.errno == 2


def test_pathlike_base_dir(tmp_path):
    with DB(TABLES, base_dir=tmp_path / "pl") as db:
        db.insert("authors", {"name": "path"})
    assert (tmp_path / "pl" / "authors.dat").read_bytes().startswith(b"1 ")


def test_schema_text_of_declarations():
    from bazoola.schema import schema_text
    from conftest import SCHEMA_TEXT
    assert schema_text(TABLES) == SCHEMA_TEXT


def test_declarations_refused(tmp_path):
    class Spaced(Table):
        name = "spaced"
        schema = Schema([Field("id", PK()), Field("my field", CHAR(3))])

    class NoId(Table):
        name = "noid"
        schema = Schema([Field("key", CHAR(3))])

    class BadRef(Table):
        name = "badref"
        schema = Schema([Field("id", PK()),
                         Field("x", bazoola.FK("nowhere"))])

    with pytest.raises(ValueError, match="'my field' is not an identifier"):
        DB([Spaced], base_dir=str(tmp_path / "d"))
    with pytest.raises(SchemaError, match="noid"):
        DB([NoId], base_dir=str(tmp_path / "d"))
    with pytest.raises(SchemaError, match="nowhere"):
        DB([BadRef], base_dir=str(tmp_path / "d"))
    with pytest.raises(TypeError):
        DB([object], base_dir=str(tmp_path / "d"))
    with pytest.raises(ValueError):
        DB([], base_dir=str(tmp_path / "d"))
    with pytest.raises(TypeError):
        CHAR("20")
    with pytest.raises(ValueError):
        bazoola.TEXT(size=12)
    with pytest.raises(ValueError):
        Schema([])


INT_N_PENDING = (
    "pending on INT(n) in the engine (branch issue15): this libbazoola "
    "refuses INT(n) in schema text")


def _engine_knows_int_n(tmp_path):
    class Probe(Table):
        name = "probe"
        schema = Schema([Field("id", PK()), Field("s", INT(size=3))])
    try:
        DB([Probe], base_dir=str(tmp_path / "probe")).close()
        return True
    except SchemaError as e:
        assert "need a libbazoola that knows INT(n)" in str(e)
        return False


def test_int_size_n(tmp_path):
    if not _engine_knows_int_n(tmp_path):
        pytest.xfail(INT_N_PENDING)

    class H(Table):
        name = "h"
        schema = Schema([Field("id", PK()), Field("small", INT(size=3)),
                         Field("big", INT(size=12, null=True))])

    with DB([H], base_dir=str(tmp_path / "h")) as db:
        r = db.insert("h", {"small": 999, "big": 123456789012})
        assert r == {"id": 1, "small": 999, "big": 123456789012}
        with pytest.raises(bazoola.ValidationError,
                           match="'small': The value is too big"):
            db.insert("h", {"small": 1000})
    assert (tmp_path / "h" / "h.dat").read_bytes() == \
        b"1        999123456789012\n"


def test_library_version():
    assert bazoola.library_version().count(".") == 2


def test_bad_bazoola_lib_is_a_clear_import_error(tmp_path):
    env = dict(os.environ, BAZOOLA_LIB=str(tmp_path / "nope.so"))
    p = subprocess.run([sys.executable, "-c", "import bazoola"], env=env,
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert "cannot load libbazoola" in p.stderr and "nope.so" in p.stderr
