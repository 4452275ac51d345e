package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

// The live inspector, on the whole pipeline (real MariaDB, the relay, a
// broker over TCP, a node): under a stream of ordinary changes to cached
// keys it counts no mismatch; a change that never reaches the node (made
// with the binlog off for its session) is caught once the bound has
// passed, and logged with the key.
func TestInspectorOnThePipeline(t *testing.T) {
	const products = 20
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	broker := startBroker(t, 3, append(testTopics, debezium.HeartbeatTopic("gintoki"))...)
	startRelay(t, db, broker, func(c *relayConfig) { c.Heartbeat = 100 * time.Millisecond })
	var logs proctest.Buffer
	n := startNodeLogged(t, &logs, db.DSN("inventory"), broker, func(c *serveConfig) {
		c.Heartbeats, c.MaxStaleness, c.InspectRate = true, 2*time.Second, 100
	})
	for id := 1; id <= products; id++ {
		if code, body := n.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil); code != 200 {
			t.Fatalf("product %d: %d %s", id, code, body)
		}
	}

	t.Run("no mismatch under ordinary changes", func(t *testing.T) {
		h := db.DB(t, "inventory")
		rng := rand.New(rand.NewPCG(13, 1))
		before := scrape(t, n, "gintoki_inspector_samples_total")
		for i := range 150 {
			id := 1 + rng.IntN(5) // hot keys
			if i%3 == 0 {
				id = 1 + rng.IntN(products)
			}
			if _, err := h.Exec("UPDATE warehouse_stock_item SET qty_salable = ? WHERE product_id = ?", i, id); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// Every suspect of the run gets its second look, a bound after
		// its first.
		pollUntil(t, 20*time.Second, func() (bool, string) {
			p := scrape(t, n, "gintoki_inspector_suspects_pending")
			return p == 0, fmt.Sprintf("%v suspects pending", p)
		})
		if got := scrape(t, n, "gintoki_inspector_mismatches_total"); got != 0 {
			t.Fatalf("gintoki_inspector_mismatches_total = %v under ordinary changes; logs:\n%s", got, logs.String())
		}
		samples := scrape(t, n, "gintoki_inspector_samples_total") - before
		suspects := scrape(t, n, "gintoki_inspector_suspects_total")
		t.Logf("%v keys compared, %v suspects (changes in flight), 0 mismatches", samples, suspects)
		if samples < 100 {
			t.Fatalf("only %v keys compared", samples)
		}
	})

	t.Run("a lost change is caught and logged", func(t *testing.T) {
		conn, err := db.DB(t, "inventory").Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{"SET SESSION sql_log_bin = 0", "UPDATE warehouse_stock_item SET qty_salable = 4242 WHERE product_id = 7"} {
			if _, err := conn.ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		pollUntil(t, 20*time.Second, func() (bool, string) {
			got := scrape(t, n, "gintoki_inspector_mismatches_total")
			return got >= 1, fmt.Sprintf("gintoki_inspector_mismatches_total = %v", got)
		})
		line := ""
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "cache disagrees with the database") {
				line = l
			}
		}
		if !strings.Contains(line, "product_id=7") || !strings.Contains(line, "=4242") {
			t.Fatalf("mismatch log line lacks the key or the database's value: %q", line)
		}
	})
}
