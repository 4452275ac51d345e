package main

import (
	"context"
	"io"
	"os"

	"github.com/gintoki/gintoki/bench/fleet"
	"github.com/gintoki/gintoki/bench/phase"
)

// runBench is `gintoki-bench run`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	return phase.Run(ctx, cfg, stdout, stderr)
}

// runFleetLoad is `gintoki-bench fleet-load`.
func runFleetLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg fleet.Config
	env := benchEnv(os.LookupEnv)
	fs := newFlagSet("fleet-load", env, stderr)
	cfg.Flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return fleet.Run(ctx, cfg, stdout, stderr)
}
