#!/usr/bin/env bash
# Runs the whole local stack (what `make run` runs, after `make build`):
# MariaDB with demo data, the dev broker, the relay (binlog → broker), and
# the service in the foreground. Ctrl-C (or SIGTERM) stops everything it
# started, in reverse order, and waits for each part to exit. Data is kept
# in .local/ (git-ignored), so a second run reuses it; logs of the
# background parts go to .local/logs/.
#
# Environment: GINTOKI_DB_PORT (default 3307) moves MariaDB; GINTOKI_BIN
# and GINTOKI_DEVBROKER_BIN replace bin/gintoki and bin/gintoki-devbroker;
# GINTOKI_STOP_TIMEOUT (seconds, default 30) bounds each part's shutdown
# before it is killed. Other GINTOKI_* variables reach the binaries.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
gintoki=${GINTOKI_BIN:-bin/gintoki}
devbroker=${GINTOKI_DEVBROKER_BIN:-bin/gintoki-devbroker}
stop_timeout=${GINTOKI_STOP_TIMEOUT:-30}
db_port=${GINTOKI_DB_PORT:-3307}
broker_port=9092
logs=.local/logs

say() { echo "run: $*"; }
die() {
  echo "run: $*" >&2
  exit 1
}

# alive PID: whether PID has not exited. A child that exited stays a zombie
# until waited for, and kill -0 would still find it.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pids of what this script started, and whether it started MariaDB.
serve_pid='' relay_pid='' broker_pid='' db_started=0

# stop_child PID NAME: SIGTERM, wait up to stop_timeout, then SIGKILL.
# shellcheck disable=SC2317 # called from the EXIT trap
stop_child() {
  local pid=$1 name=$2 i
  [[ -n "$pid" ]] || return 0
  if alive "$pid"; then
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < stop_timeout * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      say "$name did not stop within ${stop_timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# start NAME LOG CMD...: start CMD in the background in a session of its
# own, so that a Ctrl-C reaches only this script, which then stops the
# parts in order. LOG "-" keeps the output on the terminal. Sets $started.
start() {
  local name=$1 log=$2
  shift 2
  if [[ "$log" == - ]]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" </dev/null >>"$log" 2>&1 &
  fi
  started=$!
  say "started $name (pid $started)"
}

for bin in "$gintoki" "$devbroker"; do
  [[ -x "$bin" ]] || die "$bin not found: run make build"
done
if [[ "$db_port" != 3307 ]]; then # the binaries' defaults say 3307
  export GINTOKI_DB_DSN="${GINTOKI_DB_DSN:-root@tcp(127.0.0.1:$db_port)/inventory}"
  export GINTOKI_DB_ADDR="${GINTOKI_DB_ADDR:-127.0.0.1:$db_port}"
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
mkdir -p "$logs" .local/relay
start broker "$logs/devbroker.log" "$devbroker" --data-dir .local/broker
broker_pid=$started
for ((i = 0; ; i++)); do
  port_open "$broker_port" && break
  alive "$broker_pid" || die "broker exited during start, see $logs/devbroker.log"
  ((i < 100)) || die "broker not listening on 127.0.0.1:$broker_port after 10s, see $logs/devbroker.log"
  sleep 0.1
done

start relay "$logs/relay.log" "$gintoki" relay --checkpoint-file .local/relay/checkpoint.json
relay_pid=$started

cat <<EOF

Gintoki local stack
  MariaDB   mariadb -h127.0.0.1 -P$db_port -uroot inventory     (data in .local/mariadb)
  Broker    127.0.0.1:$broker_port                  (data in .local/broker, log $logs/devbroker.log)
  Relay     log $logs/relay.log, checkpoint .local/relay/checkpoint.json
  HTTP      http://localhost:8080/v1/products/1/inventory
            http://localhost:8080/metrics  http://localhost:8080/readyz
  gRPC      localhost:9090
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
