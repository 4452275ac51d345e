package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
)

// This file is the cold phase's result (bench/phase/cold.go runs it): its verdicts and its
// section of the report.

// coldVerdicts judges the cold phase's three targets.
func (r *Report) coldVerdicts() []verdict {
	const (
		tMiss  = "Misses alone (warm start off), 1M products: req/s ≥ 1.5× the naive server"
		tWarm  = "Fresh node with warm start, 1M products: first 8 s req/s ≥ 2× the naive server"
		tReady = "Start → ready with warm start, 1M products: ≤ 20 s"
	)
	var out []verdict
	for _, t := range []string{tMiss, tWarm, tReady} {
		if v := r.phaseMissing(t, false, r.Cold != nil, errOf(r.Cold)); v != nil {
			out = append(out, *v)
		}
	}
	if len(out) > 0 {
		return out
	}
	c := r.Cold
	m := c.Misses
	got := m.Node.RPS.Median() / m.Naive.RPS.Median()
	out = append(out, atLeast(tMiss, fmt.Sprintf("%.2f× (%s vs %s req/s; per round %s)", got, count(m.Node.RPS.Median()),
		count(m.Naive.RPS.Median()), roundRatios(m.Node.RPS, m.Naive.RPS)), got, targetMissRatio))
	if c.Warm == nil {
		out = append(out, verdict{Target: tWarm, Status: statusNotShown, Note: c.WarmWhy},
			verdict{Target: tReady, Status: statusNotShown, Note: c.WarmWhy})
		return out
	}
	w := c.Warm
	got = w.Node.RPS.Median() / w.Naive.RPS.Median()
	out = append(out, atLeast(tWarm, fmt.Sprintf("%.2f× (%s vs %s req/s; per round %s)", got, count(w.Node.RPS.Median()),
		count(w.Naive.RPS.Median()), roundRatios(w.Node.RPS, w.Naive.RPS)), got, targetWarmRatio))
	ready := w.Node.Ready.Median()
	out = append(out, atMost(tReady, fmt.Sprintf("%.1f s (%.1f–%.1f s over %d starts; %s products cached when ready)", ready,
		w.Node.Ready.Min(), w.Node.Ready.Max(), len(w.Node.Ready), count(w.Node.ReadyLoaded.Median())), ready, targetWarmReady.Seconds()))
	return out
}

// roundRatios renders a/b round by round.
func roundRatios(a, b stats.Series) string {
	s := ""
	for i := range min(len(a), len(b)) {
		if i > 0 {
			s += ", "
		}
		s += strconv.FormatFloat(a[i]/b[i], 'f', 2, 64) + "×"
	}
	return s
}

func (r *Report) writeCold(w *mdWriter) {
	w.line("## 8. Cold start and the miss path: 1M products")
	w.line("")
	if !r.phaseDone(w, r.Cold != nil, errOf(r.Cold)) {
		return
	}
	c := r.Cold
	w.line(fmt.Sprintf("Database `%s` (the memory phase's, %s products). Each round starts a **fresh** `gintoki serve` on it", c.Database, count(float64(c.Products))))
	w.line(fmt.Sprintf("(`--cache-bytes 1073741824`), waits for `/readyz`, and at once runs `wrk -t%d -c%d` for %s on", ColdWrkThreads, c.Conns, c.Duration))
	w.line(fmt.Sprintf("`GET /v1/products/{id}/inventory`, ids uniformly random over 1..%s; the node is then stopped and the", count(float64(c.Products))))
	w.line("same load runs against the **naive server** (`gintoki-bench naive-http`, its own process): plain `net/http` and")
	w.line("`database/sql`, one prepared indexed join (`warehouse_stock_item` ⋈ `warehouse` by primary keys) per request, no")
	w.line(fmt.Sprintf("cache, no snapshot transaction, %d pooled connections, the service's JSON. %d interleaved rounds (node, naive, node, …);", c.Conns, c.Rounds))
	w.line("one run against the naive server first warms MariaDB's buffer pool for both. The database's figures are")
	w.line("read from `SHOW GLOBAL STATUS` (`Com_select`, `Rows_read`) and, as CPU, from its process; the node's")
	w.line("from its `/metrics`: `gintoki_db_load_duration_seconds{kind=\"products\"}` (fill queries and their time) and")
	w.line("`gintoki_db_load_products` (ids per fill query).")
	w.line("")
	w.line("### Misses alone (warm start off)")
	w.line("")
	writeColdContest(w, c, &c.Misses)
	w.line("### A fresh node with warm start")
	w.line("")
	if c.Warm == nil {
		w.line("**NOT SHOWN**: " + c.WarmWhy + ".")
		w.line("")
		return
	}
	writeColdContest(w, c, c.Warm)
	n := c.Warm.Node
	w.line("Start → ready, where the time goes (medians over the starts): ")
	w.line("")
	w.line("| start → ready | node CPU until ready | MariaDB CPU meanwhile | fill queries | time in fill queries (summed) | ids per fill query | products cached when ready |")
	w.line("|---:|---:|---:|---:|---:|---:|---:|")
	w.row(spread(n.Ready, secsf), spread(n.ReadyCPU, secsf), dbCPU(c, n.ReadyDBCPU, secsf), spread(n.ReadyFills, count),
		spread(n.ReadyFillS, secsf), spread(n.ReadyBatch, onef), spread(n.ReadyLoaded, count))
	w.line("")
}

// writeColdContest writes one comparison: the load table, the database's
// side, and the ratio.
func writeColdContest(w *mdWriter, c *Cold, x *ColdContest) {
	writeLoadTable(w, false, &x.Node.LoadStats, &x.Naive.LoadStats)
	w.line("| server | SELECTs/s (database) | rows read/s (database) | MariaDB CPU (cores) | fill queries/s (node) | ms per fill query | ids per fill query | start → ready |")
	w.line("|---|---:|---:|---:|---:|---:|---:|---:|")
	w.row(x.Node.Name, spread(x.Node.DBQPS, count), spread(x.Node.DBRows, count), dbCPU(c, x.Node.DBCores, coresf),
		spread(x.Node.Fills, count), spread(x.Node.FillMS, msf), spread(x.Node.FillBatch, onef), spread(x.Node.Ready, secsf)+" s")
	w.row(x.Naive.Name, spread(x.Naive.DBQPS, count), spread(x.Naive.DBRows, count), dbCPU(c, x.Naive.DBCores, coresf), "–", "–", "–", "–")
	w.line("")
	w.line(fmt.Sprintf("fresh node / naive: **%.2f×** req/s (per round: %s), **%.2f×** p99; database SELECTs per request: node %.3f, naive %.3f.",
		x.Node.RPS.Median()/x.Naive.RPS.Median(), roundRatios(x.Node.RPS, x.Naive.RPS), x.Node.P99.Median()/x.Naive.P99.Median(),
		x.Node.DBQPS.Median()/x.Node.RPS.Median(), x.Naive.DBQPS.Median()/x.Naive.RPS.Median()))
	if c.DBCPU {
		w.line(fmt.Sprintf("CPU per request (median round): node **%s µs** of its own + **%s µs** of MariaDB's; naive server %s µs + **%s µs** of MariaDB's.",
			perReq(x.Node.SvcCores, x.Node.RPS), perReq(x.Node.DBCores, x.Node.RPS), perReq(x.Naive.SvcCores, x.Naive.RPS), perReq(x.Naive.DBCores, x.Naive.RPS)))
	}
	w.line("")
}

// perReq renders cores over requests per second as µs of CPU per request.
func perReq(cores, rps stats.Series) string {
	return strconv.FormatFloat(1e6*cores.Median()/rps.Median(), 'f', 0, 64)
}

// dbCPU renders MariaDB's CPU, or says it could not be read.
func dbCPU(c *Cold, s stats.Series, f func(float64) string) string {
	if !c.DBCPU {
		return "n/a (not on this machine)"
	}
	return spread(s, f)
}

// Targets of the cold phase.
const (
	targetMissRatio = 1.5              // misses alone: req/s ≥ 1.5 × naive
	targetWarmRatio = 2.0              // first seconds after a warm start: req/s ≥ 2 × naive
	targetWarmReady = 20 * time.Second // start → ready with warm start, 1M products
	// ColdWrkThreads is the cold phase's wrk -t: the targets' wrk -t1.
	ColdWrkThreads = 1
)

// Cold is the cold phase's result.
type Cold struct {
	Err      error
	Database string
	Products int
	Duration time.Duration // of each wrk run
	Conns    int
	Rounds   int
	DBCPU    bool // MariaDB's CPU could be read (same machine)

	Misses ColdContest
	// Warm is nil when the warm start comparison did not run; WarmWhy says
	// why (the binary has no --warm flag yet).
	Warm    *ColdContest
	WarmWhy string
}

// ColdContest is one interleaved comparison: a fresh node per round
// against the naive server.
type ColdContest struct {
	Node, Naive ColdSide
}

// ColdSide is one contender's figures over the rounds.
type ColdSide struct {
	LoadStats
	DBCores stats.Series // MariaDB's CPU during the run, in cores
	DBQPS   stats.Series // SELECT statements per second (Com_select)
	DBRows  stats.Series // rows read per second (Rows_read)
	// The node's own view (/metrics), during the run.
	Fills     stats.Series // fill queries per second
	FillMS    stats.Series // mean fill query latency, ms
	FillBatch stats.Series // mean ids per fill query
	// Start → ready, and what happened meanwhile (nodes only).
	Ready       stats.Series // seconds
	ReadyCPU    stats.Series // the node's CPU seconds until ready
	ReadyDBCPU  stats.Series // MariaDB's CPU seconds meanwhile
	ReadyFills  stats.Series // fill queries until ready
	ReadyFillS  stats.Series // seconds spent in fill queries until ready (summed over the concurrent ones)
	ReadyBatch  stats.Series // mean ids per fill query until ready
	ReadyLoaded stats.Series // products in the cache when ready
}

func (r *Cold) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
