// Package fleet is `gintoki-bench fleet-load`, the load and the report of
// a rolling restart (scripts/fleet.sh restarts the nodes; docs/fleet.md):
// an open-loop load through the proxy in front of the nodes, recorded
// request by request, cut into the steady state and the restart windows
// that the script's marks file names, with the database's query rate and
// the machine's CPU in each, rendered as Markdown, CSV and a latency chart.
//
// It imports loadgen, probe, stack, stats and chart of the harness, never
// phase or report (the benchmark report's), and no package of the service.
package fleet

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/gintoki/gintoki/bench/stack"
)

// Config is what `gintoki-bench fleet-load` can be told.
type Config struct {
	Addr      string
	Rate      int
	Conns     int
	Duration  time.Duration
	MaxID     int
	DBDSN     string
	Marks     string
	CSV       string
	Chart     string
	Report    string
	Title     string
	Notes     string
	MaxFailed int
	MaxRatio  float64
}

// Flags registers the flags of `gintoki-bench fleet-load` on fs, into c.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "", "host:port to load (the proxy in front of the nodes)")
	fs.IntVar(&c.Rate, "rate", 1000, "requests per second, open loop")
	fs.IntVar(&c.Conns, "conns", 64, "keep-alive connections (the bounded client pool); each sends rate/conns requests per second")
	fs.DurationVar(&c.Duration, "duration", 5*time.Minute, "longest run; SIGINT/SIGTERM ends it earlier and the report is written")
	fs.IntVar(&c.MaxID, "max-id", 1_000_000, "random product ids in 1..N: GET /v1/products/{id}/inventory")
	fs.StringVar(&c.DBDSN, "db-dsn", "", "DSN of a database user that may read SHOW GLOBAL STATUS, sampled every second (empty: no database figures)")
	fs.StringVar(&c.Marks, "marks", "", "file of events written while the load runs: lines \"<unix ms> <event> [node]\" with events steady, restart-begin, restart-end and any other (read at the end)")
	fs.StringVar(&c.CSV, "csv", "", "write the load per second here (CSV)")
	fs.StringVar(&c.Chart, "chart", "", "draw latency over time here (SVG)")
	fs.StringVar(&c.Report, "report", "", "append the Markdown report here")
	fs.StringVar(&c.Title, "title", "Rolling restart", "the report section's title")
	fs.StringVar(&c.Notes, "notes", "", "a paragraph on the setup, printed under the title")
	fs.IntVar(&c.MaxFailed, "max-failed", 0, "target: at most this many failed requests")
	fs.Float64Var(&c.MaxRatio, "max-p99-ratio", 3, "target: p99 in the restart windows at most this multiple of the steady state's")
}

// Validate checks what the flags said, every mistake at once.
func (c *Config) Validate() error {
	var errs []error
	if _, err := stack.PortOf(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr: %w", err))
	}
	if c.Rate <= 0 || c.Conns <= 0 || c.MaxID <= 0 || c.Duration <= 0 {
		errs = append(errs, errors.New("--rate, --conns, --max-id and --duration must be positive"))
	}
	if c.Conns > c.Rate {
		errs = append(errs, errors.New("--conns must not exceed --rate"))
	}
	if c.MaxFailed < 0 || c.MaxRatio <= 0 {
		errs = append(errs, errors.New("--max-failed must not be negative and --max-p99-ratio must be positive"))
	}
	return errors.Join(errs...)
}
