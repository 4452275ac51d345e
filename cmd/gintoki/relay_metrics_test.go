package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/kafka"
)

// relayMetric returns the value of an unlabelled metric of the relay's
// /metrics.
func relayMetric(tb testing.TB, addr, name string) float64 {
	tb.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return metricValue(tb, string(body), name)
}

func statusOf(tb testing.TB, url string) int {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRelayMetrics runs the relay against MariaDB and a broker and checks
// that its endpoint says what it did: ready while streaming, the changes
// read, published and acknowledged, and their commit → ack delay.
func TestRelayMetrics(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 5)
	broker := newRestartableBroker(t, 3, testTopics...)
	cfg := relayConfig{
		DBAddr: db.Addr(), DBUser: "root", Database: "inventory", Tables: "warehouse,warehouse_stock_item",
		ServerID: 1001, Brokers: broker.addr(), TopicPrefix: "gintoki", TopicPartitions: 3,
		CheckpointTopic: kafka.CheckpointDefaultTopic, LockTimeout: binlog.DefaultLockSessionTimeout, MetricsAddr: "127.0.0.1:0",
		Heartbeat: 50 * time.Millisecond,
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrCh, done := make(chan string, 1), make(chan error, 1)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- relayUntilDone(ctx, cfg, log, func(a string) { addrCh <- a }) }()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-done:
		t.Fatalf("relay: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the metrics endpoint did not start")
	}
	if code := statusOf(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	pollUntil(t, 20*time.Second, func() (bool, string) {
		role := (&relayProcess{metrics: addr}).role()
		return role == "leader", "/readyz: " + role
	})
	if v := relayMetric(t, addr, "gintoki_relay_streaming"); v != 1 {
		t.Errorf("gintoki_relay_streaming = %v, want 1", v)
	}
	if v := relayMetric(t, addr, "gintoki_relay_leader"); v != 1 {
		t.Errorf("gintoki_relay_leader = %v, want 1 for the only relay", v)
	}

	// Two transactions: an UPDATE of product 2's three rows, and a DELETE
	// of product 1's two rows (an event and a tombstone each).
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1 WHERE product_id = 2")
	db.Exec(t, "DELETE FROM warehouse_stock_item WHERE product_id = 1")
	pollUntil(t, 20*time.Second, func() (bool, string) {
		v := relayMetric(t, addr, "gintoki_relay_messages_acked_total")
		return v == 7, fmt.Sprintf("acked %v messages, want 7", v)
	})
	for name, want := range map[string]float64{
		"gintoki_relay_transactions_total":          2,
		"gintoki_relay_changes_total":               5,
		"gintoki_relay_messages_published_total":    7,
		"gintoki_relay_messages_in_flight":          0,
		"gintoki_relay_commit_to_ack_seconds_count": 2,
	} {
		if v := relayMetric(t, addr, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := relayMetric(t, addr, "gintoki_relay_last_commit_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("gintoki_relay_last_commit_timestamp_seconds = %v, want about now", v)
	}
	// The database is idle now: it says so every second, and the relay
	// passes that on as heartbeats.
	pollUntil(t, 10*time.Second, func() (bool, string) {
		v := relayMetric(t, addr, "gintoki_relay_heartbeats_total")
		return v >= 2, fmt.Sprintf("%v heartbeats acknowledged, want 2", v)
	})
	if lag := float64(time.Now().UnixNano())/1e9 - relayMetric(t, addr, "gintoki_relay_caught_up_timestamp_seconds"); lag < 0 || lag > 5 {
		t.Errorf("the relay's lag by gintoki_relay_caught_up_timestamp_seconds is %.3fs, want under 5s while idle", lag)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("relay did not stop")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the metrics endpoint still answers after the relay stopped")
	}
}
