#!/usr/bin/env bash
# bench/store_bench.sh — the store's speed against the raw speed of the disk.
#
# SYNOPSIS
#   bench/store_bench.sh [BUILD_DIR]
#
# DESCRIPTION
#   Builds bench_mbox and bench_queue in release mode (BUILD_DIR, default
#   build-bench) and runs them in a fresh folder under POSTHORN_BENCH_DIR
#   (default: build-bench/store-bench, so on the disk of the checkout, not
#   on a tmpfs where fsync is free). Each program measures its own baseline
#   in the same run, in the same folder:
#     bench_mbox   Deliver() of 4 KiB with fsync against write + fdatasync of
#                  one file; OpenSession() of a large mbox with and without
#                  its index (POSTHORN_BENCH_MBOX_MB, default 100; 1024 for
#                  the 1 GiB / 100,000-message case)
#     bench_queue  enqueue with fsync from 1, 10 and 50 threads against
#                  "create + write + fsync + folder fsync" and fdatasync
#   and this script prints the ratios. JSON results stay in
#   BUILD_DIR/store-bench-results/; the figures also go to store.tsv in the
#   results folder ($POSTHORN_BENCH_RESULTS, default var/bench/results),
#   the input of bench/report. Nothing here is a test.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-bench}

if [[ -f "$build/build.ninja" ]]; then
  meson configure "$build" -Dbuildtype=release -Dbenchmarks=enabled >/dev/null
else
  meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled \
    -Dtests=false -Dexamples=false
fi
ninja -C "$build" bench/bench_mbox bench/bench_queue

out="$build/store-bench-results"
work=${POSTHORN_BENCH_DIR:-$build/store-bench}
mkdir -p "$out" "$work"
export POSTHORN_BENCH_DIR=$work
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== bench_mbox (files in $work)"
"$build/bench/bench_mbox" --benchmark_out="$out/mbox.json" \
  --benchmark_out_format=json
echo "== bench_queue"
"$build/bench/bench_queue" --benchmark_out="$out/queue.json" \
  --benchmark_out_format=json

python3 - "$out/mbox.json" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("run_type", "iteration") == "iteration"}
def find(prefix):
    for name, b in runs.items():
        if name.startswith(prefix):
            return b
    return None
def ms(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b["real_time"] * scale
raw, deliver = find("BM_RawAppend4KiBFdatasync"), find("BM_Deliver4KiB/fsync:1")
indexed, scanned = find("BM_OpenLarge/index:1"), find("BM_OpenLarge/index:0")
print("\n== mbox summary (same run, same folder)")
if raw and deliver:
    print(f"deliver 4 KiB durable: {ms(deliver):.2f} ms, raw write+fdatasync "
          f"{ms(raw):.2f} ms: {ms(deliver) / ms(raw):.2f}x the raw cost")
if indexed and scanned:
    print(f"open large mbox: {ms(indexed):.1f} ms with index, "
          f"{ms(scanned):.1f} ms without ({ms(scanned) / ms(indexed):.1f}x)")
PY

# The result file for bench/report: each posthorn figure beside the
# baseline it is compared with in the same run.
results_dir=${POSTHORN_BENCH_RESULTS:-$root/var/bench/results}
python3 - "$out/mbox.json" "$out/queue.json" <<'PY' |
import json, sys
runs = {}
for path in sys.argv[1:]:
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            runs.setdefault(b["name"], b)
def find(prefix, suffix=""):
    for name, b in runs.items():
        if name.startswith(prefix) and name.endswith(suffix):
            return b
    return None
def ms(b):
    if b is None:
        return "-"
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return f"{b['real_time'] * scale:.3f}"
def rate(b):
    return "-" if b is None or "items_per_second" not in b else \
        f"{b['items_per_second']:.1f}"
print("measure\tthreads\tbaseline_is\tposthorn\tbaseline\tunit\tbetter")
create = find("raw/create_write_fsync")
for t in (1, 10, 50):
    print(f"queue_enqueue_4k\t{t}\tcreate+write+fsync+folder fsync, 1 thread"
          f"\t{rate(find('queue/enqueue_4k', f'threads:{t}'))}"
          f"\t{rate(create)}\tmsg/s\thigh")
print(f"queue_enqueue_4k_vs_fdatasync\t10\tfdatasync of one file\t"
      f"{rate(find('queue/enqueue_4k', 'threads:10'))}\t"
      f"{rate(find('raw/fdatasync'))}\tmsg/s\thigh")
print(f"mbox_deliver_4k\t1\twrite 4 KiB + fdatasync\t"
      f"{ms(find('BM_Deliver4KiB/fsync:1'))}\t"
      f"{ms(find('BM_RawAppend4KiBFdatasync'))}\tms\tlow")
print(f"mbox_open_index\t1\tthe same open without index\t"
      f"{ms(find('BM_OpenLarge/index:1'))}\t"
      f"{ms(find('BM_OpenLarge/index:0'))}\tms\tlow")
PY
  python3 "$root/bench/report_results.py" write "$results_dir/store.tsv" \
    --script store --load-before "$load_before" \
    --meta "mbox_mb=${POSTHORN_BENCH_MBOX_MB:-100}" --meta "seconds=$SECONDS" \
    --meta "folder_fs=$(df -T "$work" 2>/dev/null | awk 'NR == 2 { print $2 }')"
