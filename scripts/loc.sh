#!/bin/sh
# loc.sh - count the lines of C in the core, per subsystem.
#
# Bazoola 0.0.7 advertises "core under 800 lines", counted by a script; this
# is ours.  A line counts when it holds something besides blanks and
# comments (/* ... */ blocks, // to the end of the line) in a .c or .h file.
# The core is engine/ (with engine/include/), lockmgr/ and shm/; tools/ is
# counted apart.  A subsystem whose directory does not exist shows "-".
#
# Usage: scripts/loc.sh [-v] [ROOT]
#   -v    also list every file with its count
#   ROOT  the source tree (default: the one this script lives in)
# Plain POSIX sh and awk: no cloc needed.
set -eu

verbose=0
case "${1-}" in
-v) verbose=1; shift ;;
-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
-*) echo "loc.sh: unknown option '$1'" >&2; exit 2 ;;
esac
if [ $# -gt 1 ]; then
    echo "loc.sh: unexpected argument '$2'" >&2
    exit 2
fi
root=${1:-$(dirname "$0")/..}
if [ ! -d "$root" ]; then
    echo "loc.sh: $root: no such directory" >&2
    exit 1
fi

# Prints "LINES PATH" per file, then "total FILES LINES".  Comment markers
# inside string and character literals are not comments.
count='
BEGIN { files = ARGC - 1 }
FNR == 1 {
    if (file != "") print n, file
    file = FILENAME; n = 0; inblock = 0
}
{
    code = 0; quote = ""; len = length($0)
    for (i = 1; i <= len; i++) {
        c = substr($0, i, 1)
        if (inblock) {
            if (c == "*" && substr($0, i + 1, 1) == "/") { inblock = 0; i++ }
        } else if (quote != "") {
            if (c == "\\") i++
            else if (c == quote) quote = ""
        } else if (c == "/" && substr($0, i + 1, 1) == "*") {
            inblock = 1; i++
        } else if (c == "/" && substr($0, i + 1, 1) == "/") {
            break
        } else if (c != " " && c != "\t" && c != "\r" && c != "\f") {
            code = 1
            if (c == "\"" || c == "'\''") quote = c
        }
    }
    if (code) { n++; total++ }
}
END {
    if (file != "") print n, file
    print "total", files + 0, total + 0
}'

# count_dir DIR: sets files and lines ("-" when DIR does not exist).
count_dir() {
    files=-
    lines=-
    [ -d "$root/$1" ] || return 0
    out=$(find "$root/$1" -type f \( -name '*.c' -o -name '*.h' \) \
        -exec awk "$count" {} + | sort -k2)
    files=0
    lines=0
    # find -exec may run awk more than once: add up every total line.
    eval "$(printf '%s\n' "$out" | awk '
        $1 == "total" { f += $2; l += $3 }
        END { printf "files=%d lines=%d\n", f, l }')"
}

# list_files: the files of the last count_dir, with -v.
list_files() {
    [ "$verbose" = 1 ] && [ "$files" != - ] || return 0
    printf '%s\n' "$out" | awk -v root="$root/" '
        NF >= 2 && $1 != "total" {
            p = $0; sub(/^[0-9]+ /, "", p)
            if (index(p, root) == 1) p = substr(p, length(root) + 1)
            printf "    %6d  %s\n", $1, p
        }'
}

row() {
    if [ -n "${4-}" ]; then
        printf '%-10s %6s %8s  %s\n' "$1" "$2" "$3" "$4"
    else
        printf '%-10s %6s %8s\n' "$1" "$2" "$3"
    fi
}

row subsystem files lines
core_files=0
core_lines=0
for d in engine lockmgr shm; do
    count_dir "$d"
    if [ "$files" = - ]; then
        row "$d" - - "(no $d/ yet)"
    else
        row "$d" "$files" "$lines"
        core_files=$((core_files + files))
        core_lines=$((core_lines + lines))
    fi
    list_files
done
row core "$core_files" "$core_lines" "(engine + lockmgr + shm)"
count_dir tools
if [ "$files" = - ]; then
    row tools - - "(no tools/ yet)"
else
    row tools "$files" "$lines"
fi
list_files
