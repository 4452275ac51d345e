package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// One event whose binlog position the database never reaches (a second
// connector, a restored backup) degrades its own product only: that
// product is answered from the database, marked stale and never cached;
// every other product still fills, is cached and stays fresh; the node
// stays ready.
func TestFarAheadEventDegradesOneKey(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'WH-AMS',1);
		INSERT INTO warehouse_stock_item VALUES (1,1,10),(2,1,20),(3,1,30)`)
	topic := testTopics[0]
	broker := startBroker(t, 3, testTopics...)
	n := startNode(t, db.DSN("inventory"), broker)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	event := func(product, qty int, file uint32, offset uint64) *kgo.Record {
		now := time.Now().UnixMilli()
		return &kgo.Record{
			Topic: topic,
			Key:   fmt.Appendf(nil, `{"product_id":%d,"warehouse_id":1}`, product),
			Value: fmt.Appendf(nil, `{"before":null,"after":{"product_id":%d,"warehouse_id":1,"qty_salable":%d},`+
				`"source":{"ts_ms":%d,"db":"inventory","table":"warehouse_stock_item","file":"mysql-bin.%06d","pos":%d,"row":0},`+
				`"op":"u","ts_ms":%d}`, product, qty, now, file, offset, now),
		}
	}
	read := func(product int) string {
		code, hdr, body := n.getFull(t, fmt.Sprintf("/v1/products/%d/inventory", product), nil)
		return fmt.Sprintf("stale=%t %d %s", hdr.Get("X-Gintoki-Stale") == "true", code, body)
	}
	if err := cl.ProduceSync(context.Background(), event(1, 99, 999999, 4)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Consumed while product 1 is not cached: it leaves a mark no snapshot
	// reaches.
	pollUntil(t, 10*time.Second, func() (bool, string) {
		_, metrics := n.get(t, "/metrics", nil)
		return strings.Contains(metrics, "\ngintoki_fill_marks 1\n"), "gintoki_fill_marks is not 1"
	})
	if got, want := read(1), `stale=true 200 {"product_id":1,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":10}]}`; got != want {
		t.Fatalf("read(1) = %s, want %s", got, want)
	}
	// Every other product fills and is cached, unmarked.
	for _, id := range []int{2, 3} {
		if got, want := read(id), fmt.Sprintf(`stale=false 200 {"product_id":%d,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":%d0}]}`, id, id); got != want {
			t.Fatalf("read(%d) = %s, want %s", id, got, want)
		}
	}
	// And stays fresh: a real change reaches product 2 through the stream.
	// The event carries where its transaction starts in the binlog, as
	// Debezium's source.pos does.
	start := binlogEnd(t, db)
	db.Exec(t, `UPDATE warehouse_stock_item SET qty_salable = 21 WHERE product_id = 2`)
	if err := cl.ProduceSync(context.Background(), event(2, 21, start.File, start.Offset)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 5*time.Second, func() (bool, string) {
		got := read(2)
		return got == `stale=false 200 {"product_id":2,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":21}]}`, got
	})
	// Still answered from the database, marked stale: never cached.
	if got := read(1); !strings.HasPrefix(got, "stale=true 200 ") {
		t.Errorf("read(1) again = %s, want it marked stale", got)
	}
	if code, body := n.get(t, "/readyz", nil); code != 200 {
		t.Errorf("/readyz = %d %s: one degraded product must not take the node out", code, body)
	}
	// Upkeep drops product 2's mark once the database shows its change;
	// the far-ahead one stays.
	pollUntil(t, 10*time.Second, func() (bool, string) {
		_, metrics := n.get(t, "/metrics", nil)
		return strings.Contains(metrics, "\ngintoki_fill_marks 1\n"), "gintoki_fill_marks is not back to 1"
	})
	_, metrics := n.get(t, "/metrics", nil)
	if !strings.Contains(metrics, "\ngintoki_fills_failing 0\n") {
		t.Error("/metrics: gintoki_fills_failing is not 0")
	}
	if !strings.Contains(metrics, "gintoki_fills_uncached_total") {
		t.Error("/metrics lacks gintoki_fills_uncached_total")
	}
}

// A warehouse record that cannot be decoded may have carried a change the
// node now lacks: it reloads the directory from the database and serves
// the repaired answer, unmarked.
func TestUndecodableWarehouseRecordReloadsDirectory(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'WH-AMS',1),(2,'WH-BER',1);
		INSERT INTO warehouse_stock_item VALUES (1,1,10),(1,2,20)`)
	broker := startBroker(t, 3, testTopics...)
	n := startNode(t, db.DSN("inventory"), broker)
	read := func() string {
		code, hdr, body := n.getFull(t, "/v1/products/1/inventory", nil)
		return fmt.Sprintf("stale=%t %d %s", hdr.Get("X-Gintoki-Stale") == "true", code, body)
	}
	if got, want := read(), `stale=false 200 {"product_id":1,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":10},{"warehouse_code":"WH-BER","qty_salable":20}]}`; got != want {
		t.Fatalf("read = %s, want %s", got, want)
	}
	// The change reaches the database, and its record arrives unreadable.
	db.Exec(t, `UPDATE warehouse SET is_active = 0 WHERE id = 2`)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: testTopics[1], Key: []byte(`{"id":2}`), Value: []byte(`{"op":"u","after":{"id":"two"`)}
	if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 10*time.Second, func() (bool, string) {
		got := read()
		return got == `stale=false 200 {"product_id":1,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":10}]}`, got
	})
	_, metrics := n.get(t, "/metrics", nil)
	if !strings.Contains(metrics, `gintoki_changes_rejected_evictions_total{scope="directory"} 1`) {
		t.Error(`/metrics: gintoki_changes_rejected_evictions_total{scope="directory"} is not 1`)
	}
}
