package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// tailConfig configures the tail phase: the service and the bare net/http
// server under the same open-loop load, one hot key, interleaved.
type tailConfig struct {
	Rates    []int         // req/s; each is one comparison
	Duration time.Duration // one run of one contender
	Conns    int           // vegeta -max-connections and -max-workers
	Key      int           // the hot product id
}

func (c *tailConfig) flags(fs *flag.FlagSet) {
	fs.Func("tail-rates", "request rates (req/s) of the tail phase, comma-separated (default 10000,4000)", func(s string) error {
		r, err := parseInts(s)
		c.Rates = r
		return err
	})
	fs.DurationVar(&c.Duration, "tail-duration", 0, "length of one run of the tail phase (default 10s, quick 2s)")
	fs.IntVar(&c.Conns, "tail-conns", 256, "the tail phase's client pool: vegeta's -max-connections and -max-workers")
	fs.IntVar(&c.Key, "tail-key", 42, "the product id every request of the tail phase asks for (cached beforehand)")
}

func (c *tailConfig) resolve(quick bool) {
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
		if quick {
			c.Duration = 2 * time.Second
		}
	}
	if len(c.Rates) == 0 {
		c.Rates = tailTargetRates
	}
}

func (c *tailConfig) validate() error {
	if c.Duration <= 0 || c.Conns <= 0 || c.Key <= 0 {
		return errors.New("--tail-duration, --tail-conns and --tail-key must be positive")
	}
	return nil
}

// targetTailP99Ratio: under the same open-loop load the service's p99 is at
// most this multiple of the bare server's, at each of tailTargetRates.
const targetTailP99Ratio = 1.5

// tailTargetRates are the rates (req/s) the targets name.
var tailTargetRates = []int{10_000, 4_000}

// tailStats are one contender's figures at one rate, one value per round.
type tailStats struct {
	Name               string
	Sent, Success      series // req/s actually sent; share of 2xx
	P50, P90, P99, Max series // milliseconds
	SvcCores, GenCores series
	Errors             []string
}

func (s *tailStats) add(r fixedResult) {
	s.Sent = append(s.Sent, r.Sent)
	s.Success = append(s.Success, r.Success)
	s.P50, s.P90 = append(s.P50, ms(r.P50)), append(s.P90, ms(r.P90))
	s.P99, s.Max = append(s.P99, ms(r.P99)), append(s.Max, ms(r.Max))
	s.SvcCores, s.GenCores = append(s.SvcCores, r.ServiceCores), append(s.GenCores, r.GenCores)
	if len(s.Errors) == 0 {
		s.Errors = r.Errors
	}
}

// tailRate is the comparison at one rate.
type tailRate struct {
	Rate          int
	Gintoki, Bare *tailStats
	// P99Ratio is the service's p99 over the bare server's, per round
	// (each pair ran back to back).
	P99Ratio series
}

// tailReport is the tail phase's result.
type tailReport struct {
	Err      error
	Conns    int
	Key      int
	Duration time.Duration
	Rates    []tailRate
}

func (r *tailReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

// tailPhase runs, at each rate, the cached service and the bare server in
// turn (A B A B …, one round per --rounds), each after a one-second
// warm-up at that rate.
func (b *bench) tailPhase(ctx context.Context) *tailReport {
	c := b.cfg.Tail
	b.logf("phase tail: %v req/s, %d rounds of %s per contender, product %d, pool of %d", c.Rates, b.cfg.Rounds, c.Duration, c.Key, c.Conns)
	rep := &tailReport{Conns: c.Conns, Key: c.Key, Duration: c.Duration}
	if c.Key > b.cfg.Products {
		rep.Err = fmt.Errorf("--tail-key %d is not among the products warmed (1..%d)", c.Key, b.cfg.Products)
		return rep
	}
	type contender struct {
		name string
		url  string
		p    *proc
		st   func(*tailRate) *tailStats
	}
	cs := []contender{
		{"gintoki serve", "http://" + b.addrs.HTTP, b.cached, func(t *tailRate) *tailStats { return t.Gintoki }},
		{"bare net/http", "http://" + b.addrs.BareHTTP, b.bareHTTP, func(t *tailRate) *tailStats { return t.Bare }},
	}
	for _, rate := range c.Rates {
		tr := tailRate{Rate: rate, Gintoki: &tailStats{Name: cs[0].name}, Bare: &tailStats{Name: cs[1].name}}
		run := func(x contender, d time.Duration) fixedResult {
			return runHotKey(ctx, hotKeyRun{URL: x.url, Rate: rate, Duration: d, Key: c.Key, Conns: c.Conns, ServerPID: x.p.pid()})
		}
		for _, x := range cs {
			run(x, time.Second)
		}
		for round := 1; round <= b.cfg.Rounds; round++ {
			var p99 [2]float64
			for i, x := range cs {
				r := run(x, c.Duration)
				if err := ctx.Err(); err != nil {
					rep.Err = err
					return rep
				}
				x.st(&tr).add(r)
				p99[i] = ms(r.P99)
				b.logf("  %6d req/s round %d %-14s sent %.0f/s success %.4f%% p50 %.2f p90 %.2f p99 %.2f max %.2f ms",
					rate, round, x.name, r.Sent, 100*r.Success, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
			}
			tr.P99Ratio = append(tr.P99Ratio, p99[0]/p99[1])
		}
		rep.Rates = append(rep.Rates, tr)
	}
	return rep
}

// hotKeyRun is one open-loop run at a fixed rate on one product, as the
// vegeta command would make it with -max-connections=Conns
// -max-workers=Conns (its other settings at their defaults).
type hotKeyRun struct {
	URL       string // base URL, http://host:port
	Rate      int
	Duration  time.Duration
	Key       int
	Conns     int
	ServerPID int
}

// runHotKey runs r until its duration has passed or ctx ends.
func runHotKey(ctx context.Context, r hotKeyRun) fixedResult {
	tgt := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: r.URL + "/cache?product_id=" + strconv.Itoa(r.Key)})
	atk := vegeta.NewAttacker(vegeta.MaxConnections(r.Conns), vegeta.MaxWorkers(uint64(r.Conns)), vegeta.Timeout(5*time.Second))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	svc, gen := startCPU(r.ServerPID), startCPU(os.Getpid())
	var m vegeta.Metrics
	for res := range atk.Attack(tgt, vegeta.Rate{Freq: r.Rate, Per: time.Second}, r.Duration, "gintoki-bench tail") {
		m.Add(res)
	}
	m.Close()
	out := fixedResult{
		Target: r.Rate, Requests: m.Requests, Sent: m.Rate, Throughput: m.Throughput, Success: m.Success,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max,
		ServiceCores: svc.cores(), GenCores: gen.cores(), InFlight: r.Conns,
	}
	out.Errors = m.Errors[:min(len(m.Errors), 3)]
	return out
}

// tailVerdicts judges the p99 ratio at each of tailTargetRates.
func (r *report) tailVerdicts() []verdict {
	var out []verdict
	for _, rate := range tailTargetRates {
		t := fmt.Sprintf("Open loop at %s req/s, one hot key: p99 ≤ 1.5× bare net/http", count(float64(rate)))
		if v := r.phaseMissing(t, true, r.Tail != nil, errOf(r.Tail)); v != nil {
			out = append(out, *v)
			continue
		}
		var tr *tailRate
		for i := range r.Tail.Rates {
			if r.Tail.Rates[i].Rate == rate {
				tr = &r.Tail.Rates[i]
			}
		}
		if tr == nil {
			out = append(out, verdict{Target: t, Status: statusSkipped})
			continue
		}
		got := tr.Gintoki.P99.median() / tr.Bare.P99.median()
		v := atMost(t, fmt.Sprintf("%.2f× (p99 %.2f vs %.2f ms; per round %s)", got, tr.Gintoki.P99.median(), tr.Bare.P99.median(),
			spread(tr.P99Ratio, func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "×" })), got, targetTailP99Ratio)
		if v.Status == statusMet && (tr.Gintoki.Sent.min() < 0.98*float64(rate) || tr.Bare.Sent.min() < 0.98*float64(rate)) {
			v.Status, v.Note = statusNotShown, "the generator did not send the rate in every run"
		}
		out = append(out, v)
	}
	return out
}

func (r *report) writeTail(w *mdWriter) {
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
		for _, s := range []*tailStats{tr.Gintoki, tr.Bare} {
			succ := spread(s.Success, pct)
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
			tr.Gintoki.P99.median()/tr.Bare.P99.median(), spread(tr.P99Ratio, func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "×" })))
	}
	w.line("")
}
