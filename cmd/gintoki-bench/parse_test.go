package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := `Running 2s test @ http://127.0.0.1:18080
  2 threads and 64 connections
  Latency Distribution
     50%  0.96ms
  120064 requests in 2.00s, 30.00MB read
Requests/sec:  60032.00
GINTOKI_WRK {"requests":120064,"duration_us":2000000,"p50_us":960,"p90_us":2000,"p99_us":10010,"max_us":20000,"connect":0,"read":1,"write":0,"status":2,"timeout":3}
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 120064 || r.RPS != 60032 || r.P50 != 960*time.Microsecond || r.P99 != 10010*time.Microsecond || r.Errors != 6 {
		t.Errorf("got %+v", r)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("no error without the summary line")
	}
}

func TestSeries(t *testing.T) {
	s := series{3, 1, 2, 10}
	if s.median() != 2.5 || s.min() != 1 || s.max() != 10 {
		t.Errorf("median %v min %v max %v", s.median(), s.min(), s.max())
	}
	if m := (series{5, 1, 3}).median(); m != 3 {
		t.Errorf("odd median %v", m)
	}
	if !math.IsNaN(series(nil).median()) {
		t.Error("empty median is not NaN")
	}
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]time.Duration{0.5: 5, 0.99: 10, 0.1: 1, 0: 1} {
		if got := percentile(d, q); got != want {
			t.Errorf("percentile(%v) = %v, want %v", q, got, want)
		}
	}
}

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
	over := hist{Bounds: []float64{1}, Counts: []uint64{0}, Count: 3}
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.value("gintoki_db_loads_total"); !ok || v != 7 {
		t.Errorf("counter %v %v", v, ok)
	}
	if v, _ := m.value("x"); v != 5 {
		t.Errorf("gauge sum %v", v)
	}
	if _, ok := m.value("absent"); ok {
		t.Error("absent metric found")
	}
	q, n, sum, ok := m.summary("go_gc_duration_seconds")
	if !ok || n != 42 || sum != 0.01 || q[1] != 0.002 || q[0.5] != 5e-05 {
		t.Errorf("summary %v %v %v %v", q, n, sum, ok)
	}
	h, ok := m.histogram("gintoki_change_apply_delay_seconds")
	if !ok || h.Count != 100 || len(h.Bounds) != 3 {
		t.Fatalf("histogram %+v", h)
	}
	// 50th of 100: in (0.001, 0.005], 40 of its 80 → 0.001 + 0.004/2.
	if got := h.quantile(0.5); math.Abs(got-0.003) > 1e-12 {
		t.Errorf("p50 = %v", got)
	}
	if got := h.quantile(0.05); math.Abs(got-0.0005) > 1e-12 {
		t.Errorf("p5 = %v", got)
	}
	if lo, hi := h.bucketOf(0.5); lo != 0.001 || hi != 0.005 {
		t.Errorf("bucket of p50 = (%v, %v]", lo, hi)
	}
	if lo, hi := over.bucketOf(0.5); lo != 1 || !math.IsInf(hi, 1) {
		t.Errorf("bucket beyond the bounds = (%v, %v]", lo, hi)
	}
	if got := h.fractionWithin(0.005); got != 0.9 {
		t.Errorf("share ≤ 5 ms = %v", got)
	}
	before := hist{Bounds: h.Bounds, Counts: []uint64{10, 10, 10}, Count: 10, Sum: 0.005}
	d := h.since(before)
	if d.Count != 90 || d.Counts[0] != 0 || d.quantile(1) != 0.01 {
		t.Errorf("since: %+v", d)
	}
	if !math.IsInf(over.quantile(0.5), 1) {
		t.Error("quantile beyond the last bound is not +Inf")
	}
}

func TestParseStat(t *testing.T) {
	stat := "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1"
	d, err := parseStatCPU(stat)
	if err != nil || d != 3*time.Second {
		t.Errorf("got %v, %v", d, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("no error")
	}
	status := []byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t    1024 kB\n")
	if n, err := statusKB(status, "VmRSS:"); err != nil || n != 1<<20 {
		t.Errorf("VmRSS %v %v", n, err)
	}
	if _, err := statusKB(status, "VmSwap:"); err == nil {
		t.Error("no error for a missing field")
	}
}

func TestParseGoBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkGet/freecache-2         	 1470325	       765.4 ns/op	       0 B/op	       0 allocs/op
BenchmarkGet/bigcache-2          	 1000000	      1578 ns/op	     321 B/op	       2 allocs/op
BenchmarkGet/freecache-2         	 1470325	       700.0 ns/op	       0 B/op	       0 allocs/op
PASS
`)
	rows := parseGoBench(out)
	if len(rows) != 2 || rows[0].Name != "BenchmarkGet/freecache-2" || len(rows[0].NsOp) != 2 || rows[1].BOp[0] != 321 {
		t.Errorf("got %+v", rows)
	}
}
