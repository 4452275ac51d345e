package phase

import (
	"context"
	"fmt"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// memCacheBytes is the memory service's --cache-bytes: 1 GiB.
const memCacheBytes = 1 << 30

// protoCheckIDs is how many products' computed protobuf sizes are checked
// against the bodies the service sends by gRPC.
const protoCheckIDs = 2000

// memoryPhase seeds (or reuses) a database of MemProducts products, starts
// a service on it with a 1 GiB cache, loads every product with batch
// requests and measures memory, then GC pauses under a read load.
func (b *Env) memoryPhase(ctx context.Context) *report.Memory {
	cfg := b.cfg
	rep := &report.Memory{Database: cfg.MemDatabase, Products: cfg.MemProducts}
	b.logf("phase memory: %d products in database %s", cfg.MemProducts, cfg.MemDatabase)
	fail := func(err error) *report.Memory { rep.Err = err; return rep }

	dsn, err := mysql.ParseDSN(cfg.DBDSN)
	if err != nil {
		return fail(fmt.Errorf("--db-dsn: %w", err))
	}
	start := time.Now()
	if rep.Seeded, err = b.seedMemoryDB(ctx, *dsn); err != nil {
		return fail(err)
	}
	if rep.Seeded {
		// A bulk insert leaves InnoDB flushing for a while; loads measured
		// meanwhile would measure the flushing.
		b.waitFlushed(ctx)
	}
	rep.SeedTime = time.Since(start)
	b.logf("  database %s ready (seeded now: %v) in %s", cfg.MemDatabase, rep.Seeded, rep.SeedTime.Round(time.Millisecond))

	prefix := "benchmem"
	if err := stack.EnsureTopics(ctx, cfg.Brokers, prefix+"."+cfg.MemDatabase); err != nil {
		return fail(err)
	}
	memDSN := dsn.Clone()
	memDSN.DBName = cfg.MemDatabase
	p, err := b.startService("gintoki serve (1M)", "bench-serve-memory.log", b.serveArgs(b.addrs.MemHTTP, b.addrs.MemGRPC,
		"--db-dsn", memDSN.FormatDSN(), "--database", cfg.MemDatabase, "--cache-bytes", fmt.Sprint(memCacheBytes),
		// No relay writes to these topics: nothing to wait for heartbeats from.
		"--topic-prefix", prefix, "--heartbeats=false", "--admin-addr", b.addrs.MemAdmin)...)
	if err != nil {
		return fail(err)
	}
	defer b.stopProc(p)
	base, admin := "http://"+b.addrs.MemHTTP, "http://"+b.addrs.MemAdmin
	if err := stack.WaitHTTPReady(ctx, b.client, base+"/readyz", p, 90*time.Second); err != nil {
		return fail(err)
	}
	if rep.RSSIdle, _, err = probe.ProcRSS(p.PID()); err != nil {
		return fail(err)
	}

	start = time.Now()
	computed := map[int64]int{}
	var sizeErr error
	rep.NotFound, err = probe.BatchGetHTTP(ctx, b.client, base, cfg.MemProducts, 1000, 2, func(ps []probe.Product) {
		for _, pr := range ps {
			rep.JSONBytes += int64(len(pr.Body))
			n, err := probe.ProtoSizeOfJSON(pr.Body)
			if err != nil {
				sizeErr = firstErr(sizeErr, err)
				continue
			}
			rep.ProtoBytes += int64(n)
			if pr.ID <= protoCheckIDs {
				computed[pr.ID] = n
			}
		}
	})
	if err != nil {
		return fail(err)
	}
	if sizeErr != nil {
		return fail(sizeErr)
	}
	rep.LoadTime = time.Since(start)
	b.logf("  loaded %d products (%d unknown) in %s", cfg.MemProducts-rep.NotFound, rep.NotFound, rep.LoadTime.Round(time.Millisecond))

	cc, err := grpc.NewClient(b.addrs.MemGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fail(err)
	}
	defer cc.Close()
	if err := probe.BatchGetGRPCRaw(ctx, cc, min(protoCheckIDs, cfg.MemProducts), 1000, func(ps []probe.Product) {
		for _, pr := range ps {
			rep.ProtoChecked++
			if computed[pr.ID] != len(pr.Body) {
				rep.ProtoMismatch++
			}
		}
	}); err != nil {
		return fail(err)
	}

	m0, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	rep.Entries, _ = m0.Value("gintoki_cache_entries")
	rep.HeapInuse, _ = m0.Value("go_memstats_heap_inuse_bytes")
	rep.Evictions, _ = m0.Value("gintoki_cache_evictions_total")
	rep.CacheBytes, _ = m0.Value("gintoki_cache_bytes")
	rep.GOGC, rep.MemLimit = -1, -1
	if v, ok := m0.Value("go_gc_gogc_percent"); ok {
		rep.GOGC = v
	}
	if v, ok := m0.Value("go_gc_gomemlimit_bytes"); ok {
		rep.MemLimit = v
	}
	if rep.RSS, rep.HWM, err = probe.ProcRSS(p.PID()); err != nil {
		return fail(err)
	}
	b.logf("  entries %.0f, payload %d MB (JSON %d + protobuf %d), RSS %d MB, heap in use %.0f MB",
		rep.Entries, rep.Payload()>>20, rep.JSONBytes>>20, rep.ProtoBytes>>20, rep.RSS>>20, rep.HeapInuse/(1<<20))

	_, c0, s0, _ := m0.Summary("go_gc_duration_seconds")
	h0, hok0 := m0.Histogram("gintoki_gc_pause_seconds")
	// A runtime trace over the middle of the load tells how long the world
	// was really stopped in each GC pause.
	rep.TraceLen = max(time.Second, (cfg.GCDuration - 2*time.Second).Truncate(time.Second))
	traced := make(chan []probe.STWPause, 1)
	go func() {
		defer close(traced)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		ps, err := probe.TraceGCPauses(ctx, b.client, admin, rep.TraceLen)
		rep.TraceErr = err
		traced <- ps
	}()
	rep.Reads, err = loadgen.RunWrk(ctx, loadgen.WrkRun{URL: base, Script: b.script, Threads: cfg.WrkThreads, Conns: cfg.WrkConns,
		Duration: cfg.GCDuration, MaxID: cfg.MemProducts, Style: "path"})
	ps := <-traced // written before traced is closed: TraceErr is safe to read now
	if err != nil {
		return fail(err)
	}
	rep.TracePauses = probe.SummarisePauses(ps, report.TargetGCPauseP99)
	if t := rep.TracePauses; rep.TraceErr == nil {
		b.logf("  runtime trace of %s: %d GC pauses, world stopped p99 %s, recorded by the runtime p99 %s",
			rep.TraceLen, t.N, t.StopP99, t.RecP99)
	} else {
		b.logf("  runtime trace: %v", rep.TraceErr)
	}
	m1, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	q, c1, s1, _ := m1.Summary("go_gc_duration_seconds")
	rep.GCQuantiles, rep.GCCount, rep.GCPauseSum = q, float64(c1-c0), s1-s0
	if h1, ok := m1.Histogram("gintoki_gc_pause_seconds"); ok && hok0 {
		rep.SchedPauses, rep.SchedPausesOK = h1.Since(h0), true
	}
	rep.HeapAfter, _ = m1.Value("go_memstats_heap_inuse_bytes")

	// The same at the 1M/min rate, open loop: the machine is not saturated.
	rep.RateReads = loadgen.OpenLoop{Addr: b.addrs.MemHTTP, Path: "/v1/products/", Suffix: "/inventory", Rate: report.TargetFixedRate,
		Duration: cfg.GCDuration, MaxID: cfg.MemProducts, Conns: cfg.FreshConns, ServerPID: p.PID()}.Run(ctx)
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	m1b, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	_, c2, _, _ := m1b.Summary("go_gc_duration_seconds")
	rep.RateGCCount = float64(c2 - c1)
	if h2, ok := m1b.Histogram("gintoki_gc_pause_seconds"); ok && rep.SchedPausesOK {
		h1, _ := m1.Histogram("gintoki_gc_pause_seconds")
		rep.RatePauses = h2.Since(h1)
	}
	rep.GCTotal = c1
	if rep.RSSAfterLoad, _, err = probe.ProcRSS(p.PID()); err != nil {
		return fail(err)
	}
	// Diagnostic: what is live, and what RSS falls to, once the garbage
	// of the load is collected (the heap profile with gc=1 runs a GC).
	if err := probe.GetOK(ctx, b.client, admin+"/debug/pprof/heap?gc=1"); err != nil {
		return fail(fmt.Errorf("force a GC: %w", err))
	}
	time.Sleep(3 * time.Second)
	m2, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	rep.HeapAfterGC, _ = m2.Value("go_memstats_heap_inuse_bytes")
	if rep.RSSAfterGC, _, err = probe.ProcRSS(p.PID()); err != nil {
		return fail(err)
	}
	b.logf("  read load %.0f req/s: %.0f GC cycles, pause max %.3f ms; after a forced GC: heap in use %.0f MB, RSS %d MB",
		rep.Reads.RPS, rep.GCCount, 1000*rep.GCQuantiles[1], rep.HeapAfterGC/(1<<20), rep.RSSAfterGC>>20)
	return rep
}

// seedMemoryDB creates (or reuses) the database of the memory and cold
// phases on the stack's MariaDB (stack.SeedMemoryDB).
func (b *Env) seedMemoryDB(ctx context.Context, dsn mysql.Config) (seeded bool, err error) {
	return stack.SeedMemoryDB(ctx, stack.Seed{DSN: dsn, Database: b.cfg.MemDatabase, Products: b.cfg.MemProducts, Schema: b.cfg.Schema}, b.logf)
}

// waitFlushed waits until InnoDB has written back the pages of a seeding.
func (b *Env) waitFlushed(ctx context.Context) { stack.WaitFlushed(ctx, b.db, b.logf) }
