package report

import (
	"fmt"

	"github.com/gintoki/gintoki/bench/stats"
)

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
