#!/usr/bin/env python3
"""bench_docs_test.py DOC CSV - every ops/s cell of the results table in
docs/benchmarks.md is the median of the same configuration in the CSV
beside it, so the page cannot drift from the run it reports."""
import csv
import sys


def main(doc, path):
    ops = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["workload"], r["kind"], r["workers"],
                   r["engine"] + " " + r["mode"])
            ops[key] = str(int(float(r["ops_per_s"])))
    head, cells, bad = None, 0, []
    for n, line in enumerate(open(doc, encoding="utf-8"), 1):
        line = line.strip()
        if line.startswith("| workload | kind | workers |"):
            head = [c.strip() for c in line.strip("|").split("|")]
            continue
        if head and line.startswith("|---"):
            continue
        if head and line.startswith("|"):
            c = [x.strip() for x in line.strip("|").split("|")]
            for j, engine in enumerate(head[3:], 3):
                cells += 1
                want = ops.get((c[0], c[1], c[2], engine))
                if want != c[j]:
                    bad.append("%s:%d: %s %s %s %s: page says %s, CSV %s"
                               % (doc, n, c[0], c[1], c[2], engine, c[j], want))
        else:
            head = None
    if cells == 0:
        print("bench_docs_test: no results table in %s" % doc)
        return 1
    for b in bad:
        print(b)
    print("bench_docs_test: %d cells, %d differ" % (cells, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
