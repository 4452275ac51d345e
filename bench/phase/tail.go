package phase

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	"github.com/gintoki/gintoki/bench/stats"
)

// tailConfig configures the tail phase: the service and the bare net/http
// server under the same open-loop load, one hot key, interleaved.
type tailConfig struct {
	Rates    []int         // req/s; each is one comparison
	Duration time.Duration // one run of one contender
	Conns    int           // vegeta -max-connections and -max-workers
	Key      int           // the hot product id
}

// Flags registers the tail phase's flags.
func (c *tailConfig) Flags(fs *flag.FlagSet) {
	fs.Func("tail-rates", "request rates (req/s) of the tail phase, comma-separated (default 10000,4000)", func(s string) error {
		r, err := parseInts(s)
		c.Rates = r
		return err
	})
	fs.DurationVar(&c.Duration, "tail-duration", 0, "length of one run of the tail phase (default 10s, quick 2s)")
	fs.IntVar(&c.Conns, "tail-conns", 256, "the tail phase's client pool: vegeta's -max-connections and -max-workers")
	fs.IntVar(&c.Key, "tail-key", 42, "the product id every request of the tail phase asks for (cached beforehand)")
}

// Resolve fills the defaults that depend on --quick.
func (c *tailConfig) Resolve(quick bool) {
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
		if quick {
			c.Duration = 2 * time.Second
		}
	}
	if len(c.Rates) == 0 {
		c.Rates = report.TailTargetRates
	}
}

// Validate checks the tail phase's flags.
func (c *tailConfig) Validate() error {
	if c.Duration <= 0 || c.Conns <= 0 || c.Key <= 0 {
		return errors.New("--tail-duration, --tail-conns and --tail-key must be positive")
	}
	return nil
}

// tailPhase runs, at each rate, the cached service and the bare server in
// turn (A B A B …, one round per --rounds), each after a one-second
// warm-up at that rate.
func (b *Env) tailPhase(ctx context.Context) *report.Tail {
	c := b.cfg.Tail
	b.logf("phase tail: %v req/s, %d rounds of %s per contender, product %d, pool of %d", c.Rates, b.cfg.Rounds, c.Duration, c.Key, c.Conns)
	rep := &report.Tail{Conns: c.Conns, Key: c.Key, Duration: c.Duration}
	if c.Key > b.cfg.Products {
		rep.Err = fmt.Errorf("--tail-key %d is not among the products warmed (1..%d)", c.Key, b.cfg.Products)
		return rep
	}
	type contender struct {
		name string
		url  string
		p    *stack.Proc
		st   func(*report.TailRate) *report.TailStats
	}
	cs := []contender{
		{"gintoki serve", "http://" + b.addrs.HTTP, b.cached, func(t *report.TailRate) *report.TailStats { return t.Gintoki }},
		{"bare net/http", "http://" + b.addrs.BareHTTP, b.bareHTTP, func(t *report.TailRate) *report.TailStats { return t.Bare }},
	}
	for _, rate := range c.Rates {
		tr := report.TailRate{Rate: rate, Gintoki: &report.TailStats{Name: cs[0].name}, Bare: &report.TailStats{Name: cs[1].name}}
		run := func(x contender, d time.Duration) loadgen.FixedResult {
			return loadgen.RunHotKey(ctx, loadgen.HotKeyRun{URL: x.url, Rate: rate, Duration: d, Key: c.Key, Conns: c.Conns, ServerPID: x.p.PID()})
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
				x.st(&tr).Add(r)
				p99[i] = stats.MS(r.P99)
				b.logf("  %6d req/s round %d %-14s sent %.0f/s success %.4f%% p50 %.2f p90 %.2f p99 %.2f max %.2f ms",
					rate, round, x.name, r.Sent, 100*r.Success, stats.MS(r.P50), stats.MS(r.P90), stats.MS(r.P99), stats.MS(r.Max))
			}
			tr.P99Ratio = append(tr.P99Ratio, p99[0]/p99[1])
		}
		rep.Rates = append(rep.Rates, tr)
	}
	return rep
}
