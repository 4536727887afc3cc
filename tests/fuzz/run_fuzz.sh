#!/usr/bin/env bash
# run_fuzz.sh EXE SOURCE_DIR BUILD_DIR NAME SECONDS
# Runs one libFuzzer target for SECONDS from its seed corpus, with its
# dictionary when there is one. A crash, leak, timeout or out-of-memory
# fails the test; the reproducer is left in BUILD_DIR/artifacts/.
set -eu
exe=$1 src=$2 build=$3 name=$4 seconds=$5
work="$build/corpus-work/$name"
artifacts="$build/artifacts/"
mkdir -p "$work" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts")
[ -f "$src/$name.dict" ] && args+=(-dict="$src/$name.dict")
seeds=()
[ -d "$src/corpus/$name" ] && seeds+=("$src/corpus/$name")
# libFuzzer exits 77 when it finds a bug, which meson would count as a
# skipped test: report any non-zero status as 1 (a failure) instead.
rc=0
"$exe" "${args[@]}" "$work" "${seeds[@]}" || rc=$?
[ "$rc" -eq 0 ] || { echo "run_fuzz.sh: $name exited with status $rc" >&2; exit 1; }
