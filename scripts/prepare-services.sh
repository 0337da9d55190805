#!/usr/bin/env bash
# Prepare the local PostgreSQL and MariaDB services for change-data-capture.
#
#   PostgreSQL: wal_level=logical, max_replication_slots>=20, max_wal_senders>=20
#               (ALTER SYSTEM + cluster restart).
#   MariaDB:    row-based binlog with full row image/metadata, via
#               /etc/mysql/mariadb.conf.d/90-sluice-cdc.cnf (+ server restart).
#   chromium:   Debian's chromium at /usr/bin/chromium, for the web console's end-to-end
#               tests (test tools cannot download their own browsers on these machines).
#
# Usage: prepare-services.sh [postgres] [mariadb] [chromium]   (no argument: all three)
#
# Idempotent: a second run finds everything in place and does nothing.
# Silent when there is nothing to do; prints one line per action to stderr.
# Expects to run as root (as on the dev machine and in CI).
set -euo pipefail

WAIT_SECONDS="${SLUICE_SERVICE_WAIT_SECONDS:-30}"

log() { echo "prepare-services: $*" >&2; }
die() { echo "prepare-services: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
PG_HOST=127.0.0.1
PG_CLUSTER=main
PG_MIN_SLOTS=20
PG_MIN_SENDERS=20

pg_psql() { psql -X -h "$PG_HOST" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atc "$1"; }

pg_version() {
  # Version directory from /etc/postgresql; prefer the cluster configured on
  # port 5432, otherwise the newest version that has a "main" cluster.
  local v fallback=""
  for v in $(ls /etc/postgresql 2>/dev/null | sort -V); do
    [[ -f "/etc/postgresql/$v/$PG_CLUSTER/postgresql.conf" ]] || continue
    fallback="$v"
    if grep -Eq '^[[:space:]]*port[[:space:]]*=[[:space:]]*5432\b' \
        "/etc/postgresql/$v/$PG_CLUSTER/postgresql.conf"; then
      echo "$v"; return 0
    fi
  done
  [[ -n "$fallback" ]] || return 1
  echo "$fallback"
}

pg_wait_ready() {
  local i
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    if pg_isready -q -h "$PG_HOST"; then return 0; fi
    sleep 1
  done
  die "PostgreSQL $1 did not become ready on $PG_HOST within ${WAIT_SECONDS}s (see /var/log/postgresql/postgresql-$1-$PG_CLUSTER.log)"
}

prepare_postgres() {
  local ver
  ver="$(pg_version)" || die "no PostgreSQL cluster found under /etc/postgresql"

  if ! pg_isready -q -h "$PG_HOST"; then
    if pg_ctlcluster --skip-systemctl-redirect "$ver" "$PG_CLUSTER" status >/dev/null 2>&1; then
      log "waiting for PostgreSQL $ver/$PG_CLUSTER to accept connections"
    else
      log "starting PostgreSQL $ver/$PG_CLUSTER"
      pg_ctlcluster --skip-systemctl-redirect "$ver" "$PG_CLUSTER" start
    fi
    pg_wait_ready "$ver"
  fi

  local wal_level slots senders restart=0
  wal_level="$(pg_psql 'show wal_level')"
  slots="$(pg_psql 'show max_replication_slots')"
  senders="$(pg_psql 'show max_wal_senders')"

  if [[ "$wal_level" != logical ]]; then
    log "PostgreSQL: ALTER SYSTEM SET wal_level = logical (was $wal_level)"
    pg_psql 'ALTER SYSTEM SET wal_level = logical' >/dev/null
    restart=1
  fi
  if ((slots < PG_MIN_SLOTS)); then
    log "PostgreSQL: ALTER SYSTEM SET max_replication_slots = $PG_MIN_SLOTS (was $slots)"
    pg_psql "ALTER SYSTEM SET max_replication_slots = $PG_MIN_SLOTS" >/dev/null
    restart=1
  fi
  if ((senders < PG_MIN_SENDERS)); then
    log "PostgreSQL: ALTER SYSTEM SET max_wal_senders = $PG_MIN_SENDERS (was $senders)"
    pg_psql "ALTER SYSTEM SET max_wal_senders = $PG_MIN_SENDERS" >/dev/null
    restart=1
  fi

  if ((restart)); then
    log "restarting PostgreSQL $ver/$PG_CLUSTER"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$PG_CLUSTER" restart
    pg_wait_ready "$ver"
    wal_level="$(pg_psql 'show wal_level')"
    [[ "$wal_level" == logical ]] || die "PostgreSQL wal_level is still '$wal_level' after restart"
  fi
}

# ---------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------
MARIADBD=/usr/sbin/mariadbd
MY_CNF=/etc/mysql/my.cnf
MY_CONF_DIR=/etc/mysql/mariadb.conf.d
CDC_CNF="$MY_CONF_DIR/90-sluice-cdc.cnf"

my_sql() { mariadb -h127.0.0.1 -uroot -N -B -e "$1"; }
my_ping() { mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1; }
my_running() { start-stop-daemon --status --exec "$MARIADBD"; }

my_start() {
  # /run is a tmpfs on a fresh boot; mariadbd needs its socket/pid directory.
  if [[ ! -d /run/mysqld ]]; then
    log "creating /run/mysqld"
    install -d -o mysql -g mysql -m 0755 /run/mysqld
  fi
  start-stop-daemon --start --oknodo --background --exec "$MARIADBD"
  local i
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    if my_ping; then return 0; fi
    sleep 1
  done
  die "MariaDB did not answer ping on 127.0.0.1:3306 within ${WAIT_SECONDS}s (see /var/log/mysql/error.log)"
}

my_stop() {
  mariadb-admin -h127.0.0.1 -uroot shutdown >/dev/null 2>&1 \
    || start-stop-daemon --stop --oknodo --exec "$MARIADBD" >/dev/null
  local i
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    if ! my_running; then return 0; fi
    sleep 1
  done
  die "MariaDB did not exit within ${WAIT_SECONDS}s after shutdown"
}

my_datadir() {
  local d
  d="$(my_sql 'SELECT @@datadir' 2>/dev/null || true)"
  if [[ -z "$d" ]]; then
    d="$("$MARIADBD" --print-defaults 2>/dev/null | tr ' ' '\n' | sed -n 's/^--datadir=//p' | tail -n1)"
  fi
  d="${d:-/var/lib/mysql}"
  echo "${d%/}"
}

prepare_mariadb() {
  if ! my_ping; then
    if my_running; then
      log "waiting for MariaDB to accept connections"
    else
      log "starting MariaDB"
    fi
    my_start
  fi

  local current
  current="$(my_sql 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata' | tr -s '[:space:]' ' ')"
  current="${current% }"
  [[ "$current" == "1 ROW FULL FULL" ]] && return 0

  local datadir want
  datadir="$(my_datadir)"
  want="# Managed by sluice scripts/prepare-services.sh: binlog settings for CDC.
[mariadbd]
server_id           = 1
log_bin             = $datadir/mariadb-bin
binlog_format       = ROW
binlog_row_image    = FULL
binlog_row_metadata = FULL
expire_logs_days    = 2
"

  if [[ ! -d "$MY_CONF_DIR" ]]; then
    log "creating $MY_CONF_DIR"
    install -d -m 0755 "$MY_CONF_DIR"
  fi
  if [[ ! -f "$CDC_CNF" ]] || [[ "$(cat "$CDC_CNF")"$'\n' != "$want" ]]; then
    log "writing $CDC_CNF"
    printf '%s' "$want" >"$CDC_CNF"
    chmod 0644 "$CDC_CNF"
  fi

  # Make sure the server actually reads the directory (the stock Debian my.cnf
  # does; a minimal my.cnf may not).
  if ! grep -Eq "^[[:space:]]*!includedir[[:space:]]+$MY_CONF_DIR/?[[:space:]]*$" "$MY_CNF" 2>/dev/null; then
    log "adding '!includedir $MY_CONF_DIR/' to $MY_CNF"
    printf '\n!includedir %s/\n' "$MY_CONF_DIR" >>"$MY_CNF"
  fi
  "$MARIADBD" --print-defaults 2>/dev/null | grep -q -- '--binlog_format=ROW' \
    || die "mariadbd does not pick up $CDC_CNF (check '$MARIADBD --print-defaults')"

  log "restarting MariaDB (binlog was: log_bin/format/row_image/row_metadata = $current)"
  my_stop
  my_start

  current="$(my_sql 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata' | tr -s '[:space:]' ' ')"
  current="${current% }"
  [[ "$current" == "1 ROW FULL FULL" ]] \
    || die "MariaDB binlog settings are '$current' after restart, expected '1 ROW FULL FULL'"
}

# ---------------------------------------------------------------------------
# Chromium (for test/console.e2e.test.ts, driven by playwright-core)
# ---------------------------------------------------------------------------
CHROMIUM=/usr/bin/chromium

prepare_chromium() {
  [[ -x "$CHROMIUM" ]] && return 0
  log "installing Debian's chromium (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; refresh them only if the install fails.
  apt-get install -y -q chromium >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
    || die "could not install chromium with apt-get"
  [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM is missing"
}

# Arguments name what to prepare (postgres, mariadb, chromium); none means all.
services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(postgres mariadb chromium)
for service in "${services[@]}"; do
  case "$service" in
    postgres) prepare_postgres ;;
    mariadb) prepare_mariadb ;;
    chromium) prepare_chromium ;;
    *) die "unknown service '$service' (expected postgres, mariadb or chromium)" ;;
  esac
done
