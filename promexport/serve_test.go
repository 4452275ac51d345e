package promexport

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/relay"
)

type pingOK struct{}

func (pingOK) Ping(context.Context) error { return nil }

// serveParts builds the real parts of a node, none of them running: with
// the change stream and the inspector, or (stream false) as with
// --no-cache.
func serveParts(t *testing.T, stream bool) ServeParts {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	c, err := cache.New(cache.MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(nil, c, nil, app.Config{}, log)
	p := ServeParts{Service: svc, Cache: c, Readiness: new(Readiness), ApplyDelay: NewChangeApplyDelay(),
		RejectReasons: []string{"unknown_table", "malformed"}, Warm: new(app.WarmProgress)}
	fparts := app.FreshnessParts{Service: svc, Database: pingOK{}, Warm: p.Warm}
	if stream {
		p.Feed = app.NewFeed(svc, nil, app.FeedConfig{ObserveDelay: p.ApplyDelay.ObserveDuration}, log)
		p.Consumer, err = kafka.NewConsumer(kafka.ConsumerConfig{Brokers: []string{"127.0.0.1:1"}, Topics: []string{"t"}}, p.Feed.Handle)
		if err != nil {
			t.Fatal(err)
		}
		fparts.Stream, fparts.Clock = p.Consumer, p.Feed
	}
	if p.Freshness, err = app.NewFreshness(app.FreshnessConfig{MaxStaleness: 5 * time.Second, Heartbeats: true}, fparts, log); err != nil {
		t.Fatal(err)
	}
	if stream {
		if p.Inspector, err = app.NewInspector(nil, c, p.Freshness, app.InspectorConfig{Rate: 1}, log); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// gather registers cs in a pedantic registry (which refuses duplicate
// descriptors and checks what is collected against what is described) and
// returns the gintoki_ families gathered, with their HELP and TYPE.
func gather(t *testing.T, cs []prometheus.Collector) map[string]family {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register %T: %v", c, err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]family{}
	var names []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "gintoki_") {
			out[mf.GetName()] = family{help: escapeHelp(mf.GetHelp()), typ: strings.ToLower(mf.GetType().String())}
			names = append(names, mf.GetName())
		}
	}
	problems, err := testutil.GatherAndLint(reg, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	return out
}

// escapeHelp escapes a help text as the text format does.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// compareFamilies checks that got has exactly the golden families want
// names (but those in absent), each with its golden HELP and TYPE.
func compareFamilies(t *testing.T, got map[string]family, want func(name string) bool, absent ...string) {
	t.Helper()
	g := golden(t)
	for name, fam := range got {
		switch gf, ok := g[name]; {
		case !ok || !want(name):
			t.Errorf("%s is exported but not expected here", name)
		case fam != gf:
			t.Errorf("%s: HELP %q TYPE %s, want HELP %q TYPE %s", name, fam.help, fam.typ, gf.help, gf.typ)
		}
	}
	for name := range g {
		if _, ok := got[name]; !ok && want(name) && !contains(absent, name) {
			t.Errorf("%s is not exported", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestServeCollectors registers everything `gintoki serve` exports from
// here in one registry, and checks the names, help texts and types
// against what serve exported before (testdata/metrics.golden).
func TestServeCollectors(t *testing.T) {
	notRelay := func(name string) bool { return !strings.HasPrefix(name, "gintoki_relay_") }
	t.Run("with the change stream", func(t *testing.T) {
		got := gather(t, ServeCollectors(serveParts(t, true)))
		// The consumer has no partition before it runs: no lag series.
		compareFamilies(t, got, notRelay, "gintoki_consumer_lag_records", "gintoki_consumer_lag_seconds")
	})
	t.Run("database only (--no-cache)", func(t *testing.T) {
		got := gather(t, ServeCollectors(serveParts(t, false)))
		stream := func(name string) bool {
			for _, p := range []string{"gintoki_consumer_", "gintoki_changes_total", "gintoki_changes_rejected_", "gintoki_change_last_applied",
				"gintoki_change_source_age", "gintoki_source_clock_ahead", "gintoki_inspector_"} {
				if strings.HasPrefix(name, p) {
					return true
				}
			}
			return false
		}
		compareFamilies(t, got, func(name string) bool { return notRelay(name) && !stream(name) })
	})
}

// TestRelayCollectors does the same for `gintoki relay`.
func TestRelayCollectors(t *testing.T) {
	got := gather(t, RelayCollectors(new(relay.Stats), NewRelayAckDelay()))
	compareFamilies(t, got, func(name string) bool { return strings.HasPrefix(name, "gintoki_relay_") })
	if n := len(got); n != 15 {
		t.Errorf("%d gintoki_ families, want 15", n)
	}
}
