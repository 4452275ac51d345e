package phase

import (
	"fmt"

	"github.com/gintoki/gintoki/bench/report"
)

// settings lists the parameters of the run, for the report.
func (b *Env) settings() []string {
	c := b.cfg
	return []string{
		fmt.Sprintf("closed loop: %d interleaved rounds of %s per contender, after a 1 s warm-up of each; wrk -t%d -c%d --latency, random ids 1..%d", c.Rounds, c.Duration, c.WrkThreads, c.WrkConns, c.Products),
		fmt.Sprintf("gRPC: %d callers over %d connections, generated client; batches of %d distinct random ids", c.GRPCCallers, c.GRPCConns, c.BatchSize),
		fmt.Sprintf("fixed rate: vegeta library, %s each, GET /cache?product_id=<random>", c.FixedDuration),
		fmt.Sprintf("tail: vegeta library, -max-connections=%d -max-workers=%d, GET /cache?product_id=%d, %v req/s, %d interleaved rounds of %s per contender", c.Tail.Conns, c.Tail.Conns, c.Tail.Key, c.Tail.Rates, c.Rounds, c.Tail.Duration),
		fmt.Sprintf("freshness: one run of %s per read rate %v req/s (open loop, %d connections)%s; %d UPDATEs/s over %d connections, %d/s sampled, polled every %s, give up after %s", c.FreshDuration, c.FreshReads, c.FreshConns, vegetaRun(c), c.FreshWrites, c.Writers, c.FreshSample, pollEvery, report.PollGiveUp),
		fmt.Sprintf("memory: database %s, %d products, --cache-bytes %d, read load %s", c.MemDatabase, c.MemProducts, memCacheBytes, c.GCDuration),
	}
}

// vegetaRun describes the freshness phase's comparison run, if any.
func vegetaRun(c Config) string {
	if !c.FreshVegeta || len(c.FreshReads) == 0 {
		return ""
	}
	return fmt.Sprintf(" and one at %d req/s with vegeta", c.FreshReads[0])
}
