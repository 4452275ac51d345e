package phase

import (
	"context"
	"fmt"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	"github.com/gintoki/gintoki/bench/stats"
)

// grpcPhase runs the gRPC load generator against the cached service and
// the bare server, interleaved, for GetInventory and BatchGetInventory.
func (b *Env) grpcPhase(ctx context.Context) *report.GRPC {
	b.logf("phase gRPC: %d rounds of %s per contender and method", b.cfg.Rounds, b.cfg.Duration)
	rep := &report.GRPC{
		Get: &report.LoadStats{Name: "gintoki GetInventory"}, GetBare: &report.LoadStats{Name: "bare GetInventory"},
		Batch:     &report.LoadStats{Name: fmt.Sprintf("gintoki BatchGetInventory (%d ids)", b.cfg.BatchSize)},
		BatchBare: &report.LoadStats{Name: fmt.Sprintf("bare BatchGetInventory (%d ids)", b.cfg.BatchSize)},
		Conns:     b.cfg.GRPCConns, Callers: b.cfg.GRPCCallers, BatchSize: b.cfg.BatchSize,
	}
	type contender struct {
		st    *report.LoadStats
		addr  string
		p     *stack.Proc
		batch int
	}
	cs := []contender{
		{rep.Get, b.addrs.GRPC, b.cached, 0}, {rep.GetBare, b.addrs.BareGRPC, b.bareGRPC, 0},
		{rep.Batch, b.addrs.GRPC, b.cached, b.cfg.BatchSize}, {rep.BatchBare, b.addrs.BareGRPC, b.bareGRPC, b.cfg.BatchSize},
	}
	rep.Err = b.interleave(len(cs), func(i, round int, d time.Duration) error {
		c := cs[i]
		cpu := probe.StartCPU(c.p.PID())
		r, err := loadgen.RunGRPC(ctx, loadgen.GRPCRun{Addr: c.addr, Conns: b.cfg.GRPCConns, Callers: b.cfg.GRPCCallers,
			Duration: d, MaxID: b.cfg.Products, Batch: c.batch})
		if err != nil || round == 0 {
			return err
		}
		c.st.AddGRPC(r, cpu.Cores())
		b.logf("  round %d %-36s %8.0f calls/s %9.0f products/s  p99 %6.2f ms  errors %d", round, c.st.Name, r.RPS, r.ProductsPS, stats.MS(r.P99), r.Errors)
		return nil
	})
	return rep
}
