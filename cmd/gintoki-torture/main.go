// Command gintoki-torture runs the whole pipeline — a private MariaDB with
// binlog, the dev broker, the relay and several nodes, each a real process
// on free ports — under writes whose values make time visible, reads
// through every node, and faults injected at seeded random times, then
// checks what Gintoki promises:
//
//   - after quiescence every node answers every key as the database has it;
//   - per row, a node never shows a value older than one it showed before
//     (between restarts);
//   - an answer not marked stale reflects every change committed more than
//     the bound before it was asked for;
//   - every committed change is in the change topics;
//   - no process logged a panic or an error line a fault does not explain.
//
// It prints the seed, figures, and a timeline for each violation, and exits
// 1 if there was one (2 if the run itself failed). See docs/torture.md.
//
// Usage:
//
//	gintoki-torture [--seed N] [--duration 60s] [--runs 1] [--bound 5s] [flags]
//
// It drives the binaries from outside, as an operator would: it imports
// only schema and internal/flagenv, never the service's packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, runs every seed, prints the reports and returns the
// exit status.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, lookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gintoki-torture:", err)
		return 2
	}
	level := slog.LevelWarn
	if cfg.Verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The driver's own notes (a connection the database closed while it
	// was down) are expected during faults.
	_ = mysql.SetLogger(mysqlLogger{log})

	bins := binaries{}
	if cfg.BinDir == "" {
		dir, err := os.MkdirTemp("", "gintoki-torture-bin-")
		if err != nil {
			fmt.Fprintln(stderr, "gintoki-torture:", err)
			return 2
		}
		defer os.RemoveAll(dir)
		log.Info("building the binaries", "dir", dir)
		if bins, err = buildBinaries(ctx, dir); err != nil {
			fmt.Fprintln(stderr, "gintoki-torture:", err)
			return 2
		}
	} else {
		bins = binaries{gintoki: cfg.BinDir + "/gintoki", devbroker: cfg.BinDir + "/gintoki-devbroker"}
	}
	cfg.maxStaleness = hasMaxStaleness(bins.gintoki)

	code := 0
	var total totals
	for i := range cfg.Runs {
		seed := cfg.Seed + uint64(i)
		fmt.Fprintf(stdout, "gintoki-torture: seed %d (run %d of %d)\n", seed, i+1, cfg.Runs)
		res, err := runOnce(ctx, cfg, seed, bins, log)
		if err != nil {
			fmt.Fprintf(stderr, "gintoki-torture: seed %d: %v (work dir %s kept)\n", seed, err, res.Dir)
			return 2
		}
		report(stdout, cfg, res)
		total.add(res)
		if len(res.Violations) > 0 {
			code = 1
		} else if !cfg.Keep && cfg.WorkDir == "" {
			os.RemoveAll(res.Dir)
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "gintoki-torture: interrupted")
			return 2
		}
	}
	if cfg.Runs > 1 {
		total.print(stdout, cfg.Seed)
	}
	return code
}

// staleTotal sums stale-unmarked episodes.
type staleTotal struct {
	episodes, answers int
	maxAge            time.Duration
}

// mysqlLogger passes the database driver's messages to the run's log.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) { l.log.Info("database driver: " + fmt.Sprint(v...)) }

// totals sums the figures of several runs.
type totals struct {
	runs, failed, obs, violations, writes int
	known                                 int
	stale                                 map[string]*staleTotal // stale-unmarked episodes (known or not) by latest fault kind
	faults                                map[string]int
	unmarkedMax                           time.Duration
	latency                               latencies
	elapsed                               time.Duration
}

func (t *totals) add(res *result) {
	if t.faults == nil {
		t.faults, t.latency, t.stale = map[string]int{}, latencies{}, map[string]*staleTotal{}
	}
	for _, e := range episodes(append(append([]violation(nil), res.Violations...), res.Known...), res.Faults) {
		kind, _, _ := strings.Cut(e.After, " ")
		st := t.stale[kind]
		if st == nil {
			st = &staleTotal{}
			t.stale[kind] = st
		}
		st.episodes++
		st.answers += e.Count
		st.maxAge = max(st.maxAge, e.MaxAge)
	}
	t.runs++
	if len(res.Violations) > 0 {
		t.failed++
	}
	t.obs += len(res.Obs)
	t.violations += len(res.Violations)
	t.known += len(res.Known)
	t.writes += res.Writes[0]
	for _, f := range res.Faults {
		t.faults[string(f.Kind)]++
	}
	t.unmarkedMax = max(t.unmarkedMax, res.UnmarkedMax.Age)
	for k, ds := range res.Latency {
		t.latency[k] = append(t.latency[k], ds...)
	}
	t.elapsed += res.Elapsed
}

func (t *totals) print(w io.Writer, first uint64) {
	fmt.Fprintf(w, "\n== %d runs (seeds %d..%d), %s in all: %d failed\n", t.runs, first, first+uint64(t.runs)-1, t.elapsed.Round(time.Second), t.failed)
	fmt.Fprintf(w, "writes %d; observations %d; violations %d (and %d of known issues listed apart); unmarked age max %s\n",
		t.writes, t.obs, t.violations, t.known, t.unmarkedMax.Round(time.Millisecond))
	fmt.Fprintf(w, "faults: %s\n", mapLine(t.faults))
	if len(t.stale) > 0 {
		fmt.Fprintf(w, "stale-unmarked episodes by the latest fault before them (known issues included):\n")
		for _, k := range sortedKeys(t.stale) {
			st := t.stale[k]
			fmt.Fprintf(w, "  %-15s %d episodes, %d answers, max age %s\n", k, st.episodes, st.answers, st.maxAge.Round(time.Millisecond))
		}
	}
	fmt.Fprintf(w, "commit → visible (hot keys, by fault window):\n")
	for _, k := range sortedKeys(t.latency) {
		fmt.Fprintf(w, "  %-15s %s\n", k, summary(t.latency[k]))
	}
}
