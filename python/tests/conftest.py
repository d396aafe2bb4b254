"""Shared declarations and fixtures.  Under ctest (tests/CMakeLists.txt)
BAZOOLA_LIB, PYTHONPATH and the tool paths point into the build tree."""
import os
import shutil
import subprocess

import pytest

from bazoola import CHAR, DB, FK, INT, PK, TEXT, Field, Schema, Table


class Authors(Table):
    name = "authors"
    schema = Schema([Field("id", PK()), Field("name", CHAR(20))])


class Books(Table):
    name = "books"
    schema = Schema([
        Field("id", PK()),
        Field("title", CHAR(20)),
        Field("author_id", FK("authors")),
        Field("year", INT(null=True)),
        Field("body", TEXT(null=True)),
    ])


class Notes(Table):
    name = "notes"
    schema = Schema([Field("id", PK()), Field("book_id", FK("books", null=True)),
                     Field("text", TEXT())])


TABLES = [Authors, Books, Notes]
# The same tables in the schema text format, for the C side (bazoola exec).
SCHEMA_TEXT = """\
authors: id PK, name CHAR(20)
books: id PK, title CHAR(20), author_id FK(authors), year INT NULL, body TEXT NULL
notes: id PK, book_id FK(books) NULL, text TEXT
"""


def tool(env_name, default_name):
    path = os.environ.get(env_name) or shutil.which(default_name)
    if not path:
        pytest.skip(f"{default_name} not found (set {env_name})")
    return path


@pytest.fixture
def bazoola_tool():
    return tool("BZ_TOOL_PATH", "bazoola")


@pytest.fixture
def bzstat_tool():
    return tool("BZ_BZSTAT_PATH", "bzstat")


@pytest.fixture
def db(tmp_path):
    d = DB(TABLES, base_dir=str(tmp_path / "data"))
    yield d
    d.close()


@pytest.fixture
def library(db):
    """Two authors, three books, one note."""
    a1 = db.insert("authors", {"name": "Frank Herbert"})
    a2 = db.insert("authors", {"name": "Ursula K. Le Guin"})
    db.insert("books", {"title": "Dune", "author_id": a1["id"], "year": 1965,
                        "body": "Spice must flow."})
    db.insert("books", {"title": "The Dispossessed", "author_id": a2["id"],
                        "year": 1974})
    db.insert("books", {"title": "Earthsea", "author_id": a2["id"]})
    db.insert("notes", {"book_id": 1, "text": "Über-classic"})
    return db


def dat_files(directory):
    """{name: bytes} of every *.dat file of a data directory."""
    return {f: open(os.path.join(directory, f), "rb").read()
            for f in sorted(os.listdir(directory)) if f.endswith(".dat")}


def run_exec(tool_path, directory, lines, schema_file=None):
    """Run `bazoola exec` over JSON lines; returns its output lines."""
    args = [tool_path, "exec", str(directory)]
    if schema_file:
        args += ["--schema", str(schema_file)]
    p = subprocess.run(args, input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()
