# bench/lib/postfix_tools.sh — sourced by the load scripts that drive an
# MTA with Postfix's smtp-source (bench/mta_load.sh, bench/pg_load.sh).
#
# ensure_postfix_tools: installs Debian's postfix package when postfix or
# smtp-source is missing, preseeded to "No configuration" (debconf), so no
# system MTA is set up or started; the scripts start their own instances
# on loopback. Needs root (apt-get); runs apt-get update only when the
# first install fails.
ensure_postfix_tools() {
  if [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/smtp-source ]; then
    return 0
  fi
  echo "== installing postfix (\"No configuration\": no system MTA is started)"
  echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
  _install_postfix() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends postfix >/dev/null
  }
  _install_postfix || { apt-get update -q >/dev/null && _install_postfix; }
}
