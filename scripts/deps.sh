#!/bin/sh
# Install the Debian packages the build needs (liblmdb-dev: LMDB, an
# engine of bzbench; libjs-chart.js: the demo's /stats charts), if any is
# missing; with --tests also what only the tests and CI use (the sqlite3 and
# PostgreSQL that `bazoola export --sql` output is loaded into, the Chromium
# that renders the demo server's pages headless, python3-pytest for the
# Python package's tests, mandoc that lints the manual pages, and gnuplot-nox
# that draws bzbench's plots); with --fuzz also clang and
# its compiler-rt (libFuzzer and the sanitizer runtimes) for the fuzz
# targets (tests/fuzz/): normal builds never need clang.  Flags combine.
# Idempotent and quiet when everything is there.
set -eu
PKGS="cmake make gcc g++ pkg-config libgtest-dev liburcu-dev libjemalloc-dev
      libjansson-dev libunistring-dev libsqlite3-dev libcsv-dev
      libmicrohttpd-dev libcurl4-openssl-dev libjs-chart.js liblmdb-dev"
for arg in "$@"; do
    case "$arg" in
    --tests) PKGS="$PKGS sqlite3 postgresql chromium python3-pytest mandoc
                   gnuplot-nox" ;;
    --fuzz) PKGS="$PKGS clang libclang-rt-dev" ;;
    esac
done
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null
