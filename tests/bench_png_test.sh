#!/bin/sh
# bench_png_test.sh BZBENCH WORK - bzbench --out draws non-empty PNGs of
# ops/s and of p99 latency per workload it ran, the lock workload included (its title holds an
# apostrophe, which once ended gnuplot's string early and left lock.png
# empty).  Exit 77 (skipped) without gnuplot.
set -eu
bench=$1
work=$2
command -v gnuplot >/dev/null 2>&1 || { echo "no gnuplot (scripts/deps.sh --tests installs gnuplot-nox)"; exit 77; }
rm -rf "$work"
mkdir -p "$work"
"$bench" --workloads read,lock --engines shared,off --workers 1 \
    --kinds threads --duration 0.05 --warmup 0 --reps 1 --out "$work/out" \
    --dir "$work" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
status=0
for wl in read lock read-p99 lock-p99; do
    png=$work/out/$wl.png
    if [ ! -s "$png" ]; then
        echo "bench_png_test: $png is missing or empty" >&2
        status=1
    elif [ "$(head -c 4 "$png" | od -An -tx1 | tr -d ' ')" != "89504e47" ]; then
        echo "bench_png_test: $png is not a PNG" >&2
        status=1
    fi
done
# summary.md opens with the verdict: every target, measured or not.
head -n 3 "$work/out/summary.md" | grep -q '^| target | measured | met |$' ||
    { echo "bench_png_test: summary.md does not open with the verdict" >&2; status=1; }
grep -q '^| point read, shared >= 5x SQLite off (1 process) | not measured' "$work/out/summary.md" ||
    { echo "bench_png_test: a target this run did not measure is not said so" >&2; status=1; }
# A measured target shows both rates, their ratio and the verdict.
"$bench" --workloads read --engines shared,off --workers 1 \
    --kinds processes --duration 0.05 --warmup 0 --reps 1 \
    --out "$work/out2" --dir "$work" >"$work/log2" 2>&1 || { cat "$work/log2"; exit 1; }
grep -Eq '^\| point read, shared >= 5x SQLite off \(1 process\) \| [0-9]+ / [0-9]+ ops/s = [0-9.]+x \| (yes|no) \|$' \
    "$work/out2/summary.md" ||
    { echo "bench_png_test: no measured verdict:" >&2; head -n 8 "$work/out2/summary.md" >&2; status=1; }
[ "$status" -eq 0 ] && echo "bench_png_test: ok"
exit "$status"
