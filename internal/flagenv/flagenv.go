// Package flagenv gives every flag of a flag.FlagSet an environment
// variable: Prefix followed by the flag's name in upper case, dashes as
// underscores (with Prefix "GINTOKI_", --db-dsn is GINTOKI_DB_DSN). A flag
// given on the command line wins over its variable. Every binary of the
// project parses its flags with it; the environment is injected (a lookup
// function), so tests never touch the process's.
//
// It imports the standard library only, and no project package.
package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Env names each flag's environment variable and reads it.
type Env struct {
	// Prefix starts every variable's name ("GINTOKI_").
	Prefix string
	// Lookup reads a variable, as os.LookupEnv does (Map for tests).
	Lookup func(name string) (value string, ok bool)
}

// Name returns the environment variable of flagName: db-dsn →
// Prefix + "DB_DSN".
func (e Env) Name(flagName string) string {
	return e.Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs; a flag not given on the command line takes
// its value from its environment variable when that is set. Positional
// arguments are refused. A bad value in the environment is an error that
// names the variable.
func (e Env) Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v, ok := e.Lookup(e.Name(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("$%s: %w", e.Name(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// Given returns the names of fs's flags set on the command line or through
// their environment variable (call it after Parse).
func (e Env) Given(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := e.Lookup(e.Name(f.Name)); ok {
			given[f.Name] = true
		}
	})
	return given
}

// SetUsage makes fs's usage (--help, or a flag it does not know) print
// header, then every flag with its environment variable, its default when
// not empty, and its help, to out.
func (e Env) SetUsage(fs *flag.FlagSet, out io.Writer, header string) {
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, header)
		fmt.Fprint(out, "\nFlags (each also read from the environment variable shown):\n")
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s  [$%s]%s\n      %s\n", f.Name, e.Name(f.Name), def, f.Usage)
		})
	}
}

// Map returns a Lookup over m, for tests and for callers that build their
// environment themselves.
func Map(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}
