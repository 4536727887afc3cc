#!/usr/bin/env bash
# scripts/lib/consumer.sh — builds and tests tests/consumer, a separate
# meson project, against posthorn the two ways an application uses it
# (docs/install.md):
#   a. through pkg-config: `meson install` of BUILD_DIR into a temporary
#      DESTDIR, PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR pointing there,
#      --wrap-mode=nofallback so nothing else can stand in;
#   b. as a subproject: a copy of tests/consumer whose subprojects/posthorn
#      is a symlink to this source tree, configured with the library only
#      (-Dposthorn:programs=false, no tests, examples or benchmarks) and
#      without optimisation (buildtype plain), because a fresh machine
#      compiles the whole library once more here.
# Each build runs its `meson test`; the logs stay in OUT_DIR/pkgconfig and
# OUT_DIR/subproject for scripts/count_tests.py. Prints how long each step
# took. Exit status 1 when any step fails.
#
# Usage: scripts/lib/consumer.sh BUILD_DIR OUT_DIR
#   (scripts/test runs it with build-test build-consumer; it can be run
#   alone against any configured and built build folder.)
# Environment: JOBS (ninja -j, default nproc).
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: scripts/lib/consumer.sh BUILD_DIR OUT_DIR" >&2
  exit 64
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd) || exit 1
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 1
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

status=0
step_start=0
begin() { echo "-- consumer: $*"; step_start=$(date +%s.%N); }
took() {
  awk -v a="$step_start" -v b="$(date +%s.%N)" -v what="$1" \
    'BEGIN { printf "-- consumer: %s took %.1f s\n", what, b - a }'
}
failed() { echo "scripts/lib/consumer.sh: $*" >&2; status=1; }

# prefix and libdir of BUILD_DIR, as meson resolved them.
read -r prefix libdir < <(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(opts["prefix"], opts["libdir"])') || { failed "cannot read $build"; exit 1; }
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac

dest=$(mktemp -d "${TMPDIR:-/tmp}/posthorn-destdir.XXXXXX")
trap 'rm -rf "$dest"' EXIT

# --- a. pkg-config from a DESTDIR install ---------------------------------
pc_dir="$out/pkgconfig"
rm -rf "$pc_dir"  # no old test log may count
begin "meson install $build into a temporary DESTDIR"
if meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null; then
  took "install"
  begin "configure, build and test through pkg-config"
  # The .pc names prefix=$prefix; the sysroot puts DESTDIR in front of its
  # -I and -L paths.
  if PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
       meson setup "$pc_dir" "$root/tests/consumer" --wrap-mode=nofallback \
         -Dwerror=true >"$out/pkgconfig-setup.log" 2>&1; then
    if ninja -C "$pc_dir" -j "$jobs" >"$out/pkgconfig-build.log" 2>&1; then
      meson test -C "$pc_dir" --print-errorlogs || failed "pkg-config consumer tests failed"
    else
      tail -n 40 "$out/pkgconfig-build.log" >&2
      failed "the pkg-config consumer does not build"
    fi
  else
    cat "$out/pkgconfig-setup.log" >&2
    failed "the pkg-config consumer does not configure"
  fi
  took "pkg-config consumer"
else
  failed "meson install into DESTDIR failed"
fi

# --- b. as a subproject ----------------------------------------------------
src="$out/subproject-src" sub_dir="$out/subproject"
begin "configure, build and test as a subproject (library only)"
mkdir -p "$src/subprojects"
# Copies that keep their times, so the subproject build stays incremental.
cp -p "$root/tests/consumer/meson.build" "$root/tests/consumer/main.cpp" "$src/"
ln -sfn "$root" "$src/subprojects/posthorn"
rm -f "$sub_dir/meson-logs/testlog.json"
if [ -f "$sub_dir/build.ninja" ] ||
   (cd "$src" && meson setup "$sub_dir" . --force-fallback-for=posthorn \
      --buildtype=plain -Dwerror=true \
      -Dposthorn:tests=false -Dposthorn:examples=false \
      -Dposthorn:benchmarks=disabled -Dposthorn:programs=false \
      >"$out/subproject-setup.log" 2>&1); then
  if ninja -C "$sub_dir" -j "$jobs" >"$out/subproject-build.log" 2>&1; then
    meson test -C "$sub_dir" --print-errorlogs || failed "subproject consumer tests failed"
  else
    tail -n 40 "$out/subproject-build.log" >&2
    failed "the subproject consumer does not build"
  fi
else
  cat "$out/subproject-setup.log" >&2
  failed "the subproject consumer does not configure"
fi
took "subproject consumer"
exit $status
