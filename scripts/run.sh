#!/usr/bin/env bash
# Runs the whole local stack (what `make run` runs, after `make build`):
# MariaDB with demo data, the dev broker, the relay (binlog → broker), and
# the service in the foreground. Ctrl-C (or SIGTERM) stops everything it
# started, in reverse order, and waits for each part to exit. Data is kept
# in .local/ (git-ignored), so a second run reuses it; logs of the
# background parts go to .local/logs/.
#
# Environment: GINTOKI_DB_PORT (default 3307) moves MariaDB,
# GINTOKI_BROKER_PORT (default 9092) the broker, GINTOKI_RELAY_METRICS_ADDR
# (default 127.0.0.1:9091) the relay's metrics endpoint, and
# GINTOKI_HTTP_ADDR / GINTOKI_GRPC_ADDR (defaults :8080 / :9090) the
# service; GINTOKI_LOCAL_DIR (default .local) holds data, checkpoint and
# logs. GINTOKI_BIN and GINTOKI_DEVBROKER_BIN replace bin/gintoki and
# bin/gintoki-devbroker; GINTOKI_STOP_TIMEOUT (seconds, default 30) bounds
# each part's shutdown before it is killed. Other GINTOKI_* variables reach
# the binaries.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
gintoki=${GINTOKI_BIN:-bin/gintoki}
devbroker=${GINTOKI_DEVBROKER_BIN:-bin/gintoki-devbroker}
stop_timeout=${GINTOKI_STOP_TIMEOUT:-30}
db_port=${GINTOKI_DB_PORT:-3307}
broker_port=${GINTOKI_BROKER_PORT:-9092}
relay_metrics=${GINTOKI_RELAY_METRICS_ADDR:-127.0.0.1:9091}
http_port=${GINTOKI_HTTP_ADDR:-:8080}
http_port=${http_port##*:}
grpc_port=${GINTOKI_GRPC_ADDR:-:9090}
grpc_port=${grpc_port##*:}
local_dir=${GINTOKI_LOCAL_DIR:-.local}
export GINTOKI_LOCAL_DIR=$local_dir # for scripts/mariadb.sh
logs=$local_dir/logs

say() { echo "run: $*"; }
die() {
  echo "run: $*" >&2
  exit 1
}

# shellcheck source=scripts/stack.sh
source scripts/stack.sh

# Pids of what this script started, and whether it started MariaDB.
serve_pid='' relay_pid='' broker_pid='' db_started=0


# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  local status=$?
  trap '' INT TERM HUP # finish stopping everything even if asked again
  if [[ -z "$serve_pid$relay_pid$broker_pid" ]] && ((!db_started)); then
    exit "$status"
  fi
  stop_child "$serve_pid" service
  stop_child "$relay_pid" relay
  stop_child "$broker_pid" broker
  if ((db_started)); then
    scripts/mariadb.sh stop || status=1
  fi
  say "stopped everything"
  exit "$status"
}
on_exit cleanup


for bin in "$gintoki" "$devbroker"; do
  [[ -x "$bin" ]] || die "$bin not found: run make build"
done
if [[ "$db_port" != 3307 ]]; then # the binaries' defaults say 3307
  export GINTOKI_DB_DSN="${GINTOKI_DB_DSN:-root@tcp(127.0.0.1:$db_port)/inventory}"
  export GINTOKI_DB_ADDR="${GINTOKI_DB_ADDR:-127.0.0.1:$db_port}"
fi
if [[ "$broker_port" != 9092 ]]; then
  export GINTOKI_BROKERS="${GINTOKI_BROKERS:-127.0.0.1:$broker_port}"
fi

scripts/deps.sh

if scripts/mariadb.sh status >/dev/null; then
  say "MariaDB already running on port $db_port; leaving it running"
else
  db_started=1
  scripts/mariadb.sh start
fi

if port_open "$broker_port"; then
  die "127.0.0.1:$broker_port is already in use (another broker?)"
fi
mkdir -p "$logs" "$local_dir/relay"
start_broker "$devbroker"
broker_pid=$started

start relay "$logs/relay.log" "$gintoki" relay --checkpoint-file "$local_dir/relay/checkpoint.json" --metrics-addr "$relay_metrics"
relay_pid=$started

cat <<EOF

Gintoki local stack
  MariaDB   mariadb -h127.0.0.1 -P$db_port -uroot inventory     (data in $local_dir/mariadb)
  Broker    127.0.0.1:$broker_port                  (data in $local_dir/broker, log $logs/devbroker.log)
  Relay     log $logs/relay.log, checkpoint $local_dir/relay/checkpoint.json
            http://$relay_metrics/metrics  http://$relay_metrics/readyz
  HTTP      http://localhost:$http_port/v1/products/1/inventory
            http://localhost:$http_port/metrics  http://localhost:$http_port/readyz
  gRPC      localhost:$grpc_port
Ctrl-C stops everything.

EOF

start service - "$gintoki" serve
serve_pid=$started

# Run until the service exits, or the relay or the broker dies (the stack
# would be silently stale without them), or a signal arrives (the traps).
status=0
wait -n -p exited "$serve_pid" "$relay_pid" "$broker_pid" || status=$?
case "${exited:-}" in
  "$serve_pid")
    serve_pid=''
    say "service exited (status $status)"
    ;;
  "$relay_pid")
    relay_pid=''
    say "relay exited (status $status), see $logs/relay.log"
    status=$((status ? status : 1))
    ;;
  "$broker_pid")
    broker_pid=''
    say "broker exited (status $status), see $logs/devbroker.log"
    status=$((status ? status : 1))
    ;;
esac
exit "$status"
