# scripts/lib/packages.sh — sourced by scripts/test and scripts/run.
# install_missing: installs the Debian packages posthorn needs to build and
# test, when they are missing (apt-get update first, as a new machine needs).
#
# PostgreSQL: the tests start their own private cluster in a temporary folder
# (tests/store/postgresql/pg_test_cluster.h, scripts/lib/pg_cluster.sh), so
# the system cluster "main" that Debian's postgresql package would create
# and start is not wanted: postgresql-common skips it when
# /etc/postgresql-common/createcluster.conf says create_main_cluster = false
# before the server package is configured (see preseed_postgresql).

packages=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev python3
  libabsl-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  libgmime-3.0-dev libmimetic-dev
  libasio-dev openssl curl swaks libnet-ssleay-perl libio-socket-ssl-perl
  liblmdb-dev lmdb-utils libcrypt-dev libc-ares-dev dnsmasq-base
  postgresql libpq-dev
)

# preseed_postgresql SUDO: before the first install of postgresql, tell
# postgresql-common not to create (and start) the system cluster "main".
# A createcluster.conf that sets create_main_cluster is the administrator's
# choice: left alone. One without the setting (postgresql-common is there
# already, e.g. with postgresql-client) gets it appended; a missing one is
# written with only that line. The package installs the file through ucf,
# which keeps a file changed locally (debconf default "keep_current";
# UCF_FORCE_CONFFOLD in install_missing makes it certain) and puts its own
# next to it as createcluster.conf.ucf-dist. Keys left out take
# pg_createcluster's defaults.
preseed_postgresql() {
  local sudo=$1 conf=/etc/postgresql-common/createcluster.conf
  if [ -e "$conf" ] &&
     grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=' "$conf"; then
    return 0
  fi
  echo "== $conf: create_main_cluster = false (no system cluster)"
  $sudo mkdir -p "${conf%/*}" || return 1
  printf '%s\n' \
    '# Added by posthorn scripts/lib/packages.sh before installing postgresql:' \
    '# the tests run private clusters; no system cluster "main" is wanted.' \
    'create_main_cluster = false' |
    $sudo tee -a "$conf" >/dev/null || return 1
  $sudo chmod 644 "$conf"
}

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  for p in "${missing[@]}"; do
    [ "$p" != postgresql ] || preseed_postgresql "$sudo" || return 1
  done
  $sudo apt-get update -q || return 1
  $sudo env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
    apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}
