#!/bin/sh
# install_test.sh SRC WORK - the library as a Debian build installs it:
# configured for prefix /usr with the multiarch libdir, staged with DESTDIR
# (only the "lib" component), then examples/books.c built against the
# staged tree twice, with pkg-config and with find_package, and run.
# Also checks the package version rule of a 0.x release.
set -eu
src=$1
work=$2
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$multiarch" ] || multiarch=x86_64-linux-gnu
libdir=lib/$multiarch
stage=$work/stage
rm -rf "$work"
mkdir -p "$work"

fail() { echo "install_test: $*" >&2; exit 1; }

cmake -S "$src" -B "$work/build" -DBAZOOLA_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_LIBDIR="$libdir" >"$work/configure.log" 2>&1 ||
    fail "configure failed (see $work/configure.log)"
cmake --build "$work/build" --target bazoola_static bazoola_shared \
    -j2 >"$work/build.log" 2>&1 || fail "build failed (see $work/build.log)"
DESTDIR=$stage cmake --install "$work/build" --component lib \
    >"$work/install.log" 2>&1 || fail "install failed (see $work/install.log)"

for f in usr/include/bazoola.h "usr/$libdir/libbazoola.a" \
         "usr/$libdir/libbazoola.so" "usr/$libdir/pkgconfig/bazoola.pc" \
         "usr/$libdir/cmake/bazoola/bazoolaConfig.cmake" \
         "usr/$libdir/cmake/bazoola/bazoolaConfigVersion.cmake"; do
    [ -e "$stage/$f" ] || fail "$f not installed"
done
pc=$stage/usr/$libdir/pkgconfig/bazoola.pc
grep -qx "libdir=/usr/$libdir" "$pc" || fail "bazoola.pc: libdir is not /usr/$libdir: $(grep libdir= "$pc")"
grep -qx "includedir=/usr/include" "$pc" || fail "bazoola.pc: includedir is not /usr/include"

# pkg-config, as a Makefile would use it (the sysroot maps /usr to the stage).
export PKG_CONFIG_PATH="$stage/usr/$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
flags=$(pkg-config --cflags --libs bazoola) || fail "pkg-config cannot read bazoola.pc"
# shellcheck disable=SC2086
gcc -o "$work/books-pc" "$src/examples/books.c" $flags ||
    fail "books.c does not build with pkg-config ($flags)"
LD_LIBRARY_PATH="$stage/usr/$libdir" "$work/books-pc" "$work/data-pc" \
    >"$work/books-pc.out" || fail "books (pkg-config) failed"
grep -q "^#1 Dune (1965) by Frank Herbert$" "$work/books-pc.out" ||
    fail "books (pkg-config) printed: $(cat "$work/books-pc.out")"
# The static archive with only Libs.private beside it: they must suffice.
private=$(pkg-config --static --libs bazoola | sed 's/-lbazoola//')
# shellcheck disable=SC2046,SC2086
gcc -o "$work/books-static" "$src/examples/books.c" \
    $(pkg-config --cflags bazoola) "$stage/usr/$libdir/libbazoola.a" \
    $private 2>"$work/static.log" ||
    fail "books.c does not link statically (see $work/static.log)"
"$work/books-static" "$work/data-static" >"$work/books-static.out" ||
    fail "books (static) failed"
grep -q "^#1 Dune (1965) by Frank Herbert$" "$work/books-static.out" ||
    fail "books (static) printed: $(cat "$work/books-static.out")"

# find_package, as a CMake project would.
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cmake -S "$src/examples" -B "$work/examples" \
    -DCMAKE_PREFIX_PATH="$stage/usr" >"$work/examples.log" 2>&1 ||
    fail "examples do not configure with find_package (see $work/examples.log)"
cmake --build "$work/examples" >>"$work/examples.log" 2>&1 ||
    fail "examples do not build with find_package (see $work/examples.log)"
LD_LIBRARY_PATH="$stage/usr/$libdir" "$work/examples/example_books" \
    "$work/data-cmake" >"$work/books-cmake.out" || fail "books (find_package) failed"
grep -q "^#1 Dune (1965) by Frank Herbert$" "$work/books-cmake.out" ||
    fail "books (find_package) printed: $(cat "$work/books-cmake.out")"

# 0.x: the same minor version is compatible, the next minor is not.
version=$(pkg-config --modversion "$pc" 2>/dev/null || sed -n 's/^Version: //p' "$pc")
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
mkdir -p "$work/ver"
cat >"$work/ver/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(ver C)
find_package(bazoola $major.$minor QUIET)
if(NOT bazoola_FOUND)
  message(FATAL_ERROR "$major.$minor was refused")
endif()
find_package(bazoola $major.$((minor + 1)) QUIET)
if(bazoola_FOUND AND $major EQUAL 0)
  message(FATAL_ERROR "a request for $major.$((minor + 1)) accepted $version")
endif()
CM
cmake -S "$work/ver" -B "$work/ver/b" -DCMAKE_PREFIX_PATH="$stage/usr" \
    >"$work/ver.log" 2>&1 || fail "version rule: $(grep -A1 'CMake Error' "$work/ver.log" | tail -1)"
echo "install_test: ok ($libdir)"
