package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gintoki/gintoki/internal/flagenv"
)

// flagEnv is the environment of gintoki's flags: --db-dsn is
// GINTOKI_DB_DSN. lookup is os.LookupEnv, or a map's in tests.
func flagEnv(lookup func(string) (string, bool)) flagenv.Env {
	return flagenv.Env{Prefix: "GINTOKI_", Lookup: lookup}
}

// newFlagSet returns a flag set for a subcommand whose usage lists every
// flag with its environment variable.
func newFlagSet(name, summary string, env flagenv.Env, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	env.SetUsage(fs, out, fmt.Sprintf("Usage: gintoki %s [flags]\n\n%s\n", name, summary))
	return fs
}
