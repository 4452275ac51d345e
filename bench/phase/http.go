package phase

import (
	"context"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	"github.com/gintoki/gintoki/bench/stats"
)

// httpPhase runs wrk against the cached service, the bare server and the
// db-only service, interleaved (A B C A B C …), after a one-second warm-up
// of each.
func (b *Env) httpPhase(ctx context.Context) *report.HTTP {
	b.logf("phase HTTP: %d rounds of %s per contender", b.cfg.Rounds, b.cfg.Duration)
	rep := &report.HTTP{
		Gintoki: &report.LoadStats{Name: "gintoki serve"},
		Bare:    &report.LoadStats{Name: "bare net/http"},
		DBOnly:  &report.LoadStats{Name: "gintoki serve --no-cache"},
	}
	type contender struct {
		st   *report.LoadStats
		addr string
		p    *stack.Proc
	}
	cs := []contender{{rep.Gintoki, b.addrs.HTTP, b.cached}, {rep.Bare, b.addrs.BareHTTP, b.bareHTTP}, {rep.DBOnly, b.addrs.NoCacheHTTP, b.noCache}}
	run := func(c contender, d time.Duration) (loadgen.WrkResult, float64, error) {
		cpu := probe.StartCPU(c.p.PID())
		r, err := loadgen.RunWrk(ctx, loadgen.WrkRun{URL: "http://" + c.addr, Script: b.script, Threads: b.cfg.WrkThreads,
			Conns: b.cfg.WrkConns, Duration: d, MaxID: b.cfg.Products, Style: "path"})
		return r, cpu.Cores(), err
	}
	for _, c := range cs {
		if _, _, err := run(c, time.Second); err != nil {
			rep.Err = err
			return rep
		}
	}
	for round := 1; round <= b.cfg.Rounds; round++ {
		for _, c := range cs {
			r, cores, err := run(c, b.cfg.Duration)
			if err != nil {
				rep.Err = err
				return rep
			}
			c.st.AddWrk(r, cores)
			b.logf("  round %d %-26s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d", round, c.st.Name, r.RPS, stats.MS(r.P50), stats.MS(r.P99), r.Errors)
		}
	}
	return rep
}
