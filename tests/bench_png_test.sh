#!/bin/sh
# bench_png_test.sh BZBENCH WORK - bzbench --out draws one non-empty PNG
# per workload it ran, the lock workload included (its title holds an
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
for wl in read lock; do
    png=$work/out/$wl.png
    if [ ! -s "$png" ]; then
        echo "bench_png_test: $png is missing or empty" >&2
        status=1
    elif [ "$(head -c 4 "$png" | od -An -tx1 | tr -d ' ')" != "89504e47" ]; then
        echo "bench_png_test: $png is not a PNG" >&2
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "bench_png_test: ok"
exit "$status"
