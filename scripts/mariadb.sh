#!/usr/bin/env bash
# A private MariaDB server for the local stack: data, socket, pid file and
# error log in .local/mariadb (git-ignored; $GINTOKI_LOCAL_DIR/mariadb when
# set), listening on 127.0.0.1 only, port $GINTOKI_DB_PORT (default 3307),
# binlog on in ROW format with full row images and metadata, as the relay
# needs. It never touches a system server.
#
# Usage: scripts/mariadb.sh start|stop|status
#
#   start   start the server and wait until it answers. The first start
#           creates the data directory, database "inventory" with
#           schema/schema.sql, and demo data: 8 warehouses and 100,000
#           products ($GINTOKI_DEMO_PRODUCTS) each stocked in 1 to 5 of
#           them. Later starts reuse the data. Starting a running server does nothing.
#   stop    stop the server (SIGTERM) and wait until it has exited.
#   status  say whether the server runs; exit 0 if it does, 3 if not.
#
# Connect with: mariadb -h127.0.0.1 -P3307 -uroot inventory
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir="${GINTOKI_LOCAL_DIR:-.local}"
[[ "$local_dir" == /* ]] || local_dir="$root/$local_dir"
dir="$local_dir/mariadb"
port="${GINTOKI_DB_PORT:-3307}"
sock="$dir/mariadb.sock"
pidfile="$dir/mariadb.pid"
errlog="$dir/mariadb.err"
seeded="$dir/gintoki-seeded" # written once schema and demo data are in
products="${GINTOKI_DEMO_PRODUCTS:-100000}"
[[ "$products" =~ ^[1-9][0-9]*$ ]] || { echo "mariadb: GINTOKI_DEMO_PRODUCTS must be a positive number" >&2; exit 2; }
export PATH="$PATH:/usr/sbin:/sbin" # mariadbd lives in /usr/sbin

log() { echo "mariadb: $*"; }
die() {
  echo "mariadb: $*" >&2
  exit 1
}

# alive PID: whether PID is a process that has not exited (a zombie has).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# server_pid: the pid of our running server, or nothing.
server_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == mariadbd ]]; then
    echo "$pid"
  fi
}

client() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }

ping() { mariadb-admin --no-defaults --socket="$sock" -uroot --connect-timeout=1 ping >/dev/null 2>&1; }

# The demo data, deterministic: the warehouses of a product, their number
# (1 to 5) and quantities derive from CRC32 of the product id, and the
# warehouses are distinct because the stride is odd and there are 8.
readonly seed_sql="
INSERT IGNORE INTO warehouse (id, code, is_active) VALUES
  (1, 'WH-AMS', 1), (2, 'WH-BER', 1), (3, 'WH-CDG', 1), (4, 'WH-MAD', 1),
  (5, 'WH-MIL', 1), (6, 'WH-WAW', 1), (7, 'WH-VIE', 0), (8, 'WH-CPH', 1);
INSERT IGNORE INTO warehouse_stock_item (product_id, warehouse_id, qty_salable)
SELECT p.seq,
       (CRC32(CONCAT('w', p.seq)) + n.seq * (1 + 2 * (p.seq % 4))) % 8 + 1,
       CRC32(CONCAT('q', p.seq, ':', n.seq)) % 1000
FROM seq_1_to_${products} AS p
JOIN seq_0_to_4 AS n ON n.seq < 1 + CRC32(CONCAT('n', p.seq)) % 5;
"

start() {
  local pid
  pid=$(server_pid)
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid, port $port)"
    return 0
  fi
  command -v mariadbd >/dev/null || die "mariadbd not found: run scripts/deps.sh"
  mkdir -p "$dir"
  if [[ ! -d "$dir/mysql" ]]; then
    log "creating $dir"
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed, see $dir/install.log"
  fi
  rm -f "$pidfile"
  # setsid: the server gets its own session, so a Ctrl-C meant for the
  # caller does not reach it; it stops when told to (stop).
  setsid mariadbd --no-defaults --user="$(id -un)" --datadir="$dir" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$pidfile" --log-error="$errlog" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --server-id=1 </dev/null >>"$dir/mariadbd.out" 2>&1 &
  pid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if ping; then
      break
    fi
    if ! alive "$pid"; then
      tail -n 20 "$errlog" >&2 || true
      die "mariadbd exited during start (port $port in use?), see $errlog"
    fi
    sleep 0.1
  done
  ping || die "mariadbd not ready after 30s, see $errlog"
  log "running (pid $pid) on 127.0.0.1:$port, socket $sock"

  if [[ ! -e "$seeded" ]]; then
    log "creating database inventory with demo data"
    local t0=$SECONDS
    client -e "DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;
      CREATE DATABASE IF NOT EXISTS inventory;" || die "setup failed"
    client inventory <"$root/schema/schema.sql" || die "schema failed"
    client inventory -e "$seed_sql" || die "seeding failed"
    touch "$seeded"
    log "seeded: $(client -N inventory -e "SELECT CONCAT((SELECT COUNT(*) FROM warehouse), ' warehouses, ',
      COUNT(DISTINCT product_id), ' products, ', COUNT(*), ' stock rows') FROM warehouse_stock_item") in $((SECONDS - t0))s"
  fi
}

stop() {
  local pid i
  pid=$(server_pid)
  if [[ -z "$pid" ]]; then
    log "not running"
    return 0
  fi
  log "stopping (pid $pid)"
  kill -TERM "$pid"
  for ((i = 0; i < 600; i++)); do
    if ! alive "$pid"; then
      log "stopped"
      return 0
    fi
    sleep 0.1
  done
  die "mariadbd (pid $pid) still running after 60s"
}

status() {
  local pid
  pid=$(server_pid)
  if [[ -z "$pid" ]]; then
    log "not running"
    return 3
  fi
  if ping; then
    log "running (pid $pid) on 127.0.0.1:$port, socket $sock"
  else
    log "starting or stopping (pid $pid), not answering yet"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: scripts/mariadb.sh start|stop|status" >&2
    exit 2
    ;;
esac
