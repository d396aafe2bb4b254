#!/bin/sh
# Build everything and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh --tests
./scripts/build.sh -DBAZOOLA_TESTS=ON >/dev/null
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
