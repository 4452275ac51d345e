package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// A change record that cannot be decoded leaves no stale answer behind: a
// record whose key names a cached product evicts that product (and only
// it), one that names none evicts every entry, and the next reads fill
// from the database, which has the changes the records were meant to
// carry. The database here changes without any event, as if every event
// were lost.
func TestUndecodableEventLeavesNoStaleAnswer(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'WH-AMS',1);
		INSERT INTO warehouse_stock_item VALUES (1,1,10),(2,1,20)`)
	stockTopic := "gintoki.inventory.warehouse_stock_item"
	broker := startBroker(t, 3, testTopics...)
	n := startNode(t, db.DSN("inventory"), broker)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(key, value string) {
		t.Helper()
		r := &kgo.Record{Topic: stockTopic, Value: []byte(value)}
		if key != "" {
			r.Key = []byte(key)
		}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	qty := func(id string) string {
		t.Helper()
		code, body := n.get(t, "/v1/products/"+id+"/inventory", nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", id, code, body)
		}
		return body
	}
	expect := func(id, want string) {
		t.Helper()
		pollUntil(t, 10*time.Second, func() (bool, string) {
			b := qty(id)
			return strings.Contains(b, want), b
		})
	}
	expect("1", `"qty_salable":10`) // both cached now
	expect("2", `"qty_salable":20`)
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1")
	if b := qty("1"); !strings.Contains(b, `"qty_salable":10`) {
		t.Fatalf("product 1 not served from the cache: %s", b)
	}

	// The key names product 1; the value is no event at all.
	produce(`{"product_id":1,"warehouse_id":1}`, `{"op":"u","after":{"product_id":1,"warehouse_id":1,"qty_salable":"eleven"}}`)
	expect("1", `"qty_salable":11`)
	if b := qty("2"); !strings.Contains(b, `"qty_salable":20`) {
		t.Fatalf("product 2 evicted by a record for product 1: %s", b)
	}
	// Neither key nor value can be read: every entry goes.
	produce(`{`, `{not json`)
	expect("2", `"qty_salable":21`)

	_, metrics := n.get(t, "/metrics", nil)
	for _, want := range []string{
		`gintoki_changes_rejected_total{reason="malformed"} 2`,
		`gintoki_changes_rejected_evictions_total{scope="product"} 1`,
		`gintoki_changes_rejected_evictions_total{scope="all"} 1`,
	} {
		// The feed counts a record before it evicts, so the refill
		// above implies the counts.
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
