package report

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
)

func loadStatsOf(name string, rps, p99 float64) *LoadStats {
	return &LoadStats{Name: name, RPS: stats.Series{rps * 0.9, rps, rps * 1.1}, ProductsPS: stats.Series{rps}, P50: stats.Series{p99 / 4},
		P99: stats.Series{p99, p99 * 1.1, p99 * 0.9}, SvcCores: stats.Series{1}, GenCores: stats.Series{0.5}}
}

// fullReport returns a report where every target is met.
func fullReport() *Report {
	return &Report{
		Started: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 27, 12, 9, 0, 0, time.UTC),
		Command: "make bench", Machine: probe.Machine{CPUs: 2, CPUModel: "test CPU"},
		Settings: []string{"closed loop: 3 rounds"},
		HTTP:     &HTTP{Gintoki: loadStatsOf("gintoki", 95, 1.1), Bare: loadStatsOf("bare", 100, 1), DBOnly: loadStatsOf("db", 10, 20)},
		GRPC: &GRPC{Get: loadStatsOf("g", 95, 1), GetBare: loadStatsOf("b", 100, 1), Batch: loadStatsOf("gb", 9, 5),
			BatchBare: loadStatsOf("bb", 10, 5), Conns: 4, Callers: 64, BatchSize: 100},
		Fixed: &Fixed{Runs: []loadgen.FixedResult{{Target: 10_000, Sent: 10_000, Success: 1}, {Target: 16_700, Sent: 16_690, Success: 1}}},
		Tail:  tailFull(),
		Fresh: &Fresh{Runs: []FreshRun{{Samples: 500, P50: 3 * time.Millisecond, P99: 12 * time.Millisecond, Max: 30 * time.Millisecond,
			WritesPS: 1000, TargetWrites: 1000, Generator: GenOpenLoop, Reads: loadgen.FixedResult{Target: 20_000, Sent: 20_000, Success: 1},
			Delay: probe.Hist{Bounds: []float64{0.001, 0.01}, Counts: []uint64{5, 10}, Count: 10, Sum: 0.02}, DelayOK: true}}},
		Memory: &Memory{Products: 1_000_000, JSONBytes: 150 << 20, ProtoBytes: 40 << 20, RSS: 300 << 20,
			GCTotal: 500, GCQuantiles: map[float64]float64{0: 1e-5, 0.25: 2e-5, 0.5: 3e-5, 0.75: 4e-5, 1: 9e-4}},
		Stampede:   &Stampede{Concurrency: 1000, IDs: []StampedeID{{ID: 1, Selects: 1, Net: 1, OK: 1000}, {ID: 2, Selects: 2, Net: 1.1, OK: 1000}}},
		CacheBench: &CacheBench{Command: "go test", Rows: []CacheBenchRow{{Name: "BenchmarkGet/x-2", NsOp: stats.Series{1, 2, 3}}}},
		Cold:       fullCold(), // report_cold_test.go
	}
}

func statusOf(vs []verdict, prefix string) string {
	for _, v := range vs {
		if strings.HasPrefix(v.Target, prefix) {
			return v.Status
		}
	}
	return "absent"
}

func TestVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Report)
		target string
		want   string
	}{
		{"all met", func(*Report) {}, "", statusMet},
		{"HTTP slower than 0.9× bare", func(r *Report) { r.HTTP.Gintoki = loadStatsOf("g", 80, 1) }, "HTTP hit path: req/s", statusMissed},
		{"HTTP p99 above 1.2× bare", func(r *Report) { r.HTTP.Gintoki = loadStatsOf("g", 95, 1.3) }, "HTTP hit path: p99", statusMissed},
		{"cache under 4× db-only", func(r *Report) { r.HTTP.DBOnly = loadStatsOf("db", 30, 5) }, "Cache pays", statusMissed},
		{"gRPC under 0.9× bare", func(r *Report) { r.GRPC.Get = loadStatsOf("g", 50, 1) }, "gRPC", statusMissed},
		{"generator short of 16,700", func(r *Report) { r.Fixed.Runs[1].Sent = 14_000; r.Fixed.Runs[1].GenCores = 1 }, "16,700", statusNotShown},
		{"service short of 16,700", func(r *Report) { r.Fixed.Runs[1].Sent = 14_000; r.Fixed.Runs[1].ServiceCores = 1 }, "16,700", statusMissed},
		{"failures at 16,700", func(r *Report) { r.Fixed.Runs[1].Success = 0.99 }, "16,700", statusMissed},
		{"no run at 16,700", func(r *Report) { r.Fixed.Runs = r.Fixed.Runs[:1] }, "16,700", statusSkipped},
		{"visible too late", func(r *Report) { r.Fresh.Runs[0].P99 = 25 * time.Millisecond }, "commit", statusMissed},
		{"visible timeouts", func(r *Report) { r.Fresh.Runs[0].P99 = TimedOut }, "commit", statusMissed},
		{"reads short of 20,000", func(r *Report) { r.Fresh.Runs[0].Reads.Sent = 15_000 }, "commit", statusNotShown},
		{"RSS over 2× payload", func(r *Report) { r.Memory.RSS = 500 << 20 }, "1M products", statusMissed},
		{"GC max over 1 ms, few pauses", func(r *Report) { r.Memory.GCTotal = 50; r.Memory.GCQuantiles[1] = 2e-3 }, "GC pause", statusMissed},
		{"GC max over 1 ms, many pauses", func(r *Report) { r.Memory.GCQuantiles[1] = 2e-3 }, "GC pause", statusNotShown},
		{"GC p75 over 1 ms", func(r *Report) { r.Memory.GCQuantiles[1] = 3e-3; r.Memory.GCQuantiles[0.75] = 2e-3 }, "GC pause", statusMissed},
		{"GC histogram, p99 in a bucket above 1 ms", func(r *Report) {
			r.Memory.SchedPausesOK = true
			r.Memory.SchedPauses = probe.Hist{Bounds: []float64{1e-4, 1e-3, 1e-2}, Counts: []uint64{90, 95, 100}, Count: 100}
		}, "GC pause", statusMissed},
		{"GC histogram, p99 in a bucket below 1 ms", func(r *Report) {
			r.Memory.SchedPausesOK = true
			r.Memory.SchedPauses = probe.Hist{Bounds: []float64{8e-5, 9e-4, 1e-2}, Counts: []uint64{90, 99, 100}, Count: 100}
		}, "GC pause", statusMet},
		{"GC histogram, p99 bucket straddles 1 ms", func(r *Report) {
			r.Memory.SchedPausesOK = true
			r.Memory.SchedPauses = probe.Hist{Bounds: []float64{9e-4, 1e-2}, Counts: []uint64{98, 100}, Count: 100}
		}, "GC pause", statusNotShown},
		{"GC trace: world stopped briefly though the runtime records more", func(r *Report) {
			r.Memory.SchedPausesOK = true
			r.Memory.SchedPauses = probe.Hist{Bounds: []float64{1e-4, 1e-3, 1e-2}, Counts: []uint64{90, 95, 100}, Count: 100}
			r.Memory.TracePauses = tracedPauses(100, 3, 2*time.Millisecond, 80*time.Microsecond)
		}, "GC pause", statusMet},
		{"GC trace: world stopped over 1 ms", func(r *Report) {
			r.Memory.TracePauses = tracedPauses(100, 3, 2*time.Millisecond, 1500*time.Microsecond)
		}, "GC pause", statusMissed},
		{"GC trace failed: falls back to the histogram", func(r *Report) {
			r.Memory.TracePauses = tracedPauses(100, 0, 0, 0)
			r.Memory.TraceErr = errors.New("no pprof")
			r.Memory.SchedPausesOK = true
			r.Memory.SchedPauses = probe.Hist{Bounds: []float64{1e-4, 1e-3, 1e-2}, Counts: []uint64{90, 95, 100}, Count: 100}
		}, "GC pause", statusMissed},
		{"stampede of 2 queries", func(r *Report) { r.Stampede.IDs[1].Net = 2 }, "Stampede", statusMissed},
		{"stampede with failed requests", func(r *Report) { r.Stampede.IDs[1].OK = 900 }, "Stampede", statusMissed},
		{"phase failed", func(r *Report) { r.GRPC.Err = errors.New("boom") }, "gRPC", statusFailed},
		{"phase skipped", func(r *Report) { r.Memory = nil }, "1M products", statusSkipped},
		{"stack down", func(r *Report) { r.HTTP = nil; r.StackErr = errors.New("no db") }, "HTTP hit path: req/s", statusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullReport()
			tt.mutate(r)
			vs := r.verdicts()
			if tt.target == "" {
				for _, v := range vs {
					if v.Status != tt.want {
						t.Errorf("%s: %s (%s; %s)", v.Target, v.Status, v.Measured, v.Note)
					}
				}
				return
			}
			if got := statusOf(vs, tt.target); got != tt.want {
				t.Errorf("%s: got %s, want %s (%+v)", tt.target, got, tt.want, vs)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	r := fullReport()
	r.Quick = true
	md := r.Markdown()
	for _, want := range []string{"# Gintoki benchmarks", "**Smoke run**", "| command | `make bench` |", "## Targets",
		"0.95×", "| 16,700 | 16,690 | 100% |", "commit → visible (upper bound) | p50 **3.00 ms**, p99 **12.00 ms**", "BenchmarkGet/x-2", "falls back to the summary", "reads at 20,000 req/s, open loop"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	empty := (&Report{StackErr: errors.New("database down")}).Markdown()
	if !strings.Contains(empty, "database down") || !strings.Contains(empty, "**Not run:**") {
		t.Errorf("report of a failed run:\n%s", empty)
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4200: "-4,200"} {
		if got := count(in); got != want {
			t.Errorf("count(%v) = %q, want %q", in, got, want)
		}
	}
	if got := Pct(1); got != "100%" {
		t.Errorf("pct(1) = %q", got)
	}
	if got := Pct(0.999876); got != "99.988%" {
		t.Errorf("pct = %q", got)
	}
	if got := spread(stats.Series{1, 3, 2}, msf); got != "2.00 (1.00–3.00)" {
		t.Errorf("spread = %q", got)
	}
}

// tracedPauses summarises n GC pauses of 100 µs, of which the last slow
// are recorded by the runtime as rec and stopped the world for stopped.
func tracedPauses(n, slow int, rec, stopped time.Duration) probe.STWStats {
	ps := slices.Repeat([]probe.STWPause{{Phase: "sweep termination", Recorded: 100 * time.Microsecond, Stopped: 100 * time.Microsecond}}, n)
	for i := n - slow; i < n; i++ {
		ps[i].Recorded, ps[i].Stopped = rec, stopped
	}
	return probe.SummarisePauses(ps, TargetGCPauseP99)
}
