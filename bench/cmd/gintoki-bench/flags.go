package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gintoki/gintoki/bench/phase"
	"github.com/gintoki/gintoki/internal/flagenv"
)

// benchEnv is the environment of gintoki-bench's flags: --quick is
// GINTOKI_BENCH_QUICK. lookup is os.LookupEnv, or a map's in tests.
func benchEnv(lookup func(string) (string, bool)) flagenv.Env {
	return flagenv.Env{Prefix: "GINTOKI_BENCH_", Lookup: lookup}
}

// newFlagSet returns a flag set whose usage shows each flag's environment
// variable.
func newFlagSet(name string, env flagenv.Env, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	env.SetUsage(fs, out, fmt.Sprintf("Usage: gintoki-bench %s [flags]\n", name))
	return fs
}

// parseConfig parses the flags of `gintoki-bench run`.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (phase.Config, error) {
	var c phase.Config
	env := benchEnv(lookupEnv)
	fs := newFlagSet("run", env, stderr)
	c.Flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return c, err
	}
	c.Resolve()
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Command == "" {
		c.Command = strings.Join(append([]string{"gintoki-bench"}, args...), " ")
	}
	return c, nil
}
