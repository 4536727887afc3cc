#!/usr/bin/env bash
# bench/smtp_load.sh — SMTP load: posthorn's smtp_sink_server against
# Postfix's smtp-sink, both driven by Postfix's smtp-source, same run.
#
# SYNOPSIS
#   bench/smtp_load.sh            (from the repository root)
#
# DESCRIPTION
#   1. Installs Debian's postfix package when smtp-source / smtp-sink are
#      missing, preseeded with "No configuration" so no MTA is set up, and
#      makes sure no Postfix master is left running.
#   2. Builds examples/smtp_sink_server in release mode in
#      build-bench-release (meson setup --buildtype=release) when needed.
#   3. Starts smtp_sink_server --no-store on 127.0.0.1 (port 0, read from
#      its "listening on" line) and /usr/sbin/smtp-sink on another
#      127.0.0.1 port.
#   4. For each connection mode (a new connection per message, smtp-source's
#      default; sessions kept with smtp-source -d), 1, 10 and 50 sessions,
#      4 KiB and 100 KiB payloads, against both servers: one short
#      calibration run each, then RUNS timed runs of about TARGET_SECONDS
#      each, alternating posthorn and smtp-sink; the best rate counts.
#      Prints a table of messages/s for both and the
#      ratio posthorn / smtp-sink.
#   5. Measures the memory per idle connection (bench/idle_connections.py,
#      1,000 connections) for both servers.
#   6. Writes the figures to smtp_load.tsv in the results folder (format of
#      bench/report_results.py; read by bench/report).
#   Both servers are stopped on exit (trap EXIT). Loopback only.
#
# ENVIRONMENT
#   SINK_SERVER     path of a smtp_sink_server to use (skips the build)
#   TARGET_SECONDS  wanted duration of one timed run (default 1.5)
#   RUNS            timed runs per side and cell (default 3)
#   MODES           "close keep" (default), or one of them
#   IDLE_CONNECTIONS  default 1000; 0 skips the memory measure
#   POSTHORN_BENCH_RESULTS  results folder (default var/bench/results)
#
# The script is a benchmark, never a test: it is not registered with meson.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_SECONDS=${TARGET_SECONDS:-1.5}
RUNS=${RUNS:-3}
MODES=${MODES:-"close keep"}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-1000}
RESULTS_DIR=${POSTHORN_BENCH_RESULTS:-$ROOT/var/bench/results}
SESSIONS=(1 10 50)
SIZES=(4096 102400)
MAX_MESSAGES=100000   # bound on one run, whatever the calibration says
RUN_TIMEOUT=60        # seconds, bound on one smtp-source run

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

# --- 1. Postfix's test programs ------------------------------------------
if ! command -v smtp-source >/dev/null 2>&1 &&
   [ ! -x /usr/sbin/smtp-source ]; then
  echo "== installing postfix (for smtp-source and smtp-sink)"
  echo "postfix postfix/main_mailer_type select No configuration" |
    $sudo debconf-set-selections
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix
fi
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
SMTP_SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
# "No configuration" starts nothing, but a system Postfix would take
# CPU (and maybe port 25) from the measure: stop it if one runs.
if $sudo postfix status >/dev/null 2>&1; then
  echo "== stopping the system postfix"
  $sudo postfix stop >/dev/null 2>&1 || true
fi

# --- 2. posthorn in release mode -----------------------------------------
if [ -z "${SINK_SERVER:-}" ]; then
  BUILD=$ROOT/build-bench-release
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --buildtype=release -Dtests=false \
      -Dbenchmarks=disabled >/dev/null
  fi
  ninja -C "$BUILD" -j 2 examples/smtp_sink_server/smtp_sink_server >/dev/null
  SINK_SERVER=$BUILD/examples/smtp_sink_server/smtp_sink_server
fi

# --- 3. the two servers ----------------------------------------------------
WORK=$(mktemp -d /tmp/posthorn-load.XXXXXX)
POSTHORN_PID=""
SMTPSINK_PID=""
cleanup() {
  for pid in $POSTHORN_PID $SMTPSINK_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $POSTHORN_PID $SMTPSINK_PID; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Room for 50 sessions and the idle measure on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p "$WORK/mail"
"$SINK_SERVER" --listen 127.0.0.1:0 --dir "$WORK/mail" --no-store \
  >"$WORK/posthorn.out" 2>"$WORK/posthorn.err" &
POSTHORN_PID=$!
PORT_A=""
for _ in $(seq 300); do
  PORT_A=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
             "$WORK/posthorn.out" | head -1)
  [ -n "$PORT_A" ] && break
  kill -0 "$POSTHORN_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT_A" ]; then
  echo "smtp_sink_server did not start:" >&2
  cat "$WORK/posthorn.err" >&2
  exit 1
fi

PORT_B=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sink_user=()
[ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
"$SMTP_SINK" "${sink_user[@]}" -m 1000 "127.0.0.1:$PORT_B" 1024 \
  >"$WORK/smtp-sink.out" 2>&1 &
SMTPSINK_PID=$!
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT_B") 2>/dev/null && break
  sleep 0.1
done

echo "== posthorn smtp_sink_server on 127.0.0.1:$PORT_A ($SINK_SERVER)"
echo "== postfix smtp-sink          on 127.0.0.1:$PORT_B ($SMTP_SINK)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(nproc) CPUs, load average $LOAD_BEFORE"
ROWS=$WORK/rows.tsv
printf 'measure\tmode\tsize_kib\tsessions\tposthorn\tsmtp-sink\tunit\tbetter\n' \
  >"$ROWS"

# --- 4. the load -----------------------------------------------------------
now() { date +%s.%N; }

# one_run PORT SESSIONS MESSAGES SIZE KEEP -> prints the elapsed seconds
one_run() {
  local port=$1 sessions=$2 messages=$3 size=$4 keep=$5 start end
  local flags=(-s "$sessions" -m "$messages" -l "$size" -f a@x.example
               -t b@y.example -M client.example)
  [ "$keep" = keep ] && flags+=(-d)
  start=$(now)
  if ! timeout "$RUN_TIMEOUT" "$SMTP_SOURCE" "${flags[@]}" "127.0.0.1:$port" \
       >"$WORK/source.out" 2>&1; then
    echo "smtp-source failed against port $port:" >&2
    tail -5 "$WORK/source.out" >&2
    echo fail
    return
  fi
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
}

# calibrate PORT SESSIONS SIZE KEEP -> messages for about TARGET_SECONDS
calibrate() {
  local port=$1 sessions=$2 size=$3 keep=$4 calib t
  calib=$(( sessions * 20 > 200 ? sessions * 20 : 200 ))
  t=$(one_run "$port" "$sessions" "$calib" "$size" "$keep")
  [ "$t" = fail ] && { echo 0; return; }
  awk -v m="$calib" -v t="$t" -v want="$TARGET_SECONDS" -v lo="$calib" \
      -v hi="$MAX_MESSAGES" \
      'BEGIN { n = int(m / t * want); if (n < lo) n = lo;
               if (n > hi) n = hi; print n }'
}

# timed PORT SESSIONS MESSAGES SIZE KEEP -> messages/s of one run (0: failed)
timed() {
  local t
  [ "$3" -eq 0 ] && { echo 0; return; }
  t=$(one_run "$1" "$2" "$3" "$4" "$5")
  [ "$t" = fail ] && { echo 0; return; }
  awk -v m="$3" -v t="$t" 'BEGIN { printf "%.0f\n", m / t }'
}

printf '\n%-34s %12s %12s %8s\n' "workload (smtp-source)" "posthorn/s" \
  "smtp-sink/s" "ratio"
for mode in $MODES; do
  for size in "${SIZES[@]}"; do
    for sessions in "${SESSIONS[@]}"; do
      # Calibrate both, then alternate the timed runs (A, B, A, B...) so
      # that a burst of load from elsewhere hits both sides alike; the
      # best run of each side counts.
      ma=$(calibrate "$PORT_A" "$sessions" "$size" "$mode")
      mb=$(calibrate "$PORT_B" "$sessions" "$size" "$mode")
      a=0
      b=0
      for _ in $(seq "$RUNS"); do
        r=$(timed "$PORT_A" "$sessions" "$ma" "$size" "$mode")
        [ "$r" -gt "$a" ] && a=$r
        r=$(timed "$PORT_B" "$sessions" "$mb" "$size" "$mode")
        [ "$r" -gt "$b" ] && b=$r
      done
      ratio=$(awk -v a="$a" -v b="$b" \
                'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
      label="$mode, $((size / 1024)) KiB, $sessions session(s)"
      printf '%-34s %12s %12s %8s\n' "$label" "$a" "$b" "$ratio"
      [ "$a" -gt 0 ] || a=-
      [ "$b" -gt 0 ] || b=-
      printf 'throughput\t%s\t%s\t%s\t%s\t%s\tmsg/s\thigh\n' "$mode" \
        $((size / 1024)) "$sessions" "$a" "$b" >>"$ROWS"
    done
  done
done
echo "(close: one connection per message, smtp-source's default;"
echo " keep: smtp-source -d, messages follow each other on a session)"

# The sink must have survived the load.
kill -0 "$POSTHORN_PID" 2>/dev/null ||
  { echo "smtp_sink_server died during the load" >&2; exit 1; }

# --- 5. idle connections ------------------------------------------------
if [ "$IDLE_CONNECTIONS" -gt 0 ]; then
  echo
  echo "== memory per idle connection ($IDLE_CONNECTIONS connections)"
  python3 bench/idle_connections.py --posthorn "$SINK_SERVER" \
    -n "$IDLE_CONNECTIONS" | tee "$WORK/idle.out" | grep -v '^RESULT'
  python3 bench/idle_connections.py --smtp-sink "$SMTP_SINK" \
    -n "$IDLE_CONNECTIONS" | tee -a "$WORK/idle.out" | grep -v '^RESULT'
  # RESULT <name> <connections> <bytes per connection>
  awk '$1 == "RESULT" { v[$2] = $4; n = $3 }
       END { if (n) printf "idle_memory\t-\t-\t%s\t%s\t%s\tbytes/conn\tlow\n",
                           n, (v["posthorn"] ? v["posthorn"] : "-"),
                           (v["smtp-sink"] ? v["smtp-sink"] : "-") }' \
    "$WORK/idle.out" >>"$ROWS"
fi

# --- 6. the result file ---------------------------------------------------
python3 bench/report_results.py write "$RESULTS_DIR/smtp_load.tsv" \
  --script smtp_load --load-before "$LOAD_BEFORE" \
  --meta "postfix=$(postconf -d -h mail_version 2>/dev/null || echo '?')" \
  --meta "runs=$RUNS" --meta "target_seconds=$TARGET_SECONDS" \
  --meta "seconds=$SECONDS" <"$ROWS"
