#!/usr/bin/env bash
# install_check.sh BUILD_DIR CONSUMER_CPP PREFIX LIBDIR INCLUDEDIR SANITIZE
set -euo pipefail
build=$1 consumer=$2 prefix=$3 libdir=$4 includedir=$5 sanitize=${6:-none}
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
case $includedir in /*) ;; *) includedir="$prefix/$includedir" ;; esac
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null

fail() { echo "install_check: $*" >&2; exit 1; }
[ -f "$dest$includedir/posthorn/message/header.h" ] || fail "headers not installed"
[ -f "$dest$includedir/posthorn/wire/line_reader.h" ] || fail "wire headers not installed"
[ -f "$dest$libdir/libposthorn.a" ] || fail "static library not installed"
ls "$dest$libdir"/libposthorn.so.* >/dev/null 2>&1 || fail "shared library not installed"
pc="$dest$libdir/pkgconfig/posthorn.pc"
[ -f "$pc" ] || fail "posthorn.pc not installed"

# Build and run a consumer through pkg-config against the DESTDIR tree.
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig"
flags=$(pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs posthorn) ||
  fail "pkg-config cannot resolve posthorn"
# A sanitizer build installs an instrumented library: link the consumer alike.
extra=()
[ "$sanitize" != none ] && extra=(-fsanitize="$sanitize")
c++ -std=c++20 "${extra[@]}" "$consumer" -o "$dest/consumer" $flags || fail "consumer does not build"
out=$(LD_LIBRARY_PATH="$dest$libdir" "$dest/consumer") || fail "consumer failed"
[ "$out" = " installed" ] || fail "consumer printed '$out'"
echo "install layout and pkg-config consumer OK"
