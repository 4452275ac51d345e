#!/usr/bin/env bash
# Runs the benchmark report (what `make bench` runs, after `make build`):
# installs wrk if missing, makes sure the local stack's dependencies run —
# MariaDB with the demo data (scripts/mariadb.sh), the dev broker and the
# relay, each started only if it is not already up — then runs
# bin/gintoki-bench, which starts its own `gintoki serve` processes and
# baselines, prints the Markdown report and writes docs/benchmarks.md.
# Whatever this script started is stopped on exit (also on Ctrl-C).
#
# Usage: scripts/bench.sh [gintoki-bench flags]     (see bin/gintoki-bench --help)
#
# Environment: GINTOKI_BENCH_QUICK=1 makes a smoke run (a few seconds per
# phase, ~2 minutes instead of ~10); GINTOKI_BENCH_REPORT moves the report
# (empty: stdout only); any GINTOKI_BENCH_* variable sets the flag of the
# same name. GINTOKI_DB_PORT (default 3307) moves MariaDB, as for run.sh;
# GINTOKI_STOP_TIMEOUT (seconds, default 30) bounds each part's shutdown.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
gintoki=${GINTOKI_BIN:-bin/gintoki}
devbroker=${GINTOKI_DEVBROKER_BIN:-bin/gintoki-devbroker}
benchbin=${GINTOKI_BENCH_BIN:-bin/gintoki-bench}
stop_timeout=${GINTOKI_STOP_TIMEOUT:-30}
db_port=${GINTOKI_DB_PORT:-3307}
broker_port=9092
logs=.local/logs

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: $*" >&2
  exit 1
}

# shellcheck source=scripts/stack.sh
source scripts/stack.sh

# What this script started.
relay_pid='' broker_pid='' db_started=0


# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  local status=$?
  trap '' INT TERM HUP
  stop_stack || status=1
  exit "$status"
}
on_exit cleanup


for bin in "$gintoki" "$devbroker" "$benchbin"; do
  [[ -x "$bin" ]] || die "$bin not found: run make build"
done
db_dsn="root@tcp(127.0.0.1:$db_port)/inventory"
export GINTOKI_BENCH_DB_DSN="${GINTOKI_BENCH_DB_DSN:-$db_dsn}"

scripts/deps.sh --bench >&2

use_or_start_db
mkdir -p "$logs" .local/relay
use_or_start_broker "$devbroker"

# A relay has no port to probe; one started by run.sh (or by this script
# in another terminal) shows as "gintoki relay" in the process list. Two
# relays would compete for the same replica id, so reuse a running one.
# gintoki-bench checks that changes do flow before it measures freshness.
if pgrep -f '(^|/)gintoki relay( |$)' >/dev/null; then
  say "a relay is already running; using it"
else
  start relay "$logs/relay.log" "$gintoki" relay --db-addr "127.0.0.1:$db_port" --checkpoint-file .local/relay/checkpoint.json
  relay_pid=$started
  sleep 1
  alive "$relay_pid" || die "relay exited during start, see $logs/relay.log"
fi

# The command line shown in the report.
shown="scripts/bench.sh${*:+ $*}"
if [[ -n "${MAKELEVEL:-}" && $# -eq 0 ]]; then
  shown="make bench"
fi
if [[ -n "${GINTOKI_BENCH_QUICK:-}" ]]; then
  shown="GINTOKI_BENCH_QUICK=$GINTOKI_BENCH_QUICK $shown"
fi

say "running $benchbin (progress on stderr, report on stdout)"
"$benchbin" run --command "$shown" "$@"
