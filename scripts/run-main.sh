#!/bin/sh
# The main job: build, then run the multi-process example on its embedded
# schema (several worker processes sharing one data directory).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh -DBAZOOLA_TESTS=OFF >/dev/null
exec ./build/tools/bzworkers "$@"
