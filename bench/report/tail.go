package report

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/stats"
)

// targetTailP99Ratio: under the same open-loop load the service's p99 is at
// most this multiple of the bare server's, at each of tailTargetRates.
const targetTailP99Ratio = 1.5

// TailTargetRates are the rates (req/s) the targets name.
var TailTargetRates = []int{10_000, 4_000}

// TailStats are one contender's figures at one rate, one value per round.
type TailStats struct {
	Name               string
	Sent, Success      stats.Series // req/s actually sent; share of 2xx
	P50, P90, P99, Max stats.Series // milliseconds
	SvcCores, GenCores stats.Series
	Errors             []string
}

// Add adds a round.
func (s *TailStats) Add(r loadgen.FixedResult) {
	s.Sent = append(s.Sent, r.Sent)
	s.Success = append(s.Success, r.Success)
	s.P50, s.P90 = append(s.P50, stats.MS(r.P50)), append(s.P90, stats.MS(r.P90))
	s.P99, s.Max = append(s.P99, stats.MS(r.P99)), append(s.Max, stats.MS(r.Max))
	s.SvcCores, s.GenCores = append(s.SvcCores, r.ServiceCores), append(s.GenCores, r.GenCores)
	if len(s.Errors) == 0 {
		s.Errors = r.Errors
	}
}

// TailRate is the comparison at one rate.
type TailRate struct {
	Rate          int
	Gintoki, Bare *TailStats
	// P99Ratio is the service's p99 over the bare server's, per round
	// (each pair ran back to back).
	P99Ratio stats.Series
}

// Tail is the tail phase's result.
type Tail struct {
	Err      error
	Conns    int
	Key      int
	Duration time.Duration
	Rates    []TailRate
}

func (r *Tail) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

// tailVerdicts judges the p99 ratio at each of tailTargetRates.
func (r *Report) tailVerdicts() []verdict {
	var out []verdict
	for _, rate := range TailTargetRates {
		t := fmt.Sprintf("Open loop at %s req/s, one hot key: p99 ≤ 1.5× bare net/http", count(float64(rate)))
		if v := r.phaseMissing(t, true, r.Tail != nil, errOf(r.Tail)); v != nil {
			out = append(out, *v)
			continue
		}
		var tr *TailRate
		for i := range r.Tail.Rates {
			if r.Tail.Rates[i].Rate == rate {
				tr = &r.Tail.Rates[i]
			}
		}
		if tr == nil {
			out = append(out, verdict{Target: t, Status: statusSkipped})
			continue
		}
		got := tr.Gintoki.P99.Median() / tr.Bare.P99.Median()
		v := atMost(t, fmt.Sprintf("%.2f× (p99 %.2f vs %.2f ms; per round %s)", got, tr.Gintoki.P99.Median(), tr.Bare.P99.Median(),
			spread(tr.P99Ratio, func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "×" })), got, targetTailP99Ratio)
		if v.Status == statusMet && (tr.Gintoki.Sent.Min() < 0.98*float64(rate) || tr.Bare.Sent.Min() < 0.98*float64(rate)) {
			v.Status, v.Note = statusNotShown, "the generator did not send the rate in every run"
		}
		out = append(out, v)
	}
	return out
}

func (r *Report) writeTail(w *mdWriter) {
	w.line("## 4b. Tail latency under an open-loop load, one hot key")
	w.line("")
	if r.Tail != nil {
		w.line(fmt.Sprintf("The vegeta library (in `gintoki-bench`) as `vegeta attack -rate=R -max-connections=%d -max-workers=%d` would", r.Tail.Conns, r.Tail.Conns))
		w.line(fmt.Sprintf("run it: `GET /cache?product_id=%d` for %s at a fixed rate, the product cached beforehand. The service and the", r.Tail.Key, r.Tail.Duration))
	}
	w.line("bare net/http server (the same bytes from a Go map) run in turn, each round after a one-second warm-up of both at")
	w.line("that rate; the ratio is the service's p99 over the bare server's. A closed loop (wrk, section 1) waits for each")
	w.line("answer before it sends the next and so hides pauses; an open loop keeps sending and counts them against the server.")
	w.line("Only this phase: `scripts/bench.sh --phases tail` (or `bin/gintoki-bench --phases tail`).")
	w.line("")
	if !r.phaseDone(w, r.Tail != nil, errOf(r.Tail)) {
		return
	}
	w.line("| req/s | server | sent req/s | success | p50 ms | p90 ms | p99 ms | max ms | server CPU | vegeta CPU |")
	w.line("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, tr := range r.Tail.Rates {
		for _, s := range []*TailStats{tr.Gintoki, tr.Bare} {
			succ := spread(s.Success, Pct)
			if len(s.Errors) > 0 {
				succ += " (" + oneLine(errors.New(s.Errors[0])) + ")"
			}
			w.row(count(float64(tr.Rate)), s.Name, spread(s.Sent, count), succ, spread(s.P50, msf), spread(s.P90, msf),
				spread(s.P99, msf), spread(s.Max, msf), spread(s.SvcCores, coresf), spread(s.GenCores, coresf))
		}
	}
	w.line("")
	for _, tr := range r.Tail.Rates {
		w.line(fmt.Sprintf("At %s req/s: service / bare p99 **%.2f×** (per round %s).", count(float64(tr.Rate)),
			tr.Gintoki.P99.Median()/tr.Bare.P99.Median(), spread(tr.P99Ratio, func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "×" })))
	}
	w.line("")
}
