package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestServeRegistersEveryMetricOnce builds a node from the flags' defaults
// (nothing runs, nothing is dialled) and gathers its whole registry: the
// collectors of promexport, the store's and the transports' histograms, in
// one pedantic registry that refuses a descriptor registered twice or a
// metric collected unlike its description.
func TestServeRegistersEveryMetricOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string // families that must be there
	}{
		{"cached, inspector on", nil, []string{"gintoki_ready", "gintoki_cache_hits_total", "gintoki_consumer_attached",
			"gintoki_changes_rejected_total", "gintoki_inspector_samples_total", "gintoki_gc_pause_seconds", "gintoki_db_load_products"}},
		{"database only", []string{"--no-cache"}, []string{"gintoki_ready", "gintoki_stale", "gintoki_warming", "gintoki_db_load_products"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg serveConfig
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg.flags(fs)
			args := append([]string{"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
				"--brokers", "127.0.0.1:1", "--db-dsn", "nobody@tcp(127.0.0.1:1)/inventory"}, tc.args...)
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			cfg.Kafka.resolve(func(string) (string, bool) { return "", false })
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewPedanticRegistry()
			n, err := newServingNode(cfg, slog.New(slog.DiscardHandler), reg)
			if err != nil {
				t.Fatal(err)
			}
			defer n.close()
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			var names []string
			for _, mf := range mfs {
				if strings.HasPrefix(mf.GetName(), "gintoki_") {
					got[mf.GetName()] = true
					names = append(names, mf.GetName())
				}
			}
			for _, name := range tc.want {
				if !got[name] {
					t.Errorf("%s is not registered", name)
				}
			}
			problems, err := testutil.GatherAndLint(reg, names...)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}
