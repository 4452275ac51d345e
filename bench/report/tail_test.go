package report

import (
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
)

// tailFull returns a tail phase result where both targets are met.
func tailFull() *Tail {
	rate := func(r int, svc, bare float64) TailRate {
		st := func(name string, p99 float64) *TailStats {
			return &TailStats{Name: name, Sent: stats.Series{float64(r), float64(r)}, Success: stats.Series{1, 1}, P50: stats.Series{0.2, 0.3},
				P90: stats.Series{0.5, 0.6}, P99: stats.Series{p99, p99 * 1.1}, Max: stats.Series{9, 12}, SvcCores: stats.Series{0.4, 0.4}, GenCores: stats.Series{0.6, 0.6}}
		}
		return TailRate{Rate: r, Gintoki: st("gintoki serve", svc), Bare: st("bare net/http", bare), P99Ratio: stats.Series{svc / bare, svc / bare}}
	}
	return &Tail{Conns: 256, Key: 42, Duration: 10 * time.Second, Rates: []TailRate{rate(10_000, 3, 2.5), rate(4_000, 1.2, 1)}}
}

func TestTailVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Report)
		target string
		want   string
	}{
		{"met at both rates", func(*Report) {}, "Open loop at 4,000", statusMet},
		{"p99 over 1.5× bare at 10,000", func(r *Report) { r.Tail.Rates[0].Gintoki.P99 = stats.Series{4, 4} }, "Open loop at 10,000", statusMissed},
		{"the other rate still met", func(r *Report) { r.Tail.Rates[0].Gintoki.P99 = stats.Series{4, 4} }, "Open loop at 4,000", statusMet},
		{"generator short of the rate", func(r *Report) { r.Tail.Rates[1].Bare.Sent = stats.Series{3_000, 4_000} }, "Open loop at 4,000", statusNotShown},
		{"a short generator does not hide a miss", func(r *Report) {
			r.Tail.Rates[1].Bare.Sent = stats.Series{3_000, 4_000}
			r.Tail.Rates[1].Gintoki.P99 = stats.Series{5, 5}
		}, "Open loop at 4,000", statusMissed},
		{"rate not run", func(r *Report) { r.Tail.Rates = r.Tail.Rates[:1] }, "Open loop at 4,000", statusSkipped},
		{"phase skipped", func(r *Report) { r.Tail = nil }, "Open loop at 10,000", statusSkipped},
		{"batch under 0.9× bare", func(r *Report) { r.GRPC.Batch = loadStatsOf("gb", 6, 5) }, "gRPC BatchGetInventory", statusMissed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullReport()
			tt.mutate(r)
			if got := statusOf(r.verdicts(), tt.target); got != tt.want {
				t.Errorf("%s: got %s, want %s", tt.target, got, tt.want)
			}
		})
	}
}

func TestTailMarkdown(t *testing.T) {
	md := fullReport().Markdown()
	for _, want := range []string{"## 4b. Tail latency", "-max-connections=256 -max-workers=256", "`GET /cache?product_id=42`",
		"| 10,000 | gintoki serve | 10,000 (10,000–10,000) | 100% (100%–100%) |", "At 10,000 req/s: service / bare p99 **1.20×**",
		"--phases tail"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
