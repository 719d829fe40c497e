#!/usr/bin/env bash
# The servers the test suite uses, set up before it starts (`make test` and .ci/run):
#   OpenSSH (sshd and the sftp client; the SFTP tests start their own sshd on a loopback
#   port), openssl (envelope interoperability), Prometheus (Debian's prometheus package:
#   promtool checks deploy/prometheus/, and tests/deploy/ starts its own prometheus on a
#   loopback port), PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (started
#   here when installed but not running), libfaketime (the scale run's simulated clock),
#   Chromium and its driver (Debian's chromium and chromium-driver: the console's browser
#   tests drive them headless with Selenium; no browser is ever downloaded; fonts-noto-cjk
#   for its Chinese glyphs), npm (`make setup` packs ECharts from the npm registry).
# As root (CI, a fresh machine) what is missing is installed with apt-get; otherwise this
# says exactly what is missing and how to install it, and the suite skips those tests
# (with CI=true they fail instead: CI never passes by skipping).
#   SSHD=path        the sshd to look for (default /usr/sbin/sshd)
#   SERVERS_INSTALL=no  only report what is missing, never install
set -uo pipefail
SSHD="${SSHD:-/usr/sbin/sshd}"

need_apt=()
command -v make >/dev/null 2>&1 || need_apt+=(make)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
[ -x "$SSHD" ] || need_apt+=(openssh-server)
command -v sftp >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# Chinese glyphs for the browser (`make screenshots` of the console's Chinese pages).
fc-list :lang=zh 2>/dev/null | grep -q . || need_apt+=(fonts-noto-cjk)
fresh_pg=no
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  need_apt+=(postgresql)
  fresh_pg=yes
fi
command -v redis-server >/dev/null 2>&1 || redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || need_apt+=(redis-server)
# libfaketime: the one clock of every process of `svcard scale run` (tests/integration/test_scale_run.py)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need_apt+=(faketime libfaketime)

if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ] && [ "${SERVERS_INSTALL:-yes}" != no ] && command -v apt-get >/dev/null 2>&1; then
    echo "servers: installing ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "servers: missing ${need_apt[*]}; install them with: sudo apt-get install ${need_apt[*]}" >&2
    echo "servers: the tests that need them are skipped (with CI=true they fail)" >&2
  fi
fi

# PostgreSQL and Redis run before the session on this kind of machine; start them if they
# are installed but not running (the commands of the machine's own documentation).
if [ "$fresh_pg" = yes ] && [ "$(id -u)" = 0 ]; then
  # A PostgreSQL we just installed: let the tests' local user in over loopback, as the
  # machine's own server does (trust on 127.0.0.1 only; a test machine).
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] && sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  done
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 2>/dev/null ||
    echo "servers: PostgreSQL is installed but could not be started (pg_ctlcluster ... main start)" >&2
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 ||
    echo "servers: Redis is installed but could not be started (redis-server --daemonize yes)" >&2
fi

# One line per server, so a reader of the test log sees what the suite had.
state() { if eval "$2" >/dev/null 2>&1; then echo "servers: $1 ok"; else echo "servers: $1 MISSING" >&2; fi; }
state "OpenSSH server ($SSHD)" "test -x $SSHD"
state "OpenSSH sftp client" "command -v sftp"
state "openssl" "command -v openssl"
state "Prometheus (promtool, prometheus)" "command -v promtool && command -v prometheus"
state "Chromium and chromedriver (the console's browser tests)" "test -x /usr/bin/chromium && test -x /usr/bin/chromedriver"
state "npm (ECharts for the console, make setup)" "command -v npm"
state "PostgreSQL (127.0.0.1:5432)" "pg_isready -q -h 127.0.0.1 -p 5432"
state "Redis (127.0.0.1:6379)" "redis-cli -h 127.0.0.1 ping"
exit 0
