package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// staleMark returns the X-Gintoki-Stale header of an answer of n.
func staleMark(tb testing.TB, n *node) string {
	tb.Helper()
	resp, err := http.Get(n.http + "/v1/products/1/inventory")
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET: %s", resp.Status)
	}
	return resp.Header.Get("X-Gintoki-Stale")
}

// A node marks its answers stale when the change stream shows nothing from
// the source for longer than --max-staleness allows, stays ready meanwhile,
// and unmarks them when a heartbeat arrives.
func TestSourceSilenceMarksAnswersStale(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 3)
	hbTopic := debezium.HeartbeatTopic("gintoki")
	broker := startBroker(t, 1, append(testTopics, hbTopic)...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	beat := func() {
		t.Helper()
		rec := &kgo.Record{Topic: hbTopic, Key: []byte(`{"serverName":"gintoki"}`), Value: fmt.Appendf(nil, `{"ts_ms":%d}`, time.Now().UnixMilli())}
		if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	const bound = 2 * time.Second
	beat()
	n := startNode(t, db.DSN("inventory"), broker, func(c *serveConfig) { c.Heartbeats, c.MaxStaleness = true, bound })
	stale := func() (bool, string) { h := staleMark(t, n); return h == "true", "X-Gintoki-Stale: " + h }
	// beating is fresh once a heartbeat sent just before has been
	// consumed and a probe after it reached: it beats while it waits.
	beating := func() (bool, string) { beat(); h := staleMark(t, n); return h == "", "X-Gintoki-Stale: " + h }

	pollUntil(t, 15*time.Second, beating)
	// No more heartbeats: stale once the bound has passed, and still ready.
	pollUntil(t, 15*time.Second, stale)
	if code, body := n.get(t, "/readyz", nil); code != http.StatusOK {
		t.Errorf("/readyz while the source is silent: %d %s", code, body)
	}
	if age := scrape(t, n, "gintoki_change_source_age_seconds"); age < bound.Seconds() {
		t.Errorf("gintoki_change_source_age_seconds = %v, want ≥ %v", age, bound.Seconds())
	}
	if age := scrape(t, n, "gintoki_staleness_seconds"); age <= bound.Seconds() {
		t.Errorf("gintoki_staleness_seconds = %v while marked stale, want > %v", age, bound.Seconds())
	}
	pollUntil(t, 15*time.Second, beating)
	if age := scrape(t, n, "gintoki_change_source_age_seconds"); age < 0 || age > 5 {
		t.Errorf("gintoki_change_source_age_seconds = %s after a heartbeat", strconv.FormatFloat(age, 'f', 3, 64))
	}
}

// With the relay running, an idle database keeps the node's answers fresh
// (the relay passes the database's heartbeats, one a second, on); with the
// relay stopped, they are marked stale; with it back, fresh again.
func TestRelayHeartbeatsBoundSilence(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 3)
	broker := newRestartableBroker(t, 3, append(testTopics, debezium.HeartbeatTopic("gintoki"))...)
	fastBeats := func(c *relayConfig) { c.Heartbeat = 100 * time.Millisecond }
	rel := startRelay(t, db, broker.addr(), fastBeats)
	n := startNode(t, db.DSN("inventory"), broker.addr(), func(c *serveConfig) { c.Heartbeats, c.MaxStaleness = true, 4*time.Second })
	pollUntil(t, 10*time.Second, func() (bool, string) {
		age := scrape(t, n, "gintoki_change_source_age_seconds")
		h := staleMark(t, n)
		return age >= 0 && h == "", fmt.Sprintf("source age %v, X-Gintoki-Stale: %s", age, h)
	})
	// Idle for longer than the bound: heartbeats keep it fresh.
	for deadline := time.Now().Add(4500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if h := staleMark(t, n); h != "" {
			t.Fatalf("marked stale while the relay runs and the database is idle")
		}
	}
	rel.stop()
	pollUntil(t, 10*time.Second, func() (bool, string) { h := staleMark(t, n); return h == "true", "X-Gintoki-Stale: " + h })
	startRelay(t, db, broker.addr(), fastBeats)
	pollUntil(t, 10*time.Second, func() (bool, string) { h := staleMark(t, n); return h == "", "X-Gintoki-Stale: " + h })
}
