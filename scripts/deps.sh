#!/bin/sh
# Install the Debian packages the build and tests need, if any is missing.
# Idempotent and quiet when everything is there.
set -eu
PKGS="cmake make gcc g++ pkg-config libgtest-dev liburcu-dev libjemalloc-dev
      libjansson-dev libunistring-dev libsqlite3-dev"
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
