package report

import (
	"fmt"
	"math"
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
	TargetFixedRate    = 16_700
	targetVisibleP99   = 20 * time.Millisecond
	targetFreshWrites  = 1_000
	targetFreshReads   = 20_000
	targetRSSRatio     = 2.0
	TargetGCPauseP99   = time.Millisecond
)

// verdicts evaluates every target against what the report holds.
func (r *Report) verdicts() []verdict {
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
func (r *Report) phaseMissing(target string, needsStack, ran bool, err error) *verdict {
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

// errOf returns a phase's error (nil-safe).
func errOf(p interface{ err() error }) error {
	if p == nil {
		return nil
	}
	return p.err()
}
