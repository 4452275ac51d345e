package report

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gintoki/gintoki/bench/chart"
	"github.com/gintoki/gintoki/bench/stats"
)

// Chart is a chart written beside the report and embedded in it.
type Chart struct {
	File    string // name in the report's directory
	Caption string
}

// RenderCharts draws the report's charts from its figures into dir (the
// report's directory) and returns those it wrote. A chart whose phase did
// not run or has no figures is left out; the error joins the failures.
func RenderCharts(dir string, r *Report) ([]Chart, error) {
	var (
		out  []Chart
		errs []error
	)
	write := func(file, caption string, draw func(*bytes.Buffer) error) {
		var b bytes.Buffer
		switch err := draw(&b); {
		case errors.Is(err, chart.ErrNoData):
			return
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			return
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("write chart: %w", err))
			return
		}
		out = append(out, Chart{File: file, Caption: caption})
	}
	write("benchmarks-throughput.svg", "Throughput against the bare baselines: median of the rounds, bars from the slowest to the fastest round.",
		func(b *bytes.Buffer) error {
			return chart.Bars(b, r.loadPanels(func(s *LoadStats) stats.Series { return s.RPS }, "req/s", "calls/s"))
		})
	write("benchmarks-p99.svg", "p99 latency against the bare baselines (ms): median of the rounds, bars from the best to the worst round.",
		func(b *bytes.Buffer) error {
			return chart.Bars(b, r.loadPanels(func(s *LoadStats) stats.Series { return s.P99 }, "p99 ms", "p99 ms"))
		})
	write("benchmarks-commit-to-visible.svg", "Commit → visible under load (upper bound), every sample of each freshness run; timeouts are left out of the curve and counted in section 5.",
		func(b *bytes.Buffer) error {
			return chart.CDF(b, "Commit → visible (upper bound)", "ms from the UPDATE's return to an answer showing it", r.visibleSeries(),
				chart.Mark{Label: fmt.Sprintf("target: p99 ≤ %s", targetVisibleP99), X: stats.MS(targetVisibleP99)})
		})
	return out, errors.Join(errs...)
}

// loadPanels is one panel per closed-loop comparison: HTTP (with the
// database-only mode), gRPC GetInventory and BatchGetInventory, each
// against its bare baseline.
func (r *Report) loadPanels(figure func(*LoadStats) stats.Series, httpUnit, grpcUnit string) []chart.Panel {
	bar := func(label string, s *LoadStats) chart.Bar {
		if s == nil {
			return chart.Bar{Label: label, Median: math.NaN()}
		}
		f := figure(s)
		return chart.Bar{Label: label, Median: f.Median(), Min: f.Min(), Max: f.Max()}
	}
	var panels []chart.Panel
	if h := r.HTTP; h != nil && h.Err == nil {
		panels = append(panels, chart.Panel{Title: "HTTP GET", Unit: httpUnit,
			Bars: []chart.Bar{bar("gintoki", h.Gintoki), bar("bare net/http", h.Bare), bar("--no-cache", h.DBOnly)}})
	}
	if g := r.GRPC; g != nil && g.Err == nil {
		panels = append(panels,
			chart.Panel{Title: "gRPC GetInventory", Unit: grpcUnit, Bars: []chart.Bar{bar("gintoki", g.Get), bar("bare grpc-go", g.GetBare)}},
			chart.Panel{Title: fmt.Sprintf("gRPC BatchGetInventory (%d ids)", g.BatchSize), Unit: grpcUnit, Bars: []chart.Bar{bar("gintoki", g.Batch), bar("bare grpc-go", g.BatchBare)}})
	}
	return panels
}

// visibleSeries is one series per freshness run, in milliseconds, without
// the timeouts.
func (r *Report) visibleSeries() []chart.Series {
	if r.Fresh == nil || r.Fresh.Err != nil {
		return nil
	}
	var out []chart.Series
	for _, f := range r.Fresh.Runs {
		s := chart.Series{Label: fmt.Sprintf("reads at %s req/s, %s", count(float64(f.Reads.Target)), f.Generator)}
		for _, d := range f.Visible {
			if d < TimedOut {
				s.Values = append(s.Values, stats.MS(d))
			}
		}
		out = append(out, s)
	}
	return out
}

// writeCharts embeds the charts in the report.
func (r *Report) writeCharts(w *mdWriter) {
	if len(r.Charts) == 0 && r.ChartsErr == nil {
		return
	}
	w.line("## Charts")
	w.line("")
	w.line("Drawn from this run's figures by `gintoki-bench` (gonum.org/v1/plot); the tables below hold the same numbers.")
	w.line("")
	for _, c := range r.Charts {
		w.line(fmt.Sprintf("![%s](%s)", c.Caption, c.File))
		w.line("")
		w.line("_" + c.Caption + "_")
		w.line("")
	}
	if r.ChartsErr != nil {
		w.line("**Charts not drawn:** " + oneLine(r.ChartsErr))
		w.line("")
	}
	// Not this run's: make fleet draws it (a rolling restart needs three
	// nodes behind a proxy), and docs/fleet.md keeps the one shown.
	const restart = "Latency through HAProxy, per second, across a rolling restart of three nodes under load (make fleet)"
	w.line(fmt.Sprintf("![%s](fleet-latency.svg)", restart))
	w.line("")
	w.line("_" + restart + "; drawn by that run, not this one: see [fleet.md](fleet.md)._")
	w.line("")
}
