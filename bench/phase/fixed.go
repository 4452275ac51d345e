package phase

import (
	"context"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stats"
)

// fixedPhase runs vegeta at each configured rate against GET /cache.
func (b *Env) fixedPhase(ctx context.Context) *report.Fixed {
	b.logf("phase fixed rate: %v req/s for %s each", b.cfg.Rates, b.cfg.FixedDuration)
	rep := &report.Fixed{}
	for _, rate := range b.cfg.Rates {
		r := loadgen.RunFixedRate(ctx, loadgen.FixedRun{URL: "http://" + b.addrs.HTTP, Rate: rate, Duration: b.cfg.FixedDuration,
			MaxID: b.cfg.Products, ServerPID: b.cached.PID()})
		if err := ctx.Err(); err != nil {
			rep.Err = err
			return rep
		}
		rep.Runs = append(rep.Runs, r)
		b.logf("  %6d req/s target: sent %.0f/s, success %.4f%%, p50 %.2f ms p99 %.2f ms max %.2f ms",
			rate, r.Sent, 100*r.Success, stats.MS(r.P50), stats.MS(r.P99), stats.MS(r.Max))
		time.Sleep(time.Second) // let connections and GC settle between runs
	}
	return rep
}
