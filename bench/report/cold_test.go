package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
)

// coldSideOf returns figures of one contender over three rounds.
func coldSideOf(name string, rps float64, ready float64) ColdSide {
	s := ColdSide{LoadStats: *loadStatsOf(name, rps, 20), DBCores: stats.Series{0.2, 0.2, 0.2}, DBQPS: stats.Series{rps / 10, rps / 10, rps / 10},
		DBRows: stats.Series{rps, rps, rps}}
	if ready > 0 {
		s.Fills, s.FillMS, s.FillBatch = stats.Series{100, 100, 100}, stats.Series{5, 5, 5}, stats.Series{28, 29, 30}
		s.Ready, s.ReadyCPU, s.ReadyDBCPU = stats.Series{ready, ready, ready}, stats.Series{9, 9, 9}, stats.Series{4, 4, 4}
		s.ReadyFills, s.ReadyFillS, s.ReadyBatch, s.ReadyLoaded = stats.Series{2000, 2000, 2000}, stats.Series{30, 30, 30}, stats.Series{500, 500, 500}, stats.Series{1e6, 1e6, 1e6}
	}
	return s
}

// fullCold returns a cold phase where every target is met.
func fullCold() *Cold {
	return &Cold{Database: "inventory_1m", Products: 1_000_000, Duration: 8 * time.Second, Conns: 64, Rounds: 3, DBCPU: true,
		Misses: ColdContest{Node: coldSideOf("node", 9000, 0.3), Naive: coldSideOf("naive", 5000, 0)},
		Warm:   &ColdContest{Node: coldSideOf("warm node", 50000, 15), Naive: coldSideOf("naive", 5000, 0)}}
}

func TestColdVerdicts(t *testing.T) {
	const (
		miss  = "Misses alone"
		warm  = "Fresh node with warm start"
		ready = "Start → ready"
	)
	tests := []struct {
		name   string
		mutate func(c *Cold)
		want   map[string]string
	}{
		{"all met", func(*Cold) {}, map[string]string{miss: statusMet, warm: statusMet, ready: statusMet}},
		{"misses under 1.5× naive", func(c *Cold) { c.Misses.Node = coldSideOf("node", 7000, 0.3) },
			map[string]string{miss: statusMissed, warm: statusMet}},
		{"warm under 2× naive", func(c *Cold) { c.Warm.Node = coldSideOf("node", 9000, 15) },
			map[string]string{warm: statusMissed, ready: statusMet}},
		{"ready after 20 s", func(c *Cold) { c.Warm.Node = coldSideOf("node", 50000, 25) },
			map[string]string{warm: statusMet, ready: statusMissed}},
		{"no --warm yet", func(c *Cold) { c.Warm, c.WarmWhy = nil, "no --warm flag" },
			map[string]string{miss: statusMet, warm: statusNotShown, ready: statusNotShown}},
		{"phase failed", func(c *Cold) { c.Err = errors.New("boom") },
			map[string]string{miss: statusFailed, warm: statusFailed, ready: statusFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullReport()
			tt.mutate(r.Cold)
			vs := r.verdicts()
			for target, want := range tt.want {
				if got := statusOf(vs, target); got != want {
					t.Errorf("%s: got %s, want %s (%+v)", target, got, want, vs)
				}
			}
		})
	}
	r := fullReport()
	r.Cold = nil
	if got := statusOf(r.verdicts(), miss); got != statusSkipped {
		t.Errorf("cold phase not run: %s, want %s", got, statusSkipped)
	}
}

func TestColdMarkdown(t *testing.T) {
	r := fullReport()
	md := r.Markdown()
	for _, want := range []string{"## 8. Cold start and the miss path", "### Misses alone (warm start off)",
		"fresh node / naive: **1.80×** req/s", "| 15.0 (15.0–15.0) | 9.0", "of MariaDB's"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	r.Cold.Warm, r.Cold.WarmWhy = nil, "bin/gintoki has no --warm flag"
	if md := r.Markdown(); !strings.Contains(md, "**NOT SHOWN**: bin/gintoki has no --warm flag.") {
		t.Errorf("report without warm start lacks the reason")
	}
}
