package flagenv

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantDSN   string
		wantWait  time.Duration
		wantGiven []string
		wantErr   string
	}{
		{name: "defaults", wantDSN: "def", wantWait: time.Second},
		{name: "environment", env: map[string]string{"T_DB_DSN": "env", "T_WAIT": "2s"},
			wantDSN: "env", wantWait: 2 * time.Second, wantGiven: []string{"db-dsn", "wait"}},
		{name: "flag wins", args: []string{"--db-dsn", "flag"}, env: map[string]string{"T_DB_DSN": "env"},
			wantDSN: "flag", wantWait: time.Second, wantGiven: []string{"db-dsn"}},
		{name: "other prefixes ignored", env: map[string]string{"DB_DSN": "x", "U_DB_DSN": "y"}, wantDSN: "def", wantWait: time.Second},
		{name: "bad value in the environment", env: map[string]string{"T_WAIT": "soon"}, wantErr: "$T_WAIT"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Prefix: "T_", Lookup: Map(tt.env)}
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			dsn := fs.String("db-dsn", "def", "")
			wait := fs.Duration("wait", time.Second, "")
			err := env.Parse(fs, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *dsn != tt.wantDSN || *wait != tt.wantWait {
				t.Errorf("db-dsn %q, wait %v; want %q, %v", *dsn, *wait, tt.wantDSN, tt.wantWait)
			}
			given := env.Given(fs)
			if len(given) != len(tt.wantGiven) {
				t.Errorf("Given = %v, want %v", given, tt.wantGiven)
			}
			for _, n := range tt.wantGiven {
				if !given[n] {
					t.Errorf("Given = %v, want %v", given, tt.wantGiven)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	env := Env{Prefix: "GINTOKI_", Lookup: Map(nil)}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var out strings.Builder
	env.SetUsage(fs, &out, "Usage: t\n")
	fs.String("db-dsn", "", "the database")
	fs.Int("partitions", 6, "how many")
	if err := env.Parse(fs, []string{"--help"}); err != flag.ErrHelp {
		t.Fatalf("Parse(--help) = %v, want flag.ErrHelp", err)
	}
	want := "Usage: t\n\nFlags (each also read from the environment variable shown):\n" +
		"  --db-dsn  [$GINTOKI_DB_DSN]\n      the database\n" +
		"  --partitions  [$GINTOKI_PARTITIONS] (default \"6\")\n      how many\n"
	if out.String() != want {
		t.Errorf("usage:\n%s\nwant:\n%s", out.String(), want)
	}
}
