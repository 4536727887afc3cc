#!/usr/bin/env bash
# install_check.sh — `meson install` into a temporary DESTDIR and check the
# whole layout of docs/install.md:
#   - headers, libposthorn.a / .so, posthorn.pc; a program built against
#     them through pkg-config (shared), and the static library linked whole
#     with `pkg-config --static` (every dependency listed in the .pc);
#   - sendmail and popper in sbindir, popauth in bindir, the links mailq,
#     newaliases, hoststat, purgestat, mailstats, praliases -> sendmail;
#     mailq and newaliases run from their links (argv[0] dispatch);
#   - man pages, the sample posthorn.conf / posthorn.help / inetd.conf,
#     the systemd units with the installed sbindir in ExecStart.
#
# Usage: install_check.sh BUILD_DIR CONSUMER_CPP
# Environment (set by tests/install/meson.build): PREFIX, LIBDIR,
# INCLUDEDIR, BINDIR, SBINDIR, MANDIR, EXAMPLES_DIR, UNIT_DIR ("" when the
# units are not installed), SANITIZE. Relative directories are taken from
# PREFIX, as meson does.
set -euo pipefail
build=$1 consumer=$2

abs() { case $1 in /*) echo "$1" ;; *) echo "$PREFIX/$1" ;; esac; }
libdir=$(abs "$LIBDIR") includedir=$(abs "$INCLUDEDIR")
bindir=$(abs "$BINDIR") sbindir=$(abs "$SBINDIR") mandir=$(abs "$MANDIR")
examples=$(abs "$EXAMPLES_DIR")
unitdir=${UNIT_DIR:+$(abs "$UNIT_DIR")}

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null

failures=0
fail() { echo "install_check: $*" >&2; failures=$((failures + 1)); }
need_file() { [ -f "$dest$1" ] || fail "missing file $1"; }
need_exe() { [ -f "$dest$1" ] && [ -x "$dest$1" ] || fail "missing program $1"; }
need_line() {  # need_line FILE REGEX: a line of FILE matches REGEX
  grep -Eq -- "$2" "$dest$1" 2>/dev/null || fail "$1 has no line matching '$2'"
}

echo "installed into DESTDIR:"
(cd "$dest" && find . -mindepth 1 \( -type f -o -type l \) | sort | sed 's/^\./  /')

# --- the library ----------------------------------------------------------
need_file "$includedir/posthorn/message/header.h"
need_file "$includedir/posthorn/wire/line_reader.h"
need_file "$libdir/libposthorn.a"
ls "$dest$libdir"/libposthorn.so.* >/dev/null 2>&1 || fail "shared library not installed"
[ -L "$dest$libdir/libposthorn.so" ] || fail "libposthorn.so (development link) missing"
pc="$libdir/pkgconfig/posthorn.pc"
need_file "$pc"

# pkg-config with a sysroot: the .pc says prefix=$PREFIX, the files are in
# DESTDIR, so every -I / -L path gets DESTDIR in front.
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
extra=()
[ "$SANITIZE" != none ] && extra=(-fsanitize="$SANITIZE")
if flags=$(pkg-config --cflags --libs posthorn); then
  # shellcheck disable=SC2086  # word splitting of the flags is wanted
  if c++ -std=c++20 "${extra[@]}" "$consumer" -o "$dest/consumer" $flags; then
    out=$(LD_LIBRARY_PATH="$dest$libdir" "$dest/consumer") || fail "consumer failed"
    [ "${out:-}" = " installed" ] || fail "consumer printed '${out:-}'"
  else
    fail "consumer does not build against the shared library"
  fi
else
  fail "pkg-config cannot resolve posthorn"
fi
# Every object of libposthorn.a linked: an unresolved symbol means a
# dependency missing from Requires.private / Libs.private.
if static=$(pkg-config --static --cflags --libs posthorn); then
  static=${static//-lposthorn/}
  # shellcheck disable=SC2086
  c++ -std=c++20 "${extra[@]}" "$consumer" -o "$dest/consumer_static" \
      -Wl,--whole-archive "$dest$libdir/libposthorn.a" -Wl,--no-whole-archive \
      $static ||
    fail "libposthorn.a does not link with 'pkg-config --static --libs posthorn'"
else
  fail "pkg-config --static cannot resolve posthorn"
fi

# --- the programs ---------------------------------------------------------
need_exe "$sbindir/sendmail"
need_exe "$sbindir/popper"
need_exe "$bindir/popauth"
[ -e "$dest$sbindir/popauth" ] && [ "$sbindir" != "$bindir" ] &&
  fail "popauth is in sbindir too"
for name in mailq newaliases hoststat purgestat mailstats praliases; do
  link="$dest$sbindir/$name"
  if [ ! -L "$link" ]; then
    fail "$sbindir/$name is not a symlink"
  elif [ "$(readlink "$link")" != sendmail ]; then
    fail "$sbindir/$name points to '$(readlink "$link")', not 'sendmail'"
  elif [ "$(realpath "$link")" != "$(realpath "$dest$sbindir/sendmail")" ]; then
    fail "$sbindir/$name does not resolve to sendmail"
  fi
done

# A one-folder instance for the links to work on.
inst="$dest/instance"
mkdir -p "$inst/queue" "$inst/spool"
printf 'postmaster: root\n' >"$inst/aliases"
cat >"$inst/posthorn.conf" <<EOF
hostname = install-test.example
queue_dir = queue
spool_dir = spool
alias_file = aliases
auth_db = pop.auth
help_file = $dest$examples/posthorn.help
local_recipients = none
run_as =
EOF
if out=$("$dest$sbindir/mailq" -C "$inst/posthorn.conf" 2>&1); then
  [ "$out" = "Mail queue is empty" ] || fail "mailq printed '$out'"
else
  fail "mailq (the link) failed: $out"
fi
if out=$("$dest$sbindir/newaliases" -C "$inst/posthorn.conf" 2>&1); then
  ls "$inst"/aliases.* >/dev/null 2>&1 || fail "newaliases (the link) wrote no database: $out"
else
  fail "newaliases (the link) failed: $out"
fi
# The installed HELP text is what `sendmail -bs` answers HELP with. One
# command per reply: a client that talks before the greeting is refused.
out=$(python3 - "$dest$sbindir/sendmail" "$inst/posthorn.conf" <<'PY' 2>&1
import subprocess, sys
p = subprocess.Popen([sys.argv[1], "-C", sys.argv[2], "-bs"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def reply():
    lines = []
    while True:
        line = p.stdout.readline().decode()
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return "".join(lines)
out = reply()
for command in ("EHLO client.example", "HELP", "QUIT"):
    p.stdin.write(command.encode() + b"\r\n")
    p.stdin.flush()
    out += reply()
p.wait(timeout=10)
print(out, end="")
PY
) || true
grep -q "^214-2.0.0 This is posthorn's sendmail" <<<"$out" ||
  fail "HELP does not answer with the installed posthorn.help: $out"

# --- manual pages, sample files, units ------------------------------------
for page in man8/sendmail.8 man8/popper.8 man8/popauth.8 man5/posthorn.conf.5; do
  need_file "$mandir/$page"
done
need_file "$examples/posthorn.conf"
need_file "$examples/posthorn.help"
need_file "$examples/inetd.conf"
need_line "$examples/posthorn.conf" '^#queue_dir = /var/spool/mqueue$'
need_line "$examples/inetd.conf" "^pop3[[:space:]]+stream[[:space:]]+tcp[[:space:]]+nowait[[:space:]]+root[[:space:]]+$sbindir/popper[[:space:]]+popper -s$"
if [ -n "$unitdir" ]; then
  need_line "$unitdir/posthorn.service" "^ExecStart=$sbindir/sendmail -bd -q30m$"
  need_line "$unitdir/posthorn.service" '^Type=simple$'
  need_line "$unitdir/posthorn.service" '^Restart=on-failure$'
  need_line "$unitdir/popper@.service" "^ExecStart=$sbindir/popper -s$"
  need_line "$unitdir/popper@.service" '^StandardInput=socket$'
  need_line "$unitdir/popper@.service" '^StandardOutput=socket$'
  need_line "$unitdir/popper.socket" '^ListenStream=110$'
  need_line "$unitdir/popper.socket" '^Accept=yes$'
  grep -l '@[A-Z_]*@' "$dest$unitdir"/* "$dest$examples/inetd.conf" 2>/dev/null &&
    fail "a placeholder was not substituted"
  # systemd's own parser, when present: no unknown key or bad value. The
  # programs are not at their installed path here, so that one complaint
  # is expected.
  if command -v systemd-analyze >/dev/null; then
    complaints=$(cd "$dest$unitdir" && timeout 60 systemd-analyze verify --man=no \
                   posthorn.service popper.socket popper@.service 2>&1 |
                 grep -v 'is not executable: No such file or directory' || true)
    [ -z "$complaints" ] || fail "systemd-analyze verify: $complaints"
  fi
else
  [ -e "$dest$PREFIX/lib/systemd/system/posthorn.service" ] &&
    fail "units installed although systemd_unit_dir is 'no'"
fi

if [ "$failures" -ne 0 ]; then
  echo "install_check: $failures problem(s)" >&2
  exit 1
fi
echo "install layout, links, pkg-config (shared and static) OK"
