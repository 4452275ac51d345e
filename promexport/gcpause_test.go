package promexport

import (
	"math"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRebucketCountsEachPauseAtOrAboveItsUpperEdge(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{math.Inf(-1), 0.0004, 0.0009, 0.0011, 0.003, math.Inf(1)},
		Counts:  []uint64{1, 2, 3, 4, 5},
	}
	count, sum, cum := rebucket(h, []float64{0.0005, 0.001, 0.002, 0.01})
	if count != 15 {
		t.Errorf("count = %d, want 15", count)
	}
	// [0.0009, 0.0011) may hold a pause of 1.05 ms: not within 1 ms.
	want := map[float64]uint64{0.0005: 1, 0.001: 3, 0.002: 6, 0.01: 10}
	for b, n := range want {
		if cum[b] != n {
			t.Errorf("bucket le=%g: %d, want %d", b, cum[b], n)
		}
	}
	wantSum := 1*0.0004 + 2*0.00065 + 3*0.001 + 4*0.00205 + 5*0.003
	if math.Abs(sum-wantSum) > 1e-12 {
		t.Errorf("sum = %g, want %g", sum, wantSum)
	}
}

func TestGCPauseCollectorCountsPauses(t *testing.T) {
	read := func() *dto.Histogram {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(NewGCPauseCollector())
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if len(mfs) != 1 || mfs[0].GetName() != "gintoki_gc_pause_seconds" {
			t.Fatalf("gathered %v, want gintoki_gc_pause_seconds alone", mfs)
		}
		return mfs[0].GetMetric()[0].GetHistogram()
	}
	before := read()
	for range 3 {
		runtime.GC()
	}
	after := read()
	// Every cycle stops the world twice (sweep termination, mark termination).
	if got := after.GetSampleCount() - before.GetSampleCount(); got < 6 {
		t.Errorf("3 GC cycles added %d pauses, want at least 6", got)
	}
	b := after.GetBucket()
	if len(b) != len(gcPauseBounds) {
		t.Fatalf("%d buckets, want %d", len(b), len(gcPauseBounds))
	}
	for i := 1; i < len(b); i++ {
		if b[i].GetCumulativeCount() < b[i-1].GetCumulativeCount() {
			t.Errorf("bucket le=%g holds %d, fewer than le=%g's %d", b[i].GetUpperBound(), b[i].GetCumulativeCount(),
				b[i-1].GetUpperBound(), b[i-1].GetCumulativeCount())
		}
	}
	if after.GetSampleSum() <= 0 {
		t.Errorf("sum = %g, want > 0", after.GetSampleSum())
	}
	lint(t, NewGCPauseCollector())
}
