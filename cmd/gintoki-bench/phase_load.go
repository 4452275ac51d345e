package main

import (
	"context"
	"fmt"
	"time"
)

// loadStats are one contender's figures over the rounds of a closed-loop
// comparison.
type loadStats struct {
	Name       string
	RPS        series // requests (calls) per second
	ProductsPS series // products per second (gRPC)
	P50, P99   series // milliseconds
	SvcCores   series // CPU of the server, in cores
	GenCores   series // CPU of the load generator, in cores
	Errors     int64
	FirstErr   string
}

func (s *loadStats) addWrk(r wrkResult, svcCores float64) {
	s.RPS = append(s.RPS, r.RPS)
	s.P50 = append(s.P50, ms(r.P50))
	s.P99 = append(s.P99, ms(r.P99))
	s.SvcCores = append(s.SvcCores, svcCores)
	s.GenCores = append(s.GenCores, r.GenCores)
	s.Errors += r.Errors
}

func (s *loadStats) addGRPC(r grpcRunResult, svcCores float64) {
	s.RPS = append(s.RPS, r.RPS)
	s.ProductsPS = append(s.ProductsPS, r.ProductsPS)
	s.P50 = append(s.P50, ms(r.P50))
	s.P99 = append(s.P99, ms(r.P99))
	s.SvcCores = append(s.SvcCores, svcCores)
	s.GenCores = append(s.GenCores, r.GenCores)
	s.Errors += r.Errors
	if s.FirstErr == "" {
		s.FirstErr = r.FirstErr
	}
}

// httpReport is phases 1 and 2: the HTTP hit path against the bare
// baseline and against the database-only service.
type httpReport struct {
	Err                   error
	Gintoki, Bare, DBOnly *loadStats
}

// httpPhase runs wrk against the cached service, the bare server and the
// db-only service, interleaved (A B C A B C …), after a one-second warm-up
// of each.
func (b *bench) httpPhase(ctx context.Context) *httpReport {
	b.logf("phase HTTP: %d rounds of %s per contender", b.cfg.Rounds, b.cfg.Duration)
	rep := &httpReport{
		Gintoki: &loadStats{Name: "gintoki serve"},
		Bare:    &loadStats{Name: "bare net/http"},
		DBOnly:  &loadStats{Name: "gintoki serve --no-cache"},
	}
	type contender struct {
		st   *loadStats
		addr string
		p    *proc
	}
	cs := []contender{{rep.Gintoki, b.addrs.HTTP, b.cached}, {rep.Bare, b.addrs.BareHTTP, b.bareHTTP}, {rep.DBOnly, b.addrs.NoCacheHTTP, b.noCache}}
	run := func(c contender, d time.Duration) (wrkResult, float64, error) {
		cpu := startCPU(c.p.pid())
		r, err := runWrk(ctx, wrkRun{URL: "http://" + c.addr, Script: b.script, Threads: b.cfg.WrkThreads,
			Conns: b.cfg.WrkConns, Duration: d, MaxID: b.cfg.Products, Style: "path"})
		return r, cpu.cores(), err
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
			c.st.addWrk(r, cores)
			b.logf("  round %d %-26s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d", round, c.st.Name, r.RPS, ms(r.P50), ms(r.P99), r.Errors)
		}
	}
	return rep
}

// grpcReport is phase 3: unary and batch calls against the bare gRPC
// server.
type grpcReport struct {
	Err                            error
	Get, GetBare, Batch, BatchBare *loadStats
	Conns, Callers, BatchSize      int
}

// grpcPhase runs the gRPC load generator against the cached service and
// the bare server, interleaved, for GetInventory and BatchGetInventory.
func (b *bench) grpcPhase(ctx context.Context) *grpcReport {
	b.logf("phase gRPC: %d rounds of %s per contender and method", b.cfg.Rounds, b.cfg.Duration)
	rep := &grpcReport{
		Get: &loadStats{Name: "gintoki GetInventory"}, GetBare: &loadStats{Name: "bare GetInventory"},
		Batch:     &loadStats{Name: fmt.Sprintf("gintoki BatchGetInventory (%d ids)", b.cfg.BatchSize)},
		BatchBare: &loadStats{Name: fmt.Sprintf("bare BatchGetInventory (%d ids)", b.cfg.BatchSize)},
		Conns:     b.cfg.GRPCConns, Callers: b.cfg.GRPCCallers, BatchSize: b.cfg.BatchSize,
	}
	type contender struct {
		st    *loadStats
		addr  string
		p     *proc
		batch int
	}
	cs := []contender{
		{rep.Get, b.addrs.GRPC, b.cached, 0}, {rep.GetBare, b.addrs.BareGRPC, b.bareGRPC, 0},
		{rep.Batch, b.addrs.GRPC, b.cached, b.cfg.BatchSize}, {rep.BatchBare, b.addrs.BareGRPC, b.bareGRPC, b.cfg.BatchSize},
	}
	run := func(c contender, d time.Duration) (grpcRunResult, float64, error) {
		cpu := startCPU(c.p.pid())
		r, err := runGRPCLoad(ctx, grpcRun{Addr: c.addr, Conns: b.cfg.GRPCConns, Callers: b.cfg.GRPCCallers,
			Duration: d, MaxID: b.cfg.Products, Batch: c.batch})
		return r, cpu.cores(), err
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
			c.st.addGRPC(r, cores)
			b.logf("  round %d %-36s %8.0f calls/s %9.0f products/s  p99 %6.2f ms  errors %d", round, c.st.Name, r.RPS, r.ProductsPS, ms(r.P99), r.Errors)
		}
	}
	return rep
}

// fixedReport is phase 4: fixed request rates with vegeta.
type fixedReport struct {
	Err  error
	Runs []fixedResult
}

// fixedPhase runs vegeta at each configured rate against GET /cache.
func (b *bench) fixedPhase(ctx context.Context) *fixedReport {
	b.logf("phase fixed rate: %v req/s for %s each", b.cfg.Rates, b.cfg.FixedDuration)
	rep := &fixedReport{}
	for _, rate := range b.cfg.Rates {
		r := runFixedRate(ctx, fixedRun{URL: "http://" + b.addrs.HTTP, Rate: rate, Duration: b.cfg.FixedDuration,
			MaxID: b.cfg.Products, ServerPID: b.cached.pid()})
		if err := ctx.Err(); err != nil {
			rep.Err = err
			return rep
		}
		rep.Runs = append(rep.Runs, r)
		b.logf("  %6d req/s target: sent %.0f/s, success %.4f%%, p50 %.2f ms p99 %.2f ms max %.2f ms",
			rate, r.Sent, 100*r.Success, ms(r.P50), ms(r.P99), ms(r.Max))
		time.Sleep(time.Second) // let connections and GC settle between runs
	}
	return rep
}
