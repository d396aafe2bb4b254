"""Threads and processes on one directory: nothing lost, nothing torn."""
import multiprocessing as mp
import os
import threading

import pytest

from bazoola import DB, EQ, GE
from conftest import TABLES

N_THREADS, N_PER = 8, 100


def test_threads_share_one_handle(db):
    a = db.insert("authors", {"name": "shared"})
    errors = []

    def work(k):
        try:
            for i in range(N_PER):
                b = db.insert("books", {"title": f"t{k}-{i}",
                                        "author_id": a["id"], "year": k})
                assert db.find_by_id("books", b["id"])["title"] == f"t{k}-{i}"
                if i % 10 == 0:
                    db.update_by_id("books", b["id"], {"body": "x" * i})
            assert len(db.find_by_cond("books", EQ(year=k))) == N_PER
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(N_THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    rows = db.find_all("books")
    assert len(rows) == N_THREADS * N_PER
    assert len({r["id"] for r in rows}) == len(rows)


def _locked_increments(db, n):
    for _ in range(n):
        with db.storage.lock():  # read-modify-write
            c = db.find_by_id("authors", 1)
            db.update_by_id("authors", 1, {"name": str(int(c["name"]) + 1)})


def test_storage_lock_makes_read_modify_write_safe_across_threads(db):
    db.insert("authors", {"name": "0"})
    ts = [threading.Thread(target=_locked_increments, args=(db, 50))
          for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert db.find_by_id("authors", 1)["name"] == "200"


def _worker(base_dir, k, n, lock_mode):
    with DB(TABLES, base_dir=base_dir, lock_mode=lock_mode) as db:
        for i in range(n):
            db.insert("books", {"title": f"p{k}-{i}", "author_id": 1,
                                "year": k, "body": f"body {k} {i}"})
        _locked_increments(db, n)
        return os.getpid()


@pytest.mark.parametrize("start", ["fork", "spawn"])
@pytest.mark.parametrize("lock_mode", ["shared", "flock"])
def test_multiprocessing_workers_on_one_directory(tmp_path, start, lock_mode):
    d = str(tmp_path / "mp")
    with DB(TABLES, base_dir=d, lock_mode=lock_mode) as db:
        db.insert("authors", {"name": "0"})
    n, procs = 40, 4
    with mp.get_context(start).Pool(procs) as pool:
        pids = pool.starmap(_worker, [(d, k, n, lock_mode)
                                      for k in range(procs)])
    assert os.getpid() not in pids
    with DB(TABLES, base_dir=d, lock_mode=lock_mode) as db:
        rows = db.find_all("books")
        assert len(rows) == procs * n
        assert len({r["id"] for r in rows}) == procs * n
        for k in range(procs):
            assert db.count("books", EQ(year=k)) == n
        assert all(r["body"] == "body %d %s" % (r["year"], r["title"].split("-")[1])
                   for r in rows)
        assert db.find_by_id("authors", 1)["name"] == str(procs * n)


def _use_inherited(db, q):
    try:
        db.insert("authors", {"name": f"child {os.getpid()}"})
        q.put(("ok", db.count("authors"), db.stats()["processes"]))
    except BaseException as e:
        q.put(("error", repr(e), None))


def test_a_db_inherited_through_fork_reopens_in_the_child(db):
    db.insert("authors", {"name": "parent"})
    it = db.iterate("authors")
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_use_inherited, args=(db, q))
    p.start()
    status, count, procs = q.get(timeout=60)
    p.join(60)
    assert status == "ok", count
    assert count == 2
    assert p.pid in [x["pid"] for x in procs]
    assert os.getpid() in [x["pid"] for x in procs]
    # The parent's handle and iterator are untouched.
    assert [r["name"] for r in it] == ["parent", f"child {p.pid}"]
    assert db.count("authors") == 2


def test_iteration_during_writes_sees_whole_rows(db):
    a = db.insert("authors", {"name": "w"})
    for i in range(2000):
        db.insert("books", {"title": f"t{i}", "author_id": a["id"], "year": i,
                            "body": f"b{i}"})
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            bid = 1 + i % 2000
            db.update_by_id("books", bid, {"body": f"b{bid - 1}", "year": bid - 1})
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(3):
            seen = 0
            for r in db.iterate("books", GE(year=0)):
                assert r["title"] == f"t{r['year']}" and r["body"] == f"b{r['year']}"
                seen += 1
            assert seen == 2000
    finally:
        stop.set()
        t.join()


def test_close_waits_for_calls_of_other_threads(db):
    for i in range(300):
        db.insert("authors", {"name": f"a{i}"})
    results = []

    def reader():
        try:
            while True:
                results.append(len(db.find_all("authors")))
        except Exception as e:
            results.append(e)

    t = threading.Thread(target=reader)
    t.start()
    while len(results) < 3:
        pass
    db.close()
    t.join()
    assert all(r == 300 for r in results[:-1])
    assert "closed" in str(results[-1])
