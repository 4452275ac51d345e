package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// memCacheBytes is the memory service's --cache-bytes: 1 GiB.
const memCacheBytes = 1 << 30

// protoCheckIDs is how many products' computed protobuf sizes are checked
// against the bodies the service sends by gRPC.
const protoCheckIDs = 2000

// memoryReport is phase 6: the service with every product of a large
// database resident.
type memoryReport struct {
	Err           error
	Database      string
	Products      int
	Seeded        bool // seeded by this run (else reused)
	SeedTime      time.Duration
	LoadTime      time.Duration
	NotFound      int
	Entries       float64
	JSONBytes     int64 // product bodies received (batch envelopes excluded)
	ProtoBytes    int64 // their protobuf encodings (ProductInventory)
	ProtoChecked  int   // products whose computed size was compared with the service's gRPC body
	ProtoMismatch int
	RSSIdle       int64 // ready, nothing loaded
	RSS, HWM      int64 // after loading
	RSSAfterLoad  int64 // after the read load
	HeapInuse     float64
	HeapAfter     float64
	Evictions     float64
	CacheBytes    float64   // gintoki_cache_bytes: the cache's capacity
	GOGC          float64   // go_gc_gogc_percent (-1 if not exported)
	MemLimit      float64   // go_gc_gomemlimit_bytes (-1 if not exported)
	Reads         wrkResult // the read load during which GC is observed
	RSSAfterGC    int64     // after a forced GC and a pause for the scavenger
	HeapAfterGC   float64   // heap in use after the forced GC
	GCTotal       uint64    // GC cycles in the process's life before the forced GC
	GCCount       float64   // GC cycles during the read load
	GCPauseSum    float64   // seconds of pause during the read load
	GCQuantiles   map[float64]float64
	SchedPauses   hist // gintoki_gc_pause_seconds during the read load, when the service exports it
	SchedPausesOK bool
	// The second read load: open loop at the 1M/min rate.
	RateReads   fixedResult
	RateGCCount float64
	RatePauses  hist // gintoki_gc_pause_seconds during it
	// A runtime trace during the first read load.
	TraceLen    time.Duration
	TracePauses stwStats
	TraceErr    error
}

// payload is what the service holds for its clients: every product's JSON
// body and its protobuf body.
func (r *memoryReport) payload() int64 { return r.JSONBytes + r.ProtoBytes }

// memoryPhase seeds (or reuses) a database of MemProducts products, starts
// a service on it with a 1 GiB cache, loads every product with batch
// requests and measures memory, then GC pauses under a read load.
func (b *bench) memoryPhase(ctx context.Context) *memoryReport {
	cfg := b.cfg
	rep := &memoryReport{Database: cfg.MemDatabase, Products: cfg.MemProducts}
	b.logf("phase memory: %d products in database %s", cfg.MemProducts, cfg.MemDatabase)
	fail := func(err error) *memoryReport { rep.Err = err; return rep }

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
	if err := ensureTopics(ctx, cfg.Brokers, prefix+"."+cfg.MemDatabase); err != nil {
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
	if err := waitHTTPReady(ctx, b.client, base+"/readyz", p, 90*time.Second); err != nil {
		return fail(err)
	}
	if rep.RSSIdle, _, err = procRSS(p.pid()); err != nil {
		return fail(err)
	}

	start = time.Now()
	computed := map[int64]int{}
	var sizeErr error
	rep.NotFound, err = batchGetHTTP(ctx, b.client, base, cfg.MemProducts, 1000, 2, func(ps []product) {
		for _, pr := range ps {
			rep.JSONBytes += int64(len(pr.Body))
			n, err := protoSizeOfJSON(pr.Body)
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
	if err := batchGetGRPCRaw(ctx, cc, min(protoCheckIDs, cfg.MemProducts), 1000, func(ps []product) {
		for _, pr := range ps {
			rep.ProtoChecked++
			if computed[pr.ID] != len(pr.Body) {
				rep.ProtoMismatch++
			}
		}
	}); err != nil {
		return fail(err)
	}

	m0, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	rep.Entries, _ = m0.value("gintoki_cache_entries")
	rep.HeapInuse, _ = m0.value("go_memstats_heap_inuse_bytes")
	rep.Evictions, _ = m0.value("gintoki_cache_evictions_total")
	rep.CacheBytes, _ = m0.value("gintoki_cache_bytes")
	rep.GOGC, rep.MemLimit = -1, -1
	if v, ok := m0.value("go_gc_gogc_percent"); ok {
		rep.GOGC = v
	}
	if v, ok := m0.value("go_gc_gomemlimit_bytes"); ok {
		rep.MemLimit = v
	}
	if rep.RSS, rep.HWM, err = procRSS(p.pid()); err != nil {
		return fail(err)
	}
	b.logf("  entries %.0f, payload %d MB (JSON %d + protobuf %d), RSS %d MB, heap in use %.0f MB",
		rep.Entries, rep.payload()>>20, rep.JSONBytes>>20, rep.ProtoBytes>>20, rep.RSS>>20, rep.HeapInuse/(1<<20))

	_, c0, s0, _ := m0.summary("go_gc_duration_seconds")
	h0, hok0 := m0.histogram("gintoki_gc_pause_seconds")
	// A runtime trace over the middle of the load tells how long the world
	// was really stopped in each GC pause.
	rep.TraceLen = max(time.Second, (cfg.GCDuration - 2*time.Second).Truncate(time.Second))
	traced := make(chan []stwPause, 1)
	go func() {
		defer close(traced)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		ps, err := traceGCPauses(ctx, b.client, admin, rep.TraceLen)
		rep.TraceErr = err
		traced <- ps
	}()
	rep.Reads, err = runWrk(ctx, wrkRun{URL: base, Script: b.script, Threads: cfg.WrkThreads, Conns: cfg.WrkConns,
		Duration: cfg.GCDuration, MaxID: cfg.MemProducts, Style: "path"})
	ps := <-traced // written before traced is closed: TraceErr is safe to read now
	if err != nil {
		return fail(err)
	}
	rep.TracePauses = summarisePauses(ps)
	if t := rep.TracePauses; rep.TraceErr == nil {
		b.logf("  runtime trace of %s: %d GC pauses, world stopped p99 %s, recorded by the runtime p99 %s",
			rep.TraceLen, t.N, t.StopP99, t.RecP99)
	} else {
		b.logf("  runtime trace: %v", rep.TraceErr)
	}
	m1, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	q, c1, s1, _ := m1.summary("go_gc_duration_seconds")
	rep.GCQuantiles, rep.GCCount, rep.GCPauseSum = q, float64(c1-c0), s1-s0
	if h1, ok := m1.histogram("gintoki_gc_pause_seconds"); ok && hok0 {
		rep.SchedPauses, rep.SchedPausesOK = h1.since(h0), true
	}
	rep.HeapAfter, _ = m1.value("go_memstats_heap_inuse_bytes")

	// The same at the 1M/min rate, open loop: the machine is not saturated.
	rep.RateReads = openLoop{Addr: b.addrs.MemHTTP, Path: "/v1/products/", Suffix: "/inventory", Rate: targetFixedRate,
		Duration: cfg.GCDuration, MaxID: cfg.MemProducts, Conns: cfg.FreshConns, ServerPID: p.pid()}.run(ctx)
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	m1b, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	_, c2, _, _ := m1b.summary("go_gc_duration_seconds")
	rep.RateGCCount = float64(c2 - c1)
	if h2, ok := m1b.histogram("gintoki_gc_pause_seconds"); ok && rep.SchedPausesOK {
		h1, _ := m1.histogram("gintoki_gc_pause_seconds")
		rep.RatePauses = h2.since(h1)
	}
	rep.GCTotal = c1
	if rep.RSSAfterLoad, _, err = procRSS(p.pid()); err != nil {
		return fail(err)
	}
	// Diagnostic: what is live, and what RSS falls to, once the garbage
	// of the load is collected (the heap profile with gc=1 runs a GC).
	if err := get(ctx, b.client, admin+"/debug/pprof/heap?gc=1"); err != nil {
		return fail(fmt.Errorf("force a GC: %w", err))
	}
	time.Sleep(3 * time.Second)
	m2, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	rep.HeapAfterGC, _ = m2.value("go_memstats_heap_inuse_bytes")
	if rep.RSSAfterGC, _, err = procRSS(p.pid()); err != nil {
		return fail(err)
	}
	b.logf("  read load %.0f req/s: %.0f GC cycles, pause max %.3f ms; after a forced GC: heap in use %.0f MB, RSS %d MB",
		rep.Reads.RPS, rep.GCCount, 1000*rep.GCQuantiles[1], rep.HeapAfterGC/(1<<20), rep.RSSAfterGC>>20)
	return rep
}

// waitFlushed waits (up to 3 minutes) until InnoDB has written back
// nearly all dirty pages.
func (b *bench) waitFlushed(ctx context.Context) {
	deadline := time.Now().Add(3 * time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		var name string
		var dirty int64
		if err := b.db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").Scan(&name, &dirty); err != nil || dirty < 500 {
			return
		}
		b.logf("  waiting for InnoDB to flush %d dirty pages after seeding", dirty)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// seedMemoryDB creates the memory database with the project's schema and
// the demo data's 8 warehouses, and fills it with MemProducts products
// (1–5 stock rows each, by the same formula as scripts/mariadb.sh) unless
// it already holds exactly that. The rows are inserted with the session's
// binlog off: the relay has nothing to do with them.
func (b *bench) seedMemoryDB(ctx context.Context, dsn mysql.Config) (seeded bool, err error) {
	name, n := b.cfg.MemDatabase, b.cfg.MemProducts
	schema, err := os.ReadFile(b.cfg.Schema)
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	dsn.DBName = ""
	dsn.MultiStatements = true
	db, err := sql.Open("mysql", dsn.FormatDSN())
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // one session: USE and sql_log_bin are per session
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	defer conn.Close()
	run := func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed %s: %.80s…: %w", name, strings.TrimSpace(q), err)
		}
		return nil
	}
	if err := run("CREATE DATABASE IF NOT EXISTS " + name); err != nil {
		return false, err
	}
	if err := run("USE " + name); err != nil {
		return false, err
	}
	if err := run(string(schema)); err != nil {
		return false, err
	}
	if err := run(`INSERT IGNORE INTO warehouse (id, code, is_active) VALUES
		(1, 'WH-AMS', 1), (2, 'WH-BER', 1), (3, 'WH-CDG', 1), (4, 'WH-MAD', 1),
		(5, 'WH-MIL', 1), (6, 'WH-WAW', 1), (7, 'WH-VIE', 0), (8, 'WH-CPH', 1)`); err != nil {
		return false, err
	}
	var want, have int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT SUM(1 + CRC32(CONCAT('n', seq)) %% 5) FROM seq_1_to_%d", n)).Scan(&want); err != nil {
		return false, fmt.Errorf("seed %s: expected row count: %w", name, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM warehouse_stock_item").Scan(&have); err != nil {
		return false, fmt.Errorf("seed %s: row count: %w", name, err)
	}
	if have == want {
		return false, nil
	}
	b.logf("  seeding %s: %d stock rows for %d products (has %d)", name, want, n, have)
	if err := run("SET SESSION sql_log_bin = 0"); err != nil {
		b.logf("  could not turn the binlog off for seeding (the relay will skip the rows): %v", err)
	}
	if err := run("TRUNCATE TABLE warehouse_stock_item"); err != nil {
		return false, err
	}
	const chunk = 100_000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		if err := run(fmt.Sprintf(`INSERT INTO warehouse_stock_item (product_id, warehouse_id, qty_salable)
			SELECT p.seq,
			       (CRC32(CONCAT('w', p.seq)) + s.seq * (1 + 2 * (p.seq %% 4))) %% 8 + 1,
			       CRC32(CONCAT('q', p.seq, ':', s.seq)) %% 1000
			FROM seq_%d_to_%d AS p
			JOIN seq_0_to_4 AS s ON s.seq < 1 + CRC32(CONCAT('n', p.seq)) %% 5`, lo, hi)); err != nil {
			return false, err
		}
	}
	return true, nil
}
