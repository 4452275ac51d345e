#!/usr/bin/env bash
# A rolling restart behind an L4 proxy, under load (what `make fleet` runs,
# after `make build`; see docs/fleet.md). It installs HAProxy if missing,
# makes sure its stack runs — a private MariaDB with binlog
# (scripts/mariadb.sh), the dev broker, a database of 1,000,000 products
# (`gintoki-bench seed`, the benchmark's memory database) and a relay of
# that database — each started only if it is not already up, then:
#
#   - starts 3 `gintoki serve` nodes and HAProxy in TCP mode in front of
#     them, health-checking each node's /readyz;
#   - drives an open-loop load of random ids through HAProxy
#     (`gintoki-bench fleet-load`);
#   - restarts each node in turn with SIGTERM: drained, stopped, started
#     cold, warmed, ready and back in the proxy before the next; two
#     UPDATEs are made meanwhile;
#   - reports failed requests, p99 and the database's query rate in the
#     restart windows against the steady state, and whether both UPDATEs
#     are visible on every node. It exits non-zero if a target is missed.
#
# Everything it started is stopped on exit (also on Ctrl-C), by pid.
#
# Environment (defaults in brackets): FLEET_RATE [1000] requests/s and
# FLEET_CONNS [64] connections of the load; FLEET_PRODUCTS [1000000];
# FLEET_DRAIN_DELAY [2s] the nodes' --drain-delay; FLEET_STEADY [20]
# seconds of steady state before the restarts, FLEET_SETTLE [5] seconds
# after each node is back, FLEET_TAIL [15] seconds of steady state after
# the last; FLEET_WARM [all] the nodes' --warm, when the binary has it;
# FLEET_REPORT [.local/fleet/report.md] the report file (appended to);
# FLEET_WARM_RATE [20000] the nodes' --warm-rate, products per second (0:
# no bound). All nodes share this machine's 2 cores with MariaDB, HAProxy
# and the load, so a warming node's CPU, and the database's, is taken
# from the peers serving the load; the bound keeps a warm from crowding
# them, for a longer warm.
# GINTOKI_FLEET_DIR [.local/fleet] holds the data (MariaDB, broker,
# relay checkpoint), logs, CSV and chart. Ports: GINTOKI_FLEET_PORT_BASE
# [18400]: the proxy +0, HAProxy's stats page +1, MariaDB +6, the relay's
# metrics +8, the broker +9; node i (1-3) HTTP +10i, gRPC +10i+1, admin
# (pprof) +10i+2.
# GINTOKI_STOP_TIMEOUT (seconds, default 30) bounds each part's shutdown.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
gintoki=${GINTOKI_BIN:-bin/gintoki}
devbroker=${GINTOKI_DEVBROKER_BIN:-bin/gintoki-devbroker}
benchbin=${GINTOKI_BENCH_BIN:-bin/gintoki-bench}
stop_timeout=${GINTOKI_STOP_TIMEOUT:-30}
local_dir=${GINTOKI_FLEET_DIR:-.local/fleet}
base=${GINTOKI_FLEET_PORT_BASE:-18400}
proxy_port=$base
stats_port=$((base + 1))
db_port=$((base + 6))
relay_metrics=127.0.0.1:$((base + 8))
broker_port=$((base + 9))
rate=${FLEET_RATE:-1000}
conns=${FLEET_CONNS:-64}
products=${FLEET_PRODUCTS:-1000000}
drain_delay=${FLEET_DRAIN_DELAY:-2s}
steady=${FLEET_STEADY:-20}
settle=${FLEET_SETTLE:-5}
tail_time=${FLEET_TAIL:-15}
warm=${FLEET_WARM:-all}
warm_rate=${FLEET_WARM_RATE:-20000}
report=${FLEET_REPORT:-$local_dir/report.md}
database=inventory_1m
prefix=fleet
logs=$local_dir/logs
nodes=(node1 node2 node3)

say() { echo "fleet: $(date +%T) $*" >&2; }
die() {
  echo "fleet: $*" >&2
  exit 1
}

# shellcheck source=scripts/stack.sh
source scripts/stack.sh

# What this script started.
declare -A node_pid=()
relay_pid='' broker_pid='' proxy_pid='' load_pid='' db_started=0

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  local status=$? n
  trap '' INT TERM HUP
  stop_child "$load_pid" load
  for n in "${nodes[@]}"; do
    if [[ -n "${node_pid[$n]:-}" ]]; then
      kill -TERM "${node_pid[$n]}" 2>/dev/null || true # they drain together
    fi
  done
  for n in "${nodes[@]}"; do
    stop_child "${node_pid[$n]:-}" "$n"
  done
  stop_child "$proxy_pid" haproxy
  GINTOKI_LOCAL_DIR=$local_dir GINTOKI_DB_PORT=$db_port stop_stack || status=1
  exit "$status"
}
on_exit cleanup

for bin in "$gintoki" "$devbroker" "$benchbin"; do
  [[ -x "$bin" ]] || die "$bin not found: run make build"
done
scripts/deps.sh --fleet >&2
export PATH="$PATH:/usr/sbin:/sbin" # haproxy lives in /usr/sbin
mkdir -p "$logs" "$local_dir/relay"
local_dir=$(cd "$local_dir" && pwd)
logs=$local_dir/logs
marks=$local_dir/marks
stamp=$(date -u +%Y%m%dT%H%M%SZ)

now_ms() { date +%s%3N; }
mark() { echo "$(now_ms) $*" >>"$marks"; }
sql() { mariadb --no-defaults -h127.0.0.1 -P"$db_port" -uroot -N "$database" -e "$1"; }
http_port() { echo $((base + 10 * $1)); }

# until SECONDS WHAT CMD...: run CMD every 0.1 s until it succeeds; fail
# after SECONDS.
until_ok() {
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  die "$what: not within ${limit}s"
}

# HAProxy's view of a node: UP, DOWN, "UP 1/2" (going down), …
proxy_status() {
  curl -fsS "http://127.0.0.1:$stats_port/stats;csv" 2>/dev/null |
    awk -F, -v n="$1" '$1 == "nodes" && $2 == n { print $18 }'
}
exited() { ! alive "$1"; }
# cpu_seconds PID: the CPU time PID has used.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
db_cpu() { cpu_seconds "$(cat "$local_dir/mariadb/mariadb.pid")"; }
proxy_is() { [[ "$(proxy_status "$1")" == "$2" ]]; }
# node_ready I: node I answers /readyz with 200; it must not have exited.
node_ready() {
  alive "${node_pid[node$1]}" || die "node$1 exited, see $logs/node$1.log"
  curl -fsS -o /dev/null "http://127.0.0.1:$(http_port "$1")/readyz" 2>/dev/null
}

# The stack: MariaDB, broker, the large database, the relay.
export GINTOKI_LOCAL_DIR=$local_dir GINTOKI_DB_PORT=$db_port
export GINTOKI_DEMO_PRODUCTS=${GINTOKI_DEMO_PRODUCTS:-1000} # the demo database is not used here
use_or_start_db
use_or_start_broker "$devbroker"
say "database $database: $products products (seeded on first use, ~1 min)"
"$benchbin" seed --db-dsn "root@tcp(127.0.0.1:$db_port)/" --mem-database "$database" --mem-products "$products"

if curl -fsS -o /dev/null "http://$relay_metrics/readyz" 2>/dev/null; then
  say "a relay already answers on $relay_metrics; using it"
else
  start relay "$logs/relay.log" "$gintoki" relay --db-addr "127.0.0.1:$db_port" --database "$database" \
    --brokers "127.0.0.1:$broker_port" --topic-prefix "$prefix" --checkpoint-file "$local_dir/relay/checkpoint.json" \
    --metrics-addr "$relay_metrics"
  relay_pid=$started
  until_ok 60 "relay ready (see $logs/relay.log)" curl -fs -o /dev/null "http://$relay_metrics/readyz"
fi

# The nodes.
serve_args=(--db-dsn "root@tcp(127.0.0.1:$db_port)/$database" --database "$database" --brokers "127.0.0.1:$broker_port"
  --topic-prefix "$prefix" --cache-bytes $((512 << 20)) --drain-delay "$drain_delay")
help=$("$gintoki" serve --help 2>&1 || true)
if [[ "$help" == *--warm-timeout* ]]; then
  # Ready only once warm: the timeout, a safety valve in production, would
  # let a node join half-cold on a busy machine.
  serve_args+=(--warm "$warm" --warm-timeout 5m)
  warm_note="--warm $warm --warm-timeout 5m"
  if [[ "$help" == *--warm-rate* ]]; then
    serve_args+=(--warm-rate "$warm_rate")
    warm_note+=" --warm-rate $warm_rate"
  fi
elif [[ "$help" == *--warm* ]]; then
  serve_args+=(--warm "$warm")
  warm_note="--warm $warm"
else
  warm=''
  warm_note="no warm start (this gintoki has no --warm): a restarted node starts cold"
fi
start_node() {
  local i=$1 n=node$1
  start "$n" "$logs/$n.log" "$gintoki" serve --http-addr "127.0.0.1:$(http_port "$i")" \
    --grpc-addr "127.0.0.1:$((base + 10 * i + 1))" --admin-addr "127.0.0.1:$((base + 10 * i + 2))" "${serve_args[@]}"
  node_pid[$n]=$started
}
for i in 1 2 3; do
  start_node "$i"
done
for i in 1 2 3; do
  until_ok 300 "node$i ready (see $logs/node$i.log)" node_ready "$i"
done
say "3 nodes ready ($warm_note)"

cat >"$local_dir/haproxy.cfg" <<EOF
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch

frontend fleet
    bind 127.0.0.1:$proxy_port
    default_backend nodes

backend nodes
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2
    server node1 127.0.0.1:$(http_port 1)
    server node2 127.0.0.1:$(http_port 2)
    server node3 127.0.0.1:$(http_port 3)

listen stats
    mode http
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
EOF
haproxy -c -q -f "$local_dir/haproxy.cfg" || die "HAProxy rejects $local_dir/haproxy.cfg"
start haproxy "$logs/haproxy.log" haproxy -db -f "$local_dir/haproxy.cfg"
proxy_pid=$started
for n in "${nodes[@]}"; do
  until_ok 30 "HAProxy sees $n UP" proxy_is "$n" UP
done

# Two products whose UPDATEs, made during the restarts, every node must
# show afterwards. Each is read from every node first, so that it is
# cached and the change must reach the cache.
pick() { echo $((1 + (RANDOM * 32768 + RANDOM) % products)); }
write_ids=("$(pick)" "$(pick)")
write_qty=($((1000000 + RANDOM)) $((2000000 + RANDOM)))
for id in "${write_ids[@]}"; do
  for i in 1 2 3; do
    curl -fsS -o /dev/null "http://127.0.0.1:$(http_port "$i")/v1/products/$id/inventory" || die "node$i: product $id"
  done
done
update() { # update K: the K-th write
  local id=${write_ids[$1]} qty=${write_qty[$1]}
  sql "UPDATE warehouse_stock_item SET qty_salable = $qty WHERE product_id = $id AND warehouse_id <> 7 ORDER BY warehouse_id LIMIT 1"
  mark "write" "product$id"
  say "UPDATE product $id: qty_salable = $qty"
}

start_lines=()

# The load.
: >"$marks"
title="Rolling restart, $(date -u '+%Y-%m-%d %H:%M UTC')"
notes="HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }') in TCP mode (leastconn; /readyz checked every 200 ms, fall 2, rise 2) in front of 3 nodes (--drain-delay $drain_delay, $warm_note, --cache-bytes 512 MiB) over $products products; restarts by SIGTERM, one node at a time; each window runs from the SIGTERM to ${settle} s after HAProxy has the node UP again; the machine has $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) when the load started."
: >"$logs/fleet-load.log"
# --duration is only a safety net: the script ends the load with SIGTERM
# after the last restart, however long the warm starts take.
start load "$logs/fleet-load.log" "$benchbin" fleet-load --addr "127.0.0.1:$proxy_port" --rate "$rate" --conns "$conns" \
  --duration 30m --max-id "$products" --db-dsn "root@tcp(127.0.0.1:$db_port)/" --marks "$marks" --csv "$local_dir/latency-$stamp.csv" \
  --chart "$local_dir/latency-$stamp.svg" --report "$report" --title "$title" --notes "$notes"
load_pid=$started
sleep 5
mark steady
say "steady state for ${steady}s at $rate req/s"
db0=$(db_cpu)
sleep "$steady"
start_lines+=("- steady state: MariaDB used $(awk -v a="$db0" -v b="$(db_cpu)" -v t="$steady" 'BEGIN { printf "%.2f", (b - a) / t }') cores")

for i in 1 2 3; do
  n=node$i
  alive "$load_pid" || die "the load stopped early, see $logs/fleet-load.log"
  t0=$SECONDS
  mark restart-begin "$n"
  say "$n: SIGTERM"
  kill -TERM "${node_pid[$n]}"
  mark sigterm "$n"
  ((i != 1)) || update 0 # during node1's drain
  until_ok 10 "HAProxy takes $n out" proxy_is "$n" DOWN
  mark down "$n"
  until_ok "$stop_timeout" "$n stops" exited "${node_pid[$n]}"
  wait "${node_pid[$n]}" || die "$n exited with status $?, see $logs/$n.log"
  mark stopped "$n"
  ((i != 2)) || update 1 # while node2 is down
  start_node "$i"
  mark started "$n"
  t1=$SECONDS db1=$(db_cpu)
  until_ok 300 "$n ready again (see $logs/$n.log)" node_ready "$i"
  mark ready "$n"
  # What its start (warm start included) cost the shared cores.
  start_lines+=("- $n: started → ready in $((SECONDS - t1)) s; the node used $(cpu_seconds "${node_pid[$n]}") CPU-seconds, MariaDB $(awk -v a="$db1" -v b="$(db_cpu)" 'BEGIN { printf "%.1f", b - a }')")
  until_ok 30 "HAProxy has $n UP" proxy_is "$n" UP
  mark up "$n"
  say "$n back in $((SECONDS - t0))s"
  sleep "$settle"
  mark restart-end "$n"
done
say "steady state for ${tail_time}s"
sleep "$tail_time"
kill -TERM "$load_pid"
load_status=0
wait "$load_pid" || load_status=$?
load_pid=''
cat "$logs/fleet-load.log" >&2

# Correctness: both UPDATEs on every node, read from each node directly.
visible() { # visible NODE K
  curl -fsS "http://127.0.0.1:$(http_port "$1")/v1/products/${write_ids[$2]}/inventory" 2>/dev/null |
    grep -q "\"qty_salable\":${write_qty[$2]}[,}]"
}
check_status=0
check_lines=()
for i in 1 2 3; do
  for k in 0 1; do
    line="node$i: product ${write_ids[$k]} qty_salable ${write_qty[$k]}"
    deadline=$((SECONDS + 10))
    until visible "$i" "$k"; do
      if ((SECONDS >= deadline)); then
        check_status=1
        line="$line: NOT visible after 10 s"
        break
      fi
      sleep 0.1
    done
    [[ "$line" == *NOT* ]] || line="$line: visible"
    check_lines+=("- $line")
  done
done
verdict=MET
((check_status == 0)) || verdict=MISSED
{
  echo "CPU on the machine's $(nproc) shared cores, in the steady state and during each restarted node's start, warm start included (load average at the end: $(cut -d' ' -f1 /proc/loadavg)):"
  echo
  printf '%s\n' "${start_lines[@]}"
  echo
  echo "Writes during the restarts (one during node1's drain, one while node2 was down), then read from each node directly: **$verdict**"
  echo
  printf '%s\n' "${check_lines[@]}"
  echo
  echo "Latency per second: \`$local_dir/latency-$stamp.csv\`, chart \`$local_dir/latency-$stamp.svg\`."
  echo
} | tee -a "$report"
say "report appended to $report"
if ((load_status != 0 || check_status != 0)); then
  say "a target was missed (load: exit $load_status, writes visible: $verdict)"
  exit 1
fi
say "all targets met"
