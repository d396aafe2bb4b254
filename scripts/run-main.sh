#!/bin/sh
# The main job: build, then serve the task-manager demo (bztasks: four
# pre-forked worker processes sharing one data directory, sample data on
# first start) at http://127.0.0.1:5000/ until Ctrl-C.  Options go to
# bztasks (-w WORKERS, -p PORT, -d DIR).  The batch example that needs no
# browser is ./build/tools/bzworkers.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh -DBAZOOLA_TESTS=OFF >/dev/null
exec ./build/tools/bztasks "$@"
