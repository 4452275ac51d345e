package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gintoki/gintoki/bench/stack"
	"github.com/gintoki/gintoki/internal/flagenv"
)

// runBareHTTP is `gintoki-bench bare-http`: the HTTP baseline
// (stack.ServeBareHTTP) over the bodies file the orchestrator wrote.
func runBareHTTP(ctx context.Context, args []string, stderr io.Writer) error {
	return runBare(ctx, "bare-http", "127.0.0.1:18082", stack.ServeBareHTTP, args, stderr)
}

// runBareGRPC is `gintoki-bench bare-grpc`: the gRPC baseline
// (stack.ServeBareGRPC) over the bodies file the orchestrator wrote.
func runBareGRPC(ctx context.Context, args []string, stderr io.Writer) error {
	return runBare(ctx, "bare-grpc", "127.0.0.1:19092", stack.ServeBareGRPC, args, stderr)
}

// runBare parses the flags of a bare baseline, reads its bodies and
// serves them until ctx ends.
func runBare(ctx context.Context, name, defaultAddr string, serve func(context.Context, net.Listener, map[int64][]byte) error,
	args []string, stderr io.Writer) error {
	env := benchEnv(flagenv.Map(nil)) // the bare servers take flags only
	fs := newFlagSet(name, env, stderr)
	addr := fs.String("addr", defaultAddr, "listen address")
	path := fs.String("bodies", "", "bodies file written by the orchestrator")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	bodies, err := stack.ReadBodies(*path)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return serve(ctx, ln, bodies)
}

// runNaiveHTTP is `gintoki-bench naive-http`: the naive server
// (stack.ServeNaiveHTTP), the server a cache must beat on misses.
func runNaiveHTTP(ctx context.Context, args []string, stderr io.Writer) error {
	env := benchEnv(flagenv.Map(nil)) // the baselines take flags only
	fs := newFlagSet("naive-http", env, stderr)
	addr := fs.String("addr", "127.0.0.1:18085", "listen address")
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3307)/inventory", "database DSN (go-sql-driver format)")
	conns := fs.Int("db-conns", 64, "database connections kept open (idle ones are kept too, so none is reopened per request)")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	if *conns <= 0 {
		return errors.New("naive-http: --db-conns must be positive")
	}
	db, err := sql.Open("mysql", *dsn)
	if err != nil {
		return fmt.Errorf("naive-http: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(*conns)
	db.SetMaxIdleConns(*conns)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("naive-http: %w", err)
	}
	return stack.ServeNaiveHTTP(ctx, ln, db)
}
