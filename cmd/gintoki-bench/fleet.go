package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// errTargetMissed is returned when a fleet run misses a target; the
// report says which, with the figures.
var errTargetMissed = errors.New("target missed")

// fleetLoadConfig is what `gintoki-bench fleet-load` can be told.
type fleetLoadConfig struct {
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

func (c *fleetLoadConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "", "host:port to load (the proxy in front of the nodes)")
	fs.IntVar(&c.Rate, "rate", 2000, "requests per second, open loop")
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

func (c *fleetLoadConfig) validate() error {
	var errs []error
	if _, err := portOf(c.Addr); err != nil {
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

// runFleetLoad is `gintoki-bench fleet-load`: an open-loop load through a
// proxy while scripts/fleet.sh restarts the nodes behind it, then the
// report: failures, p99 and the database's query rate in the restart
// windows against the steady state.
func runFleetLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg fleetLoadConfig
	env := benchEnv(os.LookupEnv)
	fs := newFlagSet("fleet-load", env, stderr)
	cfg.flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s fleet-load: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}

	var (
		readings []dbStatus
		dbErr    error
		sampled  = make(chan struct{})
	)
	sampleCtx, stopSampling := context.WithCancel(context.WithoutCancel(ctx))
	if cfg.DBDSN != "" {
		db, err := sql.Open("mysql", cfg.DBDSN)
		if err != nil {
			stopSampling()
			return fmt.Errorf("--db-dsn: %w", err)
		}
		defer db.Close()
		if _, err := readDBStatus(ctx, db); err != nil {
			stopSampling()
			return err
		}
		go func() { readings, dbErr = sampleDBStatus(sampleCtx, db, time.Second); close(sampled) }()
	} else {
		close(sampled)
	}

	logf("%d req/s over %d connections to %s, ids 1..%d, until signalled or %s", cfg.Rate, cfg.Conns, cfg.Addr, cfg.MaxID, cfg.Duration)
	tl := &timeline{}
	res := openLoop{Addr: cfg.Addr, Path: "/v1/products/", Suffix: "/inventory", Rate: cfg.Rate, Duration: cfg.Duration,
		MaxID: cfg.MaxID, Conns: cfg.Conns, Timeline: tl}.run(ctx)
	// The rate sent, over the time the load ran: openLoop's figure
	// assumes it ran its whole duration, and a signal ends it earlier.
	if ran := time.Since(tl.start); ran > 0 {
		res.Sent = float64(res.Requests) / ran.Seconds()
	}
	stopSampling()
	<-sampled // readings and dbErr are written before sampled is closed
	if dbErr != nil {
		logf("some database status readings failed: %v", dbErr)
	}
	samples := tl.samples()
	logf("load over: %d requests, sent %.0f/s, generator %.2f cores", res.Requests, res.Sent, res.GenCores)

	var events []fleetEvent
	if cfg.Marks != "" {
		f, err := os.Open(cfg.Marks)
		if err != nil {
			return fmt.Errorf("--marks: %w", err)
		}
		events, err = parseMarks(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	rep, err := analyseFleet(samples, tl.start, events, readings)
	if err != nil {
		return err
	}
	rep.Title, rep.MaxFailed, rep.MaxRatio, rep.Errors = cfg.Title, cfg.MaxFailed, cfg.MaxRatio, res.Errors
	rep.Rate, rep.Sent = cfg.Rate, res.Sent
	rep.Load = fmt.Sprintf("Open loop at %d req/s (%.0f sent/s) over %d keep-alive connections to %s, random ids in 1..%d; "+
		"latency from each request's scheduled time; the generator used %.2f cores.", cfg.Rate, res.Sent, cfg.Conns, cfg.Addr, cfg.MaxID, res.GenCores)
	if cfg.Notes != "" {
		rep.Load += " " + cfg.Notes
	}

	if cfg.CSV != "" {
		var b bytes.Buffer
		if err := writeFleetCSV(&b, samples, tl.start, time.Second, events, readings); err != nil {
			return err
		}
		if err := os.WriteFile(cfg.CSV, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
		logf("latency per second written to %s", cfg.CSV)
	}
	if cfg.Chart != "" {
		if err := drawFleetChart(cfg.Chart, samples, tl.start, events); err != nil {
			logf("chart not drawn: %v", err)
		} else {
			logf("chart written to %s", cfg.Chart)
		}
	}
	md := rep.markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	if cfg.Report != "" {
		f, err := os.OpenFile(cfg.Report, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		_, werr := f.WriteString(md)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if m := rep.misses(); len(m) > 0 {
		return fmt.Errorf("%w: %s", errTargetMissed, strings.Join(m, "; "))
	}
	return nil
}
