#!/bin/sh
# Build the libFuzzer targets (tests/fuzz/, clang: scripts/deps.sh --fuzz)
# and run each over its kept corpus tests/fuzz/<target>/ for SECONDS
# (default 30).  Any finding — crash, leak, undefined behaviour, timeout,
# out-of-memory — stops that target with a non-zero status and fails the
# script; the input is left in $BUILD_DIR/fuzz-artifacts/.  New inputs go
# to a scratch directory: the kept corpora are changed only on purpose
# (tests/fuzz/README.md says how).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      BUILD_DIR (default build-fuzz)
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-30}
[ $# -gt 0 ] && shift
TARGETS=${*:-fuzz_codec fuzz_schema fuzz_exec fuzz_open fuzz_segment}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
./scripts/deps.sh --fuzz
cmake -S . -B "$BUILD_DIR" -DBAZOOLA_FUZZ=ON -DBAZOOLA_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$BUILD_DIR" --target fuzzers -j"$(nproc)" >/dev/null
mkdir -p "$BUILD_DIR/fuzz-artifacts"
status=0
for t in $TARGETS; do
    scratch=$(mktemp -d)
    log="$BUILD_DIR/fuzz-artifacts/$t.log"
    if ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECS" -timeout=30 \
            -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
            -artifact_prefix="$BUILD_DIR/fuzz-artifacts/$t-" \
            "$scratch" "tests/fuzz/$t" >"$log" 2>&1; then
        echo "fuzz: $t: $(grep -m1 'stat::number_of_executed_units' "$log" |
            awk '{print $2}') executions in ${SECS}s, no finding"
    else
        echo "fuzz: $t: FINDING (log: $log)" >&2
        grep -E -A25 'ERROR|runtime error|Test unit written' "$log" | head -60 >&2 || true
        status=1
    fi
    rm -rf "$scratch"
done
exit $status
