#!/usr/bin/env python3
"""bzbench's single-process workloads through the Python module, side by
side with a pure-Python implementation of the same file format
(purepy.py), in one run:

  point read   find_by_id of random ids
  insert       insert of new rows
  scan         find_by_cond(ISUBSTR(name=...)) over the whole table

The module runs in lock mode shared (the page cache) and flock (0.0.7's
design); the pure-Python table takes a flock per operation like 0.0.7.
Both load the same rows first, and their files must be byte-identical.

    BAZOOLA_LIB=build/engine/libbazoola.so.0 PYTHONPATH=python \\
        python3 python/bench/bench.py [--rows N] [--seconds S]
"""
import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from purepy import PureTable  # noqa: E402

from bazoola import CHAR, DB, INT, ISUBSTR, PK, Field, Schema, Table  # noqa: E402

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
         "hotel", "india", "juliet", "kilo", "lima", "mike", "november"]


class Items(Table):
    name = "items"
    schema = Schema([Field("id", PK()), Field("name", CHAR(32)),
                     Field("qty", INT())])


PURE_FIELDS = [("id", "PK"), ("name", ("CHAR", 32)), ("qty", "INT")]


def row(i):
    return {"name": f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} {i}",
            "qty": i % 1000}


def rate(fn, seconds):
    """Operations per second of fn() over about `seconds`."""
    n, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(16):
            fn()
        n += 16
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bzpybench-")
    rng = random.Random(1)
    try:
        dirs = {}
        impls = {}
        for mode in ("shared", "flock"):
            d = dirs[mode] = os.path.join(tmp, mode)
            db = DB([Items], base_dir=d, lock_mode=mode)
            with db.transaction():
                for i in range(args.rows):
                    db.insert("items", row(i))
            impls[f"module/{mode}"] = db
        d = dirs["pure"] = os.path.join(tmp, "pure")
        pure = PureTable(d, "items", PURE_FIELDS)
        for i in range(args.rows):
            pure.insert(row(i))
        impls["pure-python"] = pure
        for f in ("items.dat", "items__id.idx.dat", "items__seqnum.dat"):
            a = open(os.path.join(dirs["shared"], f), "rb").read()
            b = open(os.path.join(d, f), "rb").read()
            assert a == b, f"{f} differs between the module and pure Python"

        n = args.rows
        ops = {
            "point read": {
                "module": lambda db: db.find_by_id("items", rng.randint(1, n)),
                "pure": lambda t: t.find_by_id(rng.randint(1, n))},
            "insert": {
                "module": lambda db: db.insert("items", row(rng.randint(0, n))),
                "pure": lambda t: t.insert(row(rng.randint(0, n)))},
            "scan ISUBSTR": {
                "module": lambda db: db.find_by_cond(
                    "items", ISUBSTR(name="LIMA HOTEL 1")),
                "pure": lambda t: t.find_isubstr("name", "LIMA HOTEL 1")},
        }
        # Same answers before timing anything.
        want = impls["module/shared"].find_by_cond("items",
                                                   ISUBSTR(name="LIMA HOTEL 1"))
        assert pure.find_isubstr("name", "LIMA HOTEL 1") == want and want
        assert pure.find_by_id(n // 2) == impls["module/flock"].find_by_id(
            "items", n // 2)

        print(f"python {platform.python_version()}, {args.rows} rows, "
              f"{args.seconds:g} s per measurement, one process, one thread")
        names = list(impls)
        print(f"{'workload':<14}" + "".join(f"{x:>16}" for x in names)
              + f"{'shared/pure':>13}{'flock/pure':>12}")
        for wl, fns in ops.items():
            r = {}
            for name, impl in impls.items():
                fn = fns["pure" if name == "pure-python" else "module"]
                secs = args.seconds if wl != "scan ISUBSTR" else args.seconds * 2
                r[name] = rate(lambda: fn(impl), secs)
            print(f"{wl:<14}" + "".join(f"{r[x]:>14.0f}/s" for x in names)
                  + f"{r['module/shared'] / r['pure-python']:>12.1f}x"
                  + f"{r['module/flock'] / r['pure-python']:>11.1f}x")
        for impl in impls.values():
            impl.close()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
