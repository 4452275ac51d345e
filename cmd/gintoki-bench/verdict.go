package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Verdict statuses.
const (
	statusMet      = "MET"
	statusMissed   = "MISSED"
	statusNotShown = "NOT SHOWN" // the test could not create the target's conditions
	statusFailed   = "FAILED"    // the phase did not complete
	statusSkipped  = "SKIPPED"   // the phase was not selected
)

// verdict is one target's outcome.
type verdict struct {
	Target   string
	Measured string
	Status   string
	Note     string // by how much it was missed, or why it is not shown
}

// Targets.
const (
	targetHTTPRatio    = 0.9 // HTTP hit path req/s ≥ 0.9 × bare
	targetHTTPP99Ratio = 1.2 // HTTP hit path p99 ≤ 1.2 × bare
	targetDBOnlyRatio  = 4.0 // cached req/s ≥ 4 × db-only
	targetGRPCRatio    = 0.9 // gRPC unary calls/s ≥ 0.9 × bare
	targetFixedRate    = 16_700
	targetVisibleP99   = 20 * time.Millisecond
	targetFreshWrites  = 1_000
	targetFreshReads   = 20_000
	targetRSSRatio     = 2.0
	targetGCPauseP99   = time.Millisecond
)

// verdicts evaluates every target against what the report holds.
func (r *report) verdicts() []verdict {
	v := []verdict{
		r.httpThroughputVerdict(), r.httpP99Verdict(), r.dbOnlyVerdict(), r.grpcVerdict(), r.grpcBatchVerdict(),
		r.fixedVerdict(),
	}
	v = append(v, r.tailVerdicts()...)
	v = append(v, r.freshVerdict(), r.rssVerdict(), r.gcVerdict(), r.stampedeVerdict())
	return append(v, r.coldVerdicts()...)
}

// phaseMissing returns a SKIPPED or FAILED verdict if a phase has no
// result, else nil.
// needsStack says whether the phase needs the stack's services (whose
// failure to start is then the reason it did not run).
func (r *report) phaseMissing(target string, needsStack, ran bool, err error) *verdict {
	switch {
	case needsStack && r.StackErr != nil && !ran:
		return &verdict{Target: target, Status: statusFailed, Note: r.StackErr.Error()}
	case !ran:
		return &verdict{Target: target, Status: statusSkipped}
	case err != nil:
		return &verdict{Target: target, Status: statusFailed, Note: err.Error()}
	}
	return nil
}

// atLeast judges got ≥ want (ratios), saying by how much it fell short.
func atLeast(target, measured string, got, want float64) verdict {
	v := verdict{Target: target, Measured: measured, Status: statusMet}
	if math.IsNaN(got) || got < want {
		v.Status = statusMissed
		v.Note = fmt.Sprintf("short by %.2g× (%.1f%% below the target)", want-got, 100*(want-got)/want)
	}
	return v
}

// atMost judges got ≤ want, saying by how much it was exceeded.
func atMost(target, measured string, got, want float64) verdict {
	v := verdict{Target: target, Measured: measured, Status: statusMet}
	if math.IsNaN(got) || got > want {
		v.Status = statusMissed
		v.Note = fmt.Sprintf("over by %.2g× (%.1f%% above the target)", got-want, 100*(got-want)/want)
	}
	return v
}

func (r *report) httpThroughputVerdict() verdict {
	const t = "HTTP hit path: req/s ≥ 0.9× bare net/http"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.RPS.median() / r.HTTP.Bare.RPS.median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s req/s)", got, count(r.HTTP.Gintoki.RPS.median()), count(r.HTTP.Bare.RPS.median())), got, targetHTTPRatio)
}

func (r *report) httpP99Verdict() verdict {
	const t = "HTTP hit path: p99 ≤ 1.2× bare net/http"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.P99.median() / r.HTTP.Bare.P99.median()
	return atMost(t, fmt.Sprintf("%.2f× (%.2f vs %.2f ms)", got, r.HTTP.Gintoki.P99.median(), r.HTTP.Bare.P99.median()), got, targetHTTPP99Ratio)
}

func (r *report) dbOnlyVerdict() verdict {
	const t = "Cache pays: req/s ≥ 4× the database-only mode"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.RPS.median() / r.HTTP.DBOnly.RPS.median()
	return atLeast(t, fmt.Sprintf("%.1f× (%s vs %s req/s)", got, count(r.HTTP.Gintoki.RPS.median()), count(r.HTTP.DBOnly.RPS.median())), got, targetDBOnlyRatio)
}

func (r *report) grpcBatchVerdict() verdict {
	const t = "gRPC BatchGetInventory (100 cached ids): calls/s ≥ 0.9× bare grpc-go"
	if v := r.phaseMissing(t, true, r.GRPC != nil, errOf(r.GRPC)); v != nil {
		return *v
	}
	got := r.GRPC.Batch.RPS.median() / r.GRPC.BatchBare.RPS.median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s calls/s)", got, count(r.GRPC.Batch.RPS.median()), count(r.GRPC.BatchBare.RPS.median())), got, targetGRPCRatio)
}

func (r *report) grpcVerdict() verdict {
	const t = "gRPC GetInventory: calls/s ≥ 0.9× bare grpc-go"
	if v := r.phaseMissing(t, true, r.GRPC != nil, errOf(r.GRPC)); v != nil {
		return *v
	}
	got := r.GRPC.Get.RPS.median() / r.GRPC.GetBare.RPS.median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s calls/s)", got, count(r.GRPC.Get.RPS.median()), count(r.GRPC.GetBare.RPS.median())), got, targetGRPCRatio)
}

func (r *report) fixedVerdict() verdict {
	const t = "16,700 req/s (1M/min) with 100% success"
	if v := r.phaseMissing(t, true, r.Fixed != nil, errOf(r.Fixed)); v != nil {
		return *v
	}
	var run *fixedResult
	for i := range r.Fixed.Runs {
		if x := &r.Fixed.Runs[i]; x.Target >= targetFixedRate && (run == nil || x.Target < run.Target) {
			run = x
		}
	}
	if run == nil {
		return verdict{Target: t, Status: statusSkipped, Note: "no run at 16,700 req/s or more (--rates)"}
	}
	v := verdict{Target: t, Measured: fmt.Sprintf("sent %s req/s, %s success, p99 %.2f ms", count(run.Sent), pct(run.Success), ms(run.P99))}
	switch {
	case run.Success < 1:
		v.Status, v.Note = statusMissed, fmt.Sprintf("%s of requests failed", pct(1-run.Success))
	case run.limit() == "generator":
		v.Status = statusNotShown
		v.Note = fmt.Sprintf("the generator sent only %s req/s (%.1f%% short) and used more CPU than the service (%.2f vs %.2f cores): every request was answered, but vegeta on the same %s could not offer the rate",
			count(run.Sent), 100*(1-run.Sent/float64(run.Target)), run.GenCores, run.ServiceCores, cores(r.Machine.CPUs))
	case run.limit() == "service":
		v.Status = statusMissed
		v.Note = fmt.Sprintf("only %s req/s went out with %d requests waiting for the service (%.1f%% short)", count(run.Sent), run.InFlight, 100*(1-run.Sent/float64(run.Target)))
	default:
		v.Status = statusMet
	}
	return v
}

func (r *report) freshVerdict() verdict {
	const t = "commit → visible p99 ≤ 20 ms at 1,000 writes/s with ≥ 20,000 reads/s"
	if v := r.phaseMissing(t, true, r.Fresh != nil, errOf(r.Fresh)); v != nil {
		return *v
	}
	if len(r.Fresh.Runs) == 0 {
		return verdict{Target: t, Status: statusSkipped, Note: "no read rate configured"}
	}
	f := r.Fresh.Runs[0]
	v := verdict{Target: t, Measured: fmt.Sprintf("p99 %s (lower bound %s) over %d samples (%d timeouts), at %s writes/s and %s reads/s",
		visible(f.P99), visible(f.LowP99), f.Samples, f.Timeouts, count(f.WritesPS), count(f.Reads.Sent))}
	loadShort := f.WritesPS < 0.95*targetFreshWrites || f.Reads.Sent < 0.98*targetFreshReads
	switch {
	case f.Samples == 0:
		v.Status, v.Note = statusFailed, "no samples"
	case f.P99 > targetVisibleP99:
		v.Status = statusMissed
		if f.P99 >= timedOut {
			v.Note = fmt.Sprintf("more than 1%% of samples not visible within %s", pollGiveUp)
		} else {
			v.Note = fmt.Sprintf("over by %.2f ms (%.0f%%)", ms(f.P99-targetVisibleP99), 100*float64(f.P99-targetVisibleP99)/float64(targetVisibleP99))
		}
		if loadShort {
			v.Note += fmt.Sprintf(", even below the target load (the machine was saturated: reads p99 %.0f ms)", ms(f.Reads.P99))
		}
	case loadShort:
		v.Status = statusNotShown
		v.Note = fmt.Sprintf("latency within the target, but the load reached only %s writes/s and %s reads/s: the generators share the %s with the service", count(f.WritesPS), count(f.Reads.Sent), cores(r.Machine.CPUs))
	default:
		v.Status = statusMet
	}
	for _, x := range r.Fresh.Runs[1:] {
		if x.Generator != f.Generator {
			v.Note = strings.TrimPrefix(v.Note+"; ", "; ") + fmt.Sprintf("%s reading %s/s: p99 %s", x.Generator, count(x.Reads.Sent), visible(x.P99))
			continue
		}
		v.Note = strings.TrimPrefix(v.Note+"; ", "; ") + fmt.Sprintf("at %s reads/s: p99 %s", count(x.Reads.Sent), visible(x.P99))
	}
	return v
}

func (r *report) rssVerdict() verdict {
	const t = "1M products resident: RSS ≤ 2× payload"
	if v := r.phaseMissing(t, false, r.Memory != nil, errOf(r.Memory)); v != nil {
		return *v
	}
	m := r.Memory
	got := float64(m.RSS) / float64(m.payload())
	return atMost(t, fmt.Sprintf("%.2f× (RSS %s, payload %s)", got, mib(float64(m.RSS)), mib(float64(m.payload()))), got, targetRSSRatio)
}

func (r *report) gcVerdict() verdict {
	const t = "GC pause p99 ≤ 1 ms (1M products resident, under read load)"
	if v := r.phaseMissing(t, false, r.Memory != nil, errOf(r.Memory)); v != nil {
		return *v
	}
	m := r.Memory
	if tp := m.TracePauses; m.TraceErr == nil && tp.N > 0 {
		measured := fmt.Sprintf("world stopped p99 %s, max %s over %d pauses in a runtime trace of %s of the read load; the runtime's record of the same pauses: p99 %s, max %s",
			secs(tp.StopP99.Seconds()), secs(tp.StopMax.Seconds()), tp.N, m.TraceLen, secs(tp.RecP99.Seconds()), secs(tp.RecMax.Seconds()))
		if h := m.SchedPauses; m.SchedPausesOK && h.Count > 0 {
			lo, hi := h.bucketOf(0.99)
			measured += fmt.Sprintf("; over the whole load its histogram puts p99 in (%s, %s]", secs(lo), secs(hi))
		}
		v := verdict{Target: t, Measured: measured}
		if tp.StopP99 <= targetGCPauseP99 {
			v.Status = statusMet
			if tp.RecOver > 0 {
				v.Note = fmt.Sprintf("the runtime records %d of the traced pauses above 1 ms, but in each goroutines ran again within %s while the record stayed open: the thread that restarted the world was off the CPU",
					tp.RecOver, secs(tp.RecOverStopMax.Seconds()))
			}
			return v
		}
		v.Status = statusMissed
		v.Note = fmt.Sprintf("over by %.3f ms; %d of %d pauses stopped the world for more than 1 ms", ms(tp.StopP99-targetGCPauseP99), tp.StopOver, tp.N)
		return v
	}
	if h := m.SchedPauses; m.SchedPausesOK && h.Count > 0 {
		// Judge by the bucket that holds p99, not by an interpolation
		// inside it.
		lo, hi := h.bucketOf(0.99)
		measured := fmt.Sprintf("p99 in (%s, %s] (runtime histogram, %d pauses during the read load, %s of them ≤ 1 ms)",
			secs(lo), secs(hi), h.Count, pct(h.fractionWithin(0.001)))
		limit := targetGCPauseP99.Seconds()
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
	case maxPause <= targetGCPauseP99.Seconds():
		return verdict{Target: t, Measured: measured, Status: statusMet, Note: "the largest pause is within the target, so p99 is"}
	case m.GCTotal <= 100:
		// With at most 100 pauses the 99th percentile (nearest rank) is
		// the largest.
		note := fmt.Sprintf("with ≤100 pauses p99 is the max: over by %.3f ms", 1000*maxPause-1)
		if m.GCCount == 0 {
			note += " (all during the loading: no GC ran during the read load)"
		}
		return verdict{Target: t, Measured: measured, Status: statusMissed, Note: note}
	case p75 > targetGCPauseP99.Seconds():
		return verdict{Target: t, Measured: measured, Status: statusMissed, Note: fmt.Sprintf("a quarter of pauses exceed 1 ms (p75 over by %.3f ms)", 1000*p75-1)}
	}
	return verdict{Target: t, Measured: measured, Status: statusNotShown,
		Note: "max above 1 ms, p75 below: the summary's quartiles cannot place p99 (the runtime histogram would)"}
}

func (r *report) stampedeVerdict() verdict {
	const t = "Stampede: 1,000 concurrent misses of a key = 1 database query"
	if v := r.phaseMissing(t, true, r.Stampede != nil, errOf(r.Stampede)); v != nil {
		return *v
	}
	v := verdict{Target: t, Status: statusMet}
	var got []string
	failed := 0
	for _, s := range r.Stampede.IDs {
		got = append(got, fmt.Sprint(s.queries()))
		if s.queries() != 1 {
			v.Status, v.Note = statusMissed, "see the stampede table"
		}
		failed += r.Stampede.Concurrency - s.OK
	}
	v.Measured = fmt.Sprintf("queries per id: %v", got)
	if failed > 0 {
		v.Status, v.Note = statusMissed, fmt.Sprintf("%d requests did not get 200 OK", failed)
	}
	return v
}

// errOf returns a phase's error (nil-safe).
func errOf(p interface{ err() error }) error {
	if p == nil {
		return nil
	}
	return p.err()
}

func (r *httpReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

func (r *grpcReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

func (r *fixedReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

func (r *freshReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

func (r *memoryReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}

func (r *stampedeReport) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
