#!/usr/bin/env bash
# bench/pg_load.sh — the PostgreSQL store against the local file store, and
# two MTA nodes on one database against one, in the same run.
#
# SYNOPSIS
#   bench/pg_load.sh [--quick]        (from anywhere; as root, or with sudo
#                                      for the postfix package)
#
# DESCRIPTION
#   1. Builds sendmail, popper, popauth, bench/pop3_load,
#      bench/pop3_make_maildrop and bench/copy_maildrop in release mode in
#      build-bench (BUILD). Installs Debian's postfix package when
#      smtp-source is missing, preseeded to "No configuration" (no system
#      MTA; only its smtp-source client is used).
#   2. In a temporary folder under /var/tmp (on disk, so every fsync is
#      real): a private PostgreSQL cluster (scripts/lib/pg_cluster.sh with
#      POSTHORN_PG_DURABLE=1: fsync, full_page_writes and synchronous_commit
#      on) on a free 127.0.0.1 port with one database, and three
#      posthorn.conf files:
#        local  the file store: queue_dir, spool_dir in mbox, auth_db (LMDB)
#        pg-a   store = postgresql, node A
#        pg-b   store = postgresql, node B (same database)
#      all with hostname/local_domains localhost, local_recipients = auth_db
#      (the recipient phbench is made with popauth in both stores),
#      postgresql_max_connections = PG_CONNECTIONS (default 16: more than
#      the SMTP sessions of a node, see docs/postgresql.md), run_as empty.
#   3. MTA: for 4 KiB and 100 KiB messages and SESSIONS sessions, three
#      setups, each a sendmail -bd -q1m started for the cell and stopped
#      after it, the first one alternating from cell to cell:
#        local      one node on the file store
#        pg-1       node A on the database
#        pg-2       nodes A and B on the database, each driven by its own
#                   smtp-source with SESSIONS sessions and COUNT messages
#                   (twice the mail of pg-1, at twice the concurrency)
#      bench/pg_load_cell.py runs smtp-source (a connection per message)
#      and counts the recipient's messages (mbox "From " lines, or the
#      maildrop rows in the database). accepted/s = messages / smtp-source
#      wall time; delivered/s = messages / time until all are in the
#      maildrop. The maildrop is emptied between cells (the database's rows
#      deleted and vacuumed).
#   4. POP3: bench/pop3_make_maildrop writes 10,000 text messages (~52 MB)
#      as the mbox maildrop of user "10k" (LARGE=1: also 1 GiB, 10,500
#      messages with attachments, user "1g"); bench/copy_maildrop delivers
#      the same messages into the database. popper runs once on each store
#      (-l 127.0.0.1:0), and bench/pop3_load measures, REPS times each,
#      alternating: login+STAT (mbox with and without its index; the
#      database has no index to build) and RETR of every message in one
#      pipelined session (MB/s).
#   5. Prints the table (PostgreSQL / local, two nodes / one node, with
#      the targets: two nodes >= 1.6x one node, the database within 2x of
#      the local store) and writes pg_load.tsv in the results folder
#      (bench/report_results.py's format; read by bench/report).
#   Every server is stopped and the folder removed on exit (trap EXIT).
#   Loopback only.
#
# OPTIONS
#   --quick   300 messages of 4 KiB and 100 of 100 KiB per cell (default
#             1500 and 300), REPS 3 -> 2.
#
# ENVIRONMENT
#   BUILD           build folder (default build-bench)
#   SESSIONS        SMTP sessions per node (default "10"; a list measures
#                   each)
#   COUNT_4K, COUNT_100K   messages per node and cell
#   PG_CONNECTIONS  postgresql_max_connections of the nodes (default 16)
#   REPS            POP3 runs per figure (default 3)
#   PARTS           "mta pop3" (default), or one of them
#   LARGE=1         also the 1 GiB maildrop (the copy into the database
#                   takes a few minutes and ~2.5 GB of disk)
#   CELL_TIMEOUT    seconds, bound on one MTA cell (default 300)
#   KEEP_WORK=1     keep the temporary folder (logs, server log)
#   POSTHORN_BENCH_RESULTS  results folder (default var/bench/results)
#
# The script is a benchmark, never a test: not registered with meson and
# not run by scripts/test.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=""
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/pg_load.sh [--quick]" >&2; exit 64 ;;
  esac
done

BUILD=${BUILD:-$ROOT/build-bench}
SESSIONS=${SESSIONS:-10}
if [ -n "$QUICK" ]; then
  COUNT_4K=${COUNT_4K:-300}
  COUNT_100K=${COUNT_100K:-100}
  REPS=${REPS:-2}
else
  COUNT_4K=${COUNT_4K:-1500}
  COUNT_100K=${COUNT_100K:-300}
  REPS=${REPS:-3}
fi
PG_CONNECTIONS=${PG_CONNECTIONS:-16}
PARTS=${PARTS:-"mta pop3"}
part() { [[ " $PARTS " == *" $1 "* ]]; }
CELL_TIMEOUT=${CELL_TIMEOUT:-300}
BENCH_USER=phbench
SECRET=bench-secret-1
PG_CLUSTER=$ROOT/scripts/lib/pg_cluster.sh

# --- 1. the programs, smtp-source -------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" "$ROOT" --buildtype=release -Dbenchmarks=enabled \
    -Dtests=false -Dexamples=false >/dev/null
fi
echo "== building (release) in ${BUILD#"$ROOT"/}"
if ! ninja -C "$BUILD" -j 2 tools/sendmail/sendmail tools/popper/popper \
       tools/popauth/popauth bench/pop3_load bench/pop3_make_maildrop \
       bench/copy_maildrop >"$BUILD/pg_load-build.log" 2>&1; then
  tail -30 "$BUILD/pg_load-build.log" >&2
  echo "pg_load.sh: the build failed (log: $BUILD/pg_load-build.log)" >&2
  exit 1
fi
SENDMAIL=$BUILD/tools/sendmail/sendmail
POPPER=$BUILD/tools/popper/popper
POPAUTH=$BUILD/tools/popauth/popauth
LOAD=$BUILD/bench/pop3_load
MAKE_MAILDROP=$BUILD/bench/pop3_make_maildrop
COPY_MAILDROP=$BUILD/bench/copy_maildrop

if [ ! -x /usr/sbin/smtp-source ]; then
  [ "$(id -u)" -eq 0 ] ||
    { echo "pg_load.sh: smtp-source is missing; run as root once to install postfix" >&2; exit 1; }
  . "$ROOT/bench/lib/postfix_tools.sh"
  ensure_postfix_tools
fi
SMTP_SOURCE=/usr/sbin/smtp-source

# --- 2. the database and the configurations ---------------------------------
WORK=$(mktemp -d /var/tmp/posthorn-pg-load.XXXXXX)
chmod 755 "$WORK"  # the postgres user (when we are root) must get through
PIDS=""
cleanup() {
  local pid
  for pid in $PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $PIDS; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  "$PG_CLUSTER" stop "$WORK/pg" >/dev/null 2>&1 || true
  if [ "${KEEP_WORK:-}" = 1 ]; then
    echo "== kept $WORK"
  else
    "$PG_CLUSTER" remove "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(nproc) CPUs, load average $LOAD_BEFORE; work folder $WORK"

POSTHORN_PG_DURABLE=1 "$PG_CLUSTER" start "$WORK/pg" 0 >/dev/null
DSN=$("$PG_CLUSTER" createdb "$WORK/pg" posthorn_bench)
PSQL=$(dirname "$(command -v psql)")/psql
PG_VERSION=$("$PSQL" -X -A -t -d "$DSN" -c 'SHOW server_version' | cut -d' ' -f1)
psql_c() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$DSN" -c "$1"; }
echo "== PostgreSQL $PG_VERSION on $(sed 's/ user=.*//' <<<"$DSN") (fsync on)"

common_conf() {  # common_conf NAME: the keys every instance shares
  cat <<EOF
# Generated by bench/pg_load.sh ($1).
hostname = $1.localhost
local_domains = localhost
smtpd_listen = 127.0.0.1:0
local_recipients = auth_db
queue_run_interval = 1m
plaintext_auth = yes
pop3_failed_login_delay = 0
pop3_address_max_failures = 0
pop3_max_connections = 1000
run_as =
alias_file = $WORK/aliases
help_file = $WORK/helpfile
EOF
}
: >"$WORK/aliases"
echo "pg_load.sh instance" >"$WORK/helpfile"
mkdir -p "$WORK/local/queue" "$WORK/local/spool" "$WORK/pg-a" "$WORK/pg-b"
{
  common_conf local
  echo "queue_dir = $WORK/local/queue"
  echo "spool_dir = $WORK/local/spool"
  echo "mailbox_format = mbox"
  echo "auth_db = $WORK/local/pop.auth"
} >"$WORK/local/posthorn.conf"
for node in pg-a pg-b; do
  {
    common_conf "$node"
    echo "store = postgresql"
    echo "postgresql_dsn = $DSN"
    echo "postgresql_max_connections = $PG_CONNECTIONS"
    echo "queue_dir = $WORK/$node/queue"  # hoststat and mailstats only
  } >"$WORK/$node/posthorn.conf"
done
conf_of() { echo "$WORK/$1/posthorn.conf"; }

USERS=("$BENCH_USER" 10k)
[ "${LARGE:-}" = 1 ] && USERS+=(1g)
for store in local pg-a; do
  "$SENDMAIL" -C "$(conf_of "$store")" -bi >/dev/null
  "$POPAUTH" -C "$(conf_of "$store")" -init >/dev/null
  for u in "${USERS[@]}"; do
    printf '%s\n' "$SECRET" | "$POPAUTH" -C "$(conf_of "$store")" -user "$u"
  done
done

# start_daemon NAME PROGRAM ARGS...: starts it in the background (output in
# logs/<n>-NAME.{out,err}, a new pair for every start), waits for its
# "listening on 127.0.0.1:PORT" line; sets STARTED_PID, STARTED_PORT.
DAEMONS=0
start_daemon() {
  local name=$1
  shift
  DAEMONS=$((DAEMONS + 1))
  local err="$WORK/logs/$DAEMONS-$name.err"
  mkdir -p "$WORK/logs"
  "$@" >"$WORK/logs/$DAEMONS-$name.out" 2>"$err" &
  STARTED_PID=$!
  PIDS="$PIDS $STARTED_PID"
  STARTED_PORT=""
  for _ in $(seq 300); do
    STARTED_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
                     "$err" 2>/dev/null | head -1 || true)
    [ -n "$STARTED_PORT" ] && return 0
    kill -0 "$STARTED_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start:" >&2
  tail -20 "$err" >&2
  exit 1
}
stop_daemon() {  # PID: SIGTERM, wait (bounded), SIGKILL
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  PIDS=$(sed "s/\b$1\b//" <<<"$PIDS")
}

# Empty the recipient's maildrop (no daemon runs then), and let the disk
# settle.
clear_maildrop() {
  rm -f "$WORK/local/spool/$BENCH_USER" "$WORK/local/spool/.$BENCH_USER.index"
  psql_c "DELETE FROM maildrop WHERE user_name = '$BENCH_USER';
          DELETE FROM messages m WHERE NOT EXISTS
            (SELECT 1 FROM maildrop d WHERE d.message_id = m.id)
            AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id);"
  psql_c "VACUUM ANALYZE"
  # Start every cell with nothing left to write back (the vacuum, earlier
  # cells' dirty pages): both stores fsync to the same disk.
  psql_c "CHECKPOINT"
  sync
}

# --- 3. MTA -------------------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"
failures=0
order=(local pg-1 pg-2)
echo "== smtp-source -> queue -> local delivery; a connection per message"
sizes="4096 102400"
part mta || sizes=""
for size in $sizes; do
  count=$COUNT_4K
  [ "$size" -eq 102400 ] && count=$COUNT_100K
  for sessions in $SESSIONS; do
    for setup in "${order[@]}"; do
      clear_maildrop
      ports=()
      pids=()
      case $setup in
        local) nodes=(local) ;;
        pg-1) nodes=(pg-a) ;;
        pg-2) nodes=(pg-a pg-b) ;;
      esac
      for node in "${nodes[@]}"; do
        start_daemon "sendmail-$node" "$SENDMAIL" -C "$(conf_of "$node")" -bd -q1m
        ports+=(--port "$STARTED_PORT")
        pids+=("$STARTED_PID")
      done
      where=(--dsn "$DSN" --psql "$PSQL")
      [ "$setup" = local ] && where=(--mbox "$WORK/local/spool/$BENCH_USER")
      if out=$(python3 "$ROOT/bench/pg_load_cell.py" \
                 --smtp-source "$SMTP_SOURCE" "${ports[@]}" \
                 --sessions "$sessions" --count "$count" --size "$size" \
                 --to "$BENCH_USER@localhost" "${where[@]}" \
                 --timeout "$CELL_TIMEOUT" --log "$WORK/smtp-source.log" \
                 2>"$WORK/cell.err"); then
        :
      else
        failures=$((failures + 1))
        echo "   $setup: $(cat "$WORK/cell.err")" >&2
      fi
      for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null ||
          { echo "   $setup: a sendmail -bd died during the cell" >&2
            failures=$((failures + 1)); }
        stop_daemon "$pid"
      done
      read -r t_acc t_del n cpu <<<"$out"
      total=$((count * ${#nodes[@]}))
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$sessions" \
        "$total" "$setup" "$t_acc" "$t_del" "$n" "$cpu" >>"$RESULTS"
      printf '   %-5s %3d KiB, %2d session(s) x %d node(s), %4d msgs: accepted in %s s, delivered in %s s (%s in the maildrop), %s CPU-ms/msg\n' \
        "$setup" $((size / 1024)) "$sessions" "${#nodes[@]}" "$total" \
        "$t_acc" "$t_del" "$n" "$cpu"
    done
    order=("${order[@]:1}" "${order[0]}")
  done
done
clear_maildrop

# --- 4. POP3 ------------------------------------------------------------------
: >"$WORK/pop.tsv"
drops=()
part pop3 && drops=(10k)
[ "${LARGE:-}" = 1 ] && part pop3 && drops+=(1g)
if part pop3; then
  echo "== POP3 maildrops: the mbox masters, then the same messages into the database"
  "$MAKE_MAILDROP" --messages 10000 --profile text --seed 1 \
    --out "$WORK/local/spool/10k"
  if [ "${LARGE:-}" = 1 ]; then
    "$MAKE_MAILDROP" --messages 10500 --profile mixed \
      --total-bytes 1073741824 --seed 2 --out "$WORK/local/spool/1g"
  fi
  for d in "${drops[@]}"; do
    "$COPY_MAILDROP" --from "$(conf_of local)" --to "$(conf_of pg-a)" \
      --user "$d" --threads 4 | sed 's/^/   copied /'
  done
  psql_c "VACUUM ANALYZE"

  start_daemon popper-local "$POPPER" -C "$(conf_of local)" -l 127.0.0.1:0
  PORT_LOCAL=$STARTED_PORT
  start_daemon popper-pg "$POPPER" -C "$(conf_of pg-a)" -l 127.0.0.1:0
  PORT_PG=$STARTED_PORT
  echo "== popper on 127.0.0.1:$PORT_LOCAL (mbox) and 127.0.0.1:$PORT_PG (PostgreSQL)"

  record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/pop.tsv"; }
  median() { sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
  pop() {  # pop STORE SUBCOMMAND USER -> the first field of pop3_load's output
    local port=$PORT_LOCAL out
    [ "$1" = pg ] && port=$PORT_PG
    if ! out=$("$LOAD" "$2" --port "$port" --user "$3" --pass "$SECRET" \
                 2>"$WORK/load.err"); then
      echo "pop3_load $2 against $1 failed: $(cat "$WORK/load.err")" >&2
      failures=$((failures + 1))
      echo fail
      return
    fi
    echo "$out" >>"$WORK/load.log"
    echo "${out%% *}"
  }
  for d in "${drops[@]}"; do
    : >"$WORK/noindex"; : >"$WORK/index"; : >"$WORK/pg-stat"
    : >"$WORK/retr-local"; : >"$WORK/retr-pg"
    for _ in $(seq "$REPS"); do
      rm -f "$WORK/local/spool/.$d.index"
      pop local stat "$d" >>"$WORK/noindex"
      for _ in 1 2 3; do pop local stat "$d" >>"$WORK/index"; done
      for _ in 1 2 3; do pop pg stat "$d" >>"$WORK/pg-stat"; done
      pop pg retr-all "$d" >>"$WORK/retr-pg"
      pop local retr-all "$d" >>"$WORK/retr-local"
    done
    pg_stat=$(median <"$WORK/pg-stat")
    record "stat_$d" pg "$pg_stat"
    record "stat_$d" local_index "$(median <"$WORK/index")"
    record "stat_$d" local_noindex "$(median <"$WORK/noindex")"
    record "retr_$d" pg "$(median <"$WORK/retr-pg")"
    record "retr_$d" local "$(median <"$WORK/retr-local")"
    echo "   $d: login+STAT PostgreSQL ${pg_stat} ms, mbox $(median <"$WORK/index") ms" \
      "(no index: $(median <"$WORK/noindex") ms); RETR all PostgreSQL" \
      "$(median <"$WORK/retr-pg") MB/s, mbox $(median <"$WORK/retr-local") MB/s"
  done
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 5. the table -----------------------------------------------------------------
python3 - "$RESULTS" "$WORK/pop.tsv" "$WORK/rows.tsv" <<'EOF'
import sys
mta = {}
for line in open(sys.argv[1]):
    size, sessions, total, setup, t_acc, t_del, n, cpu = \
        line.rstrip("\n").split("\t")
    mta[(int(size), int(sessions), setup)] = (int(total), t_acc, t_del, cpu)
pop = {}
for line in open(sys.argv[2]):
    key, store, value = line.rstrip("\n").split("\t")
    pop[(key, store)] = value

def rate(cell, i):
    try:
        return cell[0] / float(cell[i])
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

rows = []  # measure, label, target, posthorn, baseline, unit, better
for size, sessions in sorted({(k[0], k[1]) for k in mta}):
    cells = {s: mta.get((size, sessions, s)) for s in ("local", "pg-1", "pg-2")}
    kib = size // 1024
    for which, i in (("accepted", 1), ("delivered", 2)):
        r = {s: rate(c, i) if c else None for s, c in cells.items()}
        rows.append((f"{which}_pg_{kib}k_s{sessions}",
                     f"{which}/s {kib} KiB, {sessions} sessions: PostgreSQL "
                     "one node vs local file store", ">= 0.5x",
                     r["pg-1"], r["local"], "msg/s", "high"))
        rows.append((f"{which}_two_nodes_{kib}k_s{sessions}",
                     f"{which}/s {kib} KiB, {sessions} sessions per node: "
                     "two nodes vs one node (PostgreSQL)", ">= 1.6x",
                     r["pg-2"], r["pg-1"], "msg/s", "high"))
    cpu = {s: num(c[3]) if c else None for s, c in cells.items()}
    rows.append((f"cpu_two_nodes_{kib}k_s{sessions}",
                 f"CPU per message {kib} KiB, whole machine: two nodes vs "
                 "one node (PostgreSQL)", "", cpu["pg-2"], cpu["pg-1"],
                 "CPU-ms", "low"))
    rows.append((f"cpu_pg_{kib}k_s{sessions}",
                 f"CPU per message {kib} KiB, whole machine: PostgreSQL vs "
                 "local file store", "", cpu["pg-1"], cpu["local"], "CPU-ms",
                 "low"))
drops = sorted({k[0].split("_", 1)[1] for k in pop}, key=len)
for d in drops:
    name = "10,000 messages" if d == "10k" else "1 GiB"
    rows.append((f"stat_{d}_index", f"login+STAT {name}: PostgreSQL vs mbox "
                 "with its index", "", num(pop.get((f"stat_{d}", "pg"))),
                 num(pop.get((f"stat_{d}", "local_index"))), "ms", "low"))
    rows.append((f"stat_{d}_noindex", f"login+STAT {name}: PostgreSQL vs mbox "
                 "without an index", "", num(pop.get((f"stat_{d}", "pg"))),
                 num(pop.get((f"stat_{d}", "local_noindex"))), "ms", "low"))
    rows.append((f"retr_{d}", f"RETR all {name}: PostgreSQL vs mbox", "",
                 num(pop.get((f"retr_{d}", "pg"))),
                 num(pop.get((f"retr_{d}", "local"))), "MB/s", "high"))

def fmt(v):
    return "fail" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")

def ratio(p, b, better):
    if p is None or not b or not p:
        return None
    return p / b if better == "high" else b / p

print()
print("| measure | posthorn | baseline | unit | speed ratio | target | met |")
print("|---|---|---|---|---|---|---|")
with open(sys.argv[3], "w") as out:
    out.write("measure\tlabel\ttarget\tposthorn\tbaseline\tunit\tbetter\n")
    for key, label, target, p, b, unit, better in rows:
        r = ratio(p, b, better)
        met = ""
        if r is not None and target:
            met = "yes" if r >= float(target[3:-1]) else "NO"
        print(f"| {label} | {fmt(p)} | {fmt(b)} | {unit} | "
              f"{'-' if r is None else f'{r:.2f}'} | {target} | {met} |")
        cell = lambda v: "-" if v is None else f"{v:.3f}"
        out.write(f"{key}\t{label}\t{target or '-'}\t{cell(p)}\t{cell(b)}\t"
                  f"{unit}\t{better}\n")
EOF
echo "(speed ratio: PostgreSQL over the local store, two nodes over one;"
echo " for times the baseline's over PostgreSQL's: above 1 = faster)"
echo "$(nproc) CPUs; load average before $LOAD_BEFORE, after $LOAD_AFTER; $SECONDS s"
python3 "$ROOT/bench/report_results.py" write \
  "${POSTHORN_BENCH_RESULTS:-$ROOT/var/bench/results}/pg_load.tsv" \
  --script pg_load --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" \
  --meta "postgresql=$PG_VERSION" --meta "sessions=$SESSIONS" \
  --meta "pg_connections=$PG_CONNECTIONS" --meta "reps=$REPS" \
  --meta "quick=${QUICK:-0}" --meta "seconds=$SECONDS" <"$WORK/rows.tsv"
if [ "$failures" -gt 0 ]; then
  echo "pg_load.sh: $failures measure(s) failed" >&2
  exit 1
fi
