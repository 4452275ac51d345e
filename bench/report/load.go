package report

import (
	"fmt"
	"strconv"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/stats"
)

// LoadStats are one contender's figures over the rounds of a closed-loop
// comparison.
type LoadStats struct {
	Name       string
	RPS        stats.Series // requests (calls) per second
	ProductsPS stats.Series // products per second (gRPC)
	P50, P99   stats.Series // milliseconds
	SvcCores   stats.Series // CPU of the server, in cores
	GenCores   stats.Series // CPU of the load generator, in cores
	Errors     int64
	FirstErr   string
}

// AddWrk adds a round measured by wrk, with the server's CPU.
func (s *LoadStats) AddWrk(r loadgen.WrkResult, svcCores float64) {
	s.RPS = append(s.RPS, r.RPS)
	s.P50 = append(s.P50, stats.MS(r.P50))
	s.P99 = append(s.P99, stats.MS(r.P99))
	s.SvcCores = append(s.SvcCores, svcCores)
	s.GenCores = append(s.GenCores, r.GenCores)
	s.Errors += r.Errors
}

// AddGRPC adds a round of the gRPC load, with the server's CPU.
func (s *LoadStats) AddGRPC(r loadgen.GRPCResult, svcCores float64) {
	s.RPS = append(s.RPS, r.RPS)
	s.ProductsPS = append(s.ProductsPS, r.ProductsPS)
	s.P50 = append(s.P50, stats.MS(r.P50))
	s.P99 = append(s.P99, stats.MS(r.P99))
	s.SvcCores = append(s.SvcCores, svcCores)
	s.GenCores = append(s.GenCores, r.GenCores)
	s.Errors += r.Errors
	if s.FirstErr == "" {
		s.FirstErr = r.FirstErr
	}
}

// writeLoadTable writes one row per contender.
func writeLoadTable(w *mdWriter, products bool, rows ...*LoadStats) {
	if products {
		w.line("| server | calls/s | products/s | p50 ms | p99 ms | server CPU (cores) | generator CPU (cores) | errors |")
		w.line("|---|---:|---:|---:|---:|---:|---:|---:|")
	} else {
		w.line("| server | req/s | p50 ms | p99 ms | server CPU (cores) | wrk CPU (cores) | errors |")
		w.line("|---|---:|---:|---:|---:|---:|---:|")
	}
	for _, s := range rows {
		cells := []string{s.Name, spread(s.RPS, count)}
		if products {
			cells = append(cells, spread(s.ProductsPS, count))
		}
		errs := strconv.FormatInt(s.Errors, 10)
		if s.FirstErr != "" {
			errs += " (" + oneLine(fmt.Errorf("%s", s.FirstErr)) + ")"
		}
		cells = append(cells, spread(s.P50, msf), spread(s.P99, msf), spread(s.SvcCores, coresf), spread(s.GenCores, coresf), errs)
		w.row(cells...)
	}
	w.line("")
}
