// Command gintoki-bench produces Gintoki's benchmark report
// (docs/benchmarks.md): it starts `gintoki serve` processes and bare
// baselines on ports of its own, drives them with wrk, an in-process gRPC
// load generator and the vegeta library, measures freshness, memory and
// stampede protection against the local stack's MariaDB, broker and relay,
// and writes a Markdown report with medians, ranges, ratios and a verdict
// per target.
//
// Usage:
//
//	gintoki-bench [run] [flags]                      the whole benchmark (scripts/bench.sh runs it)
//	gintoki-bench bare-http --addr A --bodies F      bare HTTP baseline: pre-encoded bodies from a map
//	gintoki-bench bare-grpc --addr A --bodies F      bare gRPC baseline: pre-encoded bodies, raw codec
//	gintoki-bench seed [flags]                       create and fill the memory phase's database (1M products)
//	gintoki-bench fleet-load --addr A [flags]        open-loop load during a rolling restart, and its report (scripts/fleet.sh)
//	gintoki-bench naive-http --addr A --dsn D        naive baseline: one indexed join per request, no cache
//
// Every flag of run has an environment fallback: --quick is
// GINTOKI_BENCH_QUICK. It needs MariaDB with the demo data, the broker and
// the relay running (scripts/bench.sh starts them), wrk on the PATH and
// bin/gintoki built.
//
// It only parses each subcommand's flags and hands over: the run and its
// phases are package phase (bench/phase, one file per phase), the
// baselines and the seeding package stack, fleet-load package fleet. It
// may import every package of the harness; none imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gintoki-bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `gintoki-bench runs Gintoki's benchmarks and writes the report.

Usage:
  gintoki-bench [run] [flags]                    the whole benchmark (see --help)
  gintoki-bench bare-http --addr A --bodies F    bare HTTP baseline server
  gintoki-bench bare-grpc --addr A --bodies F    bare gRPC baseline server
  gintoki-bench seed [flags]                     create and fill the memory phase's database
  gintoki-bench fleet-load --addr A [flags]      open-loop load during a rolling restart (scripts/fleet.sh)
  gintoki-bench naive-http --addr A --dsn D      naive baseline: one indexed join per request
`

// run dispatches to a subcommand; it returns when the subcommand finishes
// or ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runBench(ctx, args, stdout, stderr)
	case "bare-http":
		return runBareHTTP(ctx, args, stderr)
	case "bare-grpc":
		return runBareGRPC(ctx, args, stderr)
	case "seed":
		return runSeed(ctx, args, stderr)
	case "fleet-load":
		return runFleetLoad(ctx, args, stdout, stderr)
	case "naive-http":
		return runNaiveHTTP(ctx, args, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
