package probe

import (
	"math"
	"strings"
	"testing"
)

const sampleMetrics = `# TYPE gintoki_change_apply_delay_seconds histogram
gintoki_change_apply_delay_seconds_bucket{le="0.001"} 10
gintoki_change_apply_delay_seconds_bucket{le="0.005"} 90
gintoki_change_apply_delay_seconds_bucket{le="0.01"} 100
gintoki_change_apply_delay_seconds_bucket{le="+Inf"} 100
gintoki_change_apply_delay_seconds_sum 0.3
gintoki_change_apply_delay_seconds_count 100
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 1e-05
go_gc_duration_seconds{quantile="0.5"} 5e-05
go_gc_duration_seconds{quantile="1"} 0.002
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 42
# TYPE gintoki_db_loads_total counter
gintoki_db_loads_total 7
# TYPE x gauge
x{a="1"} 2
x{a="2"} 3
`

func TestMetrics(t *testing.T) {
	over := Hist{Bounds: []float64{1}, Counts: []uint64{0}, Count: 3}
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Value("gintoki_db_loads_total"); !ok || v != 7 {
		t.Errorf("counter %v %v", v, ok)
	}
	if v, _ := m.Value("x"); v != 5 {
		t.Errorf("gauge sum %v", v)
	}
	if _, ok := m.Value("absent"); ok {
		t.Error("absent metric found")
	}
	q, n, sum, ok := m.Summary("go_gc_duration_seconds")
	if !ok || n != 42 || sum != 0.01 || q[1] != 0.002 || q[0.5] != 5e-05 {
		t.Errorf("summary %v %v %v %v", q, n, sum, ok)
	}
	h, ok := m.Histogram("gintoki_change_apply_delay_seconds")
	if !ok || h.Count != 100 || len(h.Bounds) != 3 {
		t.Fatalf("histogram %+v", h)
	}
	// 50th of 100: in (0.001, 0.005], 40 of its 80 → 0.001 + 0.004/2.
	if got := h.Quantile(0.5); math.Abs(got-0.003) > 1e-12 {
		t.Errorf("p50 = %v", got)
	}
	if got := h.Quantile(0.05); math.Abs(got-0.0005) > 1e-12 {
		t.Errorf("p5 = %v", got)
	}
	if lo, hi := h.BucketOf(0.5); lo != 0.001 || hi != 0.005 {
		t.Errorf("bucket of p50 = (%v, %v]", lo, hi)
	}
	if lo, hi := over.BucketOf(0.5); lo != 1 || !math.IsInf(hi, 1) {
		t.Errorf("bucket beyond the bounds = (%v, %v]", lo, hi)
	}
	if got := h.FractionWithin(0.005); got != 0.9 {
		t.Errorf("share ≤ 5 ms = %v", got)
	}
	before := Hist{Bounds: h.Bounds, Counts: []uint64{10, 10, 10}, Count: 10, Sum: 0.005}
	d := h.Since(before)
	if d.Count != 90 || d.Counts[0] != 0 || d.Quantile(1) != 0.01 {
		t.Errorf("since: %+v", d)
	}
	if !math.IsInf(over.Quantile(0.5), 1) {
		t.Error("quantile beyond the last bound is not +Inf")
	}
}
