# shellcheck shell=bash disable=SC2154 # stop_timeout, logs, broker_port, db_port: set by the sourcing script
# Shared by run.sh, bench.sh and fleet.sh (sourced, not run): starting and
# stopping the local stack's background parts. The sourcing script defines
# say, die, stop_timeout, logs, broker_port and db_port first, and may
# define local_dir (default .local); bench.sh and fleet.sh also define
# relay_pid, broker_pid and db_started (what they started, for stop_stack).

# on_exit FN: run FN when the script exits, also on Ctrl-C, TERM or HUP
# (which exit with 128 + the signal's number, as a shell does).
on_exit() {
  # shellcheck disable=SC2064 # FN is named now, on purpose
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
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

# stop_child PID NAME: SIGTERM, wait up to stop_timeout, then SIGKILL.
# shellcheck disable=SC2317 # called from the EXIT traps
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

# start NAME LOG CMD...: start CMD in the background in a session of its
# own, so that a Ctrl-C reaches only the script, which then stops the parts
# in order. LOG "-" keeps the output on the terminal. Sets $started.
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

# start_broker BIN: start the dev broker and wait until it listens. Sets
# $started.
start_broker() {
  local i
  mkdir -p "$logs"
  start broker "$logs/devbroker.log" "$1" --addr "127.0.0.1:$broker_port" --data-dir "${local_dir:-.local}/broker"
  for ((i = 0; ; i++)); do
    port_open "$broker_port" && break
    alive "$started" || die "broker exited during start, see $logs/devbroker.log"
    ((i < 100)) || die "broker not listening on 127.0.0.1:$broker_port after 10s, see $logs/devbroker.log"
    sleep 0.1
  done
}

# use_or_start_db: start MariaDB (scripts/mariadb.sh, in GINTOKI_LOCAL_DIR
# on GINTOKI_DB_PORT) unless it runs already. Sets db_started=1 if it
# started it.
use_or_start_db() {
  if scripts/mariadb.sh status >/dev/null; then
    say "MariaDB already running on port $db_port; using it"
  else
    db_started=1
    scripts/mariadb.sh start >&2
  fi
}

# use_or_start_broker BIN: start the dev broker BIN unless something
# listens on broker_port already. Sets broker_pid if it started it.
use_or_start_broker() {
  if port_open "$broker_port"; then
    say "a broker is already listening on 127.0.0.1:$broker_port; using it"
  else
    start_broker "$1"
    broker_pid=$started
  fi
}

# stop_stack: stop the relay and the broker the script started (relay_pid,
# broker_pid), then MariaDB if it started it (db_started). It fails if
# MariaDB did not stop cleanly.
# shellcheck disable=SC2317 # called from the EXIT traps
stop_stack() {
  stop_child "$relay_pid" relay
  stop_child "$broker_pid" broker
  if ((db_started)); then
    scripts/mariadb.sh stop >&2 || return 1
  fi
}
