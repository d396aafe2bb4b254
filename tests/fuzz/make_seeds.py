#!/usr/bin/env python3
"""Write the seed inputs of the fuzz targets from the conformance corpus
(tests/conformance/*.json) and the examples into DIR/<target>/ (default: a
scratch directory; the kept corpora in tests/fuzz/<target>/ are these seeds
after fuzzing and `-merge=1` minimization).  Usage: make_seeds.py OUTDIR"""
import base64, glob, hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEP = b"\n%%\n"
SUFFIX = [".dat", "__seqnum.dat", "__id.idx.dat", "__free.dat", ".text.dat"]


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def tables(schema):
    names = []
    for line in schema.splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" in line:
            names.append(line.split(":", 1)[0].strip())
    return names


def main():
    out = sys.argv[1]
    cases = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(ROOT, "tests/conformance/case-*.json")))]
    books_schema = open(os.path.join(ROOT, "examples/books.schema"), "rb").read()
    books_ops = open(os.path.join(ROOT, "examples/books.jsonl"), "rb").read()
    schemas = {c["schema"].encode() for c in cases} | {books_schema}
    for s in schemas:
        put(out, "fuzz_schema", s)
    put(out, "fuzz_schema", b"t: id PK, n INT NULL, c CHAR(5), x TEXT NULL, f FK(t) NULL\n")
    put(out, "fuzz_schema", b"# c\n\na: id PK\r\nb: id PK, a_id FK(a), c CHAR(65535) NULL\n")

    put(out, "fuzz_exec", books_schema + SEP + books_ops)
    for c in cases:
        ops = [json.dumps(o, ensure_ascii=False).encode() for o in c["ops"]]
        for i in range(0, min(len(ops), 60), 30):
            put(out, "fuzz_exec", c["schema"].encode() + SEP + b"\n".join(ops[i:i + 30]) + b"\n")

    for n, c in enumerate(cases):
        names = tables(c["schema"])
        files = {k: base64.b64decode(v) for k, v in c["files"].items()}
        for ti, t in enumerate(names):
            if not files.get(t + ".dat"):
                continue
            parts = [c["schema"].encode()] + [files.get(t + s, b"") for s in SUFFIX]
            flags = (n * 37 + ti) & 0xFF
            put(out, "fuzz_open", bytes([flags, ti]) + SEP.join(parts))

    rows = {
        0: [b"1        7        abc  x2       #########\n",
            b"2        #########\xc3\xa9   \x00#########3        \n",
            b"*" * 47 + b"\n"],
        1: [b"1        \n", b"999999999\n", b"*********\n"],
        2: [b"1        abc-99999999\n", b"2        \x00\x00\x000        \n"],
        3: [b"1        0        #########hello world \n"],
    }
    for layout, rs in rows.items():
        put(out, "fuzz_codec", bytes([layout]) + b"".join(rs))
    put(out, "fuzz_codec", b"\x01" + b"12       ")

    put(out, "fuzz_segment", b"\x00")
    put(out, "fuzz_segment", b"\x01")
    put(out, "fuzz_segment", b"\x01BZSHM\x00\x00" + b"\x00" * 64)
    put(out, "fuzz_segment", b"\x00" + (0).to_bytes(4, "little") + b"\x08XXXXXXXX")
    put(out, "fuzz_segment", b"\x00" + (2048).to_bytes(4, "little") + b"\x08\x01\x00\x00\x00\x00\x00\x00\x00")


main()
