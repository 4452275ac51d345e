package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// report is everything one run measured, rendered by markdown.
type report struct {
	Started, Finished time.Time
	Command           string
	Quick             bool
	Machine           machineInfo
	Settings          []string
	LoadAvgEnd        string
	StackErr          error  // the services could not be started or warmed
	Ports             string // where the benchmark's processes listen
	Products          int    // products of the stack's database

	Stampede   *stampedeReport
	HTTP       *httpReport
	GRPC       *grpcReport
	Fixed      *fixedReport
	Tail       *tailReport
	Fresh      *freshReport
	Memory     *memoryReport
	CacheBench *cacheBenchReport
	Cold       *coldReport // phase_cold.go

	Charts    []benchChart // written beside the report (charts.go)
	ChartsErr error
}

// settings lists the parameters of the run, for the report.
func (b *bench) settings() []string {
	c := b.cfg
	return []string{
		fmt.Sprintf("closed loop: %d interleaved rounds of %s per contender, after a 1 s warm-up of each; wrk -t%d -c%d --latency, random ids 1..%d", c.Rounds, c.Duration, c.WrkThreads, c.WrkConns, c.Products),
		fmt.Sprintf("gRPC: %d callers over %d connections, generated client; batches of %d distinct random ids", c.GRPCCallers, c.GRPCConns, c.BatchSize),
		fmt.Sprintf("fixed rate: vegeta library, %s each, GET /cache?product_id=<random>", c.FixedDuration),
		fmt.Sprintf("tail: vegeta library, -max-connections=%d -max-workers=%d, GET /cache?product_id=%d, %v req/s, %d interleaved rounds of %s per contender", c.Tail.Conns, c.Tail.Conns, c.Tail.Key, c.Tail.Rates, c.Rounds, c.Tail.Duration),
		fmt.Sprintf("freshness: one run of %s per read rate %v req/s (open loop, %d connections)%s; %d UPDATEs/s over %d connections, %d/s sampled, polled every %s, give up after %s", c.FreshDuration, c.FreshReads, c.FreshConns, vegetaRun(c), c.FreshWrites, c.Writers, c.FreshSample, pollEvery, pollGiveUp),
		fmt.Sprintf("memory: database %s, %d products, --cache-bytes %d, read load %s", c.MemDatabase, c.MemProducts, memCacheBytes, c.GCDuration),
	}
}

// markdown renders the report.
func (r *report) markdown() string {
	var w mdWriter
	w.line("# Gintoki benchmarks")
	w.line("")
	if r.Quick {
		w.line("> **Smoke run** (`GINTOKI_BENCH_QUICK=1`): every phase ran for a few seconds only. These figures show that the")
		w.line("> benchmark works end to end; they are not the figures to quote. The full run (`make bench`) replaces this file.")
		w.line("")
	}
	w.line("Produced by `make bench` (`scripts/bench.sh` → `bin/gintoki-bench`), which starts its own `gintoki serve`")
	w.line("processes and bare baselines against the local stack's MariaDB, dev broker and relay")
	w.line(fmt.Sprintf("(%s).", r.Ports))
	w.line("Medians over the rounds, with min–max in parentheses; contenders are interleaved (A B A B …) so that drift and")
	w.line("noise from other processes hit each alike. The load generators run on the same machine and share its cores with")
	w.line("the servers: absolute figures are lower bounds of what the servers do alone, ratios are the comparable part.")
	w.line("")
	r.writeMachine(&w)
	r.writeTargets(&w)
	r.writeCharts(&w)
	r.writeHTTP(&w)
	r.writeGRPC(&w)
	r.writeFixed(&w)
	r.writeTail(&w)
	r.writeFresh(&w)
	r.writeMemory(&w)
	r.writeStampede(&w)
	r.writeCold(&w)
	r.writeCacheBench(&w)
	return w.String()
}

func (r *report) writeMachine(w *mdWriter) {
	m := r.Machine
	w.line("## Run")
	w.line("")
	w.line("| | |")
	w.line("|---|---|")
	w.row("date", r.Started.UTC().Format("2006-01-02 15:04 UTC")+fmt.Sprintf(" (%s)", r.Finished.Sub(r.Started).Round(time.Second)))
	w.row("command", "`"+r.Command+"`")
	w.row("machine", fmt.Sprintf("%d CPUs, %s", m.CPUs, m.CPUModel))
	w.row("kernel", m.Kernel)
	w.row("Go", m.GoVersion)
	w.row("Go runtime settings of the services", m.GoRuntime)
	w.row("MariaDB", m.MariaDB)
	w.row("wrk", m.Wrk)
	w.row("load average (1, 5, 15 min)", fmt.Sprintf("%s at the start, %s at the end", m.LoadAvg, r.LoadAvgEnd))
	for _, s := range r.Settings {
		k, v, _ := strings.Cut(s, ": ")
		w.row(k, v)
	}
	w.line("")
	if r.StackErr != nil {
		w.line(fmt.Sprintf("**The services could not be started or warmed:** %s", oneLine(r.StackErr)))
		w.line("")
	}
}

func (r *report) writeTargets(w *mdWriter) {
	w.line("## Targets")
	w.line("")
	w.line("| target | measured | verdict |")
	w.line("|---|---|---|")
	for _, v := range r.verdicts() {
		verdict := "**" + v.Status + "**"
		if v.Note != "" {
			verdict += ": " + oneLine(fmt.Errorf("%s", v.Note))
		}
		w.row(v.Target, v.Measured, verdict)
	}
	w.line("")
	w.line("NOT SHOWN: the run could not create the target's conditions on this machine (said why); it is neither met nor missed.")
	w.line("")
}

func (r *report) writeHTTP(w *mdWriter) {
	w.line("## 1–2. HTTP hit path, and the database-only mode")
	w.line("")
	w.line(fmt.Sprintf("`wrk` closed loop on `GET /v1/products/{id}/inventory`, ids uniformly random over 1..%d, every product cached", r.Products))
	w.line("beforehand (batch POSTs of 1,000 ids). **bare net/http** is a minimal `net/http` server (`gintoki-bench bare-http`,")
	w.line("its own process) writing the same pre-encoded JSON bytes, fetched from the service once, from a Go map.")
	w.line("**--no-cache** is `gintoki serve --no-cache`: every request reads MariaDB (one consistent-snapshot load).")
	w.line("")
	if !r.phaseDone(w, r.HTTP != nil, errOf(r.HTTP)) {
		return
	}
	h := r.HTTP
	writeLoadTable(w, false, h.Gintoki, h.Bare, h.DBOnly)
	w.line(fmt.Sprintf("gintoki / bare: **%.2f×** req/s, **%.2f×** p99. gintoki / db-only: **%.1f×** req/s.",
		h.Gintoki.RPS.median()/h.Bare.RPS.median(), h.Gintoki.P99.median()/h.Bare.P99.median(), h.Gintoki.RPS.median()/h.DBOnly.RPS.median()))
	w.line("")
}

func (r *report) writeGRPC(w *mdWriter) {
	w.line("## 3. gRPC")
	w.line("")
	if r.GRPC != nil {
		w.line(fmt.Sprintf("A Go closed-loop generator (in `gintoki-bench`): %d callers over %d connections, the generated client of", r.GRPC.Callers, r.GRPC.Conns))
		w.line(fmt.Sprintf("`gintoki.inventory.v1.InventoryService` (responses decoded), random ids; batches of %d distinct ids. **bare grpc-go**", r.GRPC.BatchSize))
	}
	w.line("(`gintoki-bench bare-grpc`, its own process) answers from the service's protobuf bodies, fetched once byte for byte")
	w.line("and sent **pre-encoded through a raw-bytes codec**, as `grpcapi` does; no interceptor, cache or metrics.")
	w.line("")
	if !r.phaseDone(w, r.GRPC != nil, errOf(r.GRPC)) {
		return
	}
	g := r.GRPC
	writeLoadTable(w, true, g.Get, g.GetBare, g.Batch, g.BatchBare)
	w.line(fmt.Sprintf("gintoki / bare: GetInventory **%.2f×** calls/s, **%.2f×** p99; BatchGetInventory **%.2f×** calls/s, **%.2f×** p99.",
		g.Get.RPS.median()/g.GetBare.RPS.median(), g.Get.P99.median()/g.GetBare.P99.median(),
		g.Batch.RPS.median()/g.BatchBare.RPS.median(), g.Batch.P99.median()/g.BatchBare.P99.median()))
	w.line("")
}

// writeLoadTable writes one row per contender.
func writeLoadTable(w *mdWriter, products bool, rows ...*loadStats) {
	if products {
		w.line("| server | calls/s | products/s | p50 ms | p99 ms | server CPU (cores) | generator CPU (cores) | errors |")
		w.line("|---|---:|---:|---:|---:|---:|---:|---:|")
	} else {
		w.line("| server | req/s | p50 ms | p99 ms | server CPU (cores) | wrk CPU (cores) | errors |")
		w.line("|---|---:|---:|---:|---:|---:|---:|")
	}
	for _, s := range rows {
		cells := []string{s.Name, spread(s.RPS, count)}
		if products {
			cells = append(cells, spread(s.ProductsPS, count))
		}
		errs := strconv.FormatInt(s.Errors, 10)
		if s.FirstErr != "" {
			errs += " (" + oneLine(fmt.Errorf("%s", s.FirstErr)) + ")"
		}
		cells = append(cells, spread(s.P50, msf), spread(s.P99, msf), spread(s.SvcCores, coresf), spread(s.GenCores, coresf), errs)
		w.row(cells...)
	}
	w.line("")
}

func (r *report) writeFixed(w *mdWriter) {
	w.line("## 4. Fixed rate")
	w.line("")
	w.line("Open loop with the vegeta library (in `gintoki-bench`) on `GET /cache?product_id=<random id>`, cache warm, with up to")
	w.line(fmt.Sprintf("%d requests in flight (workers and connections; unbounded, vegeta turns a hiccup of a saturated machine into a", fixedMaxInFlight))
	w.line("storm of new connections and ends up measuring itself). A sent rate below the target is put down to the generator")
	w.line("when it used more CPU than the service (it could not pace the requests), else to the service.")
	w.line("")
	if !r.phaseDone(w, r.Fixed != nil, errOf(r.Fixed)) {
		return
	}
	w.line("| target req/s | sent req/s | success | p50 ms | p90 ms | p99 ms | max ms | service CPU | vegeta CPU | rate held back by |")
	w.line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, x := range r.Fixed.Runs {
		w.row(count(float64(x.Target)), count(x.Sent), successText(x), msf(ms(x.P50)), msf(ms(x.P90)), msf(ms(x.P99)), msf(ms(x.Max)),
			coresf(x.ServiceCores), coresf(x.GenCores), limitText(x))
	}
	w.line("")
}

// successText renders a fixed-rate run's success share and its errors.
func successText(x fixedResult) string {
	s := pct(x.Success)
	if len(x.Errors) > 0 {
		s += " (" + oneLine(fmt.Errorf("%s", strings.Join(x.Errors, "; "))) + ")"
	}
	return s
}

// limitText says what held a fixed-rate run below its target.
func limitText(x fixedResult) string {
	switch x.limit() {
	case "":
		return "nothing: target reached"
	case "generator":
		return fmt.Sprintf("the generator (%.1f%% short)", 100*(1-x.Sent/float64(x.Target)))
	}
	return fmt.Sprintf("the service (%.1f%% short, %d requests in flight)", 100*(1-x.Sent/float64(x.Target)), x.InFlight)
}

func (r *report) writeFresh(w *mdWriter) {
	w.line("## 5. Freshness under load")
	w.line("")
	w.line("While an open-loop generator reads `GET /v1/products/{id}/inventory` (random ids) at a fixed rate, writers UPDATE")
	w.line("random stock rows of active warehouses in `inventory.warehouse_stock_item` at a fixed rate, each to a new quantity")
	w.line("larger than any before (each writer owns its rows, so a row's quantity only grows). For a sample of the UPDATEs a")
	w.line("poller asks `GET /v1/products/{id}/inventory` every 0.5 ms from the moment the UPDATE returned (autocommit:")
	w.line("committed) until the answer shows that quantity or a later one. The change became visible after the last answer")
	w.line("without it was requested (lower bound) and before the first answer with it arrived (upper bound, the figure judged);")
	w.line("under a heavy read load the two differ by about a read's latency. After 2 s a poller gives up and counts a timeout")
	w.line("(timeouts rank above every latency).")
	w.line("The path measured: MariaDB binlog → `gintoki relay` → dev broker → the service's consumer → cache → HTTP.")
	w.line("")
	if !r.phaseDone(w, r.Fresh != nil, errOf(r.Fresh)) {
		return
	}
	w.line(fmt.Sprintf("**The read load.** The runs judged use this program's own open-loop generator: %d keep-alive connections, each", r.Fresh.Conns))
	w.line("sending its share of the rate on a fixed schedule, one request at a time, over a raw socket with a minimal response")
	w.line("parser (status and Content-Length; the body is read and dropped). Latency runs from each request's scheduled time, so")
	w.line("a slow answer that delays the next request of its connection counts against the service. vegeta (its library, as in 4)")
	w.line("needs more CPU than the service itself to send 20,000 req/s through Go's HTTP client; on 2 shared cores that CPU is")
	w.line("taken from the relay, the broker and MariaDB, whose hops are what this phase measures. The vegeta run at the target's")
	w.line("rate is kept for comparison.")
	w.line("")
	runs := r.Fresh.Runs
	head, sep := "| |", "|---|"
	for _, f := range runs {
		head += fmt.Sprintf(" reads at %s req/s, %s |", count(float64(f.Reads.Target)), f.Generator)
		sep += "---|"
	}
	w.line(head)
	w.line(sep)
	cells := func(name string, f func(freshRun) string) {
		row := []string{name}
		for _, x := range runs {
			row = append(row, f(x))
		}
		w.row(row...)
	}
	cells("UPDATEs", func(f freshRun) string {
		return fmt.Sprintf("%s in %s = **%s/s** over %d connections (target %s/s), %d errors%s", count(float64(f.Writes)), f.Duration,
			count(f.WritesPS), f.Writers, count(float64(f.TargetWrites)), f.WriteErrors, suffix(f.FirstWErr))
	})
	cells("reads meanwhile", func(f freshRun) string {
		return fmt.Sprintf("sent **%s/s**, success %s, p50 %.2f ms, p99 %.2f ms; rate held back by %s", count(f.Reads.Sent),
			successText(f.Reads), ms(f.Reads.P50), ms(f.Reads.P99), limitText(f.Reads))
	})
	cells("CPU (cores): service / this process (reader, writers, pollers)", func(f freshRun) string {
		return fmt.Sprintf("%.2f / %.2f", f.Reads.ServiceCores, f.Reads.GenCores)
	})
	cells("samples", func(f freshRun) string { return fmt.Sprintf("%d, of which %d timed out", f.Samples, f.Timeouts) })
	cells("commit → visible (upper bound)", func(f freshRun) string {
		return fmt.Sprintf("p50 **%s**, p99 **%s**, max %s", visible(f.P50), visible(f.P99), visible(f.Max))
	})
	cells("commit → visible (lower bound)", func(f freshRun) string {
		return fmt.Sprintf("p50 %s, p99 %s", visible(f.LowP50), visible(f.LowP99))
	})
	cells("service's view: `gintoki_change_apply_delay_seconds`", func(f freshRun) string {
		if !f.DelayOK || f.Delay.Count == 0 {
			return "no observations"
		}
		d := f.Delay
		return fmt.Sprintf("%d changes; mean %.1f ms; p50 ≈ %s, p99 ≈ %s (interpolated in buckets); ≤ 5 ms: %s, ≤ 25 ms: %s",
			d.Count, 1000*d.Sum/float64(d.Count), secs(d.quantile(0.5)), secs(d.quantile(0.99)),
			pct(d.fractionWithin(0.005)), pct(d.fractionWithin(0.025)))
	})
	w.line("")
	w.line("The first run is the target's condition. The service's own histogram measures from the event's `source.ts_ms`")
	w.line("(the commit time) to the change being applied to the cache, without the HTTP read the pollers add.")
	if f := runs[0]; f.DelayOK && f.Delay.Count > 0 {
		if mean := f.Delay.Sum / float64(f.Delay.Count); mean > 0.1 && mean > 5*f.P50.Seconds() {
			w.line(fmt.Sprintf("Here its mean (%.0f ms) is far above what the pollers saw: `source.ts_ms` comes from the binlog event", 1000*mean))
			w.line("header, which holds whole seconds, so the histogram is offset by up to 1 s (0.5 s on average) and cannot")
			w.line("resolve milliseconds. The pollers' figures are the measurement.")
		}
	}
	w.line("")
}

func (r *report) writeMemory(w *mdWriter) {
	w.line("## 6. Memory: 1M products resident")
	w.line("")
	if !r.phaseDone(w, r.Memory != nil, errOf(r.Memory)) {
		return
	}
	m := r.Memory
	seed := "reused from an earlier run (row count checked)"
	if m.Seeded {
		seed = fmt.Sprintf("seeded by this run in %s (Sequence engine, binlog off for the session)", m.SeedTime.Round(time.Second))
	}
	w.line(fmt.Sprintf("Database `%s` in the same MariaDB: the schema of `schema/schema.sql`, the demo data's 8 warehouses, %s products", m.Database, count(float64(m.Products))))
	w.line(fmt.Sprintf("in 1–5 warehouses each (the demo formula); %s. A service on it with `--cache-bytes 1073741824`", seed))
	w.line(fmt.Sprintf("loaded every product with batch POSTs of 1,000 ids (%s).", m.LoadTime.Round(100*time.Millisecond)))
	w.line("")
	w.line("**Payload** counts what the service keeps ready for its clients: each product's JSON body exactly as received")
	w.line("(the products inside the batch answers, without the batch envelope) plus its protobuf body (`ProductInventory`),")
	w.line("whose size is computed from the JSON with `proto.Size` of the generated message and was checked against the bodies the")
	w.line(fmt.Sprintf("service sends by gRPC for the first %d products (%d mismatches). Keys, versions and per-entry bookkeeping are", m.ProtoChecked, m.ProtoMismatch))
	w.line("overhead, not payload.")
	w.line("")
	w.line("| | |")
	w.line("|---|---|")
	w.row("entries (`gintoki_cache_entries`)", count(m.Entries)+fmt.Sprintf(" (%d ids unknown, %.0f evictions)", m.NotFound, m.Evictions))
	w.row("payload", fmt.Sprintf("%s = JSON %s + protobuf %s (%.0f + %.0f bytes per product)", mib(float64(m.payload())), mib(float64(m.JSONBytes)), mib(float64(m.ProtoBytes)),
		float64(m.JSONBytes)/float64(m.Products), float64(m.ProtoBytes)/float64(m.Products)))
	w.row("cache capacity (`gintoki_cache_bytes`)", mib(m.CacheBytes))
	if m.GOGC >= 0 || m.MemLimit >= 0 {
		limit := "none"
		if m.MemLimit >= 0 && m.MemLimit < math.MaxInt64/2 {
			limit = mib(m.MemLimit)
		}
		w.row("service's GC settings (`go_gc_gogc_percent`, `go_gc_gomemlimit_bytes`)", fmt.Sprintf("GOGC %s, memory limit %s", num(m.GOGC), limit))
	}
	w.row("process RSS (VmRSS)", fmt.Sprintf("%s ready and empty; **%s after loading** (peak VmHWM %s); %s after the read load",
		mib(float64(m.RSSIdle)), mib(float64(m.RSS)), mib(float64(m.HWM)), mib(float64(m.RSSAfterLoad))))
	w.row("RSS / payload", fmt.Sprintf("**%.2f×** (RSS growth while loading: %.0f bytes per product)", float64(m.RSS)/float64(m.payload()),
		float64(m.RSS-m.RSSIdle)/float64(m.Products)))
	w.row("Go heap in use (`go_memstats_heap_inuse_bytes`)", fmt.Sprintf("%s after loading, %s after the read load", mib(m.HeapInuse), mib(m.HeapAfter)))
	w.row("after a forced GC (diagnostic)", fmt.Sprintf("heap in use %s (= the cache's %s arena + %s), RSS %s (3 s later)",
		mib(m.HeapAfterGC), mib(m.CacheBytes), mib(m.HeapAfterGC-m.CacheBytes), mib(float64(m.RSSAfterGC))))
	w.row("read load", fmt.Sprintf("wrk on GET /v1/products/{id}/inventory for %s over ids 1..%d: %s req/s, p99 %.2f ms, %d errors", m.Reads.Duration.Round(time.Second), m.Products, count(m.Reads.RPS), ms(m.Reads.P99), m.Reads.Errors))
	gcLoad := fmt.Sprintf("%.0f cycles (%.1f/s), %.1f ms of pauses in total (%.2f%% of the time)", m.GCCount, m.GCCount/m.Reads.Duration.Seconds(),
		1000*m.GCPauseSum, 100*m.GCPauseSum/m.Reads.Duration.Seconds())
	if m.GCCount == 0 && m.Reads.Requests > 0 {
		gcLoad += fmt.Sprintf("; the heap grew by %.0f bytes per request meanwhile (garbage of the read path)", (m.HeapAfter-m.HeapInuse)/float64(m.Reads.Requests))
	}
	w.row("GC during the read load", gcLoad)
	q := m.GCQuantiles
	w.row("GC pauses (`go_gc_duration_seconds`)", fmt.Sprintf("over the last %d pauses: min %s, p25 %s, p50 %s, p75 %s, max %s", min(m.GCTotal, 256), secs(q[0]), secs(q[0.25]), secs(q[0.5]), secs(q[0.75]), secs(q[1])))
	if m.SchedPausesOK {
		w.row("GC pauses (`gintoki_gc_pause_seconds`, during the load)", pauseBuckets(m.SchedPauses))
	}
	if t := m.TracePauses; m.TraceErr != nil || t.N == 0 {
		w.row("GC pauses in a runtime trace", fmt.Sprintf("no trace: %s", oneLine(firstErr(m.TraceErr, errors.New("no GC pause in it")))))
	} else {
		w.row(fmt.Sprintf("GC pauses in a runtime trace (%s of the load)", m.TraceLen), fmt.Sprintf("%d pauses. **World stopped** (until a goroutine ran again): p50 %s, **p99 %s**, max %s; %d above 1 ms. As the runtime records them: p50 %s, p99 %s, max %s; %d above 1 ms",
			t.N, secs(t.StopP50.Seconds()), secs(t.StopP99.Seconds()), secs(t.StopMax.Seconds()), t.StopOver,
			secs(t.RecP50.Seconds()), secs(t.RecP99.Seconds()), secs(t.RecMax.Seconds()), t.RecOver))
	}
	x := m.RateReads
	w.row(fmt.Sprintf("second read load: open loop at %s req/s (1M/min)", count(float64(x.Target))), fmt.Sprintf("sent %s req/s, success %s, p50 %.2f ms, p99 %.2f ms; service CPU %.2f cores, generator %.2f; %.0f GC cycles",
		count(x.Sent), successText(x), ms(x.P50), ms(x.P99), x.ServiceCores, x.GenCores, m.RateGCCount))
	if m.RatePauses.Count > 0 {
		w.row("GC pauses (`gintoki_gc_pause_seconds`, during the second load)", pauseBuckets(m.RatePauses))
	}
	w.line("")
	w.line("`go_gc_duration_seconds` is a summary over the process's last ≤256 GC pauses (`debug.ReadGCStats`), with quartiles")
	w.line("only, and it includes the pauses of the loading. `gintoki_gc_pause_seconds` is the runtime's own pause histogram")
	w.line("(runtime/metrics `/sched/pauses/total/gc:seconds`, one observation per stop-the-world pause, two per cycle),")
	w.line("exported by the service with buckets fine around 1 ms (0.5, 0.75, 1, 1.5, 2 ms). Each pause is counted in the first")
	w.line("bucket at or above the upper edge of its runtime bucket (those are ~6% wide), so a pause is never shown faster than")
	w.line("it was. Without a trace (below) the verdict goes by the bucket that holds p99 (nearest rank).")
	if !m.SchedPausesOK {
		w.line("The service did not export `gintoki_gc_pause_seconds` here: the verdict falls back to the summary.")
	}
	w.line("")
	w.line("The runtime records a pause from deciding to stop the world until the thread that stopped it reads the clock")
	w.line("after handing the processors back (`startTheWorldWithSema` in runtime/proc.go). If the OS takes the CPU from that")
	w.line("thread in between — on 2 cores shared with the load generator, waking the other thread often does — the record")
	w.line("grows by as long as the OS keeps it off the CPU, while goroutines already run. The runtime trace taken during the")
	w.line("load (`--admin-addr`'s `/debug/pprof/trace`, parsed with golang.org/x/exp/trace) shows both ends: **world stopped** runs")
	w.line("from the start of the runtime's stop-the-world range to the first goroutine running again on any thread (the range's")
	w.line("end if none ran before it). When the trace is there the verdict is judged on it (p99 by nearest rank over its pauses),")
	w.line("with the runtime's own record shown beside it.")
	if m.GCCount == 0 {
		w.line("No GC cycle ran during the read load: the pauses above are the loading's.")
	}
	w.line("The forced GC (through `--admin-addr`'s `/debug/pprof/heap?gc=1`) runs after these figures are taken.")
	if float64(m.RSS) > targetRSSRatio*float64(m.payload()) && m.HeapAfterGC > m.CacheBytes {
		w.line("")
		w.line("The cache's arena is allocated up front on the Go heap: it counts in full in `heap_inuse` and in the GC's heap goal,")
		w.line("but its pages cost RSS only once written. Without a memory limit (GOGC=100 alone) the garbage of the loading can")
		w.line("grow to about the arena's size before the first collection, and freed pages are not returned while the heap is")
		w.line("below its goal: RSS then measures that garbage as much as the cache.")
	}
	w.line("")
}

func (r *report) writeStampede(w *mdWriter) {
	w.line("## 7. Stampede")
	w.line("")
	if !r.phaseDone(w, r.Stampede != nil, errOf(r.Stampede)) {
		return
	}
	s := r.Stampede
	w.line(fmt.Sprintf("Right after the service became ready (before the warm-up), for 3 random products never asked for, %s concurrent", count(float64(s.Concurrency))))
	w.line("`GET /v1/products/{id}/inventory` released together over connections opened beforehand. Database queries counted")
	w.line(fmt.Sprintf("with `SHOW GLOBAL STATUS LIKE 'Com_select'` before and after; reading it adds %d itself, and other clients added", s.SelfEffect))
	w.line(fmt.Sprintf("%.2f/s while idle (measured over 2 s first); the node's own warehouse probes (its upkeep, once a second), which", s.Background))
	w.line("it counts itself, are subtracted exactly, the other clients' at that rate. A fill is one SELECT in one snapshot transaction.")
	w.line("")
	w.line("| product | 200 OK | Com_select delta | node's probes | net queries | service: loads / coalesced waiters | elapsed |")
	w.line("|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range s.IDs {
		ok := fmt.Sprintf("%d / %d", x.OK, s.Concurrency)
		if x.FirstError != "" {
			ok += " (" + oneLine(fmt.Errorf("%s", x.FirstError)) + ")"
		}
		w.row(strconv.FormatInt(x.ID, 10), ok, strconv.FormatInt(x.Selects, 10), fmt.Sprintf("%.0f", x.Probes), fmt.Sprintf("**%d** (%.2f)", x.queries(), x.Net),
			fmt.Sprintf("%.0f / %.0f", x.Loads, x.Coalesced), x.Elapsed.Round(time.Millisecond).String())
	}
	w.line("")
}

func (r *report) writeCacheBench(w *mdWriter) {
	w.line("## Cache library comparison")
	w.line("")
	c := r.CacheBench
	if c == nil {
		w.line("_Skipped._")
		w.line("")
		return
	}
	w.line(fmt.Sprintf("`%s`: the committed benchmark that chose the cache library (package `cachebench`); 1M", c.Command))
	w.line("entries of 200–400 bytes, uniformly random ids. Medians over the runs, min–max in parentheses.")
	w.line("")
	if c.Err != nil {
		w.line("**FAILED:** " + oneLine(c.Err))
		w.line("")
		return
	}
	w.line("| benchmark | ns/op | B/op | allocs/op |")
	w.line("|---|---:|---:|---:|")
	for _, x := range c.Rows {
		w.row(x.Name, spread(x.NsOp, func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }),
			num(x.BOp.median()), num(x.Allocs.median()))
	}
	w.line("")
}

// phaseDone writes why a phase has no figures and returns false, or
// returns true.
func (r *report) phaseDone(w *mdWriter, ran bool, err error) bool {
	switch {
	case !ran && r.StackErr != nil:
		w.line("**Not run:** the services could not be started (see above).")
	case !ran:
		w.line("_Skipped._")
	case err != nil:
		w.line("**FAILED:** " + oneLine(err))
	default:
		return true
	}
	w.line("")
	return false
}

// mdWriter accumulates Markdown.
type mdWriter struct{ strings.Builder }

func (w *mdWriter) line(s string) {
	w.WriteString(s)
	w.WriteByte('\n')
}

// row writes a table row; pipes in cells are escaped.
func (w *mdWriter) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	w.line("| " + strings.Join(cells, " | ") + " |")
}

// spread renders a series as "median (min–max)".
func spread(s series, f func(float64) string) string {
	if len(s) == 0 {
		return "–"
	}
	if len(s) == 1 {
		return f(s[0])
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.median()), f(s.min()), f(s.max()))
}

// count renders a number with thousands separators and no decimals.
func count(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func msf(v float64) string    { return strconv.FormatFloat(v, 'f', 2, 64) }
func coresf(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// pct renders a share as a percentage with up to 3 decimals.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := strconv.FormatFloat(100*v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// secs renders seconds as milliseconds.
func secs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, +1):
		return "> largest bucket"
	}
	return strconv.FormatFloat(1000*v, 'f', 3, 64) + " ms"
}

// visible renders a commit → visible time.
func visible(d time.Duration) string {
	if d >= timedOut {
		return fmt.Sprintf("> %s (timed out)", pollGiveUp)
	}
	return strconv.FormatFloat(ms(d), 'f', 2, 64) + " ms"
}

func mib(v float64) string { return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB" }

func cores(n int) string {
	if n == 1 {
		return "1 CPU"
	}
	return strconv.Itoa(n) + " CPUs"
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// oneLine shortens an error for a table cell.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// vegetaRun describes the freshness phase's comparison run, if any.
func vegetaRun(c config) string {
	if !c.FreshVegeta || len(c.FreshReads) == 0 {
		return ""
	}
	return fmt.Sprintf(" and one at %d req/s with vegeta", c.FreshReads[0])
}

// pauseBuckets describes a pause histogram by the buckets that hold its
// p99, its median and its longest pause.
func pauseBuckets(h hist) string {
	p99lo, p99hi := h.bucketOf(0.99)
	p50lo, p50hi := h.bucketOf(0.5)
	maxlo, maxhi := h.bucketOf(1)
	return fmt.Sprintf("%d pauses; **p99 in (%s, %s]**; p50 in (%s, %s]; the longest in (%s, %s]; ≤ 1 ms: %s",
		h.Count, secs(p99lo), secs(p99hi), secs(p50lo), secs(p50hi), secs(maxlo), secs(maxhi), pct(h.fractionWithin(0.001)))
}
