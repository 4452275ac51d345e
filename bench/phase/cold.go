package phase

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	"github.com/go-sql-driver/mysql"
)

// This file is the cold phase: nodes that have just started, over the
// memory phase's 1M-product database, against the naive server (stack/naive.go)
// on the same database, in interleaved rounds with a fresh node each round.
//
//   - misses: the node starts with warm start off, so every request of the
//     first seconds is a miss (the fill path alone);
//   - warm start: the node starts with --warm all; start → ready is timed,
//     then its first seconds of traffic are measured.

const (
	coldPrefix       = "benchmem" // topic prefix: no relay writes these topics
	coldReadyTimeout = 3 * time.Minute
)

// warmFlagRE finds the --warm flag in `gintoki serve --help`.
var warmFlagRE = regexp.MustCompile(`(?m)^\s*--warm(\s|$)`)

// hasWarmFlag reports whether the gintoki binary knows --warm.
func hasWarmFlag(ctx context.Context, gintoki string) bool {
	out, _ := exec.CommandContext(ctx, gintoki, "serve", "--help").CombinedOutput() // --help exits non-zero
	return warmFlagRE.Match(out)
}

// coldAddrs are the listen addresses of the cold phase's processes: the
// node (HTTP, gRPC, admin) and the naive server, ten ports above the
// cached service's so other phases' ports stay clear.
func (c *Config) coldAddrs() (nodeHTTP, nodeGRPC, nodeAdmin, naive string) {
	return stack.ShiftPort(c.HTTPAddr, 10), stack.ShiftPort(c.GRPCAddr, 10), stack.ShiftPort(c.HTTPAddr, 11), stack.ShiftPort(c.HTTPAddr, 12)
}

// coldPhase runs the cold phase.
func (b *Env) coldPhase(ctx context.Context) *report.Cold {
	cfg := b.cfg
	dur := 8 * time.Second
	if cfg.Quick {
		dur = 3 * time.Second
	}
	rep := &report.Cold{Database: cfg.MemDatabase, Products: cfg.MemProducts, Duration: dur, Conns: cfg.WrkConns, Rounds: cfg.Rounds}
	fail := func(err error) *report.Cold { rep.Err = err; return rep }
	b.logf("phase cold: %d rounds of %s per contender, wrk -t%d -c%d over %d products", cfg.Rounds, dur, report.ColdWrkThreads, cfg.WrkConns, cfg.MemProducts)

	nodeHTTP, nodeGRPC, nodeAdmin, naiveAddr := cfg.coldAddrs()
	for _, a := range []string{nodeHTTP, nodeGRPC, nodeAdmin, naiveAddr} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fail(fmt.Errorf("port needed by the cold phase is busy: %w", err))
		}
		ln.Close()
	}
	dsn, err := mysql.ParseDSN(cfg.DBDSN)
	if err != nil {
		return fail(fmt.Errorf("--db-dsn: %w", err))
	}
	seeded, err := b.seedMemoryDB(ctx, *dsn)
	if err != nil {
		return fail(err)
	}
	if seeded {
		b.waitFlushed(ctx)
	}
	if err := stack.EnsureTopics(ctx, cfg.Brokers, coldPrefix+"."+cfg.MemDatabase); err != nil {
		return fail(err)
	}
	memDSN := dsn.Clone()
	memDSN.DBName = cfg.MemDatabase
	dbPID := probe.MariaDBPID(ctx, b.db)
	rep.DBCPU = dbPID > 0

	self, err := os.Executable()
	if err != nil {
		return fail(fmt.Errorf("start the naive server: %w", err))
	}
	naive, err := b.startService("naive-http", "bench-naive-http.log", self, "naive-http", "--addr", naiveAddr,
		"--dsn", memDSN.FormatDSN(), "--db-conns", fmt.Sprint(cfg.WrkConns))
	if err != nil {
		return fail(err)
	}
	defer b.stopProc(naive)
	if err := stack.WaitHTTPReady(ctx, b.client, "http://"+naiveAddr+"/readyz", naive, 30*time.Second); err != nil {
		return fail(err)
	}
	warmable := hasWarmFlag(ctx, cfg.Gintoki)
	cr := coldRunner{b: b, dur: dur, dbPID: dbPID, naive: naive, naiveURL: "http://" + naiveAddr,
		nodeURL: "http://" + nodeHTTP, nodeArgs: b.serveArgs(nodeHTTP, nodeGRPC, "--db-dsn", memDSN.FormatDSN(),
			"--database", cfg.MemDatabase, "--cache-bytes", fmt.Sprint(memCacheBytes), "--topic-prefix", coldPrefix,
			"--heartbeats=false", "--admin-addr", nodeAdmin)}

	// A first run warms MariaDB's buffer pool for both contenders alike.
	if _, err := loadgen.RunWrk(ctx, loadgen.WrkRun{URL: cr.naiveURL, Script: b.script, Threads: report.ColdWrkThreads, Conns: cfg.WrkConns,
		Duration: dur, MaxID: cfg.MemProducts, Style: "path"}); err != nil {
		return fail(fmt.Errorf("warm-up of the database: %w", err))
	}
	off := ""
	if warmable {
		off = "off"
	}
	if err := cr.contest(ctx, &rep.Misses, "misses", off); err != nil {
		return fail(err)
	}
	if !warmable {
		rep.WarmWhy = fmt.Sprintf("%s has no --warm flag: warm start is not wired into `gintoki serve` yet", cfg.Gintoki)
		b.logf("  warm start: not run (%s)", rep.WarmWhy)
		return rep
	}
	rep.Warm = &report.ColdContest{}
	if err := cr.contest(ctx, rep.Warm, "warm start", "all"); err != nil {
		return fail(err)
	}
	return rep
}

// coldRunner runs the rounds of the cold phase.
type coldRunner struct {
	b        *Env
	dur      time.Duration
	dbPID    int // MariaDB's pid, 0 if unknown
	naive    *stack.Proc
	naiveURL string
	nodeURL  string
	nodeArgs []string // without --warm
}

// contest runs the rounds of one comparison: a fresh node started with
// --warm warm (none if empty), timed until ready and measured at once,
// then stopped; then the naive server.
func (cr *coldRunner) contest(ctx context.Context, c *report.ColdContest, name, warm string) error {
	b := cr.b
	c.Node.Name, c.Naive.Name = "gintoki serve, fresh", "naive server"
	if warm != "" {
		c.Node.Name = "gintoki serve --warm " + warm + ", fresh"
	}
	for round := 1; round <= b.cfg.Rounds; round++ {
		if err := cr.nodeRound(ctx, &c.Node, warm); err != nil {
			return fmt.Errorf("%s, round %d: %w", name, round, err)
		}
		n := &c.Node
		b.logf("  %s round %d: node ready in %.1fs, %8.0f req/s p99 %6.2f ms, %.0f fill queries/s of %.1f ids, DB %.0f SELECT/s",
			name, round, n.Ready[len(n.Ready)-1], n.RPS[len(n.RPS)-1], n.P99[len(n.P99)-1], n.Fills[len(n.Fills)-1],
			n.FillBatch[len(n.FillBatch)-1], n.DBQPS[len(n.DBQPS)-1])
		if _, err := cr.measure(ctx, &c.Naive, cr.naiveURL, cr.naive, false); err != nil {
			return fmt.Errorf("%s, round %d, naive server: %w", name, round, err)
		}
		v := &c.Naive
		b.logf("  %s round %d: naive      %8.0f req/s p99 %6.2f ms, DB %.0f SELECT/s", name, round, v.RPS[len(v.RPS)-1], v.P99[len(v.P99)-1], v.DBQPS[len(v.DBQPS)-1])
	}
	return nil
}

// nodeRound starts a node, times it until ready, measures its first
// seconds of traffic, and stops it.
func (cr *coldRunner) nodeRound(ctx context.Context, side *report.ColdSide, warm string) error {
	b := cr.b
	args := cr.nodeArgs
	if warm != "" {
		args = append(args[:len(args):len(args)], "--warm", warm)
	}
	db0, err := cr.dbStatus(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	p, err := b.startService("gintoki serve (cold)", "bench-serve-cold.log", args...)
	if err != nil {
		return err
	}
	defer b.stopProc(p)
	if err := stack.WaitHTTPReady(ctx, b.client, cr.nodeURL+"/readyz", p, coldReadyTimeout); err != nil {
		return err
	}
	ready := time.Since(start)
	cpu, _ := probe.ProcCPU(p.PID())
	db1, err := cr.dbStatus(ctx)
	if err != nil {
		return err
	}
	m, err := probe.Scrape(ctx, b.client, cr.nodeURL+"/metrics")
	if err != nil {
		return err
	}
	f := fillsOf(m)
	side.Ready = append(side.Ready, ready.Seconds())
	side.ReadyCPU = append(side.ReadyCPU, cpu.Seconds())
	side.ReadyDBCPU = append(side.ReadyDBCPU, (db1.cpu - db0.cpu).Seconds())
	side.ReadyFills = append(side.ReadyFills, f.count)
	side.ReadyFillS = append(side.ReadyFillS, f.seconds)
	side.ReadyBatch = append(side.ReadyBatch, f.meanBatch())
	entries, _ := m.Value("gintoki_cache_entries")
	side.ReadyLoaded = append(side.ReadyLoaded, entries)
	_, err = cr.measure(ctx, side, cr.nodeURL, p, true)
	return err
}

// measure runs wrk against url for the phase's duration, with the
// database's figures (and the node's, if node) before and after.
func (cr *coldRunner) measure(ctx context.Context, side *report.ColdSide, url string, p *stack.Proc, node bool) (loadgen.WrkResult, error) {
	b := cr.b
	var m0 probe.Metrics
	var err error
	if node {
		if m0, err = probe.Scrape(ctx, b.client, url+"/metrics"); err != nil {
			return loadgen.WrkResult{}, err
		}
	}
	db0, err := cr.dbStatus(ctx)
	if err != nil {
		return loadgen.WrkResult{}, err
	}
	cpu := probe.StartCPU(p.PID())
	r, err := loadgen.RunWrk(ctx, loadgen.WrkRun{URL: url, Script: b.script, Threads: report.ColdWrkThreads, Conns: b.cfg.WrkConns,
		Duration: cr.dur, MaxID: b.cfg.MemProducts, Style: "path"})
	if err != nil {
		return r, err
	}
	cores := cpu.Cores()
	db1, err := cr.dbStatus(ctx)
	if err != nil {
		return r, err
	}
	side.AddWrk(r, cores)
	wall := db1.At.Sub(db0.At).Seconds()
	side.DBCores = append(side.DBCores, (db1.cpu-db0.cpu).Seconds()/wall)
	side.DBQPS = append(side.DBQPS, (db1.Selects-db0.Selects)/wall)
	side.DBRows = append(side.DBRows, (db1.RowsRead-db0.RowsRead)/wall)
	if node {
		m1, err := probe.Scrape(ctx, b.client, url+"/metrics")
		if err != nil {
			return r, err
		}
		f0, f1 := fillsOf(m0), fillsOf(m1)
		d := fillStats{count: f1.count - f0.count, seconds: f1.seconds - f0.seconds, ids: f1.ids - f0.ids, idsOK: f1.idsOK}
		side.Fills = append(side.Fills, d.count/wall)
		side.FillMS = append(side.FillMS, 1000*d.seconds/d.count)
		side.FillBatch = append(side.FillBatch, d.meanBatch())
	}
	return r, nil
}

// dbStatusAt is a reading of MariaDB's counters and its CPU time.
type dbStatusAt struct {
	probe.DBStatus
	cpu time.Duration
}

// dbStatus reads MariaDB's statement and row counters and its CPU time.
func (cr *coldRunner) dbStatus(ctx context.Context) (dbStatusAt, error) {
	st, err := probe.ReadDBStatus(ctx, cr.b.db)
	s := dbStatusAt{DBStatus: st}
	if err != nil {
		return s, err
	}
	if cr.dbPID > 0 {
		s.cpu, _ = probe.ProcCPU(cr.dbPID)
	}
	return s, nil
}

// fillStats are a node's fill queries so far, from /metrics.
type fillStats struct {
	count, seconds float64 // gintoki_db_load_duration_seconds{kind="products"}
	ids            float64 // gintoki_db_load_products: ids asked for, in total
	idsOK          bool    // the node exports gintoki_db_load_products
}

func (f fillStats) meanBatch() float64 {
	if !f.idsOK || f.count == 0 {
		return math.NaN()
	}
	return f.ids / f.count
}

// fillsOf reads a node's fill figures from a scrape.
func fillsOf(m probe.Metrics) fillStats {
	var f fillStats
	if mf, ok := m["gintoki_db_load_duration_seconds"]; ok {
		for _, x := range mf.GetMetric() {
			if probe.LabelOf(x.GetLabel(), "kind") != "products" || x.Histogram == nil {
				continue
			}
			f.count += float64(x.GetHistogram().GetSampleCount())
			f.seconds += x.GetHistogram().GetSampleSum()
		}
	}
	if h, ok := m.Histogram("gintoki_db_load_products"); ok {
		f.ids, f.idsOK = h.Sum, true
	}
	return f
}
