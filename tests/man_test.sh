#!/bin/sh
# man_test.sh MANDIR PROG=PATH... - the manual pages lint clean (mandoc
# -Tlint, or man --warnings where Debian's mandoc is missing), and every
# long option a program's --help lists is in its page.
set -eu
mandir=$1
shift
status=0
for page in "$mandir"/*.[0-9]; do
    if command -v mandoc >/dev/null 2>&1; then
        out=$(mandoc -Tlint -Wstyle "$page" 2>&1 || true)
    else
        out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
    fi
    if [ -n "$out" ]; then
        echo "man_test: $page:" >&2
        echo "$out" >&2
        status=1
    fi
done
for arg in "$@"; do
    prog=${arg%%=*}
    path=${arg#*=}
    page=$mandir/$prog.1
    [ -f "$page" ] || { echo "man_test: no page $page for $prog" >&2; status=1; continue; }
    for opt in $("$path" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        # Pages write a dash as \-.
        esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        grep -q -- "$esc" "$page" ||
            { echo "man_test: $page does not mention $opt (from $prog --help)" >&2; status=1; }
    done
done
[ "$status" -eq 0 ] && echo "man_test: ok"
exit "$status"
