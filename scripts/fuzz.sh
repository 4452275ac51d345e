#!/usr/bin/env bash
# Runs every Go fuzz target for a bounded time and prints the executions
# of each. Usage: scripts/fuzz.sh [FUZZTIME]  (default 60s; "5s" in CI, or
# an execution count such as "1000000x").
#
# Each target first runs its committed seed corpus (testdata/fuzz/<Target>/
# and the f.Add seeds), then mutates inputs for FUZZTIME. A failing input
# is written to testdata/fuzz/<Target>/ and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-60s}
go=${GO:-go}

targets=(
	"./httpapi FuzzProductID"
	"./httpapi FuzzParseBatch"
	"./grpcapi FuzzDecodeRequest"
	"./debezium FuzzDecode"
	"./debezium FuzzDecodeReencode"
	"./debezium FuzzEncodeMatchesReference"
	"./app FuzzEntry"
)

summary=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $name ($pkg) for $fuzztime"
	log=$(mktemp)
	if ! $go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
		echo "FAIL: $name; the failing input is under $pkg/testdata/fuzz/$name/" >&2
		rm -f "$log"
		exit 1
	fi
	# The last progress line holds the total: "fuzz: elapsed: 60s, execs: 123456 (2057/sec), ..."
	# (None yet if FUZZTIME ended while the cached corpus was replayed.)
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	elapsed=$(grep -o 'elapsed: [0-9a-z]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	rm -f "$log"
	summary+=("$(printf '%-22s %-12s %12s executions in %s' "$name" "$pkg" "${execs:-0}" "${elapsed:-?}")")
done
echo
echo "fuzz summary (fuzztime $fuzztime, no failures):"
printf '  %s\n' "${summary[@]}"
