#!/usr/bin/env bash
# bench/pop3_load.sh — POP3 speed: posthorn's popper against Dovecot's
# POP3 server, same mailboxes, same client, same run.
#
# SYNOPSIS
#   bench/pop3_load.sh            (from anywhere; runs as root or with sudo)
#
# DESCRIPTION
#   1. Installs dovecot-core and dovecot-pop3d with apt-get when missing,
#      with a policy-rc.d that forbids starting services (so no system
#      Dovecot starts; the instance measured here runs from its own config).
#   2. Builds popper, popauth, bench/pop3_load (the load generator) and
#      bench/pop3_make_maildrop in release mode in build-bench
#      (meson setup --buildtype=release -Dbenchmarks=enabled).
#   3. In a temporary folder: generates the maildrops once (mbox, the same
#      bytes for both servers): "10k" = 10,000 text messages (~52 MB);
#      "1g" = 10,500 messages of realistic sizes, 1 GiB (15% with
#      attachments of 20 KiB-3 MiB); "s0".."s9" = 1,000 text messages each
#      for the sessions test. Every measure that needs a fresh maildrop
#      copies it again from these masters (DELE destroys them, Dovecot
#      writes its headers into an mbox it opened).
#   4. Starts popper (-C conf -l 127.0.0.1:0; plaintext_auth = yes,
#      pop3_failed_login_delay = 0, run_as empty, users created with
#      popauth) and Dovecot (dovecot -F -c conf: listen 127.0.0.1 on a
#      free port, POP3 only, passwd-file with plaintext passwords, static
#      userdb, mbox, ssl = no, base_dir and logs in the temporary folder;
#      login processes in Dovecot's high-performance mode: service_count = 0,
#      process_min_avail = 2). For the sessions test a second Dovecot with
#      the default (high-security: one login process per connection)
#      settings runs beside it.
#   5. Measures, alternating popper and Dovecot:
#      - login+STAT on 10k and 1g, cold (first session on a fresh copy,
#        no index: popper's .user.index and Dovecot's index folder removed)
#        and warm (median of the 3 sessions after it: index present),
#        logging in with USER/PASS and, separately, with APOP (popper
#        checks a PASS with one yescrypt hash, APOP with one MD5);
#      - RETR of every message in one pipelined session, 16 RETRs in
#        flight (MB/s, MB = 10^6 bytes, all bytes received counted);
#      - login+STAT+QUIT sessions per second, 10 clients for
#        SESSION_SECONDS, each client on its own maildrop (popper allows
#        one session per maildrop), USER/PASS and APOP separately; then
#        the same for every count in SESSION_CLIENTS (the sessions curve);
#      - DELE of every message, pipelined, then QUIT: time until the reply
#        to QUIT, i.e. until the maildrop is rewritten (fresh copy, opened
#        once before so the index exists).
#      Each figure is the median of REPS runs (sessions: one run).
#   6. Prints a table popper | Dovecot | popper/Dovecot | target, and the
#      load average before and after, and writes the figures to
#      pop3_load.tsv in the results folder (format of
#      bench/report_results.py; read by bench/report). Both servers are
#      stopped and the temporary folder removed on exit (trap EXIT).
#
#   Page cache: every file was just written, so "cold" means "no index",
#   not "not in memory" (dropping the caches would disturb the machine).
#   The test user of Dovecot's mail processes is nobody (65534) when run
#   as root, else the current user; popper runs as the current user.
#
# ENVIRONMENT
#   REPS             runs per figure (default 3)
#   SESSION_SECONDS  duration of one sessions run (default 10)
#   SESSION_CLIENTS  client counts of the sessions curve (default "1 50";
#                    10 is always measured; "" skips the curve)
#   SERVERS          "popper dovecot" (default), or one of them
#   BUILD            build folder (default build-bench)
#   KEEP_WORK=1      keep the temporary folder (for looking at the logs)
#   POSTHORN_BENCH_RESULTS  results folder (default var/bench/results)
#
# Loopback only. The script is a benchmark, never a test: it is not
# registered with meson and not run by scripts/test. About 5 minutes
# after the build on an idle machine, 14 with a load average of 17.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3}
SESSION_SECONDS=${SESSION_SECONDS:-10}
SERVERS=${SERVERS:-"popper dovecot"}
BUILD=${BUILD:-$ROOT/build-bench}
CLIENTS=10
SESSION_CLIENTS=${SESSION_CLIENTS-"1 50"}
# One maildrop per client: as many as the largest count needs.
MAX_CLIENTS=$CLIENTS
for n in $SESSION_CLIENTS; do
  [ "$n" -gt "$MAX_CLIENTS" ] && MAX_CLIENTS=$n
done
SECRET=bench-secret-1

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

has() { [[ " $SERVERS " == *" $1 "* ]]; }

# --- 1. Dovecot ---------------------------------------------------------------
DOVECOT=$(command -v dovecot || echo /usr/sbin/dovecot)
if has dovecot && { [ ! -x "$DOVECOT" ] || [ ! -x /usr/lib/dovecot/pop3 ]; }; then
  echo "== installing dovecot-core dovecot-pop3d (no service is started)"
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  install() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      dovecot-core dovecot-pop3d >/dev/null
  }
  install || { $sudo apt-get update -q >/dev/null && install; }
  [ -n "$made_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d
  DOVECOT=$(command -v dovecot || echo /usr/sbin/dovecot)
fi

# --- 2. the programs ------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" "$ROOT" --buildtype=release -Dbenchmarks=enabled \
    -Dtests=false -Dexamples=false >/dev/null
fi
targets=(bench/pop3_load bench/pop3_make_maildrop)
has popper && targets+=(tools/popper/popper tools/popauth/popauth)
if ! ninja -C "$BUILD" -j 2 "${targets[@]}" >"$BUILD/pop3_load-build.log" 2>&1; then
  tail -30 "$BUILD/pop3_load-build.log" >&2
  echo "pop3_load.sh: the build failed (log: $BUILD/pop3_load-build.log)" >&2
  exit 1
fi
POPPER=$BUILD/tools/popper/popper
POPAUTH=$BUILD/tools/popauth/popauth
LOAD=$BUILD/bench/pop3_load
MAKE_MAILDROP=$BUILD/bench/pop3_make_maildrop

# --- 3. the instance and the maildrops ----------------------------------------
WORK=$(mktemp -d /tmp/posthorn-pop3-load.XXXXXX)
chmod 755 "$WORK"  # Dovecot's unprivileged processes must get through
POPPER_PID=""
DOVECOT_PIDS=""
cleanup() {
  for pid in $POPPER_PID $DOVECOT_PIDS; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $POPPER_PID $DOVECOT_PIDS; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-}" = 1 ]; then
    echo "== kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

if [ "$(id -u)" -eq 0 ]; then
  MAIL_UID=65534
  MAIL_GID=65534
else
  MAIL_UID=$(id -u)
  MAIL_GID=$(id -g)
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(nproc) CPUs, load average $LOAD_BEFORE; work folder $WORK"

MASTER=$WORK/master
mkdir -p "$MASTER"
echo "== generating the maildrops"
"$MAKE_MAILDROP" --messages 10000 --profile text --seed 1 --out "$MASTER/10k"
"$MAKE_MAILDROP" --messages 10500 --profile mixed --total-bytes 1073741824 \
  --seed 2 --out "$MASTER/1g"
"$MAKE_MAILDROP" --messages 1000 --profile text --seed 3 --out "$MASTER/s"
USERS=("10k" "1g")
for i in $(seq 0 $((MAX_CLIENTS - 1))); do USERS+=("s$i"); done
master_of() { case $1 in s*) echo "$MASTER/s" ;; *) echo "$MASTER/$1" ;; esac; }

free_port() {
  python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # PORT PID NAME LOG
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "$3 did not start:" >&2
  tail -20 "$4" >&2
  exit 1
}

# popper: its own config, auth database and spool.
P=$WORK/popper
if has popper; then
  mkdir -p "$P/spool"
  cat >"$P/posthorn.conf" <<EOF
hostname = bench.example
spool_dir = spool
mailbox_format = mbox
auth_db = pop.auth
plaintext_auth = yes
pop3_failed_login_delay = 0
pop3_address_max_failures = 0
pop3_max_connections = 1000
run_as =
EOF
  "$POPAUTH" -C "$P/posthorn.conf" -init
  for u in "${USERS[@]}"; do
    printf '%s\n' "$SECRET" | "$POPAUTH" -C "$P/posthorn.conf" -user "$u"
  done
fi

# Dovecot: its own config, passwd-file, spool, index and home folders.
D=$WORK/dovecot
dovecot_conf() {  # NAME PORT TUNED
  local base=$D/run-$1
  mkdir -p "$base"
  {
    cat <<EOF
# Generated by bench/pop3_load.sh: a private POP3-only instance.
protocols = pop3
listen = 127.0.0.1
base_dir = $base
state_dir = $base/state
log_path = $D/$1.log
info_log_path = $D/$1.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain apop
first_valid_uid = $MAIL_UID
last_valid_uid = 0
mail_location = mbox:$D/home/%u/mail:INBOX=$D/spool/%u:INDEX=$D/index/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$D/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $2
  }
EOF
    if [ "$3" = tuned ]; then
      cat <<EOF
  service_count = 0
  process_min_avail = 2
}
service pop3 {
  service_count = 0
  process_min_avail = 2
}
service auth {
  client_limit = 2000
}
EOF
    else
      echo "}"
    fi
  } >"$D/$1.conf"
}
start_dovecot() {  # NAME PORT TUNED; sets LAST_DOVECOT_PID
  dovecot_conf "$1" "$2" "$3"
  "$DOVECOT" -F -c "$D/$1.conf" >>"$D/$1.out" 2>&1 &
  LAST_DOVECOT_PID=$!
  DOVECOT_PIDS="$DOVECOT_PIDS $LAST_DOVECOT_PID"
  wait_port "$2" "$LAST_DOVECOT_PID" "dovecot ($1)" "$D/$1.out"
}
if has dovecot; then
  mkdir -p "$D/spool" "$D/index" "$D/home"
  : >"$D/passwd"
  for u in "${USERS[@]}"; do
    echo "$u:{PLAIN}$SECRET::::::" >>"$D/passwd"
  done
  chmod 644 "$D/passwd"
  chown "$MAIL_UID:$MAIL_GID" "$D/spool" "$D/index" "$D/home"
fi

# restore SERVER USER: a fresh copy of the master, no index.
restore() {
  local master
  master=$(master_of "$2")
  if [ "$1" = popper ]; then
    rm -f "$P/spool/.$2.index"
    cp "$master" "$P/spool/$2.tmp"
    mv "$P/spool/$2.tmp" "$P/spool/$2"
  else
    rm -rf "$D/index/$2" "$D/home/$2"
    cp "$master" "$D/spool/$2.tmp"
    chown "$MAIL_UID:$MAIL_GID" "$D/spool/$2.tmp"
    mv "$D/spool/$2.tmp" "$D/spool/$2"
  fi
}

if has popper; then
  for u in "${USERS[@]}"; do restore popper "$u"; done
  "$POPPER" -C "$P/posthorn.conf" -l 127.0.0.1:0 >"$P/popper.out" \
    2>"$P/popper.err" &
  POPPER_PID=$!
  PORT_POPPER=""
  for _ in $(seq 300); do
    PORT_POPPER=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
                    "$P/popper.err" | head -1)
    [ -n "$PORT_POPPER" ] && break
    kill -0 "$POPPER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT_POPPER" ]; then
    echo "popper did not start:" >&2
    cat "$P/popper.err" >&2
    exit 1
  fi
  echo "== popper  on 127.0.0.1:$PORT_POPPER ($POPPER)"
fi
if has dovecot; then
  for u in "${USERS[@]}"; do restore dovecot "$u"; done
  PORT_DOVECOT=$(free_port)
  start_dovecot tuned "$PORT_DOVECOT" tuned
  echo "== dovecot on 127.0.0.1:$PORT_DOVECOT ($("$DOVECOT" --version | cut -d' ' -f1), high-performance login)"
fi

port_of() { if [ "$1" = popper ]; then echo "$PORT_POPPER"; else echo "$PORT_DOVECOT"; fi; }

# --- 4. the measures --------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }  # KEY SERVER VALUE
median() { sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }

# load SERVER SUBCOMMAND USER [ARGS...] -> the first field of its output
load() {
  local server=$1 cmd=$2 user=$3
  shift 3
  local out
  if ! out=$("$LOAD" "$cmd" --port "$(port_of "$server")" --user "$user" \
               --pass "$SECRET" "$@" 2>"$WORK/load.err"); then
    echo "pop3_load $cmd against $server failed: $(cat "$WORK/load.err")" >&2
    echo fail
    return
  fi
  echo "$out" >>"$WORK/load.log"
  echo "${out%% *}"
}

echo "== login+STAT, cold and warm, USER/PASS and APOP ($REPS runs each)"
for drop in 10k 1g; do
  for server in $SERVERS; do
    for method in pass apop; do
      auth=()
      [ "$method" = apop ] && auth=(--apop "$SECRET")
      : >"$WORK/cold"; : >"$WORK/warm"
      for _ in $(seq "$REPS"); do
        restore "$server" "$drop"
        load "$server" stat "$drop" "${auth[@]}" >>"$WORK/cold"
        tail -1 "$WORK/load.log" | sed "s/^/   $server $drop $method cold: /"
        for _ in 1 2 3; do
          load "$server" stat "$drop" "${auth[@]}" >>"$WORK/warm"
        done
        tail -1 "$WORK/load.log" | sed "s/^/   $server $drop $method warm: /"
      done
      record "stat_cold_${method}_$drop" "$server" "$(median <"$WORK/cold")"
      record "stat_warm_${method}_$drop" "$server" "$(median <"$WORK/warm")"
    done
  done
done

echo "== RETR of every message, pipelined ($REPS runs each)"
for drop in 10k 1g; do
  for server in $SERVERS; do
    : >"$WORK/retr"
    for _ in $(seq "$REPS"); do load "$server" retr-all "$drop" >>"$WORK/retr"; done
    record "retr_$drop" "$server" "$(median <"$WORK/retr")"
    tail -1 "$WORK/load.log" | sed "s/^/   $server $drop: /"
  done
done

echo "== login+STAT+QUIT sessions, $CLIENTS clients, ${SESSION_SECONDS}s per run"
for server in $SERVERS; do
  for u in "${USERS[@]:2}"; do load "$server" stat "$u" >/dev/null; done  # index
  record sessions_pass "$server" "$(load "$server" sessions 's%d' \
    --clients "$CLIENTS" --seconds "$SESSION_SECONDS")"
  tail -1 "$WORK/load.log" | sed "s/^/   $server USER\/PASS: /"
  record sessions_apop "$server" "$(load "$server" sessions 's%d' \
    --apop "$SECRET" --clients "$CLIENTS" --seconds "$SESSION_SECONDS")"
  tail -1 "$WORK/load.log" | sed "s/^/   $server APOP: /"
done
# The sessions curve: the same measure with other client counts (the
# maildrops s0.. already have their index from above).
for n in $SESSION_CLIENTS; do
  for server in $SERVERS; do
    record "sessions_pass_c$n" "$server" "$(load "$server" sessions 's%d' \
      --clients "$n" --seconds "$SESSION_SECONDS")"
    tail -1 "$WORK/load.log" | sed "s/^/   $server $n clients USER\/PASS: /"
    record "sessions_apop_c$n" "$server" "$(load "$server" sessions 's%d' \
      --apop "$SECRET" --clients "$n" --seconds "$SESSION_SECONDS")"
    tail -1 "$WORK/load.log" | sed "s/^/   $server $n clients APOP: /"
  done
done
if has dovecot; then
  PORT_TUNED=$PORT_DOVECOT
  PORT_DOVECOT=$(free_port)
  start_dovecot default "$PORT_DOVECOT" default
  record sessions_pass_default dovecot "$(load dovecot sessions 's%d' \
    --clients "$CLIENTS" --seconds "$SESSION_SECONDS")"
  tail -1 "$WORK/load.log" | sed "s/^/   dovecot (default login settings) USER\/PASS: /"
  kill -TERM "$LAST_DOVECOT_PID" 2>/dev/null || true
  PORT_DOVECOT=$PORT_TUNED
fi

echo "== DELE all + QUIT ($REPS runs each)"
for drop in 10k 1g; do
  for server in $SERVERS; do
    : >"$WORK/dele"
    for _ in $(seq "$REPS"); do
      restore "$server" "$drop"
      load "$server" stat "$drop" >/dev/null  # the index exists, as in use
      load "$server" dele-all "$drop" >>"$WORK/dele"
    done
    record "dele_$drop" "$server" "$(median <"$WORK/dele")"
    tail -1 "$WORK/load.log" | sed "s/^/   $server $drop: /"
  done
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== measured in $SECONDS s"

# --- 5. the table --------------------------------------------------------------
echo
echo "POP3: popper vs Dovecot $("$DOVECOT" --version 2>/dev/null | cut -d' ' -f1)" \
  "($(nproc) CPUs; load average before $LOAD_BEFORE, after $LOAD_AFTER)"
python3 - "$RESULTS" "$WORK/rows.tsv" <<'EOF'
import sys
values = {}
for line in open(sys.argv[1]):
    key, server, value = line.rstrip("\n").split("\t")
    values[(key, server)] = value
rows = [
    # key, label, unit, better ("low"/"high"), target text
    ("stat_cold_pass_10k", "login+STAT 10k msgs, no index", "ms", "low", ""),
    ("stat_warm_pass_10k", "login+STAT 10k msgs, index", "ms", "low", ""),
    ("stat_cold_pass_1g", "login+STAT 1 GiB, no index", "ms", "low",
     "< 1000 ms"),
    ("stat_warm_pass_1g", "login+STAT 1 GiB, index", "ms", "low", "< 20 ms"),
    ("stat_cold_apop_10k", "APOP+STAT 10k msgs, no index", "ms", "low", ""),
    ("stat_warm_apop_10k", "APOP+STAT 10k msgs, index", "ms", "low", ""),
    ("stat_cold_apop_1g", "APOP+STAT 1 GiB, no index", "ms", "low",
     "< 1000 ms"),
    ("stat_warm_apop_1g", "APOP+STAT 1 GiB, index", "ms", "low", "< 20 ms"),
    ("retr_10k", "RETR all, 10k msgs", "MB/s", "high", ">= 2x"),
    ("retr_1g", "RETR all, 1 GiB", "MB/s", "high", ">= 2x"),
    ("sessions_pass", "sessions/s, 10 clients, USER/PASS", "/s", "high",
     ">= 1000/s"),
    ("sessions_apop", "sessions/s, 10 clients, APOP", "/s", "high", ">= 1000/s"),
] + [
    (f"sessions_{m}_c{n}",
     f"sessions/s, {n} client{'s' if n != 1 else ''}, {label}", "/s",
     "high", "")
    for n in sorted({int(k.rsplit("_c", 1)[1]) for k, _ in values
                     if k.startswith("sessions_") and "_c" in k})
    for m, label in (("pass", "USER/PASS"), ("apop", "APOP"))
] + [
    ("sessions_pass_default", "  Dovecot default login settings", "/s",
     "high", ""),
    ("dele_10k", "DELE all + QUIT, 10k msgs", "ms", "low", "<= 1x"),
    ("dele_1g", "DELE all + QUIT, 1 GiB", "ms", "low", "<= 1x"),
]
def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
def met(key, target, p, d):
    if p is None or not target:
        return ""
    if target.startswith("<") and target.endswith("ms"):
        return "yes" if p < float(target.split()[1]) else "NO"
    if target.startswith(">=") and target.endswith("/s"):
        return "yes" if p >= float(target[2:-2]) else "NO"
    if d is None:
        return ""
    if target == ">= 2x":
        return "yes" if p >= 2 * d else "NO"
    if target == "<= 1x":
        return "yes" if p <= d else "NO"
    return ""
print(f"| {'measure':38} | {'unit':4} | {'popper':>9} | {'Dovecot':>9} | "
      f"{'popper/Dovecot':>14} | {'target':9} | met |")
print(f"|{'-' * 40}|{'-' * 6}|{'-' * 11}|{'-' * 11}|{'-' * 16}|{'-' * 11}|-----|")
for key, label, unit, better, target in rows:
    p = num(values.get((key, "popper")))
    d = num(values.get((key, "dovecot")))
    if p is None and d is None:
        continue
    ratio = f"{p / d:.2f}" if p is not None and d else "-"
    fmt = lambda v: "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")
    print(f"| {label:38} | {unit:4} | {fmt(p):>9} | {fmt(d):>9} | "
          f"{ratio:>14} | {target:9} | {met(key, target, p, d):3} |")
# The same figures for bench/report (bench/report_results.py's format).
with open(sys.argv[2], "w") as out:
    out.write("measure\tlabel\ttarget\tposthorn\tdovecot\tunit\tbetter\n")
    for key, label, unit, better, target in rows:
        p = num(values.get((key, "popper")))
        d = num(values.get((key, "dovecot")))
        if p is None and d is None:
            continue
        cell = lambda v: "-" if v is None else f"{v:.3f}"
        out.write(f"{key}\t{label.strip()}\t{target or '-'}\t{cell(p)}\t"
                  f"{cell(d)}\t{unit}\t{better}\n")
EOF
python3 "$ROOT/bench/report_results.py" write \
  "${POSTHORN_BENCH_RESULTS:-$ROOT/var/bench/results}/pop3_load.tsv" \
  --script pop3_load --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" \
  --meta "dovecot=$("$DOVECOT" --version 2>/dev/null | cut -d' ' -f1)" \
  --meta "reps=$REPS" --meta "session_seconds=$SESSION_SECONDS" \
  --meta "clients=$CLIENTS" --meta "seconds=$SECONDS" <"$WORK/rows.tsv"
