package fleet

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
)

// errTargetMissed is returned when a fleet run misses a target; the
// report says which, with the figures.
var errTargetMissed = errors.New("target missed")

// Run is `gintoki-bench fleet-load`: an open-loop load through a
// proxy while scripts/fleet.sh restarts the nodes behind it, then the
// report: failures, p99 and the database's query rate in the restart
// windows against the steady state.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s fleet-load: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}

	var (
		readings   []probe.DBStatus
		dbErr      error
		sampled    = make(chan struct{})
		cpu        []probe.CPUTimes
		cpuErr     error
		cpuSampled = make(chan struct{})
	)
	sampleCtx, stopSampling := context.WithCancel(context.WithoutCancel(ctx))
	// The machine's CPU: how close to saturation the load, the nodes and
	// the warm starts drive it (Linux only; elsewhere the figure is "–").
	go func() { cpu, cpuErr = probe.SampleCPUTimes(sampleCtx, time.Second); close(cpuSampled) }()
	if cfg.DBDSN != "" {
		db, err := sql.Open("mysql", cfg.DBDSN)
		if err != nil {
			stopSampling()
			return fmt.Errorf("--db-dsn: %w", err)
		}
		defer db.Close()
		if _, err := probe.ReadDBStatus(ctx, db); err != nil {
			stopSampling()
			return err
		}
		go func() { readings, dbErr = probe.SampleDBStatus(sampleCtx, db, time.Second); close(sampled) }()
	} else {
		close(sampled)
	}

	logf("%d req/s over %d connections to %s, ids 1..%d, until signalled or %s", cfg.Rate, cfg.Conns, cfg.Addr, cfg.MaxID, cfg.Duration)
	tl := &loadgen.Timeline{}
	res := loadgen.OpenLoop{Addr: cfg.Addr, Path: "/v1/products/", Suffix: "/inventory", Rate: cfg.Rate, Duration: cfg.Duration,
		MaxID: cfg.MaxID, Conns: cfg.Conns, Timeline: tl}.Run(ctx)
	// The rate sent, over the time the load ran: OpenLoop's figure
	// assumes it ran its whole duration, and a signal ends it earlier.
	if ran := time.Since(tl.Start()); ran > 0 {
		res.Sent = float64(res.Requests) / ran.Seconds()
	}
	stopSampling()
	<-sampled // readings and dbErr are written before sampled is closed
	if dbErr != nil {
		logf("some database status readings failed: %v", dbErr)
	}
	<-cpuSampled
	if cpuErr != nil {
		logf("some CPU time readings failed: %v", cpuErr)
	}
	samples := tl.Samples()
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
	rep, err := analyseFleet(samples, tl.Start(), events, readings, cpu)
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
		if err := writeFleetCSV(&b, samples, tl.Start(), time.Second, events, readings, cpu); err != nil {
			return err
		}
		if err := os.WriteFile(cfg.CSV, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
		logf("latency per second written to %s", cfg.CSV)
	}
	if cfg.Chart != "" {
		if err := drawFleetChart(cfg.Chart, samples, tl.Start(), events); err != nil {
			logf("chart not drawn: %v", err)
		} else {
			logf("chart written to %s", cfg.Chart)
		}
	}
	md := rep.Markdown()
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
