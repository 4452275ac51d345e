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
	rep.Err = b.interleave(len(cs), func(i, round int, d time.Duration) error {
		c := cs[i]
		cpu := probe.StartCPU(c.p.PID())
		r, err := loadgen.RunWrk(ctx, loadgen.WrkRun{URL: "http://" + c.addr, Script: b.script, Threads: b.cfg.WrkThreads,
			Conns: b.cfg.WrkConns, Duration: d, MaxID: b.cfg.Products, Style: "path"})
		if err != nil || round == 0 {
			return err
		}
		c.st.AddWrk(r, cpu.Cores())
		b.logf("  round %d %-26s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d", round, c.st.Name, r.RPS, stats.MS(r.P50), stats.MS(r.P99), r.Errors)
		return nil
	})
	return rep
}

// interleave runs contenders 0..n-1 for a second each (their warm-up,
// round 0), then --rounds rounds of --duration, in turn (A B C A B C …),
// so that drift and noise from other processes hit each alike. It stops at
// the first error.
func (b *Env) interleave(n int, run func(i, round int, d time.Duration) error) error {
	for i := range n {
		if err := run(i, 0, time.Second); err != nil {
			return err
		}
	}
	for round := 1; round <= b.cfg.Rounds; round++ {
		for i := range n {
			if err := run(i, round, b.cfg.Duration); err != nil {
				return err
			}
		}
	}
	return nil
}
