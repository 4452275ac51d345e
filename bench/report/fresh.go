package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
)

// Fresh is phase 5: how long an UPDATE takes to show in the
// service's answers while it serves a heavy read load, at each read rate.
type Fresh struct {
	Err   error
	Conns int        // connections of the open-loop read load
	Runs  []FreshRun // the first at the target's read rate
}

// FreshRun is one freshness run at one read rate.
type FreshRun struct {
	Duration     time.Duration
	Writers      int
	TargetWrites int
	Writes       int64
	WriteErrors  int64
	FirstWErr    string
	WritesPS     float64
	Generator    string              // of the read load: genOpenLoop or genVegeta
	Reads        loadgen.FixedResult // the read load meanwhile
	Samples      int                 // UPDATEs followed until visible
	Timeouts     int                 // samples not visible within pollGiveUp
	P50, P99     time.Duration       // commit → visible, upper bound (arrival of the answer showing it)
	Max          time.Duration
	LowP50       time.Duration // lower bound (sending of the last answer not showing it)
	LowP99       time.Duration
	Delay        probe.Hist      // gintoki_change_apply_delay_seconds during the run
	Visible      []time.Duration // every sample's upper bound, sorted; timedOut for the timeouts (the chart's data)
	DelayOK      bool            // the histogram was found
}

// The read load generators of the freshness runs.
const (
	GenOpenLoop = "open loop" // loadgen.OpenLoop: the runs judged
	GenVegeta   = "vegeta"    // the comparison run
)

const (
	// PollGiveUp is how long a poller of the freshness phase waits for a
	// sampled UPDATE to show before it counts a timeout.
	PollGiveUp = 2 * time.Second
	// TimedOut stands for a sample not visible within PollGiveUp in the
	// latency percentiles: timeouts count as slower than everything.
	TimedOut = time.Duration(math.MaxInt64)
)

func (r *Report) writeFresh(w *mdWriter) {
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
	cells := func(name string, f func(FreshRun) string) {
		row := []string{name}
		for _, x := range runs {
			row = append(row, f(x))
		}
		w.row(row...)
	}
	cells("UPDATEs", func(f FreshRun) string {
		return fmt.Sprintf("%s in %s = **%s/s** over %d connections (target %s/s), %d errors%s", count(float64(f.Writes)), f.Duration,
			count(f.WritesPS), f.Writers, count(float64(f.TargetWrites)), f.WriteErrors, suffix(f.FirstWErr))
	})
	cells("reads meanwhile", func(f FreshRun) string {
		return fmt.Sprintf("sent **%s/s**, success %s, p50 %.2f ms, p99 %.2f ms; rate held back by %s", count(f.Reads.Sent),
			successText(f.Reads), stats.MS(f.Reads.P50), stats.MS(f.Reads.P99), limitText(f.Reads))
	})
	cells("CPU (cores): service / this process (reader, writers, pollers)", func(f FreshRun) string {
		return fmt.Sprintf("%.2f / %.2f", f.Reads.ServiceCores, f.Reads.GenCores)
	})
	cells("samples", func(f FreshRun) string { return fmt.Sprintf("%d, of which %d timed out", f.Samples, f.Timeouts) })
	cells("commit → visible (upper bound)", func(f FreshRun) string {
		return fmt.Sprintf("p50 **%s**, p99 **%s**, max %s", Visible(f.P50), Visible(f.P99), Visible(f.Max))
	})
	cells("commit → visible (lower bound)", func(f FreshRun) string {
		return fmt.Sprintf("p50 %s, p99 %s", Visible(f.LowP50), Visible(f.LowP99))
	})
	cells("service's view: `gintoki_change_apply_delay_seconds`", func(f FreshRun) string {
		if !f.DelayOK || f.Delay.Count == 0 {
			return "no observations"
		}
		d := f.Delay
		return fmt.Sprintf("%d changes; mean %.1f ms; p50 ≈ %s, p99 ≈ %s (interpolated in buckets); ≤ 5 ms: %s, ≤ 25 ms: %s",
			d.Count, 1000*d.Sum/float64(d.Count), secs(d.Quantile(0.5)), secs(d.Quantile(0.99)),
			Pct(d.FractionWithin(0.005)), Pct(d.FractionWithin(0.025)))
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

func (r *Report) freshVerdict() verdict {
	const t = "commit → visible p99 ≤ 20 ms at 1,000 writes/s with ≥ 20,000 reads/s"
	if v := r.phaseMissing(t, true, r.Fresh != nil, errOf(r.Fresh)); v != nil {
		return *v
	}
	if len(r.Fresh.Runs) == 0 {
		return verdict{Target: t, Status: statusSkipped, Note: "no read rate configured"}
	}
	f := r.Fresh.Runs[0]
	v := verdict{Target: t, Measured: fmt.Sprintf("p99 %s (lower bound %s) over %d samples (%d timeouts), at %s writes/s and %s reads/s",
		Visible(f.P99), Visible(f.LowP99), f.Samples, f.Timeouts, count(f.WritesPS), count(f.Reads.Sent))}
	loadShort := f.WritesPS < 0.95*targetFreshWrites || f.Reads.Sent < 0.98*targetFreshReads
	switch {
	case f.Samples == 0:
		v.Status, v.Note = statusFailed, "no samples"
	case f.P99 > targetVisibleP99:
		v.Status = statusMissed
		if f.P99 >= TimedOut {
			v.Note = fmt.Sprintf("more than 1%% of samples not visible within %s", PollGiveUp)
		} else {
			v.Note = fmt.Sprintf("over by %.2f ms (%.0f%%)", stats.MS(f.P99-targetVisibleP99), 100*float64(f.P99-targetVisibleP99)/float64(targetVisibleP99))
		}
		if loadShort {
			v.Note += fmt.Sprintf(", even below the target load (the machine was saturated: reads p99 %.0f ms)", stats.MS(f.Reads.P99))
		}
	case loadShort:
		v.Status = statusNotShown
		v.Note = fmt.Sprintf("latency within the target, but the load reached only %s writes/s and %s reads/s: the generators share the %s with the service", count(f.WritesPS), count(f.Reads.Sent), cores(r.Machine.CPUs))
	default:
		v.Status = statusMet
	}
	for _, x := range r.Fresh.Runs[1:] {
		if x.Generator != f.Generator {
			v.Note = strings.TrimPrefix(v.Note+"; ", "; ") + fmt.Sprintf("%s reading %s/s: p99 %s", x.Generator, count(x.Reads.Sent), Visible(x.P99))
			continue
		}
		v.Note = strings.TrimPrefix(v.Note+"; ", "; ") + fmt.Sprintf("at %s reads/s: p99 %s", count(x.Reads.Sent), Visible(x.P99))
	}
	return v
}

func (r *Fresh) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
