# scripts/lib/packages.sh — sourced by scripts/test and scripts/run.
# install_missing: installs the Debian packages posthorn needs to build and
# test, when they are missing (apt-get update first, as a new machine needs).

packages=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev python3
  libabsl-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  libgmime-3.0-dev libmimetic-dev
  libasio-dev openssl curl swaks libnet-ssleay-perl libio-socket-ssl-perl
  liblmdb-dev lmdb-utils libcrypt-dev libc-ares-dev dnsmasq-base
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -q || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || return 1
}
