#!/usr/bin/env bash
# bench/mta_load.sh — MTA speed: posthorn's `sendmail -bd` against Postfix,
# both with a real queue and local delivery to mbox, driven by Postfix's
# smtp-source, in the same run.
#
# SYNOPSIS
#   bench/mta_load.sh [--quick]      (from anywhere; as root, or it re-runs
#                                     itself with sudo after the build)
#
# DESCRIPTION
#   1. Installs Debian's postfix package when missing, preseeded with
#      "No configuration" (debconf) so no system MTA is set up or started.
#   2. Builds tools/sendmail/sendmail in release mode in build-run/ (the
#      folder and options of scripts/run), as the invoking user; then, when
#      not root, runs the rest with sudo (Postfix must start as root).
#   3. Creates the recipient, a system user without a home (useradd -M -r,
#      BENCH_USER, default phbench) when missing: Postfix's local(8)
#      delivers only to real users. posthorn finds it in passwd too.
#   4. In a temporary folder on disk (/var/tmp, so fsync costs what it
#      costs on a real spool): a posthorn instance (smtpd_listen
#      127.0.0.1:0, hostname/local_domains localhost, its own queue and mbox
#      spool, an empty alias file, run_as empty, local_recipients passwd)
#      and a Postfix instance (postfix -c DIR start: its own
#      config_directory, queue_directory, data_directory and
#      mail_spool_directory; inet_interfaces 127.0.0.1, inet_protocols
#      ipv4, smtpd on a free 127.0.0.1 port, mydestination localhost,
#      alias_maps/home_mailbox/mailbox_command empty, so local(8) appends
#      to DIR/spool/USER; no chroot; log in DIR/maillog). Everything else
#      is each server's default (Postfix: in_flow_delay 1s, local
#      concurrency 2 per recipient; posthorn: max_deliveries 8).
#   5. For 4 KiB and 100 KiB messages and 1, 10, 50 sessions, for each
#      server (the order alternates per cell): empty the mbox, run
#      smtp-source -s SESSIONS -m COUNT -l SIZE (one connection per
#      message, smtp-source's default; KEEP=1 adds -d), and watch the mbox
#      (bench/mta_load_cell.py). accepted/s = COUNT / smtp-source's wall
#      time; delivered/s = COUNT / time from its start until every message
#      is in the mbox. A cell fails if the mbox does not hold exactly
#      COUNT messages within CELL_TIMEOUT.
#   6. Prints a table with the ratios posthorn/Postfix and the load
#      average before and after, and writes it to var/bench/mta_load.txt;
#      the figures also go to mta_load.tsv in the results folder (format
#      of bench/report_results.py; read by bench/report).
#   Both servers are stopped and the folder removed on exit (trap EXIT).
#   Loopback only.
#
# OPTIONS
#   --quick   300 messages of 4 KiB and 100 of 100 KiB per cell (default
#             2000 and 500): about 2 minutes instead of about 10.
#
# ENVIRONMENT
#   BUILD          build folder (default build-run)
#   SENDMAIL       a sendmail binary to use (skips the build)
#   SERVERS        "posthorn postfix" (default), or one of them
#   SESSIONS       default "1 10 50"
#   COUNT_4K, COUNT_100K   messages per cell
#   KEEP=1         smtp-source -d (sessions kept) instead of a connection
#                  per message
#   CELL_TIMEOUT   seconds, bound on one cell (default 300)
#   BENCH_USER     the recipient's user (default phbench)
#   KEEP_WORK=1    keep the temporary folder (logs, mboxes)
#   POSTHORN_BENCH_RESULTS  results folder (default var/bench/results)
#
# The script is a benchmark, never a test: it is not registered with meson
# and not run by scripts/test.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=""
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/mta_load.sh [--quick]" >&2; exit 64 ;;
  esac
done

BUILD=${BUILD:-$ROOT/build-run}
SERVERS=${SERVERS:-"posthorn postfix"}
SESSIONS=${SESSIONS:-"1 10 50"}
if [ -n "$QUICK" ]; then
  COUNT_4K=${COUNT_4K:-300}
  COUNT_100K=${COUNT_100K:-100}
else
  COUNT_4K=${COUNT_4K:-2000}
  COUNT_100K=${COUNT_100K:-500}
fi
CELL_TIMEOUT=${CELL_TIMEOUT:-300}
BENCH_USER=${BENCH_USER:-phbench}
RESULTS_DIR=$ROOT/var/bench

has() { [[ " $SERVERS " == *" $1 "* ]]; }

# --- 2. sendmail in release mode (as the invoking user) -------------------------
if has posthorn && [ -z "${SENDMAIL:-}" ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" --buildtype=release -Dtests=false \
      -Dexamples=false -Dbenchmarks=disabled >/dev/null
  fi
  echo "== building sendmail (release) in ${BUILD#"$ROOT"/}"
  if ! ninja -C "$BUILD" -j 2 tools/sendmail/sendmail \
         >"$BUILD/mta_load-build.log" 2>&1; then
    tail -30 "$BUILD/mta_load-build.log" >&2
    echo "mta_load.sh: the build failed (log: $BUILD/mta_load-build.log)" >&2
    exit 1
  fi
  SENDMAIL=$BUILD/tools/sendmail/sendmail
fi
SENDMAIL=${SENDMAIL:-}
if [ "$(id -u)" -ne 0 ]; then
  echo "== continuing as root (Postfix starts as root)"
  exec sudo env SENDMAIL="$SENDMAIL" SERVERS="$SERVERS" SESSIONS="$SESSIONS" \
    COUNT_4K="$COUNT_4K" COUNT_100K="$COUNT_100K" KEEP="${KEEP:-}" \
    CELL_TIMEOUT="$CELL_TIMEOUT" BENCH_USER="$BENCH_USER" \
    KEEP_WORK="${KEEP_WORK:-}" \
    POSTHORN_BENCH_RESULTS="${POSTHORN_BENCH_RESULTS:-}" bash "$0" "$@"
fi

# --- 1. Postfix --------------------------------------------------------------
. "$ROOT/bench/lib/postfix_tools.sh"
ensure_postfix_tools
SMTP_SOURCE=/usr/sbin/smtp-source
POSTFIX_VERSION=$(postconf -d -h mail_version 2>/dev/null || echo "?")
if pgrep -x master >/dev/null 2>&1; then
  echo "== note: a Postfix master already runs on this machine (left alone)"
fi

# --- 3. the recipient ------------------------------------------------------------
if ! getent passwd "$BENCH_USER" >/dev/null; then
  echo "== creating the system user $BENCH_USER (no home, no login)"
  useradd -M -r -s /usr/sbin/nologin -c "posthorn mta_load.sh" "$BENCH_USER"
fi
RCPT=$BENCH_USER@localhost

# --- 4. the two instances ---------------------------------------------------------
WORK=$(mktemp -d /var/tmp/posthorn-mta-load.XXXXXX)
chmod 755 "$WORK"  # Postfix's unprivileged processes must get through
PH=$WORK/posthorn
PF=$WORK/postfix
POSTHORN_PID=""
POSTFIX_STARTED=""
cleanup() {
  if [ -n "$POSTHORN_PID" ]; then
    kill -TERM "$POSTHORN_PID" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$POSTHORN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$POSTHORN_PID" 2>/dev/null || true
  fi
  if [ -n "$POSTFIX_STARTED" ]; then
    postfix -c "$PF/etc" stop >/dev/null 2>&1 || true
    local pid
    pid=$(cat "$PF/queue/pid/master.pid" 2>/dev/null | tr -d ' ' || true)
    if [ -n "$pid" ]; then
      for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if [ "${KEEP_WORK:-}" = 1 ]; then
    echo "== kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# Room for 50 sessions and their files on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
  python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(nproc) CPUs, load average $LOAD_BEFORE; work folder $WORK"

if has posthorn; then
  mkdir -p "$PH/queue" "$PH/spool"
  cat >"$PH/posthorn.conf" <<EOF
# Generated by bench/mta_load.sh.
hostname = localhost
local_domains = localhost
smtpd_listen = 127.0.0.1:0
queue_dir = queue
spool_dir = spool
mailbox_format = mbox
alias_file = aliases
help_file = helpfile
local_recipients = passwd
queue_run_interval = 1m
run_as =
EOF
  : >"$PH/aliases"
  echo "mta_load.sh instance" >"$PH/helpfile"
  "$SENDMAIL" -C "$PH/posthorn.conf" -bi >/dev/null
  "$SENDMAIL" -C "$PH/posthorn.conf" -bd -q1m >"$PH/sendmail.out" \
    2>"$PH/sendmail.err" &
  POSTHORN_PID=$!
  PORT_POSTHORN=""
  for _ in $(seq 300); do
    PORT_POSTHORN=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
                      "$PH/sendmail.err" | head -1)
    [ -n "$PORT_POSTHORN" ] && break
    kill -0 "$POSTHORN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT_POSTHORN" ]; then
    echo "sendmail -bd did not start:" >&2
    tail -20 "$PH/sendmail.err" >&2
    exit 1
  fi
  echo "== posthorn sendmail -bd on 127.0.0.1:$PORT_POSTHORN ($SENDMAIL)"
fi

if has postfix; then
  mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$PF/spool"
  chown postfix "$PF/data"
  chmod 1777 "$PF/spool"  # like /var/mail: local(8) creates the mbox as the user
  PORT_POSTFIX=$(free_port)
  cat >"$PF/etc/main.cf" <<EOF
# Generated by bench/mta_load.sh: a private instance on loopback.
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost
mydomain = localdomain
myorigin = localhost
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
home_mailbox =
mailbox_command =
mail_spool_directory = $PF/spool
biff = no
maillog_file = $PF/maillog
EOF
  # Debian's master.cf, without chroot (the queue folder holds no copy of
  # /etc), with smtpd on the chosen loopback port.
  awk -v port="127.0.0.1:$PORT_POSTFIX" '
    /^#/ || /^[ \t]/ || NF < 8 { print; next }
    { if ($1 == "smtp" && $2 == "inet") $1 = port; $5 = "n"; print }
  ' /usr/share/postfix/master.cf.dist >"$PF/etc/master.cf"
  postfix -c "$PF/etc" check >"$PF/start.log" 2>&1 || true
  if ! postfix -c "$PF/etc" start >>"$PF/start.log" 2>&1; then
    echo "postfix did not start:" >&2
    cat "$PF/start.log" >&2
    exit 1
  fi
  POSTFIX_STARTED=1
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT_POSTFIX") 2>/dev/null && break
    sleep 0.1
  done
  echo "== postfix $POSTFIX_VERSION on 127.0.0.1:$PORT_POSTFIX (config $PF/etc)"
fi

port_of() { if [ "$1" = posthorn ]; then echo "$PORT_POSTHORN"; else echo "$PORT_POSTFIX"; fi; }
mbox_of() { if [ "$1" = posthorn ]; then echo "$PH/spool/$BENCH_USER"; else echo "$PF/spool/$BENCH_USER"; fi; }
# Empty the maildrop between cells (the server is idle then): the mbox and,
# for posthorn, its index and lock files.
clear_spool() {
  if [ "$1" = posthorn ]; then
    find "$PH/spool" -mindepth 1 -delete
  else
    rm -f "$PF/spool/$BENCH_USER" "$PF/spool/$BENCH_USER.lock"
  fi
}

# --- 5. the measures ---------------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"
keep_flag=()
[ "${KEEP:-}" = 1 ] && keep_flag=(--keep)
order=($SERVERS)
failures=0
echo "== smtp-source -> queue -> local delivery to mbox"
for size in 4096 102400; do
  count=$COUNT_4K
  [ "$size" -eq 102400 ] && count=$COUNT_100K
  for sessions in $SESSIONS; do
    for server in "${order[@]}"; do
      clear_spool "$server"
      if out=$(python3 "$ROOT/bench/mta_load_cell.py" \
                 --smtp-source "$SMTP_SOURCE" --port "$(port_of "$server")" \
                 --sessions "$sessions" --count "$count" --size "$size" \
                 --mbox "$(mbox_of "$server")" --to "$RCPT" \
                 --timeout "$CELL_TIMEOUT" --log "$WORK/smtp-source.log" \
                 "${keep_flag[@]}" 2>"$WORK/cell.err"); then
        :
      else
        failures=$((failures + 1))
        echo "   $server: $(cat "$WORK/cell.err")" >&2
      fi
      read -r t_acc t_del n <<<"$out"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$sessions" "$count" \
        "$server" "$t_acc" "$t_del" "$n" >>"$RESULTS"
      printf '   %-8s %3d KiB, %2d session(s), %4d msgs: accepted in %s s, delivered in %s s (%s in the mbox)\n' \
        "$server" $((size / 1024)) "$sessions" "$count" "$t_acc" "$t_del" "$n"
    done
    # Alternate who goes first, so neither always meets the other's
    # leftovers (page cache, dirty pages being written back).
    order=($(printf '%s\n' "${order[@]}" | tac))
  done
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "$POSTHORN_PID" ] && ! kill -0 "$POSTHORN_PID" 2>/dev/null; then
  echo "sendmail -bd died during the load:" >&2
  tail -20 "$PH/sendmail.err" >&2
  failures=$((failures + 1))
fi

# --- 6. the table ------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
mode="one connection per message"
[ "${KEEP:-}" = 1 ] && mode="sessions kept (smtp-source -d)"
{
  echo "MTA load: posthorn sendmail -bd vs Postfix $POSTFIX_VERSION, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "smtp-source, $mode; queue + local delivery to mbox; loopback"
  echo "$(nproc) CPUs; load average before $LOAD_BEFORE, after $LOAD_AFTER; measured in $SECONDS s"
  python3 - "$RESULTS" <<'EOF'
import sys
cells = {}
for line in open(sys.argv[1]):
    size, sessions, count, server, t_acc, t_del, n = line.rstrip("\n").split("\t")
    cells.setdefault((int(size), int(sessions), int(count)), {})[server] = (
        t_acc, t_del, n)
def rate(count, t):
    try:
        return count / float(t)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
def fmt(v):
    return "fail" if v is None else f"{v:.0f}"
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"
print()
print("| size | sessions | msgs | accepted/s posthorn | accepted/s Postfix | ratio "
      "| delivered/s posthorn | delivered/s Postfix | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for (size, sessions, count), by in sorted(cells.items()):
    p = by.get("posthorn", (None, None, None))
    f = by.get("postfix", (None, None, None))
    pa, pd = rate(count, p[0]), rate(count, p[1])
    fa, fd = rate(count, f[0]), rate(count, f[1])
    print(f"| {size // 1024} KiB | {sessions} | {count} | {fmt(pa)} | {fmt(fa)} | "
          f"{ratio(pa, fa)} | {fmt(pd)} | {fmt(fd)} | {ratio(pd, fd)} |")
EOF
} | tee "$RESULTS_DIR/mta_load.txt.tmp"
mv "$RESULTS_DIR/mta_load.txt.tmp" "$RESULTS_DIR/mta_load.txt"
# The same figures for bench/report, as rates (bench/report_results.py).
python3 - "$RESULTS" <<'EOF' |
import sys
print("measure\tsize_kib\tsessions\tmessages\tposthorn\tpostfix\tunit\tbetter")
cells = {}
for line in open(sys.argv[1]):
    size, sessions, count, server, t_acc, t_del, n = line.rstrip("\n").split("\t")
    cells.setdefault((int(size), int(sessions), int(count)), {})[server] = (
        t_acc, t_del)
def rate(count, t):
    try:
        return f"{count / float(t):.1f}"
    except (TypeError, ValueError, ZeroDivisionError):
        return "-"
for which, i in (("accepted", 0), ("delivered", 1)):
    for (size, sessions, count), by in sorted(cells.items()):
        p = by.get("posthorn", (None, None))[i]
        f = by.get("postfix", (None, None))[i]
        print(f"{which}\t{size // 1024}\t{sessions}\t{count}\t"
              f"{rate(count, p)}\t{rate(count, f)}\tmsg/s\thigh")
EOF
  python3 "$ROOT/bench/report_results.py" write \
    "${POSTHORN_BENCH_RESULTS:-$RESULTS_DIR/results}/mta_load.tsv" \
    --script mta_load --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" \
    --meta "postfix=$POSTFIX_VERSION" --meta "mode=$mode" \
    --meta "quick=${QUICK:-0}" --meta "seconds=$SECONDS"
echo "(written to ${RESULTS_DIR#"$ROOT"/}/mta_load.txt)"
if [ "$failures" -gt 0 ]; then
  echo "mta_load.sh: $failures cell(s) failed" >&2
  exit 1
fi
