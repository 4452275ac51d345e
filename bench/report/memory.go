package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
)

// Memory is phase 6: the service with every product of a large
// database resident.
type Memory struct {
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
	CacheBytes    float64           // gintoki_cache_bytes: the cache's capacity
	GOGC          float64           // go_gc_gogc_percent (-1 if not exported)
	MemLimit      float64           // go_gc_gomemlimit_bytes (-1 if not exported)
	Reads         loadgen.WrkResult // the read load during which GC is observed
	RSSAfterGC    int64             // after a forced GC and a pause for the scavenger
	HeapAfterGC   float64           // heap in use after the forced GC
	GCTotal       uint64            // GC cycles in the process's life before the forced GC
	GCCount       float64           // GC cycles during the read load
	GCPauseSum    float64           // seconds of pause during the read load
	GCQuantiles   map[float64]float64
	SchedPauses   probe.Hist // gintoki_gc_pause_seconds during the read load, when the service exports it
	SchedPausesOK bool
	// The second read load: open loop at the 1M/min rate.
	RateReads   loadgen.FixedResult
	RateGCCount float64
	RatePauses  probe.Hist // gintoki_gc_pause_seconds during it
	// A runtime trace during the first read load.
	TraceLen    time.Duration
	TracePauses probe.STWStats
	TraceErr    error
}

// Payload is what the service holds for its clients: every product's JSON
// body and its protobuf body.
func (r *Memory) Payload() int64 { return r.JSONBytes + r.ProtoBytes }

func (r *Report) writeMemory(w *mdWriter) {
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
	w.row("payload", fmt.Sprintf("%s = JSON %s + protobuf %s (%.0f + %.0f bytes per product)", mib(float64(m.Payload())), mib(float64(m.JSONBytes)), mib(float64(m.ProtoBytes)),
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
	w.row("RSS / payload", fmt.Sprintf("**%.2f×** (RSS growth while loading: %.0f bytes per product)", float64(m.RSS)/float64(m.Payload()),
		float64(m.RSS-m.RSSIdle)/float64(m.Products)))
	w.row("Go heap in use (`go_memstats_heap_inuse_bytes`)", fmt.Sprintf("%s after loading, %s after the read load", mib(m.HeapInuse), mib(m.HeapAfter)))
	w.row("after a forced GC (diagnostic)", fmt.Sprintf("heap in use %s (= the cache's %s arena + %s), RSS %s (3 s later)",
		mib(m.HeapAfterGC), mib(m.CacheBytes), mib(m.HeapAfterGC-m.CacheBytes), mib(float64(m.RSSAfterGC))))
	w.row("read load", fmt.Sprintf("wrk on GET /v1/products/{id}/inventory for %s over ids 1..%d: %s req/s, p99 %.2f ms, %d errors", m.Reads.Duration.Round(time.Second), m.Products, count(m.Reads.RPS), stats.MS(m.Reads.P99), m.Reads.Errors))
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
		w.row("GC pauses in a runtime trace", fmt.Sprintf("no trace: %s", oneLine(cmp.Or(m.TraceErr, errors.New("no GC pause in it")))))
	} else {
		w.row(fmt.Sprintf("GC pauses in a runtime trace (%s of the load)", m.TraceLen), fmt.Sprintf("%d pauses. **World stopped** (until a goroutine ran again): p50 %s, **p99 %s**, max %s; %d above 1 ms. As the runtime records them: p50 %s, p99 %s, max %s; %d above 1 ms",
			t.N, secs(t.StopP50.Seconds()), secs(t.StopP99.Seconds()), secs(t.StopMax.Seconds()), t.StopOver,
			secs(t.RecP50.Seconds()), secs(t.RecP99.Seconds()), secs(t.RecMax.Seconds()), t.RecOver))
	}
	x := m.RateReads
	w.row(fmt.Sprintf("second read load: open loop at %s req/s (1M/min)", count(float64(x.Target))), fmt.Sprintf("sent %s req/s, success %s, p50 %.2f ms, p99 %.2f ms; service CPU %.2f cores, generator %.2f; %.0f GC cycles",
		count(x.Sent), successText(x), stats.MS(x.P50), stats.MS(x.P99), x.ServiceCores, x.GenCores, m.RateGCCount))
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
	if float64(m.RSS) > targetRSSRatio*float64(m.Payload()) && m.HeapAfterGC > m.CacheBytes {
		w.line("")
		w.line("The cache's arena is allocated up front on the Go heap: it counts in full in `heap_inuse` and in the GC's heap goal,")
		w.line("but its pages cost RSS only once written. Without a memory limit (GOGC=100 alone) the garbage of the loading can")
		w.line("grow to about the arena's size before the first collection, and freed pages are not returned while the heap is")
		w.line("below its goal: RSS then measures that garbage as much as the cache.")
	}
	w.line("")
}

// pauseBuckets describes a pause histogram by the buckets that hold its
// p99, its median and its longest pause.
func pauseBuckets(h probe.Hist) string {
	p99lo, p99hi := h.BucketOf(0.99)
	p50lo, p50hi := h.BucketOf(0.5)
	maxlo, maxhi := h.BucketOf(1)
	return fmt.Sprintf("%d pauses; **p99 in (%s, %s]**; p50 in (%s, %s]; the longest in (%s, %s]; ≤ 1 ms: %s",
		h.Count, secs(p99lo), secs(p99hi), secs(p50lo), secs(p50hi), secs(maxlo), secs(maxhi), Pct(h.FractionWithin(0.001)))
}

func (r *Report) rssVerdict() verdict {
	const t = "1M products resident: RSS ≤ 2× payload"
	if v := r.phaseMissing(t, false, r.Memory != nil, errOf(r.Memory)); v != nil {
		return *v
	}
	m := r.Memory
	got := float64(m.RSS) / float64(m.Payload())
	return atMost(t, fmt.Sprintf("%.2f× (RSS %s, payload %s)", got, mib(float64(m.RSS)), mib(float64(m.Payload()))), got, targetRSSRatio)
}

func (r *Report) gcVerdict() verdict {
	const t = "GC pause p99 ≤ 1 ms (1M products resident, under read load)"
	if v := r.phaseMissing(t, false, r.Memory != nil, errOf(r.Memory)); v != nil {
		return *v
	}
	m := r.Memory
	if tp := m.TracePauses; m.TraceErr == nil && tp.N > 0 {
		measured := fmt.Sprintf("world stopped p99 %s, max %s over %d pauses in a runtime trace of %s of the read load; the runtime's record of the same pauses: p99 %s, max %s",
			secs(tp.StopP99.Seconds()), secs(tp.StopMax.Seconds()), tp.N, m.TraceLen, secs(tp.RecP99.Seconds()), secs(tp.RecMax.Seconds()))
		if h := m.SchedPauses; m.SchedPausesOK && h.Count > 0 {
			lo, hi := h.BucketOf(0.99)
			measured += fmt.Sprintf("; over the whole load its histogram puts p99 in (%s, %s]", secs(lo), secs(hi))
		}
		v := verdict{Target: t, Measured: measured}
		if tp.StopP99 <= TargetGCPauseP99 {
			v.Status = statusMet
			if tp.RecOver > 0 {
				v.Note = fmt.Sprintf("the runtime records %d of the traced pauses above 1 ms, but in each goroutines ran again within %s while the record stayed open: the thread that restarted the world was off the CPU",
					tp.RecOver, secs(tp.RecOverStopMax.Seconds()))
			}
			return v
		}
		v.Status = statusMissed
		v.Note = fmt.Sprintf("over by %.3f ms; %d of %d pauses stopped the world for more than 1 ms", stats.MS(tp.StopP99-TargetGCPauseP99), tp.StopOver, tp.N)
		return v
	}
	if h := m.SchedPauses; m.SchedPausesOK && h.Count > 0 {
		// Judge by the bucket that holds p99, not by an interpolation
		// inside it.
		lo, hi := h.BucketOf(0.99)
		measured := fmt.Sprintf("p99 in (%s, %s] (runtime histogram, %d pauses during the read load, %s of them ≤ 1 ms)",
			secs(lo), secs(hi), h.Count, Pct(h.FractionWithin(0.001)))
		limit := TargetGCPauseP99.Seconds()
		switch {
		case hi <= limit:
			return verdict{Target: t, Measured: measured, Status: statusMet}
		case lo >= limit:
			return verdict{Target: t, Measured: measured, Status: statusMissed, Note: fmt.Sprintf("p99 is above %s", secs(lo))}
		}
		return verdict{Target: t, Measured: measured, Status: statusNotShown,
			Note: "the bucket that holds p99 straddles 1 ms"}
	}
	maxPause, ok := m.GCQuantiles[1]
	if !ok {
		return verdict{Target: t, Status: statusFailed, Note: "no go_gc_duration_seconds in /metrics"}
	}
	p75 := m.GCQuantiles[0.75]
	measured := fmt.Sprintf("max %.3f ms, p75 %.3f ms over the last %d pauses (%.0f during the read load)", 1000*maxPause, 1000*p75, min(m.GCTotal, 256), m.GCCount)
	switch {
	case maxPause <= TargetGCPauseP99.Seconds():
		return verdict{Target: t, Measured: measured, Status: statusMet, Note: "the largest pause is within the target, so p99 is"}
	case m.GCTotal <= 100:
		// With at most 100 pauses the 99th percentile (nearest rank) is
		// the largest.
		note := fmt.Sprintf("with ≤100 pauses p99 is the max: over by %.3f ms", 1000*maxPause-1)
		if m.GCCount == 0 {
			note += " (all during the loading: no GC ran during the read load)"
		}
		return verdict{Target: t, Measured: measured, Status: statusMissed, Note: note}
	case p75 > TargetGCPauseP99.Seconds():
		return verdict{Target: t, Measured: measured, Status: statusMissed, Note: fmt.Sprintf("a quarter of pauses exceed 1 ms (p75 over by %.3f ms)", 1000*p75-1)}
	}
	return verdict{Target: t, Measured: measured, Status: statusNotShown,
		Note: "max above 1 ms, p75 below: the summary's quartiles cannot place p99 (the runtime histogram would)"}
}

func (r *Memory) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
