// Command gintoki serves product inventory from an in-process cache kept
// fresh from the database's change stream, and relays that change stream
// from the MySQL/MariaDB binlog to Kafka.
//
// Usage:
//
//	gintoki serve [flags]   run the read service (gRPC, HTTP, metrics)
//	gintoki relay [flags]   tail the binlog and publish change events
//
// Every flag has an environment fallback: --db-dsn is GINTOKI_DB_DSN.
//
// It wires the adapters to the use cases and may import every package; no
// package imports it.
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
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gintoki:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `gintoki serves product inventory from a cache kept fresh by change data capture.

Usage:
  gintoki serve [flags]   run the read service: gRPC, HTTP/JSON, metrics, change consumer
  gintoki relay [flags]   tail the MySQL/MariaDB binlog and publish Debezium-style change events
  gintoki help            show this help

Run "gintoki <command> --help" for the flags of a command. Every flag can
also be set by an environment variable: --db-dsn is GINTOKI_DB_DSN.
`

// run dispatches to a subcommand, whose flags read their environment
// variables through lookupEnv. It returns when the subcommand finishes or
// ctx ends (SIGINT/SIGTERM).
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], lookupEnv, stdout, stderr)
	case "relay":
		return runRelay(ctx, args[1:], lookupEnv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
